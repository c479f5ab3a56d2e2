#!/usr/bin/env bash
# Rewrites libcgm.a so that its only global symbols are the C API (cgm_*).
#
# A Rust staticlib carries its whole Rust world as global symbols (about 4,000:
# mangled names, compiler builtins, rust_eh_personality), so a program that
# links it next to another Rust static library fails with "multiple definition
# of `rust_eh_personality'". Cargo cannot post-process a staticlib (build
# scripts run before the link), so this runs after the cargo build:
#   1. ld -r: every member into one relocatable object, so the library's own
#      references resolve inside it;
#   2. objcopy: cgm_* stay global, every other definition becomes local; the
#      section groups go (a COMDAT group is kept once per link by name, so
#      another Rust library's DW.ref.rust_eh_personality group would replace
#      ours and leave its own references undefined), and so do the LLVM
#      bitcode and address-significance sections (ld -r merges them into
#      invalid ones);
#   3. ar rcs: a one-object archive, written to a new file that replaces
#      libcgm.a (cargo's hard-linked copy under deps/ is left alone).
# Running it again on the result gives the same library.
#
# Usage: rust/cgm-ffi/build-static.sh [path/to/libcgm.a]
#        (after cargo build --release -p cgm-ffi; default target/release/libcgm.a)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=${1:-${CARGO_TARGET_DIR:-$root/target}/release/libcgm.a}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ld -r -o "$tmp/all.o" --whole-archive "$lib"
objcopy --remove-section=.llvmbc --remove-section=.llvmcmd --remove-section=.llvm_addrsig \
  --remove-section=.group "$tmp/all.o" "$tmp/clean.o"
nm --extern-only --defined-only "$tmp/clean.o" | awk '$3 ~ /^cgm_/ { print $3 }' > "$tmp/api"
objcopy --keep-global-symbols="$tmp/api" "$tmp/clean.o" "$tmp/cgm.o"
rm -f "$tmp/libcgm.a"
ar rcs "$tmp/libcgm.a" "$tmp/cgm.o"
mv -f "$tmp/libcgm.a" "$lib"
echo "build-static: $lib: $(wc -l < "$tmp/api") global symbols, the C API (cgm_*) only"
