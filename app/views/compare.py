"""Two runs one above the other on a shared cycle axis, with what changed between them.

Typical use: the same workload before and after a schedule change. Both timelines share one
kernel palette (a kernel looks alike in each), their x axes are linked (zoom or pan one, the
other follows) and their lane-label axes have one fixed width so cycle ``c`` sits at the same
pixel in both. The header states total cycles of A and B, the difference B - A (absolute and
relative to A) and the busy-cycle difference per lane (lanes matched by label, ``worker 3``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
from pyqtgraph.Qt import QtCore, QtWidgets

from app.views.slices import kernel_palette
from app.views.timeline import TimelineView
from pto_wsp.errors import PtoError
from pto_wsp.runtime.run_diff import RunDiff, diff_runs

__all__ = ["CompareView", "format_delta", "diff_lines"]


def format_delta(delta: int, pct: float | None = None) -> str:
    """``+120 cycles (+4.5%)``: signed, with the relative change when it is defined."""
    text = f"{delta:+d} cycles"
    if pct is not None:
        text += " (n/a)" if math.isnan(pct) else f" ({pct:+.1f}%)"
    return text


def diff_lines(diff: RunDiff, title_a: str = "A", title_b: str = "B") -> list[str]:
    """The compare header as plain lines: totals and difference, then one line per lane."""
    lines = [
        f"{title_a}: {diff.total_a} cycles · {title_b}: {diff.total_b} cycles · "
        f"{title_b} - {title_a}: {format_delta(diff.delta, diff.delta_pct)}"
    ]
    for lane in diff.lanes:
        lines.append(
            f"{lane.label}: busy {lane.busy_a} -> {lane.busy_b} ({format_delta(lane.delta)})"
        )
    return lines


class CompareView(QtWidgets.QWidget):
    """Run A above run B, linked on x, under a header with their differences."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.view_a = TimelineView()
        self.view_b = TimelineView()
        self.view_b.plot.setXLink(self.view_a.plot)
        self._titles = ("A", "B")
        self._diff: RunDiff | None = None

        self.header = QtWidgets.QLabel("no runs")
        self.header.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.lane_table = QtWidgets.QLabel()
        self.lane_table.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.lane_table.setWordWrap(True)
        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        splitter.addWidget(self.view_a)
        splitter.addWidget(self.view_b)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.header)
        layout.addWidget(self.lane_table)
        layout.addWidget(splitter, 1)
        # A lane-mode change in either view applies to both, so the per-lane diff stays paired.
        self.view_a.mode_box.currentTextChanged.connect(self._sync_mode)
        self.view_b.mode_box.currentTextChanged.connect(self._sync_mode)

    def set_runs(
        self,
        trace_a: np.ndarray,
        kernel_names_a: Sequence[str],
        trace_b: np.ndarray,
        kernel_names_b: Sequence[str],
        title_a: str = "A",
        title_b: str = "B",
        num_workers: tuple[int | None, int | None] = (None, None),
    ) -> None:
        """Shows run A above run B (both fitted to the longer makespan) and their diff.

        ``num_workers`` are the runs' configured worker counts (idle workers get lanes)."""
        palette = kernel_palette([*kernel_names_a, *kernel_names_b])
        self._titles = (title_a, title_b)
        wa, wb = num_workers
        self.view_a.set_run(trace_a, kernel_names_a, title_a, palette=palette, num_workers=wa)
        self.view_b.set_run(trace_b, kernel_names_b, title_b, palette=palette, num_workers=wb)
        self.fit()
        self._update_diff()

    def set_lane_mode(self, mode: str) -> None:
        """Switches both timelines to ``mode`` (``workers`` or ``streams``)."""
        self.view_a.set_lane_mode(mode)
        self.view_b.set_lane_mode(mode)
        self._update_diff()

    def fit(self) -> None:
        """Shows the longer of the two makespans in both (the x axes are linked)."""
        spans = [v.lanes.makespan for v in (self.view_a, self.view_b) if v.lanes is not None]
        span = float(max(spans, default=1) or 1)
        for v in (self.view_a, self.view_b):
            v.set_cycle_limit(span)
        self.view_a.view_box.setXRange(0.0, span, padding=0.02)
        for v in (self.view_a, self.view_b):
            v.view_box.setYRange(0.0, float(max(len(v.lanes.lanes), 1)) if v.lanes else 1.0)

    @property
    def diff(self) -> RunDiff | None:
        """B minus A for the current lane mode (None before ``set_runs``)."""
        return self._diff

    def header_text(self) -> str:
        """The header and per-lane lines as plain text (what the labels show)."""
        if self._diff is None:
            return "no runs"
        return "\n".join(diff_lines(self._diff, *self._titles))

    def _sync_mode(self, mode: str) -> None:
        if self.view_a.trace is None or self.view_b.trace is None:
            return
        if self.view_a.lane_mode == mode and self.view_b.lane_mode == mode:
            self._update_diff()
            return
        try:
            self.set_lane_mode(mode)
        except PtoError as e:  # one run has no streams: keep both on their previous mode
            mode_back = "workers"
            self.view_a.set_lane_mode(mode_back)
            self.view_b.set_lane_mode(mode_back)
            self._update_diff()
            QtWidgets.QToolTip.showText(self.mapToGlobal(QtCore.QPoint(0, 0)), str(e), self)

    def _update_diff(self) -> None:
        la, lb = self.view_a.lanes, self.view_b.lanes
        if la is None or lb is None:
            self._diff = None
            self.header.setText("no runs")
            self.lane_table.setText("")
            return
        self._diff = diff_runs(la, lb)
        lines = [html.escape(line) for line in diff_lines(self._diff, *self._titles)]
        d = self._diff.delta
        color = "#2ca02c" if d < 0 else "#d62728" if d > 0 else "#7f7f7f"  # fewer cycles: green
        self.header.setText(f'<b style="color:{color}">{lines[0]}</b>')
        self.lane_table.setText(" &nbsp;|&nbsp; ".join(lines[1:]))
