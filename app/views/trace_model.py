"""The numerics behind the timeline, kept free of Qt so they are unit tested on plain numpy.

A trace is the simulator's per-task structured array (``pto_wsp.runtime.trace.TRACE_DTYPE``: ``task``,
``kernel``, ``worker``, ``stream``, ``start``, ``end``, ``idx0..idx3``). The timeline shows it as
lanes — one per worker, or one per stream — each holding its slices sorted by start. Everything the
view does per frame (finding the visible slices, binning sub-pixel slices, hit-testing the mouse)
is a ``searchsorted`` or a vectorised numpy pass over one lane's arrays: with 10^6 slices a Python
loop over slices would cost seconds per frame.

Streams are served by several workers, so slices on a stream lane may overlap. Each lane therefore
also keeps the running maximum of its ends (``max_end``): it is sorted, so the first slice that can
reach past ``x`` is one ``searchsorted`` away, which keeps visibility and hit tests exact on
overlapping lanes too.
"""

from __future__ import annotations

import colorsys
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from pto_wsp.errors import PtoError
from pto_wsp.runtime.trace_analysis import critical_path as analysis_critical_path

__all__ = [
    "LaneMode",
    "LANE_MODES",
    "CspTrace",
    "WAIT_SEND",
    "WAIT_TAKE",
    "WAIT_EVENT",
    "TRACE_FIELDS",
    "Lane",
    "LaneSet",
    "LodRects",
    "CriticalPath",
    "LaneDiff",
    "RunDiff",
    "validate_trace",
    "has_streams",
    "build_lanes",
    "process_lanes",
    "busy_cycles",
    "lod_rects",
    "lod_columns",
    "critical_path",
    "diff_runs",
    "kernel_palette",
    "kernel_name",
    "loop_indices",
    "slice_text",
    "gang_size",
    "COLLECTIVE_KINDS",
    "task_mask",
]

LaneMode = Literal["workers", "streams", "processes"]
LANE_MODES: tuple[str, ...] = ("workers", "streams", "processes")

# Wait kinds of the CSP trace (runtime/csp.h PTO_CSP_WAIT_*; ``_core.csp.WAIT_*``).
WAIT_SEND, WAIT_TAKE, WAIT_EVENT = 0, 1, 2
_CSP_KEYS = (
    "processes",
    "channels",
    "events",
    "process_start",
    "process_end",
    "occupancy",
    "waits",
    "task_process",
)

TRACE_FIELDS: tuple[str, ...] = (
    "task",
    "kernel",
    "worker",
    "stream",
    "start",
    "end",
    "idx0",
    "idx1",
    "idx2",
    "idx3",
)

# Qualitative palette (Tableau 20 order, dark shades first): distinct for the first 20 kernels,
# then golden-ratio hues so that any number of kernels still gets a stable, distinct-ish colour.
_BASE_PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (199, 199, 199),
    (219, 219, 141),
    (158, 218, 229),
)


def _no_ints() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class CspTrace:
    """The CSP side of a run (``pto_wsp.runtime.runner`` writes it as ``<trace>.csp.npz``).

    Names by index (``processes``, ``channels``, ``events``), per-process start/end cycles,
    ``occupancy`` (``time, channel, occupancy``: slots in use after each change), ``waits``
    (``start, end, process, object, kind``) and ``task_process``: the process that submitted
    each trace row (-1: the driver). docs/semantics.md "CSP execution" defines them.
    """

    processes: tuple[str, ...]
    channels: tuple[str, ...]
    events: tuple[str, ...]
    process_start: np.ndarray
    process_end: np.ndarray
    occupancy: np.ndarray
    waits: np.ndarray
    task_process: np.ndarray

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CspTrace:
        """From ``program.runner.csp_trace()`` or a loaded ``.csp.npz`` (PtoError if partial)."""
        missing = [k for k in _CSP_KEYS if k not in data]
        if missing:
            raise PtoError(f"timeline: the CSP trace lacks {missing}")
        return cls(
            processes=tuple(str(x) for x in data["processes"]),
            channels=tuple(str(x) for x in data["channels"]),
            events=tuple(str(x) for x in data["events"]),
            process_start=np.asarray(data["process_start"], dtype=np.int64),
            process_end=np.asarray(data["process_end"], dtype=np.int64),
            occupancy=np.asarray(data["occupancy"]),
            waits=np.asarray(data["waits"]),
            task_process=np.asarray(data["task_process"], dtype=np.int64),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CspTrace:
        """Reads a ``.csp.npz`` written by the runner (no pickles)."""
        with np.load(path, allow_pickle=False) as data:
            return cls.from_mapping({k: data[k] for k in data.files})

    def object_name(self, kind: int, obj: int) -> str:
        names = self.events if kind == WAIT_EVENT else self.channels
        return names[obj] if 0 <= obj < len(names) else f"#{obj}"

    def wait_text(self, kind: int, obj: int) -> str:
        """What a wait interval means, for a tooltip ("waiting to send on l2c")."""
        name = self.object_name(kind, obj)
        if kind == WAIT_SEND:
            return f"waiting to send on {name} (channel full)"
        if kind == WAIT_TAKE:
            return f"waiting to take from {name} (channel empty)"
        if kind == WAIT_EVENT:
            return f"waiting in synchronize({name})"
        return f"waiting on {name}"

    def peak_occupancy(self) -> dict[str, int]:
        """The most slots each channel held at once during the run, by channel name."""
        occ = self.occupancy
        peaks = dict.fromkeys(self.channels, 0)
        for i, name in enumerate(self.channels):
            values = occ["occupancy"][occ["channel"] == i]
            if len(values):
                peaks[name] = int(values.max())
        return peaks

    def occupancy_steps(
        self, channel: int, end: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of channel ``channel``'s occupancy as a step curve (x one longer than y).

        Starts at 0 slots at cycle 0 and holds the last value up to ``end`` (default: the last
        change), the shape ``PlotDataItem(x, y, stepMode="center")`` draws.
        """
        occ = self.occupancy[self.occupancy["channel"] == channel]
        times = np.asarray(occ["time"], dtype=np.int64)
        values = np.asarray(occ["occupancy"], dtype=np.int64)
        if not len(times) or times[0] > 0:
            times = np.concatenate(([0], times))
            values = np.concatenate(([0], values))
        last = int(times[-1]) if end is None else max(int(end), int(times[-1]))
        x = np.concatenate((times, [last if last > times[-1] else times[-1] + 1]))
        return x.astype(np.float64), values.astype(np.float64)


def validate_trace(trace: np.ndarray) -> np.ndarray:
    """Checks that ``trace`` is a 1-D structured array with the trace fields; returns it.

    Raises ``PtoError`` naming the missing fields, so a wrong file shows a useful message in the
    app instead of a ``KeyError`` deep inside a paint call.
    """
    if not isinstance(trace, np.ndarray) or trace.dtype.names is None:
        raise PtoError(
            f"timeline: a trace must be a numpy structured array with fields {TRACE_FIELDS}, "
            f"got {type(trace).__name__}"
        )
    missing = [f for f in TRACE_FIELDS if f not in trace.dtype.names]
    if missing:
        raise PtoError(f"timeline: the trace lacks the field(s) {missing}")
    if trace.ndim != 1:
        raise PtoError(f"timeline: a trace must be 1-D, got shape {trace.shape}")
    if len(trace) and bool(np.any(trace["end"] < trace["start"])):
        bad = int(np.argmax(trace["end"] < trace["start"]))
        raise PtoError(
            f"timeline: record {bad} (task {int(trace['task'][bad])}) ends before it starts"
        )
    return trace


def has_streams(trace: np.ndarray) -> bool:
    """True when any record ran on a stream (the simulator writes -1 without streams)."""
    return bool(len(trace)) and bool(np.any(trace["stream"] >= 0))


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

    def by_label(self) -> dict[str, Lane]:
        return {lane.label: lane for lane in self.lanes}


def build_lanes(trace: np.ndarray, mode: str = "workers", csp: CspTrace | None = None) -> LaneSet:
    """Groups ``trace`` into lanes (one per worker, per stream, or per CSP process) by start.

    One ``lexsort`` over the whole trace, then split at lane boundaries: no per-slice Python work.
    Mode ``"processes"`` needs ``csp`` (see ``process_lanes``).
    """
    validate_trace(trace)
    if mode not in LANE_MODES:
        raise PtoError(f"timeline: unknown lane mode {mode!r}; expected one of {LANE_MODES}")
    if mode == "processes":
        if csp is None or not csp.processes:
            raise PtoError(
                "timeline: lane mode 'processes' needs a run with CSP processes (a P.pipe, "
                "consume or connect); use 'workers'"
            )
        return process_lanes(trace, csp)
    if mode == "streams" and len(trace) and not has_streams(trace):
        raise PtoError(
            "timeline: lane mode 'streams' needs a trace with streams; every record of this "
            "trace has stream -1 (schedule the workload with .streams(n) or use 'workers')"
        )
    field_name = "worker" if mode == "workers" else "stream"
    keys = np.asarray(trace[field_name], dtype=np.int64)
    starts = np.asarray(trace["start"], dtype=np.int64)
    ends = np.asarray(trace["end"], dtype=np.int64)
    kernels = np.asarray(trace["kernel"], dtype=np.int64)
    order = np.lexsort((ends, starts, keys))
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    bounds = np.concatenate(([0], cuts, [len(order)])) if len(order) else np.zeros(1, np.int64)
    lanes: list[Lane] = []
    noun = "worker" if mode == "workers" else "stream"
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        rows = order[a:b]
        key = int(sorted_keys[a])
        s, e = starts[rows], ends[rows]
        lanes.append(
            Lane(
                key=key,
                label=f"{noun} {key}" if key >= 0 else f"{noun} none",
                rows=rows,
                starts=s,
                ends=e,
                kernels=kernels[rows],
                max_end=np.maximum.accumulate(e),
                busy=busy_cycles(s, e),
            )
        )
    makespan = int(ends.max()) if len(ends) else 0
    return LaneSet(mode=mode, lanes=tuple(lanes), makespan=makespan, slice_count=len(trace))


def process_lanes(trace: np.ndarray, csp: CspTrace) -> LaneSet:
    """One lane per CSP process (label: its name) with its tasks and its wait intervals.

    Tasks the driver submitted (outside any process) get a last lane, "driver", when there
    are any. Every process gets a lane, even one that ran no task (it may only have waited).
    """
    validate_trace(trace)
    owner = np.asarray(csp.task_process, dtype=np.int64)
    if len(owner) != len(trace):
        raise PtoError(
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
        rows = order[a:b]
        s, e = starts[rows], ends[rows]
        mine = waits[waits["process"] == key] if key >= 0 else waits[:0]
        mine = mine[np.argsort(mine["start"], kind="stable")]
        lanes.append(
            Lane(
                key=key,
                label=csp.processes[key] if key >= 0 else "driver",
                rows=rows,
                starts=s,
                ends=e,
                kernels=kernels[rows],
                max_end=np.maximum.accumulate(e) if len(e) else e,
                busy=busy_cycles(s, e),
                wait_starts=np.asarray(mine["start"], dtype=np.int64),
                wait_ends=np.asarray(mine["end"], dtype=np.int64),
                wait_texts=tuple(
                    csp.wait_text(int(k), int(o))
                    for k, o in zip(mine["kind"], mine["object"], strict=True)
                ),
            )
        )
    makespan = max(
        int(ends.max()) if len(ends) else 0,
        int(waits["end"].max()) if len(waits) else 0,
    )
    return LaneSet(mode="processes", lanes=tuple(lanes), makespan=makespan, slice_count=len(trace))


@dataclass(frozen=True, eq=False)
class LodRects:
    """Rectangles to draw for one lane, in device pixels along x, coloured by kernel id."""

    left: np.ndarray
    right: np.ndarray
    kernel: np.ndarray

    def __len__(self) -> int:
        return len(self.left)


DENSE_SLICES_PER_PX = 4.0  # above this many visible slices per pixel column, bin by column


def lod_rects(
    starts: np.ndarray,
    ends: np.ndarray,
    kernels: np.ndarray,
    x0: float,
    px_per_cycle: float,
    width_px: int,
    min_px: float = 1.0,
    max_end: np.ndarray | None = None,
) -> LodRects:
    """Level of detail for one lane: what to draw of the given slices (sorted by start).

    Pixel x of cycle ``c`` is ``(c - x0) * px_per_cycle``; the viewport is ``width_px`` wide.
    Two regimes, both of which cover every pixel column that any slice touches:

    - sparse (at most ``DENSE_SLICES_PER_PX`` slices per column): slices at least ``min_px``
      wide are drawn as they are (clipped to the viewport); narrower ones mark the columns their
      start and end fall in (at most two), a column takes the kernel of the last slice that
      marked it, and runs of equally coloured columns merge into one rect. Cost O(slices).
    - dense: per pixel column, two ``searchsorted`` calls find whether any slice intersects it
      (starts before its right edge, running max of ends reaching its left edge); it takes the
      kernel of the last slice starting before its right edge. Cost O(width_px * log(slices)),
      independent of how many slices are visible: 10^6 slices cost what 10^4 do.

    ``max_end`` is the running maximum of ``ends`` (``Lane.max_end``); it is computed when not
    given.
    """
    n = len(starts)
    k = np.asarray(kernels, dtype=np.int64)
    if width_px <= 0 or n == 0:
        empty = np.zeros(0, dtype=np.float64)
        return LodRects(empty, empty, np.zeros(0, dtype=np.int64))
    if n > DENSE_SLICES_PER_PX * width_px:
        if max_end is None:
            max_end = np.maximum.accumulate(np.asarray(ends))
        column = lod_columns(np.asarray(starts), max_end, k, x0, px_per_cycle, width_px)
        return LodRects(*_runs(column))
    xs = (starts - x0) * px_per_cycle
    xe = (ends - x0) * px_per_cycle
    wide = (xe - xs) >= min_px
    lo, hi = -2.0, float(width_px) + 2.0  # clip: huge coordinates upset the raster engine
    wl = np.clip(xs[wide], lo, hi)
    wr = np.clip(xe[wide], lo, hi)
    wk = k[wide]
    narrow = ~wide
    if not narrow.any():
        return LodRects(wl, wr, wk)
    ns, ne, nk = xs[narrow], xe[narrow], k[narrow]
    cs = np.floor(ns)
    ce = np.maximum(np.ceil(ne) - 1.0, cs)  # an end on a column boundary does not enter it
    last = width_px - 1
    cs = np.clip(cs, 0, last).astype(np.int64)
    ce = np.clip(ce, 0, last).astype(np.int64)
    column = np.full(width_px, -1, dtype=np.int64)
    column[cs] = nk
    column[ce] = nk
    left, right, kern = _runs(column)
    return LodRects(
        np.concatenate((wl, left)), np.concatenate((wr, right)), np.concatenate((wk, kern))
    )


def lod_columns(
    starts: np.ndarray,
    max_end: np.ndarray,
    kernels: np.ndarray,
    x0: float,
    px_per_cycle: float,
    width_px: int,
) -> np.ndarray:
    """Per pixel column of the viewport, the kernel id drawn there (-1: no slice touches it).

    Column ``c`` spans cycles ``[x0 + c / px, x0 + (c + 1) / px)``. Two ``searchsorted`` calls
    per column find whether any slice intersects it (a start before its right edge, the running
    max of ends past its left edge); it takes the kernel of the last slice starting before
    its right edge. Cost O(width_px * log(slices)), independent of how many slices are visible.
    """
    edges = x0 + np.arange(width_px + 1, dtype=np.float64) / px_per_cycle
    # Integer queries keep numpy from casting the lane's int64 arrays to float. Column c is
    # touched by a slice that starts before its right edge R and either ends after its left
    # edge L or (zero cycles long) starts at or after L: start < R <=> start < ceil(R),
    # max_end > L <=> max_end >= floor(L) + 1, start >= L <=> start >= ceil(L).
    if np.issubdtype(starts.dtype, np.integer):
        up = np.ceil(edges).astype(np.int64)
        hi = np.searchsorted(starts, up[1:], side="left")
        lo = np.searchsorted(max_end, np.floor(edges[:-1]).astype(np.int64) + 1, side="left")
        first = np.searchsorted(starts, up[:-1], side="left")
    else:
        hi = np.searchsorted(starts, edges[1:], side="left")
        lo = np.searchsorted(max_end, edges[:-1], side="right")
        first = np.searchsorted(starts, edges[:-1], side="left")
    covered = (hi > lo) | (hi > first)
    column = np.full(width_px, -1, dtype=np.int64)
    column[covered] = np.asarray(kernels)[hi[covered] - 1]
    return column


def _runs(column: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal non-negative values in ``column`` as (left px, right px, value)."""
    edges = np.flatnonzero(np.diff(column)) + 1
    run_start = np.concatenate(([0], edges))
    run_end = np.concatenate((edges, [len(column)]))
    run_k = column[run_start]
    keep = run_k >= 0
    return (
        run_start[keep].astype(np.float64),
        run_end[keep].astype(np.float64),
        run_k[keep],
    )


@dataclass(frozen=True)
class CriticalPath:
    """The chain of back-to-back tasks that ends the run, and its busy length in cycles.

    ``rows`` index the trace, first task first. ``length`` is the sum of their durations; it
    equals the makespan when the chain reaches cycle 0 without a gap.
    """

    length: int
    rows: np.ndarray


def critical_path(trace: np.ndarray) -> CriticalPath:
    """The run's critical path as rows of ``trace``, first task first.

    One definition for the whole product: the chain ``pto_wsp.runtime.trace_analysis.critical_path``
    finds (the Stats dock and ``pto-wsp run --stats`` report it), so the slices the timeline
    outlines are exactly the tasks the Stats dock counts.
    """
    validate_trace(trace)
    cp = analysis_critical_path(trace)
    if not cp.tasks:
        return CriticalPath(0, np.zeros(0, dtype=np.int64))
    task = np.asarray(trace["task"], dtype=np.int64)
    order = np.argsort(task, kind="stable")
    rows = order[np.searchsorted(task[order], np.asarray(cp.tasks, dtype=np.int64))]
    return CriticalPath(int(cp.cycles), rows.astype(np.int64))


@dataclass(frozen=True)
class LaneDiff:
    """Busy cycles of one lane label in runs A and B (0 where the lane is absent)."""

    label: str
    busy_a: int
    busy_b: int

    @property
    def delta(self) -> int:
        return self.busy_b - self.busy_a


@dataclass(frozen=True)
class RunDiff:
    """B minus A: total cycles (makespans) and busy cycles per lane."""

    total_a: int
    total_b: int
    lanes: tuple[LaneDiff, ...] = field(default_factory=tuple)

    @property
    def delta(self) -> int:
        return self.total_b - self.total_a

    @property
    def delta_pct(self) -> float:
        """The change relative to A, in percent (``nan`` when A is empty and B is not)."""
        if self.total_a == 0:
            return 0.0 if self.total_b == 0 else float("nan")
        return 100.0 * self.delta / self.total_a


def _lane_sort_key(label: str) -> tuple[str, int]:
    noun, _, num = label.rpartition(" ")
    return (noun, int(num)) if num.lstrip("-").isdigit() else (label, 0)


def diff_runs(a: LaneSet, b: LaneSet) -> RunDiff:
    """Compares two runs lane by lane (lanes matched by label, e.g. ``worker 3``)."""
    la, lb = a.by_label(), b.by_label()
    labels = sorted(set(la) | set(lb), key=_lane_sort_key)
    lanes = tuple(
        LaneDiff(
            label,
            la[label].busy if label in la else 0,
            lb[label].busy if label in lb else 0,
        )
        for label in labels
    )
    return RunDiff(a.makespan, b.makespan, lanes)


def kernel_palette(names: Iterable[str]) -> dict[str, tuple[int, int, int]]:
    """A stable colour per kernel name, in order of first appearance.

    Stable means: the same list gives the same colours in every session, and two runs compared
    side by side colour a kernel alike when given the union of their names.
    """
    out: dict[str, tuple[int, int, int]] = {}
    for name in names:
        if name in out:
            continue
        i = len(out)
        if i < len(_BASE_PALETTE):
            out[name] = _BASE_PALETTE[i]
        else:
            h = (i * 0.618033988749895) % 1.0
            r, g, bl = colorsys.hsv_to_rgb(h, 0.55, 0.85)
            out[name] = (int(r * 255), int(g * 255), int(bl * 255))
    return out


def kernel_name(kernel_id: int, kernel_names: Sequence[str]) -> str:
    """The kernel's name, or ``kernel <id>`` when the id is outside the names list."""
    return kernel_names[kernel_id] if 0 <= kernel_id < len(kernel_names) else f"kernel {kernel_id}"


def loop_indices(record: np.void) -> tuple[int, ...]:
    """The record's loop indices (the simulator writes -1 for absent ones)."""
    return tuple(int(record[f"idx{i}"]) for i in range(4) if int(record[f"idx{i}"]) >= 0)


COLLECTIVE_KINDS = frozenset({"relayout", "allreduce", "allgather", "reduce_scatter"})
"""Trace "kernels" that are collectives: one gang task per mesh worker, all in one interval."""


def gang_size(record: np.void, trace: np.ndarray) -> int:
    """How many records share ``record``'s kernel and interval (its collective's gang)."""
    same = (
        (trace["kernel"] == record["kernel"])
        & (trace["start"] == record["start"])
        & (trace["end"] == record["end"])
    )
    return int(np.count_nonzero(same))


def slice_text(
    record: np.void, kernel_names: Sequence[str], trace: np.ndarray | None = None
) -> str:
    """The hover text of one slice: kernel, loop indices, start, end and cycles.

    A collective's slice says so, and with ``trace`` how many workers its gang spans (the
    collective runs on all of them at once; its slices are the same interval on each lane).
    """
    start, end = int(record["start"]), int(record["end"])
    idx = loop_indices(record)
    name = kernel_name(int(record["kernel"]), kernel_names)
    if name in COLLECTIVE_KINDS:
        gang = f", gang of {gang_size(record, trace)} workers" if trace is not None else ""
        head = f"{name} (collective{gang})"
    else:
        head = f"{name}[{', '.join(map(str, idx))}]" if idx else f"{name}[]"
    lines = [
        head,
        f"task {int(record['task'])}  worker {int(record['worker'])}"
        + (f"  stream {int(record['stream'])}" if int(record["stream"]) >= 0 else ""),
        f"start {start}  end {end}  cycles {end - start}",
    ]
    return "\n".join(lines)


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
            raise PtoError(
                f"timeline: a highlight mask needs {n} entries (one per record), got {arr.shape}"
            )
        return arr.copy()
    if arr.size == 0:
        return np.zeros(n, dtype=bool)
    if not np.issubdtype(arr.dtype, np.integer):
        raise PtoError(
            f"timeline: highlight takes a boolean mask or integer task ids, got dtype {arr.dtype}"
        )
    return np.isin(np.asarray(trace["task"], dtype=np.int64), arr.astype(np.int64))
