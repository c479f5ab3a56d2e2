//! Reliable, ordered messaging to one peer over an unreliable datagram service.
//!
//! A channel is an ordered byte stream of length-prefixed messages, cut into
//! segments of at most `max-fragment-size` bytes on the wire, each with a
//! per-channel sequence number. Everything queued before a segment is cut
//! travels together, so the many small messages of one step share datagrams.
//! At most `send-window-size` segments are in flight; messages beyond wait in
//! a queue bounded by `send-queue-overflow-threshold` messages (a send past it
//! is refused, never dropped). Unacknowledged segments are sent again every
//! `message-retry-timer`; one unacknowledged for `max-message-retry-time` makes
//! the channel give up, and the core suspects the peer. Acknowledgements ride
//! on data going the other way, or go alone after a short delay. The receiver
//! delivers messages in order, exactly once, with bounded memory.

use crate::messages::{AckInfo, Frame};
use crate::time::Time;
use crate::trim::Trim;
use crate::wire::MAX_MESSAGE_LEN;
use serde_bytes::ByteBuf;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// How far beyond the next expected sequence a receiver buffers segments.
const RECV_BUFFER: u64 = 4_096;

#[derive(Debug)]
struct Segment {
    seq: u64,
    bytes: ByteBuf,
    first_sent: Time,
    last_sent: Time,
    acked: bool,
}

/// The values of the messaging parameters a channel obeys, read per call so a
/// committed change takes effect at once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Payload bytes per segment.
    pub(crate) chunk: usize,
    /// Segments in flight at most.
    pub(crate) window: usize,
    /// Queued messages past which a send is refused.
    pub(crate) queue_threshold: usize,
    /// Retransmission period.
    pub(crate) retry: Duration,
    /// Give-up time.
    pub(crate) max_retry: Duration,
}

impl Limits {
    /// Longest an acknowledgement waits for data to ride on: a tenth of the
    /// retry timer (at most 5 ms), so under steady traffic acknowledgements
    /// nearly always ride on data, yet arrive well before the sender retries.
    pub(crate) fn ack_delay(&self) -> Duration {
        (self.retry / 10).min(Duration::from_millis(5))
    }
}

/// What a channel's deadline derives from: its earliest unacknowledged
/// segment's (first send, last send) and when an acknowledgement fell due.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimerKey {
    pub(crate) earliest: Option<(Time, Time)>,
    pub(crate) ack_due: Option<Time>,
}

/// The deadline of `key` under `lim`: a retransmission one retry timer after
/// the last send (or the give-up, max retry time after the first), or a
/// delayed acknowledgement. Monotone in every time of the key, so the earliest
/// deadline of many channels is this of their keys' earliest times taken apart.
pub(crate) fn deadline(key: TimerKey, lim: &Limits) -> Option<Time> {
    let retry = key.earliest.map(|(first, last)| (last + lim.retry).min(first + lim.max_retry));
    let ack = key.ack_due.map(|t| t + lim.ack_delay());
    match (retry, ack) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A send was refused because the queue is over its threshold; nothing was queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backpressure {
    /// Messages queued behind the window.
    pub(crate) queued: usize,
}

/// A segment stayed unacknowledged for the maximum retry time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GaveUp;

/// Counters of one channel.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ChannelStats {
    pub(crate) retransmits: u64,
    pub(crate) duplicates: u64,
    pub(crate) reassembly_errors: u64,
}

/// One direction pair (send and receive) with one peer incarnation.
#[derive(Debug, Default)]
pub(crate) struct Channel {
    /// Send session: grows when the send half restarts (after giving up).
    session: u32,
    recv_session: u32,
    next_seq: u64,
    inflight: VecDeque<Segment>,
    /// Stream bytes not yet cut into segments: `pending[cut..]`. Empty when
    /// all are cut.
    pending: Vec<u8>,
    cut: usize,
    /// End offsets in `pending` of the messages not wholly cut.
    pending_ends: VecDeque<usize>,
    recv_cum: u64,
    ooo: BTreeMap<u64, ByteBuf>,
    /// Received stream bytes not yet parsed into messages.
    stream: Vec<u8>,
    ack_due: Option<Time>,
    /// Earliest (first send, last send) among unacknowledged segments, kept up
    /// to date so the deadline costs nothing to read.
    earliest: Option<(Time, Time)>,
    pub(crate) stats: ChannelStats,
}

impl Channel {
    /// Queues `msg` for sending.
    ///
    /// With `force`, the queue threshold is not applied (protocol control traffic,
    /// whose amount the protocol itself bounds).
    ///
    /// # Errors
    /// [`Backpressure`] when the queue is at or over its threshold; nothing queued.
    pub(crate) fn send(&mut self, msg: &[u8], lim: &Limits, force: bool) -> Result<(), Backpressure> {
        let queued = self.queued();
        if !force && queued >= lim.queue_threshold {
            return Err(Backpressure { queued });
        }
        let mut len = msg.len() as u64;
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                self.pending.push(byte);
                break;
            }
            self.pending.push(byte | 0x80);
        }
        self.pending.extend_from_slice(msg);
        self.pending_ends.push_back(self.pending.len());
        Ok(())
    }

    /// Restarts the send half after giving up: drops what was unacknowledged and
    /// starts a new session, so the peer restarts its receive half too.
    pub(crate) fn restart_send(&mut self) {
        self.session = self.session.max(1) + 1;
        self.next_seq = 0;
        self.inflight.clear();
        self.pending.clear();
        self.cut = 0;
        self.pending_ends.clear();
        self.earliest = None;
    }

    fn update_earliest(&mut self) {
        let mut unacked = self.inflight.iter().filter(|f| !f.acked);
        self.earliest = unacked.next().map(|f| {
            let last = unacked.fold(f.last_sent, |t, g| t.min(g.last_sent));
            (f.first_sent, last)
        });
    }

    /// Messages waiting behind the window (not yet wholly sent once).
    pub(crate) fn queued(&self) -> usize {
        self.pending_ends.len()
    }

    /// Segments sent and not yet acknowledged.
    pub(crate) fn in_flight(&self) -> usize {
        self.inflight.iter().filter(|f| !f.acked).count()
    }

    /// Whether everything sent has been acknowledged.
    pub(crate) fn is_idle(&self) -> bool {
        self.inflight.is_empty() && self.pending.is_empty()
    }

    /// Gives back room a burst left (see [`crate::trim`]).
    pub(crate) fn trim(&mut self) {
        self.inflight.trim();
        self.pending.trim();
        self.pending_ends.trim();
        self.stream.trim();
    }

    /// Takes in the peer's acknowledgement of what we sent.
    pub(crate) fn on_ack(&mut self, ack: AckInfo) {
        if ack.session != self.session.max(1) {
            return;
        }
        while self.inflight.front().is_some_and(|f| f.seq <= ack.cum) {
            self.inflight.pop_front();
        }
        if ack.sack != 0 {
            for f in self.inflight.iter_mut() {
                let d = f.seq.wrapping_sub(ack.cum + 2);
                if d < 64 && ack.sack & (1 << d) != 0 {
                    f.acked = true;
                }
            }
        }
        self.update_earliest();
    }

    /// Cuts and emits new segments while the window has room; an
    /// acknowledgement still due is sent alone once [`Limits::ack_delay`] has passed.
    pub(crate) fn poll_new(&mut self, now: Time, lim: &Limits, mut emit: impl FnMut(Frame)) {
        let session = self.session.max(1);
        let mut cursor = self.cut;
        while cursor < self.pending.len() && self.inflight.len() < lim.window.max(1) {
            let end = (cursor + lim.chunk.max(1)).min(self.pending.len());
            self.next_seq += 1;
            let bytes = ByteBuf::from(self.pending[cursor..end].to_vec());
            cursor = end;
            let ack = self.take_ack();
            emit(Frame::Data { session, seq: self.next_seq, ack, chunk: bytes.clone() });
            self.inflight.push_back(Segment { seq: self.next_seq, bytes, first_sent: now, last_sent: now, acked: false });
            self.earliest.get_or_insert((now, now));
        }
        while self.pending_ends.front().is_some_and(|&e| e <= cursor) {
            self.pending_ends.pop_front();
        }
        // A window that is full leaves most of the queue uncut flush after
        // flush: the cut bytes are dropped once they are half of it, so each
        // byte and offset moves O(1) times, not once per flush.
        if cursor == self.pending.len() {
            self.pending.clear();
            self.cut = 0;
        } else if cursor >= self.pending.len() / 2 {
            self.pending.drain(..cursor);
            for e in self.pending_ends.iter_mut() {
                *e -= cursor;
            }
            self.cut = 0;
        } else {
            self.cut = cursor;
        }
        if self.ack_due.is_some_and(|t| now.saturating_since(t) >= lim.ack_delay()) {
            emit(Frame::Ack(self.take_ack()));
        }
    }

    /// Retransmits what is due; gives up when a segment is older than the maximum retry time.
    ///
    /// # Errors
    /// [`GaveUp`]: the caller suspects the peer and restarts the send half.
    pub(crate) fn on_timeout(&mut self, now: Time, lim: &Limits, mut emit: impl FnMut(Frame)) -> Result<(), GaveUp> {
        let session = self.session.max(1);
        let ack = self.ack_info();
        for f in self.inflight.iter_mut().filter(|f| !f.acked) {
            if now.saturating_since(f.first_sent) >= lim.max_retry {
                return Err(GaveUp);
            }
            if now.saturating_since(f.last_sent) >= lim.retry {
                f.last_sent = now;
                self.stats.retransmits += 1;
                emit(Frame::Data { session, seq: f.seq, ack, chunk: f.bytes.clone() });
                self.ack_due = None;
            }
        }
        self.update_earliest();
        Ok(())
    }

    /// The times this channel's deadline derives from, whatever the limits in force.
    pub(crate) fn timer_key(&self) -> TimerKey {
        TimerKey { earliest: self.earliest, ack_due: self.ack_due }
    }

    /// Takes in one data segment at `now`; calls `deliver` for every message it
    /// completes, in order.
    pub(crate) fn on_data(&mut self, now: Time, session: u32, seq: u64, chunk: ByteBuf, mut deliver: impl FnMut(Vec<u8>)) {
        if session < self.recv_session {
            return;
        }
        if session > self.recv_session {
            self.recv_session = session;
            self.recv_cum = 0;
            self.ooo.clear();
            self.stream.clear();
        }
        self.ack_due.get_or_insert(now);
        if seq <= self.recv_cum || seq > self.recv_cum + RECV_BUFFER || self.ooo.contains_key(&seq) {
            self.stats.duplicates += u64::from(seq <= self.recv_cum || self.ooo.contains_key(&seq));
            return;
        }
        self.ooo.insert(seq, chunk);
        while let Some(chunk) = self.ooo.remove(&(self.recv_cum + 1)) {
            self.recv_cum += 1;
            self.stream.extend_from_slice(&chunk);
        }
        let mut at = 0;
        while let Some((len, header)) = varint(&self.stream[at..]) {
            if len > MAX_MESSAGE_LEN as u64 {
                // Only a forged or corrupted stream gets here: it cannot be resynchronised.
                self.stats.reassembly_errors += 1;
                self.stream.clear();
                return;
            }
            let start = at + header;
            let end = start + len as usize;
            if end > self.stream.len() {
                break;
            }
            deliver(self.stream[start..end].to_vec());
            at = end;
        }
        self.stream.drain(..at);
    }

    /// The acknowledgement to send now; clears the due mark.
    fn take_ack(&mut self) -> AckInfo {
        self.ack_due = None;
        self.ack_info()
    }

    fn ack_info(&self) -> AckInfo {
        let mut sack = 0u64;
        if self.ooo.is_empty() {
            return AckInfo { session: self.recv_session, cum: self.recv_cum, sack };
        }
        for &s in self.ooo.range(self.recv_cum + 2..self.recv_cum + 66).map(|(s, _)| s) {
            sack |= 1 << (s - self.recv_cum - 2);
        }
        AckInfo { session: self.recv_session, cum: self.recv_cum, sack }
    }
}

/// Decodes a LEB128 length prefix: (value, bytes used), or `None` if incomplete.
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    if b.len() >= 10 {
        // Over-long prefix: report an impossible length so the stream is dropped.
        return Some((u64::MAX, 10));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits { chunk: 4, window: 2, queue_threshold: 3, retry: Duration::from_millis(10), max_retry: Duration::from_millis(100) }
    }

    fn frames(ch: &mut Channel, now: Time, l: &Limits) -> Vec<Frame> {
        let mut v = Vec::new();
        ch.poll_new(now, l, |f| v.push(f));
        v
    }

    fn feed(rx: &mut Channel, fs: &[Frame]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for f in fs {
            if let Frame::Data { session, seq, chunk, .. } = f.clone() {
                rx.on_data(Time(0), session, seq, chunk, |m| out.push(m));
            }
        }
        out
    }

    fn acks(fs: &[Frame]) -> Vec<AckInfo> {
        fs.iter().filter_map(|f| if let Frame::Ack(a) = f { Some(*a) } else { None }).collect()
    }

    #[test]
    fn segments_respect_the_window_and_messages_arrive_whole() {
        let (mut tx, mut rx) = (Channel::default(), Channel::default());
        tx.send(b"hello world", &lim(), false).unwrap();
        let first = frames(&mut tx, Time(0), &lim());
        assert_eq!(first.len(), 2, "window of 2 segments");
        assert_eq!(tx.queued(), 1);
        assert!(feed(&mut rx, &first).is_empty());
        let mut out = Vec::new();
        rx.poll_new(Time(1_000), &lim(), |f| out.push(f));
        tx.on_ack(acks(&out)[0]);
        let rest = frames(&mut tx, Time(1), &lim());
        assert_eq!(feed(&mut rx, &rest), vec![b"hello world".to_vec()]);
    }

    #[test]
    fn small_messages_share_segments() {
        let (mut tx, mut rx) = (Channel::default(), Channel::default());
        let l = Limits { chunk: 100, window: 8, ..lim() };
        for m in [&b"a"[..], b"bb", b"ccc"] {
            tx.send(m, &l, false).unwrap();
        }
        let fs = frames(&mut tx, Time(0), &l);
        assert_eq!(fs.len(), 1);
        assert_eq!(feed(&mut rx, &fs), vec![b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()]);
    }

    #[test]
    fn reordered_and_duplicated_segments_deliver_once() {
        let (mut tx, mut rx) = (Channel::default(), Channel::default());
        let l = Limits { window: 8, queue_threshold: 10, ..lim() };
        tx.send(b"abcdefgh", &l, false).unwrap();
        tx.send(b"xy", &l, false).unwrap();
        let mut fs = frames(&mut tx, Time(0), &l);
        fs.reverse();
        fs.push(fs[0].clone());
        assert_eq!(feed(&mut rx, &fs), vec![b"abcdefgh".to_vec(), b"xy".to_vec()]);
        assert_eq!(rx.stats.duplicates, 1);
    }

    #[test]
    fn queue_threshold_refuses_without_dropping() {
        let mut tx = Channel::default();
        let l = Limits { window: 1, ..lim() };
        for _ in 0..3 {
            tx.send(b"12", &l, false).unwrap();
        }
        assert_eq!(tx.queued(), 3);
        assert_eq!(tx.send(b"x", &l, false), Err(Backpressure { queued: 3 }));
        assert_eq!(tx.queued(), 3, "a refused send queues nothing");
        tx.send(b"ctl", &l, true).unwrap();
        assert_eq!(tx.queued(), 4, "control traffic is not refused");
        frames(&mut tx, Time(0), &l);
        assert_eq!(tx.queued(), 3, "the first message went out in the one segment the window allows");
    }

    #[test]
    fn retransmits_on_the_retry_timer_and_gives_up_after_max_retry() {
        let mut tx = Channel::default();
        tx.send(b"ab", &lim(), false).unwrap();
        frames(&mut tx, Time(0), &lim());
        assert_eq!(deadline(tx.timer_key(), &lim()), Some(Time(10_000)));
        let mut n = 0;
        tx.on_timeout(Time(9_000), &lim(), |_| n += 1).unwrap();
        assert_eq!(n, 0);
        tx.on_timeout(Time(10_000), &lim(), |_| n += 1).unwrap();
        assert_eq!(n, 1);
        assert_eq!(tx.on_timeout(Time(100_000), &lim(), |_| ()), Err(GaveUp));
    }

    #[test]
    fn an_acknowledgement_rides_on_data_or_goes_alone_after_a_delay() {
        let (mut a, mut b) = (Channel::default(), Channel::default());
        let l = Limits { chunk: 100, window: 8, ..lim() };
        a.send(b"ping", &l, false).unwrap();
        let fs = frames(&mut a, Time(0), &l);
        feed(&mut b, &fs);
        assert!(frames(&mut b, Time(100), &l).is_empty(), "no lone ACK before the delay");
        b.send(b"pong", &l, false).unwrap();
        let reply = frames(&mut b, Time(200), &l);
        assert!(matches!(reply[..], [Frame::Data { ack: AckInfo { cum: 1, .. }, .. }]), "{reply:?}");
        feed(&mut a, &reply);
        let due = Time(200 + l.ack_delay().as_micros() as u64);
        assert_eq!(acks(&frames(&mut a, due, &l)).len(), 1, "a lone ACK once the delay passed");
    }

    #[test]
    fn a_forged_length_drops_the_stream_without_panicking() {
        let mut rx = Channel::default();
        let mut out = Vec::new();
        rx.on_data(Time(0), 1, 1, ByteBuf::from(vec![0xff; 12]), |m| out.push(m));
        assert!(out.is_empty());
        assert_eq!(rx.stats.reassembly_errors, 1);
    }
}
