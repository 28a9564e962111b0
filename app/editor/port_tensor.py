"""Drag a wire from a call's port onto empty canvas: a tensor is created there, already wired.

LabVIEW's "create control" as one gesture (issue 13 item 3): the user presses on an unwired
parameter port of a kernel call, drags the wire out and lets go where no port or node is. The
canvas then applies ``commands.CreateTensor`` (named after the parameter, shaped from the
enclosing loops and the tile, wired In -> port / port -> write) with the tensor placed where the
mouse let go, and selects the new tensor so its fields can be typed next. The same edit is on the
port's context menu (``context_menus``).

NodeGraphQt ends a live wire dropped on empty canvas without telling anyone, so the viewer's drop
handler (``apply_live_connection``, already wrapped by ``wire_feedback``) is wrapped once more:
the port the wire started from is read before the drop, the rest is left to NodeGraphQt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6 import QtCore

from app.model import commands as cmds
from app.model import registry

if TYPE_CHECKING:
    from app.editor.canvas import GraphCanvas

MIN_DRAG = 24.0
"""Scene distance a wire must travel from its port before a drop on empty canvas creates a
tensor (a short slip off the port does nothing)."""


class PortTensorDrop(QtCore.QObject):
    """Creates a tensor for a call's port when its wire is dropped on empty canvas."""

    def __init__(self, canvas: GraphCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        viewer = canvas.viewer
        self._original = viewer.apply_live_connection
        viewer.apply_live_connection = self._apply_live_connection

    def _apply_live_connection(self, event: Any) -> None:
        viewer = self.canvas.viewer
        start = viewer._start_port
        live = start is not None and viewer._LIVE_PIPE.isVisible()
        press = viewer._origin_pos  # the press, in viewport coordinates
        origin = viewer.mapToScene(press) if press is not None else None
        detached = viewer._detached_port  # set when the press picked up an existing wire
        pos = event.scenePos()
        target = None
        if live and detached is None and self._on_empty_canvas(pos):
            target = self._call_port(start)
        self._original(event)
        if target is None or origin is None:
            return
        if QtCore.QLineF(origin, pos).length() < MIN_DRAG:
            return
        call_id, param = target
        cmd = self.canvas._apply(
            cmds.CreateTensor(call_id, param, (float(pos.x()), float(pos.y())))
        )
        node = getattr(cmd, "node", None)
        if node is not None:
            self.canvas.select_ids([node.id])

    def _call_port(self, port: Any) -> tuple[str, str] | None:
        """(call id, parameter) when ``port`` is a kernel parameter port of a call."""
        doc = self.canvas.doc
        if self.canvas.scope is not None:
            return None
        node = doc.graph.nodes.get(getattr(port.node, "id", ""))
        if node is None:
            return None
        ref = _call_reference()
        if ref is None or node.kind != ref[0]:
            return None
        from app.model import indexing

        if indexing.param_of(doc, node, port.name) is None:
            return None  # the task port, or a port of no parameter
        return node.id, port.name

    def _on_empty_canvas(self, scene_pos: QtCore.QPointF) -> bool:
        """No port and no node (frames excepted: their interior is canvas) under the point."""
        from NodeGraphQt.qgraphics.port import PortItem

        from app.editor.palette import item_node_id

        doc = self.canvas.doc
        for item in self.canvas.viewer.scene().items(scene_pos):
            if isinstance(item, PortItem):
                return False
            node_id = item_node_id(doc, item)
            node = doc.graph.nodes.get(node_id) if node_id else None
            if node is not None and not registry.is_frame(node.kind):
                return False
        return True


def _call_reference() -> tuple[str, str, tuple[str, ...]] | None:
    from app.editor.properties import call_reference

    return call_reference()
