"""Edits of a document as undoable commands, applied through ``DocumentEditor``.

Every command is built from a handful of primitive operations (insert/remove a node, an edge,
a backdrop; set a property; move a node). The editor performs each primitive, emits its event
and records it in the command's journal. Undo replays the inverse primitives in reverse order,
redo replays the journal — so every command undoes exactly, down to node and edge order (undo
gives byte-identical JSON), and redo never invents fresh ids.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pto_wsp.errors import PtoError

from . import exprs, registry
from .document import Backdrop, Document, Edge, Graph, Node, PortRef
from .events import DocumentEvents

Op = tuple[Any, ...]


class EditError(PtoError):
    """An edit cannot be applied; the message says why. The document is unchanged."""


class ConnectionRefused(EditError):
    """``Connect`` was refused by ``registry.can_connect``; ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"cannot connect: {reason}")


class PropertyError(EditError):
    """A property value is invalid; names the node and the field."""

    def __init__(self, node_id: str, field: str, message: str):
        self.node_id = node_id
        self.field = field
        super().__init__(f"{node_id}.{field}: {message}")


# ------------------------------------------------------------------------------------------
# the editor
# ------------------------------------------------------------------------------------------
class DocumentEditor:
    """Owns a document, its undo/redo stacks, the saved-state marker and the edit events."""

    def __init__(self, doc: Document | None = None, max_undo: int = 1000):
        self.doc = doc if doc is not None else Document()
        self.events = DocumentEvents()
        self.max_undo = max_undo
        self._undo: list[Command] = []
        self._redo: list[Command] = []
        self._recording: list[Op] | None = None
        self._serial = 0
        self._state = 0  # serial of the command on top of the undo stack (0: none)
        self._saved_state: int | None = 0
        self.revision = 0  # bumps on every apply/undo/redo (autosave uses it)

    # -- public API ------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """Whether the document differs from its last saved (or loaded) state."""
        return self._state != self._saved_state

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_title(self) -> str:
        return self._undo[-1].title if self._undo else ""

    def redo_title(self) -> str:
        return self._redo[-1].title if self._redo else ""

    def apply(self, cmd: Command) -> Command:
        """Run ``cmd``; on error the partial edit is rolled back and the error re-raised."""
        was_dirty = self.dirty
        self._recording = []
        try:
            cmd.run(self)
        except BaseException:
            journal, self._recording = self._recording, None
            for op in reversed(journal):
                self._perform(_inverse(op))
            raise
        cmd.journal, self._recording = self._recording, None
        self._serial += 1
        cmd.serial = self._serial
        self._undo.append(cmd)
        if len(self._undo) > self.max_undo:
            dropped = self._undo.pop(0)
            if self._saved_state == dropped.serial:
                self._saved_state = None
        self._redo.clear()
        self._state = cmd.serial
        self._changed(was_dirty)
        return cmd

    def undo(self) -> None:
        if not self._undo:
            raise EditError("nothing to undo")
        was_dirty = self.dirty
        cmd = self._undo.pop()
        for op in reversed(cmd.journal):
            self._perform(_inverse(op))
        self._redo.append(cmd)
        self._state = self._undo[-1].serial if self._undo else 0
        self._changed(was_dirty)

    def redo(self) -> None:
        if not self._redo:
            raise EditError("nothing to redo")
        was_dirty = self.dirty
        cmd = self._redo.pop()
        for op in cmd.journal:
            self._perform(op)
        self._undo.append(cmd)
        self._state = cmd.serial
        self._changed(was_dirty)

    def mark_saved(self) -> None:
        """The document was just saved: the current state is the clean one."""
        was_dirty = self.dirty
        self._saved_state = self._state
        if was_dirty:
            self.events.dirty_changed.emit(False)

    def reset(self, doc: Document) -> None:
        """Replace the whole document (open/new/import): clears history, emits graph_reset."""
        was_dirty = self.dirty
        self.doc = doc
        self._undo.clear()
        self._redo.clear()
        self._state = 0
        self._saved_state = 0
        self.revision += 1
        self.events.graph_reset.emit(doc)
        if was_dirty:
            self.events.dirty_changed.emit(False)

    def _changed(self, was_dirty: bool) -> None:
        self.revision += 1
        if self.dirty != was_dirty:
            self.events.dirty_changed.emit(self.dirty)

    # -- primitives (used by commands) -------------------------------------------------------
    def graph_for(self, parent: str | None) -> Graph:
        """The root graph (``None``) or the body of the scope node ``parent``."""
        if parent is None:
            return self.doc.graph
        found = self.doc.locate(parent)
        if found is None:
            raise EditError(f"no node {parent!r}")
        if found[0].body is None:
            raise EditError(
                f"{parent} ({registry.display_name(found[0].kind)}) is not a scope node"
            )
        return found[0].body

    def add_node(self, graph: Graph, node: Node, index: int | None = None) -> None:
        self._record(("node+", graph, node, len(graph.nodes) if index is None else index))

    def remove_node(self, graph: Graph, node_id: str) -> None:
        """Remove a node and every edge touching it."""
        for i in range(len(graph.edges) - 1, -1, -1):
            e = graph.edges[i]
            if node_id in (e.src.node, e.dst.node):
                self._record(("edge-", graph, e, i))
        index = list(graph.nodes).index(node_id)
        self._record(("node-", graph, graph.nodes[node_id], index))

    def add_edge(self, graph: Graph, edge: Edge) -> None:
        self._record(("edge+", graph, edge, len(graph.edges)))

    def remove_edge(self, graph: Graph, edge: Edge) -> None:
        index = next(i for i, e in enumerate(graph.edges) if e is edge)
        self._record(("edge-", graph, edge, index))

    def set_field(self, node: Node, field: str, value: Any) -> None:
        old = node.name if field == "name" else node.props.get(field, _MISSING)
        self._record(("prop", node, field, old, value))

    def move(self, node: Node, pos: tuple[float, float]) -> None:
        self._record(("pos", node, node.pos, (float(pos[0]), float(pos[1]))))

    def add_backdrop(self, graph: Graph, bd: Backdrop) -> None:
        self._record(("bd+", graph, bd, len(graph.backdrops)))

    def remove_backdrop(self, graph: Graph, bd: Backdrop) -> None:
        self._record(("bd-", graph, bd, graph.backdrops.index(bd)))

    def _record(self, op: Op) -> None:
        if self._recording is None:
            raise EditError("document edits must go through DocumentEditor.apply(command)")
        self._perform(op)
        self._recording.append(op)

    def _perform(self, op: Op) -> None:
        tag = op[0]
        ev = self.events
        if tag == "node+":
            _, graph, node, index = op
            items = list(graph.nodes.items())
            items.insert(index, (node.id, node))
            graph.nodes.clear()
            graph.nodes.update(items)
            ev.node_added.emit(node, graph)
        elif tag == "node-":
            _, graph, node, _index = op
            del graph.nodes[node.id]
            ev.node_removed.emit(node, graph)
        elif tag == "edge+":
            _, graph, edge, index = op
            graph.edges.insert(index, edge)
            ev.edge_added.emit(edge, graph)
        elif tag == "edge-":
            _, graph, edge, index = op
            del graph.edges[index]
            ev.edge_removed.emit(edge, graph)
        elif tag == "prop":
            _, node, field, old, new = op
            if field == "name":
                node.name = new
            elif new is _MISSING:
                node.props.pop(field, None)
            else:
                node.props[field] = new
            ev.property_changed.emit(node, field, old, new)
        elif tag == "pos":
            _, node, old, new = op
            node.pos = new
            ev.moved.emit(node, old, new)
        elif tag == "bd+":
            _, graph, bd, index = op
            graph.backdrops.insert(index, bd)
            ev.backdrop_added.emit(bd, graph)
        elif tag == "bd-":
            _, graph, bd, index = op
            del graph.backdrops[index]
            ev.backdrop_removed.emit(bd, graph)
        else:  # pragma: no cover - a programming error
            raise AssertionError(f"unknown primitive {tag}")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()
_INVERSE_TAG = {"node+": "node-", "node-": "node+", "edge+": "edge-", "edge-": "edge+", "bd+": "bd-", "bd-": "bd+"}  # fmt: skip


def _inverse(op: Op) -> Op:
    tag = op[0]
    if tag in _INVERSE_TAG:
        return (_INVERSE_TAG[tag], *op[1:])
    if tag == "prop":
        return ("prop", op[1], op[2], op[4], op[3])
    if tag == "pos":
        return ("pos", op[1], op[3], op[2])
    raise AssertionError(f"unknown primitive {tag}")  # pragma: no cover


# ------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------
class Command:
    """Base: ``run(editor)`` performs the edit through the editor's primitives."""

    title = "Edit"

    def __init__(self) -> None:
        self.journal: list[Op] = []
        self.serial = 0

    def run(self, ed: DocumentEditor) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


_PROTECTED = ("scope.entry", "kernel.param")


class AddNode(Command):
    """Add a node of ``kind`` to the root (``parent=None``) or a scope body. ``.node`` is it."""

    title = "Add node"

    def __init__(
        self,
        kind: str,
        pos: tuple[float, float] = (0.0, 0.0),
        parent: str | None = None,
        name: str | None = None,
        **props: Any,
    ):
        super().__init__()
        self.kind, self.pos, self.parent, self.name, self.props = kind, pos, parent, name, props
        self.node: Node | None = None

    def run(self, ed: DocumentEditor) -> None:
        try:
            k = registry.kind(self.kind)
        except registry.UnknownKind as err:
            raise EditError(str(err)) from None
        graph = ed.graph_for(self.parent)
        scope = registry.scope_of_graph(ed.doc, graph)
        if scope not in k.allowed_in or self.kind in _PROTECTED:
            raise EditError(
                f"{registry.display_name(self.kind)} cannot be added to a {scope} graph"
            )
        spec_names = {p.name for p in k.props}
        for field, value in self.props.items():
            if field not in spec_names:
                raise PropertyError(
                    "(new)",
                    f"props.{field}",
                    f"unknown property for {registry.display_name(self.kind)}",
                )
            problem = registry.prop_problem(k.prop(field), value)
            if problem is not None:
                raise PropertyError("(new)", f"props.{field}", problem)
        if "params" in self.props:
            self.props["params"] = [registry.normalize_param(p) for p in self.props["params"]]
        self.node = registry.new_node(self.kind, ed.doc, self.pos, name=self.name, **self.props)
        ed.add_node(graph, self.node)


class RemoveNodes(Command):
    """Remove nodes (anywhere in the document) with their edges."""

    title = "Remove nodes"

    def __init__(self, node_ids: Iterable[str]):
        super().__init__()
        self.node_ids = list(node_ids)

    def run(self, ed: DocumentEditor) -> None:
        for node_id in self.node_ids:
            found = ed.doc.locate(node_id)
            if found is None:
                continue  # already removed with a selected enclosing scope
            node, graph, _owner = found
            if node.kind in _PROTECTED:
                raise EditError(
                    f"{node_id} ({registry.display_name(node.kind)}) belongs to its scope "
                    "and cannot be removed"
                )
            ed.remove_node(graph, node_id)


class Connect(Command):
    """Connect an output to an input; ``ConnectionRefused(reason)`` when the rules say no."""

    title = "Connect"

    def __init__(self, src: PortRef, dst: PortRef):
        super().__init__()
        self.src, self.dst = src, dst

    def run(self, ed: DocumentEditor) -> None:
        ok, reason = registry.can_connect(ed.doc, self.src, self.dst)
        if not ok:
            raise ConnectionRefused(reason)
        ed.add_edge(ed.doc.graph_of(self.src.node), Edge(self.src, self.dst))


class Disconnect(Command):
    title = "Disconnect"

    def __init__(self, src: PortRef, dst: PortRef):
        super().__init__()
        self.src, self.dst = src, dst

    def run(self, ed: DocumentEditor) -> None:
        found = ed.doc.locate(self.src.node)
        graph = found[1] if found is not None else None
        edge = None
        if graph is not None:
            edge = next((e for e in graph.edges if e.src == self.src and e.dst == self.dst), None)
        if edge is None:
            raise EditError(f"no edge {self.src} -> {self.dst}")
        ed.remove_edge(graph, edge)


class SetProperty(Command):
    """Set ``field`` (a property name, or ``"name"``) of a node; invalid -> ``PropertyError``.

    Consequences are part of the same undo step: a kernel's parameter nodes follow its
    ``params``; renaming a root node retargets the ``data.get`` nodes naming it; edges on ports
    that disappear (a removed parameter or loop variable) are removed.
    """

    title = "Set property"

    def __init__(self, node_id: str, field: str, value: Any):
        super().__init__()
        self.node_id, self.field, self.value = node_id, field, value

    def run(self, ed: DocumentEditor) -> None:
        found = ed.doc.locate(self.node_id)
        if found is None:
            raise EditError(f"no node {self.node_id!r}")
        node, graph, owner = found
        k = registry.kind(node.kind)
        value = copy.deepcopy(self.value)
        if self.field == "name":
            self._rename(ed, node, graph, owner, k, value)
            return
        try:
            spec = k.prop(self.field)
        except KeyError:
            raise PropertyError(
                self.node_id,
                f"props.{self.field}",
                f"unknown property for {registry.display_name(node.kind)}",
            ) from None
        problem = registry.prop_problem(spec, value)
        if problem is not None:
            raise PropertyError(self.node_id, f"props.{self.field}", problem)
        if spec.type == "params":
            value = [registry.normalize_param(p) for p in value]
        if node.props.get(self.field) == value:
            return
        ed.set_field(node, self.field, value)
        if node.kind == "kernel.def" and self.field == "params":
            _sync_params(ed, node)
        _prune_dead_edges(ed)

    def _rename(self, ed, node, graph, owner, k, value) -> None:
        if not isinstance(value, str):
            raise PropertyError(self.node_id, "name", "expected a string")
        if k.name_base and not exprs.is_identifier(value):
            raise PropertyError(self.node_id, "name", f"{value!r} is not a valid Python name")
        if graph is ed.doc.graph and k.name_base:
            clash = next(
                (n for n in graph.nodes.values() if n.name == value and n is not node), None
            )
            if clash is not None:
                raise PropertyError(
                    self.node_id, "name", f"{value!r} is already used by {clash.id}"
                )
        old = node.name
        if old == value:
            return
        ed.set_field(node, "name", value)
        if graph is ed.doc.graph and old:
            for n, _g, _o in list(ed.doc.walk()):
                if n.kind == "data.get" and n.props.get("target") == old:
                    ed.set_field(n, "target", value)
        _prune_dead_edges(ed)


def _sync_params(ed: DocumentEditor, kernel: Node) -> None:
    """Journaled ``registry.sync_kernel_params``: add/remove ``kernel.param`` nodes."""
    body = kernel.body
    assert body is not None
    wanted = [p["name"] for p in registry.kernel_params(kernel)]
    present: dict[str, str] = {}
    for n in list(body.nodes.values()):
        if n.kind != "kernel.param":
            continue
        pname = n.props.get("param")
        if pname not in wanted or pname in present:
            ed.remove_node(body, n.id)
        else:
            present[pname] = n.id
    ids = registry.IdAllocator(ed.doc)
    for i, pname in enumerate(wanted):
        if pname not in present:
            p = Node(ids(), "kernel.param", pname, (-300.0, 120.0 * (i + 1)), {"param": pname})
            ed.add_node(body, p)


def _prune_dead_edges(ed: DocumentEditor) -> None:
    """Remove edges whose ports no longer exist (after a change of dynamic ports)."""
    for graph, owner in list(ed.doc.graphs()):
        cache: dict[str, list[registry.PortSpec]] = {}

        def ports(node_id: str, graph: Graph = graph, owner: Node | None = owner, cache=cache):
            if node_id not in cache:
                n = graph.nodes[node_id]
                cache[node_id] = registry.dynamic_or_static(n, graph, owner, ed.doc)
            return cache[node_id]

        for e in list(graph.edges):
            if e.src.node not in graph.nodes or e.dst.node not in graph.nodes:
                continue
            if (
                registry.find_port(ports(e.src.node), e.src.port, "out") is None
                or registry.find_port(ports(e.dst.node), e.dst.port, "in") is None
            ):
                ed.remove_edge(graph, e)


class MoveNodes(Command):
    """Move nodes to new positions: ``{node_id: (x, y)}``."""

    title = "Move"

    def __init__(self, positions: Mapping[str, tuple[float, float]]):
        super().__init__()
        self.positions = dict(positions)

    def run(self, ed: DocumentEditor) -> None:
        for node_id, pos in self.positions.items():
            found = ed.doc.locate(node_id)
            if found is None:
                raise EditError(f"no node {node_id!r}")
            ed.move(found[0], pos)


class AddBackdrop(Command):
    title = "Add backdrop"

    def __init__(
        self,
        rect: tuple[float, float, float, float],
        title: str = "",
        note: str = "",
        color: str = "#3a3f4b",
        parent: str | None = None,
    ):
        super().__init__()
        self.rect, self.bd_title, self.note, self.color, self.parent = (
            rect,
            title,
            note,
            color,
            parent,
        )
        self.backdrop: Backdrop | None = None

    def run(self, ed: DocumentEditor) -> None:
        graph = ed.graph_for(self.parent)
        if self.backdrop is None:
            rect = tuple(float(v) for v in self.rect)
            self.backdrop = Backdrop(
                ed.doc.next_id("b"), self.bd_title, self.note, rect, self.color
            )  # type: ignore[arg-type]
        ed.add_backdrop(graph, self.backdrop)


class RemoveBackdrop(Command):
    title = "Remove backdrop"

    def __init__(self, backdrop_id: str):
        super().__init__()
        self.backdrop_id = backdrop_id

    def run(self, ed: DocumentEditor) -> None:
        for graph, _owner in ed.doc.graphs():
            for bd in graph.backdrops:
                if bd.id == self.backdrop_id:
                    ed.remove_backdrop(graph, bd)
                    return
        raise EditError(f"no backdrop {self.backdrop_id!r}")


# ------------------------------------------------------------------------------------------
# group / ungroup
# ------------------------------------------------------------------------------------------
class Group(Command):
    """Collapse ``node_ids`` (one graph) into a new scope node of ``kind``.

    The selection's incoming and outgoing ``exec`` edges move to the scope node's exec ports,
    and the scope's entry starts the selection's chain. A data edge entering the selection from
    a ``data.get`` is rewired to a copy of that Get inside the body; any other edge crossing the
    boundary has no port on the scope to go through, so the group is refused naming it.
    ``.node`` is the new scope node.
    """

    title = "Group"

    def __init__(
        self,
        node_ids: Iterable[str],
        kind: str = "loop.parallel",
        pos: tuple[float, float] | None = None,
        name: str | None = None,
        **props: Any,
    ):
        super().__init__()
        self.node_ids = list(dict.fromkeys(node_ids))
        self.kind, self.pos, self.name, self.props = kind, pos, name, props
        self.node: Node | None = None

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        if not self.node_ids:
            raise EditError("nothing selected to group")
        k = registry.kind(self.kind) if self.kind in registry.KINDS else None
        if k is None or not k.scope:
            raise EditError(f"{registry.display_name(self.kind)} is not a scope kind")
        located = [doc.locate(i) for i in self.node_ids]
        if any(f is None for f in located):
            missing = self.node_ids[[f is None for f in located].index(True)]
            raise EditError(f"no node {missing!r}")
        graph = located[0][1]  # type: ignore[index]
        if any(f[1] is not graph for f in located):  # type: ignore[index]
            raise EditError("the selected nodes are in different scopes")
        scope = registry.scope_of_graph(doc, graph)
        if scope not in k.allowed_in:
            raise EditError(f"{registry.display_name(self.kind)} cannot live in a {scope} graph")
        selected = set(self.node_ids)
        for f in located:
            n = f[0]  # type: ignore[index]
            if n.kind in _PROTECTED:
                raise EditError(f"{n.id} ({registry.display_name(n.kind)}) cannot leave its scope")
            if k.body_scope not in registry.kind(n.kind).allowed_in:
                raise EditError(
                    f"{registry.display_name(n.kind)} {n.id} cannot live in a {k.body_scope} body"
                )
        ids = registry.IdAllocator(doc)
        scope_node = registry.new_node(
            self.kind, doc, (0.0, 0.0), ids=ids, name=self.name, **self.props
        )
        body = scope_node.body
        assert body is not None
        entry = next(n for n in body.nodes.values() if n.kind == "scope.entry")
        has_exec = registry.find_port(k.ports, "exec", "in") is not None
        inner_edges: list[Edge] = []
        outer_new: list[Edge] = []
        exec_in: Edge | None = None
        exec_out: Edge | None = None
        get_copies: dict[str, Node] = {}
        removed: list[Edge] = []
        for e in graph.edges:
            s_in, d_in = e.src.node in selected, e.dst.node in selected
            if s_in and d_in:
                inner_edges.append(e)
                removed.append(e)
            elif not s_in and not d_in:
                continue
            elif e.src.port == "exec" and e.dst.port == "exec" and has_exec:
                removed.append(e)
                if d_in:
                    if exec_in is not None:
                        raise EditError("the selection has more than one incoming exec edge")
                    exec_in = e
                else:
                    if exec_out is not None:
                        raise EditError("the selection has more than one outgoing exec edge")
                    exec_out = e
            elif d_in and graph.nodes[e.src.node].kind == "data.get":
                removed.append(e)
                src = graph.nodes[e.src.node]
                if src.id not in get_copies:
                    get_copies[src.id] = Node(
                        ids(), "data.get", src.name, src.pos, copy.deepcopy(src.props)
                    )
                inner_edges.append(Edge(PortRef(get_copies[src.id].id, e.src.port), e.dst))
            else:
                raise EditError(
                    f"edge {e.src} -> {e.dst} crosses the group boundary and "
                    f"{registry.display_name(self.kind)} has "
                    "no port to carry it"
                )
        # chain inside: entry -> head of the selection's chain
        head = exec_in.dst if exec_in is not None else _chain_head(graph, selected)
        if head is not None and k.body_scope == "workload":
            inner_edges.insert(0, Edge(PortRef(entry.id, "exec"), head))
        if exec_in is not None:
            outer_new.append(Edge(exec_in.src, PortRef(scope_node.id, "exec")))
        if exec_out is not None:
            outer_new.append(Edge(PortRef(scope_node.id, "exec"), exec_out.dst))
        xs = [f[0].pos[0] for f in located]  # type: ignore[index]
        ys = [f[0].pos[1] for f in located]  # type: ignore[index]
        cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
        scope_node.pos = self.pos if self.pos is not None else (cx, cy)
        entry.pos = (min(xs) - cx - 250.0, min(ys) - cy)
        # perform: detach edges and nodes, add the scope node with its body, rewire outside
        for e in removed:
            ed.remove_edge(graph, e)
        for n_id in self.node_ids:
            node = graph.nodes[n_id]
            ed.remove_node(graph, n_id)
            ed.add_node(body, node)
            ed.move(node, (node.pos[0] - cx, node.pos[1] - cy))
        for copy_node in get_copies.values():
            ed.add_node(body, copy_node)
        for e in inner_edges:
            ed.add_edge(body, e)
        ed.add_node(graph, scope_node)
        for e in outer_new:
            ed.add_edge(graph, e)
        self.node = scope_node


def _chain_head(graph: Graph, selected: set[str]) -> PortRef | None:
    """The selected node with an exec input but no exec predecessor inside the selection."""
    has_pred = {e.dst.node for e in graph.edges if e.dst.port == "exec" and e.src.node in selected}
    for n_id in selected:
        node = graph.nodes[n_id]
        k = registry.KINDS.get(node.kind)
        if k and registry.find_port(k.ports, "exec", "in") and n_id not in has_pred:
            return PortRef(n_id, "exec")
    return None


class Ungroup(Command):
    """Expand a scope node back into its parent graph (the inverse of ``Group``).

    The body's nodes move out (positions relative to the scope node), the chain is spliced in
    where the scope node was. Refused for kernels, and when the body uses the variables the
    scope binds through entry outputs (they would have no source outside).
    """

    title = "Ungroup"

    def __init__(self, node_id: str):
        super().__init__()
        self.node_id = node_id

    def run(self, ed: DocumentEditor) -> None:
        found = ed.doc.locate(self.node_id)
        if found is None:
            raise EditError(f"no node {self.node_id!r}")
        node, graph, _owner = found
        if node.body is None:
            raise EditError(
                f"{self.node_id} ({registry.display_name(node.kind)}) is not a scope node"
            )
        if node.kind == "kernel.def":
            raise EditError("a kernel definition cannot be ungrouped")
        scope = registry.scope_of_graph(ed.doc, graph)
        body = node.body
        entry = next((n for n in body.nodes.values() if n.kind == "scope.entry"), None)
        for n in body.nodes.values():
            if n is not entry and scope not in registry.kind(n.kind).allowed_in:
                raise EditError(
                    f"{registry.display_name(n.kind)} {n.id} cannot live in a {scope} graph"
                )
        entry_id = entry.id if entry is not None else None
        head: PortRef | None = None
        for e in body.edges:
            if e.src.node == entry_id:
                if e.src.port != "exec":
                    raise EditError(
                        f"the body uses the scope variable {e.src.port!r}; it has no source "
                        "outside the scope"
                    )
                head = e.dst
        tail = _chain_tail(body, entry_id)
        into = next((e for e in graph.edges if e.dst == PortRef(node.id, "exec")), None)
        out_of = next((e for e in graph.edges if e.src == PortRef(node.id, "exec")), None)
        moved = [n for n in body.nodes.values() if n is not entry]
        inner = [e for e in body.edges if e.src.node != entry_id]
        cx, cy = node.pos
        ed.remove_node(graph, node.id)
        for e in list(body.edges):
            ed.remove_edge(body, e)
        for n in moved:
            ed.remove_node(body, n.id)
            ed.add_node(graph, n)
            ed.move(n, (n.pos[0] + cx, n.pos[1] + cy))
        for e in inner:
            ed.add_edge(graph, e)
        if into is not None and head is not None:
            ed.add_edge(graph, Edge(into.src, head))
        elif into is not None and out_of is not None:
            ed.add_edge(graph, Edge(into.src, out_of.dst))
        if out_of is not None and tail is not None and tail != entry_id:
            ed.add_edge(graph, Edge(PortRef(tail, "exec"), out_of.dst))


def _chain_tail(body: Graph, entry_id: str | None) -> str | None:
    nxt = {
        e.src.node: e.dst.node for e in body.edges if e.src.port == "exec" and e.dst.port == "exec"
    }
    current, seen = entry_id, set()
    while current in nxt and current not in seen:
        seen.add(current)
        current = nxt[current]
    return current


# ------------------------------------------------------------------------------------------
# copy / paste
# ------------------------------------------------------------------------------------------
def clipboard_data(doc: Document, node_ids: Iterable[str]) -> dict[str, Any]:
    """JSON-ready data of the given nodes (one graph) and the edges among them."""
    from .io import _graph_data

    ids = list(dict.fromkeys(node_ids))
    if not ids:
        return {"nodes": [], "edges": []}
    graph = doc.graph_of(ids[0])
    chosen = set(ids)
    sub = Graph(
        {
            i: graph.nodes[i]
            for i in graph.nodes
            if i in chosen and graph.nodes[i].kind not in _PROTECTED
        },
        [e for e in graph.edges if e.src.node in chosen and e.dst.node in chosen],
    )
    data = _graph_data(sub)
    return {"nodes": copy.deepcopy(data["nodes"]), "edges": copy.deepcopy(data["edges"])}


class Paste(Command):
    """Insert clipboard data with fresh ids (and fresh names where taken), shifted by ``offset``.

    ``.nodes`` lists the pasted top-level nodes (for selecting them).
    """

    title = "Paste"

    def __init__(self, data: Mapping[str, Any], offset: tuple[float, float] = (40.0, 40.0), parent: str | None = None):  # fmt: skip
        super().__init__()
        self.data, self.offset, self.parent = data, offset, parent
        self.nodes: list[Node] = []

    def run(self, ed: DocumentEditor) -> None:
        from .io import ProjectError, from_data

        graph = ed.graph_for(self.parent)
        scope = registry.scope_of_graph(ed.doc, graph)
        raw = {
            "format_version": ed.doc.format_version,
            "graph": {
                "nodes": copy.deepcopy(list(self.data.get("nodes", []))),
                "edges": copy.deepcopy(list(self.data.get("edges", []))),
            },  # fmt: skip
        }
        try:
            pasted = from_data(raw).graph
        except ProjectError as err:
            raise EditError(f"clipboard data is not a valid selection: {err}") from None
        ids = registry.IdAllocator(ed.doc)
        mapping: dict[str, str] = {}
        names_taken: set[str] = set()
        for node, _g, _o in Document(graph=pasted).walk():
            mapping[node.id] = ids()
        for node in pasted.nodes.values():
            k = registry.kind(node.kind)
            if scope not in k.allowed_in:
                raise EditError(
                    f"{registry.display_name(node.kind)} cannot be pasted into a {scope} graph"
                )
            if k.name_base and node.name:
                new = registry.unique_name(ed.doc, node.name, names_taken)
                names_taken.add(new)
                node.name = new
        _reid(pasted, mapping)
        for node in pasted.nodes.values():
            node.pos = (node.pos[0] + self.offset[0], node.pos[1] + self.offset[1])
            ed.add_node(graph, node)
            self.nodes.append(node)
        for e in pasted.edges:
            ed.add_edge(graph, e)


def _reid(graph: Graph, mapping: dict[str, str]) -> None:
    nodes = list(graph.nodes.values())
    graph.nodes.clear()
    for n in nodes:
        n.id = mapping[n.id]
        graph.nodes[n.id] = n
        if n.body is not None:
            _reid(n.body, mapping)
    graph.edges = [
        Edge(PortRef(mapping[e.src.node], e.src.port), PortRef(mapping[e.dst.node], e.dst.port))
        for e in graph.edges
    ]


__all__ = [
    "EditError",
    "ConnectionRefused",
    "PropertyError",
    "DocumentEditor",
    "Command",
    "AddNode",
    "RemoveNodes",
    "Connect",
    "Disconnect",
    "SetProperty",
    "MoveNodes",
    "Group",
    "Ungroup",
    "clipboard_data",
    "Paste",
    "AddBackdrop",
    "RemoveBackdrop",
]
