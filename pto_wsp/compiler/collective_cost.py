"""Cycles of the layout collectives in the cpu_sim cycle model (docs/semantics.md, "Layouts and
collectives").

A collective runs as one gang task on every tile of the mesh (``spatial_map``); its cost models
ring algorithms over each group of ``m`` tiles along a mesh axis. With ``B`` the elements of one
local block of the source (its global shape with every sharded extent divided by the
coordinates of its mesh axis), ``h`` = cost-table ``hop``, ``l`` = ``link`` and ``e`` the
elementwise rate of the reduction (``ops`` override for add / mul / maximum / minimum, else
``elementwise``):

=================  ===========================================================================
allreduce          per mesh axis sharding a dimension: 2(m-1) * (h + l*ceil(B/m))
                   + e * (m-1) * ceil(B/m); axes in sequence (summed)
allgather          (m-1) * (h + l*B), m = coordinates of the gathered dimension's axis
reduce_scatter     (m-1) * (h + l*ceil(B/m) + e*ceil(B/m)), m = coordinates of ``mesh_axis``
relayout           max over tiles of (h * max hops to a source tile + l * elements received);
                   0 when no tile receives anything
=================  ===========================================================================

The cycles are computed per collective node from the IR module and passed to the generated
library with the kernel costs (ids after the module's kernels, in pre-order of the workload
tree, the order codegen/cpu_sim_collective.cpp numbers them), so a new table needs no rebuild.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

__all__ = ["CollectiveRates", "collective_cycles", "collective_nodes"]


class CollectiveRates(Protocol):
    """The cost-table rates a collective's cycles use (``cost.CostTable`` has them).

    A protocol rather than ``CostTable`` itself: ``cost`` adds these cycles to the kernels', so it
    imports this module, and this module naming ``cost`` back would be an import cycle.
    """

    @property
    def hop(self) -> float: ...

    @property
    def link(self) -> float: ...

    @property
    def elementwise(self) -> float: ...

    def rate(self, op: str, default: float) -> float: ...


# The kernel op whose cost-table rate a reduction uses.
_REDUCE_RATE_OP = {"sum": "add", "prod": "mul", "max": "maximum", "min": "minimum"}


def collective_nodes(module: Any) -> list[Any]:
    """The collective nodes of ``module`` in pre-order (their pseudo-kernel order)."""
    out: list[Any] = []

    def walk(n: Any) -> None:
        if n.kind == "collective":
            out.append(n)
        for c in n.nested():
            if c is not None:
                walk(c)

    if module.workload is not None:
        walk(module.workload)
    return out


def collective_cycles(module: Any, table: CollectiveRates) -> list[int]:
    """Cycles of each collective of ``module`` (pre-order); empty without collectives."""
    nodes = collective_nodes(module)
    if not nodes:
        return []
    grid = tuple(int(g) for g in module.schedule.spatial_grid) if module.schedule else ()
    return [_cycles(module, n, grid, table) for n in nodes]


def _cycles(module: Any, n: Any, grid: tuple[int, ...], table: CollectiveRates) -> int:
    shape, src_dist = _source(module, n)
    if not grid:  # codegen rejects a collective without a mesh; nothing to cost here
        return 0
    block = _block_elems(shape, src_dist, grid)
    h, link = float(table.hop), float(table.link)
    op = n.attrs.get("op")
    e = table.rate(_REDUCE_RATE_OP.get(op or "", "add"), table.elementwise)
    total = 0.0
    if n.name == "allreduce":
        for axis in sorted(a for a in src_dist if a >= 0):
            m = grid[axis]
            piece = math.ceil(block / m)
            total += 2 * (m - 1) * (h + link * piece) + e * (m - 1) * piece
    elif n.name == "allgather":
        m = grid[src_dist[int(n.attrs["dim"])]]
        total = (m - 1) * (h + link * block)
    elif n.name == "reduce_scatter":
        m = grid[list(n.dist)[int(n.attrs["dim"])]]
        piece = math.ceil(block / m)
        total = (m - 1) * (h + link * piece + e * piece)
    elif n.name == "relayout":
        total = _relayout_cycles(shape, src_dist, list(n.dist), grid, h, link)
    return int(round(total))


def _source(module: Any, n: Any) -> tuple[list[int], list[int]]:
    """Static shape and distribution of a collective's source view (point indices dropped)."""
    t = module.tensors[n.view.tensor_id]
    dist = list(t.layout.dist) if t.layout is not None else [-1] * len(t.shape)
    indices = list(n.view.indices)
    kept = [d for d in range(len(t.shape)) if d >= len(indices) or indices[d].kind != "point"]
    return [int(s) for s in module.view_shape(n.view)], [int(dist[d]) for d in kept]


def _block_elems(shape: Sequence[int], dist: Sequence[int], grid: Sequence[int]) -> int:
    """Elements of one local block: each sharded extent divided by its axis' coordinates."""
    return math.prod(s // grid[a] if a >= 0 else s for s, a in zip(shape, dist, strict=True))


def _tiles(grid: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Mesh coordinates of workers 0, 1, ... (row-major: worker w is (w // c, w % c))."""
    return itertools.product(*(range(g) for g in grid))


def _local(
    shape: Sequence[int], dist: Sequence[int], grid: Sequence[int], tile: Sequence[int]
) -> list[tuple[int, int]]:
    """Per dimension, the half-open index range tile ``tile`` holds under ``dist``."""
    out: list[tuple[int, int]] = []
    for s, a in zip(shape, dist, strict=True):
        if a < 0:
            out.append((0, s))
        else:
            b = s // grid[a]
            out.append((tile[a] * b, (tile[a] + 1) * b))
    return out


def _relayout_cycles(
    shape: Sequence[int],
    old: Sequence[int],
    new: Sequence[int],
    grid: Sequence[int],
    h: float,
    link: float,
) -> float:
    worst = 0.0
    for tile in _tiles(grid):
        want = _local(shape, new, grid, tile)
        have = _local(shape, old, grid, tile)
        size = math.prod(hi - lo for lo, hi in want)
        common = math.prod(
            max(0, min(w1, h1) - max(w0, h0)) for (w0, w1), (h0, h1) in zip(want, have, strict=True)
        )
        received = size - common
        if received <= 0:
            continue
        # The nearest tile holding an element has its block coordinate on every axis the old
        # layout shards; the farthest received element maximises each axis' distance.
        hops = 0
        for d, a in enumerate(old):
            if a < 0:
                continue
            b = shape[d] // grid[a]
            lo, hi = want[d]
            first, last = lo // b, (hi - 1) // b
            hops += max(abs(tile[a] - first), abs(tile[a] - last))
        worst = max(worst, h * hops + link * received)
    return worst
