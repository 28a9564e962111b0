"""pto.* ops: result shapes/dtypes of every op and each type error, reported at the user's line."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pto_wsp import pto
from pto_wsp.errors import TypeCheckError
from pto_wsp.language.kernel import In, InOut, Out, Scalar, Tile, jit_kernel
from pto_wsp.language.types import DType

F16, BF16, F32, I32, U8, BOOL = DType.F16, DType.BF16, DType.F32, DType.I32, DType.U8, DType.BOOL
THIS = __file__


def line_of(marker: str) -> int:
    """The line of this file that carries ``marker`` (a trailing comment)."""
    with open(THIS) as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith(marker):
                return n
    raise AssertionError(f"marker {marker} not found")


def assert_user_line(err: pytest.ExceptionInfo, marker: str) -> None:
    line = line_of(marker)
    assert f"{THIS}:{line}" in str(err.value)
    assert err.value.loc.file == THIS and err.value.loc.line == line


def trace(body: Any) -> tuple[Any, Any]:
    """Trace ``body(ns)`` in a kernel over a fixed set of tile params; return (result, ir)."""
    out: dict[str, Any] = {}

    @jit_kernel
    def k(
        a: In[Tile[8, 16, DType.F32]],
        a2: In[Tile[8, 16, DType.F32]],
        h: In[Tile[8, 16, DType.F16]],
        bf: In[Tile[8, 16, DType.BF16]],
        r: In[Tile[8, 1, DType.F32]],
        c: In[Tile[1, 16, DType.F32]],
        i: In[Tile[8, 16, DType.I32]],
        u: In[Tile[8, 16, DType.U8]],
        w: In[Tile[16, 4, DType.F32]],
        acc: In[Tile[8, 4, DType.F32]],
        odd: In[Tile[8, 15, DType.F32]],
        o: Out[Tile[8, 16, DType.F32]],
        io: InOut[Tile[8, 16, DType.F32]],
        s: Scalar[DType.F32],
    ):
        ns = SimpleNamespace(a=a, a2=a2, h=h, bf=bf, r=r, c=c, i=i, u=u, w=w, acc=acc)
        ns.odd, ns.o, ns.io, ns.s = odd, o, io, s
        out["v"] = body(ns)

    return out["v"], k.ir


CASES = [
    ("add", lambda n: pto.add(n.a, n.a2), (8, 16), F32),
    ("sub", lambda n: pto.sub(n.a, n.r), (8, 16), F32),
    ("mul", lambda n: pto.mul(n.a, n.c), (8, 16), F32),
    ("div", lambda n: pto.div(n.a, n.s), (8, 16), F32),
    ("maximum", lambda n: pto.maximum(n.r, n.c), (8, 16), F32),
    ("minimum", lambda n: pto.minimum(n.i, n.i), (8, 16), I32),
    ("max", lambda n: pto.max(n.a, n.a2), (8, 16), F32),
    ("min", lambda n: pto.min(n.a, n.a2), (8, 16), F32),
    ("add f16+f32", lambda n: pto.add(n.h, n.a), (8, 16), F32),
    ("add bf16+f16", lambda n: pto.add(n.bf, n.h), (8, 16), F32),
    ("add bf16+bf16", lambda n: pto.add(n.bf, n.bf), (8, 16), BF16),
    ("add f16+i32", lambda n: pto.add(n.h, n.i), (8, 16), DType.F64),
    ("add u8+i32", lambda n: pto.add(n.u, n.i), (8, 16), I32),
    ("add f16+literal", lambda n: n.h + 1.5, (8, 16), F16),
    ("mul i32*literal", lambda n: 2 * n.i, (8, 16), I32),
    ("mul i32*float literal", lambda n: n.i * 0.5, (8, 16), DType.F64),
    ("value ops", lambda n: -(n.a - n.a2) / n.a * n.a2, (8, 16), F32),
    ("matmul op", lambda n: n.a @ n.w, (8, 4), F32),
    ("exp", lambda n: pto.exp(n.h), (8, 16), F16),
    ("log", lambda n: pto.log(n.a), (8, 16), F32),
    ("sqrt", lambda n: pto.sqrt(n.bf), (8, 16), BF16),
    ("rsqrt", lambda n: pto.rsqrt(n.r), (8, 1), F32),
    ("tanh", lambda n: pto.tanh(n.a), (8, 16), F32),
    ("sigmoid", lambda n: pto.sigmoid(n.a), (8, 16), F32),
    ("sin", lambda n: pto.sin(n.a), (8, 16), F32),
    ("cos", lambda n: pto.cos(n.s), (), F32),
    ("gelu", lambda n: pto.gelu(n.a), (8, 16), F32),
    ("silu", lambda n: pto.silu(n.h), (8, 16), F16),
    ("relu int", lambda n: pto.relu(n.i), (8, 16), I32),
    ("relu unsigned", lambda n: pto.relu(n.u), (8, 16), U8),
    ("neg", lambda n: pto.neg(n.i), (8, 16), I32),
    ("abs", lambda n: pto.abs(n.a), (8, 16), F32),
    ("rowsum", lambda n: pto.rowsum(n.a), (8, 1), F32),
    ("rowmax", lambda n: pto.rowmax(n.i), (8, 1), I32),
    ("rowmean", lambda n: pto.rowmean(n.h), (8, 1), F16),
    ("colsum", lambda n: pto.colsum(n.a), (1, 16), F32),
    ("colmax", lambda n: pto.colmax(n.u), (1, 16), U8),
    ("rowmul", lambda n: pto.rowmul(n.h, n.r), (8, 16), F32),
    ("rowadd", lambda n: pto.rowadd(n.a, n.r), (8, 16), F32),
    ("colmul", lambda n: pto.colmul(n.a, n.c), (8, 16), F32),
    ("coladd", lambda n: pto.coladd(n.a, n.c), (8, 16), F32),
    ("broadcast scalar", lambda n: pto.broadcast(n.s, (4, 4)), (4, 4), F32),
    ("broadcast row", lambda n: pto.broadcast(n.r, (8, 32)), (8, 32), F32),
    ("broadcast col", lambda n: pto.broadcast(n.c, [3, 16]), (3, 16), F32),
    ("matmul", lambda n: pto.matmul(n.a, n.w), (8, 4), F32),
    ("matmul f16", lambda n: pto.matmul(n.h, pto.alloc((16, 4), F16)), (8, 4), F16),
    ("matmul acc", lambda n: pto.matmul(n.h, pto.alloc((16, 4), F16), acc=n.acc), (8, 4), F32),
    ("constant", lambda n: pto.constant(2.0, DType.F32), (), F32),
    ("constant int", lambda n: pto.constant(7, "i32"), (), I32),
    ("alloc", lambda n: pto.alloc((8, 8), DType.F16), (8, 8), F16),
    ("slice_even", lambda n: pto.slice_even(n.a), (8, 8), F32),
    ("slice_odd", lambda n: pto.slice_odd(n.i), (8, 8), I32),
    ("interleave", lambda n: pto.interleave(n.a, n.a2), (8, 32), F32),
    ("load", lambda n: pto.load(n.a), (8, 16), F32),
    ("load inout", lambda n: pto.load(n.io), (8, 16), F32),
]


@pytest.mark.parametrize("body,shape,dtype", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_op_result_type(body: Any, shape: tuple, dtype: DType) -> None:
    value, kir = trace(body)
    assert isinstance(value, pto.Value)
    assert value.shape == shape
    assert value.dtype is dtype
    # The value is the last recorded op's result, numbered after the 14 params.
    assert value.id == 14 + len(kir.ops) - 1
    assert kir.ops[-1].shape == shape and kir.ops[-1].dtype is dtype


def test_every_spec_op_is_exported() -> None:
    spec_ops = """load store alloc add sub mul div maximum minimum max min exp log sqrt rsqrt tanh
    sigmoid sin cos relu gelu silu neg abs rowsum rowmax rowmean colsum colmax rowmul rowadd
    colmul coladd broadcast matmul constant slice_even slice_odd interleave""".split()
    for name in spec_ops:
        assert callable(getattr(pto, name)), name
    assert pto.max is pto.maximum and pto.min is pto.minimum


def test_op_records_operands_and_attrs() -> None:
    _, kir = trace(lambda n: pto.store(n.o, pto.broadcast(pto.constant(3, DType.F32), (8, 16))))
    const, bcast, store = kir.ops
    assert (const.op, const.operands, const.attrs) == ("constant", [], {"value": 3})
    assert (bcast.op, bcast.operands, bcast.attrs) == ("broadcast", [14], {"shape": [8, 16]})
    assert (store.op, store.operands, store.shape, store.dtype) == ("store", [11, 15], (), None)


def test_implicit_load_once_per_param_and_after_store() -> None:
    def body(n: Any) -> None:
        pto.store(n.io, n.io * n.io)
        pto.store(n.o, n.io + n.a)

    _, kir = trace(body)
    ops = [(o.op, o.operands) for o in kir.ops]
    # io (id 12) is loaded once for the first product, and again after it was stored to.
    assert ops == [
        ("load", [12]),
        ("mul", [14, 14]),
        ("store", [12, 15]),
        ("load", [12]),
        ("load", [0]),
        ("add", [17, 18]),
        ("store", [11, 19]),
    ]
    assert kir.ops[0].attrs == {"implicit": True}


def test_store_broadcasts_and_converts() -> None:
    _, kir = trace(lambda n: pto.store(n.o, n.r))
    assert kir.ops[-1].op == "store"
    _, kir = trace(lambda n: pto.store(n.o, n.h))  # f16 into f32: fine
    assert kir.ops[-1].operands == [11, 14]
    _, kir = trace(lambda n: pto.store(n.o, 0.0))
    assert kir.ops[-2].op == "constant"


def test_value_repr_and_attributes() -> None:
    value, _ = trace(lambda n: pto.rowsum(n.a))
    assert value.shape == (8, 1) and value.dtype is F32
    assert repr(value) == f"Value(%{value.id}: f32[8, 1])"


def test_ops_outside_kernel_raise() -> None:
    with pytest.raises(
        TypeCheckError, match=r"pto\.add is only valid inside a @kernel/@jit_kernel body"
    ):
        pto.add(1, 2)  # L-outside
    with pytest.raises(TypeCheckError, match="pto.exp is only valid"):
        pto.exp(None)


# ---- type errors, each at the user's line in the kernel body --------------------------------


def test_add_shape_mismatch() -> None:
    with pytest.raises(TypeCheckError, match=r"pto\.add: shapes \[8, 16\] and \[16, 4\]") as err:

        @jit_kernel
        def bad(a: In[Tile[8, 16, DType.F32]], b: In[Tile[16, 4, DType.F32]]):
            pto.add(a, b)  # L-add-mismatch

    assert_user_line(err, "# L-add-mismatch")


def test_matmul_k_mismatch() -> None:
    with pytest.raises(TypeCheckError, match=r"inner dimensions differ.*K=16 vs K=8") as err:

        @jit_kernel
        def bad(a: In[Tile[8, 16, DType.F32]], b: In[Tile[8, 4, DType.F32]]):
            pto.matmul(a, b)  # L-matmul-k

    assert_user_line(err, "# L-matmul-k")


def test_matmul_acc_shape() -> None:
    with pytest.raises(TypeCheckError, match=r"acc must be \[8, 4\]") as err:

        @jit_kernel
        def bad(a: In[Tile[8, 16, DType.F32]], b: In[Tile[16, 4, DType.F32]]):
            pto.matmul(a, b, acc=pto.alloc((4, 8), DType.F32))  # L-matmul-acc

    assert_user_line(err, "# L-matmul-acc")


def test_store_to_in_param() -> None:
    with pytest.raises(
        TypeCheckError, match=r"cannot store into parameter 'x'.*declared In"
    ) as err:

        @jit_kernel
        def bad(x: In[Tile[4, 4, DType.F32]]):
            pto.store(x, pto.exp(x))  # L-store-in

    assert_user_line(err, "# L-store-in")


def test_exp_on_int() -> None:
    with pytest.raises(TypeCheckError, match=r"pto\.exp: needs a float operand.*i32") as err:

        @jit_kernel
        def bad(x: In[Tile[4, 4, DType.I32]], y: Out[Tile[4, 4, DType.I32]]):
            pto.store(y, pto.exp(x))  # L-exp-int

    assert_user_line(err, "# L-exp-int")


def test_slice_even_on_odd_columns() -> None:
    with pytest.raises(TypeCheckError, match=r"slice_even: needs an even number of columns") as err:

        @jit_kernel
        def bad(x: In[Tile[4, 5, DType.F32]]):
            pto.slice_even(x)  # L-slice-odd

    assert_user_line(err, "# L-slice-odd")


@pytest.mark.parametrize(
    "body,message",
    [
        (lambda n: pto.neg(n.u), "cannot negate unsigned"),
        (lambda n: pto.rowmean(n.i), "rowmean: needs a float tile"),
        (lambda n: pto.div(n.i, n.i), "integer tiles cannot be divided"),
        (lambda n: pto.rowmul(n.a, n.c), r"vec must be a row vector \[8, 1\]"),
        (lambda n: pto.coladd(n.a, n.r), r"vec must be a column vector \[1, 16\]"),
        (lambda n: pto.broadcast(n.a, (4, 16)), r"cannot broadcast .* to \[4, 16\]"),
        (lambda n: pto.broadcast(n.s, (4,)), "shape must be a"),
        (lambda n: pto.interleave(n.a, n.w), "equal shapes"),
        (lambda n: pto.slice_odd(n.odd), "even number of columns"),
        (lambda n: pto.load(n.o), "only In/InOut load"),
        (lambda n: pto.load(n.s), "src must be a tensor or tile parameter"),
        (lambda n: pto.load(pto.exp(n.a)), "src must be a tensor or tile parameter"),
        (lambda n: pto.add(n.o, n.a), "Out parameter and cannot be read"),
        (lambda n: pto.store(n.o, n.w), "src does not broadcast to dst"),
        (lambda n: pto.store(n.s, n.a), "dst must be a tensor or tile parameter"),
        (lambda n: pto.constant(1.5, DType.I32), "not an integer"),
        (lambda n: pto.constant(300, DType.U8), "out of range"),
        (lambda n: pto.constant("x", DType.F32), "must be a number"),
        (lambda n: pto.alloc((0, 4), DType.F32), "positive ints"),
        (lambda n: pto.add(n.a, "x"), "must be a tile or scalar Value"),
        (lambda n: pto.rowsum(n.s), "must be a 2-D tile"),
        (lambda n: pto.add(pto.alloc((2, 2), DType.BOOL), n.a), "numeric dtype"),
        (lambda n: bool(n.a), "no Python truth value"),
    ],
)
def test_type_errors(body: Any, message: str) -> None:
    with pytest.raises(TypeCheckError, match=message) as err:
        trace(body)
    # The reported line is the lambda's line in this file (the user's code).
    assert err.value.loc is not None and err.value.loc.file == THIS


def test_store_float_into_int_is_rejected() -> None:
    with pytest.raises(TypeCheckError, match="cannot store f32 into i32 parameter 'y'") as err:

        @jit_kernel
        def bad(x: In[Tile[4, 4, DType.F32]], y: Out[Tile[4, 4, DType.I32]]):
            pto.store(y, x)  # L-store-kind

    assert_user_line(err, "# L-store-kind")


def test_value_from_another_trace_is_rejected() -> None:
    leaked, _ = trace(lambda n: pto.exp(n.a))
    with pytest.raises(TypeCheckError, match="belongs to another kernel trace"):
        trace(lambda n: pto.add(n.a, leaked))


def test_error_loc_in_helper_function() -> None:
    def helper(x: Any) -> Any:
        return pto.exp(x)  # L-helper

    with pytest.raises(TypeCheckError) as err:
        trace(lambda n: helper(n.i))
    assert_user_line(err, "# L-helper")
