//! UDP sockets (IPv4 or IPv6, via socket2) and the reader thread that feeds
//! inbound datagrams into the member thread's queue.

use crossbeam_channel::Sender;
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{SocketAddr, UdpSocket};
use std::thread::JoinHandle;

/// Largest datagram accepted.
const MAX_DATAGRAM: usize = 65_536;

/// Binds a UDP socket with room for bursts.
///
/// # Errors
/// The operating system's error.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// Datagrams read in one go: everything that waited in the socket.
pub(crate) type Batch = Vec<(SocketAddr, Vec<u8>)>;

/// Most datagrams handed over in one batch.
const MAX_BATCH: usize = 64;
const SOCKET: Token = Token(0);
const STOP: Token = Token(1);

/// Stops a reader thread.
pub(crate) struct ReaderStop(Waker);

impl ReaderStop {
    /// Wakes the reader and makes it end.
    pub(crate) fn stop(&self) {
        let _ = self.0.wake();
    }
}

/// Starts the thread that reads datagrams and queues them for the member.
///
/// The socket becomes non-blocking (for the member thread's sends too, which
/// must never block it: a full send buffer is a lost datagram, which the
/// reliable channels repair). The thread waits for readiness, then takes
/// everything that waits in the socket and hands it over as one batch, so the
/// member thread wakes once per burst (an ACK round delivers one datagram
/// from every member at nearly the same time) and answers it with bundled
/// datagrams.
///
/// # Errors
/// The thread cannot be spawned or the socket configured.
pub(crate) fn spawn_reader(id: u32, sock: UdpSocket, tx: Sender<Batch>) -> std::io::Result<(JoinHandle<()>, ReaderStop)> {
    sock.set_nonblocking(true)?;
    let mut sock = mio::net::UdpSocket::from_std(sock);
    let mut poll = Poll::new()?;
    poll.registry().register(&mut sock, SOCKET, Interest::READABLE)?;
    let stop = ReaderStop(Waker::new(poll.registry(), STOP)?);
    let thread = std::thread::Builder::new().name(format!("cgm-reader-{id}")).spawn(move || {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut events = Events::with_capacity(2);
        loop {
            if let Err(e) = poll.poll(&mut events, None) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                log::warn!("node {id}: waiting for datagrams failed: {e}");
                return;
            }
            if events.iter().any(|e| e.token() == STOP) {
                return;
            }
            // Readiness is edge-triggered: read until the socket is empty.
            loop {
                let mut batch = Vec::new();
                let empty = loop {
                    match sock.recv_from(&mut buf) {
                        Ok((n, from)) => batch.push((from, buf[..n].to_vec())),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        // An ICMP error from an earlier send: nothing to read.
                        Err(e) => log::debug!("node {id}: receive failed: {e}"),
                    }
                    if batch.len() == MAX_BATCH {
                        break false;
                    }
                };
                if !batch.is_empty() && tx.send(batch).is_err() {
                    return;
                }
                if empty {
                    break;
                }
            }
        }
    })?;
    Ok((thread, stop))
}
