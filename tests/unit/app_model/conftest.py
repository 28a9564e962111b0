"""Fixtures for the app.model tests: the spec §8.1 attention example built through commands."""

from __future__ import annotations

import pytest

from app.model.commands import AddNode, Connect, DocumentEditor
from app.model.document import Document, PortRef


def add(ed: DocumentEditor, kind: str, parent: str | None = None, name: str | None = None, **props):
    return ed.apply(AddNode(kind, (0.0, 0.0), parent, name, **props)).node


def wire(ed: DocumentEditor, src: str, sport: str, dst: str, dport: str) -> None:
    ed.apply(Connect(PortRef(src, sport), PortRef(dst, dport)))


def entry_of(node) -> str:
    return next(n.id for n in node.body.nodes.values() if n.kind == "scope.entry")


def build_attention(ed: DocumentEditor) -> dict[str, str]:
    """Spec §8.1: tensors, axes, attn kernel, workload with P(batch, heads), schedule, compile."""
    ids: dict[str, str] = {}
    for t, shape in (("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("V", [4, 16, 16]), ("O", [4, 8, 16, 16])):  # fmt: skip
        ids[t] = add(ed, "data.tensor", name=t, shape=shape).id
    ids["batch"] = add(ed, "axis.dense_dyn", name="batch", size=4).id
    ids["heads"] = add(ed, "axis.dense", name="heads", size=8).id
    params = [
        {"name": "Q", "direction": "In"},
        {"name": "K", "direction": "In"},
        {"name": "V", "direction": "In"},
        {"name": "O", "direction": "Out"},
    ]
    ids["attn"] = add(ed, "kernel.def", name="attn_kernel", params=params).id
    wl = add(ed, "workload.def", name="attention")
    ids["wl"] = wl.id
    loop = add(ed, "loop.parallel", parent=wl.id, vars="b, h")
    ids["loop"] = loop.id
    wire(ed, entry_of(wl), "exec", loop.id, "exec")
    for axis in ("batch", "heads"):
        g = add(ed, "data.get", parent=wl.id, target=axis)
        wire(ed, g.id, "out", loop.id, "axes")
    call = add(
        ed,
        "kernel.call",
        parent=loop.id,
        axes="b, h",
        index={"Q": "b, h", "K": "b", "V": "b", "O": "b, h"},
    )
    ids["call"] = call.id
    wire(ed, entry_of(loop), "exec", call.id, "exec")
    kget = add(ed, "data.get", parent=loop.id, target="attn_kernel")
    wire(ed, kget.id, "out", call.id, "kernel")
    for t in ("Q", "K", "V", "O"):
        g = add(ed, "data.get", parent=loop.id, target=t)
        wire(ed, g.id, "out", call.id, t)
    d = add(ed, "sched.dispatch", policy="affinity", key='t.get("batch")')
    wire(ed, wl.id, "workload", d.id, "workload")
    s = add(ed, "sched.streams", n=2)
    wire(ed, d.id, "workload", s.id, "workload")
    c = add(ed, "compile.target")
    wire(ed, s.id, "workload", c.id, "workload")
    ids["compile"] = c.id
    return ids


@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="attention"))


@pytest.fixture
def attention(editor: DocumentEditor) -> tuple[DocumentEditor, dict[str, str]]:
    ids = build_attention(editor)
    return editor, ids
