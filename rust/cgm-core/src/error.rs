//! The core's error type. Every variant leaves the core's state unchanged.

use crate::ids::NodeId;
use crate::params::ParamError;

/// Why a command was refused. In every case nothing changed and nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A parameter value or set failed static validation.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The view does not hold a quorum of the configured nodes.
    #[error("no quorum: the view holds {members} of {configured} configured nodes")]
    NoQuorum {
        /// Members in the view.
        members: usize,
        /// Configured nodes.
        configured: usize,
    },
    /// A send queue is over the send-queue-overflow-threshold.
    #[error("backpressure: {queued} fragments queued to member {peer} (send-queue-overflow-threshold reached)")]
    Backpressure {
        /// The peer whose queue is full.
        peer: NodeId,
        /// Fragments queued to it.
        queued: usize,
    },
    /// The node has left the group.
    #[error("the node has left the group")]
    Left,
    /// The protocol description is not valid.
    #[error("invalid protocol: {0}")]
    InvalidProtocol(String),
    /// No local wait with this token is pending.
    #[error("no pending local wait with token {0}")]
    UnknownToken(u64),
    /// The node change is not valid against the cluster's node set.
    #[error("invalid node change: {0}")]
    InvalidNodeChange(String),
    /// The member is not configured.
    #[error("node {0} is not a configured node")]
    UnknownMember(NodeId),
}
