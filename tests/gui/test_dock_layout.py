"""The main window's dock areas: no stale "Properties | Stats" tab bar shows beside the canvas,
and the right dock area does not widen when a run fills Sources with a long artifact path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QTabBar
from test_main_window import ScriptedDialogs, _discard_on_close

from app.main_window import MainWindow
from app.model import io


def _window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, dialogs=ScriptedDialogs())
    qtbot.addWidget(window, before_close_func=_discard_on_close)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_no_stale_dock_tab_bar_and_sources_do_not_widen_the_docks(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, tmp_path, monkeypatch)
    shown = [
        [bar.tabText(i) for i in range(bar.count())]
        for bar in window.findChildren(QTabBar)
        if bar.parentWidget() is window and bar.isVisible()
    ]
    assert sorted(shown) == [
        ["Diagnostics", "Details"],  # the selected slice's Details beside the timeline
        ["Properties", "Stats", "Sources"],
        ["Timeline", "Compare", "Log", "Verify", "Sweep"],
    ]

    qtbot.wait(200)  # the first-show dock sizes are applied after the window appears
    width = window.properties_dock.width()
    long_dir = tmp_path / ("emitted-" + "x" * 150)
    (long_dir / "host").mkdir(parents=True)
    (long_dir / "host" / "main.cpp").write_text("int main() { return 0; }\n")
    window.run_panel.sources.set_root(long_dir)
    window.run_panel.sources.open_file(long_dir / "host" / "main.cpp")
    qtbot.wait(50)
    assert window.properties_dock.width() == width
    assert window.run_panel.sources_dock.minimumSizeHint().width() < 300
    _discard_on_close(window)
    window.close()


def test_a_long_run_title_does_not_squeeze_the_details_dock(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timeline's title spells out the schedule; as a plain label its whole text was the
    timeline's minimum width, and the Details dock beside it got 160 px."""
    window = _window(qtbot, tmp_path, monkeypatch)
    qtbot.wait(200)
    details = window.run_panel.details_dock
    before = details.width()
    title = " > ".join(f"stage {i} with a long schedule description" for i in range(12))
    window.run_panel.timeline.title_label.setText(title)
    qtbot.wait(50)
    assert window.run_panel.timeline.minimumSizeHint().width() < 700
    assert details.width() == before >= 300
    assert window.run_panel.timeline.title_label.toolTip() == title  # read whole on hover
    _discard_on_close(window)
    window.close()
