//! Progress tracking, one of libcgm's two inventions: what this member knows
//! of how far every member of its view got. Its own ACK round; for each peer
//! the last ACK round received from it, how far it said it decided and
//! reported ([`Marks`]), and when it was last heard. Status queries are
//! answered from this record, and the engine asks it who has not ACKed a
//! round, which round every member ACKed, and which decisions are final.

use crate::ids::NodeId;
use crate::messages::Marks;
use crate::time::Time;
use std::collections::BTreeMap;

/// How far one peer (in its current incarnation) got, as this member knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PeerProgress {
    /// The last ACK round received from it in this view (0: none).
    pub(crate) ack_round: u64,
    /// How far it said it decided and reported, in this view.
    pub(crate) marks: Marks,
    /// When any datagram of it last arrived.
    pub(crate) last_heard: Option<Time>,
}

/// This member's progress record of its view.
#[derive(Clone, Debug, Default)]
pub(crate) struct Progress {
    /// The last round this member ACKed.
    pub(crate) mine: u64,
    /// Every peer this member has a channel to, by id.
    peers: BTreeMap<NodeId, PeerProgress>,
}

impl Progress {
    /// A peer's progress (nothing yet for one this member does not know).
    pub(crate) fn peer(&self, id: NodeId) -> PeerProgress {
        self.peers.get(&id).copied().unwrap_or_default()
    }

    /// Starts a fresh record for a peer's new incarnation.
    pub(crate) fn track(&mut self, id: NodeId) {
        self.peers.insert(id, PeerProgress::default());
    }

    /// A datagram of `id` arrived (counted only for a tracked peer).
    pub(crate) fn heard(&mut self, id: NodeId, now: Time) {
        if let Some(p) = self.peers.get_mut(&id) {
            p.last_heard = Some(now);
        }
    }

    /// `id` ACKed `round`; returns its ACK round before, or `None` for a peer
    /// not tracked.
    pub(crate) fn acked(&mut self, id: NodeId, round: u64) -> Option<u64> {
        let p = self.peers.get_mut(&id)?;
        let before = p.ack_round;
        p.ack_round = before.max(round);
        Some(before)
    }

    /// `id` said how far it got; returns what is known of it now, or `None`
    /// for a peer not tracked.
    pub(crate) fn marked(&mut self, id: NodeId, marks: Marks) -> Option<Marks> {
        let p = self.peers.get_mut(&id)?;
        p.marks.done = p.marks.done.max(marks.done);
        p.marks.told = p.marks.told.max(marks.told);
        Some(p.marks)
    }

    /// A new view: rounds are numbered afresh and marks are heard again.
    pub(crate) fn new_view(&mut self) {
        for p in self.peers.values_mut() {
            p.ack_round = 0;
            p.marks = Marks::default();
        }
    }

    /// The members among `members` (this one, `me`, aside) that have not
    /// ACKed `round`.
    pub(crate) fn not_acked<'a, I>(&'a self, members: I, me: NodeId, round: u64) -> impl Iterator<Item = NodeId> + 'a
    where
        I: IntoIterator<Item = NodeId>,
        I::IntoIter: 'a,
    {
        members.into_iter().filter(move |&id| id != me && self.peer(id).ack_round < round)
    }

    /// The last round every one of `members` ACKed, this member included.
    pub(crate) fn acked_by_all(&self, members: impl IntoIterator<Item = NodeId>, me: NodeId) -> u64 {
        members.into_iter().filter(|&id| id != me).map(|id| self.peer(id).ack_round).fold(self.mine, u64::min)
    }

    /// The members among `members` (`me` aside) not known to have decided `seq`.
    pub(crate) fn undecided<'a, I>(&'a self, members: I, me: NodeId, seq: u64) -> impl Iterator<Item = NodeId> + 'a
    where
        I: IntoIterator<Item = NodeId>,
        I::IntoIter: 'a,
    {
        members.into_iter().filter(move |&id| id != me && self.peer(id).marks.done < seq)
    }

    /// The highest sequence number every one of `members` decided, this
    /// member having decided up to `own`.
    ///
    /// A decision every member of its view holds is one no later view can
    /// reverse: a view change takes the state of its lineage's members, and any
    /// later view with quorum holds a member of this one that carries the
    /// decision (unless every one of them restarted: the cluster's state is
    /// gone, see the README's known issues). So a member reports an outcome to
    /// its host only at or below this mark, and the outcome it reports is the
    /// one every member reports.
    pub(crate) fn stable_mark(&self, own: u64, members: impl IntoIterator<Item = NodeId>, me: NodeId) -> u64 {
        members.into_iter().filter(|&id| id != me).map(|id| self.peer(id).marks.done).fold(own, u64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Progress {
        let mut p = Progress { mine: 7, ..Progress::default() };
        for id in [2, 3] {
            p.track(id);
        }
        p
    }

    #[test]
    fn a_round_is_acked_by_all_once_the_slowest_member_acked_it() {
        let mut p = record();
        assert_eq!(p.acked(2, 9), Some(0));
        assert_eq!(p.acked(3, 6), Some(0));
        assert_eq!(p.acked_by_all([1, 2, 3], 1), 6);
        assert_eq!(p.not_acked([1, 2, 3], 1, 7).collect::<Vec<_>>(), vec![3]);
        // Old and duplicated ACKs never move a peer back.
        assert_eq!(p.acked(2, 4), Some(9));
        assert_eq!(p.peer(2).ack_round, 9);
        // A member this one does not track has ACKed nothing.
        assert_eq!(p.acked(4, 9), None);
        assert_eq!(p.acked_by_all([1, 2, 3, 4], 1), 0);
        assert_eq!(p.not_acked([1, 2, 3, 4], 1, 1).collect::<Vec<_>>(), vec![4]);
    }

    #[test]
    fn the_stable_mark_is_the_slowest_members_mark_and_a_new_view_starts_it_afresh() {
        let mut p = record();
        p.marked(2, Marks { done: 12, told: 3 });
        p.marked(3, Marks { done: 7, told: 1 });
        assert_eq!(p.stable_mark(9, [1, 2, 3], 1), 7);
        assert_eq!(p.stable_mark(3, [1], 1), 3);
        assert_eq!(p.undecided([1, 2, 3], 1, 8).collect::<Vec<_>>(), vec![3]);
        assert_eq!(p.marked(3, Marks { done: 2, told: 5 }), Some(Marks { done: 7, told: 5 }));
        p.heard(2, Time(5));
        p.new_view();
        assert_eq!(p.stable_mark(9, [1, 2, 3], 1), 0);
        assert_eq!(p.peer(2), PeerProgress { last_heard: Some(Time(5)), ..PeerProgress::default() });
    }
}
