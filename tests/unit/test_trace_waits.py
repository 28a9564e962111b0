"""The trace model's wait analysis on hand-built traces: cause names, wait cycles per cause and
kernel, the start-delay breakdown, the gating critical path and the exported flows."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.runtime.chrome_check import ChromeFlowError, check_chrome_flows
from pto_wsp.runtime.trace import TRACE_DTYPE, TraceError, chrome_trace, validate_trace
from pto_wsp.runtime.trace_analysis import critical_path
from pto_wsp.runtime.trace_gates import gate_rows, lane_order, lane_prev
from pto_wsp.runtime.trace_waits import cause_names, start_delay, wait_cycles, wait_totals
from pto_wsp.runtime.wait_causes import NO_GATE, WAIT_CAUSES, cause_by_name


def trace(rows: list[tuple[int, int, int, int, int, int, str, int | None]]) -> np.ndarray:
    """Rows of (task, kernel, worker, stream, start, end, cause, gate)."""
    out = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for i, (t, k, w, st, s, e, c, g) in enumerate(rows):
        out[i] = (t, k, w, st, s, e, -1, -1, -1, -1, NO_GATE if g is None else g,
                  cause_by_name(c).code)  # fmt: skip
    return out


# Two workers, no streams, recorded out of task order (as buffering policies do).
#   task 0: k0 w0  0..10  none
#   task 1: k1 w1  0..4   none
#   task 2: k1 w1 10..15  raw on task 0     wait = 10 - 4 (task 1 on w1)   = 6
#   task 3: k0 w0 10..30  worker (task 0)   wait = 10 - 0 (no other lane)  = 10
#   task 4: k1 w1 40..50  barrier on task 3 wait = 40 - 15 (task 2 on w1)  = 25
#   task 5: k0 w0 30..35  worker (task 3)   wait = 30 - 0                  = 30
SAMPLE = trace(
    [
        (1, 1, 1, -1, 0, 4, "none", None),
        (0, 0, 0, -1, 0, 10, "none", None),
        (3, 0, 0, -1, 10, 30, "worker", 0),
        (2, 1, 1, -1, 10, 15, "raw", 0),
        (5, 0, 0, -1, 30, 35, "worker", 3),
        (4, 1, 1, -1, 40, 50, "barrier", 3),
    ]
)


def test_every_cause_has_a_label_and_description_in_tie_order() -> None:
    names = [c.name for c in WAIT_CAUSES]
    assert names == [
        "none", "raw", "war", "waw", "barrier", "channel_empty", "channel_full", "event",
        "worker", "window", "stream", "timing", "issue", "start_policy", "mesh",
    ]  # fmt: skip
    assert [c.code for c in WAIT_CAUSES] == list(range(len(WAIT_CAUSES)))
    assert all(c.label and c.description for c in WAIT_CAUSES)
    with pytest.raises(KeyError, match="known: none, raw"):
        cause_by_name("bogus")


def test_gate_rows_map_task_ids_to_rows() -> None:
    assert gate_rows(SAMPLE).tolist() == [-1, -1, 1, 1, 2, 2]
    assert lane_prev(SAMPLE, "worker").tolist() == [-1, -1, 1, 0, 2, 3]
    assert lane_prev(SAMPLE, "stream").tolist() == [-1] * 6


@pytest.mark.parametrize("in_start_order", [True, False])
def test_lane_order_is_the_lexsort_by_lane_start_end_row(in_start_order: bool) -> None:
    # In start order per worker (as the simulator records): the counting sort alone; shuffled
    # starts and ties on (lane, start, end): the lexsort fallback. Both the same as the lexsort.
    rng = np.random.default_rng(7)
    n = 5000
    t = np.zeros(n, dtype=TRACE_DTYPE)
    t["worker"] = rng.integers(0, 5, n)
    t["stream"] = rng.integers(-1, 3, n)
    start = rng.integers(0, 400, n)
    end = start + rng.integers(0, 3, n)
    if in_start_order:
        by_time = np.lexsort((end, start))
        start, end = start[by_time], end[by_time]
    t["start"], t["end"] = start, end
    for field in ("worker", "stream"):
        want = np.lexsort((t["end"], t["start"], t[field]))
        got = lane_order(t, field)
        assert got.tolist() == want.tolist()
        assert lane_prev(t, field, got).tolist() == lane_prev(t, field).tolist()
    assert lane_order(t[:0], "worker").tolist() == []


def test_cause_names_and_wait_cycles() -> None:
    assert cause_names(SAMPLE).tolist() == ["none", "none", "worker", "raw", "worker", "barrier"]
    assert wait_cycles(SAMPLE).tolist() == [0, 0, 10, 6, 30, 25]


def test_wait_on_a_stream_leaves_out_the_stream_lane_only() -> None:
    # task 1 on w1 waits for stream 0 (task 0 until 20); w1 ran task 2 until 8 before it.
    t = trace(
        [
            (0, 0, 0, 0, 0, 20, "none", None),
            (2, 0, 1, 1, 0, 8, "none", None),
            (1, 0, 1, 0, 20, 25, "stream", 0),
        ]
    )
    assert wait_cycles(t).tolist() == [0, 0, 12]


def test_wait_totals_per_cause_and_kernel() -> None:
    totals = wait_totals(SAMPLE, ["load", "mma"])
    assert totals.by_cause["worker"] == 40
    assert totals.by_cause["raw"] == 6
    assert totals.by_cause["barrier"] == 25
    assert sum(totals.by_cause.values()) == 71
    assert list(totals.by_cause) == [c.name for c in WAIT_CAUSES]
    assert totals.tasks_by_cause["none"] == 2 and totals.tasks_by_cause["worker"] == 2
    k0, k1 = totals.kernels
    assert (k0.name, k0.by_cause, k0.total) == ("load", {"worker": 40}, 40)
    assert (k1.name, k1.by_cause, k1.total) == ("mma", {"raw": 6, "barrier": 25}, 31)
    empty = wait_totals(np.zeros(0, dtype=TRACE_DTYPE))
    assert empty.kernels == () and sum(empty.by_cause.values()) == 0


def test_start_delay_breakdown() -> None:
    d = start_delay(SAMPLE, 3)  # task 2
    assert (d.task, d.start, d.cause.name, d.wait) == (2, 10, "raw", 6)
    assert (d.gate_task, d.gate_row, d.gate_end) == (0, 1, 10)
    assert [(b.kind, b.cycle, b.task, b.gating) for b in d.bounds] == [
        ("raw", 10, 0, True),
        ("worker", 4, 1, False),
    ]
    w = start_delay(SAMPLE, 2)  # task 3: the worker bound is the gating one, listed once
    assert [(b.kind, b.cycle, b.task, b.gating) for b in w.bounds] == [("worker", 10, 0, True)]
    n = start_delay(SAMPLE, -6)  # task 1
    assert (n.cause.name, n.gate_task, n.gate_end, n.wait) == ("none", None, None, 0)
    with pytest.raises(IndexError):
        start_delay(SAMPLE, 6)


def test_critical_path_follows_the_gates_back_from_the_last_end() -> None:
    cp = critical_path(SAMPLE)
    assert cp.tasks == (0, 3, 4)
    assert cp.rows.tolist() == [1, 2, 5]
    assert cp.cycles == 10 + 20 + 10


def test_unknown_cause_is_not_a_trace() -> None:
    bad = SAMPLE.copy()
    bad["cause"][2] = len(WAIT_CAUSES)
    with pytest.raises(TraceError, match="record 2 has an unknown wait cause"):
        validate_trace(bad)


def test_exported_flows_one_per_gated_task() -> None:
    data = chrome_trace(SAMPLE, ["load", "mma"], ns_per_cycle=1000.0)
    assert check_chrome_flows(data) == 4
    events = data["traceEvents"]
    s = {e["id"]: e for e in events if e["ph"] == "s"}
    f = {e["id"]: e for e in events if e["ph"] == "f"}
    assert sorted(s) == sorted(f) == [2, 3, 4, 5]
    # Task 2's flow: from the end of task 0 (worker 0, 10 us) into task 2 (worker 1, at 10 us).
    assert (s[2]["tid"], s[2]["ts"]) == (0, 9.999)
    assert (f[2]["tid"], f[2]["bp"], f[2]["ts"]) == (1, "e", 10.001)
    # the cause is on the gated task's slice (a flow carries only its id)
    x = {e["args"]["task"]: e for e in events if e["ph"] == "X"}
    assert (x[2]["args"]["cause"], x[4]["args"]["cause"]) == ("raw", "barrier")
    assert all("name" not in e and "cat" not in e for e in events if e["ph"] in "sf")


def test_flow_checker_finds_broken_flows() -> None:
    data = chrome_trace(SAMPLE, ns_per_cycle=1000.0)
    events = data["traceEvents"]
    no_f = {"traceEvents": [e for e in events if not (e["ph"] == "f" and e["id"] == 3)]}
    with pytest.raises(ChromeFlowError, match='flow id 3 has an "s" event and no "f"'):
        check_chrome_flows(no_f)
    moved = [dict(e) for e in events]
    for e in moved:
        if e["ph"] == "s" and e["id"] == 2:
            e["ts"] = 36.0  # nothing runs on worker 0 at 36 us
    with pytest.raises(ChromeFlowError, match="inside no slice"):
        check_chrome_flows({"traceEvents": moved})
    twice = events + [e for e in events if e["ph"] == "s" and e["id"] == 2]
    with pytest.raises(ChromeFlowError, match="two"):
        check_chrome_flows({"traceEvents": twice})
