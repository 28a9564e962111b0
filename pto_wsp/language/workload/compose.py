"""Composition (spec §3.6): ``combine`` (unordered) and ``sequential`` (ordered).

Both take workloads (the spec's form) and, for scripts in the reference builder style, the
statements its forms return (``task(...)``, ``for_each(...)``... inside a body function): such a
statement moves out of the scope it was recorded in into the composition.
"""

from __future__ import annotations

from typing import Any

from ...errors import SourceLoc, TypeCheckError, user_location
from .. import _builder
from ..schedule import ScheduleSpec
from .definition import WorkloadFunction
from .nodes import CombineNode, SequentialNode, is_statement
from .traced import Workload, reject_scheduled


def _as_workload(x: Any, what: str, loc: SourceLoc | None) -> Workload:
    if isinstance(x, Workload):
        return x
    if is_statement(x):
        parent = _builder.current()
        remove = getattr(parent, "remove", None)
        if remove is not None:
            remove(x)
        name = getattr(getattr(x, "kernel", None), "name", None) or type(x).__name__
        return Workload(str(name), [x], {}, None, ScheduleSpec(), getattr(x, "loc", loc))
    if isinstance(x, WorkloadFunction):
        if not x.takes_no_args:
            raise TypeCheckError(
                f"{what}: workload {x.name}{x.signature} needs arguments; call it first, e.g. "
                f"{x.name}(...)",
                loc=loc,
            )
        return x()
    raise TypeCheckError(
        f"{what}: expected workloads (or task nodes), got {type(x).__name__}", loc=loc
    )


def _compose(kind: str, items: tuple[Any, ...], name: str | None) -> Workload:
    loc = user_location()
    what = f"{kind}(...)"
    if len(items) == 1 and isinstance(items[0], list | tuple):
        items = tuple(items[0])
    if not items:
        raise TypeCheckError(f"{what} needs at least one workload", loc=loc)
    children = [_as_workload(x, what, loc) for x in items]
    for c in children:
        reject_scheduled(c, what, loc)
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
