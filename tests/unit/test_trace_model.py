"""The timeline's Qt-free numerics: lanes, utilisation, level-of-detail binning, critical path, diff."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.views.trace_model import (
    DENSE_SLICES_PER_PX,
    build_lanes,
    busy_cycles,
    critical_path,
    diff_runs,
    kernel_palette,
    lod_columns,
    lod_rects,
    slice_text,
    task_mask,
    validate_trace,
)
from pto_wsp.errors import PtoError
from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_analysis import analyse_trace


def make_trace(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """Records from (kernel, worker, stream, start, end); task ids in order, idx0 = task."""
    tr = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for n, (k, w, s, a, b) in enumerate(rows):
        tr[n] = (n, k, w, s, a, b, n, -1, -1, -1)
    return tr


# ---- lanes and utilisation -----------------------------------------------------------------------


def test_lanes_one_per_worker_sorted_by_start() -> None:
    tr = make_trace([(0, 1, -1, 50, 70), (1, 0, -1, 0, 40), (0, 1, -1, 0, 30), (1, 0, -1, 40, 100)])
    lanes = build_lanes(tr, "workers")
    assert [lane.label for lane in lanes.lanes] == ["worker 0", "worker 1"]
    w0, w1 = lanes.lanes
    assert w0.rows.tolist() == [1, 3] and w0.starts.tolist() == [0, 40]
    assert w1.rows.tolist() == [2, 0] and w1.ends.tolist() == [30, 70]
    assert lanes.makespan == 100 and lanes.slice_count == 4
    assert w0.busy == 100 and w1.busy == 50
    assert lanes.utilisation(w0) == pytest.approx(1.0)
    assert lanes.utilisation(w1) == pytest.approx(0.5)


def test_stream_lanes_union_overlapping_slices() -> None:
    # Stream 0 is served by two workers: [0,60) and [20,50) overlap, [80,100) does not.
    tr = make_trace([(0, 0, 0, 0, 60), (0, 1, 0, 20, 50), (1, 0, 0, 80, 100), (1, 1, 1, 0, 10)])
    lanes = build_lanes(tr, "streams")
    s0, s1 = lanes.lanes
    assert (s0.label, s1.label) == ("stream 0", "stream 1")
    assert s0.busy == 80  # union: 60 + 20, not 60 + 30 + 20
    assert s1.busy == 10
    assert lanes.utilisation(s0) == pytest.approx(0.8)
    # The short slice inside the long one is found at its own cycles (latest start wins) ...
    assert s0.rows[s0.hit(30)] == 1
    # ... and the long one where only it covers.
    assert s0.rows[s0.hit(55)] == 0
    assert s0.hit(70) is None
    assert s0.rows[s0.hit(70, tolerance=15)] == 0  # nearest edge within the tolerance


def test_streams_mode_needs_streams_and_modes_are_checked() -> None:
    tr = make_trace([(0, 0, -1, 0, 10)])
    with pytest.raises(PtoError, match="streams"):
        build_lanes(tr, "streams")
    with pytest.raises(PtoError, match="lane mode 'cores'"):
        build_lanes(tr, "cores")


def test_validate_trace_names_missing_fields_and_bad_records() -> None:
    with pytest.raises(PtoError, match=r"lacks the field\(s\) \['stream'"):
        validate_trace(np.zeros(2, dtype=[("task", "u4"), ("kernel", "i4"), ("worker", "i4")]))
    tr = make_trace([(0, 0, -1, 10, 5)])
    with pytest.raises(PtoError, match="record 0 .* ends before it starts"):
        validate_trace(tr)


def test_busy_cycles_is_an_interval_union() -> None:
    assert busy_cycles(np.array([0, 5, 20]), np.array([10, 8, 25])) == 15
    assert busy_cycles(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == 0


def test_visible_range_uses_running_max_end() -> None:
    tr = make_trace([(0, 0, 0, 0, 1000), (0, 1, 0, 10, 20), (0, 2, 0, 30, 40)])
    lane = build_lanes(tr, "streams").lanes[0]
    i0, i1 = lane.visible(500, 600)  # only the long first slice reaches here
    assert (i0, i1) == (0, 3)
    i0, i1 = lane.visible(2000, 3000)
    assert i0 == i1


def test_empty_trace() -> None:
    lanes = build_lanes(np.zeros(0, dtype=TRACE_DTYPE))
    assert lanes.lanes == () and lanes.makespan == 0
    assert critical_path(np.zeros(0, dtype=TRACE_DTYPE)).length == 0


# ---- level of detail -----------------------------------------------------------------------------


def slice_columns(starts, ends, x0, px, width):
    """The pixel columns each slice touches (clipped to the viewport), as a reference."""
    out = []
    for s, e in zip(starts, ends, strict=True):
        a = math.floor((s - x0) * px)
        b = max(math.ceil((e - x0) * px) - 1, a)
        a, b = max(a, 0), min(b, width - 1)
        if a <= b:
            out.append(range(a, b + 1))
    return out


def covered_columns(rects, width) -> np.ndarray:
    cov = np.zeros(width, dtype=bool)
    for left, right in zip(rects.left, rects.right, strict=True):
        a, b = max(math.floor(left), 0), min(math.ceil(right), width)
        cov[a:b] = True
    return cov


@pytest.mark.parametrize("count", [50, 3000, 100_000])
def test_lod_keeps_every_slice_column_covered(count: int) -> None:
    rng = np.random.default_rng(count)
    dur = rng.integers(1, 300, count)
    gap = rng.integers(0, 100, count)
    ends = np.cumsum(dur + gap)
    starts = ends - dur
    kernels = rng.integers(0, 3, count)
    width = 400
    x0 = float(starts[count // 10])
    px = width / float(ends[-1] - x0) * 0.8
    rects = lod_rects(starts, ends, kernels, x0, px, width)
    cov = covered_columns(rects, width)
    for cols in slice_columns(starts, ends, x0, px, width):
        assert cov[cols.start : cols.stop].all()
    # Bounded output: about two rects per pixel column at most, however many slices.
    assert len(rects) <= 2 * width + 4
    if count > DENSE_SLICES_PER_PX * width:
        assert len(rects) <= width  # the dense regime merges per column


def test_lod_wide_slices_are_drawn_exactly() -> None:
    starts, ends = np.array([0, 100, 105]), np.array([100, 105, 300])
    rects = lod_rects(starts, ends, np.array([0, 1, 2]), 0.0, 1.0, 400)
    assert sorted(
        zip(rects.left.tolist(), rects.right.tolist(), rects.kernel.tolist(), strict=True)
    ) == [
        (0.0, 100.0, 0),
        (100.0, 105.0, 1),
        (105.0, 300.0, 2),
    ]


def test_lod_narrow_slices_merge_into_columns() -> None:
    # 1000 slices of 1 cycle, back to back, at 0.01 px per cycle: 10 columns, kernel 5.
    starts = np.arange(1000)
    rects = lod_rects(starts, starts + 1, np.full(1000, 5), 0.0, 0.01, 100)
    assert len(rects) == 1
    assert (rects.left[0], rects.right[0], rects.kernel[0]) == (0.0, 10.0, 5)


def test_lod_columns_leave_gaps_empty() -> None:
    starts = np.array([0, 500])
    ends = np.array([100, 600])
    col = lod_columns(starts, np.maximum.accumulate(ends), np.array([1, 2]), 0.0, 0.1, 60)
    assert (col[0:10] == 1).all()
    assert (col[10:50] == -1).all()
    assert (col[50:60] == 2).all()


# ---- critical path -------------------------------------------------------------------------------


def test_critical_path_on_a_hand_made_trace() -> None:
    # A(w0 0-10) -> B(w1 10-30) -> D(w0 30-40): C(w2 0-5) and E(w1 0-8) are off the path.
    tr = make_trace(
        [
            (0, 0, -1, 0, 10),  # A
            (1, 1, -1, 10, 30),  # B
            (2, 2, -1, 0, 5),  # C
            (0, 0, -1, 30, 40),  # D
            (2, 1, -1, 0, 8),  # E
        ]
    )
    cp = critical_path(tr)
    assert cp.rows.tolist() == [0, 1, 3]
    assert cp.length == 40


def test_critical_path_is_the_longest_back_to_back_chain_as_the_stats_report_it() -> None:
    tr = make_trace(
        [
            (0, 0, -1, 0, 10),  # another worker's slice ends at 10 too, and is longer
            (0, 1, -1, 5, 10),
            (0, 1, -1, 10, 20),  # last: the longer chain into it wins, whatever the lane
            (0, 2, -1, 0, 3),
        ]
    )
    cp = critical_path(tr)
    assert cp.rows.tolist() == [0, 2]
    assert cp.length == 20
    stats = analyse_trace(tr).critical_path  # the Stats dock's numbers: the same chain
    assert (stats.cycles, list(stats.tasks)) == (20, [0, 2])
    # Record order is not task order (ready policies append in start order): rows still map.
    shuffled = tr[[2, 0, 3, 1]]
    assert shuffled[critical_path(shuffled).rows]["task"].tolist() == [0, 2]


# ---- diff, palette, text, selection --------------------------------------------------------------


def test_diff_of_two_runs() -> None:
    a = build_lanes(make_trace([(0, 0, -1, 0, 100), (0, 1, -1, 0, 60)]))
    b = build_lanes(make_trace([(0, 0, -1, 0, 80), (0, 2, -1, 0, 20)]))
    d = diff_runs(a, b)
    assert (d.total_a, d.total_b, d.delta) == (100, 80, -20)
    assert d.delta_pct == pytest.approx(-20.0)
    by = {lane.label: (lane.busy_a, lane.busy_b, lane.delta) for lane in d.lanes}
    assert by == {
        "worker 0": (100, 80, -20),
        "worker 1": (60, 0, -60),
        "worker 2": (0, 20, 20),
    }
    assert [lane.label for lane in d.lanes] == ["worker 0", "worker 1", "worker 2"]


def test_palette_is_stable_and_distinct() -> None:
    p1 = kernel_palette(["a", "b", "c"])
    p2 = kernel_palette(["a", "b", "c", "a"])
    assert p1 == p2
    assert len(set(p1.values())) == 3
    many = kernel_palette([f"k{i}" for i in range(40)])
    assert len(set(many.values())) == 40


def test_slice_text_and_task_mask() -> None:
    tr = make_trace([(1, 2, -1, 10, 25), (0, 0, 3, 0, 5)])
    tr["idx1"][0] = 7
    text = slice_text(tr[0], ["copy", "gemm"])
    assert text.splitlines() == ["gemm[0, 7]", "task 0  worker 2", "start 10  end 25  cycles 15"]
    assert "stream 3" in slice_text(tr[1], ["copy"])
    assert "kernel 1" in slice_text(tr[0], [])
    assert task_mask(tr, [1]).tolist() == [False, True]
    assert task_mask(tr, np.array([True, False])).tolist() == [True, False]
    assert task_mask(tr, None).tolist() == [False, False]
    with pytest.raises(PtoError, match="one per record"):
        task_mask(tr, np.array([True]))
