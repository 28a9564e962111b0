"""A user's hands on the Studio main window, counting gestures (issue 13 item 6).

A gesture is one mouse press-release (a click, a double-click, a drag), one committed field edit
(a field holds one property value: click into it, type, Enter), one combo pick, or one shortcut.
Every method of :class:`Hands` sends only QTest / QEvent events to widgets and counts what it
sent; it never calls ``app.model`` or an editor API to change anything. Reading widget geometry
(where a node, port, palette entry or field is) and reading the document to learn what a gesture
made is how the hands find where to click next, like a user's eyes.

Two things are not gestures: the mouse wheel that scrolls the palette or the Properties panel to
an entry (a user scrolls there; the helpers scroll a widget into view the same way), and looking.

Palette drags: the offscreen platform has no drag-and-drop loop (``QDrag.exec`` returns at once
there, with nothing dropped), so a palette drag is the press on the palette entry and a move that
starts the tree's drag, then the drag-enter / drag-move / drop events Qt delivers to the canvas
viewport during a real drag, carrying the tree's own MIME payload for the pressed entry, then the
release.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QStyle,
    QStyleOptionComboBox,
    QTreeWidgetItem,
    QWidget,
)

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


class Hands:
    """Gestures on a shown ``MainWindow``; ``gestures`` counts them, ``log`` names them."""

    def __init__(self, qtbot: Any, window: Any) -> None:
        self.qtbot = qtbot
        self.window = window
        self.gestures = 0
        self.log: list[str] = []

    def _count(self, what: str) -> None:
        self.gestures += 1
        self.log.append(what)

    # -- eyes: where things are (no events, no edits) ------------------------------------------
    @property
    def canvas(self) -> Any:
        return self.window.canvas

    @property
    def viewer(self) -> Any:
        return self.canvas.viewer

    @property
    def viewport(self) -> QWidget:
        return self.viewer.viewport()

    def scene_to_view(self, x: float, y: float) -> QPoint:
        return self.viewer.mapFromScene(QPointF(x, y))

    def rect_of(self, node_id: str) -> Any:
        view = self.canvas.view_node(node_id)
        assert view is not None, f"{node_id} is not drawn on the canvas"
        return view.view.sceneBoundingRect()

    def inside(self, frame_id: str, fx: float = 0.5, fy: float = 0.75) -> QPoint:
        """A viewport point in a frame's interior (fractions of its rectangle)."""
        r = self.rect_of(frame_id)
        return self.visible(self.scene_to_view(r.left() + r.width() * fx, r.top() + r.height() * fy))  # fmt: skip

    def bottom_band(self, frame_id: str, dx: float = 40.0) -> QPoint:
        """A viewport point in a frame's bottom padding, below its children: a drop there lands
        in this frame, not in a child frame."""
        r = self.rect_of(frame_id)
        return self.visible(self.scene_to_view(r.left() + dx, r.bottom() - 10.0))

    def right_band(self, frame_id: str, level_with: str) -> QPoint:
        """A viewport point in a frame's right padding, level with the top of ``level_with``
        (a child): a drop there lands in this frame, beside its children."""
        r = self.rect_of(frame_id)
        top = self.rect_of(level_with).top()
        return self.visible(self.scene_to_view(r.right() - 10.0, top + 10.0))

    def free_spot(self, x: float, y: float, w: float = 190.0, h: float = 110.0) -> QPoint:
        """The viewport point nearest scene ``(x, y)`` with room for a ``w`` x ``h`` node: no
        node or frame drawn there and all of it in view (where a user would put a new node)."""
        from app.editor.palette import item_node_id

        doc = self.window.document
        scene = self.viewer.scene()
        view = self.viewer.mapToScene(self.viewport.rect()).boundingRect().adjusted(8, 8, -8, -8)
        step = 20.0
        spots = [
            QPointF(view.left() + i * step, view.top() + j * step)
            for i in range(int(view.width() // step))
            for j in range(int(view.height() // step))
        ]
        spots.sort(key=lambda p: (p.x() - x) ** 2 + (p.y() - y) ** 2)
        for p in spots:
            room = QRectF(p.x(), p.y(), w, h)
            if not view.contains(room):
                continue
            corners = (room.topLeft(), room.topRight(), room.bottomLeft(), room.bottomRight())
            if any(self._covered(self.scene_to_view(c.x(), c.y())) for c in corners):
                continue
            if any(item_node_id(doc, item) is not None for item in scene.items(room)):
                continue
            return self.scene_to_view(p.x(), p.y())
        raise AssertionError(f"no free {w}x{h} spot in view near ({x}, {y})")

    def header(self, frame_id: str) -> QPoint:
        r = self.rect_of(frame_id)
        return self.visible(self.scene_to_view(r.left() + min(60.0, r.width() / 3), r.top() + 8.0))

    def centre(self, node_id: str) -> QPoint:
        return self.visible(self.viewer.mapFromScene(self.rect_of(node_id).center()))

    def port(self, node_id: str, name: str, direction: str) -> QPoint:
        view = self.canvas.view_node(node_id)
        assert view is not None, f"{node_id} is not drawn on the canvas"
        p = view.get_output(name) if direction == "out" else view.get_input(name)
        assert p is not None, f"{node_id} has no {direction}put port {name!r}"
        return self.visible(self.viewer.mapFromScene(p.view.sceneBoundingRect().center()))

    def visible(self, point: QPoint) -> QPoint:
        """``point`` (viewport coordinates), checked to be on the canvas the user sees: inside
        the view and not under a widget over it (the minimap, the find bar)."""
        assert self.viewport.rect().contains(point), (
            f"{point} is outside the canvas view {self.viewport.rect()}"
        )
        assert not self._covered(point), f"{point} is under {self._covered(point)}"
        return point

    def _covered(self, point: QPoint) -> str:
        """The name of the widget over the canvas at ``point`` ("" when the canvas is on top)."""
        top = QApplication.widgetAt(self.viewport.mapToGlobal(point))
        if top is None or top is self.viewport:
            return ""
        return type(top).__name__

    def editor(self, field: str) -> QWidget:
        QApplication.processEvents()  # editors of a freshly selected node are shown queued
        editors = self.window.properties.editors
        assert field in editors, f"no editor for {field!r} (have {sorted(editors)})"
        return editors[field]

    def new_ids(self, before: set[str]) -> list[str]:
        now = self.window.document.graph.nodes
        return sorted(set(now) - before, key=lambda i: int(i[1:]))

    # -- the palette ----------------------------------------------------------------------------
    def _entries(self, match: Any) -> list[QTreeWidgetItem]:
        tree = self.window.palette.tree
        return [
            tree.topLevelItem(i).child(j)
            for i in range(tree.topLevelItemCount())
            for j in range(tree.topLevelItem(i).childCount())
            if match(tree.topLevelItem(i).child(j).text(0))
        ]

    def palette_item(self, title: str) -> QTreeWidgetItem:
        """The palette entry titled ``title`` (spaces between words count as one, so a library
        kernel is ``"attn_kernel (library)"``); a kernel's call entry (``compute(...)  (call)``)
        by the kernel's name followed by ``(call)``: the palette lists a document's kernels a
        moment after they were added, so the eyes wait for it."""
        if title.endswith("(call)"):
            name = title[: -len("(call)")].strip()

            def match(text: str) -> bool:
                return text.endswith("(call)") and text.split("(")[0].strip() == name
        else:

            def match(text: str) -> bool:
                return text.split() == title.split()

        self.qtbot.waitUntil(lambda: len(self._entries(match)) == 1, timeout=3000)
        return self._entries(match)[0]

    def _scroll_to(self, view: QAbstractScrollArea, rect_of: Any) -> None:
        """Wheel the scroll area until ``rect_of()`` (viewport rect) is inside its viewport."""
        vp = view.viewport()
        for _ in range(200):
            r = rect_of()
            if vp.rect().top() <= r.top() and r.bottom() <= vp.rect().bottom() and vp.rect().contains(r.center()):  # fmt: skip
                return
            delta = 120 if r.top() < 0 else -120
            pos = QPointF(vp.rect().center())
            wheel = QWheelEvent(
                pos,
                QPointF(vp.mapToGlobal(pos.toPoint())),
                QPoint(0, 0),
                QPoint(0, delta),
                Qt.MouseButton.NoButton,
                NONE,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            )
            QApplication.sendEvent(vp, wheel)
        raise AssertionError(
            f"could not scroll the entry into view: {rect_of()} in {vp.rect()}, "
            f"bar {view.verticalScrollBar().value()}/{view.verticalScrollBar().maximum()}"
        )

    def drop(self, title: str, at: QPoint) -> list[str]:
        """Drag the palette entry titled ``title`` onto the canvas at ``at``: one gesture.
        The ids of the nodes it made."""
        tree = self.window.palette.tree
        item = self.palette_item(title)
        self._scroll_to(tree, lambda: tree.visualItemRect(item))
        start = tree.visualItemRect(item).center()
        vp = tree.viewport()
        QTest.mousePress(vp, LEFT, NONE, start)
        assert tree.selectedItems() == [item], "the press did not pick the palette entry"
        QTest.mouseMove(vp, start + QPoint(QApplication.startDragDistance() + 4, 0))
        mime = tree.mimeData(tree.selectedItems())  # what the tree's drag carries
        before = set(self.window.document.graph.nodes)
        self.visible(at)
        action = Qt.DropAction.CopyAction
        for event in (
            QDragEnterEvent(at, action, mime, LEFT, NONE),
            QDragMoveEvent(at, action, mime, LEFT, NONE),
            QDropEvent(QPointF(at), action, mime, LEFT, NONE),
        ):
            QApplication.sendEvent(self.viewport, event)
        QTest.mouseRelease(vp, LEFT, NONE, start)
        self._count(f"drag {title!r} from the palette")
        made = self.new_ids(before)
        assert made, f"dropping {title!r} made nothing: {self.status()}"
        return made

    def status(self) -> str:
        return self.window.statusBar().currentMessage()

    # -- the canvas -----------------------------------------------------------------------------
    def click(self, point: QPoint, what: str) -> None:
        QTest.mouseClick(self.viewport, LEFT, NONE, self.visible(point))
        self._count(f"click {what}")

    def wire(self, src: str, src_port: str, dst: str, dst_port: str) -> None:
        """Press on an output port, drag, release on an input port: one gesture."""
        a = self.port(src, src_port, "out")
        b = self.port(dst, dst_port, "in")
        self._drag(a, b)
        self._count(f"wire {src}.{src_port} -> {dst}.{dst_port}")

    def drag_port_out(self, node: str, port: str, direction: str, to: QPoint) -> list[str]:
        """Press on a port, drag its wire onto empty canvas at ``to``: one gesture."""
        before = set(self.window.document.graph.nodes)
        self._drag(self.port(node, port, direction), self.visible(to))
        self._count(f"drag port {node}.{port} onto the canvas")
        made = self.new_ids(before)
        assert made, f"dragging port {port} out made nothing: {self.status()}"
        return made

    def _drag(self, a: QPoint, b: QPoint) -> None:
        QTest.mousePress(self.viewport, LEFT, NONE, a)
        for f in (0.25, 0.5, 0.75):
            QTest.mouseMove(self.viewport, a + (b - a) * f)
        QTest.mouseMove(self.viewport, b)
        QTest.mouseRelease(self.viewport, LEFT, NONE, b)
        QApplication.processEvents()

    # -- the Properties panel -------------------------------------------------------------------
    def _show_field(self, widget: QWidget) -> None:
        panel = self.window.properties
        self._scroll_to(
            panel,
            lambda: widget.rect().translated(widget.mapTo(panel.viewport(), QPoint(0, 0))),
        )

    def type(self, target: QWidget, text: str, what: str) -> None:
        """Click into a field, replace its text, press Enter: one committed field edit."""
        if isinstance(target, QAbstractSpinBox):
            target = target.lineEdit()
        elif isinstance(target, QComboBox) and target.isEditable():
            target = target.lineEdit()
        assert isinstance(target, QLineEdit), f"{what}: not a text field ({type(target).__name__})"
        self._show_field(target)
        QTest.mouseClick(target, LEFT, NONE, target.rect().center())
        QTest.keyClick(target, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        QTest.keyClick(target, Qt.Key.Key_Backspace)
        QTest.keyClicks(target, text)
        QTest.keyClick(target, Qt.Key.Key_Return)
        QApplication.processEvents()
        self._count(f"type {what} = {text!r}")

    def field(self, name: str, text: str) -> None:
        self.type(self.editor(name), text, name)

    def pick(self, combo: QComboBox, text: str, what: str) -> None:
        """Click the combo open, walk its popup to ``text``, press Enter: one combo pick."""
        self._show_field(combo)
        at = combo.rect().center()
        if combo.isEditable():  # click the arrow: the text part is a field
            opt = QStyleOptionComboBox()
            combo.initStyleOption(opt)
            at = (
                combo.style()
                .subControlRect(
                    QStyle.ComplexControl.CC_ComboBox,
                    opt,
                    QStyle.SubControl.SC_ComboBoxArrow,
                    combo,
                )  # fmt: skip
                .center()
            )
        QTest.mouseClick(combo, LEFT, NONE, at)
        view = combo.view()
        self.qtbot.waitUntil(lambda: view.isVisible(), timeout=2000)
        row = combo.findText(text, Qt.MatchFlag.MatchExactly)
        assert row >= 0, f"{what}: {text!r} not offered ({[combo.itemText(i) for i in range(combo.count())]})"  # fmt: skip
        QTest.keyClick(view, Qt.Key.Key_Home)
        for _ in range(row):
            QTest.keyClick(view, Qt.Key.Key_Down)
        QTest.keyClick(view, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)
        QApplication.processEvents()
        self._count(f"pick {what} = {text!r}")

    def choose(self, field: str, text: str) -> None:
        w = self.editor(field)
        assert isinstance(w, QComboBox), f"{field} is a {type(w).__name__}"
        self.pick(w, text, field)

    # -- keyboard -------------------------------------------------------------------------------
    def shortcut(self, keys: str) -> None:
        combo = QKeySequence(keys)[0]
        target = QApplication.focusWidget() or self.window
        QTest.keyClick(target, combo.key(), combo.keyboardModifiers())
        self._count(f"shortcut {keys}")
