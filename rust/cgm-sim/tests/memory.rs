//! What a member's core holds on the heap (issue 16: cost per member stays
//! small at every size), measured by the bytes dropping it frees, with the
//! counting allocator installed for this test binary alone. One test
//! function: the count is process-wide, so nothing may run beside it.

use cgm_sim::campaign::throughput;
use cgm_sim::heap::CountingAlloc;

#[global_allocator]
static HEAP: CountingAlloc = CountingAlloc;

/// The bytes one member's core frees when dropped, two simulated seconds
/// after `protocols` proposed at once completed on a fault-free group of
/// `nodes` (0: once formed).
fn core_bytes(nodes: usize, protocols: usize) -> usize {
    let mut bytes = 0;
    throughput(nodes, protocols, &mut |_| {}, &mut |sim| bytes = cgm_sim::heap::core_bytes(sim, nodes as cgm_core::NodeId))
        .expect("the run completes");
    bytes
}

#[test]
fn a_member_holds_at_most_a_kib_per_peer_and_gives_back_what_a_burst_took() {
    // Once formed, at 5 members as at 64: a fixed part that a small group
    // cannot spread over its few peers would break this at 5 (6,523 bytes,
    // 1,630 per peer, when the peers sat in a B-tree with room for eleven).
    for nodes in [5, 64] {
        let bytes = core_bytes(nodes, 0);
        let per_peer = bytes / (nodes - 1);
        println!("{nodes} members: a formed core holds {bytes} bytes, {per_peer} per peer");
        assert!(per_peer <= 1024, "{nodes} members: {per_peer} bytes per peer");
    }
    // A burst of protocols proposed at once fills the queues; once it is
    // over, a member gives the room back within a trim period. What stays
    // is the outcome history and the fates of the last proposals (179,439
    // bytes without trimming, 73,679 with).
    let bytes = core_bytes(5, 200);
    println!("5 members, 2 s after a burst of 200 protocols: a core holds {bytes} bytes");
    assert!(bytes < 120_000, "the burst's room was kept: {bytes} bytes");
}
