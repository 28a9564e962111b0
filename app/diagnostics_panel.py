"""The Diagnostics dock: the document's problems and warnings and the last run's, in one list.

Validation (``app.model.validation``) says what is wrong; this panel lists it with the node at
fault named as the canvas names it, counts errors and warnings in the dock's title, and hands
the canvas the node badges. Activating an entry selects its node (``node_activated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDockWidget, QListWidget, QListWidgetItem, QStyle

from .model import registry, validation
from .model.document import Diagnostic, Document, Node
from .runner.job import RunDiagnostic

SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 1
NODE_ROLE = Qt.ItemDataRole.UserRole
TITLE = "Diagnostics"


def node_label(node: Node) -> str:
    """A node's name, or its kind's title for unnamed kinds (loops, calls...)."""
    if node.name:
        return node.name
    try:
        return registry.kind(node.kind).title
    except registry.UnknownKind:
        return node.kind


def diagnostic_text(doc: Document, diag: Diagnostic) -> str:
    if not diag.node_id:
        return str(diag)
    found = doc.locate(diag.node_id)
    label = f"{node_label(found[0])} ({diag.node_id})" if found else diag.node_id
    field = f".{diag.field}" if diag.field else ""
    return f"{label}{field}: {diag.message}"


def run_diagnostic_text(doc: Document, diag: RunDiagnostic) -> str:
    where = "run"
    if diag.node_id:
        found = doc.locate(diag.node_id)
        label = node_label(found[0]) if found else "deleted node"
        where = f"run · {label} ({diag.node_id})"
    elif diag.file and diag.line:
        where = f"run · {Path(diag.file).name}:{diag.line}"
    return f"{where}: {diag.severity}: {diag.kind}: {diag.message}"


class DiagnosticsPanel(QObject):
    """The list widget of the Diagnostics dock and what fills it."""

    node_activated = Signal(str)  # an entry with a node was activated (double-click, Enter)

    def __init__(self, dock: QDockWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dock = dock
        self.list = QListWidget()
        self.list.setObjectName("diagnosticsList")
        self.list.setWordWrap(True)  # a run message is a sentence: read it whole
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.itemActivated.connect(self._activated)
        self.list.itemDoubleClicked.connect(self._activated)
        dock.setWidget(self.list)
        self.errors: list[Diagnostic] = []  # the document's, as last validated

    def refresh(
        self, doc: Document, run_diags: Sequence[RunDiagnostic]
    ) -> tuple[list[Diagnostic], list[Diagnostic]]:
        """Validate ``doc`` and list its problems, its warnings (``validation.document_warnings``:
        a read before a write by order) and ``run_diags``. Returns the node badges for the
        canvas: (errors, warnings), the run's attached to their nodes."""
        self.errors = validation.validate_document(doc)
        doc_warnings = validation.document_warnings(doc)
        self.list.clear()
        style = self.list.style()
        error_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        warning_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for diag in self.errors:
            self._add(error_icon, diagnostic_text(doc, diag), diag.node_id, diag.message)
        for diag in doc_warnings:
            item = self._add(warning_icon, diagnostic_text(doc, diag), diag.node_id, diag.message)
            item.setData(SEVERITY_ROLE, diag.severity)
        for run_diag in run_diags:
            icon = warning_icon if run_diag.severity == "warning" else error_icon
            text = run_diagnostic_text(doc, run_diag)
            item = self._add(icon, text, run_diag.node_id or "", str(run_diag))
            item.setData(SEVERITY_ROLE, run_diag.severity)
        n = len(self.errors) + len(doc_warnings) + len(run_diags)
        warned = len(doc_warnings) + sum(1 for d in run_diags if d.severity == "warning")
        of_which = f"; {warned} warning{'s' if warned != 1 else ''}" if warned else ""
        self.dock.setWindowTitle(f"{TITLE} ({n}{of_which})" if n else TITLE)
        badges: list[Diagnostic] = []
        warnings = list(doc_warnings)
        for d in run_diags:
            if d.node_id:
                found = warnings if d.severity == "warning" else badges
                found.append(Diagnostic(d.node_id, "", f"{d.kind}: {d.message}"))
        return [*self.errors, *badges], warnings

    def _add(self, icon: QIcon, text: str, node_id: str, tooltip: str) -> QListWidgetItem:
        item = QListWidgetItem(icon, text)
        item.setData(NODE_ROLE, node_id)
        item.setToolTip(tooltip)
        self.list.addItem(item)
        return item

    def _activated(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.node_activated.emit(node_id)
