"""Program binding: the run-time inputs a compiled program reads without a rebuild.

Two kinds, both carried into the run as typed values (``_core.codegen.RunValues``), never baked
into the generated source, so changing them needs no new build:

* **runtime symbols** (``Symbol(name)``, ``symbol_u64(name)``, ``t.tags[name]`` in a schedule
  key, and ``__pto_wsp_channel_latency_cycles``): 64-bit patterns set by
  ``Program.set_symbol_u64`` / ``set_symbol_f32`` (the f32's bits in the low half); a symbol
  never set reads 0;
* **axis sizes**: the bound of a ``DenseDyn`` given an int, ``Program.set_axis_sizes({loop: n})``
  (or ``compile(..., axis_sizes=...)``); the int given at construction is the default.

This module checks what the user passes and finds the axis a loop name means; the runner (a
``BindingRunner``) holds the values.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import BindingWarning, ScheduleError, TypeCheckError, user_location
from ..language.axes import DenseDyn
from ..language.workload import LoopNode, Workload

__all__ = [
    "AxisSizeLike",
    "BindingRunner",
    "axis_size_for",
    "f32_value",
    "u64_bits",
    "warn_unread_symbol",
]

_U64 = 1 << 64


class AxisSizeLike(Protocol):
    """A run-time loop bound (``pto_wsp.compiler.lowering.AxisSize``): the module param that
    holds it, its default and the ``DenseDyn`` axis it bounds."""

    @property
    def param(self) -> str: ...
    @property
    def default(self) -> int: ...
    @property
    def axis(self) -> Any: ...


@runtime_checkable
class BindingRunner(Protocol):
    """A runner whose runs read runtime symbols and axis sizes (cpu_sim's)."""

    axis_sizes: list[Any]  # of AxisSizeLike

    def symbol_names(self) -> list[str]: ...
    def set_symbol_u64(self, name: str, bits: int) -> bool: ...
    def set_symbol_f32(self, name: str, value: float) -> bool: ...
    def symbol_u64(self, name: str) -> int: ...
    def set_axis_size(self, param: str, size: int) -> None: ...
    def axis_size(self, param: str) -> int: ...


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise TypeCheckError(
            f"a runtime symbol is named by a non-empty str, got {name!r}", loc=user_location()
        )
    return name


def u64_bits(name: Any, value: Any) -> tuple[str, int]:
    """``(name, 64-bit pattern)`` of ``set_symbol_u64(name, value)``: an int in
    [-2**63, 2**64); a negative one is stored as its two's complement (symbols are read as
    int64 in expressions)."""
    name = _check_name(name)
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeCheckError(
            f"set_symbol_u64({name!r}, ...) takes an int, got {type(value).__name__} {value!r}"
            + ("; use set_symbol_f32 for a float" if isinstance(value, float) else ""),
            loc=user_location(),
        )
    v = int(value)
    if not -(1 << 63) <= v < _U64:
        raise TypeCheckError(
            f"set_symbol_u64({name!r}, {v}): the value does not fit in 64 bits",
            loc=user_location(),
        )
    return name, v % _U64


def f32_value(name: Any, value: Any) -> tuple[str, float]:
    """``(name, value)`` of ``set_symbol_f32(name, value)``: a real number (rounded to f32)."""
    name = _check_name(name)
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        raise TypeCheckError(
            f"set_symbol_f32({name!r}, ...) takes a float, got {type(value).__name__} {value!r}",
            loc=user_location(),
        )
    v = float(value)
    if math.isfinite(v) and abs(v) > float(np.finfo(np.float32).max):
        raise TypeCheckError(
            f"set_symbol_f32({name!r}, {v}): the value overflows f32", loc=user_location()
        )
    return name, v


def warn_unread_symbol(program_name: str, name: str, read: list[str]) -> None:
    """A symbol the compiled program never reads: setting it changes nothing."""
    listed = ", ".join(repr(n) for n in read) or "none"
    warnings.warn(
        BindingWarning(
            f"program {program_name!r} reads no runtime symbol {name!r}, so setting it changes "
            f"nothing; the symbols it reads: {listed}"
        ),
        stacklevel=3,
    )


def _dense_dyn_loops(workload: Workload) -> list[tuple[str, Any]]:
    """(loop variable name, axis) of every ``DenseDyn`` loop, in walk order."""
    out: list[tuple[str, Any]] = []
    for node in workload.walk():
        if isinstance(node, LoopNode):
            for var, ax in zip(node.vars, node.axes, strict=True):
                if isinstance(ax, DenseDyn):
                    out.append((str(var.name), ax))
    return out


def axis_size_for(
    workload: Workload, sizes: list[Any], name: Any, value: Any
) -> tuple[AxisSizeLike, int]:
    """The run-time bound ``set_axis_sizes({name: value})`` sets, and the checked size.

    ``name`` resolves as a schedule key's ``t.get(name)`` does (loop variable, axis name, its
    singular); the loop must iterate a ``DenseDyn`` given an int. Anything else is a
    ``ScheduleError`` naming the loops that take a run-time size.
    """
    loc = user_location()
    candidates = [
        f"{var} ({ax.name})" if ax.name and ax.name != var else var
        for var, ax in _dense_dyn_loops(workload)
        if any(s.axis is ax for s in sizes)
    ]
    listed = ", ".join(dict.fromkeys(candidates)) or "none"
    if not isinstance(name, str) or not name:
        raise ScheduleError(
            f"set_axis_sizes takes loop variable names, got {name!r}; DenseDyn loops: {listed}",
            loc=loc,
        )
    try:
        var = workload.resolve_axis_name(name)
    except ScheduleError:
        if len(workload.reference_loops(name)) > 1:
            raise  # a reference name of several loops: the message lists the candidates
        raise ScheduleError(
            f"workload {workload.name!r} has no loop named {name!r}; loops with a run-time "
            f"size (DenseDyn): {listed}",
            loc=loc,
        ) from None
    ax = var.axis
    found = next((s for s in sizes if s.axis is ax), None)
    if found is None:
        what = (
            f"its size is the run-time value {ax.size}; set that instead"
            if isinstance(ax, DenseDyn)
            else f"it iterates {ax!r}, whose size is fixed"
        )
        raise ScheduleError(
            f"set_axis_sizes: loop {name!r} takes no run-time size ({what}); DenseDyn loops: "
            f"{listed}",
            loc=loc,
        )
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeCheckError(
            f"set_axis_sizes: the size of loop {name!r} must be an int, got "
            f"{type(value).__name__} {value!r}",
            loc=loc,
        )
    if not 0 <= int(value) < (1 << 63):
        raise TypeCheckError(
            f"set_axis_sizes: the size of loop {name!r} must be >= 0, got {int(value)}", loc=loc
        )
    return found, int(value)


def check_sizes_mapping(sizes: Any) -> Mapping[Any, Any]:
    if not isinstance(sizes, Mapping):
        raise TypeCheckError(
            f"set_axis_sizes takes a dict {{loop variable name: size}}, got {type(sizes).__name__}",
            loc=user_location(),
        )
    return sizes
