"""Lanes: a trace grouped into rows — one per worker, per stream or per CSP process.

This is the one model of "who was busy when" behind the timeline, the Stats panel, ``pto-wsp run
--stats``, the compare view (``run_diff``) and the sweep: utilisation is a lane's busy cycles over the run's
makespan, and in worker mode there is a lane for every *configured* worker (``num_workers``, the
worker count the run's schedule resolved to), so an idle worker is a lane at 0%, not a missing
row.

Each lane holds its slices as parallel arrays sorted by start. Everything the timeline does per
frame (finding the visible slices, hit-testing the mouse) is a ``searchsorted`` over one lane's
arrays: with 10^6 slices a Python loop over slices would cost seconds per frame. Streams are served
by several workers, so slices on a stream lane may overlap; each lane therefore also keeps the
running maximum of its ends (``max_end``): it is sorted, so the first slice that can reach past
``x`` is one ``searchsorted`` away, which keeps visibility and hit tests exact on overlapping lanes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from .csp_trace import CspTrace
from .trace import TraceError, has_streams, validate_trace
from .trace_gates import lane_order

__all__ = [
    "LaneMode",
    "LANE_MODES",
    "Lane",
    "LaneSet",
    "makespan_of",
    "busy_cycles",
    "build_lanes",
    "lane_totals",
    "LaneTotals",
    "process_lanes",
]

LaneMode = Literal["workers", "streams", "processes"]
LANE_MODES: tuple[str, ...] = ("workers", "streams", "processes")


def _no_ints() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def makespan_of(trace: np.ndarray) -> int:
    """From the earliest start (or cycle 0, whichever is first) to the latest end."""
    validate_trace(trace)
    if len(trace) == 0:
        return 0
    start, end = np.asarray(trace["start"]), np.asarray(trace["end"])
    return int(end.max()) - min(0, int(start.min()))


def busy_cycles(starts: np.ndarray, ends: np.ndarray) -> int:
    """Cycles covered by the union of ``[start, end)`` intervals sorted by start.

    A union, not a sum: slices overlap on a stream lane, and a lane is never more than 100% busy.
    """
    if len(starts) == 0:
        return 0
    s = np.asarray(starts, dtype=np.int64)
    cummax = np.maximum.accumulate(np.asarray(ends, dtype=np.int64))
    prev = np.empty_like(cummax)
    prev[0] = s[0]
    prev[1:] = cummax[:-1]
    return int(np.maximum(cummax - np.maximum(s, prev), 0).sum())


@dataclass(frozen=True, eq=False)
class Lane:
    """One row of the timeline: its slices as parallel arrays sorted by start.

    ``rows`` index the original trace, so a hit maps back to its record.
    """

    key: int
    label: str
    rows: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    kernels: np.ndarray
    max_end: np.ndarray
    busy: int
    # CSP process lanes: the intervals the process was blocked, sorted by start (they never
    # overlap: a process waits for one thing at a time), and what each waited for.
    wait_starts: np.ndarray = field(default_factory=_no_ints)
    wait_ends: np.ndarray = field(default_factory=_no_ints)
    wait_texts: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.rows)

    def wait_at(self, x: float, tolerance: float = 0.0) -> int | None:
        """The index of the wait interval under cycle ``x`` (within ``tolerance``), if any."""
        if not len(self.wait_starts) or not math.isfinite(x):
            return None
        i = int(np.searchsorted(self.wait_starts, x + tolerance, side="right")) - 1
        if i >= 0 and x - tolerance < self.wait_ends[i]:
            return i
        return None

    def visible(self, x0: float, x1: float) -> tuple[int, int]:
        """The index range ``[i0, i1)`` of slices that intersect ``[x0, x1]``."""
        # Integer queries: a float query would make numpy cast the whole int64 array first.
        i0 = int(np.searchsorted(self.max_end, np.int64(math.ceil(x0)), side="left"))
        i1 = int(np.searchsorted(self.starts, np.int64(math.floor(x1)), side="right"))
        return i0, max(i0, i1)

    def hit(self, x: float, tolerance: float = 0.0) -> int | None:
        """The lane index of the slice under ``x``, else the nearest within ``tolerance``.

        Among overlapping slices the latest-starting one wins (it is drawn on top).
        """
        i0, i1 = self.visible(x - tolerance, x + tolerance)
        if i0 >= i1:
            return None
        s = self.starts[i0:i1]
        e = self.ends[i0:i1]
        inside = np.flatnonzero((s <= x) & (x < e))
        if len(inside):
            return i0 + int(inside[-1])
        # No slice contains x (a gap, or slices narrower than a pixel): nearest edge wins.
        dist = np.maximum(np.maximum(s - x, x - e), 0.0)
        ok = np.flatnonzero((e >= x - tolerance) & (s <= x + tolerance))
        if not len(ok):
            return None
        return i0 + int(ok[np.argmin(dist[ok])])


@dataclass(frozen=True, eq=False)
class LaneSet:
    """The lanes of one trace in one lane mode, with the run's makespan."""

    mode: str
    lanes: tuple[Lane, ...]
    makespan: int
    slice_count: int

    def utilisation(self, lane: Lane) -> float:
        """Busy cycles over the makespan (0 for an empty run)."""
        return lane.busy / self.makespan if self.makespan > 0 else 0.0

    @property
    def mean_utilisation(self) -> float:
        """Mean utilisation over every lane, idle ones included (0 when there are none)."""
        if not self.lanes:
            return 0.0
        return sum(self.utilisation(lane) for lane in self.lanes) / len(self.lanes)

    def by_label(self) -> dict[str, Lane]:
        return {lane.label: lane for lane in self.lanes}


def _lane(key: int, label: str, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray,
          kernels: np.ndarray) -> Lane:  # fmt: skip
    s, e = starts[rows], ends[rows]
    return Lane(
        key=key,
        label=label,
        rows=rows,
        starts=s,
        ends=e,
        kernels=kernels[rows],
        max_end=np.maximum.accumulate(e) if len(e) else e,
        busy=busy_cycles(s, e),
    )


def build_lanes(
    trace: np.ndarray,
    mode: str = "workers",
    csp: CspTrace | None = None,
    num_workers: int | None = None,
    order: np.ndarray | None = None,
) -> LaneSet:
    """Groups ``trace`` into lanes (one per worker, per stream, or per CSP process) by start.

    One sort over the whole trace (``trace_gates.lane_order``), then split at lane boundaries: no
    per-slice Python work. In mode ``"workers"``, ``num_workers`` (the run's configured worker
    count) adds an empty lane for each worker ``0..num_workers-1`` that ran nothing. Mode
    ``"processes"`` needs ``csp`` (see ``process_lanes``). ``order``: ``lane_order`` of the
    mode's field when the caller has it already (the run analysis shares it with the waits).
    """
    validate_trace(trace)
    if mode not in LANE_MODES:
        raise TraceError(f"timeline: unknown lane mode {mode!r}; expected one of {LANE_MODES}")
    if mode == "processes":
        if csp is None or not csp.processes:
            raise TraceError(
                "timeline: lane mode 'processes' needs a run with CSP processes (a P.pipe, "
                "consume or connect); use 'workers'"
            )
        return process_lanes(trace, csp)
    if mode == "streams" and len(trace) and not has_streams(trace):
        raise TraceError(
            "timeline: lane mode 'streams' needs a trace with streams; every record of this "
            "trace has stream -1 (schedule the workload with .streams(n) or use 'workers')"
        )
    field_name = "worker" if mode == "workers" else "stream"
    groups = _groups(trace, field_name, num_workers if mode == "workers" else None, order)
    kernels = np.asarray(trace["kernel"], dtype=np.int64)[groups.order]
    noun = "worker" if mode == "workers" else "stream"
    lanes = []
    for key, a, b in groups.spans:
        s, e = groups.starts[a:b], groups.ends[a:b]
        lanes.append(
            Lane(
                key=key,
                label=f"{noun} {key}" if key >= 0 else f"{noun} none",
                rows=groups.order[a:b],
                starts=s,
                ends=e,
                kernels=kernels[a:b],
                max_end=np.maximum.accumulate(e) if len(e) else e,
                busy=busy_cycles(s, e),
            )
        )
    return LaneSet(
        mode=mode, lanes=tuple(lanes), makespan=makespan_of(trace), slice_count=len(trace)
    )


@dataclass(frozen=True)
class LaneTotals:
    """A lane's numbers without its slices: what the Stats panel and ``pto-wsp run`` list."""

    key: int
    task_count: int
    busy: int


def lane_totals(
    trace: np.ndarray,
    field: str = "worker",
    num_workers: int | None = None,
    order: np.ndarray | None = None,
) -> tuple[LaneTotals, ...]:
    """Task count and busy cycles of each ``field`` lane (``"worker"``: with ``num_workers``,
    idle workers too), as ``build_lanes`` computes them, without building the lanes' arrays."""
    validate_trace(trace)
    groups = _groups(trace, field, num_workers if field == "worker" else None, order)
    return tuple(
        LaneTotals(key, b - a, busy_cycles(groups.starts[a:b], groups.ends[a:b]))
        for key, a, b in groups.spans
    )


@dataclass(frozen=True)
class _Groups:
    """The records sorted into lanes: the order, starts and ends in it, and each lane's
    ``(key, first, end)`` span of it, by key (empty spans for idle configured workers)."""

    order: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    spans: tuple[tuple[int, int, int], ...]


def _groups(
    trace: np.ndarray, field: str, num_workers: int | None, order: np.ndarray | None
) -> _Groups:
    if order is None:
        order = lane_order(trace, field)
    sorted_keys = np.asarray(trace[field])[order]
    starts = np.asarray(trace["start"], dtype=np.int64)[order]
    ends = np.asarray(trace["end"], dtype=np.int64)[order]
    cuts = (np.flatnonzero(np.diff(sorted_keys)) + 1).tolist()
    bounds = [0, *cuts, len(order)] if len(order) else [0]
    spans = {int(sorted_keys[a]): (a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)}
    for w in range(int(num_workers or 0)):
        spans.setdefault(w, (0, 0))
    return _Groups(order, starts, ends, tuple((k, *spans[k]) for k in sorted(spans)))


def process_lanes(trace: np.ndarray, csp: CspTrace) -> LaneSet:
    """One lane per CSP process (label: its name) with its tasks and its wait intervals.

    Tasks the driver submitted (outside any process) get a last lane, "driver", when there
    are any. Every process gets a lane, even one that ran no task (it may only have waited).
    """
    validate_trace(trace)
    owner = np.asarray(csp.task_process, dtype=np.int64)
    if len(owner) != len(trace):
        raise TraceError(
            f"timeline: the CSP trace names the process of {len(owner)} tasks, the trace has "
            f"{len(trace)}: they come from different runs"
        )
    starts = np.asarray(trace["start"], dtype=np.int64)
    ends = np.asarray(trace["end"], dtype=np.int64)
    kernels = np.asarray(trace["kernel"], dtype=np.int64)
    order = np.lexsort((ends, starts, owner))
    sorted_owner = owner[order]
    waits = csp.waits
    keys = list(range(len(csp.processes)))
    if bool(np.any(owner < 0)):
        keys.append(-1)
    lanes: list[Lane] = []
    for key in keys:
        a = int(np.searchsorted(sorted_owner, key, side="left"))
        b = int(np.searchsorted(sorted_owner, key, side="right"))
        lane = _lane(key, csp.processes[key] if key >= 0 else "driver", order[a:b], starts, ends,
                     kernels)  # fmt: skip
        mine = waits[waits["process"] == key] if key >= 0 else waits[:0]
        mine = mine[np.argsort(mine["start"], kind="stable")]
        lanes.append(
            replace(
                lane,
                wait_starts=np.asarray(mine["start"], dtype=np.int64),
                wait_ends=np.asarray(mine["end"], dtype=np.int64),
                wait_texts=tuple(
                    csp.wait_text(int(k), int(o))
                    for k, o in zip(mine["kind"], mine["object"], strict=True)
                ),
            )
        )
    makespan = max(makespan_of(trace), int(waits["end"].max()) if len(waits) else 0)
    return LaneSet(mode="processes", lanes=tuple(lanes), makespan=makespan, slice_count=len(trace))
