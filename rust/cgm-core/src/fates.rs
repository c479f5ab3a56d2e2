//! The fates of decided proposals whose proposers may not know them yet: the
//! lineage's memory that makes every proposal run at most once, however many
//! protocols run while its proposer is cut off.
//!
//! A decided proposal is recorded here on every member that decides it, and
//! forgotten only once its proposer, as a member of the current view, says
//! it reported past it ([`crate::messages::Marks::told`]): from then on the
//! proposer holds the fate itself and never proposes it again. A view change
//! carries the whole table ([`crate::messages::NewView::fates`]), so a proposer
//! that rejoins learns the fate of each of its proposals, and a coordinator
//! refuses to sequence any proposal recorded here. The table holds, per
//! proposer, only what was decided since that proposer last reported: a
//! round trip's worth while it is a member, its outstanding proposals while
//! it is cut off.

use crate::ids::{NodeId, PidMap, ProposalId};
use crate::messages::Decided;
use crate::trim::Trim;
use std::collections::{BTreeMap, VecDeque};

/// The fates table (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct Fates {
    by_pid: PidMap<Decided>,
    /// Per proposer, its decided proposals by sequence number, oldest first.
    by_proposer: BTreeMap<NodeId, VecDeque<(u64, ProposalId)>>,
}

impl Fates {
    /// Records a decision (decisions arrive in sequence order).
    pub(crate) fn record(&mut self, d: Decided) {
        let pid = d.pid;
        let seq = d.seq;
        if self.by_pid.insert(pid, d).is_none() {
            let q = self.by_proposer.entry(pid.node).or_default();
            // Sequence order per proposer keeps `forget_upto` a pop from the front.
            let at = q.iter().rposition(|&(s, _)| s <= seq).map_or(0, |i| i + 1);
            q.insert(at, (seq, pid));
        }
    }

    /// The fate of `pid`, if it is recorded.
    pub(crate) fn get(&self, pid: ProposalId) -> Option<&Decided> {
        self.by_pid.get(&pid)
    }

    /// Forgets the proposals of `proposer` decided at or before `told`: it
    /// reported past them.
    pub(crate) fn forget_upto(&mut self, proposer: NodeId, told: u64) {
        let Some(q) = self.by_proposer.get_mut(&proposer) else { return };
        while q.front().is_some_and(|&(s, _)| s <= told) {
            let (_, pid) = q.pop_front().expect("checked above");
            self.by_pid.remove(&pid);
        }
        if q.is_empty() {
            self.by_proposer.remove(&proposer);
        }
    }

    /// Gives back room a burst of decisions left (see [`crate::trim`]).
    pub(crate) fn trim(&mut self) {
        self.by_pid.trim();
        for q in self.by_proposer.values_mut() {
            q.trim();
        }
    }

    /// Every recorded fate, in sequence order (for a view change).
    pub(crate) fn all(&self) -> Vec<Decided> {
        let mut v: Vec<Decided> = self.by_pid.values().cloned().collect();
        v.sort_by_key(|d| (d.seq, d.pid));
        v
    }

    /// Takes the lineage's table, as a view with quorum hands it.
    pub(crate) fn replace(&mut self, fates: &[Decided]) {
        *self = Fates::default();
        for d in fates {
            self.record(d.clone());
        }
    }

    /// How many fates are recorded.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_pid.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decided(node: NodeId, txid: u64, seq: u64) -> Decided {
        Decided { pid: ProposalId { node, txid }, seq, kind: "app".into(), committed: true, generation: 0 }
    }

    #[test]
    fn a_fate_is_kept_until_its_proposer_reported_past_it_however_many_others_are_decided() {
        let mut f = Fates::default();
        f.record(decided(2, 1, 5));
        for seq in 6..10_006 {
            f.record(decided(3, seq, seq));
            f.forget_upto(3, seq);
        }
        assert!(f.get(ProposalId { node: 2, txid: 1 }).is_some());
        f.forget_upto(2, 4);
        assert!(f.get(ProposalId { node: 2, txid: 1 }).is_some());
        f.forget_upto(2, 5);
        assert_eq!(f.len(), 0);
    }

    #[test]
    fn replace_takes_the_lineage_table_and_all_lists_it_in_order() {
        let mut f = Fates::default();
        f.record(decided(1, 1, 1));
        f.replace(&[decided(2, 9, 7), decided(3, 4, 3)]);
        let seqs: Vec<u64> = f.all().iter().map(|d| d.seq).collect();
        assert_eq!(seqs, vec![3, 7]);
        assert!(f.get(ProposalId { node: 1, txid: 1 }).is_none());
    }
}
