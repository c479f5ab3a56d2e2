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
    digests: HashMap<u64, u64>,
    order: VecDeque<u64>,
}

impl Transactions {
    /// Checks that `txid`, if remembered, was proposed with `body`.
    ///
    /// # Errors
    /// [`Error::InvalidProtocol`] naming the id, when it stood for another
    /// protocol.
    pub(crate) fn check(&self, txid: u64, body: &ProtocolBody) -> Result<(), Error> {
        match self.digests.get(&txid) {
            Some(&d) if d != digest(body) => Err(Error::InvalidProtocol(format!(
                "transaction {txid} already ran a different {} here: a retry must repeat the same protocol; give a new one a new transaction id",
                body.kind()
            ))),
            _ => Ok(()),
        }
    }

    /// Remembers that `txid` was proposed with `body`.
    pub(crate) fn record(&mut self, txid: u64, body: &ProtocolBody) {
        if self.digests.insert(txid, digest(body)).is_none() {
            self.order.push_back(txid);
            if self.order.len() > MEMORY {
                let oldest = self.order.pop_front().expect("longer than MEMORY");
                self.digests.remove(&oldest);
            }
        }
    }
}

/// A digest of a body: equal bodies have equal digests within a process,
/// which is as long as the record lives.
fn digest(body: &ProtocolBody) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
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
        for txid in 100..100 + MEMORY as u64 {
            t.record(txid, &a);
        }
        assert!(t.check(7, &b).is_ok(), "forgotten after MEMORY newer ids");
        assert_eq!(t.digests.len(), MEMORY);
    }
}
