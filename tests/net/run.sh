#!/usr/bin/env bash
# libcgm on a real network of namespaces under a nemesis (tests/net/run.py):
#   tests/net/run.sh [--seed S] [--duration SECONDS] [--soak] [--keep]
# Builds the cgm tool (the same release build as tests/run_all.sh: nothing is
# rebuilt after it),
# installs ip and nft if missing (tests/setup.sh), and needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash tests/setup.sh ip nft
cargo build --release --workspace -q
exec python3 tests/net/run.py "$@"
