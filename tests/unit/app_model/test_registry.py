"""registry: the kind table, dynamic ports, connection rules, node creation, param sync."""

from __future__ import annotations

import pytest

from app.model import registry
from app.model.document import Document, Edge, PortRef
from pto_wsp import pto

from .conftest import add, entry_of, wire


def in_ports(kind_id: str) -> list[str]:
    return [p.name for p in registry.kind(kind_id).ports if p.direction == "in"]


def test_every_spec_tile_op_is_a_kind_with_the_right_inputs():
    for op in (*pto.OPS, "max", "min"):
        assert f"pto.{op}" in registry.KINDS, op
        assert registry.kind(f"pto.{op}").allowed_in == {"kernel"}
    assert in_ports("pto.exp") == ["x"]
    assert in_ports("pto.add") == ["a", "b"]
    assert in_ports("pto.rowmul") == ["tile", "vec"]
    assert in_ports("pto.matmul") == ["a", "b", "acc"]
    assert registry.kind("pto.matmul").ports[2].optional
    assert in_ports("pto.broadcast") == ["x"] and registry.kind("pto.broadcast").prop("shape")
    assert in_ports("pto.constant") == []
    assert {p.name for p in registry.kind("pto.constant").props} == {"value", "dtype"}
    assert in_ports("pto.load") == ["src"]
    assert in_ports("pto.store") == ["dst", "value"]
    assert {p.name for p in registry.kind("pto.alloc").props} == {"shape", "dtype"}
    assert in_ports("pto.interleave") == ["a", "b"]
    assert in_ports("pto.slice_odd") == ["x"]
    assert "alias of maximum" in registry.kind("pto.max").doc


def test_table_is_consistent():
    for k in registry.KINDS.values():
        for p in k.ports:
            assert p.type in registry.PORT_TYPES, (k.id, p)
            assert p.direction in ("in", "out")
        for prop in k.props:
            assert prop.type in registry.PROP_TYPES, (k.id, prop)
            assert registry.prop_problem(prop, prop.default) is None, (k.id, prop.name)
        assert k.allowed_in <= set(registry.SCOPES)
    cats = [c for c, _ in registry.categories()]
    assert cats[:4] == ["Data", "Axes", "Kernels", "Tile ops"]
    palette = {k.id for _, ks in registry.categories() for k in ks}
    assert "scope.entry" not in palette and "kernel.param" not in palette
    with pytest.raises(registry.UnknownKind, match="nope"):
        registry.kind("nope")


def test_new_node_defaults_unique_names_and_bodies():
    doc = Document()
    t1 = registry.new_node("data.tensor", doc, (1, 2))
    doc.graph.nodes[t1.id] = t1
    t2 = registry.new_node("data.tensor", doc, (0, 0), shape=[2, 3])
    assert (t1.name, t2.name) == ("tensor", "tensor2")
    assert t1.id != t2.id and t2.props["shape"] == [2, 3] and t2.props["dtype"] == "f32"
    q = registry.new_node("data.tensor", doc, (0, 0), name="Q")
    assert q.name == "Q"
    loop = registry.new_node("loop.seq", doc, (0, 0))
    assert [n.kind for n in loop.body.nodes.values()] == ["scope.entry"]
    with pytest.raises(KeyError, match="bogus"):
        registry.new_node("data.tensor", doc, (0, 0), bogus=1)


def test_kernel_params_nodes_and_sync():
    doc = Document()
    k = registry.new_node(
        "kernel.def",
        doc,
        (0, 0),
        params=[{"name": "x", "direction": "In"}, {"name": "y", "direction": "InOut"}],
    )
    doc.graph.nodes[k.id] = k
    params = {n.props["param"]: n for n in k.body.nodes.values() if n.kind == "kernel.param"}
    assert set(params) == {"x", "y"}
    assert [(p.name, p.direction) for p in registry.ports_of(params["x"], doc)] == [("tile", "out")]
    assert {(p.name, p.direction) for p in registry.ports_of(params["y"], doc)} == {
        ("tile", "out"),
        ("value", "in"),
    }
    # wire y's stored value from x through an exp
    exp = registry.new_node("pto.exp", doc, (0, 0))
    k.body.nodes[exp.id] = exp
    k.body.edges += [Edge(PortRef(params["x"].id, "tile"), PortRef(exp.id, "x")), Edge(PortRef(exp.id, "result"), PortRef(params["y"].id, "value"))]  # fmt: skip
    k.props["params"] = [{"name": "y", "direction": "In"}, {"name": "z", "direction": "Out"}]
    registry.sync_kernel_params(doc, k)
    now = {n.props["param"]: n for n in k.body.nodes.values() if n.kind == "kernel.param"}
    assert set(now) == {"y", "z"} and now["y"] is params["y"]
    # x's edge went with x; y lost its 'value' input (now In only), so that edge is gone too
    assert k.body.edges == []


def test_dynamic_ports_of_calls_and_entries(attention):
    ed, ids = attention
    doc = ed.doc
    call = doc.node(ids["call"])
    names = [p.name for p in registry.ports_of(call, doc)]
    assert names == ["exec", "kernel", "Q", "K", "V", "O", "exec", "value"]
    entry = doc.node(entry_of(doc.node(ids["loop"])))
    assert [p.name for p in registry.ports_of(entry, doc)] == ["exec", "b", "h"]
    get = next(n for n in doc.node(ids["loop"]).body.nodes.values() if n.kind == "data.get")
    assert registry.ports_of(get, doc)[0].type in ("kernel", "tensor")


def test_can_connect_rules(attention):
    ed, ids = attention
    doc = ed.doc
    loop = doc.node(ids["loop"])
    # type mismatch
    tensor_get = add(ed, "data.get", parent=loop.id, target="Q")
    ok, reason = registry.can_connect(
        doc, PortRef(tensor_get.id, "out"), PortRef(ids["call"], "kernel")
    )
    assert not ok and "type mismatch" in reason
    # single input already taken
    ok, reason = registry.can_connect(doc, PortRef(tensor_get.id, "out"), PortRef(ids["call"], "Q"))
    assert not ok and "already connected" in reason
    # different scopes
    ok, reason = registry.can_connect(doc, PortRef(ids["Q"], "tensor"), PortRef(ids["call"], "K"))
    assert not ok and "different scopes" in reason
    # direction: an input used as a source
    ok, reason = registry.can_connect(doc, PortRef(ids["call"], "Q"), PortRef(ids["call"], "K"))
    assert not ok
    # unknown port
    ok, reason = registry.can_connect(
        doc, PortRef(tensor_get.id, "nope"), PortRef(ids["call"], "K")
    )
    assert not ok and "no output port" in reason
    # cycles: a -> b -> a in a kernel body
    kern = doc.node(ids["attn"])
    a = add(ed, "pto.exp", parent=kern.id)
    b = add(ed, "pto.exp", parent=kern.id)
    wire(ed, a.id, "result", b.id, "x")
    ok, reason = registry.can_connect(doc, PortRef(b.id, "result"), PortRef(a.id, "x"))
    assert not ok and "cycle" in reason
    # exec outputs are single
    wl = doc.node(ids["wl"])
    seq = add(ed, "loop.seq", parent=wl.id)
    ok, reason = registry.can_connect(doc, PortRef(entry_of(wl), "exec"), PortRef(seq.id, "exec"))
    assert not ok and "exec output" in reason
    # multi inputs take several edges
    comb = add(ed, "compose.combine")
    wire(ed, ids["wl"], "workload", comb.id, "workloads")
    wl2 = add(ed, "workload.def")
    assert registry.can_connect(
        doc, PortRef(wl2.id, "workload"), PortRef(comb.id, "workloads")
    ) == (True, "")


def test_tile_accepts_tensor_only_in_kernel_bodies():
    assert registry.types_compatible("tensor", "tile", "kernel")
    assert not registry.types_compatible("tensor", "tile", "workload")
    assert registry.types_compatible("tensor", "value", "workload")
    assert not registry.types_compatible("exec", "value", "workload")


@pytest.mark.parametrize(
    ("kind_id", "field", "value", "fragment"),
    [
        ("data.tensor", "shape", [2, "x"], "list of ints"),
        ("data.tensor", "shape", [], "non-empty"),
        ("data.tensor", "dtype", "f128", "dtype"),
        ("data.tensor", "init", "ones", "one of"),
        ("axis.dense", "size", 2.5, "integer"),
        ("axis.dense", "size", True, "integer"),
        ("branch.when", "pred", "open('x')", "calls are not allowed"),
        ("loop.parallel", "vars", "b, 1h", "identifiers"),
        ("loop.parallel", "vars", "b, b", "duplicate"),
        ("kernel.def", "params", [{"name": "x"}, {"name": "x"}], "duplicate parameter"),
        ("kernel.def", "params", [{"name": "x", "direction": "Up"}], "direction"),
        ("kernel.def", "params", [{"name": "kernel"}], "reserved"),
        ("kernel.call", "index", {"Q": "b +"}, "syntax error"),
        ("kernel.def", "cpp_includes", ["a", 3], "list of strings"),
    ],
)
def test_prop_problems(kind_id, field, value, fragment):
    problem = registry.prop_problem(registry.kind(kind_id).prop(field), value)
    assert problem is not None and fragment in problem
