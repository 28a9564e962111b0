"""Parameter sweep wall time: 32 variants on a pool of 1 vs a pool of one worker per core.

Sweeps a bundled project's parameter (default: the megakernel pipeline's workload frame,
``dispatch_n`` over 1..32, 32 variants) through ``app.model.sweep.run_sweep``, the one loop of
``python -m app.sweep`` and the Sweep dock, on ``app.runner.executors.LocalPool``: once with a
pool of 1 (one variant at a time: the baseline, the same code path) and once with a pool of
``--jobs`` (default: ``os.cpu_count()``). Every variant is exported and run in a worker process,
as the Studio runs it. Prints both wall times (best of ``--repeat``) and their ratio; issue #18's
target is <= 0.6 on 2 cores. Both pools must give the same points, or it fails.

A variant's generated C++ names its script's path (the fault messages point at it), so the
build cache serves a variant only when it runs in the same folder again. By default every
sweep runs in a fresh folder and every variant is built: what a user's sweep costs. With
``--workdir DIR`` every sweep reuses DIR's per-variant folders and a first, untimed sweep
builds them, so the timed pools run cached builds only. The CPU counts and the load average
are printed: other processes on the machine slow the pool of N more than the pool of 1 (it
wants every core).

    python benchmarks/bench_sweep.py [--project P] [--node ID] [--prop NAME]
                                     [--values 1..32] [--jobs N] [--repeat 1] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from app.model import io
from app.model.sweep import SweepResult, find_param, parse_values, run_sweep
from app.runner.executors import LocalPool, default_jobs

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"


def sweep(args: argparse.Namespace, jobs: int) -> tuple[float, SweepResult]:
    doc = io.load(args.project)
    param = find_param(doc, args.node, args.prop)
    param = param.with_values(parse_values(param, args.values))
    pool = LocalPool(jobs)
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        where = args.workdir or Path(tmp)
        began = time.perf_counter()
        result = run_sweep(doc, param, where, start=pool.start, jobs=pool.jobs)
        return time.perf_counter() - began, result


def numbers(result: SweepResult) -> list[tuple[str, str, int | None]]:
    return [(p.value_text, p.status, p.total_cycles) for p in result.points]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", type=Path, default=PROJECT)
    ap.add_argument("--node", default="n20")
    ap.add_argument("--prop", default="dispatch_n")
    ap.add_argument("--values", default="1..32")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="reuse these variant folders (cached builds)")
    args = ap.parse_args(argv)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"os.cpu_count() = {os.cpu_count()}, cores this process may use = {default_jobs()}, "
        f"load average (1, 5, 15 min) = {load}"
    )
    mode = f"reusing {args.workdir}: cached builds" if args.workdir else "fresh folders: every variant built"  # fmt: skip
    print(f"each sweep in {mode}")
    warm_s, warm = sweep(args, args.jobs)
    n = len(warm.points)
    bad = [p for p in warm.points if not p.ok]
    if bad:
        print(f"error: {len(bad)} of {n} variants did not run: {bad[0].value_text}: {bad[0].error}")  # fmt: skip
        return 1
    print(f"{n} variants of {args.project.name} {args.node}.{args.prop}; first sweep (untimed, pool of {args.jobs}) {warm_s:.2f} s")  # fmt: skip
    best: dict[int, float] = {}
    for _ in range(max(1, args.repeat)):
        for jobs in (1, args.jobs):
            seconds, result = sweep(args, jobs)
            if numbers(result) != numbers(warm):
                print(f"error: the pool of {jobs} gave other points than the first sweep")
                return 1
            best[jobs] = min(best.get(jobs, seconds), seconds)
            print(f"  pool of {jobs:>2}: {seconds:7.2f} s ({seconds / n * 1e3:6.0f} ms/variant)")
    ratio = best[args.jobs] / best[1]
    print(
        f"pool of {args.jobs} / pool of 1 = {best[args.jobs]:.2f} s / {best[1]:.2f} s = "
        f"{ratio:.2f} (target on 2 cores: <= 0.6)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
