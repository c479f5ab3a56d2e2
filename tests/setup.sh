#!/usr/bin/env bash
# The one list of the tools libcgm's tests use, and how each is installed.
#
#   tests/setup.sh [TOOL...]    check TOOLs (default: every one), report all the
#                               missing ones at once, install them, and fail
#                               naming each one still missing with the command
#                               that installs it
#   CGM_SETUP_INSTALL=0 tests/setup.sh ...    check only, install nothing
#
# tests/run_all.sh calls it first for every tool (so a missing one is found
# before the long build, not after it); tests/c/run.sh, tests/python/run.sh and
# fuzz/run.sh call it for their own tools, so each also runs alone on a fresh
# machine. .ci/run is tests/run_all.sh: CI and a developer's machine are set up
# by this same script. System packages come from apt-get (Debian/Ubuntu; as
# root, or through sudo when it needs no password), Rust tools from
# `cargo install --locked` at pinned versions.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"

# cbindgen must be exactly this version: include/cgm.h is checked byte for byte
# against its output.
cbindgen_version=$(cat "$root/rust/cgm-ffi/CBINDGEN_VERSION")
cargo_fuzz_version=0.13.2
all=(cargo gcc g++ make binutils pkg-config cmake valgrind python3-venv cbindgen cargo-fuzz ip nft)

# has TOOL: whether TOOL is there and usable.
has() {
  case $1 in
    cargo) command -v cargo && command -v rustc ;;
    # nm, readelf (tests/c), ld -r, objcopy, ar (rust/cgm-ffi/build-static.sh).
    binutils) command -v ld && command -v ar && command -v nm && command -v objcopy && command -v readelf ;;
    python3-venv) python3 -c 'import ensurepip, venv' ;;
    cbindgen) [ "$(cbindgen --version 2> /dev/null | awk '{print $2}')" = "$cbindgen_version" ] ;;
    cargo-fuzz) cargo fuzz --version ;;
    *) command -v "$1" ;;
  esac > /dev/null 2>&1
}

# The Debian packages that provide an apt-installed tool.
packages() {
  case $1 in
    python3-venv) echo python3 python3-venv python3-pip ;;
    ip) echo iproute2 ;;
    nft) echo nftables ;;
    *) echo "$1" ;;
  esac
}

# Who may run apt-get: "" (root), "sudo" (without a password) or "no".
if [ "$(id -u)" = 0 ]; then
  sudo=""
elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
  sudo="sudo"
else
  sudo="no"
fi

# how TOOL: the command that installs TOOL.
how() {
  case $1 in
    cargo) echo "a Rust toolchain from https://rustup.rs (curl https://sh.rustup.rs -sSf | sh)" ;;
    cbindgen) echo "cargo install cbindgen --version $cbindgen_version --locked" ;;
    cargo-fuzz) echo "cargo install cargo-fuzz --version $cargo_fuzz_version --locked" ;;
    *) echo "$([ -z "$sudo" ] || echo 'sudo ')apt-get install $(packages "$1")" ;;
  esac
}

tools=("$@")
[ ${#tools[@]} -gt 0 ] || tools=("${all[@]}")
missing=()
for t in "${tools[@]}"; do
  has "$t" || missing+=("$t")
done
if [ ${#missing[@]} = 0 ]; then
  echo "setup: ${#tools[@]} tools present (${tools[*]})"
  exit 0
fi
echo "setup: missing: ${missing[*]}"

if [ "${CGM_SETUP_INSTALL:-1}" != 0 ]; then
  apt=()
  for t in "${missing[@]}"; do
    case $t in
      cargo | cbindgen | cargo-fuzz) ;;
      *) read -ra p <<< "$(packages "$t")" && apt+=("${p[@]}") ;;
    esac
  done
  if [ ${#apt[@]} -gt 0 ] && [ "$sudo" != no ] && command -v apt-get > /dev/null; then
    echo "setup: apt-get install ${apt[*]}"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt[@]}" > /dev/null; } ||
      echo "setup: apt-get install failed (no network?)" >&2
  fi
  # Rust tools need cargo; a failed install (no network) is reported below.
  for t in "${missing[@]}"; do
    case $t in
      cbindgen) version=$cbindgen_version ;;
      cargo-fuzz) version=$cargo_fuzz_version ;;
      *) continue ;;
    esac
    if has cargo; then
      echo "setup: cargo install $t --version $version --locked"
      cargo install "$t" --version "$version" --locked || echo "setup: installing $t failed" >&2
    fi
  done
fi

still=0
for t in "${missing[@]}"; do
  if ! has "$t"; then
    echo "setup: missing tool: $t; install it with: $(how "$t")" >&2
    still=1
  fi
done
[ "$still" = 0 ] && echo "setup: installed ${missing[*]}"
exit "$still"
