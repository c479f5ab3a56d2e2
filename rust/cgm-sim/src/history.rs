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

use cgm_core::{NodeId, Outcome, Param, Params, ViewId};
use serde_json::{json, Map, Value};
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

    fn write(&mut self, t_us: u64, node: NodeId, inc: u64, event: &str, mut fields: Map<String, Value>) {
        let Some(out) = self.out.as_mut() else { return };
        let mut line = Map::new();
        line.insert("t_us".into(), t_us.into());
        line.insert("node".into(), node.into());
        line.insert("inc".into(), inc.into());
        line.insert("event".into(), event.into());
        line.append(&mut fields);
        // A history that cannot be written is a broken run: say so loudly.
        writeln!(out, "{}", Value::Object(line)).expect("history file writable");
    }

    /// An outcome reported to the host.
    pub fn outcome(&mut self, t_us: u64, node: NodeId, inc: u64, o: &Outcome, learned: bool, era: u64) {
        let f = json!({
            "seq": o.seq, "pid": o.pid.to_string(), "kind": o.kind, "committed": o.committed,
            "generation": o.generation, "learned": learned, "era": era,
        });
        self.write(t_us, node, inc, "outcome", object(f));
    }

    /// A view installed.
    pub fn view(&mut self, t_us: u64, node: NodeId, inc: u64, view: ViewId, members: &[NodeId], quorum: bool, transferred: bool) {
        let f = json!({
            "epoch": view.epoch, "leader": view.leader, "members": members, "quorum": quorum, "transferred": transferred,
        });
        self.write(t_us, node, inc, "view", object(f));
    }

    /// The values in force changed.
    pub fn values(&mut self, t_us: u64, node: NodeId, inc: u64, generation: u64, params: &Params, era: u64) {
        let mut values: Map<String, Value> = Param::ALL.iter().map(|&p| (p.name().to_string(), params.get(p).into())).collect();
        values.insert("key".into(), params.key().into());
        values.insert("nodes".into(), params.nodes().ids().collect::<Vec<_>>().into());
        self.write(t_us, node, inc, "values", object(json!({ "generation": generation, "values": values, "era": era })));
    }

    /// A node restarted (`"restart"`) or crashed (`"crash"`).
    pub fn life(&mut self, t_us: u64, node: NodeId, inc: u64, what: &str) {
        self.write(t_us, node, inc, what, Map::new());
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("json! of an object literal"),
    }
}
