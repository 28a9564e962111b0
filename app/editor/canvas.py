"""The node canvas: a NodeGraphQt view kept in sync with a ``DocumentEditor``.

The document (``app.model``) owns every bit of state; this module only mirrors one graph of it
(the root, or the body of the scope the user entered) in a NodeGraphQt scene. The direction of
every change is fixed:

* **user -> model.** The NodeGraph subclass below overrides the handlers NodeGraphQt calls for
  user gestures (drop, tab search, connect, disconnect, slice, move, rename, backdrop resize)
  so that they *request* an edit from the canvas instead of changing the scene. The canvas turns
  the request into a model command (``AddNode``, ``Connect``...) and applies it through the
  editor. NodeGraphQt's own undo stack is never used.
* **model -> view.** The editor's events (``node_added``, ``edge_added``, ``moved``...) update the
  scene, also after undo/redo. Handlers are idempotent: they compare with the scene first.

Where the user's gesture already changed the scene (a pipe dragged off a port is deleted by the
viewer before it tells us), the touched nodes are reconciled with the document afterwards, so a
refused connection simply disappears (and ``message`` says why).

Format v2 (docs/graph-model.md): the whole project is ONE root canvas. Loops, branches,
pipes, processes, workloads and programs are frames drawn around their children
(``app.editor.frames``): the model owns each node's ``parent``, the view sizes frames bottom-up,
dragging a frame moves what it holds and dropping a node on a frame reparents it. Kernel calls
show one port per kernel parameter, labelled with its effective index (``Q[b, h]``, click to
edit). Only a kernel definition still opens a sub-canvas (its tile-op body): it is entered by
double-click and left through the breadcrumb bar, and the canvas then rebuilds the scene from
that body (we do not use NodeGraphQt's SubGraph machinery, which keeps its own copy).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from ..model import arrange, indexing, registry, titles
from ..model import commands as cmds
from ..model.document import Backdrop, Diagnostic, Document, Edge, Graph, Node, PortRef
from . import frames as vframes
from . import nodes as vnodes
from .compat import (
    bulk_build,
    frame_rect,
    hide_modifier_hint,
    items_rect,
    load_nodegraphqt,
    node_items_rect,
    strip_viewer_shortcuts,
)
from .palette import MIME_TYPE, library_entry_for_type

NodeGraphQt = load_nodegraphqt()
from NodeGraphQt import BackdropNode, NodeGraph  # noqa: E402
from NodeGraphQt.base.commands import NodesRemovedCmd  # noqa: E402

CLIPBOARD_MIME = "application/x-pto-wsp-fragment"
ERROR_BORDER = (235, 64, 52, 255)
INNER_ERROR_BORDER = (240, 160, 40, 255)
WARNING_BORDER = (245, 180, 30, 255)
PASTE_OFFSET = 40.0
_SCOPE_OWNED = frozenset(
    k.id for k in registry.KINDS.values() if k.body_entry or k.kernel_param
)  # created and removed with their kernel
_DYNAMIC_KINDS = registry.DYNAMIC_KINDS


def _texts_by_node(diagnostics: Iterable[Diagnostic]) -> dict[str, list[str]]:
    """Node id -> the readable lines of its diagnostics (``field: message``)."""
    texts: dict[str, list[str]] = {}
    for d in diagnostics:
        if d.node_id:
            texts.setdefault(d.node_id, []).append(
                f"{d.field}: {d.message}" if d.field else d.message
            )
    return texts


def lost_references_text(
    doc: Document, deleted: list[str], held: dict[str, list[tuple[str, str]]]
) -> str:
    """The status message after a delete that emptied references: ``Deleted attn_kernel:
    1 kernel call lost its kernel (call) — Ctrl+Z restores it``; "" when none was lost.

    ``held`` is ``{node id: registry.references(node)}`` taken before the delete, ``deleted``
    the labels of the nodes the user deleted. A reference is lost when its node survived and
    the node it named did not. Deleting a kernel silently turned its calls into ``(no
    kernel)`` and dropped their wires; the message says so, and that undo is the way back.
    """
    groups: dict[tuple[str, str], list[Node]] = {}
    for nid, refs in held.items():
        found = doc.locate(nid)
        if found is None:
            continue
        # props.kernel -> kernel, props.axes[0].axis -> axis (once for a loop losing two)
        lost = (f.rsplit(".", 1)[-1] for f, target in refs if doc.locate(target) is None)
        for what in dict.fromkeys(lost):
            groups.setdefault((found[0].kind, what), []).append(found[0])
    if not groups:
        return ""
    parts = []
    for (kind_id, what), nodes in groups.items():
        title = registry.display_name(kind_id)
        noun = title[:1].lower() + title[1:]
        one = len(nodes) == 1
        head = f"{len(nodes)} {noun}{'' if one else ' nodes'} lost {'its' if one else 'their'} {what}"  # fmt: skip
        names = [n.name for n in nodes if n.name]
        if names:
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            head += f" ({shown})"
        parts.append(head)
    who = ", ".join(deleted[:3]) + (f" and {len(deleted) - 3} more" if len(deleted) > 3 else "")
    return f"Deleted {who}: {'; '.join(parts)} — Ctrl+Z restores it"


def _parse_rgb(color: str) -> tuple[int, int, int]:
    c = QtGui.QColor(color)
    if not c.isValid():
        c = QtGui.QColor("#3a3f4b")
    return c.red(), c.green(), c.blue()


class Batch(cmds.Command):
    """Several commands as one undo step; if one is refused, the whole batch is rolled back."""

    def __init__(self, title: str, parts: Iterable[cmds.Command]) -> None:
        super().__init__()
        self.title = title
        self.parts = list(parts)

    def run(self, ed: cmds.DocumentEditor) -> None:
        for part in self.parts:
            part.run(ed)


class EditBackdrop(cmds.Command):
    """Change a backdrop's rect/title/note/colour (replaces the Backdrop record, same id)."""

    title = "Edit backdrop"

    def __init__(self, backdrop_id: str, **changes: Any) -> None:
        super().__init__()
        unknown = set(changes) - {"rect", "title", "note", "color"}
        if unknown:
            raise cmds.EditError(f"backdrop {backdrop_id}: unknown field {sorted(unknown)[0]!r}")
        self.backdrop_id = backdrop_id
        self.changes = changes

    def run(self, ed: cmds.DocumentEditor) -> None:
        for graph, _owner in ed.doc.graphs():
            for bd in graph.backdrops:
                if bd.id == self.backdrop_id:
                    fields = {
                        "title": bd.title,
                        "note": bd.note,
                        "rect": bd.rect,
                        "color": bd.color,
                    }
                    fields.update(self.changes)
                    fields["rect"] = tuple(float(v) for v in fields["rect"])
                    if fields == {"title": bd.title, "note": bd.note, "rect": bd.rect, "color": bd.color}:  # fmt: skip
                        return
                    ed.remove_backdrop(graph, bd)
                    ed.add_backdrop(graph, Backdrop(bd.id, **fields))
                    return
        raise cmds.EditError(f"no backdrop {self.backdrop_id!r}")


class _StudioGraph(NodeGraph):
    """A NodeGraph whose user gestures become requests to the canvas.

    Every overridden handler is one NodeGraphQt calls from the viewer in response to the user;
    none of them mutates the scene. The canvas applies a model command and updates the scene
    from the resulting model events.
    """

    def __init__(self, canvas: GraphCanvas, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._canvas = canvas

    def get_unique_name(self, name: str) -> str:  # noqa: D401 - NodeGraphQt API
        """Display names come from the document; NodeGraphQt's O(n) uniquifier is not needed."""
        return name

    def _on_search_triggered(self, node_type: str, pos: Any) -> None:
        self._canvas.add_node_type(node_type, (pos[0], pos[1]))

    def _on_node_data_dropped(self, mimedata: QtCore.QMimeData, pos: QtCore.QPoint) -> None:
        if mimedata.hasFormat(MIME_TYPE):
            data = bytes(mimedata.data(MIME_TYPE).data()).decode()
            x, y = float(pos.x()), float(pos.y())
            for node_type in vnodes.parse_node_urn(data):
                self._canvas.add_node_type(node_type, (x, y))
                x += 80.0
                y += 80.0
        else:
            self.data_dropped.emit(mimedata, pos)

    def _on_connection_changed(self, disconnected: list[Any], connected: list[Any]) -> None:
        self._canvas._view_connections_changed(disconnected, connected)

    def _on_connection_sliced(self, ports: list[Any]) -> None:
        self._canvas._view_connections_changed(ports, [])

    def _on_nodes_moved(self, node_data: dict[Any, Any]) -> None:
        self._canvas._view_nodes_moved(node_data)

    def _on_insert_node(self, pipe: Any, node_id: str, prev_node_pos: dict[Any, Any]) -> None:
        # Dropping a node on a pipe: we keep the move, not NodeGraphQt's implicit rewiring.
        self._canvas._view_nodes_moved(prev_node_pos)

    def _on_node_name_changed(self, node_id: str, name: str) -> None:
        self._canvas._view_renamed(node_id, name)

    def _on_node_backdrop_updated(self, node_id: str, update_property: str, value: Any) -> None:
        self._canvas._view_backdrop_resized(node_id, value)

    def _on_node_double_clicked(self, node_id: str) -> None:
        super()._on_node_double_clicked(node_id)
        self._canvas._view_double_clicked(node_id)


class Breadcrumb(QtWidgets.QWidget):
    """``Project › attention › for b, h`` — click a crumb to leave nested scopes."""

    scope_clicked = QtCore.Signal(object)  # node id of the scope, or None for the root

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QtWidgets.QHBoxLayout(self)
        self._layout.setContentsMargins(4, 2, 4, 2)
        self._layout.setSpacing(2)
        self.buttons: list[QtWidgets.QToolButton] = []

    def set_path(self, crumbs: list[tuple[str | None, str]]) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None:  # hidden now: deletion waits for the event loop
                widget.hide()
                widget.deleteLater()
        self.buttons = []
        for i, (scope_id, label) in enumerate(crumbs):
            if i:
                sep = QtWidgets.QLabel("›", self)
                self._layout.addWidget(sep)
            btn = QtWidgets.QToolButton(self)
            btn.setText(label)
            btn.setAutoRaise(True)
            btn.setEnabled(i < len(crumbs) - 1)
            btn.clicked.connect(lambda _=False, s=scope_id: self.scope_clicked.emit(s))
            self._layout.addWidget(btn)
            self.buttons.append(btn)
        self._layout.addStretch(1)


class GraphCanvas(QtCore.QObject):
    """The editing canvas for one ``DocumentEditor``.

    Attributes:
        widget: the QWidget to put in a window (breadcrumb bar above the node view).
        graph: the NodeGraphQt graph (``graph.viewer()`` is the QGraphicsView).
        actions: name -> QAction (delete, copy, cut, paste, duplicate, fit, group, ungroup,
            backdrop, leave_scope, undo, redo, select_all). They carry shortcuts that act while the
            canvas has focus; a main window may add the same QAction objects to its menus.
        tab_search, context_menus, find_bar, minimap, wire_feedback: the quick-add box, the
            right-click menus, the Ctrl+F field, the overview map and the refused-wire tooltip
            (``app.editor.tab_search``, ``context_menus``, ``find_bar``, ``minimap``,
            ``wire_feedback``).

    Signals:
        selection_changed(list): ids of the selected document nodes.
        message(str): a user-facing status message (refused connection, failed edit...).
        scope_changed(object): the id of the entered scope node (None: the project root).
    """

    selection_changed = QtCore.Signal(list)
    message = QtCore.Signal(str)
    scope_changed = QtCore.Signal(object)

    def __init__(
        self,
        editor: cmds.DocumentEditor,
        parent: QtCore.QObject | None = None,
        *,
        shortcuts: bool = True,
    ) -> None:
        super().__init__(parent)
        self.editor = editor
        self.graph = _StudioGraph(self)
        vnodes.register_all(self.graph)
        strip_viewer_shortcuts(self.graph)
        self._scope: str | None = None
        self._views: dict[str, Any] = {}  # document node id -> view node
        self._backdrops: dict[str, Any] = {}  # backdrop id -> BackdropNode
        self._diagnostics: dict[str, list[str]] = {}
        self._warnings: dict[str, list[str]] = {}
        self._scene_ranges: dict[str | None, list[float]] = {}
        self._clipboard: dict[str, Any] | None = None
        # v2 frames: structure cache (parent/children of the shown canvas), order badges,
        # channel reference links, per-port shape problems of calls.
        self._kids: dict[str | None, list[str]] | None = None
        self._parents: dict[str, str | None] = {}
        self._badges_dirty = True  # order numbers follow the structure, not moves
        self._links_wanted: list[tuple[str, str, str]] | None = None  # None: re-read
        self._order_badges: dict[str, vframes.OrderBadge] = {}
        self._links: list[vframes.RefLink] = []
        self._port_problems: dict[str, dict[str, str]] = {}
        self._index_editor: vnodes.IndexEditor | None = None

        self.breadcrumb = Breadcrumb()
        self.breadcrumb.scope_clicked.connect(self.enter_scope)
        self.widget = QtWidgets.QWidget()
        self.widget.setObjectName("GraphCanvas")
        layout = QtWidgets.QVBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.graph.widget, 1)

        from .tab_search import TabSearch

        self.tab_search = TabSearch(self)
        # Navigation aids over the viewer (issue 13 item 4), each in its own module.
        from .context_menus import CanvasContextMenus
        from .find_bar import FindBar
        from .minimap import Minimap
        from .wire_feedback import WireFeedback

        self.context_menus = CanvasContextMenus(self)
        self.find_bar = FindBar(self)
        self.minimap = Minimap(self)
        self.wire_feedback = WireFeedback(self)
        from .port_tensor import PortTensorDrop

        self.port_tensor = PortTensorDrop(self)  # a port's wire dropped on empty canvas
        self.actions = self._make_actions(shortcuts)
        self._route_label_clicks()
        self.graph.node_selection_changed.connect(self._view_selection_changed)
        self.graph.node_selected.connect(lambda _n: self._view_selection_changed([], []))
        self._connect_model()
        self.rebuild()

    def _route_label_clicks(self) -> None:
        """A press on a call port's index label edits the index instead of starting a wire.

        NodeGraphQt's port items have a hit box ~37 px wide that covers the start of the label
        beside them, and the viewer starts a wire from any port within 5 px of a press. A press
        on an editable label away from the port's circle is left to the label."""
        viewer = self.viewer
        original = viewer.sceneMousePressEvent

        def scene_press(event: Any) -> None:
            pos = event.scenePos()
            if event.button() == QtCore.Qt.MouseButton.LeftButton:
                for item in viewer.scene().items(pos):
                    if (
                        isinstance(item, vnodes.PortLabel)
                        and item.on_click is not None
                        and item.isVisible()
                        and not self._near_port_circle(item, pos)
                    ):
                        return
            original(event)

        viewer.sceneMousePressEvent = scene_press

        original_move = viewer.sceneMouseMoveEvent
        original_release = viewer.sceneMouseReleaseEvent

        pending = [False]

        def hint_later() -> None:
            pending[0] = False
            if viewer.LMB_state:  # still dragging
                self._update_drop_hint()
                if self._links:  # channel links follow what is dragged
                    self._refresh_links()

        def scene_move(event: Any) -> None:
            original_move(event)
            # The scene moves the dragged items after this handler: look once they have moved.
            if event.buttons() & QtCore.Qt.MouseButton.LeftButton and self._scope is None:
                if not pending[0]:
                    pending[0] = True
                    QtCore.QTimer.singleShot(0, hint_later)

        def scene_release(event: Any) -> None:
            self._set_drop_hint(None)
            original_release(event)

        viewer.sceneMouseMoveEvent = scene_move
        viewer.sceneMouseReleaseEvent = scene_release

    @staticmethod
    def _near_port_circle(label: Any, pos: QtCore.QPointF) -> bool:
        node = label.parentItem()
        for port in list(node._input_items) + list(node._output_items):
            centre = port.sceneBoundingRect().center()
            if (centre - pos).manhattanLength() < 12.0:
                return True
        return False

    # ======================================================================================
    # public API
    # ======================================================================================
    @property
    def doc(self) -> Document:
        return self.editor.doc

    @property
    def viewer(self) -> Any:
        return self.graph.viewer()

    @property
    def scope(self) -> str | None:
        """Id of the scope node whose body is shown (None: the project root)."""
        return self._scope

    def current_graph(self) -> Graph:
        """The document graph shown on the canvas."""
        if self._scope is None:
            return self.doc.graph
        node = self.doc.node(self._scope)
        assert node.body is not None
        return node.body

    def view_node(self, node_id: str) -> Any | None:
        """The NodeGraphQt node showing document node ``node_id`` (None if not in view)."""
        return self._views.get(node_id)

    def backdrop_view(self, backdrop_id: str) -> Any | None:
        return self._backdrops.get(backdrop_id)

    def selected_ids(self) -> list[str]:
        """Ids of the selected document nodes (backdrops excluded), in scene order."""
        ids = []
        for view in self.graph.selected_nodes():
            if isinstance(view, (vnodes.StudioNode, vframes.FrameNode)) and view.id in self._views:
                ids.append(view.id)
        return ids

    def selected_backdrop_ids(self) -> list[str]:
        return [v.id for v in self.graph.selected_nodes() if v.id in self._backdrops]

    def select_node(self, node_id: str) -> None:
        """Show ``node_id`` (entering its scope if needed), select it alone and centre on it."""
        found = self.doc.locate(node_id)
        if found is None:
            self.message.emit(f"no node {node_id!r} in the document")
            return
        _node, graph, owner = found
        if graph is not self.current_graph():
            self.enter_scope(owner.id if owner is not None else None)
        view = self._views.get(node_id)
        if view is None:
            return
        self.graph.clear_selection()
        view.set_selected(True)
        self.viewer.center_selection([view.view])
        self._emit_selection()

    def select_ids(self, node_ids: Iterable[str]) -> None:
        """Select exactly these nodes of the current scope."""
        wanted = set(node_ids)
        for nid, view in self._views.items():
            view.set_selected(nid in wanted)
        for bid, view in self._backdrops.items():
            view.set_selected(bid in wanted)
        self._emit_selection()

    def enter_scope(self, scope_id: str | None) -> None:
        """Show the body of scope node ``scope_id`` (None: the project root)."""
        if scope_id is not None:
            found = self.doc.locate(scope_id)
            if found is None or found[0].body is None:
                self.message.emit(f"{scope_id} is not a scope node")
                return
        if scope_id == self._scope and self._views:
            return
        self._scene_ranges[self._scope] = self.viewer.scene_rect()
        self._scope = scope_id
        self.rebuild()
        saved = self._scene_ranges.get(scope_id)
        if saved is not None:
            self.viewer.set_scene_rect(saved)
        else:
            self.fit_view()
        self.scope_changed.emit(scope_id)

    def leave_scope(self) -> None:
        """Go up one scope level (no-op at the root)."""
        if self._scope is None:
            return
        chain = self.doc.scope_chain(self.current_graph())
        parent = chain[-2].id if len(chain) >= 2 else None
        self.enter_scope(parent)

    def fit_view(self) -> Any:
        """Frame the selection (or every node and backdrop) — linear, see ``compat.fit_items``.

        The items come from the canvas's own id maps: listing the scene (``all_nodes``) walks
        every port, label and pipe item too, which alone took >100 ms at 5000 nodes.
        """
        items = [v.view for v in self._views.values()]
        items += [v.view for v in self._backdrops.values()]
        if self.viewer.scene().selectedItems():
            selected = [i for i in items if i.isSelected()]
            items = selected or items
        return frame_rect(self.viewer, node_items_rect(items))

    def set_diagnostics(
        self, diagnostics: Iterable[Diagnostic], warnings: Iterable[Diagnostic] = ()
    ) -> None:
        """Badge the nodes with problems (red border and error badge) or only warnings (amber
        border and warning badge) and list both in their tooltip.

        A scope node whose body holds a faulty node gets an amber border, so problems inside
        collapsed scopes are visible from outside; one holding only warnings gets the warning
        badge.
        """
        diagnostics = list(diagnostics)
        self._diagnostics = _texts_by_node(diagnostics)
        self._warnings = _texts_by_node(warnings)
        # A call's shape problems name their port (field props.index.<param>): the port's
        # label turns red and says why.
        ports: dict[str, dict[str, str]] = {}
        for d in diagnostics:
            if d.node_id and d.field.startswith("props.index."):
                param = d.field[len("props.index.") :]
                ports.setdefault(d.node_id, {}).setdefault(param, d.message)
        changed = set(ports) | set(self._port_problems)
        self._port_problems = ports
        self._refresh_call_ports([i for i in changed if i in self._views])
        self._apply_diagnostics()

    def diagnostics_of(self, node_id: str) -> list[str]:
        return list(self._diagnostics.get(node_id, []))

    def warnings_of(self, node_id: str) -> list[str]:
        return list(self._warnings.get(node_id, []))

    def badge_of(self, node_id: str) -> str | None:
        """The badge the node's view shows (``vnodes.BADGE_ERROR`` / ``BADGE_WARNING``)."""
        view = self._views.get(node_id)
        if isinstance(view, vframes.FrameNode):
            return {"error": vnodes.BADGE_ERROR, "warning": vnodes.BADGE_WARNING}.get(
                view.view.problem or ""
            )
        return view.view.badge if view is not None else None

    # -- edits (all through the editor) ---------------------------------------------------
    def add_node_type(self, node_type: str, pos: tuple[float, float] | None = None) -> str | None:
        """Add a node of NodeGraphQt type ``node_type`` (a kind or a library entry) at ``pos``.

        ``pos`` is a scene position; None means the centre of the view. Returns the new node
        id (the first one for a library fragment), or None when the edit was refused.
        """
        if pos is None:
            center = self.viewer.scene_center()
            pos = (float(center[0]), float(center[1]))
        kind_id = vnodes.kind_by_node_type().get(node_type)
        if kind_id is not None:
            return self.add_node(kind_id, pos)
        entry = library_entry_for_type(node_type)
        if entry is not None:
            ids = self._paste_fragment(entry.fragment(), pos)
            return ids[0] if ids else None
        self.message.emit(f"unknown node type {node_type!r}")
        return None

    def add_node(
        self, kind_id: str, pos: tuple[float, float], parent: Any = "auto", **props: Any
    ) -> str | None:
        """Add a node of registry kind ``kind_id`` at scene ``pos``; its id, or None.

        On the root canvas it goes into the innermost frame under ``pos`` (``parent``
        overrides: a frame id, or None for the bare canvas); in a kernel body, into the body.
        """
        kind = registry.kind(kind_id)
        if self._scope is not None:
            frame, owner = None, self._scope
        else:
            frame = self.frame_at((float(pos[0]), float(pos[1]))) if parent == "auto" else parent
            owner = frame
        scope = self.scope_name_of(frame)
        if scope not in kind.allowed_in:
            where = {"root": "on the canvas", "kernel": "in a kernel body"}.get(scope)
            if where is None:
                where = self._where_text(frame)
            self.message.emit(
                f"{kind.title} cannot be placed {where} "
                f"(allowed in: {', '.join(sorted(kind.allowed_in))})"
            )
            return None
        cmd = self.apply(cmds.AddNode(kind_id, (float(pos[0]), float(pos[1])), owner, **props))
        return cmd.node.id if cmd is not None and cmd.node is not None else None

    def delete_selected(self) -> None:
        """Delete the selected nodes (with their edges) and backdrops — one undo step. When
        that empties references of other nodes (a call's kernel, a loop's axis), ``message``
        says which (``lost_references_text``): the calls' wires go too, so it must not be silent."""
        ids = [i for i in self.selected_ids() if self.doc.node(i).kind not in _SCOPE_OWNED]
        protected = len(self.selected_ids()) - len(ids)
        backdrops = self.selected_backdrop_ids()
        if protected:
            self.message.emit("entry and parameter nodes belong to their scope: not deleted")
        if not ids and not backdrops:
            return
        parts: list[cmds.Command] = [cmds.RemoveNodes(ids)] if ids else []
        parts += [cmds.RemoveBackdrop(bid) for bid in backdrops]
        held = self._held_references()
        deleted = [registry.node_label(self.doc.node(i)) for i in ids]
        if self.apply(Batch("Delete", parts)) is not None and held:
            text = lost_references_text(self.doc, deleted, held)
            if text:
                self.message.emit(text)

    def _held_references(self) -> dict[str, list[tuple[str, str]]]:
        """``{node id: registry.references(node)}`` of the root nodes holding any: compared
        after a delete to tell the user which nodes lost what (a call its kernel)."""
        out = {}
        for node in self.doc.graph.nodes.values():
            refs = registry.references(node)
            if refs:
                out[node.id] = refs
        return out

    def copy_selected(self) -> bool:
        """Copy the selection to the clipboard (model fragment + system clipboard JSON)."""
        ids = [i for i in self.selected_ids() if self.doc.node(i).kind not in _SCOPE_OWNED]
        if not ids:
            self.message.emit("nothing to copy")
            return False
        data = cmds.clipboard_data(self.doc, ids)
        self._clipboard = data
        mime = QtCore.QMimeData()
        text = json.dumps(data, sort_keys=True)
        mime.setData(CLIPBOARD_MIME, QtCore.QByteArray(text.encode()))
        mime.setText(text)
        QtWidgets.QApplication.clipboard().setMimeData(mime)
        self.message.emit(f"copied {len(ids)} node(s)")
        return True

    def cut_selected(self) -> None:
        if self.copy_selected():
            self.delete_selected()

    def paste(self, pos: tuple[float, float] | None = None) -> list[str]:
        """Paste the clipboard fragment at ``pos`` (default: the cursor); new node ids."""
        data = self.clipboard_fragment()
        if data is None:
            self.message.emit("the clipboard holds no nodes")
            return []
        if pos is None:
            pos = self._cursor_scene_pos()
        return self._paste_fragment(data, pos)

    def duplicate_selected(self) -> list[str]:
        """Copies of the selection next to it, each in its original's frame (``cmds.Duplicate``)."""
        ids = [i for i in self.selected_ids() if self.doc.node(i).kind not in _SCOPE_OWNED]
        if not ids:
            return []
        if not hasattr(cmds, "Duplicate"):
            data = cmds.clipboard_data(self.doc, ids)
            lo = self.fragment_origin(data)
            return self._paste_fragment(data, (lo[0] + PASTE_OFFSET, lo[1] + PASTE_OFFSET))
        cmd = self.apply(cmds.Duplicate(ids, (PASTE_OFFSET, PASTE_OFFSET)))
        if cmd is None:
            return []
        new = [n.id for n in cmd.nodes]
        self.select_ids(new)
        return new

    def group_selected(self, kind_id: str | None = None) -> str | None:
        """Wrap the selection (children of one frame) in a new frame of ``kind_id`` (asks when
        None): ``cmds.Wrap``, one undo step. The new frame's id, or None."""
        ids = [i for i in self.selected_ids() if self.doc.node(i).kind not in _SCOPE_OWNED]
        if not ids:
            self.message.emit("select the nodes to wrap first")
            return None
        if kind_id is None:
            kind_id = self._ask_group_kind()
            if kind_id is None:
                return None
        cmd = self.apply(cmds.Wrap(ids, kind_id))
        if cmd is None or cmd.node is None:
            return None
        self.select_ids([cmd.node.id])
        return cmd.node.id

    wrap_selected = group_selected

    def ungroup_selected(self) -> list[str]:
        """Unwrap each selected frame: its children move up into its place (``cmds.Unwrap``)."""
        chosen = [i for i in self.selected_ids() if self.is_frame(i)]
        if not chosen:
            self.message.emit("select a frame to unwrap")
            return []
        kids = [c for f in chosen for c in self.children_of(f)]
        if self.apply(Batch("Unwrap", [cmds.Unwrap(f) for f in chosen])) is None:
            return []
        self.select_ids(kids)
        return kids

    unwrap_selected = ungroup_selected

    def add_backdrop(self, title: str = "Comment", note: str = "") -> str | None:
        """Put a backdrop (comment box) behind the selection (or at the view centre)."""
        items = [v.view for v in self.graph.selected_nodes()]
        if items:
            r = items_rect(items).adjusted(-30, -60, 30, 30)
            rect = (r.x(), r.y(), r.width(), r.height())
        else:
            cx, cy = self.viewer.scene_center()
            rect = (cx - 200.0, cy - 150.0, 400.0, 300.0)
        cmd = self.apply(cmds.AddBackdrop(rect, title, note, parent=self._scope))
        return cmd.backdrop.id if cmd is not None and cmd.backdrop is not None else None

    def undo(self) -> None:
        """Undo the last edit and show where it happened (``reveal``)."""
        if self.editor.can_undo():
            self._revealing(self.editor.undo)

    def redo(self) -> None:
        """Redo the last undone edit and show where it happened (``reveal``)."""
        if self.editor.can_redo():
            self._revealing(self.editor.redo)

    def _revealing(self, step: Callable[[], None]) -> None:
        """Run ``step`` (undo/redo) while noting the nodes and graphs its model events touch."""
        nodes: list[str] = []
        graphs: list[Graph] = []
        ev = self.editor.events

        def on_node(node: Node, *_args: Any) -> None:
            nodes.append(node.id)

        def on_removed(_node: Node, graph: Graph) -> None:
            graphs.append(graph)

        def on_edge(edge: Edge, graph: Graph) -> None:
            nodes.append(edge.dst.node)
            graphs.append(graph)

        slots = (
            (ev.node_added, on_node),
            (ev.property_changed, on_node),
            (ev.moved, on_node),
            (ev.node_removed, on_removed),
            (ev.edge_added, on_edge),
            (ev.edge_removed, on_edge),
        )
        for signal, slot in slots:
            signal.connect(slot)
        try:
            step()
        finally:
            for signal, slot in slots:
                signal.disconnect(slot)
        self.reveal(nodes, graphs)

    def reveal(self, node_ids: Iterable[str], graphs: Iterable[Graph] = ()) -> None:
        """Show where an edit happened: enter the scope of the first of ``node_ids`` that still
        exists, select it with the others of that graph, and scroll them into view if they are
        not; when none exists (an undone add), enter the first of ``graphs`` still in the
        document. An undo off screen (another scope, a kernel body) would otherwise go unseen.
        """
        found = None
        for node_id in node_ids:
            found = self.doc.locate(node_id)
            if found is not None:
                break
        if found is None:
            for graph in graphs:
                chain = self.doc.scope_chain(graph)
                if graph is self.doc.graph or chain:
                    self.enter_scope(chain[-1].id if chain else None)
                    return
            return
        _node, graph, owner = found
        if graph is not self.current_graph():
            self.enter_scope(owner.id if owner is not None else None)
        wanted = [i for i in dict.fromkeys(node_ids) if i in self._views]
        if set(wanted) != set(self.selected_ids()):  # (an unchanged selection keeps its panel)
            self.select_ids(wanted)
        items = [self._views[i].view for i in wanted]
        visible = self.viewer.mapToScene(self.viewer.viewport().rect()).boundingRect()
        if items and not visible.contains(node_items_rect(items)):
            self.viewer.center_selection(items)

    def set_property(self, node_id: str, field: str, value: Any) -> bool:
        """Set one property through the editor; False (and a message) when refused."""
        return self.apply(cmds.SetProperty(node_id, field, value)) is not None

    # ======================================================================================
    # model -> view
    # ======================================================================================
    def _connect_model(self) -> None:
        ev = self.editor.events
        ev.node_added.connect(self._on_node_added)
        ev.node_removed.connect(self._on_node_removed)
        ev.edge_added.connect(self._on_edge_changed)
        ev.edge_removed.connect(self._on_edge_changed)
        ev.property_changed.connect(self._on_property_changed)
        ev.moved.connect(self._on_moved)
        ev.backdrop_added.connect(self._on_backdrop_added)
        ev.backdrop_removed.connect(self._on_backdrop_removed)
        ev.graph_reset.connect(self._on_graph_reset)
        if hasattr(ev, "parent_changed"):
            ev.parent_changed.connect(self._on_parent_changed)
            ev.order_changed.connect(self._on_order_changed)

    def disconnect_model(self) -> None:
        """Stop listening to the editor (call before dropping the canvas for another one)."""
        ev = self.editor.events
        for sig, slot in (
            (ev.node_added, self._on_node_added),
            (ev.node_removed, self._on_node_removed),
            (ev.edge_added, self._on_edge_changed),
            (ev.edge_removed, self._on_edge_changed),
            (ev.property_changed, self._on_property_changed),
            (ev.moved, self._on_moved),
            (ev.backdrop_added, self._on_backdrop_added),
            (ev.backdrop_removed, self._on_backdrop_removed),
            (ev.graph_reset, self._on_graph_reset),
        ):
            sig.disconnect(slot)
        if hasattr(ev, "parent_changed"):
            ev.parent_changed.disconnect(self._on_parent_changed)
            ev.order_changed.disconnect(self._on_order_changed)

    def _shown(self, graph: Graph) -> bool:
        return graph is self.current_graph()

    def _on_node_added(self, node: Node, graph: Graph) -> None:
        if self._shown(graph) and node.id not in self._views:
            self._invalidate_structure()
            self._create_view(node)
            self._reconcile_edges([node.id])
            self._refresh_dynamic_ports()
            self._refresh_call_ports([node.id])
            self._relayout([node.id])
            self._apply_diagnostics([node.id])
            parent = self.parent_of(node.id)
            # A frame's title may name its children (combine(a, b)); a call's its loops; and
            # a node back from an undone delete is named again by the nodes referring to it.
            referrers = self._referrers(node.id) if self._scope is None else []
            self._refresh_titles([node.id] + ([parent] if parent else []) + referrers)
            if referrers:
                self._refresh_call_ports(referrers)
                self._refresh_links()

    def _referrers(self, node_id: str) -> list[str]:
        """Ids of the nodes whose reference properties name ``node_id``."""
        refs_of = getattr(registry, "reference_props", None)
        if refs_of is None:
            return []
        out = []
        for other in self.doc.graph.nodes.values():
            for name, sub in refs_of(other.kind).items():
                value = other.props.get(name)
                if sub is None:
                    hit = value == node_id
                else:
                    hit = isinstance(value, list) and any(
                        isinstance(e, dict) and e.get(sub) == node_id for e in value
                    )
                if hit:
                    out.append(other.id)
                    break
        return out

    def _on_node_removed(self, node: Node, graph: Graph) -> None:
        if self._scope is not None and self.doc.locate(self._scope) is None:
            self._scope = None  # the shown scope itself was removed
            self.rebuild()
            return
        view = self._views.pop(node.id, None)
        if view is not None:
            self._close_index_editor()
            self._remove_views([view])
            self._invalidate_structure()
            self._relayout()
            self._emit_selection()

    def _on_parent_changed(self, node: Node, old: str | None, new: str | None) -> None:
        if node.id not in self._views:
            return
        self._invalidate_structure()
        self._relayout()
        # Loop variables around the node changed: its call ports' indices and titles.
        moved = [node.id] + self.descendant_ids(node.id) if self.is_frame(node.id) else [node.id]
        self._refresh_call_ports(moved)
        self._refresh_titles([i for i in (old, new) if i] + moved)

    def _on_order_changed(self, graph: Graph) -> None:
        if self._shown(graph):
            self._invalidate_structure()
            self._relayout()
            self._refresh_titles(self.frame_ids())

    def _on_edge_changed(self, edge: Edge, graph: Graph) -> None:
        if self._shown(graph):
            self._reconcile_edges([edge.src.node, edge.dst.node])
            self._refresh_dynamic_ports()
            # A wired tensor's rank sets the auto index of the call port it enters.
            self._refresh_call_ports([edge.src.node, edge.dst.node])
            self._refresh_titles([edge.src.node, edge.dst.node])

    def _on_property_changed(self, node: Node, field: str, old: Any, new: Any) -> None:
        graph = self.current_graph()
        if node.id in graph.nodes and self._scope is not None:
            self._refresh_titles([node.id] + [e.dst.node for e in graph.edges_from(node.id)])
        elif self._scope is None:
            # References are properties in v2: an axis, kernel, channel or tensor renamed or
            # resized re-titles the frames and calls naming it (titles are cheap; all of them).
            self._refresh_titles(list(self._views))
        self._refresh_dynamic_ports()
        self._refresh_call_ports()
        self._links_wanted = None  # a channel reference may have changed
        if node.id in self._views and self._scope is None:
            self._relayout([node.id])
        if self._scope is not None and node.id in {n.id for n in self._scope_chain()}:
            self._update_breadcrumb()

    def _on_moved(self, node: Node, old_pos: Any, new_pos: Any) -> None:
        view = self._views.get(node.id)
        if view is None:
            return
        if isinstance(view, vframes.FrameNode):
            # A frame with children is where they are; an empty one is at its pos.
            if not self.children_of(node.id):
                item = view.view
                r = item.sceneBoundingRect()
                item.set_rect(QtCore.QRectF(float(new_pos[0]), float(new_pos[1]), r.width(), r.height()))  # fmt: skip
        elif tuple(view.pos()) != tuple(new_pos):
            # Straight to the item: NodeGraphQt's set_pos pushes onto its own undo stack.
            view.view.setPos(float(new_pos[0]), float(new_pos[1]))
            view.model.pos = [float(new_pos[0]), float(new_pos[1])]
        self._relayout([node.id])

    def _on_backdrop_added(self, backdrop: Backdrop, graph: Graph) -> None:
        if self._shown(graph) and backdrop.id not in self._backdrops:
            self._create_backdrop(backdrop)

    def _on_backdrop_removed(self, backdrop: Backdrop, graph: Graph) -> None:
        view = self._backdrops.pop(backdrop.id, None)
        if view is not None:
            self._remove_views([view])

    def _on_graph_reset(self, _doc: Document) -> None:
        if self._scope is not None and self.doc.locate(self._scope) is None:
            self._scope = None
        self.rebuild()

    # ======================================================================================
    # view -> model
    # ======================================================================================
    def _port_ref(self, port_item: Any) -> tuple[str, str, str]:
        """(node id, port name, 'in'|'out') of a NodeGraphQt PortItem."""
        direction = "in" if port_item.port_type == "in" else "out"
        return port_item.node.id, port_item.name, direction

    def _edge_of(self, a: Any, b: Any) -> tuple[PortRef, PortRef] | None:
        na, pa, da = self._port_ref(a)
        nb, pb, db = self._port_ref(b)
        if da == db:
            return None
        if da == "out":
            return PortRef(na, pa), PortRef(nb, pb)
        return PortRef(nb, pb), PortRef(na, pa)

    def _view_connections_changed(self, disconnected: list[Any], connected: list[Any]) -> None:
        touched: set[str] = set()
        graph = self.current_graph()
        parts: list[cmds.Command] = []
        for a, b in disconnected:
            pair = self._edge_of(a, b)
            if pair is None:
                continue
            src, dst = pair
            touched.update((src.node, dst.node))
            if any(e.src == src and e.dst == dst for e in graph.edges):
                parts.append(cmds.Disconnect(src, dst))
        for a, b in connected:
            pair = self._edge_of(a, b)
            if pair is not None:
                touched.update((pair[0].node, pair[1].node))
                parts.append(cmds.Connect(*pair))
        if parts:
            title = "Connect" if connected else "Disconnect"
            # One undo step; a refused Connect rolls the whole gesture back (message says why).
            if self.apply(Batch(title, parts)) is not None:
                self._say_replaced(parts)
        # The viewer may have drawn or deleted pipes on its own: make the scene match the model.
        self._reconcile_edges(touched)

    def _say_replaced(self, parts: list[cmds.Command]) -> None:
        """A wire dropped on an input that already had one replaces it (an input takes one
        wire): say which, so the tensor that lost its use is not a silent surprise."""
        gone = {p.dst: p.src for p in parts if isinstance(p, cmds.Disconnect)}
        for p in parts:
            if isinstance(p, cmds.Connect) and p.dst in gone and gone[p.dst] != p.src:
                name = self._label_of(gone[p.dst].node)
                self.message.emit(
                    f"{self._label_of(p.src.node)} now feeds {self._label_of(p.dst.node)}."
                    f"{p.dst.port}, replacing {name} (an input takes one wire; Ctrl+Z undoes it)"
                )

    def _label_of(self, node_id: str) -> str:
        found = self.doc.locate(node_id)
        return self.node_title(found[0], found[1], found[2]).split("  ")[0] if found else node_id

    def _view_nodes_moved(self, node_data: dict[Any, Any]) -> None:
        moves: dict[str, tuple[float, float]] = {}
        backdrop_moves: list[tuple[str, tuple[float, float, float, float]]] = []
        for item in node_data:
            if item.id in self._views:
                x, y = item.xy_pos
                moves[item.id] = (float(x), float(y))
            elif item.id in self._backdrops:
                x, y = item.xy_pos
                backdrop_moves.append((item.id, (float(x), float(y), item.width, item.height)))
        if not moves and not backdrop_moves:
            return
        parts: list[cmds.Command] = [cmds.MoveNodes(moves)] if moves else []
        parts += [EditBackdrop(bid, rect=rect) for bid, rect in backdrop_moves]
        reparent = self._drop_targets(moves) if self._scope is None else {}
        title = "Move"
        for parent, ids in reparent.items():
            parts.append(self._reparent_command(ids, parent))
            title = "Move into frame" if parent is not None else "Move out of frame"
        if self.apply(Batch(title, parts)) is None:
            # Refused (a kind not allowed there): put the items back where the model has them.
            for nid in moves:
                node = self.doc.graph.nodes.get(nid) if self._scope is None else None
                if node is not None:
                    self._on_moved(node, node.pos, node.pos)
            self._relayout()

    def _drop_targets(self, moves: dict[str, tuple[float, float]]) -> dict[str | None, list[str]]:
        """New parent -> moved nodes dropped onto it (a frame, or None for the bare canvas).

        Only the outermost moved items count (a frame's contents travel with it); the drop
        point is a node's centre, or the middle of a frame's header. Frames keep the rects
        they had before the move (their relayout follows the model)."""
        _kids, parents = self._structure()
        moved = set(moves)
        roots = [nid for nid in moves if parents.get(nid) not in moved]
        out: dict[str | None, list[str]] = {}
        for nid in roots:
            target = self._drop_target(nid, moved)
            if target != parents.get(nid):
                node = self.doc.graph.nodes[nid]
                if not self._allowed_in_parent(node.kind, target):
                    where = self._where_text(target)
                    self.message.emit(
                        f"{registry.display_name(node.kind)} cannot be placed {where}: "
                        f"it stays in {self._where_text(parents.get(nid))[3:]}"
                    )
                    continue
                out.setdefault(target, []).append(nid)
        return out

    def _drop_target(self, nid: str, moved: set[str]) -> str | None:
        """The frame (None: the canvas) item ``nid`` is over while ``moved`` are dragged: the
        innermost frame holding a node's centre (a frame's header middle), frames that move
        with the drag excluded."""
        r = self._views[nid].view.sceneBoundingRect()
        if self.is_frame(nid):
            point = QtCore.QPointF(r.center().x(), r.top() + vframes.HEADER_H / 2)
        else:
            point = r.center()
        exclude = {m for m in moved if self.is_frame(m)}
        return self.frame_at(point, exclude)

    def _update_drop_hint(self) -> None:
        """While nodes are dragged, the frame they would move into when dropped is lit."""
        viewer = self.viewer
        start = getattr(viewer, "_node_positions", {}) or {}
        moved = {
            item.id
            for item, pos in start.items()
            if getattr(item, "id", None) in self._views and item.xy_pos != pos
        }
        target = None
        if moved and self._scope is None:
            parents = self._structure()[1]
            for nid in moved:
                if parents.get(nid) in moved:
                    continue
                candidate = self._drop_target(nid, moved)
                node = self.doc.graph.nodes.get(nid)
                if (
                    candidate is not None
                    and candidate != parents.get(nid)
                    and node is not None
                    and self._allowed_in_parent(node.kind, candidate)
                ):
                    target = candidate
                break
        self._set_drop_hint(target)

    def _set_drop_hint(self, frame_id: str | None) -> None:
        for fid in self.frame_ids():
            item = self._views[fid].view
            lit = fid == frame_id
            if item.drop_hint != lit:
                item.drop_hint = lit
                item.update()

    def drop_hint(self) -> str | None:
        """The frame lit as the drop target of the current drag (None: none)."""
        return next((f for f in self.frame_ids() if self._views[f].view.drop_hint), None)

    def _where_text(self, frame_id: str | None) -> str:
        if frame_id is None:
            return "on the canvas" if self._scope is None else "in this body"
        node = self.doc.graph.nodes.get(frame_id)
        name = self._views[frame_id].view.name if frame_id in self._views else frame_id
        kind = registry.display_name(node.kind) if node is not None else "frame"
        return f"in {kind} '{name}'"

    def scope_name_of(self, parent: str | None) -> str:
        """The ``allowed_in`` scope name of a place on this canvas (docs/graph-model.md):
        ``root`` (or ``kernel`` in a kernel body), ``workload``, ``compose``, ``connect`` or
        ``branch`` (inside a ``branch.chain``)."""
        if self._scope is not None:
            return registry.scope_of_owner(self._owner())
        if parent is None:
            return "root"
        return registry.scope_of_parent(self.doc, parent)

    def _allowed_in_parent(self, kind_id: str, parent: str | None) -> bool:
        if kind_id not in registry.KINDS:
            return False
        if self._scope is None and hasattr(cmds, "placement_problem"):
            return cmds.placement_problem(self.doc, kind_id, parent) is None
        return self.scope_name_of(parent) in registry.KINDS[kind_id].allowed_in

    @staticmethod
    def _reparent_command(ids: list[str], parent: str | None) -> cmds.Command:
        """COMMANDS' ``Reparent(node_ids, parent)``: the nodes move into frame ``parent``
        (None: onto the canvas), appended to its children in their current order."""
        return cmds.Reparent(ids, parent)

    def reparent(self, node_ids: Iterable[str], parent: str | None) -> bool:
        """Move nodes into frame ``parent`` (None: the canvas) as one undo step."""
        ids = list(node_ids)
        for nid in ids:
            node = self.doc.graph.nodes.get(nid)
            if node is None or not self._allowed_in_parent(node.kind, parent):
                kind = registry.display_name(node.kind) if node is not None else nid
                self.message.emit(f"{kind} cannot be placed {self._where_text(parent)}")
                return False
        return self.apply(self._reparent_command(ids, parent)) is not None

    def _view_renamed(self, node_id: str, name: str) -> None:
        view = self._views.get(node_id)
        if view is not None:
            node = self.doc.node(node_id)
            new = self._strip_title(node, name)
            if new != node.name and self.apply(cmds.SetProperty(node_id, "name", new)) is None:
                self._update_title(view, node)
            return
        if node_id in self._backdrops:
            self.apply(EditBackdrop(node_id, title=name))

    def _view_backdrop_resized(self, backdrop_id: str, value: dict[str, Any]) -> None:
        if backdrop_id not in self._backdrops or not isinstance(value, dict):
            return
        x, y = value.get("pos", (0.0, 0.0))
        rect = (float(x), float(y), float(value["width"]), float(value["height"]))
        self.apply(EditBackdrop(backdrop_id, rect=rect))

    def _view_double_clicked(self, node_id: str) -> None:
        """A kernel definition opens its tile-op body; nothing else is entered (v2: the whole
        workload is on one canvas)."""
        found = self.doc.locate(node_id)
        if found is not None and found[0].body is not None and registry.kind_of(found[0]).scope:
            self.enter_scope(node_id)
        elif found is not None and self.is_frame(node_id):
            self.edit_frame_header(node_id)

    def header_field(self, frame_id: str) -> str:
        """The property a frame's header shows first, edited from a double-click on it: a
        loop's axes (its order is the header's), a program's schedule sheet (its summary line),
        else the kind's first property (a case's predicate, a pipe's depth), else the name."""
        node = self.doc.graph.nodes[frame_id]
        kind = registry.kind_of(node)
        axes = self.context_menus.axes_field(frame_id)
        if axes is not None:
            return axes
        if kind.program and registry.SHEET_PROPS:
            return registry.SHEET_PROPS[0].name
        if kind.props:
            return kind.props[0].name
        return "name"

    def edit_frame_header(self, frame_id: str) -> str:
        """Ask for the header's property in Properties (``context_menus.edit_requested``)."""
        field = self.header_field(frame_id)
        self.select_ids([frame_id])
        self.context_menus.edit_requested.emit(frame_id, field)
        return field

    def _view_selection_changed(self, _sel: list[Any], _unsel: list[Any]) -> None:
        self._emit_selection()

    def _emit_selection(self) -> None:
        self.selection_changed.emit(self.selected_ids())

    # ======================================================================================
    # scene building
    # ======================================================================================
    def rebuild(self) -> None:
        """Throw the scene away and build it from the current document graph.

        Nodes are added inside ``bulk_build`` (each laid out once, no repaint until the end);
        pipes are connected afterwards, when every port has its final position.
        """
        self._close_index_editor()
        hide_modifier_hint(self.viewer)  # a hint left by the last project's keys
        self._remove_views(list(self._views.values()) + list(self._backdrops.values()))
        self._views.clear()
        self._backdrops.clear()
        self._order_badges.clear()  # (children of removed items: gone with them)
        self._clear_links()
        graph = self.current_graph()
        with bulk_build(self.viewer):
            for bd in graph.backdrops:
                self._create_backdrop(bd)
            ctx = self._title_ctx()
            for node in graph.nodes.values():
                self._create_view(node, graph, ctx)
            self._invalidate_structure()
            # Index labels before the (deferred) layout: each call is laid out once.
            self._refresh_call_ports(layout=False)
        self._sync_sizes(self._views.values())
        self._relayout()
        for edge in graph.edges:
            self._connect_view(edge)
        self._apply_diagnostics()
        self._update_breadcrumb()
        self._emit_selection()

    def _owner(self) -> Node | None:
        return None if self._scope is None else self.doc.node(self._scope)

    def _scope_chain(self) -> list[Node]:
        return self.doc.scope_chain(self.current_graph()) if self._scope is not None else []

    def _update_breadcrumb(self) -> None:
        crumbs: list[tuple[str | None, str]] = [(None, self.doc.name or "Project")]
        for node in self._scope_chain():
            crumbs.append((node.id, titles.title(node, self.doc)))
        self.breadcrumb.set_path(crumbs)

    def node_title(self, node: Node, graph: Graph | None = None, owner: Node | None = None) -> str:
        """The title the canvas shows for ``node`` (``Q  f32[4,8,16,16]``, ``attn[b, h]``...):
        ``app.model.titles``. Pass ``graph``/``owner`` when known (else the node is located)."""
        return titles.title(node, self.doc, graph, owner)

    def _title_ctx(self) -> titles.TitleContext:
        """One context for titling many nodes of the shown graph (wires indexed once)."""
        return titles.TitleContext(self.doc, self.current_graph(), self._owner())

    def _display_name(self, node: Node, ctx: titles.TitleContext | None = None) -> str:
        return titles.title_in(node, ctx if ctx is not None else self._title_ctx())

    def _strip_title(self, node: Node, text: str) -> str:
        """The name typed in the in-place editor (it opens on the bare name; an unchanged
        title, or one still starting with ``Kind:``, keeps or strips back to the name)."""
        kind = registry.KINDS.get(node.kind)
        title = kind.title if kind else node.kind
        text = text.strip()
        if text == self._display_name(node) and text != node.name:
            return node.name
        if text.startswith(f"{title}:"):
            text = text[len(title) + 1 :].strip()
        return text

    def _update_title(self, view: Any, node: Node, ctx: titles.TitleContext | None = None) -> None:
        label = self._display_name(node, ctx)
        if isinstance(view, vframes.FrameNode):
            head, summary = self._frame_header(node, label)
            item = view.view
            if item.name != head or item.summary != summary:
                view.model.name = head
                item.name = head
                item.summary = summary
                item.update()
                return True
            return False
        view.view.edit_name = node.name
        if view.name() != label:
            view.set_property("name", label, push_undo=False)
            return True
        return False

    @staticmethod
    def _frame_header(node: Node, label: str) -> tuple[str, str]:
        """(title line, schedule summary line) of a frame's header: a program frame's title
        ends with its sheet's summary (``titles.sheet_summary``), shown on a line of its own."""
        if not vframes.has_summary(node.kind):
            return label, ""
        summary = titles.sheet_summary(node.props) if hasattr(titles, "sheet_summary") else ""
        tail = f"{titles.SEP}{summary}" if summary else ""
        if tail and label.endswith(tail):
            return label[: -len(tail)], summary
        return label, summary

    def _refresh_titles(self, node_ids: Iterable[str]) -> None:
        """Re-title these nodes of the shown graph (the ones not shown are skipped); frames
        around a node whose title changed are re-sized (a wider title widens its frame)."""
        graph = self.current_graph()
        ctx = self._title_ctx()
        changed: list[str] = []
        for node_id in dict.fromkeys(node_ids):
            view, node = self._views.get(node_id), graph.nodes.get(node_id)
            if view is not None and node is not None and self._update_title(view, node, ctx):
                changed.append(node_id)
        if changed:
            self._sync_sizes(self._views[i] for i in changed if i in self._views)
            self._relayout(changed)

    # ======================================================================================
    # frames (v2): structure, bottom-up sizes, order numbers, reference links, call ports
    # ======================================================================================
    def _structure(self) -> tuple[dict[str | None, list[str]], dict[str, str | None]]:
        """(frame id -> ordered child ids, node id -> parent id) of the shown canvas, cached
        until a node is added, removed, reparented or reordered."""
        if self._kids is None:
            graph = self.current_graph()
            kids: dict[str | None, list[str]] = {}
            parents: dict[str, str | None] = {}
            for node in graph.nodes.values():
                parent = getattr(node, "parent", None)
                parent = parent if parent in graph.nodes else None
                parents[node.id] = parent
                kids.setdefault(parent, []).append(node.id)
            self._kids, self._parents = kids, parents
        return self._kids, self._parents

    def _invalidate_structure(self) -> None:
        self._kids = None
        self._badges_dirty = True
        self._links_wanted = None

    def is_frame(self, node_id: str) -> bool:
        """True when ``node_id`` is shown as a frame on this canvas."""
        return isinstance(self._views.get(node_id), vframes.FrameNode)

    def frame_ids(self) -> list[str]:
        return [nid for nid, v in self._views.items() if isinstance(v, vframes.FrameNode)]

    def frame_rect(self, frame_id: str) -> QtCore.QRectF:
        """The scene rect frame ``frame_id`` is drawn at."""
        view = self._views[frame_id]
        return view.view.sceneBoundingRect()

    def children_of(self, frame_id: str | None) -> list[str]:
        """Ids of the nodes directly inside ``frame_id`` (None: the canvas), in order."""
        return list(self._structure()[0].get(frame_id, []))

    def parent_of(self, node_id: str) -> str | None:
        return self._structure()[1].get(node_id)

    def descendant_ids(self, frame_id: str) -> list[str]:
        kids, _parents = self._structure()
        out: list[str] = []
        stack = list(reversed(kids.get(frame_id, [])))
        while stack:
            nid = stack.pop()
            out.append(nid)
            stack.extend(reversed(kids.get(nid, [])))
        return out

    def _member_items(self, frame_id: str) -> list[Any]:
        """Items that move with frame ``frame_id``: its descendants' views."""
        return [self._views[i].view for i in self.descendant_ids(frame_id) if i in self._views]

    def _frame_depth(self, node_id: str) -> int:
        return vframes.depth_of(self._structure()[1], node_id)

    def _node_rect(self, node_id: str) -> QtCore.QRectF:
        item = self._views[node_id].view
        return QtCore.QRectF(item.x(), item.y(), item._width, item._height)

    def _relayout(self, touched: Iterable[str] | None = None) -> None:
        """Size frames bottom-up from their children (all, or those around ``touched``), set
        their Z by depth, and place order numbers and reference links."""
        frames = self.frame_ids()
        if not frames:
            if self._badges_dirty:
                self._refresh_order_badges()
            self._refresh_links()
            return
        kids, parents = self._structure()
        if touched is None:
            todo = set(frames)
        else:
            todo = set()
            for nid in touched:
                current = nid if self.is_frame(nid) else parents.get(nid)
                seen: set[str] = set()
                while current is not None and current not in seen:
                    seen.add(current)
                    todo.add(current)
                    current = parents.get(current)
        # A chain's compartments are aligned from their natural sizes: redo them all.
        for fid in list(todo):
            node = self.current_graph().nodes.get(fid)
            if node is not None and vframes.style_of(node.kind).compartments:
                todo.update(c for c in kids.get(fid, []) if self.is_frame(c))
        depth = {fid: vframes.depth_of(parents, fid) for fid in todo}
        graph = self.current_graph()
        for fid in sorted(todo, key=lambda f: -depth[f]):
            node = graph.nodes.get(fid)
            view = self._views.get(fid)
            if node is None or view is None:
                continue
            item = view.view
            item.set_depth(depth[fid])
            header = vframes.header_height(node.kind, item.summary)
            min_w = vframes.header_text_width(item.name, item.summary)
            children = [c for c in kids.get(fid, []) if c in self._views]
            if vframes.style_of(node.kind).compartments:
                cases = [c for c in children if self.is_frame(c)]
                rects = {c: self._views[c].view.sceneBoundingRect() for c in cases}
                vframes._align_compartments(cases, rects)
                for c in cases:
                    self._views[c].view.set_rect(rects[c])
            if not children:
                x, y = float(node.pos[0]), float(node.pos[1])
                rect = QtCore.QRectF(x, y, max(vframes.EMPTY_W, min_w), vframes.EMPTY_H + header)
            else:
                union = QtCore.QRectF()
                for c in children:
                    r = self._node_rect(c)
                    union = r if union.isNull() else union.united(r)
                pad = vframes.FRAME_PAD
                rect = union.adjusted(-pad, -pad - header, pad, pad)
                if rect.width() < min_w:
                    rect.setWidth(min_w)
            item.set_rect(rect)
            view.model.pos = [rect.x(), rect.y()]
            view.model.width, view.model.height = rect.width(), rect.height()
        if self._badges_dirty:
            self._refresh_order_badges()
        self._refresh_links()

    def _refresh_order_badges(self) -> None:
        """A number on each framed child's top-left corner (its place in the frame's order)."""
        from shiboken6 import isValid

        self._badges_dirty = False
        order = {}
        if self._scope is None:
            kids, _parents = self._structure()
            for parent, members in kids.items():
                if parent is None:
                    continue
                for i, nid in enumerate(members, 1):
                    order[nid] = i
        for nid in list(self._order_badges):
            badge = self._order_badges[nid]
            if nid not in order or nid not in self._views or not isValid(badge):
                if isValid(badge) and badge.scene() is not None:
                    badge.scene().removeItem(badge)
                del self._order_badges[nid]
        for nid, number in order.items():
            view = self._views.get(nid)
            if view is None:
                continue
            badge = self._order_badges.get(nid)
            # A frame's number sits on its header (drawn over the frame's body and the wires).
            holder = view.view.header_item if isinstance(view, vframes.FrameNode) else view.view
            if badge is None or badge.parentItem() is not holder:
                if badge is not None and isValid(badge) and badge.scene() is not None:
                    badge.scene().removeItem(badge)
                badge = vframes.OrderBadge(number)
                badge.setParentItem(holder)
                self._order_badges[nid] = badge
            badge.set_number(number)
            # Frames: at the header's left end; nodes: on the top-left corner.
            badge.setPos(-4.0, -4.0)

    def order_number(self, node_id: str) -> int | None:
        """The order number shown on ``node_id`` (None: not in a frame)."""
        badge = self._order_badges.get(node_id)
        return badge.number if badge is not None else None

    def _clear_links(self) -> None:
        from shiboken6 import isValid

        for link in self._links:
            if isValid(link) and link.scene() is not None:
                link.scene().removeItem(link)
        self._links = []

    def _refresh_links(self) -> None:
        """Dashed channel links: sender/closer -> channel, channel -> consume frame."""
        if self._links_wanted is None:
            found = vframes.reference_links(self.doc) if self._scope is None else []
            self._links_wanted = [(a, b, f) for a, b, f in found if a in self._views and b in self._views]  # fmt: skip
        wanted = self._links_wanted
        have = [(link.src_id, link.dst_id, link.field) for link in self._links]
        if have != wanted:
            self._clear_links()
            scene = self.viewer.scene()
            for a, b, f in wanted:
                link = vframes.RefLink(a, b, f)
                scene.addItem(link)
                self._links.append(link)
        for link in self._links:
            link.route(
                self._views[link.src_id].view.sceneBoundingRect(),
                self._views[link.dst_id].view.sceneBoundingRect(),
            )

    def reference_links(self) -> list[tuple[str, str]]:
        """(from id, to id) of the reference links drawn."""
        return [(link.src_id, link.dst_id) for link in self._links]

    def frame_at(self, pos: tuple[float, float] | QtCore.QPointF, exclude: Iterable[str] = ()) -> str | None:  # fmt: skip
        """The innermost frame whose drawn rect holds scene point ``pos`` (None: the canvas),
        skipping the frames in ``exclude``."""
        point = pos if isinstance(pos, QtCore.QPointF) else QtCore.QPointF(pos[0], pos[1])
        skip = set(exclude)
        best, best_depth = None, -1
        for fid in self.frame_ids():
            if fid in skip:
                continue
            if self._views[fid].view.sceneBoundingRect().contains(point):
                d = self._frame_depth(fid)
                if d > best_depth:
                    best, best_depth = fid, d
        return best

    # -- kernel calls: one port per parameter, labelled with its effective index ------------
    def _call_params(self, node: Node) -> list[str]:
        kern = indexing.kernel_of(self.doc, node)
        if kern is None:
            return []
        return [str(p.get("name")) for p in indexing.params_of(kern) if p.get("name")]

    def port_index_text(self, call_id: str, param: str) -> str:
        """The index a call's port shows (``b, h``; ``""`` for the whole tensor)."""
        return indexing.effective_index(self.doc, self.doc.graph.nodes[call_id], param)

    def port_label_text(self, call_id: str, param: str) -> str:
        """``Q[b, h]`` (``Q`` for the whole tensor or a scalar)."""
        index = self.port_index_text(call_id, param)
        return f"{param}[{index}]" if index.strip() else param

    def _refresh_call_ports(self, ids: Iterable[str] | None = None, layout: bool = True) -> None:
        """Label each call port with its effective index (click to edit) and mark the ports
        with shape problems; a call whose labels grew is re-sized with its frames (``layout``;
        its pipes follow its ports by themselves)."""
        if self._scope is not None:
            return
        graph = self.current_graph()
        wires = indexing.Wires(self.doc)
        grown: list[str] = []
        for nid in ids if ids is not None else list(self._views):
            node = graph.nodes.get(nid)
            view = self._views.get(nid)
            if node is None or view is None or not registry.kind_of(node).calls_kernel:
                continue
            texts: dict[str, str] = {}
            for param in self._call_params(node):
                try:
                    index = indexing.effective_index(self.doc, node, param, wires)
                except Exception:  # noqa: BLE001 - a half-built call: show the bare name
                    index = ""
                texts[param] = f"{param}[{index}]" if index.strip() else param
            if view.set_port_labels(texts, self._edit_index_from_label, self._port_problems.get(nid)):  # fmt: skip
                grown.append(nid)
        if grown and layout:
            self._sync_sizes(self._views[i] for i in grown)
            self._relayout(grown)

    def _edit_index_from_label(self, label: Any) -> None:
        node_item = label.parentItem()
        if node_item is not None:
            self.edit_port_index(node_item.id, label.port_name, label)

    def edit_port_index(self, call_id: str, param: str, label: Any = None) -> bool:
        """Open the in-place index editor on a call port's label (Enter applies the bare index
        or ``Q[...]``; typing the automatic index back resets to auto; Escape cancels)."""
        view = self._views.get(call_id)
        if view is None or not isinstance(view, vnodes.StudioNode):
            return False
        if label is None:
            label = view.port_label("in", param) or view.port_label("out", param)
        if label is None:
            return False
        self._close_index_editor()
        current = self.port_index_text(call_id, param)
        editor = vnodes.IndexEditor(
            label, current, lambda text, c=call_id, p=param: self.set_port_index(c, p, text)
        )
        scale = self.viewer.transform().m11()
        if 0.0 < scale < vnodes.LOD_SCALE:  # zoomed out: as large as the label is drawn
            font = editor.font()
            font.setPixelSize(max(1, round(vnodes.LOD_LABEL_PX / scale)))
            editor.setFont(font)
        self._index_editor = editor
        editor.start()
        return True

    def _close_index_editor(self) -> None:
        from shiboken6 import isValid

        editor, self._index_editor = self._index_editor, None
        if editor is not None and isValid(editor) and not editor._done:
            editor.finish(False)

    def index_editor(self) -> Any:
        """The open in-place index editor (None when none is open)."""
        from shiboken6 import isValid

        ed = self._index_editor
        return ed if ed is not None and isValid(ed) and not ed._done else None

    def set_port_index(self, call_id: str, param: str, text: str | None) -> bool:
        """Override the index of a call's port (``None``: back to the automatic index).

        ``text`` may be the bare index (``b, h``) or the label form (``Q[b, h]``). Text equal
        to the automatic index clears the override."""
        node = self.doc.graph.nodes.get(call_id)
        if node is None:
            return False
        if text is not None:
            text = text.strip()
            if text.startswith(f"{param}[") and text.endswith("]"):
                text = text[len(param) + 1 : -1].strip()
            if text == indexing.auto_index(self.doc, node, param):
                text = None
        index = node.props.get("index") or {}
        if (text is None and param not in index) or (text is not None and index.get(param) == text):
            return True
        return self.apply(cmds.SetPortIndex(call_id, param, text)) is not None

    def reset_port_index(self, call_id: str, param: str) -> bool:
        """Back to the automatic index for this port (the port context menu's action)."""
        return self.set_port_index(call_id, param, None)

    def arrange(self) -> None:
        """Edit > Arrange: lay the shown graph out in readable columns, as one undo step.

        ``app.model.arrange`` places the nodes (data left, loops and calls in the middle,
        schedule and program right; kernel bodies by dataflow), using the real node sizes and
        wrapping columns to the view's shape; the view is then fitted.
        """
        graph = self.current_graph()
        sizes = {
            nid: (float(v.view.width), float(v.view.height))
            for nid, v in self._views.items()
            if not isinstance(v, vframes.FrameNode)
        }
        # Frames: the header height and minimum width the view draws them with.
        headers = {}
        for nid in self.frame_ids():
            item = self._views[nid].view
            headers[nid] = (
                vframes.header_height(item.kind_id, item.summary),
                vframes.header_text_width(item.name, item.summary),
            )
        vp = self.viewer.viewport()
        aspect = max(vp.width(), 1) / max(vp.height(), 1)
        placed = arrange.layout(self.doc, graph, sizes, aspect=aspect, headers=headers)
        moves = {nid: pos for nid, pos in placed.items() if tuple(graph.nodes[nid].pos) != pos}
        if moves:
            self.apply(Batch("Arrange", [cmds.MoveNodes(moves)]))
        self.fit_view()

    @staticmethod
    def _sync_sizes(views: Iterable[Any]) -> None:
        """Copy the laid-out item sizes into the node models (``bulk_build`` defers layout)."""
        for view in views:
            view.model.width = view.view.width
            view.model.height = view.view.height

    def _create_view(
        self, node: Node, graph: Graph | None = None, ctx: titles.TitleContext | None = None
    ) -> Any:
        cls = vnodes.node_classes().get(node.kind)
        if cls is None:
            raise registry.UnknownKind(f"node {node.id}: unknown kind {node.kind!r}")
        # Created with its final ports: one port item each, one layout (see StudioNode).
        label = self._display_name(node, ctx)
        view = cls(registry.ports_of(node, self.doc, graph), name=label)
        view.view.edit_name = node.name
        view.model.id = node.id
        view.view.id = node.id
        view.model.pos = [float(node.pos[0]), float(node.pos[1])]
        # Its tooltip (kind doc or problems) is set by ``_apply_diagnostics`` after creation.
        self.graph.add_node(
            view,
            pos=[float(node.pos[0]), float(node.pos[1])],
            selected=False,
            push_undo=False,
        )
        self._views[node.id] = view
        if isinstance(view, vframes.FrameNode):
            item = view.view
            item.members = lambda fid=node.id: self._member_items(fid)
            item.name = ""  # set by _update_title (title and summary lines)
            self._update_title(view, node, ctx)
        return view

    def _create_backdrop(self, bd: Backdrop) -> Any:
        view = BackdropNode()
        view.model.id = bd.id
        view.view.id = bd.id
        view.NODE_NAME = bd.title
        view.model.name = bd.title
        view.view.name = bd.title
        view.set_property("backdrop_text", bd.note)
        x, y, w, h = bd.rect
        view.set_size(w, h)
        view.set_color(*_parse_rgb(bd.color))
        view.model.pos = [float(x), float(y)]
        self.graph.add_node(view, pos=[float(x), float(y)], selected=False, push_undo=False)
        self._backdrops[bd.id] = view
        return view

    def _remove_views(self, views: list[Any]) -> None:
        if not views:
            return
        for view in views:
            if isinstance(view, vnodes.StudioNode):
                for port in view.input_ports() + view.output_ports():
                    port.clear_connections(push_undo=False, emit_signal=False)
        present = [v for v in views if v.id in self.graph.model.nodes]
        if present:
            NodesRemovedCmd(self.graph, present, emit_signal=False).redo()

    def _connect_view(self, edge: Edge) -> None:
        src = self._views.get(edge.src.node)
        dst = self._views.get(edge.dst.node)
        if src is None or dst is None:
            return
        out = src.get_output(edge.src.port)
        inp = dst.get_input(edge.dst.port)
        if out is None or inp is None:
            return
        if out not in inp.connected_ports():
            out.connect_to(inp, push_undo=False, emit_signal=False)

    def _reconcile_edges(self, node_ids: Iterable[str]) -> None:
        """Make the pipes of these nodes exactly the document's edges (order kept)."""
        ids = {i for i in node_ids if i in self._views}
        if not ids:
            return
        for nid in ids:
            view = self._views[nid]
            for port in view.input_ports() + view.output_ports():
                port.clear_connections(push_undo=False, emit_signal=False)
                for pipe in list(port.view.connected_pipes):
                    pipe.delete()
        for edge in self.current_graph().edges:
            if edge.src.node in ids or edge.dst.node in ids:
                self._connect_view(edge)

    def _refresh_dynamic_ports(self) -> None:
        """Rebuild the ports of nodes whose ports depend on other state (kernel calls...)."""
        changed = []
        for nid, view in self._views.items():
            node = self.current_graph().nodes.get(nid)
            if node is None or node.kind not in _DYNAMIC_KINDS:
                continue
            if view.set_ports(registry.ports_of(node, self.doc)):
                changed.append(nid)
        if changed:
            self._reconcile_edges(changed)

    def _scopes_holding(self, node_ids: Iterable[str]) -> set[str]:
        """Ids of the scope nodes that contain any of ``node_ids`` (at any depth)."""
        inner: set[str] = set()
        for nid in node_ids:
            found = self.doc.locate(nid)
            if found is None:
                continue
            for scope in self.doc.scope_chain(found[1]):
                inner.add(scope.id)
        return inner

    def _apply_diagnostics(self, only: Iterable[str] | None = None) -> None:
        inner = self._scopes_holding(self._diagnostics)
        inner_warned = self._scopes_holding(self._warnings)
        ids = list(only) if only is not None else list(self._views)
        for nid in ids:
            view = self._views.get(nid)
            if view is None:
                continue
            if isinstance(view, vframes.FrameNode):
                self._apply_frame_diagnostics(nid, view)
                continue
            node = self.current_graph().nodes.get(nid)
            kind = registry.KINDS.get(node.kind) if node else None
            problems = self._diagnostics.get(nid)
            warned = self._warnings.get(nid)
            badge: str | None = None
            tips: list[str] = []
            if problems:
                border, badge = ERROR_BORDER, vnodes.BADGE_ERROR
                tips += ["Problems:"] + [f"• {p}" for p in problems]
            elif nid in inner:
                border = INNER_ERROR_BORDER
                tips.append("A node inside this scope has problems (double-click to enter).")
            elif warned:
                border, badge = WARNING_BORDER, vnodes.BADGE_WARNING
            else:
                border = vnodes.SCOPE_BORDER if kind and kind.scope else vnodes.NORMAL_BORDER
            if warned:
                badge = badge or vnodes.BADGE_WARNING
                tips += ["Warnings:"] + [f"• {w}" for w in warned]
            elif nid in inner_warned and not problems:
                badge = badge or vnodes.BADGE_WARNING
                tips.append("A node inside this scope has warnings (double-click to enter).")
            if not tips:
                tips.append((kind.doc or kind.title) if kind else "")
            view.model.border_color = border
            view.view.border_color = border
            view.view.set_badge(badge)
            view.view.setToolTip("\n".join(tips))
            view.view.update()

    def _apply_frame_diagnostics(self, nid: str, view: Any) -> None:
        """A frame's own problems colour its border and fill its tooltip (its children carry
        their own badges: everything is on this canvas)."""
        node = self.current_graph().nodes.get(nid)
        kind = registry.KINDS.get(node.kind) if node else None
        problems, warned = self._diagnostics.get(nid), self._warnings.get(nid)
        tips: list[str] = []
        if problems:
            tips += ["Problems:"] + [f"• {p}" for p in problems]
        if warned:
            tips += ["Warnings:"] + [f"• {w}" for w in warned]
        item = view.view
        item.problem = "error" if problems else "warning" if warned else None
        head = (kind.doc or kind.title) if kind else ""
        item.setToolTip("\n".join(tips) if tips else head)
        item.update()

    # ======================================================================================
    # helpers
    # ======================================================================================
    def apply(self, command: cmds.Command) -> Any:
        """Apply a model command; the command, or None when refused (then ``message`` says why)."""
        try:
            return self.editor.apply(command)
        except cmds.EditError as err:
            self.message.emit(str(err))
            return None

    def _cursor_scene_pos(self) -> tuple[float, float]:
        viewer = self.viewer
        local = viewer.mapFromGlobal(QtGui.QCursor.pos())
        if viewer.rect().contains(local):
            p = viewer.mapToScene(local)
            return float(p.x()), float(p.y())
        cx, cy = viewer.scene_center()
        return float(cx), float(cy)

    def clipboard_fragment(self) -> dict[str, Any] | None:
        mime = QtWidgets.QApplication.clipboard().mimeData()
        if mime is not None and mime.hasFormat(CLIPBOARD_MIME):
            try:
                data = json.loads(bytes(mime.data(CLIPBOARD_MIME).data()).decode())
            except (ValueError, UnicodeDecodeError):
                data = None
            if isinstance(data, dict):
                return data
        return self._clipboard

    @staticmethod
    def fragment_origin(data: dict[str, Any]) -> tuple[float, float]:
        xs, ys = [], []
        for n in data.get("nodes", []):
            pos = n.get("pos", (0.0, 0.0))
            xs.append(float(pos[0]))
            ys.append(float(pos[1]))
        return (min(xs), min(ys)) if xs else (0.0, 0.0)

    def _paste_parent(self, data: dict[str, Any], pos: tuple[float, float]) -> str | None:
        """Where pasted nodes go: in a kernel body, the body; on the root canvas, the innermost
        frame under ``pos`` that may hold every top-level node of the fragment (walking out
        to the canvas)."""
        if self._scope is not None:
            return self._scope
        ids = {n.get("id") for n in data.get("nodes", [])}
        kinds = [
            str(n.get("kind"))
            for n in data.get("nodes", [])
            if n.get("parent") is None or n.get("parent") not in ids
        ]
        frame = self.frame_at(pos)
        while frame is not None and not all(self._allowed_in_parent(k, frame) for k in kinds):
            frame = self.parent_of(frame)
        return frame

    def _paste_fragment(self, data: dict[str, Any], pos: tuple[float, float]) -> list[str]:
        ox, oy = self.fragment_origin(data)
        offset = (pos[0] - ox, pos[1] - oy)
        cmd = self.apply(cmds.Paste(data, offset, self._paste_parent(data, pos)))
        if cmd is None:
            return []
        new = [n.id for n in cmd.nodes]
        self.select_ids(new)
        return new

    def _ask_group_kind(self) -> str | None:
        menu = QtWidgets.QMenu(self.viewer)
        for kind_id in self.group_kinds():
            kind = registry.KINDS[kind_id]
            action = menu.addAction(kind.title)
            action.setData(kind_id)
        chosen = menu.exec(QtGui.QCursor.pos())
        return chosen.data() if chosen is not None else None

    def group_kinds(self) -> list[str]:
        """Frame kinds that may stand where the selection is (for Wrap in Frame…)."""
        ids = self.selected_ids()
        parent = self.parent_of(ids[0]) if ids and self._scope is None else None
        return [
            k.id
            for k in registry.KINDS.values()
            if getattr(k, "frame", False)
            and k.in_palette
            and not k.case
            and self._allowed_in_parent(k.id, parent)
        ]

    def _make_actions(self, shortcuts: bool) -> dict[str, QtGui.QAction]:
        specs: list[tuple[str, str, Any, list[Any]]] = [
            (
                "delete",
                "Delete",
                self.delete_selected,
                [QtGui.QKeySequence.StandardKey.Delete, "Backspace"],
            ),  # fmt: skip
            ("copy", "Copy", self.copy_selected, [QtGui.QKeySequence.StandardKey.Copy]),
            ("cut", "Cut", self.cut_selected, [QtGui.QKeySequence.StandardKey.Cut]),
            ("paste", "Paste", self.paste, [QtGui.QKeySequence.StandardKey.Paste]),
            ("duplicate", "Duplicate", self.duplicate_selected, ["Ctrl+D"]),
            (
                "select_all",
                "Select All",
                self._select_all,
                [QtGui.QKeySequence.StandardKey.SelectAll],
            ),  # fmt: skip
            ("fit", "Fit View", self.fit_view, ["F"]),
            ("arrange", "Arrange", self.arrange, ["Ctrl+Shift+A"]),
            ("group", "Group into Scope…", self.group_selected, ["Ctrl+G"]),
            ("ungroup", "Ungroup", self.ungroup_selected, ["Ctrl+Shift+G"]),
            ("backdrop", "Add Comment Backdrop", self.add_backdrop, ["B"]),
            ("leave_scope", "Leave Scope", self.leave_scope, ["Alt+Up"]),
            ("undo", "Undo", self.undo, [QtGui.QKeySequence.StandardKey.Undo]),
            ("redo", "Redo", self.redo, [QtGui.QKeySequence.StandardKey.Redo, "Ctrl+Y"]),
        ]
        actions: dict[str, QtGui.QAction] = {}
        for name, text, slot, keys in specs:
            action = QtGui.QAction(text, self.widget)
            action.setObjectName(f"canvas_{name}")
            action.triggered.connect(lambda _=False, f=slot: f())
            if shortcuts:
                action.setShortcuts([QtGui.QKeySequence(k) for k in keys])
                action.setShortcutContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.widget.addAction(action)
            actions[name] = action
        return actions

    def _select_all(self) -> None:
        self.select_ids(list(self._views))
