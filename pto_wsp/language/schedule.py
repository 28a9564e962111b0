"""Schedules: policies and the immutable ``ScheduleSpec`` behind the combinators (spec §4).

``workload.dispatch(...)``, ``.streams(n)``, ``.stream_by(key)``, ``.timing(...)``,
``.task_graph(...)`` and ``.spatial_map(...)`` each return a NEW workload whose ``ScheduleSpec``
is this module's ``apply_*`` result; the original is never changed.

Key functions (``lambda t: t.get("head") % 2``, ``lambda t: t.batch``) are traced ONCE, when the
policy is created, with a ``SymbolicTask``: ``t.get(name)`` / ``t.name`` / ``t[name]`` give
``scalar_expr.axis(name)`` references and Python arithmetic on them builds a ``ScalarExpr`` that
the generated code evaluates per task — never a Python call per task. The names are checked
against the workload when the combinator is applied (``Workload.resolve_axis_name``). A key
function that needs a concrete value (``if t.get("b") > 2``, ``int(t.b)``, a call into code that
inspects values) cannot be traced and raises ``ScheduleError`` at the function's line.

Policies here are data; the backend gives them meaning (DESIGN §2, docs/semantics.md). Each
carries its kind as a member of a ``policy_kinds`` enum and its parameters as typed fields
(``StartPolicy.threshold(8)``: kind ``StartKind.THRESHOLD``, ``param`` 8); lowering copies
both onto the IR schedule as they are. ``__str__`` is for display only: nothing parses it back.
"""

from __future__ import annotations

import linecache
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol

import numpy as np

from ..errors import PtoError, ScheduleError, SourceLoc, user_location
from .policy_kinds import (
    DepsKind,
    DispatchKind,
    ReadyKind,
    StartKind,
    TimingKind,
    TraceKind,
    WindowMode,
)
from .scalar_expr import ScalarExpr, as_expr
from .scalar_expr import axis as axis_ref


class AxisNames(Protocol):
    """What a combinator checks a key against: the workload's loop names (``Workload`` is one).
    A protocol, not an import, so the schedule does not depend on the workload package that
    builds on it."""

    def resolve_axis_name(self, name: str) -> Any: ...


__all__ = [
    "DepsKind",
    "DispatchKind",
    "ReadyKind",
    "StartKind",
    "TimingKind",
    "TraceKind",
    "DispatchPolicy",
    "TimingPolicy",
    "TaskWindow",
    "WindowMode",
    "Deps",
    "ReadyPolicy",
    "StartPolicy",
    "TracePolicy",
    "Pools",
    "ScheduleSpec",
    "ScheduleStep",
    "SymbolicTask",
    "TaskParams",
    "KeyFunction",
    "trace_key",
]


# ======================================================================================
# Key functions
# ======================================================================================

# Fields of spec §2.4's Task that have no per-task scalar meaning in a compiled schedule.
_TASK_FIELDS = {"kernel", "resources", "id"}


class TaskParams:
    """``t.params`` of a key function: ``t.params[i]`` is the i-th value bound in the task's
    ``kernel[...]`` (``attn[b, h]``: ``t.params[1]`` is h), 0 when the call binds fewer; the
    reference implementation's form. Evaluated per task in generated code like ``t.get``."""

    __slots__ = ()

    def __getitem__(self, i: int) -> ScalarExpr:
        if isinstance(i, bool | np.bool_) or not isinstance(i, int | np.integer) or i < 0:
            raise ScheduleError(
                f"t.params[i] takes an int index >= 0 (the i-th kernel[...] value), got {i!r}",
                loc=user_location(),
            )
        return ScalarExpr.task_param(int(i))

    def __repr__(self) -> str:
        return "<symbolic task params>"


class SymbolicTask:
    """The ``t`` a key function sees while it is traced (stand-in for spec §2.4 ``Task``)."""

    __slots__ = ()

    def get(self, name: str) -> ScalarExpr:
        if not isinstance(name, str) or not name:
            raise ScheduleError(
                f"t.get(name) takes a loop variable or axis name, got {name!r}",
                loc=user_location(),
            )
        return axis_ref(name)

    def __getitem__(self, name: str) -> ScalarExpr:
        return self.get(name)

    @property
    def tags(self) -> SymbolTags:
        """``t.tags[name]``: the runtime symbol ``name`` (reference compatibility)."""
        return SymbolTags()

    @property
    def params(self) -> TaskParams:
        return TaskParams()

    def __getattr__(self, name: str) -> ScalarExpr:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _TASK_FIELDS:
            raise ScheduleError(
                f"t.{name} is not available in a schedule key: keys are compiled expressions "
                f'over loop variables; use t.get("<loop variable or axis name>")',
                loc=user_location(),
            )
        return axis_ref(name)

    def __repr__(self) -> str:
        return "<symbolic task>"


class SymbolTags:
    """``t.tags`` of a traced key: ``t.tags[name]`` is runtime symbol ``name``
    (``Program.set_symbol_u64``), read when the task is submitted."""

    __slots__ = ()

    def __getitem__(self, name: str) -> ScalarExpr:
        if not isinstance(name, str) or not name:
            raise ScheduleError(
                f"t.tags[name] takes a runtime symbol name (a non-empty str), got {name!r}",
                loc=user_location(),
            )
        return ScalarExpr.symbol(name)

    def __repr__(self) -> str:
        return "<runtime symbols>"


@dataclass(frozen=True, eq=False)
class KeyFunction:
    """A traced key: the user's function, its ``ScalarExpr`` and where it was written."""

    fn: Any
    expr: ScalarExpr
    loc: SourceLoc | None

    def axis_names(self) -> list[str]:
        return [str(n.name) for n in self.expr.walk() if n.kind == "axis"]


def _fn_loc(fn: Any) -> SourceLoc | None:
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    line = code.co_firstlineno
    return SourceLoc(code.co_filename, line, linecache.getline(code.co_filename, line).strip())


def trace_key(fn: Any, what: str, loc: SourceLoc | None = None) -> KeyFunction:
    """Trace a key function once with a ``SymbolicTask``.

    ``fn`` may also be a string (``"batch"`` = ``lambda t: t.get("batch")``) or a ScalarExpr.
    """
    loc = loc or user_location()
    if isinstance(fn, str):
        return KeyFunction(fn, SymbolicTask().get(fn), loc)
    if isinstance(fn, ScalarExpr):
        return KeyFunction(fn, fn, loc)
    if not callable(fn):
        raise ScheduleError(
            f'{what} takes a key function such as lambda t: t.get("batch"), got '
            f"{type(fn).__name__}",
            loc=loc,
        )
    key_loc = _fn_loc(fn) or loc
    try:
        result = fn(SymbolicTask())
    except ScheduleError as e:
        raise ScheduleError(f"{what}: {e.message}", loc=e.loc or key_loc) from None
    except (PtoError, Exception) as e:
        msg = e.message if isinstance(e, PtoError) else f"{type(e).__name__}: {e}"
        raise ScheduleError(
            f"{what}: the key function cannot be traced symbolically ({msg}); a key may only "
            'combine t.get("name") values with arithmetic, comparisons and constants',
            loc=key_loc,
        ) from e
    try:
        expr = as_expr(result)
    except PtoError:
        raise ScheduleError(
            f"{what}: the key function returned a {type(result).__name__}; it must return an "
            'integer expression such as t.get("head") % 2',
            loc=key_loc,
        ) from None
    return KeyFunction(fn, expr, key_loc)


def _check_key(key: KeyFunction | None, w: AxisNames) -> None:
    if key is None:
        return
    for name in key.axis_names():
        try:
            w.resolve_axis_name(name)
        except ScheduleError as e:
            raise ScheduleError(e.message, loc=key.loc or e.loc) from None


def _positive_int(value: Any, what: str, loc: SourceLoc | None, minimum: int = 1) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ScheduleError(f"{what} must be an int >= {minimum}, got {value!r}", loc=loc)
    if value < minimum:
        raise ScheduleError(f"{what} must be >= {minimum}, got {value}", loc=loc)
    return int(value)


# ======================================================================================
# Dispatch and timing (spec §4.2–§4.4)
# ======================================================================================


@dataclass(frozen=True, eq=False)
class DispatchPolicy:
    """Which worker (AICPU) runs a task.

    kinds: ``round_robin`` (submission order mod N), ``affinity`` (key mod N: same key, same
    worker), ``hash`` (splitmix64(key) mod N), ``dispatch_by`` (custom key mod N),
    ``work_steal`` (round-robin home, idle workers take ready work).
    """

    kind: DispatchKind
    num_workers: int | None = None
    key_fn: KeyFunction | None = None
    loc: SourceLoc | None = None

    @property
    def key(self) -> ScalarExpr | None:
        return None if self.key_fn is None else self.key_fn.expr

    @staticmethod
    def round_robin(num_aicpus: int | None = None) -> DispatchPolicy:
        """Submission order mod N. Without ``num_aicpus``, N is the run's worker count (the
        larger of streams and the pools' total, else ``DEFAULT_WORKERS``, 1; DESIGN §2), resolved
        at lowering."""
        loc = user_location()
        n = None
        if num_aicpus is not None:
            n = _positive_int(num_aicpus, "DispatchPolicy.round_robin(num_aicpus)", loc)
        return DispatchPolicy(DispatchKind.ROUND_ROBIN, n, None, loc)

    @staticmethod
    def affinity(key_fn: Callable[[Any], Any] | str, num_aicpus: int = 0) -> DispatchPolicy:
        """``key mod N``: the same key runs on the same worker. N is ``num_aicpus`` when > 0,
        else ``streams(n)``'s n, else ``DEFAULT_WORKERS``, 1 (DESIGN §2, the reference
        implementation's rule)."""
        return DispatchPolicy._keyed(DispatchKind.AFFINITY, key_fn, num_aicpus, "affinity")

    @staticmethod
    def hash(key_fn: Callable[[Any], Any] | str, num_aicpus: int = 0) -> DispatchPolicy:
        """``splitmix64(key) mod N``; N as for ``affinity``."""
        return DispatchPolicy._keyed(DispatchKind.HASH, key_fn, num_aicpus, "hash")

    @staticmethod
    def dispatch_by(fn: Callable[[Any], Any] | str, num_aicpus: int = 0) -> DispatchPolicy:
        """``fn(t) mod N`` for a custom key; N as for ``affinity``."""
        return DispatchPolicy._keyed(DispatchKind.DISPATCH_BY, fn, num_aicpus, "dispatch_by")

    @staticmethod
    def _keyed(kind: DispatchKind, key_fn: Any, num_aicpus: Any, name: str) -> DispatchPolicy:
        loc = user_location()
        what = f"DispatchPolicy.{name}"
        n = _positive_int(num_aicpus, f"{what}(key, num_aicpus)", loc, minimum=0)
        return DispatchPolicy(kind, n or None, trace_key(key_fn, what, loc), loc)

    @staticmethod
    def work_steal() -> DispatchPolicy:
        return DispatchPolicy(DispatchKind.WORK_STEAL, None, None, user_location())

    def __str__(self) -> str:
        if self.kind is DispatchKind.ROUND_ROBIN:
            return f"round_robin({self.num_workers or ''})"
        if self.key_fn is not None:
            n = f", num_aicpus={self.num_workers}" if self.num_workers else ""
            return f"{self.kind}({self.key_fn.expr}{n})"
        return self.kind

    __repr__ = __str__


@dataclass(frozen=True, eq=False)
class TimingPolicy:
    """When a ready task is issued.

    ``immediate`` (attribute, also callable), ``batched(n)`` (groups of n submissions issue
    together), ``interleaved(streams)`` (issue rotates over that many streams),
    ``rate_limit(tasks_per_ms)`` (issue i is not before i / rate).
    """

    kind: TimingKind
    param: float | None = None
    loc: SourceLoc | None = None

    immediate: ClassVar[TimingPolicy]

    def __call__(self) -> TimingPolicy:
        """``TimingPolicy.immediate()`` is the same policy as ``TimingPolicy.immediate``."""
        return self

    @staticmethod
    def batched(n: int) -> TimingPolicy:
        loc = user_location()
        n = _positive_int(n, "TimingPolicy.batched(n)", loc)
        return TimingPolicy(TimingKind.BATCHED, n, loc)

    @staticmethod
    def interleaved(streams: int) -> TimingPolicy:
        loc = user_location()
        k = _positive_int(streams, "TimingPolicy.interleaved(streams)", loc)
        return TimingPolicy(TimingKind.INTERLEAVED, k, loc)

    @staticmethod
    def rate_limit(tasks_per_ms: float) -> TimingPolicy:
        loc = user_location()
        if isinstance(tasks_per_ms, bool) or not isinstance(
            tasks_per_ms, int | float | np.integer | np.floating
        ):
            raise ScheduleError(
                f"TimingPolicy.rate_limit(tasks_per_ms) takes a number, got {tasks_per_ms!r}",
                loc=loc,
            )
        try:
            finite = math.isfinite(float(tasks_per_ms))
        except OverflowError:  # an int beyond the float range
            finite = False
        if not finite or tasks_per_ms <= 0:
            raise ScheduleError(
                f"TimingPolicy.rate_limit(tasks_per_ms) must be > 0, got {tasks_per_ms}", loc=loc
            )
        return TimingPolicy(TimingKind.RATE_LIMIT, float(tasks_per_ms), loc)

    def __str__(self) -> str:
        return self.kind if self.param is None else f"{self.kind}({self.param:g})"

    __repr__ = __str__


# A class attribute cannot be an instance of its class inside the class body; set it after.
TimingPolicy.immediate = TimingPolicy(TimingKind.IMMEDIATE)


# ======================================================================================
# Task graph (spec §4.7; definitions in docs/semantics.md)
# ======================================================================================


# WindowMode lives in policy_kinds (the IR receives it as its enum); re-exported here.

WINDOW_UNITS: tuple[str, ...] = ("tasks",)
"""What a ``TaskWindow`` may count (the Studio's sheet offers these)."""


@dataclass(frozen=True)
class TaskWindow:
    """At most ``size`` tasks in flight (issued, not ended); unit is "tasks"."""

    size: int
    unit: str = "tasks"
    mode: WindowMode = WindowMode.STALL

    def __post_init__(self) -> None:
        loc = user_location()
        object.__setattr__(self, "size", _positive_int(self.size, "TaskWindow(size)", loc))
        if not isinstance(self.unit, str) or self.unit not in WINDOW_UNITS:
            raise ScheduleError(
                f"TaskWindow unit must be one of {', '.join(WINDOW_UNITS)}, got {self.unit!r}",
                loc=loc,
            )
        mode: object = self.mode
        if isinstance(mode, str):
            try:
                mode = WindowMode(mode.lower())
            except ValueError:
                pass  # reported below, with the valid modes
        if not isinstance(mode, WindowMode):
            valid = ", ".join(m.name for m in WindowMode)
            raise ScheduleError(
                f"TaskWindow mode must be a WindowMode ({valid}), got {self.mode!r}", loc=loc
            )
        object.__setattr__(self, "mode", mode)

    def __str__(self) -> str:
        return f"window({self.size} {self.unit}, {self.mode.value})"


@dataclass(frozen=True, eq=False)
class _Knob:
    """Base of the small task-graph policies: a kind, an optional parameter / key."""

    kind: Any  # the subclass's policy_kinds enum
    param: int | None = None
    key_fn: KeyFunction | None = None

    @property
    def key(self) -> ScalarExpr | None:
        return None if self.key_fn is None else self.key_fn.expr

    def __str__(self) -> str:
        if self.param is not None:
            return f"{self.kind}({self.param})"
        if self.key_fn is not None:
            return f"{self.kind}({self.key_fn.expr})"
        return self.kind

    __repr__ = __str__

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self) and str(other) == str(self)  # kind + param + printed key
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, str(self)))


class Deps(_Knob):
    """Where task dependencies come from (docs/semantics.md, "Dependency tracking").

    - ``infer()`` (default): structure (``P.seq``, ``sequential``, channels, events) plus the
      tensor regions tasks read and write (RAW / WAR / WAW), compared exactly: strided and
      multi-dimensional views (column tiles, halos) order only the tasks whose elements overlap.
    - ``infer("bounding")``: each access is reduced to its bounding element range. Cheaper to
      track; it may order tasks that touch interleaved but disjoint elements.
    - ``explicit()``: no data dependencies: tasks that touch the same data are NOT ordered unless
      the structure says so. The user's declared dependencies are trusted; no region is tracked.

    The kind (``DepsKind``) is what the IR ``schedule.deps`` holds.
    """

    kind: DepsKind
    _INFER_MODES: ClassVar[dict[str, DepsKind]] = {
        "exact": DepsKind.INFER,
        "bounding": DepsKind.INFER_BOUNDING,
    }

    @staticmethod
    def infer(mode: str = "exact") -> Deps:
        """Region inference; ``mode`` is ``"exact"`` (default) or ``"bounding"``."""
        kind = Deps._INFER_MODES.get(mode) if isinstance(mode, str) else None
        if kind is None:
            raise ScheduleError(
                f"Deps.infer(mode) takes one of {', '.join(map(repr, Deps._INFER_MODES))}, "
                f"got {mode!r}",
                loc=user_location(),
            )
        return Deps(kind)

    @staticmethod
    def explicit() -> Deps:
        """Structure only: no data dependencies are inferred."""
        return Deps(DepsKind.EXPLICIT)

    @property
    def tracks_regions(self) -> bool:
        """Whether the backend tracks tensor regions at run time (every mode but explicit)."""
        return self.kind is not DepsKind.EXPLICIT


class ReadyPolicy(_Knob):
    """Order in which a worker takes its ready tasks (a ready queue instead of in-order issue).

    Without a ReadyPolicy a worker runs its tasks in issue order, so a ready task waits behind an
    earlier one that is not ready yet. With one, the dispatcher holds issued tasks in groups and
    each worker, when free, takes among its tasks that are ready by then: ``fifo()`` the first
    issued, ``lifo()`` the last issued, ``priority(key_fn)`` the smallest key (ties in issue
    order); with none ready it idles until the earliest ready one. The priority key is traced
    once like a dispatch key (``lambda t: -t.get("layer")``) and evaluated per task in generated
    code. Streams stay in order. Semantics: docs/semantics.md, "Task-graph policies".
    """

    kind: ReadyKind

    @staticmethod
    def fifo() -> ReadyPolicy:
        return ReadyPolicy(ReadyKind.FIFO)

    @staticmethod
    def lifo() -> ReadyPolicy:
        return ReadyPolicy(ReadyKind.LIFO)

    @staticmethod
    def priority(key_fn: Callable[[Any], Any] | str) -> ReadyPolicy:
        loc = user_location()
        key = trace_key(key_fn, "ReadyPolicy.priority", loc)
        return ReadyPolicy(ReadyKind.PRIORITY, None, key)


class StartPolicy(_Knob):
    """When execution starts: ``eager()`` (with the first issued task, default) or
    ``threshold(n)``: no task starts before the n-th task has been issued (or before the last
    task issued when the program has fewer tasks or a dependency forces the held tasks out
    first). Visible when issuing costs time: the cost table's ``issue`` cycles per task or a
    ``rate_limit`` timing; with a ReadyPolicy the first group holds at least n tasks.
    Semantics: docs/semantics.md, "Task-graph policies".
    """

    kind: StartKind

    @staticmethod
    def eager() -> StartPolicy:
        return StartPolicy(StartKind.EAGER)

    @staticmethod
    def threshold(n: int) -> StartPolicy:
        """``param`` is n; lowering stores it as the IR schedule's ``start_threshold``."""
        n = _positive_int(n, "StartPolicy.threshold(n)", user_location())
        return StartPolicy(StartKind.THRESHOLD, n)


class TracePolicy(_Knob):
    """What a run records: ``full()`` (a trace record per task, default) or ``none()``: no
    per-task records (``program.trace`` is empty, with the same dtype); ``task_count`` and
    ``total_cycles`` are unchanged, and the run saves the trace's memory and time."""

    kind: TraceKind

    @staticmethod
    def none() -> TracePolicy:
        return TracePolicy(TraceKind.NONE)

    @staticmethod
    def full() -> TracePolicy:
        return TracePolicy(TraceKind.FULL)


@dataclass(frozen=True)
class Pools:
    """Worker pools: pool k has ``sizes[k]`` workers; ``kernels`` maps kernel names to pools.

    Pools are contiguous worker ranges in order (pool 0 = workers 0..sizes[0]-1, ...). Tasks of a
    kernel listed in ``kernels`` run only on its pool's workers, the dispatch policy applied
    within the pool (round robin counts per pool, keys mod the pool size); other kernels may run
    on any worker. The program gets at least ``sum(sizes)`` workers. A listed kernel the workload
    never calls, or a ``spatial_map`` grid with fewer tiles than ``sum(sizes)``, is a
    ``ScheduleError`` at compile. Semantics: docs/semantics.md, "Task-graph policies".
    """

    sizes: tuple[int, ...]
    kernels: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        # Checked here too, not only in by_kernel: a Pools built directly (the Studio's exporter
        # writes ``Pools((2, 2), (("attn", 0),))``) would otherwise fail late in the simulator.
        loc = user_location()
        if not isinstance(self.sizes, tuple | list) or not self.sizes:
            raise ScheduleError(
                f"Pools(sizes) must be a non-empty tuple of worker counts, got {self.sizes!r}",
                loc=loc,
            )
        sizes = tuple(
            _positive_int(n, f"Pools worker count of pool {p}", loc)
            for p, n in enumerate(self.sizes)
        )
        kernels: list[tuple[str, int]] = []
        for entry in self.kernels:
            name, pool = entry if isinstance(entry, tuple | list) and len(entry) == 2 else (None, 0)
            if not isinstance(name, str):
                raise ScheduleError(
                    f"Pools(kernels) entries are (kernel name, pool index), got {entry!r}", loc=loc
                )
            if isinstance(pool, bool) or not isinstance(pool, int) or not 0 <= pool < len(sizes):
                raise ScheduleError(
                    f"Pools: kernel {name!r} is given pool {pool!r}, but the pools are "
                    f"0..{len(sizes) - 1}",
                    loc=loc,
                )
            if any(name == listed for listed, _ in kernels):
                raise ScheduleError(
                    f"Pools lists kernel {name!r} twice (a kernel runs in one pool)", loc=loc
                )
            kernels.append((name, pool))
        object.__setattr__(self, "sizes", sizes)
        object.__setattr__(self, "kernels", tuple(kernels))

    @staticmethod
    def by_kernel(mapping: Mapping[Any, int]) -> Pools:
        """``Pools.by_kernel({attn: 2, ffn: 2})``: one pool per kernel with that many workers."""
        loc = user_location()
        if not isinstance(mapping, Mapping) or not mapping:
            raise ScheduleError(
                "Pools.by_kernel takes a non-empty {kernel: worker count} mapping", loc=loc
            )
        sizes: list[int] = []
        kernels: list[tuple[str, int]] = []
        for k, n in mapping.items():
            name = k if isinstance(k, str) else getattr(k, "name", None)
            if not isinstance(name, str):
                raise ScheduleError(
                    f"Pools.by_kernel keys are kernels or kernel names, got {type(k).__name__}",
                    loc=loc,
                )
            if any(name == listed for listed, _ in kernels):
                raise ScheduleError(
                    f"Pools.by_kernel lists kernel {name!r} twice (a kernel runs in one pool)",
                    loc=loc,
                )
            kernels.append((name, len(sizes)))
            sizes.append(_positive_int(n, f"Pools.by_kernel worker count of {name}", loc))
        return Pools(tuple(sizes), tuple(kernels))

    def __str__(self) -> str:
        return "pools(" + ", ".join(f"{n}:{self.sizes[p]}" for n, p in self.kernels) + ")"


# ======================================================================================
# ScheduleSpec and the combinators' logic
# ======================================================================================


# The keywords of ``.task_graph(...)`` in the order a task_graph step records its args.
TASK_GRAPH_ARGS = ("window", "deps", "ready", "start", "trace", "pools")


@dataclass(frozen=True)
class ScheduleStep:
    """One combinator call as written (kept for display and for the studio's importer)."""

    name: str
    args: tuple[Any, ...]
    loc: SourceLoc | None = None


@dataclass(frozen=True)
class ScheduleSpec:
    """Everything a chain of schedule combinators said; immutable."""

    dispatch: DispatchPolicy | None = None
    streams: int | None = None
    stream_key: ScalarExpr | None = None
    stream_key_fn: KeyFunction | None = None
    timing: TimingPolicy | None = None
    window: TaskWindow | None = None
    deps: Deps | None = None
    ready_policy: ReadyPolicy | None = None
    start_policy: StartPolicy | None = None
    trace_policy: TracePolicy | None = None
    pools: Pools | None = None
    spatial_grid: tuple[int, ...] | None = None
    steps: tuple[ScheduleStep, ...] = field(default=(), compare=False)

    def is_empty(self) -> bool:
        return not self.steps

    def describe(self) -> str:
        return ".".join(f"{s.name}(...)" for s in self.steps) or "default"

    def step_loc(self, name: str, arg: str | None = None) -> SourceLoc | None:
        """Where the combinator ``name`` in effect was called: the last such step (that set
        ``arg``, a ``task_graph`` keyword, when given); None when there is none."""
        for step in reversed(self.steps):
            if step.name != name:
                continue
            if arg is None:
                return step.loc
            i = TASK_GRAPH_ARGS.index(arg)
            if i < len(step.args) and step.args[i] is not None:
                return step.loc
        return None

    def _step(
        self, name: str, args: tuple[Any, ...], loc: SourceLoc | None, **changes: Any
    ) -> ScheduleSpec:
        return replace(self, steps=(*self.steps, ScheduleStep(name, args, loc)), **changes)


def _expect(value: Any, cls: type, what: str, loc: SourceLoc | None) -> None:
    if not isinstance(value, cls):
        raise ScheduleError(
            f"{what} takes a {cls.__name__}, got {type(value).__name__}"
            + (
                " (call the constructor, e.g. DispatchPolicy.round_robin(4))"
                if callable(value)
                else ""
            ),
            loc=loc,
        )


def apply_dispatch(
    spec: ScheduleSpec, policy: Any, w: AxisNames, loc: SourceLoc | None
) -> ScheduleSpec:
    _expect(policy, DispatchPolicy, ".dispatch(policy)", loc)
    _check_key(policy.key_fn, w)
    return spec._step("dispatch", (policy,), loc, dispatch=policy)


def apply_streams(spec: ScheduleSpec, n: Any, loc: SourceLoc | None) -> ScheduleSpec:
    count = _positive_int(n, ".streams(n)", loc)
    return spec._step("streams", (count,), loc, streams=count)


def apply_stream_by(
    spec: ScheduleSpec, key_fn: Any, w: AxisNames, loc: SourceLoc | None
) -> ScheduleSpec:
    key = trace_key(key_fn, ".stream_by(key_fn)", loc)
    _check_key(key, w)
    return spec._step("stream_by", (key_fn,), loc, stream_key=key.expr, stream_key_fn=key)


def apply_timing(spec: ScheduleSpec, policy: Any, loc: SourceLoc | None) -> ScheduleSpec:
    _expect(policy, TimingPolicy, ".timing(policy)", loc)
    return spec._step("timing", (policy,), loc, timing=policy)


def apply_task_graph(
    spec: ScheduleSpec,
    w: AxisNames,
    loc: SourceLoc | None,
    *,
    window: Any = None,
    deps: Any = None,
    ready: Any = None,
    start: Any = None,
    trace: Any = None,
    pools: Any = None,
) -> ScheduleSpec:
    changes: dict[str, Any] = {}
    if window is not None:
        if isinstance(window, int | np.integer) and not isinstance(window, bool):
            window = TaskWindow(int(window))
        _expect(window, TaskWindow, ".task_graph(window=...)", loc)
        changes["window"] = window
    for value, cls, name, fieldname in (
        (deps, Deps, "deps", "deps"),
        (ready, ReadyPolicy, "ready", "ready_policy"),
        (start, StartPolicy, "start", "start_policy"),
        (trace, TracePolicy, "trace", "trace_policy"),
        (pools, Pools, "pools", "pools"),
    ):
        if value is not None:
            _expect(value, cls, f".task_graph({name}=...)", loc)
            changes[fieldname] = value
    if ready is not None:
        _check_key(ready.key_fn, w)
    if not changes:
        raise ScheduleError(
            ".task_graph() needs at least one of window, deps, ready, start, trace, pools",
            loc=loc,
        )
    args = (window, deps, ready, start, trace, pools)  # in TASK_GRAPH_ARGS order
    return spec._step("task_graph", args, loc, **changes)


def apply_spatial_map(spec: ScheduleSpec, grid: Any, loc: SourceLoc | None) -> ScheduleSpec:
    if isinstance(grid, int | np.integer) and not isinstance(grid, bool):
        grid = (grid,)
    if not isinstance(grid, tuple | list) or not 1 <= len(grid) <= 2:
        raise ScheduleError(
            f".spatial_map(grid=...) takes (rows, cols) or (n,), got {grid!r}", loc=loc
        )
    dims = tuple(_positive_int(g, ".spatial_map grid dimension", loc) for g in grid)
    return spec._step("spatial_map", (dims,), loc, spatial_grid=dims)
