"""Node titles carry the key parameters (issue 13), read from a v2 document: references are
properties holding node ids, loops are frames, a program's schedule is its sheet."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.model import io, registry, titles
from app.model.document import Document, Graph, Node

from . import v2_docs
from .v2_docs import node, wire


def title_of(doc: Document, node_id: str) -> str:
    return titles.title(doc.graph.nodes[node_id], doc)


def test_spec_8_1_reads_without_opening_anything() -> None:
    doc = v2_docs.attention()
    assert title_of(doc, "Q") == "Q  f32[4,8,16,16]"
    assert title_of(doc, "K") == "K  f32[4,16,16]"
    assert title_of(doc, "batch") == "batch  DenseDyn 4"
    assert title_of(doc, "heads") == "heads  Dense 8"
    assert title_of(doc, "attn") == "attn_kernel(Q, K, V) → O"
    assert title_of(doc, "loop") == "P  b in batch (DenseDyn 4) × h in heads (Dense 8)"
    assert title_of(doc, "call") == "attn_kernel[b, h]"
    assert title_of(doc, "wl") == (
        "workload attention → cpu_sim  affinity(b) · streams 2 by h % 2 · immediate"
    )
    assert titles.sheet_summary(doc.graph.nodes["wl"].props) == (
        "affinity(b) · streams 2 by h % 2 · immediate"
    )


def test_titles_follow_properties() -> None:
    doc = v2_docs.attention()
    loop = doc.graph.nodes["loop"]
    # the loop's axes in order: swapping them shows at once
    loop.props["axes"] = [{"var": "h", "axis": "heads"}, {"var": "b", "axis": "batch"}]
    assert title_of(doc, "loop") == "P  h in heads (Dense 8) × b in batch (DenseDyn 4)"
    assert title_of(doc, "call") == "attn_kernel[h, b]"  # the call's axes follow the loops
    doc.graph.nodes["call"].props["axes"] = "b"  # an override
    assert title_of(doc, "call") == "attn_kernel[b]"
    doc.graph.nodes["Q"].props.update(shape=[2, 16, 16], dtype="bf16")
    assert title_of(doc, "Q") == "Q  bf16[2,16,16]"
    loop.props["axes"] = [{"var": "b", "axis": None}]
    assert title_of(doc, "loop") == "P  b in ?"
    # a call without a kernel says so instead of pretending
    doc.graph.nodes["call"].props["kernel"] = None
    assert title_of(doc, "call") == "call[b] (no kernel)"
    doc.graph.nodes["call"].parent = None
    doc.graph.nodes["call"].props["axes"] = None
    assert title_of(doc, "call") == "call (no kernel)"


def _csp_doc() -> Document:
    doc = v2_docs.attention()
    node(doc, "tiles", "axis.dense", "tiles", size=4)
    node(doc, "routing", "axis.sparse", "routing", outer_size=4)
    node(doc, "seq", "loop.seq", "", parent="loop", var="k", axis="tiles")
    node(doc, "sel", "loop.sel", "", parent="loop", var="e", axis="routing", row="b")
    node(doc, "chain", "branch.chain", "", parent="wl")
    node(doc, "c1", "branch.case", "", parent="chain", pred="b < 2", otherwise=False)
    node(doc, "c2", "branch.case", "", parent="chain", pred="", otherwise=True)
    node(doc, "pipe", "pipe.scope", "", parent="wl", depth=2)
    node(doc, "ch", "csp.channel", "l2c", depth=2)
    node(doc, "ev", "event.def", "ev")
    node(doc, "proc", "csp.process", "producer", parent="pipe", replicas=4)
    node(doc, "send", "csp.send", "", parent="proc", channel="ch")
    node(doc, "cons", "csp.consume", "", parent="pipe", var="t", channel="ch")
    node(doc, "close", "csp.close", "", parent="proc", channel="ch")
    node(doc, "rec", "event.record", "", parent="wl", event="ev")
    node(doc, "sync", "event.synchronize", "", parent="wl", event=None)
    node(doc, "mlp", "workload.def", "mlp", **{**v2_docs.SHEET, "dispatch": "", "streams": 0, "stream_by": "", "timing": "", "target": ""})  # fmt: skip
    node(doc, "comb", "compose.combine", "both", **{**v2_docs.SHEET, "dispatch": "round_robin", "dispatch_n": 2, "stream_by": "", "timing": "batched", "timing_param": 4})  # fmt: skip
    node(doc, "i1", "workload.instance", "", parent="comb", workload="wl")
    node(doc, "i2", "workload.instance", "", parent="comb", workload="mlp")
    node(doc, "y", "layout.allreduce", "y", parent="wl", op="sum")
    wire(doc, "Q", "tensor", "y", "tensor")
    return doc


def test_frame_and_statement_titles() -> None:
    doc = _csp_doc()
    assert title_of(doc, "seq") == "P.seq  k in tiles (Dense 4)"
    assert title_of(doc, "sel").startswith("P.sel  e in routing[b] (")
    assert title_of(doc, "chain") == "P.when  2 cases"
    assert title_of(doc, "c1") == "when b < 2"
    assert title_of(doc, "c2") == "otherwise"
    assert title_of(doc, "pipe") == "P.pipe  depth 2"
    assert title_of(doc, "proc") == "process producer × 4"
    assert title_of(doc, "ch") == "l2c  depth 2"
    assert title_of(doc, "send") == "send → l2c"
    assert title_of(doc, "cons") == "consume t in l2c"
    assert title_of(doc, "close") == "close l2c"
    assert title_of(doc, "rec") == "record ev"
    assert title_of(doc, "sync") == "synchronize ?"
    assert title_of(doc, "i1") == "instance attention"
    assert title_of(doc, "mlp") == "workload mlp"  # an empty sheet, not compiled
    assert title_of(doc, "comb") == (
        "combine(attention, mlp) → cpu_sim  round_robin · 2 workers · streams 2 · batched(4)"
    )
    assert title_of(doc, "y") == "y = allreduce(Q) sum"


@pytest.mark.parametrize(
    ("props", "text"),
    [
        ({}, ""),
        ({"dispatch": "work_steal"}, "work_steal"),
        ({"dispatch": "round_robin", "dispatch_n": 1}, "round_robin · 1 worker"),
        ({"dispatch": "hash", "dispatch_key": 't.get("batch")'}, "hash(batch)"),
        ({"stream_by": "h % 2"}, "stream_by h % 2"),
        ({"streams": 8, "stream_by": 't.get("expert")'}, "streams 8 by expert"),
        ({"timing": "rate_limit", "timing_param": 2.5}, "rate_limit(2.5)"),
        (
            {"task_graph": {"window": 16, "ready": "priority", "ready_key": "k"}},
            "task_graph window 16 · ready priority(k)",
        ),  # fmt: skip
        ({"task_graph": {"window": 0, "deps": "infer", "unit": "tasks"}}, "task_graph deps infer"),
        ({"spatial_map": [2, 2]}, "mesh 2×2"),
        (
            {"task_graph": {"pools": [{"kernel": "partial", "workers": 3}], "window": 16}},
            "task_graph window 16 · pools partial:3",
        ),  # fmt: skip
        ({"task_graph": {}, "spatial_map": [], "target": "cpu_sim"}, ""),
    ],
)
def test_sheet_summary(props: dict, text: str) -> None:
    assert titles.sheet_summary(props) == text


def test_samples_read_cold() -> None:
    """The bundled samples as the canvas titles them: every key parameter on the node."""
    projects = Path(__file__).resolve().parents[3] / "app" / "projects"

    def titled(name: str) -> dict[str, str]:
        doc = io.load(projects / f"{name}.pto.json")
        return {titles.title(n, doc) for n in doc.graph.nodes.values()}

    assert {
        "workload attention → cpu_sim  affinity(batch) · streams 2 by head % 2 · immediate",
        "P  b in batch (DenseDyn 4) × h in heads (Dense 8)",
        "attn_kernel[b, h]",
        "attn_kernel(Q, K, V) → O",
    } <= titled("attention_varlen")
    assert {
        "workload moe → cpu_sim  work_steal · streams 8 by expert",
        "P.sel  e in routing[b] (Sparse 4)",
        "expert[b, e]",
    } <= titled("moe")
    assert {
        "connect(producer, consumer) → cpu_sim  round_robin · 4 workers",
        "consume t in work",
        "send → work",
        "work  depth 2",
    } <= titled("csp_pipeline")
    assert (
        "workload tensor_parallel → cpu_sim  task_graph window 16 · ready priority(k) · pools "
        "partial:3, finish:1 · mesh 2×2"
    ) in titled("tensor_parallel")


def test_long_keys_are_shortened() -> None:
    long_key = " + ".join(f't.get("axis{i}")' for i in range(20))
    text = titles.sheet_summary({"stream_by": long_key})
    assert text.endswith("…") and len(text) <= len("stream_by ") + titles.MAX_TEXT


def _host(doc: Document, scope: str) -> str | None:
    """A frame whose inside is ``scope`` (built in a fresh document), or None for the root."""
    if scope == "root":
        return None
    if scope in ("workload", "branch"):
        node(doc, "host", "workload.def", "host", **registry.KINDS["workload.def"].defaults())
        if scope == "branch":
            node(doc, "chain", "branch.chain", "", parent="host", **registry.KINDS["branch.chain"].defaults())  # fmt: skip
            return "chain"
        return "host"
    if scope == "compose":
        node(doc, "host", "compose.combine", "host", **registry.KINDS["compose.combine"].defaults())  # fmt: skip
        return "host"
    if scope == "connect":
        node(doc, "host", "csp.connect", "host", **registry.KINDS["csp.connect"].defaults())
        return "host"
    raise AssertionError(scope)


@pytest.mark.parametrize("kind_id", sorted(registry.KINDS))
def test_every_kind_has_a_one_line_title(kind_id: str) -> None:
    """A fresh node of every kind, where it may live, gets a non-empty single-line title."""
    kind = registry.KINDS[kind_id]
    doc = Document(name="t")
    ctx_graph = None
    owner = None
    places = sorted(kind.allowed_in - {"kernel"})
    if not places:  # a kernel body node
        kern = node(doc, "k", "kernel.def", "k", **registry.KINDS["kernel.def"].defaults())
        kern.body = kern.body or Graph()
        item = Node("x", kind_id, "", (0.0, 0.0), kind.defaults())
        kern.body.nodes["x"] = item
        ctx_graph, owner = kern.body, kern
    else:
        item = node(doc, "x", kind_id, "", parent=_host(doc, places[0]), **kind.defaults())
    text = titles.title(item, doc, ctx_graph, owner)
    assert text.strip() and "\n" not in text
    if kind.summary is None:
        assert text.startswith(kind.title)


def test_a_cost_table_other_than_ours_shows_after_the_target() -> None:
    doc = v2_docs.attention()
    wl = doc.graph.nodes["wl"]
    wl.props["cost_table"] = "ptoisa_a2a3"
    assert title_of(doc, "wl") == (
        "workload attention → cpu_sim (PTO-ISA A2/A3)  affinity(b) · streams 2 by h % 2 · immediate"
    )
    wl.props["target"] = "ascend_npu"  # prices no cycles: the table is not shown
    assert title_of(doc, "wl").startswith("workload attention → ascend_npu  ")
