//! A node's state directory: the file its member's durable state
//! ([`cgm_core::Durable`]) lives in, read at start and rewritten whenever
//! the core hands out a new one ([`cgm_core::Core::poll_persist`]).
//!
//! Every write is atomic and durable (the `atomic-write-file` crate): the
//! new state goes to a temporary file in the same directory, which is
//! synced, renamed over `state`, and the directory synced; a crash at any
//! point leaves the old file or the new one, whole. The file carries a
//! checksum (see `cgm-core`'s `durable.rs`); one that does not read back is
//! refused at start with an error naming it, and is never replaced.

use crate::config::ConfigError;
use cgm_core::Durable;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "state";

/// The cluster key a node's state directory says is in force, when it is
/// not `configured` (the node's `key_file`) and its file is at hand: what an
/// operator tool reading that node's configuration seals under after a key
/// rotation. `None` when the state says `configured` is in force, or holds
/// no state, or the key's file is missing.
pub fn active_key(dir: &Path, configured: Option<&crate::Key>) -> Option<crate::Key> {
    let d = Durable::decode(&std::fs::read(dir.join(STATE_FILE)).ok()?).ok()?;
    let active = d.key();
    if active == 0 || configured.is_some_and(|k| k.fingerprint() == active) {
        return None;
    }
    let (_, path) = d.key_files().iter().find(|(fp, _)| *fp == active)?;
    crate::Key::load(Path::new(path)).ok().filter(|k| k.fingerprint() == active)
}

/// An open state directory.
#[derive(Debug)]
pub(crate) struct StateDir {
    file: PathBuf,
}

impl StateDir {
    /// Opens `dir` (creating it, mode 0700, if missing) and reads the state
    /// it holds, if any.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the directory or the file when the directory
    /// cannot be created, or the state file cannot be read or does not
    /// decode (torn, corrupt, of a newer format, not a state file).
    pub(crate) fn open(dir: &Path) -> Result<(StateDir, Option<Durable>), ConfigError> {
        let refuse =
            |file: &Path, message: String| ConfigError { file: Some(file.to_path_buf()), line: None, field: "state_dir".into(), message };
        create_private_dir(dir).map_err(|e| refuse(dir, format!("cannot create the state directory: {e}")))?;
        let file = dir.join(STATE_FILE);
        let state = match std::fs::read(&file) {
            Ok(bytes) => Some(Durable::decode(&bytes).map_err(|e| {
                refuse(
                    &file,
                    format!(
                        "the state file is unusable ({e}); it is left as it is. Restore it from a backup, or move it \
                         away to make this node rejoin as a new member that learns the committed state from the others"
                    ),
                )
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(refuse(&file, format!("cannot read the state file: {e}"))),
        };
        Ok((StateDir { file }, state))
    }

    /// The state file's path.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Replaces the state file with `state`, atomically and durably.
    ///
    /// # Errors
    /// The I/O error; the old file is then still in place.
    pub(crate) fn write(&self, state: &Durable) -> std::io::Result<()> {
        let mut f = atomic_write_file::AtomicWriteFile::options().open(&self.file)?;
        f.write_all(&state.encode())?;
        f.commit()
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
