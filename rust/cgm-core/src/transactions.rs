//! What each transaction id a host or an operator chose stood for.
//!
//! Proposing under a known transaction id is a retry: it gets the first
//! proposal's id and outcome, and nothing runs again. An id reused for a
//! *different* protocol must not be answered that way, or its caller would
//! be told "committed" for a change that never ran. So a member remembers
//! a digest of each body it proposed under a chosen id (its last
//! [`MEMORY`], in this life) and refuses the same id with another body.

use crate::error::Error;
use crate::ids::ProtocolBody;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

/// How many chosen transaction ids a member remembers: as many as the
/// outcomes it holds for retries.
const MEMORY: usize = 4_096;

/// The bodies of the last [`MEMORY`] proposals made under chosen ids.
#[derive(Debug, Default)]
pub(crate) struct Transactions {
    /// By transaction id: the body's digest and kind.
    bodies: HashMap<u64, (u64, &'static str)>,
    order: VecDeque<u64>,
}

impl Transactions {
    /// Checks that `txid`, if remembered, was proposed with `body`.
    ///
    /// # Errors
    /// [`Error::InvalidProtocol`] naming the id and what it ran, when it
    /// stood for another protocol.
    pub(crate) fn check(&self, txid: u64, body: &ProtocolBody) -> Result<(), Error> {
        match self.bodies.get(&txid) {
            Some(&(d, kind)) if d != digest(body) => Err(Error::InvalidProtocol(format!(
                "transaction {txid} already ran a different {kind} here: a retry must repeat the same protocol; give a new one a new transaction id"
            ))),
            _ => Ok(()),
        }
    }

    /// Remembers that `txid` was proposed with `body`.
    pub(crate) fn record(&mut self, txid: u64, body: &ProtocolBody) {
        if self.bodies.insert(txid, (digest(body), body.kind())).is_none() {
            self.order.push_back(txid);
            if self.order.len() > MEMORY {
                let oldest = self.order.pop_front().expect("longer than MEMORY");
                self.bodies.remove(&oldest);
            }
        }
    }
}

/// A digest of what a body does: equal for bodies that do the same (a
/// change's parameters and a node change's lists in any order, a key
/// rotation by its key's fingerprint, wherever the file was named from),
/// within a process, which is as long as the record lives.
fn digest(body: &ProtocolBody) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match body {
        ProtocolBody::Change(changes) => {
            let mut c = changes.clone();
            c.sort_unstable();
            c.dedup();
            ("change", c).hash(&mut h);
        }
        ProtocolBody::Nodes(n) => {
            let (mut add, mut remove) = (n.add.clone(), n.remove.clone());
            add.sort_unstable();
            add.dedup();
            remove.sort_unstable();
            remove.dedup();
            ("nodes", add, remove).hash(&mut h);
        }
        ProtocolBody::RotateKey(k) => ("key", k.fingerprint).hash(&mut h),
        ProtocolBody::App(a) => ("app", a).hash(&mut h),
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Param;

    #[test]
    fn a_reused_id_must_repeat_its_protocol() {
        let mut t = Transactions::default();
        let a = ProtocolBody::Change(vec![(Param::SendWindowSize, 33)]);
        let b = ProtocolBody::Change(vec![(Param::SendWindowSize, 34)]);
        assert!(t.check(7, &b).is_ok(), "an unknown id is free");
        t.record(7, &a);
        assert!(t.check(7, &a).is_ok(), "a retry");
        let e = t.check(7, &b).unwrap_err().to_string();
        assert!(e.contains("transaction 7 already ran a different param-change"), "{e}");
        // The same change in another order is a retry, not another change.
        let ab = ProtocolBody::Change(vec![(Param::SendWindowSize, 33), (Param::MaxFragmentSize, 1200)]);
        let ba = ProtocolBody::Change(vec![(Param::MaxFragmentSize, 1200), (Param::SendWindowSize, 33)]);
        t.record(8, &ab);
        assert!(t.check(8, &ba).is_ok());
        // A key rotation is its key, wherever its file was named from.
        let k = |path: &str| ProtocolBody::RotateKey(crate::ids::KeyRotation { fingerprint: 5, path: path.into() });
        t.record(9, &k("/etc/cgm/../cgm/new.key"));
        assert!(t.check(9, &k("/etc/cgm/new.key")).is_ok());
        let e = t.check(9, &b).unwrap_err().to_string();
        assert!(e.contains("already ran a different key-rotation"), "{e}");
        for txid in 100..100 + MEMORY as u64 {
            t.record(txid, &a);
        }
        assert!(t.check(7, &b).is_ok(), "forgotten after MEMORY newer ids");
        assert_eq!(t.bodies.len(), MEMORY);
    }
}
