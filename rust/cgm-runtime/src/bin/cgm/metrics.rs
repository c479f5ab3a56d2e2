//! A node's figures in the Prometheus / OpenMetrics text exposition
//! (encoded by the `prometheus-client` crate): from its status (what any
//! member's status query returns) and, on the node itself, its local
//! figures (datagrams, latency histograms). `cgm status --format
//! prometheus` prints them for any member; `cgm node` serves them on
//! `/metrics` at the `[metrics] listen` address of its config (HTTP by the
//! `tiny_http` crate, bound to that address only).

use cgm_runtime::cgm_core::metrics::{Histogram, LocalMetrics, BUCKET_BOUNDS_US};
use cgm_runtime::cgm_core::{Param, Status};
use cgm_runtime::Node;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;

/// The media type of the exposition.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

/// The exposition of member `s`'s status and, when it is this node's own,
/// its local figures. Every metric is named `cgm_*` and labelled with the
/// member's id (`node`).
pub(crate) fn exposition(s: &Status, local: Option<&LocalMetrics>) -> String {
    let mut reg = Registry::with_prefix_and_labels("cgm", [(Cow::Borrowed("node"), Cow::Owned(s.node.to_string()))].into_iter());
    let gauge = |reg: &mut Registry, name: &str, help: &str, v: u64| {
        let g = Gauge::<i64>::default();
        g.set(i64::try_from(v).unwrap_or(i64::MAX));
        reg.register(name, help, g);
    };
    gauge(&mut reg, "view_members", "Members in the node's view", s.members.len() as u64);
    gauge(&mut reg, "view_epoch", "Epoch of the node's view", s.view.epoch);
    gauge(&mut reg, "quorum", "1 if the node's view holds a quorum", u64::from(s.quorum));
    gauge(&mut reg, "current_round", "The global ACK round the node works on (or starts next)", s.current_round);
    gauge(&mut reg, "acked_round", "The highest global ACK round the node ACKed", s.acked_round);
    gauge(&mut reg, "completed_seq", "The highest protocol sequence number the node completed", s.completed);
    gauge(&mut reg, "queued_protocols", "Protocols sequenced and waiting behind the current one", s.queued_protocols);
    gauge(&mut reg, "param_generation", "Generation of the parameters in force", s.generation);

    let per_peer = |reg: &mut Registry, name: &str, help: &str, f: &dyn Fn(&cgm_runtime::cgm_core::status::PeerStatus) -> f64| {
        let fam = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        for p in &s.peers {
            fam.get_or_create(&vec![("peer", p.id.to_string())]).set(f(p));
        }
        reg.register(name, help, fam);
    };
    per_peer(&mut reg, "peer_last_ack_round", "The last ACK round the node received from each peer", &|p| p.last_ack_round as f64);
    per_peer(&mut reg, "peer_ack_lag_rounds", "Rounds each peer's last ACK is behind the node's current round", &|p| s.ack_lag(p) as f64);
    per_peer(
        &mut reg,
        "peer_ack_wait_seconds",
        "How long the node has waited for each peer's ACK of the current round (0: not waiting on it)",
        &|p| s.ack_wait(p.id).map_or(0.0, |w| w.as_secs_f64()),
    );
    let missed = Family::<Labels, Gauge>::default();
    for l in &s.links {
        missed
            .get_or_create(&vec![("peer", l.peer.to_string()), ("direction", (if l.outgoing { "out" } else { "in" }).to_string())])
            .set(i64::from(l.misses));
    }
    reg.register("heartbeats_missed", "Consecutive heartbeat misses on each ring link", missed);
    let params = Family::<Labels, Gauge>::default();
    for p in Param::ALL {
        params.get_or_create(&vec![("name", p.name().to_string())]).set(i64::try_from(s.params.get(p)).unwrap_or(i64::MAX));
    }
    reg.register("param", "Parameters in force, each in its unit", params);

    let c = &s.counters;
    let counter = |reg: &mut Registry, name: &str, help: &str, v: u64| {
        let k = Counter::<u64>::default();
        k.inc_by(v);
        reg.register(name, help, k);
    };
    let dropped = Family::<Labels, Counter>::default();
    for (reason, v) in [
        ("auth", c.auth_failed),
        ("replay", c.replayed),
        ("malformed", c.malformed),
        ("version", c.version_mismatch),
        ("stale", c.stale),
        ("reassembly", c.reassembly_errors),
        ("not_member", c.refused),
    ] {
        dropped.get_or_create(&vec![("reason", reason.to_string())]).inc_by(v);
    }
    reg.register("dropped", "Datagrams dropped, by reason", dropped);
    counter(&mut reg, "retransmits", "Fragments sent again", c.retransmits);
    counter(&mut reg, "duplicates", "Duplicate fragments received", c.duplicates);
    counter(&mut reg, "backpressure", "Sends refused over the send queue threshold", c.backpressure);
    counter(&mut reg, "queries_answered", "Status queries answered", c.queries_answered);
    counter(&mut reg, "heartbeats_sent", "Heartbeats sent", c.heartbeats_sent);
    counter(&mut reg, "suspicions", "Members this node suspected", c.suspicions);
    counter(&mut reg, "views_installed", "Views installed", c.views_installed);
    counter(&mut reg, "protocols_completed", "Protocols completed, any outcome", c.protocols_completed);
    counter(&mut reg, "changes_committed", "Parameter changes committed", c.changes_committed);
    counter(&mut reg, "changes_rolled_back", "Parameter changes rolled back", c.changes_rolled_back);
    if let Some(m) = local {
        counter(&mut reg, "datagrams_received", "Datagrams the node received", m.datagrams_in);
        counter(&mut reg, "datagrams_sent", "Datagrams the node sent", m.datagrams_out);
        let versions = Family::<Labels, Gauge>::default();
        for &(peer, v) in &m.wire_versions {
            versions.get_or_create(&vec![("peer", peer.to_string())]).set(i64::from(v));
        }
        reg.register("peer_wire_version", "The wire version the node sends each member of its view in (the newest both speak)", versions);
        reg.register(
            "ack_round_seconds",
            "From the start of an ACK round on this node to every member's ACK of it",
            Snapshot(m.ack_round.clone()),
        );
        reg.register("change_seconds", "From the start of a parameter change on this node to its end here", Snapshot(m.change.clone()));
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &reg).expect("encoding into a String cannot fail");
    out
}

/// A histogram as the member holds it, for the encoder.
#[derive(Debug)]
struct Snapshot(Histogram);

impl EncodeMetric for Snapshot {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let h = &self.0;
        let buckets: Vec<(f64, u64)> =
            BUCKET_BOUNDS_US.iter().map(|&b| b as f64 / 1e6).chain(std::iter::once(f64::MAX)).zip(h.counts.iter().copied()).collect();
        encoder.encode_histogram::<()>(h.sum_us as f64 / 1e6, h.count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

/// The metrics endpoint of a running node.
pub(crate) struct Endpoint {
    server: tiny_http::Server,
}

impl Endpoint {
    /// Binds `addr`.
    ///
    /// # Errors
    /// The address and the reason, when it cannot be bound.
    pub(crate) fn bind(addr: SocketAddr) -> Result<Endpoint, String> {
        let server = tiny_http::Server::http(addr).map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
        Ok(Endpoint { server })
    }

    /// Answers requests until [`Endpoint::stop`]: `GET /metrics` with the
    /// node's exposition, anything else with 404.
    pub(crate) fn serve(&self, node: &Node) {
        for req in self.server.incoming_requests() {
            let r = if req.url() == "/metrics" && *req.method() == tiny_http::Method::Get {
                match (node.status(), node.local_metrics()) {
                    (Ok(s), Ok(m)) => tiny_http::Response::from_string(exposition(&s, Some(&m)))
                        .with_header(tiny_http::Header::from_bytes("Content-Type", CONTENT_TYPE).expect("a valid header")),
                    (Err(e), _) | (_, Err(e)) => {
                        tiny_http::Response::from_string(format!("the node does not answer: {e}\n")).with_status_code(503)
                    }
                }
            } else {
                tiny_http::Response::from_string("libcgm serves GET /metrics only\n").with_status_code(404)
            };
            if let Err(e) = req.respond(r) {
                log::debug!("metrics: cannot answer a request: {e}");
            }
        }
    }

    /// Makes [`Endpoint::serve`] return.
    pub(crate) fn stop(&self) {
        self.server.unblock();
    }
}
