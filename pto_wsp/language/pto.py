"""The ``pto`` tile-op namespace (spec §6.1) and the tracer that records it.

A kernel body is plain Python run once per specialization with ``Value`` stand-ins for its
parameters. Every ``pto.*`` call type-checks its operands right there and appends an ``OpRecord``
to the innermost open trace, so a shape or dtype mistake is reported at the user's line inside
the kernel body, and lowering only ever sees well-typed kernels.

Type rules (decisions where the spec is silent are marked *decided*):

- Tiles are 2-D ``[rows, cols]``; scalars (``Scalar`` params, ``constant``) have shape ``()``.
- Binary elementwise ops broadcast as numpy does (equal shapes, ``[r,1]``, ``[1,c]``, ``()``);
  the result dtype is ``np.result_type`` of the operand dtypes. *Decided:* bf16 mixed with f16
  (which numpy cannot promote) gives f32; bool operands are rejected (arithmetic is numeric);
  ``div`` needs a float result dtype (integer true division has no integer result type).
- A Python number next to a Value becomes a ``constant`` of the Value's dtype (a float literal
  next to an integer tile becomes an f32 constant), as numpy's weak scalar typing does.
- ``matmul`` keeps plain promotion: f16 x f16 gives f16; pass an f32 ``acc`` to accumulate in f32.
- *Decided:* ``rowmean`` needs a float tile; ``store`` converts the stored value to the
  destination's dtype when that is not lossy in kind (any numeric into float, int/bool into int,
  bool into bool) and rejects float into int or numeric into bool.
- An ``In``/``InOut`` parameter used directly in arithmetic is loaded implicitly: the tracer
  records one ``load`` op (attr ``implicit=True``) per parameter and reuses it until the
  parameter is stored to again.

Which ops exist, and the facts their checks share with the backends (the rule, whether the
result must be a float), come from the op table (``op_table.py``): each function below
checks its op by the table's row, and ``OPS`` is the table's IR op names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..errors import SourceLoc, TypeCheckError, user_location
from . import op_table
from .types import DType

Shape = tuple[int, ...]


class ParamLike(Protocol):
    """What the tracer needs to know about a kernel parameter (``kernel.KernelParam``, a frozen
    dataclass: read-only members, so a frozen class satisfies the protocol)."""

    @property
    def name(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def shape(self) -> tuple[int, ...] | None: ...
    @property
    def dtype(self) -> DType | None: ...


@dataclass(eq=False)
class OpRecord:
    """One traced ``pto.*`` op. Its result is value id ``len(params) + index in ops``."""

    op: str
    operands: list[int]
    shape: Shape
    dtype: DType | None
    attrs: dict[str, Any] = field(default_factory=dict)
    loc: SourceLoc | None = None


class Value:
    """A typed SSA value inside a kernel trace: a parameter or the result of a ``pto.*`` op."""

    __slots__ = ("id", "shape", "dtype", "param", "_trace")
    __hash__ = object.__hash__

    def __init__(
        self, trace: _Trace, vid: int, shape: Shape, dtype: DType | None, param: Any = None
    ):
        self._trace = trace
        self.id = vid
        self.shape = shape
        self.dtype = dtype
        self.param = param

    @property
    def is_scalar(self) -> bool:
        return self.shape == ()

    @property
    def name(self) -> str:
        """A parameter's name; in a ``@ptoisa_kernel``, a scalar parameter's C++ variable (the
        text of ``ptoisa.cpu_sim_add_cycles``). An op's result has none."""
        if self.param is None:
            raise TypeCheckError(
                f"{self!r} is the result of an op and has no name; only parameters have one",
                loc=user_location(),
            )
        return str(self.param.name)

    def __repr__(self) -> str:
        dt = self.dtype.value if self.dtype is not None else "?"
        dims = ", ".join(str(d) for d in self.shape)
        name = f" {self.param.name}" if self.param is not None else ""
        return f"Value(%{self.id}{name}: {dt}[{dims}])"

    # Arithmetic maps onto the pto ops so ``x * y + 1.0`` traces like ``pto.add(pto.mul(...))``.
    def __add__(self, other: Any) -> Value:
        return add(self, other)

    def __radd__(self, other: Any) -> Value:
        return add(other, self)

    def __sub__(self, other: Any) -> Value:
        return sub(self, other)

    def __rsub__(self, other: Any) -> Value:
        return sub(other, self)

    def __mul__(self, other: Any) -> Value:
        return mul(self, other)

    def __rmul__(self, other: Any) -> Value:
        return mul(other, self)

    def __truediv__(self, other: Any) -> Value:
        return div(self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return div(other, self)

    def __matmul__(self, other: Any) -> Value:
        return matmul(self, other)

    def __neg__(self) -> Value:
        return neg(self)

    def __bool__(self) -> bool:
        raise TypeCheckError(
            f"{self!r} is a traced tile value with no Python truth value; kernel bodies are "
            "traced once, so data-dependent Python control flow is not possible",
            loc=user_location(),
        )


class _Trace:
    """The ops recorded for one kernel body run."""

    def __init__(self, kernel_name: str, params: Sequence[ParamLike]):
        self.kernel_name = kernel_name
        self.params = list(params)
        self.ops: list[OpRecord] = []
        self.param_values: list[Value] = []
        for i, p in enumerate(self.params):
            shape = () if p.kind == "scalar" else tuple(p.shape or ())
            self.param_values.append(Value(self, i, shape, p.dtype, param=p))
        self.implicit_loads: dict[int, Value] = {}
        # (pto op name, ISA spelling) set by ``ptoisa`` around the one op it forwards to.
        self.isa_tag: tuple[str, str] | None = None

    @property
    def next_id(self) -> int:
        return len(self.params) + len(self.ops)

    def record(
        self, op: str, operands: list[int], shape: Shape, dtype: DType | None, attrs: dict
    ) -> int:
        """Append one op to the body; returns the id its result (if any) has."""
        attrs = dict(attrs)
        if self.isa_tag is not None and self.isa_tag[0] == op:
            attrs["isa"] = self.isa_tag[1]
            self.isa_tag = None
        vid = self.next_id
        self.ops.append(OpRecord(op, operands, shape, dtype, attrs, user_location()))
        return vid

    def emit(
        self, op: str, operands: list[int], shape: Shape, dtype: DType | None, attrs: dict
    ) -> Value:
        """Record an op that defines a value (every op but ``store``) and return that value."""
        return Value(self, self.record(op, operands, shape, dtype, attrs), shape, dtype)


_stack: list[_Trace] = []


@contextmanager
def tracing(kernel_name: str, params: Sequence[ParamLike]) -> Iterator[_Trace]:
    """Open a trace for one kernel body run; ``pto.*`` calls inside record into it."""
    trace = _Trace(kernel_name, params)
    _stack.append(trace)
    try:
        yield trace
    finally:
        _stack.pop()


def in_trace() -> bool:
    return bool(_stack)


def _trace(op: str) -> _Trace:
    if not _stack:
        raise TypeCheckError(
            f"pto.{op} is only valid inside a @kernel/@jit_kernel body", loc=user_location()
        )
    return _stack[-1]


@contextmanager
def isa_spelling(op: str, isa: str) -> Iterator[None]:
    """Tag the next ``op`` recorded in the current trace with ``attrs['isa'] = isa``."""
    trace = _trace(op)
    previous = trace.isa_tag
    trace.isa_tag = (op, isa)
    try:
        yield
    finally:
        trace.isa_tag = previous


# ---------------------------------------------------------------------------------------------
# operand handling


def _fail(op: str, message: str) -> TypeCheckError:
    return TypeCheckError(f"pto.{op}: {message}", loc=user_location())


def _fmt(shape: Shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _describe(v: Value) -> str:
    dt = v.dtype.value if v.dtype is not None else "?"
    what = f"parameter '{v.param.name}'" if v.param is not None else f"%{v.id}"
    return f"{what} ({dt}{_fmt(v.shape)})"


def _check_tile_shape(op: str, v: Value, what: str) -> None:
    if len(v.shape) != 2:
        raise _fail(
            op,
            f"{what} must be a 2-D tile [rows, cols], got {_describe(v)}; pto ops work on "
            "2-D tiles (pass a 2-D view of the tensor)",
        )


def _own(tr: _Trace, op: str, v: Value) -> Value:
    if v._trace is not tr:
        raise _fail(op, f"{v!r} belongs to another kernel trace and cannot be used here")
    return v


def _read(tr: _Trace, op: str, x: Any, what: str) -> Value:
    """The Value ``x`` as an operand: loads In/InOut tile params, rejects Out params."""
    if not isinstance(x, Value):
        raise _fail(op, f"{what} must be a tile or scalar Value, got {type(x).__name__} {x!r}")
    v = _own(tr, op, x)
    p = v.param
    if p is None or p.kind == "scalar":
        return v
    if p.direction == "out":
        raise _fail(
            op,
            f"parameter '{p.name}' is an Out parameter and cannot be read; declare it "
            "InOut to read and write it",
        )
    cached = tr.implicit_loads.get(v.id)
    if cached is not None:
        return cached
    _check_tile_shape(op, v, f"parameter '{p.name}'")
    loaded = tr.emit("load", [v.id], v.shape, v.dtype, {"implicit": True})
    tr.implicit_loads[v.id] = loaded
    return loaded


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | bool | np.integer | np.floating | np.bool_)


def _literal(tr: _Trace, op: str, value: Any, like: DType) -> Value:
    """A Python number next to a Value: a ``constant`` of the Value's dtype (weak typing)."""
    if isinstance(value, bool | np.bool_):
        dtype = DType.BOOL
    elif isinstance(value, float | np.floating) and not like.is_float:
        dtype = DType.F32
    else:
        dtype = like
    return _constant(tr, op, value, dtype)


def _typed(v: Value) -> DType:
    """The dtype of a traced value: every value but a store's (which defines none) has one."""
    assert v.dtype is not None, v
    return v.dtype


def _numeric(op: str, v: Value, what: str = "operand") -> DType:
    if v.dtype is None or v.dtype is DType.BOOL:
        raise _fail(op, f"{what} {_describe(v)} must have a numeric dtype")
    return v.dtype


def _promote(op: str, *dtypes: DType) -> DType:
    nps = [d.np for d in dtypes]
    try:
        result = np.result_type(*nps)
    except TypeError:
        # numpy cannot promote bf16 with f16: compute in f32 (decided, see module doc).
        widened = [np.dtype(np.float32) if d is DType.BF16 else d.np for d in dtypes]
        result = np.result_type(*widened)
    try:
        return DType.from_numpy(result)
    except TypeCheckError:
        names = ", ".join(d.value for d in dtypes)
        raise _fail(op, f"dtypes {names} have no common PTO dtype") from None


def _broadcast(op: str, a: Value, b: Value) -> Shape:
    for v in (a, b):
        if len(v.shape) > 2:
            raise _fail(op, f"operand {_describe(v)} is not a 2-D tile or a scalar")
    try:
        return tuple(int(d) for d in np.broadcast_shapes(a.shape, b.shape))
    except ValueError:
        raise _fail(
            op,
            f"shapes {_fmt(a.shape)} and {_fmt(b.shape)} do not match and do not broadcast "
            f"(operands {_describe(a)} and {_describe(b)}); equal shapes, a row vector "
            "[r, 1], a column vector [1, c] or a scalar broadcast",
        ) from None


def _pair(tr: _Trace, op: str, a: Any, b: Any) -> tuple[Value, Value]:
    if isinstance(a, Value) and _is_number(b):
        va = _read(tr, op, a, "first operand")
        return va, _literal(tr, op, b, _numeric(op, va))
    if _is_number(a) and isinstance(b, Value):
        vb = _read(tr, op, b, "second operand")
        return _literal(tr, op, a, _numeric(op, vb)), vb
    return _read(tr, op, a, "first operand"), _read(tr, op, b, "second operand")


# ---------------------------------------------------------------------------------------------
# memory


def load(src: Value) -> Value:
    """Load an ``In``/``InOut`` tensor or tile parameter into a tile of the same shape."""
    tr = _trace("load")
    if not isinstance(src, Value) or src.param is None or src.param.kind == "scalar":
        raise _fail("load", f"src must be a tensor or tile parameter of the kernel, got {src!r}")
    v = _own(tr, "load", src)
    p = v.param
    if p.direction not in ("in", "inout"):
        raise _fail(
            "load", f"parameter '{p.name}' is {p.direction.capitalize()}; only In/InOut load"
        )
    _check_tile_shape("load", v, f"parameter '{p.name}'")
    return tr.emit("load", [v.id], v.shape, v.dtype, {})


def _store_cast_ok(src: DType, dst: DType) -> bool:
    if dst.is_float:
        return True
    if dst is DType.BOOL:
        return src is DType.BOOL
    return not src.is_float


def store(dst: Value, src: Any) -> None:
    """Store ``src`` into an ``Out``/``InOut`` parameter (broadcasting ``src`` to its shape)."""
    tr = _trace("store")
    if not isinstance(dst, Value) or dst.param is None or dst.param.kind == "scalar":
        raise _fail("store", f"dst must be a tensor or tile parameter of the kernel, got {dst!r}")
    d = _own(tr, "store", dst)
    p = d.param
    if p.direction not in ("out", "inout"):
        raise _fail(
            "store",
            f"cannot store into parameter '{p.name}': it is declared "
            f"{p.direction.capitalize()}; declare it Out or InOut to write it",
        )
    _check_tile_shape("store", d, f"parameter '{p.name}'")
    if _is_number(src):
        s = _literal(tr, "store", src, _typed(d))
    else:
        s = _read(tr, "store", src, "src")
    try:
        fits = tuple(np.broadcast_shapes(s.shape, d.shape)) == d.shape
    except ValueError:
        fits = False
    if not fits:
        raise _fail(
            "store",
            f"cannot store {_describe(s)} into parameter '{p.name}' of shape {_fmt(d.shape)}: "
            "shapes differ and src does not broadcast to dst",
        )
    if not _store_cast_ok(_typed(s), _typed(d)):
        raise _fail(
            "store",
            f"cannot store {_typed(s).value} into {_typed(d).value} parameter '{p.name}' "
            "(the conversion loses the kind of value)",
        )
    tr.record("store", [d.id, s.id], (), None, {})
    tr.implicit_loads.pop(d.id, None)


def _check_shape_arg(op: str, shape: Any) -> Shape:
    if (
        not isinstance(shape, tuple | list)
        or len(shape) != 2
        or not all(isinstance(d, int | np.integer) and not isinstance(d, bool) for d in shape)
        or not all(d > 0 for d in shape)
    ):
        raise _fail(op, f"shape must be a (rows, cols) pair of positive ints, got {shape!r}")
    return (int(shape[0]), int(shape[1]))


def alloc(shape: Sequence[int], dtype: Any) -> Value:
    """A fresh tile of ``shape`` and ``dtype``, filled with zeros."""
    tr = _trace("alloc")
    s = _check_shape_arg("alloc", shape)
    dt = DType.from_any(dtype)
    return tr.emit("alloc", [], s, dt, {})


def _constant(tr: _Trace, op: str, value: Any, dtype: DType) -> Value:
    if not _is_number(value):
        raise _fail(op, f"constant value must be a number, got {type(value).__name__} {value!r}")
    if isinstance(value, bool | np.bool_):
        value = bool(value)
    elif isinstance(value, float | np.floating):
        value = float(value)
    else:
        value = int(value)
    if dtype is DType.BOOL and not isinstance(value, bool):
        raise _fail(op, f"constant {value!r} is not a bool")
    if not dtype.is_float and dtype is not DType.BOOL:
        if isinstance(value, float) and not value.is_integer():
            raise _fail(op, f"constant {value!r} is not an integer, dtype {dtype.value}")
        info = np.iinfo(dtype.np)
        if not (info.min <= int(value) <= info.max):
            raise _fail(op, f"constant {value!r} is out of range for {dtype.value}")
        value = int(value)
    return tr.emit("constant", [], (), dtype, {"value": value})


def constant(value: int | float | bool, dtype: Any) -> Value:
    """A scalar Value (shape ``()``) holding ``value`` as ``dtype``."""
    tr = _trace("constant")
    return _constant(tr, "constant", value, DType.from_any(dtype))


# ---------------------------------------------------------------------------------------------
# elementwise


def _binary(op: str, a: Any, b: Any) -> Value:
    tr = _trace(op)
    if _is_number(a) and _is_number(b):
        raise _fail(op, "at least one operand must be a tile or scalar Value")
    va, vb = _pair(tr, op, a, b)
    da = _numeric(op, va, "first operand")
    db = _numeric(op, vb, "second operand")
    shape = _broadcast(op, va, vb)
    dtype = _promote(op, da, db)
    if op == "div" and not dtype.is_float:
        raise _fail(
            op,
            f"division of {da.value} by {db.value} has no float operand; "
            "integer tiles cannot be divided (multiply by a float constant first)",
        )
    return tr.emit(op, [va.id, vb.id], shape, dtype, {})


def add(a: Any, b: Any) -> Value:
    """Elementwise ``a + b`` (numpy broadcasting and promotion)."""
    return _binary("add", a, b)


def sub(a: Any, b: Any) -> Value:
    """Elementwise ``a - b``."""
    return _binary("sub", a, b)


def mul(a: Any, b: Any) -> Value:
    """Elementwise ``a * b``."""
    return _binary("mul", a, b)


def div(a: Any, b: Any) -> Value:
    """Elementwise true division ``a / b`` (needs a float result dtype)."""
    return _binary("div", a, b)


def maximum(a: Any, b: Any) -> Value:
    """Elementwise maximum."""
    return _binary("maximum", a, b)


def minimum(a: Any, b: Any) -> Value:
    """Elementwise minimum."""
    return _binary("minimum", a, b)


def _unary(op: str, x: Any) -> Value:
    tr = _trace(op)
    v = _read(tr, op, x, "operand")
    dt = _numeric(op, v)
    if op_table.BY_NAME[op].float_only and not dt.is_float:
        raise _fail(op, f"needs a float operand, got {_describe(v)}")
    if op == "neg" and not dt.is_signed:
        raise _fail(op, f"cannot negate unsigned {_describe(v)}")
    if len(v.shape) > 2:
        raise _fail(op, f"operand {_describe(v)} is not a 2-D tile or a scalar")
    return tr.emit(op, [v.id], v.shape, dt, {})


def exp(x: Any) -> Value:
    """Elementwise e**x (float)."""
    return _unary("exp", x)


def log(x: Any) -> Value:
    """Elementwise natural log (float)."""
    return _unary("log", x)


def sqrt(x: Any) -> Value:
    """Elementwise square root (float)."""
    return _unary("sqrt", x)


def rsqrt(x: Any) -> Value:
    """Elementwise 1/sqrt(x) (float)."""
    return _unary("rsqrt", x)


def tanh(x: Any) -> Value:
    """Elementwise tanh (float)."""
    return _unary("tanh", x)


def sigmoid(x: Any) -> Value:
    """Elementwise 1/(1+e**-x) (float)."""
    return _unary("sigmoid", x)


def sin(x: Any) -> Value:
    """Elementwise sine (float)."""
    return _unary("sin", x)


def cos(x: Any) -> Value:
    """Elementwise cosine (float)."""
    return _unary("cos", x)


def gelu(x: Any) -> Value:
    """Elementwise exact (erf) GELU (float)."""
    return _unary("gelu", x)


def silu(x: Any) -> Value:
    """Elementwise x * sigmoid(x) (float)."""
    return _unary("silu", x)


def relu(x: Any) -> Value:
    """Elementwise max(x, 0) (any numeric dtype)."""
    return _unary("relu", x)


def neg(x: Any) -> Value:
    """Elementwise -x (signed numeric dtypes)."""
    return _unary("neg", x)


def abs(x: Any) -> Value:  # noqa: A001 - the spec's name
    """Elementwise |x| (any numeric dtype)."""
    return _unary("abs", x)


# ---------------------------------------------------------------------------------------------
# reductions and broadcasts


def _reduce(op: str, x: Any) -> Value:
    tr = _trace(op)
    axis = "row" if op_table.BY_NAME[op].rule == "row_reduce" else "col"
    v = _read(tr, op, x, "operand")
    _check_tile_shape(op, v, "operand")
    dt = _numeric(op, v)
    if op_table.BY_NAME[op].float_only and not dt.is_float:
        raise _fail(op, f"needs a float tile, got {_describe(v)}")
    r, c = v.shape
    shape = (r, 1) if axis == "row" else (1, c)
    return tr.emit(op, [v.id], shape, dt, {})


def rowsum(x: Any) -> Value:
    """Sum of each row: ``[r, c] -> [r, 1]``."""
    return _reduce("rowsum", x)


def rowmax(x: Any) -> Value:
    """Max of each row: ``[r, c] -> [r, 1]``."""
    return _reduce("rowmax", x)


def rowmean(x: Any) -> Value:
    """Mean of each row: ``[r, c] -> [r, 1]`` (float)."""
    return _reduce("rowmean", x)


def colsum(x: Any) -> Value:
    """Sum of each column: ``[r, c] -> [1, c]``."""
    return _reduce("colsum", x)


def colmax(x: Any) -> Value:
    """Max of each column: ``[r, c] -> [1, c]``."""
    return _reduce("colmax", x)


def _vector_op(op: str, tile: Any, vec: Any) -> Value:
    tr = _trace(op)
    axis = "row" if op_table.BY_NAME[op].rule == "row_vec" else "col"
    t = _read(tr, op, tile, "tile")
    v = _read(tr, op, vec, "vec")
    _check_tile_shape(op, t, "tile")
    dt = _numeric(op, t, "tile")
    dv = _numeric(op, v, "vec")
    r, c = t.shape
    want = (r, 1) if axis == "row" else (1, c)
    if v.shape != want:
        kind = "row vector" if axis == "row" else "column vector"
        raise _fail(
            op,
            f"vec must be a {kind} {_fmt(want)} for tile {_describe(t)}, got {_describe(v)}",
        )
    return tr.emit(op, [t.id, v.id], t.shape, _promote(op, dt, dv), {})


def rowmul(tile: Any, vec: Any) -> Value:
    """``tile[r, c] * vec[r, 1]`` (each row scaled by its entry)."""
    return _vector_op("rowmul", tile, vec)


def rowadd(tile: Any, vec: Any) -> Value:
    """``tile[r, c] + vec[r, 1]``."""
    return _vector_op("rowadd", tile, vec)


def colmul(tile: Any, vec: Any) -> Value:
    """``tile[r, c] * vec[1, c]`` (each column scaled by its entry)."""
    return _vector_op("colmul", tile, vec)


def coladd(tile: Any, vec: Any) -> Value:
    """``tile[r, c] + vec[1, c]``."""
    return _vector_op("coladd", tile, vec)


def broadcast(x: Any, shape: Sequence[int]) -> Value:
    """``x`` (scalar, row/column vector or tile) expanded to ``shape`` by numpy's rules."""
    tr = _trace("broadcast")
    v = _read(tr, "broadcast", x, "operand")
    target = _check_shape_arg("broadcast", shape)
    try:
        ok = tuple(np.broadcast_shapes(v.shape, target)) == target
    except ValueError:
        ok = False
    if not ok or len(v.shape) > 2:
        raise _fail("broadcast", f"cannot broadcast {_describe(v)} to {_fmt(target)}")
    return tr.emit("broadcast", [v.id], target, v.dtype, {"shape": list(target)})


# ---------------------------------------------------------------------------------------------
# matrix and special


def matmul(a: Any, b: Any, acc: Any = None) -> Value:
    """``[M, K] @ [K, N] -> [M, N]``, plus ``acc[M, N]`` when given.

    The result dtype is ``acc``'s when given, else the promotion of ``a`` and ``b`` (f16 x f16
    stays f16: accumulate in f32 by passing an f32 ``acc``).
    """
    tr = _trace("matmul")
    va = _read(tr, "matmul", a, "a")
    vb = _read(tr, "matmul", b, "b")
    _check_tile_shape("matmul", va, "a")
    _check_tile_shape("matmul", vb, "b")
    da = _numeric("matmul", va, "a")
    db = _numeric("matmul", vb, "b")
    (m, k), (k2, n) = va.shape, vb.shape
    if k != k2:
        raise _fail(
            "matmul",
            f"inner dimensions differ: a is {_fmt(va.shape)} and b is {_fmt(vb.shape)} "
            f"(K={k} vs K={k2})",
        )
    operands = [va.id, vb.id]
    dtype = _promote("matmul", da, db)
    if acc is not None:
        vc = _read(tr, "matmul", acc, "acc")
        dc = _numeric("matmul", vc, "acc")
        if vc.shape != (m, n):
            raise _fail("matmul", f"acc must be {_fmt((m, n))}, got {_describe(vc)}")
        operands.append(vc.id)
        dtype = dc
    return tr.emit("matmul", operands, (m, n), dtype, {})


def _half_cols(op: str, x: Any) -> Value:
    tr = _trace(op)
    v = _read(tr, op, x, "operand")
    _check_tile_shape(op, v, "operand")
    r, c = v.shape
    if c % 2:
        raise _fail(op, f"needs an even number of columns, got {_describe(v)}")
    return tr.emit(op, [v.id], (r, c // 2), v.dtype, {})


def slice_even(x: Any) -> Value:
    """Columns 0, 2, 4, ...: ``[r, c] -> [r, c/2]`` (c even)."""
    return _half_cols("slice_even", x)


def slice_odd(x: Any) -> Value:
    """Columns 1, 3, 5, ...: ``[r, c] -> [r, c/2]`` (c even)."""
    return _half_cols("slice_odd", x)


def interleave(a: Any, b: Any) -> Value:
    """Alternate the columns of ``a`` and ``b``: ``[r, c], [r, c] -> [r, 2c]``."""
    tr = _trace("interleave")
    va = _read(tr, "interleave", a, "a")
    vb = _read(tr, "interleave", b, "b")
    _check_tile_shape("interleave", va, "a")
    _check_tile_shape("interleave", vb, "b")
    if va.shape != vb.shape:
        raise _fail(
            "interleave",
            f"operands must have equal shapes, got {_describe(va)} and {_describe(vb)}",
        )
    r, c = va.shape
    dtype = _promote("interleave", _typed(va), _typed(vb))
    return tr.emit("interleave", [va.id, vb.id], (r, 2 * c), dtype, {})


# ---------------------------------------------------------------------------------------------
# sorting (spec §6.1's TopK route)
#
# A (score, index) pair is two f32 slots: the score, then the uint32 index's bit pattern (not a
# float value), as PTO-ISA's TSORT32 writes it. Scores sort descending; equal scores (-0.0 and
# +0.0 are equal) keep the lower index first (tsort32) or the first list first (mrgsort); NaN
# sorts above +inf (PTO-ISA leaves its order undefined).

SORT_BLOCK = 32
"""tsort32 sorts each run of this many columns on its own (PTO-ISA's VBS32 block)."""


def _int_attr(op: str, name: str, value: Any, low: int, high: int | None = None) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise _fail(op, f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise _fail(op, f"{name} must be {bound}, got {value}")
    return int(value)


def _pairs(op: str, v: Value, what: str) -> tuple[int, int]:
    """(rows, pairs) of an f32 pair tile ``[r, 2n]``."""
    _check_tile_shape(op, v, what)
    r, c = v.shape
    if v.dtype is not DType.F32 or c % 2:
        raise _fail(
            op,
            f"{what} must be f32 (score, index) pairs [r, 2n] (what tsort32 and mrgsort give), "
            f"got {_describe(v)}",
        )
    return r, c // 2


def iota_u32(cols: int) -> Value:
    """``[0, 1, ..., cols - 1]`` as a u32 row ``[1, cols]`` (the indices ``tsort32`` sorts)."""
    tr = _trace("iota_u32")
    n = _int_attr("iota_u32", "cols", cols, 1)
    return tr.emit("iota_u32", [], (1, n), DType.U32, {"cols": n})


def tsort32(src: Any, idx: Any) -> Value:
    """Sort each block of 32 columns of ``src`` (f32 ``[r, c]``, c a multiple of 32) with its
    indices ``idx`` (u32 ``[r, c]``, or ``[1, c]`` for every row) into (score, index) pairs,
    score descending, ties to the lower index: f32 ``[r, 2c]`` (PTO-ISA TSORT32)."""
    tr = _trace("tsort32")
    s = _read(tr, "tsort32", src, "src")
    i = _read(tr, "tsort32", idx, "idx")
    _check_tile_shape("tsort32", s, "src")
    _check_tile_shape("tsort32", i, "idx")
    r, c = s.shape
    if s.dtype is not DType.F32:
        raise _fail("tsort32", f"src must be f32 scores, got {_describe(s)}")
    if c % SORT_BLOCK:
        raise _fail(
            "tsort32",
            f"src {_describe(s)} must have a multiple of {SORT_BLOCK} columns (it sorts blocks "
            f"of {SORT_BLOCK})",
        )
    if i.dtype is not DType.U32 or i.shape not in ((r, c), (1, c)):
        raise _fail(
            "tsort32",
            f"idx must be u32 {_fmt((r, c))} or {_fmt((1, c))} (pto.iota_u32({c})), got "
            f"{_describe(i)}",
        )
    return tr.emit("tsort32", [s.id, i.id], (r, 2 * c), DType.F32, {})


def mrgsort(a: Any, b: Any) -> Value:
    """Merge two sorted pair rows ``a`` (f32 ``[1, 2n]``) and ``b`` (``[1, 2m]``) into one,
    score descending, ties to ``a``: f32 ``[1, 2(n + m)]`` (PTO-ISA TMRGSORT, two lists)."""
    tr = _trace("mrgsort")
    va = _read(tr, "mrgsort", a, "a")
    vb = _read(tr, "mrgsort", b, "b")
    (ra, na), (rb, nb) = _pairs("mrgsort", va, "a"), _pairs("mrgsort", vb, "b")
    if ra != 1 or rb != 1:
        raise _fail(
            "mrgsort", f"merges single rows [1, 2n], got {_describe(va)} and {_describe(vb)}"
        )
    return tr.emit("mrgsort", [va.id, vb.id], (1, 2 * (na + nb)), DType.F32, {})


def extract_topk_indices(pairs: Any, k: int) -> Value:
    """The indices of the first ``k`` pairs of ``pairs`` (f32 ``[r, 2n]``, k <= n) as i32
    ``[r, k]``: each index slot's bits reinterpreted, not converted from a float value."""
    tr = _trace("extract_topk_indices")
    v = _read(tr, "extract_topk_indices", pairs, "pairs")
    r, n = _pairs("extract_topk_indices", v, "pairs")
    kk = _int_attr("extract_topk_indices", "k", k, 1, n)
    return tr.emit("extract_topk_indices", [v.id], (r, kk), DType.I32, {"k": kk})


# Aliases (DESIGN §6): ``max``/``min`` are ``maximum``/``minimum``. Bound last so the module
# body above never sees them in place of the builtins.
max = maximum  # noqa: A001
min = minimum  # noqa: A001

OPS: tuple[str, ...] = op_table.IR_OPS
"""Every op name a ``KernelIR`` may contain (the names of ``docs/ir.md``)."""

__all__ = [
    *OPS, "max", "min", "Value", "OpRecord", "tracing", "in_trace", "isa_spelling", "SORT_BLOCK",
]  # fmt: skip
