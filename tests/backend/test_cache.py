"""The build cache of generated cpu_sim libraries (pto_wsp/backends/cache.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from pto_wsp._core import codegen
from pto_wsp.backends import cache as cache_mod
from pto_wsp.backends.cache import BuildCache
from pto_wsp.errors import CompileError

# A minimal valid library: the ABI entries and a run that submits nothing.
_LIB = textwrap.dedent(
    """
    #include "runtime/abi.h"
    // {tag}
    static const char* const none[] = {{0}};
    extern "C" int32_t pto_lib_abi_version(void) {{ return PTO_ABI_VERSION; }}
    extern "C" const char* const* pto_lib_symbol_names(void) {{ return none; }}
    extern "C" const char* const* pto_lib_param_names(void) {{ return none; }}
    extern "C" const char* const* pto_lib_kernel_names(void) {{ return none; }}
    extern "C" int64_t pto_lib_num_tensors(void) {{ return 0; }}
    extern "C" int64_t pto_lib_num_slots(void) {{ return 0; }}
    extern "C" int64_t pto_lib_arena_bytes(void) {{ return 0; }}
    extern "C" int32_t pto_lib_run(pto_abi_run* R) {{ (void)R; return 0; }}
    """
)


def _files(tag: str) -> list[tuple[str, str]]:
    return [("driver.cpp", _LIB.format(tag=tag))]


def test_second_build_reuses_without_compiler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = BuildCache(tmp_path)
    files = _files(uuid.uuid4().hex)
    first = c.get_or_build(files, "driver.cpp")
    assert first.built and first.library.is_file()

    def no_compiler(*args, **kwargs):
        raise AssertionError(f"the compiler ran on a cache hit: {args}")

    monkeypatch.setattr(cache_mod.subprocess, "run", no_compiler)
    second = c.get_or_build(files, "driver.cpp")
    assert not second.built
    assert second.library == first.library
    assert codegen.Library(str(second.library)).abi_version == codegen.ABI_VERSION


def test_corrupt_library_is_rebuilt(tmp_path: Path) -> None:
    c = BuildCache(tmp_path)
    files = _files(uuid.uuid4().hex)
    art = c.get_or_build(files, "driver.cpp")
    data = art.library.read_bytes()
    art.library.write_bytes(data[: len(data) // 3])  # truncated
    assert not BuildCache.verify(art.directory)
    again = c.get_or_build(files, "driver.cpp")
    assert again.built
    assert BuildCache.verify(again.directory)
    assert codegen.Library(str(again.library)).kernel_names == []


def test_compiler_error_names_compiler_and_source(tmp_path: Path) -> None:
    c = BuildCache(tmp_path)
    # All of the compiler's lines are kept (its source line and caret too), then the source path.
    pattern = r"failed.*\n.*driver\.cpp:1:1: error: .*\n(?:.*\n)*Emitted source: .*driver\.cpp"
    with pytest.raises(CompileError, match=pattern):
        c.get_or_build([("driver.cpp", "this is not C++;")], "driver.cpp")


def test_concurrent_builders_of_one_key_both_succeed(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_cache import _files
        from pto_wsp.backends.cache import BuildCache
        from pto_wsp._core import codegen
        art = BuildCache(Path({str(tmp_path)!r})).get_or_build(_files({tag!r}), "driver.cpp")
        codegen.Library(str(art.library))
        print("built" if art.built else "reused")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sorted(outs) == ["built", "reused"]


_WORKLOAD_SCRIPT = """
import numpy as np
from pto_wsp import In, Out, P, Tensor, kernel, workload

@kernel
def noop(x: In[Tensor], y: Out[Tensor]): ...

X = Tensor(np.zeros((8, 4), np.float32)); Y = Tensor(np.zeros((8, 4), np.float32))

@workload
def w():
    for i in P(8):
        noop[i](x=X[i], y=Y[i])

program = w().compile(target="cpu_sim")
program.execute(); program.synchronize()
print("built" if program.runner.artifact.built else "reused", program.stats.task_count)
"""


def test_a_fresh_process_reuses_the_cached_library(tmp_path: Path) -> None:
    """A second process (a restart) compiling the same workload loads the cached library."""
    env = {**os.environ, "PTO_WSP_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", _WORKLOAD_SCRIPT], env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    for r in runs:
        assert r.returncode == 0, r.stderr
    assert [r.stdout.split() for r in runs] == [["built", "8"], ["reused", "8"]]
