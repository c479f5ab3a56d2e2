//! Membership: views, failure suspicion, join and merge, graceful leave, and
//! the view change that decides, among the survivors, the fate of the protocol
//! in flight.
//!
//! A view change is led by the lowest member not suspected. The leader sends
//! `Prepare(vid)`; a member that accepts it is *fenced*: it stops completing
//! protocols of its old view and answers with a report of its progress. With
//! every report in, the leader decides and sends `NewView`:
//! - the lineage is the reports with the highest last primary (quorum) view;
//! - the new view has quorum only if it holds a majority of the configured
//!   nodes *and* of that last primary view's members (same incarnations), so a
//!   majority of restarted, state-less nodes cannot fork the lineage; with no
//!   lineage at all (first start) it needs every configured node, and with
//!   every configured node present it always has quorum;
//! - a member one protocol behind adopts the outcome of a member that completed it;
//! - the protocol in flight that no survivor completed is abandoned by all, except
//!   a parameter change whose round-2 status from every member of its view is
//!   known to some survivor and all OK: that one commits on all;
//! - sequenced protocols not yet started are carried over in order;
//! - every member takes the lineage's parameters and generation (state transfer).
//!
//! A view without quorum runs no protocol and decides nothing: its members keep
//! their state until a view with quorum resolves it, and install it at once.
//!
//! A view with quorum decides, so it is installed in two steps, as in Paxos:
//! every member first *accepts* it (`Accepted` to the leader) and installs it
//! only when the leader saw every member accept (`Install`). Two leaders can
//! gather at once, and a member may report to both; the one it promised last
//! never gets its acceptance of the other, so that other view never installs
//! anywhere. A member that accepted a view reports its state as if it had
//! installed it, so a later view adopts an accepted view's decisions, and
//! installing that later view installs the accepted one first.

use crate::change::Tuning;
use crate::config::Config;
use crate::damping::Damping;
use crate::durable::Durable;
use crate::engine::{self, Engine, Step};
use crate::error::Error;
use crate::events::Event;
use crate::ids::{AckStatus, Incarnation, Member, NodeId, Outcome, ProtocolBody, View, ViewId};
use crate::messages::{Frame, Msg, NewView, Report};
use crate::net::Net;
use crate::params::{Param, Params};
use crate::ring::Ring;
use crate::status::Counters;
use crate::time::Time;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Messages kept for views not yet installed.
const MAX_DEFERRED: usize = 8_192;

#[derive(Debug)]
struct Gathering {
    vid: ViewId,
    members: Vec<Member>,
    reports: BTreeMap<NodeId, Report>,
    /// The decision, once every report is in (a view with quorum waits for
    /// every member to accept it).
    decided: Option<NewView>,
    /// Members that accepted the decision.
    accepted_by: BTreeSet<NodeId>,
    /// When it started: its members promised no earlier.
    started: Time,
    deadline: Time,
}

/// The longest a gathering runs, from its start: one and a half view change
/// timeouts, short of the two its members' fences last (see
/// `Membership::fence`). A fence older than this is stale.
fn gathering_cap(vct: std::time::Duration) -> std::time::Duration {
    vct * 3 / 2
}

#[derive(Debug)]
pub(crate) struct Membership {
    pub(crate) view: View,
    /// The last view with quorum this member belonged to.
    pub(crate) primary: ViewId,
    /// Members of that view.
    primary_members: Vec<Member>,
    suspects: BTreeSet<NodeId>,
    joiners: BTreeMap<NodeId, Member>,
    /// Highest view id this member accepted a `Prepare` for.
    promised: ViewId,
    /// The incarnation of that view's leader (a restarted leader can reuse a
    /// view id, and a message of its previous life must not count).
    promised_inc: Incarnation,
    /// Views with quorum this member accepted and has not installed, oldest
    /// first; each one's lineage holds this member, so it builds on the one
    /// before. Kept across views without quorum.
    accepted: Vec<NewView>,
    pub(crate) fenced_since: Time,
    /// When the fence was last set or refreshed (a promise, an acceptance).
    fenced_at: Time,
    fence_deadline: Option<Time>,
    gathering: Option<Gathering>,
    deferred: Vec<(ViewId, Member, Msg)>,
    /// A message of a view not yet installed was refused (the deferred
    /// buffer was full): once installed, this member's state there may have
    /// a gap, so it asks for the view change to be run again (its report
    /// then takes the view's state).
    resync: bool,
    next_probe: Time,
    /// When an unresolved suspicion makes this member suspect the leader candidate too.
    escalate_at: Option<Time>,
    /// When a coordinator with a lower id than this member last probed it: that
    /// one merges everybody, so this member leads no merge meanwhile.
    lower_probe_at: Option<Time>,
    /// The lower node this member defers to, and since when: one that has
    /// not merged it within two gathering caps (a node out of the node set
    /// probing with an old file, whose view changes never decide) is
    /// deferred to no longer.
    deferring_to: Option<(NodeId, Time)>,
    /// When this member, coordinator of a view without quorum that holds
    /// every node of its set, last ran the view change again.
    regathered_at: Option<Time>,
    /// Nodes this member pointed to its coordinator lately (see
    /// [`Membership::point_to_coordinator`]), and when.
    answered: BTreeMap<NodeId, Time>,
    /// When this member last gave up leading a view change because a member
    /// had promised one of a leader with a lower id: it leads none for as
    /// long as a gathering may run (see [`Membership::on_prepare_refused`]).
    yielded_at: Option<Time>,
    /// Members excluded again and again, held out for a backoff.
    pub(crate) damping: Damping,
    /// Whether this member's state is on stable storage (`Config::durable`).
    durable: bool,
    /// Whether it joins a cluster that exists (`Config::joins`).
    pub(crate) joins: bool,
    /// The generation of a node set without this member that a view change
    /// it led found (it was removed while away): it leaves.
    pub(crate) removed_at: Option<u64>,
    /// Restarted from stable storage: the parameters and generation it had
    /// decided, which its reports carry until a view with quorum hands it
    /// the lineage's. Meanwhile it runs the values its host was last told:
    /// a decision never reported may be superseded by the lineage, and its
    /// values must never be told as that generation's.
    restored: Option<(Params, u64)>,
}

impl Membership {
    pub(crate) fn new(me: Member, quorum: bool, now: Time) -> Membership {
        let id = ViewId { epoch: 0, leader: me.id };
        Membership {
            view: View { id, members: vec![me], quorum },
            primary: if quorum { id } else { ViewId::default() },
            primary_members: if quorum { vec![me] } else { Vec::new() },
            suspects: BTreeSet::new(),
            joiners: BTreeMap::new(),
            promised: id,
            promised_inc: me.inc,
            accepted: Vec::new(),
            fenced_since: now,
            fenced_at: now,
            fence_deadline: None,
            gathering: None,
            deferred: Vec::new(),
            resync: false,
            next_probe: now,
            escalate_at: None,
            lower_probe_at: None,
            deferring_to: None,
            yielded_at: None,
            answered: BTreeMap::new(),
            regathered_at: None,
            damping: Damping::default(),
            durable: false,
            joins: false,
            removed_at: None,
            restored: None,
        }
    }

    /// A member restarted from its durable state: in a view of its own
    /// numbered past every promise it made, so it is not fenced and never
    /// reuses a view id; holding the lineage it had installed and accepted.
    pub(crate) fn restore(me: Member, quorum: bool, now: Time, d: Option<&Durable>) -> Membership {
        let Some(d) = d else {
            return Membership { durable: true, ..Membership::new(me, quorum, now) };
        };
        let mut m = Membership::new(me, quorum, now);
        m.view.id = ViewId { epoch: d.promised.epoch + 1, leader: me.id };
        m.promised = m.view.id;
        if !quorum {
            m.primary = d.primary;
            m.primary_members = d.primary_members.clone();
            m.accepted = d.accepted.clone();
            m.restored = Some((d.params.clone(), d.generation));
        }
        m.durable = true;
        m
    }

    /// What of this member's views it must keep on stable storage.
    pub(crate) fn save(&self, d: &mut Durable) {
        if let Some((params, generation)) = &self.restored {
            (d.params, d.generation) = (params.clone(), *generation);
        }
        d.promised = self.promised;
        d.primary = self.primary;
        d.primary_members.clone_from(&self.primary_members);
        d.accepted.clone_from(&self.accepted);
    }

    /// The membership part of `durable::Mark`.
    pub(crate) fn mark(&self) -> (ViewId, ViewId, (usize, Option<ViewId>)) {
        (self.promised, self.primary, (self.accepted.len(), self.accepted.last().map(|nv| nv.vid)))
    }

    /// The leader this member is fenced by (it reported to a view change not yet installed).
    pub(crate) fn fenced_by(&self) -> Option<NodeId> {
        (self.promised > self.view.id).then_some(self.promised.leader)
    }

    /// Whether a message of `view` from `from` belongs to the current view:
    /// the sender must be a member in the incarnation it sent from (a node
    /// that restarted can reuse a view id its previous life had used, and a
    /// message of that life must not count in the new view).
    fn accepts(&self, view: ViewId, from: Member) -> bool {
        view == self.view.id && self.view.holds(from)
    }

    /// Keeps a message of a future view for replay at its install; drops
    /// older ones. With the buffer full, the message is refused, counted
    /// stale and logged, and this member resyncs once it installs the view
    /// (see [`Membership::resync`]): nothing is dropped silently.
    fn defer_or_drop(&mut self, view: ViewId, from: Member, msg: Msg, counters: &mut Counters) {
        if view > self.view.id && self.deferred.len() < MAX_DEFERRED {
            self.deferred.push((view, from, msg));
            return;
        }
        counters.stale += 1;
        if view > self.view.id {
            log::warn!(
                "in view {}: {MAX_DEFERRED} messages wait for view {view}; refused one from member {}, will resync",
                self.view.id,
                from.id
            );
            self.resync = true;
        }
    }

    /// Messages of the current view kept earlier; older ones are discarded.
    fn take_deferred(&mut self) -> Vec<(Member, Msg)> {
        let cur = self.view.id;
        self.deferred.retain(|(v, _, _)| *v >= cur);
        let (now, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.deferred).into_iter().partition(|(v, _, _)| *v == cur);
        self.deferred = later;
        now.into_iter().map(|(_, f, m)| (f, m)).collect()
    }

    pub(crate) fn next_deadline(&self) -> Option<Time> {
        // A leader's own fence waits while it gathers (see `Membership::on_timeout`).
        let fence = self.fence_deadline.filter(|_| self.gathering.is_none());
        [Some(self.next_probe), fence, self.gathering.as_ref().map(|g| g.deadline), self.escalate_at].into_iter().flatten().min()
    }

    /// Whether this member belongs to a lineage: it installed or accepted
    /// a view with quorum (in this life, or in one it restored).
    pub(crate) fn has_lineage(&self) -> bool {
        self.primary != ViewId::default()
    }

    /// Whether node `id` is a member of this member's view, of a view it
    /// accepted, or of the view change it gathers.
    pub(crate) fn involves(&self, id: NodeId) -> bool {
        self.view.member(id).is_some()
            || self.accepted.iter().any(|nv| nv.members.iter().any(|m| m.id == id))
            || self.gathering.as_ref().is_some_and(|g| g.members.iter().any(|m| m.id == id))
    }

    fn is_member(&self, m: Member) -> bool {
        self.view.holds(m)
    }
}

/// How long a leader waits for reports (and a fenced member for the new
/// view, twice this): long enough for a few retransmissions, bounded by the
/// give-up time: `min(max-message-retry-time, max(heartbeat-timeout,
/// 10 × message-retry-timer))`.
pub fn view_change_timeout(p: &Params) -> std::time::Duration {
    p.duration(Param::MaxMessageRetryTime).min(p.duration(Param::HeartbeatTimeout).max(p.duration(Param::MessageRetryTimer) * 10))
}

/// The first readmission backoff of a flapping member (see `crate::damping`):
/// as long as a fence lasts, two view change timeouts.
fn damping_base(p: &Params) -> std::time::Duration {
    view_change_timeout(p) * 2
}

/// The longest a member excluded again and again is held out before it is
/// merged back (flap damping): 8 times the first backoff, which is two view
/// change timeouts.
pub fn longest_readmission_backoff(p: &Params) -> std::time::Duration {
    damping_base(p) * crate::damping::MAX_FACTOR
}

/// What membership's handlers work with besides their own state.
pub(crate) struct Cx<'a> {
    pub(crate) cfg: &'a Config,
    pub(crate) net: &'a mut Net,
    pub(crate) eng: &'a mut Engine,
    pub(crate) ring: &'a mut Ring,
    pub(crate) tuning: &'a mut Tuning,
}

impl Cx<'_> {
    /// Queues a reliable message (see [`Net::send_msg`]).
    fn send(&mut self, to: NodeId, msg: &Msg, force: bool) -> Result<(), Error> {
        self.net.send_msg(&self.tuning.params, to, msg, force)
    }
}

impl Membership {
    /// Records a suspicion of `id` here (counted, and told to the host);
    /// false if it was already suspected.
    fn note_suspicion(&mut self, cx: &mut Cx<'_>, id: NodeId, reason: impl FnOnce() -> String) -> bool {
        if !self.suspects.insert(id) {
            return false;
        }
        let reason = reason();
        log::info!("node {}: suspects member {id} ({reason})", cx.cfg.id);
        cx.net.counters.suspicions += 1;
        cx.net.events.push_back(Event::Suspected { member: id, reason });
        true
    }

    /// This member suspects `m` failed: tells the others and, if it leads, starts a view change.
    pub(crate) fn suspect(&mut self, cx: &mut Cx<'_>, m: Member, reason: &str, now: Time) {
        if m.id == cx.cfg.id || !self.is_member(m) || !self.note_suspicion(cx, m.id, || reason.to_string()) {
            return;
        }
        let msg = Msg::Suspect { view: self.view.id, member: m };
        for o in self.view.members.clone() {
            if o.id != cx.cfg.id && o.id != m.id {
                let _ = cx.send(o.id, &msg, true);
            }
        }
        self.maybe_lead(cx, false, now);
    }

    pub(crate) fn on_suspect_msg(&mut self, cx: &mut Cx<'_>, from: NodeId, view: ViewId, member: Member, now: Time) {
        if view != self.view.id || member.id == cx.cfg.id {
            return;
        }
        if self.is_member(member) {
            self.note_suspicion(cx, member.id, || format!("reported by member {from}"));
            self.maybe_lead(cx, false, now);
        } else {
            // A member is fenced by a leader outside the view that went silent: re-run.
            self.maybe_lead(cx, true, now);
        }
    }

    /// A member leaving tells every member itself, so each one suspects it
    /// here only: telling each other too cost a message per pair of members.
    pub(crate) fn on_leave_msg(&mut self, cx: &mut Cx<'_>, from: NodeId, view: ViewId, now: Time) {
        let Some(&m) = self.view.members.iter().find(|m| m.id == from) else { return };
        if from != cx.cfg.id && view <= self.view.id && self.note_suspicion(cx, from, || "left the group".into()) {
            self.tell_next_leader(cx, &[m]);
            self.maybe_lead(cx, false, now);
        }
    }

    /// Tells the member that leads the next view change (the lowest not
    /// suspected), if another, of suspicions it may have missed: one message
    /// per suspicion, where telling every member costs one per pair.
    fn tell_next_leader(&mut self, cx: &mut Cx<'_>, suspected: &[Member]) {
        let candidate = self.view.members.iter().find(|m| !self.suspects.contains(&m.id)).map(|m| m.id);
        if let Some(c) = candidate.filter(|&c| c != cx.cfg.id) {
            for &m in suspected {
                let _ = cx.send(c, &Msg::Suspect { view: self.view.id, member: m }, true);
            }
        }
    }

    /// Starts (or restarts) a view change if this member is the lowest not suspected
    /// and the membership it would propose differs from the view (or `force`).
    fn maybe_lead(&mut self, cx: &mut Cx<'_>, force: bool, now: Time) {
        if cx.net.left {
            return;
        }
        if !self.suspects.is_empty() && self.escalate_at.is_none() {
            self.escalate_at = Some(now + view_change_timeout(&cx.tuning.params));
        }
        let mut members: Vec<Member> = self.view.members.iter().filter(|m| !self.suspects.contains(&m.id)).copied().collect();
        if members.first().map(|m| m.id) != Some(cx.cfg.id) {
            return;
        }
        if self.yielded_at.is_some_and(|t| now.saturating_since(t) < gathering_cap(view_change_timeout(&cx.tuning.params))) {
            return;
        }
        for j in self.joiners.values() {
            if !self.suspects.contains(&j.id) && !members.iter().any(|m| m.id == j.id) {
                members.push(*j);
            }
        }
        members.sort();
        if self.gathering.as_ref().is_some_and(|g| g.decided.is_none()) {
            return self.regather(cx, members, now);
        }
        let same_as_view = members == self.view.members;
        let same_as_gathering = self.gathering.as_ref().is_some_and(|g| g.members == members);
        if same_as_gathering || (same_as_view && !force && self.fenced_by().is_none()) {
            return;
        }
        self.start_gathering(cx, members, now);
    }

    /// Changes the members of a gathering not yet decided, under the same
    /// view id: the members it keeps stay promised and their reports stand,
    /// members it adds are sent `Prepare`, and those it drops (or that
    /// restarted) lose their reports. Starting afresh under a new view id
    /// instead costs a `Prepare` and a report from every member for each
    /// suspicion or joiner, and in a large group those arrive one after
    /// another: a view change of 64 members restarted thousands of times.
    fn regather(&mut self, cx: &mut Cx<'_>, members: Vec<Member>, now: Time) {
        let vct = view_change_timeout(&cx.tuning.params);
        let g = self.gathering.as_mut().expect("called while gathering");
        if g.members == members {
            return;
        }
        // A member added too late to answer before the gathering's cap waits
        // in `joiners` for the next view change.
        let late = now + vct > g.started + gathering_cap(vct);
        let members: Vec<Member> = members.into_iter().filter(|m| !late || g.members.contains(m)).collect();
        if g.members == members {
            return;
        }
        let kept = |id: &NodeId, old: &[Member]| members.iter().any(|m| m.id == *id && old.contains(m));
        let old = std::mem::take(&mut g.members);
        g.reports.retain(|id, _| kept(id, &old));
        let vid = g.vid;
        let added: Vec<Member> = members.iter().filter(|m| m.id != cx.cfg.id && !old.contains(m)).copied().collect();
        if !added.is_empty() {
            // The newcomers get a view change timeout to answer, but the
            // gathering ends before the fences of its first members run out
            // (`gathering_cap`), or they would give up on a live leader.
            g.deadline = g.deadline.max(now + vct).min(g.started + gathering_cap(vct));
        }
        g.members = members;
        log::debug!("node {}: view change {vid} now gathers {:?}", cx.cfg.id, g.members.iter().map(|m| m.id).collect::<Vec<_>>());
        for m in added {
            self.learn_member(cx, m);
            let _ = cx.send(m.id, &Msg::Prepare { vid }, true);
        }
        self.try_decide(cx, now);
    }

    fn start_gathering(&mut self, cx: &mut Cx<'_>, members: Vec<Member>, now: Time) {
        let epoch = self.promised.epoch.max(self.view.id.epoch) + 1;
        let vid = ViewId { epoch, leader: cx.cfg.id };
        self.fence(cx, vid, cx.cfg.me().inc, now);
        let mut reports = BTreeMap::new();
        reports.insert(cx.cfg.id, self.report(cx));
        for m in &members {
            if m.id != cx.cfg.id {
                self.learn_member(cx, *m);
                let _ = cx.send(m.id, &Msg::Prepare { vid }, true);
            }
        }
        log::debug!("node {}: leads view change to {vid} with {:?}", cx.cfg.id, members.iter().map(|m| m.id).collect::<Vec<_>>());
        self.gathering = Some(Gathering {
            vid,
            members,
            reports,
            decided: None,
            accepted_by: BTreeSet::new(),
            started: now,
            deadline: now + view_change_timeout(&cx.tuning.params),
        });
        self.try_decide(cx, now);
    }

    fn fence(&mut self, cx: &mut Cx<'_>, vid: ViewId, leader_inc: Incarnation, now: Time) {
        if self.fenced_by().is_none() {
            self.fenced_since = now;
        }
        self.promised = vid;
        self.promised_inc = leader_inc;
        self.fenced_at = now;
        self.fence_deadline = Some(now + view_change_timeout(&cx.tuning.params) * 2);
    }

    /// Whether this member is fenced by another member's view change that has
    /// run longer than any gathering may (see [`gathering_cap`]): its leader
    /// is gone or gave up on this member.
    fn stale_fence(&self, cx: &Cx<'_>, now: Time) -> bool {
        let vct = view_change_timeout(&cx.tuning.params);
        self.gathering.is_none() && self.fenced_by().is_some() && now >= self.fenced_at + gathering_cap(vct)
    }

    /// Makes sure a channel exists for `m` at its incarnation.
    fn learn_member(&mut self, cx: &mut Cx<'_>, m: Member) {
        if cx.net.peers.get(&m.id).is_none_or(|p| m.inc > p.inc) {
            cx.net.replace_peer(m.id, m.inc);
            cx.eng.progress.track(m.id);
        }
    }

    /// This member's flush state for a view change leader: as it would be
    /// with the views it accepted installed.
    fn report(&self, cx: &mut Cx<'_>) -> Report {
        let Some(top) = self.accepted.last() else {
            let (params, generation) = self.restored.clone().unwrap_or_else(|| (cx.tuning.committed().clone(), cx.tuning.generation));
            return self.report_of(cx.eng, (self.primary, self.primary_members.clone()), params, generation, Vec::new());
        };
        let mut eng = cx.eng.copy_without_history();
        let (mut events, mut counters) = (VecDeque::new(), Counters::default());
        for nv in &self.accepted {
            take_lineage(&mut eng, cx.cfg.id, nv, &mut events, &mut counters);
        }
        self.report_of(&eng, (top.vid, top.members.clone()), top.params.clone(), top.generation, top.ancestors.clone())
    }

    fn report_of(
        &self,
        eng: &Engine,
        primary: (ViewId, Vec<Member>),
        params: Params,
        generation: u64,
        ancestors: Vec<Vec<Member>>,
    ) -> Report {
        Report {
            view: self.view.id,
            primary: primary.0,
            primary_members: primary.1,
            ancestors,
            completed: eng.completed,
            last_outcome: eng.last_outcome.clone(),
            running: eng.running_report(),
            pending: eng.pending.iter().cloned().collect(),
            // Past every round this member ACKed (ahead, too), so the new view's
            // rounds are fresh.
            next_round: eng.running.as_ref().map_or(eng.next_round, |r| r.round + 1).max(eng.progress.mine + 1),
            params,
            generation,
            fates: eng.fates.all(),
            durable: self.durable,
            joins: self.joins,
        }
    }

    pub(crate) fn on_prepare(&mut self, cx: &mut Cx<'_>, sender: Member, vid: ViewId, now: Time) {
        let from = sender.id;
        // A leader from outside the view may only be merging it in: then it has
        // a lower id than this view's coordinator (or this view has no quorum).
        let outsider = self.view.member(from).is_none();
        let coordinator = self.view.members.first().map_or(NodeId::MAX, |m| m.id);
        if outsider && self.view.quorum && (from > coordinator || self.damping.holds(sender, now)) {
            return;
        }
        let accepted_it = self.accepted.last().is_some_and(|a| a.vid == vid);
        if !cx.net.left
            && vid == self.promised
            && vid.leader == from
            && sender.inc == self.promised_inc
            && self.gathering.is_none()
            && !accepted_it
        {
            // A leader that changed its gathering asks again (see
            // `Membership::regather`): the same answer, and the fence runs
            // from now. Promised, this member accepted nothing since, so its
            // report is unchanged.
            self.fence(cx, vid, sender.inc, now);
            let report = Box::new(self.report(cx));
            let _ = cx.send(from, &Msg::PrepareAck { vid, report }, true);
            return;
        }
        if cx.net.left || vid <= self.promised || vid.leader != from {
            if vid < self.promised && !cx.net.left {
                // Tell the leader what it must beat.
                let _ = cx.send(from, &Msg::PrepareRefused { vid, promised: self.promised }, true);
            }
            return;
        }
        self.gathering = None;
        self.fence(cx, vid, sender.inc, now);
        let report = Box::new(self.report(cx));
        let _ = cx.send(from, &Msg::PrepareAck { vid, report }, true);
    }

    pub(crate) fn on_prepare_ack(&mut self, cx: &mut Cx<'_>, sender: Member, vid: ViewId, report: Report, now: Time) {
        let Some(g) = self.gathering.as_mut() else { return };
        if g.vid != vid || g.decided.is_some() || !g.members.contains(&sender) {
            return;
        }
        g.reports.insert(sender.id, report);
        self.try_decide(cx, now);
    }

    /// A leader whose `Prepare` was refused learns the epoch it must beat, and
    /// outbids it, unless the view change the member promised has a leader
    /// with a lower id: then this member yields to that one. Two leaders that
    /// both outbid restart each other's gathering at every answer: at 64
    /// members, one 20-second run sent 1.8 million `Prepare`s. Yielding, this
    /// member stays fenced by its own view id until the other leader prepares
    /// it or its fence runs out (then it leads again, see `on_timeout`).
    pub(crate) fn on_prepare_refused(&mut self, cx: &mut Cx<'_>, sender: Member, vid: ViewId, promised: ViewId, now: Time) {
        let Some(g) = self.gathering.as_ref() else { return };
        // A member the gathering dropped since may still answer its `Prepare`.
        if g.vid != vid || g.decided.is_some() || !g.members.contains(&sender) {
            return;
        }
        if promised.leader < cx.cfg.id {
            log::debug!("node {}: yields view change {vid} to {promised}, promised by member {}", cx.cfg.id, sender.id);
            self.gathering = None;
            self.yielded_at = Some(now);
            return;
        }
        let members = g.members.clone();
        self.promised.epoch = self.promised.epoch.max(promised.epoch);
        self.start_gathering(cx, members, now);
    }

    pub(crate) fn on_timeout(&mut self, cx: &mut Cx<'_>, now: Time) {
        if let Some(g) = &self.gathering {
            if g.deadline <= now {
                let answered = |id: &NodeId| if g.decided.is_some() { g.accepted_by.contains(id) } else { g.reports.contains_key(id) };
                let silent: Vec<NodeId> = g.members.iter().map(|m| m.id).filter(|id| !answered(id)).collect();
                // A joiner that asked in and then did not answer (a one-way
                // cut, say) counts as excluded: asking again and again, it
                // would cost a view change each time.
                let base = damping_base(&cx.tuning.params);
                if self.view.quorum {
                    for m in g.members.iter().filter(|m| !answered(&m.id) && !self.view.members.iter().any(|v| v.id == m.id)) {
                        self.damping.excluded(*m, now, base);
                    }
                }
                self.gathering = None;
                for id in silent {
                    self.note_suspicion(cx, id, || "no answer to a view change".into());
                }
                self.maybe_lead(cx, true, now);
            }
        }
        if let Some(d) = self.fence_deadline {
            if d <= now && self.gathering.is_none() {
                self.fence_deadline = Some(now + view_change_timeout(&cx.tuning.params) * 2);
                if let Some(leader) = self.fenced_by() {
                    if let Some(&l) = self.view.members.iter().find(|m| m.id == leader) {
                        self.suspect(cx, l, "no new view from the view change leader", now);
                    } else {
                        let msg = Msg::Suspect { view: self.view.id, member: Member { id: leader, inc: 0 } };
                        for o in self.view.members.clone() {
                            if o.id != cx.cfg.id {
                                let _ = cx.send(o.id, &msg, true);
                            }
                        }
                    }
                    self.maybe_lead(cx, true, now);
                } else {
                    self.fence_deadline = None;
                }
            }
        }
        if self.escalate_at.is_some_and(|t| t <= now) {
            // A suspicion the leader candidate did not act on: suspect the candidate too.
            self.escalate_at = None;
            let candidate = self.view.members.iter().find(|m| !self.suspects.contains(&m.id) && m.id != cx.cfg.id).copied();
            // A view change this member promised is under way, whoever leads
            // it: its fence deadline, not this, tells whether its leader went
            // silent. Suspecting the candidate meanwhile (its `Prepare` may
            // just be late) tells every member to drop it, and in a large
            // group one impatient member after another cost the group leader
            // after leader. A promise older than any gathering runs died
            // with its leader (whose messages may not even reach this
            // member): it holds nothing back.
            let leading = self.gathering.is_some() || (self.fenced_by().is_some() && !self.stale_fence(cx, now));
            if let Some(c) = candidate.filter(|c| c.id < cx.cfg.id && !leading) {
                self.suspect(cx, c, "did not lead the view change for a suspected member", now);
            }
        }
        if self.next_probe <= now {
            self.next_probe = now + cx.tuning.params.duration(Param::HeartbeatInterval);
            let coordinator = self.view.members.first().map(|m| m.id) == Some(cx.cfg.id);
            // A promise to a view change that has run longer than any
            // gathering may and is not this member's own died with its
            // leader: it must not keep this member out of merges until the
            // fence expires (a lower coordinator only merges whom it hears).
            // The nodes of the set, and those a node change in flight adds:
            // while it runs, a view change needs a majority of the set it
            // would put in force too.
            let nodes = cx.tuning.committed().nodes().clone();
            let adding = cx.eng.running.iter().map(|r| &r.entry).chain(&cx.eng.pending).filter_map(|e| match &e.body {
                ProtocolBody::Nodes(c) => Some(c.add.iter().map(|a| a.0)),
                _ => None,
            });
            let mut missing: Vec<NodeId> = nodes.ids().chain(adding.flatten()).filter(|&id| self.view.member(id).is_none()).collect();
            missing.sort_unstable();
            missing.dedup();
            let free = self.fenced_by().is_none() || self.stale_fence(cx, now);
            if coordinator && free && !missing.is_empty() {
                let frame = Frame::Join { view: self.view.id, members: self.view.members.clone() };
                for &id in &missing {
                    cx.net.push_frame(id, frame.clone());
                }
            }
            // Every node of the set in a view without quorum (decided while
            // a member brought an older set, say): the view change runs
            // again, at most once per view change timeout, and with the
            // members' reports of now it may find quorum.
            let again = self.regathered_at.is_none_or(|t| now.saturating_since(t) >= view_change_timeout(&cx.tuning.params));
            if coordinator && free && missing.is_empty() && !self.view.quorum && self.gathering.is_none() && again {
                self.regathered_at = Some(now);
                self.maybe_lead(cx, true, now);
            }
        }
    }

    pub(crate) fn on_join(&mut self, cx: &mut Cx<'_>, sender: Member, view: ViewId, members: Vec<Member>, now: Time) {
        // A probe can tell this member that members of its view moved to a
        // newer view that left it out.
        let me = cx.cfg.id;
        if view > self.view.id && !members.iter().any(|m| m.id == me) {
            let moved = self.moved_on(me, sender, &members);
            if !moved.is_empty() {
                let before = self.view.id;
                // The leader this member promised probes from a view at
                // least as new, without it: that view change is over.
                let promise_over = self.fenced_by() == Some(sender.id) && view >= self.promised;
                self.drop_moved(cx, &moved, promise_over, now);
                if self.view.id != before && sender.id < me {
                    // Out at once, alone: probe back, so that the prober,
                    // lower, merges this member without waiting for the
                    // next probe interval.
                    cx.net.push_frame(sender.id, Frame::Join { view: self.view.id, members: self.view.members.clone() });
                }
            }
        }
        // Members held out for flapping are neither merged nor deferred to;
        // the others a held coordinator probes for still are.
        let held = |m: Member| self.view.quorum && self.damping.holds(m, now);
        let sender_held = held(sender);
        let members: Vec<Member> = members.into_iter().filter(|&m| !held(m)).collect();
        if sender_held && members.is_empty() {
            return;
        }
        if let Some(&old) = self.view.members.iter().find(|m| m.id == sender.id).filter(|_| !sender_held) {
            if old.inc < sender.inc {
                // It restarted: the old incarnation is gone, the new one joins.
                self.joiners.insert(sender.id, sender);
                self.suspect(cx, old, "restarted with a new incarnation", now);
            }
            return;
        }
        // A member out of the node set its lineage committed (removed) merges
        // nobody: it waits to be added again, and merged by a member.
        let removed = self.primary != ViewId::default() && !cx.tuning.committed().nodes().contains(cx.cfg.id);
        let coordinator = self.view.members.first().map(|m| m.id) == Some(cx.cfg.id) && !removed;
        let prober = (!sender_held).then_some(sender);
        // Only nodes of the committed set: one a node change in flight adds
        // joins once it committed (a view change now would undo it). A
        // member that never belonged to a view with quorum knows no
        // committed set (a new node's file may list one node to contact),
        // and one in a view without quorum may hold an old one: they merge
        // whoever probes, and the view change's decision takes the set of
        // the lineage they bring (leaving out nodes not in it). Nor does a
        // member defer to a node it would not merge.
        let anyone = self.primary == ViewId::default() || !self.view.quorum;
        let set = cx.tuning.committed().nodes().clone();
        let known = move |id: NodeId| anyone || set.contains(id);
        let Some(their_lowest) = members.iter().chain(&prober).map(|m| m.id).filter(|&id| known(id)).min() else { return };
        if their_lowest < cx.cfg.id && !self.given_up_on(cx, their_lowest, now) {
            self.lower_probe_at = Some(now);
        }
        let probe = cx.tuning.params.duration(Param::HeartbeatInterval);
        let deferring = self.lower_probe_at.is_some_and(|t| now.saturating_since(t) < probe * 2);
        if !coordinator || cx.cfg.id > their_lowest || deferring {
            if !removed && !sender_held && self.view.member(sender.id).is_none() {
                self.point_to_coordinator(cx, sender, their_lowest, now);
            }
            return;
        }
        let mut added = false;
        for m in members.into_iter().chain(prober) {
            // A probe from a stale view may name an older life of a joiner.
            let older = self.joiners.get(&m.id).is_some_and(|j| j.inc > m.inc);
            if !known(m.id) || self.view.members.iter().any(|v| v.id == m.id) || older {
                continue;
            }
            self.learn_member(cx, m);
            self.suspects.remove(&m.id);
            added |= self.joiners.insert(m.id, m) != Some(m);
        }
        // Promised to another leader's live view change, this member leads
        // nothing now: that view change takes it in (its install clears the
        // joiners, which probe again; a stale promise lets this member lead
        // at the next probe). Leading on a prober's every probe, it
        // outbid the merge that would give its group quorum, again and
        // again (swarm seed 777225: a node outside the node set probing a
        // restarted member alone in a view without quorum).
        let promised_elsewhere = self.fenced_by().is_some_and(|l| l != cx.cfg.id) && !self.stale_fence(cx, now);
        if (added || self.gathering.is_none()) && !promised_elsewhere {
            self.maybe_lead(cx, false, now);
        }
    }

    /// Whether this member stopped deferring to `lower`, a lower node that
    /// keeps probing it from outside its view: after two gathering caps
    /// without being merged by it.
    fn given_up_on(&mut self, cx: &Cx<'_>, lower: NodeId, now: Time) -> bool {
        let cap = gathering_cap(view_change_timeout(&cx.tuning.params)) * 2;
        match self.deferring_to {
            Some((id, since)) if id == lower => now.saturating_since(since) >= cap,
            _ => {
                self.deferring_to = Some((lower, now));
                false
            }
        }
    }

    /// Probed by `sender` from outside this view, whose lowest member is
    /// `theirs`: makes the two coordinators meet, since only the lower one
    /// merges and either may not know the other (a new node's file may
    /// list one node to contact; a restarted member knows the node set its
    /// state holds, not the one the cluster went on to). Their coordinator
    /// lower than this view's is sent this view, so it merges it; a
    /// coordinator's probe, from above this view's coordinator, is answered
    /// with this view, so that the prober probes that coordinator in turn.
    /// At most once per heartbeat interval per node, so two answers never
    /// bounce.
    fn point_to_coordinator(&mut self, cx: &mut Cx<'_>, sender: Member, theirs: NodeId, now: Time) {
        let ours = self.view.members.first().map_or(cx.cfg.id, |m| m.id);
        let to = if theirs < ours {
            theirs
        } else if sender.id == theirs && ours < theirs && ours != cx.cfg.id {
            sender.id
        } else {
            return;
        };
        let interval = cx.tuning.params.duration(Param::HeartbeatInterval);
        self.answered.retain(|_, t| now.saturating_since(*t) < interval);
        if self.answered.contains_key(&to) {
            return;
        }
        self.answered.insert(to, now);
        cx.net.push_frame(to, Frame::Join { view: self.view.id, members: self.view.members.clone() });
    }

    /// The members of this view that `sender` or `members`, the members of
    /// a newer view, hold at the same or a later incarnation (a restarted
    /// one's old life is gone too). Every member of that view promised it,
    /// so none of these will complete anything of this view again.
    fn moved_on(&self, me: NodeId, sender: Member, members: &[Member]) -> Vec<Member> {
        let holds = |v: &Member| std::iter::once(&sender).chain(members).any(|m| m.id == v.id && m.inc >= v.inc);
        self.view.members.iter().filter(|v| v.id != me && holds(v)).copied().collect()
    }

    /// Suspects the members of this view that moved to a newer one, and runs
    /// the view change that drops them if this member leads it (alone, it
    /// installs at once a view without quorum, which the next merge takes
    /// in). Waiting for the failure detector instead costs a timeout for each
    /// member ranked before this one. The others left in this view get the
    /// same probes, so only the member that leads next is told (it may have
    /// missed them). While promised to a live merge from outside the view
    /// (not `promise_over`, not stale), this member leads nothing: the merge
    /// takes it in.
    fn drop_moved(&mut self, cx: &mut Cx<'_>, moved: &[Member], promise_over: bool, now: Time) {
        log::info!(
            "node {}: members {:?} of view {} moved to a newer view without this one",
            cx.cfg.id,
            moved.iter().map(|m| m.id).collect::<Vec<_>>(),
            self.view.id
        );
        let me = cx.cfg.id;
        let mut news = Vec::new();
        for m in moved {
            if self.note_suspicion(cx, m.id, || "moved to a newer view without this member".into()) {
                news.push(*m);
            }
        }
        // The member that leads the view change without them may have missed
        // the probe.
        self.tell_next_leader(cx, &news);
        // Promised to a live merge from outside, which takes this member in:
        // leading a view change now would only stop it.
        let merging = self.fenced_by().is_some_and(|l| l != me && !self.view.members.iter().any(|m| m.id == l));
        if !merging || promise_over || self.stale_fence(cx, now) {
            self.maybe_lead(cx, false, now);
        }
    }

    /// With every report in, decides and sends the decision; a view without
    /// quorum installs at once, one with quorum once every member accepted it.
    fn try_decide(&mut self, cx: &mut Cx<'_>, now: Time) {
        let Some(g) = &self.gathering else { return };
        if g.decided.is_some() || g.reports.len() < g.members.len() {
            return;
        }
        let rule = if !cx.cfg.quorum || cx.cfg.flawed("minority-decides") {
            Quorum::Off
        } else if cx.cfg.flawed("newest-set-only") {
            Quorum::NewestSetOnly
        } else {
            Quorum::Joint
        };
        let (params, generation) = (cx.tuning.params.clone(), cx.tuning.generation);
        #[allow(unused_mut)]
        let mut nv = decide_view(rule, g.vid, g.members.clone(), &g.reports, params, generation);
        if !nv.members.contains(&cx.cfg.me()) {
            // The lineage's node set no longer holds this member: a node
            // change removed it while it was away. It decides nothing for
            // the cluster (the members wait out their promise and merge
            // again) and leaves (see `Core::follow_node_set`).
            let g = self.gathering.take().expect("checked above");
            // It learns it was removed only from members that decided so
            // too: a removal only this member decided (the others never
            // learned it, and will undo it) is not one. A new node whose
            // addition this view change abandoned is not removed either: it
            // waits to be added.
            let me = cx.cfg.id;
            let others_decided =
                g.reports.iter().any(|(&id, r)| id != me && !r.params.nodes().is_empty() && !r.params.nodes().contains(me));
            if others_decided && (!cx.cfg.joins || self.primary != ViewId::default()) {
                log::warn!(
                    "node {}: the cluster's node set {} (generation {}) no longer holds it",
                    cx.cfg.id,
                    nv.params.nodes(),
                    nv.generation
                );
                self.removed_at = Some(nv.generation);
            }
            return;
        }
        if cx.cfg.flawed("fates-window") {
            let completed = nv.completed;
            nv.fates.retain(|d| d.seq + 256 > completed);
        }
        for m in &nv.members {
            if m.id != cx.cfg.id {
                let _ = cx.send(m.id, &Msg::NewView(Box::new(nv.clone())), true);
            }
        }
        if !nv.quorum {
            self.install(cx, nv, now);
            return;
        }
        self.accept(cx, nv.clone());
        let deadline = now + view_change_timeout(&cx.tuning.params);
        let vid = nv.vid;
        let g = self.gathering.as_mut().expect("checked above");
        // Members out of the node set were left out: only the others accept.
        g.members.clone_from(&nv.members);
        g.decided = Some(nv);
        g.deadline = deadline;
        self.on_accepted(cx, cx.cfg.id, vid, now);
    }

    pub(crate) fn on_new_view(&mut self, cx: &mut Cx<'_>, sender: Member, nv: NewView, now: Time) {
        if nv.vid != self.promised || nv.vid.leader != sender.id || sender.inc != self.promised_inc || !nv.members.contains(&cx.cfg.me()) {
            cx.net.counters.stale += 1;
            return;
        }
        if !nv.quorum {
            self.install(cx, nv, now);
            return;
        }
        if cx.cfg.quorum && nv.generation < cx.eng.reported_generation {
            // Every generation a host was told is on the disk of every member
            // of the view that decided it, and every later view with quorum
            // carries it: a lineage behind it is another history (a state
            // restored from an old backup, here or there).
            log::error!(
                "node {}: refused view {} of leader {}: its parameters are at generation {}, but this member's host was \
                 already told generation {} (a state file restored from a backup, or from another cluster?)",
                cx.cfg.id,
                nv.vid,
                sender.id,
                nv.generation,
                cx.eng.reported_generation
            );
            cx.net.counters.stale += 1;
            return;
        }
        let vid = nv.vid;
        self.accept(cx, nv);
        // The leader is alive and decided: the fence runs from now, as long
        // as the leader waits for acceptances and half as long again.
        self.fenced_at = now;
        self.fence_deadline = Some(now + gathering_cap(view_change_timeout(&cx.tuning.params)));
        let _ = cx.send(sender.id, &Msg::Accepted { vid }, true);
    }

    /// Accepts a view with quorum: one whose lineage holds this member builds
    /// on the views accepted before; one whose lineage does not replaces them
    /// (its leader saw a later lineage than they carry).
    fn accept(&mut self, cx: &mut Cx<'_>, nv: NewView) {
        if !nv.base.contains(&cx.cfg.id) {
            self.accepted.clear();
        }
        self.accepted.push(nv);
    }

    /// The leader counts a member's acceptance; with every member's, all install.
    pub(crate) fn on_accepted(&mut self, cx: &mut Cx<'_>, from: NodeId, vid: ViewId, now: Time) {
        let Some(g) = self.gathering.as_mut().filter(|g| g.vid == vid && g.decided.is_some()) else { return };
        if !g.members.iter().any(|m| m.id == from) {
            return;
        }
        g.accepted_by.insert(from);
        if g.accepted_by.len() < g.members.len() {
            return;
        }
        let g = self.gathering.take().expect("checked above");
        for m in &g.members {
            if m.id != cx.cfg.id {
                let _ = cx.send(m.id, &Msg::Install { vid }, true);
            }
        }
        let installed = self.install_accepted(cx, vid, now);
        debug_assert!(installed, "a leader's decision is its last accepted view while it gathers");
    }

    /// Every member accepted `vid`: installs it, after the views it builds on.
    /// This member may meanwhile have promised a later view: it reported to
    /// that one as if these were installed, so installing them agrees with it.
    pub(crate) fn on_install(&mut self, cx: &mut Cx<'_>, sender: Member, vid: ViewId, now: Time) {
        if vid.leader != sender.id || vid <= self.view.id || !self.install_accepted(cx, vid, now) {
            cx.net.counters.stale += 1;
        }
    }

    /// Installs the accepted views up to `vid`, the last one accepted; false
    /// (nothing done) when `vid` is not that one.
    fn install_accepted(&mut self, cx: &mut Cx<'_>, vid: ViewId, now: Time) -> bool {
        if self.accepted.last().is_none_or(|nv| nv.vid != vid) {
            return false;
        }
        let mut chain = std::mem::take(&mut self.accepted);
        let last = chain.pop().expect("checked above");
        for nv in &chain {
            self.take_view(cx, nv);
        }
        self.install(cx, last, now);
        true
    }

    fn install(&mut self, cx: &mut Cx<'_>, nv: NewView, now: Time) {
        self.deferring_to = None;
        if nv.quorum {
            let base = damping_base(&cx.tuning.params);
            for m in self.view.members.iter().filter(|m| m.id != cx.cfg.id && !nv.members.iter().any(|n| n.id == m.id)) {
                self.damping.excluded(*m, now, base);
            }
        }
        let mut members = nv.members.clone();
        // Sorted by id whoever built it: lookups in a view are binary searches.
        members.sort_unstable();
        self.view = View { id: nv.vid, members, quorum: nv.quorum };
        if self.promised <= nv.vid {
            self.promised = nv.vid;
            self.fence_deadline = None;
            self.gathering = None;
            self.suspects.clear();
            self.escalate_at = None;
            self.joiners.clear();
        }
        cx.eng.progress.new_view(nv.members.iter().map(|m| m.id), cx.cfg.id);
        for m in &nv.members {
            if m.id != cx.cfg.id {
                self.learn_member(cx, *m);
            }
        }
        self.take_view(cx, &nv);
        cx.ring.reset(&self.view.members, cx.cfg.me(), &cx.tuning.params, cx.tuning.generation, now);
        self.with_engine(cx, |e, ecx| e.resubmit_outstanding(ecx));
        for (from, msg) in self.take_deferred() {
            self.deliver(cx, from, msg, now);
        }
        if std::mem::take(&mut self.resync) && nv.quorum {
            self.ask_for_resync(cx, now);
        }
    }

    /// Takes in a peer-protocol message of a view: the engine's if it belongs
    /// to the view installed here, else kept for a later view or dropped.
    pub(crate) fn deliver(&mut self, cx: &mut Cx<'_>, from: Member, msg: Msg, now: Time) {
        let view = msg.protocol_view().expect("only view-tagged protocol messages are delivered");
        if self.accepts(view, from) {
            self.with_engine(cx, |e, ecx| e.on_msg(ecx, from, msg, now));
        } else {
            self.defer_or_drop(view, from, msg, &mut cx.net.counters);
        }
    }

    /// Runs `f` on the engine in the view installed here.
    fn with_engine<R>(&self, cx: &mut Cx<'_>, f: impl FnOnce(&mut Engine, &mut engine::Cx<'_>) -> R) -> R {
        let mut ecx =
            engine::Cx { cfg: cx.cfg, net: cx.net, view: &self.view, fenced: self.fenced_by().is_some(), tuning: cx.tuning, ring: cx.ring };
        f(cx.eng, &mut ecx)
    }

    /// Asks the coordinator to run the view change again, with the same
    /// members: the reports carry the view's state to every member, gaps
    /// included. (A suspicion of a non-member makes the lowest member re-run
    /// its view change; node id 0 is never a member.)
    fn ask_for_resync(&mut self, cx: &mut Cx<'_>, now: Time) {
        let coordinator = self.view.members.first().map_or(cx.cfg.id, |m| m.id);
        if coordinator == cx.cfg.id {
            return self.maybe_lead(cx, true, now);
        }
        let msg = Msg::Suspect { view: self.view.id, member: Member { id: 0, inc: 0 } };
        let _ = cx.send(coordinator, &msg, true);
    }

    /// Takes what a view hands its members (the lineage state, if it has
    /// quorum) and tells the host. A view accepted and installed only as the
    /// ancestor of a later one passes through here too, so the host sees each
    /// view whose state it took, and whether it came by transfer.
    fn take_view(&mut self, cx: &mut Cx<'_>, nv: &NewView) {
        cx.net.counters.views_installed += 1;
        log::info!(
            "node {}: installed view {} {:?} quorum {}",
            cx.cfg.id,
            nv.vid,
            nv.members.iter().map(|m| m.id).collect::<Vec<_>>(),
            nv.quorum
        );
        cx.net.events.push_back(Event::ViewChanged {
            view: nv.vid,
            members: nv.members.clone(),
            quorum: nv.quorum,
            transferred: nv.quorum && !nv.base.contains(&cx.cfg.id),
        });
        // The view first, then what it decided: a host reads the outcomes
        // and values a view hands over after the view.
        if nv.quorum {
            self.take_view_state(cx, nv);
        }
    }

    /// Takes the lineage state a view with quorum hands its members.
    fn take_view_state(&mut self, cx: &mut Cx<'_>, nv: &NewView) {
        self.restored = None;
        self.primary = nv.vid;
        self.primary_members = nv.members.clone();
        take_lineage(cx.eng, cx.cfg.id, nv, &mut cx.net.events, &mut cx.net.counters);
        cx.tuning.take(nv.params.clone(), nv.generation);
    }
}

/// What a view with quorum does to a member's engine: the outcomes it decided
/// (telling the host of those this member was running or had queued, or had
/// proposed), the proposals decided while their proposers were cut off, and
/// the protocols it carries over. One function for installing a view and for
/// reporting as if an accepted one were installed.
fn take_lineage(eng: &mut Engine, me: NodeId, nv: &NewView, events: &mut VecDeque<Event>, counters: &mut Counters) {
    eng.settle_unreported(nv.base.contains(&me), events, counters);
    // Against what the host was told, not what this member decided: a
    // change it decided and never reported is news to its host. Told
    // before the outcomes the view resolves, which hold these values.
    eng.tell_values(nv.generation, nv.params.clone(), events);
    eng.fates.replace(&nv.fates);
    resolve(eng, me, nv, events, counters);
    learn_decided(eng, &nv.fates, events);
    eng.install(nv.completed, nv.pending.clone(), nv.next_round);
}

/// A proposer learns the fate of each of its proposals the lineage decided
/// while it was cut off (the fates table keeps every one until it did).
fn learn_decided(eng: &mut Engine, fates: &[crate::messages::Decided], events: &mut VecDeque<Event>) {
    for d in fates {
        if eng.outcome(d.pid).is_some() || !eng.outstanding.contains_key(&d.pid) {
            continue;
        }
        let o = Outcome {
            seq: d.seq,
            pid: d.pid,
            kind: d.kind.clone(),
            committed: d.committed,
            generation: d.generation,
            statuses: Vec::new(),
            reason: (!d.committed).then(|| "decided while this member was cut off".to_string()),
        };
        eng.tell(Event::OutcomeLearned(o), events);
    }
}

/// Applies the leader's outcomes to the protocols this member knew; a member
/// of the lineage reports every protocol it had not completed, in order.
fn resolve(eng: &mut Engine, me: NodeId, nv: &NewView, events: &mut VecDeque<Event>, counters: &mut Counters) {
    let in_lineage = nv.base.contains(&me);
    let mut running = eng.running.take();
    for o in &nv.resolved {
        let from_running = running.as_ref().is_some_and(|r| r.entry.seq == o.seq && r.entry.pid == o.pid);
        let from_pending = eng.pending.iter().any(|e| e.seq == o.seq && e.pid == o.pid);
        if from_running {
            let r = running.take().expect("checked above");
            if let Step::Local { token, .. } = r.step {
                events.push_back(Event::WaitCancelled { token });
            }
        }
        if from_running || from_pending || (in_lineage && o.seq > eng.completed) {
            counters.count_completed(o);
            eng.tell(Event::Completed(o.clone()), events);
        } else if eng.outstanding.contains_key(&o.pid) {
            eng.tell(Event::OutcomeLearned(o.clone()), events);
        }
        eng.adopt(o.clone());
    }
    if let Some(r) = running {
        // A protocol of another lineage: superseded by the state transfer.
        if let Step::Local { token, .. } = r.step {
            events.push_back(Event::WaitCancelled { token });
        }
    }
}

/// Which node sets a view with quorum must hold a majority of (see
/// [`decide_view`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quorum {
    /// None: every view has quorum (`Config::quorum` off: two-node and test
    /// setups, which accept that both sides of a partition go on).
    Off,
    /// The rule libcgm runs: a majority of every node set the lineage's
    /// members hold (a member a node change behind holds the old one) and
    /// of the set a node change in flight would put in force; with every
    /// node of all of them present, always.
    Joint,
    /// Deliberately unsafe, kept for the checkers that show what the joint
    /// rule guards against (`cgm-model`'s variant, the simulator's
    /// `newest-set-only` flaw): only the node set of the lineage's most
    /// advanced member counts (each member counting the set it holds), not
    /// the set a change in flight would put in force. Unsafe together with
    /// a node change that removes a majority of its view (which
    /// [`crate::NodeChange::keeps_majority_of`] refuses).
    NewestSetOnly,
}

/// The view change decision a leader makes once every member of the new view
/// has reported:
/// - the lineage is the reports with the highest last primary (quorum) view;
/// - quorum (under [`Quorum::Joint`]): a majority of the lineage's node sets
///   (each lineage member's [`Params::nodes`], and the set a node change in
///   flight would put in force: while they differ, a majority of each) and
///   of that primary view's members; every node of those sets present
///   always has quorum; no lineage at all needs
///   every node of the leader's set; when no member of the lineage
///   installed its view (only accepted it), also a majority of each view
///   between the last one they installed and it (`Report::ancestors`); a
///   view without quorum decides nothing;
/// - a member one protocol behind adopts the outcome of a member that
///   completed it (the *holder*, whose committed parameters every member takes);
/// - the protocol in flight that no survivor completed is abandoned by all,
///   except a parameter change whose round-2 status from every member of its
///   view is known to some survivor in round 2 (the reports are pooled) and all
///   OK: that one commits on all;
/// - sequenced protocols not yet started are carried over in order;
/// - with a lineage, quorum is counted among the members that are in one of
///   its node sets or carry its top view (a node a change removed, back
///   from elsewhere, is left out), and the new view holds those of them in
///   the node set it leaves in force or carrying the top view.
///
/// A pure function of its inputs, so every leader given the same reports
/// decides the same, and the model checker (`cgm-model`) runs this very rule.
/// `rule` is which node sets count, `members` the members gathered
/// (sorted), `reports` one per member (the leader's own included), and
/// `params`/`generation` the leader's own, which a view without quorum
/// carries unchanged (and whose node set counts when no report holds a
/// lineage).
///
/// # Panics
/// If `reports` is empty (a leader always holds its own).
pub fn decide_view(
    rule: Quorum,
    vid: ViewId,
    members: Vec<Member>,
    reports: &BTreeMap<NodeId, Report>,
    params: Params,
    generation: u64,
) -> NewView {
    let top = reports.values().map(|r| r.primary).max().unwrap_or_default();
    let base_ids: Vec<NodeId> = reports.iter().filter(|(_, r)| r.primary == top).map(|(&id, _)| id).collect();
    let sets = node_sets(rule, top, &base_ids, reports, &params);
    // Every node of the node sets gathered: none can be in another view
    // with quorum. (A node a change removed may be in none of them: the
    // change left a majority of its view, which any view with quorum
    // needs, so the removed ones never form one.)
    let top_members = &reports[&base_ids[0]].primary_members;
    let everyone = !sets.is_empty() && sets.iter().all(|s| s.all_in(members.iter().map(|m| m.id)));
    // Quorum counts the nodes of the sets, and the members of the top view
    // still in it (one a change just removed is told by this view, and
    // leaves); not a node the sets no longer hold back from elsewhere.
    let carried = |m: &Member| top_members.contains(m) && reports.get(&m.id).is_some_and(|r| r.primary == top);
    let members: Vec<Member> = if top == ViewId::default() {
        members
    } else {
        members.into_iter().filter(|m| sets.iter().any(|s| s.contains(m.id)) || carried(m)).collect()
    };
    // The views between the last one of the lineage some member installed and
    // its top (excluded): empty when the top is installed. A lineage some
    // member installed was accepted by all its members; one only accepted may
    // have lost to a view gathered at the same time from the same ancestors,
    // so the new view must hold a majority of each of them too, as a leader
    // re-proposing it would.
    let base_reports = || base_ids.iter().map(|id| &reports[id]);
    let mut ancestors: Vec<Vec<Member>> = Vec::new();
    if !base_reports().any(|r| r.ancestors.is_empty()) {
        for a in base_reports().flat_map(|r| &r.ancestors) {
            if !ancestors.contains(a) {
                ancestors.push(a.clone());
            }
        }
    }
    // A member started to join a cluster that exists never starts one.
    let joiner_alone = top == ViewId::default() && reports.values().any(|r| r.joins);
    let quorum = if rule == Quorum::Off {
        true
    } else if joiner_alone {
        false
    } else if everyone {
        true
    } else if top == ViewId::default() {
        false
    } else {
        // A majority of a view's members in the same incarnation; none of a
        // view never installed (a first start, which needed every node).
        let same = |m: &Member| members.contains(m);
        let held = |view: &[Member], carried: &dyn Fn(&Member) -> bool| {
            !view.is_empty() && view.iter().filter(|m| carried(m)).count() * 2 > view.len()
        };
        // For the lineage's top view, a member restarted with that view on
        // stable storage counts too: `primary == top` on a durable report
        // means the file was written by the life the view lists (a life
        // without the file has no lineage, or accepted the view itself), so
        // it still holds what that life promised and accepted there. Not
        // for the views before it: a life in between may have run without
        // the file and promised nothing it remembers.
        let restarted = |m: &Member| {
            same(m) || members.iter().any(|n| n.id == m.id && reports.get(&n.id).is_some_and(|r| r.durable && r.primary == top))
        };
        // A lineage some member installed was accepted by all its members;
        // one only accepted may have lost to a view gathered at the same time
        // from the same ancestors, so the new view must hold a majority of
        // each of them too, as a leader re-proposing it would.
        sets.iter().all(|s| s.majority_in(members.iter().map(|m| m.id)))
            && held(top_members, &restarted)
            && ancestors.iter().all(|a| held(a, &same))
    };
    let next_round = reports.values().map(|r| r.next_round).max().unwrap_or(1).max(1);
    let lineage_top = base_reports().next().map(|r| r.primary_members.clone()).unwrap_or_default();
    let mut nv = NewView {
        vid,
        members,
        quorum,
        base: Vec::new(),
        ancestors: ancestors.into_iter().chain(std::iter::once(lineage_top)).collect(),
        resolved: Vec::new(),
        pending: Vec::new(),
        completed: 0,
        next_round,
        params,
        generation,
        fates: Vec::new(),
    };
    if !quorum {
        return nv;
    }
    let base: Vec<&Report> = reports.values().filter(|r| r.primary == top).collect();
    let mut seen = std::collections::BTreeSet::new();
    // The lineage's whole fates table: its members' decisions are the
    // lineage's, and members outside it learn their proposals' fates here.
    nv.fates = base.iter().flat_map(|r| r.fates.iter()).filter(|d| seen.insert(d.pid)).cloned().collect();
    nv.fates.sort_by_key(|d| (d.seq, d.pid));
    nv.base = base_ids;
    let m = base.iter().map(|r| r.completed).max().unwrap_or(0);
    let holder = base.iter().find(|r| r.completed == m).expect("base is not empty");
    nv.params = holder.params.clone();
    nv.generation = holder.generation;
    nv.completed = m;
    if let Some(last) = holder.last_outcome.clone().filter(|o| o.seq == m) {
        nv.resolved.extend(acked_ahead_outcomes(&base, &last));
        if base.iter().any(|r| r.completed < m) {
            nv.resolved.push(last);
        }
    }
    let running: Vec<_> = base.iter().filter_map(|r| r.running.as_ref()).filter(|rr| rr.entry.seq == m + 1).collect();
    if let Some(first) = running.first() {
        let entry = first.entry.clone();
        let mut heard: BTreeMap<NodeId, AckStatus> = BTreeMap::new();
        for rr in running.iter().filter(|rr| rr.round_index + 1 == entry.body.rounds()) {
            for (id, s) in &rr.last_round {
                heard.insert(*id, s.clone());
            }
        }
        let statuses: Vec<(NodeId, AckStatus)> =
            first.members.iter().map(|id| (*id, heard.get(id).cloned().unwrap_or(AckStatus::Received))).collect();
        let all_ok = statuses.iter().all(|(_, s)| matches!(s, AckStatus::Ok(_)));
        let (committed, reason) = match &entry.body {
            ProtocolBody::Change(changes) if all_ok => match nv.params.with_changes(changes) {
                Ok(p) => {
                    nv.params = p;
                    nv.generation += 1;
                    (true, None)
                }
                Err(e) => (false, Some(e.to_string())),
            },
            ProtocolBody::RotateKey(k) if all_ok => {
                nv.params = nv.params.with_key(k.fingerprint);
                nv.generation += 1;
                (true, None)
            }
            ProtocolBody::Nodes(c) if all_ok => match nv.params.nodes().with_change(c) {
                Ok(nodes) => {
                    nv.params = nv.params.with_nodes(nodes);
                    nv.generation += 1;
                    (true, None)
                }
                Err(why) => (false, Some(why)),
            },
            _ => {
                let failed: Vec<String> = statuses
                    .iter()
                    .filter_map(|(id, s)| match s {
                        AckStatus::Failed(why) => Some(format!("member {id}: {why}")),
                        AckStatus::Received => Some(format!("member {id}: no status (view change)")),
                        AckStatus::Ok(_) => None,
                    })
                    .collect();
                (false, Some(format!("abandoned by view change {}: {}", vid, failed.join("; "))))
            }
        };
        nv.resolved.push(Outcome {
            seq: entry.seq,
            pid: entry.pid,
            kind: entry.body.kind().to_string(),
            committed,
            generation: nv.generation,
            statuses,
            reason,
        });
        nv.completed = m + 1;
    }
    let completed = nv.completed;
    nv.pending = base
        .iter()
        .map(|r| r.pending.iter().filter(|e| e.seq > completed).cloned().collect::<Vec<_>>())
        .max_by_key(|p| p.len())
        .unwrap_or_default();
    if nv.pending.first().is_some_and(|e| e.seq != completed + 1) {
        nv.pending.clear();
    }
    // The view holds the node set this decision leaves in force: a node a
    // change in flight would have added, abandoned here, is left out. Not a
    // member the quorum counted for the top view (carried, or restarted
    // with it on its disk): left out, it would never accept this view, and
    // a majority of the top view without this one could form another. It
    // accepts, takes the decision (its removal, if so) and leaves.
    let nodes = nv.params.nodes().clone();
    let on_disk =
        |m: &Member| top_members.iter().any(|t| t.id == m.id) && reports.get(&m.id).is_some_and(|r| r.durable && r.primary == top);
    nv.members.retain(|m| nodes.contains(m.id) || carried(m) || on_disk(m));
    nv
}

/// The node sets a view decided from `reports` must hold a majority of
/// under `rule`: those of the lineage (the reports of `base_ids`, whose top
/// view is `top`) and the one a node change it runs or holds sequenced
/// would put in force; the leader's (`params`) when there is no lineage.
/// Under [`Quorum::NewestSetOnly`], only the set of the lineage member that
/// completed the most.
fn node_sets(rule: Quorum, top: ViewId, base_ids: &[NodeId], reports: &BTreeMap<NodeId, Report>, params: &Params) -> Vec<crate::Roster> {
    if rule == Quorum::NewestSetOnly && top != ViewId::default() {
        let holder = base_ids.iter().map(|id| &reports[id]).max_by_key(|r| r.completed).expect("base is not empty");
        return vec![holder.params.nodes().clone()];
    }
    let mut sets: Vec<crate::Roster> = Vec::new();
    let mut add = |s: &crate::Roster| {
        if !s.is_empty() && !sets.contains(s) {
            sets.push(s.clone());
        }
    };
    if top == ViewId::default() {
        add(params.nodes());
    }
    for r in base_ids.iter().map(|id| &reports[id]).filter(|_| top != ViewId::default()) {
        add(r.params.nodes());
        let in_flight = r.running.iter().map(|rr| &rr.entry).chain(&r.pending);
        for c in in_flight.filter_map(|e| if let ProtocolBody::Nodes(c) = &e.body { Some(c) } else { None }) {
            if let Ok(next) = r.params.nodes().with_change(c) {
                add(&next);
            }
        }
    }
    sets
}

/// The outcomes of the protocols before `last` (the newest one any member of
/// the lineage completed) that some members had not completed. Members finish
/// protocols one at a time, and one that is behind by more than one has ACKed
/// the rounds in between ahead, which it does only for protocols that need no
/// local step (see `Engine::ack_horizon`). Such a protocol completes committed
/// with an empty status from every member of the view it ran in, so its
/// outcome follows from its entry, exactly as its completers recorded it.
fn acked_ahead_outcomes(base: &[&Report], last: &Outcome) -> Vec<Outcome> {
    let generation = last.generation - u64::from(ProtocolBody::moves_generation(&last.kind) && last.committed);
    let mut found: BTreeMap<u64, Outcome> = BTreeMap::new();
    for r in base.iter().filter(|r| r.completed + 1 < last.seq) {
        let Some(rr) = &r.running else { continue };
        for e in std::iter::once(&rr.entry).chain(&r.pending).filter(|e| e.seq > r.completed && e.seq < last.seq) {
            found.entry(e.seq).or_insert_with(|| Outcome {
                seq: e.seq,
                pid: e.pid,
                kind: e.body.kind().to_string(),
                committed: true,
                generation,
                statuses: rr.members.iter().map(|&id| (id, AckStatus::Ok(Default::default()))).collect(),
                reason: None,
            });
        }
    }
    found.into_values().collect()
}
