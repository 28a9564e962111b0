"""``@workload``: the decorator and the function it returns, which traces its body per call.

A ``@workload`` called while another one is traced is inlined: its statements are appended to
the caller's scope (and remembered, so ``combine``/``sequential`` can take them back).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ...errors import SourceLoc, TypeCheckError, user_location
from .. import _builder
from .. import axes as _axes
from ..schedule import ScheduleSpec
from .recording import Scope
from .traced import Workload, reject_scheduled, was_recorded


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
            _builder.unwind(depth0)

        if result is not None:
            if not isinstance(result, Workload):
                raise TypeCheckError(
                    f"workload {self.name} returned a {type(result).__name__}; a @workload "
                    "body records statements and returns nothing (or a Workload)",
                    loc=loc,
                )
            if not was_recorded(result, scope):
                if scope.nodes:
                    raise TypeCheckError(
                        f"workload {self.name} both records statements and returns the "
                        f"workload {result.name!r}; call it inside the body or combine them",
                        loc=loc,
                    )
                reject_scheduled(result, f"workload {self.name}", loc)
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
