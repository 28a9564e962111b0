"""Golden IR text of three small spec examples (the printer's output is a stable contract).

A mismatch shows a diff of ``tests/golden/data/ir/<example>.txt``; see ``goldens.py`` for the
update switch.
"""

from __future__ import annotations

import pytest
from goldens import DATA, check_text, normalise
from spec_blocks import spec_blocks, spec_path
from spec_preamble import install_execution_recorder, run_block

GOLDEN_DIR = DATA / "ir"
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
    return normalise(text, {spec_path(): "<spec>"}).rstrip() + "\n"


@pytest.mark.parametrize("block_id", sorted(EXAMPLES))
def test_ir_text_matches_golden(block_id: str, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    install_execution_recorder(monkeypatch)
    check_text(_ir_text(block_id), GOLDEN_DIR / f"{EXAMPLES[block_id]}.txt")


def test_ir_text_is_deterministic(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    install_execution_recorder(monkeypatch)
    assert _ir_text("s8.1-L892") == _ir_text("s8.1-L892")
