//! The status snapshot a member builds from its own record, and its table form.
//!
//! A [`Status`] is an owned value built in O(members) from what the member
//! tracks locally; answering a status query sends no other message.

use crate::ids::{Member, NodeId, ProposalId, Resource, ViewId};
use crate::params::{Param, Params};
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a member is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// In a view without quorum: protocols are refused.
    NoQuorum,
    /// In a view with quorum, no protocol running.
    Idle,
    /// Running a protocol, waiting for ACKs of the current round.
    WaitingAcks,
    /// Running a protocol, waiting on a local resource before ACKing.
    WaitingLocal,
    /// Flushed for a view change, waiting for the new view.
    ViewChange,
    /// Left the group.
    Left,
}

impl Phase {
    /// Lower-case name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::NoQuorum => "no-quorum",
            Phase::Idle => "idle",
            Phase::WaitingAcks => "waiting-acks",
            Phase::WaitingLocal => "waiting-local",
            Phase::ViewChange => "view-change",
            Phase::Left => "left",
        }
    }
}

/// The protocol a member is processing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolInfo {
    /// Position in the total order.
    pub seq: u64,
    /// Proposal (initiator and transaction id).
    pub pid: ProposalId,
    /// Kind ("app" or "param-change").
    pub kind: String,
    /// Number of ACK rounds.
    pub rounds: u8,
    /// Index of the current round within the protocol (0-based).
    pub round_index: u8,
    /// When the member started it (member's clock).
    pub started: Time,
}

/// What a member waits on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Waiting {
    /// ACKs of the current round from these members.
    Acks(Vec<NodeId>),
    /// A local resource.
    Local(Resource),
    /// The new view from this leader.
    NewView(NodeId),
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Waiting::Acks(m) => write!(f, "ACKs from {m:?}"),
            Waiting::Local(r) => write!(f, "{r}"),
            Waiting::NewView(l) => write!(f, "new view from leader {l}"),
        }
    }
}

/// Per other member: what this member has received from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// The member.
    pub id: NodeId,
    /// Its incarnation.
    pub inc: u64,
    /// The highest global round for which its ACK has arrived.
    pub last_ack_round: u64,
    /// When it was last heard from (member's clock), if ever.
    pub last_heard: Option<Time>,
    /// Messages queued to it behind the window (or, until the member's
    /// host next takes its datagrams, not yet cut into fragments).
    pub queued: u64,
    /// Fragments in flight to it.
    pub in_flight: u64,
}

/// A heartbeat link of this member (to its ring successor or from its
/// predecessor); also its form in the status JSON (a field missing there
/// reads as empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkStatus {
    /// The other end.
    pub peer: NodeId,
    /// True for the link to the successor (we send), false for the predecessor (we receive).
    pub outgoing: bool,
    /// Consecutive misses counted on the link.
    pub misses: u32,
    /// Heartbeat interval in force on the link (ms).
    pub interval_ms: u64,
    /// A change request is sent and not yet acknowledged as applied.
    pub switch_over_pending: bool,
}

/// A member this member holds out of its view for a while (flap damping):
/// it was excluded again and again, so it is readmitted only after a backoff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DampedStatus {
    /// The member.
    pub id: NodeId,
    /// The incarnation that was excluded (a later one is not held).
    pub inc: u64,
    /// Exclusions counted (the first is readmitted at once).
    pub exclusions: u32,
    /// Held out until this time (the answering member's clock).
    pub until: Time,
}

/// Counters of what a member dropped, refused or did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Datagrams that did not decode.
    pub malformed: u64,
    /// Datagrams of another wire version.
    pub version_mismatch: u64,
    /// Datagrams from an old incarnation, for another node, or for an old view.
    pub stale: u64,
    /// Datagrams refused by authentication (counted by the runtime).
    pub auth_failed: u64,
    /// Datagrams refused as replays (counted by the runtime).
    pub replayed: u64,
    /// Fragments sent again.
    pub retransmits: u64,
    /// Duplicate fragments received.
    pub duplicates: u64,
    /// Fragments dropped by reassembly checks.
    pub reassembly_errors: u64,
    /// Sends refused over the queue threshold.
    pub backpressure: u64,
    /// Status queries answered.
    pub queries_answered: u64,
    /// Heartbeats sent.
    pub heartbeats_sent: u64,
    /// Members suspected by this member.
    pub suspicions: u64,
    /// Views installed.
    pub views_installed: u64,
    /// Protocols completed (any outcome).
    pub protocols_completed: u64,
    /// Parameter changes committed.
    pub changes_committed: u64,
    /// Parameter changes rolled back.
    pub changes_rolled_back: u64,
    /// Datagrams refused from nodes outside the node set (each such node
    /// is told why: see [`crate::refusal`]).
    pub refused: u64,
}

impl Counters {
    /// Counts a protocol this member completed, with the outcome it completed with.
    pub(crate) fn count_completed(&mut self, o: &crate::ids::Outcome) {
        self.protocols_completed += 1;
        if o.kind == "param-change" {
            if o.committed {
                self.changes_committed += 1;
            } else {
                self.changes_rolled_back += 1;
            }
        }
    }
}

/// A member's status, built from its local record alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The answering member.
    pub node: NodeId,
    /// Its incarnation.
    pub inc: u64,
    /// Its clock when it answered.
    pub at: Time,
    /// Its view.
    pub view: ViewId,
    /// Members of its view.
    pub members: Vec<Member>,
    /// Whether the view holds a quorum.
    pub quorum: bool,
    /// What it is doing.
    pub phase: Phase,
    /// Its current global ACK round (the round it works on, or the next one when idle).
    pub current_round: u64,
    /// Highest global round this member has ACKed.
    pub acked_round: u64,
    /// Highest protocol sequence it completed.
    pub completed: u64,
    /// Protocols waiting behind the current one: sequenced, or, on the
    /// coordinator, taken in to be sequenced.
    pub queued_protocols: u64,
    /// The protocol in progress.
    pub protocol: Option<ProtocolInfo>,
    /// What it waits on, if anything.
    pub waiting: Option<Waiting>,
    /// Since when it waits (its clock).
    pub waiting_since: Option<Time>,
    /// Every other member of the view.
    pub peers: Vec<PeerStatus>,
    /// Its heartbeat links.
    pub links: Vec<LinkStatus>,
    /// Effective parameters.
    pub params: Params,
    /// Parameters from its configuration (its own file: the values it would
    /// start a new cluster with, its `[[nodes]]` as their node set; the
    /// committed ones are `params`).
    pub configured: Params,
    /// Its local limits (`[limits]`): a change above one fails its apply.
    pub limits: crate::params::LocalLimits,
    /// Generation of the committed values (parameters and key).
    pub generation: u64,
    /// Its cluster keys.
    pub keys: KeyStatus,
    /// Counters.
    pub counters: Counters,
    /// Members held out for flapping, with what is left of their backoff.
    pub damped: Vec<DampedStatus>,
    /// While this member is in no view with quorum: the last time a member
    /// refused it for being outside the cluster's node set.
    pub refused: Option<crate::refusal::Refusal>,
}

/// A member's cluster keys, by fingerprint (0: none, an insecure cluster).
/// The key it was configured with is `Status::configured`'s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStatus {
    /// The key it sends under (`Status::params`' key).
    pub sending: u64,
    /// The key of the last committed values (the active key).
    pub committed: u64,
    /// The keys it accepts datagrams under, sorted.
    pub accepting: Vec<u64>,
}

impl KeyStatus {
    /// Whether a key rotation is in progress here: a new key is loaded
    /// beside the active one, or sent under before its verdict.
    pub fn rotating(&self) -> bool {
        self.accepting.len() > 1 || self.sending != self.committed
    }
}

impl Status {
    /// Members of the view that have not ACKed the current round (empty when idle).
    pub fn not_acked(&self) -> Vec<NodeId> {
        match &self.waiting {
            Some(Waiting::Acks(m)) => m.clone(),
            _ => Vec::new(),
        }
    }

    /// How long the member has waited, as of its answer.
    pub fn waited(&self) -> Option<std::time::Duration> {
        self.waiting_since.map(|s| self.at.saturating_since(s))
    }

    /// Rounds `peer`'s last ACK is behind this member's current round.
    pub fn ack_lag(&self, peer: &PeerStatus) -> u64 {
        self.current_round.saturating_sub(peer.last_ack_round)
    }

    /// How long this member has waited for `peer`'s ACK of its current
    /// round, as of its answer; `None` when it waits on no ACK of it.
    pub fn ack_wait(&self, peer: NodeId) -> Option<std::time::Duration> {
        match &self.waiting {
            Some(Waiting::Acks(m)) if m.contains(&peer) => self.waited(),
            _ => None,
        }
    }

    /// The coordinator of its view (lowest member id).
    pub fn coordinator(&self) -> Option<NodeId> {
        self.members.first().map(|m| m.id)
    }

    /// Whether any link has a heartbeat switch-over pending.
    pub fn switch_over_pending(&self) -> bool {
        self.links.iter().any(|l| l.switch_over_pending)
    }
}

/// A duration for people: `41s`, `250ms`, `80us`.
pub fn human(d: std::time::Duration) -> String {
    if d.as_secs() >= 10 {
        format!("{}s", d.as_secs())
    } else if d.as_millis() >= 10 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}us", d.as_micros())
    }
}

/// The status table operators read (`cgm status`, failure dumps of the simulator);
/// the alternate form `{:#}` leaves the parameter values out.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<String> = self.members.iter().map(|m| m.id.to_string()).collect();
        writeln!(
            f,
            "member {} (inc {})  view {}  members [{}]  coordinator {}  quorum {}",
            self.node,
            self.inc,
            self.view,
            ids.join(" "),
            self.coordinator().map_or("-".into(), |c| c.to_string()),
            if self.quorum { "yes" } else { "NO" }
        )?;
        if let Some(r) = &self.refused {
            let ids: Vec<String> = r.nodes.iter().map(ToString::to_string).collect();
            writeln!(
                f,
                "REFUSED by member {} {} ago: this node is not in the cluster's node set [{}] (generation {}); add it from a member with `cgm nodes add {} ADDR`",
                r.by,
                human(self.at.saturating_since(r.at)),
                ids.join(" "),
                r.generation,
                self.node
            )?;
        }
        writeln!(
            f,
            "phase {}  current round {}  completed protocols {}  queued {}",
            self.phase.as_str(),
            self.current_round,
            self.completed,
            self.queued_protocols
        )?;
        if let Some(p) = &self.protocol {
            writeln!(
                f,
                "protocol seq {} ({}) from {} round {}/{} running for {}",
                p.seq,
                p.kind,
                p.pid,
                p.round_index + 1,
                p.rounds,
                human(self.at.saturating_since(p.started))
            )?;
        }
        if self.keys.committed != 0 {
            let hex = |k: &u64| format!("{k:016x}");
            let mut line = format!("key {}", hex(&self.keys.committed));
            if self.keys.rotating() {
                let others: Vec<String> = self.keys.accepting.iter().filter(|k| **k != self.keys.committed).map(hex).collect();
                line += &format!("  ROTATING: sending under {}, accepting also [{}]", hex(&self.keys.sending), others.join(" "));
            }
            if self.configured.key() != self.keys.committed {
                line += &format!("  (key_file holds {})", hex(&self.configured.key()));
            }
            writeln!(f, "{line}")?;
        }
        match &self.waiting {
            Some(Waiting::Acks(m)) if !m.is_empty() => writeln!(
                f,
                "waiting on ACKs of round {} from {:?} for {}",
                self.current_round,
                m,
                human(self.waited().unwrap_or_default())
            )?,
            Some(w) => writeln!(f, "waiting on {w} for {}", human(self.waited().unwrap_or_default()))?,
            None => {}
        }
        writeln!(f, "{:>6}  {:>14}  {:>8}  {:>12}  {:>6}", "peer", "last-ack-round", "acked", "last-heard", "queued")?;
        for p in &self.peers {
            let acked = match (&self.protocol, p.last_ack_round >= self.current_round) {
                (None, _) => "-",
                (Some(_), true) => "yes",
                (Some(_), false) => "NO",
            };
            let heard = p.last_heard.map_or("never".into(), |t| format!("{} ago", human(self.at.saturating_since(t))));
            writeln!(f, "{:>6}  {:>14}  {:>8}  {:>12}  {:>6}", p.id, p.last_ack_round, acked, heard, p.queued)?;
        }
        for l in &self.links {
            writeln!(
                f,
                "heartbeat link {} {}  interval {}ms  misses {}  switch-over {}",
                if l.outgoing { "->" } else { "<-" },
                l.peer,
                l.interval_ms,
                l.misses,
                if l.switch_over_pending { "PENDING" } else { "done" }
            )?;
        }
        for d in &self.damped {
            writeln!(
                f,
                "damped member {} (inc {}): excluded {} times, readmitted in {}",
                d.id,
                d.inc,
                d.exclusions,
                human(d.until.saturating_since(self.at))
            )?;
        }
        let c = &self.counters;
        writeln!(
            f,
            "dropped: auth {} replay {} malformed {} version {} stale {} refused {}  retransmits {}  changes committed {} rolled back {}",
            c.auth_failed,
            c.replayed,
            c.malformed,
            c.version_mismatch,
            c.stale,
            c.refused,
            c.retransmits,
            c.changes_committed,
            c.changes_rolled_back
        )?;
        write!(f, "node set {}", self.params.nodes())?;
        if self.configured.nodes() != self.params.nodes() && !self.configured.nodes().is_empty() {
            write!(f, "  (this node's file lists {})", self.configured.nodes())?;
        }
        writeln!(f)?;
        write!(f, "parameters (generation {})", self.generation)?;
        if !f.alternate() {
            // `{:#}` leaves the values out, for callers that print a table of them.
            write!(f, ":")?;
            for p in Param::ALL {
                write!(f, " {}={}", p.name(), self.params.get(p))?;
            }
        }
        writeln!(f)
    }
}
