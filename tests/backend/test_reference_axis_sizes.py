"""``Program.set_axis_sizes`` with the reference implementation's loop-variable names (issue #17
item 6), end to end on cpu_sim.

From the issue: the reference's names resolve in ``set_axis_sizes`` (and
``compile(axis_sizes=...)``) only when no user name matches. ``P``/``P.grid`` variables take
b, h, s, d, ... in order, every ``P.seq`` variable is ``i`` and every ``P.sel`` variable is
``e``. A name that then resolves to more than one loop is a ScheduleError listing the
candidates. Every loop here has a user name that is not a reference name, so only the reference
name can reach it; the sizes are checked by task counts and by the numbers in the outputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import DenseDyn, In, Out, P, Sparse, Tensor, kernel, pto, workload
from pto_wsp.backends.cache import BuildCache
from pto_wsp.errors import ScheduleError

F32 = np.float32
R, C = 4, 8


@kernel
def add1_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, 1.0))


def run(program) -> np.ndarray:
    program.execute()
    program.synchronize()
    return program.trace


@pytest.fixture
def no_rebuild(monkeypatch):
    """After ``arm()``, building or looking up a library fails the test: sizes are run-time."""

    def fail(*args, **kwargs):
        raise AssertionError("set_axis_sizes must not build or look up a library")

    return lambda: monkeypatch.setattr(BuildCache, "get_or_build", fail)


def data(*lead: int) -> tuple[Tensor, Tensor]:
    X = Tensor(np.arange(np.prod(lead) * R * C, dtype=F32).reshape(*lead, R, C), name="X")
    Y = Tensor(np.zeros((*lead, R, C), F32), name="Y")
    return X, Y


def expect_rows(X: Tensor, Y: Tensor, written: np.ndarray) -> None:
    """Y is X + 1 exactly where ``written`` (a boolean mask over the leading dims), else 0."""
    np.testing.assert_array_equal(Y.data[written], X.data[written] + 1)
    np.testing.assert_array_equal(Y.data[~written], 0)


def test_b_sizes_a_p_loop_the_user_named_otherwise(no_rebuild) -> None:
    X, Y = data(16)
    rows = DenseDyn(16)

    @workload
    def head():
        for row in P(rows):  # reference name b
            add1_k[row](x=X[row], y=Y[row])

    program = head().compile(target="cpu_sim")
    no_rebuild()
    for count in (5, 0, 11):
        Y.data[:] = 0
        program.set_axis_sizes({"b": count})
        trace = run(program)
        assert program.stats.task_count == count
        assert sorted(trace["idx0"].tolist()) == list(range(count))
        expect_rows(X, Y, np.arange(16) < count)


def test_b_and_h_size_a_grid_and_compile_takes_them() -> None:
    X, Y = data(4, 3)
    outer, inner = DenseDyn(4), DenseDyn(3)

    @workload
    def grid():
        for q, r in P.grid(outer, inner):  # reference names b, h
            add1_k[q, r](x=X[q, r], y=Y[q, r])

    program = grid().compile(target="cpu_sim", axis_sizes={"b": 2, "h": 3})
    run(program)
    assert program.stats.task_count == 6
    mask = np.zeros((4, 3), bool)
    mask[:2, :3] = True
    expect_rows(X, Y, mask)

    Y.data[:] = 0
    program.set_axis_sizes({"h": 1})  # b keeps its size
    run(program)
    assert program.stats.task_count == 2
    mask[:] = False
    mask[:2, :1] = True
    expect_rows(X, Y, mask)


def test_i_sizes_a_seq_loop_the_user_named_otherwise(no_rebuild) -> None:
    X, Y = data(8)
    steps = DenseDyn(8)

    @workload
    def stepped():
        for step in P.seq(steps):  # reference name i
            add1_k[step](x=X[step], y=Y[step])

    program = stepped().compile(target="cpu_sim")
    no_rebuild()
    program.set_axis_sizes({"i": 3})
    trace = run(program)
    assert program.stats.task_count == 3
    assert sorted(trace["idx0"].tolist()) == [0, 1, 2]
    expect_rows(X, Y, np.arange(8) < 3)


def test_e_names_the_sel_loop_whose_size_is_fixed() -> None:
    """``e`` resolves to the ``P.sel`` loop; a sparse row's length is data, not a run-time
    size, so the error says so (and lists the loops that take one)."""
    X, Y = data(4)
    routing = Sparse(1, indptr=np.array([0, 2]), indices=np.array([1, 3]), name="routing")
    rows = DenseDyn(1)

    @workload
    def routed():
        for row in P(rows):
            for expert in P.sel(routing[row]):  # reference name e
                add1_k[row, expert](x=X[expert], y=Y[expert])

    program = routed().compile(target="cpu_sim")
    with pytest.raises(ScheduleError) as err:
        program.set_axis_sizes({"e": 1})
    msg = err.value.message
    assert "loop 'e' takes no run-time size" in msg and "fixed" in msg, msg
    assert "row (rows)" in msg, msg  # the loop that does take one
    run(program)
    expect_rows(X, Y, np.isin(np.arange(4), [1, 3]))


def test_a_reference_name_of_two_loops_is_an_error_listing_both() -> None:
    X, Y = data(16)
    first, second = DenseDyn(4), DenseDyn(4)

    @workload
    def two_phases():
        for u in P.seq(first):  # reference name i
            add1_k[u](x=X[u], y=Y[u])
        for v in P.seq(second):  # reference name i too
            add1_k[v + 8](x=X[v + 8], y=Y[v + 8])

    program = two_phases().compile(target="cpu_sim")
    with pytest.raises(ScheduleError) as err:
        program.set_axis_sizes({"i": 2})
    msg = err.value.message
    assert "'i'" in msg and "matches 2 loops" in msg, msg
    assert "u (P.seq over first" in msg and "v (P.seq over second" in msg, msg
    assert program.axis_sizes() == {"first": 4, "second": 4}  # nothing changed
    with pytest.raises(ScheduleError, match="matches 2 loops"):
        two_phases().compile(target="cpu_sim", axis_sizes={"i": 2})
    # the loops' own names still size them one at a time
    program.set_axis_sizes({"u": 1, "v": 3})
    run(program)
    assert program.stats.task_count == 4
    expect_rows(X, Y, np.isin(np.arange(16), [0, 8, 9, 10]))


def test_a_user_name_wins_over_the_reference_name() -> None:
    X, Y = data(16)
    rows, steps = DenseDyn(4), DenseDyn(4)

    @workload
    def mixed():
        for i in P(rows):  # the user's i (reference name b)
            add1_k[i](x=X[i], y=Y[i])
        for step in P.seq(steps):  # reference name i, shadowed by the user's i
            add1_k[step + 8](x=X[step + 8], y=Y[step + 8])

    program = mixed().compile(target="cpu_sim")
    program.set_axis_sizes({"i": 1})  # the P loop named i, not the P.seq loop
    assert program.axis_sizes() == {"rows": 1, "steps": 4}
    run(program)
    assert program.stats.task_count == 5
    expect_rows(X, Y, np.isin(np.arange(16), [0, 8, 9, 10, 11]))
