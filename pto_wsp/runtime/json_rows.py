"""JSON text for many similar records at once, from numpy columns, without a Python object per row.

A row is a list of segments: literal bytes, integers, fixed-point decimals, strings picked from a
table, or a literal kept only where a mask says so. ``rows(n, segments)`` hands the columns to the
extension's row writer (cpp_backend/textrows), which writes each row's text straight into one
buffer, rows back to back in row order: no Python object per row, and no padded byte matrix to
compact (the numpy layout this replaced spent most of the Chrome export's time in its digit
passes and its NUL-dropping pass). The Chrome trace export writes 10^6 events this way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._native import textrows

__all__ = [
    "Lit",
    "Int",
    "Fixed",
    "Str",
    "Opt",
    "Segment",
    "Rows",
    "prepare",
    "rows",
    "string_table",
]


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


_NO_INTS = np.zeros(0, dtype=np.int64)
_NO_BYTES = np.zeros(0, dtype=np.uint8)


def _flags(mask: np.ndarray) -> np.ndarray:
    """A boolean column as the 0/1 bytes the C++ writer reads (no copy for a contiguous bool)."""
    col = np.ascontiguousarray(mask)
    return col.view(np.uint8) if col.dtype == np.bool_ else (col != 0).view(np.uint8)


def _column(seg: Segment) -> textrows.Column:
    kind = textrows.ColumnKind
    if isinstance(seg, Lit):
        return textrows.Column(kind.LITERAL, seg.text, _NO_INTS, _NO_BYTES, _NO_BYTES, 0, 0)
    if isinstance(seg, Opt):
        return textrows.Column(kind.OPTIONAL, seg.text, _NO_INTS, _flags(seg.mask), _NO_BYTES, 0, 0)
    if isinstance(seg, Int):
        keep = _NO_BYTES if seg.keep is None else _flags(seg.keep)
        return textrows.Column(kind.INTEGER, b"", seg.values, keep, _NO_BYTES, 0, 0)
    if isinstance(seg, Fixed):
        return textrows.Column(kind.FIXED, b"", seg.units, _NO_BYTES, _NO_BYTES, 0, seg.decimals)
    return textrows.Column(
        kind.CHOICE, b"", seg.index, _NO_BYTES, seg.table, int(seg.table.shape[1]), 0
    )


@dataclass(frozen=True)
class Rows:
    """``n`` rows with their columns laid out for the extension (contiguous arrays), so the
    text can be made later, or on another thread: ``write_to`` releases the GIL while it
    formats and writes."""

    n: int
    columns: tuple[textrows.Column, ...]

    def text(self) -> bytes:
        """The rows' text (``textrows.format_rows``: one pass per row)."""
        return textrows.format_rows(self.n, list(self.columns)) if self.n else b""

    def write_to(self, fd: int) -> int:
        """Writes the rows' text to the file descriptor ``fd`` through the extension's reused
        per-thread buffer (no bytes object of the text); returns the bytes written."""
        return textrows.write_rows(fd, self.n, list(self.columns)) if self.n else 0


def prepare(n: int, segments: Sequence[Segment]) -> Rows:
    """``n`` rows built from ``segments`` (every column has ``n`` entries), ready to write."""
    return Rows(n, tuple(_column(s) for s in segments) if n else ())


def rows(n: int, segments: Sequence[Segment]) -> bytes:
    """The text of ``n`` rows built from ``segments`` (every column has ``n`` entries), written
    by the extension's ``textrows.format_rows`` in one pass per row (no padded matrix, no
    Python object per row)."""
    return prepare(n, segments).text()
