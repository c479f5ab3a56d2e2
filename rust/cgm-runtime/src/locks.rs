//! Named local locks shared by the host's threads and the member thread.
//!
//! A host thread takes a lock with [`crate::Node::lock`] and holds it through
//! the returned guard. A protocol step that needs the lock makes the member
//! thread *request* it: granted at once if free, otherwise the member keeps
//! serving its queue (and status queries) and the grant arrives later as a
//! local completion. The member holds a granted lock until its protocol ends.

use crate::transport::Mailbox;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};

/// A completion the member thread receives for a lock it waited on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Granted {
    pub token: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Host,
    Member(u64),
}

#[derive(Default)]
struct LockState {
    holder: Option<Holder>,
    members_waiting: VecDeque<(u64, Mailbox<Granted>)>,
}

/// The lock table of one node.
#[derive(Default)]
pub(crate) struct Locks {
    table: Mutex<BTreeMap<String, LockState>>,
    freed: Condvar,
}

/// A host thread's hold on a named lock; dropping it releases the lock.
#[must_use = "the lock is released when the guard is dropped"]
pub struct LockGuard {
    locks: Arc<Locks>,
    name: String,
}

impl LockGuard {
    /// The lock's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LockGuard({:?})", self.name)
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        self.locks.release(&self.name, Holder::Host);
    }
}

impl Locks {
    /// Blocks the calling host thread until it holds `name`.
    pub(crate) fn lock_host(self: &Arc<Self>, name: &str) -> LockGuard {
        let mut t = self.table.lock().expect("lock table is never poisoned");
        loop {
            let s = t.entry(name.to_string()).or_default();
            if s.holder.is_none() && s.members_waiting.is_empty() {
                s.holder = Some(Holder::Host);
                return LockGuard { locks: Arc::clone(self), name: name.to_string() };
            }
            t = self.freed.wait(t).expect("lock table is never poisoned");
        }
    }

    /// Takes `name` for a host thread if it is free.
    pub(crate) fn try_lock_host(self: &Arc<Self>, name: &str) -> Option<LockGuard> {
        let mut t = self.table.lock().expect("lock table is never poisoned");
        let s = t.entry(name.to_string()).or_default();
        if s.holder.is_none() && s.members_waiting.is_empty() {
            s.holder = Some(Holder::Host);
            return Some(LockGuard { locks: Arc::clone(self), name: name.to_string() });
        }
        None
    }

    /// The member thread asks for `name` for the wait `token`: true if granted
    /// now; otherwise a [`Granted`] arrives on `tx` when it is.
    pub(crate) fn request(&self, name: &str, token: u64, tx: &Mailbox<Granted>) -> bool {
        let mut t = self.table.lock().expect("lock table is never poisoned");
        let s = t.entry(name.to_string()).or_default();
        if s.holder.is_none() {
            s.holder = Some(Holder::Member(token));
            return true;
        }
        s.members_waiting.push_back((token, tx.clone()));
        false
    }

    /// The member thread gives up `name` for `token` (held or still waited for).
    pub(crate) fn release_member(&self, name: &str, token: u64) {
        {
            let mut t = self.table.lock().expect("lock table is never poisoned");
            if let Some(s) = t.get_mut(name) {
                s.members_waiting.retain(|(tok, _)| *tok != token);
            }
        }
        self.release(name, Holder::Member(token));
    }

    fn release(&self, name: &str, who: Holder) {
        let mut t = self.table.lock().expect("lock table is never poisoned");
        let Some(s) = t.get_mut(name) else { return };
        if s.holder != Some(who) {
            return;
        }
        s.holder = None;
        if let Some((token, tx)) = s.members_waiting.pop_front() {
            s.holder = Some(Holder::Member(token));
            let _ = tx.send(Granted { token });
        }
        self.freed.notify_all();
    }
}
