//! Progress tracking, one of libcgm's two inventions: what this member knows
//! of how far every member of its view got. Its own ACK round; for each peer
//! the last ACK round received from it, how far it said it decided and
//! reported ([`Marks`]), and when it was last heard. Status queries are
//! answered from this record, and the engine asks it who has not ACKed a
//! round, which round every member ACKed, and which decisions are final.

use crate::ids::NodeId;
use crate::messages::Marks;
use crate::time::Time;
use litemap::LiteMap;

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
    peers: LiteMap<NodeId, PeerProgress>,
    /// The view's other members, sorted: the floors are kept over them.
    view: Vec<NodeId>,
    /// The lowest ACK round among them.
    acked: Floor,
    /// The lowest decided mark among them.
    done: Floor,
}

/// The lowest value of one figure over the view's other members, and how many
/// of them hold it. The figures only grow within a view, so the floor moves
/// only when its last holder advances: it is recomputed then, once per rise
/// of the floor, instead of a scan of the view for every ACK (at 256 members
/// that scan was the largest cost of a member). Over no member it is
/// `u64::MAX`, so only this member's own figure counts.
#[derive(Clone, Copy, Debug)]
struct Floor {
    value: u64,
    holders: usize,
}

impl Default for Floor {
    fn default() -> Floor {
        Floor { value: u64::MAX, holders: 0 }
    }
}

impl Floor {
    fn over(values: impl Iterator<Item = u64>) -> Floor {
        values.fold(Floor::default(), |f, v| match v.cmp(&f.value) {
            std::cmp::Ordering::Less => Floor { value: v, holders: 1 },
            std::cmp::Ordering::Equal => Floor { value: v, holders: f.holders + 1 },
            std::cmp::Ordering::Greater => f,
        })
    }

    /// One holder moved up from `before`; returns whether the floor must be
    /// recomputed (it was the last holder of the floor).
    fn rose_from(&mut self, before: u64) -> bool {
        if before != self.value {
            return false;
        }
        self.holders -= 1;
        self.holders == 0
    }
}

impl Progress {
    /// A peer's progress (nothing yet for one this member does not know).
    pub(crate) fn peer(&self, id: NodeId) -> PeerProgress {
        self.peers.get(&id).copied().unwrap_or_default()
    }

    /// Every tracked peer's progress, by id in ascending order.
    pub(crate) fn peers(&self) -> impl Iterator<Item = (&NodeId, &PeerProgress)> {
        self.peers.iter()
    }

    /// Starts a fresh record for a peer's new incarnation.
    pub(crate) fn track(&mut self, id: NodeId) {
        self.peers.insert(id, PeerProgress::default());
        if self.in_view(id) {
            self.recompute();
        }
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
        if round > before && self.in_view(id) && self.acked.rose_from(before) {
            self.acked = self.floor(|p| p.ack_round);
        }
        Some(before)
    }

    /// `id` said how far it got; returns what is known of it now, or `None`
    /// for a peer not tracked.
    pub(crate) fn marked(&mut self, id: NodeId, marks: Marks) -> Option<Marks> {
        let p = self.peers.get_mut(&id)?;
        let before = p.marks.done;
        p.marks.done = before.max(marks.done);
        p.marks.told = p.marks.told.max(marks.told);
        let known = p.marks;
        if known.done > before && self.in_view(id) && self.done.rose_from(before) {
            self.done = self.floor(|p| p.marks.done);
        }
        Some(known)
    }

    /// A new view of `members` (this one, `me`, among them): rounds are
    /// numbered afresh and marks are heard again.
    pub(crate) fn new_view(&mut self, members: impl IntoIterator<Item = NodeId>, me: NodeId) {
        for (_, p) in self.peers.iter_mut() {
            p.ack_round = 0;
            p.marks = Marks::default();
        }
        self.view = members.into_iter().filter(|&id| id != me).collect();
        self.view.sort_unstable();
        self.recompute();
    }

    fn in_view(&self, id: NodeId) -> bool {
        self.view.binary_search(&id).is_ok()
    }

    fn recompute(&mut self) {
        self.acked = self.floor(|p| p.ack_round);
        self.done = self.floor(|p| p.marks.done);
    }

    /// The floor of one figure over the view, scanned.
    fn floor(&self, figure: fn(&PeerProgress) -> u64) -> Floor {
        Floor::over(self.view.iter().map(|&id| figure(&self.peer(id))))
    }

    /// The members among `members` (in ascending id order; this one, `me`,
    /// aside) that have not ACKed `round`.
    pub(crate) fn not_acked<'a, I>(&'a self, members: I, me: NodeId, round: u64) -> impl Iterator<Item = NodeId> + 'a
    where
        I: IntoIterator<Item = NodeId>,
        I::IntoIter: 'a,
    {
        self.behind(members, me, move |p| p.ack_round < round)
    }

    /// The last round every member of the view ACKed, this member included.
    pub(crate) fn acked_by_all(&self) -> u64 {
        self.acked.value.min(self.mine)
    }

    /// The members among `members` (in ascending id order; `me` aside) not
    /// known to have decided `seq`.
    pub(crate) fn undecided<'a, I>(&'a self, members: I, me: NodeId, seq: u64) -> impl Iterator<Item = NodeId> + 'a
    where
        I: IntoIterator<Item = NodeId>,
        I::IntoIter: 'a,
    {
        self.behind(members, me, move |p| p.marks.done < seq)
    }

    /// The members among `members` (in ascending id order; `me` aside) whose
    /// progress is `behind`: one walk of the record, not a lookup each.
    fn behind<'a, I>(&'a self, members: I, me: NodeId, behind: impl Fn(&PeerProgress) -> bool + 'a) -> impl Iterator<Item = NodeId> + 'a
    where
        I: IntoIterator<Item = NodeId>,
        I::IntoIter: 'a,
    {
        let mut records = self.peers.iter().peekable();
        members.into_iter().filter(move |&id| id != me && behind(&crate::ids::seek(&mut records, id).copied().unwrap_or_default()))
    }

    /// The highest sequence number every member of the view decided, this
    /// member having decided up to `own`.
    ///
    /// A decision every member of its view holds is one no later view can
    /// reverse: a view change takes the state of its lineage's members, and any
    /// later view with quorum holds a member of this one that carries the
    /// decision (unless every one of them restarted: the cluster's state is
    /// gone, see the README's known issues). So a member reports an outcome to
    /// its host only at or below this mark, and the outcome it reports is the
    /// one every member reports.
    pub(crate) fn stable_mark(&self, own: u64) -> u64 {
        self.done.value.min(own)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Member 1's record of a view of 1, 2 and 3.
    fn record() -> Progress {
        let mut p = Progress { mine: 7, ..Progress::default() };
        for id in [2, 3] {
            p.track(id);
        }
        p.new_view([1, 2, 3], 1);
        p
    }

    #[test]
    fn a_round_is_acked_by_all_once_the_slowest_member_acked_it() {
        let mut p = record();
        assert_eq!(p.acked(2, 9), Some(0));
        assert_eq!(p.acked_by_all(), 0);
        assert_eq!(p.acked(3, 6), Some(0));
        assert_eq!(p.acked_by_all(), 6);
        assert_eq!(p.not_acked([1, 2, 3], 1, 7).collect::<Vec<_>>(), vec![3]);
        // Old and duplicated ACKs never move a peer back.
        assert_eq!(p.acked(2, 4), Some(9));
        assert_eq!(p.peer(2).ack_round, 9);
        // A member this one does not track has ACKed nothing.
        assert_eq!(p.acked(4, 9), None);
        p.new_view([1, 2, 3, 4], 1);
        assert_eq!(p.acked_by_all(), 0);
        assert_eq!(p.not_acked([1, 2, 3, 4], 1, 1).collect::<Vec<_>>(), vec![2, 3, 4]);
    }

    #[test]
    fn the_stable_mark_is_the_slowest_members_mark_and_a_new_view_starts_it_afresh() {
        let mut p = record();
        p.marked(2, Marks { done: 12, told: 3 });
        p.marked(3, Marks { done: 7, told: 1 });
        assert_eq!(p.stable_mark(9), 7);
        assert_eq!(p.undecided([1, 2, 3], 1, 8).collect::<Vec<_>>(), vec![3]);
        assert_eq!(p.marked(3, Marks { done: 2, told: 5 }), Some(Marks { done: 7, told: 5 }));
        p.heard(2, Time(5));
        p.new_view([1, 2, 3], 1);
        assert_eq!(p.stable_mark(9), 0);
        assert_eq!(p.peer(2), PeerProgress { last_heard: Some(Time(5)), ..PeerProgress::default() });
        // Alone in its view, a member's own mark is the stable one.
        p.new_view([1], 1);
        assert_eq!(p.stable_mark(3), 3);
    }

    #[derive(Clone, Debug)]
    enum Step {
        Ack(NodeId, u64),
        Mark(NodeId, u64),
        Track(NodeId),
        View(Vec<NodeId>),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (2..7u32, 0..20u64).prop_map(|(id, r)| Step::Ack(id, r)),
            6 => (2..7u32, 0..20u64).prop_map(|(id, d)| Step::Mark(id, d)),
            1 => (2..7u32).prop_map(Step::Track),
            1 => proptest::collection::vec(1..7u32, 0..6).prop_map(Step::View),
        ]
    }

    proptest! {
        /// The floors kept as peers advance are what a scan of the view finds,
        /// after any mix of ACKs, marks, restarted peers and view changes.
        #[test]
        fn the_floors_are_the_view_scans(steps in proptest::collection::vec(step(), 0..80), own in 0..25u64) {
            let mut p = Progress { mine: 9, ..Progress::default() };
            let mut view = vec![1];
            for s in steps {
                match s {
                    Step::Ack(id, r) => { p.acked(id, r); }
                    Step::Mark(id, d) => { p.marked(id, Marks { done: d, told: 0 }); }
                    Step::Track(id) => p.track(id),
                    Step::View(mut members) => {
                        members.push(1);
                        members.sort_unstable();
                        members.dedup();
                        p.new_view(members.iter().copied(), 1);
                        view = members;
                    }
                }
                let others = || view.iter().copied().filter(|&id| id != 1);
                prop_assert_eq!(p.acked_by_all(), others().map(|id| p.peer(id).ack_round).fold(p.mine, u64::min));
                prop_assert_eq!(p.stable_mark(own), others().map(|id| p.peer(id).marks.done).fold(own, u64::min));
            }
        }
    }
}
