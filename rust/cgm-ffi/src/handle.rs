//! Every pointer cast of the C API, and the registries of live handles.
//!
//! It knows none of the types above it: each opaque C type is tied to the
//! Rust value behind it and its ownership where that type is defined.
//! - value handles (`cgm_config`, `cgm_status`, `cgm_change_outcome`,
//!   `cgm_core`, `cgm_core_event`) implement [`Castable`]: a `Box` the caller
//!   owns, made by [`into_ptr`], borrowed by [`borrow`] / [`borrow_mut`],
//!   freed by [`free`];
//! - `cgm_node` is never dereferenced: the pointer C holds is a key into a
//!   [`Registry`], so a freed or garbage node pointer is
//!   `CGM_RESULT_BAD_HANDLE` instead of a crash, and a call in progress keeps
//!   its node alive while another thread frees it.
//!
//! The other helpers read C inputs (strings, byte and element arrays,
//! [`SizeTagged`] structs such as the callbacks) and write outputs, checking
//! NULL first.
//!
//! Contract with C, as for any C library: a non-NULL pointer argument points
//! to what its type says for the duration of the call (value handles must not
//! be freed yet); `cgm_node *` is the one handle checked for validity.

use crate::error::{fail, Failure, FfiResult, CGM_RESULT_BAD_HANDLE, CGM_RESULT_INVALID_ARGUMENT, CGM_RESULT_NULL_ARGUMENT};
use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::os::raw::c_char;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Ties an opaque C type to the Rust value a `Box` of it holds.
pub(crate) trait Castable {
    /// The Rust value behind the C pointer.
    type Rust;
    /// The C type's name, for error messages.
    const NAME: &'static str;
}

/// Hands a value to C: the caller owns the pointer and frees it with the type's `_free`.
pub(crate) fn into_ptr<C: Castable>(v: C::Rust) -> *mut C {
    Box::into_raw(Box::new(v)).cast()
}

/// A borrowed pointer to a value the library keeps (a callback's argument).
pub(crate) fn as_ptr<C: Castable>(v: &C::Rust) -> *const C {
    (v as *const C::Rust).cast()
}

/// Borrows the value behind a C pointer for the duration of a call.
pub(crate) fn borrow<'a, C: Castable>(p: *const C) -> FfiResult<&'a C::Rust> {
    if p.is_null() {
        return Err(null(C::NAME));
    }
    // SAFETY: a non-NULL value handle comes from `into_ptr::<C>` (or `as_ptr`)
    // and is not freed yet: the C caller's side of the contract.
    Ok(unsafe { &*p.cast::<C::Rust>() })
}

/// Mutably borrows the value behind a C pointer for the duration of a call.
pub(crate) fn borrow_mut<'a, C: Castable>(p: *mut C) -> FfiResult<&'a mut C::Rust> {
    if p.is_null() {
        return Err(null(C::NAME));
    }
    // SAFETY: as in `borrow`; value handles are documented as not to be used
    // by two threads at once, so the borrow is exclusive.
    Ok(unsafe { &mut *p.cast::<C::Rust>() })
}

/// Frees a value handed out by [`into_ptr`]; NULL is fine.
pub(crate) fn free<C: Castable>(p: *mut C) {
    if !p.is_null() {
        // SAFETY: `p` comes from `into_ptr::<C>` and is freed once: the C
        // caller's side of the contract.
        drop(unsafe { Box::from_raw(p.cast::<C::Rust>()) });
    }
}

/// A `NULL_ARGUMENT` failure naming the argument.
pub(crate) fn null(what: &str) -> Failure {
    fail(CGM_RESULT_NULL_ARGUMENT, format!("{what} is NULL"))
}

// ----- registries ---------------------------------------------------------

/// The live handles of one opaque C type `C` that C holds as keys, never as
/// pointers: each is an `Arc<T>` found by the number C holds, so a freed or
/// garbage pointer is `CGM_RESULT_BAD_HANDLE` instead of a crash, and the
/// clone a call takes keeps its value alive while another thread removes it.
pub(crate) struct Registry<C, T> {
    /// The handle's name, for error messages.
    what: &'static str,
    live: Mutex<BTreeMap<usize, Arc<T>>>,
    next: AtomicUsize,
    c: PhantomData<fn() -> C>,
}

impl<C, T> Registry<C, T> {
    /// An empty registry of handles called `what` in error messages.
    pub(crate) const fn new(what: &'static str) -> Self {
        Registry { what, live: Mutex::new(BTreeMap::new()), next: AtomicUsize::new(1), c: PhantomData }
    }

    fn live(&self) -> std::sync::MutexGuard<'_, BTreeMap<usize, Arc<T>>> {
        // A panic while the lock is held leaves the map itself consistent.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn gone(&self, p: *const C) -> Failure {
        fail(CGM_RESULT_BAD_HANDLE, format!("{} handle {p:p} is freed or was never valid", self.what))
    }

    /// Registers a value and returns the pointer C holds for it: a key that
    /// is never reused, so a removed value's pointer stays invalid even after
    /// others are registered.
    pub(crate) fn insert(&self, v: T) -> *mut C {
        let key = 0x1000 + self.next.fetch_add(1, Ordering::Relaxed) * 16;
        self.live().insert(key, Arc::new(v));
        key as *mut C
    }

    /// The live value behind a C pointer; the clone keeps it alive for the call.
    pub(crate) fn get(&self, p: *const C) -> FfiResult<Arc<T>> {
        if p.is_null() {
            return Err(null(self.what));
        }
        self.live().get(&(p as usize)).cloned().ok_or_else(|| self.gone(p))
    }

    /// Removes a value (None for NULL): later calls with its pointer get
    /// `CGM_RESULT_BAD_HANDLE`.
    pub(crate) fn remove(&self, p: *mut C) -> FfiResult<Option<Arc<T>>> {
        if p.is_null() {
            return Ok(None);
        }
        self.live().remove(&(p as usize)).map(Some).ok_or_else(|| self.gone(p))
    }
}

// ----- inputs --------------------------------------------------------------

/// A NUL-terminated UTF-8 string argument.
pub(crate) fn cstr<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: a non-NULL string argument is NUL-terminated and outlives the call.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| fail(CGM_RESULT_INVALID_ARGUMENT, format!("{what} is not valid UTF-8")))
}

/// A string argument that may be NULL.
pub(crate) fn opt_cstr<'a>(p: *const c_char, what: &str) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        cstr(p, what).map(Some)
    }
}

/// An array argument of `n` elements; NULL is fine when `n` is 0.
pub(crate) fn slice<'a, T>(p: *const T, n: usize, what: &str) -> FfiResult<&'a [T]> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: a non-NULL array argument has `n` initialised elements that
    // outlive the call.
    Ok(unsafe { std::slice::from_raw_parts(p, n) })
}

/// A C struct that starts with its own `size_t size`, so that it can grow at
/// its end: a caller built against an older, smaller struct sets a smaller
/// size, and the fields it does not know keep their defaults.
///
/// # Safety
/// Implement it only for a `#[repr(C)]` struct whose first field is
/// `size: usize` and every field of which is valid for any bytes C writes
/// into it (integers, raw pointers, nullable function pointers).
pub(crate) unsafe trait SizeTagged: Copy + Default {
    /// The C type's name, for error messages.
    const NAME: &'static str;
    /// The smallest `size` accepted: the fields every version of the struct has.
    const MIN_SIZE: usize;
}

/// A size-tagged struct argument called `what`, of which only `size` bytes
/// are read; the copy's `size` is this library's.
pub(crate) fn read_sized<T: SizeTagged>(p: *const T, what: &str) -> FfiResult<T> {
    if p.is_null() {
        return Err(null(what));
    }
    // SAFETY: the struct starts with its `size_t size` (`SizeTagged`).
    let size = unsafe { std::ptr::read_unaligned(p.cast::<usize>()) };
    if size < T::MIN_SIZE {
        return Err(fail(
            CGM_RESULT_INVALID_ARGUMENT,
            format!("{what}.size is {size}: set it to sizeof({}) (at least {})", T::NAME, T::MIN_SIZE),
        ));
    }
    let mut out = T::default();
    let n = size.min(std::mem::size_of::<T>());
    // SAFETY: the caller's struct has `size` readable bytes; every field of
    // `T` is valid for any bytes C writes into it (`SizeTagged`), and the copy
    // stays within both structs.
    unsafe { std::ptr::copy_nonoverlapping(p.cast::<u8>(), (&mut out as *mut T).cast::<u8>(), n) };
    // SAFETY: the first field of `T` is its `size: usize` (`SizeTagged`).
    unsafe { (&mut out as *mut T).cast::<usize>().write(std::mem::size_of::<T>()) };
    Ok(out)
}

// ----- outputs -------------------------------------------------------------

/// A checked, not yet written out-parameter: NULL is refused when it is made,
/// before the call does anything, and the value is written only on success.
pub(crate) struct Out<T>(*mut T);

/// Checks an out-parameter for NULL.
pub(crate) fn out<T>(p: *mut T, what: &str) -> FfiResult<Out<T>> {
    if p.is_null() {
        return Err(null(what));
    }
    Ok(Out(p))
}

impl<T> Out<T> {
    /// Writes the value (does not drop what was there: C memory).
    pub(crate) fn write(self, v: T) {
        // SAFETY: checked non-NULL when made; an out-parameter points to
        // writable memory for a `T`.
        unsafe { self.0.write(v) }
    }
}

/// Writes `data` into a caller buffer of `cap` bytes.
pub(crate) fn write_bytes(buf: *mut u8, cap: usize, data: &[u8]) -> FfiResult<usize> {
    if data.len() > cap {
        return Err(fail(CGM_RESULT_INVALID_ARGUMENT, format!("buffer of {cap} bytes is too small for {} bytes", data.len())));
    }
    if !data.is_empty() {
        if buf.is_null() {
            return Err(null("buf"));
        }
        // SAFETY: `buf` has `cap >= data.len()` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
    }
    Ok(data.len())
}

/// Writes `s` NUL-terminated and truncated into `buf` of `len` bytes (nothing
/// for NULL or 0); returns the full length of `s`.
pub(crate) fn write_c_string(buf: *mut c_char, len: usize, s: &[u8]) -> usize {
    if !buf.is_null() && len > 0 {
        let n = s.len().min(len - 1);
        // SAFETY: `buf` has `len > n` writable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    }
    s.len()
}

/// A string the caller owns and frees with `cgm_string_free`.
pub(crate) fn string_into_raw(s: String) -> *mut c_char {
    // Interior NULs cannot occur in JSON text; replace them defensively.
    CString::new(s)
        .unwrap_or_else(|e| CString::new(e.into_vec().into_iter().filter(|&b| b != 0).collect::<Vec<u8>>()).expect("no NUL left"))
        .into_raw()
}

/// Frees a string made by [`string_into_raw`]; NULL is fine.
pub(crate) fn string_free(p: *mut c_char) {
    if !p.is_null() {
        // SAFETY: `p` comes from `CString::into_raw` and is freed once.
        drop(unsafe { CString::from_raw(p) });
    }
}

/// Borrows the C string inside a `CString` the library keeps (valid as long as it).
pub(crate) fn c_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// `s` as a C string the library keeps, without the NULs it cannot carry.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "")).unwrap_or_default()
}

/// A table of NUL-terminated static strings, built once.
pub(crate) fn static_strings(cell: &'static OnceLock<Vec<CString>>, make: impl FnOnce() -> Vec<String>) -> &'static [CString] {
    cell.get_or_init(|| make().into_iter().map(|s| CString::new(s).expect("static names have no NUL")).collect())
}
