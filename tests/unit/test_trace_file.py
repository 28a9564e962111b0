"""``trace_file.load_trace``: the one reader of a run's trace file (CLI and Studio)."""

from __future__ import annotations

import numpy as np

from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_file import load_trace


def test_a_trace_file_is_mapped_read_only(tmp_path) -> None:
    trace = np.zeros(5, dtype=TRACE_DTYPE)
    trace["task"] = np.arange(5)
    np.save(tmp_path / "t.npy", trace)
    got = load_trace(tmp_path / "t.npy")
    assert isinstance(got, np.memmap) and not got.flags.writeable
    np.testing.assert_array_equal(got, trace)


def test_an_empty_trace_and_no_file(tmp_path) -> None:
    np.save(tmp_path / "e.npy", np.zeros(0, dtype=TRACE_DTYPE))
    empty = load_trace(tmp_path / "e.npy")
    assert empty is not None and len(empty) == 0 and empty.dtype == TRACE_DTYPE
    assert load_trace(tmp_path / "missing.npy") is None
