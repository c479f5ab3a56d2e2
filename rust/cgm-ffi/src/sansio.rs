//! `cgm_core` and `cgm_core_event`: the sans-IO core for hosts that own their
//! sockets, timers and loop.

use crate::error::cgm_result;
use crate::error::{boundary, boundary_value, fail, invalid, FfiResult, CGM_RESULT_INVALID_ARGUMENT};
use crate::handle::{self, borrow, borrow_mut, c_ptr, out, Castable};
use crate::outcome::{cgm_change_outcome, OutcomeObj};
use crate::params::cgm_param;
use crate::params::{cgm_param_value, changes, param, to_c};
use crate::status::{cgm_status, resource_kind, StatusObj};
use cgm_runtime::cgm_core::{Config, Core, Dest, Event, Resource, Time, Transmit};
use std::ffi::CString;
use std::os::raw::c_char;

/// The sans-IO group-membership core of one member, for a host that owns its
/// sockets, timers and event loop (an existing cluster stack): the same state
/// machine the library's own nodes run, with no sockets, threads or clock.
///
/// The host feeds it datagrams (`cgm_core_handle_datagram`) and timeouts
/// (`cgm_core_handle_timeout`), each with `now_us` from one monotonic clock
/// of its choice, and after every input drains, in this order: datagrams to
/// send (`cgm_core_poll_transmit` until it gives none), events
/// (`cgm_core_poll_event`), then the next deadline (`cgm_core_poll_timeout`).
///
/// No authentication: datagrams are neither signed nor checked here, so the
/// host must authenticate (or trust) its transport itself; a datagram that
/// does not decode is dropped and counted.
///
/// Made by `cgm_core_new`; the caller owns it and frees it with
/// `cgm_core_free`. Thread-safety: not synchronised; call it from one thread
/// at a time (the host's loop).
///
/// Methods:
/// - `cgm_core_new`, `cgm_core_new_from_config`, `cgm_core_free`
/// - `cgm_core_handle_datagram`, `cgm_core_handle_timeout`: inputs
/// - `cgm_core_poll_transmit`, `cgm_core_poll_event`, `cgm_core_poll_timeout`: outputs
/// - `cgm_core_propose_param`, `cgm_core_propose_params`: parameter changes
/// - `cgm_core_complete_wait`: answer a `CGM_EVENT_LOCAL_WAIT`
/// - `cgm_core_query_status`, `cgm_core_query_member_status`: status
/// - `cgm_core_leave`, `cgm_core_is_flushed`: leave the group
pub struct cgm_core {
    _private: [u8; 0],
}

/// One event of a `cgm_core`: what happened (`cgm_core_event_kind`) and its
/// details.
///
/// Made by `cgm_core_poll_event`; the caller owns it and frees it with
/// `cgm_core_event_free`. Strings and arrays it returns live as long as it
/// does. Thread-safety: immutable; any number of threads may read one at once.
///
/// Methods:
/// - `cgm_core_event_kind`: one of `CGM_EVENT_*`
/// - `cgm_core_event_view`: `CGM_EVENT_VIEW_CHANGED`
/// - `cgm_core_event_member`, `cgm_core_event_reason`: `CGM_EVENT_SUSPECTED`,
///   `CGM_EVENT_STATUS_QUERY_FAILED`
/// - `cgm_core_event_token`: `CGM_EVENT_LOCAL_WAIT`, `CGM_EVENT_WAIT_CANCELLED`,
///   `CGM_EVENT_STATUS_REPLY`, `CGM_EVENT_STATUS_QUERY_FAILED`
/// - `cgm_core_event_wait`, `cgm_core_event_changes`: `CGM_EVENT_LOCAL_WAIT`
/// - `cgm_core_event_outcome`: `CGM_EVENT_COMPLETED`, `CGM_EVENT_OUTCOME_LEARNED`
/// - `cgm_core_event_status`: `CGM_EVENT_STATUS_REPLY`
/// - `CGM_EVENT_PARAMS_CHANGED` and `CGM_EVENT_REMOVED` (this member was
///   removed from the cluster's node set and left) carry no details:
///   `cgm_core_query_status` shows the values and node set in force
/// - `cgm_core_event_free`
pub struct cgm_core_event {
    _private: [u8; 0],
}

/// A new view was installed (`cgm_core_event_view`; members via `cgm_core_query_status`).
pub const CGM_EVENT_VIEW_CHANGED: u32 = 1;
/// This member suspects another failed (`cgm_core_event_member`, `cgm_core_event_reason`).
pub const CGM_EVENT_SUSPECTED: u32 = 2;
/// A protocol ended on this member (`cgm_core_event_outcome`).
pub const CGM_EVENT_COMPLETED: u32 = 3;
/// The outcome of this member's own proposal, decided while it was cut off (`cgm_core_event_outcome`).
pub const CGM_EVENT_OUTCOME_LEARNED: u32 = 4;
/// A protocol step waits on a local resource (`cgm_core_event_wait`,
/// `cgm_core_event_token`): acquire it or decide, then `cgm_core_complete_wait`.
pub const CGM_EVENT_LOCAL_WAIT: u32 = 5;
/// A local wait is no longer needed: release what was acquired for it (`cgm_core_event_token`).
pub const CGM_EVENT_WAIT_CANCELLED: u32 = 6;
/// Parameters changed here (a commit, a rollback or a view's state transfer).
pub const CGM_EVENT_PARAMS_CHANGED: u32 = 7;
/// The answer to `cgm_core_query_member_status` (`cgm_core_event_token`, `cgm_core_event_status`).
pub const CGM_EVENT_STATUS_REPLY: u32 = 8;
/// A status query got no answer in time (`cgm_core_event_token`, `cgm_core_event_member`).
pub const CGM_EVENT_STATUS_QUERY_FAILED: u32 = 9;
/// A committed node change removed this node from the cluster's node set:
/// it left the group; the others refuse it until a node change adds it
/// again. The `CGM_EVENT_PARAMS_CHANGED` just before it carries the new
/// generation.
pub const CGM_EVENT_REMOVED: u32 = 10;

/// The Rust value behind a `cgm_core`: the core and a datagram that did not
/// fit the caller's buffer, kept for the next poll.
pub(crate) struct CoreObj {
    core: Core,
    pending: Option<Transmit>,
}

impl Castable for cgm_core {
    type Rust = CoreObj;
    const NAME: &'static str = "core";
}

/// The Rust value behind a `cgm_core_event`, with what its accessors hand out.
pub(crate) struct EventObj {
    event: Event,
    reason: Option<CString>,
    name: Option<CString>,
    changes: Vec<cgm_param_value>,
}

impl Castable for cgm_core_event {
    type Rust = EventObj;
    const NAME: &'static str = "event";
}

impl EventObj {
    fn new(event: Event) -> EventObj {
        let c = |s: &str| CString::new(s.replace('\0', "")).unwrap_or_default();
        let (mut reason, mut name, mut list) = (None, None, Vec::new());
        match &event {
            Event::Suspected { reason: r, .. } => reason = Some(c(r)),
            Event::LocalWait { resource, body, .. } => {
                if let Resource::Lock(n) | Resource::Job(n) = resource {
                    name = Some(c(n));
                }
                if let cgm_runtime::cgm_core::ProtocolBody::Change(ch) = body {
                    list = to_c(ch);
                }
            }
            _ => {}
        }
        EventObj { event, reason, name, changes: list }
    }

    fn kind(&self) -> u32 {
        match self.event {
            Event::ViewChanged { .. } => CGM_EVENT_VIEW_CHANGED,
            Event::Suspected { .. } => CGM_EVENT_SUSPECTED,
            Event::Completed(_) => CGM_EVENT_COMPLETED,
            Event::OutcomeLearned(_) => CGM_EVENT_OUTCOME_LEARNED,
            Event::LocalWait { .. } => CGM_EVENT_LOCAL_WAIT,
            Event::WaitCancelled { .. } => CGM_EVENT_WAIT_CANCELLED,
            Event::ParamsChanged { .. } => CGM_EVENT_PARAMS_CHANGED,
            Event::StatusReply { .. } => CGM_EVENT_STATUS_REPLY,
            Event::StatusQueryFailed { .. } => CGM_EVENT_STATUS_QUERY_FAILED,
            Event::Removed { .. } => CGM_EVENT_REMOVED,
        }
    }
}

fn wrong_kind(e: &EventObj, want: &str) -> crate::error::Failure {
    fail(CGM_RESULT_INVALID_ARGUMENT, format!("event of kind {} has no {want}", e.kind()))
}

fn now(us: u64) -> Time {
    Time::from_micros(us)
}

/// Makes the core of member `node_id` among the configured `nodes`, with
/// default parameters, quorum on and no veto hook. It starts in a view of its
/// own and merges with the others as their datagrams arrive.
///
/// - `node_id`: this member's id, non-zero, among `nodes`.
/// - `incarnation`: must grow every time this member starts (a start time in
///   microseconds works), so its old traffic is recognised as stale.
/// - `nodes`: the `n` configured node ids, this one included, no duplicates.
/// - `n`: their number.
/// - `now_us`: the host's monotonic clock, in microseconds.
/// - `out`: receives the core.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an id of 0, an id not among `nodes`, or
/// a duplicate.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_core_free`. Thread-safety: callable from any thread.
#[no_mangle]
pub extern "C" fn cgm_core_new(
    node_id: u32,
    incarnation: u64,
    nodes: *const u32,
    n: usize,
    now_us: u64,
    out: *mut *mut cgm_core,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        if nodes.is_null() {
            return Err(handle::null("nodes"));
        }
        let list = handle::slice(nodes, n, "nodes")?.to_vec();
        let core = Core::new(Config::new(node_id, incarnation, list), now(now_us))?;
        out.write(handle::into_ptr(CoreObj { core, pending: None }));
        Ok(())
    })
}

/// Makes a member's core from a node configuration: its node ids, initial
/// parameters, local limits, quorum rule and veto hook (the veto request
/// then arrives as `CGM_EVENT_LOCAL_WAIT` with `CGM_WAITING_VETO`, to be
/// answered with `cgm_core_complete_wait`). Addresses, key and encryption
/// are the host's business and are not used.
///
/// - `config`: the configuration (copied).
/// - `incarnation`: must grow every time this member starts (see `cgm_core_new`).
/// - `now_us`: the host's monotonic clock, in microseconds.
/// - `out`: receives the core.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` when this node is not among the configured nodes.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_core_free`. Thread-safety: callable from any thread; see
/// `cgm_config` for the configuration.
#[no_mangle]
pub extern "C" fn cgm_core_new_from_config(
    config: *const crate::config::cgm_config,
    incarnation: u64,
    now_us: u64,
    out: *mut *mut cgm_core,
) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let c = borrow(config)?;
        if c.state_dir.is_some() {
            return Err(invalid("state_dir: a sans-IO core keeps no state on disk (cgm_node_start does); clear it with cgm_config_set_state_dir(config, NULL)"));
        }
        let core = Core::new(c.core_config(incarnation), now(now_us))?;
        out.write(handle::into_ptr(CoreObj { core, pending: None }));
        Ok(())
    })
}

/// Frees a core (without leaving: see `cgm_core_leave`). NULL is fine;
/// freeing twice is not.
///
/// Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_free(core: *mut cgm_core) {
    boundary_value((), || handle::free(core))
}

/// Takes in one datagram the host received. Datagrams that do not decode, or
/// are stale or not for this member, are dropped and counted.
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
/// - `source`: an opaque token naming where the datagram came from (e.g. the
///   index of the sender's address in the host's table); answers to operator
///   tools, and refusals of nodes outside the node set, come back from
///   `cgm_core_poll_transmit` with this token.
/// - `buf`: the datagram's `len` bytes.
/// - `len`: its length.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_handle_datagram(core: *mut cgm_core, now_us: u64, source: u64, buf: *const u8, len: usize) -> cgm_result {
    boundary(|| {
        if buf.is_null() {
            return Err(handle::null("buf"));
        }
        let c = borrow_mut(core)?;
        let bytes = handle::slice(buf, len, "buf")?;
        c.core.handle_datagram(now(now_us), source, bytes);
        Ok(())
    })
}

/// Fires every timer due at `now_us`. Call it when the deadline from
/// `cgm_core_poll_timeout` has passed (calling it early does no harm).
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_handle_timeout(core: *mut cgm_core, now_us: u64) -> cgm_result {
    boundary(|| {
        borrow_mut(core)?.core.handle_timeout(now(now_us));
        Ok(())
    })
}

/// Takes the next datagram to send, if any. A datagram is at most
/// max-fragment-size bytes (at most 65000): a 65536-byte buffer always fits.
///
/// - `core`: the core.
/// - `dest_node`: receives the node to send it to, or 0 when it answers an
///   operator tool or a node outside the node set (then see `dest_source`).
/// - `dest_source`: receives the `source` token of the datagram it answers
///   when `*dest_node` is 0, else 0.
/// - `buf`: where to copy the datagram, `cap` bytes.
/// - `cap`: size of `buf`.
/// - `len`: receives the datagram's length, or 0 when nothing is pending
///   (then `dest_node` and `dest_source` are 0 too).
///
/// Results: `CGM_RESULT_OK` (with `*len` 0 when nothing is pending);
/// `CGM_RESULT_NULL_ARGUMENT`; `CGM_RESULT_INVALID_ARGUMENT` when `cap` is
/// too small: the datagram stays pending for the next call and the last error
/// gives its size.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_poll_transmit(
    core: *mut cgm_core,
    dest_node: *mut u32,
    dest_source: *mut u64,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> cgm_result {
    boundary(|| {
        let (dest_node, dest_source, len) = (out(dest_node, "dest_node")?, out(dest_source, "dest_source")?, out(len, "len")?);
        if buf.is_null() {
            return Err(handle::null("buf"));
        }
        let c = borrow_mut(core)?;
        let Some(t) = c.pending.take().or_else(|| c.core.poll_transmit()) else {
            dest_node.write(0);
            dest_source.write(0);
            len.write(0);
            return Ok(());
        };
        if t.bytes.len() > cap {
            let n = t.bytes.len();
            c.pending = Some(t);
            return Err(invalid(format!("buffer of {cap} bytes is too small for the next datagram of {n} bytes")));
        }
        let n = handle::write_bytes(buf, cap, &t.bytes)?;
        let (node, source) = match t.dest {
            Dest::Node(id) => (id, 0),
            Dest::Source(s) => (0, s),
        };
        dest_node.write(node);
        dest_source.write(source);
        len.write(n);
        Ok(())
    })
}

/// When the host must next call `cgm_core_handle_timeout`.
///
/// - `core`: the core.
/// - `has`: receives false when no timer is armed (then `*deadline_us` is 0).
/// - `deadline_us`: receives the deadline on the host's clock, in microseconds.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_poll_timeout(core: *const cgm_core, has: *mut bool, deadline_us: *mut u64) -> cgm_result {
    boundary(|| {
        let (has, deadline) = (out(has, "has")?, out(deadline_us, "deadline_us")?);
        let t = borrow(core)?.core.poll_timeout();
        has.write(t.is_some());
        deadline.write(t.map_or(0, Time::as_micros));
        Ok(())
    })
}

/// Takes the next event, if any.
///
/// - `core`: the core.
/// - `out`: receives the event, or NULL when none is pending.
///
/// Results: `CGM_RESULT_OK` (with `*out` NULL when none is pending);
/// `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_core_event_free`. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_poll_event(core: *mut cgm_core, out: *mut *mut cgm_core_event) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let e = borrow_mut(core)?.core.poll_event();
        out.write(e.map_or(std::ptr::null_mut(), |e| handle::into_ptr(EventObj::new(e))));
        Ok(())
    })
}

fn propose(core: *mut cgm_core, now_us: u64, list: &[(cgm_runtime::cgm_core::Param, u64)], txid: crate::handle::Out<u64>) -> FfiResult {
    let c = borrow_mut(core)?;
    let pid = c.core.propose_change(now(now_us), None, list)?;
    txid.write(pid.txid);
    Ok(())
}

/// Proposes a change of one parameter on every member (the transaction of
/// `cgm_propose_param`). Its outcome arrives as `CGM_EVENT_COMPLETED` on
/// every member, with this proposal's transaction id
/// (`cgm_change_outcome_proposal`).
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
/// - `param`: a `CGM_PARAM_*` number.
/// - `value`: the new value, in the parameter's unit.
/// - `txid`: receives the proposal's transaction id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` (nothing is sent; the last error names
/// parameter, value and range); `CGM_RESULT_NO_QUORUM`;
/// `CGM_RESULT_BACKPRESSURE`; `CGM_RESULT_NOT_MEMBER` after `cgm_core_leave`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_propose_param(core: *mut cgm_core, now_us: u64, param: cgm_param, value: u64, txid: *mut u64) -> cgm_result {
    boundary(|| {
        let txid = out(txid, "txid")?;
        let p = self::param(param)?;
        propose(core, now_us, &[(p, value)], txid)
    })
}

/// Proposes a change of several parameters in one transaction (see
/// `cgm_core_propose_param`).
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
/// - `changes`: `n` parameter/value pairs, each parameter at most once.
/// - `n`: at least 1.
/// - `txid`: receives the proposal's transaction id.
///
/// Results: as `cgm_core_propose_param`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_propose_params(
    core: *mut cgm_core,
    now_us: u64,
    changes: *const cgm_param_value,
    n: usize,
    txid: *mut u64,
) -> cgm_result {
    boundary(|| {
        let txid = out(txid, "txid")?;
        if changes.is_null() {
            return Err(handle::null("changes"));
        }
        let list = self::changes(handle::slice(changes, n, "changes")?)?;
        propose(core, now_us, &list, txid)
    })
}

/// Completes a local wait announced by `CGM_EVENT_LOCAL_WAIT`: the resource
/// was acquired (with optional status bytes for this member's ACK), or the
/// step failed (a veto, a job that could not start) with a reason.
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
/// - `token`: the event's token.
/// - `ok`: true when acquired / accepted.
/// - `status`: `len` status bytes when `ok` (NULL if `len` is 0).
/// - `len`: their number.
/// - `reason`: why it failed when not `ok` (NULL gives "failed by the host").
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` when no wait with this token is pending
/// (completed already, or cancelled by `CGM_EVENT_WAIT_CANCELLED`) or for a
/// reason that is not UTF-8.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_complete_wait(
    core: *mut cgm_core,
    now_us: u64,
    token: u64,
    ok: bool,
    status: *const u8,
    len: usize,
    reason: *const c_char,
) -> cgm_result {
    boundary(|| {
        let c = borrow_mut(core)?;
        let bytes = handle::slice(status, len, "status")?;
        let reason = handle::opt_cstr(reason, "reason")?.unwrap_or("failed by the host");
        c.core.complete_wait(now(now_us), token, if ok { Ok(bytes.to_vec()) } else { Err(reason.to_string()) })?;
        Ok(())
    })
}

/// This member's own status, built from its local record (no message is sent).
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
/// - `out`: receives the status.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_status_free`. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_query_status(core: *const cgm_core, now_us: u64, out: *mut *mut cgm_status) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let s = borrow(core)?.core.status(now(now_us));
        out.write(handle::into_ptr(StatusObj::new(s)));
        Ok(())
    })
}

/// Asks a member for its status over the network: the answer arrives as
/// `CGM_EVENT_STATUS_REPLY` (or `CGM_EVENT_STATUS_QUERY_FAILED`) with the
/// request id written to `req`. Asking this member answers at once.
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
/// - `member_id`: a configured node.
/// - `req`: receives the request id (the event's token).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_NOT_MEMBER` for a node that is not configured.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_query_member_status(core: *mut cgm_core, now_us: u64, member_id: u32, req: *mut u64) -> cgm_result {
    boundary(|| {
        let req = out(req, "req")?;
        let r = borrow_mut(core)?.core.query_status(now(now_us), member_id)?;
        req.write(r);
        Ok(())
    })
}

/// Leaves the group gracefully: the other members install a view without
/// this one. Keep driving the core until `cgm_core_is_flushed` (or a
/// second), then free it.
///
/// - `core`: the core.
/// - `now_us`: the host's clock, in microseconds.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_leave(core: *mut cgm_core, now_us: u64) -> cgm_result {
    boundary(|| {
        borrow_mut(core)?.core.leave(now(now_us));
        Ok(())
    })
}

/// Whether the member has left and everything it sent was acknowledged.
///
/// - `core`: the core.
/// - `out`: receives true once flushed.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core`.
#[no_mangle]
pub extern "C" fn cgm_core_is_flushed(core: *const cgm_core, out: *mut bool) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(core)?.core.is_flushed());
        Ok(())
    })
}

/// Frees an event. NULL is fine; freeing twice is not.
///
/// Thread-safety: not while another thread reads the same event.
#[no_mangle]
pub extern "C" fn cgm_core_event_free(event: *mut cgm_core_event) {
    boundary_value((), || handle::free(event))
}

/// What the event is: one of the `CGM_EVENT_*` numbers (new kinds may be
/// added: ignore the ones you do not know).
///
/// - `event`: the event.
/// - `out`: receives its kind.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_kind(event: *const cgm_core_event, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(event)?.kind());
        Ok(())
    })
}

/// The view a `CGM_EVENT_VIEW_CHANGED` installed.
///
/// - `event`: the event.
/// - `epoch`: receives the view's epoch.
/// - `leader`: receives the node that formed it.
/// - `quorum`: receives whether it holds a quorum.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_view(event: *const cgm_core_event, epoch: *mut u64, leader: *mut u32, quorum: *mut bool) -> cgm_result {
    boundary(|| {
        let (epoch, leader, quorum) = (out(epoch, "epoch")?, out(leader, "leader")?, out(quorum, "quorum")?);
        let e = borrow(event)?;
        let Event::ViewChanged { view, quorum: q, .. } = &e.event else {
            return Err(wrong_kind(e, "view"));
        };
        epoch.write(view.epoch);
        leader.write(view.leader);
        quorum.write(*q);
        Ok(())
    })
}

/// The member a `CGM_EVENT_SUSPECTED` suspects, or that a
/// `CGM_EVENT_STATUS_QUERY_FAILED` asked.
///
/// - `event`: the event.
/// - `out`: receives the member's node id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_member(event: *const cgm_core_event, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let e = borrow(event)?;
        match &e.event {
            Event::Suspected { member, .. } | Event::StatusQueryFailed { member, .. } => out.write(*member),
            _ => return Err(wrong_kind(e, "member")),
        }
        Ok(())
    })
}

/// Why a `CGM_EVENT_SUSPECTED` suspects its member.
///
/// - `event`: the event.
/// - `out`: receives a NUL-terminated string owned by the event.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_reason(event: *const cgm_core_event, out: *mut *const c_char) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let e = borrow(event)?;
        if e.reason.is_none() {
            return Err(wrong_kind(e, "reason"));
        }
        out.write(c_ptr(&e.reason));
        Ok(())
    })
}

/// The token of a `CGM_EVENT_LOCAL_WAIT` or `CGM_EVENT_WAIT_CANCELLED`, or
/// the request id of a `CGM_EVENT_STATUS_REPLY` or
/// `CGM_EVENT_STATUS_QUERY_FAILED`.
///
/// - `event`: the event.
/// - `out`: receives the token.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_token(event: *const cgm_core_event, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let e = borrow(event)?;
        match &e.event {
            Event::LocalWait { token, .. } | Event::WaitCancelled { token } => out.write(*token),
            Event::StatusReply { req, .. } | Event::StatusQueryFailed { req, .. } => out.write(*req),
            _ => return Err(wrong_kind(e, "token")),
        }
        Ok(())
    })
}

/// What a `CGM_EVENT_LOCAL_WAIT` waits on.
///
/// - `event`: the event.
/// - `resource`: receives `CGM_WAITING_LOCK`, `CGM_WAITING_JOB`,
///   `CGM_WAITING_HOST` or `CGM_WAITING_VETO`.
/// - `name`: receives the lock's or job's name (owned by the event), or NULL.
/// - `seq`: receives the protocol's sequence number.
/// - `round_index`: receives the round within the protocol (0-based).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_wait(
    event: *const cgm_core_event,
    resource: *mut u32,
    name: *mut *const c_char,
    seq: *mut u64,
    round_index: *mut u32,
) -> cgm_result {
    boundary(|| {
        let (resource, name, seq, round_index) =
            (out(resource, "resource")?, out(name, "name")?, out(seq, "seq")?, out(round_index, "round_index")?);
        let e = borrow(event)?;
        let Event::LocalWait { resource: r, seq: s, round_index: i, .. } = &e.event else {
            return Err(wrong_kind(e, "wait"));
        };
        resource.write(resource_kind(r));
        name.write(c_ptr(&e.name));
        seq.write(*s);
        round_index.write(u32::from(*i));
        Ok(())
    })
}

/// The parameter changes a `CGM_EVENT_LOCAL_WAIT` is about (for the veto
/// hook); none for application protocols.
///
/// - `event`: the event.
/// - `changes`: receives a pointer to `*n` pairs owned by the event (NULL when `*n` is 0).
/// - `n`: receives their number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_changes(event: *const cgm_core_event, changes: *mut *const cgm_param_value, n: *mut usize) -> cgm_result {
    boundary(|| {
        let (changes, n) = (out(changes, "changes")?, out(n, "n")?);
        let e = borrow(event)?;
        if !matches!(e.event, Event::LocalWait { .. }) {
            return Err(wrong_kind(e, "changes"));
        }
        changes.write(if e.changes.is_empty() { std::ptr::null() } else { e.changes.as_ptr() });
        n.write(e.changes.len());
        Ok(())
    })
}

/// The outcome of a `CGM_EVENT_COMPLETED` or `CGM_EVENT_OUTCOME_LEARNED`.
///
/// - `event`: the event.
/// - `out`: receives a copy of the outcome.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_change_outcome_free`. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_outcome(event: *const cgm_core_event, out: *mut *mut cgm_change_outcome) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let e = borrow(event)?;
        let (Event::Completed(o) | Event::OutcomeLearned(o)) = &e.event else {
            return Err(wrong_kind(e, "outcome"));
        };
        out.write(handle::into_ptr(OutcomeObj::new(o.clone())));
        Ok(())
    })
}

/// The status a `CGM_EVENT_STATUS_REPLY` carries, as the member answered.
///
/// - `event`: the event.
/// - `out`: receives a copy of the status.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for another kind of event.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_status_free`. Thread-safety: see `cgm_core_event`.
#[no_mangle]
pub extern "C" fn cgm_core_event_status(event: *const cgm_core_event, out: *mut *mut cgm_status) -> cgm_result {
    boundary(|| {
        let out = handle::out(out, "out")?;
        let e = borrow(event)?;
        let Event::StatusReply { status, .. } = &e.event else {
            return Err(wrong_kind(e, "status"));
        };
        out.write(handle::into_ptr(StatusObj::new((**status).clone())));
        Ok(())
    })
}
