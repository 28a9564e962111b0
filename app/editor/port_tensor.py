"""Drag a wire from a call's port onto empty canvas: what the port needs is created there, wired.

LabVIEW's "create control" as one gesture (issue 13 item 3): the user presses on an unwired
parameter port of a kernel call, drags the wire out and lets go where no port or node is. The
canvas then applies ``commands.CreateTensor`` (named after the parameter, shaped from the
enclosing loops and the tile, wired In -> port / port -> write) with the tensor placed where the
mouse let go, and selects the new tensor so its fields can be typed next. The same edit is on the
port's context menu (``context_menus``).

The call's ``task`` port works the same way: its wire dropped on empty canvas creates the one
statement kind that takes a task (``send``: ``send(ch, call)``) in the call's frame, after the
call, wired from the task, and selects it so its channel is picked next (one undo step).

NodeGraphQt ends a live wire dropped on empty canvas without telling anyone, so the viewer's drop
handler (``apply_live_connection``, already wrapped by ``wire_feedback``) is wrapped once more:
the port the wire started from is read before the drop, the rest is left to NodeGraphQt.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore

from ..model import commands as cmds
from ..model import registry
from ..model.document import PortRef
from .canvas_api import CanvasApi, owner

MIN_DRAG = 24.0
"""Scene distance a wire must travel from its port before a drop on empty canvas creates a
tensor (a short slip off the port does nothing)."""


class PortTensorDrop(QtCore.QObject):
    """Creates a tensor for a call's port when its wire is dropped on empty canvas."""

    def __init__(self, canvas: CanvasApi) -> None:
        super().__init__(owner(canvas))
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
        command = None
        if live and detached is None and self._on_empty_canvas(pos):
            command = self._command_for(start, (float(pos.x()), float(pos.y())))
        self._original(event)
        if command is None or origin is None:
            return
        if QtCore.QLineF(origin, pos).length() < MIN_DRAG:
            return
        cmd = self.canvas.apply(command)
        node = getattr(cmd, "node", None)
        if node is not None:
            self.canvas.select_ids([node.id])

    def _command_for(self, port: Any, pos: tuple[float, float]) -> cmds.Command | None:
        """The edit for a wire from ``port`` dropped at ``pos``: a tensor for a kernel
        parameter port of a call, the statement taking a task for its task port; else None."""
        doc = self.canvas.doc
        if self.canvas.scope is not None:
            return None
        node = doc.graph.nodes.get(getattr(port.node, "id", ""))
        if node is None:
            return None
        ref = _call_reference()
        if ref is None or node.kind != ref[0]:
            return None
        from ..model import indexing

        if indexing.param_of(doc, node, port.name) is not None:
            return cmds.CreateTensor(node.id, port.name, pos)
        if port.port_type != "out":
            return None
        spec = next(
            (
                p
                for p in registry.ports_of(node, doc)
                if p.name == port.name and p.direction == "out"
            ),
            None,
        )
        if spec is None:
            return None
        takers = [
            (k.id, p.name)
            for k in registry.KINDS.values()
            if k.in_palette and not k.frame and registry.allowed_in(doc, k.id, node.parent)
            for p in k.ports
            if p.direction == "in" and p.type == spec.type
        ]
        if len(takers) != 1:
            return None  # nothing, or no single obvious node, takes this value
        kind_id, taker_port = takers[0]
        return _AddWired(kind_id, pos, node.parent, PortRef(node.id, port.name), taker_port)

    def _on_empty_canvas(self, scene_pos: QtCore.QPointF) -> bool:
        """No port and no node (frames excepted: their interior is canvas) under the point."""
        from NodeGraphQt.qgraphics.port import PortItem

        from .palette import item_node_id

        doc = self.canvas.doc
        for item in self.canvas.viewer.scene().items(scene_pos):
            if isinstance(item, PortItem):
                return False
            node_id = item_node_id(doc, item)
            node = doc.graph.nodes.get(node_id) if node_id else None
            if node is not None and not registry.is_frame(node.kind):
                return False
        return True


class _AddWired(cmds.Command):
    """Add a node of ``kind_id`` in frame ``parent`` and wire ``src`` into its input
    ``port``: one undo step. ``.node`` is the new node."""

    title = "Add node"

    def __init__(
        self, kind_id: str, pos: tuple[float, float], parent: str | None, src: PortRef, port: str
    ) -> None:
        super().__init__()
        self.kind_id, self.pos, self.parent, self.src, self.port = kind_id, pos, parent, src, port
        self.node: Any = None

    def run(self, ed: cmds.DocumentEditor) -> None:
        add = cmds.AddNode(self.kind_id, self.pos, self.parent)
        add.run(ed)
        self.node = add.node
        cmds.Connect(self.src, PortRef(add.node.id, self.port)).run(ed)


def _call_reference() -> tuple[str, str, tuple[str, ...]] | None:
    from .properties import call_reference

    return call_reference()
