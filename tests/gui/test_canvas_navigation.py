"""Canvas navigation a ComfyUI or Blender user reaches for (issue 13 item 4), driven by events.

Right-click menus (a ``QContextMenuEvent`` sent to the viewport; the shown menu is captured at
``CanvasContextMenus.exec_menu`` and its entry triggered as a click would), the minimap (mouse
clicks on it), find (Ctrl+F, typing, Enter/F3, Esc), Help > Keyboard Shortcuts and About, the
start page, File > New's zoom, and the tooltip of a refused wire (a real wire drag). Outcomes
are read from the document, the view and the widgets, never from the code under test's helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QToolTip
from test_main_window import shown_window

from app import application as application_module
from app.application import open_initial
from app.dialogs import Choice, Dialogs
from app.editor.canvas import GraphCanvas
from app.main_window import MainWindow
from app.model import commands as cmds
from app.model import io
from app.model.document import Document, PortRef
from app.run_nodes import TaskNodeMap
from app.start_page import START_PAGE_KEY, StartPage
from pto_wsp.runtime.trace import TRACE_DTYPE

ROOT = Path(__file__).resolve().parents[2]
MATMUL = ROOT / "app" / "projects" / "matmul.pto.json"
LEFT, NONE = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


# ------------------------------------------------------------------------------------------
# helpers: a user's gestures
# ------------------------------------------------------------------------------------------
class MenuPicker:
    """Replaces ``exec_menu``: remembers the shown menu and clicks the entry asked for."""

    def __init__(self, canvas: GraphCanvas, monkeypatch: pytest.MonkeyPatch) -> None:
        self.canvas = canvas
        self.pick: str | None = None
        self.menu: QMenu | None = None
        monkeypatch.setattr(canvas.context_menus, "exec_menu", self._exec)

    def _exec(self, menu: QMenu, global_pos: QPoint) -> None:
        self.menu = menu
        if self.pick is None:
            return
        action = find_action(menu, self.pick)
        assert action is not None, f"no {self.pick!r} in {entries(menu)}"
        assert action.isEnabled(), f"{self.pick!r} is disabled"
        action.trigger()

    def right_click(self, at: QPoint, pick: str | None = None) -> QMenu:
        """A right click at viewport position ``at`` (the context-menu event Qt sends)."""
        self.pick = pick
        viewport = self.canvas.viewer.viewport()
        event = QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, at, viewport.mapToGlobal(at), NONE
        )
        QApplication.sendEvent(viewport, event)
        assert self.menu is not None, "no menu was shown"
        return self.menu

    def right_button(self, at: QPoint, pick: str | None = None) -> QMenu:
        """A right click as the window system delivers it on X11: press, the context-menu
        event, release (QTest's widget clicks do not synthesize the middle one)."""
        self.menu = None
        viewport = self.canvas.viewer.viewport()
        QTest.mousePress(viewport, Qt.MouseButton.RightButton, NONE, at)
        menu = self.right_click(at, pick)
        assert not self.canvas.viewer.RMB_state  # no zoom-drag left armed after the menu
        QTest.mouseRelease(viewport, Qt.MouseButton.RightButton, NONE, at)
        return menu


def entries(menu: QMenu) -> list[str]:
    out = []
    for action in menu.actions():
        if action.menu() is not None:
            out += [f"{action.text()} > {t}" for t in entries(action.menu())]
        elif not action.isSeparator():
            out.append(action.text())
    return out


def find_action(menu: QMenu, text: str) -> QAction | None:
    for action in menu.actions():
        if action.menu() is not None:
            found = find_action(action.menu(), text)
            if found is not None:
                return found
        elif action.text().startswith(text):
            return action
    return None


def node_point(canvas: GraphCanvas, node_id: str) -> QPoint:
    """The centre of a node's title bar, in viewport coordinates."""
    item = canvas.view_node(node_id).view
    rect = item.sceneBoundingRect()
    return canvas.viewer.mapFromScene(QPointF(rect.center().x(), rect.top() + 12))


def port_point(canvas: GraphCanvas, node_id: str, port: str, direction: str) -> QPoint:
    view = canvas.view_node(node_id)
    p = view.get_output(port) if direction == "out" else view.get_input(port)
    assert p is not None, f"{node_id} has no {direction} port {port!r}"
    return canvas.viewer.mapFromScene(p.view.sceneBoundingRect().center())


def drag(viewport: Any, a: QPoint, b: QPoint) -> None:
    """Press at ``a``, move, release at ``b`` (a wire drag from a port)."""
    QTest.mousePress(viewport, LEFT, NONE, a)
    QTest.mouseMove(viewport, (a + b) / 2)
    QTest.mouseMove(viewport, b)
    QTest.mouseRelease(viewport, LEFT, NONE, b)


def view_centre(canvas: GraphCanvas) -> QPointF:
    viewer = canvas.viewer
    return viewer.mapToScene(viewer.viewport().rect().center())


def close_tooltip(qtbot: Any) -> None:
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible())


@pytest.fixture
def picker(canvas: GraphCanvas, monkeypatch: pytest.MonkeyPatch) -> MenuPicker:
    return MenuPicker(canvas, monkeypatch)


# ------------------------------------------------------------------------------------------
# context menus on a bare canvas
# ------------------------------------------------------------------------------------------
def test_add_node_here_opens_quick_add_at_the_click_and_places_the_node_there(
    canvas: GraphCanvas, picker: MenuPicker
) -> None:
    at = QPoint(300, 240)
    menu = picker.right_button(at, "Add Node Here")
    assert menu.objectName() == "contextMenu_canvas"
    search = canvas.tab_search
    assert search.is_open()
    QTest.keyClicks(search.edit, "dense axis")
    QTest.keyClick(search.edit, Qt.Key.Key_Return)
    (nid,) = canvas.doc.graph.nodes
    node = canvas.doc.node(nid)
    expected = canvas.viewer.mapToScene(at)
    assert node.kind == "axis.dense"
    assert abs(node.pos[0] - expected.x()) <= 1 and abs(node.pos[1] - expected.y()) <= 1


def test_paste_here_puts_the_copy_at_the_click_and_fit_view_frames_all(
    canvas: GraphCanvas, picker: MenuPicker
) -> None:
    t = canvas.add_node("data.tensor", (0.0, 0.0), name="Q")
    menu = picker.right_click(QPoint(600, 500))
    assert not find_action(menu, "Paste Here").isEnabled()  # nothing copied yet
    canvas.select_ids([t])
    assert canvas.copy_selected()
    at = QPoint(600, 500)
    picker.right_click(at, "Paste Here")
    (copy,) = set(canvas.doc.graph.nodes) - {t}
    expected = canvas.viewer.mapToScene(at)
    pos = canvas.doc.node(copy).pos
    assert abs(pos[0] - expected.x()) <= 1 and abs(pos[1] - expected.y()) <= 1

    far = canvas.add_node("data.scalar", (5000.0, 3000.0))
    canvas.select_ids([])
    picker.right_click(QPoint(20, 20), "Fit View")
    visible = canvas.viewer.mapToScene(canvas.viewer.viewport().rect()).boundingRect()
    for nid in (t, copy, far):
        assert visible.contains(canvas.view_node(nid).view.sceneBoundingRect())


# ------------------------------------------------------------------------------------------
# context menus on nodes
# ------------------------------------------------------------------------------------------
def test_rename_from_the_node_menu_is_one_typed_edit(
    canvas: GraphCanvas, picker: MenuPicker
) -> None:
    t = canvas.add_node("data.tensor", (100.0, 100.0), name="Q")
    menu = picker.right_click(node_point(canvas, t), "Rename")
    assert menu.objectName() == "contextMenu_node"
    assert canvas.selected_ids() == [t]
    # The title opens holding the bare name, all selected: typing replaces it.
    QTest.keyClicks(canvas.viewer.viewport(), "Keys")
    QTest.keyClick(canvas.viewer.viewport(), Qt.Key.Key_Return)
    assert canvas.doc.node(t).name == "Keys"
    canvas.undo()  # one undo step takes the whole rename back; the next one the add
    assert canvas.doc.node(t).name == "Q"
    canvas.undo()
    assert t not in canvas.doc.graph.nodes


def test_duplicate_and_delete_from_the_node_menu(canvas: GraphCanvas, picker: MenuPicker) -> None:
    t = canvas.add_node("data.tensor", (100.0, 100.0), name="Q")
    picker.right_button(node_point(canvas, t), "Duplicate")
    assert len(canvas.doc.graph.nodes) == 2
    copy = next(n for n in canvas.doc.graph.nodes if n != t)
    picker.right_click(node_point(canvas, copy), "Delete")
    assert list(canvas.doc.graph.nodes) == [t]


def test_open_kernel_body_and_wrap_in_loop_from_the_node_menu(
    canvas: GraphCanvas, picker: MenuPicker
) -> None:
    k = canvas.add_node("kernel.def", (100.0, 100.0), name="attn")
    menu = picker.right_click(node_point(canvas, k))
    assert "Open Kernel Body" in entries(menu)
    picker.right_click(node_point(canvas, k), "Open Kernel Body")
    assert canvas.scope == k
    canvas.enter_scope(None)
    w = canvas.add_node("workload.def", (100.0, 100.0), name="wl")
    s = canvas.editor.apply(cmds.AddNode("kernel.call", (300.0, 300.0), w)).node.id
    QApplication.processEvents()
    picker.right_click(node_point(canvas, s), "Parallel loop")
    loop = canvas.doc.node(canvas.doc.node(s).parent)  # v2: a frame around the call
    assert loop.kind == "loop.parallel" and loop.parent == w


def test_delete_wire_from_the_wire_menu(canvas: GraphCanvas, picker: MenuPicker) -> None:
    t = canvas.add_node("data.tensor", (0.0, 100.0), name="lengths")
    a = canvas.add_node("axis.ragged", (400.0, 100.0), name="rows")
    canvas.editor.apply(cmds.Connect(PortRef(t, "tensor"), PortRef(a, "lengths")))
    QApplication.processEvents()
    p_out = port_point(canvas, t, "tensor", "out")
    p_in = port_point(canvas, a, "lengths", "in")
    # A point on the wire: its path at half length (wires are curves, not lines).
    (pipe,) = canvas.view_node(a).get_input("lengths").view.connected_pipes
    mid = canvas.viewer.mapFromScene(pipe.mapToScene(pipe.path().pointAtPercent(0.5)))
    assert mid != p_out and mid != p_in
    menu = picker.right_click(mid, "Delete Wire")
    assert menu.objectName() == "contextMenu_wire"
    assert canvas.doc.graph.edges == []
    assert not canvas.view_node(a).get_input("lengths").connected_ports()
    canvas.undo()
    assert len(canvas.doc.graph.edges) == 1


# ------------------------------------------------------------------------------------------
# minimap
# ------------------------------------------------------------------------------------------
def test_minimap_shows_every_node_and_a_click_recentres_the_view(canvas: GraphCanvas) -> None:
    ids = [
        canvas.add_node("data.scalar", (x * 600.0, y * 400.0)) for x in range(6) for y in range(4)
    ]
    canvas.fit_view()
    canvas.graph.set_zoom(0.0)  # 100 %: most nodes are off screen
    minimap = canvas.minimap
    assert minimap.isVisible()
    minimap.refresh()
    assert len(minimap._nodes) == len(ids)
    # The minimap sits in the viewer's bottom-right corner, inside it.
    assert canvas.viewer.rect().contains(minimap.geometry())
    target = canvas.view_node(ids[-1]).view.sceneBoundingRect().center()  # far bottom-right
    assert (
        not canvas.viewer.mapToScene(canvas.viewer.viewport().rect())
        .boundingRect()
        .contains(target)
    )
    click = minimap.to_widget(target).toPoint()
    renders = minimap.renders
    QTest.mouseClick(minimap, LEFT, NONE, click)
    centre = view_centre(canvas)
    tolerance = 2.0 / minimap._scale()[0]  # a minimap pixel is this many scene units
    assert abs(centre.x() - target.x()) <= tolerance and abs(centre.y() - target.y()) <= tolerance
    # Drag: the view follows the mouse.
    other = canvas.view_node(ids[0]).view.sceneBoundingRect().center()
    QTest.mousePress(minimap, LEFT, NONE, click)
    QTest.mouseMove(minimap, minimap.to_widget(other).toPoint())
    QTest.mouseRelease(minimap, LEFT, NONE, minimap.to_widget(other).toPoint())
    centre = view_centre(canvas)
    assert abs(centre.x() - other.x()) <= tolerance and abs(centre.y() - other.y()) <= tolerance
    # Polling an unchanged scope re-renders nothing; an added node is picked up.
    minimap.refresh()
    minimap.refresh()
    assert minimap.renders <= renders + 1
    before = minimap.renders
    minimap.refresh()
    assert minimap.renders == before
    canvas.add_node("data.scalar", (9000.0, 9000.0))
    minimap.refresh()
    assert len(minimap._nodes) == len(ids) + 1 and minimap.renders == before + 1


def test_minimap_stands_aside_while_every_node_is_in_view(canvas: GraphCanvas) -> None:
    ids = [canvas.add_node("data.scalar", (x * 600.0, 0.0)) for x in range(6)]
    minimap = canvas.minimap
    canvas.graph.set_zoom(0.0)  # 100 %: nodes off screen, the minimap navigates
    minimap.refresh()
    assert not minimap.collapsed
    canvas.fit_view()  # everything in view: nothing to navigate to, nothing hidden under it
    minimap.refresh()
    assert minimap.collapsed
    # A click where the minimap sits reaches the canvas: the node under it gets selected.
    corner = minimap.geometry().center()
    scene_point = canvas.viewer.mapToScene(corner)
    canvas.view_node(ids[-1]).view.setPos(scene_point.x() - 20, scene_point.y() - 20)
    QTest.mouseClick(canvas.viewer.viewport(), LEFT, NONE, corner)
    assert canvas.selected_ids() == [ids[-1]]


# ------------------------------------------------------------------------------------------
# main window: find, help, start page, New, Show Slices
# ------------------------------------------------------------------------------------------
class _Dialogs(Dialogs):
    def __init__(self) -> None:
        super().__init__(None)
        self.paths: list[Path | None] = []
        self.errors: list[tuple[str, str]] = []
        self.unsaved: list[Choice] = []

    def ask_unsaved(self, title: str) -> Choice:
        return self.unsaved.pop(0) if self.unsaved else Choice.DISCARD

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def open_path(self, caption: str, start: Path, file_filter: str) -> Path | None:
        assert self.paths, f"unexpected file dialog {caption!r}"
        return self.paths.pop(0)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(
    qtbot: Any, tmp_path: Path, settings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., MainWindow]]:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")

    def make() -> MainWindow:
        window = shown_window(qtbot, settings, dialogs=_Dialogs())
        return window

    yield make  # qtbot closes each window (before_close first) before this finalizer


def press(window: MainWindow, keys: str) -> None:
    """A shortcut typed into whatever widget has the focus."""
    combo = QKeySequence(keys)[0]
    target = QApplication.focusWidget() or window
    QTest.keyClick(target, combo.key(), combo.keyboardModifiers())


def test_ctrl_f_finds_nodes_in_every_scope_and_goes_to_them(
    make_window: Callable[..., MainWindow],
) -> None:
    window = make_window()
    assert window.open_path(MATMUL)
    canvas = window.canvas
    canvas.viewer.setFocus()
    press(window, "Ctrl+F")
    bar = canvas.find_bar
    assert bar.isVisible() and bar.edit.hasFocus()
    QTest.keyClicks(bar.edit, "CALL")  # case-insensitive; the call sits in P(i) in a workload
    calls = [n.id for n, _g, _o in window.document.walk() if n.kind == "kernel.call"]
    assert [m.node_id for m in bar.matches] == calls
    (call,) = calls
    # v2: the match is on the root canvas; the list says which frames hold it
    assert bar.matches[0].where == (
        "workload gemm → cpu_sim  round_robin · 4 workers › P  i in tiles (Dense 4)"
    )
    QTest.keyClick(bar.edit, Qt.Key.Key_Return)
    assert canvas.scope is None  # nothing to enter: the whole workload is on one canvas
    assert canvas.selected_ids() == [call]
    item_centre = canvas.view_node(call).view.sceneBoundingRect().center()
    assert (
        canvas.viewer.mapToScene(canvas.viewer.viewport().rect())
        .boundingRect()
        .contains(item_centre)
    )
    # Several matches: Enter/F3 step through them, Shift+Enter back; a match in a kernel
    # body opens that body.
    bar.edit.selectAll()
    QTest.keyClicks(bar.edit, "matmul")  # the kernel, the call matmul[i], the body's pto.matmul
    found = [m.node_id for m in bar.matches]
    doc = window.document
    kernel = next(n.id for n in doc.graph.nodes.values() if n.kind == "kernel.def")
    body_op = next(n.id for n in doc.graph.nodes[kernel].body.nodes.values() if n.kind == "pto.matmul")  # fmt: skip
    assert found == [kernel, call, body_op]
    assert bar.count_label.text() == "3 found"
    QTest.keyClick(bar.edit, Qt.Key.Key_Return)
    assert canvas.selected_ids() == [kernel] and canvas.scope is None
    QTest.keyClick(bar.edit, Qt.Key.Key_F3)
    assert canvas.selected_ids() == [call] and bar.count_label.text() == "2 of 3"
    QTest.keyClick(bar.edit, Qt.Key.Key_F3)
    assert canvas.scope == kernel and canvas.selected_ids() == [body_op]
    QTest.keyClick(bar.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.scope is None and canvas.selected_ids() == [call]
    QTest.keyClick(bar.edit, Qt.Key.Key_Escape)
    assert not bar.isVisible()
    assert canvas.viewer.hasFocus()
    press(window, "F3")  # the field is closed; F3 on the canvas still goes on
    assert canvas.selected_ids() == [body_op]


def test_help_lists_the_window_shortcuts_from_its_actions(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    menu_titles = [a.text() for a in window.menuBar().actions()]
    assert menu_titles[-1] == "&Help"
    extra = QAction("Frobnicate", window)  # a shortcut added anywhere shows up by itself
    extra.setShortcut(QKeySequence("Ctrl+Alt+K"))
    window.addAction(extra)
    window.actions["shortcuts"].trigger()
    dialogs = [w for w in QApplication.topLevelWidgets() if w.objectName() == "ShortcutsDialog"]
    (dialog,) = [d for d in dialogs if d.isVisible()]
    assert QApplication.activeModalWidget() is None  # does not block the window
    keys = dialog.shown_keys()
    for key in ("Ctrl+F", "F5", "F3", "Tab", "Ctrl+Alt+K", "Ctrl+Z"):
        assert any(key in k.split(", ") or key in k for k in keys), key
    texts = [r.text for r in dialog.rows]
    assert "Frobnicate" in texts and "Find Node" in texts and "Run" in texts
    # the timeline's own keys, listed where they apply
    timeline = {
        r.text: (r.keys, r.where) for r in dialog.rows if r.where in ("Timeline", "Compare")
    }
    assert timeline["Zoom in / out at the mouse cursor"][0] == "W / S"
    assert timeline["Pan left / right"][0] == "A / D"
    assert "Shift+drag" in timeline["Select a range and read its duration"][0]
    QTest.keyClicks(dialog.filter_edit, "f5")
    assert dialog.shown_keys() == ["Ctrl+F5", "F5"]  # Emit and Verify, Run
    dialog.close()
    qtbot.waitUntil(lambda: not dialog.isVisible())

    window.actions["about"].trigger()
    (box,) = [
        w for w in QApplication.topLevelWidgets() if w.objectName() == "AboutBox" and w.isVisible()
    ]
    assert isinstance(box, QMessageBox)
    assert "PySide6" in box.text() and "NodeGraphQt" in box.text()
    box.close()


def test_new_resets_the_zoom_and_centres_the_view(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    assert window.open_path(MATMUL)
    canvas = window.canvas
    for _ in range(3):
        window.zoom_by(-0.1)
    assert canvas.graph.get_zoom() < -0.2
    press(window, "Ctrl+N")
    assert window.document.graph.nodes == {}
    assert canvas.graph.get_zoom() == 0.0  # 100 %
    centre = view_centre(canvas)
    assert abs(centre.x()) <= 1.0 and abs(centre.y()) <= 1.0


def test_start_page_opens_samples_and_templates_without_blocking(
    make_window: Callable[..., MainWindow], qtbot: Any
) -> None:
    window = make_window()
    page = window.show_start_page()
    assert isinstance(page, StartPage) and page.isVisible()
    assert QApplication.activeModalWidget() is None
    assert page.parentWidget() is window.canvas.viewer  # over the canvas, inside the window
    names = [page.sample_list.item(i).text().split()[0] for i in range(page.sample_list.count())]
    assert "matmul" in names and "attention_varlen" in names
    page.sample_list.setCurrentRow(names.index("matmul"))
    QTest.mouseClick(page.sample_button, LEFT)
    assert window.path == MATMUL.resolve() and not page.isVisible()

    page = window.show_start_page()
    (button,) = [b for b in page.template_buttons if "Parallel loop" in b.text()]
    QTest.mouseClick(button, LEFT)
    assert window.path is None and not window.dirty and not page.isVisible()
    assert window.document.name == Document().name  # untitled: Save asks for a name
    kinds = {n.kind for n, _g, _o in window.document.walk()}
    assert {"loop.parallel", "kernel.call", "kernel.def"} <= kinds

    page = window.show_start_page()
    window.dialogs.paths.append(None)  # Import Python…, then Cancel in the file dialog
    QTest.mouseClick(page.import_button, LEFT)
    assert page.isVisible()  # nothing happened: the page stays
    QTest.keyClick(page.sample_list, Qt.Key.Key_Escape)
    assert not page.isVisible()


def test_start_page_at_start_up_and_dont_show_again(
    qtbot: Any, settings: QSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    made: list[MainWindow] = []

    def window_factory() -> MainWindow:
        window = MainWindow(settings=settings, dialogs=_Dialogs())
        qtbot.addWidget(window)
        made.append(window)
        return window

    monkeypatch.setattr(application_module, "MainWindow", window_factory)
    window = open_initial(None, MATMUL)
    assert window is not None and window.start_page is not None
    window.show()
    assert window.start_page.isVisible()
    assert window.path == MATMUL.resolve()  # the sample is open behind it
    QTest.mouseClick(window.start_page.show_check, LEFT)  # untick "Show at start-up"
    assert settings.value(START_PAGE_KEY) in (False, "false")
    window.close()
    again = open_initial(None, MATMUL)
    assert again is not None and again.start_page is None
    with_file = open_initial(MATMUL, MATMUL)  # a file on the command line: never
    assert with_file is not None and with_file.start_page is None
    for w in made:
        w.close()


def test_show_slices_in_timeline_from_the_call_node_menu(
    make_window: Callable[..., MainWindow], monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    assert window.open_path(MATMUL)
    panel = window.run_panel
    doc = window.document
    (call,) = [n.id for n, _g, _o in doc.walk() if n.kind == "kernel.call"]
    # The views as a finished run leaves them: 4 tasks of kernel 0 (matmul), 2 workers.
    trace = np.zeros(4, dtype=TRACE_DTYPE)
    trace["task"] = np.arange(4)
    trace["worker"] = [0, 1, 0, 1]
    trace["start"] = [100, 100, 300, 300]
    trace["end"] = [300, 300, 500, 500]
    panel.node_map = TaskNodeMap(doc, ["matmul"])
    panel.timeline.set_run(trace, ["matmul"], "#1", panel.node_map.node_of)
    panel.sources_dock.raise_()
    panel.log_dock.raise_()  # Log in front of Timeline in their tab group

    canvas = window.canvas
    canvas.select_node(call)
    canvas.select_ids([])
    picker = MenuPicker(canvas, monkeypatch)
    menu = picker.right_click(node_point(canvas, call))
    assert "Show Slices in Timeline (4)" in entries(menu)
    picker.right_click(node_point(canvas, call), "Show Slices in Timeline")
    assert canvas.selected_ids() == [call]
    assert panel.highlighted is not None and int(panel.highlighted.sum()) == 4
    assert not panel.timeline_dock.visibleRegion().isEmpty()  # brought forward
    x0, x1 = panel.timeline.x_range()
    assert x0 <= 100 and x1 >= 500 and x1 - x0 < 1000

    # A node that issued nothing offers no entry.
    (tensor,) = [n.id for n in doc.graph.nodes.values() if n.name == "A"]
    canvas.enter_scope(None)
    menu = picker.right_click(node_point(canvas, tensor))
    assert not any(e.startswith("Show Slices") for e in entries(menu))


# ------------------------------------------------------------------------------------------
# a refused wire explains itself
# ------------------------------------------------------------------------------------------
def test_refused_wire_says_why_at_the_cursor(canvas: GraphCanvas, qtbot: Any) -> None:
    q = canvas.add_node("data.tensor", (0.0, 0.0), name="Q")
    n = canvas.add_node("axis.dense_dyn", (400.0, 0.0), name="n")
    canvas.fit_view()
    viewport = canvas.viewer.viewport()
    drag(viewport, port_point(canvas, q, "tensor", "out"), port_point(canvas, n, "size", "in"))
    assert canvas.doc.graph.edges == []
    qtbot.waitUntil(QToolTip.isVisible)
    text = QToolTip.text()
    assert "Q gives a tensor but input 'size' of n takes a scalar" in text
    assert "data.tensor" not in text and "axis.dense_dyn" not in text  # names, never kind ids
    assert canvas.wire_feedback.last_reason is not None
    close_tooltip(qtbot)

    # Refused by NodeGraphQt itself (input onto input): explained too.
    r = canvas.add_node("axis.ragged", (400.0, 300.0), name="lens")
    canvas.fit_view()
    drag(viewport, port_point(canvas, n, "size", "in"), port_point(canvas, r, "lengths", "in"))
    assert canvas.doc.graph.edges == []
    qtbot.waitUntil(QToolTip.isVisible)
    assert "both inputs" in QToolTip.text()
    close_tooltip(qtbot)

    # An accepted wire shows nothing.
    canvas.wire_feedback.last_reason = None
    drag(viewport, port_point(canvas, q, "tensor", "out"), port_point(canvas, r, "lengths", "in"))
    assert len(canvas.doc.graph.edges) == 1
    assert canvas.wire_feedback.last_reason is None


def test_the_start_page_key_escape_does_not_reach_the_window(
    make_window: Callable[..., MainWindow],
) -> None:
    window = make_window()
    page = window.show_start_page()
    event_types: list[QEvent.Type] = []
    window.actions["cancel_run"].setEnabled(True)  # as while a run is going
    window.actions["cancel_run"].triggered.connect(lambda: event_types.append(QEvent.Type.Shortcut))
    QTest.keyClick(page.sample_list, Qt.Key.Key_Escape)
    assert not page.isVisible() and event_types == []
