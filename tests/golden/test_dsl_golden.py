"""Golden DSL: the script the Studio exports for each sample project in ``app/projects/``.

The exported script is what a user reads, runs and imports back, so any change to it (an
exporter change, a sample edit, a kind's new default) must show up as a diff of
``tests/golden/data/dsl/<project>.py.golden`` in review. See ``goldens.py`` for the update switch.
(The files end in ``.golden`` so that linters and formatters leave the exporter's output as is.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from goldens import DATA, check_text, updating

from app.model import io
from app.model.export import export_script

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = sorted((ROOT / "app" / "projects").glob("*.pto.json"))
GOLDEN_DIR = DATA / "dsl"
SUFFIX = ".py.golden"


def _stem(path: Path) -> str:
    return path.name.split(".")[0]


def test_there_are_sample_projects() -> None:
    assert len(PROJECTS) >= 9, [p.name for p in PROJECTS]


@pytest.mark.parametrize("project", PROJECTS, ids=_stem)
def test_exported_dsl_matches_the_golden(project: Path) -> None:
    source = export_script(io.load(project)).source
    check_text(source, GOLDEN_DIR / f"{_stem(project)}{SUFFIX}")


def test_every_golden_script_belongs_to_a_sample() -> None:
    """A removed or renamed sample takes its golden with it (the update switch deletes it)."""
    samples = {_stem(p) for p in PROJECTS}
    stale = [g for g in GOLDEN_DIR.glob(f"*{SUFFIX}") if g.name[: -len(SUFFIX)] not in samples]
    if updating():
        for golden in stale:
            golden.unlink()
        return
    assert not stale, f"golden scripts of no sample project: {[g.name for g in stale]}"
