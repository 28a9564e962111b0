"""combine and sequential over workload calls (one workload used twice)."""

from pto_wsp import (
    Dense,
    DispatchPolicy,
    DType,
    In,
    Out,
    P,
    Tensor,
    Tile,
    combine,
    kernel,
    sequential,
    workload,
)

A = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="A")
B = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="B")
C = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="C")
tiles = Dense[4]


@kernel
def k1(a: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]): ...


@workload
def first():
    for i in P(tiles):
        k1[i](a=A[i], b=B[i])


@workload
def second():
    for i in P(tiles):
        k1[i](a=B[i], b=C[i])


layer = combine(first(), second())
pipeline = sequential(layer, first())
program = pipeline.dispatch(DispatchPolicy.round_robin(3)).compile(target="cpu_sim")
