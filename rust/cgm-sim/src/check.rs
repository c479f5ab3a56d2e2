//! Invariant checkers, run as the simulation goes.
//!
//! - every member completes each sequence number at most once, in increasing order;
//! - members of the same view agree on every protocol they both completed
//!   (same proposal at the same sequence: total order; same outcome: agreement);
//! - members of the same view, idle at the same point of the order, hold the
//!   same parameters and generation;
//! - a status never claims an ACK round a member has not sent.
//!
//! A member that takes a view's state by transfer (it was cut off from the
//! lineage) has its earlier outcomes superseded, as virtual synchrony allows.

use cgm_core::{NodeId, Outcome, Phase, Status};
use std::collections::BTreeMap;
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
}

fn digest(o: &Outcome) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{o:?}").hash(&mut h);
    h.finish()
}

/// The checker.
#[derive(Debug, Default)]
pub struct Checker {
    /// Per node.
    pub histories: BTreeMap<NodeId, History>,
    /// Outcomes superseded by a state transfer (allowed divergence, counted).
    pub superseded: u64,
}

impl Checker {
    /// A node (re)started: its history starts empty.
    pub fn reset(&mut self, node: NodeId) {
        self.histories.insert(node, History::default());
    }

    /// A node took a view's state by transfer.
    pub fn transferred(&mut self, node: NodeId) {
        let h = self.histories.entry(node).or_default();
        self.superseded += h.outcomes.len() as u64;
        h.outcomes.clear();
        h.digests.clear();
        h.last = 0;
    }

    /// A node completed a protocol.
    ///
    /// # Errors
    /// A second completion of the same sequence, or one out of order.
    pub fn completed(&mut self, node: NodeId, o: &Outcome, at_us: u64) -> Result<(), Violation> {
        let h = self.histories.entry(node).or_default();
        if o.seq <= h.last && h.outcomes.contains_key(&o.seq) {
            return Err(Violation { at_us, what: format!("node {node} completed seq {} twice", o.seq) });
        }
        if o.seq <= h.last {
            return Err(Violation { at_us, what: format!("node {node} completed seq {} after seq {}", o.seq, h.last) });
        }
        h.last = o.seq;
        h.outcomes.insert(o.seq, o.clone());
        h.digests.insert(o.seq, digest(o));
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
