"""Every bundled sample opens readable: whole root canvas in view at zoom >= 0.6 (issue 13).

Opened the way a user opens a file (File > Open, Ctrl+O) in a 1400x900 Studio window; nothing
is entered or clicked afterwards. In format v2 the root canvas is the whole project (frames and
everything inside them; kernel bodies excepted). "In view" is each node's and frame's scene rect
inside the rect the viewport shows, so a title is never cut at the canvas edge.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_main_window import _discard_on_close, shown_window

from app.editor.compat import visible_scene_rect
from app.main_window import MainWindow
from app.model import io

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "app" / "projects").glob("*.pto.json"))
READABLE_ZOOM = 0.6


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    win = shown_window(qtbot, settings)
    yield win
    if win.isVisible():
        _discard_on_close(win)
        win.close()


def test_samples_exist() -> None:
    assert len(SAMPLES) >= 5


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name.split(".")[0])
def test_sample_opens_with_every_root_node_in_view_at_a_readable_zoom(
    qtbot: Any, window: MainWindow, sample: Path
) -> None:
    window.dialogs.paths.append(sample)  # type: ignore[attr-defined]
    QTest.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.path == sample.resolve())
    QApplication.processEvents()
    canvas = window.canvas
    assert canvas.scope is None  # the root canvas, nothing entered
    viewer = canvas.viewer
    zoom = viewer.transform().m11()
    assert zoom >= READABLE_ZOOM, f"{sample.name} opens at zoom {zoom:.2f}"
    visible = visible_scene_rect(viewer)
    root = window.document.graph.nodes
    assert root and set(root) == set(canvas._views)
    outside = [
        canvas.node_title(node)
        for nid, node in root.items()
        if not visible.contains(canvas.view_node(nid).view.sceneBoundingRect())
    ]
    assert not outside, f"{sample.name}: not in view at open: {outside}"
    # Frames are drawn around their children (nothing framed sits outside its frame).
    for nid, node in root.items():
        parent = getattr(node, "parent", None)
        if parent is not None:
            inner = canvas.view_node(nid).view.sceneBoundingRect()
            assert canvas.view_node(parent).view.sceneBoundingRect().contains(inner), (
                f"{sample.name}: {canvas.node_title(node)} drawn outside its frame"
            )
