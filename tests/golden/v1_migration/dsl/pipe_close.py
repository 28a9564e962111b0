"""P.pipe inside a workload: a sender loop that closes its channel and a consumer."""

from pto_wsp import (
    Channel,
    DenseDyn,
    DispatchPolicy,
    DType,
    In,
    Out,
    P,
    Tensor,
    Tile,
    consume,
    kernel,
    send,
    workload,
)

X = Tensor(shape=(6, 16, 16), dtype=DType.F32, name="X")
mid = Tensor(shape=(16, 16), dtype=DType.F32, name="mid")
Y = Tensor(shape=(6, 16, 16), dtype=DType.F32, name="Y")
steps = DenseDyn(6)
ch = Channel("ch", depth=3)


@kernel
def stage_a(x: In[Tile[16, 16, DType.F32]], m: Out[Tile[16, 16, DType.F32]]): ...


@kernel
def stage_b(m: In[Tile[16, 16, DType.F32]], y: Out[Tile[16, 16, DType.F32]]): ...


@workload
def piped():
    with P.pipe(depth=3):
        for i in P.seq(steps):
            send(ch, stage_a[i](x=X[i], m=mid))
        with consume(ch) as t:
            stage_b[t](m=mid, y=Y[t])


program = piped().dispatch(DispatchPolicy.work_steal()).streams(2).compile(target="cpu_sim")
