//! Three cores wired to each other in memory, with no I/O: shared by the
//! engine benchmarks (`benches/core.rs`) and the tests that count what the
//! cores send (`tests/bundling.rs`).

use cgm_core::{Config, Core, Dest, Event, Params, Time, Transmit};
use std::time::Duration;

/// Three cores (nodes 1 to 3) and the simulated clock they run on.
pub struct Group {
    pub cores: Vec<Core>,
    pub now: Time,
    /// Outcomes each node reported to its host ([`Event::Completed`]).
    pub reported: Vec<usize>,
}

impl Group {
    /// Three cores that formed a group of three, with nothing left to send.
    ///
    /// # Panics
    /// When they do not within 10 simulated seconds.
    pub fn formed() -> Group {
        Group::formed_with(&Params::default())
    }

    /// As [`Group::formed`], every node configured with `params`.
    ///
    /// # Panics
    /// As [`Group::formed`].
    pub fn formed_with(params: &Params) -> Group {
        let ids = vec![1, 2, 3];
        let config = |id| Config { params: params.clone(), ..Config::new(id, 1, ids.clone()) };
        let cores = ids.iter().map(|&id| Core::new(config(id), Time(0)).expect("valid config")).collect();
        let mut g = Group { cores, now: Time(0), reported: vec![0; 3] };
        while !g.cores.iter().all(|c| {
            let s = c.status(g.now);
            s.quorum && s.members.len() == 3
        }) {
            g.now = g.now + Duration::from_millis(5);
            for c in &mut g.cores {
                if c.poll_timeout().is_some_and(|t| t <= g.now) {
                    c.handle_timeout(g.now);
                }
            }
            g.deliver();
            assert!(g.now < Time(10_000_000), "three cores form a group within 10 simulated seconds");
        }
        g
    }

    /// Everything node `id` wants sent now; its events are taken too, and
    /// its reported outcomes counted.
    pub fn take(&mut self, id: u32) -> Vec<Transmit> {
        let core = &mut self.cores[id as usize - 1];
        let out = std::iter::from_fn(|| core.poll_transmit()).collect();
        while let Some(e) = core.poll_event() {
            self.reported[id as usize - 1] += usize::from(matches!(e, Event::Completed(_)));
        }
        out
    }

    /// Hands datagram `t` from node `from` to its destination, which does
    /// not drain what it sends in turn.
    pub fn hand(&mut self, from: u32, t: &Transmit) {
        if let Dest::Node(to) = t.dest {
            self.cores[to as usize - 1].handle_datagram(self.now, u64::from(from), &t.bytes);
        }
    }

    /// Hands every datagram to its destination until none is left.
    pub fn deliver(&mut self) {
        loop {
            let mut moved = false;
            for id in 1..=self.cores.len() as u32 {
                for t in self.take(id) {
                    moved = true;
                    self.hand(id, &t);
                }
            }
            if !moved {
                return;
            }
        }
    }
}
