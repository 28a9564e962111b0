"""commands on v2 documents: frames, order, references, wires; every edit undoes exactly
(byte-identical JSON) and redo replays it."""

from __future__ import annotations

import random

import pytest

from app.model import frames, indexing, io, registry
from app.model.commands import (
    AddBackdrop,
    AddNode,
    Connect,
    ConnectionRefused,
    CreateTensor,
    Disconnect,
    DocumentEditor,
    Duplicate,
    EditError,
    MoveNodes,
    Paste,
    PlacementRefused,
    PropertyError,
    RemoveBackdrop,
    RemoveNodes,
    Reorder,
    Reparent,
    SetPortIndex,
    SetProperty,
    Unwrap,
    Wrap,
    clipboard_data,
)
from app.model.document import Document, PortRef
from app.model.equality import same_as
from app.model.validation import document_warnings, validate_document

TILE = {"kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"}


def add(ed: DocumentEditor, kind: str, parent: str | None = None, name: str | None = None, pos=(0.0, 0.0), **props):  # fmt: skip
    return ed.apply(AddNode(kind, pos, parent, name, **props)).node


def wire(ed: DocumentEditor, src: str, sport: str, dst: str, dport: str) -> None:
    ed.apply(Connect(PortRef(src, sport), PortRef(dst, dport)))


def params(*spec: tuple[str, str]) -> list[dict]:
    return [{"name": n, "direction": d, **TILE} for n, d in spec]


def build(ed: DocumentEditor) -> dict[str, str]:
    """Spec §8.1 in v2: tensors wired straight into a call inside P(b, h) in a workload."""
    ids: dict[str, str] = {}
    for t, shape in (("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("V", [4, 16, 16]), ("O", [4, 8, 16, 16])):  # fmt: skip
        ids[t] = add(ed, "data.tensor", name=t, shape=shape, pos=(0.0, 100.0 * len(ids))).id
    ids["batch"] = add(ed, "axis.dense_dyn", name="batch", size=4).id
    ids["heads"] = add(ed, "axis.dense", name="heads", size=8).id
    kparams = params(("Q", "In"), ("K", "In"), ("V", "In"), ("O", "Out"))
    ids["attn"] = add(ed, "kernel.def", name="attn_kernel", params=kparams).id
    ids["wl"] = add(ed, "workload.def", name="attention", pos=(300.0, 0.0)).id
    axes = [{"var": "b", "axis": ids["batch"]}, {"var": "h", "axis": ids["heads"]}]
    ids["loop"] = add(ed, "loop.parallel", parent=ids["wl"], axes=axes, pos=(320.0, 40.0)).id
    ids["call"] = add(
        ed, "kernel.call", parent=ids["loop"], kernel=ids["attn"], index={"K": "b", "V": "b"},
        pos=(340.0, 80.0),
    ).id  # fmt: skip
    for t in "QKV":
        wire(ed, ids[t], "tensor", ids["call"], t)
    wire(ed, ids["call"], "O", ids["O"], "write")
    return ids


@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="attention"))


@pytest.fixture
def attention(editor: DocumentEditor) -> tuple[DocumentEditor, dict[str, str]]:
    return editor, build(editor)


def edges(doc: Document) -> set[tuple[str, str, str, str]]:
    return {(e.src.node, e.src.port, e.dst.node, e.dst.port) for e in doc.graph.edges}


def kids(doc: Document, frame: str | None) -> list[str]:
    return [n.id for n in frames.children(doc, frame)]


def roundtrip(ed: DocumentEditor, steps: int) -> None:
    """Undo ``steps`` commands and redo them: the JSON after redo equals the JSON before."""
    after = io.to_json(ed.doc)
    for _ in range(steps):
        ed.undo()
    for _ in range(steps):
        ed.redo()
    assert io.to_json(ed.doc) == after


# ------------------------------------------------------------------------------------------
def test_the_fixture_is_a_valid_v2_document(attention):
    ed, ids = attention
    doc = ed.doc
    assert doc.format_version == 2
    assert doc.node(ids["loop"]).parent == ids["wl"] and doc.node(ids["call"]).parent == ids["loop"]
    assert frames.loop_vars(doc, ids["call"]) == ["b", "h"]
    call = doc.node(ids["call"])
    assert indexing.effective_index(doc, call, "Q") == "b, h"
    assert indexing.effective_index(doc, call, "K") == "b"
    assert validate_document(doc) == []


def test_events_and_dirty_flag(editor):
    seen: list[tuple] = []
    ev = editor.events
    ev.node_added.connect(lambda n, g: seen.append(("added", n.kind)))
    ev.node_removed.connect(lambda n, g: seen.append(("removed", n.kind)))
    ev.edge_added.connect(lambda e, g: seen.append(("edge+", str(e.src), str(e.dst))))
    ev.edge_removed.connect(lambda e, g: seen.append(("edge-", str(e.src))))
    ev.property_changed.connect(lambda n, f, old, new: seen.append(("prop", f, old, new)))
    ev.moved.connect(lambda n, old, new: seen.append(("moved", new)))
    ev.parent_changed.connect(lambda n, old, new: seen.append(("parent", n.kind, old, new)))
    ev.order_changed.connect(lambda g: seen.append(("order",)))
    dirty: list[bool] = []
    ev.dirty_changed.connect(dirty.append)
    assert not editor.dirty and not editor.can_undo()
    t = add(editor, "data.scalar", name="n")
    assert editor.dirty and dirty == [True]
    editor.mark_saved()
    assert not editor.dirty and dirty == [True, False]
    editor.apply(SetProperty(t.id, "value", 7))
    editor.apply(MoveNodes({t.id: (5, 6)}))
    d = add(editor, "axis.dense_dyn")
    editor.apply(Connect(PortRef(t.id, "scalar"), PortRef(d.id, "size")))
    wl = add(editor, "workload.def")
    a = add(editor, "workload.def")
    # a frame into another: one parent change (no order change: a is already last)
    with pytest.raises(PlacementRefused):
        editor.apply(Reparent([a.id], wl.id))  # a workload lives on the root only
    loop = add(editor, "loop.seq", parent=wl.id)
    seq = add(editor, "loop.seq", parent=wl.id)
    editor.apply(Reparent([seq.id], loop.id))
    assert ("parent", "loop.seq", wl.id, loop.id) in seen
    editor.apply(Reorder(a.id, 0))
    assert seen[-1] == ("order",)
    editor.apply(RemoveNodes([t.id]))
    assert ("prop", "value", 0, 7) in seen and ("moved", (5.0, 6.0)) in seen
    assert ("edge+", f"{t.id}.scalar", f"{d.id}.size") in seen
    assert seen[-2:] == [("edge-", f"{t.id}.scalar"), ("removed", "data.scalar")]
    for _ in range(11):
        editor.undo()
    assert not editor.dirty  # back at the saved state
    editor.redo()
    assert editor.dirty
    assert editor.can_redo() and editor.redo_title() == "Move"


def test_add_node_checks_where_a_kind_may_live(attention):
    ed, ids = attention
    with pytest.raises(PlacementRefused, match="not on the canvas outside every frame"):
        ed.apply(AddNode("kernel.call"))
    with pytest.raises(PlacementRefused, match="lives inside a workload, not on the canvas"):
        ed.apply(AddNode("loop.parallel"))  # loops live inside workloads
    with pytest.raises(PlacementRefused, match="not inside a workload"):
        ed.apply(AddNode("data.tensor", parent=ids["loop"]))  # tensors live on the root
    with pytest.raises(PlacementRefused):
        ed.apply(AddNode("pto.add"))  # tile ops live in kernel bodies
    with pytest.raises(EditError, match="not a frame"):
        ed.apply(AddNode("csp.send", parent=ids["Q"]))
    with pytest.raises(PlacementRefused):
        ed.apply(AddNode("branch.case", parent=ids["wl"]))  # cases only inside a chain
    chain = add(ed, "branch.chain", parent=ids["loop"])
    case = add(ed, "branch.case", parent=chain.id)
    with pytest.raises(PlacementRefused):
        ed.apply(AddNode("csp.close", parent=chain.id))  # a chain holds cases only
    inner = add(ed, "loop.seq", parent=case.id)  # any workload statement inside a case
    assert [n.id for n in frames.ancestors(ed.doc, inner.id)] == [ids["wl"], ids["loop"], chain.id, case.id]  # fmt: skip
    mul = add(ed, "pto.mul", parent=ids["attn"])  # a kernel body
    assert mul.parent is None and mul.id in ed.doc.node(ids["attn"]).body.nodes
    # a new node is its frame's last child
    assert kids(ed.doc, ids["loop"]) == [ids["call"], chain.id]
    with pytest.raises(PropertyError, match="no node 'n999'"):
        ed.apply(AddNode("kernel.call", parent=ids["loop"], kernel="n999"))


def test_remove_a_frame_takes_its_contents_and_their_wires(attention):
    ed, ids = attention
    before = io.to_json(ed.doc)
    send = add(ed, "csp.send", parent=ids["loop"])
    wire(ed, ids["call"], "task", send.id, "value")
    mid = io.to_json(ed.doc)
    ed.apply(RemoveNodes([ids["loop"]]))
    doc = ed.doc
    for gone in (ids["loop"], ids["call"], send.id):
        assert gone not in doc.graph.nodes
    assert ids["wl"] in doc.graph.nodes and kids(doc, ids["wl"]) == []
    assert all(ids["call"] not in (e.src.node, e.dst.node) for e in doc.graph.edges)
    assert doc.graph.edges == []
    ed.undo()
    assert io.to_json(doc) == mid  # order, parents and wires exactly as they were
    assert kids(doc, ids["loop"]) == [ids["call"], send.id]
    ed.redo()
    assert ids["call"] not in doc.graph.nodes
    ed.undo()
    ed.undo()
    ed.undo()
    assert io.to_json(doc) == before


def test_remove_a_kernel_empties_the_calls_reference_and_drops_its_port_wires(attention):
    ed, ids = attention
    before = io.to_json(ed.doc)
    ed.apply(RemoveNodes([ids["attn"]]))
    call = ed.doc.node(ids["call"])
    assert call.props["kernel"] in (None, "")
    assert edges(ed.doc) == set()  # the call has no parameter ports any more
    ed.undo()
    assert io.to_json(ed.doc) == before
    assert (ids["Q"], "tensor", ids["call"], "Q") in edges(ed.doc)


def test_remove_a_kernel_param_node_is_refused(attention):
    ed, ids = attention
    body = ed.doc.node(ids["attn"]).body
    pnode = next(n for n in body.nodes.values() if n.kind == "kernel.param")
    with pytest.raises(EditError, match="belongs to its kernel"):
        ed.apply(RemoveNodes([pnode.id]))


def test_connect_across_frames_and_refusals(attention):
    ed, ids = attention
    doc = ed.doc
    ed.apply(Disconnect(PortRef(ids["K"], "tensor"), PortRef(ids["call"], "K")))
    assert (ids["K"], "tensor", ids["call"], "K") not in edges(doc)
    ed.apply(Connect(PortRef(ids["K"], "tensor"), PortRef(ids["call"], "K")))
    assert doc.graph.edges[-1].src == PortRef(ids["K"], "tensor")  # root tensor -> call in P
    with pytest.raises(ConnectionRefused) as info:
        ed.apply(Connect(PortRef(ids["Q"], "tensor"), PortRef(ids["heads"], "nope")))
    assert info.value.reason
    with pytest.raises(EditError, match="no edge"):
        ed.apply(Disconnect(PortRef(ids["Q"], "tensor"), PortRef(ids["call"], "K")))
    with pytest.raises(PropertyError, match=rf"{ids['Q']}\.props\.colour: unknown property"):
        ed.apply(SetProperty(ids["Q"], "colour", 1))
    with pytest.raises(PropertyError, match="already used"):
        ed.apply(SetProperty(ids["K"], "name", "Q"))
    with pytest.raises(PropertyError, match="valid Python name"):
        ed.apply(SetProperty(ids["K"], "name", "K 2"))
    with pytest.raises(PropertyError, match="no node 'n999'"):
        ed.apply(SetProperty(ids["call"], "kernel", "n999"))


def test_changing_a_calls_kernel_rederives_ports_and_prunes_dead_wires(attention):
    ed, ids = attention
    before = io.to_json(ed.doc)
    other = add(ed, "kernel.def", name="scale", params=params(("Q", "In"), ("Y", "Out")))
    mid = io.to_json(ed.doc)
    ed.apply(SetProperty(ids["call"], "kernel", other.id))
    doc = ed.doc
    call = doc.node(ids["call"])
    assert edges(doc) == {(ids["Q"], "tensor", ids["call"], "Q")}  # Q survives, K V O go
    assert call.props["index"] == {}  # overrides of K and V named parameters that are gone
    ed.undo()
    assert io.to_json(doc) == mid
    ed.redo()
    assert call.props["kernel"] == other.id
    ed.undo()
    ed.undo()
    assert io.to_json(doc) == before


def test_editing_kernel_params_keeps_wires_of_surviving_and_renamed_params(attention):
    ed, ids = attention
    doc = ed.doc
    before = io.to_json(doc)
    kern = doc.node(ids["attn"])
    new = [dict(p) for p in kern.props["params"]]
    new[1]["name"] = "Kmat"  # K renamed in place
    ed.apply(SetProperty(ids["attn"], "params", new))
    call = doc.node(ids["call"])
    assert (ids["K"], "tensor", ids["call"], "Kmat") in edges(doc)
    assert call.props["index"] == {"Kmat": "b", "V": "b"}
    assert indexing.effective_index(doc, call, "Kmat") == "b"
    pnames = {n.props["param"] for n in kern.body.nodes.values() if n.kind == "kernel.param"}
    assert pnames == {"Q", "Kmat", "V", "O"}
    # dropping V removes the call's V wire, its override and V's parameter node
    ed.apply(SetProperty(ids["attn"], "params", [p for p in new if p["name"] != "V"]))
    assert not any(e.dst == PortRef(ids["call"], "V") for e in doc.graph.edges)
    assert (ids["Q"], "tensor", ids["call"], "Q") in edges(doc)
    assert (ids["call"], "O", ids["O"], "write") in edges(doc)
    assert call.props["index"] == {"Kmat": "b"}
    pnames = {n.props["param"] for n in kern.body.nodes.values() if n.kind == "kernel.param"}
    assert pnames == {"Q", "Kmat", "O"}
    roundtrip(ed, 2)
    ed.undo()
    ed.undo()
    assert io.to_json(doc) == before


def test_reparent_moves_into_and_out_of_frames_keeping_wires(attention):
    ed, ids = attention
    doc = ed.doc
    before = io.to_json(doc)
    wires = edges(doc)
    seq = add(ed, "loop.seq", parent=ids["wl"], var="k", axis=ids["heads"])
    ed.apply(Reparent([ids["call"]], seq.id, positions={ids["call"]: (500.0, 90.0)}))
    assert doc.node(ids["call"]).parent == seq.id and kids(doc, seq.id) == [ids["call"]]
    assert doc.node(ids["call"]).pos == (500.0, 90.0)
    assert edges(doc) == wires
    assert frames.loop_vars(doc, ids["call"]) == ["k"]
    # the loop into the seq frame: the seq frame stays before its new children in the order
    ed.apply(Reparent([ids["loop"]], seq.id))
    assert kids(doc, seq.id) == [ids["call"], ids["loop"]]
    order = list(doc.graph.nodes)
    assert order.index(seq.id) < order.index(ids["loop"])
    with pytest.raises(PlacementRefused, match="inside itself"):
        ed.apply(Reparent([seq.id], ids["loop"]))
    with pytest.raises(
        PlacementRefused,
        match="a Tensor lives on the canvas outside every frame, not inside a workload",
    ):
        ed.apply(Reparent([ids["Q"]], seq.id))
    with pytest.raises(PlacementRefused, match="not on the canvas outside every frame"):
        ed.apply(Reparent([ids["call"]], None))
    with pytest.raises(PlacementRefused, match="not a frame"):
        ed.apply(Reparent([ids["call"]], ids["Q"]))
    # at a given place: the call becomes the wl's first child
    ed.apply(Reparent([ids["call"]], ids["wl"], position=0))
    assert kids(doc, ids["wl"]) == [ids["call"], seq.id]
    roundtrip(ed, 3)
    for _ in range(4):
        ed.undo()
    assert io.to_json(doc) == before


def test_reorder_changes_the_child_order(attention):
    ed, ids = attention
    doc = ed.doc
    a = add(ed, "event.def", name="ev")
    r = add(ed, "event.record", parent=ids["loop"], event=a.id)
    s = add(ed, "event.synchronize", parent=ids["loop"], event=a.id)
    before = io.to_json(doc)
    assert kids(doc, ids["loop"]) == [ids["call"], r.id, s.id]
    ed.apply(Reorder(s.id, 0))
    assert kids(doc, ids["loop"]) == [s.id, ids["call"], r.id]
    ed.apply(Reorder(s.id, 2))
    assert kids(doc, ids["loop"]) == [ids["call"], r.id, s.id]
    ed.apply(Reorder(ids["call"], 1))
    assert kids(doc, ids["loop"]) == [r.id, ids["call"], s.id]
    # a frame moves with its contents
    ed.apply(Reorder(ids["wl"], 0))
    order = list(doc.graph.nodes)
    assert order[:3] == [ids["wl"], ids["loop"], r.id]
    assert kids(doc, None)[0] == ids["wl"]
    with pytest.raises(EditError, match="outside"):
        ed.apply(Reorder(s.id, 3))
    roundtrip(ed, 4)
    for _ in range(4):
        ed.undo()
    assert io.to_json(doc) == before


def test_wrap_and_unwrap(attention):
    ed, ids = attention
    doc = ed.doc
    ev = add(ed, "event.def", name="ev")
    r = add(ed, "event.record", parent=ids["loop"], event=ev.id, pos=(340.0, 300.0))
    s = add(ed, "event.synchronize", parent=ids["loop"], event=ev.id, pos=(340.0, 400.0))
    before = io.to_json(doc)
    wires = edges(doc)
    # wrap the call and the record (not the synchronize) in a sequential loop
    seq = ed.apply(Wrap([r.id, ids["call"]], "loop.seq", var="k", axis=ids["heads"])).node
    assert seq.kind == "loop.seq" and seq.parent == ids["loop"]
    assert kids(doc, ids["loop"]) == [seq.id, s.id]  # the frame takes the selection's place
    assert kids(doc, seq.id) == [ids["call"], r.id]  # children keep their relative order
    assert edges(doc) == wires
    assert frames.loop_vars(doc, ids["call"]) == ["b", "h", "k"]
    assert seq.pos[0] < 340.0 and seq.pos[1] < 80.0  # placed around the selection
    ed.apply(Unwrap(seq.id))
    assert seq.id not in doc.graph.nodes
    assert kids(doc, ids["loop"]) == [ids["call"], r.id, s.id]
    assert io.to_json(doc) == before  # unwrap after wrap gives the same document back
    # a parallel loop by default, in a workload
    p = ed.apply(Wrap([ids["loop"]])).node
    assert p.kind == "loop.parallel" and kids(doc, ids["wl"]) == [p.id]
    assert kids(doc, p.id) == [ids["loop"]]
    roundtrip(ed, 3)
    for _ in range(3):
        ed.undo()
    assert io.to_json(doc) == before


def test_wrap_and_unwrap_refusals(attention):
    ed, ids = attention
    with pytest.raises(PlacementRefused, match="different frames"):
        ed.apply(Wrap([ids["call"], ids["Q"]], "loop.seq"))
    with pytest.raises(PlacementRefused, match="not on the canvas outside every frame"):
        ed.apply(Wrap([ids["Q"]], "loop.parallel"))  # a loop lives in a workload
    with pytest.raises(EditError, match="not a frame"):
        ed.apply(Wrap([ids["call"]], "kernel.call"))
    with pytest.raises(PlacementRefused, match="cannot unwrap"):
        ed.apply(Unwrap(ids["wl"]))  # a loop cannot stand on the root canvas
    with pytest.raises(EditError, match="not a frame"):
        ed.apply(Unwrap(ids["call"]))
    with pytest.raises(PlacementRefused):
        ed.apply(Wrap([ids["call"]], "branch.case"))  # a case only inside a chain
    # a call's task reaches its send only inside the call's frame (send(ch, call) in one block)
    ch = add(ed, "csp.channel", name="ch")
    send = add(ed, "csp.send", parent=ids["loop"], channel=ch.id)
    wire(ed, ids["call"], "task", send.id, "value")
    before = io.to_json(ed.doc)
    with pytest.raises(PlacementRefused, match="cannot wrap the selection: the wire"):
        ed.apply(Wrap([ids["call"]], "loop.seq"))
    with pytest.raises(PlacementRefused, match="cannot move it there: the wire"):
        ed.apply(Reparent([send.id], ids["wl"]))
    assert io.to_json(ed.doc) == before
    seq = ed.apply(Wrap([ids["call"], send.id], "loop.seq")).node  # together they may
    assert kids(ed.doc, seq.id) == [ids["call"], send.id]


def test_create_tensor_from_ports(editor):
    ed = editor
    batch = add(ed, "axis.dense_dyn", name="batch", size=4)
    heads = add(ed, "axis.dense", name="heads", size=8)
    kparams = params(("Q", "In"), ("O", "Out"), ("S", "InOut"))
    kparams[2] = {**kparams[2], "rows": 8, "cols": 32, "dtype": "f16"}
    kern = add(ed, "kernel.def", name="k", params=kparams)
    wl = add(ed, "workload.def", name="w", pos=(400.0, 0.0))
    axes = [{"var": "b", "axis": batch.id}, {"var": "h", "axis": heads.id}]
    loop = add(ed, "loop.parallel", parent=wl.id, axes=axes)
    tiles = add(ed, "axis.dense", name="tiles", size=3)
    seq = add(ed, "loop.seq", parent=loop.id, var="t", axis=tiles.id)
    call = add(ed, "kernel.call", parent=seq.id, kernel=kern.id, pos=(500.0, 120.0))
    add(ed, "data.tensor", name="Q", shape=[1])  # the name Q is taken
    before = io.to_json(ed.doc)
    doc = ed.doc
    q = ed.apply(CreateTensor(call.id, "Q")).node
    assert q.kind == "data.tensor" and q.parent is None and q.name == "Q2"
    assert q.props["shape"] == [4, 8, 3, 16, 16] and q.props["dtype"] == "f32"
    assert (q.id, "tensor", call.id, "Q") in edges(doc)
    assert q.pos[0] < wl.pos[0]  # an input stands left of the workload
    assert indexing.effective_index(doc, call, "Q") == "b, h, t"
    o = ed.apply(CreateTensor(call.id, "O")).node
    assert o.name == "O" and (call.id, "O", o.id, "write") in edges(doc)
    assert o.pos[0] > call.pos[0]
    s = ed.apply(CreateTensor(call.id, "S", pos=(10.0, 20.0))).node
    assert s.props["shape"] == [4, 8, 3, 8, 32] and s.props["dtype"] == "f16"
    assert s.pos == (10.0, 20.0)
    assert {(s.id, "tensor", call.id, "S"), (call.id, "S", s.id, "write")} <= edges(doc)
    assert indexing.effective_index(doc, call, "S") == "b, h, t"
    with pytest.raises(EditError, match="already wired"):
        ed.apply(CreateTensor(call.id, "Q"))
    # a scalar parameter gets a scalar of its dtype; an unshaped tensor a 16x16 tile
    more = [
        *kparams,
        {"name": "n", "direction": "In", "kind": "scalar", "dtype": "i32"},
        {"name": "X", "direction": "In", "kind": "tensor"},
    ]
    ed.apply(SetProperty(kern.id, "params", more))
    n = ed.apply(CreateTensor(call.id, "n")).node
    assert n.kind == "data.scalar" and n.props["dtype"] == "i32" and n.name == "n"
    assert (n.id, "scalar", call.id, "n") in edges(doc)
    x = ed.apply(CreateTensor(call.id, "X")).node
    assert x.props["shape"] == [4, 8, 3, 16, 16]
    assert indexing.effective_index(doc, call, "X") == "b, h, t"
    # an index set before the tensor exists shapes it: K[b] -> [4] + tile, whole -> tile
    more = [*more, *params(("Kb", "In"), ("W", "In"), ("R", "In"))]
    ed.apply(SetProperty(kern.id, "params", more))
    ed.apply(SetPortIndex(call.id, "Kb", "b"))
    ed.apply(SetPortIndex(call.id, "W", ""))
    ed.apply(SetPortIndex(call.id, "R", "t, b*2"))  # not plain variables: the loop shape
    shapes = {p: ed.apply(CreateTensor(call.id, p)).node.props["shape"] for p in ("Kb", "W", "R")}
    assert shapes == {"Kb": [4, 16, 16], "W": [16, 16], "R": [4, 8, 3, 16, 16]}
    with pytest.raises(EditError, match="no parameter"):
        ed.apply(CreateTensor(call.id, "Z"))
    roundtrip(ed, 13)
    for _ in range(13):
        ed.undo()
    assert io.to_json(doc) == before


def test_port_index_override_and_back_to_auto(attention):
    ed, ids = attention
    doc = ed.doc
    call = doc.node(ids["call"])
    before = io.to_json(doc)
    ed.apply(SetPortIndex(ids["call"], "Q", "b"))
    assert call.props["index"]["Q"] == "b" and indexing.effective_index(doc, call, "Q") == "b"
    ed.apply(SetPortIndex(ids["call"], "K", None))
    assert "K" not in call.props["index"]
    assert indexing.effective_index(doc, call, "K") == indexing.auto_index(doc, call, "K")
    ed.apply(SetPortIndex(ids["call"], "O", ""))
    assert call.props["index"]["O"] == ""  # the whole tensor
    with pytest.raises(PropertyError, match="no such parameter"):
        ed.apply(SetPortIndex(ids["call"], "Z", "b"))
    roundtrip(ed, 3)
    for _ in range(3):
        ed.undo()
    assert io.to_json(doc) == before


def test_duplicate_and_paste_bring_frame_contents(attention):
    ed, ids = attention
    doc = ed.doc
    q2 = add(ed, "data.tensor", name="Q2")
    before = io.to_json(doc)
    (dup,) = ed.apply(Duplicate([q2.id])).nodes
    assert dup.name == "Q3"  # the trailing number counts up, not "Q22"
    # duplicating a loop copies the call inside it (new ids), into the same workload
    (loop2,) = ed.apply(Duplicate([ids["loop"], ids["call"]])).nodes
    assert loop2.parent == ids["wl"] and loop2.id != ids["loop"]
    (call2,) = frames.children(doc, loop2.id)
    assert call2.id != ids["call"] and call2.props["kernel"] == ids["attn"]
    assert call2.props["axes"] == doc.node(ids["call"]).props["axes"]
    assert kids(doc, ids["wl"]) == [ids["loop"], loop2.id]
    # paste a workload frame with a kernel: references to copied nodes follow the copies
    data = clipboard_data(doc, [ids["wl"], ids["attn"]])
    pasted = ed.apply(Paste(data, offset=(0, 500))).nodes
    kinds = sorted(n.kind for n in pasted)
    assert kinds == ["kernel.def", "workload.def"]
    wl3 = next(n for n in pasted if n.kind == "workload.def")
    kern3 = next(n for n in pasted if n.kind == "kernel.def")
    assert wl3.name == "attention2" and kern3.name == "attn_kernel2"
    inner = frames.descendants(doc, wl3.id)
    assert [n.kind for n in inner] == ["loop.parallel", "kernel.call", "loop.parallel", "kernel.call"]  # fmt: skip
    assert {n.props["kernel"] for n in inner if n.kind == "kernel.call"} == {kern3.id}
    assert len({n.id for n, _g, _o in doc.walk()}) == sum(1 for _ in doc.walk())
    # paste a call into a loop of the copy; a call cannot go to the root
    one = clipboard_data(doc, [ids["call"]])
    with pytest.raises(PlacementRefused, match="cannot be pasted"):
        ed.apply(Paste(one))
    (c4,) = ed.apply(Paste(one, parent=inner[0].id)).nodes
    assert c4.parent == inner[0].id
    roundtrip(ed, 4)
    for _ in range(4):
        ed.undo()
    assert io.to_json(doc) == before


def test_backdrops(editor):
    b = editor.apply(AddBackdrop((0, 0, 100, 50), title="Inputs")).backdrop
    assert editor.doc.graph.backdrops == [b] and b.id.startswith("b")
    editor.apply(RemoveBackdrop(b.id))
    assert editor.doc.graph.backdrops == []
    editor.undo()
    assert editor.doc.graph.backdrops == [b]
    with pytest.raises(EditError):
        editor.apply(RemoveBackdrop("b999"))


def test_move_carries_frame_contents(attention):
    ed, ids = attention
    doc = ed.doc
    ed.apply(MoveNodes({ids["wl"]: (400.0, 10.0)}, carry=True))
    assert doc.node(ids["wl"]).pos == (400.0, 10.0)
    assert doc.node(ids["loop"]).pos == (420.0, 50.0)
    assert doc.node(ids["call"]).pos == (440.0, 90.0)
    ed.apply(MoveNodes({ids["loop"]: (0.0, 0.0)}))  # without carry only the frame moves
    assert doc.node(ids["call"]).pos == (440.0, 90.0)


def _random_command(ed: DocumentEditor, rng: random.Random, ids: dict[str, str]):
    doc = ed.doc
    canvas = list(doc.graph.nodes.values())
    framed = [n for n in canvas if n.kind in ("workload.def", "loop.parallel", "loop.seq")]
    calls = [n for n in canvas if n.kind == "kernel.call"]
    choice = rng.randrange(12)
    if choice == 0:
        return AddNode(rng.choice(["data.tensor", "axis.dense", "csp.channel", "event.def"]), (rng.random(), 0))  # fmt: skip
    if choice == 1 and framed:
        return AddNode(rng.choice(["loop.seq", "slot.set", "event.record"]), (0, 0), parent=rng.choice(framed).id)  # fmt: skip
    if choice == 2 and canvas:
        return RemoveNodes([rng.choice(canvas).id])
    if choice == 3 and canvas:
        picked = rng.sample(canvas, min(3, len(canvas)))
        return MoveNodes({n.id: (rng.random() * 100, rng.random() * 100) for n in picked}, carry=rng.random() < 0.5)  # fmt: skip
    if choice == 4 and calls:
        call = rng.choice(calls)
        return SetPortIndex(call.id, rng.choice("QKVO"), rng.choice([None, "b", ""]))
    if choice == 5 and calls:
        tensors = [n for n in canvas if n.kind == "data.tensor"]
        if tensors:
            return Connect(PortRef(rng.choice(tensors).id, "tensor"), PortRef(rng.choice(calls).id, rng.choice("QKV")))  # fmt: skip
    if choice == 6 and doc.graph.edges:
        e = rng.choice(doc.graph.edges)
        return Disconnect(e.src, e.dst)
    if choice == 7 and canvas:
        return Duplicate([rng.choice(canvas).id])
    if choice == 8 and canvas and framed:
        return Reparent([rng.choice(canvas).id], rng.choice([None] + [f.id for f in framed]))
    if choice == 9 and canvas:
        n = rng.choice(canvas)
        return Reorder(n.id, rng.randrange(len(frames.children(doc, n.parent))))
    if choice == 10 and canvas:
        n = rng.choice(canvas)
        if rng.random() < 0.5:
            return Wrap([n.id], rng.choice(["loop.parallel", "loop.seq", "pipe.scope"]))
        return Unwrap(n.id)
    if choice == 11 and calls:
        return CreateTensor(rng.choice(calls).id, rng.choice("QKVO"))
    return None


@pytest.mark.parametrize("seed", range(6))
def test_random_sequence_undoes_to_identical_json(attention, seed):
    ed, ids = attention
    original = ed.doc.copy()
    original_json = io.to_json(ed.doc)
    base_undo = len(ed._undo)
    rng = random.Random(seed)
    applied = 0
    for _ in range(80):
        cmd = _random_command(ed, rng, ids)
        if cmd is None:
            continue
        try:
            ed.apply(cmd)
            applied += 1
        except EditError:
            continue  # refused edits (taken inputs, wrong frames...) must leave no trace
        for n in ed.doc.graph.nodes.values():  # frames always come before their contents
            order = list(ed.doc.graph.nodes)
            if n.parent is not None:
                assert order.index(n.parent) < order.index(n.id)
    assert applied > 20
    final_json = io.to_json(ed.doc)
    for _ in range(len(ed._undo) - base_undo):
        ed.undo()
    assert same_as(ed.doc, original)
    assert io.to_json(ed.doc) == original_json
    while ed.can_redo():
        ed.redo()
    assert io.to_json(ed.doc) == final_json


def test_failed_command_leaves_document_untouched(attention):
    ed, ids = attention
    before = io.to_json(ed.doc)
    with pytest.raises(EditError):
        ed.apply(MoveNodes({ids["Q"]: (1, 1), "n999": (2, 2)}))
    assert io.to_json(ed.doc) == before and ed.undo_title() != "Move"


def test_reset_replaces_document(editor):
    seen = []
    editor.events.graph_reset.connect(seen.append)
    add(editor, "axis.dense")
    doc = Document(name="other")
    editor.reset(doc)
    assert seen == [doc] and not editor.can_undo() and not editor.dirty


def test_create_control_flow_exports_the_8_1_program(editor):
    """§8.1 the v2 way: a call in P(b, h), four tensors created from its ports, K and V
    indexed by b only; the export is the DSL a user would type."""
    from app.model.export import export_script

    ed = editor
    batch = add(ed, "axis.dense_dyn", name="batch", size=4)
    heads = add(ed, "axis.dense", name="heads", size=8)
    kparams = params(("Q", "In"), ("K", "In"), ("V", "In"), ("O", "Out"))
    kern = add(ed, "kernel.def", name="attn_kernel", params=kparams)
    wl = add(ed, "workload.def", name="attention", target="cpu_sim")
    axes = [{"var": "b", "axis": batch.id}, {"var": "h", "axis": heads.id}]
    loop = add(ed, "loop.parallel", parent=wl.id, axes=axes)
    call = add(ed, "kernel.call", parent=loop.id, kernel=kern.id)
    made = {p: ed.apply(CreateTensor(call.id, p)).node for p in "QKVO"}
    assert {p: n.props["shape"] for p, n in made.items()} == {p: [4, 8, 16, 16] for p in "QKVO"}
    for p in "KV":
        ed.apply(SetPortIndex(call.id, p, "b"))
        ed.apply(SetProperty(made[p].id, "shape", [4, 16, 16]))
    assert validate_document(ed.doc) == []
    source = export_script(ed.doc).source
    assert "attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])" in source
    assert "for b, h in P(batch, heads):" in source
    assert 'K = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="K")' in source


def test_reorder_changes_the_exported_statement_order(attention):
    """Two independent calls: export breaks the tie by child order, and Reorder changes it."""
    from app.model.export import export_script

    ed, ids = attention
    doc = ed.doc
    other = add(ed, "kernel.def", name="scale", params=params(("X", "In"), ("Y", "Out")))
    x = add(ed, "data.tensor", name="X", shape=[4, 8, 16, 16])
    y = add(ed, "data.tensor", name="Y", shape=[4, 8, 16, 16])
    second = add(ed, "kernel.call", parent=ids["loop"], kernel=other.id)
    wire(ed, x.id, "tensor", second.id, "X")
    wire(ed, second.id, "Y", y.id, "write")

    def order() -> list[str]:
        lines = export_script(doc).source.splitlines()
        return [name for line in lines for name in ("attn_kernel[", "scale[") if name in line]

    assert order() == ["attn_kernel[", "scale["]
    ed.apply(Reorder(second.id, 0))
    assert order() == ["scale[", "attn_kernel["]
    ed.undo()
    assert order() == ["attn_kernel[", "scale["]


def test_duplicate_and_paste_inside_a_kernel_body(attention):
    ed, ids = attention
    doc = ed.doc
    kern = doc.node(ids["attn"])
    body = kern.body
    pnodes = {n.props["param"]: n.id for n in body.nodes.values() if n.kind == "kernel.param"}
    mul = add(ed, "pto.mul", parent=kern.id)
    wire(ed, pnodes["Q"], "tile", mul.id, "a")
    before = io.to_json(doc)
    # the parameter node belongs to its kernel: selected with the op, only the op is copied
    (copy1,) = ed.apply(Duplicate([mul.id, pnodes["Q"]])).nodes
    assert copy1.kind == "pto.mul" and copy1.id in body.nodes and copy1.parent is None
    assert sum(1 for n in body.nodes.values() if n.kind == "kernel.param") == 4
    data = clipboard_data(doc, [mul.id])
    (copy2,) = ed.apply(Paste(data, parent=kern.id)).nodes
    assert copy2.id in body.nodes
    with pytest.raises(PlacementRefused, match="cannot be pasted here"):
        ed.apply(Paste(data, parent=ids["loop"]))
    for _ in range(2):
        ed.undo()
    assert io.to_json(doc) == before


def test_paste_into_another_document_resolves_references_by_kind_and_name(attention):
    ed, ids = attention
    data = clipboard_data(ed.doc, [ids["loop"]])  # the loop and its call
    assert data["refs"][ids["attn"]] == {"kind": "kernel.def", "name": "attn_kernel"}
    other = DocumentEditor(Document(name="other"))
    add(other, "data.tensor", name="pad")  # ids in this document name other things
    heads = add(other, "axis.dense", name="heads", size=8)
    kern = add(other, "kernel.def", name="attn_kernel", params=params(("Q", "In")))
    wl = add(other, "workload.def", name="w")
    (loop,) = other.apply(Paste(data, parent=wl.id)).nodes
    (call,) = frames.children(other.doc, loop.id)
    assert call.props["kernel"] == kern.id  # the kernel of that name here
    assert [a["axis"] for a in loop.props["axes"]] == ["", heads.id]  # no "batch" here
    same_id = other.doc.graph.nodes.get(ids["attn"])
    assert same_id is None or same_id.kind != "kernel.def"  # the old id names something else


# ------------------------------------------------------------------------------------------
# the child order follows the dataflow the user draws (docs/semantics.md, "Statement order")


def _stage_kernels(ed: DocumentEditor) -> tuple[str, str]:
    scale = add(ed, "kernel.def", name="scale", params=params(("X", "In"), ("Y", "Out"))).id
    shift = add(ed, "kernel.def", name="shift", params=params(("X", "In"), ("Y", "Out"))).id
    return scale, shift


def test_connect_moves_a_reader_made_first_after_its_writer(attention):
    from app.model.export import export_script

    ed, ids = attention
    doc = ed.doc
    scale, shift = _stage_kernels(ed)
    t = add(ed, "data.tensor", name="T", shape=[4, 8, 16, 16]).id
    y = add(ed, "data.tensor", name="Y", shape=[4, 8, 16, 16]).id
    reader = add(ed, "kernel.call", parent=ids["loop"], kernel=shift).id  # made first
    writer = add(ed, "kernel.call", parent=ids["loop"], kernel=scale).id
    wire(ed, t, "tensor", reader, "X")
    wire(ed, reader, "Y", y, "write")
    wire(ed, ids["Q"], "tensor", writer, "X")
    assert kids(doc, ids["loop"]) == [ids["call"], reader, writer]  # no writer of T yet
    before = io.to_json(doc)
    wire(ed, writer, "Y", t, "write")  # writer -> T -> reader, reader first: it moves
    assert kids(doc, ids["loop"]) == [ids["call"], writer, reader]
    assert (writer, "Y", t, "write") in edges(doc)
    assert ed.undo_title() == "Connect"
    src = export_script(doc).source
    assert src.index("scale[b, h](X=Q[b, h], Y=T[b, h])") < src.index("shift[b, h](X=T[b, h]")
    ed.undo()  # one step: the wire and the order come back together
    assert io.to_json(doc) == before
    assert kids(doc, ids["loop"]) == [ids["call"], reader, writer]
    ed.redo()
    assert kids(doc, ids["loop"]) == [ids["call"], writer, reader]
    # a wire whose order already agrees never reorders
    ed.apply(Reorder(ids["call"], 2))
    agreed = list(doc.graph.nodes)
    other = add(ed, "kernel.call", parent=ids["loop"], kernel=shift).id
    agreed.append(other)
    wire(ed, t, "tensor", other, "X")  # reads T after its writer already
    assert list(doc.graph.nodes) == agreed


def test_connect_moves_the_readers_frame_and_what_reads_it(editor):
    """A reader inside a loop that stands before the writer's loop: the reader's loop (its
    ancestor among the workload's children) moves after the writer's, and a statement between
    them that reads what the reader writes goes along."""
    ed = editor
    scale, shift = _stage_kernels(ed)
    rows = add(ed, "axis.dense", name="rows", size=4).id
    a, t, u, v = (add(ed, "data.tensor", name=n, shape=[4, 16, 16]).id for n in "ATUV")
    wl = add(ed, "workload.def", name="w", target="cpu_sim").id
    l1 = add(ed, "loop.parallel", parent=wl, axes=[{"var": "i", "axis": rows}]).id
    reader = add(ed, "kernel.call", parent=l1, kernel=shift).id
    mid = add(ed, "kernel.call", parent=wl, kernel=shift).id  # reads U, which the reader writes
    l2 = add(ed, "loop.parallel", parent=wl, axes=[{"var": "j", "axis": rows}]).id
    writer = add(ed, "kernel.call", parent=l2, kernel=scale).id
    wire(ed, t, "tensor", reader, "X")
    wire(ed, reader, "Y", u, "write")
    wire(ed, u, "tensor", mid, "X")
    wire(ed, mid, "Y", v, "write")
    wire(ed, a, "tensor", writer, "X")
    assert kids(ed.doc, wl) == [l1, mid, l2]
    wire(ed, writer, "Y", t, "write")
    assert kids(ed.doc, wl) == [l2, l1, mid]
    assert kids(ed.doc, l1) == [reader] and kids(ed.doc, l2) == [writer]
    ed.undo()
    assert kids(ed.doc, wl) == [l1, mid, l2]


def test_connect_leaves_a_cycle_of_data_in_the_users_order(editor):
    ed = editor
    scale, shift = _stage_kernels(ed)
    s, t = (add(ed, "data.tensor", name=n, shape=[16, 16]).id for n in "ST")
    wl = add(ed, "workload.def", name="w", target="cpu_sim").id
    first = add(ed, "kernel.call", parent=wl, kernel=shift).id
    second = add(ed, "kernel.call", parent=wl, kernel=scale).id
    wire(ed, s, "tensor", first, "X")
    wire(ed, first, "Y", t, "write")
    wire(ed, t, "tensor", second, "X")
    wire(ed, second, "Y", s, "write")  # second writes S, which first reads: a cycle
    assert kids(ed.doc, wl) == [first, second]


def test_reparent_and_wrap_keep_the_order_agreeing_with_the_wires(editor):
    ed = editor
    scale, shift = _stage_kernels(ed)
    rows = add(ed, "axis.dense", name="rows", size=4).id
    x, t, y = (add(ed, "data.tensor", name=n, shape=[16, 16]).id for n in "XTY")
    wl = add(ed, "workload.def", name="w", target="cpu_sim").id
    loop = add(ed, "loop.seq", parent=wl, var="i", axis=rows).id
    writer = add(ed, "kernel.call", parent=wl, kernel=scale).id
    reader = add(ed, "kernel.call", parent=wl, kernel=shift).id
    wire(ed, x, "tensor", writer, "X")
    wire(ed, writer, "Y", t, "write")
    wire(ed, t, "tensor", reader, "X")
    wire(ed, reader, "Y", y, "write")
    assert kids(ed.doc, wl) == [loop, writer, reader]
    before = io.to_json(ed.doc)
    # the reader dropped into the loop that stands first: the loop moves after the writer
    ed.apply(Reparent([reader], loop))
    assert kids(ed.doc, wl) == [writer, loop] and kids(ed.doc, loop) == [reader]
    ed.undo()
    assert io.to_json(ed.doc) == before
    # Wrap([loop, reader]) puts the new frame where the loop stands (first), so the reader
    # inside it would read before the writer: the frame moves after the writer
    frame = ed.apply(Wrap([loop, reader], "loop.seq", var="k", axis=rows)).node
    assert kids(ed.doc, wl) == [writer, frame.id]
    assert kids(ed.doc, frame.id) == [loop, reader]
    ed.undo()
    assert io.to_json(ed.doc) == before


def test_the_first_program_frame_gets_the_default_target(editor):
    """A user's first workload is compiled for cpu_sim without a trip to its sheet (Run had
    said NothingToRun); while another program has a target a new one keeps "" (a project
    compiles one program); a target the caller gives is kept; adding stays one undo step."""
    ed = editor
    before = io.to_json(ed.doc)
    first = add(ed, "workload.def", name="a")
    assert first.props["target"] == registry.DEFAULT_TARGET == "cpu_sim"
    assert validate_document(ed.doc) == [] and document_warnings(ed.doc) == []
    ed.undo()
    assert io.to_json(ed.doc) == before
    ed.redo()
    assert ed.doc.node(first.id).props["target"] == "cpu_sim"
    second = add(ed, "workload.def", name="b")
    both = add(ed, "compose.combine", name="both")
    assert second.props["target"] == both.props["target"] == ""
    assert not [
        d for d in validate_document(ed.doc) if d.field == "props.target"
    ]  # one has a target
    # a program inside a composition is not the compiled one: no default there either
    ed.apply(SetProperty(first.id, "target", ""))
    inner = add(ed, "compose.sequential", parent=both.id, name="inner")
    assert inner.props["target"] == ""
    # no program has a target any more: the next top-level one gets it, unless told otherwise
    assert add(ed, "workload.def", name="c", target="").props["target"] == ""
    assert add(ed, "workload.def", name="d").props["target"] == "cpu_sim"


def test_first_names_of_reserved_bases_count_from_one() -> None:
    """``kernel`` and ``workload`` are the DSL's own names: a new project's first kernel is
    ``kernel1`` (then ``kernel2``), not ``kernel2`` as if one were missing; a free base such as
    ``tensor`` stays bare."""
    ed = DocumentEditor(Document(name="t"))
    names = [ed.apply(AddNode(kind, (0.0, 0.0), None)).node.name for kind in ("kernel.def", "kernel.def", "workload.def", "data.tensor")]  # fmt: skip
    assert names == ["kernel1", "kernel2", "workload1", "tensor"]
