//! `cgm doctor -c FILE`: checks a node's configuration and its
//! surroundings as an operator would before (or after) starting it, and
//! prints what is wrong and how to fix it. Every check prints one line
//! (`ok`, `warn` or `FAIL`); the exit status is 1 when any check failed.

use cgm_runtime::cgm_core::NodeId;
use cgm_runtime::client::Client;
use cgm_runtime::NodeConfig;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

struct Report {
    worst: Verdict,
}

impl Report {
    fn line(&mut self, v: Verdict, what: &str, says: impl std::fmt::Display) {
        let tag = match v {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        println!("{tag}  {what:<22} {says}");
        self.worst = self.worst.max(v);
    }
}

/// Runs every check on the node configured at `path`, asking each member
/// for up to `timeout`.
pub(crate) fn run(path: &Path, timeout: Duration) -> ExitCode {
    let mut r = Report { worst: Verdict::Ok };
    // The operator's view of the file: the key in force from the state
    // directory, after a rotation.
    let cfg = match crate::load_operator(path) {
        Ok(c) => {
            r.line(Verdict::Ok, "configuration", format!("{} loads: node {} of cluster {:?}", path.display(), c.node_id, c.cluster));
            c
        }
        Err(e) => {
            r.line(Verdict::Fail, "configuration", e);
            return ExitCode::FAILURE;
        }
    };
    key_file(&mut r, &cfg);
    state_dir(&mut r, &cfg, path);
    let bind = cfg.bind_addr();
    let own = bind.map(|a| free(&mut r, "bind address", a, UdpSocket::bind(a).map(drop), "the node runs here"));
    if let Some(m) = cfg.metrics {
        free(&mut r, "metrics address", m, std::net::TcpListener::bind(m).map(drop), "the node serves its metrics");
    }
    members(&mut r, &cfg, own == Some(false), timeout);
    match r.worst {
        Verdict::Fail => {
            println!("cgm doctor: some checks FAILED (above)");
            ExitCode::FAILURE
        }
        Verdict::Warn => {
            println!("cgm doctor: passed, with warnings");
            ExitCode::SUCCESS
        }
        Verdict::Ok => {
            println!("cgm doctor: every check passed");
            ExitCode::SUCCESS
        }
    }
}

fn key_file(r: &mut Report, cfg: &NodeConfig) {
    let Some(path) = &cfg.key_file else {
        if cfg.insecure {
            r.line(Verdict::Warn, "key", "insecure = true: datagrams are not authenticated; anyone on the network can join and forge");
        }
        return;
    };
    let Ok(meta) = std::fs::metadata(path) else { return };
    let mode = meta.permissions().mode() & 0o777;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if mode & 0o077 != 0 {
        r.line(
            Verdict::Fail,
            "key file",
            format!("{} has mode {mode:o}: others can read the cluster key; chmod 600 {}", path.display(), path.display()),
        );
    } else if meta.uid() != me {
        r.line(Verdict::Warn, "key file", format!("{} belongs to uid {}, not to this user ({me})", path.display(), meta.uid()));
    } else {
        r.line(Verdict::Ok, "key file", format!("{} (mode {mode:o}, yours)", path.display()));
    }
}

fn state_dir(r: &mut Report, cfg: &NodeConfig, path: &Path) {
    let dir = crate::default_state_dir(path, cfg);
    match std::fs::metadata(&dir) {
        Ok(m) if !m.is_dir() => r.line(Verdict::Fail, "state directory", format!("{} is not a directory", dir.display())),
        Ok(m) => {
            let probe = dir.join(".cgm-doctor");
            match std::fs::write(&probe, b"") {
                Ok(()) => {
                    let _ = std::fs::remove_file(&probe);
                    let mode = m.permissions().mode() & 0o777;
                    let v = if mode & 0o077 != 0 { Verdict::Warn } else { Verdict::Ok };
                    r.line(
                        v,
                        "state directory",
                        format!(
                            "{} is writable (mode {mode:o}{})",
                            dir.display(),
                            if v == Verdict::Warn { "; 700 keeps the key in force private" } else { "" }
                        ),
                    );
                }
                Err(e) => r.line(Verdict::Fail, "state directory", format!("{}: cannot write in it: {e}", dir.display())),
            }
        }
        Err(_) => {
            let parent = dir.parent().unwrap_or(Path::new("."));
            let writable = std::fs::metadata(parent).is_ok_and(|m| m.permissions().mode() & 0o200 != 0);
            let v = if writable { Verdict::Ok } else { Verdict::Fail };
            r.line(
                v,
                "state directory",
                format!(
                    "{} does not exist yet{}",
                    dir.display(),
                    if writable { "; the node creates it" } else { ", and its parent is not writable" }
                ),
            );
        }
    }
}

/// Reports whether `addr` could be bound (`probe`: true), or is in use
/// (false, a warning: the node may be running).
fn free(r: &mut Report, what: &str, addr: SocketAddr, probe: std::io::Result<()>, user: &str) -> bool {
    match probe {
        Ok(()) => {
            r.line(Verdict::Ok, what, format!("{addr} is free"));
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            r.line(Verdict::Warn, what, format!("{addr} is in use: {user}, or another program holds it"));
            false
        }
        Err(e) => {
            r.line(Verdict::Fail, what, format!("{addr} cannot be bound: {e} (is it an address of this host?)"));
            true
        }
    }
}

/// Asks every configured member for its status; compares the committed
/// node set with the file's.
fn members(r: &mut Report, cfg: &NodeConfig, running_here: bool, timeout: Duration) {
    let mut answered = 0;
    let mut committed = None;
    for &(id, addr) in &cfg.nodes {
        let what = format!("member {id}");
        let asked = Client::new(cfg.key.as_ref(), cfg.encrypt, addr).and_then(|mut c| c.query_status(addr, id, timeout));
        match asked {
            Ok(s) => {
                answered += 1;
                r.line(
                    Verdict::Ok,
                    &what,
                    format!(
                        "{addr} answers: view {} of {} members, quorum {}, generation {}",
                        s.view,
                        s.members.len(),
                        if s.quorum { "yes" } else { "no" },
                        s.generation
                    ),
                );
                if s.quorum && committed.is_none() {
                    committed = Some(s.params.nodes().ids().collect::<Vec<NodeId>>());
                }
            }
            Err(e) if id == cfg.node_id && !running_here => r.line(Verdict::Ok, &what, format!("{addr}: this node is not running ({e})")),
            Err(e) => r.line(
                Verdict::Warn,
                &what,
                format!("{addr} does not answer: {e} (down, a firewall, a wrong address, or another cluster key)"),
            ),
        }
    }
    if answered == 0 {
        r.line(Verdict::Warn, "cluster", "no member answered: nothing more to compare");
        return;
    }
    let mine: Vec<NodeId> = cfg.nodes.iter().map(|&(id, _)| id).collect();
    match committed {
        Some(set) if set != mine && !cfg.join => r.line(
            Verdict::Warn,
            "node set",
            format!("the cluster's committed node set is {set:?}, the file lists {mine:?}: the committed set wins (see cgm nodes list)"),
        ),
        Some(set) => r.line(Verdict::Ok, "node set", format!("{set:?}, as committed")),
        None => r.line(Verdict::Warn, "node set", "no answering member has quorum"),
    }
}
