//! The versioned binary wire codec.
//!
//! Every datagram is a fixed 28-byte [`Header`] followed by a postcard-encoded
//! [`Frame`]. Reliable payloads (inside [`Frame::Data`]) are postcard-encoded
//! [`Msg`]s, possibly split over several fragments. Decoding never panics:
//! malformed input is a [`WireError`] value, and a frame of another protocol
//! version is refused before its body is read.

use crate::params::{Param, Params};
use crate::status::Status;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use std::fmt;

/// A node's identity in the cluster configuration.
pub type NodeId = u32;
/// A node's incarnation: a number that grows every time the node starts, so a
/// restarted node is a new member and its old traffic is recognised as stale.
pub type Incarnation = u64;

/// The two magic bytes that open every libcgm datagram.
pub const MAGIC: [u8; 2] = *b"CG";
/// The wire protocol version this build speaks.
pub const WIRE_VERSION: u8 = 2;
/// Length of the fixed header in bytes.
pub const HEADER_LEN: usize = 28;
/// Largest reassembled message accepted from a peer, in bytes.
pub const MAX_MESSAGE_LEN: usize = 4 << 20;

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
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Lock(n) => write!(f, "lock {n:?}"),
            Resource::Job(n) => write!(f, "job {n:?}"),
            Resource::Host => f.write_str("host step"),
            Resource::Veto => f.write_str("veto hook"),
        }
    }
}

/// An application-defined peer protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppProtocol {
    /// Opaque payload delivered to every member.
    pub payload: ByteBuf,
    /// Number of ACK rounds, at least 1.
    pub rounds: u8,
    /// What each member waits on before ACKing each round, if anything.
    pub wait: Option<Resource>,
}

/// What a peer protocol does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProtocolBody {
    /// An application-defined protocol.
    App(AppProtocol),
    /// A transactional parameter change (two ACK rounds).
    Change(Vec<(Param, u64)>),
}

impl ProtocolBody {
    /// Number of ACK rounds the protocol takes.
    pub fn rounds(&self) -> u8 {
        match self {
            ProtocolBody::App(a) => a.rounds.max(1),
            ProtocolBody::Change(_) => 2,
        }
    }

    /// Short kind name for status tables.
    pub fn kind(&self) -> &'static str {
        match self {
            ProtocolBody::App(_) => "app",
            ProtocolBody::Change(_) => "param-change",
        }
    }
}

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

/// What a member says about itself in an ACK.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The protocol's position in the total order.
    pub seq: u64,
    /// Its proposal.
    pub pid: ProposalId,
    /// Its kind ("app" or "param-change").
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
    /// An operator tool asks a member to run a parameter change, addressed
    /// to the member's incarnation (the header's `to_inc`).
    ChangeRequest {
        /// Request id chosen by the tool.
        req: u64,
        /// Transaction id: re-sending the same one is idempotent.
        txid: u64,
        /// The nonce of a challenge the member issued ([`Frame::Challenge`]).
        nonce: u64,
        /// The change.
        changes: Vec<(Param, u64)>,
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
        /// Bytes of the postcard-encoded [`Status`].
        chunk: ByteBuf,
    },
}

/// The fixed header of every datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Sending node.
    pub from: NodeId,
    /// Sending node's incarnation.
    pub from_inc: Incarnation,
    /// Receiving node (0 for an operator tool).
    pub to: NodeId,
    /// Receiving node's incarnation as the sender knows it (0 if unknown).
    pub to_inc: Incarnation,
}

/// Why a datagram or message could not be decoded. The input is dropped and counted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than the fixed header.
    #[error("datagram of {0} bytes is shorter than the {HEADER_LEN}-byte header")]
    Truncated(usize),
    /// Not a libcgm datagram.
    #[error("bad magic bytes")]
    BadMagic,
    /// A libcgm datagram of another protocol version.
    #[error("wire version {0} is not supported (this build speaks version {WIRE_VERSION})")]
    Version(u8),
    /// The body does not decode.
    #[error("malformed body: {0}")]
    Malformed(String),
}

/// Encodes a datagram into `out` (cleared first).
pub fn encode_frame(h: &Header, frame: &Frame, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&MAGIC);
    out.push(WIRE_VERSION);
    out.push(0);
    out.extend_from_slice(&h.from.to_le_bytes());
    out.extend_from_slice(&h.from_inc.to_le_bytes());
    out.extend_from_slice(&h.to.to_le_bytes());
    out.extend_from_slice(&h.to_inc.to_le_bytes());
    // Encoding into a Vec cannot fail for these types.
    let body = postcard::to_extend(frame, std::mem::take(out)).expect("postcard encoding into a Vec is infallible");
    *out = body;
}

/// Reads only the header, checking magic and version.
///
/// # Errors
/// [`WireError::Truncated`], [`WireError::BadMagic`] or [`WireError::Version`].
pub fn decode_header(buf: &[u8]) -> Result<Header, WireError> {
    if buf.len() < HEADER_LEN {
        return Err(WireError::Truncated(buf.len()));
    }
    if buf[0..2] != MAGIC {
        return Err(WireError::BadMagic);
    }
    if buf[2] != WIRE_VERSION {
        return Err(WireError::Version(buf[2]));
    }
    let u32_at = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
    Ok(Header { from: u32_at(4), from_inc: u64_at(8), to: u32_at(16), to_inc: u64_at(20) })
}

/// Decodes a whole datagram.
///
/// # Errors
/// Any [`WireError`]; trailing bytes after the body are malformed too.
pub fn decode_frame(buf: &[u8]) -> Result<(Header, Frame), WireError> {
    let h = decode_header(buf)?;
    let (frame, rest) = postcard::take_from_bytes::<Frame>(&buf[HEADER_LEN..]).map_err(|e| WireError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::Malformed(format!("{} trailing bytes", rest.len())));
    }
    Ok((h, frame))
}

/// Encodes a reliable message.
pub fn encode_msg(m: &Msg) -> Vec<u8> {
    postcard::to_allocvec(m).expect("postcard encoding into a Vec is infallible")
}

/// Decodes a reliable message.
///
/// # Errors
/// [`WireError::Malformed`].
pub fn decode_msg(buf: &[u8]) -> Result<Msg, WireError> {
    postcard::from_bytes(buf).map_err(|e| WireError::Malformed(e.to_string()))
}

/// Encodes a status snapshot for a [`Frame::StatusReply`].
pub fn encode_status(s: &Status) -> Vec<u8> {
    postcard::to_allocvec(s).expect("postcard encoding into a Vec is infallible")
}

/// Decodes a status snapshot.
///
/// # Errors
/// [`WireError::Malformed`].
pub fn decode_status(buf: &[u8]) -> Result<Status, WireError> {
    postcard::from_bytes(buf).map_err(|e| WireError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn forged_heartbeat_values_do_not_decode() {
        let p = Params::default();
        let good = Frame::Heartbeat { view: ViewId::default(), counter: 1, in_force: HeartbeatValues::of(&p), change: None };
        let mut buf = Vec::new();
        encode_frame(&hdr(), &good, &mut buf);
        assert!(decode_frame(&buf).is_ok());
        for forged in [
            HeartbeatValues { interval: 0, ..HeartbeatValues::of(&p) },
            HeartbeatValues { interval: 5_000, timeout: 3_000, ..HeartbeatValues::of(&p) },
        ] {
            let f = Frame::Heartbeat { view: ViewId::default(), counter: 1, in_force: forged, change: None };
            encode_frame(&hdr(), &f, &mut buf);
            assert!(matches!(decode_frame(&buf), Err(WireError::Malformed(_))), "{forged:?} decoded");
        }
    }

    use super::*;
    use proptest::prelude::*;

    fn hdr() -> Header {
        Header { from: 3, from_inc: 77, to: 9, to_inc: 5 }
    }

    #[test]
    fn frames_round_trip() {
        let frames = vec![
            Frame::Data { session: 1, seq: 9, ack: AckInfo { session: 1, cum: 4, sack: 3 }, chunk: ByteBuf::from(vec![1, 2, 3]) },
            Frame::Ack(AckInfo { session: 2, cum: 1, sack: 0 }),
            Frame::Heartbeat {
                view: ViewId { epoch: 2, leader: 1 },
                counter: 8,
                in_force: HeartbeatValues::of(&Params::default()),
                change: Some(ChangeRequest { generation: 3, values: HeartbeatValues::of(&Params::default()) }),
            },
            Frame::HeartbeatAck { counter: 8, change: Some((3, true)) },
            Frame::StatusQuery { req: 42 },
        ];
        let mut buf = Vec::new();
        for f in frames {
            encode_frame(&hdr(), &f, &mut buf);
            assert_eq!(decode_frame(&buf).unwrap(), (hdr(), f));
        }
    }

    #[test]
    fn other_versions_and_garbage_are_refused() {
        let mut buf = Vec::new();
        encode_frame(&hdr(), &Frame::StatusQuery { req: 1 }, &mut buf);
        for other in [WIRE_VERSION - 1, WIRE_VERSION + 1] {
            let mut v = buf.clone();
            v[2] = other;
            assert_eq!(decode_frame(&v), Err(WireError::Version(other)));
        }
        assert_eq!(decode_frame(&buf[..10]), Err(WireError::Truncated(10)));
        let mut trailing = buf.clone();
        trailing.push(0);
        assert!(matches!(decode_frame(&trailing), Err(WireError::Malformed(_))));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_frame(&bytes);
            let _ = decode_msg(&bytes);
            let _ = decode_status(&bytes);
        }

        #[test]
        fn decoding_mutated_frames_never_panics(flip in 0usize..64, bit in 0u8..8) {
            let mut buf = Vec::new();
            encode_frame(&hdr(), &Frame::Data { session: 1, seq: 1, ack: AckInfo::default(), chunk: ByteBuf::from(vec![7; 20]) }, &mut buf);
            let i = flip % buf.len();
            buf[i] ^= 1 << bit;
            let _ = decode_frame(&buf);
        }
    }
}
