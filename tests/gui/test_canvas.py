"""The canvas mirrors the document and turns user gestures into model commands."""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.editor import nodes as vnodes
from app.editor.canvas import ERROR_BORDER, GraphCanvas
from app.editor.compat import fit_items
from app.editor.palette import Palette
from app.model.commands import MoveNodes
from app.model.document import Diagnostic, PortRef


def _drop(canvas: GraphCanvas, mime: QtCore.QMimeData, at: QtCore.QPoint) -> None:
    """DESIGN §4 recipe: DragEnter, DragMove, Drop on the viewer's viewport."""
    vp = canvas.viewer.viewport()
    actions = QtCore.Qt.DropAction.CopyAction
    buttons = QtCore.Qt.MouseButton.LeftButton
    mods = QtCore.Qt.KeyboardModifier.NoModifier
    pos = QtCore.QPointF(at)
    for event in (
        QtGui.QDragEnterEvent(at, actions, mime, buttons, mods),
        QtGui.QDragMoveEvent(at, actions, mime, buttons, mods),
        QtGui.QDropEvent(pos, actions, mime, buttons, mods),
    ):
        QtWidgets.QApplication.sendEvent(vp, event)


def _ports(canvas: GraphCanvas, node_id: str, out_name: str | None, in_name: str | None):
    view = canvas.view_node(node_id)
    return (
        view.get_output(out_name).view if out_name else None,
        view.get_input(in_name).view if in_name else None,
    )


def test_drag_from_palette_creates_node_at_drop_point(qtbot, canvas: GraphCanvas) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    mime = palette.mime_data(palette.item_for_type(vnodes.node_type_for("data.tensor")))
    at = QtCore.QPoint(300, 200)
    _drop(canvas, mime, at)
    nodes = list(canvas.doc.graph.nodes.values())
    assert [n.kind for n in nodes] == ["data.tensor"]
    expected = canvas.viewer.mapToScene(at)
    assert abs(nodes[0].pos[0] - expected.x()) <= 1 and abs(nodes[0].pos[1] - expected.y()) <= 1
    assert canvas.view_node(nodes[0].id) is not None
    assert canvas.editor.can_undo()


def test_connect_and_disconnect_change_model_edges(canvas: GraphCanvas) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    ax = canvas.add_node("axis.ragged", (250, 0))
    out, inp = _ports(canvas, t, "tensor", None)[0], _ports(canvas, ax, None, "lengths")[1]
    canvas.viewer.connection_changed.emit([], [(out, inp)])
    edges = canvas.doc.graph.edges
    assert [(e.src, e.dst) for e in edges] == [(PortRef(t, "tensor"), PortRef(ax, "lengths"))]
    assert canvas.view_node(ax).get_input("lengths").connected_ports()
    canvas.viewer.connection_changed.emit([(inp, out)], [])
    assert canvas.doc.graph.edges == []
    assert not canvas.view_node(ax).get_input("lengths").connected_ports()
    canvas.undo()  # undo the disconnect: the edge and its pipe are back
    assert len(canvas.doc.graph.edges) == 1
    assert canvas.view_node(ax).get_input("lengths").view.connected_pipes


def test_refused_connection_is_removed_with_a_message(qtbot, canvas: GraphCanvas) -> None:
    a = canvas.add_node("data.scalar", (0, 0))
    r = canvas.add_node("axis.ragged", (250, 0))
    out = _ports(canvas, a, "scalar", None)[0]
    inp = _ports(canvas, r, None, "lengths")[1]
    canvas.viewer.establish_connection(out, inp)  # what the viewer draws during the gesture
    with qtbot.waitSignal(canvas.message) as blocker:
        canvas.viewer.connection_changed.emit([], [(out, inp)])
    assert "takes a tensor" in blocker.args[0]
    assert canvas.doc.graph.edges == []
    assert not inp.connected_pipes and not out.connected_pipes


def test_undo_redo_resync_the_canvas(canvas: GraphCanvas) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    canvas.editor.apply(MoveNodes({t: (50.0, 60.0)}))
    assert tuple(canvas.view_node(t).pos()) == (50.0, 60.0)
    canvas.undo()
    assert tuple(canvas.view_node(t).pos()) == (0.0, 0.0)
    canvas.undo()
    assert canvas.view_node(t) is None and not canvas.doc.graph.nodes
    canvas.redo()
    assert canvas.view_node(t) is not None
    canvas.select_ids([t])
    canvas.delete_selected()
    assert canvas.view_node(t) is None
    canvas.undo()
    assert canvas.view_node(t) is not None


def test_view_move_becomes_move_command(canvas: GraphCanvas) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    view = canvas.view_node(t)
    view.view.xy_pos = (120.0, 30.0)  # the user dragged it
    canvas.viewer.moved_nodes.emit({view.view: (0.0, 0.0)})
    assert canvas.doc.node(t).pos == (120.0, 30.0)
    canvas.undo()
    assert canvas.doc.node(t).pos == (0.0, 0.0)
    assert tuple(canvas.view_node(t).pos()) == (0.0, 0.0)


def test_copy_paste(canvas: GraphCanvas) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    canvas.set_property(t, "shape", [4, 8])
    canvas.select_ids([t])
    assert canvas.copy_selected()
    new = canvas.paste((300.0, 100.0))
    assert len(new) == 1 and new[0] != t
    pasted = canvas.doc.node(new[0])
    assert pasted.props["shape"] == [4, 8] and pasted.name != canvas.doc.node(t).name
    assert pasted.pos == (300.0, 100.0)
    assert canvas.selected_ids() == new
    canvas.undo()
    assert len(canvas.doc.graph.nodes) == 1


def _workload_with_two_calls(canvas: GraphCanvas) -> tuple[str, str, str]:
    """A workload frame holding two kernel calls (v2: all on the root canvas)."""
    w = canvas.add_node("workload.def", (0, 0))
    inside = canvas.frame_rect(w).center()
    c1 = canvas.add_node("kernel.call", (inside.x(), inside.y()))
    r1 = canvas.view_node(c1).view.sceneBoundingRect()  # the frame has grown around it
    c2 = canvas.add_node("kernel.call", (r1.left(), r1.bottom() + 10))
    assert canvas.doc.node(c1).parent == w and canvas.doc.node(c2).parent == w
    assert canvas.scope is None and {w, c1, c2} <= set(canvas._views)
    return w, c1, c2


def test_only_kernel_bodies_are_entered_through_the_breadcrumb(qtbot, canvas: GraphCanvas) -> None:
    w, c1, _c2 = _workload_with_two_calls(canvas)
    canvas.viewer.node_double_clicked.emit(w)  # v2: a workload is not entered
    assert canvas.scope is None
    k = canvas.add_node("kernel.def", (-400, 0))
    canvas.viewer.node_double_clicked.emit(k)  # a kernel definition opens its tile-op body
    assert canvas.scope == k
    entry = next(n.id for n in canvas.current_graph().nodes.values() if n.kind == "scope.entry")
    assert set(canvas._views) == {entry}
    assert len(canvas.breadcrumb.buttons) == 2
    canvas.breadcrumb.buttons[0].click()
    assert canvas.scope is None and {w, c1, k} <= set(canvas._views)
    canvas.select_node(entry)  # selecting a body node enters its kernel
    assert canvas.scope == k and canvas.selected_ids() == [entry]
    canvas.select_node(c1)  # a framed node is on the root canvas
    assert canvas.scope is None and canvas.selected_ids() == [c1]


def test_wrap_in_a_loop_frame_and_unwrap(canvas: GraphCanvas) -> None:
    w, c1, c2 = _workload_with_two_calls(canvas)
    canvas.select_ids([c1, c2])
    loop = canvas.group_selected("loop.parallel")
    assert loop is not None and canvas.is_frame(loop)
    doc = canvas.doc
    assert doc.node(loop).parent == w
    assert doc.node(c1).parent == loop and doc.node(c2).parent == loop
    assert canvas.children_of(loop) == [c1, c2]
    assert canvas.frame_rect(loop).contains(canvas.view_node(c1).view.sceneBoundingRect())
    assert canvas.frame_rect(w).contains(canvas.frame_rect(loop))
    canvas.select_ids([loop])
    canvas.ungroup_selected()
    assert loop not in doc.graph.nodes and canvas.view_node(loop) is None
    assert doc.node(c1).parent == w and canvas.children_of(w) == [c1, c2]
    canvas.undo()  # the unwrap
    assert doc.node(c1).parent == loop and canvas.is_frame(loop)
    canvas.undo()  # the wrap
    assert loop not in doc.graph.nodes and canvas.children_of(w) == [c1, c2]


def test_diagnostics_colour_border_and_tooltip(canvas: GraphCanvas) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    canvas.set_diagnostics([Diagnostic(t, "props.shape", "expected a list of ints")])
    view = canvas.view_node(t).view
    assert tuple(view.border_color) == ERROR_BORDER
    assert "expected a list of ints" in view.toolTip()
    canvas.set_diagnostics([])
    assert tuple(view.border_color) != ERROR_BORDER


def test_tab_search_adds_node_at_cursor(canvas: GraphCanvas) -> None:
    search = canvas.tab_search
    QtWidgets.QApplication.sendEvent(
        canvas.viewer,
        QtGui.QKeyEvent(
            QtCore.QEvent.Type.KeyPress,
            QtCore.Qt.Key.Key_Tab,
            QtCore.Qt.KeyboardModifier.NoModifier,
        ),  # fmt: skip
    )
    assert search.is_open()
    search.show_at(QtCore.QPoint(100, 120))
    search.edit.setText("dense axis")
    assert search.results()[0] == vnodes.node_type_for("axis.dense")
    assert vnodes.node_type_for("pto.add") not in search.results()  # not at the root
    nid = search.accept()
    assert not search.is_open()
    expected = canvas.viewer.mapToScene(QtCore.QPoint(100, 120))
    node = canvas.doc.node(nid)
    assert node.kind == "axis.dense"
    assert abs(node.pos[0] - expected.x()) <= 1 and abs(node.pos[1] - expected.y()) <= 1


def test_tab_search_marks_library_kernels_as_the_palette_does(
    canvas: GraphCanvas, qtbot: Any
) -> None:
    search = canvas.tab_search
    QtWidgets.QApplication.sendEvent(
        canvas.viewer,
        QtGui.QKeyEvent(
            QtCore.QEvent.Type.KeyPress,
            QtCore.Qt.Key.Key_Tab,
            QtCore.Qt.KeyboardModifier.NoModifier,
        ),  # fmt: skip
    )
    assert search.is_open()
    qtbot.keyClicks(search.edit, "library")
    texts = [search.list.item(i).text() for i in range(search.list.count())]
    assert texts and all("(library)" in t for t in texts), texts
    assert any(t.startswith("attn_kernel") for t in texts), texts
    search.hide()


def test_fit_view_frames_everything(canvas: GraphCanvas) -> None:
    for i in range(30):
        canvas.add_node("data.scalar", (i * 400.0, (i % 5) * 300.0))
    canvas.fit_view()
    visible = canvas.viewer.mapToScene(canvas.viewer.viewport().rect()).boundingRect()
    for view in canvas._views.values():
        assert visible.contains(view.view.sceneBoundingRect())


def test_fit_5000_items_is_linear_and_frames_all(canvas: GraphCanvas, monkeypatch) -> None:
    """5000 items framed without NodeGraphQt's quadratic item-group path."""
    viewer = canvas.viewer

    def quadratic(*_a, **_k):
        raise AssertionError("NodeGraphQt's _combined_rect (quadratic) was used")

    monkeypatch.setattr(viewer, "_combined_rect", quadratic)
    scene = viewer.scene()
    items = []
    for i in range(5000):
        item = QtWidgets.QGraphicsRectItem(0, 0, 160, 80)
        item.setPos((i % 100) * 220.0, (i // 100) * 140.0)
        scene.addItem(item)
        items.append(item)
    fit_items(viewer, items)
    visible = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    assert visible.contains(items[0].sceneBoundingRect())
    assert visible.contains(items[-1].sceneBoundingRect())
    viewer.zoom_to_nodes(items)  # the patched NodeGraphQt entry point takes the same path
    for item in items:
        scene.removeItem(item)


def test_backdrop_add_resize_delete_undo(canvas: GraphCanvas) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    canvas.select_ids([t])
    bid = canvas.add_backdrop("Inputs", "the model inputs")
    bd = canvas.doc.graph.backdrops[0]
    assert (bd.id, bd.title, bd.note) == (bid, "Inputs", "the model inputs")
    assert canvas.backdrop_view(bid) is not None
    canvas.viewer.node_backdrop_updated.emit(
        bid, "sizer_mouse_release", {"pos": (-50.0, -80.0), "width": 500.0, "height": 320.0}
    )
    assert canvas.doc.graph.backdrops[0].rect == (-50.0, -80.0, 500.0, 320.0)
    canvas.select_ids([bid])
    canvas.delete_selected()
    assert not canvas.doc.graph.backdrops and canvas.backdrop_view(bid) is None
    canvas.undo()
    canvas.undo()
    assert canvas.doc.graph.backdrops[0].rect == bd.rect
    assert canvas.backdrop_view(bid) is not None
