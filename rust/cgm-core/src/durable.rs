//! What a member keeps on stable storage ([`Durable`]), its file format, and
//! the rule for when it must be written.
//!
//! A member whose host persists state (`Config::durable`) survives a restart
//! as the same member with a new incarnation that lost only what it had not
//! yet made known to anyone: the protocol it was running, its queues, its
//! channels. It keeps everything another member or its host may have relied
//! on:
//! - its promise to a view change leader (so it never reports to a lower one);
//! - the views with quorum it accepted and the last one it installed, with
//!   their members (the lineage the quorum rule needs);
//! - the highest protocol it decided, that outcome, the committed parameters
//!   and generation, and the fates of decided proposals whose proposers may
//!   not know them yet.
//!
//! The rule that makes this enough: the core hands out no datagram and no
//! event while its durable state differs from the last one the host
//! persisted ([`crate::Core::poll_persist`]). A promise is thus on disk before
//! the report that makes it, an acceptance before `Accepted`, a decision
//! before the `Done` mark that lets any member report it. A member reports an
//! outcome only once every member of its view marked it decided, so a
//! reported outcome is on every member's disk, and any group that resumes the
//! lineage (a majority of its last view with quorum) holds it.
//!
//! File layout: `"CGMSTATE"` | format `u16` LE | payload length `u32` LE |
//! CRC-32 of the payload `u32` LE | payload (postcard). Any mismatch is a
//! [`StateError`]; nothing is ever guessed from a damaged file.

use crate::ids::{Incarnation, Member, NodeId, Outcome, ViewId};
use crate::messages::{Decided, NewView};
use crate::params::Params;
use serde::{Deserialize, Serialize};

/// The bytes that open every state file.
pub const STATE_MAGIC: [u8; 8] = *b"CGMSTATE";
/// The state file format this build writes and reads.
pub const STATE_FORMAT: u16 = 3;
const HEADER: usize = 8 + 2 + 4 + 4;

/// A member's durable state: what it must still know after a crash. Written
/// by the host whenever [`crate::Core::poll_persist`] hands one out; read
/// back with [`Durable::decode`] and given to [`crate::Core::restore`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durable {
    pub(crate) node: NodeId,
    /// The incarnation of the life that wrote it (the next must be higher).
    pub(crate) incarnation: Incarnation,
    pub(crate) promised: ViewId,
    pub(crate) primary: ViewId,
    pub(crate) primary_members: Vec<Member>,
    pub(crate) accepted: Vec<NewView>,
    pub(crate) completed: u64,
    pub(crate) last_outcome: Option<Outcome>,
    pub(crate) next_round: u64,
    /// The committed parameters and generation as of `completed`: a
    /// decision not yet reported may be in them, which the lineage may still
    /// supersede, so they go to view change reports only.
    pub(crate) params: Params,
    pub(crate) generation: u64,
    /// The values and generation the host was last told (final): a
    /// restarted member runs these until a view with quorum hands it the
    /// lineage's.
    pub(crate) told: (u64, Params),
    /// The highest generation the host was told: no group of this cluster
    /// can have a lower one.
    pub(crate) reported_generation: u64,
    /// Decided proposals whose proposers may not know their fate yet (the
    /// fates table): a proposer cut off while every member that decided its
    /// proposal restarted must still learn it, not run it again.
    pub(crate) fates: Vec<Decided>,
    /// The key files it loaded for key rotations, by fingerprint: the
    /// active key once rotated, and a rotation's new key from its first
    /// round until it is decided (the group may send under it by then).
    pub(crate) keys: Vec<(u64, String)>,
    /// The keys the cluster rotated away from, newest last.
    pub(crate) retired: Vec<u64>,
}

/// Why a state file cannot be used. The file is left as it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Shorter than its header or than the payload length it announces (a torn write).
    #[error("truncated: {0} bytes, shorter than its header or announced length")]
    Truncated(usize),
    /// Not a libcgm state file.
    #[error("not a libcgm state file (bad magic bytes)")]
    BadMagic,
    /// A state file of a format this build does not read.
    #[error("state format {0} is not supported (this build reads format {STATE_FORMAT})")]
    Format(u16),
    /// The payload does not match its checksum (corruption).
    #[error("checksum mismatch: the file is corrupt")]
    Checksum,
    /// The payload does not decode, or belongs to another node.
    #[error("unreadable state: {0}")]
    Invalid(String),
}

impl Durable {
    /// The node this state belongs to.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The incarnation of the life that wrote it; a restarted node must use a higher one.
    pub fn incarnation(&self) -> Incarnation {
        self.incarnation
    }

    /// The parameters a restarted member starts with: the last committed
    /// values its host was told.
    pub fn params(&self) -> &Params {
        &self.told.1
    }

    /// Their generation.
    pub fn generation(&self) -> u64 {
        self.told.0
    }

    /// The fingerprint of the key its host last ran under (the active key).
    pub fn key(&self) -> u64 {
        self.told.1.key()
    }

    /// The key files it loaded for key rotations, by fingerprint: a restarted
    /// member loads them again (the active key may be one of them).
    pub fn key_files(&self) -> &[(u64, String)] {
        &self.keys
    }

    /// The highest protocol sequence decided.
    pub fn completed(&self) -> u64 {
        self.completed
    }

    /// The last view with quorum installed or accepted (the lineage), and its members.
    pub fn lineage(&self) -> (ViewId, &[Member]) {
        match self.accepted.last() {
            Some(nv) => (nv.vid, &nv.members),
            None => (self.primary, &self.primary_members),
        }
    }

    /// The state file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let payload = postcard::to_allocvec(self).expect("a state always encodes");
        let mut out = Vec::with_capacity(HEADER + payload.len());
        out.extend_from_slice(&STATE_MAGIC);
        out.extend_from_slice(&STATE_FORMAT.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Reads a state file's bytes.
    ///
    /// # Errors
    /// A [`StateError`] for a truncated, foreign, newer-format, corrupt or
    /// undecodable file.
    pub fn decode(bytes: &[u8]) -> Result<Durable, StateError> {
        if bytes.len() < HEADER {
            return Err(StateError::Truncated(bytes.len()));
        }
        if bytes[..8] != STATE_MAGIC {
            return Err(StateError::BadMagic);
        }
        let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let format = u16::from_le_bytes([bytes[8], bytes[9]]);
        if format != STATE_FORMAT {
            return Err(StateError::Format(format));
        }
        let (len, sum) = (word(10) as usize, word(14));
        let payload = &bytes[HEADER..];
        if payload.len() != len {
            return Err(StateError::Truncated(bytes.len()));
        }
        if crc32fast::hash(payload) != sum {
            return Err(StateError::Checksum);
        }
        postcard::from_bytes(payload).map_err(|e| StateError::Invalid(e.to_string()))
    }
}

/// The parts of a member's durable state that change, compared after every
/// input to tell whether the state must be written again. The rest of
/// [`Durable`] only changes along with one of these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) promised: ViewId,
    pub(crate) primary: ViewId,
    pub(crate) accepted: (usize, Option<ViewId>),
    pub(crate) completed: u64,
    pub(crate) params: Params,
    pub(crate) generation: u64,
    pub(crate) told: Option<(u64, Params)>,
    pub(crate) reported_generation: u64,
    pub(crate) keys: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Durable {
        Durable {
            node: 3,
            incarnation: 7,
            promised: ViewId { epoch: 4, leader: 1 },
            primary: ViewId { epoch: 4, leader: 1 },
            primary_members: vec![Member { id: 1, inc: 5 }, Member { id: 3, inc: 7 }],
            accepted: Vec::new(),
            completed: 12,
            last_outcome: None,
            next_round: 30,
            params: Params::default(),
            generation: 2,
            told: (2, Params::default()),
            reported_generation: 2,
            fates: Vec::new(),
            keys: vec![(0x1234, "/etc/cgm/new.key".into())],
            retired: vec![0x99],
        }
    }

    #[test]
    fn a_state_reads_back_as_written() {
        let d = sample();
        assert_eq!(Durable::decode(&d.encode()), Ok(d));
    }

    #[test]
    fn every_damaged_file_is_refused_never_guessed() {
        let bytes = sample().encode();
        // Torn at every length.
        for n in 0..bytes.len() {
            assert!(Durable::decode(&bytes[..n]).is_err(), "a file torn at {n} bytes was read");
        }
        // Any one bit flipped anywhere.
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(Durable::decode(&b).is_err(), "a flip of bit {bit} of byte {i} was read");
            }
        }
        let mut other = bytes.clone();
        other[8] = 9;
        assert_eq!(Durable::decode(&other), Err(StateError::Format(9)));
        assert_eq!(Durable::decode(b"not a state file at all"), Err(StateError::BadMagic));
    }
}
