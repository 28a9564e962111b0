"""Kernel parameter annotations (spec §6.1): ``In``/``Out``/``InOut``, ``Tile``, ``Scalar``,
``Constexpr``, ``AxisVar``, and the value rules they impose on defaults and arguments.

Kept apart from signatures and calls because the Studio and legacy kernels read annotations
without ever decorating a function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...errors import SourceLoc, TypeCheckError, user_location
from ..scalar_expr import ScalarExpr
from ..types import DType


def ann_repr(x: Any) -> str:
    if isinstance(x, type):
        return x.__name__
    return repr(x)


@dataclass(frozen=True)
class Direction:
    """``In[T]`` / ``Out[T]`` / ``InOut[T]``: a data parameter and how the kernel uses it."""

    inner: Any
    direction: ClassVar[str] = ""

    def __class_getitem__(cls, inner: Any) -> Direction:
        return cls(inner)

    def __repr__(self) -> str:
        return f"{type(self).__name__}[{ann_repr(self.inner)}]"


class In(Direction):
    """Input: read-only inside the kernel."""

    direction = "in"


class Out(Direction):
    """Output: write-only inside the kernel."""

    direction = "out"


class InOut(Direction):
    """Input/output: read and written."""

    direction = "inout"


@dataclass(frozen=True)
class Constexpr:
    """``Constexpr[int|float|bool]``: a compile-time constant, part of the specialization key."""

    py_type: type

    def __class_getitem__(cls, py_type: Any) -> Constexpr:
        return cls(py_type)

    def __post_init__(self) -> None:
        if not isinstance(self.py_type, type) or self.py_type not in CONSTEXPR_DTYPES:
            raise TypeCheckError(
                f"Constexpr[{ann_repr(self.py_type)}] is not supported; use Constexpr[int], "
                "Constexpr[float] or Constexpr[bool]",
                loc=user_location(),
            )

    def __repr__(self) -> str:
        return f"Constexpr[{self.py_type.__name__}]"


CONSTEXPR_DTYPES: dict[type, DType] = {int: DType.I64, float: DType.F64, bool: DType.BOOL}
CONSTEXPR_TYPES: dict[DType, type] = {v: k for k, v in CONSTEXPR_DTYPES.items()}


def _positive_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool) and bool(v > 0)


@dataclass(frozen=True)
class Tile:
    """``Tile[rows, cols, dtype]``: a statically shaped 2-D tile parameter."""

    rows: int
    cols: int
    dtype: DType

    def __class_getitem__(cls, item: Any) -> Tile:
        if not isinstance(item, tuple) or len(item) != 3:
            raise TypeCheckError(
                f"Tile takes [rows, cols, dtype], got Tile[{item!r}]", loc=user_location()
            )
        return cls(*item)

    def __post_init__(self) -> None:
        if not (_positive_int(self.rows) and _positive_int(self.cols)):
            raise TypeCheckError(
                f"Tile dimensions must be positive ints, got Tile[{self.rows!r}, {self.cols!r}, "
                "...]",
                loc=user_location(),
            )
        object.__setattr__(self, "rows", int(self.rows))
        object.__setattr__(self, "cols", int(self.cols))
        object.__setattr__(self, "dtype", DType.from_any(self.dtype))

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows, self.cols)

    def __repr__(self) -> str:
        return f"Tile[{self.rows}, {self.cols}, {self.dtype!r}]"


@dataclass(frozen=True)
class Scalar:
    """``Scalar[dtype]``: a runtime scalar argument (a number or a loop-variable expression)."""

    dtype: DType

    def __class_getitem__(cls, dtype: Any) -> Scalar:
        return cls(dtype)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", DType.from_any(self.dtype))

    def __repr__(self) -> str:
        return f"Scalar[{self.dtype!r}]"


class AxisVar:
    """Annotation for a parameter that receives an iteration variable (an i64 scalar)."""


def check_scalar_value(value: Any, dtype: DType, what: str, loc: SourceLoc | None) -> None:
    if isinstance(value, ScalarExpr):
        return
    if not isinstance(value, int | float | bool | np.integer | np.floating | np.bool_):
        raise TypeCheckError(
            f"{what} must be a number or scalar expression, got {type(value).__name__}", loc=loc
        )
    if (
        not dtype.is_float
        and isinstance(value, float | np.floating)
        and not float(value).is_integer()
    ):
        raise TypeCheckError(f"{what} is {value!r}, not an integer ({dtype.value})", loc=loc)
    if not dtype.is_signed and not isinstance(value, bool | np.bool_) and value < 0:
        raise TypeCheckError(f"{what} is {value!r}, negative for {dtype.value}", loc=loc)


def check_constexpr_value(value: Any, py_type: type, what: str, loc: SourceLoc | None) -> Any:
    if isinstance(value, ScalarExpr):
        if value.kind != "const":
            raise TypeCheckError(
                f"{what} is Constexpr[{py_type.__name__}] and needs a compile-time constant, "
                f"got the runtime expression {value}",
                loc=loc,
            )
        value = value.value
    if isinstance(value, np.generic):
        value = value.item()
    if py_type is bool:
        ok = isinstance(value, bool)
    elif py_type is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:  # float accepts ints too, as Python does
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise TypeCheckError(
            f"{what} is Constexpr[{py_type.__name__}], got {type(value).__name__} {value!r}",
            loc=loc,
        )
    return float(value) if py_type is float else value
