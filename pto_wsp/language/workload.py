"""Workloads: ``@workload``, the ``P`` loop namespace, composition (spec §3, §5.4).

A ``@workload`` function is traced once per call: its body runs with symbolic loop variables, and
every construct records a node into the innermost open scope (``pto_wsp.language._builder``). The result is
a ``Workload`` holding a tree of plain dataclasses that ``pto_wsp.compiler.lowering`` turns into the C++ IR.
Nothing here enumerates tasks: a ``P(batch, heads)`` loop body is traced once, not B x H times.

Structure rules decided here (spec §3, DESIGN §6):

* ``P.when`` blocks that follow each other directly in one scope form ONE if/elif chain, and a
  ``P.otherwise`` right after them closes it (else branch). Any other statement in between starts
  a new chain. ``P.otherwise`` with no open chain before it is a ``TypeCheckError``.
* Inside ``P.pipe()`` every top-level statement becomes one CSP process. A ``with consume(ch)``
  block outside any process (e.g. at workload level, spec §8.3) is a process of its own: it joins
  the ``PipeNode`` directly before it, or starts a new one that also takes in the directly
  preceding statements that ``send`` on channels (so producer and consumers run concurrently).
* ``P.pipe(depth=N)`` gives every channel its processes use, and that was created without an
  explicit depth, the depth N.
* A ``@workload`` called while another one is traced is inlined: its statements are appended to
  the caller's scope. ``combine``/``sequential`` called while tracing record their node in place
  of the inlined children.
* The dependency type (``Workload.dep_type``) is that of the outermost construct; a body of
  several structural statements of different types is ``Combined`` (siblings are ordered only
  by their data dependencies).
"""

from __future__ import annotations

import dis
import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from types import CodeType, FrameType
from typing import Any

import numpy as np

from ..errors import ScheduleError, SourceLoc, TypeCheckError, _is_internal, user_location
from . import _builder
from .key_rule import singular as _singular
from .scalar_expr import LoopVar, ScalarExpr, as_expr
from .schedule import (
    DispatchPolicy,
    ScheduleSpec,
    TaskWindow,
    TimingPolicy,
    apply_dispatch,
    apply_spatial_map,
    apply_stream_by,
    apply_streams,
    apply_task_graph,
    apply_timing,
)
from .toolchain import toolchain

__all__ = [
    "workload",
    "Workload",
    "WorkloadFunction",
    "P",
    "combine",
    "sequential",
    "task",
    "for_each",
    "parallel_for",
    "Scope",
    "LoopNode",
    "CondNode",
    "PipeNode",
    "ProcessNode",
    "SendNode",
    "ConsumeNode",
    "CloseNode",
    "RecordNode",
    "SyncNode",
    "SlotSetNode",
    "SlotLoadNode",
    "CombineNode",
    "SequentialNode",
    "ConnectNode",
    "walk",
]


# ======================================================================================
# Workload tree nodes
# ======================================================================================


@dataclass(eq=False)
class LoopNode:
    """``P``/``P.grid`` (kind "parallel"), ``P.seq`` ("seq") or ``P.sel`` ("sel") loop."""

    kind: str
    vars: list[LoopVar]
    axes: list[Any]
    body: list[Any] = field(default_factory=list)
    loc: SourceLoc | None = None


@dataclass(eq=False)
class CondNode:
    """An if/elif/else chain; a ``None`` predicate is the ``P.otherwise`` branch."""

    branches: list[tuple[ScalarExpr | None, list[Any]]] = field(default_factory=list)
    loc: SourceLoc | None = None

    @property
    def is_open(self) -> bool:
        """True while a further ``P.when``/``P.otherwise`` may extend the chain."""
        return bool(self.branches) and self.branches[-1][0] is not None


@dataclass(eq=False)
class ProcessNode:
    """One CSP process: its channels and its body (spec §3.7)."""

    name: str
    consumes: list[Any] = field(default_factory=list)
    produces: list[Any] = field(default_factory=list)
    body: list[Any] = field(default_factory=list)
    replicas: int = 1
    loc: SourceLoc | None = None


@dataclass(eq=False)
class PipeNode:
    """A pipeline scope whose processes run concurrently (``P.pipe``, workload-level consume)."""

    processes: list[ProcessNode] = field(default_factory=list)
    depth: int | None = None
    loc: SourceLoc | None = None


@dataclass(eq=False)
class ConnectNode:
    """``connect(processes, channels)``: an explicitly wired pipeline (spec §3.7)."""

    processes: list[ProcessNode]
    channels: list[Any]
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SendNode:
    """``send(ch, value)``: value is the KernelCall producing the item, a tensor view or None."""

    channel: Any
    value: Any
    block: bool = True
    loc: SourceLoc | None = None


@dataclass(eq=False)
class ConsumeNode:
    """``with consume(ch) as t``: the body runs once per received item, ``t`` = its sequence no."""

    channel: Any
    var: LoopVar
    body: list[Any] = field(default_factory=list)
    loc: SourceLoc | None = None


@dataclass(eq=False)
class CloseNode:
    channel: Any
    loc: SourceLoc | None = None


@dataclass(eq=False)
class RecordNode:
    event: Any
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SyncNode:
    event: Any
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SlotSetNode:
    slot: int
    value: ScalarExpr
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SlotLoadNode:
    slot: int
    view: Any
    row: ScalarExpr
    col: ScalarExpr
    loc: SourceLoc | None = None


@dataclass(eq=False)
class CombineNode:
    """Unordered composition of workloads (spec §3.6)."""

    children: list[Workload]
    loc: SourceLoc | None = None


@dataclass(eq=False)
class SequentialNode:
    """Ordered composition: child k+1 starts after child k ends (spec §3.6)."""

    children: list[Workload]
    loc: SourceLoc | None = None


# Statements that carry no iteration structure of their own (ignored by dep_type).
_PLAIN_STATEMENTS = (CloseNode, RecordNode, SyncNode, SlotSetNode, SlotLoadNode)


def _is_kernel_call(node: Any) -> bool:
    from .kernel import KernelCall

    return isinstance(node, KernelCall)


def walk(stmts: Any) -> Iterator[Any]:
    """Yield every node of a statement list (or a single node), parents before children.

    Descends into loop/branch/process/consume bodies, the value of a ``send`` and the children
    of ``combine``/``sequential`` (through their workloads' statements).
    """
    todo = list(stmts) if isinstance(stmts, list | tuple) else [stmts]
    todo.reverse()
    while todo:
        node = todo.pop()
        yield node
        todo.extend(reversed(_children(node)))


def _children(node: Any) -> list[Any]:
    if isinstance(node, LoopNode | ProcessNode | ConsumeNode):
        return list(node.body)
    if isinstance(node, CondNode):
        return [s for _, body in node.branches for s in body]
    if isinstance(node, PipeNode | ConnectNode):
        return list(node.processes)
    if isinstance(node, SendNode):
        return [node.value] if _is_kernel_call(node.value) else []
    if isinstance(node, CombineNode | SequentialNode):
        return [s for w in node.children for s in w.statements()]
    return []


def _channel_use(stmts: list[Any]) -> tuple[list[Any], list[Any]]:
    """(consumed, produced) channels of a process body, in first-use order, without duplicates.

    Nested pipelines own their channels and are not looked into.
    """
    consumes: list[Any] = []
    produces: list[Any] = []
    todo = list(reversed(stmts))
    while todo:
        node = todo.pop()
        if isinstance(node, PipeNode | ConnectNode):
            continue
        if isinstance(node, SendNode) and not any(c is node.channel for c in produces):
            produces.append(node.channel)
        if isinstance(node, ConsumeNode) and not any(c is node.channel for c in consumes):
            consumes.append(node.channel)
        todo.extend(reversed(_children(node)))
    return consumes, produces


# ======================================================================================
# Scopes
# ======================================================================================


class Scope:
    """An open statement list while a workload is traced.

    ``kind`` is "root", "loop", "branch", "pipe", "process" or "consume". ``in_process`` tells
    whether statements here run inside a CSP process (then a ``consume`` block is a plain
    statement instead of forming a process of its own).
    """

    def __init__(self, kind: str, parent: Any = None, in_process: bool | None = None):
        self.kind = kind
        self.nodes: list[Any] = []
        if in_process is None:
            in_process = bool(getattr(parent, "in_process", False)) or (
                getattr(parent, "kind", None) == "pipe"
            )
        self.in_process = in_process

    def append(self, node: Any) -> None:
        self.nodes.append(node)

    def remove(self, node: Any) -> bool:
        for k, n in enumerate(self.nodes):
            if n is node:
                del self.nodes[k]
                return True
        return False


def _enclosing_scope(what: str, loc: SourceLoc | None) -> Any:
    scope = _builder.current()
    if scope is None:
        raise TypeCheckError(f"{what} must be used inside a @workload function", loc=loc)
    return scope


def _close_scope(scope: Scope) -> None:
    """Pop ``scope`` if it is innermost (an exception may already have unwound the stack)."""
    if _builder.current() is scope:
        _builder.pop(scope)


# ======================================================================================
# Python target names of `for x in ...` / `with ... as x` (for readable loop variables)
# ======================================================================================

_STORE_OPS = {"STORE_FAST", "STORE_NAME", "STORE_DEREF", "STORE_GLOBAL"}
_FILLER_OPS = {"EXTENDED_ARG", "NOP", "CACHE"}


@functools.lru_cache(maxsize=512)
def _instructions(code: CodeType) -> tuple[list[dis.Instruction], dict[int, int]]:
    instrs = list(dis.get_instructions(code))
    return instrs, {ins.offset: k for k, ins in enumerate(instrs)}


def _target_names(frame: FrameType | None, first_op: str) -> list[str] | None:
    """Names a user statement binds right after the instruction now running in ``frame``.

    ``first_op`` is the opcode expected next ("FOR_ITER" for a loop, "" for a with-statement).
    Returns None when the frame is ours or the target is not a plain name / tuple of names.
    """
    if frame is None or _is_internal(frame.f_code.co_filename):
        return None
    try:
        instrs, index = _instructions(frame.f_code)
    except Exception:  # pragma: no cover - exotic code objects
        return None
    k = index.get(frame.f_lasti)
    if k is None:
        return None
    # Prefix / filler opcodes carry no meaning here (a long loop body needs EXTENDED_ARG).
    instrs = [ins for ins in instrs[k + 1 : k + 64] if ins.opname not in _FILLER_OPS]
    if first_op:
        if not instrs or instrs[0].opname != first_op:
            return None
        instrs = instrs[1:]
    if not instrs:
        return None
    ins = instrs[0]
    if ins.opname in _STORE_OPS:
        return [str(ins.argval)]
    if ins.opname == "UNPACK_SEQUENCE":
        count = int(ins.arg or 0)
        stores = instrs[1 : 1 + count]
        if len(stores) == count and all(s.opname in _STORE_OPS for s in stores):
            return [str(s.argval) for s in stores]
    return None


def _name_unnamed_axis(axis: Any, frame: FrameType | None) -> None:
    """Give an axis without a name the user's variable name for it (``tiles = DenseDyn(n)``)."""
    target = getattr(axis, "axis", axis)  # a SparseRow / RaggedRow names its parent axis
    if getattr(target, "name", None) or frame is None:
        return
    for mapping in (frame.f_locals, frame.f_globals):
        for name, value in mapping.items():
            if value is target and not name.startswith("_"):
                try:
                    target.name = name
                except AttributeError:
                    return
                return


# ======================================================================================
# P: loop constructors
# ======================================================================================


def _check_axis(x: Any, what: str, loc: SourceLoc | None) -> Any:
    from . import axes as _axes

    if isinstance(x, bool | np.bool_):
        raise TypeCheckError(f"{what}: expected an axis ({_axes.ACCEPTED}), got a bool", loc=loc)
    try:
        ax = _axes.as_axis(x)
    except TypeCheckError as e:
        raise TypeCheckError(f"{what}: {e.message}", loc=loc) from None
    if getattr(ax, "kind", None) == "sparse":
        raise TypeCheckError(
            f"{what}: a Sparse axis is iterated with P.sel(routing[b]) (only selected entries)",
            loc=loc,
        )
    return ax


class _Loop:
    """The iterable that ``P(...)``, ``P.seq`` and ``P.sel`` return.

    Iterating it opens a scope, yields the loop variable(s) ONCE (the body is traced once), and
    on exhaustion (or break / exception) closes the scope and records a ``LoopNode``.
    """

    def __init__(self, kind: str, axes: list[Any], loc: SourceLoc | None, frame: FrameType | None):
        self.kind = kind
        self.axes = axes
        self.loc = loc
        for ax in axes:
            _name_unnamed_axis(ax, frame)

    def __iter__(self) -> Iterator[Any]:
        names = _target_names(sys._getframe(1), "FOR_ITER")
        return self._iterate(names)

    def _iterate(self, names: list[str] | None) -> Iterator[Any]:
        parent = _enclosing_scope(f"a {_LOOP_TEXT[self.kind]} loop", self.loc)
        if names is None or len(names) != len(self.axes):
            names = [self._default_name(k) for k in range(len(self.axes))]
        loop_vars = [LoopVar(n, ax) for n, ax in zip(names, self.axes, strict=True)]
        node = LoopNode(self.kind, loop_vars, list(self.axes), [], self.loc)
        for v in loop_vars:
            v.loop = node
        return self._trace(parent, node)

    def _trace(self, parent: Any, node: LoopNode) -> Iterator[Any]:
        scope = Scope("loop", parent)
        _builder.push(scope)
        try:
            yield node.vars[0] if len(node.vars) == 1 else tuple(node.vars)
        finally:
            _close_scope(scope)
            node.body = scope.nodes
            parent.append(node)

    def _default_name(self, k: int) -> str:
        ax = self.axes[k]
        name = getattr(getattr(ax, "axis", ax), "name", None) if self.kind == "sel" else None
        name = name or getattr(ax, "name", None)
        return str(name) if name else "ijklmn"[k % 6] + ("" if k < 6 else str(k // 6))


_LOOP_TEXT = {"parallel": "P(...)", "seq": "P.seq(...)", "sel": "P.sel(...)"}


class _When:
    """``with P.when(pred)`` / ``with P.otherwise()``: one branch of an if/elif/else chain."""

    def __init__(self, pred: ScalarExpr | None, loc: SourceLoc | None):
        self.pred = pred
        self.loc = loc
        self._scope: Scope | None = None
        self._parent: Any = None
        self._chain: CondNode | None = None

    def __enter__(self) -> None:
        what = "P.when(...)" if self.pred is not None else "P.otherwise()"
        parent = _enclosing_scope(what, self.loc)
        nodes = getattr(parent, "nodes", None)
        last = nodes[-1] if nodes else None
        open_chain = last if isinstance(last, CondNode) and last.is_open else None
        if self.pred is None and open_chain is None:
            raise TypeCheckError(
                "P.otherwise() must directly follow a P.when(...) block in the same scope",
                loc=self.loc,
            )
        self._parent = parent
        self._chain = open_chain
        self._scope = Scope("branch", parent)
        _builder.push(self._scope)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        scope = self._scope
        assert scope is not None
        _close_scope(scope)
        if exc_type is not None:
            return False
        if self._chain is not None:
            self._chain.branches.append((self.pred, scope.nodes))
        else:
            self._parent.append(CondNode([(self.pred, scope.nodes)], self.loc))
        return False


class _Pipe:
    """``with P.pipe(depth=None)``: each top-level statement inside becomes one process."""

    def __init__(self, stages: Any, depth: int | None, loc: SourceLoc | None):
        if depth is not None and (
            isinstance(depth, bool) or not isinstance(depth, int | np.integer) or depth < 0
        ):
            raise TypeCheckError(
                f"P.pipe(depth=...) takes a channel depth >= 0, got {depth!r}", loc=loc
            )
        self.depth = None if depth is None else int(depth)
        self.loc = loc
        self.node = PipeNode([], self.depth, loc)
        self._scope: Scope | None = None
        self._parent: Any = None
        self._recorded = False
        if stages is not None:
            parent = _enclosing_scope("P.pipe(stages)", loc)
            for k, stage in enumerate(_as_stage_list(stages, loc)):
                self.node.processes.append(_trace_stage(stage, f"stage{k}", parent, loc))
            self._finish(parent)

    def __enter__(self) -> PipeNode:
        self._parent = _enclosing_scope("P.pipe()", self.loc)
        self._scope = Scope("pipe", self._parent)
        _builder.push(self._scope)
        return self.node

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        scope = self._scope
        assert scope is not None
        _close_scope(scope)
        if exc_type is not None:
            return False
        for stmt in scope.nodes:
            k = len(self.node.processes)
            self.node.processes.append(_as_process(stmt, f"stage{k}"))
        self._finish(self._parent)
        return False

    def _finish(self, parent: Any) -> None:
        if self.depth is not None:
            for proc in self.node.processes:
                for ch in [*proc.consumes, *proc.produces]:
                    _apply_pipe_depth(ch, self.depth, self.loc)
        if not self._recorded:
            parent.append(self.node)
            self._recorded = True


def _apply_pipe_depth(ch: Any, depth: int, loc: SourceLoc | None) -> None:
    apply = getattr(ch, "_apply_default_depth", None)
    if apply is not None:
        apply(depth, loc)


def _as_stage_list(stages: Any, loc: SourceLoc | None) -> list[Any]:
    if callable(stages) or isinstance(stages, Workload):
        return [stages]
    try:
        return list(stages)
    except TypeError:
        raise TypeCheckError(
            f"P.pipe(stages) takes a list of stage functions or workloads, got "
            f"{type(stages).__name__}",
            loc=loc,
        ) from None


def _trace_stage(stage: Any, name: str, parent: Any, loc: SourceLoc | None) -> ProcessNode:
    """Trace one pipeline stage (a no-argument function or a Workload) as a process body."""
    body = trace_body(stage, f"pipeline stage {name}", parent, loc)
    consumes, produces = _channel_use(body)
    return ProcessNode(name, consumes, produces, body, 1, loc)


def trace_body(fn: Any, what: str, parent: Any, loc: SourceLoc | None) -> list[Any]:
    """Run ``fn()`` in a fresh process-body scope and return the recorded statements.

    ``fn`` may be a no-argument function, a ``@workload`` function without parameters, or an
    already traced ``Workload`` (its statements are used).
    """
    if isinstance(fn, Workload):
        _reject_scheduled(fn, what, loc)
        return fn.statements()
    if not callable(fn):
        raise TypeCheckError(
            f"{what}: expected a function or a Workload, got {type(fn).__name__}", loc=loc
        )
    scope = Scope("process", parent, in_process=True)
    depth0 = _builder.depth()
    _builder.push(scope)
    try:
        result = fn()
    finally:
        while _builder.depth() > depth0:
            _builder.pop(_builder.current())
    if isinstance(result, Workload) and not _was_recorded(result, scope):
        _reject_scheduled(result, what, loc)
        scope.nodes.extend(result.statements())
    return scope.nodes


def _as_process(stmt: Any, name: str) -> ProcessNode:
    if isinstance(stmt, ProcessNode):
        return stmt
    consumes, produces = _channel_use([stmt])
    return ProcessNode(name, consumes, produces, [stmt], 1, getattr(stmt, "loc", None))


def place_process(parent: Any, proc: ProcessNode) -> None:
    """Put a process formed outside any pipeline (workload-level ``consume``) into one.

    It joins the ``PipeNode`` right before it; otherwise a new ``PipeNode`` is started that also
    takes in the directly preceding statements that send on channels (they become processes).
    """
    nodes: list[Any] = parent.nodes
    if nodes and isinstance(nodes[-1], PipeNode):
        pipe = nodes[-1]
        proc.name = _unique_process_name(pipe, proc.name)
        pipe.processes.append(proc)
        return
    producers: list[Any] = []
    while (
        nodes and not isinstance(nodes[-1], PipeNode | ConnectNode) and _channel_use([nodes[-1]])[1]
    ):
        producers.insert(0, nodes.pop())
    pipe = PipeNode([], None, proc.loc)
    for stmt in producers:
        pipe.processes.append(_as_process(stmt, f"stage{len(pipe.processes)}"))
    proc.name = _unique_process_name(pipe, proc.name)
    pipe.processes.append(proc)
    parent.append(pipe)


def _unique_process_name(pipe: PipeNode, name: str) -> str:
    taken = {p.name for p in pipe.processes}
    if name not in taken:
        return name
    k = 1
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


class _PNamespace:
    """``P``: loop constructors with explicit parallelism (spec §3.0.1).

    ``P(a, b)`` = ``P.grid(a, b)`` (Independent), ``P.seq(a)`` (Sequential), ``P.sel(routing[b])``
    (Selected), ``P.when(pred)`` / ``P.otherwise()`` (Conditional), ``P.pipe()`` (Pipeline).
    """

    def __call__(self, *axes: Any) -> _Loop:
        return self._grid(axes, "P(...)")

    def grid(self, *axes: Any) -> _Loop:
        return self._grid(axes, "P.grid(...)")

    def _grid(self, axes: tuple[Any, ...], what: str) -> _Loop:
        loc = user_location()
        if not axes:
            raise TypeCheckError(f"{what} needs at least one axis", loc=loc)
        checked = [_check_axis(a, what, loc) for a in axes]
        return _Loop("parallel", checked, loc, _user_frame())

    def seq(self, axis: Any, *more: Any) -> _Loop:
        loc = user_location()
        if more:
            raise TypeCheckError(
                f"P.seq(...) iterates exactly one axis, got {1 + len(more)}; nest P.seq loops",
                loc=loc,
            )
        return _Loop("seq", [_check_axis(axis, "P.seq(...)", loc)], loc, _user_frame())

    def sel(self, sparse: Any) -> _Loop:
        from . import axes as _axes

        loc = user_location()
        if not isinstance(sparse, _axes.Sparse | _axes.SparseRow):
            raise TypeCheckError(
                "P.sel(...) iterates the selected entries of a Sparse axis row, e.g. "
                f"P.sel(routing[b]); got {type(sparse).__name__}",
                loc=loc,
            )
        return _Loop("sel", [sparse], loc, _user_frame())

    def when(self, pred: Any) -> _When:
        loc = user_location()
        if pred is None:
            raise TypeCheckError(
                "P.when(pred) needs a predicate (use P.otherwise() for the else branch)", loc=loc
            )
        return _When(as_expr(pred), loc)

    def otherwise(self) -> _When:
        return _When(None, user_location())

    def pipe(self, stages: Any = None, depth: int | None = None) -> _Pipe:
        return _Pipe(stages, depth, user_location())

    def __repr__(self) -> str:
        return "P"


def _user_frame() -> FrameType | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


P = _PNamespace()


# ======================================================================================
# Workload
# ======================================================================================


_DEP_OF_LOOP = {"parallel": "Independent", "seq": "Sequential", "sel": "Selected"}


def _dep_type(node: Any) -> str:
    if isinstance(node, LoopNode):
        return _DEP_OF_LOOP[node.kind]
    if isinstance(node, CondNode):
        return "Conditional"
    if isinstance(node, PipeNode | ConnectNode | ProcessNode | ConsumeNode):
        return "Pipeline"
    if isinstance(node, CombineNode):
        return "Combined"
    if isinstance(node, SequentialNode):
        return "Sequential"
    return "Independent"


def _axis_type_name(ax: Any) -> str:
    type_str = getattr(ax, "type_str", None)
    if isinstance(type_str, str):
        return type_str
    kind = getattr(ax, "kind", None)
    if kind == "dense":
        return f"Dense[{ax.size}]"
    return {"dense_dyn": "DenseDyn", "ragged": "Ragged", "sparse": "Sparse"}.get(
        str(kind), type(ax).__name__
    )


@dataclass(eq=False)
class Workload:
    """A traced workload plus its schedule (spec §3, §4).

    ``root`` is the statement list of the body, or a single ``CombineNode``/``SequentialNode``.
    ``params`` are the arguments it was called with and ``fn`` the decorated function (lowering
    finds tensor names in its globals/closure). Schedule combinators return NEW workloads that
    share the (never mutated) tree and carry an updated immutable ``ScheduleSpec``.
    """

    name: str
    root: Any
    params: dict[str, Any] = field(default_factory=dict)
    fn: Callable[..., Any] | None = None
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    loc: SourceLoc | None = None
    _program: Any = field(default=None, init=False, repr=False)
    _inlined: Any = field(default=None, init=False, repr=False)

    # ---- structure ------------------------------------------------------------------
    def statements(self) -> list[Any]:
        """The top-level statements (a composition root is one statement)."""
        return list(self.root) if isinstance(self.root, list) else [self.root]

    def walk(self) -> Iterator[Any]:
        """Every node of the tree, parents first."""
        return walk(self.statements())

    @property
    def dep_type(self) -> str:
        """ "Independent", "Sequential", "Selected", "Pipeline", "Conditional" or "Combined"."""
        kinds = [_dep_type(s) for s in self.statements() if not isinstance(s, _PLAIN_STATEMENTS)]
        distinct = list(dict.fromkeys(kinds))
        if not distinct:
            return "Independent"
        return distinct[0] if len(distinct) == 1 else "Combined"

    def kernels(self) -> list[Any]:
        """The kernels the workload calls, each once, in first-call order."""
        seen: list[Any] = []
        for node in self.walk():
            if _is_kernel_call(node) and not any(k is node.kernel for k in seen):
                seen.append(node.kernel)
        return seen

    def outer_axes(self) -> list[Any]:
        """Axes of the outermost perfect loop nest (what ``type_str`` shows)."""
        axes: list[Any] = []
        stmts = self.statements()
        while len(stmts) == 1 and isinstance(stmts[0], LoopNode):
            loop = stmts[0]
            axes.extend(loop.axes)
            stmts = loop.body
        return axes

    @property
    def type_str(self) -> str:
        """Spec §3.0 type, e.g. ``Workload[DenseDyn × Dense[8], attn, Independent]``."""
        axes = " × ".join(_axis_type_name(a) for a in self.outer_axes()) or "()"
        names = [getattr(k, "name", "?") for k in self.kernels()]
        kernels = " | ".join(str(n) for n in names) or "-"
        return f"Workload[{axes}, {kernels}, {self.dep_type}]"

    def __repr__(self) -> str:
        return f"<{self.type_str} {self.name}>"

    # ---- schedule-key names (DESIGN §2) ---------------------------------------------
    def _key_bindings(self) -> list[tuple[int, str, LoopVar]]:
        """(priority, name, var): 1 loop var name, 2 axis name, 3 its singular, 4 P.sel kernel."""
        table: list[tuple[int, str, LoopVar]] = []
        for node in self.walk():
            if isinstance(node, LoopNode):
                for var, ax in zip(node.vars, node.axes, strict=True):
                    table.append((1, str(var.name), var))
                    target = getattr(ax, "axis", ax) if node.kind == "sel" else ax
                    ax_name = getattr(target, "name", None)
                    if ax_name:
                        table.append((2, str(ax_name), var))
                        singular = _singular(str(ax_name))
                        if singular:
                            table.append((3, singular, var))
                if node.kind == "sel":
                    for inner in walk(node.body):
                        if _is_kernel_call(inner):
                            table.append((4, str(inner.kernel.name), node.vars[0]))
            elif isinstance(node, ConsumeNode):
                table.append((1, str(node.var.name), node.var))
        return table

    def key_names(self) -> list[str]:
        """Every name ``t.get(name)`` accepts for this workload."""
        return sorted({name for _, name, _ in self._key_bindings()})

    def resolve_axis_name(self, name: str) -> LoopVar:
        """The loop variable a schedule key's ``t.get(name)`` refers to (DESIGN §2 order).

        In order: a loop variable's name; the name of the axis it iterates, or that name's
        singular; for a ``P.sel`` loop, the name of the kernel its body calls. The first
        (outermost) match of the first rule that matches wins.
        """
        table = self._key_bindings()
        for prio in (1, 2, 3, 4):
            for p, n, var in table:
                if p == prio and n == name:
                    return var
        valid = ", ".join(repr(n) for n in self.key_names()) or "none (the workload has no loops)"
        raise ScheduleError(
            f"workload {self.name!r} has no loop variable or axis named {name!r}; "
            f"valid names: {valid}",
            loc=user_location(),
        )

    # ---- schedule combinators (spec §4) ---------------------------------------------
    def _scheduled(self, spec: ScheduleSpec) -> Workload:
        return replace(self, schedule=spec)

    def dispatch(self, policy: DispatchPolicy) -> Workload:
        return self._scheduled(apply_dispatch(self.schedule, policy, self, user_location()))

    def streams(self, n: int) -> Workload:
        return self._scheduled(apply_streams(self.schedule, n, user_location()))

    def stream_by(self, key_fn: Any) -> Workload:
        return self._scheduled(apply_stream_by(self.schedule, key_fn, self, user_location()))

    def timing(self, policy: TimingPolicy) -> Workload:
        return self._scheduled(apply_timing(self.schedule, policy, user_location()))

    def task_graph(
        self,
        window: TaskWindow | int | None = None,
        deps: Any = None,
        ready: Any = None,
        start: Any = None,
        trace: Any = None,
        pools: Any = None,
    ) -> Workload:
        spec = apply_task_graph(
            self.schedule, self, user_location(),
            window=window, deps=deps, ready=ready, start=start, trace=trace, pools=pools,
        )  # fmt: skip
        return self._scheduled(spec)

    def spatial_map(self, grid: Any) -> Workload:
        return self._scheduled(apply_spatial_map(self.schedule, grid, user_location()))

    def layout(self, tensor: Any, *layout: Any) -> Workload:
        """Deprecated (spec §5.4): layouts are tensor type refinements now.

        A layout equal to the tensor's own is accepted (nothing changes); any other request
        cannot be expressed as a schedule and raises ``ScheduleError`` pointing at the
        replacements: ``Tensor(..., layout=TensorLayout(...))`` or ``relayout(x, to=...)``
        inside the workload.
        """
        warnings.warn(
            "Workload.layout(...) is deprecated; give tensors a TensorLayout or call "
            "relayout(x, to=...) inside the workload",
            DeprecationWarning,
            stacklevel=2,
        )
        loc = user_location()
        from . import layout as _layout

        if len(layout) == 1 and isinstance(layout[0], _layout.TensorLayout):
            wanted = layout[0]
        elif layout and all(
            isinstance(d, _layout.TensorShard | _layout.TensorReplicate) for d in layout
        ):
            wanted = _layout.TensorLayout(tuple(layout))
        else:
            raise ScheduleError(
                "Workload.layout(tensor, ...) takes a TensorLayout or one TensorShard/"
                "TensorReplicate per dimension",
                loc=loc,
            )
        current = getattr(tensor, "layout", None)
        if current is not None and current == wanted:
            return self
        raise ScheduleError(
            f"Workload.layout cannot change the layout of {getattr(tensor, 'name', None) or 'the tensor'} "
            f"to {wanted!r} as a schedule: declare it on the tensor (Tensor(..., layout=...)) or "
            "call relayout(x, to=...) inside the workload",
            loc=loc,
        )

    # ---- compilation and execution (spec §5) ----------------------------------------
    def compile(self, target: str = "cpu_sim") -> Any:
        """Lower and compile for ``target``; returns a ``Program``."""
        return toolchain().compile_workload(self, target)

    def start(self, target: str = "cpu_sim") -> Any:
        """Compile (once) and start executing; ``join()`` waits (spec §3.7 ``connect``)."""
        if self._program is None:
            self._program = self.compile(target)
        self._program.execute()
        return self._program

    def join(self) -> Any:
        """Wait for the run ``start()`` began; errors of the run surface here."""
        if self._program is None:
            from ..errors import ExecutionError

            raise ExecutionError(
                f"workload {self.name!r}: join() without start()", loc=user_location()
            )
        self._program.synchronize()
        return self._program


def _reject_scheduled(w: Workload, what: str, loc: SourceLoc | None) -> None:
    if not w.schedule.is_empty():
        raise ScheduleError(
            f"{what}: workload {w.name!r} carries a schedule ({w.schedule.describe()}); a "
            "schedule applies to the whole program, so schedule the composed workload instead",
            loc=loc,
        )


def _was_recorded(w: Workload, scope: Any) -> bool:
    return w._inlined is not None and w._inlined[0] is scope


# ======================================================================================
# @workload
# ======================================================================================


class WorkloadFunction:
    """What ``@workload`` returns: calling it traces the body and returns a ``Workload``."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.name = name or fn.__name__
        self.signature = inspect.signature(fn)
        code = getattr(fn, "__code__", None)
        self.loc = SourceLoc(code.co_filename, code.co_firstlineno) if code is not None else None

    @property
    def takes_no_args(self) -> bool:
        try:
            self.signature.bind()
        except TypeError:
            return False
        return True

    def __call__(self, *args: Any, **kwargs: Any) -> Workload:
        loc = user_location()
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeCheckError(f"workload {self.name}{self.signature}: {e}", loc=loc) from None
        bound.apply_defaults()
        _name_param_axes(bound.arguments)

        parent = _builder.current()
        scope = Scope("root", parent)
        depth0 = _builder.depth()
        _builder.push(scope)
        try:
            result = self.fn(*bound.args, **bound.kwargs)
        finally:
            while _builder.depth() > depth0:
                _builder.pop(_builder.current())

        if result is not None:
            if not isinstance(result, Workload):
                raise TypeCheckError(
                    f"workload {self.name} returned a {type(result).__name__}; a @workload "
                    "body records statements and returns nothing (or a Workload)",
                    loc=loc,
                )
            if not _was_recorded(result, scope):
                if scope.nodes:
                    raise TypeCheckError(
                        f"workload {self.name} both records statements and returns the "
                        f"workload {result.name!r}; call it inside the body or combine them",
                        loc=loc,
                    )
                _reject_scheduled(result, f"workload {self.name}", loc)
                scope.nodes.extend(result.statements())

        w = Workload(self.name, scope.nodes, dict(bound.arguments), self.fn, ScheduleSpec(), loc)
        if parent is not None:
            for node in scope.nodes:
                parent.append(node)
            w._inlined = (parent, list(scope.nodes))
        return w

    def __repr__(self) -> str:
        return f"<@workload {self.name}{self.signature}>"


def _name_param_axes(arguments: dict[str, Any]) -> None:
    """An axis passed as a parameter without a name takes the parameter's name (DESIGN §2)."""
    from . import axes as _axes

    for pname, value in arguments.items():
        if _axes.is_axis(value) and not getattr(value, "name", None):
            try:
                value.name = pname
            except AttributeError:
                pass


def workload(fn: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Decorator: ``@workload`` or ``@workload(name="...")`` (spec §3.0)."""
    if fn is None:
        return lambda f: WorkloadFunction(f, name)
    if not callable(fn):
        raise TypeCheckError(
            f"@workload decorates a function, got {type(fn).__name__}", loc=user_location()
        )
    return WorkloadFunction(fn, name)


# ======================================================================================
# Composition (spec §3.6)
# ======================================================================================


def _as_workload(x: Any, what: str, loc: SourceLoc | None) -> Workload:
    if isinstance(x, Workload):
        return x
    if isinstance(x, WorkloadFunction):
        if not x.takes_no_args:
            raise TypeCheckError(
                f"{what}: workload {x.name}{x.signature} needs arguments; call it first, e.g. "
                f"{x.name}(...)",
                loc=loc,
            )
        return x()
    raise TypeCheckError(f"{what}: expected workloads, got {type(x).__name__}", loc=loc)


def _compose(kind: str, items: tuple[Any, ...], name: str | None) -> Workload:
    loc = user_location()
    what = f"{kind}(...)"
    if len(items) == 1 and isinstance(items[0], list | tuple):
        items = tuple(items[0])
    if not items:
        raise TypeCheckError(f"{what} needs at least one workload", loc=loc)
    children = [_as_workload(x, what, loc) for x in items]
    for c in children:
        _reject_scheduled(c, what, loc)
    node: CombineNode | SequentialNode = (
        CombineNode(children, loc) if kind == "combine" else SequentialNode(children, loc)
    )
    parent = _builder.current()
    w = Workload(name or kind, node, {}, None, ScheduleSpec(), loc)
    if parent is not None:
        # Children traced in this scope were inlined by their call; they now live in the node.
        for c in children:
            if c._inlined is not None and c._inlined[0] is parent:
                for stmt in c._inlined[1]:
                    parent.remove(stmt)
                c._inlined = None
        parent.append(node)
        w._inlined = (parent, [node])
    return w


def combine(*workloads: Any, name: str | None = None) -> Workload:
    """Unordered composition (spec §3.6): the schedule decides the order. Type ``Combined``."""
    return _compose("combine", workloads, name)


def sequential(*workloads: Any, name: str | None = None) -> Workload:
    """Ordered composition (spec §3.6): each workload starts after the previous one ends."""
    return _compose("sequential", workloads, name)


# ======================================================================================
# Legacy helpers (spec §5.4)
# ======================================================================================


def task(kernel: Any, params: Any = (), bindings: Any = None) -> Any:
    """Legacy leaf: ``task(kernel, [b, h], [Q[b, h], ...])`` = ``kernel[b, h](Q[b, h], ...)``.

    ``kernel`` is a KernelRef; a string name is deprecated and looked up among the @kernel
    objects visible from the caller. ``bindings`` is a list (positional arguments) or a dict.
    """
    from .kernel import KernelRef

    loc = user_location()
    if isinstance(kernel, str):
        warnings.warn(
            f'task("{kernel}", ...) with a kernel name is deprecated; call the @kernel directly: '
            f"{kernel}[axes](...)",
            DeprecationWarning,
            stacklevel=2,
        )
        kernel = _find_kernel(kernel, KernelRef, loc)
    if not isinstance(kernel, KernelRef):
        raise TypeCheckError(
            f"task(kernel, ...) takes a @kernel, got {type(kernel).__name__}", loc=loc
        )
    _enclosing_scope(f"task({kernel.name}, ...)", loc)
    axes = tuple(params) if isinstance(params, list | tuple) else (params,)
    target = kernel[axes] if axes else kernel
    if bindings is None:
        return target()
    if isinstance(bindings, dict):
        return target(**bindings)
    if isinstance(bindings, list | tuple):
        return target(*bindings)
    raise TypeCheckError(
        f"task({kernel.name}, ...): bindings must be a list or a dict, got "
        f"{type(bindings).__name__}",
        loc=loc,
    )


def _find_kernel(name: str, kernel_type: type, loc: SourceLoc | None) -> Any:
    frame = _user_frame()
    while frame is not None:
        for mapping in (frame.f_locals, frame.f_globals):
            for value in mapping.values():
                if isinstance(value, kernel_type) and getattr(value, "name", None) == name:
                    return value
        frame = frame.f_back
    raise TypeCheckError(f"task({name!r}, ...): no @kernel named {name!r} is visible here", loc=loc)


def for_each(axis: Any, body_fn: Callable[[Any], Any]) -> LoopNode:
    """Legacy sequential loop: ``for_each(axis, lambda i: ...)`` = ``for i in P.seq(axis)``."""
    return _legacy_loop("seq", axis, body_fn, "for_each")


def parallel_for(axis: Any, body_fn: Callable[[Any], Any]) -> LoopNode:
    """Legacy parallel loop: ``parallel_for(axis, lambda i: ...)`` = ``for i in P(axis)``."""
    return _legacy_loop("parallel", axis, body_fn, "parallel_for")


def _legacy_loop(kind: str, axis: Any, body_fn: Any, what: str) -> LoopNode:
    loc = user_location()
    if not callable(body_fn):
        raise TypeCheckError(
            f"{what}(axis, body_fn): body_fn must be callable, got {type(body_fn).__name__}",
            loc=loc,
        )
    loop = _Loop(kind, [_check_axis(axis, f"{what}(...)", loc)], loc, _user_frame())
    parent = _enclosing_scope(f"{what}(...)", loc)
    for var in loop._iterate(None):
        body_fn(var)
    node = parent.nodes[-1]
    assert isinstance(node, LoopNode)
    return node
