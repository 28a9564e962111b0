"""How the wheel installs the checkout (issue #19): ``pto_wsp`` as it is, and the Studio's folder
``app/`` as the package ``pto_wsp_studio``, entry by entry (scikit-build-core renames no
package), so every top-level module and folder of ``app/`` needs its line in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def packages() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapping: dict[str, str] = data["tool"]["scikit-build"]["wheel"]["packages"]
    return mapping


def test_every_entry_of_app_is_installed_under_pto_wsp_studio() -> None:
    entries = {p.name for p in (ROOT / "app").iterdir() if p.name != "__pycache__"}
    assert {"__init__.py", "cli.py", "model", "projects", "resources"} <= entries
    want = {f"pto_wsp_studio/{e}": f"app/{e}" for e in entries}
    got = {k: v for k, v in packages().items() if k.startswith("pto_wsp_studio/")}
    missing = sorted(set(want) - set(got))
    assert not missing, f"add to [tool.scikit-build.wheel.packages] in pyproject.toml: {missing}"
    assert got == want


def test_only_the_two_packages_are_installed() -> None:
    tops = {key.split("/")[0] for key in packages()}
    assert tops == {"pto_wsp", "pto_wsp_studio"}  # never a top-level `app`
    assert packages()["pto_wsp"] == "pto_wsp"
