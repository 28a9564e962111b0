"""Emit and verify: the ascend_npu AICore kernels compile against the real PTO-ISA headers in
CPU simulation mode, run on the host through the emitted expander on numpy data, and equal
cpu_sim's outputs bit for bit or within the op table's documented bounds (docs/ptoisa.md).

Covered: every bundled sample (exported as a user would) and the op x dtype table of
``test_ops_e2e.py`` (every op, every dtype it runs on cpu_sim), batched into a few translation
units. The pairs PTO-ISA has no instruction form for are listed in ``PTOISA_GAPS`` with the
reason; the test checks both ways, so a gap that closes (a newer PTO-ISA) fails here too.
Skipped, with the reason, only where no PTO-ISA root or no clang++ >= 19 is found
(``tests/ptoisa_env.py``).
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ptoisa_env import ptoisa_root, skip_reason

from app.model import io
from app.model.export import export_script
from pto_wsp import In, Out, P, Tensor, kernel, pto, workload
from pto_wsp.cli import main as cli_main
from pto_wsp.runtime.ptoisa_verify import VerifyReport, verify_workload

pytestmark = [
    pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason())),
    pytest.mark.filterwarnings("ignore::pto_wsp.ScheduleWarning"),  # samples' annotated directives
]

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted(
    p.name.removesuffix(".pto.json") for p in (REPO / "app" / "projects").glob("*.pto.json")
)
# Every sample verifies: CSP pipelines (csp_pipeline, megakernel_pipeline) through the
# expander's cooperative schedule, tensor_parallel's allreduce through its synthesized kernels.


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))


def verify(w: Any, name: str | None = None) -> VerifyReport:
    return verify_workload(w, pto_isa_root=ptoisa_root(), name=name)


# ---- samples ---------------------------------------------------------------------------------


def sample_program(name: str, where: Path) -> Any:
    script = where / f"{name}.py"
    script.write_text(export_script(io.load(REPO / "app" / "projects" / f"{name}.pto.json")).source)
    return runpy.run_path(str(script), run_name="verify_export")["program"]


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_verifies_against_ptoisa(name: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    program = sample_program(name, tmp_path)
    report = verify(program.workload, name)
    assert report.kernels, report.text()
    assert report.ok, report.text()
    ran = [k for k in report.kernels if k.tasks > 0]
    assert ran, f"{name}: no kernel ran\n{report.text()}"


# ---- the op x dtype table ----------------------------------------------------------------------

# Case ids of test_ops_e2e whose kernel PTO-ISA cannot express (../shared/third_party/pto-isa,
# SOURCE.md's commit): 8-byte element types on the row / column reductions (TROWSUM takes f16,
# bf16, f32, i16, i32; TCOLSUM f16, bf16, f32; TCOLMAX f16, bf16, f32, i8, u8) and on matmul
# (TMATMUL takes f16, bf16, f32, i8), where the composition used for the other integer types
# needs TEXTRACT's Vec -> Vec path, which takes 1-, 2- and 4-byte types only; and TINTERLEAVE on
# 8-byte types. The verifier reports each as "does not compile against PTO-ISA" with the
# compiler's static_assert; the test checks both ways, so a gap that closes fails here too.
PTOISA_GAPS = frozenset(
    """
    rowsum-f64 rowsum-i64 rowsum-u64 rowmean-f64 colsum-f64 colsum-i64 colsum-u64 colmax-f64
    colmax-i64 colmax-u64 matmul-f64 matmul-i64 matmul-u64 matmul-acc-f64 interleave-f64
    interleave-u64
    """.split()
)


def op_cases() -> list[Any]:
    from test_ops_e2e import CASES

    return CASES


@pytest.mark.parametrize("half", [0, 1])
def test_op_dtype_table_verifies_against_ptoisa(half: int) -> None:
    """Half of the table per workload: two translation units, built in parallel under -n 2."""
    from test_ops_e2e import G

    all_cases = op_cases()
    cases = all_cases[half::2]

    @workload
    def op_table():
        for case in cases:
            for i in P(G):
                args: dict[str, Any] = {k: t[i] for k, t in case.tensors.items()}
                args.update(case.shared_t)
                args.update({k: fn(i) for k, fn in case.scalars.items()})
                args[case.out_name] = case.out_t[i]
                case.kernel[i](**args)

    report = verify(op_table())
    by_tensor: dict[str, list[Any]] = {}
    for k in report.kernels:
        for t in k.tensors:
            by_tensor.setdefault(t, []).append(k)
    names = {t.name.replace("_", "-"): t.name for t in report.tensors}
    wrong = []
    for case in cases:
        verdicts = by_tensor[names[f"{case.id}-out".replace("_", "-")]]
        if case.id in PTOISA_GAPS:
            expected = "does not compile against PTO-ISA"
        else:
            expected = None
        if expected is None and not all(k.ok for k in verdicts):
            wrong.append(f"{case.id}: " + "; ".join(k.detail for k in verdicts if not k.ok))
        if expected is not None and not any(expected in k.detail for k in verdicts):
            wrong.append(
                f"{case.id}: expected '{expected}', got " + "; ".join(k.line() for k in verdicts)
            )
    assert not wrong, "\n".join(wrong)
    verified = sum(1 for c in cases if c.id not in PTOISA_GAPS)
    assert verified > len(cases) * 9 // 10


# ---- the command line --------------------------------------------------------------------------


@kernel
def scale_k(x: In[Tensor], y: Out[Tensor]):
    pto.store(y, pto.gelu(pto.mul(x, x)) + pto.rowmax(x))


SCRIPT = """
import numpy as np
from pto_wsp import P, Tensor, workload
from {module} import scale_k

X = Tensor(np.linspace(-3, 3, 4 * 8 * 16, dtype=np.float32).reshape(4, 8, 16))
Y = Tensor(np.zeros((4, 8, 16), np.float32))

@workload
def scaled():
    for i in P(4):
        scale_k[i](x=X[i], y=Y[i])

program = scaled().compile(target="ascend_npu")
"""


def test_cli_emit_verify_reports_per_kernel(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    script = tmp_path / "scaled.py"
    script.write_text(SCRIPT.format(module=Path(__file__).stem))
    out = tmp_path / "out"
    code = cli_main(
        ["emit", str(script), "-o", str(out), "--verify", "--pto-isa", str(ptoisa_root())]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert ": verified against PTO-ISA (" in text and "FAILED" not in text
    assert "  verified  @scale_k: 4 task(s); Y " in text
    assert (out / "aicore" / "kernel_0_scale_k.cpp").is_file()


def test_cli_pto_isa_needs_verify(tmp_path: Path, capsys) -> None:
    script = tmp_path / "s.py"
    script.write_text("")
    code = cli_main(["emit", str(script), "-o", str(tmp_path / "o"), "--pto-isa", "/x"])
    assert code == 1
    assert (
        "--pto-isa names the PTO-ISA checkout of --verify; add --verify" in capsys.readouterr().err
    )


def test_verify_leaves_the_users_data_alone() -> None:
    x = np.arange(8 * 16, dtype=np.float32).reshape(8, 16) / 64
    X, Y = Tensor(x.copy()), Tensor(np.zeros((8, 16), np.float32))

    @workload
    def once():
        for i in P(1):
            scale_k[i](x=X, y=Y)

    report = verify(once())
    assert report.ok, report.text()
    np.testing.assert_array_equal(X.data, x)
    assert not Y.data.any()


# ---- the runner protocol (what Studio's Emit and Verify runs in its worker) -------------------


def test_run_main_verify_writes_the_report_into_the_stats(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parent))
    script = tmp_path / "scaled.py"
    script.write_text(
        SCRIPT.format(module=Path(__file__).stem)
        + "\nfrom pto_wsp.runtime.runner import run_main\nrun_main(program)\n"
    )
    stats = tmp_path / "stats.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    res = subprocess.run(
        [
            sys.executable,
            str(script),
            "--stats",
            str(stats),
            "--verify",
            "--pto-isa",
            str(ptoisa_root()),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(stats.read_text())
    report = data["verify"]
    assert data["ok"] and not data["executed"]
    assert report["ok"] and report["root"] == str(ptoisa_root().resolve())
    (k,) = report["kernels"]
    assert (k["kernel"], k["status"], k["tasks"]) == ("scale_k", "verified", 4)
    assert k["max_ulp"] <= k["ulp_bound"] or k["max_abs"] <= k["abs_bound"]
    assert Path(data["artifact_dir"]) == Path(report["tree"])
    assert (Path(report["tree"]) / "aicore" / "kernel_0_scale_k.cpp").is_file()
    assert "verified  @scale_k: 4 task(s)" in res.stdout


def test_run_main_pto_isa_needs_verify(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("from pto_wsp.runtime.runner import run_main\nrun_main(None)\n")
    res = subprocess.run(
        [sys.executable, str(script), "--pto-isa", "/x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert "--pto-isa names the PTO-ISA checkout of --verify; add --verify" in res.stderr
