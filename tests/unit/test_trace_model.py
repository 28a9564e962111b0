"""The one trace model (pto_wsp.runtime): validation, lanes (idle workers included), utilisation,
critical path, diff of two runs, task selection."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.errors import PtoError
from pto_wsp.runtime.lanes import build_lanes, busy_cycles
from pto_wsp.runtime.run_diff import diff_runs
from pto_wsp.runtime.trace import TRACE_DTYPE, TraceError, task_mask, validate_trace
from pto_wsp.runtime.trace_analysis import analyse_trace, critical_path


def make_trace(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """Records from (kernel, worker, stream, start, end); task ids in order, idx0 = task."""
    tr = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for n, (k, w, s, a, b) in enumerate(rows):
        tr[n] = (n, k, w, s, a, b, n, -1, -1, -1, 0, 0)
    return tr


# ---- lanes and utilisation -----------------------------------------------------------------------


def test_lanes_one_per_worker_sorted_by_start() -> None:
    tr = make_trace([(0, 1, -1, 50, 70), (1, 0, -1, 0, 40), (0, 1, -1, 0, 30), (1, 0, -1, 40, 100)])
    lanes = build_lanes(tr, "workers")
    assert [lane.label for lane in lanes.lanes] == ["worker 0", "worker 1"]
    w0, w1 = lanes.lanes
    assert w0.rows.tolist() == [1, 3] and w0.starts.tolist() == [0, 40]
    assert w1.rows.tolist() == [2, 0] and w1.ends.tolist() == [30, 70]
    assert lanes.makespan == 100 and lanes.slice_count == 4
    assert w0.busy == 100 and w1.busy == 50
    assert lanes.utilisation(w0) == pytest.approx(1.0)
    assert lanes.utilisation(w1) == pytest.approx(0.5)


def test_stream_lanes_union_overlapping_slices() -> None:
    # Stream 0 is served by two workers: [0,60) and [20,50) overlap, [80,100) does not.
    tr = make_trace([(0, 0, 0, 0, 60), (0, 1, 0, 20, 50), (1, 0, 0, 80, 100), (1, 1, 1, 0, 10)])
    lanes = build_lanes(tr, "streams")
    s0, s1 = lanes.lanes
    assert (s0.label, s1.label) == ("stream 0", "stream 1")
    assert s0.busy == 80  # union: 60 + 20, not 60 + 30 + 20
    assert s1.busy == 10
    assert lanes.utilisation(s0) == pytest.approx(0.8)
    # The short slice inside the long one is found at its own cycles (latest start wins) ...
    assert s0.rows[s0.hit(30)] == 1
    # ... and the long one where only it covers.
    assert s0.rows[s0.hit(55)] == 0
    assert s0.hit(70) is None
    assert s0.rows[s0.hit(70, tolerance=15)] == 0  # nearest edge within the tolerance


def test_streams_mode_needs_streams_and_modes_are_checked() -> None:
    tr = make_trace([(0, 0, -1, 0, 10)])
    with pytest.raises(PtoError, match="streams"):
        build_lanes(tr, "streams")
    with pytest.raises(PtoError, match="lane mode 'cores'"):
        build_lanes(tr, "cores")


def test_validate_trace_names_missing_fields_and_bad_records() -> None:
    with pytest.raises(TraceError, match=r"fields stream, start, end, idx0.* missing"):
        validate_trace(np.zeros(2, dtype=[("task", "u4"), ("kernel", "i4"), ("worker", "i4")]))
    tr = make_trace([(0, 0, -1, 10, 5)])
    with pytest.raises(TraceError, match="record 0 .* ends before it starts"):
        validate_trace(tr)
    # One check for every reader: the statistics reject what the timeline rejects.
    with pytest.raises(TraceError, match="ends before it starts"):
        analyse_trace(tr)
    with pytest.raises(TraceError, match="2-D|1-D"):
        validate_trace(np.zeros((2, 2), dtype=TRACE_DTYPE))
    assert issubclass(TraceError, PtoError) and issubclass(TraceError, ValueError)


def test_busy_cycles_is_an_interval_union() -> None:
    assert busy_cycles(np.array([0, 5, 20]), np.array([10, 8, 25])) == 15
    assert busy_cycles(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == 0


def test_visible_range_uses_running_max_end() -> None:
    tr = make_trace([(0, 0, 0, 0, 1000), (0, 1, 0, 10, 20), (0, 2, 0, 30, 40)])
    lane = build_lanes(tr, "streams").lanes[0]
    i0, i1 = lane.visible(500, 600)  # only the long first slice reaches here
    assert (i0, i1) == (0, 3)
    i0, i1 = lane.visible(2000, 3000)
    assert i0 == i1


def test_empty_trace() -> None:
    lanes = build_lanes(np.zeros(0, dtype=TRACE_DTYPE))
    assert lanes.lanes == () and lanes.makespan == 0
    assert critical_path(np.zeros(0, dtype=TRACE_DTYPE)).cycles == 0


# ---- critical path -------------------------------------------------------------------------------


def test_critical_path_on_a_hand_made_trace() -> None:
    # A(w0 0-10) -> B(w1 10-30) -> D(w0 30-40): C(w2 0-5) and E(w1 0-8) are off the path.
    tr = make_trace(
        [
            (0, 0, -1, 0, 10),  # A
            (1, 1, -1, 10, 30),  # B
            (2, 2, -1, 0, 5),  # C
            (0, 0, -1, 30, 40),  # D
            (2, 1, -1, 0, 8),  # E
        ]
    )
    cp = critical_path(tr)
    assert cp.rows.tolist() == [0, 1, 3]
    assert cp.cycles == 40 and cp.tasks == (0, 1, 3)


def test_critical_path_is_the_longest_back_to_back_chain_as_the_stats_report_it() -> None:
    tr = make_trace(
        [
            (0, 0, -1, 0, 10),  # another worker's slice ends at 10 too, and is longer
            (0, 1, -1, 5, 10),
            (0, 1, -1, 10, 20),  # last: the longer chain into it wins, whatever the lane
            (0, 2, -1, 0, 3),
        ]
    )
    cp = critical_path(tr)
    assert cp.rows.tolist() == [0, 2]
    assert cp.cycles == 20
    stats = analyse_trace(tr).critical_path  # the Stats dock's numbers: the same chain
    assert (stats.cycles, list(stats.tasks), stats.rows.tolist()) == (20, [0, 2], [0, 2])
    # Record order is not task order (ready policies append in start order): rows still map.
    shuffled = tr[[2, 0, 3, 1]]
    assert shuffled[critical_path(shuffled).rows]["task"].tolist() == [0, 2]


# ---- diff and selection --------------------------------------------------------------


def test_diff_of_two_runs() -> None:
    a = build_lanes(make_trace([(0, 0, -1, 0, 100), (0, 1, -1, 0, 60)]))
    b = build_lanes(make_trace([(0, 0, -1, 0, 80), (0, 2, -1, 0, 20)]))
    d = diff_runs(a, b)
    assert (d.total_a, d.total_b, d.delta) == (100, 80, -20)
    assert d.delta_pct == pytest.approx(-20.0)
    by = {lane.label: (lane.busy_a, lane.busy_b, lane.delta) for lane in d.lanes}
    assert by == {
        "worker 0": (100, 80, -20),
        "worker 1": (60, 0, -60),
        "worker 2": (0, 20, 20),
    }
    assert [lane.label for lane in d.lanes] == ["worker 0", "worker 1", "worker 2"]


def test_task_mask() -> None:
    tr = make_trace([(1, 2, -1, 10, 25), (0, 0, 3, 0, 5)])
    assert task_mask(tr, [1]).tolist() == [False, True]
    assert task_mask(tr, np.array([True, False])).tolist() == [True, False]
    assert task_mask(tr, None).tolist() == [False, False]
    with pytest.raises(PtoError, match="one per record"):
        task_mask(tr, np.array([True]))


# ---- the configured worker count -------------------------------------------------------------


def test_idle_workers_get_lanes_and_count_in_the_mean_utilisation() -> None:
    # 4 configured workers, tasks only on workers 0 and 2 (each busy the whole 100 cycles).
    tr = make_trace([(0, 0, -1, 0, 100), (0, 2, -1, 0, 60), (0, 2, -1, 60, 100)])
    old = build_lanes(tr, "workers")  # what the timeline drew before: lanes of busy workers
    assert [lane.label for lane in old.lanes] == ["worker 0", "worker 2"]
    assert old.mean_utilisation == pytest.approx(1.0)
    lanes = build_lanes(tr, "workers", num_workers=4)
    assert [lane.label for lane in lanes.lanes] == ["worker 0", "worker 1", "worker 2", "worker 3"]
    assert [len(lane) for lane in lanes.lanes] == [1, 0, 2, 0]
    assert [lanes.utilisation(lane) for lane in lanes.lanes] == [1.0, 0.0, 1.0, 0.0]
    assert lanes.mean_utilisation == pytest.approx(0.5)  # half of what the old lanes said
    # An idle lane is empty but well formed: nothing visible, nothing hit.
    idle = lanes.lanes[1]
    assert idle.visible(0, 100) == (0, 0) and idle.hit(50, tolerance=10) is None
    # The statistics are the same computation.
    a = analyse_trace(tr, num_workers=4)
    assert [(w.worker, w.task_count, w.busy_cycles) for w in a.workers] == [
        (0, 1, 100),
        (1, 0, 0),
        (2, 2, 100),
        (3, 0, 0),
    ]
    assert a.mean_utilisation == pytest.approx(0.5)
    assert analyse_trace(tr).mean_utilisation == pytest.approx(1.0)
    assert a.to_dict()["num_workers"] == 4


def test_configured_workers_apply_to_worker_lanes_only() -> None:
    tr = make_trace([(0, 0, 1, 0, 10), (0, 1, 1, 0, 10)])
    streams = build_lanes(tr, "streams", num_workers=8)
    assert [lane.label for lane in streams.lanes] == ["stream 1"]
    # A worker beyond the configured count (never written by the simulator) still shows.
    assert len(build_lanes(make_trace([(0, 5, -1, 0, 10)]), num_workers=2).lanes) == 3


def test_diff_pairs_idle_lanes() -> None:
    a = build_lanes(make_trace([(0, 0, -1, 0, 100)]), num_workers=2)
    b = build_lanes(make_trace([(0, 0, -1, 0, 50), (0, 1, -1, 0, 50)]), num_workers=2)
    by = {lane.label: (lane.busy_a, lane.busy_b) for lane in diff_runs(a, b).lanes}
    assert by == {"worker 0": (100, 50), "worker 1": (0, 50)}
