"""Events: a producer loop records, a consumer loop synchronizes; two loops in order."""

from pto_wsp import (
    Dense,
    DType,
    Event,
    In,
    Out,
    P,
    Tensor,
    Tile,
    kernel,
    record,
    synchronize,
    workload,
)

A = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="A")
B = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="B")
C = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="C")
tiles = Dense[4]
ready = Event("ready")


@kernel
def step(a: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]): ...


@workload
def staged():
    for i in P(tiles):
        step[i](a=A[i], b=B[i])
    record(ready)
    synchronize(ready)
    for j in P.seq(tiles):
        step[j](a=B[j], b=C[j])


program = staged().compile(target="cpu_sim")
