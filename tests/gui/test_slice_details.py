"""The details panel of a selected slice and collapsible / pinnable lanes (offscreen, pytest-qt).

A tiled matmul runs through cpu_sim (4 tiles of C, each reduced over k = 0, 1 in a ``P.seq``
loop; task ``2 * (2i + j) + k``; 4 workers, 2 streams); the timeline and the details panel are wired as in the run
panel (``link_to_timeline``) and driven with real mouse and key events: a click on a slice fills
the panel, a click on a predecessor link selects that task in the timeline and the panel
follows, Esc and a click on empty lanes clear it. Lane labels collapse on a click and pin from
their context menu.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore
from timeline_hands import Pair, click_row, point, row_of

from app.views.slice_details import EMPTY_TEXT
from app.views.timeline import TimelineView
from pto_wsp import DispatchPolicy, In, InOut, P, Tensor, kernel, workload
from pto_wsp.runtime.task_regions import TaskRegions
from pto_wsp.runtime.task_sites import TaskSites

F32 = np.float32
K = QtCore.Qt.Key
LEFT = QtCore.Qt.MouseButton.LeftButton
RIGHT = QtCore.Qt.MouseButton.RightButton


@kernel
def sd_mm(a: In[Tensor], b: In[Tensor], c: InOut[Tensor]): ...


@pytest.fixture(scope="module")
def matmul():
    A = Tensor(np.zeros((32, 32), F32), name="A")
    B = Tensor(np.zeros((32, 32), F32), name="B")
    C = Tensor(np.zeros((32, 32), F32), name="C")

    @workload
    def tiled():
        for i, j in P(2, 2):
            for k in P.seq(2):
                sd_mm[i, j, k](
                    a=A[i * 16 : (i + 1) * 16, k * 16 : (k + 1) * 16],
                    b=B[k * 16 : (k + 1) * 16, j * 16 : (j + 1) * 16],
                    c=C[i * 16 : (i + 1) * 16, j * 16 : (j + 1) * 16],
                )

    w = tiled().dispatch(DispatchPolicy.round_robin(4)).streams(2)
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    trace = np.array(program.trace)
    return trace, list(program.kernel_names), TaskSites.of_module(program.module)


@pytest.fixture
def pair(qtbot, matmul) -> Pair:
    trace, names, sites = matmul
    w = Pair()
    qtbot.addWidget(w)
    w.resize(1300, 420)
    w.timeline.set_run(trace, names, title="matmul", num_workers=4)
    w.details.set_run(trace, names, TaskRegions(sites, trace))
    w.show()
    qtbot.waitExposed(w)
    return w


def _click_label(qtbot, v: TimelineView, lane: int, button=LEFT) -> None:
    rect = v.lane_label_rect(lane)
    qtbot.mouseClick(v.plot.viewport(), button, pos=rect.center().toPoint())


def test_empty_until_a_slice_is_clicked_then_its_details(qtbot, pair: Pair, matmul) -> None:
    trace, _, _ = matmul
    assert pair.details.text.strip() == EMPTY_TEXT
    row = row_of(trace, 5)  # i = 1, j = 0, k = 1
    click_row(qtbot, pair.timeline, row)
    assert pair.timeline.selected_row == row
    text = pair.details.text
    rec = trace[row]
    start, end = int(rec["start"]), int(rec["end"])
    assert "sd_mm[1, 0, 1]" in text
    assert "\nindices\n1, 0, 1\n" in text  # a table: one cell a line
    assert f"\nworker\n{int(rec['worker'])}\nstream\n{int(rec['stream'])}\n" in text
    assert f"\nstart\n{start:,} cycles\nend\n{end:,} cycles\n" in text
    assert f"\nduration\n{end - start:,} cycles\n" in text
    assert "reads A[16:32, 16:32]" in text
    assert "reads B[16:32, 0:16]" in text
    assert "reads and writes C[16:32, 0:16]" in text
    # Its predecessor is task 4 (k = 0 of the same tile): by data (RAW on C) and by step.
    assert "sd_mm[1, 0, 0] task 4 — RAW on C" in text
    assert "sd_mm[1, 0, 0] task 4 — P.seq / sequential step" in text
    assert "Successors by data and step (what needed it)\nnone" in text


def test_a_link_selects_its_task_and_the_panel_follows(qtbot, pair: Pair, matmul) -> None:
    trace, _, _ = matmul
    v = pair.timeline
    click_row(qtbot, v, row_of(trace, 7))
    v.zoom(0.05, 0.0)  # zoomed far from task 6: the link must pan the view to it
    target = row_of(trace, 6)
    rect = pair.details.link_rect(target)
    assert rect.isValid()
    qtbot.mouseClick(pair.details.browser.viewport(), LEFT, pos=rect.center())
    assert v.selected_row == target
    assert pair.details.row == target
    assert pair.details.text.splitlines()[0] == "sd_mm[1, 1, 0]"
    x0, x1 = v.x_range()
    rec = trace[target]
    assert x0 <= float(rec["start"]) and float(rec["end"]) <= x1  # panned to, like a search hit
    assert v._highlight is not None and np.flatnonzero(v._highlight).tolist() == [target]
    # and back through the successor link
    rect = pair.details.link_rect(row_of(trace, 7))
    qtbot.mouseClick(pair.details.browser.viewport(), LEFT, pos=rect.center())
    assert pair.details.row == row_of(trace, 7)


def test_esc_and_a_click_on_empty_lanes_clear_it(qtbot, pair: Pair, matmul) -> None:
    trace, _, _ = matmul
    v = pair.timeline
    click_row(qtbot, v, row_of(trace, 1))
    assert pair.details.row == row_of(trace, 1)
    qtbot.keyClick(v.plot.viewport(), K.Key_Escape)
    assert pair.details.row is None and pair.details.text.strip() == EMPTY_TEXT
    click_row(qtbot, v, row_of(trace, 1))
    assert pair.details.row is not None
    x1 = v.x_range()[1]
    qtbot.mouseClick(v.plot.viewport(), LEFT, pos=point(v, x1 - 1.0, 0.5))  # past the run
    assert v.selected_row is None and pair.details.row is None


def test_time_reads_at_the_runs_clock(qtbot, pair: Pair, matmul) -> None:
    trace, _, _ = matmul
    pair.details.set_clock(2.0)
    click_row(qtbot, pair.timeline, row_of(trace, 0))
    rec = trace[row_of(trace, 0)]
    ns = 2.0 * int(rec["end"] - rec["start"])
    assert f"{ns / 1000:.3g} µs" in pair.details.text or f"{ns:.3g} ns" in pair.details.text


def test_a_why_it_waited_section_can_be_added(qtbot, pair: Pair, matmul) -> None:
    trace, _, _ = matmul
    pair.details.add_section(lambda ctx: ("Why it waited", f"<p>task {ctx.row} gate</p>"))
    click_row(qtbot, pair.timeline, row_of(trace, 2))
    assert f"Why it waited\ntask {row_of(trace, 2)} gate" in pair.details.text


# ---- collapsible and pinnable lanes ---------------------------------------------------------


def test_a_click_on_a_label_collapses_the_lane_which_stays_clickable(qtbot, pair: Pair,
                                                                      matmul) -> None:  # fmt: skip
    trace, _, _ = matmul
    v = pair.timeline
    _click_label(qtbot, v, 1)
    assert v.lane_controls.collapsed == {"worker 1"}
    assert v.lane_layout.heights.tolist() == [1.0, 0.3, 1.0, 1.0]
    ticks = dict((label, y) for y, label in v.plot_item.getAxis("left")._tickLevels[0])
    assert "▸ worker 1" in ticks and "▾ worker 0  " in next(iter(ticks))
    assert ticks["▸ worker 1"] == pytest.approx(1.15)
    # worker 2 moved up under the thin strip
    assert v.lane_layout.tops.tolist() == [0.0, 1.0, 1.3, 2.3]
    row = int(np.flatnonzero(trace["worker"] == 1)[0])
    click_row(qtbot, v, row)  # the thin strip is still hit-tested
    assert v.selected_row == row
    _click_label(qtbot, v, 1)  # expands again
    assert v.lane_controls.collapsed == set()


def test_pin_from_the_context_menu_keeps_the_lane_on_top(qtbot, pair: Pair, matmul) -> None:
    trace, _, _ = matmul
    v = pair.timeline
    _click_label(qtbot, v, 2, RIGHT)
    menu = v.lane_controls.menu
    assert menu is not None
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    action = next(a for a in menu.actions() if a.text() == "Pin worker 2 to Top")
    qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())
    assert v.lane_controls.pinned == {"worker 2"}
    assert v.lane_layout.order.tolist() == [2, 0, 1, 3]
    # Scrolled down by two lanes, worker 2 is still drawn (and hit) at the top of the view.
    v.view_box.setYRange(0.0, 2.0, padding=0)
    qtbot.keyClick(v.plot.viewport(), K.Key_Down)
    qtbot.keyClick(v.plot.viewport(), K.Key_Down)
    _, (y0, _) = v.view_box.viewRange()
    assert y0 == pytest.approx(2.0)
    assert v.lane_at(y0 + 0.5) == 2
    ticks = v.plot_item.getAxis("left")._tickLevels[0]
    assert "▾ ⤒ worker 2" in ticks[-1][1] or any("⤒ worker 2" in t for _, t in ticks)
    pinned_y = next(y for y, t in ticks if "worker 2" in t)
    assert pinned_y == pytest.approx(y0 + 0.5)
    row = int(np.flatnonzero(trace["worker"] == 2)[0])
    click_row(qtbot, v, row)
    assert v.selected_row == row
    # remembered across a lane mode change and back (through the lanes box, as a user does)
    v.mode_box.setCurrentText("streams")
    assert v.lane_mode == "streams" and not v.lane_layout.pinned.any()
    v.mode_box.setCurrentText("workers")
    assert v.lane_controls.pinned == {"worker 2"} and v.lane_layout.order[0] == 2
    _click_label(qtbot, v, 2, RIGHT)
    menu = v.lane_controls.menu
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    action = next(a for a in menu.actions() if a.text() == "Unpin worker 2")
    qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())
    assert v.lane_controls.pinned == set()


def test_a_search_hit_fills_the_panel(qtbot, pair: Pair, matmul) -> None:
    trace, _, _ = matmul
    v = pair.timeline
    v.activateWindow()
    v.plot.setFocus()
    qtbot.keyClick(v.plot.viewport(), K.Key_F, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(v.search_bar.isVisible, timeout=2000)
    qtbot.keyClicks(v.search_bar.edit, "sd_mm[0, 1, 1]")
    qtbot.keyClick(v.search_bar.edit, K.Key_Return)
    assert pair.details.row == row_of(trace, 3)  # task 2 * (2 * 0 + 1) + 1
    assert pair.details.text.splitlines()[0] == "sd_mm[0, 1, 1]"
    assert "reads and writes C[0:16, 16:32]" in pair.details.text
