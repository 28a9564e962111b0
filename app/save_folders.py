"""Where Save As and Export to Python open their file dialog: a folder of the user's.

A project the user opened from a folder of theirs saves next to itself. An untitled document, or
one opened from the bundled samples, starts in the last folder the user saved in, else the
user's Documents folder (``QStandardPaths``), else home: never the package's own folder (the
shipped samples, ``trust.BUNDLED_PROJECTS``), where one Enter used to write into the install.
The Open dialog keeps its own last folder (``files/last_dir``): opening a sample must not make
the samples' folder where the next save goes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

from .model import trust

__all__ = ["SAVE_DIR_KEY", "remember_save_dir", "save_dir_for"]

SAVE_DIR_KEY = "files/last_save_dir"
PACKAGE_DIR = trust.BUNDLED_PROJECTS.parent  # the Studio's package: its data is not the user's


def _in_package(folder: Path) -> bool:
    try:
        return folder.resolve().is_relative_to(PACKAGE_DIR.resolve())
    except OSError:
        return True


def user_save_dir(settings: QSettings) -> Path:
    """The last folder the user saved in (if it still exists, outside the package), else
    Documents, else home."""
    stored = settings.value(SAVE_DIR_KEY)
    if stored:
        folder = Path(str(stored))
        if folder.is_dir() and not _in_package(folder):
            return folder
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if docs and Path(docs).is_dir() and not _in_package(Path(docs)):
        return Path(docs)
    return Path.home()


def save_dir_for(settings: QSettings, project: Path | None) -> Path:
    """Where a save of the document at ``project`` (None: untitled) starts: beside it when it is
    the user's file, else ``user_save_dir``."""
    if project is not None and not trust.is_bundled(project) and not _in_package(project.parent):
        return project.parent
    return user_save_dir(settings)


def remember_save_dir(settings: QSettings, written: Path) -> None:
    """The user wrote ``written``: its folder is where the next untitled save starts."""
    folder = Path(written).resolve().parent
    if not _in_package(folder):
        settings.setValue(SAVE_DIR_KEY, str(folder))
