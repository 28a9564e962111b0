"""The compiled extension ``pto_wsp._core`` (cpp_backend/bindings), imported in one place.

The stages take its parts from here (``from .._native import codegen, ir``) rather than writing
``from .. import _core``. The extension has no ``.py`` file, so import analysers (grimp, and
import-linter on top of it) read that statement as an import of the package ``pto_wsp`` itself:
every stage that needs C++ then seemed to import ``pto_wsp/__init__``, which imports the stages,
and the graph showed cycles that hid the real ones (tests/unit/test_import_cycles.py fails on
any). ``from ._core import ...`` names the extension; this module is the graph's one node for
it, so the layer contracts see which stages load C++. The extension imports back only
``pto_wsp.errors`` and ``pto_wsp.language.policy_kinds`` (the schedule's policy enums, which
cross the boundary as themselves; a leaf module that imports nothing of pto_wsp).
``import pto_wsp`` does not import this module: C++ loads on first use.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from ._core import BACKEND_VERSION, ascend, codegen, csp, ir, sim, textrows

__all__ = ["BACKEND_VERSION", "EXTENSION_DIR", "ascend", "codegen", "csp", "ir", "sim", "textrows"]


def _extension_dir() -> Path:
    """The folder of the built extension (its ``include/`` and ``lib/`` sit beside it); in an
    editable install that is site-packages, not the source tree this module lives in."""
    spec = find_spec(f"{__package__}._core")
    assert spec is not None and spec.origin is not None  # imported just above
    return Path(spec.origin).resolve().parent


EXTENSION_DIR: Path = _extension_dir()
