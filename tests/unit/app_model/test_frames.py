"""app.model.frames: children in order, ancestors outermost first, loop variables, workloads."""

from __future__ import annotations

from app.model import frames
from app.model.document import Document, Graph, Node


def build() -> Document:
    g = Graph()

    def put(ident, kind, parent=None, **props):
        g.nodes[ident] = Node(ident, kind, ident, (0.0, 0.0), props, None, parent)

    put("Q", "data.tensor")
    put("w", "workload.def")
    put("p", "loop.parallel", "w", axes=[{"var": "b", "axis": "batch"}, {"var": "h", "axis": "heads"}])  # fmt: skip
    put("c1", "kernel.call", "p")
    put("s", "loop.seq", "p", var="k", axis="kv")
    put("c2", "kernel.call", "s")
    put("c0", "kernel.call", "p")
    put("pipe", "pipe.scope", "w")
    put("cons", "csp.consume", "pipe", var="t", channel="ch")
    put("c3", "kernel.call", "cons")
    put("sel", "loop.sel", "w", var="j", axis="sp")
    put("comb", "compose.combine")
    put("inst", "workload.instance", "comb", workload="w")
    return Document(graph=g)


def ids(nodes):
    return [n.id for n in nodes]


def test_children_are_ordered_by_document_order():
    doc = build()
    assert ids(frames.children(doc, None)) == ["Q", "w", "comb"]
    assert ids(frames.children(doc, "w")) == ["p", "pipe", "sel"]
    assert ids(frames.children(doc, "p")) == ["c1", "s", "c0"]
    assert frames.children(doc, "c1") == []


def test_ancestors_outermost_first():
    doc = build()
    assert ids(frames.ancestors(doc, "c2")) == ["w", "p", "s"]
    assert frames.ancestors(doc, "Q") == [] and frames.ancestors(doc, "w") == []
    assert frames.parent_of(doc, "c2").id == "s" and frames.parent_of(doc, "w") is None
    assert frames.depth(doc, "c2") == 3


def test_loop_vars_outermost_first_including_consume_vars():
    doc = build()
    assert frames.loop_vars(doc, "c1") == ["b", "h"]
    assert frames.loop_vars(doc, "c2") == ["b", "h", "k"]
    assert frames.loop_vars(doc, "c3") == ["t"]
    assert frames.loop_vars(doc, "p") == []  # a frame's own variables do not enclose it
    assert frames.bound_vars(doc.node("p")) == ["b", "h"]
    assert frames.bound_vars(doc.node("sel")) == ["j"]


def test_loop_axis_is_the_innermost_binding_frame_s_axis():
    """Which axis node a variable runs over at a node (a missing axis node gives None, as does
    a consume's item variable, which runs over no axis)."""
    doc = build()
    g = doc.graph
    for axis in ("batch", "heads", "kv"):
        g.nodes[axis] = Node(axis, "axis.dense", axis, (0.0, 0.0), {"size": 4}, None, None)
    assert [frames.loop_axis(doc, "c2", v).id for v in ("b", "h", "k")] == ["batch", "heads", "kv"]
    assert frames.loop_axis(doc, "c1", "k") is None  # k is bound beside c1, not around it
    assert frames.loop_axis(doc, "c3", "t") is None  # a consume's item
    g.nodes["s"].props["var"] = "b"  # P.seq(b) inside P(b, h): the inner b wins
    assert frames.loop_axis(doc, "c2", "b").id == "kv"
    del g.nodes["kv"]
    assert frames.loop_axis(doc, "c2", "b") is None


def test_workload_of():
    doc = build()
    assert frames.workload_of(doc, "c2").id == "w"
    assert frames.workload_of(doc, "w").id == "w"
    assert frames.workload_of(doc, "Q") is None
    assert frames.workload_of(doc, "inst") is None


def test_descendants_pre_order():
    doc = build()
    assert ids(frames.descendants(doc, "w")) == ["p", "c1", "s", "c2", "c0", "pipe", "cons", "c3", "sel"]  # fmt: skip
    assert ids(frames.descendants(doc, "comb")) == ["inst"]
    assert frames.descendants(doc, "Q") == []


def test_cycles_do_not_hang():
    doc = build()
    doc.node("w").parent = "c2"  # corrupt: w -> p -> s -> c2 -> w
    assert ids(frames.ancestors(doc, "c2")) == ["w", "p", "s"]
    assert "c2" in ids(frames.descendants(doc, "w"))
