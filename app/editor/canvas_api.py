"""``CanvasApi``: what the canvas's parts use of the canvas that owns them.

``GraphCanvas`` (``app.editor.canvas``) builds its parts — context menus, find bar, minimap, Tab
search, wire feedback, port drops — hands itself in, and the palette's drops and the properties
panel act on it too. Typed against ``GraphCanvas``, each part would import the module that
imports it (an import cycle, even when the import is for type checking only). They depend on
this protocol instead; ``GraphCanvas`` satisfies it. Adding a member here is adding to what the
parts may ask of the canvas: keep it to what they use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from PySide6 import QtCore

from ..model import commands as cmds
from ..model.document import Document, Graph, Node


class QuickAdd(Protocol):
    """The canvas's Tab search box (``app.editor.tab_search.TabSearch``)."""

    def show_at(self, view_pos: QtCore.QPoint, parent: str | None | bool = False) -> None: ...


class CanvasApi(Protocol):
    """The canvas as its parts see it (members as ``GraphCanvas`` documents them)."""

    message: QtCore.SignalInstance  # str: a status-bar message
    selection_changed: QtCore.SignalInstance  # list[str]: the selected node ids
    editor: cmds.DocumentEditor
    graph: Any  # the NodeGraphQt NodeGraph mirroring the current graph

    @property
    def tab_search(self) -> QuickAdd: ...

    @property
    def doc(self) -> Document: ...

    @property
    def viewer(self) -> Any: ...  # NodeGraphQt's NodeViewer (a QGraphicsView)

    @property
    def scope(self) -> str | None: ...

    def current_graph(self) -> Graph: ...

    def apply(self, command: cmds.Command) -> Any: ...

    def set_property(self, node_id: str, field: str, value: Any) -> bool: ...

    def select_ids(self, node_ids: Iterable[str]) -> None: ...

    def selected_ids(self) -> list[str]: ...

    def select_node(self, node_id: str) -> None: ...

    def view_node(self, node_id: str) -> Any | None: ...

    def node_title(
        self, node: Node, graph: Graph | None = None, owner: Node | None = None
    ) -> str: ...

    def enter_scope(self, scope_id: str | None) -> None: ...

    def leave_scope(self) -> None: ...

    def fit_view(self) -> Any: ...

    def paste(self, pos: tuple[float, float] | None = None) -> list[str]: ...

    def delete_selected(self) -> None: ...

    def duplicate_selected(self) -> list[str]: ...

    def clipboard_fragment(self) -> dict[str, Any] | None: ...

    def fragment_origin(self, data: dict[str, Any]) -> tuple[float, float]: ...

    def edit_port_index(self, call_id: str, param: str, label: Any = None) -> bool: ...

    def reset_port_index(self, call_id: str, param: str) -> bool: ...


def owner(canvas: CanvasApi) -> QtCore.QObject | None:
    """The canvas as the Qt parent of one of its parts (``GraphCanvas`` is a ``QObject``, which
    a protocol cannot say), so a part lives and dies with its canvas."""
    return canvas if isinstance(canvas, QtCore.QObject) else None
