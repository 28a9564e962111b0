"""registry (format v2): the kind table, frames and placement, references, the schedule sheet,
call ports from the kernel, wires across frames, prop checks, node creation, param sync."""

from __future__ import annotations

import pytest

from app.model import indexing, registry
from app.model.document import Document, Edge, PortRef
from pto_wsp import pto


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
    assert cats[:4] == ["Data", "Axes", "Kernels", "Workloads"]
    for family in registry.FAMILIES:  # one module per kind family
        assert family.KINDS and all(k.id in registry.KINDS for k in family.KINDS)
    assert len(registry.KINDS) == sum(len(f.KINDS) for f in registry.FAMILIES)
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
    assert loop.body is None and loop.parent is None  # a frame: children name it in parent
    kern = registry.new_node("kernel.def", doc, (0, 0))
    assert [n.kind for n in kern.body.nodes.values()] == ["scope.entry"]
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


def v2_doc() -> tuple[Document, dict[str, str]]:
    """Spec §8.1 in format v2: tensors and axes at the root, a call in P(b, h) in a workload."""
    doc = Document()
    ids: dict[str, str] = {}

    def put(key, kind_id, parent=None, **props):
        node = registry.new_node(kind_id, doc, name=key, **props)
        node.parent = ids.get(parent) if parent else None
        doc.graph.nodes[node.id] = node
        ids[key] = node.id
        return node

    for t, shape in (("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("O", [4, 8, 16, 16])):
        put(t, "data.tensor", shape=shape)
    put("n", "data.scalar", value=4)
    put("batch", "axis.dense", size=4)
    put("heads", "axis.dense", size=8)
    params = [
        {"name": "Q", "direction": "In", "kind": "tile"},
        {"name": "K", "direction": "In"},
        {"name": "s", "direction": "In", "kind": "scalar"},
        {"name": "acc", "direction": "InOut", "kind": "tile"},
        {"name": "O", "direction": "Out", "kind": "tile"},
    ]
    put("attn", "kernel.def", params=params)
    put("wl", "workload.def")
    put("loop", "loop.parallel", "wl", axes=[{"var": "b", "axis": ids["batch"]}, {"var": "h", "axis": ids["heads"]}])  # fmt: skip
    put("call", "kernel.call", "loop", kernel=ids["attn"])
    put("call2", "kernel.call", "loop", kernel=ids["attn"])
    put("pipe", "pipe.scope", "wl")
    put("ch", "csp.channel")
    put("send", "csp.send", "pipe", channel=ids["ch"])
    put("y", "layout.allreduce", "loop")
    put("wl2", "workload.def")
    put("call3", "kernel.call", "wl2", kernel=ids["attn"])
    return doc, ids


def test_frames_and_placement():
    doc, ids = v2_doc()
    assert registry.is_frame("loop.parallel") and registry.is_frame("workload.def")
    assert not registry.is_frame("kernel.call") and not registry.is_frame("kernel.def")
    assert registry.kind("kernel.def").scope and not registry.kind("kernel.def").frame
    for k in ("data.get", "scope.entry", "branch.when", "sched.dispatch", "compile.target"):
        assert k not in registry.KINDS or k == "scope.entry"
    assert registry.kind("scope.entry").allowed_in == {"kernel"}
    assert registry.scope_of_parent(doc, None) == "root"
    assert registry.scope_of_parent(doc, ids["loop"]) == "workload"
    assert registry.allowed_in(doc, "loop.seq", ids["loop"])
    assert registry.allowed_in(doc, "data.tensor", None)
    problem = registry.place_problem(doc, "data.tensor", ids["loop"])
    assert problem is not None and "Tensor" in problem and "inside a workload" in problem
    assert not registry.allowed_in(doc, "kernel.call", None)
    assert "not a frame" in registry.place_problem(doc, "kernel.call", ids["call"])
    assert "no frame" in registry.place_problem(doc, "kernel.call", "zz")
    chain = registry.new_node("branch.chain", doc)
    chain.parent = ids["wl"]
    doc.graph.nodes[chain.id] = chain
    assert registry.scope_of_parent(doc, chain.id) == "branch"
    assert registry.allowed_in(doc, "branch.case", chain.id)
    assert not registry.allowed_in(doc, "kernel.call", chain.id)
    assert not registry.allowed_in(doc, "branch.case", ids["wl"])
    comb = registry.new_node("compose.combine", doc)
    doc.graph.nodes[comb.id] = comb
    assert registry.allowed_in(doc, "workload.instance", comb.id)
    assert registry.allowed_in(doc, "compose.sequential", comb.id)
    assert not registry.allowed_in(doc, "workload.instance", None)
    conn = registry.new_node("csp.connect", doc)
    doc.graph.nodes[conn.id] = conn
    assert registry.allowed_in(doc, "csp.process", conn.id)
    assert registry.allowed_in(doc, "csp.process", ids["pipe"])
    assert not registry.allowed_in(doc, "csp.process", None)


def test_reference_props_and_kinds():
    assert registry.reference_props("kernel.call") == {"kernel": None}
    assert registry.reference_props("loop.parallel") == {"axes": "axis"}
    assert registry.reference_props("csp.consume") == {"channel": None}
    assert registry.reference_props("data.tensor") == {}
    assert registry.reference_kinds("kernel.call", "kernel") == ("kernel.def",)
    assert registry.reference_kinds("loop.sel", "axis") == ("axis.sparse",)
    assert "axis.dense_dyn" in registry.reference_kinds("loop.parallel", "axes")
    assert registry.reference_kinds("workload.instance", "workload") == ("workload.def",)
    assert registry.reference_kinds("event.record", "event") == ("event.def",)
    doc, ids = v2_doc()
    loop = doc.node(ids["loop"])
    assert registry.references(loop) == [
        ("props.axes[0].axis", ids["batch"]),
        ("props.axes[1].axis", ids["heads"]),
    ]
    assert indexing.kernel_of(doc, doc.node(ids["call"])).name == "attn"


def test_schedule_sheet_derives_from_the_v1_steps():
    names = [p.name for p in registry.SHEET_PROPS]
    # target and cost table first (what Properties shows right after the name), then the steps
    assert names == ["target", "cost_table", "dispatch", "dispatch_n", "dispatch_key", "dispatch_aicpus", "streams", "stream_by", "timing", "timing_param", "task_graph", "spatial_map"]  # fmt: skip
    for kind_id in ("workload.def", "compose.combine", "compose.sequential", "csp.connect"):
        assert [p.name for p in registry.kind(kind_id).props] == names
    sheet = {p.name: p for p in registry.SHEET_PROPS}
    assert sheet["dispatch"].choices == ("", "round_robin", "affinity", "hash", "dispatch_by", "work_steal")  # fmt: skip
    assert sheet["dispatch_n"].default == 4 and "round_robin" in sheet["dispatch_n"].doc
    assert sheet["dispatch_key"].type == sheet["stream_by"].type == "key"
    assert (
        sheet["target"].choices == ("", "cpu_sim", "ascend_npu") and sheet["target"].default == ""
    )
    fields = [f.name for f in registry.prop_fields(sheet["task_graph"])]
    assert fields == ["window", "unit", "mode", "deps", "ready", "ready_key", "start", "threshold", "trace", "pools"]  # fmt: skip
    assert sheet["task_graph"].field("ready_key").type == "key"
    doc, ids = v2_doc()
    wl = doc.node(ids["wl"])
    assert all(wl.props[n] in ("", 0, {}, [], 4, 1, "pto_wsp") for n in names)
    assert not registry.prop_applies(wl, "dispatch_n")
    wl.props["dispatch"] = "round_robin"
    assert registry.prop_applies(wl, "dispatch_n") and not registry.prop_applies(wl, "dispatch_key")
    wl.props["dispatch"] = "affinity"
    assert registry.prop_applies(wl, "dispatch_key")
    assert not registry.field_applies("task_graph", "ready_key", {"ready": "fifo"})
    assert registry.field_applies("task_graph", "ready_key", {"ready": "priority"})
    assert registry.field_applies("task_graph", "mode", {"window": 8})
    tg = sheet["task_graph"]
    assert registry.prop_problem(tg, {"window": 8, "mode": "abort"}) is None
    assert "unknown field 'bogus'" in registry.prop_problem(tg, {"bogus": 1})
    assert "mode: expected one of" in registry.prop_problem(tg, {"mode": "x"})
    assert registry.prop_problem(sheet["spatial_map"], []) is None
    assert registry.prop_problem(sheet["spatial_map"], [2, 2]) is None


def test_call_ports_come_from_its_kernel():
    doc, ids = v2_doc()
    call = doc.node(ids["call"])
    ports = [(p.name, p.direction, p.type) for p in registry.ports_of(call, doc)]
    assert ports == [
        ("Q", "in", "tensor"),
        ("K", "in", "tensor"),
        ("s", "in", "scalar"),
        ("acc", "in", "tensor"),
        ("acc", "out", "tensor"),
        ("O", "out", "tensor"),
        ("task", "out", "task"),
    ]
    call.props["kernel"] = ""
    assert [p.name for p in registry.ports_of(call, doc)] == ["task"]
    call.props["kernel"] = ids["Q"]  # not a kernel
    assert [p.name for p in registry.ports_of(call, doc)] == ["task"]


def ok(doc, src, sport, dst, dport):
    return registry.can_connect(doc, PortRef(src, sport), PortRef(dst, dport))


def test_can_connect_across_frames():
    doc, ids = v2_doc()
    assert ok(doc, ids["Q"], "tensor", ids["call"], "Q") == (True, "")
    assert ok(doc, ids["call"], "O", ids["O"], "write") == (True, "")
    assert ok(doc, ids["call"], "acc", ids["O"], "write") == (True, "")
    assert ok(doc, ids["n"], "scalar", ids["call"], "s") == (True, "")
    assert ok(doc, ids["Q"], "tensor", ids["y"], "tensor") == (True, "")
    assert ok(doc, ids["y"], "tensor", ids["call"], "K") == (True, "")  # same loop
    # refusals say why
    got, why = ok(doc, ids["n"], "scalar", ids["call"], "Q")
    assert not got and "scalar" in why and "tensor" in why
    got, why = ok(doc, ids["Q"], "tensor", ids["call"], "s")
    assert not got and "takes a scalar" in why
    got, why = ok(doc, ids["call"], "O", ids["call2"], "Q")
    assert not got and "write input" in why
    got, why = ok(doc, ids["Q"], "tensor", ids["O"], "write")
    assert not got and "only a kernel call" in why
    got, why = ok(doc, ids["call"], "Q", ids["O"], "write")
    assert not got and "no output 'Q'" in why
    got, why = ok(doc, ids["call3"], "O", ids["O"], "write")
    assert got  # a root tensor is written by any workload
    got, why = ok(doc, ids["y"], "tensor", ids["call3"], "K")
    assert not got and "two workloads" in why
    got, why = ok(doc, ids["call"], "task", ids["send"], "value")
    assert not got and "only nodes inside that frame" in why
    doc.node(ids["send"]).parent = ids["loop"]
    assert ok(doc, ids["call"], "task", ids["send"], "value") == (True, "")
    doc.graph.edges.append(Edge(PortRef(ids["Q"], "tensor"), PortRef(ids["call"], "Q")))
    got, why = ok(doc, ids["K"], "tensor", ids["call"], "Q")
    assert not got and "already connected" in why
    # the tensor's write input takes several writers
    doc.graph.edges.append(Edge(PortRef(ids["call"], "O"), PortRef(ids["O"], "write")))
    assert ok(doc, ids["call2"], "O", ids["O"], "write") == (True, "")
    # a call without a kernel explains itself
    doc.node(ids["call2"]).props["kernel"] = ""
    got, why = ok(doc, ids["Q"], "tensor", ids["call2"], "Q")
    assert not got and "choose its kernel" in why


def test_kernel_body_edges_stay_in_the_body():
    doc, ids = v2_doc()
    kern = doc.node(ids["attn"])
    a = registry.new_node("pto.exp", doc)
    kern.body.nodes[a.id] = a
    b = registry.new_node("pto.exp", doc)
    kern.body.nodes[b.id] = b
    kern.body.edges.append(Edge(PortRef(a.id, "result"), PortRef(b.id, "x")))
    got, why = ok(doc, b.id, "result", a.id, "x")
    assert not got and "cycle" in why
    got, why = ok(doc, ids["Q"], "tensor", a.id, "x")
    assert not got and "different canvases" in why


def test_tile_accepts_tensor_only_in_kernel_bodies():
    assert registry.types_compatible("tensor", "tile", "kernel")
    assert not registry.types_compatible("tensor", "tile", "workload")
    assert not registry.types_compatible("tensor", "task", "root")


@pytest.mark.parametrize(
    ("kind_id", "field", "value", "fragment"),
    [
        ("data.tensor", "shape", [2, "x"], "list of ints"),
        ("data.tensor", "shape", [], "non-empty"),
        ("data.tensor", "dtype", "f128", "dtype"),
        ("data.tensor", "init", "ones", "one of"),
        ("axis.dense", "size", 2.5, "integer"),
        ("axis.dense", "size", True, "integer"),
        ("branch.case", "pred", "open('x')", "calls are not allowed"),
        ("loop.seq", "var", "1h", "identifiers"),
        (
            "loop.parallel",
            "axes",
            [{"var": "b", "axis": "n1"}, {"var": "b", "axis": "n2"}],
            "twice",
        ),
        ("loop.parallel", "axes", [{"var": "1b", "axis": "n1"}], "identifier"),
        ("loop.parallel", "axes", [{"var": "b"}], "exactly the fields"),
        ("loop.parallel", "axes", [{"var": "b", "axis": ""}], "no axis"),
        ("loop.parallel", "axes", "b, h", "list of"),
        ("kernel.call", "kernel", 7, "node id"),
        ("kernel.call", "axes", 7, "expression"),
        ("workload.def", "dispatch_key", "t.get(", "syntax error"),
        ("workload.def", "dispatch", "fastest", "one of"),
        ("kernel.def", "params", [{"name": "x"}, {"name": "x"}], "duplicate parameter"),
        ("kernel.def", "params", [{"name": "x", "direction": "Up"}], "direction"),
        ("kernel.def", "params", [{"name": "task"}], "reserved"),
        ("kernel.call", "index", {"Q": "b +"}, "syntax error"),
        ("kernel.def", "cpp_includes", ["a", 3], "list of strings"),
    ],
)
def test_prop_problems(kind_id, field, value, fragment):
    problem = registry.prop_problem(registry.kind(kind_id).prop(field), value)
    assert problem is not None and fragment in problem
