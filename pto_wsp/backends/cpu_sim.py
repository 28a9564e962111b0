"""The cpu_sim backend: IR -> generated C++ -> cached shared library -> runs on the user's buffers.

``build_cpu_sim`` lowers the workload, emits the library sources (``_core.codegen``), builds
or reuses them through the build cache, loads the library and returns a ``Built`` whose runner
(``CpuSimRunner``, driven by the runtime's ``Program``) executes it: task enumeration,
scheduling, cycle accounting and numerics all happen in one C++ call with the GIL released, in
a background thread so that ``execute()`` may return before the run ends.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._native import codegen as _codegen
from .._native import csp as _csp
from .._native import ir as _ir
from ..compiler.cost import CostTable, kernel_cycles
from ..compiler.ptoisa_root import PtoIsaToolchain, ptoisa_toolchain
from ..errors import (
    ChannelClosed,
    ChannelFull,
    CompileError,
    DeadlockError,
    ExecutionError,
    KernelError,
    PtoError,
    SourceLoc,
    user_location,
)
from ..language import dtype_table
from ..language.kernel import KernelIR
from ..language.workload import Workload
from . import source_tokens
from .base import Backend, Built
from .cache import Artifact, BuildCache

if TYPE_CHECKING:
    from ..compiler.lowering import AxisSize

__all__ = [
    "BACKEND",
    "CpuSimBackend",
    "CpuSimRunner",
    "build_cpu_sim",
    "emit_kernel_cpu_sim",
    "emit_sources",
]


_DTYPE_CODES = {
    name: i for i, name in enumerate("f16 bf16 f32 f64 i8 i16 i32 i64 u8 u16 u32 u64 bool".split())
}

# Errors of the CSP engine carry a "[pto:<Kind>] " prefix (runtime/csp.h).
_CSP_ERROR = re.compile(r"\[pto:(\w+)\] ")
_CSP_ERRORS: dict[str, type[PtoError]] = {
    "DeadlockError": DeadlockError,
    "ChannelFull": ChannelFull,
    "ChannelClosed": ChannelClosed,
}


# A failed send names its statement first: "send on <channel> at <file>:<line>: ..."
# (cpu_sim_csp.cpp, the ``where`` of pto_csp_reserve).
_SEND_AT = re.compile(r"send on \S+ at (?P<loc>.+?:\d+): ")


def _run_error(module_name: str, message: str, deadlock: Any = None) -> Exception:
    """The exception for a failed run: CSP kinds map to their pto_wsp classes.

    A ``DeadlockError`` carries ``deadlock``, the engine's ``_core.csp.Deadlock`` (its
    message was rendered from it); ``ChannelFull`` / ``ChannelClosed`` carry the file:line of
    the user's ``send``."""
    m = _CSP_ERROR.search(message)
    if m and m.group(1) == "KernelError":
        return _kernel_error(message[m.end() :])
    if m and m.group(1) in _CSP_ERRORS:
        text = f"cpu_sim run of {module_name}: " + message[: m.start()] + message[m.end() :]
        if m.group(1) == "DeadlockError" and deadlock is not None:
            return DeadlockError.from_details(deadlock, f"cpu_sim run of {module_name}: ")
        at = _SEND_AT.search(text)
        return _CSP_ERRORS[m.group(1)](text, loc=_parse_loc(at.group("loc")) if at else None)
    return ExecutionError(f"cpu_sim run of {module_name} failed: {message}")


# runtime/fault.cpp pto_abi_kernel_error: "kernel K threw a C++ exception in task K[i, j]
# (FILE:LINE): WHAT" (the location is "?" when the @kernel's is unknown).
_KERNEL_THREW = re.compile(
    r"^kernel (?P<kernel>\S+) threw a C\+\+ exception in task (?P<task>\S+(?:\[[-\d, ]*\])?) "
    r"\((?P<loc>[^()]*)\): (?P<what>.*)$",
    re.DOTALL,
)


def _kernel_error(text: str) -> KernelError:
    """A C++ exception that left a kernel, located at the kernel's ``@kernel`` definition."""
    m = _KERNEL_THREW.match(text)
    if m is None:
        return KernelError(text)
    indices = re.findall(r"-?\d+", m.group("task")[len(m.group("kernel")) :])
    return KernelError(
        f"kernel {m.group('kernel')} threw a C++ exception in task {m.group('task')}: "
        f"{m.group('what')}",
        loc=_parse_loc(m.group("loc")),
        kernel=m.group("kernel"),
        task=tuple(int(i) for i in indices),
    )


def _parse_loc(loc: str) -> SourceLoc | None:
    """An IR loc "file:line" as a SourceLoc (None when empty or malformed)."""
    if not loc:
        return None
    file, _, line = loc.rpartition(":")
    if not file or not line.isdigit():
        return None
    text = ""
    try:
        with open(file) as f:
            for n, src in enumerate(f, 1):
                if n == int(line):
                    text = src.strip()
                    break
    except OSError:
        pass
    return SourceLoc(file, int(line), text)


def emit_sources(module: Any, tensors: list[Any]) -> dict[str, Any]:
    """The generated sources of ``module`` (raises CompileError naming the construct)."""
    strides = []
    for t in tensors:
        arr = t.data
        strides.append([int(s) // arr.itemsize for s in arr.strides])
    try:
        return _codegen.emit_cpu_sim(module, strides)
    except _codegen.CodegenError as err:
        message, loc = (err.args + ("", ""))[:2]
        raise CompileError(f"cpu_sim: {message}", loc=_parse_loc(loc) or user_location()) from None


class CpuSimRunner:
    """Runs a loaded cpu_sim library for a ``Program`` (``base.Runner``; the runtime's
    ``ArtifactRunner`` and ``BindingRunner``).

    ``symbols`` / ``params`` (``_core.codegen.RunValues``) hold the 64-bit values of the
    library's runtime symbols and params (the bounds of ``DenseDyn`` loops given an int,
    ``axis_sizes``: each starts at its default); set them before ``execute()``. A symbol never
    set reads 0. The slots array is zeroed at the start of each run and readable afterwards
    (``slots``).
    """

    def __init__(
        self,
        module: Any,
        tensors: list[Any],
        library: Any,
        artifact: Artifact,
        cost_table: CostTable,
        axis_sizes: list[AxisSize] | None = None,
    ):
        self.module = module
        self.tensors = tensors
        self.library = library
        self.artifact = artifact
        self.kernel_names: list[str] = list(library.kernel_names)
        self.symbols = _codegen.RunValues(list(library.symbol_names))
        self.params = _codegen.RunValues(list(library.param_names))
        self.axis_sizes: list[AxisSize] = list(axis_sizes or [])
        for size in self.axis_sizes:
            self.params.set_u64(size.param, size.default)
        self.slots = np.zeros(max(int(library.num_slots), 1), dtype=np.uint64)
        self.config = _codegen.sim_config(module)  # typed, read from the IR schedule
        self._cost_table = cost_table
        self._cycles = kernel_cycles(module, cost_table)
        self._thread: threading.Thread | None = None
        self._result: Any = None
        self._error: BaseException | None = None
        self._expected_tasks = 0
        self._csp_trace: dict[str, Any] | None = None

    # ---- configuration ------------------------------------------------------------
    @property
    def cost_table(self) -> CostTable:
        return self._cost_table

    def set_cost_table(self, table: Any) -> None:
        """Use another cost table for the next runs (no rebuild: costs are run-time inputs)."""
        self._cost_table = CostTable.from_any(table)
        self._cycles = kernel_cycles(self.module, self._cost_table)

    # ---- binding (checked by the runtime's Program; pto_wsp.runtime.binding) ------------
    def symbol_names(self) -> list[str]:
        return list(self.symbols.names)

    def set_symbol_u64(self, name: str, bits: int) -> bool:
        """False (nothing set) when the library reads no symbol ``name``."""
        return bool(self.symbols.set_u64(name, bits))

    def set_symbol_f32(self, name: str, value: float) -> bool:
        return bool(self.symbols.set_f32(name, value))

    def symbol_u64(self, name: str) -> int:
        return int(self.symbols.u64(name))

    def set_axis_size(self, param: str, size: int) -> None:
        self.params.set_u64(param, size)

    def axis_size(self, param: str) -> int:
        return int(self.params.u64(param))

    # ---- runner protocol -------------------------------------------------------------
    def start(self, program: Any) -> None:
        args = self._run_args()
        self._warn_ineffective(program)
        self._result = None
        self._error = None

        def body() -> None:
            try:
                self._result = _codegen.run(self.library, *args)
            except BaseException as err:  # re-raised by wait()
                self._error = err

        self._thread = threading.Thread(target=body, name="pto-wsp-cpu-sim", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            err, self._error = self._error, None
            raise ExecutionError(f"cpu_sim run failed: {err}") from err
        res = self._result
        if res is not None:
            self._expected_tasks = int(res.task_count)  # reserve the next run's trace up front
            self._csp_trace = _csp.take_trace(res)
        if res is not None and not res.ok:
            deadlock = self._csp_trace.get("deadlock") if self._csp_trace else None
            raise _run_error(self.module.name, res.error, deadlock)

    def done(self) -> bool:
        return self._thread is None or not self._thread.is_alive()

    def stats(self) -> dict[str, Any]:
        res = self._result
        if res is None:
            return {"task_count": 0, "total_cycles": 0}
        return {
            "task_count": int(res.task_count),
            "total_cycles": int(res.total_cycles),
            "execute_time_ms": float(res.execute_ms),
            # the configured workers, idle or not: the IR schedule's (resolved at lowering)
            "num_workers": int(self.config.workers),
        }

    def trace(self) -> np.ndarray:
        """The last run's trace: a read-only zero-copy view of the simulator's records."""
        if self._result is None:
            raise ExecutionError("no trace: the run has not finished (call synchronize())")
        return self._result.trace

    def csp_trace(self) -> dict[str, Any]:
        """The last run's CSP trace (docs/semantics.md, "CSP execution").

        Keys: ``processes`` (names by process index; replicas ``name[i]``), ``channels`` and
        ``events`` (names by IR id), ``process_start`` / ``process_end`` (cycles; end -1 for a
        process that never finished), ``occupancy`` (structured array ``time, channel,
        occupancy``: slots in use after each change) and ``waits`` (``start, end, process,
        object, kind``: intervals a process was blocked; kind ``_core.csp.WAIT_SEND`` /
        ``WAIT_TAKE`` / ``WAIT_EVENT``, object the channel or event id). Empty for a run
        without pipelines or events. ``task_segments`` (``first_task, process``) says which
        process submitted which tasks, and ``task_process`` applies it to the task trace: one
        process index per record of ``trace()`` (-1: submitted by the driver, outside any
        process).
        """
        if self._result is None:
            raise ExecutionError("no CSP trace: the run has not finished (call synchronize())")
        if self._csp_trace is not None and "task_process" not in self._csp_trace:
            self._csp_trace["task_process"] = _task_process(
                self._csp_trace["task_segments"], self._result.trace
            )
        if self._csp_trace is None:
            return {
                "processes": [],
                "channels": [],
                "events": [],
                "process_start": [],
                "process_end": [],
                "occupancy": np.zeros(
                    0, dtype=[("time", "<i8"), ("channel", "<i4"), ("occupancy", "<i4")]
                ),
                "waits": np.zeros(
                    0,
                    dtype=[
                        ("start", "<i8"),
                        ("end", "<i8"),
                        ("process", "<i4"),
                        ("object", "<i4"),
                        ("kind", "<i4"),
                        ("reserved", "<i4"),
                    ],
                ),
                "task_segments": np.zeros(0, dtype=[("first_task", "<u4"), ("process", "<i4")]),
                "task_process": np.full(len(self._result.trace), -1, dtype=np.int32),
            }
        return self._csp_trace

    # ---- internals ---------------------------------------------------------------------
    def _warn_ineffective(self, program: Any) -> None:
        """Schedule directives this run's cost table makes ineffective (a start threshold
        with ``issue`` = 0) join ``program.diagnostics`` and are warned once. Checked per run,
        not at compile: the cost table is a run-time input (``set_cost_table``)."""
        from ..compiler.applicability import issue_warnings, start_threshold_diagnostics

        issue = float(self._cost_table.issue)
        fresh = [
            d
            for d in start_threshold_diagnostics(program.workload, "cpu_sim", issue)
            if d not in program.diagnostics
        ]
        program.diagnostics.extend(fresh)
        issue_warnings(fresh)

    def _run_args(self) -> tuple[Any, ...]:
        loc = user_location()
        tensors = []
        for i, (t, ir_t) in enumerate(zip(self.tensors, self.module.tensors, strict=True)):
            arr = t.data
            if tuple(arr.shape) != tuple(ir_t.shape) or t.dtype.value != ir_t.dtype:
                raise ExecutionError(
                    f"tensor {ir_t.name} (id {i}) changed since compile: now "
                    f"{t.dtype.value}{list(arr.shape)}, compiled for {ir_t.dtype}{list(ir_t.shape)}",
                    loc=loc,
                )
            tensors.append((arr, _DTYPE_CODES[ir_t.dtype]))
        self.slots[:] = 0
        costs = _codegen.RunCosts()
        costs.kernel_cycles = [int(c) for c in self._cycles]
        costs.load_rate = float(self._cost_table.rate("load", self._cost_table.load))
        costs.store_rate = float(self._cost_table.rate("store", self._cost_table.store))
        costs.ns_per_cycle = float(self._cost_table.ns_per_cycle)
        costs.issue_cycles = float(self._cost_table.issue)
        costs.hop = float(self._cost_table.hop)
        costs.trace_reserve = int(self._expected_tasks)
        return (tensors, self.symbols, self.params, self.slots, self.config, costs)


def _task_process(segments: np.ndarray, trace: np.ndarray) -> np.ndarray:
    """The submitting process of each trace record (-1: the driver), from the task segments."""
    out = np.full(len(trace), -1, dtype=np.int32)
    if not len(segments) or not len(trace):
        return out
    at = np.searchsorted(segments["first_task"], trace["task"].astype(np.int64), side="right") - 1
    inside = at >= 0
    out[inside] = segments["process"][at[inside]]
    return out


# gcc/clang: "<file>:<line>:<col>: fatal error: <header>: No such file or directory" (gcc) or
# "fatal error: '<header>' file not found" (clang).
_MISSING_HEADER = re.compile(
    r"fatal error: (?:'(?P<h1>[^']+)' file not found|(?P<h2>[^:\n]+): No such file or directory)"
)


def _include_target(include: str) -> str:
    """The path a ``cpp_includes`` entry names, as the compiler reports it (no <> or quotes)."""
    if len(include) >= 2 and include[0] in '<"' and include[-1] in '>"':
        return include[1:-1]
    return include


def _at_custom_kernel(err: CompileError, workload: Workload) -> CompileError:
    """Point a C++ error inside a kernel's ``cpp_src`` at that kernel's definition.

    The generated source carries ``#line`` directives, so the compiler already names the line
    inside ``cpp_src``; the Python file:line of the ``@kernel`` is the place to fix it.
    """
    refs = workload.kernels()
    missing = _MISSING_HEADER.search(err.message)
    header = (missing.group("h1") or missing.group("h2")).strip() if missing else None
    for kref in refs if header else ():
        if any(_include_target(i) == header for i in kref.cpp_includes):
            return CompileError(
                f"kernel {kref.name}: header {header!r} of its cpp_includes is not found (the "
                "C++ compiler searched the runtime's include directory and the system include "
                "paths; give an absolute path for a header of your own)",
                loc=kref.loc or err.loc,
            )
    for kref in refs:
        if f"cpp_src of kernel {kref.name}:" in err.message and kref.loc is not None:
            where = _cpp_field(kref)
            return CompileError(
                f"C++ {where} of kernel {kref.name} does not compile:\n{err.message}",
                loc=kref.loc,
            )
    return err


def _cpp_field(kref: Any) -> str:
    """Where a kernel's C++ came from, for messages (its line numbers count from there)."""
    for what in ("cpp_body_path", "cpp_tu_path"):
        path = getattr(kref, what, None)
        if path is not None:
            return f"{'body' if what == 'cpp_body_path' else 'translation unit'} ({what} {path})"
    return "body (cpp_src)"


def _ptoisa_toolchain(module: Any, ptoisa_files: list[str]) -> PtoIsaToolchain | None:
    """The PTO-ISA toolchain when some kernel is built against PTO-ISA; a missing root or
    compiler is one CompileError naming those kernels and the setting."""
    if not ptoisa_files:
        return None
    try:
        return ptoisa_toolchain()
    except CompileError as err:
        names = [k.name for k in module.kernels if k.cpp_ptoisa]
        loc = next((_parse_loc(k.loc) for k in module.kernels if k.cpp_ptoisa), None)
        raise CompileError(
            f"kernel{'s' if len(names) > 1 else ''} {', '.join(names)} use"
            f"{'' if len(names) > 1 else 's'} PTO-ISA (a pto/ header or a pto:: name in its "
            f"C++), which cpu_sim builds against a PTO-ISA checkout: {err.message}",
            loc=loc or user_location(),
        ) from None


def _load(
    cache: BuildCache,
    src: Mapping[str, Any],
    name: str,
    ptoisa: PtoIsaToolchain | None = None,
    sources: Iterable[str] = (),
) -> tuple[Any, Artifact]:
    """Build (or reuse) and dlopen; a cached library that fails to load is rebuilt once.
    The user files ``sources`` are built as source tokens (``source_tokens``): a script in
    another folder reuses the build, and the loaded library names the real files."""
    tokenised = source_tokens.tokenise([(str(n), str(t)) for n, t in src["files"]], sources)
    files, paths = tokenised.files, list(tokenised.sources)
    separate = list(src.get("ptoisa_files", []))
    try:
        artifact = cache.get_or_build(files, src["main_file"], name, separate, ptoisa)
    except CompileError as err:
        raise _with_paths(err, paths) from None
    try:
        return _codegen.Library(str(artifact.library), paths), artifact
    except _codegen.LoadError:
        if artifact.built:
            raise
    cache.invalidate(artifact)
    try:
        artifact = cache.get_or_build(files, src["main_file"], name, separate, ptoisa)
    except CompileError as err:
        raise _with_paths(err, paths) from None
    try:
        return _codegen.Library(str(artifact.library), paths), artifact
    except _codegen.LoadError as err:
        raise CompileError(f"cpu_sim: {err}", loc=user_location()) from None


def _with_paths(err: CompileError, paths: list[str]) -> CompileError:
    """``err`` (about tokenised sources) naming the user's files."""
    if not paths:
        return err
    return CompileError(source_tokens.expand(err.message, paths), loc=err.loc)


def build_cpu_sim(workload: Workload, cost_table: Any = None) -> Built:
    """Lower, emit, build (cached) and load ``workload``; the ``Built`` has a ready runner."""
    from ..compiler.lowering import lower_for_run

    t0 = time.perf_counter()
    if cost_table is None and os.environ.get("PTO_WSP_COST_TABLE"):
        cost_table = os.environ["PTO_WSP_COST_TABLE"]
    table = CostTable.from_any(cost_table)
    lowered = lower_for_run(workload)  # DenseDyn bounds are run-time params: not in the source
    module, tensors = lowered.module, lowered.tensors
    src = emit_sources(module, tensors)
    ptoisa = _ptoisa_toolchain(module, list(src["ptoisa_files"]))
    try:
        library, artifact = _load(BuildCache(), src, module.name, ptoisa, lowered.sources)
    except CompileError as err:
        raise _at_custom_kernel(err, workload) from None
    runner = CpuSimRunner(module, tensors, library, artifact, table, lowered.axis_sizes)
    compile_ms = (time.perf_counter() - t0) * 1e3
    return Built("cpu_sim", module, str(artifact.directory), compile_ms, runner=runner)


def emit_kernel_cpu_sim(kernel_ir: KernelIR) -> str:
    """The C++ file of one kernel, from a one-task module built around it (cpu_sim emits
    kernels per module, not alone)."""
    from ..compiler.lowering import lower_kernel_ir

    k = lower_kernel_ir(kernel_ir, kernel_ir.name, kernel_ir.kernel)
    m = _ir.Module(k.name)
    args = []
    for p in k.params:
        if p.kind == "scalar":
            spec = dtype_table.BY_NAME.get(p.dtype)
            value = _ir.Expr.float(0.0) if spec and spec.is_float else _ir.Expr.int(0)
            args.append(_ir.Arg.scalar(p.name, value))
            continue
        shape = list(p.shape) or [1, 1]
        tid = m.add_tensor(p.name, shape, p.dtype or "f32")
        args.append(_ir.Arg(p.name, _ir.View(tid, [])))
    kid = m.add_kernel(k)
    m.set_workload(_ir.Node.task(kid, [], args))
    try:
        src = _codegen.emit_cpu_sim(m)
    except _codegen.CodegenError as err:
        message, loc = (err.args + ("", ""))[:2]
        raise CompileError(f"cpu_sim: {message}", loc=_parse_loc(loc) or user_location()) from None
    prefix = f"kernel_{kid}_"
    for name, text in src["files"]:
        if name.startswith(prefix):
            return str(text)
    raise CompileError(f"cpu_sim emitted no source for kernel {k.name}", loc=user_location())


class CpuSimBackend(Backend):
    """Builds generated C++ into a cached library and runs it in the cycle simulator."""

    name = "cpu_sim"
    executes = True

    def build(self, workload: Any) -> Built:
        return build_cpu_sim(workload)

    def emit_kernel(self, kernel_ir: KernelIR) -> str:
        return emit_kernel_cpu_sim(kernel_ir)


BACKEND = CpuSimBackend()
