//! Log records: queued by whichever runtime thread logs, forwarded to Python's
//! `logging` by the host's thread (`drain_logs`, called from `Node.dispatch`).
//! No runtime thread ever calls Python.

use pyo3::prelude::*;
use std::collections::VecDeque;
use std::sync::Mutex;

/// The most records kept; the oldest are dropped first.
const LOG_QUEUE_MAX: usize = 10_000;

/// The `log` backend of the extension: a bounded queue of
/// `(python_level, target, message)`.
struct QueueLogger {
    records: Mutex<VecDeque<(u32, String, String)>>,
}

static LOGGER: QueueLogger = QueueLogger { records: Mutex::new(VecDeque::new()) };

impl log::Log for QueueLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        // Python's numeric levels.
        let level = match r.level() {
            log::Level::Error => 40,
            log::Level::Warn => 30,
            log::Level::Info => 20,
            log::Level::Debug => 10,
            log::Level::Trace => 5,
        };
        let Ok(mut q) = self.records.lock() else { return };
        if q.len() >= LOG_QUEUE_MAX {
            q.pop_front();
        }
        q.push_back((level, r.target().to_string(), r.args().to_string()));
    }

    fn flush(&self) {}
}

/// Makes the queue the process's logger at level Info, unless a logger is
/// already set.
pub(crate) fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

/// Takes the queued log records: `(python_level, target, message)`.
#[pyfunction]
pub(crate) fn drain_logs() -> Vec<(u32, String, String)> {
    LOGGER.records.lock().map(|mut q| q.drain(..).collect()).unwrap_or_default()
}

/// Sets the most verbose level queued (Python's numeric levels).
#[pyfunction]
pub(crate) fn set_log_level(level: u32) {
    log::set_max_level(match level {
        0..=5 => log::LevelFilter::Trace,
        6..=10 => log::LevelFilter::Debug,
        11..=20 => log::LevelFilter::Info,
        21..=30 => log::LevelFilter::Warn,
        31..=50 => log::LevelFilter::Error,
        _ => log::LevelFilter::Off,
    });
}
