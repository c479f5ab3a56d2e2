//! [`Event`]: what the core tells its host.

use crate::ids::{Member, NodeId, Outcome, Resource, ViewId};
use crate::params::Params;
use crate::status::Status;

/// Identifies a pending local wait; the host completes it with [`Core::complete_wait`].
pub type WaitToken = u64;

/// Something the host should know or do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new view was installed. A member installing a view whose decision
    /// builds on views it had accepted but not installed (their leader was
    /// replaced before it could install them) reports each of those first, in
    /// order, as their state is taken.
    ViewChanged {
        /// Its id.
        view: ViewId,
        /// Its members, each with the incarnation it has in the view. A
        /// member restarted without its state may reuse a view id of its
        /// earlier life for another view; the incarnations tell them apart.
        members: Vec<Member>,
        /// Whether it holds a quorum.
        quorum: bool,
        /// This member was outside the view's lineage and took its state by
        /// transfer (parameters, generation, protocol position): outcomes it
        /// completed while cut off are superseded.
        transferred: bool,
    },
    /// This node suspects a member failed.
    Suspected {
        /// The member.
        member: NodeId,
        /// Why.
        reason: String,
    },
    /// A protocol step waits on a local resource: acquire it (or start the job,
    /// or decide) and call [`Core::complete_wait`] with `token`.
    LocalWait {
        /// Token to complete the wait with.
        token: WaitToken,
        /// The resource.
        resource: Resource,
        /// The protocol's sequence number.
        seq: u64,
        /// The round index within the protocol.
        round_index: u8,
        /// The protocol (payload for app protocols, the change for parameter changes).
        body: crate::ids::ProtocolBody,
    },
    /// A local wait the host was asked for is no longer needed (the protocol was
    /// resolved by a view change); release what was acquired for it.
    WaitCancelled {
        /// Its token.
        token: WaitToken,
    },
    /// A protocol ended on this member: committed, rolled back or abandoned.
    Completed(Outcome),
    /// The outcome of one of this member's own proposals, decided while it was
    /// cut off from the view (it did not process the protocol itself).
    OutcomeLearned(Outcome),
    /// Parameters changed here (a committed change, a view's state transfer or a rollback).
    ParamsChanged {
        /// The new generation.
        generation: u64,
        /// The values in force from now on.
        params: Params,
    },
    /// A committed node change removed this node from the cluster's node
    /// set, and its host was told: it left the group, and the others refuse
    /// its datagrams until a node change adds it again. Emitted once, after
    /// the [`Event::ParamsChanged`] that tells the new set.
    Removed {
        /// The generation of the node set without it.
        generation: u64,
    },
    /// The answer to [`Core::query_status`].
    StatusReply {
        /// The request.
        req: u64,
        /// The answering member's status.
        status: Box<Status>,
    },
    /// A status query got no answer within `max-message-retry-time`.
    StatusQueryFailed {
        /// The request.
        req: u64,
        /// The member asked.
        member: NodeId,
    },
}
