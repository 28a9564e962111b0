"""The reference implementation's loop-variable names (issue #17 item 6).

From the issue: the reference's names resolve in ``t.get``, ``axis()`` and ``set_axis_sizes``,
but only when no user name matches. ``P``/``P.grid`` variables take b, h, s, d, i, j, k, l, m, n
in order, one counter per workload call running across nested ``P``s (cycling after n); every
``P.seq`` variable is ``i`` and every ``P.sel`` variable is ``e``. A name that then resolves to
more than one loop is a ScheduleError listing the candidates. ``Workload.resolve_axis_name`` is
the one resolution all three use; the compiled behaviour is in
tests/backend/test_reference_scalars_e2e.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from pto_wsp import (
    Dense,
    DispatchPolicy,
    In,
    Out,
    P,
    ScheduleError,
    Sparse,
    Tensor,
    kernel,
    workload,
)

F32 = np.float32


@kernel
def k1(x: In[Tensor], y: Out[Tensor]): ...


X = Tensor(np.zeros((4, 4), F32), name="X")
Y = Tensor(np.zeros((4, 4), F32), name="Y")


def named(n: int, name: str) -> Dense:
    ax = Dense[n]
    ax.name = name
    return ax


def test_grid_names_run_across_nested_ps_and_seq_sel_have_fixed_names() -> None:
    A, B, C, D = named(2, "alpha"), named(2, "beta"), named(2, "gamma"), named(2, "delta")
    routing = Sparse(2, indptr=np.array([0, 1, 2]), indices=np.array([0, 3]), name="routing")
    seen = {}

    @workload
    def w():
        for x0, x1 in P(A, B):
            for y in P.seq(C):
                for z in P.grid(D):
                    for q in P.sel(routing[x0]):
                        seen.update(x0=x0, x1=x1, y=y, z=z, q=q)
                        k1[x0, x1](x=X[x0], y=Y[x1])

    wl = w()
    assert wl.resolve_axis_name("b") is seen["x0"]
    assert wl.resolve_axis_name("h") is seen["x1"]
    assert wl.resolve_axis_name("i") is seen["y"]  # P.seq
    assert wl.resolve_axis_name("s") is seen["z"]  # the counter ran across the nested P.grid
    assert wl.resolve_axis_name("e") is seen["q"]  # P.sel
    with pytest.raises(ScheduleError, match="no loop variable or axis named 'd'"):
        wl.resolve_axis_name("d")  # only three grid variables


def test_a_user_name_wins_over_a_reference_name() -> None:
    A, B = named(2, "alpha"), named(2, "beta")
    seen = {}

    @workload
    def w():
        for i in P(A):  # reference name b
            for h in P.seq(B):  # reference name i, but the user named the grid loop i
                seen.update(i=i, h=h)
                k1[i, h](x=X[i], y=Y[h])

    wl = w()
    assert wl.resolve_axis_name("i") is seen["i"]
    assert wl.resolve_axis_name("h") is seen["h"]
    assert wl.resolve_axis_name("b") is seen["i"]
    # the reference names resolve in a dispatch key (t.get) and a string key
    wl.dispatch(DispatchPolicy.affinity(lambda t: t.get("b"), num_aicpus=2))
    wl.dispatch(DispatchPolicy.hash("b", num_aicpus=2))


def test_counter_cycles_after_n_and_a_second_match_is_an_error_listing_both() -> None:
    axes = [named(1, f"a{k}") for k in range(11)]
    seen = []

    @workload
    def deep():
        def nest(level: int) -> None:
            if level == len(axes):
                k1(x=X, y=Y)
                return
            for v in P(axes[level]):
                seen.append(v)
                nest(level + 1)

        nest(0)

    wl = deep()
    assert [v.reference_name for v in seen] == list("bhsdijklmnb")
    assert wl.resolve_axis_name("n") is seen[9]
    with pytest.raises(ScheduleError) as info:
        wl.resolve_axis_name("b")  # the 1st and the 11th variable
    msg = str(info.value)
    assert "matches 2 loops" in msg and "P over a0" in msg and "P over a10" in msg
    assert "test_reference_loop_names.py" in msg


def test_two_seq_loops_make_i_ambiguous() -> None:
    A, B = named(2, "steps"), named(2, "more")

    @workload
    def two():
        for u in P.seq(A):
            k1[u](x=X[u], y=Y[u])
        for v in P.seq(B):
            k1[v](x=X[v], y=Y[v])

    wl = two()
    with pytest.raises(
        ScheduleError, match=r"'i'.*matches 2 loops: u \(P\.seq over steps.*v \(P\.seq over more"
    ):
        wl.dispatch(DispatchPolicy.affinity(lambda t: t.get("i")))


def test_one_counter_per_workload_call() -> None:
    A, B = named(2, "alpha"), named(2, "beta")
    seen = []

    @workload
    def inner():
        for v in P(B):
            seen.append(v)
            k1[v](x=X[v], y=Y[v])

    @workload
    def outer():
        for u in P(A):
            seen.append(u)
            k1[u](x=X[u], y=Y[u])
        inner()

    outer()
    outer()
    # each call starts at b; the inlined call of inner has its own counter
    assert [v.reference_name for v in seen] == ["b", "b", "b", "b"]
