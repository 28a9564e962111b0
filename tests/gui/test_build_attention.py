"""The editor issue's "done when", proven as a user would do it: spec §8.1 from an empty canvas.

The test drives the real ``MainWindow`` with nothing but user gestures: File > New, nodes
dragged from the palette (DESIGN §4 drop recipe) or added with Tab search at the cursor, values
typed into the Properties panel's editors, ports connected by pressing the mouse on one port
and releasing it on another (the viewer's own live-connection code path), scopes entered by
double-click and left with Alt+Up or the breadcrumb. Then Save As, close, reopen, Export to
Python, run the script in a subprocess, and compare with the spec's own §8.1 program.

``UserDriver`` (the gestures) is shared with ``test_user_flows.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QCursor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QWidget,
)
from test_main_window import shown_window

from app.editor.nodes import node_type_for
from app.main_window import Choice, Dialogs, MainWindow
from app.model import io, registry

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------
# a scripted user
# ------------------------------------------------------------------------------------------
class ScriptedDialogs(Dialogs):
    """Answers queued by the test; an unscripted question fails the test instead of blocking."""

    def __init__(self) -> None:
        super().__init__(None)
        self.unsaved: list[Choice] = []
        self.paths: list[Path | None] = []
        self.errors: list[tuple[str, str]] = []

    def ask_unsaved(self, title: str) -> Choice:
        assert self.unsaved, f"unexpected unsaved-changes prompt for {title!r}"
        return self.unsaved.pop(0)

    def ask_recover(self, project: Path, autosave: Path) -> bool:
        raise AssertionError(f"unexpected recovery prompt for {project}")

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def open_path(self, caption: str, start: Path, file_filter: str) -> Path | None:
        assert self.paths, f"unexpected file dialog {caption!r}"
        return self.paths.pop(0)

    def save_path(self, caption: str, suggested: Path, file_filter: str) -> Path | None:
        assert self.paths, f"unexpected file dialog {caption!r}"
        return self.paths.pop(0)


class UserDriver:
    """Mouse and keyboard gestures on a shown ``MainWindow`` — nothing else.

    Every method sends the events a user's hands would produce (drops, clicks, key presses)
    to the widget under the pointer or with the focus; results are read back from the document.
    """

    def __init__(self, qtbot: Any, window: MainWindow) -> None:
        self.qtbot = qtbot
        self.window = window

    # -- where things are -----------------------------------------------------------------
    @property
    def canvas(self) -> Any:
        return self.window.canvas

    @property
    def viewport(self) -> QWidget:
        return self.canvas.viewer.viewport()

    def graph_ids(self) -> set[str]:
        return set(self.canvas.current_graph().nodes)

    def node_point(self, node_id: str) -> QPoint:
        """Viewport point inside the node's body (centre): clicks there select / open it."""
        view = self.canvas.view_node(node_id)
        assert view is not None, f"{node_id} is not shown on the canvas"
        rect = view.view.sceneBoundingRect()
        return self.canvas.viewer.mapFromScene(rect.center())

    def port_point(self, node_id: str, port: str, direction: str) -> QPoint:
        view = self.canvas.view_node(node_id)
        assert view is not None, f"{node_id} is not shown on the canvas"
        p = view.get_output(port) if direction == "out" else view.get_input(port)
        assert p is not None, f"{node_id} has no {direction}put port {port!r}"
        return self.canvas.viewer.mapFromScene(p.view.sceneBoundingRect().center())

    def assert_visible(self, point: QPoint) -> None:
        assert self.viewport.rect().contains(point), f"{point} is outside the canvas view"

    # -- adding nodes -----------------------------------------------------------------------
    def drop(self, node_type: str, at: QPoint) -> str:
        """Drag a palette entry (kind id or node type) onto the canvas; the new node's id."""
        if node_type in registry.KINDS:
            node_type = node_type_for(node_type)
        palette = self.window.palette
        item = palette.item_for_type(node_type)
        assert item is not None, f"the palette has no entry {node_type}"
        mime = palette.mime_data(item)
        before = self.graph_ids()
        action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
        mods = Qt.KeyboardModifier.NoModifier
        for event in (
            QDragEnterEvent(at, action, mime, button, mods),
            QDragMoveEvent(at, action, mime, button, mods),
            QDropEvent(QPointF(at), action, mime, button, mods),
        ):
            QApplication.sendEvent(self.viewport, event)
        new = self.graph_ids() - before
        assert new, (
            f"dropping {node_type} added nothing: {self.window.statusBar().currentMessage()}"
        )
        return sorted(new, key=lambda i: int(i[1:]))[0]

    def tab_add(self, text: str, at: QPoint) -> str:
        """Point at ``at``, press Tab, type ``text``, press Enter; the new node's id."""
        viewer = self.canvas.viewer
        QCursor.setPos(viewer.mapToGlobal(at))
        viewer.setFocus()
        before = self.graph_ids()
        QTest.keyClick(viewer, Qt.Key.Key_Tab)
        search = self.canvas.tab_search
        assert search.is_open(), "Tab did not open the quick-add box"
        QTest.keyClicks(search.edit, text)
        QTest.keyClick(search.edit, Qt.Key.Key_Return)
        new = self.graph_ids() - before
        assert new, f"Tab search {text!r} added nothing"
        return sorted(new, key=lambda i: int(i[1:]))[0]

    # -- mouse on nodes and ports -------------------------------------------------------------
    def click_node(self, node_id: str) -> None:
        point = self.node_point(node_id)
        self.assert_visible(point)
        QTest.mouseClick(self.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)  # fmt: skip
        assert self.canvas.selected_ids() == [node_id], (
            f"clicking {node_id} selected {self.canvas.selected_ids()}"
        )

    def double_click_node(self, node_id: str) -> None:
        point = self.node_point(node_id)
        self.assert_visible(point)
        # What a real double-click delivers: press, release, double-click, release.
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mousePress(self.viewport, left, none, point)
        QTest.mouseRelease(self.viewport, left, none, point)
        QTest.mouseDClick(self.viewport, left, none, point)

    def drag_connect(self, src: str, src_port: str, dst: str, dst_port: str) -> None:
        """Press on the output port, move, release on the input port (the viewer's gesture)."""
        a = self.port_point(src, src_port, "out")
        b = self.port_point(dst, dst_port, "in")
        self.assert_visible(a)
        self.assert_visible(b)
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mousePress(self.viewport, left, none, a)
        QTest.mouseMove(self.viewport, (a + b) / 2)
        QTest.mouseMove(self.viewport, b)
        QTest.mouseRelease(self.viewport, left, none, b)

    # -- keyboard ---------------------------------------------------------------------------
    def press(self, keys: str) -> None:
        """A shortcut, typed into whatever widget has the focus."""
        combo = QKeySequence(keys)[0]
        target = QApplication.focusWidget() or self.window
        QTest.keyClick(target, combo.key(), combo.keyboardModifiers())

    # -- the Properties panel -------------------------------------------------------------------
    def editor(self, field: str) -> QWidget:
        # Editors added to a visible panel are shown by a queued call: let it run first.
        QApplication.processEvents()
        editors = self.window.properties.editors
        assert field in editors, f"no editor for {field!r} (have {sorted(editors)})"
        return editors[field]

    def type_into(self, field: str, text: str) -> None:
        """Click into a line edit / spin box / combo, replace its text, press Enter."""
        w = self.editor(field)
        if isinstance(w, QComboBox):
            self.choose(w, text)
            return
        target = w.lineEdit() if isinstance(w, QAbstractSpinBox) else w
        assert isinstance(target, QLineEdit), f"{field} editor is a {type(w).__name__}"
        QTest.mouseClick(target, Qt.MouseButton.LeftButton)
        QTest.keyClick(target, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClicks(target, text)
        QTest.keyClick(target, Qt.Key.Key_Return)

    @staticmethod
    def choose(combo: QComboBox, text: str) -> None:
        """Pick ``text`` in a combo box with the arrow keys (typing letters would also hit
        single-key window shortcuts such as F = Fit; see test_user_flows)."""
        target = combo.findText(text)
        assert target >= 0, (
            f"{text!r} is not offered (have {[combo.itemText(i) for i in range(combo.count())]})"
        )
        combo.setFocus()
        while combo.currentIndex() != target:
            key = Qt.Key.Key_Down if combo.currentIndex() < target else Qt.Key.Key_Up
            QTest.keyClick(combo, key)
        assert combo.currentText() == text

    def zoom_out_to(self, scale: float) -> None:
        """View > Zoom Out (Ctrl+-) until the canvas shows nodes at most at ``scale``."""
        for _ in range(40):
            if self.canvas.viewer.transform().m11() <= scale:
                return
            self.press("Ctrl+-")
        raise AssertionError(
            f"Zoom Out did not zoom out: {self.canvas.viewer.transform().m11()} focus={QApplication.focusWidget()} msg={self.window.statusBar().currentMessage()}"
        )

    def grid(self, col: int, row: int, dx: float = 190.0, dy: float = 150.0) -> QPoint:
        """Viewport point of cell (col, row) of a layout grid in scene units."""
        origin = self.canvas.viewer.mapToScene(QPoint(15, 15))
        point = self.canvas.viewer.mapFromScene(
            QPointF(origin.x() + col * dx, origin.y() + row * dy)
        )
        self.assert_visible(point)
        return point

    def type_cell(self, table: QTableWidget, row: int, col: int, text: str) -> None:
        """Double-click a table cell, replace its text, press Enter.

        (Selecting the cell and just typing is the faster gesture, but a first letter that is
        a single-key window shortcut, e.g. "b", fires the shortcut instead: test_user_flows.)
        """
        table.scrollTo(table.model().index(row, col))
        point = table.visualRect(table.model().index(row, col)).center()
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mousePress(table.viewport(), left, none, point)
        QTest.mouseRelease(table.viewport(), left, none, point)
        QTest.mouseDClick(table.viewport(), left, none, point)
        editor = QApplication.focusWidget()
        assert isinstance(editor, QLineEdit), "double-click did not open the cell editor"
        QTest.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClicks(editor, text)
        QTest.keyClick(editor, Qt.Key.Key_Return)
        QApplication.processEvents()  # the delegate commits and closes its editor queued

    def click_button(self, parent: QWidget, text: str) -> None:
        buttons = [b for b in parent.findChildren(QPushButton) if b.text() == text]
        assert len(buttons) == 1, f"expected one {text!r} button, found {len(buttons)}"
        QTest.mouseClick(buttons[0], Qt.MouseButton.LeftButton)


# ------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------
@pytest.fixture
def make_window(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], MainWindow]]:
    """Shown main windows with scripted dialogs and private settings; closed at teardown."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)

    def make() -> MainWindow:
        window = shown_window(
            qtbot,
            settings,
            dialogs=ScriptedDialogs(),
            before_close=_discard_on_close,
            autosave_interval_s=1e9,
        )
        return window

    yield make  # qtbot closes each window (before_close first) before this finalizer


def _discard_on_close(window: MainWindow) -> None:
    window.dialogs.unsaved[:] = [Choice.DISCARD]  # type: ignore[attr-defined]


def build_attention(u: UserDriver) -> dict[str, str]:
    """Spec §8.1 built on the canvas with mouse and keyboard; node ids by role."""
    ids: dict[str, str] = {}
    u.zoom_out_to(0.55)
    tensors = (("Q", "4, 8, 16, 16"), ("K", "4, 16, 16"), ("V", "4, 16, 16"), ("O", "4, 8, 16, 16"))
    for col, (name, shape) in enumerate(tensors):
        n = u.drop("data.tensor", u.grid(col, 0))
        u.click_node(n)
        u.type_into("name", name)
        u.type_into("shape", shape)
        u.type_into("dtype", "f32")
        ids[name] = n

    ids["batch"] = u.tab_add("densedyn", u.grid(0, 1))
    u.click_node(ids["batch"])
    u.type_into("name", "batch")
    u.type_into("size", "4")
    ids["heads"] = u.drop("axis.dense", u.grid(1, 1))
    u.click_node(ids["heads"])
    u.type_into("name", "heads")
    u.type_into("size", "8")

    k = ids["kernel"] = u.drop("kernel.def", u.grid(2, 1))
    u.click_node(k)
    u.type_into("name", "attn_kernel")
    params = u.editor("params")
    for _ in range(4):
        u.click_button(params, "Add")
    for row, name in enumerate("QKVO"):
        u.type_cell(params.table, row, 0, name)
    u.choose(params.table.cellWidget(3, 1), "Out")

    w = ids["workload"] = u.drop("workload.def", u.grid(3, 1))
    u.click_node(w)
    u.type_into("name", "attention")

    chain = []
    for col, (kind, edits) in enumerate(
        (
            ("sched.dispatch", (("policy", "affinity"), ("key", 't.get("batch")'))),
            ("sched.streams", (("n", "2"),)),
            ("sched.stream_by", (("key", 't.get("head") % 2'),)),
            ("sched.timing", (("policy", "immediate"),)),
        )
    ):
        n = u.drop(kind, u.grid(col, 2, dx=300.0))
        u.click_node(n)
        for field, text in edits:
            u.type_into(field, text)
        chain.append(n)
    ids["compile"] = u.tab_add("compile", u.grid(0, 3))
    u.click_node(ids["compile"])
    u.type_into("target", "cpu_sim")
    for a, b in zip([w, *chain], [*chain, ids["compile"]], strict=True):
        u.drag_connect(a, "workload", b, "workload")
    ids.update(dispatch=chain[0], streams=chain[1], stream_by=chain[2], timing=chain[3])

    # -- the workload body: for b, h in P(batch, heads) --------------------------------
    u.double_click_node(w)
    assert u.canvas.scope == w
    u.zoom_out_to(0.55)
    (entry,) = u.graph_ids()
    loop = ids["loop"] = u.tab_add("parallel", u.grid(1, 0))
    u.click_node(loop)
    u.type_into("vars", "b, h")
    for row, target in enumerate(("batch", "heads"), start=1):
        g = u.tab_add("get", u.grid(0, row))
        u.click_node(g)
        u.type_into("target", target)
        u.drag_connect(g, "out", loop, "axes")
    u.drag_connect(entry, "exec", loop, "exec")

    # -- the loop body: attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h]) ---------
    u.double_click_node(loop)
    assert u.canvas.scope == loop
    u.zoom_out_to(0.55)
    (loop_entry,) = u.graph_ids()
    call = ids["call"] = u.tab_add("kernel call", u.grid(2, 0))
    gets = {}
    for row, target in enumerate(("attn_kernel", "Q", "K", "V", "O")):
        g = gets[target] = u.tab_add("get", u.grid(0, row, dy=110.0))
        u.click_node(g)
        u.type_into("target", target)
    u.drag_connect(loop_entry, "exec", call, "exec")
    u.drag_connect(gets["attn_kernel"], "out", call, "kernel")
    for name in "QKVO":  # the call grew one input per kernel parameter
        u.drag_connect(gets[name], "out", call, name)
    u.click_node(call)
    u.type_into("axes", "b, h")
    index = u.editor("index")
    keys = [index.item(r, 0).text() for r in range(index.rowCount())]
    assert keys == ["Q", "K", "V", "O"]
    for row, text in enumerate(("b, h", "b", "b", "b, h")):
        u.type_cell(index, row, 1, text)

    # -- back out: Alt+Up once, then the breadcrumb's project crumb --------------------
    u.press("Alt+Up")
    assert u.canvas.scope == w
    QTest.mouseClick(u.canvas.breadcrumb.buttons[0], Qt.MouseButton.LeftButton)
    assert u.canvas.scope is None
    return ids


def _spec_8_1_stats() -> tuple[int, int]:
    """(task_count, total_cycles) of the spec's own §8.1 block, run as written."""
    from spec_blocks import spec_blocks
    from spec_preamble import run_block

    (block,) = [b for b in spec_blocks({8}) if b.section == "8.1"]
    run = run_block(block)
    stats = run.namespace["program"].stats
    return stats.task_count, stats.total_cycles


@pytest.mark.slow
def test_build_spec_8_1_from_an_empty_canvas_save_reopen_export_run(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    dialogs: ScriptedDialogs = window.dialogs  # type: ignore[assignment]
    u = UserDriver(qtbot, window)

    u.press("Ctrl+N")  # File > New: an empty canvas
    assert not window.document.graph.nodes

    ids = build_attention(u)
    doc = window.document
    assert doc.validate() == [] and dialogs.errors == []
    assert all(not g.backdrops for g, _owner in doc.graphs()), "a stray comment was added"
    assert doc.node(ids["kernel"]).props["params"] == [
        {"name": n, "direction": d, "kind": "tensor"}  # In[Tensor], as spec §8.1 writes it
        for n, d in (("Q", "In"), ("K", "In"), ("V", "In"), ("O", "Out"))
    ]
    call = doc.node(ids["call"]).props
    assert call["axes"] == "b, h"
    assert call["index"] == {"Q": "b, h", "K": "b", "V": "b", "O": "b, h"}

    # Save As (Ctrl+Shift+S), close, reopen (Ctrl+O in a new window).
    project = tmp_path / "attention.pto.json"
    dialogs.paths.append(project)
    u.press("Ctrl+Shift+S")
    assert project.is_file() and window.path == project.resolve() and not window.dirty
    assert window.close()
    reopened = make_window()
    reopened.dialogs.paths.append(project)  # type: ignore[attr-defined]
    u = UserDriver(qtbot, reopened)
    u.press("Ctrl+O")
    assert reopened.path == project.resolve()
    assert reopened.document.same_as(doc)

    # Export to Python (Ctrl+E) and run the script as a user would, from a terminal.
    script = tmp_path / "attention.py"
    reopened.dialogs.paths.append(script)  # type: ignore[attr-defined]
    u.press("Ctrl+E")
    assert script.is_file(), reopened.dialogs.errors  # type: ignore[attr-defined]
    source = script.read_text()
    for line in (
        "batch = DenseDyn(4)",
        "heads = Dense[8]",
        "def attn_kernel(Q: In[Tensor], K: In[Tensor], V: In[Tensor], O: Out[Tensor])",
        "for b, h in P(batch, heads):",
        "attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])",
        '.dispatch(DispatchPolicy.affinity(lambda t: t.get("batch")))',
        ".streams(2)",
        '.stream_by(lambda t: t.get("head") % 2)',
        ".timing(TimingPolicy.immediate)",
        '.compile(target="cpu_sim")',
    ):
        assert line in source, f"exported script lacks {line!r}"
    stats_path = tmp_path / "stats.json"
    run = subprocess.run(
        [sys.executable, str(script), "--stats", str(stats_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    stats_line = next(line for line in run.stdout.splitlines() if "ProgramStats(" in line)
    assert "task_count=32" in stats_line  # 4 batches x 8 heads
    stats = json.loads(stats_path.read_text())
    assert stats["ok"] and stats["executed"] and stats["task_count"] == 32
    assert f"total_cycles={stats['total_cycles']}" in stats_line

    # The same numbers as the spec's own §8.1 program.
    assert _spec_8_1_stats() == (32, stats["total_cycles"])
