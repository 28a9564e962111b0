"""Task regions and dependencies of one task of a 10^6-task run: the cost of a click.

Runs a workload of 10^6 + 10^3 tasks through cpu_sim: ``w[i, j]`` writes element (i, j) of Y for
a 1000 x 1000 grid, then ``r[i]`` reads row i of Y (1000 last writers each) and ``s`` reads all of
Y (10^6 last writers). Then times what the details panel asks when a slice is clicked
(``TaskRegions.regions`` and ``links``): the first question (which evaluates the call sites'
views over all their tasks, once per run) and later ones.

Run: ``python benchmarks/bench_task_regions.py [--n 1000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from pto_wsp import In, Out, P, Tensor, kernel, workload  # noqa: E402
from pto_wsp.runtime.task_regions import TaskRegions  # noqa: E402
from pto_wsp.runtime.task_sites import TaskSites  # noqa: E402


@kernel
def bw(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def br(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def bs(x: In[Tensor], y: Out[Tensor]): ...


def _ms(t0: float) -> str:
    return f"{(time.perf_counter() - t0) * 1e3:8.1f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="grid side (n * n writer tasks)")
    args = ap.parse_args()
    n = args.n
    X = Tensor(np.zeros((n, n), np.float32), name="X")
    Y = Tensor(np.zeros((n, n), np.float32), name="Y")
    Z = Tensor(np.zeros((n, n), np.float32), name="Z")
    S = Tensor(np.zeros((1, 1), np.float32), name="S")

    @workload
    def big():
        for i, j in P(n, n):
            bw[i, j](x=X[i, j : j + 1], y=Y[i, j : j + 1])
        for i in P(n):
            br[i](x=Y[i], y=Z[i])
        bs(x=Y, y=S)

    t0 = time.perf_counter()
    program = big().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    trace = np.asarray(program.trace)
    print(f"{len(trace):,} tasks compiled and run in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    tr = TaskRegions(TaskSites.of_module(program.module), trace)
    print(f"sites from the IR:              {_ms(t0)}")
    task = np.asarray(trace["task"])
    for label, t in (
        ("a writer (first click)", n * n // 2 + 7),
        ("another writer", n * n // 3),
        ("a row reader (n preds)", n * n + n // 2),
        ("the full reader (n^2 preds)", n * n + n),
    ):
        row = int(np.flatnonzero(task == t)[0])
        t0 = time.perf_counter()
        regions = tr.regions(row)
        links = tr.links(row)
        print(
            f"{label:32s}{_ms(t0)}: {len(regions.regions)} regions, {len(links.preds):,} preds, "
            f"{len(links.succs):,} succs{'; ' + '; '.join(links.notes) if links.notes else ''}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
