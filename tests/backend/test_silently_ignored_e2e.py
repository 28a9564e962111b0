"""Nothing is silently ignored (DESIGN §6), end to end on cpu_sim.

Each argument the backend used to drop is either honoured (``Constexpr`` at a call, ``cost=``
on any kernel, one Workload object used twice in ``sequential``/``combine``) and checked in the
numbers or the trace, or reported: a ``ScheduleWarning`` recorded on ``program.diagnostics``
(``Tensor(location=...)``, a dispatch count that ``streams(n)`` overrides, a start threshold
that cannot delay anything) or an error at the user's line (a missing header, a ``Channel[T]``
send of the wrong type, ``ChannelClosed`` / ``ChannelFull`` at run time).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from pto_wsp import (
    Channel,
    ChannelClosed,
    ChannelFull,
    CompileError,
    Constexpr,
    DispatchPolicy,
    DType,
    In,
    InOut,
    Location,
    Out,
    P,
    ScheduleWarning,
    StartPolicy,
    Tensor,
    Tile,
    TypeCheckError,
    combine,
    connect,
    consume,
    kernel,
    process,
    pto,
    send,
    sequential,
    workload,
)
from pto_wsp.runtime.trace import by_task

F32 = np.float32
T4 = Tile[4, 4, DType.F32]
THIS = __file__


def line_of(marker: str) -> int:
    with open(THIS, encoding="utf-8") as f:
        hits = [n for n, text in enumerate(f, 1) if text.rstrip().endswith(marker)]
    assert len(hits) == 1, marker
    return hits[0]


def run(w):
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return program


def data(n: int, name: str, seed: int = 0) -> Tensor:
    rng = np.random.default_rng(seed)
    return Tensor(rng.standard_normal((n, 4, 4)).astype(F32), name=name)


def zeros(n: int, name: str) -> Tensor:
    return Tensor(np.zeros((n, 4, 4), F32), name=name)


# ---- Constexpr at a call ---------------------------------------------------------------------


@kernel
def scale_default(x: In[T4], y: Out[T4], k: Constexpr[float] = 1.0):
    pto.store(y, pto.mul(pto.load(x), k))


@kernel
def scale_required(x: In[T4], y: Out[T4], k: Constexpr[float]):
    pto.store(y, pto.mul(pto.load(x), k))


@kernel
def shift_rows(x: In[T4], y: Out[T4], negate: Constexpr[bool] = False, add: Constexpr[int] = 0):
    v = pto.load(x)
    if negate:  # a Python branch on a Constexpr: traced per value
        v = pto.neg(v)
    pto.store(y, pto.add(v, float(add)))


def test_constexpr_at_a_call_of_an_all_tile_kernel_is_honoured() -> None:
    """Every call site computes with the value it passed, with or without a default."""
    X = data(6, "X")
    Y = zeros(6, "Y")

    @workload
    def w():
        scale_default(X[0], Y[0])  # the default, 1.0
        scale_default(X[1], Y[1], k=2.0)
        scale_default(X[2], Y[2], 3.0)
        scale_required(X[3], Y[3], k=-0.5)
        scale_required(X[4], Y[4], k=4)  # an int for Constexpr[float], as Python allows
        for i in P(1):
            scale_required[i](X[5], Y[5], k=10.0)

    run(w())
    factors = [1.0, 2.0, 3.0, -0.5, 4.0, 10.0]
    for i, k in enumerate(factors):
        np.testing.assert_allclose(Y.data[i], X.data[i] * F32(k), rtol=1e-6, err_msg=f"call {i}")


def test_constexpr_selects_the_traced_body_per_call() -> None:
    X = data(3, "X", seed=1)
    Y = zeros(3, "Y")

    @workload
    def w():
        shift_rows(X[0], Y[0])
        shift_rows(X[1], Y[1], negate=True)
        shift_rows(X[2], Y[2], negate=True, add=3)

    run(w())
    np.testing.assert_allclose(Y.data[0], X.data[0], rtol=1e-6)
    np.testing.assert_allclose(Y.data[1], -X.data[1], rtol=1e-6)
    np.testing.assert_allclose(Y.data[2], -X.data[2] + 3, rtol=1e-6)


def test_a_constexpr_of_the_wrong_type_at_a_call_names_the_argument() -> None:
    X, Y = data(1, "X"), zeros(1, "Y")

    @workload
    def w():
        scale_required(X[0], Y[0], k="two")  # L-bad-constexpr

    with pytest.raises(TypeCheckError, match=r"argument 'k' \(Constexpr\[float\]\)") as err:
        w()
    assert err.value.loc is not None and err.value.loc.line == line_of("# L-bad-constexpr")


# ---- cost= on every kind of kernel -----------------------------------------------------------


@kernel(cost=1234)
def traced_with_cost(x: In[T4], y: Out[T4]):
    pto.store(y, pto.load(x))


@kernel(cost=77)
def empty_with_cost(x: In[T4], y: Out[T4]): ...


@kernel(cost=5, cpp_src="(void)x; (void)y;")
def cpp_with_cost(x: In[T4], y: Out[T4]): ...


@kernel
def traced_no_cost(x: In[T4], y: Out[T4]):
    pto.store(y, pto.load(x))


def test_cost_overrides_the_model_on_every_kernel_kind() -> None:
    X, Y = data(4, "X"), zeros(4, "Y")

    @workload
    def w():
        traced_with_cost(X[0], Y[0])
        empty_with_cost(X[1], Y[1])
        cpp_with_cost(X[2], Y[2])
        traced_no_cost(X[3], Y[3])

    program = run(w())
    tr = by_task(program.trace)
    names = [program.module.kernels[int(k)].name for k in tr["kernel"]]
    cycles = dict(zip(names, (tr["end"] - tr["start"]).tolist(), strict=True))
    # traced_no_cost is modelled: load 16 + store 16 cycles for a 4x4 tile.
    assert cycles == {
        "traced_with_cost": 1234,
        "empty_with_cost": 77,
        "cpp_with_cost": 5,
        "traced_no_cost": 32,
    }
    # cost= changes the cycles only: the traced body still computes.
    np.testing.assert_array_equal(Y.data[0], X.data[0])


# ---- cpp_includes ----------------------------------------------------------------------------


def test_a_missing_header_is_a_compile_error_naming_it_and_the_kernel() -> None:
    @kernel(cpp_includes=["no_such_header_pto_wsp_test.h"], cpp_src="(void)x; (void)y;")
    def needs_header(x: In[T4], y: Out[T4]): ...  # L-missing-header

    X, Y = data(1, "X"), zeros(1, "Y")

    @workload
    def w():
        needs_header(X[0], Y[0])

    with pytest.raises(CompileError) as err:
        w().compile(target="cpu_sim")
    msg = str(err.value)
    assert "no_such_header_pto_wsp_test.h" in msg and "kernel needs_header" in msg
    assert err.value.loc is not None and err.value.loc.file == THIS
    assert err.value.loc.line == line_of("# L-missing-header")


def test_an_absolute_header_path_reaches_the_compiler(tmp_path: Path) -> None:
    header = tmp_path / "twice.h"
    header.write_text("static inline float twice(float v) { return 2.0f * v; }\n")

    @kernel(
        cpp_includes=[str(header)],
        cpp_src="""
        for (int64_t r = 0; r < x->rows; ++r)
            for (int64_t c = 0; c < x->cols; ++c)
                ((float*)y->data)[r * y->row_stride + c * y->col_stride] =
                    twice(((float*)x->data)[r * x->row_stride + c * x->col_stride]);
        """,
    )
    def doubled(x: In[T4], y: Out[T4]): ...

    X, Y = data(2, "X"), zeros(2, "Y")

    @workload
    def w():
        for i in P(2):
            doubled[i](X[i], Y[i])

    run(w())
    np.testing.assert_array_equal(Y.data, 2 * X.data)


# ---- Tensor(location=...) ---------------------------------------------------------------------


def test_a_non_global_tensor_location_is_a_schedule_warning() -> None:
    X = Tensor(data(2, "X").data, name="X_ub", location=Location.UB)
    Y = zeros(2, "Y")

    @workload
    def w():
        for i in P(2):
            traced_no_cost[i](X[i], Y[i])  # L-ub-use

    with pytest.warns(ScheduleWarning, match="X_ub.*location=Location.UB") as rec:
        program = run(w())
    assert any(r.lineno == line_of("# L-ub-use") for r in rec)
    (diag,) = [d for d in program.diagnostics if d.directive == "Tensor(location)"]
    assert diag.loc.line == line_of("# L-ub-use") and "memory is flat" in diag.message
    # Recorded, not modelled: the numbers and the cycles are those of a global tensor (two
    # 32-cycle tasks back to back on the 1 default worker).
    np.testing.assert_array_equal(Y.data, X.data)
    assert program.stats.total_cycles == 2 * 32


# ---- Channel[T] ------------------------------------------------------------------------------


@kernel
def produce(x: In[T4], stage: Out[T4]):
    pto.store(stage, pto.load(x))


@kernel
def consume_scaled(stage: In[T4], y: InOut[T4]):
    pto.store(y, pto.mul(pto.load(stage), 2.0))


@pytest.mark.parametrize("elem", [Tile, Tile[4, 4, DType.F32], Tensor])
def test_a_typed_channel_carries_items_of_its_type(elem) -> None:
    X, S, Y = data(3, "X", seed=2), zeros(3, "S"), zeros(3, "Y")
    ch = Channel[elem]("typed", depth=2)

    @workload
    def w():
        with P.pipe():
            for i in P.seq(3):
                send(ch, produce[i](X[i], S[i]))
            with consume(ch) as t:
                consume_scaled[t](S[t], Y[t])

    run(w())
    np.testing.assert_allclose(Y.data, 2 * X.data, rtol=1e-6)


@pytest.mark.parametrize(
    ("elem", "expected"),
    [
        (str, "str"),
        (int, "int"),
        (Tile[8, 8, DType.F32], r"Tile\[8, 8"),
        (Tile[4, 4, DType.F16], ""),
    ],
)
def test_a_send_of_the_wrong_type_names_channel_expected_and_actual(elem, expected) -> None:
    X, S = data(1, "X"), zeros(1, "S")
    ch = Channel[elem]("wrong", depth=1)

    @workload
    def w():
        with P.pipe():
            send(ch, produce(X[0], S[0]))  # L-wrong-send
            with consume(ch) as t:
                consume_scaled[t](S[0], S[0])

    with pytest.raises(TypeCheckError) as err:
        w()
    msg = str(err.value)
    assert "channel wrong" in msg and "Channel[" in msg and "kernel produce" in msg
    assert "f32[4, 4]" in msg  # the actual item: what the call writes
    if expected:
        assert re.search(expected, msg), msg
    assert err.value.loc is not None and err.value.loc.line == line_of("# L-wrong-send")


# ---- streams(n) over a dispatch count, threshold without issue cost ---------------------------


def grid(n: int, name: str = "G"):
    X, Y = data(n, f"{name}x"), zeros(n, f"{name}y")

    @workload
    def w():
        for i in P(n):
            traced_no_cost[i](X[i], Y[i])

    return w()


def test_streams_overriding_a_dispatch_count_is_a_warning_and_runs_on_the_larger() -> None:
    w = grid(4).dispatch(DispatchPolicy.round_robin(1)).streams(2)  # L-rr1-streams2
    with pytest.warns(ScheduleWarning, match=r"round_robin.*1 worker.*streams\(2\).*2 workers"):
        program = run(w)
    (diag,) = [d for d in program.diagnostics if d.directive == "dispatch(round_robin)"]
    assert diag.loc is not None and diag.loc.line == line_of("# L-rr1-streams2")
    assert sorted(set(by_task(program.trace)["worker"].tolist())) == [0, 1]


def test_a_dispatch_count_above_streams_is_not_warned() -> None:
    """streams(2) under round_robin(4): 4 workers, 2 streams; nothing is dropped."""
    w = grid(4, "H").dispatch(DispatchPolicy.round_robin(4)).streams(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        program = run(w)
    assert not program.diagnostics
    tr = by_task(program.trace)
    assert tr["worker"].tolist() == [0, 1, 2, 3] and tr["stream"].tolist() == [0, 1, 0, 1]


def test_a_start_threshold_without_issue_cost_is_a_warning() -> None:
    w = grid(4, "K").task_graph(start=StartPolicy.threshold(3))  # L-threshold
    with pytest.warns(ScheduleWarning, match=r"threshold\(3\) has no effect.*issue is 0"):
        program = run(w)
    (diag,) = [d for d in program.diagnostics if d.directive == "task_graph(start=threshold)"]
    assert diag.loc is not None and diag.loc.line == line_of("# L-threshold")
    # indeed no effect: every issue is at 0, so the 4 tasks run back to back on the 1 default
    # worker exactly as without the threshold
    assert by_task(program.trace)["start"].tolist() == [0, 32, 64, 96]


def test_a_start_threshold_with_issue_cost_is_honoured_silently(tmp_path, monkeypatch) -> None:
    table = tmp_path / "issue.json"
    table.write_text(json.dumps({"issue": 10}))
    monkeypatch.setenv("PTO_WSP_COST_TABLE", str(table))
    w = grid(4, "M").dispatch(DispatchPolicy.round_robin(4))  # the example's 4 workers
    w = w.task_graph(start=StartPolicy.threshold(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        program = run(w)
    assert not program.diagnostics
    # docs/semantics.md: issue = 10 and threshold(3) start the first three tasks at 30.
    assert by_task(program.trace)["start"].tolist() == [30, 30, 30, 40]


# ---- run-time channel errors carry the send's line ---------------------------------------------


def test_channel_closed_points_at_the_send() -> None:
    x = Tensor(np.zeros((2, 4, 4), F32), name="cx")
    ch = Channel("shut", depth=4)

    def producer():
        send(ch, produce(x[0], x[1]))
        ch.close()
        send(ch, produce(x[0], x[1]))  # L-send-after-close

    def consumer():
        with consume(ch):
            traced_no_cost(x[1], x[0])

    w = connect(
        [process("p").produces(ch).body(producer), process("c").consumes(ch).body(consumer)],
        [ch],
    )
    program = w.compile(target="cpu_sim")
    program.execute()
    with pytest.raises(ChannelClosed, match="closed channel shut") as err:
        program.synchronize()
    assert err.value.loc is not None and err.value.loc.file == THIS
    assert err.value.loc.line == line_of("# L-send-after-close")


def test_channel_full_points_at_the_send() -> None:
    x = Tensor(np.zeros((2, 4, 4), F32), name="fx")
    big = Tensor(np.zeros((64, 64), F32), name="big")
    ch = Channel("tight", depth=1)

    @kernel
    def slow(a: In[T4], b: Out[Tensor]): ...

    def producer():
        for i in P.seq(3):
            send(ch, produce[i](x[0], x[1]), block=False)  # L-nonblocking-send

    def consumer():
        with consume(ch):
            slow(x[1], big)

    w = connect(
        [process("p").produces(ch).body(producer), process("c").consumes(ch).body(consumer)],
        [ch],
    )
    program = w.compile(target="cpu_sim")
    program.execute()
    with pytest.raises(ChannelFull, match="tight") as err:
        program.synchronize()
    assert err.value.loc is not None and err.value.loc.line == line_of("# L-nonblocking-send")


# ---- one Workload object used twice (spec §3.6) ----------------------------------------------


@kernel
def accumulate(x: In[T4], y: InOut[T4]):
    pto.store(y, pto.add(pto.load(y), pto.load(x)))


def test_sequential_of_one_workload_twice_runs_it_twice_in_order() -> None:
    X, Y = data(3, "SX", seed=3), zeros(3, "SY")

    @workload
    def inc():
        for i in P(3):
            accumulate[i](X[i], Y[i])

    x = inc()
    program = run(sequential(x, x))
    assert program.stats.task_count == 6
    np.testing.assert_allclose(Y.data, 2 * X.data, rtol=1e-6)
    tr = by_task(program.trace)
    assert tr["end"][:3].max() <= tr["start"][3:].min()  # the second use after the first


def test_combine_of_one_workload_three_times() -> None:
    X, Y = data(2, "CX", seed=4), zeros(2, "CY")

    @workload
    def inc():
        for i in P(2):
            for j in P.seq(1):
                accumulate[i, j](X[i], Y[i])

    x = inc()
    program = run(combine(x, x, x))
    assert program.stats.task_count == 6
    np.testing.assert_allclose(Y.data, 3 * X.data, rtol=1e-6)


def test_a_reused_workload_nested_in_a_bigger_one() -> None:
    X, Y = data(2, "NX", seed=5), zeros(2, "NY")

    @workload
    def inc():
        for i in P(2):
            accumulate[i](X[i], Y[i])

    x = inc()
    program = run(sequential(combine(x, x), x))
    assert program.stats.task_count == 6
    np.testing.assert_allclose(Y.data, 3 * X.data, rtol=1e-6)
