//! The few system calls the C API makes itself: an epoll set that merges a
//! node's event fd with its log fd into the one fd `cgm_fd_get` returns, and
//! a bounded wait on it for blocking dispatch.

use crate::error::{fail, FfiResult, CGM_RESULT_IO};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// An epoll fd that is readable while any of `fds` is.
pub(crate) fn epoll_of(fds: &[RawFd]) -> FfiResult<OwnedFd> {
    // SAFETY: plain system call; the result is checked.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return Err(fail(CGM_RESULT_IO, format!("epoll_create1: {}", std::io::Error::last_os_error())));
    }
    // SAFETY: `ep` is a new fd that nothing else owns.
    let ep = unsafe { OwnedFd::from_raw_fd(ep) };
    for &fd in fds {
        let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: fd as u64 };
        // SAFETY: valid epoll fd and event struct; `fd` is open and outlives
        // the epoll set (both belong to the same node handle).
        if unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(fail(CGM_RESULT_IO, format!("epoll_ctl: {}", std::io::Error::last_os_error())));
        }
    }
    Ok(ep)
}

/// Waits up to `timeout` for `fd` to be readable (or for a signal).
pub(crate) fn wait_readable(fd: &OwnedFd, timeout: Duration) {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one valid pollfd; the result only tells whether to look again.
    let _ = unsafe { libc::poll(&mut p, 1, ms) };
}
