"""Which kernel calls read and which write a data node, and the wires that carry it.

A call reads the tensor wired into one of its ``In`` / ``InOut`` parameter ports and writes the
one wired from an ``Out`` / ``InOut`` port (docs/graph-model.md). The parameter directions are
the kernel's (``indexing.params_of``, normalised by ``kernel_param.normalize_param``: the same
reading the exporter and the call's ports use), and the wires are the document's edges
(``indexing.Wires``): nothing here keeps a second list of directions.

Used by the run views: selecting a tensor outlines the tasks that read it and those that write
it, and the critical path colours the tensors (and their wires) that carry data from one call
on the path to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import indexing, kernel_param
from .document import Document, Edge
from .kind_lookup import kind_of

__all__ = ["Access", "accesses", "readers_and_writers", "links_between"]


@dataclass(frozen=True)
class Access:
    """Call ``call`` reaches data node ``data`` through parameter ``param``; ``edge`` is the
    wire (into the call's port for a read, out of it for a write)."""

    call: str
    param: str
    data: str
    writes: bool
    edge: Edge


def accesses(doc: Document) -> list[Access]:
    """Every (call, parameter, data node) wire of the document, reads and writes apart (an
    ``InOut`` parameter wired both ways gives one of each)."""
    wires = indexing.Wires(doc)
    out: list[Access] = []
    for call in doc.graph.nodes.values():
        if not kind_of(call).calls_kernel:
            continue
        kern = indexing.kernel_of(doc, call)
        if kern is None:
            continue
        for p in (kernel_param.normalize_param(q) for q in indexing.params_of(kern)):
            name, direction = p["name"], p["direction"]
            if direction in ("In", "InOut"):
                for e in wires.into.get((call.id, name), []):
                    out.append(Access(call.id, name, e.src.node, False, e))
            if direction in ("Out", "InOut"):
                for e in wires.out_of.get((call.id, name), []):
                    out.append(Access(call.id, name, e.dst.node, True, e))
    return out


def readers_and_writers(doc: Document, data_id: str) -> tuple[list[str], list[str]]:
    """The ids of the calls that read data node ``data_id`` and of those that write it (each
    sorted, without duplicates)."""
    found = [a for a in accesses(doc) if a.data == data_id]
    readers = sorted({a.call for a in found if not a.writes})
    writers = sorted({a.call for a in found if a.writes})
    return readers, writers


def links_between(
    doc: Document, pairs: list[tuple[str, str]], found: list[Access] | None = None
) -> tuple[set[str], list[Edge]]:
    """For calls ``(a, b)`` where ``b`` follows ``a``: the data nodes ``a`` writes and ``b``
    reads, and the wires that carry them (``a``'s out-wire and ``b``'s in-wire), over all pairs.
    A wire straight from ``a`` to ``b`` (a task port) counts too. ``found``: ``accesses(doc)``
    when the caller has it already."""
    found = accesses(doc) if found is None else found
    writes: dict[str, list[Access]] = {}
    reads: dict[str, list[Access]] = {}
    for acc in found:
        (writes if acc.writes else reads).setdefault(acc.call, []).append(acc)
    data: set[str] = set()
    edges: list[Edge] = []
    for a, b in pairs:
        into_b = {r.data: r for r in reads.get(b, [])}
        for w in writes.get(a, []):
            r = into_b.get(w.data)
            if r is None:
                continue
            data.add(w.data)
            for e in (w.edge, r.edge):
                if e not in edges:
                    edges.append(e)
        for e in doc.graph.edges:
            if e.src.node == a and e.dst.node == b and e not in edges:
                edges.append(e)
    return data, edges
