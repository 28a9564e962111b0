"""Each run the Studio starts gets a folder of its own (run-0001, run-0002, ...), named in the
Log: a failed run's folder, left to be read, is never reused by the next run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from test_main_window import shown_window

from app.model import io


def test_a_failed_run_keeps_its_folder_number(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    window = shown_window(qtbot, settings, size=(1200, 800))
    panel = window.run_panel
    assert panel is not None
    for _ in range(2):  # an empty project: each F5 fails ("nothing to run")
        QTest.keyClick(window, Qt.Key.Key_F5)
        qtbot.waitUntil(lambda: not panel.runner.is_running())
    folders = re.findall(r"--- failed .* in (\S+)", panel.log.toPlainText())
    assert [Path(f).name for f in folders] == ["run-0001", "run-0002"]
    assert all(Path(f).is_dir() for f in folders)  # the failed run's folder is still there
    assert len(panel.history) == 0  # failed runs are not kept for Compare
