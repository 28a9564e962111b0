"""``CostTable.from_ptoisa("a2a3")`` on real programs: the per-kernel cycles are the sums of the
formulas (worked by hand below from the csv rows), what has no formula falls back to our rates
at the PTO-ISA clock and is listed, each (op, dtype, shape) is computed once whatever the task
count, and docs/cost_models.md's table is what its generator writes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ptoisa_paths import REPO, SKIP_REASON, ptoisa_root

from pto_wsp import CostTable, In, Out, P, Tensor, kernel, pto, workload
from pto_wsp.compiler.cost import kernel_cycles
from pto_wsp.compiler.ptoisa_cost import PtoIsaCycles

ROOT = ptoisa_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason=SKIP_REASON)
CLOCK = 1 / 1.85  # ns per cycle: arch_config.hpp kMainFrequencyHz = 1.85e9


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> CostTable:
    """The A2/A3 table with a model of its own (fresh cache and counters)."""
    monkeypatch.setenv("PTO_ISA_ROOT", str(ROOT))
    t = CostTable.from_ptoisa("a2a3")
    assert t.model is not None
    fresh = PtoIsaCycles(t.model.arch, t.model.root, t.model.rows, t.model.constants)
    return dataclasses.replace(t, model=fresh)


@kernel
def softmax_k(x: In[Tensor], y: Out[Tensor]):
    e = pto.exp(pto.sub(x, pto.rowmax(x)))
    pto.store(y, pto.div(e, pto.rowsum(e)))


@kernel
def scale_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.mul(pto.exp(x), 2.0))


def softmax_workload(tasks: int):
    X = Tensor(np.random.default_rng(0).standard_normal((tasks, 16, 64)).astype(np.float32))
    Y = Tensor(np.zeros((tasks, 16, 64), np.float32))

    @workload
    def sm():
        for b in P(tasks):
            softmax_k[b](x=X[b], y=Y[b])

    return sm(), X, Y


# softmax_k on a [16, 64] f32 tile, op by op (PTO-ISA cycles):
#   load x     4096 B / 2^30 / 100.9 GiB/s * 1.85e9 = 69.94 -> 69
#   rowmax     TROWMAX,fp32,64,0.1094,32: 0.1094*16*64 + 32 = 144.03 -> 144
#   sub x - m  broadcasts [16, 1]: no formula, ours 1.0*16*64 at 1.85 cycles/ns = 1894.4
#   exp        TEXP,any,*,0.0314,30.1: 0.0314*1024 + 30.1 = 62.25 -> 62
#   rowsum     TROWSUM,fp32,64,0.1094,44: 112.03 + 44 = 156.03 -> 156
#   div e / s  broadcasts [16, 1]: 1894.4
#   store y    4096 B / 2^30 / 188.46 GiB/s * 1.85e9 = 37.45 -> 37
SOFTMAX_PTOISA = round(69 + 144 + 1894.4 + 62 + 156 + 1894.4 + 37)  # 4257
# ours: load 1024 + rowmax 16 + sub 1024 + exp 1024 + rowsum 16 + div 1024 + store 1024
SOFTMAX_OURS = 5152


def test_kernel_cycles_are_the_formulas_and_fallbacks(table: CostTable) -> None:
    w, _x, _y = softmax_workload(4)
    program = w.compile(target="cpu_sim")
    assert program.runner.cost_table.name == "pto_wsp"
    assert kernel_cycles(program.module, program.runner.cost_table) == [SOFTMAX_OURS]
    assert kernel_cycles(program.module, table) == [SOFTMAX_PTOISA]
    fell = {(f.op, f.dtype, f.shape): f.reason for f in table.fallbacks()}
    assert set(fell) == {("sub", "f32", (16, 64)), ("div", "f32", (16, 64))}
    assert all("broadcast" in r for r in fell.values())
    assert "div (TDIV) f32 16x64: operands broadcast" in table.report()


def test_scalar_operand_is_the_scalar_instruction(table: CostTable) -> None:
    X = Tensor(np.ones((2, 32, 128), np.float16))
    Y = Tensor(np.zeros((2, 32, 128), np.float16))

    @workload
    def sc():
        for b in P(2):
            scale_k[b](x=X[b], y=Y[b])

    program = sc().compile(target="cpu_sim")
    program.runner.set_cost_table(table)
    program.execute()
    program.synchronize()
    np.testing.assert_allclose(Y.data, 2 * np.e, rtol=1e-3)
    # load 8192 B over 100.9 GiB/s: 139.88 -> 139; exp: 0.0314*4096 + 30.1 = 158.71 -> 159;
    # x * 2.0 is TMULS,fp16,128,0.0078,26: 0.0078*4096 + 26 = 57.95 -> 58;
    # store 8192 B over 188.46 GiB/s: 74.89 -> 74; the constant 2.0 has no instruction (TMULS
    # takes it as an immediate) and keeps ours: 1 element at 1.85 cycles per ns = 1.85
    assert kernel_cycles(program.module, table) == [round(139 + 159 + 1.85 + 58 + 74)]
    assert [(f.op, f.shape) for f in table.fallbacks()] == [("constant", (1, 1))]


def test_each_shape_is_priced_once_not_per_task(table: CostTable) -> None:
    assert table.model is not None
    w, X, Y = softmax_workload(64)
    program = w.compile(target="cpu_sim")
    program.runner.set_cost_table(table)
    # 7 ops, each a distinct (op, dtype, shapes): 7 evaluations for the one kernel
    assert table.model.computations == 7
    program.execute()
    program.synchronize()
    program.runner.set_cost_table(table)  # priced again: every figure from the cache
    program.execute()
    program.synchronize()
    assert table.model.computations == 7
    assert program.stats.task_count == 64
    durations = program.trace["end"] - program.trace["start"]
    assert set(durations.tolist()) == {SOFTMAX_PTOISA}
    e = np.exp(X.data - X.data.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(Y.data, e / e.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_makespans_under_both_tables(table: CostTable) -> None:
    w, _x, _y = softmax_workload(8)
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    ours = program.stats.total_cycles
    workers = len(set(program.trace["worker"].tolist()))
    per_worker = -(-8 // workers)
    assert ours == per_worker * SOFTMAX_OURS
    assert program.ns_per_cycle == 1.0
    program.runner.set_cost_table(table)
    program.execute()
    program.synchronize()
    assert program.stats.total_cycles == per_worker * SOFTMAX_PTOISA
    assert program.ns_per_cycle == pytest.approx(CLOCK)
    # in time: 4257 / 1.85 = 2301 ns per task against 5152 ns
    assert program.stats.total_cycles * CLOCK < ours * 1.0


def test_cost_models_doc_is_generated() -> None:
    env_root = str(ROOT)
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "docs" / "gen_cost_models.py"),
            "--check",
            "--pto-isa",
            env_root,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    text = (REPO / "docs" / "cost_models.md").read_text()
    assert "| `pto.mul(a, b)` | f32 | 64 |" in text
    assert Path(REPO / "docs" / "gen_cost_models.py").is_file()
