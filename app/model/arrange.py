"""Arrange a canvas so it reads left to right and fits a window (Edit > Arrange).

The root canvas of a v2 document (docs/graph-model.md) is laid out **by dataflow, frame by
frame**: inside every frame (and on the root) the children are placed in columns, each child
one column right of the latest sibling it reads from — a wire from a tensor into a call deep
inside a workload frame counts as a wire into that frame, and a call writing a root tensor that
a sibling reads comes before that sibling — so a workload reads inputs -> calls -> outputs.
Frames are laid out bottom-up: a frame is as large as its children plus padding and header,
exactly as the view sizes it (``frame_size``), so nothing overlaps and every child sits inside
its frame.

The whole canvas is fitted to the shape of the window it is shown in (``aspect`` = width /
height), which is what lets a bundled sample open fitted at a readable zoom (issue 13: "open
and fit at >= 0.6"): unwired definitions (axes, kernels, channels, events) go in rows above
the flow, in a column left of it, or into the room under its short columns; unwired frames
(programs) stand right of it; a root column taller than the best height wraps into several;
and a frame whose columns make the canvas too wide folds them into rows (read left to right,
then the next row; one column per row stacks its children top to bottom) — whichever shows the
canvas largest.

A kernel body (tile ops) is laid out by dataflow as well, with no frames.

Inside a column, children keep their order (a frame's child order; on the root, definitions
by palette category), so re-arranging is stable.

Pure model code: node sizes come from the caller (the canvas passes its laid-out node sizes
and, for frames, header heights and minimum widths); :func:`estimated_size` and
:func:`estimated_header` stand in without a view.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

from . import catalogue, kind_lookup, node_ports, titles
from .document import Document, Graph, Node

GAP_X = 60.0
"""Between columns: room for the wires that cross them."""
GAP_Y = 20.0
"""Between nodes of one column."""
DEFAULT_ASPECT = 1.6
"""The canvas of a 1400x900 Studio window is about 800x500 (docks take the rest)."""

FRAME_PAD = 26.0
"""Space between a frame's border and its children (the view's ``frames.FRAME_PAD``)."""
HEADER_H = 34.0
"""A frame header's title line."""
SUMMARY_H = 24.0
"""The second header line of a frame that carries a schedule sheet."""
EMPTY_W, EMPTY_H = 260.0, 130.0
"""The size of a frame's inside when it holds nothing."""


@dataclass(frozen=True)
class Size:
    width: float
    height: float


def estimated_size(node: Node, doc: Document, graph: Graph) -> Size:
    """A node's size without a view: title width (~7 px a character) and one row per port."""
    text = titles.title(node, doc, graph)
    ports = node_ports.ports_of(node, doc, graph) if graph is not doc.graph else node_ports.ports_of(node, doc)  # fmt: skip
    ins = sum(1 for p in ports if p.direction == "in")
    outs = len(ports) - ins
    return Size(max(160.0, 7.2 * len(text) + 40.0), 50.0 + 22.0 * max(ins, outs, 1))


def estimated_header(node: Node, doc: Document) -> tuple[float, float]:
    """A frame's ``(header height, minimum width)`` without a view."""
    text = titles.title(node, doc, doc.graph)
    look = kind_lookup.kind_of(node).frame_style
    header = HEADER_H + (SUMMARY_H if look is not None and look.summary else 0.0)
    return header, 9.5 * len(text) + 24.0


def frame_size(content: Size | None, header: float, min_width: float) -> Size:
    """A frame's outer size around ``content`` (None: an empty frame), as the view draws it."""
    if content is None:
        return Size(max(EMPTY_W, min_width), EMPTY_H + header)
    return Size(max(content.width + 2 * FRAME_PAD, min_width), content.height + header + 2 * FRAME_PAD)  # fmt: skip


def _is_frame(node: Node) -> bool:
    k = catalogue.KINDS.get(node.kind)
    return bool(k is not None and getattr(k, "frame", False))


def layout(
    doc: Document,
    graph: Graph,
    sizes: Mapping[str, tuple[float, float]] | None = None,
    aspect: float = DEFAULT_ASPECT,
    headers: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, tuple[float, float]]:
    """New top-left positions for every node of ``graph`` (a node id -> ``(x, y)``).

    ``sizes`` maps (non-frame) node ids to ``(width, height)``; ``headers`` maps frame ids to
    ``(header height, minimum width)``; missing ones are estimated. A frame's position is its
    top-left corner. The result starts at (0, 0); nodes are not moved here (the caller applies
    one ``MoveNodes``).
    """
    if not graph.nodes:
        return {}
    order = {nid: i for i, nid in enumerate(graph.nodes)}
    if graph is not doc.graph:
        size = {nid: _leaf_size(n, doc, graph, sizes) for nid, n in graph.nodes.items()}
        columns = _dataflow_columns(graph, list(graph.nodes), _sibling_edges(graph, {n: n for n in graph.nodes}))  # fmt: skip
        return _best_wrap(columns, size, aspect)
    return _Frames(doc, graph, sizes, headers, order).root(aspect)


def _leaf_size(node: Node, doc: Document, graph: Graph, sizes: Mapping[str, tuple[float, float]] | None) -> Size:  # fmt: skip
    if sizes is not None and node.id in sizes:
        return Size(*sizes[node.id])
    return estimated_size(node, doc, graph)


MAX_FOLD_TRIES = 12
"""Frames (the widest) ``arrange`` tries folding into rows."""
FOLD_SEARCH_MAX_NODES = 400
"""Above this many root-canvas nodes frames are not folded (each try lays the canvas out)."""


class _Frames:
    """The bottom-up frame layout of a root canvas."""

    def __init__(
        self,
        doc: Document,
        graph: Graph,
        sizes: Mapping[str, tuple[float, float]] | None,
        headers: Mapping[str, tuple[float, float]] | None,
        order: Mapping[str, int],
    ) -> None:
        self.doc, self.graph, self.sizes, self.headers, self.order = (
            doc,
            graph,
            sizes,
            headers,
            order,
        )
        nodes = graph.nodes
        self.kids: dict[str | None, list[str]] = {}
        for nid, n in nodes.items():
            parent = n.parent if n.parent in nodes and _is_frame(nodes[n.parent]) else None
            self.kids.setdefault(parent, []).append(nid)
        self.parent = {nid: p for p, ids in self.kids.items() for nid in ids}
        self.size: dict[str, Size] = {}
        self.local: dict[str, dict[str, tuple[float, float]]] = {}  # frame -> child offsets
        self.header: dict[str, float] = {}
        self.fold: dict[str, int] = {}  # frame -> dataflow columns per row (folded frames)
        self._leaf: dict[str, Size] = {}
        self._cols: dict[str | None, list[list[str]]] = {}

    def _columns(self, container: str | None) -> list[list[str]]:
        if container not in self._cols:
            self._cols[container] = self._dataflow(container)
        return self._cols[container]

    def _dataflow(self, container: str | None) -> list[list[str]]:
        members = self.kids.get(container, [])
        rep = {n: m for m in members for n in self._subtree(m)}  # node -> the member holding it
        edges = _sibling_edges(self.graph, rep)
        if container is not None:
            # a member writing a node outside the frame (a root tensor) that another member
            # reads comes first: the data passes through the outside node
            writers: dict[str, set[str]] = {}
            for e in self.graph.edges:
                if e.src.node in rep and e.dst.node not in rep:
                    writers.setdefault(e.dst.node, set()).add(rep[e.src.node])
            for e in self.graph.edges:
                if e.src.node in writers and e.dst.node in rep:
                    edges += [(w, rep[e.dst.node]) for w in writers[e.src.node] if w != rep[e.dst.node]]  # fmt: skip
            return _dataflow_columns(self.graph, members, edges)
        defs, flow = self._root_parts(members, edges)
        return [c for c in [defs, *flow] if c]

    def _root_parts(self, members: list[str], edges: list[tuple[str, str]]) -> tuple[list[str], list[list[str]]]:  # fmt: skip
        """The root's unwired definitions, and its flow: dataflow columns of the wired nodes
        then a column of the unwired frames (programs)."""
        wired = {a for a, b in edges} | {b for a, b in edges}
        defs = [m for m in members if m not in wired and not _is_frame(self.graph.nodes[m])]
        progs = [m for m in members if m not in wired and _is_frame(self.graph.nodes[m])]
        flow = _dataflow_columns(self.graph, [m for m in members if m in wired], edges)
        defs.sort(key=lambda i: (_category_rank(self.graph.nodes[i]), self.order[i]))
        return defs, [c for c in [*flow, progs] if c]

    def _measure(self, nid: str) -> Size:
        node = self.graph.nodes[nid]
        if not _is_frame(node):
            if nid not in self._leaf:
                self._leaf[nid] = _leaf_size(node, self.doc, self.graph, self.sizes)
            return self._leaf[nid]
        header, min_w = (
            self.headers[nid] if self.headers and nid in self.headers else estimated_header(node, self.doc)
        )  # fmt: skip
        self.header[nid] = header
        if not self.kids.get(nid):
            self.local[nid] = {}
            return frame_size(None, header, min_w)
        columns = self._columns(nid)
        sizes = {c: self._measure(c) for col in columns for c in col}
        local = _stack(columns, sizes, self.fold.get(nid))
        self.local[nid] = local
        return frame_size(_extent(local, sizes), header, min_w)

    def root(self, aspect: float) -> dict[str, tuple[float, float]]:
        """Lay out the root canvas so it shows as large as it can in a view of shape
        ``aspect``: frames read left to right, but a frame whose columns make the canvas too
        wide folds them into rows (like lines of text; one column per row stacks them top to
        bottom), widest frames tried first, a fold kept when the whole canvas shows larger."""
        members = self.kids.get(None, [])
        edges = _sibling_edges(self.graph, {n: c for c in members for n in self._subtree(c)})
        defs, flow = self._root_parts(members, edges)
        best, best_scale = self._root_layout(defs, flow, aspect)
        tries = [
            f
            for f in self.graph.nodes
            if f in self.local and f in self.kids and len(self._columns(f)) > 1
        ]
        width = {f: self._frame_width(f) for f in tries}
        tries = sorted(tries, key=lambda f: (-width[f], self.order[f]))[:MAX_FOLD_TRIES]
        if len(self.graph.nodes) > FOLD_SEARCH_MAX_NODES:
            tries = []  # a big canvas is read by zooming in anyway: keep Arrange quick
        for f in tries:
            ext = _extent(best, self.size)
            if aspect / ext.width >= 1.0 / ext.height:
                break  # the height bounds the scale: folding (taller) cannot help
            n = len(self._columns(f))
            kept = None
            for per_row in sorted({n - 1, (n + 1) // 2, 1}, reverse=True):
                self.fold[f] = per_row
                pos, scale = self._root_layout(defs, flow, aspect)
                if scale > best_scale * 1.01:
                    best, best_scale, kept = pos, scale, per_row
            if kept is None:
                del self.fold[f]
            else:
                self.fold[f] = kept
        self._root_layout(defs, flow, aspect)  # the kept choice's frame contents
        out: dict[str, tuple[float, float]] = {}
        for nid, (x, y) in best.items():
            self._place(nid, x, y, out)
        return out

    def _frame_width(self, f: str) -> float:
        local = self.local.get(f, {})
        return max((x for x, _y in local.values()), default=0.0)

    def _root_layout(
        self, defs: list[str], flow: list[list[str]], aspect: float
    ) -> tuple[dict[str, tuple[float, float]], float]:
        """Definitions in rows above the flow, in a column left of it, or in the room left
        under the flow's short columns: whichever shows the whole canvas larger (the earlier
        on a near tie). Returns positions and their scale."""
        self.size = {}
        for nid in defs + [n for col in flow for n in col]:
            self.size[nid] = self._measure(nid)
        candidates: list[dict[str, tuple[float, float]]] = []
        fpos = _best_wrap(flow, self.size, aspect) if defs and flow else {}
        if defs and flow:
            width = max(_extent(fpos, self.size).width, max(self.size[d].width for d in defs))
            dpos = _rows(defs, self.size, width)
            shift = _extent(dpos, self.size).height + 2 * GAP_Y
            candidates.append({**dpos, **{n: (x, y + shift) for n, (x, y) in fpos.items()}})
        candidates.append(_best_wrap([c for c in [defs, *flow] if c], self.size, aspect))
        if defs and flow:
            filled = _fill(defs, fpos, self.size)
            if filled is not None:
                candidates.append(filled)

        def scale(pos: Mapping[str, tuple[float, float]]) -> float:
            ext = _extent(pos, self.size)
            return min(aspect / ext.width, 1.0 / ext.height)

        best = candidates[0]
        for other in candidates[1:]:
            if scale(other) > scale(best) * 1.01:
                best = other
        return best, scale(best)

    def _subtree(self, nid: str) -> list[str]:
        out, stack = [], [nid]
        while stack:
            cur = stack.pop()
            out.append(cur)
            stack.extend(self.kids.get(cur, []))
        return out

    def _place(self, nid: str, x: float, y: float, out: dict[str, tuple[float, float]]) -> None:
        out[nid] = (round(x, 1), round(y, 1))
        for child, (cx, cy) in self.local.get(nid, {}).items():
            self._place(child, x + FRAME_PAD + cx, y + self.header[nid] + FRAME_PAD + cy, out)


def _sibling_edges(graph: Graph, rep: Mapping[str, str]) -> list[tuple[str, str]]:
    """Wires between two different members (a wire's ends lifted to the member holding them)."""
    out: list[tuple[str, str]] = []
    for e in graph.edges:
        a, b = rep.get(e.src.node), rep.get(e.dst.node)
        if a is not None and b is not None and a != b:
            out.append((a, b))
    return out


def _category_rank(node: Node) -> int:
    kind = catalogue.KINDS.get(node.kind)
    category = kind.category if kind is not None else ""
    order = catalogue.CATEGORY_ORDER
    return order.index(category) if category in order else len(order)


def _dataflow_columns(graph: Graph, members: list[str], edges: list[tuple[str, str]]) -> list[list[str]]:  # fmt: skip
    """Longest-path layers: a member sits one column right of the latest member it reads.

    On a cycle (a call reading and writing one tensor) the data node of the cycle comes first,
    so it stands left of its reader: inside a strongly connected group only the wires from
    data to frames (then by category and member order) count.
    """
    index = {m: i for i, m in enumerate(members)}
    succ: dict[str, set[str]] = {m: set() for m in members}
    for a, b in edges:
        if a in succ and b in succ and a != b:
            succ[a].add(b)
    comp = _components(members, succ)

    def rank(m: str) -> tuple[bool, int, int]:
        node = graph.nodes[m]
        return (_is_frame(node), _category_rank(node), index[m])

    preds: dict[str, list[str]] = {m: [] for m in members}
    indegree = dict.fromkeys(members, 0)
    for a in members:
        for b in succ[a]:
            if comp[a] != comp[b] or rank(a) < rank(b):
                preds[b].append(a)
                indegree[b] += 1
    ready = [index[m] for m in members if indegree[m] == 0]
    heapq.heapify(ready)
    layer: dict[str, int] = {}
    while ready:
        m = members[heapq.heappop(ready)]
        layer[m] = max((layer[p] + 1 for p in preds[m]), default=0)
        for b in succ[m]:
            if m in preds[b]:
                indegree[b] -= 1
                if indegree[b] == 0:
                    heapq.heappush(ready, index[b])
    columns: dict[int, list[str]] = {}
    for m in members:
        columns.setdefault(layer[m], []).append(m)
    return [ids for _l, ids in sorted(columns.items())]


def _components(members: list[str], succ: Mapping[str, set[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan, iterative): member -> component number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    comp: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in members:
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(succ[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp[w] = index[v]
                    if w == v:
                        break
    return comp


def _stack(
    columns: list[list[str]], size: Mapping[str, Size], per_row: int | None = None
) -> dict[str, tuple[float, float]]:
    """Columns side by side, each stacked top to bottom, from (0, 0); with ``per_row`` the
    columns are folded into rows of that many (read left to right, then the next row)."""
    pos: dict[str, tuple[float, float]] = {}
    step = per_row or len(columns) or 1
    y0 = 0.0
    for start in range(0, len(columns), step):
        x = 0.0
        bottom = y0
        for ids in columns[start : start + step]:
            y = y0
            for nid in ids:
                pos[nid] = (x, y)
                y += size[nid].height + GAP_Y
            bottom = max(bottom, y)
            x += max(size[nid].width for nid in ids) + GAP_X
        y0 = bottom
    return pos


def _fill(
    ids: list[str], pos: Mapping[str, tuple[float, float]], size: Mapping[str, Size]
) -> dict[str, tuple[float, float]] | None:
    """``pos`` plus ``ids`` stacked under its columns, left to right, where they fit without
    making the layout taller or wider; None when they do not all fit."""
    ext = _extent(pos, size)
    columns: dict[float, list[float]] = {}  # x -> [width, bottom]
    for nid, (x, y) in pos.items():
        col = columns.setdefault(x, [0.0, 0.0])
        col[0] = max(col[0], size[nid].width)
        col[1] = max(col[1], y + size[nid].height)
    out = dict(pos)
    for nid in ids:
        s = size[nid]
        for x in sorted(columns):
            width, bottom = columns[x]
            if s.width <= width and bottom + GAP_Y + s.height <= ext.height:
                out[nid] = (x, bottom + GAP_Y)
                columns[x][1] = bottom + GAP_Y + s.height
                break
        else:
            return None
    return out


def _rows(
    ids: list[str], size: Mapping[str, Size], max_width: float
) -> dict[str, tuple[float, float]]:
    """Left to right in rows no wider than ``max_width``, from (0, 0)."""
    pos: dict[str, tuple[float, float]] = {}
    x = y = row = 0.0
    for nid in ids:
        s = size[nid]
        if x > 0 and x + s.width > max_width:
            x, y, row = 0.0, y + row + GAP_Y, 0.0
        pos[nid] = (x, y)
        x += s.width + GAP_X
        row = max(row, s.height)
    return pos


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


def _extent(pos: Mapping[str, tuple[float, float]], size: Mapping[str, Size]) -> Size:
    width = max(x + size[nid].width for nid, (x, _y) in pos.items())
    height = max(y + size[nid].height for nid, (_x, y) in pos.items())
    return Size(width, height)


def _wrap_extent(columns: list[list[str]], size: Mapping[str, Size], max_height: float) -> Size:
    """The extent ``_wrap(columns, size, max_height)`` would have, without placing anything."""
    width = height = 0.0
    for ids in columns:
        col_h = col_w = 0.0
        started = False
        for nid in ids:
            s = size[nid]
            if started and col_h + s.height > max_height:
                width += col_w + GAP_X
                col_h = col_w = 0.0
            height = max(height, col_h + s.height)
            col_h += s.height + GAP_Y
            col_w = max(col_w, s.width)
            started = True
        if started:
            width += col_w + GAP_X
    return Size(width - GAP_X, height)


MAX_WRAP_CANDIDATES = 24
"""Wrap heights tried by ``_best_wrap`` (spread over the range) on a canvas with many nodes."""


def _best_wrap(
    columns: list[list[str]], size: Mapping[str, Size], aspect: float
) -> dict[str, tuple[float, float]]:
    """The wrap height whose layout is shown largest in a view of shape ``aspect``.

    A view ``aspect`` wide and 1 high shows a ``w x h`` layout at scale ``min(aspect/w, 1/h)``;
    the column-prefix heights are the candidates (the tallest node is the least one), at most
    ``MAX_WRAP_CANDIDATES`` of them spread over the range.
    """
    tallest = max(size[nid].height for col in columns for nid in col)
    heights = {tallest}
    for ids in columns:
        height = 0.0
        for nid in ids:
            height += size[nid].height
            heights.add(height)
            height += GAP_Y
    candidates = sorted(h for h in heights if h >= tallest)
    if len(candidates) > MAX_WRAP_CANDIDATES:
        step = (len(candidates) - 1) / (MAX_WRAP_CANDIDATES - 1)
        candidates = sorted({candidates[round(i * step)] for i in range(MAX_WRAP_CANDIDATES)})
    best: tuple[float, float] | None = None
    for max_height in candidates:
        ext = _wrap_extent(columns, size, max_height)
        scale = min(aspect / ext.width, 1.0 / ext.height)
        # Prefer the larger scale; on a tie the taller wrap (fewer, longer columns).
        if best is None or scale >= best[0] * (1 - 1e-9):
            best = (scale, max_height)
    assert best is not None
    return _wrap(columns, size, best[1])


def frame_rects(
    doc: Document,
    pos: Mapping[str, tuple[float, float]],
    sizes: Mapping[str, tuple[float, float]] | None = None,
    headers: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, tuple[float, float, float, float]]:
    """``(left, top, right, bottom)`` of every root-canvas node at positions ``pos``, frames
    sized around their children the way the view sizes them (for checks and tests)."""
    graph = doc.graph
    rects: dict[str, tuple[float, float, float, float]] = {}
    kids: dict[str, list[str]] = {}
    for nid, n in graph.nodes.items():
        if n.parent in graph.nodes:
            kids.setdefault(n.parent, []).append(nid)

    def rect(nid: str) -> tuple[float, float, float, float]:
        if nid in rects:
            return rects[nid]
        node = graph.nodes[nid]
        x, y = pos[nid]
        if not _is_frame(node):
            s = _leaf_size(node, doc, graph, sizes)
            rects[nid] = (x, y, x + s.width, y + s.height)
            return rects[nid]
        header, min_w = headers[nid] if headers and nid in headers else estimated_header(node, doc)
        inner = [rect(c) for c in kids.get(nid, [])]
        if not inner:
            s = frame_size(None, header, min_w)
            rects[nid] = (x, y, x + s.width, y + s.height)
        else:
            left = min(r[0] for r in inner) - FRAME_PAD
            top = min(r[1] for r in inner) - FRAME_PAD - header
            right = max(max(r[2] for r in inner) + FRAME_PAD, left + min_w)
            bottom = max(r[3] for r in inner) + FRAME_PAD
            rects[nid] = (left, top, right, bottom)
        return rects[nid]

    for nid in graph.nodes:
        rect(nid)
    return rects


__all__ = [
    "GAP_X",
    "GAP_Y",
    "DEFAULT_ASPECT",
    "FRAME_PAD",
    "HEADER_H",
    "SUMMARY_H",
    "EMPTY_W",
    "EMPTY_H",
    "Size",
    "estimated_size",
    "estimated_header",
    "frame_size",
    "frame_rects",
    "layout",
]
