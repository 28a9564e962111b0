"""The timeline's slices as one pyqtgraph ``GraphicsObject`` with level of detail.

Why not ``BarGraphItem``: one per colour draws fast, but pyqtgraph hit-tests its bars one by one
and a hover over 10^6 bars costs seconds (DESIGN §4). This item keeps the slices as per-lane numpy
arrays (``trace_model.Lane``) and, in ``paint()``, draws per lane only what is visible at the
current zoom: a ``searchsorted`` picks the visible index range, ``lod_rects`` merges sub-pixel
slices into at most a couple of rects per pixel column, and one ``drawRects`` per kernel colour
sends them to Qt through a reusable native ``QRectF`` array.

Coordinates: x is cycles, lane ``i`` spans y in ``[i, i + 1)`` with the slice drawn in the middle
``LANE_FILL`` of it. ``paint()`` works in device pixels (it reads the painter's transform and
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

from app.views.trace_model import LaneSet, lod_rects

__all__ = ["TimelineItem", "LANE_FILL"]

LANE_FILL = 0.8  # fraction of a lane's height a slice fills; the rest separates lanes
_HIGHLIGHT_RGB = (255, 215, 0)


class TimelineItem(pg.GraphicsObject):
    """Draws the lanes of one run; holds no Qt state per slice."""

    def __init__(self) -> None:
        super().__init__()
        self._lanes: LaneSet | None = None
        self._brushes: dict[int, QtGui.QBrush] = {}
        self._fallback = QtGui.QBrush(QtGui.QColor(128, 128, 128))
        self._highlight: list[np.ndarray] = []  # per lane: lane indices to outline
        self._highlight_pen = pg.mkPen(_HIGHLIGHT_RGB, width=2)
        self._rects = PrimitiveArray(QtCore.QRectF, 4)
        self.last_rect_count = 0  # rects sent to Qt by the last paint (for the benchmark)

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
        self.update()
        self.informViewBoundsChanged()

    def set_highlight(self, mask: np.ndarray | None) -> None:
        """Outlines the slices whose trace rows are True in ``mask`` (``None`` clears)."""
        lanes = self._lanes
        if lanes is None or mask is None or not mask.any():
            self._highlight = []
        else:
            self._highlight = [np.flatnonzero(mask[lane.rows]) for lane in lanes.lanes]
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
        return float(max(lanes.makespan, 1)), float(max(len(lanes.lanes), 1))

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
        if lanes is None or not lanes.lanes:
            self.last_rect_count = 0
            return
        t = painter.transform()
        sx, dx, sy, dy = t.m11(), t.dx(), t.m22(), t.dy()
        if sx <= 0 or sy == 0:
            return
        device = painter.device()
        width_px, height_px = device.width(), device.height()
        # The visible cycle range, from the device's left/right edges.
        x0 = (0.0 - dx) / sx
        x1 = (width_px - dx) / sx
        painter.save()
        painter.resetTransform()  # draw in device pixels: exact pixel columns, no huge scales
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        pad = (1.0 - LANE_FILL) / 2.0
        by_kernel: dict[int, list[np.ndarray]] = {}
        hl_rects: list[np.ndarray] = []
        for i, lane in enumerate(lanes.lanes):
            ya, yb = sy * (i + pad) + dy, sy * (i + 1 - pad) + dy
            top, bottom = min(ya, yb), max(ya, yb)
            if bottom < 0 or top > height_px:
                continue
            i0, i1 = lane.visible(x0, x1)
            if i0 >= i1:
                continue
            r = lod_rects(
                lane.starts[i0:i1], lane.ends[i0:i1], lane.kernels[i0:i1], x0, sx, width_px
            )
            self._collect(by_kernel, r.left, r.right, r.kernel, top, bottom - top)
            if self._highlight and len(self._highlight[i]):
                h = self._highlight[i]
                h = h[(h >= i0) & (h < i1)]
                if len(h):
                    hr = lod_rects(
                        lane.starts[h], lane.ends[h], np.zeros(len(h), np.int64), x0, sx, width_px
                    )
                    hl_rects.append(_xywh(hr.left, hr.right, top, bottom - top))
        count = 0
        for k, parts in by_kernel.items():
            painter.setBrush(self._brushes.get(k, self._fallback))
            count += self._draw(painter, np.concatenate(parts))
        if hl_rects:
            painter.setPen(self._highlight_pen)
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            count += self._draw(painter, np.concatenate(hl_rects))
        painter.restore()
        self.last_rect_count = count

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
