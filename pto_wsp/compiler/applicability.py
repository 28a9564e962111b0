"""Backend applicability (spec §4.8): what each target does with each schedule directive.

One table, ``TABLE``, names for every target the status of every schedule directive and option,
and of the collectives a workload body may contain:

* ``enforced``  -- the target's execution follows the directive (cpu_sim's simulator);
* ``preserved`` -- kept in the emitted plan and honoured by the emitted code (ascend_npu);
* ``annotated`` -- kept in the emitted plan as data, but the emitted code does not honour it:
  compiling records a ``Diagnostic`` on ``program.diagnostics`` and issues a ``ScheduleWarning``;
* ``rejected``  -- compiling raises ``ScheduleError`` naming the directive, the file:line where
  the user wrote it and the target.

``check(workload, target)`` applies the table before anything is built, so a rejected directive
costs no lowering or C++ build, and a program's diagnostics say exactly which directives the
artifact does not honour (an empty list: the schedule is honoured as written). The table is also
what docs/semantics.md ("Backend applicability") and the README print.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ScheduleError, ScheduleWarning, SourceLoc, user_location
from ..language.layout import CollectiveOp
from ..language.policy_kinds import StartKind, TimingKind
from ..language.scalar_expr import ScalarExpr
from ..language.schedule import ScheduleSpec, TaskWindow
from ..language.tensor import Tensor, TensorView
from ..language.types import Location
from ..language.workload import Workload, walk
from ..language.workload.nodes import operands

__all__ = [
    "STATUSES",
    "TABLE",
    "Diagnostic",
    "Rule",
    "Use",
    "check",
    "directives_of",
    "issue_warnings",
    "rule",
    "start_threshold_diagnostics",
    "table_markdown",
    "worker_count_diagnostics",
]

Status = Literal["enforced", "preserved", "annotated", "rejected"]
STATUSES: tuple[Status, ...] = ("enforced", "preserved", "annotated", "rejected")


@dataclass(frozen=True)
class Rule:
    """The status of one directive on one target and what the target does with it (why)."""

    status: Status
    note: str


@dataclass(frozen=True)
class Diagnostic:
    """A directive the target keeps only as an annotation (not honoured by the artifact)."""

    severity: str
    directive: str
    target: str
    message: str
    loc: SourceLoc | None = None

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc is not None else ""
        return f"{where}{self.severity}: {self.message}"


def _e(note: str) -> Rule:
    return Rule("enforced", note)


def _p(note: str) -> Rule:
    return Rule("preserved", note)


def _a(note: str) -> Rule:
    return Rule("annotated", note)


def _r(note: str) -> Rule:
    return Rule("rejected", note)


_SIM = "the simulator"
_NPU_ORDER = (
    "host/main.cpp launches the expanded tasks in program order (the device plan carries no "
    "dependency graph)"
)
_NPU_COLL = (
    "the mesh is the AICore blocks sharing global memory: the expander issues the collective as "
    "tasks of kernels it synthesizes (tile copies and elementwise folds); "
)

# directive -> target -> rule. Directive names are how a user writes them (combinator and
# option); docs/semantics.md and the README print this table (``table_markdown``).
TABLE: dict[str, dict[str, Rule]] = {
    "dispatch(round_robin)": {
        "cpu_sim": _e(f"{_SIM} places task i on worker i mod N"),
        "ascend_npu": _p("the AICPU expander writes each task's worker into its descriptor"),
    },
    "dispatch(affinity)": {
        "cpu_sim": _e(f"{_SIM} places a task on worker key mod N"),
        "ascend_npu": _p("the expander evaluates the key per task and writes the worker"),
    },
    "dispatch(hash)": {
        "cpu_sim": _e(f"{_SIM} places a task on worker splitmix64(key) mod N"),
        "ascend_npu": _p("the expander hashes the key per task and writes the worker"),
    },
    "dispatch(dispatch_by)": {
        "cpu_sim": _e(f"{_SIM} places a task on worker key mod N"),
        "ascend_npu": _p("the expander evaluates the key per task and writes the worker"),
    },
    "dispatch(work_steal)": {
        "cpu_sim": _e("idle workers take ready tasks whose home worker is busy"),
        "ascend_npu": _a(
            "stealing needs a device-side scheduler: each task keeps its round-robin home worker"
        ),
    },
    "streams": {
        "cpu_sim": _e("tasks of a stream run in order; the count is also a worker-count fallback"),
        "ascend_npu": _a(f"the stream count is recorded in the plan; {_NPU_ORDER}"),
    },
    "stream_by": {
        "cpu_sim": _e("the key picks each task's stream"),
        "ascend_npu": _a(f"the key is evaluated into PtoTaskDesc.stream_key only; {_NPU_ORDER}"),
    },
    "timing(immediate)": {
        "cpu_sim": _e("a task is issued as soon as it is submitted"),
        "ascend_npu": _p("host/main.cpp launches each task as soon as the expansion is done"),
    },
    "timing(batched)": {
        "cpu_sim": _e("tasks are issued in groups of n"),
        "ascend_npu": _a(f"recorded in the plan; {_NPU_ORDER}, one at a time"),
    },
    "timing(interleaved)": {
        "cpu_sim": _e("issue rotates over the lanes of the stream key"),
        "ascend_npu": _a(f"recorded in the plan; {_NPU_ORDER}"),
    },
    "timing(rate_limit)": {
        "cpu_sim": _e("issue i is not before i / rate"),
        "ascend_npu": _a(f"recorded in the plan; {_NPU_ORDER} without pacing"),
    },
    "task_graph(window, mode=STALL)": {
        "cpu_sim": _e("issue stalls while the window is full"),
        "ascend_npu": _p("host/main.cpp keeps at most window tasks in flight (waits on events)"),
    },
    "task_graph(window, mode=ABORT)": {
        "cpu_sim": _r("only TaskWindow(..., mode=WindowMode.STALL) is supported"),
        "ascend_npu": _a("recorded in the plan; host/main.cpp stalls instead of aborting"),
    },
    "task_graph(window, mode=BENCHMARK)": {
        "cpu_sim": _r("only TaskWindow(..., mode=WindowMode.STALL) is supported"),
        "ascend_npu": _a("recorded in the plan; host/main.cpp stalls instead of counting"),
    },
    "task_graph(deps=infer)": {
        "cpu_sim": _e("dependencies from the exact tensor regions tasks read and write"),
        "ascend_npu": _p(f"{_NPU_ORDER}, which satisfies every inferred dependency"),
    },
    "task_graph(deps=infer_bounding)": {
        "cpu_sim": _e("dependencies from each access's bounding element range"),
        "ascend_npu": _p(f"{_NPU_ORDER}, which satisfies every inferred dependency"),
    },
    "task_graph(deps=explicit)": {
        "cpu_sim": _e("only the workload's structure orders tasks"),
        "ascend_npu": _p(f"{_NPU_ORDER}, which satisfies every structural dependency"),
    },
    "task_graph(ready=fifo)": {
        "cpu_sim": _e("a free worker takes its first ready task in submission order"),
        "ascend_npu": _a(f"no device ready queue: {_NPU_ORDER}"),
    },
    "task_graph(ready=lifo)": {
        "cpu_sim": _e("a free worker takes its last ready task"),
        "ascend_npu": _a(f"no device ready queue: {_NPU_ORDER}"),
    },
    "task_graph(ready=priority)": {
        "cpu_sim": _e("a free worker takes its ready task with the smallest key"),
        "ascend_npu": _a(f"no device ready queue: {_NPU_ORDER}"),
    },
    "task_graph(start=eager)": {
        "cpu_sim": _e("execution starts with the first issued task"),
        "ascend_npu": _p("the first task is launched as soon as the expansion is done"),
    },
    "task_graph(start=threshold)": {
        "cpu_sim": _e("no task starts before the n-th task is issued"),
        "ascend_npu": _p("the whole task list is expanded before the first launch"),
    },
    "task_graph(trace=full)": {
        "cpu_sim": _e("one trace record per task"),
        "ascend_npu": _p("host/main.cpp writes trace.txt (one line per launched task)"),
    },
    "task_graph(trace=none)": {
        "cpu_sim": _e("no trace records, statistics only"),
        "ascend_npu": _p("host/main.cpp writes no trace"),
    },
    "task_graph(pools)": {
        "cpu_sim": _e("tasks of a pooled kernel run only on its pool's workers"),
        "ascend_npu": _p("the expander places tasks of a pooled kernel within its pool"),
    },
    "spatial_map": {
        "cpu_sim": _e("the workers are the mesh tiles; data crossing the mesh costs hops"),
        "ascend_npu": _p(
            "the plan's block dim is rows*cols; the expander places tasks on those workers"
        ),
    },
    "relayout": {
        "cpu_sim": _e("a gang task on every mesh tile copies the data to the new layout"),
        "ascend_npu": _p(_NPU_COLL + "copy tasks write the result in its layout"),
    },
    "allreduce": {
        "cpu_sim": _e("a gang task on every mesh tile combines the partial blocks"),
        "ascend_npu": _p(
            _NPU_COLL + "fold tasks combine the blocks in cpu_sim's order, copy tasks spread them"
        ),
    },
    "allgather": {
        "cpu_sim": _e("a gang task on every mesh tile gathers the blocks"),
        "ascend_npu": _p(_NPU_COLL + "copy tasks write the gathered values"),
    },
    "reduce_scatter": {
        "cpu_sim": _e("a gang task on every mesh tile reduces and scatters the blocks"),
        "ascend_npu": _p(_NPU_COLL + "fold tasks combine the blocks in cpu_sim's order"),
    },
    "MemLayout(swizzle)": {
        "cpu_sim": _r(
            "the simulator's memory is flat: it has no swizzled banks to lay data out in"
        ),
        "ascend_npu": _r(
            "the emitted tree addresses global memory through plain strides; swizzled "
            "addressing has no device form (and no field in the plan) yet"
        ),
    },
    "Tensor(location)": {
        "cpu_sim": _a(
            "the simulator's memory is flat: every tensor lives in host memory and costs the "
            "same to load and store, whatever its location"
        ),
        "ascend_npu": _a(
            "the emitted tree allocates every tensor in global memory (GM); the location is "
            "recorded in the IR only"
        ),
    },
}


def rule(directive: str, target: str) -> Rule:
    """The rule for ``directive`` on ``target``; an option the table does not know is rejected."""
    entry = TABLE.get(directive)
    if entry is None and directive.startswith("task_graph(window, unit="):
        return _r("a task window counts tasks: only TaskWindow(size, 'tasks', mode) is supported")
    if entry is None or target not in entry:
        return _r(f"{target} has no implementation of {directive}")
    return entry[target]


# ---- which directives a workload uses ------------------------------------------------------


@dataclass(frozen=True)
class Use:
    """One directive as a workload uses it, with the file:line where the user wrote it.

    ``subject`` names what carries the directive when it is not the schedule itself (for
    ``MemLayout(swizzle)``: the tensor and its swizzle pattern), so messages can name it.
    """

    directive: str
    loc: SourceLoc | None
    subject: str | None = None


def _step_loc(spec: ScheduleSpec, name: str, arg: str | None = None) -> SourceLoc | None:
    return spec.step_loc(name, arg)


def _window_directive(window: TaskWindow) -> str:
    if window.unit != "tasks":
        return f"task_graph(window, unit={window.unit})"
    return f"task_graph(window, mode={window.mode.name})"


def _schedule_uses(spec: ScheduleSpec) -> Iterator[Use]:
    d = spec.dispatch
    if d is not None:
        yield Use(f"dispatch({d.kind})", _step_loc(spec, "dispatch") or d.loc)
    if spec.streams:
        yield Use("streams", _step_loc(spec, "streams"))
    if spec.stream_key is not None:
        yield Use("stream_by", _step_loc(spec, "stream_by"))
    t = spec.timing
    if t is not None:
        yield Use(f"timing({t.kind})", _step_loc(spec, "timing") or t.loc)
    if spec.window is not None:
        yield Use(_window_directive(spec.window), _step_loc(spec, "task_graph", "window"))
    for knob, arg in (
        (spec.deps, "deps"),
        (spec.ready_policy, "ready"),
        (spec.start_policy, "start"),
        (spec.trace_policy, "trace"),
    ):
        if knob is not None:  # Deps.infer("bounding").kind is already "infer_bounding"
            yield Use(f"task_graph({arg}={knob.kind})", _step_loc(spec, "task_graph", arg))
    if spec.pools is not None:
        yield Use("task_graph(pools)", _step_loc(spec, "task_graph", "pools"))
    if spec.spatial_grid:
        yield Use("spatial_map", _step_loc(spec, "spatial_map"))


def _body_uses(workload: Workload) -> Iterator[Use]:
    """The collectives recorded in the workload body (``relayout``, ``allreduce``, ...)."""
    for node in walk(workload.statements()):
        if isinstance(node, CollectiveOp):
            yield Use(str(node.kind), node.loc)


def _used_tensors(workload: Workload) -> Iterator[tuple[Any, Tensor]]:
    """``(statement, root tensor)`` for each root tensor the body uses, at its first use (a
    kernel call, a send, a collective...), in body order."""
    seen: set[int] = set()
    for node in walk(workload.statements()):
        for root in _tensor_roots(operands(node)):
            if id(root) not in seen:
                seen.add(id(root))
                yield node, root


def _tensor_label(root: Tensor) -> str:
    return f"tensor '{root.name}'" if root.name else f"the tensor of shape {tuple(root.shape)}"


def _swizzle_uses(workload: Workload) -> Iterator[Use]:
    """One ``MemLayout(swizzle)`` use per tensor of the body whose memory layout has a swizzle,
    located at the first statement that uses the tensor (a kernel call or a collective)."""
    for node, root in _used_tensors(workload):
        mem = root.layout.mem
        if mem is None or mem.swizzle is None:
            continue
        yield Use(
            "MemLayout(swizzle)",
            node.loc,
            f"{_tensor_label(root)} (MemLayout swizzle={mem.swizzle!r})",
        )


def _location_uses(workload: Workload) -> Iterator[Use]:
    """One ``Tensor(location)`` use per tensor of the body placed anywhere but global memory
    (``Tensor(..., location=Location.UB)``), located at the statement that first uses it."""
    for node, root in _used_tensors(workload):
        where = root.location
        if where is Location.Global:
            continue
        yield Use(
            "Tensor(location)",
            node.loc,
            f"{_tensor_label(root)} (location=Location.{where.name})",
        )


def _tensor_roots(values: Any) -> Iterator[Tensor]:
    """The root tensors reachable from ``values``: tensors and views, through containers and
    scalar expressions (a loaded element), but not through other statements."""
    todo = list(values)
    while todo:
        v = todo.pop()
        if isinstance(v, Tensor | TensorView):
            yield v.root
        elif isinstance(v, ScalarExpr):
            todo.extend(v.args)
        elif isinstance(v, dict):
            todo.extend(v.values())
        elif isinstance(v, list | tuple):
            todo.extend(v)


def directives_of(workload: Workload) -> list[Use]:
    """Every directive ``workload`` uses: its schedule first, then the collectives of its body,
    then the memory-layout swizzles and the non-global locations of the tensors it uses."""
    uses = list(_schedule_uses(workload.schedule))
    uses.extend(_body_uses(workload))
    uses.extend(_swizzle_uses(workload))
    uses.extend(_location_uses(workload))
    return uses


# ---- validation ------------------------------------------------------------------------------


def check(workload: Workload, target: str) -> list[Diagnostic]:
    """Validate ``workload``'s directives for ``target`` (spec §4.8).

    Raises ``ScheduleError`` at the first rejected directive (naming it, its file:line and the
    target); returns one ``Diagnostic`` per annotated directive, in schedule order. Enforced and
    preserved directives produce nothing.
    """
    check_mesh_workers(workload, target)
    diagnostics: list[Diagnostic] = []
    for use in directives_of(workload):
        r = rule(use.directive, target)
        on = f" on {use.subject}" if use.subject else ""
        if r.status == "rejected":
            raise ScheduleError(
                f"{use.directive}{on} is not supported by target {target!r}: {r.note}",
                loc=use.loc,
                directive=use.directive,
            )
        if r.status == "annotated":
            diagnostics.append(
                Diagnostic(
                    "warning",
                    use.directive,
                    target,
                    f"{use.directive}{on} is kept in the {target} plan but not honoured by the "
                    f"emitted code: {r.note}",
                    use.loc,
                )
            )
    diagnostics.extend(worker_count_diagnostics(workload, target))
    return diagnostics


def worker_count_diagnostics(workload: Workload, target: str) -> list[Diagnostic]:
    """A dispatch worker count that ``streams(n)`` overrides (DESIGN §2: the larger count
    wins) is a warning located at the dispatch call: the user asked for fewer workers than run.

    A ``streams(n)`` smaller than the dispatch count drops nothing (the dispatch count is the
    worker count and n the stream count), so it is not warned. Under ``spatial_map`` both must
    equal the tiles (``check_mesh_workers``)."""
    spec = workload.schedule
    dispatch = spec.dispatch
    asked = int(dispatch.num_workers or 0) if dispatch is not None else 0
    streams = int(spec.streams or 0)
    if dispatch is None or not asked or streams <= asked or spec.spatial_grid:
        return []
    directive = f"dispatch({dispatch.kind})"
    return [
        Diagnostic(
            "warning",
            directive,
            target,
            f"{directive} asks for {asked} worker{'s' if asked != 1 else ''}, but streams("
            f"{streams}) makes it {streams}: the larger count wins, so the program runs on "
            f"{streams} workers (give both the same count to silence this)",
            _step_loc(spec, "dispatch") or dispatch.loc,
        )
    ]


def start_threshold_diagnostics(workload: Workload, target: str, issue: float) -> list[Diagnostic]:
    """``StartPolicy.threshold(n)`` only delays the start when issuing takes time (the cost
    table's ``issue`` > 0, a timing policy other than ``immediate``, or a task window); with a
    ReadyPolicy it also enlarges the first group. Otherwise every task is issued at cycle 0 and
    the threshold changes nothing, which is warned (docs/semantics.md,
    "Task-graph policies"). ``issue`` is the cost table's at compile."""
    spec = workload.schedule
    start = spec.start_policy
    if start is None or start.kind is not StartKind.THRESHOLD or issue > 0:
        return []
    timing = spec.timing.kind if spec.timing is not None else TimingKind.IMMEDIATE
    if timing is not TimingKind.IMMEDIATE or spec.window is not None:
        return []
    if spec.ready_policy is not None:
        return []
    return [
        Diagnostic(
            "warning",
            "task_graph(start=threshold)",
            target,
            f"StartPolicy.threshold({start.param}) has no effect: the cost table's issue is 0 "
            "and nothing else delays issuing (immediate timing, no task window, no ready "
            "policy), so every task is issued at cycle 0; set a cost table with issue > 0",
            _step_loc(spec, "task_graph", "start"),
        )
    ]


def check_mesh_workers(workload: Workload, target: str) -> None:
    """Under ``spatial_map`` the workers ARE the mesh tiles on both targets (cpu_sim runs r*c
    workers; the ascend_npu plan's block dim is r*c): a dispatch or streams worker count that
    differs is a ``ScheduleError`` at the ``spatial_map`` call, never silently overridden."""
    spec = workload.schedule
    grid = tuple(int(g) for g in (spec.spatial_grid or ()))
    if not grid:
        return
    tiles = math.prod(grid)
    asked = spec.dispatch.num_workers if spec.dispatch is not None else None
    for what, n in (("dispatch", int(asked or 0)), ("streams", int(spec.streams or 0))):
        if n and n != tiles:
            raise ScheduleError(
                f"{target}: {what} asks for {n} workers, but spatial_map(grid={grid}) has "
                f"{tiles} tiles: the workers are the mesh tiles, so both must be {tiles}",
                loc=_step_loc(spec, "spatial_map") or user_location(),
                directive="spatial_map",
            )


# Diagnostics already warned, by (message, file, line): a diagnostic is warned once per process
# and location, not at every compile of the same workload (a sweep compiles many variants).
_WARNED: set[tuple[str, str, int]] = set()


def issue_warnings(diagnostics: list[Diagnostic]) -> None:
    """Issue each diagnostic as a ``ScheduleWarning`` located at the user's line, once."""
    for d in diagnostics:
        file, line = (d.loc.file, d.loc.line) if d.loc is not None else ("<schedule>", 0)
        key = (d.message, file, line)
        if key in _WARNED:
            continue
        _WARNED.add(key)
        warnings.warn_explicit(d.message, ScheduleWarning, file, line)


def table_markdown(targets: tuple[str, ...] = ("cpu_sim", "ascend_npu")) -> str:
    """The table as Markdown (directive | status per target), for the docs and the README."""
    lines = ["| directive | " + " | ".join(targets) + " |", "|---" * (len(targets) + 1) + "|"]
    for directive, entry in TABLE.items():
        cells = [entry[t].status if t in entry else "rejected" for t in targets]
        lines.append(f"| `{directive}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
