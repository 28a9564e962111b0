"""commands: every edit undoes exactly (byte-identical JSON), redo replays, events, dirty."""

from __future__ import annotations

import random

import pytest

from app.model import io
from app.model.commands import (
    AddBackdrop,
    AddNode,
    Connect,
    ConnectionRefused,
    Disconnect,
    DocumentEditor,
    EditError,
    Group,
    MoveNodes,
    Paste,
    PropertyError,
    RemoveBackdrop,
    RemoveNodes,
    SetProperty,
    Ungroup,
    clipboard_data,
)
from app.model.document import Document, PortRef

from .conftest import add, entry_of, wire


def test_events_and_dirty_flag(editor):
    seen: list[tuple] = []
    ev = editor.events
    ev.node_added.connect(lambda n, g: seen.append(("added", n.kind)))
    ev.node_removed.connect(lambda n, g: seen.append(("removed", n.kind)))
    ev.edge_added.connect(lambda e, g: seen.append(("edge+", str(e.src), str(e.dst))))
    ev.edge_removed.connect(lambda e, g: seen.append(("edge-", str(e.src))))
    ev.property_changed.connect(lambda n, f, old, new: seen.append(("prop", f, old, new)))
    ev.moved.connect(lambda n, old, new: seen.append(("moved", new)))
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
    editor.apply(RemoveNodes([t.id]))
    assert ("prop", "value", 0, 7) in seen and ("moved", (5.0, 6.0)) in seen
    assert ("edge+", f"{t.id}.scalar", f"{d.id}.size") in seen
    assert seen[-2:] == [("edge-", f"{t.id}.scalar"), ("removed", "data.scalar")]
    for _ in range(5):
        editor.undo()
    assert not editor.dirty  # back at the saved state
    editor.redo()
    assert editor.dirty
    assert editor.can_redo() and editor.redo_title() == "Move"


def test_connect_refused_and_property_errors(attention):
    ed, ids = attention
    with pytest.raises(ConnectionRefused) as info:
        ed.apply(Connect(PortRef(ids["Q"], "tensor"), PortRef(ids["heads"], "axis")))
    assert "no input port" in info.value.reason
    with pytest.raises(PropertyError, match=rf"{ids['Q']}\.props\.shape: expected a list of ints"):
        ed.apply(SetProperty(ids["Q"], "shape", "4x4"))
    with pytest.raises(PropertyError, match="unknown property"):
        ed.apply(SetProperty(ids["Q"], "colour", 1))
    with pytest.raises(PropertyError, match="already used"):
        ed.apply(SetProperty(ids["K"], "name", "Q"))
    with pytest.raises(PropertyError, match="valid Python name"):
        ed.apply(SetProperty(ids["K"], "name", "K 2"))
    with pytest.raises(EditError, match="cannot be added"):
        ed.apply(AddNode("pto.add"))  # tile ops live in kernel bodies
    with pytest.raises(EditError, match="no edge"):
        ed.apply(Disconnect(PortRef(ids["Q"], "tensor"), PortRef(ids["call"], "Q")))
    entry = entry_of(ed.doc.node(ids["wl"]))
    with pytest.raises(EditError, match="cannot be removed"):
        ed.apply(RemoveNodes([entry]))


def test_rename_retargets_gets_and_param_change_prunes_edges(attention):
    ed, ids = attention
    before = io.to_json(ed.doc)
    ed.apply(SetProperty(ids["Q"], "name", "Query"))
    gets = [n for n, _g, _o in ed.doc.walk() if n.kind == "data.get"]
    assert "Query" in {g.props["target"] for g in gets} and "Q" not in {
        g.props["target"] for g in gets
    }
    assert ed.doc.validate() == []
    # dropping parameter V removes the call's V edge and V's parameter node
    kern = ed.doc.node(ids["attn"])
    params = [p for p in kern.props["params"] if p["name"] != "V"]
    call_graph = ed.doc.graph_of(ids["call"])
    assert any(e.dst == PortRef(ids["call"], "V") for e in call_graph.edges)
    ed.apply(SetProperty(ids["attn"], "params", params))
    assert not any(e.dst == PortRef(ids["call"], "V") for e in call_graph.edges)
    assert {n.props["param"] for n in kern.body.nodes.values() if n.kind == "kernel.param"} == {
        "Q",
        "K",
        "O",
    }
    ed.undo()
    ed.undo()
    assert io.to_json(ed.doc) == before


def test_group_and_ungroup(editor):
    ed = editor
    add(ed, "axis.dense", name="tiles")
    add(ed, "event.def", name="ev")
    wl = add(ed, "workload.def", name="w")
    e = entry_of(wl)
    a = add(ed, "event.record", parent=wl.id)
    b = add(ed, "event.synchronize", parent=wl.id)
    c = add(ed, "slot.set", parent=wl.id)
    ev_get = add(ed, "data.get", parent=wl.id, target="ev")
    wire(ed, e, "exec", a.id, "exec")
    wire(ed, a.id, "exec", b.id, "exec")
    wire(ed, b.id, "exec", c.id, "exec")
    wire(ed, ev_get.id, "out", a.id, "event")
    wire(ed, ev_get.id, "out", b.id, "event")
    assert ed.doc.validate() == []
    before = io.to_json(ed.doc)
    g = ed.apply(Group([a.id, b.id], "loop.seq", var="i")).node
    body = g.body
    assert set(body.nodes) >= {a.id, b.id} and a.id not in wl.body.nodes
    assert PortRef(g.id, "exec") in {x.dst for x in wl.body.edges}
    copies = [n for n in body.nodes.values() if n.kind == "data.get"]
    assert len(copies) == 1 and copies[0].props["target"] == "ev"
    # the loop needs its axis: wire it and the document is valid again
    axis = add(ed, "data.get", parent=wl.id, target="tiles")
    wire(ed, axis.id, "out", g.id, "axis")
    assert ed.doc.validate() == []
    # ungroup splices the chain back: entry -> a -> b -> c
    ed.apply(Ungroup(g.id))
    chain = {x.src.node: x.dst.node for x in wl.body.edges if x.src.port == "exec"}
    assert chain[e] == a.id and chain[a.id] == b.id and chain[b.id] == c.id
    for _ in range(4):
        ed.undo()
    assert io.to_json(ed.doc) == before


def test_group_refuses_crossing_data_edges(attention):
    ed, ids = attention
    send = add(ed, "csp.send", parent=ids["loop"])
    wire(ed, ids["call"], "value", send.id, "value")
    with pytest.raises(EditError, match="crosses the group boundary"):
        ed.apply(Group([send.id], "loop.seq"))
    with pytest.raises(EditError, match="cannot live in a kernel graph"):
        ed.apply(Group([next(iter(ed.doc.node(ids["attn"]).body.nodes))], "loop.seq"))
    with pytest.raises(EditError, match="different scopes"):
        ed.apply(Group([ids["Q"], ids["call"]], "loop.seq"))


def test_copy_paste_gets_fresh_ids_and_names(attention):
    ed, ids = attention
    data = clipboard_data(ed.doc, [ids["wl"]])
    paste = ed.apply(Paste(data, offset=(100, 0)))
    (w2,) = paste.nodes
    assert w2.id != ids["wl"] and w2.name == "attention2"
    old_ids = {n.id for n, _g, _o in ed.doc.walk()}
    assert len(old_ids) == sum(1 for _ in ed.doc.walk())  # ids stay unique document-wide
    assert w2.body is not None and len(w2.body.nodes) == len(ed.doc.node(ids["wl"]).body.nodes)
    assert ed.doc.validate() == []
    with pytest.raises(EditError, match="cannot be pasted"):
        ed.apply(Paste(data, parent=ids["attn"]))


def test_backdrops(editor):
    b = editor.apply(AddBackdrop((0, 0, 100, 50), title="Inputs")).backdrop
    assert editor.doc.graph.backdrops == [b] and b.id.startswith("b")
    editor.apply(RemoveBackdrop(b.id))
    assert editor.doc.graph.backdrops == []
    editor.undo()
    assert editor.doc.graph.backdrops == [b]
    with pytest.raises(EditError):
        editor.apply(RemoveBackdrop("b999"))


def _random_command(ed: DocumentEditor, rng: random.Random, ids: dict[str, str]):
    doc = ed.doc
    nodes = [n for n, _g, _o in doc.walk() if n.kind not in ("scope.entry", "kernel.param")]
    wl = doc.locate(ids["wl"])
    choice = rng.randrange(9)
    if choice == 0:
        return AddNode(
            rng.choice(["data.tensor", "axis.dense", "csp.channel", "event.def"]), (rng.random(), 0)
        )
    if choice == 1 and wl is not None:
        return AddNode(
            rng.choice(["loop.seq", "slot.set", "event.record"]), (0, 0), parent=ids["wl"]
        )
    if choice == 2 and nodes:
        return RemoveNodes([rng.choice(nodes).id])
    if choice == 3 and nodes:
        return MoveNodes(
            {
                n.id: (rng.random() * 100, rng.random() * 100)
                for n in rng.sample(nodes, min(3, len(nodes)))
            }
        )
    if choice == 4:
        axes = [n for n in doc.graph.nodes.values() if n.kind == "axis.dense"]
        if axes:
            return SetProperty(rng.choice(axes).id, "size", rng.randrange(1, 64))
    if choice == 5 and wl is not None:
        body = wl[0].body
        execs = [n for n in body.nodes.values() if n.kind != "data.get"]
        if len(execs) >= 2:
            a, b = rng.sample(execs, 2)
            return Connect(PortRef(a.id, "exec"), PortRef(b.id, "exec"))
    if choice == 6 and wl is not None and wl[0].body.edges:
        e = rng.choice(wl[0].body.edges)
        return Disconnect(e.src, e.dst)
    if choice == 7 and nodes:
        root = [n.id for n in doc.graph.nodes.values()]
        return Paste(clipboard_data(doc, rng.sample(root, min(2, len(root)))), (10, 10))
    if choice == 8:
        return AddBackdrop((0, 0, rng.random() * 10, 5), title="b")
    return None


@pytest.mark.parametrize("seed", range(6))
def test_random_sequence_undoes_to_identical_json(attention, seed):
    ed, ids = attention
    original = ed.doc.copy()
    original_json = io.to_json(ed.doc)
    base_undo = len(ed._undo)
    rng = random.Random(seed)
    applied = 0
    for _ in range(60):
        cmd = _random_command(ed, rng, ids)
        if cmd is None:
            continue
        try:
            ed.apply(cmd)
            applied += 1
        except EditError:
            continue  # refused edits (cycles, taken inputs...) must leave no trace
    assert applied > 20
    final_json = io.to_json(ed.doc)
    for _ in range(len(ed._undo) - base_undo):
        ed.undo()
    assert ed.doc.same_as(original)
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
