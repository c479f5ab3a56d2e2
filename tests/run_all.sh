#!/usr/bin/env bash
# Runs every test libcgm has: Rust unit, simulator, model-checking and
# end-to-end tests, the seeded fault campaign and swarm with the seed bank and
# the determinism check, a short fuzz run per target, a nemesis run of real
# processes in network namespaces (needs root), the C and Python suites.
# Exits non-zero on the first failure.
#
# Tools: tests/setup.sh first checks every tool the steps use, reports all the
# missing ones at once and installs them (CGM_SETUP_INSTALL=0: check only);
# what it cannot install fails this script there, before the build, with the
# command that installs it. Each step prints its number and name; a failure
# ends with the step that failed.
set -euo pipefail
cd "$(dirname "$0")/.."

total=$(grep -c '^step ' "$0")
n=0
name=""
step() {
  n=$((n + 1))
  name=$*
  printf '\n==> [%d/%d] %s\n' "$n" "$total" "$name"
}
# Any non-zero exit (a failed command under set -e) names its step.
trap 'rc=$?; if [ "$rc" != 0 ]; then printf "\nrun_all: FAILED at step %d/%d (exit status %d): %s\n" "$n" "$total" "$rc" "$name" >&2; else printf "\nrun_all: all %d steps passed\n" "$total"; fi' EXIT

step "tools: every one the steps use is there, or installed (tests/setup.sh)"
bash tests/setup.sh

step "cargo build --release (one profile for binaries, benches and the C library)"
cargo build --release --workspace

step "cargo test (unit, simulator scenarios, the change protocol model with its failing variants, end-to-end and hostile-input tests)"
cargo test --workspace --release

step "fault campaign: 1000 seeds, 5 members, every fault kind"
cargo run --release -q -p cgm-sim -- --seeds 0..1000 --nodes 5

step "fault swarm: 1000 fresh seeds (3-7 members, 60 s each), every crash point hit"
# Fresh seeds each run (the day's offset), so CI keeps exploring; a failure
# prints the command that replays its seed, which then joins the seed bank.
offset=$(( $(date -u +%s) / 86400 * 1000 ))
cargo run --release -q -p cgm-sim -- --swarm --seeds "$offset..$((offset + 1000))" --require-crash-points

step "fault campaign at scale: 12 fresh seeds of the day, 32 members (slowest settle against its bound, views per member)"
# Liveness as the group grows (issue 16): the day's seeds, like the swarm's.
cargo run --release -q -p cgm-sim -- --seeds "$offset..$((offset + 12))" --nodes 32

step "seed bank and determinism: banked seeds and 50 swarm seeds, each run twice with equal traces"
cargo run --release -q -p cgm-sim -- --bank tests/sim/seed-bank.txt --twice
cargo run --release -q -p cgm-sim -- --swarm --seeds 0..50 --twice

step "histories: 200 swarm seeds of the day written as JSON Lines and checked by the independent checker (tests/sim/check_history.py, with its self-test)"
python3 tests/sim/test_check_history.py
histories=target/sim-histories
rm -rf "$histories" && mkdir -p "$histories"
cargo run --release -q -p cgm-sim -- --swarm --seeds "$offset..$((offset + 200))" --history "$histories"
python3 tests/sim/check_history.py "$histories"

step "every check can fail: each deliberately broken core (cgm-core's flaws.rs) is caught by the check it breaks"
cargo test --release -p cgm-sim --features flaws --test exactly_once --test durable --test keys --test nodes --test params
for flaw in report-on-decision stale-proposals ignore-failures keep-rolled-back-values minority-decides; do
  cargo run --release -q -p cgm-sim --features flaws -- --flaw "$flaw" --seeds 0..300
done

step "fuzzing: every committed crash regression and seed replayed, then 20 s per target (frame decoder, reassembly, core events, config parser, envelope)"
bash fuzz/run.sh 20

step "real network: 5 cgm node processes in network namespaces, 120 s of a seeded nemesis (the day's seed: loss, delay, duplication, partitions, one-way cuts, pauses, kill -9) under a client workload with application protocols, histories checked; the heartbeat retuned 1 s <-> 50 ms 20 times under 10 % loss with no false failure detection, and a build with the switch-over off caught (tests/net/run.sh)"
bash tests/net/run.sh --duration 120
bash tests/net/run.sh --retune 20 --loss 10
# One test build for the checks that need another runtime: it takes a broken
# rule from CGM_FLAW when set, and speaks the next wire version (7) too.
cargo build --release -q -p cgm-runtime --bin cgm --features flaws,wire-next --target-dir target/flaws
bash tests/net/run.sh --retune 6 --loss 10 --cgm target/flaws/release/cgm --flaw no-heartbeat-switch-over

step "rolling upgrade: five cgm node processes replaced one by one by a build of the next wire version under load, one group throughout; a build that does not negotiate caught (tests/upgrade/run.py)"
python3 tests/upgrade/run.py --old target/release/cgm --next target/flaws/release/cgm
python3 tests/upgrade/run.py --old target/release/cgm --next target/flaws/release/cgm --flaw newest-wire-always

step "C API: header and symbols, examples (make, CMake), tests under ASan/UBSan and valgrind"
bash tests/c/run.sh

step "Python: wheel (maturin), pytest, the README example, mypy --strict, stubtest"
bash tests/python/run.sh
