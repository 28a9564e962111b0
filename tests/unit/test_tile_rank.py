"""The one tile rank rule (cpp_backend/ir/tile.h): a tile has at most 2 dimensions once leading
1s are dropped, and a ``Tile[r, c]`` parameter takes a view of shape (r, c) after dropping
leading 1s. The verifier, the cpu_sim and ascend_npu emitters and the cost model say so in the
same words; nothing flattens a (2, 4, 8) view into an 8x8 tile any more.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import DType, In, Out, P, Tensor, Tile, kernel, pto, workload
from pto_wsp._core import ascend, codegen, ir
from pto_wsp.compiler.cost import DEFAULT_COST_TABLE, kernel_cycles
from pto_wsp.errors import CompileError, TypeCheckError
from pto_wsp.language.shape_rule import (
    TILE_RANK_RULE,
    tile_dims,
    tile_rank_problem,
    tile_shape_problem,
)

E = ir.Expr
N = ir.Node
RULE = "a tile has at most 2 dimensions once leading 1s are dropped"


def _module(param_shape: list[int], load_shape: list[int], tensor_shape: list[int]) -> ir.Module:
    """A traced kernel k(x: in tile, y: out tile) = store(y, load(x)) over X[i], Y[i]."""
    m = ir.Module("m")
    x = m.add_tensor("X", tensor_shape, "f32")
    y = m.add_tensor("Y", tensor_shape, "f32")
    k = ir.Kernel("k", loc="k.py:1")
    k.add_param("x", "in", "tile", param_shape, "f32")
    k.add_param("y", "out", "tile", param_shape, "f32")
    loaded = k.add_op("load", [0], load_shape, "f32", loc="k.py:2")
    k.add_op("store", [1, loaded], [], "", loc="k.py:3")
    m.add_kernel(k)
    i = E.var("i", 1)
    view = [ir.Index.point(i)]
    task = N.task(0, [i], [ir.Arg("x", ir.View(x, view)), ir.Arg("y", ir.View(y, view))])
    m.set_workload(N.parallel_for([("i", 1)], [ir.Axis.dense("rows", tensor_shape[0])], task))
    return m


def _emit_cpu_sim(m: ir.Module) -> None:
    codegen.emit_cpu_sim(m)


def _emit_ascend(m: ir.Module) -> None:
    ascend.emit_ascend_npu(m)


def _cost(m: ir.Module) -> None:
    kernel_cycles(m, DEFAULT_COST_TABLE)


RANK3_PARAM = "kernel @k: parameter 'x' is a tile of shape [2, 4, 8]; " + RULE
RANK3_OP = "kernel @k: op %2 'load' has a result tile of shape [2, 4, 8]; " + RULE


@pytest.mark.parametrize(
    ("param_shape", "load_shape", "message"),
    [([2, 4, 8], [4, 8], RANK3_PARAM), ([4, 8], [2, 4, 8], RANK3_OP)],
    ids=["parameter", "op result"],
)
def test_a_rank_3_tile_is_the_same_error_on_every_path(param_shape, load_shape, message) -> None:
    m = _module(param_shape, load_shape, [3, 4, 8])
    loc = "k.py:1" if "parameter" in message else "k.py:2"
    construct, problem = message.split(": ", 1)
    assert f"{construct} at {loc}: {problem}" in m.verify()  # DSL programs stop at lowering
    with pytest.raises(codegen.CodegenError) as cpu:
        _emit_cpu_sim(m)
    with pytest.raises(codegen.CodegenError) as npu:
        _emit_ascend(m)
    with pytest.raises(CompileError) as cost:
        _cost(m)
    assert cpu.value.args[0] == npu.value.args[0] == message
    assert str(cost.value) == f"{loc}: cost model: {message}"
    assert cpu.value.args[1] == npu.value.args[1] == loc


def test_leading_ones_are_dropped_not_flattened() -> None:
    assert ir.tile_dims([1, 1, 4, 8]) == (4, 8)
    assert ir.tile_dims([1, 8]) == (1, 8) and ir.tile_dims([8]) == (1, 8)
    assert ir.tile_dims([]) == (1, 1) and ir.tile_dims([1, 1, 1]) == (1, 1)
    assert ir.tile_dims([2, 4, 8]) is None and ir.tile_dims([1, 2, 1, 8]) is None


@pytest.mark.parametrize(
    "shape", [[], [8], [1, 8], [8, 1], [4, 8], [1, 1, 4, 8], [1, 1, 1], [2, 4, 8], [1, 2, 1, 8]]
)
def test_the_python_rule_is_the_ir_rule(shape) -> None:
    """shape_rule (the DSL's trace-time check, the Studio's live check) and ir::tile_dims agree,
    and a tile parameter that is no tile reads the same in the Studio as from the verifier."""
    assert tile_dims(shape) == ir.tile_dims(shape)
    assert RULE == TILE_RANK_RULE
    if tile_dims(shape) is not None:
        assert tile_rank_problem(shape) is None
        return
    m = _module(shape, [4, 8], [3, *shape])
    assert f"kernel @k at k.py:1: parameter 'x' {tile_rank_problem(shape)}" in m.verify()


def test_a_tile_of_leading_ones_is_accepted_everywhere_and_costs_its_elements() -> None:
    m = _module([1, 1, 4, 8], [1, 1, 4, 8], [3, 1, 1, 4, 8])
    assert m.verify() == []
    _emit_cpu_sim(m)
    _emit_ascend(m)
    assert kernel_cycles(m, DEFAULT_COST_TABLE)[0] == 32 + 32  # load 4x8 + store 4x8


# ---- views bound to a Tile[r, c] parameter ---------------------------------------------------

# (tile, view, binds): the trace-time check (shape_rule) and the emitters agree on each.
CASES = [
    ([4, 8], [4, 8], True),
    ([4, 8], [1, 1, 4, 8], True),
    ([4, 8], [1, 4, 8], True),
    ([1, 8], [8], True),
    ([1, 8], [1, 1, 8], True),
    ([4, 8], [2, 4, 8], False),  # flattening it to 8x8 is gone; [2, 4, 8] is no tile
    ([8, 8], [2, 4, 8], False),
    ([4, 8], [4, 1, 8], False),
    ([4, 8], [8, 4], False),
    ([4, 8], [32], False),
    ([8, 1], [8], False),
]


@pytest.mark.parametrize(("tile", "view", "binds"), CASES)
def test_the_trace_time_check_and_both_emitters_agree(tile, view, binds) -> None:
    assert (tile_shape_problem(tile, view) is None) is binds
    m = _module(tile, tile, [3, *view])
    if binds:
        _emit_cpu_sim(m)
        _emit_ascend(m)
        return
    with pytest.raises(codegen.CodegenError) as cpu:
        _emit_cpu_sim(m)
    with pytest.raises(codegen.CodegenError) as npu:
        _emit_ascend(m)
    assert cpu.value.args[0] == npu.value.args[0]
    assert cpu.value.args[0].startswith("the view bound to parameter x of kernel k has shape ")


@kernel
def double(x: In[Tile[4, 8, DType.F32]], y: Out[Tile[4, 8, DType.F32]]):
    pto.store(y, pto.mul(x, x))


def test_a_1x1xrxc_view_runs_for_tile_r_c() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 1, 1, 4, 8)).astype(np.float32)
    b = np.zeros_like(a)
    A, B = Tensor(a, name="A"), Tensor(b, name="B")

    @workload
    def square():
        for i in P(3):
            double[i](x=A[i], y=B[i])

    program = square().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    np.testing.assert_allclose(b, a * a, rtol=1e-6)
    # per task: implicit load x 32 + mul 32 + store 32 = 96; no dispatch: the 3 tasks run back
    # to back on the 1 default worker.
    assert program.stats.total_cycles == 3 * 96
    square().compile(target="ascend_npu")


def test_a_rank_3_view_for_a_2d_tile_is_refused_where_the_call_is_written() -> None:
    A = Tensor(np.zeros((3, 2, 4, 8), np.float32), name="A")
    B = Tensor(np.zeros((3, 2, 4, 8), np.float32), name="B")

    @workload
    def square():
        for i in P(3):
            double[i](x=A[i], y=B[i])

    with pytest.raises(
        TypeCheckError, match=r"expects shape \[4, 8\], got a view of shape \[2, 4, 8\]"
    ):
        square().compile(target="cpu_sim")
