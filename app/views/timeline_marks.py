"""Named sets of outlined slices over the timeline, each in its own colour.

The timeline's own outline (``TimelineItem.set_highlight``) shows one thing: the slices of the
selection. Other questions need their own outline at the same time and must not replace it:
the critical path, the tasks that *read* a selected tensor and those that *write* it. Each is a
named set here (``set_marks(name, mask, style)``), drawn over the slices with its own pen and
listed in a small legend (``legend_html``).

A set is kept per lane as the marked slices' starts and ends sorted by start (with the running
maximum of the ends), so a frame finds the visible ones with two ``searchsorted`` and hands them
to ``lod_rects`` (``app.views.lod``): sub-pixel slices merge into at most a couple of rects per
pixel column, so 10^6 marked slices cost what the screen can show. No Python loop over slices.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets
from pyqtgraph.Qt.internals import PrimitiveArray

from pto_wsp.errors import PtoError
from pto_wsp.runtime.lanes import LaneSet

from .lane_layout import lane_geometry
from .lod import outline_rects
from .painter_view import device_view, lane_pixels
from .timeline_item import LANE_FILL
from .timeline_layer import TimelineLayer

__all__ = ["MarkStyle", "TimelineMarks", "CRITICAL_MARK", "READS_MARK", "WRITES_MARK"]


@dataclass(frozen=True)
class MarkStyle:
    """An outline colour and pen width (device pixels), and the legend's words for it."""

    rgb: tuple[int, int, int]
    width: float = 2.0
    label: str = ""
    inset: float = 0.0  # pixels inside the slice: two sets on one slice stay both visible


CRITICAL_MARK = MarkStyle((255, 64, 160), 2.0, "critical path")
READS_MARK = MarkStyle((255, 255, 255), 2.0, "reads", inset=3.0)  # white and black: apart
WRITES_MARK = MarkStyle((0, 0, 0), 2.0, "writes", inset=6.0)  # from every kernel colour
# The selected slice: thick, just outside its rect, so it stands out of a node's outline and the
# critical path's drawn on the same slice; search matches: inside, apart from both.
SELECTED_MARK = MarkStyle((0, 225, 255), 3.0, "selected slice", inset=-2.0)
MATCH_MARK = MarkStyle((255, 150, 0), 2.0, "search matches", inset=3.0)

_LaneMarks = tuple[np.ndarray, np.ndarray, np.ndarray]  # starts, ends, running max of ends


@dataclass(frozen=True, eq=False)
class _Marks:
    mask: np.ndarray
    style: MarkStyle
    visible: bool
    per_lane: tuple[_LaneMarks | None, ...]


class TimelineMarks(TimelineLayer):
    """The outline layer over a ``TimelineItem`` (same coordinates); see the module doc."""

    noun = "outline set"

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(5)  # over the slices, under the arrows
        self._rects = PrimitiveArray(QtCore.QRectF, 4)
        self.last_rect_count = 0

    # ---- data ------------------------------------------------------------------------------

    def set_lanes(self, lanes: LaneSet | None) -> None:
        """The timeline's lanes changed (a run, a lane mode): re-split every set by lane."""
        self.prepareGeometryChange()
        self._lanes = lanes
        old, self._sets = self._sets, {}
        if lanes is not None:
            for name, s in old.items():
                if len(s.mask) == lanes.slice_count:
                    self._sets[name] = self._split(s.mask, s.style, s.visible)
        self.update()
        self.informViewBoundsChanged()

    def set_marks(self, name: str, mask: np.ndarray | None, style: MarkStyle) -> None:
        """Outlines the slices whose trace rows are True in ``mask`` (None or none: drops it)."""
        if mask is None or not np.asarray(mask).any():
            self.remove(name)
            return
        mask = np.asarray(mask, dtype=bool)
        n = self._lanes.slice_count if self._lanes is not None else 0
        if mask.shape != (n,):
            raise PtoError(f"timeline marks {name!r}: a mask over {n} rows, got {mask.shape}")
        self._sets[name] = self._split(mask, style, self._visible_before(name))
        self.update()

    def mask(self, name: str) -> np.ndarray | None:
        """The rows of the set ``name`` as a boolean mask over the trace (None: no such set)."""
        s = self._sets.get(name)
        return None if s is None else s.mask

    def legend_html(self) -> str:
        """``□ label`` per visible set with a label, in its colour ("" when none)."""
        items = []
        for s in self._sets.values():
            if not s.visible or not s.style.label:
                continue
            r, g, b = s.style.rgb
            items.append(
                # on mid grey: the white and the black outline both show
                f'<span style="background-color:#808080; color:#{r:02x}{g:02x}{b:02x}">'
                "&nbsp;&#9633;&nbsp;</span>&nbsp;"
                f"{html.escape(s.style.label)}"
            )
        return "&nbsp;&nbsp; ".join(items)

    def _split(self, mask: np.ndarray, style: MarkStyle, visible: bool) -> _Marks:
        assert self._lanes is not None
        per_lane: list[_LaneMarks | None] = []
        for lane in self._lanes.lanes:  # a loop over lanes, not slices
            sel = np.flatnonzero(mask[lane.rows])
            if not len(sel):
                per_lane.append(None)
                continue
            e = lane.ends[sel]
            per_lane.append((lane.starts[sel], e, np.maximum.accumulate(e)))
        return _Marks(mask, style, visible, tuple(per_lane))

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionGraphicsItem | None = None,
        widget: QtWidgets.QWidget | None = None,
    ) -> None:
        self.last_rect_count = 0
        sets = [s for s in self._sets.values() if s.visible]
        if not sets or self._lanes is None:
            return
        view = device_view(painter)
        if view is None:
            return
        pad = (1.0 - LANE_FILL) / 2.0
        painter.save()
        painter.resetTransform()
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        tops, heights, hidden = lane_geometry(
            self._layout, len(self._lanes.lanes), view.sy, view.dy, view.height_px
        )
        for s in sets:
            parts: list[np.ndarray] = []
            for i, lm in enumerate(s.per_lane):
                if lm is None or hidden[i]:
                    continue
                top, bottom = lane_pixels(view, float(tops[i]), float(heights[i]), pad)
                if bottom < 0 or top > view.height_px:
                    continue
                starts, ends, max_end = lm
                r = outline_rects(starts, ends, max_end, view.x0, view.x1, view.sx, view.width_px)
                if r is None:
                    continue
                ins = s.style.inset
                left = np.round(r.left + ins)
                width = np.maximum(np.round(r.right - ins) - left, 1.0)
                parts.append(_edges(left, width, top + ins, max(bottom - top - 2 * ins, 1), s))
            if not parts:
                continue
            rects = np.concatenate(parts)
            painter.setBrush(QtGui.QColor(*s.style.rgb))
            self._rects.resize(len(rects))
            self._rects.ndarray()[:] = rects
            painter.drawRects(*self._rects.drawargs())
            self.last_rect_count += len(rects) // 4
        painter.restore()


def _edges(left: np.ndarray, width: np.ndarray, top: float, height: float, s: _Marks) -> np.ndarray:
    """The outline of each rect as four filled pixel-aligned bands (top, bottom, left, right):
    the raster engine fills aligned rects on its fast path, where a 2 px pen over 10^3 rects
    costs several ms a frame."""
    pw = float(max(1, round(s.style.width)))
    n = len(left)
    out = np.empty((4 * n, 4), dtype=np.float64)
    band = np.minimum(width, pw)
    out[0::4, 0], out[0::4, 1], out[0::4, 2], out[0::4, 3] = left, top, width, pw
    out[1::4, 0], out[1::4, 1], out[1::4, 2], out[1::4, 3] = left, top + height - pw, width, pw
    out[2::4, 0], out[2::4, 1], out[2::4, 2], out[2::4, 3] = left, top, band, height
    out[3::4, 0], out[3::4, 1] = left + width - band, top
    out[3::4, 2], out[3::4, 3] = band, height
    return out
