"""Program binding on cpu_sim (issue #17 item 1, the reference implementation's forms):
``Workload.named``, ``Program.using_cpp_backend``, runtime symbols (``set_symbol_u64`` /
``set_symbol_f32``, ``Symbol(name)`` as a kernel argument, ``t.tags[name]`` in a schedule key)
and ``DenseDyn`` bounds read at run time (``set_axis_sizes``, ``compile(axis_sizes=...)``).

None of them may rebuild: each test that changes a binding replaces the build cache's
``get_or_build`` by a function that fails, then runs again.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from pto_wsp import (
    Dense,
    DenseDyn,
    DispatchPolicy,
    DType,
    In,
    Out,
    P,
    Scalar,
    Symbol,
    Tensor,
    kernel,
    pto,
    workload,
)
from pto_wsp.backends.cache import BuildCache
from pto_wsp.errors import (
    BindingWarning,
    CompileError,
    ExecutionError,
    ScheduleError,
    TypeCheckError,
)
from pto_wsp.language.scalar_expr import symbol_u64

F32 = np.float32
R, C = 4, 8  # tile shape of every kernel below


@kernel
def add1_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, 1.0))


@kernel
def scale_k(x: In[Tensor], s: Scalar[DType.F32], y: Out[Tensor]):
    pto.store(y, pto.mul(x, s))


@kernel
def offset_k(x: In[Tensor], s: Scalar[DType.I32], y: Out[Tensor]):
    pto.store(y, x + s)


def execute(program):
    program.execute()
    program.synchronize()
    return program.trace


@pytest.fixture
def no_rebuild(monkeypatch):
    """After this fixture, building (or looking up) a library fails the test."""

    def fail(*args, **kwargs):
        raise AssertionError("a run-time binding must not build or look up a library")

    def arm() -> None:
        monkeypatch.setattr(BuildCache, "get_or_build", fail)

    return arm


def f32_bits(v: float) -> int:
    return int(np.array([v], F32).view(np.uint32)[0])


# ---- Workload.named, using_cpp_backend -------------------------------------------------------


def grid_of(X: Tensor, Y: Tensor):
    @workload
    def grid():
        for i in P(4):
            add1_k[i](x=X[i], y=Y[i])

    return grid()


def test_named_returns_a_renamed_copy_that_compiles_to_that_module():
    X = Tensor(np.ones((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")
    w = grid_of(X, Y).dispatch(DispatchPolicy.round_robin(2))
    renamed = w.named("renamed_grid")
    assert (w.name, renamed.name) == ("grid", "renamed_grid")
    assert renamed is not w and renamed.root is w.root and renamed.schedule is w.schedule
    program = renamed.compile(target="cpu_sim")
    assert program.module.name == "renamed_grid"
    assert grid_of(X, Y).compile(target="cpu_sim").module.name == "grid"
    execute(program)
    np.testing.assert_array_equal(Y.data, X.data + 1)
    with pytest.raises(TypeCheckError, match="non-empty str"):
        w.named("")


def test_using_cpp_backend_once_compiled_or_emitted(monkeypatch, tmp_path):
    X = Tensor(np.ones((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")
    assert grid_of(X, Y).compile(target="cpu_sim").using_cpp_backend is True
    monkeypatch.chdir(tmp_path)
    emitted = grid_of(X, Y).compile(target="ascend_npu")
    assert emitted.using_cpp_backend is True
    # An emitted tree runs nothing here: binding a symbol says so, as execute() does.
    with pytest.raises(CompileError, match="set_symbol_u64: target 'ascend_npu' is emit-only"):
        emitted.set_symbol_u64("s", 1)


# ---- runtime symbols -----------------------------------------------------------------------------


def scaled(X: Tensor, Y: Tensor, kern=scale_k, name: str = "scale"):
    @workload
    def scaled_by_symbol():
        for i in P(4):
            kern[i](x=X[i], s=Symbol(name), y=Y[i])

    return scaled_by_symbol()


def test_symbol_f32_reaches_a_scalar_f32_parameter_as_that_float(no_rebuild):
    rng = np.random.default_rng(3)
    X = Tensor(rng.standard_normal((4, R, C)).astype(F32), name="X")
    Y = Tensor(np.full((4, R, C), 7, F32), name="Y")
    program = scaled(X, Y).compile(target="cpu_sim")
    assert "symbol_f32(scale)" in program.module.print()
    no_rebuild()
    # Never set: the symbol reads 0, so does the f32 of its bits.
    execute(program)
    np.testing.assert_array_equal(Y.data, np.zeros((4, R, C), F32))
    for value in (2.5, 0.1, -3.75e-3):
        program.set_symbol_f32("scale", value)
        assert program.symbol_u64("scale") == f32_bits(value)  # the bits, in the low half
        execute(program)
        np.testing.assert_array_equal(Y.data, X.data * F32(value))
    # A 64-bit pattern: a float parameter reads the low 32 bits only.
    program.set_symbol_u64("scale", (0xDEADBEEF << 32) | f32_bits(3.0))
    execute(program)
    np.testing.assert_array_equal(Y.data, X.data * F32(3.0))


def test_symbol_u64_reaches_an_integer_parameter_as_its_value(no_rebuild):
    X = Tensor(np.arange(4 * R * C, dtype=F32).reshape(4, R, C), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")
    program = scaled(X, Y, offset_k, "off").compile(target="cpu_sim")
    no_rebuild()
    for value in (0, 7, -2):
        if value:
            program.set_symbol_u64("off", value)
        execute(program)
        np.testing.assert_array_equal(Y.data, X.data + F32(value))
    assert program.symbol_u64("off") == (1 << 64) - 2  # -2 as a u64 pattern


def test_symbol_in_a_schedule_key_as_t_tags(no_rebuild):
    X = Tensor(np.zeros((8, R, C), F32), name="X")
    Y = Tensor(np.zeros((8, R, C), F32), name="Y")

    @workload
    def grid8():
        for i in P(8):
            add1_k[i](x=X[i], y=Y[i])

    key = DispatchPolicy.affinity(lambda t: t.get("i") + t.tags["shift"])
    program = grid8().dispatch(key).streams(4).compile(target="cpu_sim")
    no_rebuild()
    for shift in (None, 1, 6):
        if shift is not None:
            program.set_symbol_u64("shift", shift)
        tr = np.sort(execute(program), order="idx0")
        assert program.stats.num_workers == 4
        # affinity: worker = key mod workers, key = i + shift (0 when never set)
        assert tr["worker"].tolist() == [(i + (shift or 0)) % 4 for i in range(8)]


def test_binding_waits_for_the_run_to_end(monkeypatch):
    X = Tensor(np.ones((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")
    program = scaled(X, Y).compile(target="cpu_sim")
    program.execute()
    monkeypatch.setattr(program.runner, "done", lambda: False)  # as if still running
    with pytest.raises(ExecutionError, match="set_symbol_f32 while a run is going"):
        program.set_symbol_f32("scale", 1.0)
    monkeypatch.undo()
    program.synchronize()
    program.set_symbol_f32("scale", 1.0)


def test_t_tags_takes_a_symbol_name():
    with pytest.raises(ScheduleError, match="runtime symbol name"):
        DispatchPolicy.affinity(lambda t: t.tags[3])


def test_setting_a_symbol_the_program_does_not_read_warns():
    X = Tensor(np.ones((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")
    program = scaled(X, Y).compile(target="cpu_sim")
    with pytest.warns(BindingWarning, match=r"no runtime symbol 'sclae'.*reads: 'scale'"):
        program.set_symbol_u64("sclae", 1)
    with pytest.warns(BindingWarning, match="'sclae'"):
        program.set_symbol_f32("sclae", 1.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: p.set_symbol_u64("scale", 1.5), "takes an int.*set_symbol_f32"),
        (lambda p: p.set_symbol_u64("scale", 1 << 64), "does not fit in 64 bits"),
        (lambda p: p.set_symbol_u64("scale", -(1 << 63) - 1), "does not fit in 64 bits"),
        (lambda p: p.set_symbol_u64("", 1), "non-empty str"),
        (lambda p: p.set_symbol_f32("scale", "2"), "takes a float"),
        (lambda p: p.set_symbol_f32("scale", 1e39), "overflows f32"),
    ],
)
def test_bad_symbol_values_are_type_errors(call, match):
    X = Tensor(np.ones((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")
    program = scaled(X, Y).compile(target="cpu_sim")
    with pytest.raises(TypeCheckError, match=match):
        call(program)


# ---- DenseDyn bounds at run time -------------------------------------------------------------


def head_of(size: int, X: Tensor, Y: Tensor):
    n = DenseDyn(size)

    @workload
    def head():
        for b in P(n):
            add1_k[b](x=X[b], y=Y[b])

    return head()


def run_head(program, X: Tensor, Y: Tensor, count: int) -> None:
    Y.data[:] = 0
    tr = execute(program)
    assert program.stats.task_count == count
    assert np.sort(tr["idx0"]).tolist() == list(range(count))
    np.testing.assert_array_equal(Y.data[:count], X.data[:count] + 1)
    np.testing.assert_array_equal(Y.data[count:], 0)


@pytest.fixture
def XY():
    X = Tensor(np.arange(64 * R * C, dtype=F32).reshape(64, R, C), name="X")
    Y = Tensor(np.zeros((64, R, C), F32), name="Y")
    return X, Y


def test_set_axis_sizes_changes_a_dense_dyn_bound_without_a_rebuild(XY, no_rebuild):
    X, Y = XY
    program = head_of(58, X, Y).compile(target="cpu_sim")
    assert "dense_dyn n[param(n)]" in program.module.print()
    no_rebuild()
    run_head(program, X, Y, 58)  # the int given to DenseDyn is the default
    assert program.axis_sizes() == {"n": 58}
    for name, count in (("b", 5), ("n", 64), ("b", 0)):  # loop variable or axis name
        program.set_axis_sizes({name: count})
        assert program.axis_sizes() == {"n": count}
        run_head(program, X, Y, count)


def test_compile_takes_axis_sizes(XY):
    X, Y = XY
    program = head_of(58, X, Y).compile(target="cpu_sim", axis_sizes={"b": 3})
    run_head(program, X, Y, 3)


def test_a_new_dense_dyn_int_is_not_a_new_build(XY, monkeypatch, tmp_path):
    """The int is a run-time input, not part of the emitted source: DenseDyn(58) and
    DenseDyn(60) share one cache key, and the second compile builds nothing."""
    X, Y = XY
    cache = tmp_path / "cache"
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(cache))
    first = head_of(58, X, Y).compile(target="cpu_sim")
    second = head_of(60, X, Y).compile(target="cpu_sim")
    assert first.runner.artifact.built is True
    assert second.runner.artifact.built is False
    assert second.runner.artifact.key == first.runner.artifact.key
    entries = [m.parent for m in Path(os.environ["PTO_WSP_CACHE_DIR"]).rglob("manifest.json")]
    assert entries == [first.runner.artifact.directory]
    run_head(second, X, Y, 60)
    run_head(first, X, Y, 58)


def test_loops_over_one_axis_share_its_size(XY):
    X, Y = XY
    n = DenseDyn(6)

    @workload
    def twice():
        for b in P(n):
            add1_k[b](x=X[b], y=Y[b])
        for c in P(n):
            add1_k[c + 8](x=X[c + 8], y=Y[c + 8])

    program = twice().compile(target="cpu_sim")
    assert program.axis_sizes() == {"n": 6}
    program.set_axis_sizes({"c": 2})
    execute(program)
    assert program.stats.task_count == 4
    np.testing.assert_array_equal(Y.data[[0, 1, 8, 9]], X.data[[0, 1, 8, 9]] + 1)
    np.testing.assert_array_equal(Y.data[[2, 10]], 0)


def test_unknown_loop_name_names_it_and_the_candidates(XY):
    X, Y = XY
    program = head_of(58, X, Y).compile(target="cpu_sim")
    with pytest.raises(ScheduleError) as err:
        program.set_axis_sizes({"q": 3})
    msg = err.value.message
    assert "'q'" in msg and "DenseDyn" in msg and "b (n)" in msg, msg
    with pytest.raises(ScheduleError, match="'q'"):
        head_of(58, X, Y).compile(target="cpu_sim", axis_sizes={"q": 3})


def test_set_axis_sizes_checks_every_name_before_changing_any(XY):
    X, Y = XY
    program = head_of(58, X, Y).compile(target="cpu_sim")
    with pytest.raises(ScheduleError, match="'zz'"):
        program.set_axis_sizes({"b": 4, "zz": 1})
    assert program.axis_sizes() == {"n": 58}


def test_loops_without_a_run_time_size_are_refused_by_name():
    X = Tensor(np.zeros((4, R, C), F32), name="X")
    Y = Tensor(np.zeros((4, R, C), F32), name="Y")
    m = DenseDyn(symbol_u64("m"))

    @workload
    def mixed():
        for j in P(Dense[4]):
            add1_k[j](x=X[j], y=Y[j])
        for k in P(m):
            add1_k[k](x=X[k], y=Y[k])

    program = mixed().compile(target="cpu_sim")
    with pytest.raises(ScheduleError, match=r"loop 'j' takes no run-time size.*fixed"):
        program.set_axis_sizes({"j": 2})
    with pytest.raises(ScheduleError, match=r"loop 'k'.*symbol\(m\); set that instead"):
        program.set_axis_sizes({"k": 2})


@pytest.mark.parametrize(
    ("sizes", "error", "match"),
    [
        ({"b": -1}, TypeCheckError, "must be >= 0"),
        ({"b": 2.0}, TypeCheckError, "must be an int"),
        ({"b": True}, TypeCheckError, "must be an int"),
        ([("b", 2)], TypeCheckError, "takes a dict"),
        ({3: 2}, ScheduleError, "loop variable names"),
    ],
)
def test_bad_axis_sizes(XY, sizes, error, match):
    X, Y = XY
    program = head_of(58, X, Y).compile(target="cpu_sim")
    with pytest.raises(error, match=match):
        program.set_axis_sizes(sizes)
