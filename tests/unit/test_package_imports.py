"""The Studio's folder ``app/`` is installed as the package ``pto_wsp_studio`` (issue #19), so no
module inside it may name ``app`` absolutely: ``from app.model import io`` works in a checkout
and fails in an installed wheel. Imports inside ``app/`` are relative."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_MODULES = sorted((ROOT / "app").rglob("*.py"))


def absolute_app_imports(source: str) -> list[str]:
    """``"line: module"`` for every import of ``app`` or ``app.*`` by its absolute name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{node.lineno}: {n}" for n in names if n == "app" or n.startswith("app.")]
    return found


def test_app_modules_import_each_other_relatively() -> None:
    assert len(APP_MODULES) > 50
    found = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in APP_MODULES
        for hit in absolute_app_imports(path.read_text())
    ]
    assert found == []


def test_the_check_sees_absolute_imports_only() -> None:
    source = (
        "from app.model import io\nimport app\nfrom .model import trust\n"
        "from pto_wsp import cli\nimport application\n"
        "def f():\n    from app import APP_NAME\n"
    )
    assert absolute_app_imports(source) == ["1: app.model", "2: app", "7: app"]
