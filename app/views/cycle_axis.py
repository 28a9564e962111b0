"""Cycle counts as people read them: an axis with k/M/G tick labels and duration texts.

pyqtgraph's default axis prints large cycle counts as "2e+06" (or rescales them behind an SI
prefix in the axis title); a trace reader wants "2M", "1.5k". ``CycleAxis`` keeps pyqtgraph's tick
spacing and only changes the strings. ``duration_text`` is the one formatter of a span of cycles
(with its time at the cost table's clock when the caller knows ``ns_per_cycle``), ``time_text``
of a span of simulated time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg

__all__ = ["CycleAxis", "cycle_label", "duration_text", "time_text"]

_UNITS = ((1e9, "G"), (1e6, "M"), (1e3, "k"))
_TIME_UNITS = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns"))


def _strip(number: str) -> str:
    return number.rstrip("0").rstrip(".") if "." in number else number


def cycle_label(value: float, spacing: float = 0.0) -> str:
    """``value`` cycles with a k/M/G suffix, precise enough to tell ticks ``spacing`` apart.

    ``cycle_label(2e6) == "2M"``, ``cycle_label(1500) == "1.5k"``, ``cycle_label(0) == "0"``.
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    scale, suffix = 1.0, ""
    for unit, name in _UNITS:
        if abs(value) >= unit:
            scale, suffix = unit, name
            break
    step = spacing / scale if spacing > 0 else 0.0
    if step > 0:
        decimals = min(max(math.ceil(-math.log10(step) - 1e-9), 0), 9)
    else:
        decimals = 3
    text = _strip(f"{value / scale:.{decimals}f}")
    return ("0" if text in ("-0", "") else text) + suffix


def time_text(ns: float) -> str:
    """``"12.5 µs"``: a span of simulated nanoseconds in the largest unit it reaches."""
    for unit, name in _TIME_UNITS:
        if abs(ns) >= unit or unit == 1.0:
            return f"{_strip(f'{ns / unit:.3f}')} {name}"
    raise AssertionError("unreachable: the last unit takes any value")


def duration_text(cycles: float, ns_per_cycle: float | None = None) -> str:
    """``"12,500 cycles"``, plus ``" = 12.5 µs"`` when the clock (ns per cycle) is known."""
    text = f"{_strip(f'{cycles:,.1f}')} cycles"
    if ns_per_cycle is not None and ns_per_cycle > 0:
        text += f" = {time_text(cycles * ns_per_cycle)}"
    return text


class CycleAxis(pg.AxisItem):
    """A pyqtgraph axis whose tick strings are ``cycle_label``s (no SI rescaling)."""

    def __init__(self, orientation: str = "bottom", **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 (pyqtgraph's name)
        return [cycle_label(v * scale, spacing * scale) for v in values]
