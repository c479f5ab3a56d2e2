//! Enumerated crash points: the steps of a parameter change and of a view
//! change at which a member can die, each recognised from the member's own
//! status in the step it reaches it, so a campaign can aim a crash at every
//! one of them and report which it hit.
//!
//! A node is *armed* with a point; the simulator looks at the node's status
//! after each step it takes (before sending what the step produced) and, when
//! the step is the armed one, crashes the node before, part-way through or
//! after sending that step's datagrams.

use cgm_core::messages::RELAY_FROM;
use cgm_core::{NodeId, Phase, Status};

/// Where an armed node crashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CrashPoint {
    /// The coordinator, in the step where it sequences a change and starts
    /// it, after k of the n datagrams of that step (0 < k < n).
    SequencerFanout,
    /// A member about to ACK round 1 of a change: none of its ACKs leaves.
    Round1BeforeAck,
    /// A member ACKing round 1 of a change: the ACK reaches only some members.
    Round1AckToSome,
    /// A member that has sent its round-1 ACK of a change to everyone.
    Round1AfterAck,
    /// A member between the rounds: round 1 complete, its local apply step
    /// (the host's veto hook) pending.
    BetweenRounds,
    /// A member about to send its round-2 status of a change: none leaves.
    Round2BeforeAck,
    /// A member whose round-2 status is OK reaches only some members.
    Round2AckToSome,
    /// A member that has sent its round-2 status to everyone.
    Round2AfterAck,
    /// The classic hazard: a member reports a failure in round 2 and crashes
    /// after that ACK reached only some members.
    Round2FailedAckToSome,
    /// A member that has just been fenced for a view change (or started one
    /// as its leader), after k of n datagrams of that step.
    ViewChangeFlush,
    /// The leader of a view change whose view every member accepted, as it
    /// installs it, after k of n of its `Install` datagrams.
    InstallFanout,
    /// The coordinator of a view that relays ACKs (four members or more), in
    /// the step where every member has ACKed a further round, after k of n
    /// datagrams of that step: the round's ACKs reach only some members.
    RelayFanout,
    /// A member keeping durable state, in a step that changed it (a promise,
    /// an acceptance, a decision), between two of the steps that write it
    /// (see [`crate::disk`]): nothing of the step leaves.
    PersistInterrupted,
    /// A member keeping durable state, in a step that changed it, once the
    /// state is on disk and before any of the step's datagrams leaves.
    PersistedBeforeSend,
}

impl CrashPoint {
    /// Every crash point, in protocol order.
    pub const ALL: [CrashPoint; 14] = [
        CrashPoint::SequencerFanout,
        CrashPoint::Round1BeforeAck,
        CrashPoint::Round1AckToSome,
        CrashPoint::Round1AfterAck,
        CrashPoint::BetweenRounds,
        CrashPoint::Round2BeforeAck,
        CrashPoint::Round2AckToSome,
        CrashPoint::Round2AfterAck,
        CrashPoint::Round2FailedAckToSome,
        CrashPoint::ViewChangeFlush,
        CrashPoint::InstallFanout,
        CrashPoint::RelayFanout,
        CrashPoint::PersistInterrupted,
        CrashPoint::PersistedBeforeSend,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            CrashPoint::SequencerFanout => "sequencer-after-k-of-n-sends",
            CrashPoint::Round1BeforeAck => "round1-before-ack",
            CrashPoint::Round1AckToSome => "round1-ack-to-some",
            CrashPoint::Round1AfterAck => "round1-after-ack",
            CrashPoint::BetweenRounds => "between-rounds-local-apply",
            CrashPoint::Round2BeforeAck => "round2-before-ack",
            CrashPoint::Round2AckToSome => "round2-ack-to-some",
            CrashPoint::Round2AfterAck => "round2-after-ack",
            CrashPoint::Round2FailedAckToSome => "round2-failure-ack-to-some",
            CrashPoint::ViewChangeFlush => "view-change-flush",
            CrashPoint::InstallFanout => "leader-after-k-of-n-installs",
            CrashPoint::RelayFanout => "coordinator-after-k-of-n-relays",
            CrashPoint::PersistInterrupted => "persist-interrupted",
            CrashPoint::PersistedBeforeSend => "after-persist-before-send",
        }
    }

    /// Whether only a member keeping durable state reaches it.
    pub fn durable_only(self) -> bool {
        matches!(self, CrashPoint::PersistInterrupted | CrashPoint::PersistedBeforeSend)
    }

    /// Index in [`CrashPoint::ALL`].
    pub fn index(self) -> usize {
        CrashPoint::ALL.iter().position(|&p| p == self).expect("listed")
    }
}

/// What the simulator remembers of an armed node between its steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    protocol: Option<(u64, u8)>,
    acked_round: u64,
    view_change: bool,
    view: cgm_core::ViewId,
    /// The last round every member of the view ACKed, as far as it knows.
    acked_by_all: u64,
}

impl Seen {
    /// The part of a status the crash points look at.
    pub fn of(s: &Status) -> Seen {
        // A status lists a peer for every other member of its view, so the
        // peers' rounds are the members' (no lookup: this runs at every
        // step of an armed node).
        Seen {
            protocol: s.protocol.as_ref().map(|p| (p.seq, p.round_index)),
            acked_round: s.acked_round,
            view_change: s.phase == Phase::ViewChange,
            view: s.view,
            acked_by_all: s.peers.iter().map(|p| p.last_ack_round).fold(s.acked_round, u64::min),
        }
    }
}

/// How many of the step's `sends` datagrams go out before the crash, when
/// the step that led from `before` to `now` (the node's status after it) is
/// the one `point` names; `None` when it is not. `pick(n)` draws a number in
/// `1..n` for a partial send; `failed_step` says the node's last local step
/// answered with a failure, `persisted` that the step wrote durable state.
#[allow(clippy::too_many_arguments)]
pub fn trigger(
    point: CrashPoint,
    id: NodeId,
    before: Seen,
    now: &Status,
    sends: usize,
    failed_step: bool,
    persisted: bool,
    pick: impl FnOnce(usize) -> usize,
) -> Option<usize> {
    let change = now.protocol.as_ref().filter(|p| matches!(p.kind.as_str(), "param-change" | "node-change"));
    let just_acked = |index: u8| {
        change.is_some_and(|p| p.round_index == index) && now.acked_round == now.current_round && now.acked_round > before.acked_round
    };
    // Part-way through: only a step with two datagrams or more can be cut.
    let partial = |hit: bool| (hit && sends >= 2).then(|| pick(sends));
    match point {
        CrashPoint::SequencerFanout => {
            let started = change.is_some_and(|p| p.round_index == 0 && before.protocol.map(|(s, _)| s) != Some(p.seq));
            let coordinator = now.members.first().is_some_and(|m| m.id == id) && now.members.len() > 1;
            partial(started && coordinator)
        }
        CrashPoint::Round1BeforeAck => just_acked(0).then_some(0),
        CrashPoint::Round1AckToSome => partial(just_acked(0)),
        CrashPoint::Round1AfterAck => just_acked(0).then_some(sends),
        CrashPoint::BetweenRounds => (now.phase == Phase::WaitingLocal && change.is_some_and(|p| p.round_index == 1)).then_some(0),
        CrashPoint::Round2BeforeAck => just_acked(1).then_some(0),
        CrashPoint::Round2AckToSome => partial(just_acked(1) && !failed_step),
        CrashPoint::Round2AfterAck => just_acked(1).then_some(sends),
        CrashPoint::Round2FailedAckToSome => partial(just_acked(1) && failed_step),
        CrashPoint::ViewChangeFlush => partial(now.phase == Phase::ViewChange && !before.view_change),
        CrashPoint::InstallFanout => {
            let leader = now.members.first().is_some_and(|m| m.id == id);
            partial(before.view_change && now.phase != Phase::ViewChange && leader)
        }
        CrashPoint::RelayFanout => {
            let relaying = now.members.len() >= RELAY_FROM && now.members.first().is_some_and(|m| m.id == id);
            let after = Seen::of(now);
            let in_view = now.phase != Phase::ViewChange && !before.view_change && after.view == before.view;
            partial(relaying && in_view && after.acked_by_all > before.acked_by_all)
        }
        CrashPoint::PersistInterrupted | CrashPoint::PersistedBeforeSend => persisted.then_some(0),
    }
}
