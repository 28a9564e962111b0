"""Scripts in the reference implementation's builder style run end to end on cpu_sim (issue #17
item 5): numerics against numpy, and the same results and cycles as the equivalent ``@workload``
form. CSP built with process / send / consume / connect runs, and the builder's consume variable
is the first axis value of the task that was sent.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pytest

from pto_wsp import (
    Channel,
    Dense,
    DenseDyn,
    DispatchPolicy,
    In,
    Out,
    P,
    Tensor,
    connect,
    consume,
    kernel,
    process,
    pto,
    send,
    workload,
)
from pto_wsp import sequential as spec_sequential
from pto_wsp.primitives import cond, for_each, parallel_for, sequential, task

F32 = np.float32


@kernel
def double(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, x))


@kernel
def square(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.mul(x, x))


@pytest.fixture(autouse=True)
def quiet_builder() -> Iterator[None]:
    """The builder forms warn (tests/unit/test_builder_style.py checks how); not the point here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def run(w, workers: int = 2):
    program = w.dispatch(DispatchPolicy.round_robin(workers)).compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def tensors(seed: int) -> tuple[Tensor, Tensor, Tensor]:
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((4, 4, 8)).astype(F32))
    return x, Tensor(np.zeros((4, 4, 8), F32)), Tensor(np.zeros((4, 4, 8), F32))


def test_builder_script_matches_numpy_and_the_workload_form() -> None:
    batch = Dense[4]

    # builder style: loops, a branch and an ordered composition built outside any @workload
    bx, bt, by = tensors(0)
    stage1 = parallel_for(batch, lambda b: task(double, [b], {"x": bx[b], "y": bt[b]}))
    stage2 = for_each(
        batch,
        lambda b: cond(
            b < 2,
            task(square, [b], {"x": bt[b], "y": by[b]}),
            task(double, [b], {"x": bt[b], "y": by[b]}),
        ),
    )
    built = run(sequential(stage1, stage2))

    # the same program in the spec's form
    sx, st, sy = tensors(0)

    @workload
    def first(batch):
        for b in P(batch):
            double[b](x=sx[b], y=st[b])

    @workload
    def second(batch):
        for b in P.seq(batch):
            with P.when(b < 2):
                square[b](x=st[b], y=sy[b])
            with P.otherwise():
                double[b](x=st[b], y=sy[b])

    spec = run(spec_sequential(first(batch), second(batch)))

    x = bx.data
    expected = np.concatenate([(2 * x[:2]) ** 2, 4 * x[2:]])
    np.testing.assert_allclose(by.data, expected, rtol=1e-6)
    np.testing.assert_array_equal(by.data, sy.data)
    np.testing.assert_array_equal(bt.data, st.data)
    assert built.stats().task_count == spec.stats().task_count == 8
    assert built.stats().total_cycles == spec.stats().total_cycles > 0


def test_csp_builder_runs_and_its_consume_variable_is_the_sent_tasks_first_axis() -> None:
    """The loader sends the tiles in reverse (item k carries the task of tile n-1-k). The
    consumer writes out[t]: with t the sent task's first axis (the reference's rule) every tile
    lands in its own row; with t the item number they would land reversed."""
    n = 4
    rng = np.random.default_rng(1)
    data = Tensor(rng.standard_normal((n, 4, 8)).astype(F32))
    buf = Tensor(np.zeros((4, 8), F32))
    out = Tensor(np.zeros((n, 4, 8), F32))
    ch = Channel("tiles", depth=2)
    tiles = DenseDyn(n)

    loader = (
        process("loader")
        .produces(ch)
        .body(
            for_each(
                tiles,
                lambda i: send(ch, task(double, [n - 1 - i], {"x": data[n - 1 - i], "y": buf})),
            )
        )
    )
    computer = (
        process("computer")
        .consumes(ch)
        .body(consume(ch, lambda t: task(square, [t], {"x": buf, "y": out[t]})))
    )
    pipeline = connect([loader, computer], [ch])
    built = run(pipeline)
    np.testing.assert_allclose(out.data, (2 * data.data) ** 2, rtol=1e-6)
    assert built.stats().task_count == 2 * n

    # The spec form, where t is the item number, says the same with out[n-1-t]: same results,
    # same cycles.
    out2 = Tensor(np.zeros((n, 4, 8), F32))
    ch2 = Channel("tiles", depth=2)

    @workload
    def spec_pipeline():
        with P.pipe():
            for i in P.seq(tiles):
                send(ch2, double[n - 1 - i](x=data[n - 1 - i], y=buf))
            with consume(ch2) as t:
                square[t](x=buf, y=out2[n - 1 - t])

    spec = run(spec_pipeline())
    np.testing.assert_array_equal(out2.data, out.data)
    assert built.stats().total_cycles == spec.stats().total_cycles
