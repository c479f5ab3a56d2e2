#!/usr/bin/env bash
# Builds the Python wheel (python/ + rust/cgm-py) and tests it: a venv under
# target/ with pinned tools, `maturin build --release` into the workspace target
# dir, the pytest suite (warnings are errors, per-test timeouts), the README
# example (python/examples/quickstart.py) run and checked with `mypy --strict`,
# and the stubs checked with `mypy.stubtest`. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=$ROOT/target/py-venv
PY=${PYTHON:-python3}

step() { printf '\n==> python: %s\n' "$*"; }

step "tools (tests/setup.sh)"
bash tests/setup.sh cargo python3-venv

step "venv $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    maturin==1.16.0 pytest==9.2.0 pytest-timeout==2.4.0 hypothesis==6.170.15 mypy==2.4.1 prometheus-client==0.26.0

step "maturin build --release"
rm -f "$ROOT"/target/wheels/cgm-*.whl
(cd python && "$VENV/bin/maturin" build --release --out "$ROOT/target/wheels")
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$ROOT"/target/wheels/cgm-*.whl

step "cgm and libcgm for the schema test (the one JSON schema of Python, the CLI and C)"
# --bin and --lib select targets in every package named: `--bin cgm` alone
# would build nothing of cgm-ffi, and libcgm.so would be missing on a clean tree.
cargo build --release -p cgm-runtime -p cgm-ffi --bin cgm --lib
export CGM_BIN=$ROOT/target/release/cgm CGM_LIB=$ROOT/target/release/libcgm.so

step "pytest tests/python"
(cd tests/python && "$VENV/bin/python" -m pytest)

step "README example == python/examples/quickstart.py"
# The README's Python section shows the example verbatim.
awk '/^## Python/{s=1} s&&/^```python$/{c=1;next} c&&/^```$/{exit} c{print}' README.md > "$ROOT/target/readme-quickstart.py"
diff -u python/examples/quickstart.py "$ROOT/target/readme-quickstart.py"

step "python/examples/quickstart.py"
# Run from outside python/ so the installed wheel is imported.
(cd "$ROOT/target" && timeout 120 "$VENV/bin/python" "$ROOT/python/examples/quickstart.py")

step "mypy --strict python/examples/quickstart.py"
(cd "$ROOT/target" && "$VENV/bin/mypy" --strict --no-incremental "$ROOT/python/examples/quickstart.py")

step "mypy --strict -p cgm (the package itself)"
(cd "$ROOT/target" && "$VENV/bin/mypy" --strict --no-incremental -p cgm)

step "python -m mypy.stubtest cgm"
(cd "$ROOT/target" && "$VENV/bin/python" -m mypy.stubtest cgm)

echo "python: all passed"
