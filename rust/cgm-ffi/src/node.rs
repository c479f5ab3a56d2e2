//! `cgm_node`: a running cluster member, and the calls made on it.

use crate::callbacks::Callbacks;
use crate::config::cgm_config;
use crate::error::cgm_result;
use crate::error::{boundary, fail, invalid, FfiResult, CGM_RESULT_AUTHENTICATION, CGM_RESULT_ROLLED_BACK, CGM_RESULT_SHUT_DOWN};
use crate::handle::{self, borrow, cstr, opt_cstr, out, Out, Registry};
use crate::logs::LogSink;
use crate::outcome::{cgm_change_outcome, OutcomeObj};
use crate::params::cgm_param;
use crate::params::{cgm_param_value, changes, param};
use crate::status::{cgm_status, StatusObj};
use cgm_runtime::cgm_core::{AppProtocol, NodeChange, Outcome, Resource};
use cgm_runtime::{Error, LockGuard, Node};
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::os::raw::c_char;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One running cluster member: its member thread, UDP socket, named local
/// locks and event queue.
///
/// Started by `cgm_node_start`; the caller owns it and frees it with
/// `cgm_node_free`, which leaves the group gracefully. A freed or garbage
/// pointer given to any call gives `CGM_RESULT_BAD_HANDLE` instead of a crash.
///
/// Thread-safety: every call on a node may be made from any thread, several
/// at once (a call in progress keeps the node alive if another thread frees
/// it; it then returns `CGM_RESULT_SHUT_DOWN`). No library thread ever calls
/// host code: callbacks run only inside `cgm_dispatch`, on the thread that
/// calls it.
///
/// Methods:
/// - `cgm_node_start`, `cgm_node_free`: lifecycle
/// - `cgm_node_id`, `cgm_node_wait_ready`, `cgm_node_wait_quorum`: identity and readiness
/// - `cgm_query_status`: any member's status, answered by that member
/// - `cgm_propose_param`, `cgm_propose_params`, `cgm_get_param`: parameters
/// - `cgm_rotate_key`: the cluster key
/// - `cgm_propose_node_change`: the cluster's node set (add and remove nodes)
/// - `cgm_run_protocol`, `cgm_run_host_protocol`: application peer protocols
/// - `cgm_lock_acquire`, `cgm_lock_try_acquire`, `cgm_lock_release`: named local locks
/// - `cgm_fd_get`, `cgm_dispatch`, `cgm_node_set_callbacks`: events on the caller's thread
/// - `cgm_veto_answer`, `cgm_step_answer`: answers to `on_veto` and `on_step`
pub struct cgm_node {
    _private: [u8; 0],
}

/// What the registry holds for a node.
pub(crate) struct NodeHandle {
    pub(crate) node: Node,
    /// Configured nodes (what "ready" waits for).
    configured: usize,
    /// Locks the host holds through `cgm_lock_acquire`, by name.
    locks: Mutex<HashMap<String, LockGuard>>,
    pub(crate) callbacks: Mutex<Callbacks>,
    pub(crate) logs: Arc<LogSink>,
    /// The fd `cgm_fd_get` returns: an epoll set of the node's event fd and
    /// the log sink's, readable while either has something to dispatch.
    pub(crate) poll_fd: OwnedFd,
}

/// Every live node, by the pointer C holds for it.
static NODES: Registry<cgm_node, NodeHandle> = Registry::new("node");

/// The live node behind a C pointer; the clone keeps it alive for the call.
pub(crate) fn live(node: *const cgm_node) -> FfiResult<Arc<NodeHandle>> {
    NODES.get(node)
}

impl NodeHandle {
    fn locks(&self) -> std::sync::MutexGuard<'_, HashMap<String, LockGuard>> {
        self.locks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn ms(timeout_ms: u32) -> Duration {
    Duration::from_millis(u64::from(timeout_ms))
}

/// Writes the outcome and succeeds when it committed. A rolled-back or vetoed
/// outcome is written too, with its failure code (the documented exception to
/// "out written only on success"); other errors write nothing.
fn finish(result: Result<Outcome, Error>, out: Out<*mut cgm_change_outcome>) -> FfiResult {
    match result {
        Ok(o) => {
            let committed = o.committed;
            let reason = o.reason.clone().unwrap_or_default();
            out.write(handle::into_ptr(OutcomeObj::new(o)));
            if committed {
                Ok(())
            } else {
                Err(fail(CGM_RESULT_ROLLED_BACK, format!("rolled back: {reason}")))
            }
        }
        Err(e) => {
            let failure = fail(e.code() as cgm_result, e.to_string());
            if let Error::RolledBack(o) | Error::Vetoed(o) = e {
                out.write(handle::into_ptr(OutcomeObj::new(*o)));
            }
            Err(failure)
        }
    }
}

/// Starts a node: binds its UDP socket, starts its member thread and begins
/// joining the configured nodes. Use `cgm_node_wait_ready` to wait until the
/// group is formed.
///
/// - `config`: the node's configuration (copied: free or reuse it afterwards).
/// - `out`: receives the running node.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an invalid configuration (no entry for
/// this node, no key without `insecure`...: the last error says which);
/// `CGM_RESULT_IO` if the socket cannot be bound or a thread not started.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_node_free`. Thread-safety: callable from any thread.
#[no_mangle]
pub extern "C" fn cgm_node_start(config: *const cgm_config, out: *mut *mut cgm_node) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let cfg = borrow(config)?.clone();
        let configured = cfg.nodes.len();
        let node = Node::start(cfg)?;
        let logs = Arc::new(LogSink::new()?);
        let poll_fd = crate::sys::epoll_of(&[node.fd(), logs.fd()])?;
        let h = NodeHandle { node, configured, locks: Mutex::default(), callbacks: Mutex::default(), logs, poll_fd };
        crate::logs::attach_log_sink(&h.logs);
        out.write(NODES.insert(h));
        Ok(())
    })
}

/// Leaves the group gracefully (the other members install a view without
/// this node at once), stops the node's threads, releases the locks the host
/// holds through it, and frees it. The pointer is invalid afterwards: calls
/// with it return `CGM_RESULT_BAD_HANDLE`. Calls in progress on other threads
/// return `CGM_RESULT_SHUT_DOWN`.
///
/// - `node`: the node, or NULL (nothing happens).
///
/// Results: `CGM_RESULT_OK` (also for NULL); `CGM_RESULT_BAD_HANDLE` for a
/// pointer that is not a live node (freed already, or garbage).
///
/// Thread-safety: callable from any thread; of two threads freeing the same
/// node, one gets `CGM_RESULT_OK` and the other `CGM_RESULT_BAD_HANDLE`.
#[no_mangle]
pub extern "C" fn cgm_node_free(node: *mut cgm_node) -> cgm_result {
    boundary(|| {
        if let Some(h) = NODES.remove(node)? {
            h.node.shutdown();
            h.logs.close();
            h.locks().clear();
        }
        Ok(())
    })
}

/// This node's id.
///
/// - `node`: the node.
/// - `out`: receives its id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`; `CGM_RESULT_BAD_HANDLE`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_node_id(node: *const cgm_node, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(live(node)?.node.id());
        Ok(())
    })
}

/// Waits until this node is in a view with quorum that holds every configured
/// node (the whole cluster is up and has formed one group).
///
/// - `node`: the node.
/// - `timeout_ms`: how long to wait, in milliseconds.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_TIMEOUT`; `CGM_RESULT_SHUT_DOWN`.
///
/// Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_node_wait_ready(node: *const cgm_node, timeout_ms: u32) -> cgm_result {
    boundary(|| {
        let h = live(node)?;
        h.node.wait_members(h.configured, ms(timeout_ms))?;
        Ok(())
    })
}

/// Waits until this node is in a view with quorum (a majority of the
/// configured nodes and of the last view that had quorum), not necessarily
/// all of them. On a cluster's first start no such earlier view exists, so
/// the first view with quorum holds every configured node.
///
/// - `node`: the node.
/// - `timeout_ms`: how long to wait, in milliseconds.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_TIMEOUT`; `CGM_RESULT_SHUT_DOWN`.
///
/// Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_node_wait_quorum(node: *const cgm_node, timeout_ms: u32) -> cgm_result {
    boundary(|| {
        live(node)?.node.wait_ready(ms(timeout_ms))?;
        Ok(())
    })
}

/// Asks a member for its status. The member answers from its own record (no
/// further messages, no central monitor), even while it waits on ACKs, a
/// lock, a job or its host's veto. This node's own id is answered locally.
///
/// - `node`: the node asking.
/// - `member_id`: the configured node to ask.
/// - `timeout_ms`: how long to wait for the answer, in milliseconds.
/// - `out`: receives the status.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_NOT_MEMBER` for a node that is not
/// configured; `CGM_RESULT_TIMEOUT` without an answer in time (the member is
/// down or unreachable); `CGM_RESULT_SHUT_DOWN`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_status_free`. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_query_status(node: *const cgm_node, member_id: u32, timeout_ms: u32, out: *mut *mut cgm_status) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let h = live(node)?;
        let s = h.node.query_status(member_id, ms(timeout_ms))?;
        out.write(handle::into_ptr(StatusObj::new(s)));
        Ok(())
    })
}

/// Asks a member for its status from a tool that is not a member (as `cgm
/// status` does): nothing joins the group. The member's address, the key and
/// encryption come from `config`; the member answers from its own record.
///
/// - `config`: a configuration of the cluster (e.g. loaded from any node's
///   file); its own node id is not used.
/// - `member_id`: the configured node to ask.
/// - `timeout_ms`: how long to wait for the answer, in milliseconds.
/// - `out`: receives the status.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_NOT_MEMBER` for a node that is not in `config`;
/// `CGM_RESULT_AUTHENTICATION` when `config` has no key and is not insecure;
/// `CGM_RESULT_TIMEOUT`; `CGM_RESULT_IO`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_status_free`. Thread-safety: callable from any thread; see
/// `cgm_config` for the configuration.
#[no_mangle]
pub extern "C" fn cgm_operator_query_status(
    config: *const cgm_config,
    member_id: u32,
    timeout_ms: u32,
    out: *mut *mut cgm_status,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let cfg = borrow(config)?;
        let addr = cfg
            .addr_of(member_id)
            .ok_or_else(|| fail(crate::error::CGM_RESULT_NOT_MEMBER, format!("node {member_id} is not in the configuration")))?;
        if cfg.key.is_none() && !cfg.insecure {
            return Err(fail(CGM_RESULT_AUTHENTICATION, "no cluster key: set one (cgm_config_set_key) or insecure"));
        }
        let mut client = cgm_runtime::client::Client::new(cfg.key.as_ref(), cfg.encrypt, addr)?;
        let s = client.query_status(addr, member_id, ms(timeout_ms))?;
        out.write(handle::into_ptr(StatusObj::new(s)));
        Ok(())
    })
}

/// Changes one parameter on every member, as a transaction: the change is
/// sequenced by the coordinator, every member confirms receipt (ACK round 1),
/// checks and applies it locally (its local limits and, if configured, its
/// host's veto), and reports (ACK round 2); if any member failed, every member
/// undoes it. The outcome is the same on every member.
///
/// It returns once the outcome is final: every member has decided it (holds
/// the committed values, or has undone the change), so no later view change
/// can reverse it, and every member's `on_change` reports this same outcome.
///
/// - `node`: the node proposing.
/// - `param`: a `CGM_PARAM_*` number.
/// - `value`: the new value, in the parameter's unit.
/// - `timeout_ms`: how long to wait for the outcome, in milliseconds.
/// - `out`: receives the outcome.
///
/// Results: `CGM_RESULT_OK` when committed on every member;
/// `CGM_RESULT_ROLLED_BACK` (a member failed its local apply) or
/// `CGM_RESULT_VETOED` (a member's host refused it), rolled back on every
/// member; `CGM_RESULT_INVALID_PARAMETER` for a value out of range or
/// breaking a rule (nothing is sent; the last error names parameter, value
/// and range); `CGM_RESULT_NO_QUORUM`; `CGM_RESULT_BACKPRESSURE`;
/// `CGM_RESULT_TIMEOUT` (the change goes on: its outcome arrives as
/// `on_change`); `CGM_RESULT_NULL_ARGUMENT`; `CGM_RESULT_BAD_HANDLE`;
/// `CGM_RESULT_SHUT_DOWN`.
///
/// `*out` is written on `CGM_RESULT_OK` and also on `CGM_RESULT_ROLLED_BACK`
/// and `CGM_RESULT_VETOED` (the one exception to "out-parameters are written
/// only on success"), so the caller can see which members failed and why.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_change_outcome_free`. Thread-safety: see `cgm_node`; do not
/// call it from a callback of the same node's `cgm_dispatch` with the veto
/// hook on, since this node's veto request would wait for that dispatch.
#[no_mangle]
pub extern "C" fn cgm_propose_param(
    node: *const cgm_node,
    param: cgm_param,
    value: u64,
    timeout_ms: u32,
    out: *mut *mut cgm_change_outcome,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let h = live(node)?;
        let p = self::param(param)?;
        finish(h.node.propose(&[(p, value)], None, ms(timeout_ms)), out)
    })
}

/// Changes several parameters on every member in one transaction: all of
/// them commit or none does (see `cgm_propose_param`). Moving related values
/// together (e.g. heartbeat-interval with heartbeat-timeout) needs this.
///
/// - `node`: the node proposing.
/// - `changes`: `n` parameter/value pairs, each parameter at most once.
/// - `n`: at least 1.
/// - `timeout_ms`: how long to wait for the outcome, in milliseconds.
/// - `out`: receives the outcome.
///
/// Results: as `cgm_propose_param`, and `CGM_RESULT_INVALID_PARAMETER` for
/// an empty change or a parameter named twice. `*out` is written on
/// `CGM_RESULT_OK`, `CGM_RESULT_ROLLED_BACK` and `CGM_RESULT_VETOED`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_change_outcome_free`. Thread-safety: see `cgm_propose_param`.
#[no_mangle]
pub extern "C" fn cgm_propose_params(
    node: *const cgm_node,
    changes: *const cgm_param_value,
    n: usize,
    timeout_ms: u32,
    out: *mut *mut cgm_change_outcome,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        if changes.is_null() {
            return Err(handle::null("changes"));
        }
        let h = live(node)?;
        let list = self::changes(handle::slice(changes, n, "changes")?)?;
        finish(h.node.propose(&list, None, ms(timeout_ms)), out)
    })
}

/// Rotates the cluster key by transaction to the key in the file
/// `key_file`: in round 1 every member loads the file at that path (its
/// absolute form) and accepts datagrams under both keys; in round 2 every
/// member sends under the new key; a member that cannot load the file fails
/// round 1 and the rotation is undone everywhere (the old key stays). Place
/// the file, 32 bytes as `cgm keygen` writes, at the same path on every node
/// first, beside the first key file (a member away during the rotation looks
/// for it there). The key itself never travels; its fingerprint does.
///
/// - `node`: the node proposing.
/// - `key_file`: path of the new key file (NUL-terminated UTF-8).
/// - `timeout_ms`: how long to wait for the outcome, in milliseconds.
/// - `out`: receives the outcome.
///
/// Results: `CGM_RESULT_OK` when every member sends under the new key;
/// `CGM_RESULT_ROLLED_BACK` (a member could not load it: the outcome names
/// it and why), undone on every member; `CGM_RESULT_INVALID_ARGUMENT` for a
/// file that does not read as a key, an insecure cluster, or the key already
/// in force (nothing is sent); `CGM_RESULT_NO_QUORUM`;
/// `CGM_RESULT_BACKPRESSURE`; `CGM_RESULT_TIMEOUT` (the rotation goes on);
/// `CGM_RESULT_NULL_ARGUMENT`; `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_SHUT_DOWN`.
/// `*out` is written on `CGM_RESULT_OK` and `CGM_RESULT_ROLLED_BACK`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_change_outcome_free`. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_rotate_key(
    node: *const cgm_node,
    key_file: *const c_char,
    timeout_ms: u32,
    out: *mut *mut cgm_change_outcome,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let path = handle::cstr(key_file, "key_file")?;
        let h = live(node)?;
        finish(h.node.rotate_key(std::path::Path::new(path), None, ms(timeout_ms)), out)
    })
}

/// One node a node change adds (`cgm_propose_node_change`): its id and the
/// address every member reaches it at.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cgm_node_addr {
    /// The node's id (1 or more; 0 is reserved for operator tools).
    pub id: u32,
    /// Its UDP address as a literal `ip:port` (`[ipv6]:port` for IPv6), written
    /// as the library writes it back, e.g. "127.0.0.1:7001": no host name, which
    /// each member could resolve differently. NUL-terminated UTF-8; read during
    /// the call only.
    pub addr: *const c_char,
}

/// A C node change as the runtime's [`NodeChange`]; the addresses are only
/// read here (their form is checked by the runtime).
fn node_change(add: &[cgm_node_addr], remove: &[u32]) -> FfiResult<NodeChange> {
    let add = add
        .iter()
        .enumerate()
        .map(|(i, a)| Ok((a.id, cstr(a.addr, &format!("add[{i}].addr"))?.to_string())))
        .collect::<FfiResult<Vec<_>>>()?;
    Ok(NodeChange { add, remove: remove.to_vec() })
}

/// Changes the cluster's node set by transaction: the nodes of `add` join it
/// and those of `remove` leave it, in one change of two ACK rounds that
/// commits on every member or is undone on every member (as
/// `cgm_propose_param`). The node set decides quorum: a view has quorum with
/// a majority of it.
///
/// Start an added node afterwards with a configuration that lists itself and
/// at least one member to contact (e.g. one other node): it joins, and takes
/// the cluster's node set and parameters by state transfer
/// (`cgm_status_cluster_node`). A removed member is told by the outcome,
/// leaves the group (its `on_removed` callback runs, after `on_protocol`
/// with this outcome) and is refused from then on; free it with
/// `cgm_node_free`. Its outcome also arrives as `on_protocol` on every
/// member (kind "node-change").
///
/// - `node`: the node proposing.
/// - `add`: `n_add` nodes to add, each with its id and address (NULL if
///   `n_add` is 0).
/// - `n_add`: their number.
/// - `remove`: `n_remove` ids of nodes to remove (NULL if `n_remove` is 0).
/// - `n_remove`: their number; `n_add + n_remove` is at least 1.
/// - `timeout_ms`: how long to wait for the outcome, in milliseconds.
/// - `out`: receives the outcome.
///
/// Results: `CGM_RESULT_OK` when committed on every member;
/// `CGM_RESULT_ROLLED_BACK` (a member failed to apply it, or a view change
/// abandoned it), undone on every member; `CGM_RESULT_INVALID_ARGUMENT`
/// (nothing is sent; the last error says why) for an address that is not a
/// literal `ip:port` or not UTF-8, or a change that does not fit the node
/// set in force: empty, node id 0, a node added twice or already in the set,
/// removing one not in it, a node both added and removed, an address another
/// node has, or removing half or more of the current view at once;
/// `CGM_RESULT_NOT_MEMBER` when this node has left the group (it was
/// removed); `CGM_RESULT_NO_QUORUM`; `CGM_RESULT_BACKPRESSURE`;
/// `CGM_RESULT_TIMEOUT` (the change goes on: its outcome arrives as
/// `on_protocol`); `CGM_RESULT_NULL_ARGUMENT` (also for `add` or `remove`
/// NULL with a count above 0, or an `addr` NULL); `CGM_RESULT_BAD_HANDLE`;
/// `CGM_RESULT_SHUT_DOWN`. `*out` is written on `CGM_RESULT_OK` and
/// `CGM_RESULT_ROLLED_BACK`.
///
/// Does not take ownership of its arguments (the arrays and strings are
/// copied); the caller owns `*out` and frees it with
/// `cgm_change_outcome_free`. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_propose_node_change(
    node: *const cgm_node,
    add: *const cgm_node_addr,
    n_add: usize,
    remove: *const u32,
    n_remove: usize,
    timeout_ms: u32,
    out: *mut *mut cgm_change_outcome,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let change = node_change(handle::slice(add, n_add, "add")?, handle::slice(remove, n_remove, "remove")?)?;
        let h = live(node)?;
        finish(h.node.change_nodes(&change, None, ms(timeout_ms)), out)
    })
}

/// The value of a parameter in force on this node.
///
/// - `node`: the node.
/// - `param`: a `CGM_PARAM_*` number.
/// - `value`: receives the value, in the parameter's unit.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_INVALID_PARAMETER`;
/// `CGM_RESULT_SHUT_DOWN`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_get_param(node: *const cgm_node, param: cgm_param, value: *mut u64) -> cgm_result {
    boundary(|| {
        let value = out(value, "value")?;
        let h = live(node)?;
        let p = self::param(param)?;
        value.write(h.node.params()?.effective.get(p));
        Ok(())
    })
}

fn app(payload: *const u8, len: usize, rounds: u32, wait: Option<Resource>) -> FfiResult<AppProtocol> {
    let bytes = handle::slice(payload, len, "payload")?;
    let rounds = u8::try_from(rounds)
        .ok()
        .filter(|&r| r >= 1)
        .ok_or_else(|| invalid(format!("rounds is {rounds}: an application protocol has 1 to 255 ACK rounds")))?;
    Ok(AppProtocol { payload: bytes.to_vec().into(), rounds, wait })
}

/// Runs an application-defined peer protocol on every member, in the total
/// order, and waits for its outcome. Every member takes part in each of its
/// ACK rounds; with a lock name, each member first takes that named local
/// lock (waiting, visibly in its status, while the host holds it through
/// `cgm_lock_acquire`) and holds it until the protocol ends.
///
/// - `node`: the node proposing.
/// - `payload`: `len` opaque bytes delivered to every member (NULL if `len` is 0;
///   at most 1 MiB with `lock_name`, `CGM_RESULT_INVALID_ARGUMENT` above).
/// - `len`: payload length in bytes.
/// - `rounds`: ACK rounds, 1 to 255.
/// - `lock_name`: a lock each member takes before ACKing, or NULL for none.
/// - `timeout_ms`: how long to wait for the outcome, in milliseconds.
/// - `out`: receives the outcome.
///
/// Results: `CGM_RESULT_OK` when it completed on every member;
/// `CGM_RESULT_ROLLED_BACK` when a member's step failed or a view change
/// abandoned it (`*out` is written then too); `CGM_RESULT_INVALID_ARGUMENT`
/// for 0 or more than 255 rounds or a lock name that is not UTF-8;
/// `CGM_RESULT_NO_QUORUM`;
/// `CGM_RESULT_BACKPRESSURE`; `CGM_RESULT_TIMEOUT` (it goes on; its outcome
/// arrives as `on_protocol`); `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_SHUT_DOWN`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_change_outcome_free`. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_run_protocol(
    node: *const cgm_node,
    payload: *const u8,
    len: usize,
    rounds: u32,
    lock_name: *const c_char,
    timeout_ms: u32,
    out: *mut *mut cgm_change_outcome,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let h = live(node)?;
        let lock = opt_cstr(lock_name, "lock_name")?;
        let app = app(payload, len, rounds, lock.map(|n| Resource::Lock(n.to_string())))?;
        finish(h.node.run_protocol(app, ms(timeout_ms)), out)
    })
}

/// Runs an application-defined peer protocol whose every round waits for each
/// member's host: each member's `on_step` callback receives the payload and
/// answers with `cgm_step_answer` (bytes that travel in its ACK, or a
/// failure). The outcome carries every member's bytes
/// (`cgm_change_outcome_member_payload`).
///
/// - `node`: the node proposing.
/// - `payload`: `len` opaque bytes delivered to every member (NULL if `len` is 0;
///   at most 1 MiB, `CGM_RESULT_INVALID_ARGUMENT` above).
/// - `len`: payload length in bytes.
/// - `rounds`: ACK rounds, 1 to 255.
/// - `timeout_ms`: how long to wait for the outcome, in milliseconds.
/// - `out`: receives the outcome.
///
/// Results: as `cgm_run_protocol`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_change_outcome_free`. Thread-safety: see `cgm_node`; the
/// proposing node's own step also needs a `cgm_dispatch` while this waits, so
/// call it from a thread other than the one dispatching.
#[no_mangle]
pub extern "C" fn cgm_run_host_protocol(
    node: *const cgm_node,
    payload: *const u8,
    len: usize,
    rounds: u32,
    timeout_ms: u32,
    out: *mut *mut cgm_change_outcome,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let h = live(node)?;
        let app = app(payload, len, rounds, Some(Resource::Host))?;
        finish(h.node.run_protocol(app, ms(timeout_ms)), out)
    })
}

/// Takes a named local lock for the host, blocking until it is free. A
/// protocol step that needs the lock (`cgm_run_protocol` with its name)
/// waits, visibly in this member's status, until `cgm_lock_release`. The
/// lock belongs to the host, not to the calling thread: any thread may
/// release it, and a second acquire of a held name blocks until then.
///
/// - `node`: the node whose lock table to use.
/// - `name`: the lock's name, NUL-terminated.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_INVALID_ARGUMENT` for a name that is
/// not UTF-8; `CGM_RESULT_SHUT_DOWN` if the node was freed while waiting.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_lock_acquire(node: *const cgm_node, name: *const c_char) -> cgm_result {
    boundary(|| {
        let name = cstr(name, "name")?;
        let h = live(node)?;
        let guard = h.node.lock(name);
        if h.node.is_closed() {
            return Err(fail(CGM_RESULT_SHUT_DOWN, "the node is shut down"));
        }
        h.locks().insert(name.to_string(), guard);
        Ok(())
    })
}

/// Takes a named local lock for the host if it is free (see `cgm_lock_acquire`).
///
/// - `node`: the node whose lock table to use.
/// - `name`: the lock's name, NUL-terminated.
/// - `acquired`: receives true if the lock was taken, false if it is held
///   (by the host or by a protocol step).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_INVALID_ARGUMENT` for a name that is
/// not UTF-8; `CGM_RESULT_SHUT_DOWN`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_lock_try_acquire(node: *const cgm_node, name: *const c_char, acquired: *mut bool) -> cgm_result {
    boundary(|| {
        let acquired = out(acquired, "acquired")?;
        let name = cstr(name, "name")?;
        let h = live(node)?;
        if h.node.is_closed() {
            return Err(fail(CGM_RESULT_SHUT_DOWN, "the node is shut down"));
        }
        let guard = h.node.try_lock(name);
        let got = guard.is_some();
        if let Some(g) = guard {
            h.locks().insert(name.to_string(), g);
        }
        acquired.write(got);
        Ok(())
    })
}

/// Releases a named local lock the host took with `cgm_lock_acquire` or
/// `cgm_lock_try_acquire`; a protocol step waiting for it proceeds.
///
/// - `node`: the node whose lock table to use.
/// - `name`: the lock's name, NUL-terminated.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_INVALID_ARGUMENT` if the host does not
/// hold that lock or the name is not UTF-8.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_lock_release(node: *const cgm_node, name: *const c_char) -> cgm_result {
    boundary(|| {
        let name = cstr(name, "name")?;
        let h = live(node)?;
        let guard = h.locks().remove(name);
        match guard {
            Some(g) => {
                drop(g);
                Ok(())
            }
            None => Err(invalid(format!("lock {name:?} is not held by this host"))),
        }
    })
}

/// Answers a veto request (`on_veto`): accept the change, or refuse it, which
/// rolls it back on every member with this member's reason. An answer after
/// the veto timeout is ignored (the change was already vetoed).
///
/// - `node`: the node whose `on_veto` asked.
/// - `token`: the token `on_veto` received.
/// - `accept`: true to accept.
/// - `reason`: why it is refused (NUL-terminated; NULL gives "refused by the
///   host"); ignored when accepting.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_INVALID_ARGUMENT` for a reason that
/// is not UTF-8; `CGM_RESULT_SHUT_DOWN`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`;
/// may be called inside the `on_veto` callback or later from any thread.
#[no_mangle]
pub extern "C" fn cgm_veto_answer(node: *const cgm_node, token: u64, accept: bool, reason: *const c_char) -> cgm_result {
    boundary(|| {
        let h = live(node)?;
        let reason = opt_cstr(reason, "reason")?.unwrap_or("refused by the host");
        h.node.answer_veto(token, if accept { Ok(()) } else { Err(reason.to_string()) })?;
        Ok(())
    })
}

/// Answers a step request (`on_step`) of an application protocol: this
/// member's status bytes for the round (they travel in its ACK and appear in
/// the outcome), or a failure.
///
/// - `node`: the node whose `on_step` asked.
/// - `token`: the token `on_step` received.
/// - `status`: `len` bytes (NULL if `len` is 0); keep them small (they travel
///   in an ACK).
/// - `len`: their number.
/// - `failure`: NULL for success, or why the step failed (NUL-terminated),
///   which makes the protocol not commit.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_INVALID_ARGUMENT` for a failure
/// message that is not UTF-8; `CGM_RESULT_SHUT_DOWN`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`;
/// may be called inside the `on_step` callback or later from any thread.
#[no_mangle]
pub extern "C" fn cgm_step_answer(node: *const cgm_node, token: u64, status: *const u8, len: usize, failure: *const c_char) -> cgm_result {
    boundary(|| {
        let h = live(node)?;
        let bytes = handle::slice(status, len, "status")?;
        let failure = opt_cstr(failure, "failure")?;
        h.node.answer_step(token, failure.map_or_else(|| Ok(bytes.to_vec()), |f| Err(f.to_string())))?;
        Ok(())
    })
}
