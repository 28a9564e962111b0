"""Import Python's layout: where each node of an imported document stands (``layout_graph``).

The editor draws a node about NODE_W wide (wider for a long title) and NODE_H tall (taller with
more than two rows of ports: PORT_TOP + PORT_H per row), and sizes a frame bottom-up around its
children: FRAME_PAD on every side, a FRAME_HEADER band on top (plus SUMMARY_H for a program
frame's schedule summary), and at least as wide as its header text at the opening zoom
(docs/graph-model.md, "Frames"; app/editor/frames.py). The layout places every node in scene
coordinates with those sizes: axes, kernels, channels and events in a row on top; input tensors
(and scalars) in a column on the left, level with the calls that read them; the workload,
composition and connect frames stacked in the middle with their children inside (statements top
to bottom; pipeline stages, branch cases, composed workloads and connected processes side by
side; a call and the send that takes its task side by side); the tensors calls write in a column
on the right.
"""

from __future__ import annotations

from typing import Any

from . import catalogue, kind_lookup, node_ports, titles
from .document import Document, Graph, Node

__all__ = ["layout_graph", "layout_body", "layout_rects", "node_size", "frame_header"]


NODE_W = 170.0
NODE_H = 60.0
PORT_TOP = 30.0  # a node's title band above its port rows
PORT_H = 24.0  # one row of ports
FRAME_PAD = 30.0
FRAME_HEADER = 40.0
SUMMARY_H = 22.0
EMPTY_FRAME = (260.0, 130.0)  # an empty frame's body (below its header)
GAP = 30.0  # between siblings inside a frame, and between nodes of the top row / side columns
COL_GAP = 100.0  # between the side columns and the frames
ROW_GAP = 60.0  # between the top row and the rest, and between root frames
NODE_CHAR_W = 7.5  # a node title's average character width (scene px)
HEADER_CHAR_W = 11.0  # a frame header's, drawn at 19 px so it reads at zoom 0.6
SUMMARY_CHAR_W = 10.0


def _in_row(kind_id: str) -> bool:
    """A frame whose children stand side by side (stages, cases, parts, processes)."""
    look = kind_lookup.kind_of(kind_id).frame_style
    return look is not None and look.row


def _top_row(kind_id: str) -> int | None:
    """The place of a root definition in the top row: axes, kernels, channels, events (None:
    not in the top row)."""
    k = kind_lookup.kind_of(kind_id)
    if k.category == "Axes":
        return 0
    if k.defines_kernel:
        return 1
    return {"channel": 2, "event": 3}.get(k.run_role)


def _is_frame(kind: str) -> bool:
    spec = catalogue.KINDS.get(kind)
    return bool(getattr(spec, "frame", False))


def _title(doc: Document, node: Node) -> str:
    try:
        return titles.title(node, doc)
    except Exception:  # a title is only a size estimate here; never fail a layout on it
        return node.name or node.kind


def node_size(doc: Document, node: Node) -> tuple[float, float]:
    """The size the editor draws a (non-frame) node: NODE_W (or its title's width) x
    NODE_H, or taller for more than two rows of ports (inputs left, outputs right)."""
    ports = node_ports.ports_of(node, doc)
    rows = max(
        sum(1 for p in ports if p.direction == "in"),
        sum(1 for p in ports if p.direction == "out"),
    )
    width = max(NODE_W, len(_title(doc, node)) * NODE_CHAR_W + 40.0)
    return width, max(NODE_H, PORT_TOP + PORT_H * rows)


def frame_header(doc: Document, node: Node) -> tuple[float, float]:
    """(header height, minimum frame width) of a frame: its title line, and for a program
    frame with a schedule the summary line under it."""
    head = _title(doc, node)
    summary = titles.sheet_summary(node.props) if kind_lookup.kind_of(node).program else ""
    if summary and head.endswith(titles.SEP + summary):
        head = head[: -len(titles.SEP + summary)]
    width = max(len(head) * HEADER_CHAR_W, len(summary) * SUMMARY_CHAR_W) + 24.0
    return FRAME_HEADER + (SUMMARY_H if summary else 0.0), width


def _kids(doc: Document) -> dict[str | None, list[Node]]:
    kids: dict[str | None, list[Node]] = {}
    for n in doc.graph.nodes.values():
        parent = n.parent if n.parent in doc.graph.nodes else None
        kids.setdefault(parent, []).append(n)
    return kids


def layout_rects(doc: Document) -> dict[str, tuple[float, float, float, float]]:
    """``(x, y, w, h)`` of every root-canvas node as the editor draws it at its ``pos``: a node
    its ``node_size``; a frame around its children (FRAME_PAD around them, its header above,
    at least its header's width), or an empty frame at its ``pos``."""
    kids = _kids(doc)
    rects: dict[str, tuple[float, float, float, float]] = {}

    def rect(node: Node) -> tuple[float, float, float, float]:
        if node.id in rects:
            return rects[node.id]
        if not _is_frame(node.kind):
            w, h = node_size(doc, node)
            rects[node.id] = (node.pos[0], node.pos[1], w, h)
            return rects[node.id]
        header, min_w = frame_header(doc, node)
        inner = [rect(c) for c in kids.get(node.id, [])]
        if not inner:
            w = max(EMPTY_FRAME[0], min_w)
            rects[node.id] = (node.pos[0], node.pos[1], w, EMPTY_FRAME[1] + header)
            return rects[node.id]
        x0 = min(r[0] for r in inner) - FRAME_PAD
        y0 = min(r[1] for r in inner) - FRAME_PAD - header
        x1 = max(r[0] + r[2] for r in inner) + FRAME_PAD
        y1 = max(r[1] + r[3] for r in inner) + FRAME_PAD
        rects[node.id] = (x0, y0, max(x1 - x0, min_w), y1 - y0)
        return rects[node.id]

    for n in doc.graph.nodes.values():
        rect(n)
    return rects


class _Layout:
    def __init__(self, doc: Document):
        self.doc = doc
        self.kids = _kids(doc)
        self.size: dict[str, tuple[float, float]] = {}

    # -- sizes (bottom-up) ---------------------------------------------------------------------
    def rows(self, frame: Node) -> list[list[Node]]:
        """The children of ``frame`` grouped into rows, top to bottom."""
        children = self.kids.get(frame.id, [])
        if _in_row(frame.kind):
            return [children] if children else []
        task_to: dict[str, str] = {}
        for e in self.doc.graph.edges:
            if e.src.port == "task":
                task_to[e.src.node] = e.dst.node
        rows: list[list[Node]] = []
        for c in children:
            if rows and task_to.get(rows[-1][-1].id) == c.id:
                rows[-1].append(c)  # a send beside the call whose task it takes
            else:
                rows.append([c])
        return rows

    def measure(self, node: Node) -> tuple[float, float]:
        if node.id in self.size:
            return self.size[node.id]
        if not _is_frame(node.kind):
            size = node_size(self.doc, node)
        else:
            header, min_w = frame_header(self.doc, node)
            rows = self.rows(node)
            if not rows:
                size = (max(EMPTY_FRAME[0], min_w), EMPTY_FRAME[1] + header)
            else:
                widths, heights = [], []
                for row in rows:
                    sizes = [self.measure(c) for c in row]
                    widths.append(sum(w for w, _ in sizes) + GAP * (len(row) - 1))
                    heights.append(max(h for _, h in sizes))
                size = (
                    max(max(widths) + 2 * FRAME_PAD, min_w),
                    header + 2 * FRAME_PAD + sum(heights) + GAP * (len(rows) - 1),
                )
        self.size[node.id] = size
        return size

    # -- positions (top-down) --------------------------------------------------------------------
    def place(self, node: Node, x: float, y: float) -> None:
        node.pos = (x, y)
        if not _is_frame(node.kind):
            return
        cy = y + frame_header(self.doc, node)[0] + FRAME_PAD
        for row in self.rows(node):
            cx = x + FRAME_PAD
            height = 0.0
            for c in row:
                w, h = self.measure(c)
                self.place(c, cx, cy)
                cx += w + GAP
                height = max(height, h)
            cy += height + GAP

    def run(self) -> None:
        roots = self.kids.get(None, [])
        top = [n for n in roots if _top_row(n.kind) is not None]
        top.sort(key=lambda n: _top_row(n.kind) or 0)
        # definitions first, then the frames that compose or connect them
        frames = [n for n in roots if _is_frame(n.kind)]
        frames.sort(key=lambda n: not kind_lookup.kind_of(n).defines_workload)
        written = {e.dst.node for e in self.doc.graph.edges if e.dst.port == "write"}
        outputs = [n for n in roots if kind_lookup.kind_of(n).data == "tensor" and n.id in written]
        inputs = [n for n in roots if n not in top and n not in frames and n not in outputs]

        # the middle: frames stacked, below the top row
        inputs_w = max((self.measure(n)[0] for n in inputs), default=0.0)
        left_w = inputs_w + COL_GAP if inputs else 0.0
        frames_w = max((self.measure(f)[0] for f in frames), default=0.0)
        right_x = left_w + frames_w + (COL_GAP if frames else 0.0)
        total_w = right_x + max((self.measure(n)[0] for n in outputs), default=0.0)
        # the top row, wrapped at the width of the rest (at least four nodes a row): its
        # height first, its order (each kind group by where its first user stands) after the
        # frames are placed
        cell_w = max((self.measure(n)[0] for n in top), default=NODE_W) + GAP
        per_row = max(4, int(max(total_w + GAP, 4 * cell_w) // cell_w))
        rows = [top[i : i + per_row] for i in range(0, len(top), per_row)]
        y = 0.0
        for row in rows:
            y += max(self.measure(n)[1] for n in row) + GAP
        y0 = y + (ROW_GAP - GAP if top else 0.0)
        y = y0
        for f in frames:
            self.place(f, left_w, y)
            y += self.measure(f)[1] + ROW_GAP
        user_x = self._first_users({n.id for n in top})
        top.sort(
            key=lambda n: (
                _top_row(n.kind) or 0,
                user_x.get(n.id, float("inf")),
            )
        )
        y = 0.0
        for start in range(0, len(top), per_row):
            row = top[start : start + per_row]
            for i, n in enumerate(row):
                self.place(n, i * cell_w, y)
            y += max(self.measure(n)[1] for n in row) + GAP

        # the side columns, each tensor level with the first call that reads (writes) it
        reader_y: dict[str, float] = {}
        writer_y: dict[str, float] = {}
        for e in self.doc.graph.edges:
            dst = self.doc.graph.nodes.get(e.dst.node)
            src = self.doc.graph.nodes.get(e.src.node)
            if dst is None or src is None:
                continue
            if e.dst.port == "write":
                writer_y.setdefault(dst.id, src.pos[1])
            elif src.parent is None and dst.parent is not None:
                reader_y.setdefault(src.id, dst.pos[1])
        self._column(inputs, 0.0, y0, reader_y)
        self._column(outputs, right_x, y0, writer_y)

    def _first_users(self, ids: set[str]) -> dict[str, float]:
        """For each of ``ids``, the x of the leftmost node referring to it by a property (a
        call's kernel, a loop's axis, a send's channel...) or reading it by a wire."""
        out: dict[str, float] = {}

        def use(target: Any, user: Node) -> None:
            if isinstance(target, str) and target in ids:
                out[target] = min(out.get(target, float("inf")), user.pos[0])

        for n in self.doc.graph.nodes.values():
            for value in n.props.values():
                use(value, n)
                if isinstance(value, list):
                    for entry in value:
                        if isinstance(entry, dict):
                            for v in entry.values():
                                use(v, n)
        for e in self.doc.graph.edges:
            dst = self.doc.graph.nodes.get(e.dst.node)
            if dst is not None:
                use(e.src.node, dst)
        return out

    def _column(self, nodes: list[Node], x: float, y0: float, want: dict[str, float]) -> None:
        order = sorted(enumerate(nodes), key=lambda p: (want.get(p[1].id, float("inf")), p[0]))
        y = y0
        for _i, n in order:
            y = max(y, want.get(n.id, y))
            self.place(n, x, y)
            y += self.measure(n)[1] + GAP


def layout_graph(doc: Document) -> None:
    """Lay out ``doc`` for reading left to right (see the section comment above); kernel bodies
    are laid out by dependency."""
    _Layout(doc).run()
    for node in doc.graph.nodes.values():
        if node.body is not None:
            layout_body(node.body)


_COL, _ROW = 280.0, 150.0


def layout_body(graph: Graph) -> None:
    """Place a kernel body's nodes left to right by dependency (longest path), stacked per
    column: parameters left, the ops they feed to the right."""
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        if e.src.node in preds and e.dst.node in preds:
            preds[e.dst.node].append(e.src.node)
    rank: dict[str, int] = {}

    def rank_of(nid: str, stack: frozenset[str] = frozenset()) -> int:
        if nid in rank:
            return rank[nid]
        if nid in stack:
            return 0
        r = max([0, *(rank_of(p, stack | {nid}) + 1 for p in preds[nid])])
        rank[nid] = r
        return r

    columns: dict[int, list[Node]] = {}
    for nid in graph.nodes:
        columns.setdefault(rank_of(nid), []).append(graph.nodes[nid])
    for col, nodes in columns.items():
        for row, node in enumerate(nodes):
            node.pos = (col * _COL, row * _ROW)
