"""NodeGraphQt node classes generated from the model's kind registry.

``app.model.registry.KINDS`` is the single source of truth for what nodes exist; this module turns
each :class:`NodeKind` into a light ``BaseNode`` subclass (identifier ``pto.<category>``, class
name from the kind id, e.g. ``data.tensor`` -> ``pto.data.DataTensor``) with typed, coloured ports.
Nodes carry no embedded widgets: DESIGN §4 measured 1000 nodes at ~1.2 s plain against 6-7 s with
widgets, so every property is edited in the properties panel instead.

The view nodes hold no state of their own: the canvas creates them from document nodes, keeps
their ports equal to ``registry.ports_of(node, doc)`` (a kernel call grows one input per kernel
parameter) and mirrors names and positions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from .compat import load_nodegraphqt

NodeGraphQt = load_nodegraphqt()
BaseNode = NodeGraphQt.BaseNode

from NodeGraphQt.constants import (  # noqa: E402
    ICON_NODE_BASE,
    ITEM_CACHE_MODE,
    LayoutDirectionEnum,
    NodeEnum,
    PortTypeEnum,
)
from NodeGraphQt.qgraphics.node_abstract import AbstractNodeItem  # noqa: E402
from NodeGraphQt.qgraphics.node_base import NodeItem  # noqa: E402
from NodeGraphQt.qgraphics.node_overlay_disabled import XDisabledItem  # noqa: E402
from NodeGraphQt.qgraphics.node_text_item import NodeTextItem  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

# Port colours by port type (docs/graph-model.md "Port types"). Unknown types fall back to grey.
PORT_COLORS: dict[str, tuple[int, int, int]] = {
    "exec": (235, 235, 235),
    "tensor": (72, 152, 255),
    "scalar": (120, 220, 120),
    "axis": (255, 196, 64),
    "kernel": (222, 94, 94),
    "workload": (186, 110, 255),
    "channel": (64, 214, 214),
    "event": (255, 128, 200),
    "tile": (110, 190, 255),
    "value": (170, 170, 170),
}
DEFAULT_PORT_COLOR = (150, 150, 150)

# Node body colours by palette category, so a glance tells data from control from kernels.
CATEGORY_COLORS: dict[str, tuple[int, int, int]] = {
    "Data": (28, 58, 92),
    "Axes": (86, 66, 20),
    "Kernels": (92, 34, 34),
    "Tile ops": (30, 62, 88),
    "Workloads": (62, 38, 92),
    "Loops": (40, 72, 44),
    "Control": (48, 76, 52),
    "CSP": (24, 72, 72),
    "Events": (88, 40, 72),
    "Slots": (60, 60, 60),
    "Layout": (70, 56, 40),
    "Schedule": (52, 46, 86),
    "Program": (90, 70, 24),
}
DEFAULT_NODE_COLOR = (48, 52, 60)
SCOPE_BORDER = (200, 200, 120, 255)
NORMAL_BORDER = (74, 84, 85, 255)

# Diagnostic badges drawn in a node's top-right corner: a red disc for an error, an amber
# triangle for a warning (a directive the target keeps only as an annotation, spec §4.8), so
# the two read apart at a glance, also for colour-blind users (shape, not only colour).
BADGE_ERROR = "error"
BADGE_WARNING = "warning"
BADGE_ERROR_COLOR = (235, 64, 52)
BADGE_WARNING_COLOR = (245, 180, 30)
BADGE_SIZE = 13.0

LIBRARY_IDENTIFIER = "pto.library"


def port_color(port_type: str) -> tuple[int, int, int]:
    return PORT_COLORS.get(port_type, DEFAULT_PORT_COLOR)


def category_slug(category: str) -> str:
    """``"Tile ops"`` -> ``"tile_ops"``: a NodeGraphQt identifier segment (``[\\w]`` only)."""
    slug = re.sub(r"\W+", "_", category.strip().lower()).strip("_")
    return slug or "misc"


def class_name_for(kind_id: str) -> str:
    """``"axis.dense_dyn"`` -> ``"AxisDenseDyn"`` (unique per kind id, valid identifier)."""
    parts = re.split(r"[^0-9A-Za-z]+", kind_id)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return name if name[:1].isalpha() else f"K{name}"


def identifier_for(category: str) -> str:
    return f"pto.{category_slug(category)}"


def node_type_for(kind_id: str) -> str:
    """The NodeGraphQt node type (``<identifier>.<ClassName>``) of a registry kind."""
    from ..model import registry

    kind = registry.KINDS[kind_id]
    return f"{identifier_for(kind.category)}.{class_name_for(kind_id)}"


def library_node_type(entry_id: str) -> str:
    """The node type that stands for a kernel-library entry in palette drags (``pto.library.X``)."""
    return f"{LIBRARY_IDENTIFIER}.{class_name_for(entry_id)}"


def _draw_exec_port(painter: Any, rect: Any, info: dict[str, Any]) -> None:
    """Exec ports are drawn as arrows (Blueprint-style) so statement order reads at a glance."""
    from PySide6 import QtCore, QtGui

    painter.save()
    size = min(rect.width(), rect.height())
    cx, cy = rect.center().x(), rect.center().y()
    half = size / 2.0
    poly = QtGui.QPolygonF(
        [
            QtCore.QPointF(cx - half * 0.8, cy - half),
            QtCore.QPointF(cx + half, cy),
            QtCore.QPointF(cx - half * 0.8, cy + half),
        ]
    )
    color = QtGui.QColor(*info["color"])
    border = QtGui.QColor(*info["border_color"])
    if info.get("hovered") or info.get("connected"):
        color = QtGui.QColor(*info["color"]).lighter(115)
    if not info.get("connected"):
        color.setAlpha(90)
    painter.setPen(QtGui.QPen(border, 1.4))
    painter.setBrush(color)
    painter.drawPolygon(poly)
    painter.restore()


@cache
def _icon_pixmap(path: str) -> QtGui.QPixmap:
    """The node icon scaled to NodeGraphQt's icon size, decoded once per path (not per node)."""
    pixmap = QtGui.QPixmap(path)
    size = NodeEnum.ICON_SIZE.value
    if pixmap.size().height() > size:
        pixmap = pixmap.scaledToHeight(size, QtCore.Qt.TransformationMode.SmoothTransformation)
    if pixmap.size().width() > size:
        pixmap = pixmap.scaledToWidth(size, QtCore.Qt.TransformationMode.SmoothTransformation)
    return pixmap


class PortLabel(QtWidgets.QGraphicsSimpleTextItem):
    """A port's name on a node, drawn like NodeGraphQt's ``QGraphicsTextItem`` label.

    A ``QGraphicsTextItem`` owns a whole ``QTextDocument`` and costs ~200 us to create here; a
    simple text item costs ~15 us, which matters at one label per port of 1000s of nodes. The
    4 px document margin of the rich item is kept (bounding rect and paint offset), so
    NodeGraphQt's layout code places and sizes both the same way.
    """

    MARGIN = 4.0

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt API
        m = self.MARGIN
        return super().boundingRect().adjusted(0.0, 0.0, 2 * m, 2 * m)

    lod = False
    """True while the node is drawn zoomed out: the node paints this label at a readable size
    (the label stays in the scene, so a click on it still edits a call port's index)."""

    def paint(self, painter: QtGui.QPainter, option: Any, widget: Any = None) -> None:
        if self.lod:
            return
        painter.translate(self.MARGIN, self.MARGIN)
        super().paint(painter, option, widget)

    def setDefaultTextColor(self, color: QtGui.QColor) -> None:  # noqa: N802 - NodeGraphQt API
        """The ``QGraphicsTextItem`` call NodeGraphQt makes to colour port labels."""
        if getattr(self, "problem", None):
            color = QtGui.QColor(*BADGE_ERROR_COLOR)
        self.setBrush(color)

    # -- a kernel call's port label shows the port's index and edits it on click ------------
    on_click: Any = None
    """``callable(label)`` set by the canvas on labels whose text can be edited in place."""
    port_name: str = ""
    problem: str | None = None

    def mousePressEvent(self, event: QtWidgets.QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.on_click is not None and event.button() == QtCore.Qt.MouseButton.LeftButton:
            event.accept()
            return
        event.ignore()

    def mouseReleaseEvent(self, event: QtWidgets.QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self.on_click is not None and event.button() == QtCore.Qt.MouseButton.LeftButton:
            event.accept()
            self.on_click(self)
            return
        event.ignore()

    def set_problem(self, text: str | None) -> None:
        """Mark the label red (and say why in its tooltip) or clear the mark."""
        self.problem = text
        self.setBrush(QtGui.QColor(*BADGE_ERROR_COLOR) if text else QtGui.QColor(*LABEL_COLOR))
        self.setToolTip(text or self._base_tip)

    _base_tip = ""


LABEL_COLOR = (255, 255, 255, 180)


class IndexEditor(QtWidgets.QGraphicsTextItem):
    """The in-place editor of a call port's index, opened over its label.

    Enter (or leaving the field) commits through ``commit(text)``, Escape cancels; either way
    the editor removes itself. ``label`` is the :class:`PortLabel` it edits.
    """

    def __init__(self, label: PortLabel, text: str, commit: Any) -> None:
        super().__init__(text, label.parentItem())
        self.label = label
        self._commit = commit
        self._done = False
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextEditorInteraction)
        self.setDefaultTextColor(QtGui.QColor(20, 20, 20))
        font = QtGui.QFont(label.font())
        self.setFont(font)
        self.setZValue(10.0)
        self.setPos(label.pos())
        self.setToolTip("Index of this argument: Enter applies, Escape cancels")

    def paint(self, painter: QtGui.QPainter, option: Any, widget: Any = None) -> None:
        painter.save()
        painter.setBrush(QtGui.QColor(250, 250, 220))
        painter.setPen(QtGui.QPen(QtGui.QColor(255, 200, 60), 1.5))
        painter.drawRect(self.boundingRect())
        painter.restore()
        super().paint(painter, option, widget)

    def start(self) -> None:
        self.setFocus(QtCore.Qt.FocusReason.MouseFocusReason)
        cursor = self.textCursor()
        cursor.select(QtGui.QTextCursor.SelectionType.Document)
        self.setTextCursor(cursor)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802
        if event.key() in (QtCore.Qt.Key.Key_Return, QtCore.Qt.Key.Key_Enter):
            self.finish(True)
            return
        if event.key() == QtCore.Qt.Key.Key_Escape:
            self.finish(False)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QtGui.QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        if not self._done:
            self.finish(True)

    def finish(self, commit: bool) -> None:
        if self._done:
            return
        self._done = True
        text = self.toPlainText().strip()
        # Out of the way at once (a click right after must reach the label again); removed
        # from the scene once this key/focus handler has returned.
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.NoTextInteraction)
        self.hide()
        QtCore.QTimer.singleShot(0, self._close)
        if commit:
            self._commit(text)

    def _close(self) -> None:
        from shiboken6 import isValid

        if not isValid(self):
            return
        scene = self.scene()
        self.clearFocus()
        self.setParentItem(None)
        if scene is not None:
            scene.removeItem(self)


class _TitleEditor(NodeTextItem):
    """NodeGraphQt's rich title editor, opened over a :class:`NodeTitle` only while renaming.

    It reports the new name exactly like NodeGraphQt's title (``node_name_changed``), then
    removes itself and shows the light title again.
    """

    def __init__(self, title: NodeTitle) -> None:
        self._title: NodeTitle | None = None  # NodeTextItem.__init__ calls set_editable(False)
        # A title shows key parameters (``Q  f32[4,16]``); the editor edits the bare name.
        name = getattr(title.parentItem(), "edit_name", None)
        super().__init__(title.text() if name is None else name, title.parentItem())
        self.setFont(title.font())
        self.setDefaultTextColor(title.brush().color())
        self.setPos(title.pos())
        self._title = title

    def set_editable(self, value: bool = False) -> None:
        super().set_editable(value)
        if not value and self._title is not None:
            # Called from this item's own key/focus handler: leave the scene after it returns.
            QtCore.QTimer.singleShot(0, self._close)

    def focusOutEvent(self, event: QtGui.QFocusEvent) -> None:  # noqa: N802 - Qt API
        if self._title is None:  # closing: the edit was already committed or cancelled
            QtWidgets.QGraphicsTextItem.focusOutEvent(self, event)
            return
        super().focusOutEvent(event)

    def _close(self) -> None:
        from shiboken6 import isValid

        title, self._title = self._title, None
        if not isValid(self):
            return
        self.clearFocus()
        scene = self.scene()
        self.setParentItem(None)
        if scene is not None:
            scene.removeItem(self)
        if title is not None and isValid(title):
            title.editor_closed()


class NodeTitle(PortLabel):
    """A node's title: a light text item that opens a rich editor for in-place renaming.

    NodeGraphQt's ``NodeTextItem`` (a ``QGraphicsTextItem``, ~200 us to create) is needed only
    while the user edits the name; this item offers the calls NodeGraphQt makes on its title
    (``toPlainText``/``setPlainText``/``set_editable``/``set_locked``/``setFocus``) and hands
    editing to a :class:`_TitleEditor` placed over it.
    """

    def __init__(self, text: str, parent: Any = None) -> None:
        super().__init__(text, parent)
        self._locked = False
        self._editor: _TitleEditor | None = None
        self.setCursor(QtCore.Qt.CursorShape.IBeamCursor)

    @property
    def node(self) -> Any:
        return self.parentItem()

    def toPlainText(self) -> str:  # noqa: N802 - QGraphicsTextItem API used by NodeGraphQt
        return self.text()

    def setPlainText(self, text: str) -> None:  # noqa: N802 - QGraphicsTextItem API
        self.setText(text)

    def set_locked(self, state: bool = False) -> None:
        self._locked = state
        self.setCursor(
            QtCore.Qt.CursorShape.ArrowCursor if state else QtCore.Qt.CursorShape.IBeamCursor
        )

    def set_editable(self, value: bool = False) -> None:
        """Open (True) or close (False) the in-place name editor."""
        if self._locked:
            return
        if value and self._editor is None and self.scene() is not None:
            self._editor = _TitleEditor(self)
            self._editor.set_editable(True)
            self.setVisible(False)
        elif not value and self._editor is not None:
            self._editor.set_editable(False)

    def setFocus(self, *args: Any) -> None:  # noqa: N802 - Qt API
        """Focus goes to the editor while one is open (NodeGraphQt focuses the title)."""
        if self._editor is not None:
            self._editor.setFocus(*args)
        else:
            super().setFocus(*args)

    def editor_closed(self) -> None:
        self._editor = None
        node = self.parentItem()
        self.setVisible(not getattr(node, "_proxy_mode", False))


# Level of detail: below this view scale the node is drawn simplified (no port labels, no
# icon) and its title is painted at a size readable on screen (LOD_TITLE_PX screen pixels,
# elided to the node's width): a fitted view of a whole project still names every node.
# NodeGraphQt's own title and port text (~12 px) read below 11 px on screen under 0.9, so the
# readable drawing takes over there (a sample opens fitted at 0.6-0.95).
LOD_SCALE = 0.9
LOD_TITLE_PX = 11.0
LOD_TITLE_MAX_FILL = 0.6  # of the node height, so a far zoom-out does not overflow the box
LOD_TITLE_MIN_PX = 5.0  # a title smaller than this on screen is not drawn (unreadable anyway)
LOD_FAR_PX = 24.0  # a node narrower than this on screen is drawn as a plain filled box
LOD_LABEL_PX = 10.0  # port labels (a call's ``Q[b, h]``) on screen when zoomed out
LOD_LABEL_MIN_PX = 6.0  # ... not drawn below this


def _shrink_to_fit(font: QtGui.QFont, text: str, width: float, px: float) -> QtGui.QFontMetricsF:
    """Set ``font`` to the largest whole pixel size <= ``px`` at which ``text`` fits ``width``
    (text does not scale linearly with its pixel size: hinting, bold); its metrics."""
    size = max(1, int(px))
    font.setPixelSize(size)
    metrics = QtGui.QFontMetricsF(font)
    while size > 1 and metrics.horizontalAdvance(text) > width:
        size -= 1
        font.setPixelSize(size)
        metrics = QtGui.QFontMetricsF(font)
    return metrics


class StudioNodeItem(NodeItem):
    """NodeGraphQt's ``NodeItem`` built with light parts, with a readable zoomed-out title.

    Opening a 1000-node project must take <= 2 s (DESIGN §5) and NodeGraphQt's item is the bulk
    of it: the icon file is decoded per node and every port label is a rich text item. Here the
    icon pixmap is shared, port labels are :class:`PortLabel` and the title is a
    :class:`NodeTitle` (a rich editor is created only while the user renames the node).

    NodeGraphQt hides the title below 70 screen pixels of node width (its "proxy mode"), so a
    fitted sample showed blank boxes; see ``LOD_SCALE`` for what is drawn instead.
    """

    def __init__(self, name: str = "node", parent: Any = None) -> None:
        # NodeItem.__init__ re-done with the shared pixmap (calling it would decode the icon).
        AbstractNodeItem.__init__(self, name, parent)
        self._properties["icon"] = ICON_NODE_BASE
        self._icon_item = QtWidgets.QGraphicsPixmapItem(_icon_pixmap(ICON_NODE_BASE), self)
        self._icon_item.setTransformationMode(QtCore.Qt.TransformationMode.SmoothTransformation)
        self._text_item = NodeTitle(self.name, self)
        self._x_item = XDisabledItem(self, "DISABLED")
        self._input_items = {}
        self._output_items = {}
        self._widgets = {}
        self._proxy_mode = False
        self._proxy_mode_threshold = 70
        self._badge: str | None = None
        self.edit_name: str | None = None
        """The text the in-place rename editor opens with (the node's name; None: the title)."""

    @property
    def badge(self) -> str | None:
        """The diagnostic badge shown: ``BADGE_ERROR``, ``BADGE_WARNING`` or None."""
        return self._badge

    def set_badge(self, badge: str | None) -> None:
        if badge not in (None, BADGE_ERROR, BADGE_WARNING):
            raise ValueError(f"unknown node badge {badge!r}")
        if badge != self._badge:
            self._badge = badge
            self.update()

    def _paint_badge(self, painter: QtGui.QPainter, scale: float) -> None:
        """The badge in the top-right corner, kept ~``BADGE_SIZE`` px on screen when zoomed
        out (up to half the node height) so a fitted project still shows it."""
        size = min(BADGE_SIZE / max(scale, 1e-6), self._height * 0.45, self._width * 0.3)
        size = max(size, BADGE_SIZE * 0.75)
        rect = QtCore.QRectF(self._width - size - 1.5, 1.5, size, size)
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QtGui.QPen(QtGui.QColor(20, 20, 20, 200), max(size / 14.0, 1.0)))
        if self._badge == BADGE_ERROR:
            painter.setBrush(QtGui.QColor(*BADGE_ERROR_COLOR))
            painter.drawEllipse(rect)
            mark = QtGui.QColor(255, 255, 255)
        else:
            painter.setBrush(QtGui.QColor(*BADGE_WARNING_COLOR))
            triangle = QtGui.QPolygonF(
                [
                    QtCore.QPointF(rect.center().x(), rect.top()),
                    QtCore.QPointF(rect.right(), rect.bottom()),
                    QtCore.QPointF(rect.left(), rect.bottom()),
                ]
            )
            painter.drawPolygon(triangle)
            mark = QtGui.QColor(30, 30, 30)
        font = QtGui.QFont(self._text_item.font())
        font.setBold(True)
        font.setPixelSize(max(1, round(size * 0.7)))
        painter.setFont(font)
        painter.setPen(mark)
        text_rect = rect.adjusted(0.0, size * 0.12 if self._badge == BADGE_WARNING else 0.0, 0, 0)
        painter.drawText(text_rect, int(QtCore.Qt.AlignmentFlag.AlignCenter), "!")
        painter.restore()

    @property
    def icon(self) -> str | None:
        return self._properties["icon"]

    @icon.setter
    def icon(self, path: str | None = None) -> None:
        self._properties["icon"] = path
        pixmap = _icon_pixmap(path or ICON_NODE_BASE)
        if self._icon_item.pixmap().cacheKey() != pixmap.cacheKey():
            self._icon_item.setPixmap(pixmap)
            if self.scene():
                self.post_init()
            self.update()

    def paint(self, painter: QtGui.QPainter, option: Any, widget: Any = None) -> None:
        """NodeGraphQt's paint, with a level of detail chosen from the painter's scale.

        (Upstream maps two corners to global screen coordinates per paint to decide.)
        """
        scale = option.levelOfDetailFromTransform(painter.worldTransform())
        self.set_proxy_mode(scale < LOD_SCALE)
        if self._width * scale < LOD_FAR_PX:
            # A whole large graph in view: thousands of nodes a few pixels wide.
            painter.fillRect(self.boundingRect(), QtGui.QColor(*self.color))
            if self._badge is not None:
                color = BADGE_ERROR_COLOR if self._badge == BADGE_ERROR else BADGE_WARNING_COLOR
                painter.fillRect(self.boundingRect(), QtGui.QColor(*color))
            return
        if self.layout_direction == LayoutDirectionEnum.VERTICAL.value:
            self._paint_vertical(painter, option, widget)
        else:
            self._paint_horizontal(painter, option, widget)
        if self._proxy_mode and scale > 0.0:
            labels = self._lod_labels()
            if labels:
                self._paint_lod_ports(painter, scale, labels)
            else:
                self._paint_lod_title(painter, scale)
        if self._badge is not None:
            self._paint_badge(painter, scale)

    def set_proxy_mode(self, mode: bool) -> None:
        """NodeGraphQt's proxy mode, except that port labels stay in the scene (drawn by the
        node at a readable size, see ``_paint_lod_ports``) so they can still be clicked."""
        if mode is self._proxy_mode:
            return
        super().set_proxy_mode(mode)
        horizontal = self.layout_direction != LayoutDirectionEnum.VERTICAL.value
        for items in (self._input_items, self._output_items):
            for port, text in items.items():
                if port.display_name and horizontal:
                    text.lod = mode
                    text.setVisible(True)

    def _lod_labels(self) -> list[tuple[Any, bool]]:
        """(label, is output) of the labelled ports, when any port shows more than its name
        (a call's ``Q[b, h]``): those nodes draw their ports readable when zoomed out."""
        out = [(t, False) for p, t in self._input_items.items() if p.display_name]
        out += [(t, True) for p, t in self._output_items.items() if p.display_name]
        if not any(getattr(t, "on_click", None) is not None for t, _o in out):
            return []
        return out

    def _paint_lod_ports(self, painter: QtGui.QPainter, scale: float, labels: list[tuple[Any, bool]]) -> None:  # fmt: skip
        """Zoomed out, a node whose port labels carry information (a call: ``Q[b, h]``) shows
        its title in the title band and each port label beside its port, at sizes readable on
        screen (``LOD_TITLE_PX`` / ``LOD_LABEL_PX``), shrunk to fit the node."""
        pad = 12.0
        first_row = min((t.pos().y() for t, _o in labels), default=self._height)
        band = QtCore.QRectF(pad * 0.5, 0.0, max(self._width - pad, 1.0), max(first_row, 12.0))
        painter.save()
        font = QtGui.QFont(self._text_item.font())
        font.setBold(True)
        px = min(LOD_TITLE_PX / scale, band.height() * 0.9)
        font.setPixelSize(max(1, round(px)))
        metrics = QtGui.QFontMetricsF(font)
        advance = metrics.horizontalAdvance(self.name)
        if advance > band.width():
            font.setPixelSize(max(1, int(px * band.width() / advance)))
            metrics = QtGui.QFontMetricsF(font)
        if font.pixelSize() * scale >= LOD_TITLE_MIN_PX:
            painter.setFont(font)
            painter.setPen(QtGui.QColor(*self.text_color[:3], 235))
            text = metrics.elidedText(self.name, QtCore.Qt.TextElideMode.ElideRight, band.width())
            painter.drawText(band, int(QtCore.Qt.AlignmentFlag.AlignCenter), text)
        row_h = min((t.boundingRect().height() for t, _o in labels), default=20.0)
        lpx = min(LOD_LABEL_PX / scale, row_h * 0.85)
        half = max(self._width / 2.0 - pad, 10.0)
        if lpx * scale >= LOD_LABEL_MIN_PX:
            lfont = QtGui.QFont(font)
            lfont.setBold(False)
            lfont.setPixelSize(max(1, round(lpx)))
            lmetrics = QtGui.QFontMetricsF(lfont)
            painter.setFont(lfont)
            for label, is_out in labels:
                r = label.mapRectToParent(label.boundingRect())
                text = label.text()
                width = lmetrics.horizontalAdvance(text)
                if width > half:
                    text = lmetrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, half)
                    width = half
                cy = r.center().y()
                if is_out:
                    x = min(r.right() - PortLabel.MARGIN, self._width - 6.0) - width
                else:
                    x = max(r.left() + PortLabel.MARGIN, 6.0)
                box = QtCore.QRectF(x, cy - row_h / 2, width + 1.0, row_h)
                color = label.brush().color()
                painter.setPen(QtGui.QColor(color.red(), color.green(), color.blue(), 235))
                align = QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignLeft
                painter.drawText(box, int(align), text)
        painter.restore()

    def _paint_lod_title(self, painter: QtGui.QPainter, scale: float) -> None:
        """The title at ``LOD_TITLE_PX`` screen pixels, centred in the node.

        A title wider than the node is drawn smaller, down to ``LOD_TITLE_MIN_PX`` on screen
        (titles carry key parameters, ``Q  f32[4,8,16,16]``: eliding them hid the shape); when
        "Kind: name" still does not fit, the name alone is shown (elided if still too long).
        """
        pad = 12.0  # clear of the port circles on both edges
        rect = QtCore.QRectF(pad, 0.0, max(self._width - 2 * pad, 1.0), self._height)
        px = min(LOD_TITLE_PX / scale, self._height * LOD_TITLE_MAX_FILL)
        if px * scale < LOD_TITLE_MIN_PX:
            return
        font = QtGui.QFont(self._text_item.font())
        font.setPixelSize(max(1, round(px)))
        font.setBold(True)
        metrics = QtGui.QFontMetricsF(font)
        text = self.name
        flags = int(QtCore.Qt.AlignmentFlag.AlignCenter)
        wrap = flags | int(QtCore.Qt.TextFlag.TextWordWrap)
        advance = metrics.horizontalAdvance(text)
        if advance > rect.width():
            fitted = px * rect.width() / advance
            # Shrunk a little on one line; else two lines at full size when they fit
            # (``attn_kernel(Q, K, V)`` / ``→ O``: a signature is worth more than a uniform
            # look); else shrunk further, down to LOD_TITLE_MIN_PX + 2 on screen.
            two = metrics.boundingRect(rect, wrap, text) if " " in text else None
            if fitted * scale >= LOD_TITLE_PX - 2.0:
                metrics = _shrink_to_fit(font, text, rect.width(), fitted)
            elif two is not None and two.height() <= rect.height() and two.width() <= rect.width() + 0.5:  # fmt: skip
                flags = wrap
            elif fitted * scale >= LOD_TITLE_MIN_PX + 2.0:
                metrics = _shrink_to_fit(font, text, rect.width(), fitted)
        if flags != wrap and metrics.horizontalAdvance(text) > rect.width() and ": " in text:
            # "Tensor: q" -> "q": the body colour already tells the kind, the name does not.
            text = text.split(": ", 1)[1]
        if flags != wrap:
            text = metrics.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, rect.width())
        painter.save()
        painter.setFont(font)
        painter.setPen(QtGui.QColor(*self.text_color[:3], 235))
        painter.drawText(rect, flags, text)
        painter.restore()

    def _tooltip_disable(self, state: bool) -> None:
        """The canvas owns node tooltips (kind doc, diagnostics); NodeGraphQt's is not set."""

    def from_dict(self, node_dict: dict[str, Any]) -> None:
        """Apply only the values that differ from the item's (NodeGraphQt sets all of them).

        ``NodeGraph.add_node`` pushes every model field into a new item; each setter repaints,
        re-measures or reloads something although almost all values are already equal.
        ``width``/``height`` are skipped: a Studio node's size always follows its content
        (``draw_node`` recomputes it), it is never resized by hand.
        """
        props = self._properties
        changed = {}
        for key, value in node_dict.items():
            if key in ("width", "height"):
                continue
            if key in props and props[key] == value:
                continue
            if key == "pos" and list(value) == list(self.xy_pos):
                continue
            changed[key] = value
        super().from_dict(changed)

    def _add_port(self, port: Any) -> Any:
        text = PortLabel(port.name, self)
        text.port_name = port.name
        text.setVisible(port.display_name)
        text.setCacheMode(ITEM_CACHE_MODE)
        if self._proxy_mode:
            # A port added while zoomed out (a call's ports re-derived when its kernel comes
            # back on undo) starts in the node's current level of detail, as ``set_proxy_mode``
            # leaves the others: else the label drew itself under the node's readable copy of
            # it (``_paint_lod_ports``), the two overlapping until the zoom crossed LOD_SCALE.
            if self.layout_direction != LayoutDirectionEnum.VERTICAL.value:
                text.lod = True
            else:
                text.setVisible(False)
        if port.port_type == PortTypeEnum.IN.value:
            self._input_items[port] = text
        elif port.port_type == PortTypeEnum.OUT.value:
            self._output_items[port] = text
        if self.scene():
            self.post_init()
        return port


class StudioNode(BaseNode):
    """Base of every generated node class: ports come from a registry kind.

    ``KIND_ID`` names the registry kind. ``set_ports`` makes the node's ports equal to a list of
    ``PortSpec`` (used for dynamic ports); the class constructor adds the kind's static ports.
    """

    __identifier__ = "pto"
    NODE_NAME = "node"
    KIND_ID = ""

    def __init__(self, port_specs: Iterable[Any] | None = None, name: str | None = None) -> None:
        """A node of ``KIND_ID`` with ports ``port_specs`` (default: the kind's static ports).

        The canvas passes the node's final ports (``registry.ports_of``) so each port item is
        created once: building ports and then replacing them doubled the cost of opening a
        project (DESIGN §4 budget: 1000 nodes in <= 2 s). ``name`` is the initial title (default:
        the kind's title), set before the title item exists so its text is laid out once.
        """
        if name is not None:
            self.NODE_NAME = name
        title = self.NODE_NAME
        # The item is created with its title (NodeGraphQt would lay out "node" first).
        super().__init__(lambda: StudioNodeItem(title))
        self.set_port_deletion_allowed(True)
        from ..model import registry

        if self.KIND_ID:
            kind = registry.KINDS[self.KIND_ID]
            self.set_color(*CATEGORY_COLORS.get(kind.category, DEFAULT_NODE_COLOR))
            if kind.scope:
                self.model.border_color = SCOPE_BORDER
            self.set_ports(kind.ports if port_specs is None else port_specs)
        elif port_specs is not None:
            self.set_ports(port_specs)

    # -- ports ----------------------------------------------------------------------------
    def port_signature(self) -> list[tuple[str, str]]:
        """``[(direction, name), ...]`` in display order: inputs first, then outputs."""
        return [("in", p.name()) for p in self.input_ports()] + [
            ("out", p.name()) for p in self.output_ports()
        ]

    def set_ports(self, specs: Iterable[Any]) -> bool:
        """Make the ports equal to ``specs`` (PortSpec-like); True when anything changed.

        Existing connections of removed ports are dropped without undo or signals: the canvas
        reconnects from the document afterwards, which is the only state that matters.
        """
        specs = list(specs)
        wanted = [(s.direction, s.name) for s in specs if s.direction == "in"] + [
            (s.direction, s.name) for s in specs if s.direction == "out"
        ]
        if wanted == self.port_signature() and self._port_types == _types_of(specs):
            return False
        for port in list(self.input_ports()):
            port.clear_connections(push_undo=False, emit_signal=False)
            self.delete_input(port)
        for port in list(self.output_ports()):
            port.clear_connections(push_undo=False, emit_signal=False)
            self.delete_output(port)
        for spec in specs:
            color = port_color(spec.type)
            painter = _draw_exec_port if spec.type == "exec" else None
            if spec.direction == "in":
                self.add_input(
                    spec.name,
                    multi_input=bool(spec.multi),
                    color=color,
                    painter_func=painter,
                )
            else:
                self.add_output(
                    spec.name,
                    multi_output=spec.type != "exec",
                    color=color,
                    painter_func=painter,
                )
        self._port_types = _types_of(specs)
        for port in self.input_ports() + self.output_ports():
            spec_type = self._port_types.get((port.type_(), port.name()), "")
            port.view.setToolTip(f"{port.name()}: {spec_type}")
        if self.view.scene() is not None:
            self.view.draw_node()
        return True

    def port_label(self, direction: str, name: str) -> PortLabel | None:
        """The label item of this node's port (``direction`` "in"/"out"), or None."""
        port = self.get_input(name) if direction == "in" else self.get_output(name)
        if port is None:
            return None
        items = self.view._input_items if direction == "in" else self.view._output_items
        return items.get(port.view)

    def set_port_labels(
        self,
        texts: dict[str, str],
        on_click: Any = None,
        problems: dict[str, str] | None = None,
    ) -> bool:
        """Show ``texts[port name]`` as the label of that port (both sides of an InOut port),
        clickable through ``on_click(label)``; ``problems[port name]`` marks a label red with
        the reason in its tooltip. True when a label's text changed (the node was re-laid)."""
        changed = False
        problems = problems or {}
        for direction, name in self.port_signature():
            label = self.port_label(direction, name)
            if label is None:
                continue
            text = texts.get(name, name)
            if label.text() != text:
                label.setText(text)
                changed = True
            label.on_click = on_click if name in texts else None
            label.setCursor(
                QtCore.Qt.CursorShape.IBeamCursor
                if label.on_click is not None
                else QtCore.Qt.CursorShape.ArrowCursor
            )
            tip = f"{name}: click to edit its index" if label.on_click is not None else ""
            label._base_tip = tip
            label.set_problem(problems.get(name))
        if changed and self.view.scene() is not None:
            self.view.draw_node()
        return changed

    @property
    def _port_types(self) -> dict[tuple[str, str], str]:
        return self.__dict__.setdefault("_studio_port_types", {})

    @_port_types.setter
    def _port_types(self, value: dict[tuple[str, str], str]) -> None:
        self.__dict__["_studio_port_types"] = value

    def port_type_of(self, direction: str, name: str) -> str:
        """The registry port type of this node's port (``""`` if unknown)."""
        return self._port_types.get(("in" if direction == "in" else "out", name), "")


def _types_of(specs: Iterable[Any]) -> dict[tuple[str, str], str]:
    return {("in" if s.direction == "in" else "out", s.name): s.type for s in specs}


@cache
def node_classes() -> dict[str, type[StudioNode]]:
    """One generated ``StudioNode`` subclass per registry kind, keyed by kind id."""
    from ..model import registry
    from .frames import FrameNode

    classes: dict[str, type[StudioNode]] = {}
    for kind_id, kind in registry.KINDS.items():
        base = FrameNode if getattr(kind, "frame", False) else StudioNode
        cls = type(
            class_name_for(kind_id),
            (base,),
            {
                "__identifier__": identifier_for(kind.category),
                "NODE_NAME": kind.title,
                "KIND_ID": kind_id,
                "__doc__": kind.doc or kind.title,
            },
        )
        classes[kind_id] = cls
    return classes


@cache
def kind_by_node_type() -> dict[str, str]:
    """NodeGraphQt node type -> registry kind id (reverse of :func:`node_type_for`)."""
    return {cls.type_: kind_id for kind_id, cls in node_classes().items()}


def register_all(graph: Any) -> None:
    """Register every generated class with a NodeGraph (skips ones already registered)."""
    known = set(graph.registered_nodes())
    for cls in node_classes().values():
        if cls.type_ not in known:
            graph.register_node(cls)


def parse_node_urn(data: str) -> list[str]:
    """Node types named by a ``nodegraphqt/nodes`` payload (``ngqt::node:a.B;node:c.D``)."""
    return re.findall(r"node:([\w\.]+)", data)


def node_urn(node_type: str) -> str:
    """The ``nodegraphqt/nodes`` MIME payload NodeGraphQt's viewer expects for one node type."""
    return f"ngqt::node:{node_type}"
