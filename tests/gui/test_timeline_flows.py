"""Why did a task wait, in the Studio: flow arrows, the Details "Why it waited" section and the
Stats wait tables (offscreen, pytest-qt, real mouse events).

The run is a chain on 3 round-robin workers: for b in P(6): produce[b] writes T[b], consume[b]
reads it. Every task costs 192 cycles (the default rates on a 4x16 f32 tile). By hand:
task 0 = produce[0] on worker 0 runs [0, 192); task 1 = consume[0] on worker 1 reads T[0], so it
waits for task 0 (RAW on T[0]) and runs [192, 384); task 4 = produce[2] is next on worker 1 and
waits for task 1 to free it (worker busy), [384, 576).
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore
from timeline_hands import Pair, click_row, near, pixels, point, row_of

from app.views.stats import StatsPanel
from app.views.timeline import TimelineView
from app.views.timeline_flows import ALL_FLOWS, SELECTED_FLOW_STYLE, SELECTED_FLOWS
from app.views.timeline_marks import SELECTED_MARK
from pto_wsp import DispatchPolicy, In, Out, P, Tensor, kernel, pto, workload
from pto_wsp.runtime.task_regions import TaskRegions
from pto_wsp.runtime.task_sites import TaskSites
from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_waits import wait_totals
from pto_wsp.runtime.wait_causes import cause_by_name

F32 = np.float32
LEFT = QtCore.Qt.MouseButton.LeftButton


@kernel
def fl_produce(x: In[Tensor], t: Out[Tensor]):
    pto.store(t, pto.add(x, x))


@kernel
def fl_consume(t: In[Tensor], z: Out[Tensor]):
    pto.store(z, pto.mul(t, t))


@pytest.fixture(scope="module")
def chain():
    X = Tensor(np.ones((6, 4, 16), F32), name="X")
    T = Tensor(np.zeros((6, 4, 16), F32), name="T")
    Z = Tensor(np.zeros((6, 4, 16), F32), name="Z")

    @workload
    def wl():
        for b in P(6):
            fl_produce[b](x=X[b], t=T[b])
            fl_consume[b](t=T[b], z=Z[b])

    program = wl().dispatch(DispatchPolicy.round_robin(3)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    trace = np.array(program.trace)
    return trace, list(program.kernel_names), TaskSites.of_module(program.module), program


@pytest.fixture
def pair(qtbot, chain) -> Pair:
    trace, names, sites, _ = chain
    w = Pair()
    qtbot.addWidget(w)
    w.resize(1300, 460)
    w.timeline.set_run(trace, names, title="chain", num_workers=3)
    w.details.set_run(trace, names, TaskRegions(sites, trace))
    w.show()
    qtbot.waitExposed(w)
    return w


def _between(v: TimelineView, src: int, dst: int, trace: np.ndarray) -> np.ndarray:
    """The pixels around the middle of the arrow from ``src``'s end to ``dst``'s start."""
    ys, yd = v.view_pos_of(src).y(), v.view_pos_of(dst).y()
    x = (float(trace["end"][src]) + float(trace["start"][dst])) / 2.0
    mid = v.plot.viewport().mapTo(v, point(v, x, (ys + yd) / 2.0))
    return pixels(v)[mid.y() - 4 : mid.y() + 5, mid.x() - 4 : mid.x() + 5]


def test_the_simulator_records_the_hand_derived_gates(chain) -> None:
    trace = chain[0]
    r0, r1, r4 = (row_of(trace, t) for t in (0, 1, 4))
    assert (int(trace["start"][r1]), int(trace["end"][r1])) == (192, 384)
    assert int(trace["cause"][r1]) == cause_by_name("raw").code and int(trace["gate"][r1]) == 0
    assert int(trace["cause"][r4]) == cause_by_name("worker").code
    assert int(trace["gate"][r4]) == 1 and int(trace["start"][r4]) == 384
    assert int(trace["cause"][r0]) == cause_by_name("none").code


def test_a_clicked_slice_shows_arrow_pixels_from_its_gate_and_to_what_it_gated(
    qtbot, pair: Pair, chain
) -> None:
    trace = chain[0]
    v = pair.timeline
    r0, r1, r4 = (row_of(trace, t) for t in (0, 1, 4))
    click_row(qtbot, v, r1)
    assert v.selected_row == r1
    src, dst = v.arrows.arrows(SELECTED_FLOWS)
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == sorted([(r0, r1), (r1, r4)])
    qtbot.wait(10)
    assert near(_between(v, r0, r1, trace), SELECTED_FLOW_STYLE.rgb).any(), "no arrow in"
    # the flows button turns them off: no selected-flow colour anywhere
    qtbot.mouseClick(v.flows.button, LEFT)
    assert not v.flows.enabled and not v.arrows.is_visible(SELECTED_FLOWS)
    qtbot.wait(10)
    assert not near(pixels(v), SELECTED_FLOW_STYLE.rgb, tol=12).any()
    qtbot.mouseClick(v.flows.button, LEFT)  # on again: the selection's flows come back
    assert v.arrows.is_visible(SELECTED_FLOWS)


def test_why_it_waited_names_the_cause_the_region_and_links_the_gate(
    qtbot, pair: Pair, chain
) -> None:
    trace = chain[0]
    v = pair.timeline
    r0, r1 = row_of(trace, 0), row_of(trace, 1)
    click_row(qtbot, v, r1)
    text = pair.details.text
    assert "Why it waited" in text
    assert "data (RAW) on T[0, 0:4, 0:16]" in text
    assert "Gated by fl_produce[0] (task 0), which ended at cycle 192." in text
    assert "Its worker sat idle 192 cycles" in text  # worker 1 was free from cycle 0
    rect = pair.details.link_rect(r0)
    assert rect.isValid()
    qtbot.mouseClick(pair.details.browser.viewport(), LEFT, pos=rect.center())
    assert v.selected_row == r0
    assert "It did not wait: it started at cycle 0." in pair.details.text
    # task 4 was startable at 0 but worker 1 runs its queue in order: busy, not idle
    click_row(qtbot, v, row_of(trace, 4))
    text = pair.details.text
    assert "Its worker was busy with earlier tasks: it queued up to 384 cycles behind them." in text
    assert "idle" not in text.split("Start-delay breakdown")[0]


def test_every_flow_is_built_only_once_the_view_is_zoomed_in(qtbot) -> None:
    n = 200_000
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["task"] = np.arange(n)
    tr["worker"] = np.arange(n) % 8
    tr["stream"] = -1
    tr["start"] = (np.arange(n) // 8) * 10
    tr["end"] = tr["start"] + 10
    tr["gate"] = np.where(np.arange(n) >= 8, np.arange(n) - 8, 0xFFFFFFFF)
    tr["cause"] = np.where(np.arange(n) >= 8, cause_by_name("worker").code, 0)
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 400)
    v.set_run(tr, ["k"])
    v.show()
    qtbot.waitExposed(v)
    assert ALL_FLOWS not in v.arrows.names()  # 2*10^5 arrows across the fitted view: not yet
    v.view_box.setXRange(1000.0, 2000.0, padding=0)  # ~800 tasks in view
    assert ALL_FLOWS in v.arrows.names()
    src, dst = v.arrows.arrows(ALL_FLOWS)
    assert len(dst) == n - 8 and np.array_equal(src, dst - 8)


def test_stats_lists_wait_cycles_per_cause_and_per_kernel(qtbot, chain) -> None:
    trace, names, _, program = chain
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.set_run(program.stats, trace, names)
    waits = wait_totals(trace, names)
    ct = panel.wait_cause_table
    shown = {ct.item(r, 0).text(): ct.item(r, 2).text() for r in range(ct.rowCount())}
    expected = {
        cause_by_name(c).label: f"{n:,}"
        for c, n in waits.by_cause.items()
        if c != "none" and (n or waits.tasks_by_cause[c])
    }
    assert shown == expected and "data (RAW)" in shown
    kt = panel.wait_kernel_table
    headers = [kt.horizontalHeaderItem(c).text() for c in range(kt.columnCount())]
    assert headers[:2] == ["Kernel", "Total"] and "data (RAW)" in headers
    raw_col = headers.index("data (RAW)")
    by_kernel = {kt.item(r, 0).text(): kt.item(r, raw_col).text() for r in range(kt.rowCount())}
    # every consume[b] waited for its produce[b] by RAW: 6 x 192 cycles, no produce did
    consume_raw = next(k for k in waits.kernels if k.name == "fl_consume").by_cause["raw"]
    assert by_kernel == {"fl_produce": "0", "fl_consume": f"{consume_raw:,}"}
    assert consume_raw > 0


def test_the_selected_slice_stands_out_of_its_node_outline(qtbot, pair: Pair, chain) -> None:
    """A click outlines the slice itself in the selection colour, apart from the outline of
    every slice of its call node that the canvas's cross-selection draws."""
    trace = chain[0]
    v = pair.timeline
    r1 = row_of(trace, 1)
    v.highlight_tasks(np.asarray(trace["kernel"]) == int(trace["kernel"][r1]))  # node outline
    click_row(qtbot, v, r1)
    selected = v.marks.mask("selected slice")
    assert selected is not None and np.flatnonzero(selected).tolist() == [r1]
    qtbot.wait(10)
    c = v.view_pos_of(r1)
    left = v.plot.viewport().mapTo(v, point(v, float(trace["start"][r1]), c.y()))
    band = pixels(v)[left.y() - 3 : left.y() + 4, left.x() - 5 : left.x() + 5]
    assert near(band, SELECTED_MARK.rgb).any(), "no selection outline at the slice's left edge"
    # another slice of the same kernel has the node outline but not the selection's
    other = row_of(trace, 3)
    c3 = v.view_pos_of(other)
    left3 = v.plot.viewport().mapTo(v, point(v, float(trace["start"][other]), c3.y()))
    band3 = pixels(v)[left3.y() - 3 : left3.y() + 4, left3.x() - 5 : left3.x() + 5]
    assert not near(band3, SELECTED_MARK.rgb, tol=20).any()
