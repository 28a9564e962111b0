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
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from pto_wsp.errors import PtoError

_PATCHED = False


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


# ------------------------------------------------------------------------------------------
# linear fit-to-view
# ------------------------------------------------------------------------------------------
def items_rect(items: Iterable[Any]) -> Any:
    """The union of the items' scene bounding rects (a null QRectF when there are none).

    Linear in the number of items: coordinates are folded with min/max instead of building a
    ``QGraphicsItemGroup`` (which re-parents every item and is quadratic).
    """
    from PySide6.QtCore import QRectF

    left = top = float("inf")
    right = bottom = float("-inf")
    for item in items:
        r = item.sceneBoundingRect()
        left = min(left, r.left())
        top = min(top, r.top())
        right = max(right, r.right())
        bottom = max(bottom, r.bottom())
    if left == float("inf"):
        return QRectF()
    return QRectF(left, top, right - left, bottom - top)


def fit_items(viewer: Any, items: Iterable[Any], margin: float = 40.0) -> Any:
    """Frame ``items`` in ``viewer`` (a NodeViewer); returns the framed scene rect.

    The viewer keeps its visible range in ``_scene_range`` and re-fits it in ``_update_scene``;
    setting that rect is how its own zoom and pan work, so wheel zoom keeps working afterwards.
    """
    rect = items_rect(items)
    if rect.isNull():
        return rect
    rect = rect.adjusted(-margin, -margin, margin, margin)
    viewer._scene_range = rect
    viewer._update_scene()
    return rect
