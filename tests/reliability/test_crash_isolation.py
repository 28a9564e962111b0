"""A kernel that crashes, exits, hangs or throws is reported, never a silent death or a hang.

One script (one build) serves every case: its kernel's C++ misbehaves in task ``poke[1, 2]``
in the way the environment variable ``PTO_CRASH_MODE`` names. ``pto-wsp run`` and the Studio's
runner run it in a child process; in-process runs are checked in a subprocess of their own.
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from app.runner.job import RunJob
from pto_wsp import (
    Channel,
    DenseDyn,
    In,
    Out,
    P,
    Tensor,
    cli,
    consume,
    kernel,
    pto,
    send,
    workload,
)
from pto_wsp.errors import KernelError

TIMEOUT = 120.0

CPP = r"""
const float v = ((const float*)x->data)[0];
((float*)y->data)[0] = 2.0f * v;
const char* mode = std::getenv("PTO_CRASH_MODE");
if (mode != nullptr && v == 6.0f) {  /* X[1, 2] */
    if (!std::strcmp(mode, "segv")) { volatile uintptr_t a = 0; *(volatile float*)a = 1.0f; }
    if (!std::strcmp(mode, "abort")) std::abort();
    if (!std::strcmp(mode, "exit0")) std::exit(0);
    if (!std::strcmp(mode, "throw")) throw std::runtime_error("bad tile value 6");
    if (!std::strcmp(mode, "throw_int")) throw 42;
    if (!std::strcmp(mode, "loop")) for (volatile int k = 0;; k = k + 1) {}
}
"""

SCRIPT = f"""
import numpy as np

from pto_wsp import In, Out, P, Tensor, kernel, workload
from pto_wsp.runtime.runner import report_errors, run_main

report_errors()
X = Tensor(np.arange(8, dtype=np.float32).reshape(2, 4), name="X")
Y = Tensor(np.zeros((2, 4), np.float32), name="Y")


@kernel(cpp_src={CPP!r}, cpp_includes=["<cstdlib>", "<cstring>", "<stdexcept>"])
def poke(x: In[Tensor], y: Out[Tensor]): ...


@workload
def grid():
    for i, j in P(2, 4):
        poke[i, j](x=X[i, j], y=Y[i, j])


program = grid().compile(target="cpu_sim")

if __name__ == "__main__":
    run_main(program)
"""


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash") / "poke.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


_lines: dict[Path, int] = {}


def kernel_line(script: Path) -> int:
    """The line the @kernel's location names (decorator or def: what the DSL records)."""
    if script not in _lines:
        _lines[script] = int(runpy.run_path(str(script), run_name="not_main")["poke"].loc.line)
    return _lines[script]


def cli_run(script: Path, capsys, monkeypatch, mode: str, *extra: str) -> tuple[int, str]:
    monkeypatch.setenv("PTO_CRASH_MODE", mode)
    rc = cli.main(["run", str(script), *extra])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize(("mode", "sig"), [("segv", "SIGSEGV"), ("abort", "SIGABRT")])
def test_cli_names_the_kernel_task_and_line_of_a_crash(script, capsys, monkeypatch, mode, sig):
    rc, err = cli_run(script, capsys, monkeypatch, mode)
    assert rc == 1
    line = kernel_line(script)
    assert f"kernel poke crashed ({sig}) in task poke[1, 2] ({script}:{line})" in err, err


def test_cli_reports_an_exit_inside_a_kernel(script, capsys, monkeypatch) -> None:
    rc, err = cli_run(script, capsys, monkeypatch, "exit0")
    assert rc == 1
    assert "the run ended before finishing" in err, err
    assert "kernel poke called exit() in task poke[1, 2]" in err


def test_cli_timeout_stops_an_endless_kernel(script, capsys, monkeypatch) -> None:
    rc, err = cli_run(script, capsys, monkeypatch, "loop", "--timeout", "5")
    assert rc == 1
    assert "did not finish within 5 s (--timeout)" in err, err


def test_cli_rejects_a_timeout_that_is_not_positive(script) -> None:
    assert cli.main(["run", str(script), "--timeout", "0"]) == 2


def test_cpp_exception_is_a_kernel_error_at_the_kernel(script, monkeypatch) -> None:
    monkeypatch.setenv("PTO_CRASH_MODE", "throw")
    ns = runpy.run_path(str(script), run_name="not_main")
    program = ns["program"]
    with pytest.raises(KernelError) as info:
        program.execute()
        program.synchronize()
    err = info.value
    assert err.kernel == "poke" and err.task == (1, 2)
    assert err.loc is not None and (err.loc.file, err.loc.line) == (
        str(script),
        ns["poke"].loc.line,
    )
    assert "kernel poke threw a C++ exception in task poke[1, 2]: bad tile value 6" in err.message
    # The tasks before the throwing one ran.
    np.testing.assert_array_equal(ns["Y"].data[0], 2.0 * np.arange(4, dtype=np.float32))
    monkeypatch.setenv("PTO_CRASH_MODE", "throw_int")
    with pytest.raises(KernelError, match="not a std::exception"):
        program.execute()
        program.synchronize()


def test_cpp_exception_through_the_cli(script, capsys, monkeypatch) -> None:
    rc, err = cli_run(script, capsys, monkeypatch, "throw")
    assert rc == 1
    assert "KernelError: kernel poke threw a C++ exception in task poke[1, 2]" in err, err
    assert "bad tile value 6" in err


def test_in_process_crash_prints_kernel_task_and_line_before_dying(script) -> None:
    code = (
        "import runpy, sys\n"
        f"ns = runpy.run_path({str(script)!r}, run_name='not_main')\n"
        "ns['program'].execute(); ns['program'].synchronize()\n"
    )
    env = dict(os.environ, PTO_CRASH_MODE="segv")
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == -signal.SIGSEGV
    line = kernel_line(script)
    expected = f"pto-wsp: kernel poke crashed (SIGSEGV) in task poke[1, 2] ({script}:{line})"
    assert expected in proc.stderr.splitlines(), proc.stderr


@pytest.mark.parametrize(
    ("mode", "kind", "text"),
    [
        ("segv", "Crash", "kernel poke crashed (SIGSEGV) in task poke[1, 2]"),
        ("exit0", "EarlyExit", "the run ended before finishing: kernel poke called exit()"),
    ],
)
@pytest.mark.parametrize("forked", [False, True], ids=["process", "fork-server"])
def test_studio_runner_diagnostic_names_kernel_and_task(script, tmp_path, mode, kind, text, forked):
    from app.runner.warm_worker import shared_server

    launcher = shared_server() if forked else None
    if forked and launcher is None:
        pytest.skip("no fork server on this platform")
    job = RunJob(script, tmp_path / "art", env={"PTO_CRASH_MODE": mode}, launcher=launcher)
    result = job.wait(TIMEOUT)
    assert not result.ok
    (diag,) = result.errors
    assert diag.kind == kind and text in diag.message, diag
    assert (diag.file, diag.line) == (str(script), kernel_line(script))


CONCURRENT = textwrap.dedent(
    """
    import sys
    import numpy as np
    from pto_wsp import In, Out, P, Tensor, kernel, pto, workload

    X = Tensor(np.arange(64, dtype=np.float32).reshape(2, 4, 8))
    Y = Tensor(np.zeros((2, 4, 8), np.float32))

    @kernel
    def twice(x: In[Tensor], y: Out[Tensor]):
        pto.store(y, pto.add(pto.load(x), pto.load(x)))

    @workload
    def w():
        for i in P(2):
            twice[i](x=X[i], y=Y[i])

    p = w().compile(target="cpu_sim")
    p.execute(); p.synchronize()
    assert np.array_equal(Y.data, 2 * X.data)
    print(p.codegen_artifact_dir)
    """
)


def test_concurrent_compiles_of_one_program_share_one_cache_entry(tmp_path) -> None:
    script = tmp_path / "same.py"
    script.write_text(CONCURRENT, encoding="utf-8")
    env = dict(os.environ, PTO_WSP_CACHE_DIR=str(tmp_path / "cache"))
    procs = [
        subprocess.Popen(
            [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=TIMEOUT) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1].decode() for o in outs]
    dirs = {o[0].decode().strip() for o in outs}
    assert len(dirs) == 1
    entries = list((tmp_path / "cache" / "v1").glob("*/*"))
    assert len(entries) == 1 and (entries[0] / "lib.so").is_file()
    assert not list((tmp_path / "cache").glob("build-*"))  # no half-built leftovers


def test_cpp_exception_in_a_pipeline_consumer_is_a_kernel_error() -> None:
    """CSP processes run on fibers: the exception is still caught at its task and named."""
    n = 4
    src = Tensor(np.arange(n * 8, dtype=np.float32).reshape(n, 2, 4))
    stage = Tensor(np.zeros((n, 2, 4), np.float32))
    out = Tensor(np.zeros((n, 2, 4), np.float32))
    ch = Channel("c", depth=2)

    @kernel
    def produce(x: In[Tensor], buf: Out[Tensor]):
        pto.store(buf, pto.add(pto.load(x), pto.load(x)))

    @kernel(
        cpp_src='if (((const float*)buf->data)[0] == 32.0f) throw std::runtime_error("item 2");',
        cpp_includes=["<stdexcept>"],
    )
    def take(buf: In[Tensor], res: Out[Tensor]): ...

    @workload
    def pipe(count):
        with P.pipe():
            for i in P.seq(DenseDyn(count)):
                send(ch, produce[i](x=src[i], buf=stage[i]))
            with consume(ch) as t:
                take[t](buf=stage[t], res=out[t])

    program = pipe(n).compile(target="cpu_sim")
    with pytest.raises(KernelError) as info:
        program.execute()
        program.synchronize()
    assert (info.value.kernel, info.value.task) == ("take", (2,))
    assert info.value.loc is not None and info.value.loc.line == take.loc.line
    assert info.value.message.endswith(": item 2")
