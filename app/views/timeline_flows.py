"""Flow arrows of the timeline: each task's gating predecessor, drawn as an arrow into it.

The simulator records per task the cause that gated its start and the task whose end set it
(``pto_wsp.runtime.trace_gates.gate_rows``). Two arrow sets on the timeline's arrow layer show
them:

- ``"selected flows"``: for the selected slice (a click, a search hit, a Details link), the
  arrow from its gating predecessor and the arrows to the tasks it gated, always drawn;
- ``"flows"``: one arrow per gated task, drawn only once the view is zoomed in far enough that
  at most ``FLOW_STYLE.max_visible`` of them cross it (the arrow layer's rule). Built the first
  time the view gets that close, not on every run: a run the user never zooms into pays nothing.

The header's "flows" button turns both off and on.
"""

from __future__ import annotations

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from pto_wsp.runtime.trace_gates import gate_rows

from .timeline_arrows import FLOW_STYLE, ArrowStyle, TimelineArrows

__all__ = ["ALL_FLOWS", "SELECTED_FLOWS", "SELECTED_FLOW_STYLE", "TimelineFlows"]

ALL_FLOWS = "flows"
SELECTED_FLOWS = "selected flows"
SELECTED_FLOW_STYLE = ArrowStyle((20, 90, 220), 2.0, 9.0)  # blue: apart from the path's magenta


class TimelineFlows(QtCore.QObject):
    """The flow arrows of one ``TimelineView`` (its ``arrows`` layer); ``button`` toggles them."""

    def __init__(self, arrows: TimelineArrows, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._arrows = arrows
        self._trace: np.ndarray | None = None
        self._gates: np.ndarray | None = None  # gate row per row, computed on first need
        self._makespan = 0
        self._all_built = False
        self._selected: int | None = None
        self.button = QtWidgets.QToolButton()
        self.button.setObjectName("flowsButton")
        self.button.setText("flows")
        self.button.setCheckable(True)
        self.button.setChecked(True)
        self.button.setToolTip(
            "Flow arrows: from each task's gating predecessor (the task whose end let it start). "
            "Always for the selected slice; for every slice once zoomed in far enough."
        )
        self.button.toggled.connect(self._on_toggled)

    @property
    def enabled(self) -> bool:
        return self.button.isChecked()

    def set_run(self, trace: np.ndarray | None) -> None:
        """A new run (validated by the timeline; its arrows were cleared with the layer)."""
        self._trace = trace
        self._gates = None
        self._all_built = False
        self._selected = None
        self._makespan = int(trace["end"].max()) if trace is not None and len(trace) else 0

    def gates(self) -> np.ndarray:
        """The gating predecessor row of each row (-1: none); empty without a run."""
        if self._gates is None:
            t = self._trace  # validated by the timeline: it has the gate and cause fields
            self._gates = gate_rows(t) if t is not None else np.zeros(0, np.int64)
        return self._gates

    def view_changed(self, x0: float, x1: float) -> None:
        """The visible cycle range changed: build every flow once the view is close enough
        that the arrow layer would draw them."""
        if not self.enabled or self._all_built or self._trace is None or not self._makespan:
            return
        expected = len(self._trace) * max(x1 - x0, 0.0) / self._makespan
        if FLOW_STYLE.max_visible is not None and expected > FLOW_STYLE.max_visible:
            return
        gates = self.gates()
        dst = np.flatnonzero(gates >= 0)
        self._arrows.set_arrows(ALL_FLOWS, gates[dst], dst, FLOW_STYLE)
        self._all_built = True

    def select(self, row: int | None) -> None:
        """Shows the selected slice's flows: in from its gate, out to the tasks it gated."""
        self._selected = row
        if row is None or not self.enabled or self._trace is None or not len(self.gates()):
            self._arrows.remove(SELECTED_FLOWS)
            return
        gates = self.gates()
        src: list[np.ndarray] = []
        dst: list[np.ndarray] = []
        if gates[row] >= 0:
            src.append(np.array([gates[row]]))
            dst.append(np.array([row]))
        gated = np.flatnonzero(gates == row)
        if len(gated):
            src.append(np.full(len(gated), row, dtype=np.int64))
            dst.append(gated)
        if not src:
            self._arrows.remove(SELECTED_FLOWS)
            return
        self._arrows.set_arrows(
            SELECTED_FLOWS, np.concatenate(src), np.concatenate(dst), SELECTED_FLOW_STYLE
        )

    def _on_toggled(self, on: bool) -> None:
        for name in (ALL_FLOWS, SELECTED_FLOWS):
            if name in self._arrows.names():
                self._arrows.set_visible(name, on)
        if on:
            self.select(self._selected)
