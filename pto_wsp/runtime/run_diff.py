"""What changed between two runs (B minus A): makespans, busy time per lane, and per kernel.

The compare view's header and its two delta tables read these; both sides come from the one
trace model (``lanes.build_lanes`` for lanes, ``trace_analysis.kernel_stats`` for kernels), so a
number in Compare is the number the Stats panel shows for that run. Lanes are matched by label
(``worker 3``), kernels by name (kernel ids are per program; names are what a user compares).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from .lanes import LaneSet
from .trace_analysis import KernelStats

__all__ = ["KernelDiff", "LaneDiff", "RunDiff", "diff_kernels", "diff_runs", "relative_change"]


def relative_change(a: float, b: float) -> float:
    """``(b - a) / a`` in percent: 0 when both are 0, ``nan`` when only A is 0."""
    if a == 0:
        return 0.0 if b == 0 else math.nan
    return 100.0 * (b - a) / a


@dataclass(frozen=True)
class LaneDiff:
    """One lane label in runs A and B: busy cycles and utilisation (busy over the run's
    makespan); 0 where the lane is absent."""

    label: str
    busy_a: int
    busy_b: int
    util_a: float = 0.0
    util_b: float = 0.0

    @property
    def delta(self) -> int:
        return self.busy_b - self.busy_a

    @property
    def delta_pct(self) -> float:
        """The busy-cycle change relative to A, in percent (``nan``: the lane was idle in A)."""
        return relative_change(self.busy_a, self.busy_b)


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
        return relative_change(self.total_a, self.total_b)


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
            a.utilisation(la[label]) if label in la else 0.0,
            b.utilisation(lb[label]) if label in lb else 0.0,
        )
        for label in labels
    )
    return RunDiff(a.makespan, b.makespan, lanes)


@dataclass(frozen=True)
class KernelDiff:
    """One kernel (by name) in runs A and B: task count and cycles (``end - start`` summed);
    0 tasks where the run has none of it."""

    name: str
    count_a: int
    count_b: int
    total_a: int
    total_b: int

    @property
    def mean_a(self) -> float:
        return self.total_a / self.count_a if self.count_a else 0.0

    @property
    def mean_b(self) -> float:
        return self.total_b / self.count_b if self.count_b else 0.0

    @property
    def delta_count(self) -> int:
        return self.count_b - self.count_a

    @property
    def delta_total(self) -> int:
        return self.total_b - self.total_a

    @property
    def delta_total_pct(self) -> float:
        return relative_change(self.total_a, self.total_b)

    @property
    def delta_mean(self) -> float:
        return self.mean_b - self.mean_a

    @property
    def delta_mean_pct(self) -> float:
        return relative_change(self.mean_a, self.mean_b)


def _by_name(stats: Iterable[KernelStats]) -> dict[str, tuple[int, int]]:
    """``{name: (tasks, cycles)}``; kernels that share a name are added up."""
    out: dict[str, tuple[int, int]] = {}
    for k in stats:
        count, total = out.get(k.name, (0, 0))
        out[k.name] = (count + k.task_count, total + k.total_cycles)
    return out


def diff_kernels(a: Iterable[KernelStats], b: Iterable[KernelStats]) -> tuple[KernelDiff, ...]:
    """Per-kernel B minus A from two runs' ``kernel_stats``, matched by name: A's kernels in
    its order, then those only B ran."""
    ka, kb = _by_name(a), _by_name(b)
    out = []
    for name in [*ka, *(n for n in kb if n not in ka)]:
        (count_a, total_a), (count_b, total_b) = ka.get(name, (0, 0)), kb.get(name, (0, 0))
        out.append(KernelDiff(name, count_a, count_b, total_a, total_b))
    return tuple(out)
