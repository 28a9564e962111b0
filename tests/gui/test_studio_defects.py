"""Defects a new user met in the Studio (issue 13, item 5), each driven with real Qt events.

One test per defect, named after it. The window is the real ``MainWindow`` with scripted
dialogs (``test_build_attention``); the user's hands are ``UserDriver`` (drops, clicks, keys,
typed fields) and menu entries are triggered as a click on them would. Runs are real worker
processes, awaited on ``RunPanel.run_ended``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QHeaderView, QLineEdit, QTabBar
from test_build_attention import ScriptedDialogs, UserDriver, make_window  # noqa: F401

from app.dialogs import Choice
from app.editor import nodes as vnodes
from app.editor.nodes import node_type_for
from app.main_window import MainWindow
from app.model import registry
from app.runner.job import RunResult
from app.views.stats import StatsPanel

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = ROOT / "app" / "projects"
RUN_TIMEOUT_MS = 240_000


class TrustingDialogs(ScriptedDialogs):
    """Scripted answers; the bundled samples carry no C++, so nobody should ask for trust."""

    def ask_trust(self, carriers: Any, note: str = "") -> bool:
        raise AssertionError("unexpected trust prompt for a bundled sample")


@pytest.fixture
def user(qtbot: Any, make_window: Callable[[], MainWindow]) -> UserDriver:  # noqa: F811
    window = make_window()
    window.dialogs = TrustingDialogs()
    if window.sweep is not None:
        window.sweep.dialogs = window.dialogs
    return UserDriver(qtbot, window)


def open_with_ctrl_o(u: UserDriver, project: Path) -> None:
    """File > Open (Ctrl+O) with the file dialog answered ``project``."""
    u.window.dialogs.paths.append(project)  # type: ignore[attr-defined]
    u.window.canvas.viewer.setFocus()
    u.press("Ctrl+O")
    assert u.window.path == project.resolve()


def run_with_f5(u: UserDriver) -> RunResult:
    u.window.canvas.viewer.setFocus()
    with u.qtbot.waitSignal(u.window.run_panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        u.press("F5")
    return ended.args[0]


def node_named(window: MainWindow, name: str) -> str:
    (node_id,) = [n.id for n, _g, _o in window.document.walk() if n.name == name]
    return node_id


def root_node_of_kind(window: MainWindow, kind: str) -> str:
    (node_id,) = [n.id for n in window.document.graph.nodes.values() if n.kind == kind]
    return node_id


def click_frame(u: UserDriver, frame_id: str) -> None:
    """Click a frame's header (its interior lets clicks through to the canvas)."""
    rect = u.window.canvas.view_node(frame_id).view.sceneBoundingRect()
    header = u.window.canvas.viewer.mapFromScene(QPointF(rect.center().x(), rect.top() + 10.0))
    u.assert_visible(header)
    QTest.mouseClick(u.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, header)  # fmt: skip
    assert u.window.canvas.selected_ids() == [frame_id]


def fit(u: UserDriver) -> None:
    """View > Fit to View (F) on the canvas."""
    u.window.canvas.viewer.setFocus()
    u.press("F")


def dock_in_front(window: MainWindow, dock: QDockWidget) -> bool:
    """``dock`` is the shown tab of its group (not hidden behind another dock's tab)."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


# ------------------------------------------------------------------------------------------
# 1. Timeline and Stats of another project
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_timeline_and_stats_say_stale_after_an_emit_only_run_and_after_opening_another_project(
    user: UserDriver,
) -> None:
    u, window = user, user.window
    panel = window.run_panel
    open_with_ctrl_o(u, PROJECTS / "matmul.pto.json")
    label = window.document.name or "untitled"
    result = run_with_f5(u)
    assert result.ok, result.diagnostics
    assert panel.timeline.trace is not None and not panel.stale
    assert not panel.timeline.stale_banner.isVisible()

    # Emit for ascend_npu (the workload sheet's target combo, then F5): sources only.
    fit(u)
    click_frame(u, root_node_of_kind(window, "workload.def"))
    u.choose(u.editor("target"), "ascend_npu")
    emitted = run_with_f5(u)
    assert emitted.stats["target"] == "ascend_npu" and not emitted.stats["executed"]
    assert panel.stale
    stale = panel.timeline.stale_banner.text()
    assert stale.startswith(f"stale: from {label}") and "ascend_npu" in stale
    assert panel.stats.stale_banner.text() == stale

    # Open another project (the target change is discarded): the run says where it is from.
    window.dialogs.unsaved.append(Choice.DISCARD)  # type: ignore[attr-defined]
    open_with_ctrl_o(u, PROJECTS / "softmax.pto.json")
    panel.timeline_dock.raise_()
    QApplication.processEvents()
    banner = panel.timeline.stale_banner
    assert banner.isVisible() and banner.text().startswith(f"stale: from {label}")
    assert "another project" in banner.text()
    panel.stats_dock.raise_()
    QApplication.processEvents()
    assert panel.stats.stale_banner.isVisible()

    # A run of the open project is current again.
    assert run_with_f5(u).ok
    assert not panel.stale and not panel.stats.stale_banner.isVisible()


# ------------------------------------------------------------------------------------------
# 2. Run > Sweep on a schedule node
# ------------------------------------------------------------------------------------------
def test_sweep_on_a_workload_preselects_its_worker_count(user: UserDriver) -> None:
    u, window = user, user.window
    open_with_ctrl_o(u, PROJECTS / "attention_varlen.pto.json")
    fit(u)
    workload = root_node_of_kind(window, "workload.def")
    click_frame(u, workload)  # the schedule lives on its sheet
    window.actions["sweep"].trigger()  # Run > Sweep…
    param = window.sweep.current_param
    assert param is not None
    assert (param.node_id, param.prop) == (workload, "dispatch_n")  # not the key
    assert registry.kind("workload.def").prop("dispatch_n").doc.startswith("workers")


# ------------------------------------------------------------------------------------------
# 3. Save As names an untitled document
# ------------------------------------------------------------------------------------------
def test_save_as_names_the_untitled_document_title_and_exported_docstring(
    user: UserDriver, tmp_path: Path
) -> None:
    u, window = user, user.window
    u.press("Ctrl+N")
    assert window.windowTitle().startswith("untitled")
    u.drop("data.tensor", u.grid(1, 1))
    window.dialogs.paths.append(tmp_path / "scaled")  # type: ignore[attr-defined]
    u.press("Ctrl+Shift+S")
    assert window.path == (tmp_path / "scaled.pto.json").resolve()
    assert window.document.name == "scaled"
    assert window.windowTitle().startswith("scaled.pto.json — ")

    script = tmp_path / "scaled.py"
    window.dialogs.paths.append(script)  # type: ignore[attr-defined]
    window.canvas.viewer.setFocus()
    u.press("Ctrl+E")
    assert script.is_file(), window.dialogs.errors  # type: ignore[attr-defined]
    docstring = ast.get_docstring(ast.parse(script.read_text())) or ""
    assert "scaled" in docstring and "untitled" not in docstring


# ------------------------------------------------------------------------------------------
# 4. Duplicating "Q2"
# ------------------------------------------------------------------------------------------
def test_duplicating_q2_gives_q3_not_q22(user: UserDriver) -> None:
    u, window = user, user.window
    u.press("Ctrl+N")
    u.zoom_out_to(0.55)
    q = u.drop("data.tensor", u.grid(1, 1))
    u.click_node(q)
    u.type_into("name", "Q2")
    assert window.document.node(q).name == "Q2"
    names = []
    for _ in range(2):
        u.click_node(q)
        before = set(window.document.graph.nodes)
        u.press("Ctrl+D")
        (new,) = set(window.document.graph.nodes) - before
        names.append(window.document.node(new).name)
    assert names == ["Q3", "Q4"]
    assert registry.free_name("sched", {"sched"}) == "sched2"
    assert registry.free_name("v9", {"v9", "v10"}) == "v11"


# ------------------------------------------------------------------------------------------
# 5. Ctrl+Z inside a property field
# ------------------------------------------------------------------------------------------
def test_ctrl_z_in_a_property_field_undoes_the_field_only(user: UserDriver) -> None:
    u, window = user, user.window
    u.press("Ctrl+N")
    u.zoom_out_to(0.55)
    axis = u.drop("axis.dense", u.grid(1, 1))
    u.click_node(axis)
    u.type_into("name", "rows")  # committed: the document's history has the drop and this
    history = len(window.editor._undo)
    assert window.document.node(axis).name == "rows"

    name = u.editor("name")
    assert isinstance(name, QLineEdit) and QApplication.focusWidget() is name
    QTest.keyClicks(name, "_x")
    for keys in ("Ctrl+Z", "Ctrl+Z", "Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Y", "Ctrl+Z", "Ctrl+Z"):
        u.press(keys)  # into the field: its own history, then nothing
        assert QApplication.focusWidget() is name
    assert len(window.editor._undo) == history and not window.editor.can_redo()
    assert axis in window.document.graph.nodes
    assert window.document.node(axis).name == "rows"

    size = u.editor("size").lineEdit()
    QTest.mouseClick(size, Qt.MouseButton.LeftButton)
    for keys in ("Ctrl+Z", "Ctrl+Y"):
        u.press(keys)
    assert len(window.editor._undo) == history and window.document.node(axis).name == "rows"

    # On the canvas the same key is the document's undo.
    window.canvas.viewer.setFocus()
    u.press("Ctrl+Z")
    assert window.document.node(axis).name != "rows"


# ------------------------------------------------------------------------------------------
# 6. An undo off screen shows where it happened
# ------------------------------------------------------------------------------------------
def test_undo_of_an_edit_in_a_kernel_body_enters_the_body_and_selects_the_node(
    user: UserDriver,
) -> None:
    u, window = user, user.window
    canvas = window.canvas
    open_with_ctrl_o(u, PROJECTS / "attention.pto.json")
    fit(u)
    kernel = root_node_of_kind(window, "kernel.def")
    u.double_click_node(kernel)
    assert canvas.scope == kernel
    fit(u)
    exp = next(n.id for n in canvas.current_graph().nodes.values() if n.kind == "pto.exp")
    u.click_node(exp)
    u.type_into("name", "softexp")
    assert window.document.node(exp).name == "softexp"

    window.canvas.viewer.setFocus()
    u.press("Alt+Up")  # back at the root: the body is out of sight
    assert canvas.scope is None
    u.press("Ctrl+Z")
    assert window.document.node(exp).name != "softexp"
    assert canvas.scope == kernel and canvas.selected_ids() == [exp]
    u.assert_visible(u.node_point(exp))

    # Redo from another scope, the node panned out of view: shown again.
    u.press("Alt+Up")
    u.press("Ctrl+Shift+Z")
    assert window.document.node(exp).name == "softexp"
    assert canvas.scope == kernel and canvas.selected_ids() == [exp]
    u.assert_visible(u.node_point(exp))
    x, y, w, h = canvas.viewer.scene_rect()  # the user panned far away
    canvas.viewer.set_scene_rect([x + 5000.0, y + 5000.0, w, h])
    assert not u.viewport.rect().contains(u.node_point(exp))
    u.press("Ctrl+Z")
    assert canvas.selected_ids() == [exp]
    u.assert_visible(u.node_point(exp))


# ------------------------------------------------------------------------------------------
# 7. Tab bars after View > Reset Layout and a resize
# ------------------------------------------------------------------------------------------
def _floating_tab_bars(window: MainWindow) -> list[str]:
    """Shown dock tab bars that overlap a shown dock (a bar belongs beside its docks)."""
    docks = [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()]
    out = []
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if not bar.isVisible():
            continue
        rect: QRect = bar.geometry()
        for dock in docks:
            if rect.intersects(dock.geometry()):
                tabs = "|".join(bar.tabText(i) for i in range(bar.count()))
                out.append(f"[{tabs}] {rect.getRect()} over {dock.objectName()}")
    return out


def test_no_tab_bar_floats_over_a_dock_after_reset_layout_and_a_resize(user: UserDriver) -> None:
    window = user.window
    window.resize(1400, 900)
    QApplication.processEvents()
    window.actions["reset_layout"].trigger()  # View > Reset Layout
    assert _floating_tab_bars(window) == []
    window.resize(1100, 760)
    assert _floating_tab_bars(window) == []
    QApplication.processEvents()
    assert _floating_tab_bars(window) == []
    window.resize(1400, 900)
    QApplication.processEvents()
    assert _floating_tab_bars(window) == []
    bars = [
        b
        for b in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
        if b.isVisible()
    ]
    # Properties|Stats|Sources, Timeline|Compare|Log|Sweep and Diagnostics|Details
    assert len(bars) == 3


# ------------------------------------------------------------------------------------------
# 8. Selecting a node brings Properties forward
# ------------------------------------------------------------------------------------------
def test_selecting_a_node_brings_the_properties_dock_forward(user: UserDriver) -> None:
    u, window = user, user.window
    u.press("Ctrl+N")
    u.zoom_out_to(0.55)
    tensor = u.drop("data.tensor", u.grid(1, 1))
    window.run_panel.stats_dock.raise_()  # the user looked at Stats (tabbed with Properties)
    QApplication.processEvents()
    assert not dock_in_front(window, window.properties_dock)
    u.click_node(tensor)
    QApplication.processEvents()
    assert dock_in_front(window, window.properties_dock)
    assert "name" in window.properties.editors

    # A closed Properties dock stays closed.
    window.properties_dock.close()
    u.click_node(tensor)
    QApplication.processEvents()
    assert not window.properties_dock.isVisible()


# ------------------------------------------------------------------------------------------
# 9. Sources: the code pane's width and the file shown first
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_sources_open_the_main_file_in_a_code_pane_with_most_of_the_width(
    user: UserDriver,
) -> None:
    u, window = user, user.window
    panel = window.run_panel
    open_with_ctrl_o(u, PROJECTS / "matmul.pto.json")
    fit(u)
    click_frame(u, root_node_of_kind(window, "workload.def"))
    u.choose(u.editor("target"), "ascend_npu")
    assert run_with_f5(u).stats["target"] == "ascend_npu"
    sources = panel.sources
    assert dock_in_front(window, panel.sources_dock)
    QApplication.processEvents()
    assert sources.current_file is not None
    assert sources.current_file.relative_to(sources.root).as_posix() == "host/main.cpp"
    assert "int main" in sources.viewer.toPlainText()
    tree, code = sources.splitter.sizes()
    assert code >= 2 * tree and code >= 200, (tree, code)


# ------------------------------------------------------------------------------------------
# 10. Stats: worker order and visible values
# ------------------------------------------------------------------------------------------
def test_stats_lists_workers_ascending_with_every_value_in_sight(qtbot: Any) -> None:
    import numpy as np

    from pto_wsp.runtime.trace import TRACE_DTYPE

    trace = np.zeros(6, dtype=TRACE_DTYPE)
    trace["worker"] = [1, 0, 2, 1, 0, 2]
    trace["start"] = [0, 0, 0, 10, 10, 10]
    trace["end"] = [10, 8, 4, 20, 18, 12]
    trace["kernel"] = 0
    trace["task"] = np.arange(6)
    panel = StatsPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 700)  # the width of the right dock
    panel.show()
    qtbot.waitExposed(panel)
    stats = {
        "compile_time_ms": 1.0,
        "execute_time_ms": 2.0,
        "task_count": 6,
        "total_cycles": 20,
        "kernel_names": ["k"],
    }
    panel.set_run(stats, trace, ["k"])
    table = panel.worker_table
    workers = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert workers == ["0", "1", "2"]
    util = [table.item(r, 3).text() for r in range(table.rowCount())]
    assert all(text.endswith("%") for text in util)
    # Every utilisation cell lies inside the table's visible viewport, no scrolling needed.
    viewport = table.viewport().rect()
    for r in range(table.rowCount()):
        cell = table.visualRect(table.model().index(r, 3))
        assert viewport.contains(cell), (cell.getRect(), viewport.getRect())
    assert table.horizontalScrollBar().maximum() == 0
    header = table.horizontalHeader()
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Stretch


# ------------------------------------------------------------------------------------------
# 11. Messages name kinds by their display names
# ------------------------------------------------------------------------------------------
def test_messages_name_kinds_by_display_name_not_kind_id(user: UserDriver) -> None:
    u, window = user, user.window
    u.press("Ctrl+N")
    u.zoom_out_to(0.55)
    tensor = u.drop("data.tensor", u.grid(0, 1))
    u.click_node(tensor)
    assert window.statusBar().currentMessage().startswith("tensor (Tensor)")
    # A P.when case dropped on the root canvas is refused: the message names it as the palette does.
    palette = window.palette
    mime = palette.mime_data(palette.item_for_type(node_type_for("branch.case")))
    at, action = u.grid(2, 1), Qt.DropAction.CopyAction
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (
        QDragEnterEvent(at, action, mime, left, none),
        QDragMoveEvent(at, action, mime, left, none),
        QDropEvent(QPointF(at), action, mime, left, none),
    ):
        QApplication.sendEvent(u.viewport, event)
    assert list(window.document.graph.nodes) == [tensor]
    message = window.statusBar().currentMessage()
    assert registry.display_name("branch.case") in message, message
    assert "branch.case" not in message


# ------------------------------------------------------------------------------------------
# 12. Run results that are out of date say so (or go)
# ------------------------------------------------------------------------------------------
def diagnostics_texts(window: MainWindow) -> list[str]:
    lst = window.diagnostics_list
    return [lst.item(i).text() for i in range(lst.count())]


@pytest.mark.slow
def test_edits_and_a_failed_run_mark_the_timeline_stale_and_an_undo_drops_the_run_error(
    user: UserDriver,
) -> None:
    """The user's trial: K's shape set to 2,16,16 in Properties, F5 fails with a badge on the
    call; Ctrl+Z restores the shape. The run error, its badge and its tooltip must not outlive
    the document they were about, and the timeline must never pass for the current run."""
    u, window = user, user.window
    panel = window.run_panel
    open_with_ctrl_o(u, PROJECTS / "attention_varlen.pto.json")
    label = window.document.name or "untitled"
    assert run_with_f5(u).ok
    good = panel.shown_record
    assert good is not None and not panel.stale
    call = root_node_of_kind(window, "kernel.call")
    (tensor_k,) = [n.id for n in window.document.graph.nodes.values() if n.name == "K"]

    # Moving a node changes nothing the run depends on: the timeline stays current.
    fit(u)
    start = u.node_point(tensor_k)
    u.assert_visible(start)
    QTest.mousePress(u.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)  # fmt: skip
    for step in range(1, 5):
        QTest.mouseMove(u.viewport, start + QPoint(0, 6 * step))
    QTest.mouseRelease(u.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(0, 24))  # fmt: skip
    assert window.editor.can_undo() and not panel.stale

    # An edit through the Properties field: the shown run is of an earlier document.
    u.click_node(tensor_k)
    u.type_into("shape", "2, 16, 16")
    assert window.document.node(tensor_k).props["shape"] == [2, 16, 16]
    banner = panel.timeline.stale_banner
    assert panel.stale
    assert banner.text() == (
        f"stale: from {label} (run #{good.run_id}) — the document changed since this run; "
        "run again (F5)"
    )
    assert panel.stats.stale_banner.text() == banner.text()
    assert not [d for d in window.diagnostics if d.node_id == call]  # the run finds this one

    # F5 fails: the error is listed and badged, and the old timeline says the run failed.
    failed = run_with_f5(u)
    assert not failed.ok and not failed.crashed
    first = failed.errors[0].message.splitlines()[0]
    assert panel.shown_record is good
    assert f"the last run failed: {first[:100]}" in banner.text(), banner.text()
    assert banner.text().startswith(f"stale: from {label} (run #{good.run_id}) — ")
    u.qtbot.waitUntil(lambda: window.canvas.badge_of(call) == vnodes.BADGE_ERROR, timeout=5000)
    run_badges = [b for b in window.canvas.diagnostics_of(call) if first[:40] in b]
    assert run_badges
    assert first[:40] in window.canvas.view_node(call).view.toolTip()
    listed = [t for t in diagnostics_texts(window) if t.startswith("run")]
    assert listed and any(first[:40] in t for t in listed)

    # Ctrl+Z on the canvas restores the shape: the run error, its badge and tooltip go at once.
    window.canvas.viewer.setFocus()
    u.press("Ctrl+Z")
    assert window.document.node(tensor_k).props["shape"] == [4, 16, 16]
    u.qtbot.waitUntil(lambda: window.canvas.badge_of(call) is None, timeout=5000)
    assert window.canvas.diagnostics_of(call) == []
    assert first[:40] not in window.canvas.view_node(call).view.toolTip()
    assert not [t for t in diagnostics_texts(window) if t.startswith("run")]
    assert window.diagnostics_dock.windowTitle() == "Diagnostics"
    message = window.statusBar().currentMessage()
    assert message.startswith("Cleared the last run's 1 run diagnostic"), message
    assert "the last run failed" in banner.text()
    assert "the document changed since this run" in banner.text()

    # A redo (another change) neither brings the error back nor repeats the note.
    window.show_message("")
    u.press("Ctrl+Y")
    assert window.document.node(tensor_k).props["shape"] == [2, 16, 16]
    assert window.statusBar().currentMessage() == ""
    assert not [t for t in diagnostics_texts(window) if t.startswith("run")]
    u.press("Ctrl+Z")

    # A run of the document as it stands is current again.
    ok = run_with_f5(u)
    assert ok.ok and panel.shown_record is not good
    assert not panel.stale and not panel.stats.stale_banner.stale
