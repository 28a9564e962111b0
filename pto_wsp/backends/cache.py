"""Build cache of generated cpu_sim libraries.

Key = sha256 of (emitted sources, compiler path + ``--version``, flags, machine + CPU flags,
backend version, runtime library hash): what the built library depends on. The sources name no
user path (the cpu_sim backend writes them as source tokens, ``source_tokens``, and gives the
paths to the loaded library), so a script exported to another folder reuses its build. One directory per key under the cache root (env
``PTO_WSP_CACHE_DIR``, else ``platformdirs.user_cache_dir("pto-wsp")``) holds the sources, the
library ``lib.so`` and ``manifest.json`` (with the sha256 of ``lib.so``).

Why it is safe under concurrency and crashes:

* a build happens in a fresh temp dir inside the cache root and is moved into place with
  ``fileio.publish_dir`` (files fsynced, one atomic rename), so a reader sees either no entry
  or a complete one;
* builders of one key serialise on an ``fcntl.flock`` lock file, so one builds and the others
  reuse its result;
* a hit is verified before use (manifest present, ``lib.so`` of the recorded size and hash,
  and an ELF file whose segments all lie inside it: a library truncated before its manifest
  was written would otherwise verify and raise SIGBUS at ``dlopen``); a bad entry is rebuilt;
* whatever stands where the cache needs a directory (a plain file at an entry's path) is
  removed and the entry rebuilt; a cache root that cannot be written is a ``CompileError``
  saying so.

A compiler error is reported with all its lines (up to ``REPORT_LINES``); an error inside a
kernel's ``cpp_src`` (named by the ``#line`` directives of the emitted source) is followed by
that source line and a caret under the column, as Triton shows its errors.

Kernels built against PTO-ISA (``ptoisa_files``) are compiled on their own with PTO-ISA's
toolchain (``compiler.ptoisa_root``: clang++-19, C++20, CPU simulation mode), all in one
translation unit, into an object that the system compiler links with the driver; the key then also holds that compiler's identity,
its flags and the PTO-ISA root.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .._native import BACKEND_VERSION, EXTENSION_DIR, codegen
from ..compiler.ptoisa_root import PtoIsaToolchain
from ..errors import CompileError, user_location
from ..fileio import publish_dir

__all__ = ["BuildCache", "Artifact", "cache_root", "compiler_command", "runtime_paths", "FLAGS"]

# -O1: the generated code is thin glue (loops, offset arithmetic, calls into the -O3 runtime), and
# -O1 compiles it markedly faster than -O2 with no measurable run-time difference on the
# benchmarks (benchmarks/bench_compile.py prints both).
OPT_LEVEL = "-O1"
# -ffp-contract=off: the inlined elementwise ops (runtime/tile_inline.h) must round each op as the
# library and numpy do; a compiler free to fuse a multiply into the next add (GNU C's default on
# targets with FMA) would not.
FLAGS: tuple[str, ...] = (
    "-std=c++17",
    OPT_LEVEL,
    "-ffp-contract=off",
    "-fPIC",
    "-shared",
    "-w",
    "-pipe",
)
LIB_NAME = "lib.so"
MANIFEST = "manifest.json"
PTOISA_UNITY = "ptoisa_kernels.cpp"
"""The translation unit that #includes every kernel file built against PTO-ISA."""
REPORT_LINES = 40
"""At most this many lines of a compiler's output in a CompileError."""


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
    return EXTENSION_DIR / "include", EXTENSION_DIR / "lib"


def _ptoisa_flags(tc: PtoIsaToolchain) -> list[str]:
    """How a kernel file is compiled against PTO-ISA: its CPU simulation flags, position
    independent, the cpu_sim optimisation level, warnings off as for the driver."""
    return [*tc.cpu_sim_flags(), OPT_LEVEL, "-fPIC", "-w"]


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
        str(BACKEND_VERSION),
        str(codegen.ABI_VERSION),
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


def _unwritable(root: Path, err: OSError) -> CompileError:
    return CompileError(
        f"the build cache directory {root} cannot be written ({err.strerror or err}"
        f"{': ' + str(err.filename) if err.filename else ''}); set PTO_WSP_CACHE_DIR to a "
        "writable directory",
        loc=user_location(),
    )


def _remove(path: Path) -> None:
    """Remove whatever is at ``path`` (directory tree, file or symlink)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _ensure_dir(root: Path, path: Path) -> None:
    """``path`` (inside ``root``) as a directory; a plain file in the way under ``root`` is the
    cache's own debris and is removed. ``CompileError`` when ``root`` cannot be written."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not root.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(root))
        current = root
        for part in path.relative_to(root).parts:
            current = current / part
            if current.exists() and not current.is_dir():
                current.unlink()
            current.mkdir(exist_ok=True)
    except OSError as err:
        raise _unwritable(root, err) from None


def elf_complete(path: Path) -> bool:
    """``path`` is an ELF file whose program segments and section headers lie inside it.

    A truncated shared library can still have a readable header; ``dlopen`` maps its
    segments past the end of the file and the first access raises SIGBUS.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            size = os.fstat(f.fileno()).st_size
            if len(head) < 52 or head[:4] != b"\x7fELF" or head[4] not in (1, 2):
                return False
            end = "<" if head[5] == 1 else ">"
            if head[4] == 2:
                if len(head) < 64:
                    return False
                phoff, shoff = struct.unpack_from(end + "QQ", head, 0x20)
                phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", head, 0x36)
                ph_fmt, off_at, filesz_at = end + "IIQQQQQQ", 2, 5
            else:
                phoff, shoff = struct.unpack_from(end + "II", head, 0x1C)
                phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", head, 0x2A)
                ph_fmt, off_at, filesz_at = end + "IIIIIIII", 1, 4
            if phoff + phnum * phentsize > size or shoff + shnum * shentsize > size:
                return False
            f.seek(phoff)
            table = f.read(phnum * phentsize)
            for i in range(phnum):
                entry = struct.unpack_from(ph_fmt, table, i * phentsize)
                if entry[0] == 1 and entry[off_at] + entry[filesz_at] > size:  # PT_LOAD
                    return False
            return True
    except (OSError, struct.error):
        return False


# "<file>:<line>:<col>: error: ..." (gcc and clang), for the #line names of kernel sources.
_DIAG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?:fatal )?(?:error|warning)")
_LINE_DIRECTIVE = re.compile(r'^#line (?P<line>\d+) "(?P<name>(?:[^"\\]|\\.)*)"\s*$')


def _virtual_sources(files: Sequence[tuple[str, str]]) -> dict[str, tuple[int, list[str]]]:
    """The code after each ``#line N "name"`` directive: name -> (N, its lines)."""
    found: dict[str, tuple[int, list[str]]] = {}
    for _fname, text in files:
        current: list[str] | None = None
        for ln in text.splitlines():
            m = _LINE_DIRECTIVE.match(ln)
            if m:
                current = []
                found[m.group("name")] = (int(m.group("line")), current)
            elif current is not None:
                current.append(ln)
    return found


def compiler_report(output: str, files: Sequence[tuple[str, str]]) -> list[str]:
    """The compiler's output lines (at most ``REPORT_LINES``); after an error located in a
    ``#line`` source the compiler cannot show (a kernel's ``cpp_src``), that source line and
    a caret under the column."""
    sources = _virtual_sources(files)
    out: list[str] = []
    for ln in output.splitlines():
        if not ln.strip():
            continue
        out.append(ln)
        m = _DIAG.match(ln)
        if m and m.group("file") in sources:
            first, lines = sources[m.group("file")]
            at = int(m.group("line")) - first
            if 0 <= at < len(lines):
                text = lines[at].expandtabs(1)
                col = max(int(m.group("col")) - 1, 0)
                out.append(f"    {text}")
                out.append("    " + " " * min(col, len(text)) + "^")
    if len(out) > REPORT_LINES:
        out = [*out[:REPORT_LINES], f"... ({len(out) - REPORT_LINES} more lines)"]
    return out


@contextmanager
def _locked(path: Path) -> Iterator[None]:
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
        self,
        files: Sequence[tuple[str, str]],
        main_file: str,
        name: str = "program",
        ptoisa_files: Sequence[str] = (),
        ptoisa: PtoIsaToolchain | None = None,
    ) -> Artifact:
        """The verified artifact of ``files`` (building it when missing or corrupt).
        ``ptoisa_files`` name the files built on their own with ``ptoisa``'s toolchain."""
        cxx = compiler_command()
        flags = list(FLAGS)
        if ptoisa_files:
            assert ptoisa is not None, "ptoisa_files need a PTO-ISA toolchain"
            flags += [_compiler_identity(ptoisa.cxx), *_ptoisa_flags(ptoisa), *ptoisa_files]
        key = cache_key(files, cxx, flags)
        final = self.entry_dir(key)
        if self.verify(final):
            return Artifact(final, final / LIB_NAME, key, built=False)
        with self._lock(key):
            if self.verify(final):  # another process built it while we waited
                return Artifact(final, final / LIB_NAME, key, built=False)
            if final.exists() or final.is_symlink():  # a bad entry, or a file in its place
                _remove(final)
            self._build(files, main_file, cxx, key, final, name, ptoisa_files, ptoisa)
        return Artifact(final, final / LIB_NAME, key, built=True)

    def invalidate(self, artifact: Artifact) -> None:
        """Drop an entry (e.g. a library that verified but failed to load)."""
        with self._lock(artifact.key):
            _remove(artifact.directory)

    def _lock(self, key: str) -> Any:
        locks = self.root / "locks"
        _ensure_dir(self.root, locks)
        lock = locks / f"{key}.lock"
        if lock.is_dir():
            _remove(lock)
        return _locked(lock)

    @staticmethod
    def verify(entry: Path) -> bool:
        """The entry is complete: manifest, library of the recorded size and hash, whole ELF."""
        lib = entry / LIB_NAME
        try:
            manifest = json.loads((entry / MANIFEST).read_text())
            if not isinstance(manifest, dict):
                return False
            size = manifest.get("lib_size")
            if size is not None and lib.stat().st_size != size:
                return False
            return manifest.get("lib_sha256") == _sha256_file(lib) and elf_complete(lib)
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
        ptoisa_files: Sequence[str] = (),
        ptoisa: PtoIsaToolchain | None = None,
    ) -> None:
        _ensure_dir(self.root, self.root)
        try:
            tmp = Path(tempfile.mkdtemp(prefix="build-", dir=self.root))
        except OSError as err:
            raise _unwritable(self.root, err) from None
        try:
            try:
                for fname, text in files:
                    (tmp / fname).write_text(text)
            except OSError as err:
                raise CompileError(
                    f"cannot write the generated sources of {name} to {tmp}: {err.strerror or err}",
                    loc=user_location(),
                ) from None
            include, libdir = runtime_paths()
            t0 = time.perf_counter()
            objects = []
            if ptoisa_files:  # one object for them all: PTO-ISA's headers parse once (~2 s)
                assert ptoisa is not None
                unity = PTOISA_UNITY
                (tmp / unity).write_text("".join(f'#include "{f}"\n' for f in ptoisa_files))
                obj = tmp / (unity + ".o")
                pcmd = [ptoisa.cxx, *_ptoisa_flags(ptoisa), f"-I{include}", "-c", str(tmp / unity)]
                self._compile([*pcmd, "-o", str(obj)], ptoisa.cxx, tmp, key, files, unity, name)
                objects.append(str(obj))
            cmd = [
                cxx,
                *FLAGS,
                f"-I{include}",
                "-o",
                str(tmp / LIB_NAME),
                str(tmp / main_file),
                *objects,
                f"-L{libdir}",
                "-lpto_runtime",
                f"-Wl,-rpath,{libdir}",
            ]
            self._compile(cmd, cxx, tmp, key, files, main_file, name)
            if not elf_complete(tmp / LIB_NAME):
                raise CompileError(
                    f"the C++ compiler {cxx!r} left an incomplete library for {name} (is the "
                    f"disk full?): {tmp / LIB_NAME}",
                    loc=user_location(),
                )
            manifest = {
                "key": key,
                "lib_size": (tmp / LIB_NAME).stat().st_size,
                "lib_sha256": _sha256_file(tmp / LIB_NAME),
                "compiler": cxx,
                "flags": list(FLAGS),
                "ptoisa": (
                    {
                        "compiler": ptoisa.cxx,
                        "flags": _ptoisa_flags(ptoisa),
                        "files": list(ptoisa_files),
                    }
                    if ptoisa is not None and ptoisa_files
                    else None
                ),
                "build_ms": round((time.perf_counter() - t0) * 1e3, 1),
                "files": [f for f, _ in files],
                "name": name,
            }
            try:
                (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
            except OSError as err:
                raise CompileError(
                    f"cannot write the manifest of {name} to {tmp}: {err.strerror or err}",
                    loc=user_location(),
                ) from None
            _ensure_dir(self.root, final.parent)
            publish_dir(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _compile(
        self,
        cmd: list[str],
        cxx: str,
        tmp: Path,
        key: str,
        files: Sequence[tuple[str, str]],
        source: str,
        name: str,
    ) -> None:
        """Run one compiler command in the build dir ``tmp``; a failure keeps the dir (under
        ``failed/``) and raises ``CompileError`` with the compiler's report."""
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        except OSError as err:
            kept = self._keep_failed(tmp, key)
            raise CompileError(
                f"cannot run the C++ compiler {cxx!r} ({err.strerror or err}); install g++ "
                f"or set CXX. Emitted source: {kept / source}",
                loc=user_location(),
            ) from None
        if proc.returncode != 0:
            kept = self._keep_failed(tmp, key)
            output = "\n".join(x for x in (proc.stderr, proc.stdout) if x)
            # The build dir is now ``kept``: name the files where they can be opened.
            lines = compiler_report(output.replace(str(tmp), str(kept)), files)
            raise CompileError(
                f"the C++ compiler {cxx!r} failed (exit {proc.returncode}) on the generated "
                f"code of {name}:\n  " + "\n  ".join(lines) + f"\nEmitted source: {kept / source}",
                loc=user_location(),
            )

    def _keep_failed(self, tmp: Path, key: str) -> Path:
        """Moves a failed build dir to ``failed/<key>`` so the source path in the error stays."""
        dest = self.root / "failed" / key
        _remove(dest)
        _ensure_dir(self.root, dest.parent)
        publish_dir(tmp, dest)
        return dest
