"""The designer's "done when", proven as a user would do it: spec §8.1 from an empty canvas.

The test drives the real ``MainWindow`` with nothing but user gestures (format v2): File > New,
nodes dragged from the palette (DESIGN §4 drop recipe) — a loop dropped on the root canvas comes
with its workload frame, a kernel from the palette's Kernels section dropped into the loop frame
becomes a call of it —, values typed into the Properties panel and picked in its combos (the
loop's axes, the workload's schedule sheet with keys picked from the loop variables), and the
tensors created by dragging a wire from each of the call's ports onto empty canvas (named after
the parameter, shaped from the loops and the tile, auto-indexed). Then Save As, close, reopen,
Export to Python, run the script in a subprocess, and compare with the spec's own §8.1 program.

``UserDriver`` (the gestures, counted) is shared with ``test_user_flows.py`` and others.
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
    QStyle,
    QStyleOptionComboBox,
    QTableWidget,
    QWidget,
)
from test_main_window import shown_window

from app.dialogs import Choice, Dialogs
from app.editor.nodes import node_type_for
from app.editor.palette import kernel_call_type
from app.main_window import MainWindow
from app.model import io, registry
from app.model.equality import same_as
from app.model.validation import validate_document

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
        self.gestures = 0
        """Gestures made so far: one mouse press-release (click, double-click or drag), one
        committed field edit, one combo pick or one shortcut each (issue 13 item 6)."""

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
        QApplication.processEvents()  # the palette follows the document (its Kernels section)
        palette = self.window.palette
        item = palette.item_for_type(node_type)
        assert item is not None, f"the palette has no entry {node_type}"
        mime = palette.mime_data(item)
        before = self.graph_ids()
        self.gestures += 1
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
        self.gestures += 2  # Tab, then the typed choice committed with Enter
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
        self.gestures += 1
        QTest.mouseClick(self.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)  # fmt: skip
        assert self.canvas.selected_ids() == [node_id], (
            f"clicking {node_id} selected {self.canvas.selected_ids()}"
        )

    def double_click_node(self, node_id: str) -> None:
        point = self.node_point(node_id)
        self.assert_visible(point)
        self.gestures += 1
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
        self.gestures += 1
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
        self.gestures += 1
        QTest.keyClick(target, combo.key(), combo.keyboardModifiers())

    # -- the Properties panel -------------------------------------------------------------------
    def editor(self, field: str) -> QWidget:
        # Editors added to a visible panel are shown by a queued call: let it run first.
        QApplication.processEvents()
        editors = self.window.properties.editors
        assert field in editors, f"no editor for {field!r} (have {sorted(editors)})"
        return editors[field]

    def type_into(self, field: str, text: str) -> None:
        """Click into a line edit / spin box / combo, replace its text, press Enter (a combo:
        pick ``text`` in it)."""
        w = self.editor(field)
        if isinstance(w, QComboBox) and not w.isEditable():
            self.choose(w, text)
            return
        if isinstance(w, QComboBox):
            target = w.lineEdit()
        else:
            target = w.lineEdit() if isinstance(w, QAbstractSpinBox) else w
        assert isinstance(target, QLineEdit), f"{field} editor is a {type(w).__name__}"
        self.gestures += 1
        QTest.mouseClick(target, Qt.MouseButton.LeftButton)
        QTest.keyClick(target, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClick(target, Qt.Key.Key_Backspace)
        QTest.keyClicks(target, text)
        QTest.keyClick(target, Qt.Key.Key_Return)

    def choose(self, combo: QComboBox, text: str) -> None:
        """One combo pick: click the combo open (its arrow when editable), walk the popup list
        to ``text`` with the arrow keys, press Enter (an open popup's highlight chooses
        nothing until Enter; typing letters would also hit single-key window shortcuts)."""
        at = combo.rect().center()
        if combo.isEditable():
            opt = QStyleOptionComboBox()
            combo.initStyleOption(opt)
            at = (
                combo.style()
                .subControlRect(
                    QStyle.ComplexControl.CC_ComboBox,
                    opt,
                    QStyle.SubControl.SC_ComboBoxArrow,
                    combo,
                )
                .center()
            )
        self.gestures += 1
        combo.setFocus()
        QTest.mouseClick(combo, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
        view = combo.view()
        self.qtbot.waitUntil(view.isVisible, timeout=2000)
        target = combo.findText(text, Qt.MatchFlag.MatchExactly)
        assert target >= 0, (
            f"{text!r} is not offered (have {[combo.itemText(i) for i in range(combo.count())]})"
        )
        QTest.keyClick(view, Qt.Key.Key_Home)
        for _ in range(target):
            QTest.keyClick(view, Qt.Key.Key_Down)
        QTest.keyClick(view, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)
        # Offscreen, a closed popup keeps the focus (a desktop gives it back to the combo):
        # restore what the window system would, so the next shortcut reaches the window. The
        # popup's own activation can still be queued when it hides: deliver it first.
        QApplication.processEvents()
        if QApplication.focusWidget() is view or QApplication.activeWindow() is not self.window:
            self.window.activateWindow()
            self.qtbot.waitUntil(lambda: QApplication.activeWindow() is self.window)
            combo.setFocus()

    # -- frames and ports (format v2) ---------------------------------------------------------
    def frame_rect(self, frame_id: str) -> Any:
        view = self.canvas.view_node(frame_id)
        assert view is not None, f"{frame_id} is not shown on the canvas"
        return view.view.sceneBoundingRect()

    def click_frame(self, frame_id: str) -> None:
        """Click a frame's header (its interior lets clicks through to the canvas)."""
        rect = self.frame_rect(frame_id)
        point = self.canvas.viewer.mapFromScene(QPointF(rect.center().x(), rect.top() + 10.0))
        self.assert_visible(point)
        self.gestures += 1
        QTest.mouseClick(self.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)  # fmt: skip
        assert self.canvas.selected_ids() == [frame_id], (
            f"clicking frame {frame_id} selected {self.canvas.selected_ids()}"
        )

    def inside(self, frame_id: str) -> QPoint:
        """A viewport point in a frame's interior, near its bottom edge (clear of children)."""
        rect = self.frame_rect(frame_id)
        point = self.canvas.viewer.mapFromScene(QPointF(rect.center().x(), rect.bottom() - 14.0))
        self.assert_visible(point)
        return point

    def drag_port_out(self, node_id: str, port: str, direction: str, to: QPoint) -> None:
        """Press on a port, drag the wire out, release it on empty canvas at ``to``."""
        a = self.port_point(node_id, port, direction)
        self.assert_visible(a)
        self.assert_visible(to)
        self.gestures += 1
        left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        QTest.mousePress(self.viewport, left, none, a)
        QTest.mouseMove(self.viewport, (a + to) / 2)
        QTest.mouseMove(self.viewport, to)
        QTest.mouseRelease(self.viewport, left, none, to)

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
        self.gestures += 1
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
        self.gestures += 1
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
    """Spec §8.1 built on the canvas with mouse and keyboard (format v2); node ids by role."""
    ids: dict[str, str] = {}
    doc = u.window.document
    u.zoom_out_to(0.55)
    start = u.gestures

    # -- the axes: a dropped node is selected, its properties are typed right away ------------
    for col, (kind, name, size) in enumerate(
        (("axis.dense_dyn", "batch", "4"), ("axis.dense", "heads", "8"))
    ):
        ids[name] = u.drop(kind, u.grid(col, 0))
        u.type_into("name", name)
        u.type_into("size", size)

    # -- the kernel: def attn_kernel(Q: In[Tensor], K: In[Tensor], V: In[Tensor], O: Out[Tensor])
    k = ids["kernel"] = u.drop("kernel.def", u.grid(2, 0))
    u.type_into("name", "attn_kernel")
    params = u.editor("params")
    for _ in range(4):
        u.click_button(params, "Add")
    for row, name in enumerate("QKVO"):
        u.type_cell(params.table, row, 0, name)
    u.choose(params.table.cellWidget(3, 1), "Out")

    # -- for b, h in P(batch, heads): the loop dropped on the root canvas gets its workload ---
    w = ids["workload"] = u.drop("loop.parallel", u.grid(1, 2))
    assert doc.node(w).kind == "workload.def"
    (loop,) = [n.id for n in doc.graph.nodes.values() if n.parent == w]
    ids["loop"] = loop
    assert u.canvas.selected_ids() == [loop]  # the loop's axes are edited right away
    axes = u.editor("axes")
    u.choose(axes.add_combo, "batch")  # b, named after the axis
    u.choose(axes.add_combo, "heads")  # h
    assert doc.node(loop).props["axes"] == [
        {"var": "b", "axis": ids["batch"]},
        {"var": "h", "axis": ids["heads"]},
    ]

    # -- the call: the kernel from the palette's Kernels section, dropped into the loop frame --
    call = ids["call"] = u.drop(kernel_call_type(k), u.inside(loop))
    assert doc.node(call).parent == loop and doc.node(call).props["kernel"] == k

    # -- the tensors: a wire dragged from each port onto empty canvas creates it ---------------
    rect = u.frame_rect(w)
    left = u.canvas.viewer.mapFromScene(QPointF(rect.left() - 120.0, rect.center().y()))
    right = u.canvas.viewer.mapFromScene(QPointF(rect.right() + 120.0, rect.center().y()))
    for i, name in enumerate("QKV"):
        before = set(doc.graph.nodes)
        u.drag_port_out(call, name, "in", left + QPoint(0, 70 * (i - 1)))
        (ids[name],) = set(doc.graph.nodes) - before
    before = set(doc.graph.nodes)
    u.drag_port_out(call, "O", "out", right)
    (ids["O"],) = set(doc.graph.nodes) - before
    assert [doc.node(ids[t]).name for t in "QKVO"] == list("QKVO")
    assert doc.node(ids["Q"]).props["shape"] == [4, 8, 16, 16]  # loop sizes + the tile
    for name in "KV":  # K and V hold one head: typed shape, the auto index follows (K[b])
        u.click_node(ids[name])
        u.type_into("shape", "4, 16, 16")

    # -- the schedule sheet of the workload frame ------------------------------------------------
    u.click_frame(w)
    u.type_into("name", "attention")
    u.choose(u.editor("dispatch"), "affinity")
    u.choose(u.editor("dispatch_key"), "b")  # a loop variable, picked
    u.type_into("streams", "2")
    u.type_into("stream_by", "h % 2")  # an expression over the loop variables
    u.choose(u.editor("timing"), "immediate")
    assert doc.node(w).props["target"] == "cpu_sim"  # the first workload's default: no gesture
    ids["gestures"] = str(u.gestures - start)
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
    print(f"gestures: {ids['gestures']}")
    doc = window.document
    assert validate_document(doc) == [] and dialogs.errors == []
    assert not doc.graph.backdrops, "a stray comment was added"
    assert doc.node(ids["kernel"]).props["params"] == [
        {"name": n, "direction": d, "kind": "tensor"}  # In[Tensor], as spec §8.1 writes it
        for n, d in (("Q", "In"), ("K", "In"), ("V", "In"), ("O", "Out"))
    ]
    call = doc.node(ids["call"]).props
    assert call["axes"] is None and call["index"] == {}  # all automatic, from the loop
    sheet = doc.node(ids["workload"]).props
    assert (sheet["dispatch_key"], sheet["stream_by"]) == ('t.get("b")', 't.get("h") % 2')

    # Save As (Ctrl+Shift+S), close, reopen (Ctrl+O in a new window).
    project = tmp_path / "attention.pto.json"
    dialogs.paths.append(project)
    u.press("Ctrl+Shift+S")
    assert project.is_file(), (dialogs.errors, dialogs.paths, QApplication.focusWidget())
    assert window.path == project.resolve() and not window.dirty
    assert window.close()
    reopened = make_window()
    reopened.dialogs.paths.append(project)  # type: ignore[attr-defined]
    u = UserDriver(qtbot, reopened)
    u.press("Ctrl+O")
    assert reopened.path == project.resolve()
    assert same_as(reopened.document, doc)

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
        '.dispatch(DispatchPolicy.affinity(lambda t: t.get("b")))',
        ".streams(2)",
        '.stream_by(lambda t: t.get("h") % 2)',
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
