"""Dynamic control flow end to end through the DSL on cpu_sim (spec §3.3, §3.4, §3.8, §2.1).

``P.sel`` over CSR routing, ``P.when``/``P.otherwise`` chains on tensor data, runtime slots,
runtime symbols, ``DenseDyn`` and ``Ragged`` extents: each is decided by the generated artifact
when it runs (never by Python enumerating tasks). The tests change the data a decision reads and
execute the SAME compiled program again: different tasks run. Task counts, order and numerics are
checked against numpy.
"""

from __future__ import annotations

import numpy as np

from pto_wsp import (
    DenseDyn,
    DispatchPolicy,
    In,
    InOut,
    Out,
    P,
    Ragged,
    Sparse,
    Tensor,
    kernel,
    pto,
    slot_load_u64,
    slot_set_u64,
    workload,
)
from pto_wsp.language.scalar_expr import slot_u64, symbol_u64

F32 = np.float32
R, C = 4, 8  # tile shape of every kernel below


@kernel
def scale_k(x: In[Tensor], w: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.mul(x, w))


@kernel
def add1_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, 1.0))


@kernel
def add2_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, 2.0))


@kernel
def add3_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, 3.0))


@kernel
def acc_k(x: In[Tensor], s: InOut[Tensor]):
    pto.store(s, pto.add(s, x))


def execute(program) -> np.ndarray:
    """Run ``program`` once more; the trace in submission order."""
    program.execute()
    program.synchronize()
    return np.sort(program.trace, order="task")


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape).astype(F32)


# ---- P.sel over CSR -------------------------------------------------------------------------


def test_sel_over_csr_routes_each_batch_to_its_experts(rng: np.random.Generator) -> None:
    B, E = 4, 8
    indptr = np.array([0, 2, 5, 7, 10], np.int64)  # spec §8.2
    indices = np.array([1, 3, 0, 2, 4, 1, 5, 0, 3, 7], np.int64)
    routing = Sparse(B, Tensor(indptr, name="indptr"), Tensor(indices, name="indices"))
    tokens = Tensor(normal(rng, B, R, C), name="tokens")
    weights = Tensor(normal(rng, E, R, C), name="weights")
    out = Tensor(np.zeros((B, E, R, C), F32), name="out")

    @workload
    def moe():
        for b in P(B):
            for e in P.sel(routing[b]):
                scale_k[b, e](x=tokens[b], w=weights[e], y=out[b, e])

    program = moe().dispatch(DispatchPolicy.round_robin(2)).compile(target="cpu_sim")

    def check(ptr: np.ndarray, idx: np.ndarray) -> None:
        out.data[:] = 0
        tr = execute(program)
        pairs = [(b, int(e)) for b in range(B) for e in idx[ptr[b] : ptr[b + 1]]]
        assert program.stats.task_count == len(pairs)
        # program order: batch by batch, experts in CSR order; the selected index is the
        # second loop index of the task.
        assert list(zip(tr["idx0"].tolist(), tr["idx1"].tolist(), strict=True)) == pairs
        ref = np.zeros_like(out.data)
        for b, e in pairs:
            ref[b, e] = tokens.data[b] * weights.data[e]
        np.testing.assert_array_equal(out.data, ref)
        # load x 32 + load w 32 + mul 32 + store 32 = 128 per task; round robin on 2 workers.
        assert (tr["end"] - tr["start"] == 128).all()
        assert tr["worker"].tolist() == [i % 2 for i in range(len(pairs))]
        assert program.stats.total_cycles == 128 * -(-len(pairs) // 2)

    check(indptr.copy(), indices.copy())
    # new routing in the same arrays, same compiled program: other experts, other task count.
    indptr[:] = [0, 1, 1, 4, 6]
    indices[:] = [7, 6, 5, 4, 2, 0, 0, 0, 0, 0]
    check(indptr.copy(), indices.copy())


# ---- P.when / P.otherwise on tensor data ----------------------------------------------------


def test_when_chain_on_tensor_data_reacts_to_new_data_without_recompiling(
    rng: np.random.Generator,
) -> None:
    B = 6
    seq_lens = Tensor(np.array([512, 2048, 4096, 8192, 16384, 100], np.int64), name="seq_lens")
    X = Tensor(normal(rng, B, R, C), name="X")
    Y = Tensor(np.zeros((B, R, C), F32), name="Y")

    @workload
    def tiered():
        for b in P(B):
            with P.when(seq_lens[b] <= 2048):
                add1_k[b](x=X[b], y=Y[b])
            with P.when(seq_lens[b] <= 8192):
                add2_k[b](x=X[b], y=Y[b])
            with P.otherwise():
                add3_k[b](x=X[b], y=Y[b])

    program = tiered().compile(target="cpu_sim")
    names = program.kernel_names

    def check() -> None:
        Y.data[:] = 0
        tr = execute(program)
        lens = seq_lens.data
        tier = np.where(lens <= 2048, 1, np.where(lens <= 8192, 2, 3))
        assert program.stats.task_count == B  # exactly one branch per b
        assert tr["idx0"].tolist() == list(range(B))
        assert [names[k] for k in tr["kernel"]] == [f"add{t}_k" for t in tier]
        np.testing.assert_array_equal(Y.data, X.data + tier[:, None, None].astype(F32))

    check()  # tiers 1 1 2 2 3 1
    seq_lens.data[:] = [9000, 1, 3000, 2048, 8193, 8192]
    check()  # tiers 3 1 2 1 3 2


def test_when_without_otherwise_runs_nothing_when_false() -> None:
    flags = Tensor(np.array([1, 0, 1, 0], np.int64), name="flags")
    X = Tensor(np.ones((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")

    @workload
    def masked():
        for i in P(4):
            with P.when(flags[i] != 0):
                add1_k[i](x=X[i], y=Y[i])

    program = masked().compile(target="cpu_sim")
    assert execute(program)["idx0"].tolist() == [0, 2]
    flags.data[:] = [0, 0, 0, 1]
    Y.data[:] = 0
    assert execute(program)["idx0"].tolist() == [3]
    np.testing.assert_array_equal(Y.data[:3], 0)
    np.testing.assert_array_equal(Y.data[3], 2)


# ---- slots ----------------------------------------------------------------------------------


def test_slot_loaded_from_a_kernel_result_drives_a_predicate(rng: np.random.Generator) -> None:
    X = Tensor(np.zeros((R, C), F32), name="X")
    F = Tensor(np.zeros((R, C), F32), name="F")  # written by add3_k, read into slot 0
    A = Tensor(normal(rng, 3, R, C), name="A")
    Y = Tensor(np.zeros((3, R, C), F32), name="Y")

    @workload
    def gated():
        add3_k(x=X, y=F)  # F = X + 3
        slot_load_u64(0, F, 1, 2)
        slot_set_u64(1, slot_u64(0) * 2)
        for i in P(3):
            with P.when(slot_u64(0) > i + 3):
                add1_k[i](x=A[i], y=Y[i])
            with P.otherwise():
                add2_k[i](x=A[i], y=Y[i])

    program = gated().compile(target="cpu_sim")
    names = program.kernel_names

    def check(x12: float) -> None:
        X.data[:] = 0
        X.data[1, 2] = x12
        Y.data[:] = 0
        tr = execute(program)
        slot0 = int(x12 + 3)  # element [1, 2] of F after the first task, as u64
        assert program.runner.slots[0] == slot0
        assert program.runner.slots[1] == 2 * slot0
        ks = [names[k] for k in tr["kernel"]]
        assert ks[0] == "add3_k" and len(ks) == 4
        want = [1 if slot0 > i + 3 else 2 for i in range(3)]
        assert ks[1:] == [f"add{t}_k" for t in want]
        np.testing.assert_array_equal(F.data, X.data + 3)
        np.testing.assert_array_equal(Y.data, A.data + np.array(want, F32)[:, None, None])

    check(0.0)  # slot 3: 3 > 3 no, 3 > 4 no, 3 > 5 no
    check(2.0)  # slot 5: yes, yes, no
    check(9.0)  # slot 12: yes, yes, yes


# ---- runtime symbols and DenseDyn ------------------------------------------------------------


def test_symbol_sets_a_dense_dyn_extent_at_run_time() -> None:
    X = Tensor(np.arange(8 * R * C, dtype=F32).reshape(8, R, C), name="X")
    Y = Tensor(np.zeros((8, R, C), F32), name="Y")
    n = DenseDyn(symbol_u64("n"))

    @workload
    def prefix():
        for i in P(n):
            add1_k[i](x=X[i], y=Y[i])

    program = prefix().compile(target="cpu_sim")
    program.execute()  # a symbol never set reads 0: no task
    program.synchronize()
    assert program.stats.task_count == 0
    for count in (3, 8, 0):
        program.set_symbol_u64("n", count)
        Y.data[:] = 0
        program.execute()
        program.synchronize()
        assert program.stats.task_count == count
        if count:
            assert np.sort(program.trace, order="task")["idx0"].tolist() == list(range(count))
        np.testing.assert_array_equal(Y.data[:count], X.data[:count] + 1)
        np.testing.assert_array_equal(Y.data[count:], 0)


def test_symbol_in_a_predicate() -> None:
    X = Tensor(np.zeros((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")

    @workload
    def threshold():
        for i in P(4):
            with P.when(i >= symbol_u64("first")):
                add1_k[i](x=X[i], y=Y[i])

    program = threshold().compile(target="cpu_sim")
    program.set_symbol_u64("first", 1)
    assert execute(program)["idx0"].tolist() == [1, 2, 3]
    program.set_symbol_u64("first", 3)
    assert execute(program)["idx0"].tolist() == [3]


def test_dense_dyn_size_from_a_workload_parameter_and_from_a_tensor_element() -> None:
    X = Tensor(np.ones((6, R, C), F32), name="X")
    Y = Tensor(np.zeros((6, R, C), F32), name="Y")
    meta = Tensor(np.array([2], np.int64), name="meta")

    @workload
    def first_n(count):
        for i in P(DenseDyn(count)):
            add1_k[i](x=X[i], y=Y[i])

    for count in (5, 2):
        program = first_n(count).compile(target="cpu_sim")
        assert execute(program)["idx0"].tolist() == list(range(count))

    @workload
    def from_meta():
        for i in P(DenseDyn(meta[0])):
            add2_k[i](x=X[i], y=Y[i])

    program = from_meta().compile(target="cpu_sim")
    assert execute(program)["idx0"].tolist() == [0, 1]
    meta.data[0] = 4
    assert execute(program)["idx0"].tolist() == [0, 1, 2, 3]


# ---- Ragged ----------------------------------------------------------------------------------


def test_ragged_inner_extent_comes_from_the_lengths_tensor(rng: np.random.Generator) -> None:
    B, T = 4, 5
    lengths = np.array([3, 1, 4, 0], np.int64)
    tokens = Ragged(B, Tensor(lengths, name="lengths"))
    X = Tensor(normal(rng, B, T, R, C), name="X")
    Y = Tensor(np.zeros((B, T, R, C), F32), name="Y")

    @workload
    def per_token():
        for b in P(B):
            for t in P(tokens[b]):
                add2_k[b, t](x=X[b, t], y=Y[b, t])

    program = per_token().dispatch(DispatchPolicy.round_robin(1)).compile(target="cpu_sim")

    def check() -> None:
        Y.data[:] = 0
        tr = execute(program)
        pairs = [(b, t) for b in range(B) for t in range(int(lengths[b]))]
        assert program.stats.task_count == int(lengths.sum())
        assert list(zip(tr["idx0"].tolist(), tr["idx1"].tolist(), strict=True)) == pairs
        ref = np.zeros_like(Y.data)
        for b, t in pairs:
            ref[b, t] = X.data[b, t] + 2
        np.testing.assert_array_equal(Y.data, ref)
        # one worker: load 32 + constant 1 + add 32 + store 32 = 97 cycles back to back.
        assert tr["start"].tolist() == [97 * k for k in range(len(pairs))]

    check()
    lengths[:] = [0, 5, 2, 1]
    check()


# ---- a block of statements as the root --------------------------------------------------------


def test_block_root_runs_statements_in_order_with_their_dependencies(
    rng: np.random.Generator,
) -> None:
    X = Tensor(normal(rng, 3, R, C), name="X")
    Y = Tensor(np.zeros((3, R, C), F32), name="Y")
    S = Tensor(np.zeros((R, C), F32), name="S")
    Z = Tensor(np.zeros((R, C), F32), name="Z")

    @workload
    def block():
        for i in P(3):
            add1_k[i](x=X[i], y=Y[i])  # tasks 0-2
        for i in P(3):
            acc_k[i](x=Y[i], s=S)  # tasks 3-5: each waits for its Y[i] and the previous S
        add2_k(x=S, y=Z)  # task 6: reads S

    program = block().dispatch(DispatchPolicy.round_robin(8)).compile(target="cpu_sim")
    tr = execute(program)
    np.testing.assert_allclose(S.data, (X.data + 1).sum(0), rtol=1e-6)
    np.testing.assert_allclose(Z.data, S.data + 2, rtol=1e-6)
    assert program.stats.task_count == 7
    names = program.kernel_names
    assert [names[k] for k in tr["kernel"]] == ["add1_k"] * 3 + ["acc_k"] * 3 + ["add2_k"]
    # add1: load 32 + constant 1 + add 32 + store 32 = 97; acc: load s 32 + load x 32 + add 32
    # + store 32 = 128; the adds run in parallel, the accumulations chain, then add2 (97).
    assert tr["start"].tolist() == [0, 0, 0, 97, 97 + 128, 97 + 256, 97 + 384]
    assert program.stats.total_cycles == 97 + 384 + 97
