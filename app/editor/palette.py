"""The node palette: a searchable tree of frames and nodes by category, plus the kernels.

Entries come from the registry (frames such as ``P``, ``P.seq``, ``P.when``, ``P.pipe``,
``process``, ``consume``, ``combine``, ``sequential``, ``connect`` and ``workload``, and plain
nodes), and a **Kernels** section lists the document's kernel definitions and the kernel library:
dropping one of those into a frame creates a *call* of that kernel there (a library kernel is
added to the document first).

Dragging an entry starts a ``QDrag`` carrying MIME type ``nodegraphqt/nodes`` with
``ngqt::node:<identifier>.<ClassName>`` — the format NodeGraphQt's viewer accepts on drop
(DESIGN §4). Kinds map to their generated node classes (``app.editor.nodes``); a library entry
(``app/resources/kernel_library/*.json``, package data) maps to ``pto.library.<Name>`` (resolved with
:func:`library_entry_for_type`), a defined kernel to ``pto.kernelcall.<node id>``.

:class:`PaletteDrop` takes palette drops on a canvas: the node is created where it is dropped,
inside the innermost frame under the cursor (``parent`` = that frame), as one undoable edit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from pto_wsp.errors import PtoError
from pto_wsp.package_data import package_path

from ..model import commands, frames, io, registry
from ..model.document import Document, Node
from .nodes import (
    CATEGORY_COLORS,
    DEFAULT_NODE_COLOR,
    library_node_type,
    node_type_for,
    node_urn,
)
from .properties import KERNELS_CATEGORY, call_reference, defined_kernels

MIME_TYPE = "nodegraphqt/nodes"
LIBRARY_SUFFIX = "(library)"  # marks library entries in the Kernels section
LIBRARY_CATEGORY = KERNELS_CATEGORY  # library kernels are listed in the Kernels section
CALLS_CATEGORY = "Calls of this project's kernels"
"""The last section: one ``name  (call)`` entry per kernel the document defines. Last, so that
adding a kernel never moves the entries above it (in Kernels it pushed every row below down,
and the next drag picked the row that had moved under the cursor); hidden while empty."""
KERNEL_CALL_PREFIX = "pto.kernelcall."
LIBRARY_DIR = package_path(__name__.partition(".")[0], "resources", "kernel_library")
TYPE_ROLE = QtCore.Qt.ItemDataRole.UserRole
SEARCH_ROLE = QtCore.Qt.ItemDataRole.UserRole + 1


class LibraryError(PtoError):
    """A kernel-library file cannot be read (named with its path)."""


@dataclass(frozen=True)
class LibraryEntry:
    """One ready-made kernel: a document fragment pasted where it is dropped."""

    id: str  # file stem, e.g. "rmsnorm"
    title: str
    doc: str
    path: Path
    node_type: str  # pto.library.<Name>

    def fragment(self) -> dict[str, Any]:
        """The clipboard-format fragment (``commands.clipboard_data`` shape) to paste.

        Library files are project documents (validated like any project file) holding the
        kernel definitions; their root nodes become the fragment.
        """
        data = _read_json(self.path)
        if "graph" not in data:
            return data  # already a clipboard fragment
        try:
            doc = io.from_data(data, self.path)
        except io.ProjectError as err:
            raise LibraryError(f"{self.path}: {err}") from err
        return commands.clipboard_data(doc, list(doc.graph.nodes))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise LibraryError(f"{path}: cannot read kernel library entry: {err}") from err
    if not isinstance(data, dict):
        raise LibraryError(f"{path}: a kernel library entry must be a JSON object")
    return data


def _entry_title(stem: str, data: dict[str, Any]) -> str:
    for key in ("title", "name"):
        if isinstance(data.get(key), str) and data[key]:
            return data[key]
    nodes = data.get("nodes")
    if isinstance(nodes, list) and nodes and isinstance(nodes[0], dict):
        name = nodes[0].get("name")
        if isinstance(name, str) and name:
            return name
    return stem


@cache
def _library_cached(directory: str) -> tuple[LibraryEntry, ...]:
    entries: list[LibraryEntry] = []
    root = Path(directory)
    if not root.is_dir():
        return ()
    for path in sorted(root.glob("*.json")):
        data = _read_json(path)
        doc = data.get("doc") or data.get("description") or ""
        entries.append(
            LibraryEntry(
                id=path.stem,
                title=_entry_title(path.stem, data),
                doc=str(doc),
                path=path,
                node_type=library_node_type(path.stem),
            )
        )
    return tuple(entries)


def library_entries(directory: Path | None = None) -> tuple[LibraryEntry, ...]:
    """The kernel library (sorted by file name); empty when the directory does not exist."""
    return _library_cached(str(directory or LIBRARY_DIR))


def library_entry_for_type(node_type: str, directory: Path | None = None) -> LibraryEntry | None:
    for entry in library_entries(directory):
        if entry.node_type == node_type:
            return entry
    return None


def palette_kinds() -> list[tuple[str, list[Any]]]:
    """``[(category, [NodeKind, ...]), ...]`` in palette order, internal kinds left out.

    Internal kinds (``scope.entry``, ``kernel.param``) are created by the model with their
    scope; a user never places them, so the registry marks them ``in_palette=False``.
    """
    from ..model import registry

    return [(c, [k for k in kinds if k.in_palette]) for c, kinds in registry.categories()]


def library_label(entry: LibraryEntry) -> str:
    """The palette text of a library kernel: marked, since the Kernels section also lists the
    document's own kernels and a user cannot otherwise tell ``attn_kernel  (call)`` (a kernel of
    theirs) from ``attn_kernel`` (a ready one that a drop adds to the document)."""
    return f"{entry.title}  {LIBRARY_SUFFIX}"


def mime_for_node_type(node_type: str) -> QtCore.QMimeData:
    """The drag payload NodeGraphQt's viewer turns into a node at the drop point."""
    mime = QtCore.QMimeData()
    mime.setData(MIME_TYPE, QtCore.QByteArray(node_urn(node_type).encode()))
    return mime


def kernel_call_type(kernel_id: str) -> str:
    """The palette node type of "a call of the kernel defined by node ``kernel_id``"."""
    return KERNEL_CALL_PREFIX + kernel_id


def kernel_of_type(node_type: str) -> str | None:
    """The kernel definition id a :func:`kernel_call_type` names (None for other types)."""
    if node_type.startswith(KERNEL_CALL_PREFIX):
        return node_type[len(KERNEL_CALL_PREFIX) :] or None
    return None


class _PaletteTree(QtWidgets.QTreeWidget):
    """Tree whose drags carry the NodeGraphQt node URN of the dragged entry."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformRowHeights(True)

    def mimeTypes(self) -> list[str]:
        return [MIME_TYPE]

    def mimeData(self, items: Any) -> QtCore.QMimeData:
        types = [it.data(0, TYPE_ROLE) for it in items if it.data(0, TYPE_ROLE)]
        mime = QtCore.QMimeData()
        if types:
            payload = "ngqt::" + ";".join(f"node:{t}" for t in types)
            mime.setData(MIME_TYPE, QtCore.QByteArray(payload.encode()))
        return mime


class Palette(QtWidgets.QWidget):
    """Searchable palette of frames, nodes and kernels.

    ``set_document(getter)`` lets the Kernels section list the open document's kernel
    definitions (``refresh_kernels`` after edits).

    Signals:
        node_activated(str): a node type was double-clicked / Enter-ed (the main window adds it
            at the centre of the canvas with ``GraphCanvas.add_node_type``).
    """

    node_activated = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Palette")
        self.search = QtWidgets.QLineEdit(self)
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = _PaletteTree(self)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._document: Any = None
        self._kernel_sig: tuple[tuple[str, str], ...] = ()
        self._populate()
        self.search.textChanged.connect(self.set_filter)
        self.tree.itemActivated.connect(self._on_activated)
        self.search.returnPressed.connect(self._activate_first_visible)

    def set_document(self, getter: Any) -> None:
        """``getter()`` returns the open document (its kernels are listed under Kernels)."""
        self._document = getter
        self.refresh_kernels()

    # -- content --------------------------------------------------------------------------
    def _populate(self) -> None:
        self.tree.clear()
        kernels_top: QtWidgets.QTreeWidgetItem | None = None
        for category, kinds in palette_kinds():
            top = self._category_item(category)
            for kind in kinds:
                self._leaf(top, kind.title, node_type_for(kind.id), kind.doc, kind.id)
            if category == KERNELS_CATEGORY:
                kernels_top = top
        if kernels_top is None:
            kernels_top = self._category_item(KERNELS_CATEGORY)
        for entry in library_entries():  # static: the library ships with the Studio
            tip = (entry.doc + "\n\n" if entry.doc else "") + "library kernel: dropped into a frame, it is added and called"  # fmt: skip
            self._leaf(kernels_top, library_label(entry), entry.node_type, tip, entry.id)
        self._calls_top = self._category_item(CALLS_CATEGORY, KERNELS_CATEGORY)
        self._fill_kernels()
        self.tree.expandAll()

    def _fill_kernels(self) -> None:
        """The last section (``CALLS_CATEGORY``): a call entry (``name  (call)``) per kernel
        the document defines; the section is hidden while there is none."""
        top = self._calls_top
        while top.childCount():
            top.removeChild(top.child(top.childCount() - 1))
        doc = self._document() if self._document is not None else None
        found = defined_kernels(doc) if doc is not None else []
        self._kernel_sig = tuple((n.id, n.name) for n in found)
        for n in found:
            title = f"{registry.node_label(n)}  (call)"
            tip = f"call {registry.node_label(n)}: drop it into a workload or loop frame"
            self._leaf(top, title, kernel_call_type(n.id), tip, n.name or n.id)
        top.setHidden(not found)
        top.setExpanded(True)
        if self.search.text():
            self.set_filter(self.search.text())

    def refresh_kernels(self) -> None:
        """List the document's kernels again (cheap when nothing changed)."""
        doc = self._document() if self._document is not None else None
        sig = tuple((n.id, n.name) for n in defined_kernels(doc)) if doc is not None else ()
        if sig != self._kernel_sig:
            self._fill_kernels()

    def _category_item(self, category: str, colour_of: str = "") -> QtWidgets.QTreeWidgetItem:
        item = QtWidgets.QTreeWidgetItem(self.tree, [category])
        item.setFlags(QtCore.Qt.ItemFlag.ItemIsEnabled)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        color = CATEGORY_COLORS.get(colour_of or category, DEFAULT_NODE_COLOR)
        item.setForeground(0, QtGui.QBrush(QtGui.QColor(*color).lighter(220)))
        return item

    def _leaf(
        self, parent: QtWidgets.QTreeWidgetItem, title: str, node_type: str, doc: str, key: str
    ) -> None:
        item = QtWidgets.QTreeWidgetItem(parent, [title])
        item.setData(0, TYPE_ROLE, node_type)
        item.setData(0, SEARCH_ROLE, f"{title} {key} {parent.text(0)}".lower())
        item.setToolTip(0, f"{doc}\n\n{key}" if doc else key)
        item.setFlags(
            QtCore.Qt.ItemFlag.ItemIsEnabled
            | QtCore.Qt.ItemFlag.ItemIsSelectable
            | QtCore.Qt.ItemFlag.ItemIsDragEnabled
        )

    # -- queries used by tests and the main window ----------------------------------------
    def items(self) -> list[QtWidgets.QTreeWidgetItem]:
        """Every leaf (node entry), visible or not."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out.extend(top.child(j) for j in range(top.childCount()))
        return out

    def visible_items(self) -> list[QtWidgets.QTreeWidgetItem]:
        return [it for it in self.items() if not it.isHidden()]

    def item_for_type(self, node_type: str) -> QtWidgets.QTreeWidgetItem | None:
        for it in self.items():
            if it.data(0, TYPE_ROLE) == node_type:
                return it
        return None

    def mime_data(self, item: QtWidgets.QTreeWidgetItem) -> QtCore.QMimeData:
        """The drag payload for ``item`` (what ``startDrag`` puts in the ``QDrag``)."""
        return self.tree.mimeData([item])

    # -- behaviour ------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show entries whose title, kind id or category contains every word of ``text``."""
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            shown = 0
            for j in range(top.childCount()):
                leaf = top.child(j)
                hay = leaf.data(0, SEARCH_ROLE)
                visible = all(w in hay for w in words)
                leaf.setHidden(not visible)
                shown += visible
            top.setHidden(shown == 0)
            if words and shown:
                top.setExpanded(True)

    def _on_activated(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        node_type = item.data(0, TYPE_ROLE)
        if node_type:
            self.node_activated.emit(node_type)

    def _activate_first_visible(self) -> None:
        visible = self.visible_items()
        if visible:
            self.node_activated.emit(visible[0].data(0, TYPE_ROLE))


# ------------------------------------------------------------------------------------------
# drops on the canvas: create the node inside the frame under the cursor
# ------------------------------------------------------------------------------------------
def item_node_id(doc: Document, item: Any) -> str | None:
    """The document node a scene item draws (climbing to its parent items), or None."""
    while item is not None:
        for attr in ("node_id", "id"):
            value = getattr(item, attr, None)
            if callable(value):
                continue
            if isinstance(value, str) and doc.locate(value) is not None:
                return value
        item = item.parentItem()
    return None


def frame_at(canvas: Any, view_pos: QtCore.QPoint) -> str | None:
    """The innermost frame under ``view_pos`` (viewer coordinates) on the root canvas: the
    frame of the node under the cursor, else the deepest frame whose rectangle holds the point
    (a frame's interior lets clicks through, so its bounding rectangle decides); None for the
    root canvas."""
    doc = canvas.doc
    if getattr(canvas, "scope", None) is not None:
        return None  # a kernel body has no frames
    viewer = canvas.viewer
    for item in viewer.items(view_pos):
        node_id = item_node_id(doc, item)
        if node_id is not None and node_id in doc.graph.nodes:
            node = doc.graph.nodes[node_id]
            if not _is_frame(node.kind):
                return node.parent
            break
    return deepest_frame(canvas, view_pos)


def deepest_frame(canvas: Any, view_pos: QtCore.QPoint) -> str | None:
    """The most deeply nested frame whose rectangle holds ``view_pos`` (None: none does)."""
    doc = canvas.doc
    viewer = canvas.viewer
    point = viewer.mapToScene(view_pos)
    items = viewer.scene().items(
        point,
        QtCore.Qt.ItemSelectionMode.IntersectsItemBoundingRect,
        QtCore.Qt.SortOrder.DescendingOrder,
        viewer.transform(),
    )
    best: str | None = None
    best_depth = -1
    for item in items:
        node_id = item_node_id(doc, item)
        if node_id is None or node_id not in doc.graph.nodes:
            continue
        if not _is_frame(doc.graph.nodes[node_id].kind):
            continue
        depth = frames.depth(doc, node_id)
        if depth > best_depth:
            best, best_depth = node_id, depth
    return best


def _is_frame(kind_id: str) -> bool:
    check = getattr(registry, "is_frame", None)
    if check is not None:
        return bool(check(kind_id))
    return bool(getattr(registry.KINDS.get(kind_id), "frame", False))


def container_at(canvas: Any, view_pos: QtCore.QPoint) -> str | None:
    """Where a node dropped at ``view_pos`` goes: the kernel whose body the canvas shows, else
    the innermost frame under the cursor (None: the root canvas)."""
    scope = getattr(canvas, "scope", None)
    if scope is not None:
        return scope
    return frame_at(canvas, view_pos)


def _apply(canvas: Any, command: commands.Command) -> commands.Command | None:
    try:
        canvas.editor.apply(command)
    except commands.EditError as err:
        canvas.message.emit(str(err))
        return None
    return command


def create_at(canvas: Any, node_type: str, pos: tuple[float, float], parent: str | None) -> str | None:  # fmt: skip
    """Create what palette entry ``node_type`` stands for at scene ``pos`` inside ``parent``
    (a frame id, a kernel id for its body, or None): a node of a kind, a call of a defined
    kernel, or a library kernel (added to the document, and called when dropped in a frame).
    One undoable edit; the new node's id (None and a message when refused)."""
    from .nodes import kind_by_node_type

    doc = canvas.doc
    kind_id = kind_by_node_type().get(node_type)
    if kind_id is not None:
        cmd = _apply(canvas, _add_here(doc, kind_id, pos, parent, {}))
        node = getattr(cmd, "node", None)
        return node.id if node is not None else None
    ref = call_reference()
    kernel_id = kernel_of_type(node_type)
    if kernel_id is not None:
        if ref is None:
            canvas.message.emit("no node kind calls a kernel")
            return None
        call_kind, prop, _targets = ref
        cmd = _apply(canvas, _add_here(doc, call_kind, pos, parent, {prop: kernel_id}))
        node = getattr(cmd, "node", None)
        return node.id if node is not None else None
    entry = library_entry_for_type(node_type)
    if entry is None:
        canvas.message.emit(f"unknown palette entry {node_type!r}")
        return None
    try:
        data = entry.fragment()
    except LibraryError as err:
        canvas.message.emit(str(err))
        return None
    nodes = data.get("nodes") or []
    xs = [float(n["pos"][0]) for n in nodes if isinstance(n, dict) and n.get("pos")]
    ys = [float(n["pos"][1]) for n in nodes if isinstance(n, dict) and n.get("pos")]
    origin = (min(xs, default=0.0), min(ys, default=0.0))
    in_frame = parent is not None and parent in doc.graph.nodes
    at = pos
    if in_frame:  # the definition goes on the root canvas, left of the outermost frame
        outer = (frames.ancestors(doc, parent) or [doc.graph.nodes[parent]])[0]
        at = (outer.pos[0] - 320.0, pos[1])
    paste_parent = None if in_frame else parent
    paste = commands.Paste(data, (at[0] - origin[0], at[1] - origin[1]), paste_parent)
    if not in_frame or ref is None:
        cmd = _apply(canvas, paste)
        made = getattr(cmd, "nodes", None) or []
        return made[0].id if made else None
    cmd = _apply(canvas, _AddAndCall(paste, ref, pos, parent))
    node = getattr(cmd, "node", None)
    return node.id if node is not None else None


def home_frame_kind(doc: Document, kind_id: str) -> str | None:
    """The frame kind a node of ``kind_id`` dropped on the root canvas is put in when it may
    not live there itself (a loop or a call: a new workload frame around it); None when it may
    live at the root or no root frame could hold it."""
    if registry.allowed_in(doc, kind_id, None):
        return None
    wanted = registry.kind(kind_id).allowed_in
    for k in registry.KINDS.values():
        if k.frame and k.in_palette and "root" in k.allowed_in and k.children_scope in wanted:
            return k.id
    return None


def _add_here(
    doc: Document, kind_id: str, pos: tuple[float, float], parent: str | None, props: dict[str, Any]
) -> commands.Command:
    """The command adding ``kind_id`` at ``pos`` inside ``parent``; on the root canvas, a
    statement (a loop, a call) comes with a new workload frame around it (one undo step)."""
    frame_kind = home_frame_kind(doc, kind_id) if parent is None else None
    if frame_kind is None:
        return commands.AddNode(kind_id, pos, parent, **props)
    return _AddInNewFrame(frame_kind, kind_id, pos, props)


class _AddInNewFrame(commands.Command):
    """Add a frame of ``frame_kind`` on the root canvas and a node of ``kind_id`` inside it,
    as one undo step. ``.node`` is the inner node, ``.frame`` the new frame."""

    title = "Add node"

    def __init__(
        self, frame_kind: str, kind_id: str, pos: tuple[float, float], props: dict[str, Any]
    ) -> None:
        super().__init__()
        self.frame_kind, self.kind_id, self.pos, self.props = frame_kind, kind_id, pos, props
        self.node: Node | None = None
        self.frame: Node | None = None

    def run(self, ed: commands.DocumentEditor) -> None:
        at = (self.pos[0] - FRAME_INSET, self.pos[1] - 2 * FRAME_INSET)
        outer = commands.AddNode(self.frame_kind, at, None)
        outer.run(ed)
        self.frame = outer.node
        assert self.frame is not None
        inner = commands.AddNode(self.kind_id, self.pos, self.frame.id, **self.props)
        inner.run(ed)
        self.node = inner.node


FRAME_INSET = 30.0
"""How far up-left of a dropped statement the workload frame made around it starts."""


class _AddAndCall(commands.Command):
    """Paste a library kernel onto the root canvas and call it inside ``parent``: one undo
    step (the parts run in one command, as ``commands.Batch`` runs its parts)."""

    title = "Add and call kernel"

    def __init__(
        self,
        paste: commands.Paste,
        ref: tuple[str, str, tuple[str, ...]],
        pos: tuple[float, float],
        parent: str | None,
    ) -> None:
        super().__init__()
        self.paste, self.ref, self.pos, self.parent = paste, ref, pos, parent
        self.node: Node | None = None

    def run(self, ed: commands.DocumentEditor) -> None:
        call_kind, prop, targets = self.ref
        self.paste.run(ed)
        kernel = next((n for n in self.paste.nodes if n.kind in targets), None)
        if kernel is None:
            raise commands.EditError("the library entry holds no kernel definition")
        add = commands.AddNode(call_kind, self.pos, self.parent, **{prop: kernel.id})
        add.run(ed)
        self.node = add.node


class PaletteDrop(QtCore.QObject):
    """Takes palette drags dropped on ``canvas``: each dropped entry is created where it is
    dropped, inside the innermost frame under the cursor (an event filter on the viewport, so
    NodeGraphQt's own drop handler, which knows no frames, never sees palette drops)."""

    def __init__(self, canvas: Any) -> None:
        super().__init__(canvas.viewer)
        self.canvas = canvas
        canvas.viewer.viewport().installEventFilter(self)
        canvas.viewer.setAcceptDrops(True)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802
        t = event.type()
        if t in (QtCore.QEvent.Type.DragEnter, QtCore.QEvent.Type.DragMove):
            if event.mimeData().hasFormat(MIME_TYPE):
                event.acceptProposedAction()
                return True
            return False
        if t == QtCore.QEvent.Type.Drop and event.mimeData().hasFormat(MIME_TYPE):
            self.drop(event.mimeData(), event.position().toPoint())
            event.acceptProposedAction()
            return True
        return False

    def drop(self, mime: QtCore.QMimeData, view_pos: QtCore.QPoint) -> list[str]:
        """Create every entry of ``mime`` at ``view_pos``; the new node ids."""
        from .nodes import parse_node_urn

        payload = bytes(mime.data(MIME_TYPE).data()).decode()
        scene = self.canvas.viewer.mapToScene(view_pos)
        parent = container_at(self.canvas, view_pos)
        x, y = float(scene.x()), float(scene.y())
        made: list[str] = []
        for node_type in parse_node_urn(payload):
            node_id = create_at(self.canvas, node_type, (x, y), parent)
            if node_id is not None:
                made.append(node_id)
            x, y = x + 80.0, y + 80.0
        if made and hasattr(self.canvas, "select_ids"):
            self.canvas.select_ids(made[-1:])
        return made
