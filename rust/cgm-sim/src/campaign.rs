//! Seeded fault campaigns: per seed, a random fault mix and workload of
//! application protocols and parameter changes, then healing and a check that
//! everything converged and finished.

use crate::check::Violation;
use crate::world::{Sim, SimConfig};
use cgm_core::{NodeId, Param, ProposalId, Resource};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Duration;

/// Which faults a campaign draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultKinds {
    /// Datagram loss.
    pub loss: bool,
    /// Datagram duplication.
    pub duplicate: bool,
    /// Variable delay, so datagrams overtake each other.
    pub reorder: bool,
    /// Crash and restart of nodes.
    pub crash: bool,
    /// Network partitions.
    pub partition: bool,
}

impl FaultKinds {
    /// Every fault kind.
    pub const ALL: FaultKinds = FaultKinds { loss: true, duplicate: true, reorder: true, crash: true, partition: true };
    /// No faults.
    pub const NONE: FaultKinds = FaultKinds { loss: false, duplicate: false, reorder: false, crash: false, partition: false };

    /// Parses a comma-separated list of `loss,dup,reorder,crash,partition`, or `all` / `none`.
    ///
    /// # Errors
    /// The unknown word.
    pub fn parse(s: &str) -> Result<FaultKinds, String> {
        let mut f = FaultKinds::NONE;
        for w in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match w {
                "all" => f = FaultKinds::ALL,
                "none" => f = FaultKinds::NONE,
                "loss" => f.loss = true,
                "dup" | "duplicate" => f.duplicate = true,
                "reorder" | "delay" => f.reorder = true,
                "crash" => f.crash = true,
                "partition" => f.partition = true,
                other => return Err(format!("unknown fault kind {other:?}; known: all, none, loss, dup, reorder, crash, partition")),
            }
        }
        Ok(f)
    }
}

/// A campaign's shape.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Nodes per run.
    pub nodes: usize,
    /// Faults drawn from.
    pub faults: FaultKinds,
    /// Simulated time of the faulty phase.
    pub duration: Duration,
    /// Whether parameter changes are mixed into the workload.
    pub changes: bool,
}

impl Default for Campaign {
    fn default() -> Self {
        Campaign { nodes: 5, faults: FaultKinds::ALL, duration: Duration::from_secs(20), changes: true }
    }
}

/// What one passing seed did.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Trace hash (equal for two runs of the same seed).
    pub trace: u64,
    /// Protocols completed cluster-wide (highest sequence).
    pub protocols: u64,
    /// Parameter changes committed (final generation).
    pub generation: u64,
    /// Simulated seconds.
    pub simulated: Duration,
}

/// Runs one seed of the campaign.
///
/// # Errors
/// The first broken invariant, or a liveness failure after healing.
pub fn run_seed(c: &Campaign, seed: u64) -> Result<SeedReport, Violation> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de_cafe_f00d);
    let mut cfg = SimConfig::new(c.nodes, seed);
    if c.faults.loss {
        cfg.faults.loss = rng.gen_range(0.0..0.2);
    }
    if c.faults.duplicate {
        cfg.faults.duplicate = rng.gen_range(0.0..0.2);
    }
    cfg.faults.min_delay = Duration::from_micros(50);
    cfg.faults.max_delay = if c.faults.reorder { Duration::from_micros(rng.gen_range(200..5_000)) } else { cfg.faults.min_delay };
    let mut sim = Sim::new(cfg);
    // One member cannot take fragments over 1200 bytes: changes above fail its apply.
    let limited: NodeId = rng.gen_range(1..=c.nodes as NodeId);
    sim.nodes[limited as usize - 1].host.limits.set(Param::MaxFragmentSize, 1_200);
    sim.restart_all_for_limits();

    let mut accepted: Vec<(NodeId, u64, ProposalId)> = Vec::new();
    let mut restarts: Vec<(cgm_core::Time, NodeId)> = Vec::new();
    let mut heal_at: Option<cgm_core::Time> = None;
    let max_down = (c.nodes - 1) / 2;
    let end = sim.now + c.duration;
    sim.run_for(Duration::from_millis(500))?;
    while sim.now < end {
        let ids = sim.alive();
        let who = *ids.choose(&mut rng).expect("a node is alive");
        let roll: f64 = rng.gen();
        if roll < 0.45 {
            let wait = match rng.gen_range(0..10) {
                0 => Some(Resource::Lock("l".into())),
                1 => Some(Resource::Job("j".into())),
                2 => Some(Resource::Host),
                _ => None,
            };
            if let Ok(pid) = sim.propose_app(who, rng.gen_range(1..=3), wait, &[1, 2, 3]) {
                accepted.push((who, sim.nodes[who as usize - 1].inc, pid));
            }
        } else if roll < 0.65 && c.changes {
            let change = random_change(&mut rng);
            if let Ok(pid) = sim.propose_change(who, &change) {
                accepted.push((who, sim.nodes[who as usize - 1].inc, pid));
            }
        } else if roll < 0.68 && c.faults.crash && sim.alive().len() > c.nodes - max_down {
            sim.crash(who);
            restarts.push((sim.now + Duration::from_millis(rng.gen_range(300..3_000)), who));
        } else if roll < 0.70 && c.faults.partition && heal_at.is_none() {
            let mut all = sim.ids();
            all.shuffle(&mut rng);
            let cut = rng.gen_range(1..c.nodes);
            if rng.gen_bool(0.2) {
                sim.net.cut_one_way(all[0], all[1]);
            } else {
                sim.net.partition(&[all[..cut].to_vec(), all[cut..].to_vec()]);
            }
            heal_at = Some(sim.now + Duration::from_millis(rng.gen_range(300..3_000)));
        } else if roll < 0.72 {
            let n = &mut sim.nodes[who as usize - 1].host;
            n.veto = if n.veto.is_some() { None } else { Some("policy refuses".into()) };
        } else if roll < 0.74 {
            let n = &mut sim.nodes[who as usize - 1].host;
            if !n.locks_held.insert("l".into()) {
                sim.release_lock(who, "l");
            }
        }
        sim.run_for(Duration::from_millis(rng.gen_range(5..200)))?;
        restarts.retain(|&(t, id)| {
            if t <= sim.now {
                sim.restart(id);
                false
            } else {
                true
            }
        });
        if heal_at.is_some_and(|t| t <= sim.now) {
            sim.net.heal();
            heal_at = None;
        }
    }
    // Heal everything and let the cluster settle.
    sim.net.heal();
    sim.net.faults = crate::net::NetFaults::none();
    for (_, id) in restarts {
        sim.restart(id);
    }
    for id in sim.ids() {
        sim.nodes[id as usize - 1].host.veto = None;
        sim.release_lock(id, "l");
    }
    let n = c.nodes;
    let settled = sim.run_until(Duration::from_secs(60), |s| {
        s.alive().iter().all(|&id| {
            let core = s.core(id);
            core.members().len() == n && core.is_idle()
        }) && accepted.iter().all(|(id, inc, pid)| {
            s.nodes[*id as usize - 1].inc != *inc || s.nodes[*id as usize - 1].outcomes.contains_key(pid)
        })
    })?;
    sim.check()?;
    let statuses: Vec<_> = sim.alive().into_iter().map(|id| sim.status(id)).collect();
    if !settled {
        let stuck: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
        let lost: Vec<String> = accepted
            .iter()
            .filter(|(id, inc, pid)| sim.nodes[*id as usize - 1].inc == *inc && !sim.nodes[*id as usize - 1].outcomes.contains_key(pid))
            .map(|(id, _, pid)| format!("{pid} at node {id}"))
            .collect();
        return Err(Violation {
            at_us: sim.now.0,
            what: format!("liveness: not settled 60s after healing; proposals without outcome: {lost:?}\n{}", stuck.join("")),
        });
    }
    let first = &statuses[0];
    for s in &statuses[1..] {
        if s.params != first.params || s.generation != first.generation || s.completed != first.completed {
            return Err(Violation {
                at_us: sim.now.0,
                what: format!("final state differs: node {} {s}\nnode {} {first}", s.node, first.node),
            });
        }
    }
    Ok(SeedReport {
        seed,
        trace: sim.trace_hash(),
        protocols: first.completed,
        generation: first.generation,
        simulated: Duration::from_micros(sim.now.0),
    })
}

/// Simulator speed: `protocols` one-round application protocols proposed
/// round-robin by every member of a fault-free group of `nodes`, all at once.
/// Returns the wall-clock time to run them on every member.
///
/// # Errors
/// A broken invariant, or the protocols not completing.
pub fn throughput(nodes: usize, protocols: usize) -> Result<Duration, Violation> {
    let mut sim = Sim::new(SimConfig::new(nodes, 0));
    let formed = sim.run_until(Duration::from_secs(60), |s| s.ids().iter().all(|&id| s.core(id).members().len() == nodes && s.core(id).is_idle()))?;
    if !formed {
        return Err(Violation { at_us: sim.now.0, what: format!("{nodes} nodes did not form one view") });
    }
    let start = std::time::Instant::now();
    for i in 0..protocols {
        let id = (i % nodes) as NodeId + 1;
        sim.propose_app(id, 1, None, b"x").map_err(|e| Violation { at_us: sim.now.0, what: e.to_string() })?;
    }
    let target = sim.core(1).completed() + protocols as u64;
    let done = sim.run_until(Duration::from_secs(600), |s| s.ids().iter().all(|&id| s.core(id).completed() >= target))?;
    if !done {
        return Err(Violation { at_us: sim.now.0, what: "protocols did not complete".into() });
    }
    sim.check()?;
    Ok(start.elapsed())
}

/// A random change: mostly valid, sometimes over the limited member's limit.
fn random_change(rng: &mut ChaCha8Rng) -> Vec<(Param, u64)> {
    match rng.gen_range(0..6) {
        0 => vec![(Param::SendWindowSize, rng.gen_range(8..=128))],
        1 => vec![(Param::MessageRetryTimer, rng.gen_range(10..=40))],
        2 => vec![(Param::MaxFragmentSize, rng.gen_range(600..=1_400))],
        3 => vec![(Param::SendQueueOverflowThreshold, rng.gen_range(1_000..=20_000))],
        4 => vec![(Param::HeartbeatFailureThreshold, rng.gen_range(2..=5))],
        _ => {
            let i = rng.gen_range(60..=150);
            vec![(Param::HeartbeatInterval, i), (Param::HeartbeatTimeout, i * 3), (Param::HeartbeatAckTimeout, i * 3)]
        }
    }
}
