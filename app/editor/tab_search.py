"""Tab search: press Tab over the canvas, type a few letters, Enter adds the node at the cursor.

Like Houdini's / Blender's quick-add: the list only offers what may live where the box was
opened: inside the innermost frame under the cursor (a kernel call inside a loop frame, a tile
op inside a kernel body, a workload on the root canvas; a loop or a call on the root canvas comes
with a workload frame around it), plus the kernels that may be called there (the document's
kernel definitions and the library) or placed there (library kernels on the root canvas). The chosen entry is created inside that frame. Matching is by words: every
word typed must occur in the title, the kind id or the category; titles that start with the text
rank first.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets

from ..model import commands, registry
from ..model.document import Document
from .canvas_api import CanvasApi, owner
from .nodes import node_type_for
from .palette import (
    KERNELS_CATEGORY,
    call_reference,
    container_at,
    create_at,
    defined_kernels,
    home_frame_kind,
    kernel_call_type,
    library_entries,
    library_label,
)

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


def candidates_for_scope(scope: str, doc: Document | None = None) -> list[Candidate]:
    """Everything that may be added to a place of ``scope`` (root, workload, compose, connect,
    branch, kernel): the kinds living there, and the kernels callable or placeable there."""
    out: list[Candidate] = []
    wrapped = _wrapped_at_root(doc) if scope == "root" and doc is not None else set()
    for category, kinds in registry.categories():
        for kind in kinds:
            if kind.in_palette and (scope in kind.allowed_in or kind.id in wrapped):
                out.append(Candidate(kind.title, category, kind.id, node_type_for(kind.id)))
    ref = call_reference()
    callable_here = ref is not None and (
        scope in registry.kind(ref[0]).allowed_in or ref[0] in wrapped
    )
    placeable = ref is not None and any(scope in registry.kind(t).allowed_in for t in ref[2])
    if callable_here and doc is not None:
        for n in defined_kernels(doc):
            label = registry.node_label(n)
            out.append(Candidate(f"{label} (call)", KERNELS_CATEGORY, n.name or n.id, kernel_call_type(n.id)))  # fmt: skip
    if callable_here or placeable:
        for entry in library_entries():
            out.append(Candidate(library_label(entry), KERNELS_CATEGORY, entry.id, entry.node_type))
    return out


def _wrapped_at_root(doc: Document) -> set[str]:
    """Kinds that, added on the root canvas, come with a new frame around them (a loop or a
    call gets a workload: ``palette.home_frame_kind``)."""
    return {k for k in registry.KINDS if home_frame_kind(doc, k) is not None}


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

    def __init__(self, canvas: CanvasApi) -> None:
        super().__init__(owner(canvas))
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
        self._parent: str | None = None
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

    def show_at(self, view_pos: QtCore.QPoint, parent: str | None | bool = False) -> None:
        """Open the box at ``view_pos`` (viewer coordinates); the node will be placed there,
        inside ``parent`` (default: the innermost frame under ``view_pos``)."""
        viewer = self.canvas.viewer
        self._scene_pos = viewer.mapToScene(view_pos)
        self._parent = container_at(self.canvas, view_pos) if parent is False else parent  # type: ignore[assignment]
        doc = self.canvas.doc
        self._cands = candidates_for_scope(commands.scope_inside(doc, self._parent), doc)
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

    @property
    def parent_frame(self) -> str | None:
        """Where the box will create its node (a frame id, a kernel id, or None)."""
        return self._parent

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
        node_id = create_at(self.canvas, node_type, pos, self._parent)
        if node_id is not None and hasattr(self.canvas, "select_ids"):
            self.canvas.select_ids([node_id])
        return node_id

    def _refilter(self, text: str) -> None:
        self.list.clear()
        for cand in rank(self._cands, text):
            item = QtWidgets.QListWidgetItem(f"{cand.title}    ·  {cand.category}")
            item.setData(TYPE_ROLE, cand.node_type)
            item.setToolTip(cand.key)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
