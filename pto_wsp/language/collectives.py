"""The explicit collectives (spec §2.3): relayout, allreduce, allgather, reduce_scatter.

Each checks its source tensor's layout (``layout``), computes the result's layout and shape,
and returns a new tensor: inside a workload body the call is recorded as a
``layout.CollectiveOp`` and the program fills the result when it runs; outside one it is
evaluated eagerly on the single-coordinate mesh. Layouts are a refinement of the tensor type
(``layout`` knows no tensors); the collectives make tensors, so they sit above both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TypeCheckError, user_location
from . import _builder
from .layout import (
    CollectiveOp,
    MemLayout,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    _is_int,
)
from .tensor import Tensor, TensorView

__all__ = ["REDUCE_OPS", "allgather", "allreduce", "reduce_scatter", "relayout"]

REDUCE_OPS = ("sum", "prod", "max", "min")

_NP_REDUCE = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}


def relayout(x: Tensor, to: TensorLayout) -> Tensor:
    """``x`` redistributed to layout ``to``: same values, a new tensor with its own buffer."""
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
    return _emit(CollectiveOp("relayout", src, None, to), src.shape)


def allreduce(x: Tensor, op: str = "sum") -> Tensor:
    """Combine the partial values the mesh coordinates hold; the layout is unchanged.

    Along every mesh axis that shards a dimension of ``x``, each block of that dimension becomes
    ``op`` over all of its blocks (JAX ``psum`` in the global view).
    """
    src = _check_tensor(x, "allreduce")
    op = _check_op(op, "allreduce")
    if src.layout.is_replicated and _builder.current() is not None:
        raise TypeCheckError(
            f"allreduce: {_label(src)} is fully replicated (layout {src.layout!r}), so it holds "
            "no partial values: shard the dimension that holds the partials",
            loc=user_location(),
        )
    return _emit(CollectiveOp("allreduce", src, None, src.layout, op=op), src.shape)


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
    layout = src.layout.with_dim(d, TensorReplicate())
    return _emit(CollectiveOp("allgather", src, None, layout, dim=d), src.shape)


def reduce_scatter(
    x: Tensor,
    dim: int = 0,
    op: str = "sum",
    mesh_axis: int = 0,
    *,
    mesh_size: int | None = None,
) -> Tensor:
    """Combine the partials of ``x`` and leave each coordinate of ``mesh_axis`` one block of them.

    ``x`` holds its partials in the dimension ``s`` sharded over ``mesh_axis``: the ``m`` blocks
    along ``s`` are folded with ``op`` into V (the shape of one block), and V is scattered along
    ``dim`` (replicated in ``x``) over ``mesh_axis``. The result is V: dimension ``s`` has extent
    ``D_s / m`` and becomes replicated, ``dim`` becomes ``TensorShard(mesh_axis)``.

    The result's shape depends on ``m``, the number of coordinates of ``mesh_axis``, which the
    mesh (``spatial_map``) fixes only at compile, after the workload body was traced: inside a
    ``@workload`` body ``mesh_size=m`` is required, and compile checks it against the mesh.
    Outside a workload body it defaults to 1 (the single-coordinate mesh of eager evaluation).
    """
    src = _check_tensor(x, "reduce_scatter")
    d = _check_dim(dim, src.ndim, "reduce_scatter")
    op = _check_op(op, "reduce_scatter")
    axis = TensorShard(mesh_axis).mesh_axis
    inside = _builder.current() is not None
    if mesh_size is None and inside:
        raise TypeCheckError(
            f"reduce_scatter(mesh_axis={axis}) inside a workload needs mesh_size=<coordinates of "
            f"mesh axis {axis}>: the result's extent is the partial dimension's divided by it, "
            "and the mesh (spatial_map) is only known at compile, which checks the value",
            loc=user_location(),
        )
    m = 1 if mesh_size is None else mesh_size
    if not _is_int(m) or m < 1:
        raise TypeCheckError(
            f"reduce_scatter: mesh_size must be an int >= 1, got {mesh_size!r}",
            loc=user_location(),
        )
    m = int(m)
    s = next(
        (i for i, e in enumerate(src.layout.dist) if e == TensorShard(axis)),
        None,
    )
    if s is None and (inside or m > 1):
        raise TypeCheckError(
            f"reduce_scatter(mesh_axis={axis}): {_label(src)} (layout {src.layout!r}) has no "
            f"dimension sharded on mesh axis {axis}, so it holds no partial values: shard the "
            "dimension that holds the partials",
            loc=user_location(),
        )
    if s == d or not isinstance(src.layout.dist[d], TensorReplicate):
        raise TypeCheckError(
            f"reduce_scatter(dim={dim}): dimension {d} of {_label(src)} is already sharded "
            f"(layout {src.layout!r}); scatter over a replicated dimension",
            loc=user_location(),
        )
    shape = list(src.shape)
    if s is not None:
        _check_divisible(src, s, shape[s], m, axis)
        shape[s] //= m
    if shape[d] % m:
        raise TypeCheckError(
            f"reduce_scatter(dim={dim}): the reduced value has extent {shape[d]} in dimension "
            f"{d}, not divisible by the {m} coordinates of mesh axis {axis}",
            loc=user_location(),
        )
    layout = src.layout
    if s is not None:
        layout = layout.with_dim(s, TensorReplicate())
    layout = layout.with_dim(d, TensorShard(axis))
    if layout.mem is not None and tuple(shape) != src.shape:
        layout = TensorLayout(layout.dist, layout.mem.for_shape(shape))
    node = CollectiveOp(
        "reduce_scatter",
        src,
        None,
        layout,
        op=op,
        dim=d,
        mesh_axis=axis,
        partial_dim=s,
        mesh_size=m,
    )
    return _emit(node, tuple(shape))


def _emit(node: CollectiveOp, shape: tuple[int, ...]) -> Tensor:
    """The result tensor of ``node``; inside a workload also records ``node``.

    Inside a workload the result gets a zeroed buffer that the program fills when it runs;
    outside one the collective is evaluated eagerly on the single-coordinate mesh.
    """
    src = node.source
    base = src.name if src.name and src.is_root else None
    name = f"{base}_{node.kind}" if base else node.kind
    data = _allocate(shape, src.data.dtype, node.layout.mem)
    if _builder.current() is not None:
        node.result = Tensor(data, location=src.location, layout=node.layout, name=name)
        node.loc = user_location()
        _builder.record(node, node.kind)
    else:
        data[...] = _eager(node)
        node.result = Tensor(data, location=src.location, layout=node.layout, name=name)
    return node.result


def _allocate(shape: tuple[int, ...], dtype: Any, mem: MemLayout | None) -> np.ndarray:
    """A zeroed result buffer laid out as the result layout's memory facet says (C order when
    it has none); the runtime copies and folds through the buffer's real strides."""
    if mem is None:
        return np.zeros(shape, dtype=dtype)
    return mem.allocate(shape, dtype)


def _eager(node: CollectiveOp) -> np.ndarray:
    """Values of ``node`` on the single-coordinate mesh outside a workload.

    Every mesh axis has one coordinate, so relayout, allgather and allreduce keep the values;
    reduce_scatter folds the ``mesh_size`` blocks of its partial dimension.
    """
    x = node.source.data
    dim, m = node.partial_dim, node.mesh_size
    if node.kind != "reduce_scatter" or dim is None or m is None or m == 1:
        return x
    blocks = np.split(x, m, axis=dim)
    acc = blocks[0].copy()
    for b in blocks[1:]:
        acc = _NP_REDUCE[node.op or "sum"](acc, b).astype(x.dtype, copy=False)
    return acc


def _check_divisible(src: Any, dim: int, extent: int, m: int, axis: int) -> None:
    if extent % m:
        raise TypeCheckError(
            f"{_label(src)}: dimension {dim} has extent {extent}, not divisible by the {m} "
            f"coordinates of mesh axis {axis}",
            loc=user_location(),
        )


def _check_tensor(x: Any, what: str) -> Tensor:
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


def _label(t: Any) -> str:
    name = getattr(t, "name", None)
    return f"tensor '{name}'" if name else "the tensor"
