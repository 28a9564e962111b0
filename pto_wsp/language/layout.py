"""Tensor layouts as a type refinement, and the explicit collectives (spec §2.3).

A ``TensorLayout`` is (distribution per dimension) x (optional memory layout). Distribution
elements are ``TensorReplicate()`` (R) or ``TensorShard(mesh_axis)`` (S(i)). Layouts only change
through explicit operations (``relayout``, ``allreduce``, ``allgather``, ``reduce_scatter``), so a
mismatch is a type error at trace time instead of a silent redistribution at run time (the Dato
rules). Inside a ``@workload`` body each of those operations records a ``CollectiveOp`` node.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SourceLoc, TypeCheckError, user_location

# ------------------------------------------------------------------------------------------------
# Distribution facet
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorReplicate:
    """R: every mesh coordinate holds the whole dimension."""

    def __repr__(self) -> str:
        return "R"


@dataclass(frozen=True)
class TensorShard:
    """S(mesh_axis): the dimension is split evenly along one axis of the device mesh."""

    mesh_axis: int

    def __post_init__(self) -> None:
        if not _is_int(self.mesh_axis) or self.mesh_axis < 0:
            raise TypeCheckError(
                f"TensorShard(mesh_axis={self.mesh_axis!r}): mesh_axis must be an int >= 0",
                loc=user_location(),
            )
        object.__setattr__(self, "mesh_axis", int(self.mesh_axis))

    def __repr__(self) -> str:
        return f"S({self.mesh_axis})"


DistElem = TensorReplicate | TensorShard


def Shard(mesh_axis: int = 0) -> TensorShard:  # noqa: N802 - deprecated public name
    """Deprecated alias of ``TensorShard`` (spec §5.4, §10.1)."""
    warnings.warn(
        "Shard(...) is deprecated; use TensorShard(mesh_axis) inside a TensorLayout",
        DeprecationWarning,
        stacklevel=2,
    )
    return TensorShard(mesh_axis)


def Replicate() -> TensorReplicate:  # noqa: N802 - deprecated public name
    """Deprecated alias of ``TensorReplicate`` (spec §5.4, §10.1)."""
    warnings.warn(
        "Replicate() is deprecated; use TensorReplicate() inside a TensorLayout",
        DeprecationWarning,
        stacklevel=2,
    )
    return TensorReplicate()


# ------------------------------------------------------------------------------------------------
# Memory facet
# ------------------------------------------------------------------------------------------------

_ORDERS = ("row_major", "col_major")


@dataclass(frozen=True)
class MemLayout:
    """How one tile/tensor is laid out in memory: strides in elements, a named order, swizzle.

    ``order`` is ``"row_major"``, ``"col_major"`` or None (explicit strides only). ``swizzle``
    names a bank-swizzle pattern; the CPU simulator has no swizzled memory, so lowering rejects a
    layout that carries one for a target that cannot honour it (never silently drops it).
    """

    strides: tuple[int, ...] | None = None
    order: str | None = None
    swizzle: str | None = None

    def __post_init__(self) -> None:
        if self.strides is not None:
            strides = tuple(self.strides) if _is_seq(self.strides) else None
            if strides is None or not all(_is_int(s) and s >= 0 for s in strides):
                raise TypeCheckError(
                    f"MemLayout strides must be a sequence of ints >= 0, got {self.strides!r}",
                    loc=user_location(),
                )
            object.__setattr__(self, "strides", tuple(int(s) for s in strides))
        if self.order is not None and self.order not in _ORDERS:
            raise TypeCheckError(
                f"MemLayout order must be one of {', '.join(_ORDERS)} or None, got {self.order!r}",
                loc=user_location(),
            )
        if self.swizzle is not None and (not isinstance(self.swizzle, str) or not self.swizzle):
            raise TypeCheckError(
                f"MemLayout swizzle must be a non-empty pattern name or None, got {self.swizzle!r}",
                loc=user_location(),
            )
        if self.strides is None and self.order is None:
            raise TypeCheckError(
                "MemLayout needs strides or an order (use MemLayout.row_major(shape))",
                loc=user_location(),
            )

    @property
    def rank(self) -> int | None:
        """Number of dimensions the strides describe (None for an order-only layout)."""
        return None if self.strides is None else len(self.strides)

    @classmethod
    def row_major(cls, shape: Sequence[int], *, swizzle: str | None = None) -> MemLayout:
        """C order: the last dimension is contiguous."""
        dims = _check_shape(shape, "MemLayout.row_major")
        strides: list[int] = []
        acc = 1
        for n in reversed(dims):
            strides.append(acc)
            acc *= max(n, 1)
        return cls(tuple(reversed(strides)), "row_major", swizzle)

    @classmethod
    def col_major(cls, shape: Sequence[int], *, swizzle: str | None = None) -> MemLayout:
        """Fortran order: the first dimension is contiguous."""
        dims = _check_shape(shape, "MemLayout.col_major")
        strides: list[int] = []
        acc = 1
        for n in dims:
            strides.append(acc)
            acc *= max(n, 1)
        return cls(tuple(strides), "col_major", swizzle)

    def for_shape(self, shape: Sequence[int]) -> MemLayout:
        """This layout for a tensor of another ``shape`` (a collective that changes the extents).

        An order re-derives its strides; explicit strides without an order describe one shape
        only, so they carry over only when ``shape`` keeps every extent's stride valid (the same
        rank and a dense, non-overlapping walk), else ``TypeCheckError``.
        """
        dims = _check_shape(shape, "MemLayout.for_shape")
        if self.order == "row_major":
            return MemLayout.row_major(dims, swizzle=self.swizzle)
        if self.order == "col_major":
            return MemLayout.col_major(dims, swizzle=self.swizzle)
        if (
            self.strides is None
            or len(self.strides) != len(dims)
            or _overlapping(dims, self.strides)
        ):
            raise TypeCheckError(
                f"{self!r} has explicit strides that do not describe a tensor of shape {dims}; "
                "relayout to an ordered layout (MemLayout.row_major/col_major) first",
                loc=user_location(),
            )
        return self

    def element_strides(self, shape: Sequence[int]) -> tuple[int, ...]:
        """The strides (in elements) of a tensor of ``shape`` laid out as this layout says."""
        dims = _check_shape(shape, "MemLayout.element_strides")
        if self.strides is not None:
            return self.strides
        ordered = (
            MemLayout.row_major(dims) if self.order == "row_major" else MemLayout.col_major(dims)
        )
        return ordered.strides or ()

    def allocate(self, shape: Sequence[int], dtype: Any) -> np.ndarray:
        """A zero-filled array of ``shape`` and ``dtype`` laid out as this layout says.

        An order allocates a C- or Fortran-contiguous array; explicit strides allocate one
        buffer that holds exactly the addressed elements and view it with those strides, so
        padding (a row stride larger than the row) is honoured. Strides under which two indices
        address the same element are a ``TypeCheckError``: kernels write tensors, and an
        aliasing layout would make their writes collide.
        """
        dims = _check_shape(shape, "MemLayout.allocate")
        if self.strides is None:
            return np.zeros(dims, dtype=dtype, order="C" if self.order == "row_major" else "F")
        if len(self.strides) != len(dims):
            raise TypeCheckError(
                f"{self!r} has {len(self.strides)} strides but the tensor has rank {len(dims)}",
                loc=user_location(),
            )
        if _overlapping(dims, self.strides):
            raise TypeCheckError(
                f"{self!r}: under these strides two indices of a tensor of shape {dims} address "
                "the same element; give strides that keep every element distinct",
                loc=user_location(),
            )
        itemsize = np.dtype(dtype).itemsize
        if any(n == 0 for n in dims):
            return np.zeros(dims, dtype=dtype)
        span = 1 + sum((n - 1) * s for n, s in zip(dims, self.strides, strict=True))
        base = np.zeros(span, dtype=dtype)
        return np.lib.stride_tricks.as_strided(
            base, shape=dims, strides=tuple(s * itemsize for s in self.strides)
        )

    def arrange(self, data: Any) -> np.ndarray:
        """``data`` laid out as this layout says: ``data`` itself when it already is, else a copy.

        A script uses it to hand ``Tensor`` an array in a column-major layout
        (``Tensor(mem.arrange(init.random(...)), layout=TensorLayout.default(2, mem=mem))``);
        the copy keeps the ``pto_wsp.language.tensor_init`` recipe of ``data``, so the studio's import
        still sees how the contents were made.
        """
        from . import tensor_init

        arr = np.asarray(data)
        if array_mem_mismatch(arr, self) is None:
            return arr
        out = self.allocate(arr.shape, arr.dtype)
        out[...] = arr
        recipe = tensor_init.recipe_of(arr)
        if recipe is not None:
            tensor_init._remember(out, dict(recipe))
        return out

    def __repr__(self) -> str:
        parts = []
        if self.order is not None:
            parts.append(self.order)
        if self.strides is not None:
            parts.append(f"strides={self.strides}")
        if self.swizzle is not None:
            parts.append(f"swizzle={self.swizzle!r}")
        return f"MemLayout({', '.join(parts)})"


def _overlapping(dims: Sequence[int], strides: Sequence[int]) -> bool:
    """True when two distinct indices of ``dims`` address one element under ``strides``.

    Dimensions of extent <= 1 take a single index and cannot alias; the others, walked from
    the smallest stride up, must each step past everything the smaller ones span.
    """
    if any(n == 0 for n in dims):
        return False
    span = 1
    for s, n in sorted((s, n) for n, s in zip(dims, strides, strict=True) if n > 1):
        if s < span:
            return True
        span = s * n
    return False


def _array_strides(arr: np.ndarray) -> tuple[int, ...] | None:
    """The array's strides in elements, or None when a byte stride is not a whole element."""
    size = arr.itemsize
    if any(b % size for b in arr.strides):
        return None
    return tuple(b // size for b in arr.strides)


def array_mem_mismatch(arr: np.ndarray, mem: MemLayout) -> str | None:
    """None when ``arr`` is laid out as ``mem`` says, else what differs (for a message).

    Explicit strides must equal the array's strides divided by its item size (ignoring
    dimensions of extent <= 1, whose stride addresses nothing); an order-only layout requires
    C-contiguity (row_major) or Fortran-contiguity (col_major).
    """
    actual = _array_strides(arr)
    shown = "a byte stride that is not a whole element" if actual is None else f"{actual}"
    if mem.strides is None:
        ok = arr.flags.c_contiguous if mem.order == "row_major" else arr.flags.f_contiguous
        if ok:
            return None
        want = mem.element_strides(arr.shape)
        return f"expected strides {want} ({mem.order}), actual strides {shown}"
    if len(mem.strides) != arr.ndim:
        return f"{len(mem.strides)} strides for an array of rank {arr.ndim}"
    if actual is not None and all(
        n <= 1 or a == m for n, a, m in zip(arr.shape, actual, mem.strides, strict=True)
    ):
        return None
    return f"expected strides {mem.strides}, actual strides {shown}"


def check_array_mem(arr: np.ndarray, mem: MemLayout, label: str) -> None:
    """``TypeCheckError`` at the user's line when ``arr`` is not laid out as ``mem`` says.

    A ``Tensor`` wraps the user's array without copying, so it cannot silently re-lay it out:
    the message names the fix (an array in that order, or ``relayout`` to convert).
    """
    problem = array_mem_mismatch(arr, mem)
    if problem is None:
        return
    order = _order_of(arr)
    if mem.order == "col_major":
        fix = "pass np.asfortranarray(...)"
    elif mem.order == "row_major":
        fix = "pass np.ascontiguousarray(...)"
    else:
        fix = "pass mem.arrange(array)"
    raise TypeCheckError(
        f"{label}: the layout says {mem!r} but the array is {order}: {problem}; a Tensor wraps "
        f"the array without copying, so {fix} or use relayout(x, to=...) to convert",
        loc=user_location(),
    )


def _order_of(arr: np.ndarray) -> str:
    if arr.flags.c_contiguous:
        return "row-major (C order)"
    if arr.flags.f_contiguous:
        return "column-major (Fortran order)"
    return "not contiguous"


# ------------------------------------------------------------------------------------------------
# TensorLayout
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorLayout:
    """Per-dimension distribution plus an optional memory layout (spec §2.3)."""

    dist: tuple[DistElem, ...]
    mem: MemLayout | None = None

    def __post_init__(self) -> None:
        if not _is_seq(self.dist):
            raise TypeCheckError(
                f"TensorLayout dist must be a tuple of TensorReplicate()/TensorShard(i), "
                f"got {self.dist!r}",
                loc=user_location(),
            )
        dist = tuple(self.dist)
        for i, d in enumerate(dist):
            if not isinstance(d, TensorReplicate | TensorShard):
                raise TypeCheckError(
                    f"TensorLayout dist[{i}] must be TensorReplicate() or TensorShard(i), "
                    f"got {d!r}",
                    loc=user_location(),
                )
        _check_mesh_axes_unique(dist)
        if self.mem is not None:
            if not isinstance(self.mem, MemLayout):
                raise TypeCheckError(
                    f"TensorLayout mem must be a MemLayout or None, got {self.mem!r}",
                    loc=user_location(),
                )
            if self.mem.rank is not None and self.mem.rank != len(dist):
                raise TypeCheckError(
                    f"TensorLayout of rank {len(dist)} has a MemLayout with "
                    f"{self.mem.rank} strides",
                    loc=user_location(),
                )
        object.__setattr__(self, "dist", dist)

    @property
    def rank(self) -> int:
        return len(self.dist)

    @property
    def is_replicated(self) -> bool:
        """True when no dimension is sharded."""
        return all(isinstance(d, TensorReplicate) for d in self.dist)

    @classmethod
    def default(cls, rank: int, *, mem: MemLayout | None = None) -> TensorLayout:
        """All dimensions replicated, with the memory layout ``mem`` (None: unspecified)."""
        rank = _check_rank(rank)
        return cls(tuple(TensorReplicate() for _ in range(rank)), mem)

    @classmethod
    def sharded(
        cls, dim: int, rank: int, mesh_axis: int = 0, *, mem: MemLayout | None = None
    ) -> TensorLayout:
        """Dimension ``dim`` sharded on ``mesh_axis``; every other dimension replicated."""
        rank = _check_rank(rank)
        if not _is_int(dim) or not -rank <= dim < rank:
            raise TypeCheckError(
                f"TensorLayout.sharded: dim {dim!r} is out of range for rank {rank}",
                loc=user_location(),
            )
        dim = int(dim) % rank
        shard = TensorShard(mesh_axis)
        return cls(tuple(shard if i == dim else TensorReplicate() for i in range(rank)), mem)

    def with_dim(self, dim: int, elem: DistElem) -> TensorLayout:
        """This layout with dimension ``dim``'s distribution replaced."""
        dist = list(self.dist)
        dist[dim] = elem
        return TensorLayout(tuple(dist), self.mem)

    def select_dims(self, dims: Sequence[int]) -> TensorLayout:
        """The layout of a view that keeps only ``dims`` of this tensor, in order.

        Only the distribution facet carries over: a view's memory is described by its root's
        memory layout together with the view's index items, not by a layout of its own.
        """
        return TensorLayout(tuple(self.dist[d] for d in dims))

    def to_ir_dist(self) -> list[int]:
        """The ``ir.Layout`` encoding: -1 = replicated, k >= 0 = sharded on mesh axis k."""
        return [-1 if isinstance(d, TensorReplicate) else d.mesh_axis for d in self.dist]

    def __repr__(self) -> str:
        dist = " × ".join(repr(d) for d in self.dist) or "scalar"
        if self.mem is None:
            return f"TensorLayout({dist})"
        return f"TensorLayout({dist}, mem={self.mem!r})"


def _dist_conflict(a: TensorLayout, b: TensorLayout) -> tuple[int, DistElem, DistElem] | None:
    """The first dimension (with both elements) that is S(i) in ``a`` and S(j != i) in ``b``:
    the per-dimension join rule, shared by ``tensor_layout_join`` and the kernel-call check."""
    for i, (x, y) in enumerate(zip(a.dist, b.dist, strict=True)):
        if isinstance(x, TensorShard) and isinstance(y, TensorShard) and x != y:
            return i, x, y
    return None


def tensor_layout_join(a: TensorLayout, b: TensorLayout) -> TensorLayout:
    """Join two layouts for an elementwise use (Dato rules).

    R ⊔ R = R, R ⊔ S(i) = S(i), S(i) ⊔ S(i) = S(i), S(i) ⊔ S(j) (i != j) is a type error:
    the user must ``relayout`` one side explicitly. Memory layouts must agree when both are given.
    """
    for side, x in (("first", a), ("second", b)):
        if not isinstance(x, TensorLayout):
            raise TypeCheckError(
                f"tensor_layout_join: the {side} argument must be a TensorLayout, got {x!r}",
                loc=user_location(),
            )
    if a.rank != b.rank:
        raise TypeCheckError(
            f"cannot join layouts of different rank: {a!r} (rank {a.rank}) and "
            f"{b!r} (rank {b.rank})",
            loc=user_location(),
        )
    conflict = _dist_conflict(a, b)
    if conflict is not None:
        i, da, db = conflict
        raise TypeCheckError(
            f"incompatible layouts in dimension {i}: {da!r} vs {db!r} "
            f"({a!r} ⊔ {b!r}); insert an explicit relayout(x, to=...)",
            loc=user_location(),
        )
    dist = [y if isinstance(x, TensorReplicate) else x for x, y in zip(a.dist, b.dist, strict=True)]
    if a.mem is not None and b.mem is not None and a.mem != b.mem:
        raise TypeCheckError(
            f"incompatible memory layouts {a.mem!r} vs {b.mem!r}; "
            "insert an explicit relayout(x, to=...)",
            loc=user_location(),
        )
    mem = a.mem if a.mem is not None else b.mem
    try:
        return TensorLayout(tuple(dist), mem)
    except TypeCheckError as err:
        raise TypeCheckError(
            f"cannot join {a!r} and {b!r}: {err.message}", loc=user_location()
        ) from None


# ------------------------------------------------------------------------------------------------
# The recorded node of a collective (the functions that record it: collectives.py)
# ------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class CollectiveOp:
    """A recorded layout change or collective inside a workload body.

    ``kind`` is ``relayout``, ``allreduce``, ``allgather`` or ``reduce_scatter``; ``source`` is
    the tensor the user passed, ``result`` the tensor returned (a new root tensor with its own
    buffer, filled when the program runs); ``layout`` is the result's layout. ``op`` is the
    reduction for allreduce/reduce_scatter and ``dim`` the gathered/scattered dimension, both
    None where they do not apply. For reduce_scatter, ``mesh_axis`` is the scatter axis,
    ``partial_dim`` the dimension of the source that holds the partials and ``mesh_size`` the
    number of coordinates the call assumed for ``mesh_axis`` (checked against the mesh at compile).
    """

    kind: str
    source: Any
    result: Any
    layout: TensorLayout
    op: str | None = None
    dim: int | None = None
    loc: SourceLoc | None = None
    mesh_axis: int | None = None
    partial_dim: int | None = None
    mesh_size: int | None = None


def check_call_layouts(args: Mapping[str, Any], what: str, loc: SourceLoc | None) -> None:
    """The join rule at a kernel call: no dimension may be S(i) in one argument and S(j) in another.

    A kernel sees the tensors it is given on the same mesh tile, so two arguments of the same
    rank whose dimension ``k`` is sharded over different mesh axes can never be co-located:
    ``TypeCheckError`` at the call, naming both arguments. Only the per-dimension rule of
    ``tensor_layout_join`` applies here: arguments of a matmul may legitimately shard different
    dimensions over the same mesh axis (X on K, W on K).
    """
    seen: list[tuple[str, TensorLayout]] = []
    for name, value in args.items():
        layout = getattr(value, "layout", None)
        if not isinstance(layout, TensorLayout) or not hasattr(value, "dtype"):
            continue
        for other, olayout in seen:
            conflict = _dist_conflict(olayout, layout) if olayout.rank == layout.rank else None
            if conflict is not None:
                k, a, b = conflict
                raise TypeCheckError(
                    f"{what}: arguments {other} ({olayout!r}) and {name} ({layout!r}) have "
                    f"incompatible layouts in dimension {k}: {a!r} vs {b!r}; insert an "
                    "explicit relayout(x, to=...)",
                    loc=loc,
                )
        seen.append((name, layout))


def _check_mesh_axes_unique(dist: Iterable[DistElem]) -> None:
    seen: dict[int, int] = {}
    for i, d in enumerate(dist):
        if isinstance(d, TensorShard):
            if d.mesh_axis in seen:
                raise TypeCheckError(
                    f"mesh axis {d.mesh_axis} shards both dimension {seen[d.mesh_axis]} and "
                    f"dimension {i}; a mesh axis can shard at most one dimension",
                    loc=user_location(),
                )
            seen[d.mesh_axis] = i


def _check_rank(rank: Any) -> int:
    if not _is_int(rank) or rank < 0:
        raise TypeCheckError(f"rank must be an int >= 0, got {rank!r}", loc=user_location())
    return int(rank)


def _check_shape(shape: Any, what: str) -> tuple[int, ...]:
    if not _is_seq(shape) or not all(_is_int(n) and n >= 0 for n in shape):
        raise TypeCheckError(
            f"{what}: shape must be a sequence of ints >= 0, got {shape!r}", loc=user_location()
        )
    return tuple(int(n) for n in shape)


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool | np.bool_)


def _is_seq(x: Any) -> bool:
    return isinstance(x, tuple | list)


__all__ = [
    "TensorReplicate",
    "TensorShard",
    "MemLayout",
    "TensorLayout",
    "tensor_layout_join",
    "CollectiveOp",
    "check_call_layouts",
    "check_array_mem",
    "array_mem_mismatch",
    "Shard",
    "Replicate",
]
