"""Edit > Arrange on v2 documents: frames around their children, nothing overlapping, data
flowing left to right (inputs -> calls -> outputs), wrapped to the view's shape."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from app.model import arrange, frames, io
from app.model.commands import DocumentEditor, EditError
from app.model.document import Document

from .test_commands import _random_command, add, build, params, wire


def _inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]  # fmt: skip


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def check_geometry(doc: Document, pos, sizes=None) -> dict[str, tuple[float, float, float, float]]:
    """Every node inside its frame; two nodes overlap only when one encloses the other."""
    rects = arrange.frame_rects(doc, pos, sizes)
    for nid, node in doc.graph.nodes.items():
        if node.parent is not None:
            assert _inside(rects[nid], rects[node.parent]), f"{nid} sticks out of {node.parent}"
    for a, b in itertools.combinations(doc.graph.nodes, 2):
        related = any(f.id == a for f in frames.ancestors(doc, b)) or any(
            f.id == b for f in frames.ancestors(doc, a)
        )
        if not related:
            assert not _overlap(rects[a], rects[b]), f"{a} overlaps {b}"
    return rects


@pytest.fixture
def attention() -> tuple[DocumentEditor, dict[str, str]]:
    ed = DocumentEditor(Document(name="attention"))
    return ed, build(ed)


def test_workload_reads_inputs_then_frames_then_outputs(attention) -> None:
    ed, ids = attention
    doc = ed.doc
    sizes = {nid: (180.0, 80.0) for nid, n in doc.graph.nodes.items() if not n.kind.startswith(("workload.", "loop."))}  # fmt: skip
    pos = arrange.layout(doc, doc.graph, sizes, aspect=1.6)
    assert set(pos) == set(doc.graph.nodes)
    rects = check_geometry(doc, pos, sizes)
    left = {nid: r[0] for nid, r in rects.items()}
    right = {nid: r[2] for nid, r in rects.items()}
    # unwired definitions (axes, kernel) left of the flow or above it; the flow reads
    # inputs | the workload frame | the output
    flow = [ids[t] for t in ("Q", "K", "V", "O", "wl")]
    for d in ("batch", "heads", "attn"):
        r = rects[ids[d]]
        beside = r[2] < min(left[f] for f in flow)
        above = r[3] < min(rects[f][1] for f in flow)
        assert beside or above, f"{d} stands in the flow"
    assert max(right[ids[t]] for t in "QKV") < left[ids["wl"]]
    assert right[ids["wl"]] < left[ids["O"]]
    # the frames hold their children with the view's padding and header
    wl, loop, call = rects[ids["wl"]], rects[ids["loop"]], rects[ids["call"]]
    assert loop[0] - wl[0] == pytest.approx(arrange.FRAME_PAD)
    assert call[0] - loop[0] == pytest.approx(arrange.FRAME_PAD)
    assert pos[ids["loop"]] == (loop[0], loop[1])  # a frame's position is its top-left


def test_dataflow_inside_a_frame_and_through_a_root_tensor(attention) -> None:
    ed, ids = attention
    doc = ed.doc
    tmp = add(ed, "data.tensor", name="T", shape=[4, 8, 16, 16])
    k2 = add(ed, "kernel.def", name="post", params=params(("X", "In"), ("Y", "Out")))
    second = add(ed, "kernel.call", parent=ids["loop"], kernel=k2.id)
    send = add(ed, "csp.send", parent=ids["loop"])
    wire(ed, ids["call"], "task", send.id, "value")
    # call -> O -> second -> T: the second call reads what the first wrote
    wire(ed, ids["O"], "tensor", second.id, "X")
    wire(ed, second.id, "Y", tmp.id, "write")
    pos = arrange.layout(doc, doc.graph)
    rects = check_geometry(doc, pos)
    assert rects[ids["call"]][2] < rects[send.id][0]  # a wire inside the loop: left to right
    assert rects[ids["call"]][2] < rects[second.id][0]  # through the root tensor O
    assert rects[ids["wl"]][2] < rects[tmp.id][0]  # the frame's output on its right


def test_tall_columns_wrap_to_the_view_shape() -> None:
    ed = DocumentEditor(Document())
    for i in range(24):
        add(ed, "data.tensor", name=f"T{i}")
    graph = ed.doc.graph
    sizes = {nid: (160.0, 60.0) for nid in graph.nodes}
    wide = arrange.layout(ed.doc, graph, sizes, aspect=2.0)
    tall = arrange.layout(ed.doc, graph, sizes, aspect=0.5)

    def extent(pos):
        return (
            max(x + 160.0 for x, _ in pos.values()),
            max(y + 60.0 for _, y in pos.values()),
        )

    (ww, wh), (tw, th) = extent(wide), extent(tall)
    assert ww / wh > tw / th  # a wide view gets a wide layout
    assert 1.0 <= ww / wh <= 4.0 and 0.25 <= tw / th <= 1.0
    for pos in (wide, tall):
        check_geometry(ed.doc, pos, sizes)
    # Creation (and previous place) order is kept down each column.
    order = sorted(graph.nodes, key=lambda n: (wide[n][0], wide[n][1]))
    assert [graph.nodes[n].name for n in order] == [f"T{i}" for i in range(24)]


def test_empty_and_nested_frames_are_sized_like_the_view(attention) -> None:
    ed, ids = attention
    doc = ed.doc
    empty = add(ed, "loop.seq", parent=ids["wl"])
    pos = arrange.layout(doc, doc.graph)
    rects = check_geometry(doc, pos)
    r = rects[empty.id]
    header, min_w = arrange.estimated_header(doc.node(empty.id), doc)
    assert r[2] - r[0] == pytest.approx(max(arrange.EMPTY_W, min_w))
    assert r[3] - r[1] == pytest.approx(arrange.EMPTY_H + header)
    # the loop and the empty frame are siblings in the workload: side by side or stacked
    assert not _overlap(rects[empty.id], rects[ids["loop"]])


def test_kernel_body_is_laid_out_by_dataflow(attention) -> None:
    ed, ids = attention
    kernel = ed.doc.node(ids["attn"])
    body = kernel.body
    pnodes = {n.props["param"]: n.id for n in body.nodes.values() if n.kind == "kernel.param"}
    mul = add(ed, "pto.mul", parent=kernel.id)
    exp = add(ed, "pto.exp", parent=kernel.id)
    wire(ed, pnodes["Q"], "tile", mul.id, "a")
    wire(ed, pnodes["K"], "tile", mul.id, "b")
    wire(ed, mul.id, "result", exp.id, "x")
    wire(ed, exp.id, "result", pnodes["O"], "value")
    pos = arrange.layout(ed.doc, body)  # no view: sizes are estimated
    x = {nid: p[0] for nid, p in pos.items()}
    assert x[pnodes["Q"]] < x[mul.id] < x[exp.id] < x[pnodes["O"]]


def test_bundled_samples_arrange_without_overlaps_or_changing_anything_else() -> None:
    root = Path(__file__).resolve().parents[3] / "app" / "projects"
    paths = sorted(root.glob("*.pto.json"))
    assert paths
    for path in paths:
        doc = io.load(path)
        before = io.to_json(doc)
        pos = arrange.layout(doc, doc.graph)
        assert set(pos) == set(doc.graph.nodes), path.name
        check_geometry(doc, pos)
        assert io.to_json(doc) == before, f"{path.name}: layout() must not move nodes itself"


@pytest.mark.parametrize("seed", range(4))
def test_documents_edited_at_random_arrange_without_overlaps(seed) -> None:
    ed = DocumentEditor(Document(name="random"))
    ids = build(ed)
    rng = random.Random(seed)
    for _ in range(80):
        cmd = _random_command(ed, rng, ids)
        try:
            if cmd is not None:
                ed.apply(cmd)
        except EditError:
            pass
    pos = arrange.layout(ed.doc, ed.doc.graph)
    assert set(pos) == set(ed.doc.graph.nodes)
    check_geometry(ed.doc, pos)


def test_a_frame_too_wide_for_the_view_folds_its_columns_into_rows() -> None:
    ed = DocumentEditor(Document(name="chain"))
    k = add(ed, "kernel.def", name="step", params=params(("X", "In"), ("Y", "Out")))
    wl = add(ed, "workload.def", name="w")
    calls = [add(ed, "kernel.call", parent=wl.id, kernel=k.id) for _ in range(4)]
    tensors = [add(ed, "data.tensor", name=f"T{i}", shape=[16, 16]) for i in range(5)]
    for i, call in enumerate(reversed(calls)):  # child order opposite to the data's order
        wire(ed, tensors[i].id, "tensor", call.id, "X")
        wire(ed, call.id, "Y", tensors[i + 1].id, "write")
    doc = ed.doc
    wide = arrange.layout(doc, doc.graph, aspect=10.0)
    tall = arrange.layout(doc, doc.graph, aspect=0.5)
    flow = list(reversed([c.id for c in calls]))  # the order data passes through them
    assert [wide[c][0] for c in flow] == sorted(wide[c][0] for c in flow)  # left to right
    assert len({wide[c][0] for c in flow}) == 4
    assert len({tall[c][0] for c in flow}) < 4  # folded into rows in the tall view...
    reading = sorted(flow, key=lambda c: (tall[c][1], tall[c][0]))
    assert reading == flow  # ...read left to right, then the next row
    for pos in (wide, tall):
        check_geometry(doc, pos)


def test_a_large_canvas_arranges_quickly() -> None:
    """60 workloads, each a loop of 5 calls chained through root tensors (about 780 nodes):
    well under a second here; the bound leaves room for a loaded machine."""

    ed = DocumentEditor(Document(name="big"))
    axis = add(ed, "axis.dense", name="ax", size=4)
    k = add(ed, "kernel.def", name="k", params=params(("X", "In"), ("Y", "Out")))
    for w in range(60):
        wl = add(ed, "workload.def", name=f"w{w}")
        loop = add(ed, "loop.parallel", parent=wl.id, axes=[{"var": "i", "axis": axis.id}])
        prev = add(ed, "data.tensor", name=f"t{w}_0", shape=[4, 16, 16])
        for c in range(5):
            call = add(ed, "kernel.call", parent=loop.id, kernel=k.id)
            nxt = add(ed, "data.tensor", name=f"t{w}_{c + 1}", shape=[4, 16, 16])
            wire(ed, prev.id, "tensor", call.id, "X")
            wire(ed, call.id, "Y", nxt.id, "write")
            prev = nxt
    doc = ed.doc
    pos = arrange.layout(doc, doc.graph)
    assert set(pos) == set(doc.graph.nodes)
