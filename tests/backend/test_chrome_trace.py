"""The Chrome / Perfetto trace export checked for its structure, not against a golden file.

What a viewer needs: a ``traceEvents`` list of metadata ("M") and complete ("X") events with their
required fields; one complete event per task of the run; one ``thread_name`` row per lane — every
configured worker, the idle ones too — and every task on one of those rows.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pto_wsp import DispatchPolicy, In, Out, P, Tensor, kernel, workload
from pto_wsp.runtime.trace import TRACE_DTYPE, chrome_trace, save_chrome_trace

# Fields every event of a kind carries, with their JSON types.
REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "M": {"ph": str, "pid": int, "tid": int, "name": str, "args": dict},
    "X": {"ph": str, "pid": int, "tid": int, "name": str, "ts": (int, float),
          "dur": (int, float), "args": dict},
}  # fmt: skip
X_ARGS = {"task": int, "stream": int, "idx": list, "start_cycle": int, "end_cycle": int}


def check_structure(data: dict[str, Any], trace: np.ndarray, num_workers: int) -> list[dict]:
    """Asserts the export's structure for ``trace`` of a run on ``num_workers`` workers; returns
    the complete events (after a JSON round trip, as a viewer reads them)."""
    data = json.loads(json.dumps(data))
    assert isinstance(data["traceEvents"], list) and data["displayTimeUnit"] in ("ns", "ms")
    events = data["traceEvents"]
    assert set(Counter(e["ph"] for e in events)) == ({"M", "X"} if len(trace) else {"M"})
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
        assert e["args"]["end_cycle"] >= e["args"]["start_cycle"]
    return xs


def test_structure_of_a_hand_made_trace() -> None:
    tr = np.zeros(3, dtype=TRACE_DTYPE)
    for n, (w, s, e) in enumerate([(0, 0, 10), (2, 0, 30), (0, 10, 25)]):
        tr[n] = (n, n % 2, w, -1, s, e, n, -1, -1, -1)
    xs = check_structure(chrome_trace(tr, ["a", "b"], 2000.0, num_workers=4), tr, 4)
    by_task = {e["args"]["task"]: e for e in xs}
    assert (by_task[1]["name"], by_task[1]["tid"]) == ("b", 2)
    # cycles x ns_per_cycle / 1000 = microseconds; the exact cycles stay in args
    assert (by_task[2]["ts"], by_task[2]["dur"]) == (pytest.approx(20.0), pytest.approx(30.0))
    assert by_task[0]["args"]["idx"] == [0]
    # Without the configured count only the workers that ran something get a row.
    thread_rows = [e for e in chrome_trace(tr)["traceEvents"] if e["name"] == "thread_name"]
    assert sorted(e["tid"] for e in thread_rows) == [0, 2]


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

    program = pair().compile(target="cpu_sim")
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
