"""Chrome / Perfetto JSON export of 10^6 tasks: the streamed writer against one dict per event.

Issue #15 item 6 target: 10^6 tasks in <= 1.5 s and <= 150 MB over the run, memory flat in the
task count. A fresh synthetic trace shaped like the simulator's (``TRACE_DTYPE``: 16 workers,
back-to-back tasks of 3 kernels, two loop indices) is exported by

- ``old``: the export as it was before the streamed writer (copied below): one Python dict per
  event, then ``json.dumps`` and one ``atomic_write`` of the whole text;
- ``new``: ``pto_wsp.runtime.trace.write_chrome_trace`` (chunks of numpy columns written as text by the
  extension's row writer, ``json_rows``, streamed through
  ``fileio.atomic_stream``; it also writes the running-tasks counter and the flows from each
  task's gating predecessor, which the old one had not).

Each is measured in its own child process, so the peak RSS growth (``ru_maxrss`` after the export
minus the RSS once the trace is built) of one does not hide the other's; both run in the same
benchmark run and the ratios are printed. Run: ``python benchmarks/bench_chrome_export.py
[--tasks N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pto_wsp.fileio import atomic_write  # noqa: E402
from pto_wsp.runtime.trace import TRACE_DTYPE, kernel_name, write_chrome_trace  # noqa: E402
from pto_wsp.runtime.wait_causes import cause_by_name  # noqa: E402

TARGET_S = 1.5
TARGET_MB = 150.0
KERNELS = ["attn_kernel", "matmul", "softmax_row"]


def synthetic_trace(n: int, workers: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` records on ``workers`` workers, back to back, 3 kernels, 2 loop indices, each
    task gated by the previous one on its worker (so the new export writes n - workers flows)."""
    rng = np.random.default_rng(seed)
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["task"] = np.arange(n)
    tr["kernel"] = rng.integers(0, len(KERNELS), n)
    tr["worker"] = np.arange(n) % workers
    tr["stream"] = -1
    dur = rng.integers(50, 5000, n)
    per_lane = dur.reshape(-1, workers) if n % workers == 0 else dur[:, None]
    ends = np.cumsum(per_lane, axis=0).reshape(-1)
    tr["end"] = ends
    tr["start"] = ends - dur
    tr["idx0"] = np.arange(n) // 64
    tr["idx1"] = np.arange(n) % 64
    tr["idx2"] = tr["idx3"] = -1
    # Every task after a lane's first waited for its worker: one flow per task, the worst case.
    tr["cause"][workers:] = cause_by_name("worker").code
    tr["gate"][workers:] = np.arange(n - workers) if n > workers else []
    return tr


def old_chrome_trace(
    trace: np.ndarray,
    kernel_names: Sequence[str] = (),
    ns_per_cycle: float = 1.0,
    process_name: str = "pto-wsp cpu_sim",
    num_workers: int | None = None,
) -> dict[str, Any]:
    """The export before the streamed writer (pto_wsp/runtime/trace.py up to issue #15 item 6)."""
    us = float(ns_per_cycle) / 1000.0
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": 0, "tid": 0, "name": "process_name", "args": {"name": process_name}}
    ]
    workers = {int(w) for w in np.unique(trace["worker"])} if len(trace) else set()
    workers.update(range(num_workers or 0))
    for w in sorted(workers):
        events.append(
            {"ph": "M", "pid": 0, "tid": w, "name": "thread_name", "args": {"name": f"worker {w}"}}
        )
    names = list(kernel_names)
    idx_cols = [trace[f"idx{i}"] for i in range(4)]
    for n, rec in enumerate(trace):
        idx = [int(c[n]) for c in idx_cols if int(c[n]) >= 0]
        start, end = int(rec["start"]), int(rec["end"])
        events.append(
            {
                "ph": "X",
                "pid": 0,
                "tid": int(rec["worker"]),
                "name": kernel_name(int(rec["kernel"]), names),
                "ts": start * us,
                "dur": (end - start) * us,
                "args": {
                    "task": int(rec["task"]),
                    "stream": int(rec["stream"]),
                    "idx": idx,
                    "start_cycle": start,
                    "end_cycle": end,
                },
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(mode: str, n: int, out: Path) -> dict[str, float]:
    """One export in this process: seconds and peak RSS growth over the RSS with the trace built."""
    trace = synthetic_trace(n)
    base = _rss_mb()
    t0 = time.perf_counter()
    if mode == "old":
        data = old_chrome_trace(trace, KERNELS, 1.0, num_workers=16)
        atomic_write(out, json.dumps(data))
        del data
    else:
        write_chrome_trace(out, trace, KERNELS, 1.0, num_workers=16)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"seconds": seconds, "peak_mb": peak - base, "file_mb": out.stat().st_size / 2**20}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=1_000_000)
    ap.add_argument("--child", choices=("old", "new"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.tasks, Path(args.out))))
        return 0
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-chrome-") as tmp:
        for mode in ("old", "new"):
            out = Path(tmp) / f"{mode}.json"
            cmd = [sys.executable, __file__, "--child", mode, "--tasks", str(args.tasks)]
            proc = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return 1
            results[mode] = json.loads(proc.stdout)
            if mode == "new":  # the streamed file is valid JSON (checked outside the timing)
                with open(out, encoding="utf-8") as fh:
                    events = json.load(fh)["traceEvents"]
                assert sum(e["ph"] == "X" for e in events) == args.tasks
                del events
            out.unlink()
    old, new = results["old"], results["new"]
    print(f"Chrome trace export, {args.tasks} tasks (16 workers)")
    for mode, r in results.items():
        print(
            f"  {mode:<4} {r['seconds']:7.2f} s   peak RSS growth {r['peak_mb']:8.1f} MB   "
            f"file {r['file_mb']:6.1f} MB"
        )
    print(
        f"  ratio old/new: {old['seconds'] / new['seconds']:.1f}x time, "
        f"{old['peak_mb'] / max(new['peak_mb'], 1.0):.1f}x memory"
    )
    ok = new["seconds"] <= TARGET_S and new["peak_mb"] <= TARGET_MB
    print(f"  target (<= {TARGET_S} s, <= {TARGET_MB:.0f} MB): {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
