"""A script copied to another folder reuses the build of the first: the generated C++ the build
cache hashes names no user path (``pto_wsp.backends.source_tokens``). Each copy's run-time
errors, kernel exceptions, crash reports and compile errors still name the copy's own file and
line. Builds are counted as the cache's entries."""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pto_wsp.backends.source_tokens import TOKEN
from pto_wsp.errors import CompileError, ExecutionError, KernelError

TIMEOUT = 120.0

CPP = r"""
const float v = ((const float*)x->data)[0];
((float*)y->data)[0] = 2.0f * v;
const char* mode = std::getenv("PTO_CRASH_MODE");
if (mode != nullptr && v == 16.0f) {  /* X[2] */
    if (!std::strcmp(mode, "segv")) { volatile uintptr_t a = 0; *(volatile float*)a = 1.0f; }
    if (!std::strcmp(mode, "throw")) throw std::runtime_error("bad row 2");
}
"""

# ROWS tiles of a DenseDyn axis: a run-time value (a new count needs no new build). X has 4 rows.
SCRIPT = f"""
import os

import numpy as np

from pto_wsp import DenseDyn, In, Out, P, Tensor, kernel, workload

X = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8), name="X")
Y = Tensor(np.zeros((4, 8), np.float32), name="Y")


@kernel(cpp_src={CPP!r}, cpp_includes=["<cstdlib>", "<cstring>", "<stdexcept>"])
def poke(x: In[Tensor], y: Out[Tensor]): ...


@workload
def rows():
    for i in P(DenseDyn(int(os.environ["ROWS"]))):
        poke[i](x=X[i], y=Y[i])


program = rows().compile(target="cpu_sim")
if __name__ == "__main__":
    program.execute()
    program.synchronize()
"""
CALL_LINE = SCRIPT.splitlines().index("        poke[i](x=X[i], y=Y[i])") + 1

BROKEN = """
import numpy as np

from pto_wsp import In, Out, Tensor, kernel, workload

X = Tensor(np.ones((2, 4), np.float32))
Y = Tensor(np.zeros((2, 4), np.float32))


@kernel(cpp_src="float* out = (float*)y->data;\\nout[0] = no_such_symbol;\\n")
def broken(x: In[Tensor], y: Out[Tensor]): ...


@workload
def w():
    broken(x=X, y=Y)


program = w().compile(target="cpu_sim")
"""
DEF_LINE = BROKEN.splitlines().index("def broken(x: In[Tensor], y: Out[Tensor]): ...") + 1


def builds(cache: Path) -> int:
    """The libraries the cache holds: one per C++ build."""
    return len(list((cache / "v1").glob("*/*")))


def copies(tmp_path: Path, text: str, name: str) -> tuple[Path, Path]:
    paths = []
    for folder in ("variant-a", "variant-b"):
        (tmp_path / folder).mkdir()
        path = tmp_path / folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(path))
    monkeypatch.delenv("PTO_CRASH_MODE", raising=False)
    return path


def run_copy(
    script: Path, rows: int, monkeypatch: pytest.MonkeyPatch, run_rows: int | None = None
) -> dict[str, Any]:
    """Compile ``script`` for ``rows`` rows and run it (over ``run_rows``: set at run time)."""
    monkeypatch.setenv("ROWS", str(rows))
    ns = runpy.run_path(str(script), run_name="not_main")
    if run_rows is not None:
        ns["program"].set_axis_sizes({"i": run_rows})
    ns["program"].execute()
    ns["program"].synchronize()
    return ns


def test_copies_in_two_folders_share_one_build_and_name_their_own_file(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = copies(tmp_path, SCRIPT, "poke.py")
    ns_a = run_copy(a, 4, monkeypatch)
    assert builds(cache) == 1
    ns_b = run_copy(b, 3, monkeypatch)  # another folder, another run-time value: no build
    assert builds(cache) == 1
    assert ns_a["Y"].data[3, 0] == 48.0 and ns_b["Y"].data[3, 0] == 0.0  # 4 rows, 3 rows ran
    assert ns_b["program"].artifact_dir == ns_a["program"].artifact_dir
    assert ns_b["poke"].loc.file == str(b)

    # A run-time error of the shared library names the copy that ran it (5 rows of 4).
    with pytest.raises(ExecutionError) as info:
        run_copy(b, 4, monkeypatch, run_rows=5)
    assert f"{b}:{CALL_LINE}" in info.value.message, info.value.message
    assert "index 4 out of range" in info.value.message and TOKEN not in info.value.message
    assert builds(cache) == 1

    # So does a C++ exception leaving the kernel: the message and the error's location.
    monkeypatch.setenv("PTO_CRASH_MODE", "throw")
    with pytest.raises(KernelError) as thrown:
        run_copy(b, 4, monkeypatch)
    assert thrown.value.loc is not None and thrown.value.loc.file == str(b)
    assert thrown.value.loc.line == ns_b["poke"].loc.line
    assert "threw a C++ exception in task poke[2]: bad row 2" in thrown.value.message
    assert TOKEN not in str(thrown.value)
    assert builds(cache) == 1


def test_a_crash_in_the_shared_build_names_the_copy_that_crashed(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = copies(tmp_path, SCRIPT, "poke.py")
    monkeypatch.setenv("ROWS", "4")
    env = dict(os.environ)
    ok = subprocess.run([sys.executable, str(a)], env=env, capture_output=True, text=True, timeout=TIMEOUT)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert builds(cache) == 1
    env["PTO_CRASH_MODE"] = "segv"
    proc = subprocess.run([sys.executable, str(b)], env=env, capture_output=True, text=True, timeout=TIMEOUT)  # fmt: skip
    assert proc.returncode == -signal.SIGSEGV
    assert builds(cache) == 1  # the crash ran a's build
    crash = [ln for ln in proc.stderr.splitlines() if ln.startswith("pto-wsp: kernel poke crashed")]
    assert crash, proc.stderr
    assert crash[0].startswith("pto-wsp: kernel poke crashed (SIGSEGV) in task poke[2]")
    line = runpy.run_path(str(b), init_globals=None, run_name="not_main")["poke"].loc.line
    assert crash[0].endswith(f"({b}:{line})"), crash[0]


def test_a_compile_error_names_each_copys_file_and_line(tmp_path: Path, cache: Path) -> None:
    a, b = copies(tmp_path, BROKEN, "broken.py")
    for script in (a, b):
        with pytest.raises(CompileError) as info:
            runpy.run_path(str(script), run_name="not_main")
        err = info.value
        assert err.loc is not None and err.loc.file == str(script)
        assert err.loc.line == DEF_LINE and err.loc.text.startswith("def broken(")
        assert "cpp_src of kernel broken:2:" in err.message and "no_such_symbol" in err.message
        assert TOKEN not in err.message
    assert builds(cache) == 0
