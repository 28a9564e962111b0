"""Right-click menus on the canvas, a node, a frame and a wire.

What a ComfyUI or Blender user reaches for first: right-click where the node should go and add it
there (inside the frame under the cursor); right-click a node to rename, duplicate, wrap it in a
loop, move it earlier or later among its frame's children, delete it, open a kernel's body or
create a tensor from a call's port; right-click a frame to add or paste inside it, edit its axes,
unwrap it; right-click a wire to delete it. Every entry is one
undoable edit (a model command: ``Wrap``, ``Unwrap``, ``CreateTensor``, ``Reparent``...) and
behaves like its shortcut.

NodeGraphQt's own context menus are keyed by node type and show the graph menu otherwise; the
Studio's menus depend on what is under the cursor (port, node, wire, frame, empty canvas) and on
the document, so the viewport's context-menu event is taken here instead (an event filter), and
NodeGraphQt's menus are never shown.

Other parts of the window add entries to the node menu through ``node_hooks`` (the run panel's
"Show Slices in Timeline"), and follow ``edit_requested(node_id, field)`` ("Edit Axes…" raises
the Properties panel on the frame's axes), so this module knows nothing about runs or docks.
``exec_menu`` is the one place a menu is shown; tests replace it to pick an entry as a user would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ..model import commands as cmds
from ..model import frames, registry
from ..model.document import PortRef
from .canvas_api import CanvasApi, owner
from .palette import deepest_frame, item_node_id

NodeMenuHook = Callable[[QtWidgets.QMenu, str], None]
PICK_RADIUS = 4  # view pixels around the cursor a thin wire may be picked from


@dataclass(frozen=True)
class Hit:
    """What is under the cursor: ``what`` is "node", "frame", "comment", "wire" or "canvas"."""

    what: str
    item_id: str | None = None  # node, frame or comment backdrop id
    pipe: Any = None  # the NodeGraphQt PipeItem of a wire
    port: str | None = None  # the port of the node under the cursor, if any


def _is_frame(kind_id: str) -> bool:
    check = getattr(registry, "is_frame", None)
    if check is not None:
        return bool(check(kind_id))
    return bool(getattr(registry.KINDS.get(kind_id), "frame", False))


def _port_name(item: Any) -> str | None:
    """The port a scene item is (a NodeGraphQt port, or a port label carrying ``port_name``)."""
    from NodeGraphQt.qgraphics.port import PortItem

    while item is not None:
        if isinstance(item, PortItem):
            return str(item.name)
        name = getattr(item, "port_name", "")
        if isinstance(name, str) and name:
            return name
        item = item.parentItem()
    return None


class CanvasContextMenus(QtCore.QObject):
    """Builds and shows the context menu for whatever is right-clicked on ``canvas``.

    ``edit_requested(node_id, field)``: the user asked to edit a property of a node in the
    Properties panel ("Edit Axes…", or "Rename" where the title cannot be typed in place).
    """

    edit_requested = QtCore.Signal(str, str)

    def __init__(self, canvas: CanvasApi) -> None:
        super().__init__(owner(canvas))
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
        """Port/node over wire over frame (the innermost) over comment over empty canvas."""
        from NodeGraphQt.qgraphics.node_backdrop import BackdropNodeItem
        from NodeGraphQt.qgraphics.pipe import LivePipeItem, PipeItem

        viewer = self.canvas.viewer
        doc = self.canvas.doc
        r = PICK_RADIUS
        area = QtCore.QRect(view_pos.x() - r, view_pos.y() - r, 2 * r + 1, 2 * r + 1)
        frame: str | None = None
        comment: str | None = None
        for item in viewer.items(view_pos):
            node_id = item_node_id(doc, item)
            if node_id is not None:
                node = doc.node(node_id)
                if not _is_frame(node.kind):
                    return Hit("node", node_id, port=_port_name(item))
                if frame is None:
                    frame = node_id
                continue
            owner = item
            while owner is not None and not isinstance(owner, BackdropNodeItem):
                owner = owner.parentItem()
            if owner is not None and comment is None:
                comment = owner.id
        for item in viewer.items(area):
            if isinstance(item, PipeItem) and not isinstance(item, LivePipeItem):
                if item.input_port is not None and item.output_port is not None:
                    return Hit("wire", pipe=item)
        frame = frame or deepest_frame(self.canvas, view_pos)  # inside a frame's interior
        if frame is not None:
            return Hit("frame", frame)
        if comment is not None:
            return Hit("comment", comment)
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
        scene = self.canvas.viewer.mapToScene(view_pos)
        at = (float(scene.x()), float(scene.y()))
        if hit.what == "node" and hit.item_id is not None:
            self._fill_node(menu, hit.item_id, hit.port, at)
        elif hit.what == "frame" and hit.item_id is not None:
            self._fill_frame(menu, hit.item_id, view_pos)
        elif hit.what == "wire":
            self._fill_wire(menu, hit.pipe)
        else:
            self._fill_canvas(menu, view_pos)
            if hit.what == "comment" and hit.item_id is not None:
                menu.addSeparator()
                self._add(menu, "Delete Comment", lambda: self._delete_comment(hit.item_id))
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
        paste.setEnabled(canvas.clipboard_fragment() is not None)
        menu.addSeparator()
        self._add(menu, "Fit View", canvas.fit_view)
        if getattr(canvas, "scope", None) is not None and hasattr(canvas, "leave_scope"):
            self._add(menu, "Back to Workloads", canvas.leave_scope)  # out of a kernel body

    def _selection_for(self, node_id: str) -> list[str]:
        canvas = self.canvas
        if node_id not in canvas.selected_ids():
            canvas.select_ids([node_id])  # a right-click acts on the clicked node...
        return list(canvas.selected_ids())  # ...or on the selection it belongs to

    def _fill_node(
        self, menu: QtWidgets.QMenu, node_id: str, port: str | None, at: tuple[float, float]
    ) -> None:
        canvas = self.canvas
        ids = self._selection_for(node_id)
        many = len(ids) > 1
        node = canvas.doc.node(node_id)
        owned = node.kind in _owned_kinds()
        if node.body is not None:
            self._add(menu, "Open Kernel Body", lambda: canvas.enter_scope(node_id))
            menu.addSeparator()
        ports = self.tensor_ports(node_id)
        if ports and not many:
            if port in ports:
                self._add(
                    menu,
                    f"Create Tensor from Port {port}",
                    lambda: self.create_tensor(node_id, port),
                )
            else:
                sub = menu.addMenu("Create Tensor from Port")
                sub.setObjectName("ctx_createtensorfromport")
                for p in ports:
                    self._add(sub, p, lambda p=p: self.create_tensor(node_id, p))
            menu.addSeparator()
        self._index_entries(menu, node_id, port, many)
        rename = self._add(menu, "Rename", lambda: self.rename(node_id))
        rename.setEnabled(not owned and not many)
        dup = self._add(menu, "Duplicate", canvas.duplicate_selected)
        dup.setEnabled(not owned)
        if not owned:
            self._wrap_menu(menu, ids)
            if node.parent is not None and node.id in canvas.doc.graph.nodes:
                self._add(menu, "Move Out of Frame", lambda: self.move_out(ids))
            self._order_entries(menu, node_id, many)
        delete = self._add(menu, "Delete" + (" Selected" if many else ""), canvas.delete_selected)
        delete.setEnabled(not owned)
        for hook in self.node_hooks:
            hook(menu, node_id)

    def _index_entries(
        self, menu: QtWidgets.QMenu, node_id: str, port: str | None, many: bool
    ) -> None:
        """A call's "Edit Index of Q…" (the in-place editor on the port's label) and "Auto
        Index for Q" (drop the override): for the right-clicked port, else one submenu each.
        (CANVAS: ``GraphCanvas.edit_port_index`` / ``reset_port_index``.)"""
        canvas = self.canvas
        if many or not hasattr(canvas, "edit_port_index"):
            return
        node = canvas.doc.graph.nodes.get(node_id)
        params = self.tensor_ports(node_id) if node is not None else []
        if not params:
            return
        overridden = set(node.props.get("index") or {})  # type: ignore[union-attr]

        def add(where: QtWidgets.QMenu, p: str, text_edit: str, text_auto: str) -> None:
            self._add(where, text_edit, lambda: canvas.edit_port_index(node_id, p))
            auto = self._add(where, text_auto, lambda: canvas.reset_port_index(node_id, p))
            auto.setEnabled(p in overridden)

        if port in params:
            add(menu, port, f"Edit Index of {port}…", f"Auto Index for {port}")
        else:
            edit = menu.addMenu("Edit Index of")
            edit.setObjectName("ctx_editindexof")
            for p in params:
                self._add(edit, p, lambda p=p: canvas.edit_port_index(node_id, p))
            if overridden & set(params):
                auto = menu.addMenu("Auto Index for")
                auto.setObjectName("ctx_autoindexfor")
                for p in params:
                    if p in overridden:
                        self._add(auto, p, lambda p=p: canvas.reset_port_index(node_id, p))
        menu.addSeparator()

    def _fill_frame(self, menu: QtWidgets.QMenu, frame_id: str, view_pos: QtCore.QPoint) -> None:
        canvas = self.canvas
        ids = self._selection_for(frame_id)
        frame = canvas.doc.node(frame_id)
        self._add(menu, "Add Inside…", lambda: canvas.tab_search.show_at(view_pos, parent=frame_id))
        paste = self._add(menu, "Paste Inside", lambda: self.paste_inside(frame_id, view_pos))
        paste.setEnabled(canvas.clipboard_fragment() is not None)
        axes = self.axes_field(frame_id)
        if axes is not None:
            self._add(menu, "Edit Axes…", lambda: self.edit_requested.emit(frame_id, axes))
        menu.addSeparator()
        rename = self._add(menu, "Rename", lambda: self.rename(frame_id))
        rename.setEnabled(len(ids) == 1)
        self._wrap_menu(menu, ids)
        self._add(menu, "Unwrap", lambda: self.unwrap(frame_id))
        if frame.parent is not None:
            self._add(menu, "Move Out of Frame", lambda: self.move_out(ids))
        self._order_entries(menu, frame_id, len(ids) > 1)
        self._add(menu, "Delete Frame and Contents", canvas.delete_selected)
        for hook in self.node_hooks:
            hook(menu, frame_id)

    def _order_entries(self, menu: QtWidgets.QMenu, node_id: str, many: bool) -> None:
        """ "Move Earlier" / "Move Later" among the frame's children: the program order export
        writes (and a ``sequential`` runs in)."""
        doc = self.canvas.doc
        node = doc.graph.nodes.get(node_id)
        if many or node is None or node.parent is None:
            return
        siblings = [n.id for n in frames.children(doc, node.parent)]
        if len(siblings) < 2:
            return
        i = siblings.index(node_id)
        earlier = self._add(menu, "Move Earlier", lambda: self.reorder(node_id, i - 1))
        earlier.setEnabled(i > 0)
        later = self._add(menu, "Move Later", lambda: self.reorder(node_id, i + 1))
        later.setEnabled(i < len(siblings) - 1)

    def _wrap_menu(self, menu: QtWidgets.QMenu, ids: list[str]) -> None:
        kinds = self.wrap_kinds(ids)
        if not kinds:
            return
        wrap = menu.addMenu("Wrap in")
        wrap.setObjectName("ctx_wrapin")
        for kind_id in kinds:
            self._add(wrap, registry.display_name(kind_id), lambda k=kind_id: self.wrap(ids, k))

    def _fill_wire(self, menu: QtWidgets.QMenu, pipe: Any) -> None:
        src = PortRef(pipe.output_port.node.id, pipe.output_port.name)
        dst = PortRef(pipe.input_port.node.id, pipe.input_port.name)
        self._add(menu, "Delete Wire", lambda: self.delete_wire(src, dst))

    # -- queries ---------------------------------------------------------------------------------
    def wrap_kinds(self, ids: list[str]) -> list[str]:
        """Frame kinds the nodes ``ids`` (one frame's children) may be wrapped in: the frame may
        live where they are, and they may live inside it."""
        doc = self.canvas.doc
        nodes = [doc.graph.nodes[i] for i in ids if i in doc.graph.nodes]
        if not nodes or len({n.parent for n in nodes}) != 1:
            return []
        parent = nodes[0].parent
        out = []
        for k in registry.KINDS.values():
            if not _is_frame(k.id) or not k.in_palette:
                continue
            if cmds.placement_problem(doc, k.id, parent) is not None:
                continue
            inner = cmds.scope_inside_kind(k.id)
            if all(inner in registry.kind(n.kind).allowed_in for n in nodes):
                out.append(k.id)
        return out

    def tensor_ports(self, node_id: str) -> list[str]:
        """The data ports of a call a tensor can be created from (its kernel's parameters)."""
        from ..model import indexing

        doc = self.canvas.doc
        node = doc.graph.nodes.get(node_id)
        if node is None or indexing.kernel_of(doc, node) is None:
            return []
        return [
            p["name"]
            for p in indexing.params_of(indexing.kernel_of(doc, node))  # type: ignore[arg-type]
            if p.get("kind", "tensor") != "scalar"
        ]

    def axes_field(self, frame_id: str) -> str | None:
        """The property of a frame that holds its axes (a reference to axis nodes), if any."""
        node = self.canvas.doc.node(frame_id)
        refs = getattr(registry, "reference_props", lambda _k: {})(node.kind)
        for spec in registry.kind(node.kind).props:
            if spec.name in refs and (refs[spec.name] is not None or spec.name.startswith("axis")):
                return spec.name
        return None

    # -- operations ------------------------------------------------------------------------------
    def rename(self, node_id: str) -> bool:
        """Open the node's title for typing, holding just its name, all selected.

        Enter commits the name as one edit (the canvas's rename path), Esc cancels. Where the
        title cannot be typed in place (a frame), the Properties panel's name field is opened.
        """
        view = self.canvas.view_node(node_id)
        title = getattr(getattr(view, "view", None), "_text_item", None)
        if title is None or not hasattr(title, "set_editable"):
            self.edit_requested.emit(node_id, "name")
            return True
        title.set_editable(True)
        editor = title._editor
        if editor is None:
            self.edit_requested.emit(node_id, "name")
            return True
        editor.setPlainText(self.canvas.doc.node(node_id).name)
        cursor = editor.textCursor()
        cursor.select(QtGui.QTextCursor.SelectionType.Document)
        editor.setTextCursor(cursor)
        self.canvas.viewer.setFocus()
        editor.setFocus()
        return True

    def create_tensor(self, call_id: str, port: str) -> str | None:
        """A tensor for ``port`` of the call, named after the parameter, shaped from the loops
        and the tile, wired (one undo step); its id."""
        cmd = self._apply(cmds.CreateTensor(call_id, port))
        node = getattr(cmd, "node", None) if cmd is not None else None
        if node is not None:
            self.canvas.select_ids([node.id])
            return node.id
        return None

    def wrap(self, ids: list[str], kind_id: str) -> str | None:
        """Wrap ``ids`` in a new frame of ``kind_id`` (one undo step); the frame id."""
        cmd = self._apply(cmds.Wrap(ids, kind_id))
        node = getattr(cmd, "node", None) if cmd is not None else None
        if node is not None:
            self.canvas.select_ids([node.id])
            return node.id
        return None

    def reorder(self, node_id: str, position: int) -> bool:
        """Make ``node_id`` child number ``position`` of its frame (one undo step)."""
        return self._apply(cmds.Reorder(node_id, position)) is not None

    def unwrap(self, frame_id: str) -> bool:
        """Lift the frame's children into its parent and delete the frame (one undo step)."""
        return self._apply(cmds.Unwrap(frame_id)) is not None

    def move_out(self, ids: list[str]) -> bool:
        """Move ``ids`` out of their frame into the frame around it (one undo step)."""
        doc = self.canvas.doc
        parents = {doc.node(i).parent for i in ids if i in doc.graph.nodes}
        if len(parents) != 1 or None in parents:
            return False
        (parent,) = parents
        outer = frames.parent_of(doc, parent)  # type: ignore[arg-type]
        return self._apply(cmds.Reparent(ids, outer.id if outer is not None else None)) is not None

    def paste_inside(self, frame_id: str, view_pos: QtCore.QPoint) -> list[str]:
        """Paste the clipboard's nodes into the frame, at the click (one undo step); the
        pasted top-level ids (selected)."""
        canvas = self.canvas
        data = canvas.clipboard_fragment()
        if data is None:
            canvas.message.emit("the clipboard holds no nodes")
            return []
        at = canvas.viewer.mapToScene(view_pos)
        origin = canvas.fragment_origin(data)
        offset = (float(at.x()) - origin[0], float(at.y()) - origin[1])
        cmd = self._apply(cmds.Paste(data, offset, frame_id))
        ids = [n.id for n in getattr(cmd, "nodes", None) or []]
        if ids:
            canvas.select_ids(ids)
        return ids

    def delete_wire(self, src: PortRef, dst: PortRef) -> bool:
        """Remove the edge ``src -> dst`` (one undo step); False and a message when refused."""
        return self._apply(cmds.Disconnect(src, dst)) is not None

    def _delete_comment(self, backdrop_id: str) -> bool:
        return self._apply(cmds.RemoveBackdrop(backdrop_id)) is not None

    def _apply(self, command: cmds.Command) -> cmds.Command | None:
        try:
            self.canvas.editor.apply(command)
        except cmds.EditError as err:
            self.canvas.message.emit(str(err))
            return None
        return command


def _owned_kinds() -> tuple[str, ...]:
    """Kinds created with their kernel (entry and parameter nodes of a body): never placed,
    renamed or deleted by hand."""
    return tuple(getattr(cmds, "_PROTECTED", ()))
