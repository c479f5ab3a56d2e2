//! Events for the host, delivered on the host's own thread: a queue, a socket
//! pair whose read end is readable exactly while the queue is not empty (for
//! `poll`, `select`, asyncio's `add_reader`), and a condition variable for
//! blocking waits. No runtime thread ever calls host code.

use cgm_core::{NodeId, Outcome, Param, ViewId};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Something the host should know or answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeEvent {
    /// A new view was installed.
    ViewChanged {
        /// Its id.
        view: ViewId,
        /// Its members.
        members: Vec<NodeId>,
        /// Whether it holds a quorum.
        quorum: bool,
    },
    /// This node suspects a member failed.
    Suspected {
        /// The member.
        member: NodeId,
        /// Why.
        reason: String,
    },
    /// A parameter change committed on every member.
    ChangeCommitted(Outcome),
    /// A parameter change was rolled back on every member.
    ChangeRolledBack(Outcome),
    /// An application protocol ended (see `committed`).
    ProtocolCompleted(Outcome),
    /// The veto hook: accept or refuse this change with [`crate::Node::answer_veto`]
    /// before the configured veto timeout, which counts as a veto.
    VetoRequest {
        /// Token to answer with.
        token: u64,
        /// The proposed change.
        changes: Vec<(Param, u64)>,
    },
    /// A committed node change removed this node from the cluster's node
    /// set: it left the group (the node change's outcome came first, as a
    /// [`NodeEvent::ProtocolCompleted`]); the others refuse it until a node
    /// change adds it again.
    Removed {
        /// The generation of the node set without it.
        generation: u64,
    },
    /// An application protocol step waits for this host's status: answer with
    /// [`crate::Node::answer_step`].
    StepRequest {
        /// Token to answer with.
        token: u64,
        /// The protocol's sequence number.
        seq: u64,
        /// Round index within the protocol.
        round_index: u8,
        /// The protocol's payload.
        payload: Vec<u8>,
    },
}

/// The events waiting, and how many host threads wait for one.
#[derive(Default)]
struct Queued {
    events: VecDeque<NodeEvent>,
    /// Threads blocked in [`EventQueue::wait`]: a push wakes them only if
    /// there are any (a condition variable's notify is a system call even
    /// with nobody waiting, once per event).
    waiters: usize,
}

/// The host-facing event queue.
pub(crate) struct EventQueue {
    queue: Mutex<Queued>,
    ready: Condvar,
    reader: UnixStream,
    writer: UnixStream,
    closed: std::sync::atomic::AtomicBool,
}

impl EventQueue {
    /// # Errors
    /// The pipe cannot be created.
    pub(crate) fn new() -> std::io::Result<EventQueue> {
        let (reader, writer) = UnixStream::pair()?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(EventQueue { queue: Mutex::default(), ready: Condvar::new(), reader, writer, closed: Default::default() })
    }

    pub(crate) fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    pub(crate) fn push(&self, e: NodeEvent) {
        let mut q = self.queue.lock().expect("event queue is never poisoned");
        if q.events.is_empty() {
            // The byte only makes the fd readable; a full buffer already does.
            let _ = (&self.writer).write(&[1]);
        }
        q.events.push_back(e);
        if q.waiters > 0 {
            self.ready.notify_all();
        }
    }

    pub(crate) fn pop(&self) -> Option<NodeEvent> {
        let mut q = self.queue.lock().expect("event queue is never poisoned");
        let e = q.events.pop_front();
        if q.events.is_empty() {
            self.drain_pipe();
        }
        e
    }

    /// Waits up to `timeout` (forever for `None`) for an event.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> Option<NodeEvent> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut q = self.queue.lock().expect("event queue is never poisoned");
        loop {
            if let Some(e) = q.events.pop_front() {
                if q.events.is_empty() {
                    self.drain_pipe();
                }
                return Some(e);
            }
            if self.closed.load(std::sync::atomic::Ordering::Acquire) {
                return None;
            }
            let left = match deadline {
                None => None,
                Some(d) => Some(d.checked_duration_since(Instant::now()).filter(|t| !t.is_zero())?),
            };
            q.waiters += 1;
            q = match left {
                None => self.ready.wait(q).expect("event queue is never poisoned"),
                Some(t) => self.ready.wait_timeout(q, t).expect("event queue is never poisoned").0,
            };
            q.waiters -= 1;
        }
    }

    /// Closes the queue at shutdown: events already queued can still be taken,
    /// and then every wait, blocked or later, returns `None` at once.
    pub(crate) fn close(&self) {
        let _q = self.queue.lock().expect("event queue is never poisoned");
        self.closed.store(true, std::sync::atomic::Ordering::Release);
        self.ready.notify_all();
    }

    fn drain_pipe(&self) {
        let mut buf = [0u8; 64];
        while matches!((&self.reader).read(&mut buf), Ok(n) if n > 0) {}
    }
}
