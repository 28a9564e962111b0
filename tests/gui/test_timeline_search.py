"""Slice search on the timeline, driven by real key events (offscreen).

Ctrl+F opens the field; typing a query shows the match count; Enter / Shift+Enter (and F3 /
Shift+F3) step through the matches in start order, each selected as a click selects it (the
``slice_clicked`` signal the run panel turns into a graph selection) and brought into view; a bad
query shows its parse error; Esc closes the field.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore

from app.views.timeline import TimelineView
from pto_wsp.runtime.trace import TRACE_DTYPE

K = QtCore.Qt.Key
SHIFT = QtCore.Qt.KeyboardModifier.ShiftModifier
CTRL = QtCore.Qt.KeyboardModifier.ControlModifier
NAMES = ["attn", "mm", "tiny"]


def _trace(n: int = 64, workers: int = 4) -> np.ndarray:
    """Back-to-back 1000-cycle tasks on 4 workers; even tasks are attn[i // 8, i % 8], odd mm[i];
    the last task is a 1-cycle "tiny" slice (invisible at the fitted zoom)."""
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    i = np.arange(n)
    tr["task"] = i
    tr["worker"] = i % workers
    tr["kernel"] = i % 2
    tr["stream"] = -1
    tr["start"] = (i // workers) * 1000
    tr["end"] = tr["start"] + 1000
    for k in range(4):
        tr[f"idx{k}"] = -1
    tr["idx0"] = np.where(i % 2 == 0, i // 8, i)
    tr["idx1"] = np.where(i % 2 == 0, i % 8, -1)
    tr["kernel"][n - 1] = 2
    tr["end"][n - 1] = tr["start"][n - 1] + 1
    tr["idx0"][n - 1], tr["idx1"][n - 1] = -1, -1
    return tr


@pytest.fixture
def view(qtbot) -> TimelineView:
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(900, 400)
    v.set_run(_trace(), NAMES, title="search")
    v.show()
    qtbot.waitExposed(v)
    v.activateWindow()
    v.plot.setFocus()
    return v


def _open(qtbot, v: TimelineView) -> None:
    qtbot.keyClick(v.plot.viewport(), K.Key_F, CTRL)
    qtbot.waitUntil(lambda: v.search_bar.isVisible(), timeout=2000)
    assert v.search_bar.edit.hasFocus()


def _type(qtbot, v: TimelineView, text: str) -> None:
    v.search_bar.edit.clear()
    qtbot.keyClicks(v.search_bar.edit, text)


def _centre(v: TimelineView) -> float:
    x0, x1 = v.x_range()
    return (x0 + x1) / 2.0


def test_ctrl_f_enter_and_shift_enter_step_through_matches(qtbot, view: TimelineView) -> None:
    clicked: list[np.void] = []
    view.slice_clicked.connect(clicked.append)
    _open(qtbot, view)
    _type(qtbot, view, "attn[2, *]")
    # attn[2, j]: tasks 16, 18, 20, 22 (start 4000, 4000, 5000, 5000)
    assert view.search_bar.text == "4 matches"
    assert view.selected_row is None
    edit = view.search_bar.edit
    qtbot.keyClick(edit, K.Key_Return)
    assert view.selected_row == 16
    assert view.search_bar.text == "1 of 4"
    assert [int(r["task"]) for r in clicked] == [16]  # selected as a click selects it
    assert view._highlight is not None  # the match is outlined
    assert np.flatnonzero(view._highlight).tolist() == [16]
    qtbot.keyClick(edit, K.Key_Return)
    qtbot.keyClick(edit, K.Key_Return)
    assert view.selected_row == 20
    assert view.search_bar.text == "3 of 4"
    qtbot.keyClick(edit, K.Key_Return, SHIFT)
    assert view.selected_row == 18
    assert view.search_bar.text == "2 of 4"
    qtbot.keyClick(edit, K.Key_Return, SHIFT)
    qtbot.keyClick(edit, K.Key_Return, SHIFT)  # wraps to the last
    assert view.selected_row == 22
    assert view.search_bar.text == "4 of 4"
    assert [int(r["task"]) for r in clicked] == [16, 18, 20, 18, 16, 22]
    assert edit.hasFocus()  # typing focus stays in the field


def test_f3_and_shift_f3_step_too(qtbot, view: TimelineView) -> None:
    _open(qtbot, view)
    _type(qtbot, view, "worker 3")
    assert view.search_bar.text == "16 matches"
    qtbot.keyClick(view.search_bar.edit, K.Key_F3)
    assert view.selected_row == 3
    qtbot.keyClick(view.search_bar.edit, K.Key_F3)
    assert view.selected_row == 7
    qtbot.keyClick(view.search_bar.edit, K.Key_F3, SHIFT)
    assert view.selected_row == 3
    assert view.search_bar.text == "1 of 16"


def test_free_text_and_no_match(qtbot, view: TimelineView) -> None:
    _open(qtbot, view)
    _type(qtbot, view, "MM")
    assert view.search_bar.text == "31 matches"  # task 63 is "tiny"
    _type(qtbot, view, "conv")
    assert view.search_bar.text == "no match"
    qtbot.keyClick(view.search_bar.edit, K.Key_Return)
    assert view.selected_row is None
    _type(qtbot, view, "stream 0")
    assert view.search_bar.text == "no match"  # the trace has no streams


def test_a_bad_query_shows_its_error(qtbot, view: TimelineView) -> None:
    _open(qtbot, view)
    _type(qtbot, view, "attn[2, x]")
    text = view.search_bar.text
    assert text.startswith("index 1 of attn[2, x]: expected an integer or *")
    assert view.search_bar.error == text
    qtbot.keyClick(view.search_bar.edit, K.Key_Return)  # nothing to go to, no exception
    assert view.selected_row is None
    _type(qtbot, view, "worker x")
    assert "expected a worker number" in view.search_bar.text
    _type(qtbot, view, "attn[1, 2]")  # task 10
    assert view.search_bar.text == "1 match"
    assert view.search_bar.error == ""


def test_esc_closes_the_field_and_gives_the_keys_back(qtbot, view: TimelineView) -> None:
    _open(qtbot, view)
    _type(qtbot, view, "attn")
    qtbot.keyClick(view.search_bar.edit, K.Key_Escape)
    assert not view.search_bar.isVisible()
    assert view.plot.hasFocus()
    w0, w1 = view.x_range()
    qtbot.keyClick(view.plot.viewport(), K.Key_W)  # navigation keys reach the timeline again
    n0, n1 = view.x_range()
    assert n1 - n0 < w1 - w0
    _open(qtbot, view)  # reopened: the last text is kept and selected, typing replaces it
    assert view.search_bar.edit.text() == "attn"
    assert view.search_bar.edit.selectedText() == "attn"


def test_a_match_off_screen_is_panned_to_keeping_the_zoom(qtbot, view: TimelineView) -> None:
    view.view_box.setXRange(0.0, 4000.0, padding=0)
    _open(qtbot, view)
    _type(qtbot, view, "attn[7, 6]")  # task 62: cycles 15000 .. 16000, off screen
    qtbot.keyClick(view.search_bar.edit, K.Key_Return)
    assert view.selected_row == 62
    x0, x1 = view.x_range()
    assert x1 - x0 == pytest.approx(4000.0, rel=1e-6)  # zoom kept
    assert _centre(view) == pytest.approx(15500.0, abs=1.0)
    assert x0 <= 15000 and 16000 <= x1


def test_a_slice_too_thin_to_see_is_zoomed_in_on(qtbot, view: TimelineView) -> None:
    _open(qtbot, view)
    _type(qtbot, view, "tiny")
    w0, w1 = view.x_range()
    qtbot.keyClick(view.search_bar.edit, K.Key_Return)
    assert view.selected_row == 63
    x0, x1 = view.x_range()
    assert x1 - x0 < (w1 - w0) / 100  # zoomed in
    assert x0 <= 15000 and 15001 <= x1
    px = (x1 - x0) / view.view_box.width()
    assert 1.0 / px >= 3.0  # now at least a few pixels wide


def test_a_match_wider_than_the_view_is_shown_whole(qtbot, view: TimelineView) -> None:
    view.view_box.setXRange(0.0, 200.0, padding=0)
    _open(qtbot, view)
    _type(qtbot, view, "mm[33]")  # task 33: cycles 8000 .. 9000
    qtbot.keyClick(view.search_bar.edit, K.Key_Return)
    x0, x1 = view.x_range()
    assert x0 <= 8000 and 9000 <= x1
    assert x1 - x0 < 2000


def test_a_new_run_searches_again(qtbot, view: TimelineView) -> None:
    _open(qtbot, view)
    _type(qtbot, view, "worker 1")
    assert view.search_bar.text == "16 matches"
    view.set_run(_trace(16), NAMES, title="smaller")
    assert view.search_bar.text == "4 matches"
    assert view.selected_row is None


def test_every_match_is_outlined_and_the_current_one_is_the_selected_slice(
    qtbot, view: TimelineView
) -> None:
    _open(qtbot, view)
    _type(qtbot, view, "attn[2, *]")
    marked = view.marks.mask("search matches")
    assert marked is not None and np.flatnonzero(marked).tolist() == [16, 18, 20, 22]
    assert "search matches" in view.marks_legend.text()
    qtbot.keyClick(view.search_bar.edit, K.Key_Return)
    selected = view.marks.mask("selected slice")
    assert selected is not None and np.flatnonzero(selected).tolist() == [16]
    _type(qtbot, view, "attn[9")  # a broken query marks nothing
    assert view.marks.mask("search matches") is None
    _type(qtbot, view, "attn[2, *]")
    assert np.flatnonzero(view.marks.mask("search matches")).tolist() == [16, 18, 20, 22]
    qtbot.keyClick(view.search_bar.edit, K.Key_Escape)  # closing the bar drops the marks
    assert view.marks.mask("search matches") is None
