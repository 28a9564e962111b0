"""``pto-wsp`` and ``python -m app``: output and exit codes (docs/semantics.md)."""

import json
import textwrap
from pathlib import Path

import pytest

from pto_wsp import cli

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "samples" / "attention_varlen.py"

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
