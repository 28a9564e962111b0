"""The graph side of a run's highlights (``app.run_highlights``), on a sample and a hand trace."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.model import io
from app.model.document import Document, PortRef
from app.run_highlights import channel_name, critical_path_on_graph, data_task_masks, is_data
from app.run_nodes import TaskNodeMap
from pto_wsp.runtime.trace import TRACE_DTYPE

ROOT = Path(__file__).resolve().parents[2]
TENSOR_PARALLEL = ROOT / "app" / "projects" / "tensor_parallel.pto.json"
MEGAKERNEL = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"


def _ids(doc: Document) -> dict[str, str]:
    return {n.name: n.id for n, _g, _o in doc.walk() if n.name}


def _trace(kernels: list[int]) -> np.ndarray:
    tr = np.zeros(len(kernels), dtype=TRACE_DTYPE)
    tr["task"] = np.arange(len(kernels))
    tr["kernel"] = kernels
    tr["start"] = np.arange(len(kernels)) * 10
    tr["end"] = tr["start"] + 10
    tr["stream"] = -1
    return tr


def test_the_path_maps_to_its_calls_and_the_tensor_one_hands_the_next() -> None:
    doc = io.load(TENSOR_PARALLEL)
    ids = _ids(doc)
    node_map = TaskNodeMap(doc, ["partial", "finish"])
    trace = _trace([0, 0, 1, 1])
    path = critical_path_on_graph(doc, node_map, trace, np.array([0, 1, 2, 3]))
    assert path.nodes == (ids["call"], ids["call2"])
    assert path.data == () and path.edges == ()  # an allreduce stands between them
    for e in doc.graph.edges:  # call2 reads Part itself
        if e.dst == PortRef(ids["call2"], "a"):
            e.src = PortRef(ids["Part"], "tensor")
    path = critical_path_on_graph(doc, node_map, trace, np.array([0, 1, 2, 3]))
    assert path.data == (ids["Part"],)
    assert {(e.src, e.dst) for e in path.edges} == {
        (PortRef(ids["call"], "p"), PortRef(ids["Part"], "write")),
        (PortRef(ids["Part"], "tensor"), PortRef(ids["call2"], "a")),
    }
    # backwards (finish then partial) nothing is handed on
    back = critical_path_on_graph(doc, node_map, trace, np.array([2, 0]))
    assert back.nodes == (ids["call2"], ids["call"]) and back.data == ()
    assert critical_path_on_graph(doc, node_map, trace, np.zeros(0, np.int64)).nodes == ()


def test_data_masks_are_the_tasks_of_the_reading_and_the_writing_calls() -> None:
    doc = io.load(TENSOR_PARALLEL)
    ids = _ids(doc)
    node_map = TaskNodeMap(doc, ["partial", "finish"])
    trace = _trace([0, 1, 0, 1, 1])
    reads, writes = data_task_masks(doc, node_map, trace, ids["X"])
    assert reads.tolist() == [True, False, True, False, False] and not writes.any()
    reads, writes = data_task_masks(doc, node_map, trace, ids["Y"])
    assert not reads.any() and writes.tolist() == [False, True, False, True, True]
    assert is_data(doc, ids["X"]) and not is_data(doc, ids["call"])
    assert channel_name(doc, ids["X"]) is None


def test_a_channel_node_names_its_channel() -> None:
    doc = io.load(MEGAKERNEL)
    ids = _ids(doc)
    assert channel_name(doc, ids["l2c"]) == "l2c"
    assert not is_data(doc, ids["l2c"])
