//! The seeded faulty network: loss, duplication, delay and reordering, and
//! partitions (symmetric or one-way) between simulated nodes.

use cgm_core::{NodeId, Time};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::time::Duration;

/// Fault rates and delays of the network.
#[derive(Clone, Debug, PartialEq)]
pub struct NetFaults {
    /// Probability a datagram is lost.
    pub loss: f64,
    /// Probability a datagram is delivered twice.
    pub duplicate: f64,
    /// Smallest one-way delay.
    pub min_delay: Duration,
    /// Largest one-way delay (datagrams overtake each other within this spread).
    pub max_delay: Duration,
}

impl NetFaults {
    /// A perfect network with a fixed 100 µs delay.
    pub fn none() -> NetFaults {
        NetFaults { loss: 0.0, duplicate: 0.0, min_delay: Duration::from_micros(100), max_delay: Duration::from_micros(100) }
    }
}

/// A datagram in flight.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InFlight {
    /// Delivery time.
    pub at: Time,
    /// Tie-breaker keeping delivery order deterministic.
    pub order: u64,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// The fingerprint of the key the sender sealed it under (0: none).
    pub key: u64,
    /// Bytes.
    pub bytes: Vec<u8>,
}

/// The network: datagrams in flight and the links currently cut.
#[derive(Debug)]
pub struct Net {
    /// Current fault rates.
    pub faults: NetFaults,
    queue: BinaryHeap<Reverse<InFlight>>,
    cut: BTreeSet<(NodeId, NodeId)>,
    order: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// Bytes sent (datagram payloads, lost or not).
    pub bytes: u64,
    /// Datagrams lost to faults or cuts.
    pub dropped: u64,
    /// Size in bytes of the largest datagram handed to [`Net::send`] (lost or not).
    /// Read-only bookkeeping for tests; a test may reset it to 0 between phases.
    pub max_datagram: usize,
}

impl Net {
    /// A network with the given faults.
    pub fn new(faults: NetFaults) -> Net {
        Net { faults, queue: BinaryHeap::new(), cut: BTreeSet::new(), order: 0, sent: 0, bytes: 0, dropped: 0, max_datagram: 0 }
    }

    /// Sends one datagram at `now`, applying loss, duplication, delay and cuts.
    pub fn send(&mut self, rng: &mut ChaCha8Rng, now: Time, from: NodeId, to: NodeId, key: u64, bytes: Vec<u8>) {
        self.sent += 1;
        self.bytes += bytes.len() as u64;
        self.max_datagram = self.max_datagram.max(bytes.len());
        if self.cut.contains(&(from, to)) || rng.gen_bool(self.faults.loss.clamp(0.0, 1.0)) {
            self.dropped += 1;
            return;
        }
        let copies = if rng.gen_bool(self.faults.duplicate.clamp(0.0, 1.0)) { 2 } else { 1 };
        for _ in 0..copies {
            let (lo, hi) = (self.faults.min_delay.as_micros() as u64, self.faults.max_delay.as_micros() as u64);
            let delay = if hi > lo { rng.gen_range(lo..=hi) } else { lo };
            self.order += 1;
            self.queue.push(Reverse(InFlight { at: Time(now.0 + delay), order: self.order, from, to, key, bytes: bytes.clone() }));
        }
    }

    /// Time of the next delivery.
    pub fn next_time(&self) -> Option<Time> {
        self.queue.peek().map(|Reverse(d)| d.at)
    }

    /// Takes the next delivery due at or before `now`.
    pub fn pop_due(&mut self, now: Time) -> Option<InFlight> {
        if self.next_time()? <= now {
            self.queue.pop().map(|Reverse(d)| d)
        } else {
            None
        }
    }

    /// Puts a taken delivery back, due at `at` (its receiver was paused).
    pub fn requeue(&mut self, mut d: InFlight, at: Time) {
        self.order += 1;
        d.at = at;
        d.order = self.order;
        self.queue.push(Reverse(d));
    }

    /// Cuts the link from `a` to `b` (one way).
    pub fn cut_one_way(&mut self, a: NodeId, b: NodeId) {
        self.cut.insert((a, b));
    }

    /// Splits the nodes into groups that cannot reach each other.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        self.cut.clear();
        for (i, g) in groups.iter().enumerate() {
            for (j, h) in groups.iter().enumerate() {
                if i != j {
                    for &a in g {
                        for &b in h {
                            self.cut.insert((a, b));
                        }
                    }
                }
            }
        }
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Whether any link is cut.
    pub fn is_partitioned(&self) -> bool {
        !self.cut.is_empty()
    }
}
