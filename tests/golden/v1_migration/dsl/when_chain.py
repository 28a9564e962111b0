"""P.when / P.when / P.otherwise inside P(batch, tiles), round-robin dispatch, batched timing."""

from pto_wsp import (
    Dense,
    DenseDyn,
    DispatchPolicy,
    DType,
    In,
    Out,
    P,
    Tensor,
    Tile,
    TimingPolicy,
    kernel,
    workload,
)

X = Tensor(shape=(4, 4, 16, 16), dtype=DType.F32, name="X")
Y = Tensor(shape=(4, 4, 16, 16), dtype=DType.F32, name="Y")
batch = DenseDyn(4)
tiles = Dense[4]


@kernel
def small(x: In[Tile[16, 16, DType.F32]], y: Out[Tile[16, 16, DType.F32]]): ...


@kernel
def large(x: In[Tile[16, 16, DType.F32]], y: Out[Tile[16, 16, DType.F32]]): ...


@workload
def tiered():
    for b, t in P(batch, tiles):
        with P.when(b < 1):
            small[b, t](x=X[b, t], y=Y[b, t])
        with P.when(b < 3):
            large[b, t](x=X[b, t], y=Y[b, t])
        with P.otherwise():
            small[b, t](x=X[b, t], y=Y[b, t])
            large[b, t](x=Y[b, t], y=Y[b, t])
        with P.when(t == 0):
            small[b, t](x=Y[b, t], y=X[b, t])


program = (
    tiered()
    .dispatch(DispatchPolicy.round_robin(2))
    .timing(TimingPolicy.batched(4))
    .compile(target="cpu_sim")
)
