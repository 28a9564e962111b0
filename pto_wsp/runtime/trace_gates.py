"""Rows of a trace that gate other rows: the gating predecessor and the previous task per lane.

Numpy only and free of the rest of the trace model, so the Chrome export (``trace``) and the
wait analysis (``trace_waits``) both build on it. A record's ``gate`` is a submission index
(``task``), not a row: buffering policies record in issue order, so the two differ in general.
"""

from __future__ import annotations

import numpy as np

from .wait_causes import NO_GATE

__all__ = ["gate_rows", "lane_order", "lane_prev"]


def gate_rows(trace: np.ndarray) -> np.ndarray:
    """The row of each record's gating task, -1 when it has none (cause ``none``, no gate task,
    or a gate task that is not in ``trace``). int64, one entry per record."""
    n = len(trace)
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out
    gate = np.asarray(trace["gate"], dtype=np.int64)
    has = (np.asarray(trace["cause"]) != 0) & (gate != NO_GATE)
    if not bool(has.any()):
        return out
    task = np.asarray(trace["task"])
    if bool(np.array_equal(task, np.arange(n, dtype=task.dtype))):  # the common case: rows = tasks
        return np.where(has & (gate < n), gate, out)
    task = task.astype(np.int64)
    order = np.argsort(task, kind="stable")
    sorted_tasks = task[order]
    g = gate[has]
    pos = np.minimum(np.searchsorted(sorted_tasks, g), n - 1)
    out[has] = np.where(sorted_tasks[pos] == g, order[pos], -1)
    return out


def lane_order(trace: np.ndarray, field: str) -> np.ndarray:
    """The rows sorted by ``field`` lane (``"worker"`` or ``"stream"``), then start, then end,
    then row: the order of the lanes' slices (``lanes.build_lanes``) and of ``lane_prev``.

    The simulator records each lane's tasks in the order they start, so a stable counting sort
    of the lane ids (numpy's radix sort of a 16-bit column) is usually the whole sort; only when
    some lane is then out of (start, end) order does it fall back to a full ``lexsort``.
    int64 (``intp``), one entry per record."""
    n = len(trace)
    lane = np.asarray(trace[field], dtype=np.int64)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    start = np.asarray(trace["start"], dtype=np.int64)
    end = np.asarray(trace["end"], dtype=np.int64)
    lo, hi = int(lane.min()), int(lane.max())
    if hi - lo < 1 << 16:
        order = np.argsort((lane - lo).astype(np.uint16), kind="stable")
    else:
        order = np.argsort(lane, kind="stable")
    s, e, k = start[order], end[order], lane[order]
    same = k[1:] == k[:-1]
    back = (s[1:] < s[:-1]) | ((s[1:] == s[:-1]) & (e[1:] < e[:-1]))
    if bool(np.any(same & back)):
        return np.lexsort((end, start, lane))  # stable: equal keys keep row order
    return order


def lane_prev(trace: np.ndarray, field: str, order: np.ndarray | None = None) -> np.ndarray:
    """The row of the task that ran before each record on the same ``field`` lane (``"worker"``
    or ``"stream"``: by start, then end, then row), -1 for a lane's first task and for records
    with a negative lane (no stream). int64, one entry per record. ``order``: ``lane_order(trace,
    field)`` when the caller has it already (the run analysis sorts the worker lanes once)."""
    n = len(trace)
    out = np.full(n, -1, dtype=np.int64)
    if n < 2:
        return out
    lane = np.asarray(trace[field], dtype=np.int64)
    if int(lane.max()) < 0:  # no record on such a lane (a run without streams): no sort
        return out
    if order is None:
        order = lane_order(trace, field)
    sorted_lane = lane[order]
    out[order[1:]] = np.where(sorted_lane[1:] == sorted_lane[:-1], order[:-1], -1)
    if int(sorted_lane[0]) < 0:  # records without a lane sort first: none has a previous task
        out[lane < 0] = -1
    return out
