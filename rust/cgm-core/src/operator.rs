//! Parameter changes asked for by operator tools that are not members
//! (`cgm set`): the member proposes the change under the tool's transaction id
//! and answers when the outcome is known.
//!
//! A change request is bound to the member that runs it and to time: the tool
//! first asks that member for a challenge (a nonce it never issued before in
//! this incarnation), then sends the request with the nonce, addressed to the
//! member's incarnation. The member takes a nonce for one transaction only
//! and keeps it while that transaction runs and for [`CHALLENGE_LIFETIME`]
//! after it was issued or answered, whichever is later (a tool re-sending a
//! slow change is never refused mid-flight); a request whose nonce it does
//! not hold (never issued, expired, or issued by a previous life of the
//! member) is refused and counted as a replay. So a captured request replayed
//! later, after any number of other requests or after the member restarted,
//! never runs a change again: while the nonce lives it is the same
//! transaction (the tool re-sending it gets the same outcome), after it it is
//! refused.

use crate::engine::Engine;
use crate::ids::{Incarnation, Member, NodeId, ProposalId, ProtocolBody};
use crate::messages::Frame;
use crate::net::{Dest, Net};
use crate::time::Time;
use std::collections::BTreeMap;
use std::time::Duration;

/// Operator requests waiting for an outcome, at most this many.
const MAX_WAITERS: usize = 256;
/// Challenges held, at most this many (the oldest is dropped first).
const MAX_CHALLENGES: usize = 1_024;
/// How long a challenge is good for, from when it was issued.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(60);

/// An operator waiting for the outcome of a change.
#[derive(Debug, Clone)]
struct Waiter {
    dest: Dest,
    to_inc: Incarnation,
    req: u64,
    pid: ProposalId,
}

/// A challenge issued to an operator tool: when it was issued or last
/// answered, and the transaction it was taken for.
#[derive(Debug, Clone, Copy)]
struct Challenge {
    renewed: Time,
    txid: Option<u64>,
}

impl Operators {
    /// Whether the challenge `nonce` is held at `now`: within its lifetime,
    /// or taken by a transaction a tool still waits on.
    fn holds(&self, nonce: u64, now: Time) -> Option<Challenge> {
        let c = *self.challenges.get(&nonce)?;
        let waited_on = |t| self.waiters.iter().any(|w| w.pid.txid == t);
        (now.saturating_since(c.renewed) < CHALLENGE_LIFETIME || c.txid.is_some_and(waited_on)).then_some(c)
    }
}

/// The operator side of a member: challenges issued, and tools waiting for
/// outcomes.
#[derive(Debug, Default)]
pub(crate) struct Operators {
    waiters: Vec<Waiter>,
    challenges: BTreeMap<u64, Challenge>,
    next_nonce: u64,
}

/// A change request as it arrived.
pub(crate) struct ChangeRequest {
    pub(crate) dest: Dest,
    /// The tool's incarnation (answers go to it).
    pub(crate) from_inc: Incarnation,
    /// The incarnation the tool addressed.
    pub(crate) to_inc: Incarnation,
    pub(crate) req: u64,
    pub(crate) txid: u64,
    pub(crate) nonce: u64,
    pub(crate) body: ProtocolBody,
}

/// What a change request admitted by [`Operators::admit`] needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admitted {
    /// A new transaction: the member proposes the change, then
    /// [`Operators::wait`] for it.
    Propose,
    /// The transaction is known (the tool re-sent it): [`Operators::wait`] for it.
    Known,
}

impl Operators {
    /// Issues a challenge to a tool.
    pub(crate) fn on_challenge_request(&mut self, net: &mut Net, dest: Dest, to_inc: Incarnation, req: u64, now: Time) {
        let held: Vec<u64> = self.challenges.keys().copied().filter(|&n| self.holds(n, now).is_some()).collect();
        self.challenges.retain(|n, _| held.contains(n));
        if self.challenges.len() >= MAX_CHALLENGES {
            // Nonces grow, so the first is the oldest.
            self.challenges.pop_first();
        }
        self.next_nonce += 1;
        let nonce = self.next_nonce;
        self.challenges.insert(nonce, Challenge { renewed: now, txid: None });
        net.push_to(dest, to_inc, Frame::Challenge { req, nonce });
    }

    /// Checks a change request to member `me` against its challenge and the
    /// transactions `eng` knows; a refused one is answered here (`None`).
    pub(crate) fn admit(&mut self, net: &mut Net, me: Member, eng: &Engine, r: &ChangeRequest, now: Time) -> Option<Admitted> {
        let pid = ProposalId { node: me.id, txid: r.txid };
        let challenge = self.holds(r.nonce, now).filter(|_| r.to_inc == me.inc);
        let Some(challenge) = challenge else {
            net.counters.replayed += 1;
            let why = format!(
                "change request {} refused: its challenge is unknown or expired, or member {} restarted since; ask for a new challenge",
                r.txid, me.id
            );
            return refuse(net, r, why);
        };
        let known = eng.outcome(pid).is_some() || eng.is_known(pid);
        match challenge.txid {
            Some(t) if t != r.txid => {
                net.counters.replayed += 1;
                refuse(net, r, format!("change request {}: its challenge was taken for transaction {t}", r.txid))
            }
            // The tool re-sent it: the same transaction, never run again.
            Some(_) if !known => refuse(net, r, format!("the outcome of transaction {} is no longer held here", r.txid)),
            Some(_) => Some(Admitted::Known),
            None if self.waiters.len() >= MAX_WAITERS => refuse(net, r, "too many operator requests in progress".into()),
            None if known => Some(Admitted::Known),
            None => Some(Admitted::Propose),
        }
    }

    /// The admitted request `r` waits for its transaction's outcome, which
    /// its challenge is now taken for; answers it at once if it is known.
    pub(crate) fn wait(&mut self, net: &mut Net, me: NodeId, eng: &Engine, r: &ChangeRequest, now: Time) {
        if let Some(c) = self.challenges.get_mut(&r.nonce) {
            c.txid = Some(r.txid);
        }
        let pid = ProposalId { node: me, txid: r.txid };
        if !self.waiters.iter().any(|w| w.pid == pid && w.req == r.req) {
            self.waiters.push(Waiter { dest: r.dest, to_inc: r.from_inc, req: r.req, pid });
        }
        self.answer(net, eng, now);
    }

    /// Answers every operator whose change has ended (and is final); its
    /// challenge lives on for [`CHALLENGE_LIFETIME`] from now, so a tool whose
    /// answer was lost gets it again by re-sending.
    pub(crate) fn answer(&mut self, net: &mut Net, eng: &Engine, now: Time) {
        if self.waiters.is_empty() {
            return;
        }
        let waiters = std::mem::take(&mut self.waiters);
        for w in waiters {
            match eng.outcome(w.pid).cloned() {
                Some(o) => {
                    for c in self.challenges.values_mut().filter(|c| c.txid == Some(w.pid.txid)) {
                        c.renewed = now;
                    }
                    net.push_to(w.dest, w.to_inc, Frame::ChangeReply { req: w.req, outcome: Some(o), error: None })
                }
                None => self.waiters.push(w),
            }
        }
    }
}

/// Answers `r` with the error `why`; nothing runs.
pub(crate) fn refuse(net: &mut Net, r: &ChangeRequest, why: String) -> Option<Admitted> {
    net.push_to(r.dest, r.from_inc, Frame::ChangeReply { req: r.req, outcome: None, error: Some(why) });
    None
}
