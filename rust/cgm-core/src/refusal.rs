//! Telling a node outside the node set why nobody lets it in. A member of a
//! view with quorum refuses every datagram from a node it does not know
//! (see `Core::knows`) and answers it with [`Frame::NotMember`], at most
//! once per node per [`ANSWER_EVERY`]: a node started with a file that
//! lists it, but never added by a node change, would otherwise retry its
//! joins forever with nothing in its log or status to say why. A member
//! refuses with the values its host was told (final), never with a
//! decision of its own the cluster may yet undo. The refused node shows
//! the last refusal in its status ([`Refusal`]) and its log; one the
//! cluster removed while it was away (down or cut off) learns it so, once
//! members from a majority of the newest set refused it ([`Evidence`]): a
//! lone member that has not yet noticed it lost its quorum cannot make a
//! node leave.
//!
//! [`Frame::NotMember`]: crate::messages::Frame::NotMember

use crate::ids::NodeId;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often a member answers one refused node: often enough that a node
/// learns why within a join probe or two, seldom enough that a node
/// knocking at every heartbeat costs one datagram a second.
pub const ANSWER_EVERY: Duration = Duration::from_secs(1);

/// A refusal, as the refused node's [`Status`](crate::status::Status) shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The member that refused this node.
    pub by: NodeId,
    /// That member's committed generation.
    pub generation: u64,
    /// The node set it committed at that generation (node ids, ascending),
    /// which does not hold this node.
    pub nodes: Vec<NodeId>,
    /// When the refusal arrived (this node's clock).
    pub at: Time,
}

/// The refusing side: when each refused node was last answered.
#[derive(Debug, Default)]
pub(crate) struct Answers {
    last: BTreeMap<NodeId, Time>,
}

impl Answers {
    /// Whether to answer `id` now; forgets answers older than
    /// [`ANSWER_EVERY`], so the record holds only the nodes refused lately.
    pub(crate) fn due(&mut self, id: NodeId, now: Time) -> bool {
        self.last.retain(|_, at| now.saturating_since(*at) < ANSWER_EVERY);
        if self.last.contains_key(&id) {
            return false;
        }
        self.last.insert(id, now);
        true
    }
}

/// The refused side: the latest refusal from each member that refused this
/// node with a node set of a later generation than the values it was told
/// (evidence that it was removed while away).
#[derive(Debug, Default)]
pub(crate) struct Evidence {
    by: BTreeMap<NodeId, (u64, Vec<NodeId>)>,
}

impl Evidence {
    /// Records member `by`'s refusal with the set `nodes` of `generation`;
    /// the newest generation among the refusals, once members of a majority
    /// of its set refused this node.
    pub(crate) fn removed_at(&mut self, by: NodeId, generation: u64, nodes: Vec<NodeId>) -> Option<u64> {
        self.by.insert(by, (generation, nodes));
        let (newest, set) = self.by.values().max_by_key(|(g, _)| *g)?;
        let refusers = self.by.keys().filter(|id| set.contains(id)).count();
        (refusers * 2 > set.len()).then_some(*newest)
    }

    /// Forgets every refusal (the node is in a view with quorum).
    pub(crate) fn clear(&mut self) {
        self.by.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_node_is_answered_once_per_interval() {
        let mut a = Answers::default();
        let t0 = Time(1_000_000);
        assert!(a.due(9, t0));
        assert!(!a.due(9, t0 + Duration::from_millis(999)));
        assert!(a.due(8, t0 + Duration::from_millis(999)), "each node has its own interval");
        assert!(a.due(9, t0 + ANSWER_EVERY));
        assert!(a.due(7, t0 + ANSWER_EVERY * 3));
        assert_eq!(a.last.len(), 1, "answers past their interval are forgotten: {:?}", a.last);
    }

    #[test]
    fn a_removal_needs_refusals_from_a_majority_of_the_newest_set() {
        let mut e = Evidence::default();
        assert_eq!(e.removed_at(1, 4, vec![1, 2, 3, 4]), None, "one of four");
        assert_eq!(e.removed_at(2, 4, vec![1, 2, 3, 4]), None, "two of four");
        assert_eq!(e.removed_at(9, 6, vec![1, 2, 3, 4]), None, "a refuser outside the set counts for nothing");
        assert_eq!(e.removed_at(3, 5, vec![1, 2, 3, 4]), Some(6), "three of four: the newest generation");
        e.clear();
        assert_eq!(e.removed_at(1, 2, vec![1]), Some(2), "the only member");
    }
}
