//! Operator change requests (`cgm set`) against one member, through its
//! datagrams: a change request is bound to a challenge, so a captured one
//! never runs twice, and a slow one is never refused mid-flight.

use cgm_core::ids::{AppProtocol, Outcome, ProtocolBody, Resource};
use cgm_core::messages::Frame;
use cgm_core::query::operator_datagram;
use cgm_core::{wire, Config, Core, Event, Param, Time, CHALLENGE_LIFETIME};
use std::time::Duration;

/// A one-member cluster (it decides alone) at incarnation `inc`.
fn member(inc: u64) -> Core {
    Core::new(Config::new(1, inc, vec![1]), Time(0)).unwrap()
}

/// Sends `frame` from tool incarnation 9 to the member (addressed to
/// incarnation `to_inc`) and returns what the member answered.
fn ask(core: &mut Core, now: Time, to_inc: u64, frame: &Frame) -> Vec<Frame> {
    let bytes = operator_datagram(1, to_inc, 9, frame);
    core.handle_datagram(now, 7, &bytes);
    let mut out = Vec::new();
    while let Some(t) = core.poll_transmit() {
        out.push(wire::decode_frame(&t.bytes).unwrap().1);
    }
    out
}

fn challenge(core: &mut Core, now: Time) -> u64 {
    match ask(core, now, core.incarnation(), &Frame::ChallengeRequest { req: 1 }).as_slice() {
        [Frame::Challenge { nonce, .. }] => *nonce,
        other => panic!("no challenge: {other:?}"),
    }
}

fn reply(frames: &[Frame]) -> (Option<Outcome>, Option<String>) {
    match frames.iter().find(|f| matches!(f, Frame::ChangeReply { .. })) {
        Some(Frame::ChangeReply { outcome, error, .. }) => (outcome.clone(), error.clone()),
        _ => (None, None),
    }
}

#[test]
fn a_captured_change_request_never_runs_again_however_many_requests_follow_or_if_the_member_restarts() {
    let mut core = member(100);
    let mut now = Time(1_000);
    // Without a challenge: refused, nothing proposed.
    let bare = Frame::ChangeRequest { req: 2, txid: 5, nonce: 0, body: ProtocolBody::Change(vec![(Param::SendWindowSize, 10)]) };
    let (_, e) = reply(&ask(&mut core, now, 100, &bare));
    assert!(e.unwrap().contains("challenge"));
    assert_eq!(core.generation(), 0);
    // With one: committed once.
    let nonce = challenge(&mut core, now);
    let captured = Frame::ChangeRequest { req: 3, txid: 6, nonce, body: ProtocolBody::Change(vec![(Param::SendWindowSize, 11)]) };
    let (o, _) = reply(&ask(&mut core, now, 100, &captured));
    assert!(o.unwrap().committed);
    assert_eq!(core.generation(), 1);
    // 300 other operator changes, each with its own challenge.
    for txid in 100..400 {
        now = now + Duration::from_millis(10);
        let nonce = challenge(&mut core, now);
        let f = Frame::ChangeRequest { req: txid, txid, nonce, body: ProtocolBody::Change(vec![(Param::SendWindowSize, 20 + txid % 2)]) };
        assert!(reply(&ask(&mut core, now, 100, &f)).0.is_some());
    }
    let generation = core.generation();
    // The capture replayed: the same transaction, not run again.
    let (o, e) = reply(&ask(&mut core, now, 100, &captured));
    assert!(o.is_some() || e.is_some());
    assert_eq!(core.generation(), generation);
    // After the challenge's lifetime: refused.
    now = now + CHALLENGE_LIFETIME;
    let replayed = core.status(now).counters.replayed;
    let (o, e) = reply(&ask(&mut core, now, 100, &captured));
    assert!(o.is_none() && e.unwrap().contains("challenge"));
    assert_eq!((core.generation(), core.status(now).counters.replayed), (generation, replayed + 1));
    // A restarted member (new incarnation) refuses it, whatever nonce it carries.
    let mut restarted = member(200);
    let _ = challenge(&mut restarted, Time(0));
    let (o, e) = reply(&ask(
        &mut restarted,
        Time(0),
        100,
        &Frame::ChangeRequest { req: 3, txid: 6, nonce: 1, body: ProtocolBody::Change(vec![(Param::SendWindowSize, 11)]) },
    ));
    assert!(o.is_none() && e.is_some());
    assert_eq!(restarted.generation(), 0);
}

/// A change that waits longer than a challenge's lifetime (queued behind a
/// protocol whose lock the host holds) is still the same transaction to
/// the tool re-sending it: never refused as a replay mid-flight, answered
/// once it ends, and answered again for a lifetime after that.
#[test]
fn a_tool_re_sending_a_change_that_outlives_its_challenge_gets_its_outcome_not_a_refusal() {
    let mut core = member(100);
    let mut now = Time(1_000);
    let app = AppProtocol { payload: Vec::new().into(), rounds: 1, wait: Some(Resource::Lock("l".into())) };
    core.propose_app(now, None, app).unwrap();
    let token = std::iter::from_fn(|| core.poll_event())
        .find_map(|e| match e {
            Event::LocalWait { token, .. } => Some(token),
            _ => None,
        })
        .expect("the protocol waits on the lock");
    let nonce = challenge(&mut core, now);
    let request = Frame::ChangeRequest { req: 4, txid: 7, nonce, body: ProtocolBody::Change(vec![(Param::SendWindowSize, 12)]) };
    assert_eq!(reply(&ask(&mut core, now, 100, &request)), (None, None), "queued behind the lock: no answer yet");
    // The tool keeps re-sending, past the challenge's lifetime.
    for _ in 0..3 {
        now = now + CHALLENGE_LIFETIME;
        assert_eq!(reply(&ask(&mut core, now, 100, &request)), (None, None), "refused mid-flight");
    }
    assert_eq!(core.status(now).counters.replayed, 0);
    core.complete_wait(now, token, Ok(Vec::new())).unwrap();
    let mut answered = Vec::new();
    while let Some(t) = core.poll_transmit() {
        answered.push(wire::decode_frame(&t.bytes).unwrap().1);
    }
    assert!(reply(&answered).0.is_some_and(|o| o.committed), "answered when it ends");
    assert_eq!(core.generation(), 1);
    // A re-send whose answer was lost, within a lifetime of the answer: the outcome again.
    now = now + CHALLENGE_LIFETIME / 2;
    assert!(reply(&ask(&mut core, now, 100, &request)).0.is_some_and(|o| o.committed));
    // A lifetime after the answer: refused, never run again.
    now = now + CHALLENGE_LIFETIME;
    let (o, e) = reply(&ask(&mut core, now, 100, &request));
    assert!(o.is_none() && e.unwrap().contains("challenge"));
    assert_eq!((core.generation(), core.status(now).counters.replayed), (1, 1));
}
