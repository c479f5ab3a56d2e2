//! Counting the heap: a global allocator that forwards to the system's and
//! keeps the bytes live, so a program that installs it (`cgm-sim
//! --throughput`, the memory tests) can say what a member's core holds, by
//! the difference dropping it makes.
//!
//! ```text
//! #[global_allocator]
//! static HEAP: cgm_sim::heap::CountingAlloc = cgm_sim::heap::CountingAlloc;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting live bytes (see the module docs).
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

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is only arithmetic on the sizes it is given.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}
