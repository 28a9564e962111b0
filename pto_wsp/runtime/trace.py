"""Trace helpers: the per-task trace as a numpy structured array, and Chrome trace-event export.

A trace record (``pto_sim_record``, 48 bytes) has the fields ``task`` (submission index),
``kernel`` (IR kernel id), ``worker``, ``stream`` (-1 without streams), ``start``, ``end``
(cycles) and ``idx0..idx3`` (the task's first four loop indices, -1 when absent).
``program.trace`` is a read-only view of the simulator's buffer (no copy).

``chrome_trace(...)`` turns it into the Chrome trace-event format that Perfetto and
chrome://tracing open: one process, one thread per worker, one complete ("X") event per task
with ``ts``/``dur`` in microseconds (cycles x ns_per_cycle / 1000).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core

__all__ = ["TRACE_DTYPE", "chrome_trace", "save_chrome_trace", "by_task"]

TRACE_DTYPE: np.dtype = _core.sim.trace_dtype()


def by_task(trace: np.ndarray) -> np.ndarray:
    """The records sorted by submission index (buffering timing policies record in issue order)."""
    return trace[np.argsort(trace["task"], kind="stable")]


def chrome_trace(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    ns_per_cycle: float = 1.0,
    process_name: str = "pto-wsp cpu_sim",
) -> dict[str, Any]:
    """The trace as a Chrome trace-event JSON object (``{"traceEvents": [...]}``)."""
    us = float(ns_per_cycle) / 1000.0
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": 0, "tid": 0, "name": "process_name", "args": {"name": process_name}}
    ]
    workers = sorted({int(w) for w in np.unique(trace["worker"])}) if len(trace) else []
    for w in workers:
        events.append(
            {"ph": "M", "pid": 0, "tid": w, "name": "thread_name", "args": {"name": f"worker {w}"}}
        )
    names = list(kernel_names)
    idx_cols = [trace[f"idx{i}"] for i in range(4)]
    for n, rec in enumerate(trace):
        k = int(rec["kernel"])
        idx = [int(c[n]) for c in idx_cols if int(c[n]) >= 0]
        start, end = int(rec["start"]), int(rec["end"])
        events.append(
            {
                "ph": "X",
                "pid": 0,
                "tid": int(rec["worker"]),
                "name": names[k] if 0 <= k < len(names) else f"kernel {k}",
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


def save_chrome_trace(program: Any, path: str | os.PathLike[str]) -> None:
    """Writes ``program``'s last trace as Chrome trace-event JSON to ``path``."""
    runner = getattr(program, "runner", None)
    table = getattr(runner, "cost_table", None)
    ns = float(getattr(table, "ns_per_cycle", 1.0))
    data = chrome_trace(program.trace, getattr(program, "kernel_names", ()), ns)
    with open(path, "w") as f:
        json.dump(data, f)
