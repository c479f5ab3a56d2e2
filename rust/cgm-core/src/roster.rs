//! [`Roster`]: the cluster's node set, one of the values a cluster commits
//! by transaction (see [`crate::Params::nodes`]), and [`NodeChange`], the
//! transaction that grows or shrinks it.
//!
//! The roster decides quorum: a view with quorum holds a majority of it. A
//! node not in it is refused. Addresses are opaque to the core (the runtime
//! reads them as socket addresses; the simulator leaves them empty).

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A node's identity in the cluster configuration.
pub type NodeId = u32;

/// The cluster's node set: every node's id and address, by id. Cheap to
/// clone (shared), compared by content. Empty only as [`Roster::default`]
/// (no set given); decoding refuses node id 0.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Roster(Arc<BTreeMap<NodeId, String>>);

impl<'de> Deserialize<'de> for Roster {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Roster, D::Error> {
        let nodes = BTreeMap::<NodeId, String>::deserialize(d)?;
        if nodes.contains_key(&0) {
            return Err(serde::de::Error::custom("node id 0 is reserved for operator tools"));
        }
        Ok(Roster(Arc::new(nodes)))
    }
}

/// A change of the node set, run as a peer protocol of two ACK rounds like
/// a parameter change: every member applies it in round 2, and it commits
/// everywhere or is undone everywhere. Several nodes may be added and
/// removed in one change.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeChange {
    /// The nodes added, with their addresses (the runtime: `host:port`).
    pub add: Vec<(NodeId, String)>,
    /// The nodes removed.
    pub remove: Vec<NodeId>,
}

impl Roster {
    /// A roster of `nodes` (id, address).
    ///
    /// # Errors
    /// The reason, when an id is 0 or listed twice, or the set is empty.
    pub fn new(nodes: impl IntoIterator<Item = (NodeId, String)>) -> Result<Roster, String> {
        let mut map = BTreeMap::new();
        for (id, addr) in nodes {
            if id == 0 {
                return Err("node id 0 is reserved for operator tools".into());
            }
            if map.insert(id, addr).is_some() {
                return Err(format!("node {id} is listed twice"));
            }
        }
        if map.is_empty() {
            return Err("the cluster would have no node".into());
        }
        Ok(Roster(Arc::new(map)))
    }

    /// A roster of `ids` with no addresses (the simulator, tests).
    ///
    /// # Errors
    /// As [`Roster::new`].
    pub fn of_ids(ids: impl IntoIterator<Item = NodeId>) -> Result<Roster, String> {
        Roster::new(ids.into_iter().map(|id| (id, String::new())))
    }

    /// Whether node `id` is in the roster.
    pub fn contains(&self, id: NodeId) -> bool {
        self.0.contains_key(&id)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the roster is empty (only [`Roster::default`] is).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The node ids, ascending.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.0.keys().copied()
    }

    /// Every node with its address, by id.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &str)> + '_ {
        self.0.iter().map(|(&id, a)| (id, a.as_str()))
    }

    /// The address of node `id`, if it is in the roster.
    pub fn address(&self, id: NodeId) -> Option<&str> {
        self.0.get(&id).map(String::as_str)
    }

    /// Whether `other` is this very roster (a clone of it), not only an equal
    /// one: a cheap test of whether a node set changed.
    pub fn same(&self, other: &Roster) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether the nodes `ids` (each once) hold a strict majority of the
    /// roster.
    pub fn majority_in(&self, ids: impl IntoIterator<Item = NodeId>) -> bool {
        ids.into_iter().filter(|&id| self.contains(id)).count() * 2 > self.len()
    }

    /// Whether the nodes `ids` hold every node of the roster.
    pub fn all_in(&self, ids: impl IntoIterator<Item = NodeId>) -> bool {
        let ids: Vec<NodeId> = ids.into_iter().collect();
        self.ids().all(|id| ids.contains(&id))
    }

    /// The roster with `change` applied; `self` is unchanged.
    ///
    /// # Errors
    /// The reason, when the change is empty, adds node 0, a node already in
    /// the roster or one twice, removes a node not in it, adds and removes
    /// the same node, gives an added node no address while the others have
    /// one, an address another node has, or leaves no node.
    pub fn with_change(&self, change: &NodeChange) -> Result<Roster, String> {
        if change.add.is_empty() && change.remove.is_empty() {
            return Err("the node change adds and removes nothing".into());
        }
        let mut next = (*self.0).clone();
        for &id in &change.remove {
            if change.add.iter().any(|(a, _)| *a == id) {
                return Err(format!("node {id} is both added and removed"));
            }
            if next.remove(&id).is_none() {
                return Err(format!("node {id} is not in the cluster"));
            }
        }
        let addressed = self.0.values().any(|a| !a.is_empty());
        for (id, addr) in &change.add {
            if *id == 0 {
                return Err("node id 0 is reserved for operator tools".into());
            }
            if self.contains(*id) {
                return Err(format!("node {id} is already in the cluster"));
            }
            if addr.is_empty() && addressed {
                return Err(format!("node {id} is added without an address"));
            }
            if !addr.is_empty() {
                if let Some((&other, _)) = next.iter().find(|(_, a)| *a == addr) {
                    return Err(format!("node {id} is given address {addr}, which node {other} has"));
                }
            }
            if next.insert(*id, addr.clone()).is_some() {
                return Err(format!("node {id} is added twice"));
            }
        }
        if next.is_empty() {
            return Err("the cluster would have no node".into());
        }
        Ok(Roster(Arc::new(next)))
    }
}

impl NodeChange {
    /// Checks that the members of `view` the change keeps are a majority of
    /// it. A view with quorum must hold a majority of the view before it
    /// (see [`crate::decide_view`]), so a change that removes a majority of
    /// the view at once would leave the members it keeps unable to form
    /// one; removing them over several changes works.
    ///
    /// # Errors
    /// The reason, naming how many members of the view one change may remove.
    pub fn keeps_majority_of(&self, view: &[NodeId]) -> Result<(), String> {
        let removed = view.iter().filter(|id| self.remove.contains(id)).count();
        if (view.len() - removed) * 2 > view.len() {
            return Ok(());
        }
        Err(format!(
            "removing {removed} of the {} members of the view at once would leave no majority of it to go on: remove at most {} per node change",
            view.len(),
            (view.len() - 1) / 2
        ))
    }
}

impl fmt::Debug for Roster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.iter()).finish()
    }
}

impl fmt::Display for Roster {
    /// The ids, as `{1, 2, 3}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl fmt::Display for NodeChange {
    /// As `add 6 (10.0.0.6:7000), remove 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let adds = self.add.iter().map(|(id, a)| if a.is_empty() { format!("add {id}") } else { format!("add {id} ({a})") });
        let parts: Vec<String> = adds.chain(self.remove.iter().map(|id| format!("remove {id}"))).collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster(ids: &[NodeId]) -> Roster {
        Roster::new(ids.iter().map(|&id| (id, format!("10.0.0.{id}:7000")))).unwrap()
    }

    #[test]
    fn a_roster_decodes_as_encoded_and_node_id_0_is_refused() {
        let r = roster(&[1, 2, 3]);
        assert_eq!(postcard::from_bytes::<Roster>(&postcard::to_allocvec(&r).unwrap()).unwrap(), r);
        let forged: BTreeMap<NodeId, String> = [(0, String::new()), (1, String::new())].into();
        assert!(postcard::from_bytes::<Roster>(&postcard::to_allocvec(&forged).unwrap()).is_err());
    }

    #[test]
    fn a_change_adds_and_removes_in_one_step_and_leaves_the_roster_unchanged() {
        let r = roster(&[1, 2, 3]);
        let c = NodeChange { add: vec![(6, "10.0.0.6:7000".into()), (7, "10.0.0.7:7000".into())], remove: vec![2] };
        let next = r.with_change(&c).unwrap();
        assert_eq!(next.ids().collect::<Vec<_>>(), [1, 3, 6, 7]);
        assert_eq!(next.address(6), Some("10.0.0.6:7000"));
        assert_eq!(r, roster(&[1, 2, 3]));
        assert_eq!(c.to_string(), "add 6 (10.0.0.6:7000), add 7 (10.0.0.7:7000), remove 2");
    }

    #[test]
    fn a_bad_change_names_what_is_wrong() {
        let r = roster(&[1, 2, 3]);
        let bad = |add: &[(NodeId, &str)], remove: &[NodeId]| {
            r.with_change(&NodeChange { add: add.iter().map(|(i, a)| (*i, a.to_string())).collect(), remove: remove.to_vec() }).unwrap_err()
        };
        assert!(bad(&[], &[]).contains("adds and removes nothing"));
        assert!(bad(&[(0, "x")], &[]).contains("reserved"));
        assert!(bad(&[(2, "10.0.0.9:7000")], &[]).contains("already in the cluster"));
        assert!(bad(&[], &[4]).contains("not in the cluster"));
        assert!(bad(&[(3, "10.0.0.9:7000")], &[3]).contains("both added and removed"));
        assert!(bad(&[(4, "")], &[]).contains("without an address"));
        assert!(bad(&[(4, "10.0.0.1:7000")], &[]).contains("which node 1 has"));
        assert!(bad(&[(4, "a:1"), (4, "b:1")], &[]).contains("added twice"));
        assert!(bad(&[], &[1, 2, 3]).contains("no node"));
    }

    #[test]
    fn majorities_count_only_roster_nodes() {
        let r = roster(&[1, 2, 3, 4]);
        assert!(!r.majority_in([1, 2, 9]));
        assert!(r.majority_in([1, 2, 3]));
        assert!(r.all_in([1, 2, 3, 4, 9]));
    }
}
