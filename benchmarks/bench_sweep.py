"""Parameter sweep wall time: 32 variants on a pool of 1 vs a pool of one worker per core.

Sweeps a bundled project's parameter (default: the megakernel pipeline's workload frame,
``dispatch_n`` over 1..32, 32 variants) through ``app.model.sweep.run_sweep``, the one loop of
``python -m app.sweep`` and the Sweep dock, on ``app.runner.executors.LocalPool``: once with a
pool of 1 (one variant at a time: the baseline, the same code path) and once with a pool of
``--jobs`` (default: ``os.cpu_count()``). Every variant is exported and run in a worker process,
as the Studio runs it. Prints both wall times (best of ``--repeat``) and their ratio; issue #18's
target is <= 0.6 on 2 cores. Both pools must give the same points, or it fails.

Variants run as a Studio run does: each a fresh fork of the fork server (``pto_wsp`` imported
once, not per variant; ``PTO_WSP_FORK_SERVER=0``: a new interpreter each) whose C++ build is
shared by every variant with the same generated code, whatever folder it runs in (its paths are
source tokens). The first, untimed sweep builds what the variants need; the timed sweeps run in
fresh folders and count the builds they ran (0 when every value is a run-time setting). With
``--workdir DIR`` every sweep reuses DIR's per-variant folders instead. The CPU counts, the
load average and the CPU time of the sweep's process tree are printed: other processes on the
machine slow the pool of N more than the pool of 1 (it wants every core).

    python benchmarks/bench_sweep.py [--project P] [--node ID] [--prop NAME]
                                     [--values 1..32] [--jobs N] [--repeat 1] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.model import io
from app.model.sweep import SweepResult, find_param, parse_values, run_sweep
from app.runner.executors import LocalPool, default_jobs
from app.runner.job import RunJob, worker_environment
from app.runner.warm_worker import ENV_SWITCH
from pto_wsp.backends.cache import cache_root
from pto_wsp.runtime.fork_server import ForkServer, ForkServerError

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"


def builds() -> int:
    """Libraries in the build cache: one per C++ build."""
    return len(list((cache_root() / "v1").glob("*/*")))


def warm_server(tmp: Path) -> ForkServer | None:
    """A fork server with its imports done (as the Studio's is by the time one sweeps), or
    None where it is switched off or cannot run. One per sweep, so that the sweep's CPU time
    (its forks are the server's children) is counted when it is closed and reaped."""
    if os.environ.get(ENV_SWITCH, "1").strip() in ("0", "false", "no", "off"):
        return None
    try:
        server = ForkServer(env=worker_environment()).start()
    except (OSError, ForkServerError):
        return None
    noop = tmp / "ready.py"
    noop.write_text("")
    job = RunJob(noop, tmp / "ready", launcher=server)
    while not job.poll():
        time.sleep(0.01)
    return server


@dataclass
class Measured:
    seconds: float
    cpu_s: float  # user + system CPU of the process tree
    builds: int  # C++ builds the sweep ran
    forks: int  # variants forked from the fork server
    result: SweepResult


def sweep(args: argparse.Namespace, jobs: int) -> Measured:
    doc = io.load(args.project)
    param = find_param(doc, args.node, args.prop)
    param = param.with_values(parse_values(param, args.values))
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        server = warm_server(Path(tmp))
        pool = LocalPool(jobs, launcher=lambda: server)
        where = args.workdir or Path(tmp)
        built = builds()
        forked = server.spawned if server is not None else 0  # the warm-up run
        cpu = os.times()
        began = time.perf_counter()
        result = run_sweep(doc, param, where, start=pool.start, jobs=pool.jobs)
        seconds = time.perf_counter() - began
        forks = server.spawned - forked if server is not None else 0
        if server is not None:
            server.close()  # reaped: its children's CPU time is now ours
        end = os.times()
        cpu_s = sum(end[:4]) - sum(cpu[:4])
        return Measured(seconds, cpu_s, builds() - built, forks, result)


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
    mode = f"reusing {args.workdir}" if args.workdir else "fresh folders"
    print(f"each sweep in {mode}; build cache {cache_root()}")
    first = sweep(args, args.jobs)
    warm = first.result
    n = len(warm.points)
    bad = [p for p in warm.points if not p.ok]
    if bad:
        print(f"error: {len(bad)} of {n} variants did not run: {bad[0].value_text}: {bad[0].error}")  # fmt: skip
        return 1
    print(
        f"{n} variants of {args.project.name} {args.node}.{args.prop}; first sweep (untimed, "
        f"pool of {args.jobs}) {first.seconds:.2f} s, {first.builds} C++ builds, "
        f"{first.forks} forked variants"
    )
    best: dict[int, float] = {}
    for _ in range(max(1, args.repeat)):
        for jobs in (1, args.jobs):
            m = sweep(args, jobs)
            if numbers(m.result) != numbers(warm):
                print(f"error: the pool of {jobs} gave other points than the first sweep")
                return 1
            best[jobs] = min(best.get(jobs, m.seconds), m.seconds)
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"  pool of {jobs:>2}: {m.seconds:7.2f} s ({m.seconds / n * 1e3:6.0f} ms/variant), "
                f"CPU {m.cpu_s:6.2f} s ({m.cpu_s / n * 1e3:5.0f} ms/variant), {m.builds} builds, "
                f"{m.forks}/{n} forked; load after: {load}"
            )
    ratio = best[args.jobs] / best[1]
    print(
        f"pool of {args.jobs} / pool of 1 = {best[args.jobs]:.2f} s / {best[1]:.2f} s = "
        f"{ratio:.2f} (target on 2 cores: <= 0.6)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
