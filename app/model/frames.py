"""Frame navigation over a v2 document (Qt-free; docs/graph-model.md).

A frame is a node whose kind is a frame kind (``NodeKind.frame``); a node inside a frame names
it in ``Node.parent``. A frame's children are the nodes with that parent, in ``graph.nodes``
order. These helpers answer the structural questions every layer asks: what is inside a frame,
what encloses a node, which loop variables are bound around it, which workload it belongs to.

Only the root canvas has frames; nodes of a kernel body have ``parent`` None.
"""

from __future__ import annotations

from collections.abc import Iterator

from .document import Document, Node
from .kind_lookup import kind_of


def children(doc: Document, frame_id: str | None) -> list[Node]:
    """The nodes directly inside ``frame_id`` (root canvas nodes for None), in order."""
    return [n for n in doc.graph.nodes.values() if n.parent == frame_id]


def parent_of(doc: Document, node_id: str) -> Node | None:
    """The frame directly enclosing ``node_id`` (None on the root canvas or in a kernel body)."""
    node = doc.graph.nodes.get(node_id)
    if node is None or node.parent is None:
        return None
    return doc.graph.nodes.get(node.parent)


def ancestors(doc: Document, node_id: str) -> list[Node]:
    """The frames enclosing ``node_id``, outermost first (empty at the root or in a body).

    A parent cycle (only possible in a corrupt document) stops the walk instead of looping.
    """
    chain: list[Node] = []
    seen = {node_id}
    current = parent_of(doc, node_id)
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        current = parent_of(doc, current.id)
    chain.reverse()
    return chain


def bound_vars(node: Node) -> list[str]:
    """The loop variables ``node`` itself binds (a loop or consume frame), in header order."""
    binds = kind_of(node).binds_vars
    return [str(v) for v in binds(node.props)] if binds is not None else []


def loop_vars(doc: Document, node_id: str) -> list[str]:
    """Variables bound by the loop and consume frames around ``node_id``, outermost first."""
    out: list[str] = []
    for frame in ancestors(doc, node_id):
        out.extend(bound_vars(frame))
    return out


def loop_axis(doc: Document, node_id: str, var: str) -> Node | None:
    """The axis node loop variable ``var`` runs over at ``node_id``: the ``var_axes`` entry of
    the innermost frame around it binding ``var``; None when no frame binds it, the binding
    frame names no axis for it (a consume's item) or the axis is missing."""
    for frame in reversed(ancestors(doc, node_id)):
        if var not in bound_vars(frame):
            continue
        var_axes = kind_of(frame).var_axes
        ref = var_axes(frame.props).get(var) if var_axes is not None else None
        return doc.graph.nodes.get(ref) if isinstance(ref, str) else None
    return None


def workload_of(doc: Document, node_id: str) -> Node | None:
    """The ``workload.def`` frame ``node_id`` lives in (the node itself if it is one)."""
    node = doc.graph.nodes.get(node_id)
    if node is not None and kind_of(node).defines_workload:
        return node
    for frame in reversed(ancestors(doc, node_id)):
        if kind_of(frame).defines_workload:
            return frame
    return None


def iter_descendants(doc: Document, frame_id: str) -> Iterator[Node]:
    """Every node inside ``frame_id`` at any depth, pre-order (a frame before its children)."""
    kids: dict[str | None, list[Node]] = {}
    for n in doc.graph.nodes.values():
        kids.setdefault(n.parent, []).append(n)
    stack = list(reversed(kids.get(frame_id, [])))
    seen = {frame_id}
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        yield node
        stack.extend(reversed(kids.get(node.id, [])))


def descendants(doc: Document, frame_id: str) -> list[Node]:
    """Every node inside ``frame_id`` at any depth, pre-order, children in their order."""
    return list(iter_descendants(doc, frame_id))


def depth(doc: Document, node_id: str) -> int:
    """How many frames enclose ``node_id`` (0 on the root canvas)."""
    return len(ancestors(doc, node_id))


__all__ = [
    "children",
    "parent_of",
    "ancestors",
    "bound_vars",
    "loop_vars",
    "loop_axis",
    "workload_of",
    "iter_descendants",
    "descendants",
    "depth",
]
