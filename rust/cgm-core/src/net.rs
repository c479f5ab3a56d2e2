//! [`Net`]: a member's side of the network. The reliable channel to every
//! peer incarnation and their deadlines, the datagrams waiting to go out, the
//! events waiting for the host and the counters. Every subsystem sends and
//! tells through it; it decides nothing.

use crate::error::Error;
use crate::events::Event;
use crate::ids::{Incarnation, Member, NodeId, ViewId};
use crate::messages::{Frame, Msg};
use crate::params::{Param, Params};
use crate::reliable::{Channel, Limits, TimerKey};
use crate::status::Counters;
use crate::time::Time;
use crate::timers::ChannelTimers;
use crate::trim::Trim;
use crate::wire;
use litemap::LiteMap;
use std::collections::{BTreeSet, VecDeque};

/// Where a datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dest {
    /// A configured node.
    Node(NodeId),
    /// Back to the source token a datagram came from (answers to operator tools).
    Source(u64),
}

/// One datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Destination.
    pub dest: Dest,
    /// Bytes to send as one datagram.
    pub bytes: Vec<u8>,
}

/// Why the host dropped a datagram before the core saw it (see [`crate::Core::note_dropped`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dropped {
    /// Authentication failed: wrong key, forged or corrupted.
    Forged,
    /// A replayed datagram.
    Replayed,
    /// An envelope of another version.
    Version,
    /// Not a datagram of this protocol at all.
    Malformed,
}

/// What the core knows about one peer incarnation.
#[derive(Debug, Default)]
pub(crate) struct Peer {
    pub inc: Incarnation,
    pub channel: Channel,
    /// The view in which the channel to this peer gave up. Giving up drops
    /// what was unacknowledged, so the peer's stream of that view has a gap:
    /// no later message of that view may follow it (an ACK for round r stands
    /// for every round up to r, and would cover a lost one), and the link
    /// stays silent until a new view.
    pub cut_in: Option<ViewId>,
    /// The channel's timer key as [`ChannelTimers`] holds it.
    pub timer_key: TimerKey,
}

/// The reliable channels' limits under `params`.
pub(crate) fn limits(params: &Params) -> Limits {
    Limits {
        chunk: (params.get(Param::MaxFragmentSize) - crate::params::FRAME_OVERHEAD) as usize,
        window: params.get(Param::SendWindowSize) as usize,
        queue_threshold: params.get(Param::SendQueueOverflowThreshold) as usize,
        retry: params.duration(Param::MessageRetryTimer),
        max_retry: params.duration(Param::MaxMessageRetryTime),
    }
}

/// A member's side of the network (see the module docs).
#[derive(Debug)]
pub(crate) struct Net {
    /// This member's id (for logs and checks).
    pub(crate) id: NodeId,
    /// By id, in one sorted vector: a B-tree node holds room for eleven
    /// peers of some 300 bytes, which a member of a small group never fills.
    pub(crate) peers: LiteMap<NodeId, Peer>,
    /// The peers' channel deadlines, by time.
    pub(crate) timers: ChannelTimers,
    pub(crate) counters: Counters,
    pub(crate) events: VecDeque<Event>,
    pub(crate) outbox: VecDeque<(Dest, Incarnation, Frame)>,
    /// Peers whose channel has new output or timers for the next flush.
    dirty: BTreeSet<NodeId>,
    /// The member left the group: it only finishes sending what it sent.
    pub(crate) left: bool,
}

impl Net {
    /// The network side of member `id`, with no peer known yet and room for
    /// `peers` of them.
    pub(crate) fn new(id: NodeId, peers: usize) -> Net {
        Net {
            id,
            peers: LiteMap::with_capacity(peers),
            timers: ChannelTimers::default(),
            counters: Counters::default(),
            events: VecDeque::new(),
            outbox: VecDeque::new(),
            dirty: BTreeSet::new(),
            left: false,
        }
    }

    /// The incarnation known for `id` (0 if none).
    pub(crate) fn inc_of(&self, id: NodeId) -> Incarnation {
        self.peers.get(&id).map_or(0, |p| p.inc)
    }

    pub(crate) fn mark_dirty(&mut self, id: NodeId) {
        self.dirty.insert(id);
    }

    /// Queues a reliable message to `to` (whose incarnation must be known).
    ///
    /// Control traffic is sent with `force` (never refused); the result reports
    /// backpressure for sends that may be refused.
    pub(crate) fn send_msg(&mut self, params: &Params, to: NodeId, msg: &Msg, force: bool) -> Result<(), Error> {
        let lim = limits(params);
        let bytes = wire::encode_msg(msg);
        let Some(p) = self.peers.get_mut(&to).filter(|p| p.inc != 0) else {
            debug_assert!(false, "node {}: reliable send to node {to} whose incarnation is unknown", self.id);
            return Ok(());
        };
        if matches!(msg, Msg::Sequenced { view, .. } | Msg::Ack { view, .. } | Msg::Acks { view, .. } if p.cut_in == Some(*view)) {
            return Ok(());
        }
        p.channel.send(&bytes, &lim, force).map_err(|b| {
            self.counters.backpressure += 1;
            Error::Backpressure { peer: to, queued: b.queued }
        })?;
        self.mark_dirty(to);
        Ok(())
    }

    /// Messages queued to `to` behind its send window.
    pub(crate) fn queued(&self, to: NodeId) -> usize {
        self.peers.get(&to).map_or(0, |p| p.channel.queued())
    }

    /// Checks that a send to `to` would not be refused.
    pub(crate) fn check_backpressure(&mut self, params: &Params, to: NodeId) -> Result<(), Error> {
        let queued = self.queued(to);
        if queued >= params.get(Param::SendQueueOverflowThreshold) as usize {
            self.counters.backpressure += 1;
            return Err(Error::Backpressure { peer: to, queued });
        }
        Ok(())
    }

    /// Queues an unreliable frame to `dest`, addressed to incarnation `to_inc`.
    pub(crate) fn push_to(&mut self, dest: Dest, to_inc: Incarnation, frame: Frame) {
        self.outbox.push_back((dest, to_inc, frame));
    }

    /// Queues an unreliable frame to node `to` at its known incarnation.
    pub(crate) fn push_frame(&mut self, to: NodeId, frame: Frame) {
        let inc = self.inc_of(to);
        self.outbox.push_back((Dest::Node(to), inc, frame));
    }

    /// Turns the new output of every channel written to into frames.
    pub(crate) fn flush(&mut self, params: &Params, now: Time) {
        let lim = limits(params);
        for id in std::mem::take(&mut self.dirty) {
            let Some(p) = self.peers.get_mut(&id) else { continue };
            let inc = p.inc;
            let outbox = &mut self.outbox;
            p.channel.poll_new(now, &lim, |f| outbox.push_back((Dest::Node(id), inc, f)));
            self.reindex(id);
        }
    }

    /// Brings the deadline index up to date with `id`'s channel.
    pub(crate) fn reindex(&mut self, id: NodeId) {
        let Some(p) = self.peers.get_mut(&id) else { return };
        let key = p.channel.timer_key();
        self.timers.update(id, std::mem::replace(&mut p.timer_key, key), key);
    }

    /// Gives back room a burst left in the queues and channels (see
    /// [`crate::trim`]).
    pub(crate) fn trim(&mut self) {
        self.events.trim();
        self.outbox.trim();
        for (_, p) in self.peers.iter_mut() {
            p.channel.trim();
        }
    }

    /// Starts afresh with `id` at incarnation `inc` (a restarted node: its old
    /// incarnation's channel state is void).
    pub(crate) fn replace_peer(&mut self, id: NodeId, inc: Incarnation) {
        let old = self.peers.insert(id, Peer { inc, ..Peer::default() });
        self.timers.update(id, old.map_or_else(TimerKey::default, |p| p.timer_key), TimerKey::default());
    }

    /// Fires the channels' timers due at `now` (retransmissions, delayed
    /// acknowledgements); returns the peers whose channel gave up: the
    /// caller hands each to [`Net::give_up`].
    pub(crate) fn on_timeout(&mut self, params: &Params, now: Time) -> Vec<Member> {
        let lim = limits(params);
        let mut gave_up = Vec::new();
        for id in self.timers.due(now, &lim) {
            let Some(p) = self.peers.get_mut(&id) else { continue };
            let inc = p.inc;
            let outbox = &mut self.outbox;
            if p.channel.on_timeout(now, &lim, |f| outbox.push_back((Dest::Node(id), inc, f))).is_err() {
                gave_up.push(Member { id, inc });
            }
            // Delayed acknowledgements fall due here.
            p.channel.poll_new(now, &lim, |f| outbox.push_back((Dest::Node(id), inc, f)));
            self.reindex(id);
        }
        gave_up
    }

    /// Gives up on what `m`'s channel holds unacknowledged (see
    /// [`Net::on_timeout`]): it starts a new send session, cut in `view`.
    pub(crate) fn give_up(&mut self, m: Member, view: ViewId) {
        if let Some(p) = self.peers.get_mut(&m.id) {
            p.channel.restart_send();
            p.cut_in = Some(view);
        }
        self.reindex(m.id);
    }

    /// Whether everything sent was acknowledged.
    pub(crate) fn is_idle(&self) -> bool {
        self.peers.values().all(|p| p.channel.is_idle())
    }
}
