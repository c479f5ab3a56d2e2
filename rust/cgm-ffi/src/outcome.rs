//! `cgm_change_outcome`: the outcome of a parameter change or an application
//! protocol, identical on every member.

use crate::error::cgm_result;
use crate::error::{boundary, boundary_value, invalid, FfiResult};
use crate::handle::{self, borrow, c_ptr, out, Castable};
use cgm_runtime::cgm_core::{AckStatus, Outcome};
use std::ffi::CString;
use std::os::raw::c_char;

/// The outcome of a peer protocol (a parameter change or an application
/// protocol): whether it committed, the parameter generation after it, and
/// each member's status in its last round (ok, or failed with a reason). It
/// is the same on every member.
///
/// Made by `cgm_propose_param`, `cgm_propose_params`, `cgm_run_protocol`,
/// `cgm_run_host_protocol` and `cgm_core_event_outcome`; the caller owns it
/// and frees it with `cgm_change_outcome_free`. The callbacks `on_change` and
/// `on_protocol` lend one that is valid only during the callback. Strings and
/// bytes it returns live as long as it does.
///
/// Thread-safety: immutable; any number of threads may read one at once.
///
/// Methods:
/// - `cgm_change_outcome_committed`, `cgm_change_outcome_reason`: committed or why not
/// - `cgm_change_outcome_generation`: parameter generation after it
/// - `cgm_change_outcome_seq`, `cgm_change_outcome_proposal`, `cgm_change_outcome_kind`: which protocol
/// - `cgm_change_outcome_member_count`, `cgm_change_outcome_member`,
///   `cgm_change_outcome_member_payload`: each member's last-round status
/// - `cgm_change_outcome_to_json`
/// - `cgm_change_outcome_free`
pub struct cgm_change_outcome {
    _private: [u8; 0],
}

/// The Rust value behind a `cgm_change_outcome`, with the C strings its
/// accessors hand out.
pub(crate) struct OutcomeObj {
    pub(crate) outcome: Outcome,
    kind: Option<CString>,
    reason: Option<CString>,
    member_reasons: Vec<Option<CString>>,
}

impl OutcomeObj {
    pub(crate) fn new(outcome: Outcome) -> OutcomeObj {
        let c = |s: &str| CString::new(s.replace('\0', "")).unwrap_or_default();
        let member_reasons = outcome
            .statuses
            .iter()
            .map(|(_, s)| match s {
                AckStatus::Failed(r) => Some(c(r)),
                _ => None,
            })
            .collect();
        OutcomeObj { kind: Some(c(&outcome.kind)), reason: outcome.reason.as_deref().map(c), member_reasons, outcome }
    }
}

impl Castable for cgm_change_outcome {
    type Rust = OutcomeObj;
    const NAME: &'static str = "outcome";
}

fn row(o: &OutcomeObj, index: usize) -> FfiResult<&(u32, AckStatus)> {
    o.outcome
        .statuses
        .get(index)
        .ok_or_else(|| invalid(format!("member index {index} is out of range: the outcome has {} members", o.outcome.statuses.len())))
}

/// Frees an outcome. NULL is fine; freeing twice is not (nor freeing one a
/// callback lent).
///
/// Thread-safety: not while another thread reads the same outcome.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_free(outcome: *mut cgm_change_outcome) {
    boundary_value((), || handle::free(outcome))
}

/// Whether the protocol committed on every member (false: rolled back or
/// abandoned on every member).
///
/// - `outcome`: the outcome to read.
/// - `out`: receives true when committed.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_committed(outcome: *const cgm_change_outcome, out: *mut bool) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(outcome)?.outcome.committed);
        Ok(())
    })
}

/// Why the protocol did not commit.
///
/// - `outcome`: the outcome to read.
/// - `out`: receives a NUL-terminated string owned by the outcome (e.g.
///   "member 3 failed: vetoed: ..."), or NULL when it committed.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_reason(outcome: *const cgm_change_outcome, out: *mut *const c_char) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(c_ptr(&borrow(outcome)?.reason));
        Ok(())
    })
}

/// The parameter generation after the protocol (unchanged unless a change
/// committed).
///
/// - `outcome`: the outcome to read.
/// - `out`: receives the generation.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_generation(outcome: *const cgm_change_outcome, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(outcome)?.outcome.generation);
        Ok(())
    })
}

/// The protocol's position in the total order.
///
/// - `outcome`: the outcome to read.
/// - `out`: receives its sequence number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_seq(outcome: *const cgm_change_outcome, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(outcome)?.outcome.seq);
        Ok(())
    })
}

/// The proposal the outcome answers: the proposing node and its transaction
/// id (as `cgm_core_propose_param` returned it).
///
/// - `outcome`: the outcome to read.
/// - `node`: receives the proposing node's id.
/// - `txid`: receives the transaction id.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_proposal(outcome: *const cgm_change_outcome, node: *mut u32, txid: *mut u64) -> cgm_result {
    boundary(|| {
        let (node, txid) = (out(node, "node")?, out(txid, "txid")?);
        let o = &borrow(outcome)?.outcome;
        node.write(o.pid.node);
        txid.write(o.pid.txid);
        Ok(())
    })
}

/// The protocol's kind: "param-change" or "app".
///
/// - `outcome`: the outcome to read.
/// - `out`: receives a NUL-terminated string owned by the outcome.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_kind(outcome: *const cgm_change_outcome, out: *mut *const c_char) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(c_ptr(&borrow(outcome)?.kind));
        Ok(())
    })
}

/// How many members reported a status in the protocol's last round.
///
/// - `outcome`: the outcome to read.
/// - `out`: receives the count.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_member_count(outcome: *const cgm_change_outcome, out: *mut usize) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        out.write(borrow(outcome)?.outcome.statuses.len());
        Ok(())
    })
}

/// One member's status in the protocol's last round, by index in member order.
///
/// - `outcome`: the outcome to read.
/// - `index`: 0 to `cgm_change_outcome_member_count` - 1.
/// - `id`: receives the member's node id.
/// - `ok`: receives false if its local step failed (a veto, a local limit, a
///   failed host step), true otherwise.
/// - `reason`: receives why it failed, a NUL-terminated string owned by the
///   outcome, or NULL when it did not fail.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_member(
    outcome: *const cgm_change_outcome,
    index: usize,
    id: *mut u32,
    ok: *mut bool,
    reason: *mut *const c_char,
) -> cgm_result {
    boundary(|| {
        let (id, ok, reason) = (out(id, "id")?, out(ok, "ok")?, out(reason, "reason")?);
        let o = borrow(outcome)?;
        let (member, status) = row(o, index)?;
        id.write(*member);
        ok.write(!status.is_failed());
        reason.write(c_ptr(&o.member_reasons[index]));
        Ok(())
    })
}

/// The bytes a member's host reported for the last round of an application
/// protocol (`cgm_step_answer`); empty for parameter changes.
///
/// - `outcome`: the outcome to read.
/// - `index`: 0 to `cgm_change_outcome_member_count` - 1.
/// - `data`: receives a pointer to the bytes, owned by the outcome (may be
///   NULL when `len` is 0).
/// - `len`: receives their number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_ARGUMENT` for an index out of range.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_member_payload(
    outcome: *const cgm_change_outcome,
    index: usize,
    data: *mut *const u8,
    len: *mut usize,
) -> cgm_result {
    boundary(|| {
        let (data, len) = (out(data, "data")?, out(len, "len")?);
        let o = borrow(outcome)?;
        let (_, status) = row(o, index)?;
        let bytes: &[u8] = match status {
            AckStatus::Ok(b) => b,
            _ => &[],
        };
        data.write(if bytes.is_empty() { std::ptr::null() } else { bytes.as_ptr() });
        len.write(bytes.len());
        Ok(())
    })
}

/// The whole outcome as JSON, in libcgm's one schema (README, "Status as
/// JSON"): what `cgm set --json` and Python's `Outcome.to_dict()` give too.
///
/// - `outcome`: the outcome to read.
/// - `out`: receives a NUL-terminated string.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`.
///
/// Does not take ownership of its arguments; the caller owns `*out` and frees
/// it with `cgm_string_free`. Thread-safety: see `cgm_change_outcome`.
#[no_mangle]
pub extern "C" fn cgm_change_outcome_to_json(outcome: *const cgm_change_outcome, out: *mut *mut c_char) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let o = borrow(outcome)?;
        let json = serde_json::to_string(&cgm_runtime::cgm_core::schema::outcome_to_json(&o.outcome))
            .map_err(|e| invalid(format!("cannot serialise the outcome: {e}")))?;
        out.write(handle::string_into_raw(json));
        Ok(())
    })
}
