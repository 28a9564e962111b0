"""@kernel / @jit_kernel: signatures, body kinds, tracing, specialization, calls, legacy names."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest

from pto_wsp import pto, ptoisa
from pto_wsp.compiler import lowering
from pto_wsp.errors import CompileError, TypeCheckError
from pto_wsp.language import _builder, toolchain
from pto_wsp.language.kernel import (
    AxisVar,
    BoundKernel,
    CompiledKernel,
    Constexpr,
    In,
    InOut,
    KernelCall,
    KernelIR,
    KernelParam,
    KernelRef,
    Out,
    Scalar,
    Tile,
    jit_kernel,
    kernel,
)
from pto_wsp.language.legacy import ExternalKernel, tl
from pto_wsp.language.ptoisa import ptoisa_kernel
from pto_wsp.language.scalar_expr import LoopVar, ScalarExpr
from pto_wsp.language.tensor import Tensor
from pto_wsp.language.types import DType

THIS = __file__


def _patch_emitter(monkeypatch: pytest.MonkeyPatch, emit: Any) -> None:
    """Swap the backends' kernel emitter the language reaches through its toolchain binding."""
    bound = dataclasses.replace(toolchain.toolchain(), emit_kernel_source=emit)
    monkeypatch.setattr(toolchain, "_bound", bound)


def line_of(marker: str) -> int:
    with open(THIS) as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith(marker):
                return n
    raise AssertionError(f"marker {marker} not found")


def assert_user_line(err: pytest.ExceptionInfo, marker: str) -> None:
    line = line_of(marker)
    assert f"{THIS}:{line}" in str(err.value)
    assert err.value.loc.file == THIS and err.value.loc.line == line


class _Scope(list):
    """A stand-in for a @workload scope: records what kernel calls append."""


@pytest.fixture
def scope():
    s = _Scope()
    _builder.push(s)
    try:
        yield s
    finally:
        _builder.pop(s)


# ---- spec §6.1 rmsnorm, traced at decoration ------------------------------------------------


@jit_kernel
def rmsnorm(
    x: In[Tile[32, 128, DType.F16]],
    out: Out[Tile[32, 128, DType.F16]],
    eps: Scalar[DType.F32] = 1e-6,
):
    """RMS normalization kernel using typed Value objects."""
    sq = pto.mul(x, x)
    mean = pto.rowmean(sq)
    rsqrt_val = pto.rsqrt(mean)
    pto.store(out, pto.mul(x, rsqrt_val))


def test_rmsnorm_signature() -> None:
    assert isinstance(rmsnorm, KernelRef)
    assert rmsnorm.name == rmsnorm.symbol == "rmsnorm"
    assert rmsnorm.body_kind == "traced"
    assert rmsnorm.dialect == "pto"
    assert list(rmsnorm.signature) == [
        KernelParam("x", "in", "tile", (32, 128), DType.F16, None),
        KernelParam("out", "out", "tile", (32, 128), DType.F16, None),
        KernelParam("eps", "in", "scalar", (), DType.F32, 1e-6),
    ]
    assert str(rmsnorm.signature) == (
        "rmsnorm(x: In[Tile[32, 128, DType.F16]], out: Out[Tile[32, 128, DType.F16]], "
        "eps: Scalar[DType.F32] = 1e-06)"
    )
    assert rmsnorm.loc.file == THIS and rmsnorm.loc.text.startswith("def rmsnorm(")
    assert rmsnorm.__doc__.startswith("RMS normalization")


def test_rmsnorm_traced_at_decoration() -> None:
    kir = rmsnorm.ir
    assert isinstance(kir, KernelIR)
    assert kir.name == "rmsnorm" and kir.body_kind == "traced"
    got = [(o.op, o.operands, o.shape, o.dtype) for o in kir.ops]
    assert got == [
        ("load", [0], (32, 128), DType.F16),  # implicit load of x, id 3
        ("mul", [3, 3], (32, 128), DType.F16),  # 4
        ("rowmean", [4], (32, 1), DType.F16),  # 5
        ("rsqrt", [5], (32, 1), DType.F16),  # 6
        ("mul", [3, 6], (32, 128), DType.F16),  # 7
        ("store", [1, 7], (), None),  # 8
    ]
    assert all(o.loc.file == THIS for o in kir.ops)
    assert kir.ops[2].loc.text == "mean = pto.rowmean(sq)"
    assert rmsnorm.specialize() is kir  # the decoration-time trace is the cached one


def test_ir_dump_delegates_to_lowering(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    class _Printed:
        def print(self) -> str:
            return "kernel @rmsnorm(...)"

    def fake(kir: Any, name: Any = None, kernel: Any = None) -> _Printed:
        seen.append((kir, name, kernel))
        return _Printed()

    monkeypatch.setattr(lowering, "lower_kernel_ir", fake)
    assert rmsnorm.ir.dump() == "kernel @rmsnorm(...)"
    assert seen == [(rmsnorm.ir, "rmsnorm", rmsnorm)]
    rmsnorm.lower("ascend_npu")
    assert seen[-1][0] is rmsnorm.ir
    with pytest.raises(CompileError, match="unknown target 'gpu'"):
        rmsnorm.lower("gpu")


def test_ir_dump_prints_the_kernel() -> None:
    text = rmsnorm.ir.dump()
    assert "rmsnorm" in text
    for op in ("rowmean", "rsqrt", "store"):
        assert op in text


def test_compile_uses_backend_emitter(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []

    def emit(kir: KernelIR, target: str) -> str:
        calls.append((kir, target))
        return f"// {kir.name} for {target}"

    _patch_emitter(monkeypatch, emit)
    compiled = rmsnorm.compile(target="ascend_npu")
    assert isinstance(compiled, CompiledKernel)
    assert compiled.target == "ascend_npu"
    assert compiled.ir is rmsnorm.ir
    assert compiled.code == "// rmsnorm for ascend_npu"
    with pytest.raises(CompileError, match="unknown target"):
        rmsnorm.compile(target="tpu")

    @jit_kernel
    def scaled(
        x: In[Tile[4, 4, DType.F32]], y: Out[Tile[4, 4, DType.F32]], k: Constexpr[float] = 2.0
    ):
        pto.store(y, x * k)

    c3 = scaled.compile(k=3.0)
    assert c3.ir.constexprs == {"k": 3.0}
    assert c3.ir.ops[1].attrs == {"value": 3.0}
    with pytest.raises(TypeCheckError, match="unknown parameter"):
        scaled.compile(BLOCK=4)


# ---- annotations ----------------------------------------------------------------------------


def test_annotation_kinds() -> None:
    @kernel
    def k(
        a: In[Tensor],
        b: Out[Tensor],
        c: InOut[Tile[2, 4, DType.BF16]],
        n: Constexpr[int],
        flag: Constexpr[bool] = False,
        s: In[Scalar[DType.I32]] = 3,
        i: AxisVar = 0,
    ): ...

    assert [(p.name, p.direction, p.kind, p.shape, p.dtype, p.default) for p in k.signature] == [
        ("a", "in", "tensor", None, None, None),
        ("b", "out", "tensor", None, None, None),
        ("c", "inout", "tile", (2, 4), DType.BF16, None),
        ("n", "constexpr", "scalar", (), DType.I64, None),
        ("flag", "constexpr", "scalar", (), DType.BOOL, False),
        ("s", "in", "scalar", (), DType.I32, 3),
        ("i", "in", "scalar", (), DType.I64, 0),
    ]
    assert k.body_kind == "empty"
    assert repr(Tile[2, 4, DType.BF16]) == "Tile[2, 4, DType.BF16]"
    assert isinstance(Tile[2, 4, "f16"], Tile) and Tile[2, 4, "f16"].dtype is DType.F16


def test_missing_annotation() -> None:
    with pytest.raises(TypeCheckError, match=r"parameter 'y' has no annotation") as err:

        @kernel
        def bad(
            x: In[Tensor],
            y,  # L-missing-ann
        ): ...

    assert_user_line(err, "# L-missing-ann")


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: kernel(_unknown_int), "parameter 'x' has unknown annotation int"),
        (lambda: kernel(_bare_tile), "parameter 'x' has unknown annotation Tile"),
        (lambda: kernel(_out_scalar), r"unsupported annotation Out\[Scalar"),
        (lambda: kernel(_undefined_name), "cannot be evaluated"),
        (lambda: kernel(_variadic), "is variadic"),
        (lambda: kernel(_tensor_default), "cannot have a default"),
        (lambda: kernel(_bad_constexpr_default), r"Constexpr\[int\], got float"),
    ],
)
def test_bad_annotations(make: Any, message: str) -> None:
    with pytest.raises(TypeCheckError, match=message) as err:
        make()
    assert err.value.loc.file == THIS


def _unknown_int(x: int): ...
def _bare_tile(x: Tile[4, 4, DType.F32]): ...  # noqa: E302
def _out_scalar(x: Out[Scalar[DType.F32]]): ...  # noqa: E302
def _undefined_name(x: In[NoSuchType]): ...  # noqa: E302, F821
def _variadic(*xs: In[Tensor]): ...  # noqa: E302
def _tensor_default(x: In[Tensor] = 1): ...  # noqa: E302
def _bad_constexpr_default(n: Constexpr[int] = 1.5): ...  # noqa: E302


def test_bad_annotation_points_at_the_parameter_line() -> None:
    with pytest.raises(TypeCheckError, match="parameter 'y' has unknown annotation str") as err:

        @jit_kernel
        def bad(
            x: In[Tensor],
            y: str,  # L-bad-ann
        ):
            pass

    assert_user_line(err, "# L-bad-ann")


def test_invalid_type_constructors() -> None:
    with pytest.raises(TypeCheckError, match=r"Tile takes \[rows, cols, dtype\]"):
        Tile[4, 4]
    with pytest.raises(TypeCheckError, match="positive ints"):
        Tile[0, 4, DType.F32]
    with pytest.raises(TypeCheckError, match="unknown dtype"):
        Scalar["f17"]
    with pytest.raises(TypeCheckError, match=r"Constexpr\[str\] is not supported"):
        Constexpr[str]


# ---- body kinds -----------------------------------------------------------------------------


def test_empty_bodies() -> None:
    @kernel
    def doc_only(x: In[Tensor]):
        """Only a docstring."""

    @kernel
    def ellipsis(x: In[Tensor]): ...

    @kernel
    def passes(x: In[Tensor]):
        """Doc."""
        pass

    for k in (doc_only, ellipsis, passes):
        assert k.body_kind == "empty", k.name
        assert k.ir.ops == [] and k.ir.body_kind == "empty"
        assert k.ir.params == list(k.signature)


def test_empty_body_without_source_uses_bytecode() -> None:
    ns: dict[str, Any] = {"In": In, "Out": Out, "Tensor": Tensor, "pto": pto, "Tile": Tile}
    ns["DType"] = DType
    exec(  # noqa: S102 - a function with no retrievable source
        "def e(x: In[Tensor]):\n    'doc'\n    pass\n"
        "def t(x: In[Tile[2, 2, DType.F32]], y: Out[Tile[2, 2, DType.F32]]):\n"
        "    pto.store(y, x)\n",
        ns,
    )
    assert kernel(ns["e"]).body_kind == "empty"
    t = kernel(ns["t"])
    assert t.body_kind == "traced" and [o.op for o in t.ir.ops] == ["load", "store"]


def test_cpp_kernel() -> None:
    @kernel(cpp_includes=["pto/cpu/TMrgSort.hpp"], cpp_src="/* body */", cost=120, name="topk")
    def topk_kernel(x: In[Tensor], y: Out[Tensor]):
        pass

    assert topk_kernel.name == "topk" and topk_kernel.body_kind == "cpp"
    assert topk_kernel.cpp_src == "/* body */"
    assert topk_kernel.cpp_includes == ["pto/cpu/TMrgSort.hpp"]
    assert topk_kernel.cost == 120
    assert topk_kernel.ir.body_kind == "cpp" and topk_kernel.ir.cpp_src == "/* body */"


def test_cpp_kernel_with_python_body_keeps_the_cpp_and_never_runs_the_body() -> None:
    ran = []

    @kernel(cpp_src="/* body */")
    def both(x: In[Tile[2, 2, DType.F32]], y: Out[Tile[2, 2, DType.F32]]):
        ran.append(True)
        pto.store(y, x)

    assert both.body_kind == "cpp" and both.ir.ops == [] and ran == []


@pytest.mark.parametrize(
    "options,message",
    [
        ({"cost": -1}, "cost must be a non-negative int"),
        ({"cost": 1.5}, "cost must be a non-negative int"),
        ({"cpp_includes": "a.hpp"}, "cpp_includes must be a list"),
        ({"cpp_src": 3}, "cpp_src must be a string"),
        ({"name": "not a name"}, "must be an identifier"),
    ],
)
def test_decorator_option_validation(options: dict, message: str) -> None:
    with pytest.raises(TypeCheckError, match=message):
        kernel(**options)(_empty_kernel_body)


def _empty_kernel_body(x: In[Tensor]): ...


def test_kernel_returning_a_value_is_rejected() -> None:
    with pytest.raises(TypeCheckError, match="kernel bodies return nothing"):

        @jit_kernel
        def returns(x: In[Tile[2, 2, DType.F32]]):
            return pto.exp(x)


# ---- specialization -------------------------------------------------------------------------


@jit_kernel
def softmax_rows(x: In[Tensor], y: Out[Tensor], scale: Constexpr[float] = 1.0):
    e = pto.exp(pto.rowadd(x * scale, pto.neg(pto.rowmax(x))))
    pto.store(y, pto.rowmul(e, 1.0 / pto.rowsum(e)))


def test_lazy_kernel_needs_shapes() -> None:
    @jit_kernel
    def lazy(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.exp(x))

    with pytest.raises(
        TypeCheckError, match=r"shapes are needed.*shapes and dtypes for x, y"
    ) as err:
        _ = lazy.ir  # L-lazy-ir
    assert_user_line(err, "# L-lazy-ir")
    with pytest.raises(TypeCheckError, match="parameter 'y' .* needs a shape and dtype"):
        lazy.specialize({"x": ((4, 4), DType.F32)})


def test_specialization_and_cache() -> None:
    a = softmax_rows.specialize({"x": ((4, 8), DType.F32), "y": ((4, 8), "f32")}, {})
    assert [p.shape for p in a.params] == [(4, 8), (4, 8), ()]
    assert [p.dtype for p in a.params] == [DType.F32, DType.F32, DType.F64]
    assert a.constexprs == {"scale": 1.0}
    assert a.ops[-1].op == "store"
    assert softmax_rows.ir is a
    b = softmax_rows.specialize({"x": ((4, 8), DType.F32), "y": ((4, 8), DType.F32)})
    assert b is a  # same key -> cached trace
    c = softmax_rows.specialize({"x": ((2, 16), DType.F32), "y": ((2, 16), DType.F32)})
    assert c is not a and c.ops[0].shape == (2, 16)
    d = softmax_rows.specialize(
        {"x": ((4, 8), DType.F32), "y": ((4, 8), DType.F32)}, {"scale": 0.5}
    )
    assert d is not a and d.constexprs == {"scale": 0.5}
    assert softmax_rows.ir is d
    e = softmax_rows.specialize(
        {"x": ((4, 8), DType.F32), "y": ((4, 8), DType.F32)}, {"scale": 0.5}
    )
    assert e is d
    assert {id(s) for s in softmax_rows.specializations()} >= {id(a), id(c), id(d)}


def test_specialization_errors_point_into_the_body() -> None:
    @jit_kernel
    def needs_square(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.matmul(x, x))  # L-spec-matmul

    ok = needs_square.specialize({"x": ((4, 4), DType.F32), "y": ((4, 4), DType.F32)})
    assert ok.ops[-2].op == "matmul"
    with pytest.raises(TypeCheckError, match="inner dimensions differ") as err:
        needs_square.specialize({"x": ((4, 8), DType.F32), "y": ((4, 8), DType.F32)})
    assert_user_line(err, "# L-spec-matmul")


@pytest.mark.parametrize(
    "arg_types,constexprs,message",
    [
        ({"z": ((1, 1), DType.F32)}, {}, "unknown parameter"),
        ({"x": (4, DType.F32)}, {}, r"must be \(shape, dtype\)"),
        ({"x": ((4, -1), DType.F32)}, {}, "non-negative ints"),
        ({"x": ((4, 4), "f99")}, {}, "unknown dtype"),
        ({"scale": ((1,), DType.F32)}, {}, "is Constexpr"),
        ({}, {"x": 1}, "is not a Constexpr parameter"),
        ({}, {"scale": "big"}, r"Constexpr\[float\], got str"),
    ],
)
def test_specialize_argument_errors(arg_types: dict, constexprs: dict, message: str) -> None:
    base = {"x": ((4, 4), DType.F32), "y": ((4, 4), DType.F32)}
    with pytest.raises(TypeCheckError, match=message):
        softmax_rows.specialize({**base, **arg_types}, constexprs)


def test_tile_param_specialization_must_match() -> None:
    with pytest.raises(TypeCheckError, match="arg_types gives f32"):
        rmsnorm.specialize({"x": ((32, 128), DType.F32)})
    assert rmsnorm.specialize({"x": ((32, 128), DType.F16)}) is rmsnorm.ir


def test_constexpr_without_default_is_traced_lazily() -> None:
    @jit_kernel
    def unrolled(x: In[Tile[4, 4, DType.F32]], y: Out[Tile[4, 4, DType.F32]], n: Constexpr[int]):
        acc = pto.load(x)
        for _ in range(n):
            acc = acc + x
        pto.store(y, acc)

    with pytest.raises(TypeCheckError, match="shapes are needed.*values for Constexpr n"):
        _ = unrolled.ir
    two = unrolled.specialize({}, {"n": 2})
    assert [o.op for o in two.ops].count("add") == 2
    assert [o.op for o in unrolled.specialize({}, {"n": 3}).ops].count("add") == 3
    with pytest.raises(TypeCheckError, match="Constexpr parameter 'n' needs a value"):
        unrolled.specialize({}, {})


# ---- calls ----------------------------------------------------------------------------------


@kernel
def attn(Q: In[Tensor], K: In[Tensor], V: In[Tensor], O: Out[Tensor]): ...  # noqa: E741, N803


def _qkvo() -> tuple[Tensor, ...]:
    return tuple(
        Tensor(np.zeros((2, 4, 16, 16), dtype=np.float32), name=n) for n in ("Q", "K", "V", "O")
    )


def test_call_records_kernel_call(scope: _Scope) -> None:
    Q, K, V, O = _qkvo()  # noqa: N806, E741
    b, h = LoopVar("b"), LoopVar("h")
    call = attn[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])  # L-call
    assert isinstance(call, KernelCall)
    assert scope == [call]
    assert call.kernel is attn and call.kernel_name == "attn"
    assert call.axes == (b, h)
    assert list(call.args) == ["Q", "K", "V", "O"]
    assert call.args["O"].root is O
    assert call.loc.file == THIS and call.loc.line == line_of("# L-call")


def test_call_forms(scope: _Scope) -> None:
    Q, K, V, O = _qkvo()  # noqa: N806, E741
    b = LoopVar("b")
    bound = attn.at(b=b, h=1)
    assert isinstance(bound, BoundKernel)
    c1 = bound(Q[b], K[b], V[b], O=O[b])
    assert c1.axis_names == ("b", "h") and str(c1.axes[1]) == "1"
    c2 = attn(Q, K, V, O)  # no axes
    assert c2.axes == ()
    c3 = attn[b](Q[b], K[b], V=V[b], O=O[b])
    assert isinstance(c3.axes[0], ScalarExpr)
    assert scope == [c1, c2, c3]
    with pytest.raises(TypeCheckError, match="already has its axes bound"):
        attn[b][b]


@pytest.mark.parametrize(
    "call,message,marker",
    [
        (
            lambda q, k, v, o: attn(q, k, v, o, o),  # L-too-many
            "takes 4 arguments but 5 positional were given",
            "# L-too-many",
        ),
        (
            lambda q, k, v, o: attn(q, k, v, O=o, P=o),  # L-unknown
            "unknown argument 'P'",
            "# L-unknown",
        ),
        (
            lambda q, k, v, o: attn(q, k, v),  # L-missing
            "missing argument 'O'",
            "# L-missing",
        ),
        (
            lambda q, k, v, o: attn(q, k, v, o, Q=q),  # L-dup
            "multiple values for argument 'Q'",
            "# L-dup",
        ),
        (
            lambda q, k, v, o: attn(q, k, v, 3),  # L-kind
            r"argument 'O' \(Out\[Tensor\]\) expects a Tensor or tensor view, got int",
            "# L-kind",
        ),
    ],
)
def test_call_binding_errors(scope: _Scope, call: Any, message: str, marker: str) -> None:
    with pytest.raises(TypeCheckError, match=message) as err:
        call(*_qkvo())
    text = str(err.value)
    assert "kernel attn" in text
    assert "expected attn(Q: In[Tensor], K: In[Tensor], V: In[Tensor], O: Out[Tensor])" in text
    assert_user_line(err, marker)
    assert scope == []


def test_call_argument_checks(scope: _Scope) -> None:
    x = Tensor(np.zeros((4, 32, 128), dtype=np.float16), name="x")
    y = Tensor(np.zeros((4, 32, 128), dtype=np.float16), name="y")
    i = LoopVar("i")
    call = rmsnorm[i](x[i], y[i])
    assert isinstance(call.args["eps"], ScalarExpr) and call.args["eps"].value == 1e-6
    call = rmsnorm[i](x[i], y[i], eps=i)
    assert call.args["eps"] is i
    with pytest.raises(TypeCheckError, match=r"expects shape \[32, 128\], got a view of shape"):
        rmsnorm[i](x[i, 0:16], y[i])
    with pytest.raises(TypeCheckError, match=r"expects shape \[32, 128\]"):
        rmsnorm[i](x, y[i])
    z = Tensor(np.zeros((4, 32, 128), dtype=np.float32), name="z")
    with pytest.raises(TypeCheckError, match="expects dtype f16, got f32"):
        rmsnorm[i](z[i], y[i])
    with pytest.raises(TypeCheckError, match="expects a number or scalar expression"):
        rmsnorm[i](x[i], y[i], eps="tiny")
    with pytest.raises(TypeCheckError, match="Tensor or tensor view, got ndarray"):
        rmsnorm[i](np.zeros((32, 128), np.float16), y[i])
    assert len(scope) == 2


def test_constexpr_arguments(scope: _Scope) -> None:
    x = Tensor(np.zeros((8, 8), dtype=np.float32))
    i = LoopVar("i")
    call = softmax_rows[i](x, x)
    assert call.args["scale"] == 1.0
    assert softmax_rows(x, x, scale=2).args["scale"] == 2.0
    with pytest.raises(TypeCheckError, match="needs a compile-time constant"):
        softmax_rows[i](x, x, scale=i)


def test_scalar_argument_type(scope: _Scope) -> None:
    @kernel
    def scaled(x: In[Tensor], n: Scalar[DType.U32]): ...

    x = Tensor(np.zeros((8, 8), dtype=np.float32))
    assert scaled(x, 3).args["n"].value == 3
    with pytest.raises(TypeCheckError, match="not an integer"):
        scaled(x, 2.5)
    with pytest.raises(TypeCheckError, match="negative for u32"):
        scaled(x, -1)
    with pytest.raises(TypeCheckError, match="expects a scalar, got a tensor"):
        scaled(x, x)


def test_call_outside_workload_is_an_error() -> None:
    x = Tensor(np.zeros((8, 8), dtype=np.float32))
    with pytest.raises(TypeCheckError, match="calling kernel softmax_rows .* inside a @workload"):
        softmax_rows(x, x)


def test_bad_axis_value() -> None:
    with pytest.raises(TypeCheckError, match="axis 0 must be a loop variable"):
        attn["b"]


def test_kernel_called_inside_a_kernel_body(scope: _Scope) -> None:
    x = Tensor(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(TypeCheckError, match="called inside a kernel body"):

        @jit_kernel
        def outer(a: In[Tile[2, 2, DType.F32]]):
            attn(x, x, x, x)

    assert scope == []


# ---- ptoisa ---------------------------------------------------------------------------------


def test_ptoisa_kernel() -> None:
    @ptoisa_kernel
    def isa_add(
        a: In[Tile[4, 8, DType.F32]], b: In[Tile[4, 8, DType.F32]], c: Out[Tile[4, 8, DType.F32]]
    ):
        ta = ptoisa.TLOAD(a)
        tb = ptoisa.TLOAD(b)
        s = ptoisa.TADD(ta, tb)
        r = ptoisa.TROWSUM(s)
        ptoisa.TSTORE(c, ptoisa.TEXPANDS(ptoisa.TMAX(r, ptoisa.TNEG(r)), (4, 8)))

    assert isa_add.dialect == "ptoisa" and isa_add.ir.dialect == "ptoisa"
    ops = [(o.op, o.attrs.get("isa")) for o in isa_add.ir.ops]
    assert ops == [
        ("load", "TLOAD"),
        ("load", "TLOAD"),
        ("add", "TADD"),
        ("rowsum", "TROWSUM"),
        ("neg", "TNEG"),
        ("maximum", "TMAX"),
        ("broadcast", "TEXPANDS"),
        ("store", "TSTORE"),
    ]


def test_ptoisa_names_and_errors() -> None:
    for isa, op in ptoisa.ISA_OPS.items():
        assert callable(getattr(ptoisa, isa)) and callable(getattr(pto, op))
    with pytest.raises(TypeCheckError, match="ptoisa.TADD is only valid inside"):
        ptoisa.TADD(1, 2)
    with pytest.raises(TypeCheckError, match=r"pto\.matmul: inner dimensions differ") as err:

        @ptoisa_kernel
        def bad(a: In[Tile[4, 8, DType.F32]]):
            ptoisa.TMATMUL(a, a)  # L-isa-matmul

    assert_user_line(err, "# L-isa-matmul")


# ---- legacy ---------------------------------------------------------------------------------


def test_external_kernel(tmp_path: Any) -> None:
    impl = tmp_path / "flash_attn_v2.cpp"
    impl.write_text("// flash attention body\n")
    with pytest.warns(DeprecationWarning, match="ExternalKernel is deprecated") as rec:
        k = ExternalKernel(
            name="flash_attn_v2", impl_path=str(impl), inputs=["Q", "K", "V"], outputs=["O"]
        )
    assert rec[0].filename == THIS
    assert isinstance(k, KernelRef) and k.body_kind == "cpp"
    assert [(p.name, p.direction, p.kind) for p in k.signature] == [
        ("Q", "in", "tensor"),
        ("K", "in", "tensor"),
        ("V", "in", "tensor"),
        ("O", "out", "tensor"),
    ]
    assert k.cpp_src == "// flash attention body\n"


def test_external_kernel_missing_file_fails_at_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_emitter(monkeypatch, lambda kir, target: kir.cpp_src)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        k = ExternalKernel("ext", "kernels/does_not_exist.cpp", ["a"], ["b"])
    with pytest.raises(CompileError, match="does_not_exist.cpp"):
        k.compile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(TypeCheckError, match="appears twice"):
            ExternalKernel("ext", "x.cpp", ["a"], ["a"])
        with pytest.raises(TypeCheckError, match="must be a list of parameter names"):
            ExternalKernel("ext", "x.cpp", "a", ["b"])


def test_tl_alias() -> None:
    with pytest.warns(DeprecationWarning, match=r"tl\.\* is a deprecated alias for pto\.\*"):
        add = tl.add
    assert add is pto.add
    with pytest.warns(DeprecationWarning):
        assert tl.rowsum is pto.rowsum
    with pytest.raises(AttributeError, match="tl has no attribute 'topk'"):
        tl.topk  # noqa: B018
