//! Events and log records, delivered on the host's own thread: `cgm_fd_get`,
//! `cgm_dispatch`, the size-tagged `cgm_callbacks`, and the bridge from the
//! `log` records of the library to each node's `on_log`.

use crate::error::cgm_result;
use crate::error::{boundary, fail, invalid, FfiResult, CGM_RESULT_IO, CGM_RESULT_SHUT_DOWN};
use crate::handle::{self, out, SizeTagged};
use crate::node::{cgm_node, live, NodeHandle};
use crate::outcome::{cgm_change_outcome, OutcomeObj};
use crate::params::{cgm_param_value, to_c};
use cgm_runtime::NodeEvent;
use std::collections::VecDeque;
use std::ffi::{c_void, CString};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::raw::c_char;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

/// Dispatch at most one pending event or log record.
pub const CGM_DISPATCH_ONE: u32 = 1;
/// Dispatch every pending event and log record.
pub const CGM_DISPATCH_ALL: u32 = 2;
/// Flag, combined with `CGM_DISPATCH_ONE` or `CGM_DISPATCH_ALL`: first wait
/// until something is pending (or the node is freed).
pub const CGM_DISPATCH_BLOCKING: u32 = 4;

/// Log level: no records.
pub const CGM_LOG_OFF: u32 = 0;
/// Log level: errors only.
pub const CGM_LOG_ERROR: u32 = 1;
/// Log level: warnings and errors (the default).
pub const CGM_LOG_WARN: u32 = 2;
/// Log level: informational records and above.
pub const CGM_LOG_INFO: u32 = 3;
/// Log level: debugging records and above.
pub const CGM_LOG_DEBUG: u32 = 4;
/// Log level: everything.
pub const CGM_LOG_TRACE: u32 = 5;

/// The host's callbacks, run only inside `cgm_dispatch` on the thread that
/// calls it (never on a library thread), so they may block and may call any
/// function of this API, on this node too, except `cgm_node_free` of the node
/// being dispatched.
///
/// Set `size` to `sizeof(cgm_callbacks)`: the library reads only `size`
/// bytes, so a program built against an older, smaller struct keeps working
/// (the callbacks it does not know stay NULL). Any callback may be NULL:
/// its events are then dropped, except that a veto request is refused and a
/// step request fails, with a reason saying no callback is registered.
/// Pointers passed to a callback are valid only during it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct cgm_callbacks {
    /// `sizeof(cgm_callbacks)` as the caller knows it.
    pub size: usize,
    /// Passed as the first argument of every callback.
    pub user_data: *mut c_void,
    /// A new view was installed: its epoch and forming node, its members'
    /// ids (`n_members` of them, in id order) and whether it holds a quorum.
    pub on_view:
        Option<unsafe extern "C" fn(user_data: *mut c_void, epoch: u64, leader: u32, members: *const u32, n_members: usize, quorum: bool)>,
    /// This node suspects `member` failed, for `reason`.
    pub on_suspect: Option<unsafe extern "C" fn(user_data: *mut c_void, member: u32, reason: *const c_char)>,
    /// A parameter change ended (committed or rolled back), the same outcome
    /// on every member; `outcome` is lent for the callback's duration.
    pub on_change: Option<unsafe extern "C" fn(user_data: *mut c_void, outcome: *const cgm_change_outcome)>,
    /// The veto hook (`cgm_config_set_veto_hook`): this member is about to
    /// apply `n` parameter changes; answer with `cgm_veto_answer(node, token,
    /// accept, reason)`, now or later from any thread, before the veto timeout.
    pub on_veto: Option<unsafe extern "C" fn(user_data: *mut c_void, token: u64, changes: *const cgm_param_value, n: usize)>,
    /// A round of an application protocol (`cgm_run_host_protocol`) waits for
    /// this host's status: answer with `cgm_step_answer(node, token, ...)`.
    /// `seq` is the protocol's sequence number, `round_index` the round
    /// within it (0-based), `payload` its `len` bytes.
    pub on_step:
        Option<unsafe extern "C" fn(user_data: *mut c_void, token: u64, seq: u64, round_index: u32, payload: *const u8, len: usize)>,
    /// A log record of the library (every node in this process logs to every
    /// node that sets this): its `CGM_LOG_*` level, its target (module) and
    /// message. See `cgm_set_log_level`.
    pub on_log: Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, target: *const c_char, message: *const c_char)>,
    /// An application protocol ended (see `cgm_change_outcome_committed`);
    /// `outcome` is lent for the callback's duration.
    pub on_protocol: Option<unsafe extern "C" fn(user_data: *mut c_void, outcome: *const cgm_change_outcome)>,
}

impl Default for cgm_callbacks {
    fn default() -> Self {
        cgm_callbacks {
            size: std::mem::size_of::<cgm_callbacks>(),
            user_data: std::ptr::null_mut(),
            on_view: None,
            on_suspect: None,
            on_change: None,
            on_veto: None,
            on_step: None,
            on_log: None,
            on_protocol: None,
        }
    }
}

// SAFETY: `cgm_callbacks` is `#[repr(C)]`, starts with `size: usize`, and its
// other fields are a raw pointer and nullable function pointers.
unsafe impl SizeTagged for cgm_callbacks {
    const NAME: &'static str = "cgm_callbacks";
    const MIN_SIZE: usize = std::mem::size_of::<usize>() + std::mem::size_of::<*mut c_void>();
}

/// A node's callbacks as the registry keeps them.
#[derive(Default, Clone, Copy)]
pub(crate) struct Callbacks(cgm_callbacks);

// SAFETY: the library never touches `user_data` or calls the functions
// except inside `cgm_dispatch`, on a thread the host chose; the host makes
// `user_data` usable from whichever threads it dispatches on (documented).
unsafe impl Send for Callbacks {}
// SAFETY: as above; the struct is only copied.
unsafe impl Sync for Callbacks {}

// ----- log records -----------------------------------------------------------

struct LogRecord {
    level: u32,
    target: CString,
    message: CString,
}

/// Records queued for one node's `on_log`, with a socket pair whose read end
/// is readable while the queue is not empty (part of the node's poll fd).
pub(crate) struct LogSink {
    queue: Mutex<VecDeque<LogRecord>>,
    enabled: AtomicBool,
    dropped: AtomicU64,
    reader: UnixStream,
    writer: UnixStream,
}

/// Records kept per node before the oldest are dropped.
const MAX_RECORDS: usize = 4_096;

impl LogSink {
    pub(crate) fn new() -> FfiResult<LogSink> {
        let io = |e: std::io::Error| fail(CGM_RESULT_IO, format!("cannot create the log socket pair: {e}"));
        let (reader, writer) = UnixStream::pair().map_err(io)?;
        reader.set_nonblocking(true).map_err(io)?;
        writer.set_nonblocking(true).map_err(io)?;
        Ok(LogSink { queue: Mutex::default(), enabled: AtomicBool::new(false), dropped: AtomicU64::new(0), reader, writer })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<LogRecord>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, r: LogRecord) {
        let mut q = self.queue();
        if q.is_empty() {
            let _ = (&self.writer).write(&[1]);
        }
        if q.len() >= MAX_RECORDS {
            q.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        q.push_back(r);
    }

    fn pop(&self) -> Option<LogRecord> {
        let mut q = self.queue();
        let r = q.pop_front();
        if q.is_empty() {
            let mut buf = [0u8; 64];
            while matches!((&self.reader).read(&mut buf), Ok(n) if n > 0) {}
        }
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let note = LogRecord {
                level: CGM_LOG_WARN,
                target: c_string("cgm_ffi"),
                message: c_string(&format!("{dropped} log records were dropped: dispatch more often or lower the log level")),
            };
            if let Some(r) = r {
                q.push_front(r);
            }
            return Some(note);
        }
        r
    }

    /// Stops queuing (the node is freed) and empties the queue.
    pub(crate) fn close(&self) {
        self.enabled.store(false, Ordering::Release);
        self.queue().clear();
    }
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

static SINKS: Mutex<Vec<Weak<LogSink>>> = Mutex::new(Vec::new());
static LOGGER_INSTALLED: OnceLock<bool> = OnceLock::new();
static LEVEL_SET: AtomicBool = AtomicBool::new(false);

struct Bridge;

impl log::Log for Bridge {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let sinks: Vec<Arc<LogSink>> = SINKS.lock().unwrap_or_else(|e| e.into_inner()).iter().filter_map(Weak::upgrade).collect();
        let mut record = None;
        for s in sinks.iter().filter(|s| s.enabled.load(Ordering::Acquire)) {
            let rec = record.get_or_insert_with(|| (r.level() as u32, r.target().to_string(), r.args().to_string()));
            s.push(LogRecord { level: rec.0, target: c_string(&rec.1), message: c_string(&rec.2) });
        }
    }

    fn flush(&self) {}
}

static BRIDGE: Bridge = Bridge;

/// Installs the bridge as the process's `log` logger, once (if the host
/// already installed another Rust logger, that one keeps the records).
fn install_logger() {
    LOGGER_INSTALLED.get_or_init(|| {
        let ok = log::set_logger(&BRIDGE).is_ok();
        if ok && !LEVEL_SET.load(Ordering::Acquire) {
            log::set_max_level(log::LevelFilter::Warn);
        }
        ok
    });
}

/// Makes a node's sink receive log records (once `on_log` is set).
pub(crate) fn attach_log_sink(s: &Arc<LogSink>) {
    let mut sinks = SINKS.lock().unwrap_or_else(|e| e.into_inner());
    sinks.retain(|w| w.strong_count() > 0);
    sinks.push(Arc::downgrade(s));
    drop(sinks);
    install_logger();
}

// ----- dispatch ----------------------------------------------------------------

enum Item {
    Event(NodeEvent),
    Log(LogRecord),
}

fn next(h: &NodeHandle) -> Option<Item> {
    h.node.poll_event().map(Item::Event).or_else(|| h.logs.pop().map(Item::Log))
}

fn deliver(h: &NodeHandle, item: Item) {
    let cb = h.callbacks.lock().unwrap_or_else(|e| e.into_inner()).0;
    let ud = cb.user_data;
    // SAFETY (every call below): the host registered these functions with
    // this `user_data` through `cgm_node_set_callbacks`; each pointer argument
    // points to memory that lives until the call returns.
    match item {
        Item::Event(NodeEvent::ViewChanged { view, members, quorum }) => {
            if let Some(f) = cb.on_view {
                unsafe { f(ud, view.epoch, view.leader, members.as_ptr(), members.len(), quorum) };
            }
        }
        Item::Event(NodeEvent::Suspected { member, reason }) => {
            if let Some(f) = cb.on_suspect {
                let reason = c_string(&reason);
                unsafe { f(ud, member, reason.as_ptr()) };
            }
        }
        Item::Event(NodeEvent::ChangeCommitted(o) | NodeEvent::ChangeRolledBack(o)) => {
            if let Some(f) = cb.on_change {
                let o = OutcomeObj::new(o);
                unsafe { f(ud, handle::as_ptr::<cgm_change_outcome>(&o)) };
            }
        }
        Item::Event(NodeEvent::ProtocolCompleted(o)) => {
            if let Some(f) = cb.on_protocol {
                let o = OutcomeObj::new(o);
                unsafe { f(ud, handle::as_ptr::<cgm_change_outcome>(&o)) };
            }
        }
        Item::Event(NodeEvent::VetoRequest { token, changes }) => match cb.on_veto {
            Some(f) => {
                let list = to_c(&changes);
                unsafe { f(ud, token, list.as_ptr(), list.len()) };
            }
            None => {
                let _ = h.node.answer_veto(token, Err("no on_veto callback is registered".into()));
            }
        },
        Item::Event(NodeEvent::StepRequest { token, seq, round_index, payload }) => match cb.on_step {
            Some(f) => unsafe { f(ud, token, seq, u32::from(round_index), payload.as_ptr(), payload.len()) },
            None => {
                let _ = h.node.answer_step(token, Err("no on_step callback is registered".into()));
            }
        },
        Item::Log(r) => {
            if let Some(f) = cb.on_log {
                unsafe { f(ud, r.level, r.target.as_ptr(), r.message.as_ptr()) };
            }
        }
    }
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
/// calling thread. Views, suspicions, outcomes, veto and step requests come
/// in the order the node produced them; log records after them.
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
                    deliver(&h, item);
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
        let cb = handle::read_sized(callbacks, "callbacks")?;
        let h = live(node)?;
        *h.callbacks.lock().unwrap_or_else(|e| e.into_inner()) = Callbacks(cb);
        h.logs.enabled.store(cb.on_log.is_some(), Ordering::Release);
        if cb.on_log.is_some() {
            install_logger();
        }
        Ok(())
    })
}

/// Sets the level of the library's log records delivered to `on_log` (for
/// every node of the process): `CGM_LOG_OFF` to `CGM_LOG_TRACE`; the default
/// is `CGM_LOG_WARN`.
///
/// - `level`: a `CGM_LOG_*` number.
///
/// Results: `CGM_RESULT_OK`; `CGM_RESULT_INVALID_ARGUMENT` for an unknown level.
///
/// Thread-safety: callable from any thread at any time.
#[no_mangle]
pub extern "C" fn cgm_set_log_level(level: u32) -> cgm_result {
    boundary(|| {
        let filter = match level {
            CGM_LOG_OFF => log::LevelFilter::Off,
            CGM_LOG_ERROR => log::LevelFilter::Error,
            CGM_LOG_WARN => log::LevelFilter::Warn,
            CGM_LOG_INFO => log::LevelFilter::Info,
            CGM_LOG_DEBUG => log::LevelFilter::Debug,
            CGM_LOG_TRACE => log::LevelFilter::Trace,
            _ => return Err(invalid(format!("log level {level}: use CGM_LOG_OFF (0) to CGM_LOG_TRACE (5)"))),
        };
        LEVEL_SET.store(true, Ordering::Release);
        install_logger();
        log::set_max_level(filter);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_match_the_log_crate() {
        assert_eq!(log::Level::Error as u32, CGM_LOG_ERROR);
        assert_eq!(log::Level::Trace as u32, CGM_LOG_TRACE);
    }
}
