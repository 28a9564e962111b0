"""Document (format v2): frames via ``parent``, navigation, and ``same_as`` over frame trees."""

from __future__ import annotations

import copy

from app.model import frames
from app.model.document import FORMAT_VERSION, Document, Edge, Graph, Node, PortRef
from app.model.equality import same_as


def v2_attention() -> Document:
    """Spec §8.1 as a v2 document, written out node by node (no commands, no registry)."""
    g = Graph()

    def put(ident, kind, name="", parent=None, **props):
        g.nodes[ident] = Node(ident, kind, name, (0.0, 0.0), props, None, parent)

    for t, shape in (("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("V", [4, 16, 16]), ("O", [4, 8, 16, 16])):  # fmt: skip
        put(t, "data.tensor", t, shape=shape, dtype="f16")
    put("batch", "axis.dense_dyn", "batch", size=4)
    put("heads", "axis.dense", "heads", size=8)
    put("attn", "kernel.def", "attn_kernel", params=[{"name": p, "direction": d} for p, d in (("Q", "In"), ("K", "In"), ("V", "In"), ("O", "Out"))])  # fmt: skip
    put("wl", "workload.def", "attention", dispatch="affinity", dispatch_key="b")
    put("loop", "loop.parallel", "", "wl", axes=[{"var": "b", "axis": "batch"}, {"var": "h", "axis": "heads"}])  # fmt: skip
    put("call", "kernel.call", "call", "loop", kernel="attn", axes=None, index={"K": "b", "V": "b"})
    for t in ("Q", "K", "V"):
        g.edges.append(Edge(PortRef(t, "tensor"), PortRef("call", t)))
    g.edges.append(Edge(PortRef("call", "O"), PortRef("O", "write")))
    return Document(name="attention", graph=g)


def renumbered(doc: Document, prefix: str = "x") -> Document:
    """The same document with every id replaced (parents and edges follow)."""
    new = {old: f"{prefix}{i}" for i, old in enumerate(doc.graph.nodes)}
    out = copy.deepcopy(doc)
    out.graph.nodes = {}
    for node in copy.deepcopy(list(doc.graph.nodes.values())):
        node.id = new[node.id]
        node.parent = new.get(node.parent) if node.parent else None
        if node.props.get("kernel") in new:
            node.props["kernel"] = new[node.props["kernel"]]
        for entry in node.props.get("axes") or []:
            entry["axis"] = new.get(entry["axis"], entry["axis"])
        out.graph.nodes[node.id] = node
    out.graph.edges = [
        Edge(PortRef(new[e.src.node], e.src.port), PortRef(new[e.dst.node], e.dst.port))
        for e in doc.graph.edges
    ]
    return out


def test_format_version_is_2_and_nodes_default_to_root():
    assert FORMAT_VERSION == 2 and Document().format_version == 2
    assert Node("n1", "data.tensor").parent is None


def test_navigation_finds_framed_nodes_on_the_root_graph():
    doc = v2_attention()
    node, graph, owner = doc.locate("call")
    assert graph is doc.graph and owner is None and node.parent == "loop"
    assert doc.node("loop").parent == "wl"
    assert doc.next_id() not in doc.all_ids()


def test_same_as_ignores_ids_and_positions():
    a = v2_attention()
    b = renumbered(a)
    for node in b.graph.nodes.values():
        node.pos = (node.pos[0] + 100, node.pos[1] - 7)
    assert set(a.graph.nodes) != set(b.graph.nodes)
    assert same_as(a, b) and same_as(b, a)
    # a reference is compared by what it names, not by the id it holds
    assert b.node("x9").props["kernel"] == "x6"
    c = copy.deepcopy(b)
    c.node("x9").props["kernel"] = "x0"  # now names tensor Q
    assert not same_as(a, c)
    d = copy.deepcopy(b)
    d.node("x8").props["axes"][1]["axis"] = "x4"  # batch twice
    assert not same_as(a, d)


def test_same_as_sees_props_edges_and_parents():
    a = v2_attention()
    c = copy.deepcopy(a)
    c.node("heads").props["size"] = 9
    assert not same_as(a, c)
    d = copy.deepcopy(a)
    d.graph.edges.pop()
    assert not same_as(a, d)
    # the call moved out of the loop into the workload frame: same nodes, different structure
    e = copy.deepcopy(a)
    e.node("call").parent = "wl"
    assert not same_as(a, e)
    # a frame's props (its axes, in order) are part of it
    f = copy.deepcopy(a)
    f.node("loop").props["axes"].reverse()
    assert not same_as(a, f)


def test_same_as_keeps_child_order_but_not_root_order():
    a = v2_attention()
    g = a.graph
    g.nodes["call2"] = Node(
        "call2", "kernel.call", "other", props={"kernel": "attn"}, parent="loop"
    )
    b = copy.deepcopy(a)
    # swap the two calls inside the loop: statement order changed
    nodes = list(b.graph.nodes.values())
    i, j = nodes.index(b.graph.nodes["call"]), nodes.index(b.graph.nodes["call2"])
    nodes[i], nodes[j] = nodes[j], nodes[i]
    b.graph.nodes = {n.id: n for n in nodes}
    assert not same_as(a, b)
    # reversing root-level declarations (tensors, axes) changes nothing a program depends on
    c = copy.deepcopy(a)
    roots = [n for n in c.graph.nodes.values() if n.parent is None]
    framed = [n for n in c.graph.nodes.values() if n.parent is not None]
    c.graph.nodes = {n.id: n for n in list(reversed(roots)) + framed}
    assert same_as(a, c)


def test_same_as_distinguishes_edges_by_place():
    """Two identical calls in different loops: which one a tensor feeds matters."""

    def doc_with(feed: str) -> Document:
        d = v2_attention()
        d.graph.nodes["seq"] = Node(
            "seq", "loop.seq", props={"var": "k", "axis": "heads"}, parent="wl"
        )
        d.graph.nodes["c2"] = Node("c2", "kernel.call", "call", props={"kernel": "attn", "axes": None, "index": {"K": "b", "V": "b"}}, parent="seq")  # fmt: skip
        d.graph.edges = [e for e in d.graph.edges if e.dst.port != "Q"]
        d.graph.edges.append(Edge(PortRef("Q", "tensor"), PortRef(feed, "Q")))
        return d

    assert same_as(doc_with("call"), doc_with("call"))
    assert not same_as(doc_with("call"), doc_with("c2"))


def test_same_as_survives_a_parent_cycle():
    a = v2_attention()
    a.node("wl").parent = "loop"  # corrupt: loop -> wl -> loop
    assert same_as(a, copy.deepcopy(a))


def test_same_as_and_frames_on_200_nested_loops():
    """Deep nesting gives the right answers (tests never assert on wall time: this one did,
    and failed on loaded machines)."""
    g = Graph()
    g.nodes["w"] = Node("w", "workload.def", "w")
    parent = "w"
    for i in range(200):  # 200 nested loops, 9 calls in each
        g.nodes[f"l{i}"] = Node(
            f"l{i}", "loop.seq", props={"var": f"i{i}", "axis": "a"}, parent=parent
        )
        for j in range(9):
            g.nodes[f"c{i}_{j}"] = Node(
                f"c{i}_{j}", "kernel.call", props={"kernel": "k"}, parent=f"l{i}"
            )
        parent = f"l{i}"
    doc = Document(graph=g)
    assert same_as(doc, renumbered(doc))
    assert len(frames.loop_vars(doc, "c199_0")) == 200
    assert len(frames.descendants(doc, "w")) == 2000


def test_same_as_compares_settings_and_params_by_meaning():
    a = v2_attention()
    b = copy.deepcopy(a)
    # a partial task_graph is the full settings with the other fields at their defaults
    a.node("wl").props["task_graph"] = {"deps": "infer"}
    b.node("wl").props["task_graph"] = {
        "window": 0, "unit": "tasks", "mode": "stall", "deps": "infer", "ready": "default",
        "ready_key": "", "start": "default", "threshold": 8, "trace": "default", "pools": [],
    }  # fmt: skip
    assert same_as(a, b)
    # ... but "not set" ({}) is not the same as settings that set something
    b.node("wl").props["task_graph"] = {}
    assert not same_as(a, b)
    b.node("wl").props["task_graph"] = {"deps": "explicit"}
    assert not same_as(a, b)
    # kernel parameters compare with their kind's defaults filled in
    c, d = v2_attention(), v2_attention()
    c.node("attn").props["params"] = [{"name": "Q", "direction": "In", "kind": "tile"}]
    d.node("attn").props["params"] = [{"name": "Q", "direction": "In", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"}]  # fmt: skip
    assert same_as(c, d)
    d.node("attn").props["params"][0]["rows"] = 32
    assert not same_as(c, d)
