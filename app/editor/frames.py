"""Frames on the canvas: loops, branches, pipes, processes, workloads and programs (v2).

A v2 document is one root canvas; a node inside a frame names that frame in ``parent``
(docs/graph-model.md). This module draws frames the way DESIGN §1 "Graph model (v2)" asks,
knowing NodeGraphQt 0.6.44's backdrops do not fit (their membership is geometric, ``set_pos``
leaves contents behind, they all share one Z and paint their header as plain text):

* **membership is the model's.** A frame's rect is computed bottom-up from the rects of its
  children (``layout_frames``): their union, padded, with a header band on top; an empty frame
  sits at its ``pos`` with a minimum size. Nested frames are computed deepest first and drawn
  at a Z that grows with depth, so an inner frame paints over the outer one and every node and
  wire paints over both.
* **a frame is a NodeGraphQt node** (:class:`FrameNode`, item :class:`FrameItem`), so selection,
  the rubber band, deletion and the viewer's move bookkeeping treat it like any node. Its
  *shape* is the header band and a border strip only: a click inside a frame reaches the
  canvas (rubber band, drop, "add here"), and a drag on the header or the border moves the
  frame. Dragging a frame moves what it holds: on press the item records its descendants'
  positions with the viewer and selects them for the drag; on release the previous selection
  is restored. The viewer then reports one move for all of them.
* **headers are our own painting**: the title (``app.model.titles``; a workload's or program's
  schedule summary on a second line), drawn at a size readable on screen when zoomed out.
  ``branch.case`` frames are the compartments of their ``branch.chain``: aligned to a common
  height (side by side) or width (stacked), each with its predicate in its header.
* **order numbers** (:class:`OrderBadge`): a small number on each framed child, its place in
  the frame's ordered child list (the program order export writes).
* **reference links** (:class:`RefLink`): thin dashed lines from channel senders/closers to
  the channel and from the channel to the consume frames reading it (references are properties
  in v2, not wires, but a pipeline must still read sender -> channel -> consumer).

Comment backdrops (``graph.backdrops``) stay NodeGraphQt ``BackdropNode`` items, distinct from
frames: they hold nothing and never move what lies on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from .compat import load_nodegraphqt

NodeGraphQt = load_nodegraphqt()
from NodeGraphQt.base.node import NodeObject  # noqa: E402
from NodeGraphQt.constants import NodeEnum  # noqa: E402
from NodeGraphQt.qgraphics.node_abstract import AbstractNodeItem  # noqa: E402

if TYPE_CHECKING:
    from ..model.document import Document, Node

FRAME_PAD = 26.0
"""Space between a frame's border and the children it holds (scene units; the same as
``app.model.arrange.FRAME_PAD``, so an arranged canvas has no overlaps)."""
HEADER_H = 34.0
"""Height of a frame's header band (the title line; ``app.model.arrange.HEADER_H``)."""
SUMMARY_H = 24.0
"""Extra header height for the schedule summary line of a workload/program frame."""
EMPTY_W, EMPTY_H = 260.0, 130.0
"""Size of a frame with no children (at its ``pos``)."""
GRIP = 9.0
"""Width of the border strip that picks and drags a frame (its interior is click-through)."""
TITLE_PX = 17.0
"""Header title size in scene pixels at 100 % zoom."""
TITLE_SCREEN_PX = 11.5
"""Minimum on-screen size of a header title when zoomed out (see ``FrameItem.paint``)."""
READABLE_ZOOM = 0.6
"""The lowest zoom a project opens at (issue 13): a frame is wide enough for its whole header
at the size it is drawn there (``header_text_width``)."""
FRAME_Z0 = -1.9
"""Z of a root-level frame: above comment backdrops (-2), below wires (-1) and nodes (1)."""
FRAME_DZ = 0.05
"""Z added per nesting level (at most ~15 levels stay below the wires)."""
HEADER_Z0 = -0.9
"""Frame headers (:class:`FrameHeader`): over wires (-1), so a wire crossing a frame never hides
its title, under reference links and nodes."""
LINK_Z = -0.5
"""Reference links: over frames and wires, under nodes."""
BADGE_Z = 4.0
"""Order numbers: over nodes (they sit on a child's top-left corner)."""


@dataclass(frozen=True)
class FrameStyle:
    """How one frame kind looks on the canvas: its kind's ``FrameLook`` (``NodeKind.frame_style``,
    Qt-free, owned by the kind's module) with the pen as a Qt pen style."""

    fill: tuple[int, int, int, int]
    border: tuple[int, int, int, int]
    header: tuple[int, int, int, int]
    pen: QtCore.Qt.PenStyle = QtCore.Qt.PenStyle.SolidLine
    width: float = 2.0
    radius: float = 8.0
    double: bool = False  # a second inner border line (ordered: P.seq, sequential)
    summary: bool = False  # a second header line: the schedule sheet's summary
    compartments: bool = False  # children side by side (or stacked) with one height (width)


PEN_STYLES = {
    "solid": QtCore.Qt.PenStyle.SolidLine,
    "dash": QtCore.Qt.PenStyle.DashLine,
    "dot": QtCore.Qt.PenStyle.DotLine,
    "dashdot": QtCore.Qt.PenStyle.DashDotLine,
}
DEFAULT_STYLE = FrameStyle((70, 70, 80, 36), (160, 160, 170, 255), (60, 60, 70, 235))
ERROR_COLOR = (235, 64, 52, 255)
DROP_HINT_COLOR = (255, 220, 90, 255)
WARNING_COLOR = (245, 180, 30, 255)


@cache
def style_of(kind_id: str) -> FrameStyle:
    """The look of frames of ``kind_id`` (the default look for a kind without one)."""
    from ..model import registry

    look = getattr(registry.kind_of(kind_id), "frame_style", None)
    if look is None:
        return DEFAULT_STYLE
    return FrameStyle(
        tuple(look.fill),
        tuple(look.border),
        tuple(look.header),
        PEN_STYLES.get(look.pen, QtCore.Qt.PenStyle.SolidLine),
        float(look.width),
        float(look.radius),
        bool(look.double),
        bool(look.summary),
        bool(look.compartments),
    )


def has_summary(kind_id: str) -> bool:
    """Whether a frame of ``kind_id`` shows its schedule sheet's summary under its title."""
    return style_of(kind_id).summary


def header_height(kind_id: str, summary: str = "") -> float:
    """The header band's height: one title line, plus the summary line when there is one."""
    return HEADER_H + (SUMMARY_H if summary and has_summary(kind_id) else 0.0)


def _title_font(px: float) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPixelSize(max(1, round(px)))
    font.setBold(True)
    return font


def _summary_font(px: float) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPixelSize(max(1, round(px)))
    return font


def _title_px(scale: float) -> float:
    return min(max(TITLE_PX, TITLE_SCREEN_PX / max(scale, 1e-6)), HEADER_H * 0.72)


def _summary_px(scale: float) -> float:
    return min(max(TITLE_PX * 0.82, (TITLE_SCREEN_PX - 1.0) / max(scale, 1e-6)), SUMMARY_H * 0.8)


def header_text_width(title: str, summary: str = "") -> float:
    """Scene width the header text needs where it is drawn largest, at ``READABLE_ZOOM``
    (the frame is at least this wide, so its header is never cut at an opening zoom)."""
    w = QtGui.QFontMetricsF(_title_font(_title_px(READABLE_ZOOM))).horizontalAdvance(title)
    if summary:
        sfont = _summary_font(_summary_px(READABLE_ZOOM))
        w = max(w, QtGui.QFontMetricsF(sfont).horizontalAdvance(summary))
    return w + 24.0


# ------------------------------------------------------------------------------------------
# layout: rects bottom-up from the children (Qt geometry only, no scene access)
# ------------------------------------------------------------------------------------------
def depth_of(parents: Mapping[str, str | None], node_id: str) -> int:
    """Nesting depth of ``node_id`` (0 at the root) from a ``{node id: parent id}`` map."""
    depth, seen = 0, set()
    p = parents.get(node_id)
    while p is not None and p not in seen:
        seen.add(p)
        depth += 1
        p = parents.get(p)
    return depth


def _align_compartments(cases: list[str], rects: dict[str, QtCore.QRectF]) -> None:
    """Give a chain's case frames one common height (side by side) or width (stacked)."""
    if len(cases) < 2:
        return
    rs = [rects[c] for c in cases]
    xs = [r.center().x() for r in rs]
    ys = [r.center().y() for r in rs]
    side_by_side = (max(xs) - min(xs)) >= (max(ys) - min(ys))
    if side_by_side:
        top, bottom = min(r.top() for r in rs), max(r.bottom() for r in rs)
        for c, r in zip(cases, rs, strict=True):
            rects[c] = QtCore.QRectF(r.left(), top, r.width(), bottom - top)
    else:
        left, right = min(r.left() for r in rs), max(r.right() for r in rs)
        for c, r in zip(cases, rs, strict=True):
            rects[c] = QtCore.QRectF(left, r.top(), right - left, r.height())


# ------------------------------------------------------------------------------------------
# the frame item and node
# ------------------------------------------------------------------------------------------
class FrameItem(AbstractNodeItem):
    """A frame on the canvas: a styled rect with a header band, sized by the canvas.

    ``members`` (set by the canvas) returns the items of the frame's descendants; they move
    with it when its header or border is dragged.
    """

    def __init__(self, name: str = "frame", parent: Any = None) -> None:
        super().__init__(name, parent)
        self.kind_id = ""
        self.summary = ""
        self.depth = 0
        self.problem: str | None = None  # "error" / "warning": the border says so
        self.drop_hint = False  # lit while a dragged node would move into this frame
        self.members: Callable[[], list[Any]] = list
        self._dragging: list[Any] = []
        self._prev_selection: list[Any] = []
        self._width, self._height = EMPTY_W, EMPTY_H
        self.setZValue(FRAME_Z0)
        self.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
        self.setAcceptHoverEvents(False)
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges, True)
        self.header_item = FrameHeader(self)

    # -- geometry ----------------------------------------------------------------------------
    @property
    def style(self) -> FrameStyle:
        return style_of(self.kind_id)

    @property
    def header_h(self) -> float:
        return header_height(self.kind_id, self.summary)

    def set_rect(self, rect: QtCore.QRectF) -> None:
        """Place and size the frame at scene ``rect`` (no-op when unchanged)."""
        if (
            self.pos().x() == rect.x()
            and self.pos().y() == rect.y()
            and self._width == rect.width()
            and self._height == rect.height()
        ):
            return
        self.prepareGeometryChange()
        self._width, self._height = rect.width(), rect.height()
        self.setPos(rect.x(), rect.y())
        self.header_item.follow()
        self.update()

    def set_depth(self, depth: int) -> None:
        self.depth = depth
        self.setZValue(FRAME_Z0 + FRAME_DZ * depth)
        self.header_item.setZValue(HEADER_Z0 + 0.001 * depth)

    def update(self, *args: Any) -> None:  # noqa: D102 - QGraphicsItem API
        super().update(*args)
        header = self.__dict__.get("header_item")
        if header is not None:
            header.follow()
            header.update()

    def header_rect(self) -> QtCore.QRectF:
        return QtCore.QRectF(0.0, 0.0, self._width, self.header_h)

    def shape(self) -> QtGui.QPainterPath:
        """Header band and border strip: the interior lets clicks through to the canvas."""
        outer = QtGui.QPainterPath()
        outer.addRect(self.boundingRect())
        inner = QtGui.QPainterPath()
        inner.addRect(
            QtCore.QRectF(
                GRIP, self.header_h, self._width - 2 * GRIP, self._height - self.header_h - GRIP
            )  # fmt: skip
        )
        return outer.subtracted(inner)

    def contains_scene_point(self, point: QtCore.QPointF) -> bool:
        return self.sceneBoundingRect().contains(point)

    # -- painting ----------------------------------------------------------------------------
    def paint(self, painter: QtGui.QPainter, option: Any, widget: Any = None) -> None:
        st = self.style
        scale = option.levelOfDetailFromTransform(painter.worldTransform()) or 1.0
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        rect = self.boundingRect().adjusted(1.0, 1.0, -1.0, -1.0)
        radius = st.radius
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(*st.fill))
        painter.drawRoundedRect(rect, radius, radius)
        if self.drop_hint:  # a dragged node would land in here: light the inside too
            painter.setBrush(QtGui.QColor(*DROP_HINT_COLOR[:3], 28))
            painter.drawRoundedRect(rect, radius, radius)
        # (the header band and its text are the FrameHeader item, drawn over the wires)
        color, width = self.border_pen()
        pen = QtGui.QPen(color, max(width, 1.2 / scale))
        pen.setStyle(st.pen)
        painter.setPen(pen)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, radius, radius)
        if st.double:
            inset = 4.0
            pen2 = QtGui.QPen(color, max(width * 0.5, 0.8 / scale))
            painter.setPen(pen2)
            painter.drawRoundedRect(rect.adjusted(inset, inset, -inset, -inset), radius, radius)
        painter.restore()

    def border_pen(self) -> tuple[QtGui.QColor, float]:
        """The border's colour and width: the style's, red/amber with problems, highlighted
        while selected."""
        st = self.style
        color, width = QtGui.QColor(*st.border), st.width
        if self.problem == "error":
            color, width = QtGui.QColor(*ERROR_COLOR), width + 1.0
        elif self.problem == "warning":
            color, width = QtGui.QColor(*WARNING_COLOR), width + 0.5
        if self.isSelected():
            color = QtGui.QColor(*NodeEnum.SELECTED_BORDER_COLOR.value)
            width += 1.0
        if self.drop_hint:
            color, width = QtGui.QColor(*DROP_HINT_COLOR), width + 2.0
        return color, width

    def paint_header(self, painter: QtGui.QPainter, scale: float) -> None:
        """The header band (rounded at the top), its border and its text, in frame coordinates
        (called by :class:`FrameHeader`)."""
        st = self.style
        rect = self.boundingRect().adjusted(1.0, 1.0, -1.0, -1.0)
        radius = st.radius
        head = QtCore.QRectF(rect.x(), rect.y(), rect.width(), min(self.header_h, rect.height()))
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        path = QtGui.QPainterPath()
        path.addRoundedRect(head, radius, radius)
        square = QtGui.QPainterPath()
        square.addRect(head.adjusted(0.0, head.height() / 2, 0.0, 0.0))
        band = path.united(square)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.setBrush(QtGui.QColor(*st.header))
        painter.drawPath(band)
        color, width = self.border_pen()
        pen = QtGui.QPen(color, max(width, 1.2 / scale))
        pen.setStyle(st.pen)
        painter.setPen(pen)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        outline = QtGui.QPainterPath()  # top and sides of the band, as the border runs there
        outline.moveTo(head.bottomLeft())
        outline.lineTo(head.left(), head.top() + radius)
        outline.quadTo(head.topLeft(), QtCore.QPointF(head.left() + radius, head.top()))
        outline.lineTo(head.right() - radius, head.top())
        outline.quadTo(head.topRight(), QtCore.QPointF(head.right(), head.top() + radius))
        outline.lineTo(head.bottomRight())
        painter.drawPath(outline)
        self._paint_header_text(painter, head, scale)
        painter.restore()

    def _paint_header_text(
        self, painter: QtGui.QPainter, head: QtCore.QRectF, scale: float
    ) -> None:
        """Title (and summary) in the header: ``TITLE_PX`` scene pixels, but never smaller than
        ``TITLE_SCREEN_PX`` on screen while that fits the header band."""
        with_summary = bool(self.summary) and has_summary(self.kind_id)
        line_h = HEADER_H
        px = _title_px(scale)
        if px * scale < 4.0:
            return
        text_rect = head.adjusted(10.0, 0.0, -10.0, 0.0)
        title_rect = QtCore.QRectF(text_rect.x(), text_rect.y(), text_rect.width(), line_h)
        font = _title_font(px)
        metrics = QtGui.QFontMetricsF(font)
        advance = metrics.horizontalAdvance(self.name)
        if advance > title_rect.width():  # smaller (down to 8 px on screen), then elided
            px = max(px * title_rect.width() / advance, 8.0 / scale)
            font = _title_font(px)
            metrics = QtGui.QFontMetricsF(font)
        title = metrics.elidedText(
            self.name, QtCore.Qt.TextElideMode.ElideRight, title_rect.width()
        )
        painter.setFont(font)
        painter.setPen(QtGui.QColor(245, 245, 245, 240))
        align = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter
        painter.drawText(title_rect, int(align), title)
        if with_summary:
            sfont = _summary_font(_summary_px(scale))
            smetrics = QtGui.QFontMetricsF(sfont)
            summary_rect = QtCore.QRectF(
                text_rect.x(), text_rect.y() + line_h - 4.0, text_rect.width(), SUMMARY_H
            )
            text = smetrics.elidedText(
                self.summary, QtCore.Qt.TextElideMode.ElideRight, summary_rect.width()
            )
            painter.setFont(sfont)
            painter.setPen(QtGui.QColor(225, 215, 255, 230))
            painter.drawText(summary_rect, int(align), text)

    # -- dragging moves the contents ---------------------------------------------------------
    def mousePressEvent(self, event: QtWidgets.QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() == QtCore.Qt.MouseButton.LeftButton:
            viewer = self.viewer()
            members = [m for m in self.members() if m is not self]
            if viewer is not None and members:
                self._prev_selection = [
                    i for i in self.scene().selectedItems() if isinstance(i, AbstractNodeItem)
                ]
                # The viewer reports moved nodes from the positions it recorded at press time.
                for m in members:
                    viewer._node_positions.setdefault(m, m.xy_pos)
                self._dragging = [m for m in members if not m.isSelected()]
        super().mousePressEvent(event)
        if self._dragging:
            # After the base press: it selects this item (and clears others without Ctrl).
            for m in self._dragging:
                m.setSelected(True)

    def mouseReleaseEvent(self, event: QtWidgets.QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        dragging, self._dragging = self._dragging, []
        if dragging:
            from shiboken6 import isValid

            for m in dragging:
                if isValid(m) and m not in self._prev_selection:
                    m.setSelected(False)
            self.setSelected(True)
            viewer = self.viewer()
            if viewer is not None:  # the canvas re-reads the selection
                viewer.node_selection_changed.emit([self.id], [])
        self._prev_selection = []

    def mouseDoubleClickEvent(self, event: QtWidgets.QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        """Nothing is entered (v2: the whole workload is on one canvas): the canvas opens what
        the header shows for editing (a loop's axes, a program's sheet)."""
        event.accept()
        viewer = self.viewer()
        if viewer is not None and event.button() == QtCore.Qt.MouseButton.LeftButton:
            viewer.node_double_clicked.emit(self.id)

    def itemChange(self, change: Any, value: Any) -> Any:  # noqa: N802 - Qt API
        kind = QtWidgets.QGraphicsItem.GraphicsItemChange
        if change == kind.ItemSelectedHasChanged:
            self.update()
        elif change == kind.ItemPositionHasChanged:
            self.header_item.follow()
        elif change == kind.ItemSceneHasChanged:
            self.header_item.attach(self.scene())
        elif change == kind.ItemVisibleHasChanged:
            self.header_item.setVisible(self.isVisible())
        return super().itemChange(change, value)

    # NodeGraphQt calls these on node items; a frame has no ports or widgets.
    def draw_node(self) -> None:
        self.update()

    def post_init(self, viewer: Any = None, pos: Any = None) -> None:
        return

    def from_dict(self, node_dict: dict[str, Any]) -> None:
        node_dict = {k: v for k, v in node_dict.items() if k not in ("width", "height")}
        super().from_dict(node_dict)


class FrameHeader(QtWidgets.QGraphicsItem):
    """A frame's header band and title, a top-level item that follows its frame.

    Drawn over the wires (``HEADER_Z0``): a wire into a call deep inside a frame passes under
    the headers it crosses instead of striking through their titles. It takes no mouse buttons:
    a press on it reaches the frame below (its shape includes the header), which drags it.
    """

    def __init__(self, frame: FrameItem) -> None:
        super().__init__()
        self.frame = frame
        self.setZValue(HEADER_Z0)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)

    @property
    def id(self) -> str:
        """The frame's id: a hit on the header is a hit on the frame."""
        return self.frame.id

    def attach(self, scene: QtWidgets.QGraphicsScene | None) -> None:
        """Join (or leave) the frame's scene with it."""
        current = self.scene()
        if current is scene:
            return
        if current is not None:
            current.removeItem(self)
        if scene is not None:
            scene.addItem(self)
            self.follow()

    def follow(self) -> None:
        frame = self.frame
        rect = QtCore.QRectF(0.0, 0.0, frame._width, min(frame.header_h, frame._height))
        if rect != getattr(self, "_rect", None):
            self.prepareGeometryChange()
            self._rect = rect
        if self.pos() != frame.pos():
            self.setPos(frame.pos())

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt API
        rect = getattr(self, "_rect", QtCore.QRectF())
        return rect.adjusted(-2.0, -2.0, 2.0, 2.0)

    def paint(self, painter: QtGui.QPainter, option: Any, widget: Any = None) -> None:
        scale = option.levelOfDetailFromTransform(painter.worldTransform()) or 1.0
        self.frame.paint_header(painter, scale)


class FrameNode(NodeObject):
    """The NodeGraphQt node of a frame kind (``KIND_ID``), drawn by :class:`FrameItem`."""

    __identifier__ = "pto"
    NODE_NAME = "Frame"
    KIND_ID = ""

    def __init__(self, port_specs: Iterable[Any] | None = None, name: str | None = None) -> None:
        if name is not None:
            self.NODE_NAME = name
        super().__init__(FrameItem)
        self.view.kind_id = self.KIND_ID
        st = style_of(self.KIND_ID)
        self.model.color = st.header
        self.model.border_color = st.border

    # The canvas treats every view alike; frames have no ports.
    def input_ports(self) -> list[Any]:
        return []

    def output_ports(self) -> list[Any]:
        return []

    def get_input(self, _name: str) -> None:
        return None

    def get_output(self, _name: str) -> None:
        return None

    def set_ports(self, _specs: Iterable[Any]) -> bool:
        return False

    def port_signature(self) -> list[tuple[str, str]]:
        return []


# ------------------------------------------------------------------------------------------
# order numbers and reference links
# ------------------------------------------------------------------------------------------
class OrderBadge(QtWidgets.QGraphicsItem):
    """A small number on a framed child's top-left corner: its place in the frame's order."""

    SIZE = 18.0

    def __init__(self, number: int) -> None:
        super().__init__()
        self.number = number
        self.setZValue(BADGE_Z)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)
        self.setToolTip("Order in the frame (export breaks ties between independent steps by it)")

    def set_number(self, number: int) -> None:
        if number != self.number:
            self.number = number
            self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt API
        s = self.SIZE
        return QtCore.QRectF(-s / 2, -s / 2, s, s)

    def paint(self, painter: QtGui.QPainter, option: Any, widget: Any = None) -> None:
        scale = option.levelOfDetailFromTransform(painter.worldTransform()) or 1.0
        if self.SIZE * scale < 7.0:
            return
        painter.save()
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        r = self.boundingRect().adjusted(1.0, 1.0, -1.0, -1.0)
        painter.setPen(QtGui.QPen(QtGui.QColor(20, 20, 24), 1.2))
        painter.setBrush(QtGui.QColor(235, 235, 240))
        painter.drawEllipse(r)
        font = QtGui.QFont()
        font.setPixelSize(11)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QtGui.QColor(20, 20, 24))
        painter.drawText(r, int(QtCore.Qt.AlignmentFlag.AlignCenter), str(self.number))
        painter.restore()


class RefLink(QtWidgets.QGraphicsPathItem):
    """A thin dashed line for a reference property (sender -> channel -> consume frame)."""

    COLOR = (64, 214, 214, 200)

    def __init__(self, src_id: str, dst_id: str, field: str) -> None:
        super().__init__()
        self.src_id, self.dst_id, self.field = src_id, dst_id, field
        pen = QtGui.QPen(QtGui.QColor(*self.COLOR), 1.6)
        pen.setStyle(QtCore.Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(LINK_Z)
        self.setAcceptedMouseButtons(QtCore.Qt.MouseButton.NoButton)

    def route(self, a: QtCore.QRectF, b: QtCore.QRectF) -> None:
        """A curve from ``a`` to ``b`` between the sides that face each other (right -> left
        when they stand side by side, bottom -> top or top -> bottom when one is above), with
        an arrow head at ``b``. A frame is reached at its header."""
        dx = b.center().x() - a.center().x()
        dy = b.center().y() - a.center().y()
        horizontal = b.left() >= a.right() or b.right() <= a.left()
        vertical = b.top() >= a.bottom() or b.bottom() <= a.top()
        if horizontal and (not vertical or abs(dx) >= abs(dy)):
            sign = 1.0 if dx >= 0 else -1.0
            p1 = QtCore.QPointF(a.right() if sign > 0 else a.left(), a.center().y())
            y2 = b.top() + min(HEADER_H / 2, b.height() / 2)
            p2 = QtCore.QPointF(b.left() if sign > 0 else b.right(), y2)
            bend = max(abs(p2.x() - p1.x()) * 0.4, 30.0) * sign
            c1 = QtCore.QPointF(p1.x() + bend, p1.y())
            c2 = QtCore.QPointF(p2.x() - bend, p2.y())
            tip = (QtCore.QPointF(-sign, -0.6), QtCore.QPointF(-sign, 0.6))
        else:
            sign = 1.0 if dy >= 0 else -1.0
            p1 = QtCore.QPointF(a.center().x(), a.bottom() if sign > 0 else a.top())
            x2 = min(max(a.center().x(), b.left() + 20.0), b.right() - 20.0)
            p2 = QtCore.QPointF(x2, b.top() if sign > 0 else b.bottom())
            bend = max(abs(p2.y() - p1.y()) * 0.4, 30.0) * sign
            c1 = QtCore.QPointF(p1.x(), p1.y() + bend)
            c2 = QtCore.QPointF(p2.x(), p2.y() - bend)
            tip = (QtCore.QPointF(-0.6, -sign), QtCore.QPointF(0.6, -sign))
        path = QtGui.QPainterPath(p1)
        path.cubicTo(c1, c2, p2)
        arrow = 7.0
        path.moveTo(p2 + tip[0] * arrow)
        path.lineTo(p2)
        path.lineTo(p2 + tip[1] * arrow)
        self.setPath(path)


def reference_links(doc: Document) -> list[tuple[str, str, str]]:
    """``(from id, to id, property)`` for every reference the canvas draws as a thin link: the
    kinds' ``PropSpec.link`` says which (a send or close ``to`` its channel; a consume
    ``from`` the channel it reads), so a pipeline reads sender -> channel -> consumer."""
    from ..model import registry

    links: list[tuple[str, str, str]] = []
    nodes = doc.graph.nodes
    for node in nodes.values():
        kind = registry.kind_of(node)
        for spec in getattr(kind, "props", ()):
            direction = getattr(spec, "link", "")
            if not direction:
                continue
            target = node.props.get(spec.name) if isinstance(node.props, dict) else None
            if not isinstance(target, str) or target not in nodes or target == node.id:
                continue
            if direction == "to":
                links.append((node.id, target, spec.name))
            elif direction == "from":
                links.append((target, node.id, spec.name))
    return links


def frame_child_order(doc: Document) -> dict[str, int]:
    """Framed node id -> its 1-based place among its frame's children (``graph.nodes`` order)."""
    count: dict[str, int] = {}
    out: dict[str, int] = {}
    for node in doc.graph.nodes.values():
        parent = getattr(node, "parent", None)
        if parent is None:
            continue
        count[parent] = count.get(parent, 0) + 1
        out[node.id] = count[parent]
    return out


def is_frame_node(node: Node) -> bool:
    from ..model import registry

    kind = registry.KINDS.get(node.kind)
    return bool(kind is not None and getattr(kind, "frame", False))
