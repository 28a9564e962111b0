"""A refused wire explains itself at the cursor.

When the user drops a wire on a port and no edge results, the reason appears as a tooltip where
the mouse let go (and in the status bar through ``canvas.message``), in the words of the
document: ``Q (tensor) cannot feed the scalar port 'n' of call``. Two places can refuse:

* NodeGraphQt itself, silently, before the canvas hears of the gesture: an input dropped on an
  input (or an output on an output), or a node wired to itself;
* the model (``registry.can_connect`` through ``cmds.Connect``): the canvas then emits its reason
  on ``canvas.message`` while the drop is being handled.

So the drop handler of the viewer (``apply_live_connection``) is wrapped: it notes the ports
under the cursor, listens to ``canvas.message`` while NodeGraphQt and the canvas handle the drop,
and afterwards asks the document whether the edge exists. The rule stays where it is — this
module only reports the outcome; it never decides whether a wire is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6 import QtCore, QtWidgets

from ..model import registry
from ..model.document import PortRef
from .canvas_api import CanvasApi, owner

REFUSED_PREFIX = "cannot connect: "


@dataclass(frozen=True)
class _End:
    """One end of a dropped wire, read before the drop is applied."""

    direction: str  # "in" or "out"
    node_id: str
    name: str

    @staticmethod
    def of(port: Any) -> _End:
        return _End(port.port_type, port.node.id, port.name)


class WireFeedback(QtCore.QObject):
    """Shows why a dropped wire was refused (``last_reason`` keeps the text for tests)."""

    def __init__(self, canvas: CanvasApi) -> None:
        super().__init__(owner(canvas))
        self.canvas = canvas
        self.last_reason: str | None = None
        viewer = canvas.viewer
        self._original = viewer.apply_live_connection
        # NodeGraphQt calls ``self.apply_live_connection(event)`` on mouse release/press: the
        # instance attribute takes precedence over the class method.
        viewer.apply_live_connection = self._apply_live_connection

    # -- the wrapped drop ------------------------------------------------------------------------
    def _apply_live_connection(self, event: Any) -> None:
        viewer = self.canvas.viewer
        start = viewer._start_port
        if start is None or not viewer._LIVE_PIPE.isVisible():
            self._original(event)
            return
        end = self._port_at(event.scenePos())
        detached = viewer._detached_port
        if end is None or end is start or end is detached:
            self._original(event)
            return  # dropped on empty canvas or back where it came from: nothing was refused
        # Read the ports now: a connection the model accepts may rebuild the nodes' ports (a
        # call gains its parameters once its kernel is wired), leaving these items detached.
        ends = (_End.of(start), _End.of(end))
        heard: list[str] = []
        self.canvas.message.connect(heard.append)
        try:
            self._original(event)
        finally:
            self.canvas.message.disconnect(heard.append)
        reason = self.refusal(*ends, heard)
        if reason is not None:
            self.explain(reason, event.screenPos())

    def _port_at(self, scene_pos: QtCore.QPointF) -> Any | None:
        """The port under ``scene_pos`` — the one NodeGraphQt will connect to (same lookup)."""
        from NodeGraphQt.qgraphics.port import PortItem

        for item in self.canvas.viewer.scene().items(scene_pos):
            if isinstance(item, PortItem):
                return item
        return None

    # -- reasons -------------------------------------------------------------------------------
    def refusal(self, start: _End, end: _End, heard: list[str]) -> str | None:
        """Why the wire ``start`` -> ``end`` does not exist (None: it does, nothing to say)."""
        start_node = self._node_of(start.node_id)
        end_node = self._node_of(end.node_id)
        if start.direction == end.direction:
            kind = "input" if start.direction == "in" else "output"
            return (
                f"{self._port_text(start_node, start.name)} and "
                f"{self._port_text(end_node, end.name)} are both {kind}s: a wire goes from an "
                "output to an input"
            )
        if start.node_id == end.node_id:
            label = registry.node_label(start_node) if start_node else "a node"
            return f"{label} cannot feed itself"
        out, inp = (start, end) if start.direction == "out" else (end, start)
        src = PortRef(out.node_id, out.name)
        dst = PortRef(inp.node_id, inp.name)
        if any(e.src == src and e.dst == dst for e in self.canvas.current_graph().edges):
            return None
        for text in reversed(heard):
            if text.startswith(REFUSED_PREFIX):
                return text[len(REFUSED_PREFIX) :]
        if heard:
            return heard[-1]
        ok, reason = registry.can_connect(self.canvas.doc, src, dst)
        return None if ok else reason

    def _node_of(self, node_id: str) -> Any | None:
        found = self.canvas.doc.locate(node_id)
        return found[0] if found is not None else None

    @staticmethod
    def _port_text(node: Any | None, port_name: str) -> str:
        owner = registry.node_label(node) if node is not None else "a node"
        return f"{owner}'s port {port_name!r}"

    def explain(self, reason: str, global_pos: QtCore.QPointF | QtCore.QPoint) -> None:
        """Show ``reason`` at ``global_pos`` (screen coordinates) and in the status bar."""
        self.last_reason = reason
        text = f"Cannot connect: {reason}"
        pos = global_pos.toPoint() if isinstance(global_pos, QtCore.QPointF) else global_pos
        # Shown once the release that ended the drag is delivered: a tooltip hides itself on
        # any mouse button release, including the one being handled now.
        QtCore.QTimer.singleShot(
            0, self, lambda: QtWidgets.QToolTip.showText(pos, text, self.canvas.viewer)
        )
        self.canvas.message.emit(text)
