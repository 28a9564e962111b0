"""Counter series of a trace (pto_wsp.runtime.counters): running tasks, windowed utilisation and
per-window peaks, against hand-computed answers and a brute-force numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp.runtime.counters import (
    BusyProfile,
    concurrency,
    peak_running,
    utilisation_series,
    window_edges,
    windowed_utilisation,
)
from pto_wsp.runtime.trace import TRACE_DTYPE


def make_trace(rows: list[tuple[int, int, int]]) -> np.ndarray:
    """Records from (worker, start, end)."""
    tr = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for n, (w, a, b) in enumerate(rows):
        tr[n] = (n, 0, w, -1, a, b, -1, -1, -1, -1, 0, 0)
    return tr


# worker 0 runs [0, 10) then [10, 20); worker 1 runs [5, 15).
SMALL = make_trace([(0, 0, 10), (0, 10, 20), (1, 5, 15)])


def brute_busy(trace: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Busy task-cycles per window: every task's overlap with every window (tasks x windows)."""
    s = trace["start"].astype(np.float64)[:, None]
    e = trace["end"].astype(np.float64)[:, None]
    a, b = edges[None, :-1], edges[None, 1:]
    return np.clip(np.minimum(e, b) - np.maximum(s, a), 0.0, None).sum(axis=0)


def brute_peak(trace: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The most tasks running at the left edge or at any integer cycle inside each window."""
    s, e = trace["start"].astype(np.float64), trace["end"].astype(np.float64)
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        points = np.concatenate(([a], np.arange(np.floor(a) + 1, np.ceil(b))))
        points = points[(points >= a) & (points < b)]
        running = ((s[None, :] <= points[:, None]) & (points[:, None] < e[None, :])).sum(axis=1)
        out.append(int(running.max()))
    return np.asarray(out)


def random_trace(n: int, workers: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["worker"] = rng.integers(0, workers, n)
    tr["start"] = rng.integers(0, 500, n)
    tr["end"] = tr["start"] + rng.integers(0, 60, n)
    return tr


def test_concurrency_of_the_small_trace() -> None:
    times, running = concurrency(SMALL)
    # 1 task from 0, 2 from 5; at 10 one ends and one starts (no step); 1 from 15, 0 from 20.
    assert times.tolist() == [0, 5, 15, 20]
    assert running.tolist() == [1, 2, 1, 0]
    assert BusyProfile.of(SMALL).running_at(np.array([0, 4, 5, 10, 14.5, 15, 20])).tolist() == [
        1, 1, 2, 2, 2, 1, 0,
    ]  # fmt: skip


def test_windowed_utilisation_by_hand() -> None:
    profile = BusyProfile.of(SMALL)
    edges = np.array([0.0, 5.0, 10.0, 15.0, 20.0])
    # busy task-cycles per window: 5, 10, 10, 5 over 5 cycles x 2 workers
    assert profile.busy_before(edges).tolist() == [0.0, 5.0, 15.0, 25.0, 30.0]
    assert windowed_utilisation(profile, edges, 2).tolist() == [0.5, 1.0, 1.0, 0.5]
    # Fractional edges: [2.5, 7.5) holds 5 cycles of worker 0 and 2.5 of worker 1.
    assert windowed_utilisation(profile, np.array([2.5, 7.5]), 2) == pytest.approx([0.75])
    # Outside the run nothing is busy; with 4 workers the same busy time is half as much.
    assert windowed_utilisation(profile, np.array([-10.0, 0.0, 20.0, 30.0]), 4).tolist() == [
        0.0, 30 / 80, 0.0,
    ]  # fmt: skip


def test_windowed_utilisation_matches_brute_force() -> None:
    tr = random_trace(400, 8, seed=1)
    profile = BusyProfile.of(tr)
    for x0, x1, k in ((0, 560, 7), (-30.5, 600.25, 64), (123.4, 131.9, 5), (250, 251, 3)):
        edges = window_edges(x0, x1, k)
        expected = brute_busy(tr, edges) / (np.diff(edges) * 8)
        assert windowed_utilisation(profile, edges, 8) == pytest.approx(expected, abs=1e-9)


def test_windowed_utilisation_keeps_precision_far_from_cycle_zero() -> None:
    # 10^5 back-to-back tasks on one worker, starting at cycle 10^9: a window near the end sees
    # exactly the busy fraction (the prefix sums are ~10^14; their difference is small).
    n, base = 100_000, 1_000_000_000
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["start"] = base + 10 * np.arange(n)
    tr["end"] = tr["start"] + 7  # busy 7 of every 10 cycles
    profile = BusyProfile.of(tr)
    end = base + 10 * n
    edges = np.array([end - 1000.0, end - 500.0, end - 0.0])
    assert windowed_utilisation(profile, edges, 1) == pytest.approx([0.7, 0.7], abs=1e-12)


def test_utilisation_series_covers_the_run() -> None:
    edges, util = utilisation_series(SMALL, 2, 4)
    assert edges.tolist() == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert util.tolist() == [0.5, 1.0, 1.0, 0.5]
    # No more windows than cycles.
    edges, util = utilisation_series(SMALL, 2, 1000)
    assert len(util) == 20 and edges[0] == 0 and edges[-1] == 20
    # The integral is the total busy time: 10 + 10 + 10 task-cycles.
    assert float(np.sum(util * np.diff(edges)) * 2) == pytest.approx(30.0)
    empty = np.zeros(0, dtype=TRACE_DTYPE)
    assert [len(a) for a in utilisation_series(empty, 2, 8)] == [0, 0]


def test_peak_running_by_hand() -> None:
    times, running = concurrency(SMALL)  # 1 from 0, 2 from 5, 1 from 15, 0 from 20
    edges = np.array([0.0, 5.0, 10.0, 15.0, 20.0, 25.0])
    assert peak_running(times, running, edges).tolist() == [1, 2, 2, 1, 0]
    # A window ending just after a step sees it; one ending on it does not.
    assert peak_running(times, running, np.array([0.0, 4.0, 6.0])).tolist() == [1, 2]
    assert peak_running(times, running, np.array([4.5, 5.5])).tolist() == [2]
    assert peak_running(times, running, np.array([14.5, 15.5, 16.5])).tolist() == [2, 1]
    assert peak_running(times, running, np.array([-9.0, -1.0, 30.0, 40.0])).tolist() == [0, 2, 0]


def test_peak_running_matches_brute_force() -> None:
    tr = random_trace(300, 8, seed=2)
    times, running = concurrency(tr)
    for x0, x1, k in ((0, 560, 9), (-20.5, 600.5, 120), (100.2, 103.7, 7), (333, 334, 2)):
        edges = window_edges(x0, x1, k)
        assert peak_running(times, running, edges).tolist() == brute_peak(tr, edges).tolist()


def test_window_edges_reject_empty_ranges() -> None:
    with pytest.raises(ValueError, match="at least one window"):
        window_edges(0, 1, 0)
    with pytest.raises(ValueError, match="x0 < x1"):
        window_edges(5, 5, 3)
    with pytest.raises(ValueError, match="at least one worker"):
        windowed_utilisation(BusyProfile.of(SMALL), np.array([0.0, 1.0]), 0)
