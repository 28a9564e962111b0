"""The timeline's drawing numerics (app.views.lod, app.views.slices): level-of-detail binning,
kernel colours and a slice's hover text. Qt-free, so tested on plain numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.views.lod import DENSE_SLICES_PER_PX, lod_columns, lod_rects
from app.views.slices import kernel_palette, slice_text
from pto_wsp.runtime.trace import TRACE_DTYPE


def make_trace(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """Records from (kernel, worker, stream, start, end); task ids in order, idx0 = task."""
    tr = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for n, (k, w, s, a, b) in enumerate(rows):
        tr[n] = (n, k, w, s, a, b, n, -1, -1, -1, 0, 0)
    return tr


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


# ---- palette and text -----------------------------------------------------------------------


def test_palette_is_stable_and_distinct() -> None:
    p1 = kernel_palette(["a", "b", "c"])
    p2 = kernel_palette(["a", "b", "c", "a"])
    assert p1 == p2
    assert len(set(p1.values())) == 3
    many = kernel_palette([f"k{i}" for i in range(40)])
    assert len(set(many.values())) == 40


def test_slice_text() -> None:
    tr = make_trace([(1, 2, -1, 10, 25), (0, 0, 3, 0, 5)])
    tr["idx1"][0] = 7
    text = slice_text(tr[0], ["copy", "gemm"])
    assert text.splitlines() == ["gemm[0, 7]", "task 0  worker 2", "start 10  end 25  cycles 15"]
    assert "stream 3" in slice_text(tr[1], ["copy"])
    assert "kernel 1" in slice_text(tr[0], [])
