"""Two runs on one cycle axis, with what changed between them, per lane and per kernel.

Typical use: the same workload before and after a schedule change. Run A's lanes sit above run
B's, both on one cycle axis: their x axes are linked (zoom or pan one, the other follows), their
lane-label axes have one fixed width so cycle ``c`` sits at the same pixel in both, and B's ruler
reads for both. Both share one kernel palette (a kernel looks alike in each). Beside them, two
sortable tables: per lane (busy cycles and utilisation in A and B, the change) and per kernel
(tasks, total and mean cycles in A and B, the change). The numbers come from the one trace model
(``pto_wsp.runtime.run_diff``); the header states the total cycles of A and B and B - A.

Built to be read at the Compare dock's default size (a bottom dock of about 900 x 300 px): the
timelines drop their own headers (one lane-mode box serves both), and each lane keeps at least
``MIN_LANE_PX``: runs with many lanes scroll instead of squeezing lanes to lines.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from pto_wsp.errors import PtoError
from pto_wsp.runtime.lanes import LANE_MODES
from pto_wsp.runtime.run_diff import KernelDiff, RunDiff, diff_kernels, diff_runs
from pto_wsp.runtime.trace import has_streams
from pto_wsp.runtime.trace_analysis import kernel_stats

from .counter_tracks import TRACKS
from .slices import kernel_palette
from .tables import sortable_table, table_item
from .timeline import TimelineView

__all__ = [
    "CompareView",
    "format_delta",
    "diff_lines",
    "LANE_COLUMNS",
    "KERNEL_COLUMNS",
    "MIN_LANE_PX",
]

MIN_LANE_PX = 14  # a lane stays this tall (a name's height); more lanes scroll
_PLOT_CHROME_PX = 12  # a plot's margins around its lanes
_RULER_PX = 34  # B's cycle ruler under its lanes
# Utilisation per lane is on the lanes' labels; the table holds what changed.
LANE_COLUMNS = ("Lane", "Busy A", "Busy B", "Δ busy", "Δ %")
KERNEL_COLUMNS = (
    "Kernel", "Tasks A", "Tasks B", "Cycles A", "Cycles B", "Δ cycles", "Mean A", "Mean B",
    "Δ mean",
)  # fmt: skip


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


def _pct_item(pct: float) -> QtWidgets.QTableWidgetItem:
    """A relative change; ``n/a`` (sorted last) when A had none of it."""
    if math.isnan(pct):
        return table_item("n/a", math.inf)
    return table_item(f"{pct:+.1f}%", pct)


def _delta_item(text: str, delta: float, pct: float) -> QtWidgets.QTableWidgetItem:
    """A change of cycles, green when B needs fewer, red when more; its tooltip says by how
    much relative to A."""
    item = table_item(text, delta)
    item.setToolTip("new in B" if math.isnan(pct) else f"{pct:+.1f}% of A")
    if delta:
        item.setForeground(QtGui.QColor("#2ca02c" if delta < 0 else "#d62728"))
    return item


def _lane_cells(lanes: RunDiff) -> list[list[QtWidgets.QTableWidgetItem]]:
    rows = []
    for order, d in enumerate(lanes.lanes):
        label = table_item(d.label, order)  # sorts in lane order (worker 2 before worker 10)
        label.setTextAlignment(
            QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
        rows.append(
            [
                label,
                table_item(f"{d.busy_a:,}", d.busy_a),
                table_item(f"{d.busy_b:,}", d.busy_b),
                table_item(f"{d.delta:+,}", d.delta),
                _pct_item(d.delta_pct),
            ]
        )
    return rows


def _kernel_cells(kernels: Sequence[KernelDiff]) -> list[list[QtWidgets.QTableWidgetItem]]:
    return [
        [
            table_item(k.name),
            table_item(f"{k.count_a:,}", k.count_a),
            table_item(f"{k.count_b:,}", k.count_b),
            table_item(f"{k.total_a:,}", k.total_a),
            table_item(f"{k.total_b:,}", k.total_b),
            _delta_item(f"{k.delta_total:+,}", k.delta_total, k.delta_total_pct),
            table_item(f"{k.mean_a:,.1f}", k.mean_a),
            table_item(f"{k.mean_b:,.1f}", k.mean_b),
            _delta_item(f"{k.delta_mean:+,.1f}", k.delta_mean, k.delta_mean_pct),
        ]
        for k in kernels
    ]


def _fill(table: QtWidgets.QTableWidget, rows: list[list[QtWidgets.QTableWidgetItem]]) -> None:
    table.setSortingEnabled(False)
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            table.setItem(r, c, cell)
    table.setSortingEnabled(True)  # re-sorts by the user's (or the default) column


class CompareView(QtWidgets.QWidget):
    """Run A above run B on one cycle axis, beside their per-lane and per-kernel deltas."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.view_a = TimelineView()
        self.view_b = TimelineView()
        self.view_b.plot.setXLink(self.view_a.plot)
        for view in (self.view_a, self.view_b):
            view.header_bar.hide()  # one header, one lane-mode box, one legend for both
            view.legend_label.hide()
            for track in TRACKS:  # lanes first; the Tracks menu is the single view's
                view.counter_tracks.set_track_shown(track.key, False)
        self.view_a.plot_item.hideAxis("bottom")  # B's ruler reads for both
        self._titles = ("A", "B")
        self._diff: RunDiff | None = None
        self._kernels: tuple[KernelDiff, ...] = ()

        self.header = QtWidgets.QLabel("no runs")
        self.header.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.mode_box = QtWidgets.QComboBox()
        self.mode_box.addItems(list(LANE_MODES))
        self.mode_box.setToolTip("Lanes of both runs: one per worker, or per stream")
        self.mode_box.currentTextChanged.connect(self._on_mode_box)
        self.legend = QtWidgets.QLabel()
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.legend)
        top.addWidget(QtWidgets.QLabel("lanes:"))
        top.addWidget(self.mode_box)

        stack = QtWidgets.QWidget()
        stack_layout = QtWidgets.QVBoxLayout(stack)
        stack_layout.setContentsMargins(0, 0, 0, 0)
        stack_layout.setSpacing(0)
        stack_layout.addWidget(self.view_a)
        stack_layout.addWidget(self.view_b)
        self._stack_layout = stack_layout
        self.timelines = QtWidgets.QScrollArea()
        self.timelines.setWidgetResizable(True)
        self.timelines.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.timelines.setWidget(stack)

        self.lane_table = sortable_table(LANE_COLUMNS, fit_names=True)
        self.kernel_table = sortable_table(KERNEL_COLUMNS, fit_names=True)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.lane_table, "Lanes")
        self.tabs.addTab(self.kernel_table, "Kernels")
        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.timelines)
        self.splitter.addWidget(self.tabs)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([600, 400])  # proportions: the timelines take 60%

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

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
        for view, title in ((self.view_a, title_a), (self.view_b, title_b)):
            view.plot_item.setLabel("left", title)
        # The timelines' own legends (hidden): one when both ran the same kernels.
        legends = dict.fromkeys((self.view_a.legend_label.text(), self.view_b.legend_label.text()))
        self.legend.setText(" &nbsp;|&nbsp; ".join(t for t in legends if t))
        streams = has_streams(trace_a) and has_streams(trace_b)
        model = self.mode_box.model()
        for i, mode in enumerate(LANE_MODES):
            model.item(i).setEnabled(mode == "workers" or (mode == "streams" and streams))
        with QtCore.QSignalBlocker(self.mode_box):
            self.mode_box.setCurrentText(self.view_a.lane_mode)
        self._kernels = diff_kernels(
            kernel_stats(trace_a, kernel_names_a), kernel_stats(trace_b, kernel_names_b)
        )
        _fill(self.kernel_table, _kernel_cells(self._kernels))
        self.fit()
        self._update_diff()

    def set_lane_mode(self, mode: str) -> None:
        """Switches both timelines to ``mode`` (``workers`` or ``streams``)."""
        self.view_a.set_lane_mode(mode)
        self.view_b.set_lane_mode(mode)
        with QtCore.QSignalBlocker(self.mode_box):
            self.mode_box.setCurrentText(mode)
        self.fit()
        self._update_diff()

    def fit(self) -> None:
        """Shows the longer of the two makespans in both (the x axes are linked)."""
        spans = [v.lanes.makespan for v in (self.view_a, self.view_b) if v.lanes is not None]
        span = float(max(spans, default=1) or 1)
        for v in (self.view_a, self.view_b):
            v.set_cycle_limit(span)
        self.view_a.view_box.setXRange(0.0, span, padding=0.02)
        for v in (self.view_a, self.view_b):
            lanes = max(len(v.lanes.lanes) if v.lanes else 1, 1)
            v.view_box.setYRange(0.0, float(lanes), padding=0)
            ruler = _RULER_PX if v is self.view_b else 0
            height = lanes * MIN_LANE_PX + _PLOT_CHROME_PX + ruler
            v.plot.setMinimumHeight(height)
            # Spare height goes to each run in proportion: a lane is as tall in A as in B.
            self._stack_layout.setStretchFactor(v, height)

    @property
    def diff(self) -> RunDiff | None:
        """B minus A for the current lane mode (None before ``set_runs``)."""
        return self._diff

    @property
    def kernel_diff(self) -> tuple[KernelDiff, ...]:
        """Per-kernel B minus A (empty before ``set_runs``)."""
        return self._kernels

    def header_text(self) -> str:
        """The header and per-lane lines as plain text."""
        if self._diff is None:
            return "no runs"
        return "\n".join(diff_lines(self._diff, *self._titles))

    def _on_mode_box(self, mode: str) -> None:
        if self.view_a.trace is None or self.view_b.trace is None:
            return
        try:
            self.set_lane_mode(mode)
        except PtoError as e:  # one run has no streams: keep both on workers
            self.set_lane_mode("workers")
            QtWidgets.QToolTip.showText(self.mapToGlobal(QtCore.QPoint(0, 0)), str(e), self)

    def _update_diff(self) -> None:
        la, lb = self.view_a.lanes, self.view_b.lanes
        if la is None or lb is None:
            self._diff = None
            self.header.setText("no runs")
            _fill(self.lane_table, [])
            return
        self._diff = diff_runs(la, lb)
        first = html.escape(diff_lines(self._diff, *self._titles)[0])
        d = self._diff.delta
        color = "#2ca02c" if d < 0 else "#d62728" if d > 0 else "#7f7f7f"  # fewer cycles: green
        self.header.setText(f'<b style="color:{color}">{first}</b>')
        _fill(self.lane_table, _lane_cells(self._diff))
