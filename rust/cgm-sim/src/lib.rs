//! libcgm's deterministic simulator: many [`cgm_core::Core`]s on one virtual
//! clock, a seeded network with loss, duplication, delay, reordering and
//! partitions, crash and restart, and invariant checkers run as it goes.
//!
//! Everything random comes from one seed, so a failing run replays exactly.
#![deny(missing_docs, unreachable_pub)]

pub mod campaign;
pub mod check;
pub mod crash;
pub mod disk;
pub mod heap;
pub mod history;
pub mod net;
pub mod world;

pub use check::{Checker, Violation};
pub use crash::CrashPoint;
pub use disk::Disk;
pub use history::HistoryLog;
pub use net::{Net, NetFaults};
pub use world::{checked_payload, sim_params, Host, Sim, SimConfig, SimNode, KEY_GRACE, SIM_KEY};
