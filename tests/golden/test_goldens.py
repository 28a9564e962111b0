"""The golden-file helper itself: a mismatch fails with a unified diff naming the file, and the
update switch rewrites files (and drops a tree's files that are no longer generated)."""

from __future__ import annotations

from pathlib import Path

import pytest
from goldens import UPDATE_ENV, check_text, check_tree, normalise


def test_a_changed_text_fails_with_a_unified_diff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    golden = tmp_path / "one.txt"
    golden.write_text("a\nb\nc\n")
    check_text("a\nb\nc\n", golden)
    with pytest.raises(pytest.fail.Exception) as failed:
        check_text("a\nB\nc\n", golden)
    message = str(failed.value)
    assert "--- golden/one.txt" in message and "+++ generated/one.txt" in message
    assert "\n-b\n+B\n" in message
    with pytest.raises(pytest.fail.Exception, match="no golden file"):
        check_text("x\n", tmp_path / "missing.txt")


def test_a_tree_lists_missing_extra_and_changed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UPDATE_ENV, raising=False)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kept.cpp").write_text("int x;\n")
    (tmp_path / "gone.cpp").write_text("int y;\n")
    with pytest.raises(pytest.fail.Exception) as failed:
        check_tree({"sub/kept.cpp": "int z;\n", "new.h": "#pragma once\n"}, tmp_path)
    message = str(failed.value)
    assert "missing golden file new.h" in message
    assert "golden file gone.cpp is no longer emitted" in message
    assert "-int x;\n+int z;" in message


def test_the_update_switch_rewrites_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UPDATE_ENV, "1")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "gone.cpp").write_text("int y;\n")
    check_tree({"sub/kept.cpp": "int z;\n"}, tree)
    check_text("fresh\n", tmp_path / "one.txt")
    assert [p.relative_to(tree).as_posix() for p in tree.rglob("*.*")] == ["sub/kept.cpp"]
    assert (tree / "sub" / "kept.cpp").read_text() == "int z;\n"
    monkeypatch.delenv(UPDATE_ENV)
    check_tree({"sub/kept.cpp": "int z;\n"}, tree)  # now they match
    check_text("fresh\n", tmp_path / "one.txt")


def test_normalise_replaces_machine_paths() -> None:
    where = Path("/tmp/pto-wsp-emit-1234")
    text = f'{{"attn", "{where}/attention.py:25"}}'
    assert normalise(text, {where: "<export dir>"}) == '{"attn", "<export dir>/attention.py:25"}'
