"""Op cycles from PTO-ISA's A2/A3 formula cost model (``CostTable.from_ptoisa("a2a3")``).

PTO-ISA ships a "fit" cost model for A2/A3 (its ``docs/costmodel-backends.md``): fitted
linear formulas per instruction, dtype and column count in
``include/pto/costmodel/a2a3/formula_costmodel/formula_params.csv``, evaluated by
``formula_backend_compute.hpp`` and dispatched by ``lightweight_costmodel.hpp``. Its C++ does
not build as shipped (``kMicrosPerSecond`` is never defined), so this module reads the same
csv and the same architecture constants (``arch_config.hpp``) and evaluates the same formulas
in Python. Each formula below names the header function it reproduces:

- vector ops (``TryEstimateFormulaCycles``, ``TryEstimateFormulaCyclesAnyDType``,
  ``RoundToCycles`` in ``formula_backend_compute.hpp``): the row ``(op, dtype, cols)`` of the
  csv, matched exactly (cols is the instruction tile's column count; ``*`` / dtype ``any``
  only for TEXP and TSQRT, tried in the header's order), gives
  ``llround(slope * rows * cols + bias)``. Only fp32 and fp16 tiles have rows
  (``TryEstimateElementwiseCycles`` rejects every other dtype);
- matmul (``TryEstimateMadCycles``): ``6 + r * ceil(M/16) * ceil(K/(32/sizeof(A))) *
  ceil(N/16)``, ``r`` = 2 cycles per repeat for fp32 A, 1 for fp16; other dtypes have none;
- TLOAD / TSTORE of a vector tile (``EstimateBandwidthCycles`` in
  ``a2a3/cce_costmodel/cce_costmodel_core.hpp``): ``floor(bytes / 2^30 / bw * f)`` with ``bw``
  the GM_TO_UB (load) or UB_TO_GM (store) bandwidth of ``kA2A3ArchConfig`` in GiB/s and ``f``
  its clock ``kMainFrequencyHz``. The lightweight path (``TryEstimateTransferLatency``) divides
  the bytes by the same table read as bytes per microsecond, which prices a 16 KiB load at
  ~300,000 cycles; its own Hill-model comment and the CCE path read the table as GiB/s, which
  is what is used here (docs/cost_models.md).

Which pto op is which instruction is ``_INSTRUCTION`` below; a binary op of two tiles of its
result's shape is the tile instruction (TMUL), of a tile and a single element its scalar form
(``x * 2.0`` is TMULS; ``2.0 - x`` is neither); one that broadcasts a row or column vector is
an expand instruction (TROWEXPANDMUL), which has no formula. An op, dtype or
column count with no row is priced by our own table (``compiler/cost.py``) and recorded: the
table lists every fallback it made (``PtoIsaCycles.fallbacks``, ``report``).

Cycles are computed once per (op, dtype, shape) and cached on the model; the per-kernel cycles
the generated code reads (``KC<id>``) are sums of these, computed once per kernel when a
program is compiled or its cost table is set, never per task.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import CompileError, user_location
from ..language import dtype_table, op_table
from .ptoisa_root import ENV_ROOT, find_root

__all__ = [
    "ARCHS",
    "ARCH_LABELS",
    "PTO_ISA_ROOT_ENV",
    "COST_MODEL_CSV",
    "ptoisa_root",
    "FormulaRow",
    "ArchConstants",
    "Fallback",
    "PtoIsaCycles",
    "ptoisa_cycles",
]

ARCHS: tuple[str, ...] = ("a2a3",)
"""The PTO-ISA architectures with a formula cost model this module reads (A5's is a VF
simulator, not formulas)."""
ARCH_LABELS: dict[str, str] = {"a2a3": "A2/A3"}

PTO_ISA_ROOT_ENV = ENV_ROOT

_CSV = "include/pto/costmodel/a2a3/formula_costmodel/formula_params.csv"
COST_MODEL_CSV = _CSV
"""Under the root: the A2/A3 cost model's formulas (``CostTable.from_ptoisa("a2a3")``)."""
_ARCH_HPP = "include/pto/costmodel/arch_config.hpp"
_CSV_HEADER = ["op", "dtype", "cols", "slope", "bias"]  # gen_formula_params_header.py
_CSV_DTYPES = {"fp32": "f32", "fp16": "f16", "any": "any"}

# lightweight_costmodel.hpp, TryEstimateSupportedCycles: the ops with formula rows, and the two
# that also accept a row of dtype "any" / cols "*" (TryEstimateFormulaCyclesAnyDType).
_ANY_DTYPE_OPS = frozenset({"TEXP", "TSQRT"})
# TryEstimateElementwiseCycles / TryEstimateMatmulCycles: DType::Float and DType::Half only.
_FORMULA_DTYPES = ("f32", "f16")
# TryGetDTypeSizeBytes: the dtypes a transfer is priced for (bool, 64-bit types: none).
_TRANSFER_DTYPES = frozenset({"i8", "u8", "f16", "bf16", "i16", "u16", "f32", "i32", "u32"})
# TryEstimateMadCycles constants.
_MAD_HEAD = 6
_MAD_M_TILE = 16
_MAD_N_TILE = 16
_MAD_K_FRACTAL_BYTES = 32
_GIB = 1024.0**3  # arch_config.hpp kBytesPerGb

# pto op -> the PTO-ISA instruction whose formula prices it (None: none does). Binary ops list
# (tile form, scalar form): one single-element operand makes it the scalar form.
_INSTRUCTION: dict[str, str | tuple[str, str]] = {
    "exp": "TEXP",
    "sqrt": "TSQRT",
    "rowsum": "TROWSUM",
    "rowmax": "TROWMAX",
    "colsum": "TCOLSUM",
    "colmax": "TCOLMAX",
    "add": ("TADD", "TADDS"),
    "sub": ("TSUB", "TSUBS"),
    "mul": ("TMUL", "TMULS"),
    "div": ("TDIV", "TDIVS"),
    "minimum": ("TMIN", "TMINS"),
    "maximum": ("TMAX", "TMAXS"),
    "broadcast": "TROWEXPAND",  # only [r, 1] -> [r, c]; other broadcasts are TEXPAND
    "matmul": "TMATMUL",
    "load": "TLOAD",
    "store": "TSTORE",
}
for _name in _INSTRUCTION:
    assert _name in op_table.BY_NAME, f"ptoisa_cost: {_name!r} is not an op of op_table"


def ptoisa_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The PTO-ISA checkout to read (``ptoisa_root.find_root``: ``explicit``, else
    ``$PTO_ISA_ROOT``), which must hold the cost model's ``formula_params.csv``."""
    root = find_root(explicit)
    if not (root / _CSV).is_file():
        raise CompileError(
            f"PTO-ISA cost model: {root} has no {_CSV} (is {PTO_ISA_ROOT_ENV} the checkout "
            "that holds include/pto?)",
            loc=user_location(),
        )
    return root


@dataclass(frozen=True)
class FormulaRow:
    """One row of formula_params.csv (dtype in our spelling, or ``any``; cols 0 = ``*``)."""

    op: str
    dtype: str
    cols: int
    slope: float
    bias: float


@dataclass(frozen=True)
class ArchConstants:
    """What ``arch_config.hpp`` says about A2/A3: the clock and the pipes' bandwidths (GiB/s)."""

    frequency_hz: float
    bandwidth: dict[str, float]

    @property
    def ns_per_cycle(self) -> float:
        return 1e9 / self.frequency_hz


def _read_rows(path: Path) -> tuple[FormulaRow, ...]:
    """The csv as ``gen_formula_params_header.py`` reads it (same header and value checks)."""
    import csv  # lazy: read only when a PTO-ISA cost is asked for

    rows: list[FormulaRow] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != _CSV_HEADER:
            raise CompileError(f"{path}: header {reader.fieldnames}, expected {_CSV_HEADER}")
        for n, row in enumerate(reader, start=2):
            dtype = row["dtype"].strip().lower()
            cols = row["cols"].strip()
            try:
                if dtype not in _CSV_DTYPES:
                    raise ValueError(f"unsupported dtype {dtype!r}")
                rows.append(
                    FormulaRow(
                        row["op"].strip(),
                        _CSV_DTYPES[dtype],
                        0 if cols == "*" else int(cols),
                        float(row["slope"]),
                        float(row["bias"]),
                    )
                )
            except ValueError as err:
                raise CompileError(f"{path}:{n}: {err}") from None
    return tuple(rows)


_NUMBER = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


def _read_arch(path: Path) -> ArchConstants:
    """``kMainFrequencyHz`` and ``kA2A3ArchConfig``'s bandwidth table, in ``BandwidthTable``'s
    field order, read from the header rather than copied by hand."""
    text = path.read_text(encoding="utf-8")
    freq = re.search(rf"kMainFrequencyHz\s*=\s*({_NUMBER})L?\s*;", text)
    struct = re.search(r"struct BandwidthTable\s*\{(.*?)constexpr", text, re.S)
    config = re.search(r"kA2A3ArchConfig\s*\{\s*\"a2a3\"\s*,\s*\w+\s*,\s*\{([^}]*)\}", text, re.S)
    if freq is None or struct is None or config is None:
        raise CompileError(f"{path}: cannot find kMainFrequencyHz / kA2A3ArchConfig")
    names = re.findall(r"double\s+(\w+)\s*=", struct.group(1))
    values = [float(v) for v in re.findall(_NUMBER, config.group(1))]
    if len(names) != len(values) or not names:
        raise CompileError(f"{path}: kA2A3ArchConfig has {len(values)} bandwidths for {names}")
    return ArchConstants(float(freq.group(1)), dict(zip(names, values, strict=True)))


@dataclass(frozen=True)
class Fallback:
    """An op priced by our table: which op, dtype and shape, the instruction looked up, and
    why it had no formula."""

    op: str
    dtype: str
    shape: tuple[int, int]
    instruction: str
    reason: str

    def __str__(self) -> str:
        inst = f" ({self.instruction})" if self.instruction else ""
        return f"{self.op}{inst} {self.dtype} {self.shape[0]}x{self.shape[1]}: {self.reason}"


_Key = tuple[str, str, tuple[int, int], tuple[tuple[int, int], ...], tuple[str, ...]]


@dataclass
class PtoIsaCycles:
    """The formula model of one PTO-ISA architecture, with its per-shape cache.

    ``op_cycles`` answers the cycles of one op (None: no formula, the caller uses our table),
    computing each distinct (op, dtype, shapes) once; ``computations`` counts the evaluations,
    ``fallbacks()`` lists what had no formula.
    """

    arch: str
    root: Path
    rows: tuple[FormulaRow, ...]
    constants: ArchConstants
    computations: int = 0
    _cache: dict[_Key, float | None] = field(default_factory=dict, repr=False)
    _fallbacks: dict[_Key, Fallback] = field(default_factory=dict, repr=False)

    @property
    def ns_per_cycle(self) -> float:
        return self.constants.ns_per_cycle

    def lookup(self, instruction: str, dtype: str, cols: int) -> FormulaRow | None:
        """The row ``TryLookupFormulaParam`` finds (first match in csv order), trying
        (dtype, cols), (dtype, *), (any, cols), (any, *) for TEXP/TSQRT."""
        if dtype not in _FORMULA_DTYPES or cols <= 0 or cols > 0xFFFF:
            return None
        tries = [(dtype, cols)]
        if instruction in _ANY_DTYPE_OPS:
            tries += [(dtype, 0), ("any", cols), ("any", 0)]
        for want in tries:
            for row in self.rows:
                if row.op == instruction and (row.dtype, row.cols) == want:
                    return row
        return None

    def op_cycles(
        self,
        op: str,
        dtype: str,
        shape: tuple[int, int],
        operand_shapes: Sequence[tuple[int, int]],
        operand_dtypes: Sequence[str],
    ) -> float | None:
        """Cycles of one op with result ``shape`` (rows, cols) and its operands'; None when no
        formula covers it (recorded in ``fallbacks``). Cached per distinct argument set."""
        key: _Key = (op, dtype, shape, tuple(operand_shapes), tuple(operand_dtypes))
        if key in self._cache:
            return self._cache[key]
        self.computations += 1
        instruction, cycles, reason = self._evaluate(*key)
        self._cache[key] = cycles
        if cycles is None:
            self._fallbacks[key] = Fallback(op, dtype, shape, instruction, reason)
        return cycles

    def _evaluate(
        self,
        op: str,
        dtype: str,
        shape: tuple[int, int],
        operand_shapes: tuple[tuple[int, int], ...],
        operand_dtypes: tuple[str, ...],
    ) -> tuple[str, float | None, str]:
        entry = _INSTRUCTION.get(op)
        if entry is None:
            return "", None, "no PTO-ISA instruction with a formula"
        if op == "matmul":
            return "TMATMUL", self._mad(operand_shapes, operand_dtypes), "A dtype not fp32/fp16"
        if op in ("load", "store"):
            # load: the result tile; store: the destination (operand 0) and its dtype.
            elems = shape[0] * shape[1] if op == "load" else math.prod(operand_shapes[0])
            moved = dtype if op == "load" else operand_dtypes[0]
            pipe = "GM_TO_UB" if op == "load" else "UB_TO_GM"
            inst = "TLOAD" if op == "load" else "TSTORE"
            return inst, self._transfer(elems, moved, pipe), f"{moved} has no transfer size"
        if isinstance(entry, tuple):
            a, b = operand_shapes
            if a == b == shape:
                instruction = entry[0]
            elif a == shape and b == (1, 1):  # tile op scalar
                instruction = entry[1]
            elif b == shape and a == (1, 1) and op in ("add", "mul", "minimum", "maximum"):
                instruction = entry[1]  # commutative: scalar op tile is the same instruction
            else:  # a row / column vector broadcast: TROWEXPAND<OP> etc., or scalar - tile
                return entry[0], None, "operands broadcast: no formula for the expand form"
            rows, cols = shape
            src_dtype = dtype
        elif op == "broadcast":
            instruction = entry
            src = operand_shapes[0]
            if not (src[1] == 1 and src[0] == shape[0] and shape[1] > 1):
                return "TEXPAND", None, "no formula for TEXPAND (only [r,1] -> [r,c] is TROWEXPAND)"  # fmt: skip
            rows, cols = shape
            src_dtype = dtype
        else:
            instruction = entry
            # Reductions: the instruction's tile is the source; unary ops: same shape.
            rows, cols = operand_shapes[0]
            src_dtype = operand_dtypes[0]
        if src_dtype not in _FORMULA_DTYPES:
            return instruction, None, "dtype has no formula rows (fp32/fp16 only)"
        row = self.lookup(instruction, src_dtype, cols)
        if row is None:
            have = sorted({r.cols for r in self.rows if r.op == instruction and r.dtype == src_dtype})  # fmt: skip
            if not any(r.op == instruction for r in self.rows):
                return instruction, None, "no formula rows for this instruction"
            return instruction, None, f"no row for cols={cols} (rows for cols {have})"
        return instruction, _llround(row.slope * rows * cols + row.bias), ""

    def _mad(self, shapes: Sequence[tuple[int, int]], dtypes: Sequence[str]) -> float | None:
        """``TryEstimateMadCycles``: A is [M, K], B is [K, N]."""
        a_dtype = dtypes[0]
        if a_dtype not in _FORMULA_DTYPES:
            return None
        (m, k), (_k, n) = shapes[0], shapes[1]
        size = dtype_table.BY_NAME[a_dtype].size
        k_tile = _MAD_K_FRACTAL_BYTES // size
        per_repeat = 2 if a_dtype == "f32" else 1
        repeats = _ceil(m, _MAD_M_TILE) * _ceil(k, k_tile) * _ceil(n, _MAD_N_TILE)
        return float(_MAD_HEAD + per_repeat * repeats)

    def _transfer(self, elements: int, dtype: str, pipe: str) -> float | None:
        """``EstimateBandwidthCycles``: bytes / 2^30 / bandwidth(GiB/s) * clock, truncated."""
        if dtype not in _TRANSFER_DTYPES:
            return None
        nbytes = elements * dtype_table.BY_NAME[dtype].size
        bw = self.constants.bandwidth[pipe]
        return float(math.floor(nbytes / _GIB / bw * self.constants.frequency_hz))

    def fallback_of(
        self,
        op: str,
        dtype: str,
        shape: tuple[int, int],
        operand_shapes: Sequence[tuple[int, int]],
        operand_dtypes: Sequence[str],
    ) -> Fallback | None:
        """Why ``op_cycles`` of these arguments has no formula (None: it has one)."""
        self.op_cycles(op, dtype, shape, operand_shapes, operand_dtypes)
        return self._fallbacks.get((op, dtype, shape, tuple(operand_shapes), tuple(operand_dtypes)))

    def fallbacks(self) -> tuple[Fallback, ...]:
        """Every (op, dtype, shape) this model was asked for and had no formula for, in the
        order they were first asked."""
        seen: dict[tuple[str, str, tuple[int, int]], Fallback] = {}
        for fb in self._fallbacks.values():
            seen.setdefault((fb.op, fb.dtype, fb.shape), fb)
        return tuple(seen.values())

    def coverage(self) -> dict[str, tuple[str, ...]]:
        """Per IR op, the dtypes some shape of which has a formula (empty: our table always)."""
        out: dict[str, tuple[str, ...]] = {}
        for op in op_table.IR_OPS:
            entry = _INSTRUCTION.get(op)
            if entry is None:
                out[op] = ()
            elif op in ("matmul",):
                out[op] = _FORMULA_DTYPES
            elif op in ("load", "store"):
                out[op] = tuple(d for d in dtype_table.NAMES if d in _TRANSFER_DTYPES)
            else:
                names = entry if isinstance(entry, tuple) else (entry,)
                out[op] = tuple(
                    d
                    for d in _FORMULA_DTYPES
                    if any(r.op in names and r.dtype in (d, "any") for r in self.rows)
                )
        return out

    def report(self) -> str:
        """A printable account: where the figures come from, which ops have formulas, and
        every fallback made so far."""
        lines = [
            f"PTO-ISA {self.arch} formula cost model ({self.root / _CSV})",
            f"clock {self.constants.frequency_hz / 1e9:g} GHz ({self.ns_per_cycle:.4f} ns per "
            f"cycle); {len(self.rows)} formula rows",
            "ops with formulas (some shapes): "
            + ", ".join(f"{op} [{'/'.join(d)}]" for op, d in self.coverage().items() if d),
            "ops priced by our table (every dtype): "
            + ", ".join(op for op, d in self.coverage().items() if not d),
            "also ours: ops of other dtypes or column counts, empty-body and C++ kernels' view "
            "transfers, collectives (rates scaled to this clock)",
        ]
        fbs = self.fallbacks()
        lines.append(f"fallbacks so far: {len(fbs)}")
        lines.extend(f"  {fb}" for fb in fbs)
        return "\n".join(lines)


def _llround(x: float) -> float:
    """``RoundToCycles``: 0 for x <= 0, else ``std::llround`` (halves away from zero)."""
    return 0.0 if x <= 0 else float(math.floor(x + 0.5))


def _ceil(x: int, y: int) -> int:
    return -(-x // y)


@lru_cache(maxsize=8)
def _model(arch: str, root: Path) -> PtoIsaCycles:
    return PtoIsaCycles(arch, root, _read_rows(root / _CSV), _read_arch(root / _ARCH_HPP))


def ptoisa_cycles(arch: str, root: str | os.PathLike[str] | None = None) -> PtoIsaCycles:
    """The model of ``arch`` read from the PTO-ISA checkout (``ptoisa_root``); one per
    (arch, checkout), so its cache is shared by every table made from it."""
    if arch not in ARCHS:
        raise CompileError(
            f"PTO-ISA cost model: unknown architecture {arch!r}; valid: {', '.join(ARCHS)}",
            loc=user_location(),
        )
    return _model(arch, ptoisa_root(root).resolve())
