"""A one-line label that elides its text to the width it is given, the whole text in its tooltip.

A plain ``QLabel``'s minimum width is its whole text: the timeline's run title (the schedule
spelled out) made the timeline dock 1200 px wide at least and squeezed the Details dock beside
it to 160 px. This label asks for no width of its own and shows what fits.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

__all__ = ["ElidedLabel"]


class ElidedLabel(QtWidgets.QLabel):
    """``setText`` takes the full text; the label shows it elided at the right."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.setMinimumWidth(1)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(
            self._full, QtCore.Qt.TextElideMode.ElideRight, max(self.width(), 1)
        )
        super().setText(shown)
