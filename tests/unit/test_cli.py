"""``pto-wsp`` and ``python -m app``: output and exit codes (docs/semantics.md)."""

import json
import textwrap
from pathlib import Path

import pytest

from pto_wsp import cli

SAMPLE = (
    Path(__file__).resolve().parents[2] / "app" / "projects" / "samples" / "attention_varlen.py"
)

SCRIPT = """
import numpy as np
from pto_wsp import Dense, In, Out, P, Tensor, kernel, workload

X = Tensor(np.zeros((4, 8), np.float32), name="X")
Y = Tensor(np.zeros((4, 8), np.float32), name="Y")

@kernel
def scale(x: In[Tensor], y: Out[Tensor]): ...

@workload
def rows(n):
    for i in P(n):
        scale[i](x=X[i], y=Y[i])

built = [rows(Dense[4])]
if __name__ == "__main__":
    raise SystemExit("the run-me block must not run under pto-wsp ir")
"""


def write(tmp_path: Path, text: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_version(capsys):
    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out.startswith("pto-wsp ")


def test_usage_errors_exit_2(capsys):
    assert cli.main([]) == 2
    assert cli.main(["frobnicate"]) == 2
    assert "usage" in capsys.readouterr().err


def test_ir_prints_every_reachable_workload(tmp_path, capsys):
    assert cli.main(["ir", str(write(tmp_path, SCRIPT))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("// built[0]\n")
    assert "scale" in out and "parallel_for" in out


def test_ir_missing_file_is_a_user_error(tmp_path, capsys):
    assert cli.main(["ir", str(tmp_path / "nope.py")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_ir_script_error_names_its_line(tmp_path, capsys):
    path = write(tmp_path, "x = 1\nraise ValueError('boom')\n")
    assert cli.main(["ir", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2" in err and "ValueError: boom" in err


def test_ir_dsl_error_keeps_the_users_location(tmp_path, capsys):
    path = write(tmp_path, "import pto_wsp\npto_wsp.Tensor(shape=(2,), dtype='f17')\n")
    assert cli.main(["ir", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:2" in err and "f17" in err


def test_ir_without_workloads_is_a_user_error(tmp_path, capsys):
    assert cli.main(["ir", str(write(tmp_path, "x = 1\n"))]) == 1
    assert "builds no workload" in capsys.readouterr().err


@pytest.mark.slow
def test_app_runs_the_bundled_sample(capsys):
    from app.__main__ import SAMPLE_PROJECT, main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert SAMPLE_PROJECT.name in out
    assert "dependency type: Independent" in out
    assert "attn_kernel" in out and " 32\n" in out  # 4 batches x 8 heads
    assert "schedule:" in out and "IR:" in out
    assert "task_count       32" in out and "total_cycles     29696" in out
    trace_line = next(line for line in out.splitlines() if line.strip().startswith("trace "))
    trace_path = Path(trace_line.split()[1])
    assert trace_path.is_file()
    assert "traceEvents" in json.loads(trace_path.read_text())


MESH_SCRIPT = """
import numpy as np
from pto_wsp import P, Tensor, TensorLayout, allreduce, kernel, In, Out, workload

part = Tensor(np.ones((2, 4, 4), np.float32), layout=TensorLayout.sharded(dim=0, rank=3), name="p")
y = Tensor(np.zeros((4, 4), np.float32), name="y")

@kernel
def take(a: In[Tensor], o: Out[Tensor]): ...

@workload
def reduce_all():
    r = allreduce(part)
    take(a=r[0], o=y)

w = reduce_all()
program = w.spatial_map(grid=(2,)).compile(target="cpu_sim")
"""


def test_ir_skips_the_unscheduled_stage_of_a_schedule_chain(tmp_path, capsys):
    # `w` alone has no mesh, so lowering it would fail ("needs a mesh"); it is only a stage of
    # the chain that compiled `program`, whose IR is printed instead.
    assert cli.main(["ir", str(write(tmp_path, MESH_SCRIPT))]) == 0
    out = capsys.readouterr().out
    headers = [ln for ln in out.splitlines() if ln.startswith("// ")]
    assert headers == ["// program.workload"]
    assert "collective allreduce" in out and "grid=[2]" in out


def test_scheduled_only_keeps_unrelated_and_final_workloads(tmp_path):
    result = cli.run_script(write(tmp_path, MESH_SCRIPT))
    names = [n for n, _ in cli.scheduled_only(result.workloads)]
    assert names == ["program.workload"]
    result = cli.run_script(write(tmp_path, SCRIPT))  # no schedules: nothing is dropped
    assert cli.scheduled_only(result.workloads) == result.workloads


PROJECTS = sorted((Path(__file__).resolve().parents[2] / "app" / "projects").glob("*.pto.json"))


@pytest.mark.parametrize("project", PROJECTS, ids=[p.name for p in PROJECTS])
def test_every_bundled_project_runs_headless(project, tmp_path, monkeypatch):
    # What `bash dev.sh run PROJECT` does without a display: export, run, report stats.
    import io

    from app.__main__ import report_any

    monkeypatch.setenv("PTO_WSP_TRACE_DIR", str(tmp_path))
    out = io.StringIO()
    assert report_any(project, out) == 0
    assert "total_cycles" in out.getvalue()
