//! A model of libcgm's transactional parameter change protocol as the code
//! implements it, checked exhaustively with [stateright] for three members
//! with up to two crashes and a network that loses, reorders and duplicates
//! messages.
//!
//! This crate is proof documentation: it states what the change protocol
//! guarantees and under which faults, shows by an exhaustive search of every
//! interleaving that the code's rules keep those guarantees, and shows with
//! the [`Variant`]s that each safeguard of the code is needed: with any one
//! removed, the checker finds a counterexample.
//!
//! # What is modelled, and where it is in the code
//!
//! One parameter change ([`CHANGE`]) sequenced by the coordinator (node 1) of
//! a view of three members with quorum, run by every member as
//! `rust/cgm-core/src/engine.rs` runs it, and the view changes that follow
//! crashes, as `rust/cgm-core/src/membership.rs` runs them:
//!
//! | model | code |
//! | --- | --- |
//! | initial state: the coordinator sends the sequenced entry to 2 and 3 and starts the change | `Core::progress` (`Msg::Sequenced`), `Core::start_protocol` |
//! | [`Msg::Sequenced`] delivered: the member starts round 1 | `Core::on_sequenced`, `Core::progress`, `Core::start_protocol` |
//! | round 1: an ACK `Received` to every member | `Core::start_round` (index 0), `Core::send_ack`, `Core::broadcast_ack` |
//! | [`Msg::Ack`] delivered: last ACK round, stored status, missing count | `Core::on_ack` (`Peer::last_ack_round`, the `Engine::acks` window, `Running::missing`) |
//! | a round completes when nobody is missing | `Core::check_round` (only while `Core::can_progress`) |
//! | round 2 starts: static check, local limits, veto hook | `Core::start_round` (index 1): `Params::with_changes`, `LocalLimits::check`, `Core::wait_on(Resource::Veto)` |
//! | [`Action::Answer`]: the host approves or vetoes (a veto timeout is a veto) | `Core::complete_local_wait`, `Core::engine_timeout` |
//! | local apply: remember the old values, apply the new | `Core::apply_change` (`Running::old_params`) |
//! | round 2 completes: the verdict on every member's status | `Core::check_round`, `Core::finish` → [`cgm_core::round_verdict`] (called here) |
//! | a commit keeps the values, a rollback restores the remembered ones | `Core::conclude` |
//! | [`Action::Crash`]: a member stops for good | a node process dying |
//! | [`Action::Lead`]: the lowest live member of a view with a crashed member starts a view change, fenced, with its own report | `Core::maybe_lead`, `Core::start_gathering`, `Core::fence`, `Core::report` |
//! | [`Action::Prepare`]: a member accepts the `Prepare`, is fenced, and reports | `Core::on_prepare`, `Core::report`, `Engine::running_report`, `Core::on_prepare_ack` |
//! | with every report in, the leader decides and installs | `Core::try_decide` → [`cgm_core::decide_view`] (called here), `Core::install` |
//! | [`Action::Install`]: the `NewView` reaches a member, which installs it | `Core::on_new_view`, `Core::install`, `Core::resolve`, `Engine::install` |
//!
//! Since the code installs a view with quorum in two steps (`NewView`, every
//! member's `Accepted`, then `Install`), the model still installs on the
//! `NewView`: it has one leader at a time (crash-stop, no false suspicion), and
//! with one leader the two steps decide exactly what one step does. Competing
//! leaders, the case the second step exists for, are covered by the simulator
//! (`cgm-sim`, the seed bank's 40354, 85071 and 94515, and the extended run);
//! modelling them here is the next step.
//!
//! The decisions that make the protocol safe are not re-implemented: the
//! model calls [`cgm_core::round_verdict`] (the last round's verdict, on
//! every member) and [`cgm_core::decide_view`] (the view change leader's
//! decision from the survivors' [`Report`]s, which the model builds field by
//! field as `Core::report` does), and the local step calls
//! [`Params::with_changes`] and [`LocalLimits::check`]. The rest mirrors the
//! code function by function, as the table says and each function's
//! documentation repeats.
//!
//! # What the model abstracts, and why that is sound
//!
//! - **The network** is a set of messages that only grows: delivering a
//!   message leaves it in the set, so any message can be delivered any number
//!   of times (duplication), in any order (reordering), or never (loss). The
//!   code's reliable channels (`reliable.rs`: retransmission, in-order
//!   delivery and a sequence-number dedupe) give more than that, so the
//!   engine is shown safe even without them. Messages to a crashed member
//!   are dropped; messages a member sent before it crashed may still arrive.
//!   A member that installs a new view drops every message of the old one
//!   still addressed to it (`Membership::accepts`, `Membership::defer_or_drop`),
//!   and sends only to members in its own view (in the three-member scope,
//!   the only members in another view are ones that will never install the
//!   sender's: a message deferred for them would never be replayed).
//! - **View change messages.** A `Prepare` and the report it is answered
//!   with are one step ([`Action::Prepare`]): the member is fenced the moment
//!   it reports, so nothing it does between reporting and the leader
//!   receiving the report can reach the decision. The `NewView` is a message
//!   per member ([`Action::Install`]), so members install at different times
//!   and a leader can crash with some of them fenced and not installed.
//!   `PrepareRefused` is not modelled: a new leader's epoch is always above
//!   every live member's promise in this scope, and a refused `Prepare` would
//!   only stall the view change (a liveness matter).
//! - **Crashes** are crash-stop: at most [`ChangeModel::max_crashes`]
//!   members stop for good, at any point, the coordinator and view change
//!   leaders included. A view change starts only for a crashed member (a
//!   false suspicion, a restart with a new incarnation and a join are out of
//!   scope; see the limitation below).
//! - **One protocol** runs (sequence 1, global rounds 1 and 2). Earlier and
//!   later protocols, ACKs ahead (`Engine::ack_horizon`) and state transfer to
//!   joiners do not enter a parameter change's decision.
//! - **Round-1 statuses** are not stored: they are all `Received`, and the
//!   view change rule ignores the statuses of members that had not reached
//!   the last round. A round-1 report lists `Received` for itself and for
//!   the members whose round-1 ACK counts as received.
//! - **A failure** is one [`Status::Failed`]: why a member failed (out of
//!   range, a local limit, a veto, a veto timeout) changes no decision.
//! - **Local setups** ([`Setup`]) are the initial states: every combination
//!   of "applies at once", "veto hook" (the host approves or vetoes at any
//!   point, a fenced member's host too) and "a `[limits]` bound below the
//!   change" on the three members: 27 initial states in one search.
//!
//! # What is proven (for [`Variant::Code`])
//!
//! In every reachable state (properties `always`):
//! - **agreement**: no two live members decide differently;
//! - **validity**: a member commits only if every member, crashed or not,
//!   applied the change successfully (a failed apply, a local limit or a
//!   veto never commits);
//! - **values follow the outcome**: a member that committed holds the new
//!   values (generation 1), one that rolled back holds exactly the old ones
//!   (generation 0): the undo restores what was there;
//! - **settled members agree**: live members not in the middle of the
//!   change hold identical parameters and generation;
//! - **no outcome is overruled**: a view change never records, for a member
//!   that completed the change, an outcome other than its own.
//!
//! These are reachable (properties `sometimes`, showing the search is not
//! vacuous): a commit everywhere, a rollback everywhere after a failed apply,
//! a commit decided by a view change from pooled statuses, an abandon by a
//! view change, a survivor adopting the outcome another survivor completed,
//! and a lone survivor without quorum left undecided (a view without quorum
//! decides nothing).
//!
//! # The limitation the model makes visible
//!
//! A member that holds every OK status commits at once. If it then crashes
//! before its own round-2 status reaches anyone, the survivors cannot tell it
//! from a member whose apply failed, and abandon the change. The `sometimes`
//! property [`LIMITATION`] shows this run exists. It is the blocking case of
//! every two-phase commit, whose only alternative is to wait for the crashed
//! member forever. Agreement is therefore stated for live members: what a
//! crashed member decided dies with it (a restarted node takes the
//! survivors' parameters by state transfer before it takes part). A member
//! excluded while alive (a false suspicion) is in the crashed member's
//! position until it rejoins and takes the lineage's parameters.
#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

use cgm_core::wire::{AckStatus, Decided, Entry, Member, NewView, Outcome, ProposalId, ProtocolBody, Report, RunningReport, ViewId};
use cgm_core::{decide_view, round_verdict, LocalLimits, NodeId, Param, Params};
use stateright::{Checker, HasDiscoveries, Model, Property};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

/// Members of the modelled view (node ids 1, 2 and 3; node 1 coordinates).
pub const MEMBERS: usize = 3;

/// The change every run proposes: a heartbeat interval and a fragment size,
/// both valid everywhere, the fragment size beyond a [`Setup::Tight`]
/// member's local limit.
pub const CHANGE: [(Param, u64); 2] = [(Param::HeartbeatInterval, 500), (Param::MaxFragmentSize, 2000)];

/// The local limit of a [`Setup::Tight`] member on the fragment size.
const TIGHT_FRAGMENT_LIMIT: u64 = 1500;

/// The name of the `sometimes` property that shows the two-phase-commit
/// limitation (see the crate documentation): a member committed and crashed,
/// and the survivors rolled back.
pub const LIMITATION: &str = "limitation (inherent): a member commits, crashes, and the survivors roll back";

/// The node id of member index `i`.
fn node(i: usize) -> NodeId {
    NodeId::try_from(i + 1).expect("three members")
}

/// The member index of node `id`.
fn index(id: NodeId) -> usize {
    usize::try_from(id).expect("a small node id") - 1
}

/// Member index `i` as a view member (one incarnation: nobody restarts).
fn member(i: usize) -> Member {
    Member { id: node(i), inc: 1 }
}

/// The sequenced entry of the change, as `Core::progress` makes it.
fn entry() -> Entry {
    Entry { seq: 1, pid: ProposalId { node: 1, txid: 1 }, body: ProtocolBody::Change(CHANGE.to_vec()) }
}

/// The parameters a committed change leaves.
fn new_params() -> Params {
    Params::default().with_changes(&CHANGE).expect("the modelled change is valid")
}

/// The statuses `Core::check_round` hands to `Core::finish`: each member's
/// round-2 status, or the implied one (`Received` for a change) when none
/// arrived.
fn last_round_statuses(round2: &[Option<Status>; MEMBERS]) -> Vec<(NodeId, AckStatus)> {
    (0..MEMBERS).map(|j| (node(j), round2[j].map_or(AckStatus::Received, Status::ack))).collect()
}

/// How a member's host meets the change at its local apply (its `Config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Setup {
    /// No limits and no veto hook: the member applies at once.
    Plain,
    /// `Config::veto_hook`: the member waits on [`cgm_core::Resource::Veto`]
    /// and the host approves or vetoes whenever it likes ([`Action::Answer`]).
    Hook,
    /// `Config::limits` bounds the fragment size below the change: the
    /// member's local check fails at once.
    Tight,
}

impl Setup {
    /// The member's local limits.
    fn limits(self) -> LocalLimits {
        let mut l = LocalLimits::default();
        if self == Setup::Tight {
            l.set(Param::MaxFragmentSize, TIGHT_FRAGMENT_LIMIT);
        }
        l
    }
}

/// The code's protocol, or the code with one safeguard removed. Every variant
/// but [`Variant::Code`] must fail a property: that shows the checker, and
/// each safeguard, has teeth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The protocol as the code implements it.
    Code,
    /// Each survivor decides the view change from its own report alone,
    /// instead of from the reports of every survivor, pooled by the leader.
    NoPooling,
    /// The view change leader disregards the reports of members that already
    /// completed the change, and decides from the others alone.
    IgnoreCompleted,
    /// The view change presumes OK for every round-2 status no survivor
    /// holds, instead of counting it as missing (`AckStatus::Received`).
    UnknownPresumedOk,
    /// The last round commits on a majority of OK statuses instead of on no
    /// failure at all.
    MajorityCommit,
    /// A rollback leaves the applied values in place instead of restoring the
    /// remembered old ones.
    NoUndo,
    /// Every ACK delivered counts toward completing a round, a duplicate too,
    /// instead of only the first ACK of that round from each member (the
    /// `last_ack_round` check in `Core::on_ack`).
    NoDedupe,
    /// A member that reported to a view change leader goes on completing
    /// rounds of the old view, instead of being fenced until it installs the
    /// new view (`Membership::fenced_by` in `Core::can_progress`).
    NoFence,
}

impl Variant {
    /// Every variant, the code's first.
    pub const ALL: [Variant; 8] = [
        Variant::Code,
        Variant::NoPooling,
        Variant::IgnoreCompleted,
        Variant::UnknownPresumedOk,
        Variant::MajorityCommit,
        Variant::NoUndo,
        Variant::NoDedupe,
        Variant::NoFence,
    ];
}

/// A member's round-2 status, as its ACK carries it (`AckStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Applied (`AckStatus::Ok`).
    Ok,
    /// Static check, local limit or veto failed (`AckStatus::Failed`).
    Failed,
}

impl Status {
    /// The wire status this stands for.
    fn ack(self) -> AckStatus {
        match self {
            Status::Ok => AckStatus::Ok(Default::default()),
            Status::Failed => AckStatus::Failed("local apply failed".into()),
        }
    }
}

/// Where a member is in the change (`Engine::running` and its `Step`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The change has not reached the member (or never will: a view change
    /// found nobody that had it).
    Idle,
    /// Running round `index + 1` of the change.
    Running {
        /// The round index within the change (`Running::round_index`):
        /// 0 is receipt, 1 is status.
        index: u8,
        /// Whether the member waits on its host's veto answer
        /// (`Step::Local`); else it has sent its ACK for the round and waits
        /// for the others (`Step::Acked`).
        vetting: bool,
    },
    /// The member completed the change.
    Done,
}

/// How a member came to its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decider {
    /// By completing round 2 itself (`Core::finish`).
    LastRound,
    /// By a view change that decided the change in flight from the
    /// survivors' pooled statuses.
    ViewChange,
    /// By a view change that handed it the outcome another survivor had
    /// completed.
    Adopted,
}

/// A member's outcome of the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// Committed (else rolled back or abandoned).
    pub committed: bool,
    /// How the member decided.
    pub by: Decider,
}

/// The view a member has installed (`Membership::view`, `primary`,
/// `primary_members`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemberView {
    /// Its id.
    pub id: ViewId,
    /// Its members (indices).
    pub members: Vec<usize>,
    /// Whether it has quorum.
    pub quorum: bool,
    /// The last view with quorum the member belonged to (its lineage).
    pub primary: ViewId,
    /// That view's members (indices).
    pub primary_members: Vec<usize>,
}

/// One member's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemberState {
    /// How its host meets the change.
    pub setup: Setup,
    /// Whether it crashed.
    pub crashed: bool,
    /// Where it is in the change.
    pub phase: Phase,
    /// The last round (1 or 2; 0: none) whose ACK arrived from each member
    /// (`Peer::last_ack_round`; its own entry unused).
    pub last_ack: [u8; MEMBERS],
    /// Members, itself included, whose ACK for the current round is missing
    /// (`Running::missing`).
    pub missing: u8,
    /// The round-2 status it holds from each member, itself included (the
    /// round-2 entries of `Engine::acks`).
    pub round2: [Option<Status>; MEMBERS],
    /// Its parameters in force.
    pub params: Params,
    /// The values before its local apply, while the change runs
    /// (`Running::old_params`).
    pub old_params: Option<Params>,
    /// Its parameter generation.
    pub generation: u64,
    /// Its outcome, once decided.
    pub decided: Option<Decision>,
    /// Set when a view change recorded for it an outcome other than the one
    /// it had completed with (`Engine::adopt` overwriting its record).
    pub overruled: bool,
    /// The view it has installed.
    pub view: MemberView,
    /// The highest view change it accepted a `Prepare` for
    /// (`Membership::promised`): above its view, it is fenced.
    pub promised: ViewId,
}

impl MemberState {
    fn new(setup: Setup, view: MemberView) -> MemberState {
        MemberState {
            setup,
            crashed: false,
            phase: Phase::Idle,
            last_ack: [0; MEMBERS],
            missing: 0,
            round2: [None; MEMBERS],
            params: Params::default(),
            old_params: None,
            generation: 0,
            decided: None,
            overruled: false,
            promised: view.id,
            view,
        }
    }

    /// `Engine::current_round`: the global round it works on or starts next.
    fn current_round(&self) -> u8 {
        match self.phase {
            Phase::Idle => 1,
            Phase::Running { index, .. } => index + 1,
            Phase::Done => 3,
        }
    }

    /// `Engine::my_ack_round`: the last round it ACKed.
    fn my_ack_round(&self) -> u8 {
        match self.phase {
            Phase::Idle => 0,
            Phase::Running { index, vetting } => index + u8::from(!vetting),
            Phase::Done => 2,
        }
    }

    /// Whether it completed the change (`Engine::completed` is 1).
    fn completed(&self) -> bool {
        self.phase == Phase::Done
    }

    /// `Membership::fenced_by`: it reported to a view change not installed yet.
    fn fenced(&self) -> bool {
        self.promised > self.view.id
    }
}

/// A message of the change in flight (the part of `Msg` the change uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Msg {
    /// `Msg::Sequenced` from the coordinator to member `to`.
    Sequenced {
        /// The recipient (member index).
        to: usize,
    },
    /// `Msg::Ack` for global `round` (1 or 2) from `from` to `to`; round 1
    /// carries `Received` (`None`), round 2 the sender's status.
    Ack {
        /// The sender (member index).
        from: usize,
        /// The recipient (member index).
        to: usize,
        /// The round ACKed.
        round: u8,
        /// The status carried (round 2).
        status: Option<Status>,
    },
}

impl Msg {
    fn to(self) -> usize {
        match self {
            Msg::Sequenced { to } | Msg::Ack { to, .. } => to,
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Msg::Sequenced { to } => write!(f, "sequenced 1->{}", node(to)),
            Msg::Ack { from, to, round, status: None } => write!(f, "ack r{round} {}->{}", node(from), node(to)),
            Msg::Ack { from, to, round, status: Some(s) } => write!(f, "ack r{round} {s:?} {}->{}", node(from), node(to)),
        }
    }
}

/// A view change under way (`Membership::gathering`, with the reports as
/// snapshots of the reporting members: the [`Report`] is built from them
/// when the leader decides).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Gathering {
    /// The view change's id.
    pub vid: ViewId,
    /// Its leader (member index).
    pub leader: usize,
    /// The members it gathers (indices).
    pub members: Vec<usize>,
    /// Each reporting member's state when it reported.
    pub reports: Vec<(usize, MemberState)>,
}

/// A `NewView` as the model keeps it in flight: the parts of a
/// [`NewView`] that `Core::install` reads for this one-protocol scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NewViewMsg {
    /// The recipient (member index).
    pub to: usize,
    /// The view's id.
    pub vid: ViewId,
    /// Its members (indices).
    pub members: Vec<usize>,
    /// Whether it has quorum.
    pub quorum: bool,
    /// The lineage (indices).
    pub base: Vec<usize>,
    /// The outcome resolved for the change, if any (`NewView::resolved`).
    pub resolved: Option<bool>,
    /// The parameters every member takes.
    pub params: Params,
    /// Their generation.
    pub generation: u64,
    /// Whether the outcome came from a survivor that had completed the change.
    pub adopted: bool,
}

impl NewViewMsg {
    fn new(to: usize, nv: &NewView, adopted: bool) -> NewViewMsg {
        let mut resolved = nv.resolved.iter().map(|o| {
            assert_eq!(o.seq, 1, "one protocol is modelled");
            o.committed
        });
        let outcome = resolved.next();
        assert!(resolved.next().is_none(), "one protocol is modelled");
        NewViewMsg {
            to,
            vid: nv.vid,
            members: nv.members.iter().map(|m| index(m.id)).collect(),
            quorum: nv.quorum,
            base: nv.base.iter().map(|&id| index(id)).collect(),
            resolved: outcome,
            params: nv.params,
            generation: nv.generation,
            adopted,
        }
    }
}

/// The state of the modelled cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Every member, by index (node id - 1).
    pub members: [MemberState; MEMBERS],
    /// Messages of the change that may be delivered (each any number of times).
    pub net: BTreeSet<Msg>,
    /// The view change under way, if any.
    pub gathering: Option<Gathering>,
    /// `NewView`s sent and not installed yet.
    pub new_views: Vec<NewViewMsg>,
    /// Crashes so far.
    pub crashes: u8,
}

impl State {
    /// Whether the view change under way can no longer finish: its leader
    /// crashed, or a member crashed before reporting (the leader's report
    /// deadline, `Core::membership_timeout`, then restarts it).
    fn gathering_stuck(&self) -> bool {
        self.gathering.as_ref().is_none_or(|g| {
            self.members[g.leader].crashed || g.members.iter().any(|&j| self.members[j].crashed && !g.reports.iter().any(|(r, _)| *r == j))
        })
    }
}

/// A step of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Delivers a message (it stays in the network: it may come again).
    Deliver(Msg),
    /// The host of a member waiting on its veto hook answers.
    Answer {
        /// The member (index).
        member: usize,
        /// Approve (else veto).
        approve: bool,
    },
    /// A member crashes.
    Crash(usize),
    /// A member starts a view change of its view's live members.
    Lead(usize),
    /// The view change leader's `Prepare` reaches a member, which reports.
    Prepare(usize),
    /// A `NewView` reaches its member, which installs it.
    Install(usize),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Deliver(m) => write!(f, "{m}"),
            Action::Answer { member, approve: true } => write!(f, "host {} approves", node(member)),
            Action::Answer { member, approve: false } => write!(f, "host {} vetoes", node(member)),
            Action::Crash(i) => write!(f, "{} crashes", node(i)),
            Action::Lead(i) => write!(f, "{} leads a view change", node(i)),
            Action::Prepare(i) => write!(f, "{} reports", node(i)),
            Action::Install(i) => write!(f, "{} installs the new view", node(i)),
        }
    }
}

/// The model: the change protocol of [`Variant`] among [`MEMBERS`] members,
/// with up to `max_crashes` crashes.
#[derive(Clone, Debug)]
pub struct ChangeModel {
    /// The protocol checked.
    pub variant: Variant,
    /// Crashes allowed per run (two leave one member, without quorum).
    pub max_crashes: u8,
}

impl ChangeModel {
    /// The model of `variant` with up to two crashes.
    pub fn new(variant: Variant) -> ChangeModel {
        ChangeModel { variant, max_crashes: 2 }
    }

    /// `Core::can_progress`: a live member of a view with quorum, not fenced.
    fn can_progress(&self, m: &MemberState) -> bool {
        !m.crashed && m.view.quorum && (!m.fenced() || self.variant == Variant::NoFence)
    }

    /// `Core::start_protocol`: the member starts the change at round 1.
    fn start_protocol(&self, s: &mut State, i: usize) {
        s.members[i].phase = Phase::Running { index: 0, vetting: false };
        self.start_round(s, i);
    }

    /// `Core::start_round`: counts who ACKed the round already, then runs the
    /// member's local step (round 1: none; round 2: checks, veto, apply).
    fn start_round(&self, s: &mut State, i: usize) {
        let m = &mut s.members[i];
        let Phase::Running { index, .. } = m.phase else { unreachable!("a round starts in a running change") };
        let round = index + 1;
        let behind = (0..MEMBERS).filter(|&j| j != i && m.last_ack[j] < round).count();
        m.missing = 1 + u8::try_from(behind).expect("three members");
        if index == 0 {
            return self.send_ack(s, i, None);
        }
        match m.params.with_changes(&CHANGE).and_then(|_| m.setup.limits().check(&CHANGE)) {
            Err(_) => self.send_ack(s, i, Some(Status::Failed)),
            Ok(()) if m.setup == Setup::Hook => m.phase = Phase::Running { index, vetting: true },
            Ok(()) => self.apply_change(s, i),
        }
    }

    /// `Core::apply_change`: remembers the old values, applies the new ones.
    fn apply_change(&self, s: &mut State, i: usize) {
        let m = &mut s.members[i];
        match m.params.with_changes(&CHANGE) {
            Ok(new) => {
                m.old_params = Some(m.params);
                m.params = new;
                self.send_ack(s, i, Some(Status::Ok));
            }
            Err(_) => self.send_ack(s, i, Some(Status::Failed)),
        }
    }

    /// `Core::send_ack` with `Core::broadcast_ack`: records its own ACK,
    /// sends it to every other member (of its view, alive), and completes
    /// the round if nobody else is missing.
    fn send_ack(&self, s: &mut State, i: usize, status: Option<Status>) {
        let m = &mut s.members[i];
        let Phase::Running { index, .. } = m.phase else { unreachable!("an ACK is sent in a running change") };
        m.phase = Phase::Running { index, vetting: false };
        m.missing = m.missing.saturating_sub(1);
        let round = index + 1;
        if round == 2 {
            m.round2[i] = status;
        }
        let view = m.view.id;
        for j in (0..MEMBERS).filter(|&j| j != i && !s.members[j].crashed && s.members[j].view.id == view) {
            s.net.insert(Msg::Ack { from: i, to: j, round, status });
        }
        self.check_round(s, i);
    }

    /// `Core::on_ack`: an ACK for `round` from `from` arrives at `i`.
    fn on_ack(&self, s: &mut State, i: usize, from: usize, round: u8, status: Option<Status>) {
        let m = &mut s.members[i];
        let before = m.last_ack[from];
        m.last_ack[from] = before.max(round);
        let cur = m.current_round();
        if round == 2 && round >= cur && round <= cur.max(m.my_ack_round()) + 2 {
            m.round2[from] = status;
        }
        if let Phase::Running { index, .. } = m.phase {
            let r = index + 1;
            let counts = match self.variant {
                Variant::NoDedupe => round >= r,
                _ => before < r && round >= r,
            };
            if counts {
                m.missing = m.missing.saturating_sub(1);
            }
        }
        self.check_round(s, i);
    }

    /// `Core::check_round`: completes the current round if nobody is missing;
    /// round 1 moves on to round 2, round 2 ends the change (`Core::finish`).
    fn check_round(&self, s: &mut State, i: usize) {
        let m = &mut s.members[i];
        if !self.can_progress(m) {
            return;
        }
        let Phase::Running { index, vetting: false } = m.phase else { return };
        if m.missing > 0 {
            return;
        }
        if index == 0 {
            m.phase = Phase::Running { index: 1, vetting: false };
            return self.start_round(s, i);
        }
        let statuses = last_round_statuses(&m.round2);
        let committed = match self.variant {
            Variant::MajorityCommit => 2 * statuses.iter().filter(|(_, st)| matches!(st, AckStatus::Ok(_))).count() > MEMBERS,
            _ => round_verdict(&statuses).is_ok(),
        };
        self.conclude(m, committed);
    }

    /// `Core::conclude`: a commit keeps the applied values and moves the
    /// generation, a rollback restores the remembered ones.
    fn conclude(&self, m: &mut MemberState, committed: bool) {
        let old = m.old_params.take();
        if committed {
            m.generation += 1;
        } else if let Some(old) = old.filter(|_| self.variant != Variant::NoUndo) {
            m.params = old;
        }
        m.phase = Phase::Done;
        m.decided = Some(Decision { committed, by: Decider::LastRound });
    }

    /// `Core::report` with `Engine::running_report`: what member `i` (in
    /// state `m`) reports to a view change leader.
    fn report(i: usize, m: &MemberState) -> Report {
        let running = match m.phase {
            Phase::Running { index, .. } => {
                let last_round = (0..MEMBERS)
                    .filter_map(|j| match index {
                        0 if j == i || m.last_ack[j] >= 1 => Some((node(j), AckStatus::Received)),
                        0 => None,
                        _ => m.round2[j].map(|st| (node(j), st.ack())),
                    })
                    .collect();
                Some(RunningReport { entry: entry(), round_index: index, last_round, members: (0..MEMBERS).map(node).collect() })
            }
            _ => None,
        };
        let next_round = match m.phase {
            Phase::Running { index, .. } => u64::from(index) + 2,
            _ => u64::from(m.current_round()),
        }
        .max(u64::from(m.my_ack_round()) + 1);
        let e = entry();
        let decided = m.decided.filter(|_| m.completed());
        Report {
            view: m.view.id,
            primary: m.view.primary,
            primary_members: m.view.primary_members.iter().map(|&j| member(j)).collect(),
            ancestors: Vec::new(),
            completed: u64::from(m.completed()),
            last_outcome: decided.map(|d| {
                let statuses = last_round_statuses(&m.round2);
                Outcome {
                    seq: e.seq,
                    pid: e.pid,
                    kind: e.body.kind().to_string(),
                    committed: d.committed,
                    generation: m.generation,
                    reason: round_verdict(&statuses).err(),
                    statuses,
                }
            }),
            running,
            pending: Vec::new(),
            next_round,
            params: m.old_params.unwrap_or(m.params),
            generation: m.generation,
            recent: decided
                .map(|d| Decided {
                    pid: e.pid,
                    seq: e.seq,
                    kind: e.body.kind().to_string(),
                    committed: d.committed,
                    generation: m.generation,
                })
                .into_iter()
                .collect(),
        }
    }

    /// `Core::start_gathering`: member `i` leads a view change of the live
    /// members of its view, fenced at once, with its own report.
    fn lead(&self, s: &mut State, i: usize) {
        let m = &s.members[i];
        let vid = ViewId { epoch: m.promised.epoch.max(m.view.id.epoch) + 1, leader: node(i) };
        let members = m.view.members.iter().copied().filter(|&j| !s.members[j].crashed).collect();
        s.gathering = Some(Gathering { vid, leader: i, members, reports: Vec::new() });
        self.prepare(s, i);
    }

    /// `Core::on_prepare` and `Core::on_prepare_ack`: member `i` is fenced
    /// and its report reaches the leader, who decides once every report is in
    /// (`Core::try_decide`).
    fn prepare(&self, s: &mut State, i: usize) {
        let g = s.gathering.as_mut().expect("a view change is under way");
        s.members[i].promised = g.vid;
        g.reports.push((i, s.members[i].clone()));
        if g.reports.len() == g.members.len() {
            self.decide(s);
        }
    }

    /// `Core::try_decide`: the leader decides with [`decide_view`] from the
    /// reports, sends the `NewView` to every other member and installs it.
    fn decide(&self, s: &mut State) {
        let g = s.gathering.take().expect("a view change is under way");
        let mut reports: BTreeMap<NodeId, Report> = g.reports.iter().map(|(j, m)| (node(*j), Self::report(*j, m))).collect();
        match self.variant {
            Variant::UnknownPresumedOk => {
                for rr in reports.values_mut().filter_map(|r| r.running.as_mut()).filter(|rr| rr.round_index == 1) {
                    let unknown: Vec<NodeId> = (0..MEMBERS).map(node).filter(|id| !rr.last_round.iter().any(|(j, _)| j == id)).collect();
                    rr.last_round.extend(unknown.into_iter().map(|id| (id, AckStatus::Ok(Default::default()))));
                    rr.last_round.sort_by_key(|(j, _)| *j);
                }
            }
            Variant::IgnoreCompleted if reports.values().any(|r| r.completed == 0) => reports.retain(|_, r| r.completed == 0),
            _ => {}
        }
        let adopted = g.reports.iter().any(|(_, m)| m.completed());
        let nodes: Vec<NodeId> = (0..MEMBERS).map(node).collect();
        let members: Vec<Member> = g.members.iter().map(|&j| member(j)).collect();
        let (params, generation) = (s.members[g.leader].params, s.members[g.leader].generation);
        let decide = |reports: &BTreeMap<NodeId, Report>| decide_view(&nodes, true, g.vid, members.clone(), reports, params, generation);
        let pooled = decide(&reports);
        for &j in &g.members {
            let nv = match self.variant {
                Variant::NoPooling => decide(&reports.iter().filter(|(id, _)| **id == node(j)).map(|(id, r)| (*id, r.clone())).collect()),
                _ => pooled.clone(),
            };
            let msg = NewViewMsg::new(j, &nv, adopted);
            if j == g.leader {
                Self::install(s, &msg);
            } else if !s.members[j].crashed {
                s.new_views.push(msg);
            }
        }
    }

    /// `Core::install` with `Core::resolve` and `Engine::install`: the new
    /// view, its outcome for the change if the member knew it, then the
    /// state transfer of the lineage's parameters. A view without quorum
    /// changes nothing but the view: the member keeps its state.
    fn install(s: &mut State, nv: &NewViewMsg) {
        let i = nv.to;
        // Whatever the old view still had in flight to it is stale now.
        s.net.retain(|msg| msg.to() != i);
        let m = &mut s.members[i];
        m.view.id = nv.vid;
        m.view.members = nv.members.clone();
        m.view.quorum = nv.quorum;
        m.promised = nv.vid;
        m.last_ack = [0; MEMBERS];
        if !nv.quorum {
            return;
        }
        m.view.primary = nv.vid;
        m.view.primary_members = nv.members.clone();
        if let Some(committed) = nv.resolved {
            let in_lineage = nv.base.contains(&i);
            if matches!(m.phase, Phase::Running { .. }) || (in_lineage && !m.completed()) {
                let by = if nv.adopted { Decider::Adopted } else { Decider::ViewChange };
                m.decided = Some(Decision { committed, by });
                m.phase = Phase::Done;
            } else if m.decided.is_some_and(|d| d.committed != committed) {
                m.overruled = true;
            }
        }
        if matches!(m.phase, Phase::Running { .. }) {
            // A protocol of another lineage: superseded by the state transfer.
            m.phase = Phase::Idle;
        }
        m.old_params = None;
        m.params = nv.params;
        m.generation = nv.generation;
    }
}

impl Model for ChangeModel {
    type State = State;
    type Action = Action;

    /// Every combination of member [`Setup`]s; in each, the coordinator has
    /// sequenced the change (sent to members 2 and 3) and started it.
    fn init_states(&self) -> Vec<State> {
        let setups = [Setup::Plain, Setup::Hook, Setup::Tight];
        let id = ViewId { epoch: 1, leader: 1 };
        let everyone: Vec<usize> = (0..MEMBERS).collect();
        let view = MemberView { id, members: everyone.clone(), quorum: true, primary: id, primary_members: everyone };
        let mut out = Vec::new();
        for a in setups {
            for b in setups {
                for c in setups {
                    let mut s = State {
                        members: [a, b, c].map(|setup| MemberState::new(setup, view.clone())),
                        net: [Msg::Sequenced { to: 1 }, Msg::Sequenced { to: 2 }].into_iter().collect(),
                        gathering: None,
                        new_views: Vec::new(),
                        crashes: 0,
                    };
                    self.start_protocol(&mut s, 0);
                    out.push(s);
                }
            }
        }
        out
    }

    fn actions(&self, s: &State, actions: &mut Vec<Action>) {
        for &msg in &s.net {
            if !s.members[msg.to()].crashed {
                actions.push(Action::Deliver(msg));
            }
        }
        for (i, m) in s.members.iter().enumerate().filter(|(_, m)| !m.crashed) {
            if m.phase == (Phase::Running { index: 1, vetting: true }) {
                actions.push(Action::Answer { member: i, approve: true });
                actions.push(Action::Answer { member: i, approve: false });
            }
            if s.crashes < self.max_crashes {
                actions.push(Action::Crash(i));
            }
            // `Core::maybe_lead`: the lowest live member of a view with a
            // crashed member leads, unless a live leader's view change is
            // under way or it waits for a live leader's `NewView`.
            let lowest = m.view.members.iter().find(|&&j| !s.members[j].crashed) == Some(&i);
            let suspects = m.view.members.iter().any(|&j| s.members[j].crashed);
            let awaits = m.fenced() && !s.members[index(m.promised.leader)].crashed;
            if lowest && suspects && !awaits && s.gathering_stuck() {
                actions.push(Action::Lead(i));
            }
            if let Some(g) = &s.gathering {
                let asked = g.members.contains(&i) && !g.reports.iter().any(|(j, _)| *j == i);
                if asked && !s.members[g.leader].crashed && g.vid > m.promised {
                    actions.push(Action::Prepare(i));
                }
            }
            if s.new_views.iter().any(|nv| nv.to == i) {
                actions.push(Action::Install(i));
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut s = last.clone();
        match action {
            Action::Deliver(Msg::Sequenced { to }) => {
                // `Core::on_sequenced`: only the next sequence number is taken.
                if s.members[to].phase == Phase::Idle && s.members[to].decided.is_none() {
                    self.start_protocol(&mut s, to);
                }
            }
            Action::Deliver(Msg::Ack { from, to, round, status }) => self.on_ack(&mut s, to, from, round, status),
            Action::Answer { member, approve: true } => self.apply_change(&mut s, member),
            Action::Answer { member, approve: false } => self.send_ack(&mut s, member, Some(Status::Failed)),
            Action::Crash(i) => {
                s.members[i].crashed = true;
                s.crashes += 1;
                s.net.retain(|m| m.to() != i);
                s.new_views.retain(|nv| nv.to != i);
            }
            Action::Lead(i) => self.lead(&mut s, i),
            Action::Prepare(i) => self.prepare(&mut s, i),
            Action::Install(i) => {
                let at = s.new_views.iter().position(|nv| nv.to == i).expect("enabled");
                let nv = s.new_views.remove(at);
                // `Core::on_new_view`: only the view change it reported to.
                if nv.vid == s.members[i].promised {
                    Self::install(&mut s, &nv);
                }
            }
        }
        Some(s)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("agreement: no two live members decide differently", |_, s: &State| {
                let live: Vec<bool> = s.members.iter().filter(|m| !m.crashed).filter_map(|m| m.decided).map(|d| d.committed).collect();
                live.windows(2).all(|w| w[0] == w[1])
            }),
            Property::always("validity: a commit only when every member applied OK", |_, s: &State| {
                let all_ok = s.members.iter().enumerate().all(|(i, m)| m.round2[i] == Some(Status::Ok));
                all_ok || s.members.iter().all(|m| !m.decided.is_some_and(|d| d.committed))
            }),
            Property::always("values follow the outcome: commit holds the new values, rollback restores the old", |_, s: &State| {
                s.members.iter().all(|m| match m.decided {
                    Some(d) if d.committed => m.params == new_params() && m.generation == 1,
                    Some(_) => m.params == Params::default() && m.generation == 0,
                    None => true,
                })
            }),
            Property::always("settled live members hold identical values", |_, s: &State| {
                let settled: Vec<(Params, u64)> = s
                    .members
                    .iter()
                    .filter(|m| !m.crashed && !matches!(m.phase, Phase::Running { .. }))
                    .map(|m| (m.params, m.generation))
                    .collect();
                settled.windows(2).all(|w| w[0] == w[1])
            }),
            Property::always("no completed outcome is overruled by a view change", |_, s: &State| s.members.iter().all(|m| !m.overruled)),
            Property::sometimes("reachable: every member commits", |_, s: &State| {
                s.members.iter().all(|m| m.decided.is_some_and(|d| d.committed && d.by == Decider::LastRound))
            }),
            Property::sometimes("reachable: every member rolls back a failed apply", |_, s: &State| {
                s.members.iter().all(|m| m.decided.is_some_and(|d| !d.committed && d.by == Decider::LastRound))
            }),
            Property::sometimes("reachable: a view change commits from pooled statuses", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.decided == Some(Decision { committed: true, by: Decider::ViewChange }))
            }),
            Property::sometimes("reachable: a view change abandons the change", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.decided == Some(Decision { committed: false, by: Decider::ViewChange }))
            }),
            Property::sometimes("reachable: a survivor adopts the outcome another completed", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && m.decided.is_some_and(|d| d.by == Decider::Adopted))
            }),
            Property::sometimes("reachable: a survivor without quorum is left undecided", |_, s: &State| {
                s.members.iter().any(|m| !m.crashed && !m.view.quorum && matches!(m.phase, Phase::Running { .. }))
            }),
            Property::sometimes(LIMITATION, |_, s: &State| {
                let crashed_commit = s.members.iter().any(|m| m.crashed && m.decided.is_some_and(|d| d.committed));
                let live_rollback = s.members.iter().any(|m| !m.crashed && m.decided.is_some_and(|d| !d.committed));
                crashed_commit && live_rollback
            }),
        ]
    }
}

/// The result of checking one [`Variant`].
#[derive(Debug)]
pub struct CheckRun {
    /// The variant checked.
    pub variant: Variant,
    /// Distinct states explored.
    pub unique_states: usize,
    /// States generated, repeats included.
    pub states: usize,
    /// The longest path explored.
    pub max_depth: usize,
    /// How long the search took.
    pub elapsed: Duration,
    /// Every `always` property violated, with the shortest run found to the
    /// violation: the members' setups, then the actions.
    pub violations: BTreeMap<&'static str, Vec<String>>,
    /// Every `sometimes` property shown reachable.
    pub reached: BTreeSet<&'static str>,
    /// Every `sometimes` property not shown reachable.
    pub unreached: BTreeSet<&'static str>,
}

/// Checks `variant` breadth first on `threads` threads. The code's protocol
/// is searched exhaustively (no `always` property can be violated, so the
/// search ends only when every reachable state is visited); a variant stops
/// at its first violation, the shortest counterexample.
pub fn check(variant: Variant, threads: usize) -> CheckRun {
    let model = ChangeModel::new(variant);
    let properties = model.properties();
    let finish = if variant == Variant::Code { HasDiscoveries::AllFailures } else { HasDiscoveries::AnyFailures };
    let start = Instant::now();
    let checker = model.clone().checker().threads(threads).finish_when(finish).spawn_bfs().join();
    let elapsed = start.elapsed();
    let found = checker.discoveries();
    let mut run = CheckRun {
        variant,
        unique_states: checker.unique_state_count(),
        states: checker.state_count(),
        max_depth: checker.max_depth(),
        elapsed,
        violations: BTreeMap::new(),
        reached: BTreeSet::new(),
        unreached: BTreeSet::new(),
    };
    for p in &properties {
        match (found.get(p.name), p.expectation.discovery_is_failure()) {
            (Some(path), true) => {
                let mut steps = vec![format!("setups {:?}", path.clone().into_states()[0].members.each_ref().map(|m| m.setup))];
                steps.extend(path.clone().into_actions().iter().map(|a| model.format_action(a)));
                run.violations.insert(p.name, steps);
            }
            (Some(_), false) => {
                run.reached.insert(p.name);
            }
            (None, false) => {
                run.unreached.insert(p.name);
            }
            (None, true) => {}
        }
    }
    run
}
