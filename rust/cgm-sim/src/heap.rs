//! Counting the heap: a global allocator that forwards to mimalloc and
//! keeps the bytes live, so a program that installs it (`cgm-sim`, the
//! memory tests) can say what a member's core holds, by the difference
//! dropping it makes. mimalloc rather than the system's allocator because a
//! campaign is a storm of small allocations across thousands of simulated
//! members: with glibc's, a 256-member seed took about 40 % more CPU
//! (BENCHMARKS.md). The counts are of the sizes asked for, whichever
//! allocator serves them.
//!
//! ```text
//! #[global_allocator]
//! static HEAP: cgm_sim::heap::CountingAlloc = cgm_sim::heap::CountingAlloc;
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// mimalloc, counting live bytes (see the module docs).
#[derive(Debug)]
pub struct CountingAlloc;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Bytes live on the heap now, if [`CountingAlloc`] is the program's global
/// allocator (else 0).
pub fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// Bytes `f` frees (what dropping what it drops gives back), by the live
/// count before and after; only meaningful with no other thread allocating.
pub fn freed_by(f: impl FnOnce()) -> usize {
    let before = live_bytes();
    f();
    before.saturating_sub(live_bytes())
}

/// Bytes member `id`'s core holds: what dropping it frees (the member is
/// gone afterwards). Needs [`CountingAlloc`] as the global allocator.
pub fn core_bytes(sim: &mut crate::Sim, id: cgm_core::NodeId) -> usize {
    freed_by(|| drop(sim.nodes[id as usize - 1].core.take()))
}

// SAFETY: every call is forwarded to mimalloc unchanged; the
// counter is only arithmetic on the sizes it is given.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        mimalloc::MiMalloc.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        mimalloc::MiMalloc.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        mimalloc::MiMalloc.realloc(ptr, layout, new_size)
    }
}
