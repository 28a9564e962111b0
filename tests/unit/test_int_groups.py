"""``int_groups``: the counting shortcuts for small id ranges agree with ``np.unique``."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.runtime.int_groups import group_index, small_unique


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, -2, 3, 7, -2, 0], dtype=np.int32),  # small range, negatives
        np.array([5, 5, 5], dtype=np.int64),  # one value
        np.array([0, 1 << 40, -(1 << 40), 1 << 40], dtype=np.int64),  # wide range: np.unique
        np.zeros(0, dtype=np.int32),
    ],
    ids=["small", "one", "wide", "empty"],
)
def test_same_as_np_unique(values: np.ndarray) -> None:
    ids, inverse = np.unique(values.astype(np.int64), return_inverse=True)
    got_ids, got_inverse = group_index(values)
    assert got_ids.dtype == np.int64 and got_ids.tolist() == ids.tolist()
    assert got_inverse.tolist() == inverse.reshape(-1).tolist()
    assert small_unique(values).tolist() == ids.tolist()


def test_strided_field_of_a_structured_array() -> None:
    rec = np.zeros(6, dtype=[("a", "<u4"), ("kernel", "<i4")])
    rec["kernel"] = [2, 0, 2, 9, 0, 2]
    ids, inverse = group_index(rec["kernel"])
    assert ids.tolist() == [0, 2, 9]
    assert ids[inverse].tolist() == rec["kernel"].tolist()
