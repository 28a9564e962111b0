"""The cycle timeline of one run: lanes of task slices on a cycle ruler.

The widget is a thin shell around ``TimelineItem`` (drawing) and ``pto_wsp.runtime`` (the trace model: lanes, critical path): it
owns the pyqtgraph plot, the lane labels (left axis ticks, with utilisation), the kernel legend,
hover/click hit-testing (a per-lane ``searchsorted``, never a loop over slices) and the keyboard.

Navigation follows Perfetto: ``W``/``S`` zoom in/out at the mouse cursor (at the view centre when
the cursor is outside the plot), ``A``/``D`` pan left/right by a fifth of the visible span; held
keys repeat. ``+``/``-`` zoom at the centre, arrows pan (left/right) and scroll lanes (up/down),
``F``/``Home`` fit. ``Ctrl+F`` opens the slice search (``app.views.timeline_search``; grammar in
``pto_wsp.runtime.trace_search``): Enter/F3 and Shift+Enter/Shift+F3 step through the matches,
each shown (panned to, zoomed only when it would be too thin or too wide to see) and selected as a
click selects it. The mouse wheel zooms and a plain left drag pans the cycle axis only; lanes
keep their height. A left drag with Shift held, or a drag on the cycle ruler, selects a range:
a translucent region labelled with its duration in cycles (and in time when the view knows the
cost table's clock, ``set_clock``); ``Esc`` clears it. The ruler reads cycles with k/M suffixes.

A run with CSP data (``set_run(..., csp=...)``) opens in lane mode "processes": one lane per
process with its tasks and, hatched grey, the intervals it waited on a channel or event (the
tooltip says which). Under the lanes, counter tracks (``app.views.counter_tracks``) share the
cycle axis: running tasks, windowed utilisation and, for CSP runs, each channel's occupancy; the
"tracks" menu in the header shows or hides each.

Lanes collapse (a click on the label's disclosure triangle) and pin to the top (its right-click
menu): ``app.views.lane_controls``. A click on a slice selects it (``row_selected(row)``, which
the details panel follows, then ``slice_clicked``); a click on empty lanes or ``Esc`` (after a
range selection is cleared) clears the selection (``row_selected(None)``).

Over the slices, two overlay layers hold named sets: ``marks`` outlines (the critical path, the
tasks that read / write a selected tensor; ``app.views.timeline_marks``, listed in a legend) and
``arrows`` joins slices (the critical path; ``app.views.timeline_arrows``; and the flows from
each task's gating predecessor, ``app.views.timeline_flows``: the selected slice's always, every
slice's once zoomed in far enough, toggled by the header's "flows" button). The selection's own
outline stays the item's.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from pto_wsp.errors import PtoError
from pto_wsp.runtime.csp_trace import CspTrace
from pto_wsp.runtime.lanes import LANE_MODES, LaneSet, build_lanes
from pto_wsp.runtime.trace import has_streams, kernel_name, task_mask, validate_trace
from pto_wsp.runtime.trace_analysis import CriticalPath, critical_path
from pto_wsp.runtime.trace_search import matches, parse_query, start_order

from .counter_tracks import CounterTracks
from .cycle_axis import CycleAxis
from .eager_transform import transform_on_range_change
from .elided_label import ElidedLabel
from .lane_controls import LaneControls
from .lane_layout import LaneLayout, lane_layout
from .occupancy_focus import focus_channel
from .slices import COLLECTIVE_KINDS, kernel_palette, slice_text
from .stale import StaleBanner
from .timeline_arrows import CRITICAL_STYLE, TimelineArrows
from .timeline_flows import TimelineFlows
from .timeline_item import TimelineItem
from .timeline_marks import (
    CRITICAL_MARK,
    MATCH_MARK,
    SELECTED_MARK,
    MarkStyle,
    TimelineMarks,
)
from .timeline_range import RangeSelection
from .timeline_search import TimelineSearchBar

__all__ = ["TimelineView", "LANE_AXIS_WIDTH"]

LANE_AXIS_WIDTH = 150  # fixed, so that two timelines stacked in a compare view align on x
_HIT_TOLERANCE_PX = 3.0
_ZOOM_STEP = 2.0
_PAN_FRACTION = 0.1
_WASD_ZOOM_STEP = 1.25  # per W/S press; held keys auto-repeat, so a small step reads smoothly
_WASD_PAN_FRACTION = 0.2
_DRAG_MIN_PX = 3.0  # a Shift+press released closer than this selects nothing
_MATCH_MIN_PX = 3.0  # a search match thinner than this on screen is zoomed in on
_MATCH_SPAN = 20.0  # ... to a view this many times its duration
_MATCH_MARGIN = 1.2  # a match wider than the view is shown whole, with this margin

TaskToNode = Callable[[np.void], Any]

# What ``handle_key`` and the mouse handlers do, as Help > Keyboard Shortcuts lists it.
TIMELINE_KEY_HELP: tuple[tuple[str, str], ...] = (
    ("Zoom in / out at the mouse cursor", "W / S"),
    ("Pan left / right", "A / D"),
    ("Zoom in / out at the centre", "+ / -"),
    ("Pan a little left / right", "Left / Right"),
    ("Scroll the lanes", "Up / Down"),
    ("Fit the whole run", "F, Home"),
    ("Select a range and read its duration", "Shift+drag, or drag on the cycle ruler"),
    ("Clear the range, then the selected slice", "Esc"),
    ("Zoom / pan", "Wheel / drag"),
    ("Collapse or expand a lane; pin it", "Click its label; right-click its label"),
)


class TimelineView(QtWidgets.QWidget):
    """One run's timeline. ``set_run`` loads a trace; the rest reacts to the user.

    Signals: ``slice_clicked(record)`` (a ``numpy.void`` trace record) on a left click on a
    slice; ``hovered(record_or_None)`` when the slice under the mouse changes;
    ``range_selected((start, end) or None)`` when a range selection ends or is cleared.
    """

    slice_clicked = QtCore.Signal(object)
    row_selected = QtCore.Signal(object)  # the selected trace row (int), or None when cleared
    hovered = QtCore.Signal(object)
    range_selected = QtCore.Signal(object)  # (start, end) cycles, or None when cleared

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._trace: np.ndarray | None = None
        self._num_workers: int | None = None
        self._kernel_names: list[str] = []
        self._title = ""
        self._task_to_node: TaskToNode | None = None
        self._node_ids: np.ndarray | None = None
        self._lanes: LaneSet | None = None
        self._csp: CspTrace | None = None
        self._mode = "workers"
        self._highlight: np.ndarray | None = None
        self._hover_row: int | None = None
        self._palette: dict[str, tuple[int, int, int]] = {}
        self.hover_text = ""  # the tooltip text of the slice under the mouse ("" when none)
        self._cursor_scene: QtCore.QPointF | None = None  # last mouse position over the lanes
        self._drag_anchor: tuple[float, float] | None = None  # (cycle, viewport px x) of a drag
        self._start_order: np.ndarray | None = None  # rows by start, for search (built lazily)
        self.selected_row: int | None = None  # the selected row (click, search, go_to_row)
        self.lane_controls = LaneControls(self._on_lanes_changed, self)
        self.lane_layout: LaneLayout = lane_layout([])

        self.title_label = ElidedLabel()  # the schedule spelled out: never a minimum width
        self.stale_banner = StaleBanner()
        self.mode_box = QtWidgets.QComboBox()
        self.mode_box.addItems(list(LANE_MODES))
        self.mode_box.setToolTip(
            "One lane per worker, per stream (when the run has streams) or per CSP process "
            "(when the run has pipelines)"
        )
        self.mode_box.currentTextChanged.connect(self._on_mode_box)
        self.legend_label = QtWidgets.QLabel()
        self.legend_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)

        self.plot = pg.PlotWidget(axisItems={"bottom": CycleAxis("bottom")})
        self.plot_item: pg.PlotItem = self.plot.getPlotItem()
        self.view_box: pg.ViewBox = self.plot_item.getViewBox()
        self.item = TimelineItem()
        self.marks = TimelineMarks()  # named outlined sets: critical path, reads/writes T
        self.arrows = TimelineArrows()  # named arrow sets: critical path, flows
        self.flows = TimelineFlows(self.arrows, self)  # gating-predecessor arrows
        self.marks_legend = QtWidgets.QLabel()
        self.marks_legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.marks_legend.hide()
        self._critical: CriticalPath | None = None  # computed once per run, on demand
        self.focused_channel: str | None = None
        self._setup_plot()
        self.range_selection = RangeSelection(self.plot_item)
        self.search_bar = TimelineSearchBar(self.find_rows, self.go_to_row, self)
        self.search_bar.closed.connect(self.plot.setFocus)
        # every match outlined (the current one is the selected slice); none once closed
        self.search_bar.matches_changed.connect(lambda rows: self._mark_rows(MATCH_MARK, rows))
        self.search_bar.closed.connect(lambda: self._mark_rows(MATCH_MARK, None))
        self.counter_tracks = CounterTracks(self.view_box, LANE_AXIS_WIDTH)

        self.header_bar = QtWidgets.QWidget()  # title, lane mode, tracks (a compare hides it)
        header = QtWidgets.QHBoxLayout(self.header_bar)
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.title_label, 1)
        header.addWidget(QtWidgets.QLabel("lanes:"))
        header.addWidget(self.mode_box)
        header.addWidget(self.counter_tracks.button)
        header.addWidget(self.flows.button)
        self.header = header  # the run panel adds its timeline actions (critical path) here
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.stale_banner)
        layout.addWidget(self.header_bar)
        layout.addWidget(self.legend_label)
        layout.addWidget(self.marks_legend)
        layout.addWidget(self.search_bar)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.counter_tracks)

        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        self.plot.installEventFilter(self)
        self.plot.viewport().installEventFilter(self)
        self._setup_search_keys()
        self._update_header()

    def _setup_search_keys(self) -> None:
        """Ctrl+F, F3 and Shift+F3 while the timeline (or a child) has focus."""
        ctx = QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut
        SK = QtGui.QKeySequence.StandardKey
        for key, slot, what in (
            (SK.Find, self.open_search, "Search the timeline's slices"),
            (SK.FindNext, lambda: self.search_bar.next_match(1), "Next timeline match"),
            (SK.FindPrevious, lambda: self.search_bar.next_match(-1), "Previous timeline match"),
        ):
            sc = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            sc.setWhatsThis(what)  # Help > Keyboard Shortcuts lists it by this
            sc.setContext(ctx)
            sc.activated.connect(slot)

    def _setup_plot(self) -> None:
        pi, vb = self.plot_item, self.view_box
        pi.addItem(self.item)
        pi.addItem(self.marks)
        pi.addItem(self.arrows)
        vb.sigXRangeChanged.connect(lambda _vb, r: self.flows.view_changed(*r))
        transform_on_range_change(vb)  # one paint per zoom, not two
        self.row_selected.connect(self.flows.select)
        self.row_selected.connect(self._mark_selected)
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.showGrid(x=True, y=False, alpha=0.15)
        pi.setLabel("bottom", "cycles")
        left = pi.getAxis("left")
        left.setWidth(LANE_AXIS_WIDTH)
        left.setStyle(tickLength=0)
        left.setToolTip("Click a lane's label to collapse or expand it; right-click to pin it")
        vb.invertY(True)
        vb.setMouseEnabled(x=True, y=False)
        vb.enableAutoRange(enable=False)
        scene = self.plot.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        vb.sigYRangeChanged.connect(self._update_lane_ticks)  # pinned labels follow the scroll

    # ---- public API ------------------------------------------------------------------------

    def set_run(
        self,
        trace: np.ndarray,
        kernel_names: Sequence[str],
        title: str = "",
        task_to_node: TaskToNode | None = None,
        palette: Mapping[str, tuple[int, int, int]] | None = None,
        csp: CspTrace | None = None,
        num_workers: int | None = None,
    ) -> None:
        """Shows ``trace`` (a ``TRACE_DTYPE`` array, e.g. ``program.trace``), fitted.

        ``num_workers`` is the run's configured worker count (``ProgramStats.num_workers``): in
        lane mode "workers" each of them gets a lane, the idle ones too.

        ``task_to_node`` maps a record to the graph node that issued it (for
        ``highlight_node``); ``palette`` overrides the kernel colours (a compare view passes one
        palette to both runs so that a kernel looks alike in each). ``csp`` (the run's CSP
        trace) adds the "processes" lane mode, selected at once, and the occupancy plot.
        """
        validate_trace(trace)
        self.stale_banner.set_stale(None)  # a new run: it is the open document's
        if csp is not None and len(csp.task_process) != len(trace):
            raise PtoError(
                f"timeline: the CSP trace covers {len(csp.task_process)} tasks, the trace "
                f"{len(trace)}: they come from different runs"
            )
        has_processes = csp is not None and bool(csp.processes)
        self._csp = csp if has_processes else None
        self._trace = trace
        self._num_workers = num_workers
        self._kernel_names = list(kernel_names)
        self._title = title
        self._task_to_node = task_to_node
        self._node_ids = None
        self._highlight = None
        self._hover_row = None
        self.hover_text = ""
        self._drag_anchor = None
        self._start_order = None
        self.selected_row = None
        self.range_selection.clear()
        self.marks.clear()
        self.arrows.clear()
        self.flows.set_run(None)  # until the new run is laid out and fitted
        self._critical = None
        self.focused_channel = None
        streams = has_streams(trace)
        if has_processes:
            self._mode = "processes"
        elif self._mode == "processes" or (self._mode == "streams" and not streams):
            self._mode = "workers"
        self._palette = dict(palette) if palette is not None else kernel_palette(self._kernel_names)
        available = {"workers": True, "streams": streams, "processes": has_processes}
        model = self.mode_box.model()
        for i, mode in enumerate(LANE_MODES):
            model.item(i).setEnabled(available[mode])
        with QtCore.QSignalBlocker(self.mode_box):
            self.mode_box.setCurrentText(self._mode)
        self.mode_box.setEnabled(streams or has_processes)
        self._rebuild()
        assert self._lanes is not None
        workers = num_workers or len(np.unique(trace["worker"]))
        self.counter_tracks.set_run(trace, workers, self._csp, self._lanes.makespan)
        self.fit()
        self.flows.set_run(trace)
        self.flows.view_changed(*self.x_range())  # a small run is close enough at once
        self.search_bar.reset()

    def set_lane_mode(self, mode: str) -> None:
        """``"workers"``, ``"streams"`` (one lane per stream) or ``"processes"`` (per CSP
        process, with its waits)."""
        if mode not in LANE_MODES:
            raise PtoError(f"timeline: unknown lane mode {mode!r}; expected one of {LANE_MODES}")
        # Build first: a trace without streams / processes raises here, before state changes.
        lanes = self._build_lanes(mode) if self._trace is not None else None
        self._mode = mode
        with QtCore.QSignalBlocker(self.mode_box):
            self.mode_box.setCurrentText(mode)
        if lanes is not None:
            x_range = self.x_range()
            self._rebuild(lanes)
            self.view_box.setXRange(*x_range, padding=0)
            self._fit_lanes()

    def _build_lanes(self, mode: str) -> LaneSet:
        assert self._trace is not None
        return build_lanes(self._trace, mode, self._csp, self._num_workers)

    def set_cycle_limit(self, span: float) -> None:
        """Bounds zoom and pan to a run of ``span`` cycles (a compare view passes the longer)."""
        n = max(self.lane_layout.total, 1.0) if self._lanes is not None else 1.0
        span = max(float(span), 1.0)
        self.view_box.setLimits(
            xMin=-0.5 * span,
            xMax=1.5 * span,
            minXRange=min(4.0, span),
            maxXRange=2.0 * span,
            yMin=0.0,
            yMax=float(n),
        )

    def fit(self) -> None:
        """Shows the whole makespan and every lane."""
        span = float(self._lanes.makespan) if self._lanes is not None else 0.0
        self.view_box.setXRange(0.0, max(span, 1.0), padding=0.02)
        self._fit_lanes()

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Multiplies the visible cycle span by ``factor`` (< 1 zooms in) around ``center``."""
        x0, x1 = self.x_range()
        c = (x0 + x1) / 2.0 if center is None else center
        self.view_box.setXRange(c - (c - x0) * factor, c + (x1 - c) * factor, padding=0)

    def pan(self, fraction: float) -> None:
        """Moves the visible cycle range by ``fraction`` of its width (negative: left)."""
        x0, x1 = self.x_range()
        d = (x1 - x0) * fraction
        self.view_box.setXRange(x0 + d, x1 + d, padding=0)

    def select_range(self, x0: float, x1: float) -> None:
        """Selects the cycles between ``x0`` and ``x1`` (either order) and shows the duration."""
        self.range_selection.set(x0, x1)
        self.range_selected.emit(self.range_selection.range)

    def clear_range(self) -> bool:
        """Drops the range selection; True when there was one."""
        if not self.range_selection.clear():
            return False
        self.range_selected.emit(None)
        return True

    def selected_range(self) -> tuple[float, float] | None:
        """The selected ``(start, end)`` in cycles (None: no selection)."""
        return self.range_selection.range

    def selected_duration(self) -> float | None:
        """The selected range's length in cycles (None: no selection)."""
        return self.range_selection.duration

    @property
    def range_text(self) -> str:
        """The duration text drawn on the selected range ("" without one)."""
        return self.range_selection.text

    def set_clock(self, ns_per_cycle: float | None) -> None:
        """The cost table's clock (``CostTable.ns_per_cycle``): durations also read in time."""
        self.range_selection.set_clock(ns_per_cycle)

    def cursor_x(self) -> float | None:
        """The cycle under the mouse cursor, None when the cursor is not over the lanes."""
        pos = self._cursor_scene
        if pos is None or not self.view_box.sceneBoundingRect().contains(pos):
            return None
        x = float(self.view_box.mapSceneToView(pos).x())
        return x if math.isfinite(x) else None

    def x_range(self) -> tuple[float, float]:
        (x0, x1), _ = self.view_box.viewRange()
        return float(x0), float(x1)

    def highlight_tasks(self, selection: np.ndarray | Iterable[int] | None) -> None:
        """Outlines the slices of a boolean mask over the trace, or of task ids (None: none)."""
        if self._trace is None:
            return
        mask = task_mask(self._trace, selection)
        self._highlight = mask if mask.any() else None
        self.item.set_highlight(self._highlight)

    def highlight_node(self, node_id: Any) -> None:
        """Outlines every task the graph node ``node_id`` issued (needs ``task_to_node``)."""
        if self._trace is None:
            return
        if self._task_to_node is None:
            raise PtoError("timeline: highlight_node needs set_run(..., task_to_node=...)")
        if self._node_ids is None:
            # One call per record, once per run, cached: selection changes are then a compare.
            self._node_ids = np.array([self._task_to_node(r) for r in self._trace], dtype=object)
        self.highlight_tasks(self._node_ids == node_id)

    def critical_path(self) -> CriticalPath:
        """The run's critical path (``pto_wsp.runtime.trace_analysis.critical_path``), computed
        once per run."""
        if self._trace is None:
            return CriticalPath(0, (), np.zeros(0, dtype=np.int64))
        if self._critical is None:
            self._critical = critical_path(self._trace)
        return self._critical

    def highlight_critical_path(self, on: bool = True) -> CriticalPath:
        """Outlines the critical path's slices and joins consecutive ones with arrows (``on``),
        or removes both; returns the path. The selection's own outline is left alone."""
        cp = self.critical_path()
        name = CRITICAL_MARK.label
        if on and self._trace is not None and len(cp.rows):
            mask = np.zeros(len(self._trace), dtype=bool)
            mask[cp.rows] = True
            self.marks.set_marks(name, mask, CRITICAL_MARK)
            self.arrows.set_arrows(name, cp.rows[:-1], cp.rows[1:], CRITICAL_STYLE)
        else:
            self.marks.remove(name)
            self.arrows.remove(name)
        self._update_marks_legend()
        return cp

    @property
    def critical_path_shown(self) -> bool:
        return self.marks.is_visible(CRITICAL_MARK.label)

    def mark_tasks(self, name: str, mask: np.ndarray | None, style: MarkStyle) -> None:
        """Outlines the rows of ``mask`` as the named set ``name`` in ``style`` (None: drops
        it), beside the selection's outline; the legend under the kernels lists the sets."""
        if self._trace is None:
            return
        self.marks.set_marks(name, mask, style)
        self._update_marks_legend()

    def focus_channel(self, name: str | None) -> bool:
        """Shows channel ``name``'s occupancy track alone, emphasised (None: every track
        again); False when the run has no such channel."""
        shown = focus_channel(self.counter_tracks, name)
        self.focused_channel = name if shown else None
        return shown

    @property
    def trace(self) -> np.ndarray | None:
        return self._trace

    @property
    def occupancy_plot(self) -> pg.PlotWidget:
        """The channel occupancy track (shown for CSP runs with channels)."""
        return self.counter_tracks.plots["occupancy"]

    @property
    def occupancy_curves(self) -> dict[str, pg.PlotDataItem]:
        """The occupancy track's step curve of each channel, by channel name."""
        return self.counter_tracks.occupancy_curves

    @property
    def csp(self) -> CspTrace | None:
        """The shown run's CSP trace (None: the run had no processes)."""
        return self._csp

    def wait_text_at(self, x: float, y: float, tolerance: float = 0.0) -> str:
        """The wait interval under view point ``(x cycles, y lanes)`` ("" over none)."""
        if self._lanes is None or not math.isfinite(x) or not math.isfinite(y):
            return ""
        i = self.lane_at(y)
        if i is None:
            return ""
        lane = self._lanes.lanes[i]
        hit = lane.wait_at(x, tolerance)
        if hit is None:
            return ""
        start, end = int(lane.wait_starts[hit]), int(lane.wait_ends[hit])
        return (
            f"{lane.label}: {lane.wait_texts[hit]}\ncycles {start:,} .. {end:,} ({end - start:,})"
        )

    @property
    def kernel_names(self) -> list[str]:
        return list(self._kernel_names)

    @property
    def lanes(self) -> LaneSet | None:
        return self._lanes

    @property
    def lane_mode(self) -> str:
        return self._mode

    @property
    def palette(self) -> dict[str, tuple[int, int, int]]:
        return dict(self._palette)

    def row_at(self, x: float, y: float, tolerance: float = 0.0) -> int | None:
        """The trace row of the slice at cycle ``x`` on the lane at view ``y`` (None: none)."""
        if self._lanes is None or not math.isfinite(x) or not math.isfinite(y):
            return None
        i = self.lane_at(y)
        if i is None:
            return None
        lane = self._lanes.lanes[i]
        hit = lane.hit(x, tolerance)
        return None if hit is None else int(lane.rows[hit])

    def lane_at(self, y: float) -> int | None:
        """The lane drawn at view ``y`` (collapsed lanes are thin, pinned ones stick to the
        top while scrolling; None: no lane there)."""
        if self._lanes is None or not math.isfinite(y):
            return None
        return self.lane_layout.lane_at(y, self._view_top())

    def _view_top(self) -> float:
        _, (y0, y1) = self.view_box.viewRange()
        return float(min(y0, y1))

    def tooltip_at(self, x: float, y: float) -> str:
        """The hover text for view point ``(x cycles, y lanes)`` ("" over no slice)."""
        row = self.row_at(x, y, self._tolerance())
        if row is None or self._trace is None:
            return self.wait_text_at(x, y)
        return slice_text(self._trace[row], self._kernel_names, self._trace)

    def view_pos_of(self, row: int) -> QtCore.QPointF:
        """The centre of trace row ``row``'s slice, in view (cycles, lanes) coordinates."""
        if self._lanes is None:
            raise PtoError("timeline: no run loaded")
        for i, lane in enumerate(self._lanes.lanes):
            where = np.flatnonzero(lane.rows == row)
            if len(where):
                j = int(where[0])
                y = self.lane_layout.centre(i, self._view_top())
                return QtCore.QPointF((lane.starts[j] + lane.ends[j]) / 2.0, y)
        raise PtoError(f"timeline: row {row} is not in this run")

    # ---- search ----------------------------------------------------------------------------

    def open_search(self) -> None:
        """Shows the search field (Ctrl+F) with the focus in it."""
        self.search_bar.open()

    def find_rows(self, text: str) -> np.ndarray:
        """The rows a search query matches, by start (raises ``QueryError`` on a bad query)."""
        query = parse_query(text)
        if self._trace is None:
            return np.zeros(0, dtype=np.int64)
        if self._start_order is None:  # one sort per run; each search is then a gather
            self._start_order = start_order(self._trace)
        return matches(self._trace, self._kernel_names, query, self._start_order)

    def _mark_rows(self, style: MarkStyle, rows: np.ndarray | None) -> None:
        """Outlines ``rows`` as the mark set ``style.label`` (None or none: removes it)."""
        if self._trace is None:
            return
        mask = None
        if rows is not None and len(rows):
            mask = np.zeros(len(self._trace), dtype=bool)
            mask[np.asarray(rows, dtype=np.int64)] = True
        self.marks.set_marks(style.label, mask, style)
        self._update_marks_legend()

    def _mark_selected(self, row: int | None) -> None:
        self._mark_rows(SELECTED_MARK, None if row is None else np.array([row]))

    def go_to_row(self, row: int) -> None:
        """Shows trace row ``row`` and selects it as a click on its slice does.

        The view pans to centre the slice, keeping the zoom unless the slice would be thinner
        than a few pixels or wider than the view; its lane is scrolled into view. The slice is
        outlined, then ``slice_clicked`` fires (the run panel selects the graph node from it).
        """
        if self._trace is None:
            return
        record = self._trace[row]
        start, end = float(record["start"]), float(record["end"])
        x0, x1 = self.x_range()
        span = x1 - x0
        width_px = max(float(self.view_box.width()), 1.0)
        duration = max(end - start, 1.0)
        if duration > span:  # wider than the view: zoom out to show all of it
            span = duration * _MATCH_MARGIN
        elif duration * width_px / max(span, 1e-9) < _MATCH_MIN_PX:  # too thin to see
            span = duration * _MATCH_SPAN
        # Centred, but not past cycle 0: a slice near the start shows with the run's start
        # at the left edge instead of a stretch of negative cycles.
        lo = max((start + end) / 2.0 - span / 2.0, min(start, 0.0))
        self.view_box.setXRange(lo, lo + span, padding=0)
        lane_y = self.view_pos_of(row).y()
        _, (y0, y1) = self.view_box.viewRange()
        band = self.lane_layout.pinned_height  # pinned lanes cover the top of the view
        if lane_y - 0.5 < y0 + band or lane_y + 0.5 > y1:  # the lane is scrolled away: centre it
            h = y1 - y0
            total = self.lane_layout.total if self._lanes is not None else 1.0
            top = min(max(lane_y - h / 2.0, 0.0), max(total - h, 0.0))
            self.view_box.setYRange(top, top + h, padding=0)
        self.selected_row = int(row)
        mask = np.zeros(len(self._trace), dtype=bool)
        mask[row] = True
        self.highlight_tasks(mask)
        self.row_selected.emit(int(row))
        self.slice_clicked.emit(record)

    def clear_selection(self) -> bool:
        """Drops the selected slice; True when there was one."""
        if self.selected_row is None:
            return False
        self.selected_row = None
        self.row_selected.emit(None)
        return True

    # ---- internals -------------------------------------------------------------------------

    def _rebuild(self, lanes: LaneSet | None = None) -> None:
        assert self._trace is not None
        self._lanes = lanes if lanes is not None else self._build_lanes(self._mode)
        ids = {k: self._palette.get(n) for k, n in enumerate(self._kernel_names)}
        colors = {k: rgb for k, rgb in ids.items() if rgb is not None}
        for k in np.unique(self._trace["kernel"]) if len(self._trace) else ():
            k = int(k)
            if k not in colors:
                fallback = kernel_palette([*self._palette, kernel_name(k, self._kernel_names)])
                colors[k] = fallback[kernel_name(k, self._kernel_names)]
        self.item.set_lanes(self._lanes, colors)
        self.item.set_highlight(self._highlight)
        self.marks.set_lanes(self._lanes)
        self.arrows.set_lanes(self._lanes, self._trace)
        self._update_marks_legend()
        lanes = self._lanes
        self._apply_lane_layout()
        self.set_cycle_limit(float(lanes.makespan))
        self._update_header()
        self._update_legend(colors)

    def _update_marks_legend(self) -> None:
        text = self.marks.legend_html()
        self.marks_legend.setText(text)
        self.marks_legend.setVisible(bool(text))

    def _fit_lanes(self) -> None:
        n = self.lane_layout.total if self._lanes is not None else 1.0
        self.view_box.setYRange(0.0, float(max(n, 1.0)), padding=0)

    # ---- collapsed and pinned lanes (app.views.lane_controls) ----------------------------

    def _apply_lane_layout(self) -> None:
        assert self._lanes is not None
        self.lane_layout = self.lane_controls.layout([ln.label for ln in self._lanes.lanes])
        self.item.set_layout(self.lane_layout)
        self.marks.set_layout(self.lane_layout)
        self.arrows.set_layout(self.lane_layout)
        self._update_lane_ticks()

    def _update_lane_ticks(self, *_args: object) -> None:
        """Lane labels at the lanes' centres (pinned ones where they stick; none for lanes
        under the pinned band)."""
        lanes = self._lanes
        if lanes is None:
            return
        y0 = self._view_top()
        layout = self.lane_layout
        if len(layout.tops) != len(lanes.lanes):
            return
        hidden = layout.covered(y0)
        ticks = [
            (
                layout.centre(i, y0),
                self.lane_controls.label_text(lane.label, lanes.utilisation(lane)),
            )
            for i, lane in enumerate(lanes.lanes)
            if not hidden[i]
        ]
        self.plot_item.getAxis("left").setTicks([ticks, []])

    def _on_lanes_changed(self) -> None:
        """A lane was collapsed, expanded, pinned or unpinned."""
        if self._lanes is None:
            return
        _, (y0, y1) = self.view_box.viewRange()
        self._apply_lane_layout()
        self.set_cycle_limit(float(self._lanes.makespan))
        total = self.lane_layout.total
        h = min(y1 - y0, max(total, 1.0))
        top = min(max(y0, 0.0), max(total - h, 0.0))
        self.view_box.setYRange(top, top + h, padding=0)
        self._update_lane_ticks()

    def lane_label_rect(self, lane: int) -> QtCore.QRectF:
        """Where lane ``lane``'s label is, in the plot widget's coordinates (for a click)."""
        axis = self.plot_item.getAxis("left")
        rect = axis.mapRectToScene(axis.boundingRect())
        y = self.view_box.mapViewToScene(
            QtCore.QPointF(0.0, self.lane_layout.centre(lane, self._view_top()))
        ).y()
        scene_rect = QtCore.QRectF(rect.left(), y - 2.0, rect.width(), 4.0)
        return QtCore.QRectF(self.plot.mapFromScene(scene_rect).boundingRect())

    def _label_click(self, ev: Any) -> bool:
        """A click on a lane label (left axis): collapse / menu. True when it was one."""
        axis = self.plot_item.getAxis("left")
        scene_pos = ev.scenePos()
        if self._lanes is None or not axis.sceneBoundingRect().contains(scene_pos):
            return False
        lane = self.lane_at(float(self.view_box.mapSceneToView(scene_pos).y()))
        if lane is None:
            return False
        ev.accept()
        self.lane_controls.label_clicked(
            self._lanes.lanes[lane].label, ev.button(), ev.screenPos().toPoint()
        )
        return True

    def _update_header(self) -> None:
        if self._lanes is None or self._trace is None:
            self.title_label.setText(self._title or "no run")
            return
        parts = [self._title] if self._title else []
        parts.append(f"{len(self._trace)} tasks, {self._lanes.makespan} cycles")
        self.title_label.setText(" — ".join(parts))

    def _update_legend(self, colors: Mapping[int, tuple[int, int, int]]) -> None:
        if self._trace is None or not len(self._trace):
            self.legend_label.setText("")
            return
        used = sorted(int(k) for k in np.unique(self._trace["kernel"]))
        items = []
        for k in used:
            r, g, b = colors.get(k, (128, 128, 128))
            name = kernel_name(k, self._kernel_names)
            name = html.escape(f"{name} (collective)" if name in COLLECTIVE_KINDS else name)
            items.append(f'<span style="color:#{r:02x}{g:02x}{b:02x}">&#9632;</span>&nbsp;{name}')
        self.legend_label.setText("&nbsp;&nbsp; ".join(items))

    def _tolerance(self) -> float:
        px = self.view_box.viewPixelSize()[0]
        return _HIT_TOLERANCE_PX * px if math.isfinite(px) else 0.0

    def _on_mode_box(self, mode: str) -> None:
        if mode != self._mode:
            self.set_lane_mode(mode)

    def _on_mouse_moved(self, scene_pos: QtCore.QPointF) -> None:
        inside = self.view_box.sceneBoundingRect().contains(scene_pos)
        self._cursor_scene = QtCore.QPointF(scene_pos) if inside else None
        if self._trace is None or not self.view_box.sceneBoundingRect().contains(scene_pos):
            self._set_hover(None, scene_pos)
            return
        p = self.view_box.mapSceneToView(scene_pos)
        row = self.row_at(p.x(), p.y(), self._tolerance())
        if row is None and self._csp is not None:
            self._set_wait_hover(self.wait_text_at(p.x(), p.y()), scene_pos)
            return
        self._set_hover(row, scene_pos)

    def _set_wait_hover(self, text: str, scene_pos: QtCore.QPointF) -> None:
        """Over no slice of a process lane: the wait interval's tooltip, if any."""
        if self._hover_row is not None:
            self._hover_row = None
            self.hovered.emit(None)
        if text == self.hover_text:
            return
        self.hover_text = text
        if not text:
            QtWidgets.QToolTip.hideText()
            return
        view_pt = self.plot.mapFromScene(scene_pos)
        QtWidgets.QToolTip.showText(self.plot.viewport().mapToGlobal(view_pt), text, self.plot)

    def _set_hover(self, row: int | None, scene_pos: QtCore.QPointF) -> None:
        if row == self._hover_row and (row is not None or not self.hover_text):
            return
        self._hover_row = row
        if row is None or self._trace is None:
            self.hover_text = ""
            QtWidgets.QToolTip.hideText()
            self.hovered.emit(None)
            return
        record = self._trace[row]
        self.hover_text = slice_text(record, self._kernel_names, self._trace)
        view_pt = self.plot.mapFromScene(scene_pos)
        QtWidgets.QToolTip.showText(
            self.plot.viewport().mapToGlobal(view_pt), self.hover_text, self.plot
        )
        self.hovered.emit(record)

    def _on_mouse_clicked(self, ev: Any) -> None:
        if self._trace is None or self._label_click(ev):
            return
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        scene_pos = ev.scenePos()
        if not self.view_box.sceneBoundingRect().contains(scene_pos):
            return
        p = self.view_box.mapSceneToView(scene_pos)
        row = self.row_at(p.x(), p.y(), self._tolerance())
        if row is None:
            self.clear_selection()  # a click on empty space
            return
        self.selected_row = row
        self.row_selected.emit(row)
        self.slice_clicked.emit(self._trace[row])

    # ---- keyboard --------------------------------------------------------------------------

    def shortcut_help(self) -> tuple[tuple[str, str], ...]:
        """The keys ``handle_key`` and the mouse handlers take (Help > Keyboard Shortcuts)."""
        return TIMELINE_KEY_HELP

    def handle_key(self, key: int, text: str = "") -> bool:
        """Applies a navigation key; True when it was one (``W A S D + - = arrows F Home Esc``)."""
        K = QtCore.Qt.Key
        if key == K.Key_W:
            self.zoom(1.0 / _WASD_ZOOM_STEP, self.cursor_x())
        elif key == K.Key_S:
            self.zoom(_WASD_ZOOM_STEP, self.cursor_x())
        elif key == K.Key_A:
            self.pan(-_WASD_PAN_FRACTION)
        elif key == K.Key_D:
            self.pan(_WASD_PAN_FRACTION)
        elif key == K.Key_Escape:  # unhandled without a selection: a dialog may close
            return self.clear_range() or self.clear_selection()
        elif key in (K.Key_Plus, K.Key_Equal) or text in ("+", "="):
            self.zoom(1.0 / _ZOOM_STEP)
        elif key in (K.Key_Minus, K.Key_Underscore) or text in ("-", "_"):
            self.zoom(_ZOOM_STEP)
        elif key == K.Key_Left:
            self.pan(-_PAN_FRACTION)
        elif key == K.Key_Right:
            self.pan(_PAN_FRACTION)
        elif key in (K.Key_Up, K.Key_Down):
            _, (y0, y1) = self.view_box.viewRange()
            d = -1.0 if key == K.Key_Up else 1.0
            self.view_box.setYRange(y0 + d, y1 + d, padding=0)
        elif key in (K.Key_F, K.Key_Home):
            self.fit()
        else:
            return False
        return True

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if self.handle_key(event.key(), event.text()):
            event.accept()
        else:
            super().keyPressEvent(event)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        # The plot view would hand +/- to pyqtgraph's zoom history first; take them here.
        t = event.type()
        E = QtCore.QEvent.Type
        if t == E.KeyPress and isinstance(event, QtGui.QKeyEvent):
            if self.handle_key(event.key(), event.text()):
                return True
        elif obj is self.plot.viewport():
            if t == E.Leave:
                self._cursor_scene = None
            elif isinstance(event, QtGui.QMouseEvent) and self._range_drag_event(event):
                return True  # a range selection: pyqtgraph must not pan
        return super().eventFilter(obj, event)

    # ---- range selection (mouse) -----------------------------------------------------------

    def _range_drag_event(self, event: QtGui.QMouseEvent) -> bool:
        """Shift+left drag on the lanes, or a left drag on the ruler, selects a range.

        Handled on the viewport before the graphics view sees it, so that the view box's own
        drag (pan) never starts; a plain drag on the lanes still pans. True: consumed.
        """
        E = QtCore.QEvent.Type
        t = event.type()
        px = event.position()
        scene = self.plot.mapToScene(px.toPoint())
        if t == E.MouseButtonPress:
            if event.button() != QtCore.Qt.MouseButton.LeftButton or self._trace is None:
                return False
            on_lanes = self.view_box.sceneBoundingRect().contains(scene)
            shift = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
            axis = self.plot_item.getAxis("bottom")  # its bounding rect spans the grid lines too
            on_ruler = axis.mapRectToScene(axis.rect()).contains(scene)
            if not ((shift and on_lanes) or on_ruler):
                return False
            x = float(self.view_box.mapSceneToView(scene).x())
            self._drag_anchor = (x, float(px.x()))
            return True
        if self._drag_anchor is None:
            return False
        x = float(self.view_box.mapSceneToView(scene).x())
        anchor_x, anchor_px = self._drag_anchor
        far_enough = abs(float(px.x()) - anchor_px) >= _DRAG_MIN_PX
        if t == E.MouseMove:
            if far_enough:
                self.range_selection.set(anchor_x, x)
            return True
        if t == E.MouseButtonRelease:
            self._drag_anchor = None
            if far_enough:
                self.select_range(anchor_x, x)
            else:  # a Shift+click (or a drag back to its start): no range
                self.clear_range()
            return True
        return False
