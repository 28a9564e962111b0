"""The build cache repairs what it finds broken and says clearly what it cannot use.

A library truncated before its manifest was written (so the recorded hash matches) would raise
SIGBUS at dlopen on every later run; a plain file where an entry's directory belongs used to be
a traceback; a cache root that cannot be written used to surface as "cannot read".
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pto_wsp import cli
from pto_wsp.backends.cache import LIB_NAME, MANIFEST, BuildCache, elf_complete
from pto_wsp.errors import CompileError

FILES = [("driver.cpp", 'extern "C" int pto_cache_test_answer(void) { return 42; }\n')]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildCache, Path]:
    cache = BuildCache(tmp_path_factory.mktemp("cache"))
    art = cache.get_or_build(FILES, "driver.cpp", "answer")
    assert art.built and elf_complete(art.library)
    return cache, art.directory


def test_truncated_library_with_a_matching_manifest_is_rebuilt(built) -> None:
    cache, entry = built
    lib = entry / LIB_NAME
    data = lib.read_bytes()
    lib.write_bytes(data[: len(data) // 2])
    manifest = json.loads((entry / MANIFEST).read_text())
    manifest["lib_sha256"] = hashlib.sha256(data[: len(data) // 2]).hexdigest()
    manifest["lib_size"] = len(data) // 2
    (entry / MANIFEST).write_text(json.dumps(manifest))  # the hash and size now "match"
    assert not elf_complete(lib) and not cache.verify(entry)
    art = cache.get_or_build(FILES, "driver.cpp", "answer")
    assert art.built and art.directory == entry
    assert elf_complete(art.library) and cache.verify(entry)


def test_plain_file_at_the_entry_path_is_replaced(built) -> None:
    cache, entry = built
    key = entry.name
    for victim in (entry, entry.parent):  # the entry itself, then its fan-out directory
        if victim.is_dir():
            shutil.rmtree(victim)
        victim.write_text("not a cache entry")
        art = cache.get_or_build(FILES, "driver.cpp", "answer")
        assert art.built and art.key == key and cache.verify(art.directory)


def test_plain_file_as_the_locks_directory_is_replaced(built) -> None:
    cache, entry = built
    shutil.rmtree(entry, ignore_errors=True)
    locks = cache.root / "locks"
    shutil.rmtree(locks, ignore_errors=True)
    locks.write_text("x")
    assert cache.get_or_build(FILES, "driver.cpp", "answer").built


def test_cache_root_that_is_a_file_is_a_clear_error(tmp_path) -> None:
    root = tmp_path / "not-a-dir"
    root.write_text("x")
    with pytest.raises(CompileError) as info:
        BuildCache(root).get_or_build(FILES, "driver.cpp", "answer")
    msg = str(info.value)
    assert f"the build cache directory {root} cannot be written" in msg
    assert "PTO_WSP_CACHE_DIR" in msg
    assert root.read_text() == "x"  # not ours to remove


def test_cli_says_the_cache_cannot_be_written(tmp_path, capsys, monkeypatch) -> None:
    script = tmp_path / "tiny.py"
    script.write_text(
        "import numpy as np\n"
        "from pto_wsp import In, Out, Tensor, kernel, workload\n"
        "X = Tensor(np.zeros((2, 2), np.float32)); Y = Tensor(np.zeros((2, 2), np.float32))\n"
        "@kernel(cpp_src='(void)x; (void)y;')\n"
        "def k(x: In[Tensor], y: Out[Tensor]): ...\n"
        "@workload\n"
        "def w():\n"
        "    k(x=X, y=Y)\n"
        "program = w().compile(target='cpu_sim')\n"
    )
    blocked = tmp_path / "cache-file"
    blocked.write_text("x")
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(blocked))
    assert cli.main(["run", str(script)]) == 1
    err = capsys.readouterr().err
    assert f"the build cache directory {blocked} cannot be written" in err, err
    assert "cannot read" not in err
