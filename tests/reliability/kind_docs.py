"""A valid document holding a node of any registered kind, for tests that loop over the registry.

``document_with(kind_id)`` looks for the kind in the sample projects first; otherwise it adds a
node of that kind to a sample, wiring every required input from a node of the right type (a
root node reached through a ``data.get`` in bodies, a kernel parameter in kernel bodies) and
appending statements to an execution chain. The first sample where the result validates and
exports is used, so a kind added later is covered without touching the tests; a kind this
cannot place fails loudly, naming it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from app.model import io, registry
from app.model.document import Document, Edge, Graph, Node, PortRef
from app.model.export import ExportError, export_script

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "projects").glob("*.pto.json"))

# root kinds that make an output type, for inputs no node of the sample provides
_MAKERS = {
    "channel": ("csp.channel", {}),
    "event": ("event.def", {}),
    "scalar": ("data.scalar", {"value": 4}),
    "tensor": ("data.tensor", {"shape": [4, 16, 16]}),
    "axis": ("axis.dense", {"size": 4}),
}


class NoDocument(LookupError):
    """No sample could be extended into a valid document with this kind."""


@functools.cache
def _sample(path: Path) -> Document:
    return io.load(path)


def _samples() -> list[Document]:
    return [_sample(p).copy() for p in SAMPLES]


def _find(doc: Document, kind_id: str) -> Node | None:
    return next((n for n, _g, _o in doc.walk() if n.kind == kind_id), None)


def _ok(doc: Document) -> bool:
    if doc.validate():
        return False
    try:
        export_script(doc)
    except ExportError:
        return False
    return True


def document_with(kind_id: str) -> tuple[Document, str]:
    """``(document, id of a node of kind_id)``: a copy the caller may change freely."""
    for doc in _samples():
        node = _find(doc, kind_id)
        if node is not None and _ok(doc):
            return doc, node.id
    for doc in _samples():
        try:
            node = _place(doc, kind_id)
        except (LookupError, ValueError, StopIteration):
            continue
        if _ok(doc):
            return doc, node.id
    raise NoDocument(
        f"no sample project can hold a {kind_id} node: teach tests/reliability/kind_docs.py"
    )


# ------------------------------------------------------------------------------------------
def _root_with_output(doc: Document, type_: str) -> Node:
    for n in sorted(doc.graph.nodes.values(), key=lambda n: n.id):
        k = registry.KINDS[n.kind]
        if any(p.direction == "out" and p.type == type_ for p in k.ports) and n.name:
            if n.kind == "csp.process" or n.kind.startswith("sched."):
                continue  # a process feeds connect/replicate; a schedule already feeds something
            return n
    if type_ not in _MAKERS:
        raise LookupError(f"no root node outputs {type_}")
    kind_id, props = _MAKERS[type_]
    node = registry.new_node(kind_id, doc, **props)
    doc.graph.nodes[node.id] = node
    return node


def _wire_inputs(doc: Document, graph: Graph, owner: Node | None, node: Node) -> None:
    for port in registry.dynamic_or_static(node, graph, owner, doc):
        if port.direction != "in" or port.optional or port.type == "exec":
            continue
        if owner is None:
            if port.type == "workload" and node.kind in ("csp.replicate", "csp.connect"):
                src = next(n for n in doc.graph.nodes.values() if n.kind == "csp.process")
            else:
                src = _root_with_output(doc, port.type)
            out = next(
                p.name
                for p in registry.KINDS[src.kind].ports
                if p.direction == "out" and p.type == port.type
            )
            graph.edges.append(Edge(PortRef(src.id, out), PortRef(node.id, port.name)))
            continue
        if owner.kind == "kernel.def":
            src = _tile_source(graph, owner, doc)
            graph.edges.append(Edge(PortRef(src.id, "tile"), PortRef(node.id, port.name)))
            continue
        target = _root_with_output(doc, port.type)
        get = registry.new_node("data.get", doc, target=target.name)
        graph.nodes[get.id] = get
        graph.edges.append(Edge(PortRef(get.id, "out"), PortRef(node.id, port.name)))


def _tile_source(body: Graph, kern: Node, doc: Document) -> Node:
    for n in body.nodes.values():
        if n.kind == "kernel.param":
            ports = registry.dynamic_ports(n, body, kern, doc)
            if any(p.direction == "out" and p.type == "tile" for p in ports):
                return n
    raise LookupError("the kernel has no tile parameter")


def _chain_end(graph: Graph) -> Node:
    """The last statement of ``graph``'s execution chain (its entry when empty)."""
    nxt = {e.src.node: e.dst.node for e in graph.edges if e.src.port == "exec"}
    cur = next(n.id for n in graph.nodes.values() if n.kind == "scope.entry")
    while cur in nxt:
        cur = nxt[cur]
    return graph.nodes[cur]


def _statement_scope(doc: Document) -> tuple[Graph, Node]:
    """The body (and owner) of the first loop holding a kernel call, else of a workload."""
    for n, _g, _o in doc.walk():
        if n.kind.startswith("loop.") and n.body is not None:
            if any(c.kind == "kernel.call" for c in n.body.nodes.values()):
                return n.body, n
    for n in doc.graph.nodes.values():
        if n.kind == "workload.def" and n.body is not None:
            return n.body, n
    raise LookupError("no workload")


def _append(doc: Document, graph: Graph, owner: Node, kind_id: str) -> Node:
    node = registry.new_node(kind_id, doc)
    last = _chain_end(graph)
    graph.nodes[node.id] = node
    graph.edges.append(Edge(PortRef(last.id, "exec"), PortRef(node.id, "exec")))
    _wire_inputs(doc, graph, owner, node)
    return node


def _place(doc: Document, kind_id: str) -> Node:
    k = registry.kind(kind_id)
    if "root" in k.allowed_in:
        node = registry.new_node(kind_id, doc)
        doc.graph.nodes[node.id] = node
        _wire_inputs(doc, doc.graph, None, node)
        return node
    if "kernel" in k.allowed_in:
        kern = next(
            n
            for n in doc.graph.nodes.values()
            if n.kind == "kernel.def"
            and n.body is not None
            and any(c.kind.startswith("pto.") for c in n.body.nodes.values())
        )
        assert kern.body is not None
        node = registry.new_node(kind_id, doc)
        kern.body.nodes[node.id] = node
        _wire_inputs(doc, kern.body, kern, node)
        return node
    graph, owner = _statement_scope(doc)
    if kind_id == "branch.otherwise":
        _append(doc, graph, owner, "branch.when")
    return _append(doc, graph, owner, kind_id)
