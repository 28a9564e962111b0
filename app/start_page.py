"""The start page: what to do first, shown over the canvas when the Studio starts without a file.

Like Blender's splash over its default scene, it is a panel over the canvas, not a dialog: the
window (with the bundled sample open behind it) stays usable, nothing waits for it, and Esc or
Close puts it away. It offers the bundled samples (``app/projects/*.pto.json``, listed by their
project names), new documents from templates, Import Python… and Open…. Unticking "Show at
start-up" is remembered in the window's settings (``START_PAGE_KEY``); Help > Start Page shows
it again at any time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6 import QtCore, QtWidgets

from .dialogs import Dialogs
from .editor.canvas import GraphCanvas
from .model import io
from .model.document import Document
from .model.trust import BUNDLED_PROJECTS

PROJECTS_DIR = BUNDLED_PROJECTS  # the one place that knows where the samples live
START_PAGE_KEY = "start_page/show"
PATH_ROLE = QtCore.Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Sample:
    """A bundled sample project: its file and the name it carries."""

    path: Path
    name: str
    nodes: int


@dataclass(frozen=True)
class Template:
    """A starting document: empty, or a bundled sample opened as a new, unsaved project."""

    title: str
    description: str
    sample: str | None  # file name under ``PROJECTS_DIR``; None: the empty document

    def build(self, projects: Path = PROJECTS_DIR) -> Document:
        """A fresh document (untitled: saving asks for a name)."""
        if self.sample is None:
            return Document()
        doc = io.load(projects / self.sample)
        doc.name = Document().name
        return doc


TEMPLATES: tuple[Template, ...] = (
    Template("Empty project", "A blank canvas.", None),
    Template(
        "Parallel loop over a kernel call",
        "Tensors, a tile kernel, a workload with P(i) calling it, and a Compile node.",
        "matmul.pto.json",
    ),
    Template(
        "CSP pipeline",
        "Processes exchanging tiles over channels (P.pipe / send / consume).",
        "csp_pipeline.pto.json",
    ),
)


def bundled_samples(projects: Path = PROJECTS_DIR) -> list[Sample]:
    """The sample projects, by name; a file that does not load is left out (and not fatal)."""
    found: list[Sample] = []
    for path in sorted(projects.glob("*.pto.json")):
        try:
            doc = io.load(path)
        except (io.ProjectError, OSError):
            continue
        found.append(Sample(path, doc.name or path.name, sum(1 for _ in doc.walk())))
    return found


def should_show(settings: QtCore.QSettings) -> bool:
    value = settings.value(START_PAGE_KEY, True)
    return value not in (False, "false", "0", 0)


class StartHost(Protocol):
    """What the page asks of the window it sits in (``app.main_window.MainWindow``): its canvas
    and settings, and the File commands its buttons run (each True when it did something)."""

    settings: QtCore.QSettings
    dialogs: Dialogs
    canvas: GraphCanvas | None

    def new_document(self, doc: Document | None = None) -> bool: ...

    def open_path(self, path: Path, *, ask_to_save: bool = True) -> bool: ...

    def open_dialog(self) -> bool: ...

    def import_python(self, path: Path | None = None) -> bool: ...


class StartPage(QtWidgets.QFrame):
    """The start panel, a child of the canvas viewer, centred over it."""

    def __init__(self, window: StartHost, projects: Path = PROJECTS_DIR) -> None:
        assert window.canvas is not None
        viewer = window.canvas.viewer
        super().__init__(viewer)
        self.window_ = window
        self.setObjectName("StartPage")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.samples = bundled_samples(projects)
        self.projects = projects

        title = QtWidgets.QLabel("<h2>PTO-WSP Studio</h2>", self)
        intro = QtWidgets.QLabel(
            "Design a workload on the canvas, run it on the cycle simulator, read its timeline.",
            self,
        )
        intro.setWordWrap(True)

        start = QtWidgets.QVBoxLayout()
        start.addWidget(QtWidgets.QLabel("<b>Start</b>", self))
        self.template_buttons: list[QtWidgets.QPushButton] = []
        for template in TEMPLATES:
            button = QtWidgets.QPushButton(f"New: {template.title}", self)
            button.setToolTip(template.description)
            button.clicked.connect(lambda _=False, t=template: self.new_from(t))
            start.addWidget(button)
            self.template_buttons.append(button)
        self.open_button = QtWidgets.QPushButton("Open…", self)
        self.open_button.clicked.connect(lambda: self._do(window.open_dialog))
        self.import_button = QtWidgets.QPushButton("Import Python…", self)
        self.import_button.setToolTip("Run a DSL script and open the graph of what it builds")
        self.import_button.clicked.connect(lambda: self._do(window.import_python))
        start.addWidget(self.open_button)
        start.addWidget(self.import_button)
        start.addStretch(1)

        samples = QtWidgets.QVBoxLayout()
        samples.addWidget(QtWidgets.QLabel("<b>Open sample</b>", self))
        self.sample_list = QtWidgets.QListWidget(self)
        self.sample_list.setObjectName("startSamples")
        for sample in self.samples:
            item = QtWidgets.QListWidgetItem(f"{sample.name}    ({sample.nodes} nodes)")
            item.setToolTip(str(sample.path))
            item.setData(PATH_ROLE, str(sample.path))
            self.sample_list.addItem(item)
        if self.samples:
            self.sample_list.setCurrentRow(0)
        self.sample_list.itemActivated.connect(lambda _item: self.open_sample())
        self.sample_button = QtWidgets.QPushButton("Open sample", self)
        self.sample_button.setEnabled(bool(self.samples))
        self.sample_button.clicked.connect(self.open_sample)
        samples.addWidget(self.sample_list, 1)
        samples.addWidget(self.sample_button)

        columns = QtWidgets.QHBoxLayout()
        columns.addLayout(start, 1)
        columns.addSpacing(16)
        columns.addLayout(samples, 1)

        self.show_check = QtWidgets.QCheckBox("Show this page at start-up", self)
        self.show_check.setChecked(should_show(window.settings))
        self.show_check.toggled.connect(self._remember)
        close = QtWidgets.QPushButton("Close", self)
        close.clicked.connect(self.dismiss)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.show_check)
        bottom.addStretch(1)
        bottom.addWidget(close)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 14)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addSpacing(6)
        layout.addLayout(columns, 1)
        layout.addLayout(bottom)
        self.resize(640, 400)
        viewer.installEventFilter(self)
        self.hide()

    # -- placement and keys ----------------------------------------------------------------------
    def _place(self) -> None:
        viewer = self.parentWidget()
        w = min(640, max(viewer.width() - 40, 320))
        h = min(420, max(viewer.height() - 40, 260))
        self.resize(w, h)
        self.move((viewer.width() - w) // 2, (viewer.height() - h) // 2)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def event(self, event: QtCore.QEvent) -> bool:
        if (
            event.type() == QtCore.QEvent.Type.ShortcutOverride
            and event.key() == QtCore.Qt.Key.Key_Escape
        ):
            event.accept()  # closes the page, not the window's Esc (Cancel Run)
            return True
        return super().event(event)

    def keyPressEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802
        if event.key() == QtCore.Qt.Key.Key_Escape:
            self.dismiss()
            return
        super().keyPressEvent(event)

    # -- behaviour -------------------------------------------------------------------------------
    def present(self) -> None:
        """Show the page over the canvas, the sample list focused."""
        self._place()
        self.show()
        self.raise_()
        self.sample_list.setFocus()

    def dismiss(self) -> None:
        self.hide()
        canvas = self.window_.canvas
        if canvas is not None:
            canvas.viewer.setFocus()

    def _remember(self, show: bool) -> None:
        self.window_.settings.setValue(START_PAGE_KEY, bool(show))

    def _do(self, step: Callable[[], object]) -> bool:
        """Run a window command; the page goes away when it did something."""
        done = bool(step())
        if done:
            self.dismiss()
        return done

    def new_from(self, template: Template) -> bool:
        """File > New with ``template``'s document (asks to save the open one first)."""
        try:
            doc = template.build(self.projects)
        except (io.ProjectError, OSError) as err:
            self.window_.dialogs.error("Cannot create project", f"{template.title}:\n\n{err}")
            return False
        return self._do(lambda: self.window_.new_document(doc))

    def open_sample(self) -> bool:
        item = self.sample_list.currentItem()
        if item is None:
            return False
        return self._do(lambda: self.window_.open_path(Path(item.data(PATH_ROLE))))
