"""The Studio graph document: plain dataclasses, no Qt, no I/O (docs/graph-model.md).

The document is the single owner of the project's state; the editor view only mirrors it.
Everything here is data plus cheap navigation helpers (find a node and the graph that holds it,
walk all scopes). The whole-document questions that need the node kinds live above the kind
table: "is this document equal to that one?" (``equality.same_as``) and "what is wrong with
it?" (``validation.validate_document`` / ``validation.document_warnings``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
    and its severity: ``"error"`` (``validation.validate_document``; export refuses the document) or
    ``"warning"`` (``validation.document_warnings``; allowed, shown apart)."""

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
    folder: Path | None = field(default=None, compare=False, repr=False)
    """The folder of the file the document was loaded from or saved to (absolute), None while
    it is in no file. Not part of the content (never saved, never compared): it is where the
    document's relative file paths resolve (a kernel's ``cpp_body_path``, ``doc_files``)."""

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
