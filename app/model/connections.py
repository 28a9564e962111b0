"""Whether a wire may be drawn (``can_connect``): port types, one wire per single input, no
cycle in a kernel body, and on the root canvas the frame rules (wires cross frame borders, a value
made inside a frame stays inside it, a wire never joins two workloads)."""

from __future__ import annotations

from . import frames
from .document import Document, Graph, Node, PortRef
from .indexing import kernel_of
from .kind_lookup import display_name, kind_of, node_label
from .kinds.kernels import CALL_TASK_PORT
from .node_ports import dynamic_ports, find_port, types_compatible
from .placement import scope_of_owner


def can_connect(doc: Document, src: PortRef, dst: PortRef) -> tuple[bool, str]:
    """Whether an edge ``src -> dst`` may be added; ``(False, reason)`` says why not.

    On the root canvas wires cross frame borders: a tensor feeds a call port inside any loop,
    a call's Out port writes a tensor, a call's task feeds a ``send``. A value made inside a
    frame (a collective's result, a call's task) is seen only inside that frame, and a wire
    never joins two programs. Kernel bodies keep their own graphs (edges within one body).
    """
    found_src = doc.locate(src.node)
    found_dst = doc.locate(dst.node)
    if found_src is None:
        return False, f"no node {src.node!r}"
    if found_dst is None:
        return False, f"no node {dst.node!r}"
    s_node, s_graph, s_owner = found_src
    d_node, d_graph, d_owner = found_dst
    if s_graph is not d_graph:
        return False, (
            f"{node_label(s_node)} and {node_label(d_node)} are on different canvases (a "
            "kernel body is its own canvas)"
        )
    if src.node == dst.node:
        return False, "a node cannot connect to itself"
    s_port = find_port(dynamic_ports(s_node, s_graph, s_owner, doc), src.port, "out")
    if s_port is None:
        if kind_of(s_node).calls_kernel and kernel_of(doc, s_node) is None:
            return False, f"{node_label(s_node)} names no kernel yet: choose its kernel first"
        return False, f"{display_name(s_node.kind)} {node_label(s_node)} has no output {src.port!r}"  # fmt: skip
    d_port = find_port(dynamic_ports(d_node, d_graph, d_owner, doc), dst.port, "in")
    if d_port is None:
        if kind_of(d_node).calls_kernel and kernel_of(doc, d_node) is None:
            return False, f"{node_label(d_node)} names no kernel yet: choose its kernel first"
        return False, f"{display_name(d_node.kind)} {node_label(d_node)} has no input {dst.port!r}"  # fmt: skip
    scope = scope_of_owner(s_owner)
    if not types_compatible(s_port.type, d_port.type, scope):
        return False, (
            f"{node_label(s_node)} gives a {s_port.type} but input {dst.port!r} of "
            f"{node_label(d_node)} takes a {d_port.type}"
        )
    graph = s_graph
    for e in graph.edges:
        if e.src == src and e.dst == dst:
            return False, "these ports are already connected"
    if not d_port.multi and any(e.dst == dst for e in graph.edges):
        return False, f"input {dst.port!r} of {node_label(d_node)} is already connected"
    if graph is not doc.graph:
        if _reaches(graph, dst.node, src.node):
            return False, "this connection would create a cycle"
        return True, ""
    return root_wire_problem(doc, s_node, src.port, d_node, dst.port)


def root_wire_problem(
    doc: Document, s_node: Node, s_port: str, d_node: Node, d_port: str
) -> tuple[bool, str]:
    """The root-canvas rules beyond port types (both ends exist and the types agree)."""
    s_kind, d_kind = kind_of(s_node), kind_of(d_node)
    if s_kind.calls_kernel and s_port != CALL_TASK_PORT and d_kind.data != "tensor":
        return False, (
            f"a call writes a tensor: wire output {s_port!r} of {node_label(s_node)} into a "
            "tensor's write input"
        )
    if d_port == "write" and not s_kind.calls_kernel:
        return False, f"only a kernel call's output writes a tensor ({node_label(d_node)})"
    s_wl = frames.workload_of(doc, s_node.id) if s_node.parent else None
    d_wl = frames.workload_of(doc, d_node.id) if d_node.parent else None
    if s_wl is not None and d_wl is not None and s_wl.id != d_wl.id:
        return False, (
            f"{node_label(s_node)} is in workload {node_label(s_wl)} and {node_label(d_node)} "
            f"in {node_label(d_wl)}; a wire never joins two workloads"
        )
    if s_node.parent is not None and d_kind.data != "tensor":
        inside = {f.id for f in frames.ancestors(doc, d_node.id)}
        if s_node.parent not in inside:
            frame = doc.graph.nodes.get(s_node.parent)
            where = node_label(frame) if frame is not None else s_node.parent
            return False, (
                f"{node_label(s_node)} is made inside {where}; only nodes inside that frame can "
                "use it"
            )
    return True, ""


def _reaches(graph: Graph, start: str, goal: str) -> bool:
    """Whether ``goal`` is reachable from ``start`` along edges of ``graph``."""
    succ: dict[str, list[str]] = {}
    for e in graph.edges:
        succ.setdefault(e.src.node, []).append(e.dst.node)
    seen = {start}
    stack = [start]
    while stack:
        n = stack.pop()
        if n == goal:
            return True
        for m in succ.get(n, ()):
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return False


__all__ = ["can_connect", "root_wire_problem"]
