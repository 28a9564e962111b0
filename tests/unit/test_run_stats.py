"""``pto_wsp.runtime.trace_analysis``: per-kernel, per-worker and critical-path numbers from a trace."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_analysis import (
    analyse_trace,
    critical_path,
    kernel_stats,
    makespan_of,
    num_workers_of,
    program_stats_dict,
    worker_stats,
)
from pto_wsp.runtime.wait_causes import NO_GATE


def trace(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """Rows of (task, kernel, worker, start, end)."""
    return np.array(
        [(t, k, w, -1, s, e, -1, -1, -1, -1, NO_GATE, 0) for t, k, w, s, e in rows],
        dtype=TRACE_DTYPE,
    )


# Two workers.  Chain 0 -> 1 -> 3 is back to back (0..10, 10..25, 25..40) = 40 cycles;
# task 2 (worker 1, 0..20) and task 4 (worker 1, 22..30, overlapping 3) are off the chain.
SAMPLE = trace(
    [
        (0, 0, 0, 0, 10),
        (1, 1, 0, 10, 25),
        (2, 0, 1, 0, 20),
        (3, 1, 1, 25, 40),
        (4, 0, 1, 22, 30),
    ]
)


def test_kernel_stats_counts_and_cycles():
    ks = kernel_stats(SAMPLE, ["load", "mma"])
    assert [(k.kernel_id, k.name, k.task_count) for k in ks] == [(0, "load", 3), (1, "mma", 2)]
    load, mma = ks
    assert (load.total_cycles, load.min_cycles, load.max_cycles) == (10 + 20 + 8, 8, 20)
    assert (mma.total_cycles, mma.min_cycles, mma.max_cycles) == (30, 15, 15)
    assert load.mean_cycles == pytest.approx(38 / 3)


def test_kernel_without_name_is_numbered():
    (k,) = kernel_stats(trace([(0, 7, 0, 0, 5)]), ["only"])
    assert k.name == "kernel 7"


def test_worker_utilisation_is_busy_over_makespan():
    assert makespan_of(SAMPLE) == 40
    w0, w1 = worker_stats(SAMPLE)
    assert (w0.worker, w0.task_count, w0.busy_cycles) == (0, 2, 25)
    # worker 1 runs 0..20, 22..30 and 25..40: the overlap 25..30 counts once -> 20 + 18
    assert (w1.worker, w1.task_count, w1.busy_cycles) == (1, 3, 38)
    assert w0.utilisation == pytest.approx(25 / 40)
    assert w1.utilisation == pytest.approx(38 / 40)


def test_overlapping_records_count_once_and_idle_workers_listed():
    t = trace([(0, 0, 0, 0, 10), (1, 0, 0, 5, 12), (2, 0, 0, 20, 30)])
    ws = worker_stats(t, num_workers=3)
    assert [w.worker for w in ws] == [0, 1, 2]
    assert ws[0].busy_cycles == 12 + 10
    assert ws[0].utilisation == pytest.approx(22 / 30)
    assert (ws[1].task_count, ws[1].busy_cycles, ws[1].utilisation) == (0, 0, 0.0)


def test_critical_path_follows_back_to_back_chain():
    cp = critical_path(SAMPLE)
    assert cp.tasks == (0, 1, 3)
    assert cp.cycles == 40


def test_critical_path_skips_gaps():
    # 0: 0..10; 1 starts at 15 (gap) and runs to 50: the longest tight chain is task 1 alone.
    t = trace([(0, 0, 0, 0, 10), (1, 0, 0, 15, 50), (2, 0, 1, 10, 20)])
    cp = critical_path(t)
    assert cp.tasks == (1,)
    assert cp.cycles == 35


def test_critical_path_prefers_longer_predecessor_chain():
    # Two chains end at 30 before task 9: a (0..30) and b->c (0..5, 5..30); both 30 long,
    # then 9 runs 30..40. Any choice gives 40 cycles; the longer chain (more tasks) is not
    # required, but the length must be the maximum.
    t = trace([(5, 0, 0, 0, 30), (6, 0, 1, 0, 5), (7, 0, 1, 5, 30), (9, 0, 0, 30, 40)])
    cp = critical_path(t)
    assert cp.cycles == 40
    assert cp.tasks[-1] == 9


def test_empty_trace():
    a = analyse_trace(trace([]))
    assert (a.task_count, a.makespan, a.kernels, a.workers) == (0, 0, (), ())
    assert a.critical_path.cycles == 0 and a.critical_path.tasks == ()
    assert a.mean_utilisation == 0.0


def test_analysis_to_dict_is_json_ready():
    import json

    a = analyse_trace(SAMPLE, ["load", "mma"])
    d = json.loads(json.dumps(a.to_dict()))
    assert d["task_count"] == 5 and d["makespan"] == 40
    assert d["critical_path"] == {"cycles": 40, "task_count": 3, "tasks": [0, 1, 3]}
    assert d["kernels"][0]["name"] == "load" and d["kernels"][0]["mean_cycles"] == 38 / 3
    assert d["mean_utilisation"] == pytest.approx((25 / 40 + 38 / 40) / 2)


def test_rejects_array_without_trace_fields():
    with pytest.raises(ValueError, match="start, end"):
        analyse_trace(np.zeros(3, dtype=[("task", "<u4"), ("kernel", "<i4"), ("worker", "<i4")]))


def test_program_stats_dict_from_mapping_and_object():
    from pto_wsp.runtime.program import ProgramStats

    obj = ProgramStats(
        compile_time_ms=1.5, execute_time_ms=2.0, task_count=3, total_cycles=40, num_workers=4
    )
    data = {
        "compile_time_ms": 1.5,
        "execute_time_ms": 2,
        "task_count": 3,
        "total_cycles": 40,
        "num_workers": 4,
    }
    assert (
        program_stats_dict(obj)
        == program_stats_dict(data)
        == {
            "compile_time_ms": 1.5,
            "execute_time_ms": 2.0,
            "task_count": 3,
            "total_cycles": 40,
            "num_workers": 4,
        }
    )
    assert num_workers_of(obj) == num_workers_of(data) == 4
    # A stats file from before the worker count was recorded (or a failed run): unknown.
    assert num_workers_of({"task_count": 3}) is None
