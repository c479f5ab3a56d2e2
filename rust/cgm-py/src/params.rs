//! Parameters: parsing a value, checking a set of changes and describing
//! every parameter, for `cgm.Param` and the value conversions of `cgm`.

use crate::args::{self, param_of};
use crate::errors::param_error;
use crate::json::to_py;
use cgm_runtime::cgm_core::{self, Param, Params};
use pyo3::prelude::*;
use serde_json::{json, Value};

/// Parses a value for parameter `param`: a number in its unit, or for
/// durations a number with a suffix ("500ms", "2s").
#[pyfunction]
pub(crate) fn parse_value(py: Python<'_>, param: u32, text: &str) -> PyResult<u64> {
    let p = param_of(py, param)?;
    p.parse_value(text).map_err(|e| param_error(py, e))
}

/// Checks a set of changes against the default parameters' static rules and
/// returns the resulting values (raises InvalidParameter).
#[pyfunction]
pub(crate) fn check_changes(py: Python<'_>, changes: Vec<(u32, u64)>) -> PyResult<Vec<u64>> {
    let c = args::changes(py, &changes)?;
    let p = Params::default().with_changes(&c).map_err(|e| param_error(py, e))?;
    Ok(Param::ALL.iter().map(|&q| p.get(q)).collect())
}

/// Every parameter's description, in number order.
#[pyfunction]
pub(crate) fn param_info(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let v: Vec<Value> = Param::ALL
        .iter()
        .map(|&p| {
            let s = p.spec();
            json!({
                "number": p as u32,
                "name": s.name,
                "unit": s.unit.as_str(),
                "min": s.min,
                "max": s.max,
                "default": s.default,
                "global": matches!(s.nature, cgm_core::Nature::Global),
                "heartbeat": s.heartbeat,
            })
        })
        .collect();
    to_py(py, &Value::Array(v))
}
