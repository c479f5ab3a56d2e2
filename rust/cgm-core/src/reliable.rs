//! Reliable, ordered messaging to one peer over an unreliable datagram service.
//!
//! Messages are split into fragments of at most `max-fragment-size` bytes on the
//! wire, each with a per-channel sequence number. At most `send-window-size`
//! fragments are in flight; the rest wait in a queue whose length is bounded by
//! `send-queue-overflow-threshold` (a send past it is refused, never dropped).
//! Unacknowledged fragments are sent again every `message-retry-timer`; one
//! that stays unacknowledged for `max-message-retry-time` makes the channel
//! give up, and the core suspects the peer. The receiver delivers messages in
//! order, exactly once, reassembling fragments with bounded memory.

use crate::time::Time;
use crate::wire::{AckInfo, Frame, MAX_MESSAGE_LEN};
use serde_bytes::ByteBuf;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// How far beyond the next expected sequence a receiver buffers fragments.
const RECV_BUFFER: u64 = 4_096;

#[derive(Debug)]
struct OutFrag {
    seq: u64,
    index: u16,
    count: u16,
    chunk: ByteBuf,
    first_sent: Option<Time>,
    last_sent: Time,
    acked: bool,
}

/// The values of the messaging parameters a channel obeys, read per call so a
/// committed change takes effect at once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Payload bytes per fragment.
    pub(crate) chunk: usize,
    /// Fragments in flight at most.
    pub(crate) window: usize,
    /// Queued fragments past which a send is refused.
    pub(crate) queue_threshold: usize,
    /// Retransmission period.
    pub(crate) retry: Duration,
    /// Give-up time.
    pub(crate) max_retry: Duration,
}

/// A send was refused because the queue is over its threshold; nothing was queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backpressure {
    /// Fragments queued behind the window.
    pub(crate) queued: usize,
}

/// A fragment stayed unacknowledged for the maximum retry time.
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
    inflight: VecDeque<OutFrag>,
    queue: VecDeque<OutFrag>,
    recv_cum: u64,
    ooo: BTreeMap<u64, (u16, u16, ByteBuf)>,
    partial: Vec<u8>,
    partial_next: u16,
    ack_due: bool,
    pub(crate) stats: ChannelStats,
}

impl Channel {
    /// Queues `msg` for sending, fragmented to `lim.chunk` bytes.
    ///
    /// With `force`, the queue threshold is not applied (protocol control traffic,
    /// whose amount the protocol itself bounds).
    ///
    /// # Errors
    /// [`Backpressure`] when the queue is at or over its threshold; nothing queued.
    pub(crate) fn send(&mut self, msg: Vec<u8>, lim: &Limits, force: bool) -> Result<(), Backpressure> {
        if !force && self.queue.len() >= lim.queue_threshold {
            return Err(Backpressure { queued: self.queue.len() });
        }
        let chunk = lim.chunk.max(1);
        let count = msg.len().div_ceil(chunk).max(1);
        debug_assert!(count <= u16::MAX as usize, "messages are bounded well below 65535 fragments");
        if count == 1 {
            self.push_frag(0, 1, ByteBuf::from(msg));
        } else {
            for (i, c) in msg.chunks(chunk).enumerate() {
                self.push_frag(i as u16, count as u16, ByteBuf::from(c.to_vec()));
            }
        }
        self.fill_window(lim.window);
        Ok(())
    }

    fn push_frag(&mut self, index: u16, count: u16, chunk: ByteBuf) {
        self.next_seq += 1;
        self.queue.push_back(OutFrag {
            seq: self.next_seq,
            index,
            count,
            chunk,
            first_sent: None,
            last_sent: Time::ZERO,
            acked: false,
        });
    }

    fn fill_window(&mut self, window: usize) {
        while self.inflight.len() < window.max(1) {
            match self.queue.pop_front() {
                Some(f) => self.inflight.push_back(f),
                None => break,
            }
        }
    }

    /// Restarts the send half after giving up: drops what was unacknowledged and
    /// starts a new session, so the peer restarts its receive half too.
    pub(crate) fn restart_send(&mut self) {
        self.session = self.session.max(1) + 1;
        self.next_seq = 0;
        self.inflight.clear();
        self.queue.clear();
    }

    /// Fragments waiting behind the window.
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Fragments sent and not yet acknowledged.
    pub(crate) fn in_flight(&self) -> usize {
        self.inflight.iter().filter(|f| f.first_sent.is_some() && !f.acked).count()
    }

    /// Whether everything sent has been acknowledged.
    pub(crate) fn is_idle(&self) -> bool {
        self.inflight.is_empty() && self.queue.is_empty()
    }

    /// Takes in the peer's acknowledgement of what we sent.
    pub(crate) fn on_ack(&mut self, ack: AckInfo, window: usize) {
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
        self.fill_window(window);
    }

    /// Emits every fragment of the window that has never been sent.
    pub(crate) fn poll_new(&mut self, now: Time, mut emit: impl FnMut(Frame)) {
        let ack = self.ack_info();
        let session = self.session.max(1);
        let mut sent = false;
        for f in self.inflight.iter_mut().filter(|f| f.first_sent.is_none()) {
            f.first_sent = Some(now);
            f.last_sent = now;
            emit(Frame::Data { session, seq: f.seq, ack, index: f.index, count: f.count, chunk: f.chunk.clone() });
            sent = true;
        }
        if sent {
            self.ack_due = false;
        }
    }

    /// Retransmits what is due; gives up when a fragment is older than the maximum retry time.
    ///
    /// # Errors
    /// [`GaveUp`]: the caller suspects the peer and drops the channel.
    pub(crate) fn on_timeout(&mut self, now: Time, lim: &Limits, mut emit: impl FnMut(Frame)) -> Result<(), GaveUp> {
        let ack = self.ack_info();
        let session = self.session.max(1);
        for f in self.inflight.iter_mut().filter(|f| !f.acked) {
            let Some(first) = f.first_sent else { continue };
            if now.saturating_since(first) >= lim.max_retry {
                return Err(GaveUp);
            }
            if now.saturating_since(f.last_sent) >= lim.retry {
                f.last_sent = now;
                self.stats.retransmits += 1;
                emit(Frame::Data { session, seq: f.seq, ack, index: f.index, count: f.count, chunk: f.chunk.clone() });
                self.ack_due = false;
            }
        }
        Ok(())
    }

    /// The next time [`Channel::on_timeout`] has work to do, if any.
    pub(crate) fn next_deadline(&self, lim: &Limits) -> Option<Time> {
        self.inflight
            .iter()
            .filter(|f| !f.acked)
            .filter_map(|f| {
                let first = f.first_sent?;
                Some((f.last_sent + lim.retry).min(first + lim.max_retry))
            })
            .min()
    }

    /// Takes in one data fragment; calls `deliver` for every message it completes, in order.
    pub(crate) fn on_data(&mut self, session: u32, seq: u64, index: u16, count: u16, chunk: ByteBuf, mut deliver: impl FnMut(Vec<u8>)) {
        if session < self.recv_session {
            return;
        }
        if session > self.recv_session {
            self.recv_session = session;
            self.recv_cum = 0;
            self.ooo.clear();
            self.partial.clear();
            self.partial_next = 0;
        }
        self.ack_due = true;
        if seq <= self.recv_cum || seq > self.recv_cum + RECV_BUFFER || self.ooo.contains_key(&seq) {
            self.stats.duplicates += u64::from(seq <= self.recv_cum || self.ooo.contains_key(&seq));
            return;
        }
        self.ooo.insert(seq, (index, count, chunk));
        while let Some((index, count, chunk)) = self.ooo.remove(&(self.recv_cum + 1)) {
            self.recv_cum += 1;
            let fits = self.partial.len() + chunk.len() <= MAX_MESSAGE_LEN;
            if index != self.partial_next || count == 0 || index >= count || !fits {
                // Only a forged or corrupted stream gets here: drop the message, keep the order.
                self.stats.reassembly_errors += 1;
                self.partial.clear();
                self.partial_next = if index + 1 < count && index == 0 && fits { 1 } else { 0 };
                if self.partial_next == 1 {
                    self.partial.extend_from_slice(&chunk);
                }
                continue;
            }
            if count == 1 {
                deliver(chunk.into_vec());
                continue;
            }
            self.partial.extend_from_slice(&chunk);
            self.partial_next += 1;
            if self.partial_next == count {
                self.partial_next = 0;
                deliver(std::mem::take(&mut self.partial));
            }
        }
    }

    /// Whether an acknowledgement should be sent (no data frame carried it yet).
    pub(crate) fn ack_due(&self) -> bool {
        self.ack_due
    }

    /// The acknowledgement to send now; clears the due flag.
    pub(crate) fn take_ack(&mut self) -> AckInfo {
        self.ack_due = false;
        self.ack_info()
    }

    fn ack_info(&self) -> AckInfo {
        let mut sack = 0u64;
        for &s in self.ooo.range(self.recv_cum + 2..self.recv_cum + 66).map(|(s, _)| s) {
            sack |= 1 << (s - self.recv_cum - 2);
        }
        AckInfo { session: self.recv_session, cum: self.recv_cum, sack }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits {
            chunk: 4,
            window: 2,
            queue_threshold: 3,
            retry: Duration::from_millis(10),
            max_retry: Duration::from_millis(100),
        }
    }

    fn frames(ch: &mut Channel, now: Time) -> Vec<Frame> {
        let mut v = Vec::new();
        ch.poll_new(now, |f| v.push(f));
        v
    }

    fn feed(rx: &mut Channel, fs: &[Frame]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for f in fs {
            if let Frame::Data { session, seq, index, count, chunk, .. } = f.clone() {
                rx.on_data(session, seq, index, count, chunk, |m| out.push(m));
            }
        }
        out
    }

    #[test]
    fn fragments_respect_the_window_and_reassemble_in_order() {
        let (mut tx, mut rx) = (Channel::default(), Channel::default());
        tx.send(b"hello world".to_vec(), &lim(), false).unwrap();
        let first = frames(&mut tx, Time(0));
        assert_eq!(first.len(), 2, "window of 2 fragments");
        assert_eq!(tx.queued(), 1);
        assert!(feed(&mut rx, &first).is_empty());
        tx.on_ack(rx.take_ack(), 2);
        let rest = frames(&mut tx, Time(1));
        assert_eq!(feed(&mut rx, &rest), vec![b"hello world".to_vec()]);
    }

    #[test]
    fn reordered_and_duplicated_fragments_deliver_once() {
        let (mut tx, mut rx) = (Channel::default(), Channel::default());
        let l = Limits { window: 8, ..lim() };
        tx.send(b"abcdefgh".to_vec(), &l, false).unwrap();
        tx.send(b"xy".to_vec(), &l, false).unwrap();
        let mut fs = frames(&mut tx, Time(0));
        fs.reverse();
        fs.push(fs[0].clone());
        assert_eq!(feed(&mut rx, &fs), vec![b"abcdefgh".to_vec(), b"xy".to_vec()]);
        assert_eq!(rx.stats.duplicates, 1);
    }

    #[test]
    fn queue_threshold_refuses_without_dropping() {
        let mut tx = Channel::default();
        let l = Limits { window: 1, ..lim() };
        for _ in 0..4 {
            tx.send(b"1234".to_vec(), &l, false).unwrap();
        }
        assert_eq!(tx.queued(), 3);
        assert_eq!(tx.send(b"x".to_vec(), &l, false), Err(Backpressure { queued: 3 }));
        assert_eq!(tx.queued(), 3, "a refused send queues nothing");
        tx.send(b"ctl".to_vec(), &l, true).unwrap();
        assert_eq!(tx.queued(), 4, "control traffic is not refused");
    }

    #[test]
    fn retransmits_on_the_retry_timer_and_gives_up_after_max_retry() {
        let mut tx = Channel::default();
        tx.send(b"ab".to_vec(), &lim(), false).unwrap();
        frames(&mut tx, Time(0));
        assert_eq!(tx.next_deadline(&lim()), Some(Time(10_000)));
        let mut n = 0;
        tx.on_timeout(Time(9_000), &lim(), |_| n += 1).unwrap();
        assert_eq!(n, 0);
        tx.on_timeout(Time(10_000), &lim(), |_| n += 1).unwrap();
        assert_eq!(n, 1);
        assert_eq!(tx.on_timeout(Time(100_000), &lim(), |_| ()), Err(GaveUp));
    }

    #[test]
    fn a_forged_fragment_index_drops_one_message_and_keeps_order() {
        let mut rx = Channel::default();
        let mut out = Vec::new();
        rx.on_data(1, 1, 1, 2, ByteBuf::from(vec![1]), |m| out.push(m));
        rx.on_data(1, 2, 0, 1, ByteBuf::from(vec![2]), |m| out.push(m));
        assert_eq!(out, vec![vec![2]]);
        assert_eq!(rx.stats.reassembly_errors, 1);
    }
}
