"""Perfetto-style navigation on the timeline, driven by real key and mouse events (offscreen).

W/S zoom at the cursor, A/D pan, Shift+drag (or a drag on the ruler) selects a range whose
duration is shown, Esc clears it, and the cycle ruler reads k/M instead of "2e+06".
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.views.cycle_axis import CycleAxis, cycle_label, duration_text
from app.views.timeline import TimelineView
from pto_wsp.runtime.trace import TRACE_DTYPE

K = QtCore.Qt.Key
LEFT = QtCore.Qt.MouseButton.LeftButton
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier
NO_MOD = QtCore.Qt.KeyboardModifier.NoModifier


def _trace(n: int = 64, workers: int = 4) -> np.ndarray:
    """Back-to-back tasks of 1000 cycles each on ``workers`` workers (makespan 16k cycles)."""
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["task"] = np.arange(n)
    tr["worker"] = np.arange(n) % workers
    tr["kernel"] = np.arange(n) % 2
    tr["stream"] = -1
    tr["start"] = (np.arange(n) // workers) * 1000
    tr["end"] = tr["start"] + 1000
    for i in range(4):
        tr[f"idx{i}"] = -1
    tr["idx0"] = np.arange(n)
    return tr


@pytest.fixture
def view(qtbot) -> TimelineView:
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 400)
    v.set_run(_trace(), ["ka", "kb"], title="nav")
    v.show()
    qtbot.waitExposed(v)
    return v


def _px(v: TimelineView, x: float, y: float = 1.5) -> QtCore.QPoint:
    """The viewport pixel of view point (``x`` cycles, ``y`` lanes)."""
    return v.plot.mapFromScene(v.view_box.mapViewToScene(QtCore.QPointF(x, y)))


def _x_at(v: TimelineView, p: QtCore.QPoint) -> float:
    return float(v.view_box.mapSceneToView(v.plot.mapToScene(p)).x())


def _cycles_per_px(v: TimelineView) -> float:
    return float(v.view_box.viewPixelSize()[0])


def _hover(qtbot, v: TimelineView, p: QtCore.QPoint) -> None:
    qtbot.mouseMove(v.plot.viewport(), p)
    qtbot.waitUntil(lambda: v.cursor_x() is not None, timeout=2000)


def _width(v: TimelineView) -> float:
    x0, x1 = v.x_range()
    return x1 - x0


def test_w_zooms_in_around_the_cursor(qtbot, view: TimelineView) -> None:
    x0, x1 = view.x_range()
    target = x0 + 0.3 * (x1 - x0)
    p = _px(view, target)
    _hover(qtbot, view, p)
    before = _x_at(view, p)
    tol = 2 * _cycles_per_px(view)
    qtbot.keyClick(view.plot.viewport(), K.Key_W)
    assert _width(view) == pytest.approx((x1 - x0) / 1.25, rel=1e-6)
    assert _x_at(view, p) == pytest.approx(before, abs=tol)  # the cycle under the cursor stays
    for _ in range(5):
        qtbot.keyClick(view.plot.viewport(), K.Key_W)
    assert _width(view) < (x1 - x0) / 3
    assert _x_at(view, p) == pytest.approx(before, abs=tol)
    nx0, nx1 = view.x_range()
    assert nx0 > x0 + 1 and nx1 < x1 - 1  # not a zoom at the left edge or at the centre only


def test_s_zooms_out_around_the_cursor(qtbot, view: TimelineView) -> None:
    view.zoom(0.25)
    x0, x1 = view.x_range()
    p = _px(view, x0 + 0.7 * (x1 - x0))
    _hover(qtbot, view, p)
    before = _x_at(view, p)
    tol = 2 * _cycles_per_px(view)
    qtbot.keyClick(view.plot.viewport(), K.Key_S)
    assert _width(view) == pytest.approx((x1 - x0) * 1.25, rel=1e-6)
    assert _x_at(view, p) == pytest.approx(before, abs=tol)


def test_w_without_the_cursor_on_the_lanes_zooms_at_the_centre(qtbot, view: TimelineView) -> None:
    x0, x1 = view.x_range()
    assert view.cursor_x() is None
    qtbot.keyClick(view, K.Key_W)
    n0, n1 = view.x_range()
    assert (n0 + n1) / 2 == pytest.approx((x0 + x1) / 2, abs=1e-6 * (x1 - x0))
    assert n1 - n0 == pytest.approx((x1 - x0) / 1.25, rel=1e-6)


def test_held_w_repeats(qtbot, view: TimelineView) -> None:
    w = _width(view)
    vp = view.plot.viewport()
    for auto_repeat in (False, True, True):
        ev = QtGui.QKeyEvent(QtCore.QEvent.Type.KeyPress, K.Key_W, NO_MOD, "w", auto_repeat)
        QtWidgets.QApplication.sendEvent(vp, ev)
    assert _width(view) == pytest.approx(w / 1.25**3, rel=1e-6)


def test_a_and_d_pan_by_a_fifth_of_the_view(qtbot, view: TimelineView) -> None:
    view.zoom(0.25)
    x0, x1 = view.x_range()
    w = x1 - x0
    qtbot.keyClick(view.plot.viewport(), K.Key_D)
    assert view.x_range() == pytest.approx((x0 + 0.2 * w, x1 + 0.2 * w), rel=1e-6)
    qtbot.keyClick(view.plot.viewport(), K.Key_A)
    qtbot.keyClick(view.plot.viewport(), K.Key_A)
    assert view.x_range() == pytest.approx((x0 - 0.2 * w, x1 - 0.2 * w), rel=1e-6)


def test_existing_keys_still_work(qtbot, view: TimelineView) -> None:
    x0, x1 = view.x_range()
    qtbot.keyClick(view.plot, K.Key_Plus)
    assert _width(view) == pytest.approx((x1 - x0) / 2, rel=1e-6)
    qtbot.keyClick(view.plot, K.Key_F)
    assert view.x_range() == pytest.approx((x0, x1))


def _drag(qtbot, v: TimelineView, a: QtCore.QPoint, b: QtCore.QPoint, mod=NO_MOD) -> None:
    vp = v.plot.viewport()
    qtbot.mousePress(vp, LEFT, mod, a)
    steps = 6
    for i in range(1, steps + 1):
        p = QtCore.QPoint(
            a.x() + (b.x() - a.x()) * i // steps, a.y() + (b.y() - a.y()) * i // steps
        )
        ev = QtGui.QMouseEvent(
            QtCore.QEvent.Type.MouseMove,
            QtCore.QPointF(p),
            vp.mapToGlobal(QtCore.QPointF(p)),
            LEFT,
            LEFT,
            mod,
        )
        QtWidgets.QApplication.sendEvent(vp, ev)
    qtbot.mouseRelease(vp, LEFT, mod, b)


def test_shift_drag_selects_a_range_with_its_duration(qtbot, view: TimelineView) -> None:
    seen: list[object] = []
    view.range_selected.connect(seen.append)
    before = view.x_range()
    a, b = _px(view, 3000.0), _px(view, 9000.0)
    xa, xb = _x_at(view, a), _x_at(view, b)
    _drag(qtbot, view, a, b, SHIFT)
    assert view.x_range() == pytest.approx(before)  # a selection, not a pan
    sel = view.selected_range()
    assert sel is not None
    tol = 2 * _cycles_per_px(view)
    assert sel[0] == pytest.approx(xa, abs=tol) and sel[1] == pytest.approx(xb, abs=tol)
    assert view.selected_duration() == pytest.approx(6000.0, abs=tol)
    assert view.range_text == duration_text(view.selected_duration())
    assert view.range_text.endswith(" cycles")
    assert view.range_selection.region in view.plot_item.items
    assert view.range_selection.label.textItem.toPlainText() == view.range_text
    assert seen and seen[-1] == sel
    view.set_clock(0.5)  # 2 GHz: ~6000 cycles = ~3 µs
    d = view.selected_duration()
    assert view.range_text == duration_text(d, 0.5)
    assert view.range_text.endswith(" µs")
    assert float(view.range_text.split(" = ")[1].split()[0]) == pytest.approx(
        d * 0.5 / 1000, abs=1e-3
    )
    assert view.range_selection.label.textItem.toPlainText() == view.range_text


def test_a_right_to_left_drag_selects_the_same_range(qtbot, view: TimelineView) -> None:
    a, b = _px(view, 8000.0), _px(view, 2000.0)
    _drag(qtbot, view, a, b, SHIFT)
    s0, s1 = view.selected_range()
    assert s0 < s1
    assert s1 - s0 == pytest.approx(6000.0, abs=2 * _cycles_per_px(view))


def test_esc_clears_the_selection(qtbot, view: TimelineView) -> None:
    seen: list[object] = []
    view.range_selected.connect(seen.append)
    _drag(qtbot, view, _px(view, 1000.0), _px(view, 5000.0), SHIFT)
    assert view.selected_range() is not None
    qtbot.keyClick(view.plot.viewport(), K.Key_Escape)
    assert view.selected_range() is None and view.range_text == ""
    assert view.range_selection.region not in view.plot_item.items
    assert seen[-1] is None


def test_shift_click_selects_nothing_and_clears(qtbot, view: TimelineView) -> None:
    _drag(qtbot, view, _px(view, 1000.0), _px(view, 5000.0), SHIFT)
    assert view.selected_range() is not None
    p = _px(view, 7000.0)
    qtbot.mouseClick(view.plot.viewport(), LEFT, SHIFT, p)
    assert view.selected_range() is None
    assert view.range_selection.region not in view.plot_item.items


def test_plain_drag_still_pans(qtbot, view: TimelineView) -> None:
    view.zoom(0.5)
    x0, x1 = view.x_range()
    _drag(qtbot, view, _px(view, x0 + 0.6 * (x1 - x0)), _px(view, x0 + 0.3 * (x1 - x0)))
    n0, n1 = view.x_range()
    assert view.selected_range() is None
    assert n1 - n0 == pytest.approx(x1 - x0, rel=1e-3)
    assert n0 > x0 + 0.2 * (x1 - x0)  # dragged left: the view moved right


def test_drag_on_the_ruler_selects_a_range(qtbot, view: TimelineView) -> None:
    axis = view.plot_item.getAxis("bottom")
    ruler_y = view.plot.mapFromScene(axis.mapRectToScene(axis.rect()).center()).y()
    a, b = _px(view, 4000.0), _px(view, 6000.0)
    a.setY(ruler_y)
    b.setY(ruler_y)
    _drag(qtbot, view, a, b)
    assert view.selected_duration() == pytest.approx(2000.0, abs=2 * _cycles_per_px(view))


def test_axis_reads_cycles_with_k_and_m() -> None:
    axis = CycleAxis("bottom")
    assert axis.tickStrings([2e6, 1500.0, 0.0], 1.0, 500.0) == ["2M", "1.5k", "0"]
    assert axis.tickStrings([0.0, 5e5, 1e6, 1.5e6], 1.0, 5e5) == ["0", "500k", "1M", "1.5M"]
    # ticks one cycle apart deep in a long run stay distinct
    labels = axis.tickStrings([1_234_567.0, 1_234_568.0], 1.0, 1.0)
    assert labels == ["1.234567M", "1.234568M"]
    assert cycle_label(2e6) == "2M" and cycle_label(1500) == "1.5k" and cycle_label(0) == "0"


def test_the_timeline_ruler_is_a_cycle_axis(view: TimelineView) -> None:
    axis = view.plot_item.getAxis("bottom")
    assert isinstance(axis, CycleAxis)
    assert axis.labelText == "cycles"
    assert axis.tickStrings([2e6, 1500.0, 0.0], 1.0, 500.0) == ["2M", "1.5k", "0"]


def test_a_zoom_paints_the_slices_once(qtbot, view: TimelineView) -> None:
    """pyqtgraph sets a view's new transform inside the paint event, which marks the scene dirty
    again: each zoom painted the slices twice (twice the frame time at 10^6 slices)."""
    from app.views.timeline_item import TimelineItem

    paints: list[int] = []

    class Counted(TimelineItem):
        def paint(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            paints.append(1)
            return super().paint(*args, **kwargs)

    view.item.__class__ = Counted
    qtbot.wait(50)  # whatever the first show still had queued
    for key in (K.Key_W, K.Key_W, K.Key_D, K.Key_S):
        paints.clear()
        qtbot.keyClick(view.plot.viewport(), key)
        qtbot.wait(60)
        assert len(paints) == 1, f"{len(paints)} paints after one {key.name}"
