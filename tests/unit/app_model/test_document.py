"""Document: navigation, same_as, validate() diagnostics, and linear cost at 1000 nodes."""

from __future__ import annotations

import copy

from app.model import registry
from app.model.commands import AddNode, Connect, DocumentEditor, SetProperty
from app.model.document import Diagnostic, Document, Edge, PortRef

from .conftest import add, build_attention, entry_of, wire


def fields(diags: list[Diagnostic]) -> set[tuple[str, str]]:
    return {(d.node_id, d.field) for d in diags}


def test_attention_document_is_valid_and_navigable(attention):
    ed, ids = attention
    doc = ed.doc
    assert doc.validate() == []
    call, graph, owner = doc.locate(ids["call"])
    assert owner.id == ids["loop"] and graph is owner.body
    assert [n.id for n in doc.scope_chain(graph)] == [ids["wl"], ids["loop"]]
    assert doc.graph_of(ids["Q"]) is doc.graph and doc.owner_of(doc.graph) is None
    assert doc.next_id() not in doc.all_ids()


def test_same_as_ignores_ids_positions_backdrops():
    a = DocumentEditor(Document())
    b = DocumentEditor(Document())
    build_attention(a)
    add(b, "data.scalar", name="junk")  # shifts every id of b by one
    build_attention(b)
    assert not a.doc.same_as(b.doc)
    junk = next(n for n in b.doc.graph.nodes.values() if n.name == "junk")
    del b.doc.graph.nodes[junk.id]
    for node, _g, _o in b.doc.walk():
        node.pos = (node.pos[0] + 100, node.pos[1] - 7)
    assert {n.id for n, _g, _o in a.doc.walk()} != {n.id for n, _g, _o in b.doc.walk()}
    assert a.doc.same_as(b.doc)
    # a different prop or edge breaks equality
    c = copy.deepcopy(b.doc)
    next(n for n in c.graph.nodes.values() if n.name == "heads").props["size"] = 9
    assert not a.doc.same_as(c)
    d = copy.deepcopy(b.doc)
    d.graph.edges.pop()
    assert not a.doc.same_as(d)


def test_validate_reports_problems_by_node_and_field(attention):
    ed, ids = attention
    doc = ed.doc
    loop = doc.node(ids["loop"])
    call = doc.node(ids["call"])
    # unknown name in an index expression
    call.props["index"]["Q"] = "b, zz"
    # unconnected required input
    seq = add(ed, "loop.seq", parent=ids["wl"])
    # off the exec chain: the new seq loop
    # duplicate root name
    doc.node(ids["K"]).name = "Q"
    # wrong prop type slipped in by hand
    doc.node(ids["heads"]).props["size"] = "eight"
    # predicate may use loop vars of enclosing scopes, not unknown ones
    when = add(ed, "branch.when", parent=loop.id, pred="b < 2 and h == q")
    got = fields(doc.validate())
    assert (call.id, "props.index.Q") in got
    assert (seq.id, "inputs.axis") in got
    assert (seq.id, "inputs.exec") in got
    assert (ids["K"], "name") in got and (ids["Q"], "name") in got
    assert (ids["heads"], "props.size") in got
    assert (when.id, "props.pred") in got
    messages = [str(d) for d in doc.validate() if d.node_id == when.id]
    assert any("unknown name 'q'" in m for m in messages) and not any("'b'" in m for m in messages)


def test_validate_chain_and_structure_problems(attention):
    ed, ids = attention
    doc = ed.doc
    loop = doc.node(ids["loop"])
    other = add(ed, "branch.otherwise", parent=loop.id)
    wire(ed, ids["call"], "exec", other.id, "exec")
    kern = doc.node(ids["attn"])
    kern.props["params"].append({"name": "extra", "direction": "In", "kind": "tensor", "rows": 16, "cols": 16, "dtype": "f32"})  # fmt: skip
    doc.node(ids["wl"]).body.edges.append(
        Edge(PortRef("n999", "out"), PortRef(ids["loop"], "axes"))
    )
    t = registry.new_node("data.tensor", doc)
    loop.body.nodes[t.id] = t  # a tensor cannot live in a loop body
    diags = doc.validate()
    got = fields(diags)
    assert (other.id, "inputs.exec") in got  # otherwise must follow a when
    assert (ids["attn"], "props.params") in got
    assert (ids["wl"], "edges[3]") in got or any("n999" in d.message for d in diags)
    assert (t.id, "kind") in got
    assert (ids["call"], "inputs.extra") in got  # the new parameter is not bound


def test_validate_is_linear_for_1000_nodes():
    ed = DocumentEditor(Document())
    for i in range(250):
        add(ed, "data.tensor", name=f"T{i}")
        add(ed, "axis.dense", name=f"A{i}")
    wl = add(ed, "workload.def", name="w")
    prev = entry_of(wl)
    for i in range(250):
        loop = add(ed, "loop.seq", parent=wl.id, var=f"i{i}")
        wire(ed, prev, "exec", loop.id, "exec")
        g = add(ed, "data.get", parent=wl.id, target=f"A{i}")
        wire(ed, g.id, "out", loop.id, "axis")
        prev = loop.id
    assert sum(1 for _ in ed.doc.walk()) >= 1000
    assert ed.doc.validate() == []


def test_set_property_keeps_document_valid(attention):
    ed, ids = attention
    ed.apply(SetProperty(ids["heads"], "size", 16))
    ed.apply(AddNode("data.scalar", name="n"))
    assert ed.doc.validate() == []
    assert isinstance(Connect, type)
