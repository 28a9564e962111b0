"""Arrows between timeline slices: the critical path's links and, later, flow arrows.

An arrow goes from the *end* of one slice (trace row ``src``) to the *start* of another (row
``dst``), each at the middle of its lane, with a head at ``dst``. Arrows come in named sets
(``set_arrows(name, src_rows, dst_rows, style)``), each with its own style and visibility, so the
critical path and the flows from each task's gating predecessor can be shown and hidden apart.

Rows are resolved to lanes through the timeline's current ``LaneSet``
(``pto_wsp.runtime.lanes``): a lane-mode change re-resolves every set, and an arrow whose slice
is on no shown lane is skipped. Everything is numpy: a set keeps its arrows as arrays sorted by
their left end with the running maximum of their right end, so a frame picks the arrows that
cross the visible cycles with two ``searchsorted`` (like ``Lane.visible``), computes shafts and
heads in device pixels for all of them at once, drops duplicates at pixel resolution (10^5
zoomed-out arrows collapse to what the screen can show) and sends them to Qt as one
``drawLines`` per set through a reusable native ``QLineF`` array. There is no Python loop over
arrows at paint time.

Arrows shorter than ``MIN_ARROW_PX`` on screen are not drawn: back-to-back slices on one lane
have nothing between them to draw (their outlines already touch). A style may cap how many
arrows of its set cross the view (``ArrowStyle.max_visible``): flow arrows, one per task, then
appear once zoomed in far enough, as Perfetto users expect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from pyqtgraph.Qt.internals import PrimitiveArray

from pto_wsp.errors import PtoError
from pto_wsp.runtime.lanes import LaneSet

from .lane_layout import lane_geometry
from .painter_view import device_view
from .timeline_layer import TimelineLayer

__all__ = ["ArrowStyle", "TimelineArrows", "CRITICAL_STYLE", "FLOW_STYLE", "MIN_ARROW_PX"]

MIN_ARROW_PX = 4.0
_HEAD_ANGLE = math.radians(28.0)


@dataclass(frozen=True)
class ArrowStyle:
    """How one set of arrows looks: colour, pen width and head length in device pixels.

    ``max_visible``: the set is drawn only while at most this many of its arrows cross the
    visible cycles (None: always). Flow arrows use it to appear once zoomed in far enough: a
    zoomed-out view of one arrow per task is a solid smear, and costs a frame for nothing.
    """

    rgb: tuple[int, int, int]
    width: float = 2.0
    head_px: float = 8.0
    max_visible: int | None = None


CRITICAL_STYLE = ArrowStyle((255, 64, 160), 2.0, 9.0)  # magenta: apart from kernel colours
FLOW_STYLE = ArrowStyle((40, 40, 40), 1.0, 6.0, max_visible=20_000)
_SMOOTH_ARROWS = 200  # up to this many arrows in view are antialiased
_KEY_BITS = 15  # per coordinate of the pixel-resolution key (4 x 15 bits in an int64)


@dataclass(frozen=True, eq=False)
class _Arrows:
    """One named set: the rows it was given (``given_*``, kept for the next lane change), the
    arrows among them whose slices are on shown lanes (``src_rows``, ``dst_rows``) and their
    geometry (x in cycles, the lanes of both ends: their y comes from the lane layout at paint
    time), sorted by the left end ``lo`` with ``hi_max`` the running maximum of the right end."""

    given_src: np.ndarray
    given_dst: np.ndarray
    src_rows: np.ndarray
    dst_rows: np.ndarray
    style: ArrowStyle
    visible: bool
    x0: np.ndarray
    lane0: np.ndarray
    x1: np.ndarray
    lane1: np.ndarray
    lo: np.ndarray
    hi_max: np.ndarray


class TimelineArrows(TimelineLayer):
    """The arrow layer over a ``TimelineItem`` (same coordinates: x cycles, lane ``i`` in
    ``[i, i + 1)``). ``TimelineView.arrows`` is the one of a timeline."""

    noun = "arrow set"

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(10)  # over the slices and their outlines
        self._starts: np.ndarray = np.zeros(0, np.int64)
        self._ends: np.ndarray = np.zeros(0, np.int64)
        self._lane_of_row: np.ndarray = np.zeros(0, np.int64)
        self._lines = PrimitiveArray(QtCore.QLineF, 4)
        self.last_line_count = 0  # lines sent to Qt by the last paint (shafts and head strokes)
        self.last_arrow_count = 0  # arrows drawn by the last paint
        self.last_skipped: list[str] = []  # sets the last paint left out (over max_visible)

    # ---- data ------------------------------------------------------------------------------

    def set_lanes(self, lanes: LaneSet | None, trace: np.ndarray | None) -> None:
        """The timeline's lanes and trace changed (a run, a lane mode): re-resolve every set."""
        self.prepareGeometryChange()
        self._lanes = lanes
        n = 0 if trace is None else len(trace)
        self._lane_of_row = np.full(n, -1, dtype=np.int64)
        if trace is not None and lanes is not None:
            self._starts = np.asarray(trace["start"], dtype=np.int64)
            self._ends = np.asarray(trace["end"], dtype=np.int64)
            for i, lane in enumerate(lanes.lanes):  # a loop over lanes, not slices
                self._lane_of_row[lane.rows] = i
        else:
            self._starts = self._ends = np.zeros(0, np.int64)
        old, self._sets = self._sets, {}
        if lanes is not None and trace is not None:
            for name, s in old.items():
                self._sets[name] = self._resolve(s.given_src, s.given_dst, s.style, s.visible)
        self.update()
        self.informViewBoundsChanged()

    def set_arrows(
        self,
        name: str,
        src_rows: np.ndarray,
        dst_rows: np.ndarray,
        style: ArrowStyle = FLOW_STYLE,
    ) -> None:
        """Arrows from the end of trace row ``src_rows[k]`` to the start of ``dst_rows[k]``.

        Replaces the set ``name`` (visible unless ``set_visible(name, False)`` said otherwise).
        """
        src = np.asarray(src_rows, dtype=np.int64).ravel()
        dst = np.asarray(dst_rows, dtype=np.int64).ravel()
        if src.shape != dst.shape:
            raise PtoError(
                f"timeline arrows {name!r}: {len(src)} sources but {len(dst)} destinations"
            )
        n = len(self._lane_of_row)
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n):
            raise PtoError(f"timeline arrows {name!r}: a row is outside the trace (0..{n - 1})")
        self._sets[name] = self._resolve(src, dst, style, self._visible_before(name))
        self.update()

    def arrows(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (src, dst) rows of the set's arrows that have both slices on a shown lane."""
        s = self._sets.get(name)
        if s is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return s.src_rows, s.dst_rows

    def _resolve(
        self, src: np.ndarray, dst: np.ndarray, style: ArrowStyle, visible: bool
    ) -> _Arrows:
        lane_src = self._lane_of_row[src] if len(src) else src
        lane_dst = self._lane_of_row[dst] if len(dst) else dst
        shown = (lane_src >= 0) & (lane_dst >= 0)
        given_src, given_dst = src, dst
        src, dst = src[shown], dst[shown]
        x0 = self._ends[src].astype(np.float64)
        x1 = self._starts[dst].astype(np.float64)
        lane0 = lane_src[shown]
        lane1 = lane_dst[shown]
        lo = np.minimum(x0, x1)
        order = np.argsort(lo, kind="stable")
        hi = np.maximum(x0, x1)[order]
        return _Arrows(
            given_src=given_src,
            given_dst=given_dst,
            src_rows=src[order],
            dst_rows=dst[order],
            style=style,
            visible=visible,
            x0=x0[order],
            lane0=lane0[order],
            x1=x1[order],
            lane1=lane1[order],
            lo=lo[order],
            hi_max=np.maximum.accumulate(hi) if len(hi) else hi,
        )

    # ---- painting --------------------------------------------------------------------------

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionGraphicsItem | None = None,
        widget: QtWidgets.QWidget | None = None,
    ) -> None:
        self.last_line_count = 0
        self.last_arrow_count = 0
        self.last_skipped = []
        sets = [(n, s) for n, s in self._sets.items() if s.visible and len(s.lo)]
        if not sets:
            return
        view = device_view(painter)
        if view is None:
            return
        sx, dx, sy, dy = view.sx, view.dx, view.sy, view.dy
        x_lo, x_hi = view.x0, view.x1
        y_lo, y_hi = view.y_range
        height_px = view.height_px
        n_lanes = len(self._lanes.lanes) if self._lanes is not None else 0
        tops, heights, hidden = lane_geometry(self._layout, n_lanes, sy, dy, height_px)
        centres = np.where(hidden, np.nan, tops + heights / 2.0)  # NaN: under the pinned band
        painter.save()
        painter.resetTransform()  # device pixels, as ``TimelineItem`` draws
        for name, s in sets:
            lines = _arrow_lines(s, centres, x_lo, x_hi, y_lo, y_hi, sx, dx, sy, dy)
            if lines is None:
                self.last_skipped.append(name)
                continue
            if not len(lines):
                continue
            # Flat caps, and antialiasing only for a few arrows: round caps or antialiasing on
            # 10^3 screen-long 2 px lines cost 30-300 ms in the raster engine (measured).
            pen = QtGui.QPen(QtGui.QColor(*s.style.rgb), s.style.width)
            pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            smooth = len(lines) <= 3 * _SMOOTH_ARROWS
            painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, smooth)
            self._lines.resize(len(lines))
            self._lines.ndarray()[:] = lines
            painter.drawLines(*self._lines.drawargs())
            self.last_line_count += len(lines)
            self.last_arrow_count += len(lines) // 3
        painter.restore()


def _arrow_lines(
    s: _Arrows,
    centres: np.ndarray,
    x_lo: float,
    x_hi: float,
    y_lo: float,
    y_hi: float,
    sx: float,
    dx: float,
    sy: float,
    dy: float,
) -> np.ndarray | None:
    """The visible arrows of ``s`` as device-pixel lines ``(x0, y0, x1, y1)``: per arrow its
    shaft then the two strokes of its head (so ``len // 3`` arrows), duplicates dropped; an
    end on a lane hidden under the pinned band (``centres`` NaN) hides its arrow. None
    when more than the style's ``max_visible`` cross the view (the set is not drawn)."""
    i0 = int(np.searchsorted(s.hi_max, x_lo, side="left"))
    i1 = int(np.searchsorted(s.lo, x_hi, side="right"))
    if i0 >= i1:
        return np.zeros((0, 4))
    if s.style.max_visible is not None and i1 - i0 > s.style.max_visible:
        return None
    x0, x1 = s.x0[i0:i1], s.x1[i0:i1]
    y0, y1 = centres[s.lane0[i0:i1]], centres[s.lane1[i0:i1]]
    keep = (
        ~(np.isnan(y0) | np.isnan(y1))
        & (np.maximum(x0, x1) >= x_lo)
        & (np.maximum(y0, y1) >= y_lo - 0.5)
    )
    keep &= np.minimum(y0, y1) <= y_hi + 0.5
    px0, px1 = x0[keep] * sx + dx, x1[keep] * sx + dx
    py0, py1 = y0[keep] * sy + dy, y1[keep] * sy + dy
    vx, vy = px1 - px0, py1 - py0
    length = np.hypot(vx, vy)
    long_enough = length >= MIN_ARROW_PX
    if not long_enough.any():
        return np.zeros((0, 4))
    shafts = np.stack(
        [px0[long_enough], py0[long_enough], px1[long_enough], py1[long_enough]], axis=1
    )
    shafts = np.round(shafts)
    if len(shafts) > 64:
        # Pixel resolution: arrows that land on the same pixels draw the same strokes once.
        # One int64 key per arrow (coordinates clipped to +-2^14 px, far past any screen)
        # keeps the dedup a 1-D unique.
        half = 1 << (_KEY_BITS - 1)
        c = (np.clip(shafts, -half, half - 1) + half).astype(np.int64)
        key = (((c[:, 0] << _KEY_BITS | c[:, 1]) << _KEY_BITS | c[:, 2]) << _KEY_BITS) | c[:, 3]
        _, first = np.unique(key, return_index=True)
        shafts = shafts[first]
    vx, vy = shafts[:, 2] - shafts[:, 0], shafts[:, 3] - shafts[:, 1]
    length = np.maximum(np.hypot(vx, vy), 1e-9)
    ux, uy = vx / length, vy / length
    head = np.minimum(s.style.head_px, 0.6 * length)
    c, si = math.cos(_HEAD_ANGLE), math.sin(_HEAD_ANGLE)
    tx, ty = shafts[:, 2], shafts[:, 3]
    out = np.empty((3 * len(shafts), 4), dtype=np.float64)
    out[0::3] = shafts
    for k, sign in ((1, 1.0), (2, -1.0)):  # the two head strokes: the unit vector turned +-
        rx = ux * c - sign * uy * si
        ry = sign * ux * si + uy * c
        out[k::3, 0] = tx
        out[k::3, 1] = ty
        out[k::3, 2] = tx - head * rx
        out[k::3, 3] = ty - head * ry
    return out
