"""Find a node (Ctrl+F): a small search field over the canvas.

Typing lists the nodes of the whole document — every scope, not only the one shown — whose name
or canvas title contains the text (case-insensitive). Enter (or F3) goes to the next match,
Shift+Enter (Shift+F3) to the previous one: the canvas enters the match's scope, selects it and
centres it (``GraphCanvas.select_node``, the same path a diagnostic click takes). A click on a
listed match goes there too; Esc closes the bar and gives the keys back to the canvas.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtWidgets

from ..find_field import FindField
from ..model.document import Graph, Node
from .canvas_api import CanvasApi

BAR_WIDTH = 340
BAR_MARGIN = 10
LIST_ROWS = 8
LIST_LIMIT = 200  # matches listed (all are stepped through): a 5000-row list costs ~0.15 s
ID_ROLE = QtCore.Qt.ItemDataRole.UserRole
KEY_HELP = (
    ("Find: next match", "Enter / F3"),
    ("Find: previous match", "Shift+Enter / Shift+F3"),
    ("Find: close the search field", "Esc"),
)


@dataclass(frozen=True)
class Match:
    node_id: str
    title: str  # as the canvas titles the node
    where: str  # the scope path, "" at the project root


class FindBar(QtWidgets.QFrame):
    """The find field of ``canvas``: a child widget of its viewer, top right."""

    def __init__(self, canvas: CanvasApi) -> None:
        super().__init__(canvas.viewer)
        self.canvas = canvas
        self.setObjectName("FindBar")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = FindField(self, self.next_match, self.close_bar, self.move_current)
        self.edit.setPlaceholderText("Find node by name or title…")
        self.count_label = QtWidgets.QLabel(self)
        self.count_label.setMinimumWidth(56)
        self.count_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        close = QtWidgets.QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Close (Esc)")
        close.clicked.connect(self.close_bar)
        self.list = QtWidgets.QListWidget(self)
        self.list.setUniformItemSizes(True)
        self.list.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(2)
        row.addWidget(self.edit, 1)
        row.addWidget(self.count_label)
        row.addWidget(close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(row)
        layout.addWidget(self.list)
        self.matches: list[Match] = []
        self.current = -1  # index in ``matches`` of the node last gone to
        self.edit.textChanged.connect(self.refilter)
        self.list.itemClicked.connect(lambda item: self.go_to(self.list.row(item)))
        canvas.viewer.installEventFilter(self)
        self.hide()

    # -- placement -------------------------------------------------------------------------------
    def _place(self) -> None:
        viewer = self.canvas.viewer
        rows = min(self.list.count(), LIST_ROWS)
        self.list.setVisible(rows > 0)
        row_h = self.list.sizeHintForRow(0) if rows else 0
        self.list.setFixedHeight(rows * row_h + 2 * self.list.frameWidth() + 2 if rows else 0)
        self.adjustSize()
        self.resize(
            min(BAR_WIDTH, max(viewer.width() - 2 * BAR_MARGIN, 120)), self.sizeHint().height()
        )
        self.move(max(0, viewer.width() - self.width() - BAR_MARGIN), BAR_MARGIN)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    # -- behaviour -------------------------------------------------------------------------------
    def open(self) -> None:
        """Show the field with its text selected, so typing replaces the last search."""
        self.show()
        self.raise_()
        self.refilter(self.edit.text())
        self.edit.setFocus()
        self.edit.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.canvas.viewer.setFocus()

    def shortcut_help(self) -> tuple[tuple[str, str], ...]:
        """Keys of the open find field (listed by Help > Keyboard Shortcuts)."""
        return KEY_HELP

    def matching(self, text: str) -> list[Match]:
        """Nodes of every scope whose name or canvas title contains ``text`` (any case)."""
        needle = text.strip().lower()
        if not needle:
            return []
        doc = self.canvas.doc
        found: list[Match] = []
        where: dict[int, str] = {}  # per graph: its scope path, titled once
        for node, graph, owner in doc.walk():
            title = self.canvas.node_title(node, graph, owner)
            if needle in node.name.lower() or needle in title.lower():
                if owner is None:
                    found.append(Match(node.id, title, self._where(graph, owner, node)))
                    continue
                if id(graph) not in where:
                    where[id(graph)] = self._where(graph, owner)
                found.append(Match(node.id, title, where[id(graph)]))
        return found

    def _where(self, graph: Graph, owner: Node | None, node: Node | None = None) -> str:
        """Where a match lives: its kernel body's path, or the frames around it (v2)."""
        if owner is None:
            if node is None or getattr(node, "parent", None) is None:
                return ""
            from ..model import frames

            return " › ".join(self.canvas.node_title(f) for f in frames.ancestors(self.canvas.doc, node.id))  # fmt: skip
        return " › ".join(self.canvas.node_title(n) for n in self.canvas.doc.scope_chain(graph))

    def refilter(self, text: str) -> None:
        self.matches = self.matching(text)
        self.current = -1
        self.list.clear()
        for m in self.matches[:LIST_LIMIT]:
            label = f"{m.title}    · {m.where}" if m.where else m.title
            item = QtWidgets.QListWidgetItem(label)
            item.setData(ID_ROLE, m.node_id)
            self.list.addItem(item)
        self._update_count()
        self._place()

    def _update_count(self) -> None:
        n = len(self.matches)
        if not self.edit.text().strip():
            self.count_label.setText("")
        elif not n:
            self.count_label.setText("none")
        elif self.current < 0:
            self.count_label.setText(f"{n} found")
        else:
            self.count_label.setText(f"{self.current + 1} of {n}")

    def move_current(self, step: int) -> None:
        if self.matches:
            self.list.setCurrentRow((self.list.currentRow() + step) % len(self.matches))

    def next_match(self, step: int = 1) -> str | None:
        """Go to the next (``step`` 1) or previous (-1) match; its id (None: no match)."""
        if not self.matches:
            self.refilter(self.edit.text())
        if not self.matches:
            if self.edit.text().strip():
                self.canvas.message.emit(f"no node matches {self.edit.text().strip()!r}")
            return None
        if self.current < 0:
            index = 0 if step > 0 else len(self.matches) - 1
        else:
            index = (self.current + step) % len(self.matches)
        return self.go_to(index)

    def go_to(self, index: int) -> str | None:
        """Enter the scope of match ``index``, select it and centre it; keep typing focus."""
        if not 0 <= index < len(self.matches):
            return None
        match = self.matches[index]
        if self.canvas.doc.locate(match.node_id) is None:  # deleted since it was listed
            self.refilter(self.edit.text())
            return None
        self.current = index
        self.canvas.select_node(match.node_id)
        self.list.setCurrentRow(index if index < self.list.count() else -1)
        self._update_count()
        if self.isVisible():
            self.raise_()
            self.edit.setFocus()
        return match.node_id
