//! [`Config`]: what a node is started with, and the deliberately broken rule
//! the simulator may switch on.

use crate::ids::{Incarnation, Member, NodeId};
use crate::params::{LocalLimits, Params};
use std::time::Duration;

/// A node's static configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// This node's id (non-zero; 0 is reserved for operator tools).
    pub id: NodeId,
    /// This start's incarnation: must grow across restarts (a start time in µs works).
    pub incarnation: Incarnation,
    /// Every configured node id, this one included: the cluster's node set
    /// at its first start (a node holding durable state runs the node set
    /// its cluster committed instead, see [`crate::Params::nodes`]).
    pub nodes: Vec<NodeId>,
    /// Each configured node's address, opaque to the core (the runtime's
    /// `host:port`); it travels with the node set. Missing ones are empty.
    pub addresses: std::collections::BTreeMap<NodeId, String>,
    /// Whether a view needs a majority of the configured nodes to run protocols.
    pub quorum: bool,
    /// Initial parameters.
    pub params: Params,
    /// This node's local limits: a change beyond them fails its local apply.
    pub limits: LocalLimits,
    /// Whether the host answers a veto hook for every parameter change.
    pub veto_hook: bool,
    /// How long a veto decision may take before it counts as a veto.
    pub veto_timeout: Duration,
    /// Whether the host persists this member's state (see
    /// [`crate::Core::poll_persist`]): then the member hands out nothing
    /// before its state is persisted, and counts, restarted, as the member
    /// it was for the quorum rule.
    pub durable: bool,
    /// Whether this node joins a cluster that exists (a node a node change
    /// added, whose file may list only a node or two to contact): it never
    /// starts a new one, so a view of members none of which holds the
    /// cluster's state gets no quorum with it in (see [`crate::decide_view`]).
    /// Nodes that start the cluster leave it false.
    pub joins: bool,
    /// A deliberately broken rule, for the simulator's must-fail runs.
    #[cfg(feature = "flaws")]
    pub flaw: Option<crate::flaws::Flaw>,
}

impl Config {
    /// A configuration with default parameters, quorum on and no veto hook.
    pub fn new(id: NodeId, incarnation: Incarnation, nodes: Vec<NodeId>) -> Config {
        Config {
            id,
            incarnation,
            nodes,
            addresses: Default::default(),
            quorum: true,
            params: Params::default(),
            limits: LocalLimits::default(),
            veto_hook: false,
            veto_timeout: Duration::from_secs(5),
            durable: false,
            joins: false,
            #[cfg(feature = "flaws")]
            flaw: None,
        }
    }

    /// This node as a member (its id at this incarnation).
    pub fn me(&self) -> Member {
        Member { id: self.id, inc: self.incarnation }
    }

    /// Whether this node runs with the deliberately broken rule `name` (see
    /// `flaws.rs`); always false without the `flaws` feature.
    #[allow(unused_variables)]
    pub(crate) fn flawed(&self, name: &str) -> bool {
        #[cfg(feature = "flaws")]
        return self.flaw.is_some_and(|f| f.name() == name);
        #[cfg(not(feature = "flaws"))]
        false
    }
}
