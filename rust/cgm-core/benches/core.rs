//! Micro-benchmarks of the hot paths, without I/O: the message codec, and one
//! one-round peer protocol among three cores that hand each other their
//! datagrams in memory (the per-message engine path: channels, sequencing,
//! ACKs, completion). `cargo bench -p cgm-core`.

use cgm_core::messages::{Entry, Marks, Msg};
use cgm_core::wire::{decode_msg, encode_msg};
use cgm_core::{AckStatus, AppProtocol, ProposalId, ProtocolBody, ViewId};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
#[path = "../tests/common/group.rs"]
mod group;

use group::Group;

fn app() -> AppProtocol {
    AppProtocol { payload: vec![7u8; 32].into(), rounds: 1, wait: None }
}

fn codec(c: &mut Criterion) {
    let view = ViewId { epoch: 3, leader: 1 };
    let ack =
        Msg::Ack { view, round: 1_234_567, status: AckStatus::Ok(Vec::new().into()), marks: Marks { done: 1_234_000, told: 1_233_990 } };
    let entries = (1..=64).map(|seq| Entry { seq, pid: ProposalId { node: 2, txid: seq }, body: ProtocolBody::App(app()) }).collect();
    let sequenced = Msg::Sequenced { view, entries };
    let (ack_bytes, seq_bytes) = (encode_msg(&ack), encode_msg(&sequenced));
    c.bench_function("codec: encode an ACK", |b| b.iter(|| encode_msg(black_box(&ack))));
    c.bench_function("codec: decode an ACK", |b| b.iter(|| decode_msg(black_box(&ack_bytes)).expect("valid")));
    c.bench_function("codec: encode 64 sequenced entries", |b| b.iter(|| encode_msg(black_box(&sequenced))));
    c.bench_function("codec: decode 64 sequenced entries", |b| b.iter(|| decode_msg(black_box(&seq_bytes)).expect("valid")));
}

fn engine(c: &mut Criterion) {
    let mut g = Group::formed();
    c.bench_function("engine: one-round protocol among 3 cores, in memory", |b| {
        b.iter(|| {
            let done = g.cores[1].status(g.now).completed;
            g.cores[1].propose_app(g.now, None, app()).expect("the group has quorum");
            g.deliver();
            assert_eq!(g.cores[0].status(g.now).completed, done + 1);
        })
    });
    c.bench_function("engine: status snapshot of a 3-member core", |b| b.iter(|| g.cores[0].status(black_box(g.now))));
    // What a status query costs the member answering and the one asking
    // beyond the snapshot: the reply's public JSON, written and read.
    let status = g.cores[0].status(g.now);
    let reply = cgm_core::wire::encode_status(&status);
    c.bench_function("status reply: encode a 3-member status", |b| b.iter(|| cgm_core::wire::encode_status(black_box(&status))));
    c.bench_function("status reply: decode a 3-member status", |b| {
        b.iter(|| cgm_core::wire::decode_status(black_box(&reply)).expect("valid"))
    });
}

criterion_group!(benches, codec, engine);
criterion_main!(benches);
