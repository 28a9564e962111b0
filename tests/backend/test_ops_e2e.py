"""Every ``pto.*`` op x dtype through ``workload.compile(target="cpu_sim")`` + execute.

Each case is one kernel applying one op inside a ``P`` grid over the tiles of a tensor; the
result lands in the user's numpy array and is compared with numpy. All cases live in ONE
workload (one C++ build for the whole module, see conftest.py); each case is its own test.

References: f32/f64 and integers are computed by numpy in the tile dtype (integers wrap like
numpy); f16/bf16 (bf16 through ``ml_dtypes``) are computed by numpy in f32, then cast.
Tolerances are a couple of units in the last place of the output dtype; integers are exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np
import pytest

from pto_wsp import (
    CompileError,
    DType,
    In,
    InOut,
    KernelRef,
    Out,
    P,
    Scalar,
    Tensor,
    kernel,
    pto,
    workload,
)
from pto_wsp._core import ir
from pto_wsp.backends.cpu_sim import emit_sources

G, R, C, N = 3, 8, 16, 8  # grid size, tile rows, tile cols, matmul N
FLOATS = ("f16", "bf16", "f32", "f64")
INTS = ("i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64")
SIGNED_INTS = ("i8", "i16", "i32", "i64")
NP = {
    "f16": np.dtype(np.float16),
    "bf16": np.dtype(ml_dtypes.bfloat16),
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
    **{d: np.dtype(f"{'u' if d[0] == 'u' else ''}int{d[1:]}") for d in INTS},
}
# (rtol, atol) per output dtype: ~2 ulp of the dtype (f16/bf16 round once from f32).
TOL = {
    "f16": (2e-3, 2e-3),
    "bf16": (1.6e-2, 1.6e-2),
    "f32": (2e-6, 2e-6),
    "f64": (1e-13, 1e-13),
}

_RNG = np.random.default_rng(20240611)


# ---- data ------------------------------------------------------------------------------------


def normal(shape: tuple[int, ...], dt: str) -> np.ndarray:
    return _RNG.standard_normal(shape).astype(NP[dt])


def positive(shape: tuple[int, ...], dt: str) -> np.ndarray:
    return _RNG.uniform(0.25, 4.0, shape).astype(NP[dt])


def away_from_zero(shape: tuple[int, ...], dt: str) -> np.ndarray:
    sign = np.where(_RNG.random(shape) < 0.5, -1.0, 1.0)
    return (sign * _RNG.uniform(0.5, 2.0, shape)).astype(NP[dt])


def ints(
    shape: tuple[int, ...], dt: str, lo: int | None = None, hi: int | None = None
) -> np.ndarray:
    info = np.iinfo(NP[dt])
    lo = info.min if lo is None else max(lo, info.min)
    hi = info.max if hi is None else min(hi, info.max)
    return _RNG.integers(lo, hi, shape, dtype=NP[dt], endpoint=True)


def data(shape: tuple[int, ...], dt: str) -> np.ndarray:
    """Full-range integers (so add/mul wrap) or standard normal floats."""
    return ints(shape, dt) if dt in INTS else normal(shape, dt)


def f(a: np.ndarray) -> np.ndarray:
    """The array numpy computes a reference in: f32 for f16/bf16, itself otherwise."""
    return a.astype(np.float32) if a.dtype in (NP["f16"], NP["bf16"]) else a


def erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x.astype(np.float64))


def sigmoid_ref(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


UNARY_REF: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x),
    "tanh": np.tanh,
    "sigmoid": sigmoid_ref,
    "sin": np.sin,
    "cos": np.cos,
    "relu": lambda x: np.maximum(x, x.dtype.type(0)),
    "gelu": lambda x: (0.5 * x.astype(np.float64) * (1 + erf(x / math.sqrt(2)))).astype(x.dtype),
    "silu": lambda x: x * sigmoid_ref(x),
    "neg": np.negative,
    "abs": np.abs,
}
BINARY_REF: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "max": np.maximum,
    "min": np.minimum,
}


def rowsum_ref(x: np.ndarray) -> np.ndarray:
    return x.sum(axis=-1, keepdims=True, dtype=x.dtype)


REDUCE_REF: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rowsum": rowsum_ref,
    "rowmax": lambda x: x.max(axis=-1, keepdims=True),
    "rowmean": lambda x: x.mean(axis=-1, keepdims=True, dtype=x.dtype),
    "colsum": lambda x: x.sum(axis=-2, keepdims=True, dtype=x.dtype),
    "colmax": lambda x: x.max(axis=-2, keepdims=True),
}
VEC_REF: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "rowmul": ("row", np.multiply),
    "rowadd": ("row", np.add),
    "colmul": ("col", np.multiply),
    "coladd": ("col", np.add),
}


# ---- kernels -----------------------------------------------------------------------------------


def unary_kernel(op: str) -> KernelRef:
    fn = getattr(pto, op)

    def body(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, fn(x))

    return kernel(name=f"k_{op}")(body)


def binary_kernel(op: str) -> KernelRef:
    fn = getattr(pto, op)

    def body(a: In[Tensor], b: In[Tensor], y: Out[Tensor]):
        pto.store(y, fn(a, b))

    return kernel(name=f"k_{op}")(body)


UNARY_K = {op: unary_kernel(op) for op in (*UNARY_REF, *REDUCE_REF, "slice_even", "slice_odd")}
BINARY_K = {op: binary_kernel(op) for op in (*BINARY_REF, *VEC_REF, "interleave")}


@kernel
def k_load(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.load(x))


@kernel
def k_alloc_f32(y: Out[Tensor]):
    pto.store(y, pto.alloc((R, C), DType.F32))


@kernel
def k_alloc_add_i32(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(pto.alloc((R, C), DType.I32), x))


@kernel
def k_constant_bf16(y: Out[Tensor]):
    pto.store(y, pto.constant(1.5, DType.BF16))


@kernel
def k_constant_i8(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(x, pto.constant(-3, DType.I8)))


@kernel
def k_constant_f64(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.mul(x, pto.constant(0.1, DType.F64)))


@kernel
def k_broadcast_row(v: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.broadcast(v, (R, C)))


@kernel
def k_broadcast_col(v: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.broadcast(v, (R, C)))


@kernel
def k_broadcast_scalar(y: Out[Tensor]):
    pto.store(y, pto.broadcast(pto.constant(-2.25, DType.F32), (R, C)))


@kernel
def k_store_broadcast(v: In[Tensor], y: Out[Tensor]):
    pto.store(y, v)  # [R, 1] stored into [R, C]


@kernel
def k_matmul(a: In[Tensor], b: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.matmul(a, b))


@kernel
def k_matmul_acc(a: In[Tensor], b: In[Tensor], acc: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.matmul(a, b, acc=acc))


@kernel
def k_matmul_inout(a: In[Tensor], b: In[Tensor], c: InOut[Tensor]):
    pto.store(c, pto.matmul(a, b, acc=c))


@kernel
def k_matmul_f16_into_f32(a: In[Tensor], b: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.matmul(a, b, acc=pto.alloc((R, N), DType.F32)))


@kernel
def k_mul_literal(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, x * 2.0)


@kernel
def k_int_literal(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, x + 1)


@kernel
def k_float_literal_on_int(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, x * 0.5)


@kernel
def k_reflected_literals(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, (1.0 - x) / (2.0 + x * x) + 3.0 / (x * x + 1.0))


@kernel
def k_scalar_param(x: In[Tensor], s: Scalar[DType.F32], y: Out[Tensor]):
    pto.store(y, pto.mul(x, s))


@kernel
def k_int_scalar_param(x: In[Tensor], s: Scalar[DType.I32], y: Out[Tensor]):
    pto.store(y, x + s)


@kernel
def k_outer(r: In[Tensor], c: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(r, c))  # [R, 1] + [1, C] -> [R, C]


@kernel
def k_inout_axpy(x: In[Tensor], y: InOut[Tensor]):
    pto.store(y, pto.add(y, pto.mul(x, 3.0)))


@kernel
def k_chain(x: In[Tensor], y: Out[Tensor]):
    # several ops with intermediate arena tiles, reading x twice (one implicit load)
    e = pto.exp(pto.sub(x, pto.rowmax(x)))
    pto.store(y, pto.div(e, pto.rowsum(e)) + pto.colmax(x))


@kernel
def k_iota(y: Out[Tensor]):
    pto.store(y, pto.iota_u32(32))


@kernel
def k_tsort32(x: In[Tensor], idx: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.tsort32(x, idx))  # idx [1, c], shared by every row


@kernel
def k_topk(a: In[Tensor], b: In[Tensor], ib: In[Tensor], y: Out[Tensor]):
    # spec §6.1's TopK route over 64 scores (a, b: the two halves; ib: b's indices 32..63)
    merged = pto.mrgsort(pto.tsort32(a, pto.iota_u32(32)), pto.tsort32(b, ib))
    pto.store(y, pto.extract_topk_indices(merged, 12))


@kernel
def k_mrgsort(a: In[Tensor], b: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.mrgsort(a, b))


def sorted_pairs(scores: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """numpy's TSORT32 of one row: per 32-block (score, index) pairs, score descending, ties to
    the lower index; the index slot holds the u32's bits."""
    out = np.empty(2 * scores.size, np.float32)
    for b0 in range(0, scores.size, 32):
        s, i = scores[b0 : b0 + 32], idx[b0 : b0 + 32].astype(np.uint32)
        order = np.lexsort((i, -s.astype(np.float64)))
        out[2 * b0 : 2 * b0 + 2 * len(s) : 2] = s[order]
        out[2 * b0 + 1 : 2 * b0 + 2 * len(s) : 2] = i[order].view(np.float32)
    return out


def merged_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """numpy's TMRGSORT of two sorted pair rows: a stable merge by score, ties to ``a``."""
    pa, pb = a.reshape(-1, 2), b.reshape(-1, 2)
    both = np.concatenate([pa, pb])
    order = np.argsort(-both[:, 0].astype(np.float64), kind="stable")
    return both[order].reshape(-1)


def tied_scores(shape: tuple[int, ...]) -> np.ndarray:
    """Scores on a coarse grid (many ties), with -0.0 and +0.0 among them."""
    x = (_RNG.integers(-4, 5, shape) * 0.5).astype(np.float32)
    x.reshape(-1)[::7] = -0.0
    return x


# ---- cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    """One kernel over a ``P(G)`` grid. ``tiled`` arrays have the grid as leading dim."""

    id: str
    kernel: KernelRef
    expect: np.ndarray
    tiled: dict[str, np.ndarray] = field(default_factory=dict)
    shared: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    out_name: str = "y"
    out: np.ndarray | None = None  # initial content of the output (InOut), else a sentinel
    exact: bool = False

    def __post_init__(self) -> None:
        if self.out is None:
            self.out = np.full(self.expect.shape, 7, dtype=self.expect.dtype)
        self.tensors = {k: Tensor(v, name=f"{self.id}_{k}") for k, v in self.tiled.items()}
        self.shared_t = {k: Tensor(v, name=f"{self.id}_{k}") for k, v in self.shared.items()}
        self.out_t = Tensor(self.out, name=f"{self.id}_out")


def out_dtype_name(a: np.ndarray) -> str:
    return next(k for k, v in NP.items() if v == a.dtype)


def cast(ref: np.ndarray, like: str) -> np.ndarray:
    return np.asarray(ref).astype(NP[like])


def build_cases() -> list[Case]:
    cases: list[Case] = []
    tile = (G, R, C)
    # load / store (incl. conversion on store)
    for dt in (*FLOATS, *INTS):
        x = data(tile, dt)
        cases.append(Case(f"load-{dt}", k_load, x.copy(), {"x": x}, exact=True))
    # elementwise unary
    for op, ref in UNARY_REF.items():
        dts = FLOATS
        if op in ("relu", "abs"):
            dts = (*FLOATS, *INTS)
        elif op == "neg":
            dts = (*FLOATS, *SIGNED_INTS)
        for dt in dts:
            gen = positive if op in ("log", "sqrt", "rsqrt") else data
            x = gen(tile, dt)
            exact = dt in INTS
            expect = ref(x) if exact else cast(ref(f(x)), dt)
            cases.append(Case(f"{op}-{dt}", UNARY_K[op], expect, {"x": x}, exact=exact))
    # elementwise binary, same dtype
    for op, ref in BINARY_REF.items():
        dts = FLOATS if op == "div" else (*FLOATS, *INTS)
        if op in ("max", "min"):
            dts = ("f32", "i16")  # aliases: a spot check
        for dt in dts:
            a = data(tile, dt)
            b = away_from_zero(tile, dt) if op == "div" else data(tile, dt)
            exact = dt in INTS
            expect = ref(a, b) if exact else cast(ref(f(a), f(b)), dt)
            cases.append(Case(f"{op}-{dt}", BINARY_K[op], expect, {"a": a, "b": b}, exact=exact))
    # broadcasting of row vectors [R, 1], column vectors [1, C] and scalars [1, 1] views
    for op in ("add", "sub", "mul", "div", "maximum"):
        for dt in ("f16", "f32", "i32") if op != "div" else ("bf16", "f64"):
            a = data(tile, dt)
            gen = away_from_zero if op == "div" else data
            rowv, colv = gen((G, R, 1), dt), gen((1, C), dt)
            ref = BINARY_REF[op]
            exact = dt in INTS

            def expect(x: np.ndarray, y: np.ndarray, dt: str = dt, ref: Any = ref) -> np.ndarray:
                return ref(x, y) if dt in INTS else cast(ref(f(x), f(y)), dt)

            cases.append(
                Case(
                    f"{op}-rowvec-{dt}",
                    BINARY_K[op],
                    expect(a, rowv),
                    {"a": a, "b": rowv},
                    exact=exact,
                )  # fmt: skip
            )
            cases.append(
                Case(
                    f"{op}-colvec-first-{dt}",
                    BINARY_K[op],
                    expect(colv, a),
                    {"b": a},
                    shared={"a": colv},
                    exact=exact,
                )  # fmt: skip
            )
    # numpy promotion of mixed dtypes
    for da, db in (
        ("f16", "f32"),
        ("i32", "f32"),
        ("i8", "f16"),
        ("bf16", "f16"),
        ("u8", "i8"),
        ("u32", "i32"),
        ("i16", "f64"),
    ):
        a, b = data(tile, da), data(tile, db)
        try:
            res = np.result_type(NP[da], NP[db])
        except TypeError:
            res = np.dtype(np.float32)  # bf16 with f16: decided f32 (pto.py)
        rd = out_dtype_name(np.empty(0, res))
        if rd in INTS:
            expect = np.add(a.astype(res), b.astype(res))
        else:
            expect = cast(f(a.astype(np.float64)) + f(b.astype(np.float64)), rd)
            if rd in ("f16", "bf16"):
                expect = cast(a.astype(np.float32) + b.astype(np.float32), rd)
        cases.append(
            Case(
                f"add-mixed-{da}-{db}", BINARY_K["add"], expect, {"a": a, "b": b}, exact=rd in INTS
            )  # fmt: skip
        )
    # row / column reductions
    for op, ref in REDUCE_REF.items():
        dts = FLOATS if op == "rowmean" else (*FLOATS, *INTS)
        for dt in dts:
            x = data(tile, dt)
            exact = dt in INTS
            expect = ref(x) if exact else cast(ref(f(x)), dt)
            cases.append(Case(f"{op}-{dt}", UNARY_K[op], expect, {"x": x}, exact=exact))
    # row/column broadcast ops
    for op, (axis, ref) in VEC_REF.items():
        for dt in (*FLOATS, "i8", "i32", "u16", "i64"):
            t = data(tile, dt)
            v = data((G, R, 1) if axis == "row" else (G, 1, C), dt)
            exact = dt in INTS
            expect = ref(t, v) if exact else cast(ref(f(t), f(v)), dt)
            cases.append(Case(f"{op}-{dt}", BINARY_K[op], expect, {"a": t, "b": v}, exact=exact))
    # broadcast
    for dt in ("f16", "bf16", "f32", "f64", "i32", "u8"):
        v = data((G, R, 1), dt)
        cases.append(
            Case(
                f"broadcast-row-{dt}",
                k_broadcast_row,
                np.broadcast_to(v, tile).copy(),
                {"v": v},
                exact=True,
            )  # fmt: skip
        )
    for dt in ("f32", "i64"):
        v = data((G, 1, C), dt)
        cases.append(
            Case(
                f"broadcast-col-{dt}",
                k_broadcast_col,
                np.broadcast_to(v, tile).copy(),
                {"v": v},
                exact=True,
            )  # fmt: skip
        )
    cases.append(
        Case(
            "broadcast-scalar-f32", k_broadcast_scalar, np.full(tile, -2.25, np.float32), exact=True
        )  # fmt: skip
    )
    v = data((G, R, 1), "f64")
    cases.append(
        Case(
            "store-broadcast-f64",
            k_store_broadcast,
            np.broadcast_to(v, tile).copy(),
            {"v": v},
            exact=True,
        )  # fmt: skip
    )
    # store converting the value to the destination dtype
    for src, dst in (("f32", "f16"), ("f64", "bf16"), ("i32", "f32"), ("i8", "i64"), ("u8", "f64")):
        x = data(tile, src)
        cases.append(
            Case(
                f"store-{src}-into-{dst}",
                k_load,
                x.astype(NP[dst]),
                {"x": x},
                out=np.zeros(tile, NP[dst]),
                exact=True,
            )  # fmt: skip
        )
    # matmul
    for dt in (*FLOATS, *INTS):
        a = data((G, R, C), dt) if dt in INTS else normal((G, R, C), dt)
        b = data((C, N), dt)
        exact = dt in INTS
        expect = np.matmul(a, b) if exact else cast(np.matmul(f(a), f(b)), dt)
        cases.append(Case(f"matmul-{dt}", k_matmul, expect, {"a": a}, shared={"b": b}, exact=exact))
    for dt in ("f16", "f32", "f64", "i32"):
        a, b, acc = data((G, R, C), dt), data((G, C, N), dt), data((G, R, N), dt)
        exact = dt in INTS
        expect = np.matmul(a, b) + acc if exact else cast(np.matmul(f(a), f(b)) + f(acc), dt)
        cases.append(
            Case(
                f"matmul-acc-{dt}", k_matmul_acc, expect, {"a": a, "b": b, "acc": acc}, exact=exact
            )  # fmt: skip
        )
    a, b, c0 = normal((G, R, C), "f32"), normal((C, N), "f32"), normal((G, R, N), "f32")
    cases.append(
        Case(
            "matmul-acc-inout-f32",
            k_matmul_inout,
            a @ b + c0,
            {"a": a},
            shared={"b": b},
            out=c0.copy(),
            out_name="c",
        )  # fmt: skip
    )
    a16, b16 = normal((G, R, C), "f16"), normal((C, N), "f16")
    cases.append(
        Case(
            "matmul-f16-into-f32",
            k_matmul_f16_into_f32,
            a16.astype(np.float32) @ b16.astype(np.float32),
            {"a": a16},
            shared={"b": b16},
            out=np.zeros((G, R, N), np.float32),
        )  # fmt: skip
    )
    # alloc / constant
    cases.append(Case("alloc-f32", k_alloc_f32, np.zeros(tile, np.float32), exact=True))
    x = data(tile, "i32")
    cases.append(Case("alloc-add-i32", k_alloc_add_i32, x.copy(), {"x": x}, exact=True))
    cases.append(Case("constant-bf16", k_constant_bf16, np.full(tile, 1.5, NP["bf16"]), exact=True))
    x = data(tile, "i8")
    cases.append(Case("constant-i8", k_constant_i8, x + np.int8(-3), {"x": x}, exact=True))
    x = data(tile, "f64")
    cases.append(Case("constant-f64", k_constant_f64, x * 0.1, {"x": x}))
    # Python literals and scalar parameters
    for dt in ("f16", "bf16", "f32", "f64"):
        x = data(tile, dt)
        cases.append(
            Case(f"literal-mul-{dt}", k_mul_literal, cast(f(x) * 2, dt), {"x": x}, exact=True)
        )
    for dt in ("i8", "u16", "i64"):
        x = data(tile, dt)
        cases.append(Case(f"literal-add-{dt}", k_int_literal, x + 1, {"x": x}, exact=True))
    x = data(tile, "i32")
    cases.append(Case("literal-float-on-i32", k_float_literal_on_int, x * 0.5, {"x": x}))
    x = normal(tile, "f32")
    cases.append(
        Case(
            "literal-reflected-f32",
            k_reflected_literals,
            (1.0 - x) / (2.0 + x * x) + 3.0 / (x * x + 1.0),
            {"x": x},
        )  # fmt: skip
    )
    for dt in ("f16", "f32"):
        x = data(tile, dt)
        scale = np.array([-0.5, 1.25, 3.0], np.float32)[:, None, None]
        cases.append(
            Case(
                f"scalar-param-f32-{dt}",
                k_scalar_param,
                (f(x).astype(np.float32) * scale).astype(np.float32),
                {"x": x},
                scalars={"s": lambda i: (i * 7 - 2) / 4},
                out=np.zeros(tile, np.float32),
            )  # fmt: skip
        )
    x = data(tile, "i32")
    cases.append(
        Case(
            "scalar-param-loopvar-i32",
            k_int_scalar_param,
            x + (np.arange(G, dtype=np.int32) * 10 - 5)[:, None, None],
            {"x": x},
            scalars={"s": lambda i: i * 10 - 5},
            exact=True,
        )  # fmt: skip
    )
    rv, cv = normal((G, R, 1), "f32"), normal((1, C), "f32")
    cases.append(Case("outer-rowvec-colvec-f32", k_outer, rv + cv, {"r": rv}, shared={"c": cv}))
    x, y0 = normal(tile, "bf16"), normal(tile, "bf16")
    cases.append(
        Case(
            "inout-axpy-bf16",
            k_inout_axpy,
            cast(f(y0) + cast(f(x) * 3, "bf16").astype(np.float32), "bf16"),
            {"x": x},
            out=y0.copy(),
        )  # fmt: skip
    )
    x = normal(tile, "f32")
    e = np.exp(x - x.max(-1, keepdims=True))
    cases.append(
        Case(
            "chain-f32", k_chain, e / e.sum(-1, keepdims=True) + x.max(-2, keepdims=True), {"x": x}
        )  # fmt: skip
    )
    # NaN propagation (numpy semantics)
    x = normal(tile, "f32")
    x[:, 0, 0] = np.nan
    m = normal(tile, "f32")
    cases.append(Case("maximum-nan-f32", BINARY_K["maximum"], np.maximum(x, m), {"a": x, "b": m}))
    cases.append(Case("relu-nan-f32", UNARY_K["relu"], np.maximum(x, 0), {"x": x}))
    cases.append(Case("rowmax-nan-f32", UNARY_K["rowmax"], x.max(-1, keepdims=True), {"x": x}))
    # column slices and interleave
    for dt in ("f16", "bf16", "f32", "f64", "i8", "u64"):
        x = data(tile, dt)
        cases.append(Case(f"slice_even-{dt}", UNARY_K["slice_even"], x[..., 0::2].copy(),
                          {"x": x}, exact=True))  # fmt: skip
        cases.append(Case(f"slice_odd-{dt}", UNARY_K["slice_odd"], x[..., 1::2].copy(),
                          {"x": x}, exact=True))  # fmt: skip
        a, b = data(tile, dt), data(tile, dt)
        il = np.empty((G, R, 2 * C), NP[dt])
        il[..., 0::2], il[..., 1::2] = a, b
        cases.append(Case(f"interleave-{dt}", BINARY_K["interleave"], il, {"a": a, "b": b},
                          exact=True))  # fmt: skip
    # sorting (spec §6.1's TopK route): index slots compared as bits (exact)
    cases.append(
        Case("iota_u32", k_iota, np.broadcast_to(np.arange(32, dtype=np.uint32), (G, 1, 32)).copy(),
             exact=True)
    )  # fmt: skip
    x = tied_scores((G, 2, 64))
    idx = _RNG.permutation(64).astype(np.uint32)[None, :]
    want = np.stack([np.stack([sorted_pairs(r, idx[0]) for r in g]) for g in x])
    cases.append(
        Case("tsort32-f32", k_tsort32, want, {"x": x}, shared={"idx": idx}, exact=True)
    )  # fmt: skip
    a, b = tied_scores((G, 1, 32)), tied_scores((G, 1, 32))
    pa = np.stack([sorted_pairs(r[0], np.arange(32))[None] for r in a])
    pb = np.stack([sorted_pairs(r[0], np.arange(32, 64))[None] for r in b])
    merged = np.stack([merged_pairs(u[0], v[0])[None] for u, v in zip(pa, pb, strict=True)])
    cases.append(Case("mrgsort-f32", k_mrgsort, merged, {"a": pa, "b": pb}, exact=True))
    ib = np.arange(32, 64, dtype=np.uint32)[None, :]
    top = merged[..., 1::2][..., :12].copy().view(np.int32)
    cases.append(
        Case("topk-route-f32", k_topk, top, {"a": a, "b": b}, shared={"ib": ib}, exact=True)
    )  # fmt: skip
    return cases


CASES = build_cases()


@dataclass
class Ran:
    program: Any
    cases: dict[str, Case]


@pytest.fixture(scope="module")
def ran() -> Ran:
    """All cases in one workload: one P(G) grid per case, one C++ build for the module."""

    @workload
    def all_ops():
        for case in CASES:
            for i in P(G):
                args: dict[str, Any] = {k: t[i] for k, t in case.tensors.items()}
                args.update(case.shared_t)
                args.update({k: fn(i) for k, fn in case.scalars.items()})
                args[case.out_name] = case.out_t[i]
                case.kernel[i](**args)

    program = all_ops().compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    return Ran(program, {c.id: c for c in CASES})


def test_case_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


def test_every_spec_op_is_covered(ran: Ran) -> None:
    """Spec §6.1: each op (and the max/min aliases) appears in at least one case."""
    covered = set()
    for c in CASES:
        covered.update(op.op for op in _ops_of(c))
        covered.update(p for p in ("max", "min") if c.kernel.name == f"k_{p}")
    assert set(pto.OPS) | {"max", "min"} <= covered


def _ops_of(case: Case) -> list[Any]:
    return [op for spec in case.kernel.specializations() for op in spec.ops]


def test_task_count_and_trace(ran: Ran) -> None:
    assert ran.program.stats.task_count == G * len(CASES)
    tr = ran.program.trace
    assert len(tr) == G * len(CASES)
    assert (tr["end"] > tr["start"]).all()  # every kernel costs something


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_op_matches_numpy(ran: Ran, case_id: str) -> None:
    case = ran.cases[case_id]
    got = case.out_t.data
    assert got.dtype == case.expect.dtype and got.shape == case.expect.shape
    if case.exact:
        np.testing.assert_array_equal(got, case.expect)
        return
    rtol, atol = TOL[out_dtype_name(got)]
    np.testing.assert_allclose(
        got.astype(np.float64), case.expect.astype(np.float64), rtol=rtol, atol=atol
    )


# ---- an op the backend cannot lower ------------------------------------------------------------


def test_unlowerable_op_is_compile_error_naming_op_and_kernel() -> None:
    x = Tensor(np.zeros((4, 8), np.float32), name="x")
    m = ir.Module("handmade")
    tid = m.add_tensor("x", [4, 8], "f32")
    k = ir.Kernel("topk_kernel", "user_kernels.py:3")
    k.add_param("x", "inout", "tensor", [4, 8], "f32")
    k.add_op("load", [0], [4, 8], "f32")
    k.add_op("ptoisa.TSORT", [1], [4, 8], "f32", {}, "user_kernels.py:5")
    k.add_op("store", [0, 2], [], "")
    k.body_kind = "traced"
    kid = m.add_kernel(k)
    m.set_workload(ir.Node.task(kid, [], [ir.Arg("x", ir.View(tid, []))], "user.py:9"))
    m.set_schedule(ir.Schedule())
    with pytest.raises(CompileError, match=r"'ptoisa\.TSORT' in kernel topk_kernel") as info:
        emit_sources(m, [x])
    assert info.value.loc is not None and info.value.loc.line == 5


def test_python_literal_becomes_constant_of_the_tile_dtype(ran: Ran) -> None:
    consts = [
        (op.dtype.value, op.attrs["value"])
        for spec in k_mul_literal.specializations()
        for op in spec.ops
        if op.op == "constant"
    ]
    assert sorted(consts) == sorted((d, 2.0) for d in ("f16", "bf16", "f32", "f64"))
