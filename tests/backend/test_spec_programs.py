"""The spec's complete programs on cpu_sim: §3.0 attention, §8.1 varlen attention, §8.2 MoE.

First each spec block runs as written, with the concrete tensors of ``tests/spec_preamble.py``
(DESIGN.md §6: Q, O are [4, 8, 16, 16], K, V [4, 16, 16], tokens [4, 16, 16], weights
[8, 16, 16], out [4, 8, 16, 16]; kernels have the empty bodies the spec gives them). Task counts,
order, the worker/stream placement the schedule implies and ``total_cycles`` are derived by hand
from the cost table (DESIGN.md §2): an empty-body task costs one load per ``In`` and one store per
``Out``, by shape. Then the same programs run with real kernel bodies, checked against numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
from spec_blocks import spec_blocks
from spec_preamble import run_block

from pto_wsp import (
    Dense,
    DenseDyn,
    DispatchPolicy,
    In,
    Out,
    P,
    Sparse,
    Tensor,
    TimingPolicy,
    kernel,
    pto,
    workload,
)

F32 = np.float32
B, H, E, T = 4, 8, 8, 16  # batch, heads, experts, tile side (spec_preamble sizes)
TILE = T * T
INDPTR = [0, 2, 5, 7, 10]  # spec §8.2
INDICES = [1, 3, 0, 2, 4, 1, 5, 0, 3, 7]
PAIRS = [(b, e) for b in range(B) for e in INDICES[INDPTR[b] : INDPTR[b + 1]]]


def block(block_id: str):
    for b in spec_blocks({3, 8}):
        if b.id == block_id:
            return run_block(b)
    raise AssertionError(f"spec block {block_id} not found")


def single(items: list, what: str):
    assert len(items) == 1, f"expected one {what}, got {[n for n, _ in items]}"
    return items[0][1]


def by_task(program) -> np.ndarray:
    return np.sort(program.trace, order="task")


# ---- placement derived by hand, shared by the empty-body and the real-body runs ----------------


def check_attention_default(program, cost: int) -> None:
    """§3.0: 32 tasks (b, h) in row-major order, default schedule: no dispatch, so 1 worker
    (DESIGN §2, the reference's rule)."""
    tr = by_task(program)
    assert program.stats.task_count == B * H == 32
    assert tr["idx0"].tolist() == [b for b in range(B) for _ in range(H)]
    assert tr["idx1"].tolist() == list(range(H)) * B
    assert tr["worker"].tolist() == [0] * 32
    assert (tr["stream"] == -1).all()
    # O[b, h] are disjoint and Q/K/V are only read: no dependencies, so the one worker runs the
    # 32 tasks back to back in submission order.
    assert tr["start"].tolist() == [cost * i for i in range(32)]
    assert program.stats.total_cycles == 32 * cost


def check_attention_varlen(program, cost: int) -> None:
    """§8.1: affinity(batch) on 2 workers (streams(2) sets the count), stream = head % 2.

    Worker b % 2 runs batch b's 8 heads in order; stream h % 2 is in order across batches. So
    batch 0 runs h at h*cost; batch 1 (worker 1) waits for stream 0's last task of batch 0,
    (b0, h6), ending at 7*cost, and then runs its heads back to back; batch 2 waits for (b1, h6)
    and so on: task (b, h) starts at (7b + h) * cost, the makespan is (7*3 + 8) * cost.
    """
    tr = by_task(program)
    assert program.stats.task_count == 32
    assert tr["worker"].tolist() == (tr["idx0"] % 2).tolist()
    assert tr["stream"].tolist() == (tr["idx1"] % 2).tolist()
    assert tr["start"].tolist() == [(7 * b + h) * cost for b in range(B) for h in range(H)]
    assert (tr["end"] - tr["start"] == cost).all()
    assert program.stats.total_cycles == 29 * cost


def check_moe(program, cost: int) -> None:
    """§8.2: work_steal on 8 workers (streams(8)), stream = selected expert.

    Tasks in CSR order: (0,1) (0,3) (1,0) (1,2) (1,4) (2,1) (2,5) (3,0) (3,3) (3,7). Home worker
    = task index mod 8. Tasks 0-4 and 6 start at 0 on their home workers. Task 5 (expert 1) waits
    for task 0 on stream 1, task 7 (expert 0) for task 2, task 8 (expert 3) for task 1: they start
    at `cost`, on their home workers 5, 7 and 0 (ties go home; worker 0 is free again by then).
    Task 9 (expert 7, home worker 1, free at `cost`) starts at `cost` too. Makespan 2 * cost.
    """
    tr = by_task(program)
    assert program.stats.task_count == 10
    assert list(zip(tr["idx0"].tolist(), tr["idx1"].tolist(), strict=True)) == PAIRS
    assert tr["stream"].tolist() == INDICES
    assert tr["worker"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 0, 1]
    assert tr["start"].tolist() == [0, 0, 0, 0, 0, cost, 0, cost, cost, cost]
    assert program.stats.total_cycles == 2 * cost


# ---- the spec blocks as written (empty kernel bodies) ----------------------------------------


def test_s3_0_attention_as_written() -> None:
    run = block("s3.0-L236")
    w = single(run.workloads, "workload")
    assert w.dep_type == "Independent"
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    # empty body: load Q[b,h] 256 + load K[b] 256 + load V[b] 256 + store O[b,h] 256.
    check_attention_default(program, 4 * TILE)


def test_s8_1_attention_varlen_as_written() -> None:
    run = block("s8.1-L892")
    program = run.namespace["program"]  # the block executes and synchronizes it
    assert program.is_complete()
    assert program.kernel_names == ["attn_kernel"]
    check_attention_varlen(program, 4 * TILE)


def test_s8_2_moe_as_written() -> None:
    run = block("s8.2-L931")
    program = run.namespace["program"]  # the block executes it
    program.synchronize()
    # empty body: load tokens[b] 256 + load weights[e] 256 + store out[b,e] 256.
    check_moe(program, 3 * TILE)


# ---- the same programs with real kernel bodies ------------------------------------------------


@kernel
def attn_real(Q: In[Tensor], K: In[Tensor], V: In[Tensor], O: Out[Tensor]):  # noqa: E741
    s = pto.matmul(Q, K) * 0.25
    e = pto.exp(pto.sub(s, pto.rowmax(s)))
    pto.store(O, pto.matmul(pto.div(e, pto.rowsum(e)), V))


# load Q 256 + load K 256 + matmul 16^3 + constant 1 + mul 256 + rowmax 16 + sub 256 + exp 256
# + rowsum 16 + div 256 + load V 256 + matmul 16^3 + store 256
ATTN_CYCLES = 8 * TILE + 2 * T**3 + 2 * T + 1


def attention_data(rng: np.random.Generator) -> dict[str, Tensor]:
    def normal(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(F32)

    return {
        "Q": Tensor(normal(B, H, T, T), name="Q"),
        "K": Tensor(normal(B, T, T), name="K"),  # holds K^T: a view cannot transpose
        "V": Tensor(normal(B, T, T), name="V"),
        "O": Tensor(np.zeros((B, H, T, T), F32), name="O"),
    }


def attention_ref(d: dict[str, Tensor]) -> np.ndarray:
    s = np.einsum("bhij,bjk->bhik", d["Q"].data, d["K"].data) * 0.25
    e = np.exp(s - s.max(-1, keepdims=True))
    return np.einsum("bhij,bjk->bhik", e / e.sum(-1, keepdims=True), d["V"].data)


def attention_workload(d: dict[str, Tensor]):
    Q, K, V, O = d["Q"], d["K"], d["V"], d["O"]  # noqa: E741
    batch = DenseDyn(B)
    heads = Dense[H]

    @workload
    def attention(batch, heads):
        for b, h in P(batch, heads):
            attn_real[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])

    return attention(batch, heads)


def test_s3_0_attention_numerics(rng: np.random.Generator) -> None:
    d = attention_data(rng)
    program = attention_workload(d).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    np.testing.assert_allclose(d["O"].data, attention_ref(d), rtol=1e-4, atol=1e-5)
    check_attention_default(program, ATTN_CYCLES)


def test_s8_1_attention_varlen_numerics(rng: np.random.Generator) -> None:
    d = attention_data(rng)
    program = (
        attention_workload(d)
        .dispatch(DispatchPolicy.affinity(lambda t: t.get("batch")))
        .streams(2)
        .stream_by(lambda t: t.get("head") % 2)
        .timing(TimingPolicy.immediate)
        .compile()
    )
    program.execute()
    program.synchronize()
    np.testing.assert_allclose(d["O"].data, attention_ref(d), rtol=1e-4, atol=1e-5)
    check_attention_varlen(program, ATTN_CYCLES)


@kernel
def expert(tokens: In[Tensor], weights: In[Tensor], out: Out[Tensor]):
    pto.store(out, pto.relu(pto.matmul(tokens, weights)))


# load tokens 256 + load weights 256 + matmul 16^3 + relu 256 + store 256
EXPERT_CYCLES = 4 * TILE + T**3


@pytest.mark.parametrize("reroute", [False, True])
def test_s8_2_moe_numerics(rng: np.random.Generator, reroute: bool) -> None:
    tokens = Tensor(rng.standard_normal((B, T, T)).astype(F32), name="tokens")
    weights = Tensor(rng.standard_normal((E, T, T)).astype(F32), name="weights")
    out = Tensor(np.zeros((B, E, T, T), F32), name="out")
    indices = np.array(INDICES, np.int64)
    routing = Sparse(4, np.array(INDPTR, np.int64), indices)
    batch = DenseDyn(B)

    @workload
    def moe(batch, routing):
        for b in P(batch):
            for e in P.sel(routing[b]):
                expert[b, e](tokens=tokens[b], weights=weights[e], out=out[b, e])

    program = (
        moe(batch, routing)
        .dispatch(DispatchPolicy.work_steal())
        .streams(8)
        .stream_by(lambda t: t.get("expert"))
        .compile()
    )
    pairs = PAIRS
    if reroute:  # same program, new routing in the user's indices array
        indices[:] = [7, 6, 5, 4, 3, 2, 1, 0, 6, 5]
        pairs = [(b, int(e)) for b in range(B) for e in indices[INDPTR[b] : INDPTR[b + 1]]]
    program.execute()
    program.synchronize()
    ref = np.zeros_like(out.data)
    for b, e in pairs:
        ref[b, e] = np.maximum(tokens.data[b] @ weights.data[e], 0)
    np.testing.assert_allclose(out.data, ref, rtol=1e-5, atol=1e-5)
    tr = by_task(program)
    assert list(zip(tr["idx0"].tolist(), tr["idx1"].tolist(), strict=True)) == pairs
    if not reroute:
        check_moe(program, EXPERT_CYCLES)
    else:
        # all ten experts distinct per stream except 6 and 5 (tasks 1/8 and 2/9): every task
        # starts at 0 on its home worker but tasks 8 and 9 (home 0 and 1, also their streams'
        # second task) start when tasks 1 and 2 end; worker 0 is free by then.
        assert tr["stream"].tolist() == [int(e) for e in indices]
        assert tr["start"].tolist() == [0] * 8 + [EXPERT_CYCLES] * 2
        assert program.stats.total_cycles == 2 * EXPERT_CYCLES
