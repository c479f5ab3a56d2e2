//! Log forwarding: the bridge from the `log` records of the library to each
//! node's `on_log`, through a queue per node that `cgm_dispatch` empties, and
//! `cgm_set_log_level`.

use crate::error::cgm_result;
use crate::error::{boundary, fail, invalid, FfiResult, CGM_RESULT_IO};
use crate::handle::c_string;
use std::collections::VecDeque;
use std::ffi::CString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

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

/// One log record, as `on_log` receives it.
pub(crate) struct LogRecord {
    /// Its `CGM_LOG_*` level.
    pub(crate) level: u32,
    /// Its target (module).
    pub(crate) target: CString,
    /// Its message.
    pub(crate) message: CString,
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
    /// An empty sink that queues nothing until it is enabled.
    pub(crate) fn new() -> FfiResult<LogSink> {
        let io = |e: std::io::Error| fail(CGM_RESULT_IO, format!("cannot create the log socket pair: {e}"));
        let (reader, writer) = UnixStream::pair().map_err(io)?;
        reader.set_nonblocking(true).map_err(io)?;
        writer.set_nonblocking(true).map_err(io)?;
        Ok(LogSink { queue: Mutex::default(), enabled: AtomicBool::new(false), dropped: AtomicU64::new(0), reader, writer })
    }

    /// The fd that is readable while records wait.
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

    /// The next record, first a note of how many were dropped if any were.
    pub(crate) fn pop(&self) -> Option<LogRecord> {
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

    /// Makes the sink queue records (the node's `on_log` is set) or not.
    pub(crate) fn enable(&self, on: bool) {
        self.enabled.store(on, Ordering::Release);
        if on {
            install_logger();
        }
    }

    /// Stops queuing (the node is freed) and empties the queue.
    pub(crate) fn close(&self) {
        self.enabled.store(false, Ordering::Release);
        self.queue().clear();
    }
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
