//! Events delivered on the host's own thread: `cgm_fd_get`, `cgm_dispatch`
//! and `cgm_node_set_callbacks`. What each callback receives is in
//! `callbacks`, how log records reach it in `logs`.

use crate::callbacks::{cgm_callbacks, Callbacks, Item};
use crate::error::cgm_result;
use crate::error::{boundary, fail, invalid, CGM_RESULT_SHUT_DOWN};
use crate::handle::{self, out};
use crate::node::{cgm_node, live, NodeHandle};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// Dispatch at most one pending event or log record.
pub const CGM_DISPATCH_ONE: u32 = 1;
/// Dispatch every pending event and log record.
pub const CGM_DISPATCH_ALL: u32 = 2;
/// Flag, combined with `CGM_DISPATCH_ONE` or `CGM_DISPATCH_ALL`: first wait
/// until something is pending (or the node is freed).
pub const CGM_DISPATCH_BLOCKING: u32 = 4;

fn next(h: &NodeHandle) -> Option<Item> {
    h.node.poll_event().map(Item::Event).or_else(|| h.logs.pop().map(Item::Log))
}

/// The file descriptor to poll for this node's events: it is readable while
/// events or log records wait for `cgm_dispatch`. Watch it for reading with
/// `poll`, `select`, `epoll` or an event loop; do not read from or close it.
///
/// - `node`: the node.
/// - `fd`: receives the descriptor (valid until `cgm_node_free`).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`; `CGM_RESULT_BAD_HANDLE`.
///
/// Does not take ownership of its arguments. Thread-safety: see `cgm_node`.
#[no_mangle]
pub extern "C" fn cgm_fd_get(node: *const cgm_node, fd: *mut std::os::raw::c_int) -> cgm_result {
    boundary(|| {
        let fd = out(fd, "fd")?;
        fd.write(live(node)?.poll_fd.as_raw_fd());
        Ok(())
    })
}

/// Runs the registered callbacks for pending events and log records, on the
/// calling thread. Views (`on_view`), suspicions (`on_suspect`), outcomes
/// (`on_change`, `on_protocol`), veto and step requests (`on_veto`,
/// `on_step`) and this node's removal from the cluster (`on_removed`) come
/// in the order the node produced them; log records (`on_log`) after them.
///
/// - `node`: the node.
/// - `flags`: `CGM_DISPATCH_ONE` (at most one) or `CGM_DISPATCH_ALL` (every
///   pending one), optionally `| CGM_DISPATCH_BLOCKING` to first wait until
///   something is pending.
///
/// Results: `CGM_RESULT_OK` (also when nothing was pending);
/// `CGM_RESULT_NULL_ARGUMENT`; `CGM_RESULT_BAD_HANDLE`;
/// `CGM_RESULT_INVALID_ARGUMENT` for bad flags; `CGM_RESULT_SHUT_DOWN` when a
/// blocking dispatch ends because the node was freed.
///
/// Thread-safety: see `cgm_node`; several threads may dispatch the same node
/// (each event goes to one of them).
#[no_mangle]
pub extern "C" fn cgm_dispatch(node: *const cgm_node, flags: u32) -> cgm_result {
    boundary(|| {
        let h = live(node)?;
        let mode = flags & !CGM_DISPATCH_BLOCKING;
        if flags & !(CGM_DISPATCH_ONE | CGM_DISPATCH_ALL | CGM_DISPATCH_BLOCKING) != 0
            || (mode != CGM_DISPATCH_ONE && mode != CGM_DISPATCH_ALL)
        {
            return Err(invalid(format!(
                "dispatch flags {flags:#x}: use CGM_DISPATCH_ONE or CGM_DISPATCH_ALL, optionally | CGM_DISPATCH_BLOCKING"
            )));
        }
        let mut delivered = 0usize;
        loop {
            match next(&h) {
                Some(item) => {
                    let cb = *h.callbacks.lock().unwrap_or_else(|e| e.into_inner());
                    cb.deliver(&h.node, item);
                    delivered += 1;
                    if mode == CGM_DISPATCH_ONE {
                        break;
                    }
                }
                None if flags & CGM_DISPATCH_BLOCKING != 0 && delivered == 0 => {
                    if h.node.is_closed() {
                        return Err(fail(CGM_RESULT_SHUT_DOWN, "the node is shut down"));
                    }
                    crate::sys::wait_readable(&h.poll_fd, Duration::from_millis(100));
                }
                None => break,
            }
        }
        Ok(())
    })
}

/// Registers the node's callbacks, replacing any set before (a struct with
/// every callback NULL clears them). Events pending at the time go to the new
/// callbacks.
///
/// - `node`: the node.
/// - `callbacks`: the callbacks; only `callbacks->size` bytes are read, and
///   the struct is copied (it need not outlive the call).
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_NULL_ARGUMENT`;
/// `CGM_RESULT_BAD_HANDLE`; `CGM_RESULT_INVALID_ARGUMENT` when `size` is too
/// small to hold `user_data`.
///
/// Does not take ownership of its arguments (`user_data` stays the
/// caller's). Thread-safety: see `cgm_node`; `user_data` must be usable on
/// every thread that calls `cgm_dispatch` for this node.
#[no_mangle]
pub extern "C" fn cgm_node_set_callbacks(node: *const cgm_node, callbacks: *const cgm_callbacks) -> cgm_result {
    boundary(|| {
        let cb = Callbacks::new(handle::read_sized(callbacks, "callbacks")?);
        let h = live(node)?;
        *h.callbacks.lock().unwrap_or_else(|e| e.into_inner()) = cb;
        h.logs.enable(cb.wants_logs());
        Ok(())
    })
}
