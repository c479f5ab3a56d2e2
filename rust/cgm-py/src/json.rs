//! Values to Python: JSON-shaped values are built here in libcgm's one schema
//! ([`schema`]) and converted to Python dicts, lists and scalars once
//! ([`to_py`]).

use cgm_runtime::cgm_core::{schema, Status};
use cgm_runtime::{NodeEvent, ParamsView};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use serde_json::{json, Value};

/// Converts a JSON value to the Python object of the same shape: `None`,
/// `bool`, `int` (or `float`), `str`, `list` or `dict`.
pub(crate) fn to_py(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any().unbind()
            } else if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any().unbind()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any().unbind()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any().unbind(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(to_py(py, x)?)?;
            }
            l.into_any().unbind()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

/// A status in libcgm's one JSON schema ([`schema`]), plus its table as `text`.
pub(crate) fn status_json(s: &Status) -> Value {
    let mut v = schema::status_to_json(s);
    v["text"] = json!(s.to_string());
    v
}

/// An event as `cgm._types._event` reads it: a dict tagged by `type`.
pub(crate) fn event_json(e: &NodeEvent) -> Value {
    match e {
        NodeEvent::ViewChanged { view, members, quorum } => {
            json!({"type": "view", "view": {"epoch": view.epoch, "leader": view.leader}, "members": members, "quorum": quorum})
        }
        NodeEvent::Suspected { member, reason } => json!({"type": "suspect", "member": member, "reason": reason}),
        NodeEvent::ChangeCommitted(o) => json!({"type": "change", "outcome": schema::outcome_to_json(o)}),
        NodeEvent::ChangeRolledBack(o) => json!({"type": "change", "outcome": schema::outcome_to_json(o)}),
        NodeEvent::ProtocolCompleted(o) => json!({"type": "protocol", "outcome": schema::outcome_to_json(o)}),
        NodeEvent::VetoRequest { token, changes } => json!({
            "type": "veto",
            "token": token,
            "changes": changes.iter().map(|(p, v)| json!([*p as u32, v])).collect::<Vec<_>>(),
        }),
        NodeEvent::StepRequest { token, seq, round_index, payload } => {
            json!({"type": "step", "token": token, "seq": seq, "round_index": round_index, "payload": payload})
        }
        NodeEvent::Removed { generation } => json!({"type": "removed", "generation": generation}),
    }
}

/// A node's parameters: configured and effective values (each in the schema's
/// parameter object), the generation and whether a switch-over is pending.
pub(crate) fn params_view_json(v: &ParamsView) -> Value {
    json!({
        "configured": schema::params_to_json(&v.configured),
        "effective": schema::params_to_json(&v.effective),
        "generation": v.generation,
        "switch_over_pending": v.switch_over_pending,
    })
}
