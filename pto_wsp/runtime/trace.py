"""The per-task trace: its record type, the one check that an array is a trace, and its export.

A trace record (``pto_sim_record``, 48 bytes) has the fields ``task`` (submission index),
``kernel`` (IR kernel id), ``worker``, ``stream`` (-1 without streams), ``start``, ``end``
(cycles) and ``idx0..idx3`` (the task's first four loop indices, -1 when absent).
``program.trace`` is a read-only view of the simulator's buffer (no copy). The record type is the
C++ simulator's (``_core.sim.trace_dtype()``), so the field list here is derived from it.

Everything that reads a trace — lanes (``lanes``), statistics (``trace_analysis``), the timeline,
the Chrome export below — checks it with ``validate_trace`` first: a wrong file gives one message
naming what is missing, not a ``KeyError`` deep inside a paint call.

``chrome_trace(...)`` turns a trace into the Chrome trace-event format that Perfetto and
chrome://tracing open: one process, one thread per configured worker (idle ones included, so a
worker that ran nothing is visible as an empty row), one complete ("X") event per task with
``ts``/``dur`` in microseconds (cycles x ns_per_cycle / 1000).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .._native import sim as _sim
from ..errors import PtoError
from ..fileio import atomic_write
from .program import Program

__all__ = [
    "TRACE_DTYPE",
    "TRACE_FIELDS",
    "TraceError",
    "validate_trace",
    "has_streams",
    "by_task",
    "kernel_name",
    "loop_indices",
    "task_mask",
    "chrome_trace",
    "save_chrome_trace",
]

TRACE_DTYPE: np.dtype = _sim.trace_dtype()
TRACE_FIELDS: tuple[str, ...] = tuple(TRACE_DTYPE.names or ())


class TraceError(PtoError, ValueError):
    """An array that is not a per-task trace (missing fields, wrong rank, end before start).

    Also a ``ValueError``: it is a bad argument value, and callers that catch that keep working.
    """


def validate_trace(trace: Any) -> np.ndarray:
    """Checks that ``trace`` is a 1-D structured array with every trace field; returns it.

    Raises ``TraceError`` naming the missing fields (or the record that ends before it starts).
    """
    if not isinstance(trace, np.ndarray) or trace.dtype.names is None:
        raise TraceError(
            f"a trace must be a numpy structured array with fields {', '.join(TRACE_FIELDS)}, "
            f"got {type(trace).__name__}"
        )
    missing = [f for f in TRACE_FIELDS if f not in trace.dtype.names]
    if missing:
        raise TraceError(
            f"not a per-task trace: fields {', '.join(missing)} missing "
            f"(has {', '.join(trace.dtype.names)})"
        )
    if trace.ndim != 1:
        raise TraceError(f"a trace must be 1-D, got shape {trace.shape}")
    if len(trace) and bool(np.any(trace["end"] < trace["start"])):
        bad = int(np.argmax(trace["end"] < trace["start"]))
        raise TraceError(
            f"trace record {bad} (task {int(trace['task'][bad])}) ends before it starts"
        )
    return trace


def has_streams(trace: np.ndarray) -> bool:
    """True when any record ran on a stream (the simulator writes -1 without streams)."""
    return bool(len(trace)) and bool(np.any(trace["stream"] >= 0))


def by_task(trace: np.ndarray) -> np.ndarray:
    """The records sorted by submission index (buffering timing policies record in issue order)."""
    return trace[np.argsort(trace["task"], kind="stable")]


def kernel_name(kernel_id: int, kernel_names: Sequence[str]) -> str:
    """The kernel's name, or ``kernel <id>`` when the id is outside the names list."""
    return kernel_names[kernel_id] if 0 <= kernel_id < len(kernel_names) else f"kernel {kernel_id}"


def loop_indices(record: np.void) -> tuple[int, ...]:
    """The record's loop indices (the simulator writes -1 for absent ones)."""
    return tuple(int(record[f"idx{i}"]) for i in range(4) if int(record[f"idx{i}"]) >= 0)


def task_mask(trace: np.ndarray, selection: np.ndarray | Iterable[int] | None) -> np.ndarray:
    """A boolean mask over ``trace`` from a mask or from task ids (``None``: nothing).

    A boolean array must have one entry per record; anything else is read as task ids.
    """
    n = len(trace)
    if selection is None:
        return np.zeros(n, dtype=bool)
    arr = np.asarray(list(selection) if not isinstance(selection, np.ndarray) else selection)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise TraceError(
                f"timeline: a highlight mask needs {n} entries (one per record), got {arr.shape}"
            )
        return arr.copy()
    if arr.size == 0:
        return np.zeros(n, dtype=bool)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TraceError(
            f"timeline: highlight takes a boolean mask or integer task ids, got dtype {arr.dtype}"
        )
    return np.isin(np.asarray(trace["task"], dtype=np.int64), arr.astype(np.int64))


def chrome_trace(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    ns_per_cycle: float = 1.0,
    process_name: str = "pto-wsp cpu_sim",
    num_workers: int | None = None,
) -> dict[str, Any]:
    """The trace as a Chrome trace-event JSON object (``{"traceEvents": [...]}``).

    ``num_workers`` is the run's configured worker count (``ProgramStats.num_workers``): every
    worker ``0..num_workers-1`` gets its thread-name row, the idle ones too.
    """
    validate_trace(trace)
    us = float(ns_per_cycle) / 1000.0
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": 0, "tid": 0, "name": "process_name", "args": {"name": process_name}}
    ]
    workers = {int(w) for w in np.unique(trace["worker"])} if len(trace) else set()
    workers.update(range(num_workers or 0))
    for w in sorted(workers):
        events.append(
            {"ph": "M", "pid": 0, "tid": w, "name": "thread_name", "args": {"name": f"worker {w}"}}
        )
    names = list(kernel_names)
    idx_cols = [trace[f"idx{i}"] for i in range(4)]
    for n, rec in enumerate(trace):
        idx = [int(c[n]) for c in idx_cols if int(c[n]) >= 0]
        start, end = int(rec["start"]), int(rec["end"])
        events.append(
            {
                "ph": "X",
                "pid": 0,
                "tid": int(rec["worker"]),
                "name": kernel_name(int(rec["kernel"]), names),
                "ts": start * us,
                "dur": (end - start) * us,
                "args": {
                    "task": int(rec["task"]),
                    "stream": int(rec["stream"]),
                    "idx": idx,
                    "start_cycle": start,
                    "end_cycle": end,
                },
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def save_chrome_trace(program: Program, path: str | os.PathLike[str]) -> None:
    """Writes ``program``'s last trace as Chrome trace-event JSON to ``path``."""
    workers = program.stats.num_workers or None
    data = chrome_trace(
        program.trace, program.kernel_names, program.ns_per_cycle, num_workers=workers
    )
    atomic_write(path, json.dumps(data))  # a viewer never opens half a trace
