"""Slots: the tensor -> scalar bridge of spec §3.8.

A slot is a u64 register of the running artifact. ``slot_load_u64`` copies one tensor element
into a slot while the program runs (e.g. a routing decision a kernel just wrote),
``slot_set_u64`` stores a scalar expression (debugging, tests), and ``slot_u64(i)`` (in
``pto_wsp.language.scalar_expr``) reads the slot in predicates and schedule keys. Both statements
are workload statements: outside a ``@workload`` body (the reference builder style) each returns
a ``Workload`` holding it, to be composed with ``sequential`` or given to a process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SourceLoc, TypeCheckError, user_location
from . import _builder
from .scalar_expr import as_expr
from .workload import builder
from .workload.nodes import SlotLoadNode, SlotSetNode

__all__ = ["slot_set_u64", "slot_load_u64"]


def _check_slot(slot: Any, what: str, loc: SourceLoc | None) -> int:
    if isinstance(slot, bool | np.bool_) or not isinstance(slot, int | np.integer) or slot < 0:
        raise TypeCheckError(f"{what}: slot must be an int >= 0, got {slot!r}", loc=loc)
    return int(slot)


def _require_workload(what: str, loc: SourceLoc | None) -> Any:
    scope = _builder.current()
    if scope is None:
        raise TypeCheckError(f"{what} must be used inside a @workload function", loc=loc)
    return scope


def slot_set_u64(slot: int, value: Any) -> Any:
    """Set runtime slot ``slot`` to ``value`` (an int or scalar expression)."""
    loc = user_location()
    if builder.outside_workload():
        return builder.build(
            "slot_set_u64", lambda: _slot_set(slot, value, loc), "slot_set_u64", loc
        )
    return _slot_set(slot, value, loc)


def _slot_set(slot: int, value: Any, loc: SourceLoc | None) -> SlotSetNode:
    scope = _require_workload("slot_set_u64(slot, value)", loc)
    node = SlotSetNode(_check_slot(slot, "slot_set_u64", loc), as_expr(value), loc)
    scope.append(node)
    return node


def slot_load_u64(slot: int, tensor_view: Any, row: Any = 0, col: Any = 0) -> Any:
    """Load element ``[row, col]`` of ``tensor_view`` into runtime slot ``slot`` (as u64)."""
    loc = user_location()
    if builder.outside_workload():
        return builder.build(
            "slot_load_u64",
            lambda: _slot_load(slot, tensor_view, row, col, loc),
            "slot_load_u64",
            loc,
        )
    return _slot_load(slot, tensor_view, row, col, loc)


def _slot_load(
    slot: int, tensor_view: Any, row: Any, col: Any, loc: SourceLoc | None
) -> SlotLoadNode:
    scope = _require_workload("slot_load_u64(slot, tensor_view, row, col)", loc)
    index = _check_slot(slot, "slot_load_u64", loc)
    if not (hasattr(tensor_view, "dtype") and hasattr(tensor_view, "shape")):
        raise TypeCheckError(
            f"slot_load_u64: tensor_view must be a Tensor or a view of one, got "
            f"{type(tensor_view).__name__}",
            loc=loc,
        )
    node = SlotLoadNode(index, tensor_view, as_expr(row), as_expr(col), loc)
    scope.append(node)
    return node
