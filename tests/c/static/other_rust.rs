//! A second Rust static library for tests/c/run.sh: linked whole next to
//! libcgm.a, it brings its own std: rust_eh_personality, its
//! `DW.ref.rust_eh_personality` COMDAT group, the allocator shims.
#[no_mangle]
pub extern "C" fn other_rust_answer() -> i32 {
    std::panic::catch_unwind(|| 42).unwrap_or(0)
}
