"""Run history for Compare: the last N runs of this app session, their stats and traces.

Qt-free. Each kept run owns a directory under one temporary directory per app session
(``RunHistory.session_dir``); ``new_workdir()`` hands the next ``RunJob`` its directory there,
so the trace a run writes is already where the history keeps it. When more than ``max_runs``
are kept the oldest is dropped and its directory deleted; ``close()`` (also at interpreter
exit) removes the whole session directory. Traces are memory-mapped on demand, never held.
"""

from __future__ import annotations

import atexit
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pto_wsp.fileio import owned_temp_dir
from pto_wsp.language.policy_kinds import DispatchKind, ReadyKind, StartKind, TimingKind
from pto_wsp.runtime.trace_file import load_trace

from ..model import registry
from ..model.document import Document
from ..model.kinds.schedule import (
    NOT_SET,
    SHEET_ROUND_ROBIN_WORKERS,
    TASK_GRAPH_DEFAULTS,
    cost_table_label,
)
from .job import TRACE_NAME, RunResult

__all__ = [
    "RunRecord",
    "RunHistory",
    "StatDelta",
    "compare_stats",
    "summarize_schedule",
    "DEFAULT_MAX_RUNS",
]

DEFAULT_MAX_RUNS = 10
COMPARED_STATS = ("total_cycles", "task_count", "execute_time_ms", "compile_time_ms")


@dataclass(frozen=True)
class RunRecord:
    """One kept run: what Compare shows side by side."""

    run_id: int
    label: str
    schedule_summary: str
    stats: dict[str, Any]
    trace_path: Path | None
    kernel_names: list[str]
    ok: bool
    created_at: float = field(default_factory=time.time)

    def load_trace(self) -> np.ndarray | None:
        """The run's trace, memory-mapped read-only (``None`` if the run left none)."""
        return None if self.trace_path is None else load_trace(self.trace_path)


class RunHistory:
    """The most recent ``max_runs`` runs, oldest first, with trace files in a session dir."""

    def __init__(self, max_runs: int = DEFAULT_MAX_RUNS, session_dir: str | Path | None = None):
        if max_runs < 1:
            raise ValueError(f"max_runs must be >= 1, got {max_runs}")
        self._max_runs = int(max_runs)
        self._owns_dir = session_dir is None
        if session_dir is None:
            self.session_dir = owned_temp_dir("pto-wsp-runs")  # a crash leaves it to the next start
            atexit.register(self.close)
        else:
            self.session_dir = Path(session_dir).resolve()
            self.session_dir.mkdir(parents=True, exist_ok=True)
        self._next_id = 1
        self._runs: list[RunRecord] = []
        # directories handed out by new_workdir and not (yet) kept by add, oldest first: a run
        # that failed is never added, and its number must not go to the next run
        self._unkept: list[tuple[int, Path]] = []
        self._closed = False

    # ---- capacity ------------------------------------------------------------------
    @property
    def max_runs(self) -> int:
        return self._max_runs

    @max_runs.setter
    def max_runs(self, value: int) -> None:
        if value < 1:
            raise ValueError(f"max_runs must be >= 1, got {value}")
        self._max_runs = int(value)
        self._evict()

    # ---- adding ----------------------------------------------------------------------
    def _run_dir(self, run_id: int) -> Path:
        return self.session_dir / f"run-{run_id:04d}"

    def new_workdir(self) -> Path:
        """The directory for the next run (pass it to ``RunJob``); ``add`` then keeps it.

        Each call takes a number of its own: a run that failed (and is never added) leaves its
        folder, named in the Log, to be read; the next run gets the next number. Of such
        unkept folders the newest ``max_runs`` stay until the history closes."""
        self._check_open()
        run_id = self._next_id
        self._next_id += 1
        path = self._run_dir(run_id)
        path.mkdir(parents=True, exist_ok=True)
        self._unkept.append((run_id, path))
        while len(self._unkept) > self._max_runs:
            shutil.rmtree(self._unkept.pop(0)[1], ignore_errors=True)
        return path

    def _take_reserved(self, result: RunResult) -> int | None:
        """The number ``new_workdir`` gave the directory ``result`` ran in, if it did."""
        where = Path(result.artifact_dir).resolve()
        for i, (run_id, path) in enumerate(self._unkept):
            if path.resolve() == where:
                del self._unkept[i]
                return run_id
        return None

    def add(self, result: RunResult, label: str, schedule_summary: str = "") -> RunRecord:
        """Keep ``result`` (its trace copied into the session dir if it lives elsewhere)."""
        self._check_open()
        run_id = self._take_reserved(result)
        if run_id is None:  # a run from elsewhere (a sweep's): a new number
            run_id = self._next_id
            self._next_id += 1
        run_dir = self._run_dir(run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        trace_path: Path | None = None
        if result.trace_path is not None and result.trace_path.is_file():
            src = result.trace_path.resolve()
            if src.parent == run_dir.resolve():
                trace_path = src
            else:
                trace_path = run_dir / TRACE_NAME
                shutil.copyfile(src, trace_path)
        record = RunRecord(
            run_id=run_id,
            label=label,
            schedule_summary=schedule_summary,
            stats=dict(result.stats),
            trace_path=trace_path,
            kernel_names=list(result.kernel_names),
            ok=result.ok,
        )
        self._runs.append(record)
        self._evict()
        return record

    # ---- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._runs)

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(list(self._runs))

    @property
    def runs(self) -> list[RunRecord]:
        """Kept runs, oldest first."""
        return list(self._runs)

    @property
    def latest(self) -> RunRecord | None:
        return self._runs[-1] if self._runs else None

    def get(self, run_id: int) -> RunRecord:
        for r in self._runs:
            if r.run_id == run_id:
                return r
        raise KeyError(f"no run {run_id} in the history (kept: {[r.run_id for r in self._runs]})")

    # ---- removing ----------------------------------------------------------------------
    def remove(self, run_id: int) -> None:
        record = self.get(run_id)
        self._runs.remove(record)
        self._delete_files(record)

    def clear(self) -> None:
        for record in list(self._runs):
            self.remove(record.run_id)

    def close(self) -> None:
        """Forget every run and delete the session directory (if this history created it)."""
        if self._closed:
            return
        self._closed = True
        self._runs.clear()
        if self._owns_dir:
            shutil.rmtree(self.session_dir, ignore_errors=True)
            atexit.unregister(self.close)

    def _evict(self) -> None:
        while len(self._runs) > self._max_runs:
            self._delete_files(self._runs.pop(0))

    def _delete_files(self, record: RunRecord) -> None:
        shutil.rmtree(self._run_dir(record.run_id), ignore_errors=True)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this run history was closed")


# ------------------------------------------------------------------------------------------
# comparing


@dataclass(frozen=True)
class StatDelta:
    """One statistic of two runs: ``b - a`` and ``b / a`` (``None`` when ``a`` is 0)."""

    name: str
    a: float
    b: float

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def ratio(self) -> float | None:
        return self.b / self.a if self.a else None


def compare_stats(a: RunRecord, b: RunRecord) -> list[StatDelta]:
    """The numeric stats both runs have, in a fixed order (cycles first)."""
    out: list[StatDelta] = []
    for name in COMPARED_STATS:
        va, vb = a.stats.get(name), b.stats.get(name)
        if isinstance(va, int | float) and isinstance(vb, int | float):
            out.append(StatDelta(name, float(va), float(vb)))
    return out


# ------------------------------------------------------------------------------------------
# schedule summary


def _sheet_steps(p: dict) -> list[str]:
    """The schedule steps a program frame's sheet sets, in the DSL's (and the export's) order;
    empty values set nothing and are left out."""
    steps: list[str] = []
    policy = p.get("dispatch") or ""
    if policy == DispatchKind.ROUND_ROBIN:
        steps.append(f"dispatch round_robin({p.get('dispatch_n', SHEET_ROUND_ROBIN_WORKERS)})")
    elif policy == DispatchKind.WORK_STEAL:
        steps.append("dispatch work_steal")
    elif policy:
        aicpus = p.get("dispatch_aicpus") or 0
        count = f", num_aicpus={aicpus}" if aicpus else ""
        steps.append(f"dispatch {policy}({p.get('dispatch_key', '')}{count})")
    if p.get("streams"):
        steps.append(f"streams {p['streams']}")
    if p.get("stream_by"):
        steps.append(f"stream_by {p['stream_by']}")
    timing = p.get("timing") or ""
    if timing == TimingKind.IMMEDIATE:
        steps.append("timing immediate")
    elif timing:
        steps.append(f"timing {timing}({p.get('timing_param')})")
    graph = p.get("task_graph")
    if isinstance(graph, dict) and graph:
        steps.append(_task_graph_text(graph))
    grid = p.get("spatial_map")
    if isinstance(grid, list) and grid:
        steps.append("spatial_map " + "x".join(str(g) for g in grid))
    return steps


def _task_graph_text(p: dict) -> str:
    """The knobs a task_graph node sets (its "default" choices left out), so two runs that
    differ only in, say, the ready policy read apart in Compare and the timeline header."""
    parts = ["task_graph"]
    d = {**TASK_GRAPH_DEFAULTS, **p}  # a field left out of the file is its default
    window = int(d["window"] or 0)
    if window > 0:
        parts.append(f"window {window} {d['mode']}")
    for knob in ("deps", "ready", "start", "trace"):
        value = d[knob]
        if value == NOT_SET:
            continue
        if knob == "ready" and value == ReadyKind.PRIORITY:
            value = f"priority({d['ready_key']})"
        elif knob == "start" and value == StartKind.THRESHOLD:
            value = f"threshold({d['threshold']})"
        parts.append(f"{knob} {value}")
    pools = p.get("pools") or []
    if pools:
        parts.append("pools " + " ".join(f"{e['kernel']}:{e['workers']}" for e in pools))
    return " ".join(parts)


def _target_text(p: dict) -> str:
    """``cpu_sim``, or ``cpu_sim (PTO-ISA A2/A3)`` when the sheet prices by another cost table:
    two runs that differ only in their table read apart in Compare."""
    costs = cost_table_label(p)
    return f"{p['target']} ({costs})" if costs else str(p["target"])


def summarize_schedule(doc: Document) -> str:
    """A one-line schedule description per program (a root frame whose sheet names a target),
    e.g. ``attention: dispatch affinity(t.get("batch")) > streams 2 > cpu_sim`` (programs
    joined with ``; ``)."""
    programs = sorted(
        (
            n
            for n in doc.graph.nodes.values()
            if n.kind in registry.PROGRAM_KINDS and n.parent is None and n.props.get("target")
        ),
        key=lambda n: n.name,
    )
    parts = [
        f"{n.name or '?'}: " + " > ".join([*_sheet_steps(n.props), _target_text(n.props)])
        for n in programs
    ]
    return "; ".join(parts) if parts else "no program"
