"""The v1 migration contract: a v1 project opens as the same program.

For every ``<name>.v1.pto.json`` in ``tests/golden/v1_migration/`` (the bundled samples as format
v1 wrote them), the file is loaded through ``app.model.io`` (which migrates it to format v2),
exported with ``app.model.export``, and the script is lowered by ``pto-wsp ir`` in a separate
process. The IR text must equal ``<name>.ir.txt``, the IR the v1 exporter's script lowered to:
same tensors, kernels, loop nest, task arguments and schedule. A mismatch shows a diff.

The exported script also survives Import Python: importing it (the objects it builds, in a
worker process) and exporting the imported document gives the same script, byte for byte, so
graph -> script -> graph is stable.

The goldens are a contract, not a snapshot: they are never re-approved from this test.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from app.model import io
from app.model.document import FORMAT_VERSION
from app.model.export import export_script
from app.model.importer import import_script

GOLDEN_DIR = Path(__file__).resolve().parent / "v1_migration"
V1_FILES = sorted(GOLDEN_DIR.glob("*.v1.pto.json"))


def _stem(path: Path) -> str:
    return path.name[: -len(".v1.pto.json")]


def ir_of_script(source: str, tmp_path: Path, name: str) -> str:
    """``pto-wsp ir`` of a script (run in its own process, as a user would run it)."""
    script = tmp_path / f"{name}.py"
    script.write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "pto_wsp.cli", "ir", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, f"pto-wsp ir failed on the exported script:\n{proc.stderr}"
    return proc.stdout


def assert_same_ir(actual: str, golden: Path, what: str) -> None:
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), golden.name, what
            )
        )
        pytest.fail(f"IR of {what} differs from {golden.name}:\n{diff}")


def test_every_sample_has_a_v1_golden() -> None:
    assert {_stem(p) for p in V1_FILES} >= {
        "attention",
        "attention_varlen",
        "csp_pipeline",
        "matmul",
        "megakernel_pipeline",
        "moe",
        "rmsnorm",
        "softmax",
        "tensor_parallel",
    }
    for path in V1_FILES:
        assert (GOLDEN_DIR / f"{_stem(path)}.ir.txt").is_file(), path.name


@pytest.mark.parametrize("path", V1_FILES, ids=_stem)
def test_migrated_v1_document_lowers_to_the_golden_ir(path: Path, tmp_path: Path) -> None:
    doc = io.load(path)
    assert doc.format_version == FORMAT_VERSION == 2
    result = export_script(doc)
    actual = ir_of_script(result.source, tmp_path, _stem(path))
    assert_same_ir(actual, GOLDEN_DIR / f"{_stem(path)}.ir.txt", f"exported {path.name}")


@pytest.mark.parametrize("path", V1_FILES, ids=_stem)
def test_the_exported_script_survives_import(path: Path, tmp_path: Path) -> None:
    doc = io.load(path)
    source = export_script(doc).source
    script = tmp_path / f"{_stem(path)}.py"
    script.write_text(source, encoding="utf-8")
    imported = import_script(script)
    imported.name = doc.name  # the import names the document after the file
    again = export_script(imported).source
    if again != source:
        diff = "".join(
            difflib.unified_diff(
                source.splitlines(True), again.splitlines(True), "exported", "re-exported"
            )
        )
        pytest.fail(f"{path.name}: export -> import -> export changed the script:\n{diff}")
