//! A node's history file (`cgm node --history PATH`, `NodeConfig::history`):
//! every host-visible event of the member as JSON Lines, in the schema the
//! simulator writes (`cgm_core::schema::history_line`), so the same
//! independent checker (`tests/sim/check_history.py`) reads a run of real
//! processes. Times are the wall clock in µs, comparable across the
//! processes of one machine; each line is written whole at once, so a
//! `kill -9` loses none that was written.

use cgm_core::schema::{history_line, HistoryEvent};
use cgm_core::NodeId;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// An open history file.
#[derive(Debug)]
pub(crate) struct History {
    file: File,
    node: NodeId,
    inc: u64,
}

impl History {
    /// Opens `path` for appending (a restarted node goes on in the same
    /// file) and records the start of incarnation `inc`.
    ///
    /// # Errors
    /// The path and the reason, when it cannot be opened.
    pub(crate) fn open(path: &Path, node: NodeId, inc: u64) -> Result<History, String> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open the history file {}: {e}", path.display()))?;
        let mut h = History { file, node, inc };
        h.write(&HistoryEvent::Restart);
        Ok(h)
    }

    /// Appends one event. A failed write is logged, not fatal: the history
    /// is a record for checking, and the node goes on.
    pub(crate) fn write(&mut self, e: &HistoryEvent<'_>) {
        let t_us = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let mut line = history_line(t_us, self.node, self.inc, e).to_string();
        line.push('\n');
        if let Err(err) = self.file.write_all(line.as_bytes()) {
            log::warn!("node {}: cannot write its history: {err}", self.node);
        }
    }
}
