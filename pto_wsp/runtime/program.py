"""``Program``: a compiled workload (spec §5.2).

A backend builds the lowered IR module into a ``pto_wsp.backends.Built``: the artifact and, when
the target can run here, a *runner* object that owns the loaded artifact (``Program.from_built``
makes the program of it). ``Program`` only sequences the calls and keeps the statistics;
execution itself (task enumeration, scheduling, kernels) happens in the artifact.

The runner protocol (``Runner``, defined by ``pto_wsp.backends.base``, which implements it):

* ``start(program)`` begins a run (it may run to completion before returning);
* ``wait()`` blocks until the run ends and re-raises the run's error, if any;
* ``done() -> bool`` tells whether the run has ended;
* ``stats()`` returns a mapping with ``task_count`` and ``total_cycles`` (and optionally
  ``execute_time_ms`` and ``num_workers``, the configured worker count);
* a ``TracingRunner`` also has ``trace()``, the per-task trace (numpy structured array);
* an ``ArtifactRunner`` (a built artifact: cpu_sim) also names its kernels (``kernel_names``)
  and records the CSP trace (``csp_trace()``, see ``runner.write_csp_trace``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ..backends.base import Built, Runner
from ..errors import CompileError, ExecutionError, SourceLoc, user_location
from . import binding
from .binding import BindingRunner

if TYPE_CHECKING:
    from ..language.workload import Workload

__all__ = [
    "Program",
    "ProgramStats",
    "Runner",
    "TracingRunner",
    "ArtifactRunner",
    "CycleScale",
    "ScheduleDiagnostic",
]


@runtime_checkable
class TracingRunner(Runner, Protocol):
    """A runner that records the per-task trace of its runs."""

    def trace(self) -> np.ndarray: ...


class CycleScale(Protocol):
    """What a cost table says about time: simulated nanoseconds per cycle
    (``pto_wsp.compiler.cost.CostTable``, which the runtime does not import)."""

    @property
    def ns_per_cycle(self) -> float: ...


@runtime_checkable
class ArtifactRunner(TracingRunner, Protocol):
    """A runner of a built artifact: it names the artifact's kernels by IR kernel id, records
    the CSP trace (processes, channels, events) of its runs and prices its cycles by a cost
    table."""

    kernel_names: list[str]

    def csp_trace(self) -> dict[str, Any]: ...
    @property
    def cost_table(self) -> CycleScale: ...


class ScheduleDiagnostic(Protocol):
    """An entry of ``program.diagnostics``: a schedule directive the target keeps only as an
    annotation (``pto_wsp.compiler.applicability.Diagnostic``, which the runtime does not
    import: the compiler and the runtime are independent stages)."""

    @property
    def severity(self) -> str: ...
    @property
    def directive(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def loc(self) -> SourceLoc | None: ...


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
        workload: Workload,
        target: str,
        module: Any,
        artifact_dir: str | None,
        compile_time_ms: float,
        runner: Runner | None = None,
        not_executable: str | None = None,
    ):
        """``module`` is the lowered IR (``_core.ir.Module``; None when nothing was lowered);
        ``not_executable`` says why an emit-only artifact cannot run here (``execute()`` raises
        ``CompileError`` with it)."""
        self.workload = workload
        self.target = target
        self.module = module
        self.artifact_dir = artifact_dir
        self.runner = runner
        self.not_executable = not_executable
        self._stats = ProgramStats(compile_time_ms=float(compile_time_ms))
        # Directives the target keeps only as annotations (compiler.applicability.Diagnostic);
        # empty when the artifact honours the schedule as written.
        self.diagnostics: list[ScheduleDiagnostic] = []
        self._started_at: float | None = None
        self._running = False
        self._collected = True

    @classmethod
    def from_built(cls, workload: Workload, built: Built) -> Program:
        """The program of what a backend built for ``workload``."""
        return cls(
            workload,
            built.target,
            built.module,
            built.artifact_dir,
            built.compile_ms,
            runner=built.runner,
            not_executable=built.not_executable,
        )

    # ---- execution ------------------------------------------------------------------
    def execute(self) -> None:
        """Start a run of the compiled artifact (see ``synchronize``)."""
        loc = user_location()
        if self.not_executable is not None:
            raise CompileError(self.not_executable, loc=loc)
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
        assert self.runner is not None  # a run was started (execute() checks)
        raw = self.runner.stats()
        self._stats.task_count = int(raw.get("task_count", 0))
        self._stats.total_cycles = int(raw.get("total_cycles", 0))
        self._stats.num_workers = int(raw.get("num_workers", 0) or 0)
        measured = raw.get("execute_time_ms", None)
        self._stats.execute_time_ms = float(measured) if measured is not None else elapsed_ms

    # ---- results --------------------------------------------------------------------
    @property
    def stats(self) -> ProgramStats:
        """Execution statistics; the run's numbers appear once it has ended."""
        if self._running and self.runner is not None and self.runner.done():
            self._collect_once()  # the run state stays: synchronize() still reports its error
        return self._stats

    @property
    def trace(self) -> np.ndarray:
        """The per-task trace of the last run (numpy structured array)."""
        loc = user_location()
        if self.runner is None or self._started_at is None:
            raise ExecutionError("no trace: the program has not been executed", loc=loc)
        if not isinstance(self.runner, TracingRunner):
            raise ExecutionError(f"target {self.target!r} records no per-task trace", loc=loc)
        return self.runner.trace()

    @property
    def kernel_names(self) -> list[str]:
        """Names of the module's kernels by IR kernel id (the trace's ``kernel`` field)."""
        if isinstance(self.runner, ArtifactRunner):
            return list(self.runner.kernel_names)
        if self.module is None:
            return []
        return [str(k.name) for k in self.module.kernels]

    @property
    def ns_per_cycle(self) -> float:
        """Simulated nanoseconds per trace cycle: the runner's cost table's (1.0 when the
        target prices no cycles, e.g. an emit-only one)."""
        if isinstance(self.runner, ArtifactRunner):
            return float(self.runner.cost_table.ns_per_cycle)
        return 1.0

    # ---- binding (reference compatibility; pto_wsp.runtime.binding) ------------------
    @property
    def using_cpp_backend(self) -> bool:
        """True once the workload was compiled (cpu_sim: a C++ library built) or emitted
        (ascend_npu: a C++ source tree): always, for a ``Program`` made by ``compile``."""
        return self.runner is not None or self.artifact_dir is not None

    def _binding_runner(self, what: str) -> BindingRunner:
        if isinstance(self.runner, BindingRunner):
            if self._running and not self.runner.done():  # the run may still be reading them
                raise ExecutionError(
                    f"{what} while a run is going; call synchronize() first",
                    loc=user_location(),
                )
            return self.runner
        raise CompileError(
            f"{what}: {self.not_executable or f'target {self.target!r} runs nothing here'}",
            loc=user_location(),
        )

    def set_symbol_u64(self, name: str, value: int) -> None:
        """Bind runtime symbol ``name`` to the 64-bit pattern of ``value`` for the next
        ``execute()`` (no rebuild). A symbol never set reads 0."""
        runner = self._binding_runner("set_symbol_u64")
        name, bits = binding.u64_bits(name, value)
        if not runner.set_symbol_u64(name, bits):
            binding.warn_unread_symbol(self.workload.name, name, runner.symbol_names())

    def set_symbol_f32(self, name: str, value: float) -> None:
        """Bind runtime symbol ``name`` to the bits of the f32 ``value`` (in the low half of
        its 64-bit slot) for the next ``execute()``; a ``Symbol(name)`` passed to a
        ``Scalar[F32]`` parameter reads them back as that f32."""
        runner = self._binding_runner("set_symbol_f32")
        name, v = binding.f32_value(name, value)
        if not runner.set_symbol_f32(name, v):
            binding.warn_unread_symbol(self.workload.name, name, runner.symbol_names())

    def symbol_u64(self, name: str) -> int:
        """The 64-bit pattern runtime symbol ``name`` holds (0 when never set)."""
        return self._binding_runner("symbol_u64").symbol_u64(name)

    def set_axis_sizes(self, sizes: Mapping[str, int]) -> None:
        """Bounds of ``DenseDyn`` loops for the next ``execute()``, by loop variable name
        (or axis name): ``{"b": 58}``. No rebuild: such a bound is a run-time input. All names
        are checked before any size changes."""
        runner = self._binding_runner("set_axis_sizes")
        found = [
            binding.axis_size_for(self.workload, runner.axis_sizes, name, n)
            for name, n in binding.check_sizes_mapping(sizes).items()
        ]
        for size, n in found:
            runner.set_axis_size(size.param, n)

    def axis_sizes(self) -> dict[str, int]:
        """The current run-time loop bounds, by the IR param of each (the axis name)."""
        runner = self._binding_runner("axis_sizes")
        return {s.param: runner.axis_size(s.param) for s in runner.axis_sizes}

    @property
    def codegen_artifact_dir(self) -> str | None:
        """Directory of the emitted sources (for emit-only targets such as ascend_npu)."""
        return self.artifact_dir

    def __repr__(self) -> str:
        return f"<Program {self.workload.name} target={self.target}>"
