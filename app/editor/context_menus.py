"""Right-click menus on the canvas, a node, a comment frame and a wire.

What a ComfyUI or Blender user reaches for first: right-click where the node should go and add it
there; right-click a node to rename, duplicate, delete or open it; right-click a wire to delete
it. Every entry calls the canvas's own operations (the ones the menus and shortcuts use), so an
entry is exactly one undoable edit and behaves like its shortcut.

NodeGraphQt's own context menus are keyed by node type and show the graph menu otherwise; the
Studio's menus depend on what is under the cursor (node, wire, frame, empty canvas) and on the
document, so the viewport's context-menu event is taken here instead (an event filter), and
NodeGraphQt's menus are never shown.

Other parts of the window add entries to the node menu through ``node_hooks`` (the run panel's
"Show Slices in Timeline"), so this module does not need to know about runs. ``exec_menu`` is the
one place a menu is shown; tests replace it to pick an entry as a user would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from app.model import commands as cmds
from app.model import registry
from app.model.document import PortRef

if TYPE_CHECKING:
    from app.editor.canvas import GraphCanvas

NodeMenuHook = Callable[[QtWidgets.QMenu, str], None]
PICK_RADIUS = 4  # view pixels around the cursor a thin wire may be picked from


@dataclass(frozen=True)
class Hit:
    """What is under the cursor: ``what`` is "node", "frame", "wire" or "canvas"."""

    what: str
    item_id: str | None = None  # node or backdrop id
    pipe: Any = None  # the NodeGraphQt PipeItem of a wire


class CanvasContextMenus(QtCore.QObject):
    """Builds and shows the context menu for whatever is right-clicked on ``canvas``."""

    def __init__(self, canvas: GraphCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.node_hooks: list[NodeMenuHook] = []
        self.last_menu: QtWidgets.QMenu | None = None
        canvas.viewer.viewport().installEventFilter(self)

    # -- Qt --------------------------------------------------------------------------------------
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.ContextMenu:
            viewer = self.canvas.viewer
            viewer.RMB_state = False  # as NodeGraphQt's own handler: no zoom drag afterwards
            self.popup(event.pos(), event.globalPos())
            return True
        return False

    # -- behaviour -------------------------------------------------------------------------------
    def hit(self, view_pos: QtCore.QPoint) -> Hit:
        """Node (ports count as their node) over wire over comment frame over empty canvas."""
        from NodeGraphQt.qgraphics.node_backdrop import BackdropNodeItem
        from NodeGraphQt.qgraphics.node_base import NodeItem
        from NodeGraphQt.qgraphics.pipe import LivePipeItem, PipeItem

        viewer = self.canvas.viewer
        r = PICK_RADIUS
        area = QtCore.QRect(view_pos.x() - r, view_pos.y() - r, 2 * r + 1, 2 * r + 1)
        frame: str | None = None
        pipe: Any = None
        for item in viewer.items(view_pos):
            owner = item
            while owner is not None and not isinstance(owner, (NodeItem, BackdropNodeItem)):
                owner = owner.parentItem()
            if isinstance(owner, NodeItem) and self.canvas.view_node(owner.id) is not None:
                return Hit("node", owner.id)
            if isinstance(owner, BackdropNodeItem) and frame is None:
                frame = owner.id
        for item in viewer.items(area):
            if isinstance(item, PipeItem) and not isinstance(item, LivePipeItem):
                if item.input_port is not None and item.output_port is not None:
                    pipe = item
                    break
        if pipe is not None:
            return Hit("wire", pipe=pipe)
        if frame is not None:
            return Hit("frame", frame)
        return Hit("canvas")

    def popup(self, view_pos: QtCore.QPoint, global_pos: QtCore.QPoint) -> QtWidgets.QMenu:
        """Build the menu for ``view_pos`` (viewer coordinates) and show it at ``global_pos``."""
        menu = self.menu_for(view_pos)
        self.last_menu = menu
        self.exec_menu(menu, global_pos)
        return menu

    def exec_menu(self, menu: QtWidgets.QMenu, global_pos: QtCore.QPoint) -> None:
        """Show ``menu`` and run the chosen entry (replaced in tests)."""
        menu.exec(global_pos)

    def menu_for(self, view_pos: QtCore.QPoint) -> QtWidgets.QMenu:
        hit = self.hit(view_pos)
        menu = QtWidgets.QMenu(self.canvas.viewer)
        menu.setObjectName(f"contextMenu_{hit.what}")
        if hit.what == "node" and hit.item_id is not None:
            self._fill_node(menu, hit.item_id)
        elif hit.what == "wire":
            self._fill_wire(menu, hit.pipe)
        else:
            self._fill_canvas(menu, view_pos)
            if hit.what == "frame" and hit.item_id is not None:
                menu.addSeparator()
                self._add(menu, "Delete Comment", lambda: self._delete_frame(hit.item_id))
        return menu

    # -- menus -----------------------------------------------------------------------------------
    @staticmethod
    def _add(menu: QtWidgets.QMenu, text: str, slot: Callable[[], object]) -> QtGui.QAction:
        action = menu.addAction(text)
        action.setObjectName("ctx_" + "".join(c for c in text.lower() if c.isalnum()))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _fill_canvas(self, menu: QtWidgets.QMenu, view_pos: QtCore.QPoint) -> None:
        canvas = self.canvas
        scene = canvas.viewer.mapToScene(view_pos)
        at = (float(scene.x()), float(scene.y()))
        self._add(menu, "Add Node Here…", lambda: canvas.tab_search.show_at(view_pos))
        paste = self._add(menu, "Paste Here", lambda: canvas.paste(at))
        paste.setEnabled(canvas._clipboard_fragment() is not None)
        menu.addSeparator()
        self._add(menu, "Fit View", canvas.fit_view)
        if canvas.scope is not None:
            self._add(menu, "Leave Scope", canvas.leave_scope)

    def _fill_node(self, menu: QtWidgets.QMenu, node_id: str) -> None:
        canvas = self.canvas
        if node_id not in canvas.selected_ids():
            canvas.select_ids([node_id])  # a right-click acts on the clicked node...
        many = len(canvas.selected_ids()) > 1  # ...or on the selection it belongs to
        node = canvas.doc.node(node_id)
        owned = node.kind in ("scope.entry", "kernel.param")  # created with their scope
        if node.body is not None:
            text = "Open Kernel Body" if node.kind == "kernel.def" else "Enter Scope"
            self._add(menu, text, lambda: canvas.enter_scope(node_id))
            menu.addSeparator()
        rename = self._add(menu, "Rename", lambda: self.rename(node_id))
        rename.setEnabled(not owned and not many)
        dup = self._add(menu, "Duplicate", canvas.duplicate_selected)
        dup.setEnabled(not owned)
        kinds = canvas.group_kinds()
        if kinds and not owned:
            wrap = menu.addMenu("Wrap in")
            for kind_id in kinds:
                self._add(
                    wrap, registry.display_name(kind_id), lambda k=kind_id: canvas.group_selected(k)
                )
        delete = self._add(menu, "Delete" + (" Selected" if many else ""), canvas.delete_selected)
        delete.setEnabled(not owned)
        for hook in self.node_hooks:
            hook(menu, node_id)

    def _fill_wire(self, menu: QtWidgets.QMenu, pipe: Any) -> None:
        src = PortRef(pipe.output_port.node.id, pipe.output_port.name)
        dst = PortRef(pipe.input_port.node.id, pipe.input_port.name)
        self._add(menu, "Delete Wire", lambda: self.delete_wire(src, dst))

    # -- operations ------------------------------------------------------------------------------
    def rename(self, node_id: str) -> bool:
        """Open the node's title for typing, holding just its name, all selected.

        Enter commits the name as one edit (the canvas's rename path), Esc cancels.
        """
        view = self.canvas.view_node(node_id)
        if view is None:
            return False
        title = view.view._text_item
        title.set_editable(True)
        editor = title._editor
        if editor is None:
            return False
        editor.setPlainText(self.canvas.doc.node(node_id).name)
        cursor = editor.textCursor()
        cursor.select(QtGui.QTextCursor.SelectionType.Document)
        editor.setTextCursor(cursor)
        self.canvas.viewer.setFocus()
        editor.setFocus()
        return True

    def delete_wire(self, src: PortRef, dst: PortRef) -> bool:
        """Remove the edge ``src -> dst`` (one undo step); False and a message when refused."""
        return self._apply(cmds.Disconnect(src, dst))

    def _delete_frame(self, backdrop_id: str) -> bool:
        return self._apply(cmds.RemoveBackdrop(backdrop_id))

    def _apply(self, command: cmds.Command) -> bool:
        try:
            self.canvas.editor.apply(command)
        except cmds.EditError as err:
            self.canvas.message.emit(str(err))
            return False
        return True
