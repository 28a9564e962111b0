"""Composition (spec §3.6): ``combine`` (unordered) and ``sequential`` (ordered)."""

from __future__ import annotations

from typing import Any

from ...errors import SourceLoc, TypeCheckError, user_location
from .. import _builder
from ..schedule import ScheduleSpec
from .definition import WorkloadFunction
from .nodes import CombineNode, SequentialNode
from .traced import Workload, reject_scheduled


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
