"""The Studio's menus, actions and shortcuts, and the Open Recent list.

Actions only *name* what the user can do and route it to the handlers the window hands in
(``MainWindow.action_handlers``); the window owns the behaviour (files, prompts, the document).
This module knows the window only as a ``QMainWindow`` to put menus, a toolbar and shortcuts
on. Keeping the table here means every shortcut a desktop user expects is declared once,
testable without clicking through menus (``StudioActions.by_name``), and the window module
stays about documents, not about menus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar, QWidget

RECENT_KEY = "files/recent"
RECENT_LIMIT = 10


class RecentFiles:
    """Most-recently-used project paths kept in ``QSettings`` (newest first, at most ``limit``).

    Paths that no longer exist are pruned whenever the list is read, so the menu never offers a
    file that cannot be opened.
    """

    def __init__(self, settings: QSettings, key: str = RECENT_KEY, limit: int = RECENT_LIMIT):
        self._settings = settings
        self._key = key
        self.limit = limit

    def _stored(self) -> list[str]:
        value = self._settings.value(self._key, [])
        if value is None:
            return []
        if isinstance(value, str):  # QSettings returns a lone string for a 1-element list
            return [value] if value else []
        return [str(v) for v in value]

    def _store(self, paths: Iterable[str]) -> None:
        self._settings.setValue(self._key, list(paths))
        self._settings.sync()

    def paths(self) -> list[Path]:
        """Existing recent files, newest first; missing ones are removed from the settings."""
        stored = self._stored()
        alive = [p for p in stored if Path(p).is_file()][: self.limit]
        if alive != stored:
            self._store(alive)
        return [Path(p) for p in alive]

    def add(self, path: Path) -> None:
        """Put ``path`` first (moving it if already listed), dropping the oldest past the limit."""
        key = str(Path(path).resolve())
        rest = [p for p in self._stored() if p != key]
        self._store([key, *rest][: self.limit])

    def clear(self) -> None:
        self._store([])


@dataclass(frozen=True)
class ActionSpec:
    """One menu entry: object name, label, shortcuts (first is primary), status tip; a
    ``checkable`` entry is an on/off switch (its handler reads ``isChecked()``)."""

    name: str
    text: str
    shortcuts: tuple[QKeySequence | QKeySequence.StandardKey | str, ...]
    tip: str
    checkable: bool = False


def _seq(value: QKeySequence | QKeySequence.StandardKey | str) -> QKeySequence:
    return value if isinstance(value, QKeySequence) else QKeySequence(value)


FILE_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new", "&New", ("Ctrl+N",), "Start an empty project"),
    ActionSpec("open", "&Open…", ("Ctrl+O",), "Open a project file (.pto.json)"),
    ActionSpec("save", "&Save", ("Ctrl+S",), "Save the project"),
    ActionSpec("save_as", "Save &As…", ("Ctrl+Shift+S",), "Save the project under a new name"),
    ActionSpec("export_python", "&Export to Python…", ("Ctrl+E",), "Write a runnable DSL script"),
    ActionSpec(
        "export_trace",
        "Export &Trace…",
        ("Ctrl+Shift+E",),
        "Write the shown run's trace as Chrome trace-event JSON (Perfetto, chrome://tracing)",
    ),
    ActionSpec("import_python", "&Import Python…", ("Ctrl+I",), "Run a DSL script, open its graph"),
    ActionSpec("quit", "&Quit", ("Ctrl+Q",), "Close the Studio"),
)
EDIT_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("undo", "&Undo", ("Ctrl+Z",), "Undo the last edit"),
    ActionSpec("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo the last undone edit"),
    ActionSpec("cut", "Cu&t", ("Ctrl+X",), "Cut the selected nodes"),
    ActionSpec("copy", "&Copy", ("Ctrl+C",), "Copy the selected nodes"),
    ActionSpec("paste", "&Paste", ("Ctrl+V",), "Paste nodes at the cursor"),
    ActionSpec("duplicate", "D&uplicate", ("Ctrl+D",), "Duplicate the selected nodes"),
    ActionSpec("delete", "&Delete", ("Del", "Backspace"), "Delete the selected nodes"),
    ActionSpec("select_all", "Select &All", ("Ctrl+A",), "Select every node on the canvas"),
    ActionSpec(
        "group",
        "&Wrap in Frame",
        ("Ctrl+G",),
        "Put the selection in a frame: a loop inside a workload, a workload on the root canvas",
    ),
    ActionSpec(
        "ungroup",
        "U&nwrap",
        ("Ctrl+Shift+G",),
        "Lift the selected frame's contents into the frame around it and remove the frame",
    ),
    ActionSpec("backdrop", "Add Co&mment", ("B",), "Put a comment backdrop behind the selection"),
    ActionSpec(
        "arrange",
        "A&rrange",
        ("Ctrl+Shift+A",),
        "Lay the canvas out: axes and kernels above, inputs left, frames middle, outputs right",
    ),
)
VIEW_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("fit", "&Fit to View", ("F",), "Frame every node of the canvas"),
    ActionSpec("zoom_in", "Zoom &In", ("Ctrl++", "Ctrl+="), "Zoom in"),
    ActionSpec("zoom_out", "Zoom &Out", ("Ctrl+-",), "Zoom out"),
    ActionSpec(
        "leave_scope",
        "&Back from Kernel Body",
        ("Alt+Up",),
        "Close the kernel body shown and go back to the workloads",
    ),
    ActionSpec(
        "find", "F&ind Node…", ("Ctrl+F",), "Search every node (kernel bodies too) by name or title"
    ),
    ActionSpec("find_next", "Find &Next", ("F3",), "Go to the next node the search matches"),
    ActionSpec(
        "find_previous", "Find Pre&vious", ("Shift+F3",), "Go to the previous matching node"
    ),
    ActionSpec(
        "minimap",
        "&Minimap",
        (),
        "Show the overview of the shown canvas in its corner",
        checkable=True,
    ),
    ActionSpec(
        "critical_path",
        "&Critical Path",
        ("Ctrl+Shift+P",),
        "Outline the last run's critical path on the timeline, join its slices with arrows and "
        "colour its nodes and wires on the canvas",
        checkable=True,
    ),
    ActionSpec("reset_layout", "&Reset Layout", (), "Put every dock back where it started"),
)
RUN_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("run", "&Run", ("F5",), "Export the project and run it in a worker process"),
    ActionSpec(
        "emit_verify",
        "Emit and &Verify",
        ("Ctrl+F5",),
        "Emit the ascend_npu kernels, run them on this computer against PTO-ISA (CPU "
        "simulation) and compare them with cpu_sim, per kernel",
    ),
    ActionSpec("cancel_run", "&Cancel Run", ("Esc",), "Stop the running program"),
    ActionSpec("compare_runs", "C&ompare Runs", ("Ctrl+Shift+R",), "Compare two kept runs"),
    ActionSpec(
        "sweep",
        "S&weep…",
        (),
        "Run the project once per value of one property and plot cycles and utilisation",
    ),
    ActionSpec(
        "pto_isa_root",
        "PTO-ISA R&oot…",
        (),
        "The PTO-ISA checkout runs build against: Path A kernels, @ptoisa_kernel, the A2/A3 "
        "cost table, Emit and Verify (else $PTO_ISA_ROOT)",
    ),
)
HELP_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "shortcuts",
        "&Keyboard Shortcuts",
        ("Ctrl+/",),
        "List every keyboard shortcut of the Studio",
    ),
    ActionSpec("start_page", "&Start Page", (), "Open a sample, a template or a Python script"),
    ActionSpec("about", "&About PTO-WSP Studio", (), "Versions of the Studio and its libraries"),
)
RUN_ICONS = {
    "run": QStyle.StandardPixmap.SP_MediaPlay,
    "emit_verify": QStyle.StandardPixmap.SP_DialogApplyButton,
    "cancel_run": QStyle.StandardPixmap.SP_MediaStop,
    "compare_runs": QStyle.StandardPixmap.SP_FileDialogDetailedView,
    "sweep": QStyle.StandardPixmap.SP_BrowserReload,
}


# Actions whose keys also mean something while typing (single letters, Del, the clipboard, select
# all): their shortcuts belong to the canvas (see ``StudioActions.scope_to_canvas``).
# Find belongs there too: the Sources view binds the same keys to search its code.
CANVAS_ACTIONS = (
    "cut",
    "copy",
    "paste",
    "delete",
    "select_all",
    "backdrop",
    "fit",
    "find",
    "find_next",
    "find_previous",
)


class StudioActions:
    """Every QAction of the main window, its menus, and the Open Recent submenu.

    ``handlers`` maps an action name to the window method it triggers; each action is added to
    ``window`` too, so its shortcut works whichever dock has focus. ``open_recent`` opens a
    path picked in Open Recent.
    """

    def __init__(
        self,
        window: QMainWindow,
        handlers: Mapping[str, Callable[[], object]],
        open_recent: Callable[[Path], object],
        recent: RecentFiles,
    ):
        self.window = window
        self.recent = recent
        self._open_recent = open_recent
        self.by_name: dict[str, QAction] = {}
        bar = window.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.edit_menu = bar.addMenu("&Edit")
        self.view_menu = bar.addMenu("&View")
        self.run_menu = bar.addMenu("&Run")
        self.help_menu = bar.addMenu("&Help")
        self.run_toolbar = QToolBar("Run", window)
        self.run_toolbar.setObjectName("runToolBar")
        self.run_toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        window.addToolBar(self.run_toolbar)
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.aboutToShow.connect(self.rebuild_recent_menu)

        for spec in FILE_ACTIONS:
            self._add(self.file_menu, spec, handlers[spec.name])
            if spec.name == "open":
                self.file_menu.addMenu(self.recent_menu)
            if spec.name in ("save_as", "export_trace", "import_python"):
                self.file_menu.addSeparator()
        for spec in EDIT_ACTIONS:
            self._add(self.edit_menu, spec, handlers[spec.name])
            if spec.name in ("redo", "delete", "select_all", "ungroup"):
                self.edit_menu.addSeparator()
        for spec in VIEW_ACTIONS:
            self._add(self.view_menu, spec, handlers[spec.name])
            if spec.name in ("leave_scope", "find_previous"):
                self.view_menu.addSeparator()
        self.view_menu.addSeparator()
        self.docks_menu = self.view_menu.addMenu("&Panels")
        style = window.style()
        for spec in RUN_ACTIONS:
            if spec.name == "pto_isa_root":  # a setting: in the menu, not on the toolbar
                self.run_menu.addSeparator()
                self._add(self.run_menu, spec, handlers[spec.name])
                continue
            action = self._add(self.run_menu, spec, handlers[spec.name])
            action.setIcon(style.standardIcon(RUN_ICONS[spec.name]))
            self.run_toolbar.addAction(action)
            if spec.name == "cancel_run":
                self.run_menu.addSeparator()
        for spec in HELP_ACTIONS:
            self._add(self.help_menu, spec, handlers[spec.name])
        self.set_run_state(running=False, has_trace=False)
        self.rebuild_recent_menu()

    def _add(self, menu: QMenu, spec: ActionSpec, handler: Callable[[], object]) -> QAction:
        action = QAction(spec.text, self.window)
        action.setObjectName(f"action_{spec.name}")
        action.setShortcuts([_seq(s) for s in spec.shortcuts])
        action.setStatusTip(spec.tip)
        action.setCheckable(spec.checkable)
        action.triggered.connect(lambda _checked=False: handler())
        menu.addAction(action)
        self.window.addAction(action)
        self.by_name[spec.name] = action
        return action

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]

    def scope_to_canvas(self, canvas_widget: QWidget) -> None:
        """Make the graph-editing keys act only while the canvas has focus.

        Single keys (B, F, Del) and Ctrl+A/C/V/X would otherwise fire from the Properties
        tables and combo boxes, where the user is typing. The menus still trigger them.
        """
        for name in CANVAS_ACTIONS:
            action = self.by_name[name]
            self.window.removeAction(action)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            canvas_widget.addAction(action)

    def rebuild_recent_menu(self) -> None:
        """Refill Open Recent from the settings (missing files are pruned by ``paths``)."""
        self.recent_menu.clear()
        paths = self.recent.paths()
        for index, path in enumerate(paths, start=1):
            label = f"&{index % 10} {path.name}" if index <= 10 else path.name
            action = self.recent_menu.addAction(label)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self._open_recent(p))
        if not paths:
            empty = self.recent_menu.addAction("(no recent projects)")
            empty.setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear Recent")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self._clear_recent)

    def _clear_recent(self) -> None:
        self.recent.clear()
        self.rebuild_recent_menu()

    def set_history_state(self, can_undo: bool, can_redo: bool) -> None:
        self.by_name["undo"].setEnabled(can_undo)
        self.by_name["redo"].setEnabled(can_redo)

    def set_run_state(self, running: bool, has_trace: bool) -> None:
        """Run while idle, Cancel (and Esc) only while a run is going, Export Trace with a run."""
        self.by_name["run"].setEnabled(not running)
        self.by_name["emit_verify"].setEnabled(not running)
        self.by_name["cancel_run"].setEnabled(running)
        self.by_name["export_trace"].setEnabled(has_trace)
