"""The simulator's gating cause per task (trace fields ``cause`` and ``gate``), driven directly
through the ``_core.sim`` bindings.

Each case derives the start by hand from docs/semantics.md "Scheduling model" and checks that
the recorded cause is the bound equal to the start (the latest; equal ones by the order of
``wait_causes.WAIT_CAUSES``) and the gate the task whose end produced it.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp._core import sim
from pto_wsp.language.policy_kinds import DispatchKind, ReadyKind, TimingKind
from pto_wsp.runtime.trace import TRACE_DTYPE
from pto_wsp.runtime.trace_gates import lane_prev
from pto_wsp.runtime.trace_waits import start_delay, wait_cycles
from pto_wsp.runtime.wait_causes import NO_GATE, WAIT_CAUSES, cause_by_name


def code(name: str) -> int:
    return cause_by_name(name).code


def why(s: sim.Simulator) -> list[tuple[int, str, int | None]]:
    """(start, cause name, gate task or None) per task, by submission index."""
    tr = s.trace
    tr = tr[np.argsort(tr["task"], kind="stable")]
    return [
        (
            int(r["start"]),
            WAIT_CAUSES[int(r["cause"])].name,
            None if r["gate"] == NO_GATE else int(r["gate"]),
        )
        for r in tr
    ]


def test_record_layout_is_56_bytes_with_gate_and_cause() -> None:
    assert sim.RECORD_SIZE == 56 == TRACE_DTYPE.itemsize
    assert TRACE_DTYPE.fields["gate"][1] == 48 and TRACE_DTYPE.fields["cause"][1] == 52


def test_none_and_worker_busy() -> None:
    s = sim.Simulator(workers=1)
    s.submit(0, 10)
    s.submit(0, 5)
    # Task 0 starts at 0: nothing held it. Task 1: its only bound is worker 0 free at 10.
    assert why(s) == [(0, "none", None), (10, "worker", 0)]


def test_zero_bounds_stay_none() -> None:
    s = sim.Simulator(workers=2)
    s.submit(0, 0)
    s.submit(0, 3, min_start=0, min_cause=code("event"), min_gate=0)
    s.submit(0, 3)  # worker 0 is free at 0 (task 0 took no cycles)
    assert why(s) == [(0, "none", None), (0, "none", None), (0, "none", None)]


def test_data_raw_war_waw() -> None:
    s = sim.Simulator(workers=4)
    s.access(0, 0, 10, write=True)
    s.submit(0, 10)  # task 0 writes [0, 10) on w0, ends 10
    s.access(0, 0, 10, write=False)
    s.submit(0, 7)  # task 1 reads it on w1: RAW on task 0 -> 10..17
    s.access(0, 0, 10, write=True)
    s.submit(0, 1)  # task 2 writes it on w2: after the read (WAR, 17) and the write (WAW, 10)
    s.access(1, 0, 4, write=True)
    s.submit(0, 2)  # task 3 writes tensor 1 on w3: nothing before it
    s.access(1, 0, 4, write=True)
    s.submit(0, 2)  # task 4 on w0 (free at 10): WAW on task 3 ends 2, the worker at 10 wins
    assert why(s) == [
        (0, "none", None),
        (10, "raw", 0),
        (17, "war", 1),
        (0, "none", None),
        (10, "worker", 0),
    ]


def test_equal_data_bounds_go_by_the_list_order() -> None:
    s = sim.Simulator(workers=3)
    s.access(0, 0, 5, write=True)
    s.submit(0, 10)  # task 0 writes [0, 5), ends 10
    s.access(0, 5, 10, write=False)
    s.submit(0, 10)  # task 1 reads [5, 10), ends 10
    s.access(0, 0, 10, write=True)
    s.submit(0, 1)  # task 2: WAW on task 0 at 10 and WAR on task 1 at 10: WAR comes first
    assert why(s)[2] == (10, "war", 1)


def test_driver_bound_kinds_and_the_tie_with_the_worker() -> None:
    s = sim.Simulator(workers=1)
    s.submit(0, 10)
    # min_start 10 (a seq barrier set by task 0) ties with worker 0 free at 10: barrier first.
    s.submit(0, 5, min_start=10, min_gate=0)
    s.submit(0, 5, min_start=30, min_cause=code("channel_empty"), min_gate=1)
    s.submit(0, 5, min_start=40, min_cause=code("channel_full"))
    s.submit(0, 5, min_start=50, min_cause=code("event"), min_gate=3)
    assert why(s) == [
        (0, "none", None),
        (10, "barrier", 0),
        (30, "channel_empty", 1),
        (40, "channel_full", None),
        (50, "event", 3),
    ]


def test_submit_rejects_a_bad_cause_or_gate() -> None:
    s = sim.Simulator()
    with pytest.raises(ValueError, match="min_cause"):
        s.submit(0, 1, min_cause=len(WAIT_CAUSES))
    with pytest.raises(ValueError, match="min_gate"):
        s.submit(0, 1, min_gate=0)  # no task 0 yet
    with pytest.raises(ValueError, match="min_cause"):
        s.submit(0, 1, min_start=5, min_cause=code("none"))


def test_task_window_names_the_task_that_released_it() -> None:
    s = sim.Simulator(workers=4, window=2)
    s.submit(0, 30)  # w0 0..30
    s.submit(0, 10)  # w1 0..10
    s.submit(0, 5)  # window full: waits for the earliest in-flight end, task 1 at 10
    assert why(s) == [(0, "none", None), (0, "none", None), (10, "window", 1)]


def test_stream_order() -> None:
    s = sim.Simulator(workers=4, streams=1)
    s.submit(0, 10)
    s.submit(0, 4)  # w1, but stream 0 runs task 0 until 10
    assert why(s) == [(0, "none", None), (10, "stream", 0)]


def test_rate_limit_is_timing_without_a_gate() -> None:
    s = sim.Simulator(workers=4, timing=TimingKind.RATE_LIMIT, timing_param=1000)
    for _ in range(3):
        s.submit(0, 10)
    # 1000 tasks/ms at 1 ns per cycle: issue i at 1000 * i.
    assert why(s) == [(0, "none", None), (1000, "timing", None), (2000, "timing", None)]


def test_batched_group_waits_for_its_last_member() -> None:
    s = sim.Simulator(workers=4, timing=TimingKind.BATCHED, timing_param=2)
    s.submit(0, 20)  # task 0 (w0) and task 1 (w1): group ready at 0
    s.submit(0, 5)
    s.submit(0, 5, min_start=20, min_gate=0)  # task 2 (w2): ready at 20, a barrier on task 0
    s.submit(0, 5)  # task 3 (w3): ready at 0, but its group is issued when task 2 is ready
    s.finish()
    # Task 3 waits for the group (timing, released by task 0's end through task 2's bound);
    # task 2's own barrier ties with the group at 20 and comes first in the list.
    assert why(s) == [(0, "none", None), (0, "none", None), (20, "barrier", 0), (20, "timing", 0)]


def test_issue_cost() -> None:
    s = sim.Simulator(workers=4, issue_cycles=5)
    s.submit(0, 10)
    s.submit(0, 10)
    assert why(s) == [(5, "issue", None), (10, "issue", None)]


def test_start_threshold_gate() -> None:
    s = sim.Simulator(workers=4, issue_cycles=10, start_threshold=3)
    for _ in range(4):
        s.submit(0, 1)
    s.finish()
    # Issues at 10, 20, 30, 40; nothing starts before the 3rd issue (30). Task 2 is issued at
    # 30 itself: its issue cost ties with the start policy and comes first in the list.
    assert why(s) == [
        (30, "start_policy", None),
        (30, "start_policy", None),
        (30, "issue", None),
        (40, "issue", None),
    ]


def test_mesh_hop_and_its_tie_with_raw() -> None:
    for hop, expected in ((16.0, (10 + 2 * 16, "mesh", 0)), (0.0, (10, "raw", 0))):
        s = sim.Simulator(workers=4, dispatch=DispatchKind.AFFINITY, mesh_cols=2, hop=hop)
        s.access(0, 0, 10, write=True)
        s.submit(0, 10, dispatch_key=0)  # tile (0, 0) writes, ends 10
        s.access(0, 0, 10, write=False)
        s.submit(0, 5, dispatch_key=3)  # tile (1, 1) reads it: 2 hops away
        assert why(s)[1] == expected


def test_ready_policy_worker_busy_names_the_task_it_preferred() -> None:
    s = sim.Simulator(workers=1, ready=ReadyKind.LIFO)
    for _ in range(3):
        s.submit(0, 10)
    s.finish()
    # All ready at 0; LIFO runs task 2, then 1, then 0, each waiting for the one before.
    assert why(s) == [(20, "worker", 1), (10, "worker", 2), (0, "none", None)]


def test_gates_end_no_later_than_the_start() -> None:
    rng = np.random.default_rng(1)
    s = sim.Simulator(workers=3, streams=2, window=4, issue_cycles=0.5)
    for i in range(200):
        lo = int(rng.integers(0, 50))
        s.access(int(rng.integers(0, 2)), lo, lo + 8, write=bool(rng.integers(0, 2)))
        s.submit(0, int(rng.integers(1, 20)), stream_key=i % 3)
    tr = s.trace
    has = tr["gate"] != NO_GATE
    ends = np.empty(len(tr), dtype=np.int64)
    ends[tr["task"]] = tr["end"]
    assert has.sum() > 100
    assert np.all(ends[tr["gate"][has]] <= tr["start"][has])
    assert np.all(tr["cause"][tr["start"] == 0] == 0)
    assert np.all(tr["cause"][tr["start"] > 0] != 0)


def test_start_delay_agrees_with_the_vectorised_waits() -> None:
    rng = np.random.default_rng(2)
    s = sim.Simulator(workers=3, streams=2, dispatch=DispatchKind.WORK_STEAL)
    for i in range(120):
        lo = int(rng.integers(0, 40))
        s.access(0, lo, lo + 6, write=bool(rng.integers(0, 2)))
        s.submit(0, int(rng.integers(0, 15)), stream_key=i % 2)
    tr = s.trace
    waits = wait_cycles(tr)
    worker_prev, stream_prev = lane_prev(tr, "worker"), lane_prev(tr, "stream")
    for row in range(len(tr)):
        d = start_delay(tr, row)
        assert d.wait == waits[row]
        others = {b.kind: b.row for b in d.bounds if not b.gating}
        if d.cause.name != "worker":
            assert others.get("worker", -1) == worker_prev[row]
        if d.cause.name != "stream":
            assert others.get("stream", -1) == stream_prev[row]
