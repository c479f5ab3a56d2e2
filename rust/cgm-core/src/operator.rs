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

use crate::core::{Core, Dest};
use crate::params::Param;
use crate::time::Time;
use crate::ids::{Incarnation, ProposalId};
use crate::messages::Frame;
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
    pub(crate) changes: Vec<(Param, u64)>,
}

impl Core {
    /// Issues a challenge to a tool.
    pub(crate) fn on_challenge_request(&mut self, dest: Dest, to_inc: Incarnation, req: u64, now: Time) {
        let held: Vec<u64> = self.operators.challenges.keys().copied().filter(|&n| self.operators.holds(n, now).is_some()).collect();
        let ops = &mut self.operators;
        ops.challenges.retain(|n, _| held.contains(n));
        if ops.challenges.len() >= MAX_CHALLENGES {
            // Nonces grow, so the first is the oldest.
            ops.challenges.pop_first();
        }
        ops.next_nonce += 1;
        let nonce = ops.next_nonce;
        ops.challenges.insert(nonce, Challenge { renewed: now, txid: None });
        self.push_to(dest, to_inc, Frame::Challenge { req, nonce });
    }

    pub(crate) fn on_change_request(&mut self, r: ChangeRequest, now: Time) {
        let pid = ProposalId { node: self.cfg.id, txid: r.txid };
        let (dest, from_inc, req) = (r.dest, r.from_inc, r.req);
        let reply_error = |core: &mut Core, e: String| {
            core.push_to(dest, from_inc, Frame::ChangeReply { req, outcome: None, error: Some(e) });
        };
        let challenge = self.operators.holds(r.nonce, now).filter(|_| r.to_inc == self.cfg.incarnation);
        let Some(challenge) = challenge else {
            self.counters.replayed += 1;
            return reply_error(
                self,
                format!(
                    "change request {} refused: its challenge is unknown or expired, or member {} restarted since; ask for a new challenge",
                    r.txid, self.cfg.id
                ),
            );
        };
        match challenge.txid {
            Some(t) if t != r.txid => {
                self.counters.replayed += 1;
                return reply_error(self, format!("change request {}: its challenge was taken for transaction {t}", r.txid));
            }
            // The tool re-sent it: the same transaction, never run again.
            Some(_) if self.eng.outcome(pid).is_none() && !self.eng.is_known(pid) => {
                return reply_error(self, format!("the outcome of transaction {} is no longer held here", r.txid));
            }
            Some(_) => {}
            None => {
                if self.operators.waiters.len() >= MAX_WAITERS {
                    return reply_error(self, "too many operator requests in progress".into());
                }
                if self.eng.outcome(pid).is_none() && !self.eng.is_known(pid) {
                    // Refused before it ran (invalid values, no quorum): the
                    // challenge stays free, so the tool's retry can run it.
                    if let Err(e) = self.propose_change(now, Some(r.txid), &r.changes) {
                        return reply_error(self, e.to_string());
                    }
                }
                if let Some(c) = self.operators.challenges.get_mut(&r.nonce) {
                    c.txid = Some(r.txid);
                }
            }
        }
        if !self.operators.waiters.iter().any(|w| w.pid == pid && w.req == req) {
            self.operators.waiters.push(Waiter { dest, to_inc: from_inc, req, pid });
        }
        self.answer_operators(now);
    }

    /// Answers every operator whose change has ended (and is final); its
    /// challenge lives on for [`CHALLENGE_LIFETIME`] from now, so a tool whose
    /// answer was lost gets it again by re-sending.
    pub(crate) fn answer_operators(&mut self, now: Time) {
        if self.operators.waiters.is_empty() {
            return;
        }
        let waiters = std::mem::take(&mut self.operators.waiters);
        for w in waiters {
            match self.eng.outcome(w.pid).cloned() {
                Some(o) => {
                    for c in self.operators.challenges.values_mut().filter(|c| c.txid == Some(w.pid.txid)) {
                        c.renewed = now;
                    }
                    self.push_to(w.dest, w.to_inc, Frame::ChangeReply { req: w.req, outcome: Some(o), error: None })
                }
                None => self.operators.waiters.push(w),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Config;
    use crate::query::operator_datagram;
    use crate::ids::Outcome;
use crate::wire;

    /// A one-member cluster (it decides alone) at incarnation `inc`.
    fn member(inc: u64) -> Core {
        Core::new(Config::new(1, inc, vec![1]), Time(0)).unwrap()
    }

    /// Sends `frame` from tool incarnation 9 to the member (addressed to
    /// incarnation `to_inc`) and returns what the member answered.
    fn ask(core: &mut Core, now: Time, to_inc: u64, frame: &Frame) -> Vec<Frame> {
        let bytes = operator_datagram(1, to_inc, 9, frame);
        core.handle_datagram(now, 7, &bytes);
        let mut out = Vec::new();
        while let Some(t) = core.poll_transmit() {
            out.push(wire::decode_frame(&t.bytes).unwrap().1);
        }
        out
    }

    fn challenge(core: &mut Core, now: Time) -> u64 {
        match ask(core, now, core.incarnation(), &Frame::ChallengeRequest { req: 1 }).as_slice() {
            [Frame::Challenge { nonce, .. }] => *nonce,
            other => panic!("no challenge: {other:?}"),
        }
    }

    fn reply(frames: &[Frame]) -> (Option<Outcome>, Option<String>) {
        match frames.iter().find(|f| matches!(f, Frame::ChangeReply { .. })) {
            Some(Frame::ChangeReply { outcome, error, .. }) => (outcome.clone(), error.clone()),
            _ => (None, None),
        }
    }

    #[test]
    fn a_captured_change_request_never_runs_again_however_many_requests_follow_or_if_the_member_restarts() {
        let mut core = member(100);
        let mut now = Time(1_000);
        // Without a challenge: refused, nothing proposed.
        let bare = Frame::ChangeRequest { req: 2, txid: 5, nonce: 0, changes: vec![(Param::SendWindowSize, 10)] };
        let (_, e) = reply(&ask(&mut core, now, 100, &bare));
        assert!(e.unwrap().contains("challenge"));
        assert_eq!(core.generation(), 0);
        // With one: committed once.
        let nonce = challenge(&mut core, now);
        let captured = Frame::ChangeRequest { req: 3, txid: 6, nonce, changes: vec![(Param::SendWindowSize, 11)] };
        let (o, _) = reply(&ask(&mut core, now, 100, &captured));
        assert!(o.unwrap().committed);
        assert_eq!(core.generation(), 1);
        // 300 other operator changes, each with its own challenge.
        for txid in 100..400 {
            now = now + Duration::from_millis(10);
            let nonce = challenge(&mut core, now);
            let f = Frame::ChangeRequest { req: txid, txid, nonce, changes: vec![(Param::SendWindowSize, 20 + txid % 2)] };
            assert!(reply(&ask(&mut core, now, 100, &f)).0.is_some());
        }
        let generation = core.generation();
        // The capture replayed: the same transaction, not run again.
        let (o, e) = reply(&ask(&mut core, now, 100, &captured));
        assert!(o.is_some() || e.is_some());
        assert_eq!(core.generation(), generation);
        // After the challenge's lifetime: refused.
        now = now + CHALLENGE_LIFETIME;
        let replayed = core.counters.replayed;
        let (o, e) = reply(&ask(&mut core, now, 100, &captured));
        assert!(o.is_none() && e.unwrap().contains("challenge"));
        assert_eq!((core.generation(), core.counters.replayed), (generation, replayed + 1));
        // A restarted member (new incarnation) refuses it, whatever nonce it carries.
        let mut restarted = member(200);
        let _ = challenge(&mut restarted, Time(0));
        let (o, e) = reply(&ask(
            &mut restarted,
            Time(0),
            100,
            &Frame::ChangeRequest { req: 3, txid: 6, nonce: 1, changes: vec![(Param::SendWindowSize, 11)] },
        ));
        assert!(o.is_none() && e.is_some());
        assert_eq!(restarted.generation(), 0);
    }

    /// A change that waits longer than a challenge's lifetime (queued behind a
    /// protocol whose lock the host holds) is still the same transaction to
    /// the tool re-sending it: never refused as a replay mid-flight, answered
    /// once it ends, and answered again for a lifetime after that.
    #[test]
    fn a_tool_re_sending_a_change_that_outlives_its_challenge_gets_its_outcome_not_a_refusal() {
        use crate::core::Event;
        use crate::ids::{AppProtocol, Resource};
        let mut core = member(100);
        let mut now = Time(1_000);
        let app = AppProtocol { payload: Vec::new().into(), rounds: 1, wait: Some(Resource::Lock("l".into())) };
        core.propose_app(now, None, app).unwrap();
        let token = std::iter::from_fn(|| core.poll_event())
            .find_map(|e| match e {
                Event::LocalWait { token, .. } => Some(token),
                _ => None,
            })
            .expect("the protocol waits on the lock");
        let nonce = challenge(&mut core, now);
        let request = Frame::ChangeRequest { req: 4, txid: 7, nonce, changes: vec![(Param::SendWindowSize, 12)] };
        assert_eq!(reply(&ask(&mut core, now, 100, &request)), (None, None), "queued behind the lock: no answer yet");
        // The tool keeps re-sending, past the challenge's lifetime.
        for _ in 0..3 {
            now = now + CHALLENGE_LIFETIME;
            assert_eq!(reply(&ask(&mut core, now, 100, &request)), (None, None), "refused mid-flight");
        }
        assert_eq!(core.counters.replayed, 0);
        core.complete_wait(now, token, Ok(Vec::new())).unwrap();
        let mut answered = Vec::new();
        while let Some(t) = core.poll_transmit() {
            answered.push(wire::decode_frame(&t.bytes).unwrap().1);
        }
        assert!(reply(&answered).0.is_some_and(|o| o.committed), "answered when it ends");
        assert_eq!(core.generation(), 1);
        // A re-send whose answer was lost, within a lifetime of the answer: the outcome again.
        now = now + CHALLENGE_LIFETIME / 2;
        assert!(reply(&ask(&mut core, now, 100, &request)).0.is_some_and(|o| o.committed));
        // A lifetime after the answer: refused, never run again.
        now = now + CHALLENGE_LIFETIME;
        let (o, e) = reply(&ask(&mut core, now, 100, &request));
        assert!(o.is_none() && e.unwrap().contains("challenge"));
        assert_eq!((core.generation(), core.counters.replayed), (1, 1));
    }
}
