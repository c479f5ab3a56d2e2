//! [`Node`]: one cluster member on real UDP sockets and threads.
//!
//! [`Node`] is the handle the host holds: every call becomes a command to the
//! node's member thread (see `member`), which owns the core and its sockets,
//! or a read of the state the two share (events, locks, job bodies).

use crate::config::NodeConfig;
use crate::error::Error;
use crate::events::NodeEvent;
use crate::locks::LockGuard;
use crate::member::{Cmd, JobFn, Shared, Started};
use crate::transport::Mailbox;
use cgm_core::{AppProtocol, NodeId, Outcome, Param, Params, ProposalId, ProtocolBody, Status};
use crossbeam_channel::{bounded, Sender};
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
        let id = cfg.node_id;
        let Started { shared, cmd, thread } = crate::member::start(cfg)?;
        Ok(Node { id, shared, cmd, threads: Mutex::new(vec![thread]) })
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

    /// This node's own figures for monitoring, beside its status:
    /// datagrams in and out, ACK round and parameter change latencies (see
    /// `cgm_core::metrics`).
    ///
    /// # Errors
    /// [`Error::ShutDown`].
    pub fn local_metrics(&self) -> Result<cgm_core::metrics::LocalMetrics, Error> {
        self.ask(Cmd::LocalMetrics, Duration::from_secs(5))
    }

    /// Replaces this node's local limits (`[limits]` in its config, e.g.
    /// re-read on `SIGHUP` by `cgm node`): changes proposed from now on are
    /// checked against them; a change beyond a limit fails this member's
    /// local apply and so rolls back everywhere.
    ///
    /// # Errors
    /// [`Error::ShutDown`].
    pub fn set_limits(&self, limits: cgm_core::LocalLimits) -> Result<(), Error> {
        self.cmd.send(Cmd::SetLimits(limits)).map_err(|_| Error::ShutDown)
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

    /// Rotates the cluster key to the key in the file `key_file` by
    /// transaction and waits for the outcome: every member loads the file at
    /// this path (its absolute form), accepts both keys, then sends under the
    /// new one; if a member cannot load it, the rotation is undone everywhere
    /// and the old key stays. Place the file on every node first, beside the
    /// first key file.
    ///
    /// # Errors
    /// [`Error::Config`] for a key file that does not read; [`Error::Core`]
    /// with `InvalidProtocol` for an insecure cluster or the key already in
    /// force, `NoQuorum`, `Backpressure`; [`Error::RolledBack`] with the
    /// outcome when undone; [`Error::Timeout`] naming the proposal, which goes on.
    pub fn rotate_key(&self, key_file: &std::path::Path, txid: Option<u64>, timeout: Duration) -> Result<Outcome, Error> {
        let rotation = crate::auth::key_rotation(key_file).map_err(|m| crate::config::ConfigError::field("key_file", m))?;
        let o = self.run(ProtocolBody::RotateKey(rotation), txid, timeout)?;
        if o.committed {
            Ok(o)
        } else {
            Err(Error::from_outcome(o))
        }
    }

    /// Changes the cluster's node set by transaction and waits for the
    /// outcome: the nodes of `change.add` (id and `host:port`) join it and
    /// those of `change.remove` leave it, committed everywhere or undone
    /// everywhere. Start an added node with a configuration that lists
    /// itself and at least one member to contact; a removed member leaves
    /// the group once it is told, and its datagrams are refused from then on.
    ///
    /// # Errors
    /// [`Error::Config`] for an address that is not `host:port`;
    /// [`Error::Core`] with `InvalidNodeChange` when the change does not fit
    /// the node set (a node added twice or already in it, removing one not
    /// in it, removing a majority of the view at once), `NoQuorum`,
    /// `Backpressure`; [`Error::RolledBack`] with the outcome when undone;
    /// [`Error::Timeout`] naming the proposal, which goes on.
    pub fn change_nodes(&self, change: &cgm_core::NodeChange, txid: Option<u64>, timeout: Duration) -> Result<Outcome, Error> {
        crate::config::check_node_change(change)?;
        let o = self.run(ProtocolBody::Nodes(change.clone()), txid, timeout)?;
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
        self.run(ProtocolBody::App(app), None, timeout)
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

    /// Proposes `body` and waits for its outcome, in one request to the
    /// member thread (a proposal and then a watch took two round trips
    /// between the threads, each a wake-up of both).
    fn run(&self, body: ProtocolBody, txid: Option<u64>, timeout: Duration) -> Result<Outcome, Error> {
        let pid = Arc::new(std::sync::OnceLock::new());
        let slot = Arc::clone(&pid);
        self.ask_outcome(|tx| Cmd::Run(txid, body, slot, tx), timeout, || pid.get().copied())
    }

    /// Sends the member thread the request `make` builds around the channel
    /// the outcome comes back on, and waits up to `timeout` for it; a
    /// timeout names the proposal `pid` gives by then.
    fn ask_outcome(
        &self,
        make: impl FnOnce(Sender<Result<Outcome, Error>>) -> Cmd,
        timeout: Duration,
        pid: impl FnOnce() -> Option<ProposalId>,
    ) -> Result<Outcome, Error> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        let (tx, rx) = bounded(1);
        self.cmd.send(make(tx)).map_err(|_| Error::ShutDown)?;
        match rx.recv_timeout(timeout) {
            Ok(r) => r,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Err(Error::Timeout { pid: pid() }),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(Error::ShutDown),
        }
    }

    /// Waits for the outcome of proposal `pid` (for example one whose caller timed out).
    /// An outcome older than the member's last 16 comes back without
    /// `statuses` (see `cgm_core::Core::outcome`).
    ///
    /// # Errors
    /// [`Error::Timeout`] naming it; [`Error::ShutDown`].
    pub fn outcome(&self, pid: ProposalId, timeout: Duration) -> Result<Outcome, Error> {
        self.ask_outcome(|tx| Cmd::Watch(pid, tx), timeout, || Some(pid))
    }

    /// Configured and effective parameters, and whether a switch-over is pending.
    ///
    /// # Errors
    /// [`Error::ShutDown`].
    pub fn params(&self) -> Result<ParamsView, Error> {
        let s = self.status()?;
        Ok(ParamsView {
            switch_over_pending: s.switch_over_pending(),
            configured: s.configured,
            effective: s.params,
            generation: s.generation,
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
