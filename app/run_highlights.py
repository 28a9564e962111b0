"""What a run highlights, between the graph and the timeline.

* The critical path on the graph: the nodes that issued its tasks, in order, and the data
  nodes and wires that carry data from one of them to the next (``critical_path_on_graph``).
* A selected data node on the timeline: the tasks that read it and those that write it
  (``data_task_masks``).
* A selected channel node: the channel's name, which names its occupancy track
  (``channel_name``).

Tasks map to nodes through ``TaskNodeMap`` (``app.run_nodes``): by kernel, since a trace record
carries no call-site id. So with two calls of one kernel, a tensor that only one of them reads
outlines the tasks of both, and a critical path through such a kernel colours its definition
(the node its tasks map to) and looks for carried data among all its calls. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import registry
from .model.data_access import accesses, links_between, readers_and_writers
from .model.document import Document, Edge
from .run_nodes import TaskNodeMap

__all__ = ["PathOnGraph", "channel_name", "critical_path_on_graph", "data_task_masks", "is_data"]


@dataclass(frozen=True)
class PathOnGraph:
    """The graph side of a critical path: the nodes its tasks map to (in path order, each once),
    and the data nodes and wires carrying data between consecutive ones."""

    nodes: tuple[str, ...]
    data: tuple[str, ...]
    edges: tuple[Edge, ...]


def critical_path_on_graph(
    doc: Document, node_map: TaskNodeMap, trace: np.ndarray, rows: np.ndarray
) -> PathOnGraph:
    """The nodes, data and wires of the critical path whose trace rows are ``rows`` (in order:
    ``CriticalPath.rows``)."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return PathOnGraph((), (), ())
    kernels = np.asarray(trace["kernel"], dtype=np.int64)[rows]
    # Consecutive tasks of one kernel are one step on the graph: compress the runs first.
    steps = kernels[np.concatenate(([True], kernels[1:] != kernels[:-1]))]
    by_kernel = {int(k): node_map.node_of_kernel(int(k)) for k in np.unique(steps)}
    seq = [n for n in (by_kernel[int(k)] for k in steps) if n is not None]
    nodes = tuple(dict.fromkeys(seq))
    calls_of = {s.node_id: s.call_ids or (s.node_id,) for s in node_map.sites if s.node_id}
    pairs: dict[tuple[str, str], None] = {}
    for a, b in zip(seq[:-1], seq[1:], strict=True):
        if a == b:
            continue
        for ca in calls_of.get(a, (a,)):
            for cb in calls_of.get(b, (b,)):
                pairs[(ca, cb)] = None
    data, edges = links_between(doc, list(pairs), accesses(doc))
    return PathOnGraph(nodes, tuple(sorted(data)), tuple(edges))


def data_task_masks(
    doc: Document, node_map: TaskNodeMap, trace: np.ndarray, data_id: str
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks over ``trace``: the tasks that read data node ``data_id``, and those that
    write it (by the calls wired to it and their kernels' parameter directions)."""
    readers, writers = readers_and_writers(doc, data_id)
    reads = np.zeros(len(trace), dtype=bool)
    writes = np.zeros(len(trace), dtype=bool)
    for call in readers:
        reads |= node_map.task_mask(trace, call)
    for call in writers:
        writes |= node_map.task_mask(trace, call)
    return reads, writes


def is_data(doc: Document, node_id: str) -> bool:
    """``node_id`` names a root data node (a tensor or a scalar) of ``doc``."""
    node = doc.graph.nodes.get(node_id)
    return node is not None and bool(registry.kind_of(node).data)


def channel_name(doc: Document, node_id: str) -> str | None:
    """The channel a ``csp.channel`` node declares (its name: the run's channel names come from
    the script, where the node is ``Channel("<node name>", ...)``); None for other nodes."""
    node = doc.graph.nodes.get(node_id)
    if node is None or registry.kind_of(node).run_role != "channel":
        return None
    return node.name or None
