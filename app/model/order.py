"""Statement order against the dataflow drawn (docs/semantics.md, "Statement order in the Studio").

A frame's child order is the program order: export writes the children exactly in that order
(order is semantics to the simulator: WAR/WAW between calls on one tensor, round-robin workers,
stream order). Editing keeps it agreeing with the wires the user draws (``commands`` moves a
reader after its writer when a new wire needs it), and validation warns where a reader stands
before a writer of the same tensor (a write-after-read by order, allowed). This module holds the
Qt-free facts both use:

- ``statements_of``: two nodes' sibling-ancestors at the level of their nearest common frame
  (the statements whose order decides which runs first);
- ``flows_through``: the (writer, reader) node pairs a wire makes (writer -> tensor -> reader, or
  a statement's output straight into another);
- ``sibling_flow``: among a frame's children, which writes what another reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import frames
from .document import Document, Edge, Node
from .kind_lookup import kind_of


def statements_of(doc: Document, a_id: str, b_id: str) -> tuple[Node, Node] | None:
    """The children of the nearest frame enclosing both ``a_id`` and ``b_id`` that hold them
    (each the node itself or the frame around it there), as ``(a's, b's)``. None when the two
    share no frame (root canvas nodes, different workloads), when one holds the other, or when
    they are cases of one ``P.when`` chain (exclusive branches, whose order is the chain's
    meaning, not a schedule)."""
    nodes = doc.graph.nodes
    a, b = nodes.get(a_id), nodes.get(b_id)
    if a is None or b is None or a_id == b_id:
        return None
    chain_a = [*frames.ancestors(doc, a_id), a]
    chain_b = [*frames.ancestors(doc, b_id), b]
    i = 0
    while i < len(chain_a) and i < len(chain_b) and chain_a[i].id == chain_b[i].id:
        i += 1
    if i == 0 or i >= len(chain_a) or i >= len(chain_b):
        return None
    sa, sb = chain_a[i], chain_b[i]
    if kind_of(sa).case or kind_of(sb).case:
        return None
    return sa, sb


def flows_through(doc: Document, edges: Iterable[Edge]) -> list[tuple[str, str]]:
    """The ``(writer, reader)`` node-id pairs the wires ``edges`` (on the root canvas) take
    part in: the wire's own ends (a statement's output used by another), a writer of the wire's
    source to the wire's reader, and the wire's writer to every reader of what it writes.
    Pairs that share no frame are kept; ``statements_of`` tells which order them."""
    graph = doc.graph
    out: dict[tuple[str, str], None] = {}
    for e in edges:
        s, d = e.src.node, e.dst.node
        out[(s, d)] = None
        for f in graph.edges:
            if f.src.node == d and f.dst.node != s:
                out[(s, f.dst.node)] = None
            if f.dst.node == s and f.src.node != d:
                out[(f.src.node, d)] = None
    return [p for p in out if p[0] != p[1]]


def sibling_flow(doc: Document, parent: str | None) -> tuple[list[str], dict[str, set[str]]]:
    """The children of ``parent`` (in order) and, for each, the siblings that read what its
    subtree writes (a tensor it writes, or its own output) — the data dependencies among them."""
    sibs = [n.id for n in frames.children(doc, parent)]
    owner: dict[str, str] = {}
    for s in sibs:
        owner[s] = s
        for d in frames.iter_descendants(doc, s):
            owner[d.id] = s
    writes: dict[str, set[str]] = {s: {s} for s in sibs}
    reads: dict[str, set[str]] = {s: set() for s in sibs}
    for e in doc.graph.edges:
        src, dst = owner.get(e.src.node), owner.get(e.dst.node)
        if src is not None and src != dst:
            writes[src].add(e.dst.node)
            writes[src].add(e.src.node)
        if dst is not None and src != dst:
            reads[dst].add(e.src.node)
    flow: dict[str, set[str]] = {s: set() for s in sibs}
    for a in sibs:
        for b in sibs:
            if a != b and writes[a] & reads[b]:
                flow[a].add(b)
    return sibs, flow


def downstream(flow: dict[str, set[str]], start: str, within: Iterable[str]) -> set[str]:
    """The siblings in ``within`` that depend on ``start`` through ``flow``, transitively
    (through any sibling), ``start`` left out unless a cycle leads back to it."""
    allowed = set(within)
    seen: set[str] = set()
    todo = [start]
    while todo:
        cur = todo.pop()
        for nxt in flow.get(cur, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen & (allowed | {start})


__all__ = ["downstream", "flows_through", "sibling_flow", "statements_of"]
