//! Flap damping: a member excluded again and again is readmitted only after a
//! backoff that doubles with each exclusion, as route-flap damping does for
//! routes. A flaky link, a one-way cut or a starved process then costs the
//! group one view change per backoff period, not one per failure detection.
//!
//! Every member of a view with quorum keeps the record from the views it
//! installs, so whichever member coordinates next holds the same record.
//! The first exclusion is free (a crash, a one-off partition): the member is
//! merged back at once. A member that restarted (a later incarnation) starts
//! afresh, and a record is forgotten once its member stayed out of trouble for
//! twice the longest backoff.

use crate::ids::{Incarnation, Member, NodeId};
use crate::status::DampedStatus;
use crate::time::Time;
use std::collections::BTreeMap;
use std::time::Duration;

/// Exclusions readmitted at once.
const FREE: u32 = 1;
/// The longest backoff, in multiples of the base (the base doubles 3 times).
pub(crate) const MAX_FACTOR: u32 = 8;

#[derive(Clone, Copy, Debug)]
struct Record {
    inc: Incarnation,
    exclusions: u32,
    last: Time,
    until: Time,
}

/// Each member's exclusions, as views with quorum dropped them.
#[derive(Debug, Default)]
pub(crate) struct Damping {
    records: BTreeMap<NodeId, Record>,
}

impl Damping {
    /// A view with quorum dropped `m` at `now`; `base` is the first backoff.
    pub(crate) fn excluded(&mut self, m: Member, now: Time, base: Duration) {
        let fresh = Record { inc: m.inc, exclusions: 0, last: now, until: now };
        let r = self.records.entry(m.id).or_insert(fresh);
        if r.inc != m.inc || now.saturating_since(r.last) > base * MAX_FACTOR * 2 {
            *r = fresh;
        }
        r.exclusions += 1;
        r.last = now;
        if r.exclusions > FREE {
            let doublings = (r.exclusions - FREE - 1).min(MAX_FACTOR.trailing_zeros());
            r.until = now + base * (1 << doublings);
            log::info!("member {} excluded {} times: readmitted no sooner than in {:?}", m.id, r.exclusions, r.until.saturating_since(now));
        }
    }

    /// Whether `m` is held out at `now` (a later incarnation is not: it restarted).
    pub(crate) fn holds(&self, m: Member, now: Time) -> bool {
        self.records.get(&m.id).is_some_and(|r| r.inc >= m.inc && r.until > now)
    }

    /// The members held out at `now`, for the status.
    pub(crate) fn status(&self, now: Time) -> Vec<DampedStatus> {
        self.records
            .iter()
            .filter(|(_, r)| r.until > now)
            .map(|(&id, r)| DampedStatus { id, inc: r.inc, exclusions: r.exclusions, until: r.until })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_millis(600);

    fn at(ms: u64) -> Time {
        Time(ms * 1_000)
    }

    #[test]
    fn the_first_exclusion_is_free_and_each_later_one_doubles_the_backoff_up_to_the_cap() {
        let m = Member { id: 3, inc: 1 };
        let mut d = Damping::default();
        d.excluded(m, at(0), BASE);
        assert!(!d.holds(m, at(0)), "a first exclusion readmits at once");
        let mut t = 1_000;
        for want in [600, 1_200, 2_400, 4_800, 4_800] {
            d.excluded(m, at(t), BASE);
            assert!(d.holds(m, at(t + want - 1)), "held {want} ms after exclusion at {t}");
            assert!(!d.holds(m, at(t + want)), "readmitted {want} ms after exclusion at {t}");
            t += want + 100;
        }
        assert_eq!(d.status(at(t - 200))[0].exclusions, 6);
    }

    #[test]
    fn a_restarted_member_or_one_long_out_of_trouble_starts_afresh() {
        let m = Member { id: 3, inc: 1 };
        let mut d = Damping::default();
        d.excluded(m, at(0), BASE);
        d.excluded(m, at(100), BASE);
        assert!(d.holds(m, at(200)));
        assert!(!d.holds(Member { id: 3, inc: 2 }, at(200)), "a later incarnation restarted: not held");
        let quiet = 600 * u64::from(MAX_FACTOR) * 2 + 1;
        d.excluded(m, at(100 + quiet), BASE);
        assert!(!d.holds(m, at(100 + quiet)), "forgotten after twice the longest backoff: a free exclusion again");
        assert!(d.status(at(100 + quiet)).is_empty());
    }
}
