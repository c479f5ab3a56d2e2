//! UDP sockets (IPv4 or IPv6, via socket2), and what the member thread waits
//! on: its sockets and the mailboxes its commands arrive in.

use crate::config::Multicast;
use crossbeam_channel::{Receiver, Sender};
use mio::{Events, Interest, Poll, Token, Waker};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

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

/// Most datagrams read from one socket before the member thread turns to its
/// commands again; the rest wait in the kernel's buffer, which bounds what a
/// flood can make the node hold.
const MAX_BURST: usize = 64;
/// The waker's token; sockets are numbered from 1.
const WAKE: Token = Token(0);

/// A sender into the member thread: a crossbeam channel whose sends also
/// wake the member thread's poll, so it waits on its sockets and its
/// commands at once, in one place.
pub(crate) struct Mailbox<T> {
    tx: Sender<T>,
    waker: Arc<Waker>,
}

impl<T> Clone for Mailbox<T> {
    fn clone(&self) -> Self {
        Mailbox { tx: self.tx.clone(), waker: Arc::clone(&self.waker) }
    }
}

impl<T> Mailbox<T> {
    /// Queues `v` for the member thread and wakes it.
    ///
    /// # Errors
    /// The member thread has ended: `v` comes back.
    pub(crate) fn send(&self, v: T) -> Result<(), crossbeam_channel::SendError<T>> {
        self.tx.send(v)?;
        // A failed wake leaves the message queued; the poll's timeout finds it.
        let _ = self.waker.wake();
        Ok(())
    }
}

/// What the member thread waits on: its sockets and the wakes of its mailboxes.
///
/// The sockets become non-blocking (for the member thread's sends too, which
/// must never block it: a full send buffer is a lost datagram, which the
/// reliable channels repair). The member thread reads datagrams itself, with
/// no reader thread handing them over: a datagram costs one wake-up of one
/// thread.
pub(crate) struct Inbound {
    poll: Poll,
    events: Events,
    socks: Vec<mio::net::UdpSocket>,
    waker: Arc<Waker>,
    buf: Vec<u8>,
    /// A socket was left with datagrams in it (readiness is edge-triggered,
    /// so the next wait must not block).
    unread: bool,
}

impl Inbound {
    /// Registers `socks` for reading.
    ///
    /// # Errors
    /// The operating system's error.
    pub(crate) fn new(socks: Vec<UdpSocket>) -> std::io::Result<Inbound> {
        let poll = Poll::new()?;
        let socks = socks
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                s.set_nonblocking(true)?;
                let mut s = mio::net::UdpSocket::from_std(s);
                poll.registry().register(&mut s, Token(i + 1), Interest::READABLE)?;
                Ok(s)
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        Ok(Inbound { poll, events: Events::with_capacity(8), socks, waker, buf: vec![0u8; MAX_DATAGRAM], unread: true })
    }

    /// A new mailbox into the member thread, and the receiving end it reads.
    pub(crate) fn mailbox<T>(&self) -> (Mailbox<T>, Receiver<T>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (Mailbox { tx, waker: Arc::clone(&self.waker) }, rx)
    }

    /// Waits until a datagram or a mailbox wake arrives, or `timeout` passes.
    pub(crate) fn wait(&mut self, timeout: Duration) {
        let timeout = if self.unread { Duration::ZERO } else { timeout };
        if let Err(e) = self.poll.poll(&mut self.events, Some(timeout)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                log::warn!("waiting for datagrams failed: {e}");
            }
        }
    }

    /// Hands up to a burst of waiting datagrams from every socket to `f`.
    pub(crate) fn read(&mut self, mut f: impl FnMut(SocketAddr, &mut [u8])) {
        self.unread = false;
        for sock in &self.socks {
            let mut n = 0;
            loop {
                if n == MAX_BURST {
                    self.unread = true;
                    break;
                }
                match sock.recv_from(&mut self.buf) {
                    Ok((len, from)) => {
                        n += 1;
                        f(from, &mut self.buf[..len]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    // An ICMP error from an earlier send: nothing to read.
                    Err(e) => log::debug!("receive failed: {e}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_takes_at_most_a_burst_and_the_next_wait_does_not_block() {
        let sock = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = sock.local_addr().unwrap();
        // Datagrams wait in the socket, as under a flood the member thread
        // has fallen behind.
        let flood = UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..MAX_BURST + 10 {
            flood.send_to(&[0xEE; 100], addr).unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut inbound = Inbound::new(vec![sock]).unwrap();
        let mut got = 0;
        inbound.wait(Duration::from_secs(5));
        inbound.read(|_, d| {
            assert_eq!(d.len(), 100);
            got += 1;
        });
        assert_eq!(got, MAX_BURST, "one read takes one burst");
        let started = std::time::Instant::now();
        inbound.wait(Duration::from_secs(5));
        assert!(started.elapsed() < Duration::from_secs(1), "datagrams left unread make the next wait return at once");
        inbound.read(|_, _| got += 1);
        assert_eq!(got, MAX_BURST + 10);
    }

    #[test]
    fn a_mailbox_send_wakes_the_wait() {
        let mut inbound = Inbound::new(vec![bind("127.0.0.1:0".parse().unwrap()).unwrap()]).unwrap();
        inbound.read(|_, _| {});
        let (tx, rx) = inbound.mailbox::<u32>();
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            tx.send(7).unwrap();
        });
        let started = std::time::Instant::now();
        inbound.wait(Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(5), "the send woke the wait");
        assert_eq!(rx.recv_timeout(Duration::from_secs(1)), Ok(7));
        sender.join().unwrap();
    }
}
