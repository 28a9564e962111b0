"""Attention with variable lengths: spec §8.1 with concrete numpy tensors.

Runs standalone (``python app/projects/samples/attention_varlen.py``), under ``pto-wsp ir`` and as
the bundled sample of ``python -m app``. Per batch b and head h, one ``attn_kernel`` task reads
``Q[b, h]``, ``K[b]`` and ``V[b]`` and writes ``O[b, h]``; tasks of one batch share a worker
(affinity) and heads alternate between two streams.
"""

from __future__ import annotations

import numpy as np

from pto_wsp import (
    Dense,
    DenseDyn,
    DispatchPolicy,
    In,
    Out,
    P,
    Tensor,
    TimingPolicy,
    kernel,
    workload,
)

# Data
batch_size = 4
num_heads = 8
seq_lens = [512, 2048, 8192, 32768]
seq, head_dim = 16, 16

rng = np.random.default_rng(0)
Q = Tensor(rng.standard_normal((batch_size, num_heads, seq, head_dim), dtype=np.float32), name="Q")
K = Tensor(rng.standard_normal((batch_size, seq, head_dim), dtype=np.float32), name="K")
V = Tensor(rng.standard_normal((batch_size, seq, head_dim), dtype=np.float32), name="V")
O = Tensor(np.zeros((batch_size, num_heads, seq, head_dim), dtype=np.float32), name="O")  # noqa: E741

# Axes
batch = DenseDyn(batch_size)
heads = Dense[num_heads]


# Kernel: empty body, cost from the default cycle model (DESIGN.md §2)
@kernel
def attn_kernel(Q: In[Tensor], K: In[Tensor], V: In[Tensor], O: Out[Tensor]): ...  # noqa: E741


# Workload (@workload + P namespace)
@workload
def attention(batch, heads):
    for b, h in P(batch, heads):
        attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])


# Schedule (combinator style)
schedule = (
    attention(batch, heads)
    .dispatch(DispatchPolicy.affinity(lambda t: t.get("batch")))
    .streams(2)
    .stream_by(lambda t: t.get("head") % 2)
    .timing(TimingPolicy.immediate)
)

program = schedule.compile()

if __name__ == "__main__":
    program.execute()
    program.synchronize()
    print(program.stats)
