"""Emit and verify for collectives: ascend_npu issues allreduce, reduce_scatter, allgather and
relayout as tasks of kernels it synthesizes (tile copies and elementwise folds over the blocks of
the mesh's global arrays, docs/ptoisa.md "Collectives on the device"); compiled against real
PTO-ISA in CPU simulation mode and run on the host, they equal cpu_sim bit for bit.

The workloads are ``test_collectives.build``'s matrices (every collective x reduction x dtype of
f32, f16, i32 on meshes (4,), (2, 2), (2, 3)), whose cpu_sim values that file checks against
their definitions in numpy. Skipped, with the reason, only where no PTO-ISA root or no
clang++ >= 19 is found (``tests/ptoisa_env.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ptoisa_env import ptoisa_root, skip_reason
from test_collectives import PLANS, build

from pto_wsp import In, Out, P, Tensor, TensorLayout, allreduce, kernel, pto, workload
from pto_wsp.backends.ascend_npu import emit_tree
from pto_wsp.compiler.lowering import lower
from pto_wsp.runtime.ptoisa_verify import verify_workload

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize("grid", list(PLANS), ids=lambda g: "grid" + "x".join(map(str, g)))
def test_collective_matrix_verifies_against_ptoisa(grid: tuple[int, ...]) -> None:
    program, cases = build(grid)
    report = verify_workload(program.workload, pto_isa_root=ptoisa_root())
    assert report.ok, report.text()
    by_name = {t.name: t for t in report.tensors}
    for c in cases:
        assert by_name[c.result.name].bit_equal, f"{c.kind} {c.label}\n{report.text()}"
    kinds = {k.kernel.split(" ")[0] for k in report.kernels if k.tasks > 0}
    assert kinds == {"allreduce", "reduce_scatter", "allgather", "relayout"}, report.text()


@kernel
def scale_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.add(pto.load(x), pto.load(x)))


def test_allreduce_between_kernels_reads_and_feeds_tasks() -> None:
    """Partials written by tasks, summed over a 2 x 2 mesh (two sharded dims: two folds in
    ascending mesh-axis order), then read by a task: the fold runs between them in the list."""
    rng = np.random.default_rng(4)
    src = rng.standard_normal((4, 6, 8)).astype(np.float32)
    X = Tensor(src, name="X")
    part = Tensor(
        np.zeros((4, 6, 8), np.float32),
        layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=1),
        name="part",
    )
    Y = Tensor(np.zeros((4, 6, 8), np.float32), name="Y")

    @workload
    def tp():
        for i in P(4):
            scale_k[i](x=X[i], y=part[i])
        s = allreduce(part, op="sum")
        for i in P(4):
            scale_k[i](x=s[i], y=Y[i])

    w = tp().spatial_map(grid=(1, 2))
    report = verify_workload(w, pto_isa_root=ptoisa_root())
    assert report.ok, report.text()
    assert {t.name: t.bit_equal for t in report.tensors}["Y"], report.text()
    twice = src + src
    halves = twice[:2] + twice[2:]
    program = w.compile(target="cpu_sim")
    program.execute()
    program.synchronize()
    np.testing.assert_array_equal(Y.data, 2 * np.concatenate([halves, halves]))
    # one copy and one fold kernel after the module's, both writing the result tensor
    kernels = emit_tree(lower(w))["collective_kernels"]
    assert [(k["collective"], k["op"]) for k in kernels] == [
        ("allreduce", "copy"),
        ("allreduce", "add"),
    ]
