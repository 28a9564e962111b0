"""Reference scalar expressions end to end on cpu_sim (issue #17 items 2 and 6).

Each expression is compiled into the generated C++ and evaluated there; the values are read back
(runtime slots, the tasks that ran, the workers they ran on, the data they wrote) and compared
with Python's own arithmetic / numpy. Runtime symbols feed the operands, so one compiled program
is checked on many values, negative ones included: ``//`` and ``%`` keep Python's floor
semantics in keys, predicates, indices and slot values (the reference truncates).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from pto_wsp import (
    Dense,
    DispatchPolicy,
    In,
    Out,
    P,
    ScheduleError,
    ScheduleWarning,
    Tensor,
    kernel,
    pto,
    slot_set_u64,
    workload,
)
from pto_wsp.compiler.workers import DEFAULT_WORKERS
from pto_wsp.language.scalar_expr import axis, slot_u64, symbol_u64
from pto_wsp.runtime.trace import by_task

F32 = np.float32
R, C = 4, 4
TASK = R * C * 2  # an empty-body copy of a 4x4 tile: load 16 + store 16 cycles
U64 = 1 << 64


@kernel
def copy_k(x: In[Tensor], y: Out[Tensor]): ...


@kernel
def add1_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, 1.0))


def run(program) -> np.ndarray:
    program.execute()
    program.synchronize()
    return by_task(program.trace)


def tiles(n: int, name: str) -> Tensor:
    return Tensor(np.zeros((n, R, C), F32), name=name)


def signed(u: int) -> int:
    """A slot's u64 value read as i64."""
    return int(np.array([u], np.uint64).view(np.int64)[0])


def named(n: int, name: str) -> Dense:
    ax = Dense[n]
    ax.name = name
    return ax


# ---- // and % keep Python's floor semantics everywhere ------------------------------------


def test_floor_division_and_modulo_of_negative_values_in_generated_code() -> None:
    """Slot values computed by the artifact from symbols a, b (i64 via cast_i64) equal Python's
    ``a // b``, ``a % b``; u64 operands divide unsigned."""
    X, Y = tiles(1, "X"), tiles(1, "Y")
    a, b = symbol_u64("a").cast_i64(), symbol_u64("b").cast_i64()

    @workload
    def arith():
        slot_set_u64(0, a // b)
        slot_set_u64(1, a % b)
        slot_set_u64(2, (a - 7) // 4 + a % -3)  # literals adapt to i64
        slot_set_u64(3, symbol_u64("a") // symbol_u64("b"))  # u64: unsigned
        slot_set_u64(4, symbol_u64("a") % symbol_u64("b"))
        copy_k(x=X[0], y=Y[0])

    program = arith().compile(target="cpu_sim")
    for x, y in itertools.product((-7, -6, -1, 0, 5, 9), (-4, -3, 2, 3)):
        program.set_symbol_u64("a", x)
        program.set_symbol_u64("b", y)
        run(program)
        slots = [int(s) for s in program.runner.slots[:5]]
        assert signed(slots[0]) == x // y == int(np.floor_divide(x, y)), (x, y)
        assert signed(slots[1]) == x % y == int(np.mod(x, y)), (x, y)
        assert signed(slots[2]) == (x - 7) // 4 + x % -3, (x, y)
        ux, uy = x % U64, y % U64  # the symbols' bits as u64
        assert slots[3] == ux // uy, (x, y)
        assert slots[4] == ux % uy, (x, y)


def test_floor_semantics_in_keys() -> None:
    """A dispatch key over every i in 0..5: worker ((i - 3) // 2) mod 4 = 2 3 3 0 0 1."""
    X, Y = tiles(6, "X"), tiles(6, "Y")

    @workload
    def flat():
        for i in P(named(6, "n")):
            copy_k[i](x=X[i], y=Y[i])

    w = flat().dispatch(
        DispatchPolicy.dispatch_by(lambda t: (t.get("i") - 3) // 2 + t.get("i") % -4, 4)
    )
    tr = run(w.compile(target="cpu_sim"))
    assert tr["worker"].tolist() == [((i - 3) // 2 + i % -4) % 4 for i in range(6)]


def test_floor_semantics_in_predicates_indices_and_keys() -> None:
    """(i - 3) // 2 and (i - 3) % 4 for i in 0..5: Python gives -2 -1 -1 0 0 1 and 1 2 3 0 1 2
    (truncation would give -1 -1 0 0 0 1 and -3 -2 -1 0 1 2)."""
    rng = np.random.default_rng(7)
    X = Tensor(rng.standard_normal((6, R, C)).astype(F32), name="X")
    Y = tiles(4, "Y")
    Z = tiles(6, "Z")
    n = named(6, "n")

    @workload
    def floors():
        for i in P(n):
            with P.when((i - 3) // 2 == -1):
                copy_k[i](x=X[i], y=Z[i])
        for j in P(named(4, "m")):
            add1_k[j](x=X[j], y=Y[(j - 3) % 4])

    w = floors().dispatch(DispatchPolicy.dispatch_by(lambda t: (t.get("i") - 3) // 2, 4))
    tr = run(w.compile(target="cpu_sim"))
    copies = tr[tr["kernel"] == tr["kernel"][0]]
    assert copies["idx0"].tolist() == [1, 2]  # (i - 3) // 2 == -1 for i = 1, 2 only
    # the key's worker: ((i - 3) // 2) mod 4 = -1 mod 4 = 3 (truncation would put i = 2 on 0)
    assert copies["worker"].tolist() == [3, 3]
    want = np.zeros((4, R, C), F32)
    for i in range(4):
        want[(i - 3) % 4] = X.data[i] + 1
    np.testing.assert_array_equal(Y.data, want)


# ---- types: comparisons, logic, bitwise, u64, casts, where -----------------------------------


def test_logic_on_bools_and_bitwise_on_integers_in_predicates() -> None:
    X, Y = tiles(8, "X"), tiles(8, "Y")
    preds = {
        "and": lambda i: (i > 1) & (i < 4),
        "or": lambda i: (i < 1) | (i > 6),
        "xor_bool": lambda i: (i < 4) ^ (i % 2 == 0),
        "not_bool": lambda i: ~(i < 6),
        "bit_and": lambda i: (i & 5) == 4,
        "bit_or": lambda i: (i | 1) == 3,
        "bit_xor": lambda i: (i ^ 3) == 1,
        "bit_not": lambda i: ~i == -3,  # Python: ~2 == -3
        "shifts": lambda i: ((1 << i) & 6 != 0) & ((i >> 1) == 1),
    }
    for name, pred in preds.items():

        @workload
        def gated(pred=pred):
            for i in P(named(8, "items")):
                with P.when(pred(i)):
                    copy_k[i](x=X[i], y=Y[i])

        tr = run(gated().compile(target="cpu_sim"))
        # the same lambda on Python ints (whose ~ on a bool is bitwise: there, not)
        want = [i for i in range(8) if (i >= 6 if name == "not_bool" else bool(pred(i)))]
        assert tr["idx0"].tolist() == want, name


def test_u64_values_are_unsigned_and_mix_with_loop_variables_as_i64() -> None:
    X, Y = tiles(4, "X"), tiles(4, "Y")
    s = slot_u64(0)

    def build(pred):
        @workload
        def gated():
            slot_set_u64(0, symbol_u64("s"))
            for i in P(named(4, "items")):
                with P.when(pred(i)):
                    copy_k[i](x=X[i], y=Y[i])

        return gated().compile(target="cpu_sim")

    wraps = build(lambda i: s - 5 > 0)  # u64 - literal: wraps below 0, compared unsigned
    signed_cmp = build(lambda i: s.cast_i64() - 5 > 0)
    mixed = build(lambda i: s - i > 1)  # a loop variable mixes with the slot: i64
    shifted = build(lambda i: (s >> 63) == i)  # logical shift of the u64 bits
    for value in (3, 7):
        for p in (wraps, signed_cmp, mixed, shifted):
            p.set_symbol_u64("s", value)
        assert run(wraps)["idx0"].tolist() == [0, 1, 2, 3]  # 3 - 5 is 2**64 - 2 > 0; 7 - 5 > 0
        assert run(signed_cmp)["idx0"].tolist() == ([] if value == 3 else [0, 1, 2, 3])
        assert run(mixed)["idx0"].tolist() == [i for i in range(4) if value - i > 1]
        assert run(shifted)["idx0"].tolist() == [0]
    shifted.set_symbol_u64("s", -1)  # bits 2**64 - 1: the top bit is 1
    assert run(shifted)["idx0"].tolist() == [1]


def test_casts_and_where_compute_in_generated_code() -> None:
    X, Y = tiles(1, "X"), tiles(1, "Y")
    F = Tensor(np.array([-2.7, 3.9], F32), name="F")
    i64 = symbol_u64("v").cast_i64()

    @workload
    def casts():
        slot_set_u64(0, (i64 < 0).cast_i64() + 10)  # a bool counts as 0/1 once cast
        slot_set_u64(1, i64.cast_bool().cast_u64())
        slot_set_u64(2, (i64 < 0).where(-i64, i64 * 2))
        slot_set_u64(3, F[0].cast_i64())  # a float truncates toward zero
        slot_set_u64(4, F[1].cast_u64())
        slot_set_u64(5, i64.cast_u64() >> 60)  # -1's bits as u64, shifted logically
        copy_k(x=X[0], y=Y[0])

    program = casts().compile(target="cpu_sim")
    for v in (-5, 0, 6):
        program.set_symbol_u64("v", v)
        run(program)
        got = [int(x) for x in program.runner.slots[:6]]
        assert got[0] == (1 if v < 0 else 0) + 10
        assert got[1] == int(v != 0)
        assert signed(got[2]) == (-v if v < 0 else v * 2)
        assert signed(got[3]) == int(np.trunc(np.float32(-2.7))) == -2
        assert got[4] == 3
        assert got[5] == (v % U64) >> 60


# ---- schedule keys: t.params[i] ---------------------------------------------------------------


def test_t_params_is_the_ith_kernel_bracket_value_and_0_out_of_range() -> None:
    X, Y = tiles(6, "X"), tiles(6, "Y")
    batch, heads = named(2, "batch"), named(3, "heads")

    @workload
    def bh():
        for b, h in P(batch, heads):
            copy_k[b, h](x=X[b * 3 + h], y=Y[b * 3 + h])
        for b in P(batch):
            copy_k[b](x=X[b], y=Y[b])  # one bracket value: t.params[1] is 0 here

    def workers(key) -> list[tuple[int, int, int]]:
        w = bh().dispatch(DispatchPolicy.dispatch_by(key, num_aicpus=5))
        tr = run(w.compile(target="cpu_sim"))
        return [(int(r["idx0"]), int(r["idx1"]), int(r["worker"])) for r in tr]

    got = workers(lambda t: t.params[1])
    assert got[:6] == [(b, h, h) for b in range(2) for h in range(3)]
    assert got[6:] == [(0, -1, 0), (1, -1, 0)]
    got = workers(lambda t: t.params[0] * 2 + t.params[1])
    assert [w for *_, w in got] == [(b * 2 + h) % 5 for b in range(2) for h in range(3)] + [0, 2]
    assert [w for *_, w in workers(lambda t: t.params[7] + 1)] == [1] * 8
    with pytest.raises(ScheduleError, match=r"t\.params\[i\] takes an int index >= 0"):
        DispatchPolicy.affinity(lambda t: t.params[-1])


# ---- DESIGN §2's worker-count rule ------------------------------------------------------------


def four_tasks():
    X, Y = tiles(4, "X"), tiles(4, "Y")

    @workload
    def flat():
        for i in P(named(4, "items")):
            copy_k[i](x=X[i], y=Y[i])

    return flat()


def test_no_dispatch_runs_on_one_worker() -> None:
    assert DEFAULT_WORKERS == 1  # DESIGN §2, the reference's rule
    program = four_tasks().compile(target="cpu_sim")
    tr = run(program)
    assert program.stats.num_workers == 1
    assert tr["worker"].tolist() == [0, 0, 0, 0]
    assert tr["start"].tolist() == [0, TASK, 2 * TASK, 3 * TASK]  # one after another
    assert program.stats.total_cycles == 4 * TASK


@pytest.mark.parametrize("policy", ["affinity", "hash", "dispatch_by"])
def test_keyed_dispatch_takes_num_aicpus_else_streams_else_one(policy: str) -> None:
    make = getattr(DispatchPolicy, policy)

    def workers(w) -> tuple[int, list[int]]:
        program = w.compile(target="cpu_sim")
        tr = run(program)
        return program.stats.num_workers, tr["worker"].tolist()

    n, ws = workers(four_tasks().dispatch(make(lambda t: t.get("i"))))
    assert (n, ws) == (1, [0, 0, 0, 0])  # any key mod 1 (hash too)
    n, ws = workers(four_tasks().dispatch(make(lambda t: t.get("i"), num_aicpus=3)))
    assert n == 3
    if policy != "hash":
        assert ws == [0, 1, 2, 0]  # key mod 3
    n, _ = workers(four_tasks().dispatch(make("i")).streams(2))
    assert n == 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n, _ = workers(four_tasks().dispatch(make("i", num_aicpus=2)).streams(3))
    assert n == 3  # the larger wins, and says so
    assert any(
        issubclass(w.category, ScheduleWarning) and "asks for 2 workers" in str(w.message)
        for w in caught
    )


def test_num_aicpus_must_be_a_count() -> None:
    with pytest.raises(ScheduleError, match=r"num_aicpus\) must be >= 0, got -1"):
        DispatchPolicy.affinity("i", num_aicpus=-1)
    with pytest.raises(ScheduleError, match=r"must be an int >= 0, got 2.5"):
        DispatchPolicy.hash("i", num_aicpus=2.5)
    assert str(DispatchPolicy.dispatch_by("i", num_aicpus=4)).endswith("num_aicpus=4)")


# ---- reference loop-variable names in compiled keys and axis() -------------------------------


def test_reference_loop_names_compile_in_keys_and_axis_refs() -> None:
    X, Y = tiles(6, "X"), tiles(6, "Y")
    rows, cols = named(2, "rows"), named(3, "cols")

    @workload
    def grid():
        for r, c in P(rows, cols):  # reference names b, h
            with P.when(axis("h") != 1):
                copy_k[r, c](x=X[r * 3 + c], y=Y[r * 3 + c])

    w = grid().dispatch(DispatchPolicy.affinity(lambda t: t.get("b") * 3 + t.get("h"), 6))
    tr = run(w.compile(target="cpu_sim"))
    want = [(r, c) for r in range(2) for c in range(3) if c != 1]
    assert [(int(x["idx0"]), int(x["idx1"])) for x in tr] == want
    assert tr["worker"].tolist() == [r * 3 + c for r, c in want]
