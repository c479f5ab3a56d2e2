//! A node's state directory: the file its member's durable state
//! ([`cgm_core::Durable`]) lives in, read at start and rewritten whenever
//! the core hands out a new one ([`cgm_core::Core::poll_persist`]).
//!
//! The file holds two slots of equal size, and writes alternate between
//! them: write `n` goes to slot `n % 2`, in place (one `pwrite`), then the
//! file's data is synced (one `fdatasync`). The file's size and blocks never
//! change between writes, so the sync flushes the data alone: no new file,
//! no rename, no directory sync (the cost of a write is one device flush).
//! Each slot carries its write number and a CRC-32 of that number and the
//! state record (itself checksummed, see `cgm-core`'s `durable.rs`).
//!
//! At start the newest slot that reads back is taken. A crash in the middle
//! of a write can only tear the slot being written, whose state was never
//! synced, so nothing that depends on it left the member: the other slot,
//! whole, is the member's last state, and the start says so in its log. A
//! file with no slot that reads back is refused with an error naming it, and
//! is never replaced. The file is created, and replaced by one with larger
//! slots when a state outgrows them (rare: slots leave room for twice the
//! state), atomically and durably by the `atomic-write-file` crate. A file
//! of the earlier layout (one state record alone) is read, and replaced by
//! the slotted layout at the first write.

use crate::config::ConfigError;
use cgm_core::{Durable, StateError, STATE_MAGIC};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The bytes that open every written slot.
const SLOT_MAGIC: [u8; 8] = *b"CGMSLOTS";
/// A slot's header: magic, write number `u64` LE, record length `u32` LE,
/// CRC-32 of the write number's bytes and the record `u32` LE.
const SLOT_HEADER: usize = 8 + 8 + 4 + 4;
/// Slot sizes are multiples of this (a file system block).
const SLOT_ALIGN: usize = 4_096;

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "state";

/// The cluster key a node's state directory says is in force, when it is
/// not `configured` (the node's `key_file`) and its file is at hand: what an
/// operator tool reading that node's configuration seals under after a key
/// rotation. `None` when the state says `configured` is in force, or holds
/// no state, or the key's file is missing.
pub fn active_key(dir: &Path, configured: Option<&crate::Key>) -> Option<crate::Key> {
    let d = read(&std::fs::read(dir.join(STATE_FILE)).ok()?).ok()?.state;
    let active = d.key();
    if active == 0 || configured.is_some_and(|k| k.fingerprint() == active) {
        return None;
    }
    let (_, path) = d.key_files().iter().find(|(fp, _)| *fp == active)?;
    crate::Key::load(Path::new(path)).ok().filter(|k| k.fingerprint() == active)
}

/// What a state file holds: the newest state that reads back, and where
/// writes go next.
struct Read {
    state: Durable,
    /// The write number of the state read (0 for the earlier layout).
    written: u64,
    /// The slot size, or `None` for a file of the earlier layout.
    slot_size: Option<usize>,
    /// Why the other slot did not read back, when it did not and was written.
    other_damaged: Option<StateError>,
}

/// Reads a state file's bytes, of either layout.
///
/// # Errors
/// A [`StateError`] when no state in it reads back.
fn read(bytes: &[u8]) -> Result<Read, StateError> {
    if bytes.starts_with(&STATE_MAGIC) {
        return Ok(Read { state: Durable::decode(bytes)?, written: 0, slot_size: None, other_damaged: None });
    }
    if bytes.is_empty() || !bytes.len().is_multiple_of(2 * SLOT_ALIGN) {
        return Err(if bytes.len() < SLOT_HEADER { StateError::Truncated(bytes.len()) } else { StateError::BadMagic });
    }
    let size = bytes.len() / 2;
    let slots: Vec<Option<Result<(u64, Durable), StateError>>> = bytes.chunks(size).map(read_slot).collect();
    let newest = slots.iter().flatten().filter_map(|s| s.as_ref().ok()).max_by_key(|(n, _)| *n);
    match newest {
        Some((written, state)) => {
            let other_damaged = slots.iter().flatten().find_map(|s| s.as_ref().err().cloned());
            Ok(Read { state: state.clone(), written: *written, slot_size: Some(size), other_damaged })
        }
        None => Err(slots.into_iter().flatten().find_map(Result::err).unwrap_or(StateError::BadMagic)),
    }
}

/// Reads one slot: `None` if it was never written (all zeros).
fn read_slot(slot: &[u8]) -> Option<Result<(u64, Durable), StateError>> {
    if slot.iter().all(|&b| b == 0) {
        return None;
    }
    Some((|| {
        if slot[..8] != SLOT_MAGIC {
            return Err(StateError::BadMagic);
        }
        let written = u64::from_le_bytes(slot[8..16].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(slot[16..20].try_into().expect("4 bytes")) as usize;
        let sum = u32::from_le_bytes(slot[20..24].try_into().expect("4 bytes"));
        let record = slot.get(SLOT_HEADER..SLOT_HEADER + len).ok_or(StateError::Truncated(slot.len()))?;
        if slot_sum(written, record) != sum {
            return Err(StateError::Checksum);
        }
        Ok((written, Durable::decode(record)?))
    })())
}

/// The CRC-32 a slot carries: of its write number's bytes, then its record.
fn slot_sum(written: u64, record: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&written.to_le_bytes());
    crc.update(record);
    crc.finalize()
}

/// A slot holding `record` as write number `written`.
fn slot(written: u64, record: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(SLOT_HEADER + record.len());
    out.extend_from_slice(&SLOT_MAGIC);
    out.extend_from_slice(&written.to_le_bytes());
    out.extend_from_slice(&(record.len() as u32).to_le_bytes());
    out.extend_from_slice(&slot_sum(written, record).to_le_bytes());
    out.extend_from_slice(record);
    out
}

/// An open state directory.
#[derive(Debug)]
pub(crate) struct StateDir {
    file: PathBuf,
    /// The slotted file open for writing, and its slot size; `None` until
    /// the first write creates it (no file yet, or the earlier layout).
    open: Option<(File, usize)>,
    /// The number of the next write (its slot: `next % 2`).
    next: u64,
}

impl StateDir {
    /// Opens `dir` (creating it, mode 0700, if missing) and reads the state
    /// it holds, if any.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the directory or the file when the directory
    /// cannot be created, or the state file cannot be read or opened, or no
    /// state in it reads back (torn, corrupt, of a newer format, not a state
    /// file).
    pub(crate) fn open(dir: &Path) -> Result<(StateDir, Option<Durable>), ConfigError> {
        let refuse =
            |file: &Path, message: String| ConfigError { file: Some(file.to_path_buf()), line: None, field: "state_dir".into(), message };
        create_private_dir(dir).map_err(|e| refuse(dir, format!("cannot create the state directory: {e}")))?;
        let file = dir.join(STATE_FILE);
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((StateDir { file, open: None, next: 1 }, None)),
            Err(e) => return Err(refuse(&file, format!("cannot read the state file: {e}"))),
        };
        let got = read(&bytes).map_err(|e| {
            refuse(
                &file,
                format!(
                    "the state file is unusable ({e}); it is left as it is. Restore it from a backup, or move it \
                     away to make this node rejoin as a new member that learns the committed state from the others"
                ),
            )
        })?;
        if let Some(e) = &got.other_damaged {
            log::warn!(
                "node {}: one slot of the state file {} does not read back ({e}): a write cut short by a crash; \
                 starting from the other, write {}",
                got.state.node(),
                file.display(),
                got.written
            );
        }
        let open = match got.slot_size {
            Some(size) => {
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&file)
                    .map_err(|e| refuse(&file, format!("cannot open the state file for writing: {e}")))?;
                Some((f, size))
            }
            None => None,
        };
        Ok((StateDir { file, open, next: got.written + 1 }, Some(got.state)))
    }

    /// The state file's path.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Makes `state` the file's state, durably: in the next slot, synced;
    /// or, for the first write or a state that outgrew the slots, by
    /// replacing the file atomically.
    ///
    /// # Errors
    /// The I/O error; the last state written is then still in the file.
    pub(crate) fn write(&mut self, state: &Durable) -> std::io::Result<()> {
        let written = self.next;
        let bytes = slot(written, &state.encode());
        let at = (written % 2) as usize;
        match &self.open {
            Some((f, size)) if bytes.len() <= *size => {
                f.write_all_at(&bytes, (at * size) as u64)?;
                f.sync_data()?;
            }
            _ => {
                // The handle's file is replaced: whatever fails from here,
                // no later write may go to it.
                self.open = None;
                let size = (2 * bytes.len()).next_multiple_of(SLOT_ALIGN);
                let mut file = vec![0u8; 2 * size];
                file[at * size..at * size + bytes.len()].copy_from_slice(&bytes);
                let mut f = atomic_write_file::AtomicWriteFile::options().open(&self.file)?;
                f.write_all(&file)?;
                f.commit()?;
                self.open = Some((std::fs::OpenOptions::new().read(true).write(true).open(&self.file)?, size));
            }
        }
        self.next += 1;
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cgm_core::{Config, Core, Time};

    /// A state of node 1 at incarnation `inc`, with `pad` bytes of node addresses.
    fn state(inc: u64, pad: usize) -> Durable {
        let mut cfg = Config::new(1, inc, vec![1, 2]);
        cfg.durable = true;
        cfg.addresses.insert(2, format!("{}:7400", "h".repeat(pad)));
        Core::new(cfg, Time(0)).unwrap().poll_persist().unwrap()
    }

    fn file_of(dir: &Path) -> Vec<u8> {
        std::fs::read(dir.join(STATE_FILE)).unwrap()
    }

    #[test]
    fn writes_alternate_in_place_and_the_newest_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sd, none) = StateDir::open(dir.path()).unwrap();
        assert!(none.is_none());
        for inc in 1..=5 {
            sd.write(&state(inc, 0)).unwrap();
            assert_eq!(file_of(dir.path()).len(), 2 * SLOT_ALIGN, "the file keeps its size");
            let (_, got) = StateDir::open(dir.path()).unwrap();
            assert_eq!(got.unwrap().incarnation(), inc);
        }
        // Reopened, the next write goes to the older slot.
        let (mut sd, _) = StateDir::open(dir.path()).unwrap();
        sd.write(&state(6, 0)).unwrap();
        let got = read(&file_of(dir.path())).unwrap();
        assert_eq!((got.written, got.state.incarnation(), got.other_damaged), (6, 6, None));
    }

    #[test]
    fn a_slot_cut_short_leaves_the_other_and_a_file_with_no_whole_slot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sd, _) = StateDir::open(dir.path()).unwrap();
        for inc in 1..=4 {
            sd.write(&state(inc, 0)).unwrap();
        }
        let whole = file_of(dir.path());
        let record = SLOT_HEADER + state(4, 0).encode().len();
        // Write 4 (slot 0) torn at every length, or with any bit flipped:
        // write 3 (slot 1) is read, and the damage named.
        for n in 0..record {
            let mut torn = whole.clone();
            torn[n..record].iter_mut().for_each(|b| *b = 0xAA);
            let got = read(&torn).unwrap_or_else(|e| panic!("torn at {n}: {e}"));
            assert_eq!(got.state.incarnation(), 3, "torn at {n}");
            assert!(got.other_damaged.is_some(), "torn at {n}");
            for bit in 0..8 {
                let mut flipped = whole.clone();
                flipped[n] ^= 1 << bit;
                assert_eq!(read(&flipped).unwrap().state.incarnation(), 3, "bit {bit} of byte {n}");
            }
        }
        // Both slots damaged: refused, naming the checksum.
        let mut both = whole.clone();
        both[SLOT_HEADER + 5] ^= 1;
        both[SLOT_ALIGN + SLOT_HEADER + 5] ^= 1;
        std::fs::write(dir.path().join(STATE_FILE), &both).unwrap();
        let e = StateDir::open(dir.path()).unwrap_err();
        assert!(e.to_string().contains("checksum mismatch"), "{e}");
        assert_eq!(file_of(dir.path()), both, "a refused file is left as it is");
        for bad in [&b"not a state file"[..], &[], &vec![7u8; 2 * SLOT_ALIGN]] {
            std::fs::write(dir.path().join(STATE_FILE), bad).unwrap();
            assert!(StateDir::open(dir.path()).is_err(), "{} bytes read as a state", bad.len());
        }
    }

    #[test]
    fn a_file_of_the_earlier_layout_reads_and_the_first_write_makes_it_slotted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), state(2, 0).encode()).unwrap();
        let (mut sd, got) = StateDir::open(dir.path()).unwrap();
        assert_eq!(got.unwrap().incarnation(), 2);
        sd.write(&state(3, 0)).unwrap();
        assert_eq!(read(&file_of(dir.path())).unwrap().slot_size, Some(SLOT_ALIGN));
        assert_eq!(StateDir::open(dir.path()).unwrap().1.unwrap().incarnation(), 3);
    }

    #[test]
    fn a_state_that_outgrows_its_slots_gets_larger_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (mut sd, _) = StateDir::open(dir.path()).unwrap();
        sd.write(&state(1, 0)).unwrap();
        sd.write(&state(2, 10_000)).unwrap();
        let got = read(&file_of(dir.path())).unwrap();
        assert_eq!(got.state.incarnation(), 2);
        assert!(got.slot_size.unwrap() >= 2 * 10_000);
        sd.write(&state(3, 0)).unwrap();
        assert_eq!(StateDir::open(dir.path()).unwrap().1.unwrap().incarnation(), 3);
    }
}
