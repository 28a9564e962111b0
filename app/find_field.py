"""The line edit of a find bar: Enter/F3 next, Shift+Enter/Shift+F3 previous, Esc close.

Shared by the canvas's node search (``app.editor.find_bar``) and the timeline's slice search
(``app.views.timeline_search``) so that both fields take the same keys the same way. The field
claims those keys in ``ShortcutOverride``: a window action bound to one of them (Esc cancels a
running program, F3 is the canvas's Find Next) must not steal them while the user types here.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["FindField", "OWN_KEYS"]

OWN_KEYS = (
    QtCore.Qt.Key.Key_Escape,
    QtCore.Qt.Key.Key_Return,
    QtCore.Qt.Key.Key_Enter,
    QtCore.Qt.Key.Key_F3,
)


class FindField(QtWidgets.QLineEdit):
    """``step(+1 / -1)`` on Enter/F3 (Shift: back), ``close()`` on Esc, ``move(+1 / -1)`` on
    Down/Up when given (a bar with a match list moves its cursor)."""

    def __init__(
        self,
        parent: QtWidgets.QWidget,
        step: Callable[[int], object],
        close: Callable[[], object],
        move: Callable[[int], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._step = step
        self._close = close
        self._move = move

    def event(self, event: QtCore.QEvent) -> bool:
        if (
            event.type() == QtCore.QEvent.Type.ShortcutOverride
            and isinstance(event, QtGui.QKeyEvent)
            and event.key() in OWN_KEYS
        ):
            event.accept()  # ours, not the window's
            return True
        return super().event(event)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        back = bool(event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier)
        if key in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter, QtCore.Qt.Key.Key_F3):
            self._step(-1 if back else 1)
            return
        if key == QtCore.Qt.Key.Key_Escape:
            self._close()
            return
        if self._move is not None and key in (QtCore.Qt.Key.Key_Down, QtCore.Qt.Key.Key_Up):
            self._move(1 if key == QtCore.Qt.Key.Key_Down else -1)
            return
        super().keyPressEvent(event)
