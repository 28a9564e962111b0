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


def test_the_writer_fsyncs_the_file_then_the_folder(tmp_path, monkeypatch) -> None:
    """The data reaches the disk before the rename makes it visible, and the rename itself is
    made durable: fsync of the temp file, then (after the rename) of the folder."""
    target = tmp_path / "p.json"
    target.write_text("old")
    synced: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace(src, dst) -> None:
        synced.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    fileio.atomic_write(target, "new")
    assert len(synced) == 3, synced
    temp, rename, folder = synced
    assert Path(temp).parent == tmp_path and Path(temp).name.startswith(".p.json.")
    assert rename == "rename" and Path(folder) == tmp_path
    assert target.read_text() == "new"


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temp_file(
    tmp_path, monkeypatch
) -> None:
    """A full disk after the first chunk: the error reaches the caller, the old file is
    untouched and the partial temp file is gone."""
    target = tmp_path / "p.json"
    target.write_text("old contents")
    real_write = os.write
    calls = []

    def write(fd: int, data) -> int:
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(data[:4]))  # a short write: the writer must go on

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(OSError, match="No space left"):
        fileio.atomic_write(target, "new contents that do not fit")
    assert len(calls) == 2
    assert target.read_text() == "old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_a_failed_fsync_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch) -> None:
    target = tmp_path / "p.json"
    target.write_text("old")

    def fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="Input/output"):
        fileio.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_publish_dir_fsyncs_every_file_and_moves_the_folder_in_one_rename(
    tmp_path, monkeypatch
) -> None:
    tmp = tmp_path / "build-x"
    (tmp / "sub").mkdir(parents=True)
    (tmp / "a.cpp").write_text("a")
    (tmp / "sub" / "b.h").write_text("b")
    synced: list[Path] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    final = fileio.publish_dir(tmp, tmp_path / "entry")
    assert not tmp.exists() and (final / "sub" / "b.h").read_text() == "b"
    assert {tmp / "a.cpp", tmp / "sub" / "b.h"} <= set(synced)  # before the rename
    assert synced[-1] == tmp_path  # the rename made durable


def test_no_module_renames_files_into_place_itself() -> None:
    """``fileio`` is the one place that renames a temp file or folder over its target."""
    root = Path(fileio.__file__).parents[1]
    offenders = []
    for folder in ("pto_wsp", "app"):
        for path in (root / folder).rglob("*.py"):
            if path.name == "fileio.py":
                continue
            text = path.read_text(encoding="utf-8")
            for needle in ("os.replace(", "os.rename(", "NamedTemporaryFile", "mkstemp("):
                if needle in text:
                    offenders.append(f"{path.relative_to(root)}: {needle}")
    assert offenders == []


def test_atomic_stream_writes_pieces_and_replaces_on_success(tmp_path) -> None:
    target = tmp_path / "big.json"
    target.write_text("old")
    with fileio.atomic_stream(target) as fh:
        fh.write(b"[1,")
        assert target.read_text() == "old"  # nothing visible before the block ends
        fh.write(memoryview(b"2]"))
    assert target.read_text() == "[1,2]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


def test_atomic_stream_failing_midway_keeps_the_old_file(tmp_path) -> None:
    target = tmp_path / "big.json"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="export failed"):
        with fileio.atomic_stream(target) as fh:
            fh.write(b"[1,")
            raise RuntimeError("export failed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


def test_atomic_write_pieces_keeps_order_and_replaces_on_success(tmp_path) -> None:
    target = tmp_path / "big.json"
    target.write_text("old")
    seen_old: list[str] = []

    def pieces():
        for i in range(50):  # more pieces than wait for the writer thread
            if i == 10:
                seen_old.append(target.read_text())
            yield f"{i:03d},".encode()

    assert fileio.atomic_write_pieces(target, pieces()) == target
    assert target.read_text() == "".join(f"{i:03d}," for i in range(50))
    assert seen_old == ["old"]  # nothing visible before the last piece
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


def test_atomic_write_pieces_failing_producer_keeps_the_old_file(tmp_path) -> None:
    target = tmp_path / "big.json"
    target.write_text("old")

    def pieces():
        yield b"[1,"
        yield b"2,"
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError, match="export failed"):
        fileio.atomic_write_pieces(target, pieces())
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


def test_atomic_write_pieces_failing_write_keeps_the_old_file(tmp_path) -> None:
    target = tmp_path / "big.json"
    target.write_text("old")
    with pytest.raises(AttributeError):  # a piece the writer thread cannot write
        fileio.atomic_write_pieces(target, iter([b"[1,", 12345, b"]"]))  # type: ignore[list-item]
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.json"]


class _SelfWriting:
    """A piece that writes itself to the descriptor (as ``json_rows.Rows`` does)."""

    def __init__(self, text: bytes) -> None:
        self.text = text

    def write_to(self, fd: int) -> int:
        return os.write(fd, self.text)


def test_atomic_write_pieces_mixes_bytes_and_self_writing_pieces(tmp_path) -> None:
    target = tmp_path / "mixed.txt"
    pieces = [b"a", _SelfWriting(b"b"), b"c", _SelfWriting(b"d"), _SelfWriting(b"e")]
    fileio.atomic_write_pieces(target, pieces)
    assert target.read_bytes() == b"abcde"
