"""Legacy helpers (spec §5.4): ``task``, ``for_each``, ``parallel_for``, ``select``, ``cond``.

Inside a ``@workload`` body each records its statement and returns it. Called outside any
workload they are the reference implementation's builder style: they warn once and return a
``Workload`` of their own (``workload.builder``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ...errors import SourceLoc, TypeCheckError, user_location
from .. import _builder
from .. import axes as _axes
from ..kernel.ref import KernelRef
from ..legacy import _stacklevel
from ..scalar_expr import as_expr
from . import builder
from .loops import Loop, check_axis
from .nodes import CondNode, LoopNode
from .recording import Scope, close_scope, enclosing_scope, user_frame


def task(kernel: Any, params: Any = (), bindings: Any = None) -> Any:
    """Legacy leaf: ``task(kernel, [b, h], [Q[b, h], ...])`` = ``kernel[b, h](Q[b, h], ...)``.

    ``kernel`` is a KernelRef; a string name is deprecated and looked up among the @kernel
    objects visible from the caller. ``bindings`` is a list (positional arguments) or a dict
    (``{param: view}``). Outside a workload it returns a one-task ``Workload`` (builder style).
    """
    loc = user_location()
    if builder.outside_workload():
        name = kernel if isinstance(kernel, str) else getattr(kernel, "name", "task")
        return builder.build("task", lambda: _task(kernel, params, bindings, loc), str(name), loc)
    return _task(kernel, params, bindings, loc)


def _task(kernel: Any, params: Any, bindings: Any, loc: SourceLoc | None) -> Any:
    if isinstance(kernel, str):
        warnings.warn(
            f'task("{kernel}", ...) with a kernel name is deprecated; call the @kernel directly: '
            f"{kernel}[axes](...)",
            DeprecationWarning,
            stacklevel=_stacklevel(),
        )
        kernel = _find_kernel(kernel, KernelRef, loc)
    if not isinstance(kernel, KernelRef):
        raise TypeCheckError(
            f"task(kernel, ...) takes a @kernel, got {type(kernel).__name__}", loc=loc
        )
    enclosing_scope(f"task({kernel.name}, ...)", loc)
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
    frame = user_frame()
    while frame is not None:
        for mapping in (frame.f_locals, frame.f_globals):
            for value in mapping.values():
                if isinstance(value, kernel_type) and getattr(value, "name", None) == name:
                    return value
        frame = frame.f_back
    raise TypeCheckError(f"task({name!r}, ...): no @kernel named {name!r} is visible here", loc=loc)


def for_each(axis: Any, body_fn: Callable[[Any], Any]) -> Any:
    """Legacy sequential loop: ``for_each(axis, lambda i: ...)`` = ``for i in P.seq(axis)``."""
    return _legacy_loop("seq", axis, body_fn, "for_each")


def parallel_for(axis: Any, body_fn: Callable[[Any], Any]) -> Any:
    """Legacy parallel loop: ``parallel_for(axis, lambda i: ...)`` = ``for i in P(axis)``."""
    return _legacy_loop("parallel", axis, body_fn, "parallel_for")


def select(sparse: Any, body_fn: Callable[[Any], Any]) -> Any:
    """Legacy selection loop: ``select(routing[b], lambda e: ...)`` = ``for e in P.sel(...)``."""
    return _legacy_loop("sel", sparse, body_fn, "select")


def _legacy_loop(kind: str, axis: Any, body_fn: Any, what: str) -> Any:
    """The loop's ``LoopNode`` inside a workload; outside one a ``Workload`` holding it."""
    loc = user_location()
    if not callable(body_fn):
        raise TypeCheckError(
            f"{what}(axis, body_fn): body_fn must be callable, got {type(body_fn).__name__}",
            loc=loc,
        )
    if kind == "sel":
        if not isinstance(axis, _axes.Sparse | _axes.SparseRow):
            raise TypeCheckError(
                f"{what}(sparse, body_fn) iterates the selected entries of a Sparse axis row, "
                f"e.g. {what}(routing[b], ...); got {type(axis).__name__}",
                loc=loc,
            )
        axes = [axis]
    else:
        axes = [check_axis(axis, f"{what}(...)", loc)]
    loop = Loop(kind, axes, loc, user_frame())
    if builder.outside_workload():
        return builder.build(
            what, lambda: _record_loop(loop, body_fn, what, loc), what, loc, body_fn
        )
    return _record_loop(loop, body_fn, what, loc)


def _record_loop(loop: Loop, body_fn: Any, what: str, loc: SourceLoc | None) -> LoopNode:
    parent = enclosing_scope(f"{what}(...)", loc)
    for var in loop.iterate(None):
        builder.adopt(body_fn(var), _builder.current(), f"{what}(...)", loc)
    node = parent.nodes[-1]
    assert isinstance(node, LoopNode)
    return node


def cond(predicate: Any, then_branch: Any, else_branch: Any = None) -> Any:
    """Legacy conditional: ``cond(pred, then, else)`` = ``with P.when(pred): ... P.otherwise()``.

    Each branch is a task node or workload (built just before, in the same body: it moves into
    the branch), or a function of no arguments whose recorded statements form the branch. Inside
    a workload it records a ``CondNode``; outside one it returns a ``Workload`` holding it.
    """
    loc = user_location()
    if builder.outside_workload():
        return builder.build(
            "cond", lambda: _record_cond(predicate, then_branch, else_branch, loc), "cond", loc
        )
    return _record_cond(predicate, then_branch, else_branch, loc)


def _record_cond(predicate: Any, then_b: Any, else_b: Any, loc: SourceLoc | None) -> CondNode:
    parent = enclosing_scope("cond(...)", loc)
    if predicate is None:
        raise TypeCheckError("cond(pred, then, else) needs a predicate", loc=loc)
    pred = as_expr(predicate)
    branches: list[tuple[Any, list[Any]]] = [(pred, _branch(then_b, parent, "then", loc))]
    if else_b is not None:
        branches.append((None, _branch(else_b, parent, "else", loc)))
    node = CondNode(branches, loc)
    parent.append(node)
    return node


def _branch(b: Any, parent: Any, which: str, loc: SourceLoc | None) -> list[Any]:
    what = f"cond(...) {which} branch"
    if callable(b) and not isinstance(b, KernelRef):
        scope = Scope("branch", parent)
        _builder.push(scope)
        try:
            builder.adopt(b(), scope, what, loc)
        finally:
            close_scope(scope)
        return scope.nodes
    return builder.take_statements(b, parent, what, loc)
