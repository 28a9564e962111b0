"""Counter series of a trace: tasks running over time and utilisation over a window.

The timeline's counter tracks and the Chrome/Perfetto export's counters ("C" events) read these
functions, so a number in Perfetto is the number the Studio draws.

- ``concurrency(trace)``: the exact step function of running tasks (a task runs over
  ``[start, end)``), one step per cycle at which the count changes.
- ``BusyProfile``: the trace's starts and ends sorted, with prefix sums, so that the task-cycles
  run before any cycle ``t`` are two ``searchsorted`` calls away. Busy time inside a window is
  the difference at its two edges; ``windowed_utilisation`` divides it by the window's length
  times the worker count. A zoomed view asks for a fixed number of windows across what it
  shows: O(windows * log n) per zoom, whatever the number of tasks.
- ``peak_running``: the most tasks running at once inside each window (what a dense
  concurrency track draws, so that a short burst is not averaged away).

Qt-free numpy; never a Python loop over tasks or windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BusyProfile",
    "concurrency",
    "peak_running",
    "utilisation_series",
    "window_edges",
    "windowed_utilisation",
]


def concurrency(trace: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(times, running)``: the number of tasks running just after each cycle at which some task
    starts or ends (a task is running over ``[start, end)``; repeats of a value are dropped).
    ``BusyProfile.steps`` of the trace."""
    return BusyProfile.of(trace).steps()


def _floor_cycles(t: np.ndarray) -> np.ndarray:
    """Float cycles as int64 ``floor``: an integer query keeps ``searchsorted`` from casting the
    whole int64 array to float (O(n) per call)."""
    return np.floor(np.asarray(t, dtype=np.float64)).astype(np.int64)


@dataclass(frozen=True, eq=False)
class BusyProfile:
    """A trace's task intervals, ready for busy-time queries at any cycles.

    ``starts``/``ends`` are sorted (independently); ``start_sums[i]``/``end_sums[i]`` are the
    sums of their first ``i`` values. Built once per run (two sorts), queried per zoom.
    """

    starts: np.ndarray
    ends: np.ndarray
    start_sums: np.ndarray
    end_sums: np.ndarray

    @classmethod
    def of(cls, trace: np.ndarray) -> BusyProfile:
        starts = np.sort(np.asarray(trace["start"], dtype=np.int64))
        ends = np.sort(np.asarray(trace["end"], dtype=np.int64))
        zero = np.zeros(1, dtype=np.int64)
        return cls(
            starts=starts,
            ends=ends,
            start_sums=np.concatenate((zero, np.cumsum(starts))),
            end_sums=np.concatenate((zero, np.cumsum(ends))),
        )

    def __len__(self) -> int:
        return len(self.starts)

    def busy_before(self, t: np.ndarray) -> np.ndarray:
        """Task-cycles run before each cycle in ``t`` (floats): the sum over tasks of
        ``|[start, end) ∩ (-inf, t)|``.

        With ``s`` tasks started and ``e`` ended by ``t``: ``(s - e) * t - (sum of those starts
        - sum of those ends)``. The int64 difference of the two prefix sums is the running
        tasks' starts less the ended tasks' busy time, small next to either sum, so the float
        result keeps its precision at 10^6 tasks and 10^9 cycles.
        """
        t = np.asarray(t, dtype=np.float64)
        q = _floor_cycles(t)
        s = np.searchsorted(self.starts, q, side="right")  # start <= t (start == t adds 0)
        e = np.searchsorted(self.ends, q, side="right")
        offset = self.start_sums[s] - self.end_sums[e]
        return (s - e) * t - offset

    def steps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(times, running)`` as ``concurrency`` describes, from the sorted starts and ends."""
        if not len(self.starts):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        starts, ends = self.starts, self.ends
        times = np.concatenate((starts, ends))
        times.sort(kind="stable")  # in place; a merge of the two sorted runs
        times = times[np.concatenate(([True], times[1:] != times[:-1]))]
        running = np.searchsorted(starts, times, "right") - np.searchsorted(ends, times, "right")
        changed = np.ones(len(times), dtype=bool)
        changed[1:] = running[1:] != running[:-1]
        return times[changed], running[changed]

    def running_at(self, t: np.ndarray) -> np.ndarray:
        """Tasks running at each cycle in ``t`` (``start <= t < end``)."""
        q = _floor_cycles(t)
        s = np.searchsorted(self.starts, q, side="right")
        return s - np.searchsorted(self.ends, q, side="right")


def window_edges(x0: float, x1: float, windows: int) -> np.ndarray:
    """``windows + 1`` equally spaced edges from ``x0`` to ``x1``: window ``k`` is
    ``[edges[k], edges[k + 1])``."""
    if windows < 1:
        raise ValueError(f"window_edges: need at least one window, got {windows}")
    if not x1 > x0:
        raise ValueError(f"window_edges: need x0 < x1, got [{x0}, {x1}]")
    return np.linspace(float(x0), float(x1), int(windows) + 1)


def windowed_utilisation(profile: BusyProfile, edges: np.ndarray, workers: int) -> np.ndarray:
    """Busy workers over ``workers``, averaged over each window ``[edges[k], edges[k + 1])``:
    the task-cycles run inside the window over its length times ``workers`` (0..1 when tasks
    on a worker never overlap). One value per window."""
    if workers < 1:
        raise ValueError(f"windowed_utilisation: need at least one worker, got {workers}")
    edges = np.asarray(edges, dtype=np.float64)
    busy = np.diff(profile.busy_before(edges))
    width = np.diff(edges)
    out = np.zeros(len(width), dtype=np.float64)
    np.divide(busy, width * workers, out=out, where=width > 0)
    return out


def utilisation_series(
    trace: np.ndarray, workers: int, windows: int, profile: BusyProfile | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(edges, utilisation)`` over the whole run, from cycle ``min(0, first start)`` to the last
    end, in ``windows`` equal windows (fewer when the run is shorter than that many cycles).
    Empty arrays for an empty trace. What the Chrome export writes as its utilisation counter."""
    if not len(trace):
        return np.zeros(0, np.float64), np.zeros(0, np.float64)
    profile = profile if profile is not None else BusyProfile.of(trace)
    x0 = min(0, int(profile.starts[0]))
    x1 = max(int(profile.ends[-1]), x0 + 1)
    edges = window_edges(x0, x1, max(1, min(int(windows), x1 - x0)))
    return edges, windowed_utilisation(profile, edges, workers)


def peak_running(times: np.ndarray, running: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The most tasks running at any cycle of each window ``[edges[k], edges[k + 1])``, from the
    step function ``concurrency`` returns (``running[i]`` holds from ``times[i]`` to the next
    time; 0 before the first).

    A window's peak is the maximum of the value holding at its left edge and of every step
    inside it: one ``np.maximum.reduceat`` over the steps the windows cover, O(steps + windows).
    """
    edges = np.asarray(edges, dtype=np.float64)
    if len(edges) < 2:
        return np.zeros(0, dtype=np.int64)
    times = np.asarray(times, dtype=np.int64)
    # vals[j] holds after the j-th step (vals[0] = 0: before the first step).
    vals = np.concatenate((np.zeros(1, dtype=np.int64), np.asarray(running, dtype=np.int64)))
    # Window k covers vals[first[k] : stop[k]]: the value at its left edge (steps at cycles
    # <= the edge) up to the last step before its right edge (integer cycles < the edge).
    first = np.searchsorted(times, _floor_cycles(edges[:-1]), side="right")
    stop = np.searchsorted(times, np.ceil(edges[1:]).astype(np.int64), side="left") + 1
    lo = int(first[0])
    peak = np.maximum.reduceat(vals[lo : int(stop[-1])], first - lo)
    # reduceat stops window k at first[k + 1]; when no step falls on the edge between them,
    # the value holding across it (vals[first[k + 1]]) is window k's too.
    across = stop[:-1] > first[1:]
    peak[:-1] = np.where(across, np.maximum(peak[:-1], vals[first[1:]]), peak[:-1])
    return peak
