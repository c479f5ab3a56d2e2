#!/usr/bin/env bash
# Fuzzes every libcgm target: replays the committed crash regressions and seeds,
# then fuzzes each target for SECONDS_PER_TARGET. Exits non-zero on any crash
# (panic, failed invariant, timeout or out-of-memory).
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET]     (default 30; works from any cwd)
#
# fuzz/regressions/<target>/  inputs that once crashed (kept forever)
# fuzz/seeds/<target>/        small seed corpus, edge-complete; to refresh it:
#   B=target/<triple>/release/<target>; mkdir new
#   $B -merge=1 -set_cover_merge=1 -use_counters=0 new seeds/<target> target/fuzz-corpus/<target>
#   and replace seeds/<target> with new/
# Scratch corpora, logs and crash inputs stay under fuzz/target and
# fuzz/artifacts (both git-ignored); the scratch corpus grows across runs.
set -euo pipefail

secs=${1:-30}
cd "$(dirname "${BASH_SOURCE[0]}")"
fuzz_dir=$(pwd)
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, ...); stable rustc
# accepts them with RUSTC_BOOTSTRAP, so no nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1

# cargo-fuzz (pinned there) and the C++ compiler libFuzzer needs.
bash ../tests/setup.sh cargo g++ cargo-fuzz

start=$(date +%s)
cargo fuzz build --release
echo "build: $(( $(date +%s) - start ))s"

# cargo fuzz builds for the host triple; running the binaries directly avoids
# a cargo round trip per step and gives us libFuzzer's exit code and log.
bin_dir="target/$(rustc -vV | sed -n 's/^host: //p')/release"
failed=0

# Runs libFuzzer on one target with a log; prints the crash details on failure.
# Usage: fuzz TARGET LOG LIBFUZZER-ARGS...
fuzz() {
    local t=$1 log=$2
    shift 2
    mkdir -p "artifacts/$t"
    if "$bin_dir/$t" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" "$@" >"$log" 2>&1; then
        return 0
    fi
    local input
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "  CRASH in $t; log: $fuzz_dir/$log"
    grep -m1 -A3 -E "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer" "$log" | sed 's/^/    /' || true
    echo "  input saved to: $fuzz_dir/${input:-?}"
    echo "  replay: cd $fuzz_dir && RUSTC_BOOTSTRAP=1 cargo fuzz run $t ${input:-<input>}"
    echo "  then minimize it (cargo fuzz tmin), fix, and move it to fuzz/regressions/$t/"
    failed=1
    return 1
}

# The last value of a libFuzzer final statistic in a log.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }

mkdir -p target/fuzz-logs
for t in $(cargo fuzz list); do
    logs="target/fuzz-logs/$t"
    dirs=()
    for d in "regressions/$t" "seeds/$t"; do
        if [ -d "$d" ]; then dirs+=("$d"); fi
    done
    corpus="target/fuzz-corpus/$t"
    mkdir -p "$corpus"

    # 1. Every committed input once (-runs=0: load and execute, no mutation).
    #    A known crash that is back is reported without fuzzing further.
    replayed=0
    if [ ${#dirs[@]} -gt 0 ]; then
        if ! fuzz "$t" "$logs.replay.log" -runs=0 "${dirs[@]}"; then
            printf '%-14s replay of regressions/seeds | CRASH\n' "$t"
            continue
        fi
        replayed=$(sed -n 's/.*seed corpus: files: \([0-9]*\).*/\1/p' "$logs.replay.log" | tail -1)
    fi

    # 2. Fuzzing: new inputs go to the first directory (scratch), the committed
    #    ones seed it without being modified.
    result=ok
    fuzz "$t" "$logs.fuzz.log" -max_total_time="$secs" "$corpus" "${dirs[@]}" || result=CRASH
    execs=$(stat number_of_executed_units "$logs.fuzz.log")
    rate=$(stat average_exec_per_sec "$logs.fuzz.log")
    size=$(grep -o 'corp: [0-9]*' "$logs.fuzz.log" | tail -1 | cut -d' ' -f2)
    printf '%-14s replayed %5s inputs ok | %s s: %10s execs (%6s/s), corpus %5s | %s\n' \
        "$t" "${replayed:-0}" "$secs" "${execs:-?}" "${rate:-?}" "${size:-?}" "$result"
done

echo "total: $(( $(date +%s) - start ))s"
exit "$failed"
