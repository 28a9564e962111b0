"""No code is written twice outside tests/: ``duplicates`` (the workplace's duplicate finder)
lists no pair of places sharing 10 or more lines, except pairs that ``.duplicates-allow.toml``
names with a reason.

Why: one source of truth per concept (README, house rules). A second copy of a rule drifts
from the first; when two places look alike for a good reason (two tables of the same shape, a
literal public ``__all__``), the allowlist says so where a reviewer sees it.

The allowlist (TOML, at the repository root) is a list of ``[[allow]]`` tables::

    [[allow]]
    files = ["app/editor/nodes.py", "app/editor/nodes.py"]   # the pair, either order
    reason = "why these places are alike and stay so"

An entry matches every pair between those two files (line numbers move with every edit). An
entry that no longer matches a listed pair fails too, so the list shrinks with the code.

Generated files are not code anyone writes twice; a ``[[generated]]`` table names a folder of
them and why (e.g. the ``_core`` stubs pybind11-stubgen writes)::

    [[generated]]
    folder = "pto_wsp/_core/"
    reason = "what generates them and what checks them"

``duplicates`` is a command of this workplace's machines (developers' and CI's), not a package:
where it is not on PATH, the comparison is skipped (the allowlist's own checks still run). By
hand: ``duplicates --min-lines 10 --most 200``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWLIST = ROOT / ".duplicates-allow.toml"
MIN_LINES = 10
ROWS = 200
# "D3 a.py:10-24 ~ b.py:40-54 shape (+1 more run)"
ROW = re.compile(r"^D\d+ (?P<a>\S+?):\d+-\d+ ~ (?P<b>\S+?):\d+-\d+\b")


@dataclass(frozen=True)
class Allowed:
    """One allowlist entry: a pair of files (sorted) and why their likeness stays."""

    files: tuple[str, str]
    reason: str


def _pair(a: str, b: str) -> tuple[str, str]:
    first, second = sorted((a, b))
    return first, second


def load_generated(path: Path = ALLOWLIST) -> tuple[str, ...]:
    """The folders of generated files, which pairs are not checked in."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    folders = []
    for i, raw in enumerate(data.get("generated", [])):
        folder, reason = raw.get("folder"), raw.get("reason")
        if set(raw) != {"folder", "reason"} or not isinstance(folder, str):
            raise ValueError(f"generated[{i}]: expected exactly the keys folder and reason")
        if not folder.endswith("/") or not (ROOT / folder).is_dir():
            raise ValueError(f"generated[{i}]: {folder!r} is not a folder of the repository ('/')")
        if not isinstance(reason, str) or len(reason.split()) < 4:
            raise ValueError(f"generated[{i}] {folder}: give a reason (a sentence, not a word)")
        folders.append(folder)
    return tuple(folders)


def load_allowlist(path: Path = ALLOWLIST) -> list[Allowed]:
    """The entries of the allowlist; raises ValueError naming an entry that is malformed."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"allow", "generated"}
    if unknown:
        raise ValueError(f"unknown top-level keys {sorted(unknown)}; use [[allow]] tables")
    entries = []
    for i, raw in enumerate(data.get("allow", [])):
        files, reason = raw.get("files"), raw.get("reason")
        if set(raw) != {"files", "reason"}:
            raise ValueError(f"allow[{i}]: expected exactly the keys files and reason")
        if not (isinstance(files, list) and len(files) == 2 and all(isinstance(f, str) for f in files)):  # fmt: skip
            raise ValueError(f"allow[{i}]: files must be a list of two paths")
        if not isinstance(reason, str) or len(reason.split()) < 4:
            raise ValueError(f"allow[{i}] {files}: give a reason (a sentence, not a word)")
        entries.append(Allowed(_pair(*files), reason))
    return entries


def listed_pairs(output: str, skipped: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The file pairs of the tool's rows that lie wholly outside tests/ and ``skipped`` folders."""
    pairs = []
    for line in output.splitlines():
        m = ROW.match(line)
        if m and not any(p.startswith(("tests/", *skipped)) for p in (m["a"], m["b"])):
            pairs.append(_pair(m["a"], m["b"]))
    return pairs


def test_the_allowlist_is_well_formed() -> None:
    assert load_generated() == ("pto_wsp/_core/",)  # each folder checked by load_generated
    entries = load_allowlist()
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        for f in entry.files:
            assert (ROOT / f).is_file(), f"{ALLOWLIST.name}: {f} does not exist"
            assert not f.startswith("tests/"), f"{f}: tests/ is not checked, allow nothing there"
        assert entry.files not in seen, f"{ALLOWLIST.name}: {entry.files} is listed twice"
        seen.add(entry.files)


def test_listed_pairs_read_the_tools_rows() -> None:
    output = (
        "3 pairs of places (12 files read), each sharing runs of 10 or more lines\n"
        "D1 app/a.py:10-24 ~ pto_wsp/b.py:40-54\n"
        "D2 tests/x.py:1-20 ~ app/a.py:3-22 shape\n"
        "D3 app/c.py:5-16 ~ app/c.py:30-41 shape boilerplate (+2 more runs)\n"
        "left out: 4 runs of 10 lines that stand in more than 8 places each\n"
    )
    assert listed_pairs(output) == [("app/a.py", "pto_wsp/b.py"), ("app/c.py", "app/c.py")]
    assert listed_pairs(output, ("app/c",)) == [("app/a.py", "pto_wsp/b.py")]


@pytest.mark.skipif(shutil.which("duplicates") is None, reason="the duplicates tool is not on PATH")
def test_no_duplicates_outside_tests_but_the_allowed() -> None:
    proc = subprocess.run(
        [
            "duplicates",
            "--repo",
            str(ROOT),
            "--min-lines",
            str(MIN_LINES),
            "--most",
            str(ROWS),
            "--seconds",
            "300",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "incomplete:" not in output, f"duplicates did not read the whole tree:\n{output}"
    assert "more pairs)" not in output, f"more than {ROWS} rows: raise ROWS\n{output}"
    allowed = {e.files: e for e in load_allowlist()}
    generated = load_generated()
    found = listed_pairs(output, generated)
    new = [pair for pair in found if pair not in allowed]
    stale = sorted(set(allowed) - set(found))
    rows = "\n".join(
        line
        for line in output.splitlines()
        if (m := ROW.match(line))
        and not any(f.startswith(("tests/", *generated)) for f in (m["a"], m["b"]))
    )
    assert not new, (
        f"code written twice outside tests/ (share it, or allow the pair in {ALLOWLIST.name} "
        f"with a reason): {new}\n{rows}"
    )
    assert not stale, f"{ALLOWLIST.name} allows pairs duplicates no longer lists: {stale}"
