"""The node palette: a searchable tree of node kinds by category plus the kernel library.

Dragging an entry onto the canvas starts a ``QDrag`` carrying MIME type ``nodegraphqt/nodes`` with
``ngqt::node:<identifier>.<ClassName>`` — the format NodeGraphQt's viewer accepts on drop
(DESIGN §4). Kinds map to their generated node classes (``app.editor.nodes``); a kernel-library
entry (``resources/kernel_library/*.json``, a ready ``kernel.def`` fragment) maps to the pseudo
type ``pto.library.<Name>``, which the canvas resolves with :func:`library_entry_for_type`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.editor.nodes import (
    CATEGORY_COLORS,
    DEFAULT_NODE_COLOR,
    library_node_type,
    node_type_for,
    node_urn,
)
from app.model import commands, io
from pto_wsp.errors import PtoError

MIME_TYPE = "nodegraphqt/nodes"
LIBRARY_CATEGORY = "Library"
LIBRARY_DIR = Path(__file__).resolve().parents[2] / "resources" / "kernel_library"
TYPE_ROLE = QtCore.Qt.ItemDataRole.UserRole
SEARCH_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


class LibraryError(PtoError):
    """A kernel-library file cannot be read (named with its path)."""


@dataclass(frozen=True)
class LibraryEntry:
    """One ready-made kernel: a document fragment pasted where it is dropped."""

    id: str  # file stem, e.g. "rmsnorm"
    title: str
    doc: str
    path: Path
    node_type: str  # pto.library.<Name>

    def fragment(self) -> dict[str, Any]:
        """The clipboard-format fragment (``commands.clipboard_data`` shape) to paste.

        Library files are project documents (validated like any project file) holding the
        kernel definitions; their root nodes become the fragment.
        """
        data = _read_json(self.path)
        if "graph" not in data:
            return data  # already a clipboard fragment
        try:
            doc = io.from_data(data, self.path)
        except io.ProjectError as err:
            raise LibraryError(f"{self.path}: {err}") from err
        return commands.clipboard_data(doc, list(doc.graph.nodes))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise LibraryError(f"{path}: cannot read kernel library entry: {err}") from err
    if not isinstance(data, dict):
        raise LibraryError(f"{path}: a kernel library entry must be a JSON object")
    return data


def _entry_title(stem: str, data: dict[str, Any]) -> str:
    for key in ("title", "name"):
        if isinstance(data.get(key), str) and data[key]:
            return data[key]
    nodes = data.get("nodes")
    if isinstance(nodes, list) and nodes and isinstance(nodes[0], dict):
        name = nodes[0].get("name")
        if isinstance(name, str) and name:
            return name
    return stem


@cache
def _library_cached(directory: str) -> tuple[LibraryEntry, ...]:
    entries: list[LibraryEntry] = []
    root = Path(directory)
    if not root.is_dir():
        return ()
    for path in sorted(root.glob("*.json")):
        data = _read_json(path)
        doc = data.get("doc") or data.get("description") or ""
        entries.append(
            LibraryEntry(
                id=path.stem,
                title=_entry_title(path.stem, data),
                doc=str(doc),
                path=path,
                node_type=library_node_type(path.stem),
            )
        )
    return tuple(entries)


def library_entries(directory: Path | None = None) -> tuple[LibraryEntry, ...]:
    """The kernel library (sorted by file name); empty when the directory does not exist."""
    return _library_cached(str(directory or LIBRARY_DIR))


def library_entry_for_type(node_type: str, directory: Path | None = None) -> LibraryEntry | None:
    for entry in library_entries(directory):
        if entry.node_type == node_type:
            return entry
    return None


def palette_kinds() -> list[tuple[str, list[Any]]]:
    """``[(category, [NodeKind, ...]), ...]`` in palette order, internal kinds left out.

    Internal kinds (``scope.entry``, ``kernel.param``) are created by the model with their
    scope; a user never places them, so the registry marks them ``in_palette=False``.
    """
    from app.model import registry

    return [(c, [k for k in kinds if k.in_palette]) for c, kinds in registry.categories()]


def mime_for_node_type(node_type: str) -> QtCore.QMimeData:
    """The drag payload NodeGraphQt's viewer turns into a node at the drop point."""
    mime = QtCore.QMimeData()
    mime.setData(MIME_TYPE, QtCore.QByteArray(node_urn(node_type).encode()))
    return mime


class _PaletteTree(QtWidgets.QTreeWidget):
    """Tree whose drags carry the NodeGraphQt node URN of the dragged entry."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, items: Any) -> QtCore.QMimeData:
        types = [it.data(0, TYPE_ROLE) for it in items if it.data(0, TYPE_ROLE)]
        mime = QtCore.QMimeData()
        if types:
            payload = "ngqt::" + ";".join(f"node:{t}" for t in types)
            mime.setData(MIME_TYPE, QtCore.QByteArray(payload.encode()))
        return mime


class Palette(QtWidgets.QWidget):
    """Searchable palette of node kinds and library kernels.

    Signals:
        node_activated(str): a node type was double-clicked / Enter-ed (the main window adds it
            at the centre of the canvas with ``GraphCanvas.add_node_type``).
    """

    node_activated = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Palette")
        self.search = QtWidgets.QLineEdit(self)
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = _PaletteTree(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._populate()
        self.search.textChanged.connect(self.set_filter)
        self.tree.itemActivated.connect(self._on_activated)
        self.search.returnPressed.connect(self._activate_first_visible)

    # -- content --------------------------------------------------------------------------
    def _populate(self) -> None:
        self.tree.clear()
        for category, kinds in palette_kinds():
            top = self._category_item(category)
            for kind in kinds:
                self._leaf(top, kind.title, node_type_for(kind.id), kind.doc, kind.id)
        entries = library_entries()
        if entries:
            top = self._category_item(LIBRARY_CATEGORY)
            for entry in entries:
                self._leaf(top, entry.title, entry.node_type, entry.doc, entry.id)
        self.tree.expandAll()

    def _category_item(self, category: str) -> QtWidgets.QTreeWidgetItem:
        item = QtWidgets.QTreeWidgetItem(self.tree, [category])
        item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        color = CATEGORY_COLORS.get(category, DEFAULT_NODE_COLOR)
        item.setForeground(0, QtGui.QBrush(QtGui.QColor(*color).lighter(220)))
        return item

    def _leaf(
        self, parent: QtWidgets.QTreeWidgetItem, title: str, node_type: str, doc: str, key: str
    ) -> None:
        item = QtWidgets.QTreeWidgetItem(parent, [title])
        item.setData(0, TYPE_ROLE, node_type)
        item.setData(0, SEARCH_ROLE, f"{title} {key} {parent.text(0)}".lower())
        item.setToolTip(0, f"{doc}\n\n{key}" if doc else key)
        item.setFlags(
            QtCore.Qt.ItemFlag.ItemIsEnabled
            | QtCore.Qt.ItemFlag.ItemIsSelectable
            | QtCore.Qt.ItemFlag.ItemIsDragEnabled
        )

    # -- queries used by tests and the main window ----------------------------------------
    def items(self) -> list[QtWidgets.QTreeWidgetItem]:
        """Every leaf (node entry), visible or not."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out.extend(top.child(j) for j in range(top.childCount()))
        return out

    def visible_items(self) -> list[QtWidgets.QTreeWidgetItem]:
        return [it for it in self.items() if not it.isHidden()]

    def item_for_type(self, node_type: str) -> QtWidgets.QTreeWidgetItem | None:
        for it in self.items():
            if it.data(0, TYPE_ROLE) == node_type:
                return it
        return None

    def mime_data(self, item: QtWidgets.QTreeWidgetItem) -> QtCore.QMimeData:
        """The drag payload for ``item`` (what ``startDrag`` puts in the ``QDrag``)."""
        return self.tree.mimeData([item])

    # -- behaviour ------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show entries whose title, kind id or category contains every word of ``text``."""
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            shown = 0
            for j in range(top.childCount()):
                leaf = top.child(j)
                hay = leaf.data(0, SEARCH_ROLE)
                visible = all(w in hay for w in words)
                leaf.setHidden(not visible)
                shown += visible
            top.setHidden(shown == 0)
            if words and shown:
                top.setExpanded(True)

    def _on_activated(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        node_type = item.data(0, TYPE_ROLE)
        if node_type:
            self.node_activated.emit(node_type)

    def _activate_first_visible(self) -> None:
        visible = self.visible_items()
        if visible:
            self.node_activated.emit(visible[0].data(0, TYPE_ROLE))
