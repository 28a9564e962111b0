"""What the timeline's overlay layers share: named sets drawn over the lanes.

An overlay (``TimelineMarks``: outlined slices; ``TimelineArrows``: arrows between slices) holds
named sets, each shown or hidden on its own, and lives in the timeline item's coordinates (x
cycles, lane ``i`` at its ``LaneLayout`` place: ``set_layout``). This base holds the sets, their visibility and the item
protocol pyqtgraph asks of both; a subclass says what a set is and how to paint it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyqtgraph as pg
from pyqtgraph.Qt import QtCore

from pto_wsp.errors import PtoError
from pto_wsp.runtime.lanes import LaneSet

from .lane_layout import LaneLayout

__all__ = ["TimelineLayer"]


class TimelineLayer(pg.GraphicsObject):
    """Named sets (frozen dataclasses with a ``visible`` field) over a timeline's lanes."""

    noun = "set"  # how errors name a set ("arrow set", "outline set")

    def __init__(self) -> None:
        super().__init__()
        self._lanes: LaneSet | None = None
        self._layout: LaneLayout | None = None
        self._sets: dict[str, Any] = {}

    def set_layout(self, layout: LaneLayout | None) -> None:
        """Where the lanes sit (collapsed, pinned): the slices' ``TimelineItem`` gets the same."""
        self._layout = layout
        self.update()

    def set_visible(self, name: str, visible: bool) -> None:
        """Shows or hides the set ``name`` (kept, so showing it again costs nothing)."""
        s = self._sets.get(name)
        if s is None:
            raise PtoError(f"timeline: no {self.noun} {name!r}")
        self._sets[name] = replace(s, visible=visible)
        self.update()

    def remove(self, name: str) -> None:
        """Drops the set ``name`` (no error when there is none)."""
        if self._sets.pop(name, None) is not None:
            self.update()

    def clear(self) -> None:
        self._sets = {}
        self.update()

    def names(self) -> list[str]:
        """Every set, shown or not, in the order they were first set."""
        return list(self._sets)

    def is_visible(self, name: str) -> bool:
        s = self._sets.get(name)
        return s is not None and bool(s.visible)

    def _visible_before(self, name: str) -> bool:
        """A replaced set keeps its visibility; a new one is shown."""
        return self._sets[name].visible if name in self._sets else True

    # ---- pyqtgraph item protocol -----------------------------------------------------------

    def boundingRect(self) -> QtCore.QRectF:
        # Outlines and arrows stay within the slices' lanes but for a few pixels: the margins
        # of ``TimelineItem.boundingRect`` cover them at any zoom the view allows.
        lanes = self._lanes
        w = float(max(lanes.makespan, 1)) if lanes is not None else 1.0
        h = float(max(len(lanes.lanes), 1)) if lanes is not None else 1.0
        if self._layout is not None:
            h = max(h, self._layout.total)
        return QtCore.QRectF(-0.01 * w, -0.5, 1.02 * w, h + 1.0)

    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None
    ) -> tuple[None, None]:
        return (None, None)  # the slices define the data extent; an overlay never widens it
