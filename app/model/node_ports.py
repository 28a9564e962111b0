"""A node's ports: static from its kind, a kernel call's from the kernel it names, a kernel body
parameter's from its parameter's direction; and whether a port type may feed another."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .catalogue import reference_kinds
from .document import Document, Graph, Node
from .indexing import kernel_of, params_of
from .kind_lookup import kind, kind_of
from .kinds import kernels as _kernels
from .kinds._base import PortSpec, in_port, out_port
from .kinds.kernels import param_port_type

_in, _out = in_port, out_port


def resolve_ref(doc: Document, node: Node, prop: str) -> Node | None:
    """The node a plain reference property names, if it exists and has an allowed kind."""
    ref = node.props.get(prop)
    target = doc.graph.nodes.get(ref) if isinstance(ref, str) and ref else None
    kinds = reference_kinds(node.kind, prop)
    if target is None or (kinds and target.kind not in kinds):
        return None
    return target


def call_ports(call: Node, doc: Document) -> list[PortSpec]:
    """A call's ports: per kernel parameter an input (In), an output (Out) or both (InOut, same
    name), in parameter order, then the ``task`` output."""
    ports: list[PortSpec] = []
    kern = kernel_of(doc, call)
    if kern is not None:
        for p in params_of(kern):
            direction = p.get("direction", "In")
            type_ = param_port_type(p)
            if direction in ("In", "InOut"):
                ports.append(_in(p["name"], type_))
            if direction in ("Out", "InOut"):
                ports.append(_out(p["name"], type_))
    ports.extend(kind(_kernels.CALL).ports)
    return ports


def ports_of(node: Node, doc: Document, graph: Graph | None = None) -> list[PortSpec]:
    """All ports of ``node``: static, or a call's from its kernel, a kernel param's from its
    parameter's direction (``graph``: the graph holding the node, when not yet inserted)."""
    k = kind_of(node)
    if k.calls_kernel:
        return call_ports(node, doc)
    if k.kernel_param:
        found = doc.locate(node.id)
        owner = found[2] if found is not None else None
        return dynamic_ports(node, found[1] if found else (graph or doc.graph), owner, doc)
    return list(k.ports)


def dynamic_ports(node: Node, graph: Graph, owner: Node | None, doc: Document) -> list[PortSpec]:
    """Ports of ``node`` living in ``graph`` whose owning scope node is ``owner``."""
    k = kind_of(node)
    if k.calls_kernel:
        return call_ports(node, doc)
    if k.kernel_param:
        ports = []
        param = _param_of(node, owner)
        direction = param.get("direction", "In") if param else "In"
        if direction in ("In", "InOut"):
            ports.append(_out("tile", "tile"))
        if direction in ("Out", "InOut"):
            ports.append(_in("value", "tile", optional=True))
        return ports
    return list(k.ports)


def _param_of(param_node: Node, owner: Node | None) -> dict[str, Any] | None:
    if owner is None or not kind_of(owner).defines_kernel:
        return None
    for p in params_of(owner):
        if p["name"] == param_node.props.get("param"):
            return p
    return None


def find_port(ports: Iterable[PortSpec], name: str, direction: str) -> PortSpec | None:
    for p in ports:
        if p.name == name and p.direction == direction:
            return p
    return None


def types_compatible(src_type: str, dst_type: str, scope: str) -> bool:
    """An out of ``src_type`` may feed an in of ``dst_type`` (in a graph of ``scope``)."""
    if src_type == dst_type:
        return True
    if dst_type == "tile" and src_type in ("tensor", "scalar") and scope == "kernel":
        return True
    return False


__all__ = [
    "resolve_ref", "call_ports", "ports_of", "dynamic_ports", "find_port", "types_compatible",
]  # fmt: skip
