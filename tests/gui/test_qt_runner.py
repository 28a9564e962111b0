"""QtRunner: a real worker run off the GUI thread, reported through signals; cancel stops it."""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

import pytest

from app.model import io
from app.runner.job import RunResult
from app.runner.qt_runner import QtRunner

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 120_000

SLEEPY = """
    import time

    print("warming up", flush=True)
    for _ in range(600):
        time.sleep(0.1)
"""


@pytest.fixture
def runner(qtbot):
    r = QtRunner(grace_s=0.5)
    yield r
    r.shutdown()


def test_successful_run_emits_started_progress_finished(qtbot, runner: QtRunner, tmp_path):
    doc = io.load(ROOT / "app" / "projects" / "matmul.pto.json")
    lines: list[str] = []
    failures: list[RunResult] = []
    runner.progress.connect(lines.append)
    runner.failed.connect(failures.append)
    with qtbot.waitSignal(runner.started, timeout=TIMEOUT_MS):
        with qtbot.waitSignal(runner.finished, timeout=TIMEOUT_MS) as finished:
            runner.start(doc, tmp_path / "run")
            assert runner.is_running()
    result = finished.args[0]
    assert isinstance(result, RunResult) and result.ok
    assert result.stats["task_count"] == 4 and len(result.trace) == 4
    assert any(line.startswith("ProgramStats(") for line in lines)
    assert failures == [] and not runner.is_running()
    assert runner.last_result is result


def test_failed_run_emits_failed_with_node_diagnostic(qtbot, runner: QtRunner, tmp_path):
    doc = io.load(ROOT / "app" / "projects" / "matmul.pto.json")
    kern = next(n for n, _g, _o in doc.walk() if n.kind == "kernel.def")
    kern.props["params"][1]["rows"] = 16  # b: 16x16, so a(16x32) @ b has mismatched K
    tensor_b = next(n for n in doc.graph.nodes.values() if n.name == "B")
    tensor_b.props["shape"] = [16, 16]  # the call passes B whole: a view that fits the 16x16 b
    op = next(n for n in kern.body.nodes.values() if n.kind == "pto.matmul")
    with qtbot.waitSignal(runner.failed, timeout=TIMEOUT_MS) as failed:
        runner.start(doc, tmp_path / "run")
    result = failed.args[0]
    assert not result.ok and result.errors[0].node_id == op.id


def test_cancel_stops_the_run_and_reports_failed(qtbot, runner: QtRunner, tmp_path):
    script = tmp_path / "sleepy.py"
    script.write_text(textwrap.dedent(SLEEPY).lstrip())
    with qtbot.waitSignal(
        runner.progress, timeout=TIMEOUT_MS, check_params_cb=lambda s: s == "warming up"
    ):
        runner.start(script, tmp_path / "art")
    with pytest.raises(RuntimeError, match="already in progress"):
        runner.start(script, tmp_path / "other")
    with qtbot.waitSignal(runner.failed, timeout=10_000) as failed:
        runner.cancel()
    result = failed.args[0]
    assert result.cancelled and result.returncode == -signal.SIGTERM
    assert [d.kind for d in result.diagnostics] == ["Cancelled"]
    assert not runner.is_running()


def test_missing_script_ends_in_failed(qtbot, runner: QtRunner, tmp_path):
    with qtbot.waitSignal(runner.failed, timeout=10_000) as failed:
        runner.start(tmp_path / "missing.py", tmp_path / "art")
    (diag,) = failed.args[0].diagnostics
    assert diag.kind == "FileNotFoundError" and "missing.py" in diag.message
