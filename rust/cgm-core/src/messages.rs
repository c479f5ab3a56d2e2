//! The messages members and operator tools exchange: [`Frame`]s (one per
//! datagram) and the reliable [`Msg`]s carried inside [`Frame::Data`], with
//! the state they carry (view-change reports, new views, relayed ACKs,
//! heartbeat values). The codec that puts them on the wire is [`crate::wire`].

use crate::ids::{AckStatus, Member, NodeId, Outcome, ProposalId, ProtocolBody, ViewId};
use crate::params::{Param, Params};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

/// A protocol as sequenced by the coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the total order.
    pub seq: u64,
    /// The proposal it came from.
    pub pid: ProposalId,
    /// What it does.
    pub body: ProtocolBody,
}

/// Views of this many members or more route ACKs through the coordinator:
/// a member sends its ACK to the coordinator only, which passes the ACKs on
/// in one [`Msg::Acks`] per member, so a round costs about 2(n - 1) datagrams
/// instead of n(n - 1). Smaller views ACK member to member, one hop.
pub const RELAY_FROM: usize = 4;

/// How far a member got, carried by its ACKs and [`Msg::Done`]: what it
/// decided, and what it reported to its host.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    /// The highest sequence number the member decided (completed).
    pub done: u64,
    /// The highest sequence number up to which the member reported every
    /// outcome to its host (final: no later view changes them). A proposer's
    /// `told` past a proposal means it knows the proposal's fate for good,
    /// so the others may forget it.
    pub told: u64,
}

/// One member's ACK, passed on by the coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayedAck {
    /// The member that sent it.
    pub member: NodeId,
    /// Its global round.
    pub round: u64,
    /// Its status for the round.
    pub status: AckStatus,
}

/// A decided protocol, remembered so proposals are never run twice across a
/// state transfer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decided {
    /// The proposal.
    pub pid: ProposalId,
    /// Its position in the order.
    pub seq: u64,
    /// Its kind.
    pub kind: String,
    /// Whether it committed.
    pub committed: bool,
    /// The parameter generation after it.
    pub generation: u64,
}

impl Decided {
    /// The decision an outcome records.
    pub fn of(o: &Outcome) -> Decided {
        Decided { pid: o.pid, seq: o.seq, kind: o.kind.clone(), committed: o.committed, generation: o.generation }
    }
}

/// What a member reports to the leader of a view change (its flush state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The view the member is in.
    pub view: ViewId,
    /// The last view with quorum the member installed or, past it, accepted
    /// (its lineage).
    pub primary: ViewId,
    /// The members of that view.
    pub primary_members: Vec<Member>,
    /// When `primary` is only accepted: the members of the views the lineage
    /// passes through from the last view this member installed (first; empty
    /// when it never installed one) to `primary` (excluded). A view built on
    /// an accepted view must hold a majority of each, because that view may
    /// never have been installed anywhere (see `decide_view`). Empty when
    /// `primary` is installed.
    pub ancestors: Vec<Vec<Member>>,
    /// Highest protocol sequence the member completed.
    pub completed: u64,
    /// The outcome of `completed`, if the member still remembers it.
    pub last_outcome: Option<Outcome>,
    /// The protocol the member was running, with the last-round statuses it holds.
    pub running: Option<RunningReport>,
    /// Sequenced protocols not yet started, in order.
    pub pending: Vec<Entry>,
    /// The next global round number the member would use.
    pub next_round: u64,
    /// The member's committed parameters (a tentative change excluded).
    pub params: Params,
    /// Parameter generation.
    pub generation: u64,
    /// Every decided proposal whose proposer may not know its fate yet (see
    /// [`NewView::fates`]).
    pub fates: Vec<Decided>,
    /// Whether the member keeps its state on stable storage: then, even
    /// restarted under a new incarnation, it holds what it promised and
    /// accepted in the views of its lineage, and counts for them.
    pub durable: bool,
    /// Whether the member was started to join a cluster that exists
    /// (`Config::joins`): a view none of whose members holds a lineage gets
    /// no quorum with it in, so it never starts a cluster of its own.
    pub joins: bool,
}

/// A protocol in flight at a view change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningReport {
    /// The protocol.
    pub entry: Entry,
    /// Index of the round the member was in.
    pub round_index: u8,
    /// Statuses received for the last round, by member.
    pub last_round: Vec<(NodeId, AckStatus)>,
    /// The members of the view the protocol ran in.
    pub members: Vec<NodeId>,
}

/// The new view, as decided by its leader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewView {
    /// Its id.
    pub vid: ViewId,
    /// Its members, sorted by id.
    pub members: Vec<Member>,
    /// Whether it holds a quorum of the configured nodes.
    pub quorum: bool,
    /// The members whose state the decision comes from (the lineage); the
    /// others receive the state by transfer.
    pub base: Vec<NodeId>,
    /// The members of the views a view built on this one, before it is
    /// installed, must also hold a majority of: those from the last view of
    /// the lineage some member installed to the lineage's top (see
    /// [`Report::ancestors`]). An empty list stands for no view (a first
    /// start, which needs every node).
    pub ancestors: Vec<Vec<Member>>,
    /// Outcomes members that lag must adopt, in order.
    pub resolved: Vec<Outcome>,
    /// Sequenced protocols carried into the new view, in order.
    pub pending: Vec<Entry>,
    /// Highest sequence completed (or resolved) in the lineage.
    pub completed: u64,
    /// First global round number of the new view.
    pub next_round: u64,
    /// Parameters every member holds from now on.
    pub params: Params,
    /// Their generation.
    pub generation: u64,
    /// Every decided proposal of the lineage whose proposer may not know its
    /// fate yet: a proposal is forgotten only once its proposer said, as a
    /// member of a view, that it reported past it ([`Marks::told`]). So a
    /// proposer cut off for however many protocols learns the fate of each
    /// of its proposals when it rejoins, and none runs twice.
    pub fates: Vec<Decided>,
}

/// A reliable message between members, carried inside [`Frame::Data`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Msg {
    /// A member asks the coordinator to sequence a protocol.
    Propose {
        /// The view the proposer is in: a coordinator takes proposals of its
        /// own view only (a view change drops what it had not sequenced, and
        /// proposers re-send what is still theirs to re-send).
        view: ViewId,
        /// Its id.
        pid: ProposalId,
        /// What it does.
        body: ProtocolBody,
    },
    /// The coordinator's order: protocols at consecutive sequence numbers.
    Sequenced {
        /// View it was issued in.
        view: ViewId,
        /// The protocols, in order.
        entries: Vec<Entry>,
    },
    /// A member's ACK for a global round.
    Ack {
        /// View.
        view: ViewId,
        /// Global round number.
        round: u64,
        /// The member's status for the round.
        status: AckStatus,
        /// How far the member got.
        marks: Marks,
    },
    /// How far a member got, when it has no ACK to send it with.
    Done {
        /// View.
        view: ViewId,
        /// Its marks.
        marks: Marks,
    },
    /// A member suspects another one failed.
    Suspect {
        /// View.
        view: ViewId,
        /// The suspected member.
        member: Member,
    },
    /// A member leaves the group gracefully.
    Leave {
        /// View.
        view: ViewId,
    },
    /// A view change leader asks a member to flush and report.
    Prepare {
        /// The proposed view id.
        vid: ViewId,
    },
    /// A member's answer to [`Msg::Prepare`].
    PrepareAck {
        /// The proposed view id it answers.
        vid: ViewId,
        /// Its state.
        report: Box<Report>,
    },
    /// The leader's decision on the new view. A view without quorum is
    /// installed at once; one with quorum is only accepted, answered with
    /// [`Msg::Accepted`], and installed on [`Msg::Install`].
    NewView(Box<NewView>),
    /// The coordinator tells a proposer the outcome of a proposal it re-sent
    /// after being cut off, decided without it.
    Decided(Box<Outcome>),
    /// A member refuses a `Prepare` because it promised a higher view id.
    PrepareRefused {
        /// The refused view id.
        vid: ViewId,
        /// The highest view id the member promised.
        promised: ViewId,
    },
    /// A member accepted the new view with quorum.
    Accepted {
        /// The view id.
        vid: ViewId,
    },
    /// Every member accepted the new view: install it.
    Install {
        /// The view id.
        vid: ViewId,
    },
    /// The coordinator of a view of [`RELAY_FROM`] members or more passes on
    /// the ACKs the other members sent it (they send their ACKs to it alone).
    Acks {
        /// View.
        view: ViewId,
        /// The ACKs, in the order the coordinator received them.
        acks: Vec<RelayedAck>,
        /// The members' marks the coordinator learned since its last relay.
        marks: Vec<(NodeId, Marks)>,
    },
}

impl Msg {
    /// The view a peer-protocol message belongs to; `None` for `Decided`
    /// (it stands on its own) and for the view change's messages.
    pub(crate) fn protocol_view(&self) -> Option<ViewId> {
        match self {
            Msg::Propose { view, .. }
            | Msg::Sequenced { view, .. }
            | Msg::Ack { view, .. }
            | Msg::Done { view, .. }
            | Msg::Acks { view, .. } => Some(*view),
            _ => None,
        }
    }
}

/// Acknowledgement state of one receive channel: everything up to `cum` plus
/// the bits of `sack` (bit i = `cum + 2 + i`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckInfo {
    /// The sender session acknowledged (a channel restarts with a new session).
    pub session: u32,
    /// Highest sequence received in order.
    pub cum: u64,
    /// Selective acknowledgements beyond `cum + 1`.
    pub sack: u64,
}

/// Heartbeat values switched over link by link. Decoding validates them as
/// parameters (ranges, and the interval below both timeouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawHeartbeatValues")]
pub struct HeartbeatValues {
    /// `heartbeat-interval` (ms).
    pub interval: u64,
    /// `heartbeat-timeout` (ms).
    pub timeout: u64,
    /// `heartbeat-ack-timeout` (ms).
    pub ack_timeout: u64,
    /// `receive-send-timer-ratio` (percent).
    pub ratio: u64,
}

/// The encoded form of [`HeartbeatValues`].
#[derive(Deserialize)]
struct RawHeartbeatValues {
    interval: u64,
    timeout: u64,
    ack_timeout: u64,
    ratio: u64,
}

impl TryFrom<RawHeartbeatValues> for HeartbeatValues {
    type Error = crate::params::ParamError;

    fn try_from(r: RawHeartbeatValues) -> Result<HeartbeatValues, Self::Error> {
        Params::default().with_changes(&[
            (Param::HeartbeatInterval, r.interval),
            (Param::HeartbeatTimeout, r.timeout),
            (Param::HeartbeatAckTimeout, r.ack_timeout),
            (Param::ReceiveSendTimerRatio, r.ratio),
        ])?;
        Ok(HeartbeatValues { interval: r.interval, timeout: r.timeout, ack_timeout: r.ack_timeout, ratio: r.ratio })
    }
}

impl HeartbeatValues {
    /// The heartbeat values of a parameter set.
    pub fn of(p: &Params) -> HeartbeatValues {
        HeartbeatValues {
            interval: p.get(Param::HeartbeatInterval),
            timeout: p.get(Param::HeartbeatTimeout),
            ack_timeout: p.get(Param::HeartbeatAckTimeout),
            ratio: p.get(Param::ReceiveSendTimerRatio),
        }
    }
}

/// The change-request part of a heartbeat record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    /// Parameter generation the values belong to.
    pub generation: u64,
    /// Proposed values.
    pub values: HeartbeatValues,
}

/// One datagram's body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// One segment of a reliable channel.
    Data {
        /// Channel session (grows when the sender restarts the channel).
        session: u32,
        /// Per-channel sequence number (from 1).
        seq: u64,
        /// Piggybacked acknowledgement of the reverse channel.
        ack: AckInfo,
        /// A segment of the channel's stream of length-prefixed messages.
        chunk: ByteBuf,
    },
    /// A stand-alone acknowledgement.
    Ack(AckInfo),
    /// A ring heartbeat, with the change-request indicator when set.
    Heartbeat {
        /// Sender's view.
        view: ViewId,
        /// Heartbeat counter.
        counter: u64,
        /// The values the sender sends by now.
        in_force: HeartbeatValues,
        /// The change-request indicator and proposed values.
        change: Option<ChangeRequest>,
    },
    /// The successor's answer to a heartbeat.
    HeartbeatAck {
        /// The counter of the heartbeat answered.
        counter: u64,
        /// For a change request: its generation and whether it was applied.
        change: Option<(u64, bool)>,
    },
    /// A node outside a view asks to be merged in; also tells its view.
    Join {
        /// The sender's current view.
        view: ViewId,
        /// The members of the sender's view.
        members: Vec<Member>,
    },
    /// A status query (from a member or an operator tool).
    StatusQuery {
        /// Request id chosen by the asker.
        req: u64,
    },
    /// An operator tool asks a member to run a parameter change or a key
    /// rotation, addressed to the member's incarnation (the header's `to_inc`).
    ChangeRequest {
        /// Request id chosen by the tool.
        req: u64,
        /// Transaction id: re-sending the same one is idempotent.
        txid: u64,
        /// The nonce of a challenge the member issued ([`Frame::Challenge`]).
        nonce: u64,
        /// The change or rotation (an application protocol is refused).
        body: ProtocolBody,
    },
    /// The member's answer to [`Frame::ChangeRequest`].
    ChangeReply {
        /// The request answered.
        req: u64,
        /// The outcome, once the change ended.
        outcome: Option<Outcome>,
        /// Why the change was refused before it started.
        error: Option<String>,
    },
    /// An operator tool asks a member for a challenge to bind a change request to.
    ChallengeRequest {
        /// Request id chosen by the tool.
        req: u64,
    },
    /// The member's challenge: a nonce it never issued before in this
    /// incarnation, good for one transaction and a limited time.
    Challenge {
        /// The request answered.
        req: u64,
        /// The nonce.
        nonce: u64,
    },
    /// One part of a status answer.
    StatusReply {
        /// The request answered.
        req: u64,
        /// This part's index.
        part: u16,
        /// Number of parts.
        parts: u16,
        /// Bytes of the postcard-encoded [`Status`](crate::status::Status).
        chunk: ByteBuf,
    },
    /// A member of a view with quorum refuses a node outside its node set
    /// (see [`crate::refusal`]); sent back to where the refused datagram
    /// came from, so the header names no receiver.
    NotMember {
        /// The node refused.
        node: NodeId,
        /// The refusing member's committed generation.
        generation: u64,
        /// The node set committed at that generation (node ids, ascending).
        nodes: Vec<NodeId>,
    },
}
