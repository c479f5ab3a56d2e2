//! The reliable channels' deadlines, indexed by time so a core with many
//! peers finds its next one without visiting every channel (the host asks
//! after every datagram).

use crate::ids::NodeId;
use crate::reliable::{deadline, Limits, TimerKey};
use crate::time::Time;
use std::collections::BTreeSet;

/// Every channel's [`TimerKey`] times, each in its own ordered set. The
/// limits are the same for every channel, so the earliest deadline is
/// [`deadline`] of the earliest times taken apart; keys are indexed as they
/// are, and a change of limits needs no re-indexing. The caller keeps the key
/// it indexed for each channel (`Peer::timer_key`), so the index holds no map.
#[derive(Debug, Default)]
pub(crate) struct ChannelTimers {
    first_sent: BTreeSet<(Time, NodeId)>,
    last_sent: BTreeSet<(Time, NodeId)>,
    ack_due: BTreeSet<(Time, NodeId)>,
}

impl ChannelTimers {
    /// Replaces `id`'s indexed key `old` with `new` (call after anything
    /// that may arm one of its timers).
    pub(crate) fn update(&mut self, id: NodeId, old: TimerKey, new: TimerKey) {
        if old == new {
            return;
        }
        if let Some((first, last)) = old.earliest {
            self.first_sent.remove(&(first, id));
            self.last_sent.remove(&(last, id));
        }
        if let Some(t) = old.ack_due {
            self.ack_due.remove(&(t, id));
        }
        if let Some((first, last)) = new.earliest {
            self.first_sent.insert((first, id));
            self.last_sent.insert((last, id));
        }
        if let Some(t) = new.ack_due {
            self.ack_due.insert((t, id));
        }
    }

    /// The channels whose deadline under `lim` is at or before `now`.
    pub(crate) fn due(&self, now: Time, lim: &Limits) -> Vec<NodeId> {
        let mut ids = BTreeSet::new();
        for (set, after) in [(&self.first_sent, lim.max_retry), (&self.last_sent, lim.retry), (&self.ack_due, lim.ack_delay())] {
            ids.extend(set.iter().take_while(|(t, _)| *t + after <= now).map(|&(_, id)| id));
        }
        ids.into_iter().collect()
    }

    /// The earliest deadline of every channel under `lim`.
    pub(crate) fn next(&self, lim: &Limits) -> Option<Time> {
        let earliest = self.first_sent.first().zip(self.last_sent.first()).map(|(&(f, _), &(l, _))| (f, l));
        deadline(TimerKey { earliest, ack_due: self.ack_due.first().map(|&(t, _)| t) }, lim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

    fn lim() -> Limits {
        Limits { chunk: 4, window: 2, queue_threshold: 3, retry: Duration::from_millis(10), max_retry: Duration::from_millis(100) }
    }

    fn key(first_last: Option<(u64, u64)>, ack: Option<u64>) -> TimerKey {
        TimerKey { earliest: first_last.map(|(f, l)| (Time(f), Time(l))), ack_due: ack.map(Time) }
    }

    /// The index answers what a scan of every channel would, as keys come and go.
    #[test]
    fn the_earliest_deadline_is_the_one_a_scan_of_every_channel_finds() {
        let mut t = ChannelTimers::default();
        let mut keys = HashMap::new();
        let steps = [
            (1, key(Some((0, 95_000)), None)),
            (2, key(Some((50_000, 50_000)), Some(40_000))),
            (3, key(None, Some(1_000))),
            (3, key(None, None)),
            (2, key(None, Some(40_000))),
            (1, key(None, None)),
        ];
        for (id, k) in steps {
            t.update(id, keys.get(&id).copied().unwrap_or_default(), k);
            keys.insert(id, k);
            let scan = keys.values().filter_map(|&k| deadline(k, &lim())).min();
            assert_eq!(t.next(&lim()), scan);
            for now in [0, 10_000, 45_000, 60_000, 100_000] {
                let mut due: Vec<NodeId> =
                    keys.iter().filter(|(_, &k)| deadline(k, &lim()).is_some_and(|d| d <= Time(now))).map(|(&id, _)| id).collect();
                due.sort_unstable();
                assert_eq!(t.due(Time(now), &lim()), due, "due at {now}");
            }
        }
        assert_eq!(t.next(&lim()), Some(Time(41_000)), "member 2's delayed ACK, 1 ms after it fell due");
    }
}
