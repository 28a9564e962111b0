"""Golden IR text of three small spec examples (the printer's output is a stable contract).

A mismatch shows a diff. After an intended change to lowering or the printer, re-approve with
``PTO_WSP_APPROVE=1 python -m pytest tests/golden`` and review the diff of ``tests/golden/ir/``.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from spec_blocks import spec_blocks, spec_path
from spec_preamble import install_execution_recorder, run_block

GOLDEN_DIR = Path(__file__).resolve().parent / "ir"
EXAMPLES = {
    "s3.2-L333": "scan_seq",  # P.seq
    "s3.4-L356": "tiered_attention_cond",  # P.when / P.otherwise chain
    "s8.1-L892": "attention_varlen_program",  # parallel grid + schedule
}


def _ir_text(block_id: str) -> str:
    from pto_wsp.compiler.lowering import lower

    block = next(b for b in spec_blocks() if b.id == block_id)
    run = run_block(block)
    parts = [f"// {name}\n{lower(wl).print()}" for name, wl in run.workloads]
    parts += [f"// program {name}\n{p.module.print()}" for name, p in run.programs]
    text = "\n".join(parts)
    # Source locations must not depend on where the spec was checked out.
    return text.replace(str(spec_path()), "<spec>").rstrip() + "\n"


@pytest.mark.parametrize("block_id", sorted(EXAMPLES))
def test_ir_text_matches_golden(block_id: str, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    install_execution_recorder(monkeypatch)
    actual = _ir_text(block_id)
    golden = GOLDEN_DIR / f"{EXAMPLES[block_id]}.txt"
    if os.environ.get("PTO_WSP_APPROVE") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    if not golden.exists():
        pytest.fail(f"no golden file {golden}; approve with PTO_WSP_APPROVE=1 after review")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), str(golden), "actual"
            )
        )
        pytest.fail(f"IR of {block_id} differs from {golden.name}:\n{diff}")


def test_ir_text_is_deterministic(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    install_execution_recorder(monkeypatch)
    assert _ir_text("s8.1-L892") == _ir_text("s8.1-L892")
