"""Distinct values of an integer column, and each entry's group, without sorting when the
values span a small range (kernel, worker and cause ids: a handful of values over 10^6 rows).

Counting is several times faster than ``np.unique``'s sort of 10^6 strided values; a wide range
(task ids, cycles) falls back to ``np.unique``. The trace export and the run analysis share it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["small_unique", "group_index"]

_SMALL_RANGE = 1 << 20  # a bincount of up to this many slots beats a sort of 10^6 values


def _column(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)


def small_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an integer column (int64), by counting when its range is small."""
    col = _column(values)
    if not len(col):
        return col
    lo, hi = int(col.min()), int(col.max())
    if hi - lo >= _SMALL_RANGE:
        return np.unique(col)
    return np.flatnonzero(np.bincount(col - lo, minlength=hi - lo + 1)) + lo


def group_index(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of an integer column: the sorted distinct
    values (int64) and, per entry, the index of its value among them (intp)."""
    col = _column(values)
    if not len(col):
        return col, np.zeros(0, dtype=np.intp)
    lo, hi = int(col.min()), int(col.max())
    if hi - lo >= _SMALL_RANGE:
        ids, inverse = np.unique(col, return_inverse=True)
        return ids, inverse.reshape(-1).astype(np.intp, copy=False)
    present = np.bincount(col - lo, minlength=hi - lo + 1) > 0
    slot = np.cumsum(present) - 1  # value - lo -> its index among the distinct values
    return np.flatnonzero(present) + lo, slot[col - lo].astype(np.intp, copy=False)
