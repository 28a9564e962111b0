"""Construction outside ``@workload``: the reference implementation's builder style (DESIGN §6).

Spec v9.3 removed it ("lambda syntax, string-based task()"), but scripts written for the
reference implementation build workloads this way, so it works here and warns once per form,
naming the spec form that replaces it:

* Called while no workload is being traced, a builder form (``for_each``, ``parallel_for``,
  ``select``, ``cond``, ``task``, ``send``, ``consume``, the slot statements) records into a fresh
  *builder scope* and returns a ``Workload`` holding what it recorded: it can be scheduled and
  compiled by itself, handed to ``process(n).body``, ``combine`` / ``sequential``, or returned by
  a body function.
* Inside a body function (the ``fn`` of ``for_each(axis, fn)``...) a form records its statement
  into the enclosing scope and returns the statement, exactly as inside a ``@workload``; the
  body's statements are what it records.
* What a body function returns and did not record there (a workload or statement built before)
  is appended to its body; ``adopt`` does that.

Inside a ``@workload`` body the same functions record as they always did, without a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ...errors import SourceLoc, TypeCheckError
from .. import _builder
from ..legacy import _stacklevel
from ..schedule import ScheduleSpec
from .nodes import is_statement, walk
from .recording import Scope
from .traced import Workload, reject_scheduled, was_recorded

SPEC_FORMS: dict[str, str] = {
    "for_each": "`for i in P.seq(axis):` inside a @workload function",
    "parallel_for": "`for i in P(axis):` inside a @workload function",
    "select": "`for e in P.sel(sparse):` inside a @workload function",
    "cond": "`with P.when(pred):` ... `with P.otherwise():` inside a @workload function",
    "task": "`kernel[axes](param=view, ...)` inside a @workload function",
    "send": "`send(ch, kernel[i](...))` inside a @workload function (P.pipe or a process body)",
    "consume": "`with consume(ch) as t:` inside a @workload function",
    "slot_set_u64": "`slot_set_u64(slot, value)` inside a @workload function",
    "slot_load_u64": "`slot_load_u64(slot, view, row, col)` inside a @workload function",
}
"""Each builder form and the spec form its warning names."""

_warned: set[str] = set()


def outside_workload() -> bool:
    """True when no workload is being traced: a builder form builds a workload of its own."""
    return _builder.current() is None


def warn_builder(form: str) -> None:
    """Warn, once per form and process, that ``form`` outside ``@workload`` is the builder style
    the spec removed, naming the spec form."""
    if form in _warned:
        return
    _warned.add(form)
    warnings.warn(
        f"{form}(...) outside a @workload is the builder style spec v9.3 removed; it still "
        f"works, but write {SPEC_FORMS[form]}",
        DeprecationWarning,
        stacklevel=_stacklevel(),
    )


def build(
    form: str,
    record: Callable[[], Any],
    name: str,
    loc: SourceLoc | None,
    fn: Callable[..., Any] | None = None,
) -> Workload:
    """Warn for ``form``, run ``record`` in a fresh builder scope and return a ``Workload`` of the
    statements it recorded. ``fn`` (the user's body function) lets lowering find the names the
    user gave tensors."""
    warn_builder(form)
    # A builder fragment is typically a process body (process(n).body(...)), so a consume block
    # in it is a plain statement, not a process of its own.
    scope = Scope("root", None, in_process=True, builder=True)
    depth0 = _builder.depth()
    _builder.push(scope)
    try:
        record()
    finally:
        _builder.unwind(depth0)
    return Workload(name, scope.nodes, {}, fn, ScheduleSpec(), loc)


def adopt(result: Any, scope: Any, what: str, loc: SourceLoc | None) -> None:
    """Append what a body function returned to ``scope`` unless the body recorded it there.

    A ``Workload`` built earlier contributes its statements; a statement built earlier is
    appended; ``None`` (or a statement already recorded) adds nothing. Anything else is an error:
    a body describes tasks, it does not compute values."""
    if result is None:
        return
    if isinstance(result, Workload):
        if was_recorded(result, scope):
            return
        reject_scheduled(result, what, loc)
        scope.nodes.extend(result.statements())
        return
    if is_statement(result):
        if not any(n is result for n in walk(scope.nodes)):
            scope.append(result)
        return
    if isinstance(result, list | tuple):
        for item in result:
            adopt(item, scope, what, loc)
        return
    raise TypeCheckError(
        f"{what}: the body function returned a {type(result).__name__}; it should record "
        "tasks (or return a workload / task node)",
        loc=loc,
    )


def take_statements(x: Any, parent: Any, what: str, loc: SourceLoc | None) -> list[Any]:
    """The statements of a builder argument (``cond``'s branches, ``process(n).body(node)``):
    a statement or a workload, taken out of ``parent`` if they were recorded there, so they
    live only where they are used now."""
    if isinstance(x, Workload):
        if parent is not None and was_recorded(x, parent):
            for stmt in x._inlined[1]:
                parent.remove(stmt)
            x._inlined = None
        else:
            reject_scheduled(x, what, loc)
        return x.statements()
    if is_statement(x):
        remove = getattr(parent, "remove", None)
        if remove is not None:
            remove(x)
        return [x]
    raise TypeCheckError(
        f"{what}: expected a workload, a task node or a function, got {type(x).__name__}",
        loc=loc,
    )


__all__ = [
    "SPEC_FORMS",
    "adopt",
    "build",
    "outside_workload",
    "take_statements",
    "warn_builder",
]
