"""The palette lists the registry's frames and nodes by category, a Kernels section with the
library, a last section with calls of the document's kernels, starts NodeGraphQt-format drags, and its drops land inside
the frame under the cursor (a kernel dropped into a frame becomes a call of it)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.editor import nodes as vnodes
from app.editor.canvas import GraphCanvas
from app.editor.palette import (
    CALLS_CATEGORY,
    KERNELS_CATEGORY,
    MIME_TYPE,
    TYPE_ROLE,
    Palette,
    PaletteDrop,
    call_reference,
    kernel_call_type,
    library_entries,
)
from app.model import commands as cmds
from app.model import registry


def _top_texts(palette: Palette) -> list[str]:
    return [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]


def test_categories_follow_the_registry_and_hide_internal_kinds(qtbot: Any) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    tops = _top_texts(palette)
    expected = [c for c, kinds in registry.categories() if any(k.in_palette for k in kinds)]
    assert tops[: len(expected)] == expected
    types = {it.data(0, TYPE_ROLE) for it in palette.items()}
    assert vnodes.node_type_for("data.tensor") in types
    assert vnodes.node_type_for("pto.matmul") in types
    for kind in registry.KINDS.values():  # every placeable kind, frames included, is offered
        assert (vnodes.node_type_for(kind.id) in types) is kind.in_palette, kind.id
    frames = [k for k in registry.KINDS.values() if getattr(k, "frame", False) and k.in_palette]
    assert frames, "the registry marks no frame kinds"
    assert KERNELS_CATEGORY in tops
    assert library_entries(), "app/resources/kernel_library ships no kernel"
    kernels = palette.tree.topLevelItem(tops.index(KERNELS_CATEGORY))
    listed = {kernels.child(i).data(0, TYPE_ROLE) for i in range(kernels.childCount())}
    assert {e.node_type for e in library_entries()} <= listed


def test_kernels_section_lists_the_documents_kernels(qtbot: Any, canvas: GraphCanvas) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    palette.set_document(lambda: canvas.doc)
    ref = call_reference()
    assert ref is not None, "no kind calls a kernel (registry.reference_props)"
    kernel = canvas.editor.apply(cmds.AddNode(ref[2][0], (0.0, 0.0), None, "attn")).node
    assert palette.item_for_type(kernel_call_type(kernel.id)) is None
    palette.refresh_kernels()
    item = palette.item_for_type(kernel_call_type(kernel.id))
    assert item is not None and item.text(0).startswith("attn")
    palette.search.setText("attn")
    assert item in palette.visible_items()


def test_library_kernels_are_marked_apart_from_the_documents_kernels(
    qtbot: Any, canvas: GraphCanvas
) -> None:
    """A kernel of the document named like a library one: the two entries read differently, and
    typing "library" in the search box leaves only the library's."""
    entry = library_entries()[0]
    palette = Palette()
    qtbot.addWidget(palette)
    palette.set_document(lambda: canvas.doc)
    ref = call_reference()
    assert ref is not None
    kernel = canvas.editor.apply(cmds.AddNode(ref[2][0], (0.0, 0.0), None, entry.title)).node
    palette.refresh_kernels()
    palette.show()
    own = palette.item_for_type(kernel_call_type(kernel.id))
    library = palette.item_for_type(entry.node_type)
    assert own is not None and library is not None
    assert own.text(0).endswith("(call)") and own.text(0).startswith(entry.title)
    assert library.text(0).split() == [entry.title, "(library)"]
    assert library.parent().text(0) == KERNELS_CATEGORY
    assert own.parent().text(0) == CALLS_CATEGORY  # the last section: nothing above it moves
    library_types = {e.node_type for e in library_entries()}
    QTest.keyClicks(palette.search, "library")
    shown = {it.data(0, TYPE_ROLE) for it in palette.visible_items()}
    assert shown == library_types  # the defined kernel and the built-in kinds are filtered out


def test_search_filters_by_words(qtbot: Any) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    palette.search.setText("matmul")
    visible = {it.data(0, TYPE_ROLE) for it in palette.visible_items()}
    assert vnodes.node_type_for("pto.matmul") in visible
    assert vnodes.node_type_for("data.tensor") not in visible
    palette.search.setText("")
    assert len(palette.visible_items()) == len(palette.items())


def test_drag_payload_is_nodegraphqt_node_urn(qtbot: Any) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    item = palette.item_for_type(vnodes.node_type_for("data.tensor"))
    assert item is not None
    mime = palette.mime_data(item)
    assert mime.hasFormat(MIME_TYPE)
    payload = bytes(mime.data(MIME_TYPE).data()).decode()
    assert payload == "ngqt::node:pto.data.DataTensor"
    # the URN names a class NodeGraphQt can instantiate, and maps back to the kind
    assert vnodes.kind_by_node_type()[vnodes.parse_node_urn(payload)[0]] == "data.tensor"


def test_activation_emits_node_type(qtbot: Any) -> None:
    palette = Palette()
    qtbot.addWidget(palette)
    item = palette.item_for_type(vnodes.node_type_for("axis.dense"))
    with qtbot.waitSignal(palette.node_activated) as blocker:
        palette.tree.itemActivated.emit(item, 0)
    assert blocker.args == [vnodes.node_type_for("axis.dense")]


# ------------------------------------------------------------------------------------------
# drops land inside the frame under the cursor
# ------------------------------------------------------------------------------------------
def drop(palette: Palette, canvas: GraphCanvas, node_type: str, at: QPoint) -> list[str]:
    """Drag the palette entry ``node_type`` onto the canvas at ``at`` (viewport coordinates):
    enter, move and drop events as Qt delivers them; the ids of the nodes it added."""
    item = palette.item_for_type(node_type)
    assert item is not None, f"the palette has no entry {node_type}"
    mime = palette.mime_data(item)
    viewport = canvas.viewer.viewport()
    before = set(canvas.doc.graph.nodes)
    action, button, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(at, action, mime, button, mods))
    QApplication.sendEvent(viewport, QDragMoveEvent(at, action, mime, button, mods))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(at), action, mime, button, mods))
    QApplication.processEvents()
    return [n for n in canvas.doc.graph.nodes if n not in before]


def frame_point(qtbot: Any, canvas: GraphCanvas, frame_id: str) -> QPoint:
    """A viewport point inside the frame's drawn rectangle, below its header."""
    qtbot.waitUntil(lambda: canvas.view_node(frame_id) is not None, timeout=2000)
    rect = canvas.view_node(frame_id).view.sceneBoundingRect()
    canvas.viewer.centerOn(rect.center())
    QApplication.processEvents()
    inside = rect.adjusted(rect.width() * 0.3, rect.height() * 0.55, 0, 0).topLeft()
    return canvas.viewer.mapFromScene(inside)


@pytest.fixture
def palette(qtbot: Any, canvas: GraphCanvas) -> Palette:
    p = Palette()
    qtbot.addWidget(p)
    p.set_document(lambda: canvas.doc)
    PaletteDrop(canvas)
    return p


def test_drops_land_in_the_frame_under_the_cursor(
    qtbot: Any, canvas: GraphCanvas, palette: Palette
) -> None:
    (tensor,) = drop(palette, canvas, vnodes.node_type_for("data.tensor"), QPoint(60, 60))
    assert canvas.doc.node(tensor).parent is None
    (work,) = drop(palette, canvas, vnodes.node_type_for("workload.def"), QPoint(300, 300))
    assert canvas.doc.node(work).parent is None
    (loop,) = drop(palette, canvas, vnodes.node_type_for("loop.parallel"), frame_point(qtbot, canvas, work))  # fmt: skip
    assert canvas.doc.node(loop).parent == work
    ref = call_reference()
    assert ref is not None
    call_kind, prop, targets = ref
    kernel = canvas.editor.apply(cmds.AddNode(targets[0], (-400.0, -300.0), None, "scale")).node
    palette.refresh_kernels()
    (call,) = drop(palette, canvas, kernel_call_type(kernel.id), frame_point(qtbot, canvas, loop))
    made = canvas.doc.node(call)
    assert (made.kind, made.parent, made.props[prop]) == (call_kind, loop, kernel.id)
    canvas.undo()  # one drop, one undo step
    assert call not in canvas.doc.graph.nodes and loop in canvas.doc.graph.nodes


def test_a_statement_dropped_on_the_root_canvas_gets_a_workload_around_it(
    qtbot: Any, canvas: GraphCanvas, palette: Palette
) -> None:
    new = drop(palette, canvas, vnodes.node_type_for("loop.parallel"), QPoint(200, 200))
    (loop,) = [n for n in new if canvas.doc.node(n).kind == "loop.parallel"]
    work = canvas.doc.node(loop).parent
    assert work is not None and canvas.doc.node(work).kind == "workload.def"
    assert set(new) == {loop, work}
    canvas.undo()  # one drop, one undo step
    assert not canvas.doc.graph.nodes


def test_a_node_that_cannot_live_there_is_refused_with_a_message(
    qtbot: Any, canvas: GraphCanvas, palette: Palette
) -> None:
    with qtbot.waitSignal(canvas.message) as said:
        assert drop(palette, canvas, vnodes.node_type_for("pto.matmul"), QPoint(100, 100)) == []
    assert registry.display_name("pto.matmul") in said.args[0]  # says what was refused
    assert canvas.doc.graph.nodes == {}


def test_a_library_kernel_dropped_into_a_frame_is_added_and_called(
    qtbot: Any, canvas: GraphCanvas, palette: Palette
) -> None:
    work = canvas.editor.apply(cmds.AddNode("workload.def", (0.0, 0.0), None, "w")).node.id
    loop = canvas.editor.apply(cmds.AddNode("loop.parallel", (40.0, 60.0), work)).node.id
    entry = library_entries()[0]
    new = drop(palette, canvas, entry.node_type, frame_point(qtbot, canvas, loop))
    call_kind, prop, targets = call_reference()  # type: ignore[misc]
    kernels = [canvas.doc.node(n) for n in new if canvas.doc.node(n).kind in targets]
    calls = [canvas.doc.node(n) for n in new if canvas.doc.node(n).kind == call_kind]
    assert len(kernels) >= 1 and kernels[0].parent is None  # definitions live on the root canvas
    assert len(calls) == 1 and calls[0].parent == loop
    assert calls[0].props[prop] == kernels[0].id
