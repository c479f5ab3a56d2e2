//! The transactional parameter change, the second of libcgm's two inventions.
//!
//! A change runs as a peer protocol of two ACK rounds (the engine runs the
//! rounds; this module decides what each member does in them):
//! - round 1: every member ACKs receipt (`Received`);
//! - round 2: each member checks the values against the parameters in force
//!   and its own local limits, asks the host's veto hook if it has one
//!   ([`RoundTwo`]), and applies them locally, keeping the values it
//!   replaced (*staging*); its ACK carries OK or the reason it failed;
//! - the verdict ([`round_verdict`]) on the round-2 statuses, the same on
//!   every member, commits (the generation grows; the heartbeat values then
//!   switch over link by link, see `ring.rs`) or undoes the local apply.
//!
//! A key rotation is a change of one value, the key members send with
//! ([`Params::key`]), and runs the same way with its own local steps: in
//! round 1 the host loads the new key (the member then accepts datagrams
//! under both), in round 2 the member sends under the new key (staged as any
//! applied value); the verdict keeps it or goes back to the old key.
//!
//! A view change that resolves the change in flight hands every member the
//! lineage's values and generation ([`Tuning::take`]).

use crate::config::Config;
use crate::ids::{AckStatus, NodeId};
use crate::params::{Param, Params};
use crate::roster::NodeChange;
use crate::time::Time;
use std::collections::BTreeMap;

/// The verdict on a protocol's last round, from the status of every member
/// of its view: it commits unless some status is a failure, and then the
/// reason names every failing member. Every member completes the round holding
/// the same statuses, so every member reaches the same verdict, and for a
/// parameter change each one keeps (commit) or undoes (`Err`) its local apply.
/// The model checker (`cgm-model`) runs this very rule.
///
/// # Errors
/// The reason the protocol did not commit, when some member failed.
pub fn round_verdict(statuses: &[(NodeId, AckStatus)]) -> Result<(), String> {
    let failed: Vec<String> = statuses
        .iter()
        .filter_map(|(id, s)| if let AckStatus::Failed(why) = s { Some(format!("member {id}: {why}")) } else { None })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// What a member does in round 2 of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoundTwo {
    /// The values fail validation or this member's local limits: ACK the failure.
    Fail(String),
    /// Ask the host's veto hook, which must answer by this deadline.
    AskVeto(Time),
    /// Apply the values locally.
    Apply,
}

/// A member's parameters: the values in force, their generation, and the
/// values a change applied here replaced until its verdict.
#[derive(Debug, Clone)]
pub(crate) struct Tuning {
    /// The values in force.
    pub(crate) params: Params,
    /// Grows by one with every committed change.
    pub(crate) generation: u64,
    /// The values before the change in flight was applied here.
    staged: Option<Params>,
    /// The key files this member loaded for key rotations, by fingerprint:
    /// a rotation's new key from its round 1 until it is decided, and the
    /// key in force since. A restarted member loads them again.
    pub(crate) keys: BTreeMap<u64, String>,
    /// Grows whenever `keys` changes (the durable mark compares it).
    pub(crate) keys_version: u64,
    /// The fingerprint of the key this member was configured with: accepted
    /// until it is retired (a member restarted from an old state, configured
    /// with the key the cluster rotated to while it was down, hears the
    /// group under it).
    configured_key: u64,
}

impl Tuning {
    /// Values `params` at generation 0.
    pub(crate) fn new(params: Params) -> Tuning {
        let configured_key = params.key();
        Tuning { params, generation: 0, staged: None, keys: BTreeMap::new(), keys_version: 0, configured_key }
    }

    /// The values of the last committed change: those in force, or, while a
    /// change is applied here and not yet decided, those it replaced.
    pub(crate) fn committed(&self) -> &Params {
        self.staged.as_ref().unwrap_or(&self.params)
    }

    /// Round 2's check of `changes` against the values in force and `cfg`'s
    /// local limits, and whether the host's veto hook is asked.
    pub(crate) fn round_two(&self, changes: &[(Param, u64)], cfg: &Config, now: Time) -> RoundTwo {
        match self.params.with_changes(changes).and_then(|_| cfg.limits.check(changes)) {
            Err(e) => RoundTwo::Fail(e.to_string()),
            Ok(()) if cfg.veto_hook => RoundTwo::AskVeto(now + cfg.veto_timeout),
            Ok(()) => RoundTwo::Apply,
        }
    }

    /// Applies `changes` here, staging the values they replace.
    ///
    /// # Errors
    /// Why the values are invalid (nothing changes).
    pub(crate) fn apply(&mut self, changes: &[(Param, u64)]) -> Result<(), String> {
        let new = self.params.with_changes(changes).map_err(|e| e.to_string())?;
        self.stage(new);
        Ok(())
    }

    /// Puts `new` in force here, staging the values it replaces until the
    /// verdict ([`Tuning::conclude`]).
    fn stage(&mut self, new: Params) {
        self.staged = Some(std::mem::replace(&mut self.params, new));
    }

    /// Round 2 of a node change: applies it here, staging the node set it
    /// replaces.
    ///
    /// # Errors
    /// Why the change does not fit the node set in force (nothing changes).
    pub(crate) fn apply_nodes(&mut self, change: &NodeChange) -> Result<(), String> {
        let nodes = self.params.nodes().with_change(change)?;
        self.stage(self.params.with_nodes(nodes));
        Ok(())
    }

    /// Ends the change in flight with its verdict: a commit keeps the values
    /// and grows the generation, an undo restores the staged values (unless
    /// `keep_on_undo`, the `keep-rolled-back-values` flaw). Returns the values
    /// in force when they are the change's news to tell the host.
    pub(crate) fn conclude(&mut self, committed: bool, keep_on_undo: bool) -> Option<Params> {
        let staged = self.staged.take();
        if committed {
            self.generation += 1;
            return Some(self.params.clone());
        }
        self.params = staged.filter(|_| !keep_on_undo)?;
        Some(self.params.clone())
    }

    /// Takes the values and generation a view with quorum hands its members;
    /// a change staged here is superseded.
    pub(crate) fn take(&mut self, params: Params, generation: u64) {
        let key = params.key();
        self.params = params;
        self.generation = generation;
        self.staged = None;
        self.retire_keys(key);
    }

    /// Round 1 of a key rotation: the host loaded the key `fingerprint`
    /// from `path`; datagrams under it are accepted from now on.
    pub(crate) fn load_key(&mut self, fingerprint: u64, path: &str) {
        if self.keys.insert(fingerprint, path.to_string()).as_deref() != Some(path) {
            self.keys_version += 1;
        }
    }

    /// Round 2 of a key rotation: this member sends under the new key,
    /// staging the values with the old one until the verdict.
    pub(crate) fn apply_key(&mut self, fingerprint: u64) {
        self.stage(self.params.with_key(fingerprint));
    }

    /// Forgets the files of loaded keys neither in force, nor committed, nor
    /// `told` (the key of the values the host was last told, which a restart
    /// runs under): a decided rotation's loser, a key retired since. The
    /// keys accepted are [`Tuning::accepting`]'s; datagrams still on their
    /// way under a key no longer accepted are the host's to accept for a
    /// grace period (see [`crate::Core::keys`]).
    pub(crate) fn retire_keys(&mut self, told: u64) {
        let keep = [self.params.key(), self.committed().key(), told];
        let before = self.keys.len();
        self.keys.retain(|fp, _| keep.contains(fp));
        if self.keys.len() != before {
            self.keys_version += 1;
        }
    }

    /// The fingerprints of the keys datagrams are accepted under: the one
    /// in force, the committed one, and the loaded and configured ones not
    /// `retired`; sorted, 0 (no key) left out.
    pub(crate) fn accepting(&self, retired: &[u64]) -> Vec<u64> {
        let loaded = self.keys.keys().copied().chain([self.configured_key]).filter(|k| !retired.contains(k));
        let mut v: Vec<u64> = [self.params.key(), self.committed().key()].into_iter().chain(loaded).collect();
        v.retain(|&k| k != 0);
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> Vec<(Param, u64)> {
        vec![(Param::HeartbeatInterval, 200)]
    }

    #[test]
    fn a_committed_change_keeps_its_values_and_grows_the_generation() {
        let mut t = Tuning::new(Params::default());
        t.apply(&change()).unwrap();
        assert_eq!(t.committed(), &Params::default(), "staged, not committed yet");
        assert_eq!(t.conclude(true, false).map(|p| p.get(Param::HeartbeatInterval)), Some(200));
        assert_eq!((t.generation, t.committed().get(Param::HeartbeatInterval)), (1, 200));
    }

    #[test]
    fn an_undone_change_restores_the_staged_values_and_keeps_the_generation() {
        let mut t = Tuning::new(Params::default());
        t.apply(&change()).unwrap();
        assert_eq!(t.conclude(false, false), Some(Params::default()));
        assert_eq!((t.generation, &t.params), (0, &Params::default()));
        // A member that failed its apply has nothing to undo and no news.
        assert_eq!(t.conclude(false, false), None);
        // The flaw keeps the applied values: the check must see them diverge.
        t.apply(&change()).unwrap();
        assert_eq!(t.conclude(false, true), None);
        assert_eq!(t.params.get(Param::HeartbeatInterval), 200);
    }

    #[test]
    fn round_two_fails_values_beyond_the_local_limits_and_asks_the_veto_hook_otherwise() {
        let t = Tuning::new(Params::default());
        let mut cfg = Config::new(1, 1, vec![1]);
        cfg.limits.set(Param::HeartbeatInterval, 150);
        assert!(matches!(t.round_two(&change(), &cfg, Time::ZERO), RoundTwo::Fail(_)));
        cfg.limits = Default::default();
        assert_eq!(t.round_two(&change(), &cfg, Time::ZERO), RoundTwo::Apply);
        cfg.veto_hook = true;
        assert_eq!(t.round_two(&change(), &cfg, Time::ZERO), RoundTwo::AskVeto(Time::ZERO + cfg.veto_timeout));
        assert!(matches!(t.round_two(&[(Param::HeartbeatInterval, 0)], &cfg, Time::ZERO), RoundTwo::Fail(_)));
    }

    #[test]
    fn a_view_state_transfer_supersedes_a_staged_change() {
        let mut t = Tuning::new(Params::default());
        t.apply(&change()).unwrap();
        let p = Params::default().with_changes(&[(Param::MaxFragmentSize, 1000)]).unwrap();
        t.take(p.clone(), 7);
        assert_eq!((&t.params, t.generation, t.committed()), (&p, 7, &p));
        assert_eq!(t.conclude(false, false), None, "nothing left to undo");
    }

    #[test]
    fn a_node_change_is_staged_like_a_parameter_change() {
        let nodes = crate::Roster::of_ids([1, 2, 3]).unwrap();
        let mut t = Tuning::new(Params::default().with_nodes(nodes.clone()));
        let grow = NodeChange { add: vec![(4, String::new())], remove: vec![1] };
        t.apply_nodes(&grow).unwrap();
        assert_eq!(t.params.nodes().ids().collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(t.committed().nodes(), &nodes, "staged, not committed yet");
        assert_eq!(t.conclude(false, false).map(|p| p.nodes().clone()), Some(nodes.clone()));
        assert!(t.apply_nodes(&NodeChange { add: vec![], remove: vec![9] }).is_err());
        assert_eq!((t.params.nodes(), t.generation), (&nodes, 0), "a refused change changes nothing");
    }

    #[test]
    fn a_rotation_accepts_both_keys_until_its_verdict_and_keeps_only_the_files_it_still_needs() {
        let (k1, k2, k3) = (11, 22, 33);
        let mut t = Tuning::new(Params::default().with_key(k1));
        assert_eq!(t.accepting(&[]), [k1]);
        // Round 1: loaded; round 2: sent under, the old key staged.
        t.load_key(k2, "/k2");
        assert_eq!(t.accepting(&[]), [k1, k2]);
        t.apply_key(k2);
        assert_eq!((t.params.key(), t.committed().key()), (k2, k1));
        assert_eq!(t.accepting(&[]), [k1, k2]);
        // Committed; the host still runs under k1 until told: k1 has no file
        // to keep (it is the configured one), k2's stays.
        assert_eq!(t.conclude(true, false).map(|p| p.key()), Some(k2));
        t.retire_keys(k1);
        assert_eq!(t.keys.keys().copied().collect::<Vec<_>>(), [k2]);
        // Once the host ran under k2, k1 is retired: no longer accepted.
        assert_eq!(t.accepting(&[k1]), [k2]);
        // A rotation undone: back to k2, k3's file forgotten.
        t.load_key(k3, "/k3");
        t.apply_key(k3);
        assert_eq!(t.conclude(false, false).map(|p| p.key()), Some(k2));
        t.retire_keys(k2);
        assert_eq!(t.keys.keys().copied().collect::<Vec<_>>(), [k2]);
        assert_eq!(t.accepting(&[k1]), [k2]);
        // The told key's file is kept while the host runs under it.
        t.load_key(k3, "/k3");
        t.apply_key(k3);
        t.conclude(true, false);
        t.retire_keys(k2);
        assert_eq!(t.keys.keys().copied().collect::<Vec<_>>(), [k2, k3]);
    }

    #[test]
    fn the_verdict_commits_unless_a_member_failed_and_names_every_failing_member() {
        let ok = AckStatus::Ok(Default::default());
        assert_eq!(round_verdict(&[(1, ok.clone()), (2, AckStatus::Received)]), Ok(()));
        let failed = round_verdict(&[(1, AckStatus::Failed("a".into())), (2, ok), (3, AckStatus::Failed("b".into()))]);
        assert_eq!(failed, Err("member 1: a; member 3: b".into()));
    }
}
