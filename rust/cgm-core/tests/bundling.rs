//! What a member sends after several inputs in a row (a burst of datagrams
//! read in one wake-up) goes to each peer in one datagram, however many
//! messages those inputs queued for it.

mod common {
    pub mod group;
}

use cgm_core::{AppProtocol, Dest, Error, Param, Params, Transmit};
use common::group::Group;

fn to(ts: &[Transmit], id: u32) -> usize {
    ts.iter().filter(|t| t.dest == Dest::Node(id)).count()
}

/// Member 3 takes in the coordinator's `Sequenced` and member 2's ACK in one
/// go: its own ACK completes the round, so it decides at once and owes each
/// peer an ACK and a `Done`, which leave together, one datagram per peer
/// (two each when every input was cut into datagrams of its own).
#[test]
fn an_ack_and_a_decision_queued_for_one_peer_in_one_burst_leave_in_one_datagram() {
    let mut g = Group::formed();
    let before: Vec<u64> = g.cores.iter().map(|c| c.status(g.now).completed).collect();
    let reported = g.reported.clone();
    g.cores[0].propose_app(g.now, None, AppProtocol { payload: vec![1u8; 16].into(), rounds: 1, wait: None }).expect("quorum");
    let sequenced = g.take(1);
    assert_eq!((to(&sequenced, 2), to(&sequenced, 3)), (1, 1), "the coordinator sequences to each member once");
    let to2 = sequenced.iter().find(|t| t.dest == Dest::Node(2)).expect("checked");
    g.hand(1, to2);
    let acks2 = g.take(2);
    assert_eq!((to(&acks2, 1), to(&acks2, 3)), (1, 1), "member 2 ACKs to each member");
    // Member 3's burst: the sequencing, then member 2's ACK, then it drains.
    let to3 = sequenced.iter().find(|t| t.dest == Dest::Node(3)).expect("checked");
    g.hand(1, to3);
    let ack2_to3 = acks2.iter().find(|t| t.dest == Dest::Node(3)).expect("checked");
    g.hand(2, ack2_to3);
    assert_eq!(g.cores[2].status(g.now).completed, before[2] + 1, "member 3 decided in its burst");
    let out3 = g.take(3);
    assert_eq!(
        (to(&out3, 1), to(&out3, 2)),
        (1, 1),
        "member 3's ACK and decision leave in one datagram per peer: {:?}",
        out3.iter().map(|t| (t.dest, t.bytes.len())).collect::<Vec<_>>()
    );
    // The rest as it comes: the protocol completes everywhere.
    let ack2_to1 = acks2.iter().find(|t| t.dest == Dest::Node(1)).expect("checked");
    g.hand(2, ack2_to1);
    for t in &out3 {
        g.hand(3, t);
    }
    g.deliver();
    for (i, c) in g.cores.iter().enumerate() {
        let s = c.status(g.now);
        assert_eq!(s.completed, before[i] + 1, "node {} completed the protocol", i + 1);
        assert_eq!(g.reported[i], reported[i] + 1, "node {} reported it", i + 1);
    }
}

/// How many of 100 proposals of member 3 (not the coordinator) are refused
/// for backpressure at a queue threshold of 20, with nothing delivered
/// meanwhile, its transmits drained after each proposal or not.
fn refused_of_100(drain_between: bool) -> usize {
    let params = Params::default().with_changes(&[(Param::SendQueueOverflowThreshold, 20)]).expect("valid");
    let mut g = Group::formed_with(&params);
    let mut refused = 0;
    for i in 0..100u8 {
        match g.cores[2].propose_app(g.now, None, AppProtocol { payload: vec![i; 16].into(), rounds: 1, wait: None }) {
            Ok(_) => {}
            Err(Error::Backpressure { .. }) => refused += 1,
            Err(e) => panic!("proposal {i}: {e}"),
        }
        if drain_between {
            g.take(3);
        }
    }
    refused
}

/// Proposals made one after another with no drain between (the commands a
/// host thread queued while the member thread was busy) meet backpressure
/// no sooner than proposals drained one by one: what earlier ones queued
/// enters the send window before the next is weighed against the threshold
/// (without that, 80 of 100 were refused where 16 are).
#[test]
fn proposals_made_without_a_drain_between_meet_backpressure_no_sooner_than_one_by_one() {
    let one_by_one = refused_of_100(true);
    assert!(one_by_one < 100, "some proposals are taken");
    assert_eq!(refused_of_100(false), one_by_one);
}

/// Until its host takes its datagrams, a member with messages not yet cut
/// into them says they are due, so a host that polls its timeout first (or
/// completes a wait from within its event loop) still sends them at once.
#[test]
fn messages_not_yet_cut_into_datagrams_are_due_at_once() {
    let mut g = Group::formed();
    let due = |g: &Group| g.cores[0].poll_timeout().is_some_and(|t| t <= g.now);
    for _ in 0..10 {
        if due(&g) {
            g.cores[0].handle_timeout(g.now);
            g.deliver();
        }
    }
    assert!(!due(&g), "nothing is due once the timers that were are handled");
    g.cores[0].propose_app(g.now, None, AppProtocol { payload: vec![2u8; 16].into(), rounds: 1, wait: None }).expect("quorum");
    assert!(due(&g), "the sequencing waits to be sent");
    assert_eq!(g.take(1).len(), 2, "one datagram to each member");
    assert!(!due(&g), "nothing is due once it is sent");
}
