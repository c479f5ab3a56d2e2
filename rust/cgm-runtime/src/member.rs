//! The member thread: the loop that drives a node's sans-IO [`Core`].
//!
//! Each node runs a *member thread* that owns its [`cgm_core::Core`] and waits
//! in one place only: a poll over its sockets and its local message queue
//! (crossbeam channels for API commands and local completions such as a lock
//! granted or a job started, each send waking the poll), with the core's next
//! deadline as the timeout. It reads its sockets itself rather than through a
//! reader thread, so a datagram costs one thread wake-up, not two (see
//! BENCHMARKS.md). It never blocks anywhere else, so status queries are
//! answered while it waits on ACKs, a lock, a job or the host's veto.
//!
//! The [`Node`](crate::Node) handle talks to it only through [`Cmd`]s in its
//! mailbox and the [`Shared`] state (events, locks, job bodies, closed flag).

use crate::auth::{new_incarnation, Envelope, Key, Opened, Refusal};
use crate::config::NodeConfig;
use crate::error::Error;
use crate::events::{EventQueue, NodeEvent};
use crate::locks::{Granted, Locks};
use crate::transport::{Inbound, Mailbox};
use cgm_core::schema::HistoryEvent;
use cgm_core::{wire, AppProtocol, Core, Dest, Dropped, Event, NodeId, Outcome, ProposalId, ProtocolBody, Resource, Status, Time};
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A job body registered by the host.
pub type JobFn = Arc<dyn Fn() + Send + Sync>;

/// A request of the [`Node`](crate::Node) handle to its member thread; each
/// carries the channel its answer goes back on, if it has one.
pub(crate) enum Cmd {
    /// This node's own status.
    Status(Sender<Status>),
    /// A status query to a member over the network.
    Query(NodeId, Sender<Result<Status, Error>>),
    /// A proposal (a parameter change or an application protocol), with its txid if given.
    Propose(Option<u64>, ProtocolBody, Sender<Result<ProposalId, Error>>),
    /// Several application protocols proposed at once, in order.
    ProposeAll(Vec<AppProtocol>, Sender<Vec<Result<ProposalId, Error>>>),
    /// The outcome of a proposal, once it is known.
    Watch(ProposalId, Sender<Result<Outcome, Error>>),
    /// A proposal (with its txid if given) and its outcome once known, in
    /// one request: its id goes in the slot as soon as it has one, for a
    /// caller that stops waiting.
    Run(Option<u64>, ProtocolBody, Arc<std::sync::OnceLock<ProposalId>>, Sender<Result<Outcome, Error>>),
    /// The host's answer to a veto or step request (by wait token).
    Complete(u64, Result<Vec<u8>, String>),
    /// Replace the node's local limits.
    SetLimits(cgm_core::LocalLimits),
    /// This node's own figures for monitoring.
    LocalMetrics(Sender<cgm_core::metrics::LocalMetrics>),
    /// Leave the group; answered once the leave is flushed (or after 1 s).
    Leave(Sender<()>),
}

enum Local {
    JobStarted(u64),
    JobEnded,
}

/// What the [`Node`](crate::Node) handle and its member thread share.
pub(crate) struct Shared {
    /// Events for the host, delivered through the handle.
    pub(crate) events: EventQueue,
    /// The named local locks, taken by the host and by protocol steps.
    pub(crate) locks: Arc<Locks>,
    /// Job bodies registered by the host, by name.
    pub(crate) jobs: Mutex<HashMap<String, JobFn>>,
    /// Set once the handle shuts the node down.
    pub(crate) closed: AtomicBool,
}

/// A started member thread, as its [`Node`](crate::Node) handle keeps it.
pub(crate) struct Started {
    /// The state the handle and the thread share.
    pub(crate) shared: Arc<Shared>,
    /// The thread's mailbox for [`Cmd`]s.
    pub(crate) cmd: Mailbox<Cmd>,
    /// The thread itself.
    pub(crate) thread: JoinHandle<()>,
}

/// Starts the member thread of a node configured by `cfg` (validated): binds
/// its socket (and joins its multicast group), creates its core and the state
/// it shares with the handle, and spawns the thread.
///
/// # Errors
/// [`Error::Config`] for a configuration without an address to bind or that
/// the core refuses, [`Error::Io`] if a socket cannot be bound or the thread
/// not started.
pub(crate) fn start(cfg: NodeConfig) -> Result<Started, Error> {
    let bind = cfg.bind_addr().ok_or_else(|| crate::config::ConfigError::field("bind", "no address to bind"))?;
    let sock = crate::transport::bind(bind).map_err(|e| Error::Io(format!("cannot bind {bind}: {e}")))?;
    let (state, saved) = match &cfg.state_dir {
        Some(dir) => {
            let (sd, saved) = crate::state::StateDir::open(dir)?;
            (Some(sd), saved)
        }
        None => (None, None),
    };
    // Above every incarnation a previous life wrote, whatever the clock says.
    let inc = new_incarnation().max(saved.as_ref().map_or(0, |d| d.incarnation() + 1));
    let start = Instant::now();
    let core = match &saved {
        Some(d) => {
            let core = Core::restore(cfg.core_config(inc), d, Time(0))?;
            let (view, members) = d.lineage();
            log::info!(
                "node {}: resumed from {}: parameters of generation {}, protocols up to {}, lineage view {view} of members {:?}",
                cfg.node_id,
                state.as_ref().expect("read from it").file().display(),
                d.generation(),
                d.completed(),
                members.iter().map(|m| m.id).collect::<Vec<_>>()
            );
            let differ = differences(d.params(), &cfg.params);
            if !differ.is_empty() {
                log::warn!(
                    "node {}: runs the committed values of its state, not its configuration's (a configuration's global values only start a new cluster): {}",
                    cfg.node_id,
                    differ.join(", ")
                );
            }
            core
        }
        None => Core::new(cfg.core_config(inc), Time(0))?,
    };
    let history = match &cfg.history {
        Some(path) => {
            let mut h = crate::history::History::open(path, cfg.node_id, inc).map_err(Error::Io)?;
            // A host restarted from its state starts from the values it holds.
            if saved.is_some() && core.holds_cluster_values() {
                h.write(&HistoryEvent::Values { generation: core.generation(), params: core.params(), era: 0 });
            }
            Some(h)
        }
        None => None,
    };
    let mut envelope = Envelope::new(cfg.key.as_ref(), cfg.encrypt, cfg.node_id, inc);
    if let Some(d) = &saved {
        load_state_keys(&mut envelope, d, &core, state.as_ref().expect("read from it").file())?;
    }
    envelope.set_accepting(&core.keys().accepting);
    let events = EventQueue::new().map_err(|e| Error::Io(format!("cannot create the event socket pair: {e}")))?;
    let shared = Arc::new(Shared { events, locks: Arc::default(), jobs: Mutex::default(), closed: AtomicBool::new(false) });
    let mut reader_socks = vec![sock.try_clone().map_err(|e| Error::Io(e.to_string()))?];
    if let Some(m) = &cfg.multicast {
        let joined = crate::transport::multicast_sender(&sock, m, bind.ip())
            .and_then(|()| crate::transport::multicast_receiver(m, bind.ip()))
            .map_err(|e| Error::Io(format!("cannot join multicast group {}: {e}", m.group)))?;
        reader_socks.push(joined);
    }
    let inbound = Inbound::new(reader_socks).map_err(|e| Error::Io(format!("cannot wait on the sockets: {e}")))?;
    let (cmd_tx, cmd_rx) = inbound.mailbox();
    if cfg.insecure {
        log::warn!("node {}: running with insecure = true: traffic is not authenticated", cfg.node_id);
    }
    let (granted_tx, granted_rx) = inbound.mailbox();
    let (local_tx, local_rx) = inbound.mailbox();
    let member = Member {
        keys_mark: (0, 0, 0, 0),
        core,
        envelope,
        heard: BTreeMap::new(),
        key_tried: BTreeMap::new(),
        probes: BTreeMap::new(),
        accepting: Vec::new(),
        retiring: Vec::new(),
        key_dir: cfg.key_file.as_deref().and_then(std::path::Path::parent).map(std::path::Path::to_path_buf),
        dir_scanned: None,
        dir_keys: Vec::new(),
        sock,
        addrs: cfg.nodes.iter().copied().collect(),
        addrs_of: cgm_core::Roster::default(),
        group: cfg.multicast.map(|m| m.group),
        sources: VecDeque::new(),
        next_source: u64::from(NodeId::MAX),
        start,
        shared: Arc::clone(&shared),
        granted_tx,
        local_tx,
        status_waiters: BTreeMap::new(),
        outcome_waiters: HashMap::new(),
        held: BTreeMap::new(),
        jobs_running: Arc::new(AtomicUsize::new(0)),
        max_jobs: cfg.max_jobs,
        jobs_queued: VecDeque::new(),
        leaving: None,
        out: Vec::with_capacity(2_048),
        state,
        halted: false,
        history,
        app_events: cfg.app_events,
    };
    let mut member = member;
    member.load_missing_keys();
    member.sync_keys();
    let id = cfg.node_id;
    let main = std::thread::Builder::new()
        .name(format!("cgm-member-{id}"))
        .spawn(move || member.run(inbound, cmd_rx, granted_rx, local_rx))
        .map_err(|e| Error::Io(format!("cannot start the member thread: {e}")))?;
    Ok(Started { shared, cmd: cmd_tx, thread: main })
}

/// Loads the key files a restarted member's state names (a rotation's keys);
/// the key it runs under must be among them or be the configured one.
///
/// # Errors
/// [`Error::Config`] naming the key and where it was looked for, when the key
/// the member runs under is not available.
fn load_state_keys(envelope: &mut Envelope, d: &cgm_core::Durable, core: &Core, state_file: &std::path::Path) -> Result<(), Error> {
    for (fp, path) in d.key_files() {
        match Key::load(std::path::Path::new(path)) {
            Ok(k) if k.fingerprint() == *fp => {
                envelope.add_key(&k);
            }
            Ok(k) => log::warn!("node {}: the key file {path} holds key {:016x}, no longer key {fp:016x}", d.node(), k.fingerprint()),
            Err(e) => log::warn!("node {}: key {fp:016x}: {e}", d.node()),
        }
    }
    // The key it runs under, or failing that one it accepts beside it (a
    // key the operator configured since), must be at hand.
    let keys = core.keys();
    let sending = keys.sending;
    if sending != 0 && !keys.accepting.iter().any(|fp| envelope.has_key(*fp)) {
        let file = d.key_files().iter().find(|(fp, _)| *fp == sending).map_or("no key file".to_string(), |(_, p)| format!("key file {p}"));
        return Err(crate::config::ConfigError::field(
            "key_file",
            format!(
                "the cluster's key is {sending:016x} (per the state file {}), but it is not available ({file}): put that key \
                 file back, or set key_file to it",
                state_file.display()
            ),
        )
        .into());
    }
    Ok(())
}

/// The parameters whose value in force differs from the configured one, as
/// `name = in force (configured: value)` for a log line.
fn differences(in_force: &cgm_core::Params, configured: &cgm_core::Params) -> Vec<String> {
    cgm_core::Param::ALL
        .iter()
        .filter(|&&p| in_force.get(p) != configured.get(p))
        .map(|&p| format!("{} = {} (configured: {})", p.name(), p.format_value(in_force.get(p)), p.format_value(configured.get(p))))
        .collect()
}

/// How long a key the core stopped accepting is still accepted: datagrams
/// sealed under it before the rotation's verdict may still be on their way.
const KEY_GRACE: Duration = Duration::from_secs(3);
/// How often a member reads its key directory again, at most.
const KEY_SCAN_EVERY: Duration = Duration::from_secs(1);
/// How often one node's datagrams make a member try the keys of its key
/// directory, at most (a flood of forged datagrams costs little).
const KEY_TRY_EVERY: Duration = Duration::from_millis(100);

/// The member thread's state.
struct Member {
    core: Core,
    envelope: Envelope,
    /// The core's key mark when the envelope last took its keys.
    keys_mark: (u64, u64, u64, u64),
    /// The key each member was last heard under, and when: datagrams to it
    /// go under that key while it is accepted (link by link during a
    /// rotation).
    heard: BTreeMap<NodeId, (u64, Instant)>,
    /// Datagrams sealed to each member not heard lately (which key to try).
    probes: BTreeMap<NodeId, u64>,
    /// When each configured node's datagram last made this member look for
    /// a key (at most every [`KEY_TRY_EVERY`] per node).
    key_tried: BTreeMap<NodeId, Instant>,
    /// The keys the core accepts (those a datagram may be sealed under).
    accepting: Vec<u64>,
    /// Keys the core stopped accepting, still opened until these instants.
    retiring: Vec<(u64, Instant)>,
    /// The directory of the configured key file, where the keys of
    /// rotations are placed.
    key_dir: Option<std::path::PathBuf>,
    /// When the key directory was last read.
    dir_scanned: Option<Instant>,
    /// The keys found there: fingerprint, file, key.
    dir_keys: Vec<(u64, std::path::PathBuf, Key)>,
    sock: UdpSocket,
    /// Where each node is: the configuration file's nodes (a new node's
    /// file may list only a few nodes to contact), then every node set in
    /// force since (`addrs_of`, the last one).
    addrs: BTreeMap<NodeId, SocketAddr>,
    /// The node set `addrs` was last built from.
    addrs_of: cgm_core::Roster,
    /// The multicast group every member datagram goes to, if that option is on.
    group: Option<SocketAddr>,
    /// Operator tools and nodes of unknown address heard from: token,
    /// address, and the key they seal under. Tokens start past every node
    /// id: the core's `Dest::Source` is a node's id for a node whose
    /// address is known, one of these tokens for the rest.
    sources: VecDeque<(u64, SocketAddr, u64)>,
    next_source: u64,
    start: Instant,
    shared: Arc<Shared>,
    granted_tx: Mailbox<Granted>,
    local_tx: Mailbox<Local>,
    status_waiters: BTreeMap<u64, Sender<Result<Status, Error>>>,
    outcome_waiters: HashMap<ProposalId, Vec<Sender<Result<Outcome, Error>>>>,
    /// Locks held (or waited for) by protocol steps: token -> (name, seq).
    held: BTreeMap<u64, (String, u64)>,
    jobs_running: Arc<AtomicUsize>,
    max_jobs: usize,
    jobs_queued: VecDeque<(u64, String)>,
    leaving: Option<(Sender<()>, Instant)>,
    out: Vec<u8>,
    /// Where the member's durable state is written, if it keeps one.
    state: Option<crate::state::StateDir>,
    /// The state could not be written: the member hands out nothing more.
    halted: bool,
    /// Where host-visible events are recorded, if anywhere.
    history: Option<crate::history::History>,
    /// Whether application outcomes are queued as events (`NodeConfig::app_events`).
    app_events: bool,
}

/// Operator addresses remembered for answers.
const MAX_SOURCES: usize = 256;

impl Member {
    fn now(&self) -> Time {
        Time(self.start.elapsed().as_micros() as u64)
    }

    fn run(mut self, mut inbound: Inbound, cmds: Receiver<Cmd>, granted: Receiver<Granted>, local: Receiver<Local>) {
        loop {
            let now = self.now();
            let wait = self.core.poll_timeout().map_or(Duration::from_millis(100), |d| Duration::from_micros(d.0.saturating_sub(now.0)));
            inbound.wait(wait);
            // Everything already received is handled before anything is sent,
            // so answers to one burst go out bundled.
            inbound.read(|addr, bytes| self.on_datagram(addr, bytes));
            // What the datagrams caused (a view installed, a protocol done) is
            // announced before a command can observe it in a status.
            self.drain();
            loop {
                match cmds.try_recv() {
                    Ok(c) => self.on_cmd(c),
                    Err(TryRecvError::Empty) => break,
                    // The node is gone without a leave (it always leaves first).
                    Err(TryRecvError::Disconnected) => return self.release_all(),
                }
            }
            for g in granted.try_iter() {
                let now = self.now();
                if self.core.complete_wait(now, g.token, Ok(Vec::new())).is_err() {
                    if let Some((name, _)) = self.held.remove(&g.token) {
                        self.shared.locks.release_member(&name, g.token);
                    }
                }
            }
            for l in local.try_iter() {
                self.on_local(l);
            }
            // Drained first: what the commands queued is sent, and is not
            // taken for a deadline due (see `Core::poll_timeout`).
            self.drain();
            let now = self.now();
            if self.core.poll_timeout().is_some_and(|d| d <= now) {
                self.core.handle_timeout(now);
                self.drain();
            }
            if self.retiring.first().is_some_and(|(_, until)| *until <= Instant::now()) {
                self.sync_keys();
            }
            if let Some((_, since)) = &self.leaving {
                if self.core.is_flushed() || since.elapsed() > Duration::from_secs(1) {
                    let (tx, _) = self.leaving.take().expect("checked above");
                    let _ = tx.send(());
                    break;
                }
            }
        }
        self.release_all();
    }

    /// Gives up every lock protocol steps hold, as the member thread ends.
    fn release_all(&mut self) {
        for (token, (name, _)) in std::mem::take(&mut self.held) {
            self.shared.locks.release_member(&name, token);
        }
    }

    fn on_datagram(&mut self, addr: SocketAddr, bytes: &mut [u8]) {
        let opened = match self.envelope.open(bytes) {
            Ok(x) => Ok(x),
            Err(Refusal::Forged) => self.find_key(bytes).ok_or(Refusal::Forged),
            Err(r) => Err(r),
        };
        let Opened { sender, incarnation: inc, body: range, key } = match opened {
            Ok(x) => x,
            Err(r) => {
                let why = match r {
                    Refusal::Malformed => Dropped::Malformed,
                    Refusal::Forged => Dropped::Forged,
                    Refusal::Replayed => Dropped::Replayed,
                    Refusal::Version(v) => {
                        log::warn!(
                            "node {}: refused a datagram from {addr} of envelope version {v} (this build speaks {})",
                            self.core.id(),
                            crate::auth::ENVELOPE_VERSION
                        );
                        Dropped::Version
                    }
                };
                self.core.note_dropped(why);
                return;
            }
        };
        let body = &bytes[range];
        // The authenticated sender must be the one the core frame claims.
        match wire::decode_header(body) {
            // Over multicast every member hears every datagram: keep ours
            // (and those addressed to no node: answers to where a datagram
            // came from, such as a refusal, arrive by unicast).
            Ok(h) if h.from == sender && h.from_inc == inc && self.group.is_some() && h.to != self.core.id() && h.to != 0 => return,
            Ok(h) if h.from == sender && h.from_inc == inc => {}
            Ok(_) => return self.core.note_dropped(Dropped::Forged),
            Err(e @ wire::WireError::Version(_)) => {
                log::warn!("node {}: refused a datagram from {addr}: {e}", self.core.id());
                return self.core.note_dropped(Dropped::Version);
            }
            Err(_) => return self.core.note_dropped(Dropped::Malformed),
        }
        // A node of unknown address (one outside the node set, whose
        // refusal goes back to where it came from) is answered as a tool is.
        if sender != 0 {
            self.heard.insert(sender, (key, Instant::now()));
        }
        let source = if sender == 0 || !self.addrs.contains_key(&sender) { self.remember_source(addr, key) } else { u64::from(sender) };
        let now = self.now();
        self.core.handle_datagram(now, source, body);
    }

    /// A datagram no accepted key opens, from a configured node, while this
    /// member is outside the group or that node has been silent longer than
    /// failure detection takes: the cluster may have rotated its key while
    /// this member was away (down, cut off, or in a view the others left).
    /// Tries the keys of its key directory it never saw retired (read at
    /// most every [`KEY_SCAN_EVERY`]); the one that opens it is adopted.
    fn find_key(&mut self, bytes: &mut [u8]) -> Option<Opened> {
        let from = Envelope::claimed_sender(bytes)?;
        if from == 0 || !self.addrs.contains_key(&from) {
            return None;
        }
        let now = Instant::now();
        let silent = self.heard.get(&from).map_or(Duration::MAX, |(_, at)| now.duration_since(*at));
        if !self.core.may_look_for_key(silent) || self.key_tried.get(&from).is_some_and(|t| now.duration_since(*t) < KEY_TRY_EVERY) {
            return None;
        }
        self.key_tried.insert(from, now);
        self.scan_key_dir();
        let candidates: Vec<&Key> = self
            .dir_keys
            .iter()
            .filter(|(fp, _, _)| !self.core.is_retired(*fp) && !self.envelope.accepts(*fp))
            .map(|(_, _, k)| k)
            .collect();
        let opened = self.envelope.open_with(bytes, &candidates).ok()?;
        self.take_dir_key(opened.key);
        Some(opened)
    }

    /// Reads the key directory again if it was last read over
    /// [`KEY_SCAN_EVERY`] ago: its regular files of 32 bytes.
    fn scan_key_dir(&mut self) {
        let Some(dir) = &self.key_dir else { return };
        if self.dir_scanned.is_some_and(|t| t.elapsed() < KEY_SCAN_EVERY) {
            return;
        }
        self.dir_scanned = Some(Instant::now());
        // A file others than its owner may write is no key of the operator's.
        let private = |p: &std::path::Path| std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o022 == 0);
        let files = std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| private(p));
        self.dir_keys = files.filter_map(|p| Key::load(&p).ok().map(|k| (k.fingerprint(), p, k))).collect();
    }

    /// Loads the key of fingerprint `fp` from the key directory and tells
    /// the core, which accepts it from then on (unless it was retired).
    fn take_dir_key(&mut self, fp: u64) {
        let Some((_, path, key)) = self.dir_keys.iter().find(|(k, _, _)| *k == fp) else { return };
        if self.core.adopt_key(fp, &path.to_string_lossy()).is_ok() {
            self.envelope.add_key(key);
            self.sync_keys();
        }
    }

    /// Finds in the key directory the keys the core accepts but this member
    /// never loaded: the cluster's key when a view hands it one this member
    /// missed the rotation to (it restarted without its state meanwhile).
    fn load_missing_keys(&mut self) {
        let missing: Vec<u64> = self.core.keys().accepting.into_iter().filter(|fp| !self.envelope.has_key(*fp)).collect();
        if missing.is_empty() {
            return;
        }
        self.scan_key_dir();
        for fp in missing {
            if self.dir_keys.iter().any(|(k, _, _)| *k == fp) {
                self.take_dir_key(fp);
            } else if fp == self.core.params().key() {
                log::warn!(
                    "node {}: the cluster's key is {fp:016x}, which this node does not have{}: place its key file there",
                    self.core.id(),
                    self.key_dir.as_ref().map_or(String::new(), |d| format!(" in {}", d.display()))
                );
            }
        }
    }

    /// Gives the envelope the keys the core accepts now; a key the core
    /// stopped accepting stays accepted for [`KEY_GRACE`].
    fn sync_keys(&mut self) {
        let now = Instant::now();
        self.keys_mark = self.core.keys_mark();
        let accepting = self.core.keys().accepting;
        for &fp in self.envelope.accepting() {
            if !accepting.contains(&fp) && !self.retiring.iter().any(|(k, _)| *k == fp) {
                self.retiring.push((fp, now + KEY_GRACE));
            }
        }
        self.retiring.retain(|(fp, until)| *until > now && !accepting.contains(fp));
        let all: Vec<u64> = accepting.iter().copied().chain(self.retiring.iter().map(|(fp, _)| *fp)).collect();
        self.envelope.set_accepting(&all);
        self.accepting = accepting;
    }

    /// The key a datagram to `dest` goes under ([`cgm_core::link_key`]): the
    /// one its receiver was lately heard under while the core accepts it,
    /// else, in turn, the keys the core accepts. A key only in its grace is
    /// never chosen: two members would keep each other on it until it ends,
    /// and what is on its way then is refused.
    fn key_for(&mut self, dest: Dest) -> u64 {
        let in_force = self.core.params().key();
        match dest {
            Dest::Node(id) => {
                let heard = self.heard.get(&id).map(|(k, at)| (*k, at.elapsed()));
                let attempt = self.probes.entry(id).or_insert(0);
                *attempt += 1;
                cgm_core::link_key(in_force, &self.accepting, heard, self.core.silence(), self.core.outside(), *attempt)
            }
            // A tool is answered under its own key while it is accepted.
            Dest::Source(tok) => self
                .sources
                .iter()
                .find(|(s, _, _)| *s == tok)
                .map(|(_, _, k)| *k)
                .filter(|k| self.accepting.contains(k))
                .unwrap_or(in_force),
        }
    }

    fn remember_source(&mut self, addr: SocketAddr, key: u64) -> u64 {
        if let Some((t, _, k)) = self.sources.iter_mut().find(|(_, a, _)| *a == addr) {
            *k = key;
            return *t;
        }
        self.next_source += 1;
        self.sources.push_back((self.next_source, addr, key));
        if self.sources.len() > MAX_SOURCES {
            self.sources.pop_front();
        }
        self.next_source
    }

    fn on_cmd(&mut self, c: Cmd) {
        let now = self.now();
        match c {
            Cmd::Status(tx) => {
                let _ = tx.send(self.core.status(now));
            }
            Cmd::Query(member, tx) => match self.core.query_status(now, member) {
                Ok(req) => {
                    self.status_waiters.insert(req, tx);
                }
                Err(e) => {
                    let _ = tx.send(Err(e.into()));
                }
            },
            Cmd::Propose(txid, body, tx) => {
                let _ = tx.send(self.propose(now, txid, body));
            }
            Cmd::Run(txid, body, slot, tx) => match self.propose(now, txid, body) {
                Ok(pid) => {
                    let _ = slot.set(pid);
                    self.watch(pid, tx);
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            },
            Cmd::SetLimits(limits) => self.core.set_limits(limits),
            Cmd::LocalMetrics(tx) => {
                let _ = tx.send(self.core.local_metrics());
            }
            Cmd::ProposeAll(apps, tx) => {
                let _ = tx.send(self.core.propose_apps(now, apps).into_iter().map(|r| r.map_err(Error::from)).collect());
            }
            Cmd::Watch(pid, tx) => self.watch(pid, tx),
            Cmd::Complete(token, result) => {
                let _ = self.core.complete_wait(now, token, result);
            }
            Cmd::Leave(tx) => {
                self.core.leave(now);
                self.leaving = Some((tx, Instant::now()));
            }
        }
    }

    fn propose(&mut self, now: Time, txid: Option<u64>, body: ProtocolBody) -> Result<ProposalId, Error> {
        let r = match body {
            ProtocolBody::Change(changes) => self.core.propose_change(now, txid, &changes),
            ProtocolBody::App(app) => self.core.propose_app(now, txid, app),
            ProtocolBody::RotateKey(k) => self.core.propose_key_rotation(now, txid, k),
            ProtocolBody::Nodes(c) => self.core.propose_node_change(now, txid, c),
        };
        r.map_err(Error::from)
    }

    /// Sends `pid`'s outcome on `tx` now if it is known, else once it is.
    fn watch(&mut self, pid: ProposalId, tx: Sender<Result<Outcome, Error>>) {
        match self.core.outcome(pid) {
            Some(o) => {
                let _ = tx.send(Ok(o.clone()));
            }
            None => self.outcome_waiters.entry(pid).or_default().push(tx),
        }
    }

    fn on_local(&mut self, l: Local) {
        match l {
            Local::JobStarted(token) => {
                let now = self.now();
                let _ = self.core.complete_wait(now, token, Ok(Vec::new()));
            }
            Local::JobEnded => {
                if let Some((token, name)) = self.jobs_queued.pop_front() {
                    self.start_job(token, name);
                }
            }
        }
    }

    fn start_job(&mut self, token: u64, name: String) {
        if self.jobs_running.load(Ordering::Acquire) >= self.max_jobs {
            self.jobs_queued.push_back((token, name));
            return;
        }
        self.jobs_running.fetch_add(1, Ordering::AcqRel);
        let body = self.shared.jobs.lock().expect("job table is never poisoned").get(&name).cloned();
        let (tx, running) = (self.local_tx.clone(), Arc::clone(&self.jobs_running));
        let spawned = std::thread::Builder::new().name(format!("cgm-job-{name}")).spawn(move || {
            let _ = tx.send(Local::JobStarted(token));
            if let Some(f) = body {
                f();
            }
            running.fetch_sub(1, Ordering::AcqRel);
            let _ = tx.send(Local::JobEnded);
        });
        if let Err(e) = spawned {
            self.jobs_running.fetch_sub(1, Ordering::AcqRel);
            let now = self.now();
            let _ = self.core.complete_wait(now, token, Err(format!("cannot create job {name}: {e}")));
        }
    }

    /// Persists the member's state when it changed, then sends what the core
    /// wants sent and handles its events, until both are empty.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            if !self.persist() {
                return;
            }
            while let Some(t) = self.core.poll_transmit() {
                progressed = true;
                let to = match t.dest {
                    Dest::Node(id) => self.group.or_else(|| self.addrs.get(&id).copied()),
                    Dest::Source(tok) => match NodeId::try_from(tok) {
                        Ok(id) => self.addrs.get(&id).copied(),
                        Err(_) => self.sources.iter().find(|(s, _, _)| *s == tok).map(|(_, a, _)| *a),
                    },
                };
                if let Some(to) = to {
                    let key = self.key_for(t.dest);
                    self.envelope.seal_under(key, &t.bytes, &mut self.out);
                    if self.out.is_empty() {
                        // No key at hand (load_missing_keys says which): lost,
                        // as on a broken link, never sent unauthenticated.
                        continue;
                    }
                    if let Err(e) = self.sock.send_to(&self.out, to) {
                        log::debug!("node {}: send to {to} failed: {e}", self.core.id());
                    }
                }
            }
            while let Some(e) = self.core.poll_event() {
                progressed = true;
                self.on_event(e);
            }
            if !progressed {
                break;
            }
        }
        if self.core.keys_mark() != self.keys_mark {
            self.load_missing_keys();
            self.sync_keys();
        }
        if !self.core.params().nodes().same(&self.addrs_of) {
            self.sync_addrs();
        }
        // A lock is held only while its protocol is the one running.
        let running = self.core.current_protocol();
        let stale: Vec<u64> = self.held.iter().filter(|(_, (_, seq))| Some(*seq) != running).map(|(t, _)| *t).collect();
        for token in stale {
            if let Some((name, _)) = self.held.remove(&token) {
                self.shared.locks.release_member(&name, token);
            }
        }
    }

    /// Says, when the values in force differ from this node's file, that the
    /// file's global values only start a new cluster.
    /// Adds the addresses of the node set in force (a node change applied,
    /// or taken with a view's state) to the address book: they win over the
    /// configuration file's. None is dropped: a member a change removes is
    /// still told the outcome and sent its last marks, and the core refuses
    /// datagrams from nodes it no longer talks to.
    fn sync_addrs(&mut self) {
        let nodes = self.core.params().nodes().clone();
        for (id, text) in nodes.iter() {
            match text.parse::<SocketAddr>() {
                Ok(a) => {
                    self.addrs.insert(id, a);
                }
                Err(_) if text.is_empty() => {}
                Err(e) => {
                    log::warn!("node {}: node {id}'s address {text:?} in the cluster's node set is not host:port ({e})", self.core.id())
                }
            }
        }
        self.addrs_of = nodes;
    }

    fn note_file_differs(&self, generation: u64, params: &cgm_core::Params) {
        let differ = differences(params, &self.core.config().params);
        if !differ.is_empty() {
            log::info!(
                "node {}: the cluster's committed values (generation {generation}) differ from this node's configuration, \
                 whose global values only start a new cluster: {}",
                self.core.id(),
                differ.join(", ")
            );
        }
    }

    /// Writes the durable state the core hands out, if any; false (and the
    /// member halted) when it cannot: nothing that depends on an unwritten
    /// state may leave, so the member stops taking part.
    fn persist(&mut self) -> bool {
        if self.halted {
            return false;
        }
        let (Some(sd), Some(d)) = (&mut self.state, self.core.poll_persist()) else { return true };
        if let Err(e) = sd.write(&d) {
            log::error!(
                "node {}: cannot write its state file {}: {e}; the node stops taking part (restart it once the disk is fixed)",
                self.core.id(),
                sd.file().display()
            );
            self.halted = true;
            return false;
        }
        true
    }

    /// Round 1 of a key rotation: loads the new key from its file and
    /// answers its fingerprint, or why it cannot.
    fn load_rotation_key(&mut self, k: &cgm_core::KeyRotation) -> Result<Vec<u8>, String> {
        let key = Key::load(std::path::Path::new(&k.path))?;
        let fp = key.fingerprint();
        if fp != k.fingerprint {
            return Err(format!(
                "the key file {} holds key {fp:016x}, not the rotation's key {:016x} (the files differ between nodes?)",
                k.path, k.fingerprint
            ));
        }
        self.envelope.add_key(&key);
        log::info!("node {}: loaded key {fp:016x} from {}; accepting it beside the current key", self.core.id(), k.path);
        Ok(fp.to_le_bytes().to_vec())
    }

    fn on_event(&mut self, e: Event) {
        let now = self.now();
        if let Some(h) = &mut self.history {
            // Eras count state losses of the whole cluster, which only the
            // simulator sees; a real run is one era.
            match &e {
                Event::ViewChanged { view, members, quorum, transferred } => {
                    let members: Vec<NodeId> = members.iter().map(|m| m.id).collect();
                    h.write(&HistoryEvent::View { view: *view, members: &members, quorum: *quorum, transferred: *transferred });
                }
                Event::Completed(o) => h.write(&HistoryEvent::Outcome { outcome: o, learned: false, era: 0 }),
                Event::OutcomeLearned(o) => h.write(&HistoryEvent::Outcome { outcome: o, learned: true, era: 0 }),
                Event::ParamsChanged { generation, params } => h.write(&HistoryEvent::Values { generation: *generation, params, era: 0 }),
                _ => {}
            }
        }
        match e {
            Event::ViewChanged { view, members, quorum, .. } => {
                self.shared.events.push(NodeEvent::ViewChanged { view, members: members.iter().map(|m| m.id).collect(), quorum });
            }
            Event::Suspected { member, reason } => self.shared.events.push(NodeEvent::Suspected { member, reason }),
            Event::Completed(o) | Event::OutcomeLearned(o) => {
                // The event is queued before any waiter wakes, so a host that
                // got an outcome finds its event too.
                let waiters = self.outcome_waiters.remove(&o.pid).unwrap_or_default();
                let copies: Vec<Outcome> = waiters.iter().map(|_| o.clone()).collect();
                let ev = match (o.kind.as_str(), o.committed) {
                    ("param-change", true) => Some(NodeEvent::ChangeCommitted(o)),
                    ("param-change", false) => Some(NodeEvent::ChangeRolledBack(o)),
                    ("app", _) if !self.app_events => None,
                    _ => Some(NodeEvent::ProtocolCompleted(o)),
                };
                if let Some(ev) = ev {
                    self.shared.events.push(ev);
                }
                for (w, o) in waiters.into_iter().zip(copies) {
                    let _ = w.send(Ok(o));
                }
            }
            Event::LocalWait { token, resource, seq, round_index, body } => match resource {
                Resource::Lock(name) => {
                    // A later round of the protocol that holds the lock has it
                    // already (it is released with the protocol, under the
                    // token of the round that took it).
                    if self.held.values().any(|(n, s)| *n == name && *s == seq) {
                        let _ = self.core.complete_wait(now, token, Ok(Vec::new()));
                        return;
                    }
                    let granted = self.shared.locks.request(&name, token, &self.granted_tx);
                    self.held.insert(token, (name, seq));
                    if granted {
                        let _ = self.core.complete_wait(now, token, Ok(Vec::new()));
                    }
                }
                Resource::Job(name) => self.start_job(token, name),
                Resource::Veto => {
                    let changes = match body {
                        ProtocolBody::Change(c) => c,
                        _ => Vec::new(),
                    };
                    self.shared.events.push(NodeEvent::VetoRequest { token, changes });
                }
                Resource::Host => {
                    let payload = match body {
                        ProtocolBody::App(a) => a.payload.into_vec(),
                        _ => Vec::new(),
                    };
                    self.shared.events.push(NodeEvent::StepRequest { token, seq, round_index, payload });
                }
                Resource::Key => {
                    let result = match body {
                        ProtocolBody::RotateKey(k) => self.load_rotation_key(&k),
                        _ => Err("not a key rotation".into()),
                    };
                    let _ = self.core.complete_wait(now, token, result);
                }
            },
            Event::WaitCancelled { token } => {
                if let Some((name, _)) = self.held.remove(&token) {
                    self.shared.locks.release_member(&name, token);
                }
                self.jobs_queued.retain(|(t, _)| *t != token);
            }
            Event::StatusReply { req, status } => {
                if let Some(tx) = self.status_waiters.remove(&req) {
                    let _ = tx.send(Ok(*status));
                }
            }
            Event::StatusQueryFailed { req, .. } => {
                if let Some(tx) = self.status_waiters.remove(&req) {
                    let _ = tx.send(Err(Error::Timeout { pid: None }));
                }
            }
            Event::Removed { generation } => {
                log::warn!(
                    "node {}: removed from the cluster's node set at generation {generation}: it left the group, and the others refuse it until a node change adds it again",
                    self.core.id()
                );
                self.shared.events.push(NodeEvent::Removed { generation });
            }
            Event::ParamsChanged { generation, params } => {
                if params.key() != self.keys_mark.1 && params.key() != 0 {
                    log::info!("node {}: the cluster key is {:016x} from generation {generation}", self.core.id(), params.key());
                }
                self.note_file_differs(generation, &params);
            }
        }
    }
}
