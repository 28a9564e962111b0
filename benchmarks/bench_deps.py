"""Cost of run-time dependency inference per task on cpu_sim (docs/semantics.md, "Regions").

Three workloads whose accesses need run-time tracking (each tracked tensor has two access sites):
  contiguous  rows of a matrix written by one kernel and read by another,
  columns     column tiles (strided: one run per row) written and re-read over many sweeps,
  halo        column tiles read with a one-column halo on each side (overlapping regions).
Each is compiled three times, under ``Deps.explicit()`` (baseline: no region is declared or
tracked), ``Deps.infer("bounding")`` and ``Deps.infer()`` (exact), and ``execute()`` is timed
(best of --repeat). Kernels have empty bodies, so the time is the driver's enumeration, the
simulator and the region tracking. Prints ns/task and the ratio to the explicit baseline measured
in the same run.

    python benchmarks/bench_deps.py [--tasks 400000] [--repeat 3]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from pto_wsp import Deps, In, Out, P, Tensor, kernel, workload

F32 = np.float32
ROWS = 64  # rows of the column-tile matrices: each strided access has 64 runs
T = 4  # column tile width
TILES = 64  # column tiles per matrix


@kernel
def fill(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def use(x: In[Tensor], y: Out[Tensor]): ...


def contiguous(n_tasks: int) -> Callable[[], object]:
    half = n_tasks // 2
    X, Y, Z = (Tensor(np.zeros((half, 16), F32)) for _ in range(3))

    @workload
    def rows():
        for i in P(half):
            fill[i](x=X[i], y=Y[i])
        for i in P(half):
            use[i](x=Y[i], y=Z[i])

    return rows


def columns(n_tasks: int) -> Callable[[], object]:
    sweeps = max(n_tasks // (2 * TILES), 1)
    X, Y, Z = (Tensor(np.zeros((ROWS, TILES * T), F32)) for _ in range(3))

    @workload
    def cols():
        for s, j in P(sweeps, TILES):
            fill[s, j](x=X[:, j * T : (j + 1) * T], y=Y[:, j * T : (j + 1) * T])
            use[s, j](x=Y[:, j * T : (j + 1) * T], y=Z[:, j * T : (j + 1) * T])

    return cols


def halo(n_tasks: int) -> Callable[[], object]:
    inner = TILES - 2
    sweeps = max(n_tasks // (2 * inner), 1)
    X, Y, Z = (Tensor(np.zeros((ROWS, TILES * T), F32)) for _ in range(3))

    @workload
    def stencil():
        for s, j in P(sweeps, inner):
            fill[s, j](x=X[:, (j + 1) * T : (j + 2) * T], y=Y[:, (j + 1) * T : (j + 2) * T])
            use[s, j](x=Y[:, (j + 1) * T - 1 : (j + 2) * T + 1], y=Z[:, (j + 1) * T : (j + 2) * T])

    return stencil


MODES = (
    ("explicit", Deps.explicit()),
    ("bounding", Deps.infer("bounding")),
    ("infer", Deps.infer()),
)


def ns_per_task(build: Callable[[], object], deps: Deps, repeat: int) -> tuple[float, int]:
    program = build().task_graph(deps=deps).compile(target="cpu_sim")
    best = float("inf")
    for _ in range(repeat):
        program.execute()
        program.synchronize()
        best = min(best, program.stats.execute_time_ms * 1e6 / program.stats.task_count)
    return best, program.stats.task_count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=400_000, help="tasks per workload (about)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'workload':<11} {'deps':<9} {'tasks':>8} {'ns/task':>9} {'vs explicit':>12}")
    for name, make in (("contiguous", contiguous), ("columns", columns), ("halo", halo)):
        build = make(args.tasks)
        base = None
        for mode, deps in MODES:
            ns, n = ns_per_task(build, deps, args.repeat)
            base = ns if base is None else base
            print(f"{name:<11} {mode:<9} {n:>8} {ns:>9.1f} {ns / base:>11.2f}x")


if __name__ == "__main__":
    main()
