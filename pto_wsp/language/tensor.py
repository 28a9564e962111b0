"""Tensors and tensor views (spec §2.2).

A ``Tensor`` wraps the user's numpy array WITHOUT copying, so what a compiled program writes lands
in the user's array. Indexing with constants gives a ``Tensor`` view sharing that memory; indexing
with a symbolic scalar (a loop variable, ``b + 1``, a tensor element) gives a ``TensorView``, which
has no data: it describes, per dimension of the ROOT tensor, which elements a task touches.

Both kinds expose one normalized description for lowering: ``.root`` (the root ``Tensor``) and
``.index_items`` (one ``IndexPoint``/``IndexRange`` per root dimension, root-relative), so
``Q[b][h]``, ``Q[b, h]`` and ``X[2:6][b]`` all lower alike.

A view that selects a single element is a runtime scalar: ``seq_lens[b] <= 2048`` builds a
``ScalarExpr`` predicate (a load evaluated by the generated code), never a Python bool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TensorIndexError, TypeCheckError, user_location
from . import affine
from .layout import TensorLayout, check_array_mem
from .scalar_expr import LoopVar, ScalarExpr, as_expr, to_text
from .shape_rule import loop_bound_problem
from .types import DType, Location

Scalar = int | ScalarExpr  # a constant or symbolic index component


# ------------------------------------------------------------------------------------------------
# Index items
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class IndexPoint:
    """One element of a root dimension; the dimension disappears from the view's shape."""

    expr: Scalar

    @property
    def is_static(self) -> bool:
        return isinstance(self.expr, int)

    def __repr__(self) -> str:
        return f"IndexPoint({self.expr})"


@dataclass(frozen=True, eq=False)
class IndexRange:
    """Elements ``start + k*step`` for ``k`` in ``[0, length)`` of a root dimension.

    ``stop`` is exclusive and arithmetic (Python's negative-index wrapping is already resolved):
    a reversed slice of a size-10 dimension is ``IndexRange(9, -1, -1)``. ``step`` is a nonzero
    int; ``start``/``stop`` are ints or ``ScalarExpr``.
    """

    start: Scalar
    stop: Scalar
    step: int = 1

    @property
    def length(self) -> int | None:
        """The number of elements when it is known at trace time, else None."""
        diff = _static_diff(self.stop, self.start)
        if diff is None:
            return None
        return max(0, -((-diff) // self.step))

    @property
    def is_static(self) -> bool:
        return isinstance(self.start, int) and isinstance(self.stop, int)

    def __repr__(self) -> str:
        return f"IndexRange({self.start}, {self.stop}, {self.step})"


IndexItem = IndexPoint | IndexRange


# ------------------------------------------------------------------------------------------------
# Scalar arithmetic that keeps constants constant (so views of views stay readable)
# ------------------------------------------------------------------------------------------------


def _const_int(x: Any) -> int | None:
    if isinstance(x, ScalarExpr) and x.kind == "const" and type(x.value) is int:
        return x.value
    return None


def _add(a: Scalar, b: Scalar) -> Scalar:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if isinstance(a, int) and a == 0:
        return b
    if isinstance(b, int) and b == 0:
        return a
    if isinstance(a, int):  # keep constants on the right: (b + 1), not (1 + b)
        a, b = b, a
    if isinstance(b, int):
        base, off = _split_offset(a)
        if base is not None and off != 0:  # (x + 1) + 1 -> x + 2
            return _add(base, off + b)
    return as_expr(a) + b


def _mul(a: Scalar, b: Scalar) -> Scalar:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(a, int) and a in (0, 1):
        return 0 if a == 0 else b
    if isinstance(b, int) and b in (0, 1):
        return 0 if b == 0 else a
    return as_expr(a) * b


def _split_offset(e: Scalar) -> tuple[Any, int]:
    """Write ``e`` as ``base + offset`` with a constant offset (base None for a constant)."""
    if isinstance(e, int):
        return None, e
    if e.kind == "binary" and e.op in ("add", "sub"):
        x, c = e.args
        ci = _const_int(c)
        if ci is not None:
            base, off = _split_offset(x)
            return base, off + (ci if e.op == "add" else -ci)
        cx = _const_int(x)
        if cx is not None and e.op == "add":
            base, off = _split_offset(c)
            return base, off + cx
    c = _const_int(e)
    if c is not None:
        return None, c
    return e, 0


def _static_diff(stop: Scalar, start: Scalar) -> int | None:
    """``stop - start`` when it is a trace-time constant (e.g. ``(b*4 + 4) - b*4``)."""
    base_a, off_a = _split_offset(stop)
    base_b, off_b = _split_offset(start)
    if base_a is None or base_b is None:
        return off_a - off_b if base_a is base_b else None
    if same_expr(base_a, base_b):
        return off_a - off_b
    # Affine fallback: (i + 1) * T - i * T == T although the trees differ.
    return affine.constant_difference(_affine(stop), _affine(start))


def _affine(e: Any) -> affine.Affine | None:
    """``e`` as an affine form over loop variables (keyed by identity), or None. Tracing needs
    it for slice lengths only; the canonical analysis is C++ on the IR (``ir/affine.h``)."""
    if isinstance(e, bool):
        return None
    if isinstance(e, int):
        return affine.constant(e)
    if not isinstance(e, ScalarExpr):
        return None
    if e.kind == "const":
        return affine.constant(e.value) if type(e.value) is int else None
    if e.kind == "var":
        return affine.variable(id(e))
    if e.kind == "unary" and e.op == "neg":
        return affine.negate(_affine(e.args[0]))
    if e.kind != "binary":
        return None
    return affine.combine(e.op, _affine(e.args[0]), _affine(e.args[1]))


def same_expr(a: Any, b: Any) -> bool:
    """Structural equality of scalar expressions (``==`` on them builds a new expression).

    Loop variables compare by identity; loads compare their views' roots and index items.
    """
    if a is b:
        return True
    if isinstance(a, ScalarExpr) and isinstance(b, ScalarExpr):
        if a.kind != b.kind or a.op != b.op or a.name != b.name:
            return False
        if a.kind == "var":
            return False  # distinct loop variables (identity checked above)
        if a.kind == "const":
            return type(a.value) is type(b.value) and a.value == b.value
        if a.kind in ("slot", "cast", "task_param") and a.value != b.value:
            return False
        return len(a.args) == len(b.args) and all(
            same_expr(x, y) for x, y in zip(a.args, b.args, strict=True)
        )
    if isinstance(a, Tensor | TensorView) and isinstance(b, Tensor | TensorView):
        return a.root is b.root and all(
            _same_item(x, y) for x, y in zip(a.index_items, b.index_items, strict=True)
        )
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return False


def _same_item(x: IndexItem, y: IndexItem) -> bool:
    if isinstance(x, IndexPoint) and isinstance(y, IndexPoint):
        return same_expr(x.expr, y.expr)
    if isinstance(x, IndexRange) and isinstance(y, IndexRange):
        return x.step == y.step and same_expr(x.start, y.start) and same_expr(x.stop, y.stop)
    return False


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _is_symbolic_scalar(x: Any) -> bool:
    """A key component that indexes at run time: an expression or a 0-d tensor element."""
    if isinstance(x, ScalarExpr):
        return True
    if isinstance(x, Tensor | TensorView):
        return x.ndim == 0
    return False


# ------------------------------------------------------------------------------------------------
# Index composition (shared by concrete and symbolic views)
# ------------------------------------------------------------------------------------------------


@dataclass
class _Indexed:
    items: tuple[IndexItem, ...]
    numpy_key: tuple | None  # the normalized key when every component is a constant


def _apply_key(
    items: tuple[IndexItem, ...], key: Any, label: str, lengths: tuple[int | None, ...]
) -> _Indexed:
    """Compose ``key`` (as given to ``__getitem__``) with a view's root-relative ``items``.

    ``lengths`` are the view's dimension lengths (None where symbolic); the view's dimensions
    are the ``IndexRange`` items of ``items`` in order.
    """
    parts = key if isinstance(key, tuple) else (key,)
    ndim = len(lengths)
    n_ellipsis = sum(1 for p in parts if p is Ellipsis)
    if n_ellipsis > 1:
        raise TypeCheckError(
            f"an index of {label} may contain at most one '...'", loc=user_location()
        )
    n_real = len(parts) - n_ellipsis
    if n_real > ndim:
        raise TensorIndexError(
            f"too many indices for {label}: {n_real} given, but it has {ndim} dimension(s)",
            loc=user_location(),
        )
    if n_ellipsis:
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        fill = (slice(None),) * (ndim - n_real)
        parts = parts[:at] + fill + parts[at + 1 :]

    range_pos = [i for i, it in enumerate(items) if isinstance(it, IndexRange)]
    new_items = list(items)
    np_key: list[Any] = []
    concrete = True
    for d, part in enumerate(parts):
        root_dim = range_pos[d]
        rng = items[root_dim]
        assert isinstance(rng, IndexRange)
        length = lengths[d]
        if _is_int(part):
            i = _normalize_point(int(part), length, label, d)
            new_items[root_dim] = IndexPoint(_add(rng.start, _mul(i, rng.step)))
            np_key.append(i)
        elif _is_symbolic_scalar(part):
            e = as_expr(part)
            c = _const_int(e)
            if c is not None:
                i = _normalize_point(c, length, label, d)
                new_items[root_dim] = IndexPoint(_add(rng.start, _mul(i, rng.step)))
                np_key.append(i)
                continue
            _check_loop_bound(e, length, label, d)
            new_items[root_dim] = IndexPoint(_add(rng.start, _mul(e, rng.step)))
            concrete = False
        elif isinstance(part, slice):
            new_items[root_dim], sl = _apply_slice(rng, part, length, label, d)
            if sl is None:
                concrete = False
            else:
                np_key.append(sl)
        else:
            raise TypeCheckError(
                f"cannot index {label} with {type(part).__name__} {part!r}: use ints, slices, "
                "'...', loop variables or scalar expressions (tensor-valued and boolean "
                "indexing would copy, not view)",
                loc=user_location(),
            )
    return _Indexed(tuple(new_items), tuple(np_key) if concrete else None)


def _normalize_point(i: int, length: int | None, label: str, d: int) -> int:
    if length is None:
        if i < 0:
            raise TensorIndexError(
                f"negative index {i} into dimension {d} of {label}, whose size is only known "
                "at run time",
                loc=user_location(),
            )
        return i
    j = i + length if i < 0 else i
    if not 0 <= j < length:
        raise TensorIndexError(
            f"index {i} is out of range for dimension {d} of {label} (size {length})",
            loc=user_location(),
        )
    return j


def _check_loop_bound(e: ScalarExpr, length: int | None, label: str, d: int) -> None:
    """A loop variable over a static dense axis must not run past the dimension it indexes."""
    if length is None or not isinstance(e, LoopVar) or e.axis is None:
        return
    if getattr(e.axis, "kind", None) not in ("dense", "dense_dyn"):
        return
    size = getattr(e.axis, "size", None)
    if size is None or not _is_int(size):
        return
    problem = loop_bound_problem(str(e.name), int(size), f"axis {e.axis!r}", d, label, length)
    if problem is not None:  # the rule the Studio's live check applies (app.model.shape_checks)
        raise TensorIndexError(problem, loc=user_location())


def _slice_part(x: Any, what: str, label: str) -> Scalar | None:
    if x is None:
        return None
    if _is_int(x):
        return int(x)
    if _is_symbolic_scalar(x):
        e = as_expr(x)
        c = _const_int(e)
        return e if c is None else c
    raise TypeCheckError(
        f"slice {what} of an index of {label} must be an int or a scalar expression, "
        f"got {type(x).__name__}",
        loc=user_location(),
    )


def _apply_slice(
    rng: IndexRange, sl: slice, length: int | None, label: str, d: int
) -> tuple[IndexRange, slice | None]:
    """The root-relative range a slice of one view dimension selects (and the numpy slice)."""
    start = _slice_part(sl.start, "start", label)
    stop = _slice_part(sl.stop, "stop", label)
    if sl.step is None:
        step = 1
    elif _is_int(sl.step) and sl.step != 0:
        step = int(sl.step)
    else:
        raise TypeCheckError(
            f"slice step of an index of {label} must be a nonzero int constant, got {sl.step!r}",
            loc=user_location(),
        )
    static = all(x is None or isinstance(x, int) for x in (start, stop))
    if static and length is not None:
        a, b, c = slice(start, stop, step).indices(length)
        n = len(range(a, b, c))
        new_start = _add(rng.start, _mul(a, rng.step))
        new_step = rng.step * c
        # One past the last element taken, not start + n*step: S[:, 1:64:2] of a 64-wide
        # dimension stops at 64, not 65, which the IR and the run-time bounds checks would
        # read as an element past the extent. Either gives the same length n.
        last = _add(new_start, (n - 1) * new_step)
        new_stop = _add(last, 1 if new_step > 0 else -1) if n else new_start
        # slice.indices() reports "before element 0" as stop -1, which numpy would wrap.
        return IndexRange(new_start, new_stop, new_step), slice(a, None if b < 0 else b, c)
    if step < 0:
        raise TypeCheckError(
            f"a slice with a negative step needs constant bounds and a static size "
            f"(dimension {d} of {label})",
            loc=user_location(),
        )
    for x, what in ((start, "start"), (stop, "stop")):
        if isinstance(x, int) and x < 0 and length is None:
            raise TensorIndexError(
                f"negative slice {what} {x} into dimension {d} of {label}, whose size is only "
                "known at run time",
                loc=user_location(),
            )
    if isinstance(start, int) and length is not None:
        start = min(start + length if start < 0 else start, length)
    if isinstance(stop, int) and length is not None:
        stop = min(stop + length if stop < 0 else stop, length)
    new_start = _add(rng.start, _mul(0 if start is None else start, rng.step))
    new_stop = rng.stop if stop is None else _add(rng.start, _mul(stop, rng.step))
    return IndexRange(new_start, new_stop, rng.step * step), None


def index_text(
    items: Sequence[IndexItem],
    extents: Sequence[int],
    *,
    view_text: Callable[[Any], str] | None = None,
    full_tail: bool = True,
) -> str:
    """The index of a view relative to its root of ``extents``: ``"b, 0:4, :"``.

    The one index printer: each part is printed by ``scalar_expr.to_text`` (``view_text`` as
    there: how a tensor element inside an index is spelled), a whole dimension as ``:``. Names
    and messages (``Q[b, :]``) keep every dimension; ``full_tail=False`` leaves trailing whole
    dimensions out (``Q[b]``, ``""`` for the root itself), the graph's convention: Import Python
    writes it and the exporter reads it back as written.
    """
    parts: list[str] = []
    for it, n in zip(items, extents, strict=True):
        if isinstance(it, IndexPoint):
            parts.append(to_text(it.expr, view_text=view_text))
        elif it.is_static and (it.start, it.stop, it.step) == (0, n, 1):
            parts.append(":")
        else:
            step = "" if it.step == 1 else f":{it.step}"
            stop_v = it.stop
            if it.is_static and it.step > 1 and it.length:
                # The stop is one past the last element taken (S[:, 1:64:2] stops at 64 even
                # though 1 + 32*2 = 65); print the round stop a user writes (0:4:2, not
                # 0:3:2) where it stays inside the extent: the same elements either way.
                stop_v = min(int(it.start) + it.length * it.step, max(n, int(it.stop)))
            start, stop = (to_text(v, view_text=view_text) for v in (it.start, stop_v))
            parts.append(f"{start}:{stop}{step}")
    if not full_tail:
        while parts and parts[-1] == ":":
            parts.pop()
    return ", ".join(parts)


def index_exprs_of(items: Sequence[IndexItem], extents: Sequence[int]) -> tuple[Any, ...]:
    """The reference implementation's ``Tensor.index_exprs``: the indices that reach a view from
    its root, root-relative and composed (``Q[b][h]`` and ``Q[b, h]`` both give ``(b, h)``).

    A fixed index is its expression (an int or ``ScalarExpr``), a narrowed range a ``slice``, a
    whole dimension ``slice(None)``; trailing whole dimensions are left out, so a root tensor's
    is ``()``."""
    out: list[Any] = []
    whole: list[bool] = []
    for it, n in zip(items, extents, strict=True):
        if isinstance(it, IndexPoint):
            out.append(it.expr)
            whole.append(False)
        elif it.is_static and (it.start, it.stop, it.step) == (0, n, 1):
            out.append(slice(None))
            whole.append(True)
        else:
            stop = it.stop
            if it.is_static and it.step > 1 and it.length:  # the round stop, as index_text
                stop = min(int(it.start) + it.length * it.step, max(n, int(it.stop)))
            out.append(slice(it.start, stop, None if it.step == 1 else it.step))
            whole.append(False)
    while whole and whole[-1]:
        whole.pop()
        out.pop()
    return tuple(out)


def tile_index(
    items: Sequence[IndexItem], extents: Sequence[int], rows: int, cols: int
) -> tuple[IndexItem, ...] | None:
    """An index of the root, close to ``items``, whose view is a ``rows`` x ``cols`` tile: what
    a ``TypeCheckError`` for a view of the wrong shape shows as the index that would match.

    The last two ranges of the view keep their start and step and take the tile's extents, a
    leading range is fixed at its start; a view with too few ranges for the tile turns its last fixed indices into ranges that
    start there. None when that index would leave the root."""
    new = list(items)
    ranges = [d for d, it in enumerate(new) if isinstance(it, IndexRange)]
    need = 1 if rows == 1 else 2
    points = [d for d, it in enumerate(new) if isinstance(it, IndexPoint)]
    while len(ranges) < need:
        before = [d for d in points if not ranges or d < ranges[0]]
        if not before:
            return None
        points.remove(before[-1])
        ranges.insert(0, before[-1])
    lead = ranges[:-2]
    want = [rows, cols] if len(ranges) >= 2 else [cols]
    for d in lead:  # a leading dimension must be 1: fix it at the range's start
        it = new[d]
        assert isinstance(it, IndexRange)
        new[d] = IndexPoint(it.start)
    for d, w in zip(ranges[len(lead) :], want, strict=True):
        it = new[d]
        start, step = (it.expr, 1) if isinstance(it, IndexPoint) else (it.start, it.step)
        if isinstance(start, int):
            last = start + (w - 1) * step
            if not (0 <= start < extents[d] and 0 <= last < extents[d]):
                return None
        new[d] = IndexRange(start, _add(start, w * step), step)
    return tuple(new)


def _root_label(root: Tensor) -> str:
    return root.name if root.name else f"<tensor {root.shape} {root.dtype.value}>"


# ------------------------------------------------------------------------------------------------
# Scalar behaviour of element views
# ------------------------------------------------------------------------------------------------


class _ElementOps:
    """Operators of a 0-d tensor (an element): they build ``ScalarExpr`` trees (runtime loads).

    ``==``/``!=`` build expressions only on element *views*; root tensors compare by identity
    so they stay usable as dict keys.
    """

    __hash__ = object.__hash__

    @property
    def ndim(self) -> int:
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int | None, ...]:
        raise NotImplementedError

    def _overloads_eq(self) -> bool:
        raise NotImplementedError

    def _element_expr(self) -> ScalarExpr:
        if self.ndim != 0:
            raise TypeCheckError(
                f"{self!r} is not a single element (shape {self.shape}); index every dimension "
                "to use it as a scalar",
                loc=user_location(),
            )
        return ScalarExpr.load(self)

    def __scalar_expr__(self) -> ScalarExpr:
        return self._element_expr()

    def __eq__(self, other: Any) -> Any:  # a ScalarExpr on element views, else a bool
        if self._overloads_eq():
            return self._element_expr() == other
        return self is other

    def __ne__(self, other: Any) -> Any:
        if self._overloads_eq():
            return self._element_expr() != other
        return self is not other

    def __neg__(self) -> ScalarExpr:
        return -self._element_expr()

    def __abs__(self) -> ScalarExpr:
        return abs(self._element_expr())

    def __invert__(self) -> ScalarExpr:
        return ~self._element_expr()

    def cast_i64(self) -> ScalarExpr:
        """The element as an i64 scalar (``ScalarExpr.cast_i64``)."""
        return self._element_expr().cast_i64()

    def cast_u64(self) -> ScalarExpr:
        """The element as a u64 scalar (``ScalarExpr.cast_u64``)."""
        return self._element_expr().cast_u64()

    def cast_bool(self) -> ScalarExpr:
        """``element != 0`` as a bool (``ScalarExpr.cast_bool``)."""
        return self._element_expr().cast_bool()

    def __bool__(self) -> bool:
        raise TypeCheckError(
            f"the truth value of {self!r} is ambiguous: use int(t)/float(t) or t.numpy() for "
            "its current value, or P.when(...) for a runtime condition",
            loc=user_location(),
        )


def _binop(name: str, reverse: bool = False) -> Callable[[_ElementOps, Any], ScalarExpr]:
    def method(self: _ElementOps, other: Any) -> ScalarExpr:
        return self._element_expr()._bin(name, other, reverse)

    method.__name__ = f"__{'r' if reverse else ''}{name}__"
    return method


for _op, _dunder, _has_reverse in (
    ("add", "add", True),
    ("sub", "sub", True),
    ("mul", "mul", True),
    ("div", "truediv", True),
    ("floordiv", "floordiv", True),
    ("mod", "mod", True),
    ("and", "and", True),
    ("or", "or", True),
    ("xor", "xor", True),
    ("shl", "lshift", False),
    ("shr", "rshift", False),
    ("lt", "lt", False),
    ("le", "le", False),
    ("gt", "gt", False),
    ("ge", "ge", False),
):
    setattr(_ElementOps, f"__{_dunder}__", _binop(_op))
    if _has_reverse:
        setattr(_ElementOps, f"__r{_dunder}__", _binop(_op, True))

_UFUNC_OPS = {
    np.add: "add",
    np.subtract: "sub",
    np.multiply: "mul",
    np.true_divide: "div",
    np.floor_divide: "floordiv",
    np.remainder: "mod",
    np.less: "lt",
    np.less_equal: "le",
    np.greater: "gt",
    np.greater_equal: "ge",
    np.equal: "eq",
    np.not_equal: "ne",
    np.bitwise_and: "and",
    np.bitwise_or: "or",
    np.bitwise_xor: "xor",
}


# ------------------------------------------------------------------------------------------------
# Tensor
# ------------------------------------------------------------------------------------------------


class Tensor(_ElementOps):
    """A tensor backed by the user's numpy array (or a constant view of one)."""

    is_symbolic = False

    def __init__(
        self,
        data: Any = None,
        shape: Any = None,
        dtype: Any = None,
        location: Location | str = Location.Global,
        layout: TensorLayout | None = None,
        name: str | None = None,
    ):
        _check_name(name)  # first: the label of every later message shows it
        want_dtype = None if dtype is None else DType.from_any(dtype)
        want_shape = None if shape is None else _check_shape(shape)
        label = f"Tensor '{name}'" if name else "Tensor"
        if data is None:
            missing = [w for w, v in (("shape", want_shape), ("dtype", want_dtype)) if v is None]
            if missing:
                raise TypeCheckError(
                    f"Tensor(data=None) allocates zeros and needs {' and '.join(missing)}",
                    loc=user_location(),
                )
            assert want_shape is not None and want_dtype is not None
            arr = _allocate(want_shape, want_dtype, layout, label)
        elif isinstance(data, np.ndarray):
            arr = data
        else:
            try:
                arr = np.asarray(data, dtype=None if want_dtype is None else want_dtype.np)
            except (TypeError, ValueError) as err:
                raise TypeCheckError(
                    f"Tensor data of type {type(data).__name__} is not array-like: {err}",
                    loc=user_location(),
                ) from None
        have_dtype = DType.from_numpy(arr.dtype)
        if want_dtype is not None and want_dtype is not have_dtype:
            raise TypeCheckError(
                f"{label}: dtype={want_dtype.value} was given but the array holds "
                f"{have_dtype.value}; a Tensor wraps the array without copying, so convert it "
                f"first (arr.astype(...))",
                loc=user_location(),
            )
        if want_shape is not None and want_shape != arr.shape:
            raise TypeCheckError(
                f"{label}: shape={want_shape} was given but the array has shape {arr.shape}",
                loc=user_location(),
            )
        if layout is None:
            layout = TensorLayout.default(arr.ndim)
        elif not isinstance(layout, TensorLayout):
            raise TypeCheckError(
                f"{label}: layout must be a TensorLayout, got {type(layout).__name__}",
                loc=user_location(),
            )
        elif layout.rank != arr.ndim:
            raise TypeCheckError(
                f"{label}: layout {layout!r} has rank {layout.rank} but the tensor has rank "
                f"{arr.ndim}",
                loc=user_location(),
            )
        if layout.mem is not None:
            check_array_mem(arr, layout.mem, label)
        self._data = arr
        self._dtype = have_dtype
        self._location = Location.from_any(location)
        self._layout = layout
        self._name = name
        self._root: Tensor = self
        self._items: tuple[IndexItem, ...] | None = None

    @classmethod
    def _view(cls, parent: Tensor, items: tuple[IndexItem, ...], data: np.ndarray) -> Tensor:
        root = parent._root
        view = cls.__new__(cls)
        view._data = data
        view._dtype = root._dtype
        view._location = root._location
        kept = [r for r, it in enumerate(items) if isinstance(it, IndexRange)]
        view._layout = root._layout.select_dims(kept)
        view._name = None
        view._root = root
        view._items = items
        return view

    # ---- attributes ----------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The user's numpy array (or a numpy view of it): never a copy."""
        return self._data

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def location(self) -> Location:
        return self._location

    @property
    def layout(self) -> TensorLayout:
        return self._layout

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def name(self) -> str | None:
        """The user-facing name; a view without its own name shows ``root[index]``."""
        if self._name is not None or self._root is self:
            return self._name
        if self._root._name is None:
            return None
        return f"{self._root._name}[{index_text(self.index_items, self._root.shape)}]"

    @name.setter
    def name(self, value: str | None) -> None:
        _check_name(value)
        self._name = value

    @property
    def root(self) -> Tensor:
        """The tensor that owns the user's array (``self`` for a root tensor)."""
        return self._root

    @property
    def is_root(self) -> bool:
        return self._root is self

    @property
    def index_items(self) -> tuple[IndexItem, ...]:
        """One item per ROOT dimension, root-relative (full ranges for a root tensor)."""
        if self._items is None:
            self._items = tuple(IndexRange(0, n, 1) for n in self.shape)
        return self._items

    @property
    def base(self) -> Tensor:
        """The root tensor (the reference implementation's name for ``root``)."""
        return self._root

    @property
    def index_exprs(self) -> tuple[Any, ...]:
        """The indices applied to the root to reach this view (``index_exprs_of``)."""
        return index_exprs_of(self.index_items, self._root.shape)

    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def numpy(self) -> np.ndarray:
        """The backing numpy array (no copy): writes to it are writes to the tensor."""
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        if dtype is None or np.dtype(dtype) == self._data.dtype:
            return self._data
        if copy is False:
            raise ValueError(
                f"converting a {self._dtype.value} tensor to {np.dtype(dtype)} needs a copy"
            )
        return np.asarray(self._data, dtype=dtype)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        op = _UFUNC_OPS.get(ufunc)
        if method == "__call__" and op is not None and len(inputs) == 2 and not kwargs:
            # A numpy scalar meeting an element arrives here as a 0-d array: the result is a
            # runtime expression, exactly as with a Python number.
            a, b = (_unwrap_0d(x) for x in inputs)
            eq_like = op in ("eq", "ne")
            elems = [x for x in (a, b) if isinstance(x, _ElementOps)]
            others = [x for x in (a, b) if not isinstance(x, _ElementOps)]
            if all(x.ndim == 0 and (not eq_like or x._overloads_eq()) for x in elems) and all(
                isinstance(x, np.generic | int | float | bool) for x in others
            ):
                return as_expr(a)._bin(op, b)
        raw = tuple(x._data if isinstance(x, Tensor) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x._data if isinstance(x, Tensor) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*raw, **kwargs)

    # ---- scalar use ------------------------------------------------------------------------
    def _overloads_eq(self) -> bool:
        return self.ndim == 0 and self._root is not self

    def __int__(self) -> int:
        return int(self._scalar_value())

    def __float__(self) -> float:
        return float(self._scalar_value())

    def _scalar_value(self) -> Any:
        if self.ndim != 0:
            raise TypeCheckError(
                f"only a single element converts to a Python number; {self!r} has shape "
                f"{self.shape}",
                loc=user_location(),
            )
        return self._data[()]

    # ---- sequence protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError(f"len() of the 0-d tensor {self!r}")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeCheckError(
                f"cannot iterate over the 0-d tensor {self!r}", loc=user_location()
            )
        for i in range(self.shape[0]):
            row = self[i]
            assert isinstance(row, Tensor)  # an int index of a concrete tensor is concrete
            yield row

    def slice(self, start: int, end: int) -> Tensor:
        """Rows ``start:end`` of dimension 0 (a view)."""
        if not (_is_int(start) and _is_int(end)):
            raise TypeCheckError(
                f"Tensor.slice(start, end) takes ints, got {start!r}, {end!r}", loc=user_location()
            )
        if self.ndim == 0:
            raise TypeCheckError(f"cannot slice the 0-d tensor {self!r}", loc=user_location())
        rows = self[int(start) : int(end)]
        assert isinstance(rows, Tensor)  # int bounds keep a concrete tensor concrete
        return rows

    # ---- indexing ---------------------------------------------------------------------------
    def _label(self) -> str:
        name = self.name
        return f"tensor '{name}'" if name else f"tensor of shape {self.shape}"

    def __getitem__(self, key: Any) -> Tensor | TensorView:
        res = _apply_key(self.index_items, key, self._label(), self.shape)
        if res.numpy_key is None:
            return TensorView(self._root, res.items)
        # The trailing ``...`` keeps a full integer index a 0-d VIEW instead of a numpy scalar copy.
        return Tensor._view(self, res.items, self._data[res.numpy_key + (Ellipsis,)])

    def __setitem__(self, key: Any, value: Any) -> None:
        res = _apply_key(self.index_items, key, self._label(), self.shape)
        if res.numpy_key is None:
            raise TypeCheckError(
                f"cannot assign to {self._label()} through a symbolic index; tensors are "
                "written by kernels",
                loc=user_location(),
            )
        if isinstance(value, Tensor):
            value = value._data
        self._data[res.numpy_key] = value

    def __repr__(self) -> str:
        name = self.name
        return f"Tensor(name={name!r}, shape={self.shape}, dtype={self._dtype.value})"


# ------------------------------------------------------------------------------------------------
# TensorView (symbolic)
# ------------------------------------------------------------------------------------------------


class TensorView(_ElementOps):
    """A region of a root tensor chosen by symbolic indices; it has no data of its own.

    ``shape`` holds static ints where known and None for symbolic extents.
    """

    is_symbolic = True
    __array_ufunc__ = None  # numpy defers to our reflected operators (np.int64(3) < view)

    def __init__(self, root: Tensor, items: tuple[IndexItem, ...]):
        if not isinstance(root, Tensor) or not root.is_root:
            raise TypeCheckError("a TensorView must refer to a root Tensor", loc=user_location())
        if len(items) != root.ndim:
            raise TypeCheckError(
                f"a TensorView of a rank-{root.ndim} tensor needs {root.ndim} index items, "
                f"got {len(items)}",
                loc=user_location(),
            )
        self._root = root
        self._items = tuple(items)
        self._shape = tuple(it.length for it in self._items if isinstance(it, IndexRange))

    @property
    def root(self) -> Tensor:
        return self._root

    @property
    def index_items(self) -> tuple[IndexItem, ...]:
        return self._items

    @property
    def base(self) -> Tensor:
        """The root tensor (the reference implementation's name for ``root``)."""
        return self._root

    @property
    def index_exprs(self) -> tuple[Any, ...]:
        """The indices applied to the root to reach this view (``index_exprs_of``)."""
        return index_exprs_of(self._items, self._root.shape)

    @property
    def shape(self) -> tuple[int | None, ...]:
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def dtype(self) -> DType:
        return self._root.dtype

    @property
    def location(self) -> Location:
        return self._root.location

    @property
    def layout(self) -> TensorLayout:
        kept = [r for r, it in enumerate(self._items) if isinstance(it, IndexRange)]
        return self._root.layout.select_dims(kept)

    @property
    def name(self) -> str | None:
        """``root[index]`` when the root is named, else None."""
        if self._root.name is None:
            return None
        return f"{self._root.name}[{index_text(self._items, self._root.shape)}]"

    @property
    def is_static_shape(self) -> bool:
        return all(n is not None for n in self._shape)

    def nbytes(self) -> int:
        if not self.is_static_shape:
            raise TypeCheckError(
                f"{self!r} has a symbolic extent; its size is only known at run time",
                loc=user_location(),
            )
        extents = [int(n) for n in self._shape if n is not None]  # all of them (checked above)
        return int(np.prod(extents, dtype=np.int64)) * self.dtype.itemsize

    def _overloads_eq(self) -> bool:
        return self.ndim == 0

    def _label(self) -> str:
        return f"view {self.name or _root_label(self._root) + '[...]'}"

    def __getitem__(self, key: Any) -> TensorView:
        res = _apply_key(self._items, key, self._label(), self._shape)
        return TensorView(self._root, res.items)

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeCheckError(
            f"cannot assign through the symbolic {self._label()}; tensors are written by kernels",
            loc=user_location(),
        )

    def __iter__(self) -> Iterator[Any]:
        raise TypeCheckError(
            f"cannot iterate over the symbolic {self._label()}; loop with P(...) instead",
            loc=user_location(),
        )

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        raise TypeCheckError(
            f"the symbolic {self._label()} has no data while the workload is traced",
            loc=user_location(),
        )

    def __repr__(self) -> str:
        where = f"{_root_label(self._root)}[{index_text(self._items, self._root.shape)}]"
        shape = "(" + ", ".join("?" if n is None else str(n) for n in self._shape)
        shape += ",)" if len(self._shape) == 1 else ")"
        return f"TensorView({where}, shape={shape}, dtype={self.dtype.value})"


def _allocate(shape: tuple[int, ...], dtype: DType, layout: Any, label: str) -> np.ndarray:
    """The zeroed array of ``Tensor(shape=..., dtype=..., layout=...)``: laid out in the order or
    strides of the layout's memory facet (C order without one), so the tensor matches it."""
    mem = getattr(layout, "mem", None) if isinstance(layout, TensorLayout) else None
    if mem is None:
        return np.zeros(shape, dtype=dtype.np)
    if layout.rank != len(shape):
        raise TypeCheckError(
            f"{label}: layout {layout!r} has rank {layout.rank} but the tensor has rank "
            f"{len(shape)}",
            loc=user_location(),
        )
    return mem.allocate(shape, dtype.np)


def _unwrap_0d(x: Any) -> Any:
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def _check_shape(shape: Any) -> tuple[int, ...]:
    if _is_int(shape):
        shape = (shape,)
    if not isinstance(shape, tuple | list) or not all(_is_int(n) and n >= 0 for n in shape):
        raise TypeCheckError(
            f"Tensor shape must be a tuple of ints >= 0, got {shape!r}", loc=user_location()
        )
    return tuple(int(n) for n in shape)


def _check_name(name: Any) -> None:
    if name is not None and not isinstance(name, str):
        raise TypeCheckError(
            f"a tensor name must be a str or None, got {type(name).__name__}", loc=user_location()
        )


def is_tensor_like(x: Any) -> bool:
    """True for a ``Tensor`` (root or constant view) or a symbolic ``TensorView``."""
    return isinstance(x, Tensor | TensorView)


__all__ = [
    "Tensor",
    "TensorView",
    "IndexPoint",
    "IndexRange",
    "IndexItem",
    "index_text",
    "index_exprs_of",
    "tile_index",
    "is_tensor_like",
    "same_expr",
]
