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

use crate::ids::{AckStatus, NodeId, Outcome, ProposalId, ViewId};
use crate::params::{Param, Params};
use crate::status::Status;
use crate::status_doc::{fingerprint_hex, nodes_doc, ParamsDoc, StatusDoc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub use crate::status_doc::{SchemaError, SCHEMA_VERSION};

/// A parameter set: `{canonical-name: value}` for all eleven, in their units
/// (milliseconds, bytes, counts, percent).
pub fn params_to_json(p: &Params) -> Value {
    serde_json::to_value(ParamsDoc::of(p)).expect("parameter values serialise")
}

/// A node set: `[{"id": 1, "address": "10.0.0.1:7000"}, ...]` by id.
pub fn nodes_to_json(r: &crate::Roster) -> Value {
    serde_json::to_value(nodes_doc(r)).expect("a node set serialises")
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
    serde_json::to_value(StatusDoc::of(s)).expect("a status serialises")
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

    fn bool(&self, key: &str) -> Result<bool, SchemaError> {
        self.get(key).map_or(Ok(false), |v| v.as_bool().ok_or_else(|| self.bad(key, "a boolean")))
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, SchemaError> {
        self.get(key).map(|v| v.as_str().ok_or_else(|| self.bad(key, "a string"))).transpose()
    }

    fn list(&self, key: &str) -> Result<&'a [Value], SchemaError> {
        self.get(key).map_or(Ok(&[][..]), |v| v.as_array().map(Vec::as_slice).ok_or_else(|| self.bad(key, "a list")))
    }
}

/// A key fingerprint as JSON: 16 hex digits, `null` for none (0).
pub fn fingerprint(k: u64) -> Value {
    fingerprint_hex(k).map_or(Value::Null, Value::String)
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
    StatusDoc::deserialize(v).map_err(|e| SchemaError(e.to_string()))?.status()
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
    use crate::ids::{Member, Resource};
    use crate::refusal::Refusal;
    use crate::status::{Counters, DampedStatus, LinkStatus, PeerStatus, Phase, ProtocolInfo, Waiting};
    use crate::time::Time;
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
