"""No kind id is written outside its kind family (issue 13 item 2).

A kind's ports, properties, checks, DSL emission, import and title live in its family module
under ``app/model/kinds/``; everything else asks the registry by role (``kind_of(n).program``,
``.binds_vars``, ``.calls_kernel``...) or through a hook. So adding a kind touches one file. This
test parses every ``.py`` under ``app/`` (and ``pto_wsp/cli.py``) outside ``app/model/kinds/``
with ``ast`` and fails on any string constant equal to a registered kind id or to a kind id of
format v1 the migration knows (``legacy_v1.V1_ONLY_KINDS``), listing ``file:line``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from app.model import registry
from app.model.kinds.legacy_v1 import V1_ONLY_KINDS

ROOT = Path(__file__).resolve().parents[3]
KINDS_DIR = ROOT / "app" / "model" / "kinds"


def _sources() -> list[Path]:
    files = [p for p in sorted((ROOT / "app").rglob("*.py")) if KINDS_DIR not in p.parents]
    return [*files, ROOT / "pto_wsp" / "cli.py"]


IDS = frozenset(registry.KINDS) | V1_ONLY_KINDS


def _kind_literals(path: Path, base: Path = ROOT) -> list[str]:
    """``file:line: 'id'`` for every string constant of ``path`` that is a kind id (docstrings
    and messages mentioning an id inside longer text are not ids)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{path.relative_to(base)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in IDS
    ]


def test_the_scan_sees_the_sources_and_the_ids():
    sources = _sources()
    assert ROOT / "app" / "model" / "export.py" in sources
    assert ROOT / "app" / "editor" / "canvas.py" in sources
    assert not any(KINDS_DIR in p.parents for p in sources)
    assert "data.tensor" in registry.KINDS and "data.get" in V1_ONLY_KINDS
    assert not V1_ONLY_KINDS & set(registry.KINDS)


def test_the_scan_finds_a_literal(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""data.tensor in prose is fine."""\nif n.kind == "kernel.call":\n    pass\n'
    )
    assert _kind_literals(sample, tmp_path) == ["sample.py:2: 'kernel.call'"]


def test_no_kind_id_literal_outside_the_kind_families():
    found = [hit for path in _sources() for hit in _kind_literals(path)]
    assert not found, (
        f"{len(found)} kind-id literal(s) outside app/model/kinds/ (ask the kind's role or hook "
        "instead):\n" + "\n".join(found)
    )


def test_every_kind_carries_the_hooks_its_place_needs():
    """What makes 'one file per kind' hold: the exporter and importer find a kind's code only
    through its hooks, so a statement kind without ``emit`` (or a top-level kind without
    ``emit_root``) could not be exported at all."""
    for k in registry.KINDS.values():
        if "workload" in k.allowed_in:
            assert k.emit is not None, f"{k.id}: a workload statement without emit"
            if not k.module_level:  # a named process is imported with its connect frame
                assert k.import_dsl is not None, f"{k.id}: a statement without import_dsl"
        if k.section:
            assert k.emit_root is not None, f"{k.id}: section {k.section!r} without emit_root"
    for dsl_type, kind_id in registry.DSL_KINDS.items():
        assert kind_id in registry.KINDS, f"DSL_KINDS[{dsl_type!r}] names no kind"
