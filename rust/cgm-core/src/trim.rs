//! Giving back the room a burst left. Queues keep their capacity when they
//! empty, so one burst of thousands of protocols proposed at once would pin
//! its peak memory for the member's life (a 6,000-protocol burst left a core
//! of a 32-member group holding 6.4 MB). A member trims its queues once a
//! second ([`TRIM_EVERY`]): an empty queue gives back all its room (a member
//! of a quiet group then holds little beyond its peers' records), and one
//! using at most a quarter of a room over [`ROOM`] bytes keeps twice what it
//! holds, so a queue that fills and drains steadily is not reallocated over
//! and over.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

/// How often a member trims its queues, in its own time.
pub(crate) const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Room a queue in use keeps however little it holds, in bytes.
const ROOM: usize = 1024;

/// A container that can give back room it does not use.
pub(crate) trait Trim {
    /// Frees the container's room if it is empty, shrinks it if it uses at
    /// most a quarter of it (see the module docs).
    fn trim(&mut self);
}

/// The room to shrink to, for `len` entries of `size` bytes in room for
/// `cap`, if it should shrink.
fn shrunk(len: usize, cap: usize, size: usize) -> Option<usize> {
    if len == 0 {
        return (cap > 0).then_some(0);
    }
    let keep = ROOM / size.max(1);
    (cap > keep && len <= cap / 4).then(|| (len * 2).max(keep))
}

impl<T> Trim for Vec<T> {
    fn trim(&mut self) {
        if let Some(room) = shrunk(self.len(), self.capacity(), size_of::<T>()) {
            self.shrink_to(room);
        }
    }
}

impl<T> Trim for VecDeque<T> {
    fn trim(&mut self) {
        if let Some(room) = shrunk(self.len(), self.capacity(), size_of::<T>()) {
            self.shrink_to(room);
        }
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> Trim for HashMap<K, V, S> {
    fn trim(&mut self) {
        if let Some(room) = shrunk(self.len(), self.capacity(), size_of::<(K, V)>()) {
            self.shrink_to(room);
        }
    }
}

impl<K: Eq + Hash, S: BuildHasher> Trim for HashSet<K, S> {
    fn trim(&mut self) {
        if let Some(room) = shrunk(self.len(), self.capacity(), size_of::<K>()) {
            self.shrink_to(room);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drained_queue_gives_back_its_room_and_a_busy_one_keeps_it() {
        let mut q: VecDeque<u64> = (0..10_000).collect();
        q.drain(..9_990);
        q.trim();
        assert!(q.capacity() < 10_000 / 4, "drained: room for {} kept", q.capacity());
        assert!(q.capacity() >= ROOM / 8, "a queue keeps its floor of room");
        assert_eq!(q.iter().copied().collect::<Vec<_>>(), (9_990..10_000).collect::<Vec<_>>(), "nothing held is lost");

        let mut busy: Vec<u64> = (0..10_000).collect();
        busy.truncate(5_000);
        let room = busy.capacity();
        busy.trim();
        assert_eq!(busy.capacity(), room, "half in use: kept");

        let mut emptied: VecDeque<u64> = VecDeque::with_capacity(4);
        emptied.push_back(1);
        emptied.pop_front();
        emptied.trim();
        assert_eq!(emptied.capacity(), 0, "an empty queue gives back all its room");

        let mut m: HashMap<u64, u64> = (0..10_000).map(|i| (i, i)).collect();
        m.retain(|&k, _| k < 10);
        m.trim();
        assert!(m.capacity() < 10_000 / 4);
        assert_eq!(m.len(), 10);
    }
}
