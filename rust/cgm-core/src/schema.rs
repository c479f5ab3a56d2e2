//! The one JSON schema of libcgm's public objects: a member's status, a
//! protocol's outcome and a parameter set. `cgm status --json`, `cgm set
//! --json`, C's `cgm_status_to_json` / `cgm_change_outcome_to_json` and
//! Python's `to_dict()` all print what this module builds, and a status reply
//! travels on the wire in this form too (see [`status_from_json`]), so an
//! operator tool reads a member of another library version.
//!
//! Compatibility within [`SCHEMA_VERSION`]: fields may be added, never
//! renamed, retyped or given a new meaning; a reader ignores fields it does
//! not know and takes a missing field as empty (0, false, null, none). A
//! change that breaks this raises the version.
//!
//! Times are microseconds. `at_us` is the member's own clock when it
//! answered (meaningful only against its other times); every other time is an
//! age relative to it (`running_for_us`, `waited_us`, `last_heard_us_ago`).

use crate::ids::{AckStatus, Member, NodeId, Outcome, ProposalId, Resource, ViewId};
use crate::params::{Param, Params};
use crate::refusal::Refusal;
use crate::status::{Counters, DampedStatus, LinkStatus, PeerStatus, Phase, ProtocolInfo, Status, Waiting};
use crate::time::Time;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The version of this schema, carried as `"schema"` in a status.
pub const SCHEMA_VERSION: u64 = 1;

/// Why a JSON status could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("status JSON: {0}")]
pub struct SchemaError(pub String);

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A parameter set: `{canonical-name: value}` for all eleven, in their units
/// (milliseconds, bytes, counts, percent).
pub fn params_to_json(p: &Params) -> Value {
    Value::Object(Param::ALL.iter().map(|&q| (q.name().to_string(), json!(p.get(q)))).collect())
}

/// A node set: `[{"id": 1, "address": "10.0.0.1:7000"}, ...]` by id.
pub fn nodes_to_json(r: &crate::Roster) -> Value {
    Value::Array(r.iter().map(|(id, a)| json!({"id": id, "address": a})).collect())
}

/// A node set from [`nodes_to_json`]'s form; missing (an older member):
/// empty.
fn nodes_from_json(v: Option<&Value>, what: &'static str) -> Result<crate::Roster, SchemaError> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(crate::Roster::default()) };
    let bad = || SchemaError(format!("{what} is not a list of {{id, address}}"));
    let list = v.as_array().ok_or_else(bad)?;
    if list.is_empty() {
        return Ok(crate::Roster::default());
    }
    let nodes = list.iter().map(|n| {
        let id = n.get("id").and_then(Value::as_u64).and_then(|i| NodeId::try_from(i).ok()).ok_or_else(bad)?;
        let addr = n.get("address").and_then(Value::as_str).ok_or_else(bad)?;
        Ok((id, addr.to_string()))
    });
    crate::Roster::new(nodes.collect::<Result<Vec<_>, SchemaError>>()?).map_err(|e| SchemaError(format!("{what}: {e}")))
}

fn resource_json(r: &Resource) -> Value {
    match r {
        Resource::Lock(n) => json!({"kind": "lock", "name": n}),
        Resource::Job(n) => json!({"kind": "job", "name": n}),
        Resource::Host => json!({"kind": "host", "name": null}),
        Resource::Veto => json!({"kind": "veto", "name": null}),
        Resource::Key => json!({"kind": "key", "name": null}),
    }
}

fn waiting_json(w: &Waiting) -> Value {
    let (kind, name, members) = match w {
        Waiting::Acks(m) => ("acks".into(), Value::Null, m.clone()),
        Waiting::NewView(l) => ("new-view".into(), Value::Null, vec![*l]),
        Waiting::Local(r) => {
            let v = resource_json(r);
            (v["kind"].as_str().unwrap_or_default().to_string(), v["name"].clone(), Vec::new())
        }
    };
    json!({"kind": kind, "name": name, "members": members, "text": w.to_string()})
}

fn ack_json(a: &AckStatus) -> Value {
    match a {
        AckStatus::Received => json!({"kind": "received", "payload": null, "reason": null}),
        AckStatus::Ok(b) => json!({"kind": "ok", "payload": b.to_vec(), "reason": null}),
        AckStatus::Failed(r) => json!({"kind": "failed", "payload": null, "reason": r}),
    }
}

/// How a protocol ended: `seq`, `proposal` (`[node, txid]`), `kind`,
/// `committed`, `generation`, `statuses` (`[[member, {kind, payload,
/// reason}], ...]`, `kind` one of `received`, `ok`, `failed`) and `reason`.
pub fn outcome_to_json(o: &Outcome) -> Value {
    json!({
        "seq": o.seq,
        "proposal": [o.pid.node, o.pid.txid],
        "kind": o.kind,
        "committed": o.committed,
        "generation": o.generation,
        "statuses": o.statuses.iter().map(|(id, a)| json!([id, ack_json(a)])).collect::<Vec<_>>(),
        "reason": o.reason,
    })
}

/// A member's status; the README's "Status as JSON" lists every field.
pub fn status_to_json(s: &Status) -> Value {
    let ago = |t: Time| micros(s.at.saturating_since(t));
    json!({
        "schema": SCHEMA_VERSION,
        "node": s.node,
        "incarnation": s.inc,
        "at_us": s.at.0,
        "view": {"epoch": s.view.epoch, "leader": s.view.leader},
        "members": s.members.iter().map(|m| m.id).collect::<Vec<_>>(),
        "coordinator": s.coordinator(),
        "quorum": s.quorum,
        "phase": s.phase.as_str(),
        "current_round": s.current_round,
        "acked_round": s.acked_round,
        "completed": s.completed,
        "queued_protocols": s.queued_protocols,
        "protocol": s.protocol.as_ref().map(|p| json!({
            "seq": p.seq,
            "proposal": [p.pid.node, p.pid.txid],
            "kind": p.kind,
            "rounds": p.rounds,
            "round_index": p.round_index,
            "running_for_us": ago(p.started),
        })),
        "waiting": s.waiting.as_ref().map(waiting_json),
        "waited_us": s.waiting_since.map(ago),
        "not_acked": s.not_acked(),
        "peers": s.peers.iter().map(|p| json!({
            "id": p.id,
            "incarnation": p.inc,
            "last_ack_round": p.last_ack_round,
            "last_heard_us_ago": p.last_heard.map(ago),
            "queued": p.queued,
            "in_flight": p.in_flight,
        })).collect::<Vec<_>>(),
        "links": s.links.iter().map(|l| json!({
            "peer": l.peer,
            "outgoing": l.outgoing,
            "misses": l.misses,
            "interval_ms": l.interval_ms,
            "switch_over_pending": l.switch_over_pending,
        })).collect::<Vec<_>>(),
        "params": params_to_json(&s.params),
        "configured": params_to_json(&s.configured),
        "nodes": nodes_to_json(s.params.nodes()),
        "configured_nodes": nodes_to_json(s.configured.nodes()),
        "limits": s.limits.all().into_iter().map(|(p, v)| (p.name().to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "generation": s.generation,
        "keys": json!({
            "sending": fingerprint(s.keys.sending),
            "committed": fingerprint(s.keys.committed),
            "configured": fingerprint(s.configured.key()),
            "accepting": s.keys.accepting.iter().map(|&k| fingerprint(k)).collect::<Vec<_>>(),
            "rotating": s.keys.rotating(),
        }),
        "switch_over_pending": s.switch_over_pending(),
        "counters": serde_json::to_value(s.counters).expect("counters serialise"),
        "damped": s.damped.iter().map(|d| json!({
            "id": d.id,
            "incarnation": d.inc,
            "exclusions": d.exclusions,
            "remaining_us": micros(d.until.saturating_since(s.at)),
        })).collect::<Vec<_>>(),
        "refused": s.refused.as_ref().map(|r| json!({
            "by": r.by,
            "generation": r.generation,
            "nodes": r.nodes,
            "us_ago": ago(r.at),
        })),
    })
}

/// One host-visible event of a member, as a line of a history (JSON Lines
/// written by `cgm-sim --history` and `cgm node --history`, read by
/// `tests/sim/check_history.py`; the simulator's `history` module lists
/// the fields).
#[derive(Clone, Copy, Debug)]
pub enum HistoryEvent<'a> {
    /// An outcome reported to the host: a protocol the member completed
    /// (`learned` false) or the fate of its own proposal decided while it
    /// was cut off (`learned` true); `era` counts the cluster's state losses.
    Outcome {
        /// The outcome.
        outcome: &'a Outcome,
        /// Whether it was learned rather than completed.
        learned: bool,
        /// The era.
        era: u64,
    },
    /// A view installed.
    View {
        /// Its id.
        view: ViewId,
        /// Its members' ids.
        members: &'a [NodeId],
        /// Whether it holds a quorum.
        quorum: bool,
        /// Whether the member took the view's state by transfer.
        transferred: bool,
    },
    /// The values in force changed (what the host was told).
    Values {
        /// Their generation.
        generation: u64,
        /// The values.
        params: &'a Params,
        /// The era.
        era: u64,
    },
    /// The member (re)started.
    Restart,
    /// The member crashed (written by whoever killed it).
    Crash,
}

/// A history line: `t_us` (µs on the writer's clock), `node`, `inc` (the
/// member's incarnation), `event` and the event's fields.
pub fn history_line(t_us: u64, node: NodeId, inc: u64, e: &HistoryEvent<'_>) -> Value {
    let (event, fields) = match *e {
        HistoryEvent::Outcome { outcome: o, learned, era } => (
            "outcome",
            json!({
                "seq": o.seq, "pid": o.pid.to_string(), "kind": o.kind, "committed": o.committed,
                "generation": o.generation, "learned": learned, "era": era,
            }),
        ),
        HistoryEvent::View { view, members, quorum, transferred } => (
            "view",
            json!({ "epoch": view.epoch, "leader": view.leader, "members": members, "quorum": quorum, "transferred": transferred }),
        ),
        HistoryEvent::Values { generation, params, era } => {
            let mut values: Map<String, Value> = Param::ALL.iter().map(|&p| (p.name().to_string(), params.get(p).into())).collect();
            values.insert("key".into(), params.key().into());
            values.insert("nodes".into(), params.nodes().ids().collect::<Vec<_>>().into());
            ("values", json!({ "generation": generation, "values": values, "era": era }))
        }
        HistoryEvent::Restart => ("restart", json!({})),
        HistoryEvent::Crash => ("crash", json!({})),
    };
    let mut line = Map::new();
    line.insert("t_us".into(), t_us.into());
    line.insert("node".into(), node.into());
    line.insert("inc".into(), inc.into());
    line.insert("event".into(), event.into());
    if let Value::Object(mut f) = fields {
        line.append(&mut f);
    }
    Value::Object(line)
}

/// Reads a field of a JSON object leniently: missing or null is `None`, a
/// value of the wrong type an error.
struct Fields<'a>(&'a Map<String, Value>, &'static str);

impl<'a> Fields<'a> {
    fn of(v: &'a Value, what: &'static str) -> Result<Fields<'a>, SchemaError> {
        v.as_object().map(|m| Fields(m, what)).ok_or_else(|| SchemaError(format!("{what} is not an object")))
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn bad(&self, key: &str, want: &str) -> SchemaError {
        SchemaError(format!("{}.{key} is not {want}", self.1))
    }

    fn u64(&self, key: &str) -> Result<u64, SchemaError> {
        self.opt_u64(key).map(Option::unwrap_or_default)
    }

    fn opt_u64(&self, key: &str) -> Result<Option<u64>, SchemaError> {
        self.get(key).map(|v| v.as_u64().ok_or_else(|| self.bad(key, "a number"))).transpose()
    }

    fn small<T: TryFrom<u64>>(&self, key: &str) -> Result<T, SchemaError> {
        T::try_from(self.u64(key)?).map_err(|_| self.bad(key, "in range"))
    }

    fn bool(&self, key: &str) -> Result<bool, SchemaError> {
        self.get(key).map_or(Ok(false), |v| v.as_bool().ok_or_else(|| self.bad(key, "a boolean")))
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, SchemaError> {
        self.get(key).map(|v| v.as_str().ok_or_else(|| self.bad(key, "a string"))).transpose()
    }

    fn list(&self, key: &str) -> Result<&'a [Value], SchemaError> {
        self.get(key).map_or(Ok(&[][..]), |v| v.as_array().map(Vec::as_slice).ok_or_else(|| self.bad(key, "a list")))
    }

    fn ids(&self, key: &str) -> Result<Vec<NodeId>, SchemaError> {
        self.list(key)?
            .iter()
            .map(|v| v.as_u64().and_then(|n| NodeId::try_from(n).ok()).ok_or_else(|| self.bad(key, "a list of member ids")))
            .collect()
    }
}

/// A key fingerprint as JSON: 16 hex digits, `null` for none (0).
pub fn fingerprint(k: u64) -> Value {
    if k == 0 {
        Value::Null
    } else {
        json!(format!("{k:016x}"))
    }
}

fn fingerprint_from(v: Option<&Value>, what: &str) -> Result<u64, SchemaError> {
    match v {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(h)) => u64::from_str_radix(h, 16).map_err(|_| SchemaError(format!("{what}: {h:?} is not a key fingerprint"))),
        Some(other) => Err(SchemaError(format!("{what}: {other} is not a key fingerprint"))),
    }
}

/// The `keys` section of a status, and the configured key's fingerprint.
fn keys_from_json(v: Option<&Value>) -> Result<(crate::status::KeyStatus, u64), SchemaError> {
    let Some(v) = v else { return Ok(Default::default()) };
    let accepting = match v.get("accepting") {
        Some(Value::Array(a)) => a.iter().map(|k| fingerprint_from(Some(k), "keys.accepting")).collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let keys = crate::status::KeyStatus {
        sending: fingerprint_from(v.get("sending"), "keys.sending")?,
        committed: fingerprint_from(v.get("committed"), "keys.committed")?,
        accepting,
    };
    Ok((keys, fingerprint_from(v.get("configured"), "keys.configured")?))
}

fn params_from_json(v: Option<&Value>, what: &'static str) -> Result<Params, SchemaError> {
    let Some(v) = v else { return Ok(Params::default()) };
    let f = Fields::of(v, what)?;
    // Names this reader does not know are a newer member's parameters: skipped.
    let changes: Vec<(Param, u64)> = Param::ALL
        .iter()
        .filter_map(|&p| f.get(p.name()).map(|x| (p, x)))
        .map(|(p, x)| Ok((p, x.as_u64().ok_or_else(|| f.bad(p.name(), "a number"))?)))
        .collect::<Result<_, SchemaError>>()?;
    Params::default().with_changes(&changes).map_err(|e| SchemaError(format!("{what}: {e}")))
}

fn limits_from_json(v: Option<&Value>) -> Result<crate::params::LocalLimits, SchemaError> {
    let mut limits = crate::params::LocalLimits::default();
    let Some(v) = v else { return Ok(limits) };
    let f = Fields::of(v, "limits")?;
    for &p in &Param::ALL {
        if let Some(x) = f.get(p.name()) {
            limits.set(p, x.as_u64().ok_or_else(|| f.bad(p.name(), "a number"))?);
        }
    }
    Ok(limits)
}

fn phase_from(name: Option<&str>) -> Result<Phase, SchemaError> {
    let all = [Phase::NoQuorum, Phase::Idle, Phase::WaitingAcks, Phase::WaitingLocal, Phase::ViewChange, Phase::Left];
    let name = name.unwrap_or("idle");
    all.into_iter().find(|p| p.as_str() == name).ok_or_else(|| SchemaError(format!("unknown phase {name:?}")))
}

fn waiting_from(v: &Value) -> Result<Waiting, SchemaError> {
    let f = Fields::of(v, "waiting")?;
    let name = || f.str("name").map(|n| n.unwrap_or_default().to_string());
    Ok(match f.str("kind")?.unwrap_or_default() {
        "acks" => Waiting::Acks(f.ids("members")?),
        "new-view" => Waiting::NewView(f.ids("members")?.first().copied().unwrap_or_default()),
        "lock" => Waiting::Local(Resource::Lock(name()?)),
        "job" => Waiting::Local(Resource::Job(name()?)),
        "host" => Waiting::Local(Resource::Host),
        "veto" => Waiting::Local(Resource::Veto),
        "key" => Waiting::Local(Resource::Key),
        other => return Err(SchemaError(format!("unknown waiting kind {other:?}"))),
    })
}

fn proposal_from(f: &Fields<'_>) -> Result<ProposalId, SchemaError> {
    match f.list("proposal")? {
        [node, txid] => match (node.as_u64().and_then(|n| NodeId::try_from(n).ok()), txid.as_u64()) {
            (Some(node), Some(txid)) => Ok(ProposalId { node, txid }),
            _ => Err(f.bad("proposal", "[node, txid]")),
        },
        _ => Err(f.bad("proposal", "[node, txid]")),
    }
}

/// Reads a status written by [`status_to_json`] of this or another schema-1
/// library: unknown fields are ignored, missing ones taken as empty, and
/// parameter sets are validated.
///
/// # Errors
/// [`SchemaError`] for another schema version, a field of the wrong type, an
/// unknown phase or waiting kind, or invalid parameters.
pub fn status_from_json(v: &Value) -> Result<Status, SchemaError> {
    let f = Fields::of(v, "status")?;
    let version = f.u64("schema")?;
    if version != SCHEMA_VERSION {
        return Err(SchemaError(format!("schema {version}; this reader knows schema {SCHEMA_VERSION}")));
    }
    let at = Time(f.u64("at_us")?);
    let before = |us: u64| Time(at.0.saturating_sub(us));
    let node: NodeId = f.small("node")?;
    let inc = f.u64("incarnation")?;
    let (keys, configured_key) = keys_from_json(f.get("keys"))?;
    let view = match f.get("view") {
        Some(v) => {
            let g = Fields::of(v, "view")?;
            ViewId { epoch: g.u64("epoch")?, leader: g.small("leader")? }
        }
        None => ViewId::default(),
    };
    let peers = f
        .list("peers")?
        .iter()
        .map(|p| {
            let g = Fields::of(p, "peer")?;
            Ok(PeerStatus {
                id: g.small("id")?,
                inc: g.u64("incarnation")?,
                last_ack_round: g.u64("last_ack_round")?,
                last_heard: g.opt_u64("last_heard_us_ago")?.map(before),
                queued: g.u64("queued")?,
                in_flight: g.u64("in_flight")?,
            })
        })
        .collect::<Result<Vec<_>, SchemaError>>()?;
    // Members by id; their incarnations are the peers' (and this member's own).
    let members = f
        .ids("members")?
        .into_iter()
        .map(|id| Member { id, inc: if id == node { inc } else { peers.iter().find(|p| p.id == id).map_or(0, |p| p.inc) } })
        .collect();
    let protocol = f
        .get("protocol")
        .map(|p| {
            let g = Fields::of(p, "protocol")?;
            Ok(ProtocolInfo {
                seq: g.u64("seq")?,
                pid: proposal_from(&g)?,
                kind: g.str("kind")?.unwrap_or_default().to_string(),
                rounds: g.small("rounds")?,
                round_index: g.small("round_index")?,
                started: before(g.u64("running_for_us")?),
            })
        })
        .transpose()?;
    let links = f
        .list("links")?
        .iter()
        .map(|l| {
            let g = Fields::of(l, "link")?;
            Ok(LinkStatus {
                peer: g.small("peer")?,
                outgoing: g.bool("outgoing")?,
                misses: g.small("misses")?,
                interval_ms: g.u64("interval_ms")?,
                switch_over_pending: g.bool("switch_over_pending")?,
            })
        })
        .collect::<Result<Vec<_>, SchemaError>>()?;
    let damped = f
        .list("damped")?
        .iter()
        .map(|d| {
            let g = Fields::of(d, "damped member")?;
            Ok(DampedStatus {
                id: g.small("id")?,
                inc: g.u64("incarnation")?,
                exclusions: g.small("exclusions")?,
                until: Time(at.0.saturating_add(g.u64("remaining_us")?)),
            })
        })
        .collect::<Result<Vec<_>, SchemaError>>()?;
    let refused = f
        .get("refused")
        .map(|r| {
            let g = Fields::of(r, "refusal")?;
            let nodes = g.list("nodes")?.iter().map(|n| n.as_u64().and_then(|n| NodeId::try_from(n).ok()));
            Ok(Refusal {
                by: g.small("by")?,
                generation: g.u64("generation")?,
                nodes: nodes.collect::<Option<Vec<_>>>().ok_or_else(|| SchemaError("refusal: nodes must be node ids".into()))?,
                at: before(g.u64("us_ago")?),
            })
        })
        .transpose()?;
    let counters: Counters = match f.get("counters") {
        Some(c) => serde_json::from_value(c.clone()).map_err(|e| SchemaError(format!("counters: {e}")))?,
        None => Counters::default(),
    };
    Ok(Status {
        node,
        inc,
        at,
        view,
        members,
        quorum: f.bool("quorum")?,
        phase: phase_from(f.str("phase")?)?,
        current_round: f.u64("current_round")?,
        acked_round: f.u64("acked_round")?,
        completed: f.u64("completed")?,
        queued_protocols: f.u64("queued_protocols")?,
        protocol,
        waiting: f.get("waiting").map(waiting_from).transpose()?,
        waiting_since: f.opt_u64("waited_us")?.map(before),
        peers,
        links,
        params: params_from_json(f.get("params"), "params")?.with_key(keys.sending).with_nodes(nodes_from_json(f.get("nodes"), "nodes")?),
        configured: params_from_json(f.get("configured"), "configured")?
            .with_key(configured_key)
            .with_nodes(nodes_from_json(f.get("configured_nodes"), "configured_nodes")?),
        limits: limits_from_json(f.get("limits"))?,
        generation: f.u64("generation")?,
        keys,
        counters,
        damped,
        refused,
    })
}

/// Reads an outcome written by [`outcome_to_json`] (leniently, as
/// [`status_from_json`] reads a status).
///
/// # Errors
/// [`SchemaError`] for a field of the wrong type or an unknown status kind.
pub fn outcome_from_json(v: &Value) -> Result<Outcome, SchemaError> {
    let f = Fields::of(v, "outcome")?;
    let statuses = f
        .list("statuses")?
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([id, ack]) => {
                let id = id.as_u64().and_then(|n| NodeId::try_from(n).ok()).ok_or_else(|| f.bad("statuses", "[[member, status], ...]"))?;
                let g = Fields::of(ack, "status")?;
                let status = match g.str("kind")?.unwrap_or_default() {
                    "received" => AckStatus::Received,
                    "ok" => {
                        let bytes: Vec<u8> = g.get("payload").map_or(Ok(Vec::new()), |p| {
                            serde_json::from_value(p.clone()).map_err(|_| g.bad("payload", "a list of bytes"))
                        })?;
                        AckStatus::Ok(bytes.into())
                    }
                    "failed" => AckStatus::Failed(g.str("reason")?.unwrap_or_default().to_string()),
                    other => return Err(SchemaError(format!("unknown status kind {other:?}"))),
                };
                Ok((id, status))
            }
            _ => Err(f.bad("statuses", "[[member, status], ...]")),
        })
        .collect::<Result<Vec<_>, SchemaError>>()?;
    Ok(Outcome {
        seq: f.u64("seq")?,
        pid: proposal_from(&f)?,
        kind: f.str("kind")?.unwrap_or_default().to_string(),
        committed: f.bool("committed")?,
        generation: f.u64("generation")?,
        statuses,
        reason: f.str("reason")?.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{decode_status, encode_status};

    /// A status with every field set, as a member waiting on a lock would send.
    fn busy() -> Status {
        let params = Params::default().with_changes(&[(Param::SendWindowSize, 32)]).unwrap().with_key(0xbeef);
        Status {
            node: 2,
            inc: 77,
            at: Time(5_000_000),
            view: ViewId { epoch: 9, leader: 1 },
            members: vec![Member { id: 1, inc: 70 }, Member { id: 2, inc: 77 }, Member { id: 3, inc: 71 }],
            quorum: true,
            phase: Phase::WaitingLocal,
            current_round: 41,
            acked_round: 40,
            completed: 19,
            queued_protocols: 2,
            protocol: Some(ProtocolInfo {
                seq: 20,
                pid: ProposalId { node: 3, txid: 8 },
                kind: "app".into(),
                rounds: 2,
                round_index: 1,
                started: Time(4_900_000),
            }),
            waiting: Some(Waiting::Local(Resource::Lock("transport-config".into()))),
            waiting_since: Some(Time(4_950_000)),
            peers: vec![
                PeerStatus { id: 1, inc: 70, last_ack_round: 41, last_heard: Some(Time(4_999_000)), queued: 1, in_flight: 2 },
                PeerStatus { id: 3, inc: 71, last_ack_round: 40, last_heard: None, queued: 0, in_flight: 0 },
            ],
            links: vec![LinkStatus { peer: 3, outgoing: true, misses: 1, interval_ms: 100, switch_over_pending: true }],
            params,
            configured: Params::default().with_key(0xcafe),
            limits: {
                let mut l = crate::params::LocalLimits::default();
                l.set(Param::MaxFragmentSize, 1_200);
                l
            },
            generation: 4,
            keys: crate::status::KeyStatus { sending: 0xbeef, committed: 0xcafe, accepting: vec![0xbeef, 0xcafe] },
            counters: Counters { retransmits: 12, queries_answered: 3, ..Counters::default() },
            damped: vec![DampedStatus { id: 3, inc: 71, exclusions: 4, until: Time(7_400_000) }],
            refused: None,
        }
    }

    #[test]
    fn a_status_reply_reads_back_as_the_status_sent() {
        let s = busy();
        assert_eq!(decode_status(&encode_status(&s)).unwrap(), s);
        for waiting in [Waiting::Acks(vec![1, 3]), Waiting::NewView(1), Waiting::Local(Resource::Host), Waiting::Local(Resource::Key)] {
            let s = Status { waiting: Some(waiting), ..busy() };
            assert_eq!(decode_status(&encode_status(&s)).unwrap(), s);
        }
        let refused = Refusal { by: 1, generation: 7, nodes: vec![1, 3, 4], at: Time(4_000_000) };
        let s = Status { quorum: false, refused: Some(refused), ..busy() };
        assert_eq!(decode_status(&encode_status(&s)).unwrap(), s);
    }

    #[test]
    fn a_reader_skips_fields_a_newer_member_added_and_takes_missing_ones_as_empty() {
        let mut v = status_to_json(&busy());
        // A newer member: a field at the top, in a peer, a counter and a twelfth parameter.
        v["disk"] = json!({"free_bytes": 1_000_000, "path": "/var/lib/cgm"});
        v["peers"][0]["rtt_us"] = json!(180);
        v["counters"]["frobnications"] = json!(5);
        v["params"]["join-backoff"] = json!(250);
        let bytes = serde_json::to_vec(&v).unwrap();
        assert_eq!(decode_status(&bytes).unwrap(), busy());
        // An older member: no links, no counters, no queue figures, no damping.
        let mut old = status_to_json(&busy());
        let o = old.as_object_mut().unwrap();
        o.remove("links");
        o.remove("damped");
        o.remove("counters");
        o.remove("queued_protocols");
        let read = decode_status(&serde_json::to_vec(&old).unwrap()).unwrap();
        assert_eq!(read, Status { links: Vec::new(), counters: Counters::default(), queued_protocols: 0, damped: Vec::new(), ..busy() });
    }

    #[test]
    fn a_status_of_another_schema_or_with_bad_fields_is_refused() {
        let cases: [(&str, Value); 4] =
            [("schema", json!(2)), ("completed", json!("many")), ("phase", json!("dancing")), ("params", json!({"send-window-size": 0}))];
        for (key, bad) in cases {
            let mut v = status_to_json(&busy());
            v[key] = bad;
            let e = decode_status(&serde_json::to_vec(&v).unwrap()).unwrap_err();
            assert!(matches!(e, crate::wire::WireError::Malformed(_)), "{key}: {e:?}");
        }
        assert!(decode_status(b"\x01\x02 not json").is_err());
    }

    #[test]
    fn an_outcome_reads_back_as_written() {
        let o = Outcome {
            seq: 7,
            pid: ProposalId { node: 2, txid: 99 },
            kind: "param-change".into(),
            committed: false,
            generation: 3,
            statuses: vec![(1, AckStatus::Received), (2, AckStatus::Ok(vec![1, 2].into())), (3, AckStatus::Failed("vetoed".into()))],
            reason: Some("member 3: vetoed".into()),
        };
        assert_eq!(outcome_from_json(&outcome_to_json(&o)).unwrap(), o);
    }

    #[test]
    fn parameters_are_named_by_their_canonical_names() {
        let v = params_to_json(&Params::default());
        assert_eq!(v.as_object().unwrap().len(), Param::ALL.len());
        assert_eq!(v["heartbeat-interval"], json!(Params::default().get(Param::HeartbeatInterval)));
    }
}
