"""Slice search: the query grammar (incl. the errors it names) and the vectorised matcher."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_search import Query, QueryError, matches, parse_query, start_order

NAMES = ["attn_kernel", "Matmul", "attn_kernel_bwd", "softmax"]


def _trace() -> np.ndarray:
    """Rows out of start order, kernels with 1, 2 and 3 loop indices, two streams."""
    rows = [
        # task kernel worker stream start end  indices
        (0, 0, 0, 0, 500, 600, (2, 0)),
        (1, 0, 1, 1, 100, 200, (2, 1)),
        (2, 0, 2, 0, 300, 400, (3, 1)),
        (3, 0, 3, 1, 50, 80, (2,)),  # one index: not attn_kernel[2, *]
        (4, 1, 3, 0, 0, 40, (2, 5, 7)),
        (5, 2, 0, 1, 700, 800, (2, 9)),  # attn_kernel_bwd: not attn_kernel[2, *]
        (6, 3, 1, 0, 900, 950, ()),
        (7, 1, 3, 1, 20, 30, (1, 5, 7)),
    ]
    tr = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for r, (task, kernel, worker, stream, start, end, idx) in enumerate(rows):
        tr[r]["task"], tr[r]["kernel"], tr[r]["worker"] = task, kernel, worker
        tr[r]["stream"], tr[r]["start"], tr[r]["end"] = stream, start, end
        for i in range(4):
            tr[r][f"idx{i}"] = idx[i] if i < len(idx) else -1
    return tr


# ---- parser ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, query",
    [
        ("attn_kernel[2, *]", Query("kernel", name="attn_kernel", indices=(2, None))),
        ("  attn_kernel [ 2 ,* ] ", Query("kernel", name="attn_kernel", indices=(2, None))),
        ("mm[0,1,2,3]", Query("kernel", name="mm", indices=(0, 1, 2, 3))),
        ("k[*]", Query("kernel", name="k", indices=(None,))),
        ("worker 3", Query("worker", number=3)),
        ("Worker   12", Query("worker", number=12)),
        ("stream 0", Query("stream", number=0)),
        ("attn", Query("text", name="attn")),
        ("worker_kernel", Query("text", name="worker_kernel")),
        ("soft max", Query("text", name="soft max")),
    ],
)
def test_parse(text: str, query: Query) -> None:
    assert parse_query(text) == query


@pytest.mark.parametrize(
    "text, message",
    [
        ("attn_kernel[2, x]", "index 1 of attn_kernel[2, x]: expected an integer or *, got 'x'"),
        ("attn_kernel[x]", "index 0 of attn_kernel[x]: expected an integer or *"),
        ("attn_kernel[-1]", "index 0 of attn_kernel[-1]: expected an integer or *, got '-1'"),
        ("attn_kernel[2, *", "unbalanced brackets"),
        ("attn_kernel 2]", "unbalanced brackets"),
        ("attn_kernel[]", "no index in [ ]"),
        ("attn_kernel[1][2]", "nested brackets"),
        ("[1, 2]", "expected kernel[i, j]"),
        ("k[1, 2, 3, 4, 5]", "5 indices, a task has at most 4"),
        ("worker x", "worker x: expected a worker number after 'worker', got 'x'"),
        ("worker", "got nothing"),
        ("stream -1", "expected a stream number"),
        ("   ", "empty search"),
    ],
)
def test_parse_errors_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


# ---- matcher -----------------------------------------------------------------------------------


def _rows(text: str, names: list[str] = NAMES) -> list[int]:
    tr = _trace()
    got = matches(tr, names, parse_query(text))
    with_order = matches(tr, names, parse_query(text), start_order(tr))
    assert got.tolist() == with_order.tolist()  # the cached order changes nothing
    starts = tr["start"][got]
    assert np.all(starts[1:] >= starts[:-1])
    return got.tolist()


def test_kernel_pattern_with_wildcard() -> None:
    # rows 1 (start 100) then 0 (start 500): by start, not by row
    assert _rows("attn_kernel[2, *]") == [1, 0]


def test_kernel_pattern_exact_indices_and_rank() -> None:
    assert _rows("attn_kernel[3, 1]") == [2]
    assert _rows("attn_kernel[*, *]") == [1, 2, 0]
    assert _rows("attn_kernel[2]") == [3]  # the one-index task only
    assert _rows("Matmul[*, 5, 7]") == [4, 7]
    assert _rows("Matmul[2, *, *]") == [4]
    assert _rows("attn_kernel[9, *]") == []


def test_kernel_pattern_name_is_exact_then_case_insensitive() -> None:
    assert _rows("matmul[*, *, *]") == [4, 7]  # no kernel is spelt "matmul": any case
    assert _rows("attn[2, *]") == []  # not a substring match
    assert _rows("nope[*]") == []


def test_worker_and_stream() -> None:
    assert _rows("worker 3") == [4, 7, 3]
    assert _rows("worker 0") == [0, 5]
    assert _rows("worker 99") == []
    assert _rows("stream 1") == [7, 3, 1, 5]
    assert _rows("stream 0") == [4, 2, 0, 6]


def test_free_text_is_a_case_insensitive_substring_of_kernel_names() -> None:
    assert _rows("ATTN") == [3, 1, 2, 0, 5]
    assert _rows("bwd") == [5]
    assert _rows("MAT") == [4, 7]
    assert _rows("max") == [6]
    assert _rows("conv") == []


def test_kernel_ids_outside_the_names_never_match_text() -> None:
    tr = _trace()
    tr["kernel"][6] = 17
    assert matches(tr, NAMES, parse_query("soft")).tolist() == []


def test_empty_trace_and_bad_order() -> None:
    empty = np.zeros(0, dtype=TRACE_DTYPE)
    assert matches(empty, NAMES, parse_query("worker 0")).tolist() == []
    with pytest.raises(QueryError, match="start order has 2 rows"):
        matches(_trace(), NAMES, parse_query("worker 0"), np.arange(2))


def test_ties_on_start_keep_row_order() -> None:
    tr = _trace()
    tr["start"] = 5
    tr["end"] = 10
    assert matches(tr, NAMES, parse_query("ATTN")).tolist() == [0, 1, 2, 3, 5]
    assert matches(tr, NAMES, parse_query("ATTN"), start_order(tr)).tolist() == [0, 1, 2, 3, 5]
