//! Result codes, the thread-local last error and the panic boundary: what
//! every other module of the crate builds on, so it imports none of them.

use cgm_runtime::ResultCode;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

/// The result of a call: `CGM_RESULT_OK` (0) or one of the `CGM_RESULT_*`
/// error codes. Codes are stable and append-only; a code this header does not
/// know may come from a newer library (`cgm_result_str` names it "unknown
/// result code").
pub type cgm_result = u32;

/// Success.
pub const CGM_RESULT_OK: cgm_result = 0;
/// A required pointer argument was NULL; nothing changed.
pub const CGM_RESULT_NULL_ARGUMENT: cgm_result = 1;
/// An argument is invalid (bad address, index out of range, unknown flag...); nothing changed.
pub const CGM_RESULT_INVALID_ARGUMENT: cgm_result = 2;
/// A parameter or its value is invalid (unknown, out of range, breaks a rule); nothing changed.
pub const CGM_RESULT_INVALID_PARAMETER: cgm_result = 3;
/// The `cgm_node *` is freed or was never valid.
pub const CGM_RESULT_BAD_HANDLE: cgm_result = 4;
/// The operation did not finish in time (a proposal goes on: its outcome comes as an event).
pub const CGM_RESULT_TIMEOUT: cgm_result = 5;
/// The change (or application protocol) was rolled back on every member.
pub const CGM_RESULT_ROLLED_BACK: cgm_result = 6;
/// The change was vetoed by a member's host and rolled back on every member.
pub const CGM_RESULT_VETOED: cgm_result = 7;
/// The node's view holds no quorum: nothing was sent.
pub const CGM_RESULT_NO_QUORUM: cgm_result = 8;
/// The node is not (or no longer) a member, or the member asked for is not configured.
pub const CGM_RESULT_NOT_MEMBER: cgm_result = 9;
/// Authentication failed or no key was given.
pub const CGM_RESULT_AUTHENTICATION: cgm_result = 10;
/// A peer speaks another protocol version.
pub const CGM_RESULT_VERSION_MISMATCH: cgm_result = 11;
/// An operating-system I/O error (socket, file, thread).
pub const CGM_RESULT_IO: cgm_result = 12;
/// A send queue is over its threshold: nothing was sent.
pub const CGM_RESULT_BACKPRESSURE: cgm_result = 13;
/// The node is shut down.
pub const CGM_RESULT_SHUT_DOWN: cgm_result = 14;
/// An internal panic was caught at the boundary (a bug: please report it).
pub const CGM_RESULT_PANIC: cgm_result = 15;

/// Every code, indexed by its number (checked against the runtime's enum in tests).
pub(crate) const CODES: [ResultCode; 16] = [
    ResultCode::Ok,
    ResultCode::NullArgument,
    ResultCode::InvalidArgument,
    ResultCode::InvalidParameter,
    ResultCode::BadHandle,
    ResultCode::Timeout,
    ResultCode::RolledBack,
    ResultCode::Vetoed,
    ResultCode::NoQuorum,
    ResultCode::NotMember,
    ResultCode::Authentication,
    ResultCode::VersionMismatch,
    ResultCode::Io,
    ResultCode::Backpressure,
    ResultCode::ShutDown,
    ResultCode::Panic,
];

/// Why a call failed: its code and the message `cgm_last_error` returns.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: cgm_result,
    pub(crate) message: String,
}

pub(crate) type FfiResult<T = ()> = Result<T, Failure>;

/// A failure with `code` and `message`.
pub(crate) fn fail(code: cgm_result, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into() }
}

/// An `INVALID_ARGUMENT` failure.
pub(crate) fn invalid(message: impl Into<String>) -> Failure {
    fail(CGM_RESULT_INVALID_ARGUMENT, message)
}

impl From<cgm_runtime::Error> for Failure {
    fn from(e: cgm_runtime::Error) -> Failure {
        fail(e.code() as cgm_result, e.to_string())
    }
}

impl From<cgm_runtime::cgm_core::Error> for Failure {
    fn from(e: cgm_runtime::cgm_core::Error) -> Failure {
        cgm_runtime::Error::from(e).into()
    }
}

impl From<cgm_runtime::cgm_core::ParamError> for Failure {
    fn from(e: cgm_runtime::cgm_core::ParamError) -> Failure {
        fail(CGM_RESULT_INVALID_PARAMETER, e.to_string())
    }
}

impl From<cgm_runtime::ConfigError> for Failure {
    fn from(e: cgm_runtime::ConfigError) -> Failure {
        fail(CGM_RESULT_INVALID_ARGUMENT, e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error.
fn set_last_error(message: &str) {
    LAST_ERROR.with(|l| {
        let mut l = l.borrow_mut();
        l.clear();
        l.push_str(message);
    });
}

/// Runs `f` on this thread's last error message.
pub(crate) fn with_last_error<R>(f: impl FnOnce(&str) -> R) -> R {
    LAST_ERROR.with(|l| f(&l.borrow()))
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Runs the body of a result-returning extern function: catches panics
/// (`CGM_RESULT_PANIC`) and records the message of a failure for
/// `cgm_last_error`.
#[track_caller]
pub(crate) fn boundary(body: impl FnOnce() -> FfiResult) -> cgm_result {
    let code = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => CGM_RESULT_OK,
        Ok(Err(f)) => {
            set_last_error(&f.message);
            f.code
        }
        Err(p) => {
            set_last_error(&format!("internal panic: {}", panic_message(p.as_ref())));
            CGM_RESULT_PANIC
        }
    };
    log_result(std::panic::Location::caller(), code);
    code
}

/// With `CGM_RESULT_LOG=<file>` in the environment, each result-returning call
/// appends "<source file>:<line> <code>" to that file (its `boundary` call
/// names the function). tests/c/check_results.sh compares the codes each
/// function returned during the C suite with the results its header comment
/// lists. Without the variable this costs one check of a `OnceLock`.
fn log_result(at: &std::panic::Location<'_>, code: cgm_result) {
    use std::io::Write;
    static LOG: OnceLock<Option<std::fs::File>> = OnceLock::new();
    let log = LOG.get_or_init(|| {
        let path = std::env::var_os("CGM_RESULT_LOG")?;
        std::fs::OpenOptions::new().create(true).append(true).open(path).ok()
    });
    if let Some(mut f) = log.as_ref() {
        // One write per line: appends from threads and processes stay whole.
        let _ = f.write_all(format!("{}:{} {code}\n", at.file(), at.line()).as_bytes());
    }
}

/// Runs the body of an extern function that returns a value, returning
/// `default` if it panics.
pub(crate) fn boundary_value<T>(default: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(p) => {
            set_last_error(&format!("internal panic: {}", panic_message(p.as_ref())));
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_runtime_and_the_constants() {
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
        let consts = [
            CGM_RESULT_OK,
            CGM_RESULT_NULL_ARGUMENT,
            CGM_RESULT_INVALID_ARGUMENT,
            CGM_RESULT_INVALID_PARAMETER,
            CGM_RESULT_BAD_HANDLE,
            CGM_RESULT_TIMEOUT,
            CGM_RESULT_ROLLED_BACK,
            CGM_RESULT_VETOED,
            CGM_RESULT_NO_QUORUM,
            CGM_RESULT_NOT_MEMBER,
            CGM_RESULT_AUTHENTICATION,
            CGM_RESULT_VERSION_MISMATCH,
            CGM_RESULT_IO,
            CGM_RESULT_BACKPRESSURE,
            CGM_RESULT_SHUT_DOWN,
            CGM_RESULT_PANIC,
        ];
        for (c, k) in CODES.iter().zip(consts) {
            assert_eq!(*c as u32, k);
        }
    }

    #[test]
    fn a_panic_becomes_the_panic_code_with_a_message() {
        assert_eq!(boundary(|| panic!("boom")), CGM_RESULT_PANIC);
        assert!(LAST_ERROR.with(|l| l.borrow().contains("boom")));
    }
}
