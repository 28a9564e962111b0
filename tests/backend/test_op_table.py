"""The op and dtype tables are the one source: every op and dtype reaches every consumer.

``pto_wsp/language/op_table.py`` and ``dtype_table.py`` are the only lists; the ``pto`` and
``ptoisa`` functions, the cost classes, the Studio catalogue, the IR, both emitters and the
runtime's dispatch derive from them. These tests walk every row through each consumer, so an
op or dtype added to the table but missing somewhere (or the reverse) fails here, naming it.
The traced kernel below is built from the table's rules, not from a list of ops.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.model import registry
from app.model.kinds import _base
from pto_wsp import DType, In, Out, P, Tensor, Tile, kernel, pto, ptoisa, workload
from pto_wsp._core import ascend, codegen, ir, runtime
from pto_wsp.backends.ascend_npu import STUB_HEADERS
from pto_wsp.compiler.cost import DEFAULT_COST_TABLE, kernel_cycles
from pto_wsp.compiler.lowering import lower
from pto_wsp.language import dtype_table, op_table

REPO = Path(__file__).resolve().parents[2]
ROWS, COLS = 4, 8

OPS = [op.name for op in op_table.OPS]
IR_OPS = [op.name for op in op_table.OPS if op.alias_of is None]


# ---- one kernel that uses every op, built from the rules -------------------------------------


def _apply(op: op_table.OpSpec, x: Any, w: Any) -> Any:
    """``op`` applied to the loaded tile ``x`` ([ROWS, COLS]) by its rule; ``w`` is [COLS, COLS]."""
    fn = getattr(pto, op.name)
    by_rule = {
        "load": lambda: None,  # the body loads x explicitly
        "store": lambda: None,  # the body ends with a store
        "alloc": lambda: fn((ROWS, COLS), "f32"),
        "constant": lambda: fn(2.0, "f32"),
        "unary": lambda: fn(x),
        "binary": lambda: fn(x, x),
        "row_reduce": lambda: fn(x),
        "col_reduce": lambda: fn(x),
        "row_vec": lambda: fn(x, pto.rowsum(x)),
        "col_vec": lambda: fn(x, pto.colsum(x)),
        "broadcast": lambda: fn(pto.rowsum(x), (ROWS, COLS)),
        "matmul": lambda: fn(x, w, acc=fn(x, w)),  # TMATMUL, then TMATMUL_ACC
        "slice_even": lambda: fn(x),
        "slice_odd": lambda: fn(x),
        "interleave": lambda: fn(pto.slice_even(x), pto.slice_odd(x)),
        "iota": lambda: fn(32),
        "block_sort": lambda: fn(pto.broadcast(pto.rowsum(x), (ROWS, 32)), pto.iota_u32(32)),
        "mrgsort": lambda: fn(_pair_row(x), _pair_row(x)),
        "topk_indices": lambda: fn(_pair_row(x), 4),  # 4 of 32 pairs: TGATHER, TEXTRACT
    }
    assert set(by_rule) == set(op_table.RULES), "a new rule needs its case in this test"
    return by_rule[op.rule]()


def _pair_row(x: Any) -> Any:
    """A sorted pair row f32 [1, 64] of the loaded tile ``x``."""
    return pto.tsort32(pto.broadcast(pto.colsum(pto.rowsum(x)), (1, 32)), pto.iota_u32(32))


@kernel
def every_op(
    x: In[Tile[ROWS, COLS, DType.F32]],
    w: In[Tile[COLS, COLS, DType.F32]],
    y: Out[Tile[ROWS, COLS, DType.F32]],
):
    t = pto.load(x)
    acc = t
    for op in op_table.OPS:
        v = _apply(op, t, w)
        if v is not None:  # fold it in, so no op is dead code to any backend
            acc = acc + (v if v.is_scalar else pto.rowsum(pto.colsum(v)))
    pto.store(y, acc)


def _every_op_module() -> Any:
    X = Tensor(np.ones((2, ROWS, COLS), np.float32))
    W = Tensor(np.ones((COLS, COLS), np.float32))
    Y = Tensor(np.zeros((2, ROWS, COLS), np.float32))

    @workload
    def every():
        for i in P(2):
            every_op[i](x=X[i], w=W, y=Y[i])

    return lower(every())


@pytest.fixture(scope="module")
def module() -> Any:
    return _every_op_module()


# ---- Python consumers ----------------------------------------------------------------------


def test_pto_ops_are_the_table() -> None:
    assert list(pto.OPS) == IR_OPS
    for op in op_table.OPS:
        fn = getattr(pto, op.name, None)
        assert callable(fn), f"pto.{op.name} is missing"
        params = list(inspect.signature(fn).parameters)
        assert len(params) == len(op.operands) + len(op.attrs), f"pto.{op.name}{params}"
        assert fn.__doc__, f"pto.{op.name} has no docstring"
    for name in op_table.ALIASES:
        assert getattr(pto, name) is getattr(pto, op_table.ALIASES[name])


def test_every_op_is_traced_under_its_name(module: Any) -> None:
    """The kernel built from the rules records every IR op (aliases record their target)."""
    k = next(k for k in module.kernels if k.name == "every_op")
    recorded = {op.op for op in k.ops}
    assert set(IR_OPS) <= recorded, sorted(set(IR_OPS) - recorded)
    assert all(op.known for op in k.ops)


def test_ptoisa_spellings_are_the_table() -> None:
    assert ptoisa.ISA_OPS == op_table.PTOISA
    for spelling, op in op_table.PTOISA.items():
        fn = getattr(ptoisa, spelling)
        assert fn.__name__ == spelling and f"pto.{op}" in (fn.__doc__ or "")
        assert spelling in ptoisa.__all__


def test_every_op_has_a_cost_class(module: Any) -> None:
    for op in op_table.OPS:
        rate = getattr(DEFAULT_COST_TABLE, op.cost, None)
        assert isinstance(rate, float), f"{op.name}: cost class {op.cost!r} is no CostTable rate"
    # Every op of the table is costed by its class: raising one op's rate raises the total.
    k_id = next(i for i, k in enumerate(module.kernels) if k.name == "every_op")
    base = kernel_cycles(module, DEFAULT_COST_TABLE)[k_id]
    for name in IR_OPS:
        table = type(DEFAULT_COST_TABLE).from_dict({"ops": {name: 10.0}})
        assert kernel_cycles(module, table)[k_id] > base, f"{name} costs nothing"


def test_the_studio_catalogue_is_the_table() -> None:
    tile_kinds = [k for k in registry.KINDS.values() if k.id.startswith("pto.")]
    assert [k.id for k in tile_kinds] == [f"pto.{name}" for name in OPS]
    for op in op_table.OPS:
        kind = registry.KINDS[f"pto.{op.name}"]
        assert kind.category == op.category
        inputs = [p.name for p in kind.ports if p.direction == "in"]
        assert inputs == list(op.operand_names), op.name
        assert [p.name for p in kind.props] == list(op.attrs), op.name


# ---- C++ consumers -------------------------------------------------------------------------


def test_the_built_header_is_the_current_table() -> None:
    """The C++ was built from these tables (a stale build would carry other rows)."""
    sys.path.insert(0, str(REPO / "cpp_backend" / "codegen" / "templates"))
    try:
        import gen_tables
    finally:
        sys.path.pop(0)
    headers = sorted(
        (REPO / "build").glob("*/generated/pto_tables.h"), key=lambda p: p.stat().st_mtime
    )
    assert headers, "no generated pto_tables.h under build/ (run bash dev.sh build)"
    assert headers[-1].read_text() == gen_tables.render(REPO / "pto_wsp" / "language")


def test_ir_knows_every_op() -> None:
    k = ir.Kernel("k")
    for name in IR_OPS:
        k.add_op(name, [], [], DType.F32.value, {})
    assert [op.known for op in k.ops] == [True] * len(IR_OPS)
    k.add_op("not_an_op", [], [], DType.F32.value, {})
    assert not k.ops[-1].known


def test_runtime_dispatch_accepts_every_op_and_alias() -> None:
    assert set(OPS) <= set(runtime.op_names())


# The ops cpu_sim may compute inline on small static tiles (runtime/tile_inline.h): how the
# generated code spells each then. The library entry stays their fallback (pto_i_copy calls
# pto_load) and what pto_run_op runs.
INLINE_SPELLINGS = {
    "load": "pto_i_copy(",
    "add": "PTO_I_BINARY(float, +,",
    "sub": "PTO_I_BINARY(float, -,",
    "mul": "PTO_I_BINARY(float, *,",
    "div": "PTO_I_BINARY(float, /,",
}


def test_cpu_sim_emits_every_runtime_entry(module: Any) -> None:
    text = "\n".join(t for _, t in codegen.emit_cpu_sim(module)["files"])
    for op in op_table.OPS:
        if op.alias_of is None:
            spelled = f"{op.runtime_fn}(" in text or INLINE_SPELLINGS.get(op.name, "\0") in text
            assert spelled, f"cpu_sim emits no {op.runtime_fn} for {op.name}"


def test_ascend_npu_emits_every_isa_spelling(module: Any) -> None:
    files = ascend.emit_ascend_npu(module)["files"]
    text = "\n".join(t for path, t in files if "every_op" in path)
    stub = (STUB_HEADERS / "pto" / "pto-inst.hpp").read_text()
    for op in op_table.OPS:
        assert (op.isa is None) == (op.alias_of is not None), f"{op.name}: no PTO-ISA spelling"
        for isa in (op.isa or "").split():
            # TCI, TGATHER, TMRGSORT take template arguments: pto::TCI<...>(...)
            emitted = f"pto::{isa}(" in text or f"pto::{isa}<" in text
            assert emitted, f"ascend_npu emits no {isa} for {op.name}"
            declared = f"PTO_STUB_INSTR({isa})" in stub or f" {isa}(Args&&...)" in stub
            assert declared, f"the PTO-ISA stub declares no {isa}"


# ---- dtypes ----------------------------------------------------------------------------------


def test_dtypes_are_the_table() -> None:
    members = list(dict.fromkeys(DType.__members__.values()))
    assert [m.value for m in members] == list(dtype_table.NAMES)
    for spec in dtype_table.DTYPES:
        d = DType.from_any(spec.name)
        assert d.itemsize == spec.size == d.np.itemsize
        assert d.is_float == spec.is_float
        assert d.np.kind == spec.numpy_kind or spec.needs_ml_dtypes
        for alias in spec.aliases:
            assert DType.from_any(alias) is d
    assert tuple(_base.DTYPES) == dtype_table.NAMES
    assert tuple(ir.DTYPES) == dtype_table.NAMES


@pytest.mark.parametrize("spec", dtype_table.DTYPES, ids=dtype_table.NAMES)
def test_runtime_maps_every_numpy_dtype(spec: dtype_table.DTypeSpec) -> None:
    """The runtime's numpy -> code mapping and its sizes follow the table (numerics elsewhere)."""
    np_dtype = DType.from_any(spec.name).np
    a = np.ones((2, 3), np_dtype)
    out = np.zeros((2, 3), np_dtype)
    runtime.run_op("load", out, [a], [])
    np.testing.assert_array_equal(out, a)
