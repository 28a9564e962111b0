"""A ragged axis with per-row lengths, dispatch_by a key, interleaved timing."""

import numpy as np

from pto_wsp import (
    DispatchPolicy,
    DType,
    In,
    Out,
    P,
    Ragged,
    Tensor,
    Tile,
    TimingPolicy,
    kernel,
    workload,
)

lengths = Tensor(np.arange(4, dtype=np.int32), name="lengths")
X = Tensor(shape=(4, 4, 16, 16), dtype=DType.F32, name="X")
Y = Tensor(shape=(4, 4, 16, 16), dtype=DType.F32, name="Y")
rows = Ragged(4, lengths)


@kernel
def scale(x: In[Tile[16, 16, DType.F32]], y: Out[Tile[16, 16, DType.F32]]): ...


@workload
def ragged():
    for r in P(rows):
        scale[r](x=X[r, 0], y=Y[r, 0])


program = (
    ragged()
    .dispatch(DispatchPolicy.dispatch_by(lambda t: t.get("r") % 2))
    .timing(TimingPolicy.interleaved(2))
    .compile(target="cpu_sim")
)
