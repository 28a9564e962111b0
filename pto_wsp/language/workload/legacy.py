"""Legacy helpers (spec §5.4): ``task``, ``for_each``, ``parallel_for``, kept for v9 scripts."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ...errors import SourceLoc, TypeCheckError, user_location
from ..kernel.ref import KernelRef
from .loops import Loop, check_axis
from .nodes import LoopNode
from .recording import enclosing_scope, user_frame


def task(kernel: Any, params: Any = (), bindings: Any = None) -> Any:
    """Legacy leaf: ``task(kernel, [b, h], [Q[b, h], ...])`` = ``kernel[b, h](Q[b, h], ...)``.

    ``kernel`` is a KernelRef; a string name is deprecated and looked up among the @kernel
    objects visible from the caller. ``bindings`` is a list (positional arguments) or a dict.
    """
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
    loop = Loop(kind, [check_axis(axis, f"{what}(...)", loc)], loc, user_frame())
    parent = enclosing_scope(f"{what}(...)", loc)
    for var in loop.iterate(None):
        body_fn(var)
    node = parent.nodes[-1]
    assert isinstance(node, LoopNode)
    return node
