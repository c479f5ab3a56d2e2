//! `cgm._cgm`: the native half of libcgm's Python package.
//!
//! It wraps `cgm-runtime` directly (not the C ABI) and stays small: values
//! cross as plain dicts, lists and ints, and the curated package `cgm` (pure
//! Python, next to this module in the wheel) builds the frozen dataclasses,
//! the `IntEnum`s, the callbacks and the context managers on top.
//!
//! Rules kept here:
//! - every call that may wait releases the GIL (`py.detach`);
//! - no runtime thread ever calls Python: events, veto requests and log
//!   records are queued and taken by the host's dispatching thread (`logs`);
//! - errors become the exceptions of `cgm.errors` in one exhaustive `match`
//!   over the stable result codes (`errors::raise`);
//! - a node used from a forked child raises `cgm.errors.Closed` and is never
//!   shut down there (its threads exist only in the parent, `node`).
//!
//! The modules, from the bottom up: `json` (values to Python), `errors`
//! (exceptions), `args` (Python arguments to runtime values), `logs`,
//! `params`, `config`, `lock` and `node`; this file only registers
//! what they define.

use pyo3::prelude::*;

mod args;
mod config;
mod errors;
mod json;
mod lock;
mod logs;
mod node;
mod params;

/// The extension module.
#[pymodule]
#[pyo3(name = "_cgm")]
fn cgm_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logs::install();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<node::PyNode>()?;
    m.add_class::<lock::PyLockGuard>()?;
    m.add_function(wrap_pyfunction!(params::parse_value, m)?)?;
    m.add_function(wrap_pyfunction!(params::check_changes, m)?)?;
    m.add_function(wrap_pyfunction!(params::param_info, m)?)?;
    m.add_function(wrap_pyfunction!(config::generate_key, m)?)?;
    m.add_function(wrap_pyfunction!(config::free_ports, m)?)?;
    m.add_function(wrap_pyfunction!(logs::drain_logs, m)?)?;
    m.add_function(wrap_pyfunction!(logs::set_log_level, m)?)?;
    Ok(())
}
