//! [`Core`]: the per-node state machine, its inputs, outputs and timers.
//!
//! Poll order for a host after every input, or after several in a row (a
//! burst of datagrams read at once): if the node keeps durable state
//! (`Config::durable`), persist what [`Core::poll_persist`] hands out (until
//! then the next two give nothing); drain [`Core::poll_transmit`] and send
//! each datagram, drain [`Core::poll_event`], then arm a timer for
//! [`Core::poll_timeout`] and call [`Core::handle_timeout`] when it fires.
//! Messages are cut into datagrams when the transmits are drained, so what
//! several inputs in a row send to one peer goes in one datagram; until
//! then [`Core::poll_timeout`] says they are due.

use crate::change::Tuning;
use crate::config::Config;
use crate::durable::{Durable, Mark};
use crate::engine::{self, Engine};
use crate::error::Error;
use crate::events::{Event, WaitToken};
use crate::ids::{Incarnation, Member, NodeId, Outcome, ProposalId, ViewId};
use crate::membership::{self, Membership};
use crate::messages::{Frame, Msg};
use crate::metrics::LocalMetrics;
use crate::net::{Dest, Dropped, Net, Transmit};
use crate::operator::{Admitted, ChangeRequest, Operators};
use crate::params::{Param, Params};
use crate::query::{self, QueryCollector};
use crate::refusal::{self, Refusal};
use crate::ring::Ring;
use crate::roster::{NodeChange, Roster};
use crate::status::{PeerStatus, Phase, Status};
use crate::time::Time;
use crate::transactions::Transactions;
use crate::wire::{self, Header, WireError};
use std::collections::BTreeMap;
use std::time::Duration;

struct PendingQuery {
    member: NodeId,
    collector: QueryCollector,
    next_send: Time,
    deadline: Time,
}

/// The per-node state machine. See the module docs for the poll order.
///
/// It owns one part per concern and drives each through narrow handlers
/// that borrow only the other parts they need: [`Net`] (channels, outbox,
/// events, counters), [`Tuning`] (parameters in force, generation, staged
/// change), [`Membership`] (views and view changes), [`Engine`] (peer
/// protocols and the progress record), [`Ring`] (heartbeats and their
/// switch-over) and [`Operators`] (tools' change requests).
pub struct Core {
    cfg: Config,
    tuning: Tuning,
    net: Net,
    mem: Membership,
    eng: Engine,
    ring: Ring,
    queries: BTreeMap<u64, PendingQuery>,
    operators: Operators,
    next_req: u64,
    /// When the queues were last trimmed ([`crate::trim`]).
    trimmed: Time,
    /// The durable state the host last persisted (`None`: not yet).
    persisted: Option<Mark>,
    /// Whether this node was in the node set its host was last told: a
    /// member removed during this life leaves (see `Core::follow_node_set`).
    in_node_set: bool,
    /// When this member last answered each node it refused.
    answers: refusal::Answers,
    /// The last refusal this node got (see [`crate::refusal`]).
    refused: Option<Refusal>,
    /// Refusals that say this node was removed while away.
    evidence: refusal::Evidence,
    /// What each transaction id chosen by the host or an operator stood for.
    transactions: Transactions,
    /// Datagrams handed in and out (see [`Core::local_metrics`]).
    datagrams: (u64, u64),
    /// When messages were last queued on the channels without being cut
    /// into datagrams: they are cut at the next [`Core::poll_transmit`] (or
    /// proposal, before its backpressure check), so the messages several
    /// inputs in a row queue for one peer (a burst of datagrams read in one
    /// wake-up) leave in one datagram, not one each. Until then
    /// [`Core::poll_timeout`] says they are due.
    unflushed: Option<Time>,
    /// The newest wire version each sender speaks: the newest both speak
    /// is what it is sent in (see [`wire::MIN_WIRE_VERSION`]).
    speaks: BTreeMap<Speaker, u8>,
}

impl Core {
    /// Creates a node in a view of its own; it merges with the others as they answer.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an id of 0, an id not among `nodes`,
    /// duplicate nodes, or a joining node (`Config::joins`) that lists no
    /// other node to contact; [`Error::Param`] for invalid parameters.
    pub fn new(cfg: Config, now: Time) -> Result<Core, Error> {
        Core::build(cfg, now, None)
    }

    /// Creates a node restarted from the durable state its previous life
    /// persisted (see [`Core::poll_persist`]): the same member under a new
    /// incarnation, in a view of its own, holding the lineage, the last
    /// decided protocol and the committed parameters it had. Its first
    /// [`Core::poll_persist`] hands out the state under the new incarnation.
    ///
    /// # Errors
    /// As [`Core::new`], and [`Error::InvalidConfig`] when the state belongs
    /// to another node, `cfg.incarnation` is not above the state's, or the
    /// state's node set (the one the cluster committed, which wins over
    /// `cfg.nodes`) no longer holds this node: a node a node change removed
    /// comes back only added again, and started afresh (an empty state),
    /// like a new node.
    pub fn restore(mut cfg: Config, state: &Durable, now: Time) -> Result<Core, Error> {
        if state.node != cfg.id {
            return Err(Error::InvalidConfig(format!("the state belongs to node {}, not node {}", state.node, cfg.id)));
        }
        if cfg.incarnation <= state.incarnation {
            return Err(Error::InvalidConfig(format!(
                "incarnation {} is not above {}, the incarnation that wrote the state",
                cfg.incarnation, state.incarnation
            )));
        }
        state.params.validate()?;
        state.told.1.validate()?;
        let nodes = state.told.1.nodes();
        if !nodes.is_empty() && !nodes.contains(cfg.id) {
            return Err(Error::InvalidConfig(format!(
                "node {} was removed from the cluster's node set (generation {}, nodes {nodes}): to bring it back, add it again \
                 (cgm nodes add) and start it with an empty state directory",
                cfg.id, state.told.0
            )));
        }
        cfg.durable = true;
        Core::build(cfg, now, Some(state))
    }

    fn build(cfg: Config, now: Time, state: Option<&Durable>) -> Result<Core, Error> {
        if cfg.id == 0 {
            return Err(Error::InvalidConfig("node id 0 is reserved for operator tools".into()));
        }
        let mut nodes = cfg.nodes.clone();
        nodes.sort_unstable();
        nodes.dedup();
        if nodes.len() != cfg.nodes.len() {
            return Err(Error::InvalidConfig("a node id is listed twice".into()));
        }
        if !nodes.contains(&cfg.id) {
            return Err(Error::InvalidConfig(format!("node {} is not among the configured nodes", cfg.id)));
        }
        if nodes.contains(&0) {
            return Err(Error::InvalidConfig("node id 0 is reserved for operator tools".into()));
        }
        if cfg.joins && nodes.len() == 1 && state.is_none() {
            return Err(Error::InvalidConfig(format!(
                "node {} joins a cluster that exists, but lists no member to contact: list one or two besides itself",
                cfg.id
            )));
        }
        cfg.params.validate()?;
        let me = cfg.me();
        let mut cfg = cfg;
        cfg.nodes = nodes;
        let roster = Roster::new(cfg.nodes.iter().map(|&id| (id, cfg.addresses.get(&id).cloned().unwrap_or_default())))
            .map_err(Error::InvalidConfig)?;
        cfg.params = cfg.params.with_nodes(roster);
        let mut tuning = Tuning::new(cfg.params.clone());
        if let Some(d) = state.filter(|d| !d.told.1.nodes().is_empty()) {
            // Not `take`: a rotation's new key loaded before the crash stays
            // accepted until a view decides the rotation.
            (tuning.params, tuning.generation) = (d.told.1.clone(), d.told.0);
            tuning.keys = d.keys.iter().cloned().collect();
        }
        let quorum = !cfg.quorum || tuning.params.nodes().len() == 1;
        let peers = tuning.params.nodes().len().saturating_sub(1);
        let mut core = Core {
            tuning,
            net: Net::new(cfg.id, peers),
            mem: if cfg.durable { Membership::restore(me, quorum, now, state) } else { Membership::new(me, quorum, now) },
            eng: state.map(Engine::restore).unwrap_or_default(),
            ring: Ring::default(),
            queries: BTreeMap::new(),
            operators: Operators::default(),
            next_req: 1,
            trimmed: now,
            persisted: None,
            in_node_set: false,
            answers: refusal::Answers::default(),
            refused: None,
            evidence: refusal::Evidence::default(),
            transactions: Transactions::default(),
            datagrams: (0, 0),
            unflushed: None,
            speaks: BTreeMap::new(),
            cfg,
        };
        core.mem.joins = core.cfg.joins;
        core.ring.reset(&core.mem.view.members, me, &core.tuning.params, core.tuning.generation, now);
        core.eng.told_values = Some((core.tuning.generation, core.tuning.params.clone()));
        // A node started to join is in the set once told a set that holds
        // it: one told the set of before its addition, by a view change
        // while the change that adds it runs, is not removed.
        core.in_node_set = !core.cfg.joins && core.tuning.params.nodes().contains(core.cfg.id);
        #[cfg(feature = "flaws")]
        {
            core.eng.keep_incoming = core.cfg.flawed("stale-proposals");
            core.ring.at_once = core.cfg.flawed("no-heartbeat-switch-over");
        }
        Ok(core)
    }

    // ----- getters -------------------------------------------------------

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.cfg.id
    }

    /// This node's incarnation.
    pub fn incarnation(&self) -> Incarnation {
        self.cfg.incarnation
    }

    /// This node as a member.
    pub fn me(&self) -> Member {
        self.cfg.me()
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The cluster keys this member sends and accepts datagrams under, by
    /// fingerprint. The host seals every datagram under `sending` and opens
    /// those under any of `accepting`; a key that leaves `accepting` may
    /// still have datagrams on their way, so the host should accept it a
    /// little longer (the runtime: a second).
    pub fn keys(&self) -> crate::status::KeyStatus {
        crate::status::KeyStatus {
            sending: self.tuning.params.key(),
            committed: self.tuning.committed().key(),
            accepting: self.tuning.accepting(&self.eng.retired),
        }
    }

    /// A number that changes whenever [`Core::keys`] does (cheap to compare
    /// after every input).
    pub fn keys_mark(&self) -> (u64, u64, u64, u64) {
        let retired = self.eng.retired.last().copied().unwrap_or(0);
        (self.tuning.params.key(), self.tuning.committed().key(), self.tuning.keys_version, retired)
    }

    /// The host found, in its key directory, the key of fingerprint
    /// `fingerprint` (file `path`) that this member lacks: one that opens
    /// datagrams of configured nodes it could not open (the cluster rotated
    /// to it while this member was away), or the key its values name. It is
    /// accepted from now on (and kept in the durable state) until a view
    /// hands this member the lineage's key; then, if it is not that key, it
    /// is dropped.
    ///
    /// # Errors
    /// [`Error::InvalidProtocol`] for fingerprint 0 or a retired key.
    pub fn adopt_key(&mut self, fingerprint: u64, path: &str) -> Result<(), Error> {
        if fingerprint == 0 {
            return Err(Error::InvalidProtocol("a key fingerprint is never 0".into()));
        }
        if self.is_retired(fingerprint) {
            return Err(Error::InvalidProtocol(format!("the key {fingerprint:016x} was retired: it is never taken again")));
        }
        log::warn!("node {}: adopted the key {fingerprint:016x} of {path}: members send under it", self.cfg.id);
        self.tuning.load_key(fingerprint, path);
        Ok(())
    }

    /// Whether a host may look for a key it lacks to open a datagram of
    /// configured node `from` it cannot open (see [`Core::adopt_key`]): this
    /// member is outside the group (in a view without quorum, or alone), or
    /// `from` has been silent for `silent`, longer than failure detection
    /// takes ([`Core::silence`]: this member's view went stale while the
    /// others rotated). A member in its group, hearing `from`, never does:
    /// a key file lying around is then never a way in.
    pub fn may_look_for_key(&self, silent: Duration) -> bool {
        self.outside() || silent >= self.silence()
    }

    /// Whether this member is outside the group: in a view without quorum,
    /// or alone.
    pub fn outside(&self) -> bool {
        !self.mem.view.quorum || self.mem.view.members.len() == 1
    }

    /// How long a member unheard is a member gone: the heartbeat timeout
    /// times its failure threshold, at the values in force.
    pub fn silence(&self) -> Duration {
        let p = &self.tuning.params;
        p.duration(Param::HeartbeatTimeout) * p.get(Param::HeartbeatFailureThreshold) as u32
    }

    /// Whether the cluster rotated away from the key of fingerprint
    /// `fingerprint`, as this member saw it: a retired key is never taken
    /// again (see [`Core::adopt_key`]).
    pub fn is_retired(&self, fingerprint: u64) -> bool {
        self.eng.retired.contains(&fingerprint)
    }

    /// The path of the file this member loaded the key of fingerprint
    /// `fingerprint` from, for a key rotation.
    pub fn key_file(&self, fingerprint: u64) -> Option<&str> {
        self.tuning.keys.get(&fingerprint).map(String::as_str)
    }

    /// Effective parameters.
    pub fn params(&self) -> &Params {
        &self.tuning.params
    }

    /// Parameter generation (grows with every committed change).
    pub fn generation(&self) -> u64 {
        self.tuning.generation
    }

    /// Whether the values this node holds are the cluster's, as a host
    /// restarted from its state was told them: not for a joining node not
    /// yet let in, whose values at generation 0 are its own file's (its
    /// addition is a committed change, so the cluster's values that hold it
    /// are of a later generation).
    pub fn holds_cluster_values(&self) -> bool {
        !(self.cfg.joins && self.tuning.generation == 0)
    }

    /// Current view id.
    pub fn view_id(&self) -> ViewId {
        self.mem.view.id
    }

    /// Current view members, sorted by id.
    pub fn members(&self) -> &[Member] {
        &self.mem.view.members
    }

    /// Whether the current view holds a quorum.
    pub fn has_quorum(&self) -> bool {
        self.mem.view.quorum
    }

    /// Highest protocol sequence completed here.
    pub fn completed(&self) -> u64 {
        self.eng.completed
    }

    /// Whether this member is in a view with quorum, not in a view change, and
    /// has no protocol running, queued or decided and not yet reported (cheap;
    /// no status is built).
    pub fn is_idle(&self) -> bool {
        !self.net.left
            && self.mem.view.quorum
            && self.mem.fenced_by().is_none()
            && self.eng.running.is_none()
            && self.eng.pending.is_empty()
            && self.eng.incoming.is_empty()
            && self.eng.unreported.is_empty()
    }

    /// Sequence number of the protocol this member is processing, if any.
    pub fn current_protocol(&self) -> Option<u64> {
        self.eng.running.as_ref().map(|r| r.entry.seq)
    }

    /// Counts a datagram the host dropped before it reached the core
    /// (authentication failure, replay, other envelope version).
    pub fn note_dropped(&mut self, why: Dropped) {
        match why {
            Dropped::Forged => self.net.counters.auth_failed += 1,
            Dropped::Replayed => self.net.counters.replayed += 1,
            Dropped::Version => self.net.counters.version_mismatch += 1,
            Dropped::Malformed => self.net.counters.malformed += 1,
        }
    }

    /// The outcome of a proposal, if this member reported it among its last
    /// 4,096 outcomes. Only the last 16 keep every member's status; an older
    /// one has an empty `statuses` (its verdict is whole), so a large group's
    /// history costs little per member.
    pub fn outcome(&self, pid: ProposalId) -> Option<&Outcome> {
        self.eng.outcome(pid)
    }

    /// Whether the node has left and everything it sent was acknowledged.
    pub fn is_flushed(&self) -> bool {
        self.net.left && self.net.is_idle()
    }

    /// The wire version this member sends `to` in: the newest both speak,
    /// the oldest this build speaks until it has heard from it.
    fn wire_version_for(&self, to: Speaker) -> u8 {
        if self.cfg.flawed("newest-wire-always") {
            return wire::WIRE_VERSION;
        }
        self.speaks.get(&to).map_or(wire::MIN_WIRE_VERSION, |&v| v.clamp(wire::MIN_WIRE_VERSION, wire::WIRE_VERSION))
    }

    /// This member's own figures for monitoring: datagrams in and out, ACK
    /// round and parameter change latencies (see [`crate::metrics`]).
    pub fn local_metrics(&self) -> LocalMetrics {
        LocalMetrics {
            datagrams_in: self.datagrams.0,
            datagrams_out: self.datagrams.1,
            ack_round: self.eng.ack_rounds.clone(),
            change: self.eng.changes.clone(),
            wire_versions: self
                .mem
                .view
                .members
                .iter()
                .filter(|m| m.id != self.cfg.id)
                .map(|m| (m.id, self.wire_version_for(Speaker::Node(m.id))))
                .collect(),
        }
    }

    /// Replaces this node's local limits (`[limits]`): changes proposed
    /// from now on are checked against them (a change already past its
    /// first round keeps the verdict it had).
    pub fn set_limits(&mut self, limits: crate::params::LocalLimits) {
        self.cfg.limits = limits;
    }

    /// The status snapshot of this member, built from its local record in O(members).
    pub fn status(&self, now: Time) -> Status {
        let (phase, waiting, since) = if self.net.left {
            (Phase::Left, None, None)
        } else if let Some(l) = self.mem.fenced_by() {
            (Phase::ViewChange, Some(crate::status::Waiting::NewView(l)), Some(self.mem.fenced_since))
        } else if !self.mem.view.quorum {
            (Phase::NoQuorum, None, None)
        } else {
            self.eng.phase(&self.mem.view, self.cfg.id)
        };
        // The view, the channels and the progress record are all in id
        // order: one walk of each instead of two lookups per member.
        let mut channels = self.net.peers.iter().peekable();
        let mut records = self.eng.progress.peers().peekable();
        let peers = self
            .mem
            .view
            .members
            .iter()
            .filter(|m| m.id != self.cfg.id)
            .map(|m| {
                let p = crate::ids::seek(&mut channels, m.id);
                let progress = crate::ids::seek(&mut records, m.id).copied().unwrap_or_default();
                PeerStatus {
                    id: m.id,
                    inc: m.inc,
                    last_ack_round: progress.ack_round,
                    last_heard: progress.last_heard,
                    queued: p.map_or(0, |p| p.channel.queued() as u64),
                    in_flight: p.map_or(0, |p| p.channel.in_flight() as u64),
                }
            })
            .collect();
        let mut counters = self.net.counters;
        for p in self.net.peers.values() {
            counters.retransmits += p.channel.stats.retransmits;
            counters.duplicates += p.channel.stats.duplicates;
            counters.reassembly_errors += p.channel.stats.reassembly_errors;
        }
        Status {
            node: self.cfg.id,
            inc: self.cfg.incarnation,
            at: now,
            view: self.mem.view.id,
            members: self.mem.view.members.clone(),
            quorum: self.mem.view.quorum,
            phase,
            current_round: self.eng.current_round(),
            acked_round: self.eng.progress.mine,
            completed: self.eng.completed,
            queued_protocols: (self.eng.pending.len() + self.eng.incoming.len()) as u64,
            protocol: self.eng.protocol_info(),
            waiting,
            waiting_since: since,
            peers,
            links: self.ring.links(),
            params: self.tuning.params.clone(),
            configured: self.cfg.params.clone(),
            limits: self.cfg.limits.clone(),
            generation: self.tuning.generation,
            keys: self.keys(),
            counters,
            // Only a view with quorum holds anyone out.
            damped: if self.mem.view.quorum { self.mem.damping.status(now) } else { Vec::new() },
            refused: self.refused.clone().filter(|_| !self.mem.view.quorum),
        }
    }

    // ----- commands ------------------------------------------------------

    /// Proposes an application-defined protocol; returns its proposal id.
    ///
    /// # Errors
    /// [`Error::InvalidProtocol`] for 0 rounds or a payload larger than
    /// [`crate::ids::MAX_PAYLOAD`]; see [`Core::propose`].
    pub fn propose_app(&mut self, now: Time, txid: Option<u64>, app: crate::ids::AppProtocol) -> Result<ProposalId, Error> {
        self.propose(now, txid, crate::ids::ProtocolBody::App(app))
    }

    /// Proposes application protocols in order, each as
    /// [`Core::propose_app`] does, and sends what they need in one go: the
    /// member's progress runs and its channels flush once for all of them,
    /// not once per protocol. One result per protocol, in order.
    pub fn propose_apps(&mut self, now: Time, apps: Vec<crate::ids::AppProtocol>) -> Vec<Result<ProposalId, Error>> {
        let threshold = self.tuning.params.get(Param::SendQueueOverflowThreshold) as usize;
        let coordinator = self.mem.view.coordinator().filter(|&c| c != self.cfg.id);
        let mut results = Vec::with_capacity(apps.len());
        for app in apps {
            // What the send window takes leaves the queue: flushed then, as
            // proposing them one by one would, the burst meets backpressure
            // where they would have, not at the queue threshold.
            if coordinator.is_some_and(|c| self.net.queued(c) >= threshold) {
                self.net.flush(&self.tuning.params, now);
            }
            results.push(self.submit(now, None, crate::ids::ProtocolBody::App(app)));
        }
        self.pump(now);
        results
    }

    /// Proposes a transactional parameter change (one or several parameters, atomic).
    ///
    /// # Errors
    /// [`Error::Param`] if the values fail static validation against the current
    /// parameters (nothing is sent); see [`Core::propose`].
    pub fn propose_change(&mut self, now: Time, txid: Option<u64>, changes: &[(Param, u64)]) -> Result<ProposalId, Error> {
        self.tuning.params.with_changes(changes)?;
        self.propose(now, txid, crate::ids::ProtocolBody::Change(changes.to_vec()))
    }

    /// Proposes a key rotation to the key of fingerprint `rotation.fingerprint`,
    /// which every member loads from `rotation.path` (the host answers the
    /// [`crate::Resource::Key`] wait of round 1).
    ///
    /// # Errors
    /// [`Error::InvalidProtocol`] for fingerprint 0, an empty or relative
    /// path, the key already in force or a retired one; see [`Core::propose`].
    pub fn propose_key_rotation(&mut self, now: Time, txid: Option<u64>, rotation: crate::ids::KeyRotation) -> Result<ProposalId, Error> {
        // A retry of a known transaction gets its outcome, not a refusal
        // (once committed, the key is the one in force).
        if !self.is_retry(txid) {
            check_rotation(&rotation, self.tuning.params.key(), &self.eng.retired)?;
        }
        self.propose(now, txid, crate::ids::ProtocolBody::RotateKey(rotation))
    }

    /// Proposes a node change: the nodes of `change.add` join the cluster's
    /// node set ([`Params::nodes`]) and those of `change.remove` leave it,
    /// in one transaction of two ACK rounds, committed everywhere or undone
    /// everywhere. A removed member leaves the group once its host is told
    /// the outcome; an added node is let in when it asks to join.
    ///
    /// # Errors
    /// [`Error::InvalidNodeChange`] when the change does not fit the node
    /// set in force (see [`Roster::with_change`]) or removes a majority of
    /// the view at once (see [`NodeChange::keeps_majority_of`]); see
    /// [`Core::propose`].
    pub fn propose_node_change(&mut self, now: Time, txid: Option<u64>, change: NodeChange) -> Result<ProposalId, Error> {
        // A retry of a known transaction gets its outcome, not a refusal
        // (once committed, the nodes it adds are in the set).
        if !self.is_retry(txid) {
            self.tuning.params.nodes().with_change(&change).map_err(Error::InvalidNodeChange)?;
            if !self.cfg.flawed("newest-set-only") {
                change.keeps_majority_of(&self.mem.view.ids().collect::<Vec<_>>()).map_err(Error::InvalidNodeChange)?;
            }
        }
        self.propose(now, txid, crate::ids::ProtocolBody::Nodes(change))
    }

    /// Whether node `id` is one this member talks to: a node of the node set
    /// in force, committed or told to its host, or a member of a view this member is in,
    /// accepted or gathers (a removed member until the view without it);
    /// any node while this member is in no view with quorum: a new node
    /// (whose file may list only a node or two to contact) or one that fell
    /// behind node changes learns the cluster's node set when it joins, and
    /// meanwhile decides nothing. A datagram from any other node is refused.
    fn knows(&self, id: NodeId) -> bool {
        self.tuning.params.nodes().contains(id)
            || self.tuning.committed().nodes().contains(id)
            || self.eng.told_values.as_ref().is_some_and(|(_, told)| told.nodes().contains(id) && !self.cfg.flawed("trust-one-refusal"))
            || self.mem.involves(id)
            || !self.mem.view.quorum
    }

    /// Follows the node set the host was last told: this member, removed
    /// from it during this life (or found removed by a view change it led
    /// after being away), leaves the group ([`Event::Removed`]), and
    /// the others install the view without it. (They do not exclude it
    /// themselves: told of the change before it, they would cut it off
    /// from the marks it waits for to be told too.) Told values are final:
    /// every member of the view decided the change.
    fn follow_node_set(&mut self, now: Time) {
        if let Some(generation) = self.mem.removed_at.take() {
            self.net.events.push_back(Event::Removed { generation });
            self.leave(now);
            return;
        }
        let Some((generation, told)) = &self.eng.told_values else { return };
        // A joining node's own file (generation 0) is not the cluster's
        // set: it was added by a node change, so it is in a set of a later
        // generation.
        let (generation, member) = (*generation, told.nodes().contains(self.cfg.id) && (!self.cfg.joins || *generation > 0));
        if told.nodes().is_empty() || self.net.left {
            return;
        }
        if std::mem::replace(&mut self.in_node_set, member) && !member {
            log::warn!("node {}: removed from the cluster's node set at generation {generation}; leaving the group", self.cfg.id);
            self.net.events.push_back(Event::Removed { generation });
            self.leave(now);
        }
    }

    /// Whether `txid` names a proposal of this node already known here.
    fn is_retry(&self, txid: Option<u64>) -> bool {
        txid.map(|txid| ProposalId { node: self.cfg.id, txid }).is_some_and(|pid| self.eng.is_known(pid) || self.eng.outcome(pid).is_some())
    }

    /// Proposes a peer protocol. The coordinator sequences it; every member runs it
    /// in the same order; its [`Event::Completed`] carries the same outcome on every
    /// member. Proposing an id already known is idempotent: the same id comes back.
    ///
    /// # Errors
    /// [`Error::InvalidProtocol`] when `txid` was proposed here with another
    /// body (see [`crate::transactions`]), or an application payload (with
    /// its lock or job name) larger than [`crate::ids::MAX_PAYLOAD`]; [`Error::Left`], [`Error::NoQuorum`], or [`Error::Backpressure`] when the queue
    /// to the coordinator is full. Nothing is sent on error.
    pub fn propose(&mut self, now: Time, txid: Option<u64>, body: crate::ids::ProtocolBody) -> Result<ProposalId, Error> {
        let pid = self.submit(now, txid, body)?;
        self.pump(now);
        Ok(pid)
    }

    /// [`Core::propose`] without sending: checks the proposal and hands it
    /// to the engine; the caller pumps.
    fn submit(&mut self, now: Time, txid: Option<u64>, body: crate::ids::ProtocolBody) -> Result<ProposalId, Error> {
        if self.net.left {
            return Err(Error::Left);
        }
        if !self.mem.view.quorum {
            return Err(Error::NoQuorum { members: self.mem.view.members.len(), configured: self.tuning.params.nodes().len() });
        }
        if let crate::ids::ProtocolBody::App(app) = &body {
            if app.rounds == 0 {
                return Err(Error::InvalidProtocol("an application protocol needs at least 1 round".into()));
            }
            if app.carried_len() > crate::ids::MAX_PAYLOAD {
                return Err(Error::InvalidProtocol(format!(
                    "a payload of {} bytes (with its lock or job name) is larger than the largest a protocol carries ({} bytes)",
                    app.carried_len(),
                    crate::ids::MAX_PAYLOAD
                )));
            }
        }
        if let Some(t) = txid {
            self.transactions.check(t, &body)?;
        }
        let pid = ProposalId { node: self.cfg.id, txid: txid.unwrap_or_else(|| self.eng.next_txid(self.cfg.incarnation)) };
        if self.eng.is_known(pid) {
            return Ok(pid);
        }
        // Recorded once submitted: a refused proposal ran nothing, and its
        // id stays free.
        let chosen = txid.map(|t| (t, body.clone()));
        // What earlier inputs queued enters the send window first, as it
        // would have had the host drained in between: proposals made one
        // after another meet backpressure where they would have one by one.
        self.cut_datagrams();
        self.with_engine(|e, cx| e.submit(cx, pid, body, now))?;
        if let Some((t, body)) = chosen {
            self.transactions.record(t, &body);
        }
        Ok(pid)
    }

    /// Completes a local wait announced by [`Event::LocalWait`]: `Ok(status)` when
    /// the resource was acquired (the bytes travel in this member's ACK), `Err(reason)`
    /// when it failed (a veto, a job that could not start).
    ///
    /// # Errors
    /// [`Error::UnknownToken`] if no such wait is pending (already completed or
    /// cancelled by a view change).
    pub fn complete_wait(&mut self, now: Time, token: WaitToken, result: Result<Vec<u8>, String>) -> Result<(), Error> {
        self.with_engine(|e, cx| e.complete_local_wait(cx, token, result, now))?;
        self.pump(now);
        Ok(())
    }

    /// Asks `member` for its status; the answer arrives as [`Event::StatusReply`]
    /// (or [`Event::StatusQueryFailed`]). Asking oneself answers at once.
    ///
    /// # Errors
    /// [`Error::UnknownMember`] if `member` is not configured.
    pub fn query_status(&mut self, now: Time, member: NodeId) -> Result<u64, Error> {
        if !self.knows(member) {
            return Err(Error::UnknownMember(member));
        }
        let req = self.next_req;
        self.next_req += 1;
        if member == self.cfg.id {
            self.net.events.push_back(Event::StatusReply { req, status: Box::new(self.status(now)) });
            return Ok(req);
        }
        self.queries.insert(
            req,
            PendingQuery {
                member,
                collector: QueryCollector::new(req),
                next_send: now + self.tuning.params.duration(Param::MessageRetryTimer),
                deadline: now + self.tuning.params.duration(Param::MaxMessageRetryTime),
            },
        );
        let inc = self.net.peers.get(&member).map_or(0, |p| p.inc);
        self.net.outbox.push_back((Dest::Node(member), inc, Frame::StatusQuery { req }));
        Ok(req)
    }

    /// Leaves the group gracefully: the other members install a view without this
    /// node. Keep driving the core until [`Core::is_flushed`] (or a timeout).
    pub fn leave(&mut self, now: Time) {
        if self.net.left {
            return;
        }
        let view = self.mem.view.id;
        for m in self.mem.view.members.clone() {
            if m.id != self.cfg.id {
                let _ = self.net.send_msg(&self.tuning.params, m.id, &Msg::Leave { view }, true);
            }
        }
        self.net.left = true;
        self.with_engine(|e, cx| e.cancel_wait(cx));
        self.net.flush(&self.tuning.params, now);
    }

    // ----- inputs --------------------------------------------------------

    /// Takes in one datagram. `source` is an opaque token naming where it came
    /// from; answers to operator tools go back to [`Dest::Source`] with it.
    /// Malformed, stale or foreign datagrams are dropped and counted.
    pub fn handle_datagram(&mut self, now: Time, source: u64, bytes: &[u8]) {
        self.datagrams.0 += 1;
        let (h, frame) = match wire::decode_frame(bytes) {
            Ok(x) => x,
            Err(e @ WireError::Version(_)) => {
                self.net.counters.version_mismatch += 1;
                log::warn!("node {}: dropped a datagram: {e}", self.cfg.id);
                return;
            }
            Err(_) => {
                self.net.counters.malformed += 1;
                return;
            }
        };
        if let Some(v) = wire::sender_speaks(bytes) {
            // A node by its id (what it is sent to by), a tool by the
            // host's token for where it wrote from (what it is answered at).
            let sender = if h.from == 0 { Speaker::Source(source) } else { Speaker::Node(h.from) };
            if self.speaks.get(&sender) != Some(&v) {
                if self.speaks.len() >= MAX_SPEAKERS {
                    // Tools come and go: forget them all (each is answered
                    // in the oldest version until it is heard again).
                    self.speaks.clear();
                }
                self.speaks.insert(sender, v);
            }
        }
        match frame {
            Frame::StatusQuery { req } if h.to == self.cfg.id => return self.answer_query(source, h, req, now),
            Frame::ChallengeRequest { req } if h.to == self.cfg.id => {
                return self.operators.on_challenge_request(&mut self.net, Dest::Source(source), h.from_inc, req, now)
            }
            Frame::ChangeRequest { req, txid, nonce, body } if h.to == self.cfg.id => {
                let (dest, from_inc, to_inc) = (Dest::Source(source), h.from_inc, h.to_inc);
                let r = ChangeRequest { dest, from_inc, to_inc, req, txid, nonce, body };
                return self.on_change_request(r, now);
            }
            // Answers go back to where the refused datagram came from, so
            // the header names no receiver: the frame names the node.
            Frame::NotMember { node, generation, nodes } if node == self.cfg.id && h.from != self.cfg.id => {
                return self.on_refused(h.from, h.to_inc, generation, nodes, now)
            }
            Frame::StatusQuery { .. } | Frame::ChangeRequest { .. } | Frame::ChallengeRequest { .. } | Frame::NotMember { .. } => {
                self.net.counters.stale += 1;
                return;
            }
            _ => {}
        }
        if h.to != self.cfg.id || h.from == self.cfg.id {
            self.net.counters.stale += 1;
            return;
        }
        if !self.knows(h.from) {
            return self.refuse(source, h, now);
        }
        if !self.learn_incarnation(h.from, h.from_inc) {
            self.net.counters.stale += 1;
            return;
        }
        if self.net.left {
            if let Frame::Data { ack, .. } | Frame::Ack(ack) = frame {
                if let Some(p) = self.net.peers.get_mut(&h.from) {
                    p.channel.on_ack(ack);
                }
                self.net.mark_dirty(h.from);
            }
            self.net.flush(&self.tuning.params, now);
            return;
        }
        self.eng.progress.heard(h.from, now);
        match frame {
            Frame::Data { session, seq, ack, chunk } => {
                if h.to_inc != self.cfg.incarnation {
                    self.net.counters.stale += 1;
                    return;
                }
                let mut msgs = Vec::new();
                if let Some(p) = self.net.peers.get_mut(&h.from) {
                    p.channel.on_ack(ack);
                    p.channel.on_data(now, session, seq, chunk, |m| msgs.push(m));
                }
                self.net.mark_dirty(h.from);
                for m in msgs {
                    match wire::decode_msg(&m) {
                        Ok(msg) => self.on_msg(Member { id: h.from, inc: h.from_inc }, msg, now),
                        Err(_) => self.net.counters.malformed += 1,
                    }
                }
            }
            Frame::Ack(ack) => {
                if h.to_inc != self.cfg.incarnation {
                    self.net.counters.stale += 1;
                    return;
                }
                if let Some(p) = self.net.peers.get_mut(&h.from) {
                    p.channel.on_ack(ack);
                }
                self.net.mark_dirty(h.from);
            }
            Frame::Heartbeat { counter, in_force, change, .. } => {
                self.ring.on_heartbeat(&mut self.net, &self.tuning, &self.mem.view, h, counter, in_force, change, now)
            }
            Frame::HeartbeatAck { counter, change } => self.ring.on_heartbeat_ack(h.from, counter, change, now),
            Frame::Join { view, members } => {
                let sender = Member { id: h.from, inc: h.from_inc };
                self.membership(|m, cx| m.on_join(cx, sender, view, members, now))
            }
            Frame::StatusReply { req, .. } => {
                if let Some(q) = self.queries.get_mut(&req) {
                    if q.member == h.from {
                        match q.collector.accept(frame) {
                            Some(Ok(status)) => {
                                self.queries.remove(&req);
                                self.net.events.push_back(Event::StatusReply { req, status: Box::new(status) });
                            }
                            // Parts of two answers (a retried query's first
                            // answer arriving late, a status that changed
                            // between them) do not decode: the query stays
                            // pending, and its retry fetches a whole answer.
                            Some(Err(_)) => self.net.counters.malformed += 1,
                            None => {}
                        }
                    }
                }
            }
            Frame::StatusQuery { .. } | Frame::ChangeRequest { .. } | Frame::ChallengeRequest { .. } | Frame::NotMember { .. } => {
                unreachable!("handled above")
            }
            Frame::ChangeReply { .. } | Frame::Challenge { .. } => self.net.counters.stale += 1,
        }
        self.pump(now);
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        for m in self.net.on_timeout(&self.tuning.params, now) {
            // One at a time: suspecting one may install a view, and the next
            // is cut in the view then current.
            self.net.give_up(m, self.mem.view.id);
            if !self.net.left {
                self.suspect(m, "messages unacknowledged for max-message-retry-time", now);
            }
        }
        let due: Vec<u64> = self.queries.iter().filter(|(_, q)| q.next_send <= now).map(|(&r, _)| r).collect();
        for req in due {
            let q = self.queries.get_mut(&req).expect("listed above");
            if q.deadline <= now {
                let member = q.member;
                self.queries.remove(&req);
                self.net.events.push_back(Event::StatusQueryFailed { req, member });
            } else {
                q.next_send = now + self.tuning.params.duration(Param::MessageRetryTimer);
                let member = q.member;
                self.net.push_frame(member, Frame::StatusQuery { req });
            }
        }
        if !self.net.left {
            if let Some((m, why)) = self.ring.timeout(&mut self.net, &self.tuning.params, self.mem.view.id, now) {
                self.suspect(m, why, now);
            }
            self.membership(|mem, cx| mem.on_timeout(cx, now));
            self.with_engine(|e, cx| e.on_timeout(cx, now));
        }
        self.pump(now);
        if now >= self.trimmed + crate::trim::TRIM_EVERY {
            self.trimmed = now;
            self.net.trim();
            self.eng.trim();
        }
    }

    // ----- outputs -------------------------------------------------------

    /// The durable state to persist before anything else is handed out, when
    /// it changed since the last call (always once at first, for a node with
    /// `Config::durable`; never without). Until it is taken,
    /// [`Core::poll_transmit`] and [`Core::poll_event`] give nothing: a
    /// promise, an acceptance or a decision is on stable storage before any
    /// message or host event that depends on it leaves the core. The host
    /// must make it durable (written and synced, so that a crash leaves it
    /// or the previous state whole) before draining them; if it cannot, it
    /// must stop the node.
    #[must_use]
    pub fn poll_persist(&mut self) -> Option<Durable> {
        let mark = self.mark()?;
        if self.persisted.as_ref() == Some(&mark) {
            return None;
        }
        self.persisted = Some(mark);
        let mut d = Durable {
            node: self.cfg.id,
            incarnation: self.cfg.incarnation,
            promised: ViewId::default(),
            primary: ViewId::default(),
            primary_members: Vec::new(),
            accepted: Vec::new(),
            completed: 0,
            last_outcome: None,
            next_round: 0,
            params: self.tuning.committed().clone(),
            generation: self.tuning.generation,
            told: (self.tuning.generation, self.tuning.committed().clone()),
            reported_generation: 0,
            fates: Vec::new(),
            keys: self.tuning.keys.iter().map(|(k, p)| (*k, p.clone())).collect(),
            retired: Vec::new(),
        };
        self.mem.save(&mut d);
        self.eng.save(&mut d);
        Some(d)
    }

    /// What the durable state is now, for a node that keeps one.
    fn mark(&self) -> Option<Mark> {
        if !self.cfg.durable {
            return None;
        }
        let (promised, primary, accepted) = self.mem.mark();
        Some(Mark {
            promised,
            primary,
            accepted,
            completed: self.eng.completed,
            params: self.tuning.committed().clone(),
            generation: self.tuning.generation,
            told: self.eng.told_values.clone(),
            reported_generation: self.eng.reported_generation,
            keys: self.tuning.keys_version,
        })
    }

    /// Whether the durable state changed since the host last took it: then
    /// nothing may leave the core.
    fn unpersisted(&self) -> bool {
        if self.cfg.flawed("send-before-persist") {
            return false;
        }
        self.cfg.durable && self.persisted != self.mark()
    }

    /// The next datagram to send, if any (none while the durable state waits
    /// to be persisted, see [`Core::poll_persist`]).
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.unpersisted() {
            return None;
        }
        self.cut_datagrams();
        let (dest, to_inc, frame) = self.net.outbox.pop_front()?;
        let to = match dest {
            Dest::Node(id) => id,
            Dest::Source(_) => 0,
        };
        let h = Header { from: self.cfg.id, from_inc: self.cfg.incarnation, to, to_inc };
        let mut bytes = Vec::new();
        let to = match dest {
            Dest::Node(id) => Speaker::Node(id),
            Dest::Source(s) => Speaker::Source(s),
        };
        wire::encode_frame_at(&h, &frame, self.wire_version_for(to), &mut bytes);
        self.datagrams.1 += 1;
        Some(Transmit { dest, bytes })
    }

    /// The earliest time [`Core::handle_timeout`] must be called, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        let mut t = self.net.timers.next(&crate::net::limits(&self.tuning.params));
        let mut add = |d: Option<Time>| {
            if let Some(d) = d {
                t = Some(t.map_or(d, |t: Time| t.min(d)));
            }
        };
        add(self.queries.values().map(|q| q.next_send).min());
        // Messages not cut into datagrams yet are due at once (their
        // retransmission and delayed-acknowledgement deadlines count once
        // they are): a host that polls its timeout before its transmits
        // still sends them. Not while the state waits to be persisted:
        // nothing leaves before that.
        if !self.unpersisted() {
            add(self.unflushed);
        }
        if !self.net.left {
            add(self.ring.next_deadline());
            add(self.mem.next_deadline());
            add(self.eng.next_deadline());
            add(self.eng.relay_deadline(&self.cfg, &self.tuning.params));
        }
        t
    }

    /// The next event, if any (none while the durable state waits to be
    /// persisted, see [`Core::poll_persist`]).
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        if self.unpersisted() {
            return None;
        }
        self.net.events.pop_front()
    }

    // ----- shared plumbing -----------------------------------------------

    /// Runs `f` on the engine with the parts its handlers borrow.
    fn with_engine<R>(&mut self, f: impl FnOnce(&mut Engine, &mut engine::Cx<'_>) -> R) -> R {
        let fenced = self.mem.fenced_by().is_some();
        let mut cx =
            engine::Cx { cfg: &self.cfg, net: &mut self.net, view: &self.mem.view, fenced, tuning: &mut self.tuning, ring: &mut self.ring };
        f(&mut self.eng, &mut cx)
    }

    /// Runs `f` on membership with the parts its handlers borrow.
    fn membership(&mut self, f: impl FnOnce(&mut Membership, &mut membership::Cx<'_>)) {
        let mut cx =
            membership::Cx { cfg: &self.cfg, net: &mut self.net, eng: &mut self.eng, ring: &mut self.ring, tuning: &mut self.tuning };
        f(&mut self.mem, &mut cx);
    }

    /// This member suspects `m` failed (see `Membership::suspect`).
    fn suspect(&mut self, m: Member, reason: &str, now: Time) {
        self.membership(|mem, cx| mem.suspect(cx, m, reason, now));
    }

    /// Returns false if the datagram comes from an older incarnation than known.
    fn learn_incarnation(&mut self, id: NodeId, inc: Incarnation) -> bool {
        match self.net.peers.get(&id) {
            Some(p) if inc < p.inc => return false,
            Some(p) if inc == p.inc => {}
            _ => self.replace_peer(id, inc),
        }
        true
    }

    /// Refuses a datagram from node `h.from`, outside the node set (see
    /// [`crate::refusal`]), and tells the node why now and then, with the
    /// values this member's host was told: a set it decided and may see
    /// undone is no reason for a node to leave.
    fn refuse(&mut self, source: u64, h: Header, now: Time) {
        self.net.counters.refused += 1;
        let Some((mut generation, told)) = self.eng.told_values.clone() else { return };
        if self.net.left || !self.answers.due(h.from, now) {
            return;
        }
        let mut nodes = told.nodes().clone();
        if self.cfg.flawed("trust-one-refusal") {
            (generation, nodes) = (self.tuning.generation, self.tuning.committed().nodes().clone());
        }
        log::debug!("node {}: refused node {}: not in the node set {nodes}", self.cfg.id, h.from);
        let frame = Frame::NotMember { node: h.from, generation, nodes: nodes.ids().collect() };
        self.net.outbox.push_back((Dest::Source(source), h.from_inc, frame));
    }

    /// Member `by` refused this incarnation of this node: it is outside the
    /// node set `by` was told at `generation`. Only a node in no view with
    /// quorum takes notice (a member of one is in its own set, and the
    /// refusal is stale). The refusal shows in the status and log. When
    /// this node was in the cluster (it holds a lineage, in a node set it
    /// was told) and members from a majority of the newest set, of a later
    /// generation than its own, refused it, the cluster removed it while it
    /// was away: it leaves, as a member told of its removal does. A node
    /// never added (a new node's file listing it, without `join`) is not
    /// removed: it was never in a lineage, and waits to be added.
    fn on_refused(&mut self, by: NodeId, to_inc: Incarnation, generation: u64, nodes: Vec<NodeId>, now: Time) {
        if self.mem.view.quorum || self.net.left || to_inc != self.cfg.incarnation || nodes.contains(&self.cfg.id) {
            self.net.counters.stale += 1;
            return;
        }
        let told = self.eng.told_values.as_ref().map_or(0, |(g, _)| *g);
        let removed = if self.in_node_set && self.mem.has_lineage() && generation > told {
            self.evidence.removed_at(by, generation, nodes.clone()).or(self.cfg.flawed("trust-one-refusal").then_some(generation))
        } else {
            None
        };
        if let Some(generation) = removed {
            log::warn!(
                "node {}: members of the cluster refuse it (member {by}: node set {nodes:?}): the cluster removed this node from its node set (generation {generation}) while it was away; leaving the group",
                self.cfg.id
            );
            self.refused = Some(Refusal { by, generation, nodes, at: now });
            self.net.events.push_back(Event::Removed { generation });
            self.leave(now);
            return;
        }
        let changed = self.refused.as_ref().is_none_or(|r| (r.by, r.generation) != (by, generation));
        if changed {
            log::warn!(
                "node {}: member {by} refuses it: this node is not in the cluster's node set {nodes:?} (generation {generation}); add it from a member with `cgm nodes add {} ADDR`",
                self.cfg.id,
                self.cfg.id
            );
        }
        self.refused = Some(Refusal { by, generation, nodes, at: now });
    }

    fn answer_query(&mut self, source: u64, h: Header, req: u64, now: Time) {
        self.net.counters.queries_answered += 1;
        let status = self.status(now);
        let chunk = (self.tuning.params.get(Param::MaxFragmentSize) - crate::params::FRAME_OVERHEAD) as usize;
        let dest = if h.from != 0 && self.knows(h.from) { Dest::Node(h.from) } else { Dest::Source(source) };
        for f in query::reply_frames(&status, req, chunk) {
            self.net.outbox.push_back((dest, h.from_inc, f));
        }
    }

    fn on_msg(&mut self, sender: Member, msg: Msg, now: Time) {
        let from = sender.id;
        match msg {
            // The view change.
            Msg::Suspect { view, member } => self.membership(|m, cx| m.on_suspect_msg(cx, from, view, member, now)),
            Msg::Leave { view } => self.membership(|m, cx| m.on_leave_msg(cx, from, view, now)),
            Msg::Prepare { vid } => self.membership(|m, cx| m.on_prepare(cx, sender, vid, now)),
            Msg::PrepareAck { vid, report } => self.membership(|m, cx| m.on_prepare_ack(cx, sender, vid, *report, now)),
            Msg::NewView(nv) => self.membership(|m, cx| m.on_new_view(cx, sender, *nv, now)),
            Msg::Accepted { vid } => self.membership(|m, cx| m.on_accepted(cx, from, vid, now)),
            Msg::Install { vid } => self.membership(|m, cx| m.on_install(cx, sender, vid, now)),
            Msg::PrepareRefused { vid, promised } => self.membership(|m, cx| m.on_prepare_refused(cx, sender, vid, promised, now)),
            // The peer protocols: a decision stands on its own; the rest
            // belong to a view, and membership holds them until it is installed.
            Msg::Decided(_) => self.with_engine(|e, cx| e.on_msg(cx, sender, msg, now)),
            Msg::Propose { .. } | Msg::Sequenced { .. } | Msg::Ack { .. } | Msg::Done { .. } | Msg::Acks { .. } => {
                self.membership(|m, cx| m.deliver(cx, sender, msg, now))
            }
        }
    }

    /// Cuts what the channels hold into datagrams, if inputs since the last
    /// time queued any (see the field `unflushed`).
    fn cut_datagrams(&mut self) {
        if let Some(now) = self.unflushed.take() {
            self.net.flush(&self.tuning.params, now);
        }
    }

    /// Runs whatever can progress; its channel output is cut into datagrams
    /// at the next [`Core::poll_transmit`].
    fn pump(&mut self, now: Time) {
        if !self.net.left {
            self.with_engine(|e, cx| {
                e.progress(cx, now);
                e.report_stable(cx);
                e.send_marks(cx, now);
                e.relay_acks(cx, now);
            });
            self.follow_node_set(now);
        }
        if self.mem.view.quorum {
            // In: a refusal of before is no news once the node is out again.
            self.refused = None;
            self.evidence.clear();
        }
        self.operators.answer(&mut self.net, &self.eng, now);
        self.unflushed = Some(now);
    }

    /// A tool's change request: run under its transaction id once admitted.
    fn on_change_request(&mut self, r: ChangeRequest, now: Time) {
        if let Err(e) = self.transactions.check(r.txid, &r.body) {
            crate::operator::refuse(&mut self.net, &r, e.to_string());
            return;
        }
        let Some(admitted) = self.operators.admit(&mut self.net, self.cfg.me(), &self.eng, &r, now) else { return };
        if admitted == Admitted::Propose {
            // Refused before it ran (invalid values, no quorum): the
            // challenge stays free, so the tool's retry can run it.
            let proposed = match &r.body {
                crate::ids::ProtocolBody::Change(changes) => self.propose_change(now, Some(r.txid), changes),
                crate::ids::ProtocolBody::RotateKey(k) => self.propose_key_rotation(now, Some(r.txid), k.clone()),
                crate::ids::ProtocolBody::Nodes(c) => self.propose_node_change(now, Some(r.txid), c.clone()),
                crate::ids::ProtocolBody::App(_) => {
                    Err(Error::InvalidProtocol("operator tools run parameter changes, key rotations and node changes only".into()))
                }
            };
            if let Err(e) = proposed {
                crate::operator::refuse(&mut self.net, &r, e.to_string());
                return;
            }
        }
        self.operators.wait(&mut self.net, self.cfg.id, &self.eng, &r, now);
    }

    /// Starts afresh with `id` at incarnation `inc` (a restarted node: its old
    /// incarnation's channel state is void).
    fn replace_peer(&mut self, id: NodeId, inc: Incarnation) {
        self.net.replace_peer(id, inc);
        self.eng.progress.track(id);
    }
}

/// Senders whose wire versions a member remembers at most (nodes and tools).
const MAX_SPEAKERS: usize = 4_096;

/// Who a member heard a wire version from, as it sends to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Speaker {
    /// A node, by id (sent to as [`Dest::Node`]).
    Node(NodeId),
    /// A tool (or a node outside the set), by the host's token for where
    /// it wrote from (answered as [`Dest::Source`]).
    Source(u64),
}

/// The key a host seals a datagram to one peer under, link by link: the key
/// the peer was last heard under, if it was heard within `silence` and the
/// key is among `accepting` (this member's core accepts it); else the key
/// in force, but for a member `outside` its group ([`Core::outside`]),
/// which tries the keys it accepts in turn, the key in force first, one per
/// `attempt`: a group that rotated while it was away, or a member that
/// missed the group's rotation, holds one of them and hears the next probe
/// under it. (A member in its group never does: a rotation's new key is
/// accepted before its peers load it.)
pub fn link_key(in_force: u64, accepting: &[u64], heard: Option<(u64, Duration)>, silence: Duration, outside: bool, attempt: u64) -> u64 {
    if let Some((k, silent)) = heard {
        if silent < silence && accepting.contains(&k) {
            return k;
        }
    }
    if !outside {
        return in_force;
    }
    match (attempt % (accepting.len() as u64 + 1)) as usize {
        0 => in_force,
        i => accepting[i - 1],
    }
}

/// Checks a key rotation before it is proposed, against the key in force.
///
/// # Errors
/// [`Error::InvalidProtocol`] saying what is wrong.
fn check_rotation(r: &crate::ids::KeyRotation, in_force: u64, retired: &[u64]) -> Result<(), Error> {
    if in_force == 0 {
        return Err(Error::InvalidProtocol("this cluster runs without a key (insecure): there is no key to rotate".into()));
    }
    if r.fingerprint == 0 {
        return Err(Error::InvalidProtocol("a key rotation needs the new key's fingerprint".into()));
    }
    if !r.path.starts_with('/') {
        return Err(Error::InvalidProtocol(format!("the new key file must be an absolute path, the same on every node: {:?}", r.path)));
    }
    if r.fingerprint == in_force {
        return Err(Error::InvalidProtocol(format!("the key {:016x} is already the cluster's key", r.fingerprint)));
    }
    if retired.contains(&r.fingerprint) {
        return Err(Error::InvalidProtocol(format!(
            "the key {:016x} was the cluster's key before: a retired key is never taken again (make a new one: cgm keygen)",
            r.fingerprint
        )));
    }
    Ok(())
}
