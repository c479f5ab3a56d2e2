//! Questions asked of the members' progress marks (see [`crate::messages::Marks`]).

/// The highest sequence number that every member of the view decided:
/// `own` is this member's, `others` the marks heard from every other member
/// (0 for one not heard from in this view).
///
/// A decision every member of its view holds is one no later view can
/// reverse: a view change takes the state of its lineage's members, and any
/// later view with quorum holds a member of this one that carries the
/// decision (unless every one of them restarted: the cluster's state is
/// gone, see the README's known issues). So a member reports an outcome to
/// its host only at or below this mark, and the outcome it reports is the
/// one every member reports.
pub(crate) fn stable_mark(own: u64, others: impl Iterator<Item = u64>) -> u64 {
    others.fold(own, u64::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stable_mark_is_the_slowest_members_mark() {
        assert_eq!(stable_mark(9, [7, 12].into_iter()), 7);
        assert_eq!(stable_mark(3, std::iter::empty()), 3);
        assert_eq!(stable_mark(9, [0, 12].into_iter()), 0);
    }
}
