#!/usr/bin/env bash
# PTO-WSP Studio developer entry point. Every sub-command bootstraps what it needs
# (Debian packages when root, a virtualenv in .venv, the package with its compiled
# extension) and is idempotent: a second run only rebuilds what changed.
#
#   bash dev.sh run [ARGS]   the main job (python -m app): today the bundled sample, headless
#   bash dev.sh test [ARGS]  ruff check + ruff format --check + import contracts + mypy + pytest -n 2
#                            of ARGS; without ARGS, of all but tests/gui, then tests/gui in one process
#   bash dev.sh build        (re)build the C++ extension only
#   bash dev.sh stubs        regenerate the checked-in type stubs of pto_wsp._core
#                            (pto_wsp/_core/*.pyi; tests/unit/test_core_stubs.py checks them)
#
# Environment: PYTHON (interpreter for the venv, default python3.11 then python3),
# PTO_WSP_SKIP_APT=1 (never call apt-get, only report what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMP_DIR="$VENV/.pto-stamps"

# Debian packages: a C++ toolchain, Python headers/venv, and what Qt needs (DESIGN.md §4);
# clang-19 builds code against PTO-ISA's headers, which g++ 12 rejects, and libclang-rt-19-dev
# gives it the float -> bfloat16 conversions libgcc 12 lacks (docs/ptoisa.md).
# DEB_QT is also what an installed wheel's Studio needs (README, "A third way: install the wheel").
DEB_QT=(libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libx11-xcb1 libxcb-cursor0
  libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
  libxkbcommon-x11-0 libdbus-1-3 fonts-dejavu-core)
DEB_PKGS=(g++ make clang-19 libclang-rt-19-dev python3-dev python3-venv "${DEB_QT[@]}" xvfb xauth)

log() { printf '[dev.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Content hash of files (missing files hash as empty, never an error under pipefail).
hash_of() {
  local f
  for f in "$@"; do
    if [ -f "$f" ]; then printf '%s\n' "$f"; cat "$f"; fi
  done | sha256sum | cut -c1-16
}

pick_python() {
  local cand
  for cand in "${PYTHON:-}" python3.11 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 \
       && "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      printf '%s' "$cand"; return 0
    fi
  done
  die "Python >= 3.11 not found (set PYTHON=/path/to/python3.11)"
}

ensure_debian() {
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local missing=() p
  for p in "${DEB_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || [ "${PTO_WSP_SKIP_APT:-0}" = 1 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "warning: missing Debian packages (install them as root): ${missing[*]}"
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
}

ensure_venv() {
  # A venv whose pip does not run (interrupted creation, python3-venv missing) is rebuilt.
  if ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    local py; py="$(pick_python)"
    log "creating virtualenv in .venv with $py"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" || die "'$py -m venv' failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install -qq --upgrade pip
  fi
  mkdir -p "$STAMP_DIR"
}

ensure_deps() {
  local h; h="$(hash_of pyproject.toml)"
  [ "$(cat "$STAMP_DIR/deps" 2>/dev/null || true)" = "$h" ] && return 0
  log "installing Python dependencies (first time: a few minutes)"
  "$VENV/bin/python" -m pip install -qq scikit-build-core pybind11 ninja cmake
  # Runtime + app + test (+ Dask) dependencies; the package itself is built by ensure_build.
  "$VENV/bin/python" - >"$STAMP_DIR/reqs.txt" <<'PYEOF'
import tomllib
with open("pyproject.toml", "rb") as fh:
    project = tomllib.load(fh)["project"]
deps = list(project["dependencies"])
for extra in ("app", "test", "distributed"):  # distributed: the cluster sweep tests
    deps += project["optional-dependencies"][extra]
print("\n".join(deps))
PYEOF
  "$VENV/bin/python" -m pip install -qq -r "$STAMP_DIR/reqs.txt"
  echo "$h" >"$STAMP_DIR/deps"
  rm -f "$STAMP_DIR/build"
}

ensure_build() {
  local sources h
  sources="$(find cpp_backend -type f | LC_ALL=C sort)"
  # The C++ op/dtype tables, worker default and wait causes are generated from these Python files.
  # shellcheck disable=SC2086  # file names in this repo have no spaces
  h="$(hash_of pyproject.toml CMakeLists.txt $sources pto_wsp/language/op_table.py \
       pto_wsp/language/dtype_table.py pto_wsp/compiler/workers.py pto_wsp/runtime/wait_causes.py)"
  # The editable install records where each Python module lives: a moved module needs a reinstall.
  h="$h-$(find pto_wsp app -name '*.py' | LC_ALL=C sort | sha256sum | cut -c1-16)"
  if [ "$(cat "$STAMP_DIR/build" 2>/dev/null || true)" != "$h" ] \
     || ! "$VENV/bin/python" -c "import pto_wsp._core" >/dev/null 2>&1; then
    log "building the C++ extension (pto_wsp._core; first time: a few minutes)"
    "$VENV/bin/python" -m pip install -qq --no-build-isolation --no-deps -e . \
      || die "build of the C++ extension failed (see the compiler output above)"
    echo "$h" >"$STAMP_DIR/build"
  fi
}

bootstrap() {
  # Serialise apt, venv creation, installs and builds between concurrent dev.sh runs of this
  # checkout (the lock is per checkout, so nesting under another lock cannot deadlock).
  local lock="${TMPDIR:-/tmp}/pto-wsp-dev-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12).lock"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$lock"
    flock 9
  fi
  ensure_debian
  ensure_venv
  ensure_deps
  ensure_build
  if command -v flock >/dev/null 2>&1; then
    flock -u 9
    exec 9>&-
  fi
}

# Records a pytest exit status in run_tests' `failed`: 5 (no tests collected) is a failure too,
# and a status above 128 names the signal that killed the interpreter.
pytest_outcome() {
  local what="$1" rc="$2"
  case "$rc" in
    0) ;;
    5) log "$what collected no tests: that is a failure"; failed+=("$what (no tests)") ;;
    *) if [ "$rc" -gt 128 ]; then
         log "$what died with signal $((rc - 128)) ($(kill -l "$((rc - 128))" 2>/dev/null || echo '?'))"
       fi
       failed+=("$what (exit $rc)") ;;
  esac
}

# Runs every check even when an earlier one fails, then reports all failures at once.
run_tests() {
  local failed=() rc
  log "ruff check"
  "$VENV/bin/ruff" check . || failed+=("ruff check")
  log "ruff format --check"
  "$VENV/bin/ruff" format --check . || failed+=("ruff format")
  log "import contracts (lint-imports)"
  "$VENV/bin/lint-imports" || failed+=("lint-imports")
  log "mypy (pto_wsp, app.model: [tool.mypy] in pyproject.toml)"
  "$VENV/bin/mypy" || failed+=("mypy")
  # The whole suite runs the GUI tests in a process of their own, one at a time, as the Studio
  # runs: an xdist worker mixes them with tests that start threads of their own (Dask, the fork
  # server, the trace writer), and a worker that crashes while exiting (Qt teardown after the
  # interpreter finalized) goes unnoticed once its results are in.
  log "pytest -n 2"
  rc=0
  if [ $# -eq 0 ]; then
    "$VENV/bin/python" -m pytest -n 2 --ignore=tests/gui || rc=$?
  else
    "$VENV/bin/python" -m pytest -n 2 "$@" || rc=$?
  fi
  pytest_outcome "pytest" "$rc"
  if [ $# -eq 0 ]; then
    log "pytest -p no:xdist tests/gui (one process: it must also exit cleanly)"
    rc=0
    "$VENV/bin/python" -X faulthandler -m pytest -p no:xdist -q tests/gui || rc=$?
    pytest_outcome "pytest tests/gui in one process" "$rc"
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    log "FAILED: ${failed[*]}"
    return 1
  fi
  log "all checks passed"
}

cmd="${1:-run}"
if [ $# -gt 0 ]; then shift; fi
case "$cmd" in
  run)
    bootstrap
    exec "$VENV/bin/python" -m app "$@"
    ;;
  test)
    bootstrap
    run_tests "$@"
    ;;
  build)
    bootstrap
    ;;
  stubs)
    bootstrap
    rm -rf "$ROOT/pto_wsp/_core"
    "$VENV/bin/pybind11-stubgen" pto_wsp._core --exit-code -o "$ROOT"
    log "wrote pto_wsp/_core/*.pyi"
    ;;
  -h | --help | help)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    ;;
  *)
    echo "usage: bash dev.sh {run|test|build|stubs} [ARGS]" >&2
    exit 2
    ;;
esac
