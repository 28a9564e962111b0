"""Layout collectives: relayout, allgather, reduce_scatter on a 2x2 mesh (spatial_map)."""

from pto_wsp import (
    Dense,
    DType,
    In,
    Out,
    P,
    Tensor,
    TensorLayout,
    Tile,
    allgather,
    kernel,
    reduce_scatter,
    relayout,
    workload,
)

X = Tensor(
    shape=(2, 16, 16),
    dtype=DType.F32,
    layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0),
    name="X",
)
P2 = Tensor(
    shape=(2, 2, 16, 16),
    dtype=DType.F32,
    layout=TensorLayout.sharded(dim=0, rank=4, mesh_axis=0),
    name="P2",
)
Y = Tensor(shape=(2, 16, 16), dtype=DType.F32, name="Y")
Z = Tensor(shape=(2, 16, 16), dtype=DType.F32, name="Z")
kb = Dense[2]


@kernel
def copy(a: In[Tile[16, 16, DType.F32]], b: Out[Tile[16, 16, DType.F32]]): ...


@workload
def shuffle():
    for k in P(kb):
        copy[k](a=X[k], b=Y[k])
    g = allgather(X, dim=0)
    copy(a=g[1], b=Y[1])
    r = relayout(Y, to=TensorLayout.sharded(dim=0, rank=3, mesh_axis=1))
    copy(a=r[0], b=Z[1])
    s = reduce_scatter(P2, dim=1, op="sum", mesh_axis=0, mesh_size=2)
    copy(a=s[0, 0], b=Z[0])


program = shuffle().spatial_map(grid=(2, 2)).compile(target="cpu_sim")
