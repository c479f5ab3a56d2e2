//! `cgm-sim`: runs a seeded fault campaign (or the fault swarm, or a seed
//! bank) and reports every failing seed with the command that replays it.

use cgm_sim::campaign::{run_seed, Campaign, FaultKinds, SeedReport};
use cgm_sim::CrashPoint;
use clap::Parser;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts the heap, so `--throughput` can say what a member costs in memory,
/// and serves it with mimalloc (see `cgm_sim::heap`).
#[global_allocator]
static HEAP: cgm_sim::heap::CountingAlloc = cgm_sim::heap::CountingAlloc;

/// Deterministic fault campaigns against libcgm's core.
#[derive(Parser, Debug, Clone)]
#[command(version, about)]
struct Args {
    /// Seeds to run, as A..B (B excluded) or a single seed.
    #[arg(long, default_value = "0..100", value_parser = parse_range)]
    seeds: Range<u64>,
    /// The fault swarm: draw 3 to 7 members per seed (unless --nodes is
    /// given), loss up to 30 %, duplication up to 50 %, 60 simulated seconds.
    #[arg(long)]
    swarm: bool,
    /// Members per run (default 5; with --swarm, drawn from 3..=7).
    #[arg(long)]
    nodes: Option<usize>,
    /// Faults to draw from: all, none, or a list of loss,dup,reorder,crash,partition,pause.
    #[arg(long, default_value = "all", value_parser = FaultKinds::parse)]
    faults: FaultKinds,
    /// Simulated seconds of the faulty phase per seed (default 20; 60 with --swarm).
    #[arg(long)]
    duration: Option<u64>,
    /// Leave parameter changes out of the workload.
    #[arg(long)]
    no_changes: bool,
    /// Run every seed twice and fail when the two trace hashes differ.
    #[arg(long)]
    twice: bool,
    /// Write each passing seed's trace hash to this file, one `SEED HASH` line
    /// per seed in seed order: two builds that behave alike write the same file
    /// (how a restructure shows it changed no behaviour).
    #[arg(long, value_name = "PATH")]
    traces: Option<std::path::PathBuf>,
    /// Fail unless every enumerated crash point fired at least once.
    #[arg(long)]
    require_crash_points: bool,
    /// Run the seeds listed in this file instead (one per line: a seed, then
    /// the options it runs with; `#` starts a comment).
    #[arg(long, conflicts_with = "seeds")]
    bank: Option<std::path::PathBuf>,
    /// Instead of a campaign, measure simulator speed: run this many protocols
    /// back to back on a fault-free group of --nodes members.
    #[arg(long)]
    throughput: Option<usize>,
    /// Instead of a campaign, measure what one view change costs (datagrams,
    /// bytes, time) in a fault-free group of --nodes members: a member
    /// leaving, then rejoining.
    #[arg(long, conflicts_with = "throughput")]
    view_change_cost: bool,
    /// Write every host-visible event as JSON Lines (schema in the README):
    /// to this file for one seed, or to DIR/<seed>.jsonl when it is a directory.
    #[arg(long, value_name = "PATH")]
    history: Option<std::path::PathBuf>,
    /// Show that a check can fail: run every node with this deliberately
    /// broken rule (needs `--features flaws`; `--flaw list` names them) and
    /// succeed only if some seed fails the check the flaw breaks.
    #[arg(long, value_name = "NAME")]
    flaw: Option<String>,
    /// Worker threads.
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(1, |n| n.get()))]
    jobs: usize,
}

impl Args {
    fn campaign(&self) -> Campaign {
        let mut c = if self.swarm { Campaign::swarm() } else { Campaign::default() };
        if let Some(n) = self.nodes {
            c.nodes = n..=n;
        }
        if let Some(d) = self.duration {
            c.duration = Duration::from_secs(d);
        }
        c.faults = self.faults;
        c.changes = !self.no_changes;
        c.history = self.history.clone();
        #[cfg(feature = "flaws")]
        {
            c.flaw = self.flaw.as_deref().map(|f| cgm_core::flaws::Flaw::parse(f).expect("checked in main"));
        }
        c
    }

    /// The options that replay `seed` exactly.
    fn replay(&self, seed: u64) -> String {
        let c = self.campaign();
        let mut cmd = match &self.flaw {
            Some(f) => format!("cargo run --release -p cgm-sim --features flaws -- --flaw {f} --seeds {seed}"),
            None => format!("cargo run --release -p cgm-sim -- --seeds {seed}"),
        };
        if self.swarm {
            cmd += " --swarm";
        }
        if let Some(n) = self.nodes {
            cmd += &format!(" --nodes {n}");
        }
        cmd += &format!(" --faults {} --duration {}", c.faults.to_arg(), c.duration.as_secs());
        if self.no_changes {
            cmd += " --no-changes";
        }
        cmd
    }
}

fn parse_range(s: &str) -> Result<Range<u64>, String> {
    let bad = || format!("expected a seed or a range A..B, got {s:?}");
    match s.split_once("..") {
        Some((a, b)) => {
            let (a, b): (u64, u64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if a >= b {
                return Err(format!("empty seed range {s:?}"));
            }
            Ok(a..b)
        }
        None => {
            let a: u64 = s.parse().map_err(|_| bad())?;
            Ok(a..a + 1)
        }
    }
}

/// One seed to run: its number and the options it runs with.
struct Job {
    seed: u64,
    args: Args,
}

/// What a run of jobs found.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: Vec<(u64, String)>,
    protocols: u64,
    changes: u64,
    crash_points: [u64; CrashPoint::ALL.len()],
    slowest_settle: Option<(Duration, Duration, u64)>,
    /// The seed whose settle came nearest its bound: ratio, settle, bound, seed.
    tightest_settle: Option<(f64, Duration, Duration, u64)>,
    /// Views installed per member, summed over seeds (hundredths).
    views_centi: u64,
    /// The most views one member installed in one seed, and that seed.
    views_most: Option<(u64, u64)>,
    state_losses: u64,
    traces: Vec<(u64, u64)>,
}

impl Tally {
    fn add(&mut self, r: &SeedReport) {
        self.passed += 1;
        self.traces.push((r.seed, r.trace));
        self.protocols += r.protocols;
        self.state_losses += r.state_losses;
        self.changes += r.changes_proposed;
        for (t, n) in self.crash_points.iter_mut().zip(r.crash_points) {
            *t += n;
        }
        if self.slowest_settle.is_none_or(|(s, _, _)| r.settle > s) {
            self.slowest_settle = Some((r.settle, r.settle_bound, r.seed));
        }
        let ratio = r.settle.as_secs_f64() / r.settle_bound.as_secs_f64();
        if self.tightest_settle.is_none_or(|(q, ..)| ratio > q) {
            self.tightest_settle = Some((ratio, r.settle, r.settle_bound, r.seed));
        }
        self.views_centi += r.views_per_member_centi;
        if self.views_most.is_none_or(|(n, _)| r.views_most > n) {
            self.views_most = Some((r.views_most, r.seed));
        }
    }
}

/// Runs one job: the seed, and with `--twice` the seed again, comparing traces.
fn run_job(job: &Job) -> Result<SeedReport, String> {
    let c = job.args.campaign();
    let once = || match std::panic::catch_unwind(|| run_seed(&c, job.seed)) {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(v)) => Err(v.to_string()),
        Err(_) => Err("panicked".to_string()),
    };
    let r = once()?;
    if job.args.twice {
        let again = once()?;
        if again != r {
            return Err(format!("not deterministic: two runs differ: trace {:#x} vs {:#x} ({r:?} vs {again:?})", r.trace, again.trace));
        }
    }
    Ok(r)
}

fn run_jobs(jobs: &[Job], threads: usize) -> Tally {
    let next = AtomicU64::new(0);
    let tally = Mutex::new(Tally::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(job) = jobs.get(i) else { break };
                let result = run_job(job);
                let mut t = tally.lock().expect("no poisoning");
                match result {
                    Ok(r) => {
                        t.add(&r);
                        if t.passed % 100 == 0 {
                            eprintln!("cgm-sim: {}/{} seeds passed ({:.0?})", t.passed, jobs.len(), started.elapsed());
                        }
                    }
                    Err(why) => {
                        // A flawed run expects failures; must_catch reports them.
                        if job.args.flaw.is_none() {
                            println!("FAILED seed {}: {why}\n  replay: {}", job.seed, job.args.replay(job.seed));
                        }
                        t.failed.push((job.seed, why));
                    }
                }
            });
        }
    });
    let t = tally.into_inner().expect("no poisoning");
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "cgm-sim: {} protocols ({} parameter changes proposed) completed in {secs:.1}s ({:.0} simulated protocols/s)",
        t.protocols,
        t.changes,
        t.protocols as f64 / secs
    );
    t
}

/// Reads a seed bank: each line a seed and its options.
fn read_bank(path: &std::path::Path, defaults: &Args) -> Result<Vec<Job>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut jobs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let seed = words.next().expect("not empty");
        let argv = ["cgm-sim", "--seeds", seed].into_iter().chain(words);
        let mut args = Args::try_parse_from(argv).map_err(|e| format!("{}:{}: {e}", path.display(), n + 1))?;
        args.twice |= defaults.twice;
        jobs.push(Job { seed: args.seeds.start, args });
    }
    if jobs.is_empty() {
        return Err(format!("{}: no seeds", path.display()));
    }
    Ok(jobs)
}

fn main() {
    let args = Args::parse();
    if args.nodes == Some(0) {
        eprintln!("cgm-sim: --nodes must be at least 1");
        std::process::exit(2);
    }
    if args.view_change_cost {
        let nodes = args.nodes.unwrap_or(5);
        match cgm_sim::campaign::view_change_cost(nodes) {
            Ok((leave, join)) => {
                for (what, c) in [("a member leaves", leave), ("a member rejoins", join)] {
                    println!(
                        "view change at {nodes} members, {what}: {} datagrams, {} bytes ({:.1} datagrams and {:.0} bytes per member), {:.1?} simulated",
                        c.datagrams,
                        c.bytes,
                        c.datagrams as f64 / nodes as f64,
                        c.bytes as f64 / nodes as f64,
                        c.took
                    );
                }
                return;
            }
            Err(v) => {
                println!("view change cost run failed: {v}");
                std::process::exit(1);
            }
        }
    }
    if let Some(n) = args.throughput {
        let nodes = args.nodes.unwrap_or(5);
        let peers = nodes.saturating_sub(1).max(1);
        let mut per_member = 0;
        // Everything on the heap once the group formed, the simulator's own
        // network, timers and checker included: an upper bound on a core's share.
        let mut formed = |_: &cgm_sim::Sim| per_member = cgm_sim::heap::live_bytes() / nodes;
        // One core's own heap after the run (its outcome history full when
        // the run was long enough): what dropping it frees.
        let mut core_bytes = 0;
        let mut done = |sim: &mut cgm_sim::Sim| {
            core_bytes = cgm_sim::heap::core_bytes(sim, nodes as cgm_core::NodeId);
        };
        match cgm_sim::campaign::throughput(nodes, n, &mut formed, &mut done) {
            Ok(t) => {
                println!(
                    "{n} protocols on {nodes} members in {:.2}s: {:.0} simulated protocols/s of real time, {:.1} µs of real time per protocol per member; heap {per_member} bytes per member once formed ({} bytes per peer); one core after the run: {core_bytes} bytes ({} per peer)",
                    t.as_secs_f64(),
                    n as f64 / t.as_secs_f64(),
                    t.as_secs_f64() * 1e6 / n as f64 / nodes as f64,
                    per_member / peers,
                    core_bytes / peers
                );
                return;
            }
            Err(v) => {
                println!("throughput run failed: {v}");
                std::process::exit(1);
            }
        }
    }
    let jobs = match &args.bank {
        Some(path) => read_bank(path, &args).unwrap_or_else(|e| {
            eprintln!("cgm-sim: {e}");
            std::process::exit(2);
        }),
        None => args.seeds.clone().map(|seed| Job { seed, args: args.clone() }).collect(),
    };
    if let Some(name) = &args.flaw {
        return must_catch(name, &jobs, args.jobs);
    }
    let mut t = run_jobs(&jobs, args.jobs);
    if let Some(path) = &args.traces {
        t.traces.sort_unstable();
        let text: String = t.traces.iter().map(|(seed, trace)| format!("{seed} {trace:016x}\n")).collect();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("cgm-sim: cannot write the traces to {}: {e}", path.display());
            std::process::exit(2);
        }
    }
    println!("crash points hit:");
    for (p, n) in CrashPoint::ALL.iter().zip(t.crash_points) {
        println!("  {:<32} {n}", p.name());
    }
    let missed: Vec<&str> = CrashPoint::ALL.iter().zip(t.crash_points).filter(|(_, n)| *n == 0).map(|(p, _)| p.name()).collect();
    if let Some((settle, bound, seed)) = t.slowest_settle {
        println!("slowest settle after healing: {settle:.2?} (bound {bound:.2?}), seed {seed}");
    }
    if let Some((ratio, settle, bound, seed)) = t.tightest_settle {
        println!("nearest its bound: {settle:.2?} of {bound:.2?} ({:.0}%), seed {seed}", ratio * 100.0);
    }
    if let Some((most, seed)) = t.views_most {
        println!(
            "views installed per member: {:.1} on average per seed, at most {most} by one member (seed {seed})",
            t.views_centi as f64 / 100.0 / t.passed as f64
        );
    }
    println!("cluster state lost (every member of the newest view with quorum crashed): {} times", t.state_losses);
    if args.twice {
        println!("determinism: every seed ran twice with equal traces");
    }
    println!("{} passed, {} failed", t.passed, t.failed.len());
    if !t.failed.is_empty() {
        std::process::exit(1);
    }
    if args.require_crash_points && !missed.is_empty() {
        println!("crash points never hit: {}", missed.join(", "));
        std::process::exit(1);
    }
}

/// What each flaw breaks: a word of the violation the checker reports.
#[cfg(feature = "flaws")]
fn broken_check(f: cgm_core::flaws::Flaw) -> &'static str {
    use cgm_core::flaws::Flaw;
    match f {
        Flaw::ReportOnDecision | Flaw::SendBeforePersist => "finality",
        Flaw::StaleProposals | Flaw::FatesWindow => "exactly once",
        Flaw::IgnoreFailures => "validity",
        Flaw::KeepRolledBackValues => "values do not follow the outcome",
        Flaw::MinorityDecides | Flaw::NewestSetOnly => "total order",
        Flaw::SwitchKeyEarly => "refused for their key",
        // Caught by a scenario (tests/nodes.rs), not by random schedules.
        Flaw::TrustOneRefusal => "node 5 left",
        // Caught on a real network (tests/net/run.py --retune).
        Flaw::NoHeartbeatSwitchOver => "suspicion",
        // Caught by a rolling upgrade of real processes (tests/upgrade/run.py):
        // every node of one build speaks the same versions.
        Flaw::NewestWireAlways => "version",
    }
}

/// `--flaw NAME`: runs the seeds with every node flawed and exits 0 only if
/// some seed fails the check the flaw breaks (printing the first such
/// failure), 1 if none does.
#[cfg(feature = "flaws")]
fn must_catch(name: &str, jobs: &[Job], threads: usize) {
    use cgm_core::flaws::Flaw;
    if name == "list" {
        for f in Flaw::ALL {
            println!("{f}: caught by the {} check", broken_check(f));
        }
        return;
    }
    let flaw = Flaw::parse(name).unwrap_or_else(|e| {
        eprintln!("cgm-sim: {e}");
        std::process::exit(2);
    });
    let expected = broken_check(flaw);
    let t = run_jobs(jobs, threads);
    match t.failed.iter().find(|(_, why)| why.contains(expected)) {
        Some((seed, why)) => {
            let first = why.lines().next().unwrap_or("");
            println!("flaw {flaw} caught by the {expected} check: {} of {} seeds failed; seed {seed}: {first}", t.failed.len(), jobs.len());
        }
        None => {
            println!("flaw {flaw} NOT caught: no seed failed the {expected} check ({} of {} failed otherwise)", t.failed.len(), jobs.len());
            for (seed, why) in t.failed.iter().take(3) {
                println!("  seed {seed}: {}", why.lines().next().unwrap_or(""));
            }
            std::process::exit(1);
        }
    }
}

#[cfg(not(feature = "flaws"))]
fn must_catch(_name: &str, _jobs: &[Job], _threads: usize) {
    eprintln!("cgm-sim: --flaw needs a build with the flaws feature: cargo run --release -p cgm-sim --features flaws -- --flaw NAME");
    std::process::exit(2);
}
