//! The peer-protocol engine: proposals sequenced by the coordinator, processed
//! one at a time in sequence order by every member, each made of ACK rounds
//! numbered globally; local steps that wait on locks, jobs or the host's veto;
//! and the transactional parameter change (round 1: receipt, local apply,
//! round 2: status, then commit or undo everywhere).
//!
//! A member completes round `r` when every member of the view has ACKed `r`.
//! An ACK for round `r` from a member means it finished its local step for every
//! round up to `r`; members are at most one round apart, so the engine keeps
//! the statuses of the current and the next round only.

use crate::change::{round_verdict, RoundTwo, Tuning};
use crate::config::Config;
use crate::durable::Durable;
use crate::error::Error;
use crate::events::{Event, WaitToken};
use crate::fates::Fates;
use crate::ids::View;
use crate::ids::{AckStatus, Member, NodeId, Outcome, PidMap, ProposalId, ProtocolBody, Resource};
use crate::messages::{Decided, Entry, Marks, Msg, RelayedAck, RunningReport, RELAY_FROM};
use crate::metrics::Histogram;
use crate::net::Net;
use crate::params::Params;
use crate::pid_queue::{OfProposal, PidQueue};
use crate::progress::Progress;
use crate::ring::Ring;
use crate::status::{Phase, ProtocolInfo, Waiting};
use crate::time::Time;
use crate::trim::Trim;
use serde_bytes::ByteBuf;
use std::collections::{BTreeMap, VecDeque};

/// Reported outcomes remembered for reading back by proposal id (the fates
/// table, not this memory, is what keeps proposals from running twice).
const OUTCOME_MEMORY: usize = 4_096;

/// Of those, the latest this many keep every member's status. An outcome
/// holds one status per member, so a history of [`OUTCOME_MEMORY`] full
/// outcomes cost 128 KiB per peer; older ones keep their verdict
/// (sequence, committed, generation, reason) and lose the statuses, which
/// the host was told with the outcome itself.
const STATUS_MEMORY: usize = 16;
/// About how many bytes of protocols one [`Msg::Sequenced`] carries at
/// most ([`ProtocolBody::size_hint`]); what is left waits for the next one.
/// A larger protocol goes alone. Well under the largest message a member
/// takes in ([`crate::wire::MAX_MESSAGE_LEN`]), so two protocols of the
/// largest payload ([`crate::ids::MAX_PAYLOAD`]) never travel together.
const SEQUENCED_BYTES: usize = 1 << 20;

/// How many [`Msg::Sequenced`] the coordinator has in flight at most: sent,
/// and not every protocol in them completed here. Proposals that arrive
/// meanwhile wait and go out together, in one message per member answered
/// by one ACK ahead and one relay, where sequencing each at once cost a
/// datagram to and from every member per protocol. Two, so that a batch is
/// sequenced while the one ahead of it runs.
const SEQUENCED_IN_FLIGHT: usize = 2;
/// Retired key fingerprints a member remembers.
const RETIRED_MEMORY: usize = 1_024;

/// Whether every round of a protocol is ACKed without a local step.
fn needs_no_step(body: &ProtocolBody) -> bool {
    matches!(body, ProtocolBody::App(app) if app.wait.is_none())
}

/// The status an ACK that covered a round ahead stands for: what the round's
/// own ACK would have carried.
fn implied_status(body: &ProtocolBody) -> AckStatus {
    if needs_no_step(body) {
        AckStatus::Ok(ByteBuf::new())
    } else {
        AckStatus::Received
    }
}

/// What the member does in the current round before (or after) ACKing.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Waiting on a local resource.
    Local { token: WaitToken, resource: Resource, deadline: Option<Time> },
    /// ACK sent; waiting for the others.
    Acked,
}

/// The protocol a member is processing.
#[derive(Debug, Clone)]
pub(crate) struct Running {
    pub(crate) entry: Entry,
    pub(crate) started: Time,
    pub(crate) round_index: u8,
    pub(crate) round: u64,
    /// When this member entered the current round.
    pub(crate) round_started: Time,
    pub(crate) step: Step,
    pub(crate) step_since: Time,
    /// Members of the view (ids, sorted) whose ACKs are needed.
    pub(crate) members: Vec<NodeId>,
    /// Members (me included) that have not ACKed the current round.
    pub(crate) missing: usize,
}

/// A protocol decided here and not yet reported to the host: its outcome
/// becomes final once every member of the view decided it (see
/// [`crate::progress::Progress::stable_mark`]).
#[derive(Clone, Debug)]
pub(crate) struct Unreported {
    pub(crate) outcome: Outcome,
    /// For a parameter change: the values in force after it, to tell the host.
    pub(crate) values: Option<Params>,
}

impl OfProposal for Unreported {
    fn pid(&self) -> ProposalId {
        self.outcome.pid
    }
}

/// Engine state of one member (cloned to report as if an accepted view were
/// installed).
#[derive(Clone, Debug, Default)]
pub(crate) struct Engine {
    pub(crate) completed: u64,
    pub(crate) next_round: u64,
    pub(crate) pending: VecDeque<Entry>,
    pub(crate) running: Option<Running>,
    /// This member's record of how far every member got.
    pub(crate) progress: Progress,
    /// Statuses of the current and next round, by (round, member).
    acks: BTreeMap<(u64, NodeId), AckStatus>,
    /// Outcomes reported to the host, by proposal.
    outcomes: PidMap<Outcome>,
    outcome_order: VecDeque<ProposalId>,
    /// The last protocol decided here.
    pub(crate) last_outcome: Option<Outcome>,
    /// Decided here, not yet final, in sequence order.
    pub(crate) unreported: PidQueue<Unreported>,
    /// Every outcome up to this sequence number is reported (or, for a
    /// protocol this member did not run, known final).
    pub(crate) told: u64,
    /// The marks this member last sent.
    pub(crate) marks_sent: Marks,
    /// Decided proposals whose proposers may not know their fate yet.
    pub(crate) fates: Fates,
    /// The generation and values the host was last told of.
    pub(crate) told_values: Option<(u64, Params)>,
    /// The highest generation a host of this member was told, in this life
    /// or, restored from stable storage, an earlier one.
    pub(crate) reported_generation: u64,
    /// The fingerprints of the keys the host ran under before the one it was
    /// told last, newest last (at most [`RETIRED_MEMORY`]): the cluster
    /// rotated away from them, and a retired key is never taken again.
    pub(crate) retired: Vec<u64>,
    /// Proposal ids sequenced and not yet completed.
    sequenced: PidMap<u64>,
    /// This member's proposals not yet seen sequenced.
    pub(crate) outstanding: BTreeMap<ProposalId, ProtocolBody>,
    /// Coordinator: proposals waiting for a sequence number.
    pub(crate) incoming: PidQueue<(ProposalId, ProtocolBody)>,
    /// Coordinator: the last sequence number of each `Sequenced` it sent in
    /// this view whose protocols it has not all completed (see
    /// [`SEQUENCED_IN_FLIGHT`]).
    batches: VecDeque<u64>,
    txid: u64,
    next_token: WaitToken,
    /// Coordinator of a view that relays ACKs: those received and not yet
    /// passed on, the members' marks likewise, and when the oldest of them
    /// arrived.
    relay: Vec<RelayedAck>,
    relay_marks: BTreeMap<NodeId, Marks>,
    /// The stable mark at the last relay.
    relayed_stable: u64,
    relay_since: Option<Time>,
    /// The round every member had ACKed at the last relay.
    relayed_upto: u64,
    /// The `stale-proposals` flaw: a view change keeps unsequenced proposals.
    #[cfg(feature = "flaws")]
    pub(crate) keep_incoming: bool,
    /// The last sequence and round of the run [`Engine::ack_horizon`] found.
    run_end: Option<(u64, u64)>,
    /// How long ACK rounds took here (see [`crate::metrics::LocalMetrics`]).
    pub(crate) ack_rounds: Histogram,
    /// How long parameter changes took here.
    pub(crate) changes: Histogram,
}

impl Engine {
    /// Gives back room a burst of protocols left in the queues (see
    /// [`crate::trim`]).
    pub(crate) fn trim(&mut self) {
        self.pending.trim();
        self.unreported.trim();
        self.sequenced.trim();
        self.incoming.trim();
        self.fates.trim();
    }

    /// A member restarted from its durable state: every protocol up to the
    /// last it decided is behind it, and its host starts from the committed
    /// values.
    pub(crate) fn restore(d: &Durable) -> Engine {
        Engine {
            completed: d.completed,
            told: d.completed,
            next_round: d.next_round,
            last_outcome: d.last_outcome.clone(),
            told_values: Some(d.told.clone()),
            reported_generation: d.reported_generation,
            retired: d.retired.clone(),
            fates: {
                let mut f = Fates::default();
                f.replace(&d.fates);
                f
            },
            ..Engine::default()
        }
    }

    /// What of this member's protocols it must keep on stable storage.
    pub(crate) fn save(&self, d: &mut Durable) {
        d.completed = self.completed;
        d.last_outcome.clone_from(&self.last_outcome);
        d.next_round = self.current_round();
        if let Some(told) = &self.told_values {
            d.told = told.clone();
        }
        d.reported_generation = self.reported_generation;
        d.retired.clone_from(&self.retired);
        d.fates = self.fates.all();
    }

    /// The global round this member works on (or starts next).
    pub(crate) fn current_round(&self) -> u64 {
        self.running.as_ref().map_or(self.next_round.max(1), |r| r.round)
    }

    /// Highest sequence known (completed, running or pending).
    pub(crate) fn last_seq(&self) -> u64 {
        self.pending.back().map(|e| e.seq).or(self.running.as_ref().map(|r| r.entry.seq)).unwrap_or(self.completed)
    }

    pub(crate) fn next_txid(&mut self, incarnation: u64) -> u64 {
        self.txid += 1;
        // Unique across restarts: the incarnation grows, the counter restarts.
        (incarnation << 20) ^ self.txid
    }

    /// Whether `pid` is decided (reported or not), sequenced, or this
    /// member's own proposal not yet reported: then it must not be
    /// sequenced again.
    pub(crate) fn is_known(&self, pid: ProposalId) -> bool {
        self.is_decided(pid) || self.sequenced.contains_key(&pid) || self.outstanding.contains_key(&pid)
    }

    /// Whether `pid` was decided in this member's lineage.
    fn is_decided(&self, pid: ProposalId) -> bool {
        self.outcomes.contains_key(&pid) || self.fates.get(pid).is_some() || self.unreported.contains(pid)
    }

    pub(crate) fn outcome(&self, pid: ProposalId) -> Option<&Outcome> {
        self.outcomes.get(&pid)
    }

    /// A copy of this engine without its outcome history, to compute a view
    /// change report on. The history only keeps the host from being told an
    /// outcome twice, so the report does not depend on it; and it holds up to
    /// [`OUTCOME_MEMORY`] outcomes with every member's status, so copying it
    /// made each report cost O(N) times that in a large group.
    pub(crate) fn copy_without_history(&mut self) -> Engine {
        let outcomes = std::mem::take(&mut self.outcomes);
        let order = std::mem::take(&mut self.outcome_order);
        let copy = self.clone();
        (self.outcomes, self.outcome_order) = (outcomes, order);
        copy
    }

    pub(crate) fn protocol_info(&self) -> Option<ProtocolInfo> {
        self.running.as_ref().map(|r| ProtocolInfo {
            seq: r.entry.seq,
            pid: r.entry.pid,
            kind: r.entry.body.kind().to_string(),
            rounds: r.entry.body.rounds(),
            round_index: r.round_index,
            started: r.started,
        })
    }

    /// The last round this member may ACK now: the running round, or, when
    /// the running protocol and the protocols queued right behind it need no
    /// local step (application protocols without a wait), the last round of
    /// that run. An ACK for round r says every round up to r is done here, so
    /// one ACK covers the whole run and the others complete all of it on one
    /// ACK from each member: protocols from a busy initiator flow at the rate
    /// of the network instead of one round trip each. Completion stays one
    /// protocol at a time, in sequence order.
    ///
    /// The run found is remembered, so each call only looks at protocols
    /// queued since: O(1) amortized per protocol, where scanning the queue
    /// afresh made a batch of n protocols cost O(n²).
    pub(crate) fn ack_horizon(&mut self) -> u64 {
        let Some(r) = &self.running else { return 0 };
        if !needs_no_step(&r.entry.body) {
            return r.round;
        }
        // Within one view, rounds are numbered in sequence order and the
        // queue only grows at its back, so a run that reached the running
        // protocol still holds.
        let (mut seq, mut last) = match self.run_end {
            Some((s, l)) if s >= r.entry.seq && l >= r.round => (s, l),
            _ => (r.entry.seq, r.round + u64::from(r.entry.body.rounds() - 1 - r.round_index)),
        };
        let from = self.pending.front().map_or(0, |e| (seq + 1).saturating_sub(e.seq) as usize).min(self.pending.len());
        for e in self.pending.range(from..).take_while(|e| needs_no_step(&e.body)) {
            if e.seq != seq + 1 {
                break;
            }
            seq = e.seq;
            last += u64::from(e.body.rounds());
        }
        self.run_end = Some((seq, last));
        last
    }

    pub(crate) fn next_deadline(&self) -> Option<Time> {
        match &self.running {
            Some(Running { step: Step::Local { deadline, .. }, .. }) => *deadline,
            _ => None,
        }
    }

    /// A protocol ended here: it is decided, and reported once final.
    fn decide(&mut self, o: Outcome, values: Option<Params>) {
        self.sequenced.remove(&o.pid);
        self.fates.record(Decided::of(&o));
        self.last_outcome = Some(o.clone());
        self.unreported.push_back(Unreported { outcome: o, values });
    }

    /// Remembers an outcome reported to the host (final).
    fn remember(&mut self, o: Outcome) {
        self.outstanding.remove(&o.pid);
        let pid = o.pid;
        // A view's resolution replaces an outcome learned bare.
        if self.outcomes.insert(pid, o).is_none() {
            self.outcome_order.push_back(pid);
            let aged = self.outcome_order.len().checked_sub(STATUS_MEMORY + 1).and_then(|i| self.outcome_order.get(i));
            if let Some(old) = aged.and_then(|pid| self.outcomes.get_mut(pid)) {
                old.statuses = Vec::new();
            }
        }
        while self.outcome_order.len() > OUTCOME_MEMORY {
            if let Some(old) = self.outcome_order.pop_front() {
                self.outcomes.remove(&old);
            }
        }
    }

    /// Reports the decided protocols up to `stable` (final: every member of
    /// the view decided them): tells the host, in order.
    pub(crate) fn report_upto(&mut self, stable: u64, me: NodeId, events: &mut VecDeque<Event>, counters: &mut crate::status::Counters) {
        while self.unreported.front().is_some_and(|u| u.outcome.seq <= stable) {
            let u = self.unreported.pop_front().expect("checked above");
            self.report(u, events, counters);
        }
        self.told = self.told.max(stable.min(self.completed));
        self.fates.forget_upto(me, self.told);
    }

    /// Reports one decided protocol.
    fn report(&mut self, u: Unreported, events: &mut VecDeque<Event>, counters: &mut crate::status::Counters) {
        counters.count_completed(&u.outcome);
        if let Some(params) = u.values {
            self.tell_values(u.outcome.generation, params, events);
        }
        self.tell(Event::Completed(u.outcome), events);
    }

    /// Tells the host an outcome (`Completed` or `OutcomeLearned`), once:
    /// a proposer told its proposal's fate (learned while cut off, say) is
    /// not told again when it completes the protocol itself.
    pub(crate) fn tell(&mut self, ev: Event, events: &mut VecDeque<Event>) {
        let (Event::Completed(o) | Event::OutcomeLearned(o)) = &ev else { return events.push_back(ev) };
        if self.outcomes.contains_key(&o.pid) {
            return;
        }
        self.reported_generation = self.reported_generation.max(o.generation);
        self.remember(o.clone());
        events.push_back(ev);
    }

    /// Tells the host the values in force, when they differ from what it
    /// was last told.
    pub(crate) fn tell_values(&mut self, generation: u64, params: Params, events: &mut VecDeque<Event>) {
        if let Some((_, old)) = &self.told_values {
            self.retire(old.key(), params.key());
        }
        if self.told_values.as_ref() != Some(&(generation, params.clone())) {
            self.told_values = Some((generation, params.clone()));
            self.reported_generation = self.reported_generation.max(generation);
            events.push_back(Event::ParamsChanged { generation, params });
        }
    }

    /// Records that the key the host runs under went from `old` to `new`
    /// (nothing when they are the same): `old` is retired. Only values told
    /// to the host retire a key: a member cut off in a rotation's second
    /// round may decide a rotation its group undoes (the blocking case of two
    /// rounds), and must still take the old key back.
    fn retire(&mut self, old: u64, new: u64) {
        if old != new && old != 0 {
            self.retired.retain(|&k| k != old && k != new);
            self.retired.push(old);
            if self.retired.len() > RETIRED_MEMORY {
                self.retired.remove(0);
            }
        }
    }

    /// At a view change with quorum: a member of the lineage reports what it
    /// decided (the view adopted it: final); one outside it drops what it
    /// decided and did not report (the lineage's state supersedes it; its own
    /// proposals among them stay outstanding, to be learned or re-sent).
    pub(crate) fn settle_unreported(&mut self, in_lineage: bool, events: &mut VecDeque<Event>, counters: &mut crate::status::Counters) {
        for u in self.unreported.take() {
            if in_lineage {
                self.report(u, events, counters);
            }
        }
    }

    /// This member's view of the protocol in flight, for a view change report.
    pub(crate) fn running_report(&self) -> Option<RunningReport> {
        let r = self.running.as_ref()?;
        let last_round = self.acks.range((r.round, 0)..=(r.round, NodeId::MAX)).map(|(&(_, id), s)| (id, s.clone())).collect();
        Some(RunningReport { entry: r.entry.clone(), round_index: r.round_index, last_round, members: r.members.clone() })
    }

    /// Installs the state a new view dictates. Proposals waiting to be
    /// sequenced are dropped: their proposers re-send them once they
    /// installed the view, unless the lineage decided them meanwhile.
    pub(crate) fn install(&mut self, completed: u64, pending: Vec<Entry>, next_round: u64) {
        self.completed = completed;
        self.running = None;
        self.sequenced = pending.iter().map(|e| (e.pid, e.seq)).collect();
        self.pending = pending.into();
        self.next_round = next_round;
        // ACKs ahead belong to the old view; the new one numbers rounds afresh.
        self.progress.mine = self.progress.mine.min(next_round.saturating_sub(1));
        self.acks.clear();
        self.relay.clear();
        self.relay_marks.clear();
        self.relay_since = None;
        self.relayed_upto = 0;
        self.relayed_stable = 0;
        self.run_end = None;
        #[cfg(feature = "flaws")]
        let keep = self.keep_incoming;
        #[cfg(not(feature = "flaws"))]
        let keep = false;
        if !keep {
            self.incoming.clear();
        }
        self.batches.clear();
        // Everything up to `completed` is final here now (reported, adopted
        // or learned); the new view hears every member's marks afresh.
        self.told = self.told.max(completed);
        self.marks_sent = Marks::default();
        let outcomes = &self.outcomes;
        self.outstanding.retain(|pid, _| !outcomes.contains_key(pid));
    }

    /// Records an outcome a view with quorum decided (final), for a protocol
    /// this member did not complete itself.
    pub(crate) fn adopt(&mut self, o: Outcome) {
        self.completed = self.completed.max(o.seq);
        self.sequenced.remove(&o.pid);
        self.fates.record(Decided::of(&o));
        self.last_outcome = Some(o.clone());
        self.remember(o);
    }
}

/// Whether `view` routes ACKs through its coordinator (see [`RELAY_FROM`]).
fn relays_acks(view: &View) -> bool {
    view.members.len() >= RELAY_FROM
}

/// What the engine's handlers work with besides the engine's own state.
pub(crate) struct Cx<'a> {
    pub(crate) cfg: &'a Config,
    pub(crate) net: &'a mut Net,
    /// The view installed here.
    pub(crate) view: &'a View,
    /// The member is fenced by a view change: it completes nothing.
    pub(crate) fenced: bool,
    pub(crate) tuning: &'a mut Tuning,
    pub(crate) ring: &'a mut Ring,
}

impl Cx<'_> {
    /// The view's coordinator (this member when alone).
    fn coordinator(&self) -> NodeId {
        self.view.coordinator().unwrap_or(self.cfg.id)
    }

    /// Queues a reliable message (see [`Net::send_msg`]).
    fn send(&mut self, to: NodeId, msg: &Msg, force: bool) -> Result<(), Error> {
        self.net.send_msg(&self.tuning.params, to, msg, force)
    }
}

impl Engine {
    /// Whether this member may make protocol progress now.
    fn can_progress(&self, cx: &Cx<'_>) -> bool {
        !cx.net.left && cx.view.quorum && !cx.fenced
    }

    pub(crate) fn submit(&mut self, cx: &mut Cx<'_>, pid: ProposalId, body: ProtocolBody, _now: Time) -> Result<(), Error> {
        let coord = cx.coordinator();
        if coord == cx.cfg.id {
            if !self.incoming.contains(pid) {
                self.incoming.push_back((pid, body.clone()));
            }
        } else {
            cx.net.check_backpressure(&cx.tuning.params, coord)?;
            cx.send(coord, &Msg::Propose { view: cx.view.id, pid, body: body.clone() }, false)?;
        }
        self.outstanding.insert(pid, body);
        Ok(())
    }

    /// After a view change: re-sends this member's proposals nobody sequenced.
    pub(crate) fn resubmit_outstanding(&mut self, cx: &mut Cx<'_>) {
        let coord = cx.coordinator();
        let list: Vec<(ProposalId, ProtocolBody)> = self.outstanding.iter().map(|(p, b)| (*p, b.clone())).collect();
        for (pid, body) in list {
            if self.sequenced.contains_key(&pid) {
                continue;
            }
            if coord == cx.cfg.id {
                if !self.incoming.contains(pid) {
                    self.incoming.push_back((pid, body));
                }
            } else {
                let _ = cx.send(coord, &Msg::Propose { view: cx.view.id, pid, body }, true);
            }
        }
    }

    /// A proposal for this view reached its coordinator: queued for
    /// sequencing unless it is known (decided, sequenced or queued).
    /// Takes in a peer-protocol message (`Propose`, `Decided`, `Sequenced`,
    /// `Ack`, `Done`, `Acks`); the caller checked that a view-tagged one
    /// belongs to the view installed here. View-change messages go to
    /// membership, never here.
    pub(crate) fn on_msg(&mut self, cx: &mut Cx<'_>, sender: Member, msg: Msg, now: Time) {
        let from = sender.id;
        match msg {
            Msg::Propose { pid, body, .. } => self.on_propose(cx, from, pid, body),
            Msg::Decided(o) => self.on_decided(cx, *o),
            Msg::Sequenced { entries, .. } => self.on_sequenced(cx, entries, now),
            Msg::Ack { round, status, marks, .. } => self.on_member_ack(cx, from, round, status, marks, now),
            Msg::Done { marks, .. } => self.on_marks(cx, from, marks, now),
            Msg::Acks { acks, marks, .. } => self.on_relayed_acks(cx, from, acks, marks, now),
            Msg::Suspect { .. }
            | Msg::Leave { .. }
            | Msg::Prepare { .. }
            | Msg::PrepareAck { .. }
            | Msg::PrepareRefused { .. }
            | Msg::NewView(_)
            | Msg::Accepted { .. }
            | Msg::Install { .. } => unreachable!("view-change messages are routed to membership"),
        }
    }

    pub(crate) fn on_propose(&mut self, cx: &mut Cx<'_>, from: NodeId, pid: ProposalId, body: ProtocolBody) {
        if cx.coordinator() != cx.cfg.id {
            return;
        }
        // Only a reported outcome is final, so only that one is told.
        if let Some(o) = self.outcomes.get(&pid).filter(|_| pid.node == from) {
            let _ = cx.send(from, &Msg::Decided(Box::new(o.clone())), true);
            return;
        }
        if self.is_known(pid) || self.incoming.contains(pid) {
            return;
        }
        self.incoming.push_back((pid, body));
    }

    pub(crate) fn on_decided(&mut self, cx: &mut Cx<'_>, o: Outcome) {
        if self.outstanding.contains_key(&o.pid) {
            self.tell(Event::OutcomeLearned(o), &mut cx.net.events);
        }
    }

    pub(crate) fn on_sequenced(&mut self, cx: &mut Cx<'_>, entries: Vec<Entry>, now: Time) {
        for e in entries {
            if e.seq != self.last_seq() + 1 {
                continue;
            }
            self.sequenced.insert(e.pid, e.seq);
            self.pending.push_back(e);
        }
        self.ack_ahead(cx, now);
    }

    pub(crate) fn on_ack(&mut self, cx: &mut Cx<'_>, from: NodeId, round: u64, status: AckStatus, now: Time) {
        let Some(before) = self.progress.acked(from, round) else { return };
        let cur = self.current_round();
        // A member starts round r (and sends its status for r) only after
        // completing r - 1, which needs this member's ACK for r - 1: no status
        // beyond our own ACKs plus one can be due.
        if round >= cur && round <= cur.max(self.progress.mine) + 2 {
            self.acks.insert((round, from), status);
        }
        if let Some(r) = self.running.as_mut() {
            if before < r.round && round >= r.round && r.members.binary_search(&from).is_ok() {
                r.missing = r.missing.saturating_sub(1);
            }
        }
        self.check_round(cx, now);
    }

    /// Runs everything that can run: the next protocols and, at the
    /// coordinator, the sequencing of what was proposed, while either moves.
    pub(crate) fn progress(&mut self, cx: &mut Cx<'_>, now: Time) {
        self.start_next(cx, now);
        while self.can_progress(cx) && self.sequence(cx, now) {
            self.start_next(cx, now);
        }
    }

    /// Starts the pending protocols that can start, one after the other
    /// while each ends at once (ACKed ahead, no local step).
    fn start_next(&mut self, cx: &mut Cx<'_>, now: Time) {
        while self.running.is_none() && self.can_progress(cx) {
            let Some(e) = self.pending.front() else { break };
            if e.seq != self.completed + 1 {
                break;
            }
            let entry = self.pending.pop_front().expect("front exists");
            self.start_protocol(cx, entry, now);
        }
    }

    /// At the coordinator: sequences the proposals taken in, up to
    /// [`SEQUENCED_BYTES`] of them, and sends the order to the other members
    /// in one [`Msg::Sequenced`], unless [`SEQUENCED_IN_FLIGHT`] are in
    /// flight already; whether it sequenced any.
    fn sequence(&mut self, cx: &mut Cx<'_>, now: Time) -> bool {
        if cx.coordinator() != cx.cfg.id || self.incoming.is_empty() {
            return false;
        }
        while self.batches.front().is_some_and(|&end| end <= self.completed) {
            self.batches.pop_front();
        }
        if self.batches.len() >= SEQUENCED_IN_FLIGHT {
            return false;
        }
        let mut entries = Vec::new();
        let mut seq = self.last_seq();
        let mut bytes = 0;
        while let Some((_, body)) = self.incoming.front() {
            let size = body.size_hint();
            if !entries.is_empty() && bytes + size > SEQUENCED_BYTES {
                break;
            }
            let (pid, body) = self.incoming.pop_front().expect("front exists");
            // Exactly once: never a proposal the lineage sequenced or decided.
            let decided = if cx.cfg.flawed("stale-proposals") { self.outcomes.contains_key(&pid) } else { self.is_decided(pid) };
            if self.sequenced.contains_key(&pid) || decided {
                continue;
            }
            seq += 1;
            bytes += size;
            entries.push(Entry { seq, pid, body });
        }
        if entries.is_empty() {
            return false;
        }
        self.batches.push_back(seq);
        let msg = Msg::Sequenced { view: cx.view.id, entries: entries.clone() };
        for m in cx.view.members.clone() {
            if m.id != cx.cfg.id {
                let _ = cx.send(m.id, &msg, true);
            }
        }
        self.on_sequenced(cx, entries, now);
        true
    }

    fn start_protocol(&mut self, cx: &mut Cx<'_>, entry: Entry, now: Time) {
        let round = self.next_round.max(1);
        self.running = Some(Running {
            entry,
            started: now,
            round_index: 0,
            round,
            round_started: now,
            step: Step::Acked,
            step_since: now,
            members: cx.view.members.iter().map(|m| m.id).collect(),
            missing: 0,
        });
        self.start_round(cx, now);
    }

    /// Enters the running protocol's current round: counts who has ACKed it
    /// already, then runs this member's local step.
    fn start_round(&mut self, cx: &mut Cx<'_>, now: Time) {
        let r = self.running.as_mut().expect("a protocol is running");
        let round = r.round;
        r.missing = 1 + self.progress.not_acked(r.members.iter().copied(), cx.cfg.id, round).count();
        r.step_since = now;
        r.round_started = now;
        let (index, body) = (r.round_index, r.entry.body.clone());
        match (&body, index) {
            (ProtocolBody::App(app), _) => match &app.wait {
                Some(res) => self.wait_on(cx, res.clone(), None, now),
                None if self.progress.mine >= round => self.acked_ahead(cx, now),
                None => self.send_ack(cx, AckStatus::Ok(ByteBuf::new()), now),
            },
            (ProtocolBody::Change(_), 0) => self.send_ack(cx, AckStatus::Received, now),
            (ProtocolBody::Change(changes), _) => match cx.tuning.round_two(changes, cx.cfg, now) {
                RoundTwo::Fail(why) => self.send_ack(cx, AckStatus::Failed(why), now),
                RoundTwo::AskVeto(deadline) => self.wait_on(cx, Resource::Veto, Some(deadline), now),
                RoundTwo::Apply => self.apply_change(cx, now),
            },
            // A key this member ran under before is never taken again; one
            // member that retired it is enough to undo the rotation everywhere.
            (ProtocolBody::RotateKey(k), 0) if self.retired.contains(&k.fingerprint) => {
                let why = format!("the key {:016x} was retired here: a retired key is never taken again", k.fingerprint);
                self.send_ack(cx, AckStatus::Failed(why), now);
            }
            (ProtocolBody::RotateKey(k), 0) => {
                if cx.cfg.flawed("switch-key-early") {
                    cx.tuning.apply_key(k.fingerprint);
                }
                self.wait_on(cx, Resource::Key, None, now);
            }
            (ProtocolBody::Nodes(_), 0) => self.send_ack(cx, AckStatus::Received, now),
            (ProtocolBody::Nodes(change), _) => {
                let members = self.running.as_ref().map(|r| r.members.clone()).unwrap_or_default();
                let kept = if cx.cfg.flawed("newest-set-only") { Ok(()) } else { change.keeps_majority_of(&members) };
                let status = match kept.and_then(|()| cx.tuning.apply_nodes(change)) {
                    Ok(()) => AckStatus::Ok(ByteBuf::new()),
                    Err(why) => AckStatus::Failed(why),
                };
                self.send_ack(cx, status, now);
            }
            (ProtocolBody::RotateKey(k), _) => {
                // Every member loaded the key (round 1 all OK): every one
                // accepts it, so sending under it is safe. Otherwise nobody
                // switches and the verdict undoes the rotation.
                let members = self.running.as_ref().map(|r| r.members.clone()).unwrap_or_default();
                let status = match self.round_failures(round - 1, &members) {
                    None => {
                        cx.tuning.apply_key(k.fingerprint);
                        AckStatus::Ok(ByteBuf::new())
                    }
                    Some(why) => AckStatus::Failed(format!("not every member loaded the key ({why})")),
                };
                self.send_ack(cx, status, now);
            }
        }
    }

    /// Why round `round` of the running protocol failed, naming each member
    /// whose status there is a failure or missing; `None` when all are OK.
    fn round_failures(&self, round: u64, members: &[NodeId]) -> Option<String> {
        let failed: Vec<String> = members
            .iter()
            .filter_map(|id| match self.acks.get(&(round, *id)) {
                Some(AckStatus::Ok(_)) => None,
                Some(AckStatus::Failed(why)) => Some(format!("member {id}: {why}")),
                _ => Some(format!("member {id}: no status")),
            })
            .collect();
        (!failed.is_empty()).then(|| failed.join("; "))
    }

    fn wait_on(&mut self, cx: &mut Cx<'_>, resource: Resource, deadline: Option<Time>, now: Time) {
        self.next_token += 1;
        let token = self.next_token;
        let r = self.running.as_mut().expect("a protocol is running");
        r.step = Step::Local { token, resource: resource.clone(), deadline };
        r.step_since = now;
        cx.net.events.push_back(Event::LocalWait {
            token,
            resource,
            seq: r.entry.seq,
            round_index: r.round_index,
            body: r.entry.body.clone(),
        });
    }

    pub(crate) fn complete_local_wait(
        &mut self,
        cx: &mut Cx<'_>,
        token: WaitToken,
        result: Result<Vec<u8>, String>,
        now: Time,
    ) -> Result<(), Error> {
        let Some(Running { step: Step::Local { token: t, resource, .. }, .. }) = &self.running else {
            return Err(Error::UnknownToken(token));
        };
        if *t != token {
            return Err(Error::UnknownToken(token));
        }
        match (resource.clone(), result) {
            (Resource::Key, Ok(fp)) => self.key_loaded(cx, fp, now),
            (Resource::Veto, Ok(_)) => self.apply_change(cx, now),
            (Resource::Veto, Err(reason)) => self.send_ack(cx, AckStatus::Failed(format!("vetoed: {reason}")), now),
            (_, Ok(bytes)) => self.send_ack(cx, AckStatus::Ok(ByteBuf::from(bytes)), now),
            (_, Err(reason)) => self.send_ack(cx, AckStatus::Failed(reason), now),
        }
        Ok(())
    }

    /// Cancels the pending local wait, if any (the node leaves).
    pub(crate) fn cancel_wait(&mut self, cx: &mut Cx<'_>) {
        if let Some(Running { step: Step::Local { token, .. }, .. }) = &self.running {
            cx.net.events.push_back(Event::WaitCancelled { token: *token });
        }
    }

    pub(crate) fn on_timeout(&mut self, cx: &mut Cx<'_>, now: Time) {
        if let Some(Running { step: Step::Local { token, deadline: Some(d), .. }, .. }) = &self.running {
            if *d <= now {
                let token = *token;
                cx.net.events.push_back(Event::WaitCancelled { token });
                let _ = self.complete_local_wait(cx, token, Err("veto hook timed out".into()), now);
            }
        }
    }

    /// Local apply of the running change (the values it replaces are staged).
    fn apply_change(&mut self, cx: &mut Cx<'_>, now: Time) {
        let r = self.running.as_ref().expect("a protocol is running");
        let ProtocolBody::Change(changes) = &r.entry.body else { unreachable!("only changes are applied") };
        let status = match cx.tuning.apply(changes) {
            Ok(()) => AckStatus::Ok(ByteBuf::new()),
            Err(why) => AckStatus::Failed(why),
        };
        self.send_ack(cx, status, now);
    }

    /// Round 1 of the running key rotation: the host answered that it
    /// loaded a key of fingerprint `fp` (little endian); ACKs it, or the
    /// failure when it is not the rotation's key.
    fn key_loaded(&mut self, cx: &mut Cx<'_>, fp: Vec<u8>, now: Time) {
        let r = self.running.as_ref().expect("a protocol is running");
        let ProtocolBody::RotateKey(k) = &r.entry.body else { unreachable!("only rotations load keys") };
        let status = if fp == k.fingerprint.to_le_bytes() {
            cx.tuning.load_key(k.fingerprint, &k.path);
            AckStatus::Ok(ByteBuf::from(fp))
        } else {
            AckStatus::Failed(format!("the key loaded from {} is not of fingerprint {:016x}", k.path, k.fingerprint))
        };
        self.send_ack(cx, status, now);
    }

    fn send_ack(&mut self, cx: &mut Cx<'_>, status: AckStatus, now: Time) {
        let r = self.running.as_mut().expect("a protocol is running");
        let round = r.round;
        r.step = Step::Acked;
        r.step_since = now;
        r.missing = r.missing.saturating_sub(1);
        self.acks.insert((round, cx.cfg.id), status.clone());
        let upto = self.ack_horizon().max(round);
        self.progress.mine = upto;
        self.broadcast_ack(cx, upto, status, now);
        self.check_round(cx, now);
    }

    /// The running round was ACKed ahead by an earlier ACK: only the counting is left.
    fn acked_ahead(&mut self, cx: &mut Cx<'_>, now: Time) {
        let r = self.running.as_mut().expect("a protocol is running");
        r.step = Step::Acked;
        r.step_since = now;
        r.missing = r.missing.saturating_sub(1);
        self.acks.insert((r.round, cx.cfg.id), AckStatus::Ok(ByteBuf::new()));
        self.check_round(cx, now);
    }

    /// ACKs ahead after new protocols were queued behind one that needs no
    /// local step (see [`Engine::ack_horizon`]).
    fn ack_ahead(&mut self, cx: &mut Cx<'_>, now: Time) {
        if !self.can_progress(cx) || !self.running.as_ref().is_some_and(|r| matches!(r.step, Step::Acked)) {
            return;
        }
        let upto = self.ack_horizon();
        if upto > self.progress.mine {
            self.progress.mine = upto;
            self.broadcast_ack(cx, upto, AckStatus::Ok(ByteBuf::new()), now);
        }
    }

    /// Sends this member's ACK: to every member, or, in a view that relays
    /// ACKs, to the coordinator, which keeps its own with the others' to
    /// pass on in the same relay.
    fn broadcast_ack(&mut self, cx: &mut Cx<'_>, round: u64, status: AckStatus, now: Time) {
        let me = cx.cfg.id;
        let coordinator = cx.coordinator();
        if relays_acks(cx.view) && coordinator == me {
            self.keep_marks(cx, me, self.my_marks(), now);
            return self.keep_for_relay(cx, me, round, status, now);
        }
        let marks = self.my_marks();
        self.marks_sent = marks;
        let msg = Msg::Ack { view: cx.view.id, round, status, marks };
        let members = self.running.as_ref().map(|r| r.members.clone()).unwrap_or_default();
        let to_all = !relays_acks(cx.view);
        for id in members {
            if id != me && (to_all || id == coordinator) {
                let _ = cx.send(id, &msg, true);
            }
        }
    }

    /// Whether this view routes ACKs through its coordinator (see [`RELAY_FROM`]).
    /// Takes in `from`'s ACK; the coordinator of a relaying view keeps it to
    /// pass on.
    pub(crate) fn on_member_ack(&mut self, cx: &mut Cx<'_>, from: NodeId, round: u64, status: AckStatus, marks: Marks, now: Time) {
        self.on_marks(cx, from, marks, now);
        if relays_acks(cx.view) && cx.coordinator() == cx.cfg.id {
            self.keep_for_relay(cx, from, round, status.clone(), now);
        }
        self.on_ack(cx, from, round, status, now);
    }

    /// This member's marks now.
    pub(crate) fn my_marks(&self) -> Marks {
        Marks { done: self.completed, told: self.told }
    }

    /// Takes in how far member `from` got: its decisions count towards the
    /// stable mark, and the fates of its proposals it reported past are
    /// forgotten. The coordinator of a relaying view passes the marks on.
    pub(crate) fn on_marks(&mut self, cx: &mut Cx<'_>, from: NodeId, marks: Marks, now: Time) {
        let Some(known) = self.progress.marked(from, marks) else { return };
        self.fates.forget_upto(from, known.told);
        if relays_acks(cx.view) && cx.coordinator() == cx.cfg.id {
            self.keep_marks(cx, from, marks, now);
        }
    }

    fn keep_for_relay(&mut self, cx: &mut Cx<'_>, member: NodeId, round: u64, status: AckStatus, now: Time) {
        // A fenced coordinator passes nothing on: its view is being replaced,
        // and what it relayed could complete a round the new view abandons.
        if cx.fenced {
            return;
        }
        self.relay.push(RelayedAck { member, round, status });
        self.relay_since.get_or_insert(now);
    }

    fn keep_marks(&mut self, cx: &mut Cx<'_>, member: NodeId, marks: Marks, now: Time) {
        if cx.fenced {
            return;
        }
        let m = self.relay_marks.entry(member).or_default();
        m.done = m.done.max(marks.done);
        m.told = m.told.max(marks.told);
        self.relay_since.get_or_insert(now);
    }

    /// The highest sequence number every member of the view decided (see
    /// [`crate::progress::Progress::stable_mark`]).
    pub(crate) fn stable(&self, cfg: &Config) -> u64 {
        if cfg.flawed("report-on-decision") {
            return self.completed;
        }
        self.progress.stable_mark(self.completed)
    }

    /// Reports to the host every decided protocol that is now final.
    pub(crate) fn report_stable(&mut self, cx: &mut Cx<'_>) {
        if !cx.view.quorum || self.unreported.is_empty() {
            return;
        }
        let stable = self.stable(cx.cfg);
        self.report_upto(stable, cx.cfg.id, &mut cx.net.events, &mut cx.net.counters);
    }

    /// Tells the others at once that this member decided more, when no ACK
    /// did: they wait for that to report. What it reported (`told`, on which
    /// the others only forget fates) rides along, here and on later ACKs.
    pub(crate) fn send_marks(&mut self, cx: &mut Cx<'_>, now: Time) {
        // Marks go out in a view that runs protocols; a new view starts them afresh.
        if !cx.view.quorum || cx.fenced {
            return;
        }
        let marks = self.my_marks();
        if marks.done <= self.marks_sent.done {
            return;
        }
        self.marks_sent = marks;
        let me = cx.cfg.id;
        let coordinator = cx.coordinator();
        if relays_acks(cx.view) && coordinator == me {
            return self.keep_marks(cx, me, marks, now);
        }
        let msg = Msg::Done { view: cx.view.id, marks };
        let to_all = !relays_acks(cx.view);
        let others: Vec<NodeId> = cx.view.members.iter().map(|m| m.id).filter(|&id| id != me && (to_all || id == coordinator)).collect();
        for id in others {
            let _ = cx.send(id, &msg, true);
        }
    }

    /// Takes in ACKs passed on by `from`, which must be the coordinator (else
    /// they are counted stale); those of members outside the view, or this
    /// member's own, are ignored.
    pub(crate) fn on_relayed_acks(&mut self, cx: &mut Cx<'_>, from: NodeId, acks: Vec<RelayedAck>, marks: Vec<(NodeId, Marks)>, now: Time) {
        if from != cx.coordinator() {
            cx.net.counters.stale += 1;
            return;
        }
        for (member, m) in marks {
            if member != cx.cfg.id && cx.view.member(member).is_some() {
                self.on_marks(cx, member, m, now);
            }
        }
        for a in acks {
            if a.member != cx.cfg.id && cx.view.member(a.member).is_some() {
                self.on_ack(cx, a.member, a.round, a.status, now);
            }
        }
    }

    /// When the kept ACKs are due to be passed on: at once when the round
    /// every member ACKed advanced since the last relay (the relay completes
    /// it everywhere else), else once the oldest has waited the
    /// delayed-acknowledgement time, so the ACKs of a round stuck on one
    /// member still show in every member's status.
    pub(crate) fn relay_deadline(&self, cfg: &Config, params: &Params) -> Option<Time> {
        let since = self.relay_since?;
        let advanced = self.progress.acked_by_all() > self.relayed_upto || self.stable(cfg) > self.relayed_stable;
        Some(if advanced { since } else { since + crate::net::limits(params).ack_delay() })
    }

    /// Passes the kept ACKs and marks on if they are due: to each member,
    /// those of the others. A fenced coordinator passes nothing on.
    pub(crate) fn relay_acks(&mut self, cx: &mut Cx<'_>, now: Time) {
        if cx.fenced {
            self.relay.clear();
            self.relay_marks.clear();
            self.relay_since = None;
            return;
        }
        if self.relay_deadline(cx.cfg, &cx.tuning.params).is_none_or(|t| t > now) {
            return;
        }
        let acks = std::mem::take(&mut self.relay);
        let marks = std::mem::take(&mut self.relay_marks);
        self.relay_since = None;
        self.relayed_upto = self.progress.acked_by_all();
        self.relayed_stable = self.stable(cx.cfg);
        let view = cx.view.id;
        let others: Vec<NodeId> = cx.view.members.iter().map(|m| m.id).filter(|&id| id != cx.cfg.id).collect();
        for id in others {
            let theirs: Vec<RelayedAck> = acks.iter().filter(|a| a.member != id).cloned().collect();
            let their_marks: Vec<(NodeId, Marks)> = marks.iter().filter(|(&m, _)| m != id).map(|(&m, &k)| (m, k)).collect();
            if !theirs.is_empty() || !their_marks.is_empty() {
                let _ = cx.send(id, &Msg::Acks { view, acks: theirs, marks: their_marks }, true);
            }
        }
    }

    /// Completes the current round if every member ACKed it, and moves on.
    fn check_round(&mut self, cx: &mut Cx<'_>, now: Time) {
        if !self.can_progress(cx) {
            return;
        }
        let Some(r) = self.running.as_mut() else { return };
        if r.missing > 0 || !matches!(r.step, Step::Acked) {
            return;
        }
        self.ack_rounds.observe_since(r.round_started, now);
        if r.round_index + 1 < r.entry.body.rounds() {
            r.round_index += 1;
            r.round += 1;
            self.start_round(cx, now);
            return;
        }
        let r = self.running.take().expect("checked above");
        let statuses: Vec<(NodeId, AckStatus)> = r
            .members
            .iter()
            .map(|&id| (id, self.acks.get(&(r.round, id)).cloned().unwrap_or_else(|| implied_status(&r.entry.body))))
            .collect();
        self.finish(cx, r, statuses, now);
    }

    /// Ends a protocol with the statuses of its last round.
    fn finish(&mut self, cx: &mut Cx<'_>, r: Running, statuses: Vec<(NodeId, AckStatus)>, now: Time) {
        let reason = if cx.cfg.flawed("ignore-failures") { None } else { round_verdict(&statuses).err() };
        let committed = reason.is_none();
        if matches!(r.entry.body, ProtocolBody::Change(_)) {
            self.changes.observe_since(r.started, now);
        }
        self.next_round = r.round + 1;
        self.acks = self.acks.split_off(&(r.round + 1, 0));
        self.conclude(cx, r.entry, committed, statuses, reason, now);
    }

    /// Records a protocol's end on this member: keeps or undoes a change and
    /// decides the outcome, which the host is told once it is final
    /// ([`Core::report_stable`]).
    fn conclude(
        &mut self,
        cx: &mut Cx<'_>,
        entry: Entry,
        committed: bool,
        statuses: Vec<(NodeId, AckStatus)>,
        reason: Option<String>,
        now: Time,
    ) {
        let mut values = None;
        match &entry.body {
            ProtocolBody::Change(changes) => {
                values = cx.tuning.conclude(committed, cx.cfg.flawed("keep-rolled-back-values"));
                if committed {
                    cx.ring.on_params_committed(cx.tuning, changes, now);
                }
            }
            ProtocolBody::Nodes(_) => values = cx.tuning.conclude(committed, false),
            ProtocolBody::RotateKey(_) => {
                values = cx.tuning.conclude(committed, false);
                cx.tuning.retire_keys(self.told_values.as_ref().map_or(0, |(_, p)| p.key()));
            }
            ProtocolBody::App(_) => {}
        }
        self.completed = self.completed.max(entry.seq);
        let o = Outcome {
            seq: entry.seq,
            pid: entry.pid,
            kind: entry.body.kind().to_string(),
            committed,
            generation: cx.tuning.generation,
            statuses,
            reason,
        };
        self.decide(o, values);
    }

    /// The phase and wait of the engine, for the status.
    pub(crate) fn phase(&self, view: &View, me: NodeId) -> (Phase, Option<Waiting>, Option<Time>) {
        let Some(r) = &self.running else {
            // Decided, not yet final: waiting for the members that have not
            // said they decided it too.
            let Some(u) = self.unreported.front() else { return (Phase::Idle, None, None) };
            let seq = u.outcome.seq;
            let missing = self.progress.undecided(view.ids(), me, seq).collect();
            return (Phase::WaitingAcks, Some(Waiting::Acks(missing)), None);
        };
        match &r.step {
            Step::Local { resource, .. } => (Phase::WaitingLocal, Some(Waiting::Local(resource.clone())), Some(r.step_since)),
            Step::Acked => {
                let missing = self.progress.not_acked(r.members.iter().copied(), me, r.round).collect();
                (Phase::WaitingAcks, Some(Waiting::Acks(missing)), Some(r.step_since))
            }
        }
    }
}
