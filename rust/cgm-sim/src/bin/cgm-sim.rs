//! `cgm-sim`: runs a seeded fault campaign and reports every failing seed with
//! the command that replays it.

use cgm_sim::campaign::{run_seed, Campaign, FaultKinds};
use clap::Parser;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Deterministic fault campaigns against libcgm's core.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Seeds to run, as A..B (B excluded) or a single seed.
    #[arg(long, default_value = "0..100", value_parser = parse_range)]
    seeds: Range<u64>,
    /// Nodes per run.
    #[arg(long, default_value_t = 5)]
    nodes: usize,
    /// Faults to draw from: all, none, or a list of loss,dup,reorder,crash,partition.
    #[arg(long, default_value = "all", value_parser = FaultKinds::parse)]
    faults: FaultKinds,
    /// Simulated seconds of the faulty phase per seed.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Leave parameter changes out of the workload.
    #[arg(long)]
    no_changes: bool,
    /// Instead of a campaign, measure simulator speed: run this many protocols
    /// back to back on a fault-free group of --nodes members.
    #[arg(long)]
    throughput: Option<usize>,
    /// Worker threads.
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(1, |n| n.get()))]
    jobs: usize,
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

fn main() {
    let args = Args::parse();
    if args.nodes < 1 {
        eprintln!("cgm-sim: --nodes must be at least 1");
        std::process::exit(2);
    }
    if let Some(n) = args.throughput {
        match cgm_sim::campaign::throughput(args.nodes, n) {
            Ok(t) => {
                println!(
                    "{n} protocols on {} members in {:.2}s: {:.0} simulated protocols/s of real time",
                    args.nodes,
                    t.as_secs_f64(),
                    n as f64 / t.as_secs_f64()
                );
                return;
            }
            Err(v) => {
                println!("throughput run failed: {v}");
                std::process::exit(1);
            }
        }
    }
    let campaign = Campaign {
        nodes: args.nodes,
        faults: args.faults,
        duration: Duration::from_secs(args.duration),
        changes: !args.no_changes,
    };
    let next = AtomicU64::new(args.seeds.start);
    let passed = AtomicU64::new(0);
    let protocols = AtomicU64::new(0);
    let failed = Mutex::new(Vec::new());
    let started = Instant::now();
    let total = args.seeds.end - args.seeds.start;
    std::thread::scope(|s| {
        for _ in 0..args.jobs.max(1) {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= args.seeds.end {
                    break;
                }
                match std::panic::catch_unwind(|| run_seed(&campaign, seed)) {
                    Ok(Ok(r)) => {
                        protocols.fetch_add(r.protocols, Ordering::Relaxed);
                        let done = passed.fetch_add(1, Ordering::Relaxed) + 1;
                        if done % 100 == 0 {
                            eprintln!("cgm-sim: {done}/{total} seeds passed ({:.0?})", started.elapsed());
                        }
                    }
                    Ok(Err(v)) => {
                        println!(
                            "FAILED seed {seed}: {v}\n  replay: cargo run --release -p cgm-sim -- --seeds {seed} --nodes {} --faults {} --duration {}{}",
                            args.nodes,
                            faults_arg(args.faults),
                            args.duration,
                            if args.no_changes { " --no-changes" } else { "" }
                        );
                        failed.lock().expect("no poisoning").push(seed);
                    }
                    Err(_) => {
                        println!(
                            "FAILED seed {seed}: panicked\n  replay: cargo run --release -p cgm-sim -- --seeds {seed} --nodes {} --faults {} --duration {}",
                            args.nodes,
                            faults_arg(args.faults),
                            args.duration
                        );
                        failed.lock().expect("no poisoning").push(seed);
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().expect("no poisoning");
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "cgm-sim: {} protocols completed in {secs:.1}s ({:.0} simulated protocols/s)",
        protocols.load(Ordering::Relaxed),
        protocols.load(Ordering::Relaxed) as f64 / secs
    );
    println!("{} passed, {} failed", passed.load(Ordering::Relaxed), failed.len());
    if !failed.is_empty() {
        std::process::exit(1);
    }
}

fn faults_arg(f: FaultKinds) -> String {
    let mut v = Vec::new();
    for (on, name) in [(f.loss, "loss"), (f.duplicate, "dup"), (f.reorder, "reorder"), (f.crash, "crash"), (f.partition, "partition")] {
        if on {
            v.push(name);
        }
    }
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}
