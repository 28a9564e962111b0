"""Arrange a graph so it reads left to right and fits a window (Edit > Arrange).

A project graph is laid out in **columns by role**: data (tensors, scalars) on the left, then
definitions (axes, kernels, events), then what runs (workloads, loops, calls, processes,
channels), then the schedule chain and the program on the right. A kernel body (tile ops) is
laid out by **dataflow** instead: each op one column right of the latest op it reads.

Inside a column, nodes keep their palette-category order, then their wiring order (a schedule
chain reads top to bottom) and then their previous position, so re-arranging is stable. A
column taller than the best height is wrapped into several; the height is chosen so the whole
layout has the shape of the window it is shown in (``aspect`` = width / height), which is what
lets a bundled sample open fitted at a readable zoom (issue 13: "open and fit at >= 0.6").

Pure model code: node sizes come from the caller (the canvas passes its laid-out node sizes;
:func:`estimated_size` stands in without a view).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import registry, titles
from .document import Document, Graph, Node

GAP_X = 70.0
"""Between columns: room for the wires that cross them."""
GAP_Y = 28.0
"""Between nodes of one column."""
DEFAULT_ASPECT = 1.6
"""The canvas of a 1400x900 Studio window is about 800x500 (docks take the rest)."""

COLUMN_OF_CATEGORY: dict[str, int] = {
    "Data": 0,
    "Internal": 0,
    "Axes": 1,
    "Kernels": 1,
    "Events": 1,
    "Tile ops": 2,
    "Workloads": 2,
    "Loops": 2,
    "Control": 2,
    "CSP": 2,
    "Slots": 2,
    "Layout": 2,
    "Schedule": 3,
    "Program": 3,
}
"""Palette category -> column of the role layout (left to right: data, definitions, what runs,
schedule). A category missing here (a new one) goes in the middle column."""
MIDDLE_COLUMN = 2


@dataclass(frozen=True)
class Size:
    width: float
    height: float


def estimated_size(node: Node, doc: Document, graph: Graph) -> Size:
    """A node's size without a view: title width (~7 px a character) and one row per port."""
    text = titles.title(node, doc, graph)
    ports = registry.ports_of(node, doc, graph)
    ins = sum(1 for p in ports if p.direction == "in")
    outs = len(ports) - ins
    return Size(max(160.0, 7.2 * len(text) + 40.0), 50.0 + 22.0 * max(ins, outs, 1))


def layout(
    doc: Document,
    graph: Graph,
    sizes: Mapping[str, tuple[float, float]] | None = None,
    aspect: float = DEFAULT_ASPECT,
) -> dict[str, tuple[float, float]]:
    """New top-left positions for every node of ``graph`` (a node id -> ``(x, y)``).

    ``sizes`` maps node ids to ``(width, height)``; missing ones are estimated. The result
    starts at (0, 0); nodes are not moved here (the caller applies one ``MoveNodes``).
    """
    if not graph.nodes:
        return {}
    size = {
        nid: Size(*sizes[nid])
        if sizes is not None and nid in sizes
        else estimated_size(n, doc, graph)
        for nid, n in graph.nodes.items()
    }
    order = _wiring_order(graph)
    if registry.scope_of_graph(doc, graph) == "kernel":
        columns = _dataflow_columns(graph, order)
    else:
        columns = _role_columns(graph, order)
    return _best_wrap(columns, size, aspect)


def _wiring_order(graph: Graph) -> dict[str, int]:
    """A topological rank of every node along its wires (ties: previous y, x, then creation),
    so a wired chain keeps its direction; nodes on a cycle keep their previous order."""
    preds: dict[str, set[str]] = {nid: set() for nid in graph.nodes}
    for e in graph.edges:
        if e.src.node in preds and e.dst.node in preds and e.src.node != e.dst.node:
            preds[e.dst.node].add(e.src.node)
    key = {nid: (n.pos[1], n.pos[0], i) for i, (nid, n) in enumerate(graph.nodes.items())}
    done: dict[str, int] = {}
    remaining = sorted(graph.nodes, key=key.__getitem__)
    while remaining:
        ready = [nid for nid in remaining if preds[nid] <= done.keys()]
        pick = ready[0] if ready else remaining[0]  # a cycle: take the first in place order
        done[pick] = len(done)
        remaining.remove(pick)
    return done


def _category_rank(node: Node) -> int:
    kind = registry.KINDS.get(node.kind)
    category = kind.category if kind is not None else ""
    order = registry.CATEGORY_ORDER
    return order.index(category) if category in order else len(order)


def _role_columns(graph: Graph, order: Mapping[str, int]) -> list[list[str]]:
    columns: dict[int, list[str]] = {}
    for nid, node in graph.nodes.items():
        kind = registry.KINDS.get(node.kind)
        col = COLUMN_OF_CATEGORY.get(kind.category if kind else "", MIDDLE_COLUMN)
        columns.setdefault(col, []).append(nid)
    return [
        sorted(ids, key=lambda i: (_category_rank(graph.nodes[i]), order[i]))
        for _col, ids in sorted(columns.items())
    ]


def _dataflow_columns(graph: Graph, order: Mapping[str, int]) -> list[list[str]]:
    """Longest-path layers: a node sits one column right of the latest node it reads."""
    preds: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        if e.src.node in preds and e.dst.node in preds:
            preds[e.dst.node].append(e.src.node)
    layer: dict[str, int] = {}
    for nid in sorted(graph.nodes, key=order.__getitem__):
        earlier = [layer[p] for p in preds[nid] if p in layer]
        layer[nid] = max(earlier, default=-1) + 1
    columns: dict[int, list[str]] = {}
    for nid in sorted(graph.nodes, key=order.__getitem__):
        columns.setdefault(layer[nid], []).append(nid)
    return [ids for _l, ids in sorted(columns.items())]


def _wrap(
    columns: list[list[str]], size: Mapping[str, Size], max_height: float
) -> dict[str, tuple[float, float]]:
    """Stack each column, starting a new one beside it when ``max_height`` would be passed."""
    pos: dict[str, tuple[float, float]] = {}
    x = 0.0
    for ids in columns:
        chunks: list[list[str]] = [[]]
        height = 0.0
        for nid in ids:
            h = size[nid].height
            if chunks[-1] and height + h > max_height:
                chunks.append([])
                height = 0.0
            chunks[-1].append(nid)
            height += h + GAP_Y
        for chunk in chunks:
            y = 0.0
            for nid in chunk:
                pos[nid] = (round(x, 1), round(y, 1))
                y += size[nid].height + GAP_Y
            x += max(size[nid].width for nid in chunk) + GAP_X
    return pos


def _extent(
    pos: Mapping[str, tuple[float, float]], size: Mapping[str, Size]
) -> tuple[float, float]:
    width = max(x + size[nid].width for nid, (x, _y) in pos.items())
    height = max(y + size[nid].height for nid, (_x, y) in pos.items())
    return width, height


def _best_wrap(
    columns: list[list[str]], size: Mapping[str, Size], aspect: float
) -> dict[str, tuple[float, float]]:
    """The wrap height whose layout is shown largest in a view of shape ``aspect``.

    A view ``aspect`` wide and 1 high shows a ``w x h`` layout at scale ``min(aspect/w, 1/h)``;
    every column-prefix height is a candidate (the tallest node is the least one).
    """
    tallest = max(s.height for s in size.values())
    candidates = {tallest}
    for ids in columns:
        height = 0.0
        for nid in ids:
            height += size[nid].height
            candidates.add(height)
            height += GAP_Y
    best: tuple[float, float, dict[str, tuple[float, float]]] | None = None
    for max_height in sorted(candidates):
        if max_height < tallest:
            continue
        pos = _wrap(columns, size, max_height)
        width, height = _extent(pos, size)
        scale = min(aspect / width, 1.0 / height)
        # Prefer the larger scale; on a tie the taller wrap (fewer, longer columns).
        if best is None or scale >= best[0] * (1 - 1e-9):
            best = (scale, max_height, pos)
    assert best is not None
    return best[2]
