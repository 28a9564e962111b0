"""PTO-ISA's A2/A3 formula cost model in Python (pto_wsp/compiler/ptoisa_cost.py).

Each expected figure is worked by hand from the csv row (or header constant) named beside it,
so a formula that drifts from formula_backend_compute.hpp / cce_costmodel_core.hpp fails here.
Needs no C++: the model prices single ops.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ptoisa_paths import SKIP_REASON, ptoisa_root

from pto_wsp import CompileError, CostTable
from pto_wsp.compiler import cost
from pto_wsp.compiler.ptoisa_cost import PtoIsaCycles, ptoisa_cycles

ROOT = ptoisa_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason=SKIP_REASON)


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> PtoIsaCycles:
    """A fresh model (its own cache and counters) of the test checkout."""
    assert ROOT is not None
    monkeypatch.setenv("PTO_ISA_ROOT", str(ROOT))
    m = ptoisa_cycles("a2a3")
    return PtoIsaCycles(m.arch, m.root, m.rows, m.constants)


def unary(m: PtoIsaCycles, op: str, dtype: str, rows: int, cols: int) -> float | None:
    return m.op_cycles(op, dtype, (rows, cols), ((rows, cols),), (dtype,))


def binary(m: PtoIsaCycles, op: str, dtype: str, a: tuple[int, int], b: tuple[int, int]) -> float | None:  # fmt: skip
    out = (max(a[0], b[0]), max(a[1], b[1]))
    return m.op_cycles(op, dtype, out, (a, b), (dtype, dtype))


# ---- the checkout's data ---------------------------------------------------------------------


def test_arch_constants_are_read_from_arch_config(model: PtoIsaCycles) -> None:
    # arch_config.hpp: kMainFrequencyHz = 1.85e9L; kA2A3ArchConfig {100.9, 135.0, 188.46, ...}
    assert model.constants.frequency_hz == 1.85e9
    assert model.constants.bandwidth["GM_TO_UB"] == 100.9
    assert model.constants.bandwidth["UB_TO_GM"] == 188.46
    assert model.constants.bandwidth["L1_FILL"] == 32.0
    assert model.ns_per_cycle == pytest.approx(1 / 1.85)
    assert len(model.rows) == 274  # formula_params_generated.hpp: std::array<..., 274>


# ---- formulas, by hand from the csv rows ------------------------------------------------------


def test_binary_tile_formula(model: PtoIsaCycles) -> None:
    # TMUL,fp32,64,0.0313,26: 0.0313*32*64 + 26 = 90.10 -> 90
    assert binary(model, "mul", "f32", (32, 64), (32, 64)) == 90
    # TSUB,fp16,128,0.0156,25: 0.0156*16*128 + 25 = 56.95 -> 57
    assert binary(model, "sub", "f16", (16, 128), (16, 128)) == 57


def test_scalar_form_of_a_binary_op(model: PtoIsaCycles) -> None:
    # x + 1.0 is TADDS: TADDS,fp32,128,0.0169,16.5: 0.0169*8*128 + 16.5 = 33.81 -> 34
    assert binary(model, "add", "f32", (8, 128), (1, 1)) == 34
    # x * 2.0 is TMULS: TMULS,fp16,64,0.0078,26: 0.0078*64*64 + 26 = 57.95 -> 58
    assert binary(model, "mul", "f16", (64, 64), (1, 1)) == 58
    # x / 4.0 is TDIVS: TDIVS,fp32,64,0.0781,45: 0.0781*4*64 + 45 = 64.99 -> 65
    assert binary(model, "div", "f32", (4, 64), (1, 1)) == 65
    # 2.0 * x is TMULS too; 4.0 / x is no TDIVS (and TDIV has no rows)
    assert binary(model, "mul", "f16", (1, 1), (64, 64)) == 58
    assert binary(model, "div", "f32", (1, 1), (4, 64)) is None
    # x - rowmax(x) broadcasts a [r, 1] vector: TROWEXPANDSUB, no formula
    assert binary(model, "sub", "f32", (16, 64), (16, 1)) is None


def test_any_dtype_rows_of_texp_and_tsqrt(model: PtoIsaCycles) -> None:
    # TEXP,any,*,0.0314,30.1: 0.0314*64*64 + 30.1 = 158.71 -> 159 (any column count)
    assert unary(model, "exp", "f32", 64, 64) == 159
    assert unary(model, "exp", "f16", 64, 64) == 159
    # TSQRT,any,*,0.0314,31.1: 0.0314*8*24 + 31.1 = 37.13 -> 37
    assert unary(model, "sqrt", "f16", 8, 24) == 37
    # "any" still means fp32/fp16 only (TryEstimateElementwiseCycles rejects other dtypes)
    assert unary(model, "exp", "bf16", 64, 64) is None


def test_reductions_price_the_source_tile(model: PtoIsaCycles) -> None:
    # TROWSUM,fp16,128,0.0547,47 on a [16, 128] source: 0.0547*16*128 + 47 = 159.03 -> 159
    assert model.op_cycles("rowsum", "f16", (16, 1), ((16, 128),), ("f16",)) == 159
    # TCOLMAX,fp32,32,0.5391,16 on [8, 32]: 0.5391*8*32 + 16 = 154.01 -> 154
    assert model.op_cycles("colmax", "f32", (1, 32), ((8, 32),), ("f32",)) == 154


def test_row_broadcast_is_trowexpand(model: PtoIsaCycles) -> None:
    # [r, 1] -> [r, c] is TROWEXPAND: TROWEXPAND,fp32,64,0.2187,37: 0.2187*16*64 + 37 = 260.95
    assert model.op_cycles("broadcast", "f32", (16, 64), ((16, 1),), ("f32",)) == 261
    # other broadcasts are TEXPAND, which has no formula
    assert model.op_cycles("broadcast", "f32", (16, 64), ((1, 64),), ("f32",)) is None


def test_matmul_mad_formula(model: PtoIsaCycles) -> None:
    # TryEstimateMadCycles: 6 + r * ceil(M/16) * ceil(K/(32/sizeof A)) * ceil(N/16)
    # fp32 (r=2, K tile 8): 64x64x64 -> 6 + 2 * 4*8*4 = 262
    assert model.op_cycles("matmul", "f32", (64, 64), ((64, 64), (64, 64)), ("f32", "f32")) == 262
    # fp16 (r=1, K tile 16): [20, 33] @ [33, 17] -> 6 + 2*3*2 = 18
    assert model.op_cycles("matmul", "f16", (20, 17), ((20, 33), (33, 17)), ("f16", "f16")) == 18
    assert model.op_cycles("matmul", "i32", (16, 16), ((16, 16), (16, 16)), ("i32", "i32")) is None


def test_transfers_use_bandwidth_in_gib_per_s(model: PtoIsaCycles) -> None:
    # EstimateBandwidthCycles: floor(bytes / 2^30 / GiB/s * 1.85e9)
    # load f32 64x64 = 16384 B over GM_TO_UB 100.9: 279.77 -> 279
    assert model.op_cycles("load", "f32", (64, 64), ((64, 64),), ("f32",)) == 279
    # store f16 [32, 32] (2048 B) over UB_TO_GM 188.46: 18.72 -> 18
    assert model.op_cycles("store", "f16", (32, 32), ((32, 32), (32, 32)), ("f16", "f16")) == 18
    # TryGetDTypeSizeBytes has no 8-byte types
    assert model.op_cycles("load", "f64", (8, 8), ((8, 8),), ("f64",)) is None


def test_rounding_is_llround_and_never_negative(model: PtoIsaCycles) -> None:
    # TCOLSUM,fp16,16,1.1916,20.664 on [1, 16]: 19.0656 + 20.664 = 39.73 -> 40
    assert model.op_cycles("colsum", "f16", (1, 16), ((1, 16),), ("f16",)) == 40


# ---- what falls back, and caching -------------------------------------------------------------


def test_fallbacks_are_listed_with_their_reason(model: PtoIsaCycles) -> None:
    assert binary(model, "mul", "f32", (16, 16), (16, 16)) is None  # TMUL fp32 has no cols=16
    assert unary(model, "tanh", "f32", 16, 16) is None  # no instruction with formulas
    assert binary(model, "add", "f32", (16, 64), (16, 64)) is None  # TADD has no rows
    assert unary(model, "exp", "bf16", 16, 64) is None
    found = {(f.op, f.dtype, f.shape): f for f in model.fallbacks()}
    assert set(found) == {
        ("mul", "f32", (16, 16)),
        ("tanh", "f32", (16, 16)),
        ("add", "f32", (16, 64)),
        ("exp", "bf16", (16, 64)),
    }
    assert "no row for cols=16" in found["mul", "f32", (16, 16)].reason
    assert found["add", "f32", (16, 64)].instruction == "TADD"
    report = model.report()
    assert "mul (TMUL) f32 16x16: no row for cols=16" in report
    assert "fallbacks so far: 4" in report
    coverage = model.coverage()
    assert coverage["tanh"] == () and coverage["mul"] == ("f32", "f16")
    assert coverage["load"] == ("f16", "bf16", "f32", "i8", "i16", "i32", "u8", "u16", "u32")


def test_each_shape_is_computed_once(model: PtoIsaCycles) -> None:
    for _ in range(5):
        assert binary(model, "mul", "f32", (32, 64), (32, 64)) == 90
        assert binary(model, "mul", "f32", (16, 16), (16, 16)) is None
    assert model.computations == 2
    assert binary(model, "mul", "f32", (8, 64), (8, 64)) == 42  # 0.0313*512 + 26 = 42.03
    assert model.computations == 3
    assert len(model.fallbacks()) == 1


# ---- the table ----------------------------------------------------------------------------------


def test_from_ptoisa_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTO_ISA_ROOT", str(ROOT))
    t = CostTable.from_ptoisa("a2a3")
    assert t.ns_per_cycle == pytest.approx(1 / 1.85)
    # the rates that price what has no formula keep our table's time: 1 ns per element
    assert t.load * t.ns_per_cycle == pytest.approx(1.0)
    assert t.hop * t.ns_per_cycle == pytest.approx(16.0)
    assert t.name == "ptoisa_a2a3" and cost.DEFAULT_COST_TABLE.name == "pto_wsp"
    assert CostTable.from_any({"load": 2.0}).name is None
    assert t.model is CostTable.from_ptoisa("a2a3", ROOT).model  # one model (cache) per checkout
    assert cost.named_table("ptoisa_a2a3") == t
    assert cost.table_dsl("ptoisa_a2a3") == 'CostTable.from_ptoisa("a2a3")'
    assert cost.table_dsl("pto_wsp") is None
    assert "PTO-ISA a2a3 formula cost model" in t.report()


def test_bad_arch_lists_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTO_ISA_ROOT", str(ROOT))
    with pytest.raises(CompileError, match=r"unknown architecture 'a2a4'; valid: a2a3"):
        CostTable.from_ptoisa("a2a4")


def test_missing_root_names_the_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PTO_ISA_ROOT", raising=False)
    with pytest.raises(CompileError, match="environment variable PTO_ISA_ROOT"):
        CostTable.from_ptoisa("a2a3")
    with pytest.raises(CompileError, match="has no include/pto/pto-inst.hpp"):
        CostTable.from_ptoisa("a2a3", tmp_path)
