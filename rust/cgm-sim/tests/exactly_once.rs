//! Exactly once, and one reported outcome (issue 14): the scenarios an
//! independent review found breaking them, each a named regression test.
//!
//! Besides what each scenario asserts, the simulator's checker runs all the
//! while: no member completes a proposal twice, and every outcome any member
//! reports to its host is the one every member reports for that sequence
//! number and that proposal (`cgm_sim::check`).
//!
//! Replay one seed of one test, printing every event, with
//!
//! ```text
//! CGM_SEED=<seed> CGM_SIM_VERBOSE=1 cargo test --release -p cgm-sim --test exactly_once <test> -- --nocapture
//! ```

mod common;
use common::*;

use cgm_core::{NodeId, Outcome, Param, ProposalId, Resource};
use cgm_sim::{Sim, SimConfig};
use std::time::Duration;

/// The simulated group of a scenario: mild faults, and under the `flaws`
/// feature the flaw the running test gave this thread (so the scenario is
/// shown failing with that safeguard removed).
fn group(nodes: usize, seed: u64) -> Result<Sim, String> {
    #[allow(unused_mut)]
    let mut cfg = SimConfig { faults: mild(), ..SimConfig::new(nodes, seed) };
    #[cfg(feature = "flaws")]
    {
        cfg.flaw = flawed::FLAW.with(|f| f.get());
    }
    formed_with(cfg)
}

/// Every member of `ids` completed `pid` (as its checker history shows, since
/// its last state transfer) with the outcome its proposer reported, or took
/// the state of a lineage that did; the proposer's own outcome is returned.
fn one_outcome_everywhere(sim: &Sim, ids: &[NodeId], proposer: NodeId, pid: ProposalId) -> Result<Outcome, String> {
    let o = sim.nodes[proposer as usize - 1].outcomes.get(&pid).cloned().ok_or(format!("proposer {proposer} has no outcome for {pid}"))?;
    for &id in ids {
        if let Some(c) = completed_outcome(sim, id, pid) {
            if (c.seq, c.committed, c.generation) != (o.seq, o.committed, o.generation) {
                return Err(format!("member {id} completed {pid} as {c:?}; its proposer reported {o:?}"));
            }
        }
    }
    exactly_once(sim, ids)?;
    Ok(o)
}

/// Defect 1: a proposal waiting at a coordinator that cannot sequence it
/// (fenced for a view change that a one-way cut stalls) must not run again
/// when that coordinator merges back, after the majority decided it.
fn stale_proposal_at_a_fenced_coordinator(seed: u64) -> Check {
    let mut sim = group(5, seed)?;
    let all = sim.ids();
    run_protocols(&mut sim, &[2, 3], &all, 3, "warm-up")?;
    // Node 1 leads a view change without 5 that node 4's report cannot reach.
    sim.net.cut_one_way(4, 1);
    sim.crash(5);
    run_until(&mut sim, ms(2_000), "node 1 leading a view change", |s| s.status(1).phase == cgm_core::Phase::ViewChange)?;
    // Node 3 proposes now: its proposal waits at the fenced coordinator.
    let p = propose(&mut sim, 3, 1, None, b"P")?;
    run_for(&mut sim, ms(5))?;
    // Node 1 is cut off; the majority decides P.
    sim.net.partition(&[vec![1], vec![2, 3, 4, 5]]);
    run_until(&mut sim, ms(10_000), "the majority deciding P", |s| s.nodes[2].outcomes.contains_key(&p))?;
    let before = one_outcome_everywhere(&sim, &[2, 3, 4], 3, p)?;
    run_protocols(&mut sim, &[2, 4], &[2, 3, 4], 5, "majority")?;
    // Node 1 merges back as the lowest id and leads; node 5 restarts.
    sim.restart(5);
    sim.net.heal();
    settle(&mut sim, &all, &[], Duration::from_secs(20), "after the merge")?;
    run_protocols(&mut sim, &[1], &all, 3, "after the merge")?;
    let after = one_outcome_everywhere(&sim, &all, 3, p)?;
    if !before.committed || after != before {
        return Err(format!("P: {before:?} before the merge, {after:?} after"));
    }
    Ok(())
}

#[test]
fn a_proposal_waiting_at_a_fenced_coordinator_runs_once_when_that_coordinator_merges_back() {
    for_each_seed(
        "a_proposal_waiting_at_a_fenced_coordinator_runs_once_when_that_coordinator_merges_back",
        0..20,
        stale_proposal_at_a_fenced_coordinator,
    );
}

/// Defect 2: a proposer cut off while the majority decides its proposal and
/// runs many more protocols (past any window of recent outcomes) learns that
/// fate when it rejoins; nobody runs the proposal again.
fn decided_while_its_proposer_was_cut_off(seed: u64, more: usize) -> Check {
    let mut sim = group(5, seed)?;
    let all = sim.ids();
    run_protocols(&mut sim, &[1], &all, 2, "warm-up")?;
    // Q waits on a lock node 2's host holds; P is queued behind it everywhere.
    sim.nodes[1].host.locks_held.insert("l".into());
    let q = propose(&mut sim, 2, 1, Some(Resource::Lock("l".into())), b"Q")?;
    run_until(&mut sim, ms(2_000), "Q running", |s| s.status(2).protocol.as_ref().is_some_and(|p| p.pid == q))?;
    let p = propose(&mut sim, 3, 1, None, b"P")?;
    run_until(&mut sim, ms(2_000), "P queued everywhere", |s| s.ids().iter().all(|&id| s.status(id).queued_protocols >= 1))?;
    sim.net.partition(&[vec![1, 3], vec![2, 4, 5]]);
    run_for(&mut sim, ms(50))?;
    sim.release_lock(2, "l");
    run_until(&mut sim, ms(10_000), "the majority deciding P", |s| completed_outcome(s, 4, p).is_some())?;
    run_protocols(&mut sim, &[2, 4, 5], &[2, 4, 5], more, "while 3 is cut off")?;
    sim.net.heal();
    settle(&mut sim, &all, &[(3, p), (2, q)], Duration::from_secs(30), "after the merge")?;
    run_protocols(&mut sim, &[1, 3], &all, 3, "after the merge")?;
    one_outcome_everywhere(&sim, &all, 3, p)?;
    one_outcome_everywhere(&sim, &all, 2, q)?;
    Ok(())
}

#[test]
fn a_proposal_decided_while_its_proposer_was_cut_off_runs_once_however_many_protocols_ran_meanwhile() {
    // 300 was enough to run a proposal twice when rejoining members learned
    // only the newest 256 outcomes; 5,000 is past the 4,096 outcomes a
    // coordinator used to remember.
    for_each_seed("decided_while_cut_off_300", 0..10, |seed| decided_while_its_proposer_was_cut_off(seed, 300));
    for_each_seed("decided_while_cut_off_5000", 0..2, |seed| decided_while_its_proposer_was_cut_off(seed, 5_000));
}

/// Defect 3: a member that holds every round-2 status of a change, its own
/// never reaching the others, decides "committed" while the others abandon
/// the change. It must not report that: the outcome it reports (and the
/// values it holds) is the one every member reports.
fn round_two_status_lost_one_way(seed: u64) -> Check {
    let mut sim = group(3, seed)?;
    let all = sim.ids();
    run_protocols(&mut sim, &[1], &all, 2, "warm-up")?;
    let pid = sim.propose_change(3, &[(Param::SendWindowSize, 33)]).map_err(|e| e.to_string())?;
    run_until(&mut sim, ms(2_000), "node 3 in round 2", |s| {
        s.status(3).protocol.as_ref().is_some_and(|p| p.pid == pid && p.round_index == 1)
    })?;
    sim.net.cut_one_way(3, 1);
    sim.net.cut_one_way(3, 2);
    run_for(&mut sim, ms(3_000))?;
    sim.net.heal();
    settle(&mut sim, &all, &[(3, pid)], Duration::from_secs(20), "after healing")?;
    let o = one_outcome_everywhere(&sim, &all, 3, pid)?;
    let window: Vec<u64> = all.iter().map(|&id| sim.status(id).params.get(Param::SendWindowSize)).collect();
    let expected = if o.committed { 33 } else { sim.cfg.params.get(Param::SendWindowSize) };
    if window.iter().any(|&w| w != expected) {
        return Err(format!("{pid} reported {o:?}, but the members hold send-window-size {window:?}"));
    }
    Ok(())
}

#[test]
fn a_member_whose_round_two_status_never_reaches_the_others_reports_the_outcome_they_decide() {
    for_each_seed(
        "a_member_whose_round_two_status_never_reaches_the_others_reports_the_outcome_they_decide",
        0..30,
        round_two_status_lost_one_way,
    );
}

/// Each scenario fails with the safeguard it tests removed (run with
/// `cargo test --release -p cgm-sim --features flaws --test exactly_once`).
#[cfg(feature = "flaws")]
mod flawed {
    use super::*;
    use cgm_core::flaws::Flaw;
    use std::cell::Cell;

    thread_local! {
        pub(super) static FLAW: Cell<Option<Flaw>> = const { Cell::new(None) };
    }

    /// Runs `scenario` on `seeds` with `flaw`; panics unless some seed fails.
    fn must_fail(flaw: Flaw, seeds: std::ops::Range<u64>, scenario: impl Fn(u64) -> Check) {
        FLAW.with(|f| f.set(Some(flaw)));
        let failed: Vec<(u64, String)> = seeds.clone().filter_map(|s| scenario(s).err().map(|e| (s, e))).collect();
        FLAW.with(|f| f.set(None));
        assert!(!failed.is_empty(), "with the flaw {flaw}, no seed of {seeds:?} failed");
        eprintln!(
            "flaw {flaw}: {} of {} seeds failed; seed {}: {}",
            failed.len(),
            seeds.end - seeds.start,
            failed[0].0,
            failed[0].1.lines().next().unwrap_or("")
        );
    }

    #[test]
    fn with_stale_proposals_a_proposal_runs_twice_after_the_fenced_coordinator_merges_back() {
        must_fail(Flaw::StaleProposals, 0..20, stale_proposal_at_a_fenced_coordinator);
    }

    #[test]
    fn with_a_window_of_fates_a_proposal_decided_while_its_proposer_was_cut_off_runs_twice() {
        must_fail(Flaw::FatesWindow, 0..5, |seed| decided_while_its_proposer_was_cut_off(seed, 300));
    }

    #[test]
    fn reporting_on_decision_reports_a_change_the_others_undid() {
        must_fail(Flaw::ReportOnDecision, 0..30, round_two_status_lost_one_way);
    }
}
