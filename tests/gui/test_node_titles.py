"""Canvas titles say what a node is and follow edits; Edit > Arrange lays a scope out.

Real Qt events on a shown 1400x900 Studio window: clicks, typed property fields, wire drags,
shortcuts. Results are read back from the canvas items and the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtTest import QTest
from test_build_attention import UserDriver
from test_main_window import _discard_on_close, shown_window

from app.model import io

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "attention_varlen.pto.json"


@pytest.fixture
def user(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[UserDriver]:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    win = shown_window(qtbot, settings)
    win.dialogs.paths.append(SAMPLE)  # type: ignore[attr-defined]
    driver = UserDriver(qtbot, win)
    driver.press("Ctrl+O")
    qtbot.waitUntil(lambda: win.path == SAMPLE.resolve())
    yield driver
    if win.isVisible():
        _discard_on_close(win)
        win.close()


def _by_kind(user: UserDriver, kind: str) -> list[str]:
    graph = user.canvas.current_graph()
    return [nid for nid, n in graph.nodes.items() if n.kind == kind]


def _title(user: UserDriver, node_id: str) -> str:
    return user.canvas.view_node(node_id).view.text_item.toPlainText()


def _named(user: UserDriver, name: str) -> str:
    graph = user.canvas.current_graph()
    return next(nid for nid, n in graph.nodes.items() if n.name == name)


def test_root_titles_carry_key_parameters_untruncated(user: UserDriver) -> None:
    titles = {_title(user, nid) for nid in user.canvas.current_graph().nodes}
    assert {"Q  f32[4,8,16,16]", "batch  DenseDyn 4", "heads  Dense 8"} <= titles
    assert "program → cpu_sim" in titles and "streams 2" in titles
    assert any(t.startswith("dispatch affinity(batch)") for t in titles)
    for nid in user.canvas.current_graph().nodes:
        item = user.canvas.view_node(nid).view
        text = item.text_item
        width = QFontMetricsF(text.font()).horizontalAdvance(text.toPlainText())
        assert width <= item.width, f"{text.toPlainText()!r} is wider than its node"


def test_titles_follow_typed_properties_and_wires(user: UserDriver) -> None:
    q = _named(user, "Q")
    user.click_node(q)
    user.type_into("dtype", "bf16")
    assert _title(user, q) == "Q  bf16[4,8,16,16]"
    # Inside the loop: the call is titled after its kernel and axes, the Gets after targets.
    (wl,) = _by_kind(user, "workload.def")
    user.double_click_node(wl)
    (loop,) = _by_kind(user, "loop.parallel")
    assert _title(user, loop) == "P  b in batch × h in heads"
    user.double_click_node(loop)
    (call,) = _by_kind(user, "kernel.call")
    assert _title(user, call) == "attn_kernel[b, h]"
    gets = {_title(user, g) for g in _by_kind(user, "data.get")}
    assert gets == {"kernel attn_kernel", "Q", "K", "V", "O"}
    user.click_node(call)
    user.type_into("axes", "h, b")
    assert _title(user, call) == "attn_kernel[h, b]"
    # Deleting the Get that wires the kernel in leaves the call untitled; undo restores it.
    kget = next(g for g in _by_kind(user, "data.get") if _title(user, g) == "kernel attn_kernel")
    user.click_node(kget)
    user.press("Del")
    assert _title(user, call) == "call[h, b] (no kernel)"
    user.press("Ctrl+Z")
    assert _title(user, call) == "attn_kernel[h, b]"


def test_edit_arrange_is_one_undo_step_and_keeps_everything_in_view(user: UserDriver) -> None:
    doc = user.window.document
    q = _named(user, "Q")
    # Drag Q sideways (a column's order follows the previous top-to-bottom order).
    user.canvas.viewer.setFocus()
    before = {nid: n.pos for nid, n in doc.graph.nodes.items()}
    user.click_node(q)
    start = user.node_point(q)
    QTest.mousePress(user.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)  # fmt: skip
    QTest.mouseMove(user.viewport, start + QPoint(250, 0))
    QTest.mouseRelease(user.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(250, 0))  # fmt: skip
    assert doc.graph.nodes[q].pos != before[q]
    user.press("Ctrl+Shift+A")
    arranged = {nid: n.pos for nid, n in doc.graph.nodes.items()}
    assert arranged == before  # the sample is stored arranged: Arrange puts Q back
    assert user.window.editor.undo_title() == "Arrange"
    user.press("Ctrl+Z")
    assert doc.graph.nodes[q].pos != before[q]
