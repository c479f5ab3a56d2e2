//! UDP sockets (IPv4 or IPv6, via socket2) and the reader thread that feeds
//! inbound datagrams into the member thread's queue.

use crate::config::Multicast;
use crossbeam_channel::Sender;
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::thread::JoinHandle;

/// Largest datagram accepted.
const MAX_DATAGRAM: usize = 65_536;

/// Binds a UDP socket with room for bursts.
///
/// # Errors
/// The operating system's error.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(4 << 20);
    s.bind(&addr.into())?;
    Ok(s.into())
}

/// Sets up `sock` (the node's unicast socket) to send to the multicast group
/// of `m` from the interface of `iface`, with the group's traffic looped back
/// to members on this host.
///
/// # Errors
/// The operating system's error.
pub(crate) fn multicast_sender(sock: &UdpSocket, m: &Multicast, iface: IpAddr) -> std::io::Result<()> {
    let s = SockRef::from(sock);
    match iface {
        IpAddr::V4(ip) => {
            s.set_multicast_if_v4(&ip)?;
            s.set_multicast_ttl_v4(m.ttl)?;
            s.set_multicast_loop_v4(true)
        }
        IpAddr::V6(_) => {
            s.set_multicast_hops_v6(m.ttl)?;
            s.set_multicast_loop_v6(true)
        }
    }
}

/// A socket that receives the traffic of the multicast group of `m` on the
/// interface of `iface`. Several members on one host share the group port.
///
/// # Errors
/// The operating system's error (for example, no route for multicast).
pub(crate) fn multicast_receiver(m: &Multicast, iface: IpAddr) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(m.group), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    let _ = s.set_recv_buffer_size(4 << 20);
    match (m.group.ip(), iface) {
        (IpAddr::V4(g), IpAddr::V4(i)) => {
            s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, m.group.port())).into())?;
            s.join_multicast_v4(&g, &i)?;
        }
        (IpAddr::V6(g), _) => {
            s.set_only_v6(true)?;
            s.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, m.group.port())).into())?;
            s.join_multicast_v6(&g, 0)?;
        }
        (IpAddr::V4(_), IpAddr::V6(_)) => return Err(std::io::Error::other("an IPv4 group needs an IPv4 interface")),
    }
    Ok(s.into())
}

/// Datagrams read in one go: everything that waited in the socket.
pub(crate) type Batch = Vec<(SocketAddr, Vec<u8>)>;

/// Most datagrams handed over in one batch.
const MAX_BATCH: usize = 64;
/// A batch ends once it holds this many bytes, so one batch holds at most
/// `MAX_BATCH_BYTES + MAX_DATAGRAM` bytes whatever the datagrams' sizes.
const MAX_BATCH_BYTES: usize = 64 << 10;
/// Batches the member thread's inbound queue holds. With the bytes per batch
/// bounded, the queue holds at most 32 MiB however hard the socket is flooded
/// (a flood of the largest datagrams filled 64 of them into each batch
/// before, 1 GiB in all); past that the reader waits and the kernel drops.
pub(crate) const QUEUE_BATCHES: usize = 256;
/// The stop waker's token; sockets are numbered from 1.
const STOP: Token = Token(0);

/// Stops a reader thread.
pub(crate) struct ReaderStop(Waker);

impl ReaderStop {
    /// Wakes the reader and makes it end.
    pub(crate) fn stop(&self) {
        let _ = self.0.wake();
    }
}

/// Starts the thread that reads datagrams and queues them for the member.
///
/// The socket becomes non-blocking (for the member thread's sends too, which
/// must never block it: a full send buffer is a lost datagram, which the
/// reliable channels repair). The thread waits for readiness, then takes
/// everything that waits in the socket and hands it over as one batch, so the
/// member thread wakes once per burst (an ACK round delivers one datagram
/// from every member at nearly the same time) and answers it with bundled
/// datagrams.
///
/// # Errors
/// The thread cannot be spawned or the socket configured.
pub(crate) fn spawn_reader(id: u32, socks: Vec<UdpSocket>, tx: Sender<Batch>) -> std::io::Result<(JoinHandle<()>, ReaderStop)> {
    let poll = Poll::new()?;
    let mut socks = socks
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            s.set_nonblocking(true)?;
            let mut s = mio::net::UdpSocket::from_std(s);
            poll.registry().register(&mut s, Token(i + 1), Interest::READABLE)?;
            Ok(s)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut poll = poll;
    let stop = ReaderStop(Waker::new(poll.registry(), STOP)?);
    let thread = std::thread::Builder::new().name(format!("cgm-reader-{id}")).spawn(move || {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut events = Events::with_capacity(2);
        loop {
            if let Err(e) = poll.poll(&mut events, None) {
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                log::warn!("node {id}: waiting for datagrams failed: {e}");
                return;
            }
            if events.iter().any(|e| e.token() == STOP) {
                return;
            }
            // Readiness is edge-triggered: read until every socket is empty.
            for sock in &mut socks {
                loop {
                    let (mut batch, mut bytes) = (Vec::new(), 0);
                    let empty = loop {
                        match sock.recv_from(&mut buf) {
                            Ok((n, from)) => {
                                batch.push((from, buf[..n].to_vec()));
                                bytes += n;
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break true,
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            // An ICMP error from an earlier send: nothing to read.
                            Err(e) => log::debug!("node {id}: receive failed: {e}"),
                        }
                        if batch.len() == MAX_BATCH || bytes >= MAX_BATCH_BYTES {
                            break false;
                        }
                    };
                    if !batch.is_empty() && tx.send(batch).is_err() {
                        return;
                    }
                    if empty {
                        break;
                    }
                }
            }
        }
    })?;
    Ok((thread, stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_large_datagrams_is_bounded_in_bytes() {
        let sock = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = sock.local_addr().unwrap();
        // Large datagrams wait in the socket before the reader starts, as
        // under a flood the member thread has fallen behind.
        let flood = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..16 {
            flood.send_to(&[0xEE; 60_000], addr).unwrap();
        }
        let (tx, rx) = crossbeam_channel::bounded(QUEUE_BATCHES);
        let (reader, stop) = spawn_reader(1, vec![sock], tx).unwrap();
        let first = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the reader hands the datagrams over");
        let bytes: usize = first.iter().map(|(_, d)| d.len()).sum();
        assert_eq!(first.len(), 2, "a batch ends past {MAX_BATCH_BYTES} bytes");
        assert!(bytes <= MAX_BATCH_BYTES + MAX_DATAGRAM, "{bytes} bytes in one batch");
        drop(rx);
        stop.stop();
        reader.join().unwrap();
    }
}
