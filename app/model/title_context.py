"""Where a node being titled lives: the context every title function receives.

Kept apart from ``app.model.titles`` because the kind table's data classes
(``kinds._base.NodeKind.summary``) name this type, while the title functions themselves read the
kind table: this module depends on the document alone, so both can import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .document import Document, Edge, Graph, Node


@dataclass
class TitleContext:
    """Where a node lives (``graph`` and its owning node ``owner``, for a kernel body) plus a
    lazy index of the wires of that graph.

    ``graph=None`` means "look it up" (once, on first need): callers titling one node of an
    unknown place (the find bar) pay one document walk; the canvas passes what it shows.
    """

    doc: Document
    graph: Graph | None = None
    owner: Node | None = None
    _located: bool = False
    _into: dict[tuple[str, str], list[Edge]] | None = field(default=None, repr=False)

    def holder(self, node: Node) -> Graph:
        """The graph holding ``node`` (the given one, else located in the document)."""
        if self.graph is None and not self._located:
            self._located = True
            if node.id in self.doc.graph.nodes:
                self.graph = self.doc.graph
            else:
                found = self.doc.locate(node.id)
                if found is not None:
                    _node, self.graph, self.owner = found
        return self.graph if self.graph is not None else self.doc.graph

    def ref(self, node: Node, prop: str) -> Node | None:
        """The root node a reference property of ``node`` names by id (None if it names none)."""
        return ref_node(self.doc, node.props.get(prop))

    def ref_name(self, node: Node, prop: str) -> str:
        """The name of what a reference property names (``?`` when it names nothing)."""
        target = self.ref(node, prop)
        return target.name if target is not None and target.name else "?"

    def sources(self, node: Node, port: str) -> list[Node]:
        """Nodes wired into ``node``'s input ``port``, in wire order."""
        graph = self.holder(node)
        if self._into is None:
            self._into = {}
            for e in graph.edges:
                self._into.setdefault((e.dst.node, e.dst.port), []).append(e)
        found = (graph.nodes.get(e.src.node) for e in self._into.get((node.id, port), []))
        return [n for n in found if n is not None]

    def source_name(self, node: Node, port: str) -> str:
        """The name of what is wired into ``port`` (``?`` when nothing is)."""
        found = self.sources(node, port)
        return found[0].name if found and found[0].name else "?"


Summary = Callable[[Node, TitleContext], str]
"""A kind's title function: the node and where it lives -> one line ("" = use the default)."""


def ref_node(doc: Document, ref: Any) -> Node | None:
    """The root-canvas node with id ``ref`` (a reference property's value), or None."""
    return doc.graph.nodes.get(ref) if isinstance(ref, str) else None


__all__ = ["TitleContext", "Summary", "ref_node"]
