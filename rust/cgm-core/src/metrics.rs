//! Figures a member keeps about itself for monitoring, beside its
//! [`crate::Status`]: datagrams in and out, and how long its ACK rounds and
//! parameter changes take. They stay on the member (a status query over the
//! network carries the status only), for its host to export
//! (`cgm node`'s `[metrics]` endpoint).

use crate::time::Time;
use std::time::Duration;

/// Upper bounds of the latency buckets, in µs (the last bucket, above
/// these, is unbounded): from a loopback ACK round to a change that waited
/// out a view change.
pub const BUCKET_BOUNDS_US: [u64; 16] =
    [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 10_000_000];

/// A latency histogram over [`BUCKET_BOUNDS_US`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    /// Observations per bucket (not cumulative), one more than the bounds:
    /// the last counts those above every bound.
    pub counts: [u64; BUCKET_BOUNDS_US.len() + 1],
    /// Sum of every observation, in µs.
    pub sum_us: u64,
    /// Number of observations.
    pub count: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram { counts: [0; BUCKET_BOUNDS_US.len() + 1], sum_us: 0, count: 0 }
    }
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = BUCKET_BOUNDS_US.iter().position(|&b| us <= b).unwrap_or(BUCKET_BOUNDS_US.len());
        self.counts[i] += 1;
        self.sum_us = self.sum_us.saturating_add(us);
        self.count += 1;
    }

    /// Records the time from `since` to `now`.
    pub(crate) fn observe_since(&mut self, since: Time, now: Time) {
        self.observe(now.saturating_since(since));
    }
}

/// A member's own figures (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalMetrics {
    /// Datagrams handed to the member ([`crate::Core::handle_datagram`]).
    pub datagrams_in: u64,
    /// Datagrams the member handed out to send ([`crate::Core::poll_transmit`]).
    pub datagrams_out: u64,
    /// From the start of an ACK round on this member to every member's
    /// ACK of it, for every round of every protocol.
    pub ack_round: Histogram,
    /// From the start of a parameter change on this member (its turn in
    /// the total order) to its outcome here, committed or rolled back.
    pub change: Histogram,
    /// The wire version this member sends each other member of its view
    /// in (see [`crate::wire::MIN_WIRE_VERSION`]).
    pub wire_versions: Vec<(crate::NodeId, u8)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_fall_in_the_first_bucket_that_holds_them() {
        let mut h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_micros(51));
        h.observe(Duration::from_secs(60));
        assert_eq!((h.counts[0], h.counts[1], h.counts[BUCKET_BOUNDS_US.len()]), (1, 1, 1));
        assert_eq!((h.count, h.sum_us), (3, 60_000_101));
    }
}
