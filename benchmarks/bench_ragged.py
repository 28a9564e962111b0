"""Ragged (variable-length) attention with ~10^5 tasks on cpu_sim.

Each batch row b has lengths[b] query tiles; every (b, t) task runs a real softmax-attention
body on 16x16 f32 tiles (QK^T via a pre-transposed K, rowmax/exp/rowsum normalisation, PV). The
baseline, measured in the same run, is numpy computing the same per-task tiles in a Python loop
(on a sample of tasks, scaled), which is what a Python-driven simulator would have to do at the
very least. Prints tasks/s, the ratio, and checks a sample of results against numpy.

    python benchmarks/bench_ragged.py [--batch 1000] [--mean-len 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pto_wsp import DType, In, Out, P, Ragged, Tensor, Tile, kernel, pto, workload

R = C = 16
F32 = DType.F32


@kernel
def attn_tile(
    q: In[Tile[R, C, F32]],
    kt: In[Tile[C, R, F32]],
    v: In[Tile[R, C, F32]],
    o: Out[Tile[R, C, F32]],
):
    s = pto.matmul(q, kt)
    e = pto.exp(pto.sub(s, pto.rowmax(s)))
    p = pto.div(e, pto.rowsum(e))
    pto.store(o, pto.matmul(p, v))


def reference(q: np.ndarray, kt: np.ndarray, v: np.ndarray) -> np.ndarray:
    s = q @ kt
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)) @ v


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--mean-len", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    B, T = args.batch, 2 * args.mean_len
    lengths = rng.integers(0, T + 1, size=B).astype(np.int64)
    tokens = Ragged(B, Tensor(lengths, name="lengths"))
    Q = Tensor(rng.standard_normal((B, T, R, C), dtype=np.float32), name="Q")
    KT = Tensor(rng.standard_normal((B, C, R), dtype=np.float32) * 0.25, name="KT")
    V = Tensor(rng.standard_normal((B, R, C), dtype=np.float32), name="V")
    O = Tensor(np.zeros((B, T, R, C), np.float32), name="O")

    @workload
    def ragged_attention():
        for b in P(B):
            for t in P(tokens[b]):
                attn_tile[b, t](q=Q[b, t], kt=KT[b], v=V[b], o=O[b, t])

    t0 = time.perf_counter()
    program = ragged_attention().compile(target="cpu_sim")
    compile_s = time.perf_counter() - t0
    n = int(lengths.sum())
    best = 0.0
    for _ in range(args.repeat):
        program.execute()
        program.synchronize()
        assert program.stats.task_count == n
        best = max(best, n / (program.stats.execute_time_ms / 1e3))

    sample = [(int(b), int(t)) for b in rng.integers(0, B, 64) for t in range(int(lengths[b]))][
        :2000
    ]
    t0 = time.perf_counter()
    for b, t in sample:
        reference(Q.data[b, t], KT.data[b], V.data[b])
    base = len(sample) / (time.perf_counter() - t0)
    for b, t in sample[:200]:
        np.testing.assert_allclose(
            O.data[b, t], reference(Q.data[b, t], KT.data[b], V.data[b]), rtol=1e-4, atol=1e-5
        )

    print(f"ragged attention: {n} tasks (batch {B}, lengths 0..{T}), compile {compile_s:.2f} s")
    print(f"numpy per-task baseline:   {base / 1e6:8.3f} M tasks/s")
    print(
        f"cpu_sim execute():         {best / 1e6:8.3f} M tasks/s = {best / base:6.1f}x baseline; "
        f"total_cycles {program.stats.total_cycles}"
    )


if __name__ == "__main__":
    main()
