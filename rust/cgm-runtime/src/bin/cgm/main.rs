//! `cgm`: run, inspect and retune libcgm clusters.

mod bench;
mod daemon;
mod demo;
mod doctor;
mod metrics;
mod render;

use cgm_runtime::cgm_core::{AppProtocol, NodeId, Param};
use cgm_runtime::client::Client;
use cgm_runtime::{Error, Key, Node, NodeConfig, NodeEvent};
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Cluster group membership with inspectable progress and safe runtime retuning.
#[derive(Parser)]
#[command(
    name = "cgm",
    version,
    about = "Run and operate a libcgm cluster: nodes, status queries, and transactional changes of its parameters, key and node set"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a local cluster on loopback and show everything libcgm does.
    Demo {
        /// Number of nodes.
        #[arg(long, default_value_t = 5)]
        nodes: u32,
    },
    /// Run one node in the foreground until SIGINT or SIGTERM, then leave gracefully.
    Node {
        /// The node's configuration file.
        #[arg(short, long)]
        config: PathBuf,
        /// Hold this named local lock for the node's lifetime, so protocol
        /// steps that need it wait (visibly in the status): for trying out
        /// status queries to a blocked member, and for benchmarks.
        #[arg(long, value_name = "NAME")]
        hold_lock: Option<String>,
        /// Keep the node's durable state (committed parameters, lineage) in
        /// DIR. Default: the config's `state_dir`, else `cgm-state-<node id>`
        /// next to the configuration file.
        #[arg(long, value_name = "DIR", conflicts_with = "no_state")]
        state_dir: Option<PathBuf>,
        /// Keep no state on disk: a restart forgets the committed values.
        #[arg(long)]
        no_state: bool,
        /// Append every event the node's host sees (views, outcomes, values,
        /// its start) to FILE as JSON Lines, in the simulator's history
        /// schema, for tests/sim/check_history.py.
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
        /// Propose an application protocol (one ACK round, an 8-byte
        /// payload counting up) every SECONDS while this member is in a view
        /// with quorum: the node's host as a load generator, for tests and
        /// benchmarks. Outcomes go to the history; refusals (no quorum,
        /// backpressure) are counted and shown at exit.
        #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
        propose_every: Option<Duration>,
    },
    /// Measure latency and throughput of a local cluster of separate processes
    /// against the UDP ping-pong floor (see BENCHMARKS.md).
    Bench {
        /// Samples per latency figure (p50 and p99 are taken over them).
        #[arg(long, default_value_t = 2_000)]
        samples: usize,
        /// Run only these benchmarks: floor, round, change, query, throughput, rotation, nodes, crash.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Members keep no state on disk (by default each keeps it, as `cgm node` does).
        #[arg(long)]
        no_state: bool,
        /// Also run the round, change, query and throughput benchmarks among
        /// this many members (for example 32,64), each a separate process.
        #[arg(long, value_delimiter = ',', value_name = "N")]
        members: Vec<u32>,
    },
    /// Echo every UDP datagram back to its sender (the benchmark's floor peer).
    #[command(hide = true)]
    BenchEcho {
        /// Address to bind.
        #[arg(long)]
        bind: std::net::SocketAddr,
    },
    /// Ask a member for its status over the network.
    Status {
        /// A node configuration file (for the key and addresses).
        #[arg(short, long)]
        config: PathBuf,
        /// The member to ask (default: the file's node_id).
        #[arg(long)]
        member: Option<NodeId>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Shorthand for --format json.
        #[arg(long)]
        json: bool,
        /// Seconds to wait for the answer.
        #[arg(long, default_value = "2.0", value_parser = positive_seconds)]
        timeout: Duration,
    },
    /// Run a transactional parameter change: PARAM=VALUE ... (committed or rolled back everywhere).
    /// Exits 0 committed, 1 rolled back, 2 refused before it ran, 3 outcome unknown (timed out after sending).
    Set {
        /// A node configuration file.
        #[arg(short, long)]
        config: PathBuf,
        /// The member that runs the change (default: the file's node_id).
        #[arg(long)]
        member: Option<NodeId>,
        /// Transaction id: re-running with the same one against the same member
        /// returns its outcome instead of running it again, while the member
        /// remembers it (its last 4,096 outcomes in its current life).
        #[arg(long)]
        txid: Option<u64>,
        /// Seconds to wait for the outcome.
        #[arg(long, default_value = "10.0", value_parser = positive_seconds)]
        timeout: Duration,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        /// Changes, e.g. heartbeat-interval=500ms send-window-size=32.
        #[arg(required = true)]
        changes: Vec<String>,
    },
    /// Rotate the cluster key by transaction: every member loads the key file
    /// (place it at the same path on every node first), accepts both keys,
    /// then sends under the new one; undone everywhere if a member cannot load
    /// it. Exits 0 committed, 1 undone, 2 refused before it ran, 3 outcome
    /// unknown (timed out after sending).
    RotateKey {
        /// A node configuration file.
        #[arg(short, long)]
        config: PathBuf,
        /// The new key file (32 bytes, e.g. from `cgm keygen`), at this path
        /// on every node; keep it beside the first key file, where a member
        /// away during the rotation finds it.
        #[arg(long)]
        key_file: PathBuf,
        /// The member that runs the rotation (default: the file's node_id).
        #[arg(long)]
        member: Option<NodeId>,
        /// Transaction id (as for `cgm set`).
        #[arg(long)]
        txid: Option<u64>,
        /// Seconds to wait for the outcome.
        #[arg(long, default_value = "10.0", value_parser = positive_seconds)]
        timeout: Duration,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change or list the cluster's node set. A change runs by transaction
    /// (committed or undone everywhere) and exits as `cgm set` does: 0
    /// committed, 1 undone, 2 refused before it ran, 3 outcome unknown.
    Nodes {
        #[command(subcommand)]
        cmd: NodesCmd,
    },
    /// Show configured and effective parameters.
    Params {
        /// A node configuration file.
        #[arg(short, long)]
        config: PathBuf,
        /// The member to ask (default: the file's node_id).
        #[arg(long)]
        member: Option<NodeId>,
        /// One table across every configured member, flagging differences.
        #[arg(long)]
        all_members: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Refresh a member's status table, with each peer's ACK lag as a bar, until interrupted.
    Watch {
        /// A node configuration file.
        #[arg(short, long)]
        config: PathBuf,
        /// The member to ask (default: the file's node_id).
        #[arg(long)]
        member: Option<NodeId>,
        /// Milliseconds between refreshes.
        #[arg(long, default_value_t = 500)]
        interval: u64,
        /// Stop after this many refreshes (default: until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Write a new 32-byte cluster key file (mode 0600).
    Keygen {
        /// The file to create (must not exist).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Check a node's configuration, key file, state directory and
    /// addresses, and ask every configured member whether it answers;
    /// print what is wrong and how to fix it. Exits 1 when a check failed.
    Doctor {
        /// The node's configuration file.
        #[arg(short, long)]
        config: PathBuf,
        /// Seconds to wait for each member's answer.
        #[arg(long, default_value = "1.0", value_parser = positive_seconds)]
        timeout: Duration,
    },
    /// Print the shell completion script for bash, zsh, fish, elvish or
    /// powershell, e.g. `cgm completions bash > /etc/bash_completion.d/cgm`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page cgm(1), or with --dir write cgm.1 and one
    /// cgm-COMMAND.1 per command into DIR.
    Man {
        /// Write every page into this directory (created if missing).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// What a node change needs besides what it changes.
#[derive(clap::Args)]
struct ChangeArgs {
    /// A node configuration file.
    #[arg(short, long)]
    config: PathBuf,
    /// The member that runs the change (default: the file's node_id).
    #[arg(long)]
    member: Option<NodeId>,
    /// Transaction id (as for `cgm set`).
    #[arg(long)]
    txid: Option<u64>,
    /// Seconds to wait for the outcome.
    #[arg(long, default_value = "10.0", value_parser = positive_seconds)]
    timeout: Duration,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum NodesCmd {
    /// Add node ID at ADDR (ip:port) to the cluster. Then start it with a
    /// configuration listing itself and at least one member: it gets the
    /// node set, parameters, generation and key by state transfer.
    Add {
        /// The new node's id.
        id: NodeId,
        /// Its address, ip:port, as every member will reach it.
        addr: String,
        #[command(flatten)]
        args: ChangeArgs,
    },
    /// Remove node ID from the cluster: it leaves the group once told, and
    /// its datagrams are refused until it is added again.
    Remove {
        /// The node's id.
        id: NodeId,
        #[command(flatten)]
        args: ChangeArgs,
    },
    /// Add and remove several nodes in one transaction.
    Change {
        /// A node to add, as ID=ip:port (repeat for several).
        #[arg(long = "add", value_name = "ID=ADDR")]
        add: Vec<String>,
        /// A node to remove (repeat for several).
        #[arg(long = "remove", value_name = "ID")]
        remove: Vec<NodeId>,
        #[command(flatten)]
        args: ChangeArgs,
    },
    /// List the cluster's node set as a member committed it, the nodes
    /// configuration files list, and each node's state. Exits 1 when a file
    /// disagrees with the committed set or a node does not answer.
    List {
        /// A node configuration file.
        #[arg(short, long)]
        config: PathBuf,
        /// The member to ask for the committed set (default: the file's node_id).
        #[arg(long)]
        member: Option<NodeId>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Prometheus,
}

fn main() -> ExitCode {
    let default_level = daemon::init_logging();
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Demo { nodes } => demo::run(nodes),
        Cmd::Node { config, hold_lock, state_dir, no_state, history, propose_every } => {
            run_node(&config, hold_lock.as_deref(), state_dir, no_state, history, propose_every, default_level)
        }
        Cmd::Bench { samples, only, no_state, members } => bench::run(samples, &only, no_state, &members),
        Cmd::BenchEcho { bind } => bench::echo(bind),
        Cmd::Status { config, member, format, json, timeout } => status(&config, member, if json { Format::Json } else { format }, timeout),
        Cmd::Set { config, member, txid, timeout, json, changes } => set(&config, member, txid, timeout, json, &changes),
        Cmd::RotateKey { config, key_file, member, txid, timeout, json } => rotate_key(&config, &key_file, member, txid, timeout, json),
        Cmd::Nodes { cmd } => nodes(cmd),
        Cmd::Params { config, member, all_members, json } => params(&config, member, all_members, json),
        Cmd::Watch { config, member, interval, count } => watch(&config, member, interval, count),
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "cgm", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Man { dir } => man(dir.as_deref()),
        Cmd::Doctor { config, timeout } => Ok(doctor::run(&config, timeout)),
        Cmd::Keygen { output } => Key::generate().write_new(&output).map(|()| {
            println!("wrote a new cluster key to {} (mode 0600)", output.display());
            ExitCode::SUCCESS
        }),
    };
    match r {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("cgm: {msg}");
            ExitCode::from(2)
        }
    }
}

type CmdResult = Result<ExitCode, String>;

/// `cgm man`: cgm(1) to stdout, or every page into `dir`.
fn man(dir: Option<&std::path::Path>) -> CmdResult {
    let cmd = <Cli as clap::CommandFactory>::command();
    let Some(dir) = dir else {
        clap_mangen::Man::new(cmd).render(&mut std::io::stdout()).map_err(|e| format!("cannot write the manual page: {e}"))?;
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut pages = vec![("cgm".to_string(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("cgm-{}", sub.get_name());
        pages.push((name.clone(), sub.clone().name(name)));
    }
    for (name, page) in &pages {
        let path = dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(page.clone()).render(&mut out).map_err(|e| format!("cannot render {name}(1): {e}"))?;
        std::fs::write(&path, out).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("wrote {} manual pages into {}", pages.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

fn load(path: &std::path::Path) -> Result<NodeConfig, String> {
    NodeConfig::load(path).map_err(|e| e.to_string())
}

/// The state directory `cgm node` uses for the configuration at `path`: the
/// file's `state_dir`, else `cgm-state-<node id>` beside the file.
fn default_state_dir(path: &std::path::Path, cfg: &NodeConfig) -> PathBuf {
    cfg.state_dir.clone().unwrap_or_else(|| {
        let dir = std::path::absolute(path).ok().and_then(|p| p.parent().map(std::path::Path::to_path_buf)).unwrap_or_default();
        dir.join(format!("cgm-state-{}", cfg.node_id))
    })
}

/// A node's configuration as an operator tool uses it: after a key rotation
/// its `key_file` may hold a retired key, so the tool takes the key in force
/// from the node's state directory when it has one.
fn load_operator(path: &std::path::Path) -> Result<NodeConfig, String> {
    let mut cfg = load(path)?;
    if let Some(k) = cgm_runtime::state::active_key(&default_state_dir(path, &cfg), cfg.key.as_ref()) {
        cfg.key = Some(k);
    }
    Ok(cfg)
}

fn client_for(cfg: &NodeConfig, member: Option<NodeId>) -> Result<(Client, std::net::SocketAddr, NodeId), String> {
    let member = member.unwrap_or(cfg.node_id);
    let addr = match cfg.addr_of(member) {
        Some(a) => a,
        None => committed_addr(cfg, member)?,
    };
    let c = Client::new(cfg.key.as_ref(), cfg.encrypt, addr).map_err(|e| e.to_string())?;
    Ok((c, addr, member))
}

/// The address of `member`, which the file does not list, as the cluster's
/// node set holds it (asked of the file's own node).
fn committed_addr(cfg: &NodeConfig, member: NodeId) -> Result<std::net::SocketAddr, String> {
    let (mut c, addr, own) = client_for(cfg, Some(cfg.node_id))?;
    let s = c
        .query_status(addr, own, Duration::from_secs(2))
        .map_err(|e| format!("member {member} is not in the configuration, and member {own} at {addr}: {e}"))?;
    let text = s
        .params
        .nodes()
        .address(member)
        .ok_or_else(|| format!("member {member} is neither in the configuration nor in the cluster's node set"))?;
    text.parse().map_err(|_| format!("member {member}'s address {text:?} in the cluster's node set is not ip:port"))
}

#[allow(clippy::too_many_arguments)]
fn run_node(
    path: &std::path::Path,
    hold_lock: Option<&str>,
    state_dir: Option<PathBuf>,
    no_state: bool,
    history: Option<PathBuf>,
    propose_every: Option<Duration>,
    default_level: log::LevelFilter,
) -> CmdResult {
    // The file as read, apart from what the command line overrides: what a
    // reload (SIGHUP) compares the file with.
    let mut file = load(path)?;
    if let Some(level) = file.log_level {
        log::set_max_level(level);
    }
    let mut cfg = file.clone();
    cfg.history = history;
    // Application outcomes are not printed (the history records them).
    cfg.app_events = false;
    if no_state {
        cfg.state_dir = None;
    } else {
        cfg.state_dir = Some(state_dir.unwrap_or_else(|| default_state_dir(path, &cfg)));
    }
    let (stop, hup) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    for (sig, flag) in [(signal_hook::consts::SIGINT, &stop), (signal_hook::consts::SIGTERM, &stop), (signal_hook::consts::SIGHUP, &hup)] {
        signal_hook::flag::register(sig, Arc::clone(flag)).map_err(|e| format!("cannot handle signals: {e}"))?;
    }
    let cfg_state = cfg.state_dir.clone();
    // Bound before the node starts: a taken address fails the start.
    let endpoint = cfg.metrics.map(metrics::Endpoint::bind).transpose()?;
    let node = Node::start(cfg).map_err(|e| e.to_string())?;
    let _held = hold_lock.map(|name| node.lock(name));
    match &cfg_state {
        Some(dir) => println!("node {} keeps its state in {}", node.id(), dir.display()),
        None => println!("node {} keeps no state on disk (--no-state): a restart forgets the committed values", node.id()),
    }
    if let Some(addr) = file.metrics {
        println!("node {} serves its metrics on http://{addr}/metrics", node.id());
    }
    println!("node {} running; SIGINT or SIGTERM leaves the group, SIGHUP re-reads [limits] and log_level", node.id());
    let signals = Signals { stop, hup };
    std::thread::scope(|scope| {
        if let Some(ep) = &endpoint {
            scope.spawn(|| ep.serve(&node));
        }
        let removed = follow(&node, path, &mut file, default_level, &signals, propose_every);
        if let Some(ep) = &endpoint {
            ep.stop();
        }
        if !removed {
            println!("leaving the group");
        }
    });
    node.shutdown();
    Ok(ExitCode::SUCCESS)
}

/// What `cgm node` was told by signals.
struct Signals {
    /// SIGINT or SIGTERM: leave.
    stop: Arc<AtomicBool>,
    /// SIGHUP: re-read the config file.
    hup: Arc<AtomicBool>,
}

/// Runs `cgm node`'s foreground until a signal says stop or the node is
/// removed from the node set (then true): prints what the node sees,
/// reloads on SIGHUP, tells the service manager, proposes the load.
fn follow(
    node: &Node,
    path: &std::path::Path,
    file: &mut NodeConfig,
    default_level: log::LevelFilter,
    signals: &Signals,
    propose_every: Option<Duration>,
) -> bool {
    let mut notifier = daemon::Notifier::from_env();
    let mut load = propose_every.map(Load::new);
    let mut quorum = false;
    while !signals.stop.load(Ordering::Acquire) {
        if signals.hup.swap(false, Ordering::AcqRel) {
            notifier.reloading();
            let done = daemon::reload(path, node, file, default_level);
            println!("{done}");
            log::info!("{done}");
            notifier.reloaded(&done);
        }
        notifier.tick(|| node.status().ok());
        let wait = load.as_mut().map_or(Duration::from_millis(100), |l| l.tick(node, quorum));
        let until = std::time::Instant::now() + wait;
        while let Some(ev) = node.next_event(Some(until.saturating_duration_since(std::time::Instant::now()))) {
            match ev {
                NodeEvent::ViewChanged { view, members, quorum: q } => {
                    quorum = q;
                    println!("view {view}: members {members:?} quorum {}", if q { "yes" } else { "no" })
                }
                NodeEvent::Suspected { member, reason } => {
                    println!("suspect member {member}: {reason}")
                }
                NodeEvent::ChangeCommitted(o) | NodeEvent::ChangeRolledBack(o) => {
                    print!("{}", render::outcome_table(&o))
                }
                NodeEvent::ProtocolCompleted(o) if o.kind == "node-change" => print!("{}", render::outcome_table(&o)),
                NodeEvent::ProtocolCompleted(_) | NodeEvent::StepRequest { .. } | NodeEvent::VetoRequest { .. } => {}
                NodeEvent::Removed { generation } => {
                    println!("removed from the cluster's node set at generation {generation}: this node left the group; exiting");
                    notifier.stopping();
                    return true;
                }
            }
            if signals.stop.load(Ordering::Acquire) || signals.hup.load(Ordering::Acquire) || std::time::Instant::now() >= until {
                break;
            }
        }
    }
    if let Some(l) = load {
        println!("proposed {} application protocols; {} refused before they ran", l.proposed, l.refused);
    }
    notifier.stopping();
    false
}

/// `cgm node --propose-every`: application protocols from the node's host.
struct Load {
    every: Duration,
    next: std::time::Instant,
    proposed: u64,
    refused: u64,
}

impl Load {
    fn new(every: Duration) -> Load {
        Load { every, next: std::time::Instant::now() + every, proposed: 0, refused: 0 }
    }

    /// Proposes one protocol if one is due and the member has quorum; the
    /// time until the next is due.
    fn tick(&mut self, node: &Node, quorum: bool) -> Duration {
        let now = std::time::Instant::now();
        if now >= self.next {
            self.next = now + self.every;
            if quorum {
                let app = AppProtocol { payload: self.proposed.to_be_bytes().to_vec().into(), rounds: 1, wait: None };
                match node.submit(app) {
                    Ok(_) => self.proposed += 1,
                    Err(e) => {
                        self.refused += 1;
                        log::debug!("node {}: a load protocol was refused: {e}", node.id());
                    }
                }
            }
        }
        self.next.saturating_duration_since(now).min(Duration::from_millis(100))
    }
}

/// Parses a positive number of seconds.
fn positive_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>().ok().filter(|&s| s > 0.0).and_then(|s| Duration::try_from_secs_f64(s).ok()) {
        Some(d) => Ok(d),
        None => Err(format!("expected a positive number of seconds, got {text:?}")),
    }
}

fn status(path: &std::path::Path, member: Option<NodeId>, format: Format, timeout: Duration) -> CmdResult {
    let cfg = load_operator(path)?;
    let (mut c, addr, member) = client_for(&cfg, member)?;
    let s = c.query_status(addr, member, timeout).map_err(|e| format!("member {member} at {addr}: {e}"))?;
    match format {
        Format::Table => print!("{}", render::status_table(&s)),
        Format::Json => println!("{:#}", cgm_runtime::cgm_core::schema::status_to_json(&s)),
        Format::Prometheus => print!("{}", metrics::exposition(&s, None)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `name=value` arguments into a change.
fn parse_changes(args: &[String]) -> Result<Vec<(Param, u64)>, String> {
    args.iter()
        .map(|a| {
            let (name, value) = a.split_once('=').ok_or_else(|| format!("expected PARAM=VALUE, got {a:?}"))?;
            let p = Param::from_name(name).ok_or_else(|| cgm_runtime::cgm_core::ParamError::UnknownName(name.to_string()).to_string())?;
            let v = p.parse_value(value).map_err(|e| e.to_string())?;
            Ok((p, v))
        })
        .collect()
}

fn set(path: &std::path::Path, member: Option<NodeId>, txid: Option<u64>, timeout: Duration, json: bool, args: &[String]) -> CmdResult {
    let changes = parse_changes(args)?;
    let cfg = load_operator(path)?;
    // Static validation before anything is sent: ranges here, cross-parameter
    // rules against the member's current values there.
    for (p, v) in &changes {
        cgm_runtime::cgm_core::Params::check_range(*p, *v).map_err(|e| e.to_string())?;
    }
    let (mut c, addr, member) = client_for(&cfg, member)?;
    let txid = txid.unwrap_or_else(cgm_runtime::new_incarnation);
    let r = c.change(addr, member, &changes, txid, timeout);
    report_outcome(r, member, txid, timeout, json, "cgm set", "the same changes")
}

/// Prints the outcome of an operator's change or rotation and picks the exit
/// code: 0 committed, 1 rolled back, 3 outcome unknown; an error otherwise.
fn report_outcome(
    r: Result<cgm_runtime::cgm_core::Outcome, Error>,
    member: NodeId,
    txid: u64,
    timeout: Duration,
    json: bool,
    command: &str,
    again: &str,
) -> CmdResult {
    let show = |o: &cgm_runtime::cgm_core::Outcome| {
        if json {
            println!("{:#}", cgm_runtime::cgm_core::schema::outcome_to_json(o));
        } else {
            print!("{}", render::outcome_table(o));
        }
    };
    match r {
        Ok(o) => {
            show(&o);
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::RolledBack(o) | Error::Vetoed(o)) => {
            show(&o);
            Ok(ExitCode::from(1))
        }
        Err(Error::Timeout { pid: Some(_) }) => {
            eprintln!(
                "cgm: member {member}: no outcome within {timeout:?}: unknown whether transaction {txid} commits \
                 (it runs at most once); run `{command} --member {member} --txid {txid}` with {again} to learn its outcome"
            );
            Ok(ExitCode::from(3))
        }
        Err(e) => Err(format!("member {member}: {e}")),
    }
}

fn rotate_key(
    path: &std::path::Path,
    key_file: &std::path::Path,
    member: Option<NodeId>,
    txid: Option<u64>,
    timeout: Duration,
    json: bool,
) -> CmdResult {
    let cfg = load_operator(path)?;
    let rotation = cgm_runtime::key_rotation(key_file)?;
    let (mut c, addr, member) = client_for(&cfg, member)?;
    // The member answers under the new key once the rotation committed.
    c.accept_key(&Key::load(key_file)?);
    let txid = txid.unwrap_or_else(cgm_runtime::new_incarnation);
    if !json {
        println!("rotating the cluster key to {:016x} ({}) through member {member}", rotation.fingerprint, rotation.path);
    }
    let new_dir = std::path::absolute(key_file).ok().and_then(|p| p.parent().map(std::path::Path::to_path_buf));
    let key_dir = cfg.key_file.as_deref().and_then(std::path::Path::parent);
    if key_dir.is_some() && new_dir.as_deref() != key_dir {
        eprintln!(
            "cgm: warning: {} is not beside the key file {}: a member away during the rotation will not find it by itself",
            key_file.display(),
            cfg.key_file.as_deref().map(std::path::Path::display).map(|d| d.to_string()).unwrap_or_default()
        );
    }
    let r = c.rotate_key(addr, member, rotation, txid, timeout);
    if r.is_ok() && !json {
        println!("every member sends under the new key: now point key_file at it on every node, then delete the old key file");
    }
    report_outcome(r, member, txid, timeout, json, "cgm rotate-key", "the same key file")
}

fn nodes(cmd: NodesCmd) -> CmdResult {
    use cgm_runtime::cgm_core::NodeChange;
    let (change, args) = match cmd {
        NodesCmd::List { config, member, json } => return list_nodes(&config, member, json),
        NodesCmd::Add { id, addr, args } => (NodeChange { add: vec![(id, addr)], remove: Vec::new() }, args),
        NodesCmd::Remove { id, args } => (NodeChange { add: Vec::new(), remove: vec![id] }, args),
        NodesCmd::Change { add, remove, args } => {
            let add = add
                .iter()
                .map(|a| {
                    let (id, addr) = a.split_once('=').ok_or_else(|| format!("expected ID=ADDR, got {a:?}"))?;
                    let id = id.parse::<NodeId>().map_err(|_| format!("{id:?} is not a node id"))?;
                    Ok((id, addr.to_string()))
                })
                .collect::<Result<Vec<_>, String>>()?;
            (NodeChange { add, remove }, args)
        }
    };
    cgm_runtime::check_node_change(&change).map_err(|e| e.to_string())?;
    let cfg = load_operator(&args.config)?;
    let (mut c, addr, member) = client_for(&cfg, args.member)?;
    let txid = args.txid.unwrap_or_else(cgm_runtime::new_incarnation);
    let timeout = args.timeout;
    if !args.json {
        println!("node change through member {member}: {change}");
    }
    let r = c.run(addr, member, cgm_runtime::cgm_core::ProtocolBody::Nodes(change.clone()), txid, timeout);
    if r.is_ok() && !args.json {
        for (id, a) in &change.add {
            println!("node {id} is in the cluster: start it with a configuration listing itself at {a} and at least one member");
        }
    }
    report_outcome(r, member, txid, timeout, args.json, "cgm nodes change", "the same nodes")
}

/// `cgm nodes list`: the committed node set, what the files say, and each node's state.
fn list_nodes(path: &std::path::Path, member: Option<NodeId>, json: bool) -> CmdResult {
    let cfg = load_operator(path)?;
    let (mut c, addr, member) = client_for(&cfg, member)?;
    let s = c.query_status(addr, member, Duration::from_secs(2)).map_err(|e| format!("member {member} at {addr}: {e}"))?;
    let committed = s.params.nodes().clone();
    let file: Vec<NodeId> = cfg.nodes.iter().map(|(id, _)| *id).collect();
    let mut ids: Vec<NodeId> = committed.ids().chain(file.iter().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = Vec::new();
    let mut trouble = false;
    for id in ids {
        let at = committed.address(id).and_then(|a| a.parse().ok()).or_else(|| cfg.addr_of(id));
        let status =
            at.map(|a| (a, Client::new(cfg.key.as_ref(), cfg.encrypt, a).and_then(|mut c| c.query_status(a, id, Duration::from_secs(1)))));
        let (state, own_file) = match &status {
            Some((_, Ok(st))) if st.phase == cgm_runtime::cgm_core::Phase::Left => {
                ("left".to_string(), Some(st.configured.nodes().clone()))
            }
            Some((_, Ok(st))) => (
                format!("view {} of {} members, quorum {}", st.view, st.members.len(), if st.quorum { "yes" } else { "no" }),
                Some(st.configured.nodes().clone()),
            ),
            Some((_, Err(e))) => (format!("no answer: {e}"), None),
            None => ("no address".to_string(), None),
        };
        let mut notes = Vec::new();
        if !committed.contains(id) {
            notes.push("NOT in the committed set (listed by this file)".to_string());
        } else if !file.contains(&id) {
            notes.push("not in this file".to_string());
        }
        if let Some(f) = &own_file {
            let theirs: Vec<NodeId> = f.ids().collect();
            if committed.contains(id) && theirs != committed.ids().collect::<Vec<_>>() {
                notes.push(format!("its file lists {theirs:?} (the committed set wins)"));
            }
        }
        trouble |= !notes.is_empty() || status.as_ref().is_none_or(|(_, r)| r.is_err()) && committed.contains(id);
        rows.push((id, at, committed.contains(id), state, notes));
    }
    if json {
        let v = serde_json::json!({
            "generation": s.generation,
            "committed": committed.iter().map(|(id, a)| serde_json::json!({"id": id, "address": a})).collect::<Vec<_>>(),
            "nodes": rows.iter().map(|(id, at, inset, state, notes)| serde_json::json!({
                "id": id, "address": at.map(|a| a.to_string()), "committed": inset, "state": state, "notes": notes,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        println!("node set committed at generation {} (as member {member} holds it): {}", s.generation, committed);
        for (id, at, _, state, notes) in &rows {
            let at = at.map(|a| a.to_string()).unwrap_or_else(|| "-".into());
            println!("  node {id:>4}  {at:<22} {state}{}", notes.iter().map(|n| format!("; {n}")).collect::<String>());
        }
    }
    Ok(if trouble { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn params(path: &std::path::Path, member: Option<NodeId>, all: bool, json: bool) -> CmdResult {
    let cfg = load_operator(path)?;
    let targets: Vec<NodeId> = if all { all_members(&cfg) } else { vec![member.unwrap_or(cfg.node_id)] };
    let mut statuses = Vec::new();
    let mut unreachable = Vec::new();
    for id in targets {
        let (mut c, addr, _) = client_for(&cfg, Some(id))?;
        match c.query_status(addr, id, Duration::from_secs(2)) {
            Ok(s) => statuses.push(s),
            Err(e) => unreachable.push(format!("member {id}: {e}")),
        }
    }
    if statuses.is_empty() {
        return Err(unreachable.join("; "));
    }
    if json {
        let v: Vec<_> = statuses
            .iter()
            .map(|s| {
                serde_json::json!({
                    "member": s.node,
                    "generation": s.generation,
                    "switch_over_pending": s.switch_over_pending(),
                    "configured": Param::ALL.iter().map(|p| (p.name(), s.configured.get(*p))).collect::<std::collections::BTreeMap<_, _>>(),
                    "limits": s.limits.all().into_iter().map(|(p, v)| (p.name(), v)).collect::<std::collections::BTreeMap<_, _>>(),
                    "effective": Param::ALL.iter().map(|p| (p.name(), s.params.get(*p))).collect::<std::collections::BTreeMap<_, _>>(),
                    "nodes": s.params.nodes().ids().collect::<Vec<_>>(),
                    "configured_nodes": s.configured.nodes().ids().collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        let refs: Vec<&_> = statuses.iter().collect();
        print!("{}", render::params_table(&refs));
        for s in &statuses {
            if s.switch_over_pending() {
                println!("member {}: heartbeat switch-over pending", s.node);
            }
        }
    }
    for u in &unreachable {
        eprintln!("cgm: {u}");
    }
    let differs = statuses.windows(2).any(|w| w[0].params != w[1].params || w[0].generation != w[1].generation);
    Ok(if differs || !unreachable.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The members `--all-members` asks: the node set the cluster committed, as
/// the file's own node holds it (nodes added since the file was written
/// included, removed ones not), or the file's nodes when it does not answer.
fn all_members(cfg: &NodeConfig) -> Vec<NodeId> {
    let own = client_for(cfg, Some(cfg.node_id)).ok().and_then(|(mut c, addr, own)| c.query_status(addr, own, Duration::from_secs(2)).ok());
    match own {
        Some(s) if !s.params.nodes().is_empty() => s.params.nodes().ids().collect(),
        _ => cfg.nodes.iter().map(|(id, _)| *id).collect(),
    }
}

fn watch(path: &std::path::Path, member: Option<NodeId>, interval: u64, count: Option<u64>) -> CmdResult {
    let cfg = load_operator(path)?;
    let (mut c, addr, member) = client_for(&cfg, member)?;
    let mut n = 0;
    loop {
        print!("\x1b[2J\x1b[H");
        match c.query_status(addr, member, Duration::from_secs(1)) {
            Ok(s) => print!("{}{}", render::status_table(&s), render::ack_lag_bars(&s)),
            Err(e) => println!("member {member} at {addr}: {e}"),
        }
        n += 1;
        if count.is_some_and(|c| n >= c) {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(interval));
    }
}
