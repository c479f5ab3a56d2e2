//! libcgm's C ABI: `libcgm.so` / `libcgm.a` and `include/cgm.h`.
//!
//! This is the only crate of the workspace with `unsafe` code, and within it
//! every pointer cast is in [`handle`], every system call in [`sys`] and every
//! call into C code (the host's callbacks) in [`callbacks`]. The header is
//! generated from this source by cbindgen (`rust/cgm-ffi/cbindgen.toml`), so each
//! `pub extern "C" fn` has a literal signature and its `///` doc is the C doc.
//!
//! Conventions, stated once here and in the README's "C API" section:
//! - every fallible call returns a `cgm_result` (`uint32_t`): `CGM_RESULT_OK`
//!   (0) or an error code; `cgm_last_error` gives this thread's last message;
//! - out-parameters come last and are written only on success (the one
//!   exception, `CGM_RESULT_ROLLED_BACK` / `CGM_RESULT_VETOED` with an outcome,
//!   is documented on the calls that have it);
//! - every handle has a `_free` that accepts NULL;
//! - a freed or garbage `cgm_node *` gives `CGM_RESULT_BAD_HANDLE`;
//! - no panic crosses the boundary: it becomes `CGM_RESULT_PANIC`;
//! - no library thread ever calls host code: callbacks run in `cgm_dispatch`.
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

// The modules are in the order cbindgen writes them into the header.
pub mod error;

pub mod library;

pub mod params;

pub mod config;

pub mod node;

pub mod events;

pub mod callbacks;

pub mod logs;

pub mod status;

pub mod outcome;

pub mod sansio;

pub mod handle;
mod sys;

pub use error::cgm_result;
