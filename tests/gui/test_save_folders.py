"""Save As and Export to Python start in a folder of the user's: an untitled document or a
bundled sample never offers the package's own samples folder (one Enter wrote into it); a
user's project saves beside itself; the last folder the user saved in is remembered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, QStandardPaths
from test_main_window import ScriptedDialogs, _discard_on_close, shown_window

from app.model import io
from app.model.trust import BUNDLED_PROJECTS

SAMPLE = BUNDLED_PROJECTS / "matmul.pto.json"


class RecordingDialogs(ScriptedDialogs):
    """Also keeps the file each save dialog suggested."""

    def __init__(self) -> None:
        super().__init__()
        self.suggested: list[Path] = []

    def save_path(self, caption: str, suggested: Path, file_filter: str) -> Path | None:
        self.suggested.append(Path(suggested))
        return super().save_path(caption, suggested, file_filter)


def _default_folder() -> Path:
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs) if docs and Path(docs).is_dir() else Path.home()


@pytest.fixture
def window_and_dialogs(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> tuple[Any, RecordingDialogs]:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    dialogs = RecordingDialogs()
    window = shown_window(
        qtbot, settings, dialogs=dialogs, before_close=_discard_on_close, size=(1200, 800)
    )
    return window, dialogs


def test_a_bundled_sample_saves_and_exports_to_a_user_folder(
    window_and_dialogs: tuple[Any, RecordingDialogs], tmp_path: Path
) -> None:
    window, dialogs = window_and_dialogs
    dialogs.paths.append(SAMPLE)
    window.actions["open"].trigger()  # File > Open… on the shipped sample
    assert window.path == SAMPLE.resolve()

    dialogs.paths.append(None)  # the user cancels: only where the dialog opened matters
    window.actions["save_as"].trigger()
    dialogs.paths.append(None)
    window.actions["export_python"].trigger()
    for suggested in dialogs.suggested:
        assert not suggested.resolve().is_relative_to(BUNDLED_PROJECTS.parent), suggested
        assert suggested.parent == _default_folder()

    mine = tmp_path / "mine"
    mine.mkdir()
    dialogs.paths.append(mine / "matmul_copy.py")
    window.actions["export_python"].trigger()
    assert (mine / "matmul_copy.py").is_file()

    window.actions["new"].trigger()  # an untitled document: the folder the user saved in
    dialogs.paths.append(None)
    window.actions["save_as"].trigger()
    assert dialogs.suggested[-1].parent == mine
    dialogs.paths.append(mine / "own.pto.json")
    window.actions["save_as"].trigger()
    dialogs.paths.append(None)  # a project of the user's: beside itself
    window.actions["export_python"].trigger()
    assert dialogs.suggested[-1] == mine / "own.py"
