"""Nothing is silently ignored (DESIGN §6): the checks that need no C++ build.

The end-to-end half (numerics, cycles, run-time errors) is tests/backend/test_silently_ignored_e2e.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pto_wsp import (
    Channel,
    ChannelClosed,
    ChannelFull,
    DispatchPolicy,
    DType,
    In,
    IRConversionError,
    Location,
    Out,
    P,
    StartPolicy,
    Tensor,
    Tile,
    TimingPolicy,
    TypeCheckError,
    consume,
    jit_kernel,
    kernel,
    pto,
    send,
    workload,
)
from pto_wsp.backends.cpu_sim import _run_error
from pto_wsp.compiler import applicability
from pto_wsp.compiler.lowering import _located, lower
from pto_wsp.errors import SourceLoc
from pto_wsp.language.ptoisa import ptoisa_kernel

T4 = Tile[4, 4, DType.F32]
THIS = __file__


def line_of(marker: str) -> int:
    with open(THIS, encoding="utf-8") as f:
        hits = [n for n, text in enumerate(f, 1) if text.rstrip().endswith(marker)]
    assert len(hits) == 1, marker
    return hits[0]


@kernel
def cp(x: In[T4], y: Out[T4]):
    pto.store(y, pto.load(x))


def tiles(name: str, n: int = 2, dtype: Any = np.float32) -> Tensor:
    return Tensor(np.zeros((n, 4, 4), dtype), name=name)


# ---- cpp_includes without cpp_src --------------------------------------------------------------


@pytest.mark.parametrize("decorator", [kernel, jit_kernel, ptoisa_kernel])
def test_cpp_includes_without_cpp_src_is_an_error_at_the_kernel(decorator) -> None:
    with pytest.raises(TypeCheckError, match="kernel headers_only: cpp_includes") as err:

        @decorator(cpp_includes=["my.h"])
        def headers_only(x: In[T4]): ...  # L-headers-only

    assert "without cpp_src" in str(err.value)
    assert err.value.loc is not None and err.value.loc.file == THIS
    assert err.value.loc.line == line_of("# L-headers-only")


def test_empty_cpp_includes_without_cpp_src_is_fine() -> None:
    @kernel(cpp_includes=[])
    def nothing(x: In[T4]): ...

    assert nothing.body_kind == "empty" and nothing.cpp_includes == []


# ---- Channel[T] --------------------------------------------------------------------------------


def pipe_sending(ch: Channel, value_fn) -> Any:
    X = tiles("X")

    @workload
    def w():
        with P.pipe():
            send(ch, value_fn(X))  # L-typed-send
            with consume(ch) as t:
                cp[t](X[0], X[1])

    return w()


@pytest.mark.parametrize(
    ("elem", "value_fn"),
    [
        (Tile, lambda X: X[0]),
        (Tensor, lambda X: X),
        (T4, lambda X: X[1]),
        (T4, lambda X: cp(X[0], X[1])),
        (Any, lambda X: None),
        (type(None), lambda X: None),
    ],
    ids=["Tile-view", "Tensor-tensor", "Tile44-view", "Tile44-call", "Any-token", "None-token"],
)
def test_a_typed_channel_accepts_its_items(elem, value_fn) -> None:
    pipe_sending(Channel[elem]("ok", depth=1), value_fn)


@pytest.mark.parametrize(
    ("elem", "value_fn", "actual"),
    [
        (str, lambda X: X[0], r"f32\[4, 4\]"),
        (float, lambda X: None, "None"),
        (Tile, lambda X: None, "None"),
        (T4, lambda X: X, r"Tensor f32\[2, 4, 4\]"),
        (Tile[4, 4, DType.F16], lambda X: X[0], r"f32\[4, 4\]"),
    ],
    ids=["str", "float-token", "Tile-token", "Tile44-whole", "Tile-f16"],
)
def test_a_send_of_another_type_is_a_type_error(elem, value_fn, actual) -> None:
    ch = Channel[elem]("typed", depth=1)
    with pytest.raises(TypeCheckError, match=actual) as err:
        pipe_sending(ch, value_fn)
    msg = str(err.value)
    assert "send on channel typed" in msg and "Channel[" in msg and "expected" in msg
    assert err.value.loc is not None and err.value.loc.line == line_of("# L-typed-send")


def test_typed_channel_repr_names_the_type() -> None:
    assert "Tile[4, 4" in repr(Channel[T4]("r", depth=1))
    assert "[str]" in repr(Channel[str]("s", depth=1))


# ---- schedule warnings without a build ---------------------------------------------------------


def grid(n: int = 4) -> Any:
    X, Y = tiles("GX", n), tiles("GY", n)

    @workload
    def w():
        for i in P(n):
            cp[i](X[i], Y[i])

    return w()


@pytest.mark.parametrize("target", ["cpu_sim", "ascend_npu"])
@pytest.mark.parametrize(
    ("schedule", "warned"),
    [
        (lambda w: w.dispatch(DispatchPolicy.round_robin(1)).streams(2), True),
        (lambda w: w.streams(3).dispatch(DispatchPolicy.round_robin(2)), True),
        (lambda w: w.dispatch(DispatchPolicy.round_robin(2)).streams(2), False),
        (lambda w: w.dispatch(DispatchPolicy.round_robin(4)).streams(2), False),
        (lambda w: w.dispatch(DispatchPolicy.affinity(lambda t: t.get("i"))).streams(3), False),
        (lambda w: w.streams(2), False),
    ],
    ids=["rr1-s2", "s3-rr2", "rr2-s2", "rr4-s2", "affinity-s3", "streams-only"],
)
def test_worker_count_overridden_by_streams(schedule, warned: bool, target: str) -> None:
    diags = applicability.worker_count_diagnostics(schedule(grid()), target)
    assert bool(diags) == warned
    for d in diags:
        assert d.severity == "warning" and "larger count wins" in d.message
        assert d.loc is not None and d.loc.file == THIS


@pytest.mark.parametrize(
    ("schedule", "issue", "warned"),
    [
        (lambda w: w.task_graph(start=StartPolicy.threshold(2)), 0.0, True),
        (lambda w: w.task_graph(start=StartPolicy.threshold(2)), 5.0, False),
        (lambda w: w.task_graph(start=StartPolicy.eager()), 0.0, False),
        (
            lambda w: w.timing(TimingPolicy.rate_limit(1000)).task_graph(
                start=StartPolicy.threshold(2)
            ),
            0.0,
            False,
        ),
        (lambda w: w, 0.0, False),
    ],
    ids=["threshold-issue0", "threshold-issue5", "eager", "threshold-rate-limit", "none"],
)
def test_start_threshold_without_issue_time(schedule, issue: float, warned: bool) -> None:
    diags = applicability.start_threshold_diagnostics(schedule(grid()), "cpu_sim", issue)
    assert bool(diags) == warned


@pytest.mark.parametrize("target", ["cpu_sim", "ascend_npu"])
@pytest.mark.parametrize("where", [Location.UB, Location.L1, Location.L2])
def test_a_non_global_location_is_annotated_on_both_targets(where, target: str) -> None:
    X = Tensor(np.zeros((2, 4, 4), np.float32), name="placed", location=where)
    Y = tiles("PY")

    @workload
    def w():
        for i in P(2):
            cp[i](X[i], Y[i])  # L-placed-use

    diags = [d for d in applicability.check(w(), target) if d.directive == "Tensor(location)"]
    assert len(diags) == 1
    assert f"tensor 'placed' (location=Location.{where.name})" in diags[0].message
    assert diags[0].loc.line == line_of("# L-placed-use")


def test_global_tensors_are_not_annotated() -> None:
    assert not [d for d in applicability.check(grid(), "cpu_sim") if "location" in d.directive]


# ---- errors that used to carry loc=None --------------------------------------------------------


@pytest.mark.parametrize("cls", [ChannelFull, ChannelClosed])
def test_run_time_channel_errors_carry_the_send_location(cls) -> None:
    kind = cls.__name__
    err = _run_error("m", f"[pto:{kind}] send on c at {THIS}:7: on channel c (process p)")
    assert isinstance(err, cls)
    assert err.loc == SourceLoc(THIS, 7, err.loc.text) and err.loc.file == THIS


def test_ir_conversion_error_of_the_verifier_points_at_the_user_line() -> None:
    leaked = []
    X, Y = tiles("LX"), tiles("LY")

    @workload
    def a():
        for i in P(2):
            leaked.append(i)
            cp[i](X[i], Y[i])

    a()

    @workload
    def b():
        cp(X[leaked[0]], Y[leaked[0]])  # L-leaked-var

    with pytest.raises(IRConversionError, match="unbound variable 'i'") as err:
        lower(b())
    assert err.value.loc is not None and err.value.loc.file == THIS
    assert err.value.loc.line == line_of("# L-leaked-var")
    assert str(err.value).startswith(f"{THIS}:{line_of('# L-leaked-var')}: ")


def test_an_ir_conversion_error_without_a_place_takes_the_workload_definition() -> None:
    w = grid()
    err = _located(IRConversionError("cannot lower something"), w)
    assert err.loc == w.loc and err.loc is not None
    assert str(err).startswith(f"{w.loc}: cannot lower something")
