//! libcgm's runtime: the sans-IO core on real UDP sockets and threads.
//!
//! [`Node`] is one cluster member: a member thread that owns its core and
//! waits only on its sockets and its local message queue, an
//! authenticated (optionally encrypted) wire, named local locks, jobs, and
//! events delivered on the host's own thread through [`Node::fd`] and
//! [`Node::poll_event`]. [`client`] is the operator side (status queries and
//! changes from tools that are not members). The `cgm` binary is built on both.
#![deny(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]

pub mod auth;
pub mod client;
pub mod config;
mod error;
mod events;
mod history;
mod locks;
mod member;
mod node;
mod ports;
pub mod state;
mod transport;

pub use auth::{key_rotation, new_incarnation, Key};
pub use cgm_core;
pub use config::{check_node_change, ConfigError, Multicast, NodeConfig};
pub use error::{Error, ResultCode};
pub use events::NodeEvent;
pub use locks::LockGuard;
pub use member::JobFn;
pub use node::{Node, ParamsView};
pub use ports::free_ports;
pub use state::STATE_FILE;
