"""The Studio main window: which document is open, and the commands of its menus.

The window owns exactly one thing besides widgets: *which* document is open (its
``DocumentEditor`` and path). Everything about a document's content lives in ``app.model``;
the canvas and panels mirror it. Files go through ``app.model.io`` (load never executes code,
saves are atomic), scripts through ``app.model.export`` — the one export path Run, the CLI and
the tests share.

What is not about the open document lives beside it, one job per module: the questions put to
the user (``app.dialogs``: tests script the answers), the menus and shortcuts
(``app.actions``), the dock arrangement (``app.dock_layout``), the Diagnostics list
(``app.diagnostics_panel``), restricted mode's state (``app.document_trust``), Import Python's
worker thread (``app.import_job``), the runs (``app.run_panel``) and the application object
(``app.application``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .editor.compat import load_nodegraphqt, reset_view

load_nodegraphqt()  # binding + NodeGraphQt patches before any editor widget exists

from PySide6.QtCore import QFileSystemWatcher, QPointF, QSettings, Qt, QTimer, Signal  # noqa: E402
from PySide6.QtGui import QAction, QCloseEvent, QResizeEvent, QShowEvent  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from pto_wsp.fileio import atomic_write  # noqa: E402

from . import APP_NAME, ORGANIZATION, ptoisa_setting  # noqa: E402
from .actions import RecentFiles, StudioActions  # noqa: E402
from .diagnostics_panel import DiagnosticsPanel, node_label  # noqa: E402
from .dialogs import Choice, Dialogs  # noqa: E402
from .dock_layout import DockLayout, hide_stale_tab_bars  # noqa: E402
from .document_trust import DocumentTrust  # noqa: E402
from .editor.canvas import GraphCanvas  # noqa: E402
from .editor.palette import Palette, PaletteDrop, container_at, create_at  # noqa: E402
from .editor.properties import PropertiesPanel  # noqa: E402
from .import_job import IMPORT_TIMEOUT_S, ImportJob  # noqa: E402
from .model import doc_files, frames, io, registry, trust  # noqa: E402
from .model.commands import DocumentEditor  # noqa: E402
from .model.document import Diagnostic, Document  # noqa: E402
from .model.events import Signal as ModelSignal  # noqa: E402
from .model.export import ExportError, export_script  # noqa: E402
from .run_panel import RunPanel  # noqa: E402
from .runner.job import RunDiagnostic  # noqa: E402
from .runner.qt_sweep import QtSweepRunner  # noqa: E402
from .runner.runs import summarize_schedule  # noqa: E402
from .save_folders import remember_save_dir, save_dir_for  # noqa: E402
from .shortcuts_dialog import ShortcutsDialog, about_box  # noqa: E402
from .start_page import StartPage  # noqa: E402
from .trust_bar import TrustBar  # noqa: E402
from .views.sweep import SweepPanel  # noqa: E402

PROJECT_FILTER = "PTO-WSP projects (*.pto.json);;JSON files (*.json);;All files (*)"
SCRIPT_FILTER = "Python scripts (*.py);;All files (*)"
TRACE_FILTER = "Chrome trace-event JSON (*.json);;All files (*)"
PROJECT_SUFFIX = ".pto.json"
AUTOSAVE_INTERVAL_S = 30.0
AUTOSAVE_TICK_MS = 1000
DIAGNOSTICS_DELAY_MS = 200
ZOOM_STEP = 0.1
SWEEP_GRACE_S = 2.0  # a cancelled sweep variant gets SIGTERM, then SIGKILL after this long


def _connect_all(events: object, slot: Callable[..., Any]) -> list[Callable[[], None]]:
    """Connect ``slot`` to every model ``Signal`` of ``events``; return the disconnectors."""
    undo: list[Callable[[], None]] = []
    for signal in vars(events).values():
        if isinstance(signal, ModelSignal):
            signal.connect(slot)
            undo.append(lambda s=signal: s.disconnect(slot))
    return undo


def project_stem(path: Path) -> str:
    """``attention.pto.json`` -> ``attention``."""
    name = path.name
    for suffix in (PROJECT_SUFFIX, ".json", ".py"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


class MainWindow(QMainWindow):
    """The Studio window: one open document at a time.

    Public state others rely on: ``editor`` (the open ``DocumentEditor``), ``document``,
    ``path`` (None while untitled), ``canvas``, ``palette``, ``properties``,
    ``diagnostics_list``, ``actions`` (``StudioActions``; ``actions["save"]`` etc.),
    ``recent`` (``RecentFiles``), ``dialogs``, ``run_panel`` (``RunPanel``: runner, history,
    timeline/stats/sources/log/compare docks), ``sweep`` (``SweepPanel``) in ``sweep_dock``,
    ``trust_bar`` (``TrustBar``) and ``trusted`` (restricted mode, DESIGN §1 "Trust").
    """

    document_changed = Signal()  # a different document was opened (New/Open/Import/recover)
    import_finished = Signal(bool)  # an Import Python job ended (True: a document was opened)

    def __init__(
        self,
        document: Document | None = None,
        path: Path | None = None,
        *,
        settings: QSettings | None = None,
        dialogs: Dialogs | None = None,
        autosave_interval_s: float = AUTOSAVE_INTERVAL_S,
        trust_store: trust.TrustStore | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.settings = settings or QSettings(ORGANIZATION, "Studio")
        self.dialogs = dialogs or Dialogs(self)
        self.doc_trust = DocumentTrust(trust_store)
        self.autosave_interval_s = autosave_interval_s
        self.recent = RecentFiles(self.settings)
        self.path: Path | None = None
        self.editor: DocumentEditor | None = None
        self.autosaver: io.Autosaver | None = None
        self.canvas: GraphCanvas | None = None
        self.properties: PropertiesPanel | None = None
        self._import_job: ImportJob | None = None
        self.run_panel: RunPanel | None = None
        self.sweep: SweepPanel | None = None
        self._unsaved_origin = False
        self._shown_once = False
        self.start_page: StartPage | None = None

        self.setObjectName("StudioMainWindow")
        self.resize(1400, 900)
        self._build_docks()
        self.actions = StudioActions(self, self.action_handlers(), self.open_recent, self.recent)
        self._build_status_bar()
        for dock in (self.palette_dock, self.properties_dock, self.diagnostics_dock):
            self.actions.docks_menu.addAction(dock.toggleViewAction())

        self._diagnostics_timer = QTimer(self)
        self._diagnostics_timer.setSingleShot(True)
        self._diagnostics_timer.setInterval(DIAGNOSTICS_DELAY_MS)
        self._diagnostics_timer.timeout.connect(self.refresh_diagnostics)
        self._kernels_timer = QTimer(self)  # the palette's Kernels section follows the model
        self._kernels_timer.setSingleShot(True)
        self._kernels_timer.setInterval(0)
        self._kernels_timer.timeout.connect(self.palette.refresh_kernels)
        self._title_timer = QTimer(self)
        self._title_timer.setSingleShot(True)
        self._title_timer.setInterval(0)
        self._title_timer.timeout.connect(self.refresh_title)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_TICK_MS)
        self.autosave_timer.timeout.connect(self.autosave_tick)

        self._build_editor()
        self._build_run_panel()
        self._build_sweep()
        self._set_document(document or Document(), path, assess=path is not None)
        self.autosave_timer.start()
        assert self.run_panel is not None
        self.dock_layout = DockLayout(
            self,
            self.settings,
            palette=self.palette_dock,
            properties=self.properties_dock,
            timeline=self.run_panel.timeline_dock,
            diagnostics=self.diagnostics_dock,
        )
        self.dock_layout.restore()
        self._unbind_canvas_duplicates()
        self.actions.scope_to_canvas(self.canvas.widget)
        self.actions["minimap"].setChecked(True)
        self.canvas.context_menus.node_hooks.append(self._timeline_menu_entry)
        self.canvas.viewer.setFocus()  # keys act on the graph until the user clicks elsewhere

    # ------------------------------------------------------------------------------------------
    # layout
    # ------------------------------------------------------------------------------------------
    def _build_docks(self) -> None:
        self.palette = Palette(self)
        self.palette_dock = self._dock("Palette", "paletteDock", self.palette)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette_dock)
        self.properties_dock = self._dock("Properties", "propertiesDock", QWidget())
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.properties_dock)
        self.diagnostics_dock = self._dock("Diagnostics", "diagnosticsDock", QWidget())
        self.diagnostics_panel = DiagnosticsPanel(self.diagnostics_dock, self)
        self.diagnostics_panel.node_activated.connect(self._on_diagnostic_activated)
        self.diagnostics_list = self.diagnostics_panel.list
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.diagnostics_dock)

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    def _build_status_bar(self) -> None:
        self.path_label = QLabel()
        self.counts_label = QLabel()
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.path_label)

    def reset_layout(self) -> None:
        """View > Reset Layout: the built-in dock arrangement and sizes (tabs included)."""
        self.dock_layout.reset()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        hide_stale_tab_bars(self)  # a bar orphaned by a layout restore stays where it was

    # ------------------------------------------------------------------------------------------
    # the open document
    # ------------------------------------------------------------------------------------------
    @property
    def document(self) -> Document:
        assert self.editor is not None
        return self.editor.doc

    @property
    def dirty(self) -> bool:
        """Unsaved changes: edits since the last save, or a document no file holds yet."""
        return self.editor is not None and (self.editor.dirty or self._unsaved_origin)

    def display_name(self) -> str:
        if self.path is not None:
            return self.path.name
        return self.document.name or "untitled"

    def _build_editor(self) -> None:
        """The window's one editor, canvas, properties panel and autosaver.

        They live as long as the window: opening another document resets the editor
        (``DocumentEditor.reset`` -> ``graph_reset``), which the canvas and panel follow.
        """
        self.editor = DocumentEditor(Document())
        # The window owns every shortcut (menus); canvas-level duplicates would be ambiguous.
        self.canvas = GraphCanvas(self.editor, self, shortcuts=False)
        self.canvas.message.connect(self.show_message)
        self.canvas.selection_changed.connect(self._on_selection_changed)
        self.trust_bar = TrustBar()
        self.trust_bar.trust_requested.connect(self.trust_and_run)
        # The C++ files the document names: an edit outside the Studio re-checks their trust.
        self.code_file_watcher = QFileSystemWatcher(self)
        self.code_file_watcher.fileChanged.connect(lambda _path: self._refresh_trust_bar())
        central = QWidget(self)
        central.setObjectName("centralArea")
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.trust_bar)  # restricted mode: above the canvas
        column.addWidget(self.canvas.widget, 1)
        self.setCentralWidget(central)
        self.properties = PropertiesPanel(self.canvas, self)
        self.properties_dock.setWidget(self.properties)
        self.palette.node_activated.connect(self._on_palette_activated)
        self.palette.set_document(lambda: self.document)
        self.palette_drop = PaletteDrop(self.canvas)  # drops land inside the frame under them
        self.canvas.context_menus.edit_requested.connect(self.edit_property)
        _connect_all(self.editor.events, self._on_model_event)
        self.autosaver = io.Autosaver(self.editor, None, self.autosave_interval_s)

    def _build_run_panel(self) -> None:
        """Run/Cancel, the run views and their docks: bottom Timeline (Compare and Log as tabs)
        beside Diagnostics (with the selected slice's Details as its tab); Stats and Sources as
        tabs of Properties on the right."""
        assert self.canvas is not None
        panel = RunPanel(self, self.canvas, lambda: self.document, run_env=self._run_environment)
        self.run_panel = panel
        panel.attach_critical_path_action(self.actions["critical_path"])
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, panel.timeline_dock)
        self.splitDockWidget(panel.timeline_dock, self.diagnostics_dock, Qt.Orientation.Horizontal)
        self.tabifyDockWidget(panel.timeline_dock, panel.compare_dock)
        self.tabifyDockWidget(panel.timeline_dock, panel.log_dock)
        self.tabifyDockWidget(self.properties_dock, panel.stats_dock)
        self.tabifyDockWidget(self.properties_dock, panel.sources_dock)
        self.tabifyDockWidget(self.diagnostics_dock, panel.details_dock)
        self.tabifyDockWidget(panel.timeline_dock, panel.verify_dock)
        panel.timeline_dock.raise_()
        self.properties_dock.raise_()
        self.diagnostics_dock.raise_()  # Details comes forward when a slice is selected
        for dock in panel.docks:
            self.actions.docks_menu.addAction(dock.toggleViewAction())
        panel.diagnostics_changed.connect(self.refresh_diagnostics)
        assert self.editor is not None
        events = self.editor.events
        # What the program is (not where its nodes sit: moves and backdrops do not change it).
        for signal in (
            events.node_added,
            events.node_removed,
            events.edge_added,
            events.edge_removed,
            events.property_changed,
            events.parent_changed,
            events.order_changed,
        ):
            signal.connect(panel.document_edited)
        panel.run_started.connect(self._update_run_actions)
        panel.run_ended.connect(self._on_run_ended)
        self._update_run_actions()

    def _unbind_canvas_duplicates(self) -> None:
        """Remove our keys from actions inside the canvas (e.g. NodeGraphQt's own Undo/Redo).

        Two actions on one key are ambiguous and Qt fires neither; the menus' actions drive the
        model's history, NodeGraphQt's undo stack is unused (``app.editor.canvas``).
        """
        assert self.canvas is not None
        ours = {seq.toString() for a in self.actions.by_name.values() for seq in a.shortcuts()}
        for action in self.canvas.widget.findChildren(QAction):
            keep = [s for s in action.shortcuts() if s.toString() not in ours]
            if len(keep) != len(action.shortcuts()):
                action.setShortcuts(keep)

    def _set_document(
        self, doc: Document, path: Path | None, *, unsaved: bool = False, assess: bool = False
    ) -> None:
        """Make ``doc`` the open document (history cleared).

        ``unsaved``: the document differs from any file (recovered autosave, imported script),
        so closing it must prompt although no edit was made yet. ``assess``: the document came
        from a file (opened, recovered), so the trust rule decides whether it may run without
        asking; otherwise it was made here (New, an imported script the user ran) and is trusted.
        """
        assert self.editor is not None and self.canvas is not None
        assert self.autosaver is not None
        self.path = Path(path).resolve() if path is not None else None
        self._unsaved_origin = unsaved
        doc.folder = self.path.parent if self.path is not None else None  # also when recovered
        self.doc_trust.opened(doc, path, from_file=assess)
        self.editor.reset(doc)
        self.autosaver.path = self.path
        self.canvas.enter_scope(None)
        if self.run_panel is not None:
            self.run_panel.document_replaced()
        if self.sweep is not None:
            self.sweep.document_replaced()
        self.canvas.fit_view()
        self.refresh_title()
        self.refresh_diagnostics()
        self.document_changed.emit()

    # ------------------------------------------------------------------------------------------
    # trust (restricted mode)
    # ------------------------------------------------------------------------------------------
    @property
    def trusted(self) -> bool:
        """The open document may run without asking (``DocumentTrust.trusted``)."""
        return self.doc_trust.trusted(self.document)

    @property
    def restricted(self) -> bool:
        """Restricted mode: code-bearing content (in the document or in a C++ file it names)
        that the user has not trusted. A named file that cannot be read is not restricted mode
        but a problem: the run says so (``ensure_trusted``)."""
        state = self.doc_trust.state(self.document)
        return not state.trusted and state.problem is None

    def _grant_trust(self) -> bool:
        """The user consented: trust the document as it is now (with the C++ files it names)
        and remember the content as opened. False (the error shown) when a named file cannot
        be read."""
        try:
            note = self.doc_trust.grant(self.document)
        except trust.NamedFileError as err:
            self._refuse_run(str(err))
            return False
        if note:
            self.show_message(note, 0)
        self.trust_bar.hide()
        return True

    def _refuse_run(self, problem: str) -> None:
        self.dialogs.error("Cannot run", problem)
        self.show_message(f"Not run: {problem}", 0)

    def ensure_trusted(self) -> bool:
        """Before anything runs the document: True if trusted, else ask once (and remember).
        A C++ file it names that cannot be read refuses the run with the message, unasked."""
        state = self.doc_trust.state(self.document)
        if state.trusted:
            return True
        if state.problem is not None:
            self._refuse_run(state.problem)
            return False
        note = state.reason if state.files else ""
        if not self.dialogs.ask_trust(trust.code_carriers(self.document), note):
            self.show_message("Not run: the project stays in restricted mode")
            return False
        return self._grant_trust()

    def trust_and_run(self) -> bool:
        """The bar's "Trust and run": the click is the consent."""
        return self._grant_trust() and self.run()

    def auto_run(self) -> bool:
        """Run on open (``python -m app``): a trusted document with a Compile node only; a
        restricted one shows the bar and waits for the user."""
        runnable = any(
            n.kind in registry.PROGRAM_KINDS and n.props.get("target")
            for n in self.document.graph.nodes.values()
        )
        return runnable and self.trusted and self.run()

    def _refresh_trust_bar(self) -> None:
        state = self.doc_trust.state(self.document)
        if not state.trusted and state.problem is None:
            note = state.reason if state.files else ""
            self.trust_bar.show_for(trust.code_carriers(self.document), note)
        else:
            self.trust_bar.hide()
        self._watch_code_files()

    def _watch_code_files(self) -> None:
        """Watch exactly the C++ files the document names (an editor that saves by replacing
        a file ends its watch: the refresh after the change watches the new file)."""
        try:
            wanted = {os.fspath(f.path) for f in doc_files.named_files(self.document)}
        except doc_files.NamedFileError:
            wanted = set()
        watched = set(self.code_file_watcher.files())
        if watched - wanted:
            self.code_file_watcher.removePaths(sorted(watched - wanted))
        missing = sorted(p for p in wanted - watched if os.path.isfile(p))
        if missing:
            self.code_file_watcher.addPaths(missing)

    def _on_model_event(self, *_args: Any) -> None:
        # Cheap on purpose: moving 1000 nodes emits 1000 events; the work runs once, later.
        # Undo/Redo enablement is immediate: a disabled action ignores ``trigger()``.
        assert self.editor is not None
        self.actions.set_history_state(self.editor.can_undo(), self.editor.can_redo())
        self._title_timer.start()
        self._diagnostics_timer.start()
        self._kernels_timer.start()

    def refresh_title(self) -> None:
        """``name*`` while there are unsaved changes; undo/redo enabled per the history."""
        star = "*" if self.dirty else ""
        self.setWindowTitle(f"{self.display_name()}{star} — {APP_NAME}")
        assert self.editor is not None
        self.actions.set_history_state(self.editor.can_undo(), self.editor.can_redo())
        self.path_label.setText(str(self.path) if self.path else "not saved yet")
        count = sum(1 for _ in self.document.walk())
        self.counts_label.setText(f"{count} node{'s' if count != 1 else ''}")

    def show_message(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ------------------------------------------------------------------------------------------
    # diagnostics
    # ------------------------------------------------------------------------------------------
    def refresh_diagnostics(self) -> None:
        """Validate the document; list its problems, its warnings and the last run's errors and
        warnings (``DiagnosticsPanel``), and badge the nodes at fault (errors and warnings
        apart). Run diagnostics stay until the document changes (the run panel drops them on
        the first edit after the run), the next run or another document; validation follows
        every edit."""
        errors, warnings = self.diagnostics_panel.refresh(self.document, self.run_diagnostics)
        assert self.canvas is not None
        self.canvas.set_diagnostics(errors, warnings)
        self._refresh_trust_bar()  # edits may add or remove the code that restricts the document

    @property
    def run_diagnostics(self) -> list[RunDiagnostic]:
        """The last run's errors and warnings (cancellation is not a problem)."""
        return list(self.run_panel.diagnostics) if self.run_panel is not None else []

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self.diagnostics_panel.errors)

    def _on_diagnostic_activated(self, node_id: str) -> None:
        if self.canvas is not None:
            self.canvas.select_node(node_id)

    def _on_selection_changed(self, ids: list[str]) -> None:
        if ids and self.properties_dock.toggleViewAction().isChecked():
            self.properties_dock.raise_()  # the selection's editors, in front of Stats/Sources
        if len(ids) == 1:
            node = self.document.node(ids[0])
            problems = self.canvas.diagnostics_of(ids[0]) if self.canvas else []
            problems += self.canvas.warnings_of(ids[0]) if self.canvas else []
            suffix = f" — {problems[0]}" if problems else ""
            label = node_label(node)
            title = registry.display_name(node.kind)
            what = f"{label} ({title})" if label != title else title
            self.show_message(f"{what}{suffix}", 4000)
        elif ids:
            self.show_message(f"{len(ids)} nodes selected", 4000)

    def edit_property(self, node_id: str, field: str) -> None:
        """Show ``node_id`` in Properties with the editor of ``field`` focused (a frame's axes
        from its context menu, a name that cannot be typed on the canvas)."""
        assert self.canvas is not None and self.properties is not None
        if self.properties.node_id != node_id:
            self.canvas.select_ids([node_id])
        self.properties_dock.show()
        self.properties_dock.raise_()
        editor = self.properties.editors.get(field)
        if editor is not None:
            self.properties.ensureWidgetVisible(editor)
            focus = getattr(editor, "add_combo", editor)  # an axes list: its "add axis" combo
            focus.setFocus()

    def wrap_selected(self) -> str | None:
        """Edit > Wrap in Frame: the selection in the first frame kind that may hold it (a
        parallel loop inside a workload, a workload on the root canvas); one undo step."""
        assert self.canvas is not None
        menus = self.canvas.context_menus
        ids = self.canvas.selected_ids()
        kinds = menus.wrap_kinds(ids)
        if not ids or not kinds:
            self.show_message("Select nodes of one frame to wrap them")
            return None
        return menus.wrap(ids, kinds[0])

    def unwrap_selected(self) -> bool:
        """Edit > Unwrap: the selected frames' contents lifted out, the frames removed."""
        assert self.canvas is not None
        doc = self.document
        chosen = [
            i
            for i in self.canvas.selected_ids()
            if i in doc.graph.nodes and getattr(registry.kind(doc.node(i).kind), "frame", False)
        ]
        if not chosen:
            self.show_message("Select a frame to unwrap it")
            return False
        return all(self.canvas.context_menus.unwrap(i) for i in chosen)

    def _on_palette_activated(self, node_type: str) -> None:
        """A palette entry double-clicked: created at the view centre, inside the frame there."""
        assert self.canvas is not None
        viewer = self.canvas.viewer
        centre = viewer.viewport().rect().center()
        scene = viewer.mapToScene(centre)
        parent = container_at(self.canvas, centre)
        pos = (float(scene.x()), float(scene.y()))
        node_id = create_at(self.canvas, node_type, pos, parent)
        if node_id is not None:
            self.canvas.select_ids([node_id])
            self.canvas.widget.setFocus()

    # ------------------------------------------------------------------------------------------
    # File menu
    # ------------------------------------------------------------------------------------------
    def action_handlers(self) -> dict[str, Callable[[], object]]:
        """Action name -> the method it triggers (read by ``StudioActions``)."""
        return {
            "new": self.new_document,
            "open": self.open_dialog,
            "save": self.save,
            "save_as": self.save_as,
            "export_python": self.export_python,
            "export_trace": self.export_trace,
            "run": self.run,
            "emit_verify": self.emit_and_verify,
            "pto_isa_root": self.edit_pto_isa_root,
            "cancel_run": self.cancel_run,
            "compare_runs": self.show_compare,
            "sweep": self.open_sweep,
            "import_python": self.import_python,
            "quit": self.close,
            "undo": self.undo,
            "redo": self.redo,
            "cut": lambda: self._canvas_action("cut"),
            "copy": lambda: self._canvas_action("copy"),
            "paste": lambda: self._canvas_action("paste"),
            "duplicate": lambda: self._canvas_action("duplicate"),
            "delete": lambda: self._canvas_action("delete"),
            "select_all": lambda: self._canvas_action("select_all"),
            "group": self.wrap_selected,
            "ungroup": self.unwrap_selected,
            "backdrop": lambda: self._canvas_action("backdrop"),
            "arrange": lambda: self._canvas_action("arrange"),
            "leave_scope": lambda: self._canvas_action("leave_scope"),
            "reset_layout": self.reset_layout,
            "fit": lambda: self._canvas_action("fit"),
            "zoom_in": lambda: self.zoom_by(ZOOM_STEP),
            "zoom_out": lambda: self.zoom_by(-ZOOM_STEP),
            "find": lambda: self.canvas.find_bar.open(),
            "find_next": lambda: self.canvas.find_bar.next_match(1),
            "find_previous": lambda: self.canvas.find_bar.next_match(-1),
            "minimap": lambda: self.canvas.minimap.setVisible(self.actions["minimap"].isChecked()),
            "critical_path": self.show_critical_path,
            "shortcuts": self.show_shortcuts,
            "start_page": self.show_start_page,
            "about": lambda: about_box(self, APP_NAME),
        }

    def show_critical_path(self) -> None:
        """View > Critical Path (a toggle): the last run's path on the timeline and the canvas."""
        assert self.run_panel is not None
        self.run_panel.show_critical_path(self.actions["critical_path"].isChecked())

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help > Keyboard Shortcuts: every key the window binds (read from its actions)."""
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_start_page(self) -> StartPage:
        """The start page over the canvas (built on first use: it reads the samples)."""
        if self.start_page is None:
            self.start_page = StartPage(self)
        self.start_page.present()
        return self.start_page

    def _timeline_menu_entry(self, menu: Any, node_id: str) -> None:
        """The node menu's "Show Slices in Timeline" once a run has tasks of ``node_id``."""
        assert self.run_panel is not None
        count = self.run_panel.slice_count(node_id)
        if count:
            menu.addSeparator()
            action = menu.addAction(f"Show Slices in Timeline ({count:,})")
            action.setObjectName("ctx_showslicesintimeline")
            action.triggered.connect(lambda _=False: self.run_panel.show_node_slices(node_id))

    def _canvas_action(self, name: str) -> None:
        """Run one of the canvas's own edit actions (its shortcuts are off: ours are used)."""
        assert self.canvas is not None
        self.canvas.actions[name].trigger()

    def zoom_by(self, step: float) -> None:
        """Zoom the canvas about the view centre (NodeGraphQt zoom units: 0 = 100 %)."""
        assert self.canvas is not None
        graph = self.canvas.graph
        graph.set_zoom(graph.get_zoom() + step)

    def maybe_save(self) -> bool:
        """Ask Save / Discard / Cancel when there are unsaved changes; True to go on."""
        if not self.dirty:
            return True
        choice = self.dialogs.ask_unsaved(self.display_name())
        if choice is Choice.SAVE:
            return self.save()
        return choice is Choice.DISCARD

    def new_document(self, doc: Document | None = None) -> bool:
        """File > New (``doc``: a template's document instead of an empty one), at 100 %
        zoom: an empty one centred on the origin, a template fitted."""
        if not self.maybe_save():
            return False
        self._discard_autosave()
        self._set_document(doc or Document(), None)
        assert self.canvas is not None
        reset_view(self.canvas.viewer, QPointF(0.0, 0.0))
        if doc is not None and doc.graph.nodes:
            self.canvas.fit_view()
        self.show_message("New project")
        return True

    def open_dialog(self) -> bool:
        if not self.maybe_save():
            return False
        path = self.dialogs.open_path("Open Project", self._start_dir(), PROJECT_FILTER)
        return self.open_path(path, ask_to_save=False) if path is not None else False

    def open_recent(self, path: Path) -> bool:
        return self.open_path(path)

    def open_path(self, path: Path, *, ask_to_save: bool = True) -> bool:
        """Open the project at ``path``; on any error show it and keep the open document."""
        path = Path(path)
        if ask_to_save and not self.maybe_save():
            return False
        try:
            doc = io.load(path)
        except io.ProjectError as err:
            self.dialogs.error("Cannot open project", f"{path}:\n\n{err}")
            return False
        except OSError as err:
            self.dialogs.error("Cannot open project", f"{path}:\n\n{err.strerror or err}")
            return False
        recovered = self._offer_recovery(path)
        self._discard_autosave()  # the previous document's: the user let its changes go
        self._set_document(recovered or doc, path, unsaved=recovered is not None, assess=True)
        self.recent.add(path)
        self._remember_dir(path)
        opened = f"Opened {path}" + (" (recovered from autosave)" if recovered else "")
        problem = self.doc_trust.state(self.document).problem
        if self.restricted:
            self.show_message(f"{opened} — Restricted mode: {self.doc_trust.reason}", 0)
        elif problem is not None:  # a C++ file it names cannot be read: it cannot run
            self.show_message(f"{opened} — {problem}", 0)
        else:
            self.show_message(opened)
        return True

    def _offer_recovery(self, path: Path) -> Document | None:
        """The autosaved version of ``path`` if one is newer and the user wants it.

        A declined autosave is deleted, so the same question is not asked on every open.
        """
        autosave = io.find_recoverable(path)
        if autosave is None:
            return None
        if not self.dialogs.ask_recover(path, autosave):
            autosave.unlink(missing_ok=True)
            return None
        try:
            return io.load(autosave)
        except io.ProjectError as err:
            self.dialogs.error("Cannot recover autosave", f"{autosave}:\n\n{err}")
            return None

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self._save_to(self.path)

    def save_as(self, path: Path | None = None) -> bool:
        if path is None:
            base = save_dir_for(self.settings, self.path)  # never the bundled samples' folder
            suggested = base / f"{self.document.name or 'untitled'}{PROJECT_SUFFIX}"
            path = self.dialogs.save_path("Save Project As", suggested, PROJECT_FILTER)
            if path is None:
                return False
        path = Path(path)
        if not path.name.endswith(".json"):
            path = path.with_name(path.name + PROJECT_SUFFIX)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        assert self.editor is not None and self.autosaver is not None
        if not self.document.name or self.document.name == "untitled":
            # An untitled document takes the file's name: runs, exports and titles say it.
            self.document.name = project_stem(path)
        try:
            io.save(self.document, path)
        except io.ProjectError as err:
            self.dialogs.error("Cannot save project", f"{path}:\n\n{err}")
            return False
        self.document.folder = path.resolve().parent  # its relative C++ paths resolve here now
        note = self.doc_trust.remember_saved(self.document)
        self.path = path.resolve()
        self.autosaver.set_path(self.path)  # drops the autosave kept under the old name
        self._unsaved_origin = False
        self.editor.mark_saved()
        self.recent.add(self.path)
        self._remember_dir(self.path)
        remember_save_dir(self.settings, self.path)
        self.refresh_title()
        self.show_message(f"Saved {self.path}{note}", 0 if note else 5000)
        return True

    def export_python(self, path: Path | None = None) -> Path | None:
        """Export the document to a runnable DSL script; errors name and select the node.
        A document that names C++ files is exported for the folder the script goes to
        (``export_script``'s ``script_dir``: a relative path stays relative beside the
        project)."""
        try:
            result = export_script(self.document)
        except ExportError as err:
            node_id = getattr(err, "node_id", "")
            if node_id and self.canvas is not None:
                self.canvas.select_node(node_id)
            self.dialogs.error("Cannot export to Python", str(err))
            return None
        if path is None:
            base = save_dir_for(self.settings, self.path)  # never the bundled samples' folder
            stem = project_stem(self.path) if self.path else self.document.name or "untitled"
            path = self.dialogs.save_path("Export to Python", base / f"{stem}.py", SCRIPT_FILTER)
            if path is None:
                return None
        path = Path(path)
        if doc_files.named_files(self.document):
            result = export_script(self.document, script_dir=path.parent)
        try:
            atomic_write(path, result.source)
        except OSError as err:
            self.dialogs.error("Cannot export to Python", f"{path}:\n\n{err.strerror or err}")
            return None
        remember_save_dir(self.settings, path)
        self.show_message(f"Exported {path}")
        return path

    def export_trace(self, path: Path | None = None) -> Path | None:
        """Write the shown run's trace as Chrome trace-event JSON (opens in Perfetto)."""
        assert self.run_panel is not None
        if not self.run_panel.has_trace():
            self.dialogs.error("Cannot export trace", "No run yet: run the program first (F5).")
            return None
        if path is None:
            base = save_dir_for(self.settings, self.path)  # never the bundled samples' folder
            stem = project_stem(self.path) if self.path else self.document.name or "untitled"
            suggested = base / f"{stem}.trace.json"
            path = self.dialogs.save_path("Export Trace", suggested, TRACE_FILTER)
            if path is None:
                return None
        try:
            written = self.run_panel.write_chrome_trace(Path(path))
        except OSError as err:
            self.dialogs.error("Cannot export trace", f"{path}:\n\n{err.strerror or err}")
            return None
        remember_save_dir(self.settings, written)
        self.show_message(f"Exported trace to {written}")
        return written

    # ------------------------------------------------------------------------------------------
    # Run menu
    # ------------------------------------------------------------------------------------------
    def run(self) -> bool:
        """Export the document (as Export to Python does) and run it in a worker process."""
        assert self.run_panel is not None
        if not self.ensure_trusted():
            return False
        started = self.run_panel.run()
        self._update_run_actions()
        if started:
            self.show_message(f"Running {self.display_name()}…", 3000)
        return started

    def emit_and_verify(self) -> bool:
        """Run > Emit and Verify: the ascend_npu kernels against PTO-ISA, compared with cpu_sim
        (in the worker process, as Run); the Verify dock reports per kernel. A missing PTO-ISA
        root or clang-19 is one message naming the setting, and nothing starts."""
        assert self.run_panel is not None
        setting = ptoisa_setting.root(self.settings)
        problem = ptoisa_setting.problem(setting)
        if problem is not None:
            self.run_panel.show_verify_problem(problem)
            return False
        if not self.ensure_trusted():
            return False
        started = self.run_panel.verify(setting)
        self._update_run_actions()
        if started:
            self.show_message(f"Emitting and verifying {self.display_name()}…", 3000)
        return started

    def _run_environment(self) -> dict[str, str]:
        """Every run's environment overrides, read as it starts: the PTO-ISA root setting."""
        return ptoisa_setting.run_environment(self.settings)

    def edit_pto_isa_root(self) -> bool:
        """Run > PTO-ISA Root…: the explicit PTO-ISA root of every run (Run, Sweep, Emit and
        Verify; empty: $PTO_ISA_ROOT). True when the setting changed."""
        current = ptoisa_setting.root(self.settings)
        value = self.dialogs.ask_pto_isa_root(current)
        if value is None or value == current:
            return False
        ptoisa_setting.set_root(self.settings, value)
        if self.run_panel is not None:
            shown_root = value or f"${ptoisa_setting.ENV_ROOT}"
            self.run_panel.ptoisa_root_changed(ptoisa_setting.problem(value), shown_root)
        shown = value or f"${ptoisa_setting.ENV_ROOT} (the setting is cleared)"
        self.show_message(f"PTO-ISA root: {shown}", 8000)
        return True

    def cancel_run(self) -> bool:
        assert self.run_panel is not None
        return self.run_panel.cancel()

    def _build_sweep(self) -> None:
        """The Sweep dock, a tab beside Timeline; Open in Compare goes to the run history."""
        assert self.run_panel is not None
        panel = self.run_panel
        self.sweep = SweepPanel(
            lambda: self.document,
            runner=QtSweepRunner(self, grace_s=SWEEP_GRACE_S),
            keep_run=self._keep_sweep_run,
            dialogs=self.dialogs,
            consent=self.ensure_trusted,
            settings=self.settings,
            run_env=self._run_environment,
        )
        self.sweep_dock = self._dock("Sweep", "sweepDock", self.sweep)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.sweep_dock)
        self.tabifyDockWidget(panel.timeline_dock, self.sweep_dock)
        panel.timeline_dock.raise_()
        self.actions.docks_menu.addAction(self.sweep_dock.toggleViewAction())
        self.sweep.compare_requested.connect(self._compare_sweep_run)

    def open_sweep(self) -> None:
        """Run > Sweep…: show the Sweep dock on the parameter worth sweeping first: the
        selected node's (a workload frame's worker count, ``sweep_default``), else the
        worker count of the workload around the selection (or of the first workload)."""
        assert self.sweep is not None and self.canvas is not None
        self.sweep_dock.show()
        self.sweep_dock.raise_()
        if not any(self.sweep.open_on([i]) for i in self._sweep_candidates()):
            self.show_message("Pick the parameter to sweep in the Sweep panel")
        self.sweep.values_edit.setFocus()

    def _sweep_candidates(self) -> list[str]:
        """Nodes whose parameters Sweep may open on, best first: the selected node, the
        program frames around it, then every program frame that names a sweep default."""
        doc = self.document
        ids = self.canvas.selected_ids() if self.canvas is not None else []
        out = list(ids[:1])
        if len(ids) == 1 and ids[0] in doc.graph.nodes:
            out += [f.id for f in reversed(frames.ancestors(doc, ids[0]))]
        if not ids:
            out += [
                n.id
                for n in doc.graph.nodes.values()
                if n.kind in registry.PROGRAM_KINDS and registry.kind(n.kind).sweep_default
            ]
        return [i for i in out if registry.kind(doc.node(i).kind).sweep_default] or out[:1]

    def _keep_sweep_run(self, run: Any, label: str, doc: Document | None) -> tuple[int, int]:
        """Open in Compare of a sweep value: its run joins the run history; the ids to compare
        are the latest run kept before it and it."""
        assert self.run_panel is not None
        history = self.run_panel.history
        previous = history.latest
        record = history.add(run, label, summarize_schedule(doc) if doc else "")
        return (previous.run_id if previous is not None else record.run_id), record.run_id

    def _compare_sweep_run(self, a: int, b: int) -> None:
        assert self.run_panel is not None
        self.run_panel.compare.reload(a, b)
        self.show_compare()

    def show_compare(self) -> None:
        """Show the Compare dock (the two most recent runs unless others are picked)."""
        assert self.run_panel is not None
        dock = self.run_panel.compare_dock
        dock.show()
        dock.raise_()
        if len(self.run_panel.history) < 2:
            self.show_message("Run the program twice (change something in between) to compare")

    def _update_run_actions(self) -> None:
        panel = self.run_panel
        if panel is not None:
            self.actions.set_run_state(panel.is_running(), panel.has_trace())

    def _on_run_ended(self, result: object) -> None:
        self._update_run_actions()
        if self.run_panel is not None and self.run_panel.diagnostics:
            self.diagnostics_dock.show()
            self.diagnostics_dock.raise_()

    def import_python(self, path: Path | None = None) -> bool:
        """Run a DSL script in a worker process and open the graph of what it builds.

        Returns True when the import job started; ``import_finished`` reports the outcome.
        """
        if self._import_job is not None:
            self.show_message("An import is already running")
            return False
        if not self.maybe_save():
            return False
        if path is None:
            path = self.dialogs.open_path("Import Python Script", self._start_dir(), SCRIPT_FILTER)
            if path is None:
                return False
        job = ImportJob(Path(path), IMPORT_TIMEOUT_S)
        job.succeeded.connect(self._on_import_succeeded)
        job.failed.connect(self._on_import_failed)
        self._import_job = job
        self.actions["import_python"].setEnabled(False)
        self.show_message(f"Importing {path}… (running the script in a worker process)", 0)
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        job.start()
        return True

    @property
    def importing(self) -> bool:
        """An Import Python job is running (``import_finished`` will report it)."""
        return self._import_job is not None

    def _end_import(self) -> None:
        self._import_job = None
        self.actions["import_python"].setEnabled(True)
        QApplication.restoreOverrideCursor()

    def _on_import_succeeded(self, script: Path, doc: Document) -> None:
        self._end_import()
        if not self.maybe_save():  # edited while the script ran: ask again
            self.show_message(f"Import of {script} discarded")
            self.import_finished.emit(False)
            return
        if not doc.name or doc.name == "untitled":
            doc.name = project_stem(script)
        self._discard_autosave()
        self._set_document(doc, None, unsaved=True)
        self.show_message(f"Imported {script}")
        self.import_finished.emit(True)

    def _on_import_failed(self, script: Path, message: str) -> None:
        self._end_import()
        self.dialogs.error("Cannot import script", f"{script}:\n\n{message}")
        self.show_message(f"Import of {script} failed")
        self.import_finished.emit(False)

    # ------------------------------------------------------------------------------------------
    # Edit menu (the model owns undo/redo)
    # ------------------------------------------------------------------------------------------
    def undo(self) -> None:
        """Undo through the canvas, which shows where the change happened."""
        assert self.canvas is not None
        self.canvas.undo()
        self.refresh_title()

    def redo(self) -> None:
        assert self.canvas is not None
        self.canvas.redo()
        self.refresh_title()

    # ------------------------------------------------------------------------------------------
    # autosave
    # ------------------------------------------------------------------------------------------
    def autosave_tick(self) -> None:
        if self.autosaver is None:
            return
        try:
            written = self.autosaver.tick(time.monotonic())
        except OSError as err:
            self.show_message(f"Autosave failed: {err.strerror or err}")
            return
        if written:
            self.show_message(f"Autosaved to {written}", 3000)

    def _discard_autosave(self) -> None:
        if self.autosaver is not None:
            self.autosaver.discard()

    # ------------------------------------------------------------------------------------------
    # settings helpers, close
    # ------------------------------------------------------------------------------------------
    def _start_dir(self) -> Path:
        stored = self.settings.value("files/last_dir")
        if stored and Path(str(stored)).is_dir():
            return Path(str(stored))
        return Path.home()

    def _remember_dir(self, path: Path) -> None:
        self.settings.setValue("files/last_dir", str(Path(path).resolve().parent))

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:  # the view has its real size only now: frame the graph
            self._shown_once = True
            if self.dock_layout.is_default:
                self.dock_layout.apply_default_sizes()
                self.layout().activate()  # the docks at their sizes: then orphaned bars show
                hide_stale_tab_bars(self)
            QTimer.singleShot(0, self._fit_if_alive)

    def _fit_if_alive(self) -> None:
        if self.canvas is not None and self.isVisible():
            self.canvas.fit_view()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self._import_job is not None:
            self.show_message("An import is still running; wait for it to finish")
            event.ignore()
            return
        if not self.maybe_save():
            event.ignore()
            return
        if self.run_panel is not None:
            self.run_panel.shutdown()  # no worker outlives the window
        if self.sweep is not None:
            self.sweep.shutdown()
        self._discard_autosave()
        self.autosave_timer.stop()
        self._diagnostics_timer.stop()
        self.dock_layout.save()
        self.settings.sync()
        event.accept()
