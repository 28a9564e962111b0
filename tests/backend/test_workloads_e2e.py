"""Standard workloads end to end on cpu_sim: numpy goldens, task counts and cycles by hand.

Cycle counts follow the default cost table (DESIGN.md §2, pto_wsp/compiler/cost.py): load/store
and elementwise ops r*c, row reductions r (rowmean 2r), column reductions c, matmul M*K*N, a
``constant`` (shape ()) 1, an implicit load of an In/InOut tile parameter r*c once per kernel.
Worker counts and dispatch policies are chosen so that the makespan follows by hand; each
derivation is in the comment beside the assertion.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import (
    DispatchPolicy,
    In,
    InOut,
    Out,
    P,
    Tensor,
    combine,
    kernel,
    pto,
    sequential,
    workload,
)

F32 = np.float32


def run(w):
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(F32)


# ---- kernels -------------------------------------------------------------------------------------


@kernel
def matmul_acc(a: In[Tensor], b: In[Tensor], c: InOut[Tensor]):
    pto.store(c, pto.matmul(a, b, acc=c))


@kernel
def matmul_k(a: In[Tensor], b: In[Tensor], c: Out[Tensor]):
    pto.store(c, pto.matmul(a, b))


@kernel
def softmax_k(x: In[Tensor], y: Out[Tensor]):
    e = pto.exp(pto.sub(x, pto.rowmax(x)))
    pto.store(y, pto.div(e, pto.rowsum(e)))


@kernel
def rmsnorm_k(x: In[Tensor], w: In[Tensor], y: Out[Tensor]):
    r = pto.rsqrt(pto.rowmean(pto.mul(x, x)) + 1e-6)
    pto.store(y, pto.colmul(pto.rowmul(x, r), w))


@kernel
def attention_k(q: In[Tensor], kt: In[Tensor], v: In[Tensor], o: Out[Tensor]):
    s = pto.matmul(q, kt) * 0.25
    e = pto.exp(pto.sub(s, pto.rowmax(s)))
    p = pto.div(e, pto.rowsum(e))
    pto.store(o, pto.matmul(p, v))


@kernel
def ffn_k(
    h: In[Tensor],
    x: In[Tensor],
    w1: In[Tensor],
    w3: In[Tensor],
    w2: In[Tensor],
    y: Out[Tensor],
):
    gated = pto.mul(pto.silu(pto.matmul(h, w1)), pto.matmul(h, w3))
    pto.store(y, pto.add(pto.matmul(gated, w2), x))


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def pair_k(a: In[Tensor], b: In[Tensor], y: Out[Tensor]): ...


@kernel
def double_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, x))


@kernel
def accumulate_k(x: In[Tensor], s: InOut[Tensor]):
    pto.store(s, pto.add(s, x))


# ---- numerics + cycles ---------------------------------------------------------------------------


def test_tiled_matmul_accumulates_over_seq_k(rng: np.random.Generator) -> None:
    T = 16
    a, b = normal(rng, 2 * T, 3 * T), normal(rng, 3 * T, 2 * T)
    c = np.zeros((2 * T, 2 * T), F32)
    # Tiles of the plain 2-D matrices through 4-D views of the same buffers: A4[i, :, k] is
    # A[i*T:(i+1)*T, k*T:(k+1)*T]. (A slice with loop-variable bounds has a symbolic extent,
    # which a traced kernel cannot be specialised for.)
    A = Tensor(a.reshape(2, T, 3, T), name="A")
    B = Tensor(b.reshape(3, T, 2, T), name="B")
    C = Tensor(c.reshape(2, T, 2, T), name="C")

    @workload
    def tiled():
        for i, j in P(2, 2):
            for k in P.seq(3):
                matmul_acc[i, j, k](a=A[i, :, k], b=B[k, :, j], c=C[i, :, j])

    key = DispatchPolicy.affinity(lambda t: t.get("i") * 2 + t.get("j"), num_aicpus=4)
    program = run(tiled().dispatch(key))
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-4)  # in the user's array
    # per task: load a 256 + load b 256 + load c 256 + matmul 16*16*16 + store 256 = 5120.
    # Each (i, j) runs its 3 K steps on its own worker, one after another: 3 * 5120.
    assert program.stats.task_count == 12
    assert program.stats.total_cycles == 3 * 5120
    tr = program.trace
    for w in range(4):
        mine = tr[tr["worker"] == w]
        assert mine["idx2"].tolist() == [0, 1, 2]
        assert mine["start"].tolist() == [0, 5120, 10240]


def test_batched_matmul(rng: np.random.Generator) -> None:
    A = Tensor(normal(rng, 4, 8, 16))
    B = Tensor(normal(rng, 4, 16, 8))
    C = Tensor(np.zeros((4, 8, 8), F32))

    @workload
    def bmm():
        for b in P(4):
            matmul_k[b](a=A[b], b=B[b], c=C[b])

    program = run(bmm())
    np.testing.assert_allclose(C.data, A.data @ B.data, rtol=1e-5, atol=1e-5)
    # load a 128 + load b 128 + matmul 8*16*8 + store 64 = 1344; no dispatch: the 4 tasks run
    # back to back on the 1 default worker (DESIGN §2).
    assert program.stats.task_count == 4
    assert program.stats.total_cycles == 4 * 1344


def test_softmax(rng: np.random.Generator) -> None:
    X = Tensor(normal(rng, 4, 8, 16) * 3)
    Y = Tensor(np.zeros((4, 8, 16), F32))

    @workload
    def sm():
        for b in P(4):
            softmax_k[b](x=X[b], y=Y[b])

    program = run(sm().dispatch(DispatchPolicy.round_robin(2)))
    e = np.exp(X.data - X.data.max(-1, keepdims=True))
    np.testing.assert_allclose(Y.data, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)
    # load 128 + rowmax 8 + sub 128 + exp 128 + rowsum 8 + div 128 + store 128 = 656;
    # 4 tasks round robin on 2 workers: two back to back per worker.
    assert program.stats.total_cycles == 2 * 656
    assert program.trace["start"].tolist() == [0, 0, 656, 656]


def test_rmsnorm(rng: np.random.Generator) -> None:
    X = Tensor(normal(rng, 4, 8, 32))
    W = Tensor(normal(rng, 1, 32))
    Y = Tensor(np.zeros((4, 8, 32), F32))

    @workload
    def rms():
        for b in P(4):
            rmsnorm_k[b](x=X[b], w=W, y=Y[b])

    program = run(rms())
    x = X.data
    ref = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * W.data
    np.testing.assert_allclose(Y.data, ref, rtol=1e-5, atol=1e-6)
    # load x 256 + mul 256 + rowmean 2*8 + constant 1 + add 8 + rsqrt 8 + rowmul 256
    # + load w 32 + colmul 256 + store 256 = 1345; 4 tasks back to back on the 1 default worker.
    assert program.stats.total_cycles == 4 * 1345


def test_attention_with_pretransposed_k(rng: np.random.Generator) -> None:
    Q = Tensor(normal(rng, 2, 2, 8, 16))
    Kt = Tensor(normal(rng, 2, 2, 16, 8))  # K pre-transposed: a view cannot transpose
    V = Tensor(normal(rng, 2, 2, 8, 16))
    O = Tensor(np.zeros((2, 2, 8, 16), F32))

    @workload
    def attn():
        for b, h in P(2, 2):
            attention_k[b, h](q=Q[b, h], kt=Kt[b, h], v=V[b, h], o=O[b, h])

    program = run(attn().dispatch(DispatchPolicy.round_robin(1)))
    s = Q.data @ Kt.data * 0.25
    e = np.exp(s - s.max(-1, keepdims=True))
    np.testing.assert_allclose(
        O.data, (e / e.sum(-1, keepdims=True)) @ V.data, rtol=1e-5, atol=1e-5
    )
    # load q 128 + load kt 128 + matmul 8*16*8 + constant 1 + mul 64 + rowmax 8 + sub 64
    # + exp 64 + rowsum 8 + div 64 + load v 128 + matmul 8*8*16 + store 128 = 2833;
    # 4 tasks on one worker.
    assert program.stats.task_count == 4
    assert program.stats.total_cycles == 4 * 2833
    assert program.trace["start"].tolist() == [0, 2833, 2 * 2833, 3 * 2833]


def test_llama_block(rng: np.random.Generator) -> None:
    tokens, dim, hidden, rows = 32, 32, 64, 8
    n = tokens // rows
    x, h_buf, y = (
        normal(rng, tokens, dim),
        np.zeros((tokens, dim), F32),
        np.zeros((tokens, dim), F32),
    )
    # Row blocks of the token matrices as [n, rows, dim] views of the same buffers.
    X = Tensor(x.reshape(n, rows, dim), name="X")
    H = Tensor(h_buf.reshape(n, rows, dim), name="H")
    Y = Tensor(y.reshape(n, rows, dim), name="Y")
    Wn = Tensor(normal(rng, 1, dim), name="Wn")
    W1 = Tensor(normal(rng, dim, hidden) / 6, name="W1")
    W3 = Tensor(normal(rng, dim, hidden) / 6, name="W3")
    W2 = Tensor(normal(rng, hidden, dim) / 8, name="W2")

    @workload
    def norm():
        for t in P(n):
            rmsnorm_k[t](x=X[t], w=Wn, y=H[t])

    @workload
    def ffn():
        for t in P(n):
            ffn_k[t](h=H[t], x=X[t], w1=W1, w3=W3, w2=W2, y=Y[t])

    results = []
    for workers in (1, 8):
        H.data[:] = 0
        Y.data[:] = 0
        program = run(sequential(norm(), ffn()).dispatch(DispatchPolicy.round_robin(workers)))
        h = x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) * Wn.data
        g = h @ W1.data
        ref = ((g / (1 + np.exp(-g))) * (h @ W3.data)) @ W2.data + x
        np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
        assert program.stats.task_count == 2 * n
        tr = program.trace
        assert tr["start"][n:].min() >= tr["end"][:n].max()  # the FFN runs after the norm
        results.append(y.copy())
    np.testing.assert_array_equal(results[0], results[1])


# ---- cycles of empty kernels, trace format ---------------------------------------------------------


def test_empty_kernel_costs_loads_and_stores_by_shape() -> None:
    A = Tensor(np.zeros((4, 6, 10), F32))
    B = Tensor(np.zeros((3, 5), F32))
    Y = Tensor(np.zeros((4, 2, 7), F32))

    @workload
    def w():
        for i in P(4):
            pair_k[i](a=A[i], b=B, y=Y[i])

    program = run(w().dispatch(DispatchPolicy.round_robin(2)))
    # load a 60 + load b 15 + store y 14 = 89 per task; 2 per worker on 2 workers.
    assert program.stats.total_cycles == 2 * 89
    assert (program.trace["end"] - program.trace["start"]).tolist() == [89] * 4


def test_trace_is_structured_array_with_documented_fields() -> None:
    X = Tensor(np.zeros((2, 3, 4), F32))
    Y = Tensor(np.zeros((2, 3, 4), F32))

    @workload
    def w():
        for i, j in P(2, 3):
            copy_k[i, j](x=X[i, j], y=Y[i, j])

    program = run(w())
    tr = program.trace
    assert isinstance(tr, np.ndarray) and tr.dtype.names == (
        "task", "kernel", "worker", "stream", "start", "end", "idx0", "idx1", "idx2", "idx3",
        "gate", "cause",
    )  # fmt: skip
    assert len(tr) == program.stats.task_count == 6
    assert sorted(tr["task"].tolist()) == list(range(6))
    assert set(tr["kernel"].tolist()) == {0} and program.kernel_names == ["copy_k"]
    by_task = np.sort(tr, order="task")
    assert by_task["idx0"].tolist() == [0, 0, 0, 1, 1, 1]
    assert by_task["idx1"].tolist() == [0, 1, 2] * 2
    assert by_task["idx2"].tolist() == [-1] * 6
    assert (tr["end"] - tr["start"] == 8).all()  # load 4 + store 4
    assert program.stats.total_cycles == int(tr["end"].max())


# ---- dependencies and barriers ----------------------------------------------------------------------


def test_dependency_within_loop_body(rng: np.random.Generator) -> None:
    X = Tensor(normal(rng, 4, 8, 16))
    Y = Tensor(np.zeros((4, 8, 16), F32))
    Z = Tensor(np.zeros((4, 8, 16), F32))

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
        np.testing.assert_array_equal(Z.data, 4 * X.data)
        tr = np.sort(program.trace, order="task")
        for i in range(4):  # the reader of Y[i] (task 2i+1) starts when its writer ends
            assert tr["start"][2 * i + 1] >= tr["end"][2 * i]
        results.append((Z.data.copy(), program.stats.task_count))
    assert results[0][1] == results[1][1] == 8
    np.testing.assert_array_equal(results[0][0], results[1][0])
    # 8 workers: each task 128 (load) + 128 (add) + 128 (store) = 384; pairs chain: 768.
    assert program.stats.total_cycles == 768


def test_dependency_across_iterations_of_a_parallel_loop(rng: np.random.Generator) -> None:
    X = Tensor(normal(rng, 6, 4, 8))
    S = Tensor(np.zeros((4, 8), F32))

    @workload
    def reduce_all():
        for i in P(6):
            accumulate_k[i](x=X[i], s=S)

    program = run(reduce_all().dispatch(DispatchPolicy.round_robin(8)))
    np.testing.assert_allclose(S.data, X.data.sum(0), rtol=1e-5, atol=1e-6)
    tr = np.sort(program.trace, order="task")
    # every iteration reads and writes S: 6 tasks of load s 32 + load x 32 + add 32 + store 32
    # = 128 run one after another although 8 workers are free.
    assert tr["start"].tolist() == [128 * k for k in range(6)]
    assert program.stats.total_cycles == 6 * 128


def test_dependency_across_workloads_of_combine(rng: np.random.Generator) -> None:
    X = Tensor(normal(rng, 4, 8, 16))
    Y = Tensor(np.zeros((4, 8, 16), F32))
    Z = Tensor(np.zeros((4, 8, 16), F32))

    @workload
    def produce():
        for i in P(4):
            double_k[i](x=X[i], y=Y[i])

    @workload
    def consume():
        for i in P(4):
            double_k[i](x=Y[3 - i], y=Z[i])

    program = run(combine(produce(), consume()).dispatch(DispatchPolicy.round_robin(8)))
    np.testing.assert_array_equal(Z.data, 4 * X.data[::-1])
    tr = np.sort(program.trace, order="task")
    for i in range(4):  # consumer task 4+i reads Y[3-i], written by producer task 3-i
        assert tr["start"][4 + i] >= tr["end"][3 - i]
    assert tr["start"][:4].tolist() == [0] * 4
    assert program.stats.total_cycles == 2 * 384


def test_seq_barrier_visible_in_trace() -> None:
    X = Tensor(np.zeros((3, 4, 16), F32))
    Y = Tensor(np.zeros((3, 4, 16), F32))

    @workload
    def stages():
        for s in P.seq(3):
            for t in P(4):
                copy_k[s, t](x=X[s, t], y=Y[s, t])

    program = run(stages().dispatch(DispatchPolicy.round_robin(8)))
    tr = np.sort(program.trace, order="task")
    # independent data and 8 free workers, yet stage s starts when stage s-1 ends (32 each).
    assert tr["start"].tolist() == [0] * 4 + [32] * 4 + [64] * 4
    assert tr["idx0"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert program.stats.total_cycles == 96


@pytest.mark.parametrize("workers", [1, 8])
def test_results_do_not_depend_on_worker_count(rng: np.random.Generator, workers: int) -> None:
    X = Tensor(normal(rng, 8, 8, 16))
    Y = Tensor(np.zeros((8, 8, 16), F32))

    @workload
    def sm():
        for b in P(8):
            softmax_k[b](x=X[b], y=Y[b])

    program = run(sm().dispatch(DispatchPolicy.round_robin(workers)))
    e = np.exp(X.data - X.data.max(-1, keepdims=True))
    np.testing.assert_allclose(Y.data, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)
    # 8 tasks of 656 cycles: 8 back to back on 1 worker, all at 0 on 8 workers.
    assert program.stats.total_cycles == 656 * (8 if workers == 1 else 1)
    assert sorted(program.trace["worker"].tolist()) == sorted(i % workers for i in range(8))
