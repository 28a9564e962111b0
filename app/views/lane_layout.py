"""Where each lane of the timeline sits vertically: collapsed lanes thin, pinned lanes on top.

Qt-free geometry shared by the drawing (``TimelineItem``), the hit tests and the lane labels of
``TimelineView``. Lane ``i`` of a ``LaneSet`` has a height (1 view unit, ``COLLAPSED_HEIGHT``
when collapsed) and a top. Pinned lanes come first, in lane order, then the others; like
Perfetto's pinned tracks they stay at the top of the view while it scrolls vertically: with the
view's top at ``y0`` a pinned lane is drawn at ``y0 + its offset``, and an unpinned lane that
scrolled under that band is covered by it (``placed(y0)``, ``lane_at(y, y0)``).

Collapse and pin state is kept by lane label ("worker 3", "stream 1", a process name), so it
survives a change of lane mode (and a new run) for the lanes that exist again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["COLLAPSED_HEIGHT", "LaneLayout", "lane_geometry", "lane_layout"]

COLLAPSED_HEIGHT = 0.3  # of a lane: a thin strip, still wide enough to hit with the mouse


@dataclass(frozen=True)
class LaneLayout:
    """Per lane (by lane index): ``tops`` (unscrolled), ``heights``, ``pinned``; ``order`` is
    the display order (lane indices, pinned first); ``pinned_height`` the pinned band."""

    tops: np.ndarray
    heights: np.ndarray
    pinned: np.ndarray
    order: np.ndarray
    pinned_height: float
    total: float

    def placed(self, y0: float) -> np.ndarray:
        """Lane tops when the view's top is at ``y0`` (pinned lanes stick to it)."""
        y0 = max(float(y0), 0.0)
        return np.where(self.pinned, self.tops + y0, self.tops)

    def covered(self, y0: float) -> np.ndarray:
        """Unpinned lanes hidden (even partly) under the pinned band when scrolled to ``y0``."""
        if not self.pinned.any():
            return np.zeros(len(self.tops), dtype=bool)
        band = max(float(y0), 0.0) + self.pinned_height
        return ~self.pinned & (self.tops < band - 1e-9)

    def lane_at(self, y: float, y0: float = 0.0) -> int | None:
        """The lane drawn at view ``y`` with the view's top at ``y0`` (None: none)."""
        tops = self.placed(y0)
        band_end = max(float(y0), 0.0) + self.pinned_height
        inside = (tops <= y) & (y < tops + self.heights)
        if self.pinned.any() and y < band_end:
            inside &= self.pinned  # the pinned band covers what scrolled under it
        else:
            inside &= ~self.pinned | (y < band_end)
        hit = np.flatnonzero(inside)
        return int(hit[0]) if len(hit) else None

    def centre(self, lane: int, y0: float = 0.0) -> float:
        return float(self.placed(y0)[lane] + self.heights[lane] / 2.0)


def lane_layout(labels: Sequence[str], collapsed: set[str] | frozenset[str] = frozenset(),
                pinned: set[str] | frozenset[str] = frozenset()) -> LaneLayout:  # fmt: skip
    """The layout of lanes named ``labels`` with the given collapsed and pinned labels."""
    n = len(labels)
    heights = np.array([COLLAPSED_HEIGHT if lb in collapsed else 1.0 for lb in labels], float)
    pin = np.array([lb in pinned for lb in labels], dtype=bool)
    order = np.concatenate((np.flatnonzero(pin), np.flatnonzero(~pin))).astype(np.int64)
    tops = np.zeros(n, dtype=float)
    if n:
        offsets = np.concatenate(([0.0], np.cumsum(heights[order])[:-1]))
        tops[order] = offsets
    return LaneLayout(
        tops=tops,
        heights=heights,
        pinned=pin,
        order=order,
        pinned_height=float(heights[pin].sum()),
        total=float(heights.sum()),
    )


def lane_geometry(
    layout: LaneLayout | None, n: int, sy: float, dy: float, height_px: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(tops, heights, hidden)`` of ``n`` lanes as drawn through a painter's y scale ``sy``
    and offset ``dy`` on a device ``height_px`` tall: the layout's (pinned lanes stuck to the
    view's top, lanes under them hidden), or one unit per lane in order without a layout.

    The slices, their outlines and the arrows between them all place lanes through this, so
    they stay on one another when lanes collapse or pin."""
    if layout is not None and len(layout.tops) == n:
        view_top = min(-dy / sy, (height_px - dy) / sy)  # the view's top, in lanes
        return layout.placed(view_top), layout.heights, layout.covered(view_top)
    return np.arange(n, dtype=float), np.ones(n), np.zeros(n, dtype=bool)
