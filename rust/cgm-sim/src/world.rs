//! The simulated world: many cores on one virtual clock, a faulty network,
//! hosts that answer local waits, and the checker run after every step.

use crate::check::{Checker, Violation};
use crate::crash::{self, CrashPoint, Seen};
use crate::disk::{Disk, PERSIST_STEPS};
use crate::history::HistoryLog;
use crate::net::{Net, NetFaults};
use cgm_core::{
    AppProtocol, Config, Core, Dest, Error, Event, LocalLimits, Member, NodeId, Outcome, Param, Params, ProposalId, Resource, Status, Time,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::hash::{Hash, Hasher};
use std::time::Duration;

/// How a simulated cluster is set up.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Number of nodes in the cluster's first node set (ids 1..=nodes).
    pub nodes: usize,
    /// Nodes beyond those (ids nodes+1..=nodes+spares), not started: a node
    /// change adds them, and [`Sim::start_new`] starts them.
    pub spares: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Whether views need a majority.
    pub quorum: bool,
    /// Initial parameters of every node.
    pub params: Params,
    /// Network faults.
    pub faults: NetFaults,
    /// Whether hosts answer a veto hook.
    pub veto_hook: bool,
    /// Simulated time between full invariant checks.
    pub check_every: Duration,
    /// Whether every node keeps its state on its simulated disk
    /// ([`crate::disk`]) and restarts from it.
    pub durable: bool,
    /// How long a write of the state takes (a durable node is blocked
    /// meanwhile, as a host that syncs on its protocol thread is); zero
    /// writes at once.
    pub disk_latency: Duration,
    /// Whether a datagram sealed under a key its receiver does not accept
    /// (nor retired less than [`KEY_GRACE`] ago) is dropped, as the runtime
    /// refuses it; either way it is counted in [`Sim::key_refused`].
    pub strict_keys: bool,
    /// A deliberately broken rule every node runs with (see `cgm-core`'s flaws.rs).
    #[cfg(feature = "flaws")]
    pub flaw: Option<cgm_core::flaws::Flaw>,
}

/// How long a host still accepts a key its core stopped accepting (the
/// runtime's grace for datagrams on their way).
pub const KEY_GRACE: Duration = Duration::from_secs(3);
/// Where every simulated host keeps the key of `fingerprint`.
fn key_path(fingerprint: u64) -> String {
    format!("/etc/cgm/{fingerprint:016x}.key")
}

/// The fingerprint of the key every simulated node is configured with.
pub const SIM_KEY: u64 = 0x5eed_0000_0000_0001;

impl SimConfig {
    /// `nodes` nodes, fast heartbeat parameters, a perfect network.
    pub fn new(nodes: usize, seed: u64) -> SimConfig {
        SimConfig {
            nodes,
            spares: 0,
            seed,
            quorum: true,
            params: sim_params(),
            faults: NetFaults::none(),
            veto_hook: true,
            check_every: Duration::from_millis(100),
            durable: false,
            disk_latency: Duration::ZERO,
            strict_keys: false,
            #[cfg(feature = "flaws")]
            flaw: None,
        }
    }
}

/// Whether hosts write the state behind, without waiting for it (the host
/// side of the `send-before-persist` flaw); a correct host blocks.
fn background_writes(cfg: &SimConfig) -> bool {
    #[cfg(feature = "flaws")]
    return cfg.flaw == Some(cgm_core::flaws::Flaw::SendBeforePersist);
    #[cfg(not(feature = "flaws"))]
    {
        let _ = cfg;
        false
    }
}

/// Parameters that make simulated failures detected in well under a second.
pub fn sim_params() -> Params {
    Params::default()
        .with_changes(&[
            (Param::HeartbeatInterval, 100),
            (Param::HeartbeatTimeout, 300),
            (Param::HeartbeatAckTimeout, 300),
            (Param::MessageRetryTimer, 20),
            (Param::MaxMessageRetryTime, 1_000),
        ])
        .expect("valid simulator parameters")
        .with_key(SIM_KEY)
}

/// What a simulated host does with local waits.
#[derive(Debug, Default, Clone)]
pub struct Host {
    /// Locks held by "another thread" of the host: waits on them stay pending.
    pub locks_held: BTreeSet<String>,
    /// Jobs that cannot start yet: waits on them stay pending.
    pub jobs_blocked: BTreeSet<String>,
    /// When set, the veto hook refuses every change with this reason.
    pub veto: Option<String>,
    /// Delay before the host completes a wait.
    pub delay: Duration,
    /// Waits queued behind a held lock or blocked job.
    pub queued: Vec<(u64, Resource)>,
    /// Fingerprints of keys whose file this host lacks: a rotation to one
    /// fails its first round here.
    pub keys_missing: BTreeSet<u64>,
    /// Local limits given to the node at (re)start.
    pub limits: LocalLimits,
}

/// One simulated node.
pub struct SimNode {
    /// Its core, `None` while crashed.
    pub core: Option<Core>,
    /// Its current incarnation.
    pub inc: u64,
    /// The node ids its configuration file lists (itself included): the
    /// first node set, or the nodes a new node contacts first.
    pub configured: Vec<NodeId>,
    /// Its core told it a node change removed it (this life).
    pub removed: bool,
    /// It was started to join the cluster that exists (`Config::joins`).
    pub joins: bool,
    /// Its host.
    pub host: Host,
    /// Status answers received, by request.
    pub replies: BTreeMap<u64, Status>,
    /// Suspicions raised by this node (current incarnation).
    pub suspicions: Vec<(NodeId, String)>,
    /// Outcomes of this node's own proposals.
    pub outcomes: BTreeMap<ProposalId, Outcome>,
    /// Views it installed, over all its lives (churn: each one is a view
    /// change it took part in).
    pub views: u64,
    deadline: Option<Time>,
    /// Paused (stopped, as by SIGSTOP or a long GC) until this time: what
    /// reaches it meanwhile waits, its timers fire late.
    paused_until: Option<Time>,
    /// The crash point it is armed with, and what it was at its last step.
    armed: Option<(CrashPoint, Seen)>,
    /// Its host answered its last local step with a failure (a veto).
    failed_step: bool,
    /// Its disk (used when the simulation is durable).
    pub disk: Disk,
    /// Why its last restart was refused (a damaged state file): it stays down.
    pub refused: Option<String>,
    /// The keys its host accepts datagrams under: its core's, and those
    /// the core stopped accepting, until their grace ends.
    keys: Vec<(u64, Option<Time>)>,
    /// The key each node was last heard under: datagrams to it go under
    /// that key while this node's core accepts it (link by link, as the
    /// runtime seals them).
    heard: BTreeMap<NodeId, (u64, Time)>,
    /// Datagrams sealed to each node (which key to try for one not heard lately).
    probes: BTreeMap<NodeId, u64>,
    /// A write of its state in progress: when it completes, the bytes, and
    /// the datagrams of the step that wait for it (`None`: a write in the
    /// background, which nothing waits for).
    writing: Option<(Time, Vec<u8>, Option<Vec<cgm_core::Transmit>>)>,
}

/// The simulated world.
pub struct Sim {
    /// Its configuration.
    pub cfg: SimConfig,
    /// The seeded generator behind every random choice.
    pub rng: ChaCha8Rng,
    /// Virtual clock.
    pub now: Time,
    /// The network.
    pub net: Net,
    /// Nodes, index `id - 1`.
    pub nodes: Vec<SimNode>,
    /// The checker.
    pub checker: Checker,
    timers: BinaryHeap<Reverse<(Time, NodeId)>>,
    host_actions: BinaryHeap<Reverse<(Time, u64, NodeId, u64, Result<Vec<u8>, String>)>>,
    action_order: u64,
    /// State writes in progress, by completion time.
    writes: BinaryHeap<Reverse<(Time, NodeId)>>,
    next_check: Time,
    trace: std::collections::hash_map::DefaultHasher,
    /// Steps taken.
    pub steps: u64,
    /// Print every event (for replaying a failing seed).
    pub verbose: bool,
    /// Outcomes reported to hosts (`Completed` events), all nodes.
    pub reports: u64,
    /// Crash points that fired, in order: the node and the point.
    pub crashed_at: Vec<(NodeId, CrashPoint)>,
    /// Every host-visible event, as JSON Lines, when switched on.
    pub history: HistoryLog,
    /// Datagrams sealed under a key their receiver did not accept (dropped
    /// when [`SimConfig::strict_keys`]).
    pub key_refused: u64,
    /// Keys members took from their hosts' key files on meeting a datagram
    /// they could not open (a member that missed a rotation; never needed
    /// by members that took part in every rotation).
    pub key_adopted: u64,
}

impl Sim {
    /// Builds and starts every node at time 0.
    pub fn new(cfg: SimConfig) -> Sim {
        let mut sim = Sim {
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            now: Time(0),
            net: Net::new(cfg.faults.clone()),
            nodes: Vec::new(),
            checker: Checker::default(),
            timers: BinaryHeap::new(),
            host_actions: BinaryHeap::new(),
            action_order: 0,
            writes: BinaryHeap::new(),
            next_check: Time(0),
            trace: Default::default(),
            steps: 0,
            verbose: std::env::var_os("CGM_SIM_VERBOSE").is_some(),
            reports: 0,
            crashed_at: Vec::new(),
            history: HistoryLog::default(),
            key_refused: 0,
            key_adopted: 0,
            cfg,
        };
        let first: Vec<NodeId> = (1..=sim.cfg.nodes as NodeId).collect();
        for _ in sim.ids() {
            sim.nodes.push(SimNode {
                core: None,
                inc: 0,
                configured: first.clone(),
                removed: false,
                joins: false,
                host: Host { delay: Duration::from_millis(1), ..Host::default() },
                replies: BTreeMap::new(),
                suspicions: Vec::new(),
                outcomes: BTreeMap::new(),
                views: 0,
                deadline: None,
                paused_until: None,
                armed: None,
                failed_step: false,
                disk: Disk::default(),
                refused: None,
                keys: Vec::new(),
                heard: BTreeMap::new(),
                probes: BTreeMap::new(),
                writing: None,
            });
        }
        for &id in &first {
            sim.restart(id);
        }
        sim
    }

    /// All node ids, spares included.
    pub fn ids(&self) -> Vec<NodeId> {
        (1..=(self.cfg.nodes + self.cfg.spares) as NodeId).collect()
    }

    /// Starts node `id` afresh (an empty disk) with a configuration that
    /// lists `seeds` and itself: a node a node change added, or one added
    /// again after its removal.
    pub fn start_new(&mut self, id: NodeId, seeds: &[NodeId]) {
        if self.nodes[id as usize - 1].core.is_some() {
            self.crash(id);
        }
        let n = self.node(id);
        n.configured = seeds.iter().copied().chain([id]).collect::<BTreeSet<_>>().into_iter().collect();
        n.joins = true;
        self.wipe_disk(id);
        self.restart(id);
    }

    /// The node set the cluster committed last, as the live node furthest
    /// along (generation, then protocols completed) holds it.
    pub fn node_set(&self) -> cgm_core::Roster {
        let newest = self.alive().into_iter().map(|id| self.core(id)).max_by_key(|c| (c.generation(), c.completed()));
        newest.map(|c| c.params().nodes().clone()).unwrap_or_default()
    }

    /// Ids of nodes not crashed.
    pub fn alive(&self) -> Vec<NodeId> {
        self.ids().into_iter().filter(|&id| self.nodes[id as usize - 1].core.is_some()).collect()
    }

    /// The node's core. Panics if it is crashed.
    pub fn core(&self, id: NodeId) -> &Core {
        self.nodes[id as usize - 1].core.as_ref().expect("node is alive")
    }

    fn node(&mut self, id: NodeId) -> &mut SimNode {
        &mut self.nodes[id as usize - 1]
    }

    /// Whether the node is blocked on a write of its state: what its last
    /// step decided is not yet handed out (to the network or its host).
    pub fn writing(&self, id: NodeId) -> bool {
        self.nodes[id as usize - 1].writing.as_ref().is_some_and(|w| w.2.is_some())
    }

    /// The node's status, taken locally.
    pub fn status(&self, id: NodeId) -> Status {
        self.core(id).status(self.now)
    }

    /// A hash of everything that happened: equal for two runs of the same seed.
    pub fn trace_hash(&self) -> u64 {
        self.trace.finish()
    }

    /// Restarts every node so new host limits take effect (before any traffic).
    pub fn restart_all_for_limits(&mut self) {
        for id in self.alive() {
            self.nodes[id as usize - 1].inc = 0;
            self.nodes[id as usize - 1].disk.wipe();
            self.restart(id);
        }
    }

    /// Crashes a node: it stops at once; its state is gone, but for what its
    /// disk holds in a durable simulation.
    pub fn crash(&mut self, id: NodeId) {
        if !self.cfg.durable {
            self.checker.crashed(id);
        }
        let (now, inc) = (self.now.0, self.nodes[id as usize - 1].inc);
        self.history.life(now, id, inc, false);
        let n = &mut self.nodes[id as usize - 1];
        if let Some((_, bytes, _)) = n.writing.take() {
            // Cut short: the write got through some of its steps.
            n.disk.persist(bytes, self.rng.gen_range(0..PERSIST_STEPS));
        }
        n.disk.crash(&mut self.rng);
        n.core = None;
        n.deadline = None;
        n.paused_until = None;
        n.armed = None;
        (id, self.now, "crash").hash(&mut self.trace);
    }

    /// Arms a node with a crash point: it crashes when it next reaches it
    /// (see [`crate::crash`]). Replaces an earlier arming.
    pub fn arm(&mut self, id: NodeId, point: CrashPoint) {
        let now = self.now;
        let n = self.node(id);
        if let Some(core) = n.core.as_ref() {
            n.armed = Some((point, Seen::of(&core.status(now))));
            (id, now, point).hash(&mut self.trace);
        }
    }

    /// Disarms a node armed with a crash point.
    pub fn disarm(&mut self, id: NodeId) {
        self.node(id).armed = None;
    }

    /// The crash point a node is armed with, if any.
    pub fn armed(&self, id: NodeId) -> Option<CrashPoint> {
        self.nodes[id as usize - 1].armed.map(|(p, _)| p)
    }

    /// Pauses a live node for `d`: it takes no step until then, and what
    /// reaches it meanwhile is handled when it resumes.
    pub fn pause(&mut self, id: NodeId, d: Duration) {
        let until = self.now + d;
        let n = self.node(id);
        if n.core.is_some() {
            n.paused_until = Some(until);
            (id, until, "pause").hash(&mut self.trace);
        }
    }

    /// Resumes every paused node now (what reached it meanwhile still
    /// arrives when its pause would have ended).
    pub fn resume_all(&mut self) {
        let now = self.now;
        for id in self.ids() {
            let n = self.node(id);
            if n.paused_until.take().is_some_and(|t| t > now) {
                // Its timer was put off to the end of the pause: let it fire now.
                n.deadline = Some(now);
                self.timers.push(Reverse((now, id)));
            }
        }
    }

    /// When a paused node resumes, if it is paused at `now`.
    fn resumes(&self, id: NodeId) -> Option<Time> {
        self.nodes[id as usize - 1].paused_until.filter(|&t| t > self.now)
    }

    /// Deletes a node's state file, as an operator does to make a node with
    /// a damaged disk rejoin afresh: what it held is gone.
    pub fn wipe_disk(&mut self, id: NodeId) {
        self.restore_disk(id, Disk::default());
    }

    /// Puts an older copy of a node's disk back (a backup restored): what
    /// it held since is gone, for the checker too.
    pub fn restore_disk(&mut self, id: NodeId, disk: Disk) {
        self.checker.crashed(id);
        self.node(id).disk = disk;
    }

    /// (Re)starts a node with a new incarnation; in a durable simulation,
    /// from the state on its disk. A damaged state file is refused (see
    /// [`cgm_core::Durable::decode`]): the node stays down, with the reason
    /// in [`SimNode::refused`].
    pub fn restart(&mut self, id: NodeId) {
        let now = self.now;
        let durable = self.cfg.durable;
        let n = &mut self.nodes[id as usize - 1];
        let state = match n.disk.state().filter(|_| durable).map(cgm_core::Durable::decode) {
            Some(Err(e)) => {
                n.refused = Some(format!("node {id}: state file refused: {e}"));
                n.core = None;
                return;
            }
            Some(Ok(d)) => Some(d),
            None => None,
        };
        n.refused = None;
        n.inc += 1;
        let mut cfg = Config::new(id, n.inc, n.configured.clone());
        cfg.quorum = self.cfg.quorum;
        cfg.params = self.cfg.params.clone();
        cfg.veto_hook = self.cfg.veto_hook;
        cfg.limits = n.host.limits.clone();
        cfg.durable = durable;
        cfg.joins = n.joins;
        #[cfg(feature = "flaws")]
        {
            cfg.flaw = self.cfg.flaw;
        }
        n.core = Some(match &state {
            Some(d) => match Core::restore(cfg, d, now) {
                Ok(core) => core,
                Err(e) => {
                    // A removed node's state: it stays down, as `cgm node` does.
                    n.refused = Some(format!("node {id}: {e}"));
                    return;
                }
            },
            None => Core::new(cfg, now).expect("valid simulator configuration"),
        });
        n.replies.clear();
        n.removed = false;
        n.suspicions.clear();
        n.host.queued.clear();
        n.keys.clear();
        n.heard.clear();
        n.probes.clear();
        self.checker.reset(id, durable);
        self.history.life(now.0, id, n.inc, true);
        if let (Some(_), Some(core)) = (&state, &n.core) {
            // A host restarted from its state starts from the values it holds.
            if core.holds_cluster_values() {
                self.history.values(now.0, id, n.inc, core.generation(), core.params(), self.checker.era);
            }
        }
        (id, now, "restart").hash(&mut self.trace);
        self.drain(id);
    }

    /// Makes a live node leave the group gracefully (see [`Core::leave`]).
    pub fn leave(&mut self, id: NodeId) {
        let now = self.now;
        if let Some(core) = self.node(id).core.as_mut() {
            core.leave(now);
        }
        self.drain(id);
    }

    /// Proposes an application protocol at `id`.
    ///
    /// # Errors
    /// As [`Core::propose_app`].
    pub fn propose_app(&mut self, id: NodeId, rounds: u8, wait: Option<Resource>, payload: &[u8]) -> Result<ProposalId, Error> {
        let now = self.now;
        let app = AppProtocol { payload: payload.to_vec().into(), rounds, wait };
        let r = self.nodes[id as usize - 1].core.as_mut().ok_or(Error::Left)?.propose_app(now, None, app);
        self.drain(id);
        r
    }

    /// Proposes application protocols at `id` in one call, as a host
    /// submitting a burst does: one result per protocol, in order.
    ///
    /// # Errors
    /// [`Error::Left`] when `id` is down; the others, per protocol, as
    /// [`Core::propose_apps`].
    pub fn propose_apps(&mut self, id: NodeId, apps: Vec<AppProtocol>) -> Result<Vec<Result<ProposalId, Error>>, Error> {
        let now = self.now;
        let r = self.nodes[id as usize - 1].core.as_mut().ok_or(Error::Left)?.propose_apps(now, apps);
        self.drain(id);
        Ok(r)
    }

    /// Proposes a parameter change at `id`.
    ///
    /// # Errors
    /// As [`Core::propose_change`].
    pub fn propose_change(&mut self, id: NodeId, changes: &[(Param, u64)]) -> Result<ProposalId, Error> {
        let now = self.now;
        let r = self.nodes[id as usize - 1].core.as_mut().ok_or(Error::Left)?.propose_change(now, None, changes);
        self.drain(id);
        r
    }

    /// Proposes a node change at `id`.
    ///
    /// # Errors
    /// As [`Core::propose_node_change`].
    pub fn propose_nodes(&mut self, id: NodeId, change: cgm_core::NodeChange) -> Result<ProposalId, Error> {
        let now = self.now;
        let r = self.nodes[id as usize - 1].core.as_mut().ok_or(Error::Left)?.propose_node_change(now, None, change);
        self.drain(id);
        r
    }

    /// Proposes at `id` a key rotation to the key of fingerprint `fingerprint`.
    ///
    /// # Errors
    /// As [`Core::propose_key_rotation`].
    pub fn propose_key_rotation(&mut self, id: NodeId, fingerprint: u64) -> Result<ProposalId, Error> {
        let now = self.now;
        let rotation = cgm_core::KeyRotation { fingerprint, path: key_path(fingerprint) };
        let r = self.nodes[id as usize - 1].core.as_mut().ok_or(Error::Left)?.propose_key_rotation(now, None, rotation);
        self.drain(id);
        r
    }

    /// Asks `from` to query `to`'s status over the network; runs until answered
    /// or `limit` passes.
    ///
    /// # Errors
    /// A violation found meanwhile.
    pub fn query(&mut self, from: NodeId, to: NodeId, limit: Duration) -> Result<Option<Status>, Violation> {
        let now = self.now;
        let req = self.nodes[from as usize - 1].core.as_mut().expect("alive").query_status(now, to).expect("configured node");
        self.drain(from);
        let found = self.run_until(limit, |s| s.nodes[from as usize - 1].replies.contains_key(&req))?;
        Ok(if found { self.nodes[from as usize - 1].replies.remove(&req) } else { None })
    }

    /// Lets the host of `id` release a lock it held; waits on it complete.
    pub fn release_lock(&mut self, id: NodeId, name: &str) {
        self.node(id).host.locks_held.remove(name);
        self.release_queued(id);
    }

    /// Lets the host of `id` start a job it had blocked.
    pub fn unblock_job(&mut self, id: NodeId, name: &str) {
        self.node(id).host.jobs_blocked.remove(name);
        self.release_queued(id);
    }

    fn release_queued(&mut self, id: NodeId) {
        let queued = std::mem::take(&mut self.node(id).host.queued);
        for (token, res) in queued {
            self.on_wait(id, token, res, 0);
        }
    }

    /// Runs the world for `d` of simulated time.
    ///
    /// # Errors
    /// The first violation.
    pub fn run_for(&mut self, d: Duration) -> Result<(), Violation> {
        let end = self.now + d;
        while self.step(end)? {}
        self.now = self.now.max(end);
        Ok(())
    }

    /// Runs until `done` holds (checked after every step) or `limit` passes;
    /// returns whether it held.
    ///
    /// # Errors
    /// The first violation.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Sim) -> bool) -> Result<bool, Violation> {
        let end = self.now + limit;
        loop {
            if done(self) {
                return Ok(true);
            }
            if !self.step(end)? {
                self.now = self.now.max(end);
                return Ok(done(self));
            }
        }
    }

    /// Takes the next step due no later than `end`; false when there is none.
    fn step(&mut self, end: Time) -> Result<bool, Violation> {
        let timer = loop {
            match self.timers.peek() {
                Some(&Reverse((t, id))) if self.nodes[id as usize - 1].deadline != Some(t) => {
                    self.timers.pop();
                }
                Some(&Reverse((t, _))) => break Some(t),
                None => break None,
            }
        };
        let action = self.host_actions.peek().map(|Reverse(a)| a.0);
        let write = self.writes.peek().map(|Reverse((t, _))| *t);
        let next = [self.net.next_time(), timer, action, write, Some(self.next_check)].into_iter().flatten().min();
        let Some(next) = next.filter(|&t| t <= end) else { return Ok(false) };
        self.now = self.now.max(next);
        self.steps += 1;
        if self.next_check <= self.now {
            self.next_check = self.now + self.cfg.check_every;
            self.check()?;
        } else if write == Some(next) {
            let Reverse((t, id)) = self.writes.pop().expect("peeked");
            let n = &mut self.nodes[id as usize - 1];
            if let Some((_, bytes, held)) = n.writing.take_if(|(at, _, _)| *at == t) {
                n.disk.persist(bytes, PERSIST_STEPS);
                // The state is on disk: what the step held back goes out.
                if let Some(held) = held {
                    for tx in held {
                        self.transmit(id, tx);
                    }
                    self.drain_checked(id)?;
                }
            }
        } else if let Some(d) = self.net.pop_due(self.now) {
            if let Some(t) = self.resumes(d.to) {
                self.net.requeue(d, t);
                return Ok(true);
            }
            (d.from, d.to, d.at, d.bytes.len()).hash(&mut self.trace);
            let now = self.now;
            let n = &mut self.nodes[d.to as usize - 1];
            let silent = n.heard.get(&d.from).map_or(Duration::MAX, |(_, at)| now.saturating_since(*at));
            let may_look = |c: &&mut Core| d.key != 0 && !n.host.keys_missing.contains(&d.key) && c.may_look_for_key(silent);
            if let Some(core) = n.core.as_mut().filter(may_look) {
                // Every key file is on every host (but those it lacks): a
                // member outside the group, or that has not heard the sender
                // for longer than failure detection takes, looks there for a
                // key it never saw retired.
                let accepted = n.keys.iter().any(|&(k, until)| k == d.key && until.is_none_or(|t| t > now));
                if !accepted && core.adopt_key(d.key, &key_path(d.key)).is_ok() {
                    self.key_adopted += 1;
                    if self.verbose {
                        println!("{now} node {}: adopted key {:016x} to open a datagram of node {}", d.to, d.key, d.from);
                    }
                    self.sync_keys(d.to);
                }
            }
            let n = &mut self.nodes[d.to as usize - 1];
            if n.core.is_some() && d.key != 0 {
                if n.keys.iter().any(|&(k, until)| k == d.key && until.is_none_or(|t| t > now)) {
                    n.heard.insert(d.from, (d.key, now));
                } else {
                    self.key_refused += 1;
                    if self.verbose {
                        println!("{now} node {}: refused a datagram of node {} sealed under key {:016x}", d.to, d.from, d.key);
                    }
                    if self.cfg.strict_keys {
                        return Ok(true);
                    }
                }
            }
            if let Some(core) = self.nodes[d.to as usize - 1].core.as_mut() {
                core.handle_datagram(now, u64::from(d.from), &d.bytes);
                self.drain_checked(d.to)?;
            }
        } else if action == Some(next) {
            let Reverse((_, order, id, token, result)) = self.host_actions.pop().expect("peeked");
            if let Some(t) = self.resumes(id) {
                self.host_actions.push(Reverse((t, order, id, token, result)));
                return Ok(true);
            }
            let now = self.now;
            self.nodes[id as usize - 1].failed_step = result.is_err();
            if let Some(core) = self.nodes[id as usize - 1].core.as_mut() {
                let _ = core.complete_wait(now, token, result);
                self.drain_checked(id)?;
            }
        } else if let Some(Reverse((_, id))) = self.timers.pop() {
            if let Some(t) = self.resumes(id) {
                self.nodes[id as usize - 1].deadline = Some(t);
                self.timers.push(Reverse((t, id)));
                return Ok(true);
            }
            let now = self.now;
            self.nodes[id as usize - 1].deadline = None;
            if let Some(core) = self.nodes[id as usize - 1].core.as_mut() {
                core.handle_timeout(now);
                self.drain_checked(id)?;
            }
        }
        Ok(true)
    }

    /// Runs the full checker over every live node now.
    ///
    /// # Errors
    /// The first broken invariant.
    pub fn check(&mut self) -> Result<(), Violation> {
        let statuses: Vec<Status> = self.alive().into_iter().map(|id| self.status(id)).collect();
        self.checker.check(&statuses, self.now.0)?;
        if self.cfg.quorum {
            // Without quorum both sides of a partition may commit: generations fork.
            // A node that never took part holds its file's values, not the
            // cluster's (a node a node change added, before it joins).
            let holding: Vec<Status> = statuses.into_iter().filter(|s| s.quorum || s.completed > 0 || s.generation > 0).collect();
            self.checker.record_generations(&holding, self.now.0)?;
        }
        Ok(())
    }

    fn drain_checked(&mut self, id: NodeId) -> Result<(), Violation> {
        self.drain_inner(id)
    }

    /// Sends what a node wants sent and handles its events.
    fn drain(&mut self, id: NodeId) {
        if let Err(v) = self.drain_inner(id) {
            panic!("violation while draining a command's output: {v}");
        }
    }

    fn drain_inner(&mut self, id: NodeId) -> Result<(), Violation> {
        let now = self.now;
        let n = &mut self.nodes[id as usize - 1];
        let Some(core) = n.core.as_mut() else { return Ok(()) };
        if n.writing.as_ref().is_some_and(|w| w.2.is_some()) {
            // Blocked on its disk; it hands out the rest once the write is done.
            return Ok(());
        }
        // Events never feed back into the core synchronously (host answers are
        // scheduled), so the step's datagrams can be taken first, then its
        // events. What the core hands out before its state is persisted
        // leaves first (a correct core hands out nothing then).
        let mut sends = Vec::new();
        while let Some(t) = core.poll_transmit() {
            sends.push(t);
        }
        let early = sends.len();
        let persist = core.poll_persist().map(|d| d.encode());
        while let Some(t) = core.poll_transmit() {
            sends.push(t);
        }
        let latency = self.cfg.disk_latency;
        let mut crash_after = None;
        if let Some((point, before)) = n.armed {
            let status = core.status(now);
            let rng = &mut self.rng;
            let persisted = persist.is_some();
            crash_after = crash::trigger(point, id, before, &status, sends.len(), n.failed_step, persisted, |k| rng.gen_range(1..k))
                .map(|k| (point, k));
            n.armed = Some((point, Seen::of(&status)));
        }
        let mut blocked = false;
        if let Some(bytes) = persist {
            match crash_after {
                // Interrupted, the write gets through one to three of its steps.
                Some((CrashPoint::PersistInterrupted, _)) => n.disk.persist(bytes, self.rng.gen_range(1..PERSIST_STEPS)),
                _ if latency.is_zero() || crash_after.is_some() => n.disk.persist(bytes, PERSIST_STEPS),
                _ if background_writes(&self.cfg) => {
                    // The flawed host writes behind, and goes on meanwhile.
                    let done = now + latency;
                    n.writing = Some((done, bytes, None));
                    self.writes.push(Reverse((done, id)));
                }
                _ => {
                    let done = now + latency;
                    n.writing = Some((done, bytes, Some(sends.split_off(early))));
                    n.paused_until = Some(n.paused_until.map_or(done, |t| t.max(done)));
                    self.writes.push(Reverse((done, id)));
                    blocked = true;
                }
            }
        }
        // A crash at a persistence step lets out only what left before it.
        let keep = match crash_after {
            Some((p, _)) if p.durable_only() => early,
            Some((_, k)) => k,
            None => sends.len(),
        };
        self.sync_keys(id);
        for t in sends.into_iter().take(keep) {
            self.transmit(id, t);
        }
        if blocked {
            return Ok(());
        }
        if let Some((point, k)) = crash_after {
            if self.verbose {
                println!("{} node {id}: crash at {} after {k} datagrams", self.now, point.name());
            }
            self.crash(id);
            self.crashed_at.push((id, point));
            return Ok(());
        }
        while let Some(ev) = self.nodes[id as usize - 1].core.as_mut().and_then(Core::poll_event) {
            self.on_event(id, ev)?;
        }
        let Some(core) = self.nodes[id as usize - 1].core.as_ref() else { return Ok(()) };
        let deadline = core.poll_timeout().map(|t| t.max(now));
        let n = &mut self.nodes[id as usize - 1];
        if deadline != n.deadline {
            n.deadline = deadline;
            if let Some(t) = deadline {
                self.timers.push(Reverse((t, id)));
            }
        }
        Ok(())
    }

    /// Takes the keys node `id`'s core accepts now; those it stopped
    /// accepting stay accepted for [`KEY_GRACE`].
    fn sync_keys(&mut self, id: NodeId) {
        let now = self.now;
        let n = &mut self.nodes[id as usize - 1];
        let Some(core) = n.core.as_ref() else { return };
        // A key whose file the host lacks is not loaded, whatever the core
        // accepts (the runtime loads keys from their files).
        let mut accepting = core.keys().accepting;
        accepting.retain(|k| !n.host.keys_missing.contains(k));
        let mut keys: Vec<(u64, Option<Time>)> = accepting.iter().map(|&k| (k, None)).collect();
        for &(k, until) in &n.keys {
            let until = until.unwrap_or(now + KEY_GRACE);
            if !accepting.contains(&k) && until > now {
                keys.push((k, Some(until)));
            }
        }
        n.keys = keys;
    }

    /// Puts a datagram of node `id` on the network.
    fn transmit(&mut self, id: NodeId, t: cgm_core::Transmit) {
        let to = match t.dest {
            Dest::Node(to) => to,
            Dest::Source(tok) => tok as NodeId,
        };
        if (1..=(self.cfg.nodes + self.cfg.spares) as NodeId).contains(&to) {
            let now = self.now;
            let n = &mut self.nodes[id as usize - 1];
            // As the runtime seals (`cgm_core::link_key`), among the keys
            // its host holds; the key in force, when its file is missing,
            // falls back to the first one loaded.
            let accepting: Vec<u64> = n.keys.iter().filter(|(_, until)| until.is_none()).map(|(k, _)| *k).collect();
            let key = n.core.as_ref().map_or(0, |c| {
                let in_force = Some(c.params().key()).filter(|k| accepting.contains(k)).or(accepting.first().copied()).unwrap_or(0);
                let heard = n.heard.get(&to).map(|(k, at)| (*k, now.saturating_since(*at)));
                let attempt = n.probes.entry(to).or_insert(0);
                *attempt += 1;
                cgm_core::link_key(in_force, &accepting, heard, c.silence(), c.outside(), *attempt)
            });
            self.net.send(&mut self.rng, self.now, id, to, key, t.bytes);
        }
    }

    fn on_event(&mut self, id: NodeId, ev: Event) -> Result<(), Violation> {
        if self.verbose {
            println!("{} node {id}: {ev:?}", self.now);
        }
        let (now, inc) = (self.now.0, self.nodes[id as usize - 1].inc);
        match ev {
            Event::Completed(o) => {
                self.reports += 1;
                (id, o.seq, o.pid, o.committed).hash(&mut self.trace);
                self.history.outcome(now, id, inc, &o, false, self.checker.era);
                self.checker.completed(id, &o, now)?;
                self.checker.reported(id, &o, now)?;
                if o.pid.node == id {
                    self.node(id).outcomes.insert(o.pid, o);
                }
            }
            Event::ViewChanged { view, members, quorum, transferred } => {
                (id, view).hash(&mut self.trace);
                self.node(id).views += 1;
                let ids: Vec<NodeId> = members.iter().map(|m| m.id).collect();
                self.history.view(now, id, inc, view, &ids, quorum, transferred);
                if transferred {
                    self.checker.transferred(id);
                }
                let nodes = &self.nodes;
                // Every member of a view with quorum accepted it, so on
                // stable storage every one holds it, up or down.
                let durable = self.cfg.durable;
                let live = |m: Member| durable || nodes.get(m.id as usize - 1).is_some_and(|n| n.core.is_some() && n.inc == m.inc);
                self.checker.installed(view, &members, quorum, live);
            }
            Event::Suspected { member, reason } => self.node(id).suspicions.push((member, reason)),
            Event::LocalWait { token, resource, body, seq, .. } => {
                if let cgm_core::ProtocolBody::App(app) = &body {
                    if !payload_intact(&app.payload) {
                        return Err(Violation {
                            at_us: self.now.0,
                            what: format!("node {id}: the payload of protocol {seq} arrived corrupted"),
                        });
                    }
                }
                let rotation = match &body {
                    cgm_core::ProtocolBody::RotateKey(k) => k.fingerprint,
                    _ => 0,
                };
                self.on_wait(id, token, resource, rotation)
            }
            Event::WaitCancelled { token } => {
                self.node(id).host.queued.retain(|(t, _)| *t != token);
            }
            Event::StatusReply { req, status } => {
                self.node(id).replies.insert(req, *status);
            }
            Event::OutcomeLearned(o) => {
                self.history.outcome(now, id, inc, &o, true, self.checker.era);
                self.checker.reported(id, &o, now)?;
                self.node(id).outcomes.insert(o.pid, o);
            }
            Event::ParamsChanged { generation, params } => self.history.values(now, id, inc, generation, &params, self.checker.era),
            Event::Removed { generation } => {
                (id, generation, "removed").hash(&mut self.trace);
                self.node(id).removed = true;
            }
            Event::StatusQueryFailed { .. } => {}
        }
        Ok(())
    }

    /// A local wait of node `id`'s protocol (`rotation`: the new key's
    /// fingerprint, when the protocol is a key rotation).
    fn on_wait(&mut self, id: NodeId, token: u64, resource: Resource, rotation: u64) {
        let host = &mut self.nodes[id as usize - 1].host;
        let result = match &resource {
            Resource::Lock(name) if host.locks_held.contains(name) => None,
            Resource::Job(name) if host.jobs_blocked.contains(name) => None,
            Resource::Veto => Some(host.veto.clone().map_or(Ok(Vec::new()), Err)),
            Resource::Key if host.keys_missing.contains(&rotation) => Some(Err(format!("no key file of fingerprint {rotation:016x}"))),
            Resource::Key => Some(Ok(rotation.to_le_bytes().to_vec())),
            _ => Some(Ok(id.to_le_bytes().to_vec())),
        };
        match result {
            None => host.queued.push((token, resource)),
            Some(r) => {
                let at = self.now + host.delay;
                self.action_order += 1;
                self.host_actions.push(Reverse((at, self.action_order, id, token, r)));
            }
        }
    }
}

const PAYLOAD_MAGIC: &[u8; 8] = b"cgm-sim\0";

/// An application payload of `len` random bytes that carries its own
/// checksum, so the simulator can tell a corrupted or mis-reassembled
/// payload when a member's local step receives it.
pub fn checked_payload(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut p = PAYLOAD_MAGIC.to_vec();
    p.extend((0..len).map(|_| rng.gen::<u8>()));
    let sum = payload_sum(&p);
    p.extend_from_slice(&sum.to_le_bytes());
    p
}

fn payload_sum(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Whether a payload made by [`checked_payload`] is intact; other payloads
/// (tests' own) are taken as they are.
fn payload_intact(p: &[u8]) -> bool {
    if p.len() < PAYLOAD_MAGIC.len() + 8 || &p[..PAYLOAD_MAGIC.len()] != PAYLOAD_MAGIC {
        return true;
    }
    let (body, sum) = p.split_at(p.len() - 8);
    payload_sum(body).to_le_bytes() == sum
}
