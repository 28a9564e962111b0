"""Edit > Arrange: columns by role, wired chains top to bottom, wrapped to the view's shape."""

from __future__ import annotations

import itertools

from app.model import arrange, io
from app.model.document import Graph

from .conftest import add, wire


def _rects(graph: Graph, pos, sizes):
    return {nid: (x, y, x + sizes[nid][0], y + sizes[nid][1]) for nid, (x, y) in pos.items()}


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_root_reads_data_then_definitions_then_workloads_then_schedule(attention) -> None:
    ed, ids = attention
    graph = ed.doc.graph
    sizes = {nid: (180.0, 80.0) for nid in graph.nodes}
    pos = arrange.layout(ed.doc, graph, sizes, aspect=1.6)
    assert set(pos) == set(graph.nodes)
    x = {nid: p[0] for nid, p in pos.items()}
    # Data left of definitions (axes, kernel) left of the workload left of the schedule.
    assert max(x[ids[t]] for t in "QKVO") < min(x[ids["batch"]], x[ids["attn"]])
    assert max(x[ids["batch"]], x[ids["attn"]]) < x[ids["wl"]]
    sched = [n.id for n in graph.nodes.values() if n.kind.startswith("sched.")]
    assert all(x[ids["wl"]] < x[s] for s in sched + [ids["compile"]])
    # The schedule chain reads top to bottom in wire order, the program last.
    chain = sorted(sched + [ids["compile"]], key=lambda n: pos[n][1])
    kinds = [graph.nodes[n].kind for n in chain]
    assert kinds == ["sched.dispatch", "sched.streams", "compile.target"]
    rects = _rects(graph, pos, sizes)
    for a, b in itertools.combinations(rects.values(), 2):
        assert not _overlap(a, b)


def test_tall_columns_wrap_to_the_view_shape(editor) -> None:
    for i in range(24):
        add(editor, "data.tensor", name=f"T{i}")
    graph = editor.doc.graph
    sizes = {nid: (160.0, 60.0) for nid in graph.nodes}
    wide = arrange.layout(editor.doc, graph, sizes, aspect=2.0)
    tall = arrange.layout(editor.doc, graph, sizes, aspect=0.5)

    def extent(pos):
        return (
            max(x + 160.0 for x, _ in pos.values()),
            max(y + 60.0 for _, y in pos.values()),
        )

    (ww, wh), (tw, th) = extent(wide), extent(tall)
    assert ww / wh > tw / th  # a wide view gets a wide layout
    assert 1.0 <= ww / wh <= 4.0 and 0.25 <= tw / th <= 1.0
    for pos in (wide, tall):
        rects = _rects(graph, pos, sizes)
        for a, b in itertools.combinations(rects.values(), 2):
            assert not _overlap(a, b)
    # Creation (and previous place) order is kept down each column.
    order = sorted(graph.nodes, key=lambda n: (wide[n][0], wide[n][1]))
    assert [graph.nodes[n].name for n in order] == [f"T{i}" for i in range(24)]


def test_kernel_body_is_laid_out_by_dataflow(attention) -> None:
    ed, ids = attention
    kernel = ed.doc.node(ids["attn"])
    body = kernel.body
    params = {n.props["param"]: n.id for n in body.nodes.values() if n.kind == "kernel.param"}
    mul = add(ed, "pto.mul", parent=kernel.id)
    exp = add(ed, "pto.exp", parent=kernel.id)
    wire(ed, params["Q"], "tile", mul.id, "a")
    wire(ed, params["K"], "tile", mul.id, "b")
    wire(ed, mul.id, "result", exp.id, "x")
    wire(ed, exp.id, "result", params["O"], "value")
    pos = arrange.layout(ed.doc, body)  # no view: sizes are estimated
    x = {nid: p[0] for nid, p in pos.items()}
    assert x[params["Q"]] < x[mul.id] < x[exp.id] < x[params["O"]]


def test_bundled_samples_arrange_without_changing_anything_else() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "projects"
    for path in sorted(root.glob("*.pto.json")):
        doc = io.load(path)
        before = io.to_json(doc)
        pos = arrange.layout(doc, doc.graph)
        assert set(pos) == set(doc.graph.nodes), path.name
        assert io.to_json(doc) == before, f"{path.name}: layout() must not move nodes itself"
