//! A member's simulated disk: its state file, written as the runtime writes
//! it (`cgm-runtime`'s `state.rs`), in four steps a crash can fall between:
//!
//! 1. write the new state to a temporary file;
//! 2. sync the temporary file;
//! 3. rename it over the state file;
//! 4. sync the directory.
//!
//! A crash loses what was not synced: a temporary file not synced is gone
//! (or left torn, which nobody reads), and a rename whose directory was not
//! synced may or may not have happened. So after a crash the state file is
//! always the old one or the new one, whole. On demand the simulator also
//! tears or corrupts the state file itself (a bad disk, an operator's
//! mistake), which a restart must refuse.

use rand::Rng;

/// The number of steps of one write (see the module docs).
pub const PERSIST_STEPS: usize = 4;

/// One member's disk.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    /// The state file, as the directory names it now.
    state: Option<Vec<u8>>,
    /// The temporary file and whether it was synced.
    tmp: Option<(Vec<u8>, bool)>,
    /// The state file before a rename the directory has not synced yet.
    before_rename: Option<Option<Vec<u8>>>,
    /// Writes completed (all four steps).
    pub writes: u64,
}

impl Disk {
    /// Runs the first `steps` steps of writing `bytes` (all four for a whole write).
    pub fn persist(&mut self, bytes: Vec<u8>, steps: usize) {
        if steps == 0 {
            return;
        }
        self.tmp = Some((bytes, false));
        if steps >= 2 {
            if let Some(t) = self.tmp.as_mut() {
                t.1 = true;
            }
        }
        if steps >= 3 {
            let (bytes, _) = self.tmp.take().expect("written above");
            let old = std::mem::replace(&mut self.state, Some(bytes));
            self.before_rename = Some(old);
        }
        if steps >= 4 {
            self.before_rename = None;
            self.writes += 1;
        }
    }

    /// The machine stops: what was not synced is lost.
    pub fn crash(&mut self, rng: &mut impl Rng) {
        // A rename not synced survives or not.
        if let Some(old) = self.before_rename.take() {
            if rng.gen_bool(0.5) {
                self.state = old;
            }
        }
        self.tmp = None;
    }

    /// The state file's bytes, if there is one.
    pub fn state(&self) -> Option<&[u8]> {
        self.state.as_deref()
    }

    /// Cuts the state file short at a random length, as a write that ignored
    /// the protocol above would leave it.
    pub fn tear(&mut self, rng: &mut impl Rng) {
        if let Some(s) = self.state.as_mut() {
            let len = rng.gen_range(0..s.len());
            s.truncate(len);
        }
    }

    /// Flips one random bit of the state file.
    pub fn corrupt(&mut self, rng: &mut impl Rng) {
        if let Some(s) = self.state.as_mut().filter(|s| !s.is_empty()) {
            let i = rng.gen_range(0..s.len());
            s[i] ^= 1 << rng.gen_range(0..8);
        }
    }

    /// Deletes the state file (an operator wiping a node to rejoin afresh).
    pub fn wipe(&mut self) {
        *self = Disk::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_crash_at_any_step_leaves_the_old_state_or_the_new_one_whole() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for steps in 0..=PERSIST_STEPS {
            for _ in 0..20 {
                let mut d = Disk::default();
                d.persist(b"old".to_vec(), PERSIST_STEPS);
                d.persist(b"new".to_vec(), steps);
                d.crash(&mut rng);
                let s = d.state().expect("the old state was synced");
                match steps {
                    0..=2 => assert_eq!(s, b"old"),
                    3 => assert!(s == b"old" || s == b"new"),
                    _ => assert_eq!(s, b"new"),
                }
            }
        }
    }
}
