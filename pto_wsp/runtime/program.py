"""``Program``: a compiled workload (spec §5.2).

A backend builds a ``Program`` from the lowered IR module and, when the target can run here, a
*runner* object that owns the loaded artifact. ``Program`` only sequences the calls and keeps the
statistics; execution itself (task enumeration, scheduling, kernels) happens in the artifact.

The runner protocol (duck-typed, supplied by ``pto_wsp.backends``):

* ``start(program)`` begins a run (it may run to completion before returning);
* ``wait()`` blocks until the run ends and re-raises the run's error, if any;
* ``done() -> bool`` tells whether the run has ended;
* ``stats()`` returns a mapping (or object) with ``task_count`` and ``total_cycles`` (and
  optionally ``execute_time_ms`` and ``num_workers``, the configured worker count);
* optionally ``trace()`` returns the per-task trace (numpy structured array).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import CompileError, ExecutionError, user_location

__all__ = ["Program", "ProgramStats"]


@dataclass
class ProgramStats:
    """Statistics of a program (spec §5.2). ``program.stats`` and ``program.stats()`` both work.

    ``num_workers`` is the worker count the run was configured with (the schedule's, as the
    target resolved it; 0 before a run): the timeline gives each of them a lane and utilisation
    averages over all of them, so a worker that ran nothing counts as idle, not as absent.
    """

    compile_time_ms: float = 0.0
    execute_time_ms: float = 0.0
    task_count: int = 0
    total_cycles: int = 0
    num_workers: int = 0

    def __call__(self) -> ProgramStats:
        return self


class Program:
    """A workload compiled for ``target``; ``execute()`` then ``synchronize()`` to run it."""

    def __init__(
        self,
        workload: Any,
        target: str,
        module: Any,
        artifact_dir: str | None,
        compile_time_ms: float,
        runner: Any = None,
    ):
        self.workload = workload
        self.target = target
        self.module = module
        self.artifact_dir = artifact_dir
        self.runner = runner
        self._stats = ProgramStats(compile_time_ms=float(compile_time_ms))
        # Directives the target keeps only as annotations (backends.applicability.Diagnostic);
        # empty when the artifact honours the schedule as written.
        self.diagnostics: list[Any] = []
        self._started_at: float | None = None
        self._running = False
        self._collected = True

    # ---- execution ------------------------------------------------------------------
    def execute(self) -> None:
        """Start a run of the compiled artifact (see ``synchronize``)."""
        loc = user_location()
        if self.runner is None:
            raise CompileError(
                f"target {self.target!r} has no executable artifact in this build"
                + (
                    f"; the emitted sources are in {self.artifact_dir}" if self.artifact_dir else ""
                ),
                loc=loc,
            )
        if self._running and not self.runner.done():
            raise ExecutionError(
                "execute() while the previous run is still going; call synchronize() first",
                loc=loc,
            )
        if self._running:
            self.synchronize()  # the previous run ended: surface its error, collect its stats
        self._started_at = time.perf_counter()
        self._running = True
        self._collected = False
        self.runner.start(self)

    def synchronize(self) -> None:
        """Wait for the run to end; an error of the run is raised here."""
        if self.runner is None or self._started_at is None:
            raise ExecutionError(
                "synchronize() before execute(): there is no run to wait for",
                loc=user_location(),
            )
        if not self._running:
            return
        try:
            self.runner.wait()
        finally:
            self._finish()

    def is_complete(self) -> bool:
        """True once a started run has ended (False before ``execute()``)."""
        if self.runner is None or self._started_at is None:
            return False
        return not self._running or bool(self.runner.done())

    def _finish(self) -> None:
        self._running = False
        self._collect_once()

    def _collect_once(self) -> None:
        if self._collected:
            return
        self._collected = True
        elapsed = (time.perf_counter() - (self._started_at or time.perf_counter())) * 1e3
        self._collect(elapsed)

    def _collect(self, elapsed_ms: float) -> None:
        raw = self.runner.stats()
        get = raw.get if isinstance(raw, Mapping) else lambda k, d=None: getattr(raw, k, d)
        self._stats.task_count = int(get("task_count", 0))
        self._stats.total_cycles = int(get("total_cycles", 0))
        self._stats.num_workers = int(get("num_workers", 0) or 0)
        measured = get("execute_time_ms", None)
        self._stats.execute_time_ms = float(measured) if measured is not None else elapsed_ms

    # ---- results --------------------------------------------------------------------
    @property
    def stats(self) -> ProgramStats:
        """Execution statistics; the run's numbers appear once it has ended."""
        if self._running and self.runner is not None and self.runner.done():
            self._collect_once()  # the run state stays: synchronize() still reports its error
        return self._stats

    @property
    def trace(self) -> Any:
        """The per-task trace of the last run (numpy structured array)."""
        loc = user_location()
        if self.runner is None or self._started_at is None:
            raise ExecutionError("no trace: the program has not been executed", loc=loc)
        get_trace = getattr(self.runner, "trace", None)
        if get_trace is None:
            raise ExecutionError(f"target {self.target!r} records no per-task trace", loc=loc)
        return get_trace()

    @property
    def kernel_names(self) -> list[str]:
        """Names of the module's kernels by IR kernel id (the trace's ``kernel`` field)."""
        names = getattr(self.runner, "kernel_names", None)
        if names is not None:
            return list(names)
        return [k.name for k in getattr(self.module, "kernels", [])]

    @property
    def codegen_artifact_dir(self) -> str | None:
        """Directory of the emitted sources (for emit-only targets such as ascend_npu)."""
        return self.artifact_dir

    def __repr__(self) -> str:
        name = getattr(self.workload, "name", "?")
        return f"<Program {name} target={self.target}>"
