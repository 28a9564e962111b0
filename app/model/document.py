"""The Studio graph document: plain dataclasses, no Qt, no I/O (docs/graph-model.md).

The document is the single owner of the project's state; the editor view only mirrors it.
Everything here is data plus cheap navigation helpers (find a node and the graph that holds it,
walk all scopes) and the two whole-document questions every layer asks: "is this document
equal to that one?" (``same_as``) and "what is wrong with it?" (``validate``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 2
"""The project-file format this build writes (older versions are migrated by ``io``)."""


@dataclass(frozen=True, order=True)
class PortRef:
    """One port of one node: ``node`` is a node id, ``port`` the port name."""

    node: str
    port: str

    def __str__(self) -> str:
        return f"{self.node}.{self.port}"


@dataclass
class Edge:
    """A connection from an output port (``src``) to an input port (``dst``) in one graph."""

    src: PortRef
    dst: PortRef


@dataclass
class Backdrop:
    """A coloured rectangle with a title and a note drawn behind nodes (pure annotation)."""

    id: str
    title: str = ""
    note: str = ""
    rect: tuple[float, float, float, float] = (0.0, 0.0, 400.0, 300.0)
    color: str = "#3a3f4b"


@dataclass
class Node:
    """One node (docs/graph-model.md).

    ``parent`` is the id of the enclosing frame (a node of the same graph whose kind is a frame
    kind), ``None`` for a node directly on its canvas. ``body`` is the sub-canvas of a kernel
    definition (its tile-op dataflow); no other kind owns a body in format v2.
    """

    id: str
    kind: str
    name: str = ""
    pos: tuple[float, float] = (0.0, 0.0)
    props: dict[str, Any] = field(default_factory=dict)
    body: Graph | None = None
    parent: str | None = None


@dataclass
class Graph:
    """Nodes by id, edges in order (order matters for ``multi`` inputs), backdrops."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    backdrops: list[Backdrop] = field(default_factory=list)

    def edges_into(self, node_id: str, port: str | None = None) -> list[Edge]:
        """Edges whose destination is ``node_id`` (optionally only its input ``port``)."""
        return [
            e for e in self.edges if e.dst.node == node_id and (port is None or e.dst.port == port)
        ]

    def edges_from(self, node_id: str, port: str | None = None) -> list[Edge]:
        """Edges whose source is ``node_id`` (optionally only its output ``port``)."""
        return [
            e for e in self.edges if e.src.node == node_id and (port is None or e.src.port == port)
        ]

    def edges_of(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src.node == node_id or e.dst.node == node_id]


@dataclass(frozen=True)
class Diagnostic:
    """A problem in a document: the node at fault (or ``""``), the field, a readable message,
    and its severity: ``"error"`` (``Document.validate``; export refuses the document) or
    ``"warning"`` (``Document.warnings``; allowed, shown apart)."""

    node_id: str
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = ".".join(p for p in (self.node_id, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


@dataclass
class Document:
    """A whole project: the root graph plus settings (target, workers, ...)."""

    format_version: int = FORMAT_VERSION
    name: str = "untitled"
    graph: Graph = field(default_factory=Graph)
    settings: dict[str, Any] = field(default_factory=dict)

    # -- navigation ------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[Node, Graph, Node | None]]:
        """Every node of every scope as ``(node, graph holding it, owning scope node or None)``."""
        stack: list[tuple[Graph, Node | None]] = [(self.graph, None)]
        while stack:
            graph, owner = stack.pop()
            for node in graph.nodes.values():
                yield node, graph, owner
                if node.body is not None:
                    stack.append((node.body, node))

    def graphs(self) -> Iterator[tuple[Graph, Node | None]]:
        """Every graph (root first) with the scope node that owns it (None for the root)."""
        yield self.graph, None
        for node, _graph, _owner in self.walk():
            if node.body is not None:
                yield node.body, node

    def locate(self, node_id: str) -> tuple[Node, Graph, Node | None] | None:
        """``(node, graph, owner)`` for ``node_id``, or None when there is no such node."""
        for node, graph, owner in self.walk():
            if node.id == node_id:
                return node, graph, owner
        return None

    def node(self, node_id: str) -> Node:
        """The node with this id anywhere in the document; KeyError naming it otherwise."""
        found = self.locate(node_id)
        if found is None:
            raise KeyError(f"no node {node_id!r} in document {self.name!r}")
        return found[0]

    def graph_of(self, node_id: str) -> Graph:
        """The graph (root or scope body) that directly holds ``node_id``."""
        found = self.locate(node_id)
        if found is None:
            raise KeyError(f"no node {node_id!r} in document {self.name!r}")
        return found[1]

    def owner_of(self, graph: Graph) -> Node | None:
        """The scope node whose body is ``graph`` (None for the root graph)."""
        for g, owner in self.graphs():
            if g is graph:
                return owner
        raise KeyError("graph is not part of this document")

    def scope_chain(self, graph: Graph) -> list[Node]:
        """Scope nodes from the outermost to the one owning ``graph`` (empty for the root)."""
        parents: dict[int, tuple[Node, Graph]] = {}
        for node, holder, _owner in self.walk():
            if node.body is not None:
                parents[id(node.body)] = (node, holder)
        chain: list[Node] = []
        current = graph
        while id(current) in parents:
            owner, holder = parents[id(current)]
            chain.append(owner)
            current = holder
        chain.reverse()
        return chain

    def all_ids(self) -> set[str]:
        ids = {n.id for n, _g, _o in self.walk()}
        for graph, _owner in self.graphs():
            ids.update(b.id for b in graph.backdrops)
        return ids

    def next_id(self, prefix: str = "n") -> str:
        """A fresh id ``<prefix><k>`` unique across the document (sub-graphs included)."""
        used = self.all_ids()
        best = 0
        for ident in used:
            if ident.startswith(prefix) and ident[len(prefix) :].isdigit():
                best = max(best, int(ident[len(prefix) :]))
        return f"{prefix}{best + 1}"

    def copy(self) -> Document:
        return copy.deepcopy(self)

    # -- equality ---------------------------------------------------------------------------
    def same_as(self, other: Document) -> bool:
        """Equal kinds, names, props, frames, edges and bodies; ids, positions, backdrops ignored.

        Frames compare by kind, name, props and their children in order (child order is the
        statement order export keeps); nodes on a canvas compare as a multiset.
        """
        return _canonical_graph(self.graph) == _canonical_graph(other.graph)

    # -- validation -------------------------------------------------------------------------
    def validate(self) -> list[Diagnostic]:
        """Every problem found; never raises for a well-formed document (see ``validation``)."""
        from .validation import validate_document

        return validate_document(self)

    def warnings(self) -> list[Diagnostic]:
        """What is allowed but worth seeing (severity ``"warning"``; see ``validation``)."""
        from .validation import document_warnings

        return document_warnings(self)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _canonical_graph(graph: Graph) -> tuple[Any, ...]:
    """An id-free description of a graph: frame trees in child order, edges per input port.

    Every node gets a *tree* signature (kind, name, props, body, and the tree signatures of its
    children in order) and a *place* signature (its tree signature plus, for each enclosing
    frame, that frame's tree signature and the node's index among its siblings), so two documents
    are equal exactly when their frame trees are equal and their edges join equal places.
    """
    kids: dict[str | None, list[Node]] = {}
    for node in graph.nodes.values():
        parent = node.parent if node.parent in graph.nodes else None
        kids.setdefault(parent, []).append(node)
    tree: dict[str, str] = {}

    def tree_sig(node: Node, seen: frozenset[str]) -> str:
        if node.id in tree:
            return tree[node.id]
        if node.id in seen:  # a parent cycle: not a tree; describe without the children
            return _canonical_json([node.kind, node.name, _ref_free_props(node, graph), "cycle"])
        body = _canonical_graph(node.body) if node.body is not None else None
        children = [tree_sig(c, seen | {node.id}) for c in kids.get(node.id, [])]
        props = _ref_free_props(node, graph)
        text = _canonical_json([node.kind, node.name, props, repr(body), children])
        tree[node.id] = hashlib.sha256(text.encode()).hexdigest()  # nesting stays linear
        return tree[node.id]

    for node in graph.nodes.values():
        tree_sig(node, frozenset())
    return _signatures(graph, kids, tree)


def _ref_free_props(node: Node, graph: Graph) -> Any:
    """``node.props`` in canonical form, so documents that mean the same compare equal:

    - every reference (a property holding a node id, per the registry) is replaced by the
      referenced node's kind and name (equal documents with other ids agree);
    - a non-empty settings dict (the sheet's ``task_graph``) has its unset fields at their
      defaults (``{"deps": "infer"}`` is the full settings with deps=infer; ``{}`` stays "not
      set", which exports differently);
    - a kernel's parameters carry exactly their kind's fields, defaults filled in
      (``registry.normalize_param``).
    """
    from . import registry  # registry imports this module

    spec = registry.KINDS.get(node.kind)
    if spec is None:
        return node.props
    props = dict(node.props)

    def resolve(value: Any) -> Any:
        target = graph.nodes.get(value) if isinstance(value, str) else None
        return ["->", target.kind, target.name] if target is not None else value

    for name, sub in registry.reference_props(node.kind).items():
        if name not in props:
            continue
        if sub is None:
            props[name] = resolve(props[name])
        elif isinstance(props[name], list):
            props[name] = [
                {**e, sub: resolve(e.get(sub))} if isinstance(e, dict) else e for e in props[name]
            ]
    for p in spec.props:
        value = props.get(p.name)
        if p.type == "dict" and isinstance(value, dict) and value:
            props[p.name] = {**{f.name: f.default for f in p.fields}, **value}
        elif p.type == "params" and isinstance(value, list):
            props[p.name] = [
                registry.normalize_param(q)
                if isinstance(q, dict) and isinstance(q.get("name"), str)
                else q  # fmt: skip
                for q in value
            ]
    return props


def _signatures(graph: Graph, kids: dict[str | None, list[Node]], tree: dict[str, str]) -> tuple[Any, ...]:  # fmt: skip
    index_of = {n.id: i for members in kids.values() for i, n in enumerate(members)}
    place: dict[str, str] = {}
    for parent, members in kids.items():
        for index, node in enumerate(members):
            chain: list[Any] = [tree[node.id]]
            current, position, hops = parent, index, 0
            while current is not None and hops <= len(graph.nodes):
                chain.append([tree[current], position])
                holder = graph.nodes[current]
                up = holder.parent if holder.parent in graph.nodes else None
                position = index_of[current]
                current, hops = up, hops + 1
            place[node.id] = _canonical_json(chain)
    roots = Counter(tree[n.id] for n in kids.get(None, []))
    ordinal: Counter[tuple[str, str]] = Counter()
    edges: Counter[tuple[str, str, str, str, int]] = Counter()
    for e in graph.edges:
        key = (e.dst.node, e.dst.port)
        edges[(place.get(e.src.node, e.src.node), e.src.port, place.get(e.dst.node, e.dst.node), e.dst.port, ordinal[key])] += 1  # fmt: skip
        ordinal[key] += 1
    return (sorted(roots.items()), sorted(edges.items()))


__all__ = [
    "FORMAT_VERSION",
    "PortRef",
    "Edge",
    "Backdrop",
    "Node",
    "Graph",
    "Diagnostic",
    "Document",
]
