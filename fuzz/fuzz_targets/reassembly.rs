//! Reassembly: a member fed arbitrary segments of its reliable channel from a
//! peer (any sequence numbers, sessions, lengths and bytes, reordered and
//! repeated) never panics and keeps memory bounded (the receive buffer and
//! message lengths are capped; a forged length drops the stream).
#![no_main]
use cgm_fuzz::{Group, Op};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|segments: Vec<(u32, u16, Vec<u8>)>| {
    let mut g = Group::formed();
    let ops = segments.into_iter().map(|(session, seq, chunk)| Op::Segment { session: session % 4, seq, chunk });
    g.run(ops);
});
