"""A user's hands and eyes on the timeline: click a slice, read the pixels shown.

Shared by the timeline's GUI tests: ``Pair`` is a timeline with its Details panel wired as the
run panel wires them; ``click_row`` presses the mouse on a slice where it is drawn; ``pixels``
grabs the widget as shown (``QWidget.grab``) for colour checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from app.views.slice_details import SliceDetailsPanel, link_to_timeline
from app.views.timeline import TimelineView

LEFT = QtCore.Qt.MouseButton.LeftButton


class Pair(QtWidgets.QWidget):
    """A timeline beside its Details panel."""

    def __init__(self) -> None:
        super().__init__()
        self.timeline = TimelineView()
        self.details = SliceDetailsPanel()
        link_to_timeline(self.details, self.timeline)
        row = QtWidgets.QHBoxLayout(self)
        row.addWidget(self.timeline, 3)
        row.addWidget(self.details, 2)


def row_of(trace: np.ndarray, task: int) -> int:
    """The trace row of submission index ``task``."""
    return int(np.flatnonzero(trace["task"] == task)[0])


def point(v: TimelineView, x: float, y: float) -> QtCore.QPoint:
    """The plot viewport's pixel of view point (``x`` cycles, ``y`` lanes)."""
    return v.plot.mapFromScene(v.view_box.mapViewToScene(QtCore.QPointF(x, y)))


def click_row(qtbot: Any, v: TimelineView, row: int) -> None:
    """A left click in the middle of trace row ``row``'s slice."""
    p = v.view_pos_of(row)
    qtbot.mouseClick(v.plot.viewport(), LEFT, pos=point(v, p.x(), p.y()))


def pixels(v: QtWidgets.QWidget) -> np.ndarray:
    """The widget as shown, an (h, w, 3) RGB array."""
    image = v.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine() // 4, 4)
    return raw[:, :w, 2::-1].astype(np.int16)  # BGRA in memory -> RGB


def near(px: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    """Which pixels are within ``tol`` of colour ``rgb`` on every channel."""
    return np.all(np.abs(px - np.asarray(rgb, np.int16)) <= tol, axis=-1)
