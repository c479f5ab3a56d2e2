//! Errors: one exhaustive match from the runtime's result code to the
//! exception classes of `cgm.errors` ([`raise`]), and the errors this module
//! raises itself for bad arguments ([`error`]).

use crate::json::to_py;
use cgm_runtime::cgm_core::{self, schema, ParamError};
use cgm_runtime::{Error, ResultCode};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{json, Value};

/// Builds the `cgm.errors` exception for a runtime error.
pub(crate) fn raise(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    let code = e.code();
    let name = match code {
        ResultCode::Ok | ResultCode::Panic => "CgmError",
        ResultCode::NullArgument | ResultCode::InvalidArgument => "InvalidArgument",
        ResultCode::InvalidParameter => "InvalidParameter",
        ResultCode::BadHandle | ResultCode::ShutDown => "Closed",
        ResultCode::Timeout => "Timeout",
        ResultCode::RolledBack => "RolledBack",
        ResultCode::Vetoed => "Vetoed",
        ResultCode::NoQuorum => "NoQuorum",
        ResultCode::NotMember => "NotMember",
        ResultCode::Authentication => "AuthenticationError",
        ResultCode::VersionMismatch => "VersionMismatch",
        ResultCode::Io => "IoError",
        ResultCode::Backpressure => "Backpressure",
    };
    let extra = match &e {
        Error::RolledBack(o) | Error::Vetoed(o) => Some(("outcome", schema::outcome_to_json(o))),
        Error::Timeout { pid: Some(p) } => Some(("proposal", json!([p.node, p.txid]))),
        _ => None,
    };
    build_error(py, name, &message, code as u32, extra).unwrap_or_else(|err| err)
}

/// Builds the `cgm.errors.InvalidParameter` for a parameter value the core's
/// rules refuse.
pub(crate) fn param_error(py: Python<'_>, e: ParamError) -> PyErr {
    raise(py, Error::Core(cgm_core::Error::Param(e)))
}

/// An error raised by this module itself (bad arguments), with its result code.
pub(crate) fn error(py: Python<'_>, code: ResultCode, message: impl Into<String>) -> PyErr {
    let name = match code {
        ResultCode::InvalidParameter => "InvalidParameter",
        ResultCode::ShutDown | ResultCode::BadHandle => "Closed",
        _ => "InvalidArgument",
    };
    build_error(py, name, &message.into(), code as u32, None).unwrap_or_else(|err| err)
}

/// Instantiates `cgm.errors.<name>(message, code, **extra)`.
fn build_error(py: Python<'_>, name: &str, message: &str, code: u32, extra: Option<(&str, Value)>) -> PyResult<PyErr> {
    let cls = py.import("cgm.errors")?.getattr(name)?;
    let kwargs = PyDict::new(py);
    if let Some((k, v)) = extra {
        kwargs.set_item(k, to_py(py, &v)?)?;
    }
    let exc = cls.call((message, code), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}
