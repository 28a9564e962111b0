"""Tile-op library vs numpy on the same tiles (DESIGN.md §5).

Prints, per op, nanoseconds per op for the library (run N times inside a compiled C++ loop via
``_core.runtime.time_op``, which is what generated kernels do) and for numpy (a Python loop of N
calls on the same tile with ``out=``), the speed-up, the target and whether it is met. Both are
measured in this process run, because the machines are noisy; each figure is the best of a few
repeats.

The matmul baseline is numpy's BLAS on ONE thread: ``OPENBLAS_NUM_THREADS`` etc. are set to 1
before numpy is imported unless the caller already set them. Run as
``python benchmarks/bench_tile_ops.py [--iterations N] [--repeats R]``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from pto_wsp._core import runtime  # noqa: E402


@dataclass(frozen=True)
class Case:
    """One benchmarked op: our op name and inputs, the numpy equivalent, and the target."""

    label: str
    op: str
    out: np.ndarray
    inputs: list[np.ndarray]
    numpy_call: Callable[[], object]
    target: float  # required speed-up over numpy (ours faster by this factor)


def _numpy_sigmoid(x: np.ndarray, out: np.ndarray) -> None:
    np.negative(x, out=out)
    np.exp(out, out=out)
    np.add(out, 1.0, out=out)
    np.reciprocal(out, out=out)


def build_cases(rng: np.random.Generator) -> list[Case]:
    """The DESIGN.md §5 tile-op rows: 16x128 f32 elementwise/reductions, 64x128 @ 128x64."""
    a = rng.standard_normal((16, 128)).astype(np.float32)
    b = rng.standard_normal((16, 128)).astype(np.float32)
    o = np.empty_like(a)
    rows = np.empty((16, 1), np.float32)
    cols = np.empty((1, 128), np.float32)
    ma = rng.standard_normal((64, 128)).astype(np.float32)
    mb = rng.standard_normal((128, 64)).astype(np.float32)
    mo = np.empty((64, 64), np.float32)
    return [
        Case("add 16x128 f32", "add", o, [a, b], lambda: np.add(a, b, out=o), 5.0),
        Case("mul 16x128 f32", "mul", o, [a, b], lambda: np.multiply(a, b, out=o), 5.0),
        Case(
            "rowsum 16x128 f32",
            "rowsum",
            rows,
            [a],
            lambda: np.sum(a, 1, keepdims=True, out=rows),
            5.0,
        ),
        Case(
            "colsum 16x128 f32",
            "colsum",
            cols,
            [a],
            lambda: np.sum(a, 0, keepdims=True, out=cols),
            5.0,
        ),
        Case("exp 16x128 f32", "exp", o, [a], lambda: np.exp(a, out=o), 2.0),
        Case("tanh 16x128 f32", "tanh", o, [a], lambda: np.tanh(a, out=o), 2.0),
        Case("sigmoid 16x128 f32", "sigmoid", o, [a], lambda: _numpy_sigmoid(a, o), 2.0),
        Case(
            "matmul 64x128@128x64 f32",
            "matmul",
            mo,
            [ma, mb],
            lambda: np.matmul(ma, mb, out=mo),
            0.2,
        ),
    ]


def time_numpy(call: Callable[[], object], iterations: int, repeats: int) -> float:
    """Best-of-`repeats` nanoseconds per call of a Python loop of `iterations` calls."""
    call()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(iterations):
            call()
        best = min(best, (time.perf_counter_ns() - t0) / iterations)
    return best


def time_ours(case: Case, iterations: int, repeats: int) -> float:
    """Best-of-`repeats` nanoseconds per op of a compiled loop of `iterations` ops."""
    return min(
        runtime.time_op(case.op, case.out, case.inputs, [], iterations) for _ in range(repeats)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20000, help="calls per timing loop")
    parser.add_argument("--repeats", type=int, default=5, help="timing loops per figure (best)")
    args = parser.parse_args(argv)

    cases = build_cases(np.random.default_rng(0))
    print(f"{'op':28} {'ours ns':>10} {'numpy ns':>10} {'speed-up':>9} {'target':>7}  met")
    failures = 0
    for case in cases:
        iters = max(1, args.iterations // 20) if case.op == "matmul" else args.iterations
        ours = time_ours(case, iters, args.repeats)
        ref = time_numpy(case.numpy_call, iters, args.repeats)
        speedup = ref / ours
        met = speedup >= case.target
        failures += not met
        print(
            f"{case.label:28} {ours:10.1f} {ref:10.1f} {speedup:8.2f}x {case.target:6.1f}x"
            f"  {'yes' if met else 'NO'}"
        )
    print(f"{len(cases) - failures} of {len(cases)} targets met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
