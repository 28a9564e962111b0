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
from collections.abc import Callable
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


class PipelineResult(ctypes.Structure):
    """pto_bench_csp_result of native/csp_pipeline.cpp (same fields, same order)."""

    _fields_ = [
        ("seconds", ctypes.c_double),
        ("cpu_seconds", ctypes.c_double),
        ("events", ctypes.c_int64),
        ("engine_bytes", ctypes.c_int64),
        ("tasks", ctypes.c_int64),
        ("task_trace_bytes", ctypes.c_int64),
        ("total_cycles", ctypes.c_int64),
    ]


def csp_pipeline() -> Callable[..., int]:
    """pto_bench_csp_pipeline(items, depth, cycles, workers, trace, *result) -> 0 | -1."""
    fn = load("csp_pipeline.cpp").pto_bench_csp_pipeline
    fn.argtypes = [
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int64,
        ctypes.c_int32,
        ctypes.c_int32,
        ctypes.POINTER(PipelineResult),
    ]
    fn.restype = ctypes.c_int32
    return fn


def grid() -> ctypes.CDLL:
    """native/grid.cpp: pto_bench_grid_sim(workers, trace, reserve) -> pto_sim* and
    pto_bench_grid_run(sim, n_tasks, cycles) -> seconds."""
    lib = load("grid.cpp")
    lib.pto_bench_grid_sim.argtypes = [ctypes.c_int32, ctypes.c_int32, ctypes.c_int64]
    lib.pto_bench_grid_sim.restype = ctypes.c_void_p
    lib.pto_bench_grid_run.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int64]
    lib.pto_bench_grid_run.restype = ctypes.c_double
    return lib
