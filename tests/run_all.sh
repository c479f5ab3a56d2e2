#!/usr/bin/env bash
# Runs every test libcgm has: Rust unit and simulator tests, the seeded fault
# campaign, and (as they land) the C and Python suites. Exits non-zero on the
# first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo build --release (one profile for binaries, benches and the C library)"
cargo build --release --workspace

step "cargo test (unit, simulator scenarios)"
cargo test --workspace --release

step "fault campaign: 1000 seeds, 5 members, every fault kind"
cargo run --release -q -p cgm-sim -- --seeds 0..1000 --nodes 5

step "C API: header and symbols, examples (make, CMake), tests under ASan/UBSan and valgrind"
bash tests/c/run.sh

step "Python: wheel (maturin), pytest, the README example, mypy --strict, stubtest"
bash tests/python/run.sh
