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

``CostTable.from_ptoisa("a2a3")`` prices the ops of traced kernels by PTO-ISA's A2/A3 formula
cost model instead (``ptoisa_cost.py``; docs/cost_models.md), at that architecture's clock; what
it has no formula for keeps the rates above, scaled to its clock. The named tables
(``TABLE_NAMES``: the Studio's choices) and their DSL spelling are defined here too.

The generated library receives the per-kernel cycles and the load/store rates at RUN time, so a
new table needs no rebuild (``program.runner.set_cost_table(...)``, or the env variable
``PTO_WSP_COST_TABLE`` naming a JSON file, read when a program is compiled).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import CompileError, SourceLoc, user_location
from ..language import op_table
from .collective_cost import collective_cycles
from .ptoisa_cost import ARCH_LABELS, ARCHS, Fallback, PtoIsaCycles, ptoisa_cycles

__all__ = [
    "CostTable",
    "kernel_cycles",
    "collective_cycles",
    "DEFAULT_COST_TABLE",
    "DEFAULT_TABLE_NAME",
    "TABLE_NAMES",
    "TABLE_LABELS",
    "table_dsl",
    "named_table",
    "op_cycles",
]


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
    # Per-op cycles from another cost model (``from_ptoisa``): ops it prices override the rates
    # above, the others keep them. Not a key of a dict / JSON table.
    model: PtoIsaCycles | None = field(default=None, compare=False, repr=False)

    @staticmethod
    def from_ptoisa(arch: str, root: str | os.PathLike[str] | None = None) -> CostTable:
        """A table whose op cycles come from PTO-ISA's formula cost model for ``arch``
        (``"a2a3"``; ``ptoisa_cost.py`` reimplements the formulas), read from the PTO-ISA
        checkout ``root`` (default ``$PTO_ISA_ROOT``).

        Its clock is the architecture's (1.85 GHz for A2/A3). What has no formula row (other
        ops, dtypes or column counts; empty-body kernels' view transfers; collectives) is priced
        by the default table with every rate scaled to that clock, so it takes the same time as
        under the default table. ``fallbacks()`` lists the ops that did, ``report()`` prints it.
        """
        model = ptoisa_cycles(arch, root)
        scale = DEFAULT_COST_TABLE.ns_per_cycle / model.ns_per_cycle
        rates = {
            f.name: getattr(DEFAULT_COST_TABLE, f.name) * scale
            for f in fields(CostTable)
            if f.name not in ("ns_per_cycle", "ops", "model")
        }
        return CostTable(ns_per_cycle=model.ns_per_cycle, model=model, **rates)

    @property
    def name(self) -> str | None:
        """The name of the named table (``TABLE_NAMES``) this is, None for any other table
        (e.g. the default with one rate changed)."""
        if self.model is None:
            return DEFAULT_TABLE_NAME if self == DEFAULT_COST_TABLE else None
        same = self == CostTable.from_ptoisa(self.model.arch, self.model.root)
        return f"ptoisa_{self.model.arch}" if same else None

    def fallbacks(self) -> tuple[Fallback, ...]:
        """The ops (with dtype and shape) the model had no formula for, so the rates priced
        them; empty for a table without a model."""
        return () if self.model is None else self.model.fallbacks()

    def report(self) -> str:
        """A printable account of where this table's figures come from and what fell back."""
        if self.model is None:
            return "pto_wsp cost table (rates x tile extents; compiler/cost.py)"
        return self.model.report()

    @staticmethod
    def from_any(spec: Any) -> CostTable:
        """A table from ``None`` (default), a ``CostTable``, a dict or a JSON file path."""
        if spec is None:
            return DEFAULT_COST_TABLE
        if isinstance(spec, CostTable):
            return spec
        if isinstance(spec, str | os.PathLike):
            import json  # lazy: only a cost table file needs it

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
        names = {f.name for f in fields(CostTable)} - {"model"}
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

DEFAULT_TABLE_NAME = "pto_wsp"
TABLE_NAMES: tuple[str, ...] = (DEFAULT_TABLE_NAME, *(f"ptoisa_{a}" for a in ARCHS))
"""The named cost tables (the Studio's choices, a sweep's values): the default table and one per
PTO-ISA architecture with a formula model. A table's ``name`` is one of these or None."""
TABLE_LABELS: dict[str, str] = {
    DEFAULT_TABLE_NAME: "pto_wsp (r x c rates)",
    **{f"ptoisa_{a}": f"PTO-ISA {ARCH_LABELS[a]}" for a in ARCHS},
}
"""What the Studio shows for each name."""


def table_dsl(name: str) -> str | None:
    """How a script spells the named table (None: the default, which needs no call)."""
    if name not in TABLE_NAMES:
        raise CompileError(f"unknown cost table {name!r}; valid: {', '.join(TABLE_NAMES)}")
    if name == DEFAULT_TABLE_NAME:
        return None
    return f'CostTable.from_ptoisa("{name.removeprefix("ptoisa_")}")'


def named_table(name: str) -> CostTable:
    """The table ``name`` (one of ``TABLE_NAMES``) stands for."""
    if table_dsl(name) is None:
        return DEFAULT_COST_TABLE
    return CostTable.from_ptoisa(name.removeprefix("ptoisa_"))


def _rc(shape: list[int]) -> tuple[int, int]:
    """(rows, cols) of a tile by the one tile rank rule (cpp_backend/ir/tile.h): leading 1s are
    dropped, nothing is flattened. ``_traced_cycles`` checks the kernel's tiles first.

    The extension is imported here, not at module level: the table itself (``pto_wsp.CostTable``,
    the Studio's choices) must not load C++; pricing a module's kernels has it loaded already."""
    from .._native import ir as _ir

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


def op_cycles(
    table: CostTable,
    op: str,
    dtype: str,
    shape: list[int],
    operand_shapes: list[list[int]],
    operand_dtypes: list[str],
) -> float:
    """Cycles of one op of a traced kernel under ``table``: its model's figure when it has one
    (``from_ptoisa``), else the rate of the op's cost class x the tile extents it scales with."""
    if table.model is not None:
        # A store has no result: its shape is the destination's (operand 0).
        result = shape if op != "store" else operand_shapes[0]
        cycles = table.model.op_cycles(
            op,
            dtype,
            _rc(result),
            tuple(_rc(s) for s in operand_shapes),
            tuple(operand_dtypes),
        )
        if cycles is not None:
            return cycles
    spec = op_table.BY_NAME.get(op)
    if spec is None:  # a ptoisa.<name> op the table does not know: elementwise
        return table.rate(op, table.elementwise) * math.prod(_rc(shape))
    rate = table.rate(op, getattr(table, spec.cost))
    return _op_cycles(spec.cost, rate, shape, operand_shapes)


def _traced_cycles(k: Any, table: CostTable) -> int:
    _check_tiles(k)
    params = list(k.params)
    shapes: list[list[int]] = [list(p.shape) for p in params]
    dtypes: list[str] = [str(p.dtype) for p in params]
    total = 0.0
    for op in k.ops:
        shape = list(op.shape)
        if op.op == op_table.ADD_CYCLES_OP:  # ptoisa.cpu_sim_add_cycles: its constant, as given
            total += int(op.attrs.get("cycles", 0))
            shapes.append(shape)
            dtypes.append(str(op.dtype))
            continue
        total += op_cycles(
            table,
            op.op,
            str(op.dtype),
            shape,
            [shapes[i] for i in op.operands],
            [dtypes[i] for i in op.operands],
        )
        shapes.append(shape)
        dtypes.append(str(op.dtype))
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
