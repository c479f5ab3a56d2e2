//! The harness the core fuzz targets share: three cores wired to each other
//! through an in-memory network that the fuzzer drives, with invariants
//! checked as events come out.

use arbitrary::Arbitrary;
use cgm_core::messages::{AckInfo, Frame};
use cgm_core::wire::{encode_frame, Header};
use cgm_core::{AppProtocol, Config, Core, Dest, Event, Outcome, Param, Resource, Time};
use std::collections::BTreeMap;
use std::time::Duration;

const MEMBERS: u32 = 3;
/// Datagrams in flight at most; the fuzzer picks which to deliver.
const MAX_IN_FLIGHT: usize = 4_096;

/// One step of the fuzzer's script.
#[derive(Arbitrary, Debug)]
pub enum Op {
    /// Delivers the `k`-th datagram in flight (mod their number).
    Deliver(u16),
    /// Delivers every datagram in flight, in order.
    DeliverAll,
    /// Loses the `k`-th datagram in flight.
    Drop(u16),
    /// Delivers a copy of the `k`-th datagram in flight, keeping it in flight.
    Duplicate(u16),
    /// Flips bits of the `k`-th datagram in flight at `at` and delivers it.
    Corrupt { k: u16, at: u16, xor: u8 },
    /// Arbitrary bytes to member `to` from `from`.
    Junk { to: u8, from: u8, bytes: Vec<u8> },
    /// A data segment of member 2's reliable channel to member 1.
    Segment { session: u32, seq: u16, chunk: Vec<u8> },
    /// Time passes (ms), timers fire.
    Advance(u8),
    /// Member `at` proposes an application protocol.
    Propose { at: u8, rounds: u8, lock: bool },
    /// Member `at` proposes a parameter change.
    Change { at: u8, param: u8, value: u32 },
    /// Member `at` asks `member` for its status.
    Query { at: u8, member: u8 },
    /// Member `at` answers its pending local wait.
    Complete { at: u8, ok: bool },
    /// Member `at` leaves.
    Leave(u8),
}

/// Three cores and the datagrams between them.
pub struct Group {
    cores: Vec<Core>,
    now: Time,
    in_flight: Vec<(u32, u32, Vec<u8>)>,
    waits: Vec<Option<u64>>,
    /// seq -> outcome, as the first member to complete it reported it. The
    /// core promises the same outcome on every member (proposal, kind, verdict,
    /// generation, statuses, reason), so the whole of it is compared.
    order: BTreeMap<u64, Outcome>,
    /// Whether bytes no member sent were delivered. The runtime's envelope
    /// lets only members' own datagrams through, so agreement is promised
    /// only without them; robustness (no panic) is checked either way.
    /// (regressions/core_events/bitflipped-sequenced-pid-*: one flipped bit in
    /// the coordinator's order turns proposal 1:x into 20:x on one member; a
    /// crash-tolerant protocol cannot tell that from a real order.)
    forged: bool,
}

impl Group {
    /// Three cores that have formed one group.
    pub fn formed() -> Group {
        let ids: Vec<u32> = (1..=MEMBERS).collect();
        let cores = ids.iter().map(|&id| Core::new(Config::new(id, 1, ids.clone()), Time(0)).expect("valid config")).collect();
        let mut g = Group {
            cores,
            now: Time(0),
            in_flight: Vec::new(),
            waits: vec![None; MEMBERS as usize],
            order: BTreeMap::new(),
            forged: false,
        };
        while !g.cores.iter().all(|c| c.status(g.now).members.len() == MEMBERS as usize) {
            g.advance(5);
            while !g.in_flight.is_empty() {
                g.deliver(0);
            }
            assert!(g.now < Time(60_000_000), "three cores form a group");
        }
        g
    }

    /// Runs the script.
    pub fn run(&mut self, ops: impl IntoIterator<Item = Op>) {
        for op in ops {
            self.step(op);
        }
    }

    fn member(at: u8) -> usize {
        usize::from(at) % MEMBERS as usize
    }

    fn pick(&self, k: u16) -> Option<usize> {
        (!self.in_flight.is_empty()).then(|| usize::from(k) % self.in_flight.len())
    }

    fn step(&mut self, op: Op) {
        let now = self.now;
        match op {
            Op::Deliver(k) => {
                if let Some(i) = self.pick(k) {
                    self.deliver(i);
                }
            }
            Op::DeliverAll => {
                for _ in 0..self.in_flight.len() {
                    self.deliver(0);
                }
            }
            Op::Drop(k) => {
                if let Some(i) = self.pick(k) {
                    self.in_flight.remove(i);
                }
            }
            Op::Duplicate(k) => {
                if let Some(i) = self.pick(k) {
                    let (to, from, bytes) = self.in_flight[i].clone();
                    self.hand(to, from, &bytes);
                }
            }
            Op::Corrupt { k, at, xor } => {
                if let Some(i) = self.pick(k) {
                    self.forged |= xor != 0;
                    let (to, from, mut bytes) = self.in_flight.remove(i);
                    if !bytes.is_empty() {
                        let at = usize::from(at) % bytes.len();
                        bytes[at] ^= xor;
                    }
                    self.hand(to, from, &bytes);
                }
            }
            Op::Junk { to, from, bytes } => {
                self.forged = true;
                self.hand(Self::member(to) as u32 + 1, u32::from(from), &bytes);
            }
            Op::Segment { session, seq, chunk } => {
                self.forged = true;
                let h = Header { from: 2, from_inc: 1, to: 1, to_inc: 1 };
                let f = Frame::Data { session, seq: u64::from(seq), ack: AckInfo::default(), chunk: chunk.into() };
                let mut bytes = Vec::new();
                encode_frame(&h, &f, &mut bytes);
                self.hand(1, 2, &bytes);
            }
            Op::Advance(ms) => self.advance(u64::from(ms)),
            Op::Propose { at, rounds, lock } => {
                let wait = lock.then(|| Resource::Lock("fuzz".into()));
                let app = AppProtocol { payload: vec![rounds].into(), rounds: rounds % 4, wait };
                let _ = self.cores[Self::member(at)].propose_app(now, None, app);
            }
            Op::Change { at, param, value } => {
                let p = Param::ALL[usize::from(param) % Param::ALL.len()];
                let _ = self.cores[Self::member(at)].propose_change(now, None, &[(p, u64::from(value))]);
            }
            Op::Query { at, member } => {
                let _ = self.cores[Self::member(at)].query_status(now, u32::from(member % 4));
            }
            Op::Complete { at, ok } => {
                let i = Self::member(at);
                if let Some(token) = self.waits[i].take() {
                    let result = if ok { Ok(Vec::new()) } else { Err("refused by the fuzzer".to_string()) };
                    let _ = self.cores[i].complete_wait(now, token, result);
                }
            }
            Op::Leave(at) => self.cores[Self::member(at)].leave(now),
        }
        self.collect();
    }

    fn advance(&mut self, ms: u64) {
        self.now = self.now + Duration::from_millis(ms);
        for c in &mut self.cores {
            if c.poll_timeout().is_some_and(|t| t <= self.now) {
                c.handle_timeout(self.now);
            }
        }
        self.collect();
    }

    fn deliver(&mut self, i: usize) {
        let (to, from, bytes) = self.in_flight.remove(i);
        self.hand(to, from, &bytes);
    }

    fn hand(&mut self, to: u32, from: u32, bytes: &[u8]) {
        if let Some(c) = self.cores.get_mut(to as usize - 1) {
            c.handle_datagram(self.now, u64::from(from), bytes);
        }
        self.collect();
    }

    /// Moves every core's datagrams into flight and checks its events.
    fn collect(&mut self) {
        for i in 0..self.cores.len() {
            while let Some(t) = self.cores[i].poll_transmit() {
                if let (Dest::Node(to), true) = (t.dest, self.in_flight.len() < MAX_IN_FLIGHT) {
                    self.in_flight.push((to, i as u32 + 1, t.bytes));
                }
            }
            while let Some(e) = self.cores[i].poll_event() {
                match e {
                    Event::LocalWait { token, .. } => self.waits[i] = Some(token),
                    Event::Completed(o) if !self.forged => {
                        let first = self.order.entry(o.seq).or_insert_with(|| o.clone());
                        assert_eq!(*first, o, "member {} completed seq {} with another outcome", i + 1, o.seq);
                    }
                    _ => {}
                }
            }
        }
    }
}
