#!/usr/bin/env bash
# Checks that the C API is one thing everywhere:
#   1. include/cgm.h is what the pinned cbindgen generates from rust/cgm-ffi now;
#   2. its CGM_VERSION_MAJOR/MINOR/PATCH equal the workspace version in Cargo.toml;
#   3. the functions it declares == the symbols libcgm.so exports
#      (nm -D --defined-only) == the functions with a test (tests/c/api/<function>.c,
#      which must call it);
#   4. libcgm.so's soname is libcgm.so.0;
#   5. libcgm.a's global symbols (nm --extern-only --defined-only) are the
#      declared functions and nothing else (rust/cgm-ffi/build-static.sh), so it
#      links beside other Rust static libraries.
# Usage: tests/c/check_symbols.sh [path/to/libcgm.so [path/to/libcgm.a]]
#        (after cargo build --release -p cgm-ffi and rust/cgm-ffi/build-static.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
lib=${1:-${CARGO_TARGET_DIR:-target}/release/libcgm.so}
archive=${2:-$(dirname "$lib")/libcgm.a}
header=include/cgm.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "check_symbols: $*" >&2; fail=1; }

# 1. Header drift, with the pinned cbindgen.
want=$(cat rust/cgm-ffi/CBINDGEN_VERSION)
have=$(cbindgen --version 2>/dev/null | awk '{print $2}')
if [ "$have" != "$want" ]; then
  bad "cbindgen $want is required (found '${have:-none}'): cargo install cbindgen --version $want --locked"
else
  if ! (cd rust/cgm-ffi && cbindgen --config cbindgen.toml --output "$tmp/cgm.h" 2> "$tmp/cbindgen.err"); then
    bad "cbindgen failed:"
    grep -v '^WARN' "$tmp/cbindgen.err" >&2 || true
  elif ! cmp -s "$tmp/cgm.h" "$header"; then
    bad "$header differs from what cbindgen generates; regenerate it with:"
    echo "  (cd rust/cgm-ffi && cbindgen --config cbindgen.toml --output ../../include/cgm.h)" >&2
    diff -u "$header" "$tmp/cgm.h" | head -n 40 >&2 || true
  fi
fi

# 2. Version macros.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
macro() { sed -n "s/^#define CGM_VERSION_$1 \([0-9]*\)$/\1/p" "$header"; }
hv="$(macro MAJOR).$(macro MINOR).$(macro PATCH)"
[ "$hv" = "$version" ] || bad "header version macros say $hv, Cargo.toml says $version"

# 3. Declared == exported == tested.
grep -E '^[A-Za-z_][A-Za-z0-9_ ]*[ *]cgm_[a-z0-9_]+\(' "$header" \
  | sed -E 's/.*[ *](cgm_[a-z0-9_]+)\(.*/\1/' | sort -u > "$tmp/declared"
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u > "$tmp/exported"
for f in tests/c/api/*.c; do
  name=$(basename "$f" .c)
  grep -q "$name(" "$f" || bad "$f does not call $name"
  echo "$name"
done | sort -u > "$tmp/tested"
if ! diff -u "$tmp/declared" "$tmp/exported" > "$tmp/d1"; then
  bad "declared in cgm.h (-) vs exported by $lib (+):"; cat "$tmp/d1" >&2
fi
if ! diff -u "$tmp/declared" "$tmp/tested" > "$tmp/d2"; then
  bad "declared in cgm.h (-) vs tested in tests/c/api (+):"; cat "$tmp/d2" >&2
fi

# 4. Soname.
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libcgm.so.0" ] || bad "soname is '$soname', expected libcgm.so.0"

# 5. The static library's globals.
# (nm's "no symbols" notes on a raw archive's empty members are noise.)
[ -f "$archive" ] || bad "$archive not found"
nm --extern-only --defined-only "$archive" 2> /dev/null | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/archived"
if ! diff -u "$tmp/declared" "$tmp/archived" > "$tmp/d3"; then
  bad "declared in cgm.h (-) vs global in $archive (+); run rust/cgm-ffi/build-static.sh after cargo build ($(grep -c '^+[^+]' "$tmp/d3") extra):"
  head -n 20 "$tmp/d3" >&2
fi

n=$(wc -l < "$tmp/declared")
if [ "$fail" = 0 ]; then
  echo "check_symbols: $n functions declared, exported, tested and the only globals of libcgm.a; header current; version $version; soname $soname"
fi
exit "$fail"
