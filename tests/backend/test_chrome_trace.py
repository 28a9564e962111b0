"""The Chrome / Perfetto trace export checked for its structure, not against a golden file.

What a viewer needs: a ``traceEvents`` list of metadata ("M"), complete ("X") and counter ("C")
events with their required fields; one complete event per task of the run; one ``thread_name`` row
per lane — every configured worker, the idle ones too — and every task on one of those rows. The
file is streamed (``write_chrome_trace``): it must parse and say the same as ``chrome_trace()``.
"""

from __future__ import annotations

import json
from collections import Counter
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pto_wsp import DispatchPolicy, In, Out, P, Tensor, kernel, workload
from pto_wsp.runtime.counters import concurrency, utilisation_series
from pto_wsp.runtime.csp_trace import CspTrace
from pto_wsp.runtime.trace import (
    EXPORT_UTILISATION_WINDOWS,
    TRACE_DTYPE,
    chrome_trace,
    chrome_trace_chunks,
    save_chrome_trace,
    write_chrome_trace,
)

# Fields every event of a kind carries, with their JSON types.
REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "M": {"ph": str, "pid": int, "tid": int, "name": str, "args": dict},
    "X": {"ph": str, "pid": int, "tid": int, "name": str, "ts": (int, float),
          "dur": (int, float), "args": dict},
    "C": {"ph": str, "pid": int, "name": str, "ts": (int, float), "args": dict},
}  # fmt: skip
X_ARGS = {"task": int, "idx": list}


def check_structure(data: dict[str, Any], trace: np.ndarray, num_workers: int) -> list[dict]:
    """Asserts the export's structure for ``trace`` of a run on ``num_workers`` workers; returns
    the complete events (after a JSON round trip, as a viewer reads them)."""
    data = json.loads(json.dumps(data))
    assert isinstance(data["traceEvents"], list) and data["displayTimeUnit"] in ("ns", "ms")
    events = data["traceEvents"]
    assert set(Counter(e["ph"] for e in events)) == ({"M", "X", "C"} if len(trace) else {"M"})
    for e in events:
        for name, kind in REQUIRED[e["ph"]].items():
            assert isinstance(e.get(name), kind), (name, e)
    meta = [e for e in events if e["ph"] == "M"]
    assert Counter(e["name"] for e in meta) == {"process_name": 1, "thread_name": num_workers}
    assert all(isinstance(e["args"].get("name"), str) for e in meta)
    threads = [e["tid"] for e in meta if e["name"] == "thread_name"]
    assert sorted(threads) == list(range(num_workers))  # one row per lane, idle lanes included
    xs = [e for e in events if e["ph"] == "X"]
    assert len(xs) == len(trace)  # one event per task
    assert sorted(e["args"]["task"] for e in xs) == sorted(int(t) for t in trace["task"])
    for e in xs:
        assert e["tid"] in threads and e["ts"] >= 0 and e["dur"] >= 0
        for name, kind in X_ARGS.items():
            assert isinstance(e["args"].get(name), kind), (name, e)
        # a stream only on the tasks that ran on one
        assert e["args"].get("stream", 0) >= 0, e
        # exact cycles unless ts/dur are them (1 ns per cycle): both or neither
        assert ("start_cycle" in e["args"]) == ("end_cycle" in e["args"]), e
        if "start_cycle" in e["args"]:
            assert e["args"]["end_cycle"] >= e["args"]["start_cycle"]
    return xs


def test_structure_of_a_hand_made_trace() -> None:
    tr = np.zeros(3, dtype=TRACE_DTYPE)
    for n, (w, s, e) in enumerate([(0, 0, 10), (2, 0, 30), (0, 10, 25)]):
        tr[n] = (n, n % 2, w, -1, s, e, n, -1, -1, -1, 0, 0)
    xs = check_structure(chrome_trace(tr, ["a", "b"], 2000.0, num_workers=4), tr, 4)
    by_task = {e["args"]["task"]: e for e in xs}
    assert (by_task[1]["name"], by_task[1]["tid"]) == ("b", 2)
    # cycles x ns_per_cycle / 1000 = microseconds; the exact cycles stay in args
    assert (by_task[2]["ts"], by_task[2]["dur"]) == (pytest.approx(20.0), pytest.approx(30.0))
    assert by_task[0]["args"]["idx"] == [0]
    # Without the configured count only the workers that ran something get a row.
    thread_rows = [e for e in chrome_trace(tr)["traceEvents"] if e["name"] == "thread_name"]
    assert sorted(e["tid"] for e in thread_rows) == [0, 2]


def test_at_one_ns_per_cycle_ts_and_dur_are_the_exact_cycles() -> None:
    """The export leaves start_cycle/end_cycle out at 1 ns per cycle: ts/dur in ns are them,
    exactly, however large (3 decimals of a microsecond, written from integers)."""
    tr = np.zeros(3, dtype=TRACE_DTYPE)
    spans = [(0, 7), (123_456_789_012, 123_456_789_013), (2**53 - 9, 2**53 - 1)]
    for n, (s, e) in enumerate(spans):
        tr[n] = (n, 0, n, -1, s, e, n, -1, -1, -1, 0, 0)
    text = b"".join(chrome_trace_chunks(tr, ["k"], 1.0))
    xs = [e for e in json.loads(text)["traceEvents"] if e["ph"] == "X"]
    assert b"start_cycle" not in text and len(xs) == 3
    for e, (s, end) in zip(xs, spans, strict=True):
        assert "start_cycle" not in e["args"] and "end_cycle" not in e["args"]
        # decimal text -> Fraction: no float rounding in the check itself
        ts, dur = (Fraction(m) * 1000 for m in _numbers(text, e["args"]["task"]))
        assert (ts, dur) == (s, end - s)


def _numbers(text: bytes, task: int) -> tuple[str, str]:
    """The ts and dur of task ``task``'s X event, as written."""
    import re

    m = re.search(rb'"ts":([0-9.]+),"dur":([0-9.]+),"args":\{"task":%d[,}]' % task, text)
    assert m is not None
    return m.group(1).decode(), m.group(2).decode()


def test_structure_of_an_empty_trace() -> None:
    empty = np.zeros(0, dtype=TRACE_DTYPE)
    check_structure(chrome_trace(empty, num_workers=2), empty, 2)


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


def test_structure_of_a_run_with_idle_workers(tmp_path: Path) -> None:
    # 3 tasks dealt round robin over 6 workers: workers 3, 4 and 5 stay idle.
    X = Tensor(np.zeros((3, 16), np.float32))
    Y = Tensor(np.zeros((3, 16), np.float32))

    @workload
    def grid():
        for i in P(3):
            copy_k[i](x=X[i], y=Y[i])

    program = grid().dispatch(DispatchPolicy.round_robin(6)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    assert program.stats.num_workers == 6 and program.stats.task_count == 3
    assert sorted(set(program.trace["worker"].tolist())) == [0, 1, 2]
    out = tmp_path / "run.json"
    save_chrome_trace(program, out)
    xs = check_structure(json.loads(out.read_text()), program.trace, 6)
    assert {e["name"] for e in xs} == {"copy_k"}


def test_saved_trace_is_priced_by_the_runners_cost_table(tmp_path: Path) -> None:
    # save_chrome_trace reads the time scale from the runner's cost table (Program.ns_per_cycle).
    X = Tensor(np.zeros((2, 16), np.float32))
    Y = Tensor(np.zeros((2, 16), np.float32))

    @workload
    def pair():
        for i in P(2):
            copy_k[i](x=X[i], y=Y[i])

    # 4 workers: both tasks start at 0 (no wait flows) and two lanes stay idle
    program = pair().dispatch(DispatchPolicy.round_robin(4)).compile(target="cpu_sim")
    assert program.ns_per_cycle == 1.0
    program.runner.set_cost_table({"ns_per_cycle": 4.0})
    assert program.ns_per_cycle == 4.0
    program.execute()
    program.synchronize()
    out = tmp_path / "run.json"
    save_chrome_trace(program, out)
    xs = check_structure(json.loads(out.read_text()), program.trace, program.stats.num_workers)
    for e in xs:
        cycles = e["args"]["end_cycle"] - e["args"]["start_cycle"]
        assert e["dur"] == pytest.approx(cycles * 4.0 / 1000)
        assert e["ts"] == pytest.approx(e["args"]["start_cycle"] * 4.0 / 1000)
    assert any(e["dur"] > 0 for e in xs)


def hand_made() -> np.ndarray:
    """Three overlapping tasks: [0, 10) on worker 0, [5, 30) on worker 1, [8, 20) on worker 2."""
    tr = np.zeros(3, dtype=TRACE_DTYPE)
    for n, (w, s, e) in enumerate([(0, 0, 10), (1, 5, 30), (2, 8, 20)]):
        tr[n] = (n, 0, w, -1, s, e, n, 7, -1, -1, 0, 0)
    return tr


def counters(data: dict[str, Any], name: str) -> list[tuple[float, dict]]:
    return [
        (e["ts"], e["args"]) for e in data["traceEvents"] if e["ph"] == "C" and e["name"] == name
    ]


def test_running_tasks_counter_steps_at_every_start_and_end() -> None:
    tr = hand_made()
    data = chrome_trace(tr, ["k"], 1000.0, num_workers=3)  # 1 cycle = 1 us
    steps = counters(data, "running tasks")
    assert steps == [
        (0, {"tasks": 1}), (5, {"tasks": 2}), (8, {"tasks": 3}),
        (10, {"tasks": 2}), (20, {"tasks": 1}), (30, {"tasks": 0}),
    ]  # fmt: skip
    # a task ending where another starts is no step: the count stays 1 at cycle 10
    tr2 = np.zeros(2, dtype=TRACE_DTYPE)
    tr2[0] = (0, 0, 0, -1, 0, 10, -1, -1, -1, -1, 0, 0)
    tr2[1] = (1, 0, 0, -1, 10, 15, -1, -1, -1, -1, 0, 0)
    times, running = concurrency(tr2)
    assert times.tolist() == [0, 15] and running.tolist() == [1, 0]


def test_utilisation_counter_is_the_windowed_utilisation() -> None:
    tr = hand_made()  # [0, 10), [5, 30), [8, 20) on 3 workers: busy 10 + 25 + 12 = 47 cycles
    data = chrome_trace(tr, ["k"], 1000.0, num_workers=3)  # 1 cycle = 1 us
    steps = counters(data, "utilisation")
    # The run is 30 cycles, so 30 one-cycle windows (fewer than EXPORT_UTILISATION_WINDOWS):
    # each holds the tasks running in that cycle over 3 workers, in percent; 0 after the end.
    assert [ts for ts, _ in steps] == list(range(31))
    running = [int(((tr["start"] <= c) & (c < tr["end"])).sum()) for c in range(30)]
    expected = [round(100.0 * r / 3, 1) for r in running] + [0.0]
    assert [args["percent"] for _, args in steps] == pytest.approx(expected)
    assert sum(args["percent"] for _, args in steps) / 100.0 * 3 == pytest.approx(47, abs=0.1)
    # The same series the timeline's track draws (pto_wsp.runtime.counters).
    edges, util = utilisation_series(tr, 3, EXPORT_UTILISATION_WINDOWS)
    assert edges.tolist() == list(range(31))
    assert [round(100.0 * u, 1) for u in util] == expected[:-1]


def test_streamed_file_parses_and_equals_the_dict(tmp_path: Path) -> None:
    tr = hand_made()
    out = write_chrome_trace(tmp_path / "t.json", tr, ['k"q'], 2.0, "p \u00e9", num_workers=4)
    with open(out, encoding="utf-8") as fh:
        loaded = json.load(fh)
    assert loaded == chrome_trace(tr, ['k"q'], 2.0, "p \u00e9", num_workers=4)
    xs = check_structure(loaded, tr, 4)
    by_task = {e["args"]["task"]: e for e in xs}
    assert by_task[1]["name"] == 'k"q' and by_task[1]["args"]["idx"] == [1, 7]
    assert by_task[1]["ts"] == pytest.approx(5 * 2.0 / 1000)
    assert by_task[1]["dur"] == pytest.approx(25 * 2.0 / 1000)
    # the same events the per-event dicts of the earlier export had, field for field
    for n, rec in enumerate(tr):
        e = by_task[n]
        assert (e["tid"], e["args"]["start_cycle"], e["args"]["end_cycle"]) == (
            int(rec["worker"]), int(rec["start"]), int(rec["end"]))  # fmt: skip
        assert "stream" not in e["args"]  # on no stream
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]  # no temp file left


def test_indices_with_gaps_and_negative_values_are_valid_json(tmp_path: Path) -> None:
    tr = np.zeros(4, dtype=TRACE_DTYPE)
    tr[0] = (0, 5, 0, 3, 0, 1, -1, -1, -1, -1, 0, 0)  # no indices, an unnamed kernel id
    tr[1] = (1, 0, 0, 0, 1, 2, -1, 4, -1, 9, 0, 0)  # absent indices between present ones
    tr[2] = (2, 0, 1, -1, 2, 3, 123456, 0, 1, 2, 0, 0)
    tr[3] = (3, 0, 1, -1, 3, 3, 0, -1, -1, -1, 0, 0)  # zero duration
    data = json.loads(write_chrome_trace(tmp_path / "g.json", tr, ["a"]).read_text())
    xs = check_structure(data, tr, 2)
    assert [e["args"]["idx"] for e in xs] == [[], [4, 9], [123456, 0, 1, 2], [0]]
    assert [e["name"] for e in xs] == ["kernel 5", "a", "a", "a"]
    assert [e["args"].get("stream") for e in xs] == [3, 0, None, None]
    assert xs[3]["dur"] == 0


def test_channel_occupancy_counters_from_a_csp_trace() -> None:
    occ = np.array(
        [(2, 0, 1), (4, 1, 1), (6, 0, 2), (9, 0, 0)],
        dtype=[("time", "<i8"), ("channel", "<i4"), ("occupancy", "<i4")],
    )
    csp = CspTrace.from_mapping(
        {"processes": ["p"], "channels": ["l2c", "c2s"], "events": [], "process_start": [0],
         "process_end": [10], "occupancy": occ, "waits": np.zeros(0), "task_process": [0, 0, 0]}
    )  # fmt: skip
    data = chrome_trace(hand_made(), ["k"], 1000.0, csp=csp)
    assert counters(data, "channel l2c") == [
        (2, {"slots": 1}),
        (6, {"slots": 2}),
        (9, {"slots": 0}),
    ]
    assert counters(data, "channel c2s") == [(4, {"slots": 1})]
