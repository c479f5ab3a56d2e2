//! The harness every simulator scenario shares: seeds, running until a
//! condition, settling, proposing, and what the members completed.
#![allow(dead_code, unused_imports)] // each test crate uses its own part

use cgm_core::{Error, NodeId, Outcome, Param, Phase, ProposalId, Resource, Status, Waiting};
use cgm_sim::{NetFaults, Sim, SimConfig, Violation};
use std::collections::BTreeMap;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

// ----- harness ---------------------------------------------------------------

/// A scenario's verdict for one seed: `Err` says what went wrong.
pub type Check = Result<(), String>;

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The seeds to run: `range`, or only `CGM_SEED` when it is set (to replay one).
pub fn seeds(range: Range<u64>) -> Vec<u64> {
    match std::env::var("CGM_SEED") {
        Ok(s) => vec![s.trim().parse().expect("CGM_SEED must be a number")],
        Err(_) => range.collect(),
    }
}

/// Runs `scenario` for every seed (a panic counts as a failure of its seed) and
/// fails the test with every failing seed and how to replay it.
pub fn for_each_seed(test: &str, range: Range<u64>, scenario: impl Fn(u64) -> Check) {
    let started = Instant::now();
    let mut failed = Vec::new();
    let list = seeds(range);
    for &seed in &list {
        let verdict = catch_unwind(AssertUnwindSafe(|| scenario(seed))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic".into());
            Err(format!("panicked: {msg}"))
        });
        if let Err(why) = verdict {
            eprintln!("{test}: seed {seed} FAILED: {why}");
            failed.push((seed, why));
        }
    }
    println!("{test}: {} seed(s) in {:?}", list.len(), started.elapsed());
    if !failed.is_empty() {
        let seeds: Vec<u64> = failed.iter().map(|f| f.0).collect();
        panic!(
            "{test}: {} of {} seed(s) failed: {seeds:?}\nfirst failure (seed {}): {}\n\
             replay: CGM_SEED={} CGM_SIM_VERBOSE=1 cargo test --release -p cgm-sim {test} -- --nocapture",
            failed.len(),
            list.len(),
            failed[0].0,
            failed[0].1,
            failed[0].0
        );
    }
}

/// Turns a checker violation into a verdict that shows the cluster.
pub fn vio<T>(sim: &Sim, r: Result<T, Violation>) -> Result<T, String> {
    r.map_err(|v| format!("invariant broken: {v}\n{}", dump(sim)))
}

/// Every live node's status table.
pub fn dump(sim: &Sim) -> String {
    let mut s = format!("-- cluster at {:?} (simulated)\n", Duration::from_micros(sim.now.0));
    for id in sim.alive() {
        s += &sim.status(id).to_string();
    }
    s
}

/// Runs until `done` holds; an error naming `what` if it does not within `limit`.
pub fn run_until(sim: &mut Sim, limit: Duration, what: &str, done: impl FnMut(&Sim) -> bool) -> Check {
    let r = sim.run_until(limit, done);
    let ok = vio(sim, r)?;
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: not reached within {limit:?}\n{}", dump(sim)))
    }
}

pub fn run_for(sim: &mut Sim, d: Duration) -> Check {
    let r = sim.run_for(d);
    vio(sim, r)
}

/// Whether the nodes `ids` (sorted) are alive and form exactly one view of
/// themselves, with quorum, idle, nothing queued.
pub fn settled(sim: &Sim, ids: &[NodeId]) -> bool {
    let Some(view) = sim.nodes[ids[0] as usize - 1].core.as_ref().map(|c| c.view_id()) else {
        return false;
    };
    ids.iter().all(|&id| {
        let Some(c) = sim.nodes[id as usize - 1].core.as_ref() else {
            return false;
        };
        c.view_id() == view
            && c.has_quorum()
            && c.members().len() == ids.len()
            && c.members().iter().zip(ids).all(|(m, &i)| m.id == i)
            && !sim.writing(id)
            && {
                let st = c.status(sim.now);
                st.phase == Phase::Idle && st.queued_protocols == 0
            }
    })
}

/// Whether every proposer holds the outcome of each of its proposals.
pub fn all_decided(sim: &Sim, props: &[(NodeId, ProposalId)]) -> bool {
    props.iter().all(|(id, pid)| sim.nodes[*id as usize - 1].outcomes.contains_key(pid))
}

/// Proposals whose proposer holds no outcome yet.
pub fn undecided(sim: &Sim, props: &[(NodeId, ProposalId)]) -> Vec<String> {
    props
        .iter()
        .filter(|(id, pid)| !sim.nodes[*id as usize - 1].outcomes.contains_key(pid))
        .map(|(id, pid)| format!("{pid}@{id}"))
        .collect()
}

/// Runs until `ids` form one settled view and every proposal has an outcome at its proposer.
pub fn settle(sim: &mut Sim, ids: &[NodeId], props: &[(NodeId, ProposalId)], limit: Duration, what: &str) -> Check {
    let r = sim.run_until(limit, |s| settled(s, ids) && all_decided(s, props));
    let ok = vio(sim, r)?;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what}: nodes {ids:?} not settled within {limit:?}; proposals without outcome: {:?}\n{}",
            undecided(sim, props),
            dump(sim)
        ))
    }
}

/// The outcome of `pid` in node `id`'s completion history (from its `Completed` events).
pub fn completed_outcome(sim: &Sim, id: NodeId, pid: ProposalId) -> Option<&Outcome> {
    sim.checker.histories.get(&id)?.outcomes.values().find(|o| o.pid == pid)
}

/// Every pair of `ids` agrees on every sequence number both completed (same
/// proposal, same outcome), and no proposal was completed at two positions.
pub fn histories_agree(sim: &Sim, ids: &[NodeId]) -> Check {
    let mut by_seq: BTreeMap<u64, (NodeId, &Outcome)> = BTreeMap::new();
    for &id in ids {
        let Some(h) = sim.checker.histories.get(&id) else {
            continue;
        };
        let mut seen = BTreeMap::new();
        for (seq, o) in &h.outcomes {
            if let Some(other) = seen.insert(o.pid, *seq) {
                return Err(format!("node {id} completed {} twice: at seq {other} and {seq}", o.pid));
            }
            match by_seq.get(seq) {
                None => {
                    by_seq.insert(*seq, (id, o));
                }
                Some((other, r)) if *r != o => {
                    return Err(format!("seq {seq} differs: node {other} has {r:?}, node {id} has {o:?}"));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Proposes an application protocol at `who`; retries a refusal for backpressure or no quorum for up to a second.
pub fn propose(sim: &mut Sim, who: NodeId, rounds: u8, wait: Option<Resource>, payload: &[u8]) -> Result<ProposalId, String> {
    for _ in 0..100 {
        match sim.propose_app(who, rounds, wait.clone(), payload) {
            Ok(pid) => return Ok(pid),
            // Refused for now: the sender's window is full, or the member is
            // out of a view with quorum (excluded under churn, until the next
            // merge takes it back); a host retries either later.
            Err(Error::Backpressure { .. } | Error::NoQuorum { .. }) => run_for(sim, ms(10))?,
            Err(e) => return Err(format!("node {who} refused a proposal: {e}\n{}", dump(sim))),
        }
    }
    Err(format!("node {who} refused a proposal for backpressure or no quorum for a second\n{}", dump(sim)))
}

/// A network with mild faults: some loss and duplication, delays of 0.1-3 ms.
pub fn mild() -> NetFaults {
    NetFaults { loss: 0.03, duplicate: 0.05, min_delay: Duration::from_micros(100), max_delay: ms(3) }
}

/// A 5-node cluster on `faults`, formed into one view.
pub fn formed(seed: u64, faults: NetFaults) -> Result<Sim, String> {
    let mut cfg = SimConfig::new(5, seed);
    cfg.faults = faults;
    formed_with(cfg)
}

/// A cluster of `cfg`, formed into one view.
pub fn formed_with(cfg: SimConfig) -> Result<Sim, String> {
    let mut sim = Sim::new(cfg);
    let all = sim.ids();
    settle(&mut sim, &all, &[], Duration::from_secs(30), "initial view")?;
    Ok(sim)
}

/// Proposes `n` one-round protocols from `from` (round robin) and waits until
/// `members` settled with every outcome at its proposer, committed.
pub fn run_protocols(sim: &mut Sim, from: &[NodeId], members: &[NodeId], n: usize, tag: &str) -> Result<Vec<(NodeId, ProposalId)>, String> {
    let mut props = Vec::new();
    for i in 0..n {
        let who = from[i % from.len()];
        let pid = propose(sim, who, 1, None, format!("{tag}-{i}").as_bytes())?;
        props.push((who, pid));
    }
    settle(sim, members, &props, Duration::from_secs(20), tag)?;
    for (id, pid) in &props {
        let o = &sim.nodes[*id as usize - 1].outcomes[pid];
        if !o.committed {
            return Err(format!("{tag}: {pid} did not commit: {o:?}"));
        }
        for &m in members {
            if completed_outcome(sim, m, *pid) != Some(o) {
                return Err(format!("{tag}: member {m} completed {pid} as {:?}, proposer {id} as {o:?}", completed_outcome(sim, m, *pid)));
            }
        }
    }
    Ok(props)
}

/// The state every member of a settled view must share.
pub fn same_state(sim: &Sim, ids: &[NodeId]) -> Check {
    let first = sim.status(ids[0]);
    for &id in &ids[1..] {
        let s = sim.status(id);
        if s.view != first.view || s.completed != first.completed || s.params != first.params || s.generation != first.generation {
            return Err(format!("state differs between node {} and node {id}:\n{first}{s}", ids[0]));
        }
    }
    Ok(())
}

/// No proposal ran at two positions of the order, on any member (what the
/// members completed since their last state transfer).
pub fn exactly_once(sim: &Sim, ids: &[NodeId]) -> Check {
    let mut at: BTreeMap<ProposalId, (u64, NodeId)> = BTreeMap::new();
    for &id in ids {
        for (seq, o) in &sim.checker.histories[&id].outcomes {
            match at.get(&o.pid) {
                Some(&(s, other)) if s != *seq => {
                    return Err(format!(
                        "proposal {} ran twice: as seq {s} (node {other}: {:?}) and as seq {seq} (node {id}: {o:?})",
                        o.pid, sim.checker.histories[&other].outcomes[&s]
                    ))
                }
                _ => {
                    at.insert(o.pid, (*seq, id));
                }
            }
        }
    }
    Ok(())
}
