//! The versioned binary wire codec.
//!
//! Every datagram is a fixed 28-byte [`Header`] followed by a postcard-encoded
//! [`Frame`]. Reliable payloads (inside [`Frame::Data`]) are postcard-encoded
//! [`Msg`]s, possibly split over several fragments. Decoding never panics:
//! malformed input is a [`WireError`] value, and a frame of another protocol
//! version is refused before its body is read.

use crate::ids::{Incarnation, NodeId};
use crate::messages::{Frame, Msg};
use crate::status::Status;
use serde::Serialize;

/// The two magic bytes that open every libcgm datagram.
pub const MAGIC: [u8; 2] = *b"CG";
/// The newest wire protocol version this build speaks (3: status replies
/// carry the JSON schema of [`crate::schema`]; 4: a view change report says
/// whether its member keeps durable state; 5: key rotations, and the key's
/// fingerprint among the committed values; 6: node changes, and the node
/// set among the committed values). The feature `wire-next` makes a test
/// build of the next version, 7, whose format is 6's, to show a rolling
/// upgrade (`tests/upgrade/run.sh`).
#[cfg(not(feature = "wire-next"))]
pub const WIRE_VERSION: u8 = 6;
/// The newest wire protocol version this build speaks (the `wire-next` test build).
#[cfg(feature = "wire-next")]
pub const WIRE_VERSION: u8 = 7;
/// The oldest wire protocol version this build speaks. It decodes and
/// encodes every version from this one to [`WIRE_VERSION`], so it forms one
/// group with a build of any version in that range (a rolling upgrade):
/// each datagram says in its header the version it is encoded in and the
/// newest its sender speaks, and a member sends each peer the newest
/// version both speak (this one until it has heard from the peer). A build
/// that changes the format keeps an encoder for each version in its range.
pub const MIN_WIRE_VERSION: u8 = 6;
/// Length of the fixed header in bytes.
pub const HEADER_LEN: usize = 28;
/// Largest reassembled message accepted from a peer, in bytes.
pub const MAX_MESSAGE_LEN: usize = 4 << 20;

/// The fixed header of every datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Sending node.
    pub from: NodeId,
    /// Sending node's incarnation.
    pub from_inc: Incarnation,
    /// Receiving node (0 for an operator tool).
    pub to: NodeId,
    /// Receiving node's incarnation as the sender knows it (0 if unknown).
    pub to_inc: Incarnation,
}

/// Why a datagram or message could not be decoded. The input is dropped and counted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than the fixed header.
    #[error("datagram of {0} bytes is shorter than the {HEADER_LEN}-byte header")]
    Truncated(usize),
    /// Not a libcgm datagram.
    #[error("bad magic bytes")]
    BadMagic,
    /// A libcgm datagram of another protocol version.
    #[error("wire version {0} is not supported (this build speaks versions {MIN_WIRE_VERSION} to {WIRE_VERSION}): upgrade the older of the two nodes")]
    Version(u8),
    /// The body does not decode.
    #[error("malformed body: {0}")]
    Malformed(String),
}

/// Encodes a datagram into `out` (cleared first) in the newest version.
pub fn encode_frame(h: &Header, frame: &Frame, out: &mut Vec<u8>) {
    encode_frame_at(h, frame, WIRE_VERSION, out);
}

/// Encodes a datagram into `out` (cleared first) in wire `version`, one of
/// [`MIN_WIRE_VERSION`]..=[`WIRE_VERSION`] (every one of them has this
/// format today). The header's fourth byte says the newest version this
/// build speaks (builds before 7 wrote 0 there and never read it).
pub fn encode_frame_at(h: &Header, frame: &Frame, version: u8, out: &mut Vec<u8>) {
    debug_assert!((MIN_WIRE_VERSION..=WIRE_VERSION).contains(&version), "wire version {version} is not spoken here");
    out.clear();
    // Sized once: growing from empty took four or five allocations a datagram.
    out.reserve_exact(HEADER_LEN + encoded_len(frame));
    out.extend_from_slice(&MAGIC);
    out.push(version);
    out.push(WIRE_VERSION);
    out.extend_from_slice(&h.from.to_le_bytes());
    out.extend_from_slice(&h.from_inc.to_le_bytes());
    out.extend_from_slice(&h.to.to_le_bytes());
    out.extend_from_slice(&h.to_inc.to_le_bytes());
    // Encoding into a Vec cannot fail for these types.
    let body = postcard::to_extend(frame, std::mem::take(out)).expect("postcard encoding into a Vec is infallible");
    *out = body;
}

/// Reads only the header, checking magic and version.
///
/// # Errors
/// [`WireError::Truncated`], [`WireError::BadMagic`] or [`WireError::Version`].
pub fn decode_header(buf: &[u8]) -> Result<Header, WireError> {
    if buf.len() < HEADER_LEN {
        return Err(WireError::Truncated(buf.len()));
    }
    if buf[0..2] != MAGIC {
        return Err(WireError::BadMagic);
    }
    if !(MIN_WIRE_VERSION..=WIRE_VERSION).contains(&buf[2]) {
        return Err(WireError::Version(buf[2]));
    }
    let u32_at = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(buf[i..i + 8].try_into().expect("8 bytes"));
    Ok(Header { from: u32_at(4), from_inc: u64_at(8), to: u32_at(16), to_inc: u64_at(20) })
}

/// The newest wire version the sender of a datagram speaks: its header's
/// fourth byte, or (a sender before version 7, which wrote 0 there) the
/// version the datagram is in. `None` if it is shorter than a header.
pub fn sender_speaks(buf: &[u8]) -> Option<u8> {
    (buf.len() >= HEADER_LEN).then(|| if buf[3] == 0 { buf[2] } else { buf[3] })
}

/// Decodes a whole datagram.
///
/// # Errors
/// Any [`WireError`]; trailing bytes after the body are malformed too.
pub fn decode_frame(buf: &[u8]) -> Result<(Header, Frame), WireError> {
    let h = decode_header(buf)?;
    let (frame, rest) = postcard::take_from_bytes::<Frame>(&buf[HEADER_LEN..]).map_err(|e| WireError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::Malformed(format!("{} trailing bytes", rest.len())));
    }
    Ok((h, frame))
}

/// Encodes a reliable message.
pub fn encode_msg(m: &Msg) -> Vec<u8> {
    postcard::to_extend(m, Vec::with_capacity(encoded_len(m))).expect("postcard encoding into a Vec is infallible")
}

/// The length of a body's encoding, found without writing it.
fn encoded_len(body: &impl Serialize) -> usize {
    postcard::serialize_with_flavor(body, postcard::ser_flavors::Size::default()).expect("postcard can size any of these types")
}

/// Decodes a reliable message.
///
/// # Errors
/// [`WireError::Malformed`].
pub fn decode_msg(buf: &[u8]) -> Result<Msg, WireError> {
    postcard::from_bytes(buf).map_err(|e| WireError::Malformed(e.to_string()))
}

/// Encodes a status snapshot for a [`Frame::StatusReply`]: the public JSON
/// schema ([`crate::schema`]), self-describing, so a reader of another
/// library version reads what it knows and skips the rest.
pub fn encode_status(s: &Status) -> Vec<u8> {
    serde_json::to_vec(&crate::status_doc::StatusDoc::of(s)).expect("a status serialises")
}

/// Decodes a status snapshot.
///
/// # Errors
/// [`WireError::Malformed`]: not JSON, or not a schema-1 status.
pub fn decode_status(buf: &[u8]) -> Result<Status, WireError> {
    let doc: crate::status_doc::StatusDoc = serde_json::from_slice(buf).map_err(|e| WireError::Malformed(format!("status reply: {e}")))?;
    doc.status().map_err(|e| WireError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn forged_heartbeat_values_do_not_decode() {
        let p = Params::default();
        let good = Frame::Heartbeat { view: ViewId::default(), counter: 1, in_force: HeartbeatValues::of(&p), change: None };
        let mut buf = Vec::new();
        encode_frame(&hdr(), &good, &mut buf);
        assert!(decode_frame(&buf).is_ok());
        for forged in [
            HeartbeatValues { interval: 0, ..HeartbeatValues::of(&p) },
            HeartbeatValues { interval: 5_000, timeout: 3_000, ..HeartbeatValues::of(&p) },
        ] {
            let f = Frame::Heartbeat { view: ViewId::default(), counter: 1, in_force: forged, change: None };
            encode_frame(&hdr(), &f, &mut buf);
            assert!(matches!(decode_frame(&buf), Err(WireError::Malformed(_))), "{forged:?} decoded");
        }
    }

    use super::*;
    use crate::ids::*;
    use crate::messages::*;
    use crate::params::Params;
    use proptest::prelude::*;
    use serde_bytes::ByteBuf;

    fn hdr() -> Header {
        Header { from: 3, from_inc: 77, to: 9, to_inc: 5 }
    }

    #[test]
    fn frames_round_trip() {
        let frames = vec![
            Frame::Data { session: 1, seq: 9, ack: AckInfo { session: 1, cum: 4, sack: 3 }, chunk: ByteBuf::from(vec![1, 2, 3]) },
            Frame::Ack(AckInfo { session: 2, cum: 1, sack: 0 }),
            Frame::Heartbeat {
                view: ViewId { epoch: 2, leader: 1 },
                counter: 8,
                in_force: HeartbeatValues::of(&Params::default()),
                change: Some(ChangeRequest { generation: 3, values: HeartbeatValues::of(&Params::default()) }),
            },
            Frame::HeartbeatAck { counter: 8, change: Some((3, true)) },
            Frame::StatusQuery { req: 42 },
            Frame::NotMember { node: 9, generation: 12, nodes: vec![1, 2, 3] },
        ];
        let mut buf = Vec::new();
        for f in frames {
            encode_frame(&hdr(), &f, &mut buf);
            assert_eq!(decode_frame(&buf).unwrap(), (hdr(), f));
        }
    }

    #[test]
    fn every_version_in_range_decodes_and_says_what_its_sender_speaks() {
        let mut buf = Vec::new();
        for v in MIN_WIRE_VERSION..=WIRE_VERSION {
            encode_frame_at(&hdr(), &Frame::StatusQuery { req: 1 }, v, &mut buf);
            assert_eq!(decode_frame(&buf).unwrap(), (hdr(), Frame::StatusQuery { req: 1 }));
            assert_eq!((buf[2], sender_speaks(&buf)), (v, Some(WIRE_VERSION)));
        }
        // A build before version 7 wrote 0 in the fourth byte: it speaks the version it sent.
        buf[3] = 0;
        assert_eq!(sender_speaks(&buf), Some(buf[2]));
        assert_eq!(sender_speaks(&buf[..HEADER_LEN - 1]), None);
    }

    #[test]
    fn other_versions_and_garbage_are_refused() {
        let mut buf = Vec::new();
        encode_frame(&hdr(), &Frame::StatusQuery { req: 1 }, &mut buf);
        for other in [MIN_WIRE_VERSION - 1, WIRE_VERSION + 1] {
            let mut v = buf.clone();
            v[2] = other;
            assert_eq!(decode_frame(&v), Err(WireError::Version(other)));
        }
        assert_eq!(decode_frame(&buf[..10]), Err(WireError::Truncated(10)));
        let mut trailing = buf.clone();
        trailing.push(0);
        assert!(matches!(decode_frame(&trailing), Err(WireError::Malformed(_))));
    }

    proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_frame(&bytes);
            let _ = decode_msg(&bytes);
            let _ = decode_status(&bytes);
        }

        #[test]
        fn decoding_mutated_frames_never_panics(flip in 0usize..64, bit in 0u8..8) {
            let mut buf = Vec::new();
            encode_frame(&hdr(), &Frame::Data { session: 1, seq: 1, ack: AckInfo::default(), chunk: ByteBuf::from(vec![7; 20]) }, &mut buf);
            let i = flip % buf.len();
            buf[i] ^= 1 << bit;
            let _ = decode_frame(&buf);
        }
    }
}
