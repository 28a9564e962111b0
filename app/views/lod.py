"""Level of detail for the timeline: which rectangles to draw for one lane at one zoom.

Qt-free numpy over one lane's arrays (``pto_wsp.runtime.lanes.Lane``), so it is unit tested
without a display. With 10^6 slices a Python loop over slices would cost seconds per frame; here
every step is a ``searchsorted`` or a vectorised pass, and the dense regime costs O(pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DENSE_SLICES_PER_PX", "LodRects", "lod_columns", "lod_rects", "outline_rects"]


@dataclass(frozen=True, eq=False)
class LodRects:
    """Rectangles to draw for one lane, in device pixels along x, coloured by kernel id."""

    left: np.ndarray
    right: np.ndarray
    kernel: np.ndarray

    def __len__(self) -> int:
        return len(self.left)


DENSE_SLICES_PER_PX = 4.0  # above this many visible slices per pixel column, bin by column


def lod_rects(
    starts: np.ndarray,
    ends: np.ndarray,
    kernels: np.ndarray,
    x0: float,
    px_per_cycle: float,
    width_px: int,
    min_px: float = 1.0,
    max_end: np.ndarray | None = None,
) -> LodRects:
    """Level of detail for one lane: what to draw of the given slices (sorted by start).

    Pixel x of cycle ``c`` is ``(c - x0) * px_per_cycle``; the viewport is ``width_px`` wide.
    Two regimes, both of which cover every pixel column that any slice touches:

    - sparse (at most ``DENSE_SLICES_PER_PX`` slices per column): slices at least ``min_px``
      wide are drawn as they are (clipped to the viewport); narrower ones mark the columns their
      start and end fall in (at most two), a column takes the kernel of the last slice that
      marked it, and runs of equally coloured columns merge into one rect. Cost O(slices).
    - dense: per pixel column, two ``searchsorted`` calls find whether any slice intersects it
      (starts before its right edge, running max of ends reaching its left edge); it takes the
      kernel of the last slice starting before its right edge. Cost O(width_px * log(slices)),
      independent of how many slices are visible: 10^6 slices cost what 10^4 do.

    ``max_end`` is the running maximum of ``ends`` (``Lane.max_end``); it is computed when not
    given.
    """
    n = len(starts)
    k = np.asarray(kernels, dtype=np.int64)
    if width_px <= 0 or n == 0:
        empty = np.zeros(0, dtype=np.float64)
        return LodRects(empty, empty, np.zeros(0, dtype=np.int64))
    if n > DENSE_SLICES_PER_PX * width_px:
        if max_end is None:
            max_end = np.maximum.accumulate(np.asarray(ends))
        column = lod_columns(np.asarray(starts), max_end, k, x0, px_per_cycle, width_px)
        return LodRects(*_runs(column))
    xs = (starts - x0) * px_per_cycle
    xe = (ends - x0) * px_per_cycle
    wide = (xe - xs) >= min_px
    lo, hi = -2.0, float(width_px) + 2.0  # clip: huge coordinates upset the raster engine
    wl = np.clip(xs[wide], lo, hi)
    wr = np.clip(xe[wide], lo, hi)
    wk = k[wide]
    narrow = ~wide
    if not narrow.any():
        return LodRects(wl, wr, wk)
    ns, ne, nk = xs[narrow], xe[narrow], k[narrow]
    cs = np.floor(ns)
    ce = np.maximum(np.ceil(ne) - 1.0, cs)  # an end on a column boundary does not enter it
    last = width_px - 1
    cs = np.clip(cs, 0, last).astype(np.int64)
    ce = np.clip(ce, 0, last).astype(np.int64)
    column = np.full(width_px, -1, dtype=np.int64)
    column[cs] = nk
    column[ce] = nk
    left, right, kern = _runs(column)
    return LodRects(
        np.concatenate((wl, left)), np.concatenate((wr, right)), np.concatenate((wk, kern))
    )


def lod_columns(
    starts: np.ndarray,
    max_end: np.ndarray,
    kernels: np.ndarray,
    x0: float,
    px_per_cycle: float,
    width_px: int,
) -> np.ndarray:
    """Per pixel column of the viewport, the kernel id drawn there (-1: no slice touches it).

    Column ``c`` spans cycles ``[x0 + c / px, x0 + (c + 1) / px)``. Two ``searchsorted`` calls
    per column find whether any slice intersects it (a start before its right edge, the running
    max of ends past its left edge); it takes the kernel of the last slice starting before
    its right edge. Cost O(width_px * log(slices)), independent of how many slices are visible.
    """
    edges = x0 + np.arange(width_px + 1, dtype=np.float64) / px_per_cycle
    # Integer queries keep numpy from casting the lane's int64 arrays to float. Column c is
    # touched by a slice that starts before its right edge R and either ends after its left
    # edge L or (zero cycles long) starts at or after L: start < R <=> start < ceil(R),
    # max_end > L <=> max_end >= floor(L) + 1, start >= L <=> start >= ceil(L).
    if np.issubdtype(starts.dtype, np.integer):
        up = np.ceil(edges).astype(np.int64)
        hi = np.searchsorted(starts, up[1:], side="left")
        lo = np.searchsorted(max_end, np.floor(edges[:-1]).astype(np.int64) + 1, side="left")
        first = np.searchsorted(starts, up[:-1], side="left")
    else:
        hi = np.searchsorted(starts, edges[1:], side="left")
        lo = np.searchsorted(max_end, edges[:-1], side="right")
        first = np.searchsorted(starts, edges[:-1], side="left")
    covered = (hi > lo) | (hi > first)
    column = np.full(width_px, -1, dtype=np.int64)
    column[covered] = np.asarray(kernels)[hi[covered] - 1]
    return column


def _runs(column: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal non-negative values in ``column`` as (left px, right px, value)."""
    edges = np.flatnonzero(np.diff(column)) + 1
    run_start = np.concatenate(([0], edges))
    run_end = np.concatenate((edges, [len(column)]))
    run_k = column[run_start]
    keep = run_k >= 0
    return (
        run_start[keep].astype(np.float64),
        run_end[keep].astype(np.float64),
        run_k[keep],
    )


def outline_rects(
    starts: np.ndarray,
    ends: np.ndarray,
    max_end: np.ndarray,
    x0: float,
    x1: float,
    px_per_cycle: float,
    width_px: int,
) -> LodRects | None:
    """The rects that outline the given slices of one lane (sorted by start, ``max_end`` their
    running maximum of ends) between cycles ``x0`` and ``x1``, at ``lod_rects``' level of
    detail; None when none is visible. The selection's outline and the marked sets' share it."""
    j0 = int(np.searchsorted(max_end, np.int64(np.ceil(x0)), side="left"))
    j1 = int(np.searchsorted(starts, np.int64(np.floor(x1)), side="right"))
    if j0 >= j1:
        return None
    return lod_rects(
        starts[j0:j1],
        ends[j0:j1],
        np.zeros(j1 - j0, np.int64),
        x0,
        px_per_cycle,
        width_px,
        max_end=max_end[j0:j1],
    )
