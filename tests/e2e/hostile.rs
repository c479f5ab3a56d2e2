//! Hostile input against a live three-member cluster on loopback: members 1
//! and 2 are `cgm node` processes, member 3 is a node embedded in this test
//! (with its veto hook on, so the test can hold a change in flight on it).
//!
//! Member 3's configured address is a relay the test owns: every datagram a
//! member sends to member 3 passes through it and is forwarded to member 3's
//! real socket, and while capturing the relay keeps a copy. The test captures
//! a real committed change, then throws forged, bit-flipped, truncated,
//! random, oversized, wrong-version and replayed datagrams at the members
//! (the captured change replayed into a later change held in flight), floods
//! the coordinator with forged datagrams while the cluster keeps working,
//! restarts the coordinator and replays its previous life's datagrams.
//!
//! Every hostile datagram is sent at a pace the receiving socket can hold
//! (its kernel queue, read from `/proc/net/udp`, is let drain between bursts,
//! and the socket's drop count is checked to stay zero), so each one reaches
//! the member and the drop counters must grow by exactly what was sent.

use cgm_runtime::auth::{Envelope, ENVELOPE_VERSION, OVERHEAD};
use cgm_runtime::cgm_core::messages::Frame;
use cgm_runtime::cgm_core::wire;
use cgm_runtime::cgm_core::{AppProtocol, Counters, Member, Outcome, Param, Params, Phase, Resource, Status, ViewId, Waiting};
use cgm_runtime::client::Client;
use cgm_runtime::{Key, Node, NodeConfig, NodeEvent};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const CGM: &str = env!("CARGO_BIN_EXE_cgm");
/// Generous bound for anything the cluster must get done on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(20);

/// A deterministic pseudo-random source (xorshift64*), so every run sends the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Stands at member 3's configured address and forwards to its real socket,
/// keeping a copy of what passes while capturing.
struct Relay {
    addr: SocketAddr,
    captured: Arc<Mutex<Option<Vec<Vec<u8>>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    fn start(to: SocketAddr) -> Relay {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let (captured, stop) = (Arc::new(Mutex::new(None::<Vec<Vec<u8>>>)), Arc::new(AtomicBool::new(false)));
        let addr = sock.local_addr().unwrap();
        let thread = std::thread::spawn({
            let (captured, stop) = (Arc::clone(&captured), Arc::clone(&stop));
            move || {
                let mut buf = vec![0u8; 65_536];
                while !stop.load(Ordering::Acquire) {
                    if let Ok(n) = sock.recv(&mut buf) {
                        if let Some(c) = captured.lock().unwrap().as_mut() {
                            c.push(buf[..n].to_vec());
                        }
                        // Member 3 may be gone at the very end.
                        let _ = sock.send_to(&buf[..n], to);
                    }
                }
            }
        });
        Relay { addr, captured, stop, thread: Some(thread) }
    }

    fn capture(&self) {
        *self.captured.lock().unwrap() = Some(Vec::new());
    }

    fn take(&self) -> Vec<Vec<u8>> {
        self.captured.lock().unwrap().take().unwrap()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bytes waiting in the kernel receive queue of the UDP socket bound to
/// 127.0.0.1:`port`, and the datagrams the kernel dropped on it.
fn socket_queue(port: u16) -> (u64, u64) {
    let table = std::fs::read_to_string("/proc/net/udp").expect("/proc/net/udp is readable");
    let local = format!("0100007F:{port:04X}");
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(1) == Some(&local.as_str()) {
            let rx = u64::from_str_radix(f[4].split(':').nth(1).unwrap(), 16).unwrap();
            return (rx, f[12].parse().unwrap());
        }
    }
    panic!("no UDP socket on 127.0.0.1:{port}");
}

/// Sends datagrams to one member no faster than its socket takes them: after
/// each burst it waits until the member's thread has read the kernel queue
/// empty, so no datagram is lost before the member sees it.
struct Pacer {
    sock: UdpSocket,
    to: SocketAddr,
    burst: (usize, usize),
    sent: u64,
    bytes: u64,
}

impl Pacer {
    /// Most datagrams and bytes in one burst: far below any socket buffer.
    const BURST: (usize, usize) = (64, 128 << 10);

    fn new(to: SocketAddr) -> Pacer {
        Pacer { sock: UdpSocket::bind("127.0.0.1:0").unwrap(), to, burst: (0, 0), sent: 0, bytes: 0 }
    }

    fn send(&mut self, d: &[u8]) {
        if self.burst.0 + 1 > Self::BURST.0 || self.burst.1 + d.len() > Self::BURST.1 {
            self.drain();
        }
        assert_eq!(self.sock.send_to(d, self.to).unwrap(), d.len());
        self.burst = (self.burst.0 + 1, self.burst.1 + d.len());
        self.sent += 1;
        self.bytes += d.len() as u64;
    }

    /// Waits until the member has taken everything from its socket.
    fn drain(&mut self) {
        let end = Instant::now() + PATIENCE;
        while socket_queue(self.to.port()).0 > 0 {
            assert!(Instant::now() < end, "member at {} stopped reading its socket", self.to);
            std::thread::yield_now();
        }
        self.burst = (0, 0);
    }
}

/// The drop counters hostile input may touch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Drops {
    auth_failed: u64,
    replayed: u64,
    malformed: u64,
    version_mismatch: u64,
}

impl Drops {
    fn auth(n: u64) -> Drops {
        Drops { auth_failed: n, ..Drops::default() }
    }

    fn replayed(n: u64) -> Drops {
        Drops { replayed: n, ..Drops::default() }
    }

    fn malformed(n: u64) -> Drops {
        Drops { malformed: n, ..Drops::default() }
    }

    fn version(n: u64) -> Drops {
        Drops { version_mismatch: n, ..Drops::default() }
    }

    fn of(c: &Counters) -> Drops {
        Drops { auth_failed: c.auth_failed, replayed: c.replayed, malformed: c.malformed, version_mismatch: c.version_mismatch }
    }

    fn plus(self, d: Drops) -> Drops {
        Drops {
            auth_failed: self.auth_failed + d.auth_failed,
            replayed: self.replayed + d.replayed,
            malformed: self.malformed + d.malformed,
            version_mismatch: self.version_mismatch + d.version_mismatch,
        }
    }

    fn total(self) -> u64 {
        self.auth_failed + self.replayed + self.malformed + self.version_mismatch
    }
}

impl std::fmt::Display for Drops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all =
            [("auth", self.auth_failed), ("replay", self.replayed), ("malformed", self.malformed), ("version", self.version_mismatch)];
        let counted: Vec<String> = all.iter().filter(|(_, n)| *n > 0).map(|(what, n)| format!("{what} {n}")).collect();
        write!(f, "{}", counted.join(" + "))
    }
}

/// What hostile input must leave alone in a member's state.
#[derive(Debug, PartialEq)]
struct Settled {
    view: ViewId,
    members: Vec<Member>,
    generation: u64,
    params: Params,
    completed: u64,
}

impl Settled {
    fn of(s: &Status) -> Settled {
        Settled { view: s.view, members: s.members.clone(), generation: s.generation, params: s.params.clone(), completed: s.completed }
    }
}

struct Cluster {
    dir: PathBuf,
    key: Key,
    /// Real socket addresses of members 1, 2, 3.
    addrs: [SocketAddr; 3],
    relay: Relay,
    procs: [Option<Child>; 2],
    member3: Node,
    client: Client,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!("cgm-e2e-hostile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let key = Key::generate();
        key.write_new(&dir.join("cluster.key")).unwrap();
        let lo = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let ports = cgm_runtime::free_ports(lo, 3).unwrap();
        let addrs: [SocketAddr; 3] = std::array::from_fn(|i| SocketAddr::new(lo, ports[i]));
        let relay = Relay::start(addrs[2]);
        for id in 1..=3u32 {
            let mut t = format!(
                "cluster = \"hostile\"\nnode_id = {id}\nkey_file = \"cluster.key\"\nbind = \"{}\"\n\
                 [params]\nheartbeat-interval = \"100ms\"\nheartbeat-timeout = \"1s\"\nheartbeat-ack-timeout = \"1s\"\n",
                addrs[id as usize - 1]
            );
            for (i, a) in [addrs[0], addrs[1], relay.addr].iter().enumerate() {
                t.push_str(&format!("[[nodes]]\nid = {}\naddr = \"{a}\"\n", i + 1));
            }
            std::fs::write(dir.join(format!("node{id}.toml")), t).unwrap();
        }
        let mut cfg = NodeConfig::load(&dir.join("node3.toml")).unwrap();
        cfg.veto_hook = true;
        cfg.veto_timeout = PATIENCE;
        let member3 = Node::start(cfg).unwrap();
        let client = Client::new(Some(&key), false, addrs[0]).unwrap();
        let mut c = Cluster { dir, key, addrs, relay, procs: [None, None], member3, client };
        c.spawn(1);
        c.spawn(2);
        c
    }

    fn spawn(&mut self, id: u32) {
        let log = std::fs::File::create(self.dir.join(format!("node{id}.log"))).unwrap();
        let child = Command::new(CGM)
            .args(["node", "-c", self.dir.join(format!("node{id}.toml")).to_str().unwrap()])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.procs[id as usize - 1] = Some(child);
    }

    fn kill9(&mut self, id: u32) {
        let mut c = self.procs[id as usize - 1].take().expect("running");
        c.kill().unwrap();
        c.wait().unwrap();
    }

    fn pid(&self, id: u32) -> u32 {
        self.procs[id as usize - 1].as_ref().expect("running").id()
    }

    /// Member `id`'s status, from itself.
    fn status(&mut self, id: u32) -> Status {
        if id == 3 {
            return self.member3.status().unwrap();
        }
        self.client.query_status(self.addrs[id as usize - 1], id, Duration::from_secs(5)).unwrap()
    }

    /// Waits until every member is idle in one view of all three, and returns their statuses.
    fn settled(&mut self) -> [Status; 3] {
        let end = Instant::now() + PATIENCE;
        loop {
            let s: [Status; 3] = std::array::from_fn(|i| self.status(i as u32 + 1));
            let one_view = s.iter().all(|x| x.view == s[0].view && x.members == s[0].members);
            if one_view && s.iter().all(|x| x.quorum && x.phase == Phase::Idle && x.members.len() == 3) {
                return s;
            }
            assert!(Instant::now() < end, "the cluster never settled: {s:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until member `id`'s drop counters reach `want`, then checks they
    /// stay there (nothing beyond what was sent was counted).
    fn expect_drops(&mut self, id: u32, want: Drops, what: &str) {
        let end = Instant::now() + PATIENCE;
        loop {
            let got = Drops::of(&self.status(id).counters);
            if got.total() >= want.total() {
                assert_eq!(got, want, "member {id}, {what}: drop counters");
                break;
            }
            assert!(Instant::now() < end, "member {id}, {what}: counted {got:?} of {want:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(socket_queue(self.addrs[id as usize - 1].port()).1, 0, "member {id}'s socket dropped datagrams");
    }

    /// Proposes `changes` through member `via` as an operator would, answers
    /// member 3's veto hook (after running `meanwhile` while the change waits
    /// on it), and returns the outcome.
    fn change(&mut self, via: u32, changes: &[(Param, u64)], meanwhile: impl FnOnce(&mut Cluster)) -> Outcome {
        let (key, addr, changes) = (self.key.clone(), self.addrs[via as usize - 1], changes.to_vec());
        let txid = cgm_runtime::new_incarnation();
        let operator = std::thread::spawn({
            let changes = changes.clone();
            move || Client::new(Some(&key), false, addr).unwrap().change(addr, via, &changes, txid, PATIENCE)
        });
        let end = Instant::now() + PATIENCE;
        let token = loop {
            match self.member3.next_event(Some(Duration::from_millis(100))) {
                Some(NodeEvent::VetoRequest { token, .. }) => break token,
                _ => assert!(Instant::now() < end, "member 3 was never asked for its veto"),
            }
        };
        meanwhile(self);
        self.member3.answer_veto(token, Ok(())).unwrap();
        operator.join().unwrap().unwrap_or_else(|e| panic!("change {changes:?} through member {via}: {e}"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.member3.shutdown();
        for c in self.procs.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A memory figure of process `pid` (`VmRSS`, `VmHWM`) in KiB.
fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.split(':').next() == Some(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The sender, incarnation and frame of a captured datagram, opened with the key.
fn open_captured(key: &Key, d: &[u8]) -> (u32, u64, Frame) {
    let mut opener = Envelope::new(Some(key), false, 99, 1);
    let mut d = d.to_vec();
    let cgm_runtime::auth::Opened { sender, incarnation: inc, body: range, .. } =
        opener.open(&mut d).expect("captured datagrams are genuine");
    (sender, inc, wire::decode_frame(&d[range]).expect("captured datagrams decode").1)
}

/// A captured datagram with its envelope header intact and everything after
/// it replaced by `len` - header bytes from `rng`: it claims a real sender and
/// incarnation, but its tag cannot verify.
fn junk_behind_header(captured: &[u8], len: usize, rng: &mut Rng) -> Vec<u8> {
    let head = OVERHEAD - 16;
    let mut d = captured[..head].to_vec();
    d.extend(rng.bytes(len - head));
    d
}

#[test]
fn hostile_datagrams_are_refused_and_counted_and_the_cluster_keeps_working() {
    let started = Instant::now();
    let mut c = Cluster::start();
    let before = c.settled();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // ---- A real change, captured on its way to member 3 with the heartbeats around it. ----
    c.relay.capture();
    std::thread::sleep(Duration::from_millis(300));
    let a = c.change(1, &[(Param::SendWindowSize, 48)], |_| {});
    assert!(a.committed && a.generation == before[0].generation + 1, "{a:?}");
    let s = c.settled();
    std::thread::sleep(Duration::from_millis(100));
    let captured = c.relay.take();
    let frames: Vec<(u32, u64, Frame)> = captured.iter().map(|d| open_captured(&c.key, d)).collect();
    let data_from = |id: u32| frames.iter().filter(|(s, _, f)| *s == id && matches!(f, Frame::Data { .. })).count();
    assert!(data_from(1) > 0 && data_from(2) > 0, "the change's messages to member 3 were captured: {frames:?}");
    let inc1 = s[0].inc;
    println!(
        "captured {} datagrams to member 3 around change A ({} data from member 1, {} from member 2)",
        captured.len(),
        data_from(1),
        data_from(2)
    );

    // ---- Every kind of hostile datagram at member 3, each kind counted exactly. ----
    let m3 = c.addrs[2];
    let settled = s.each_ref().map(Settled::of);
    let mut counted = Drops::of(&s[2].counters);
    let pick = |i: usize| captured[i % captured.len()].clone();
    let wrong = Key([0x5A; 32]);
    let mut forgers: Vec<Envelope> =
        [(1, s[0].inc), (2, s[1].inc)].iter().map(|&(id, inc)| Envelope::new(Some(&wrong), false, id, inc)).collect();
    let mut seal = |sender: u32, body: &[u8]| {
        let mut d = Vec::new();
        forgers[sender as usize - 1].seal(body, &mut d);
        d
    };
    let mut kinds: Vec<(&str, Vec<Vec<u8>>, Drops)> = Vec::new();
    // Forged: the captured frames of members 1 and 2, sealed with a wrong key
    // under their real incarnations.
    let forged: Vec<Vec<u8>> = (0..2_000)
        .map(|i| {
            let (sender, _, _) = open_captured(&c.key, &pick(i));
            seal(sender, &pick(i)[OVERHEAD - 16..pick(i).len() - 16])
        })
        .collect();
    kinds.push(("forged (wrong key)", forged, Drops::auth(2_000)));
    // Bit-flipped: captured datagrams with one bit flipped past the version
    // byte, in the magic bytes, in the version byte.
    let flipped = |i: usize, rng: &mut Rng| {
        let mut f = pick(i);
        let bit = 24 + rng.below((f.len() as u64 - 3) * 8) as usize;
        f[bit / 8] ^= 1 << (bit % 8);
        f
    };
    kinds.push(("bit-flipped", (0..2_000).map(|i| flipped(i, &mut rng)).collect(), Drops::auth(2_000)));
    let flip = |i: usize, byte: usize| {
        let mut f = pick(i);
        f[byte] ^= 1 << (i % 8);
        f
    };
    kinds.push(("bit-flipped magic", (0..100).map(|i| flip(i, i % 2)).collect(), Drops::malformed(100)));
    kinds.push(("bit-flipped version", (0..100).map(|i| flip(i, 2)).collect(), Drops::version(100)));
    // Truncated: every length short of the whole, from nothing up; shorter
    // than an envelope is malformed, the rest fail their tag.
    let truncated: Vec<Vec<u8>> = (0..1_500).map(|i| pick(i)[..i % pick(i).len()].to_vec()).collect();
    let short = truncated.iter().filter(|t| t.len() < OVERHEAD).count() as u64;
    kinds.push(("truncated", truncated, Drops { malformed: short, ..Drops::auth(1_500 - short) }));
    // Random: bytes of no envelope at all, and junk behind real envelope headers.
    let noise = |rng: &mut Rng| {
        let len = 1 + rng.below(1_500) as usize;
        let mut r = rng.bytes(len);
        if r[0] == b'C' {
            r[0] = b'X';
        }
        r
    };
    kinds.push(("random", (0..1_500).map(|_| noise(&mut rng)).collect(), Drops::malformed(1_500)));
    let junk: Vec<Vec<u8>> = (0..1_500).map(|i| junk_behind_header(&pick(i), OVERHEAD + rng.below(1_400) as usize, &mut rng)).collect();
    kinds.push(("random behind a real header", junk, Drops::auth(1_500)));
    // Oversized: up to the largest UDP datagram, junk and forged.
    let mut oversized: Vec<Vec<u8>> =
        (0..200).map(|i| junk_behind_header(&pick(i), 9_000 + rng.below(65_507 - 9_000 + 1) as usize, &mut rng)).collect();
    oversized.extend((0..50).map(|i| seal(1 + i % 2, &rng.bytes(60_000))));
    kinds.push(("oversized", oversized, Drops::auth(250)));
    // An envelope version this build does not speak (the previous one).
    let old_version = (0..500)
        .map(|i| {
            let mut f = pick(i);
            f[2] = ENVELOPE_VERSION - 1;
            f
        })
        .collect();
    kinds.push(("other version", old_version, Drops::version(500)));
    // Replayed: the captured change, again and again.
    kinds.push(("replayed", (0..2_000).map(pick).collect(), Drops::replayed(2_000)));
    let mut p = Pacer::new(m3);
    let mut figures = Vec::new();
    for (kind, datagrams, drops) in &kinds {
        for d in datagrams {
            p.send(d);
        }
        p.drain();
        counted = counted.plus(*drops);
        c.expect_drops(3, counted, kind);
        figures.push(format!("{kind} {} ({drops})", datagrams.len()));
    }
    assert!(p.sent >= 10_000);
    assert_eq!(c.settled().each_ref().map(Settled::of), settled, "hostile datagrams changed a member's state");
    println!("barrage at member 3: {} datagrams, {} bytes, counted exactly per kind: {}", p.sent, p.bytes, figures.join(", "));

    // ---- The captured change replayed into a later change held in flight. ----
    let base3 = Drops::of(&c.status(3).counters);
    let mut replayed_in_flight = 0;
    let b = c.change(2, &[(Param::SendWindowSize, 40), (Param::MaxFragmentSize, 1300)], |c| {
        let held = c.status(3);
        assert_eq!(held.waiting, Some(Waiting::Local(Resource::Veto)), "change B is in flight on member 3");
        let mut p = Pacer::new(m3);
        for g in captured.iter().cycle().take(1_000.max(captured.len())) {
            p.send(g);
        }
        p.drain();
        replayed_in_flight = p.sent;
        c.expect_drops(3, Drops { replayed: base3.replayed + p.sent, ..base3 }, "replays into change B");
        let still = c.status(3);
        assert_eq!((still.protocol, still.waiting), (held.protocol, held.waiting), "the replays moved change B");
    });
    assert!(b.committed && b.generation == a.generation + 1, "{b:?}");
    let s = c.settled();
    for x in &s {
        assert_eq!(
            (x.generation, x.params.get(Param::SendWindowSize), x.params.get(Param::MaxFragmentSize)),
            (b.generation, 40, 1300),
            "member {}",
            x.node
        );
    }
    println!("replayed {replayed_in_flight} captured datagrams of change A into change B; B committed everywhere");

    // ---- A forged flood at the coordinator while the cluster works. ----
    let m1 = c.addrs[0];
    let base1 = Drops::of(&s[0].counters);
    let pid1 = c.pid(1);
    let rss_before = proc_status_kib(pid1, "VmRSS");
    const FLOOD: u64 = 100_000;
    let inc2 = s[1].inc;
    let flood = std::thread::spawn(move || {
        // Forged in the name of member 2, under its real incarnation; one in
        // fifty is oversized.
        let mut rng = Rng(7);
        let mut forger = Envelope::new(Some(&Key([0xF0; 32])), false, 2, inc2);
        let (mut p, mut d, mut rss_half) = (Pacer::new(m1), Vec::new(), 0);
        for i in 0..FLOOD {
            let len = if i % 50 == 0 { 60_000 } else { rng.below(1_400) as usize };
            forger.seal(&rng.bytes(len), &mut d);
            p.send(&d);
            if i == FLOOD / 2 {
                rss_half = proc_status_kib(pid1, "VmRSS");
            }
        }
        p.drain();
        (p.bytes, rss_half)
    });
    let flood_started = Instant::now();
    let cgen = c.change(2, &[(Param::SendWindowSize, 56)], |_| {});
    assert!(cgen.committed && cgen.generation == b.generation + 1);
    let mut work = 0;
    while !flood.is_finished() || work == 0 {
        let app = AppProtocol { payload: vec![work as u8; 100].into(), rounds: 2, wait: None };
        assert!(c.member3.run_protocol(app, PATIENCE).unwrap().committed, "protocol {work} during the flood");
        work += 1;
    }
    let flood_took = flood_started.elapsed();
    let (flood_bytes, rss_half) = flood.join().unwrap();
    c.expect_drops(1, Drops { auth_failed: base1.auth_failed + FLOOD, ..base1 }, "forged flood");
    let (rss_after, peak) = (proc_status_kib(pid1, "VmRSS"), proc_status_kib(pid1, "VmHWM"));
    let s = c.settled();
    assert!(s.iter().all(|x| x.generation == cgen.generation && x.params.get(Param::SendWindowSize) == 56));
    println!(
        "flood: {FLOOD} forged datagrams ({flood_bytes} bytes) at member 1 in {flood_took:?}, {work} protocols and a change committed meanwhile; \
         member 1 VmRSS {rss_before} KiB before, {rss_half} KiB halfway, {rss_after} KiB after, peak (VmHWM) {peak} KiB"
    );
    // A refused datagram leaves nothing behind (no replay state is touched
    // before the tag verifies), so all a flood can occupy is the member's
    // inbound queue: 256 batches that each end past 64 KiB, under 32 MiB at
    // the very worst, plus allocator slack; never memory in proportion to
    // the datagrams (here some 190 MB of them).
    let bound = rss_before + (32 + 8) * 1024;
    assert!(peak <= bound && rss_after <= bound, "RSS {rss_before} KiB before, peak {peak} KiB, {rss_after} KiB after: beyond {bound} KiB");

    // ---- The coordinator restarts; its previous life's datagrams are replays. ----
    c.kill9(1);
    c.spawn(1);
    let end = Instant::now() + PATIENCE;
    let s = loop {
        let s = c.settled();
        if s[2].members.iter().any(|m| m.id == 1 && m.inc != inc1) {
            break s;
        }
        assert!(Instant::now() < end, "restarted member 1 never rejoined: {s:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(s[0].inc > inc1, "the new life has a higher incarnation");
    assert_eq!((s[0].generation, s[0].params.clone()), (s[2].generation, s[2].params.clone()), "rejoined with the current parameters");
    let old_life: Vec<&Vec<u8>> =
        captured.iter().zip(&frames).filter(|(_, (id, inc, _))| *id == 1 && *inc == inc1).map(|(d, _)| d).collect();
    assert!(!old_life.is_empty());
    let settled = s.each_ref().map(Settled::of);
    for (id, to) in [(3, c.addrs[2]), (2, c.addrs[1])] {
        let base = Drops::of(&c.status(id).counters);
        let mut p = Pacer::new(to);
        for d in old_life.iter().cycle().take(1_000) {
            p.send(d);
        }
        p.drain();
        c.expect_drops(id, Drops { replayed: base.replayed + 1_000, ..base }, "the previous life's datagrams");
    }
    assert_eq!(c.settled().each_ref().map(Settled::of), settled, "replays of the previous life changed a member's state");
    // Its new life seals under nonces its previous one never used.
    c.relay.capture();
    let d = c.change(1, &[(Param::SendWindowSize, 64)], |_| {});
    let nonce = |d: &[u8]| d[8..OVERHEAD - 16].to_vec();
    let new_life: Vec<Vec<u8>> = c.relay.take().iter().filter(|d| open_captured(&c.key, d).0 == 1).map(|d| nonce(d)).collect();
    assert!(!new_life.is_empty());
    assert!(old_life.iter().all(|d| !new_life.contains(&nonce(d))), "a nonce of the previous life came back");
    assert!(d.committed && d.generation == cgen.generation + 1);
    let s = c.settled();
    assert!(s.iter().all(|x| x.generation == d.generation && x.params.get(Param::SendWindowSize) == 64));
    println!(
        "member 1 restarted (incarnation {inc1} -> {}), its previous life's datagrams refused, a change through it committed",
        s[0].inc
    );
    println!("hostile test took {:?}", started.elapsed());
}
