"""The timeline's counter tracks (running tasks, windowed utilisation) on a real cpu_sim run:
the series against numpy over the trace, following the zoom, aligned with the lanes, and shown
or hidden from the Tracks menu (offscreen, pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from test_timeline import _run

from app.views.counter_tracks import EXACT_STEPS_MAX, WINDOWS
from app.views.timeline import TimelineView
from pto_wsp.runtime.trace import TRACE_DTYPE


@pytest.fixture(scope="module")
def run4():
    return _run(4)


@pytest.fixture
def view(qtbot, run4) -> TimelineView:
    trace, names, _ = run4
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 420)
    v.set_run(trace, names, title="run 4", num_workers=4)
    v.show()
    qtbot.waitExposed(v)
    return v


def running_at(trace: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Tasks running at each cycle (``start <= c < end``), by brute force."""
    s, e = trace["start"][None, :], trace["end"][None, :]
    c = cycles[:, None]
    return ((s <= c) & (c < e)).sum(axis=1)


def busy_in_windows(trace: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Task-cycles inside each window: every task's overlap with every window."""
    s = trace["start"].astype(np.float64)[:, None]
    e = trace["end"].astype(np.float64)[:, None]
    return np.clip(np.minimum(e, edges[None, 1:]) - np.maximum(s, edges[None, :-1]), 0, None).sum(0)


def test_tracks_show_running_tasks_and_utilisation_of_the_run(view: TimelineView, run4) -> None:
    trace, _, total = run4
    tracks = view.counter_tracks
    assert tracks.is_shown("running") and tracks.is_shown("utilisation")
    assert tracks.plots["running"].isVisible() and tracks.plots["utilisation"].isVisible()
    assert not tracks.is_shown("occupancy")  # no channels in this run
    assert not tracks.actions["occupancy"].isEnabled()
    x0, x1 = view.x_range()
    # Running tasks: 16 tasks, few steps, so the exact step function, from x0 (nothing yet).
    assert tracks.running_is_exact
    x, y = tracks.series("running")
    assert len(x) == len(y) + 1 and x[0] == pytest.approx(x0) and x[-1] >= total
    assert y[0] == 0 and y.max() == running_at(trace, np.arange(total)).max()
    # At every cycle of the run the curve holds the number of tasks running then.
    cycles = np.arange(total)
    held = y[np.searchsorted(x, cycles, side="right") - 1]
    assert held.tolist() == running_at(trace, cycles).tolist()
    # Utilisation: WINDOWS windows across the view, busy task-cycles / (width x 4 workers).
    ex, util = tracks.series("utilisation")
    assert len(util) == WINDOWS
    assert ex[0] == pytest.approx(x0) and ex[-1] == pytest.approx(x1)
    expected = 100.0 * busy_in_windows(trace, ex) / (np.diff(ex) * 4)
    assert util == pytest.approx(expected, abs=1e-9)
    assert 0 < util.max() <= 100.0
    # Integrated over the view, the curve holds the run's busy time.
    busy = float(np.sum(util / 100.0 * np.diff(ex)) * 4)
    assert busy == pytest.approx(float(np.sum(trace["end"] - trace["start"])))


def test_tracks_follow_the_zoom(qtbot, view: TimelineView, run4) -> None:
    trace, _, total = run4
    tracks = view.counter_tracks
    view.plot.setFocus()
    for _ in range(3):  # Perfetto's W: zoom in at the view centre (no cursor over the lanes)
        qtbot.keyClick(view.plot, QtCore.Qt.Key.Key_W)
    qtbot.keyClick(view.plot, QtCore.Qt.Key.Key_D)  # and pan right
    x0, x1 = view.x_range()
    assert x1 - x0 < 0.6 * total
    ex, util = tracks.series("utilisation")
    assert ex[0] == pytest.approx(x0) and ex[-1] == pytest.approx(x1)  # the windows follow
    expected = 100.0 * busy_in_windows(trace, ex) / (np.diff(ex) * 4)
    assert util == pytest.approx(expected, abs=1e-9)
    x, y = tracks.series("running")
    inside = np.arange(int(np.ceil(x0)), int(np.floor(x1)))
    held = y[np.searchsorted(x, inside, side="right") - 1]
    assert held.tolist() == running_at(trace, inside).tolist()
    # The tracks' cycle axis is the lanes': a cycle sits at the same pixel column in each.
    c = (x0 + x1) / 2.0
    lanes_px = view.view_box.mapViewToScene(QtCore.QPointF(c, 0)).x()
    lanes_px = view.plot.mapToGlobal(view.plot.mapFromScene(QtCore.QPointF(lanes_px, 0))).x()
    for key in ("running", "utilisation"):
        plot = tracks.plots[key]
        vb = plot.getPlotItem().getViewBox()
        scene_x = vb.mapViewToScene(QtCore.QPointF(c, 0)).x()
        px = plot.mapToGlobal(plot.mapFromScene(QtCore.QPointF(scene_x, 0))).x()
        assert abs(px - lanes_px) <= 1


def test_wheel_on_a_track_zooms_the_lanes(qtbot, view: TimelineView) -> None:
    plot = view.counter_tracks.plots["utilisation"]
    before = view.x_range()
    pos = QtCore.QPointF(plot.viewport().width() * 0.6, plot.viewport().height() / 2)
    event = QtGui.QWheelEvent(
        pos, plot.viewport().mapToGlobal(pos), QtCore.QPoint(0, 0), QtCore.QPoint(0, 240),
        QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QtCore.QCoreApplication.sendEvent(plot.viewport(), event)
    after = view.x_range()
    assert after[1] - after[0] < before[1] - before[0]  # zoomed in, lanes and tracks alike
    ex, _ = view.counter_tracks.series("utilisation")
    assert (ex[0], ex[-1]) == pytest.approx(after)


def test_tracks_menu_hides_and_shows_a_track(qtbot, view: TimelineView) -> None:
    tracks = view.counter_tracks
    lanes_height = view.plot.height()
    tracks.actions["utilisation"].trigger()  # what the menu entry does
    qtbot.waitUntil(lambda: not tracks.plots["utilisation"].isVisible())
    assert tracks.plots["running"].isVisible()
    tracks.actions["running"].trigger()
    qtbot.waitUntil(lambda: not tracks.isVisible())  # no track left: the strip goes
    qtbot.waitUntil(lambda: view.plot.height() > lanes_height)  # the lanes take the room
    tracks.actions["utilisation"].trigger()
    qtbot.waitUntil(lambda: tracks.plots["utilisation"].isVisible())
    # A track shown again draws the current view's windows.
    ex, _ = tracks.series("utilisation")
    assert (ex[0], ex[-1]) == pytest.approx(view.x_range())
    assert [a.text() for a in tracks.menu.actions()] == [
        "Running tasks", "Utilisation", "Channel occupancy",
    ]  # fmt: skip


def test_zoomed_out_running_track_draws_window_peaks(qtbot) -> None:
    # 4000 tasks on 8 workers: far more steps than the track draws at fit.
    rng = np.random.default_rng(5)
    n = 4000
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["task"] = np.arange(n)
    tr["worker"] = np.arange(n) % 8
    tr["stream"] = -1
    tr["start"] = rng.integers(0, 20_000, n)
    tr["end"] = tr["start"] + rng.integers(1, 40, n)
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 400)
    v.set_run(tr, ["k"], num_workers=8)
    v.show()
    qtbot.waitExposed(v)
    tracks = v.counter_tracks
    assert not tracks.running_is_exact
    x, peak = tracks.series("running")
    assert len(peak) == WINDOWS
    # Reference: the most tasks running at any integer cycle of each window (or its left edge).
    cycles = np.arange(int(np.floor(x[0])), int(np.ceil(x[-1])) + 1)
    at = running_at(tr, cycles)
    expected = []
    for a, b in zip(x[:-1], x[1:], strict=True):
        inside = (cycles > a) & (cycles < b)
        left = at[np.searchsorted(cycles, np.floor(a))]
        expected.append(max(int(left), int(at[inside].max()) if inside.any() else 0))
    assert peak.tolist() == expected
    # Zoomed in to a few steps, the curve is exact again.
    v.view_box.setXRange(10_000, 10_100, padding=0)
    assert tracks.running_is_exact
    x, y = tracks.series("running")
    assert len(y) <= EXACT_STEPS_MAX + 1
    inside = np.arange(10_000, 10_100)
    held = y[np.searchsorted(x, inside, side="right") - 1]
    assert held.tolist() == running_at(tr, inside).tolist()
