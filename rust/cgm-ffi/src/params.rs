//! The eleven cluster communication parameters: numbers, names, ranges.

use crate::error::cgm_result;
use crate::error::{boundary, boundary_value, fail, FfiResult, CGM_RESULT_INVALID_PARAMETER};
use crate::handle::{cstr, out, static_strings};
use cgm_runtime::cgm_core::params::SPECS;
use cgm_runtime::cgm_core::{Nature, Param};
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::OnceLock;

/// A cluster communication parameter: one of the `CGM_PARAM_*` numbers
/// (append-only, never renumbered). Functions take it as a plain `uint32_t`
/// and refuse unknown numbers with `CGM_RESULT_INVALID_PARAMETER`.
pub type cgm_param = u32;

/// Period at which a member sends heartbeats to its ring successor (ms; global).
pub const CGM_PARAM_HEARTBEAT_INTERVAL: cgm_param = 0;
/// Silence from the ring predecessor after which a heartbeat counts as missed (ms; global).
pub const CGM_PARAM_HEARTBEAT_TIMEOUT: cgm_param = 1;
/// Time a sent heartbeat may stay unacknowledged before it counts as missed (ms; global).
pub const CGM_PARAM_HEARTBEAT_ACK_TIMEOUT: cgm_param = 2;
/// Consecutive missed heartbeats after which the predecessor is suspected (count; local).
pub const CGM_PARAM_HEARTBEAT_FAILURE_THRESHOLD: cgm_param = 3;
/// Consecutive missed heartbeat ACKs after which the successor is suspected (count; local).
pub const CGM_PARAM_HEARTBEAT_ACK_FAILURE_THRESHOLD: cgm_param = 4;
/// Receive-check period as a percentage of the heartbeat interval (percent; global).
pub const CGM_PARAM_RECEIVE_SEND_TIMER_RATIO: cgm_param = 5;
/// Largest datagram a member sends, header included (bytes; global).
pub const CGM_PARAM_MAX_FRAGMENT_SIZE: cgm_param = 6;
/// Time after which an unacknowledged fragment is sent again (ms; local).
pub const CGM_PARAM_MESSAGE_RETRY_TIMER: cgm_param = 7;
/// Time after which an unacknowledged fragment is given up and its peer suspected (ms; local).
pub const CGM_PARAM_MAX_MESSAGE_RETRY_TIME: cgm_param = 8;
/// Fragments queued to one peer past which new sends are refused (messages; local).
pub const CGM_PARAM_SEND_QUEUE_OVERFLOW_THRESHOLD: cgm_param = 9;
/// Fragments in flight to one peer at most (messages; global).
pub const CGM_PARAM_SEND_WINDOW_SIZE: cgm_param = 10;
/// Number of parameters: valid numbers are 0 to `CGM_PARAM_COUNT - 1`.
pub const CGM_PARAM_COUNT: u32 = 11;

/// One parameter and a value for it, in the parameter's unit: an element of a
/// multi-parameter change (`cgm_propose_params`) or of a veto request.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct cgm_param_value {
    /// A `CGM_PARAM_*` number.
    pub param: u32,
    /// The value, in the parameter's unit (see `cgm_param_range`).
    pub value: u64,
}

/// The parameter numbered `p`, or `CGM_RESULT_INVALID_PARAMETER`.
pub(crate) fn param(p: u32) -> FfiResult<Param> {
    Param::ALL.get(p as usize).copied().ok_or_else(|| {
        fail(CGM_RESULT_INVALID_PARAMETER, format!("unknown parameter number {p}: valid numbers are 0..={}", Param::ALL.len() - 1))
    })
}

/// A C change list as `(Param, value)` pairs.
pub(crate) fn changes(list: &[cgm_param_value]) -> FfiResult<Vec<(Param, u64)>> {
    list.iter().map(|c| Ok((param(c.param)?, c.value))).collect()
}

/// The C form of a change list.
pub(crate) fn to_c(list: &[(Param, u64)]) -> Vec<cgm_param_value> {
    list.iter().map(|&(p, v)| cgm_param_value { param: p as u32, value: v }).collect()
}

static NAMES: OnceLock<Vec<CString>> = OnceLock::new();
static UNITS: OnceLock<Vec<CString>> = OnceLock::new();

/// The canonical name of a parameter, e.g. "heartbeat-interval" for
/// `CGM_PARAM_HEARTBEAT_INTERVAL` (the name used in TOML files and by the
/// `cgm` tool).
///
/// - `param`: a `CGM_PARAM_*` number.
///
/// Returns a static NUL-terminated string (do not free it), or NULL for an
/// unknown number.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_param_name(param: cgm_param) -> *const c_char {
    boundary_value(std::ptr::null(), || {
        let names = static_strings(&NAMES, || Param::ALL.iter().map(|p| p.name().to_string()).collect());
        names.get(param as usize).map_or(std::ptr::null(), |s| s.as_ptr())
    })
}

/// Looks a parameter up by name: the canonical kebab-case name
/// ("send-window-size") or its upper snake case ("SEND_WINDOW_SIZE").
///
/// - `name`: NUL-terminated.
/// - `out`: receives the `CGM_PARAM_*` number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown name (the last error lists
/// the known ones); `CGM_RESULT_INVALID_ARGUMENT` for a name that is not UTF-8.
///
/// Does not take ownership of its arguments. Thread-safety: callable from any
/// thread at any time.
#[no_mangle]
pub extern "C" fn cgm_param_from_name(name: *const c_char, out: *mut cgm_param) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let name = cstr(name, "name")?;
        let p = Param::from_name(name).ok_or_else(|| cgm_runtime::cgm_core::ParamError::UnknownName(name.to_string()))?;
        out.write(p as u32);
        Ok(())
    })
}

/// Whether a parameter is global (both ends of a link must agree: heartbeat
/// ones switch over link by link when changed) or local (only the owning
/// member's judgement: takes effect at once).
///
/// - `param`: a `CGM_PARAM_*` number.
/// - `out`: receives true for global, false for local.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown number.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_param_is_global(param: cgm_param, out: *mut bool) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let p = self::param(param)?;
        out.write(p.spec().nature == Nature::Global);
        Ok(())
    })
}

/// The valid range, default and unit of a parameter. Cross-parameter rules
/// (e.g. heartbeat-timeout > heartbeat-interval) are checked when a value is
/// set or proposed, and named in the last error when broken.
///
/// - `param`: a `CGM_PARAM_*` number.
/// - `min`, `max`: receive the smallest and largest valid values.
/// - `def`: receives the default value.
/// - `unit`: receives a static string naming the unit: "ms", "count",
///   "percent", "bytes" or "messages" (do not free it).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown number.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_param_range(param: cgm_param, min: *mut u64, max: *mut u64, def: *mut u64, unit: *mut *const c_char) -> cgm_result {
    boundary(|| {
        let (min, max, def, unit) = (out(min, "min")?, out(max, "max")?, out(def, "def")?, out(unit, "unit")?);
        let p = self::param(param)?;
        let s = &SPECS[p as usize];
        let units = static_strings(&UNITS, || SPECS.iter().map(|s| s.unit.as_str().to_string()).collect());
        min.write(s.min);
        max.write(s.max);
        def.write(s.default);
        unit.write(units[p as usize].as_ptr());
        Ok(())
    })
}

/// Parses a value for a parameter from text: a plain number in the
/// parameter's unit, or for durations a number with a suffix ("500ms", "2s",
/// "1m"). The range is not checked here.
///
/// - `param`: a `CGM_PARAM_*` number.
/// - `text`: NUL-terminated.
/// - `out`: receives the value in the parameter's unit.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_INVALID_PARAMETER` for an unknown number or text that does not
/// parse; `CGM_RESULT_INVALID_ARGUMENT` for text that is not UTF-8.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_param_parse_value(param: cgm_param, text: *const c_char, out: *mut u64) -> cgm_result {
    boundary(|| {
        let out = self::out(out, "out")?;
        let text = cstr(text, "text")?;
        let p = self::param(param)?;
        out.write(p.parse_value(text)?);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_the_core_numbers() {
        let consts = [
            (CGM_PARAM_HEARTBEAT_INTERVAL, Param::HeartbeatInterval),
            (CGM_PARAM_HEARTBEAT_TIMEOUT, Param::HeartbeatTimeout),
            (CGM_PARAM_HEARTBEAT_ACK_TIMEOUT, Param::HeartbeatAckTimeout),
            (CGM_PARAM_HEARTBEAT_FAILURE_THRESHOLD, Param::HeartbeatFailureThreshold),
            (CGM_PARAM_HEARTBEAT_ACK_FAILURE_THRESHOLD, Param::HeartbeatAckFailureThreshold),
            (CGM_PARAM_RECEIVE_SEND_TIMER_RATIO, Param::ReceiveSendTimerRatio),
            (CGM_PARAM_MAX_FRAGMENT_SIZE, Param::MaxFragmentSize),
            (CGM_PARAM_MESSAGE_RETRY_TIMER, Param::MessageRetryTimer),
            (CGM_PARAM_MAX_MESSAGE_RETRY_TIME, Param::MaxMessageRetryTime),
            (CGM_PARAM_SEND_QUEUE_OVERFLOW_THRESHOLD, Param::SendQueueOverflowThreshold),
            (CGM_PARAM_SEND_WINDOW_SIZE, Param::SendWindowSize),
        ];
        assert_eq!(consts.len(), Param::ALL.len());
        assert_eq!(CGM_PARAM_COUNT as usize, Param::ALL.len());
        for (c, p) in consts {
            assert_eq!(c, p as u32, "{p}");
        }
    }

    /// The header a C user reads names each parameter as the core's table
    /// does: `CGM_PARAM_<CANONICAL_NAME>` is that parameter's number.
    #[test]
    fn the_header_names_every_parameter_by_the_tables_canonical_name() {
        let header = include_str!("../../../include/cgm.h");
        let defined: Vec<(String, u32)> = header
            .lines()
            .filter_map(|l| l.strip_prefix("#define CGM_PARAM_"))
            .filter(|l| !l.starts_with("COUNT "))
            .map(|l| {
                let (name, n) = l.split_once(' ').expect("#define NAME VALUE");
                (name.to_string(), n.trim().parse().expect("a number"))
            })
            .collect();
        let table: Vec<(String, u32)> = Param::ALL.iter().map(|&p| (p.name().to_uppercase().replace('-', "_"), p as u32)).collect();
        assert_eq!(defined, table);
    }
}
