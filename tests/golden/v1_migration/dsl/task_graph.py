"""task_graph policies: explicit deps, fifo ready order, threshold start, no trace."""

from pto_wsp import (
    Dense,
    Deps,
    DType,
    In,
    InOut,
    P,
    ReadyPolicy,
    StartPolicy,
    Tensor,
    Tile,
    TracePolicy,
    kernel,
    workload,
)

A = Tensor(shape=(4, 4, 16, 16), dtype=DType.F32, name="A")
acc = Tensor(shape=(4, 16, 16), dtype=DType.F32, name="acc")
rows = Dense[4]
cols = Dense[4]


@kernel
def accumulate(a: In[Tile[16, 16, DType.F32]], acc: InOut[Tile[16, 16, DType.F32]]): ...


@workload
def reduce_rows():
    for r in P(rows):
        for c in P.seq(cols):
            accumulate[r, c](a=A[r, c], acc=acc[r])


program = (
    reduce_rows()
    .task_graph(
        deps=Deps.infer("bounding"),
        ready=ReadyPolicy.fifo(),
        start=StartPolicy.threshold(4),
        trace=TracePolicy.none(),
    )
    .compile(target="cpu_sim")
)
