"""Tensor layouts as a type refinement, and the explicit collectives (spec §2.3).

A ``TensorLayout`` is (distribution per dimension) x (optional memory layout). Distribution
elements are ``TensorReplicate()`` (R) or ``TensorShard(mesh_axis)`` (S(i)). Layouts only change
through explicit operations (``relayout``, ``allreduce``, ``allgather``, ``reduce_scatter``), so a
mismatch is a type error at trace time instead of a silent redistribution at run time (the Dato
rules). Inside a ``@workload`` body each of those operations records a ``CollectiveOp`` node.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _builder
from .errors import SourceLoc, TypeCheckError, user_location

if TYPE_CHECKING:
    from .tensor import Tensor

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

    def __repr__(self) -> str:
        parts = []
        if self.order is not None:
            parts.append(self.order)
        if self.strides is not None:
            parts.append(f"strides={self.strides}")
        if self.swizzle is not None:
            parts.append(f"swizzle={self.swizzle!r}")
        return f"MemLayout({', '.join(parts)})"


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
    def default(cls, rank: int) -> TensorLayout:
        """All dimensions replicated, no memory layout."""
        rank = _check_rank(rank)
        return cls(tuple(TensorReplicate() for _ in range(rank)))

    @classmethod
    def sharded(cls, dim: int, rank: int, mesh_axis: int = 0) -> TensorLayout:
        """Dimension ``dim`` sharded on ``mesh_axis``; every other dimension replicated."""
        rank = _check_rank(rank)
        if not _is_int(dim) or not -rank <= dim < rank:
            raise TypeCheckError(
                f"TensorLayout.sharded: dim {dim!r} is out of range for rank {rank}",
                loc=user_location(),
            )
        dim = int(dim) % rank
        shard = TensorShard(mesh_axis)
        return cls(tuple(shard if i == dim else TensorReplicate() for i in range(rank)))

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
    dist: list[DistElem] = []
    for i, (x, y) in enumerate(zip(a.dist, b.dist, strict=True)):
        if isinstance(x, TensorReplicate):
            dist.append(y)
        elif isinstance(y, TensorReplicate) or x == y:
            dist.append(x)
        else:
            raise TypeCheckError(
                f"incompatible layouts in dimension {i}: {x!r} vs {y!r} "
                f"({a!r} ⊔ {b!r}); insert an explicit relayout(x, to=...)",
                loc=user_location(),
            )
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
# Collectives
# ------------------------------------------------------------------------------------------------

REDUCE_OPS = ("sum", "prod", "max", "min")


@dataclass(eq=False)
class CollectiveOp:
    """A recorded layout change or collective inside a workload body.

    ``kind`` is ``relayout``, ``allreduce``, ``allgather`` or ``reduce_scatter``; ``source`` is
    the tensor the user passed, ``result`` the tensor returned (same memory, new layout);
    ``op`` is the reduction for allreduce/reduce_scatter and ``dim`` the gathered/scattered
    dimension, both None where they do not apply.
    """

    kind: str
    source: Any
    result: Any
    layout: TensorLayout
    op: str | None = None
    dim: int | None = None
    loc: SourceLoc | None = None


def relayout(x: Tensor, to: TensorLayout) -> Tensor:
    """``x`` with layout ``to``: an explicit redistribution (same shape, same data)."""
    src = _check_tensor(x, "relayout")
    if not isinstance(to, TensorLayout):
        raise TypeCheckError(
            f"relayout(x, to=...) needs a TensorLayout, got {to!r}", loc=user_location()
        )
    if to.rank != src.ndim:
        raise TypeCheckError(
            f"relayout: layout {to!r} has rank {to.rank} but the tensor has rank {src.ndim}",
            loc=user_location(),
        )
    return _emit("relayout", src, to, None, None)


def allreduce(x: Tensor, op: str = "sum") -> Tensor:
    """Combine the partial values every mesh coordinate holds; the layout is unchanged."""
    src = _check_tensor(x, "allreduce")
    op = _check_op(op, "allreduce")
    return _emit("allreduce", src, src.layout, op, None)


def allgather(x: Tensor, dim: int = 0) -> Tensor:
    """Gather a sharded dimension so every mesh coordinate holds all of it: S(i) -> R."""
    src = _check_tensor(x, "allgather")
    d = _check_dim(dim, src.ndim, "allgather")
    if not isinstance(src.layout.dist[d], TensorShard):
        raise TypeCheckError(
            f"allgather(dim={dim}): dimension {d} of {_label(src)} is not sharded "
            f"(layout {src.layout!r}); there is nothing to gather",
            loc=user_location(),
        )
    return _emit("allgather", src, src.layout.with_dim(d, TensorReplicate()), None, d)


def reduce_scatter(x: Tensor, dim: int = 0, op: str = "sum", mesh_axis: int = 0) -> Tensor:
    """Reduce partial values and leave each mesh coordinate one shard: R -> S(mesh_axis)."""
    src = _check_tensor(x, "reduce_scatter")
    d = _check_dim(dim, src.ndim, "reduce_scatter")
    op = _check_op(op, "reduce_scatter")
    if not isinstance(src.layout.dist[d], TensorReplicate):
        raise TypeCheckError(
            f"reduce_scatter(dim={dim}): dimension {d} of {_label(src)} is already sharded "
            f"(layout {src.layout!r})",
            loc=user_location(),
        )
    shard = TensorShard(mesh_axis)
    try:
        new = src.layout.with_dim(d, shard)
    except TypeCheckError:
        raise TypeCheckError(
            f"reduce_scatter: mesh axis {shard.mesh_axis} already shards another dimension of "
            f"{_label(src)} (layout {src.layout!r})",
            loc=user_location(),
        ) from None
    return _emit("reduce_scatter", src, new, op, d)


def _emit(kind: str, src: Tensor, layout: TensorLayout, op: str | None, dim: int | None) -> Tensor:
    from .tensor import Tensor

    result = Tensor(src.data, location=src.location, layout=layout)
    if _builder.current() is not None:
        _builder.record(CollectiveOp(kind, src, result, layout, op, dim, user_location()), kind)
    return result


def _check_tensor(x: Any, what: str) -> Tensor:
    from .tensor import Tensor, TensorView

    if isinstance(x, Tensor):
        return x
    if isinstance(x, TensorView):
        raise TypeCheckError(
            f"{what} applies to a whole tensor (or a constant slice of one), not to the "
            f"symbolic view {x!r}",
            loc=user_location(),
        )
    raise TypeCheckError(f"{what} needs a Tensor, got {type(x).__name__}", loc=user_location())


def _check_op(op: Any, what: str) -> str:
    if op not in REDUCE_OPS:
        raise TypeCheckError(
            f"{what}: unknown reduction op {op!r}; valid ops: {', '.join(REDUCE_OPS)}",
            loc=user_location(),
        )
    return op


def _check_dim(dim: Any, rank: int, what: str) -> int:
    if not _is_int(dim) or not -rank <= dim < rank:
        raise TypeCheckError(
            f"{what}: dim {dim!r} is out of range for a tensor of rank {rank}",
            loc=user_location(),
        )
    return int(dim) % rank


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


def _label(t: Any) -> str:
    name = getattr(t, "name", None)
    return f"tensor '{name}'" if name else "the tensor"


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
    "relayout",
    "allreduce",
    "allgather",
    "reduce_scatter",
    "REDUCE_OPS",
    "Shard",
    "Replicate",
]
