"""The cycle-level scheduling simulator (pto_wsp._core.sim).

Every expected cycle count below is derived by hand from the model in docs/semantics.md,
section "Scheduling model"; the derivation is in the comment next to the case.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp._core import sim
from pto_wsp.language.policy_kinds import DispatchKind, TimingKind

PENDING = sim.PENDING


def _splitmix64(x: int) -> int:
    """Reference splitmix64 (the first output of a generator seeded with x)."""
    mask = (1 << 64) - 1
    z = (x + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def _by_task(s: sim.Simulator) -> np.ndarray:
    """Trace records sorted by submission index (buffering policies record in issue order)."""
    tr = s.trace
    return tr[np.argsort(tr["task"], kind="stable")]


# ---- dispatch ---------------------------------------------------------------------------------


def test_round_robin_placement_and_makespan() -> None:
    s = sim.Simulator(workers=2)
    ends = [s.submit(0, 10, idx=(i,)) for i in range(5)]
    # workers 0,1,0,1,0; each worker runs back to back.
    assert ends == [10, 10, 20, 20, 30]
    tr = s.trace
    assert tr["worker"].tolist() == [0, 1, 0, 1, 0]
    assert tr["start"].tolist() == [0, 0, 10, 10, 20]
    assert tr["idx0"].tolist() == [0, 1, 2, 3, 4]
    assert tr["idx1"].tolist() == [-1] * 5
    assert tr["stream"].tolist() == [-1] * 5
    assert s.total_cycles == 30
    assert s.task_count == 5
    assert s.worker_busy == [30, 20]


def test_affinity_normalises_negative_keys() -> None:
    s = sim.Simulator(workers=3, dispatch=DispatchKind.AFFINITY)
    for key in (5, -1, 3, 4):
        s.submit(0, 10, dispatch_key=key)
    # 5 % 3 = 2; ((-1 % 3) + 3) % 3 = 2; 3 -> 0; 4 -> 1. Worker 2 runs two tasks back to back.
    assert s.trace["worker"].tolist() == [2, 2, 0, 1]
    assert s.trace["end"].tolist() == [10, 20, 10, 10]
    assert s.total_cycles == 20


def test_dispatch_by_places_like_affinity() -> None:
    s = sim.Simulator(workers=4, dispatch=DispatchKind.DISPATCH_BY)
    for key in (7, -6, 0):
        s.submit(0, 1, dispatch_key=key)
    assert s.trace["worker"].tolist() == [3, 2, 0]


def test_hash_uses_splitmix64() -> None:
    assert sim.splitmix64(0) == 0xE220A8397B1DCDAF  # first output of splitmix64 seeded with 0
    assert sim.splitmix64(12345) == _splitmix64(12345)
    s = sim.Simulator(workers=4, dispatch=DispatchKind.HASH)
    keys = list(range(-4, 12))
    for k in keys:
        s.submit(0, 1, dispatch_key=k)
    expected = [_splitmix64(k & ((1 << 64) - 1)) % 4 for k in keys]
    assert s.trace["worker"].tolist() == expected
    assert s.trace["worker"][4] == 3  # key 0: 0x...af % 4 == 3


def test_work_steal_beats_round_robin_on_imbalance() -> None:
    costs = [100, 1, 1, 1, 1]
    rr = sim.Simulator(workers=2)
    ws = sim.Simulator(workers=2, dispatch=DispatchKind.WORK_STEAL)
    for c in costs:
        rr.submit(0, c)
        ws.submit(0, c)
    # round robin: w0 runs 100 then tasks 2 and 4 (100-101, 101-102) -> 102.
    assert rr.total_cycles == 102
    # work steal: task 2's home w0 is busy until 100, w1 is free at 1 and takes it (1-2);
    # task 3 at home on w1 (2-3); task 4's home w0 is busy, w1 takes it (3-4).
    assert ws.total_cycles == 100
    tr = ws.trace
    assert tr["worker"].tolist() == [0, 1, 1, 1, 1]
    assert tr["start"].tolist() == [0, 0, 1, 2, 3]
    home = tr["task"] % 2
    assert (tr["worker"] != home).any()
    assert tr["worker"][2] == 1 and home[2] == 0


def test_work_steal_ties_stay_home() -> None:
    s = sim.Simulator(workers=3, dispatch=DispatchKind.WORK_STEAL)
    for _ in range(6):
        s.submit(0, 5)
    # All workers free at the same time for each round: nobody steals.
    assert s.trace["worker"].tolist() == [0, 1, 2, 0, 1, 2]


# ---- streams ----------------------------------------------------------------------------------


def test_streams_are_in_order() -> None:
    s = sim.Simulator(workers=4, streams=2)
    for i in range(3):
        s.submit(0, 10, stream_key=0, idx=(i,))
    # Three workers are free, but stream 0 runs its tasks one after another.
    assert s.trace["start"].tolist() == [0, 10, 20]
    assert s.trace["stream"].tolist() == [0, 0, 0]

    t = sim.Simulator(workers=4, streams=2)
    for i in range(4):
        t.submit(0, 10, stream_key=i)
    # streams 0,1,0,1: the second task of each stream waits for the first.
    assert t.trace["stream"].tolist() == [0, 1, 0, 1]
    assert t.trace["start"].tolist() == [0, 0, 10, 10]
    assert t.total_cycles == 20


def test_negative_stream_key_is_normalised() -> None:
    s = sim.Simulator(workers=2, streams=3)
    s.submit(0, 1, stream_key=-1)
    assert s.trace["stream"].tolist() == [2]


# ---- timing policies --------------------------------------------------------------------------


def test_batched_delays_starts_until_group_complete() -> None:
    s = sim.Simulator(workers=4, timing=TimingKind.BATCHED, timing_param=3)
    assert s.submit(0, 10, min_start=0) == PENDING
    assert s.submit(0, 10, min_start=0) == PENDING
    # The group is issued when its last member is ready (cycle 50): all three start at 50.
    assert s.submit(0, 10, min_start=50) == 60
    assert s.submit(0, 10) == PENDING  # a new, partial group
    s.finish()  # flushes it; the issue clock is monotonic, so it is not issued before 50
    tr = _by_task(s)
    assert tr["start"].tolist() == [50, 50, 50, 50]
    assert s.total_cycles == 60

    ref = sim.Simulator(workers=4)
    for m in (0, 0, 50, 0):
        ref.submit(0, 10, min_start=m)
    assert ref.trace["start"].tolist() == [0, 0, 50, 0]


def test_task_end_issues_a_pending_batch() -> None:
    s = sim.Simulator(workers=2, timing=TimingKind.BATCHED, timing_param=4)
    assert s.submit(0, 10) == PENDING
    assert s.task_end(0) == 10  # something needs it: the partial group is issued now
    assert s.submit(0, 10, min_start=10) == PENDING
    s.finish()
    assert s.task_end(1) == 20


def test_interleaved_alternates_streams() -> None:
    s = sim.Simulator(workers=1, streams=2, timing=TimingKind.INTERLEAVED, timing_param=2)
    for key in (0, 0, 0, 1, 1, 1):
        s.submit(0, 10, stream_key=key)
    s.finish()
    tr = s.trace
    # Issue rotates lane 0, lane 1, lane 0, ...: submissions 0,3,1,4,2,5 on the single worker.
    assert tr["task"].tolist() == [0, 3, 1, 4, 2, 5]
    assert tr["stream"].tolist() == [0, 1, 0, 1, 0, 1]
    assert tr["start"].tolist() == [0, 10, 20, 30, 40, 50]

    ref = sim.Simulator(workers=1, streams=2)
    for key in (0, 0, 0, 1, 1, 1):
        ref.submit(0, 10, stream_key=key)
    assert ref.trace["stream"].tolist() == [0, 0, 0, 1, 1, 1]


def test_interleaved_drains_an_unbalanced_lane_at_finish() -> None:
    s = sim.Simulator(workers=2, timing=TimingKind.INTERLEAVED, timing_param=2)
    for _ in range(3):
        s.submit(0, 10, stream_key=0)
    assert s.task_count == 3
    s.finish()
    assert sorted(s.trace["task"].tolist()) == [0, 1, 2]
    assert s.total_cycles == 20


def test_rate_limit_spaces_starts() -> None:
    s = sim.Simulator(workers=4, timing=TimingKind.RATE_LIMIT, timing_param=1000)
    for _ in range(3):
        s.submit(0, 10)
    # 1000 tasks/ms = one issue per 1000 ns = 1000 cycles at 1 ns/cycle.
    assert s.trace["start"].tolist() == [0, 1000, 2000]
    assert s.total_cycles == 2010

    fast_clock = sim.Simulator(
        workers=4, timing=TimingKind.RATE_LIMIT, timing_param=1000, ns_per_cycle=2
    )
    for _ in range(3):
        fast_clock.submit(0, 10)
    assert fast_clock.trace["start"].tolist() == [0, 500, 1000]


# ---- task window ------------------------------------------------------------------------------


def test_window_one_serialises_everything() -> None:
    s = sim.Simulator(workers=4, window=1)
    for _ in range(3):
        s.submit(0, 10)
    assert s.trace["start"].tolist() == [0, 10, 20]
    assert s.trace["worker"].tolist() == [0, 1, 2]
    assert s.total_cycles == 30


def test_window_two_keeps_two_in_flight() -> None:
    s = sim.Simulator(workers=4, window=2)
    for c in (10, 30, 5, 5):
        s.submit(0, c)
    # Tasks 0,1 issue at 0; task 2 waits for the earliest end (10); task 3 then waits for the
    # earliest of {30, 15} = 15.
    assert s.trace["start"].tolist() == [0, 0, 10, 15]


# ---- regions ----------------------------------------------------------------------------------


def test_raw_dependency() -> None:
    s = sim.Simulator(workers=2)
    s.access(0, 0, 10, True)
    s.submit(0, 10)
    s.access(0, 5, 6, False)
    assert s.submit(0, 3) == 13  # reads element 5 after the writer ends at 10


def test_war_dependency() -> None:
    s = sim.Simulator(workers=2)
    s.access(0, 0, 10, False)
    s.submit(0, 10)
    s.access(0, 8, 12, True)
    assert s.submit(0, 1) == 11


def test_waw_dependency() -> None:
    s = sim.Simulator(workers=2)
    s.access(3, 0, 10, True)
    s.submit(0, 10)
    s.access(3, 9, 10, True)
    assert s.submit(0, 1) == 11


def test_write_waits_for_reads_since_last_write() -> None:
    s = sim.Simulator(workers=4)
    s.access(0, 0, 10, True)
    s.submit(0, 10)  # 0-10
    s.access(0, 0, 10, False)
    s.submit(0, 5)  # 10-15
    s.access(0, 0, 10, False)
    s.submit(0, 2)  # 10-12 (reads do not order each other)
    s.access(0, 2, 3, True)
    assert s.submit(0, 1) == 16  # after the latest read (15)
    assert s.trace["start"].tolist() == [0, 10, 10, 15]


def test_disjoint_regions_are_not_serialised() -> None:
    s = sim.Simulator(workers=4)
    s.access(0, 0, 10, True)
    s.submit(0, 10)
    s.access(0, 10, 20, True)  # adjacent, half-open: no overlap
    s.submit(0, 10)
    s.access(1, 0, 10, True)  # same range of another tensor
    s.submit(0, 10)
    s.access(0, 0, 10, False)
    s.access(1, 100, 200, False)
    s.submit(0, 10)
    assert s.trace["start"].tolist() == [0, 0, 0, 10]


def test_strided_region_as_several_ranges() -> None:
    s = sim.Simulator(workers=4)
    # A column of a 4x8 row-major tensor: one range per row.
    for r in range(4):
        s.access(0, r * 8 + 2, r * 8 + 3, True)
    s.submit(0, 10)
    for r in range(4):
        s.access(0, r * 8 + 3, r * 8 + 4, True)  # the next column: disjoint
    s.submit(0, 10)
    s.access(0, 3 * 8, 4 * 8, False)  # the last row overlaps both columns
    s.submit(0, 10)
    assert s.trace["start"].tolist() == [0, 0, 10]


def test_region_conflict_flushes_a_pending_batch() -> None:
    s = sim.Simulator(workers=2, timing=TimingKind.BATCHED, timing_param=4)
    s.access(0, 0, 10, True)
    assert s.submit(0, 10) == PENDING
    s.access(0, 0, 10, False)
    # The read needs the writer's end: the partial group (the writer) is issued first.
    assert s.submit(0, 5) == PENDING
    s.finish()
    assert _by_task(s)["start"].tolist() == [0, 10]


# ---- min_start, makespan ----------------------------------------------------------------------


def test_min_start_honoured() -> None:
    s = sim.Simulator(workers=2)
    assert s.submit(0, 10, min_start=25) == 35
    assert s.submit(0, 10) == 10
    # Barrier folding as a driver does it: iteration 1 starts after iteration 0's max end.
    barrier = max(s.trace["end"])
    assert s.submit(0, 1, min_start=int(barrier)) == 36


def test_total_cycles_is_the_makespan() -> None:
    assert sim.Simulator().total_cycles == 0
    s = sim.Simulator(workers=2)
    for c in (50, 10, 10):
        s.submit(0, c)
    # w0: 0-50, w1: 0-10, w0: 50-60; the last task to finish is not the last submitted on w1.
    assert s.total_cycles == 60
    assert s.worker_busy == [60, 10]


# ---- trace ------------------------------------------------------------------------------------


def test_trace_is_a_zero_copy_view() -> None:
    s = sim.Simulator(workers=2, trace_reserve=16)
    for i in range(4):
        s.submit(7, 3, idx=(i, 2 * i, 0, 1))
    a = s.trace
    b = s.trace
    assert a.base is not None
    assert a.dtype == sim.trace_dtype()
    assert a.dtype.itemsize == sim.RECORD_SIZE == 56
    assert a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    assert not a.flags.writeable and not a.flags.owndata
    assert a["kernel"].tolist() == [7] * 4
    assert a["idx1"].tolist() == [0, 2, 4, 6]
    del s  # the view keeps the simulator alive
    assert a["end"].tolist() == [3, 3, 6, 6]


def test_old_view_survives_growth() -> None:
    s = sim.Simulator(workers=1)
    s.submit(0, 1)
    old = s.trace
    for _ in range(5000):  # grows the buffer past its initial block
        s.submit(0, 1)
    assert old["end"].tolist() == [1]
    assert len(s.trace) == 5001
    assert int(s.trace["end"][-1]) == 5001


def test_trace_disabled_keeps_stats() -> None:
    s = sim.Simulator(workers=2, trace=False)
    for _ in range(3):
        s.submit(0, 4)
    assert s.total_cycles == 8 and s.task_count == 3 and s.worker_busy == [8, 4]
    with pytest.raises(ValueError, match="trace is disabled"):
        _ = s.trace


# ---- configuration errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers"),
        ({"timing": TimingKind.BATCHED}, "batched"),
        ({"timing": TimingKind.INTERLEAVED, "timing_param": 1.5}, "interleaved"),
        ({"timing": TimingKind.RATE_LIMIT, "timing_param": 0}, "rate_limit"),
        ({"window": -1}, "window"),
        ({"ns_per_cycle": 0}, "ns_per_cycle"),
    ],
)
def test_invalid_configuration_is_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sim.Simulator(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        ({"dispatch": "hash"}, "DispatchKind"),
        ({"timing": "batched"}, "TimingKind"),
        ({"dispatch": TimingKind.BATCHED}, "DispatchKind"),
    ],
)
def test_policies_are_enum_members_not_text(kwargs: dict, kind: str) -> None:
    with pytest.raises(TypeError, match=kind):
        sim.Simulator(**kwargs)


def test_invalid_submit_arguments() -> None:
    s = sim.Simulator()
    with pytest.raises(ValueError, match="at most 4 loop indices"):
        s.submit(0, 1, idx=(1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="cycles"):
        s.submit(0, -1)
    with pytest.raises(ValueError, match="lo <= hi"):
        s.access(0, 5, 4, True)
    with pytest.raises(IndexError):
        s.task_end(0)


def test_regions_match_brute_force() -> None:
    """The interval maps agree with checking every earlier task pairwise."""
    rng = np.random.default_rng(7)
    n = 300
    s = sim.Simulator(workers=n)  # one worker per task: only regions order tasks
    tasks: list[list[tuple[int, int, int, bool]]] = []
    ends: list[int] = []
    for _ in range(n):
        accesses = []
        for _ in range(int(rng.integers(1, 4))):
            lo = int(rng.integers(0, 60))
            hi = lo + int(rng.integers(1, 12))
            accesses.append((int(rng.integers(0, 2)), lo, hi, bool(rng.integers(0, 2))))
        expected = 0
        for j, prev in enumerate(tasks):
            if any(
                t1 == t2 and (w1 or w2) and lo1 < hi2 and lo2 < hi1
                for (t1, lo1, hi1, w1) in prev
                for (t2, lo2, hi2, w2) in accesses
            ):
                expected = max(expected, ends[j])
        cycles = int(rng.integers(1, 20))
        for a in accesses:
            s.access(*a)
        end = s.submit(0, cycles)
        assert end == expected + cycles
        tasks.append(accesses)
        ends.append(end)
