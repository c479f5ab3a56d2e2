//! [`Node`]: one cluster member on real UDP sockets and threads.
//!
//! Each node runs a *member thread* that owns its [`cgm_core::Core`] and waits
//! in one place only: a poll over its sockets and its local message queue
//! (crossbeam channels for API commands and local completions such as a lock
//! granted or a job started, each send waking the poll), with the core's next
//! deadline as the timeout. It reads its sockets itself rather than through a
//! reader thread, so a datagram costs one thread wake-up, not two (see
//! BENCHMARKS.md). It never blocks anywhere else, so status queries are
//! answered while it waits on ACKs, a lock, a job or the host's veto.

use crate::auth::{new_incarnation, Envelope, Refusal};
use crate::config::NodeConfig;
use crate::error::Error;
use crate::events::{EventQueue, NodeEvent};
use crate::locks::{Granted, LockGuard, Locks};
use crate::transport::{Inbound, Mailbox};
use cgm_core::{
    wire, AppProtocol, Core, Dest, Dropped, Event, NodeId, Outcome, Param, Params, ProposalId, ProtocolBody, Resource, Status, Time,
};
use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A job body registered by the host.
pub type JobFn = Arc<dyn Fn() + Send + Sync>;

/// Configured and effective parameters of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamsView {
    /// From the configuration.
    pub configured: Params,
    /// In force now.
    pub effective: Params,
    /// Generation of the effective values.
    pub generation: u64,
    /// Whether a heartbeat switch-over is pending on some link.
    pub switch_over_pending: bool,
}

enum Cmd {
    Status(Sender<Status>),
    Query(NodeId, Sender<Result<Status, Error>>),
    Propose(Option<u64>, ProtocolBody, Sender<Result<ProposalId, Error>>),
    ProposeAll(Vec<AppProtocol>, Sender<Vec<Result<ProposalId, Error>>>),
    Watch(ProposalId, Sender<Outcome>),
    Complete(u64, Result<Vec<u8>, String>),
    Leave(Sender<()>),
}

enum Local {
    JobStarted(u64),
    JobEnded,
}

struct Shared {
    events: EventQueue,
    locks: Arc<Locks>,
    jobs: Mutex<HashMap<String, JobFn>>,
    closed: AtomicBool,
}

/// One running cluster member. All methods may be called from any thread.
///
/// Dropping the node leaves the group gracefully, like [`Node::shutdown`].
pub struct Node {
    id: NodeId,
    shared: Arc<Shared>,
    cmd: Mailbox<Cmd>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node({})", self.id)
    }
}

impl Node {
    /// Starts a node: binds its socket, starts its member and reader threads and
    /// begins joining the configured nodes.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration (no key without
    /// `insecure`, ...), [`Error::Io`] if the socket cannot be bound.
    pub fn start(cfg: NodeConfig) -> Result<Node, Error> {
        cfg.validate()?;
        let bind = cfg.bind_addr().ok_or_else(|| crate::config::ConfigError::field("bind", "no address to bind"))?;
        let sock = crate::transport::bind(bind).map_err(|e| Error::Io(format!("cannot bind {bind}: {e}")))?;
        let inc = new_incarnation();
        let start = Instant::now();
        let core = Core::new(cfg.core_config(inc), Time(0))?;
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
            core,
            envelope: Envelope::new(cfg.key.as_ref(), cfg.encrypt, cfg.node_id, inc),
            sock,
            addrs: cfg.nodes.iter().copied().collect(),
            group: cfg.multicast.map(|m| m.group),
            sources: VecDeque::new(),
            next_source: 0,
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
        };
        let id = cfg.node_id;
        let main = std::thread::Builder::new()
            .name(format!("cgm-member-{id}"))
            .spawn(move || member.run(inbound, cmd_rx, granted_rx, local_rx))
            .map_err(|e| Error::Io(format!("cannot start the member thread: {e}")))?;
        Ok(Node { id, shared, cmd: cmd_tx, threads: Mutex::new(vec![main]) })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    fn ask<T>(&self, make: impl FnOnce(Sender<T>) -> Cmd, timeout: Duration) -> Result<T, Error> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        let (tx, rx) = bounded(1);
        self.cmd.send(make(tx)).map_err(|_| Error::ShutDown)?;
        match rx.recv_timeout(timeout) {
            Ok(v) => Ok(v),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(Error::Timeout { pid: None }),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(Error::ShutDown),
        }
    }

    /// This node's own status, built by its member thread from its local record.
    ///
    /// # Errors
    /// [`Error::ShutDown`].
    pub fn status(&self) -> Result<Status, Error> {
        self.ask(Cmd::Status, Duration::from_secs(5))
    }

    /// Asks `member` for its status: answered locally for this node's own id,
    /// otherwise by a status query over the network, answered by that member
    /// from its own record.
    ///
    /// # Errors
    /// [`Error::Timeout`] with no answer in `timeout`; [`Error::Core`] for an
    /// unknown member; [`Error::ShutDown`].
    pub fn query_status(&self, member: NodeId, timeout: Duration) -> Result<Status, Error> {
        if member == self.id {
            return self.status();
        }
        self.ask(|tx| Cmd::Query(member, tx), timeout)?
    }

    /// Waits until this node is in a view with quorum that holds every
    /// configured node it can reach (polling its status).
    ///
    /// # Errors
    /// [`Error::Timeout`]; [`Error::ShutDown`].
    pub fn wait_ready(&self, timeout: Duration) -> Result<Status, Error> {
        let end = Instant::now() + timeout;
        loop {
            let s = self.status()?;
            if s.quorum && s.phase != cgm_core::Phase::ViewChange {
                return Ok(s);
            }
            if Instant::now() >= end {
                return Err(Error::Timeout { pid: None });
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits until the view holds exactly `members` members with quorum.
    ///
    /// # Errors
    /// [`Error::Timeout`]; [`Error::ShutDown`].
    pub fn wait_members(&self, members: usize, timeout: Duration) -> Result<Status, Error> {
        let end = Instant::now() + timeout;
        loop {
            let s = self.status()?;
            if s.quorum && s.members.len() == members && s.phase != cgm_core::Phase::ViewChange {
                return Ok(s);
            }
            if Instant::now() >= end {
                return Err(Error::Timeout { pid: None });
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Runs a transactional parameter change (one or several parameters, atomic)
    /// and waits for its outcome, identical on every member.
    ///
    /// `txid` names the transaction: proposing the same one again is idempotent
    /// (the same outcome comes back). With `None` a fresh one is chosen.
    ///
    /// It returns once the outcome is final: every member has decided it
    /// (holds the committed values, or has undone the change), so no later
    /// view change can reverse it, and every member reports this same
    /// outcome.
    ///
    /// # Errors
    /// [`Error::Core`] with `Param` for values failing static validation (nothing
    /// sent), `NoQuorum`, `Backpressure`; [`Error::Vetoed`] / [`Error::RolledBack`]
    /// with the outcome; [`Error::Timeout`] naming the proposal, which goes on.
    pub fn propose(&self, changes: &[(Param, u64)], txid: Option<u64>, timeout: Duration) -> Result<Outcome, Error> {
        let o = self.run(ProtocolBody::Change(changes.to_vec()), txid, timeout)?;
        if o.committed {
            Ok(o)
        } else {
            Err(Error::from_outcome(o))
        }
    }

    /// Runs an application-defined peer protocol and waits for its outcome
    /// (`committed` is false if a member's step failed or a view change abandoned it).
    ///
    /// # Errors
    /// As [`Node::propose`], without the rollback errors.
    pub fn run_protocol(&self, app: AppProtocol, timeout: Duration) -> Result<Outcome, Error> {
        let start = Instant::now();
        let pid = self.submit(app)?;
        self.outcome(pid, timeout.saturating_sub(start.elapsed()))
    }

    /// Proposes an application-defined peer protocol without waiting for it:
    /// returns its id as soon as the proposal is queued; [`Node::outcome`]
    /// reads its outcome. Many proposals may be in flight at once; they run in
    /// the order the coordinator sequences them.
    ///
    /// # Errors
    /// As [`Node::run_protocol`]; [`Error::Core`] with `Backpressure` when the
    /// send queue to the coordinator is past `send-queue-overflow-threshold`
    /// (nothing is queued then: retry later).
    pub fn submit(&self, app: AppProtocol) -> Result<ProposalId, Error> {
        self.ask(|tx| Cmd::Propose(None, ProtocolBody::App(app), tx), Duration::from_secs(5))?
    }

    /// Proposes several application-defined peer protocols at once, in order,
    /// without waiting for them: the coordinator sequences them together and
    /// members ACK runs of protocols that need no local step with one ACK, so
    /// this is the fast way to issue many. Returns one result per protocol,
    /// in order: its id, or why it was refused (as [`Node::submit`]; a refused
    /// one does not stop the others).
    ///
    /// # Errors
    /// [`Error::ShutDown`] (nothing proposed).
    pub fn submit_all(&self, apps: Vec<AppProtocol>) -> Result<Vec<Result<ProposalId, Error>>, Error> {
        self.ask(|tx| Cmd::ProposeAll(apps, tx), Duration::from_secs(5))
    }

    fn run(&self, body: ProtocolBody, txid: Option<u64>, timeout: Duration) -> Result<Outcome, Error> {
        let start = Instant::now();
        let pid = self.ask(|tx| Cmd::Propose(txid, body, tx), timeout)??;
        self.outcome(pid, timeout.saturating_sub(start.elapsed()))
    }

    /// Waits for the outcome of proposal `pid` (for example one whose caller timed out).
    ///
    /// # Errors
    /// [`Error::Timeout`] naming it; [`Error::ShutDown`].
    pub fn outcome(&self, pid: ProposalId, timeout: Duration) -> Result<Outcome, Error> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        let (tx, rx) = bounded(1);
        self.cmd.send(Cmd::Watch(pid, tx)).map_err(|_| Error::ShutDown)?;
        rx.recv_timeout(timeout).map_err(|e| match e {
            crossbeam_channel::RecvTimeoutError::Timeout => Error::Timeout { pid: Some(pid) },
            crossbeam_channel::RecvTimeoutError::Disconnected => Error::ShutDown,
        })
    }

    /// Configured and effective parameters, and whether a switch-over is pending.
    ///
    /// # Errors
    /// [`Error::ShutDown`].
    pub fn params(&self) -> Result<ParamsView, Error> {
        let s = self.status()?;
        Ok(ParamsView {
            configured: s.configured,
            effective: s.params,
            generation: s.generation,
            switch_over_pending: s.switch_over_pending(),
        })
    }

    /// Takes the named local lock for the calling thread, blocking until it is
    /// free. A protocol step that needs the lock waits (visibly in the status)
    /// until the guard is dropped.
    pub fn lock(&self, name: &str) -> LockGuard {
        self.shared.locks.lock_host(name)
    }

    /// Takes the named local lock if it is free.
    pub fn try_lock(&self, name: &str) -> Option<LockGuard> {
        self.shared.locks.try_lock_host(name)
    }

    /// Registers the body of job `name`, run on its own thread each time a
    /// protocol step creates that job (unregistered jobs do nothing).
    pub fn register_job(&self, name: &str, f: JobFn) {
        self.shared.jobs.lock().expect("job table is never poisoned").insert(name.to_string(), f);
    }

    /// The file descriptor that is readable while events wait for [`Node::poll_event`].
    pub fn fd(&self) -> RawFd {
        self.shared.events.fd()
    }

    /// The next event, if one waits; never blocks.
    pub fn poll_event(&self) -> Option<NodeEvent> {
        self.shared.events.pop()
    }

    /// Waits up to `timeout` (forever for `None`) for the next event. After
    /// [`Node::shutdown`] the events still queued come out, then `None` at once,
    /// so a dispatch thread blocked here ends with the node.
    pub fn next_event(&self, timeout: Option<Duration>) -> Option<NodeEvent> {
        self.shared.events.wait(timeout)
    }

    /// Answers a [`NodeEvent::VetoRequest`]: `Ok(())` accepts, `Err(reason)` vetoes.
    ///
    /// # Errors
    /// [`Error::ShutDown`]. An answer after the veto timeout is ignored.
    pub fn answer_veto(&self, token: u64, decision: Result<(), String>) -> Result<(), Error> {
        self.cmd.send(Cmd::Complete(token, decision.map(|()| Vec::new()))).map_err(|_| Error::ShutDown)
    }

    /// Answers a [`NodeEvent::StepRequest`] with this member's status bytes, or a failure.
    ///
    /// # Errors
    /// [`Error::ShutDown`].
    pub fn answer_step(&self, token: u64, status: Result<Vec<u8>, String>) -> Result<(), Error> {
        self.cmd.send(Cmd::Complete(token, status)).map_err(|_| Error::ShutDown)
    }

    /// Leaves the group gracefully (the others install a view without this node
    /// at once) and stops the node's threads. Idempotent.
    pub fn shutdown(&self) {
        if self.shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let (tx, rx) = bounded(1);
        if self.cmd.send(Cmd::Leave(tx)).is_ok() {
            let _ = rx.recv_timeout(Duration::from_secs(2));
        }
        for t in self.threads.lock().expect("thread list is never poisoned").drain(..) {
            let _ = t.join();
        }
        self.shared.events.close();
    }

    /// Whether [`Node::shutdown`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The member thread's state.
struct Member {
    core: Core,
    envelope: Envelope,
    sock: UdpSocket,
    addrs: BTreeMap<NodeId, SocketAddr>,
    /// The multicast group every member datagram goes to, if that option is on.
    group: Option<SocketAddr>,
    sources: VecDeque<(u64, SocketAddr)>,
    next_source: u64,
    start: Instant,
    shared: Arc<Shared>,
    granted_tx: Mailbox<Granted>,
    local_tx: Mailbox<Local>,
    status_waiters: BTreeMap<u64, Sender<Result<Status, Error>>>,
    outcome_waiters: HashMap<ProposalId, Vec<Sender<Outcome>>>,
    /// Locks held (or waited for) by protocol steps: token -> (name, seq).
    held: BTreeMap<u64, (String, u64)>,
    jobs_running: Arc<AtomicUsize>,
    max_jobs: usize,
    jobs_queued: VecDeque<(u64, String)>,
    leaving: Option<(Sender<()>, Instant)>,
    out: Vec<u8>,
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
            let now = self.now();
            if self.core.poll_timeout().is_some_and(|d| d <= now) {
                self.core.handle_timeout(now);
            }
            self.drain();
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
        let (sender, inc, range) = match self.envelope.open(bytes) {
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
            // Over multicast every member hears every datagram: keep ours.
            Ok(h) if h.from == sender && h.from_inc == inc && self.group.is_some() && h.to != self.core.id() => return,
            Ok(h) if h.from == sender && h.from_inc == inc => {}
            Ok(_) => return self.core.note_dropped(Dropped::Forged),
            Err(wire::WireError::Version(v)) => {
                log::warn!(
                    "node {}: refused a datagram from {addr} of wire version {v} (this build speaks {})",
                    self.core.id(),
                    wire::WIRE_VERSION
                );
                return self.core.note_dropped(Dropped::Version);
            }
            Err(_) => return self.core.note_dropped(Dropped::Malformed),
        }
        let source = if sender == 0 { self.remember_source(addr) } else { u64::from(sender) };
        let now = self.now();
        self.core.handle_datagram(now, source, body);
    }

    fn remember_source(&mut self, addr: SocketAddr) -> u64 {
        if let Some((t, _)) = self.sources.iter().find(|(_, a)| *a == addr) {
            return *t;
        }
        self.next_source += 1;
        self.sources.push_back((self.next_source, addr));
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
                let r = match body {
                    ProtocolBody::Change(changes) => self.core.propose_change(now, txid, &changes),
                    ProtocolBody::App(app) => self.core.propose_app(now, txid, app),
                };
                let _ = tx.send(r.map_err(Error::from));
            }
            Cmd::ProposeAll(apps, tx) => {
                let _ = tx.send(apps.into_iter().map(|app| self.core.propose_app(now, None, app).map_err(Error::from)).collect());
            }
            Cmd::Watch(pid, tx) => match self.core.outcome(pid) {
                Some(o) => {
                    let _ = tx.send(o.clone());
                }
                None => self.outcome_waiters.entry(pid).or_default().push(tx),
            },
            Cmd::Complete(token, result) => {
                let _ = self.core.complete_wait(now, token, result);
            }
            Cmd::Leave(tx) => {
                self.core.leave(now);
                self.leaving = Some((tx, Instant::now()));
            }
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

    /// Sends what the core wants sent and handles its events, until both are empty.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.core.poll_transmit() {
                progressed = true;
                let to = match t.dest {
                    Dest::Node(id) => self.group.or_else(|| self.addrs.get(&id).copied()),
                    Dest::Source(tok) => self.sources.iter().find(|(s, _)| *s == tok).map(|(_, a)| *a),
                };
                if let Some(to) = to {
                    self.envelope.seal(&t.bytes, &mut self.out);
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
        // A lock is held only while its protocol is the one running.
        let running = self.core.current_protocol();
        let stale: Vec<u64> = self.held.iter().filter(|(_, (_, seq))| Some(*seq) != running).map(|(t, _)| *t).collect();
        for token in stale {
            if let Some((name, _)) = self.held.remove(&token) {
                self.shared.locks.release_member(&name, token);
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        let now = self.now();
        match e {
            Event::ViewChanged { view, members, quorum, .. } => {
                self.shared.events.push(NodeEvent::ViewChanged { view, members, quorum });
            }
            Event::Suspected { member, reason } => self.shared.events.push(NodeEvent::Suspected { member, reason }),
            Event::Completed(o) | Event::OutcomeLearned(o) => {
                // The event is queued before any waiter wakes, so a host that
                // got an outcome finds its event too.
                let waiters = self.outcome_waiters.remove(&o.pid);
                let ev = match (o.kind.as_str(), o.committed) {
                    ("param-change", true) => NodeEvent::ChangeCommitted(o.clone()),
                    ("param-change", false) => NodeEvent::ChangeRolledBack(o.clone()),
                    _ => NodeEvent::ProtocolCompleted(o.clone()),
                };
                self.shared.events.push(ev);
                for w in waiters.into_iter().flatten() {
                    let _ = w.send(o.clone());
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
                        ProtocolBody::App(_) => Vec::new(),
                    };
                    self.shared.events.push(NodeEvent::VetoRequest { token, changes });
                }
                Resource::Host => {
                    let payload = match body {
                        ProtocolBody::App(a) => a.payload.into_vec(),
                        ProtocolBody::Change(_) => Vec::new(),
                    };
                    self.shared.events.push(NodeEvent::StepRequest { token, seq, round_index, payload });
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
            Event::ParamsChanged { .. } => {}
        }
    }
}
