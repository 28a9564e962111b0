"""Which graph node issued which task of a run: the link between the timeline and the canvas.

A trace record names its kernel by id (an index into the run's ``kernel_names``). The node a user
thinks of as "the thing that issued this task" is the ``kernel.call`` that calls that kernel —
when there is exactly one call site. With several call sites the trace cannot tell them apart
(a record carries no call-site id), so the task maps to the ``kernel.def`` instead: honest, and
still one click away from every call.

The mapping is derived from the *document* (a call's ``kernel`` reference, the frames around
it), never from the exported text, and from the very document snapshot that was run, so edits made while a
run is going do not skew it. Qt-free: unit-testable on plain documents and numpy arrays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .model import frames, indexing, registry
from .model.document import Document, Node

__all__ = ["KernelSite", "TaskNodeMap", "channel_labels", "deadlock_nodes", "schedule_node"]


@dataclass(frozen=True)
class KernelSite:
    """Where one kernel lives in the graph.

    ``node_id``: the node its tasks map to (the single ``kernel.call``, else the ``kernel.def``,
    None when the document has no such kernel). ``owners``: every node whose selection
    highlights the kernel's tasks — the def, each call and the frames enclosing the calls
    (loops, workloads), so selecting a loop shows what it issued.
    """

    kernel: str
    def_id: str | None
    call_ids: tuple[str, ...]
    node_id: str | None
    owners: frozenset[str]


def _kernel_defs(doc: Document) -> dict[str, Node]:
    """``kernel.def`` nodes by kernel name (the name the IR and the trace use)."""
    return {n.name: n for n, _g, _o in doc.walk() if n.kind in registry.KERNEL_KINDS and n.name}


class TaskNodeMap:
    """Kernel id -> graph node for one run of ``doc`` (``kernel_names`` from the run's stats)."""

    def __init__(self, doc: Document, kernel_names: Sequence[str]):
        self.kernel_names = [str(k) for k in kernel_names]
        defs = _kernel_defs(doc)
        calls: dict[str, list[str]] = {}
        scopes: dict[str, set[str]] = {}
        for node in doc.graph.nodes.values():
            target = indexing.kernel_of(doc, node) if "kernel" in node.props else None
            if target is None:
                continue
            calls.setdefault(target.id, []).append(node.id)
            scopes.setdefault(target.id, set()).update(f.id for f in frames.ancestors(doc, node.id))
        self.sites: list[KernelSite] = []
        for name in self.kernel_names:
            kdef = defs.get(name)
            if kdef is None:
                self.sites.append(KernelSite(name, None, (), None, frozenset()))
                continue
            call_ids = tuple(sorted(calls.get(kdef.id, [])))
            node_id = call_ids[0] if len(call_ids) == 1 else kdef.id
            owners = frozenset({kdef.id, *call_ids, *scopes.get(kdef.id, ())})
            self.sites.append(KernelSite(name, kdef.id, call_ids, node_id, owners))

    def node_of_kernel(self, kernel_id: int) -> str | None:
        """The node the tasks of kernel ``kernel_id`` map to (None: unknown kernel)."""
        if 0 <= kernel_id < len(self.sites):
            return self.sites[kernel_id].node_id
        return None

    def node_of(self, record: np.void) -> str | None:
        """The node that issued trace ``record`` (the ``task_to_node`` of ``TimelineView``)."""
        return self.node_of_kernel(int(record["kernel"]))

    def kernels_of(self, node_id: str) -> list[int]:
        """Kernel ids whose tasks belong to ``node_id`` (a call, a def or an enclosing scope)."""
        return [k for k, site in enumerate(self.sites) if node_id in site.owners]

    def task_mask(self, trace: np.ndarray, node_id: str | None) -> np.ndarray:
        """Boolean mask over ``trace``: the tasks that ``node_id`` issued (all False for None)."""
        if node_id is None or not len(trace):
            return np.zeros(len(trace), dtype=bool)
        return np.isin(trace["kernel"], np.asarray(self.kernels_of(node_id), dtype=np.int64))


_REPLICA = re.compile(r"\[\d+\]$")
_STAGE = re.compile(r"^stage\d+$")
_CONSUME = re.compile(r"^consume_(?P<channel>.+?)(?:_\d+)?$")


def _channel_of(node: Node, doc: Document) -> str | None:
    """The name of the channel ``node`` names in its ``channel`` reference (None: none)."""
    ref = node.props.get("channel")
    src = doc.graph.nodes.get(ref) if isinstance(ref, str) else None
    return src.name if src is not None else None


def channel_labels(doc: Document, peaks: dict[str, int]) -> dict[str, str]:
    """``{channel node id: "peak p/depth"}`` for the channels a CSP run reported on (by name:
    a channel node reaches the script as ``Channel("<node name>", ...)``)."""
    return {
        node.id: f"peak {peaks[node.name]}/{node.props.get('depth')}"
        for node in doc.graph.nodes.values()
        if registry.kind_of(node).run_role == "channel" and node.name in peaks
    }


def deadlock_nodes(
    doc: Document,
    processes: Iterable[str],
    channels: Iterable[str] = (),
    events: Iterable[str] = (),
) -> list[str]:
    """The graph nodes a deadlock involves, from the names the ``DeadlockError`` carries.

    How the DSL names processes decides the match: a root ``csp.process`` keeps its node name
    (replicas add ``[i]``); a workload-level ``consume(ch)`` becomes ``consume_<ch>`` (the
    ``csp.consume`` node on channel ``ch``); a statement of ``P.pipe`` becomes ``stage<k>``
    (the ``pipe.scope`` node). Channels and events match ``csp.channel`` / ``event.def`` nodes
    by name. Sorted, without duplicates; unknown names are skipped (the diagnostic's message
    still names them).
    """
    wanted_procs = {_REPLICA.sub("", p) for p in processes}
    wanted_chans = set(channels)
    wanted_events = set(events)
    consumed = {m.group("channel") for p in wanted_procs if (m := _CONSUME.match(p)) is not None}
    stages = any(_STAGE.match(p) for p in wanted_procs)
    found: set[str] = set()
    for node in doc.graph.nodes.values():
        role = registry.kind_of(node).run_role
        owner = frames.parent_of(doc, node.id)
        if role == "process" and node.name in wanted_procs:
            found.add(node.id)
        elif role == "channel" and node.name in wanted_chans:
            found.add(node.id)
        elif role == "event" and node.name in wanted_events:
            found.add(node.id)
        elif role == "stages" and stages:
            found.add(node.id)
        elif role == "consume" and consumed:
            owner_role = registry.kind_of(owner).run_role if owner is not None else ""
            inside_process = owner_role in ("process", "stages")
            if not inside_process and _channel_of(node, doc) in consumed:
                found.add(node.id)
    return sorted(found)


def schedule_node(doc: Document, node_id: str | None, directive: str) -> str | None:
    """The node that wrote schedule ``directive`` (``"streams"``, ``"timing(batched)"``,
    ``"task_graph(deps=explicit)"``...) for the program ``node_id`` belongs to.

    Format v2 keeps a program's whole schedule on the sheet of its frame, so that frame is the
    node: ``node_id`` (what the exporter's line map gave for the diagnostic's line) is returned
    when it is a program frame, else the outermost program frame around it; a node outside
    every program is returned unchanged, None stays None.
    """
    if node_id is None:
        return None
    node = doc.graph.nodes.get(node_id)
    if node is None or node.kind in registry.PROGRAM_KINDS:
        return node_id
    outer = [f for f in frames.ancestors(doc, node_id) if f.kind in registry.PROGRAM_KINDS]
    return outer[0].id if outer else node_id
