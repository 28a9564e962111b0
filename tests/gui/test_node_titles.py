"""Canvas titles say what a node is and follow edits; Edit > Arrange lays the canvas out.

Format v2: the sample is one canvas; frames carry their title (and a workload its schedule
summary) in their header, a call's ports their index.

Real Qt events on a shown 1400x900 Studio window: clicks, typed property fields, wire drags,
shortcuts. Results are read back from the canvas items and the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_build_attention import UserDriver
from test_main_window import _discard_on_close, shown_window

from app.editor import frames as vframes
from app.model import io

SAMPLE = Path(__file__).resolve().parents[2] / "app" / "projects" / "attention_varlen.pto.json"


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


def _header_point(user: UserDriver, frame_id: str) -> QPoint:
    """A point on a frame's header band (its interior lets clicks through)."""
    rect = user.canvas.view_node(frame_id).view.sceneBoundingRect()
    return user.canvas.viewer.mapFromScene(QPointF(rect.left() + 60.0, rect.top() + 10.0))


def test_root_titles_carry_key_parameters_untruncated(user: UserDriver) -> None:
    canvas = user.canvas
    nodes = canvas.current_graph().nodes
    node_titles = {_title(user, nid) for nid in nodes if not canvas.is_frame(nid)}
    assert {
        "Q  f32[4,8,16,16]",
        "K  f32[4,16,16]",
        "batch  DenseDyn 4",
        "heads  Dense 8",
        "attn_kernel(Q, K, V) → O",
        "attn_kernel[b, h]",
    } <= node_titles
    (wl,) = _by_kind(user, "workload.def")
    (loop,) = _by_kind(user, "loop.parallel")
    wl_item, loop_item = canvas.view_node(wl).view, canvas.view_node(loop).view
    assert loop_item.name == "P  b in batch (DenseDyn 4) × h in heads (Dense 8)"
    assert wl_item.name == "workload attention → cpu_sim"
    assert wl_item.summary.startswith("affinity(batch)") and "streams 2" in wl_item.summary
    for nid in nodes:
        item = canvas.view_node(nid).view
        if canvas.is_frame(nid):
            need = vframes.header_text_width(item.name, item.summary)
            assert need <= item.width + 0.5, f"header {item.name!r} is wider than its frame"
            continue
        text = item.text_item
        width = QFontMetricsF(text.font()).horizontalAdvance(text.toPlainText())
        assert width <= item.width, f"{text.toPlainText()!r} is wider than its node"
    # the call's ports say how each tensor is indexed
    (call,) = _by_kind(user, "kernel.call")
    view = canvas.view_node(call)
    labels = {n: view.port_label("in", n).text() for n in "QKV"}
    assert labels == {"Q": "Q[b, h]", "K": "K[b]", "V": "V[b]"}
    assert view.port_label("out", "O").text() == "O[b, h]"


def test_titles_follow_typed_properties_and_references(user: UserDriver) -> None:
    canvas = user.canvas
    q = _named(user, "Q")
    user.click_node(q)
    user.type_into("dtype", "bf16")
    assert _title(user, q) == "Q  bf16[4,8,16,16]"
    # An axis resized: the loop frame's header follows (references are properties in v2).
    heads = _named(user, "heads")
    (loop,) = _by_kind(user, "loop.parallel")
    user.click_node(heads)
    user.type_into("size", "16")
    assert canvas.view_node(loop).view.name == "P  b in batch (DenseDyn 4) × h in heads (Dense 16)"
    # The frame widened with its header (never narrower than what it says).
    item = canvas.view_node(loop).view
    assert vframes.header_text_width(item.name) <= item.width + 0.5
    # The call is titled after its kernel and axes.
    (call,) = _by_kind(user, "kernel.call")
    assert _title(user, call) == "attn_kernel[b, h]"
    user.click_node(call)
    user.type_into("axes", "h, b")
    assert _title(user, call) == "attn_kernel[h, b]"
    # Deleting the kernel definition leaves the call without one; undo restores it.
    kernel = _named(user, "attn_kernel")
    user.click_node(kernel)
    # A real click activates the window; the offscreen platform's synthetic one does not, and
    # the Properties panel's editors being replaced after the typed edits can leave no active
    # window (then no key reaches the canvas's shortcuts).
    user.window.activateWindow()
    user.qtbot.waitUntil(lambda: QApplication.activeWindow() is user.window)
    user.canvas.viewer.setFocus()
    user.press("Del")
    assert _title(user, call) == "call[h, b] (no kernel)"
    user.press("Ctrl+Z")
    assert _title(user, call) == "attn_kernel[h, b]"
    # A click on the loop's header selects the frame (not what lies under it).
    QTest.mouseClick(user.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _header_point(user, loop))  # fmt: skip
    assert canvas.selected_ids() == [loop]


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
