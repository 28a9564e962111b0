"""JSON text for many similar records at once, from numpy columns, without a Python object per row.

A row is a list of segments: literal bytes, integers, fixed-point decimals, strings picked from a
table, or a literal kept only where a mask says so. ``rows(n, segments)`` lays the rows out in an
``(n, width)`` byte matrix, each segment in its own column range, filling unused positions with
NUL, and drops every NUL in one pass: what is left is the rows' text, back to back, in row order.
Every step is a numpy operation over a column, so the cost per row is a few hundred bytes of
array work, not Python objects (the Chrome trace export writes 10^6 events this way).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Lit", "Int", "Fixed", "Str", "Opt", "Segment", "rows", "string_table", "small_unique"]


@dataclass(frozen=True)
class Lit:
    """Literal text, the same in every row."""

    text: bytes


@dataclass(frozen=True)
class Int:
    """A signed integer column, written in decimal (nothing in rows where ``keep`` is false)."""

    values: np.ndarray
    keep: np.ndarray | None = None


@dataclass(frozen=True)
class Fixed:
    """``units / 10**decimals`` as a JSON number (``units``: int64 column): trailing zeros of the
    fraction are dropped, and the point too when the fraction is zero (``1.5``, ``2``)."""

    units: np.ndarray
    decimals: int


@dataclass(frozen=True)
class Str:
    """Row ``i`` gets ``table[index[i]]`` (a ``string_table``: NUL-padded bytes, one per row)."""

    table: np.ndarray
    index: np.ndarray


@dataclass(frozen=True)
class Opt:
    """Literal text in the rows where ``mask`` is true, nothing elsewhere."""

    text: bytes
    mask: np.ndarray


Segment = Lit | Int | Fixed | Str | Opt


def string_table(texts: Sequence[str]) -> np.ndarray:
    """The JSON string literals of ``texts`` (quoted, escaped, ASCII) as a NUL-padded
    ``(len(texts), width)`` uint8 matrix, for ``Str``."""
    encoded = [json.dumps(t).encode("ascii") for t in texts]
    width = max((len(e) for e in encoded), default=1)
    table = np.zeros((len(encoded), width), dtype=np.uint8)
    for i, e in enumerate(encoded):
        table[i, : len(e)] = np.frombuffer(e, dtype=np.uint8)
    return table


def small_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an integer column, by counting when its range is small (worker and
    kernel ids): several times faster than sorting or hashing 10^6 strided values."""
    col = np.ascontiguousarray(values, dtype=np.int64)
    if not len(col):
        return col
    lo, hi = int(col.min()), int(col.max())
    if hi - lo >= 1 << 20:
        return np.unique(col)
    return np.flatnonzero(np.bincount(col - lo, minlength=hi - lo + 1)) + lo


def _width(seg: Segment, n: int) -> int:
    if isinstance(seg, (Lit, Opt)):
        return len(seg.text)
    if isinstance(seg, Str):
        return int(seg.table.shape[1])
    values = seg.values if isinstance(seg, Int) else seg.units
    biggest = int(np.abs(values).max()) if n else 0
    if isinstance(seg, Fixed):
        return len(str(biggest // 10**seg.decimals)) + 2 + seg.decimals  # sign, int, point, frac
    return len(str(biggest)) + 1  # sign and digits


def _digits(out: np.ndarray, values: np.ndarray, width: int, always: int = 1) -> None:
    """Decimal digits of non-negative ``values`` right-aligned into ``out[:width]`` (one row per
    digit position); leading zeros stay NUL except the last ``always`` positions."""
    q = values.copy()
    for j in range(width):
        digit = (q % 10).astype(np.uint8)
        digit += 48
        if j >= always:
            digit *= q > 0
        out[width - 1 - j] = digit
        q //= 10


def _number(seg: Int | Fixed, n: int, width: int) -> np.ndarray:
    """The ``(width, n)`` digit rows of a number column (computed contiguously per position)."""
    out = np.zeros((width, n), dtype=np.uint8)
    if isinstance(seg, Int):
        values = seg.values.astype(np.int64)
        out[0] = (values < 0) * np.uint8(ord("-"))
        _digits(out[1:], np.abs(values), width - 1)
        if seg.keep is not None:
            out *= seg.keep.astype(np.uint8)
        return out
    units = seg.units.astype(np.int64)
    whole, frac = np.divmod(np.abs(units), 10**seg.decimals)
    out[0] = (units < 0) * np.uint8(ord("-"))
    int_width = width - 2 - seg.decimals
    _digits(out[1:], whole, int_width)
    # fraction: keep digits up to the last non-zero one (none, and no point, for zero)
    frac_rows = out[2 + int_width :]
    _digits(frac_rows, frac, seg.decimals, always=seg.decimals)
    nonzero = frac_rows != ord("0")
    kept = np.where(nonzero.any(axis=0), seg.decimals - np.argmax(nonzero[::-1], axis=0), 0)
    frac_rows *= (np.arange(seg.decimals)[:, None] < kept).astype(np.uint8)
    out[1 + int_width] = (kept > 0) * np.uint8(ord("."))
    return out


def rows(n: int, segments: Sequence[Segment]) -> bytes:
    """The text of ``n`` rows built from ``segments`` (every column has ``n`` entries)."""
    if n == 0:
        return b""
    widths = [_width(s, n) for s in segments]
    matrix = np.zeros((n, sum(widths)), dtype=np.uint8)
    at = 0
    for seg, width in zip(segments, widths, strict=True):
        block = matrix[:, at : at + width]
        if isinstance(seg, Lit):
            block[:] = np.frombuffer(seg.text, dtype=np.uint8)
        elif isinstance(seg, Opt):
            block[:] = np.frombuffer(seg.text, dtype=np.uint8) * seg.mask.astype(np.uint8)[:, None]
        elif isinstance(seg, Str):
            block[:] = seg.table[seg.index]
        else:
            # digits are computed one position at a time over contiguous rows, then copied in
            # once: writing them straight into the row-major matrix would stride per byte
            block[:] = _number(seg, n, width).T
        at += width
    return matrix[matrix != 0].tobytes()
