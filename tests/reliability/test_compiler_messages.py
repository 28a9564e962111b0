"""A C++ compile error reaches the user whole: the compiler's lines, mapped to the kernel's
``cpp_src`` line, with that line and a caret (in the CLI and in the Studio runner's
diagnostics), and a full disk is named as such."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.runner.job import RunJob
from pto_wsp import cli
from pto_wsp.backends.cache import REPORT_LINES, compiler_report

SCRIPT = """
import numpy as np

from pto_wsp import In, Out, P, Tensor, kernel, workload
from pto_wsp.runtime.runner import report_errors, run_main

report_errors()
X = Tensor(np.zeros((2, 4), np.float32), name="X")
Y = Tensor(np.zeros((2, 4), np.float32), name="Y")


@kernel(cpp_src="(void)x;\\nfloat v = ;\\n(void)y;")
def bad(x: In[Tensor], y: Out[Tensor]): ...


@workload
def w():
    for i in P(2):
        bad[i](x=X[i], y=Y[i])


if __name__ == "__main__":
    run_main(lambda: w().compile(target="cpu_sim"))
"""


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cc") / "bad.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def assert_located_with_caret(text: str) -> None:
    lines = text.splitlines()
    at = next((i for i, ln in enumerate(lines) if "cpp_src of kernel bad:2:11: error:" in ln), None)
    assert at is not None, text
    assert "expected primary-expression" in lines[at]
    assert lines[at + 1].strip() == "float v = ;"
    caret = lines[at + 2]
    assert caret.strip() == "^" and caret.index("^") == lines[at + 1].index(";")


def test_cli_shows_the_compiler_error_with_line_and_caret(script, capsys) -> None:
    assert cli.main(["run", str(script)]) == 1
    err = capsys.readouterr().err
    assert "C++ body (cpp_src) of kernel bad does not compile:" in err
    assert_located_with_caret(err)


def test_studio_runner_diagnostic_carries_the_whole_compiler_message(script, tmp_path) -> None:
    result = RunJob(script, tmp_path / "art").wait(120)
    (diag,) = result.errors
    assert diag.kind == "CompileError"
    assert_located_with_caret(diag.message)
    assert_located_with_caret(str(diag))  # the Diagnostics dock's tooltip


def test_a_full_disk_is_named_not_only_the_linker_exit() -> None:
    output = (
        "/usr/bin/ld: final link failed: No space left on device\n"
        "collect2: error: ld returned 1 exit status\n"
    )
    report = compiler_report(output, [])
    assert report == [
        "/usr/bin/ld: final link failed: No space left on device",
        "collect2: error: ld returned 1 exit status",
    ]


def test_long_compiler_output_is_bounded() -> None:
    output = "\n".join(f"x.cpp:{i}:1: error: e{i}" for i in range(1, 200))
    report = compiler_report(output, [("x.cpp", "")])
    assert len(report) == REPORT_LINES + 1 and report[-1].startswith("... (159 more lines)")
