//! UDP sockets (IPv4 or IPv6, via socket2) and the reader thread that feeds
//! inbound datagrams into the member thread's queue.

use crossbeam_channel::Sender;
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
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

/// Starts the thread that reads datagrams and queues them for the member.
///
/// # Errors
/// The thread cannot be spawned or the socket configured.
pub(crate) fn spawn_reader(
    id: u32,
    sock: UdpSocket,
    tx: Sender<(SocketAddr, Vec<u8>)>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<()>> {
    sock.set_read_timeout(Some(Duration::from_millis(50)))?;
    std::thread::Builder::new().name(format!("cgm-reader-{id}")).spawn(move || {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        while !stop.load(Ordering::Acquire) {
            match sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if tx.send((from, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted) => {}
                Err(e) => {
                    log::warn!("node {id}: receive failed: {e}");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
    })
}
