//! Three cores driven by arbitrary event sequences: proposals, changes,
//! queries, completions of local waits, time, and the network delivering,
//! dropping, duplicating, reordering, corrupting and inventing datagrams.
//! Never panics, and while no forged bytes were delivered no two members
//! complete one sequence number with different outcomes.
#![no_main]
use cgm_fuzz::{Group, Op};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|ops: Vec<Op>| {
    let mut g = Group::formed();
    g.run(ops);
});
