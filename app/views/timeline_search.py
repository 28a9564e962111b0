"""The timeline's slice search field (Ctrl+F): a query, a match count, next and previous.

Looks like the canvas find bar (``app.editor.find_bar``) and shares its field
(``app.find_field``): Enter or F3 goes to the next match, Shift+Enter or Shift+F3 to the previous
one (wrapping), Esc closes the field. The grammar
and the matching are ``pto_wsp.runtime.trace_search`` (pure numpy); this widget only keeps the
matched rows, the current one and the label: "3 of 128", "no match", or the parse error. Going
to a match is the view's job (``go_to`` callback), so this module knows no timeline.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6 import QtCore, QtWidgets

from pto_wsp.runtime.trace_search import QueryError

from ..find_field import FindField

__all__ = ["TimelineSearchBar"]

FindRows = Callable[[str], np.ndarray]  # query text -> rows by start; raises QueryError
GoTo = Callable[[int], None]  # trace row -> select and show it

_PLACEHOLDER = "Search slices: kernel[i, *], worker N, stream N or a kernel name"
_ERROR_STYLE = "color: #c0392b;"


class TimelineSearchBar(QtWidgets.QFrame):
    """The search row above the lanes; hidden until ``open``.

    ``find_rows(text)`` returns the matching trace rows in start order (raising ``QueryError``
    for a bad query); ``go_to(row)`` shows and selects one; ``closed`` fires on Esc / ✕.
    """

    closed = QtCore.Signal()
    matches_changed = QtCore.Signal(object)  # the rows the text matches now (empty: none)

    def __init__(self, find_rows: FindRows, go_to: GoTo, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._find_rows = find_rows
        self._go_to = go_to
        self.setObjectName("TimelineSearchBar")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.edit = FindField(self, self.next_match, self.close_bar)
        self.edit.setPlaceholderText(_PLACEHOLDER)
        self.edit.setToolTip(
            "kernel[i, j] (* for any index), worker N, stream N, or part of a kernel name.\n"
            "Enter / F3: next match, Shift+Enter / Shift+F3: previous, Esc: close"
        )
        self.count_label = QtWidgets.QLabel(self)
        self.count_label.setMinimumWidth(56)
        self.count_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.count_label.setWordWrap(True)
        buttons = []
        for text, tip, step in (("▲", "Previous match (Shift+Enter)", -1), ("▼", "Next match (Enter)", 1)):  # fmt: skip
            b = QtWidgets.QToolButton(self)
            b.setText(text)
            b.setAutoRaise(True)
            b.setToolTip(tip)
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, s=step: self.next_match(s))
            buttons.append(b)
        self.prev_button, self.next_button = buttons
        close = QtWidgets.QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Close (Esc)")
        close.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.close_bar)
        row = QtWidgets.QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.setSpacing(2)
        row.addWidget(self.edit, 2)
        row.addWidget(self.count_label, 1)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addWidget(close)
        self.matches: np.ndarray = np.zeros(0, dtype=np.int64)
        self.current = -1  # index in ``matches`` of the slice last gone to
        self.error = ""  # the parse error of the text ("" when it parses)
        self.edit.textChanged.connect(self.refilter)
        self.hide()

    @property
    def text(self) -> str:
        """The count / error label's text ("3 of 128", "no match", a parse error, or "")."""
        return self.count_label.text()

    def open(self) -> None:
        """Show the field with its text selected, so typing replaces the last search."""
        self.show()
        self.refilter(self.edit.text())
        self.edit.setFocus()
        self.edit.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.closed.emit()

    def reset(self) -> None:
        """A new run: the old rows mean nothing; search again on the current text."""
        if self.isVisible():
            self.refilter(self.edit.text())
        else:
            self.matches = np.zeros(0, dtype=np.int64)
            self.current = -1
            self.matches_changed.emit(self.matches)

    def refilter(self, text: str) -> None:
        self.current = -1
        self.error = ""
        self.matches = np.zeros(0, dtype=np.int64)
        if text.strip():
            try:
                self.matches = np.asarray(self._find_rows(text), dtype=np.int64)
            except QueryError as exc:
                self.error = str(exc)
        self._update_label()
        self.matches_changed.emit(self.matches)

    def _update_label(self) -> None:
        n = len(self.matches)
        self.count_label.setStyleSheet(_ERROR_STYLE if self.error else "")
        self.count_label.setToolTip(self.error)
        if self.error:
            self.count_label.setText(self.error)
        elif not self.edit.text().strip():
            self.count_label.setText("")
        elif not n:
            self.count_label.setText("no match")
        elif self.current < 0:
            self.count_label.setText(f"{n:,} match{'es' if n != 1 else ''}")
        else:
            self.count_label.setText(f"{self.current + 1:,} of {n:,}")

    def next_match(self, step: int = 1) -> int | None:
        """Go to the next (``step`` 1) or previous (-1) match, wrapping; its row (None: none)."""
        if not len(self.matches):
            return None
        if self.current < 0:
            index = 0 if step > 0 else len(self.matches) - 1
        else:
            index = (self.current + step) % len(self.matches)
        self.current = index
        row = int(self.matches[index])
        self._update_label()
        self._go_to(row)
        if self.isVisible():  # a graph selection made from the match must not take the keys
            self.edit.setFocus()
        return row
