"""Runtime slots: slot_set_u64 and slot_load_u64 from a tensor view inside a loop."""

import numpy as np

from pto_wsp import (
    Dense,
    DType,
    In,
    Out,
    P,
    Tensor,
    Tile,
    kernel,
    slot_load_u64,
    slot_set_u64,
    workload,
)

counts = Tensor(np.arange(4 * 16 * 16, dtype=np.int32).reshape(4, 16, 16), name="counts")
X = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="X")
Y = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="Y")
tiles = Dense[4]


@kernel
def work(x: In[Tile[16, 16, DType.F32]], y: Out[Tile[16, 16, DType.F32]]): ...


@workload
def slotted():
    slot_set_u64(0, 7)
    for i in P(tiles):
        slot_load_u64(1, counts[i], row=0, col=i)
        work[i](x=X[i], y=Y[i])


program = slotted().compile(target="cpu_sim")
