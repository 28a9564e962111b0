"""The timeline's arrow and outline layers, and the critical path drawn with them (offscreen).

The pixel checks grab the widget as the user sees it (``QWidget.grab``) and look for the
critical path's colour between two consecutive path slices, where only an arrow can put it.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from app.views.timeline import TimelineView
from app.views.timeline_arrows import CRITICAL_STYLE, FLOW_STYLE, TimelineArrows
from app.views.timeline_marks import READS_MARK, WRITES_MARK
from pto_wsp import DispatchPolicy, In, Out, P, Tensor, kernel, pto, workload
from pto_wsp.errors import PtoError
from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_analysis import critical_path

F32 = np.float32


@kernel
def ar_produce(x: In[Tensor], t: Out[Tensor]):
    pto.store(t, pto.add(x, x))


@kernel
def ar_consume(t: In[Tensor], z: Out[Tensor]):
    pto.store(z, pto.mul(t, t))


def _chain_run(workers: int = 3):
    X = Tensor(np.ones((6, 4, 16), F32))
    T = Tensor(np.zeros((6, 4, 16), F32))
    Z = Tensor(np.zeros((6, 4, 16), F32))

    @workload
    def wl():
        for b in P(6):
            ar_produce[b](x=X[b], t=T[b])
            ar_consume[b](t=T[b], z=Z[b])

    program = wl().dispatch(DispatchPolicy.round_robin(workers)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return np.array(program.trace), list(program.kernel_names)


@pytest.fixture(scope="module")
def chain():
    return _chain_run()


@pytest.fixture
def view(qtbot, chain) -> TimelineView:
    trace, names = chain
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 420)
    v.set_run(trace, names, title="chain")
    v.show()
    qtbot.waitExposed(v)
    return v


def _widget_point(v: TimelineView, x: float, y: float) -> QtCore.QPoint:
    scene = v.view_box.mapViewToScene(QtCore.QPointF(x, y))
    return v.plot.viewport().mapTo(v, v.plot.mapFromScene(scene))


def _pixels(v: TimelineView) -> np.ndarray:
    """The widget as shown, an (h, w, 3) RGB array."""
    image = v.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine() // 4, 4)
    return raw[:, :w, 2::-1].astype(np.int16)  # BGRA in memory -> RGB


def _near(pixels: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    return np.all(np.abs(pixels - np.asarray(rgb, np.int16)) <= tol, axis=-1)


def _lane_of(v: TimelineView, row: int) -> int:
    return int(v.view_pos_of(row).y())


def test_critical_path_outlines_its_slices_and_joins_them_with_arrow_pixels(
    qtbot, view: TimelineView, chain
) -> None:
    trace, _ = chain
    cp = view.highlight_critical_path(True)
    assert np.array_equal(cp.rows, critical_path(trace).rows) and len(cp.rows) >= 2
    assert view.critical_path_shown
    outlined = view.marks.mask("critical path")
    assert outlined is not None and np.flatnonzero(outlined).tolist() == sorted(cp.rows.tolist())
    src, dst = view.arrows.arrows("critical path")
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == sorted(
        zip(cp.rows[:-1].tolist(), cp.rows[1:].tolist(), strict=True)
    )
    assert "critical path" in view.marks_legend.text() and view.marks_legend.isVisible()
    # a consecutive pair on two lanes: its arrow crosses the gap between the lanes
    pairs = [
        (int(a), int(b))
        for a, b in zip(cp.rows[:-1], cp.rows[1:], strict=True)
        if _lane_of(view, int(a)) != _lane_of(view, int(b))
    ]
    assert pairs, "the chain's path hops between workers"
    a, b = pairs[0]
    xa, la = float(trace["end"][a]), _lane_of(view, a) + 0.5
    xb, lb = float(trace["start"][b]), _lane_of(view, b) + 0.5
    mid = _widget_point(view, (xa + xb) / 2.0, (la + lb) / 2.0)
    qtbot.wait(10)
    pixels = _pixels(view)
    box = pixels[mid.y() - 3 : mid.y() + 4, mid.x() - 3 : mid.x() + 4]
    assert _near(box, CRITICAL_STYLE.rgb).any(), "no arrow pixels between the two slices"
    assert view.arrows.last_arrow_count >= 1

    view.highlight_critical_path(False)
    assert not view.critical_path_shown and not view.marks_legend.isVisible()
    qtbot.wait(10)
    pixels = _pixels(view)
    assert not _near(pixels, CRITICAL_STYLE.rgb, tol=12).any()  # no outline, no arrow left


def test_arrow_sets_resolve_rows_to_the_lanes_of_the_current_mode(view: TimelineView, chain):
    trace, _ = chain
    arrows = view.arrows
    n = len(trace)
    arrows.set_arrows("flows", np.arange(n - 1), np.arange(1, n), FLOW_STYLE)
    assert arrows.names() == ["flows"] and arrows.is_visible("flows")
    assert len(arrows.arrows("flows")[0]) == n - 1
    arrows.set_visible("flows", False)
    assert not arrows.is_visible("flows")
    view.set_lane_mode("workers")  # a rebuild keeps the set (re-resolved), and its visibility
    assert arrows.names() == ["flows"] and not arrows.is_visible("flows")
    with pytest.raises(PtoError, match="outside the trace"):
        arrows.set_arrows("bad", np.array([0]), np.array([n]))
    with pytest.raises(PtoError, match="2 sources but 1 destinations"):
        arrows.set_arrows("bad", np.array([0, 1]), np.array([1]))
    with pytest.raises(PtoError, match="no arrow set"):
        arrows.set_visible("nope", True)
    view.set_run(trace, view.kernel_names)  # a new run: its own arrows only (its flows)
    src, dst = arrows.arrows("flows")
    assert arrows.names() == ["flows"] and np.array_equal(src, view.flows.gates()[dst])


def test_arrows_to_a_lane_that_is_not_shown_are_skipped(qtbot) -> None:
    tr = np.zeros(3, dtype=TRACE_DTYPE)
    tr["task"] = [0, 1, 2]
    tr["worker"] = [0, 1, 0]
    tr["start"] = [0, 20, 50]
    tr["end"] = [10, 40, 60]
    tr["stream"] = -1
    from pto_wsp.runtime.lanes import build_lanes

    lanes = build_lanes(tr, "workers")
    hidden = type(lanes)(lanes.mode, lanes.lanes[:1], lanes.makespan, lanes.slice_count)
    item = TimelineArrows()
    item.set_lanes(hidden, tr)  # worker 1's lane is not shown
    item.set_arrows("flows", np.array([0, 0]), np.array([1, 2]), FLOW_STYLE)
    src, dst = item.arrows("flows")
    assert src.tolist() == [0] and dst.tolist() == [2]
    item.set_lanes(lanes, tr)  # shown again: both arrows come back
    assert item.arrows("flows")[1].tolist() == [1, 2]


def test_arrow_paint_is_culled_to_the_view_and_merged_at_pixel_resolution(qtbot) -> None:
    n = 200_000
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["task"] = np.arange(n)
    tr["worker"] = np.arange(n) % 8
    tr["start"] = np.arange(n) * 10
    tr["end"] = tr["start"] + 15
    tr["stream"] = -1
    from pto_wsp.runtime.lanes import build_lanes

    item = TimelineArrows()
    item.set_lanes(build_lanes(tr, "workers"), tr)
    item.set_arrows("flows", np.arange(n - 1), np.arange(1, n), FLOW_STYLE)
    image = QtGui.QImage(800, 400, QtGui.QImage.Format.Format_ARGB32_Premultiplied)

    def paint(x0: float, x1: float) -> int:
        image.fill(0)
        p = QtGui.QPainter(image)
        sx = 800 / (x1 - x0)
        p.setTransform(QtGui.QTransform(sx, 0, 0, 50.0, -x0 * sx, 0))
        item.paint(p)
        p.end()
        return item.last_arrow_count

    zoomed = paint(5_000.0, 5_400.0)  # ~40 arrows in view
    assert 30 <= zoomed <= 50 and item.last_skipped == []
    # 2*10^5 flows in view: past FLOW_STYLE.max_visible, the set waits for a closer zoom
    assert paint(0.0, float(n * 10)) == 0 and item.last_skipped == ["flows"]
    # without a limit, they are merged to what 800 px can show
    item.set_arrows("flows", np.arange(n - 1), np.arange(1, n), CRITICAL_STYLE)
    fit = paint(0.0, float(n * 10))
    assert 0 < fit <= 800 * 8 * 2


def test_reads_and_writes_marks_are_two_styles_in_the_legend(view: TimelineView, chain) -> None:
    trace, names = chain
    produce = trace["kernel"] == names.index("ar_produce")
    consume = trace["kernel"] == names.index("ar_consume")
    view.mark_tasks("reads", consume, READS_MARK)
    view.mark_tasks("writes", produce, WRITES_MARK)
    assert np.array_equal(view.marks.mask("reads"), consume)
    assert np.array_equal(view.marks.mask("writes"), produce)
    legend = view.marks_legend.text()
    assert "reads" in legend and "writes" in legend
    view.set_lane_mode("workers")
    assert np.array_equal(view.marks.mask("reads"), consume)  # kept across a rebuild
    view.mark_tasks("reads", None, READS_MARK)
    assert view.marks.mask("reads") is None and "reads" not in view.marks_legend.text()


def test_arrows_and_outlines_follow_a_pinned_and_a_collapsed_lane(qtbot, view: TimelineView, chain):
    """Pinning moves a lane to the top and collapsing thins it: the path's arrow must still
    join the two slices where they are now drawn, not where their lanes were."""
    trace, _ = chain
    cp = view.highlight_critical_path(True)
    pairs = [
        (int(a), int(b))
        for a, b in zip(cp.rows[:-1], cp.rows[1:], strict=True)
        if int(trace["worker"][a]) != int(trace["worker"][b])
    ]
    a, b = pairs[0]
    lanes = view.lanes
    assert lanes is not None
    label_b = next(ln.label for ln in lanes.lanes if b in ln.rows)
    label_a = next(ln.label for ln in lanes.lanes if a in ln.rows)
    view.lane_controls.set_pinned(label_b, True)  # b's lane jumps to the top
    view.lane_controls.set_collapsed(label_a, True)
    pa, pb = view.view_pos_of(a), view.view_pos_of(b)
    assert pb.y() < 1.0, "the pinned lane is drawn first"
    xa, xb = float(trace["end"][a]), float(trace["start"][b])
    mid = _widget_point(view, (xa + xb) / 2.0, (pa.y() + pb.y()) / 2.0)
    qtbot.wait(10)
    pixels = _pixels(view)
    box = pixels[mid.y() - 3 : mid.y() + 4, mid.x() - 3 : mid.x() + 4]
    assert _near(box, CRITICAL_STYLE.rgb).any(), "the arrow does not join the moved slices"
    # the outline of b sits on b's slice in its pinned place
    xc = xb + 0.5 * (float(trace["end"][b]) - xb)
    top, bottom = _widget_point(view, xc, pb.y() - 0.5), _widget_point(view, xc, pb.y() + 0.5)
    col = pixels[top.y() : bottom.y(), top.x()]
    assert _near(col, CRITICAL_STYLE.rgb).any(), "b's outline is not on its pinned lane"
