//! The vocabulary every layer shares: who (node ids, incarnations, members),
//! which view, which proposal, what a protocol is and what it waits on, and
//! how it ended. Plain data with serde, no behaviour beyond display.

use crate::params::Param;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::fmt;

pub use crate::roster::NodeId;
/// A node's incarnation: a number that grows every time the node starts, so a
/// restarted node is a new member and its old traffic is recognised as stale.
pub type Incarnation = u64;

/// Identifies a view: views are ordered by epoch, then by the node that formed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ViewId {
    /// Grows with every membership change.
    pub epoch: u64,
    /// The node that formed the view (breaks ties between concurrent formations).
    pub leader: NodeId,
}

impl fmt::Display for ViewId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.epoch, self.leader)
    }
}

/// A member of a view: a node in one incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Member {
    /// Node id.
    pub id: NodeId,
    /// Incarnation of that node.
    pub inc: Incarnation,
}

/// A map keyed by proposal id, hashed with FxHash: the engine looks proposal
/// ids up several times per protocol, and they come from authenticated
/// members only (no one outside the cluster can choose keys to collide).
pub(crate) type PidMap<V> = std::collections::HashMap<ProposalId, V, rustc_hash::FxBuildHasher>;
/// A set of proposal ids (see [`PidMap`]).
pub(crate) type PidSet = std::collections::HashSet<ProposalId, rustc_hash::FxBuildHasher>;

/// Identifies one proposal cluster-wide; re-proposing the same id is idempotent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProposalId {
    /// The proposing node.
    pub node: NodeId,
    /// A number chosen by the proposer, unique among its proposals (a transaction id).
    pub txid: u64,
}

impl fmt::Display for ProposalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.txid)
    }
}

/// A local resource a protocol step waits on before the member ACKs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Resource {
    /// A named lock of the host.
    Lock(String),
    /// The creation of a job (a worker the host starts), by name.
    Job(String),
    /// The host computes this member's status for the round.
    Host,
    /// The host's veto hook deciding on a parameter change.
    Veto,
    /// The host loading the new key of a key rotation (its first round): it
    /// answers the key's fingerprint once it accepts datagrams under the
    /// key, or why it cannot load it.
    Key,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Lock(n) => write!(f, "lock {n:?}"),
            Resource::Job(n) => write!(f, "job {n:?}"),
            Resource::Host => f.write_str("host step"),
            Resource::Veto => f.write_str("veto hook"),
            Resource::Key => f.write_str("key file"),
        }
    }
}

/// An application-defined peer protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AppProtocol {
    /// Opaque payload delivered to every member.
    pub payload: ByteBuf,
    /// Number of ACK rounds, at least 1.
    pub rounds: u8,
    /// What each member waits on before ACKing each round, if anything.
    pub wait: Option<Resource>,
}

impl AppProtocol {
    /// The bytes it carries that its proposer chose: the payload and the
    /// lock or job name it waits on (at most [`MAX_PAYLOAD`]).
    pub fn carried_len(&self) -> usize {
        self.payload.len()
            + match &self.wait {
                Some(Resource::Lock(n) | Resource::Job(n)) => n.len(),
                _ => 0,
            }
    }
}

/// What a peer protocol does.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProtocolBody {
    /// An application-defined protocol.
    App(AppProtocol),
    /// A transactional parameter change (two ACK rounds).
    Change(Vec<(Param, u64)>),
    /// A key rotation (two ACK rounds): the cluster key becomes the one of
    /// this fingerprint. The key itself never travels.
    RotateKey(KeyRotation),
    /// A node change (two ACK rounds): nodes join or leave the cluster's
    /// node set ([`crate::Params::nodes`]).
    Nodes(crate::roster::NodeChange),
}

/// The new key of a key rotation: where every member finds it and what its
/// fingerprint is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The key's fingerprint (see the runtime's `Key::fingerprint`); never 0.
    pub fingerprint: u64,
    /// The path of the key file, the same on every node.
    pub path: String,
}

/// The largest application payload a protocol carries, in bytes (1 MiB),
/// its lock or job name included: [`crate::Core::propose_app`] refuses a
/// larger one.
pub const MAX_PAYLOAD: usize = 1 << 20;

impl ProtocolBody {
    /// About how many bytes the protocol takes on the wire (a bound, for
    /// batching; not the exact encoding).
    pub fn size_hint(&self) -> usize {
        const FIXED: usize = 64;
        FIXED
            + match self {
                ProtocolBody::App(app) => app.carried_len(),
                ProtocolBody::Change(changes) => changes.len() * 16,
                ProtocolBody::RotateKey(k) => k.path.len(),
                ProtocolBody::Nodes(c) => c.add.iter().map(|(_, a)| a.len() + 8).sum::<usize>() + c.remove.len() * 8,
            }
    }

    /// Number of ACK rounds the protocol takes.
    pub fn rounds(&self) -> u8 {
        match self {
            ProtocolBody::App(a) => a.rounds.max(1),
            ProtocolBody::Change(_) | ProtocolBody::RotateKey(_) | ProtocolBody::Nodes(_) => 2,
        }
    }

    /// Short kind name for status tables.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolBody::App(_) => "app",
            ProtocolBody::Change(_) => "param-change",
            ProtocolBody::RotateKey(_) => "key-rotation",
            ProtocolBody::Nodes(_) => "node-change",
        }
    }

    /// Whether an outcome of this kind, committed, grows the generation: the
    /// protocols that change the values of [`crate::Params`].
    pub fn moves_generation(kind: &str) -> bool {
        matches!(kind, "param-change" | "key-rotation" | "node-change")
    }
}

/// What a member says about itself in an ACK.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AckStatus {
    /// Receipt only.
    Received,
    /// The local step succeeded, with an optional small payload.
    Ok(ByteBuf),
    /// The local step failed, with the reason.
    Failed(String),
}

impl AckStatus {
    /// Whether this status reports a failure.
    pub fn is_failed(&self) -> bool {
        matches!(self, AckStatus::Failed(_))
    }
}

/// How a protocol ended, identical on every member that completed it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Outcome {
    /// The protocol's position in the total order.
    pub seq: u64,
    /// Its proposal.
    pub pid: ProposalId,
    /// Its kind ("app", "param-change" or "key-rotation").
    pub kind: String,
    /// Whether it completed (committed) rather than rolled back or abandoned.
    pub committed: bool,
    /// The parameter generation after it (unchanged unless a change committed).
    pub generation: u64,
    /// Each member's status in the last round, in member order.
    pub statuses: Vec<(NodeId, AckStatus)>,
    /// Why it did not commit, if it did not.
    pub reason: Option<String>,
}

/// A view as a member holds it: its id, its members (sorted by id) and
/// whether it holds a quorum.
#[derive(Debug, Clone)]
pub(crate) struct View {
    pub(crate) id: ViewId,
    pub(crate) members: Vec<Member>,
    pub(crate) quorum: bool,
}

impl View {
    /// The coordinator: the member with the lowest id.
    pub(crate) fn coordinator(&self) -> Option<NodeId> {
        self.members.first().map(|m| m.id)
    }

    /// The members' ids, in order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.iter().map(|m| m.id)
    }

    /// The member with this id, if it is in the view: a binary search, as
    /// members are sorted by id and this runs for every message received.
    pub(crate) fn member(&self, id: NodeId) -> Option<Member> {
        self.members.binary_search_by_key(&id, |m| m.id).ok().map(|i| self.members[i])
    }

    /// Whether `m`, in that incarnation, is a member.
    pub(crate) fn holds(&self, m: Member) -> bool {
        self.member(m.id) == Some(m)
    }
}

/// The value for `id` in a map walked in ascending id order, advancing past
/// smaller ids (`None` if it holds none): looking up the ids of a sorted list
/// in turn walks the map once.
pub(crate) fn seek<'a, V>(walk: &mut std::iter::Peekable<impl Iterator<Item = (&'a NodeId, &'a V)>>, id: NodeId) -> Option<&'a V> {
    while walk.next_if(|&(&k, _)| k < id).is_some() {}
    walk.next_if(|&(&k, _)| k == id).map(|(_, v)| v)
}
