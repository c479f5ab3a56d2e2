//! The exhaustive check of the parameter change protocol (three members, up
//! to two crashes, a duplicating and reordering network) and, for each
//! safeguard of the code, the check of the protocol without it, which must
//! find a counterexample. See the crate documentation of `cgm-model` for what
//! is modelled and how it maps to the code.
//!
//! Each test writes its figures (states, time, counterexample) straight to
//! stderr, so they show in a plain `cargo test` run too.

use cgm_model::{check, CheckRun, Variant, LIMITATION};
use std::io::Write;

/// Writes a line past the test harness's output capture.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn summary(run: &CheckRun) {
    say(&format!(
        "cgm-model {:?}: {} distinct states ({} generated, depth {}) in {:.1?}",
        run.variant, run.unique_states, run.states, run.max_depth, run.elapsed
    ));
}

#[test]
fn the_code_keeps_every_property_in_every_reachable_state() {
    let run = check(Variant::Code, 2);
    summary(&run);
    for (property, trace) in &run.violations {
        say(&format!("  VIOLATED {property}: {}", trace.join(", ")));
    }
    assert!(run.violations.is_empty(), "the code's protocol violates {:?}", run.violations.keys().collect::<Vec<_>>());
    assert!(run.unreached.is_empty(), "never reached: {:?} (the search would be vacuous)", run.unreached);
    assert!(run.reached.contains(LIMITATION));
}

/// Checks `variant` and asserts it violates `expected`, printing the shortest
/// counterexample.
fn must_fail(variant: Variant, expected: &str) {
    let run = check(variant, 1);
    summary(&run);
    for (property, trace) in &run.violations {
        say(&format!("  counterexample to \"{property}\": {}", trace.join(", ")));
    }
    assert!(
        run.violations.keys().any(|p| p.starts_with(expected)),
        "{variant:?} should violate \"{expected}\", violated: {:?}",
        run.violations.keys().collect::<Vec<_>>()
    );
}

#[test]
fn without_pooling_the_survivors_disagree() {
    must_fail(Variant::NoPooling, "agreement");
}

#[test]
fn ignoring_completed_members_overrules_their_outcome() {
    must_fail(Variant::IgnoreCompleted, "no completed outcome is overruled");
}

#[test]
fn presuming_unknown_statuses_ok_commits_a_failed_apply() {
    must_fail(Variant::UnknownPresumedOk, "validity");
}

#[test]
fn a_majority_of_oks_commits_a_failed_apply() {
    must_fail(Variant::MajorityCommit, "validity");
}

#[test]
fn without_undo_a_rollback_keeps_the_new_values() {
    must_fail(Variant::NoUndo, "values follow the outcome");
}

#[test]
fn counting_duplicate_acks_commits_without_every_status() {
    must_fail(Variant::NoDedupe, "validity");
}

#[test]
fn without_fencing_a_reported_member_completes_against_the_decision() {
    must_fail(Variant::NoFence, "no completed outcome is overruled");
}
