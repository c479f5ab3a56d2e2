//! Parameter changes asked for by operator tools that are not members
//! (`cgm set`): the member proposes the change under the tool's transaction id
//! and answers when the outcome is known. Re-sending the same transaction id
//! is idempotent: the tool gets the same outcome.

use crate::core::{Core, Dest};
use crate::params::Param;
use crate::time::Time;
use crate::wire::{Frame, Incarnation, ProposalId};

/// Operator requests waiting for an outcome, at most this many.
const MAX_WAITERS: usize = 256;

/// An operator waiting for the outcome of a change.
#[derive(Debug, Clone)]
pub(crate) struct Waiter {
    dest: Dest,
    to_inc: Incarnation,
    req: u64,
    pid: ProposalId,
}

impl Core {
    pub(crate) fn on_change_request(
        &mut self,
        dest: Dest,
        to_inc: Incarnation,
        req: u64,
        txid: u64,
        changes: Vec<(Param, u64)>,
        now: Time,
    ) {
        let pid = ProposalId { node: self.cfg.id, txid };
        let reply_error = |core: &mut Core, e: String| {
            core.push_to(dest, to_inc, Frame::ChangeReply { req, outcome: None, error: Some(e) });
        };
        if self.operators.len() >= MAX_WAITERS {
            return reply_error(self, "too many operator requests in progress".into());
        }
        if self.eng.outcome(pid).is_none() && !self.eng.is_known(pid) {
            if let Err(e) = self.propose_change(now, Some(txid), &changes) {
                return reply_error(self, e.to_string());
            }
        }
        if !self.operators.iter().any(|w| w.pid == pid && w.req == req) {
            self.operators.push(Waiter { dest, to_inc, req, pid });
        }
        self.answer_operators();
    }

    /// Answers every operator whose change has ended.
    pub(crate) fn answer_operators(&mut self) {
        if self.operators.is_empty() {
            return;
        }
        let waiters = std::mem::take(&mut self.operators);
        for w in waiters {
            match self.eng.outcome(w.pid).cloned() {
                Some(o) => self.push_to(w.dest, w.to_inc, Frame::ChangeReply { req: w.req, outcome: Some(o), error: None }),
                None => self.operators.push(w),
            }
        }
    }
}
