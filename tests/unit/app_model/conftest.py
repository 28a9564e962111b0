"""Fixtures for the app.model tests: the spec §8.1 attention example (format v2) built through
commands."""

from __future__ import annotations

import pytest

from app.model.commands import AddNode, Connect, DocumentEditor
from app.model.document import Document, PortRef


def add(ed: DocumentEditor, kind: str, parent: str | None = None, name: str | None = None, **props):
    return ed.apply(AddNode(kind, (0.0, 0.0), parent, name, **props)).node


def wire(ed: DocumentEditor, src: str, sport: str, dst: str, dport: str) -> None:
    ed.apply(Connect(PortRef(src, sport), PortRef(dst, dport)))


def entry_of(node) -> str:
    """The ``scope.entry`` of a kernel definition's body (format v2: only kernels own one)."""
    return next(n.id for n in node.body.nodes.values() if n.kind == "scope.entry")


def build_attention(ed: DocumentEditor) -> dict[str, str]:
    """Spec §8.1 in format v2, built through commands: tensors wired straight into the ports
    of a call inside ``P(b, h)`` in the ``attention`` workload frame, whose sheet schedules it
    (affinity on b, 2 streams by h) and compiles it for cpu_sim."""
    ids: dict[str, str] = {}
    for t, shape in (("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("V", [4, 16, 16]), ("O", [4, 8, 16, 16])):  # fmt: skip
        ids[t] = add(ed, "data.tensor", name=t, shape=shape).id
    ids["batch"] = add(ed, "axis.dense_dyn", name="batch", size=4).id
    ids["heads"] = add(ed, "axis.dense", name="heads", size=8).id
    tile = {"kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"}
    params = [
        {"name": "Q", "direction": "In", **tile},
        {"name": "K", "direction": "In", **tile},
        {"name": "V", "direction": "In", **tile},
        {"name": "O", "direction": "Out", **tile},
    ]
    ids["attn"] = add(ed, "kernel.def", name="attn_kernel", params=params).id
    sheet = {
        "dispatch": "affinity",
        "dispatch_key": "b",
        "streams": 2,
        "stream_by": "h % 2",
        "target": "cpu_sim",
    }
    ids["wl"] = add(ed, "workload.def", name="attention", **sheet).id
    axes = [{"var": "b", "axis": ids["batch"]}, {"var": "h", "axis": ids["heads"]}]
    ids["loop"] = add(ed, "loop.parallel", parent=ids["wl"], axes=axes).id
    ids["call"] = add(
        ed, "kernel.call", parent=ids["loop"], kernel=ids["attn"], index={"K": "b", "V": "b"}
    ).id
    for t in ("Q", "K", "V"):
        wire(ed, ids[t], "tensor", ids["call"], t)
    wire(ed, ids["call"], "O", ids["O"], "write")
    return ids


@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="attention"))


@pytest.fixture
def attention(editor: DocumentEditor) -> tuple[DocumentEditor, dict[str, str]]:
    ids = build_attention(editor)
    return editor, ids
