"""The checked-in type stubs of ``pto_wsp._core`` match the built extension.

mypy checks ``pto_wsp`` against ``pto_wsp/_core/*.pyi``; stubs that lag the bindings would let a
renamed or retyped binding pass type checking. ``bash dev.sh stubs`` regenerates them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "pto_wsp" / "_core"


def _generate(out: Path) -> Path:
    stubgen = shutil.which("pybind11-stubgen", path=str(Path(sys.executable).parent))
    if stubgen is None:
        pytest.fail("pybind11-stubgen is not installed (it is a test dependency in pyproject.toml)")
    proc = subprocess.run(
        [stubgen, "pto_wsp._core", "--exit-code", "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=out,
    )
    assert proc.returncode == 0, f"pybind11-stubgen failed:\n{proc.stderr}"
    return out / "pto_wsp" / "_core"


def test_core_stubs_match_the_built_extension(tmp_path: Path) -> None:
    fresh = _generate(tmp_path)
    generated = sorted(p.relative_to(fresh) for p in fresh.rglob("*.pyi"))
    checked_in = sorted(p.relative_to(CHECKED_IN) for p in CHECKED_IN.rglob("*.pyi"))
    assert generated, "pybind11-stubgen wrote no stubs"
    assert checked_in == generated, "stub files differ; run `bash dev.sh stubs`"
    stale = [
        str(rel) for rel in generated if (fresh / rel).read_text() != (CHECKED_IN / rel).read_text()
    ]
    assert not stale, f"stale stubs {stale}; run `bash dev.sh stubs` and commit pto_wsp/_core"
