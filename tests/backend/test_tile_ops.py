"""Numerics of the runtime tile-op library (cpp_backend/runtime) against numpy.

Every op runs through ``_core.runtime.run_op`` on numpy arrays (views of the arrays' memory, any
strides). f16/bf16 results are compared with numpy computed in f32 and cast to the dtype; f32 math
with rtol 1e-6 against an f64 reference; integer results exactly (numpy wraps, so do we).
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

from pto_wsp._core import runtime
from pto_wsp.errors import CompileError, TypeCheckError
from pto_wsp.language import op_table

BF16 = np.dtype(ml_dtypes.bfloat16)
F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
FLOATS = [F16, BF16, F32, F64]
INTS = [np.dtype(t) for t in ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8")]
ALL = FLOATS + INTS + [np.dtype(bool)]

# Relative tolerance per dtype for results of several roundings (f16/bf16 may differ from
# numpy-in-f32-then-cast by one ulp of the narrow type when the f32 values differ slightly).
RTOL = {F16: 2e-3, BF16: 1.6e-2, F32: 1e-6, F64: 1e-13}
ATOL = {F16: 1e-4, BF16: 1e-3, F32: 1e-7, F64: 1e-15}


def ids(dtypes: list[np.dtype]) -> list[str]:
    return [d.name for d in dtypes]


def rand(rng: np.random.Generator, shape: tuple[int, int], dtype: np.dtype, lo=-4.0, hi=4.0):
    """Random values of `dtype`; integers span the type's full range (to exercise wrapping)."""
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return rng.uniform(lo, hi, shape).astype(dtype)


def ref_cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.asarray(values).astype(dtype)


def assert_close(got: np.ndarray, want: np.ndarray, dtype: np.dtype, rtol: float | None = None):
    assert got.dtype == dtype
    if dtype.kind in "iub":
        np.testing.assert_array_equal(got, want.astype(dtype))
        return
    np.testing.assert_allclose(
        got.astype(np.float64),
        np.asarray(want).astype(dtype).astype(np.float64),
        rtol=RTOL[dtype] if rtol is None else rtol,
        atol=ATOL[dtype],
        equal_nan=True,
    )


def compute_f(dtype: np.dtype) -> np.dtype:
    """numpy dtype in which a reference is computed: f32 for the 16-bit floats."""
    return F32 if dtype in (F16, BF16) else dtype


def run(op: str, out: np.ndarray, inputs: list[np.ndarray], attrs: list[float] | None = None):
    runtime.run_op(op, out, inputs, attrs or [])
    return out


# ---- elementwise binary ------------------------------------------------------------------------

BINARY_NP = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "max": np.maximum,
    "min": np.minimum,
}


@pytest.mark.parametrize("dtype", FLOATS, ids=ids(FLOATS))
@pytest.mark.parametrize("op", list(BINARY_NP))
def test_binary_float(op: str, dtype: np.dtype) -> None:
    rng = np.random.default_rng(1)
    a, b = rand(rng, (5, 37), dtype), rand(rng, (5, 37), dtype)
    if op == "div":
        b = np.where(np.abs(b.astype(np.float64)) < 0.25, 1.0, b).astype(dtype)
    out = run(op, np.empty((5, 37), dtype), [a, b])
    c = compute_f(dtype)
    assert_close(out, BINARY_NP[op](a.astype(c), b.astype(c)), dtype)


@pytest.mark.parametrize("dtype", [F16, BF16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_half_arithmetic_rounds_like_numpy(op: str, dtype: np.dtype) -> None:
    """f16/bf16 compute in f32 and round to nearest even once: bit-identical to numpy/ml_dtypes."""
    rng = np.random.default_rng(2)
    a = rand(rng, (8, 64), dtype, 0.5, 100.0)
    b = rand(rng, (8, 64), dtype, 0.5, 100.0)
    out = run(op, np.empty((8, 64), dtype), [a, b])
    want = BINARY_NP[op](a.astype(F32), b.astype(F32)).astype(dtype)
    np.testing.assert_array_equal(out.view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize("dtype", INTS, ids=ids(INTS))
@pytest.mark.parametrize("op", ["add", "sub", "mul", "maximum", "minimum"])
def test_binary_int_wraps_like_numpy(op: str, dtype: np.dtype) -> None:
    rng = np.random.default_rng(3)
    a, b = rand(rng, (6, 33), dtype), rand(rng, (6, 33), dtype)
    out = run(op, np.empty((6, 33), dtype), [a, b])
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out, BINARY_NP[op](a, b))


@pytest.mark.parametrize("dtype", INTS, ids=ids(INTS))
def test_int_div_is_true_division_toward_zero(dtype: np.dtype) -> None:
    """Documented: np.divide (f64), then toward zero; x/0 saturates, 0/0 gives 0."""
    rng = np.random.default_rng(4)
    a, b = rand(rng, (4, 25), dtype), rand(rng, (4, 25), dtype)
    b[b == 0] = 3
    out = run("div", np.empty((4, 25), dtype), [a, b])
    np.testing.assert_array_equal(out, np.trunc(np.divide(a, b)).astype(dtype))
    info = np.iinfo(dtype)
    num = np.array([[5, 0, info.max]], dtype)
    den = np.zeros((1, 3), dtype)
    got = run("div", np.empty((1, 3), dtype), [num, den])
    np.testing.assert_array_equal(got, np.array([[info.max, 0, info.max]], dtype))
    if info.min < 0:
        got = run("div", np.empty((1, 1), dtype), [np.array([[-7]], dtype), den[:, :1]])
        assert got[0, 0] == info.min


def test_float_maximum_minimum_propagate_nan() -> None:
    a = np.array([[1.0, np.nan, 3.0, -np.inf]], F32)
    b = np.array([[np.nan, 2.0, -1.0, np.inf]], F32)
    for op, ref in (("maximum", np.maximum), ("minimum", np.minimum)):
        np.testing.assert_array_equal(run(op, np.empty_like(a), [a, b]), ref(a, b))


def test_bool_add_mul_are_or_and() -> None:
    a = np.array([[True, True, False, False]])
    b = np.array([[True, False, True, False]])
    np.testing.assert_array_equal(run("add", np.empty_like(a), [a, b]), a + b)
    np.testing.assert_array_equal(run("mul", np.empty_like(a), [a, b]), a * b)
    np.testing.assert_array_equal(run("maximum", np.empty_like(a), [a, b]), np.maximum(a, b))


# ---- broadcasting ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F32, F16, np.dtype("i4")], ids=["f32", "f16", "i32"])
@pytest.mark.parametrize("shape_a", [(6, 10), (6, 1), (1, 10), (1, 1)])
@pytest.mark.parametrize("shape_b", [(6, 10), (6, 1), (1, 10), (1, 1)])
def test_binary_broadcasting(shape_a, shape_b, dtype: np.dtype) -> None:
    rng = np.random.default_rng(5)
    a, b = rand(rng, shape_a, dtype, -2, 2), rand(rng, shape_b, dtype, -2, 2)
    for op in ("add", "mul", "sub", "maximum"):
        out = run(op, np.empty((6, 10), dtype), [a, b])
        c = compute_f(dtype)
        with np.errstate(over="ignore"):
            want = np.broadcast_to(BINARY_NP[op](a.astype(c), b.astype(c)), (6, 10))
            assert_close(out, want, dtype)


@pytest.mark.parametrize(
    "dtype", [F32, BF16, F64, np.dtype("i2")], ids=["f32", "bf16", "f64", "i16"]
)
def test_row_and_column_broadcast_ops(dtype: np.dtype) -> None:
    rng = np.random.default_rng(6)
    t = rand(rng, (7, 12), dtype, -3, 3)
    row, col = rand(rng, (7, 1), dtype, -3, 3), rand(rng, (1, 12), dtype, -3, 3)
    c = compute_f(dtype)
    with np.errstate(over="ignore"):
        for op, vec, ref in (
            ("rowmul", row, np.multiply),
            ("rowadd", row, np.add),
            ("colmul", col, np.multiply),
            ("coladd", col, np.add),
        ):
            out = run(op, np.empty((7, 12), dtype), [t, vec])
            assert_close(out, ref(t.astype(c), vec.astype(c)), dtype)


@pytest.mark.parametrize("dtype", ALL, ids=ids(ALL))
@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (1, 9), (5, 9)])
def test_broadcast_op(shape, dtype: np.dtype) -> None:
    rng = np.random.default_rng(7)
    a = rand(rng, shape, dtype)
    out = run("broadcast", np.empty((5, 9), dtype), [a])
    np.testing.assert_array_equal(out, np.broadcast_to(a, (5, 9)))


# ---- unary math and activations ----------------------------------------------------------------


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


MATH_REF = {  # computed in f64
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "rsqrt": lambda x: 1.0 / np.sqrt(x),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "sin": np.sin,
    "cos": np.cos,
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
    "silu": lambda x: x / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "neg": np.negative,
    "abs": np.abs,
}
POSITIVE_ONLY = {"log", "sqrt", "rsqrt"}


@pytest.mark.parametrize("dtype", FLOATS, ids=ids(FLOATS))
@pytest.mark.parametrize("op", list(MATH_REF))
def test_unary_float(op: str, dtype: np.dtype) -> None:
    rng = np.random.default_rng(8)
    lo, hi = (0.05, 20.0) if op in POSITIVE_ONLY else (-8.0, 8.0)
    a = rand(rng, (9, 41), dtype, lo, hi)
    out = run(op, np.empty((9, 41), dtype), [a])
    want = MATH_REF[op](a.astype(np.float64))
    # f16/bf16 references: computed in f32 then cast (numpy semantics for 16-bit floats).
    if dtype in (F16, BF16):
        want = want.astype(F32)
    assert_close(out, want, dtype)


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "silu"])
def test_polynomial_f32_math_is_within_2ulp_over_the_whole_range(op: str) -> None:
    """The vectorised f32 exp/tanh/sigmoid polynomials: <= 2 ulp and rtol 1e-6 everywhere."""
    x = np.linspace(-110.0, 95.0, 200_003, dtype=np.float64).astype(F32).reshape(1, -1)
    x = np.concatenate([x, np.linspace(-1, 1, 200_003).astype(F32).reshape(1, -1)], axis=0)
    out = run(op, np.empty_like(x), [x])
    with np.errstate(over="ignore"):
        want = MATH_REF[op](x.astype(np.float64)).astype(F32)
    finite = np.isfinite(want) & (np.abs(want) >= np.finfo(F32).tiny)
    if op == "silu":  # x * sigmoid(x): sigmoid itself is subnormal (imprecise) below -87
        finite &= x > -85.0
    np.testing.assert_allclose(out[finite], want[finite], rtol=1e-6, atol=0)
    ulps = np.abs(out[finite].view(np.int32).astype(np.int64) - want[finite].view(np.int32))
    assert ulps.max() <= (3 if op == "silu" else 2)  # silu: one more rounding (x * sigmoid)
    # Overflow, underflow to subnormals/zero: same class as the reference.
    np.testing.assert_array_equal(np.isinf(out), np.isinf(want))
    tiny_atol = 1e-37 if op == "silu" else 2e-45  # exp, sigmoid: subnormals within 1 ulp
    np.testing.assert_allclose(out[~finite], want[~finite], rtol=0, atol=tiny_atol)


def test_f32_math_special_values() -> None:
    x = np.array([[0.0, -0.0, np.inf, -np.inf, np.nan, 88.72, 89.0, -87.5, -103.0, -104.5]], F32)
    with np.errstate(over="ignore"):
        want_exp = np.exp(x.astype(np.float64)).astype(F32)
    got = run("exp", np.empty_like(x), [x])
    np.testing.assert_array_equal(got, want_exp)  # incl. inf, 0, nan and subnormal results
    got = run("tanh", np.empty_like(x), [x])
    np.testing.assert_allclose(got, np.tanh(x.astype(np.float64)).astype(F32), rtol=1e-6)
    got = run("sigmoid", np.empty_like(x), [x])
    with np.errstate(over="ignore"):
        want = (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(F32)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-44)


@pytest.mark.parametrize("dtype", INTS, ids=ids(INTS))
@pytest.mark.parametrize("op", ["neg", "abs", "relu"])
def test_unary_int(op: str, dtype: np.dtype) -> None:
    rng = np.random.default_rng(9)
    a = rand(rng, (4, 30), dtype)
    info = np.iinfo(dtype)
    a[0, :3] = [info.min, info.max, 0]
    ref = {"neg": np.negative, "abs": np.abs, "relu": lambda v: np.maximum(v, dtype.type(0))}[op]
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(run(op, np.empty_like(a), [a]), ref(a))


def test_math_ops_reject_integer_outputs() -> None:
    a = np.ones((2, 2), np.int32)
    with pytest.raises(TypeCheckError, match="float output"):
        run("exp", np.empty_like(a), [a])


def test_relu_propagates_nan() -> None:
    a = np.array([[-1.0, np.nan, 2.0]], F32)
    np.testing.assert_array_equal(run("relu", np.empty_like(a), [a]), np.maximum(a, 0))


# ---- reductions --------------------------------------------------------------------------------

ROW_REDUCE = {"rowsum": np.sum, "rowmax": np.max, "rowmean": np.mean}
COL_REDUCE = {"colsum": np.sum, "colmax": np.max}


@pytest.mark.parametrize("dtype", FLOATS, ids=ids(FLOATS))
@pytest.mark.parametrize("op", [*ROW_REDUCE, *COL_REDUCE])
@pytest.mark.parametrize("shape", [(16, 128), (3, 300), (300, 3), (1, 1)])
def test_reductions_float(op: str, shape, dtype: np.dtype) -> None:
    rng = np.random.default_rng(10)
    a = rand(rng, shape, dtype, -2, 2)
    row = op in ROW_REDUCE
    out_shape = (shape[0], 1) if row else (1, shape[1])
    out = run(op, np.empty(out_shape, dtype), [a])
    fn = ROW_REDUCE[op] if row else COL_REDUCE[op]
    want = fn(a.astype(np.float64), axis=1 if row else 0, keepdims=True)
    if dtype in (F16, BF16):
        want = want.astype(F32)
    tol = {F16: 4e-3, BF16: 3e-2, F32: 2e-5, F64: 1e-12}[dtype]
    np.testing.assert_allclose(
        out.astype(np.float64), want.astype(dtype).astype(np.float64), rtol=tol, atol=tol
    )


@pytest.mark.parametrize("dtype", INTS, ids=ids(INTS))
@pytest.mark.parametrize("op", ["rowsum", "rowmax", "colsum", "colmax"])
def test_reductions_int(op: str, dtype: np.dtype) -> None:
    rng = np.random.default_rng(11)
    a = rand(rng, (7, 45), dtype)
    row = op.startswith("row")
    out = run(op, np.empty((7, 1) if row else (1, 45), dtype), [a])
    axis = 1 if row else 0
    if op.endswith("sum"):
        want = np.sum(a, axis=axis, keepdims=True, dtype=dtype)  # wraps in the dtype
    else:
        want = np.max(a, axis=axis, keepdims=True)
    np.testing.assert_array_equal(out, want)


def test_reductions_with_widening_output() -> None:
    """Inputs are converted to the output dtype: i8 summed into i64 does not wrap at 8 bits."""
    a = np.full((2, 100), 100, np.int8)
    out = run("rowsum", np.empty((2, 1), np.int64), [a])
    np.testing.assert_array_equal(out, [[10000], [10000]])
    out = run("rowmean", np.empty((2, 1), F32), [a])
    np.testing.assert_array_equal(out, [[100.0], [100.0]])


def test_max_reductions_propagate_nan() -> None:
    a = np.arange(40, dtype=F32).reshape(4, 10)
    a[1, 7] = np.nan
    rows = run("rowmax", np.empty((4, 1), F32), [a])
    np.testing.assert_array_equal(rows, np.max(a, axis=1, keepdims=True))
    cols = run("colmax", np.empty((1, 10), F32), [a])
    np.testing.assert_array_equal(cols, np.max(a, axis=0, keepdims=True))


def test_reduction_shape_errors() -> None:
    a = np.ones((4, 6), F32)
    with pytest.raises(TypeCheckError, match=r"must be \[r,1\]"):
        run("rowsum", np.empty((4, 6), F32), [a])
    with pytest.raises(TypeCheckError, match="expected"):
        run("colsum", np.empty((1, 5), F32), [a])


# ---- matmul ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS, ids=ids(FLOATS))
@pytest.mark.parametrize("mkn", [(64, 128, 64), (7, 5, 19), (1, 1, 1), (9, 33, 17)])
def test_matmul_float(mkn, dtype: np.dtype) -> None:
    m, k, n = mkn
    rng = np.random.default_rng(12)
    a, b = rand(rng, (m, k), dtype, -1, 1), rand(rng, (k, n), dtype, -1, 1)
    out = run("matmul", np.empty((m, n), dtype), [a, b])
    want = a.astype(np.float64) @ b.astype(np.float64)
    tol = {F16: 5e-3, BF16: 3e-2, F32: 1e-5, F64: 1e-12}[dtype]
    np.testing.assert_allclose(out.astype(np.float64), want, rtol=tol, atol=tol * k)


@pytest.mark.parametrize(
    "dtype", [np.dtype("i4"), np.dtype("i8"), np.dtype("u1")], ids=["i32", "i64", "u8"]
)
def test_matmul_int_wraps(dtype: np.dtype) -> None:
    rng = np.random.default_rng(13)
    a, b = rand(rng, (6, 9), dtype), rand(rng, (9, 5), dtype)
    out = run("matmul", np.empty((6, 5), dtype), [a, b])
    np.testing.assert_array_equal(out, np.matmul(a, b))


def test_matmul_accumulate_separate_and_in_place() -> None:
    rng = np.random.default_rng(14)
    a, b = rand(rng, (12, 20), F32), rand(rng, (20, 18), F32)
    acc = rand(rng, (12, 18), F32)
    want = a.astype(np.float64) @ b + acc
    out = run("matmul", np.empty((12, 18), F32), [a, b, acc])
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-4)
    inplace = acc.copy()
    run("matmul", inplace, [a, b, inplace])
    np.testing.assert_allclose(inplace, want, rtol=1e-5, atol=1e-4)


def test_matmul_f16_inputs_into_f32_output() -> None:
    """Mixed dtypes: f16 operands are converted (exactly) to the f32 output dtype."""
    rng = np.random.default_rng(15)
    a, b = rand(rng, (16, 32), F16, -1, 1), rand(rng, (32, 24), F16, -1, 1)
    acc = rand(rng, (16, 24), BF16, -1, 1)
    out = run("matmul", np.empty((16, 24), F32), [a, b, acc])
    want = a.astype(np.float64) @ b.astype(np.float64) + acc.astype(np.float64)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_matmul_strided_operands_and_output() -> None:
    rng = np.random.default_rng(16)
    big_a = rand(rng, (20, 30), F32)
    bt = rand(rng, (11, 15), F32)  # b is a transposed view: column stride != 1
    a = big_a[::2, 1::2]  # (10, 15)
    b = bt.T  # (15, 11)
    target = np.zeros((30, 33), F32)
    out = target[::3, ::3]  # (10, 11), strided
    run("matmul", out, [a, b])
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    mask = np.ones_like(target, bool)
    mask[::3, ::3] = False
    assert not target[mask].any()


def test_matmul_shape_and_overlap_errors() -> None:
    a = np.ones((4, 5), F32)
    with pytest.raises(TypeCheckError, match="input 1 has shape"):
        run("matmul", np.empty((4, 3), F32), [a, np.ones((6, 3), F32)])
    sq = np.ones((4, 4), F32)
    with pytest.raises(TypeCheckError, match="overlaps"):
        run("matmul", sq, [sq, np.ones((4, 4), F32)])


# ---- strided views -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [F32, F16, np.dtype("i8")], ids=["f32", "f16", "i64"])
def test_strided_inputs_and_outputs(dtype: np.dtype) -> None:
    rng = np.random.default_rng(17)
    base = rand(rng, (12, 40), dtype, -3, 3)
    a = base[::2, 3::3]  # (6, 13), both strides != contiguous
    b = base[::-2, ::-3][:, :13]  # negative strides
    c = np.asfortranarray(rand(rng, (6, 13), dtype, -3, 3))  # column-major
    canvas = np.zeros((18, 50), dtype)
    out = canvas[1::3, 2::3][:, :13]
    comp = compute_f(dtype)
    run("add", out, [a, b])
    with np.errstate(over="ignore"):
        assert_close(out, a.astype(comp) + b.astype(comp), dtype)
        run("mul", out, [c, b])
        assert_close(out, c.astype(comp) * b.astype(comp), dtype)
    untouched = np.ones_like(canvas, bool)
    untouched[1::3, 2::3][:, :13] = False
    assert not canvas[untouched].any()
    rows = np.zeros((6, 3), dtype)[:, 1:2]
    run("rowmax", rows, [a])
    np.testing.assert_array_equal(rows, a.max(axis=1, keepdims=True))


def test_in_place_elementwise_update() -> None:
    rng = np.random.default_rng(18)
    a, b = rand(rng, (8, 16), F32), rand(rng, (8, 16), F32)
    want = a + b
    run("add", a, [a, b])
    np.testing.assert_array_equal(a, want)
    want = np.exp(a.astype(np.float64)).astype(F32)
    run("exp", a, [a])
    np.testing.assert_allclose(a, want, rtol=1e-6)


def test_partial_overlap_is_rejected() -> None:
    buf = np.arange(40, dtype=F32).reshape(4, 10)
    with pytest.raises(TypeCheckError, match="overlaps input 0"):
        run("add", buf[:, 1:9], [buf[:, 0:8], np.ones((4, 8), F32)])


# ---- mixed dtypes ------------------------------------------------------------------------------


def test_mixed_inputs_convert_to_output_dtype() -> None:
    rng = np.random.default_rng(19)
    a = rand(rng, (4, 9), F16, -3, 3)
    b = rng.integers(-50, 50, (4, 9), dtype=np.int32)
    out = run("add", np.empty((4, 9), F32), [a, b])
    np.testing.assert_array_equal(out, a.astype(F32) + b.astype(F32))
    out64 = run("mul", np.empty((4, 9), F64), [a, b])
    np.testing.assert_array_equal(out64, a.astype(F64) * b)
    # f16 output from an i8 input: numpy promotes (f16, i8) -> f16 and so do we.
    c = rng.integers(-100, 100, (4, 9), dtype=np.int8)
    out16 = run("add", np.empty((4, 9), F16), [a, c])
    np.testing.assert_array_equal(out16, a + c)


# ---- memory, constants, slices -----------------------------------------------------------------


@pytest.mark.parametrize("src", ALL, ids=ids(ALL))
def test_load_store_convert_every_dtype_pair(src: np.dtype) -> None:
    values = np.array([[0, 1, 2, 3, 7, 100, 126, 5, 64, 0, 9, 11]], np.float64)
    a = values.astype(src)
    for dst in ALL:
        for op in ("load", "store"):
            out = run(op, np.empty(a.shape, dst), [a])
            np.testing.assert_array_equal(out, a.astype(dst), err_msg=f"{op} {src} -> {dst}")


@pytest.mark.parametrize("op", ["load", "store"])
def test_load_store_same_dtype_in_every_layout(op: str) -> None:
    """The one-memcpy path (same dtype and shape, both one block) and the strided copy agree:
    each source and destination layout, a padded row stride, one row, one column."""
    rng = np.random.default_rng(23)
    block = rand(rng, (4, 8), F32)
    sources = {
        "block": block,
        "padded rows": rand(rng, (4, 12), F32)[:, :8],
        "strided cols": rand(rng, (4, 16), F32)[:, ::2],
        "column-major": np.asfortranarray(block),
        "row": rand(rng, (1, 8), F32),
        "column": rand(rng, (4, 6), F32)[:, 2:3],
    }
    for name, src in sources.items():
        for layout in ("block", "padded", "column-major"):
            shape = src.shape
            canvas = np.full((shape[0], shape[1] + 3), -1, F32)
            out = {
                "block": np.empty(shape, F32),
                "padded": canvas[:, : shape[1]],
                "column-major": np.asfortranarray(np.empty(shape, F32)),
            }[layout]
            run(op, out, [src])
            np.testing.assert_array_equal(out, src, err_msg=f"{op} {name} -> {layout}")
            if layout == "padded":
                assert (canvas[:, shape[1] :] == -1).all()  # the padding is never written


def test_f64_to_f16_rounds_once() -> None:
    """1 + 2^-11 + 2^-40 is just above a f16 tie: a direct rounding gives 1 + 2^-10."""
    x = np.array([[1 + 2**-11 + 2**-40, 1 + 2**-11, 1 + 3 * 2**-11, 70000.0, -1e-9]], F64)
    with np.errstate(over="ignore"):
        want16, want_bf16 = x.astype(F16), x.astype(BF16)
    out = run("load", np.empty(x.shape, F16), [x])
    np.testing.assert_array_equal(out, want16)
    assert out[0, 0] == np.float16(1 + 2**-10) and np.isinf(out[0, 3])
    out = run("load", np.empty(x.shape, BF16), [x])
    np.testing.assert_array_equal(out.view(np.uint16), want_bf16.view(np.uint16))


@pytest.mark.parametrize("dtype", ALL, ids=ids(ALL))
def test_constant_and_alloc(dtype: np.dtype) -> None:
    out = np.full((3, 5), 1, dtype)
    run("alloc", out, [])
    assert not out.astype(np.float64).any()
    run("constant", out, [], [3.0])
    np.testing.assert_array_equal(out, np.full((3, 5), 3, dtype))
    strided = np.zeros((6, 10), dtype)
    run("constant", strided[::2, ::2], [], [1.0])
    assert strided.astype(np.float64).sum() == 15


def test_constant_conversions_are_documented_saturating() -> None:
    out = np.empty((1, 1), np.int32)
    assert run("constant", out, [], [-3.7])[0, 0] == -3
    assert run("constant", out, [], [float("nan")])[0, 0] == 0
    assert run("constant", out, [], [1e20])[0, 0] == np.iinfo(np.int32).max
    out8 = np.empty((1, 1), np.uint8)
    assert run("constant", out8, [], [300.0])[0, 0] == 255
    assert run("constant", out8, [], [-1.0])[0, 0] == 0
    half = np.empty((1, 1), F16)
    assert run("constant", half, [], [0.1])[0, 0] == np.float16(0.1)
    with pytest.raises(TypeCheckError, match="attrs"):
        run("constant", out, [])


@pytest.mark.parametrize(
    "dtype", [F32, BF16, np.dtype("i2"), np.dtype(bool)], ids=["f32", "bf16", "i16", "bool"]
)
@pytest.mark.parametrize("cols", [1, 2, 7, 10])
def test_slices_and_interleave(cols: int, dtype: np.dtype) -> None:
    rng = np.random.default_rng(20)
    x = rand(rng, (5, cols), dtype)
    even = run("slice_even", np.empty((5, (cols + 1) // 2), dtype), [x])
    np.testing.assert_array_equal(even, x[:, 0::2])
    odd = run("slice_odd", np.empty((5, cols // 2), dtype), [x])
    np.testing.assert_array_equal(odd, x[:, 1::2])
    back = run("interleave", np.empty((5, cols), dtype), [even, odd])
    np.testing.assert_array_equal(back, x)


def test_slices_of_strided_input() -> None:
    base = np.arange(120, dtype=np.int32).reshape(6, 20)
    x = base[::2, ::-1]  # negative column stride
    even = run("slice_even", np.empty((3, 10), np.int32), [x])
    np.testing.assert_array_equal(even, x[:, ::2])


def test_slice_and_interleave_shape_errors() -> None:
    x = np.ones((2, 7), F32)
    with pytest.raises(TypeCheckError, match=r"must be \[2,4\]"):
        run("slice_even", np.empty((2, 3), F32), [x])
    with pytest.raises(TypeCheckError, match="one more"):
        run("interleave", np.empty((2, 9), F32), [np.ones((2, 3), F32), np.ones((2, 6), F32)])


# ---- the Python door: errors and timing --------------------------------------------------------


def test_unknown_op_is_a_compile_error_listing_known_ops() -> None:
    with pytest.raises(CompileError, match="unknown tile op 'topk'.*matmul"):
        run("topk", np.empty((2, 2), F32), [np.ones((2, 2), F32)])


def test_argument_errors_are_type_check_errors() -> None:
    a = np.ones((3, 4), F32)
    with pytest.raises(TypeCheckError, match="does not broadcast"):
        run("add", np.empty((3, 4), F32), [a, np.ones((2, 4), F32)])
    with pytest.raises(TypeCheckError, match="expects 2 input tiles, got 1"):
        run("add", np.empty((3, 4), F32), [a])
    with pytest.raises(TypeCheckError, match="2-D"):
        run("exp", np.empty((3, 4), F32), [np.ones(12, F32)])
    with pytest.raises(TypeCheckError, match="not a tile dtype"):
        run("neg", np.empty((3, 4), np.complex64), [a])
    with pytest.raises(TypeCheckError, match="read-only"):
        ro = np.empty((3, 4), F32)
        ro.flags.writeable = False
        run("neg", ro, [a])
    with pytest.raises(TypeCheckError, match="bool output"):
        b = np.ones((3, 4), bool)
        run("sub", np.empty_like(b), [b, b])
    with pytest.raises(TypeCheckError, match="numpy array"):
        runtime.run_op("neg", np.empty((3, 4), F32), [[1.0, 2.0]])


def test_time_op_returns_nanoseconds_per_op() -> None:
    a = np.ones((16, 128), F32)
    out = np.empty_like(a)
    ns = runtime.time_op("add", out, [a, a], [], 50)
    assert 0.0 < ns < 1e7
    np.testing.assert_array_equal(out, a + a)
    with pytest.raises(TypeCheckError, match="iterations"):
        runtime.time_op("add", out, [a, a], [], 0)


def test_op_names_cover_the_ir_op_set() -> None:
    assert set(op_table.IR_OPS) <= set(runtime.op_names())
