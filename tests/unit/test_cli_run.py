"""``pto-wsp run / export / emit / validate``: outputs, trace files and exit codes."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from app import cli

BODY = """
import numpy as np
from pto_wsp import Dense, In, Out, P, Tensor, kernel, workload

X = Tensor(np.ones((4, 8), np.float32), name="X")
Y = Tensor(np.zeros((4, 8), np.float32), name="Y")

@kernel
def scale(x: In[Tensor], y: Out[Tensor]): ...

@workload
def rows(n):
    for i in P(n):
        scale[i](x=X[i], y=Y[i])

program = rows(Dense[4]).compile(target="cpu_sim")
"""

RUN_MAIN = (
    BODY
    + """
from pto_wsp.runtime.runner import run_main

if __name__ == "__main__":
    run_main(program)
"""
)


def write(tmp_path: Path, text: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("body", [RUN_MAIN, BODY], ids=["run_main", "plain"])
def test_run_prints_stats_and_writes_chrome_trace(tmp_path, capsys, body):
    script = write(tmp_path, body)
    out_json, stats = tmp_path / "trace.json", tmp_path / "stats.json"
    assert cli.main(["run", str(script), "--trace", str(out_json), "--stats", str(stats)]) == 0
    printed = capsys.readouterr().out
    assert "task_count       4" in printed and "scale" in printed
    data = json.load(out_json.open())
    tasks = [e for e in data["traceEvents"] if e["ph"] == "X"]
    assert len(tasks) == 4 and {e["name"] for e in tasks} == {"scale"}
    s = json.load(stats.open())
    assert s["ok"] and s["executed"] and s["task_count"] == 4 and s["kernel_names"] == ["scale"]
    assert s["analysis"]["kernels"][0]["task_count"] == 4
    assert s["analysis"]["makespan"] == s["total_cycles"]


def test_run_writes_numpy_trace(tmp_path):
    script = write(tmp_path, RUN_MAIN)
    out = tmp_path / "trace.npy"
    assert cli.main(["run", str(script), "--trace", str(out)]) == 0
    trace = np.load(out)
    assert trace.dtype.names[:6] == ("task", "kernel", "worker", "stream", "start", "end")
    assert sorted(trace["task"].tolist()) == [0, 1, 2, 3]
    assert (trace["end"] > trace["start"]).all()


@pytest.mark.parametrize("body", [RUN_MAIN, BODY], ids=["run_main", "plain"])
def test_run_maps_the_trace_instead_of_copying_it(tmp_path, body):
    """The run's trace is memory-mapped from the file the child wrote (a 10^8-task trace
    is 5.6 GB), and an .npy written from it equals it record for record."""
    from pto_wsp.cli import run_file, write_trace

    outcome = run_file(write(tmp_path, body), None)
    assert isinstance(outcome.trace, np.memmap) and not outcome.trace.flags.writeable
    out = tmp_path / "again.npy"
    write_trace(outcome, out)
    np.testing.assert_array_equal(np.load(out), outcome.trace)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.npy", "script.py"]


def test_run_forks_its_child_from_the_command_when_single_threaded(tmp_path):
    """``pto-wsp run`` (one thread) starts the run as a fork of itself: the script's process
    already holds what the command imported (``pto_wsp.cli``, which a new interpreter running the
    script would not import), and the run's outcome is the same."""
    import subprocess
    import sys

    script = write(tmp_path, BODY + "\nimport sys\nprint('forked', 'pto_wsp.cli' in sys.modules)\n")
    res = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", str(script)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    lines = res.stdout.splitlines()
    assert lines[0] == "forked True"
    assert "task_count       4" in lines and any(ln.startswith("critical path") for ln in lines)


def test_plain_script_already_executed_is_not_run_again(tmp_path, capsys):
    script = write(
        tmp_path,
        BODY + "\nprogram.execute()\nprogram.synchronize()\nprint('ran once')\n",
    )
    assert cli.main(["run", str(script)]) == 0
    assert capsys.readouterr().out.count("ran once") == 1


def test_run_restores_process_state(tmp_path):
    import sys

    argv, main_mod, hook = list(sys.argv), sys.modules.get("__main__"), sys.excepthook
    script = write(
        tmp_path, "from pto_wsp.runtime.runner import report_errors\nreport_errors()\n" + RUN_MAIN
    )
    assert cli.main(["run", str(script)]) == 0
    assert sys.argv == argv and sys.modules.get("__main__") is main_mod and sys.excepthook is hook


def test_run_error_in_script_names_user_line(tmp_path, capsys):
    script = write(tmp_path, BODY + "\nraise ValueError('broken on purpose')\n")
    assert cli.main(["run", str(script)]) == 1
    err = capsys.readouterr().err
    line = len(textwrap.dedent(BODY + "\n").splitlines()) + 1
    assert f"{script}:{line}" in err and "broken on purpose" in err


def test_run_bad_inputs(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "missing.py")]) == 1
    assert "no such file" in capsys.readouterr().err
    txt = write(tmp_path, "hello", "notes.txt")
    assert cli.main(["run", str(txt)]) == 1
    assert "expected a DSL script" in capsys.readouterr().err
    nothing = write(tmp_path, "x = 1\n", "nothing.py")
    assert cli.main(["run", str(nothing)]) == 1
    assert "builds no Program" in capsys.readouterr().err
    script = write(tmp_path, BODY)
    assert cli.main(["run", str(script), "--trace", str(tmp_path / "t.csv")]) == 2
    assert cli.main(["run", str(script), "--target", "gpu"]) == 2
    assert cli.main(["run"]) == 2
    assert cli.main(["frobnicate"]) == 2


def test_run_main_script_refuses_other_target(tmp_path, capsys):
    script = write(tmp_path, RUN_MAIN)
    assert cli.main(["run", str(script), "--target", "ascend_npu"]) == 1
    assert "--target ascend_npu cannot change" in capsys.readouterr().err


def test_plain_script_on_emit_only_target_is_a_user_error(tmp_path, capsys):
    script = write(tmp_path, BODY)
    assert cli.main(["run", str(script), "--target", "ascend_npu"]) == 1
    assert "emit-only" in capsys.readouterr().err


# ---- project files ---------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    from app.model import io
    from app.model.commands import AddNode, Connect, DocumentEditor
    from app.model.document import Document, PortRef
    from app.model.validation import validate_document

    ed = DocumentEditor(Document(name="rows"))

    def add(kind, parent=None, name=None, **props):
        return ed.apply(AddNode(kind, (0.0, 0.0), parent, name, **props)).node

    def wire(src, sport, dst, dport):
        ed.apply(Connect(PortRef(src, sport), PortRef(dst, dport)))

    x = add("data.tensor", name="X", shape=[4, 8])
    y = add("data.tensor", name="Y", shape=[4, 8])
    n = add("axis.dense", name="n", size=4)
    params = [{"name": "X", "direction": "In"}, {"name": "Y", "direction": "Out"}]
    scale = add("kernel.def", name="scale", params=params)
    wl = add("workload.def", name="rows", target="cpu_sim")
    loop = add("loop.parallel", parent=wl.id, axes=[{"var": "i", "axis": n.id}])
    call = add("kernel.call", parent=loop.id, kernel=scale.id, index={"X": "i", "Y": "i"})
    wire(x.id, "tensor", call.id, "X")
    wire(call.id, "Y", y.id, "write")
    assert validate_document(ed.doc) == []
    path = tmp_path / "rows.pto.json"
    io.save(ed.doc, path)
    return path


def test_run_project_file(project, tmp_path, capsys):
    trace = tmp_path / "t.npy"
    assert cli.main(["run", str(project), "--trace", str(trace)]) == 0
    assert "task_count       4" in capsys.readouterr().out
    assert len(np.load(trace)) == 4


def test_run_project_on_emit_only_target_points_at_node(project, capsys):
    assert cli.main(["run", str(project), "--target", "ascend_npu"]) == 1
    err = capsys.readouterr().err
    assert f"{project}: node " in err and "emit-only" in err
    assert err.count("emit-only") == 1  # run_main's own line is not repeated


def test_run_error_inside_the_script_names_the_node_not_the_temporary_script(project, capsys):
    from app.model import io

    doc = io.load(project)
    call = next(n for n, _g, _o in doc.walk() if n.kind == "kernel.call")
    call.props["index"] = {"X": "i + 100", "Y": "i"}  # out of range at run time, not statically
    io.save(doc, project)
    assert cli.main(["run", str(project)]) == 1
    err = capsys.readouterr().err
    assert f"{project}: node {call.id} argument X" in err, err
    assert "_exported.py" not in err and "pto-wsp-run-" not in err


def test_export_project(project, tmp_path, capsys):
    out = tmp_path / "rows.py"
    assert cli.main(["export", str(project), "-o", str(out)]) == 0
    text = out.read_text()
    assert "def rows():" in text and "run_main(program)" in text
    assert cli.main(["export", str(project)]) == 0
    assert capsys.readouterr().out == text


def test_emit_ascend_tree(project, tmp_path, capsys):
    out = tmp_path / "npu"
    assert cli.main(["emit", str(project), "--target", "ascend_npu", "-o", str(out)]) == 0
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert "CMakeLists.txt" in files and any(f.startswith("aicore/") for f in files)
    assert cli.main(["emit", str(project), "-o", str(out)]) == 1  # not empty any more
    assert "not an empty directory" in capsys.readouterr().err


def test_validate(project, tmp_path, capsys):
    assert cli.main(["validate", str(project)]) == 0
    assert "ok" in capsys.readouterr().out
    data = json.loads(project.read_text())
    node = next(n for n in data["graph"]["nodes"] if n["kind"] == "kernel.def")
    node["name"] = "not a name"
    bad = tmp_path / "bad.pto.json"
    bad.write_text(json.dumps(data))
    assert cli.main(["validate", str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"{node['id']} name: 'not a name' is not a valid Python name" in captured.out
    assert "problem(s)" in captured.err
    broken = write(tmp_path, "{not json", "broken.json")
    assert cli.main(["validate", str(broken)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert cli.main(["validate", str(tmp_path / "none.json")]) == 1


# ---- schedule diagnostics (directives a target keeps only as annotations) --------------------

ANNOTATED = """
import numpy as np
from pto_wsp import Dense, In, Out, P, Tensor, TimingPolicy, kernel, workload
from pto_wsp.runtime.runner import run_main

X = Tensor(np.ones((4, 8), np.float32), name="X")
Y = Tensor(np.zeros((4, 8), np.float32), name="Y")

@kernel
def scale(x: In[Tensor], y: Out[Tensor]): ...

@workload
def rows(n):
    for i in P(n):
        scale[i](x=X[i], y=Y[i])

program = (
    rows(Dense[4])
    .streams(2)
    .timing(TimingPolicy.batched(2))
    .compile(target="ascend_npu")
)

if __name__ == "__main__":
    run_main(program)
"""


def _lines_of(text: str, needle: str) -> list[str]:
    return [ln for ln in text.splitlines() if needle in ln]


def _line_no(text: str, code: str) -> int:
    """The 1-based line of ``code`` in the script ``write`` makes of ``text``."""
    return textwrap.dedent(text).splitlines().index(code) + 1


def test_run_prints_annotated_directives_as_warnings_before_the_error(tmp_path, capsys):
    script = write(tmp_path, ANNOTATED)
    assert cli.main(["run", str(script)]) == 1  # ascend_npu is emit-only here
    err = capsys.readouterr().err
    streams = _lines_of(err, "streams is kept in the ascend_npu plan")
    timing = _lines_of(err, "timing(batched) is kept in the ascend_npu plan")
    # once each (not again as Python's own warning text), at the user's line of the directive
    at_streams = f"{script}:{_line_no(ANNOTATED, '    .streams(2)')}: warning: ScheduleWarning: "
    at_timing = f"{script}:{_line_no(ANNOTATED, '    .timing(TimingPolicy.batched(2))')}: warning: "
    assert len(streams) == 1 and streams[0].startswith(at_streams)
    assert len(timing) == 1 and timing[0].startswith(at_timing + "ScheduleWarning: ")
    assert err.index("warning:") < err.index("pto-wsp: error:")
    assert "emit-only" in err.splitlines()[-1]


def test_run_plain_script_reports_its_programs_warnings(tmp_path, capsys):
    script = write(tmp_path, ANNOTATED.split("\nif __name__")[0])
    assert cli.main(["run", str(script)]) == 1
    err = capsys.readouterr().err
    assert len(_lines_of(err, ": warning: ScheduleWarning: streams is kept")) == 1
    assert len(_lines_of(err, ": warning: ScheduleWarning: timing(batched) is kept")) == 1


def test_run_outcome_carries_the_warnings_of_a_successful_run(tmp_path):
    # cpu_sim enforces every directive; a warning the script issues itself still comes back
    text = RUN_MAIN.replace(
        "from pto_wsp.runtime.runner import run_main",
        "import warnings\nwarnings.warn('check the tile sizes')\nfrom pto_wsp.runtime.runner import run_main",
    )
    outcome = cli.run_file(write(tmp_path, text))
    (warned,) = outcome.warnings
    assert warned["severity"] == "warning" and warned["message"] == "check the tile sizes"
    assert outcome.warning_lines == [
        f"{tmp_path / 'script.py'}:{warned['line']}: warning: UserWarning: check the tile sizes"
    ]


def test_run_project_warning_names_the_schedule_line_node(project, tmp_path, capsys):
    from app.model import io
    from app.model.commands import DocumentEditor, SetProperty

    ed = DocumentEditor(io.load(project))
    doc = ed.doc
    wl = next(n for n in doc.graph.nodes.values() if n.kind == "workload.def")
    ed.apply(SetProperty(wl.id, "streams", 3))  # the sheet's streams: a line of the chain
    path = tmp_path / "streams.pto.json"
    io.save(doc, path)
    assert cli.main(["run", str(path), "--target", "ascend_npu"]) == 1
    err = capsys.readouterr().err
    (line,) = _lines_of(err, "streams is kept")
    assert line.startswith(f"{path}: node ") and ": warning: ScheduleWarning: " in line


def test_emit_prints_annotated_directives_once(tmp_path, capsys):
    script = write(tmp_path, ANNOTATED)
    out = tmp_path / "npu"
    assert cli.main(["emit", str(script), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    (streams,) = _lines_of(err, "streams is kept")
    assert streams.startswith(f"{script}:{_line_no(ANNOTATED, '    .streams(2)')}: warning: ")
    assert len(_lines_of(err, "timing(batched) is kept")) == 1


def test_emit_refusal_of_a_project_names_its_node_not_the_temporary_script(tmp_path, capsys):
    """A kernel with a C++ body (written against cpu_sim's tile API) has no ascend_npu form."""
    from trust_projects import code_document, write_elsewhere

    sample = write_elsewhere(code_document(), tmp_path / "downloads" / "matmul_cpp.pto.json")
    assert cli.main(["emit", str(sample), "--target", "ascend_npu", "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert f"{sample}: node " in err and "has a C++ body (cpp_src)" in err, err
    assert "_exported.py" not in err and "pto-wsp-emit-" not in err


# ---- the DSL-level command (pto_wsp.cli) and the installed one (app.cli) ------------------------


def test_dsl_cli_runs_scripts_and_refuses_project_files(project, tmp_path, capsys):
    """``python -m pto_wsp.cli`` is the DSL alone (pto_wsp never imports the app): a script runs,
    a project file is a user error pointing at the installed command, and the project-file
    commands do not exist there."""
    from pto_wsp import cli as dsl_cli

    assert dsl_cli.main(["run", str(write(tmp_path, BODY))]) == 0
    assert "total_cycles" in capsys.readouterr().out
    assert dsl_cli.main(["run", str(project)]) == 1
    err = capsys.readouterr().err
    assert f"{project}: expected a DSL script (.py)" in err and "app.cli" in err, err
    assert dsl_cli.main(["validate", str(project)]) == 2  # argparse: no such command
    assert cli.main(["validate", str(project)]) == 0


def test_installed_pto_wsp_is_the_app_command():
    """One ``pto-wsp`` for users: the console script is app.cli's, which adds project files."""
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["pto-wsp"] == "pto_wsp_studio.cli:main"
    # pto_wsp_studio is the installed name of the app/ folder (issue #19)
    packages = data["tool"]["scikit-build"]["wheel"]["packages"]
    assert packages["pto_wsp_studio/cli.py"] == "app/cli.py"
