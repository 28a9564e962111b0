"""``P``: the loop and block constructors of a workload body (spec §3.0.1).

``P(a, b)`` = ``P.grid(a, b)`` (Independent), ``P.seq(a)`` (Sequential), ``P.sel(routing[b])``
(Selected), ``P.when(pred)`` / ``P.otherwise()`` (Conditional), ``P.pipe()`` (Pipeline). Each
opens a scope, lets the body record into it once, and records its node into the enclosing one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any, Literal

import numpy as np

from ...errors import SourceLoc, TypeCheckError, user_location
from .. import _builder
from .. import axes as _axes
from ..scalar_expr import LoopVar, ScalarExpr, as_expr
from .builder import take_statements
from .nodes import (
    CondNode,
    ConnectNode,
    LoopNode,
    PipeNode,
    ProcessNode,
    channel_use,
    is_statement,
)
from .recording import (
    REFERENCE_GRID_NAMES,
    REFERENCE_SEL_NAME,
    REFERENCE_SEQ_NAME,
    Scope,
    close_scope,
    enclosing_scope,
    name_unnamed_axis,
    target_names,
    user_frame,
)
from .traced import Workload, reject_scheduled, was_recorded


def check_axis(x: Any, what: str, loc: SourceLoc | None) -> Any:
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


class Loop:
    """The iterable that ``P(...)``, ``P.seq`` and ``P.sel`` return.

    Iterating it opens a scope, yields the loop variable(s) ONCE (the body is traced once), and
    on exhaustion (or break / exception) closes the scope and records a ``LoopNode``.
    """

    def __init__(
        self,
        kind: str,
        axes: list[Any],
        loc: SourceLoc | None,
        frame: FrameType | None,
        names: list[str] | None = None,
    ):
        self.kind = kind
        self.axes = axes
        self.loc = loc
        self.names = names  # given with name= / names=: they win over the for-target's names
        for ax in axes:
            name_unnamed_axis(ax, frame)

    def __iter__(self) -> Iterator[Any]:
        names = target_names(sys._getframe(1), "FOR_ITER")
        return self.iterate(names)

    def iterate(self, names: list[str] | None) -> Iterator[Any]:
        parent = enclosing_scope(f"a {_LOOP_TEXT[self.kind]} loop", self.loc)
        if self.names is not None:
            names = self.names
        if names is None or len(names) != len(self.axes):
            names = [self._default_name(k) for k in range(len(self.axes))]
        loop_vars = [
            LoopVar(n, ax, k) for k, (n, ax) in enumerate(zip(names, self.axes, strict=True))
        ]
        node = LoopNode(self.kind, loop_vars, list(self.axes), [], self.loc)
        for v in loop_vars:
            v.loop = node
            v.reference_name = self._reference_name(parent)
        return self._trace(parent, node)

    def _reference_name(self, parent: Any) -> str:
        """The name the reference implementation gives this loop's next variable."""
        if self.kind == "seq":
            return REFERENCE_SEQ_NAME
        if self.kind == "sel":
            return REFERENCE_SEL_NAME
        names = getattr(parent, "grid_names", None)
        return next(names) if names is not None else REFERENCE_GRID_NAMES[0]

    def _trace(self, parent: Any, node: LoopNode) -> Iterator[Any]:
        scope = Scope("loop", parent)
        _builder.push(scope)
        try:
            yield node.vars[0] if len(node.vars) == 1 else tuple(node.vars)
        finally:
            close_scope(scope)
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
        parent = enclosing_scope(what, self.loc)
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

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        scope = self._scope
        assert scope is not None
        close_scope(scope)
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
            parent = enclosing_scope("P.pipe(stages)", loc)
            for k, stage in enumerate(_as_stage_list(stages, loc)):
                self.node.processes.append(_trace_stage(stage, f"stage{k}", parent, loc))
            self._finish(parent)

    def __enter__(self) -> PipeNode:
        self._parent = enclosing_scope("P.pipe()", self.loc)
        self._scope = Scope("pipe", self._parent)
        _builder.push(self._scope)
        return self.node

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Literal[False]:
        scope = self._scope
        assert scope is not None
        close_scope(scope)
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
    consumes, produces = channel_use(body)
    return ProcessNode(name, consumes, produces, body, 1, loc)


def trace_body(fn: Any, what: str, parent: Any, loc: SourceLoc | None) -> list[Any]:
    """Run ``fn()`` in a fresh process-body scope and return the recorded statements.

    ``fn`` may be a no-argument function, a ``@workload`` function without parameters, an
    already traced ``Workload`` (its statements are used) or a statement a builder-style form
    returned (``workload.builder``).
    """
    if isinstance(fn, Workload):
        reject_scheduled(fn, what, loc)
        return fn.statements()
    if is_statement(fn):
        return take_statements(fn, parent, what, loc)
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
        _builder.unwind(depth0)
    if isinstance(result, Workload) and not was_recorded(result, scope):
        reject_scheduled(result, what, loc)
        scope.nodes.extend(result.statements())
    return scope.nodes


def _as_process(stmt: Any, name: str) -> ProcessNode:
    if isinstance(stmt, ProcessNode):
        return stmt
    consumes, produces = channel_use([stmt])
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
        nodes and not isinstance(nodes[-1], PipeNode | ConnectNode) and channel_use([nodes[-1]])[1]
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


def _var_names(names: Any, count: int, what: str, loc: SourceLoc | None) -> list[str] | None:
    """The loop-variable names given with ``name=`` / ``names=``, checked: one non-empty str per
    axis (a single str for a one-axis grid)."""
    if names is None:
        return None
    if isinstance(names, str):
        names = [names]
    try:
        given = list(names)
    except TypeError:
        raise TypeCheckError(
            f"{what} takes a list of names, got {type(names).__name__}", loc=loc
        ) from None
    if len(given) != count or not all(isinstance(n, str) and n for n in given):
        raise TypeCheckError(
            f"{what} takes {count} non-empty name string(s), one per axis, got {names!r}",
            loc=loc,
        )
    return given


class _PNamespace:
    """``P``: loop constructors with explicit parallelism (spec §3.0.1).

    ``P(a, b)`` = ``P.grid(a, b)`` (Independent), ``P.seq(a)`` (Sequential), ``P.sel(routing[b])``
    (Selected), ``P.when(pred)`` / ``P.otherwise()`` (Conditional), ``P.pipe()`` (Pipeline).
    """

    def __call__(self, *axes: Any, names: Any = None) -> Loop:
        return self._grid(axes, "P(...)", names)

    def grid(self, *axes: Any, names: Any = None) -> Loop:
        """``P.grid(a, b, names=["b", "h"])``: ``names`` (the reference's keyword) names the loop
        variables, as ``t.get`` and the IR show them."""
        return self._grid(axes, "P.grid(...)", names)

    def _grid(self, axes: tuple[Any, ...], what: str, names: Any) -> Loop:
        loc = user_location()
        if not axes:
            raise TypeCheckError(f"{what} needs at least one axis", loc=loc)
        checked = [check_axis(a, what, loc) for a in axes]
        given = _var_names(names, len(checked), f"{what} names=", loc)
        return Loop("parallel", checked, loc, user_frame(), given)

    def seq(self, axis: Any, *more: Any, name: str | None = None) -> Loop:
        """``P.seq(axis, name="i")``: ``name`` names the loop variable."""
        loc = user_location()
        if more:
            raise TypeCheckError(
                f"P.seq(...) iterates exactly one axis, got {1 + len(more)}; nest P.seq loops",
                loc=loc,
            )
        given = _var_names(None if name is None else [name], 1, "P.seq(...) name=", loc)
        return Loop("seq", [check_axis(axis, "P.seq(...)", loc)], loc, user_frame(), given)

    def sel(self, sparse: Any, name: str | None = None) -> Loop:
        """``P.sel(routing[b], name="e")``: ``name`` names the loop variable."""
        loc = user_location()
        given = _var_names(None if name is None else [name], 1, "P.sel(...) name=", loc)
        if not isinstance(sparse, _axes.Sparse | _axes.SparseRow):
            raise TypeCheckError(
                "P.sel(...) iterates the selected entries of a Sparse axis row, e.g. "
                f"P.sel(routing[b]); got {type(sparse).__name__}",
                loc=loc,
            )
        return Loop("sel", [sparse], loc, user_frame(), given)

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


P = _PNamespace()
