"""Help > Keyboard Shortcuts lists each key where it applies (README: the timeline's keys under
Timeline), opened from the Help menu and filtered by typing, as a user does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_main_window import shown_window

from app.model import io


def test_timeline_keys_are_listed_under_timeline(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    window = shown_window(qtbot, settings, size=(1200, 800))
    window.actions["shortcuts"].trigger()
    (dialog,) = [
        w
        for w in QApplication.topLevelWidgets()
        if w.objectName() == "ShortcutsDialog" and w.isVisible()
    ]
    QTest.keyClicks(dialog.filter_edit, "timeline")
    shown = [r for i, r in enumerate(dialog.rows) if not dialog.table.isRowHidden(i)]
    under_timeline = {r.text: r.keys for r in shown if r.where == "Timeline"}
    assert under_timeline.get("Search the timeline's slices") == "Ctrl+F"
    assert under_timeline.get("Next timeline match") == "F3"
    everything = {(r.text, r.where): r.keys for r in dialog.rows}
    assert everything[("Zoom in / out at the mouse cursor", "Timeline")] == "W / S"
    assert everything[("Pan left / right", "Timeline")] == "A / D"
    # the Compare dock's timelines take the same keys: listed there too, once
    assert everything[("Zoom in / out at the mouse cursor", "Compare")] == "W / S"
    assert [r.where for r in dialog.rows if r.text == "Pan left / right"].count("Compare") == 1
    dialog.close()
    qtbot.waitUntil(lambda: not dialog.isVisible())
