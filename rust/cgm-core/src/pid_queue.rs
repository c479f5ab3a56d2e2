//! A queue of proposals in order, with their ids in a set for lookup: a
//! proposal arriving again is checked against the engine's queues, and a
//! scan of a queue made that cost grow with its backlog under load.

use crate::ids::{PidSet, ProposalId, ProtocolBody};
use crate::trim::Trim;
use std::collections::VecDeque;

/// What a [`PidQueue`] holds: something of one proposal.
pub(crate) trait OfProposal {
    /// The proposal's id.
    fn pid(&self) -> ProposalId;
}

impl OfProposal for (ProposalId, ProtocolBody) {
    fn pid(&self) -> ProposalId {
        self.0
    }
}

/// Items of distinct proposals, in order, with their ids for lookup.
#[derive(Clone, Debug)]
pub(crate) struct PidQueue<T> {
    queue: VecDeque<T>,
    pids: PidSet,
}

impl<T> Default for PidQueue<T> {
    fn default() -> Self {
        PidQueue { queue: VecDeque::new(), pids: PidSet::default() }
    }
}

impl<T: OfProposal> PidQueue<T> {
    /// Appends `item`, whose proposal the queue must not hold.
    pub(crate) fn push_back(&mut self, item: T) {
        let fresh = self.pids.insert(item.pid());
        debug_assert!(fresh, "a proposal queued twice");
        self.queue.push_back(item);
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let item = self.queue.pop_front()?;
        self.pids.remove(&item.pid());
        Some(item)
    }

    /// Empties the queue, handing out its items in order.
    pub(crate) fn take(&mut self) -> VecDeque<T> {
        self.pids.clear();
        std::mem::take(&mut self.queue)
    }

    pub(crate) fn clear(&mut self) {
        self.pids.clear();
        self.queue.clear();
    }

    pub(crate) fn front(&self) -> Option<&T> {
        self.queue.front()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn contains(&self, pid: ProposalId) -> bool {
        self.pids.contains(&pid)
    }
}

impl<T> Trim for PidQueue<T> {
    fn trim(&mut self) {
        self.queue.trim();
        self.pids.trim();
    }
}
