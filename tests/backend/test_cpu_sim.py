"""The cpu_sim backend end to end: generated C++ computes numpy's answer in the user's arrays and
leaves a per-task trace whose cycles follow the cost table (pto_wsp/compiler/cost.py).

Every expected cycle count is derived by hand in the comment next to it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from pto_wsp import (
    CompileError,
    DispatchPolicy,
    ExecutionError,
    In,
    Out,
    P,
    Tensor,
    kernel,
    pto,
    sequential,
    workload,
)
from pto_wsp._core import ir
from pto_wsp.backends.cpu_sim import emit_sources
from pto_wsp.compiler.cost import CostTable
from pto_wsp.runtime.trace import by_task, chrome_trace

RNG = np.random.default_rng(0)


def run(w):
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


# ---- kernels ------------------------------------------------------------------------------


@kernel
def matmul_k(a: In[Tensor], b: In[Tensor], c: Out[Tensor]):
    pto.store(c, pto.matmul(a, b))


@kernel
def softmax_k(x: In[Tensor], y: Out[Tensor]):
    e = pto.exp(pto.sub(x, pto.rowmax(x)))
    pto.store(y, pto.div(e, pto.rowsum(e)))


@kernel
def rmsnorm_k(x: In[Tensor], w: In[Tensor], y: Out[Tensor]):
    r = pto.rsqrt(pto.rowmean(pto.mul(x, x)))
    pto.store(y, pto.mul(pto.rowmul(x, r), w))


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def double_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, x))


# ---- numerics ------------------------------------------------------------------------------


def test_matmul_grid_matches_numpy() -> None:
    A = Tensor(RNG.standard_normal((4, 16, 32)).astype(np.float32))
    B = Tensor(RNG.standard_normal((32, 8)).astype(np.float32))
    C = Tensor(np.zeros((4, 16, 8), np.float32))

    @workload
    def mm():
        for i in P(4):
            matmul_k[i](a=A[i], b=B, c=C[i])

    program = run(mm())
    np.testing.assert_allclose(C.data, A.data @ B.data, rtol=1e-5, atol=1e-5)
    # per task: implicit load a 16*32 + load b 32*8 + matmul 16*32*8 + store 16*8
    per_task = 512 + 256 + 4096 + 128
    assert program.stats.task_count == 4
    # no dispatch: 1 worker (DESIGN §2), so the 4 independent tasks run back to back
    assert program.stats.total_cycles == 4 * per_task
    assert program.stats.execute_time_ms > 0


def test_softmax_rows_match_numpy() -> None:
    X = Tensor(RNG.standard_normal((3, 8, 16)).astype(np.float32))
    Y = Tensor(np.zeros((3, 8, 16), np.float32))

    @workload
    def sm():
        for b in P(3):
            softmax_k[b](x=X[b], y=Y[b])

    run(sm())
    e = np.exp(X.data - X.data.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(Y.data, e / e.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_rmsnorm_like_matches_numpy() -> None:
    X = Tensor(RNG.standard_normal((2, 4, 8, 32)).astype(np.float32))
    W = Tensor(RNG.standard_normal((1, 32)).astype(np.float32))
    Y = Tensor(np.zeros((2, 4, 8, 32), np.float32))

    @workload
    def rms():
        for b, h in P(2, 4):
            rmsnorm_k[b, h](x=X[b, h], w=W, y=Y[b, h])

    program = run(rms())
    x = X.data
    ref = x / np.sqrt((x * x).mean(axis=-1, keepdims=True)) * W.data
    np.testing.assert_allclose(Y.data, ref, rtol=1e-5, atol=1e-5)
    tr = by_task(program.trace)
    assert tr["idx0"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert tr["idx1"].tolist() == [0, 1, 2, 3] * 2


# ---- cycles, trace, scheduling --------------------------------------------------------------


def test_empty_kernel_cycles_by_hand() -> None:
    X = Tensor(np.zeros((8, 16), np.float32))
    Y = Tensor(np.zeros((8, 16), np.float32))

    @workload
    def grid():
        for i in P(8):
            copy_k[i](x=X[i], y=Y[i])

    program = run(grid())
    # Each task: load 16 (In) + store 16 (Out) = 32 cycles; no dispatch: 1 worker (DESIGN §2),
    # which runs the 8 independent tasks back to back in submission order: makespan 8 * 32.
    assert program.stats.task_count == 8
    assert program.stats.total_cycles == 256
    tr = program.trace
    assert tr["worker"].tolist() == [0] * 8
    assert tr["start"].tolist() == [32 * k for k in range(8)]
    assert not tr.flags.writeable and tr.base is not None  # a view, not a copy
    assert program.kernel_names == ["copy_k"]


def test_cost_table_change_needs_no_rebuild() -> None:
    X = Tensor(np.zeros((8, 16), np.float32))
    Y = Tensor(np.zeros((8, 16), np.float32))

    @workload
    def grid():
        for i in P(8):
            copy_k[i](x=X[i], y=Y[i])

    program = run(grid())
    lib = program.runner.library
    program.runner.set_cost_table({"load": 2.0, "store": 0.5})
    program.execute()
    program.synchronize()
    assert program.runner.library is lib
    # 16*2 + 16*0.5 = 40 cycles per task, the 8 tasks back to back on the 1 default worker.
    assert program.stats.total_cycles == 8 * 40
    with pytest.raises(CompileError, match="unknown key"):
        CostTable.from_any({"lod": 1.0})


def test_seq_barrier_visible_in_trace() -> None:
    X = Tensor(np.zeros((12, 16), np.float32))
    Y = Tensor(np.zeros((12, 16), np.float32))

    @workload
    def seq():
        for i in P.seq(3):
            for j in P(4):
                copy_k[i, j](x=X[i * 4 + j], y=Y[i * 4 + j])

    program = run(seq().dispatch(DispatchPolicy.round_robin(8)))
    # 8 workers would run 8 tasks at cycle 0 without the barrier (makespan 64); P.seq makes
    # iteration i start at 32*i: makespan 96.
    tr = by_task(program.trace)
    assert tr["start"].tolist() == [0] * 4 + [32] * 4 + [64] * 4
    assert program.stats.total_cycles == 96


def test_sequential_children_are_ordered() -> None:
    X = Tensor(np.zeros((4, 16), np.float32))
    Y = Tensor(np.zeros((4, 16), np.float32))
    Z = Tensor(np.zeros((4, 16), np.float32))

    @workload
    def first():
        for i in P(4):
            copy_k[i](x=X[i], y=Y[i])

    @workload
    def second():
        for i in P(4):
            copy_k[i](x=X[i], y=Z[i])

    # 4 workers, so the 4 tasks of a child could all start at 0: only the sequence orders them
    program = run(sequential(first(), second()).dispatch(DispatchPolicy.round_robin(4)))
    tr = by_task(program.trace)
    assert tr["start"].tolist() == [0] * 4 + [32] * 4
    assert program.stats.total_cycles == 64


def test_dispatch_policies_change_placement() -> None:
    X = Tensor(np.zeros((8, 16), np.float32))
    Y = Tensor(np.zeros((8, 16), np.float32))

    @workload
    def grid():
        for i in P(8):
            copy_k[i](x=X[i], y=Y[i])

    rr = run(grid().dispatch(DispatchPolicy.round_robin(4)))
    aff = run(grid().dispatch(DispatchPolicy.affinity(lambda t: t.get("i") // 2, num_aicpus=4)))
    assert rr.trace["worker"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert aff.trace["worker"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]


def test_data_dependency_orders_tasks_and_results_do_not_depend_on_workers() -> None:
    X = Tensor(RNG.standard_normal((4, 8, 16)).astype(np.float32))
    Y = Tensor(np.zeros((4, 8, 16), np.float32))
    Z = Tensor(np.zeros((4, 8, 16), np.float32))

    @workload
    def chain():
        for i in P(4):
            double_k[i](x=X[i], y=Y[i])
            double_k[i](x=Y[i], y=Z[i])

    results = []
    for workers in (1, 8):
        Y.data[:] = 0
        Z.data[:] = 0
        program = run(chain().dispatch(DispatchPolicy.round_robin(workers)))
        np.testing.assert_allclose(Z.data, 4 * X.data, rtol=1e-6)
        results.append(Z.data.copy())
        tr = by_task(program.trace)
        # the reader of Y[i] (task 2i+1) starts after its writer (task 2i) ends
        for i in range(4):
            assert tr["start"][2 * i + 1] >= tr["end"][2 * i]
    np.testing.assert_array_equal(results[0], results[1])


def test_disjointness_proof_skips_region_tracking() -> None:
    X = Tensor(np.zeros((4, 8), np.float32))
    Y = Tensor(np.zeros((4, 8), np.float32))
    Z = Tensor(np.zeros((4, 8), np.float32))

    @workload
    def chain():
        for i in P(4):
            copy_k[i](x=X[i], y=Y[i])
            copy_k[i](x=Y[i], y=Z[i])

    from pto_wsp.compiler.lowering import lower_with_bindings

    module, tensors = lower_with_bindings(chain())
    src = emit_sources(module, tensors)
    names = [t.name for t in module.tensors]
    # X is only read, Z written once per disjoint row: untracked. Y is written and read.
    assert [names[t] for t in src["tracked_tensors"]] == ["Y"]


# ---- errors -------------------------------------------------------------------------------


def test_out_of_bounds_index_is_execution_error_naming_task_and_kernel() -> None:
    X = Tensor(np.zeros((8, 16), np.float32))
    Y = Tensor(np.zeros((8, 16), np.float32))

    @workload
    def oob():
        for i in P(8):
            copy_k[i](x=X[i + 1], y=Y[i])

    program = oob().compile(target="cpu_sim")
    program.execute()
    with pytest.raises(ExecutionError, match=r"copy_k.*task #7.*index 8 out of range"):
        program.synchronize()


def test_missing_compiler_is_compile_error(monkeypatch: pytest.MonkeyPatch) -> None:
    X = Tensor(np.zeros((3, 2, 5), np.float32))
    Y = Tensor(np.zeros((3, 2, 5), np.float32))

    @workload
    def grid():
        for i in P(3):
            double_k[i](x=X[i], y=Y[i])

    monkeypatch.setenv("CXX", "/nonexistent/c++")
    with pytest.raises(CompileError, match=r"/nonexistent/c\+\+.*Emitted source: .*driver\.cpp"):
        grid().compile(target="cpu_sim")


def test_unsupported_node_is_compile_error() -> None:
    m = ir.Module("csp")
    ch = m.add_channel("c", 1)
    m.set_workload(ir.Node.send(ch, None, "user.py:7"))
    m.set_schedule(ir.Schedule())
    with pytest.raises(CompileError, match="outside a pipeline process is not supported") as err:
        emit_sources(m, [])
    assert "user.py:7" in str(err.value)


def test_chrome_trace_export() -> None:
    X = Tensor(np.zeros((8, 16), np.float32))
    Y = Tensor(np.zeros((8, 16), np.float32))

    @workload
    def grid():
        for i in P(8):
            copy_k[i](x=X[i], y=Y[i])

    program = run(grid().dispatch(DispatchPolicy.round_robin(4)))  # a thread per worker
    data = chrome_trace(program.trace, program.kernel_names)
    xs = [e for e in data["traceEvents"] if e["ph"] == "X"]
    threads = [e for e in data["traceEvents"] if e.get("name") == "thread_name"]
    assert len(xs) == 8 and len(threads) == 4
    assert xs[4]["ts"] == pytest.approx(0.032) and xs[4]["dur"] == pytest.approx(0.032)
    assert xs[0]["name"] == "copy_k"
    json.dumps(data)  # serialisable


def test_cpp_kernel_body_sees_params_as_tiles() -> None:
    X = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8))
    Y = Tensor(np.zeros((4, 8), np.float32))

    @kernel(
        cpp_src="""
        for (int64_t c = 0; c < x->cols; ++c)
            ((float*)y->data)[c * y->col_stride] = 2.0f * ((float*)x->data)[c * x->col_stride];
        """,
        cost=7,
    )
    def dbl(x: In[Tensor], y: Out[Tensor]): ...

    @workload
    def w():
        for i in P(4):
            dbl[i](x=X[i], y=Y[i])

    program = run(w())
    np.testing.assert_array_equal(Y.data, 2 * X.data)
    assert program.stats.total_cycles == 4 * 7  # cost= given: 4 tasks on the 1 default worker
