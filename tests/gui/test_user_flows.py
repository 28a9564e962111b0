"""Short user flows on the real main window, with mouse and keyboard only (see UserDriver).

Each test is one thing a user does daily: open a library kernel and edit its body, see why a
connection was refused, undo/redo from the Edit menu, copy/paste a loop frame with its contents,
wrap a selection in a loop and unwrap it, override a call port's index (format v2: frames on one
canvas, nothing is entered but a kernel body).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from test_build_attention import UserDriver, make_window  # noqa: F401 - fixture
from test_canvas_navigation import MenuPicker
from test_property_editors import pick

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


def _inside(u: UserDriver, frame_id: str) -> QPoint:
    """A viewport point in the frame's interior, near its bottom edge (clear of children)."""
    rect = u.canvas.view_node(frame_id).view.sceneBoundingRect()
    point = u.canvas.viewer.mapFromScene(QPointF(rect.center().x(), rect.bottom() - 12.0))
    u.assert_visible(point)
    return point


def _workload_with_loop(u: UserDriver) -> tuple[str, str, str]:
    """A workload frame holding a parallel loop frame with a kernel call: (workload, loop,
    call). Dropping the loop on the root canvas makes the workload around it."""
    first = u.drop("loop.parallel", u.grid(1, 1))
    doc = u.window.document
    work = doc.node(first) if doc.node(first).kind == "workload.def" else None
    assert work is not None, "a loop dropped on the root canvas gets a workload frame"
    (loop,) = [n.id for n in doc.graph.nodes.values() if n.parent == work.id]
    call = u.tab_add("kernel call", _inside(u, loop))
    assert doc.node(call).parent == loop
    return work.id, loop, call


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
    t = user.drop("data.tensor", user.grid(0, 0))
    a = user.drop("axis.dense_dyn", user.grid(2, 0))
    user.drag_connect(t, "tensor", a, "size")  # a tensor into a scalar port
    assert user.window.document.graph.edges == []
    assert "scalar" in user.window.statusBar().currentMessage()
    assert not user.canvas.view_node(a).get_input("size").connected_ports()


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


def test_copy_paste_of_a_loop_keeps_its_contents(
    user: UserDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, loop, call = _workload_with_loop(user)
    user.canvas.select_ids([loop])
    user.canvas.viewer.setFocus()
    user.press("Ctrl+C")
    doc = user.window.document
    before = set(doc.graph.nodes)
    picker = MenuPicker(user.canvas, monkeypatch)  # right-click the workload: Paste Inside
    rect = user.canvas.view_node(w).view.sceneBoundingRect()
    header = user.canvas.viewer.mapFromScene(QPointF(rect.center().x(), rect.top() + 10.0))
    picker.right_click(header, "Paste Inside")
    new = [doc.node(n) for n in set(doc.graph.nodes) - before]
    (new_loop,) = [n for n in new if n.kind == "loop.parallel"]
    assert new_loop.parent == w
    inside = [n for n in new if n.parent == new_loop.id]
    assert [n.kind for n in inside] == ["kernel.call"] and inside[0].id != call
    user.window.actions["undo"].trigger()  # one paste, one undo step
    assert set(doc.graph.nodes) == before


def test_wrap_selection_into_a_loop_and_unwrap(user: UserDriver) -> None:
    w, loop, call = _workload_with_loop(user)
    doc = user.window.document
    c2 = user.tab_add("kernel call", _inside(user, loop))
    user.canvas.select_ids([call, c2])
    user.canvas.viewer.setFocus()
    user.press("Ctrl+G")  # Edit > Wrap in Frame: a loop inside the loop
    inner = doc.node(call).parent
    assert inner != loop and doc.node(inner).kind == "loop.parallel"
    assert doc.node(c2).parent == inner and doc.node(inner).parent == loop
    user.canvas.select_ids([inner])
    user.canvas.viewer.setFocus()
    user.press("Ctrl+Shift+G")  # Edit > Unwrap
    assert inner not in doc.graph.nodes
    assert doc.node(call).parent == loop and doc.node(c2).parent == loop


def test_call_axes_follow_the_loop_until_typed(user: UserDriver) -> None:
    axis = user.drop("axis.dense", user.grid(0, 0))
    w, loop, call = _workload_with_loop(user)
    doc = user.window.document
    user.canvas.select_ids([loop])
    axes = user.editor("axes")
    pick(user.qtbot, axes.add_combo, doc.node(axis).name)  # one combo pick adds the axis
    (var,) = [a["var"] for a in doc.node(loop).props["axes"]]
    user.click_node(call)
    edit = user.editor("axes")
    assert edit.text() == "" and f"automatic: {var}" == edit.placeholderText()
    user.type_into("axes", var)
    assert doc.node(call).props["axes"] == var
    ports = user.window.properties.ports
    assert ports is not None and not ports.edits  # no kernel picked yet: no ports
    before = len(user.canvas.current_graph().backdrops)
    # Typing a letter into a panel widget is typing, not the canvas's B (add comment).
    ports.setFocus()
    QTest.keyClick(ports, Qt.Key.Key_B)
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


def test_opening_a_kernel_body_keeps_a_readable_zoom(user: UserDriver) -> None:
    k = user.drop("kernel.def", user.grid(0, 0))
    user.double_click_node(k)
    assert user.canvas.scope == k  # a kernel body is the one sub-canvas
    assert user.canvas.viewer.transform().m11() <= 1.0
