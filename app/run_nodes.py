"""Which graph node issued which task of a run: the link between the timeline and the canvas.

A trace record names its kernel by id (an index into the run's ``kernel_names``). The node a user
thinks of as "the thing that issued this task" is the ``kernel.call`` that calls that kernel —
when there is exactly one call site. With several call sites the trace cannot tell them apart
(a record carries no call-site id), so the task maps to the ``kernel.def`` instead: honest, and
still one click away from every call.

The mapping is derived from the *document* (kinds, edges, ``registry.resolve_kernel``), never
from the exported text, and from the very document snapshot that was run, so edits made while a
run is going do not skew it. Qt-free: unit-testable on plain documents and numpy arrays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from app.model import registry
from app.model.document import Document, Graph, Node

__all__ = ["KernelSite", "TaskNodeMap", "deadlock_nodes", "schedule_node"]


@dataclass(frozen=True)
class KernelSite:
    """Where one kernel lives in the graph.

    ``node_id``: the node its tasks map to (the single ``kernel.call``, else the ``kernel.def``,
    None when the document has no such kernel). ``owners``: every node whose selection
    highlights the kernel's tasks — the def, each call and the scopes enclosing the calls
    (loops, workload bodies), so selecting a loop shows what it issued.
    """

    kernel: str
    def_id: str | None
    call_ids: tuple[str, ...]
    node_id: str | None
    owners: frozenset[str]


def _kernel_defs(doc: Document) -> dict[str, Node]:
    """``kernel.def`` nodes by kernel name (the name the IR and the trace use)."""
    return {n.name: n for n, _g, _o in doc.walk() if n.kind == "kernel.def" and n.name}


class TaskNodeMap:
    """Kernel id -> graph node for one run of ``doc`` (``kernel_names`` from the run's stats)."""

    def __init__(self, doc: Document, kernel_names: Sequence[str]):
        self.kernel_names = [str(k) for k in kernel_names]
        defs = _kernel_defs(doc)
        calls: dict[str, list[str]] = {}
        scopes: dict[str, set[str]] = {}
        for node, graph, _owner in doc.walk():
            if node.kind != "kernel.call":
                continue
            target = registry.resolve_kernel(node, graph, doc)
            if target is None:
                continue
            calls.setdefault(target.id, []).append(node.id)
            scopes.setdefault(target.id, set()).update(s.id for s in doc.scope_chain(graph))
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


def _channel_of(node: Node, graph: Graph, doc: Document) -> str | None:
    """The name of the channel wired into ``node``'s ``channel`` input (None: unwired)."""
    for e in graph.edges_into(node.id, "channel"):
        src = registry.source_node(e.src, graph, doc)
        if src is not None and src.kind == "csp.channel":
            return src.name
    return None


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
    for node, graph, owner in doc.walk():
        kind = node.kind
        if kind == "csp.process" and node.name in wanted_procs:
            found.add(node.id)
        elif kind == "csp.channel" and node.name in wanted_chans:
            found.add(node.id)
        elif kind == "event.def" and node.name in wanted_events:
            found.add(node.id)
        elif kind == "pipe.scope" and stages:
            found.add(node.id)
        elif kind == "csp.consume" and consumed:
            inside_process = owner is not None and owner.kind in ("csp.process", "pipe.scope")
            if not inside_process and _channel_of(node, graph, doc) in consumed:
                found.add(node.id)
    return sorted(found)


# ``task_graph(<option>...)`` directive -> does a sched.task_graph node set that option?
_TASK_GRAPH_SETS = {
    "window": lambda p: int(p.get("window", 0) or 0) > 0,
    "deps": lambda p: p.get("deps", "default") != "default",
    "ready": lambda p: p.get("ready", "default") != "default",
    "start": lambda p: p.get("start", "default") != "default",
    "trace": lambda p: p.get("trace", "default") != "default",
    "pools": lambda p: bool(p.get("pools")),
}
_DIRECTIVE = re.compile(r"^(?P<op>[a-z_]+)(?:\((?P<option>[a-z_]+))?")


def _sets_directive(node: Node, op: str, option: str | None) -> bool:
    if node.kind != f"sched.{op}":
        return False
    if op != "task_graph" or option is None:
        return True
    sets = _TASK_GRAPH_SETS.get(option)
    return sets(node.props) if sets is not None else True


def schedule_node(doc: Document, node_id: str | None, directive: str) -> str | None:
    """The schedule node that wrote ``directive`` (``"streams"``, ``"timing(batched)"``,
    ``"task_graph(deps=explicit)"``...) for the chain that ``node_id`` belongs to.

    ``node_id`` is what the exporter's line map gave for the diagnostic's line: a short chain
    is exported on one line (``program = w.streams(2).timing(...).compile(...)``), so the line
    names the compile node, not the step. From there the chain is walked upstream (towards the
    workload) and the first node of the directive's combinator that sets it is the one: the
    DSL keeps the last call of a combinator, which is the nearest to the compile node. A
    ``node_id`` already naming that step, or a directive that is no schedule combinator (a
    collective in a workload body), is returned unchanged; None stays None.
    """
    if node_id is None:
        return None
    m = _DIRECTIVE.match(directive)
    found = doc.locate(node_id)
    if m is None or found is None:
        return node_id
    op, option = m.group("op"), m.group("option")
    if f"sched.{op}" not in registry.KINDS:
        return node_id
    node, graph, _owner = found
    seen: set[str] = set()
    while node.kind == "compile.target" or node.kind.startswith("sched."):
        if _sets_directive(node, op, option):
            return node.id
        seen.add(node.id)
        edges = graph.edges_into(node.id, "workload")
        upstream = registry.source_node(edges[0].src, graph, doc) if edges else None
        if upstream is None or upstream.id in seen:
            break
        node = upstream
    return node_id
