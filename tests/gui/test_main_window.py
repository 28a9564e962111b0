"""The Studio main window, driven as a user would: keys, menus, drops, dialogs answered.

Dialogs go through a scripted ``Dialogs`` (the window never calls QMessageBox directly), so
every test runs the real code path with the user's answer queued in advance; an unexpected
question fails the test instead of blocking it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox

from app.__main__ import has_display
from app.actions import RecentFiles
from app.dialogs import Choice, Dialogs
from app.editor.nodes import node_type_for
from app.editor.properties import PARAM_COLUMNS, ParamListEditor
from app.main_window import MainWindow
from app.model import commands as cmds
from app.model import io
from app.model.document import Document, PortRef
from app.model.equality import same_as

ROOT = Path(__file__).resolve().parents[2]


class ScriptedDialogs(Dialogs):
    """Answers queued by the test; any unscripted question is a test failure."""

    def __init__(self) -> None:
        super().__init__(None)
        self.unsaved: list[Choice] = []
        self.recover: list[bool] = []
        self.trust: list[bool] = []
        self.trust_notes: list[str] = []  # what each trust question said changed ("" if none)
        self.paths: list[Path | None] = []
        self.errors: list[tuple[str, str]] = []
        self.asked: list[str] = []

    def ask_unsaved(self, title: str) -> Choice:
        self.asked.append(f"unsaved:{title}")
        assert self.unsaved, f"unexpected unsaved-changes prompt for {title!r}"
        return self.unsaved.pop(0)

    def ask_recover(self, project: Path, autosave: Path) -> bool:
        self.asked.append(f"recover:{project.name}")
        assert self.recover, f"unexpected recovery prompt for {project}"
        return self.recover.pop(0)

    def ask_trust(self, carriers: list[Any], note: str = "") -> bool:
        self.asked.append(f"trust:{', '.join(c.name for c in carriers)}")
        self.trust_notes.append(note)
        assert self.trust, f"unexpected trust prompt for {[c.name for c in carriers]}"
        return self.trust.pop(0)

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def open_path(self, caption: str, start: Path, file_filter: str) -> Path | None:
        self.asked.append(f"open:{caption}")
        assert self.paths, f"unexpected file dialog {caption!r}"
        return self.paths.pop(0)

    def save_path(self, caption: str, suggested: Path, file_filter: str) -> Path | None:
        self.asked.append(f"save:{caption}")
        assert self.paths, f"unexpected file dialog {caption!r}"
        return self.paths.pop(0)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(
    qtbot: Any, tmp_path: Path, settings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., MainWindow]]:
    """Shown main windows with scripted dialogs; closed (changes discarded) at teardown."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")

    def make(**kwargs: Any) -> MainWindow:
        window = shown_window(qtbot, settings, size=(1200, 800), **kwargs)
        return window

    yield make  # qtbot closes each window (before_close first) before this finalizer


def shown_window(
    qtbot: Any,
    settings: QSettings,
    *,
    dialogs: Any = None,
    before_close: Callable[[MainWindow], None] | None = None,
    size: tuple[int, int] = (1400, 900),
    **kwargs: Any,
) -> MainWindow:
    """A main window shown at ``size`` and active, so keys sent to it arrive. Without
    ``dialogs`` it gets ``ScriptedDialogs`` and qtbot's teardown close discards changes;
    ``before_close`` runs before that close otherwise."""
    if dialogs is None:
        dialogs, before_close = ScriptedDialogs(), before_close or _discard_on_close
    window = MainWindow(settings=settings, dialogs=dialogs, **kwargs)
    qtbot.addWidget(window, before_close_func=before_close)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)  # keys reach it
    return window


def _discard_on_close(window: MainWindow) -> None:
    """Teardown closes every window: answer a pending unsaved-changes prompt with Discard."""
    window.dialogs.unsaved[:] = [Choice.DISCARD]  # type: ignore[attr-defined]


def press(qtbot: Any, window: MainWindow, keys: str) -> None:
    """Type a shortcut as a user would: into whatever widget of the window has the focus."""
    combo = QKeySequence(keys)[0]
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())


def drop_kind(window: MainWindow, kind_id: str, at: QPoint) -> str:
    """Drag a palette entry onto the canvas (DESIGN §4 recipe); the new node's id."""
    palette = window.palette
    item = palette.item_for_type(node_type_for(kind_id))
    assert item is not None, f"palette has no entry for {kind_id}"
    mime = palette.mime_data(item)
    viewport = window.canvas.viewer.viewport()
    before = set(window.document.graph.nodes)
    action, button, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.NoModifier
    enter = QDragEnterEvent(at, action, mime, button, mods)
    QApplication.sendEvent(viewport, enter)
    QApplication.sendEvent(viewport, QDragMoveEvent(at, action, mime, button, mods))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(at), action, mime, button, mods))
    new = set(window.document.graph.nodes) - before
    assert len(new) == 1, f"dropping {kind_id} added {len(new)} nodes"
    return new.pop()


def build_scale_workload(window: MainWindow, tensor_id: str, kernel_id: str) -> None:
    """Finish the graph around a dropped tensor and kernel: Y = exp(X) per batch row.

    Property edits go through the canvas (as the properties panel does), structure through
    model commands (as canvas drops and wires do): the same undoable path the user's edits take.
    Format v2: X and Y wired straight into the call inside ``P(b in batch)`` inside the
    workload frame, whose sheet compiles it for the simulator.
    """
    canvas, editor = window.canvas, window.editor

    def add(kind: str, parent: str | None = None, **props: Any) -> str:
        return editor.apply(cmds.AddNode(kind, (0.0, 0.0), parent, **props)).node.id

    def link(src: str, sport: str, dst: str, dport: str) -> None:
        editor.apply(cmds.Connect(PortRef(src, sport), PortRef(dst, dport)))

    assert canvas.set_property(tensor_id, "name", "X")
    assert canvas.set_property(tensor_id, "shape", [4, 16, 16])
    assert canvas.set_property(tensor_id, "init", "range")
    assert canvas.set_property(kernel_id, "name", "scale")
    params = [{"name": "x", "direction": "In"}, {"name": "y", "direction": "Out"}]
    assert canvas.set_property(kernel_id, "params", params)
    body = window.document.node(kernel_id).body
    p_in, p_out = sorted(
        (n for n in body.nodes.values() if n.kind == "kernel.param"), key=lambda n: n.props["param"]
    )
    exp = add("pto.exp", kernel_id)
    link(p_in.id, "tile", exp, "x")
    link(exp, "result", p_out.id, "value")

    y = add("data.tensor", name="Y", shape=[4, 16, 16])
    batch = add("axis.dense", name="batch", size=4)
    wl = add("workload.def", name="apply_all", target="cpu_sim")
    loop = add("loop.parallel", wl, axes=[{"var": "b", "axis": batch}])
    call = add("kernel.call", loop, kernel=kernel_id)
    link(tensor_id, "tensor", call, "x")
    link(call, "y", y, "write")


# ------------------------------------------------------------------------------------------
# the user's journey
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_new_drop_save_reopen_export_run_malformed_close(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    dialogs: ScriptedDialogs = window.dialogs  # type: ignore[assignment]

    # New (Ctrl+N) on a clean window asks nothing.
    press(qtbot, window, "Ctrl+N")
    assert dialogs.asked == [] and not window.dirty
    assert window.windowTitle().startswith("untitled —")

    # Drag a Tensor and a Kernel from the palette onto the canvas.
    tensor = drop_kind(window, "data.tensor", QPoint(200, 200))
    kernel = drop_kind(window, "kernel.def", QPoint(500, 300))
    assert window.document.node(tensor).kind == "data.tensor"
    assert window.document.node(kernel).kind == "kernel.def"
    qtbot.waitUntil(lambda: window.windowTitle().startswith("untitled* —"))

    # Undo/redo from the keyboard go through the model's history.
    press(qtbot, window, "Ctrl+Z")
    assert kernel not in window.document.graph.nodes
    press(qtbot, window, "Ctrl+Shift+Z")
    assert kernel in window.document.graph.nodes

    build_scale_workload(window, tensor, kernel)
    qtbot.waitUntil(lambda: window.diagnostics_list.count() == 0)

    # Save As (Ctrl+Shift+S): the title loses its star, the file is in Open Recent.
    project = tmp_path / "scale.pto.json"
    dialogs.paths.append(project)
    press(qtbot, window, "Ctrl+Shift+S")
    assert project.is_file() and window.path == project.resolve()
    assert not window.dirty and window.windowTitle() == "scale.pto.json — PTO-WSP Studio"
    assert window.recent.paths() == [project.resolve()]
    built = window.document.copy()

    # Reopen: an equal document.
    assert window.open_path(project)
    assert same_as(window.document, built) and window.document is not built

    # Export to Python (Ctrl+E) and run the script as a user would, in a terminal.
    script = tmp_path / "scale.py"
    dialogs.paths.append(script)
    press(qtbot, window, "Ctrl+E")
    assert script.is_file(), dialogs.errors
    stats = tmp_path / "stats.json"
    run = subprocess.run(
        [sys.executable, str(script), "--stats", str(stats)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stderr
    stats_line = next(line for line in run.stdout.splitlines() if "ProgramStats(" in line)
    assert "task_count=4" in stats_line  # one task per batch row
    assert json.loads(stats.read_text())["task_count"] == 4

    # A malformed project: a clear error naming node and field; the open document stays.
    data = json.loads(project.read_text())
    (node_data,) = [n for n in data["graph"]["nodes"] if n["id"] == tensor]
    node_data["props"]["shape"] = "sixteen"
    bad = tmp_path / "bad.pto.json"
    bad.write_text(json.dumps(data))
    assert not window.open_path(bad)
    (title, text), *_ = dialogs.errors
    assert title == "Cannot open project"
    assert str(bad) in text and f"nodes.{tensor}.props.shape" in text
    assert window.path == project.resolve() and same_as(window.document, built)
    assert not window.dirty

    # Close with unsaved changes: Cancel keeps the window, Discard closes it.
    assert window.canvas.set_property(tensor, "name", "X2")
    qtbot.waitUntil(lambda: "*" in window.windowTitle())
    dialogs.unsaved.append(Choice.CANCEL)
    assert not window.close()
    assert window.isVisible() and dialogs.asked[-1] == "unsaved:scale.pto.json"
    dialogs.unsaved.append(Choice.DISCARD)
    assert window.close()
    assert not window.isVisible()
    assert same_as(io.load(project), built)  # discarded: the file is untouched


def test_unsaved_prompt_on_new_save_discard_cancel(
    make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    dialogs: ScriptedDialogs = window.dialogs  # type: ignore[assignment]
    window.canvas.add_node("data.tensor", (0.0, 0.0))
    assert window.dirty

    dialogs.unsaved.append(Choice.CANCEL)
    assert not window.new_document()
    assert len(window.document.graph.nodes) == 1

    # Save, but cancel the file dialog: nothing is lost, nothing is opened.
    dialogs.unsaved.append(Choice.SAVE)
    dialogs.paths.append(None)
    assert not window.new_document()
    assert len(window.document.graph.nodes) == 1 and window.dirty

    target = tmp_path / "kept"
    dialogs.unsaved.append(Choice.SAVE)
    dialogs.paths.append(target)
    assert window.new_document()
    saved = tmp_path / "kept.pto.json"  # the project suffix is added
    assert len(io.load(saved).graph.nodes) == 1
    assert window.path is None and not window.document.graph.nodes and not window.dirty

    window.canvas.add_node("data.tensor", (0.0, 0.0))
    dialogs.unsaved.append(Choice.DISCARD)
    assert window.new_document()
    assert not window.document.graph.nodes


def test_title_star_follows_undo_to_saved_state(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    assert window.save_as(tmp_path / "t.pto.json")
    window.canvas.add_node("axis.dense", (0.0, 0.0))
    qtbot.waitUntil(lambda: window.windowTitle().startswith("t.pto.json* "))
    assert window.actions["undo"].isEnabled() and not window.actions["redo"].isEnabled()
    window.actions["undo"].trigger()
    qtbot.waitUntil(lambda: window.windowTitle().startswith("t.pto.json — "))
    assert window.actions["redo"].isEnabled()


def test_shortcuts_are_the_desktop_conventions(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    expected = {
        "new": ["Ctrl+N"],
        "open": ["Ctrl+O"],
        "save": ["Ctrl+S"],
        "save_as": ["Ctrl+Shift+S"],
        "export_python": ["Ctrl+E"],
        "import_python": ["Ctrl+I"],
        "quit": ["Ctrl+Q"],
        "undo": ["Ctrl+Z"],
        "redo": ["Ctrl+Shift+Z", "Ctrl+Y"],
        "cut": ["Ctrl+X"],
        "copy": ["Ctrl+C"],
        "paste": ["Ctrl+V"],
        "select_all": ["Ctrl+A"],
        "group": ["Ctrl+G"],
        "ungroup": ["Ctrl+Shift+G"],
        "fit": ["F"],
        "export_trace": ["Ctrl+Shift+E"],
        "run": ["F5"],
        "cancel_run": ["Esc"],
    }
    for name, keys in expected.items():
        got = [s.toString() for s in window.actions[name].shortcuts()]
        assert got == keys, f"{name}: {got}"
    # No key is bound twice (an ambiguous shortcut fires neither action).
    seen: dict[str, str] = {}
    for name, action in window.actions.by_name.items():
        for seq in action.shortcuts():
            assert seq.toString() not in seen, f"{seq.toString()} bound to {name} and {seen}"
            seen[seq.toString()] = name
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "&Run", "&Help"]


def test_edit_menu_drives_the_canvas(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    first = window.canvas.add_node("data.tensor", (0.0, 0.0))
    window.canvas.select_ids([first])
    window.canvas.viewer.setFocus()  # the user clicked into the canvas
    press(qtbot, window, "Ctrl+C")
    window.actions["paste"].trigger()
    assert len(window.document.graph.nodes) == 2
    press(qtbot, window, "Ctrl+A")
    assert sorted(window.canvas.selected_ids()) == sorted(window.document.graph.nodes)
    window.actions["delete"].trigger()
    assert not window.document.graph.nodes
    window.actions["undo"].trigger()
    assert len(window.document.graph.nodes) == 2
    zoom = window.canvas.graph.get_zoom()
    window.actions["zoom_in"].trigger()
    assert window.canvas.graph.get_zoom() > zoom


def test_diagnostics_list_problems_and_double_click_selects(
    qtbot: Any, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    holder = window.canvas.add_node("workload.def", (0.0, 0.0))
    # A loop over no axis: a diagnostic on the loop, inside the workload frame.
    loop = window.editor.apply(cmds.AddNode("loop.parallel", (0.0, 0.0), holder)).node.id
    window.refresh_diagnostics()
    items = [window.diagnostics_list.item(i) for i in range(window.diagnostics_list.count())]
    at_loop = [it for it in items if it.data(Qt.ItemDataRole.UserRole) == loop]
    assert at_loop, [it.text() for it in items]
    assert window.diagnostics_dock.windowTitle() == f"Diagnostics ({len(items)})"
    rect = window.diagnostics_list.visualItemRect(at_loop[0])
    qtbot.mouseClick(
        window.diagnostics_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )
    qtbot.mouseDClick(
        window.diagnostics_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
    )
    assert window.canvas.scope is None  # v2: nothing is entered, the frame is on the canvas
    assert window.canvas.selected_ids() == [loop]


def test_wrap_and_unwrap_from_the_edit_menu(
    qtbot: Any, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    holder = window.canvas.add_node("workload.def", (0.0, 0.0))
    call = window.editor.apply(cmds.AddNode("kernel.call", (40.0, 80.0), holder)).node.id
    window.canvas.select_ids([call])
    window.canvas.viewer.setFocus()
    press(qtbot, window, "Ctrl+G")  # inside a workload: a parallel loop around the call
    loop = window.document.node(call).parent
    assert loop != holder and window.document.node(loop).kind == "loop.parallel"
    assert window.document.node(loop).parent == holder
    window.canvas.select_ids([loop])
    press(qtbot, window, "Ctrl+Shift+G")
    assert loop not in window.document.graph.nodes
    assert window.document.node(call).parent == holder
    press(qtbot, window, "Ctrl+Z")
    assert window.document.node(call).parent == loop


def test_edit_axes_raises_properties_on_the_frames_axes(
    make_window: Callable[..., MainWindow],
) -> None:
    window = make_window()
    window.run_panel.stats_dock.raise_()  # another tab in front of Properties
    holder = window.canvas.add_node("workload.def", (0.0, 0.0))
    loop = window.editor.apply(cmds.AddNode("loop.parallel", (0.0, 0.0), holder)).node.id
    assert window.canvas.context_menus.axes_field(loop) == "axes"
    window.canvas.context_menus.edit_requested.emit(loop, "axes")
    assert window.properties.node_id == loop
    assert not window.properties_dock.visibleRegion().isEmpty()
    axes = window.properties.editors["axes"]
    assert axes.add_combo.hasFocus()  # type: ignore[attr-defined]


def test_sweep_opens_on_the_workloads_worker_count(
    make_window: Callable[..., MainWindow],
) -> None:
    window = make_window()
    tensor = window.canvas.add_node("data.tensor", (0.0, 0.0))
    kernel = window.canvas.add_node("kernel.def", (0.0, 0.0))
    build_scale_workload(window, tensor, kernel)
    (call,) = [n.id for n in window.document.graph.nodes.values() if n.kind == "kernel.call"]
    window.canvas.select_ids([call])  # a call has nothing to sweep: its workload's count is
    window.actions["sweep"].trigger()
    param = window.sweep.current_param
    assert param is not None and param.prop == "dispatch_n"
    assert window.document.node(param.node_id).kind == "workload.def"


def test_recent_files_newest_first_limited_and_pruned(
    settings: QSettings, tmp_path: Path, make_window: Callable[..., MainWindow]
) -> None:
    recent = RecentFiles(settings, limit=3)
    files = []
    for i in range(5):
        f = tmp_path / f"p{i}.pto.json"
        io.save(Document(name=f"p{i}"), f)
        files.append(f)
        recent.add(f)
    assert recent.paths() == [f.resolve() for f in reversed(files[2:])]
    recent.add(files[2])  # re-adding moves it first
    assert recent.paths()[0] == files[2].resolve()
    files[3].unlink()
    assert files[3].resolve() not in recent.paths()
    assert len(settings.value("files/recent")) == 2  # pruned from the settings too

    window = make_window()
    window.actions.rebuild_recent_menu()
    labels = [
        a.text() for a in window.actions.recent_menu.actions() if a.toolTip().endswith(".json")
    ]
    assert labels == ["&1 p2.pto.json", "&2 p4.pto.json"]
    opener = next(
        a for a in window.actions.recent_menu.actions() if a.toolTip() == str(files[4].resolve())
    )
    opener.trigger()
    assert window.path == files[4].resolve() and window.document.name == "p4"


def test_autosave_then_recovery_on_open(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    project = tmp_path / "r.pto.json"
    io.save(Document(name="r"), project)
    window = make_window(autosave_interval_s=0.01)
    assert window.open_path(project)
    node = window.canvas.add_node("data.tensor", (0.0, 0.0))
    autosave = io.autosave_path(project)
    time.sleep(0.02)
    window.autosave_tick()  # the timer's slot
    qtbot.waitUntil(autosave.exists)
    assert node in io.load(autosave).graph.nodes
    # in the data dir, not beside the project (a sample in a git checkout stays clean)
    assert autosave.parent == tmp_path / "autosave"
    assert [p.name for p in tmp_path.glob("r.pto.json*")] == ["r.pto.json"]
    os.utime(project, ns=(1, 1))  # the project file is older than its autosave

    other = make_window()
    dialogs: ScriptedDialogs = other.dialogs  # type: ignore[assignment]
    dialogs.recover.append(True)
    assert other.open_path(project)
    assert dialogs.asked == ["recover:r.pto.json"]
    assert node in other.document.graph.nodes and other.dirty  # recovered, not yet saved
    assert "*" in other.windowTitle()

    # Declining removes the stale autosave, so the question is not asked again.
    third = make_window()
    third.dialogs.recover.append(False)  # type: ignore[attr-defined]
    assert third.open_path(project)
    assert not third.document.graph.nodes and not autosave.exists()


def test_export_error_names_and_selects_the_node(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    holder = window.canvas.add_node("workload.def", (0.0, 0.0))
    window.canvas.set_property(holder, "target", "cpu_sim")
    call = window.editor.apply(cmds.AddNode("kernel.call", (0.0, 0.0), holder)).node.id
    assert window.export_python() is None  # the call names no kernel
    (title, text), *_ = window.dialogs.errors  # type: ignore[attr-defined]
    assert title == "Cannot export to Python" and call in text
    assert window.canvas.selected_ids() == [call]


@pytest.mark.slow
def test_import_python_runs_in_a_worker(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    script = tmp_path / "imported.py"
    shutil.copy(ROOT / "app" / "projects" / "samples" / "attention_varlen.py", script)
    with qtbot.waitSignal(window.import_finished, timeout=120_000) as blocker:
        assert window.import_python(script)
        assert not window.actions["import_python"].isEnabled()  # one import at a time
    assert blocker.args == [True], window.dialogs.errors  # type: ignore[attr-defined]
    kinds = {n.kind for n, _g, _o in window.document.walk()}
    assert {"data.tensor", "kernel.def", "workload.def", "kernel.call"} <= kinds
    assert window.path is None and window.dirty  # imported: not saved anywhere yet
    assert window.actions["import_python"].isEnabled()


def test_import_failure_is_reported(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    window.canvas.add_node("data.tensor", (0.0, 0.0))
    window.dialogs.unsaved.append(Choice.DISCARD)  # type: ignore[attr-defined]
    script = tmp_path / "broken.py"
    script.write_text("raise RuntimeError('no workload here')\n")
    with qtbot.waitSignal(window.import_finished, timeout=120_000) as blocker:
        window.import_python(script)
    assert blocker.args == [False]
    (title, text), *_ = window.dialogs.errors  # type: ignore[attr-defined]
    assert title == "Cannot import script" and str(script) in text
    assert len(window.document.graph.nodes) == 1  # the open document is untouched


# ------------------------------------------------------------------------------------------
# python -m app
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"DISPLAY": ":0"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, True),
    ],
)
def test_display_detection(env: dict[str, str], expected: bool) -> None:
    assert has_display(env) is expected


@pytest.mark.slow
def test_headless_runs_a_project_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make_window: Callable[..., MainWindow]
) -> None:
    from app.__main__ import main

    window = make_window()
    tensor = window.canvas.add_node("data.tensor", (0.0, 0.0))
    kernel = window.canvas.add_node("kernel.def", (0.0, 0.0))
    build_scale_workload(window, tensor, kernel)
    project = tmp_path / "scale.pto.json"
    assert window.save_as(project)
    assert main(["--headless", str(project)]) == 0
    out = capsys.readouterr().out
    assert "workload apply_all" in out and "scale" in out and "total_cycles" in out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_screenshot_of_the_real_window_under_xvfb(tmp_path: Path) -> None:
    out = ROOT / "artifacts" / "screenshot-main.png"
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # the user's saved layout stays out
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    run = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable,
         str(ROOT / "tests" / "gui" / "smoke_screenshot.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,  # the sample is built and run before the grab
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == str(out)
    assert out.stat().st_size > 10_000
    print(out)


def test_reset_layout_puts_the_docks_back(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    panel = window.run_panel
    assert panel is not None
    tabbed = set(window.tabifiedDockWidgets(window.properties_dock))
    assert {panel.stats_dock, panel.sources_dock} <= tabbed
    # The user drags Stats to the bottom area and hides the palette...
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel.stats_dock)
    window.palette_dock.hide()
    assert panel.stats_dock not in window.tabifiedDockWidgets(window.properties_dock)
    # ... then View > Reset Layout brings back the built-in arrangement.
    window.actions["reset_layout"].trigger()
    assert {panel.stats_dock, panel.sources_dock} <= set(
        window.tabifiedDockWidgets(window.properties_dock)
    )
    assert window.palette_dock.isVisible()


def _click_frame_header(qtbot: Any, window: MainWindow, frame_id: str) -> None:
    """A real left click on the frame's header strip, where a click selects the frame."""
    canvas = window.canvas
    qtbot.waitUntil(lambda: canvas.view_node(frame_id) is not None, timeout=2000)
    rect = canvas.view_node(frame_id).view.sceneBoundingRect()
    canvas.viewer.centerOn(rect.center())
    QApplication.processEvents()
    at = canvas.viewer.mapFromScene(QPointF(rect.left() + rect.width() * 0.5, rect.top() + 8))
    qtbot.mouseClick(canvas.viewer.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_first_run_layout_shows_the_schedule_sheet_without_scrolling_sideways(
    qtbot: Any, settings: QSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new user at 1400x900 clicks the csp_pipeline sample's connect frame: the Properties
    dock is wide enough for its schedule sheet (no horizontal scrollbar, every combo's arrow in
    sight) and the canvas keeps most of the width."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    sample = ROOT / "app" / "projects" / "csp_pipeline.pto.json"
    window = shown_window(qtbot, settings, size=(1400, 900), document=io.load(sample), path=sample)
    (frame,) = [n.id for n in window.document.graph.nodes.values() if n.kind == "csp.connect"]
    _click_frame_header(qtbot, window, frame)
    qtbot.waitUntil(lambda: window.canvas.selected_ids() == [frame], timeout=2000)
    props = window.properties
    qtbot.wait(100)  # the rebuilt sheet's layout and the scroll ranges settle (posted events)
    combos = [c for c in props.widget().findChildren(QComboBox) if c.isVisibleTo(props)]
    assert any(c.currentText() == "cpu_sim" for c in combos), "no schedule sheet (target combo)"
    assert props.horizontalScrollBar().maximum() == 0
    assert not props.horizontalScrollBar().isVisible()
    viewport = props.viewport()
    for combo in combos:
        right = combo.mapTo(viewport, QPoint(combo.width() - 1, 0)).x()
        assert right < viewport.width(), f"{combo.objectName()} ends past the dock's edge"
    assert window.canvas.widget.width() >= 700

    # The kernel "produce": its params table shows the kind column whole, and the Add / Remove
    # / Up / Down row fits the dock too.
    (kernel,) = [n.id for n in window.document.graph.nodes.values() if n.name == "produce" and n.kind == "kernel.def"]  # fmt: skip
    _click_frame_header(qtbot, window, kernel)
    qtbot.waitUntil(lambda: window.canvas.selected_ids() == [kernel], timeout=2000)
    qtbot.wait(100)
    (params,) = [w for w in props.widget().findChildren(ParamListEditor) if w.isVisibleTo(props)]
    table = params.table
    kind = PARAM_COLUMNS.index("kind")
    assert table.columnViewportPosition(kind) + table.columnWidth(kind) <= table.viewport().width()
    assert props.horizontalScrollBar().maximum() == 0


def test_a_layout_saved_before_the_wider_properties_dock_is_not_restored(
    qtbot: Any, settings: QSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layout saved under an older layout version (the narrow 360 px dock) gives way to the
    default once; a layout saved by this version is restored as the user left it."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    first = shown_window(qtbot, settings, size=(1400, 900))
    default = first.properties_dock.width()
    first.resizeDocks([first.properties_dock], [300], Qt.Orientation.Horizontal)
    QApplication.processEvents()
    narrow = first.properties_dock.width()
    assert narrow < default
    settings.setValue("window/state", first.saveState())  # version 0: an older Studio's layout
    older = shown_window(qtbot, settings, size=(1400, 900))
    assert older.properties_dock.width() == default
    first.close()  # saves the narrow layout under the current version
    qtbot.waitUntil(lambda: not first.isVisible())
    again = shown_window(qtbot, settings, size=(1400, 900))
    assert again.properties_dock.width() == narrow
