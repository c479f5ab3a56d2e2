//! Status queries on the wire: splitting an answer into parts and collecting
//! them again. Used by members and by operator tools that are not members.

use crate::ids::NodeId;
use crate::messages::Frame;
use crate::status::Status;
use crate::wire::{self, Header, WireError};
use serde_bytes::ByteBuf;

/// Largest number of parts a status answer may have (bounds a collector's memory).
pub const MAX_PARTS: u16 = 1_024;

/// Splits an encoded status into [`Frame::StatusReply`] parts of at most `chunk` bytes.
pub(crate) fn reply_frames(status: &Status, req: u64, chunk: usize) -> Vec<Frame> {
    let bytes = wire::encode_status(status);
    let chunks: Vec<&[u8]> = bytes.chunks(chunk.max(1)).collect();
    let parts = chunks.len().min(MAX_PARTS as usize) as u16;
    chunks
        .iter()
        .take(parts as usize)
        .enumerate()
        .map(|(i, c)| Frame::StatusReply { req, part: i as u16, parts, chunk: ByteBuf::from(c.to_vec()) })
        .collect()
}

/// Encodes a datagram from an operator tool (node id 0, incarnation `inc`) to
/// node `to` at incarnation `to_inc` (0 when not known, as for a status
/// query): a [`Frame::StatusQuery`], [`Frame::ChallengeRequest`] or
/// [`Frame::ChangeRequest`]. It goes in the oldest wire version this build
/// speaks, which every member of a rolling upgrade decodes; the member
/// answers in the newest both speak.
pub fn operator_datagram(to: NodeId, to_inc: u64, inc: u64, frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    wire::encode_frame_at(&Header { from: 0, from_inc: inc, to, to_inc }, frame, wire::MIN_WIRE_VERSION, &mut out);
    out
}

/// Collects the parts of one status answer.
#[derive(Debug, Clone)]
pub struct QueryCollector {
    req: u64,
    parts: Vec<Option<ByteBuf>>,
}

impl QueryCollector {
    /// A collector for request `req`.
    pub fn new(req: u64) -> QueryCollector {
        QueryCollector { req, parts: Vec::new() }
    }

    /// The request id collected.
    pub fn req(&self) -> u64 {
        self.req
    }

    /// Takes in one decoded frame; returns the status once every part arrived.
    ///
    /// Frames of other requests and inconsistent part numbers are ignored.
    ///
    /// # Errors
    /// A complete answer that does not decode.
    pub fn accept(&mut self, frame: Frame) -> Option<Result<Status, WireError>> {
        let Frame::StatusReply { req, part, parts, chunk } = frame else { return None };
        if req != self.req || parts == 0 || parts > MAX_PARTS || part >= parts {
            return None;
        }
        if self.parts.len() != parts as usize {
            self.parts = vec![None; parts as usize];
        }
        self.parts[part as usize] = Some(chunk);
        if self.parts.iter().any(Option::is_none) {
            return None;
        }
        let bytes = self.parts.drain(..).flatten().map(ByteBuf::into_vec).collect::<Vec<_>>().concat();
        Some(wire::decode_status(&bytes))
    }

    /// Takes in one raw datagram (as an operator tool receives it).
    ///
    /// # Errors
    /// As [`QueryCollector::accept`]; undecodable datagrams are ignored.
    pub fn accept_datagram(&mut self, buf: &[u8]) -> Option<Result<Status, WireError>> {
        let (_, frame) = wire::decode_frame(buf).ok()?;
        self.accept(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, Core, Time};

    /// A status split into many parts comes back whole whatever order its
    /// parts arrive in, with a part twice and another request's part between.
    #[test]
    fn an_answer_in_parts_is_collected_in_any_order() {
        let status = Core::new(Config::new(1, 1, vec![1, 2, 3]), Time(0)).expect("valid config").status(Time(5));
        let mut frames = reply_frames(&status, 7, 100);
        assert!(frames.len() > 3, "a status takes several 100-byte parts");
        frames.reverse();
        let again = frames[1].clone();
        frames.insert(2, again);
        frames.insert(1, Frame::StatusReply { req: 8, part: 0, parts: 1, chunk: ByteBuf::from(vec![1, 2, 3]) });
        let mut c = QueryCollector::new(7);
        let last = frames.pop().expect("parts");
        for f in frames {
            assert!(c.accept(f).is_none(), "incomplete until the last part");
        }
        assert_eq!(c.accept(last).expect("complete").expect("decodes"), status);
    }
}
