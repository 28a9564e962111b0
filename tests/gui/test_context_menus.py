"""Right-click menus on a v2 canvas (issue 13 items 3 and 4): frames, wrap and unwrap, create a
tensor from a call's port, add inside a frame, move out of a frame, delete a wire.

A right click is the context-menu event Qt sends to the viewport; the shown menu is captured at
``CanvasContextMenus.exec_menu`` and its entry triggered as a click would (``MenuPicker``).
Outcomes are read from the document."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_canvas_navigation import MenuPicker, entries, find_action, node_point

from app.editor.canvas import GraphCanvas
from app.model import commands as cmds
from app.model.document import PortRef


@pytest.fixture
def picker(canvas: GraphCanvas, monkeypatch: pytest.MonkeyPatch) -> MenuPicker:
    return MenuPicker(canvas, monkeypatch)


def add(canvas: GraphCanvas, kind: str, pos: tuple[float, float], parent: str | None = None, name: str | None = None, **props: Any) -> str:  # fmt: skip
    return canvas.editor.apply(cmds.AddNode(kind, pos, parent, name, **props)).node.id


def shown(qtbot: Any, canvas: GraphCanvas, node_id: str) -> None:
    """Wait until the canvas draws ``node_id`` and bring it into view."""
    qtbot.waitUntil(lambda: canvas.view_node(node_id) is not None, timeout=2000)
    QApplication.processEvents()
    canvas.viewer.centerOn(canvas.view_node(node_id).view.sceneBoundingRect().center())
    QApplication.processEvents()


def inside(canvas: GraphCanvas, frame_id: str) -> QPoint:
    """A viewport point in the frame's interior (below its header, clear of its children)."""
    rect = canvas.view_node(frame_id).view.sceneBoundingRect()
    return canvas.viewer.mapFromScene(QPointF(rect.right() - 8.0, rect.bottom() - 8.0))


def tile(name: str, direction: str = "In") -> dict[str, Any]:
    return {"name": name, "direction": direction, "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"}  # fmt: skip


def attention(canvas: GraphCanvas) -> dict[str, str]:
    ids = {"batch": add(canvas, "axis.dense", (0.0, -300.0), name="batch", size=4)}
    ids["kern"] = add(canvas, "kernel.def", (300.0, -300.0), name="attn", params=[tile("Q"), tile("O", "Out")])  # fmt: skip
    ids["wl"] = add(canvas, "workload.def", (0.0, 0.0), name="attention")
    ids["loop"] = add(canvas, "loop.parallel", (30.0, 60.0), ids["wl"], axes=[{"var": "b", "axis": ids["batch"]}])  # fmt: skip
    ids["call"] = add(canvas, "kernel.call", (60.0, 120.0), ids["loop"], kernel=ids["kern"])
    return ids


def test_a_frame_has_its_own_menu_and_unwraps(
    qtbot: Any, canvas: GraphCanvas, picker: MenuPicker
) -> None:
    ids = attention(canvas)
    shown(qtbot, canvas, ids["loop"])
    menu = picker.right_click(inside(canvas, ids["loop"]))
    assert menu.objectName() == "contextMenu_frame"
    assert {"Add Inside…", "Edit Axes…", "Unwrap", "Rename"} <= set(entries(menu))
    picker.right_click(inside(canvas, ids["loop"]), "Unwrap")
    assert ids["loop"] not in canvas.doc.graph.nodes
    assert canvas.doc.node(ids["call"]).parent == ids["wl"]
    canvas.undo()
    assert canvas.doc.node(ids["call"]).parent == ids["loop"]


def test_wrap_a_node_in_a_loop_from_its_menu(
    qtbot: Any, canvas: GraphCanvas, picker: MenuPicker
) -> None:
    ids = attention(canvas)
    shown(qtbot, canvas, ids["call"])
    menu = picker.right_click(node_point(canvas, ids["call"]))
    assert menu.objectName() == "contextMenu_node"
    wraps = [e for e in entries(menu) if e.startswith("Wrap in > ")]
    assert wraps and all("Workload" not in e for e in wraps)  # only frames that may live here
    picker.right_click(node_point(canvas, ids["call"]), "Sequential loop")
    seq = canvas.doc.node(ids["call"]).parent
    assert canvas.doc.node(seq).kind == "loop.seq" and canvas.doc.node(seq).parent == ids["loop"]


def test_create_a_tensor_from_a_calls_port(
    qtbot: Any, canvas: GraphCanvas, picker: MenuPicker
) -> None:
    ids = attention(canvas)
    shown(qtbot, canvas, ids["call"])
    menu = picker.right_click(node_point(canvas, ids["call"]))
    assert {"Create Tensor from Port > Q", "Create Tensor from Port > O"} <= set(entries(menu))
    before = set(canvas.doc.graph.nodes)
    picker.right_click(node_point(canvas, ids["call"]), "O")
    (tensor,) = set(canvas.doc.graph.nodes) - before
    made = canvas.doc.node(tensor)
    assert made.kind == "data.tensor" and made.name.startswith("O") and made.parent is None
    assert made.props["shape"] == [4, 16, 16]  # the loop's size, then the tile
    assert any(
        e.src == PortRef(ids["call"], "O") and e.dst.node == tensor for e in canvas.doc.graph.edges
    )
    canvas.undo()  # one gesture, one undo step
    assert tensor not in canvas.doc.graph.nodes and not canvas.doc.graph.edges


def test_add_inside_a_frame_places_the_node_there(
    qtbot: Any, canvas: GraphCanvas, picker: MenuPicker
) -> None:
    ids = attention(canvas)
    shown(qtbot, canvas, ids["loop"])
    picker.right_click(inside(canvas, ids["loop"]), "Add Inside…")
    search = canvas.tab_search
    assert search.is_open() and search.parent_frame == ids["loop"]
    kinds = " ".join(search.results())
    assert "Workload" not in kinds  # only what may live in a loop
    QTest.keyClicks(search.edit, "attn")  # the document's kernel: a call of it
    QTest.keyClick(search.edit, Qt.Key.Key_Return)
    calls = [
        n
        for n in canvas.doc.graph.nodes.values()
        if n.kind == "kernel.call" and n.id != ids["call"]
    ]
    assert len(calls) == 1 and calls[0].parent == ids["loop"]
    assert calls[0].props["kernel"] == ids["kern"]


def test_move_out_of_a_frame(qtbot: Any, canvas: GraphCanvas, picker: MenuPicker) -> None:
    ids = attention(canvas)
    shown(qtbot, canvas, ids["call"])
    picker.right_click(node_point(canvas, ids["call"]), "Move Out of Frame")
    assert canvas.doc.node(ids["call"]).parent == ids["wl"]


def test_right_click_on_empty_canvas_adds_at_the_root(
    qtbot: Any, canvas: GraphCanvas, picker: MenuPicker
) -> None:
    ids = attention(canvas)
    shown(qtbot, canvas, ids["wl"])
    rect = canvas.view_node(ids["wl"]).view.sceneBoundingRect()
    outside = canvas.viewer.mapFromScene(QPointF(rect.right() + 200.0, rect.bottom() + 100.0))
    menu = picker.right_click(outside, "Add Node Here…")
    assert menu.objectName() == "contextMenu_canvas"
    assert canvas.tab_search.parent_frame is None
    assert "Leave Scope" not in entries(menu)
    canvas.tab_search.hide()


def test_move_earlier_and_later_among_a_frames_children(
    qtbot: Any, canvas: GraphCanvas, picker: MenuPicker
) -> None:
    ids = attention(canvas)
    second = add(canvas, "kernel.call", (60.0, 320.0), ids["loop"], kernel=ids["kern"])
    order = lambda: [n.id for n in canvas.doc.graph.nodes.values() if n.parent == ids["loop"]]  # noqa: E731
    assert order() == [ids["call"], second]
    shown(qtbot, canvas, second)
    menu = picker.right_click(node_point(canvas, second))
    assert "Move Later" in entries(menu) and not find_action(menu, "Move Later").isEnabled()
    picker.right_click(node_point(canvas, second), "Move Earlier")
    assert order() == [second, ids["call"]]  # the order export breaks ties by
    canvas.undo()
    assert order() == [ids["call"], second]
