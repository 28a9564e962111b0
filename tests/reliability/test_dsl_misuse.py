"""DSL misuse: wrong calls to the public API fail cleanly (issue 12, items 6 and 11).

Each call site below puts one arbitrary value (numbers of every size and kind, NaN, strings,
containers, arrays, tensors, callables, types...) into one argument of a public constructor,
decorator, combinator or kernel call. The property: the call either succeeds, or raises a
``PtoError`` subclass, or a ``TypeError`` / ``ValueError`` whose message names the argument or
the callee. Never another exception type (``AttributeError``, ``OverflowError``, an assertion,
a C++ "unknown exception"), never a crash. Workload-level sites are also lowered to the C++ IR
(``pto_wsp.compiler.lowering.lower``: no C++ build), which must fail the same clean way.

Example counts are bounded (a few dozen per site, derandomized) so the module stays well under
a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pto_wsp
import pto_wsp.backends
from pto_wsp import (
    Channel,
    Constexpr,
    Deps,
    DispatchPolicy,
    DType,
    Event,
    In,
    Out,
    P,
    Pools,
    PtoError,
    ReadyPolicy,
    Scalar,
    StartPolicy,
    TaskWindow,
    Tensor,
    Tile,
    TimingPolicy,
    combine,
    connect,
    consume,
    kernel,
    process,
    pto,
    record,
    replicate,
    send,
    sequential,
    workload,
)
from pto_wsp.compiler.lowering import lower

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

T4 = Tile[4, 4, DType.F32]


@kernel
def cp(x: In[T4], y: Out[T4]):
    pto.store(y, pto.load(x))


@kernel
def scaled(x: In[T4], y: Out[T4], k: Constexpr[float] = 1.0, s: Scalar[DType.F32] = 0.0):
    pto.store(y, pto.add(pto.mul(pto.load(x), k), s))


@kernel
def any_shape(x: In[Tensor], y: Out[Tensor]): ...


def _tensors() -> tuple[Tensor, Tensor]:
    return (
        Tensor(np.zeros((4, 4, 4), np.float32), name="MX"),
        Tensor(np.zeros((4, 4, 4), np.float32), name="MY"),
    )


X, Y = _tensors()


class _Weird:
    """An object with a shape and dtype that is not a tensor."""

    shape = (4, 4)
    dtype = "f32"


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 3, 4, -1, 2**31, 2**63, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["f32", "cpu_sim", "ub", "tasks", "", "x y", "\x00", "i", "round_robin"]),
    st.lists(st.integers(-3, 9), max_size=4),
    st.lists(st.integers(-3, 9), max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=3), st.integers(-2, 2), max_size=2),
    st.sampled_from(
        [
            np.int64(3),
            np.float32(1.5),
            np.bool_(True),
            np.zeros((2, 2), np.float32),
            np.zeros(0),
            np.array(["a"]),
            object(),
            _Weird(),
            lambda t: t,
            lambda: 0,
            len,
            int,
            float,
            str,
            Tensor,
            DType.F32,
            DType.BOOL,
            Tile[2, 2, DType.F16],
            Ellipsis,
            slice(0, 2),
            b"bytes",
            1 + 2j,
        ]
    ),
    st.sampled_from(["X", "Y[0]", "X[0, 0]"]).map(
        lambda s: {"X": X, "Y[0]": Y[0], "X[0, 0]": X[0, 0]}[s]
    ),
)


@dataclass(frozen=True)
class Site:
    """One argument of one public call: ``call(value)`` makes the call with ``value`` in it."""

    name: str  # the call as the user writes it, e.g. "Channel(depth=?)"
    names: tuple[str, ...]  # words one of which a TypeError/ValueError message must contain
    call: Callable[[Any], Any]


def _in_workload(body: Callable[[], Any]) -> Any:
    """Trace ``body`` inside a fresh @workload and lower the result (no C++ build)."""

    @workload
    def misuse():
        body()

    w = misuse()
    lower(w)
    return w


def _grid() -> Any:
    @workload
    def g():
        for i in P(4):
            cp[i](X[i], Y[i])

    return g()


def _define_kernel(**options: Any) -> Any:
    @kernel(**options)
    def k(x: In[T4], y: Out[T4]): ...

    return k


def _pipe_send(value: Any, elem: Any = None) -> Any:
    ch = Channel("m", depth=1) if elem is None else Channel[elem]("m", depth=1)

    def body() -> None:
        with P.pipe():
            send(ch, value)
            with consume(ch) as t:
                cp[t](X[0], Y[0])

    return _in_workload(body)


SITES = [
    # data
    Site("Tensor(data)", ("Tensor", "data", "shape"), lambda v: Tensor(v)),
    Site("Tensor(shape=)", ("Tensor", "shape"), lambda v: _zeros(v)),
    Site("Tensor(dtype=)", ("Tensor", "dtype"), lambda v: Tensor(shape=(2, 2), dtype=v)),
    Site("Tensor(location=)", ("location",), lambda v: Tensor(shape=(2,), location=v)),
    Site("Tensor(name=)", ("name",), lambda v: Tensor(shape=(2,), name=v)),
    Site("X[?]", ("index", "Tensor", "X"), lambda v: X[v]),
    Site("X[0][?, 1]", ("index", "Tensor"), lambda v: X[0][v, 1]),
    # kernel annotations and options
    Site("Tile[?, 4, f32]", ("Tile",), lambda v: Tile[v, 4, DType.F32]),
    Site("Tile[4, 4, ?]", ("Tile", "dtype"), lambda v: Tile[4, 4, v]),
    Site("Tile[?]", ("Tile",), lambda v: Tile[v]),
    Site("Scalar[?]", ("Scalar", "dtype"), lambda v: Scalar[v]),
    Site("Constexpr[?]", ("Constexpr",), lambda v: Constexpr[v]),
    Site("In[?] parameter", ("annotation",), lambda v: kernel(_annotated(v))),
    Site("@kernel(cost=)", ("cost",), lambda v: _define_kernel(cost=v)),
    Site("@kernel(cpp_src=)", ("cpp_src",), lambda v: _define_kernel(cpp_src=v)),
    Site(
        "@kernel(cpp_includes=)",
        ("cpp_includes",),
        lambda v: _define_kernel(cpp_src="", cpp_includes=v),
    ),
    Site("@kernel(name=)", ("name",), lambda v: _define_kernel(name=v)),
    Site("kernel(?)", ("kernel", "decorat"), lambda v: kernel(v)),
    # kernel calls (inside a workload, then lowered)
    Site("cp(X[0], ?)", ("argument", "cp"), lambda v: _in_workload(lambda: cp(X[0], v))),
    Site("cp[?](...)", ("axis", "cp"), lambda v: _in_workload(lambda: cp[v](X[0], Y[0]))),
    Site(
        "scaled(k=?)",
        ("argument 'k'", "scaled"),
        lambda v: _in_workload(lambda: scaled(X[0], Y[0], k=v)),
    ),
    Site(
        "scaled(s=?)",
        ("argument 's'", "scaled"),
        lambda v: _in_workload(lambda: scaled(X[0], Y[0], s=v)),
    ),
    Site(
        "any_shape(?, Y)",
        ("argument", "any_shape"),
        lambda v: _in_workload(lambda: any_shape(v, Y)),
    ),
    Site("cp(X[0], Y[0], **{?: 1})", ("argument", "cp"), lambda v: _kwarg_call(v)),
    # loops
    Site("P(?)", ("axis", "P"), lambda v: _in_workload(lambda: _loop(P, v))),
    Site("P.seq(?)", ("axis", "P.seq"), lambda v: _in_workload(lambda: _loop(P.seq, v))),
    Site("P.grid(4, ?)", ("axis", "P.grid"), lambda v: _in_workload(lambda: _loop2(P.grid, v))),
    Site("P.sel(?)", ("sel", "Sparse"), lambda v: _in_workload(lambda: _loop(P.sel, v))),
    Site("P.when(?)", ("when", "predicate"), lambda v: _in_workload(lambda: _when(v))),
    Site("P.pipe(depth=?)", ("depth", "pipe"), lambda v: _in_workload(lambda: _pipe_depth(v))),
    Site("Dense[?]", ("Dense",), lambda v: pto_wsp.Dense[v]),
    Site("DenseDyn(?)", ("DenseDyn",), lambda v: pto_wsp.DenseDyn(v)),
    # CSP and events
    Site("Channel(name=?)", ("name", "Channel"), lambda v: Channel(v)),
    Site("Channel(depth=?)", ("depth", "Channel"), lambda v: Channel("c", depth=v)),
    Site("Channel[?]", ("Channel",), lambda v: _pipe_send(X[0], elem=v)),
    Site("send(ch, ?)", ("send",), lambda v: _pipe_send(v)),
    Site("consume(?)", ("consume",), lambda v: _in_workload(lambda: _consume(v))),
    Site("process(?)", ("process",), lambda v: process(v)),
    Site("replicate(p, ?)", ("replicate",), lambda v: replicate(process("p"), v)),
    Site("connect(?, [])", ("connect",), lambda v: connect(v, [])),
    Site("Event(?)", ("Event",), lambda v: Event(v)),
    Site("record(?)", ("record",), lambda v: record(v)),
    # composition
    Site("combine(?)", ("combine",), lambda v: combine(v)),
    Site("sequential(w, ?)", ("sequential",), lambda v: sequential(_grid(), v)),
    # schedules
    Site("round_robin(?)", ("round_robin",), lambda v: DispatchPolicy.round_robin(v)),
    Site("affinity(?)", ("affinity", "key"), lambda v: DispatchPolicy.affinity(v)),
    Site("hash(?)", ("hash", "key"), lambda v: DispatchPolicy.hash(v)),
    Site("dispatch_by(?)", ("dispatch_by", "key"), lambda v: DispatchPolicy.dispatch_by(v)),
    Site("TimingPolicy.batched(?)", ("batched",), lambda v: TimingPolicy.batched(v)),
    Site("TimingPolicy.interleaved(?)", ("interleaved",), lambda v: TimingPolicy.interleaved(v)),
    Site("ReadyPolicy.priority(?)", ("priority", "key"), lambda v: ReadyPolicy.priority(v)),
    Site("Pools.by_kernel(?)", ("Pools", "by_kernel"), lambda v: Pools.by_kernel(v)),
    Site("Pools.by_kernel({cp: ?})", ("Pools", "by_kernel"), lambda v: Pools.by_kernel({cp: v})),
    Site("TimingPolicy.rate_limit(?)", ("rate_limit",), lambda v: TimingPolicy.rate_limit(v)),
    Site("TaskWindow(?)", ("TaskWindow", "size"), lambda v: TaskWindow(v)),
    Site("TaskWindow(4, ?)", ("TaskWindow", "unit"), lambda v: TaskWindow(4, v)),
    Site("StartPolicy.threshold(?)", ("threshold",), lambda v: StartPolicy.threshold(v)),
    Site("Deps.infer(?)", ("Deps", "infer"), lambda v: Deps.infer(v)),
    Site("w.dispatch(?)", ("dispatch",), lambda v: lower(_grid().dispatch(v))),
    Site("w.streams(?)", ("streams",), lambda v: lower(_grid().streams(v))),
    Site("w.stream_by(?)", ("stream_by", "key"), lambda v: lower(_grid().stream_by(v))),
    Site("w.timing(?)", ("timing",), lambda v: lower(_grid().timing(v))),
    Site("w.task_graph(window=?)", ("window",), lambda v: lower(_grid().task_graph(window=v))),
    Site("w.task_graph(deps=?)", ("deps",), lambda v: lower(_grid().task_graph(deps=v))),
    Site("w.task_graph(start=?)", ("start",), lambda v: lower(_grid().task_graph(start=v))),
    Site("w.task_graph(ready=?)", ("ready",), lambda v: lower(_grid().task_graph(ready=v))),
    Site("w.task_graph(pools=?)", ("pools",), lambda v: lower(_grid().task_graph(pools=v))),
    Site("w.task_graph(trace=?)", ("trace",), lambda v: lower(_grid().task_graph(trace=v))),
    Site("w.spatial_map(grid=?)", ("grid", "spatial_map"), lambda v: _spatial(v)),
    Site("cp.specialize(?)", ("specialize", "arg_types"), lambda v: cp.specialize(v)),
    Site("scaled.specialize({}, ?)", ("constexprs", "scaled"), lambda v: scaled.specialize({}, v)),
    Site("any_shape.specialize({x: ?})", ("arg_types",), lambda v: any_shape.specialize({"x": v})),
    Site("cp.compile(target=?)", ("target",), lambda v: cp.compile(target=v)),
    Site("w.compile(target=?)", ("target",), lambda v: _compile_bad_target(v)),
]


def _annotated(ann: Any) -> Callable:
    def k(x: In[ann]): ...  # type: ignore[valid-type]

    return k


def _kwarg_call(name: Any) -> Any:
    if not isinstance(name, str):
        return None  # Python itself refuses non-str keywords before our code runs
    return _in_workload(lambda: cp(X[0], Y[0], **{name: 1}))


def _loop(ctor: Any, value: Any) -> None:
    for i in ctor(value):
        cp[i](X[0], Y[0])


def _zeros(shape: Any) -> Any:
    """``Tensor(shape=...)`` allocates: a valid but huge shape is a memory request, not a
    misuse, so shapes over a million elements are skipped."""
    dims = shape if isinstance(shape, list | tuple) else [shape]
    if all(isinstance(d, int) and d >= 0 for d in dims) and np.prod([float(d) for d in dims]) > 1e6:
        return None
    return Tensor(shape=shape, dtype="f32")


def _loop2(ctor: Any, value: Any) -> None:
    for i, _j in ctor(4, value):
        cp[i](X[0], Y[0])


def _when(pred: Any) -> None:
    with P.when(pred):
        cp(X[0], Y[0])


def _pipe_depth(depth: Any) -> None:
    ch = Channel("pd")
    with P.pipe(depth=depth):
        for i in P.seq(2):
            send(ch, cp[i](X[0], Y[0]))
        with consume(ch) as t:
            cp[t](Y[0], X[0])


def _consume(ch: Any) -> None:
    with consume(ch) as t:
        cp[t](X[0], Y[0])


def _spatial(grid: Any) -> Any:
    w = _grid().spatial_map(grid=grid)
    return lower(w)


def _compile_bad_target(target: Any) -> Any:
    if isinstance(target, str) and target in pto_wsp.backends.TARGETS:
        return None  # a valid target would build C++: not a misuse
    return _grid().compile(target=target)


def _check_failure(site: Site, value: Any, err: BaseException) -> None:
    text = str(err)
    assert "unknown exception" not in text.lower(), (site.name, value, text)
    if isinstance(err, PtoError):
        assert err.message.strip(), (site.name, value)
        return
    assert isinstance(err, TypeError | ValueError), (
        f"{site.name} with {value!r} raised {type(err).__name__}: {text}"
    )
    assert any(n.lower() in text.lower() for n in site.names), (
        f"{site.name} with {value!r}: {type(err).__name__} does not name the argument: {text}"
    )


@pytest.mark.parametrize("site", SITES, ids=[s.name for s in SITES])
def test_a_wrong_value_in_any_public_argument_fails_cleanly(site: Site) -> None:
    @SETTINGS
    @given(VALUES)
    def check(value: Any) -> None:
        try:
            site.call(value)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException as err:  # noqa: BLE001 - the property classifies every failure
            _check_failure(site, value, err)

    check()
