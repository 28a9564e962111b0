"""The timeline and compare views on real cpu_sim traces (offscreen, pytest-qt)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from app.views.compare import CompareView
from app.views.slices import slice_text
from app.views.timeline import TimelineView
from pto_wsp import DispatchPolicy, In, Out, P, Tensor, kernel, pto, workload
from pto_wsp.errors import PtoError

F32 = np.float32


@kernel
def tl_double(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, x))


@kernel
def tl_copy(x: In[Tensor], y: Out[Tensor]): ...


def _run(workers: int, streams: int = 0):
    X = Tensor(np.ones((8, 4, 16), F32))
    Y = Tensor(np.zeros((8, 4, 16), F32))
    Z = Tensor(np.zeros((8, 4, 16), F32))

    @workload
    def wl():
        for b in P(8):
            tl_double[b](x=X[b], y=Y[b])
            tl_copy[b](x=Y[b], y=Z[b])

    w = wl().dispatch(DispatchPolicy.round_robin(workers))
    if streams:
        w = w.streams(streams).stream_by(lambda t: t.get("b") % streams)
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return np.array(program.trace), list(program.kernel_names), int(program.stats.total_cycles)


@pytest.fixture(scope="module")
def run4():
    return _run(4)


@pytest.fixture(scope="module")
def run2():
    return _run(2)


@pytest.fixture
def view(qtbot, run4) -> TimelineView:
    trace, names, _ = run4
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 400)
    v.set_run(trace, names, title="run 4")
    v.show()
    qtbot.waitExposed(v)
    return v


def _viewport_point(v: TimelineView, x: float, y: float) -> QtCore.QPoint:
    scene = v.view_box.mapViewToScene(QtCore.QPointF(x, y))
    return v.plot.mapFromScene(scene)


def test_item_holds_every_record_with_simulator_cycles(view: TimelineView, run4) -> None:
    trace, names, total = run4
    assert view.item.slice_count == len(trace) == 16
    rows, starts, ends = view.item.slice_rows()
    assert sorted(rows.tolist()) == list(range(len(trace)))
    assert starts.tolist() == trace["start"][rows].tolist()
    assert ends.tolist() == trace["end"][rows].tolist()
    assert view.lanes.makespan == total
    assert [lane.label for lane in view.lanes.lanes] == [f"worker {w}" for w in range(4)]
    assert "tl_double" in view.legend_label.text() and "tl_copy" in view.legend_label.text()
    ticks = view.plot_item.getAxis("left")._tickLevels[0]
    assert all(label.endswith("%") for _, label in ticks)


def test_fit_shows_the_whole_makespan(view: TimelineView, run4) -> None:
    _, _, total = run4
    view.zoom(0.01)
    view.fit()
    x0, x1 = view.x_range()
    assert x0 <= 0 and x1 >= total
    assert x1 - x0 < 1.2 * total


def test_keyboard_zoom_pan_and_fit(qtbot, view: TimelineView) -> None:
    x0, x1 = view.x_range()
    qtbot.keyClick(view.plot, QtCore.Qt.Key.Key_Plus)
    z0, z1 = view.x_range()
    assert z1 - z0 == pytest.approx((x1 - x0) / 2, rel=1e-6)
    qtbot.keyClick(view.plot, QtCore.Qt.Key.Key_Right)
    p0, p1 = view.x_range()
    assert p0 == pytest.approx(z0 + 0.1 * (z1 - z0), rel=1e-6)
    qtbot.keyClick(view, QtCore.Qt.Key.Key_Minus)
    m0, m1 = view.x_range()
    assert m1 - m0 == pytest.approx(x1 - x0, rel=1e-6)
    qtbot.keyClick(view, QtCore.Qt.Key.Key_Plus)
    qtbot.keyClick(view, QtCore.Qt.Key.Key_F)
    assert view.x_range() == pytest.approx((x0, x1))


def test_hover_at_slice_centre_shows_its_tooltip(qtbot, view: TimelineView, run4) -> None:
    trace, names, _ = run4
    row = 5
    c = view.view_pos_of(row)
    assert view.tooltip_at(c.x(), c.y()) == slice_text(trace[row], names)
    seen: list[object] = []
    view.hovered.connect(seen.append)
    pos = _viewport_point(view, c.x(), c.y())
    event = QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove,
        QtCore.QPointF(pos),
        view.plot.viewport().mapToGlobal(QtCore.QPointF(pos)),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(view.plot.viewport(), event)
    qtbot.waitUntil(lambda: bool(seen), timeout=2000)
    assert int(seen[-1]["task"]) == int(trace[row]["task"])
    assert view.hover_text == slice_text(trace[row], names)
    text = view.hover_text.splitlines()
    start, end = int(trace[row]["start"]), int(trace[row]["end"])
    assert text[-1] == f"start {start}  end {end}  cycles {end - start}"
    assert text[0].startswith(names[int(trace[row]["kernel"])] + "[")


def test_click_emits_the_slice_record(qtbot, view: TimelineView, run4) -> None:
    trace, _, _ = run4
    row = 9
    c = view.view_pos_of(row)
    with qtbot.waitSignal(view.slice_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(
            view.plot.viewport(),
            QtCore.Qt.MouseButton.LeftButton,
            pos=_viewport_point(view, c.x(), c.y()),
        )
    record = blocker.args[0]
    assert int(record["task"]) == int(trace[row]["task"])
    assert int(record["start"]) == int(trace[row]["start"])


def test_painted_pixels_follow_kernel_colours_and_highlight(view: TimelineView, run4) -> None:
    trace, names, _ = run4
    row = 0
    c = view.view_pos_of(row)
    image = view.plot.grab().toImage()
    pos = _viewport_point(view, c.x(), c.y())
    rgb = view.palette[names[int(trace[row]["kernel"])]]
    assert QtGui.QColor(image.pixel(pos)).getRgb()[:3] == rgb
    before = view.item.last_rect_count
    view.highlight_tasks([int(trace[row]["task"])])
    view.plot.grab()
    assert view.item.last_rect_count == before + 1  # one outline rect for one task
    view.highlight_tasks(None)
    view.plot.grab()
    assert view.item.last_rect_count == before


def test_highlight_node_through_task_to_node(qtbot, run4) -> None:
    trace, names, _ = run4
    v = TimelineView()
    qtbot.addWidget(v)
    v.set_run(trace, names, task_to_node=lambda r: f"node-{int(r['kernel'])}")
    v.highlight_node("node-1")
    assert v.item._highlight  # outlines exist for the tl_copy tasks
    count = sum(len(h[0]) for h in v.item._highlight if h is not None)
    assert count == int((trace["kernel"] == 1).sum())
    with pytest.raises(PtoError, match="task_to_node"):
        _no_mapping(qtbot, trace, names)


def _no_mapping(qtbot, trace, names) -> None:
    v = TimelineView()
    qtbot.addWidget(v)
    v.set_run(trace, names)
    v.highlight_node("x")


def test_stream_lanes(qtbot) -> None:
    trace, names, _ = _run(4, streams=2)
    v = TimelineView()
    qtbot.addWidget(v)
    v.set_run(trace, names)
    assert v.mode_box.isEnabled()
    v.set_lane_mode("streams")
    assert [lane.label for lane in v.lanes.lanes] == ["stream 0", "stream 1"]
    assert v.item.slice_count == len(trace)
    v.set_lane_mode("workers")
    assert v.lanes.lanes[0].label == "worker 0"


def test_idle_workers_get_lanes(qtbot) -> None:
    # 16 tasks dealt round robin over 20 configured workers: workers 16..19 run nothing.
    X = Tensor(np.ones((16, 4, 16), F32))
    Y = Tensor(np.zeros((16, 4, 16), F32))

    @workload
    def wl():
        for b in P(16):
            tl_copy[b](x=X[b], y=Y[b])

    program = wl().dispatch(DispatchPolicy.round_robin(20)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    assert program.stats.num_workers == 20
    trace = np.array(program.trace)
    assert sorted(set(trace["worker"].tolist())) == list(range(16))
    v = TimelineView()
    qtbot.addWidget(v)
    v.set_run(trace, list(program.kernel_names), num_workers=program.stats.num_workers)
    lanes = v.lanes.lanes
    assert [lane.label for lane in lanes] == [f"worker {w}" for w in range(20)]
    assert [len(lane) for lane in lanes[16:]] == [0, 0, 0, 0]
    ticks = dict(v.plot_item.getAxis("left")._tickLevels[0])
    assert ticks[19.5] == "▾ worker 19  0%"  # ▾: the lane can be collapsed
    assert v.item.slice_count == 16
    # Without the count (an older stats file): only the workers that ran something.
    v.set_run(trace, list(program.kernel_names))
    assert len(v.lanes.lanes) == 16


def test_streams_mode_without_streams_is_a_clear_error(view: TimelineView) -> None:
    assert not view.mode_box.isEnabled()
    with pytest.raises(PtoError, match="needs a trace with streams"):
        view.set_lane_mode("streams")
    assert view.lane_mode == "workers"
    with pytest.raises(PtoError, match="unknown lane mode"):
        view.set_lane_mode("lanes")


def test_compare_header_shows_the_difference(qtbot, run4, run2) -> None:
    t4, n4, total4 = run4
    t2, n2, total2 = run2
    cv = CompareView()
    qtbot.addWidget(cv)
    cv.resize(900, 600)
    cv.set_runs(t4, n4, t2, n2, "4 workers", "2 workers")
    d = cv.diff
    assert (d.total_a, d.total_b) == (total4, total2)
    assert d.delta == total2 - total4
    text = cv.header_text()
    pct = 100.0 * (total2 - total4) / total4
    assert f"4 workers: {total4} cycles" in text
    assert f"2 workers - 4 workers: {total2 - total4:+d} cycles ({pct:+.1f}%)" in text
    busy = {lane.label: lane for lane in d.lanes}
    assert busy["worker 3"].busy_b == 0 and busy["worker 3"].busy_a > 0
    assert f"worker 3: busy {busy['worker 3'].busy_a} -> 0" in text
    assert cv.header.text()  # rendered
    # linked x axes: zooming A moves B
    cv.view_a.zoom(0.25)
    assert cv.view_b.x_range() == pytest.approx(cv.view_a.x_range())
    # one palette: a kernel has one colour in both runs
    assert cv.view_a.palette == cv.view_b.palette
