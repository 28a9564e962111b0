"""How the canvas builds and frames large graphs: light node items, one layout, linear fit.

These are the mechanisms behind the editor budgets (DESIGN §5: open 1000 nodes <= 2 s, fit
5000 <= 0.1 s; timed in benchmarks/bench_editor.py); here their behaviour is checked.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore, QtGui

from app.editor import compat
from app.editor import nodes as vnodes
from app.editor.canvas import GraphCanvas
from app.main_thread_gc import MainThreadCollector
from app.model import registry
from app.model.commands import DocumentEditor
from app.model.document import Document, Edge, PortRef


def _grid_doc(n: int, columns: int = 10) -> Document:
    """``n`` nodes: tensor -> ragged axis pairs on a grid (as the benchmark builds)."""
    doc = Document(name="grid")
    ids = registry.IdAllocator(doc)
    for i in range(0, n, 2):
        x, y = (i % columns) * 220.0, (i // columns) * 160.0
        t = registry.new_node("data.tensor", doc, (x, y), ids=ids, name=f"len{i}")
        doc.graph.nodes[t.id] = t
        a = registry.new_node("axis.ragged", doc, (x + 220.0, y), ids=ids, name=f"tok{i}")
        doc.graph.nodes[a.id] = a
        doc.graph.edges.append(Edge(PortRef(t.id, "tensor"), PortRef(a.id, "lengths")))
    return doc


@pytest.fixture
def grid_canvas(qtbot) -> GraphCanvas:
    c = GraphCanvas(DocumentEditor(_grid_doc(40)))
    qtbot.addWidget(c.widget)
    c.widget.resize(900, 700)
    c.widget.show()
    qtbot.waitExposed(c.widget)
    return c


def test_build_lays_out_each_node_once_with_final_ports(monkeypatch, qtbot) -> None:
    draws: list[int] = []
    original = vnodes.NodeItem._draw_node_horizontal

    def counting(self) -> None:
        draws.append(id(self))
        original(self)

    monkeypatch.setattr(vnodes.NodeItem, "_draw_node_horizontal", counting)
    canvas = GraphCanvas(DocumentEditor(_grid_doc(20)))
    qtbot.addWidget(canvas.widget)
    assert len(canvas._views) == 20
    assert sorted(draws) == sorted(id(v.view) for v in canvas._views.values())
    for node in canvas.doc.graph.nodes.values():
        view = canvas.view_node(node.id)
        assert isinstance(view.view, vnodes.StudioNodeItem)
        want = [p.name for p in registry.ports_of(node, canvas.doc) if p.direction == "in"]
        assert list(view.inputs()) == want
        # The model's size follows the deferred layout.
        assert (view.model.width, view.model.height) == (view.view.width, view.view.height)
        assert view.view.width > 100.0
    # Pipes were drawn between laid-out ports (from the input's centre to the output's).
    for edge in canvas.doc.graph.edges:
        inp = canvas.view_node(edge.dst.node).get_input(edge.dst.port).view
        out = canvas.view_node(edge.src.node).get_output(edge.src.port).view
        path = inp.connected_pipes[0].path()
        for at, port in ((0.0, inp), (1.0, out)):
            point, centre = path.pointAtPercent(at), port.sceneBoundingRect().center()
            assert abs(point.x() - centre.x()) < 1.0 and abs(point.y() - centre.y()) < 1.0


def test_bulk_build_restores_gc_and_viewport(grid_canvas: GraphCanvas, gui_thread_gc: MainThreadCollector) -> None:  # fmt: skip
    import gc

    viewport = grid_canvas.viewer.viewport()
    # Under the Studio's GUI-thread collector automatic collection is off, and stays off.
    assert not gc.isenabled() and viewport.updatesEnabled()
    with compat.bulk_build(grid_canvas.viewer):
        assert not gc.isenabled() and not viewport.updatesEnabled()
    assert not gc.isenabled() and viewport.updatesEnabled()
    # Without it, the build turns collection off and gives it back.
    gui_thread_gc.uninstall()
    try:
        assert gc.isenabled()
        with compat.bulk_build(grid_canvas.viewer):
            assert not gc.isenabled() and not viewport.updatesEnabled()
        assert gc.isenabled() and viewport.updatesEnabled()
    finally:
        gui_thread_gc.install()


def test_port_labels_are_light_but_placed_like_rich_text(grid_canvas: GraphCanvas) -> None:
    node_id = next(iter(grid_canvas.doc.graph.nodes))
    item = grid_canvas.view_node(node_id).view
    for port, label in list(item._input_items.items()) + list(item._output_items.items()):
        assert isinstance(label, vnodes.PortLabel)
        assert label.toolTip() == "" and label.text() == port.name
        plain = QtGui.QFontMetricsF(label.font()).horizontalAdvance(port.name)
        assert label.boundingRect().width() == pytest.approx(plain + 8.0, abs=1.0)


def test_fit_view_frames_all_nodes_or_the_selection(grid_canvas: GraphCanvas) -> None:
    viewer = grid_canvas.viewer
    rect = grid_canvas.fit_view()
    visible = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    for view in grid_canvas._views.values():
        assert rect.contains(view.view.sceneBoundingRect())
        assert visible.adjusted(-1, -1, 1, 1).contains(view.view.sceneBoundingRect())
    one = next(iter(grid_canvas._views))
    grid_canvas.select_ids([one])
    rect = grid_canvas.fit_view()
    framed = grid_canvas.view_node(one).view.sceneBoundingRect()
    # A lone node is centred but never magnified past 100 % (the rect grows to the viewport).
    assert rect.contains(framed.adjusted(-40, -40, 40, 40))
    assert abs(rect.center().x() - framed.center().x()) < 1e-6
    assert abs(rect.center().y() - framed.center().y()) < 1e-6
    assert viewer.transform().m11() <= 1.0 + 1e-9


def test_zoomed_out_titles_are_painted_readable(grid_canvas: GraphCanvas) -> None:
    viewer = grid_canvas.viewer
    grid_canvas.fit_view()
    viewer.scale(0.3, 0.3)
    image = grid_canvas.widget.grab().toImage()
    assert not image.isNull()
    item = next(iter(grid_canvas._views.values())).view
    assert item._proxy_mode  # drawn simplified, with the LOD title painted by the node
    viewer.reset_zoom()
    grid_canvas.widget.grab()
    assert not item._proxy_mode and item.text_item.isVisible()


def test_title_rename_in_place_goes_through_the_model(qtbot, grid_canvas: GraphCanvas) -> None:
    node_id = next(iter(grid_canvas.doc.graph.nodes))
    item = grid_canvas.view_node(node_id).view
    grid_canvas.viewer.reset_zoom()  # 100 %: the title item itself is shown (not the LOD one)
    grid_canvas.widget.grab()
    title = item.text_item
    assert isinstance(title, vnodes.NodeTitle)
    title.set_editable(True)
    editor = title._editor
    assert editor is not None and not title.isVisible()
    # The title shows key parameters (``len0  f32[16,16]``); the editor edits the bare name.
    assert title.toPlainText().startswith(grid_canvas.doc.node(node_id).name + "  ")
    assert editor.toPlainText() == grid_canvas.doc.node(node_id).name
    editor.setPlainText("renamed")
    mods = QtCore.Qt.KeyboardModifier.NoModifier
    key = QtGui.QKeyEvent(QtCore.QEvent.Type.KeyPress, QtCore.Qt.Key.Key_Return, mods)
    editor.keyPressEvent(key)
    qtbot.waitUntil(lambda: title._editor is None)
    assert grid_canvas.doc.node(node_id).name == "renamed"
    assert title.isVisible() and title.toPlainText().startswith("renamed  f32[")
    assert editor.scene() is None
    assert grid_canvas.editor.can_undo()


def test_viewer_undo_redo_shortcuts_are_stripped(grid_canvas: GraphCanvas) -> None:
    viewer = grid_canvas.viewer
    for action in (viewer.qaction_for_undo(), viewer.qaction_for_redo()):
        assert action.shortcuts() == []
        assert not action.isVisible()


def test_title_edit_commits_on_focus_out_and_escape_cancels(
    qtbot, grid_canvas: GraphCanvas
) -> None:
    node_id = next(iter(grid_canvas.doc.graph.nodes))
    title = grid_canvas.view_node(node_id).view.text_item
    before = grid_canvas.doc.node(node_id).name
    # Escape: the editor closes and the name is unchanged.
    title.set_editable(True)
    title.setFocus()
    editor = title._editor
    editor.setPlainText("discarded")
    mods = QtCore.Qt.KeyboardModifier.NoModifier
    editor.keyPressEvent(
        QtGui.QKeyEvent(QtCore.QEvent.Type.KeyPress, QtCore.Qt.Key.Key_Escape, mods)
    )
    qtbot.waitUntil(lambda: title._editor is None)
    assert grid_canvas.doc.node(node_id).name == before
    # Focus leaving the editor (a click elsewhere) commits the typed name, once.
    messages: list[str] = []
    grid_canvas.message.connect(messages.append)
    title.set_editable(True)
    title.setFocus()
    editor = title._editor
    assert editor.hasFocus()
    editor.setPlainText("kept")
    editor.clearFocus()
    qtbot.waitUntil(lambda: title._editor is None)
    assert grid_canvas.doc.node(node_id).name == "kept"
    assert messages == []
