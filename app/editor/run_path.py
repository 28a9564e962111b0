"""The last run's critical path drawn on the canvas: its nodes haloed, its wires recoloured.

The nodes and wires come from the run side (``app.run_highlights.critical_path_on_graph``); this
module only draws them. A node gets a halo (a rounded outline just outside it, behind it), so
its own border keeps saying what diagnostics say; a wire takes the path colour (NodeGraphQt's
``PipeItem.color``, which hover and selection restore to, so the colour outlives a hover).
Like the run labels (``app.editor.run_labels``), the path belongs to the run, not the document:
``clear`` removes it, and it comes back when the canvas rebuilds its views (entering and
leaving a kernel body).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ..model.document import Edge

__all__ = ["RunPath", "PATH_RGB"]

PATH_RGB = (255, 64, 160)  # the timeline's critical-path colour (app.views.timeline_marks)
_HALO_PX = 5.0
_HALO_WIDTH = 4.0


class RunPath:
    """Owns the halo items and the recoloured pipes; ``show`` replaces them, ``clear`` drops."""

    def __init__(self, canvas: Any):
        self.canvas = canvas
        self.node_ids: tuple[str, ...] = ()
        self.edges: tuple[Edge, ...] = ()
        self._halos: dict[str, QtWidgets.QGraphicsPathItem] = {}
        self._pipes: list[tuple[Any, tuple[int, ...]]] = []  # (pipe, its colour before)
        canvas.scope_changed.connect(lambda *_: self.apply())

    def show(self, node_ids: Iterable[str], edges: Iterable[Edge]) -> None:
        self.node_ids = tuple(dict.fromkeys(node_ids))
        self.edges = tuple(edges)
        self.apply()

    def clear(self) -> None:
        self.node_ids, self.edges = (), ()
        self.apply()

    @property
    def shown(self) -> bool:
        return bool(self.node_ids or self.edges)

    def halo_of(self, node_id: str) -> QtWidgets.QGraphicsPathItem | None:
        """The halo drawn around ``node_id`` now (None: not on the path or not in view)."""
        item = self._halos.get(node_id)
        return item if item is not None and _alive(item) else None

    def pipe_of(self, edge: Edge) -> Any | None:
        """The NodeGraphQt pipe showing ``edge`` (None when not in view)."""
        src = self.canvas.view_node(edge.src.node)
        dst = self.canvas.view_node(edge.dst.node)
        if src is None or dst is None:
            return None
        out, inp = src.get_output(edge.src.port), dst.get_input(edge.dst.port)
        if out is None or inp is None:
            return None
        for pipe in out.view.connected_pipes:
            if pipe.input_port is inp.view:
                return pipe
        return None

    def apply(self) -> None:
        for item in self._halos.values():
            if _alive(item) and item.scene() is not None:
                item.scene().removeItem(item)
        self._halos.clear()
        for pipe, colour in self._pipes:
            if _alive(pipe):
                pipe.color = colour
                pipe.reset()
        self._pipes = []
        pen = QtGui.QPen(QtGui.QColor(*PATH_RGB), _HALO_WIDTH)
        for node_id in self.node_ids:
            view = self.canvas.view_node(node_id)
            if view is None:
                continue
            parent = view.view
            rect = parent.boundingRect().adjusted(-_HALO_PX, -_HALO_PX, _HALO_PX, _HALO_PX)
            shape = QtGui.QPainterPath()
            shape.addRoundedRect(rect, 8.0, 8.0)
            halo = QtWidgets.QGraphicsPathItem(shape, parent)
            halo.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
            halo.setPen(pen)
            halo.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            halo.setToolTip("On the last run's critical path")
            self._halos[node_id] = halo
        for edge in self.edges:
            pipe = self.pipe_of(edge)
            if pipe is None:
                continue
            self._pipes.append((pipe, tuple(pipe.color)))
            pipe.color = (*PATH_RGB, 255)
            pipe.reset()


def _alive(item: Any) -> bool:
    from shiboken6 import isValid

    return bool(isValid(item))
