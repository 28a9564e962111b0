"""``validation.validate_document`` on v2 documents: each diagnostic names the node and the field at
fault. Every test starts from §8.1 as a clean v2 document (tensors wired straight into the call
inside a ``P(b, h)`` frame) and breaks one thing, in memory, the way an edit could."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from app.model import io, registry
from app.model.document import Document, Edge, PortRef
from app.model.validation import document_warnings, validate_document

from . import v2_docs
from .v2_docs import node, wire

PROJECTS = Path(__file__).resolve().parents[3] / "app" / "projects"
SAMPLES = sorted(PROJECTS.glob("*.pto.json"))
GOLDEN_V1 = sorted((Path(__file__).resolve().parents[2] / "golden" / "v1_migration").glob("*.v1.pto.json"))  # fmt: skip
KERNEL = registry.display_name("kernel.def")
TENSOR = registry.display_name("data.tensor")


def diags(doc: Document) -> list[tuple[str, str, str]]:
    return [(d.node_id, d.field, d.message) for d in validate_document(doc)]


def where(doc: Document) -> list[tuple[str, str]]:
    return [(d.node_id, d.field) for d in validate_document(doc)]


@pytest.fixture
def doc() -> Document:
    d = v2_docs.attention()
    assert diags(d) == []
    return d


def test_spec_8_1_is_clean(doc: Document) -> None:
    doc.graph.nodes["call"].props["index"] = {}  # all auto: the same program
    assert diags(doc) == []


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name.split(".")[0])
def test_every_sample_is_clean(path: Path) -> None:
    assert validate_document(io.load(path)) == []


@pytest.mark.parametrize("path", GOLDEN_V1, ids=lambda p: p.name.split(".")[0])
def test_every_migrated_v1_document_is_clean(path: Path) -> None:
    """The v1 corpus (samples and the constructs the DSL has: when chains, P.sel, events,
    slots, collectives, compositions, connect/replicate, task_graph...) migrates to documents
    the exporter accepts."""
    assert validate_document(io.load(path)) == []


# ------------------------------------------------------------------------------------------
# where nodes live
# ------------------------------------------------------------------------------------------
def test_parent_must_exist_and_be_a_frame(doc: Document) -> None:
    call = doc.graph.nodes["call"]
    call.parent = "gone"
    assert ("call", "parent", "no frame 'gone'") in diags(doc)
    call.parent = "Q"
    assert ("call", "parent", f"Q ({TENSOR}) is not a frame") in diags(doc)


def test_kinds_live_where_allowed_in_says(doc: Document) -> None:
    """In-memory edits the loader never sees: a call dragged to the root, a tensor into a
    workload, a loop into a combine frame."""
    doc.graph.nodes["call"].parent = None
    assert (
        "call",
        "parent",
        f"a {registry.display_name('kernel.call')} lives inside a workload, not on the canvas "
        "outside every frame",
    ) in diags(doc)
    doc.graph.nodes["call"].parent = "loop"
    doc.graph.nodes["K"].parent = "wl"
    assert diags(doc) == [
        (
            "K",
            "parent",
            f"a {TENSOR} lives on the canvas outside every frame, not inside a workload",
        )  # fmt: skip
    ]
    doc.graph.nodes["K"].parent = None
    node(doc, "comb", "compose.combine", "both")
    doc.graph.nodes["loop"].parent = "comb"
    assert ("loop", "parent") in where(doc)


def test_a_parent_cycle_is_reported_not_followed(doc: Document) -> None:
    doc.graph.nodes["wl"].parent = "loop"  # wl -> loop -> wl
    found = where(doc)
    assert ("wl", "parent") in found and ("loop", "parent") in found


def test_only_a_kernel_owns_a_body(doc: Document) -> None:
    from app.model.document import Graph

    doc.graph.nodes["loop"].body = Graph()
    assert ("loop", "body") in where(doc)
    doc.graph.nodes["loop"].body = None
    doc.graph.nodes["attn"].body = None
    assert ("attn", "body") in where(doc)


# ------------------------------------------------------------------------------------------
# references
# ------------------------------------------------------------------------------------------
def test_call_kernel_reference(doc: Document) -> None:
    call = doc.graph.nodes["call"]
    call.props["kernel"] = ""
    assert ("call", "props.kernel", f"no kernel chosen: pick a {KERNEL}") in diags(doc)
    call.props["kernel"] = "n404"
    assert ("call", "props.kernel", f"names no node ('n404'): pick a {KERNEL}") in diags(doc)
    call.props["kernel"] = "Q"
    assert ("call", "props.kernel", f"Q is a {TENSOR}, not a {KERNEL}") in diags(doc)


def test_loop_axes_reference_axis_nodes(doc: Document) -> None:
    loop = doc.graph.nodes["loop"]
    loop.props["axes"] = [{"var": "b", "axis": "batch"}, {"var": "h", "axis": "Q"}]
    (d,) = [x for x in diags(doc) if x[0] == "loop"]
    assert d[1] == "props.axes[1].axis" and d[2].startswith(f"Q is a {TENSOR}, not a ")


def test_sel_walks_a_sparse_axis(doc: Document) -> None:
    node(doc, "sel", "loop.sel", "", parent="loop", var="e", axis="heads", row="b")
    sparse, dense = registry.display_name("axis.sparse"), registry.display_name("axis.dense")
    assert diags(doc) == [("sel", "props.axis", f"heads is a {dense}, not a {sparse}")]
    node(doc, "routing", "axis.sparse", "routing", outer_size=4)
    doc.graph.nodes["sel"].props["axis"] = "routing"
    assert [w for w in where(doc) if w[0] == "sel"] == []


def test_channel_event_and_workload_references(doc: Document) -> None:
    node(doc, "ch", "csp.channel", "l2c", depth=2)
    node(doc, "ev", "event.def", "ev")
    node(doc, "cl", "csp.close", "", parent="wl", channel="ev")
    node(doc, "rec", "event.record", "", parent="wl", event=None)
    node(doc, "comb", "compose.combine", "both")
    node(doc, "inst", "workload.instance", "", parent="comb", workload="attn")
    found = where(doc)
    assert ("cl", "props.channel") in found
    assert ("rec", "props.event") in found
    assert ("inst", "props.workload") in found
    doc.graph.nodes["cl"].props["channel"] = "ch"
    doc.graph.nodes["rec"].props["event"] = "ev"
    doc.graph.nodes["inst"].props["workload"] = "wl"
    assert [w for w in where(doc) if w[0] in ("cl", "rec", "inst")] == []


# ------------------------------------------------------------------------------------------
# loop variables and expressions
# ------------------------------------------------------------------------------------------
def test_loop_variables_are_bound_once(doc: Document) -> None:
    loop = doc.graph.nodes["loop"]
    loop.props["axes"] = [{"var": "b", "axis": "batch"}, {"var": "b", "axis": "heads"}]
    assert ("loop", "props.axes", "[1].var: variable 'b' is bound twice") in diags(doc)
    loop.props["axes"] = [{"var": "b", "axis": "batch"}, {"var": "h", "axis": "heads"}]
    node(doc, "tiles", "axis.dense", "tiles", size=2)
    node(doc, "seq", "loop.seq", "", parent="loop", var="h", axis="tiles")
    assert ("seq", "props.var", "loop variable 'h' is already bound by an enclosing loop") in diags(doc)  # fmt: skip
    doc.graph.nodes["seq"].props["var"] = "Q"
    assert ("seq", "props.var", "loop variable 'Q' hides the root node Q") in diags(doc)
    doc.graph.nodes["seq"].props["var"] = "k"
    assert diags(doc) == []


def test_an_empty_parallel_loop(doc: Document) -> None:
    doc.graph.nodes["loop"].props["axes"] = []
    assert ("loop", "props.axes", "P needs at least one axis") in diags(doc)


def test_expressions_use_only_variables_in_scope(doc: Document) -> None:
    """An index may use the loops around the call, not a sibling loop's variable."""
    call = doc.graph.nodes["call"]
    call.props["index"] = {"K": "b", "V": "k"}
    unknown_k = ("call", "props.index.V", "unknown name 'k' (in scope here: b, h)")
    assert unknown_k in diags(doc)
    node(doc, "tiles", "axis.dense", "tiles", size=4)
    node(doc, "seq", "loop.seq", "", parent="wl", var="k", axis="tiles")  # beside the P, not around
    assert unknown_k in diags(doc)
    call.parent = "seq"
    doc.graph.nodes["seq"].parent = "loop"  # now P(b, h) > P.seq(k) > call
    assert [w for w in where(doc) if w[0] == "call"] == []
    call.props["index"] = {"K": "b", "V": "b", "Q": "b, h, __import__"}
    assert (
        "call",
        "props.index.Q",
        "unknown name '__import__' (in scope here: b, h, k)",
    ) in diags(doc)


def test_an_unknown_name_lists_the_loop_variables_in_scope(doc: Document) -> None:
    """The new user's case: ``q`` typed into Q's index inside P(b, h). The message lists the
    loop variables around the call, outermost first, so the typo is plain; a property of a
    node in no loop says there are none."""
    doc.graph.nodes["call"].props["index"] = {"Q": "q, h", "K": "b", "V": "b"}
    assert diags(doc) == [("call", "props.index.Q", "unknown name 'q' (in scope here: b, h)")]
    node(doc, "chain", "branch.chain", "", parent="wl")
    node(doc, "c1", "branch.case", "", parent="chain", pred="q < 2", otherwise=False)
    assert ("c1", "props.pred", "unknown name 'q' (no loop variables in scope here)") in diags(doc)


def test_case_predicates_and_the_otherwise_rule(doc: Document) -> None:
    node(doc, "chain", "branch.chain", "", parent="wl")
    assert ("chain", "children", "P.when has no case: add a when case") in diags(doc)
    node(doc, "c1", "branch.case", "", parent="chain", pred="b < 2", otherwise=False)
    node(doc, "c2", "branch.case", "", parent="chain", pred="", otherwise=True)
    node(doc, "c3", "branch.case", "", parent="chain", pred="z > 1", otherwise=False)
    found = diags(doc)
    assert ("c2", "props.otherwise", "only the last case of a P.when can be otherwise") in found
    assert ("c3", "props.pred", "unknown name 'z' (no loop variables in scope here)") in found
    assert [w for w in where(doc) if w[0] == "c2"] == [("c2", "props.otherwise")]  # pred unused
    # the chain's cases see the loops around the chain
    doc.graph.nodes["chain"].parent = "loop"
    doc.graph.nodes["c3"].props.update(pred="h > 1")
    del doc.graph.nodes["c2"]
    assert [w for w in where(doc) if w[0] in ("chain", "c1", "c3")] == []
    # a statement straight in the chain, not in a case
    node(doc, "rec", "event.record", "", parent="chain", event=None)
    assert ("rec", "parent") in where(doc)


# ------------------------------------------------------------------------------------------
# kernel calls and wires
# ------------------------------------------------------------------------------------------
def test_required_call_ports(doc: Document) -> None:
    doc.graph.edges = [e for e in doc.graph.edges if e.dst.port != "Q" and e.src.port != "O"]
    assert diags(doc) == [
        ("call", "inputs.Q", "parameter Q of attn_kernel is not wired: wire a tensor into it"),
        (
            "call",
            "outputs.O",
            "Out parameter O of attn_kernel is not wired: wire it to the tensor it writes",
        ),
    ]


def test_an_input_takes_one_wire_and_index_keys_are_parameters(doc: Document) -> None:
    wire(doc, "K", "tensor", "call", "Q")
    doc.graph.nodes["call"].props["index"] = {"K": "b", "V": "b", "Z": "b"}
    found = diags(doc)
    assert ("call", "inputs.Q", "parameter Q takes one wire, has 2") in found
    assert ("call", "props.index.Z", "kernel 'attn_kernel' has no parameter 'Z'") in found


def test_inout_writes_the_tensor_it_reads(doc: Document) -> None:
    params = [dict(p) for p in v2_docs.TILE_16]
    params[3]["direction"] = "InOut"
    doc.graph.nodes["attn"].props["params"] = params
    registry.sync_kernel_params(doc, doc.graph.nodes["attn"])
    wire(doc, "O", "tensor", "call", "O")  # reads O and writes O: an accumulator, no cycle
    assert diags(doc) == []
    doc.graph.edges = [e for e in doc.graph.edges if e.dst.port != "write"]
    wire(doc, "call", "O", "Q", "write")
    assert diags(doc) == [
        (
            "call",
            "outputs.O",
            "InOut parameter O reads O but is wired to write Q: it is one argument",
        )  # fmt: skip
    ]


def test_wire_types_and_ports(doc: Document) -> None:
    node(doc, "n", "data.scalar", "n", dtype="i32", value="4")
    wire(doc, "n", "scalar", "call", "Q")
    assert ("call", "inputs.Q", "n gives a scalar but input 'Q' of call takes a tensor") in diags(doc)  # fmt: skip
    doc.graph.edges.pop()
    wire(doc, "Q", "tensor", "call", "nothing")
    assert ("call", "inputs.nothing") in where(doc)


def test_no_wire_joins_two_programs(doc: Document) -> None:
    node(doc, "wl2", "workload.def", "other", **v2_docs.SHEET)
    node(doc, "y", "layout.allreduce", "y", parent="wl2", op="sum")
    node(doc, "wl2loop", "loop.parallel", "", parent="wl2", axes=[{"var": "b", "axis": "batch"}])
    doc.graph.nodes["wl2"].props.update(spatial_map=[2, 1], dispatch_key="b", stream_by="")
    doc.graph.nodes["wl2"].props["target"] = ""  # one program per project
    wire(doc, "Q", "tensor", "y", "tensor")
    doc.graph.edges = [e for e in doc.graph.edges if e.dst.port != "K"]
    wire(doc, "y", "tensor", "call", "K")
    assert diags(doc) == [
        (
            "call",
            "inputs.K",
            "y is in workload other and call in attention; a wire never joins two workloads",
        )
    ]


def test_a_view_of_the_wrong_shape_is_a_diagnostic(doc: Document) -> None:
    """Issue 13: Q of shape [16, 16] indexed Q[b, h] into a 16x16 tile."""
    doc.graph.nodes["Q"].props["shape"] = [16, 16]
    doc.graph.nodes["call"].props["index"] = {"Q": "b, h", "K": "b", "V": "b"}
    assert diags(doc) == [
        (
            "call",
            "props.index.Q",
            "Q[b, h] is a view of shape [] but parameter Q of attn_kernel is Tile[16, 16, f32]",
        )
    ]


def test_a_rank_4_tensor_in_a_single_loop_is_a_diagnostic() -> None:
    """Rank-4 Q into a 16x16 tile inside P(b) only: the auto index Q[b] leaves a rank-3 view."""
    doc = v2_docs.attention(loop_axes=(("b", "batch"),), index={"K": "b", "V": "b", "O": "b, 0"})
    doc.graph.nodes["wl"].props["stream_by"] = ""
    ((node_id, field, message),) = diags(doc)
    assert (node_id, field) == ("call", "props.index.Q")
    assert message.startswith(
        "Q[b] is a view of shape [8, 16, 16] but parameter Q of attn_kernel is Tile[16, 16, f32]"
    )


def test_kernel_body_parameter_nodes(doc: Document) -> None:
    body = doc.graph.nodes["attn"].body
    assert body is not None
    param_node = next(n for n in body.nodes.values() if n.kind == "kernel.param")
    del body.nodes[param_node.id]
    assert (
        "attn",
        "props.params",
        f"parameter {param_node.props['param']!r} needs one parameter node in the body, has 0",
    ) in diags(doc)


# ------------------------------------------------------------------------------------------
# names
# ------------------------------------------------------------------------------------------
def test_root_names_are_unique_identifiers(doc: Document) -> None:
    doc.graph.nodes["K"].name = "Q"
    found = diags(doc)
    assert ("K", "name", "duplicate name 'Q'") in found and ("Q", "name", "duplicate name 'Q'") in found  # fmt: skip
    doc.graph.nodes["K"].name = "for"
    assert [w for w in where(doc) if w == ("K", "name")] == [("K", "name")]


# ------------------------------------------------------------------------------------------
# the schedule sheet
# ------------------------------------------------------------------------------------------
def test_sheet_dispatch(doc: Document) -> None:
    wl = doc.graph.nodes["wl"]
    wl.props.update(dispatch="round_robin", dispatch_n=0)
    assert diags(doc) == [("wl", "props.dispatch_n", "dispatch_n must be >= 1")]
    wl.props.update(dispatch="hash", dispatch_n=4, dispatch_key="")
    assert diags(doc) == [
        ("wl", "props.dispatch_key", "dispatch hash needs a key: pick a loop variable, e.g. b")
    ]


def test_sheet_keys_use_the_loop_variables_of_the_workload(doc: Document) -> None:
    wl = doc.graph.nodes["wl"]
    wl.props["dispatch_key"] = "z"
    assert diags(doc) == [
        (
            "wl",
            "props.dispatch_key",
            "unknown name 'z': a key uses the loop variables of attention (b, h)",
        )
    ]
    wl.props["dispatch_key"] = 't.get("batch")'  # an axis name of one of its loops: fine
    assert diags(doc) == []
    wl.props["stream_by"] = 't.get("expert") % 2'
    assert diags(doc) == [
        (
            "wl",
            "props.stream_by",
            "t.get(\"expert\"): attention has no loop variable or axis 'expert' (valid: b, batch, "
            "h, head, heads)",
        )
    ]


def test_sheet_timing_task_graph_and_grid(doc: Document) -> None:
    wl = doc.graph.nodes["wl"]
    wl.props.update(timing="batched", timing_param=0)
    assert where(doc) == [("wl", "props.timing_param")]
    wl.props.update(timing="immediate", task_graph={"ready": "priority"})
    assert where(doc) == [("wl", "props.task_graph.ready_key")]
    wl.props["task_graph"] = {"window": 8, "pools": [{"kernel": "nope", "workers": 1}]}
    assert diags(doc) == [
        ("wl", "props.task_graph.pools[0].kernel", "no kernel named 'nope' in the project")
    ]
    wl.props["task_graph"] = {"window": 8, "pools": [{"kernel": "attn_kernel", "workers": 1}]}
    assert diags(doc) == []
    wl.props["spatial_map"] = [2, 0]
    assert ("wl", "props.spatial_map") in where(doc)


def test_collectives_need_a_mesh(doc: Document) -> None:
    node(doc, "y", "layout.allreduce", "y", parent="loop", op="sum")
    wire(doc, "O", "tensor", "y", "tensor")
    assert diags(doc) == [
        ("y", "kind", "allreduce needs a mesh: set spatial_map in the schedule of attention")
    ]
    doc.graph.nodes["wl"].props["spatial_map"] = [2, 1]
    assert diags(doc) == []
    # composed: the workload is not compiled itself, the combine frame compiles it
    doc.graph.nodes["wl"].props.update(spatial_map=[], target="")
    node(doc, "comb", "compose.combine", "both", target="cpu_sim")
    node(doc, "inst", "workload.instance", "", parent="comb", workload="wl")
    assert where(doc) == [("y", "kind")]
    doc.graph.nodes["comb"].props["spatial_map"] = [2, 1]
    assert diags(doc) == []


# ------------------------------------------------------------------------------------------
# never raises
# ------------------------------------------------------------------------------------------
_ODD_VALUES: list[Any] = [
    None, "", "x", 0, -1, 2.5, True, [], [1], {}, {"a": 1}, "b, h", "t.get(1)", "0 +",
    [{"var": "b"}], [{"var": 1, "axis": 2}], {"Q": 3}, {"Q": "b, h, i, j"}, {"window": "x"},
    [{"name": "Q", "kind": "tile", "rows": 0}], [{"name": 3}], "__import__",
]  # fmt: skip


def test_validation_and_titles_never_raise_on_edited_documents() -> None:
    """Documents edited in memory into odd shapes (any property any value, parents anywhere,
    wires to missing nodes and ports, nodes deleted under their children): validation lists
    problems and titles title, neither raises."""
    from app.model import titles

    rng = random.Random(13)
    docs = [io.load(p) for p in [*SAMPLES, *GOLDEN_V1]]
    for _ in range(200):
        doc = copy.deepcopy(rng.choice(docs))
        ids = list(doc.graph.nodes)
        for _ in range(rng.randint(1, 3)):
            n = doc.graph.nodes[rng.choice(ids)]
            r = rng.random()
            if r < 0.5 and n.props:
                n.props[rng.choice(list(n.props))] = copy.deepcopy(rng.choice(_ODD_VALUES + ids))
            elif r < 0.7:
                n.parent = rng.choice([*ids, None, "gone"])
            elif r < 0.85 and doc.graph.edges:
                e = rng.choice(doc.graph.edges)
                port = rng.choice(["Q", "write", "value", "zz", "tensor", e.dst.port])
                doc.graph.edges.append(Edge(e.src, PortRef(rng.choice([*ids, "gone"]), port)))
            elif len(ids) > 1:
                del doc.graph.nodes[n.id]
                ids.remove(n.id)
        assert isinstance(validate_document(doc), list)
        for n in doc.graph.nodes.values():
            assert isinstance(titles.title(n, doc), str)


def test_processes_live_in_connect_frames_under_unique_names() -> None:
    doc = io.load(PROJECTS / "csp_pipeline.pto.json")
    procs = [n for n in doc.graph.nodes.values() if n.kind == "csp.process"]
    connect = next(n for n in doc.graph.nodes.values() if n.kind == "csp.connect")
    assert [p.parent for p in procs] == [connect.id, connect.id] and diags(doc) == []
    procs[1].name = procs[0].name  # processes are top-level definitions: one name space
    assert where(doc) == [(procs[0].id, "name"), (procs[1].id, "name")]
    procs[1].name = "consumer"
    node(doc, "w", "workload.def", "w")
    procs[1].parent = "w"
    assert (
        procs[1].id,
        "parent",
        "a named process belongs in a connect frame; inside a workload use P.pipe, where every "
        "statement is a process",
    ) in diags(doc)


def test_scalar_parameters_take_a_wire_or_a_typed_value(doc: Document) -> None:
    params = [*v2_docs.TILE_16, {"name": "n", "direction": "In", "kind": "scalar", "dtype": "i32"}]
    doc.graph.nodes["attn"].props["params"] = params
    registry.sync_kernel_params(doc, doc.graph.nodes["attn"])
    assert diags(doc) == [
        (
            "call",
            "inputs.n",
            "scalar parameter n of attn_kernel has no value: wire a scalar into it or type one",
        )
    ]
    doc.graph.nodes["call"].props["index"]["n"] = "b * 2"  # a typed value over the loop vars
    assert diags(doc) == []
    doc.graph.nodes["call"].props["index"]["n"] = "k"
    assert diags(doc) == [("call", "props.index.n", "unknown name 'k' (in scope here: b, h)")]


def test_a_sent_call_stands_in_its_sends_frame_and_goes_to_one_send(doc: Document) -> None:
    node(doc, "ch", "csp.channel", "work", depth=2)
    node(doc, "s1", "csp.send", "", parent="loop", channel="ch")
    wire(doc, "call", "task", "s1", "value")
    assert diags(doc) == []
    doc.graph.nodes["s1"].parent = "wl"
    assert ("call", "parent") in where(doc)
    doc.graph.nodes["s1"].parent = "loop"
    node(doc, "s2", "csp.send", "", parent="loop", channel="ch")
    wire(doc, "call", "task", "s2", "value")
    assert diags(doc) == [("call", "outputs.task", "a call's task is sent on one channel only")]


def test_one_program_per_project(doc: Document) -> None:
    node(doc, "w2", "workload.def", "other", target="cpu_sim")
    assert [d for d in diags(doc) if d[1] == "props.target"] == [
        (
            w,
            "props.target",
            "a project compiles one program, and attention, other each set a target: clear all but one",
        )  # fmt: skip
        for w in ("wl", "w2")
    ]


def test_kernel_sources_and_tensor_files(doc: Document) -> None:
    kern = doc.graph.nodes["attn"]
    kern.props["cpp_includes"] = ["x.h"]
    assert diags(doc) == [("attn", "props.cpp_includes", "cpp_includes needs cpp_src")]
    kern.props["cpp_includes"] = []
    doc.graph.nodes["Q"].props["init"] = "npy"
    assert diags(doc) == [("Q", "props.path", "init=npy needs the path of a .npy file")]


def _insert_before(doc: Document, nid: str, before: str) -> None:
    items = list(doc.graph.nodes.items())
    moved = next(i for i in items if i[0] == nid)
    items.remove(moved)
    items.insert([k for k, _ in items].index(before), moved)
    doc.graph.nodes.clear()
    doc.graph.nodes.update(items)


def test_a_read_before_a_write_by_order_is_a_warning_not_an_error(doc: Document) -> None:
    """The child order is the program order: a call reading O before the call that writes O is
    a write-after-read the user may mean. It is allowed (no error, export keeps it) and warned
    about on the reader's port, naming the writer and the fix."""
    from app.model.document import Diagnostic
    from app.model.export import export_script

    node(doc, "R", "data.tensor", "R", shape=[4, 8, 16, 16], **v2_docs.TENSOR_PROPS)
    node(doc, "reader", "kernel.call", "call", "loop", kernel="attn", axes=None, index={"K": "b", "V": "b"})  # fmt: skip
    for port, t in (("Q", "O"), ("K", "K"), ("V", "V")):
        wire(doc, t, "tensor", "reader", port)
    wire(doc, "reader", "O", "R", "write")
    assert document_warnings(doc) == []  # the reader stands after the writer: it reads the new O
    _insert_before(doc, "reader", "call")
    assert diags(doc) == []
    (warning,) = document_warnings(doc)
    assert warning == Diagnostic(
        "reader",
        "inputs.Q",
        "reads O before attn_kernel[b, h] writes it (write-after-read by order); Move Later if "
        "it should read the new value",
        severity="warning",
    )
    src = export_script(doc).source
    assert src.index("O=R[b, h]") < src.index("O=O[b, h]")  # export keeps the order
    # two accumulations into O (InOut): each reads and writes it, so one reads before the
    # other writes in any order; not warned
    params = [dict(p) for p in v2_docs.TILE_16]
    params[3]["direction"] = "InOut"
    doc.graph.nodes["attn"].props["params"] = params
    registry.sync_kernel_params(doc, doc.graph.nodes["attn"])
    doc.graph.edges = [e for e in doc.graph.edges if "reader" not in (e.src.node, e.dst.node)]
    for port in "QKVO":
        wire(doc, port, "tensor", "reader", port)
    wire(doc, "reader", "O", "O", "write")
    wire(doc, "O", "tensor", "call", "O")
    assert diags(doc) == [] and document_warnings(doc) == []


def test_a_cycle_of_data_between_statements_is_not_warned() -> None:
    """First reads S and writes T, second reads T and writes S: in either order one reads
    before the other writes, so no order is worth suggesting. Without the cycle it is warned."""
    doc = Document(format_version=2, name="cycle")
    for t in "STU":
        node(doc, t, "data.tensor", t, shape=[16, 16], **v2_docs.TENSOR_PROPS)
    params = [dict(v2_docs.TILE_16[0], name="x"), dict(v2_docs.TILE_16[3], name="y")]
    node(doc, "k", "kernel.def", "k", params=params)
    node(doc, "wl", "workload.def", "w", target="cpu_sim")
    for c, src, dst in (("first", "S", "T"), ("second", "T", "S")):
        node(doc, c, "kernel.call", "call", "wl", kernel="k", axes=None, index={})
        wire(doc, src, "tensor", c, "x")
        wire(doc, c, "y", dst, "write")
    assert diags(doc) == [] and document_warnings(doc) == []
    doc.graph.edges = [e for e in doc.graph.edges if e.src.node != "first"]
    wire(doc, "first", "y", "U", "write")  # second no longer reads what first writes
    assert [(d.node_id, d.field, d.severity) for d in document_warnings(doc)] == [
        ("first", "inputs.x", "warning")
    ]


def test_no_program_with_a_target_is_a_warning_before_any_run(doc: Document) -> None:
    """Run says NothingToRun when no program has a target; Diagnostics says it live, on the
    first workload frame's target, so the user sees it before pressing F5. Loading a file does
    not pick a target for it: a saved empty target stays empty and is warned about."""
    from app.model.document import Diagnostic

    assert document_warnings(doc) == []
    doc.graph.nodes["wl"].props["target"] = ""
    loaded = io.from_json(io.to_json(doc))
    assert loaded.node("wl").props["target"] == ""
    for d in (doc, loaded):
        assert diags(d) == []  # allowed: export writes the definitions, nothing is compiled
        assert document_warnings(d) == [
            Diagnostic(
                "wl",
                "props.target",
                "nothing runs: pick a target (cpu_sim) on this workload's schedule sheet",
                severity="warning",
            )
        ]
    node(doc, "w2", "workload.def", "second")  # the first workload frame carries it
    assert [(w.node_id, w.field) for w in document_warnings(doc)] == [("wl", "props.target")]
    doc.graph.nodes["w2"].props["target"] = "cpu_sim"  # any program compiled: nothing to say
    assert document_warnings(doc) == []
