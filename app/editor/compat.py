"""Every NodeGraphQt 0.6.44 workaround the Studio needs, in one place (DESIGN §4).

NodeGraphQt reaches Qt through Qt.py, so the binding must be chosen *before* it is imported;
``load_nodegraphqt()`` does that and applies the patches below exactly once. Every other editor
module imports NodeGraphQt through this function, so no code path can see the unpatched library.

Defects handled here (all measured on this machine with PySide6 6.11.3):

* ``QT_PREFERRED_BINDING`` / ``PYQTGRAPH_QT_LIB`` must name PySide6 before the first import.
* ``NodeSpinBox.get_value`` returns ``str(value)``: a session saved with a spin box reloads with
  strings. Patched to return the number.
* ``PropSpinBox`` / ``PropDoubleSpinBox`` call ``self.NoButtons``, which PySide6 instances lack
  (AttributeError as soon as a properties bin shows an int property). Patched on the classes.
* ``BaseNode.add_button`` creates a widget with no property behind it, so a session holding it
  cannot be saved or restored. Studio nodes never embed buttons; calling it raises a clear error.
* ``NodeViewer.use_OpenGL`` imports PySide2/PyQt5 names only. Patched to use PySide6's
  ``QOpenGLWidget`` (and to raise a clear error when the OpenGL module is missing).
* ``deserialize_session`` marks every restored node selected. Patched to clear the selection.
* ``zoom_to_nodes`` / ``fit_to_selection`` build a ``QGraphicsItemGroup`` of all nodes, which is
  quadratic (155 s at 5000 nodes). Replaced by :func:`fit_items`, a linear union of bounding rects.
* ``NodeItem.draw_node`` (size, label, ports layout) runs three times per node while a node is
  added (layout direction set twice, then ``post_init``): :func:`bulk_build` defers it so a
  batch of new nodes is laid out once each.
* ``NodeItem`` / ``PortItem`` / ``PipeItem.itemChange`` run for every item change (~60 per
  node while it is built) and end in ``super().itemChange``, a second Python-to-C++ round trip
  that only returns ``value``. Replaced by equivalents that return ``value`` directly.
* Every viewer carries hidden Undo/Redo actions bound to Ctrl+Z / Ctrl+Shift+Z that drive
  NodeGraphQt's own (unused) undo stack and make the Studio's shortcuts ambiguous:
  :func:`strip_viewer_shortcuts` unbinds and hides them.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from pto_wsp.errors import PtoError

_PATCHED = False
# Node items whose ``draw_node`` was requested inside ``bulk_build`` (None: draw immediately).
_DEFERRED_DRAWS: dict[int, Any] | None = None


class EditorCompatError(PtoError):
    """A NodeGraphQt feature the Studio cannot support on this Qt binding was requested."""


def configure_qt_environment() -> None:
    """Select PySide6 for Qt.py and pyqtgraph. Must run before either is imported."""
    os.environ["QT_PREFERRED_BINDING"] = "PySide6"
    os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"


def load_nodegraphqt() -> ModuleType:
    """Import NodeGraphQt on PySide6 with every Studio workaround applied (idempotent)."""
    global _PATCHED
    configure_qt_environment()
    import NodeGraphQt

    if not _PATCHED:
        _patch_spinboxes()
        _patch_add_button()
        _patch_opengl()
        _patch_session_selection()
        _patch_fit()
        _patch_deferred_draw()
        _patch_item_change()
        _patch_modifier_hint()
        _PATCHED = True
    return NodeGraphQt


# ------------------------------------------------------------------------------------------
# individual patches
# ------------------------------------------------------------------------------------------
def _patch_spinboxes() -> None:
    from NodeGraphQt.custom_widgets.properties_bin import prop_widgets_base as pwb
    from NodeGraphQt.widgets.node_widgets import NodeSpinBox
    from PySide6.QtWidgets import QAbstractSpinBox

    no_buttons = QAbstractSpinBox.ButtonSymbols.NoButtons
    pwb.PropSpinBox.NoButtons = no_buttons
    pwb.PropDoubleSpinBox.NoButtons = no_buttons

    def get_value(self: Any) -> int | float:
        """The spin box's number (upstream returns ``str(value)``)."""
        return self.get_custom_widget().value()

    NodeSpinBox.get_value = get_value


def _patch_add_button() -> None:
    from NodeGraphQt import BaseNode

    def add_button(self: Any, name: str, *args: Any, **kwargs: Any) -> None:
        raise EditorCompatError(
            f"node {self.type_!r}: add_button({name!r}) is not supported: NodeGraphQt 0.6.44 "
            "cannot save or restore button widgets; put actions in the properties panel instead"
        )

    BaseNode.add_button = add_button


def _patch_opengl() -> None:
    from NodeGraphQt.widgets.viewer import NodeViewer

    def use_opengl(self: Any) -> None:
        """Draw the viewport with PySide6's QOpenGLWidget (upstream imports PySide2/PyQt5)."""
        try:
            from PySide6.QtOpenGLWidgets import QOpenGLWidget
        except ImportError as err:  # PySide6-Essentials without the OpenGL module
            raise EditorCompatError(
                f"OpenGL viewport unavailable: PySide6.QtOpenGLWidgets cannot be imported ({err})"
            ) from err
        self.setViewport(QOpenGLWidget())

    NodeViewer.use_OpenGL = use_opengl


def _patch_modifier_hint() -> None:
    from NodeGraphQt.widgets.viewer import NodeViewer

    original = NodeViewer.focusOutEvent

    def focusOutEvent(self: Any, event: Any) -> None:
        """Hide the "CTRL: Deselect Nodes" hint when the view loses focus: upstream hides it
        only on the key release, which a shortcut that opens a dialog (Ctrl+O) sends elsewhere,
        so the hint stayed on the canvas into the next project."""
        hide_modifier_hint(self)
        original(self, event)

    NodeViewer.focusOutEvent = focusOutEvent


def hide_modifier_hint(viewer: Any) -> None:
    """Hide the viewer's modifier-key hint ("CTRL: Deselect Nodes"), if it shows one."""
    text = getattr(viewer, "_cursor_text", None)
    if text is not None:
        text.setVisible(False)


def modifier_hint_visible(viewer: Any) -> bool:
    text = getattr(viewer, "_cursor_text", None)
    return bool(text is not None and text.isVisible())


def _patch_session_selection() -> None:
    from NodeGraphQt import NodeGraph

    original = NodeGraph.deserialize_session

    def deserialize_session(self: Any, *args: Any, **kwargs: Any) -> Any:
        """Restore a session without leaving every node selected (upstream defect)."""
        result = original(self, *args, **kwargs)
        for node in self.all_nodes():
            node.set_selected(False)
        return result

    NodeGraph.deserialize_session = deserialize_session


def _patch_fit() -> None:
    from NodeGraphQt import NodeGraph
    from NodeGraphQt.widgets.viewer import NodeViewer

    def zoom_to_nodes(self: Any, nodes: list[Any]) -> None:
        fit_items(self, nodes)

    def fit_to_selection(self: Any) -> None:
        viewer = self.viewer()
        items = viewer.selected_nodes() or viewer.all_nodes()
        fit_items(viewer, items)

    NodeViewer.zoom_to_nodes = zoom_to_nodes
    NodeGraph.fit_to_selection = fit_to_selection


def _patch_deferred_draw() -> None:
    from NodeGraphQt.qgraphics.node_base import NodeItem

    original = NodeItem.draw_node

    def draw_node(self: Any) -> None:
        """Lay the node out now, or once at the end of the enclosing :func:`bulk_build`."""
        if _DEFERRED_DRAWS is not None:
            _DEFERRED_DRAWS[id(self)] = self
            return
        original(self)

    NodeItem.draw_node = draw_node


def _patch_item_change() -> None:
    from NodeGraphQt.constants import Z_VAL_NODE
    from NodeGraphQt.qgraphics.node_base import NodeItem
    from NodeGraphQt.qgraphics.pipe import PipeItem
    from NodeGraphQt.qgraphics.port import PortItem
    from PySide6.QtWidgets import QGraphicsItem

    # QGraphicsItem::itemChange() returns ``value`` unchanged: the overrides below behave
    # exactly like upstream's, minus the call back into the base class.
    selected_change = QGraphicsItem.GraphicsItemChange.ItemSelectedChange
    moved = QGraphicsItem.GraphicsItemChange.ItemScenePositionHasChanged

    def node_item_change(self: Any, change: Any, value: Any) -> Any:
        """Upstream: refresh pipe highlight and z-order when the selection changes."""
        if change is selected_change and self.scene():
            self.reset_pipes()
            if value:
                self.highlight_pipes()
            self.setZValue(Z_VAL_NODE)
            if not self.selected:
                self.setZValue(Z_VAL_NODE + 1)
        return value

    def port_item_change(self: Any, change: Any, value: Any) -> Any:
        """Upstream: redraw the connected pipes when the port moves in the scene."""
        if change is moved:
            self.redraw_connected_pipes()
        return value

    def pipe_item_change(self: Any, change: Any, value: Any) -> Any:
        """Upstream: highlight a pipe while it is selected."""
        if change is selected_change and self.scene():
            if value:
                self.highlight()
            else:
                self.reset()
        return value

    NodeItem.itemChange = node_item_change
    PortItem.itemChange = port_item_change
    PipeItem.itemChange = pipe_item_change


# ------------------------------------------------------------------------------------------
# bulk scene building
# ------------------------------------------------------------------------------------------
@contextmanager
def bulk_build(viewer: Any) -> Iterator[None]:
    """Add many nodes to ``viewer``'s scene at the cost of adding each once.

    Inside the block node layout (``draw_node``) is deferred and the viewport does not repaint;
    on exit every touched node is laid out exactly once, then the viewport repaints once.
    Re-entrant: an inner block joins the outer one. Code inside the block must not read a new
    node's size (it is the default until the block ends).
    """
    global _DEFERRED_DRAWS
    if _DEFERRED_DRAWS is not None:
        yield
        return
    from shiboken6 import isValid

    viewport = viewer.viewport()
    updates = viewport.updatesEnabled()
    viewport.setUpdatesEnabled(False)
    # A build allocates ~100 Python objects per node and frees none of them: the cyclic
    # collector would re-scan every live object (all open canvases) many times for nothing.
    collecting = gc.isenabled()
    gc.disable()
    _DEFERRED_DRAWS = {}
    try:
        yield
    finally:
        pending, _DEFERRED_DRAWS = _DEFERRED_DRAWS, None
        try:
            for item in pending.values():
                if isValid(item) and item.scene() is not None:
                    item.draw_node()
        finally:
            if collecting:
                gc.enable()
            viewport.setUpdatesEnabled(updates)
            viewport.update()


def strip_viewer_shortcuts(graph: Any) -> None:
    """Unbind and hide the NodeGraph viewer's own Undo/Redo actions.

    NodeGraphQt puts them, with the platform Undo/Redo keys, in a hidden menu bar inside the
    viewer. The Studio never uses NodeGraphQt's undo stack (the document owns the history), so
    those actions would undo nothing while making Ctrl+Z ambiguous with the Studio's own
    actions (Qt then fires neither). They are also removed from the viewer's context menu.
    """
    viewer = graph.viewer()
    for action in (viewer.qaction_for_undo(), viewer.qaction_for_redo()):
        if action is None:
            continue
        action.setShortcuts([])
        action.setEnabled(False)
        action.setVisible(False)


# ------------------------------------------------------------------------------------------
# linear fit-to-view
# ------------------------------------------------------------------------------------------
def items_rect(items: Iterable[Any]) -> Any:
    """The union of the items' scene bounding rects (a null QRectF when there are none).

    Linear in the number of items, with two Qt calls per item: corner coordinates are
    collected and reduced with numpy instead of building a ``QGraphicsItemGroup`` (which
    re-parents every item and is quadratic). ~10 ms for 5000 nodes.
    """
    import numpy as np
    from PySide6.QtCore import QRectF

    coords = [item.sceneBoundingRect().getCoords() for item in items]
    if not coords:
        return QRectF()
    corners = np.asarray(coords, dtype=np.float64)
    left, top = corners[:, :2].min(axis=0)
    right, bottom = corners[:, 2:].max(axis=0)
    return QRectF(float(left), float(top), float(right - left), float(bottom - top))


def node_items_rect(items: Iterable[Any]) -> Any:
    """The union of NodeGraphQt node items' scene rects (a null QRectF when there are none).

    Node items are top-level and untransformed, with ``boundingRect() == (0, 0, _width,
    _height)``: their scene rect is read from position and size, without the Python
    ``boundingRect`` round trip ``sceneBoundingRect`` makes per item (3x faster at 5000).
    """
    import numpy as np
    from PySide6.QtCore import QRectF

    rows = [(item.x(), item.y(), item._width, item._height) for item in items]
    if not rows:
        return QRectF()
    xywh = np.asarray(rows, dtype=np.float64)
    left, top = xywh[:, :2].min(axis=0)
    right, bottom = (xywh[:, :2] + xywh[:, 2:]).max(axis=0)
    return QRectF(float(left), float(top), float(right - left), float(bottom - top))


def frame_rect(viewer: Any, rect: Any, margin: float = 40.0) -> Any:
    """Show scene ``rect`` (plus ``margin``) in ``viewer``; returns the framed rect.

    The viewer keeps its visible range in ``_scene_range`` and re-fits it in ``_update_scene``;
    setting that rect is how its own zoom and pan work, so wheel zoom keeps working afterwards.
    """
    if rect.isNull():
        return rect
    rect = rect.adjusted(-margin, -margin, margin, margin)
    # Never magnify past 100 %: a lone node (a fresh scope's entry) would fill the view and leave
    # the zoom outside NodeGraphQt's range, where its zoom in/out steps are refused.
    vp = viewer.viewport()
    vw, vh = max(vp.width(), 1), max(vp.height(), 1)
    if rect.width() < vw and rect.height() < vh:
        centre = rect.center()
        rect = type(rect)(centre.x() - vw / 2, centre.y() - vh / 2, vw, vh)
    viewer._scene_range = rect
    viewer._update_scene()
    return rect


def fit_items(viewer: Any, items: Iterable[Any], margin: float = 40.0) -> Any:
    """Frame ``items`` in ``viewer`` (a NodeViewer); returns the framed scene rect.

    The viewer keeps its visible range in ``_scene_range`` and re-fits it in ``_update_scene``;
    setting that rect is how its own zoom and pan work, so wheel zoom keeps working afterwards.
    """
    return frame_rect(viewer, items_rect(items), margin)


def center_on(viewer: Any, point: Any) -> None:
    """Pan ``viewer`` so scene ``point`` (a QPointF) is at the centre of the view; zoom kept.

    Moves the viewer's ``_scene_range`` like its own pan does (see :func:`frame_rect`), so a
    later wheel zoom or pan continues from the new place.
    """
    viewer._scene_range.translate(point - viewer._scene_range.center())
    viewer._update_scene()


def visible_scene_rect(viewer: Any) -> Any:
    """The scene rect the viewport shows now (a QRectF)."""
    return viewer.mapToScene(viewer.viewport().rect()).boundingRect()


def reset_view(viewer: Any, centre: Any) -> None:
    """100 % zoom, scene point ``centre`` (a QPointF) in the middle of the view.

    NodeGraphQt's ``reset_zoom`` sizes the range to the viewer widget (frame included, so the
    scale lands a little under 1) and ignores a centre at the origin (a null QPointF is false).
    """
    from PySide6.QtCore import QRectF

    vp = viewer.viewport()
    # ``fitInView`` keeps a 2-pixel margin on each side: a range that much smaller is 1:1.
    w, h = max(vp.width() - 4, 1), max(vp.height() - 4, 1)
    viewer._scene_range = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
    viewer._update_scene()
