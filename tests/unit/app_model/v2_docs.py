"""Format-v2 documents built directly from dataclasses (no commands, no registry defaults), so
the checks' tests state exactly what the document holds: spec §8.1 attention with the call in
a ``P(b, h)`` frame, tensors wired straight into the call's ports."""

from __future__ import annotations

from typing import Any

from app.model import registry
from app.model.document import Document, Edge, Node, PortRef

TILE_16 = [
    {"name": "Q", "direction": "In", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"},
    {"name": "K", "direction": "In", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"},
    {"name": "V", "direction": "In", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"},
    {"name": "O", "direction": "Out", "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"},
]
TENSOR_PROPS = {
    "dtype": "f32",
    "location": "Global",
    "layout": [],
    "mem": "default",
    "init": "zeros",
    "seed": 0,
    "path": "",
}
SHEET = {
    "dispatch": "affinity",
    "dispatch_n": 4,
    "dispatch_key": "b",
    "streams": 2,
    "stream_by": "h % 2",
    "timing": "immediate",
    "timing_param": 1,
    "task_graph": {},
    "spatial_map": [],
    "target": "cpu_sim",
}


def node(doc: Document, nid: str, kind: str, name: str = "", parent: str | None = None, **props: Any) -> Node:  # fmt: skip
    """A node with the registry's defaults for the properties not given; a kernel gets its
    body (entry and one parameter node per parameter, as the editor makes it)."""
    spec = registry.KINDS.get(kind)
    values = {**(spec.defaults() if spec is not None else {}), **props}
    n = Node(nid, kind, name, (0.0, 0.0), values, None, parent)
    doc.graph.nodes[nid] = n
    if kind == "kernel.def":
        registry.sync_kernel_params(doc, n)
    return n


def wire(doc: Document, src: str, sport: str, dst: str, dport: str) -> Edge:
    e = Edge(PortRef(src, sport), PortRef(dst, dport))
    doc.graph.edges.append(e)
    return e


def attention(
    params: list[dict[str, Any]] | None = None,
    loop_axes: tuple[tuple[str, str], ...] = (("b", "batch"), ("h", "heads")),
    index: dict[str, str] | None = None,
    shapes: dict[str, list[int]] | None = None,
) -> Document:
    """§8.1: Q, O [4, 8, 16, 16]; K, V [4, 16, 16]; axes batch (DenseDyn 4), heads (Dense 8);
    ``attn_kernel(Q, K, V) -> O`` with 16x16 tiles; workload ``attention`` holding
    ``P(b in batch, h in heads)`` holding the call (ids: the names, ``wl``, ``loop``, ``call``).

    ``index`` defaults to §8.1's (K and V indexed by ``b`` only); pass ``{}`` for all auto.
    """
    doc = Document(format_version=2, name="attention")
    sizes = {"Q": [4, 8, 16, 16], "K": [4, 16, 16], "V": [4, 16, 16], "O": [4, 8, 16, 16]}
    sizes.update(shapes or {})
    for t, shape in sizes.items():
        node(doc, t, "data.tensor", t, shape=shape, **TENSOR_PROPS)
    node(doc, "batch", "axis.dense_dyn", "batch", size=4)
    node(doc, "heads", "axis.dense", "heads", size=8)
    node(
        doc,
        "attn",
        "kernel.def",
        "attn_kernel",
        params=params if params is not None else TILE_16,
    )
    node(doc, "wl", "workload.def", "attention", **SHEET)
    axes = [{"var": v, "axis": a} for v, a in loop_axes]
    node(doc, "loop", "loop.parallel", "", parent="wl", axes=axes)
    node(
        doc,
        "call",
        "kernel.call",
        "call",
        parent="loop",
        kernel="attn",
        axes=None,
        index={"K": "b", "V": "b"} if index is None else index,
    )
    for t in ("Q", "K", "V"):
        wire(doc, t, "tensor", "call", t)
    wire(doc, "call", "O", "O", "write")
    return doc
