//! The heartbeat ring and the pairwise heartbeat switch-over.
//!
//! Each member sends heartbeats to its successor (next higher node id in the
//! view, wrapping) every `heartbeat-interval`; the successor answers each with
//! a heartbeat ACK. The sender counts a miss for every heartbeat not ACKed
//! within `heartbeat-ack-timeout` and suspects its successor after
//! `heartbeat-ack-failure-threshold` consecutive misses. The receiver checks
//! every `heartbeat-interval x receive-send-timer-ratio / 100`, counts a miss
//! when nothing came for `heartbeat-timeout`, and suspects its predecessor
//! after `heartbeat-failure-threshold` consecutive misses.
//!
//! Switch-over: the global heartbeat values (interval, timeouts, ratio) in force
//! on a link change only by a handshake. The sender puts a change request in
//! its heartbeats; the receiver applies the values to its receive side and
//! answers with the indicator set, or cleared if it refuses (it has not yet
//! committed that generation); the sender switches its send side only after an
//! ACK with the indicator set. Every heartbeat also declares the values its
//! sender uses now, and the receiver judges silence by the more tolerant of
//! those and its own, so a lost ACK or a new link never makes a healthy
//! predecessor look dead. While a request is unanswered the sender beats at the
//! faster of the old and new intervals, so the request is repeated promptly.

use crate::change::Tuning;
use crate::ids::{Member, NodeId, View, ViewId};
use crate::messages::{ChangeRequest, Frame, HeartbeatValues};
use crate::net::Net;
use crate::params::{Param, Params};
use crate::status::LinkStatus;
use crate::time::Time;
use crate::wire::Header;
use std::collections::VecDeque;
use std::time::Duration;

/// Heartbeats remembered while waiting for their ACK.
const MAX_UNACKED: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct Ring {
    succ: Option<Member>,
    pred: Option<Member>,
    /// Values in force on the outgoing link.
    send: Option<HeartbeatValues>,
    counter: u64,
    next_send: Option<Time>,
    unacked: VecDeque<(u64, Time)>,
    ack_misses: u32,
    /// A change request to the successor, until it ACKs it as applied.
    request: Option<ChangeRequest>,
    /// Values applied on the incoming link.
    recv: Option<HeartbeatValues>,
    /// Values the predecessor says it sends with.
    sender_in_force: Option<HeartbeatValues>,
    last_hb: Time,
    next_check: Option<Time>,
    misses: u32,
    /// The `no-heartbeat-switch-over` flaw: a committed change switches the
    /// receive side at once and the send side never, and silence is judged
    /// by this member's own values only.
    #[cfg(feature = "flaws")]
    pub(crate) at_once: bool,
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn check_period(v: &HeartbeatValues) -> Duration {
    Duration::from_micros(v.interval * 1_000 * v.ratio / 100)
}

/// The more tolerant of two sets of receive-side values.
fn tolerant(a: HeartbeatValues, b: Option<HeartbeatValues>) -> HeartbeatValues {
    let Some(b) = b else { return a };
    let (pa, pb) = (check_period(&a), check_period(&b));
    let slower = if pb > pa { b } else { a };
    HeartbeatValues { timeout: a.timeout.max(b.timeout), ..slower }
}

impl Ring {
    /// Rebuilds the links for a new view. Miss counts start afresh; a new
    /// incoming link is judged by the more tolerant of the committed values and
    /// those of the link it replaces until its sender declares its own.
    pub(crate) fn reset(&mut self, members: &[Member], me: Member, params: &Params, generation: u64, now: Time) {
        let pos = members.iter().position(|m| m.id == me.id);
        let (succ, pred) = match pos {
            Some(i) if members.len() > 1 => {
                (Some(members[(i + 1) % members.len()]), Some(members[(i + members.len() - 1) % members.len()]))
            }
            _ => (None, None),
        };
        let values = HeartbeatValues::of(params);
        if succ != self.succ {
            self.succ = succ;
            self.send = succ.map(|_| values);
            self.request = None;
        } else if self.succ.is_some() && self.send != Some(values) {
            // A link that stays while the committed values changed (state transfer).
            self.request = Some(ChangeRequest { generation, values });
        }
        self.unacked.clear();
        self.ack_misses = 0;
        self.next_send = succ.map(|_| now);
        if pred != self.pred {
            let previous = tolerant(self.recv.unwrap_or(values), self.sender_in_force);
            self.pred = pred;
            self.recv = pred.map(|_| values);
            self.sender_in_force = pred.map(|_| previous);
        }
        self.misses = 0;
        self.last_hb = now;
        self.next_check = self.watch().map(|w| now + check_period(&w));
    }

    /// The values silence from the predecessor is judged by.
    fn watch(&self) -> Option<HeartbeatValues> {
        #[cfg(feature = "flaws")]
        if self.at_once {
            return self.recv;
        }
        self.recv.map(|r| tolerant(r, self.sender_in_force))
    }

    /// The interval the sender beats at now.
    fn beat(&self) -> Option<Duration> {
        let send = self.send?;
        let interval = self.request.map_or(send.interval, |r| r.values.interval.min(send.interval));
        Some(ms(interval))
    }

    pub(crate) fn next_deadline(&self) -> Option<Time> {
        match (self.next_send, self.next_check) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(crate) fn links(&self) -> Vec<LinkStatus> {
        let mut v = Vec::with_capacity(2);
        if let (Some(s), Some(vals)) = (self.succ, self.send) {
            v.push(LinkStatus {
                peer: s.id,
                outgoing: true,
                misses: self.ack_misses,
                interval_ms: vals.interval,
                switch_over_pending: self.request.is_some(),
            });
        }
        if let (Some(p), Some(vals)) = (self.pred, self.recv) {
            v.push(LinkStatus {
                peer: p.id,
                outgoing: false,
                misses: self.misses,
                interval_ms: vals.interval,
                switch_over_pending: self.sender_in_force.is_some_and(|s| s != vals),
            });
        }
        v
    }
}

impl Ring {
    /// Sends the heartbeat due and checks the predecessor's; returns the
    /// neighbour to suspect, and why, when one missed past its threshold.
    pub(crate) fn timeout(&mut self, net: &mut Net, params: &Params, view: ViewId, now: Time) -> Option<(Member, &'static str)> {
        if let (Some(succ), Some(vals), Some(t), Some(beat)) = (self.succ, self.send, self.next_send, self.beat()) {
            if t <= now {
                let ack_timeout = ms(vals.ack_timeout);
                while self.unacked.front().is_some_and(|&(_, sent)| now.saturating_since(sent) >= ack_timeout) {
                    self.unacked.pop_front();
                    self.ack_misses += 1;
                }
                if self.ack_misses as u64 >= params.get(Param::HeartbeatAckFailureThreshold) {
                    self.ack_misses = 0;
                    return Some((succ, "heartbeat ACKs missed past heartbeat-ack-failure-threshold"));
                }
                self.counter += 1;
                let counter = self.counter;
                if self.unacked.len() == MAX_UNACKED {
                    self.unacked.pop_front();
                }
                self.unacked.push_back((counter, now));
                net.counters.heartbeats_sent += 1;
                let frame = Frame::Heartbeat { view, counter, in_force: vals, change: self.request };
                net.push_frame(succ.id, frame);
                self.next_send = Some(now + beat);
            }
        }
        if let (Some(pred), Some(watch), Some(t)) = (self.pred, self.watch(), self.next_check) {
            if t <= now {
                if now.saturating_since(self.last_hb) >= ms(watch.timeout) {
                    self.misses += 1;
                } else {
                    self.misses = 0;
                }
                self.next_check = Some(now + check_period(&watch));
                if self.misses as u64 >= params.get(Param::HeartbeatFailureThreshold) {
                    self.misses = 0;
                    return Some((pred, "heartbeats missed past heartbeat-failure-threshold"));
                }
            }
        }
        None
    }

    /// A heartbeat from `h.from`: a member of `view` gets its ACK, carrying
    /// the answer to a change request (applied only from the predecessor, and
    /// only values of a generation `tuning` has committed).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_heartbeat(
        &mut self,
        net: &mut Net,
        tuning: &Tuning,
        view: &View,
        h: Header,
        counter: u64,
        in_force: HeartbeatValues,
        change: Option<ChangeRequest>,
        now: Time,
    ) {
        let sender = Member { id: h.from, inc: h.from_inc };
        if !view.holds(sender) {
            // Not a member of this view: no ACK, so a member cut off from the view
            // stops believing in it and rejoins.
            return;
        }
        let from_pred = self.pred == Some(sender);
        if from_pred {
            self.last_hb = now;
            self.misses = 0;
            self.sender_in_force = Some(in_force);
        }
        let answer = change.map(|req| {
            // Apply only values this member has committed itself, and only on its real link.
            let applied = from_pred && req.generation <= tuning.generation && req.values == HeartbeatValues::of(&tuning.params);
            if applied {
                self.recv = Some(req.values);
            }
            (req.generation, applied)
        });
        net.push_frame(h.from, Frame::HeartbeatAck { counter, change: answer });
    }

    /// A heartbeat ACK: the misses start over, and an applied change request
    /// switches the send side over.
    pub(crate) fn on_heartbeat_ack(&mut self, from: NodeId, counter: u64, change: Option<(u64, bool)>, now: Time) {
        if self.succ.map(|m| m.id) != Some(from) {
            return;
        }
        while self.unacked.front().is_some_and(|&(c, _)| c <= counter) {
            self.unacked.pop_front();
        }
        self.ack_misses = 0;
        if let (Some((generation, true)), Some(req)) = (change, self.request) {
            if req.generation == generation {
                self.send = Some(req.values);
                self.request = None;
                if let Some(beat) = self.beat() {
                    self.next_send = Some(self.next_send.map_or(now + beat, |t| t.min(now + beat)));
                }
            }
        }
    }

    /// A committed change: global heartbeat values switch over link by link.
    pub(crate) fn on_params_committed(&mut self, tuning: &Tuning, changes: &[(Param, u64)], now: Time) {
        let touches_heartbeat = changes.iter().any(|(p, _)| p.spec().heartbeat);
        if !touches_heartbeat || self.succ.is_none() {
            return;
        }
        let values = HeartbeatValues::of(&tuning.params);
        #[cfg(feature = "flaws")]
        if self.at_once {
            (self.recv, self.request) = (self.pred.map(|_| values), None);
            return;
        }
        if self.send != Some(values) {
            self.request = Some(ChangeRequest { generation: tuning.generation, values });
            // Carry the request at once, then at the faster interval.
            self.next_send = Some(now);
        } else {
            self.request = None;
        }
    }
}
