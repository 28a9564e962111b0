"""Why did a task wait: its gating cause, wait cycles per cause and kernel, a start-delay
breakdown. Vectorised numpy over the trace's ``cause`` and ``gate`` fields (``wait_causes``).

**Wait of a task.** The simulator records only the bound that won (the gating cause); the
other bounds of a start are not stored (regions are not kept per task). What the trace does let
us recompute is the end of the previous task on the task's worker and on its stream. So:

    wait = start - floor,   floor = max(0, previous end on the worker, previous end on the
                                        stream), leaving out the lane of the gating cause
                                        itself (the worker's for ``worker``, the stream's for
                                        ``stream``)

and the wait is attributed to the gating cause. For a data, barrier, channel, event, window,
timing, start-policy or mesh cause this is the time the task's worker (and stream) sat free
before it while the cause held it: its idle gap, 0 when the lane was busy until the start anyway
(then the cause cost nothing). For ``worker`` (and ``stream``) it is the time the task queued
behind its worker since the other lane let it go, which is the most that lane can explain. A
task with cause ``none`` starts at 0 and waits 0. The numbers are exact for what they say and an
upper bound on what removing the cause alone would gain (another unrecorded bound may sit below
the start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .int_groups import group_index
from .trace import kernel_name, validate_trace
from .trace_gates import lane_prev
from .wait_causes import NO_GATE, WAIT_CAUSES, WaitCause

__all__ = [
    "CAUSE_NAMES",
    "DelayBound",
    "KernelWaits",
    "StartDelay",
    "WaitTotals",
    "cause_codes",
    "cause_names",
    "start_delay",
    "wait_cycles",
    "wait_totals",
]

CAUSE_NAMES: tuple[str, ...] = tuple(c.name for c in WAIT_CAUSES)
_NAMES = np.asarray(CAUSE_NAMES)
_WORKER = CAUSE_NAMES.index("worker")
_STREAM = CAUSE_NAMES.index("stream")


def cause_codes(trace: np.ndarray) -> np.ndarray:
    """The ``cause`` column as int64 (``validate_trace`` checks the codes are known)."""
    validate_trace(trace)
    return np.asarray(trace["cause"], dtype=np.int64)


def cause_names(trace: np.ndarray) -> np.ndarray:
    """The gating cause's name per record (``"raw"``, ``"worker"``, ...: ``CAUSE_NAMES``)."""
    return _NAMES[cause_codes(trace)]


def _floor(trace: np.ndarray, codes: np.ndarray, worker_order: np.ndarray | None) -> np.ndarray:
    end = np.asarray(trace["end"], dtype=np.int64)
    floor = np.zeros(len(trace), dtype=np.int64)
    for field, own in (("worker", _WORKER), ("stream", _STREAM)):
        prev = lane_prev(trace, field, worker_order if field == "worker" else None)
        if int(prev.max(initial=-1)) < 0:
            continue  # no record has a previous task on such a lane (a run without streams)
        use = (prev >= 0) & (codes != own)
        np.maximum(floor, np.where(use, end[prev], 0), out=floor)  # end[-1]: masked out
    return floor


def wait_cycles(trace: np.ndarray, worker_order: np.ndarray | None = None) -> np.ndarray:
    """Each record's wait in cycles (module doc), attributed to its ``cause``. int64.
    ``worker_order``: ``trace_gates.lane_order(trace, "worker")`` when the caller has it."""
    return _wait_cycles(trace, cause_codes(trace), worker_order)


def _wait_cycles(
    trace: np.ndarray, codes: np.ndarray, worker_order: np.ndarray | None
) -> np.ndarray:
    start = np.asarray(trace["start"], dtype=np.int64)
    wait = np.maximum(start - _floor(trace, codes, worker_order), 0)
    wait[codes == 0] = 0
    return wait


@dataclass(frozen=True)
class KernelWaits:
    """Wait cycles of one kernel's tasks, by cause name (causes with no task left out)."""

    kernel_id: int
    name: str
    by_cause: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_cause.values())


@dataclass(frozen=True)
class WaitTotals:
    """Total wait cycles per cause (every cause listed, in tie order) and per kernel."""

    by_cause: dict[str, int]
    tasks_by_cause: dict[str, int]
    kernels: tuple[KernelWaits, ...]


def wait_totals(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    worker_order: np.ndarray | None = None,
) -> WaitTotals:
    """Sums ``wait_cycles`` per cause and per (kernel, cause); counts tasks per cause."""
    codes = cause_codes(trace)
    wait = _wait_cycles(trace, codes, worker_order)
    nc = len(WAIT_CAUSES)
    per_cause = np.bincount(codes, weights=wait, minlength=nc) if len(codes) else np.zeros(nc)
    count = np.bincount(codes, minlength=nc) if len(codes) else np.zeros(nc, dtype=np.int64)
    kernels: list[KernelWaits] = []
    if len(codes):
        ids, inverse = group_index(trace["kernel"])
        grid = np.bincount(inverse * nc + codes, weights=wait, minlength=len(ids) * nc)
        grid = np.rint(grid.reshape(len(ids), nc)).astype(np.int64)
        for i, k in enumerate(ids.tolist()):
            by = {CAUSE_NAMES[c]: int(grid[i, c]) for c in range(nc) if grid[i, c]}
            kernels.append(KernelWaits(int(k), kernel_name(int(k), list(kernel_names)), by))
    return WaitTotals(
        by_cause={CAUSE_NAMES[c]: int(round(per_cause[c])) for c in range(nc)},
        tasks_by_cause={CAUSE_NAMES[c]: int(count[c]) for c in range(nc)},
        kernels=tuple(kernels),
    )


@dataclass(frozen=True)
class DelayBound:
    """One bound on a task's start: its kind (a cause name), the cycle it holds the start to
    and the task whose end it is (``task``/``row`` None when no task's end produced it)."""

    kind: str
    label: str
    cycle: int
    task: int | None
    row: int | None
    gating: bool


@dataclass(frozen=True)
class StartDelay:
    """Why one record started when it did: the gating cause with its gate task, and the bounds
    the trace lets us recompute (the previous task on the worker and on the stream).

    ``bounds`` lists the gating bound first (its ``cycle`` is the start), then the previous
    task on the worker and on the stream when they are not the gating one. ``wait`` is
    ``wait_cycles`` of the record."""

    row: int
    task: int
    start: int
    cause: WaitCause
    gate_task: int | None
    gate_row: int | None
    gate_end: int | None
    wait: int
    bounds: tuple[DelayBound, ...]


def _prev_on_lane(trace: np.ndarray, field: str, row: int) -> int:
    """``lane_prev(trace, field)[row]`` without sorting the trace (a few O(n) passes)."""
    lane = int(trace[field][row])
    if lane < 0:
        return -1
    start = np.asarray(trace["start"], dtype=np.int64)
    end = np.asarray(trace["end"], dtype=np.int64)
    s, e = int(start[row]), int(end[row])
    rows = np.arange(len(trace))
    before = (start < s) | ((start == s) & ((end < e) | ((end == e) & (rows < row))))
    cand = np.flatnonzero((np.asarray(trace[field]) == lane) & before)
    if not len(cand):
        return -1
    best = np.lexsort((cand, end[cand], start[cand]))[-1]
    return int(cand[best])


def _row_of_task(trace: np.ndarray, task: int) -> int:
    hit = np.flatnonzero(np.asarray(trace["task"]) == task)
    return int(hit[0]) if len(hit) else -1


def start_delay(trace: np.ndarray, row: int) -> StartDelay:
    """The start-delay breakdown of record ``row`` (``IndexError`` outside the trace).

    A few O(n) numpy passes and no sort (about 10 ms at 10^6 records): meant for a selected
    slice, not for a loop over slices (use ``wait_cycles`` for those)."""
    validate_trace(trace)
    n = len(trace)
    if not -n <= row < n:
        raise IndexError(f"start_delay: row {row} outside a trace of {n} records")
    row = row % n
    rec = trace[row]
    start, task = int(rec["start"]), int(rec["task"])
    code = int(rec["cause"])
    cause = WAIT_CAUSES[code]
    g = -1
    if code != 0 and int(rec["gate"]) != NO_GATE:
        g = _row_of_task(trace, int(rec["gate"]))
    gate_task = int(trace["task"][g]) if g >= 0 else None
    bounds = [DelayBound(cause.name, cause.label, start, gate_task, g if g >= 0 else None, True)]
    floor = 0
    for field, own in (("worker", _WORKER), ("stream", _STREAM)):
        prev = _prev_on_lane(trace, field, row)
        if prev < 0 or code == own:
            continue
        c = WAIT_CAUSES[own]
        prev_end = int(trace["end"][prev])
        floor = max(floor, prev_end)
        bounds.append(DelayBound(c.name, c.label, prev_end, int(trace["task"][prev]), prev, False))
    return StartDelay(
        row=row,
        task=task,
        start=start,
        cause=cause,
        gate_task=gate_task,
        gate_row=g if g >= 0 else None,
        gate_end=int(trace["end"][g]) if g >= 0 else None,
        wait=0 if code == 0 else max(start - floor, 0),
        bounds=tuple(bounds),
    )
