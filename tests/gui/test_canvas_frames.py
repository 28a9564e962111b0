"""The v2 canvas: a workload drawn whole on one canvas, frames around what they repeat.

Documents are built as format-v2 data (frames with ``parent``, tensors wired straight into call
ports) and shown in a canvas; the gestures are real Qt mouse and key events on the viewport,
and outcomes are read from the document and the scene.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.editor import frames as vframes
from app.editor.canvas import GraphCanvas
from app.model import commands as cmds
from app.model import titles
from app.model.document import Document, Edge, Node, PortRef

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
TILE = {"direction": "In", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"}
TENSOR = {"dtype": "f32", "location": "Global", "layout": [], "mem": "default", "init": "zeros", "seed": 0, "path": ""}  # fmt: skip
SHEET = {
    "dispatch": "affinity",
    "dispatch_n": 4,
    "dispatch_key": 't.get("batch")',
    "streams": 2,
    "stream_by": 't.get("head") % 2',
    "timing": "immediate",
    "timing_param": 1,
    "task_graph": {},
    "spatial_map": [],
    "target": "cpu_sim",
}


def _node(doc: Document, nid: str, kind: str, name: str, pos: tuple[float, float], parent: str | None = None, **props: Any) -> Node:  # fmt: skip
    n = Node(nid, kind, name, pos, dict(props), None, parent)
    doc.graph.nodes[nid] = n
    return n


def _wire(doc: Document, src: str, sport: str, dst: str, dport: str) -> None:
    doc.graph.edges.append(Edge(PortRef(src, sport), PortRef(dst, dport)))


def attention_doc() -> Document:
    """Spec §8.1 as a v2 document: tensors left, the call inside P(b, h) inside the workload."""
    doc = Document(format_version=2, name="attention")
    for i, (t, shape) in enumerate([("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("V", [4, 16, 16])]):
        _node(doc, t, "data.tensor", t, (0.0, 120.0 + 90.0 * i), shape=shape, **TENSOR)
    _node(doc, "O", "data.tensor", "O", (900.0, 200.0), shape=[4, 8, 16, 16], **TENSOR)
    _node(doc, "batch", "axis.dense_dyn", "batch", (0.0, -120.0), size=4)
    _node(doc, "heads", "axis.dense", "heads", (220.0, -120.0), size=8)
    params = [dict(TILE, name=n) for n in "QKV"] + [dict(TILE, name="O", direction="Out")]
    _node(doc, "attn", "kernel.def", "attn_kernel", (440.0, -120.0), params=params, cpp_src="", cpp_includes=[], cost=1, jit=False)  # fmt: skip
    _node(doc, "wl", "workload.def", "attention", (300.0, 60.0), **SHEET)
    axes = [{"var": "b", "axis": "batch"}, {"var": "h", "axis": "heads"}]
    _node(doc, "loop", "loop.parallel", "", (330.0, 130.0), parent="wl", axes=axes)
    _node(doc, "call", "kernel.call", "call", (380.0, 200.0), parent="loop", kernel="attn", axes=None, index={"K": "b", "V": "b"})  # fmt: skip
    for t in "QKV":
        _wire(doc, t, "tensor", "call", t)
    _wire(doc, "call", "O", "O", "write")
    return doc


@pytest.fixture
def shown(qtbot: Any) -> Any:
    def make(doc: Document) -> GraphCanvas:
        c = GraphCanvas(cmds.DocumentEditor(doc))
        qtbot.addWidget(c.widget)
        c.widget.resize(1200, 800)
        c.widget.show()
        qtbot.waitExposed(c.widget)
        c.fit_view()
        QApplication.processEvents()
        return c

    return make


def vp_point(canvas: GraphCanvas, scene: QPointF) -> QPoint:
    return canvas.viewer.mapFromScene(scene)


def drag(canvas: GraphCanvas, a: QPointF, b: QPointF) -> None:
    vp = canvas.viewer.viewport()
    pa, pb = vp_point(canvas, a), vp_point(canvas, b)
    QTest.mousePress(vp, LEFT, NONE, pa)
    QTest.mouseMove(vp, (pa * 2 + pb) / 3)
    QTest.mouseMove(vp, (pa + pb * 2) / 3)
    QTest.mouseMove(vp, pb)
    QTest.mouseRelease(vp, LEFT, NONE, pb)
    QApplication.processEvents()


def double_click(vp: Any, at: QPoint) -> None:
    """What a real double-click delivers: press, release, double-click, release."""
    QTest.mousePress(vp, LEFT, NONE, at)
    QTest.mouseRelease(vp, LEFT, NONE, at)
    QTest.mouseDClick(vp, LEFT, NONE, at)
    QTest.mouseRelease(vp, LEFT, NONE, at)


def rect_of(canvas: GraphCanvas, nid: str) -> Any:
    return canvas.view_node(nid).view.sceneBoundingRect()


# ------------------------------------------------------------------------------------------
def test_one_canvas_shows_frames_nested_around_the_call(shown: Any) -> None:
    doc = attention_doc()
    canvas = shown(doc)
    assert canvas.scope is None
    assert set(canvas._views) == set(doc.graph.nodes)  # everything on the one canvas
    assert canvas.is_frame("wl") and canvas.is_frame("loop") and not canvas.is_frame("call")
    wl, loop, call = rect_of(canvas, "wl"), rect_of(canvas, "loop"), rect_of(canvas, "call")
    assert wl.contains(loop) and loop.contains(call)
    # padding on every side, the header above the children
    assert call.left() - loop.left() >= vframes.FRAME_PAD - 0.5
    assert call.top() - loop.top() >= vframes.HEADER_H + vframes.FRAME_PAD - 0.5
    assert loop.right() - call.right() >= vframes.FRAME_PAD - 0.5
    # Z by depth, all below wires and nodes
    z = {n: canvas.view_node(n).view.zValue() for n in ("wl", "loop", "call")}
    assert z["wl"] < z["loop"] < -1.0 < z["call"]
    # headers: loop axes in order, the workload's sheet summary on its own line
    loop_item, wl_item = canvas.view_node("loop").view, canvas.view_node("wl").view
    assert loop_item.name == titles.title(doc.graph.nodes["loop"], doc)
    assert "b in batch" in loop_item.name and loop_item.name.index("b in") < loop_item.name.index("h in")  # fmt: skip
    assert "affinity" in wl_item.summary and "streams 2" in wl_item.summary
    assert "attention" in wl_item.name and "affinity" not in wl_item.name
    # the frame is at least as wide as its header text
    assert loop.width() >= vframes.header_text_width(loop_item.name) - 0.5


def test_wires_cross_frame_borders_straight_into_call_ports(shown: Any) -> None:
    canvas = shown(attention_doc())
    call = canvas.view_node("call")
    q = canvas.view_node("Q").get_output("tensor")
    assert q.view in [p for p in call.get_input("Q").view.connected_ports]
    assert call.get_output("O").view in canvas.view_node("O").get_input("write").view.connected_ports  # fmt: skip


def test_call_ports_show_their_effective_index(shown: Any) -> None:
    canvas = shown(attention_doc())
    view = canvas.view_node("call")
    assert view.port_label("in", "Q").text() == "Q[b, h]"  # auto from P(b, h)
    assert view.port_label("in", "K").text() == "K[b]"  # the override
    assert view.port_label("out", "O").text() == "O[b, h]"
    assert canvas.view_node("call").view.name == titles.title(canvas.doc.graph.nodes["call"], canvas.doc)  # fmt: skip


def test_clicking_a_port_label_edits_its_index_in_place(shown: Any, qtbot: Any) -> None:
    canvas = shown(attention_doc())
    label = canvas.view_node("call").port_label("in", "V")
    vp = canvas.viewer.viewport()
    at = vp_point(canvas, label.sceneBoundingRect().center())
    QTest.mouseClick(vp, LEFT, NONE, at)
    qtbot.waitUntil(lambda: canvas.index_editor() is not None)
    editor = canvas.index_editor()
    assert editor.toPlainText() == "b"
    QTest.keyClicks(vp, "b, 0")  # replaces the selected text
    QTest.keyClick(vp, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: canvas.index_editor() is None)
    assert canvas.doc.graph.nodes["call"].props["index"]["V"] == "b, 0"
    assert canvas.view_node("call").port_label("in", "V").text() == "V[b, 0]"
    # typing the automatic index back removes the override
    label = canvas.view_node("call").port_label("in", "V")
    QTest.mouseClick(vp, LEFT, NONE, vp_point(canvas, label.sceneBoundingRect().center()))
    qtbot.waitUntil(lambda: canvas.index_editor() is not None)
    QTest.keyClicks(vp, "b")  # rank-3 V into a 16x16 tile inside P(b, h): auto is V[b]
    QTest.keyClick(vp, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "V" not in canvas.doc.graph.nodes["call"].props["index"])
    assert canvas.view_node("call").port_label("in", "V").text() == "V[b]"
    # Escape cancels
    label = canvas.view_node("call").port_label("in", "Q")
    QTest.mouseClick(vp, LEFT, NONE, vp_point(canvas, label.sceneBoundingRect().center()))
    qtbot.waitUntil(lambda: canvas.index_editor() is not None)
    QTest.keyClicks(vp, "0")
    QTest.keyClick(vp, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: canvas.index_editor() is None)
    assert "Q" not in canvas.doc.graph.nodes["call"].props["index"]


def test_dragging_a_frame_header_moves_its_contents_as_one_undo_step(shown: Any) -> None:
    canvas = shown(attention_doc())
    doc = canvas.doc
    before = {n: tuple(doc.graph.nodes[n].pos) for n in ("call", "Q")}
    loop = rect_of(canvas, "loop")
    grip = QPointF(loop.left() + 40, loop.top() + 10)  # on the header band
    drag(canvas, grip, grip + QPointF(0, 120))
    moved = tuple(doc.graph.nodes["call"].pos)
    assert moved[1] - before["call"][1] == pytest.approx(120, abs=6)
    assert moved[0] == pytest.approx(before["call"][0], abs=6)
    assert tuple(doc.graph.nodes["Q"].pos) == before["Q"]  # outside the frame: stays
    assert rect_of(canvas, "loop").top() == pytest.approx(loop.top() + moved[1] - before["call"][1], abs=1)  # fmt: skip
    assert rect_of(canvas, "wl").contains(rect_of(canvas, "loop"))  # the workload grew
    assert doc.graph.nodes["call"].parent == "loop"  # moving is not reparenting
    canvas.undo()
    assert tuple(doc.graph.nodes["call"].pos) == before["call"]


def test_a_click_inside_a_frame_goes_through_to_the_canvas(shown: Any) -> None:
    canvas = shown(attention_doc())
    wl = rect_of(canvas, "wl")
    loop = rect_of(canvas, "loop")
    # a point inside the workload frame but outside the loop frame and below the header
    inside = QPointF(loop.right() + 10, wl.bottom() - 10)
    if not wl.contains(inside):
        inside = QPointF(wl.left() + 12, wl.bottom() - 12)
    item = canvas.view_node("wl").view
    assert not item.shape().contains(item.mapFromScene(QPointF(wl.center().x(), wl.bottom() - 30)))
    assert item.shape().contains(item.mapFromScene(QPointF(wl.center().x(), wl.top() + 5)))


def test_double_click_on_a_frame_header_edits_what_it_shows(shown: Any) -> None:
    canvas = shown(attention_doc())
    asked: list[tuple[str, str]] = []
    canvas.context_menus.edit_requested.connect(lambda n, f: asked.append((n, f)))
    vp = canvas.viewer.viewport()
    loop, wl = rect_of(canvas, "loop"), rect_of(canvas, "wl")
    double_click(vp, vp_point(canvas, QPointF(loop.left() + 30, loop.top() + 10)))
    QApplication.processEvents()
    assert canvas.scope is None  # nothing entered
    assert asked == [("loop", "axes")] and canvas.selected_ids() == ["loop"]
    QTest.qWait(QApplication.doubleClickInterval() + 50)  # a new gesture, not a third click
    double_click(vp, vp_point(canvas, QPointF(wl.left() + 30, wl.top() + 10)))
    assert asked[-1] == ("wl", "target")  # the sheet the header summarises, target first


def test_order_numbers_on_framed_children(shown: Any) -> None:
    doc = attention_doc()
    _node(doc, "call2", "kernel.call", "call2", (380.0, 400.0), parent="loop", kernel="attn", axes=None, index={})  # fmt: skip
    canvas = shown(doc)
    assert canvas.order_number("call") == 1
    assert canvas.order_number("call2") == 2
    assert canvas.order_number("loop") == 1  # the loop is the workload's first child
    assert canvas.order_number("Q") is None  # root nodes are not numbered
    badge = canvas._order_badges["call2"]
    assert badge.parentItem() is canvas.view_node("call2").view  # moves with it


def test_channel_links_run_sender_to_channel_to_consumer(shown: Any) -> None:
    doc = Document(format_version=2, name="csp")
    _node(doc, "ch", "csp.channel", "l2c", (0.0, 0.0), depth=2)
    _node(doc, "wl", "workload.def", "pipeline", (200.0, 0.0), **{**SHEET, "target": ""})
    _node(doc, "proc", "csp.process", "loader", (220.0, 60.0), parent="wl", replicas=1)
    _node(doc, "send", "csp.send", "", (240.0, 120.0), parent="proc", channel="ch")
    _node(doc, "cons", "csp.consume", "", (600.0, 60.0), parent="wl", var="t", channel="ch")
    canvas = shown(doc)
    assert set(canvas.reference_links()) == {("send", "ch"), ("ch", "cons")}
    link = next(i for i in canvas._links if i.src_id == "send")
    assert link.pen().style() == Qt.PenStyle.DashLine
    assert not link.path().isEmpty()
    # the link follows while the sender's process frame is dragged (before the drop)
    before = link.path().boundingRect()
    proc = rect_of(canvas, "proc")
    vp = canvas.viewer.viewport()
    a = vp_point(canvas, QPointF(proc.left() + 30, proc.top() + 10))
    QTest.mousePress(vp, LEFT, NONE, a)
    QTest.mouseMove(vp, a + QPoint(0, 40))
    QTest.mouseMove(vp, a + QPoint(0, 80))
    QApplication.processEvents()
    assert link.path().boundingRect() != before
    QTest.mouseRelease(vp, LEFT, NONE, a + QPoint(0, 80))


def test_kernel_definition_still_opens_its_body(shown: Any) -> None:
    canvas = shown(attention_doc())
    k = canvas.add_node("kernel.def", (-300.0, 0.0))  # created with its tile-op body
    assert canvas.doc.graph.nodes[k].body is not None
    canvas.fit_view()
    double_click(canvas.viewer.viewport(), vp_point(canvas, rect_of(canvas, k).center()))
    assert canvas.scope == k
    body = canvas.doc.graph.nodes[k].body
    assert set(canvas._views) == set(body.nodes)
    canvas.leave_scope()
    assert canvas.scope is None and canvas.is_frame("loop")  # the frames are back


def title_point(canvas: GraphCanvas, nid: str) -> QPointF:
    r = rect_of(canvas, nid)
    return QPointF(r.center().x(), r.top() + 8.0)


def test_dropping_a_node_onto_a_frame_moves_it_inside(shown: Any) -> None:
    doc = attention_doc()
    _node(doc, "call2", "kernel.call", "call2", (380.0, 420.0), parent="wl", kernel="attn", axes=None, index={})  # fmt: skip
    _wire(doc, "Q", "tensor", "call2", "Q")
    canvas = shown(doc)
    assert canvas.parent_of("call2") == "wl"
    assert canvas.view_node("call2").port_label("in", "Q").text() == "Q"  # no loop around it
    loop = rect_of(canvas, "loop")
    target = QPointF(loop.right() - 100.0, loop.center().y() + 10.0)  # the loop's interior
    start = title_point(canvas, "call2")
    vp = canvas.viewer.viewport()
    QTest.mousePress(vp, LEFT, NONE, vp_point(canvas, start))
    QTest.mouseMove(vp, vp_point(canvas, (start + target) / 2))
    QTest.mouseMove(vp, vp_point(canvas, target))
    QApplication.processEvents()
    assert canvas.drop_hint() == "loop"  # lit while the call is over it
    assert canvas.view_node("loop").view.drop_hint
    QTest.mouseRelease(vp, LEFT, NONE, vp_point(canvas, target))
    QApplication.processEvents()
    assert canvas.drop_hint() is None
    assert doc.graph.nodes["call2"].parent == "loop"
    assert canvas.children_of("loop") == ["call", "call2"]  # appended: the last child
    assert canvas.order_number("call2") == 2
    assert rect_of(canvas, "loop").contains(rect_of(canvas, "call2"))
    # inside P(b, h) its ports are indexed by the loop variables now
    assert canvas.view_node("call2").port_label("in", "Q").text() == "Q[b, h]"
    assert canvas.editor.undo_title() == "Move into frame"
    canvas.undo()  # one step: back out, back in place
    assert doc.graph.nodes["call2"].parent == "wl"
    assert canvas.view_node("call2").port_label("in", "Q").text() == "Q"


def test_a_node_that_may_not_live_where_it_is_dropped_stays_in_its_frame(shown: Any, qtbot: Any) -> None:  # fmt: skip
    canvas = shown(attention_doc())
    doc = canvas.doc
    messages: list[str] = []
    canvas.message.connect(messages.append)
    wl = rect_of(canvas, "wl")
    start = title_point(canvas, "call")
    target = QPointF(wl.center().x(), wl.bottom() + 60.0)  # empty canvas below the workload
    vp = canvas.viewer.viewport()
    QTest.mousePress(vp, LEFT, NONE, vp_point(canvas, start))
    QTest.mouseMove(vp, vp_point(canvas, target))
    QApplication.processEvents()
    assert canvas.drop_hint() is None  # nothing lit: a call may not live on the bare canvas
    QTest.mouseRelease(vp, LEFT, NONE, vp_point(canvas, target))
    QApplication.processEvents()
    assert doc.graph.nodes["call"].parent == "loop"  # a call lives in a workload only
    assert any("cannot be placed on the canvas" in m for m in messages), messages
    # it moved, and its frames grew around it
    assert rect_of(canvas, "loop").contains(rect_of(canvas, "call"))
    assert rect_of(canvas, "wl").contains(rect_of(canvas, "loop"))


def _chain_doc(second_case_at: tuple[float, float]) -> Document:
    doc = attention_doc()
    doc.graph.nodes.pop("call")
    doc.graph.edges.clear()
    _node(doc, "ch", "branch.chain", "", (360.0, 180.0), parent="loop")
    _node(doc, "c1", "branch.case", "", (380.0, 230.0), parent="ch", pred="b < 2", otherwise=False)  # fmt: skip
    _node(doc, "k1", "kernel.call", "k1", (400.0, 300.0), parent="c1", kernel="attn", axes=None, index={})  # fmt: skip
    _node(doc, "c2", "branch.case", "", second_case_at, parent="ch", otherwise=True)
    x, y = second_case_at
    _node(doc, "k2", "kernel.call", "k2", (x + 20.0, y + 70.0), parent="c2", kernel="attn", axes=None, index={})  # fmt: skip
    _node(doc, "k3", "kernel.call", "k3", (x + 20.0, y + 200.0), parent="c2", kernel="attn", axes=None, index={})  # fmt: skip
    return doc


def test_a_when_chain_shows_one_compartment_per_case(shown: Any) -> None:
    canvas = shown(_chain_doc((640.0, 230.0)))  # side by side
    chain, c1, c2 = (rect_of(canvas, i) for i in ("ch", "c1", "c2"))
    assert chain.contains(c1) and chain.contains(c2)
    assert c1.top() == c2.top() and c1.height() == c2.height()  # one row of compartments
    assert c1.right() < c2.left()
    assert canvas.view_node("c1").view.name == "when b < 2"
    assert canvas.view_node("c2").view.name == "otherwise"
    assert canvas.view_node("ch").view.name.startswith("P.when")
    assert [canvas.order_number(i) for i in ("c1", "c2")] == [1, 2]
    z = {i: canvas.view_node(i).view.zValue() for i in ("loop", "ch", "c1")}
    assert z["loop"] < z["ch"] < z["c1"]


def test_stacked_cases_share_one_width(shown: Any) -> None:
    canvas = shown(_chain_doc((380.0, 520.0)))  # one under the other
    c1, c2 = rect_of(canvas, "c1"), rect_of(canvas, "c2")
    assert c1.left() == c2.left() and c1.width() == c2.width()
    assert c1.bottom() < c2.top()


def test_a_ports_context_menu_edits_and_resets_its_index(shown: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from test_canvas_navigation import MenuPicker, entries

    canvas = shown(attention_doc())
    picker = MenuPicker(canvas, monkeypatch)
    label = canvas.view_node("call").port_label("in", "K")
    at = vp_point(canvas, label.sceneBoundingRect().center())
    menu = picker.right_click(at)
    assert "Edit Index of K…" in entries(menu) and "Auto Index for K" in entries(menu)
    picker.right_click(at, "Edit Index of K…")
    qtbot.waitUntil(lambda: canvas.index_editor() is not None)
    vp = canvas.viewer.viewport()
    QTest.keyClicks(vp, "b, 0")
    QTest.keyClick(vp, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: canvas.index_editor() is None)
    assert canvas.doc.graph.nodes["call"].props["index"]["K"] == "b, 0"
    assert canvas.view_node("call").port_label("in", "K").text() == "K[b, 0]"
    picker.right_click(vp_point(canvas, canvas.view_node("call").port_label("in", "K").sceneBoundingRect().center()), "Auto Index for K")  # fmt: skip
    assert "K" not in canvas.doc.graph.nodes["call"].props["index"]
    assert canvas.view_node("call").port_label("in", "K").text() == "K[b]"  # auto: rank 3 - 2


def test_deleting_a_frame_takes_its_contents_and_header(shown: Any, qtbot: Any) -> None:
    canvas = shown(attention_doc())
    scene = canvas.viewer.scene()

    def headers() -> int:
        return sum(isinstance(i, vframes.FrameHeader) for i in scene.items())

    assert headers() == 2
    loop = rect_of(canvas, "loop")
    vp = canvas.viewer.viewport()
    QTest.mouseClick(vp, LEFT, NONE, vp_point(canvas, QPointF(loop.left() + 40, loop.top() + 10)))
    assert canvas.selected_ids() == ["loop"]
    canvas.viewer.setFocus()
    QTest.keyClick(vp, Qt.Key.Key_Delete)
    assert "loop" not in canvas.doc.graph.nodes and "call" not in canvas.doc.graph.nodes
    assert canvas.view_node("call") is None and headers() == 1
    assert canvas.frame_rect("wl").height() == pytest.approx(
        vframes.EMPTY_H + vframes.header_height("workload.def", "x")
    )  # empty again
    canvas.undo()
    assert headers() == 2 and canvas.frame_rect("loop").contains(rect_of(canvas, "call"))


def test_copies_land_in_the_frame_they_are_pasted_or_duplicated_in(shown: Any) -> None:
    canvas = shown(attention_doc())
    doc = canvas.doc
    canvas.select_ids(["call"])
    vp = canvas.viewer.viewport()
    canvas.viewer.setFocus()
    QTest.keyClick(vp, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # Duplicate
    (dup,) = canvas.selected_ids()
    assert dup != "call" and doc.graph.nodes[dup].parent == "loop"  # beside its original
    assert canvas.children_of("loop") == ["call", dup]
    # Copy, then paste with the cursor over the workload frame outside the loop: a call may
    # live there, so it goes into the workload.
    canvas.select_ids(["call"])
    assert canvas.copy_selected()
    wl, loop = rect_of(canvas, "wl"), rect_of(canvas, "loop")
    at = (loop.left() + 10.0, wl.bottom() - 8.0)
    assert canvas.frame_at(at) == "wl"
    (pasted,) = canvas.paste(at)
    assert doc.graph.nodes[pasted].parent == "wl"
    # A tensor pasted over a frame goes to the canvas (tensors live on the root).
    canvas.select_ids(["Q"])
    assert canvas.copy_selected()
    (tq,) = canvas.paste((loop.center().x(), loop.center().y()))
    assert doc.graph.nodes[tq].parent is None
