//! Free UDP ports for clusters on one host (the demo, tests, Python's
//! `LocalCluster`), whose member list must be written before any member
//! binds.
//!
//! Probing with port 0 and closing the probe leaves a window in which any
//! other socket bound to port 0 (an operator client, another test) may be
//! handed the same port. Ports given out here come from below the system's
//! ephemeral range, which port-0 binds never use, and never repeat within
//! one process.

use std::net::{IpAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

/// Lowest port handed out: clear of well-known services.
const FLOOR: u16 = 10_000;

/// Fewest ports a region below or above the ephemeral range must hold to
/// be used; smaller regions fall back to port-0 probes.
const MIN_REGION: u32 = 1_000;

/// Next offset into the region; starts at a place derived from the process
/// id so that processes running one after another spread out.
static CURSOR: AtomicU32 = AtomicU32::new(u32::MAX);

/// `n` UDP ports on `ip` that were free a moment ago and that no port-0 bind
/// on this host will take before a node binds them.
///
/// # Errors
/// The operating system's error when not even port-0 probes can be bound,
/// or `AddrNotAvailable` when the region has fewer than `n` free ports.
pub fn free_ports(ip: IpAddr, n: usize) -> std::io::Result<Vec<u16>> {
    let Some((lo, len)) = region() else { return probe_port_zero(ip, n) };
    let _ = CURSOR.compare_exchange(u32::MAX, std::process::id().wrapping_mul(7_919) % len, Ordering::Relaxed, Ordering::Relaxed);
    // Probes stay bound until all `n` are found, so none is counted twice.
    let mut probes = Vec::with_capacity(n);
    for _ in 0..len {
        if probes.len() == n {
            break;
        }
        let port = lo + (CURSOR.fetch_add(1, Ordering::Relaxed) % len) as u16;
        if let Ok(s) = UdpSocket::bind((ip, port)) {
            probes.push(s);
        }
    }
    if probes.len() < n {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("only {} of {n} free UDP ports on {ip} in {lo}..{}", probes.len(), u32::from(lo) + len),
        ));
    }
    ports_of(&probes)
}

/// The first port and the size of the region outside the ephemeral range,
/// or `None` when the range is unknown or leaves too little room.
fn region() -> Option<(u16, u32)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|w| w.parse::<u32>());
    let (Some(Ok(first)), Some(Ok(last))) = (it.next(), it.next()) else { return None };
    let below = first.saturating_sub(u32::from(FLOOR));
    let above = 65_535u32.saturating_sub(last);
    if below >= MIN_REGION {
        Some((FLOOR, below))
    } else if above >= MIN_REGION {
        Some(((last + 1) as u16, above))
    } else {
        None
    }
}

fn probe_port_zero(ip: IpAddr, n: usize) -> std::io::Result<Vec<u16>> {
    let probes: Vec<UdpSocket> = (0..n).map(|_| UdpSocket::bind((ip, 0))).collect::<Result<_, _>>()?;
    ports_of(&probes)
}

fn ports_of(probes: &[UdpSocket]) -> std::io::Result<Vec<u16>> {
    probes.iter().map(|s| s.local_addr().map(|a| a.port())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    #[test]
    fn ports_never_repeat_and_are_bindable() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut seen = HashSet::new();
        for _ in 0..20 {
            for p in free_ports(ip, 5).unwrap() {
                assert!(seen.insert(p), "port {p} handed out twice");
                UdpSocket::bind((ip, p)).unwrap();
            }
        }
    }

    #[test]
    fn ports_lie_outside_the_ephemeral_range() {
        let Some((lo, len)) = region() else { return };
        for p in free_ports(IpAddr::V4(Ipv4Addr::LOCALHOST), 3).unwrap() {
            assert!((u32::from(lo)..u32::from(lo) + len).contains(&u32::from(p)), "{p} outside {lo}+{len}");
        }
    }
}
