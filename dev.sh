#!/usr/bin/env bash
# PTO-WSP Studio developer entry point. Every sub-command bootstraps what it needs
# (Debian packages when root, a virtualenv in .venv, the package with its compiled
# extension) and is idempotent: a second run only rebuilds what changed.
#
#   bash dev.sh run [ARGS]   open the studio on the bundled sample (headless without a display)
#   bash dev.sh test [ARGS]  lint + import contracts + the whole pytest suite
#   bash dev.sh build        (re)build the C++ extension only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMP_DIR="$VENV/.pto-stamps"
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

# Debian packages: a C++ toolchain, Python headers/venv, and what Qt needs (DESIGN.md §4).
DEB_PKGS=(g++ make python3-dev python3-venv
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libx11-xcb1 libxcb-cursor0
  libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1
  libxkbcommon-x11-0 libdbus-1-3 fonts-dejavu-core)

log() { printf '[dev.sh] %s\n' "$*" >&2; }

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

ensure_debian() {
  [ "$(id -u)" = 0 ] || return 0
  command -v apt-get >/dev/null 2>&1 || return 0
  local missing=()
  for p in "${DEB_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv in .venv"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  mkdir -p "$STAMP_DIR"
}

ensure_deps() {
  local h; h=$(hash_of pyproject.toml)
  if [ "$(cat "$STAMP_DIR/deps" 2>/dev/null)" != "$h" ]; then
    log "installing Python dependencies"
    "$VENV/bin/python" -m pip install -q scikit-build-core pybind11 ninja cmake
    # Dependencies only (the package itself is built by ensure_build).
    "$VENV/bin/python" - <<'PYEOF' > "$STAMP_DIR/reqs.txt"
import tomllib
p = tomllib.load(open("pyproject.toml", "rb"))["project"]
deps = list(p["dependencies"])
for extra in ("app", "test"):
    deps += p["optional-dependencies"][extra]
print("\n".join(deps))
PYEOF
    "$VENV/bin/python" -m pip install -q -r "$STAMP_DIR/reqs.txt"
    echo "$h" > "$STAMP_DIR/deps"
    rm -f "$STAMP_DIR/build"
  fi
}

ensure_build() {
  local h; h=$(hash_of pyproject.toml CMakeLists.txt $(find cpp_backend -type f | sort))
  if [ "$(cat "$STAMP_DIR/build" 2>/dev/null)" != "$h" ] \
     || ! "$VENV/bin/python" -c "import pto_wsp._core" >/dev/null 2>&1; then
    log "building the C++ extension (pto_wsp._core)"
    "$VENV/bin/python" -m pip install -q --no-build-isolation --no-deps -e . \
      || { log "build failed"; exit 1; }
    echo "$h" > "$STAMP_DIR/build"
  fi
}

bootstrap() { ensure_debian; ensure_venv; ensure_deps; ensure_build; }

cmd="${1:-run}"; shift || true
case "$cmd" in
  run)
    bootstrap
    exec "$VENV/bin/python" -m app "$@"
    ;;
  test)
    bootstrap
    log "ruff check"; "$VENV/bin/ruff" check .
    log "ruff format --check"; "$VENV/bin/ruff" format --check .
    log "import contracts"; "$VENV/bin/lint-imports"
    log "pytest"
    "$VENV/bin/python" -m pytest -n 2 "$@"
    ;;
  build)
    bootstrap
    ;;
  *)
    echo "usage: bash dev.sh {run|test|build} [ARGS]" >&2; exit 2 ;;
esac
