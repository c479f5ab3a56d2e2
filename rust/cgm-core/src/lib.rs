//! libcgm's sans-IO core: one state machine per node.
//!
//! [`Core`] holds everything a member knows: its view, the reliable channels to
//! its peers, its heartbeat ring links, the peer protocols it processes in total
//! order, its progress record and its parameters. It does no I/O, starts no
//! threads and reads no clock: the host feeds it datagrams, timeouts and
//! commands (each with `now`) and drains datagrams to send, its next deadline
//! and events. The same core runs under the simulator (`cgm-sim`), the runtime
//! (`cgm-runtime`) and inside a C host's own loop.
#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

mod change;
mod config;
mod core;
mod damping;
mod durable;
mod engine;
mod error;
mod events;
mod fates;
#[cfg(feature = "flaws")]
pub mod flaws;
pub mod ids;
mod membership;
pub mod messages;
pub mod metrics;
mod net;
mod operator;
pub mod params;
mod pid_queue;
mod progress;
pub mod query;
pub mod refusal;
mod reliable;
mod ring;
mod roster;
pub mod schema;
pub mod status;
mod status_doc;
pub mod time;
mod timers;
mod transactions;
mod trim;
pub mod wire;

pub use crate::core::{link_key, Core};
pub use change::round_verdict;
pub use config::Config;
pub use durable::{Durable, StateError, STATE_FORMAT, STATE_MAGIC};
pub use error::Error;
pub use events::{Event, WaitToken};
pub use ids::{AckStatus, AppProtocol, Incarnation, KeyRotation, Member, NodeId, Outcome, ProposalId, ProtocolBody, Resource, ViewId};
pub use membership::{decide_view, longest_readmission_backoff, view_change_timeout, Quorum};
pub use net::{Dest, Dropped, Transmit};
pub use operator::CHALLENGE_LIFETIME;
pub use params::{LocalLimits, Nature, Param, ParamError, Params, Unit};
pub use query::QueryCollector;
pub use roster::{NodeChange, Roster};
pub use status::{Counters, DampedStatus, KeyStatus, LinkStatus, PeerStatus, Phase, ProtocolInfo, Status, Waiting};
pub use time::Time;
