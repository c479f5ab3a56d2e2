//! Python arguments to runtime values: parameter numbers, `(parameter, value)`
//! changes and timeouts in seconds. A bad one raises the `cgm.errors`
//! exception of its result code.

use crate::errors::error;
use cgm_runtime::cgm_core::Param;
use cgm_runtime::ResultCode;
use pyo3::prelude::*;
use std::time::Duration;

/// The parameter numbered `n` (`cgm.Param`), or `InvalidParameter`.
pub(crate) fn param_of(py: Python<'_>, n: u32) -> PyResult<Param> {
    Param::from_u32(n).ok_or_else(|| error(py, ResultCode::InvalidParameter, format!("unknown parameter number {n}")))
}

/// `(parameter number, value)` pairs as `(Param, value)` changes.
pub(crate) fn changes(py: Python<'_>, changes: &[(u32, u64)]) -> PyResult<Vec<(Param, u64)>> {
    changes.iter().map(|&(p, v)| Ok((param_of(py, p)?, v))).collect()
}

/// A timeout of `s` seconds, or `InvalidArgument` for a negative or
/// non-finite one.
pub(crate) fn seconds(py: Python<'_>, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| error(py, ResultCode::InvalidArgument, format!("invalid timeout {s}: seconds >= 0 expected")))
}
