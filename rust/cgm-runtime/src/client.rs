//! The operator side: status queries, parameter changes and key rotations
//! sent to a member by a tool that is not a member (`cgm status`, `cgm set`,
//! `cgm rotate-key`). Requests are
//! authenticated with the cluster key and retried until answered. A change
//! is bound to the member that runs it: the tool first takes a challenge from
//! it, then sends the change with the challenge's nonce, addressed to the
//! member's incarnation, and retries it under the same transaction id, so it
//! runs once; a captured request replayed later never runs again (see
//! `cgm_core`'s operator module).

use crate::auth::{Envelope, Key};
use crate::error::Error;
use cgm_core::messages::Frame;
use cgm_core::query::{operator_datagram, QueryCollector};
use cgm_core::wire::{self, Header};
use cgm_core::{KeyRotation, NodeId, Outcome, Param, ProposalId, ProtocolBody, Status};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// How often an unanswered request is sent again.
const RETRY: Duration = Duration::from_millis(100);

/// An operator tool's connection to the cluster.
pub struct Client {
    sock: UdpSocket,
    envelope: Envelope,
    inc: u64,
    next_req: u64,
    buf: Vec<u8>,
}

impl Client {
    /// A client for members reachable over the address family of `any_member`.
    ///
    /// # Errors
    /// [`Error::Io`] if no socket can be bound.
    pub fn new(key: Option<&Key>, encrypt: bool, any_member: SocketAddr) -> Result<Client, Error> {
        let bind: SocketAddr = if any_member.is_ipv6() { "[::]:0".parse() } else { "0.0.0.0:0".parse() }.expect("literal addresses");
        let sock = UdpSocket::bind(bind).map_err(|e| Error::Io(format!("cannot bind a client socket: {e}")))?;
        let inc = crate::auth::new_incarnation();
        Ok(Client { sock, envelope: Envelope::new(key, encrypt, 0, inc), inc, next_req: 1, buf: vec![0; 65_536] })
    }

    /// Opens answers under `key` too (the tool still seals under its first
    /// key): a tool running a key rotation is answered under the new key.
    pub fn accept_key(&mut self, key: &Key) {
        let fp = self.envelope.add_key(key);
        let mut accepting = self.envelope.accepting().to_vec();
        accepting.push(fp);
        self.envelope.set_accepting(&accepting);
    }

    fn send(&mut self, addr: SocketAddr, member: NodeId, member_inc: u64, frame: &Frame) -> Result<(), Error> {
        let body = operator_datagram(member, member_inc, self.inc, frame);
        let mut out = Vec::new();
        self.envelope.seal(&body, &mut out);
        self.sock.send_to(&out, addr).map_err(|e| Error::Io(format!("send to {addr}: {e}")))?;
        Ok(())
    }

    /// Receives until `until`, returning the first frame `accept` takes.
    fn receive<T>(&mut self, until: Instant, mut accept: impl FnMut(Header, Frame) -> Option<T>) -> Result<Option<T>, Error> {
        loop {
            let now = Instant::now();
            if now >= until {
                return Ok(None);
            }
            self.sock.set_read_timeout(Some(until - now)).map_err(|e| Error::Io(e.to_string()))?;
            let n = match self.sock.recv_from(&mut self.buf) {
                Ok((n, _)) => n,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return Ok(None),
                Err(e) => return Err(Error::Io(e.to_string())),
            };
            let mut d = self.buf[..n].to_vec();
            let Ok(crate::auth::Opened { body: range, .. }) = self.envelope.open(&mut d) else {
                continue;
            };
            let Ok((h, frame)) = wire::decode_frame(&d[range]) else {
                continue;
            };
            if let Some(t) = accept(h, frame) {
                return Ok(Some(t));
            }
        }
    }

    /// Asks member `member` at `addr` for its status.
    ///
    /// # Errors
    /// [`Error::Timeout`] without an answer; [`Error::Io`].
    pub fn query_status(&mut self, addr: SocketAddr, member: NodeId, timeout: Duration) -> Result<Status, Error> {
        let req = self.next_req;
        self.next_req += 1;
        let end = Instant::now() + timeout;
        let mut collector = QueryCollector::new(req);
        while Instant::now() < end {
            self.send(addr, member, 0, &Frame::StatusQuery { req })?;
            let until = (Instant::now() + RETRY).min(end);
            if let Some(r) = self.receive(until, |_, f| collector.accept(f))? {
                return r.map_err(|e| Error::Io(format!("undecodable status from member {member}: {e}")));
            }
        }
        Err(Error::Timeout { pid: None })
    }

    /// Asks member `member` at `addr` to run a parameter change under `txid`
    /// and waits for its outcome (see [`Client::run`]).
    ///
    /// # Errors
    /// As [`Client::run`].
    pub fn change(
        &mut self,
        addr: SocketAddr,
        member: NodeId,
        changes: &[(Param, u64)],
        txid: u64,
        timeout: Duration,
    ) -> Result<Outcome, Error> {
        self.run(addr, member, ProtocolBody::Change(changes.to_vec()), txid, timeout)
    }

    /// Asks member `member` at `addr` to run a key rotation to the key in
    /// `rotation` under `txid` and waits for its outcome (see [`Client::run`]).
    ///
    /// # Errors
    /// As [`Client::run`].
    pub fn rotate_key(
        &mut self,
        addr: SocketAddr,
        member: NodeId,
        rotation: KeyRotation,
        txid: u64,
        timeout: Duration,
    ) -> Result<Outcome, Error> {
        self.run(addr, member, ProtocolBody::RotateKey(rotation), txid, timeout)
    }

    /// Asks member `member` at `addr` to run a parameter change or a key
    /// rotation under `txid` and waits for its outcome.
    ///
    /// # Errors
    /// [`Error::Refused`] when the member refuses it before it starts (invalid
    /// values, no quorum); [`Error::Vetoed`] / [`Error::RolledBack`] with the
    /// outcome; [`Error::Timeout`] with `pid: None` when the member was never
    /// reached (nothing can have run), with the proposal's id once the request
    /// was sent (its outcome is unknown: it may still run, once; calling again
    /// with the same `txid` learns it); [`Error::Io`].
    pub fn run(&mut self, addr: SocketAddr, member: NodeId, body: ProtocolBody, txid: u64, timeout: Duration) -> Result<Outcome, Error> {
        let end = Instant::now() + timeout;
        let (member_inc, nonce) = self.challenge(addr, member, end)?;
        let req = self.next_req;
        self.next_req += 1;
        let frame = Frame::ChangeRequest { req, txid, nonce, body };
        while Instant::now() < end {
            self.send(addr, member, member_inc, &frame)?;
            let until = (Instant::now() + Duration::from_millis(250)).min(end);
            let got = self.receive(until, |_, f| match f {
                Frame::ChangeReply { req: r, outcome, error } if r == req => Some((outcome, error)),
                _ => None,
            })?;
            match got {
                Some((Some(o), _)) if o.committed => return Ok(o),
                Some((Some(o), _)) => return Err(Error::from_outcome(o)),
                Some((None, Some(e))) => return Err(Error::Refused(e)),
                _ => {}
            }
        }
        Err(Error::Timeout { pid: Some(ProposalId { node: member, txid }) })
    }

    /// Takes a challenge from member `member`: its incarnation and a nonce.
    fn challenge(&mut self, addr: SocketAddr, member: NodeId, end: Instant) -> Result<(u64, u64), Error> {
        let req = self.next_req;
        self.next_req += 1;
        while Instant::now() < end {
            self.send(addr, member, 0, &Frame::ChallengeRequest { req })?;
            let until = (Instant::now() + RETRY).min(end);
            let got = self.receive(until, |h, f| match f {
                Frame::Challenge { req: r, nonce } if r == req && h.from == member => Some((h.from_inc, nonce)),
                _ => None,
            })?;
            if let Some(c) = got {
                return Ok(c);
            }
        }
        Err(Error::Timeout { pid: None })
    }
}
