"""Element types and memory locations (spec §2.2).

``DType`` carries its numpy counterpart so tensors, kernel tracing and the backends agree on
one mapping; bf16 comes from ``ml_dtypes`` because numpy has none. Every fact about a dtype
(numpy dtype, size, kind, accepted spellings) comes from the one dtype table,
``dtype_table.py``; the members below are its names spelled as Python attributes (checked
against the table at import).
"""

from __future__ import annotations

import sys
from enum import Enum
from functools import cache
from typing import Any

import numpy as np

from ..errors import TypeCheckError, user_location
from . import dtype_table

_NumpyDType = np.dtype  # ``np`` inside DType's body is its property, not numpy


class DType(Enum):
    F16 = "f16"
    BF16 = "bf16"
    F32 = "f32"
    F64 = "f64"
    I8 = "i8"
    I16 = "i16"
    I32 = "i32"
    I64 = "i64"
    U8 = "u8"
    U16 = "u16"
    U32 = "u32"
    U64 = "u64"
    BOOL = "bool"

    # Lower-case aliases (``DType.f16``), same members.
    f16 = "f16"
    bf16 = "bf16"
    f32 = "f32"
    f64 = "f64"
    i8 = "i8"
    i16 = "i16"
    i32 = "i32"
    i64 = "i64"
    u8 = "u8"
    u16 = "u16"
    u32 = "u32"
    u64 = "u64"
    bool_ = "bool"

    @property
    def spec(self) -> dtype_table.DTypeSpec:
        """This dtype's row of the dtype table."""
        return dtype_table.BY_NAME[self.value]

    @property
    def np(self) -> np.dtype:
        """The numpy dtype that holds this element type."""
        if self.spec.needs_ml_dtypes:
            return _bfloat16()
        return _TO_NUMPY[self]

    @property
    def itemsize(self) -> int:
        return self.spec.size

    @property
    def is_float(self) -> bool:
        return self.spec.is_float

    @property
    def is_int(self) -> bool:
        return self.spec.kind in ("signed", "unsigned")

    @property
    def is_signed(self) -> bool:
        return self.spec.is_signed

    @classmethod
    def from_any(cls, value: Any) -> DType:
        """Accept a DType, its name ("f16", "F16", "float16"), or a numpy dtype/type."""
        if isinstance(value, DType):
            return value
        if isinstance(value, str):
            key = value.strip().lower()
            if key in _BY_NAME:
                return _BY_NAME[key]
            try:
                return cls.from_numpy(np.dtype(key))
            except (TypeError, ValueError, SyntaxError):  # numpy parses "0:", "," as specs
                pass
        else:
            try:
                return cls.from_numpy(np.dtype(value))
            except (TypeError, ValueError, SyntaxError):
                pass
        valid = ", ".join(m.value for m in _CANONICAL)
        raise TypeCheckError(f"unknown dtype {value!r}; valid dtypes: {valid}", loc=user_location())

    @classmethod
    def from_numpy(cls, dtype: _NumpyDType) -> DType:
        dtype = np.dtype(dtype)
        for member, npd in _TO_NUMPY.items():
            if npd == dtype:
                return member
        # A bfloat16 array exists only once ml_dtypes is loaded, so asking it first is free.
        if "ml_dtypes" in sys.modules and dtype == _bfloat16():
            return DType.BF16
        valid = ", ".join(m.value for m in _CANONICAL)
        raise TypeCheckError(
            f"numpy dtype {dtype} has no PTO-WSP dtype; valid dtypes: {valid}", loc=user_location()
        )

    def __repr__(self) -> str:
        return f"DType.{self.name}"


_CANONICAL = [m for m in DType.__members__.values() if m.name.isupper()]
_CANONICAL = list(dict.fromkeys(_CANONICAL))


@cache
def _bfloat16() -> np.dtype:
    """numpy has no bfloat16; ``ml_dtypes`` adds one but takes ~0.8 s to import, so it is
    loaded the first time a bf16 tensor or op needs it, not by ``import pto_wsp``."""
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, dtype_table.BY_NAME["bf16"].numpy))


assert [m.value for m in _CANONICAL] == list(dtype_table.NAMES), "DType and dtype_table differ"

_TO_NUMPY: dict[DType, np.dtype] = {  # every dtype but bf16 (``_bfloat16``, lazily)
    DType(d.name): np.dtype(d.numpy) for d in dtype_table.DTYPES if not d.needs_ml_dtypes
}

_BY_NAME: dict[str, DType] = {m.value: m for m in _CANONICAL}
_BY_NAME.update({m.name.lower(): m for m in _CANONICAL})
_BY_NAME.update({alias: DType(d.name) for d in dtype_table.DTYPES for alias in d.aliases})


class Location(Enum):
    Global = "global"  # Global memory (HBM)
    L2 = "l2"  # L2 cache
    UB = "ub"  # Unified Buffer (AICore local)
    L1 = "l1"  # L1 buffer

    @classmethod
    def from_any(cls, value: Any) -> Location:
        if isinstance(value, Location):
            return value
        if isinstance(value, str):
            for m in cls:
                if value.lower() in (m.value, m.name.lower()):
                    return m
        valid = ", ".join(m.name for m in cls)
        raise TypeCheckError(
            f"unknown location {value!r}; valid locations: {valid}", loc=user_location()
        )


__all__ = ["DType", "Location"]
