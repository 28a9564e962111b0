"""The one atomic file writer: every file PTO-WSP and the Studio write goes through here.

``atomic_write(path, data)`` writes a temp file beside ``path``, fsyncs it, renames it over
``path`` and fsyncs the directory, so a reader (or a crash at any point) sees either the old
file or the new one, never half of one. A kill between the temp file and the rename leaves a
temp file behind; the next write of the same target removes it (temp names carry the writer's
pid, so only temp files of dead writers are removed).

The file keeps the mode of the file it replaces; a new file gets the default mode of
``open()`` (0o666 minus the umask), not the 0o600 of ``mkstemp``.

A folder of several files (a build-cache entry, an emitted source tree) is published the same
way by ``publish_dir(tmp, final)``: every file under ``tmp`` is fsynced, ``tmp`` is renamed over
``final`` and the parent is fsynced. No other module renames a temp file or folder into place.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = [
    "atomic_write",
    "atomic_stream",
    "atomic_write_pieces",
    "FdWriter",
    "StreamWriter",
    "publish_dir",
    "rename_scratch",
    "temp_files_of",
    "owned_temp_dir",
    "scratch_dir",
    "STALE_LEGACY_S",
]

STALE_LEGACY_S = 600.0
"""Temp files without a pid (written by older builds) count as stale after this many seconds."""

_TMP_SUFFIX = ".tmp"


def _temp_name(target: Path) -> str:
    return f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{_TMP_SUFFIX}"


def _temp_pattern(target: Path) -> re.Pattern[str]:
    # ours: .<name>.<pid>.<hex>.tmp; older builds: .<name>.<mkstemp suffix>.tmp, .<name>.tmp
    return re.compile(
        rf"^\.{re.escape(target.name)}(?:\.(?P<pid>\d+)\.[0-9a-f]{{8}}|\.[a-z0-9_]{{8}})?\.tmp$"
    )


def temp_files_of(target: str | os.PathLike[str]) -> list[Path]:
    """Temp files of writes to ``target`` that did not finish (this writer's or others')."""
    target = Path(target)
    pattern = _temp_pattern(target)
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return [target.parent / n for n in names if pattern.match(n)]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def _clean_stale(target: Path) -> None:
    """Remove temp files left by writers of ``target`` that were killed mid-write."""
    pattern = _temp_pattern(target)
    now = time.time()
    for tmp in temp_files_of(target):
        m = pattern.match(tmp.name)
        assert m is not None
        pid = m.group("pid")
        try:
            if pid is not None:
                if _pid_alive(int(pid)):
                    continue
            elif now - tmp.stat().st_mtime < STALE_LEGACY_S:
                continue
            tmp.unlink()
        except OSError:
            pass  # gone already, or not ours to remove: never fail a save over a stale file


def _umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # fallback: read by setting (not thread-safe, hence the first try)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # platforms without directory handles (Windows)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, names in os.walk(folder):
        for name in names:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def publish_dir(tmp: str | os.PathLike[str], final: str | os.PathLike[str]) -> Path:
    """Move the finished folder ``tmp`` to ``final`` in one rename, after fsyncing its files,
    so a reader (or a crash) sees no ``final`` or a complete one. ``tmp`` must be on the same
    file system (make it inside ``final``'s parent). Raises ``OSError`` as ``os.replace`` does
    (e.g. when ``final`` is a non-empty folder); ``tmp`` is then left for the caller to remove.
    """
    source, target = Path(tmp), Path(final)
    _fsync_tree(source)
    os.replace(source, target)
    _fsync_dir(target.parent)
    return target


def rename_scratch(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Rename the scratch file ``source`` over ``target`` in the same work folder (a run's
    trace handed on under the name its reader expects): one rename, no copy and no fsync, as
    such files do not outlive the run. Raises ``OSError`` as ``os.replace`` does."""
    os.replace(source, target)
    return Path(target)


class StreamWriter:
    """The file ``atomic_stream`` yields: ``write(data)`` writes all of ``data`` (unbuffered,
    so hand it large pieces) and returns the byte count."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data)
        total = len(view)
        while view:
            view = view[os.write(self._fd, view) :]
        return total


@contextlib.contextmanager
def atomic_stream(path: str | os.PathLike[str]) -> Iterator[StreamWriter]:
    """A binary file to write ``path``'s new content into piece by piece (a large export never
    holds its whole text in memory); on a clean exit of the block it is fsynced and renamed over
    ``path`` exactly as ``atomic_write`` does. An exception inside the block removes the temp
    file and leaves the old ``path`` untouched.
    """
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))  # write through a link, keep the link
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(target)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    tmp = target.parent / _temp_name(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            yield StreamWriter(fd)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(target.parent)


_WRITE_BEHIND = 2
"""Pieces ``atomic_write_pieces`` lets wait for the writer thread: memory stays a few pieces."""


class FdWriter(Protocol):
    """A piece of a file that writes itself to a file descriptor (``json_rows.Rows``: text
    made and written by the extension with the GIL released, never held as a bytes object)."""

    def write_to(self, fd: int) -> object: ...


def _write_piece(fh: StreamWriter, piece: bytes | FdWriter) -> None:
    if isinstance(piece, (bytes, bytearray, memoryview)):
        fh.write(piece)
    else:
        piece.write_to(fh.fileno())


def atomic_write_pieces(path: str | os.PathLike[str], pieces: Iterable[bytes | FdWriter]) -> Path:
    """Atomically replace ``path`` with the concatenation of ``pieces`` (as ``atomic_stream``),
    each written on a writer thread while the next is produced.

    A piece is bytes or an ``FdWriter``. A large export spends about as long in making its text
    and the kernel's copy of it into the page cache as in preparing the next piece; a piece that
    writes itself with the GIL released overlaps the two on a second core. At most
    ``_WRITE_BEHIND`` pieces wait, so memory stays flat in the file's size. An exception from
    either side leaves ``path`` untouched.
    """
    # Imported here: concurrent.futures (and the logging it loads) is needed by exports only,
    # not by every compile that writes a file (issue #18: first run of a fresh process).
    from concurrent.futures import ThreadPoolExecutor

    with atomic_stream(path) as fh, ThreadPoolExecutor(1, "pto-wsp-write") as writer:
        pending: deque[Future[None]] = deque()
        for piece in pieces:
            pending.append(writer.submit(_write_piece, fh, piece))
            while len(pending) > _WRITE_BEHIND:
                pending.popleft().result()
        while pending:
            pending.popleft().result()
    return Path(path)


def atomic_write(path: str | os.PathLike[str], data: str | bytes, encoding: str = "utf-8") -> Path:
    """Atomically replace ``path`` with ``data`` (text is encoded with ``encoding``, ``\\n``
    line ends kept as written). Returns the path written.

    Raises ``OSError`` when the folder cannot be written and ``UnicodeEncodeError`` when text
    cannot be encoded (before anything is written); the old file is untouched either way.
    """
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    with atomic_stream(target) as fh:
        fh.write(payload)
    return target


def owned_temp_dir(prefix: str) -> Path:
    """A fresh folder ``<tmp>/<prefix>-<pid>-<random>`` for this process to remove when done.
    Folders of the same prefix left by processes that were killed (their pid is gone) are
    removed first, so a ``kill -9`` or a crash costs one folder until the next start, not
    forever."""
    base = Path(tempfile.gettempdir())
    pattern = re.compile(rf"^{re.escape(prefix)}-(?P<pid>\d+)-[0-9a-z_]+$")
    with contextlib.suppress(OSError):
        for entry in os.scandir(base):
            m = pattern.match(entry.name)
            if m and entry.is_dir(follow_symlinks=False) and not _pid_alive(int(m["pid"])):
                shutil.rmtree(entry.path, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=base))


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """``owned_temp_dir(prefix)``, removed when the block ends (also on error)."""
    folder = owned_temp_dir(prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
