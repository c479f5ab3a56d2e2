//! `cgm node` as a daemon that fits its host:
//!
//! - systemd's readiness protocol (`Type=notify`, through the `sd-notify`
//!   crate): `READY=1` once the node is in a view with quorum, a `STATUS=`
//!   line whenever its view, phase or generation changes, `WATCHDOG=1` at
//!   half the unit's `WatchdogSec` when it sets one, `RELOADING=1` /
//!   `READY=1` around a reload and `STOPPING=1` when it leaves. Without
//!   `NOTIFY_SOCKET` nothing is sent.
//! - `SIGHUP` re-reads the node-local parts of the config file (`[limits]`,
//!   `log_level`) and applies them; it reports the parts that changed but
//!   do not change this way (the cluster's values, node set and key change
//!   by transaction; the rest at a restart).
//! - Log lines in the journal's format (`<N>` priority prefixes) when
//!   stderr is the journal (`JOURNAL_STREAM` names it).

use cgm_runtime::cgm_core::{LocalLimits, Status};
use cgm_runtime::{Node, NodeConfig};
use log::LevelFilter;
use sd_notify::NotifyState;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Sets up the logger of the `cgm` tool: `RUST_LOG` when it is set (its
/// module filters stay in force), else `warn`; in the journal's format when
/// stderr is the journal. Returns the level to go back to when a config file
/// names none.
pub(crate) fn init_logging() -> LevelFilter {
    let mut b = env_logger::Builder::new();
    let default = match std::env::var("RUST_LOG") {
        Ok(spec) => {
            b.parse_filters(&spec);
            None
        }
        // Every record passes the builder; the global maximum filters, so
        // a config's log_level can raise it later.
        Err(_) => {
            b.filter_level(LevelFilter::Trace);
            Some(LevelFilter::Warn)
        }
    };
    if stderr_is_the_journal() {
        b.format(|buf, r| {
            let priority = match r.level() {
                log::Level::Error => 3,
                log::Level::Warn => 4,
                log::Level::Info => 6,
                log::Level::Debug | log::Level::Trace => 7,
            };
            writeln!(buf, "<{priority}>{}: {}", r.target(), r.args())
        });
    }
    b.init();
    let default = default.unwrap_or_else(log::max_level);
    log::set_max_level(default);
    default
}

/// Whether stderr is the journal's stream: systemd names that stream's
/// device and inode in `JOURNAL_STREAM` ("dev:ino"), and a redirected
/// stderr no longer matches it.
fn stderr_is_the_journal() -> bool {
    let Ok(named) = std::env::var("JOURNAL_STREAM") else { return false };
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a stat for fd 2 into the buffer, or fails.
    if unsafe { libc::fstat(2, st.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: fstat succeeded, so it filled the buffer.
    let st = unsafe { st.assume_init() };
    named == format!("{}:{}", st.st_dev, st.st_ino)
}

/// The service manager's side of a running node.
pub(crate) struct Notifier {
    /// Whether a service manager listens (`NOTIFY_SOCKET`).
    on: bool,
    ready: bool,
    /// Half the watchdog period, when the unit sets one.
    pet_every: Option<Duration>,
    last_pet: Instant,
    last_status: String,
}

impl Notifier {
    /// A notifier for the service manager named by the environment, if any.
    pub(crate) fn from_env() -> Notifier {
        let on = std::env::var_os("NOTIFY_SOCKET").is_some();
        let mut usec = 0;
        let watchdog = on && sd_notify::watchdog_enabled(false, &mut usec);
        Notifier {
            on,
            ready: false,
            pet_every: watchdog.then(|| Duration::from_micros(usec / 2)),
            last_pet: Instant::now(),
            last_status: String::new(),
        }
    }

    fn send(&self, states: &[NotifyState<'_>]) {
        if self.on {
            if let Err(e) = sd_notify::notify(false, states) {
                log::warn!("cannot notify the service manager: {e}");
            }
        }
    }

    /// Reports the node's state: `STATUS=` when it changed, `READY=1` the
    /// first time the node is in a view with quorum, `WATCHDOG=1` when due.
    /// Call it often (every 100 ms or so); `status` is asked only when a
    /// service manager listens.
    pub(crate) fn tick(&mut self, status: impl FnOnce() -> Option<Status>) {
        if !self.on {
            return;
        }
        if let Some(s) = &status() {
            let line = status_line(s);
            if line != self.last_status {
                self.send(&[NotifyState::Status(&line)]);
                self.last_status = line;
            }
            if s.quorum && !self.ready {
                self.ready = true;
                self.send(&[NotifyState::Ready]);
            }
        }
        if let Some(every) = self.pet_every {
            if self.last_pet.elapsed() >= every {
                self.last_pet = Instant::now();
                self.send(&[NotifyState::Watchdog]);
            }
        }
    }

    /// Around a reload: `RELOADING=1` with the monotonic time systemd
    /// asks for, then `done` as the status and `READY=1`.
    pub(crate) fn reloading(&self) {
        match NotifyState::monotonic_usec_now() {
            Ok(t) => self.send(&[NotifyState::Reloading, t]),
            Err(_) => self.send(&[NotifyState::Reloading]),
        }
    }

    /// The end of a reload, saying what it did.
    pub(crate) fn reloaded(&mut self, done: &str) {
        self.send(&[NotifyState::Status(done), NotifyState::Ready]);
        self.last_status = done.to_string();
    }

    /// The node is leaving.
    pub(crate) fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("leaving the group")]);
    }
}

/// One line on the node's state, for `STATUS=`.
fn status_line(s: &Status) -> String {
    format!(
        "view {} (leader {}): {} of {} nodes, quorum {}, {}, generation {}",
        s.view.epoch,
        s.view.leader,
        s.members.len(),
        s.params.nodes().len(),
        if s.quorum { "yes" } else { "no" },
        s.phase.as_str(),
        s.generation
    )
}

/// Re-reads the config file at `path` on `SIGHUP` and applies its node-local
/// parts to `node`; `file` holds the file as last read and is updated to
/// what was applied. Returns one line saying what changed, for the log and
/// the service manager. A file that does not load changes nothing.
pub(crate) fn reload(path: &Path, node: &Node, file: &mut NodeConfig, default_level: LevelFilter) -> String {
    let new = match NodeConfig::load(path) {
        Ok(c) => c,
        Err(e) => return format!("reload of {} failed, nothing changed: {e}", path.display()),
    };
    let mut applied = Vec::new();
    if new.limits != file.limits {
        if let Err(e) = node.set_limits(new.limits.clone()) {
            return format!("reload of {} failed, nothing changed: {e}", path.display());
        }
        applied.push(format!("limits {} -> {}", limits_text(&file.limits), limits_text(&new.limits)));
        file.limits = new.limits.clone();
    }
    if new.log_level != file.log_level {
        let (from, to) = (file.log_level.unwrap_or(default_level), new.log_level.unwrap_or(default_level));
        log::set_max_level(to);
        applied.push(format!("log level {from} -> {to}"));
        file.log_level = new.log_level;
    }
    let mut elsewhere = Vec::new();
    if new.params != file.params {
        elsewhere.push("[params] (the cluster's values change by `cgm set`)");
    }
    if new.nodes != file.nodes {
        elsewhere.push("[[nodes]] (the node set changes by `cgm nodes`)");
    }
    if new.key_file != file.key_file {
        elsewhere.push("key_file (the key changes by `cgm rotate-key`)");
    }
    let restart = [
        ("cluster", new.cluster != file.cluster),
        ("node_id", new.node_id != file.node_id),
        ("bind", new.bind != file.bind),
        ("encrypt", new.encrypt != file.encrypt),
        ("insecure", new.insecure != file.insecure),
        ("quorum", new.quorum != file.quorum),
        ("multicast", new.multicast != file.multicast),
        ("state_dir", new.state_dir != file.state_dir),
        ("veto_timeout", new.veto_timeout != file.veto_timeout),
        ("max_jobs", new.max_jobs != file.max_jobs),
        ("join", new.join != file.join),
    ];
    let restart: Vec<&str> = restart.iter().filter(|(_, differs)| *differs).map(|(name, _)| *name).collect();
    let mut line = format!("reloaded {}: ", path.display());
    line += &if applied.is_empty() { "no node-local change".to_string() } else { applied.join("; ") };
    if !elsewhere.is_empty() {
        line += &format!("; changed in the file but not by a reload: {}", elsewhere.join(", "));
    }
    if !restart.is_empty() {
        line += &format!("; changed in the file, in force after a restart: {}", restart.join(", "));
    }
    line
}

/// Limits as `name=value,...`, or `none`.
fn limits_text(l: &LocalLimits) -> String {
    let all = l.all();
    if all.is_empty() {
        return "none".into();
    }
    all.iter().map(|(p, v)| format!("{}={v}", p.name())).collect::<Vec<_>>().join(",")
}
