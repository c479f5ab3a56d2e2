//! The runtime's error type and the stable result codes shared with C and Python.

use crate::config::ConfigError;
use cgm_core::{Outcome, ProposalId};

/// Stable numeric result codes: `cgm_result` in C, `cgm.Result` in Python.
/// Append-only; never renumbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ResultCode {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument is invalid.
    InvalidArgument = 2,
    /// A parameter value is invalid (range, unit, cross-parameter rule, unknown name).
    InvalidParameter = 3,
    /// The handle is freed or was never valid.
    BadHandle = 4,
    /// The operation did not finish in time.
    Timeout = 5,
    /// The change was rolled back on every member.
    RolledBack = 6,
    /// The change was vetoed by a member's host and rolled back on every member.
    Vetoed = 7,
    /// The node's view holds no quorum.
    NoQuorum = 8,
    /// The node is not (or no longer) a member.
    NotMember = 9,
    /// Authentication failed or no key was given.
    Authentication = 10,
    /// A peer speaks another protocol version.
    VersionMismatch = 11,
    /// An operating-system I/O error.
    Io = 12,
    /// A send queue is over its threshold.
    Backpressure = 13,
    /// The node is shut down.
    ShutDown = 14,
    /// An internal panic was caught.
    Panic = 15,
}

impl ResultCode {
    /// Static description.
    pub fn describe(self) -> &'static str {
        match self {
            ResultCode::Ok => "ok",
            ResultCode::NullArgument => "a required argument is NULL",
            ResultCode::InvalidArgument => "invalid argument",
            ResultCode::InvalidParameter => "invalid parameter value",
            ResultCode::BadHandle => "bad or freed handle",
            ResultCode::Timeout => "timed out",
            ResultCode::RolledBack => "the change was rolled back on every member",
            ResultCode::Vetoed => "the change was vetoed and rolled back on every member",
            ResultCode::NoQuorum => "no quorum",
            ResultCode::NotMember => "not a member",
            ResultCode::Authentication => "authentication failed",
            ResultCode::VersionMismatch => "protocol version mismatch",
            ResultCode::Io => "I/O error",
            ResultCode::Backpressure => "backpressure: send queue over its threshold",
            ResultCode::ShutDown => "the node is shut down",
            ResultCode::Panic => "internal panic",
        }
    }
}

/// Why a runtime call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid; nothing started.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The core refused the command; nothing changed.
    #[error(transparent)]
    Core(#[from] cgm_core::Error),
    /// A socket or thread could not be set up.
    #[error("i/o: {0}")]
    Io(String),
    /// No answer in time. For a proposal, `pid` names it: it is not abandoned
    /// and its outcome can be read later. `pid` is `None` for a proposal only
    /// when the wait ended before the member thread took the request (a
    /// timeout shorter than the member thread's turn): nothing was proposed
    /// by then, but the request may still be taken.
    #[error("timed out{}", .pid.map(|p| format!(" (proposal {p} goes on; read its outcome later)")).unwrap_or_default())]
    Timeout {
        /// The proposal that goes on, if the call proposed one.
        pid: Option<ProposalId>,
    },
    /// The change was rolled back on every member.
    #[error("rolled back: {}", .0.reason.clone().unwrap_or_default())]
    RolledBack(Box<Outcome>),
    /// The change was vetoed by a member's host and rolled back on every member.
    #[error("vetoed: {}", .0.reason.clone().unwrap_or_default())]
    Vetoed(Box<Outcome>),
    /// The node is shut down.
    #[error("the node is shut down")]
    ShutDown,
    /// An operator tool got an error answer from the member.
    #[error("member refused: {0}")]
    Refused(String),
}

impl Error {
    /// The stable result code.
    pub fn code(&self) -> ResultCode {
        match self {
            Error::Config(_) => ResultCode::InvalidArgument,
            Error::Core(e) => match e {
                cgm_core::Error::Param(_) => ResultCode::InvalidParameter,
                cgm_core::Error::NoQuorum { .. } => ResultCode::NoQuorum,
                cgm_core::Error::Backpressure { .. } => ResultCode::Backpressure,
                cgm_core::Error::Left => ResultCode::NotMember,
                cgm_core::Error::UnknownMember(_) => ResultCode::NotMember,
                cgm_core::Error::InvalidConfig(_)
                | cgm_core::Error::InvalidProtocol(_)
                | cgm_core::Error::InvalidNodeChange(_)
                | cgm_core::Error::UnknownToken(_) => ResultCode::InvalidArgument,
            },
            Error::Io(_) => ResultCode::Io,
            Error::Timeout { .. } => ResultCode::Timeout,
            Error::RolledBack(_) => ResultCode::RolledBack,
            Error::Vetoed(_) => ResultCode::Vetoed,
            Error::ShutDown => ResultCode::ShutDown,
            Error::Refused(m) if m.contains("no quorum") => ResultCode::NoQuorum,
            Error::Refused(m) if m.contains("out of range") || m.contains("is invalid") || m.contains("unknown parameter") => {
                ResultCode::InvalidParameter
            }
            Error::Refused(_) => ResultCode::InvalidArgument,
        }
    }

    /// Classifies a non-committed outcome.
    pub(crate) fn from_outcome(o: Outcome) -> Error {
        let vetoed = o.statuses.iter().any(|(_, s)| matches!(s, cgm_core::AckStatus::Failed(r) if r.starts_with("vetoed")));
        if vetoed {
            Error::Vetoed(Box::new(o))
        } else {
            Error::RolledBack(Box::new(o))
        }
    }
}
