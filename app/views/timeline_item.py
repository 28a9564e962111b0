"""The timeline's slices as one pyqtgraph ``GraphicsObject`` with level of detail.

Why not ``BarGraphItem``: one per colour draws fast, but pyqtgraph hit-tests its bars one by one
and a hover over 10^6 bars costs seconds (DESIGN §4). This item keeps the slices as per-lane numpy
arrays (``pto_wsp.runtime.lanes.Lane``) and, in ``paint()``, draws per lane only what is visible at the
current zoom: a ``searchsorted`` picks the visible index range, ``lod_rects`` merges sub-pixel
slices into at most a couple of rects per pixel column, and one ``drawRects`` per kernel colour
sends them to Qt through a reusable native ``QRectF`` array.

Coordinates: x is cycles, lane ``i`` spans y in ``[i, i + 1)`` with the slice drawn in the middle
``LANE_FILL`` of it; with a ``LaneLayout`` (``set_layout``: collapsed lanes thin, pinned lanes
first and stuck to the top of the view, ``app.views.lane_layout``) lane ``i`` spans its top and
height there instead, and lanes scrolled under the pinned band are not drawn. ``paint()`` works in device pixels (it reads the painter's transform and
device size), so it is exact whether the item is in a view or painted into a ``QImage``.

pyqtgraph's rules for custom items (STYLE.md): ``boundingRect()`` covers everything drawn,
``dataBounds()`` reports the data extent separately (for auto-range), and a data change runs
``prepareGeometryChange(); update(); informViewBoundsChanged()`` in that order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from pyqtgraph.Qt.internals import PrimitiveArray

from pto_wsp.runtime.lanes import LaneSet

from .lane_layout import LaneLayout, lane_geometry
from .lod import lod_columns, lod_rects, outline_rects
from .painter_view import device_view, lane_pixels

__all__ = ["TimelineItem", "LANE_FILL"]

LANE_FILL = 0.8  # fraction of a lane's height a slice fills; the rest separates lanes
_HIGHLIGHT_RGB = (255, 215, 0)
_PIN_EDGE_RGB = (170, 170, 170)  # the line under the pinned lanes
_WAIT_RGB = (150, 150, 150)  # CSP wait intervals: grey, hatched, under the task slices


class TimelineItem(pg.GraphicsObject):
    """Draws the lanes of one run; holds no Qt state per slice."""

    def __init__(self) -> None:
        super().__init__()
        self._lanes: LaneSet | None = None
        self._layout: LaneLayout | None = None
        self._brushes: dict[int, QtGui.QBrush] = {}
        self._fallback = QtGui.QBrush(QtGui.QColor(128, 128, 128))
        # per lane: (starts, ends, running max end) of the slices to outline, or None
        self._highlight: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
        self._highlight_pen = pg.mkPen(_HIGHLIGHT_RGB, width=2)
        self._pin_edge_pen = pg.mkPen(_PIN_EDGE_RGB, width=1)
        self._rects = PrimitiveArray(QtCore.QRectF, 4)
        self._wait_fill = QtGui.QBrush(QtGui.QColor(*_WAIT_RGB, 60))
        self._wait_hatch = QtGui.QBrush(QtGui.QColor(*_WAIT_RGB), QtCore.Qt.BrushStyle.BDiagPattern)
        self.last_rect_count = 0  # rects sent to Qt by the last paint (for the benchmark)
        self.last_wait_count = 0  # wait intervals drawn by the last paint

    # ---- data ------------------------------------------------------------------------------

    def set_lanes(
        self, lanes: LaneSet | None, colors: Mapping[int, tuple[int, int, int]] | None = None
    ) -> None:
        """Replaces the slices (``None`` clears) and the kernel-id -> RGB colours."""
        self.prepareGeometryChange()
        self._lanes = lanes
        self._brushes = {
            int(k): QtGui.QBrush(QtGui.QColor(*rgb)) for k, rgb in (colors or {}).items()
        }
        self._highlight = []
        self._layout = None
        self.update()
        self.informViewBoundsChanged()

    def set_layout(self, layout: LaneLayout | None) -> None:
        """Per-lane tops and heights (None: lane ``i`` at ``[i, i + 1)``)."""
        self.prepareGeometryChange()
        self._layout = layout
        self.update()
        self.informViewBoundsChanged()

    @property
    def layout(self) -> LaneLayout | None:
        return self._layout

    def set_highlight(self, mask: np.ndarray | None) -> None:
        """Outlines the slices whose trace rows are True in ``mask`` (``None`` clears)."""
        lanes = self._lanes
        if lanes is None or mask is None or not mask.any():
            self._highlight = []
        else:
            self._highlight = []
            for lane in lanes.lanes:
                sel = np.flatnonzero(mask[lane.rows])
                self._highlight.append(
                    (lane.starts[sel], lane.ends[sel], np.maximum.accumulate(lane.ends[sel]))
                    if len(sel)
                    else None
                )
        self.update()

    @property
    def lanes(self) -> LaneSet | None:
        return self._lanes

    @property
    def slice_count(self) -> int:
        """The number of slices held (every record of the trace, whatever is visible)."""
        return 0 if self._lanes is None else sum(len(lane) for lane in self._lanes.lanes)

    def slice_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every held slice as (trace rows, starts, ends), lane after lane."""
        if self._lanes is None or not self._lanes.lanes:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        ls = self._lanes.lanes
        return (
            np.concatenate([lane.rows for lane in ls]),
            np.concatenate([lane.starts for lane in ls]),
            np.concatenate([lane.ends for lane in ls]),
        )

    # ---- pyqtgraph item protocol -----------------------------------------------------------

    def _extent(self) -> tuple[float, float]:
        lanes = self._lanes
        if lanes is None:
            return 1.0, 1.0
        height = self._layout.total if self._layout is not None else len(lanes.lanes)
        return float(max(lanes.makespan, 1)), float(max(height, 1.0))

    def boundingRect(self) -> QtCore.QRectF:
        # Highlight outlines are 2 px wide pens drawn inside the lane band and binned merged
        # rects never leave [0, makespan] by more than a pixel; a one-lane margin vertically and
        # 1% horizontally covers both at any zoom the view allows.
        w, h = self._extent()
        return QtCore.QRectF(-0.01 * w, -0.5, 1.02 * w, h + 1.0)

    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None
    ) -> tuple[float, float] | tuple[None, None]:
        if self._lanes is None:
            return (None, None)
        w, h = self._extent()
        return (0.0, w) if ax == 0 else (0.0, h)

    # ---- painting --------------------------------------------------------------------------

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionGraphicsItem | None = None,
        widget: QtWidgets.QWidget | None = None,
    ) -> None:
        lanes = self._lanes
        self.last_rect_count = 0
        self.last_wait_count = 0
        if lanes is None or not lanes.lanes:
            return
        view = device_view(painter)
        if view is None:
            return
        sx, sy, dy = view.sx, view.sy, view.dy
        width_px, height_px = view.width_px, view.height_px
        x0, x1 = view.x0, view.x1  # the visible cycle range, from the device's edges
        # A lane with more visible slices than this is rasterised as one row of pixel columns
        # (an image strip) instead of rects: Qt's per-rect cost, not numpy, bounds the frame.
        dense = max(32, width_px // 8)
        pad = (1.0 - LANE_FILL) / 2.0
        n = len(lanes.lanes)
        layout = self._layout
        tops, heights, hidden = lane_geometry(layout, n, sy, dy, height_px)
        by_kernel: dict[int, list[np.ndarray]] = {}
        waits: list[np.ndarray] = []
        outline: list[np.ndarray] = []
        strips: list[tuple[int, int, int, np.ndarray, np.ndarray | None]] = []
        for i, lane in enumerate(lanes.lanes):
            if hidden[i]:
                continue
            top, bottom = lane_pixels(view, float(tops[i]), float(heights[i]), pad)
            bottom = max(bottom, top + 1)
            if bottom < 0 or top > height_px:
                continue
            if len(lane.wait_starts):  # few per lane (one per blocking action): no LOD needed
                w = (lane.wait_ends >= x0) & (lane.wait_starts <= x1)
                if w.any():
                    left = np.maximum((lane.wait_starts[w] - x0) * sx, -1.0)
                    right = np.minimum((lane.wait_ends[w] - x0) * sx, width_px + 1.0)
                    waits.append(_xywh(left, np.maximum(right, left + 1.0), top, bottom - top))
            i0, i1 = lane.visible(x0, x1)
            if i0 >= i1:
                continue
            hl = self._highlight[i] if self._highlight else None
            if i1 - i0 > dense:
                column = lod_columns(
                    lane.starts[i0:i1], lane.max_end[i0:i1], lane.kernels[i0:i1], x0, sx, width_px
                )
                marks = None
                if hl is not None:
                    hs, he, hm = hl
                    marks = lod_columns(hs, hm, np.zeros(len(hs), np.int64), x0, sx, width_px)
                strips.append((i, top, bottom, column, marks))
                continue
            r = lod_rects(
                lane.starts[i0:i1],
                lane.ends[i0:i1],
                lane.kernels[i0:i1],
                x0,
                sx,
                width_px,
                max_end=lane.max_end[i0:i1],
            )
            # Slices 3 px or wider end a pixel early, so back-to-back slices of one kernel
            # stay apart (the gap is the boundary a user reads when counting tasks).
            right = np.where(r.right - r.left >= 3.0, r.right - 1.0, r.right)
            self._collect(by_kernel, r.left, right, r.kernel, top, bottom - top)
            if hl is not None:
                hs, he, hm = hl
                hr = outline_rects(hs, he, hm, x0, x1, sx, width_px)
                if hr is not None:
                    outline.append(_xywh(hr.left, hr.right, top, bottom - top))
        painter.save()
        painter.resetTransform()  # draw in device pixels: exact pixel columns, no huge scales
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        count = 0
        if waits:
            rects = np.concatenate(waits)
            for brush in (self._wait_fill, self._wait_hatch):
                painter.setBrush(brush)
                self._draw(painter, rects)
            self.last_wait_count = len(rects)
        if strips:
            count += self._draw_strips(painter, strips, width_px)
        for k, parts in by_kernel.items():
            painter.setBrush(self._brushes.get(k, self._fallback))
            count += self._draw(painter, np.concatenate(parts))
        if outline:
            painter.setPen(self._highlight_pen)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            count += self._draw(painter, np.concatenate(outline))
        if layout is not None and len(layout.tops) == n and layout.pinned.any():
            # the edge of the pinned band: lanes scroll under it
            view_top = min(-dy / sy, (height_px - dy) / sy)
            edge = round(sy * (max(view_top, 0.0) + layout.pinned_height) + dy)
            painter.setPen(self._pin_edge_pen)
            painter.drawLine(0, edge, width_px, edge)
        painter.restore()
        self.last_rect_count = count

    def _lut(self, max_kernel: int) -> np.ndarray:
        """ARGB32 colour per ``kernel id + 1`` (index 0: transparent, for uncovered columns)."""
        lut = np.full(max_kernel + 2, self._fallback.color().rgba(), dtype=np.uint32)
        lut[0] = 0
        for k, brush in self._brushes.items():
            if 0 <= k <= max_kernel:
                lut[k + 1] = brush.color().rgba()
        return lut

    def _draw_strips(
        self,
        painter: QtGui.QPainter,
        strips: list[tuple[int, int, int, np.ndarray, np.ndarray | None]],
        width_px: int,
    ) -> int:
        """Draws rasterised lanes: one image row per lane, stretched to the lane's band.

        Highlighted columns get a band of the highlight colour along the top and bottom edge
        of the lane (the outline of a run of sub-pixel slices).
        """
        max_k = max(int(c.max()) for _, _, _, c, _ in strips)
        lut = self._lut(max(max_k, 0))
        hl_rgba = QtGui.QColor(*_HIGHLIGHT_RGB).rgba()
        rows = np.zeros((2 * len(strips), width_px), dtype=np.uint32)
        for n, (_, _, _, column, marks) in enumerate(strips):
            rows[2 * n] = lut[np.maximum(column, -1) + 1]
            if marks is not None:
                rows[2 * n + 1] = np.where(marks >= 0, np.uint32(hl_rgba), np.uint32(0))
        image = QtGui.QImage(
            rows.data, width_px, rows.shape[0], width_px * 4, QtGui.QImage.Format.Format_ARGB32
        )
        for n, (_, top, bottom, _, marks) in enumerate(strips):
            src = QtCore.QRectF(0, 2 * n, width_px, 1)
            painter.drawImage(QtCore.QRectF(0, top, width_px, bottom - top), image, src)
            if marks is not None:
                band = min(2, max(1, (bottom - top) // 4))
                hsrc = QtCore.QRectF(0, 2 * n + 1, width_px, 1)
                painter.drawImage(QtCore.QRectF(0, top, width_px, band), image, hsrc)
                painter.drawImage(QtCore.QRectF(0, bottom - band, width_px, band), image, hsrc)
        del image  # the QImage borrows ``rows``; drop it before the buffer goes
        return len(strips)

    @staticmethod
    def _collect(
        by_kernel: dict[int, list[np.ndarray]],
        left: np.ndarray,
        right: np.ndarray,
        kernel: np.ndarray,
        top: float,
        height: float,
    ) -> None:
        if not len(left):
            return
        xywh = _xywh(left, right, top, height)
        order = np.argsort(kernel, kind="stable")
        ks = kernel[order]
        cuts = np.flatnonzero(np.diff(ks)) + 1
        for a, b in zip(
            np.concatenate(([0], cuts)), np.concatenate((cuts, [len(ks)])), strict=True
        ):
            by_kernel.setdefault(int(ks[a]), []).append(xywh[order[a:b]])

    def _draw(self, painter: QtGui.QPainter, xywh: np.ndarray) -> int:
        n = len(xywh)
        if n == 0:
            return 0
        self._rects.resize(n)
        self._rects.ndarray()[:] = xywh
        painter.drawRects(*self._rects.drawargs())
        return n


def _xywh(left: np.ndarray, right: np.ndarray, top: float, height: float) -> np.ndarray:
    out = np.empty((len(left), 4), dtype=np.float64)
    out[:, 0] = left
    out[:, 1] = top
    out[:, 2] = right - left
    out[:, 3] = height
    return out
