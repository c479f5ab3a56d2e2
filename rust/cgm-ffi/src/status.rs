//! `cgm_status`: a member's status snapshot and its accessors.

use crate::error::cgm_result;
use crate::error::{boundary, boundary_value, invalid, FfiResult};
use crate::handle::{self, borrow, c_ptr, c_string, out, static_strings, Castable};
use crate::params::cgm_param;
use crate::params::param;
use cgm_runtime::cgm_core::{Counters, Phase, Resource, Roster, Status, Waiting};
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::OnceLock;

/// One member's status, as that member answered from its own record: its
/// view, its phase, the protocol it processes and its current ACK round, what
/// it waits on and since when, and per other member the last ACK round
/// received and when it was last heard from; also its heartbeat links,
/// parameters and counters. An owned snapshot: it does not change after it
/// is made.
///
/// Made by `cgm_query_status` (any member, over the network),
/// `cgm_operator_query_status` (from a tool that is not a member) or
/// `cgm_core_query_status` (sans-IO); the caller owns it and frees it with
/// `cgm_status_free`. Strings it returns live as long as it does.
///
/// Thread-safety: immutable; any number of threads may read one at once.
///
/// Methods:
/// - `cgm_status_node`, `cgm_status_incarnation`: the answering member
/// - `cgm_status_view`, `cgm_status_member_count`, `cgm_status_member`, `cgm_status_quorum`: its view
/// - `cgm_status_phase` (and `cgm_phase_name`): what it is doing
/// - `cgm_status_current_round`, `cgm_status_acked_round`, `cgm_status_completed`,
///   `cgm_status_queued_protocols`: its progress
/// - `cgm_status_has_protocol`, `cgm_status_protocol_seq`, `cgm_status_protocol_kind`,
///   `cgm_status_protocol_initiator`, `cgm_status_protocol_round`,
///   `cgm_status_protocol_running_us`: the protocol in progress
/// - `cgm_status_waiting`, `cgm_status_waiting_resource`, `cgm_status_waited_us`,
///   `cgm_status_not_acked_count`, `cgm_status_not_acked`: what it waits on
/// - `cgm_status_peer_count`, `cgm_status_peer`, `cgm_status_peer_queue`: per other member
/// - `cgm_status_link_count`, `cgm_status_link`: heartbeat links
/// - `cgm_status_damped_count`, `cgm_status_damped`: members held out for flapping
/// - `cgm_status_param`, `cgm_status_limit`, `cgm_status_generation`: parameters and local limits
/// - `cgm_status_cluster_node_count`, `cgm_status_cluster_node`: the cluster's node set in force
/// - `cgm_status_configured_node_count`, `cgm_status_configured_node`: the member's own configured nodes
/// - `cgm_status_counter` (and `cgm_counter_name`): drop and activity counters
/// - `cgm_status_to_json`: all of it as JSON
/// - `cgm_status_free`
pub struct cgm_status {
    _private: [u8; 0],
}

/// The Rust value behind a `cgm_status`: the snapshot and the C strings its
/// accessors hand out.
pub(crate) struct StatusObj {
    pub(crate) status: Status,
    kind: Option<CString>,
    resource: Option<CString>,
    not_acked: Vec<u32>,
    /// The node set in force and the configured one: ids and C addresses.
    nodes: Vec<(u32, CString)>,
    configured_nodes: Vec<(u32, CString)>,
}

/// A node set's ids and addresses as C strings, by id.
fn node_list(r: &Roster) -> Vec<(u32, CString)> {
    r.iter().map(|(id, a)| (id, c_string(a))).collect()
}

impl StatusObj {
    pub(crate) fn new(status: Status) -> StatusObj {
        let kind = status.protocol.as_ref().map(|p| CString::new(p.kind.clone()).unwrap_or_default());
        let resource = match &status.waiting {
            Some(Waiting::Local(Resource::Lock(n) | Resource::Job(n))) => Some(CString::new(n.clone()).unwrap_or_default()),
            _ => None,
        };
        let not_acked = status.not_acked();
        let nodes = node_list(status.params.nodes());
        let configured_nodes = node_list(status.configured.nodes());
        StatusObj { status, kind, resource, not_acked, nodes, configured_nodes }
    }
}

impl Castable for cgm_status {
    type Rust = StatusObj;
    const NAME: &'static str = "status";
}

/// A time that never happened (`cgm_status_peer`'s age of a member never heard from).
pub const CGM_NEVER: u64 = u64::MAX;

/// Phase: in a view without quorum; protocols are refused.
pub const CGM_PHASE_NO_QUORUM: u32 = 0;
/// Phase: in a view with quorum, no protocol running.
pub const CGM_PHASE_IDLE: u32 = 1;
/// Phase: running a protocol, waiting for ACKs of the current round.
pub const CGM_PHASE_WAITING_ACKS: u32 = 2;
/// Phase: running a protocol, waiting on a local resource before ACKing.
pub const CGM_PHASE_WAITING_LOCAL: u32 = 3;
/// Phase: flushed for a view change, waiting for the new view.
pub const CGM_PHASE_VIEW_CHANGE: u32 = 4;
/// Phase: left the group.
pub const CGM_PHASE_LEFT: u32 = 5;

/// Waiting on nothing.
pub const CGM_WAITING_NONE: u32 = 0;
/// Waiting for ACKs of the current round (`cgm_status_not_acked` names who has not ACKed).
pub const CGM_WAITING_ACKS: u32 = 1;
/// Waiting on a named local lock (`cgm_status_waiting_resource` names it).
pub const CGM_WAITING_LOCK: u32 = 2;
/// Waiting on the creation of a named job.
pub const CGM_WAITING_JOB: u32 = 3;
/// Waiting for the host's step status (`on_step`, answered by `cgm_step_answer`).
pub const CGM_WAITING_HOST: u32 = 4;
/// Waiting for the host's veto decision (`on_veto`, answered by `cgm_veto_answer`).
pub const CGM_WAITING_VETO: u32 = 5;
/// Waiting for a new view from the view-change leader.
pub const CGM_WAITING_NEW_VIEW: u32 = 6;
/// Waiting to load the new key of a key rotation (its first round). A node
/// loads it itself; a sans-IO core's host answers the wait with the key's
/// 8-byte little-endian fingerprint once it accepts datagrams under it.
pub const CGM_WAITING_KEY: u32 = 7;

/// Counter: datagrams that did not decode.
pub const CGM_COUNTER_MALFORMED: u32 = 0;
/// Counter: datagrams of another wire version.
pub const CGM_COUNTER_VERSION_MISMATCH: u32 = 1;
/// Counter: datagrams from an old incarnation, for another node or an old view.
pub const CGM_COUNTER_STALE: u32 = 2;
/// Counter: datagrams refused by authentication.
pub const CGM_COUNTER_AUTH_FAILED: u32 = 3;
/// Counter: datagrams refused as replays.
pub const CGM_COUNTER_REPLAYED: u32 = 4;
/// Counter: fragments sent again.
pub const CGM_COUNTER_RETRANSMITS: u32 = 5;
/// Counter: duplicate fragments received.
pub const CGM_COUNTER_DUPLICATES: u32 = 6;
/// Counter: fragments dropped by reassembly checks.
pub const CGM_COUNTER_REASSEMBLY_ERRORS: u32 = 7;
/// Counter: sends refused over the send queue threshold.
pub const CGM_COUNTER_BACKPRESSURE: u32 = 8;
/// Counter: status queries answered.
pub const CGM_COUNTER_QUERIES_ANSWERED: u32 = 9;
/// Counter: heartbeats sent.
pub const CGM_COUNTER_HEARTBEATS_SENT: u32 = 10;
/// Counter: members suspected by this member.
pub const CGM_COUNTER_SUSPICIONS: u32 = 11;
/// Counter: views installed.
pub const CGM_COUNTER_VIEWS_INSTALLED: u32 = 12;
/// Counter: protocols completed (any outcome).
pub const CGM_COUNTER_PROTOCOLS_COMPLETED: u32 = 13;
/// Counter: parameter changes committed.
pub const CGM_COUNTER_CHANGES_COMMITTED: u32 = 14;
/// Counter: parameter changes rolled back.
pub const CGM_COUNTER_CHANGES_ROLLED_BACK: u32 = 15;
/// Counter: datagrams refused from nodes outside the node set (each such
/// node is told why: see `cgm_status_refused`).
pub const CGM_COUNTER_REFUSED: u32 = 16;
/// Number of counters: valid numbers are 0 to `CGM_COUNTER_COUNT - 1`.
pub const CGM_COUNTER_COUNT: u32 = 17;

const PHASES: [Phase; 6] = [Phase::NoQuorum, Phase::Idle, Phase::WaitingAcks, Phase::WaitingLocal, Phase::ViewChange, Phase::Left];

fn phase_number(p: Phase) -> u32 {
    PHASES.iter().position(|&q| q == p).expect("every phase is listed") as u32
}

pub(crate) fn resource_kind(r: &Resource) -> u32 {
    match r {
        Resource::Lock(_) => CGM_WAITING_LOCK,
        Resource::Job(_) => CGM_WAITING_JOB,
        Resource::Host => CGM_WAITING_HOST,
        Resource::Veto => CGM_WAITING_VETO,
        Resource::Key => CGM_WAITING_KEY,
    }
}

/// Counter names and values, in number order.
fn counters(c: &Counters) -> [(&'static str, u64); 17] {
    [
        ("malformed", c.malformed),
        ("version-mismatch", c.version_mismatch),
        ("stale", c.stale),
        ("auth-failed", c.auth_failed),
        ("replayed", c.replayed),
        ("retransmits", c.retransmits),
        ("duplicates", c.duplicates),
        ("reassembly-errors", c.reassembly_errors),
        ("backpressure", c.backpressure),
        ("queries-answered", c.queries_answered),
        ("heartbeats-sent", c.heartbeats_sent),
        ("suspicions", c.suspicions),
        ("views-installed", c.views_installed),
        ("protocols-completed", c.protocols_completed),
        ("changes-committed", c.changes_committed),
        ("changes-rolled-back", c.changes_rolled_back),
        ("refused", c.refused),
    ]
}

fn index_check(index: usize, len: usize, what: &str) -> FfiResult {
    if index >= len {
        return Err(invalid(format!("{what} index {index} is out of range: there are {len}")));
    }
    Ok(())
}

fn protocol(s: &Status) -> FfiResult<&cgm_runtime::cgm_core::ProtocolInfo> {
    s.protocol.as_ref().ok_or_else(|| invalid(format!("member {} runs no protocol (check cgm_status_has_protocol)", s.node)))
}

fn us(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Frees a status. NULL is fine; freeing twice is not.
///
/// Thread-safety: not while another thread reads the same status.
#[no_mangle]
pub extern "C" fn cgm_status_free(status: *mut cgm_status) {
    boundary_value((), || handle::free(status))
}

/// The member that answered and built this status.
///
/// - `status`: the status to read.
/// - `out`: receives its node id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_node(status: *const cgm_status, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.node);
        Ok(())
    })
}

/// The answering member's incarnation (grows every time the node starts).
///
/// - `status`: the status to read.
/// - `out`: receives the incarnation.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_incarnation(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.inc);
        Ok(())
    })
}

/// The id of the member's view: views are ordered by epoch (which grows with
/// every membership change), then by the node that formed them.
///
/// - `status`: the status to read.
/// - `epoch`: receives the view's epoch.
/// - `leader`: receives the id of the node that formed the view.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_view(status: *const cgm_status, epoch: *mut u64, leader: *mut u32) -> cgm_result {
    boundary(|| {
        let (epoch, leader) = (out(epoch, "epoch")?, out(leader, "leader")?);
        let s = &borrow(status)?.status;
        epoch.write(s.view.epoch);
        leader.write(s.view.leader);
        Ok(())
    })
}

/// The number of members in the member's view (itself included).
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_member_count(status: *const cgm_status, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.members.len());
        Ok(())
    })
}

/// A member of the view, by index in id order (index 0 is the coordinator).
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_member_count` - 1.
/// - `out`: receives the member's node id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_member(status: *const cgm_status, index: usize, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let s = &borrow(status)?.status;
        index_check(index, s.members.len(), "member")?;
        out.write(s.members[index].id);
        Ok(())
    })
}

/// Whether the member's view holds a quorum (it runs protocols only then).
///
/// - `status`: the status to read.
/// - `out`: receives true with quorum.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_quorum(status: *const cgm_status, out: *mut bool) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.quorum);
        Ok(())
    })
}

/// What the member is doing: one of the `CGM_PHASE_*` numbers.
///
/// - `status`: the status to read.
/// - `out`: receives the phase (`cgm_phase_name` names it).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_phase(status: *const cgm_status, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(phase_number(borrow(status)?.status.phase));
        Ok(())
    })
}

/// The name of a phase, e.g. "waiting-acks" for `CGM_PHASE_WAITING_ACKS`.
///
/// - `phase`: a `CGM_PHASE_*` number.
///
/// Returns a static NUL-terminated string (do not free it), or NULL for an
/// unknown number.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_phase_name(phase: u32) -> *const c_char {
    static N: OnceLock<Vec<CString>> = OnceLock::new();
    boundary_value(std::ptr::null(), || {
        let names = static_strings(&N, || PHASES.iter().map(|p| p.as_str().to_string()).collect());
        names.get(phase as usize).map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// The member's current global ACK round: the round it works on, or the next
/// one when idle. Rounds are numbered across protocols, so every member of a
/// view agrees on the numbering.
///
/// - `status`: the status to read.
/// - `out`: receives the round number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_current_round(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.current_round);
        Ok(())
    })
}

/// The highest global ACK round this member has ACKed itself.
///
/// - `status`: the status to read.
/// - `out`: receives the round number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_acked_round(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.acked_round);
        Ok(())
    })
}

/// The highest protocol sequence number the member has completed.
///
/// - `status`: the status to read.
/// - `out`: receives the sequence number (0 before the first).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_completed(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.completed);
        Ok(())
    })
}

/// How many protocols wait behind the current one: sequenced, or, on the
/// coordinator, taken in to be sequenced.
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_queued_protocols(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.queued_protocols);
        Ok(())
    })
}

/// Whether the member is processing a protocol; the `cgm_status_protocol_*`
/// accessors describe it.
///
/// - `status`: the status to read.
/// - `out`: receives true while a protocol is in progress.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_has_protocol(status: *const cgm_status, out: *mut bool) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.protocol.is_some());
        Ok(())
    })
}

/// The position in the total order of the protocol in progress.
///
/// - `status`: the status to read.
/// - `out`: receives its sequence number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` when no protocol is in progress.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_protocol_seq(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(protocol(&borrow(status)?.status)?.seq);
        Ok(())
    })
}

/// The kind of the protocol in progress: "param-change" or "app".
///
/// - `status`: the status to read.
/// - `out`: receives a NUL-terminated string owned by the status (valid until
///   `cgm_status_free`).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` when no protocol is in progress.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_protocol_kind(status: *const cgm_status, out: *mut *const c_char) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let s = borrow(status)?;
        protocol(&s.status)?;
        out.write(c_ptr(&s.kind));
        Ok(())
    })
}

/// Who proposed the protocol in progress, and its transaction id.
///
/// - `status`: the status to read.
/// - `node`: receives the proposing node's id.
/// - `txid`: receives the proposal's transaction id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` when no protocol is in progress.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_protocol_initiator(status: *const cgm_status, node: *mut u32, txid: *mut u64) -> cgm_result {
    boundary(|| {
        let (node, txid) = (out(node, "node")?, out(txid, "txid")?);
        let p = protocol(&borrow(status)?.status)?;
        node.write(p.pid.node);
        txid.write(p.pid.txid);
        Ok(())
    })
}

/// Where the protocol in progress is: its current round within the protocol
/// and how many ACK rounds it has (a parameter change has 2).
///
/// - `status`: the status to read.
/// - `round_index`: receives the current round's index, 0-based.
/// - `rounds`: receives the number of rounds.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` when no protocol is in progress.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_protocol_round(status: *const cgm_status, round_index: *mut u32, rounds: *mut u32) -> cgm_result {
    boundary(|| {
        let (round_index, rounds) = (out(round_index, "round_index")?, out(rounds, "rounds")?);
        let p = protocol(&borrow(status)?.status)?;
        round_index.write(u32::from(p.round_index));
        rounds.write(u32::from(p.rounds));
        Ok(())
    })
}

/// How long the protocol in progress has been running on the member, as of
/// its answer.
///
/// - `status`: the status to read.
/// - `out`: receives microseconds.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` when no protocol is in progress.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_protocol_running_us(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let s = &borrow(status)?.status;
        let p = protocol(s)?;
        out.write(us(s.at.saturating_since(p.started)));
        Ok(())
    })
}

/// What the member waits on: one of the `CGM_WAITING_*` numbers.
///
/// - `status`: the status to read.
/// - `out`: receives the kind (`CGM_WAITING_NONE` when it waits on nothing).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_waiting(status: *const cgm_status, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(match &borrow(status)?.status.waiting {
            None => CGM_WAITING_NONE,
            Some(Waiting::Acks(_)) => CGM_WAITING_ACKS,
            Some(Waiting::Local(r)) => resource_kind(r),
            Some(Waiting::NewView(_)) => CGM_WAITING_NEW_VIEW,
        });
        Ok(())
    })
}

/// The name of the lock or job the member waits on.
///
/// - `status`: the status to read.
/// - `out`: receives a NUL-terminated string owned by the status (valid until
///   `cgm_status_free`), or NULL when the member waits on no named resource.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_waiting_resource(status: *const cgm_status, out: *mut *const c_char) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(c_ptr(&borrow(status)?.resource));
        Ok(())
    })
}

/// How long the member has waited on what `cgm_status_waiting` names, as of
/// its answer.
///
/// - `status`: the status to read.
/// - `out`: receives microseconds (0 when it waits on nothing).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_waited_us(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.waited().map_or(0, us));
        Ok(())
    })
}

/// How many members of the view have not ACKed the member's current round
/// (0 unless it waits on ACKs).
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_not_acked_count(status: *const cgm_status, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.not_acked.len());
        Ok(())
    })
}

/// A member that has not ACKed the current round, by index.
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_not_acked_count` - 1.
/// - `out`: receives the member's node id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_not_acked(status: *const cgm_status, index: usize, out: *mut u32) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let s = borrow(status)?;
        index_check(index, s.not_acked.len(), "not-acked member")?;
        out.write(s.not_acked[index]);
        Ok(())
    })
}

/// How many other members of the view the status has a row for.
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_peer_count(status: *const cgm_status, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.peers.len());
        Ok(())
    })
}

/// What the member has received from another member, by index in id order:
/// the last ACK round received from it and how long ago it was last heard.
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_peer_count` - 1.
/// - `id`: receives the other member's node id.
/// - `last_ack_round`: receives the highest global round for which its ACK arrived.
/// - `last_heard_age_us`: receives microseconds since it was last heard from,
///   as of the answer, or `CGM_NEVER` if it never was.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_peer(
    status: *const cgm_status,
    index: usize,
    id: *mut u32,
    last_ack_round: *mut u64,
    last_heard_age_us: *mut u64,
) -> cgm_result {
    boundary(|| {
        let (id, round, age) = (out(id, "id")?, out(last_ack_round, "last_ack_round")?, out(last_heard_age_us, "last_heard_age_us")?);
        let s = &borrow(status)?.status;
        index_check(index, s.peers.len(), "peer")?;
        let p = &s.peers[index];
        id.write(p.id);
        round.write(p.last_ack_round);
        age.write(p.last_heard.map_or(CGM_NEVER, |t| us(s.at.saturating_since(t))));
        Ok(())
    })
}

/// The member's send queue to another member, by index (as `cgm_status_peer`).
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_peer_count` - 1.
/// - `queued`: receives fragments queued behind the send window.
/// - `in_flight`: receives fragments sent and not yet acknowledged.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_peer_queue(status: *const cgm_status, index: usize, queued: *mut u64, in_flight: *mut u64) -> cgm_result {
    boundary(|| {
        let (queued, in_flight) = (out(queued, "queued")?, out(in_flight, "in_flight")?);
        let s = &borrow(status)?.status;
        index_check(index, s.peers.len(), "peer")?;
        queued.write(s.peers[index].queued);
        in_flight.write(s.peers[index].in_flight);
        Ok(())
    })
}

/// How many heartbeat links the member has (to its ring successor and from
/// its predecessor).
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_link_count(status: *const cgm_status, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.links.len());
        Ok(())
    })
}

/// A heartbeat link of the member, by index.
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_link_count` - 1.
/// - `peer`: receives the node at the other end.
/// - `outgoing`: receives true for the link to the successor (this member
///   sends heartbeats), false for the one from the predecessor.
/// - `interval_ms`: receives the heartbeat interval in force on the link (ms).
/// - `misses`: receives the consecutive misses counted on it.
/// - `switch_over_pending`: receives true while a heartbeat change request
///   was sent on it and not yet acknowledged as applied.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_link(
    status: *const cgm_status,
    index: usize,
    peer: *mut u32,
    outgoing: *mut bool,
    interval_ms: *mut u64,
    misses: *mut u32,
    switch_over_pending: *mut bool,
) -> cgm_result {
    boundary(|| {
        let (peer, outgoing, interval, misses, pending) = (
            out(peer, "peer")?,
            out(outgoing, "outgoing")?,
            out(interval_ms, "interval_ms")?,
            out(misses, "misses")?,
            out(switch_over_pending, "switch_over_pending")?,
        );
        let s = &borrow(status)?.status;
        index_check(index, s.links.len(), "link")?;
        let l = &s.links[index];
        peer.write(l.peer);
        outgoing.write(l.outgoing);
        interval.write(l.interval_ms);
        misses.write(l.misses);
        pending.write(l.switch_over_pending);
        Ok(())
    })
}

/// How many members this member holds out of its view for flapping (flap
/// damping: excluded again and again, each is readmitted only after a
/// backoff that doubles with each exclusion).
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_damped_count(status: *const cgm_status, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.damped.len());
        Ok(())
    })
}

/// A member held out for flapping, by index.
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_damped_count` - 1.
/// - `id`: receives the member's node id.
/// - `incarnation`: receives the incarnation that was excluded (a later one,
///   a restart, is not held out).
/// - `exclusions`: receives the exclusions counted (the first is readmitted
///   at once).
/// - `remaining_us`: receives what is left of its backoff (µs), as of the
///   status.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_damped(
    status: *const cgm_status,
    index: usize,
    id: *mut u32,
    incarnation: *mut u64,
    exclusions: *mut u32,
    remaining_us: *mut u64,
) -> cgm_result {
    boundary(|| {
        let (id, incarnation, exclusions, remaining) =
            (out(id, "id")?, out(incarnation, "incarnation")?, out(exclusions, "exclusions")?, out(remaining_us, "remaining_us")?);
        let s = &borrow(status)?.status;
        index_check(index, s.damped.len(), "damped member")?;
        let d = &s.damped[index];
        id.write(d.id);
        incarnation.write(d.inc);
        exclusions.write(d.exclusions);
        remaining.write(us(d.until.saturating_since(s.at)));
        Ok(())
    })
}

/// A parameter's value on the member: the one in force and the one from its
/// configuration.
///
/// - `status`: the status to read.
/// - `param`: a `CGM_PARAM_*` number.
/// - `effective`: receives the value in force (in the parameter's unit).
/// - `configured`: receives the value from the member's configuration.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown parameter.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_param(status: *const cgm_status, param: cgm_param, effective: *mut u64, configured: *mut u64) -> cgm_result {
    boundary(|| {
        let (effective, configured) = (out(effective, "effective")?, out(configured, "configured")?);
        let s = &borrow(status)?.status;
        let p = self::param(param)?;
        effective.write(s.params.get(p));
        configured.write(s.configured.get(p));
        Ok(())
    })
}

/// The member's local limit for a parameter (`[limits]` in its file,
/// `cgm_config_set_limit`): a change above it fails that member's apply.
///
/// - `status`: the status to read.
/// - `param`: a `CGM_PARAM_*` number.
/// - `has_limit`: receives whether the member has a limit for it.
/// - `limit`: receives the limit (in the parameter's unit), 0 without one.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown parameter.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_limit(status: *const cgm_status, param: cgm_param, has_limit: *mut bool, limit: *mut u64) -> cgm_result {
    boundary(|| {
        let (has_limit, limit) = (out(has_limit, "has_limit")?, out(limit, "limit")?);
        let s = &borrow(status)?.status;
        let l = s.limits.get(self::param(param)?);
        has_limit.write(l.is_some());
        limit.write(l.unwrap_or(0));
        Ok(())
    })
}

/// The member's cluster keys, by fingerprint (the first 8 bytes of a
/// SHA-256 of the key, as a number; 0 when the cluster runs without a key):
///
/// - `status`: the status to read.
/// - `committed`: receives the active key's fingerprint (that of the last
///   committed values).
/// - `sending`: receives the fingerprint of the key it sends under (the new
///   key's, in a rotation's second round).
/// - `rotating`: receives whether a key rotation is in progress on it (a new
///   key is loaded beside the active one, or sent under before its verdict).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_key(status: *const cgm_status, committed: *mut u64, sending: *mut u64, rotating: *mut bool) -> cgm_result {
    boundary(|| {
        let (committed, sending, rotating) = (out(committed, "committed")?, out(sending, "sending")?, out(rotating, "rotating")?);
        let k = &borrow(status)?.status.keys;
        committed.write(k.committed);
        sending.write(k.sending);
        rotating.write(k.rotating());
        Ok(())
    })
}

/// The member's parameter generation: it grows with every committed change,
/// and members with the same generation hold the same values.
///
/// - `status`: the status to read.
/// - `out`: receives the generation.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_generation(status: *const cgm_status, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.status.generation);
        Ok(())
    })
}

/// Whether a member refused this node for being outside the cluster's node
/// set (its last refusal, shown while the node is in no view with quorum):
/// a node started with a file that lists it but never added by a node
/// change (`cgm_propose_node_change`) is refused by every member.
///
/// - `status`: the status to read.
/// - `by`: receives the id of the member that refused it, 0 when none did.
/// - `generation`: receives that member's committed generation (0 when
///   none did); may be NULL.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_refused(status: *const cgm_status, by: *mut u32, generation: *mut u64) -> cgm_result {
    boundary(|| {
        let by = self::out(by, "by")?;
        let refused = borrow(status)?.status.refused.as_ref();
        by.write(refused.map_or(0, |r| r.by));
        if !generation.is_null() {
            self::out(generation, "generation")?.write(refused.map_or(0, |r| r.generation));
        }
        Ok(())
    })
}

/// Writes entry `index` of a node list: its id and its address (borrowed from the status).
fn node_entry(list: &[(u32, CString)], index: usize, what: &str, id: *mut u32, addr: *mut *const c_char) -> FfiResult {
    let (id, addr) = (out(id, "id")?, out(addr, "addr")?);
    index_check(index, list.len(), what)?;
    let (i, a) = &list[index];
    id.write(*i);
    addr.write(a.as_ptr());
    Ok(())
}

/// The number of nodes in the cluster's node set in force on the member:
/// the nodes whose majority a view needs for quorum. It starts as the
/// configured nodes and changes only by committed node changes
/// (`cgm_propose_node_change`); a node that joined takes it by state transfer.
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_cluster_node_count(status: *const cgm_status, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.nodes.len());
        Ok(())
    })
}

/// A node of the cluster's node set in force on the member, by index in id
/// order.
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_cluster_node_count` - 1.
/// - `id`: receives the node's id.
/// - `addr`: receives its address, a NUL-terminated string owned by the
///   status (valid until `cgm_status_free`); empty for a sans-IO core's
///   nodes, which have none.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_cluster_node(status: *const cgm_status, index: usize, id: *mut u32, addr: *mut *const c_char) -> cgm_result {
    boundary(|| node_entry(&borrow(status)?.nodes, index, "cluster node", id, addr))
}

/// The number of nodes the member's own configuration lists (its file's
/// `[[nodes]]`, or `cgm_config_add_node`): the node set it would start a new
/// cluster with. A node added at runtime may list only itself and a node to
/// contact; the set in force is `cgm_status_cluster_node_count`'s.
///
/// - `status`: the status to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_configured_node_count(status: *const cgm_status, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(status)?.configured_nodes.len());
        Ok(())
    })
}

/// A node of the member's own configuration, by index in id order.
///
/// - `status`: the status to read.
/// - `index`: 0 to `cgm_status_configured_node_count` - 1.
/// - `id`: receives the node's id.
/// - `addr`: receives its address, a NUL-terminated string owned by the
///   status (valid until `cgm_status_free`).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_configured_node(
    status: *const cgm_status,
    index: usize,
    id: *mut u32,
    addr: *mut *const c_char,
) -> cgm_result {
    boundary(|| node_entry(&borrow(status)?.configured_nodes, index, "configured node", id, addr))
}

/// One of the member's counters (datagrams dropped and why, retransmits,
/// views, changes...).
///
/// - `status`: the status to read.
/// - `counter`: a `CGM_COUNTER_*` number.
/// - `out`: receives its value since the member started.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an unknown counter.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_counter(status: *const cgm_status, counter: u32, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let s = &borrow(status)?.status;
        let c = counters(&s.counters);
        let (_, v) = c
            .get(counter as usize)
            .ok_or_else(|| invalid(format!("unknown counter number {counter}: valid numbers are 0..={}", c.len() - 1)))?;
        out.write(*v);
        Ok(())
    })
}

/// The name of a counter, e.g. "auth-failed" for `CGM_COUNTER_AUTH_FAILED`.
///
/// - `counter`: a `CGM_COUNTER_*` number.
///
/// Returns a static NUL-terminated string (do not free it), or NULL for an
/// unknown number.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_counter_name(counter: u32) -> *const c_char {
    static N: OnceLock<Vec<CString>> = OnceLock::new();
    boundary_value(std::ptr::null(), || {
        let names = static_strings(&N, || counters(&Counters::default()).iter().map(|(n, _)| n.to_string()).collect());
        names.get(counter as usize).map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// The whole status as JSON, in libcgm's one schema (README, "Status as
/// JSON"): what `cgm status --json` and Python's `Status.to_dict()` give too.
///
/// - `status`: the status to read.
/// - `out`: receives a NUL-terminated string.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_string_free`. Thread-safety: see `cgm_status`.
#[no_mangle]
pub extern "C" fn cgm_status_to_json(status: *const cgm_status, out: *mut *mut c_char) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let s = borrow(status)?;
        let json = serde_json::to_string(&cgm_runtime::cgm_core::schema::status_to_json(&s.status))
            .map_err(|e| invalid(format!("cannot serialise the status: {e}")))?;
        out.write(handle::string_into_raw(json));
        Ok(())
    })
}

/// Frees a string the library returned (`cgm_status_to_json`,
/// `cgm_change_outcome_to_json`). NULL is fine; freeing twice is not.
///
/// Thread-safety: callable from any thread.
#[no_mangle]
pub extern "C" fn cgm_string_free(s: *mut c_char) {
    boundary_value((), || handle::string_free(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_and_phase_numbers_are_stable() {
        assert_eq!(counters(&Counters::default()).len(), CGM_COUNTER_COUNT as usize);
        assert_eq!(phase_number(Phase::NoQuorum), CGM_PHASE_NO_QUORUM);
        assert_eq!(phase_number(Phase::Left), CGM_PHASE_LEFT);
        assert_eq!(phase_number(Phase::WaitingLocal), CGM_PHASE_WAITING_LOCAL);
    }
}
