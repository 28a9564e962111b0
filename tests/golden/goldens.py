"""Golden files: generated text compared with a reviewed copy under ``tests/golden/data/``.

The exporter's DSL, the IR printer's text and the backends' emitted C++ are read by people (a
user opens the exported script or the emitted tree), so a change to any of them should show up
in review as a diff of these files, never pass unseen. A mismatch fails with a unified diff.

After an intended change, rewrite the files and review their diff before committing::

    PTO_WSP_UPDATE_GOLDENS=1 .venv/bin/python -m pytest -q tests/golden
    git diff tests/golden/data

With the switch set, every check writes what it generated (and deletes files of a golden tree
that the generator no longer emits) and passes.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path

import pytest

UPDATE_ENV = "PTO_WSP_UPDATE_GOLDENS"
DATA = Path(__file__).resolve().parent / "data"


def updating() -> bool:
    """True when this run rewrites the golden files instead of comparing with them."""
    return os.environ.get(UPDATE_ENV) == "1"


def normalise(text: str, places: Mapping[str | Path, str]) -> str:
    """``text`` with each machine-specific path of ``places`` replaced by its placeholder (a
    source location names the script it came from, which lives in a temporary directory)."""
    for path, placeholder in places.items():
        text = text.replace(str(path), placeholder)
    return text


def _diff(expected: str, actual: str, name: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(True), actual.splitlines(True), f"golden/{name}", f"generated/{name}"
    )
    return "".join(lines)


def _shown(path: Path) -> str:
    try:
        return path.relative_to(DATA).as_posix()
    except ValueError:
        return str(path)


def check_text(actual: str, golden: Path) -> None:
    """Fail with a unified diff unless ``actual`` equals the text of ``golden``."""
    __tracebackhide__ = True
    if updating():
        if not golden.is_file() or golden.read_text(encoding="utf-8") != actual:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
        return
    if not golden.is_file():
        pytest.fail(f"no golden file {_shown(golden)}; write it with {UPDATE_ENV}=1 and review it")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        pytest.fail(
            f"{_shown(golden)} differs from what was generated "
            f"({UPDATE_ENV}=1 rewrites it after review):\n{_diff(expected, actual, golden.name)}"
        )


def _tree_files(root: Path) -> set[str]:
    if not root.is_dir():
        return set()
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def check_tree(files: Mapping[str, str], root: Path) -> None:
    """Fail unless the directory ``root`` holds exactly ``files`` (relative path -> text); the
    message lists missing and extra files and a unified diff of every file that differs."""
    __tracebackhide__ = True
    stale = _tree_files(root) - set(files)
    if updating():
        for rel in stale:
            (root / rel).unlink()
        for rel, text in files.items():
            path = root / rel
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        return
    problems = [f"missing golden file {rel}" for rel in sorted(set(files) - _tree_files(root))]
    problems += [f"golden file {rel} is no longer emitted" for rel in sorted(stale)]
    for rel in sorted(set(files) & _tree_files(root)):
        expected = (root / rel).read_text(encoding="utf-8")
        if expected != files[rel]:
            problems.append(_diff(expected, files[rel], rel))
    if problems:
        pytest.fail(
            f"{_shown(root)}/ differs from what was generated ({UPDATE_ENV}=1 rewrites it "
            "after review):\n" + "\n".join(problems)
        )
