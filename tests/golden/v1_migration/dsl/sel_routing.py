"""P.sel over a sparse routing axis (MoE), hash dispatch, streams by expert."""

import numpy as np

from pto_wsp import (
    DenseDyn,
    DispatchPolicy,
    DType,
    In,
    Out,
    P,
    Sparse,
    Tensor,
    Tile,
    kernel,
    workload,
)

tokens = Tensor(shape=(4, 16, 32), dtype=DType.F32, name="tokens")
weights = Tensor(shape=(8, 32, 16), dtype=DType.F32, name="weights")
out = Tensor(shape=(4, 8, 16, 16), dtype=DType.F32, name="out")
indptr = Tensor(np.arange(5, dtype=np.int32), name="indptr")
indices = Tensor(np.arange(4, dtype=np.uint32), name="indices")
batch = DenseDyn(4)
routing = Sparse(4, indptr, indices)


@kernel
def expert(
    tokens: In[Tile[16, 32, DType.F32]],
    weights: In[Tile[32, 16, DType.F32]],
    out: Out[Tile[16, 16, DType.F32]],
): ...


@workload
def moe():
    for b in P(batch):
        for e in P.sel(routing[b]):
            expert[b, e](tokens=tokens[b], weights=weights[e], out=out[b, e])


program = (
    moe()
    .dispatch(DispatchPolicy.hash(lambda t: t.get("e")))
    .streams(4)
    .stream_by(lambda t: t.get("e") % 4)
    .compile(target="cpu_sim")
)
