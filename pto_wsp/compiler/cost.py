"""The cpu_sim cost table: how many simulated cycles a task costs (DESIGN.md §2).

Default model, for an ``r x c`` tile (one cycle is ``ns_per_cycle`` = 1 ns of simulated time):

======================================================  =====================================
op class                                                cycles
======================================================  =====================================
load / store (incl. the implicit load of an ``In``       ``load`` / ``store`` x r*c
tile parameter used without ``pto.load``)
elementwise unary/binary, broadcast ops, constant,      ``elementwise`` x r*c (of the result)
slices, alloc
row reduction (rowsum / rowmax; rowmean)                ``row_reduce`` x r (``rowmean`` x r)
column reduction (colsum / colmax)                      ``col_reduce`` x c
matmul (M x K) @ (K x N)                                ``matmul`` x M*K*N
empty-body kernel                                       ``load`` x elements of each In view +
                                                        ``store`` x elements of each Out view
custom C++ kernel                                       as empty-body
any kernel with ``cost=`` (traced, empty or C++)        its ``cost=``
collective (one gang task on every mesh tile;           ring algorithms with ``hop`` (default
allreduce, allgather, reduce_scatter, relayout)         16) per hop and ``link`` (default 1.0)
                                                        per element per step: the table in
                                                        collective_cost.py
======================================================  =====================================

Every rate defaults to 1.0 except ``rowmean`` (2.0). ``issue`` (default 0.0) is not a task cost
but the dispatcher's: the cycles it spends issuing one task (docs/semantics.md, "Task-graph
policies"). ``ops`` overrides the rate of single ops by
name (``{"exp": 4.0}``: exp costs 4 x r*c). A table is a dict or a JSON file with these keys;
unknown keys are an error (a typo must not silently keep the default).

The generated library receives the per-kernel cycles and the load/store rates at RUN time, so a
new table needs no rebuild (``program.runner.set_cost_table(...)``, or the env variable
``PTO_WSP_COST_TABLE`` naming a JSON file, read when a program is compiled).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .._native import ir as _ir
from ..errors import CompileError, SourceLoc, user_location
from ..language import op_table
from .collective_cost import collective_cycles

__all__ = ["CostTable", "kernel_cycles", "collective_cycles", "DEFAULT_COST_TABLE"]


@dataclass(frozen=True)
class CostTable:
    """Cycle rates of the cpu_sim cycle model (see the module docstring)."""

    ns_per_cycle: float = 1.0
    load: float = 1.0
    store: float = 1.0
    elementwise: float = 1.0
    row_reduce: float = 1.0
    rowmean: float = 2.0
    col_reduce: float = 1.0
    matmul: float = 1.0
    # Cycles the dispatcher spends issuing one task (the issue clock advances by this much per
    # task; docs/semantics.md, "Task-graph policies"). A run-time input like the rates.
    issue: float = 0.0
    # Mesh data movement (spatial_map): cycles per hop of Manhattan distance between two tiles.
    hop: float = 16.0
    # Collectives: cycles per element per link step of a ring algorithm (collective_cycles).
    link: float = 1.0
    ops: Mapping[str, float] = field(default_factory=dict)

    @staticmethod
    def from_any(spec: Any) -> CostTable:
        """A table from ``None`` (default), a ``CostTable``, a dict or a JSON file path."""
        if spec is None:
            return DEFAULT_COST_TABLE
        if isinstance(spec, CostTable):
            return spec
        if isinstance(spec, str | os.PathLike):
            path = Path(spec)
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as err:
                raise CompileError(
                    f"cannot read cost table {path}: {err}", loc=user_location()
                ) from None
            return CostTable.from_dict(data, str(path))
        if isinstance(spec, Mapping):
            return CostTable.from_dict(spec, "cost table")
        raise CompileError(
            f"a cost table is a dict, a JSON file path or a CostTable, got {type(spec).__name__}",
            loc=user_location(),
        )

    @staticmethod
    def from_dict(data: Mapping[str, Any], what: str = "cost table") -> CostTable:
        if not isinstance(data, Mapping):
            raise CompileError(f"{what} must be a JSON object / dict", loc=user_location())
        names = {f.name for f in fields(CostTable)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise CompileError(
                f"{what}: unknown key(s) {', '.join(unknown)}; valid keys: "
                f"{', '.join(sorted(names))}",
                loc=user_location(),
            )
        values: dict[str, Any] = {}
        for k, v in data.items():
            if k == "ops":
                if not isinstance(v, Mapping):
                    raise CompileError(f"{what}: 'ops' must map op names to rates")
                values[k] = {str(op): _rate(f"ops.{op}", r, what) for op, r in v.items()}
            else:
                values[k] = _rate(k, v, what)
        if values.get("ns_per_cycle", 1.0) <= 0:
            raise CompileError(f"{what}: ns_per_cycle must be > 0", loc=user_location())
        return CostTable(**values)

    def rate(self, op: str, default: float) -> float:
        return float(self.ops.get(op, default))


def _rate(key: str, v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise CompileError(
            f"{what}: {key} must be a finite number >= 0, got {v!r}", loc=user_location()
        )
    return float(v)


DEFAULT_COST_TABLE = CostTable()


def _rc(shape: list[int]) -> tuple[int, int]:
    """(rows, cols) of a tile by the one tile rank rule (cpp_backend/ir/tile.h): leading 1s are
    dropped, nothing is flattened. ``_traced_cycles`` checks the kernel's tiles first."""
    dims = _ir.tile_dims(shape)
    assert dims is not None, shape
    return int(dims[0]), int(dims[1])


def _check_tiles(k: Any) -> None:
    """A rank > 2 tile is the error the verifier and both emitters give, in the same words."""
    problems = k.tile_problems()
    if problems:
        bad = problems[0]
        file, _, line = bad.loc.rpartition(":")
        loc = SourceLoc(file, int(line)) if file and line.isdigit() else user_location()
        raise CompileError(f"cost model: {bad.message}", loc=loc)


def _op_cycles(cls: str, rate: float, shape: list[int], operand_shapes: list[list[int]]) -> float:
    """Cycles of one op of cost class ``cls`` (``op_table.COST_CLASSES``; see the module doc)."""
    if cls == "store":  # elements of the destination
        r, c = _rc(operand_shapes[0])
        return rate * r * c
    if cls in ("row_reduce", "rowmean"):
        return rate * _rc(shape)[0]
    if cls == "col_reduce":
        return rate * _rc(shape)[1]
    if cls == "matmul":
        m, n = _rc(shape)
        return rate * m * _rc(operand_shapes[0])[1] * n
    r, c = _rc(shape)  # load, elementwise: elements of the result
    return rate * r * c


def _traced_cycles(k: Any, table: CostTable) -> int:
    _check_tiles(k)
    params = list(k.params)
    shapes: list[list[int]] = [list(p.shape) for p in params]
    total = 0.0
    for op in k.ops:
        name = op.op
        shape = list(op.shape)
        shapes.append(shape)
        spec = op_table.BY_NAME.get(name)
        if spec is None:  # a ptoisa.<name> op the table does not know: elementwise
            total += table.rate(name, table.elementwise) * math.prod(_rc(shape))
            continue
        rate = table.rate(name, getattr(table, spec.cost))
        total += _op_cycles(spec.cost, rate, shape, [shapes[i] for i in op.operands])
    return int(round(total))


def kernel_cycles(module: Any, table: CostTable) -> list[int]:
    """Cycles of one task of each module kernel (by IR kernel id); -1 = from the task's views.

    Followed by the cycles of each collective (its gang task), in the order of the pseudo-kernel
    ids the generated library uses for them.
    """
    out: list[int] = []
    for k in module.kernels:
        if k.cost >= 0:  # ``cost=`` overrides the model for every body kind
            out.append(int(k.cost))
        elif k.body_kind == "traced":
            out.append(_traced_cycles(k, table))
        else:
            out.append(-1)
    # Collectives are pseudo-kernels after the module's kernels (collective_cost.py).
    out.extend(collective_cycles(module, table))
    return out
