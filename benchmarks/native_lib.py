"""The benchmarks' native parts (benchmarks/native/*.cpp), built when a benchmark runs.

Why here and not in the runtime: benchmark loops are no part of what generated code links
against, so libpto_runtime and the extension ship none. A benchmark builds its source against
the installed runtime headers and library the way cpu_sim builds generated code (the same build
cache, compiler and flags: ``pto_wsp.backends.cache``) and calls it through ctypes. The built
library links libpto_runtime from the package's lib dir, the copy the extension has loaded, so
it shares the runtime's state (simulators, published CSP traces) with everything else.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

from pto_wsp.backends.cache import BuildCache, runtime_paths

NATIVE_DIR = Path(__file__).resolve().parent / "native"


def load(source: str) -> ctypes.CDLL:
    """Builds (or reuses from the build cache) ``native/<source>`` and loads it."""
    text = (NATIVE_DIR / source).read_text()
    artifact = BuildCache().get_or_build([(source, text)], source, f"benchmark {source}")
    return ctypes.CDLL(str(artifact.library))


def runtime() -> ctypes.CDLL:
    """libpto_runtime itself (the simulator's C API: pto_sim_task_count, pto_sim_destroy, ...)."""
    lib = ctypes.CDLL(str(runtime_paths()[1] / "libpto_runtime.so"))
    lib.pto_sim_task_count.argtypes = [ctypes.c_void_p]
    lib.pto_sim_task_count.restype = ctypes.c_uint64
    lib.pto_sim_total_cycles.argtypes = [ctypes.c_void_p]
    lib.pto_sim_total_cycles.restype = ctypes.c_int64
    lib.pto_sim_destroy.argtypes = [ctypes.c_void_p]
    lib.pto_sim_destroy.restype = None
    return lib
