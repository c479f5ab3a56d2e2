//! Histories anyone can check: every host-visible event of every member of a
//! simulated run, as JSON Lines (`cgm-sim --history PATH`).
//!
//! One object per line, in the order the simulator saw them; every object has
//! `t_us` (simulated time in µs), `node`, `inc` (the node's incarnation) and
//! `event`:
//!
//! - `{"event": "outcome", "seq", "pid": "NODE:TXID", "kind":
//!   "param-change"|"key-rotation"|"app", "committed", "generation", "learned", "era"}`: an
//!   outcome reported to the host, as a protocol this member completed
//!   (`learned: false`) or as the fate of its own proposal decided while it
//!   was cut off (`learned: true`); `era` counts the times the cluster lost
//!   its state (see `check.rs`);
//! - `{"event": "view", "epoch", "leader", "members": [ids], "quorum",
//!   "transferred"}`: a view installed;
//! - `{"event": "values", "generation", "values": {canonical-name: number},
//!   "era"}`: the values in force (the key's fingerprint among them, as
//!   `"key"`), whenever they differ from what the host
//!   was last told: after a committed change or a rollback is reported, and
//!   after a state transfer;
//! - `{"event": "restart"}` and `{"event": "crash"}`.
//!
//! The simulator's own checker is one consumer of these events;
//! `tests/sim/check_history.py` is a second, independent one.

use cgm_core::schema::{history_line, HistoryEvent};
use cgm_core::{NodeId, Outcome, Params, ViewId};
use std::io::Write;

/// Where a run's history goes, if anywhere.
#[derive(Default)]
pub struct HistoryLog {
    out: Option<Box<dyn Write + Send>>,
}

impl HistoryLog {
    /// A log writing to `out`.
    pub fn to(out: Box<dyn Write + Send>) -> HistoryLog {
        HistoryLog { out: Some(out) }
    }

    /// Whether anything is written.
    pub fn is_on(&self) -> bool {
        self.out.is_some()
    }

    fn write(&mut self, t_us: u64, node: NodeId, inc: u64, e: &HistoryEvent<'_>) {
        let Some(out) = self.out.as_mut() else { return };
        // A history that cannot be written is a broken run: say so loudly.
        writeln!(out, "{}", history_line(t_us, node, inc, e)).expect("history file writable");
    }

    /// An outcome reported to the host.
    pub fn outcome(&mut self, t_us: u64, node: NodeId, inc: u64, o: &Outcome, learned: bool, era: u64) {
        self.write(t_us, node, inc, &HistoryEvent::Outcome { outcome: o, learned, era });
    }

    /// A view installed.
    pub fn view(&mut self, t_us: u64, node: NodeId, inc: u64, view: ViewId, members: &[NodeId], quorum: bool, transferred: bool) {
        self.write(t_us, node, inc, &HistoryEvent::View { view, members, quorum, transferred });
    }

    /// The values in force changed.
    pub fn values(&mut self, t_us: u64, node: NodeId, inc: u64, generation: u64, params: &Params, era: u64) {
        self.write(t_us, node, inc, &HistoryEvent::Values { generation, params, era });
    }

    /// A node restarted (`restart`: true) or crashed.
    pub fn life(&mut self, t_us: u64, node: NodeId, inc: u64, restart: bool) {
        self.write(t_us, node, inc, if restart { &HistoryEvent::Restart } else { &HistoryEvent::Crash });
    }
}
