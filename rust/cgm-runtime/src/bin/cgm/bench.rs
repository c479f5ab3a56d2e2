//! `cgm bench`: latency and throughput of a real cluster, measured against
//! the physical floor in the same run.
//!
//! Every member is a separate process on loopback: member 1 is a [`Node`]
//! inside the bench process (it proposes and measures), members 2..N are
//! `cgm node` child processes started from generated configurations with a
//! fresh cluster key. The floor is a UDP ping-pong with a child process that
//! echoes datagrams: every figure is also printed as a multiple of its round
//! trip time. The round benchmark also times its message pattern alone (the
//! same datagrams between as many processes doing nothing else, see
//! [`pattern_floor`]): what the group's size costs on this machine, apart
//! from what libcgm costs.

use cgm_runtime::cgm_core::messages::RELAY_FROM;
use cgm_runtime::cgm_core::{AppProtocol, NodeChange, NodeId, Param, Resource, Waiting};
use cgm_runtime::{Key, Node, NodeConfig, NodeEvent};
use std::fmt::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The benchmarks `cgm bench --only` accepts.
pub const ALL: [&str; 8] = ["floor", "round", "change", "query", "throughput", "rotation", "nodes", "crash"];
/// Key rotations in a row in the rotation benchmark.
const ROTATIONS: usize = 100;

const T: Duration = Duration::from_secs(20);
/// The lock member 2 holds in the query benchmark.
const BENCH_LOCK: &str = "bench";

/// Runs the selected benchmarks (all when `only` is empty) with `samples`
/// samples per latency figure and prints one table.
/// `members`: more group sizes to run the round, change, query and
/// throughput benchmarks at, besides their usual ones.
pub fn run(samples: usize, only: &[String], no_state: bool, members: &[u32]) -> Result<ExitCode, String> {
    NO_STATE.set(no_state).expect("run once");
    if let Some(bad) = only.iter().find(|b| !ALL.contains(&b.as_str())) {
        return Err(format!("unknown benchmark {bad:?}; known: {}", ALL.join(", ")));
    }
    if let Some(bad) = members.iter().find(|&&m| !(2..=255).contains(&m)) {
        return Err(format!("--members {bad}: a group size from 2 to 255"));
    }
    if samples < 100 {
        return Err(format!("--samples {samples}: at least 100 are needed for a p99"));
    }
    let wanted = |b: &str| only.is_empty() || only.iter().any(|o| o == b);
    println!("{}", machine());
    let floor = udp_floor(samples.max(10_000))?;
    println!("floor: UDP ping-pong between two processes on loopback, round trip p50 {} p99 {}\n", us(floor.p50), us(floor.p99));
    let mut table = Table { floor: floor.p50, rows: Vec::new(), notes: Vec::new() };
    if wanted("floor") {
        table.row("UDP ping-pong round trip (the floor)", 2, &floor, None);
    }
    // Fewer samples at larger sizes (each takes longer), never under 200
    // (some figures take half of them, and a p99 needs 100).
    let at = |n: u32| if n <= 5 { samples } else { (samples * 5 / n as usize).max(200) };
    let sizes = |base: &[u32]| base.iter().copied().chain(members.iter().copied().filter(|m| !base.contains(m))).collect::<Vec<_>>();
    if wanted("round") {
        // The coordinator's own proposal: one sequencing message to every
        // member, then one ACK round (every member ACKs to every member, or
        // through the coordinator from 4 members on).
        for n in sizes(&[3, 5]) {
            let pattern = pattern_floor(n, Pattern::Protocol, at(n))?;
            let relayed = n as usize >= RELAY_FROM;
            let round_pattern = if relayed { Some(pattern_floor(n, Pattern::AckRound, at(n))?) } else { None };
            let c = Cluster::start(n, &[], None)?;
            let s = latencies(at(n), || c.node.run_protocol(app(1, None), T).map(drop))?;
            table.row("one-round protocol: sequencing + ACK round", n, &s, None);
            table.row("  its datagrams alone (the pattern's floor)", n, &pattern, None);
            table.note(format!(
                "one-round protocol among {n}: {:.1}x its pattern's floor (p50)",
                s.p50.as_secs_f64() / pattern.p50.as_secs_f64()
            ));
            // Rounds with a local step (a free lock) are never ACKed ahead: each
            // is a real exchange of ACKs among all members.
            let free = || app(1, Some(Resource::Lock("free".into())));
            let one = latencies(at(n) / 2, || c.node.run_protocol(free(), T).map(drop))?;
            let eleven = latencies(at(n) / 2, || c.node.run_protocol(AppProtocol { rounds: 11, ..free() }, T).map(drop))?;
            let round = Summary { n: eleven.n, p50: eleven.p50.saturating_sub(one.p50) / 10, p99: eleven.p99.saturating_sub(one.p99) / 10 };
            table.row("ACK round (11 - 1 rounds with a lock step, /10)", n, &round, (n == 5).then_some(Target::P50(100)));
            if let Some(p) = &round_pattern {
                table.row("  its datagrams alone (the pattern's floor)", n, p, None);
                table.note(format!("ACK round among {n}: {:.1}x its pattern's floor (p50)", round.p50.as_secs_f64() / p.p50.as_secs_f64()));
            }
        }
    }
    if wanted("change") {
        for n in sizes(&[5]) {
            let c = Cluster::start(n, &[], None)?;
            let mut i = 0u64;
            let s = latencies(at(n) / 2, || {
                i += 1;
                c.node.propose(&[(Param::SendQueueOverflowThreshold, 10_000 + i % 2)], None, T).map(drop)
            })?;
            table.row("transactional change committed on all", n, &s, (n == 5).then_some(Target::P50(1_000)));
        }
        if NO_STATE.get() != Some(&true) {
            // What the members' state writes cost on this disk, apart.
            let one = disk_floor(1, samples / 2)?;
            let five = disk_floor(5, samples / 2)?;
            table.row("disk: state slot written in place + fdatasync", 1, &one, None);
            table.row("disk: the same by 5 writers at once (one disk)", 5, &five, None);
            table.note(format!(
                "durable change target (3x floor + one fdatasync): {}; with the 5 members' syncs on this one disk: {}",
                us(floor.p50 * 3 + one.p50),
                us(floor.p50 * 3 + five.p50)
            ));
        }
    }
    if wanted("query") {
        for n in sizes(&[5]) {
            let c = Cluster::start(n, &[], Some(2))?;
            let blocked = || app(1, Some(Resource::Lock(BENCH_LOCK.into())));
            let mut pid = c.node.submit(blocked()).map_err(|e| e.to_string())?;
            wait_until(|| {
                let s = c.node.query_status(2, T).map_err(|e| e.to_string())?;
                if matches!(s.waiting, Some(Waiting::Local(Resource::Lock(ref l))) if l == BENCH_LOCK) {
                    return Ok(true);
                }
                // A view change settling just after the group formed abandons it: again.
                if c.node.outcome(pid, Duration::ZERO).is_ok() {
                    pid = c.node.submit(blocked()).map_err(|e| e.to_string())?;
                }
                Ok(false)
            })?;
            let s = latencies(at(n), || c.node.query_status(2, T).map(drop))?;
            table.row("status query to a member blocked on a lock", n, &s, (n == 5).then_some(Target::P99(100)));
        }
    }
    if wanted("throughput") {
        for n in sizes(&[3]) {
            let c = Cluster::start(n, &[], None)?;
            let (count, elapsed) = throughput(&c.node, at(n) * 10)?;
            table.rate("ordered one-round protocols, one initiator", n, count, elapsed, (n == 3).then_some(50_000.0));
        }
    }
    if wanted("rotation") {
        let c = Cluster::start(5, &[], None)?;
        let idle = rotations(&c, "idle", 20)?;
        table.row("key rotation committed on all (idle group)", 5, &Summary::of(idle.1), None);
        let (count, elapsed) = throughput(&c.node, samples * 50)?;
        table.rate("ordered one-round protocols, one initiator", 5, count, elapsed, None);
        let r = rotations_under_load(&c, samples * 5)?;
        table.rate(&format!("  the same during {ROTATIONS} key rotations in a row"), 5, r.protocols, r.elapsed, None);
        table.row("  key rotation committed on all, under that load", 5, &r.latency, None);
        table.note(format!(
            "{ROTATIONS} key rotations under load: {} committed; datagrams refused by the 5 members meanwhile: {} (target 0)",
            r.committed, r.refused
        ));
    }
    if wanted("nodes") {
        let c = Cluster::start(5, &[], None)?;
        let cycles = (samples / 100).clamp(5, 40);
        let addr6 = node6_config(&c)?;
        let (committed, joined) = node_change_cycles(&c, cycles, &addr6)?;
        table.row("one-node add committed on all (5 -> 6), idle group", 5, &Summary::of(committed), None);
        table.row("one-node add until the new node is in the view", 5, &Summary::of(joined), None);
        let (count, elapsed) = throughput(&c.node, samples * 50)?;
        table.rate("ordered one-round protocols, one initiator", 5, count, elapsed, None);
        let r = node_changes_under_load(&c, &addr6, cycles, samples * 5)?;
        table.rate(&format!("  the same while node 6 is added and removed {} times", r.cycles), 5, r.protocols, r.elapsed, None);
        table.row("  one-node add committed on all, under that load", 5, &r.committed, None);
        table.row("  one-node add until the new node is in the view, under load", 5, &r.joined, None);
        table.note("under load, an add is sequenced behind up to 4 batches of 1,024 protocols of the initiator".into());
    }
    if wanted("crash") {
        let hb = [(Param::HeartbeatInterval, 10), (Param::HeartbeatTimeout, 30), (Param::HeartbeatAckTimeout, 30)];
        let mut c = Cluster::start(5, &hb, None)?;
        let p = c.node.params().map_err(|e| e.to_string())?.effective;
        let detection = Duration::from_millis(
            p.get(Param::HeartbeatAckTimeout) + p.get(Param::HeartbeatAckFailureThreshold) * p.get(Param::HeartbeatInterval),
        );
        let s = crash_to_view(&mut c, (samples / 100).clamp(5, 50))?;
        let bound = detection.as_micros() as u64 + 2_000;
        table.row(&format!("crash to new view (detection {} ms)", detection.as_millis()), 5, &s, Some(Target::P50(bound)));
    }
    print!("{table}");
    Ok(ExitCode::SUCCESS)
}

/// A latency target in µs.
#[derive(Clone, Copy)]
enum Target {
    P50(u64),
    P99(u64),
}

/// p50 and p99 of a set of samples.
struct Summary {
    n: usize,
    p50: Duration,
    p99: Duration,
}

impl Summary {
    fn of(mut v: Vec<Duration>) -> Summary {
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Summary { n: v.len(), p50: at(0.50), p99: at(0.99) }
    }
}

struct Table {
    floor: Duration,
    rows: Vec<String>,
    notes: Vec<String>,
}

impl Table {
    fn row(&mut self, what: &str, members: u32, s: &Summary, target: Option<Target>) {
        let ratio = s.p50.as_secs_f64() / self.floor.as_secs_f64();
        let target = match target {
            None => String::new(),
            Some(Target::P50(t)) => format!("p50 <= {t} µs  {}", if s.p50 <= Duration::from_micros(t) { "met" } else { "not met" }),
            Some(Target::P99(t)) => format!("p99 <= {t} µs  {}", if s.p99 <= Duration::from_micros(t) { "met" } else { "not met" }),
        };
        self.rows.push(format!("{what:<48} {members:>2}  {:>7}  {:>10}  {:>10}  {ratio:>7.1}x  {target}", s.n, us(s.p50), us(s.p99)));
    }

    fn rate(&mut self, what: &str, members: u32, count: usize, elapsed: Duration, target: Option<f64>) {
        let rate = count as f64 / elapsed.as_secs_f64();
        let target = target.map_or(String::new(), |t| format!(">= {t:.0}/s  {}", if rate >= t { "met" } else { "not met" }));
        self.rows.push(format!(
            "{what:<48} {members:>2}  {count:>7}  {rate:>8.0}/s  in {:>6.2} s  {:>8}  {target}",
            elapsed.as_secs_f64(),
            ""
        ));
    }

    /// A line of its own under the table.
    fn note(&mut self, text: String) {
        self.notes.push(text);
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{:<48} {:>2}  {:>7}  {:>10}  {:>10}  {:>8}  target", "benchmark", "n", "samples", "p50", "p99", "p50/floor")?;
        for r in &self.rows {
            writeln!(f, "{}", r.trim_end())?;
        }
        for n in &self.notes {
            writeln!(f, "{n}")?;
        }
        Ok(())
    }
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn app(rounds: u8, wait: Option<Resource>) -> AppProtocol {
    AppProtocol { payload: Vec::new().into(), rounds, wait }
}

/// Times `n` calls of `f` after a warm-up of `n / 10`.
fn latencies<E: std::fmt::Display>(n: usize, mut f: impl FnMut() -> Result<(), E>) -> Result<Summary, String> {
    for _ in 0..n / 10 {
        f().map_err(|e| e.to_string())?;
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().map_err(|e| e.to_string())?;
        v.push(t.elapsed());
    }
    Ok(Summary::of(v))
}

fn wait_until(mut ready: impl FnMut() -> Result<bool, String>) -> Result<(), String> {
    let end = Instant::now() + T;
    while !ready()? {
        if Instant::now() > end {
            return Err("the cluster did not reach the state the benchmark needs in 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// What [`rotations_under_load`] measured.
struct RotationRun {
    /// Protocols committed while the rotations ran.
    protocols: usize,
    elapsed: Duration,
    committed: usize,
    latency: Summary,
    /// Datagrams the members refused meanwhile (authentication failures).
    refused: u64,
}

/// Runs [`ROTATIONS`] key rotations in a row from member 1 ([`rotations`])
/// while batches of `batch` protocols run from it too, until the last
/// rotation ends.
fn rotations_under_load(c: &Cluster, batch: usize) -> Result<RotationRun, String> {
    let refused = |c: &Cluster| -> Result<u64, String> {
        let mut total = c.node.status().map_err(|e| e.to_string())?.counters.auth_failed;
        for id in 2..=5 {
            total += c.node.query_status(id, T).map_err(|e| e.to_string())?.counters.auth_failed;
        }
        Ok(total)
    };
    let before = refused(c)?;
    let (rotated, protocols, elapsed) = under_load(c, batch, || rotations(c, "loaded", ROTATIONS))?;
    // Past the grace of the last retired key, then count.
    std::thread::sleep(Duration::from_millis(3_200));
    let after = refused(c)?;
    let (committed, times) = rotated;
    Ok(RotationRun { protocols, elapsed, committed, latency: Summary::of(times), refused: after - before })
}

struct NodeChangeRun {
    cycles: usize,
    /// Protocols committed while the node changes ran.
    protocols: usize,
    elapsed: Duration,
    /// From proposing the add to its outcome, final on every member.
    committed: Summary,
    /// From proposing the add to member 1's view holding the new node (its
    /// process started as soon as the add committed).
    joined: Summary,
}

/// Runs [`node_change_cycles`] while batches of `batch` protocols run from
/// member 1 until the last cycle ends.
fn node_changes_under_load(c: &Cluster, addr6: &str, cycles: usize, batch: usize) -> Result<NodeChangeRun, String> {
    let ((committed, joined), protocols, elapsed) = under_load(c, batch, || node_change_cycles(c, cycles, addr6))?;
    Ok(NodeChangeRun { cycles, protocols, elapsed, committed: Summary::of(committed), joined: Summary::of(joined) })
}

/// Writes node 6's configuration, for [`node_change_cycles`]: a free
/// loopback port, `join = true`, itself and member 1; its address.
fn node6_config(c: &Cluster) -> Result<String, String> {
    let lo = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    let port = cgm_runtime::free_ports(lo, 1).map_err(|e| format!("cannot find a free loopback port: {e}"))?[0];
    let addr6 = SocketAddr::new(lo, port).to_string();
    let one = c.node.status().map_err(|e| e.to_string())?.params.nodes().address(1).unwrap_or_default().to_string();
    let text = format!(
        "cluster = \"bench\"\nnode_id = 6\njoin = true\nkey_file = \"cluster.key\"\nstate_dir = \"state-6\"\n\
         [[nodes]]\nid = 1\naddr = \"{one}\"\n[[nodes]]\nid = 6\naddr = \"{addr6}\"\n"
    );
    std::fs::write(c.dir.join("node6.toml"), text).map_err(|e| e.to_string())?;
    Ok(addr6)
}

/// Adds node 6 (at `addr6`, configured by [`node6_config`]) to the five
/// members and removes it again, `cycles` times: how long each add took to
/// commit and to bring node 6 into member 1's view. Node 6 starts as soon
/// as the add committed, with an empty state directory; removed, it exits
/// by itself.
fn node_change_cycles(c: &Cluster, cycles: usize, addr6: &str) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let (mut committed, mut joined) = (Vec::new(), Vec::new());
    let add = NodeChange { add: vec![(6, addr6.to_string())], remove: Vec::new() };
    let remove = NodeChange { add: Vec::new(), remove: vec![6] };
    for _ in 0..cycles {
        let _ = std::fs::remove_dir_all(c.dir.join("state-6"));
        let t = Instant::now();
        c.node.change_nodes(&add, None, T).map_err(|e| format!("adding node 6: {e}"))?;
        committed.push(t.elapsed());
        let mut six = Command::new(exe()?)
            .arg("node")
            .arg("-c")
            .arg(c.dir.join("node6.toml"))
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start node 6: {e}"))?;
        wait_until(|| Ok(c.node.status().map_err(|e| e.to_string())?.members.iter().any(|m| m.id == 6)))?;
        joined.push(t.elapsed());
        c.node.change_nodes(&remove, None, T).map_err(|e| format!("removing node 6: {e}"))?;
        // Told, node 6 leaves and exits by itself.
        let end = Instant::now() + T;
        while six.try_wait().map_err(|e| e.to_string())?.is_none() {
            if Instant::now() > end {
                let _ = six.kill();
                return Err("removed node 6 did not exit".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    Ok((committed, joined))
}

/// Runs `work` on a thread while batches of `batch` protocols run from
/// member 1 until it ends: its result, the protocols committed meanwhile,
/// and how long it all took.
fn under_load<R: Send>(c: &Cluster, batch: usize, work: impl FnOnce() -> Result<R, String> + Send) -> Result<(R, usize, Duration), String> {
    let done = std::sync::atomic::AtomicBool::new(false);
    let start = Instant::now();
    let (r, protocols) = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let r = work();
            done.store(true, std::sync::atomic::Ordering::Release);
            r
        });
        let mut protocols = 0;
        while !done.load(std::sync::atomic::Ordering::Acquire) {
            protocols += throughput(&c.node, batch)?.0;
        }
        Ok::<_, String>((worker.join().map_err(|_| "the working thread panicked".to_string())??, protocols))
    })?;
    Ok((r, protocols, start.elapsed()))
}

/// Runs `n` key rotations in a row from member 1, each to a fresh key file
/// beside the first (named after `tag`); how many committed, and how long
/// each took.
fn rotations(c: &Cluster, tag: &str, n: usize) -> Result<(usize, Vec<Duration>), String> {
    let mut times = Vec::with_capacity(n);
    let mut committed = 0;
    for i in 0..n {
        let f = c.dir.join(format!("rotated-{tag}-{i}.key"));
        Key::generate().write_new(&f)?;
        let t = Instant::now();
        match c.node.rotate_key(&f, None, T) {
            Ok(_) => committed += 1,
            Err(e) => eprintln!("cgm bench: a key rotation did not commit: {e}"),
        }
        times.push(t.elapsed());
    }
    Ok((committed, times))
}

/// Proposes `count` one-round protocols in batches of 1,024 (at most four
/// batches in flight) and returns how many committed, counted from the
/// node's completion events, and how long it took.
fn throughput(node: &Node, count: usize) -> Result<(usize, Duration), String> {
    const BATCH: usize = 1_024;
    while node.poll_event().is_some() {}
    let mut last_of_batch = std::collections::VecDeque::new();
    let start = Instant::now();
    for sent in (0..count).step_by(BATCH) {
        if last_of_batch.len() == 4 {
            node.outcome(last_of_batch.pop_front().expect("four batches in flight"), T).map_err(|e| e.to_string())?;
        }
        let apps = (sent..count.min(sent + BATCH)).map(|_| app(1, None)).collect();
        let ids =
            node.submit_all(apps).map_err(|e| e.to_string())?.into_iter().collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
        last_of_batch.extend(ids.last().copied());
    }
    // One initiator's protocols complete in the order they were proposed.
    if let Some(&last) = last_of_batch.back() {
        node.outcome(last, T).map_err(|e| e.to_string())?;
    }
    let elapsed = start.elapsed();
    let (mut committed, mut views) = (0, 0);
    while let Some(e) = node.poll_event() {
        committed += usize::from(matches!(e, NodeEvent::ProtocolCompleted(ref o) if o.committed && o.kind == "app"));
        views += usize::from(matches!(e, NodeEvent::ViewChanged { .. }));
    }
    if views > 0 || committed < count {
        eprintln!("cgm bench: during the throughput run: {views} view change(s), {} of {count} protocols not committed", count - committed);
    }
    Ok((committed, elapsed))
}

/// Kills member 5 `n` times (SIGKILL) and times each crash until member 1
/// installs a view without it; restarts it in between.
fn crash_to_view(c: &mut Cluster, n: usize) -> Result<Summary, String> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        c.node.wait_members(5, T).map_err(|e| format!("member 5 did not rejoin: {e}"))?;
        while c.node.poll_event().is_some() {}
        let t = Instant::now();
        c.kill(5)?;
        loop {
            match c.node.next_event(Some(T)) {
                Some(NodeEvent::ViewChanged { members, .. }) if !members.contains(&5) => break,
                Some(_) => {}
                None => return Err("no view change within 20 s of a crash".into()),
            }
        }
        v.push(t.elapsed());
        c.spawn(5)?;
    }
    Ok(Summary::of(v))
}

/// The floor: a UDP ping-pong with an echoing child process.
/// The time `writers` threads take, each writing 600 bytes in place into
/// its own preallocated file in the temporary directory and syncing it
/// (`fdatasync`), all at once: what a member's state write costs, and what
/// `writers` members sharing this machine's one disk pay.
fn disk_floor(writers: usize, n: usize) -> Result<Summary, String> {
    use std::os::unix::fs::FileExt;
    let dir = std::env::temp_dir().join(format!("cgm-bench-disk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let files = (0..writers)
        .map(|i| {
            let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(dir.join(format!("w{i}")))?;
            f.write_all_at(&[0u8; 8_192], 0)?;
            f.sync_all()?;
            Ok(f)
        })
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| format!("disk floor: {e}"));
    let files = files?;
    let start = std::sync::Barrier::new(writers + 1);
    let done = std::sync::Barrier::new(writers + 1);
    let samples = std::thread::scope(|scope| {
        for (i, f) in files.iter().enumerate() {
            let (start, done) = (&start, &done);
            scope.spawn(move || {
                for k in 0..n {
                    start.wait();
                    let _ = f.write_all_at(&[(k + i) as u8; 600], 4_096 * (k % 2) as u64).and_then(|()| f.sync_data());
                    done.wait();
                }
            });
        }
        (0..n)
            .map(|_| {
                start.wait();
                let t = Instant::now();
                done.wait();
                t.elapsed()
            })
            .collect::<Vec<_>>()
    });
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Summary::of(samples))
}

fn udp_floor(n: usize) -> Result<Summary, String> {
    let (sock, peers) = Peers::start(1)?;
    let to = peers.addrs[0];
    let payload = [0u8; 96];
    let mut buf = [0u8; 256];
    latencies(n, || {
        sock.send_to(&payload, to)?;
        sock.recv_from(&mut buf).map(drop)
    })
}

/// What [`pattern_floor`] sends: the datagrams of one protocol, or of one
/// ACK round within a protocol.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Protocol,
    AckRound,
}

/// The floor of a message pattern of libcgm among `n`: its datagrams, as
/// libcgm's members exchange them, between this thread and `n - 1` child
/// processes that do nothing else: no encoding, authentication, state or
/// thread hand-off. What libcgm takes beyond it is its own cost; what the
/// pattern takes beyond the ping-pong floor is the cost of the group's size
/// on this machine.
///
/// From [`RELAY_FROM`] members on, a protocol: the coordinator sends to
/// every member, every member answers it (the ACK), the coordinator sends
/// to every member again (the relay) and every member answers (`Done`): 4
/// one-way hops; then the coordinator passes the `Done`s on (not waited
/// for): 5(n - 1) datagrams, 20 among 5. An ACK round: every member to the
/// coordinator, and the relay back, timed from the coordinator as one
/// fan-out round trip. Below [`RELAY_FROM`], a protocol: every member ACKs
/// to every member and says it decided to every member once it has every
/// ACK; the coordinator, done once it has every ACK and every `Done`, says
/// its own `Done` to all (not waited for): 3 hops, 12 datagrams among 3.
/// An ACK round below [`RELAY_FROM`] (every member to every member, one
/// hop) has no floor here.
fn pattern_floor(n: u32, pattern: Pattern, samples: usize) -> Result<Summary, String> {
    let others = n as usize - 1;
    let direct = (n as usize) < RELAY_FROM;
    assert!(!(direct && pattern == Pattern::AckRound), "no floor of a direct ACK round");
    let (sock, peers) = Peers::start(others)?;
    if direct {
        peers.tell_others(&sock)?;
    }
    let mut buf = [0u8; 256];
    let mut k = 0u64;
    let send_all = |kind: u8, k: u64| -> std::io::Result<()> {
        let mut m = [0u8; 96];
        m[0] = kind;
        m[1..9].copy_from_slice(&k.to_le_bytes());
        peers.addrs.iter().try_for_each(|to| sock.send_to(&m, to).map(drop))
    };
    // Waits for `wanted` datagrams of sample `k` (a late one of an earlier
    // sample is skipped).
    let wait = |buf: &mut [u8], k: u64, mut wanted: usize| -> std::io::Result<()> {
        while wanted > 0 {
            let (len, _) = sock.recv_from(buf)?;
            if len >= 9 && buf[1..9] == k.to_le_bytes() {
                wanted -= 1;
            }
        }
        Ok(())
    };
    latencies(samples, || -> std::io::Result<()> {
        k += 1;
        send_all(SEQUENCED, k)?;
        if direct {
            wait(&mut buf, k, 2 * others)?;
            return send_all(DONE, k);
        }
        wait(&mut buf, k, others)?;
        if pattern == Pattern::AckRound {
            return Ok(());
        }
        send_all(RELAY, k)?;
        wait(&mut buf, k, others)?;
        send_all(DONE, k)
    })
}

/// Kinds of datagram in [`pattern_floor`] (the first byte; the sample
/// number follows).
const SEQUENCED: u8 = 1;
const ACK: u8 = 2;
const RELAY: u8 = 3;
const DONE: u8 = 4;
/// The datagram that gives a direct pattern's peer its peers' addresses.
const OTHERS: u8 = 5;

/// Child processes running `cgm bench-echo`, stopped when dropped.
struct Peers {
    addrs: Vec<SocketAddr>,
    children: Vec<Child>,
}

impl Peers {
    /// Starts `n` echoing children once each answers.
    fn start(n: usize) -> Result<(UdpSocket, Peers), String> {
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(200))).map_err(|e| e.to_string())?;
        let mut peers = Peers { addrs: Vec::new(), children: Vec::new() };
        for _ in 0..n {
            let probe = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
            let addr = probe.local_addr().map_err(|e| e.to_string())?;
            drop(probe);
            let child = Command::new(exe()?)
                .args(["bench-echo", "--bind", &addr.to_string()])
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start the echo process: {e}"))?;
            peers.children.push(child);
            peers.addrs.push(addr);
        }
        let mut buf = [0u8; 256];
        for &to in &peers.addrs {
            // A child may take a moment to bind.
            wait_until(|| Ok(sock.send_to(&[0u8; 16], to).is_ok() && sock.recv_from(&mut buf).is_ok()))?;
        }
        Ok((sock, peers))
    }

    /// Turns the children into the peers of a direct pattern: each learns
    /// the others' addresses.
    fn tell_others(&self, sock: &UdpSocket) -> Result<(), String> {
        let mut buf = [0u8; 256];
        for &to in &self.addrs {
            let mut m = vec![OTHERS];
            for a in self.addrs.iter().filter(|&&a| a != to) {
                m.extend_from_slice(a.to_string().as_bytes());
                m.push(b' ');
            }
            sock.send_to(&m, to).map_err(|e| e.to_string())?;
            sock.recv_from(&mut buf).map_err(|e| format!("a pattern peer did not answer: {e}"))?;
        }
        Ok(())
    }
}

impl Drop for Peers {
    /// Stops the children, on every way out (one that never answered too).
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `cgm bench-echo`: sends every datagram back to its sender, forever
/// (but a [`pattern_floor`]'s `Done`); or, once told its peers' addresses,
/// plays a member of [`pattern_floor`]'s direct pattern.
pub fn echo(bind: SocketAddr) -> Result<ExitCode, String> {
    let sock = UdpSocket::bind(bind).map_err(|e| format!("cannot bind {bind}: {e}"))?;
    let mut buf = [0u8; 65_536];
    let mut others: Vec<SocketAddr> = Vec::new();
    // Of the sample in progress: its number, who sequenced it (none yet),
    // the ACKs of peers received, whether this peer said `Done`.
    let (mut sample, mut coordinator, mut acks, mut done) = (0u64, None, 0usize, false);
    loop {
        let (n, from) = sock.recv_from(&mut buf).map_err(|e| e.to_string())?;
        if n >= 1 && buf[0] == OTHERS {
            let text = String::from_utf8_lossy(&buf[1..n]);
            others = text.split_whitespace().filter_map(|a| a.parse().ok()).collect();
            sock.send_to(&[OTHERS], from).map_err(|e| e.to_string())?;
            continue;
        }
        if others.is_empty() || n < 9 {
            // A `Done` passed on ends a relayed protocol: nothing answers it.
            if !(n >= 9 && buf[0] == DONE) {
                sock.send_to(&buf[..n], from).map_err(|e| e.to_string())?;
            }
            continue;
        }
        let k = u64::from_le_bytes(buf[1..9].try_into().expect("9 bytes"));
        if k > sample {
            (sample, coordinator, acks, done) = (k, None, 0, false);
        }
        if k < sample {
            continue;
        }
        match buf[0] {
            SEQUENCED => {
                coordinator = Some(from);
                buf[0] = ACK;
                sock.send_to(&buf[..n], from).map_err(|e| e.to_string())?;
                for to in &others {
                    sock.send_to(&buf[..n], to).map_err(|e| e.to_string())?;
                }
            }
            ACK => acks += 1,
            _ => {}
        }
        if let Some(c) = coordinator.filter(|_| acks == others.len() && !done) {
            done = true;
            buf[0] = DONE;
            for to in std::iter::once(&c).chain(&others) {
                sock.send_to(&buf[..n], to).map_err(|e| e.to_string())?;
            }
        }
    }
}

fn exe() -> Result<PathBuf, String> {
    std::env::current_exe().map_err(|e| format!("cannot find the cgm executable: {e}"))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("machine: {cpu}, {cores} cores, Linux {}; cgm {}", kernel.trim(), env!("CARGO_PKG_VERSION"))
}

/// Whether the benchmark's members keep no state on disk (`--no-state`);
/// by default each keeps it, as `cgm node` does.
static NO_STATE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// A cluster of `n` members on loopback: member 1 in this process, the others
/// `cgm node` children.
struct Cluster {
    node: Node,
    dir: PathBuf,
    hold_lock: Option<NodeId>,
    children: Vec<(NodeId, Child)>,
}

impl Cluster {
    /// Starts the cluster with `params` overriding defaults; member `hold_lock`
    /// holds [`BENCH_LOCK`] for its lifetime.
    fn start(n: u32, params: &[(Param, u64)], hold_lock: Option<NodeId>) -> Result<Cluster, String> {
        let dir = std::env::temp_dir().join(format!("cgm-bench-{}-{n}-{}", std::process::id(), cgm_runtime::new_incarnation()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let key = Key::generate();
        key.write_new(&dir.join("cluster.key"))?;
        let lo = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let addrs: Vec<SocketAddr> = cgm_runtime::free_ports(lo, n as usize)
            .map_err(|e| format!("cannot find free loopback ports: {e}"))?
            .into_iter()
            .map(|p| SocketAddr::new(lo, p))
            .collect();
        let mut text = String::from("cluster = \"bench\"\nkey_file = \"cluster.key\"\n");
        for (i, a) in addrs.iter().enumerate() {
            let _ = write!(text, "[[nodes]]\nid = {}\naddr = \"{a}\"\n", i + 1);
        }
        text.push_str("[params]\n");
        for (p, v) in params {
            let _ = writeln!(text, "{} = {v}", p.name());
        }
        for id in 1..=n {
            let state = if NO_STATE.get() == Some(&true) { String::new() } else { format!("state_dir = \"state-{id}\"\n") };
            std::fs::write(dir.join(format!("node{id}.toml")), format!("node_id = {id}\n{state}{text}")).map_err(|e| e.to_string())?;
        }
        let cfg = NodeConfig::load(&dir.join("node1.toml")).map_err(|e| e.to_string())?;
        let node = Node::start(cfg).map_err(|e| e.to_string())?;
        let mut c = Cluster { node, dir, hold_lock, children: Vec::new() };
        for id in 2..=n {
            c.spawn(id)?;
        }
        c.node.wait_members(n as usize, T).map_err(|e| format!("the {n} members did not form a group: {e}"))?;
        c.settle(n)?;
        Ok(c)
    }

    /// Waits until every member reports the view member 1 is in, so no merge
    /// still under way at a cold start abandons the first measured protocols.
    fn settle(&self, n: NodeId) -> Result<(), String> {
        let end = Instant::now() + T;
        loop {
            let view = self.node.status().map_err(|e| e.to_string())?.view;
            let agreed = (2..=n).all(|id| {
                self.node.query_status(id, Duration::from_millis(200)).is_ok_and(|s| s.view == view && s.members.len() == n as usize)
            });
            if agreed && self.node.status().map_err(|e| e.to_string())?.view == view {
                return Ok(());
            }
            if Instant::now() > end {
                return Err(format!("the {n} members did not settle into one view"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn spawn(&mut self, id: NodeId) -> Result<(), String> {
        let mut cmd = Command::new(exe()?);
        cmd.arg("node").arg("-c").arg(self.dir.join(format!("node{id}.toml"))).stdout(Stdio::null());
        if NO_STATE.get() == Some(&true) {
            cmd.arg("--no-state");
        }
        if self.hold_lock == Some(id) {
            cmd.args(["--hold-lock", BENCH_LOCK]);
        }
        let child = cmd.spawn().map_err(|e| format!("cannot start member {id}: {e}"))?;
        self.children.push((id, child));
        Ok(())
    }

    fn kill(&mut self, id: NodeId) -> Result<(), String> {
        let i = self.children.iter().position(|(c, _)| *c == id).ok_or_else(|| format!("member {id} is not running"))?;
        let (_, mut child) = self.children.remove(i);
        child.kill().map_err(|e| format!("cannot kill member {id}: {e}"))?;
        let _ = child.wait();
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.node.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
