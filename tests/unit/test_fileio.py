"""``pto_wsp.fileio``: the one atomic writer keeps the file's mode and cleans killed writes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pto_wsp import fileio


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o664])
def test_replacing_a_file_keeps_its_mode(tmp_path, mode) -> None:
    target = tmp_path / "p.json"
    target.write_text("old")
    target.chmod(mode)
    fileio.atomic_write(target, "new")
    assert target.read_text() == "new" and _mode(target) == mode


def test_a_new_file_gets_the_umask_default_not_0600(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        fileio.atomic_write(tmp_path / "new.json", b"x")
        plain = tmp_path / "plain.json"
        plain.write_text("x")  # what open() gives
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.json") == _mode(plain) == 0o644


def test_text_is_written_as_given_and_nothing_is_left_beside_it(tmp_path) -> None:
    target = tmp_path / "deep" / "s.py"
    fileio.atomic_write(target, "a\nb\n")
    assert target.read_bytes() == b"a\nb\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["s.py"]


def test_unencodable_text_leaves_the_old_file(tmp_path) -> None:
    target = tmp_path / "p.json"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        fileio.atomic_write(target, "x\udc80")
    assert target.read_text() == "old" and fileio.temp_files_of(target) == []


def test_a_write_through_a_symlink_keeps_the_link(tmp_path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    fileio.atomic_write(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temp_files_of_dead_writers_are_removed_live_ones_kept(tmp_path) -> None:
    target = tmp_path / "p.json"
    dead = tmp_path / f".p.json.{_dead_pid()}.0123abcd.tmp"
    live = tmp_path / f".p.json.{os.getppid()}.0123abcd.tmp"
    other = tmp_path / f".q.json.{_dead_pid()}.0123abcd.tmp"
    for p in (dead, live, other):
        p.write_text("partial")
    assert set(fileio.temp_files_of(target)) == {dead, live}
    fileio.atomic_write(target, "new")
    assert not dead.exists() and live.exists() and other.exists()


def test_scratch_dir_is_removed_after_the_block_and_on_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stale = tmp_path / f"pto-wsp-run-{_dead_pid()}-abc123"
    stale.mkdir()
    with fileio.scratch_dir("pto-wsp-run") as folder:
        (folder / "x").write_text("x")
        assert folder.parent == tmp_path and not stale.exists()
    assert not folder.exists()
    with pytest.raises(RuntimeError), fileio.scratch_dir("pto-wsp-run") as folder:
        raise RuntimeError
    assert not folder.exists()


def test_the_studio_run_history_removes_folders_of_crashed_sessions(tmp_path, monkeypatch) -> None:
    from app.runner.runs import RunHistory

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stale = tmp_path / f"pto-wsp-runs-{_dead_pid()}-abc123"
    (stale / "run-0001").mkdir(parents=True)
    live = tmp_path / f"pto-wsp-runs-{os.getpid()}-keep"  # another live session's: kept
    live.mkdir()
    history = RunHistory()
    try:
        assert history.session_dir.parent == tmp_path
        assert not stale.exists() and live.exists()
    finally:
        history.close()
    assert not history.session_dir.exists()
