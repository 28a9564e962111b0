"""Binding a kernel call's arguments (spec §3.5): like a Python call, then each argument checked
against its parameter's annotation (tensor vs scalar, ``Tile`` shape and dtype, constexpr value).

Works on a signature alone, so ``KernelRef`` calls and the Studio's checks share one rule.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import numpy as np

from ...errors import SourceLoc, TypeCheckError, _is_internal
from ..scalar_expr import ScalarExpr, as_expr
from ..shape_rule import tile_dims, tile_dtype_problem, tile_shape_differences, tile_shape_problem
from ..tensor import Tensor, TensorView, index_text, tile_index
from ..types import DType
from .annotations import CONSTEXPR_TYPES, check_constexpr_value, check_scalar_value
from .signature import KernelParam, KernelSignature


def bind_arguments(
    name: str, sig: KernelSignature, args: tuple, kwargs: dict[str, Any], loc: SourceLoc | None
) -> dict[str, Any]:
    """Bind like a Python call to kernel ``name``, then check each argument's kind against its
    parameter. Returns every parameter's value (defaults filled in, scalars as expressions)."""
    problems: list[str] = []
    bound: dict[str, Any] = {}
    if len(args) > len(sig):
        problems.append(f"takes {len(sig)} arguments but {len(args)} positional were given")
    for p, a in zip(sig, args, strict=False):
        bound[p.name] = a
    for key, value in kwargs.items():
        if key not in sig.names:
            problems.append(f"unknown argument '{key}'")
        elif key in bound:
            problems.append(f"got multiple values for argument '{key}'")
        else:
            bound[key] = value
    missing = [p.name for p in sig if p.name not in bound and p.required]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"missing argument{plural} {', '.join(repr(m) for m in missing)}")
    if problems:
        raise TypeCheckError(
            f"call of kernel {name}: {'; '.join(problems)}; expected {sig}", loc=loc
        )
    out: dict[str, Any] = {}
    for p in sig:
        if p.name in bound:
            out[p.name] = _check_argument(name, sig, p, bound[p.name], loc)
        elif p.direction == "constexpr":
            out[p.name] = p.default
        else:
            out[p.name] = as_expr(p.default)
    return out


def is_tensor_value(v: Any) -> bool:
    """A tensor or view, or a foreign object shaped like one (has shape, dtype and a root or a
    location), which is why the attribute probes below stay."""
    if isinstance(v, Tensor | TensorView):
        return True
    if isinstance(v, np.ndarray | ScalarExpr) or isinstance(v, type):
        return False
    return (
        hasattr(v, "shape")
        and hasattr(v, "dtype")
        and (hasattr(v, "root") or hasattr(v, "location"))
    )


def _check_argument(
    name: str, sig: KernelSignature, p: KernelParam, value: Any, loc: SourceLoc | None
) -> Any:
    where = f"call of kernel {name}: argument '{p.name}' ({p.annotation()})"
    if p.is_data:
        if not is_tensor_value(value):
            raise TypeCheckError(
                f"{where} expects a Tensor or tensor view, got {type(value).__name__}; "
                f"expected {sig}",
                loc=loc,
            )
        if p.kind == "tile":
            _check_tile_argument(where, p, value, loc)
        return value
    if p.direction == "constexpr":
        assert p.dtype is not None  # a constexpr parameter always has one
        return check_constexpr_value(value, CONSTEXPR_TYPES[p.dtype], where, loc)
    if is_tensor_value(value) and tuple(getattr(value, "shape", ()) or ()) != ():
        raise TypeCheckError(f"{where} expects a scalar, got a tensor {value!r}", loc=loc)
    try:
        expr = as_expr(value)
    except TypeCheckError:
        raise TypeCheckError(
            f"{where} expects a number or scalar expression, got {type(value).__name__}",
            loc=loc,
        ) from None
    if not isinstance(value, ScalarExpr) and not hasattr(value, "__scalar_expr__"):
        assert p.dtype is not None  # a scalar parameter always has one
        check_scalar_value(value, p.dtype, where, loc)
    return expr


def _matching_index(p: KernelParam, value: Any) -> str:
    """``; X[b, 0:4, :] would match``: the index of the view's root that gives the tile's shape
    (DESIGN §6: a view of another shape is refused, never read past, as the reference does)."""
    root = getattr(value, "root", None)
    dims = tile_dims(p.shape or ())
    if not isinstance(root, Tensor) or dims is None:
        return ""
    items = tile_index(value.index_items, root.shape, *dims)
    if items is None:
        return f"; no index of the tensor it views gives a {dims[0]}x{dims[1]} tile"
    return f"; {_user_name(root)}[{index_text(items, root.shape)}] would match"


def _user_name(root: Tensor) -> str:
    """The tensor's name, or the caller's variable holding it, for a message."""
    if root.name:
        return root.name
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and _is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is not None:
        for mapping in (frame.f_locals, frame.f_globals):
            for name, v in mapping.items():
                if v is root and not name.startswith("_"):
                    return name
    return "tensor"


def _check_tile_argument(where: str, p: KernelParam, value: Any, loc: SourceLoc | None) -> None:
    shape = [
        int(s) if isinstance(s, int | np.integer) else None
        for s in tuple(getattr(value, "shape", ()) or ())
    ]
    problem = tile_shape_problem(p.shape or (), shape)  # the rule the Studio checks live too
    if problem is not None:
        detail = tile_shape_differences(p.shape or (), shape)
        raise TypeCheckError(f"{where} {problem} ({detail}){_matching_index(p, value)}", loc=loc)
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        try:
            dt = DType.from_any(dtype)
        except TypeCheckError:
            dt = None
        assert p.dtype is not None  # a Tile parameter always has one
        problem = tile_dtype_problem(p.dtype.value, dt.value) if dt is not None else None
        if problem is not None:
            raise TypeCheckError(f"{where} {problem}", loc=loc)
