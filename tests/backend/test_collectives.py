"""Layouts and collectives over the mesh on cpu_sim (docs/semantics.md, "Layouts and collectives").

Each mesh of ``spatial_map`` gets ONE workload holding every collective of the matrix (kind x
reduction x dtype), so the whole matrix costs one C++ build per mesh. The expected values come
from the definitions, written here independently of the implementation: a dimension sharded
over a mesh axis of m coordinates is m equal blocks; allreduce folds the blocks along each
sharding axis (ascending) and gives every block the result; reduce_scatter folds the partial
blocks into V; allgather and relayout keep the values. Folds are left to right, so even f16
results are bit-exact. Cycle counts follow the cost model with the default table (hop 16,
link 1, elementwise 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from pto_wsp import (
    Dense,
    DispatchPolicy,
    In,
    MemLayout,
    Out,
    P,
    ScheduleError,
    Tensor,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    TypeCheckError,
    allgather,
    allreduce,
    kernel,
    pto,
    reduce_scatter,
    relayout,
    workload,
)
from pto_wsp.runtime.trace import by_task

R = TensorReplicate()
OPS = ("sum", "prod", "max", "min")
DTYPES = (np.float32, np.float16, np.int32)
FOLD = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
HOP, LINK = 16, 1


@kernel
def matmul_k(a: In[Tensor], b: In[Tensor], c: Out[Tensor]):
    pto.store(c, pto.matmul(a, b))


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.load(x))


def run(w, tiles: int):
    program = w.dispatch(DispatchPolicy.round_robin(tiles)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


# ---- the definitions --------------------------------------------------------------------------


def fold(blocks: list[np.ndarray], op: str) -> np.ndarray:
    acc = blocks[0].copy()
    for b in blocks[1:]:
        acc = FOLD[op](acc, b).astype(acc.dtype)
    return acc


def ref_allreduce(x: np.ndarray, dist: tuple, grid: tuple, op: str) -> np.ndarray:
    out = x.copy()
    for axis in sorted(a for a in dist if a >= 0):
        d, m = dist.index(axis), grid[axis]
        out = np.concatenate([fold(np.split(out, m, axis=d), op)] * m, axis=d)
    return out


def ref_reduce_scatter(x: np.ndarray, s: int, m: int, op: str) -> np.ndarray:
    return fold(np.split(x, m, axis=s), op)


def block_elems(shape: tuple, dist: tuple, grid: tuple) -> int:
    return math.prod(n // grid[a] if a >= 0 else n for n, a in zip(shape, dist, strict=True))


def cost_allreduce(shape, dist, grid) -> int:
    b = block_elems(shape, dist, grid)
    total = 0
    for a in sorted(a for a in dist if a >= 0):
        m = grid[a]
        total += 2 * (m - 1) * (HOP + LINK * math.ceil(b / m)) + (m - 1) * math.ceil(b / m)
    return total


def cost_allgather(shape, dist, grid, dim) -> int:
    m = grid[dist[dim]]
    return (m - 1) * (HOP + LINK * block_elems(shape, dist, grid))


def cost_reduce_scatter(shape, dist, grid, axis) -> int:
    m, b = grid[axis], block_elems(shape, dist, grid)
    return (m - 1) * (HOP + LINK * math.ceil(b / m) + math.ceil(b / m))


def values(shape: tuple, dtype, op: str, rng: np.random.Generator) -> np.ndarray:
    if op == "prod":  # stay well inside every dtype's range
        return rng.choice(
            [-2, -1, 1, 2] if dtype == np.int32 else [-1.5, -0.5, 0.5, 1.25, 2.0], size=shape
        ).astype(dtype)
    if dtype == np.int32:
        return rng.integers(-50, 50, size=shape).astype(dtype)
    return (rng.standard_normal(shape) * 4).astype(dtype)


def dist_of(layout: TensorLayout) -> tuple:
    return tuple(-1 if isinstance(d, TensorReplicate) else d.mesh_axis for d in layout.dist)


# ---- one workload per mesh with the whole matrix ----------------------------------------------


@dataclass
class Case:
    label: str
    kind: str
    result: Tensor
    expected: np.ndarray
    cycles: int | None  # expected gang cycles (None: not asserted here)


# Per mesh: (allreduce shape, dist), (reduce_scatter shape, dist, dim, mesh axis),
# (allgather shape, dist, dim), (relayout shape, from dist, to dist).
PLANS = {
    (4,): dict(
        ar=((8, 6), (0, -1)),
        rs=((8, 8), (0, -1), 1, 0),
        ag=((8, 6), (0, -1), 0),
        rl=((8, 8), (0, -1), (-1, 0)),
    ),
    (2, 2): dict(
        ar=((4, 6), (0, 1)),
        rs=((4, 6), (-1, 1), 0, 1),
        ag=((4, 6), (0, 1), 1),
        rl=((4, 6), (0, 1), (1, 0)),
    ),
    (2, 3): dict(
        ar=((6, 4), (1, 0)),
        rs=((6, 6), (1, -1), 1, 1),
        ag=((6, 4), (1, 0), 0),
        rl=((4, 6), (0, -1), (-1, 1)),
    ),
}


def layout(dist: tuple) -> TensorLayout:
    return TensorLayout(tuple(R if a < 0 else TensorShard(a) for a in dist))


def build(grid: tuple) -> tuple:
    rng = np.random.default_rng(sum(grid) * 7 + len(grid))
    plan = PLANS[grid]
    cases: list[Case] = []
    inputs = []

    def source(shape, dist, dtype, op, label):
        x = Tensor(values(shape, dtype, op, rng), layout=layout(dist), name=label)
        inputs.append(x)
        return x

    @workload
    def matrix():
        for dtype in DTYPES:
            tag = np.dtype(dtype).name
            shape, dist = plan["ar"]
            for op in OPS:
                x = source(shape, dist, dtype, op, f"ar_{op}_{tag}")
                y = allreduce(x, op=op)
                want = ref_allreduce(x.data, dist, grid, op)
                cases.append(Case(x.name, "allreduce", y, want, cost_allreduce(shape, dist, grid)))
            shape, dist, dim, axis = plan["rs"]
            for op in OPS:
                x = source(shape, dist, dtype, op, f"rs_{op}_{tag}")
                y = reduce_scatter(x, dim=dim, op=op, mesh_axis=axis, mesh_size=grid[axis])
                want = ref_reduce_scatter(x.data, dist.index(axis), grid[axis], op)
                cycles = cost_reduce_scatter(shape, dist, grid, axis)
                cases.append(Case(x.name, "reduce_scatter", y, want, cycles))
            shape, dist, dim = plan["ag"]
            x = source(shape, dist, dtype, "sum", f"ag_{tag}")
            cycles = cost_allgather(shape, dist, grid, dim)
            cases.append(Case(x.name, "allgather", allgather(x, dim=dim), x.data.copy(), cycles))
            shape, src, dst = plan["rl"]
            x = source(shape, src, dtype, "sum", f"rl_{tag}")
            y = relayout(x, to=layout(dst))
            cases.append(Case(x.name, "relayout", y, x.data.copy(), None))

    program = run(matrix().spatial_map(grid=grid), math.prod(grid))
    return program, cases


@pytest.fixture(scope="module", params=list(PLANS), ids=lambda g: "grid" + "x".join(map(str, g)))
def matrix_run(request):
    grid = request.param
    program, cases = build(grid)
    return grid, program, cases


def test_every_collective_computes_its_definition(matrix_run):
    grid, _program, cases = matrix_run
    assert len(cases) == len(DTYPES) * (2 * len(OPS) + 2)
    for c in cases:
        assert c.result.shape == c.expected.shape, c.label
        assert c.result.data.dtype == c.expected.dtype, c.label
        np.testing.assert_array_equal(c.result.data, c.expected, err_msg=f"{c.kind} {c.label}")


def test_result_layouts_follow_the_collective(matrix_run):
    grid, _program, cases = matrix_run
    plan = PLANS[grid]
    for c in cases:
        dist = dist_of(c.result.layout)
        if c.kind == "allreduce":
            assert dist == plan["ar"][1]
        elif c.kind == "reduce_scatter":
            _shape, src, dim, axis = plan["rs"]
            want = [-1 if a == axis else a for a in src]
            want[dim] = axis
            assert dist == tuple(want)
        elif c.kind == "allgather":
            _shape, src, dim = plan["ag"]
            assert dist == tuple(-1 if i == dim else a for i, a in enumerate(src))
        else:
            assert dist == plan["rl"][2]


def test_each_collective_is_one_gang_on_every_tile(matrix_run):
    grid, program, cases = matrix_run
    tiles = math.prod(grid)
    trace = by_task(program.trace)
    names = program.kernel_names
    assert len(trace) == tiles * len(cases)
    assert names == [c.kind for c in cases]  # no kernels: one pseudo-kernel per collective
    for i, c in enumerate(cases):
        gang = trace[i * tiles : (i + 1) * tiles]
        assert set(gang["kernel"]) == {i}
        assert sorted(gang["worker"]) == list(range(tiles))
        assert len(set(gang["start"])) == 1 and len(set(gang["end"])) == 1
        if c.cycles is not None:
            assert int(gang["end"][0] - gang["start"][0]) == c.cycles, (c.kind, c.label)


# ---- cost model details ---------------------------------------------------------------------


def gang_cycles(program) -> list[int]:
    trace = by_task(program.trace)
    out = []
    for k in np.unique(trace["kernel"]):
        rows = trace[trace["kernel"] == k]
        out.append(int(rows["end"][0] - rows["start"][0]))
    return out


def test_relayout_costs_the_data_each_tile_receives():
    x = Tensor(np.arange(32, dtype=np.float32).reshape(8, 4), layout=layout((0, -1)), name="x")
    y = Tensor(np.arange(24, dtype=np.float32).reshape(4, 6), layout=layout((0, -1)), name="y")

    @workload
    def moves():
        relayout(x, to=TensorLayout.default(2))  # 24 received, up to 3 hops away
        relayout(x, to=layout((0, -1)))  # nothing moves
        relayout(allgather(x, dim=0), to=layout((0, -1)))  # every tile already holds its rows

    @workload
    def moves_2d():
        relayout(y, to=layout((-1, 1)))  # each tile: 2 rows held, needs 4 rows x 2 cols

    assert gang_cycles(run(moves().spatial_map(grid=(4,)), 4)) == [
        HOP * 3 + 24,
        0,
        3 * (HOP + 8),  # the allgather
        0,
    ]
    # grid (2, 3): tile (r, c) holds rows 2r..2r+1 and wants all 4 rows of columns 2c..2c+1:
    # 8 elements, 4 of them held, the others 1 hop away.
    assert gang_cycles(run(moves_2d().spatial_map(grid=(2, 3)), 6)) == [HOP * 1 + 4]


def test_a_new_cost_table_changes_collective_cycles_without_rebuild():
    x = Tensor(np.ones((8, 4), np.float32), layout=layout((0, -1)), name="x")

    @workload
    def one():
        allreduce(x)

    program = run(one().spatial_map(grid=(4,)), 4)
    b = 8  # local block 2 x 4; each ring step moves ceil(8 / 4) = 2 elements
    assert gang_cycles(program) == [2 * 3 * (HOP + 2) + 3 * 2]
    program.runner.set_cost_table({"hop": 4.0, "link": 3.0, "ops": {"add": 5.0}})
    program.execute()
    program.synchronize()
    assert gang_cycles(program) == [2 * 3 * (4 + 3 * 2) + 5 * 3 * 2]
    assert b // 4 == 2


# ---- collectives among tasks --------------------------------------------------------------------


def test_tensor_parallel_matmul_equals_x_at_w():
    """X sharded on K over 4 tiles; tile t computes X_t @ W_t into block t of the partial sums;
    allreduce sums the blocks; a kernel reads the reduced block."""
    m, M, Kb, N = 4, 8, 4, 8
    rng = np.random.default_rng(7)
    xa = rng.standard_normal((M, m * Kb)).astype(np.float32)
    wa = rng.standard_normal((m * Kb, N)).astype(np.float32)
    X = Tensor(xa, layout=layout((-1, 0)), name="X")
    W = Tensor(wa, layout=layout((0, -1)), name="W")
    partial = Tensor(np.zeros((m * M, N), np.float32), layout=layout((0, -1)), name="partial")
    out = Tensor(np.zeros((M, N), np.float32), name="out")
    tiles = Dense[m]
    reduced = []

    @workload
    def tp():
        for t in P(tiles):
            matmul_k[t](
                a=X[:, t * Kb : (t + 1) * Kb],
                b=W[t * Kb : (t + 1) * Kb, :],
                c=partial[t * M : (t + 1) * M, :],
            )
        total = allreduce(partial)
        reduced.append(total)
        copy_k(x=total[2 * M : 3 * M, :], y=out)

    program = run(tp().spatial_map(grid=(m,)), m)
    np.testing.assert_allclose(out.data, xa @ wa, rtol=1e-5, atol=1e-5)
    products = [xa[:, t * Kb : (t + 1) * Kb] @ wa[t * Kb : (t + 1) * Kb] for t in range(m)]
    np.testing.assert_allclose(partial.data, np.concatenate(products), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(reduced[0].data, np.tile(fold(products, "sum"), (m, 1)), rtol=1e-5)

    assert program.kernel_names == ["matmul_k", "copy_k", "allreduce"]
    trace = by_task(program.trace)
    mm, gang, tail = trace[:m], trace[m : 2 * m], trace[2 * m :]
    assert set(mm["kernel"]) == {0} and set(gang["kernel"]) == {2} and list(tail["kernel"]) == [1]
    assert sorted(gang["worker"]) == list(range(m))
    start, end = int(gang["start"][0]), int(gang["end"][0])
    assert start >= int(mm["end"].max())  # reads every partial product
    assert end - start == cost_allreduce((m * M, N), (0, -1), (m,))
    assert int(tail["start"][0]) >= end  # the reader of the result waits for the collective


# ---- errors -----------------------------------------------------------------------------------


def test_collective_without_a_mesh_is_a_schedule_error():
    x = Tensor(np.ones((8, 4), np.float32), layout=layout((0, -1)), name="x")

    @workload
    def no_mesh():
        allreduce(x)  # the line the error names

    with pytest.raises(ScheduleError, match=r"add \.spatial_map\(grid=\.\.\.\)") as e:
        no_mesh().compile(target="cpu_sim")
    assert e.value.loc.file == __file__
    assert f"allreduce at {__file__}:{e.value.loc.line}" in e.value.message
    assert "allreduce(x)" in e.value.loc.text


def test_indivisible_extent_is_a_type_error_at_compile():
    x = Tensor(np.ones((6, 4), np.float32), layout=layout((0, -1)), name="x")

    @workload
    def uneven():
        allgather(x, dim=0)

    with pytest.raises(
        TypeCheckError, match="dimension 0 of tensor x has extent 6, not divisible by the 4"
    ) as e:
        uneven().spatial_map(grid=(4,)).compile(target="cpu_sim")
    assert e.value.loc.file == __file__ and "allgather(x, dim=0)" in e.value.loc.text


def test_reduce_scatter_mesh_size_must_match_the_mesh():
    x = Tensor(np.ones((8, 4), np.float32), layout=layout((0, -1)), name="x")

    @workload
    def scatter():
        reduce_scatter(x, dim=1, mesh_size=2)

    with pytest.raises(TypeCheckError, match="mesh axis 0 of spatial_map.* has 4 coordinates"):
        scatter().spatial_map(grid=(4,)).compile(target="cpu_sim")


def test_layout_errors_at_the_call():
    r = Tensor(np.ones((8, 4), np.float32), name="r")
    a = Tensor(np.ones((8, 4), np.float32), layout=layout((0, -1)), name="a")
    b = Tensor(np.ones((8, 4), np.float32), layout=layout((1, -1)), name="b")

    @workload
    def replicated_allreduce():
        allreduce(r)

    @workload
    def gather_replicated():
        allgather(a, dim=1)

    @workload
    def mixed():
        copy_k(x=a, y=b)

    with pytest.raises(TypeCheckError, match="'r' is fully replicated.*no partial values") as e:
        replicated_allreduce()
    assert e.value.loc.file == __file__ and "allreduce(r)" in e.value.loc.text
    with pytest.raises(TypeCheckError, match="dimension 1 of tensor 'a' is not sharded") as e:
        gather_replicated()
    assert "allgather(a, dim=1)" in e.value.loc.text
    with pytest.raises(
        TypeCheckError, match=r"x \(.*\) and y \(.*\).*dimension 0: S\(0\) vs S\(1\)"
    ):
        mixed()


def test_collective_inside_a_pipeline_is_a_compile_error():
    from pto_wsp import Channel, CompileError, consume, send

    x = Tensor(np.ones((8, 4), np.float32), layout=layout((0, -1)), name="x")
    y = Tensor(np.zeros((8, 4), np.float32), name="y")
    ch = Channel(depth=2)

    @workload
    def piped():
        with P.pipe():
            send(ch, copy_k(x=x, y=y))
            with consume(ch) as _item:
                allreduce(x)

    with pytest.raises(CompileError, match="allreduce inside a pipeline") as e:
        piped().spatial_map(grid=(4,)).compile(target="cpu_sim")
    assert e.value.loc.file == __file__


def test_layout_constructor_errors_name_the_users_line():
    # Review of issue 8: the dataclass-generated __init__ made these point at "<string>:4".
    with pytest.raises(TypeCheckError, match=r"mesh_axis must be an int >= 0") as e:
        TensorShard(-1)
    assert e.value.loc is not None and e.value.loc.file == __file__
    with pytest.raises(TypeCheckError, match=r"dist\[0\] must be TensorReplicate") as e:
        TensorLayout(("rows",))
    assert e.value.loc is not None and e.value.loc.file == __file__


# ---- memory layouts (MemLayout) ---------------------------------------------------------------


def test_relayout_to_col_major_over_the_mesh_then_kernels_read_and_write_it():
    rng = np.random.default_rng(11)
    a = rng.standard_normal((8, 6)).astype(np.float32)
    x = Tensor(a.copy(), layout=layout((0, -1)), name="x")
    out = Tensor(np.zeros((8, 6), np.float32), name="out")
    fmem = MemLayout.col_major((8, 6))
    f_out = Tensor(shape=(8, 6), dtype="f32", layout=TensorLayout((R, R), fmem), name="f_out")
    padded = MemLayout(strides=(8, 1))
    results = []

    @workload
    def convert():
        y = relayout(x, to=TensorLayout((R, R), fmem))
        z = relayout(y, to=TensorLayout((TensorShard(0), R), padded))
        results.extend([y, z])
        copy_k(x=y, y=out)  # a kernel reads the F-ordered result
        copy_k(x=z, y=f_out)  # ... and writes an F-ordered tensor

    run(convert().spatial_map(grid=(2,)), 2)
    y, z = results
    assert y.data.flags.f_contiguous and not y.data.flags.c_contiguous
    assert tuple(s // 4 for s in z.data.strides) == (8, 1)
    np.testing.assert_array_equal(y.data, a)
    np.testing.assert_array_equal(z.data, a)
    np.testing.assert_array_equal(out.data, a)
    assert f_out.data.flags.f_contiguous
    np.testing.assert_array_equal(f_out.data, a)


def test_a_swizzled_memory_layout_is_rejected_at_compile_naming_tensor_and_target():
    mem = MemLayout.row_major((8, 4), swizzle="xor8")
    s = Tensor(shape=(8, 4), dtype="f32", layout=TensorLayout((R, R), mem), name="s")
    out = Tensor(np.zeros((8, 4), np.float32), name="out")

    @workload
    def swizzled():
        copy_k(x=s, y=out)  # the line the error names

    for target in ("cpu_sim", "ascend_npu"):
        with pytest.raises(ScheduleError) as e:
            swizzled().compile(target=target)
        msg = e.value.message
        assert "MemLayout(swizzle) on tensor 's'" in msg and "'xor8'" in msg
        assert f"target {target!r}" in msg
        assert e.value.loc.file == __file__ and "copy_k(x=s, y=out)" in e.value.loc.text
