"""Numbers the stats panel and ``pto-wsp run`` show, computed from a per-task trace.

Qt-free (numpy only) so the CLI, the sweep and the unit tests use exactly what the panel displays.
Per-worker numbers come from the worker lanes (``lanes.lane_totals``, the numbers
``lanes.build_lanes`` gives each lane, without the lanes' arrays), so the Stats panel and the
timeline's lane labels are one computation; with the run's configured worker count
(``ProgramStats.num_workers``) idle workers are listed at 0% and count in the mean.

A trace is the simulator's structured array (``pto_wsp.runtime.trace``, checked by its
``validate_trace``). Each record names the task whose end gated its start (``gate``, with the
``cause``; ``wait_causes``), so the critical path is the chain of gating predecessors back from
the task that ends last: each link is the bound that actually fixed the start. Its length is
measured in busy cycles; where a link is not back to back (a mesh hop, a timing policy or a
start gate without a task) the gap is not part of it, so ``makespan - critical_path.cycles`` is
the time no chain of tasks accounts for. A trace without recorded causes (every ``cause`` is
``none``, e.g. one built by hand) falls back to a reconstruction: a task that starts exactly
when another one ends is taken to have waited for it, and the path is the longest chain of such
back-to-back tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .int_groups import group_index
from .lanes import lane_totals, makespan_of
from .trace import kernel_name, validate_trace
from .trace_gates import gate_rows, lane_order
from .trace_waits import WaitTotals, wait_totals

__all__ = [
    "CriticalPath",
    "KernelStats",
    "RunAnalysis",
    "WorkerStats",
    "analyse_trace",
    "critical_path",
    "kernel_stats",
    "makespan_of",
    "num_workers_of",
    "program_stats_dict",
    "worker_stats",
]


@dataclass(frozen=True)
class KernelStats:
    """Tasks of one kernel: how many, and their cycles (``end - start``)."""

    kernel_id: int
    name: str
    task_count: int
    total_cycles: int
    min_cycles: int
    max_cycles: int

    @property
    def mean_cycles(self) -> float:
        return self.total_cycles / self.task_count if self.task_count else 0.0


@dataclass(frozen=True)
class WorkerStats:
    """One worker: tasks run, busy cycles (overlaps counted once) and busy / makespan."""

    worker: int
    task_count: int
    busy_cycles: int
    utilisation: float


@dataclass(frozen=True, eq=False)
class CriticalPath:
    """The chain of gating predecessors of the task that ends last (module doc), first to last:
    its busy cycles, its task ids (what the Stats panel and ``--stats`` report) and its rows in
    the trace (what the timeline outlines). ``cycles`` equals the makespan when the chain
    reaches cycle 0 without a gap."""

    cycles: int
    tasks: tuple[int, ...]
    rows: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CriticalPath):
            return NotImplemented
        same = (self.cycles, self.tasks) == (other.cycles, other.tasks)
        return same and bool(np.array_equal(self.rows, other.rows))

    __hash__ = None  # type: ignore[assignment]  # mutable array inside: not hashable


@dataclass(frozen=True)
class RunAnalysis:
    """Everything derived from one trace."""

    task_count: int
    makespan: int
    kernels: tuple[KernelStats, ...]
    workers: tuple[WorkerStats, ...]
    critical_path: CriticalPath
    waits: WaitTotals

    @property
    def mean_utilisation(self) -> float:
        """Mean utilisation over the workers listed — every configured worker when the analysis
        was given ``num_workers`` (0 when there are none)."""
        if not self.workers:
            return 0.0
        return sum(w.utilisation for w in self.workers) / len(self.workers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (what ``pto-wsp run --stats`` writes under ``"analysis"``)."""
        return {
            "task_count": self.task_count,
            "makespan": self.makespan,
            "num_workers": len(self.workers),
            "mean_utilisation": self.mean_utilisation,
            "kernels": [{**asdict(k), "mean_cycles": k.mean_cycles} for k in self.kernels],
            "workers": [asdict(w) for w in self.workers],
            "critical_path": {
                "cycles": self.critical_path.cycles,
                "task_count": len(self.critical_path.tasks),
                "tasks": list(self.critical_path.tasks),
            },
            "waits": {
                "cycles_by_cause": dict(self.waits.by_cause),
                "tasks_by_cause": dict(self.waits.tasks_by_cause),
                "kernels": [
                    {"kernel": k.name, "cycles_by_cause": dict(k.by_cause)}
                    for k in self.waits.kernels
                ],
            },
        }


def _cols(trace: np.ndarray, *names: str) -> tuple[np.ndarray, ...]:
    """Fields as int64 (a view, not a copy, of those that already are)."""
    return tuple(np.asarray(trace[f], dtype=np.int64) for f in names)


def kernel_stats(trace: np.ndarray, kernel_names: Sequence[str] = ()) -> tuple[KernelStats, ...]:
    """Per-kernel task counts and cycles, by kernel id; names from ``kernel_names``."""
    validate_trace(trace)
    if len(trace) == 0:
        return ()
    kernel, start, end = _cols(trace, "kernel", "start", "end")
    dur = end - start
    ids, inverse = group_index(kernel)
    counts = np.bincount(inverse, minlength=len(ids))
    totals = np.bincount(inverse, weights=dur, minlength=len(ids))
    mins = np.full(len(ids), np.iinfo(np.int64).max)
    maxs = np.full(len(ids), np.iinfo(np.int64).min)
    np.minimum.at(mins, inverse, dur)
    np.maximum.at(maxs, inverse, dur)
    names = list(kernel_names)
    return tuple(
        KernelStats(
            kernel_id=int(k),
            name=kernel_name(int(k), names),
            task_count=int(counts[i]),
            total_cycles=int(round(totals[i])),
            min_cycles=int(mins[i]),
            max_cycles=int(maxs[i]),
        )
        for i, k in enumerate(ids)
    )


def worker_stats(
    trace: np.ndarray, num_workers: int | None = None, order: np.ndarray | None = None
) -> tuple[WorkerStats, ...]:
    """Per-worker busy cycles and utilisation (busy / makespan): the worker lanes' numbers.

    Busy time is the union of the worker's task intervals, so overlapping records are not
    counted twice. With ``num_workers`` (the configured worker count), workers
    ``0..num_workers-1`` that ran nothing are listed too (utilisation 0). ``order``:
    ``trace_gates.lane_order(trace, "worker")`` when the caller has it.
    """
    makespan = makespan_of(trace)
    return tuple(
        WorkerStats(
            worker=lane.key,
            task_count=lane.task_count,
            busy_cycles=lane.busy,
            utilisation=lane.busy / makespan if makespan > 0 else 0.0,
        )
        for lane in lane_totals(trace, "worker", num_workers, order)
    )


def critical_path(trace: np.ndarray) -> CriticalPath:
    """The chain of gating predecessors back from the task that ends last (ties: the lowest
    record index), in busy cycles; without recorded causes, the longest back-to-back chain
    (module doc). The one definition: the Stats panel, ``--stats`` and the timeline's outline
    all use it.
    """
    validate_trace(trace)
    n = len(trace)
    if n == 0:
        return CriticalPath(0, (), np.zeros(0, dtype=np.int64))
    if bool(np.any(np.asarray(trace["cause"]) != 0)):
        return _gate_chain(trace)
    return _back_to_back(trace)


def _gate_chain(trace: np.ndarray) -> CriticalPath:
    task, start, end = _cols(trace, "task", "start", "end")
    # A memoryview reads one Python int per link without a list of 10^6 int objects.
    gates = gate_rows(trace).data
    i = int(np.argmax(end))  # the first of the records that end last
    chain: list[int] = []
    # A gate ends before its task starts, so the walk cannot loop; the bound only guards a
    # hand-made trace whose gates do (each record is visited at most once on a true chain).
    for _ in range(len(gates)):
        if i < 0:
            break
        chain.append(i)
        i = gates[i]
    chain.reverse()
    rows = np.asarray(chain, dtype=np.int64)
    return CriticalPath(int((end[rows] - start[rows]).sum()), tuple(task[rows].tolist()), rows)


def _back_to_back(trace: np.ndarray) -> CriticalPath:
    n = len(trace)
    task, start, end = _cols(trace, "task", "start", "end")
    dur = end - start
    # Every task ending at t is processed before any task starting at t with a positive
    # duration: sort by (start, end, index).
    order = np.lexsort((np.arange(n), end, start)).tolist()
    start_l, end_l, dur_l = start.tolist(), end.tolist(), dur.tolist()
    best = [0] * n
    prev = [-1] * n
    best_at_end: dict[int, int] = {}  # end cycle -> best chain length of a task ending there
    arg_at_end: dict[int, int] = {}
    for i in order:
        s = start_l[i]
        b = dur_l[i] + best_at_end.get(s, 0)
        best[i] = b
        prev[i] = arg_at_end.get(s, -1) if s in best_at_end else -1
        e = end_l[i]
        if b > best_at_end.get(e, -1):
            best_at_end[e] = b
            arg_at_end[e] = i
    last = max(range(n), key=lambda i: (best[i], end_l[i], -i))
    chain: list[int] = []
    i = last
    while i != -1:
        chain.append(i)
        i = prev[i]
    chain.reverse()
    rows = np.asarray(chain, dtype=np.int64)
    return CriticalPath(int(best[last]), tuple(int(t) for t in task[rows]), rows)


def analyse_trace(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    num_workers: int | None = None,
) -> RunAnalysis:
    """All of the above for one trace; ``num_workers`` is the run's configured worker count.
    The worker lanes and the waits share one sort of the records by worker."""
    validate_trace(trace)
    order = lane_order(trace, "worker")
    return RunAnalysis(
        task_count=len(trace),
        makespan=makespan_of(trace),
        kernels=kernel_stats(trace, kernel_names),
        workers=worker_stats(trace, num_workers, order),
        critical_path=critical_path(trace),
        waits=wait_totals(trace, kernel_names, order),
    )


def program_stats_dict(stats: Any) -> dict[str, float | int]:
    """``ProgramStats`` (or a mapping with its fields, e.g. a runner stats JSON) as a dict."""
    keys = ("compile_time_ms", "execute_time_ms", "task_count", "total_cycles", "num_workers")
    if isinstance(stats, Mapping):
        get = stats.get
    else:

        def get(k: str, d: Any = None) -> Any:
            return getattr(stats, k, d)

    out: dict[str, float | int] = {}
    for k in keys:
        v = get(k, 0)
        out[k] = float(v or 0) if k.endswith("_ms") else int(v or 0)
    return out


def num_workers_of(stats: Any) -> int | None:
    """The configured worker count ``stats`` records (``ProgramStats`` or a runner stats
    mapping); None when it records none (a failed run, a stats file from an older runner)."""
    return int(program_stats_dict(stats)["num_workers"]) or None


def ns_per_cycle_of(stats: Mapping[str, Any]) -> float | None:
    """The cost-table clock a runner stats mapping records (simulated ns per trace cycle); None
    when it records none (a stats file from an older runner)."""
    return float(stats.get("ns_per_cycle", 0.0) or 0.0) or None
