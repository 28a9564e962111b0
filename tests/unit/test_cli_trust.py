"""Commands and code-bearing projects: ``pto-wsp validate`` reports the kernels that carry C++;
``pto-wsp run``, ``python -m app.sweep`` and the headless main job run such a file (naming the
file is the consent) and say so in one line on stderr. A project without C++ says nothing."""

from __future__ import annotations

import io as textio
from pathlib import Path

import pytest
from trust_projects import MATMUL, code_document, write_elsewhere

from app import cli
from app import sweep as app_sweep
from app.__main__ import main as studio_main
from app.model import io, registry, trust

NOTICE = "carries C++ code (kernel matmul); running it: the command is the consent"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_elsewhere(code_document(), tmp_path / "downloads" / "matmul_cpp.pto.json")


def notices(err: str) -> list[str]:
    return [line for line in err.splitlines() if "carries C++ code" in line]


def test_validate_names_every_kernel_that_carries_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = code_document()
    extra = registry.new_node("kernel.def", doc, name="topk", params=[{"name": "x"}])
    extra.props["cpp_includes"] = ["topk.hpp"]
    extra.props["cpp_src"] = "/* sort */"
    doc.graph.nodes[extra.id] = extra
    path = write_elsewhere(doc, tmp_path / "two.pto.json")
    assert cli.main(["validate", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"{path}: carries C++ code: kernels matmul, topk" in out
    assert out[-1] == f"{path}: ok"


def test_validate_of_a_project_without_code_does_not_mention_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert trust.code_carriers(io.load(MATMUL)) == []
    assert cli.main(["validate", str(MATMUL)]) == 0
    captured = capsys.readouterr()
    assert "C++" not in captured.out + captured.err


@pytest.mark.slow
def test_run_runs_a_code_project_and_says_so_once(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", str(project)]) == 0
    captured = capsys.readouterr()
    assert notices(captured.err) == [f"pto-wsp: {project} {NOTICE}"]
    assert "task_count       4" in captured.out  # it ran


@pytest.mark.slow
def test_the_headless_main_job_runs_a_code_project_and_says_so(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTO_WSP_TRACE_DIR", str(tmp_path / "traces"))
    assert studio_main(["--headless", str(project)]) == 0
    captured = capsys.readouterr()
    assert notices(captured.err) == [f"pto-wsp-studio: {project} {NOTICE}"]
    assert "total_cycles" in captured.out


@pytest.mark.slow
def test_the_sweep_command_runs_a_code_project_and_says_so(project: Path) -> None:
    out, err = textio.StringIO(), textio.StringIO()
    code = app_sweep.main(
        [str(project), "--node", "n5", "--prop", "cost", "--values", "10, 20"], out, err
    )
    assert code == 0, err.getvalue()
    assert notices(err.getvalue()) == [f"{project} {NOTICE}"]
    assert "ok" in out.getvalue()


def test_the_sweep_command_says_nothing_when_nothing_runs(project: Path) -> None:
    out, err = textio.StringIO(), textio.StringIO()
    code = app_sweep.main(
        [str(project), "--node", "n5", "--prop", "cost", "--values", "x"], out, err
    )
    assert code == 1 and "error" in err.getvalue()
    assert notices(err.getvalue()) == []  # a bad value list: nothing ran


def test_the_fixture_project_carries_code_in_one_kernel(project: Path) -> None:
    (carrier,) = trust.code_carriers(io.load(project))
    assert (carrier.node_id, carrier.name, carrier.fields) == ("n5", "matmul", ("cpp_src",))
