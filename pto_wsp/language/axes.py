"""Axis types: the iteration spaces loops run over (spec §2.1).

``Dense[N]`` has a trace-time size; ``DenseDyn`` a size known at run time (an int passed per call,
a runtime symbol or a tensor element); ``Ragged`` a per-row length read from a lengths tensor;
``Sparse`` a CSR structure (``indptr``/``indices``) whose rows ``P.sel(routing[b])`` iterates.

Data-carrying axes keep a reference to the user's array (lists are converted once to int64
arrays): the backend binds those arrays as index tensors, so changing their contents later does
not require re-tracing the workload. ``extent_expr()`` therefore reads lengths through loads,
never through trace-time constants.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TensorIndexError, TypeCheckError, user_location
from .scalar_expr import LoopVar, ScalarExpr, as_expr
from .tensor import Tensor, TensorView


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _check_size(value: Any, what: str) -> int:
    if not _is_int(value):
        raise TypeCheckError(
            f"{what} must be an int, got {type(value).__name__} {value!r}", loc=user_location()
        )
    if value < 0:
        raise TypeCheckError(f"{what} must be >= 0, got {value}", loc=user_location())
    return int(value)


class Axis:
    """Base of every axis. ``name`` is filled by lowering from the user's variable names."""

    kind: str = ""
    _owned: tuple[Tensor, ...] = ()  # index tensors this axis created (named after it)

    def __init__(self, name: str | None = None):
        self.name = name

    @property
    def name(self) -> str | None:
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeCheckError(
                f"an axis name must be a str or None, got {type(value).__name__}",
                loc=user_location(),
            )
        self._name = value
        self._on_rename(value)

    def _on_rename(self, name: str | None) -> None:
        """Hook for axes that own index tensors, so those show up named in the IR."""

    def owns(self, t: Tensor) -> bool:
        """True for an index tensor this axis built from a Python list (read-only, named after
        the axis); a Tensor the user passed is ordinary data a kernel may write."""
        return any(t is o for o in self._owned)

    def index_tensors(self) -> tuple[Tensor, ...]:
        """The tensors holding the axis's structure, which a run reads (a ``Ragged``'s lengths,
        a ``Sparse``'s indptr and indices; none for a dense axis)."""
        return ()

    @property
    def size(self) -> int | ScalarExpr | None:
        """The iteration count: an int when static, an expression or None otherwise."""
        raise NotImplementedError

    @property
    def type_str(self) -> str:
        """The axis type as printed in a workload type (``Dense[8]``, ``DenseDyn``, ...)."""
        return type(self).__name__

    def extent_expr(self) -> ScalarExpr:
        """The iteration count as a scalar expression evaluated by the generated code."""
        raise NotImplementedError


# ------------------------------------------------------------------------------------------------
# Dense / DenseDyn
# ------------------------------------------------------------------------------------------------


class Dense(Axis):
    """A static-size axis: ``Dense[8]``, ``Dense[8]()`` or ``Dense(8)``.

    Two dense axes of the same size are equal (they are the same type); the name is not part of
    equality.
    """

    kind = "dense"

    def __init__(self, size: int, name: str | None = None):
        self._size = _check_size(size, "Dense size")
        super().__init__(name)

    def __class_getitem__(cls, size: Any) -> Dense:
        return cls(size)

    def __call__(self) -> Dense:
        """``Dense[N]()``: a fresh axis equal to ``Dense[N]``."""
        return Dense(self._size)

    @property
    def size(self) -> int:
        return self._size

    @property
    def type_str(self) -> str:
        return f"Dense[{self._size}]"

    def extent_expr(self) -> ScalarExpr:
        return ScalarExpr.const(self._size)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Dense) and other._size == self._size

    def __hash__(self) -> int:
        return hash(("Dense", self._size))

    def __repr__(self) -> str:
        return f"Dense[{self._size}]" if self.name is None else f"Dense[{self._size}]({self.name})"


class DenseDyn(Axis):
    """An axis whose size is a run-time value.

    ``size`` is an int (given per call), a ``ScalarExpr`` (``symbol_u64("n")``, ``slot_u64(0)``),
    or a single tensor element (``DenseDyn(meta[0])``), which the generated code reads when it
    runs.
    """

    kind = "dense_dyn"

    def __init__(self, size: int | ScalarExpr | Tensor | TensorView, name: str | None = None):
        if _is_int(size):
            self._size: int | ScalarExpr = _check_size(size, "DenseDyn size")
        elif isinstance(size, ScalarExpr):
            self._size = size
        elif isinstance(size, Tensor | TensorView):
            if size.ndim != 0:
                raise TypeCheckError(
                    f"DenseDyn size must be a single tensor element, but {size!r} has shape "
                    f"{size.shape}",
                    loc=user_location(),
                )
            self._size = as_expr(size)
        else:
            raise TypeCheckError(
                f"DenseDyn size must be an int, a scalar expression or a tensor element, got "
                f"{type(size).__name__} {size!r}",
                loc=user_location(),
            )
        super().__init__(name)

    @property
    def size(self) -> int | ScalarExpr:
        return self._size

    @property
    def is_static(self) -> bool:
        return isinstance(self._size, int)

    def extent_expr(self) -> ScalarExpr:
        if isinstance(self._size, int):
            return ScalarExpr.const(self._size)
        return self._size

    def __repr__(self) -> str:
        name = "" if self.name is None else f", name={self.name!r}"
        return f"DenseDyn({self._size}{name})"


# ------------------------------------------------------------------------------------------------
# Index data (lengths / indptr / indices)
# ------------------------------------------------------------------------------------------------


def _index_tensor(data: Any, what: str) -> Tensor:
    """Wrap index data as a 1-D integer Tensor, keeping a reference to a given array/Tensor."""
    if isinstance(data, TensorView):
        raise TypeCheckError(
            f"{what} must be concrete data (list, ndarray or Tensor), not the symbolic {data!r}",
            loc=user_location(),
        )
    if isinstance(data, Tensor):
        tensor = data
    elif isinstance(data, np.ndarray):
        tensor = Tensor(data)
    elif isinstance(data, list | tuple):
        arr = np.asarray(data)
        if arr.size == 0:
            arr = np.zeros(0, dtype=np.int64)
        elif arr.dtype.kind not in "iu":
            raise TypeCheckError(f"{what} must hold ints, got {data!r}", loc=user_location())
        tensor = Tensor(arr.astype(np.int64))
    else:
        raise TypeCheckError(
            f"{what} must be a list, an ndarray or a Tensor, got {type(data).__name__}",
            loc=user_location(),
        )
    if tensor.ndim != 1:
        raise TypeCheckError(
            f"{what} must be one-dimensional, got shape {tensor.shape}", loc=user_location()
        )
    if not tensor.dtype.is_int:
        raise TypeCheckError(
            f"{what} must have an integer dtype, got {tensor.dtype.value}", loc=user_location()
        )
    return tensor


def _name_owned(axis: Axis, tensor: Tensor, suffix: str) -> None:
    """Name an index tensor the axis created itself (a user's Tensor keeps the user's name)."""
    if tensor in axis._owned:
        tensor.name = None if axis.name is None else f"{axis.name}.{suffix}"


def _check_row(row: Any, outer: int, owner: str) -> ScalarExpr:
    """A row selector for ``axis[row]``: a constant in range or a symbolic scalar."""
    if _is_int(row):
        r = int(row)
        r = r + outer if r < 0 else r
        if not 0 <= r < outer:
            raise TensorIndexError(
                f"row {row} is out of range for {owner} with {outer} rows", loc=user_location()
            )
        return ScalarExpr.const(r)
    if isinstance(row, ScalarExpr | Tensor | TensorView):
        e = as_expr(row)
        axis = e.axis if isinstance(e, LoopVar) else None
        if isinstance(axis, Dense | DenseDyn):
            size = axis.size
            if _is_int(size) and size > outer:
                raise TensorIndexError(
                    f"loop variable '{e.name}' takes {size} values but {owner} has only "
                    f"{outer} rows",
                    loc=user_location(),
                )
        return e
    raise TypeCheckError(
        f"{owner} rows are selected by an int or a loop variable/scalar expression, got "
        f"{type(row).__name__}",
        loc=user_location(),
    )


def _elem(t: Tensor, i: Any) -> ScalarExpr:
    """A load of element ``i`` of a 1-D index tensor (a runtime read, never a constant)."""
    return as_expr(t[i])


# ------------------------------------------------------------------------------------------------
# Ragged
# ------------------------------------------------------------------------------------------------


class _RowedAxis(Axis):
    """An axis of ``outer_size`` rows whose per-row extents live in data (Ragged, Sparse).

    Used directly in a loop it iterates its rows; ``axis[row]`` selects one row's extent.
    """

    outer_size: int

    @property
    def row(self) -> None:
        """No row is selected: the axis iterates its rows (see ``RaggedRow``/``SparseRow``)."""
        return None

    @property
    def size(self) -> int:
        return self.outer_size

    def extent_expr(self) -> ScalarExpr:
        return ScalarExpr.const(self.outer_size)


class Ragged(_RowedAxis):
    """``outer_size`` rows, row ``i`` having ``lengths[i]`` elements.

    As a loop axis a ``Ragged`` iterates its rows; ``ragged[b]`` is the ``RaggedRow`` whose
    extent is ``lengths[b]``.
    """

    kind = "ragged"

    def __init__(self, outer_size: int, lengths: Any, name: str | None = None):
        self.outer_size = _check_size(outer_size, "Ragged outer_size")
        self.lengths_tensor = _index_tensor(lengths, "Ragged lengths")
        self._owned = () if isinstance(lengths, Tensor) else (self.lengths_tensor,)
        n = self.lengths_tensor.shape[0]
        if n != self.outer_size:
            raise TypeCheckError(
                f"Ragged has outer_size {self.outer_size} but {n} lengths", loc=user_location()
            )
        negative = np.flatnonzero(self.lengths_tensor.data < 0)
        if negative.size:
            i = int(negative[0])
            raise TypeCheckError(
                f"Ragged lengths must be >= 0, but lengths[{i}] = {self.lengths_tensor.data[i]}",
                loc=user_location(),
            )
        super().__init__(name)

    def _on_rename(self, name: str | None) -> None:
        _name_owned(self, self.lengths_tensor, "lengths")

    def index_tensors(self) -> tuple[Tensor, ...]:
        return (self.lengths_tensor,)

    @property
    def lengths(self) -> np.ndarray:
        """The lengths array (the user's array when one was given)."""
        return self.lengths_tensor.data

    def length(self, idx: int) -> int:
        """The current length of row ``idx``."""
        r = _check_row(idx, self.outer_size, "Ragged")
        if r.kind != "const":
            raise TypeCheckError(
                "Ragged.length(i) reads the current data and needs an int row; use "
                "ragged[b] for a row selected by a loop variable",
                loc=user_location(),
            )
        return int(self.lengths[r.value])

    def total(self) -> int:
        """The current total number of elements over all rows."""
        return int(np.sum(self.lengths, dtype=np.int64))

    def __getitem__(self, row: Any) -> RaggedRow:
        return RaggedRow(self, _check_row(row, self.outer_size, "Ragged"))

    def __repr__(self) -> str:
        name = "" if self.name is None else f", name={self.name!r}"
        return f"Ragged({self.outer_size}, lengths={self.lengths.tolist()}{name})"


class _AxisRow(Axis):
    """One row of a ``Ragged`` or ``Sparse`` axis; its extent is read from data at run time."""

    def __init__(self, axis: Any, row: ScalarExpr, name: str | None = None):
        self.axis = axis
        self.row = row
        super().__init__(name)

    @property
    def outer_size(self) -> int:
        return self.axis.outer_size

    def index_tensors(self) -> tuple[Tensor, ...]:
        rows: _RowedAxis = self.axis
        return rows.index_tensors()

    @property
    def size(self) -> None:
        """Unknown at trace time: the row's extent is read from the axis's tensors when it runs."""
        return None


class RaggedRow(_AxisRow):
    """Row ``row`` of a ``Ragged`` axis: iterates ``lengths[row]`` elements (read at run time)."""

    kind = "ragged"

    @property
    def lengths_tensor(self) -> Tensor:
        return self.axis.lengths_tensor

    @property
    def type_str(self) -> str:
        return "Ragged"

    def extent_expr(self) -> ScalarExpr:
        return _elem(self.axis.lengths_tensor, self.row)

    def __repr__(self) -> str:
        return f"RaggedRow({self.axis.name or 'ragged'}[{self.row}])"


# ------------------------------------------------------------------------------------------------
# Sparse
# ------------------------------------------------------------------------------------------------


class Sparse(_RowedAxis):
    """A CSR structure: row ``r`` selects ``indices[indptr[r]:indptr[r+1]]`` (e.g. MoE experts).

    As a loop axis a ``Sparse`` iterates its rows; ``routing[b]`` is the ``SparseRow`` that
    ``P.sel`` iterates.
    """

    kind = "sparse"

    def __init__(self, outer_size: int, indptr: Any, indices: Any, name: str | None = None):
        self.outer_size = _check_size(outer_size, "Sparse outer_size")
        self.indptr_tensor = _index_tensor(indptr, "Sparse indptr")
        self.indices_tensor = _index_tensor(indices, "Sparse indices")
        self._owned = tuple(
            t
            for t, given in ((self.indptr_tensor, indptr), (self.indices_tensor, indices))
            if not isinstance(given, Tensor)
        )
        ptr = self.indptr_tensor.data
        idx = self.indices_tensor.data
        if ptr.shape[0] != self.outer_size + 1:
            raise TypeCheckError(
                f"Sparse indptr must have outer_size + 1 = {self.outer_size + 1} entries, got "
                f"{ptr.shape[0]}",
                loc=user_location(),
            )
        if ptr[0] != 0:
            raise TypeCheckError(
                f"Sparse indptr must start at 0, got {ptr[0]}", loc=user_location()
            )
        drops = np.flatnonzero(np.diff(ptr.astype(np.int64)) < 0)
        if drops.size:
            i = int(drops[0])
            raise TypeCheckError(
                f"Sparse indptr must be non-decreasing, but indptr[{i}] = {ptr[i]} > "
                f"indptr[{i + 1}] = {ptr[i + 1]}",
                loc=user_location(),
            )
        if ptr[-1] != idx.shape[0]:
            raise TypeCheckError(
                f"Sparse indptr[-1] = {ptr[-1]} must equal the number of indices ({idx.shape[0]})",
                loc=user_location(),
            )
        negative = np.flatnonzero(idx < 0)
        if negative.size:
            i = int(negative[0])
            raise TypeCheckError(
                f"Sparse indices must be >= 0, but indices[{i}] = {idx[i]}", loc=user_location()
            )
        super().__init__(name)

    def _on_rename(self, name: str | None) -> None:
        _name_owned(self, self.indptr_tensor, "indptr")
        _name_owned(self, self.indices_tensor, "indices")

    def index_tensors(self) -> tuple[Tensor, ...]:
        return (self.indptr_tensor, self.indices_tensor)

    @property
    def indptr(self) -> np.ndarray:
        return self.indptr_tensor.data

    @property
    def indices(self) -> np.ndarray:
        return self.indices_tensor.data

    def nnz(self) -> int:
        """The current number of stored entries."""
        return int(self.indptr[-1])

    def row_nnz(self, row: int) -> int:
        """The current number of entries of row ``row``."""
        r = _check_row(row, self.outer_size, "Sparse")
        if r.kind != "const":
            raise TypeCheckError(
                "Sparse.row_nnz(row) reads the current data and needs an int row; use "
                "routing[b] for a row selected by a loop variable",
                loc=user_location(),
            )
        return int(self.indptr[r.value + 1] - self.indptr[r.value])

    def __getitem__(self, row: Any) -> SparseRow:
        return SparseRow(self, _check_row(row, self.outer_size, "Sparse"))

    def __repr__(self) -> str:
        name = "" if self.name is None else f", name={self.name!r}"
        return f"Sparse({self.outer_size}, nnz={self.nnz()}{name})"


class SparseRow(_AxisRow):
    """Row ``row`` of a ``Sparse`` axis: ``P.sel`` binds its variable to each selected index."""

    kind = "sparse"

    @property
    def indptr_tensor(self) -> Tensor:
        return self.axis.indptr_tensor

    @property
    def indices_tensor(self) -> Tensor:
        return self.axis.indices_tensor

    @property
    def type_str(self) -> str:
        return "Sparse"

    def extent_expr(self) -> ScalarExpr:
        ptr = self.axis.indptr_tensor
        row = self.row
        nxt = ScalarExpr.const(row.value + 1) if row.kind == "const" else row + 1
        return _elem(ptr, nxt) - _elem(ptr, row)

    def __repr__(self) -> str:
        return f"SparseRow({self.axis.name or 'sparse'}[{self.row}])"


# ------------------------------------------------------------------------------------------------
# Coercion for P(...)
# ------------------------------------------------------------------------------------------------

ACCEPTED = "Dense[N], DenseDyn(n), Ragged(...), Sparse(...), ragged[b], routing[b] or an int"


def is_axis(x: Any) -> bool:
    return isinstance(x, Axis)


def as_axis(x: Any) -> Axis:
    """Coerce a loop argument: axes pass through, ints become ``Dense``, run-time scalars
    (expressions, tensor elements) become ``DenseDyn``."""
    if isinstance(x, Axis):
        return x
    if _is_int(x):
        if x < 0:
            raise TypeCheckError(f"a loop size must be >= 0, got {x}", loc=user_location())
        return Dense(int(x))
    if isinstance(x, ScalarExpr) or (isinstance(x, Tensor | TensorView) and x.ndim == 0):
        return DenseDyn(x)
    raise TypeCheckError(
        f"expected an axis ({ACCEPTED}), got {type(x).__name__} {_short(x)}",
        loc=user_location(),
    )


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "Axis",
    "Dense",
    "DenseDyn",
    "Ragged",
    "RaggedRow",
    "Sparse",
    "SparseRow",
    "is_axis",
    "as_axis",
]
