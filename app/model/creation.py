"""Node creation: fresh ids (``IdAllocator``), unique names (``free_name`` / ``unique_name``), a
new node with its kind's defaults (``new_node``), and a kernel body kept in step with its
parameters (``sync_kernel_params``)."""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from typing import Any

from . import pytext
from .document import Document, Edge, Graph, Node
from .indexing import params_of
from .kind_lookup import kind, kind_of
from .kinds import kernels as _kernels
from .kinds._base import PortSpec
from .node_ports import dynamic_ports, find_port


class IdAllocator:
    """Hands out fresh node ids ``n<k>`` for a document, also for nodes not inserted yet."""

    def __init__(self, doc: Document, prefix: str = "n"):
        self.prefix = prefix
        best = 0
        for ident in doc.all_ids():
            tail = ident[len(prefix) :]
            if ident.startswith(prefix) and tail.isdigit():
                best = max(best, int(tail))
        self._next = best + 1

    def __call__(self) -> str:
        ident = f"{self.prefix}{self._next}"
        self._next += 1
        return ident


_TRAILING_NUMBER = re.compile(r"^(?P<stem>.*?\D)(?P<number>\d+)$")


def free_name(base: str, used: Container[str]) -> str:
    """``base`` if unused, else the next free numbered variant of it.

    A trailing number is the counter, not part of the name: ``Q2`` taken gives ``Q3`` (not
    ``Q22``), ``sched`` taken gives ``sched2``. The one rule for every name made unique
    (new nodes, duplicates, pastes, imported scripts).
    """
    if base not in used:
        return base
    m = _TRAILING_NUMBER.match(base)
    stem, k = (m.group("stem"), int(m.group("number")) + 1) if m else (base, 2)
    while f"{stem}{k}" in used:
        k += 1
    return f"{stem}{k}"


def unique_name(doc: Document, base: str, extra: Iterable[str] = ()) -> str:
    """``base`` or its next free numbered variant (``free_name``) among ``doc``'s node names.

    A base that is a name of the DSL (``kernel``, ``workload``, ``send``: reserved, no node
    may take it) is never free, so its numbering starts at 1: the first kernel of a project is
    ``kernel1``, then ``kernel2``; not ``kernel2`` first, which read as if one were missing."""
    used = {n.name for n, _g, _o in doc.walk()} | set(extra) | pytext.RESERVED_NAMES
    if base in pytext.RESERVED_NAMES and not _TRAILING_NUMBER.match(base):
        base = f"{base}1"
    return free_name(base, used)


def new_node(
    kind_id: str,
    doc: Document,
    pos: tuple[float, float] = (0.0, 0.0),
    *,
    ids: IdAllocator | None = None,
    name: str | None = None,
    **props: Any,
) -> Node:
    """A new (not yet inserted) node with defaults, a fresh id and a unique default name.

    Unknown property names raise ``KeyError`` naming them: a silently dropped option is a bug.
    A kernel definition gets a body with its ``scope.entry`` and a ``kernel.param`` per
    parameter; a frame gets no body (its children name it in ``parent``). The node's ``parent``
    is left None: the caller places it (``place_problem`` says where it may go).
    """
    k = kind(kind_id)
    known = {p.name for p in k.props}
    unknown = sorted(set(props) - known)
    if unknown:
        raise KeyError(f"node kind {kind_id!r} has no property {unknown[0]!r}")
    alloc = ids or IdAllocator(doc)
    values = k.defaults()
    values.update(props)
    if name is None:
        name = unique_name(doc, k.name_base) if k.name_base else ""
    node = Node(alloc(), kind_id, name, (float(pos[0]), float(pos[1])), values)
    if k.scope:
        node.body = Graph()
        entry = Node(alloc(), _kernels.ENTRY, "entry", (0.0, 0.0), {})
        node.body.nodes[entry.id] = entry
        if k.defines_kernel:
            sync_kernel_params(doc, node, ids=alloc)
    return node


def sync_kernel_params(doc: Document, node: Node, ids: IdAllocator | None = None) -> None:
    """Make a ``kernel.def`` body hold exactly one ``kernel.param`` per parameter.

    Parameter nodes whose parameter disappeared are removed with their edges; missing ones are
    added in a column left of the body. Existing nodes (and their wiring) are kept.
    """
    if not kind_of(node).defines_kernel:
        raise ValueError(f"sync_kernel_params needs a kernel.def node, got {node.kind}")
    if node.body is None:
        node.body = Graph()
    body = node.body
    if not any(kind_of(n).body_entry for n in body.nodes.values()):
        alloc = ids or IdAllocator(doc)
        entry = Node(alloc(), _kernels.ENTRY, "entry", (0.0, 0.0), {})
        body.nodes[entry.id] = entry
    wanted = [p["name"] for p in params_of(node)]
    present: dict[str, str] = {}
    for n in list(body.nodes.values()):
        if not kind_of(n).kernel_param:
            continue
        pname = n.props.get("param")
        if not isinstance(pname, str) or pname not in wanted or pname in present:
            del body.nodes[n.id]
            body.edges = [e for e in body.edges if n.id not in (e.src.node, e.dst.node)]
        else:
            present[pname] = n.id
    alloc = ids or IdAllocator(doc)
    for i, pname in enumerate(wanted):
        if pname in present:
            continue
        p = Node(alloc(), _kernels.PARAM, pname, (-300.0, 120.0 * (i + 1)), {"param": pname})
        body.nodes[p.id] = p
    # dynamic ports may have changed: drop edges into/out of ports that no longer exist
    for n in body.nodes.values():
        if kind_of(n).kernel_param:
            ports = dynamic_ports(n, body, node, doc)
            body.edges = [e for e in body.edges if _edge_port_ok(e, n.id, ports)]


def _edge_port_ok(e: Edge, node_id: str, ports: list[PortSpec]) -> bool:
    if e.src.node == node_id and find_port(ports, e.src.port, "out") is None:
        return False
    if e.dst.node == node_id and find_port(ports, e.dst.port, "in") is None:
        return False
    return True


__all__ = ["IdAllocator", "free_name", "unique_name", "new_node", "sync_kernel_params"]
