//! A status as its public JSON document ([`crate::schema`]), typed: written
//! and read by serde straight to and from text, with no `serde_json::Value`
//! tree on the way. A status reply is this text, so every status query pays
//! for writing it on the member and reading it on the asker; through a tree
//! the two cost 47 µs for a 3-member status (`cargo bench -p cgm-core --
//! "status reply"`).
//!
//! Reading is as lenient as the schema promises: fields this reader does not
//! know are skipped (parameters of unknown names too), missing ones are
//! taken as empty, and parameter sets are validated.

use crate::ids::{Member, NodeId, ProposalId, Resource, ViewId};
use crate::params::{LocalLimits, Param, Params};
use crate::refusal::Refusal;
use crate::status::{Counters, DampedStatus, KeyStatus, LinkStatus, PeerStatus, Phase, ProtocolInfo, Status, Waiting};
use crate::time::Time;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

/// The version of the schema ([`crate::schema`]), carried as `"schema"` in
/// a status.
pub const SCHEMA_VERSION: u64 = 1;

/// Why a JSON status could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("status JSON: {0}")]
pub struct SchemaError(pub String);

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The whole document, fields in the order the README lists them.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct StatusDoc {
    schema: u64,
    node: NodeId,
    incarnation: u64,
    at_us: u64,
    view: ViewDoc,
    members: Vec<NodeId>,
    coordinator: Option<NodeId>,
    quorum: bool,
    phase: String,
    current_round: u64,
    acked_round: u64,
    completed: u64,
    queued_protocols: u64,
    protocol: Option<ProtocolDoc>,
    waiting: Option<WaitingDoc>,
    waited_us: Option<u64>,
    not_acked: Vec<NodeId>,
    peers: Vec<PeerDoc>,
    links: Vec<LinkStatus>,
    params: ParamsDoc,
    configured: ParamsDoc,
    nodes: Vec<NodeDoc>,
    configured_nodes: Vec<NodeDoc>,
    limits: ParamsDoc,
    generation: u64,
    keys: KeysDoc,
    switch_over_pending: bool,
    counters: Counters,
    damped: Vec<DampedDoc>,
    refused: Option<RefusedDoc>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct ViewDoc {
    epoch: u64,
    leader: NodeId,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct ProtocolDoc {
    seq: u64,
    proposal: (NodeId, u64),
    kind: String,
    rounds: u8,
    round_index: u8,
    running_for_us: u64,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct WaitingDoc {
    kind: String,
    name: Option<String>,
    members: Vec<NodeId>,
    text: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct PeerDoc {
    id: NodeId,
    incarnation: u64,
    last_ack_round: u64,
    last_heard_us_ago: Option<u64>,
    queued: u64,
    in_flight: u64,
}

/// A node of a node set; both fields are required.
#[derive(Serialize, Deserialize)]
pub(crate) struct NodeDoc {
    pub(crate) id: NodeId,
    pub(crate) address: String,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct KeysDoc {
    sending: Option<String>,
    committed: Option<String>,
    configured: Option<String>,
    accepting: Vec<Option<String>>,
    rotating: bool,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct DampedDoc {
    id: NodeId,
    incarnation: u64,
    exclusions: u32,
    remaining_us: u64,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
struct RefusedDoc {
    by: NodeId,
    generation: u64,
    nodes: Vec<NodeId>,
    us_ago: u64,
}

/// Parameter values by canonical name (`{"heartbeat-interval": 1000, ...}`).
/// Read, a name this library does not know is a newer member's parameter
/// and skipped whatever its value.
#[derive(Default)]
pub(crate) struct ParamsDoc(pub(crate) Vec<(Param, u64)>);

impl Serialize for ParamsDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (p, v) in &self.0 {
            m.serialize_entry(p.name(), v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for ParamsDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ByName;
        impl<'de> Visitor<'de> for ByName {
            type Value = ParamsDoc;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("parameter values by name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParamsDoc, A::Error> {
                let mut values = Vec::with_capacity(Param::ALL.len());
                while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match Param::ALL.iter().find(|p| p.name() == name) {
                        Some(&p) => values.push((p, map.next_value()?)),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(ParamsDoc(values))
            }
        }
        d.deserialize_map(ByName)
    }
}

impl ParamsDoc {
    pub(crate) fn of(p: &Params) -> ParamsDoc {
        ParamsDoc(Param::ALL.iter().map(|&q| (q, p.get(q))).collect())
    }

    /// The values validated, over the defaults for those missing.
    fn params(&self, what: &str) -> Result<Params, SchemaError> {
        Params::default().with_changes(&self.0).map_err(|e| SchemaError(format!("{what}: {e}")))
    }
}

/// A key fingerprint: 16 hex digits, `None` (null) for none (0).
pub(crate) fn fingerprint_hex(k: u64) -> Option<String> {
    (k != 0).then(|| format!("{k:016x}"))
}

fn fingerprint_from(h: &Option<String>, what: &str) -> Result<u64, SchemaError> {
    match h {
        None => Ok(0),
        Some(h) => u64::from_str_radix(h, 16).map_err(|_| SchemaError(format!("{what}: {h:?} is not a key fingerprint"))),
    }
}

pub(crate) fn nodes_doc(r: &crate::Roster) -> Vec<NodeDoc> {
    r.iter().map(|(id, a)| NodeDoc { id, address: a.to_string() }).collect()
}

fn roster(nodes: Vec<NodeDoc>, what: &str) -> Result<crate::Roster, SchemaError> {
    if nodes.is_empty() {
        return Ok(crate::Roster::default());
    }
    crate::Roster::new(nodes.into_iter().map(|n| (n.id, n.address)).collect::<Vec<_>>()).map_err(|e| SchemaError(format!("{what}: {e}")))
}

fn waiting_doc(w: &Waiting) -> WaitingDoc {
    let (kind, name, members) = match w {
        Waiting::Acks(m) => ("acks", None, m.clone()),
        Waiting::NewView(l) => ("new-view", None, vec![*l]),
        Waiting::Local(Resource::Lock(n)) => ("lock", Some(n.clone()), Vec::new()),
        Waiting::Local(Resource::Job(n)) => ("job", Some(n.clone()), Vec::new()),
        Waiting::Local(Resource::Host) => ("host", None, Vec::new()),
        Waiting::Local(Resource::Veto) => ("veto", None, Vec::new()),
        Waiting::Local(Resource::Key) => ("key", None, Vec::new()),
    };
    WaitingDoc { kind: kind.into(), name, members, text: w.to_string() }
}

fn waiting_from(w: WaitingDoc) -> Result<Waiting, SchemaError> {
    let name = || w.name.clone().unwrap_or_default();
    Ok(match w.kind.as_str() {
        "acks" => Waiting::Acks(w.members),
        "new-view" => Waiting::NewView(w.members.first().copied().unwrap_or_default()),
        "lock" => Waiting::Local(Resource::Lock(name())),
        "job" => Waiting::Local(Resource::Job(name())),
        "host" => Waiting::Local(Resource::Host),
        "veto" => Waiting::Local(Resource::Veto),
        "key" => Waiting::Local(Resource::Key),
        other => return Err(SchemaError(format!("unknown waiting kind {other:?}"))),
    })
}

fn phase_from(name: &str) -> Result<Phase, SchemaError> {
    let all = [Phase::NoQuorum, Phase::Idle, Phase::WaitingAcks, Phase::WaitingLocal, Phase::ViewChange, Phase::Left];
    let name = if name.is_empty() { "idle" } else { name };
    all.into_iter().find(|p| p.as_str() == name).ok_or_else(|| SchemaError(format!("unknown phase {name:?}")))
}

impl StatusDoc {
    /// The document of status `s`.
    pub(crate) fn of(s: &Status) -> StatusDoc {
        let ago = |t: Time| micros(s.at.saturating_since(t));
        StatusDoc {
            schema: SCHEMA_VERSION,
            node: s.node,
            incarnation: s.inc,
            at_us: s.at.0,
            view: ViewDoc { epoch: s.view.epoch, leader: s.view.leader },
            members: s.members.iter().map(|m| m.id).collect(),
            coordinator: s.coordinator(),
            quorum: s.quorum,
            phase: s.phase.as_str().into(),
            current_round: s.current_round,
            acked_round: s.acked_round,
            completed: s.completed,
            queued_protocols: s.queued_protocols,
            protocol: s.protocol.as_ref().map(|p| ProtocolDoc {
                seq: p.seq,
                proposal: (p.pid.node, p.pid.txid),
                kind: p.kind.clone(),
                rounds: p.rounds,
                round_index: p.round_index,
                running_for_us: ago(p.started),
            }),
            waiting: s.waiting.as_ref().map(waiting_doc),
            waited_us: s.waiting_since.map(ago),
            not_acked: s.not_acked(),
            peers: s
                .peers
                .iter()
                .map(|p| PeerDoc {
                    id: p.id,
                    incarnation: p.inc,
                    last_ack_round: p.last_ack_round,
                    last_heard_us_ago: p.last_heard.map(ago),
                    queued: p.queued,
                    in_flight: p.in_flight,
                })
                .collect(),
            links: s.links.clone(),
            params: ParamsDoc::of(&s.params),
            configured: ParamsDoc::of(&s.configured),
            nodes: nodes_doc(s.params.nodes()),
            configured_nodes: nodes_doc(s.configured.nodes()),
            limits: ParamsDoc(s.limits.all()),
            generation: s.generation,
            keys: KeysDoc {
                sending: fingerprint_hex(s.keys.sending),
                committed: fingerprint_hex(s.keys.committed),
                configured: fingerprint_hex(s.configured.key()),
                accepting: s.keys.accepting.iter().map(|&k| fingerprint_hex(k)).collect(),
                rotating: s.keys.rotating(),
            },
            switch_over_pending: s.switch_over_pending(),
            counters: s.counters,
            damped: s
                .damped
                .iter()
                .map(|d| DampedDoc {
                    id: d.id,
                    incarnation: d.inc,
                    exclusions: d.exclusions,
                    remaining_us: micros(d.until.saturating_since(s.at)),
                })
                .collect(),
            refused: s.refused.as_ref().map(|r| RefusedDoc {
                by: r.by,
                generation: r.generation,
                nodes: r.nodes.clone(),
                us_ago: ago(r.at),
            }),
        }
    }

    /// The status this document describes.
    ///
    /// # Errors
    /// [`SchemaError`] for another schema version, an unknown phase or
    /// waiting kind, a bad key fingerprint, or invalid parameters.
    pub(crate) fn status(self) -> Result<Status, SchemaError> {
        if self.schema != SCHEMA_VERSION {
            return Err(SchemaError(format!("schema {}; this reader knows schema {SCHEMA_VERSION}", self.schema)));
        }
        let at = Time(self.at_us);
        let before = |us: u64| Time(at.0.saturating_sub(us));
        let inc = self.incarnation;
        let peers: Vec<PeerStatus> = self
            .peers
            .into_iter()
            .map(|p| PeerStatus {
                id: p.id,
                inc: p.incarnation,
                last_ack_round: p.last_ack_round,
                last_heard: p.last_heard_us_ago.map(before),
                queued: p.queued,
                in_flight: p.in_flight,
            })
            .collect();
        // Members by id; their incarnations are the peers' (and this member's own).
        let node = self.node;
        let members = self
            .members
            .into_iter()
            .map(|id| Member { id, inc: if id == node { inc } else { peers.iter().find(|p| p.id == id).map_or(0, |p| p.inc) } })
            .collect();
        let keys = KeyStatus {
            sending: fingerprint_from(&self.keys.sending, "keys.sending")?,
            committed: fingerprint_from(&self.keys.committed, "keys.committed")?,
            accepting: self.keys.accepting.iter().map(|k| fingerprint_from(k, "keys.accepting")).collect::<Result<_, _>>()?,
        };
        let mut limits = LocalLimits::default();
        for (p, v) in self.limits.0 {
            limits.set(p, v);
        }
        Ok(Status {
            node,
            inc,
            at,
            view: ViewId { epoch: self.view.epoch, leader: self.view.leader },
            members,
            quorum: self.quorum,
            phase: phase_from(&self.phase)?,
            current_round: self.current_round,
            acked_round: self.acked_round,
            completed: self.completed,
            queued_protocols: self.queued_protocols,
            protocol: self.protocol.map(|p| ProtocolInfo {
                seq: p.seq,
                pid: ProposalId { node: p.proposal.0, txid: p.proposal.1 },
                kind: p.kind,
                rounds: p.rounds,
                round_index: p.round_index,
                started: before(p.running_for_us),
            }),
            waiting: self.waiting.map(waiting_from).transpose()?,
            waiting_since: self.waited_us.map(before),
            peers,
            links: self.links,
            params: self.params.params("params")?.with_key(keys.sending).with_nodes(roster(self.nodes, "nodes")?),
            configured: self
                .configured
                .params("configured")?
                .with_key(fingerprint_from(&self.keys.configured, "keys.configured")?)
                .with_nodes(roster(self.configured_nodes, "configured_nodes")?),
            limits,
            generation: self.generation,
            keys,
            counters: self.counters,
            damped: self
                .damped
                .into_iter()
                .map(|d| DampedStatus {
                    id: d.id,
                    inc: d.incarnation,
                    exclusions: d.exclusions,
                    until: Time(at.0.saturating_add(d.remaining_us)),
                })
                .collect(),
            refused: self.refused.map(|r| Refusal { by: r.by, generation: r.generation, nodes: r.nodes, at: before(r.us_ago) }),
        })
    }
}
