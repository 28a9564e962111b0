"""Every sample project: open, export, and run the exported script in a subprocess.

Numerics are compared with numpy where kernels have bodies. The CSP samples (spec §8.3 and
the producer/consumer pipeline) run too: their task counts, per-item order and cycles are
checked, and so is the CSP trace the runner writes beside ``--trace`` (``X.csp.npz``).
Also covers the runner protocol (``pto_wsp.runtime.runner``): --stats, --trace, --outputs,
--no-execute and the one-line ``file:line: Error:`` on failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.model import io
from app.model.export import export_script

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = ROOT / "app" / "projects"
CSP = {"megakernel_pipeline", "csp_pipeline"}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _export(name: str, tmp_path: Path) -> Path:
    doc = io.load(PROJECTS / f"{name}.pto.json")
    script = tmp_path / f"{name}.py"
    script.write_text(export_script(doc).source)
    return script


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
        cwd=str(script.parent),
    )


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _check_attention(t: dict[str, np.ndarray]) -> None:
    s = np.einsum("bhsd,bdt->bhst", t["Q"], t["KT"]) * 0.25
    want = np.einsum("bhst,btd->bhsd", _softmax(s), t["V"])
    np.testing.assert_allclose(t["O"], want, rtol=1e-4, atol=1e-5)


def _check_matmul(t: dict[str, np.ndarray]) -> None:
    np.testing.assert_allclose(t["C"], t["A"] @ t["B"], rtol=1e-4, atol=1e-5)


def _check_softmax(t: dict[str, np.ndarray]) -> None:
    np.testing.assert_allclose(t["Y"], _softmax(t["X"]), rtol=1e-5, atol=1e-6)


def _check_rmsnorm(t: dict[str, np.ndarray]) -> None:
    x = t["X"]
    want = x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(t["Y"], want, rtol=1e-4, atol=1e-5)


def _check_moe(t: dict[str, np.ndarray]) -> None:
    want = np.zeros_like(t["out"])
    indptr, indices = t["indptr"], t["indices"]
    for b in range(len(indptr) - 1):
        for e in indices[indptr[b] : indptr[b + 1]]:
            want[b, e] = t["tokens"][b] @ t["weights"][e]
    np.testing.assert_allclose(t["out"], want, rtol=1e-4, atol=1e-5)
    assert np.any(want)


def _check_varlen(t: dict[str, np.ndarray]) -> None:
    assert not np.any(t["O"])  # the spec's kernel has an empty body: outputs stay untouched


def _check_megakernel(t: dict[str, np.ndarray]) -> None:
    assert not np.any(t["output"])  # §8.3's kernels have empty bodies


def _check_csp_pipeline(t: dict[str, np.ndarray]) -> None:
    assert not np.any(t["Y"])  # empty-body kernels


def _check_tensor_parallel(t: dict[str, np.ndarray]) -> None:
    # Y[n] = X @ W[:, n-th column block]; K is split in two blocks over mesh axis 0, each tile
    # multiplies one (K block, N block) pair and allreduce sums the K partials
    for n in range(2):
        want = sum(t["X"][k] @ t["W"][k, n] for k in range(2))
        np.testing.assert_allclose(t["Y"][n], want, rtol=1e-4, atol=1e-4)


CHECKS: dict[str, tuple[Callable[[dict[str, np.ndarray]], None], int]] = {
    "attention": (_check_attention, 8),
    "attention_varlen": (_check_varlen, 32),
    "matmul": (_check_matmul, 4),
    "softmax": (_check_softmax, 8),
    "rmsnorm": (_check_rmsnorm, 8),
    "moe": (_check_moe, 4),
    "megakernel_pipeline": (_check_megakernel, 24),
    "csp_pipeline": (_check_csp_pipeline, 16),
    "tensor_parallel": (_check_tensor_parallel, 9),  # 4 partials, allreduce on 4 tiles, finish
}


def test_every_sample_is_covered() -> None:
    names = {p.name.split(".")[0] for p in PROJECTS.glob("*.pto.json")}
    assert names == set(CHECKS)
    assert CSP <= names


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_sample_runs_and_matches_numpy(name: str, tmp_path: Path) -> None:
    script = _export(name, tmp_path)
    stats_path, trace_path, out_path = tmp_path / "s.json", tmp_path / "t.npy", tmp_path / "o.npz"
    proc = _run(
        script, "--stats", str(stats_path), "--trace", str(trace_path), "--outputs", str(out_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ProgramStats(")
    stats = json.loads(stats_path.read_text())
    check, tasks = CHECKS[name]
    assert stats["ok"] and stats["executed"] and stats["diagnostics"] == []
    assert stats["task_count"] == tasks and stats["total_cycles"] > 0
    assert stats["kernel_names"]
    assert stats["ns_per_cycle"] == 1.0  # the default cost table's clock (the timeline's scale)
    trace = np.load(trace_path)
    assert len(trace) == tasks
    assert np.all(trace["end"] >= trace["start"])
    with np.load(out_path) as data:
        check({k: data[k] for k in data.files})


def _run_traced(name: str, tmp_path: Path) -> tuple[dict, np.ndarray, dict[str, np.ndarray]]:
    script = _export(name, tmp_path)
    stats_path, trace_path = tmp_path / "s.json", tmp_path / "t.npy"
    proc = _run(script, "--stats", str(stats_path), "--trace", str(trace_path))
    assert proc.returncode == 0, proc.stderr
    csp_path = tmp_path / "t.csp.npz"
    assert csp_path.is_file(), "a CSP run writes its CSP trace beside the task trace"
    with np.load(csp_path, allow_pickle=False) as data:
        csp = {k: data[k] for k in data.files}
    return json.loads(stats_path.read_text()), np.load(trace_path), csp


def _tasks(trace: np.ndarray, names: list[str], kernel: str) -> np.ndarray:
    return trace[trace["kernel"] == names.index(kernel)]


def test_megakernel_sample_spec_8_3_order_and_cycles(tmp_path: Path) -> None:
    stats, trace, csp = _run_traced("megakernel_pipeline", tmp_path)
    names = stats["kernel_names"]
    assert names == ["load", "compute", "store"]
    ld, cp, st = (_tasks(trace, names, k) for k in names)
    assert len(ld) == len(cp) == len(st) == 8
    for i in range(8):  # item i: load, then compute, then store (the channels' order)
        assert ld["end"][i] <= cp["start"][i] and cp["end"][i] <= st["start"][i]
    # Derived by hand from the DESIGN §2 cycle table. Every kernel has an empty body, so a
    # task costs a load of each In tile plus a store of each Out tile, r*c cycles each, and
    # every parameter is a Tile[16, 16] (each call passes a 16x16 view: input[i], tile_buf,
    # result_buf, output[r]):
    #   load[i]:    In input[i] 16*16 = 256  + Out buf 256     = 512
    #   compute[t]: In buf 256               + Out result 256  = 512
    #   store[r]:   In result 256            + Out output[r] 256 = 512
    # One worker (round_robin(1)) runs the 3 tasks of each of the 8 items back to back (each
    # is ready when the one before it ends), so the makespan is 8 * (512 + 512 + 512) = 12288.
    assert stats["total_cycles"] == 8 * (512 + 512 + 512) == 12288
    assert list(csp["processes"]) == ["stage0", "stage1", "stage2"]
    assert list(csp["channels"]) == ["l2c", "c2s"]
    # Each stage submits its own kernel's tasks.
    for p, kernel in enumerate(names):
        assert np.all(trace["kernel"][csp["task_process"] == p] == names.index(kernel))
    assert len(csp["waits"]) and set(np.unique(csp["waits"]["kind"])) <= {0, 1}
    assert int(csp["occupancy"]["occupancy"].max()) == 2
    assert int(csp["occupancy"][csp["occupancy"]["channel"] == 0]["occupancy"][-1]) == 0


def test_csp_pipeline_sample_overlaps_producer_and_consumer(tmp_path: Path) -> None:
    stats, trace, csp = _run_traced("csp_pipeline", tmp_path)
    names = stats["kernel_names"]
    prod, fin = _tasks(trace, names, "produce"), _tasks(trace, names, "finish")
    assert len(prod) == len(fin) == 8
    assert np.all(prod["end"] <= fin["start"])
    # 512-cycle tasks on 4 workers: the consumer trails the producer by one item.
    assert stats["total_cycles"] == (8 + 1) * 512
    assert list(csp["processes"]) == ["producer", "consumer"]
    assert list(csp["task_process"]) == [0, 1] * 8
    # The consumer waits for the first item only.
    assert csp["waits"][["start", "end", "process", "kind"]].tolist() == [(0, 512, 1, 1)]


@pytest.mark.parametrize("name", sorted(CSP))
def test_csp_sample_exports_and_lowers(name: str, tmp_path: Path) -> None:
    script = _export(name, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "pto_wsp.cli", "ir", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "channel #ch0" in proc.stdout
    assert "send #ch0" in proc.stdout and "consume #ch0" in proc.stdout


def test_no_execute_compiles_only(tmp_path: Path) -> None:
    script = _export("matmul", tmp_path)
    stats_path = tmp_path / "s.json"
    proc = _run(script, "--no-execute", "--stats", str(stats_path))
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(stats_path.read_text())
    assert stats["ok"] and not stats["executed"] and stats["task_count"] == 0
    assert stats["kernel_names"] == ["matmul"]


def test_trace_with_no_execute_is_a_usage_error(tmp_path: Path) -> None:
    script = _export("matmul", tmp_path)
    proc = _run(script, "--no-execute", "--trace", str(tmp_path / "t.npy"))
    assert proc.returncode == 2
    assert "--trace needs a run" in proc.stderr


def test_build_error_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    script = tmp_path / "bad.py"
    script.write_text(
        textwrap.dedent(
            """\
            from pto_wsp import DType, In, Out, Tile, kernel, pto
            from pto_wsp.runtime.runner import report_errors, run_main

            report_errors()


            @kernel
            def bad(x: In[Tile[4, 4, DType.F32]], y: Out[Tile[4, 8, DType.F32]]):
                pto.store(y, pto.matmul(x, x))
                pto.store(y, pto.exp(y))
            """
        )
    )
    stats_path = tmp_path / "s.json"
    proc = _run(script, "--stats", str(stats_path))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{script}:9: Error: TypeCheckError: pto.store")
    stats = json.loads(stats_path.read_text())
    assert not stats["ok"]
    assert stats["diagnostics"][0]["line"] == 9 and stats["diagnostics"][0]["file"] == str(script)


def test_run_error_is_one_line_and_recorded(tmp_path: Path) -> None:
    script = tmp_path / "bad_run.py"
    script.write_text(
        textwrap.dedent(
            """\
            from pto_wsp.runtime.runner import run_main


            def build():
                raise RuntimeError("cannot build this program")


            if __name__ == "__main__":
                run_main(build)
            """
        )
    )
    stats_path = tmp_path / "s.json"
    proc = _run(script, "--stats", str(stats_path))
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"{script}:5: Error: RuntimeError: cannot build this program"
    diag = json.loads(stats_path.read_text())["diagnostics"][0]
    assert diag == {
        "severity": "error",
        "kind": "RuntimeError",
        "file": str(script),
        "line": 5,
        "message": "cannot build this program",
    }
