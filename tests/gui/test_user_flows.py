"""Short user flows on the real main window, with mouse and keyboard only (see UserDriver).

Each test is one thing a user does daily: open a library kernel and edit its body, see why a
connection was refused, undo/redo from the Edit menu, copy/paste a loop with its body, group a
selection into a loop and ungroup it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu
from test_build_attention import UserDriver, make_window  # noqa: F401 - fixture

from app.main_window import MainWindow


@pytest.fixture
def user(qtbot: Any, make_window: Callable[[], MainWindow]) -> UserDriver:  # noqa: F811
    window = make_window()
    u = UserDriver(qtbot, window)
    u.press("Ctrl+N")
    u.zoom_out_to(0.55)
    return u


def _edit_action(window: MainWindow, name: str) -> Any:
    """The Edit menu's QAction called ``name`` (what a click on the menu entry triggers)."""
    action = window.actions[name]
    assert action in window.actions.edit_menu.actions()
    return action


def _workload_with_loop(u: UserDriver) -> tuple[str, str, str]:
    """A workload whose body holds a parallel loop with a kernel call; (workload, loop, call)."""
    w = u.drop("workload.def", u.grid(0, 0))
    u.double_click_node(w)
    u.zoom_out_to(0.55)
    (entry,) = u.graph_ids()
    loop = u.tab_add("parallel", u.grid(1, 0))
    u.drag_connect(entry, "exec", loop, "exec")
    u.double_click_node(loop)
    u.zoom_out_to(0.55)
    (loop_entry,) = u.graph_ids()
    call = u.tab_add("kernel call", u.grid(1, 0))
    u.drag_connect(loop_entry, "exec", call, "exec")
    u.press("Alt+Up")
    assert u.canvas.scope == w
    return w, loop, call


def test_library_kernel_opens_and_its_body_op_is_edited(user: UserDriver) -> None:
    k = user.drop(_library_type("softmax"), user.grid(1, 1))
    node = user.window.document.node(k)
    assert node.kind == "kernel.def" and node.body is not None
    user.double_click_node(k)
    assert user.canvas.scope == k
    user.zoom_out_to(0.3)
    ops = [n for n in user.canvas.current_graph().nodes.values() if n.kind.startswith("pto.")]
    assert ops, "the softmax library kernel has no tile ops"
    op = ops[0]
    user.click_node(op.id)
    user.type_into("name", "scores")
    assert user.window.document.node(op.id).name == "scores"
    user.press("Alt+Up")
    assert user.canvas.scope is None


def _library_type(stem: str) -> str:
    from app.editor.palette import library_entries

    (entry,) = [e for e in library_entries() if e.id.endswith(stem)]
    return entry.node_type


def test_refused_connection_shows_its_reason_in_the_status_bar(user: UserDriver) -> None:
    a = user.drop("axis.dense", user.grid(0, 0))
    r = user.drop("axis.ragged", user.grid(2, 0))
    user.drag_connect(a, "axis", r, "lengths")
    assert user.window.document.graph.edges == []
    assert "type mismatch" in user.window.statusBar().currentMessage()
    assert not user.canvas.view_node(r).get_input("lengths").connected_ports()


def test_undo_redo_of_a_property_edit_from_the_edit_menu(user: UserDriver) -> None:
    t = user.drop("data.tensor", user.grid(0, 0))
    user.click_node(t)
    user.type_into("shape", "4, 8")
    doc = user.window.document
    assert doc.node(t).props["shape"] == [4, 8]
    _edit_action(user.window, "undo").trigger()
    assert doc.node(t).props["shape"] == [16, 16]
    assert user.editor("shape").text() == "16, 16"  # the panel follows the model
    _edit_action(user.window, "redo").trigger()
    assert doc.node(t).props["shape"] == [4, 8]
    assert user.editor("shape").text() == "4, 8"


def test_copy_paste_of_a_loop_keeps_its_body(user: UserDriver) -> None:
    w, loop, call = _workload_with_loop(user)
    user.click_node(loop)
    user.press("Ctrl+C")
    QTest.mouseMove(user.viewport, user.grid(1, 2))
    before = user.graph_ids()
    user.press("Ctrl+V")
    (new_loop,) = user.graph_ids() - before
    body = user.window.document.node(new_loop).body
    assert body is not None
    assert sorted(n.kind for n in body.nodes.values()) == ["kernel.call", "scope.entry"]
    assert call not in body.nodes  # a copy, not the original


def test_group_selection_into_a_loop_and_ungroup(user: UserDriver) -> None:
    w = user.drop("workload.def", user.grid(0, 0))
    user.double_click_node(w)
    user.zoom_out_to(0.55)
    (entry,) = user.graph_ids()
    c1 = user.tab_add("kernel call", user.grid(1, 0))
    c2 = user.tab_add("kernel call", user.grid(2, 0))
    user.drag_connect(entry, "exec", c1, "exec")
    user.drag_connect(c1, "exec", c2, "exec")
    user.click_node(c1)
    user.press("Ctrl+A")  # select all; Group leaves the scope's entry node where it is
    assert set(user.canvas.selected_ids()) >= {c1, c2}

    picked: list[str] = []

    def pick_loop(tries: int = 200) -> None:  # Ctrl+G asks the scope kind: "Parallel loop"
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu) or not menu.isVisible():
            if tries:  # the popup is not up yet (a loaded machine): look again shortly
                QTimer.singleShot(20, lambda: pick_loop(tries - 1))
            return
        (choice,) = [a for a in menu.actions() if a.data() == "loop.parallel"]
        menu.setActiveAction(choice)
        picked.append(choice.data())
        QTest.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(20, pick_loop)
    user.press("Ctrl+G")
    assert picked == ["loop.parallel"], "Group did not ask for the scope kind"
    graph = user.canvas.current_graph()
    (loop,) = [n for n in graph.nodes.values() if n.kind == "loop.parallel"]
    assert set(loop.body.nodes) >= {c1, c2}
    assert c1 not in graph.nodes
    # Offscreen, closing the popup leaves no active window (a desktop gives focus back to the
    # canvas): restore what the window system would, then ungroup the new loop (still selected).
    user.window.activateWindow()
    user.qtbot.waitUntil(lambda: QApplication.activeWindow() is user.window)
    user.canvas.viewer.setFocus()
    user.qtbot.waitUntil(lambda: QApplication.focusWidget() is user.canvas.viewer)
    assert user.canvas.selected_ids() == [loop.id]
    user.press("Ctrl+Shift+G")
    graph = user.canvas.current_graph()
    assert {c1, c2} <= set(graph.nodes)
    assert not any(n.kind == "loop.parallel" for n in graph.nodes.values())


def test_typing_into_a_selected_index_cell_edits_it(user: UserDriver) -> None:
    w, loop, call = _workload_with_loop(user)
    user.double_click_node(loop)
    user.zoom_out_to(0.55)
    k = user.tab_add("get", user.grid(0, 1))
    user.click_node(k)
    user.press("Escape")
    user.window.show_message("")
    user.click_node(call)
    user.type_into("axes", "i")
    table = user.editor("index")
    table.setRowCount(table.rowCount())  # no kernel wired: the user types into "axes" instead
    edit = user.editor("axes")
    QTest.mouseClick(edit, Qt.MouseButton.LeftButton)
    before = len(user.canvas.current_graph().backdrops)
    # Put the focus on the (non-text) index table and type a letter, as when starting an edit.
    table.setFocus()
    QTest.keyClick(table, Qt.Key.Key_B)
    assert len(user.canvas.current_graph().backdrops) == before, "typing 'b' added a comment"


def test_typing_in_a_combo_box_does_not_refit_the_canvas(user: UserDriver) -> None:
    t = user.drop("data.tensor", user.grid(0, 0))
    user.click_node(t)
    zoom = user.canvas.viewer.transform().m11()
    combo = user.editor("dtype")
    combo.setFocus()
    QTest.keyClicks(combo, "f6")
    assert user.window.document.node(t).props["dtype"] == "f64"
    assert user.canvas.viewer.transform().m11() == pytest.approx(zoom)


def test_entering_a_fresh_scope_keeps_a_readable_zoom(user: UserDriver) -> None:
    w = user.drop("workload.def", user.grid(0, 0))
    user.double_click_node(w)
    assert user.canvas.scope == w
    assert user.canvas.viewer.transform().m11() <= 1.0
