"""The timeline's range selection: a translucent cycle interval with its duration on it.

Kept apart from ``TimelineView`` (which owns the mouse and keys) so that the view only says
"select from x0 to x1" and "clear"; this class owns the drawn region, the label on it and the text.
The region is a separate plot item, so the slices' ``TimelineItem.paint`` does not change.
"""

from __future__ import annotations

import pyqtgraph as pg

from .cycle_axis import duration_text

__all__ = ["RangeSelection"]

_BRUSH = (70, 130, 220, 60)
_EDGE = (70, 130, 220, 200)


class RangeSelection:
    """A selected cycle range on ``plot_item`` (none at first)."""

    def __init__(self, plot_item: pg.PlotItem) -> None:
        self._plot_item = plot_item
        self.region = pg.LinearRegionItem(
            values=(0.0, 1.0), movable=False, brush=pg.mkBrush(*_BRUSH), pen=pg.mkPen(_EDGE)
        )
        self.region.setZValue(10)
        self.label = pg.InfLineLabel(
            self.region.lines[1],
            text="",
            position=0.05,
            anchors=[(0, 0), (0, 0)],
            color="k",
            fill=pg.mkBrush(255, 255, 255, 210),
        )
        self._range: tuple[float, float] | None = None
        self._shown = False
        self.ns_per_cycle: float | None = None

    @property
    def range(self) -> tuple[float, float] | None:
        """``(start, end)`` in cycles, start <= end (None: no selection)."""
        return self._range

    @property
    def duration(self) -> float | None:
        return None if self._range is None else self._range[1] - self._range[0]

    @property
    def text(self) -> str:
        """The duration as shown on the region ("" without a selection)."""
        d = self.duration
        return "" if d is None else duration_text(d, self.ns_per_cycle)

    def set(self, x0: float, x1: float) -> None:
        lo, hi = (x0, x1) if x0 <= x1 else (x1, x0)
        self._range = (float(lo), float(hi))
        self.region.setRegion(self._range)
        self.label.setText(self.text)
        if not self._shown:
            self._plot_item.addItem(self.region, ignoreBounds=True)
            self._shown = True

    def clear(self) -> bool:
        """Removes the selection; True when there was one."""
        had = self._range is not None
        self._range = None
        if self._shown:
            self._plot_item.removeItem(self.region)
            self._shown = False
        return had

    def set_clock(self, ns_per_cycle: float | None) -> None:
        self.ns_per_cycle = ns_per_cycle
        if self._range is not None:
            self.label.setText(self.text)
