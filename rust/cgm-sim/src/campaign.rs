//! Seeded fault campaigns: per seed, a random fault mix and workload of
//! application protocols and parameter changes, then healing and a check that
//! everything converged and finished within a bound.
//!
//! The default campaign has a fixed group size; the *swarm*
//! ([`Campaign::swarm`]) also draws the group size and harsher fault rates,
//! and runs longer. Both draw every fault kind: loss, duplication, delay and
//! reordering, partitions of every shape (one member isolated, a majority and
//! a minority, a bridge member that reaches both sides, a one-way cut), crash
//! and restart, crashes aimed at each [`CrashPoint`], pauses, vetoes, held
//! locks, and a member whose local limit makes some changes fail its apply.

use crate::check::Violation;
use crate::crash::CrashPoint;
use crate::world::{checked_payload, Sim, SimConfig};
use cgm_core::{longest_readmission_backoff, view_change_timeout, NodeId, Param, Params, ProposalId, Resource, Time};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::RangeInclusive;
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
    /// Crash and restart of nodes, at random moments and at each crash point.
    pub crash: bool,
    /// Network partitions.
    pub partition: bool,
    /// Members paused (stopped) for a while, then resumed.
    pub pause: bool,
}

impl FaultKinds {
    /// Every fault kind.
    pub const ALL: FaultKinds = FaultKinds { loss: true, duplicate: true, reorder: true, crash: true, partition: true, pause: true };
    /// No faults.
    pub const NONE: FaultKinds = FaultKinds { loss: false, duplicate: false, reorder: false, crash: false, partition: false, pause: false };

    /// Parses a comma-separated list of `loss,dup,reorder,crash,partition,pause`, or `all` / `none`.
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
                "pause" => f.pause = true,
                other => {
                    return Err(format!("unknown fault kind {other:?}; known: all, none, loss, dup, reorder, crash, partition, pause"))
                }
            }
        }
        Ok(f)
    }

    /// The comma-separated form [`FaultKinds::parse`] reads.
    pub fn to_arg(self) -> String {
        let on = [
            (self.loss, "loss"),
            (self.duplicate, "dup"),
            (self.reorder, "reorder"),
            (self.crash, "crash"),
            (self.partition, "partition"),
            (self.pause, "pause"),
        ];
        let v: Vec<&str> = on.iter().filter(|(b, _)| *b).map(|(_, n)| *n).collect();
        if v.is_empty() {
            "none".into()
        } else {
            v.join(",")
        }
    }
}

/// A campaign's shape.
#[derive(Clone, Debug)]
pub struct Campaign {
    /// Group sizes drawn from, per seed.
    pub nodes: RangeInclusive<usize>,
    /// Faults drawn from.
    pub faults: FaultKinds,
    /// Simulated time of the faulty phase.
    pub duration: Duration,
    /// Whether parameter changes are mixed into the workload.
    pub changes: bool,
    /// Highest loss rate drawn.
    pub max_loss: f64,
    /// Highest duplication rate drawn.
    pub max_duplicate: f64,
    /// Whether members keep their state on their simulated disks; `None`:
    /// the odd seeds do, the even ones do not. Durable seeds also cut the
    /// power of every member at once, and aim crashes at the steps that
    /// persist state.
    pub durable: Option<bool>,
    /// Write each seed's history (see [`crate::history`]) to this file, or,
    /// when it is a directory, to `<seed>.jsonl` in it.
    pub history: Option<std::path::PathBuf>,
    /// A deliberately broken rule every node runs with.
    #[cfg(feature = "flaws")]
    pub flaw: Option<cgm_core::flaws::Flaw>,
}

impl Default for Campaign {
    fn default() -> Self {
        Campaign {
            nodes: 5..=5,
            faults: FaultKinds::ALL,
            duration: Duration::from_secs(20),
            changes: true,
            max_loss: 0.2,
            max_duplicate: 0.2,
            durable: None,
            history: None,
            #[cfg(feature = "flaws")]
            flaw: None,
        }
    }
}

impl Campaign {
    /// The fault swarm: 3 to 7 members, loss up to 30 %, duplication up to
    /// 50 %, 60 simulated seconds of faults.
    pub fn swarm() -> Campaign {
        Campaign { nodes: 3..=7, duration: Duration::from_secs(60), max_loss: 0.3, max_duplicate: 0.5, ..Campaign::default() }
    }
}

/// What one passing seed did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Members.
    pub nodes: usize,
    /// Trace hash (equal for two runs of the same seed).
    pub trace: u64,
    /// Protocols completed cluster-wide: the highest sequence any member
    /// completed during the run (the final state may hold fewer, when every
    /// member restarted since the last view with quorum, losing its state).
    pub protocols: u64,
    /// Parameter changes committed (final generation).
    pub generation: u64,
    /// Parameter changes and key rotations proposed and accepted for sequencing.
    pub changes_proposed: u64,
    /// Datagrams sealed under a key their receiver did not hold (a member
    /// back after missing a rotation, before it finds the new key).
    pub key_refused: u64,
    /// Simulated time.
    pub simulated: Duration,
    /// How many times each crash point fired, indexed as [`CrashPoint::ALL`].
    pub crash_points: [u64; CrashPoint::ALL.len()],
    /// Simulated time from healing to every member settled.
    pub settle: Duration,
    /// The bound `settle` was held to.
    pub settle_bound: Duration,
    /// Views installed per member over the run, all lives: the mean (in
    /// hundredths, to stay comparable and `Eq`) and the most any member installed.
    pub views_per_member_centi: u64,
    /// The most views one member installed over the run.
    pub views_most: u64,
    /// Times the cluster lost its state (every member of the newest view
    /// with quorum crashed; see `check.rs`): eras after the first.
    pub state_losses: u64,
}

/// Runs one seed of the campaign.
///
/// # Errors
/// The first broken invariant, or a liveness failure after healing.
pub fn run_seed(c: &Campaign, seed: u64) -> Result<SeedReport, Violation> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_c0de_cafe_f00d);
    let nodes = rng.gen_range(c.nodes.clone());
    let mut cfg = SimConfig::new(nodes, seed);
    let durable = c.durable.unwrap_or(seed % 2 == 1);
    // Two nodes outside the first node set, for node changes to add. Only
    // durable members change the node set: a member restarted without its
    // state knows only its configuration file's nodes, and a majority of
    // them restarted so can start the cluster afresh (a new era) while a
    // node the file does not list still holds the old one.
    let node_changes = c.changes && durable;
    cfg.spares = if node_changes { 2 } else { 0 };
    if c.faults.loss {
        cfg.faults.loss = rng.gen_range(0.0..c.max_loss);
    }
    if c.faults.duplicate {
        cfg.faults.duplicate = rng.gen_range(0.0..c.max_duplicate);
    }
    cfg.faults.min_delay = Duration::from_micros(50);
    cfg.faults.max_delay = if c.faults.reorder { Duration::from_micros(rng.gen_range(200..5_000)) } else { cfg.faults.min_delay };
    let max_delay = cfg.faults.max_delay;
    cfg.durable = durable;
    // A datagram under a key its receiver does not hold is dropped, as the
    // runtime does: rotations must not cost the group a member.
    cfg.strict_keys = true;
    // The points a volatile member reaches (the durable ones come last).
    let points = if durable { &CrashPoint::ALL[..] } else { &CrashPoint::ALL[..CrashPoint::ALL.len() - 2] };
    #[cfg(feature = "flaws")]
    {
        cfg.flaw = c.flaw;
    }
    if durable {
        // From a disk that syncs at once to one that takes milliseconds.
        cfg.disk_latency = Duration::from_micros(*[0, 100, 1_000, 5_000].choose(&mut rng).expect("not empty"));
    }
    let mut sim = Sim::new(cfg);
    if let Some(path) = &c.history {
        let path = if path.is_dir() { path.join(format!("{seed}.jsonl")) } else { path.clone() };
        let file = std::fs::File::create(&path)
            .map_err(|e| Violation { at_us: 0, what: format!("cannot write the history to {}: {e}", path.display()) })?;
        sim.history = crate::history::HistoryLog::to(Box::new(std::io::BufWriter::new(file)));
    }
    // One member cannot take fragments over 1200 bytes: changes above fail its apply.
    let limited: NodeId = rng.gen_range(1..=nodes as NodeId);
    sim.nodes[limited as usize - 1].host.limits.set(Param::MaxFragmentSize, 1_200);
    sim.restart_all_for_limits();

    let mut accepted: Vec<(NodeId, u64, ProposalId)> = Vec::new();
    let mut changes_proposed = 0;
    let mut rotations = 0;
    let mut restarts: Vec<(Time, NodeId)> = Vec::new();
    let mut heal_at: Option<Time> = None;
    let mut fired = 0;
    let end = sim.now + c.duration;
    sim.run_for(Duration::from_millis(500))?;
    while sim.now < end {
        let ids = sim.alive();
        // Nobody is up between a power cut and the first restart.
        if let Some(&who) = ids.choose(&mut rng) {
            // Crashes keep a majority of the node set up.
            let set: Vec<NodeId> = sim.node_set().ids().collect();
            let down = set.iter().filter(|&&id| !ids.contains(&id) || sim.armed(id).is_some()).count();
            let max_down = set.len().saturating_sub(1) / 2;
            let roll: f64 = rng.gen();
            if roll < 0.45 {
                let wait = match rng.gen_range(0..10) {
                    0 => Some(Resource::Lock("l".into())),
                    1 => Some(Resource::Job("j".into())),
                    2 | 3 => Some(Resource::Host),
                    _ => None,
                };
                let len = rng.gen_range(0..3_000);
                let payload = checked_payload(&mut rng, len);
                if let Ok(pid) = sim.propose_app(who, rng.gen_range(1..=3), wait, &payload) {
                    accepted.push((who, sim.nodes[who as usize - 1].inc, pid));
                }
            } else if roll < 0.47 && c.changes {
                // A key rotation; now and then one host lacks the key file
                // (the rotation is undone everywhere).
                rotations += 1;
                let key = crate::world::SIM_KEY + rotations;
                if rng.gen_bool(0.2) {
                    let lacking: NodeId = rng.gen_range(1..=nodes as NodeId);
                    sim.nodes[lacking as usize - 1].host.keys_missing.insert(key);
                }
                if let Ok(pid) = sim.propose_key_rotation(who, key) {
                    accepted.push((who, sim.nodes[who as usize - 1].inc, pid));
                    changes_proposed += 1;
                }
            } else if roll < 0.635 && node_changes {
                // A node change: a node outside the set joins, a member
                // leaves, or both; an added node starts afresh, knowing one
                // member to contact.
                let outside: Vec<NodeId> =
                    sim.ids().into_iter().filter(|id| !set.contains(id) && sim.nodes[*id as usize - 1].inc == 0).collect();
                let (mut add, mut remove) = (Vec::new(), Vec::new());
                match rng.gen_range(0..3) {
                    0 if !outside.is_empty() && set.len() < 7 => add.push(*outside.choose(&mut rng).expect("not empty")),
                    1 if set.len() > 3 => remove.push(*set.choose(&mut rng).expect("not empty")),
                    _ if !outside.is_empty() && set.len() > 3 => {
                        add.push(*outside.choose(&mut rng).expect("not empty"));
                        remove.push(*set.choose(&mut rng).expect("not empty"));
                    }
                    _ => {}
                }
                let change = cgm_core::NodeChange { add: add.iter().map(|&id| (id, String::new())).collect(), remove };
                if !add.is_empty() || !change.remove.is_empty() {
                    if let Ok(pid) = sim.propose_nodes(who, change) {
                        accepted.push((who, sim.nodes[who as usize - 1].inc, pid));
                        changes_proposed += 1;
                        for id in add {
                            let contact = *set.choose(&mut rng).expect("not empty");
                            restarts.retain(|&(_, r)| r != id);
                            sim.start_new(id, &[contact]);
                        }
                    }
                }
            } else if roll < 0.65 && c.changes {
                let change = random_change(&mut rng);
                if let Ok(pid) = sim.propose_change(who, &change) {
                    accepted.push((who, sim.nodes[who as usize - 1].inc, pid));
                    changes_proposed += 1;
                }
            } else if roll < 0.67 && c.faults.crash && down < max_down {
                sim.crash(who);
                restarts.push((sim.now + Duration::from_millis(rng.gen_range(300..3_000)), who));
            } else if roll < 0.70 && c.faults.crash && c.changes && down < max_down {
                // Aim a crash at one step of a change, and propose one to reach it.
                let point = *points.choose(&mut rng).expect("not empty");
                let lowest = sim.core(who).members().first().map_or(who, |m| m.id);
                let target = match point {
                    CrashPoint::SequencerFanout | CrashPoint::InstallFanout if ids.contains(&lowest) => lowest,
                    _ => who,
                };
                if point == CrashPoint::Round2FailedAckToSome {
                    sim.nodes[target as usize - 1].host.veto = Some("policy refuses".into());
                }
                sim.arm(target, point);
                let proposer = *ids.choose(&mut rng).expect("a node is alive");
                if let Ok(pid) = sim.propose_change(proposer, &random_change(&mut rng)) {
                    accepted.push((proposer, sim.nodes[proposer as usize - 1].inc, pid));
                    changes_proposed += 1;
                }
            } else if roll < 0.705 && c.faults.crash && durable {
                // A power cut: every member at once; each comes back from its disk.
                for id in ids {
                    sim.crash(id);
                    restarts.retain(|&(_, r)| r != id);
                    restarts.push((sim.now + Duration::from_millis(rng.gen_range(300..3_000)), id));
                }
            } else if roll < 0.72 && c.faults.partition && heal_at.is_none() {
                partition(&mut sim, &mut rng);
                heal_at = Some(sim.now + Duration::from_millis(rng.gen_range(300..3_000)));
            } else if roll < 0.73 && c.faults.pause {
                // Short pauses go unnoticed; long ones exceed failure detection.
                sim.pause(who, Duration::from_millis(rng.gen_range(20..1_500)));
            } else if roll < 0.75 {
                let n = &mut sim.nodes[who as usize - 1].host;
                n.veto = if n.veto.is_some() { None } else { Some("policy refuses".into()) };
            } else if roll < 0.77 {
                let n = &mut sim.nodes[who as usize - 1].host;
                if !n.locks_held.insert("l".into()) {
                    sim.release_lock(who, "l");
                }
            }
        }
        sim.run_for(Duration::from_millis(rng.gen_range(5..200)))?;
        for &(id, _) in &sim.crashed_at[fired..] {
            restarts.push((sim.now + Duration::from_millis(rng.gen_range(300..3_000)), id));
        }
        fired = sim.crashed_at.len();
        restarts.retain(|&(t, id)| {
            if t <= sim.now {
                // Now and then a durable member comes back with an empty
                // disk (replaced, or its damaged file moved away): a fresh
                // life that must not count for what the old one promised.
                if durable && !node_changes && rng.gen_bool(0.05) {
                    sim.wipe_disk(id);
                }
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
    sim.resume_all();
    for id in sim.ids() {
        sim.disarm(id);
        // The operator places the key files some hosts lacked: a member
        // away while the group rotated to one of them finds it now.
        sim.nodes[id as usize - 1].host.keys_missing.clear();
    }
    for &(id, _) in &sim.crashed_at[fired..] {
        restarts.push((sim.now, id));
    }
    for (_, id) in restarts {
        sim.restart(id);
    }
    for id in sim.node_set().ids() {
        if sim.nodes[id as usize - 1].core.is_none() {
            sim.restart(id);
        }
    }
    for id in sim.ids() {
        sim.nodes[id as usize - 1].host.veto = None;
        sim.release_lock(id, "l");
    }
    let healed = sim.now;
    let backlog = undecided(&sim, &accepted).count();
    let in_force: Vec<Params> = sim.alive().into_iter().map(|id| sim.status(id).params).collect();
    let bound = settle_bound(&in_force, nodes.max(sim.node_set().len()), max_delay, backlog);
    // Settled: the nodes of the node set form one view of exactly them, idle.
    let settled = sim.run_until(bound, |s| {
        let set: Vec<NodeId> = s.node_set().ids().collect();
        set.iter().all(|&id| {
            s.nodes[id as usize - 1].core.as_ref().is_some_and(|c| c.members().iter().map(|m| m.id).eq(set.iter().copied()) && c.is_idle())
        }) && undecided(s, &accepted).next().is_none()
    })?;
    let settle = Duration::from_micros(sim.now.0 - healed.0);
    sim.check()?;
    let set: Vec<NodeId> = sim.node_set().ids().collect();
    sim.checker.check_generations_agree(&set, sim.now.0)?;
    let set = sim.node_set();
    let statuses: Vec<_> = set.ids().filter(|&id| sim.nodes[id as usize - 1].core.is_some()).map(|id| sim.status(id)).collect();
    if !settled {
        let stuck: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
        let lost: Vec<String> = undecided(&sim, &accepted).map(|(id, _, pid)| format!("{pid} at node {id}")).collect();
        let down: Vec<String> = set
            .ids()
            .filter(|&id| sim.nodes[id as usize - 1].core.is_none())
            .map(|id| format!("node {id} down: {}", sim.nodes[id as usize - 1].refused.as_deref().unwrap_or("not restarted")))
            .collect();
        return Err(Violation {
            at_us: sim.now.0,
            what: format!(
                "liveness: not settled within {bound:?} of healing ({backlog} proposals pending then); proposals without outcome: {lost:?}; {down:?}\n{}",
                stuck.join("")
            ),
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
    let mut crash_points = [0; CrashPoint::ALL.len()];
    for (_, p) in &sim.crashed_at {
        crash_points[p.index()] += 1;
    }
    Ok(SeedReport {
        seed,
        nodes,
        trace: sim.trace_hash(),
        protocols: sim.checker.highest_seq,
        generation: first.generation,
        changes_proposed,
        key_refused: sim.key_refused,
        simulated: Duration::from_micros(sim.now.0),
        crash_points,
        settle,
        settle_bound: bound,
        views_per_member_centi: sim.nodes.iter().map(|n| n.views).sum::<u64>() * 100 / nodes as u64,
        views_most: sim.nodes.iter().map(|n| n.views).max().unwrap_or(0),
        state_losses: sim.checker.era,
    })
}

/// The accepted proposals whose proposer, still in the incarnation that
/// proposed them and in the node set, has no outcome for them yet (a
/// proposer that restarted since forgot its proposals, and one removed from
/// the cluster left it: nobody owes either an answer).
fn undecided<'a>(sim: &'a Sim, accepted: &'a [(NodeId, u64, ProposalId)]) -> impl Iterator<Item = &'a (NodeId, u64, ProposalId)> + 'a {
    let set = sim.node_set();
    accepted.iter().filter(move |(id, inc, pid)| {
        let n = &sim.nodes[*id as usize - 1];
        n.inc == *inc && !n.outcomes.contains_key(pid) && set.contains(*id)
    })
}

/// How long a healed cluster of `nodes` members may take to settle, held to
/// the slowest of the parameters its live members hold (`params`: a member
/// left out of the last changes still runs on its older values, and a member
/// restarted at the heal on the configured ones):
/// - the longest a message is retried, plus failure detection (a member that
///   restarted at the heal must be told apart from its previous life);
/// - a fence left by a view change that lost its leader runs out (twice the
///   view change timeout), and a view change with someone silent times out
///   once more before it goes on without it;
/// - a member excluded again and again during the faults is held out for its
///   readmission backoff (flap damping), at most the longest one;
/// - merges: the lowest coordinator merges every member it hears in one view
///   change, but members it has not heard yet join in later ones, and merged
///   groups merge again, so a probe interval and a few round trips for each
///   halving of the group, `log2(nodes)` of them;
/// - every protocol still pending at the heal run one after another (each at
///   most three rounds of a retried round trip and a local step).
pub fn settle_bound(params: &[Params], nodes: usize, max_delay: Duration, backlog: usize) -> Duration {
    let most = |param| params.iter().map(|p| p.get(param)).max().unwrap_or_else(|| Params::default().get(param));
    let ms = |param| Duration::from_millis(most(param));
    let longest = |f: fn(&Params) -> Duration| params.iter().map(f).max().unwrap_or_else(|| f(&Params::default()));
    let detection = ms(Param::HeartbeatAckTimeout).max(ms(Param::HeartbeatTimeout))
        + ms(Param::HeartbeatInterval) * most(Param::HeartbeatFailureThreshold).max(most(Param::HeartbeatAckFailureThreshold)) as u32;
    let round_trip = 2 * max_delay + ms(Param::MessageRetryTimer);
    let halvings = usize::BITS - nodes.max(1).leading_zeros();
    let merges = (ms(Param::HeartbeatInterval) + 5 * round_trip) * halvings;
    let per_protocol = 3 * round_trip + Duration::from_millis(1);
    ms(Param::MaxMessageRetryTime)
        + detection
        + 3 * longest(view_change_timeout)
        + longest(longest_readmission_backoff)
        + merges
        + 20 * round_trip
        + per_protocol * backlog as u32
}

/// Cuts the network in one of the shapes partitions take: one member
/// isolated, a majority and a minority, a bridge member that reaches two
/// sides that cannot reach each other, or one link cut one way.
fn partition(sim: &mut Sim, rng: &mut ChaCha8Rng) {
    let mut all = sim.ids();
    all.shuffle(rng);
    let n = all.len();
    match rng.gen_range(0..4) {
        0 => sim.net.partition(&[all[..1].to_vec(), all[1..].to_vec()]),
        1 => {
            let cut = rng.gen_range(1..n);
            sim.net.partition(&[all[..cut].to_vec(), all[cut..].to_vec()]);
        }
        2 if n >= 3 => {
            // all[0] is the bridge: in neither group, so it reaches both.
            let cut = rng.gen_range(2..n);
            sim.net.partition(&[all[1..cut].to_vec(), all[cut..].to_vec()]);
        }
        _ => sim.net.cut_one_way(all[0], all[1]),
    }
}

/// Simulator speed: `protocols` one-round application protocols proposed
/// round-robin by every member of a fault-free group of `nodes`, all at once.
/// `on_formed` sees the group once it formed one view, before the protocols,
/// and `on_done` two simulated seconds after every member completed them,
/// time for each to give back the room the burst took (the `cgm-sim` tool
/// measures memory at both). Returns the wall-clock time to run them on
/// every member.
///
/// # Errors
/// A broken invariant, or the protocols not completing.
pub fn throughput(
    nodes: usize,
    protocols: usize,
    on_formed: &mut dyn FnMut(&Sim),
    on_done: &mut dyn FnMut(&mut Sim),
) -> Result<Duration, Violation> {
    let mut sim = Sim::new(SimConfig::new(nodes, 0));
    let formed =
        sim.run_until(Duration::from_secs(60), |s| s.ids().iter().all(|&id| s.core(id).members().len() == nodes && s.core(id).is_idle()))?;
    if !formed {
        return Err(Violation { at_us: sim.now.0, what: format!("{nodes} nodes did not form one view") });
    }
    on_formed(&sim);
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
    let took = start.elapsed();
    sim.run_for(Duration::from_secs(2))?;
    on_done(&mut sim);
    Ok(took)
}

/// What one view change cost the network: datagrams and bytes sent (minus
/// the heartbeats an idle group sends in the same time) and how long it took.
#[derive(Clone, Copy, Debug)]
pub struct ViewChangeCost {
    /// Datagrams sent.
    pub datagrams: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// Simulated time from the trigger to every member installing the view.
    pub took: Duration,
}

/// The cost of two view changes in a fault-free group of `nodes` that formed
/// one view: the highest member leaving gracefully (the others install a view
/// without it), then that member restarting and being merged back.
///
/// # Errors
/// A broken invariant, or the group not forming or not settling.
pub fn view_change_cost(nodes: usize) -> Result<(ViewChangeCost, ViewChangeCost), Violation> {
    let mut sim = Sim::new(SimConfig::new(nodes, 0));
    let all = sim.ids();
    let one_view = |s: &Sim, ids: &[NodeId]| {
        let v = s.core(ids[0]).view_id();
        ids.iter().all(|&id| s.core(id).view_id() == v && s.core(id).members().len() == ids.len() && s.core(id).is_idle())
    };
    if !sim.run_until(Duration::from_secs(120), |s| one_view(s, &all))? {
        return Err(Violation { at_us: sim.now.0, what: format!("{nodes} nodes did not form one view") });
    }
    // The heartbeats of the idle group, to take off.
    sim.run_for(Duration::from_secs(1))?;
    let (sent, bytes, at) = (sim.net.sent, sim.net.bytes, sim.now);
    sim.run_for(Duration::from_secs(2))?;
    let per_us = |n: u64| n as f64 / (sim.now.0 - at.0) as f64;
    let (datagrams_rate, bytes_rate) = (per_us(sim.net.sent - sent), per_us(sim.net.bytes - bytes));
    let measure = |sim: &mut Sim, ids: &[NodeId], trigger: &dyn Fn(&mut Sim)| -> Result<ViewChangeCost, Violation> {
        let (sent, bytes, at) = (sim.net.sent, sim.net.bytes, sim.now);
        trigger(sim);
        if !sim.run_until(Duration::from_secs(60), |s| one_view(s, ids))? {
            return Err(Violation { at_us: sim.now.0, what: format!("{nodes} nodes: the view change did not complete") });
        }
        let us = (sim.now.0 - at.0) as f64;
        Ok(ViewChangeCost {
            datagrams: (sim.net.sent - sent).saturating_sub((datagrams_rate * us) as u64),
            bytes: (sim.net.bytes - bytes).saturating_sub((bytes_rate * us) as u64),
            took: Duration::from_micros(sim.now.0 - at.0),
        })
    };
    let last = nodes as NodeId;
    let leave = measure(&mut sim, &all[..nodes - 1], &|s| s.leave(last))?;
    let join = measure(&mut sim, &all, &|s| s.restart(last))?;
    sim.check()?;
    Ok((leave, join))
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
