"""Tab search: press Tab over the canvas, type a few letters, Enter adds the node at the cursor.

Like Houdini's / Blender's quick-add: the list only offers kinds that may live in the scope the
canvas shows (a tile op is not offered at the project root), plus kernel-library entries where a
kernel may be placed. Matching is by words: every word typed must occur in the title, the kind id
or the category; titles that start with the text rank first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from app.editor.nodes import node_type_for
from app.editor.palette import LIBRARY_CATEGORY, library_entries
from app.model import registry

if TYPE_CHECKING:
    from app.editor.canvas import GraphCanvas

TYPE_ROLE = QtCore.Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Candidate:
    title: str
    category: str
    key: str  # kind id or library entry id
    node_type: str

    @property
    def haystack(self) -> str:
        return f"{self.title} {self.key} {self.category}".lower()


def candidates_for_scope(scope: str) -> list[Candidate]:
    """Everything that may be added to a graph of ``scope`` (root / workload / kernel)."""
    out: list[Candidate] = []
    for category, kinds in registry.categories():
        for kind in kinds:
            if kind.in_palette and scope in kind.allowed_in:
                out.append(Candidate(kind.title, category, kind.id, node_type_for(kind.id)))
    if scope in registry.kind("kernel.def").allowed_in:
        for entry in library_entries():
            out.append(Candidate(entry.title, LIBRARY_CATEGORY, entry.id, entry.node_type))
    return out


def rank(cands: list[Candidate], text: str) -> list[Candidate]:
    """Candidates matching every word of ``text``; title-prefix matches first, then by title."""
    words = text.lower().split()
    hits = [c for c in cands if all(w in c.haystack for w in words)]
    head = words[0] if words else ""
    return sorted(hits, key=lambda c: (not c.title.lower().startswith(head), c.title.lower()))


class _SearchEdit(QtWidgets.QLineEdit):
    """Line edit that forwards Up/Down to the result list (keeps typing focus)."""

    def __init__(self, owner: TabSearch) -> None:
        super().__init__(owner.popup)
        self._owner = owner

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        key = event.key()
        if key in (QtCore.Qt.Key.Key_Down, QtCore.Qt.Key.Key_Up):
            self._owner.move_current(1 if key == QtCore.Qt.Key.Key_Down else -1)
            return
        if key == QtCore.Qt.Key.Key_Escape:
            self._owner.hide()
            return
        if key in (QtCore.Qt.Key.Key_Tab, QtCore.Qt.Key.Key_Backtab):
            self._owner.hide()
            return
        super().keyPressEvent(event)


class TabSearch(QtCore.QObject):
    """The Tab quick-add box of a ``GraphCanvas`` (a child widget of its viewer)."""

    def __init__(self, canvas: GraphCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        viewer = canvas.viewer
        self.popup = QtWidgets.QFrame(viewer)
        self.popup.setObjectName("TabSearch")
        self.popup.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.popup.setAutoFillBackground(True)
        self.edit = _SearchEdit(self)
        self.edit.setPlaceholderText("Add node…")
        self.list = QtWidgets.QListWidget(self.popup)
        self.list.setUniformItemSizes(True)
        layout = QtWidgets.QVBoxLayout(self.popup)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.popup.resize(260, 300)
        self.popup.hide()
        self._scene_pos = QtCore.QPointF()
        self._cands: list[Candidate] = []
        self.edit.textChanged.connect(self._refilter)
        self.edit.returnPressed.connect(self.accept)
        self.list.itemActivated.connect(lambda _item: self.accept())
        viewer.installEventFilter(self)

    # -- Qt -----------------------------------------------------------------------------------
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if (
            event.type() == QtCore.QEvent.Type.KeyPress
            and event.key() == QtCore.Qt.Key.Key_Tab
            and not self.popup.isVisible()
        ):
            self.show_at_cursor()
            return True
        return False

    def shortcut_help(self) -> tuple[tuple[str, str], ...]:
        """The key this box handles itself (listed by Help > Keyboard Shortcuts)."""
        return (("Add a node at the cursor (quick search)", "Tab"),)

    # -- behaviour ------------------------------------------------------------------------------
    def show_at_cursor(self) -> None:
        viewer = self.canvas.viewer
        local = viewer.mapFromGlobal(QtGui.QCursor.pos())
        if not viewer.rect().contains(local):
            local = viewer.rect().center()
        self.show_at(local)

    def show_at(self, view_pos: QtCore.QPoint) -> None:
        """Open the box at ``view_pos`` (viewer coordinates); the node will be placed there."""
        viewer = self.canvas.viewer
        self._scene_pos = viewer.mapToScene(view_pos)
        scope = registry.scope_of_owner(self.canvas._owner())
        self._cands = candidates_for_scope(scope)
        x = min(max(0, view_pos.x()), max(0, viewer.width() - self.popup.width()))
        y = min(max(0, view_pos.y()), max(0, viewer.height() - self.popup.height()))
        self.popup.move(x, y)
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self._refilter("")
        self.popup.show()
        self.popup.raise_()
        self.edit.setFocus()

    def hide(self) -> None:
        self.popup.hide()
        self.canvas.viewer.setFocus()

    def is_open(self) -> bool:
        return self.popup.isVisible()

    def move_current(self, step: int) -> None:
        n = self.list.count()
        if n:
            self.list.setCurrentRow((self.list.currentRow() + step) % n)

    def results(self) -> list[str]:
        """Node types currently listed (for tests and accessibility)."""
        return [self.list.item(i).data(TYPE_ROLE) for i in range(self.list.count())]

    def accept(self) -> str | None:
        """Add the highlighted node at the place the box was opened; the new node id."""
        item = self.list.currentItem()
        if item is None:
            return None
        node_type = item.data(TYPE_ROLE)
        pos = (float(self._scene_pos.x()), float(self._scene_pos.y()))
        self.hide()
        return self.canvas.add_node_type(node_type, pos)

    def _refilter(self, text: str) -> None:
        self.list.clear()
        for cand in rank(self._cands, text):
            item = QtWidgets.QListWidgetItem(f"{cand.title}    ·  {cand.category}")
            item.setData(TYPE_ROLE, cand.node_type)
            item.setToolTip(cand.key)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
