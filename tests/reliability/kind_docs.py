"""A valid document holding a node of any registered kind, for tests that loop over the registry.

``document_with(kind_id)`` looks for the kind in the sample projects first; otherwise it adds a
node of that kind to a sample (format v2): on the root canvas, or as the last child of a frame
where it may live (a loop holding a call, else a workload; a case inside a new ``P.when``
chain; an instance inside a new ``combine``), its references set to nodes of the kinds they
name and every required input wired from a root node of the right type (from a kernel
parameter in kernel bodies). A frame that needs a child gets one. The first sample where the
result validates and exports is used, so a kind added later is covered without touching the
tests; a kind this cannot place fails loudly, naming it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from app.model import frames, io, registry
from app.model.document import Document, Edge, Graph, Node, PortRef
from app.model.export import ExportError, export_script
from app.model.validation import validate_document

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "app" / "projects").glob("*.pto.json"))

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
    if validate_document(doc):
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
            return n
    if type_ not in _MAKERS:
        raise LookupError(f"no root node outputs {type_}")
    kind_id, props = _MAKERS[type_]
    node = registry.new_node(kind_id, doc, **props)
    doc.graph.nodes[node.id] = node
    return node


def _wire_inputs(doc: Document, graph: Graph, owner: Node | None, node: Node) -> None:
    for port in registry.dynamic_ports(node, graph, owner, doc):
        if port.direction != "in" or port.optional or port.type == "exec":
            continue
        if owner is None:
            src = _root_with_output(doc, port.type)
            out = next(
                p.name
                for p in registry.KINDS[src.kind].ports
                if p.direction == "out" and p.type == port.type
            )
            graph.edges.append(Edge(PortRef(src.id, out), PortRef(node.id, port.name)))
            continue
        src = _tile_source(graph, owner, doc)  # owner: a kernel definition
        graph.edges.append(Edge(PortRef(src.id, "tile"), PortRef(node.id, port.name)))


def _tile_source(body: Graph, kern: Node, doc: Document) -> Node:
    for n in body.nodes.values():
        if n.kind == "kernel.param":
            ports = registry.dynamic_ports(n, body, kern, doc)
            if any(p.direction == "out" and p.type == "tile" for p in ports):
                return n
    raise LookupError("the kernel has no tile parameter")


def _statement_frame(doc: Document) -> Node:
    """The first loop frame holding a kernel call, else the first workload frame."""
    for n in doc.graph.nodes.values():
        if n.kind.startswith("loop.") and any(
            c.kind == "kernel.call" for c in frames.children(doc, n.id)
        ):
            return n
    for n in doc.graph.nodes.values():
        if n.kind == "workload.def":
            return n
    raise LookupError("no workload")


def _set_references(doc: Document, node: Node) -> None:
    """Point every reference property of ``node`` at a root node of a kind it may name."""
    for prop, key in registry.reference_props(node.kind).items():
        kinds = registry.reference_kinds(node.kind, prop)
        target = next(
            (n for n in doc.graph.nodes.values() if n.kind in kinds and n.parent is None), None
        )
        if target is None:
            target = registry.new_node(kinds[0], doc)
            doc.graph.nodes[target.id] = target
        if key is None:
            node.props[prop] = target.id
        else:
            node.props[prop] = [{"var": "q", key: target.id}]


def _add_in_frame(doc: Document, parent: Node, kind_id: str) -> Node:
    """A node of ``kind_id`` as the last child of ``parent``, referenced and wired."""
    node = registry.new_node(kind_id, doc)
    node.parent = parent.id
    doc.graph.nodes[node.id] = node
    _set_references(doc, node)
    for port in registry.ports_of(node, doc):
        if port.direction != "in" or port.optional:
            continue
        src = _root_with_output(doc, port.type)
        out = next(
            p.name
            for p in registry.ports_of(src, doc)
            if p.direction == "out" and p.type == port.type
        )
        doc.graph.edges.append(Edge(PortRef(src.id, out), PortRef(node.id, port.name)))
    if kind_id == "branch.chain":
        _add_in_frame(doc, node, "branch.case")
    return node


def _place(doc: Document, kind_id: str) -> Node:
    k = registry.kind(kind_id)
    if "root" in k.allowed_in:
        node = registry.new_node(kind_id, doc)
        doc.graph.nodes[node.id] = node
        _wire_inputs(doc, doc.graph, None, node)
        if kind_id.startswith("compose."):
            _add_in_frame(doc, node, "workload.instance")
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
    if "branch" in k.allowed_in:
        chain = _add_in_frame(doc, _statement_frame(doc), "branch.chain")
        return next(c for c in frames.children(doc, chain.id) if c.kind == kind_id)
    if "compose" in k.allowed_in:
        combine = _place(doc, "compose.combine")
        return next(c for c in frames.children(doc, combine.id) if c.kind == kind_id)
    return _add_in_frame(doc, _statement_frame(doc), kind_id)
