"""Deleting a node that others reference says what lost its reference; undo restores the
canvas exactly (a call's port labels drawn once, not twice).

A new user deleted the kernel of the §8.1 sample's call: the call silently became ``(no
kernel)`` and lost its wires, and after Ctrl+Z its port labels (``Q[b, h]``) were drawn twice,
overlapping: the re-created labels did not take the zoomed-out drawing mode of their node, so
each painted itself under the node's readable copy of it.

Real Qt events on a shown Studio window: clicks, Del, Ctrl+Z. Results are read from the status
bar, the document, the scene's items and the pixels of the viewport.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_build_attention import UserDriver
from test_main_window import _discard_on_close, shown_window

from app.editor.nodes import PortLabel
from app.model import indexing, io, registry

PROJECTS = Path(__file__).resolve().parents[2] / "app" / "projects"


@pytest.fixture
def open_sample(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], UserDriver]]:
    """``open_sample(file)``: a shown Studio window with ``app/projects/<file>`` opened by Ctrl+O."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    windows = []

    def make(name: str) -> UserDriver:
        settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
        win = shown_window(qtbot, settings)
        windows.append(win)
        path = PROJECTS / name
        win.dialogs.paths.append(path)  # type: ignore[attr-defined]
        driver = UserDriver(qtbot, win)
        driver.press("Ctrl+O")
        qtbot.waitUntil(lambda: win.path == path.resolve())
        win.canvas.viewer.setFocus()
        return driver

    yield make
    for win in windows:
        if win.isVisible():
            _discard_on_close(win)
            win.close()


def _named(user: UserDriver, name: str) -> str:
    return next(nid for nid, n in user.window.document.graph.nodes.items() if n.name == name)


def _label_items(user: UserDriver, node_id: str) -> Counter[str]:
    """Port name -> how many port label items of the node's view are in the scene."""
    view = user.canvas.view_node(node_id).view
    return Counter(
        item.port_name
        for item in user.canvas.viewer.scene().items()
        if type(item) is PortLabel and item.parentItem() is view
    )


def _empty_point(user: UserDriver) -> QPoint:
    """A viewport point on no item (a click there clears the selection)."""
    viewer = user.canvas.viewer
    for y in range(4, user.viewport.height(), 12):
        for x in range(4, user.viewport.width(), 12):
            if not viewer.items(QPoint(x, y)):
                return QPoint(x, y)
    raise AssertionError("no empty point on the canvas")


def _deselect(user: UserDriver) -> None:
    QTest.mouseClick(user.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _empty_point(user))  # fmt: skip
    assert user.canvas.selected_ids() == []


def _node_pixels(user: UserDriver, node_id: str) -> QImage:
    """What the viewport shows of the node's body (nothing selected)."""
    QApplication.processEvents()
    rect = user.canvas.viewer.mapFromScene(user.canvas.view_node(node_id).view.sceneBoundingRect())
    return user.viewport.grab(rect.boundingRect()).toImage()


def test_delete_kernel_names_the_call_and_undo_draws_its_labels_once(
    open_sample: Callable[[str], UserDriver], qtbot: Any
) -> None:
    user = open_sample("attention_varlen.pto.json")
    doc = user.window.document
    kernel = _named(user, "attn_kernel")
    (call,) = [nid for nid, n in doc.graph.nodes.items() if n.props.get("kernel") == kernel]
    params = [p["name"] for p in indexing.params_of(doc.node(kernel))]
    assert params == ["Q", "K", "V", "O"]
    edges_before = sorted(map(repr, doc.graph.edges))
    # The sample opens fitted, zoomed out: the call draws its port labels readable itself.
    assert user.canvas.viewer.transform().m11() < 0.9
    _deselect(user)
    before = _node_pixels(user, call)

    user.click_node(kernel)
    user.press("Del")
    assert kernel not in doc.graph.nodes and doc.node(call).props["kernel"] == ""
    assert user.window.statusBar().currentMessage() == (
        "Deleted attn_kernel: 1 kernel call lost its kernel (call) — Ctrl+Z restores it"
    )

    user.press("Ctrl+Z")
    assert doc.node(call).props["kernel"] == kernel
    assert sorted(map(repr, doc.graph.edges)) == edges_before
    # One label item per port, and each drawn once: the call looks as it did before.
    assert _label_items(user, call) == Counter({name: 1 for name in [*params, "task"]})
    _deselect(user)
    qtbot.waitUntil(lambda: _node_pixels(user, call) == before, timeout=3000)
    # Zoomed in, the labels draw themselves (the node no longer does).
    for _ in range(10):
        if user.canvas.viewer.transform().m11() >= 1.0:
            break
        user.press("Ctrl+=")
    view = user.canvas.view_node(call)
    user.canvas.viewer.centerOn(view.view)
    labels = [view.port_label(d, name) for d, name in view.port_signature() if name in params]
    qtbot.waitUntil(lambda: not any(label.lod for label in labels), timeout=3000)
    assert all(label.isVisible() for label in labels)
    assert [label.text() for label in labels] == ["Q[b, h]", "K[b]", "V[b]", "O[b, h]"]


def test_delete_axis_names_the_loop_that_lost_it(open_sample: Callable[[str], UserDriver]) -> None:
    user = open_sample("attention_varlen.pto.json")
    doc = user.window.document
    batch = _named(user, "batch")
    (loop,) = [nid for nid in doc.graph.nodes if registry.kind_of(doc.node(nid)).binds_vars]
    user.click_node(batch)
    user.press("Del")
    assert doc.node(loop).props["axes"][0]["axis"] == ""
    assert user.window.statusBar().currentMessage() == (
        "Deleted batch: 1 parallel loop P(...) lost its axis — Ctrl+Z restores it"
    )
    user.press("Ctrl+Z")
    assert doc.node(loop).props["axes"][0]["axis"] == batch


def test_delete_channel_names_its_send_and_consume(open_sample: Callable[[str], UserDriver]) -> None:  # fmt: skip
    user = open_sample("csp_pipeline.pto.json")
    doc = user.window.document
    work = _named(user, "work")
    users = [nid for nid, n in doc.graph.nodes.items() if n.props.get("channel") == work]
    assert len(users) == 2
    user.click_node(work)
    user.press("Del")
    assert all(doc.node(nid).props["channel"] == "" for nid in users)
    assert user.window.statusBar().currentMessage() == (
        "Deleted work: 1 send lost its channel (send); 1 consume lost its channel"
        " — Ctrl+Z restores it"
    )
    user.press("Ctrl+Z")
    assert all(doc.node(nid).props["channel"] == work for nid in users)


def test_delete_unreferenced_node_says_nothing_about_references(
    open_sample: Callable[[str], UserDriver],
) -> None:
    user = open_sample("attention_varlen.pto.json")
    q = _named(user, "Q")  # wired to the call, named by no reference property
    user.click_node(q)
    user.press("Del")
    assert q not in user.window.document.graph.nodes
    assert "lost" not in user.window.statusBar().currentMessage()
