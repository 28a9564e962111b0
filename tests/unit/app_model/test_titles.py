"""Node titles carry the key parameters (issue 13: "every Get is titled 'Get'")."""

from __future__ import annotations

import pytest

from app.model import registry, titles
from app.model.commands import DocumentEditor, SetProperty
from app.model.document import Document

from .conftest import add, wire


def title_of(ed: DocumentEditor, node_id: str) -> str:
    return titles.title(ed.doc.node(node_id), ed.doc)


def test_spec_8_1_reads_without_opening_anything(attention) -> None:
    ed, ids = attention
    assert title_of(ed, ids["Q"]) == "Q  f32[4,8,16,16]"
    assert title_of(ed, ids["K"]) == "K  f32[4,16,16]"
    assert title_of(ed, ids["batch"]) == "batch  DenseDyn 4"
    assert title_of(ed, ids["heads"]) == "heads  Dense 8"
    assert title_of(ed, ids["attn"]) == "attn_kernel(Q, K, V) → O"
    assert title_of(ed, ids["wl"]) == "workload attention"
    assert title_of(ed, ids["loop"]) == "P  b in batch × h in heads"
    assert title_of(ed, ids["call"]) == "attn_kernel[b, h]"
    assert title_of(ed, ids["compile"]) == "program → cpu_sim"
    doc = ed.doc
    gets = {
        n.props["target"]: titles.title(n, doc, g, o)
        for n, g, o in doc.walk()
        if n.kind == "data.get"
    }
    assert gets["Q"] == "Q" and gets["attn_kernel"] == "kernel attn_kernel"
    assert gets["batch"] == "axis batch"
    sched = {n.kind: titles.title(n, doc) for n in doc.graph.nodes.values()}
    # affinity takes no worker count (streams(n) sets it: DESIGN §2), so none is shown
    assert sched["sched.dispatch"] == "dispatch affinity(batch)"
    dispatch = next(n for n in doc.graph.nodes.values() if n.kind == "sched.dispatch")
    dispatch.props.update(policy="round_robin", n=4)
    assert titles.title(dispatch, doc) == "dispatch round_robin · 4 workers"
    assert sched["sched.streams"] == "streams 2"


def test_titles_follow_wires_and_properties(attention) -> None:
    ed, ids = attention
    loop = ed.doc.node(ids["loop"])
    # The loop's axes are titled in wire order: swapping the variables shows at once.
    ed.apply(SetProperty(ids["loop"], "vars", "h, b"))
    assert titles.title(loop, ed.doc) == "P  h in batch × b in heads"
    ed.apply(SetProperty(ids["Q"], "shape", [2, 16, 16]))
    ed.apply(SetProperty(ids["Q"], "dtype", "bf16"))
    assert title_of(ed, ids["Q"]) == "Q  bf16[2,16,16]"
    # A call without a kernel wire says so instead of pretending.
    bare = add(ed, "kernel.call", parent=ids["loop"], axes="b")
    assert title_of(ed, bare.id) == "call[b] (no kernel)"


def test_missing_get_target_and_short_keys() -> None:
    ed = DocumentEditor(Document(name="t"))
    wl = add(ed, "workload.def", name="w")
    get = add(ed, "data.get", parent=wl.id, target="nowhere")
    assert title_of(ed, get.id) == "Get nowhere (missing)"
    by = add(ed, "sched.stream_by", key='t.get("head") % 2')
    assert title_of(ed, by.id) == "stream_by head % 2"
    long_key = " + ".join(f't.get("axis{i}")' for i in range(20))
    ed.apply(SetProperty(by.id, "key", long_key))
    assert len(title_of(ed, by.id)) <= len("stream_by ") + titles.MAX_TEXT


@pytest.mark.parametrize("kind_id", sorted(registry.KINDS))
def test_every_kind_has_a_one_line_title(kind_id: str) -> None:
    """Fresh nodes of every kind, where they may live, get a non-empty single-line title."""
    kind = registry.KINDS[kind_id]
    if not kind.in_palette:
        pytest.skip("created only with its scope")
    ed = DocumentEditor(Document(name="t"))
    parent = None
    if "root" not in kind.allowed_in:
        host = "kernel.def" if "kernel" in kind.allowed_in else "workload.def"
        parent = add(ed, host, name="host").id
    node = add(ed, kind_id, parent=parent)
    text = title_of(ed, node.id)
    assert text.strip() and "\n" not in text
    if kind.summary is None:
        assert text.startswith(kind.title)


def test_schedule_changes_list_only_what_differs() -> None:
    ed = DocumentEditor(Document(name="t"))
    tg = add(ed, "sched.task_graph", window=16, ready="priority")
    assert title_of(ed, tg.id) == "task_graph window 16 · ready priority"
    wl = add(ed, "workload.def", name="w")
    wire(ed, wl.id, "workload", tg.id, "workload")
    assert title_of(ed, tg.id) == "task_graph window 16 · ready priority"
