"""A project's relative ``cpp_body_path`` is found beside the project file however the project
is run (issue #17 item 3): ``pto-wsp run PROJECT`` from another working directory, the exported
script run from a worker's own folder (the Studio's ``RunJob``), and a project saved elsewhere
with its C++. A decoy ``kernels/body.cpp`` that does not compile sits in the working directory,
so resolving against the wrong folder fails the run; the body's cycles prove which file ran.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from trust_projects import body_file_document, write_elsewhere

from app import cli
from app.model import io
from app.runner.job import RunJob

EXTRA = 500
# Reference ABI (it names task->): each task adds EXTRA + its axis value to its cycles.
BODY = "pto::cpu_sim::add_cycles(500 + task->args[0]);\n"
DECOY = "#error resolved against the working directory, not the project's folder\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``proj/p.pto.json`` naming ``kernels/body.cpp`` (relative); the working directory is
    another folder holding a decoy at the same relative path."""
    folder = tmp_path / "proj"
    (folder / "kernels").mkdir(parents=True)
    (folder / "kernels" / "body.cpp").write_text(BODY)
    path = write_elsewhere(body_file_document("kernels/body.cpp"), folder / "p.pto.json")
    cwd = tmp_path / "elsewhere"
    (cwd / "kernels").mkdir(parents=True)
    (cwd / "kernels" / "body.cpp").write_text(DECOY)
    monkeypatch.chdir(cwd)
    return path


def body_cycles(trace: np.ndarray) -> list[int]:
    """Each task's cycles minus the first task's, in task order: 0, 1, 2, ... when the body
    added 500 + its axis value."""
    order = np.argsort(trace["task"])
    spans = (trace["end"] - trace["start"])[order]
    return (spans - spans[0]).tolist()


@pytest.mark.slow
def test_pto_wsp_run_from_another_working_directory(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    relative = os.path.relpath(project)  # ../proj/p.pto.json
    assert cli.main(["run", relative]) == 0, capsys.readouterr().err
    assert "task_count       4" in capsys.readouterr().out


@pytest.mark.slow
def test_the_exported_script_runs_from_the_workers_folder(project: Path, tmp_path: Path) -> None:
    job = RunJob(io.load(project), tmp_path / "run")
    result = job.wait(timeout=600)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert job.cwd == tmp_path / "run"  # the worker's folder: neither the project's nor cwd
    assert result.trace is not None and len(result.trace) == 4
    assert body_cycles(result.trace) == [0, 1, 2, 3]
    spans = result.trace["end"] - result.trace["start"]
    assert int(spans.min()) >= EXTRA


@pytest.mark.slow
def test_a_project_saved_elsewhere_with_its_cpp_uses_the_copy(
    project: Path, tmp_path: Path
) -> None:
    moved = tmp_path / "moved"
    (moved / "kernels").mkdir(parents=True)
    shutil.copy(project.parent / "kernels" / "body.cpp", moved / "kernels" / "body.cpp")
    io.save(io.load(project), moved / "p.pto.json")
    shutil.rmtree(project.parent)  # only the copy is left
    result = RunJob(io.load(moved / "p.pto.json"), tmp_path / "run").wait(timeout=600)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert body_cycles(result.trace) == [0, 1, 2, 3]
