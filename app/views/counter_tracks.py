"""Counter tracks under a timeline's lanes: running tasks, utilisation and channel occupancy.

Each track is a small plot whose cycle range is the lanes' (a zoom or pan on either moves both)
and whose left axis is as wide as the lanes' (``LANE_AXIS_WIDTH``), so cycle ``c`` sits at the same pixel in the lanes and in
every track. The series come from the one trace model (``pto_wsp.runtime.counters``, which the
Chrome export's counters read too); this module only picks what to draw for the visible range:

- *Running tasks*: the exact step function while at most ``EXACT_STEPS_MAX`` steps are visible;
  zoomed out further, the peak of each of ``WINDOWS`` windows across the view (a burst narrower
  than a pixel still shows).
- *Utilisation*: busy workers over workers, averaged over each of ``WINDOWS`` windows across the
  visible range. The window follows the zoom: each range change recomputes it from cumulative
  busy time at the window edges (two ``searchsorted`` per edge), so it costs the same at 10^6
  tasks as at 10.
- *Channel occupancy* (CSP runs only): one step curve per channel, the slots in use.

The Tracks menu (``menu``, behind ``button``) has one checkable action per track; a track with
nothing to show (occupancy of a run without channels) is disabled there. A click on a track's
axis labels collapses it to a thin strip (``COLLAPSED_HEIGHT``, its curve still drawn and its
title on the axis behind ▸) and another expands it, like a lane's label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from pto_wsp.runtime.counters import (
    BusyProfile,
    peak_running,
    window_edges,
    windowed_utilisation,
)
from pto_wsp.runtime.csp_trace import CspTrace

from .eager_transform import transform_on_range_change
from .slices import kernel_palette

__all__ = ["CounterTracks", "TRACKS", "WINDOWS", "EXACT_STEPS_MAX", "COLLAPSED_HEIGHT"]

WINDOWS = 120  # windows across the visible range (about 8 px each in a 1000 px wide view)
EXACT_STEPS_MAX = 2 * WINDOWS  # more visible steps than this: draw per-window peaks
COLLAPSED_HEIGHT = 20  # px of a collapsed track
_TOP_MARGIN = 1.3  # the y range reaches past the top value, so its tick label fits


@dataclass(frozen=True)
class _Track:
    key: str
    title: str
    height: int
    tip: str
    shown_by_default: bool


TRACKS: tuple[_Track, ...] = (
    _Track(
        "running",
        "Running tasks",
        56,
        "Tasks running at each cycle; zoomed out, the peak of each window across the view",
        True,
    ),
    _Track(
        "utilisation",
        "Utilisation",
        56,
        f"Busy workers / workers, averaged over each of {WINDOWS} windows across the view "
        "(the window follows the zoom)",
        True,
    ),
    _Track(
        "occupancy",
        "Channel occupancy",
        110,
        "Slots in use of each CSP channel over the run",
        True,
    ),
)


class CounterTracks(QtWidgets.QWidget):
    """The counter tracks of one timeline, x-linked to its lanes' view box ``lanes``."""

    def __init__(self, lanes: pg.ViewBox, axis_width: int,
                 parent: QtWidgets.QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self._lanes = lanes
        self._axis_width = axis_width
        self._trace: np.ndarray | None = None
        self._workers = 1
        self._csp: CspTrace | None = None
        self._end: int | None = None
        self._profile: BusyProfile | None = None  # built when a track first needs it
        self._steps: tuple[np.ndarray, np.ndarray] | None = None
        self._peak_total = 0
        self.running_is_exact = True  # the running-tasks curve holds exact steps (not peaks)
        self.plots: dict[str, pg.PlotWidget] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.occupancy_curves: dict[str, pg.PlotDataItem] = {}
        self.actions: dict[str, QtGui.QAction] = {}
        self.collapsed: set[str] = set()  # keys of the tracks shown as thin strips
        self._scales: dict[str, tuple[float, str, str]] = {}

        self.menu = QtWidgets.QMenu("Tracks", self)
        self.button = QtWidgets.QToolButton()
        self.button.setText("tracks")
        self.button.setToolTip("Show or hide the counter tracks under the lanes")
        self.button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(self.menu)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for track in TRACKS:
            plot = self._make_plot(track)
            layout.addWidget(plot)
            self.plots[track.key] = plot
            action = QtGui.QAction(track.title, self)
            action.setCheckable(True)
            action.setChecked(track.shown_by_default)
            action.setToolTip(track.tip)
            action.toggled.connect(self._apply_visibility)
            self.menu.addAction(action)
            self.actions[track.key] = action
        for key in ("running", "utilisation"):
            curve = pg.PlotDataItem(
                stepMode="center",
                fillLevel=0.0,
                pen=pg.mkPen((70, 110, 170), width=1),
                brush=pg.mkBrush(70, 110, 170, 90),
            )
            self.plots[key].getPlotItem().addItem(curve)
            self.curves[key] = curve
        self.plots["occupancy"].getPlotItem().addLegend(offset=(-10, 5))
        lanes.sigXRangeChanged.connect(self.refresh)
        # The lanes come first in a dock a few hundred pixels tall: the running-tasks and
        # utilisation tracks start as thin strips (their curves still drawn), one click on
        # their labels from full height.
        for key in ("running", "utilisation"):
            self.set_track_collapsed(key, True)
        self._apply_visibility()

    def _make_plot(self, track: _Track) -> pg.PlotWidget:
        plot = pg.PlotWidget()
        pi = plot.getPlotItem()
        pi.hideButtons()
        pi.setMenuEnabled(False)
        pi.showGrid(x=True, y=False, alpha=0.15)
        pi.hideAxis("bottom")  # the lanes' cycle ruler above reads for every track
        left = pi.getAxis("left")
        left.setWidth(self._axis_width)
        left.setStyle(tickLength=0)
        # Its two labels change with the run, not the zoom: repaint them from a pixmap.
        left.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        vb = pi.getViewBox()
        vb.setMouseEnabled(x=True, y=False)
        vb.enableAutoRange(enable=False)
        # The cycle axis is the lanes': a wheel or drag on a track moves the lanes, and every
        # change of the lanes' range is copied here (``refresh``). Not ``setXLink``: pyqtgraph
        # lines linked views up by a screen geometry that counts each plot widget's offset in
        # its parent, so a track laid out in this strip would sit 2 px off the lanes.
        vb.sigRangeChangedManually.connect(lambda _mask, vb=vb: self._lead_lanes(vb))
        transform_on_range_change(vb)  # one paint per zoom, not two
        plot.setFixedHeight(track.height)
        plot.setToolTip(f"{track.tip}. Click the axis labels to collapse or expand the track")
        plot.scene().sigMouseClicked.connect(lambda ev, key=track.key: self._axis_click(key, ev))
        return plot

    # ---- public ----------------------------------------------------------------------------

    def set_run(self, trace: np.ndarray, workers: int, csp: CspTrace | None,
                end: int | None) -> None:  # fmt: skip
        """A new run: ``workers`` is the utilisation's denominator (the configured worker
        count), ``csp`` the run's CSP trace (occupancy), ``end`` the cycle the occupancy curves
        hold their last value to."""
        self._trace = trace
        self._workers = max(int(workers), 1)
        self._csp = csp if csp is not None and csp.channels else None
        self._end = end
        self._profile, self._steps = None, None
        self._set_occupancy()
        self._apply_visibility()

    def available(self, key: str) -> bool:
        """Whether track ``key`` has something to show for the run."""
        if self._trace is None:
            return False
        return self._csp is not None if key == "occupancy" else True

    def is_shown(self, key: str) -> bool:
        """Whether track ``key`` is laid out (checked in the menu and available)."""
        return not self.plots[key].isHidden()

    def set_track_shown(self, key: str, shown: bool) -> None:
        """Checks or unchecks track ``key``'s action (what the Tracks menu does)."""
        self.actions[key].setChecked(shown)

    def set_track_collapsed(self, key: str, collapsed: bool) -> None:
        """Shows track ``key`` as a thin strip (True) or at its height."""
        (self.collapsed.add if collapsed else self.collapsed.discard)(key)
        track = next(t for t in TRACKS if t.key == key)
        self.plots[key].setFixedHeight(COLLAPSED_HEIGHT if collapsed else track.height)
        if key in self._scales:
            self._set_scale(key, *self._scales[key])

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` drawn by the ``running`` or ``utilisation`` track (x one longer than y,
        window or step edges in cycles; utilisation in percent)."""
        x, y = self.curves[key].getData()
        if x is None or y is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(x), np.asarray(y)

    def refresh(self, *_: object) -> None:
        """Recomputes the running-tasks and utilisation series for the lanes' visible range."""
        (x0, x1), _ = self._lanes.viewRange()
        if not (math.isfinite(x0) and math.isfinite(x1)) or x1 <= x0:
            return
        for plot in self.plots.values():
            plot.getPlotItem().getViewBox().setXRange(x0, x1, padding=0)
        if self._trace is None or not len(self._trace):
            for curve in self.curves.values():
                curve.setData([], [])
            return
        edges = window_edges(x0, x1, WINDOWS)
        if self._wanted("utilisation"):
            util = windowed_utilisation(self._busy_profile(), edges, self._workers)
            self.curves["utilisation"].setData(edges, 100.0 * util)
        if self._wanted("running"):
            x, y = self._running(edges)
            self.curves["running"].setData(x, y)

    # ---- internals -------------------------------------------------------------------------

    def _lead_lanes(self, vb: pg.ViewBox) -> None:
        """A user zoomed or panned a track: the lanes take its range (and clamp it to the run);
        their range change brings every track along."""
        (x0, x1), _ = vb.viewRange()
        self._lanes.setXRange(x0, x1, padding=0)
        self.refresh()  # when the lanes' clamp left their range as it was

    def _wanted(self, key: str) -> bool:
        return self.actions[key].isChecked() and self.available(key)

    def _busy_profile(self) -> BusyProfile:
        if self._profile is None:
            assert self._trace is not None
            self._profile = BusyProfile.of(self._trace)
        return self._profile

    def _running_steps(self) -> tuple[np.ndarray, np.ndarray]:
        if self._steps is None:
            self._steps = self._busy_profile().steps()
        return self._steps

    def _running(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Exact steps in view when few, else the peak of each window."""
        times, running = self._running_steps()
        x0, x1 = float(edges[0]), float(edges[-1])
        lo = max(int(np.searchsorted(times, np.int64(math.floor(x0)), "right")) - 1, 0)
        hi = int(np.searchsorted(times, np.int64(math.ceil(x1)), "left"))
        hi = min(max(hi, lo + 1), len(times))
        self.running_is_exact = hi - lo <= EXACT_STEPS_MAX
        if not self.running_is_exact:
            return edges, peak_running(times, running, edges).astype(np.float64)
        x = times[lo:hi].astype(np.float64)
        y = running[lo:hi].astype(np.float64)
        if lo == 0 and x0 < x[0]:  # nothing runs before the first step
            x, y = np.concatenate(([x0], x)), np.concatenate(([0.0], y))
        return np.append(x, max(x1, x[-1] + 1.0)), y

    def _set_occupancy(self) -> None:
        """One step curve per channel: the slots in use over the run."""
        pi = self.plots["occupancy"].getPlotItem()
        for curve in self.occupancy_curves.values():
            pi.removeItem(curve)
        self.occupancy_curves = {}
        csp = self._csp
        if csp is None:
            return
        palette = kernel_palette([f"channel {name}" for name in csp.channels])
        top = 1
        for c, name in enumerate(csp.channels):
            x, y = csp.occupancy_steps(c, self._end)
            rgb = palette[f"channel {name}"]
            curve = pg.PlotDataItem(x, y, stepMode="center", pen=pg.mkPen(rgb, width=2), name=name)
            pi.addItem(curve)
            self.occupancy_curves[name] = curve
            top = max(top, int(y.max()) if len(y) else 0)
        self._set_scale("occupancy", float(top), f"slots  {top}", "0")

    def _set_scale(self, key: str, top: float, top_text: str, zero_text: str) -> None:
        """The track's y range (0 to past ``top``) and its two axis labels (collapsed: the
        track's title)."""
        self._scales[key] = (top, top_text, zero_text)
        pi = self.plots[key].getPlotItem()
        pi.getViewBox().setYRange(0.0, top * _TOP_MARGIN, padding=0)
        if key in self.collapsed:
            title = next(t.title for t in TRACKS if t.key == key)
            ticks = [(top * _TOP_MARGIN / 2.0, f"▸ {title}")]
        else:
            ticks = [(top, top_text), (0.0, zero_text)]
        pi.getAxis("left").setTicks([ticks, []])

    def _axis_click(self, key: str, ev: Any) -> None:
        """A left click on track ``key``'s axis labels collapses or expands it."""
        axis = self.plots[key].getPlotItem().getAxis("left")
        if ev.button() == QtCore.Qt.MouseButton.LeftButton and axis.sceneBoundingRect().contains(
            ev.scenePos()
        ):
            self.set_track_collapsed(key, key not in self.collapsed)

    def _apply_visibility(self, *_: object) -> None:
        for track in TRACKS:
            key = track.key
            self.actions[key].setEnabled(self.available(key))
            self.plots[key].setVisible(self._wanted(key))
        if self._trace is not None and len(self._trace) and self._wanted("running"):
            self._peak_total = int(self._running_steps()[1].max())
            top = max(self._peak_total, 1)
            self._set_scale("running", float(top), f"running  {top}", "0")
        self._set_scale("utilisation", 100.0, "utilisation  100%", "0%")
        self.setVisible(any(self._wanted(t.key) for t in TRACKS))
        self.refresh()
