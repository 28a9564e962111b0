"""Build cache of generated cpu_sim libraries.

Key = sha256 of (emitted sources, compiler path + ``--version``, flags, machine + CPU flags,
backend version, runtime library hash). One directory per key under the cache root (env
``PTO_WSP_CACHE_DIR``, else ``platformdirs.user_cache_dir("pto-wsp")``) holds the sources, the
library ``lib.so`` and ``manifest.json`` (with the sha256 of ``lib.so``).

Why it is safe under concurrency and crashes:

* a build happens in a fresh temp dir inside the cache root and is moved into place with
  ``os.replace`` (atomic), so a reader sees either no entry or a complete one;
* builders of one key serialise on an ``fcntl.flock`` lock file, so one builds and the others
  reuse its result;
* a hit is verified (manifest present, ``lib.so`` hash matches) before use; a truncated or
  corrupt entry is rebuilt.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import _core
from ..errors import CompileError, user_location

__all__ = ["BuildCache", "Artifact", "cache_root", "compiler_command", "runtime_paths", "FLAGS"]

# -O1: the generated code is thin glue (loops, offset arithmetic, calls into the -O3 runtime), and
# -O1 compiles it markedly faster than -O2 with no measurable run-time difference on the
# benchmarks (benchmarks/bench_compile.py prints both).
OPT_LEVEL = "-O1"
FLAGS: tuple[str, ...] = ("-std=c++17", OPT_LEVEL, "-fPIC", "-shared", "-w", "-pipe")
LIB_NAME = "lib.so"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    """A built library: its directory (sources + lib.so + manifest), path and cache key."""

    directory: Path
    library: Path
    key: str
    built: bool  # True when this call ran the compiler


def cache_root() -> Path:
    env = os.environ.get("PTO_WSP_CACHE_DIR")
    if env:
        return Path(env)
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("pto-wsp"))
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        return Path(base) / "pto-wsp"


def compiler_command() -> str:
    """The C++ compiler: env ``CXX``, else ``c++``."""
    return os.environ.get("CXX") or "c++"


def runtime_paths() -> tuple[Path, Path]:
    """(include dir holding ``runtime/*.h``, lib dir holding ``libpto_runtime.so``)."""
    base = Path(_core.__file__).resolve().parent
    return base / "include", base / "lib"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=8)
def _file_hash_cached(path: str, mtime_ns: int, size: int) -> str:
    return _sha256_file(Path(path))


def _runtime_hash() -> str:
    lib = runtime_paths()[1] / "libpto_runtime.so"
    try:
        st = lib.stat()
    except OSError:
        raise CompileError(
            f"the runtime library {lib} is missing; rebuild the package (bash dev.sh build)"
        ) from None
    return _file_hash_cached(str(lib), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _compiler_identity(cxx: str) -> str:
    """``path + --version`` of the compiler, or a marker when it cannot run (the build then
    fails with a CompileError naming it)."""
    resolved = shutil.which(cxx) or cxx
    try:
        out = subprocess.run(
            [resolved, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
        return f"{resolved}\n{out.stdout}"
    except (OSError, subprocess.SubprocessError) as err:
        return f"unavailable:{resolved}:{type(err).__name__}"


@lru_cache(maxsize=1)
def _cpu_identity() -> str:
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    flags = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.machine()}\n{flags}"


def cache_key(files: Sequence[tuple[str, str]], cxx: str, flags: Sequence[str]) -> str:
    h = hashlib.sha256()
    for part in (
        "pto-wsp-cpu-sim-cache-v1",
        _compiler_identity(cxx),
        " ".join(flags),
        _cpu_identity(),
        str(_core.BACKEND_VERSION),
        str(_core.codegen.ABI_VERSION),
        _runtime_hash(),
    ):
        h.update(part.encode())
        h.update(b"\0")
    for name, text in files:
        h.update(name.encode())
        h.update(b"\0")
        h.update(text.encode())
        h.update(b"\0")
    return h.hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class BuildCache:
    """Builds generated sources into a shared library, once per key."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else cache_root()

    def entry_dir(self, key: str) -> Path:
        return self.root / "v1" / key[:2] / key

    def get_or_build(
        self, files: Sequence[tuple[str, str]], main_file: str, name: str = "program"
    ) -> Artifact:
        """The verified artifact of ``files`` (building it when missing or corrupt)."""
        cxx = compiler_command()
        key = cache_key(files, cxx, FLAGS)
        final = self.entry_dir(key)
        if self.verify(final):
            return Artifact(final, final / LIB_NAME, key, built=False)
        with _locked(self.root / "locks" / f"{key}.lock"):
            if self.verify(final):  # another process built it while we waited
                return Artifact(final, final / LIB_NAME, key, built=False)
            if final.exists():
                shutil.rmtree(final, ignore_errors=True)
            self._build(files, main_file, cxx, key, final, name)
        return Artifact(final, final / LIB_NAME, key, built=True)

    def invalidate(self, artifact: Artifact) -> None:
        """Drop an entry (e.g. a library that verified but failed to load)."""
        with _locked(self.root / "locks" / f"{artifact.key}.lock"):
            shutil.rmtree(artifact.directory, ignore_errors=True)

    @staticmethod
    def verify(entry: Path) -> bool:
        try:
            manifest = json.loads((entry / MANIFEST).read_text())
            return manifest.get("lib_sha256") == _sha256_file(entry / LIB_NAME)
        except (OSError, ValueError):
            return False

    def _build(
        self,
        files: Sequence[tuple[str, str]],
        main_file: str,
        cxx: str,
        key: str,
        final: Path,
        name: str,
    ) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="build-", dir=self.root))
        try:
            for fname, text in files:
                (tmp / fname).write_text(text)
            include, libdir = runtime_paths()
            cmd = [
                cxx,
                *FLAGS,
                f"-I{include}",
                "-o",
                str(tmp / LIB_NAME),
                str(tmp / main_file),
                f"-L{libdir}",
                "-lpto_runtime",
                f"-Wl,-rpath,{libdir}",
            ]
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            except OSError as err:
                kept = self._keep_failed(tmp, key)
                raise CompileError(
                    f"cannot run the C++ compiler {cxx!r} ({err.strerror or err}); install g++ "
                    f"or set CXX. Emitted source: {kept / main_file}",
                    loc=user_location(),
                ) from None
            if proc.returncode != 0:
                kept = self._keep_failed(tmp, key)
                lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
                first = [ln for ln in lines if "error" in ln] or lines
                raise CompileError(
                    f"the C++ compiler {cxx!r} failed (exit {proc.returncode}) on the generated "
                    f"code of {name}:\n  "
                    + "\n  ".join(first[:8])
                    + f"\nEmitted source: {kept / main_file}",
                    loc=user_location(),
                )
            manifest = {
                "key": key,
                "lib_sha256": _sha256_file(tmp / LIB_NAME),
                "compiler": cxx,
                "flags": list(FLAGS),
                "build_ms": round((time.perf_counter() - t0) * 1e3, 1),
                "files": [f for f, _ in files],
                "name": name,
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _keep_failed(self, tmp: Path, key: str) -> Path:
        """Moves a failed build dir to ``failed/<key>`` so the source path in the error stays."""
        dest = self.root / "failed" / key
        shutil.rmtree(dest, ignore_errors=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, dest)
        return dest
