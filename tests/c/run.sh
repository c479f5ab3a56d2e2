#!/usr/bin/env bash
# libcgm's C suite: builds libcgm (release), checks the header, version macros
# and exported symbols, builds the examples with make and with CMake through
# pkg-config, compiles the header as C++, then builds every test
# (tests/c/api: one per public function; tests/c/fun: scenarios) and the
# examples with -Wall -Wextra -Werror -pedantic -std=c11 and runs them under
# AddressSanitizer + UndefinedBehaviorSanitizer, runs status_tool against
# three `cgm node` processes, and runs the tests once more under valgrind.
#
# Usage: tests/c/run.sh            everything
#        CGM_C_VALGRIND=0 tests/c/run.sh   skip the valgrind pass
# Exits non-zero on the first failing stage; ends with "c: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
lib=$target/release
build=$target/c-tests
step() { printf '\n==> %s\n' "$*"; }

step "tools (tests/setup.sh)"
bash tests/setup.sh cargo gcc g++ make binutils pkg-config cmake valgrind cbindgen

step "cargo build --release --workspace (libcgm.so, libcgm.a, the cgm tool; the same build as tests/run_all.sh, so nothing is rebuilt)"
cargo build --release --workspace

step "libcgm.a: the C API its only global symbols (rust/cgm-ffi/build-static.sh, after every cargo build)"
bash rust/cgm-ffi/build-static.sh "$lib/libcgm.a"

step "header, version macros, exported symbols (libcgm.so and libcgm.a), tests per function"
bash tests/c/check_symbols.sh "$lib/libcgm.so" "$lib/libcgm.a"

step "the README's C example is c-examples/readme_example.c (after its first line)"
rm -rf "$build"
mkdir -p "$build/asan" "$build/plain" "$build/cmake" "$build/static"
awk '/^<!-- c-examples\/readme_example.c -->$/ { f = 1; next }
     f && /^```c$/ { g = 1; next }
     g && /^```$/ { exit }
     g' README.md > "$build/readme_snippet.c"
tail -n +2 c-examples/readme_example.c | diff -u - "$build/readme_snippet.c"

step "the header compiles as C11 and as C++"
gcc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c include/cgm.h
g++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ include/cgm.h

step "pkg-config file for the build tree; the examples with make against it"
bash rust/cgm-ffi/gen-pc.sh "$build"
PKG_CONFIG_PATH=$build${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} make -s -C c-examples OUT="$build/make"

step "packaging/install.sh into $build/prefix; the examples with CMake (pkg_check_modules) against the installed tree"
installed=$build/prefix
bash packaging/install.sh --prefix "$installed" --no-build > "$build/install.log"
[ "$(readlink "$installed/lib/libcgm.so")" = libcgm.so.0 ] && [ -f "$installed/lib/libcgm.so.0" ] \
  || { echo "the installed tree lacks the soname links" >&2; exit 1; }
PKG_CONFIG_PATH=$installed/lib/pkgconfig cmake -S c-examples -B "$build/cmake" -DCMAKE_BUILD_TYPE=Debug > "$build/cmake.log"
cmake --build "$build/cmake" -j 2 >> "$build/cmake.log"
# Built against the installed library: it needs libcgm.so.0 by its soname.
objdump -p "$build/cmake/three_nodes" | grep -q 'NEEDED *libcgm.so.0$' \
  || { echo "three_nodes (CMake) does not need libcgm.so.0" >&2; exit 1; }

step "a packager's staged install (--prefix /usr --destdir): the layout and paths"
stage=$build/stage
bash packaging/install.sh --prefix /usr --destdir "$stage" --no-build > "$build/stage.log"
for f in include/cgm.h lib/libcgm.so.0 lib/libcgm.a lib/pkgconfig/cgm.pc bin/cgm share/man/man1/cgm.1 \
         share/man/man1/cgm-node.1 share/bash-completion/completions/cgm lib/systemd/system/cgm-node@.service; do
  [ -e "$stage/usr/$f" ] || { echo "the staged install lacks /usr/$f" >&2; exit 1; }
done
grep -qx 'prefix=/usr' "$stage/usr/lib/pkgconfig/cgm.pc" || { echo "the staged cgm.pc does not say prefix=/usr" >&2; exit 1; }
grep -q '^ExecStart=/usr/bin/cgm node' "$stage/usr/lib/systemd/system/cgm-node@.service" || { echo "the staged unit does not run /usr/bin/cgm" >&2; exit 1; }
if command -v systemd-analyze > /dev/null; then
  # The unit as systemd reads it (an instance of the template, the cgm it names present).
  unit=$build/unit && mkdir -p "$unit" && sed "s|/usr/bin/cgm|$installed/bin/cgm|" packaging/systemd/cgm-node@.service > "$unit/cgm-node@check.service"
  out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$unit/cgm-node@check.service" 2>&1 | grep -v 'Failed to prepare filename' || true)
  [ -z "$out" ] || { echo "systemd-analyze verify: $out" >&2; exit 1; }
fi

CFLAGS_ALL=(-std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude -Itests/c)
LIBS=(-L"$lib" -Wl,-rpath,"$lib" -lcgm -pthread)
compile() { # compile OUTDIR FLAVOUR SOURCE
  local out=$1 flavour=$2 src=$3 name
  name=$(basename "$(dirname "$src")")_$(basename "$src" .c)
  if [ "$flavour" = asan ]; then
    gcc "${CFLAGS_ALL[@]}" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined "$src" -o "$out/$name" "${LIBS[@]}"
  else
    gcc "${CFLAGS_ALL[@]}" -O0 "$src" -o "$out/$name" "${LIBS[@]}"
  fi
}
export -f compile
export CFLAGS_ALL_STR="${CFLAGS_ALL[*]}" lib

step "the installed libcgm.a linked statically (the README's line) beside a C object and beside a whole Rust static library that define rust_eh_personality too"
read -ra static_libs <<< "$(PKG_CONFIG_PATH=$installed/lib/pkgconfig pkg-config --static --libs cgm | sed 's/-lcgm /-l:libcgm.a /')"
gcc -c tests/c/static/eh_personality.c -o "$build/static/eh_personality.o"
rustc --edition 2021 -O --crate-type staticlib tests/c/static/other_rust.rs -o "$build/static/libother_rust.a"
gcc "${CFLAGS_ALL[@]}" c-examples/readme_example.c "$build/static/eh_personality.o" "${static_libs[@]}" -o "$build/static/with_c_object"
gcc "${CFLAGS_ALL[@]}" c-examples/readme_example.c -Wl,--whole-archive "$build/static/libother_rust.a" -Wl,--no-whole-archive \
  "${static_libs[@]}" -o "$build/static/with_rust_lib"
for b in with_c_object with_rust_lib; do
  if readelf -d "$build/static/$b" | grep -q 'NEEDED.*libcgm'; then
    echo "$b links libcgm.so, not libcgm.a" >&2
    exit 1
  fi
done

sources=(tests/c/api/*.c tests/c/fun/*.c c-examples/*.c)
step "compile ${#sources[@]} tests and examples with ASan+UBSan"
printf '%s\n' "${sources[@]}" | xargs -P 2 -I{} bash -c "$(declare -p CFLAGS_ALL LIBS); compile '$build/asan' asan {}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
passed=0
failed=0
run() { # run NAME COMMAND...: one test, counted
  local name=$1 start
  shift
  start=$(date +%s%N)
  local rc=0
  timeout 120 "$@" > "$build/$name.log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    printf '  ok   %-44s %5d ms\n' "$name" $((($(date +%s%N) - start) / 1000000))
  else
    failed=$((failed + 1))
    printf '  FAIL %s (exit %s; log %s)\n' "$name" "$rc" "$build/$name.log"
    # The test's own verdict comes first (valgrind's leak records of threads
    # cut short by a failing check follow it), then the log's two ends.
    grep -n -m 10 -E 'FAIL|panicked|ERROR SUMMARY|Invalid|uninitialised|definitely lost in' "$build/$name.log" | sed 's/^/       > /' || true
    awk -v n="$(wc -l < "$build/$name.log")" \
      'NR <= 40 || NR > n - 30 { print "       " $0 } NR == 41 && n > 70 { print "       ..." }' "$build/$name.log"
  fi
}
# Below Linux's ephemeral range (32768 up), so no port-0 bind takes them meanwhile.
port_base() { echo $((12000 + RANDOM % 20000)); }

step "run under ASan+UBSan, recording every call's result (CGM_RESULT_LOG)"
export CGM_RESULT_LOG=$build/results.log
for t in "$build"/asan/api_* "$build"/asan/fun_*; do
  run "$(basename "$t")" "$t"
done
run example_three_nodes "$build/asan/c-examples_three_nodes" "$(port_base)"
run example_embed_sansio "$build/asan/c-examples_embed_sansio"
run example_readme "$build/asan/c-examples_readme_example" "127.0.0.1:$(port_base)"
run example_make_readme "$build/make/readme_example" "127.0.0.1:$(port_base)"
run example_cmake_three_nodes env LD_LIBRARY_PATH="$installed/lib" "$build/cmake/three_nodes" "$(port_base)"
run static_with_c_object "$build/static/with_c_object" "127.0.0.1:$(port_base)"
run static_with_rust_lib "$build/static/with_rust_lib" "127.0.0.1:$(port_base)"

step "status_tool asks members of three \`cgm node\` processes"
cluster=$build/cluster
mkdir -p "$cluster"
"$lib/cgm" keygen -o "$cluster/cluster.key" > /dev/null
base=$(port_base)
for id in 1 2 3; do
  {
    printf 'cluster = "c-tests"\nnode_id = %d\nkey_file = "cluster.key"\n' "$id"
    for peer in 1 2 3; do printf '[[nodes]]\nid = %d\naddr = "127.0.0.1:%d"\n' "$peer" $((base + peer)); done
  } > "$cluster/node$id.toml"
done
pids=()
for id in 1 2 3; do
  "$lib/cgm" node -c "$cluster/node$id.toml" > "$cluster/node$id.log" 2>&1 &
  pids+=($!)
done
status_tool_e2e() {
  local i out
  for i in $(seq 1 100); do
    if out=$("$build/asan/c-examples_status_tool" "$cluster/node1.toml" 2 2>&1) && grep -q 'members \[1 2 3\]' <<< "$out"; then
      echo "$out"
      grep -q '^member 2 ' <<< "$out" && grep -q 'quorum yes' <<< "$out" && grep -q 'heartbeat-interval' <<< "$out"
      return
    fi
    sleep 0.1
  done
  echo "$out"
  return 1
}
export -f status_tool_e2e
export build cluster
run example_status_tool bash -c status_tool_e2e
kill -TERM "${pids[@]}" 2> /dev/null || true
wait "${pids[@]}" 2> /dev/null || true
unset CGM_RESULT_LOG

step "every function returned only the results its header comment lists, and each listed one (tests/c/check_results.sh)"
if bash tests/c/check_results.sh "$build/results.log"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

if [ "${CGM_C_VALGRIND:-1}" != 0 ]; then
  # The scenario tests, the examples and every test that runs nodes, cores or
  # configurations; the pure accessors of statuses, outcomes and parameters
  # run under ASan only, unless CGM_C_VALGRIND=all.
  vsources=(tests/c/fun/*.c c-examples/embed_sansio.c)
  for f in tests/c/api/*.c; do
    case $(basename "$f") in
      cgm_status_*|cgm_change_outcome_*|cgm_param_*|cgm_phase_name.c|cgm_counter_name.c|cgm_result_str.c|cgm_version.c|cgm_core_event_*)
        [ "${CGM_C_VALGRIND:-1}" = all ] && vsources+=("$f") ;;
      *) vsources+=("$f") ;;
    esac
  done
  step "run ${#vsources[@]} tests under valgrind --leak-check=full (no sanitizers)"
  printf '%s\n' "${vsources[@]}" | xargs -P 2 -I{} bash -c "$(declare -p CFLAGS_ALL LIBS); compile '$build/plain' plain {}"
  vg=(valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 --track-fds=no)
  for t in "$build"/plain/*; do
    run "valgrind_$(basename "$t")" "${vg[@]}" "$t"
  done
fi

printf '\nc: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" = 0 ]
