#!/usr/bin/env bash
# Writes cgm.pc for pkg-config from cgm.pc.in.
#
#   gen-pc.sh OUT_DIR                  the build tree: libdir is target/release
#                                      (with an rpath to it, and the libcgm.so.0
#                                      link the soname needs; its libcgm.a gets
#                                      only the C API global: build-static.sh),
#                                      includedir is include/
#   gen-pc.sh OUT_DIR --prefix DIR     an installed layout: DIR/lib, DIR/include
#
# Then: PKG_CONFIG_PATH=OUT_DIR pkg-config --cflags --libs cgm
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: gen-pc.sh OUT_DIR [--prefix DIR]}
shift
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
if [ "${1:-}" = "--prefix" ]; then
  prefix=${2:?--prefix needs a directory}
  libdir='${prefix}/lib'
  rpath=''
else
  prefix=$root
  libdir=${CARGO_TARGET_DIR:-$root/target}/release
  case $libdir in /*) ;; *) libdir=$root/$libdir ;; esac
  rpath='-Wl,-rpath,${libdir} '
  [ -f "$libdir/libcgm.so" ] && ln -sf libcgm.so "$libdir/libcgm.so.0"
  # The archive pkg-config leads to is the cleaned one (cargo rewrites it raw on every build).
  [ -f "$libdir/libcgm.a" ] && bash "$here/build-static.sh" "$libdir/libcgm.a"
fi
mkdir -p "$out"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e 's|@INCLUDEDIR@|${prefix}/include|' \
    -e "s|@VERSION@|$version|" -e "s|@RPATH@|$rpath|" "$here/cgm.pc.in" > "$out/cgm.pc"
