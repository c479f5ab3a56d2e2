#!/usr/bin/env bash
# Installs libcgm and the cgm tool under a prefix, from the release build
# (the same `cargo build --release --workspace` as tests/run_all.sh, so
# nothing is rebuilt):
#
#   PREFIX/include/cgm.h
#   PREFIX/lib/libcgm.so.X.Y.Z, libcgm.so.X (the soname), libcgm.so
#   PREFIX/lib/libcgm.a              (its only global symbols the C API)
#   PREFIX/lib/pkgconfig/cgm.pc
#   PREFIX/bin/cgm
#   PREFIX/share/man/man1/cgm.1, cgm-COMMAND.1
#   PREFIX/share/bash-completion/completions/cgm, zsh and fish completions
#   PREFIX/lib/systemd/system/cgm-node@.service   (ExecStart under PREFIX)
#
# Usage: packaging/install.sh [--prefix DIR] [--destdir DIR] [--no-build]
#   --prefix   where the files live when installed (default /usr/local);
#              cgm.pc and the unit name it
#   --destdir  a staging root the files are written under (for packagers:
#              DESTDIR/PREFIX/...), default none
#   --no-build use the release build as it is
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local destdir='' build=1
while [ $# -gt 0 ]; do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $prefix in /*) ;; *) echo "install.sh: --prefix must be an absolute path, got $prefix" >&2; exit 2 ;; esac
if [ -n "$destdir" ]; then
  mkdir -p "$destdir"
  destdir=$(cd "$destdir" && pwd)
fi
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
rel=$target/release
if [ "$build" = 1 ]; then
  (cd "$root" && cargo build --release --workspace -q)
fi
for f in libcgm.so libcgm.a cgm; do
  [ -f "$rel/$f" ] || { echo "install.sh: $rel/$f is missing: run cargo build --release --workspace (or drop --no-build)" >&2; exit 1; }
done
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
soname=$(objdump -p "$rel/libcgm.so" | awk '/SONAME/ { print $2 }')
[ "$soname" = "libcgm.so.$major" ] || { echo "install.sh: libcgm.so's soname is '$soname', not libcgm.so.$major" >&2; exit 1; }
bash "$root/rust/cgm-ffi/build-static.sh" "$rel/libcgm.a"

to=$destdir$prefix
put() { # put MODE SOURCE DEST
  install -D -m "$1" "$2" "$to/$3"
  echo "  $prefix/$3"
}
echo "installing libcgm $version under $prefix${destdir:+ (staged in $destdir)}"
put 644 "$root/include/cgm.h" include/cgm.h
put 755 "$rel/libcgm.so" "lib/libcgm.so.$version"
ln -sfn "libcgm.so.$version" "$to/lib/$soname" && echo "  $prefix/lib/$soname -> libcgm.so.$version"
ln -sfn "$soname" "$to/lib/libcgm.so" && echo "  $prefix/lib/libcgm.so -> $soname"
put 644 "$rel/libcgm.a" lib/libcgm.a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$root/rust/cgm-ffi/gen-pc.sh" "$tmp" --prefix "$prefix"
put 644 "$tmp/cgm.pc" lib/pkgconfig/cgm.pc
put 755 "$rel/cgm" bin/cgm
"$rel/cgm" man --dir "$tmp/man" > /dev/null
for page in "$tmp"/man/*.1; do
  put 644 "$page" "share/man/man1/$(basename "$page")"
done
"$rel/cgm" completions bash > "$tmp/cgm.bash"
"$rel/cgm" completions zsh > "$tmp/_cgm"
"$rel/cgm" completions fish > "$tmp/cgm.fish"
put 644 "$tmp/cgm.bash" share/bash-completion/completions/cgm
put 644 "$tmp/_cgm" share/zsh/site-functions/_cgm
put 644 "$tmp/cgm.fish" share/fish/vendor_completions.d/cgm.fish
sed "s|/usr/bin/cgm|$prefix/bin/cgm|" "$root/packaging/systemd/cgm-node@.service" > "$tmp/cgm-node@.service"
put 644 "$tmp/cgm-node@.service" "lib/systemd/system/cgm-node@.service"
echo "installed; build against it with: PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs cgm"
