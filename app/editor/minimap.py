"""A minimap in the canvas's corner: every node and frame of the shown canvas and the visible rect.

Click or drag on it to move the view there (the zoom is kept). It must stay cheap on a
5000-node scope, so it never walks the scene while painting:

* node rects are read from the node items' positions and sizes (like ``compat.node_items_rect``)
  only when the scope's content changed — a poll compares the editor's revision, the shown graph
  and the node count, a few attribute reads — and are rendered once into a pixmap;
* painting draws that pixmap and one rectangle for the view; the view rect is polled too, and
  the widget repaints only when it moved.

The poll runs only while the minimap is shown. While every node of the scope is in view the
minimap has nothing to navigate to, so it stands aside: it paints nothing and lets the mouse
through (``collapsed``), and a fitted sample never has a node hidden under it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from .canvas_api import CanvasApi
from .compat import center_on, visible_scene_rect

MINIMAP_SIZE = QtCore.QSize(220, 150)
MINIMAP_MARGIN = 12  # from the viewer's bottom-right corner
INNER_PAD = 6.0
POLL_MS = 120
BACKGROUND = QtGui.QColor(20, 22, 27, 215)
BORDER = QtGui.QColor(90, 96, 110)
NODE_FILL = QtGui.QColor(150, 160, 180)
FRAME_FILL = QtGui.QColor(90, 110, 140, 90)
VIEW_PEN = QtGui.QColor(255, 200, 60)


class Minimap(QtWidgets.QWidget):
    """Overview of ``canvas``'s shown scope, a child widget of its viewer (bottom-right)."""

    def __init__(self, canvas: CanvasApi) -> None:
        super().__init__(canvas.viewer)
        self.canvas = canvas
        self.setObjectName("Minimap")
        self.setFixedSize(MINIMAP_SIZE)
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Minimap: click or drag to move the view")
        self._content_key: tuple[Any, ...] | None = None
        self._nodes = np.zeros((0, 4))  # x, y, w, h in scene coordinates
        self._frames = np.zeros((0, 4))
        self._content = QtCore.QRectF()  # union of nodes and frames
        self._bounds = QtCore.QRectF()  # what the widget maps: content and view rect
        self._view = QtCore.QRectF()
        self._pixmap: QtGui.QPixmap | None = None
        self.collapsed = False  # everything is in view: nothing drawn, clicks pass through
        self.renders = 0  # pixmap renders so far (a cost the tests watch)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        canvas.viewer.installEventFilter(self)
        self._place()

    # -- geometry --------------------------------------------------------------------------------
    def _place(self) -> None:
        viewer = self.canvas.viewer
        self.move(
            max(0, viewer.width() - self.width() - MINIMAP_MARGIN),
            max(0, viewer.height() - self.height() - MINIMAP_MARGIN),
        )

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Resize:
            self._place()
        return False

    def _scale(self) -> tuple[float, float, float]:
        """(scale, x offset, y offset) mapping scene coordinates into the widget."""
        b = self._bounds
        if b.isNull() or b.width() <= 0 or b.height() <= 0:
            return 1.0, 0.0, 0.0
        w = self.width() - 2 * INNER_PAD
        h = self.height() - 2 * INNER_PAD
        s = min(w / b.width(), h / b.height())
        ox = INNER_PAD + (w - b.width() * s) / 2 - b.left() * s
        oy = INNER_PAD + (h - b.height() * s) / 2 - b.top() * s
        return s, ox, oy

    def to_scene(self, pos: QtCore.QPointF | QtCore.QPoint) -> QtCore.QPointF:
        """The scene point under widget position ``pos``."""
        s, ox, oy = self._scale()
        return QtCore.QPointF((pos.x() - ox) / s, (pos.y() - oy) / s)

    def to_widget(self, point: QtCore.QPointF) -> QtCore.QPointF:
        """Where scene ``point`` is drawn in the widget."""
        s, ox, oy = self._scale()
        return QtCore.QPointF(point.x() * s + ox, point.y() * s + oy)

    # -- content ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read node rects if the scope's content changed; repaint if anything moved."""
        canvas = self.canvas
        graph = canvas.current_graph()
        key = (id(canvas.doc), canvas.editor.revision, id(graph), canvas.scope,
               len(canvas.graph.model.nodes))  # fmt: skip
        content_changed = key != self._content_key
        if content_changed:
            self._content_key = key
            old = (self._nodes, self._frames)
            self._read_rects()  # ~12 ms at 5000 nodes; a re-render costs as much again
            moved = not (
                np.array_equal(old[0], self._nodes) and np.array_equal(old[1], self._frames)
            )
            content_changed = moved or self._pixmap is None  # (a property edit moves nothing)
        view = visible_scene_rect(canvas.viewer)
        if not content_changed and view == self._view:
            return
        self._view = view
        self._set_collapsed(self._content.isNull() or view.contains(self._content))
        bounds = self._content.united(view) if not self._content.isNull() else QtCore.QRectF(view)
        if content_changed or not self._bounds.contains(bounds):
            pad = max(bounds.width(), bounds.height()) * 0.05
            self._bounds = bounds.adjusted(-pad, -pad, pad, pad)
            self._render()
        self.update()

    def _set_collapsed(self, collapsed: bool) -> None:
        if collapsed == self.collapsed:
            return
        self.collapsed = collapsed
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents, collapsed)
        self.setToolTip("" if collapsed else "Minimap: click or drag to move the view")
        self.update()

    def _read_rects(self) -> None:
        from NodeGraphQt import BackdropNode

        from .frames import FrameNode

        nodes, frames = [], []
        for node in self.canvas.graph.all_nodes():
            item = node.view
            if isinstance(node, (BackdropNode, FrameNode)):
                r = item.sceneBoundingRect()
                frames.append((r.x(), r.y(), r.width(), r.height()))
            else:
                nodes.append((item.x(), item.y(), item._width, item._height))
        self._nodes = np.asarray(nodes, dtype=np.float64).reshape(-1, 4)
        self._frames = np.asarray(frames, dtype=np.float64).reshape(-1, 4)
        both = np.concatenate([self._nodes, self._frames])
        if len(both):
            left, top = both[:, :2].min(axis=0)
            right, bottom = (both[:, :2] + both[:, 2:]).max(axis=0)
            self._content = QtCore.QRectF(left, top, right - left, bottom - top)
        else:
            self._content = QtCore.QRectF()

    def _mapped(self, rects: np.ndarray, min_size: float) -> list[QtCore.QRectF]:
        s, ox, oy = self._scale()
        if not len(rects):
            return []
        xy = rects[:, :2] * s + (ox, oy)
        wh = np.maximum(rects[:, 2:] * s, min_size)
        return [QtCore.QRectF(*row) for row in np.concatenate([xy, wh], axis=1).tolist()]

    def _render(self) -> None:
        """Draw frames and nodes once into a pixmap (painting then costs one blit)."""
        ratio = self.devicePixelRatioF()
        pixmap = QtGui.QPixmap(self.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(pixmap)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(FRAME_FILL)
        frames = self._mapped(self._frames, 2.0)
        if frames:
            painter.drawRects(frames)
        painter.setBrush(NODE_FILL)
        nodes = self._mapped(self._nodes, 1.5)
        if nodes:
            painter.drawRects(nodes)
        painter.end()
        self._pixmap = pixmap
        self.renders += 1

    def view_rect_in_widget(self) -> QtCore.QRectF:
        """The visible scene rect as drawn on the minimap."""
        return QtCore.QRectF(self.to_widget(self._view.topLeft()),
                             self.to_widget(self._view.bottomRight()))  # fmt: skip

    # -- Qt --------------------------------------------------------------------------------------
    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._place()
        self.refresh()
        self._timer.start()

    def hideEvent(self, event: QtGui.QHideEvent) -> None:  # noqa: N802
        self._timer.stop()
        super().hideEvent(event)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802
        if self.collapsed:
            return
        painter = QtGui.QPainter(self)
        painter.setPen(BORDER)
        painter.setBrush(BACKGROUND)
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        if self._pixmap is not None:
            painter.drawPixmap(0, 0, self._pixmap)
        if not self._view.isNull():
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.setPen(QtGui.QPen(VIEW_PEN, 1.5))
            painter.drawRect(self.view_rect_in_widget().intersected(QtCore.QRectF(self.rect())))
        painter.end()

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            self.centre_at(event.position())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            self.centre_at(event.position())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def centre_at(self, pos: QtCore.QPointF | QtCore.QPoint) -> None:
        """Centre the canvas view on the scene point under widget position ``pos``."""
        if self._bounds.isNull():
            self.refresh()
        center_on(self.canvas.viewer, self.to_scene(pos))
        self._view = visible_scene_rect(self.canvas.viewer)
        self.update()  # bounds are kept while dragging so the map does not slide under the mouse
