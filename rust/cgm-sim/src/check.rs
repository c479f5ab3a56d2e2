//! Invariant checkers, run as the simulation goes.
//!
//! - every member completes each sequence number at most once, in increasing order;
//! - members of the same view agree on every protocol they both completed
//!   (same proposal at the same sequence: total order; same outcome: agreement);
//! - members of the same view, idle at the same point of the order, hold the
//!   same parameters and generation;
//! - a status never claims an ACK round a member has not sent;
//! - validity: a parameter change commits only with an OK status from every
//!   member of its view (a failed apply, a veto or a lost member never commits);
//! - values follow the outcome: a member holds one set of values per
//!   parameter generation (so a rollback restores the exact old values), and
//!   at the end of a campaign every member has held the same values at every
//!   generation it saw (no member keeps a change the others undid); checked
//!   with quorum on, where generations cannot fork.
//!
//! - exactly once: a member completes each proposal at most once per
//!   incarnation, across state transfers;
//! - reported-outcome finality: every outcome any member reports to its host
//!   (`Completed`, `OutcomeLearned`) is the one every member reports for that
//!   sequence number and that proposal, at any time, across restarts and
//!   state transfers; so a proposal has at most one committed outcome
//!   cluster-wide.
//!
//! A member that takes a view's state by transfer (it was cut off from the
//! lineage) starts its sequence afresh for the order check, but what it
//! reported before stays reported: finality holds across the transfer.
//!
//! Outcomes are final within an *era*: the life of the cluster's state.
//! Without stable storage, the state lives in the members of the newest view
//! with quorum that were up in its incarnation when it was installed; once
//! every one of them crashed it is gone, and the next view with quorum
//! starts from older state or from sequence 0: a new era begins then. The
//! checker counts eras, so a run shows how often that happened. With stable
//! storage (a durable simulation) a crash loses no holder, only a wiped disk
//! does: so the era never changes, and every check above holds across every
//! crash, every member crashing at once included.

use cgm_core::AckStatus;
use cgm_core::{Member, NodeId, Outcome, Params, Phase, ProposalId, Status, ViewId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Simulated time in µs.
    pub at_us: u64,
    /// What broke.
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}.{:06}s: {}", self.at_us / 1_000_000, self.at_us % 1_000_000, self.what)
    }
}

/// What the checker remembers per node (current incarnation).
#[derive(Debug, Default, Clone)]
pub struct History {
    /// Outcomes by sequence number.
    pub outcomes: BTreeMap<u64, Outcome>,
    /// A hash of each outcome, compared cheaply between members.
    digests: BTreeMap<u64, u64>,
    last: u64,
    /// The values it held at each parameter generation.
    generations: BTreeMap<u64, Params>,
}

fn digest(o: &Outcome) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    o.hash(&mut h);
    h.finish()
}

/// The first report of an outcome, which every later report must equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reported {
    seq: u64,
    pid: ProposalId,
    committed: bool,
    generation: u64,
}

impl Reported {
    fn of(o: &Outcome) -> Reported {
        Reported { seq: o.seq, pid: o.pid, committed: o.committed, generation: o.generation }
    }
}

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.committed { "committed" } else { "not committed" };
        write!(f, "seq {} proposal {} {verdict} at generation {}", self.seq, self.pid, self.generation)
    }
}

/// The checker.
#[derive(Debug, Default)]
pub struct Checker {
    /// Per node.
    pub histories: BTreeMap<NodeId, History>,
    /// Outcomes superseded by a state transfer (allowed divergence, counted).
    pub superseded: u64,
    /// Highest sequence any member completed during the run.
    pub highest_seq: u64,
    /// Outcomes reported to hosts, by (era, sequence), with who reported first.
    by_seq: BTreeMap<(u64, u64), (Reported, NodeId)>,
    /// Outcomes reported to hosts, by (era, proposal), with who reported first.
    by_pid: BTreeMap<(u64, ProposalId), (Reported, NodeId)>,
    /// Proposals each live node completed in its current incarnation.
    ran: BTreeMap<NodeId, BTreeSet<ProposalId>>,
    /// The current era (see the module docs).
    pub era: u64,
    /// The newest view with quorum anyone installed, with its members'
    /// incarnations: a member restarted without its state may reuse a view
    /// id of its earlier life for another view.
    head: Option<(ViewId, Vec<Member>)>,
    /// Its members not crashed since (they hold its state, installed or
    /// only accepted).
    holders: BTreeSet<NodeId>,
}

impl Checker {
    /// A node (re)started: its history starts empty; `from_disk` when it
    /// restarted from its durable state, which still holds what it held.
    pub fn reset(&mut self, node: NodeId, from_disk: bool) {
        self.histories.insert(node, History::default());
        self.ran.remove(&node);
        if !from_disk {
            self.holders.remove(&node);
        }
    }

    /// A node crashed: whatever state it held is gone.
    pub fn crashed(&mut self, node: NodeId) {
        self.holders.remove(&node);
        self.ran.remove(&node);
    }

    /// A node installed a view with `members`; with quorum, its members hold
    /// the cluster's state, those of them that are `live` (running in the
    /// incarnation the view names: one that crashed before the view was
    /// installed never held it). A new view with quorum installed once every
    /// holder of the newest one crashed starts a new era. A view older than
    /// the newest, installed late (an ancestor a member had accepted), does
    /// not make its members holders of the newest state.
    pub fn installed(&mut self, view: ViewId, members: &[Member], quorum: bool, live: impl Fn(Member) -> bool) {
        if !quorum || self.head.as_ref().is_some_and(|(v, m)| *v == view && m == members) {
            return;
        }
        let lost = self.head.is_some() && self.holders.is_empty();
        if !lost && self.head.as_ref().is_some_and(|(head, _)| view < *head) {
            return;
        }
        if lost {
            self.era += 1;
        }
        self.head = Some((view, members.to_vec()));
        self.holders = members.iter().filter(|&&m| live(m)).map(|m| m.id).collect();
    }

    /// A node reported an outcome to its host (a protocol it completed, or
    /// the outcome of its own proposal learned later).
    ///
    /// # Errors
    /// Finality: another report of the same sequence number (this era) or the
    /// same proposal that differs.
    pub fn reported(&mut self, node: NodeId, o: &Outcome, at_us: u64) -> Result<(), Violation> {
        let r = Reported::of(o);
        let (first, by) = *self.by_pid.entry((self.era, r.pid)).or_insert((r, node));
        if first != r {
            return Err(Violation {
                at_us,
                what: format!("finality: node {node} reported {r}, but node {by} reported {first} (exactly once, one outcome)"),
            });
        }
        let (first, by) = *self.by_seq.entry((self.era, r.seq)).or_insert((r, node));
        if first.pid != r.pid {
            return Err(Violation { at_us, what: format!("total order: node {node} reported {r}, but node {by} reported {first}") });
        }
        if first != r {
            return Err(Violation { at_us, what: format!("finality: node {node} reported {r}, but node {by} reported {first}") });
        }
        Ok(())
    }

    /// A node took a view's state by transfer.
    pub fn transferred(&mut self, node: NodeId) {
        let h = self.histories.entry(node).or_default();
        self.superseded += h.outcomes.len() as u64;
        h.outcomes.clear();
        h.digests.clear();
        h.generations.clear();
        h.last = 0;
    }

    /// A node completed a protocol (call [`Checker::reported`] too).
    ///
    /// # Errors
    /// A second completion of the same sequence or the same proposal, or one
    /// out of order.
    pub fn completed(&mut self, node: NodeId, o: &Outcome, at_us: u64) -> Result<(), Violation> {
        let h = self.histories.entry(node).or_default();
        if o.seq <= h.last && h.outcomes.contains_key(&o.seq) {
            return Err(Violation { at_us, what: format!("node {node} completed seq {} twice", o.seq) });
        }
        if o.seq <= h.last {
            return Err(Violation { at_us, what: format!("node {node} completed seq {} after seq {}", o.seq, h.last) });
        }
        if cgm_core::ProtocolBody::moves_generation(&o.kind)
            && o.committed
            && !o.statuses.iter().all(|(_, s)| matches!(s, AckStatus::Ok(_)))
        {
            return Err(Violation { at_us, what: format!("validity: node {node} committed a change without every member's OK: {o:?}") });
        }
        if !self.ran.entry(node).or_default().insert(o.pid) {
            return Err(Violation {
                at_us,
                what: format!("exactly once: node {node} completed proposal {} a second time, at seq {}", o.pid, o.seq),
            });
        }
        h.last = o.seq;
        self.highest_seq = self.highest_seq.max(o.seq);
        h.outcomes.insert(o.seq, o.clone());
        h.digests.insert(o.seq, digest(o));
        Ok(())
    }

    /// Records the values each member holds at its generation and checks that
    /// a member never holds two sets of values at one generation (a rollback
    /// restores the exact old values, and the old key). Members in the
    /// middle of a change's local apply or a rotation's switch (round 2) hold
    /// the new values tentatively and are skipped.
    ///
    /// # Errors
    /// A member at a generation it held before, with other values.
    pub fn record_generations(&mut self, statuses: &[Status], at_us: u64) -> Result<(), Violation> {
        for s in statuses {
            if s.protocol.as_ref().is_some_and(|p| cgm_core::ProtocolBody::moves_generation(&p.kind) && p.round_index >= 1) {
                continue;
            }
            let h = self.histories.entry(s.node).or_default();
            let held = h.generations.entry(s.generation).or_insert_with(|| s.params.clone());
            if *held != s.params {
                return Err(Violation {
                    at_us,
                    what: format!(
                        "values do not follow the outcome: node {} held {held:?} at generation {} and now {:?}",
                        s.node, s.generation, s.params
                    ),
                });
            }
        }
        Ok(())
    }

    /// Checks that every member has held the same values at every generation
    /// it saw since it last started or took the lineage's state. A member cut
    /// off while alive may commit what the survivors abandoned (the blocking
    /// case of two rounds; see `cgm-model`), and the state transfer that lets
    /// it rejoin supersedes that: so this is a check for the end of a run,
    /// once every member has rejoined. Only the members of `nodes` (the
    /// node set) count: a node a change removed never rejoins, and what it
    /// decided alone is never superseded (nor told: it was never final).
    ///
    /// # Errors
    /// Two members that held different values at one generation.
    pub fn check_generations_agree(&self, nodes: &[NodeId], at_us: u64) -> Result<(), Violation> {
        let mut first: BTreeMap<u64, (NodeId, Params)> = BTreeMap::new();
        for (&node, h) in self.histories.iter().filter(|(id, _)| nodes.contains(id)) {
            for (&generation, values) in &h.generations {
                let (other, seen) = first.entry(generation).or_insert_with(|| (node, values.clone()));
                if seen != values {
                    return Err(Violation {
                        at_us,
                        what: format!(
                            "no member keeps a change another undid: generation {generation} is {seen:?} at node {other} but {values:?} at node {node}"
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks agreement, parameters and status consistency among the given
    /// live members' statuses.
    ///
    /// # Errors
    /// The first broken invariant.
    pub fn check(&self, statuses: &[Status], at_us: u64) -> Result<(), Violation> {
        let err = |what: String| Err(Violation { at_us, what });
        let acked: BTreeMap<NodeId, (u64, u64)> = statuses.iter().map(|s| (s.node, (s.inc, s.acked_round))).collect();
        let mut groups: BTreeMap<_, Vec<&Status>> = BTreeMap::new();
        for s in statuses {
            for p in &s.peers {
                if let Some(&(inc, round)) = acked.get(&p.id) {
                    if inc == p.inc && p.last_ack_round > round {
                        return err(format!(
                            "node {} reports last ACK round {} from node {}, which has ACKed only up to {}",
                            s.node, p.last_ack_round, p.id, round
                        ));
                    }
                }
            }
            if s.quorum && s.phase != Phase::ViewChange {
                groups.entry(s.view).or_default().push(s);
            }
        }
        for (view, members) in groups {
            let mut reference: BTreeMap<u64, (NodeId, u64)> = BTreeMap::new();
            for s in &members {
                let Some(h) = self.histories.get(&s.node) else { continue };
                for (seq, d) in &h.digests {
                    let Some(&(other, rd)) = reference.get(seq) else {
                        reference.insert(*seq, (s.node, *d));
                        continue;
                    };
                    if rd == *d {
                        continue;
                    }
                    let r = &self.histories[&other].outcomes[seq];
                    let o = &h.outcomes[seq];
                    if r.pid != o.pid {
                        return err(format!(
                            "total order broken in view {view}: seq {seq} is {} at node {other} but {} at node {}",
                            r.pid, o.pid, s.node
                        ));
                    }
                    return err(format!(
                        "agreement broken in view {view}: seq {seq} outcome at node {other} {r:?} differs from node {} {o:?}",
                        s.node
                    ));
                }
            }
            let idle: Vec<&&Status> = members.iter().filter(|s| s.phase == Phase::Idle && s.queued_protocols == 0).collect();
            for pair in idle.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if a.completed == b.completed && (a.params != b.params || a.generation != b.generation) {
                    return err(format!(
                        "parameters differ in view {view} at seq {}: node {} gen {} {:?} vs node {} gen {} {:?}",
                        a.completed, a.node, a.generation, a.params, b.node, b.generation, b.params
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V17: ViewId = ViewId { epoch: 17, leader: 1 };

    fn m(id: NodeId, inc: u64) -> Member {
        Member { id, inc }
    }

    /// Seed 8301454 at 3 members: leader 1 crashed while installing 17.1
    /// {1, 3}; 3 installed it, then crashed; 1, restarted, formed another
    /// 17.1 with every node (quorum without the lost state).
    #[test]
    fn a_view_id_reused_by_a_restarted_leader_for_another_view_starts_an_era_once_its_holders_crashed() {
        let mut c = Checker::default();
        c.installed(V17, &[m(1, 3), m(3, 2)], true, |_| true);
        c.crashed(1);
        c.crashed(3);
        c.installed(V17, &[m(1, 4), m(2, 2), m(3, 3)], true, |_| true);
        assert_eq!(c.era, 1);
        // Its other members installing it too is the same view.
        c.installed(V17, &[m(1, 4), m(2, 2), m(3, 3)], true, |_| true);
        assert_eq!(c.era, 1);
    }

    #[test]
    fn a_member_down_when_a_view_is_installed_never_holds_it() {
        let mut c = Checker::default();
        c.installed(V17, &[m(1, 3), m(3, 2)], true, |x| x.id != 1);
        c.crashed(3);
        c.installed(ViewId { epoch: 18, leader: 2 }, &[m(1, 4), m(2, 2), m(3, 3)], true, |_| true);
        assert_eq!(c.era, 1);
    }

    #[test]
    fn a_holder_alive_keeps_the_era() {
        let mut c = Checker::default();
        c.installed(V17, &[m(1, 3), m(3, 2)], true, |_| true);
        c.crashed(1);
        c.installed(ViewId { epoch: 18, leader: 2 }, &[m(2, 2), m(3, 2)], true, |_| true);
        assert_eq!(c.era, 0);
    }
}
