//! End to end: five real `cgm node` processes on loopback, driven with the
//! `cgm` tool as an operator would, plus one embedded node for the lock case.

use cgm_runtime::auth::Envelope;
use cgm_runtime::cgm_core::messages::Frame;
use cgm_runtime::cgm_core::query::operator_datagram;
use cgm_runtime::cgm_core::{AppProtocol, Outcome, Param, Resource, Status, Waiting};
use cgm_runtime::{Key, Node, NodeConfig};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CGM: &str = env!("CARGO_BIN_EXE_cgm");
const N: u32 = 5;
/// Nodes beyond the first five, which a node change adds.
const SPARES: u32 = 3;
const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

struct Cluster {
    dir: PathBuf,
    ports: Vec<u16>,
    procs: Vec<Option<Child>>,
}

impl Cluster {
    fn new(name: &str) -> Cluster {
        let dir = std::env::temp_dir().join(format!("cgm-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ports = cgm_runtime::free_ports(LOOPBACK, (N + SPARES) as usize).unwrap();
        let out = run(&["keygen", "-o", dir.join("cluster.key").to_str().unwrap()]);
        assert!(out.status.success(), "keygen: {out:?}");
        let c = Cluster { dir, ports, procs: (0..N + SPARES).map(|_| None).collect() };
        for id in 1..=N + SPARES {
            std::fs::write(c.config(id), c.toml(id)).unwrap();
        }
        c
    }

    fn addr(&self, id: u32) -> String {
        format!("127.0.0.1:{}", self.ports[id as usize - 1])
    }

    fn toml(&self, id: u32) -> String {
        let mut t = format!(
            "cluster = \"e2e\"\nnode_id = {id}\nkey_file = \"cluster.key\"\nquorum = \"majority\"\n\
             [params]\nheartbeat-interval = \"100ms\"\nheartbeat-timeout = \"400ms\"\nheartbeat-ack-timeout = \"400ms\"\nmax-message-retry-time = \"2s\"\n"
        );
        if id == 2 {
            // A file that disagrees with the others: the cluster runs the committed 64.
            t.push_str("send-window-size = 32\n");
        }
        if id == N {
            // This host's NIC takes no fragment over 1200 bytes: changes beyond fail here.
            t.push_str("[limits]\nmax-fragment-size = 1200\n");
        }
        // A spare joins the cluster a node change added it to: its file lists
        // itself and one member to contact.
        let listed: Vec<u32> = if id > N { vec![1, id] } else { (1..=N).collect() };
        if id > N {
            t.insert_str(0, "join = true\n");
        }
        for i in listed {
            t.push_str(&format!("[[nodes]]\nid = {i}\naddr = \"{}\"\n", self.addr(i)));
        }
        t
    }

    fn config(&self, id: u32) -> PathBuf {
        self.dir.join(format!("node{id}.toml"))
    }

    /// The working directory of node `id`'s process: the cluster's
    /// directory, but for node N, which works elsewhere (a path under
    /// `/proc/self/cwd` finds a file on the other nodes and not on it).
    fn cwd(&self, id: u32) -> PathBuf {
        if id == N {
            let d = self.dir.join("elsewhere");
            std::fs::create_dir_all(&d).unwrap();
            d
        } else {
            self.dir.clone()
        }
    }

    fn start(&mut self, id: u32) {
        self.start_with(id, &[]);
    }

    /// Starts node `id` with these environment variables, as systemd
    /// would: a value of "{stderr}" becomes the device and inode of its
    /// stderr (`dev:ino`, as in `JOURNAL_STREAM`), and "{pid}" its process
    /// id (as in `WATCHDOG_PID`; the node is then started through `sh -c
    /// 'exec ...'`, which keeps the id).
    fn start_with(&mut self, id: u32, env: &[(&str, &str)]) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.join(format!("node{id}.log"))).unwrap();
        let meta = log.metadata().unwrap();
        let stream = format!("{}:{}", std::os::unix::fs::MetadataExt::dev(&meta), std::os::unix::fs::MetadataExt::ino(&meta));
        let config = self.config(id);
        let args = ["node", "-c", config.to_str().unwrap()];
        let mut cmd = match env.iter().find(|(_, v)| *v == "{pid}") {
            Some((k, _)) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("export {k}=$$; exec \"$0\" \"$@\""), CGM]).args(args);
                sh
            }
            None => {
                let mut c = Command::new(CGM);
                c.args(args);
                c
            }
        };
        cmd.current_dir(self.cwd(id));
        for &(k, v) in env.iter().filter(|(_, v)| *v != "{pid}") {
            cmd.env(k, if v == "{stderr}" { stream.as_str() } else { v });
        }
        let child = cmd.stdout(log.try_clone().unwrap()).stderr(log).spawn().unwrap();
        self.procs[id as usize - 1] = Some(child);
    }

    /// Starts every node and waits until each is in a view of all of them.
    fn start_all(&mut self) {
        for id in 1..=N {
            self.start(id);
        }
        for id in 1..=N {
            let s = self.wait_view(1, id, N as usize);
            assert_eq!(s.node, id);
        }
    }

    fn kill9(&mut self, id: u32) {
        let mut c = self.procs[id as usize - 1].take().expect("running");
        c.kill().unwrap();
        c.wait().unwrap();
    }

    fn status(&self, asker: u32, member: u32) -> Option<Status> {
        let out =
            run(&["status", "-c", self.config(asker).to_str().unwrap(), "--member", &member.to_string(), "--json", "--timeout", "0.5"]);
        out.status.success().then(|| {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
            cgm_runtime::cgm_core::schema::status_from_json(&v).expect("a schema-1 status")
        })
    }

    fn wait_view(&self, asker: u32, member: u32, members: usize) -> Status {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.status(asker, member) {
                if s.members.len() == members && s.quorum && s.phase.as_str() == "idle" {
                    return s;
                }
            }
            assert!(Instant::now() < end, "member {member} never reached a view of {members}: {:?}", self.status(asker, member));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn set(&self, via: u32, changes: &[&str]) -> (Output, Option<Outcome>) {
        let cfg = self.config(via);
        let mut args = vec!["set", "-c", cfg.to_str().unwrap(), "--json"];
        args.extend_from_slice(changes);
        let out = run(&args);
        let outcome = serde_json::from_slice(&out.stdout)
            .ok()
            .map(|v| cgm_runtime::cgm_core::schema::outcome_from_json(&v).expect("a schema-1 outcome"));
        (out, outcome)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.procs.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Rotates the cluster key to the key file `file` through member `via`,
/// as an operator does (`cgm rotate-key`); the exit code and the outcome.
fn rotate(c: &Cluster, via: u32, file: &Path) -> (Option<i32>, Option<Outcome>, String) {
    let cfg = c.config(via);
    let out = Command::new(CGM)
        .current_dir(&c.dir)
        .args(["rotate-key", "-c", cfg.to_str().unwrap(), "--key-file", file.to_str().unwrap(), "--json", "--timeout", "8"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let o = serde_json::from_slice(&out.stdout).ok().map(|v| cgm_runtime::cgm_core::schema::outcome_from_json(&v).expect("an outcome"));
    (out.status.code(), o, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Writes a fresh key file `name` in the cluster's directory.
fn new_key(c: &Cluster, name: &str) -> (PathBuf, Key) {
    let path = c.dir.join(name);
    let out = run(&["keygen", "-o", path.to_str().unwrap()]);
    assert!(out.status.success(), "keygen: {out:?}");
    let key = Key::load(&path).unwrap();
    (path, key)
}

/// Waits until every member runs under the key `key` alone (its grace over).
fn wait_key(c: &Cluster, key: &Key) -> Vec<Status> {
    let fp = key.fingerprint();
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let all: Vec<Status> = (1..=N).filter_map(|id| c.status(1, id)).collect();
        if all.len() == N as usize && all.iter().all(|s| s.keys.committed == fp && s.keys.sending == fp && s.keys.accepting == [fp]) {
            return all;
        }
        assert!(
            Instant::now() < end,
            "not every member runs under key {fp:016x}: {:?}",
            all.iter().map(|s| (s.node, &s.keys)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(CGM).args(args).stdin(Stdio::null()).output().unwrap()
}

fn key_of(dir: &Path) -> Key {
    Key::load(&dir.join("cluster.key")).unwrap()
}

#[test]
fn five_processes_form_retune_roll_back_survive_a_kill_and_rejoin_with_current_parameters() {
    let mut c = Cluster::new("main");
    c.start_all();

    // A committed change, with units, on every member.
    let (out, o) = c.set(1, &["heartbeat-interval=200ms", "heartbeat-timeout=800ms", "heartbeat-ack-timeout=800ms"]);
    assert!(out.status.success(), "set failed: {}", String::from_utf8_lossy(&out.stderr));
    let o = o.unwrap();
    assert!(o.committed && o.statuses.len() == N as usize);
    for id in 1..=N {
        let s = c.status(2, id).unwrap();
        assert_eq!(s.params.get(Param::HeartbeatInterval), 200, "member {id}");
        assert_eq!(s.generation, o.generation);
    }

    // A change member 5's [limits] refuse: rolled back on every member, exit code 1.
    let (out, o) = c.set(2, &["max-fragment-size=1300"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    let o = o.unwrap();
    assert!(!o.committed);
    assert!(o.reason.as_deref().unwrap().contains("member 5"), "{:?}", o.reason);
    assert!(o.reason.as_deref().unwrap().contains("local limit of 1200"), "{:?}", o.reason);
    for id in 1..=N {
        assert_eq!(c.status(1, id).unwrap().params.get(Param::MaxFragmentSize), 1400, "member {id} kept the old value");
    }
    let out = run(&["params", "-c", c.config(1).to_str().unwrap(), "--all-members"]);
    assert!(out.status.success(), "params differ: {}", String::from_utf8_lossy(&out.stdout));
    // Each member's own file and limits beside the value in force, disagreements flagged.
    let table = String::from_utf8_lossy(&out.stdout);
    let line = |name: &str| table.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_default().to_string();
    assert!(line("send-window-size").contains("(file 32") && line("send-window-size").contains("<-- a file differs"), "{table}");
    assert!(line("max-fragment-size").contains("(limit 1200"), "{table}");
    assert!(line("heartbeat-interval").contains("200ms (file 100ms)"), "{table}");

    // Invalid values are refused before anything is sent, naming the parameter and range.
    let (out, _) = c.set(1, &["send-window-size=0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("send-window-size = 0 is out of range: valid range is 1..=4096"), "{err}");
    // A cross-parameter refusal names the parameter set and the value it conflicts with.
    let (out, _) = c.set(1, &["heartbeat-interval=5s"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("heartbeat-interval = 5000 is invalid: must be below heartbeat-timeout (800ms)"), "{err}");

    // kill -9 one process: the survivors install a view without it and keep working.
    c.kill9(3);
    let s = c.wait_view(1, 1, N as usize - 1);
    assert!(!s.members.iter().any(|m| m.id == 3));
    let (out, o) = c.set(4, &["send-window-size=48"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let generation = o.unwrap().generation;

    // Restarted, it rejoins with the current parameters and generation.
    c.start(3);
    let s = c.wait_view(1, 3, N as usize);
    assert_eq!(s.params.get(Param::SendWindowSize), 48);
    assert_eq!(s.params.get(Param::HeartbeatInterval), 200);
    assert_eq!(s.generation, generation);

    // Hostile datagrams: wrong key, replay, truncated, random bytes.
    let target = format!("127.0.0.1:{}", c.ports[1]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let before = c.status(1, 2).unwrap();
    let mut forged = Envelope::new(Some(&Key([9; 32])), false, 1, 1);
    let mut genuine = Envelope::new(Some(&key_of(&c.dir)), false, 0, 77);
    let query = operator_datagram(2, 0, 77, &Frame::StatusQuery { req: 1 });
    let (mut f, mut g) = (Vec::new(), Vec::new());
    forged.seal(&query, &mut f);
    genuine.seal(&query, &mut g);
    sock.send_to(&f, &target).unwrap();
    sock.send_to(&g, &target).unwrap();
    sock.send_to(&g, &target).unwrap();
    sock.send_to(&g[..g.len() / 2], &target).unwrap();
    sock.send_to(&[0xAB; 300], &target).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let after = c.status(1, 2).unwrap();
    assert!(after.counters.auth_failed > before.counters.auth_failed, "forged datagram not counted");
    assert!(after.counters.replayed > before.counters.replayed, "replay not counted");
    assert!(after.counters.malformed >= before.counters.malformed + 2, "truncated and random datagrams not counted");
    assert_eq!(
        (after.view, after.generation, after.params),
        (before.view, before.generation, before.params),
        "hostile input changed state"
    );

    // SIGTERM: a graceful leave, seen at once by the others.
    let mut p = c.procs[4].take().unwrap();
    let _ = Command::new("kill").args(["-TERM", &p.id().to_string()]).status();
    assert!(p.wait().unwrap().success());
    c.wait_view(1, 1, N as usize - 1);
}

/// Issue 17: a whole-cluster restart (every process killed with -9, back
/// in another order) resumes at the committed retune and its generation, not
/// the values of the files; a damaged state file is refused at start, naming
/// the file, and left as it is.
#[test]
fn a_whole_cluster_restart_keeps_a_committed_retune_and_a_damaged_state_file_is_refused() {
    let mut c = Cluster::new("restart");
    c.start_all();
    let (out, o) = c.set(2, &["heartbeat-interval=300ms"]);
    assert!(out.status.success(), "set failed: {}", String::from_utf8_lossy(&out.stderr));
    let retune = o.unwrap();
    assert!(retune.committed);

    // A power cut: every process at once; back in reverse order, one by one.
    for id in 1..=N {
        c.kill9(id);
    }
    for id in (1..=N).rev() {
        c.start(id);
        std::thread::sleep(Duration::from_millis(150));
    }
    for id in 1..=N {
        let s = c.wait_view(1, id, N as usize);
        assert_eq!(s.params.get(Param::HeartbeatInterval), 300, "member {id} lost the retune");
        assert_eq!(s.generation, retune.generation, "member {id}");
    }
    let log = std::fs::read_to_string(c.dir.join("node1.log")).unwrap();
    assert!(log.contains("keeps its state in"), "{log}");
    // It goes on: the next change takes the next generation.
    let (out, o) = c.set(4, &["send-window-size=40"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(o.unwrap().generation, retune.generation + 1);

    // One bit flipped in each of the two slots of node 2's state file (one
    // alone is taken for a write cut short): refused at start, file untouched.
    c.kill9(2);
    let file = c.dir.join("cgm-state-2").join(cgm_runtime::STATE_FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    let half = bytes.len() / 2;
    bytes[40] ^= 0x10;
    bytes[half + 40] ^= 0x10;
    std::fs::write(&file, &bytes).unwrap();
    c.start(2);
    let mut p = c.procs[1].take().unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = p.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < end, "a node with a corrupt state file kept running");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let log = std::fs::read_to_string(c.dir.join("node2.log")).unwrap();
    assert!(log.contains(file.to_str().unwrap()) && log.contains("checksum mismatch"), "{log}");
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "the damaged state file was replaced");

    // Moved away, the node rejoins as a new member and takes the committed values.
    std::fs::rename(&file, file.with_extension("damaged")).unwrap();
    c.start(2);
    let s = c.wait_view(1, 2, N as usize);
    assert_eq!(s.params.get(Param::SendWindowSize), 40);
    assert_eq!(s.generation, retune.generation + 1);
}

/// Issue 17: the cluster key rotates by transaction. Committed, every member
/// runs under the new key alone and the old key is refused; a restarted
/// member, and then the whole cluster, come back under it although their
/// files still name the old key; a rotation to a key file one member lacks
/// is undone everywhere; a member down during a rotation finds the new key
/// beside its key file when it comes back.
#[test]
fn the_cluster_key_rotates_by_transaction_survives_restarts_and_is_undone_where_a_member_lacks_the_file() {
    let mut c = Cluster::new("rotate");
    c.start_all();
    let old = key_of(&c.dir);
    let gen0 = c.status(1, 1).unwrap().generation;

    let (k2_path, k2) = new_key(&c, "cluster-2.key");
    let (code, o, err) = rotate(&c, 2, &k2_path);
    assert_eq!(code, Some(0), "rotate-key failed: {err}");
    let o = o.unwrap();
    assert!(o.committed && o.kind == "key-rotation" && o.generation == gen0 + 1, "{o:?}");
    for s in wait_key(&c, &k2) {
        assert_eq!(s.generation, gen0 + 1, "member {}", s.node);
        assert_eq!(s.configured.key(), old.fingerprint(), "member {}: its key_file still holds the old key", s.node);
    }
    // The old key is retired (past its grace of three seconds for datagrams
    // on their way): a tool holding only it gets no answer.
    std::thread::sleep(Duration::from_millis(3_200));
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", c.ports[0]).parse().unwrap();
    let mut stale = cgm_runtime::client::Client::new(Some(&old), false, addr).unwrap();
    assert!(stale.query_status(addr, 1, Duration::from_millis(500)).is_err(), "the retired key was accepted");
    assert!(c.status(1, 1).unwrap().counters.auth_failed > 0);

    // A restarted member, then every member at once, come back under the new key.
    c.kill9(3);
    c.start(3);
    c.wait_view(1, 3, N as usize);
    wait_key(&c, &k2);
    for id in 1..=N {
        c.kill9(id);
    }
    for id in (1..=N).rev() {
        c.start(id);
    }
    for id in 1..=N {
        c.wait_view(1, id, N as usize);
    }
    wait_key(&c, &k2);

    // Member N works elsewhere: the file is not at /proc/self/cwd/... for it.
    new_key(&c, "cluster-3.key");
    let (code, o, err) = rotate(&c, 1, Path::new("/proc/self/cwd/cluster-3.key"));
    assert_eq!(code, Some(1), "a rotation member {N} cannot load was not undone: {err}");
    let o = o.unwrap();
    assert!(!o.committed && o.reason.as_deref().is_some_and(|r| r.contains(&format!("member {N}"))), "{o:?}");
    for s in wait_key(&c, &k2) {
        assert_eq!(s.generation, gen0 + 1, "member {}: an undone rotation moved the generation", s.node);
    }

    // Member 4 is down while the others rotate; back, it finds the key.
    c.kill9(4);
    c.wait_view(1, 1, N as usize - 1);
    let (k4_path, k4) = new_key(&c, "cluster-4.key");
    let (code, o, err) = rotate(&c, 1, &k4_path);
    assert_eq!(code, Some(0), "rotate-key without member 4 failed: {err} {o:?}");
    c.start(4);
    c.wait_view(1, 4, N as usize);
    wait_key(&c, &k4);
    let log = std::fs::read_to_string(c.dir.join("node4.log")).unwrap();
    assert!(log.contains("adopted the key"), "{log}");
}

/// What a client of the kill loop was told committed.
#[derive(Debug)]
enum Told {
    /// `send-window-size` took this value.
    Window(u32),
    /// The cluster key became the key of this fingerprint.
    Key(u64),
}

/// Issue 17: `kill -9` of a random member in a loop while changes and key
/// rotations run (200 iterations, one in ten a rotation, a power cut of
/// every member every 50), then every member agrees on values, key and
/// generation, the last change and the last rotation a client was told
/// committed are in force, and nothing ran twice (the generation grew once
/// per committed change or rotation). `CGM_KILL_LOOP`
/// sets the number of iterations (the seed is printed, `CGM_KILL_SEED`
/// replays it).
#[test]
fn kill_9_in_a_loop_while_changes_run_loses_no_committed_change() {
    let iterations: u32 = std::env::var("CGM_KILL_LOOP").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let seed: u64 = std::env::var("CGM_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    println!("kill loop: {iterations} iterations, CGM_KILL_SEED={seed}");
    // A small xorshift: enough to pick members and values reproducibly.
    let mut x = seed | 1;
    let mut next = |n: u32| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % u64::from(n)) as u32
    };
    let mut c = Cluster::new("killloop");
    c.start_all();
    let start_gen = c.status(1, 1).unwrap().generation;
    let (mut committed, mut unknown) = (Vec::new(), 0u64);
    for i in 0..iterations {
        let power_cut = i % 50 == 49;
        let victims: Vec<u32> = if power_cut { (1..=N).collect() } else { vec![1 + next(N)] };
        for &v in &victims {
            c.kill9(v);
        }
        if power_cut {
            for id in (1..=N).rev() {
                c.start(id);
            }
        }
        let via = (1..=N).find(|id| !victims.contains(id) || power_cut).unwrap();
        let value = 8 + i % 120;
        // Sometimes at once (the change meets the dead member and is undone
        // by the view change), sometimes once the survivors may have moved on.
        std::thread::sleep(Duration::from_millis(u64::from(next(4)) * 200));
        let (code, outcome, told) = if i % 10 == 5 {
            // A key rotation, to a fresh key file beside the first.
            let (path, key) = new_key(&c, &format!("rotated-{i}.key"));
            let (code, o, _) = rotate(&c, via, &path);
            (code, o, Told::Key(key.fingerprint()))
        } else {
            let cfg = c.config(via);
            let out = run(&["set", "-c", cfg.to_str().unwrap(), "--json", "--timeout", "8", &format!("send-window-size={value}")]);
            let o = serde_json::from_slice(&out.stdout).ok().map(|v| cgm_runtime::cgm_core::schema::outcome_from_json(&v).unwrap());
            (out.status.code(), o, Told::Window(value))
        };
        match code {
            Some(0) => committed.push((outcome.unwrap().generation, told)),
            Some(1) | Some(2) => {}
            _ => unknown += 1,
        }
        if !power_cut {
            for &v in &victims {
                c.start(v);
            }
        }
        for &v in &victims {
            c.wait_view(via, v, N as usize);
        }
    }
    let mut last = None;
    for id in 1..=N {
        last = Some(c.wait_view(1, id, N as usize));
    }
    let end = Instant::now() + Duration::from_secs(20);
    // Every member agrees once the last change settled everywhere.
    let statuses = loop {
        let statuses = (1..=N).filter_map(|id| c.status(1, id)).collect::<Vec<_>>();
        if statuses.len() == N as usize
            && statuses.windows(2).all(|w| w[0].generation == w[1].generation && w[0].params == w[1].params && w[0].keys == w[1].keys)
        {
            break statuses;
        }
        assert!(Instant::now() < end, "members disagree after the loop: {statuses:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let last = last.unwrap();
    let grown = statuses[0].generation - start_gen;
    let told = committed.len() as u64;
    println!("kill loop: {told} changes told committed, {unknown} unknown, generation grew by {grown}");
    assert!(told <= grown && grown <= told + unknown, "generation grew by {grown} for {told} told committed and {unknown} unknown");
    let generations: std::collections::BTreeSet<u64> = committed.iter().map(|(g, _)| *g).collect();
    assert_eq!(generations.len(), committed.len(), "two changes told committed at one generation: {committed:?}");
    // The last change of each kind told committed is in force, unless a later
    // one of the same kind may have superseded it unseen (an unknown outcome).
    let latest = |window: bool| committed.iter().filter(|(_, t)| matches!(t, Told::Window(_)) == window).max_by_key(|(g, _)| *g);
    let s = &statuses[0];
    if let Some((g, Told::Window(v))) = latest(true) {
        if unknown == 0 || *g == s.generation {
            assert_eq!(
                s.params.get(Param::SendWindowSize),
                u64::from(*v),
                "the last change told committed (generation {g}) is not in force"
            );
        }
    }
    if let Some((g, Told::Key(k))) = latest(false) {
        if unknown == 0 || *g == s.generation {
            assert_eq!(s.keys.committed, *k, "the last key rotation told committed (generation {g}) is not in force");
        }
    }
    let rotations = committed.iter().filter(|(_, t)| matches!(t, Told::Key(_))).count();
    println!("kill loop: {rotations} key rotations told committed; every member runs under {:016x}", s.keys.committed);
    assert!(
        statuses.iter().all(|x| x.keys == s.keys),
        "members disagree on the key: {:?}",
        statuses.iter().map(|x| &x.keys).collect::<Vec<_>>()
    );
    assert!(told >= u64::from(iterations) / 4, "only {told} of {iterations} changes committed: {last:?}");
}

#[test]
fn a_member_blocked_on_a_held_lock_answers_a_query_naming_the_lock() {
    let mut c = Cluster::new("lock");
    for id in 1..N {
        c.start(id);
    }
    // Member 5 is a host that embeds libcgm and holds its own lock.
    let mut cfg = NodeConfig::load(&c.config(N)).unwrap();
    cfg.limits = Default::default();
    let host = Node::start(cfg).unwrap();
    host.wait_members(N as usize, Duration::from_secs(20)).unwrap();
    let guard = host.lock("transport-config");
    let proposer = std::thread::spawn({
        let host = std::sync::Arc::new(host);
        let h = std::sync::Arc::clone(&host);
        move || {
            let app = AppProtocol { payload: b"x".to_vec().into(), rounds: 1, wait: Some(Resource::Lock("transport-config".into())) };
            (h.run_protocol(app, Duration::from_secs(20)), host)
        }
    });
    let end = Instant::now() + Duration::from_secs(10);
    let s = loop {
        if let Some(s) = c.status(1, N).filter(|s| s.waiting.is_some()) {
            break s;
        }
        assert!(Instant::now() < end, "member 5 never waited");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(s.waiting, Some(Waiting::Local(Resource::Lock("transport-config".into()))));
    // Answered within 50 ms while blocked.
    let mut client =
        cgm_runtime::client::Client::new(Some(&key_of(&c.dir)), false, format!("127.0.0.1:{}", c.ports[4]).parse().unwrap()).unwrap();
    let t = Instant::now();
    let s = client.query_status(format!("127.0.0.1:{}", c.ports[4]).parse().unwrap(), N, Duration::from_millis(500)).unwrap();
    let took = t.elapsed();
    assert!(took < Duration::from_millis(50), "query took {took:?}");
    assert!(matches!(s.waiting, Some(Waiting::Local(Resource::Lock(ref n))) if n == "transport-config"));
    // Any other member names member 5 as the one that has not ACKed (once the
    // others' ACKs, sent at the same moment, have reached it).
    let end = Instant::now() + Duration::from_secs(2);
    loop {
        let s1 = c.status(2, 1).unwrap();
        if s1.not_acked() == vec![N] {
            break;
        }
        assert!(Instant::now() < end, "member 1 does not name member 5 alone as not ACKed: {s1}");
        std::thread::sleep(Duration::from_millis(5));
    }
    // A change queued behind the blocked protocol: no outcome within `cgm
    // set`'s timeout, so exit 3 (unknown), naming the transaction. Re-run with
    // that transaction id once the lock is freed, it reports the one outcome:
    // the change ran once.
    let generation = c.status(2, 1).unwrap().generation;
    let (out, _) = c.set(1, &["--txid", "4242", "--timeout", "0.5", "send-window-size=33"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("--txid 4242"), "{err}");
    drop(guard);
    let (out, o) = c.set(1, &["--txid", "4242", "send-window-size=33"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let o = o.unwrap();
    assert!(o.committed && o.pid.txid == 4242, "{o:?}");
    assert_eq!(o.generation, generation + 1);
    let (out, again) = c.set(1, &["--txid", "4242", "send-window-size=33"]);
    assert!(out.status.success());
    assert_eq!(again.unwrap().seq, o.seq, "the same transaction, not run again");
    // The same id for a different change is refused, not answered with the
    // first change's outcome ("committed" for a change that never ran).
    let (out, _) = c.set(1, &["--txid", "4242", "send-window-size=34"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("transaction 4242 already ran a different param-change"), "{err}");
    assert_eq!(c.status(2, 1).unwrap().generation, generation + 1);
    assert_eq!(c.status(2, 1).unwrap().params.get(Param::SendWindowSize), 33);
    let (r, host) = proposer.join().unwrap();
    assert!(r.unwrap().committed);
    host.shutdown();
}

/// Three nodes embedded in this process on `loopback` ("127.0.0.1" or
/// "[::1]"), formed into one group.
fn embedded_nodes(loopback: &str, encrypt: bool) -> std::io::Result<Vec<Node>> {
    let ip: std::net::IpAddr = loopback.trim_matches(|c| c == '[' || c == ']').parse().expect("a loopback address");
    let ports = cgm_runtime::free_ports(ip, 3)?;
    let key = Key::generate();
    let nodes: Vec<Node> = (1..=3u32)
        .map(|id| {
            let mut cfg = NodeConfig::new(id, "embedded");
            for (i, p) in ports.iter().enumerate() {
                cfg.add_node(i as u32 + 1, &format!("{loopback}:{p}")).unwrap();
            }
            cfg.key = Some(key.clone());
            cfg.encrypt = encrypt;
            Node::start(cfg).unwrap()
        })
        .collect();
    for n in &nodes {
        n.wait_members(3, Duration::from_secs(10)).unwrap();
    }
    Ok(nodes)
}

#[test]
fn three_nodes_over_ipv6_loopback_commit_a_change() {
    let nodes = match embedded_nodes("[::1]", true) {
        Ok(n) => n,
        Err(e) => {
            // A machine without IPv6 loopback cannot run this test; say so loudly.
            eprintln!("SKIPPED: no IPv6 loopback here: {e}");
            return;
        }
    };
    let o = nodes[2].propose(&[(Param::SendWindowSize, 40)], None, Duration::from_secs(10)).unwrap();
    assert!(o.committed);
    for n in &nodes {
        // Each member decides when round 2's last ACK reaches it, maybe after the proposer.
        assert!(n.outcome(o.pid, Duration::from_secs(10)).unwrap().committed);
        assert_eq!(n.query_status(1, Duration::from_secs(2)).unwrap().params.get(Param::SendWindowSize), 40);
    }
}

#[test]
fn a_protocol_taking_a_lock_in_every_round_holds_it_across_rounds_and_frees_it_after() {
    let nodes = embedded_nodes("127.0.0.1", false).unwrap();
    let app = AppProtocol { payload: b"x".to_vec().into(), rounds: 4, wait: Some(Resource::Lock("config".into())) };
    let mut last = 0;
    for _ in 0..3 {
        let o = nodes[1].run_protocol(app.clone(), Duration::from_secs(10)).unwrap();
        assert!(o.committed, "{o:?}");
        last = o.seq;
    }
    for n in &nodes {
        // The initiator's outcome arrives when *it* completes; the others
        // complete the last round when its final ACKs reach them, a moment later.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while n.status().unwrap().completed < last {
            assert!(std::time::Instant::now() < deadline, "node {} never completed protocol {last}", n.id());
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(n.try_lock("config").is_some(), "node {} still holds the lock after completing the protocol", n.id());
    }
}

/// Whether this machine delivers IPv4 multicast on loopback (a probe with
/// plain sockets, so a machine without it is told apart from a libcgm bug).
fn loopback_multicast_works(group: std::net::Ipv4Addr) -> bool {
    let probe = || -> std::io::Result<bool> {
        let rx = UdpSocket::bind("0.0.0.0:0")?;
        rx.join_multicast_v4(&group, &std::net::Ipv4Addr::LOCALHOST)?;
        rx.set_read_timeout(Some(Duration::from_secs(1)))?;
        let port = rx.local_addr()?.port();
        let tx = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
        tx.set_multicast_if_v4(&std::net::Ipv4Addr::LOCALHOST)?;
        tx.send_to(b"probe", &std::net::SocketAddr::from((group, port)).into())?;
        Ok(rx.recv_from(&mut [0u8; 16]).is_ok())
    };
    probe().unwrap_or(false)
}

#[test]
fn three_nodes_over_ip_multicast_form_a_group_and_commit_a_change() {
    let group = std::net::Ipv4Addr::new(239, 192, 77, 1);
    if !loopback_multicast_works(group) {
        eprintln!("SKIPPED: this machine does not deliver multicast on loopback");
        return;
    }
    let ports = cgm_runtime::free_ports(LOOPBACK, 4).unwrap();
    let key = Key::generate();
    let nodes: Vec<Node> = (1..=3u32)
        .map(|id| {
            let mut cfg = NodeConfig::new(id, "multicast");
            // Each node knows only its own unicast address; the others' are a
            // port nobody listens on, so the group can form over multicast only.
            for peer in 1..=3u32 {
                let port = if peer == id { ports[peer as usize - 1] } else { 9 };
                cfg.add_node(peer, &format!("127.0.0.1:{port}")).unwrap();
            }
            cfg.key = Some(key.clone());
            cfg.multicast = Some(cgm_runtime::Multicast { group: (group, ports[3]).into(), ttl: 1 });
            Node::start(cfg).unwrap()
        })
        .collect();
    for n in &nodes {
        n.wait_members(3, Duration::from_secs(10)).unwrap();
    }
    let o = nodes[1].propose(&[(Param::SendWindowSize, 48)], None, Duration::from_secs(10)).unwrap();
    assert!(o.committed, "{o:?}");
    let app = AppProtocol { payload: b"over multicast".to_vec().into(), rounds: 2, wait: None };
    let a = nodes[2].run_protocol(app, Duration::from_secs(10)).unwrap();
    assert!(a.committed);
    for n in &nodes {
        // Each member decides when a round's last ACK reaches it, maybe after the proposer.
        assert!(n.outcome(a.pid, Duration::from_secs(10)).unwrap().committed);
        let s = n.status().unwrap();
        assert_eq!(s.params.get(Param::SendWindowSize), 48);
        assert_eq!(s.counters.auth_failed + s.counters.malformed, 0, "{s}");
    }
}

#[test]
fn a_thread_waiting_for_events_without_a_timeout_returns_when_the_node_shuts_down() {
    let mut nodes = embedded_nodes("127.0.0.1", false).unwrap();
    let node = std::sync::Arc::new(nodes.remove(0));
    while node.poll_event().is_some() {}
    let waiter = std::thread::spawn({
        let node = std::sync::Arc::clone(&node);
        move || while node.next_event(None).is_some() {}
    });
    std::thread::sleep(Duration::from_millis(50));
    node.shutdown();
    let end = Instant::now() + Duration::from_secs(5);
    while !waiter.is_finished() {
        assert!(Instant::now() < end, "next_event(None) still blocks after shutdown");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cgm nodes ARGS -c node<via>.toml --json`: its exit code and outcome.
fn nodes(c: &Cluster, via: u32, args: &[&str]) -> (Option<i32>, Option<Outcome>, String) {
    let cfg = c.config(via);
    let mut all = vec!["nodes"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-c", cfg.to_str().unwrap(), "--json", "--timeout", "8"]);
    let out = run(&all);
    let o = serde_json::from_slice(&out.stdout).ok().map(|v| cgm_runtime::cgm_core::schema::outcome_from_json(&v).expect("an outcome"));
    (out.status.code(), o, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Waits until the members `ids` form one view of exactly them, with
/// quorum, holding `ids` as the node set; when `settled`, idle too, with
/// the same values and generation (no change running: the load stopped).
fn wait_set(c: &Cluster, ids: &[u32], settled: bool) -> Vec<Status> {
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let all: Vec<Status> = ids.iter().filter_map(|&id| c.status(ids[0], id)).collect();
        let agreed = all.len() == ids.len()
            && all.iter().all(|s| {
                s.quorum
                    && s.members.iter().map(|m| m.id).eq(ids.iter().copied())
                    && s.params.nodes().ids().eq(ids.iter().copied())
                    && (!settled || (s.phase.as_str() == "idle" && s.params == all[0].params && s.generation == all[0].generation))
            });
        if agreed {
            return all;
        }
        assert!(
            Instant::now() < end,
            "members {ids:?} never agreed on that node set: {:?}",
            all.iter()
                .map(|s| (s.node, s.members.iter().map(|m| m.id).collect::<Vec<_>>(), s.params.nodes().to_string(), s.generation))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn nodes_join_and_leave_by_transaction_under_load_and_kill_9() {
    let mut c = Cluster::new("nodes");
    c.start_all();
    let generation = c.status(1, 1).unwrap().generation;
    // Load: parameter changes from member 4 all along, each committed or
    // rolled back exactly once (the generation counts the committed ones).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (cfg, stop) = (c.config(4), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            let (mut committed, mut unknown) = (0u64, 0u64);
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Acquire) {
                i += 1;
                let v = format!("send-window-size={}", 40 + i % 20);
                let out = run(&["set", "-c", cfg.to_str().unwrap(), "--json", "--timeout", "5", &v]);
                committed += u64::from(out.status.code() == Some(0));
                unknown += u64::from(out.status.code() == Some(3));
            }
            (committed, unknown)
        })
    };

    // Node 6, started before a node change adds it, is refused and told
    // why, in its status and its log.
    c.start(6);
    let end = Instant::now() + Duration::from_secs(10);
    let refusal = loop {
        if let Some(r) = c.status(6, 6).and_then(|s| s.refused) {
            break r;
        }
        assert!(Instant::now() < end, "node 6, outside the node set, never learned why it is refused");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(refusal.nodes, [1, 2, 3, 4, 5], "{refusal:?}");
    let log = std::fs::read_to_string(c.dir.join("node6.log")).unwrap();
    assert!(log.contains("this node is not in the cluster's node set") && log.contains("cgm nodes add 6"), "{log}");

    // Grow: 5 -> 6, then 6 -> 7 with member 3 killed -9 while the change runs.
    let (code, o, err) = nodes(&c, 1, &["add", "6", &c.addr(6)]);
    assert_eq!(code, Some(0), "adding node 6: {err}");
    assert!(o.unwrap().committed);
    wait_set(&c, &[1, 2, 3, 4, 5, 6], false);
    let adding = {
        let (cfg, addr) = (c.config(2), c.addr(7));
        std::thread::spawn(move || run(&["nodes", "add", "7", &addr, "-c", cfg.to_str().unwrap(), "--json", "--timeout", "10"]))
    };
    std::thread::sleep(Duration::from_millis(20));
    c.kill9(3);
    let added = adding.join().unwrap();
    c.start(3);
    c.start(7);
    let seven: Vec<u32> = (1..=7).collect();
    if added.status.code() == Some(0) {
        wait_set(&c, &seven, false);
    } else {
        // Undone (or unknown) while member 3 was down: run it again.
        let (code, _, err) = nodes(&c, 2, &["add", "7", &c.addr(7)]);
        assert!(code == Some(0) || err.contains("already in the cluster"), "adding node 7 again: {err}");
        wait_set(&c, &seven, false);
    }

    // Replace: remove 2, add 8, in one transaction, proposed by the member
    // removed, with member 5 killed -9 while it runs.
    let add8 = format!("8={}", c.addr(8));
    let replacing = {
        let (cfg, add8) = (c.config(2), add8.clone());
        std::thread::spawn(move || {
            run(&["nodes", "change", "--remove", "2", "--add", &add8, "-c", cfg.to_str().unwrap(), "--json", "--timeout", "10"])
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    c.kill9(5);
    let replaced = replacing.join().unwrap();
    c.start(5);
    c.start(8);
    if replaced.status.code() != Some(0) {
        // Undone (or unknown) while member 5 was down: run it again from member 1.
        let (code, _, err) = nodes(&c, 1, &["change", "--remove", "2", "--add", &add8]);
        assert!(code == Some(0) || err.contains("not in the cluster"), "replacing 2 by 8 again: {err}");
    }
    wait_set(&c, &[1, 3, 4, 5, 6, 7, 8], false);
    // The removed member was told, left and exited; restarted, its state is
    // refused with how to bring it back.
    let mut two = c.procs[1].take().unwrap();
    let exited = (0..100).find_map(|_| {
        std::thread::sleep(Duration::from_millis(100));
        two.try_wait().unwrap()
    });
    assert!(exited.is_some_and(|s| s.success()), "removed node 2 did not exit: {exited:?}");
    let log = std::fs::read_to_string(c.dir.join("node2.log")).unwrap();
    assert!(log.contains("removed from the cluster's node set"), "{log}");
    c.start(2);
    let mut two = c.procs[1].take().unwrap();
    let refused = two.wait().unwrap();
    assert!(!refused.success());
    let log = std::fs::read_to_string(c.dir.join("node2.log")).unwrap();
    assert!(log.contains("was removed from the cluster's node set") && log.contains("empty state directory"), "{log}");

    // Shrink 7 -> 4 while member 1 (the coordinator) is killed -9 and back.
    let (code, _, err) = nodes(&c, 5, &["change", "--remove", "6", "--remove", "7"]);
    assert_eq!(code, Some(0), "removing 6 and 7: {err}");
    wait_set(&c, &[1, 3, 4, 5, 8], false);
    c.kill9(1);
    let (code, _, err) = nodes(&c, 5, &["remove", "8"]);
    assert!(code == Some(0) || code == Some(3), "removing 8 with member 1 down: {err}");
    c.start(1);
    if code != Some(0) {
        let (code, _, err) = nodes(&c, 5, &["remove", "8"]);
        assert!(code == Some(0) || err.contains("not in the cluster"), "removing 8 again: {err}");
    }
    wait_set(&c, &[1, 3, 4, 5], false);

    // `cgm nodes list` flags the files that disagree with the committed set.
    let out = run(&["nodes", "list", "-c", c.config(1).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOT in the committed set"), "{text}");

    // Down to 3: remove 5 with member 3 killed -9 while the change runs.
    let removing = {
        let cfg = c.config(1);
        std::thread::spawn(move || run(&["nodes", "remove", "5", "-c", cfg.to_str().unwrap(), "--json", "--timeout", "10"]))
    };
    std::thread::sleep(Duration::from_millis(20));
    c.kill9(3);
    let removed = removing.join().unwrap();
    c.start(3);
    if removed.status.code() != Some(0) {
        let (code, _, err) = nodes(&c, 1, &["remove", "5"]);
        assert!(code == Some(0) || err.contains("not in the cluster"), "removing 5 again: {err}");
    }
    wait_set(&c, &[1, 3, 4], false);

    stop.store(true, std::sync::atomic::Ordering::Release);
    let (committed, unknown) = load.join().unwrap();
    let three = wait_set(&c, &[1, 3, 4], true);
    // `cgm params --all-members` asks the members of the committed set, and
    // flags the files that list another one.
    let out = run(&["params", "-c", c.config(1).to_str().unwrap(), "--all-members"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    let heading = table.lines().next().unwrap_or_default();
    assert!(heading.contains("member 4") && !heading.contains("member 5"), "{table}");
    let row = table.lines().find(|l| l.trim_start().starts_with("node set")).unwrap_or_default();
    assert!(row.contains("1,3,4 (file 1,2,3,4,5)") && row.contains("<-- a file differs"), "{table}");
    // Every change counted once in the generation: the 6 node changes that
    // committed (add 6, add 7, the replacement, remove 6 and 7, remove 8,
    // remove 5) and the load's committed changes (plus those whose outcome
    // it never learned, which may have committed).
    let grew = three[0].generation - generation;
    assert!(
        grew >= 6 + committed && grew <= 6 + committed + unknown,
        "generation grew by {grew}: {committed} changes committed, {unknown} unknown"
    );
}

/// What a node under systemd told its service manager, one datagram a line.
fn notifications(sock: &std::os::unix::net::UnixDatagram, until: impl Fn(&str) -> bool, what: &str) -> Vec<String> {
    let end = Instant::now() + Duration::from_secs(20);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        if let Ok(n) = sock.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            let done = until(&text);
            got.push(text);
            if done {
                return got;
            }
        }
    }
    panic!("no {what} from the node within 20 s; it sent {got:?}");
}

#[test]
fn under_systemd_a_node_notifies_ready_status_and_watchdog_and_sighup_reloads_its_limits_and_log_level() {
    let mut c = Cluster::new("systemd");
    let sock_path = c.dir.join("notify.sock");
    let sock = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let toml = c.toml(1).replacen("cluster = \"e2e\"", "cluster = \"e2e\"\nlog_level = \"info\"", 1);
    std::fs::write(c.config(1), &toml).unwrap();
    let env = [
        ("NOTIFY_SOCKET", sock_path.to_str().unwrap()),
        ("WATCHDOG_USEC", "400000"),
        ("WATCHDOG_PID", "{pid}"),
        ("JOURNAL_STREAM", "{stderr}"),
    ];
    c.start_with(1, &env);
    for id in 2..=N {
        c.start(id);
    }
    // Ready only once in a view with quorum; the status says so first.
    let got = notifications(&sock, |m| m.contains("READY=1"), "READY=1");
    assert!(got.iter().any(|m| m.starts_with("STATUS=view ") && m.contains("quorum no")), "{got:?}");
    assert!(got.iter().any(|m| m.starts_with("STATUS=view ") && m.contains("quorum yes")), "{got:?}");
    notifications(&sock, |m| m.lines().any(|l| l == "WATCHDOG=1"), "WATCHDOG=1 (every 200 ms)");
    c.wait_view(1, 1, N as usize);

    // SIGHUP: the node-local parts apply, the rest is reported.
    let reloaded = toml
        .replace("log_level = \"info\"", "log_level = \"debug\"")
        .replace("max-message-retry-time = \"2s\"", "max-message-retry-time = \"2s\"\nsend-window-size = 40")
        + "[limits]\nmax-fragment-size = 1000\n";
    std::fs::write(c.config(1), reloaded).unwrap();
    let pid = c.procs[0].as_ref().unwrap().id().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let got = notifications(&sock, |m| m.contains("READY=1") && m.contains("STATUS=reloaded"), "the end of the reload");
    assert!(got.iter().any(|m| m.starts_with("RELOADING=1")), "{got:?}");
    let done = got.last().unwrap();
    assert!(done.contains("limits none -> max-fragment-size=1000"), "{done}");
    assert!(done.contains("log level INFO -> DEBUG"), "{done}");
    assert!(done.contains("changed in the file but not by a reload: [params] (the cluster's values change by `cgm set`)"), "{done}");
    assert_eq!(c.status(2, 1).unwrap().limits.get(Param::MaxFragmentSize), Some(1000));
    // The new limit is in force: a change beyond it rolls back everywhere.
    let (out, o) = c.set(2, &["max-fragment-size=1100"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!o.unwrap().committed);
    // Its log goes to the journal's format, at the reloaded level: node 1
    // leads the view change after a kill, a debug record.
    c.kill9(N);
    c.wait_view(1, 1, N as usize - 1);
    let log = std::fs::read_to_string(c.dir.join("node1.log")).unwrap();
    assert!(log.lines().any(|l| l.starts_with("<6>") && l.contains("reloaded")), "{log}");
    assert!(log.lines().any(|l| l.starts_with("<7>")), "no debug record after the reload: {log}");
    // A file that does not load changes nothing.
    std::fs::write(c.config(1), "node_id = \"one\"\n").unwrap();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let got = notifications(&sock, |m| m.contains("READY=1"), "the end of the failed reload");
    assert!(got.last().unwrap().contains("failed, nothing changed"), "{got:?}");
    assert_eq!(c.status(2, 1).unwrap().limits.get(Param::MaxFragmentSize), Some(1000));
    // Leaving: STOPPING=1.
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    notifications(&sock, |m| m.contains("STOPPING=1"), "STOPPING=1");
}

#[test]
fn shell_completions_load_and_every_command_has_a_manual_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}: {out:?}");
    }
    // bash takes the script and completes cgm's commands with it.
    let script = run(&["completions", "bash"]).stdout;
    let mut sh = Command::new("bash")
        .args(["-c", "source /dev/stdin && COMP_WORDS=(cgm st) COMP_CWORD=1 && _cgm cgm st cgm && echo \"${COMPREPLY[@]}\""])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut sh.stdin.take().unwrap(), &script).unwrap();
    let out = sh.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "status", "{out:?}");
    let dir = std::env::temp_dir().join(format!("cgm-e2e-man-{}", std::process::id()));
    let out = run(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    for page in ["cgm", "cgm-node", "cgm-set", "cgm-status", "cgm-nodes", "cgm-rotate-key", "cgm-completions"] {
        let text = std::fs::read_to_string(dir.join(format!("{page}.1"))).unwrap();
        assert!(text.contains(&format!(".TH {page} 1")), "{page}: {text}");
    }
    let node = std::fs::read_to_string(dir.join("cgm-node.1")).unwrap();
    assert!(node.contains("propose\\-every") && node.contains("history"), "{node}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn cgm_doctor_says_what_is_wrong_with_a_node_and_its_cluster() {
    let mut c = Cluster::new("doctor");
    c.start_all();
    c.kill9(N);
    c.wait_view(1, 1, N as usize - 1);
    let doctor = |id: u32| {
        let out = run(&["doctor", "-c", c.config(id).to_str().unwrap()]);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    // Node N is down: its file, key, state directory and address are fine,
    // the others answer, and the committed node set is the file's.
    let (code, text) = doctor(N);
    assert_eq!(code, Some(0), "{text}");
    for want in ["ok    bind address", "ok    member 1               127.0.0.1:", "this node is not running", "ok    node set"] {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    // `cgm watch` shows each live peer's ACK lag as a bar.
    let out = run(&["watch", "-c", c.config(1).to_str().unwrap(), "--count", "1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("ACK lag"), "{text}");
    let bars: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("peer ") && l.contains('|')).collect();
    assert_eq!(bars.len(), N as usize - 2, "a bar for each of the other live members: {text}");
    // Node 1 runs: its address is in use (a warning, not a failure).
    let (code, text) = doctor(1);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("warn  bind address") && text.contains("is in use"), "{text}");
    // A key file others can read fails, and says how to fix it.
    let key = c.dir.join("cluster.key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let (code, text) = doctor(N);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAIL  key file") && text.contains("chmod 600"), "{text}");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // A file that does not load fails first, naming the line.
    std::fs::write(c.config(N), c.toml(N).replace("quorum = \"majority\"", "quorum = \"most\"")).unwrap();
    let (code, text) = doctor(N);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAIL  configuration") && text.contains("quorum"), "{text}");
}
