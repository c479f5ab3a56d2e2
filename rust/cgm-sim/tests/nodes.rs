//! Node changes as transactions (issue 18): nodes join and leave the
//! cluster's node set by a two-round protocol that commits everywhere or is
//! undone everywhere, while protocols run, through crashes at every step of
//! it, and quorum stays safe throughout.
//!
//! The node set is among the values the checker compares (`Params::nodes`),
//! so members that disagree on it at one generation break "values follow the
//! outcome". Added nodes are the simulator's spares, started afresh with a
//! configuration that lists only a few nodes to contact (`Sim::start_new`).
//!
//! Replay one seed of one test, printing every event, with
//!
//! ```text
//! CGM_SEED=<seed> CGM_SIM_VERBOSE=1 cargo test --release -p cgm-sim --test nodes <test> -- --nocapture
//! ```

mod common;
use common::*;

use cgm_core::{Error, NodeChange, NodeId, ProposalId};
use cgm_sim::{CrashPoint, Sim, SimConfig};
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// A group of `nodes` with `spares` nodes not yet added, on a mildly faulty
/// network; durable members when `durable`. Under the `flaws` feature,
/// with the flaw the running test set for this thread.
fn group(seed: u64, nodes: usize, spares: usize, durable: bool) -> Result<Sim, String> {
    #[allow(unused_mut)]
    let mut cfg = SimConfig { faults: mild(), strict_keys: true, durable, spares, ..SimConfig::new(nodes, seed) };
    #[cfg(feature = "flaws")]
    {
        cfg.flaw = flawed::FLAW.with(|f| f.get());
    }
    let mut sim = Sim::new(cfg);
    let first: Vec<NodeId> = (1..=nodes as NodeId).collect();
    settle(&mut sim, &first, &[], Duration::from_secs(30), "initial view")?;
    Ok(sim)
}

fn change(add: &[NodeId], remove: &[NodeId]) -> NodeChange {
    NodeChange { add: add.iter().map(|&id| (id, String::new())).collect(), remove: remove.to_vec() }
}

/// Proposes `c` at `who`, retrying while the group is between views.
fn propose_nodes(sim: &mut Sim, who: NodeId, c: &NodeChange) -> Result<ProposalId, String> {
    for _ in 0..200 {
        match sim.propose_nodes(who, c.clone()) {
            Ok(pid) => return Ok(pid),
            Err(Error::InvalidNodeChange(why)) => return Err(format!("node {who} refused node change {c}: {why}\n{}", dump(sim))),
            Err(_) => run_for(sim, ms(50))?,
        }
    }
    Err(format!("node {who} could not propose node change {c}\n{}", dump(sim)))
}

/// Runs node change `c` from `who` while `load` protocols run from the
/// members it keeps, starts the nodes it adds (contacting `who`), and waits
/// until the new node set forms one view with every proposal decided. The
/// change must commit.
fn run_change(sim: &mut Sim, who: NodeId, c: &NodeChange, load: usize, rng: &mut impl Rng) -> Result<Vec<NodeId>, String> {
    let before = sim.status(who).generation;
    let pid = propose_nodes(sim, who, c)?;
    let kept: Vec<NodeId> = sim.core(who).params().nodes().ids().filter(|id| !c.remove.contains(id)).collect();
    let mut props = vec![(who, pid)];
    for i in 0..load {
        let from = kept[rng.gen_range(0..kept.len())];
        props.push((from, propose(sim, from, 1, None, format!("load-{i}").as_bytes())?));
        if i == load / 2 {
            // The new nodes start while the change runs: they are refused
            // until it commits, then let in.
            for &(id, _) in &c.add {
                sim.start_new(id, &[who]);
            }
        }
    }
    if load == 0 {
        for &(id, _) in &c.add {
            sim.start_new(id, &[who]);
        }
    }
    let mut next: Vec<NodeId> = kept.iter().copied().chain(c.add.iter().map(|a| a.0)).collect();
    next.sort_unstable();
    settle(sim, &next, &props, Duration::from_secs(30), &format!("node change {c}"))?;
    // A removed member is told once every member decided: give its last
    // marks time to arrive.
    run_for(sim, ms(500))?;
    let o = &sim.nodes[who as usize - 1].outcomes[&pid];
    if !o.committed || o.generation != before + 1 {
        return Err(format!("node change {c} did not commit at generation {}: {o:?}\n{}", before + 1, dump(sim)));
    }
    for &id in &c.remove {
        if sim.nodes[id as usize - 1].core.is_some() && !sim.nodes[id as usize - 1].removed {
            return Err(format!("node {id} was removed and not told\n{}", dump(sim)));
        }
    }
    same_nodes(sim, &next)?;
    Ok(next)
}

/// Every member of `ids` holds `ids` as the node set, and the same state.
fn same_nodes(sim: &Sim, ids: &[NodeId]) -> Check {
    same_state(sim, ids)?;
    let held: Vec<NodeId> = sim.status(ids[0]).params.nodes().ids().collect();
    if held != ids {
        return Err(format!("the node set is {held:?}, expected {ids:?}\n{}", dump(sim)));
    }
    Ok(())
}

/// A removed node, restarted, never gets back in: with its state, its
/// restart is refused (saying how to bring it back); without, it starts
/// from its old file and the members keep their view for two seconds.
fn stays_out(sim: &mut Sim, removed: NodeId, members: &[NodeId]) -> Check {
    let view = sim.status(members[0]).view;
    sim.crash(removed);
    sim.restart(removed);
    if sim.cfg.durable {
        let why = sim.nodes[removed as usize - 1].refused.clone().unwrap_or_default();
        if !why.contains("was removed") || !why.contains("empty state directory") {
            return Err(format!("removed node {removed} restarted from its state: {why:?}"));
        }
    }
    run_for(sim, Duration::from_secs(2))?;
    let alone = sim.nodes[removed as usize - 1].core.as_ref().is_none_or(|c| c.members().len() == 1);
    if sim.status(members[0]).view != view || !alone {
        return Err(format!("removed node {removed} got back in\n{}", dump(sim)));
    }
    Ok(())
}

/// Three nodes grow to five and then seven while protocols run, shrink to
/// four and then three; every change commits at every member, the removed
/// nodes leave and stay out, and no protocol ran twice or was lost.
fn grow_and_shrink(seed: u64) -> Check {
    let mut sim = group(seed, 3, 4, seed % 2 == 1)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    run_change(&mut sim, 1 + (seed % 3) as NodeId, &change(&[4, 5], &[]), 6, &mut rng)?;
    run_change(&mut sim, 4, &change(&[6, 7], &[]), 6, &mut rng)?;
    run_change(&mut sim, 2, &change(&[], &[5, 6, 7]), 6, &mut rng)?;
    let three = run_change(&mut sim, 4, &change(&[], &[4]), 6, &mut rng)?;
    stays_out(&mut sim, 7, &three)?;
    let all = sim.ids();
    exactly_once(&sim, &all)?;
    histories_agree(&sim, &three)
}

/// One member replaced by another in one change under load: remove 2, add 6.
fn replace_under_load(seed: u64) -> Check {
    let mut sim = group(seed, 5, 1, seed % 2 == 1)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let who = [1, 3, 4, 5][(seed % 4) as usize];
    let now = run_change(&mut sim, who, &change(&[6], &[2]), 12, &mut rng)?;
    stays_out(&mut sim, 2, &now)?;
    histories_agree(&sim, &now)
}

/// The coordinator proposes its own removal: it leaves once told, and the
/// others go on under the next lowest.
fn the_coordinator_removes_itself(seed: u64) -> Check {
    let mut sim = group(seed, 5, 0, seed % 2 == 1)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let now = run_change(&mut sim, 1, &change(&[], &[1]), 6, &mut rng)?;
    run_protocols(&mut sim, &now, &now, 6, "after the coordinator left")?;
    histories_agree(&sim, &now)
}

/// A node change is refused, with the reason, when it does not fit the node
/// set or would remove a majority of the view at once; nothing runs.
#[test]
fn a_node_change_that_does_not_fit_is_refused_with_the_reason() {
    let mut sim = group(1, 5, 0, false).unwrap();
    let refused = |sim: &mut Sim, c: NodeChange| match sim.propose_nodes(2, c) {
        Err(Error::InvalidNodeChange(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(refused(&mut sim, change(&[], &[3, 4, 5])).contains("remove at most 2 per node change"));
    assert!(refused(&mut sim, change(&[3], &[])).contains("already in the cluster"));
    assert!(refused(&mut sim, change(&[], &[9])).contains("not in the cluster"));
    assert!(refused(&mut sim, change(&[], &[])).contains("adds and removes nothing"));
    assert_eq!(sim.status(2).completed, sim.status(1).completed);
    assert_eq!(sim.status(2).queued_protocols, 0);
}

/// A member crashes at one step of a node change (every crash point, in
/// turn): the change commits everywhere or is undone everywhere, and once
/// the crashed member is back the node set the members agree on forms one
/// view.
fn crash_inside_a_node_change(seed: u64) -> Check {
    let durable = seed % 2 == 1;
    let mut sim = group(seed, 5, 2, durable)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // The last two points are reached by durable members only.
    let points = if durable { &CrashPoint::ALL[..] } else { &CrashPoint::ALL[..CrashPoint::ALL.len() - 2] };
    let point = points[(seed / 2) as usize % points.len()];
    let changes = [change(&[6], &[]), change(&[], &[5]), change(&[7], &[2]), change(&[6, 7], &[4])];
    let c = changes[(seed % 4) as usize].clone();
    let target: NodeId = if matches!(point, CrashPoint::SequencerFanout | CrashPoint::InstallFanout | CrashPoint::RelayFanout) {
        1
    } else {
        rng.gen_range(1..=5)
    };
    sim.arm(target, point);
    let who = rng.gen_range(1..=5);
    let pid = propose_nodes(&mut sim, who, &c)?;
    let mut props = vec![(who, pid)];
    for i in 0..4 {
        let from = rng.gen_range(1..=5);
        if let Ok(p) = propose(&mut sim, from, 1, None, format!("load-{i}").as_bytes()) {
            props.push((from, p));
        }
    }
    for &(id, _) in &c.add {
        sim.start_new(id, &[1, 3]);
    }
    run_for(&mut sim, Duration::from_secs(3))?;
    if std::env::var_os("CGM_SHOW_CRASHES").is_some() {
        eprintln!("seed {seed}: {point:?} at node {target}: fired {:?}", sim.crashed_at);
    }
    sim.disarm(target);
    for id in 1..=5 {
        if sim.nodes[id as usize - 1].core.is_none() {
            sim.restart(id);
        }
    }
    // The members agree on the node set (the change committed or not); the
    // nodes of that set form one view.
    let limit = Duration::from_secs(30);
    let ok = sim.run_until(limit, |s| {
        let set: Vec<NodeId> = s.node_set().ids().collect();
        !set.is_empty() && settled(s, &set)
    });
    let set: Vec<NodeId> = sim.node_set().ids().collect();
    if !vio(&sim, ok)? {
        return Err(format!("crash at {point:?} of node {target} inside node change {c}: {set:?} not settled\n{}", dump(&sim)));
    }
    // Proposers still in the life that proposed have their outcome.
    let live: Vec<(NodeId, ProposalId)> =
        props.into_iter().filter(|(id, _)| set.contains(id) && sim.crashed_at.iter().all(|(c, _)| c != id)).collect();
    settle(&mut sim, &set, &live, limit, "outcomes after the crash")?;
    let before: Vec<NodeId> = (1..=5).collect();
    let mut after: Vec<NodeId> = before.iter().copied().filter(|id| !c.remove.contains(id)).chain(c.add.iter().map(|a| a.0)).collect();
    after.sort_unstable();
    if set != before && set != after {
        return Err(format!("node set {set:?} after node change {c} is neither before nor after it\n{}", dump(&sim)));
    }
    same_nodes(&sim, &set)?;
    exactly_once(&sim, &set)?;
    histories_agree(&sim, &set)
}

/// A node started before a node change added it (its file lists itself
/// and a member to contact) is refused by the members, and told why: its
/// status names the member that refused it and the node set. It does not
/// take itself for removed, the group's view stays as it was, and a node
/// change that adds it lets it in.
fn refused_until_added(seed: u64) -> Check {
    let mut sim = group(seed, 3, 1, seed % 2 == 1)?;
    let view = sim.status(1).view;
    sim.start_new(4, &[1 + (seed % 3) as NodeId]);
    run_for(&mut sim, Duration::from_secs(3))?;
    let s = sim.status(4);
    if !s.refused.as_ref().is_some_and(|r| r.nodes == [1, 2, 3] && (1..=3).contains(&r.by)) {
        return Err(format!("node 4, outside the node set, was not told why it is refused: {s}\n{}", dump(&sim)));
    }
    let refused: u64 = (1..=3).map(|id| sim.status(id).counters.refused).sum();
    if sim.nodes[3].removed || sim.status(1).view != view || refused == 0 {
        return Err(format!("node 4 was let in, or took itself for removed ({refused} datagrams refused)\n{}", dump(&sim)));
    }
    let pid = propose_nodes(&mut sim, 2, &change(&[4], &[]))?;
    settle(&mut sim, &[1, 2, 3, 4], &[(2, pid)], Duration::from_secs(30), "adding the refused node")?;
    if let Some(r) = sim.status(4).refused {
        return Err(format!("node 4 got in and still shows a refusal: {r:?}"));
    }
    same_nodes(&sim, &[1, 2, 3, 4])
}

/// A member down (durable: restarted from its state) or cut off while the
/// others removed it learns of its removal when it reaches them again: they
/// refuse it, with the node set of a generation past its own, and it leaves
/// as a member told of its removal does; it never gets back in.
fn removed_while_away(seed: u64) -> Check {
    let durable = seed % 2 == 1;
    let mut sim = group(seed, 5, 0, durable)?;
    if durable {
        sim.crash(5);
    } else {
        sim.net.partition(&[vec![1, 2, 3, 4], vec![5]]);
    }
    settle(&mut sim, &[1, 2, 3, 4], &[], Duration::from_secs(30), "the view without node 5")?;
    let who = 1 + (seed % 4) as NodeId;
    let pid = propose_nodes(&mut sim, who, &change(&[], &[5]))?;
    settle(&mut sim, &[1, 2, 3, 4], &[(who, pid)], Duration::from_secs(30), "removing node 5 while it is away")?;
    if !sim.nodes[who as usize - 1].outcomes[&pid].committed {
        return Err(format!("the removal of node 5 did not commit\n{}", dump(&sim)));
    }
    if durable {
        sim.restart(5);
    } else {
        sim.net.heal();
    }
    run_until(&mut sim, Duration::from_secs(10), "node 5 learns it was removed", |s| s.nodes[4].removed)?;
    let view = sim.status(1).view;
    run_for(&mut sim, Duration::from_secs(2))?;
    if sim.status(1).view != view {
        return Err(format!("the members changed their view after refusing node 5\n{}", dump(&sim)));
    }
    same_nodes(&sim, &[1, 2, 3, 4])?;
    histories_agree(&sim, &[1, 2, 3, 4])
}

/// A member that decided a removal the others undo refuses nothing on the
/// strength of it. Node 5 (durable) is down; the view {1,2,3,4} removes it;
/// one member gets every round-2 status and decides the removal, but its
/// own never reaches the others (its links out are cut), so they undo it.
/// Node 5 restarts and reaches that member while the member still holds
/// its view with quorum: node 5 must not take itself for removed, and once
/// the cut heals it is a member again (found by a review: the refusal
/// carried the member's decided values, not the ones its host was told).
/// Either safeguard alone (refusing with the told values, needing refusals
/// from a majority) keeps node 5 in; the `trust-one-refusal` flaw removes
/// both, and the check fails.
fn a_removal_decided_alone_refuses_nobody(seed: u64) -> Check {
    let mut sim = group(seed, 5, 0, true)?;
    sim.net.faults = cgm_sim::NetFaults::none();
    sim.crash(5);
    settle(&mut sim, &[1, 2, 3, 4], &[], Duration::from_secs(30), "the view without node 5")?;
    let pid = propose_nodes(&mut sim, 1, &change(&[], &[5]))?;
    // The member still in round 1 when the others reached round 2 is the
    // one whose round-1 ACK went out last: cut its links out then.
    let phase = |sim: &Sim, id: NodeId| sim.status(id).protocol.as_ref().filter(|p| p.kind == "node-change").map(|p| p.round_index);
    let mut alone = None;
    for _ in 0..20_000 {
        run_for(&mut sim, Duration::from_micros(100))?;
        let second: Vec<NodeId> = (1..=4).filter(|&id| phase(&sim, id) == Some(1)).collect();
        let first: Vec<NodeId> = (1..=4).filter(|&id| phase(&sim, id) == Some(0)).collect();
        if second.len() == 1 && first.len() == 3 {
            alone = first.last().copied();
            break;
        }
    }
    let Some(x) = alone else { return Err(format!("no member was left in round 1 of the removal\n{}", dump(&sim))) };
    for id in (1..=4).filter(|&id| id != x) {
        sim.net.cut_one_way(x, id);
    }
    let y = if x == 1 { 2 } else { 1 };
    run_until(&mut sim, Duration::from_secs(1), "the cut member deciding the removal alone", |s| {
        s.core(x).generation() > s.core(y).generation()
    })?;
    sim.restart(5);
    run_for(&mut sim, Duration::from_secs(3))?;
    if sim.nodes[4].removed {
        return Err(format!("node 5 left on a removal member {x} decided alone\n{}", dump(&sim)));
    }
    sim.net.heal();
    run_for(&mut sim, Duration::from_secs(15))?;
    let set: Vec<NodeId> = sim.status(y).params.nodes().ids().collect();
    let committed = sim.nodes[0].outcomes.get(&pid).map(|o| o.committed);
    if sim.nodes[4].removed && set.contains(&5) {
        return Err(format!("node 5 left, but the node set still holds it ({set:?}, removal committed: {committed:?})\n{}", dump(&sim)));
    }
    Ok(())
}

#[test]
fn a_removal_one_member_decided_alone_makes_nobody_leave() {
    for_each_seed("a_removal_decided_alone_refuses_nobody", 0..12, a_removal_decided_alone_refuses_nobody);
}

#[test]
fn a_node_outside_the_node_set_is_refused_and_told_why() {
    for_each_seed("refused_until_added", 0..6, refused_until_added);
}

#[test]
fn a_member_removed_while_away_learns_it_when_it_comes_back() {
    for_each_seed("removed_while_away", 0..6, removed_while_away);
}

#[test]
fn a_group_grows_from_three_to_seven_and_shrinks_back_while_protocols_run() {
    for_each_seed("grow_and_shrink", 0..8, grow_and_shrink);
}

#[test]
fn a_member_is_replaced_under_load() {
    for_each_seed("replace_under_load", 0..8, replace_under_load);
}

#[test]
fn the_coordinator_can_remove_itself() {
    for_each_seed("the_coordinator_removes_itself", 0..6, the_coordinator_removes_itself);
}

#[test]
fn a_crash_at_any_step_of_a_node_change_leaves_one_node_set() {
    let n = (CrashPoint::ALL.len() * 4) as u64;
    for_each_seed("crash_inside_a_node_change", 0..n, crash_inside_a_node_change);
}

/// Node 1 commits the removal of `removed` from a group of `nodes`, and is
/// cut off from the others (one way) as it does: they never learn that it
/// did, and undo the change. With the joint rule the lone member has no
/// quorum, and takes the undo when the cut heals; with the
/// `newest-set-only` flaw (its own new node set counted alone, and a
/// change allowed to remove a majority of the view: two of three) both
/// sides go on, and an outcome differs between them. Run with
/// `cargo test --release -p cgm-sim --features flaws --test nodes`.
fn cut_off_after_committing_a_removal(seed: u64, nodes: usize, removed: &[NodeId]) -> Check {
    let mut sim = group(seed, nodes, 0, false)?;
    sim.net.faults = cgm_sim::NetFaults::none();
    let c = change(&[], removed);
    let pid = sim.propose_nodes(1, c.clone()).map_err(|e| format!("{e}"))?;
    // Its round-1 ACK is on its way: the others complete round 1 and send
    // their statuses, which it receives; its own status never reaches them.
    run_until(&mut sim, Duration::from_secs(5), "round 1 of the removal", |s| {
        let st = s.status(1);
        st.protocol.as_ref().is_some_and(|p| p.kind == "node-change" && p.round_index == 0) && st.acked_round == st.current_round
    })?;
    sim.net.cut_one_way(1, 2);
    sim.net.cut_one_way(1, 3);
    run_for(&mut sim, Duration::from_secs(5))?;
    // Each side proposes: only one of them may decide.
    let _ = sim.propose_app(1, 1, None, b"lone");
    let _ = sim.propose_app(2, 1, None, b"pair");
    run_for(&mut sim, Duration::from_secs(5))?;
    sim.net.heal();
    run_for(&mut sim, Duration::from_secs(10))?;
    let all = sim.ids();
    histories_agree(&sim, &all)?;
    let o = sim.nodes[0].outcomes.get(&pid).cloned();
    if o.as_ref().is_none_or(|o| o.committed) || !settled(&sim, &all) {
        return Err(format!("the removal should be undone everywhere and the group whole: {o:?}\n{}", dump(&sim)));
    }
    same_nodes(&sim, &all)
}

#[test]
fn a_member_that_committed_a_removal_alone_gets_no_quorum() {
    for_each_seed("cut_off_after_committing_a_removal", 0..4, |s| cut_off_after_committing_a_removal(s, 5, &[4, 5]));
    let mut sim = group(0, 3, 0, false).unwrap();
    assert!(matches!(sim.propose_nodes(1, change(&[], &[2, 3])), Err(Error::InvalidNodeChange(_))));
}

/// The check fails with the safeguard removed.
#[cfg(feature = "flaws")]
mod flawed {
    use super::*;
    use cgm_core::flaws::Flaw;
    use std::cell::Cell;

    thread_local! {
        pub(super) static FLAW: Cell<Option<Flaw>> = const { Cell::new(None) };
    }

    #[test]
    fn counting_only_the_newest_node_set_forks_the_group() {
        FLAW.with(|f| f.set(Some(Flaw::NewestSetOnly)));
        let failed: Vec<(u64, String)> =
            (0..4).filter_map(|s| cut_off_after_committing_a_removal(s, 3, &[2, 3]).err().map(|e| (s, e))).collect();
        FLAW.with(|f| f.set(None));
        assert!(failed.iter().any(|(_, e)| e.contains("finality") || e.contains("total order")), "no seed forked the group: {failed:?}");
        eprintln!(
            "flaw newest-set-only: {} of 4 seeds failed; seed {}: {}",
            failed.len(),
            failed[0].0,
            failed[0].1.lines().next().unwrap_or("")
        );
    }

    #[test]
    fn trusting_one_refusal_makes_a_member_of_the_set_leave() {
        FLAW.with(|f| f.set(Some(Flaw::TrustOneRefusal)));
        let failed: Vec<(u64, String)> = (0..4).filter_map(|s| a_removal_decided_alone_refuses_nobody(s).err().map(|e| (s, e))).collect();
        FLAW.with(|f| f.set(None));
        assert!(failed.iter().any(|(_, e)| e.contains("node 5 left")), "no seed made node 5 leave: {failed:?}");
        eprintln!(
            "flaw trust-one-refusal: {} of 4 seeds failed; seed {}: {}",
            failed.len(),
            failed[0].0,
            failed[0].1.lines().next().unwrap_or("")
        );
    }
}
