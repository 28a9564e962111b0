"""What changed between two runs (pto_wsp.runtime.run_diff): per lane and per kernel, against
hand-computed answers and against numpy over the traces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pto_wsp.runtime.lanes import build_lanes
from pto_wsp.runtime.run_diff import diff_kernels, diff_runs, relative_change
from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_analysis import kernel_stats


def make_trace(rows: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Records from (kernel, worker, start, end)."""
    tr = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for n, (k, w, a, b) in enumerate(rows):
        tr[n] = (n, k, w, -1, a, b, n, -1, -1, -1, 0, 0)
    return tr


# A: kernel 0 ("load") 3 tasks of 10, 20, 30 cycles; kernel 1 ("mm") 1 task of 40.
A = make_trace([(0, 0, 0, 10), (0, 1, 0, 20), (0, 0, 10, 40), (1, 1, 20, 60)])
# B: kernel ids swapped ("mm" is id 0 here), load 2 tasks of 15 and 25; mm 2 of 30; "relu" new.
B = make_trace([(1, 0, 0, 15), (1, 1, 0, 25), (0, 0, 15, 45), (0, 1, 25, 55), (2, 0, 45, 50)])
NAMES_A = ["load", "mm"]
NAMES_B = ["mm", "load", "relu"]


def test_kernel_diff_by_hand() -> None:
    diffs = diff_kernels(kernel_stats(A, NAMES_A), kernel_stats(B, NAMES_B))
    assert [d.name for d in diffs] == ["load", "mm", "relu"]  # A's order, then B's new ones
    load, mm, relu = diffs
    assert (load.count_a, load.count_b, load.total_a, load.total_b) == (3, 2, 60, 40)
    assert (load.mean_a, load.mean_b, load.delta_mean) == (20.0, 20.0, 0.0)
    assert (load.delta_count, load.delta_total) == (-1, -20)
    assert load.delta_total_pct == pytest.approx(-100 / 3)
    assert (mm.count_a, mm.count_b, mm.total_a, mm.total_b) == (1, 2, 40, 60)
    assert (mm.mean_a, mm.mean_b, mm.delta_mean) == (40.0, 30.0, -10.0)
    assert mm.delta_mean_pct == pytest.approx(-25.0)
    assert (relu.count_a, relu.count_b, relu.total_a, relu.total_b) == (0, 1, 0, 5)
    assert relu.mean_a == 0.0 and relu.mean_b == 5.0
    assert math.isnan(relu.delta_total_pct)  # new in B: no relative change


def test_kernel_diff_matches_numpy_over_the_traces() -> None:
    rng = np.random.default_rng(3)

    def random_trace(n: int) -> np.ndarray:
        tr = np.zeros(n, dtype=TRACE_DTYPE)
        tr["kernel"] = rng.integers(0, 4, n)
        tr["start"] = rng.integers(0, 1000, n)
        tr["end"] = tr["start"] + rng.integers(1, 50, n)
        return tr

    ta, tb = random_trace(500), random_trace(700)
    names = ["a", "b", "c", "d"]
    for d in diff_kernels(kernel_stats(ta, names), kernel_stats(tb, names)):
        k = names.index(d.name)
        for tr, count, total, mean in ((ta, d.count_a, d.total_a, d.mean_a),
                                       (tb, d.count_b, d.total_b, d.mean_b)):  # fmt: skip
            dur = (tr["end"] - tr["start"])[tr["kernel"] == k]
            assert (count, total) == (len(dur), int(dur.sum()))
            assert mean == pytest.approx(float(dur.mean()))


def test_kernels_sharing_a_name_are_added_up() -> None:
    tr = make_trace([(0, 0, 0, 10), (1, 0, 10, 14)])
    (d,) = diff_kernels(kernel_stats(tr, ["k", "k"]), ())
    assert (d.name, d.count_a, d.total_a, d.count_b) == ("k", 2, 14, 0)


def test_lane_diff_carries_utilisation() -> None:
    # A: makespan 60, worker 0 busy 40, worker 1 busy 60.  B: makespan 55 (load/mm/relu above).
    d = diff_runs(build_lanes(A), build_lanes(B, num_workers=3))
    by = {lane.label: lane for lane in d.lanes}
    assert (by["worker 0"].busy_a, by["worker 0"].busy_b) == (40, 50)
    assert by["worker 0"].util_a == pytest.approx(40 / 60)
    assert by["worker 0"].util_b == pytest.approx(50 / 55)
    assert by["worker 0"].delta_pct == pytest.approx(25.0)
    assert by["worker 1"].util_a == pytest.approx(1.0)
    assert (by["worker 2"].busy_a, by["worker 2"].util_a, by["worker 2"].util_b) == (0, 0.0, 0.0)
    assert by["worker 2"].delta_pct == 0.0  # idle in both
    assert d.delta_pct == pytest.approx(100.0 * (55 - 60) / 60)


def test_relative_change() -> None:
    assert relative_change(50, 75) == 50.0
    assert relative_change(0, 0) == 0.0
    assert math.isnan(relative_change(0, 3))
