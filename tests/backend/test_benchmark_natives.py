"""The benchmarks' native parts (benchmarks/native/*.cpp) build against the installed runtime and
measure what their scripts say they measure.

They are built only when a benchmark runs (benchmarks/native_lib.py), not by the package build,
so nothing else would notice a runtime change that breaks them. No timing is asserted: only the
accounting (tasks, cycles, events, trace bytes) of one small run each.
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from pto_wsp._core import sim

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _native_lib() -> ModuleType:
    spec = importlib.util.spec_from_file_location("native_lib", BENCHMARKS / "native_lib.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


native_lib = _native_lib()


def _pipeline(items: int, depth: int, workers: int, trace: bool) -> tuple[int, Any]:
    fn = native_lib.csp_pipeline()
    r = native_lib.PipelineResult()
    return fn(items, depth, 1, workers, int(trace), ctypes.byref(r)), r


@pytest.mark.parametrize(
    ("depth", "cycles"),
    [
        # Depth 1: the producer's next reservation waits for the consumer's release, so item i
        # is produced in [2i, 2i+1) and consumed in [2i+1, 2i+2): 2 * items cycles.
        (1, 2 * 50),
        # Depth >= 2 pipelines: item i produced in [i, i+1), consumed in [i+1, i+2) on the other
        # worker: items + 1 cycles.
        (2, 50 + 1),
        (8, 50 + 1),
    ],
)
def test_csp_pipeline_benchmark_accounts_events_tasks_and_cycles(depth: int, cycles: int) -> None:
    rc, r = _pipeline(50, depth, workers=2, trace=True)
    assert rc == 0
    assert r.events == r.tasks == 100  # one send + one take, one task each side, per item
    assert r.total_cycles == cycles
    assert r.task_trace_bytes == 100 * sim.RECORD_SIZE
    assert r.engine_bytes > 0 and r.seconds >= 0 and r.cpu_seconds >= 0
    rc_off, off = _pipeline(50, depth, workers=2, trace=False)
    assert rc_off == 0
    assert off.task_trace_bytes == 0  # the task trace is the only difference
    assert (off.engine_bytes, off.total_cycles) == (r.engine_bytes, r.total_cycles)


def test_csp_pipeline_benchmark_rejects_invalid_simulator() -> None:
    rc, _ = _pipeline(10, 2, workers=0, trace=True)
    assert rc == -1


def test_sim_grid_benchmark_accounts_cycles() -> None:
    grid = native_lib.grid()
    rt = native_lib.runtime()
    s = grid.pto_bench_grid_sim(4, 1, 1000)
    assert s
    try:
        assert grid.pto_bench_grid_run(s, 1000, 2) >= 0
        assert rt.pto_sim_task_count(s) == 1000
        assert rt.pto_sim_total_cycles(s) == 500  # 250 tasks per worker, 2 cycles each
        rt.pto_sim_trace_length.argtypes = rt.pto_sim_trace_data.argtypes = [ctypes.c_void_p]
        rt.pto_sim_trace_length.restype = ctypes.c_uint64
        rt.pto_sim_trace_data.restype = ctypes.c_void_p
        n = rt.pto_sim_trace_length(s)
        raw = (ctypes.c_char * (n * sim.RECORD_SIZE)).from_address(rt.pto_sim_trace_data(s))
        trace = np.frombuffer(bytes(raw), dtype=sim.Simulator().trace.dtype)
        assert trace["idx0"].tolist() == list(range(1000))
    finally:
        rt.pto_sim_destroy(s)
