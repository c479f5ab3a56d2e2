//! The library-wide calls: its version (`cgm_version`), the description of a
//! result code (`cgm_result_str`) and this thread's last error message
//! (`cgm_last_error`).

use crate::error::{boundary_value, with_last_error, CODES};
use crate::handle::{static_strings, write_c_string};
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::OnceLock;

/// The library's version, e.g. "0.1.0": equal to
/// `CGM_VERSION_MAJOR.CGM_VERSION_MINOR.CGM_VERSION_PATCH` of the header it was
/// built with.
///
/// Returns a static NUL-terminated string, never NULL; do not free it.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_version() -> *const c_char {
    static V: OnceLock<Vec<CString>> = OnceLock::new();
    boundary_value(std::ptr::null(), || static_strings(&V, || vec![env!("CARGO_PKG_VERSION").to_string()])[0].as_ptr())
}

/// A static description of a result code, e.g. "timed out" for
/// `CGM_RESULT_TIMEOUT`.
///
/// - `code`: any number; one this library does not know gives
///   "unknown result code".
///
/// Returns a static NUL-terminated string, never NULL; do not free it.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_result_str(code: u32) -> *const c_char {
    static S: OnceLock<Vec<CString>> = OnceLock::new();
    boundary_value(std::ptr::null(), || {
        let table = static_strings(&S, || {
            let mut v: Vec<String> = CODES.iter().map(|c| c.describe().to_string()).collect();
            v.push("unknown result code".into());
            v
        });
        table.get(code as usize).unwrap_or(&table[CODES.len()]).as_ptr()
    })
}

/// The message of the last call on this thread that failed (empty if none
/// did): it names what was wrong, e.g. "send-window-size = 0 is out of range:
/// valid range is 1..=4096 messages". Successful calls leave it unchanged.
///
/// - `buf`: where to write the message, NUL-terminated and truncated to fit
///   (bytes, so truncation may split a UTF-8 character); may be NULL when
///   `len` is 0.
/// - `len`: size of `buf` in bytes.
///
/// Returns the message's full length in bytes, not counting the NUL, as
/// `snprintf` does: a buffer of at least that plus one holds it whole. Writes
/// nothing when `buf` is NULL or `len` is 0.
///
/// Thread-safety: callable from any thread; each thread has its own message.
#[no_mangle]
pub extern "C" fn cgm_last_error(buf: *mut c_char, len: usize) -> usize {
    boundary_value(0, || with_last_error(|m| write_c_string(buf, len, m.as_bytes())))
}
