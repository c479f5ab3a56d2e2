//! [`Core`]: the per-node state machine, its inputs, outputs and timers.
//!
//! Poll order for a host after every input: drain [`Core::poll_transmit`] and
//! send each datagram, drain [`Core::poll_event`], then arm a timer for
//! [`Core::poll_timeout`] and call [`Core::handle_timeout`] when it fires.

use crate::engine::Engine;
use crate::error::Error;
use crate::membership::Membership;
use crate::params::{LocalLimits, Param, Params};
use crate::query::{self, QueryCollector};
use crate::reliable::{Channel, Limits, TimerKey};
use crate::ring::Ring;
use crate::status::{Counters, PeerStatus, Phase, Status};
use crate::time::Time;
use crate::timers::ChannelTimers;
use crate::ids::{Incarnation, Member, NodeId, Outcome, ProposalId, Resource, ViewId};
use crate::messages::{Frame, Msg};
use crate::wire::{self, Header, WireError};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// A node's static configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// This node's id (non-zero; 0 is reserved for operator tools).
    pub id: NodeId,
    /// This start's incarnation: must grow across restarts (a start time in µs works).
    pub incarnation: Incarnation,
    /// Every configured node id, this one included.
    pub nodes: Vec<NodeId>,
    /// Whether a view needs a majority of the configured nodes to run protocols.
    pub quorum: bool,
    /// Initial parameters.
    pub params: Params,
    /// This node's local limits: a change beyond them fails its local apply.
    pub limits: LocalLimits,
    /// Whether the host answers a veto hook for every parameter change.
    pub veto_hook: bool,
    /// How long a veto decision may take before it counts as a veto.
    pub veto_timeout: Duration,
    /// A deliberately broken rule, for the simulator's must-fail runs.
    #[cfg(feature = "flaws")]
    pub flaw: Option<crate::flaws::Flaw>,
}

impl Config {
    /// A configuration with default parameters, quorum on and no veto hook.
    pub fn new(id: NodeId, incarnation: Incarnation, nodes: Vec<NodeId>) -> Config {
        Config {
            id,
            incarnation,
            nodes,
            quorum: true,
            params: Params::default(),
            limits: LocalLimits::default(),
            veto_hook: false,
            veto_timeout: Duration::from_secs(5),
            #[cfg(feature = "flaws")]
            flaw: None,
        }
    }
}

/// Where a datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A configured node.
    Node(NodeId),
    /// Back to the source token a datagram came from (answers to operator tools).
    Source(u64),
}

/// One datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub dest: Dest,
    /// Bytes to send as one datagram.
    pub bytes: Vec<u8>,
}

/// Why the host dropped a datagram before the core saw it (see [`Core::note_dropped`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Authentication failed: wrong key, forged or corrupted.
    Forged,
    /// A replayed datagram.
    Replayed,
    /// An envelope of another version.
    Version,
    /// Not a datagram of this protocol at all.
    Malformed,
}

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
        /// Its members' ids.
        members: Vec<NodeId>,
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

/// What the core knows about one peer incarnation.
#[derive(Debug, Default)]
pub(crate) struct Peer {
    pub inc: Incarnation,
    pub channel: Channel,
    /// The view in which the channel to this peer gave up. Giving up drops
    /// what was unacknowledged, so the peer's stream of that view has a gap:
    /// no later message of that view may follow it (an ACK for round r stands
    /// for every round up to r, and would cover a lost one), and the link
    /// stays silent until a new view.
    pub cut_in: Option<ViewId>,
    /// The channel's timer key as [`ChannelTimers`] holds it.
    pub timer_key: TimerKey,
}

struct PendingQuery {
    member: NodeId,
    collector: QueryCollector,
    next_send: Time,
    deadline: Time,
}

/// The per-node state machine. See the module docs for the poll order.
pub struct Core {
    pub(crate) cfg: Config,
    pub(crate) params: Params,
    pub(crate) generation: u64,
    pub(crate) peers: BTreeMap<NodeId, Peer>,
    /// The peers' channel deadlines, by time.
    timers: ChannelTimers,
    pub(crate) mem: Membership,
    pub(crate) eng: Engine,
    pub(crate) ring: Ring,
    pub(crate) counters: Counters,
    pub(crate) events: VecDeque<Event>,
    outbox: VecDeque<(Dest, Incarnation, Frame)>,
    /// Peers whose channel has new output or timers for the next flush.
    dirty: BTreeSet<NodeId>,
    queries: BTreeMap<u64, PendingQuery>,
    pub(crate) operators: crate::operator::Operators,
    next_req: u64,
    pub(crate) left: bool,
    scratch: Vec<u8>,
}

impl Core {
    /// Creates a node in a view of its own; it merges with the others as they answer.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an id of 0, an id not among `nodes`, or duplicate
    /// nodes; [`Error::Param`] for invalid parameters.
    pub fn new(cfg: Config, now: Time) -> Result<Core, Error> {
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
        cfg.params.validate()?;
        let me = Member { id: cfg.id, inc: cfg.incarnation };
        let mut cfg = cfg;
        cfg.nodes = nodes;
        let quorum = !cfg.quorum || cfg.nodes.len() == 1;
        let mut core = Core {
            params: cfg.params,
            generation: 0,
            peers: BTreeMap::new(),
            timers: ChannelTimers::default(),
            mem: Membership::new(me, quorum, now),
            eng: Engine::default(),
            ring: Ring::default(),
            counters: Counters::default(),
            events: VecDeque::new(),
            outbox: VecDeque::new(),
            dirty: BTreeSet::new(),
            queries: BTreeMap::new(),
            operators: crate::operator::Operators::default(),
            next_req: 1,
            left: false,
            scratch: Vec::new(),
            cfg,
        };
        core.ring.reset(&core.mem.view.members, me, &core.params, 0, now);
        core.eng.told_values = Some((0, core.params));
        #[cfg(feature = "flaws")]
        {
            core.eng.keep_incoming = core.flawed("stale-proposals");
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
        Member { id: self.cfg.id, inc: self.cfg.incarnation }
    }

    /// Whether this core runs with the deliberately broken rule `name` (see
    /// `flaws.rs`); always false without the `flaws` feature.
    #[allow(unused_variables)]
    pub(crate) fn flawed(&self, name: &str) -> bool {
        #[cfg(feature = "flaws")]
        return self.cfg.flaw.is_some_and(|f| f.name() == name);
        #[cfg(not(feature = "flaws"))]
        false
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Effective parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Parameter generation (grows with every committed change).
    pub fn generation(&self) -> u64 {
        self.generation
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
        !self.left
            && self.mem.view.quorum
            && self.mem.fenced_by().is_none()
            && self.eng.running.is_none()
            && self.eng.pending.is_empty()
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
            Dropped::Forged => self.counters.auth_failed += 1,
            Dropped::Replayed => self.counters.replayed += 1,
            Dropped::Version => self.counters.version_mismatch += 1,
            Dropped::Malformed => self.counters.malformed += 1,
        }
    }

    /// The outcome of a proposal, if this member completed it recently.
    pub fn outcome(&self, pid: ProposalId) -> Option<&Outcome> {
        self.eng.outcome(pid)
    }

    /// Whether the node has left and everything it sent was acknowledged.
    pub fn is_flushed(&self) -> bool {
        self.left && self.peers.values().all(|p| p.channel.is_idle())
    }

    /// The status snapshot of this member, built from its local record in O(members).
    pub fn status(&self, now: Time) -> Status {
        let (phase, waiting, since) = if self.left {
            (Phase::Left, None, None)
        } else if let Some(l) = self.mem.fenced_by() {
            (Phase::ViewChange, Some(crate::status::Waiting::NewView(l)), Some(self.mem.fenced_since))
        } else if !self.mem.view.quorum {
            (Phase::NoQuorum, None, None)
        } else {
            self.engine_phase()
        };
        let peers = self
            .mem
            .view
            .members
            .iter()
            .filter(|m| m.id != self.cfg.id)
            .map(|m| {
                let p = self.peers.get(&m.id);
                PeerStatus {
                    id: m.id,
                    inc: m.inc,
                    last_ack_round: self.eng.progress.peer(m.id).ack_round,
                    last_heard: self.eng.progress.peer(m.id).last_heard,
                    queued: p.map_or(0, |p| p.channel.queued() as u64),
                    in_flight: p.map_or(0, |p| p.channel.in_flight() as u64),
                }
            })
            .collect();
        let mut counters = self.counters;
        for p in self.peers.values() {
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
            queued_protocols: self.eng.pending.len() as u64,
            protocol: self.eng.protocol_info(),
            waiting,
            waiting_since: since,
            peers,
            links: self.ring.links(),
            params: self.params,
            configured: self.cfg.params,
            generation: self.generation,
            counters,
        }
    }

    // ----- commands ------------------------------------------------------

    /// Proposes an application-defined protocol; returns its proposal id.
    ///
    /// # Errors
    /// [`Error::InvalidProtocol`] for 0 rounds; see [`Core::propose`].
    pub fn propose_app(&mut self, now: Time, txid: Option<u64>, app: crate::ids::AppProtocol) -> Result<ProposalId, Error> {
        if app.rounds == 0 {
            return Err(Error::InvalidProtocol("an application protocol needs at least 1 round".into()));
        }
        self.propose(now, txid, crate::ids::ProtocolBody::App(app))
    }

    /// Proposes a transactional parameter change (one or several parameters, atomic).
    ///
    /// # Errors
    /// [`Error::Param`] if the values fail static validation against the current
    /// parameters (nothing is sent); see [`Core::propose`].
    pub fn propose_change(&mut self, now: Time, txid: Option<u64>, changes: &[(Param, u64)]) -> Result<ProposalId, Error> {
        self.params.with_changes(changes)?;
        self.propose(now, txid, crate::ids::ProtocolBody::Change(changes.to_vec()))
    }

    /// Proposes a peer protocol. The coordinator sequences it; every member runs it
    /// in the same order; its [`Event::Completed`] carries the same outcome on every
    /// member. Proposing an id already known is idempotent: the same id comes back.
    ///
    /// # Errors
    /// [`Error::Left`], [`Error::NoQuorum`], or [`Error::Backpressure`] when the queue
    /// to the coordinator is full. Nothing is sent on error.
    pub fn propose(&mut self, now: Time, txid: Option<u64>, body: crate::ids::ProtocolBody) -> Result<ProposalId, Error> {
        if self.left {
            return Err(Error::Left);
        }
        if !self.mem.view.quorum {
            return Err(Error::NoQuorum { members: self.mem.view.members.len(), configured: self.cfg.nodes.len() });
        }
        let pid = ProposalId { node: self.cfg.id, txid: txid.unwrap_or_else(|| self.eng.next_txid(self.cfg.incarnation)) };
        if self.eng.is_known(pid) {
            return Ok(pid);
        }
        self.submit(pid, body, now)?;
        self.pump(now);
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
        self.complete_local_wait(token, result, now)?;
        self.pump(now);
        Ok(())
    }

    /// Asks `member` for its status; the answer arrives as [`Event::StatusReply`]
    /// (or [`Event::StatusQueryFailed`]). Asking oneself answers at once.
    ///
    /// # Errors
    /// [`Error::UnknownMember`] if `member` is not configured.
    pub fn query_status(&mut self, now: Time, member: NodeId) -> Result<u64, Error> {
        if !self.cfg.nodes.contains(&member) {
            return Err(Error::UnknownMember(member));
        }
        let req = self.next_req;
        self.next_req += 1;
        if member == self.cfg.id {
            self.events.push_back(Event::StatusReply { req, status: Box::new(self.status(now)) });
            return Ok(req);
        }
        self.queries.insert(
            req,
            PendingQuery {
                member,
                collector: QueryCollector::new(req),
                next_send: now + self.params.duration(Param::MessageRetryTimer),
                deadline: now + self.params.duration(Param::MaxMessageRetryTime),
            },
        );
        let inc = self.peers.get(&member).map_or(0, |p| p.inc);
        self.outbox.push_back((Dest::Node(member), inc, Frame::StatusQuery { req }));
        Ok(req)
    }

    /// Leaves the group gracefully: the other members install a view without this
    /// node. Keep driving the core until [`Core::is_flushed`] (or a timeout).
    pub fn leave(&mut self, now: Time) {
        if self.left {
            return;
        }
        let view = self.mem.view.id;
        for m in self.mem.view.members.clone() {
            if m.id != self.cfg.id {
                let _ = self.send_msg(m.id, &Msg::Leave { view }, true);
            }
        }
        self.left = true;
        self.cancel_wait();
        self.flush(now);
    }

    // ----- inputs --------------------------------------------------------

    /// Takes in one datagram. `source` is an opaque token naming where it came
    /// from; answers to operator tools go back to [`Dest::Source`] with it.
    /// Malformed, stale or foreign datagrams are dropped and counted.
    pub fn handle_datagram(&mut self, now: Time, source: u64, bytes: &[u8]) {
        let (h, frame) = match wire::decode_frame(bytes) {
            Ok(x) => x,
            Err(WireError::Version(v)) => {
                self.counters.version_mismatch += 1;
                log::warn!("node {}: dropped a datagram of wire version {v} (this build speaks {})", self.cfg.id, wire::WIRE_VERSION);
                return;
            }
            Err(_) => {
                self.counters.malformed += 1;
                return;
            }
        };
        match frame {
            Frame::StatusQuery { req } if h.to == self.cfg.id => return self.answer_query(source, h, req, now),
            Frame::ChallengeRequest { req } if h.to == self.cfg.id => {
                return self.on_challenge_request(Dest::Source(source), h.from_inc, req, now)
            }
            Frame::ChangeRequest { req, txid, nonce, changes } if h.to == self.cfg.id => {
                let (dest, from_inc, to_inc) = (Dest::Source(source), h.from_inc, h.to_inc);
                let r = crate::operator::ChangeRequest { dest, from_inc, to_inc, req, txid, nonce, changes };
                return self.on_change_request(r, now);
            }
            Frame::StatusQuery { .. } | Frame::ChangeRequest { .. } | Frame::ChallengeRequest { .. } => {
                self.counters.stale += 1;
                return;
            }
            _ => {}
        }
        if h.to != self.cfg.id || !self.cfg.nodes.contains(&h.from) || h.from == self.cfg.id {
            self.counters.stale += 1;
            return;
        }
        if !self.learn_incarnation(h.from, h.from_inc) {
            self.counters.stale += 1;
            return;
        }
        if self.left {
            if let Frame::Data { ack, .. } | Frame::Ack(ack) = frame {
                if let Some(p) = self.peers.get_mut(&h.from) {
                    p.channel.on_ack(ack);
                }
                self.mark_dirty(h.from);
            }
            self.flush(now);
            return;
        }
        self.eng.progress.heard(h.from, now);
        match frame {
            Frame::Data { session, seq, ack, chunk } => {
                if h.to_inc != self.cfg.incarnation {
                    self.counters.stale += 1;
                    return;
                }
                let mut msgs = Vec::new();
                if let Some(p) = self.peers.get_mut(&h.from) {
                    p.channel.on_ack(ack);
                    p.channel.on_data(now, session, seq, chunk, |m| msgs.push(m));
                }
                self.mark_dirty(h.from);
                for m in msgs {
                    match wire::decode_msg(&m) {
                        Ok(msg) => self.on_msg(Member { id: h.from, inc: h.from_inc }, msg, now),
                        Err(_) => self.counters.malformed += 1,
                    }
                }
            }
            Frame::Ack(ack) => {
                if h.to_inc != self.cfg.incarnation {
                    self.counters.stale += 1;
                    return;
                }
                if let Some(p) = self.peers.get_mut(&h.from) {
                    p.channel.on_ack(ack);
                }
                self.mark_dirty(h.from);
            }
            Frame::Heartbeat { view, counter, in_force, change } => self.on_heartbeat(h, view, counter, in_force, change, now),
            Frame::HeartbeatAck { counter, change } => self.on_heartbeat_ack(h.from, counter, change, now),
            Frame::Join { view, members } => self.on_join(Member { id: h.from, inc: h.from_inc }, view, members, now),
            Frame::StatusReply { req, .. } => {
                if let Some(q) = self.queries.get_mut(&req) {
                    if q.member == h.from {
                        if let Some(res) = q.collector.accept(frame) {
                            self.queries.remove(&req);
                            match res {
                                Ok(status) => self.events.push_back(Event::StatusReply { req, status: Box::new(status) }),
                                Err(_) => self.counters.malformed += 1,
                            }
                        }
                    }
                }
            }
            Frame::StatusQuery { .. } | Frame::ChangeRequest { .. } | Frame::ChallengeRequest { .. } => unreachable!("handled above"),
            Frame::ChangeReply { .. } | Frame::Challenge { .. } => self.counters.stale += 1,
        }
        self.pump(now);
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Time) {
        let lim = self.limits();
        let mut gave_up = Vec::new();
        for id in self.timers.due(now, &lim) {
            let Some(p) = self.peers.get_mut(&id) else { continue };
            let inc = p.inc;
            let outbox = &mut self.outbox;
            if p.channel.on_timeout(now, &lim, |f| outbox.push_back((Dest::Node(id), inc, f))).is_err() {
                gave_up.push(Member { id, inc });
            }
            // Delayed acknowledgements fall due here.
            p.channel.poll_new(now, &lim, |f| outbox.push_back((Dest::Node(id), inc, f)));
            self.reindex(id);
        }
        for m in gave_up {
            if let Some(p) = self.peers.get_mut(&m.id) {
                p.channel.restart_send();
                p.cut_in = Some(self.mem.view.id);
            }
            self.reindex(m.id);
            if !self.left {
                self.suspect(m, "messages unacknowledged for max-message-retry-time", now);
            }
        }
        let due: Vec<u64> = self.queries.iter().filter(|(_, q)| q.next_send <= now).map(|(&r, _)| r).collect();
        for req in due {
            let q = self.queries.get_mut(&req).expect("listed above");
            if q.deadline <= now {
                let member = q.member;
                self.queries.remove(&req);
                self.events.push_back(Event::StatusQueryFailed { req, member });
            } else {
                q.next_send = now + self.params.duration(Param::MessageRetryTimer);
                let member = q.member;
                let inc = self.peers.get(&member).map_or(0, |p| p.inc);
                self.outbox.push_back((Dest::Node(member), inc, Frame::StatusQuery { req }));
            }
        }
        if !self.left {
            self.ring_timeout(now);
            self.membership_timeout(now);
            self.engine_timeout(now);
        }
        self.pump(now);
    }

    // ----- outputs -------------------------------------------------------

    /// The next datagram to send, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let (dest, to_inc, frame) = self.outbox.pop_front()?;
        let to = match dest {
            Dest::Node(id) => id,
            Dest::Source(_) => 0,
        };
        let h = Header { from: self.cfg.id, from_inc: self.cfg.incarnation, to, to_inc };
        let mut bytes = std::mem::take(&mut self.scratch);
        wire::encode_frame(&h, &frame, &mut bytes);
        Some(Transmit { dest, bytes })
    }

    /// The earliest time [`Core::handle_timeout`] must be called, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        let lim = self.limits();
        let mut t = self.timers.next(&lim);
        let mut add = |d: Option<Time>| {
            if let Some(d) = d {
                t = Some(t.map_or(d, |t: Time| t.min(d)));
            }
        };
        add(self.queries.values().map(|q| q.next_send).min());
        if !self.left {
            add(self.ring.next_deadline());
            add(self.mem.next_deadline());
            add(self.eng.next_deadline());
            add(self.relay_deadline());
        }
        t
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // ----- shared plumbing -----------------------------------------------

    pub(crate) fn limits(&self) -> Limits {
        let p = &self.params;
        Limits {
            chunk: (p.get(Param::MaxFragmentSize) - crate::params::FRAME_OVERHEAD) as usize,
            window: p.get(Param::SendWindowSize) as usize,
            queue_threshold: p.get(Param::SendQueueOverflowThreshold) as usize,
            retry: p.duration(Param::MessageRetryTimer),
            max_retry: p.duration(Param::MaxMessageRetryTime),
        }
    }

    /// Returns false if the datagram comes from an older incarnation than known.
    fn learn_incarnation(&mut self, id: NodeId, inc: Incarnation) -> bool {
        match self.peers.get(&id) {
            Some(p) if inc < p.inc => return false,
            Some(p) if inc == p.inc => {}
            _ => self.replace_peer(id, inc),
        }
        true
    }

    pub(crate) fn mark_dirty(&mut self, id: NodeId) {
        self.dirty.insert(id);
    }

    /// Queues a reliable message to `to` (whose incarnation must be known).
    ///
    /// Control traffic is sent with `force` (never refused); the result reports
    /// backpressure for sends that may be refused.
    pub(crate) fn send_msg(&mut self, to: NodeId, msg: &Msg, force: bool) -> Result<(), Error> {
        let lim = self.limits();
        let bytes = wire::encode_msg(msg);
        let Some(p) = self.peers.get_mut(&to).filter(|p| p.inc != 0) else {
            debug_assert!(false, "node {}: reliable send to node {to} whose incarnation is unknown", self.cfg.id);
            return Ok(());
        };
        if matches!(msg, Msg::Sequenced { view, .. } | Msg::Ack { view, .. } | Msg::Acks { view, .. } if p.cut_in == Some(*view)) {
            return Ok(());
        }
        p.channel.send(&bytes, &lim, force).map_err(|b| {
            self.counters.backpressure += 1;
            Error::Backpressure { peer: to, queued: b.queued }
        })?;
        self.mark_dirty(to);
        Ok(())
    }

    /// Checks that a send of `frags` fragments to `to` would not be refused.
    pub(crate) fn check_backpressure(&mut self, to: NodeId) -> Result<(), Error> {
        let threshold = self.params.get(Param::SendQueueOverflowThreshold) as usize;
        let queued = self.peers.get(&to).map_or(0, |p| p.channel.queued());
        if queued >= threshold {
            self.counters.backpressure += 1;
            return Err(Error::Backpressure { peer: to, queued });
        }
        Ok(())
    }

    pub(crate) fn push_to(&mut self, dest: Dest, to_inc: Incarnation, frame: Frame) {
        self.outbox.push_back((dest, to_inc, frame));
    }

    pub(crate) fn push_frame(&mut self, to: NodeId, frame: Frame) {
        let inc = self.peers.get(&to).map_or(0, |p| p.inc);
        self.outbox.push_back((Dest::Node(to), inc, frame));
    }

    fn answer_query(&mut self, source: u64, h: Header, req: u64, now: Time) {
        self.counters.queries_answered += 1;
        let status = self.status(now);
        let chunk = (self.params.get(Param::MaxFragmentSize) - crate::params::FRAME_OVERHEAD) as usize;
        let dest = if h.from != 0 && self.cfg.nodes.contains(&h.from) { Dest::Node(h.from) } else { Dest::Source(source) };
        for f in query::reply_frames(&status, req, chunk) {
            self.outbox.push_back((dest, h.from_inc, f));
        }
    }

    fn on_msg(&mut self, sender: Member, msg: Msg, now: Time) {
        let from = sender.id;
        match msg {
            Msg::Propose { view, pid, body } => {
                if self.mem.accepts(view, sender) {
                    self.on_propose(from, pid, body);
                } else {
                    self.mem.defer_or_drop(view, sender, Msg::Propose { view, pid, body }, &mut self.counters);
                }
            }
            Msg::Decided(o) => self.on_decided(*o),
            Msg::Sequenced { view, entries } => {
                if self.mem.accepts(view, sender) {
                    self.on_sequenced(entries, now);
                } else {
                    self.mem.defer_or_drop(view, sender, Msg::Sequenced { view, entries }, &mut self.counters);
                }
            }
            Msg::Ack { view, round, status, marks } => {
                if self.mem.accepts(view, sender) {
                    self.on_member_ack(from, round, status, marks, now);
                } else {
                    self.mem.defer_or_drop(view, sender, Msg::Ack { view, round, status, marks }, &mut self.counters);
                }
            }
            Msg::Done { view, marks } => {
                if self.mem.accepts(view, sender) {
                    self.on_marks(from, marks, now);
                } else {
                    self.mem.defer_or_drop(view, sender, Msg::Done { view, marks }, &mut self.counters);
                }
            }
            Msg::Suspect { view, member } => self.on_suspect_msg(from, view, member, now),
            Msg::Leave { view } => self.on_leave_msg(from, view, now),
            Msg::Prepare { vid } => self.on_prepare(sender, vid, now),
            Msg::PrepareAck { vid, report } => self.on_prepare_ack(from, vid, *report, now),
            Msg::NewView(nv) => self.on_new_view(sender, *nv, now),
            Msg::Accepted { vid } => self.on_accepted(from, vid, now),
            Msg::Install { vid } => self.on_install(sender, vid, now),
            Msg::PrepareRefused { vid, promised } => self.on_prepare_refused(vid, promised, now),
            Msg::Acks { view, acks, marks } => {
                if !self.mem.accepts(view, sender) {
                    self.mem.defer_or_drop(view, sender, Msg::Acks { view, acks, marks }, &mut self.counters);
                } else {
                    self.on_relayed_acks(from, acks, marks, now);
                }
            }
        }
    }

    /// Replays messages that arrived for a view before it was installed here.
    pub(crate) fn replay_deferred(&mut self, now: Time) {
        for (from, msg) in self.mem.take_deferred() {
            self.on_msg(from, msg, now);
        }
    }

    /// Runs whatever can progress, then turns channel output into datagrams.
    pub(crate) fn pump(&mut self, now: Time) {
        if !self.left {
            self.progress(now);
            self.report_stable();
            self.send_marks(now);
            self.relay_acks(now);
        }
        self.answer_operators(now);
        self.flush(now);
    }

    fn flush(&mut self, now: Time) {
        let lim = self.limits();
        for id in std::mem::take(&mut self.dirty) {
            let Some(p) = self.peers.get_mut(&id) else { continue };
            let inc = p.inc;
            let outbox = &mut self.outbox;
            p.channel.poll_new(now, &lim, |f| outbox.push_back((Dest::Node(id), inc, f)));
            self.reindex(id);
        }
    }

    /// Brings the deadline index up to date with `id`'s channel.
    fn reindex(&mut self, id: NodeId) {
        let Some(p) = self.peers.get_mut(&id) else { return };
        let key = p.channel.timer_key();
        self.timers.update(id, std::mem::replace(&mut p.timer_key, key), key);
    }

    /// Starts afresh with `id` at incarnation `inc` (a restarted node: its old
    /// incarnation's channel state is void).
    pub(crate) fn replace_peer(&mut self, id: NodeId, inc: Incarnation) {
        let old = self.peers.insert(id, Peer { inc, ..Peer::default() });
        self.eng.progress.track(id);
        self.timers.update(id, old.map_or_else(TimerKey::default, |p| p.timer_key), TimerKey::default());
    }
}
