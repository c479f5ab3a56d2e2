//! The authenticated envelope around every datagram.
//!
//! Layout: `"CA" | version | flags | sender u32 | incarnation u64 | counter u64 |
//! body | tag[16]`, all integers little endian. The 24-byte XChaCha20-Poly1305
//! nonce is `sender | incarnation | counter | 0u32`, unique as long as a
//! node's incarnation grows across restarts (it is its start time in µs).
//! Without encryption the body travels in clear and the tag covers header and
//! body; with it the body is encrypted too. The receiver verifies the tag
//! before anything else, then rejects replays with a per-sender window.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key as AeadKey, Tag, XChaCha20Poly1305, XNonce};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

/// Envelope format version.
pub const ENVELOPE_VERSION: u8 = 1;
const HEADER: usize = 24;
const TAG: usize = 16;
/// Bytes the envelope adds to a datagram.
pub const OVERHEAD: usize = HEADER + TAG;
const FLAG_ENCRYPTED: u8 = 1;
/// Replay window width (counters).
const WINDOW: u64 = 1024;
/// Operator tools (node id 0) remembered at once.
const MAX_OPERATORS: usize = 64;

/// A 32-byte cluster key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(pub [u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A fresh random key from the operating system.
    ///
    /// # Panics
    /// If the operating system has no randomness to give.
    pub fn generate() -> Key {
        let mut k = [0u8; 32];
        getrandom::getrandom(&mut k).expect("the operating system provides randomness");
        Key(k)
    }

    /// A key from exactly 32 bytes.
    ///
    /// # Errors
    /// Any other length.
    pub fn from_bytes(b: &[u8]) -> Result<Key, String> {
        let k: [u8; 32] = b.try_into().map_err(|_| format!("a cluster key is 32 bytes, got {}", b.len()))?;
        Ok(Key(k))
    }

    /// Reads a key file (exactly 32 bytes).
    ///
    /// # Errors
    /// Unreadable file or wrong length, naming the file.
    pub fn load(path: &Path) -> Result<Key, String> {
        let b = std::fs::read(path).map_err(|e| format!("cannot read key file {}: {e}", path.display()))?;
        Key::from_bytes(&b).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes the key to a new file with mode 0600.
    ///
    /// # Errors
    /// The file exists or cannot be written.
    pub fn write_new(&self, path: &Path) -> Result<(), String> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot create key file {}: {e}", path.display()))?;
        f.write_all(&self.0).map_err(|e| format!("cannot write key file {}: {e}", path.display()))
    }
}

/// Why an incoming datagram was refused. It was dropped and counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not an envelope, or truncated.
    Malformed,
    /// An envelope of another version.
    Version(u8),
    /// The tag does not verify: wrong key, forged or corrupted.
    Forged,
    /// A counter already seen (or too old) from that sender.
    Replayed,
}

/// Seals and opens datagrams with the cluster key (or passes them through when insecure).
pub struct Envelope {
    cipher: Option<XChaCha20Poly1305>,
    encrypt: bool,
    sender: u32,
    incarnation: u64,
    counter: u64,
    windows: BTreeMap<(u32, u64), Window>,
    latest: BTreeMap<u32, u64>,
    operators: VecDeque<u64>,
}

#[derive(Default)]
struct Window {
    top: u64,
    bits: Vec<u64>,
}

impl Window {
    /// Accepts `c` once; false for a replay or a counter older than the window.
    fn accept(&mut self, c: u64) -> bool {
        if self.bits.is_empty() {
            self.bits = vec![0; (WINDOW / 64) as usize];
        }
        if c + WINDOW <= self.top {
            return false;
        }
        if c > self.top {
            for x in (self.top + 1).max(c.saturating_sub(WINDOW - 1))..=c {
                self.clear(x);
            }
            self.top = c;
        }
        let (i, b) = (((c % WINDOW) / 64) as usize, c % 64);
        if self.bits[i] & (1 << b) != 0 {
            return false;
        }
        self.bits[i] |= 1 << b;
        true
    }

    fn clear(&mut self, c: u64) {
        let (i, b) = (((c % WINDOW) / 64) as usize, c % 64);
        self.bits[i] &= !(1 << b);
    }
}

impl Envelope {
    /// An envelope for `sender` in `incarnation`; `key = None` means insecure
    /// (datagrams pass unauthenticated, still framed).
    pub fn new(key: Option<&Key>, encrypt: bool, sender: u32, incarnation: u64) -> Envelope {
        Envelope {
            cipher: key.map(|k| XChaCha20Poly1305::new(AeadKey::from_slice(&k.0))),
            encrypt: encrypt && key.is_some(),
            sender,
            incarnation,
            counter: 0,
            windows: BTreeMap::new(),
            latest: BTreeMap::new(),
            operators: VecDeque::new(),
        }
    }

    /// Seals `body` into `out` (cleared first).
    pub fn seal(&mut self, body: &[u8], out: &mut Vec<u8>) {
        self.counter += 1;
        out.clear();
        out.extend_from_slice(b"CA");
        out.push(ENVELOPE_VERSION);
        out.push(if self.encrypt { FLAG_ENCRYPTED } else { 0 });
        out.extend_from_slice(&self.sender.to_le_bytes());
        out.extend_from_slice(&self.incarnation.to_le_bytes());
        out.extend_from_slice(&self.counter.to_le_bytes());
        out.extend_from_slice(body);
        let nonce = nonce(self.sender, self.incarnation, self.counter);
        let tag = match &self.cipher {
            None => Tag::default(),
            Some(c) if self.encrypt => {
                let (head, rest) = out.split_at_mut(HEADER);
                c.encrypt_in_place_detached(&nonce, head, rest).expect("datagrams are far below the AEAD size limit")
            }
            Some(c) => c.encrypt_in_place_detached(&nonce, out, &mut []).expect("datagrams are far below the AEAD size limit"),
        };
        out.extend_from_slice(&tag);
    }

    /// Opens a datagram in place: verifies it, rejects replays, decrypts; returns
    /// the sender, its incarnation and the body's range in `buf`.
    ///
    /// # Errors
    /// A [`Refusal`]; no replay state changes for a forged datagram.
    pub fn open(&mut self, buf: &mut [u8]) -> Result<(u32, u64, std::ops::Range<usize>), Refusal> {
        if buf.len() < OVERHEAD || &buf[0..2] != b"CA" {
            return Err(Refusal::Malformed);
        }
        if buf[2] != ENVELOPE_VERSION {
            return Err(Refusal::Version(buf[2]));
        }
        let encrypted = buf[3] & FLAG_ENCRYPTED != 0;
        let sender = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
        let inc = u64::from_le_bytes(buf[8..16].try_into().expect("8 bytes"));
        let counter = u64::from_le_bytes(buf[16..24].try_into().expect("8 bytes"));
        let end = buf.len() - TAG;
        if let Some(c) = &self.cipher {
            if encrypted != self.encrypt {
                return Err(Refusal::Forged);
            }
            let tag = *Tag::from_slice(&buf[end..]);
            let n = nonce(sender, inc, counter);
            let ok = if encrypted {
                let (head, rest) = buf[..end].split_at_mut(HEADER);
                c.decrypt_in_place_detached(&n, head, rest, &tag).is_ok()
            } else {
                c.decrypt_in_place_detached(&n, &buf[..end], &mut [], &tag).is_ok()
            };
            if !ok {
                return Err(Refusal::Forged);
            }
        }
        if !self.fresh(sender, inc, counter) {
            return Err(Refusal::Replayed);
        }
        Ok((sender, inc, HEADER..end))
    }

    /// Replay check for an authenticated (sender, incarnation, counter).
    fn fresh(&mut self, sender: u32, inc: u64, counter: u64) -> bool {
        if sender != 0 {
            let latest = self.latest.entry(sender).or_insert(inc);
            if inc < *latest {
                return false;
            }
            if inc > *latest {
                let old = *latest;
                *latest = inc;
                self.windows.remove(&(sender, old));
            }
        } else if !self.operators.contains(&inc) {
            self.operators.push_back(inc);
            if self.operators.len() > MAX_OPERATORS {
                if let Some(old) = self.operators.pop_front() {
                    self.windows.remove(&(0, old));
                }
            }
        }
        self.windows.entry((sender, inc)).or_default().accept(counter)
    }
}

fn nonce(sender: u32, inc: u64, counter: u64) -> XNonce {
    let mut n = [0u8; 24];
    n[0..4].copy_from_slice(&sender.to_le_bytes());
    n[4..12].copy_from_slice(&inc.to_le_bytes());
    n[12..20].copy_from_slice(&counter.to_le_bytes());
    XNonce::from(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(encrypt: bool) -> (Envelope, Envelope) {
        let k = Key([7; 32]);
        (Envelope::new(Some(&k), encrypt, 1, 100), Envelope::new(Some(&k), encrypt, 2, 200))
    }

    #[test]
    fn sealed_datagrams_open_once() {
        for encrypt in [false, true] {
            let (mut a, mut b) = pair(encrypt);
            let mut d = Vec::new();
            a.seal(b"hello", &mut d);
            assert_eq!(encrypt, !d.windows(5).any(|w| w == b"hello"));
            let mut copy = d.clone();
            let (s, inc, r) = b.open(&mut d).unwrap();
            assert_eq!((s, inc, &d[r]), (1, 100, &b"hello"[..]));
            assert_eq!(b.open(&mut copy), Err(Refusal::Replayed));
        }
    }

    #[test]
    fn forged_flipped_and_truncated_datagrams_are_refused() {
        let (mut a, mut b) = pair(false);
        let mut d = Vec::new();
        a.seal(b"payload", &mut d);
        for i in 0..d.len() {
            let mut f = d.clone();
            f[i] ^= 0x40;
            assert!(b.open(&mut f).is_err(), "flip at {i} accepted");
        }
        assert_eq!(b.open(&mut d[..10].to_vec()), Err(Refusal::Malformed));
        let mut other = Envelope::new(Some(&Key([8; 32])), false, 1, 100);
        let mut f = Vec::new();
        other.seal(b"payload", &mut f);
        assert_eq!(b.open(&mut f), Err(Refusal::Forged));
        // The genuine datagram still opens: refusals left no state behind.
        assert!(b.open(&mut d).is_ok());
    }

    #[test]
    fn an_older_incarnation_is_a_replay() {
        let k = Key([1; 32]);
        let mut rx = Envelope::new(Some(&k), false, 9, 1);
        let (mut old, mut new) = (Envelope::new(Some(&k), false, 1, 10), Envelope::new(Some(&k), false, 1, 11));
        let (mut d1, mut d2) = (Vec::new(), Vec::new());
        old.seal(b"x", &mut d1);
        new.seal(b"y", &mut d2);
        assert!(rx.open(&mut d2).is_ok());
        assert_eq!(rx.open(&mut d1), Err(Refusal::Replayed));
    }

    #[test]
    fn the_window_accepts_reordering_and_refuses_the_too_old() {
        let mut w = Window::default();
        assert!(w.accept(5));
        assert!(w.accept(3));
        assert!(!w.accept(3));
        assert!(w.accept(5000));
        assert!(!w.accept(5));
        assert!(w.accept(4999));
    }
}
