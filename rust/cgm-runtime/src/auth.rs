//! The authenticated envelope around every datagram.
//!
//! Layout: `"CA" | version | flags | sender u32 | incarnation u64 | counter u64 |
//! salt u64 | body | tag[16]`, all integers little endian. The 24-byte
//! XChaCha20-Poly1305 nonce is `incarnation | counter | salt`; the sender is
//! authenticated with the rest of the header. Without encryption the body
//! travels in clear and the tag covers header and body; with it the body is
//! encrypted too. The receiver verifies the tag before anything else, then
//! rejects replays with a window per sending instance.
//!
//! # Nonces never repeat
//!
//! Every datagram sealed with a cluster key must have a nonce no other
//! datagram under that key ever had, across every node, operator tool and
//! restart. The counter grows with each datagram of one [`Envelope`]; what
//! separates two envelopes is the incarnation and the salt:
//!
//! - the incarnation is the start time in µs, made strictly greater than any
//!   incarnation this process handed out before ([`new_incarnation`]), so
//!   envelopes of one process never share one, even when the clock stands
//!   still or steps back;
//! - the salt is 64 random bits drawn from the operating system for each
//!   envelope, so two processes that pick the same incarnation (a clock stepped
//!   back across a restart, two starts in the same µs on two hosts) still
//!   differ, except with probability 2^-64.
//!
//! # Several keys
//!
//! During a key rotation members accept datagrams under two keys. An
//! envelope holds every key it loaded ([`Envelope::add_key`]), opens under
//! those it accepts ([`Envelope::set_accepting`]) and seals under the key
//! its caller names, which the member picks link by link: the key the peer
//! was last heard under while it is accepted, else the cluster's. Keys are
//! told apart by their [`Key::fingerprint`], never by the key itself.
//!
//! The incarnation orders a node's lives for its peers: a higher one
//! supersedes (its older lives' datagrams are refused as replays), and a
//! second instance claiming the incarnation of the one a peer already knows is
//! refused too, since which of the two is current cannot be told.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key as AeadKey, Tag, XChaCha20Poly1305, XNonce};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Envelope format version (2: the salt joined the header and the nonce).
pub const ENVELOPE_VERSION: u8 = 2;
const HEADER: usize = 32;
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

    /// Reads a key file (a regular file of exactly 32 bytes).
    ///
    /// # Errors
    /// Unreadable file, not a regular file, or wrong length, naming the file.
    pub fn load(path: &Path) -> Result<Key, String> {
        // Looked at before it is opened: a device or a FIFO named as a key
        // file must not block the reader (a member thread loads keys).
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read key file {}: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("{}: a key file is a regular file of 32 bytes", path.display()));
        }
        if meta.len() != 32 {
            return Err(format!("{}: a cluster key is 32 bytes, got {}", path.display(), meta.len()));
        }
        let b = std::fs::read(path).map_err(|e| format!("cannot read key file {}: {e}", path.display()))?;
        Key::from_bytes(&b).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The key's fingerprint: the first 8 bytes of SHA-256 over a label and
    /// the key, as a number (shown as 16 hex digits). It names the key in
    /// status, logs and key rotations without revealing it; never 0.
    pub fn fingerprint(&self) -> u64 {
        use sha2::{Digest, Sha256};
        let d = Sha256::new().chain_update(b"libcgm key fingerprint v1\0").chain_update(self.0).finalize();
        u64::from_be_bytes(d[..8].try_into().expect("8 bytes")).max(1)
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

/// The key rotation to the key in the file `path`: its fingerprint and the
/// file's absolute path (every member reads the file at that path).
///
/// # Errors
/// Why, naming the file, when it cannot be read or is not a key.
pub fn key_rotation(path: &Path) -> Result<cgm_core::KeyRotation, String> {
    let key = Key::load(path)?;
    let path = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(cgm_core::KeyRotation { fingerprint: key.fingerprint(), path: path.to_string_lossy().into_owned() })
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
    /// A counter already seen (or too old) from that sender, or a datagram
    /// of an older incarnation of it, or of another instance claiming the
    /// incarnation already known.
    Replayed,
}

/// A datagram opened by [`Envelope::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    /// The sending node (0: an operator tool).
    pub sender: u32,
    /// Its incarnation.
    pub incarnation: u64,
    /// The body's range in the buffer.
    pub body: std::ops::Range<usize>,
    /// The fingerprint of the key it was sealed under (0: insecure).
    pub key: u64,
}

/// Seals and opens datagrams with the cluster keys (or passes them through when insecure).
pub struct Envelope {
    /// Every key loaded, by fingerprint (empty: insecure).
    ciphers: Vec<(u64, XChaCha20Poly1305)>,
    /// The fingerprints of the keys datagrams are opened under.
    accepting: Vec<u64>,
    /// Made with a key: then, holding no key (every one it was told to
    /// accept is missing), it refuses every datagram and seals none; it never
    /// falls back to passing datagrams unauthenticated.
    secure: bool,
    encrypt: bool,
    sender: u32,
    incarnation: u64,
    salt: u64,
    counter: u64,
    /// Replay windows per sending instance: (sender, incarnation, salt).
    windows: BTreeMap<(u32, u64, u64), Window>,
    /// The current instance (incarnation, salt) of every member heard from.
    latest: BTreeMap<u32, (u64, u64)>,
    /// Operator tool instances (incarnation, salt), oldest first.
    operators: VecDeque<(u64, u64)>,
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
    /// An envelope for `sender` in `incarnation` (from `new_incarnation`),
    /// with a fresh random salt; `key = None` means insecure (datagrams pass
    /// unauthenticated, still framed).
    ///
    /// # Panics
    /// If the operating system has no randomness to give.
    pub fn new(key: Option<&Key>, encrypt: bool, sender: u32, incarnation: u64) -> Envelope {
        let mut salt = [0u8; 8];
        getrandom::getrandom(&mut salt).expect("the operating system provides randomness");
        Envelope {
            ciphers: key.map(|k| (k.fingerprint(), cipher(k))).into_iter().collect(),
            accepting: key.map(Key::fingerprint).into_iter().collect(),
            secure: key.is_some(),
            encrypt: encrypt && key.is_some(),
            sender,
            incarnation,
            salt: u64::from_le_bytes(salt),
            counter: 0,
            windows: BTreeMap::new(),
            latest: BTreeMap::new(),
            operators: VecDeque::new(),
        }
    }

    /// Loads `key` (not yet accepted); returns its fingerprint.
    pub fn add_key(&mut self, key: &Key) -> u64 {
        let fp = key.fingerprint();
        if !self.has_key(fp) {
            self.ciphers.push((fp, cipher(key)));
        }
        fp
    }

    /// Whether the key of fingerprint `fp` is loaded.
    pub fn has_key(&self, fp: u64) -> bool {
        self.ciphers.iter().any(|(k, _)| *k == fp)
    }

    /// The fingerprints of the keys datagrams are opened under.
    pub fn accepting(&self) -> &[u64] {
        &self.accepting
    }

    /// Whether datagrams under the key of fingerprint `fp` are opened.
    pub fn accepts(&self, fp: u64) -> bool {
        self.accepting.contains(&fp)
    }

    /// Opens datagrams under the loaded keys of these fingerprints only, and
    /// forgets every other key; keys not loaded are left out (none loaded:
    /// every datagram is refused, none sealed). An insecure envelope ignores
    /// it.
    pub fn set_accepting(&mut self, fps: &[u64]) {
        if !self.secure {
            return;
        }
        self.accepting = fps.iter().copied().filter(|&fp| self.has_key(fp)).collect();
        let accepting = &self.accepting;
        self.ciphers.retain(|(fp, _)| accepting.contains(fp));
    }

    /// Seals `body` into `out` (cleared first) under the first accepted key
    /// (an envelope made with one key: that key).
    pub fn seal(&mut self, body: &[u8], out: &mut Vec<u8>) {
        self.seal_under(0, body, out);
    }

    /// Seals `body` into `out` (cleared first) under the key of fingerprint
    /// `key`, or the first accepted one when that key is not loaded; `out`
    /// stays empty when a secure envelope holds no key (nothing to send).
    pub fn seal_under(&mut self, key: u64, body: &[u8], out: &mut Vec<u8>) {
        out.clear();
        if self.secure && self.ciphers.is_empty() {
            return;
        }
        self.counter += 1;
        out.extend_from_slice(b"CA");
        out.push(ENVELOPE_VERSION);
        out.push(if self.encrypt { FLAG_ENCRYPTED } else { 0 });
        out.extend_from_slice(&self.sender.to_le_bytes());
        out.extend_from_slice(&self.incarnation.to_le_bytes());
        out.extend_from_slice(&self.counter.to_le_bytes());
        out.extend_from_slice(&self.salt.to_le_bytes());
        out.extend_from_slice(body);
        let nonce = nonce(self.incarnation, self.counter, self.salt);
        let chosen = self.ciphers.iter().find(|(fp, _)| *fp == key);
        let first = || self.accepting.first().and_then(|&a| self.ciphers.iter().find(|(fp, _)| *fp == a));
        let tag = match chosen.or_else(first).or(self.ciphers.first()).map(|(_, c)| c) {
            None => Tag::default(),
            Some(c) if self.encrypt => {
                let (head, rest) = out.split_at_mut(HEADER);
                c.encrypt_in_place_detached(&nonce, head, rest).expect("datagrams are far below the AEAD size limit")
            }
            Some(c) => c.encrypt_in_place_detached(&nonce, out, &mut []).expect("datagrams are far below the AEAD size limit"),
        };
        out.extend_from_slice(&tag);
    }

    /// Opens a datagram in place under an accepted key: verifies it, rejects
    /// replays, decrypts.
    ///
    /// # Errors
    /// A [`Refusal`]; no replay state changes for a forged datagram, and
    /// its bytes are left as they were.
    pub fn open(&mut self, buf: &mut [u8]) -> Result<Opened, Refusal> {
        self.open_under(buf, false)
    }

    /// As [`Envelope::open`], under one of `keys` instead of the accepted
    /// ones (a member that lacks the cluster's key tries the candidates it
    /// found so); `keys` are not loaded by it.
    ///
    /// # Errors
    /// As [`Envelope::open`].
    pub fn open_with(&mut self, buf: &mut [u8], keys: &[&Key]) -> Result<Opened, Refusal> {
        // No key to try is no key that opens it (not an insecure envelope).
        if keys.is_empty() || !self.secure {
            return Err(Refusal::Forged);
        }
        let loaded = std::mem::replace(&mut self.ciphers, keys.iter().map(|k| (k.fingerprint(), cipher(k))).collect());
        let r = self.open_under(buf, true);
        self.ciphers = loaded;
        r
    }

    /// The sender a datagram claims, before anything is verified.
    pub fn claimed_sender(buf: &[u8]) -> Option<u32> {
        (buf.len() >= OVERHEAD && &buf[0..2] == b"CA").then(|| u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes")))
    }

    fn open_under(&mut self, buf: &mut [u8], any: bool) -> Result<Opened, Refusal> {
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
        let salt = u64::from_le_bytes(buf[24..32].try_into().expect("8 bytes"));
        let end = buf.len() - TAG;
        let mut key = 0;
        if self.secure {
            if encrypted != self.encrypt {
                return Err(Refusal::Forged);
            }
            let tag = *Tag::from_slice(&buf[end..]);
            let n = nonce(inc, counter, salt);
            // The AEAD verifies before it decrypts: a key that fails leaves
            // the bytes as they were for the next.
            let opened = self.ciphers.iter().filter(|(fp, _)| any || self.accepting.contains(fp)).find(|(_, c)| {
                if encrypted {
                    let (head, rest) = buf[..end].split_at_mut(HEADER);
                    c.decrypt_in_place_detached(&n, head, rest, &tag).is_ok()
                } else {
                    c.decrypt_in_place_detached(&n, &buf[..end], &mut [], &tag).is_ok()
                }
            });
            key = opened.ok_or(Refusal::Forged)?.0;
        }
        if !self.fresh(sender, (inc, salt), counter) {
            return Err(Refusal::Replayed);
        }
        Ok(Opened { sender, incarnation: inc, body: HEADER..end, key })
    }

    /// Replay check for an authenticated (sender, instance, counter), where an
    /// instance is an (incarnation, salt) pair.
    fn fresh(&mut self, sender: u32, instance: (u64, u64), counter: u64) -> bool {
        if sender != 0 {
            let known = *self.latest.entry(sender).or_insert(instance);
            if known != instance {
                // A node's lives are ordered by incarnation: a higher one
                // supersedes; another instance of the known one cannot be
                // told from a replay, so the first one heard keeps it.
                if instance.0 <= known.0 {
                    return false;
                }
                self.windows.remove(&(sender, known.0, known.1));
                self.latest.insert(sender, instance);
            }
        } else if !self.operators.contains(&instance) {
            self.operators.push_back(instance);
            if self.operators.len() > MAX_OPERATORS {
                if let Some(old) = self.operators.pop_front() {
                    self.windows.remove(&(0, old.0, old.1));
                }
            }
        }
        self.windows.entry((sender, instance.0, instance.1)).or_default().accept(counter)
    }
}

fn cipher(k: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(AeadKey::from_slice(&k.0))
}

fn nonce(inc: u64, counter: u64, salt: u64) -> XNonce {
    let mut n = [0u8; 24];
    n[0..8].copy_from_slice(&inc.to_le_bytes());
    n[8..16].copy_from_slice(&counter.to_le_bytes());
    n[16..24].copy_from_slice(&salt.to_le_bytes());
    XNonce::from(n)
}

/// A fresh incarnation: the wall clock in µs, or one more than the last
/// incarnation this process handed out if the clock has not moved past it.
///
/// Within a process incarnations therefore strictly grow, even when the
/// clock stands still or steps back; across restarts they grow with the wall
/// clock. Nonces stay unique either way (see the module documentation).
pub fn new_incarnation() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
    next_incarnation(now, &LAST)
}

/// The incarnation to hand out at `now_us` when `last` holds the last one
/// handed out: `now_us`, or one more than the last if the clock has not moved
/// past it. Records it in `last`.
pub(crate) fn next_incarnation(now_us: u64, last: &AtomicU64) -> u64 {
    let prev = last.fetch_update(Ordering::AcqRel, Ordering::Acquire, |l| Some(now_us.max(l + 1))).expect("the update always succeeds");
    now_us.max(prev + 1)
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
            let o = b.open(&mut d).unwrap();
            assert_eq!((o.sender, o.incarnation, &d[o.body], o.key), (1, 100, &b"hello"[..], Key([7; 32]).fingerprint()));
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

    /// The nonce a sealed datagram was sealed under, from its header.
    fn nonce_of(d: &[u8]) -> XNonce {
        let field = |r: std::ops::Range<usize>| u64::from_le_bytes(d[r].try_into().unwrap());
        nonce(field(8..16), field(16..24), field(24..32))
    }

    #[test]
    fn incarnations_grow_even_when_the_clock_stands_still_or_steps_back() {
        let last = AtomicU64::new(0);
        let clock = [1_000, 1_000, 1_000, 999, 5, 2_000, 2_000, 1_500];
        let incs: Vec<u64> = clock.iter().map(|&now| next_incarnation(now, &last)).collect();
        assert_eq!(incs, [1_000, 1_001, 1_002, 1_003, 1_004, 2_000, 2_001, 2_002]);
        assert_eq!(next_incarnation(0, &AtomicU64::new(0)), 1, "0 is never an incarnation");
    }

    #[test]
    fn successive_envelopes_of_one_sender_never_repeat_a_nonce() {
        let k = Key([3; 32]);
        // One process restarting its node under a stuck, then backward, clock ...
        let last = AtomicU64::new(0);
        let mut lives: Vec<Envelope> =
            [500, 500, 400].iter().map(|&now| Envelope::new(Some(&k), true, 1, next_incarnation(now, &last))).collect();
        // ... and two processes whose clocks gave the same incarnation.
        lives.push(Envelope::new(Some(&k), true, 1, 777));
        lives.push(Envelope::new(Some(&k), true, 1, 777));
        let mut seen = std::collections::HashSet::new();
        let mut rx = Envelope::new(Some(&k), true, 9, 1);
        let mut d = Vec::new();
        for life in &mut lives {
            for _ in 0..2_000 {
                life.seal(b"same body", &mut d);
                assert!(seen.insert(nonce_of(&d)), "a nonce repeated");
            }
            // Each one is a well-formed datagram that opens under the key.
            let mut copy = d.clone();
            let mut fresh_rx = Envelope::new(Some(&k), true, 9, 1);
            assert!(fresh_rx.open(&mut copy).is_ok());
        }
        assert_eq!(seen.len(), 10_000);
        // The receiver takes the growing lives in turn and refuses the older ones.
        let mut sealed: Vec<Vec<u8>> = Vec::new();
        for life in &mut lives[..3] {
            life.seal(b"x", &mut d);
            sealed.push(d.clone());
        }
        for (i, dg) in sealed.iter().enumerate() {
            assert!(rx.open(&mut dg.clone()).is_ok(), "life {i} refused");
            if i > 0 {
                assert_eq!(rx.open(&mut sealed[i - 1].clone()), Err(Refusal::Replayed), "life {} accepted after life {i}", i - 1);
            }
        }
    }

    #[test]
    fn a_second_instance_claiming_a_known_incarnation_is_refused() {
        let k = Key([4; 32]);
        let mut rx = Envelope::new(Some(&k), false, 9, 1);
        let (mut first, mut second) = (Envelope::new(Some(&k), false, 1, 50), Envelope::new(Some(&k), false, 1, 50));
        let mut d = Vec::new();
        first.seal(b"a", &mut d);
        assert!(rx.open(&mut d).is_ok());
        second.seal(b"b", &mut d);
        assert_eq!(rx.open(&mut d), Err(Refusal::Replayed));
        first.seal(b"c", &mut d);
        assert!(rx.open(&mut d).is_ok(), "the known instance goes on");
        // Operator tools (node id 0) are told apart by their salts.
        let mut ops = [Envelope::new(Some(&k), false, 0, 60), Envelope::new(Some(&k), false, 0, 60)];
        for i in [0, 1, 0, 1] {
            ops[i].seal(b"q", &mut d);
            assert!(rx.open(&mut d).is_ok(), "operator {i} refused");
        }
    }

    #[test]
    fn an_envelope_opens_under_the_keys_it_accepts_only_and_seals_under_the_one_named() {
        let (k1, k2, k3) = (Key([1; 32]), Key([2; 32]), Key([3; 32]));
        let (f1, f2) = (k1.fingerprint(), k2.fingerprint());
        assert_ne!(f1, f2);
        let mut rx = Envelope::new(Some(&k1), true, 9, 1);
        let mut tx = Envelope::new(Some(&k1), true, 1, 10);
        let mut d = Vec::new();
        // Loaded is not accepted.
        tx.add_key(&k2);
        tx.seal_under(f2, b"new", &mut d);
        assert_eq!(rx.open(&mut d.clone()), Err(Refusal::Forged));
        rx.add_key(&k2);
        assert_eq!(rx.open(&mut d.clone()), Err(Refusal::Forged), "loaded but not accepted");
        rx.set_accepting(&[f1, f2]);
        assert_eq!(rx.open(&mut d).map(|o| o.key), Ok(f2));
        // A key not loaded falls back to the first accepted one.
        tx.seal_under(k3.fingerprint(), b"x", &mut d);
        assert_eq!(rx.open(&mut d).map(|o| o.key), Ok(f1));
        // Retired: forgotten, not kept loaded.
        rx.set_accepting(&[f2]);
        assert!(!rx.has_key(f1));
        tx.seal_under(f1, b"old", &mut d);
        assert_eq!(rx.open(&mut d.clone()), Err(Refusal::Forged));
        // open_with tries the given keys only, and loads none of them.
        assert_eq!(rx.open_with(&mut d.clone(), &[&k3]), Err(Refusal::Forged));
        assert_eq!(rx.open_with(&mut d.clone(), &[]), Err(Refusal::Forged), "no key is not insecure");
        assert_eq!(rx.open_with(&mut d, &[&k3, &k1]).map(|o| o.key), Ok(f1));
        assert!(!rx.has_key(f1));
        // Holding no accepted key, a secure envelope refuses everything and
        // seals nothing: never unauthenticated.
        rx.set_accepting(&[k3.fingerprint()]);
        assert!(!rx.has_key(f2));
        tx.seal_under(f2, b"any", &mut d);
        assert_eq!(rx.open(&mut d), Err(Refusal::Forged));
        rx.seal_under(f2, b"out", &mut d);
        assert!(d.is_empty(), "a keyless secure envelope sealed a datagram");
        // The fingerprint names the key, never 0, and is stable.
        assert_eq!(k1.fingerprint(), Key([1; 32]).fingerprint());
        assert_ne!(k1.fingerprint(), 0);
    }

    #[test]
    fn a_key_file_is_a_regular_file_of_32_bytes() {
        let dir = std::env::temp_dir().join(format!("cgm-key-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.key");
        std::fs::write(&good, [5u8; 32]).unwrap();
        assert_eq!(Key::load(&good), Ok(Key([5; 32])));
        std::fs::write(dir.join("short.key"), [5u8; 8]).unwrap();
        assert!(Key::load(&dir.join("short.key")).unwrap_err().contains("32 bytes, got 8"));
        // A device or a directory is refused before it is opened (reading
        // /dev/zero would never end).
        assert!(Key::load(Path::new("/dev/zero")).unwrap_err().contains("regular file"));
        assert!(Key::load(&dir).unwrap_err().contains("regular file"));
        assert!(Key::load(&dir.join("missing.key")).unwrap_err().contains("missing.key"));
        std::fs::remove_dir_all(&dir).unwrap();
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
