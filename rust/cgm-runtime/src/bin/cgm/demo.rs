//! `cgm demo`: a local cluster on loopback showing, step by step, ordered peer
//! protocols, status queries answered while a member is blocked, a
//! cluster-wide heartbeat retune with link-by-link switch-over, a vetoed change
//! rolled back everywhere, a view change when a member stops, and the whole
//! cluster restarting from its state directories with the retune in force.

use crate::render;
use cgm_runtime::cgm_core::{AppProtocol, Param, Resource, Waiting};
use cgm_runtime::{Error, Key, Node, NodeConfig, NodeEvent};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn step(n: u32, title: &str) {
    println!("\n=== {n}. {title} ===");
}

/// Runs the demo.
pub fn run(n: u32) -> Result<ExitCode, String> {
    if !(3..=64).contains(&n) {
        return Err("the demo runs 3 to 64 nodes".into());
    }
    let t0 = Instant::now();
    let key = Key::generate();
    let ports = cgm_runtime::free_ports(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), n as usize)
        .map_err(|e| format!("cannot find free loopback ports: {e}"))?;
    let vetoer = n;
    let dir = std::env::temp_dir().join(format!("cgm-demo-{}", std::process::id()));
    let config = |id: u32| -> Result<NodeConfig, String> {
        let mut cfg = NodeConfig::new(id, "demo");
        for (i, p) in ports.iter().enumerate() {
            cfg.add_node(i as u32 + 1, &format!("127.0.0.1:{p}")).map_err(|e| e.to_string())?;
        }
        cfg.key = Some(key.clone());
        cfg.params = cfg
            .params
            .with_changes(&[(Param::HeartbeatInterval, 100), (Param::HeartbeatTimeout, 400), (Param::HeartbeatAckTimeout, 400)])
            .map_err(|e| e.to_string())?;
        cfg.veto_hook = id == vetoer;
        cfg.state_dir = Some(dir.join(format!("node{id}")));
        Ok(cfg)
    };
    let mut nodes = Vec::new();
    for id in 1..=n {
        nodes.push(Arc::new(Node::start(config(id)?).map_err(|e| e.to_string())?));
    }
    // The host of the last node answers its veto hook on its own thread: its
    // policy refuses any change of the send window.
    let stop = Arc::new(AtomicBool::new(false));
    let host = {
        let (node, stop) = (Arc::clone(&nodes[vetoer as usize - 1]), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Acquire) {
                if let Some(NodeEvent::VetoRequest { token, changes }) = node.next_event(Some(Duration::from_millis(20))) {
                    let refuse = changes.iter().any(|(p, _)| *p == Param::SendWindowSize);
                    let _ = node.answer_veto(token, if refuse { Err("local policy pins send-window-size".into()) } else { Ok(()) });
                }
            }
        })
    };
    let r = script(&nodes, vetoer, &dir);
    stop.store(true, Ordering::Release);
    let _ = host.join();
    for node in &nodes {
        node.shutdown();
    }
    let r = r.and_then(|()| restart(n, &config));
    let _ = std::fs::remove_dir_all(&dir);
    r?;
    println!("\ndemo finished in {:.1}s", t0.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn script(nodes: &[Arc<Node>], vetoer: u32, dir: &std::path::Path) -> Result<(), String> {
    let n = nodes.len() as u32;
    let e = |e: Error| e.to_string();
    let first = &nodes[0];

    step(1, &format!("{n} nodes on loopback form one group"));
    for node in nodes {
        node.wait_members(n as usize, T).map_err(|e| format!("node {} did not join: {e}", node.id()))?;
    }
    println!("every member reports, asked over the network by member 1:");
    for id in 1..=n {
        let s = first.query_status(id, T).map_err(e)?;
        let ids: Vec<u32> = s.members.iter().map(|m| m.id).collect();
        println!("  member {id}: view {} members {ids:?} quorum {} round {} phase {}", s.view, s.quorum, s.current_round, s.phase.as_str());
    }

    step(2, "peer protocols run in one total order");
    let count = 200;
    let start = Instant::now();
    let mut last = None;
    for i in 0..count {
        let node = &nodes[i % nodes.len()];
        let app = AppProtocol { payload: format!("op {i}").into_bytes().into(), rounds: 1, wait: None };
        last = Some(node.run_protocol(app, T).map_err(e)?);
    }
    let el = start.elapsed();
    let last = last.expect("ran some");
    println!(
        "{count} one-round protocols from all members, one after another: {:.0}/s ({:?} each); the last is seq {} with ACKs from {} members",
        count as f64 / el.as_secs_f64(),
        el / count as u32,
        last.seq,
        last.statuses.len()
    );
    // Proposed together, they are sequenced together and ACKed ahead together.
    let batch = 5_000;
    let start = Instant::now();
    let apps = (0..batch).map(|i| AppProtocol { payload: format!("batch {i}").into_bytes().into(), rounds: 1, wait: None }).collect();
    let ids = nodes[1].submit_all(apps).map_err(e)?.into_iter().collect::<Result<Vec<_>, _>>().map_err(e)?;
    let last = nodes[1].outcome(*ids.last().expect("a batch"), T).map_err(e)?;
    println!(
        "{batch} more proposed at once by member 2 (Node::submit_all): {:.0}/s, in order, up to seq {}",
        batch as f64 / start.elapsed().as_secs_f64(),
        last.seq
    );
    let s = nodes[n as usize - 1].query_status(1, T).map_err(e)?;
    println!("member 1 has completed {} protocols; current round {}", s.completed, s.current_round);

    step(3, "a member blocked on a lock still answers status queries");
    let blocked = &nodes[2];
    let guard = blocked.lock("transport-config");
    println!("member 3's host holds lock \"transport-config\"; member 1 starts a protocol whose step needs it");
    let runner = {
        let node = Arc::clone(first);
        std::thread::spawn(move || {
            let app = AppProtocol {
                payload: b"reload transport".to_vec().into(),
                rounds: 1,
                wait: Some(Resource::Lock("transport-config".into())),
            };
            node.run_protocol(app, T)
        })
    };
    let end = Instant::now() + T;
    let s3 = loop {
        let s = first.query_status(3, T).map_err(e)?;
        if matches!(s.waiting, Some(Waiting::Local(_))) && s.waited().unwrap_or_default() > Duration::from_millis(50) {
            break s;
        }
        if Instant::now() > end {
            return Err("member 3 never waited on the lock".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let asked = Instant::now();
    let s2 = first.query_status(2, T).map_err(e)?;
    println!("member 3, asked by member 1 (answered while blocked):\n{}", indent(&render::status_table(&s3)));
    println!("member 2, asked by member 1 ({:?} round trip):\n{}", asked.elapsed(), indent(&render::status_table(&s2)));
    drop(guard);
    let o = runner.join().map_err(|_| "protocol thread panicked")?.map_err(e)?;
    println!("lock released: the protocol completed as seq {} on every member", o.seq);

    step(4, "retune the heartbeat interval cluster-wide: 100ms -> 50ms");
    let change = [(Param::HeartbeatInterval, 50), (Param::HeartbeatTimeout, 250), (Param::HeartbeatAckTimeout, 250)];
    let o = nodes[1].propose(&change, None, T).map_err(e)?;
    print!("{}", render::outcome_table(&o));
    let end = Instant::now() + T;
    loop {
        let pending = nodes.iter().any(|nd| nd.params().map(|p| p.switch_over_pending).unwrap_or(true));
        if !pending {
            break;
        }
        if Instant::now() > end {
            return Err("heartbeat switch-over did not finish".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for node in nodes {
        let s = node.status().map_err(e)?;
        let links: Vec<String> =
            s.links.iter().map(|l| format!("{}{} {}ms", if l.outgoing { "->" } else { "<-" }, l.peer, l.interval_ms)).collect();
        println!("  member {}: generation {} links {}", s.node, s.generation, links.join(", "));
    }
    println!("every link switched over after its receiver ACKed the change request; no member was suspected");

    step(5, &format!("a change member {vetoer} vetoes is rolled back on every member"));
    match first.propose(&[(Param::SendWindowSize, 32)], None, T) {
        Err(Error::Vetoed(o)) => print!("{}", render::outcome_table(&o)),
        Ok(_) => return Err("the vetoed change committed".into()),
        Err(other) => return Err(other.to_string()),
    }
    let statuses: Vec<_> = (1..=n).map(|id| first.query_status(id, T)).collect::<Result<_, _>>().map_err(e)?;
    let refs: Vec<&_> = statuses.iter().collect();
    print!("{}", render::params_table(&refs));

    step(6, "rotate the cluster key by transaction: load both, then send under the new one");
    let file = dir.join("cluster-2.key");
    Key::generate().write_new(&file)?;
    println!("before: {}", first.status().map_err(e)?.to_string().lines().find(|l| l.starts_with("key ")).unwrap_or("no key"));
    let o = nodes[2].rotate_key(&file, None, T).map_err(e)?;
    print!("{}", render::outcome_table(&o));
    for id in 1..=n {
        let s = first.query_status(id, T).map_err(e)?;
        println!("  member {id}: generation {} key {:016x}, accepting {} key(s)", s.generation, s.keys.committed, s.keys.accepting.len());
    }
    println!(
        "round 1: every member loaded {} and accepted both keys; round 2: every member switched; the old key is retired",
        file.display()
    );

    step(7, &format!("member {} stops: the others install a new view and go on", n - 1));
    let gone = &nodes[n as usize - 2];
    gone.shutdown();
    first.wait_members(n as usize - 1, T).map_err(|e| format!("no new view: {e}"))?;
    let s = first.status().map_err(e)?;
    let ids: Vec<u32> = s.members.iter().map(|m| m.id).collect();
    println!("member 1: view {} members {ids:?} quorum {}", s.view, s.quorum);
    let o = first.run_protocol(AppProtocol { payload: b"after".to_vec().into(), rounds: 2, wait: None }, T).map_err(e)?;
    println!("a two-round protocol completed among the survivors as seq {} ({} ACKs per round)", o.seq, o.statuses.len());
    Ok(())
}

/// Step 8: every member stopped; they come back in reverse order from their
/// state directories, and the retune and the new key are in force at their
/// generation.
fn restart(n: u32, config: &dyn Fn(u32) -> Result<NodeConfig, String>) -> Result<(), String> {
    step(8, "every member stopped; back in reverse order, each from its state directory");
    let e = |e: Error| e.to_string();
    let mut nodes = Vec::new();
    for id in (1..=n).rev() {
        nodes.push(Node::start(config(id)?).map_err(e)?);
    }
    let last = &nodes[n as usize - 1];
    last.wait_members(n as usize, T).map_err(|e| format!("the restarted members did not form a view: {e}"))?;
    for node in nodes.iter().rev() {
        let s = node.status().map_err(e)?;
        println!(
            "  member {}: generation {} heartbeat-interval {}ms (its configuration says {}ms), key {:016x} (its configuration's {:016x})",
            s.node,
            s.generation,
            s.params.get(Param::HeartbeatInterval),
            s.configured.get(Param::HeartbeatInterval),
            s.keys.committed,
            s.configured.key()
        );
    }
    println!(
        "the committed retune and key survived the restart of every member: in force at their generation, not the values of the configuration"
    );
    let o = last.run_protocol(AppProtocol { payload: b"again".to_vec().into(), rounds: 1, wait: None }, T).map_err(e)?;
    println!("and the cluster goes on: a protocol completed as seq {}, after the last one before the restart", o.seq);
    for node in &nodes {
        node.shutdown();
    }
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}
