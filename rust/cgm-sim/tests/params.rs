//! Simulator tests of the dynamic, transactional parameter change (DESIGN 2.2),
//! the pairwise heartbeat switch-over (DESIGN 2.3) and the eleven parameters
//! (DESIGN 5):
//!
//! - A: change scenarios: commit on 5 and 64 members, a host veto, a member's
//!   local limit, a crash at every step of the change, a minority partition,
//!   concurrent changes, and a heartbeat retune under loss without a false
//!   suspicion;
//! - B: every parameter, changed at runtime by a committed change, changes
//!   behaviour that can be observed from outside the core;
//! - C: invalid values are refused before anything is sent.
//!
//! Every test runs a fixed seed and prints it when it fails. Replay one test
//! with another seed, printing every event, with
//!
//! ```text
//! CGM_SEED=<seed> CGM_SIM_VERBOSE=1 cargo test -p cgm-sim --test params <test> -- --nocapture
//! ```

use cgm_core::{Error, NodeId, Outcome, Param, ParamError, Params, Phase, ProposalId, Status};
use cgm_sim::{sim_params, NetFaults, Sim, SimConfig, Violation};
use std::time::Duration;

// ----- harness ---------------------------------------------------------------

/// One parameter and its new value.
type Change = (Param, u64);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Prints the test's seed when the test panics, so the failure can be replayed.
struct SeedGuard {
    test: &'static str,
    seed: u64,
}

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "\n*** {} FAILED with seed {}; replay: CGM_SEED={} CGM_SIM_VERBOSE=1 cargo test -p cgm-sim --test params {} -- --nocapture\n",
                self.test, self.seed, self.seed, self.test
            );
        }
    }
}

/// The seed to run (`default`, or `CGM_SEED` when set) and a guard printing it on failure.
fn seeded(test: &'static str, default: u64) -> (u64, SeedGuard) {
    let seed = std::env::var("CGM_SEED").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(default);
    (seed, SeedGuard { test, seed })
}

/// Unwraps a simulator result; a broken invariant fails the test with the cluster state.
fn ok<T>(sim: &Sim, r: Result<T, Violation>) -> T {
    match r {
        Ok(v) => v,
        Err(v) => panic!("invariant broken: {v}\n{}", dump(sim)),
    }
}

/// Every live node's status table.
fn dump(sim: &Sim) -> String {
    sim.alive().iter().map(|&id| sim.status(id).to_string()).collect()
}

fn idx(id: NodeId) -> usize {
    id as usize - 1
}

/// Every live node is in one view of all live nodes, with quorum, idle, nothing
/// queued, and every reliable channel acknowledged.
fn settled(s: &Sim) -> bool {
    let alive = s.alive();
    let first = s.status(alive[0]);
    alive.iter().all(|&id| {
        let st = s.status(id);
        st.quorum
            && st.view == first.view
            && st.members.len() == alive.len()
            && st.phase == Phase::Idle
            && st.queued_protocols == 0
            && st.completed == first.completed
            && st.peers.iter().all(|p| p.in_flight == 0 && p.queued == 0)
    })
}

/// Runs until [`settled`]; fails the test otherwise.
fn settle(sim: &mut Sim, limit: Duration) {
    let done = sim.run_until(limit, settled);
    let done = ok(sim, done);
    assert!(done, "the cluster did not settle within {limit:?} (t = {}):\n{}", sim.now, dump(sim));
}

/// Runs until `pred` holds; fails the test with `what` otherwise.
fn wait_for(sim: &mut Sim, limit: Duration, what: &str, pred: impl FnMut(&Sim) -> bool) {
    let done = sim.run_until(limit, pred);
    let done = ok(sim, done);
    assert!(done, "{what}: not reached within {limit:?} (t = {}):\n{}", sim.now, dump(sim));
}

fn run(sim: &mut Sim, d: Duration) {
    let r = sim.run_for(d);
    ok(sim, r)
}

/// Builds a cluster and lets it form its first view.
fn cluster(cfg: SimConfig) -> Sim {
    let mut sim = Sim::new(cfg);
    settle(&mut sim, Duration::from_secs(30));
    sim
}

/// A 5-node cluster on the simulator's fast parameters with `changes` applied.
fn cluster5(seed: u64, changes: &[(Param, u64)]) -> Sim {
    let mut cfg = SimConfig::new(5, seed);
    if !changes.is_empty() {
        cfg.params = sim_params().with_changes(changes).expect("valid test parameters");
    }
    cluster(cfg)
}

/// Proposes `changes` at `at`, runs until its outcome reaches the initiator and
/// the cluster settles; returns the outcome.
fn change(sim: &mut Sim, at: NodeId, changes: &[(Param, u64)]) -> Outcome {
    let pid = sim.propose_change(at, changes).unwrap_or_else(|e| panic!("node {at} refused {changes:?}: {e}"));
    wait_for(sim, Duration::from_secs(20), "the outcome of the change at its initiator", |s| s.nodes[idx(at)].outcomes.contains_key(&pid));
    settle(sim, Duration::from_secs(20));
    sim.nodes[idx(at)].outcomes[&pid].clone()
}

/// [`change`] that must commit: every live member then holds exactly the old
/// values with `changes` applied, and one more generation.
fn commit(sim: &mut Sim, at: NodeId, changes: &[(Param, u64)]) -> Outcome {
    let before = sim.status(at);
    let expected = before.params.with_changes(changes).expect("a valid change");
    let o = change(sim, at, changes);
    assert!(o.committed, "change {changes:?} did not commit: {o:?}\n{}", dump(sim));
    assert_all_hold(sim, &expected, before.generation + 1);
    o
}

/// Waits until no link of any live member has a heartbeat switch-over pending.
fn switched_over(sim: &mut Sim) {
    wait_for(sim, Duration::from_secs(20), "heartbeat switch-over on every link", |s| {
        s.alive().iter().all(|&id| !s.status(id).switch_over_pending())
    });
}

/// Every live member holds exactly `params` and `generation`.
fn assert_all_hold(sim: &Sim, params: &Params, generation: u64) {
    for id in sim.alive() {
        let st = sim.status(id);
        assert_eq!(&st.params, params, "node {id} holds other values\n{}", dump(sim));
        assert_eq!(st.generation, generation, "node {id} holds generation {}\n{}", st.generation, dump(sim));
    }
}

/// The outcomes live members recorded for proposal `pid`, by member.
fn outcomes_of(sim: &Sim, pid: ProposalId) -> Vec<(NodeId, Outcome)> {
    sim.alive()
        .into_iter()
        .filter_map(|id| {
            let h = sim.checker.histories.get(&id)?;
            h.outcomes.values().find(|o| o.pid == pid).map(|o| (id, o.clone()))
        })
        .collect()
}

/// Every live member recorded the same outcome for `pid`; returns it.
fn identical_everywhere(sim: &Sim, pid: ProposalId) -> Outcome {
    let all = outcomes_of(sim, pid);
    assert_eq!(all.len(), sim.alive().len(), "not every member completed {pid}: only {:?}", all.iter().map(|a| a.0).collect::<Vec<_>>());
    for (id, o) in &all[1..] {
        assert_eq!(o, &all[0].1, "node {id} has another outcome for {pid} than node {}", all[0].0);
    }
    all[0].1.clone()
}

fn peer_status(st: &Status, peer: NodeId) -> &cgm_core::PeerStatus {
    st.peers.iter().find(|p| p.id == peer).unwrap_or_else(|| panic!("node {} has no peer {peer}", st.node))
}

/// Number of suspicions raised by any live member.
fn suspicions(sim: &Sim) -> usize {
    sim.alive().iter().map(|&id| sim.nodes[idx(id)].suspicions.len()).sum()
}

// ----- A: change scenarios ---------------------------------------------------

#[test]
fn a_committed_change_holds_the_same_values_and_generation_on_all_five_members() {
    let (seed, _g) = seeded("a_committed_change_holds_the_same_values_and_generation_on_all_five_members", 11);
    let mut sim = cluster5(seed, &[]);
    let old = sim.core(1).params().clone();
    let changes = [(Param::SendWindowSize, 16), (Param::MessageRetryTimer, 35), (Param::HeartbeatFailureThreshold, 4)];
    let o = commit(&mut sim, 3, &changes);
    assert_eq!(o.generation, 1);
    assert!(o.reason.is_none(), "{o:?}");
    assert_eq!(o.kind, "param-change");
    assert_eq!(o.statuses.len(), 5, "a status from every member: {o:?}");
    let everywhere = identical_everywhere(&sim, o.pid);
    assert_eq!(everywhere, o, "the initiator got the outcome every member recorded");
    for id in sim.ids() {
        let st = sim.status(id);
        assert_eq!(st.params.get(Param::SendWindowSize), 16);
        assert_eq!(st.params.get(Param::MessageRetryTimer), 35);
        assert_eq!(st.params.get(Param::HeartbeatFailureThreshold), 4);
        assert_eq!(st.params.diff(&old).len(), 3, "only the three changed values differ at node {id}");
        assert_eq!(st.counters.changes_committed, 1);
        assert_eq!(st.counters.changes_rolled_back, 0);
    }
}

#[test]
fn a_committed_change_holds_the_same_values_and_generation_on_all_64_members() {
    let (seed, _g) = seeded("a_committed_change_holds_the_same_values_and_generation_on_all_64_members", 64);
    let mut sim = cluster(SimConfig::new(64, seed));
    assert_eq!(sim.status(64).members.len(), 64);
    let o = commit(&mut sim, 37, &[(Param::SendWindowSize, 32), (Param::MaxFragmentSize, 1_200)]);
    assert_eq!(o.generation, 1);
    assert_eq!(o.statuses.len(), 64);
    let everywhere = identical_everywhere(&sim, o.pid);
    assert!(everywhere.committed);
    // A second change from another member moves every member on again.
    let o2 = commit(&mut sim, 64, &[(Param::SendWindowSize, 48)]);
    assert_eq!(o2.generation, 2);
    assert!(o2.seq > o.seq);
    identical_everywhere(&sim, o2.pid);
}

#[test]
fn a_change_vetoed_by_one_member_is_undone_on_every_member() {
    let (seed, _g) = seeded("a_change_vetoed_by_one_member_is_undone_on_every_member", 21);
    let mut sim = cluster5(seed, &[]);
    let old = sim.core(1).params().clone();
    sim.nodes[idx(3)].host.veto = Some("maintenance window closed".into());
    let o = change(&mut sim, 2, &[(Param::SendWindowSize, 8), (Param::HeartbeatFailureThreshold, 6)]);
    assert!(!o.committed, "a vetoed change must not commit: {o:?}");
    let reason = o.reason.clone().expect("a rolled-back change has a reason");
    assert!(reason.contains("member 3") && reason.contains("vetoed"), "reason must name member 3 and the veto: {reason}");
    assert!(reason.contains("maintenance window closed"), "reason carries the host's words: {reason}");
    assert!(!reason.contains("member 1") && !reason.contains("member 2"), "only member 3 failed: {reason}");
    identical_everywhere(&sim, o.pid);
    assert_all_hold(&sim, &old, 0);
    for id in sim.ids() {
        let st = sim.status(id);
        assert_eq!(st.counters.changes_rolled_back, 1, "node {id}");
        assert_eq!(st.counters.changes_committed, 0, "node {id}");
    }
    // A host that does not decide within the veto timeout (5 s) counts as a veto;
    // meanwhile member 4 shows that it waits on its veto hook.
    sim.nodes[idx(3)].host.veto = None;
    sim.nodes[idx(4)].host.delay = Duration::from_secs(7);
    let pid = sim.propose_change(5, &[(Param::SendWindowSize, 8)]).unwrap();
    run(&mut sim, Duration::from_secs(2));
    let st = sim.status(4);
    assert_eq!(st.phase, Phase::WaitingLocal, "{st}");
    assert_eq!(st.waiting, Some(cgm_core::Waiting::Local(cgm_core::Resource::Veto)), "{st}");
    wait_for(&mut sim, Duration::from_secs(10), "the timed-out veto's outcome", |s| s.nodes[idx(5)].outcomes.contains_key(&pid));
    let o = sim.nodes[idx(5)].outcomes[&pid].clone();
    assert!(!o.committed, "{o:?}");
    let reason = o.reason.clone().unwrap_or_default();
    assert!(reason.contains("member 4") && reason.contains("veto hook timed out"), "{reason}");
    settle(&mut sim, Duration::from_secs(20));
    identical_everywhere(&sim, pid);
    assert_all_hold(&sim, &old, 0);
    assert_eq!(suspicions(&sim), 0, "a member waiting on its host is not suspected");
    // Once the hosts decide in time and stop vetoing, the same change commits.
    sim.nodes[idx(4)].host.delay = ms(1);
    commit(&mut sim, 2, &[(Param::SendWindowSize, 8), (Param::HeartbeatFailureThreshold, 6)]);
}

#[test]
fn a_change_over_one_members_local_limit_is_undone_on_every_member() {
    let (seed, _g) = seeded("a_change_over_one_members_local_limit_is_undone_on_every_member", 31);
    let mut cfg = SimConfig::new(5, seed);
    cfg.params = sim_params();
    let mut sim = Sim::new(cfg);
    sim.nodes[idx(5)].host.limits.set(Param::MaxFragmentSize, 1_200);
    sim.restart_all_for_limits();
    settle(&mut sim, Duration::from_secs(30));
    let old = sim.core(1).params().clone();
    let o = change(&mut sim, 2, &[(Param::MaxFragmentSize, 2_000), (Param::SendWindowSize, 10)]);
    assert!(!o.committed, "{o:?}");
    let reason = o.reason.clone().expect("a reason");
    assert!(reason.contains("member 5"), "{reason}");
    assert!(reason.contains("max-fragment-size = 2000 exceeds this member's local limit of 1200"), "{reason}");
    assert_eq!(reason.matches("member ").count(), 1, "only member 5 failed: {reason}");
    identical_everywhere(&sim, o.pid);
    assert_all_hold(&sim, &old, 0);
    // A value within the limit commits.
    commit(&mut sim, 2, &[(Param::MaxFragmentSize, 1_200)]);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Initiator,
    Coordinator,
    Participant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Before the victim ACKs round 1 (for the initiator and the coordinator: at
    /// once after the proposal, with the proposal still in flight).
    BeforeRound1,
    /// After round 1 completed at the victim, before its local apply (it waits on the veto hook).
    BetweenRounds,
    /// After the victim applied the change, before the protocol ends there.
    AfterApply,
}

/// Node 4 proposes a change; `role` crashes at `step`. Every survivor ends with
/// the same values and generation (old ones with an outcome not committed, or
/// new ones with one more generation and a committed outcome), the initiator
/// (if alive) gets its outcome, and the victim restarted rejoins on the same values.
fn crash_during_change(seed: u64, role: Role, step: Step, lossy: bool) -> Result<(), String> {
    let (init, coord, part) = (4, 1, 5);
    let victim = match role {
        Role::Initiator => init,
        Role::Coordinator => coord,
        Role::Participant => part,
    };
    let mut sim = cluster5(seed, &[]);
    if lossy {
        sim.net.faults = NetFaults { loss: 0.05, duplicate: 0.02, min_delay: Duration::from_micros(100), max_delay: ms(3) };
    }
    if step == Step::AfterApply {
        // The others decide on the veto later, so the victim applies first and
        // waits for their statuses: the window between its apply and the end.
        for id in sim.ids().into_iter().filter(|&id| id != victim) {
            sim.nodes[idx(id)].host.delay = ms(200);
        }
    }
    let old = sim.core(1).params().clone();
    let changes = [(Param::SendWindowSize, 16), (Param::MessageRetryTimer, 30)];
    let new = old.with_changes(&changes).expect("valid");
    let pid = sim.propose_change(init, &changes).map_err(|e| e.to_string())?;
    let running = |s: &Sim, id: NodeId| s.status(id).protocol.is_some_and(|p| p.pid == pid);
    let reached = match (step, role) {
        (Step::BeforeRound1, Role::Initiator | Role::Coordinator) => true,
        (Step::BeforeRound1, Role::Participant) => {
            let r = sim.run_until(ms(2_000), |s| running(s, coord));
            let r = ok(&sim, r);
            let st = sim.status(victim);
            if st.protocol.is_some() || st.completed > 0 || st.acked_round > 0 {
                return Err(format!("precondition: node {victim} already started the change:\n{st}"));
            }
            r
        }
        (Step::BetweenRounds, _) => {
            let r = sim.run_until(ms(2_000), |s| {
                let st = s.status(victim);
                st.phase == Phase::WaitingLocal && st.protocol.as_ref().is_some_and(|p| p.pid == pid && p.round_index == 1)
            });
            ok(&sim, r)
        }
        (Step::AfterApply, _) => {
            let r = sim.run_until(ms(2_000), |s| running(s, victim) && s.status(victim).params == new);
            ok(&sim, r)
        }
    };
    if !reached {
        return Err(format!("step {step:?} of node {victim} never reached:\n{}", dump(&sim)));
    }
    sim.crash(victim);
    let done = sim.run_until(Duration::from_secs(30), |s| settled(s) && (victim == init || s.nodes[idx(init)].outcomes.contains_key(&pid)));
    if !ok(&sim, done) {
        return Err(format!("survivors did not settle (or the initiator got no outcome):\n{}", dump(&sim)));
    }
    let outs = outcomes_of(&sim, pid);
    if let Some((first_id, first)) = outs.first() {
        if let Some((id, o)) = outs.iter().find(|(_, o)| o != first) {
            return Err(format!("outcomes differ: node {first_id} {first:?} vs node {id} {o:?}"));
        }
    }
    let committed = outs.first().is_some_and(|(_, o)| o.committed);
    if victim != init {
        let o = &sim.nodes[idx(init)].outcomes[&pid];
        if o.committed != committed || (!outs.is_empty() && o != &outs[0].1) {
            return Err(format!("the initiator's outcome {o:?} differs from the members' {outs:?}"));
        }
    }
    let (want, gen) = if committed { (new, 1) } else { (old, 0) };
    for id in sim.alive() {
        let st = sim.status(id);
        if st.params != want || st.generation != gen {
            return Err(format!(
                "node {id} holds gen {} {:?}; the outcome (committed: {committed}) requires gen {gen} {want:?}\n{}",
                st.generation,
                st.params,
                dump(&sim)
            ));
        }
    }
    // The crashed member restarts and rejoins on the current values.
    sim.restart(victim);
    let done = sim.run_until(Duration::from_secs(30), |s| settled(s) && s.status(1).members.len() == 5);
    if !ok(&sim, done) {
        return Err(format!("node {victim} did not rejoin:\n{}", dump(&sim)));
    }
    for id in sim.ids() {
        let st = sim.status(id);
        if st.params != want || st.generation != gen {
            return Err(format!("after the rejoin node {id} holds gen {} {:?}, not gen {gen} {want:?}", st.generation, st.params));
        }
    }
    println!("crash of the {role:?} (node {victim}) at {step:?}, lossy {lossy}: committed = {committed}");
    Ok(())
}

#[test]
fn every_survivor_holds_identical_values_whichever_member_crashes_at_whichever_step_of_a_change() {
    let (seed, _g) = seeded("every_survivor_holds_identical_values_whichever_member_crashes_at_whichever_step_of_a_change", 41);
    let mut failures = Vec::new();
    let mut case = 0;
    // Every case once on a perfect network, then on eight seeds of a lossy one.
    for (lossy, runs) in [(false, 1), (true, 8)] {
        for role in [Role::Initiator, Role::Coordinator, Role::Participant] {
            for step in [Step::BeforeRound1, Step::BetweenRounds, Step::AfterApply] {
                for _ in 0..runs {
                    let s = seed + case;
                    case += 1;
                    let r = std::panic::catch_unwind(move || crash_during_change(s, role, step, lossy)).unwrap_or_else(|p| {
                        Err(p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|x| x.to_string()))
                            .unwrap_or_default())
                    });
                    if let Err(e) = r {
                        eprintln!("crash of the {role:?} at {step:?} (lossy: {lossy}), seed {s}: {e}");
                        failures.push(format!("{role:?} at {step:?}, lossy {lossy} (seed {s})"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "failed cases: {failures:?}");
}

#[test]
fn a_change_completed_by_some_members_before_a_participant_crash_commits_on_every_survivor() {
    let (seed, _g) = seeded("a_change_completed_by_some_members_before_a_participant_crash_commits_on_every_survivor", 51);
    let mut sim = cluster5(seed, &[]);
    let old = sim.core(1).params().clone();
    let changes = [(Param::SendWindowSize, 20)];
    let new = old.with_changes(&changes).unwrap();
    let pid = sim.propose_change(2, &changes).unwrap();
    // Everyone finished round 1; member 5 has not applied yet.
    wait_for(&mut sim, ms(2_000), "round 2 everywhere with member 5 before its apply", |s| {
        s.ids().iter().all(|&id| s.status(id).protocol.is_some_and(|p| p.pid == pid && p.round_index == 1))
            && s.status(5).phase == Phase::WaitingLocal
    });
    // Member 5's round-2 status reaches the coordinator (members of a view of
    // five send their ACKs to it alone), which passes it on to 3 and 4 only;
    // then member 5 crashes.
    sim.net.cut_one_way(1, 2);
    wait_for(&mut sim, ms(2_000), "member 5 applied", |s| s.status(5).params == new);
    sim.crash(5);
    wait_for(&mut sim, ms(500), "members 1, 3 and 4 complete the change", |s| [1, 3, 4].iter().all(|&id| s.status(id).completed >= 1));
    assert_eq!(sim.status(2).completed, 0, "member 2 lacks member 5's status");
    assert!(outcomes_of(&sim, pid).iter().all(|(_, o)| o.committed));
    sim.net.heal();
    // The view change must make 2 commit as well: 1, 3 and 4 already did.
    settle(&mut sim, Duration::from_secs(20));
    let o = identical_everywhere(&sim, pid);
    assert!(o.committed, "{o:?}");
    assert_all_hold(&sim, &new, 1);
    assert_eq!(sim.nodes[idx(2)].outcomes[&pid], o);
}

#[test]
fn a_failure_reported_in_round_two_by_a_member_that_then_crashes_rolls_back_on_every_survivor() {
    // The classic hazard: member 5 fails its local apply (its host vetoes),
    // its round-2 ACK reaches only members 1, 3 and 4 (it goes to the
    // coordinator, member 1, whose relay to 2 is lost), then it crashes.
    // Member 2 never sees its status; the view change must still make it
    // decide as the others did.
    let (seed, _g) = seeded("a_failure_reported_in_round_two_by_a_member_that_then_crashes_rolls_back_on_every_survivor", 52);
    let mut sim = cluster5(seed, &[]);
    let old = sim.core(1).params().clone();
    let generation = sim.status(1).generation;
    sim.nodes[idx(5)].host.veto = Some("host policy".into());
    let pid = sim.propose_change(2, &[(Param::SendWindowSize, 20)]).unwrap();
    wait_for(&mut sim, ms(2_000), "member 5 waits on its veto hook in round 2", |s| {
        s.status(5).phase == Phase::WaitingLocal && s.status(5).protocol.is_some_and(|p| p.pid == pid && p.round_index == 1)
    });
    sim.net.cut_one_way(1, 2);
    wait_for(&mut sim, ms(2_000), "members 1, 3 and 4 roll back on member 5's failed status", |s| {
        [1, 3, 4].iter().all(|&id| s.status(id).completed >= 1)
    });
    assert_eq!(sim.status(2).completed, 0, "member 2 lacks member 5's status");
    sim.crash(5);
    sim.net.heal();
    settle(&mut sim, Duration::from_secs(20));
    let o = identical_everywhere(&sim, pid);
    assert!(!o.committed, "a change member 5 failed committed: {o:?}");
    assert!(o.reason.as_deref().unwrap_or("").contains("member 5"), "{o:?}");
    assert_all_hold(&sim, &old, generation);
    assert_eq!(sim.nodes[idx(2)].outcomes[&pid], o, "the initiator got the same outcome");
}

#[test]
fn a_change_proposed_on_the_minority_side_of_a_partition_is_refused_with_no_quorum() {
    let (seed, _g) = seeded("a_change_proposed_on_the_minority_side_of_a_partition_is_refused_with_no_quorum", 61);
    let mut sim = cluster5(seed, &[]);
    let old = sim.core(1).params().clone();
    sim.net.partition(&[vec![1, 2, 3], vec![4, 5]]);
    wait_for(&mut sim, Duration::from_secs(20), "the 3|2 split into two views", |s| {
        [4, 5].iter().all(|&id| !s.status(id).quorum && s.status(id).members.len() == 2)
            && [1, 2, 3].iter().all(|&id| s.status(id).quorum && s.status(id).members.len() == 3 && s.status(id).phase == Phase::Idle)
    });
    for id in [4, 5] {
        let sent = sim.net.sent;
        let e = sim.propose_change(id, &[(Param::SendWindowSize, 7)]).unwrap_err();
        assert_eq!(e, Error::NoQuorum { members: 2, configured: 5 }, "node {id}");
        assert!(e.to_string().contains("no quorum"), "{e}");
        assert_eq!(sim.net.sent, sent, "a refused change sends nothing");
        assert_eq!(sim.status(id).params, old);
    }
    // The majority side still changes parameters.
    let pid = sim.propose_change(2, &[(Param::SendWindowSize, 9)]).unwrap();
    wait_for(&mut sim, Duration::from_secs(10), "the majority's change", |s| {
        s.nodes[idx(2)].outcomes.contains_key(&pid) && [1, 2, 3].iter().all(|&id| s.status(id).completed == 1)
    });
    let o = sim.nodes[idx(2)].outcomes[&pid].clone();
    assert!(o.committed, "{o:?}");
    assert_eq!(o.statuses.len(), 3, "the majority view's members: {o:?}");
    for id in [1, 2, 3] {
        assert_eq!(sim.status(id).params.get(Param::SendWindowSize), 9, "node {id}");
    }
    for id in [4, 5] {
        assert_eq!(sim.status(id).params, old, "the minority kept its values");
        assert_eq!(sim.status(id).generation, 0);
    }
    sim.net.heal();
    wait_for(&mut sim, Duration::from_secs(30), "the healed cluster", |s| settled(s) && s.status(1).members.len() == 5);
    let new = old.with_changes(&[(Param::SendWindowSize, 9)]).unwrap();
    assert_all_hold(&sim, &new, 1);
}

#[test]
fn concurrent_changes_from_two_initiators_are_serialised_in_the_same_order_everywhere() {
    let (seed, _g) = seeded("concurrent_changes_from_two_initiators_are_serialised_in_the_same_order_everywhere", 71);
    let mut sim = cluster5(seed, &[]);
    let old = sim.core(1).params().clone();

    // Two compatible changes: both commit, the later one wins.
    let a = sim.propose_change(2, &[(Param::SendWindowSize, 16)]).unwrap();
    let b = sim.propose_change(4, &[(Param::SendWindowSize, 32), (Param::MessageRetryTimer, 25)]).unwrap();
    wait_for(&mut sim, Duration::from_secs(20), "both outcomes", |s| {
        s.nodes[idx(2)].outcomes.contains_key(&a) && s.nodes[idx(4)].outcomes.contains_key(&b)
    });
    settle(&mut sim, Duration::from_secs(20));
    let (oa, ob) = (identical_everywhere(&sim, a), identical_everywhere(&sim, b));
    assert!(oa.committed && ob.committed, "{oa:?} {ob:?}");
    assert_ne!(oa.seq, ob.seq);
    for id in sim.ids() {
        let h = &sim.checker.histories[&id].outcomes;
        let order: Vec<ProposalId> = h.values().map(|o| o.pid).collect();
        assert_eq!(order.len(), 2, "node {id}: {order:?}");
        assert_eq!(h[&oa.seq].pid, a, "node {id}");
        assert_eq!(h[&ob.seq].pid, b, "node {id}");
    }
    let (first, second) = if oa.seq < ob.seq { (&oa, &ob) } else { (&ob, &oa) };
    assert_eq!(first.generation, 1);
    assert_eq!(second.generation, 2);
    let window = if oa.seq < ob.seq { 32 } else { 16 };
    let expected = old.with_changes(&[(Param::SendWindowSize, window), (Param::MessageRetryTimer, 25)]).unwrap();
    assert_all_hold(&sim, &expected, 2);

    // Two changes each valid alone but not together: the later one fails its
    // local check on every member and is rolled back everywhere.
    let base = sim.core(1).params().clone();
    let widen = [(Param::HeartbeatInterval, 200), (Param::HeartbeatTimeout, 600), (Param::HeartbeatAckTimeout, 600)];
    let tighten = [(Param::HeartbeatTimeout, 150)];
    let c = sim.propose_change(3, &widen).unwrap();
    let d = sim.propose_change(5, &tighten).unwrap();
    wait_for(&mut sim, Duration::from_secs(20), "both outcomes", |s| {
        s.nodes[idx(3)].outcomes.contains_key(&c) && s.nodes[idx(5)].outcomes.contains_key(&d)
    });
    settle(&mut sim, Duration::from_secs(20));
    let (oc, od) = (identical_everywhere(&sim, c), identical_everywhere(&sim, d));
    assert_ne!(oc.seq, od.seq);
    let (f, s): (&[Change], &[Change]) = if oc.seq < od.seq { (&widen, &tighten) } else { (&tighten, &widen) };
    let after_first = base.with_changes(f).unwrap();
    let second_valid = after_first.with_changes(s);
    let (of, os) = if oc.seq < od.seq { (&oc, &od) } else { (&od, &oc) };
    assert!(of.committed, "{of:?}");
    assert_eq!(os.committed, second_valid.is_ok(), "second outcome {os:?} vs static check {second_valid:?}");
    if let Err(e) = &second_valid {
        let reason = os.reason.clone().unwrap_or_default();
        assert!(reason.contains(&e.to_string()), "reason {reason:?} should carry {e}");
        assert_eq!(reason.matches("member ").count(), 5, "every member failed the check: {reason}");
    }
    let final_params = second_valid.unwrap_or(after_first);
    assert_all_hold(&sim, &final_params, if os.committed { 4 } else { 3 });
}

/// Parameters for the retune: the default 1 s heartbeat, a shorter message retry.
fn retune_start_params() -> Params {
    Params::default().with_changes(&[(Param::MessageRetryTimer, 20)]).unwrap()
}

/// The fast heartbeat set, as one atomic change. With 10% loss, 3 consecutive
/// misses at 50 ms happen by chance within seconds (a true detection under those
/// thresholds), so the thresholds move to 8 in the same change; a link whose two
/// ends disagree on the interval still misses far more than 8 in a row.
const FAST: [(Param, u64); 5] = [
    (Param::HeartbeatInterval, 50),
    (Param::HeartbeatTimeout, 150),
    (Param::HeartbeatAckTimeout, 150),
    (Param::HeartbeatFailureThreshold, 8),
    (Param::HeartbeatAckFailureThreshold, 8),
];
const SLOW: [(Param, u64); 5] = [
    (Param::HeartbeatInterval, 1_000),
    (Param::HeartbeatTimeout, 3_000),
    (Param::HeartbeatAckTimeout, 3_000),
    (Param::HeartbeatFailureThreshold, 3),
    (Param::HeartbeatAckFailureThreshold, 3),
];

fn assert_links_at(sim: &Sim, interval: u64) {
    for id in sim.ids() {
        let st = sim.status(id);
        assert_eq!(
            st.links.len(),
            2,
            "node {id} has both ring links: {:?}\nsuspicions: {:?}\n{}",
            st.links,
            sim.nodes.iter().map(|n| &n.suspicions).collect::<Vec<_>>(),
            dump(sim)
        );
        for l in &st.links {
            assert_eq!(l.interval_ms, interval, "node {id} link {l:?}");
            assert!(!l.switch_over_pending, "node {id} link {l:?}");
        }
    }
}

fn heartbeats_sent(sim: &Sim) -> Vec<u64> {
    sim.ids().iter().map(|&id| sim.status(id).counters.heartbeats_sent).collect()
}

fn retune_under_loss(seed: u64) {
    retune_under_loss_with(SimConfig::new(5, seed));
}

fn retune_under_loss_with(mut cfg: SimConfig) {
    cfg.params = retune_start_params();
    let mut sim = cluster(cfg);
    sim.net.faults = NetFaults { loss: 0.10, duplicate: 0.0, min_delay: Duration::from_micros(100), max_delay: ms(5) };
    run(&mut sim, ms(3_000));
    assert_links_at(&sim, 1_000);

    for (step, set, interval) in [("1000 ms -> 50 ms", &FAST, 50u64), ("50 ms -> 1000 ms", &SLOW, 1_000)] {
        let before = sim.core(1).params().clone();
        let gen = sim.core(1).generation();
        let o = change(&mut sim, 2, set);
        assert!(o.committed, "{step}: {o:?}");
        assert_all_hold(&sim, &before.with_changes(set).unwrap(), gen + 1);
        switched_over(&mut sim);
        let raised: Vec<_> = sim.nodes.iter().map(|n| n.suspicions.clone()).collect();
        assert_eq!(suspicions(&sim), 0, "{step}: the retune raised suspicions (by node): {raised:?}\n{}", dump(&sim));
        assert_links_at(&sim, interval);
        let h0 = heartbeats_sent(&sim);
        run(&mut sim, ms(5_000));
        let h1 = heartbeats_sent(&sim);
        for (i, (a, b)) in h0.iter().zip(&h1).enumerate() {
            let sent = b - a;
            let expect = 5_000 / interval;
            assert!(sent.abs_diff(expect) <= 2, "{step}: node {} sent {sent} heartbeats in 5 s, expected {expect}", i + 1);
        }
        let raised: Vec<_> = sim.nodes.iter().map(|n| n.suspicions.clone()).collect();
        assert_eq!(suspicions(&sim), 0, "{step}: suspicions after the switch-over (by node): {raised:?}");
        assert_links_at(&sim, interval);
        assert!(sim.ids().iter().all(|&id| sim.status(id).members.len() == 5), "{step}: the view lost a member");
    }
    for id in sim.ids() {
        assert_eq!(sim.status(id).counters.suspicions, 0, "node {id}");
    }
}

#[test]
fn retuning_the_heartbeat_from_1s_to_50ms_and_back_under_loss_raises_no_suspicion() {
    // Three fixed seeds: each retune has five links switched over under 10% loss.
    let mut failed = Vec::new();
    for default in [81, 82, 83] {
        let (seed, _g) = seeded("retuning_the_heartbeat_from_1s_to_50ms_and_back_under_loss_raises_no_suspicion", default);
        if let Err(p) = std::panic::catch_unwind(move || retune_under_loss(seed)) {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|x| x.to_string()));
            eprintln!("seed {seed}: {}", msg.unwrap_or_default());
            failed.push(seed);
        }
    }
    assert!(failed.is_empty(), "retune under loss failed for seeds {failed:?} (messages above)");
}

/// The check fails with the switch-over off (the `no-heartbeat-switch-over`
/// flaw: receive sides switch at commit, send sides never).
#[cfg(feature = "flaws")]
#[test]
fn retuning_without_the_switch_over_raises_suspicions() {
    let caught = [81, 82, 83].into_iter().filter(|&seed| {
        let mut cfg = SimConfig::new(5, seed);
        cfg.flaw = Some(cgm_core::flaws::Flaw::NoHeartbeatSwitchOver);
        std::panic::catch_unwind(move || retune_under_loss_with(cfg))
            .is_err_and(|p| p.downcast_ref::<String>().is_some_and(|m| m.contains("suspicion")))
    });
    assert!(caught.count() > 0, "no seed raised a suspicion with the switch-over off");
}

#[test]
fn a_lost_switch_over_ack_does_not_make_the_receiver_suspect_its_predecessor() {
    let (seed, _g) = seeded("a_lost_switch_over_ack_does_not_make_the_receiver_suspect_its_predecessor", 91);
    let mut cfg = SimConfig::new(5, seed);
    cfg.params = retune_start_params();
    let mut sim = cluster(cfg);
    let pid = sim.propose_change(2, &FAST).unwrap();
    // Node 1 sends heartbeats to node 2. Once node 1 committed (its switch-over
    // request goes out with its next heartbeat), drop everything node 2 sends to
    // node 1 until node 2 has applied the request: exactly the handshake's ACK
    // (and some reliable-channel ACKs, which are retransmitted) is lost.
    wait_for(&mut sim, ms(5_000), "node 1 commits", |s| s.status(1).generation == 1);
    sim.net.cut_one_way(2, 1);
    wait_for(&mut sim, ms(3_000), "node 2 applied node 1's request", |s| {
        s.status(2).links.iter().any(|l| !l.outgoing && l.peer == 1 && l.interval_ms == 50)
    });
    sim.net.heal();
    let pending = sim.status(1).links.iter().any(|l| l.outgoing && l.peer == 2 && l.switch_over_pending && l.interval_ms == 1_000);
    assert!(pending, "node 1 still sends at 1000 ms, waiting for the lost ACK:\n{}", dump(&sim));
    run(&mut sim, ms(3_000));
    assert_eq!(sim.nodes[idx(2)].suspicions, vec![], "a lost switch-over ACK made node 2 suspect its predecessor");
    assert_eq!(suspicions(&sim), 0);
    assert!(sim.nodes[idx(2)].outcomes.get(&pid).is_some_and(|o| o.committed));
    switched_over(&mut sim);
    assert_links_at(&sim, 50);
}

// ----- B: every parameter governs behaviour, changed at runtime ---------------

/// An application protocol at `at` with `payload_len` bytes, run to its outcome.
fn app_round(sim: &mut Sim, at: NodeId, payload_len: usize) {
    let payload = vec![0xA5; payload_len];
    let pid = sim.propose_app(at, 1, None, &payload).unwrap();
    wait_for(sim, Duration::from_secs(20), "the application protocol's outcome", |s| s.nodes[idx(at)].outcomes.contains_key(&pid));
    settle(sim, Duration::from_secs(20));
}

#[test]
fn datagrams_are_cut_at_the_max_fragment_size_in_force() {
    let (seed, _g) = seeded("datagrams_are_cut_at_the_max_fragment_size_in_force", 101);
    let mut sim = cluster5(seed, &[]);
    let measure = |sim: &mut Sim| {
        sim.net.max_datagram = 0;
        let sent = sim.net.sent;
        app_round(sim, 2, 20_000);
        (sim.net.max_datagram as u64, sim.net.sent - sent)
    };
    let (big, n_default) = measure(&mut sim);
    assert!(big <= 1_400 && big > 1_400 - 128, "default 1400: largest datagram {big}");
    for size in [500u64, 8_000, 300] {
        commit(&mut sim, 3, &[(Param::MaxFragmentSize, size)]);
        let (largest, n) = measure(&mut sim);
        println!("max-fragment-size {size}: largest datagram {largest} bytes, {n} datagrams (default 1400: {big} bytes, {n_default})");
        assert!(largest <= size, "max-fragment-size {size}: a datagram of {largest} bytes");
        assert!(largest > size - 128, "max-fragment-size {size}: the largest datagram ({largest}) should fill a fragment");
        if size < 1_400 {
            assert!(n > n_default, "smaller fragments need more datagrams ({n} vs {n_default})");
        } else {
            assert!(n < n_default, "larger fragments need fewer datagrams ({n} vs {n_default})");
        }
    }
}

#[test]
fn fragments_in_flight_to_a_peer_are_bounded_by_the_send_window_in_force() {
    let (seed, _g) = seeded("fragments_in_flight_to_a_peer_are_bounded_by_the_send_window_in_force", 111);
    let mut sim = cluster5(seed, &[]);
    // A 40 KB protocol from the coordinator: ~32 fragments to every other member.
    let payload = vec![7u8; 40_000];
    let mut frags = 0;
    for window in [64u64, 4, 16] {
        if window != 64 {
            commit(&mut sim, 2, &[(Param::SendWindowSize, window)]);
        }
        let pid = sim.propose_app(1, 1, None, &payload).unwrap();
        let st = sim.status(1);
        for p in &st.peers {
            if window == 64 {
                // The whole protocol fits the default window: every segment is in flight.
                frags = p.in_flight;
                assert!(frags > 16 && frags < 64, "expected ~32 fragments per peer, got {frags}");
            }
            assert_eq!(p.in_flight, window.min(frags), "window {window}, peer {}: {p:?}", p.id);
            if window < frags {
                assert!(p.queued > 0, "window {window}: the rest waits behind the window: {p:?}");
            }
        }
        let mut most = 0;
        let done = sim.run_until(Duration::from_secs(20), |s| {
            most = most.max(s.status(1).peers.iter().map(|p| p.in_flight).max().unwrap_or(0));
            s.nodes[0].outcomes.contains_key(&pid)
        });
        assert!(ok(&sim, done), "the protocol did not complete");
        println!("send-window-size {window}: at most {most} of {frags} fragments in flight to a peer");
        assert_eq!(most, window.min(frags), "window {window}: at most {} in flight, saw {most}", window.min(frags));
        settle(&mut sim, Duration::from_secs(20));
    }
}

/// Cuts 1 -> 3 (not a ring link), starts a protocol at 1 and counts node 1's
/// retransmissions per unacknowledged fragment over `window`, once the
/// others' ACKs, relayed by node 1, joined the protocol on the way to node 3.
fn retransmits_per_fragment(sim: &mut Sim, window: Duration) -> (u64, u64) {
    sim.net.cut_one_way(1, 3);
    let pid = sim.propose_app(1, 1, None, b"x").unwrap();
    run(sim, ms(50));
    let r0 = sim.status(1).counters.retransmits;
    let frags = peer_status(&sim.status(1), 3).in_flight;
    run(sim, window);
    let r1 = sim.status(1).counters.retransmits;
    assert_eq!(peer_status(&sim.status(1), 3).in_flight, frags, "nothing else was sent to node 3");
    sim.net.heal();
    wait_for(sim, Duration::from_secs(10), "the protocol after healing", |s| s.nodes[0].outcomes.contains_key(&pid));
    settle(sim, Duration::from_secs(10));
    assert_eq!(suspicions(sim), 0);
    (r1 - r0, frags)
}

#[test]
fn retransmissions_are_spaced_by_the_message_retry_timer_in_force() {
    let (seed, _g) = seeded("retransmissions_are_spaced_by_the_message_retry_timer_in_force", 121);
    let mut sim = cluster5(seed, &[]);
    let window = ms(600);
    for retry in [20u64, 100, 7] {
        if retry != 20 {
            commit(&mut sim, 4, &[(Param::MessageRetryTimer, retry)]);
        }
        let (count, frags) = retransmits_per_fragment(&mut sim, window);
        println!("message-retry-timer {retry} ms: {count} retransmissions of {frags} fragment(s) in 600 ms");
        assert!(frags >= 1);
        let expect = frags * (600 / retry);
        assert!(
            count.abs_diff(expect) <= frags,
            "retry {retry} ms: {count} retransmissions of {frags} fragment(s) in 600 ms, expected {expect}"
        );
    }
}

/// Cuts 1 -> 3 (not a ring link), starts a protocol at 1 and returns the time
/// until node 1 suspects node 3 for its unacknowledged messages; then heals and
/// lets node 3 rejoin.
fn time_to_give_up(sim: &mut Sim) -> Duration {
    let before = sim.nodes[0].suspicions.len();
    let total = suspicions(sim);
    let view = sim.status(1).view;
    sim.net.cut_one_way(1, 3);
    let t0 = sim.now;
    sim.propose_app(1, 1, None, b"x").unwrap();
    wait_for(sim, Duration::from_secs(20), "node 1 suspects node 3", |s| s.nodes[0].suspicions.len() > before);
    let dt = sim.now.saturating_since(t0);
    let (who, why) = sim.nodes[0].suspicions[before].clone();
    assert_eq!(who, 3, "{why}");
    assert!(why.contains("max-message-retry-time"), "node 1 suspected node 3 for another reason: {why}");
    assert_eq!(suspicions(sim), total + 1, "nobody else suspected anybody first");
    sim.net.heal();
    rejoined(sim, view);
    dt
}

#[test]
fn a_peer_is_suspected_after_the_max_message_retry_time_in_force() {
    let (seed, _g) = seeded("a_peer_is_suspected_after_the_max_message_retry_time_in_force", 131);
    let mut sim = cluster5(seed, &[]);
    for max in [1_000u64, 2_500, 300] {
        if max != 1_000 {
            commit(&mut sim, 2, &[(Param::MaxMessageRetryTime, max)]);
        }
        let dt = time_to_give_up(&mut sim);
        println!("max-message-retry-time {max} ms: node 3 suspected after {dt:?}");
        assert!(dt >= ms(max) && dt <= ms(max + 5), "max-message-retry-time {max} ms: gave up after {dt:?}");
    }
}

#[test]
fn proposals_past_the_send_queue_overflow_threshold_in_force_are_refused_with_backpressure() {
    let (seed, _g) = seeded("proposals_past_the_send_queue_overflow_threshold_in_force_are_refused_with_backpressure", 141);
    let mut sim = cluster5(seed, &[(Param::SendWindowSize, 4), (Param::SendQueueOverflowThreshold, 50)]);
    for threshold in [50u64, 8, 20] {
        if threshold != 50 {
            commit(&mut sim, 2, &[(Param::SendQueueOverflowThreshold, threshold)]);
        }
        // Node 3's link to the coordinator is cut: its proposals pile up behind the window.
        sim.net.cut_one_way(3, 1);
        let mut accepted = Vec::new();
        let refused = loop {
            match sim.propose_app(3, 1, None, b"p") {
                Ok(pid) => accepted.push(pid),
                Err(e) => break e,
            }
            assert!(accepted.len() < 10_000, "never refused");
        };
        assert_eq!(refused, Error::Backpressure { peer: 1, queued: threshold as usize }, "threshold {threshold}");
        assert!(refused.to_string().contains("send-queue-overflow-threshold"), "{refused}");
        println!("send-queue-overflow-threshold {threshold}: {} proposals accepted, then {refused}", accepted.len());
        assert_eq!(accepted.len() as u64, 4 + threshold, "window 4 + threshold {threshold} accepted");
        let st = sim.status(3);
        assert_eq!(peer_status(&st, 1).queued, threshold);
        let sent = sim.net.sent;
        assert!(sim.propose_app(3, 1, None, b"p").is_err());
        assert_eq!(sim.net.sent, sent, "a refused proposal sends nothing");
        // No silent loss: every accepted proposal completes once the link is back.
        sim.net.heal();
        wait_for(&mut sim, Duration::from_secs(30), "every accepted proposal's outcome", |s| {
            accepted.iter().all(|p| s.nodes[idx(3)].outcomes.contains_key(p))
        });
        settle(&mut sim, Duration::from_secs(20));
        assert_eq!(suspicions(&sim), 0);
    }
}

#[test]
fn heartbeats_are_sent_at_the_heartbeat_interval_in_force() {
    let (seed, _g) = seeded("heartbeats_are_sent_at_the_heartbeat_interval_in_force", 151);
    let mut sim = cluster5(seed, &[]);
    for interval in [100u64, 250, 40] {
        if interval != 100 {
            commit(&mut sim, 5, &[(Param::HeartbeatInterval, interval)]);
            switched_over(&mut sim);
        }
        assert_links_at(&sim, interval);
        let h0 = heartbeats_sent(&sim);
        run(&mut sim, ms(4_000));
        let h1 = heartbeats_sent(&sim);
        for (i, (a, b)) in h0.iter().zip(&h1).enumerate() {
            let expect = 4_000 / interval;
            println!("heartbeat-interval {interval} ms: node {} sent {} heartbeats in 4 s", i + 1, b - a);
            assert!(
                (b - a).abs_diff(expect) <= 1,
                "interval {interval}: node {} sent {} heartbeats in 4 s, expected {expect}",
                i + 1,
                b - a
            );
        }
    }
    assert_eq!(suspicions(&sim), 0);
}

/// Cuts `from -> to` one way and returns the time until `observer` suspects
/// `suspect` for a reason containing `why`, with nobody suspecting anybody
/// before; then heals and lets the cluster re-form.
fn detection_time(sim: &mut Sim, from: NodeId, to: NodeId, observer: NodeId, suspect: NodeId, why: &str) -> Duration {
    let before = suspicions(sim);
    let own = sim.nodes[idx(observer)].suspicions.len();
    let view = sim.status(1).view;
    sim.net.cut_one_way(from, to);
    let t0 = sim.now;
    wait_for(sim, Duration::from_secs(20), "a suspicion", |s| suspicions(s) > before);
    let dt = sim.now.saturating_since(t0);
    let raised = &sim.nodes[idx(observer)].suspicions;
    assert_eq!(
        raised.len(),
        own + 1,
        "the first suspicion comes from node {observer}: {:?}",
        sim.nodes.iter().map(|n| &n.suspicions).collect::<Vec<_>>()
    );
    let (who, reason) = raised[own].clone();
    assert_eq!(who, suspect, "{reason}");
    assert!(reason.contains(why), "node {observer} suspected node {suspect} for: {reason}");
    sim.net.heal();
    rejoined(sim, view);
    dt
}

/// Waits until the cluster left `view` (a member was excluded) and all five
/// members are together again in a later view.
fn rejoined(sim: &mut Sim, view: cgm_core::ViewId) {
    wait_for(sim, Duration::from_secs(30), "the cluster re-forms", |s| {
        s.status(1).view > view && settled(s) && s.status(1).members.len() == 5
    });
}

/// Receive side: 3 -> 4 cut, node 4 stops hearing its predecessor 3. The ACK
/// side of node 3 is made slow (threshold 20) so it does not detect first.
fn receive_side_detection(sim: &mut Sim) -> Duration {
    detection_time(sim, 3, 4, 4, 3, "heartbeats missed past heartbeat-failure-threshold")
}

/// ACK side: 4 -> 3 cut, node 3 gets no heartbeat ACKs from its successor 4.
fn ack_side_detection(sim: &mut Sim) -> Duration {
    detection_time(sim, 4, 3, 3, 4, "heartbeat ACKs missed past heartbeat-ack-failure-threshold")
}

/// The heartbeat values of `p`, for messages.
fn hb(p: &Params) -> String {
    [
        Param::HeartbeatInterval,
        Param::HeartbeatTimeout,
        Param::HeartbeatAckTimeout,
        Param::HeartbeatFailureThreshold,
        Param::HeartbeatAckFailureThreshold,
        Param::ReceiveSendTimerRatio,
    ]
    .iter()
    .map(|&q| format!("{q}={}", p.get(q)))
    .collect::<Vec<_>>()
    .join(" ")
}

/// Bounds of the receive-side detection time: the first miss comes at a check
/// `timeout` to `timeout + period` after the last heartbeat (itself up to one
/// interval before the cut), then `threshold - 1` more checks.
fn receive_bounds(p: &Params) -> (Duration, Duration) {
    let i = p.get(Param::HeartbeatInterval);
    let period = i * p.get(Param::ReceiveSendTimerRatio) / 100;
    let (t, n) = (p.get(Param::HeartbeatTimeout), p.get(Param::HeartbeatFailureThreshold));
    (ms(t + (n - 1) * period - i), ms(t + n * period + 5))
}

/// Bounds of the ACK-side detection time: a heartbeat counts as missed
/// `ack-timeout` after it was sent, checked at each send.
fn ack_bounds(p: &Params) -> (Duration, Duration) {
    let i = p.get(Param::HeartbeatInterval);
    let (t, n) = (p.get(Param::HeartbeatAckTimeout), p.get(Param::HeartbeatAckFailureThreshold));
    (ms(t + (n - 2) * i), ms(t + n * i + 5))
}

fn assert_within(what: &str, dt: Duration, (lo, hi): (Duration, Duration)) {
    assert!(dt >= lo && dt <= hi, "{what}: detected after {dt:?}, expected {lo:?}..={hi:?}");
}

#[test]
fn a_silent_predecessor_is_suspected_after_the_heartbeat_timeout_in_force() {
    let (seed, _g) = seeded("a_silent_predecessor_is_suspected_after_the_heartbeat_timeout_in_force", 161);
    let mut sim = cluster5(seed, &[(Param::HeartbeatAckFailureThreshold, 20)]);
    let mut times = Vec::new();
    for timeout in [300u64, 800] {
        if timeout != 300 {
            commit(&mut sim, 2, &[(Param::HeartbeatTimeout, timeout)]);
            switched_over(&mut sim);
        }
        let p = sim.core(4).params().clone();
        let dt = receive_side_detection(&mut sim);
        println!("receive side, {}: detected after {dt:?}", hb(&p));
        assert_within(&format!("heartbeat-timeout {timeout} ms"), dt, receive_bounds(&p));
        times.push(dt);
    }
    assert!(times[1] > times[0], "a longer timeout detects later: {times:?}");
}

#[test]
fn a_silent_predecessor_is_suspected_after_the_heartbeat_failure_threshold_in_force() {
    let (seed, _g) = seeded("a_silent_predecessor_is_suspected_after_the_heartbeat_failure_threshold_in_force", 171);
    let mut sim = cluster5(seed, &[(Param::HeartbeatAckFailureThreshold, 20)]);
    let mut times = Vec::new();
    for threshold in [3u64, 8, 1] {
        if threshold != 3 {
            commit(&mut sim, 2, &[(Param::HeartbeatFailureThreshold, threshold)]);
        }
        let p = sim.core(4).params().clone();
        let dt = receive_side_detection(&mut sim);
        println!("receive side, {}: detected after {dt:?}", hb(&p));
        assert_within(&format!("heartbeat-failure-threshold {threshold}"), dt, receive_bounds(&p));
        times.push(dt);
    }
    assert!(times[1] > times[0] && times[2] < times[0], "{times:?}");
}

#[test]
fn a_successor_that_stops_acking_is_suspected_after_the_heartbeat_ack_timeout_in_force() {
    let (seed, _g) = seeded("a_successor_that_stops_acking_is_suspected_after_the_heartbeat_ack_timeout_in_force", 181);
    let mut sim = cluster5(seed, &[]);
    let mut times = Vec::new();
    for timeout in [300u64, 700] {
        if timeout != 300 {
            commit(&mut sim, 2, &[(Param::HeartbeatAckTimeout, timeout)]);
            switched_over(&mut sim);
        }
        let p = sim.core(3).params().clone();
        let dt = ack_side_detection(&mut sim);
        println!("ACK side, {}: detected after {dt:?}", hb(&p));
        assert_within(&format!("heartbeat-ack-timeout {timeout} ms"), dt, ack_bounds(&p));
        times.push(dt);
    }
    assert!(times[1] > times[0], "{times:?}");
}

#[test]
fn a_successor_that_stops_acking_is_suspected_after_the_heartbeat_ack_failure_threshold_in_force() {
    let (seed, _g) = seeded("a_successor_that_stops_acking_is_suspected_after_the_heartbeat_ack_failure_threshold_in_force", 191);
    let mut sim = cluster5(seed, &[]);
    let mut times = Vec::new();
    for threshold in [3u64, 7] {
        if threshold != 3 {
            commit(&mut sim, 2, &[(Param::HeartbeatAckFailureThreshold, threshold)]);
        }
        let p = sim.core(3).params().clone();
        let dt = ack_side_detection(&mut sim);
        println!("ACK side, {}: detected after {dt:?}", hb(&p));
        assert_within(&format!("heartbeat-ack-failure-threshold {threshold}"), dt, ack_bounds(&p));
        times.push(dt);
    }
    assert!(times[1] > times[0], "{times:?}");
}

#[test]
fn the_receive_check_runs_every_interval_times_the_receive_send_timer_ratio_in_force() {
    let (seed, _g) = seeded("the_receive_check_runs_every_interval_times_the_receive_send_timer_ratio_in_force", 201);
    // High thresholds: the misses are watched, never acted on.
    let mut sim = cluster5(seed, &[(Param::HeartbeatFailureThreshold, 50), (Param::HeartbeatAckFailureThreshold, 50)]);
    let misses = |s: &Sim| s.status(4).links.iter().find(|l| !l.outgoing && l.peer == 3).map_or(0, |l| l.misses);
    let mut periods = Vec::new();
    for ratio in [100u64, 250, 180] {
        if ratio != 100 {
            commit(&mut sim, 2, &[(Param::ReceiveSendTimerRatio, ratio)]);
            switched_over(&mut sim);
        }
        assert_eq!(misses(&sim), 0);
        sim.net.cut_one_way(3, 4);
        let mut at = Vec::new();
        for k in 1..=4u32 {
            wait_for(&mut sim, ms(3_000), "the next miss on node 4's incoming link", |s| misses(s) >= k);
            assert_eq!(misses(&sim), k, "one miss per check");
            at.push(sim.now);
        }
        sim.net.heal();
        wait_for(&mut sim, ms(3_000), "the misses reset", |s| misses(s) == 0);
        for w in at.windows(2) {
            let period = w[1].saturating_since(w[0]);
            assert_eq!(period, ms(100 * ratio / 100), "ratio {ratio}%: checks {period:?} apart");
        }
        println!("receive-send-timer-ratio {ratio}%: misses at {at:?}");
        periods.push(at[1].saturating_since(at[0]));
    }
    assert_eq!(suspicions(&sim), 0);
    assert_eq!(periods, vec![ms(100), ms(250), ms(180)]);
}

// ----- C: invalid values are refused before anything is sent -----------------

#[test]
fn invalid_values_are_refused_with_the_parameter_value_and_valid_range_and_nothing_is_sent() {
    let (seed, _g) = seeded("invalid_values_are_refused_with_the_parameter_value_and_valid_range_and_nothing_is_sent", 211);
    let mut sim = cluster5(seed, &[]);
    let params = sim.core(1).params().clone();
    let before: Vec<Status> = sim.ids().iter().map(|&id| sim.status(id)).collect();
    // (change, words the error must contain)
    let cases: Vec<(Vec<Change>, Vec<&str>)> = vec![
        (vec![(Param::SendWindowSize, 0)], vec!["send-window-size = 0", "valid range is 1..=4096"]),
        (vec![(Param::HeartbeatInterval, 0)], vec!["heartbeat-interval = 0", "valid range is 1..=60000 ms"]),
        (vec![(Param::HeartbeatInterval, 60_001)], vec!["heartbeat-interval = 60001", "valid range is 1..=60000 ms"]),
        (vec![(Param::MaxFragmentSize, 100)], vec!["max-fragment-size = 100", "valid range is 256..=65000 bytes"]),
        (vec![(Param::MaxFragmentSize, 70_000)], vec!["max-fragment-size = 70000", "valid range is 256..=65000 bytes"]),
        (vec![(Param::ReceiveSendTimerRatio, 99)], vec!["receive-send-timer-ratio = 99", "valid range is 100..=1000 percent"]),
        (vec![(Param::HeartbeatFailureThreshold, 0)], vec!["heartbeat-failure-threshold = 0", "valid range is 1..=100 count"]),
        (vec![(Param::HeartbeatAckFailureThreshold, 101)], vec!["heartbeat-ack-failure-threshold = 101", "valid range is 1..=100"]),
        (vec![(Param::MessageRetryTimer, 10_001)], vec!["message-retry-timer = 10001", "valid range is 1..=10000 ms"]),
        (vec![(Param::MaxMessageRetryTime, 5)], vec!["max-message-retry-time = 5", "valid range is 10..=600000 ms"]),
        (vec![(Param::SendQueueOverflowThreshold, 0)], vec!["send-queue-overflow-threshold = 0", "valid range is 1..=1000000"]),
        (vec![(Param::HeartbeatTimeout, 1)], vec!["heartbeat-timeout = 1", "valid range is 2..=600000 ms"]),
        (vec![(Param::HeartbeatAckTimeout, 600_001)], vec!["heartbeat-ack-timeout = 600001", "valid range is 2..=600000 ms"]),
        // Timeouts below (or at) the interval.
        (vec![(Param::HeartbeatTimeout, 50)], vec!["heartbeat-timeout = 50", "must exceed heartbeat-interval (100ms)"]),
        (vec![(Param::HeartbeatAckTimeout, 100)], vec!["heartbeat-ack-timeout = 100", "must exceed heartbeat-interval (100ms)"]),
        (vec![(Param::HeartbeatInterval, 500)], vec!["heartbeat-interval = 500", "must be below heartbeat-timeout (300ms)"]),
        // Other cross-parameter rules.
        (vec![(Param::ReceiveSendTimerRatio, 300)], vec!["receive-send-timer-ratio = 300", "below heartbeat-timeout (300ms)"]),
        (vec![(Param::MaxMessageRetryTime, 20)], vec!["max-message-retry-time = 20", "must exceed message-retry-timer (20ms)"]),
        // One bad value refuses the whole set.
        (vec![(Param::SendWindowSize, 32), (Param::MaxFragmentSize, 255)], vec!["max-fragment-size = 255", "valid range is 256..=65000"]),
        (vec![(Param::SendWindowSize, 8), (Param::SendWindowSize, 9)], vec!["send-window-size appears more than once"]),
        (vec![], vec!["at least one parameter"]),
    ];
    for (changes, words) in &cases {
        for at in [1, 4] {
            let sent = sim.net.sent;
            let e = sim.propose_change(at, changes).expect_err("an invalid change must be refused");
            assert!(matches!(e, Error::Param(_)), "{changes:?}: {e:?}");
            let msg = e.to_string();
            for w in words {
                assert!(msg.contains(w), "error for {changes:?} at node {at} must contain {w:?}: {msg}");
            }
            assert_eq!(sim.net.sent, sent, "{changes:?}: nothing may be sent");
        }
    }
    // Exact error values for two representative refusals.
    assert_eq!(
        sim.propose_change(2, &[(Param::SendWindowSize, 0)]),
        Err(Error::Param(ParamError::OutOfRange { param: Param::SendWindowSize, value: 0, min: 1, max: 4_096 }))
    );
    assert!(matches!(
        sim.propose_change(2, &[(Param::HeartbeatTimeout, 100)]),
        Err(Error::Param(ParamError::Rule { param: Param::HeartbeatTimeout, value: 100, .. }))
    ));
    // An unknown name never becomes a parameter; its error names it and lists the valid names.
    for name in ["heartbeat-intervall", "window", "", "send window size"] {
        assert_eq!(Param::from_name(name), None, "{name:?}");
        let msg = ParamError::UnknownName(name.to_string()).to_string();
        assert!(msg.contains(&format!("{name:?}")), "{msg}");
        for p in Param::ALL {
            assert!(msg.contains(p.name()), "{msg} lists {p}");
        }
    }
    assert_eq!(Param::from_name("SEND_WINDOW_SIZE"), Some(Param::SendWindowSize));
    // Values in a wrong unit do not parse.
    assert!(matches!(Param::SendWindowSize.parse_value("5s"), Err(ParamError::Unparsable { param: Param::SendWindowSize, .. })));
    let e = Param::HeartbeatInterval.parse_value("5 parsecs").unwrap_err().to_string();
    assert!(e.contains("heartbeat-interval") && e.contains("5 parsecs") && e.contains("ms"), "{e}");

    // Nothing started anywhere, then or later.
    run(&mut sim, ms(2_000));
    for (id, b) in sim.ids().into_iter().zip(&before) {
        let st = sim.status(id);
        assert_eq!(st.params, params, "node {id}");
        assert_eq!(st.generation, 0, "node {id}");
        assert_eq!(st.completed, b.completed, "node {id} completed a protocol");
        assert!(st.protocol.is_none(), "node {id} runs a protocol");
        assert_eq!(st.current_round, b.current_round, "node {id} moved its ACK round");
        assert_eq!(st.counters.protocols_completed, b.counters.protocols_completed);
        assert_eq!(st.counters.changes_committed + st.counters.changes_rolled_back, 0);
    }
    // The same member still proposes a valid change afterwards.
    commit(&mut sim, 4, &[(Param::SendWindowSize, 32)]);
}
