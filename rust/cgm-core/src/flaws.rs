//! Deliberately broken rules, one safeguard removed each, to show that every
//! check of the simulator can fail (as `cgm-model`'s variants do for the
//! model). Compiled in only with the `flaws` feature, which libcgm itself
//! never enables: `cargo run -p cgm-sim --features flaws -- --flaw NAME`
//! must find a violation for every one.

use std::fmt;

/// One safeguard removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flaw {
    /// A member reports an outcome as soon as it decides it, before every
    /// member of its view did (the old rule): finality breaks.
    ReportOnDecision,
    /// A view change keeps the proposals a coordinator had not sequenced, and
    /// the coordinator checks only what it remembers reporting: a decided
    /// proposal runs again (exactly once breaks).
    StaleProposals,
    /// A view change carries only the fates of the newest 256 protocols (the
    /// old window): a proposer cut off longer re-sends a decided proposal.
    FatesWindow,
    /// The verdict ignores failed statuses: validity breaks.
    IgnoreFailures,
    /// A rollback keeps the applied values: values no longer follow the outcome.
    KeepRolledBackValues,
    /// Every view has quorum: both sides of a partition sequence protocols,
    /// and total order breaks.
    MinorityDecides,
    /// A durable member sends before its state is persisted: a crash of
    /// every member loses a decision some host was told (finality breaks).
    SendBeforePersist,
    /// A key rotation switches a member's sending in its first round,
    /// before every member loaded the key: datagrams are refused.
    SwitchKeyEarly,
    /// A view change counts only the node set of the lineage's most
    /// advanced member, every node of it present is quorum enough, and a
    /// node change may remove a majority of its view: a member that
    /// committed such a change goes on alone while the others undo it
    /// (total order breaks).
    NewestSetOnly,
    /// A member refuses a node outside its set with the values it decided
    /// (not those its host was told), and one refusal of a later
    /// generation is enough for a node to take itself for removed: a
    /// removal one member decided alone, which the others undo, makes a
    /// node of the set leave.
    TrustOneRefusal,
    /// The heartbeat switch-over is off: a committed heartbeat change
    /// switches the receive side of each link at once, the send side never
    /// (no change-request handshake), and a member judges its predecessor's
    /// silence by its own values only: a member that switched to a short
    /// timeout suspects a predecessor still beating at the long interval.
    NoHeartbeatSwitchOver,
    /// No wire version negotiation: a member sends every peer the newest
    /// version it speaks, so an older member of a rolling upgrade drops
    /// what a newer one sends it.
    NewestWireAlways,
}

impl Flaw {
    /// Every flaw.
    pub const ALL: [Flaw; 12] = [
        Flaw::ReportOnDecision,
        Flaw::StaleProposals,
        Flaw::FatesWindow,
        Flaw::IgnoreFailures,
        Flaw::KeepRolledBackValues,
        Flaw::MinorityDecides,
        Flaw::SendBeforePersist,
        Flaw::SwitchKeyEarly,
        Flaw::NewestSetOnly,
        Flaw::TrustOneRefusal,
        Flaw::NoHeartbeatSwitchOver,
        Flaw::NewestWireAlways,
    ];

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Flaw::ReportOnDecision => "report-on-decision",
            Flaw::StaleProposals => "stale-proposals",
            Flaw::FatesWindow => "fates-window",
            Flaw::IgnoreFailures => "ignore-failures",
            Flaw::KeepRolledBackValues => "keep-rolled-back-values",
            Flaw::MinorityDecides => "minority-decides",
            Flaw::SendBeforePersist => "send-before-persist",
            Flaw::SwitchKeyEarly => "switch-key-early",
            Flaw::NewestSetOnly => "newest-set-only",
            Flaw::TrustOneRefusal => "trust-one-refusal",
            Flaw::NoHeartbeatSwitchOver => "no-heartbeat-switch-over",
            Flaw::NewestWireAlways => "newest-wire-always",
        }
    }

    /// The flaw named `name`.
    ///
    /// # Errors
    /// The known names, when `name` is none of them.
    pub fn parse(name: &str) -> Result<Flaw, String> {
        Flaw::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Flaw::ALL.iter().map(|f| f.name()).collect();
            format!("unknown flaw {name:?}; known: {}", names.join(", "))
        })
    }
}

impl fmt::Display for Flaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
