"""Help > Keyboard Shortcuts and Help > About.

The shortcut list is read from the running window, never written by hand: every ``QAction`` and
``QShortcut`` the window holds that has a key, plus the keys of widgets that handle keys
themselves (Tab quick-add, the find field), which say so through a ``shortcut_help()`` method
returning ``(what, keys)`` pairs. A shortcut added anywhere in the window appears here by itself.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from importlib import metadata

from PySide6 import QtCore, QtGui, QtWidgets

NATIVE = QtGui.QKeySequence.SequenceFormat.NativeText


@dataclass(frozen=True)
class ShortcutRow:
    """One line of the list: what the key does, the key(s), and where it applies."""

    text: str
    keys: str
    where: str


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _menu_of(action: QtGui.QAction) -> str:
    for obj in action.associatedObjects():
        if isinstance(obj, QtWidgets.QMenu) and obj.title():
            return _clean(obj.title())
    return ""


def _widget_area(obj: QtCore.QObject) -> str:
    """The dock (or the canvas) a widget-scoped key belongs to."""
    widget = obj if isinstance(obj, QtWidgets.QWidget) else obj.parent()
    while widget is not None:
        if isinstance(widget, QtWidgets.QDockWidget):
            return widget.windowTitle()
        if widget.objectName() == "GraphCanvas":
            return "Canvas"
        widget = widget.parent()
    return "Window"


def collect_shortcuts(window: QtWidgets.QWidget) -> list[ShortcutRow]:
    """Every key binding of ``window``, sorted by where it applies, then by what it does.

    A key that applies in several places (the Timeline dock's keys also work in the Compare
    dock's timelines) is listed once per place: keyed by text, keys and place, never by the
    first place found, which listed the timeline's keys under Compare only."""
    rows: dict[tuple[str, str, str], ShortcutRow] = {}
    for action in window.findChildren(QtGui.QAction):
        keys = [s.toString(NATIVE) for s in action.shortcuts() if not s.isEmpty()]
        if not keys or not action.isVisible():
            continue
        where = _menu_of(action) or _widget_area(action)
        row = ShortcutRow(_clean(action.text()), ", ".join(keys), where)
        rows.setdefault((row.text, row.keys, row.where), row)
    for shortcut in window.findChildren(QtGui.QShortcut):
        if shortcut.key().isEmpty():
            continue
        what = shortcut.whatsThis() or shortcut.objectName() or "(unnamed)"
        row = ShortcutRow(what, shortcut.key().toString(NATIVE), _widget_area(shortcut))
        rows.setdefault((row.text, row.keys, row.where), row)
    for obj in window.findChildren(QtCore.QObject):
        helper = getattr(obj, "shortcut_help", None)
        if callable(helper):
            for what, keys in helper():
                area = _widget_area(obj)
                row = ShortcutRow(what, keys, "Canvas" if area == "Window" else area)
                rows.setdefault((row.text, row.keys, row.where), row)
    return sorted(rows.values(), key=lambda r: (r.where, r.text.lower()))


class ShortcutsDialog(QtWidgets.QDialog):
    """A filterable table of :func:`collect_shortcuts` (non-modal)."""

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.setObjectName("ShortcutsDialog")
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = collect_shortcuts(window)
        self.filter_edit = QtWidgets.QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter by action, key or menu…")
        self.table = QtWidgets.QTableWidget(len(self.rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut", "Where"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        for i, row in enumerate(self.rows):
            for j, text in enumerate((row.text, row.keys, row.where)):
                self.table.setItem(i, j, QtWidgets.QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.filter_edit.textChanged.connect(self.apply_filter)
        self.resize(620, 560)

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i, row in enumerate(self.rows):
            hay = f"{row.text} {row.keys} {row.where}".lower()
            self.table.setRowHidden(i, bool(needle) and needle not in hay)

    def shown_keys(self) -> list[str]:
        """The Shortcut column of the rows not filtered out."""
        return [r.keys for i, r in enumerate(self.rows) if not self.table.isRowHidden(i)]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_text(app_name: str) -> str:
    """Versions of the Studio and what it runs on (the About box and bug reports)."""
    import PySide6

    return (
        f"<h3>{app_name}</h3>"
        "<p>Design, run and inspect PTO-WSP workloads: a node editor over the "
        "<code>pto_wsp</code> DSL, with the cycle simulator's timeline.</p>"
        "<table>"
        f"<tr><td>pto-wsp</td><td>{_version('pto-wsp')}</td></tr>"
        f"<tr><td>PySide6 / Qt</td><td>{PySide6.__version__} / {QtCore.qVersion()}</td></tr>"
        f"<tr><td>NodeGraphQt</td><td>{_version('NodeGraphQt')}</td></tr>"
        f"<tr><td>Python</td><td>{platform.python_version()} ({sys.platform})</td></tr>"
        "</table>"
    )


def about_box(window: QtWidgets.QWidget, app_name: str) -> QtWidgets.QMessageBox:
    """The About box, shown without blocking (``open``); deleted when closed."""
    box = QtWidgets.QMessageBox(window)
    box.setObjectName("AboutBox")
    box.setWindowTitle(f"About {app_name}")
    box.setIcon(QtWidgets.QMessageBox.Icon.Information)
    box.setTextFormat(QtCore.Qt.TextFormat.RichText)
    box.setText(about_text(app_name))
    box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Ok)
    box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
