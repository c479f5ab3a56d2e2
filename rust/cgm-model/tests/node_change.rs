//! The exhaustive check of a node change (`ProtocolBody::Nodes`) run as the
//! model's one transaction: three members, up to two faults (crashes or
//! false suspicions), members that suspect a member gone on without them, a
//! duplicating and reordering network, and a removed member that leaves once
//! its host is told. The code's rules (`Quorum::Joint` and
//! `NodeChange::keeps_majority_of`) keep every property removing node 3;
//! without both safeguards a removal of nodes 2 and 3 forks the group. See
//! the crate documentation of `cgm-model`.
//!
//! Each test writes its figures (states, time, counterexample) straight to
//! stderr, so they show in a plain `cargo test` run too.

use cgm_model::{
    ChangeModel, CheckRun, Variant, LIMITATION, LIMITATION_EXCLUDED, NODES_ALONE, NODES_KEPT_STUCK, NODES_LEAVE, ONE_LINEAGE, REMOVE_ONE,
    REMOVE_TWO, REPORTED_FINALITY,
};
use std::collections::BTreeSet;
use std::io::Write;

/// Writes a line past the test harness's output capture.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn summary(run: &CheckRun) {
    say(&format!(
        "cgm-model {:?} {:?}: {} distinct states ({} generated, depth {}) in {:.1?}",
        run.variant, run.txn, run.unique_states, run.states, run.max_depth, run.elapsed
    ));
    for (property, trace) in &run.violations {
        say(&format!("  counterexample to \"{property}\": {}", trace.join(", ")));
    }
    for property in &run.unreached {
        say(&format!("  not reached: {property}"));
    }
}

/// The `sometimes` properties a node change cannot reach: no host refuses
/// it (no limit, no veto hook), so no failed apply.
const NO_FAILED_APPLY: &str = "reachable: every member rolls back a failed apply";

/// No `always` property is violated.
fn safe(run: &CheckRun) {
    assert!(run.violations.is_empty(), "{:?} violates {:?}", run.variant, run.violations.keys().collect::<Vec<_>>());
}

#[test]
fn removing_one_member_of_three_keeps_every_property() {
    let run = ChangeModel::nodes(Variant::Code, REMOVE_ONE).check(2);
    summary(&run);
    safe(&run);
    assert!(!run.violations.contains_key(REPORTED_FINALITY) && !run.violations.contains_key(ONE_LINEAGE));
    for reached in [LIMITATION, LIMITATION_EXCLUDED, NODES_LEAVE, NODES_ALONE] {
        assert!(run.reached.contains(reached), "never reached: {reached}");
    }
    let expected: BTreeSet<&str> = [NO_FAILED_APPLY, NODES_KEPT_STUCK].into_iter().collect();
    assert_eq!(run.unreached, expected, "the search would be vacuous");
}

/// Both safeguards removed (the simulator's `newest-set-only` flaw): the
/// group forks. The shortest fork: 2 and 3 commit the removal of themselves
/// in a view without 1 and leave, and 1 alone, holding the node set {1},
/// has quorum too. The harmful one, searched for next: 1 commits alone, 2
/// and 3 abandon in a view without it, and 1 alone installs a view with
/// quorum that reports "committed" to its host.
#[test]
fn counting_only_the_newest_node_set_forks_the_group() {
    let run = ChangeModel::nodes(Variant::NewestSetOnly, REMOVE_TWO).check(1);
    summary(&run);
    assert!(
        run.violations.contains_key(ONE_LINEAGE),
        "NewestSetOnly should fork, violated: {:?}",
        run.violations.keys().collect::<Vec<_>>()
    );
    let run = ChangeModel::nodes(Variant::NewestSetOnly, REMOVE_TWO).check_until(1, REPORTED_FINALITY);
    summary(&run);
    assert!(run.violations.contains_key(REPORTED_FINALITY), "NewestSetOnly should tell hosts different outcomes");
}

#[test]
fn removing_a_majority_under_the_joint_rule_is_safe_and_the_member_kept_goes_on() {
    let run = ChangeModel::nodes(Variant::RemoveMajority, REMOVE_TWO).check(1);
    summary(&run);
    safe(&run);
    assert!(!run.reached.contains(NODES_KEPT_STUCK), "the member kept is stuck without quorum");
}

#[test]
fn counting_only_the_newest_node_set_is_safe_when_a_change_keeps_a_majority() {
    let run = ChangeModel::nodes(Variant::NewestSetQuorum, REMOVE_ONE).check(1);
    summary(&run);
    safe(&run);
}
