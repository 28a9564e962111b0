"""Edits of a v2 document as undoable commands, applied through ``DocumentEditor``.

Every command is built from a handful of primitive operations (insert/remove a node, an edge,
a backdrop; set a property; move a node; change a node's frame; change the order of a graph's
nodes). The editor performs each primitive, emits its event and records it in the command's
journal. Undo replays the inverse primitives in reverse order, redo replays the journal — so
every command undoes exactly, down to node and edge order (undo gives byte-identical JSON), and
redo never invents fresh ids.

A v2 document is one root canvas (docs/graph-model.md): frames are nodes, a node inside a
frame names it in ``Node.parent``, and a frame's child order is the order of its children in
``graph.nodes``. The commands keep one invariant of that order: a frame comes before every node
inside it. Only a kernel definition owns a sub-canvas (``body``, its tile-op dataflow).

The child order is the program order (export writes it as it is). Commands that draw dataflow
or move it (``Connect``, ``Reparent``, ``Wrap``) keep it agreeing with the wires in the same
undoable step: when a wire makes writer -> tensor -> reader (or a statement's output straight
into another) between statements ordered reader-first, the reader's statement moves to just
after the writer's (``_follow_dataflow``); an order that already agrees is never touched.
``CreateTensor`` wires a fresh tensor to one call only, and Paste/Duplicate copy wires among the
copied nodes in their original order, so neither can make a pair that disagrees anew; Unwrap
lifts children in place, keeping every order they had with their new siblings.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pto_wsp.errors import PtoError

from . import (
    catalogue,
    connections,
    creation,
    exprs,
    frames,
    indexing,
    kernel_param,
    kind_lookup,
    node_ports,
    order,
    placement,
    prop_checks,
    pytext,
)
from .document import Backdrop, Document, Edge, Graph, Node, PortRef
from .events import DocumentEvents
from .io import ProjectError, _build_graph, _graph_data, _model
from .kinds._base import PortSpec
from .kinds.schedule import DEFAULT_TARGET

Op = tuple[Any, ...]

FRAME_PAD = 26.0
"""Room between a frame's border and its children (``Wrap`` places the new frame this far
outside the selection; ``arrange`` uses the same padding)."""
FRAME_HEADER = 34.0
"""Height of a frame's header (its loop / schedule summary) above the children."""


class EditError(PtoError):
    """An edit cannot be applied; the message says why. The document is unchanged."""


class ConnectionRefused(EditError):
    """``Connect`` was refused by ``connections.can_connect``; ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"cannot connect: {reason}")


class PlacementRefused(EditError):
    """A node may not live where an edit would put it (a frame, the root); ``reason`` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


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

    # -- where things live ---------------------------------------------------------------------
    def place_for(self, parent: str | None) -> tuple[Graph, str | None]:
        """``(graph, frame id)`` a new node under ``parent`` goes to: the root canvas for None or
        a frame (the frame's id), a kernel definition's body (no frame) for a kernel."""
        if parent is None:
            return self.doc.graph, None
        found = self.doc.locate(parent)
        if found is None:
            raise EditError(f"no node {parent!r}")
        node, graph, _owner = found
        if node.body is not None:
            return node.body, None
        if graph is self.doc.graph and _is_frame(node.kind):
            return graph, node.id
        raise EditError(f"{_label(node)} is not a frame and holds no nodes")

    def graph_for(self, parent: str | None) -> Graph:
        """The graph a node under ``parent`` lives in (see ``place_for``)."""
        return self.place_for(parent)[0]

    # -- primitives (used by commands) -------------------------------------------------------
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

    def add_edge(self, graph: Graph, edge: Edge, index: int | None = None) -> None:
        self._record(("edge+", graph, edge, len(graph.edges) if index is None else index))

    def remove_edge(self, graph: Graph, edge: Edge) -> int:
        """Remove ``edge``; returns the index it had (``add_edge`` there puts it back)."""
        index = next(i for i, e in enumerate(graph.edges) if e is edge)
        self._record(("edge-", graph, edge, index))
        return index

    def set_field(self, node: Node, field: str, value: Any) -> None:
        old = node.name if field == "name" else node.props.get(field, _MISSING)
        self._record(("prop", node, field, old, value))

    def move(self, node: Node, pos: tuple[float, float]) -> None:
        self._record(("pos", node, node.pos, (float(pos[0]), float(pos[1]))))

    def set_parent(self, node: Node, parent: str | None) -> None:
        if node.parent != parent:
            self._record(("parent", node, node.parent, parent))

    def set_order(self, graph: Graph, order: list[str]) -> None:
        """Reorder ``graph.nodes`` to ``order`` (the same ids)."""
        old = tuple(graph.nodes)
        new = tuple(order)
        if sorted(old) != sorted(new):  # pragma: no cover - a programming error
            raise AssertionError("set_order needs a permutation of the graph's nodes")
        if old != new:
            self._record(("order", graph, old, new))

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
        elif tag == "parent":
            _, node, old, new = op
            node.parent = new
            ev.parent_changed.emit(node, old, new)
        elif tag == "order":
            _, graph, _old, new = op
            by_id = dict(graph.nodes)
            graph.nodes.clear()
            graph.nodes.update((i, by_id[i]) for i in new)
            ev.order_changed.emit(graph)
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
    if tag in ("pos", "parent"):
        return (tag, op[1], op[3], op[2])
    if tag == "order":
        return ("order", op[1], op[3], op[2])
    raise AssertionError(f"unknown primitive {tag}")  # pragma: no cover


# ------------------------------------------------------------------------------------------
# helpers: frames, scopes, order
# ------------------------------------------------------------------------------------------
def _owned_by_kernel(kind_id: str) -> bool:
    """Nodes of a kernel body that belong to the kernel (its entry, one per parameter)."""
    k = kind_lookup.kind_of(kind_id)
    return k.body_entry or k.kernel_param


def _role_kind(role: str, value: Any = True) -> str:
    """The id of the kind playing ``role`` (``NodeKind.<role> == value``)."""
    return next(k.id for k in catalogue.KINDS.values() if getattr(k, role) == value)


def _default_loop_kind() -> str:
    """The parallel loop ``P(...)``: the loop frame whose ``axes`` list binds its variables."""
    return next(
        k.id
        for k in catalogue.KINDS.values()
        if k.frame and k.binds_vars is not None and catalogue.reference_props(k.id).get("axes")
    )


def _is_frame(kind_id: str) -> bool:
    return kind_lookup.is_frame(kind_id)


def _label(node: Node) -> str:
    """A node as messages name it: display name and name (``Tensor Q``) or its id."""
    shown = kind_lookup.display_name(node.kind)
    return f"{shown} {node.name}" if node.name else f"{shown} {node.id}"


def scope_inside(doc: Document, parent: str | None) -> str:
    """The scope name (``allowed_in`` vocabulary) of a place: ``root`` for the root canvas,
    ``kernel`` for a kernel body, else the inside of the frame ``parent``."""
    if parent is not None:
        node = doc.graph.nodes.get(parent)
        if node is not None and kind_lookup.kind_of(node).defines_kernel:
            return "kernel"
    return placement.scope_of_parent(doc, parent)


def placement_problem(doc: Document, kind_id: str, parent: str | None) -> str | None:
    """Why a node of ``kind_id`` may not live directly inside ``parent`` (None = the root
    canvas; a frame; a kernel definition = its body), or None when it may."""
    if _owned_by_kernel(kind_id):
        return f"a {kind_lookup.display_name(kind_id)} belongs to its kernel and cannot be placed"
    if parent is not None:
        node = doc.graph.nodes.get(parent)
        if node is not None and kind_lookup.kind_of(node).defines_kernel:
            k = kind_lookup.kind(kind_id)
            if "kernel" in k.allowed_in:
                return None
            return f"a {k.title} cannot live inside a kernel body (only tile ops do)"
    return placement.place_problem(doc, kind_id, parent)


def _top_level(doc: Document, node_ids: Iterable[str]) -> list[str]:
    """The ids without those inside another listed frame, unique, in document order."""
    chosen = set(node_ids)
    out = []
    for nid in chosen:
        if nid in doc.graph.nodes and any(a.id in chosen for a in frames.ancestors(doc, nid)):
            continue
        out.append(nid)
    order = {nid: i for i, (n, _g, _o) in enumerate(doc.walk()) for nid in [n.id]}
    return sorted(out, key=lambda i: order.get(i, len(order)))


def _subtree(doc: Document, node_id: str) -> list[str]:
    """``node_id`` and every node inside it (when a frame), in ``graph.nodes`` order."""
    inside = {n.id for n in frames.descendants(doc, node_id)} | {node_id}
    return [i for i in doc.graph.nodes if i in inside]


def _order_with_block(
    doc: Document, block: list[str], parent: str | None, position: int | None
) -> list[str]:
    """``graph.nodes`` order with ``block`` (a node and what is inside it) moved so its head is
    child number ``position`` of ``parent`` (None: the last), keeping frames before contents."""
    keys = [i for i in doc.graph.nodes if i not in set(block)]
    nodes = doc.graph.nodes
    siblings = [i for i in keys if nodes[i].parent == parent]
    if position is not None and 0 <= position < len(siblings):
        at = keys.index(siblings[position])
    else:
        # after the last sibling and everything inside it, else right after the parent
        tail = set(siblings)
        for s in siblings:
            tail.update(n.id for n in frames.descendants(doc, s))
        if parent is not None:
            tail.add(parent)
        where = {k: i for i, k in enumerate(keys)}
        at = max((where[i] for i in tail if i in where), default=len(keys) - 1) + 1
    return keys[:at] + block + keys[at:]


def _follow_dataflow(ed: DocumentEditor, edges: Iterable[Edge]) -> None:
    """Keep the child order agreeing with the dataflow the wires ``edges`` (new, on the root
    canvas) draw: for each writer -> reader pair they make (``order.flows_through``) whose
    statements (``order.statements_of``) stand reader-first, move the reader's statement to
    just after the writer's, taking along the siblings between them that read what it writes
    (so no other wire starts to disagree). A pair whose writer already depends on its reader (a
    cycle: one of them reads before the other writes in any order) is left as it is."""
    doc = ed.doc
    for writer, reader in order.flows_through(doc, list(edges)):
        pair = order.statements_of(doc, writer, reader)
        if pair is None:
            continue
        sw, sr = pair
        sibs = [n.id for n in frames.children(doc, sw.parent)]
        i_w, i_r = sibs.index(sw.id), sibs.index(sr.id)
        if i_r > i_w:
            continue  # the order agrees
        sibs, flow = order.sibling_flow(doc, sw.parent)
        if sw.id in order.downstream(flow, sr.id, sibs):
            continue  # a cycle: the order stays the user's
        between = sibs[i_r + 1 : i_w]
        moving = {sr.id} | order.downstream(flow, sr.id, between)
        rest = [i for i in sibs if i not in moving]
        position = rest.index(sw.id) + 1
        block = [i for m in sibs if m in moving for i in _subtree(doc, m)]
        ed.set_order(
            doc.graph,
            _order_with_block(doc, block, sw.parent, position if position < len(rest) else None),
        )


def _edges_touching(doc: Document, node_ids: Iterable[str]) -> list[Edge]:
    """The root canvas's wires with an end at one of ``node_ids`` or inside them."""
    inside: set[str] = set()
    for nid in node_ids:
        inside.update(_subtree(doc, nid))
    return [e for e in doc.graph.edges if e.src.node in inside or e.dst.node in inside]


def _check_wires(doc: Document, moved: Iterable[str], what: str) -> None:
    """Refuse (``PlacementRefused``) when a wire of a moved node breaks the wiring rules at its
    new place (a call's task must reach a ``send`` in the call's frame; no wire joins two
    workloads). Raised inside a command, so the edit is rolled back."""
    inside = set()
    for nid in moved:
        inside.update(_subtree(doc, nid))
    nodes = doc.graph.nodes
    for e in doc.graph.edges:
        if e.src.node not in inside and e.dst.node not in inside:
            continue
        src, dst = nodes.get(e.src.node), nodes.get(e.dst.node)
        if src is None or dst is None:
            continue
        ok, why = connections.root_wire_problem(doc, src, e.src.port, dst, e.dst.port)
        if not ok:
            raise PlacementRefused(f"{what}: the wire {e.src} -> {e.dst} would break: {why}")


def _clear_references_to(ed: DocumentEditor, gone: set[str]) -> set[str]:
    """Reference properties naming a removed node are emptied (an id could be handed out again
    and would then point at an unrelated node). Returns the ids of the nodes changed."""
    changed: set[str] = set()
    for node in list(ed.doc.graph.nodes.values()):
        for prop, sub in catalogue.reference_props(node.kind).items():
            value = node.props.get(prop)
            if sub is None:
                if isinstance(value, str) and value in gone:
                    ed.set_field(node, prop, _empty_reference(node.kind, prop))
                    changed.add(node.id)
            elif isinstance(value, list) and any(
                isinstance(e, dict) and e.get(sub) in gone for e in value
            ):
                new = [
                    {**e, sub: ""} if isinstance(e, dict) and e.get(sub) in gone else e
                    for e in value
                ]
                ed.set_field(node, prop, new)
                changed.add(node.id)
    return changed


def _empty_reference(kind_id: str, prop: str) -> Any:
    """What a reference property holds when it names nothing (``""``)."""
    try:
        return copy.deepcopy(kind_lookup.kind(kind_id).prop(prop).default)
    except KeyError:
        return ""


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


class Batch(Command):
    """Several commands as one undo step; if one is refused, the whole batch is rolled back."""

    def __init__(self, title: str, parts: Iterable[Command]) -> None:
        super().__init__()
        self.title = title
        self.parts = list(parts)

    def run(self, ed: DocumentEditor) -> None:
        for part in self.parts:
            part.run(ed)


def _check_props(kind_id: str, props: Mapping[str, Any], node_id: str = "(new)") -> None:
    k = kind_lookup.kind(kind_id)
    spec_names = {p.name for p in k.props}
    for field, value in props.items():
        if field not in spec_names:
            raise PropertyError(
                node_id,
                f"props.{field}",
                f"unknown property for {kind_lookup.display_name(kind_id)}",
            )
        problem = prop_checks.prop_problem(k.prop(field), value)
        if problem is not None:
            raise PropertyError(node_id, f"props.{field}", problem)


class AddNode(Command):
    """Add a node of ``kind`` on the root canvas (``parent=None``), inside the frame ``parent``,
    or in the body of the kernel definition ``parent``. ``.node`` is the new node. A top-level
    program frame gets the default target while no program has one (``_default_target``)."""

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
            kind_lookup.kind(self.kind)
        except kind_lookup.UnknownKind as err:
            raise EditError(str(err)) from None
        graph, frame = ed.place_for(self.parent)
        problem = placement_problem(ed.doc, self.kind, self.parent)
        if problem is not None:
            raise PlacementRefused(problem)
        _check_props(self.kind, self.props)
        props = dict(self.props)
        if "params" in props:
            props["params"] = [kernel_param.normalize_param(p) for p in props["params"]]
        _check_references(ed.doc, "(new)", self.kind, props)
        if self.name is not None and kind_lookup.names_a_variable(self.kind):
            _name_problem(ed.doc, "(new)", self.kind, self.name, None)
        self.node = creation.new_node(self.kind, ed.doc, self.pos, name=self.name, **props)
        self.node.parent = frame
        if graph is ed.doc.graph:
            _default_target(ed.doc, self.node, props)
        ed.add_node(graph, self.node)


def _default_target(doc: Document, node: Node, given: Mapping[str, Any]) -> None:
    """Give a new top-level program frame the default target when no program in ``doc`` has
    one and the caller named none: a user's first workload then runs (F5) without a trip to
    its sheet. A later one keeps "" (a project compiles one program); loading a
    file never comes here, so a file's empty target stays empty."""
    if node.parent is not None or not kind_lookup.kind_of(node).program or "target" in given:
        return
    programs = (n for n in doc.graph.nodes.values() if kind_lookup.kind_of(n).program)
    if not any(n.props.get("target") for n in programs):
        node.props["target"] = DEFAULT_TARGET


class RemoveNodes(Command):
    """Remove nodes (anywhere in the document) with their wires. A frame goes with everything
    inside it; reference properties naming a removed node are emptied; wires on ports that no
    longer exist (a removed kernel's parameters) go too. Undo restores order and frames."""

    title = "Remove nodes"

    def __init__(self, node_ids: Iterable[str]):
        super().__init__()
        self.node_ids = list(node_ids)

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        doomed: dict[str, Graph] = {}
        for node_id in self.node_ids:
            found = doc.locate(node_id)
            if found is None:
                continue  # already removed with a selected enclosing frame
            node, graph, _owner = found
            if _owned_by_kernel(node.kind):
                raise EditError(
                    f"{node_id} ({kind_lookup.display_name(node.kind)}) belongs to its kernel "
                    "and cannot be removed"
                )
            ids = _subtree(doc, node_id) if graph is doc.graph else [node_id]
            for i in ids:
                doomed[i] = graph
        if not doomed:
            return
        # last first, so every removal's recorded index is its index in the final order
        for graph in {id(g): g for g in doomed.values()}.values():
            for nid in reversed([i for i in graph.nodes if i in doomed]):
                ed.remove_node(graph, nid)
        _prune_dead_edges(ed, _clear_references_to(ed, set(doomed)))


class Connect(Command):
    """Connect an output to an input; ``ConnectionRefused(reason)`` when the rules say no."""

    title = "Connect"

    def __init__(self, src: PortRef, dst: PortRef):
        super().__init__()
        self.src, self.dst = src, dst

    def run(self, ed: DocumentEditor) -> None:
        ok, reason = connections.can_connect(ed.doc, self.src, self.dst)
        if not ok:
            raise ConnectionRefused(reason)
        graph = ed.doc.graph_of(self.src.node)
        edge = Edge(self.src, self.dst)
        ed.add_edge(graph, edge)
        if graph is ed.doc.graph:
            _follow_dataflow(ed, [edge])


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
        if graph is None or edge is None:
            raise EditError(f"no edge {self.src} -> {self.dst}")
        ed.remove_edge(graph, edge)


def _name_problem(doc: Document, node_id: str, kind_id: str, value: Any, node: Node | None) -> None:
    """Raise ``PropertyError`` when ``value`` cannot name a node of ``kind_id``: a name that is
    a script variable (a tensor, an axis, a kernel, a workload...) must be a Python name used by
    no other such variable."""
    if not isinstance(value, str):
        raise PropertyError(node_id, "name", "expected a string")
    k = kind_lookup.kind(kind_id)
    if k.name_base and not exprs.is_identifier(value):
        raise PropertyError(node_id, "name", f"{value!r} is not a valid Python name")
    if kind_lookup.names_a_variable(kind_id) and (node is None or node.id in doc.graph.nodes):
        clash = next(
            (
                n
                for n in doc.graph.nodes.values()
                if n.name == value and n is not node and kind_lookup.names_a_variable(n.kind)
            ),
            None,
        )
        if clash is not None:
            raise PropertyError(
                node_id, "name", f"{value!r} is already used by {_label(clash)} ({clash.id})"
            )


def _check_references(doc: Document, node_id: str, kind_id: str, props: Mapping[str, Any]) -> None:
    """Reference properties must name an existing node of a kind they may refer to."""
    for prop, sub in catalogue.reference_props(kind_id).items():
        if prop not in props:
            continue
        value = props[prop]
        targets = (
            [value]
            if sub is None
            else [e.get(sub) for e in value if isinstance(e, dict)]
            if isinstance(value, list)
            else []
        )
        allowed = catalogue.reference_kinds(kind_id, prop)
        for target in targets:
            if target in (None, ""):
                continue
            found = doc.graph.nodes.get(target) if isinstance(target, str) else None
            if found is None:
                raise PropertyError(node_id, f"props.{prop}", f"no node {target!r} to refer to")
            if allowed and found.kind not in allowed:
                names = ", ".join(kind_lookup.display_name(a) for a in allowed)
                raise PropertyError(
                    node_id,
                    f"props.{prop}",
                    f"{_label(found)} is not a {names}",
                )


class SetProperty(Command):
    """Set ``field`` (a property name, or ``"name"``) of a node; invalid -> ``PropertyError``.

    Consequences are part of the same undo step: a call whose ``kernel`` changes gets the new
    kernel's ports and loses the wires (and index overrides) of ports that are gone; editing a
    kernel's ``params`` keeps the body's parameter nodes and the calls' wires in step — a
    renamed parameter (same place, new name) keeps its wires, index overrides and body node.
    """

    title = "Set property"

    def __init__(self, node_id: str, field: str, value: Any):
        super().__init__()
        self.node_id, self.field, self.value = node_id, field, value

    def run(self, ed: DocumentEditor) -> None:
        found = ed.doc.locate(self.node_id)
        if found is None:
            raise EditError(f"no node {self.node_id!r}")
        node = found[0]
        value = copy.deepcopy(self.value)
        if self.field == "name":
            if node.name == value:
                return
            _name_problem(ed.doc, self.node_id, node.kind, value, node)
            ed.set_field(node, "name", value)
            return
        if self.field == "parent":
            raise PropertyError(self.node_id, "parent", "use Reparent to move a node into a frame")
        k = kind_lookup.kind(node.kind)
        try:
            spec = k.prop(self.field)
        except KeyError:
            raise PropertyError(
                self.node_id,
                f"props.{self.field}",
                f"unknown property for {kind_lookup.display_name(node.kind)}",
            ) from None
        problem = prop_checks.prop_problem(spec, value)
        if problem is not None:
            raise PropertyError(self.node_id, f"props.{self.field}", problem)
        _check_references(ed.doc, self.node_id, node.kind, {self.field: value})
        if spec.type == "params":
            value = [kernel_param.normalize_param(p) for p in value]
        old = copy.deepcopy(node.props.get(self.field))
        if old == value:
            return
        ed.set_field(node, self.field, value)
        if kind_lookup.kind_of(node).defines_kernel and self.field == "params":
            renames = _param_renames(old or [], value)
            _apply_param_renames(ed, node, renames)
            _sync_params(ed, node)
        # ports derive from a call's kernel and a kernel's params only
        if kind_lookup.kind_of(node).calls_kernel and self.field == "kernel":
            _prune_dead_edges(ed, {node.id})
            _prune_index_overrides(ed)
        elif kind_lookup.kind_of(node).defines_kernel and self.field == "params":
            _prune_dead_edges(ed, {node.id} | {c.id for c in _calls_of(ed.doc, node.id)})
            _prune_index_overrides(ed)


def _param_renames(old: list[Any], new: list[Any]) -> dict[str, str]:
    """Parameters renamed in place: same position, old name gone, new name new."""
    old_names = [p.get("name") for p in old if isinstance(p, dict)]
    new_names = [p.get("name") for p in new if isinstance(p, dict)]
    if len(old_names) != len(new_names):
        return {}
    return {
        a: b
        for a, b in zip(old_names, new_names, strict=True)
        if a != b and a not in new_names and b not in old_names and a and b
    }


def _calls_of(doc: Document, kernel_id: str) -> list[Node]:
    return [
        n for n in doc.graph.nodes.values()
        if kind_lookup.kind_of(n).calls_kernel and n.props.get("kernel") == kernel_id
    ]  # fmt: skip


def _apply_param_renames(ed: DocumentEditor, kernel: Node, renames: Mapping[str, str]) -> None:
    """Move the wires, index overrides and body parameter node of each renamed parameter."""
    if not renames:
        return
    graph = ed.doc.graph
    calls = {c.id for c in _calls_of(ed.doc, kernel.id)}
    for e in list(graph.edges):
        src, dst = e.src, e.dst
        if src.node in calls and src.port in renames:
            src = PortRef(src.node, renames[src.port])
        if dst.node in calls and dst.port in renames:
            dst = PortRef(dst.node, renames[dst.port])
        if (src, dst) != (e.src, e.dst):
            at = ed.remove_edge(graph, e)
            ed.add_edge(graph, Edge(src, dst), at)
    for cid in calls:
        call = graph.nodes[cid]
        index = call.props.get("index")
        if isinstance(index, dict) and any(p in renames for p in index):
            ed.set_field(call, "index", {renames.get(p, p): t for p, t in index.items()})
    if kernel.body is not None:
        for n in kernel.body.nodes.values():
            if kind_lookup.kind_of(n).kernel_param and n.props.get("param") in renames:
                new = renames[n.props["param"]]
                ed.set_field(n, "param", new)
                if n.name:
                    ed.set_field(n, "name", new)


def _sync_params(ed: DocumentEditor, kernel: Node) -> None:
    """Journaled ``creation.sync_kernel_params``: add/remove ``kernel.param`` nodes."""
    body = kernel.body
    if body is None:
        return
    wanted = [p["name"] for p in indexing.params_of(kernel)]
    present: dict[str, str] = {}
    for n in list(body.nodes.values()):
        if not kind_lookup.kind_of(n).kernel_param:
            continue
        pname = n.props.get("param")
        if not isinstance(pname, str) or pname not in wanted or pname in present:
            ed.remove_node(body, n.id)
        else:
            present[pname] = n.id
    ids = creation.IdAllocator(ed.doc)
    param_kind = _role_kind("kernel_param")
    for i, pname in enumerate(wanted):
        if pname not in present:
            p = Node(ids(), param_kind, pname, (-300.0, 120.0 * (i + 1)), {"param": pname})
            ed.add_node(body, p)


def _ports(doc: Document, node: Node, graph: Graph, owner: Node | None) -> list[PortSpec]:
    if graph is doc.graph:
        return node_ports.ports_of(node, doc)
    return node_ports.dynamic_ports(node, graph, owner, doc)


def _prune_dead_edges(ed: DocumentEditor, changed: set[str] | None = None) -> None:
    """Remove edges whose ports no longer exist (after a change of derived ports). With
    ``changed``, only wires of those nodes (and the bodies of those kernels) are checked."""
    doc = ed.doc
    for graph, owner in list(doc.graphs()):
        if changed is not None and graph is not doc.graph and (owner is None or owner.id not in changed):  # fmt: skip
            continue
        cache: dict[str, list[PortSpec]] = {}
        for e in list(graph.edges):
            if e.src.node not in graph.nodes or e.dst.node not in graph.nodes:
                continue
            if changed is not None and graph is doc.graph and not ({e.src.node, e.dst.node} & changed):  # fmt: skip
                continue
            for nid in (e.src.node, e.dst.node):
                if nid not in cache:
                    cache[nid] = _ports(doc, graph.nodes[nid], graph, owner)
            if (
                node_ports.find_port(cache[e.src.node], e.src.port, "out") is None
                or node_ports.find_port(cache[e.dst.node], e.dst.port, "in") is None
            ):
                ed.remove_edge(graph, e)


def _prune_index_overrides(ed: DocumentEditor) -> None:
    """Drop ``props.index`` entries of parameters a call's kernel no longer has."""
    for call in list(ed.doc.graph.nodes.values()):
        if not kind_lookup.kind_of(call).calls_kernel:
            continue
        index = call.props.get("index")
        kern = indexing.kernel_of(ed.doc, call)
        if not isinstance(index, dict) or not index or kern is None:
            continue
        names = {p["name"] for p in indexing.params_of(kern)}
        kept = {p: t for p, t in index.items() if p in names}
        if kept != index:
            ed.set_field(call, "index", kept)


class SetPortIndex(Command):
    """Override the index of a call's port (``props.index[param] = text``; ``""`` = the whole
    tensor), or with ``text=None`` clear the override so the auto index applies again."""

    def __init__(self, call_id: str, param: str, text: str | None):
        super().__init__()
        self.call_id, self.param, self.text = call_id, param, text
        self.title = "Auto index" if text is None else "Set index"

    def run(self, ed: DocumentEditor) -> None:
        call = ed.doc.graph.nodes.get(self.call_id)
        if call is None or not kind_lookup.kind_of(call).calls_kernel:
            raise EditError(f"no kernel call {self.call_id!r}")
        if indexing.param_of(ed.doc, call, self.param) is None:
            raise PropertyError(
                self.call_id, f"props.index.{self.param}", "the call's kernel has no such parameter"
            )
        index = dict(call.props.get("index") or {})
        if self.text is None:
            if self.param not in index:
                return
            del index[self.param]
        else:
            if not isinstance(self.text, str):
                raise PropertyError(self.call_id, f"props.index.{self.param}", "expected text")
            index[self.param] = self.text.strip()
        problem = prop_checks.prop_problem(kind_lookup.kind_of(call).prop("index"), index)
        if problem is not None:
            raise PropertyError(self.call_id, f"props.index.{self.param}", problem)
        if index != (call.props.get("index") or {}):
            ed.set_field(call, "index", index)


class MoveNodes(Command):
    """Move nodes to new positions: ``{node_id: (x, y)}``. With ``carry`` a moved frame takes
    the nodes inside it along (by the same offset) unless they are given positions too."""

    title = "Move"

    def __init__(self, positions: Mapping[str, tuple[float, float]], carry: bool = False):
        super().__init__()
        self.positions = dict(positions)
        self.carry = carry

    def run(self, ed: DocumentEditor) -> None:
        targets: dict[str, tuple[float, float]] = {}
        moved: dict[str, Node] = {}
        for node_id, pos in self.positions.items():
            found = ed.doc.locate(node_id)
            if found is None:
                raise EditError(f"no node {node_id!r}")
            moved[node_id] = found[0]
            targets[node_id] = (float(pos[0]), float(pos[1]))
        if self.carry:
            for node_id, pos in list(targets.items()):
                node = moved[node_id]
                if node_id not in ed.doc.graph.nodes or not _is_frame(node.kind):
                    continue
                dx, dy = pos[0] - node.pos[0], pos[1] - node.pos[1]
                for inner in frames.descendants(ed.doc, node_id):
                    if inner.id not in self.positions:
                        moved[inner.id] = inner
                        targets[inner.id] = (inner.pos[0] + dx, inner.pos[1] + dy)
        for node_id, pos in targets.items():
            node = moved[node_id]
            if node.pos != pos:
                ed.move(node, pos)


class Reparent(Command):
    """Move nodes into the frame ``parent`` (None: onto the root canvas), keeping their wires;
    they become its last children (or start at child number ``position``), in their order.
    ``positions`` (optional) moves them in the same step (a drop). Refused with
    ``PlacementRefused`` naming the reason when a node may not live there."""

    title = "Move into frame"

    def __init__(
        self,
        node_ids: Iterable[str],
        parent: str | None,
        position: int | None = None,
        positions: Mapping[str, tuple[float, float]] | None = None,
    ):
        super().__init__()
        self.node_ids = list(node_ids)
        self.parent, self.position = parent, position
        self.positions = dict(positions or {})
        if parent is None:
            self.title = "Move out of frame"

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        if self.parent is not None:
            target = doc.graph.nodes.get(self.parent)
            if target is None or not _is_frame(target.kind):
                raise PlacementRefused(
                    f"{_label(target) if target else repr(self.parent)} is not a frame"
                )
        for nid in self.node_ids:
            if nid not in doc.graph.nodes:
                raise EditError(f"no node {nid!r} on the canvas")
        ids = _top_level(doc, self.node_ids)
        for nid in ids:
            node = doc.graph.nodes[nid]
            if self.parent is not None and (
                nid == self.parent or any(a.id == nid for a in frames.ancestors(doc, self.parent))
            ):
                raise PlacementRefused(f"{_label(node)} cannot be put inside itself")
            problem = placement_problem(doc, node.kind, self.parent)
            if problem is not None:
                raise PlacementRefused(problem)
        position = self.position
        for nid in ids:
            node = doc.graph.nodes[nid]
            if node.parent == self.parent and position is None:
                continue  # dropped inside its own frame: it only moves
            block = _subtree(doc, nid)
            ed.set_parent(node, self.parent)
            ed.set_order(doc.graph, _order_with_block(doc, block, self.parent, position))
            if position is not None:
                position += 1
        _check_wires(doc, ids, "cannot move it there")
        _follow_dataflow(ed, _edges_touching(doc, ids))
        for nid, pos in self.positions.items():
            ed.move(doc.node(nid), pos)


class Reorder(Command):
    """Make a node child number ``position`` of its frame (root canvas nodes: of the root):
    the program order export writes (a reader moved before a writer of its tensor reads the old
    value; validation warns about that write-after-read)."""

    title = "Reorder"

    def __init__(self, node_id: str, position: int):
        super().__init__()
        self.node_id, self.position = node_id, position

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        node = doc.graph.nodes.get(self.node_id)
        if node is None:
            raise EditError(f"no node {self.node_id!r} on the canvas")
        count = len(frames.children(doc, node.parent))
        if not 0 <= self.position < count:
            raise EditError(f"{_label(node)}: position {self.position} is outside 0..{count - 1}")
        block = _subtree(doc, self.node_id)
        ed.set_order(doc.graph, _order_with_block(doc, block, node.parent, self.position))


class Wrap(Command):
    """Put the selected nodes (one frame's children) in a new frame of ``kind`` (a parallel
    loop by default) that takes their place in the child order; they keep their relative order,
    positions and wires. ``.node`` is the new frame, placed around the selection."""

    title = "Wrap in frame"

    def __init__(
        self,
        node_ids: Iterable[str],
        kind: str | None = None,
        pos: tuple[float, float] | None = None,
        name: str | None = None,
        **props: Any,
    ):
        super().__init__()
        self.node_ids = list(dict.fromkeys(node_ids))
        self.kind = kind if kind is not None else _default_loop_kind()
        self.pos, self.name, self.props = pos, name, props
        self.node: Node | None = None

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        if not self.node_ids:
            raise EditError("nothing selected to wrap")
        if not _is_frame(self.kind):
            raise EditError(f"{kind_lookup.display_name(self.kind)} is not a frame")
        for nid in self.node_ids:
            if nid not in doc.graph.nodes:
                raise EditError(f"no node {nid!r} on the canvas")
        ids = _top_level(doc, self.node_ids)
        parents = {doc.graph.nodes[i].parent for i in ids}
        if len(parents) > 1:
            raise PlacementRefused("the selected nodes are in different frames")
        (parent,) = parents
        problem = placement_problem(doc, self.kind, parent)
        if problem is not None:
            raise PlacementRefused(problem)
        _check_props(self.kind, self.props)
        _check_references(doc, "(new)", self.kind, self.props)
        frame = creation.new_node(self.kind, doc, (0.0, 0.0), name=self.name, **self.props)
        frame.parent = parent
        _default_target(doc, frame, self.props)
        inner = scope_inside_kind(self.kind)
        for nid in ids:
            n = doc.graph.nodes[nid]
            k = kind_lookup.kind(n.kind)
            if inner not in k.allowed_in:
                raise PlacementRefused(
                    f"a {k.title} cannot live in a {kind_lookup.display_name(self.kind)} "
                    f"(it lives in: {', '.join(sorted(k.allowed_in))})"
                )
        if self.pos is not None:
            frame.pos = (float(self.pos[0]), float(self.pos[1]))
        else:
            inside = [doc.graph.nodes[i] for nid in ids for i in _subtree(doc, nid)]
            frame.pos = (
                min(n.pos[0] for n in inside) - FRAME_PAD,
                min(n.pos[1] for n in inside) - FRAME_PAD - FRAME_HEADER,
            )
        first = min(list(doc.graph.nodes).index(i) for i in ids)
        ed.add_node(doc.graph, frame, first)
        for nid in ids:
            ed.set_parent(doc.graph.nodes[nid], frame.id)
        _check_wires(doc, [frame.id], "cannot wrap the selection")
        _follow_dataflow(ed, _edges_touching(doc, [frame.id]))
        self.node = frame


def scope_inside_kind(kind_id: str) -> str:
    """The scope name of the inside of a frame of ``kind_id``."""
    return kind_lookup.kind(kind_id).children_scope


class Unwrap(Command):
    """Lift a frame's children into the frame's parent, at the frame's place in the child order
    (in their order), and delete the frame. Refused when a child may not live out there."""

    title = "Unwrap frame"

    def __init__(self, frame_id: str):
        super().__init__()
        self.frame_id = frame_id

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        frame = doc.graph.nodes.get(self.frame_id)
        if frame is None:
            raise EditError(f"no node {self.frame_id!r} on the canvas")
        if not _is_frame(frame.kind):
            raise EditError(f"{_label(frame)} is not a frame")
        kids = frames.children(doc, frame.id)
        for child in kids:
            problem = placement_problem(doc, child.kind, frame.parent)
            if problem is not None:
                raise PlacementRefused(f"cannot unwrap {_label(frame)}: {problem}")
        # the frame's contents move up to where the frame stands, then the frame goes
        keys = list(doc.graph.nodes)
        siblings = [n.id for n in frames.children(doc, frame.parent)]
        at = siblings.index(frame.id)
        wanted = siblings[:at] + [c.id for c in kids] + siblings[at + 1 :]
        lifted = {c.id for c in kids}
        now = [i for i in keys if i in lifted or (i in siblings and i != frame.id)]
        if now != wanted:  # the dict order does not give that order yet: move the contents
            inside = set(_subtree(doc, frame.id)) - {frame.id}
            block = [i for i in keys if i in inside]
            rest = [i for i in keys if i not in inside]
            cut = rest.index(frame.id) + 1
            ed.set_order(doc.graph, rest[:cut] + block + rest[cut:])
        for child in kids:
            ed.set_parent(child, frame.parent)
        ed.remove_node(doc.graph, frame.id)
        _clear_references_to(ed, {frame.id})
        _check_wires(doc, [c.id for c in kids], f"cannot unwrap {_label(frame)}")


class CreateTensor(Command):
    """LabVIEW's "create control" on a call's port: a new root tensor (a scalar for a scalar
    parameter) named after the parameter, with the parameter's dtype and a shape of the sizes of
    the enclosing loops' axes (outermost first) followed by the tile shape, wired to the port
    (In: tensor -> port; Out: port -> the tensor's ``write``; InOut: both). So its rank minus
    the tile rank is the number of loop variables and the auto index applies. A port whose
    index is already overridden by plain loop variables (``b``) or the whole tensor (``""``)
    gets a tensor of those variables' sizes (none) in front of the tile.
    ``.node`` is the new node."""

    title = "Create tensor"

    TILE_DEFAULT = (16, 16)
    """The tile shape assumed for an unshaped ``In[Tensor]`` parameter (tile rank 2)."""

    def __init__(self, call_id: str, param: str, pos: tuple[float, float] | None = None):
        super().__init__()
        self.call_id, self.param, self.pos = call_id, param, pos
        self.node: Node | None = None

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        call = doc.graph.nodes.get(self.call_id)
        if call is None or not kind_lookup.kind_of(call).calls_kernel:
            raise EditError(f"no kernel call {self.call_id!r}")
        if indexing.kernel_of(doc, call) is None:
            raise EditError(f"{_label(call)} names no kernel: pick its kernel first")
        param = indexing.param_of(doc, call, self.param)
        if param is None:
            raise EditError(f"the call's kernel has no parameter {self.param!r}")
        direction = param.get("direction", "In")
        for e in doc.graph.edges:
            if (e.dst == PortRef(call.id, self.param) and direction != "Out") or (
                e.src == PortRef(call.id, self.param) and direction == "Out"
            ):
                other = doc.graph.nodes.get(e.src.node if e.dst.node == call.id else e.dst.node)
                shown = _label(other) if other is not None else "another node"
                raise EditError(f"port {self.param} is already wired to {shown}")
        dtype = param.get("dtype") or "f32"
        scalar = param.get("kind") == "scalar"
        name = canvas_name(doc, self.param)
        pos = self.pos if self.pos is not None else self._default_pos(doc, call, direction)
        if scalar:
            kind_id = _role_kind("data", "scalar")
            props: dict[str, Any] = {"dtype": dtype} if _has_prop(kind_id, "dtype") else {}
            node = creation.new_node(kind_id, doc, pos, name=name, **props)
        else:
            shape = _leading_sizes(doc, call, self.param) + list(self._tile(param))
            props = {"shape": shape}
            kind_id = _role_kind("data", "tensor")
            if _has_prop(kind_id, "dtype"):
                props["dtype"] = dtype
            node = creation.new_node(kind_id, doc, pos, name=name, **props)
        node.parent = None
        ed.add_node(doc.graph, node)
        out_port = "scalar" if scalar else "tensor"
        if direction in ("In", "InOut"):
            self._connect(ed, PortRef(node.id, out_port), PortRef(call.id, self.param))
        if direction in ("Out", "InOut") and not scalar:
            self._connect(ed, PortRef(call.id, self.param), PortRef(node.id, "write"))
        self.node = node

    def _tile(self, param: dict[str, Any]) -> tuple[int, ...]:
        shape = indexing.tile_shape(param)
        if shape is not None:
            return shape
        return self.TILE_DEFAULT[: indexing.tile_rank(param)]

    @staticmethod
    def _connect(ed: DocumentEditor, src: PortRef, dst: PortRef) -> None:
        ok, reason = connections.can_connect(ed.doc, src, dst)
        if not ok:
            raise ConnectionRefused(reason)
        ed.add_edge(ed.doc.graph, Edge(src, dst))

    @staticmethod
    def _default_pos(doc: Document, call: Node, direction: str) -> tuple[float, float]:
        """Left of the call's outermost frame for an input, right of everything in it for an
        output, level with the call."""
        chain = frames.ancestors(doc, call.id)
        outer = chain[0] if chain else call
        if direction == "In":
            return (outer.pos[0] - 260.0, call.pos[1])
        inside = [outer, *frames.descendants(doc, outer.id)] if chain else [call]
        return (max(n.pos[0] for n in inside) + 320.0, call.pos[1])


def canvas_name(doc: Document, base: str, extra: Iterable[str] = ()) -> str:
    """``base`` or its next free numbered variant (``creation.free_name``: ``Q2`` -> ``Q3``)
    among the names on the root canvas (a kernel's parameter names are its own)."""
    used = {n.name for n in doc.graph.nodes.values()} | set(extra) | pytext.RESERVED_NAMES
    return creation.free_name(base, used)


def _has_prop(kind_id: str, prop: str) -> bool:
    try:
        kind_lookup.kind(kind_id).prop(prop)
    except KeyError:
        return False
    return True


UNKNOWN_LOOP_SIZE = 1
"""The extent given to a loop variable whose size the model cannot know (a consume variable,
a loop with no axis picked yet)."""


def axis_size(axis: Node | None) -> int:
    """The number of iterations of an axis node (its ``size``; ``outer_size`` for ragged and
    sparse axes); ``UNKNOWN_LOOP_SIZE`` when it has none."""
    if axis is None:
        return UNKNOWN_LOOP_SIZE
    for prop in ("size", "outer_size"):
        v = axis.props.get(prop)
        if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            return v
    return UNKNOWN_LOOP_SIZE


def _leading_sizes(doc: Document, call: Node, param: str) -> list[int]:
    """The dimensions a new tensor for ``param`` needs in front of the tile: one per loop
    variable around the call (the auto index), or, when the port's index is overridden by
    plain loop variables (``b``) or the whole tensor (``""``), one per variable named there."""
    index = call.props.get("index")
    text = index.get(param) if isinstance(index, dict) else None
    if not isinstance(text, str):
        return loop_sizes(doc, call.id)
    names = [t.strip() for t in text.split(",")] if text.strip() else []
    by_var = dict(zip(frames.loop_vars(doc, call.id), loop_sizes(doc, call.id), strict=False))
    if all(n in by_var for n in names):
        return [by_var[n] for n in names]
    return loop_sizes(doc, call.id)  # a richer index: the user shapes the tensor


def loop_sizes(doc: Document, node_id: str) -> list[int]:
    """The sizes of the loop variables around ``node_id``, outermost first: one per entry of
    ``frames.loop_vars`` (so a tensor of these leading dimensions is auto-indexed by them)."""
    sizes: list[int] = []
    for frame in frames.ancestors(doc, node_id):
        bound = frames.bound_vars(frame)
        if not bound:
            continue
        refs = _axis_refs(frame)
        if len(refs) != len(bound):  # a consume's item variable: no axis gives its size
            refs = [None] * len(bound)
        for ref in refs:
            sizes.append(axis_size(doc.graph.nodes.get(ref) if isinstance(ref, str) else None))
    return sizes


def _axis_refs(frame: Node) -> list[Any]:
    """The axis ids a loop frame runs over, in header order: its ``axes`` entries that bind a
    variable (``P(b, h)``), or its one ``axis`` (``P.seq``, ``P.sel``)."""
    refs = catalogue.reference_props(frame.kind)
    if refs.get("axes") == "axis":
        entries = frame.props.get("axes") or []
        return [a.get("axis") for a in entries if isinstance(a, dict) and a.get("var")]
    if "axis" in refs:
        return [frame.props.get("axis")]
    return []


# ------------------------------------------------------------------------------------------
# backdrops
# ------------------------------------------------------------------------------------------
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
            x, y, w, h = (float(v) for v in self.rect)
            self.backdrop = Backdrop(
                ed.doc.next_id("b"), self.bd_title, self.note, (x, y, w, h), self.color
            )
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
# copy / paste / duplicate
# ------------------------------------------------------------------------------------------
def clipboard_data(doc: Document, node_ids: Iterable[str]) -> dict[str, Any]:
    """JSON-ready data of the given nodes (one canvas) with everything inside selected frames,
    and the wires among them. Selected nodes whose frame is not copied have ``parent`` None."""
    chosen = [i for i in dict.fromkeys(node_ids) if doc.locate(i) is not None]
    if not chosen:
        return {"nodes": [], "edges": []}
    graph = doc.graph_of(chosen[0])
    chosen = [i for i in chosen if i in graph.nodes]
    if graph is doc.graph:
        ids = {j for i in _top_level(doc, chosen) for j in _subtree(doc, i)}
    else:
        ids = set(chosen)
    ids -= {i for i in ids if _owned_by_kernel(graph.nodes[i].kind)}  # they belong to their kernel
    sub = Graph(
        {i: graph.nodes[i] for i in graph.nodes if i in ids},
        [e for e in graph.edges if e.src.node in ids and e.dst.node in ids],
    )
    data = copy.deepcopy(_graph_data(sub))
    for item in data["nodes"]:
        if item.get("parent") not in sub.nodes:
            item["parent"] = None
    refs: dict[str, dict[str, str]] = {}  # what references to uncopied nodes name
    for node in sub.nodes.values():
        for _field, target in catalogue.references(node):
            found = doc.graph.nodes.get(target)
            if target not in sub.nodes and found is not None:
                refs[target] = {"kind": found.kind, "name": found.name}
    return {"nodes": data["nodes"], "edges": data["edges"], "refs": refs}


def _paste(
    ed: DocumentEditor,
    data: Mapping[str, Any],
    offset: tuple[float, float],
    parent_of_top: Mapping[str, str | None] | str | None,
) -> list[Node]:
    """Insert clipboard data with fresh ids and names; returns the pasted top-level nodes."""
    raw = {
        "format_version": ed.doc.format_version,
        "graph": {
            "nodes": copy.deepcopy(list(data.get("nodes", []))),
            "edges": copy.deepcopy(list(data.get("edges", []))),
        },
    }
    try:
        pasted = _build_graph(_model(raw, None).graph, None, set(), None)
    except ProjectError as err:
        raise EditError(f"clipboard data is not a valid selection: {err}") from None
    for n in pasted.nodes.values():
        if n.parent is not None and n.parent not in pasted.nodes:
            n.parent = None  # its frame was not copied: it is pasted at the top
    fragment = Document(graph=pasted)
    for n in pasted.nodes.values():
        problem = (
            placement.place_problem(fragment, n.kind, n.parent) if n.parent is not None else None
        )
        if problem is not None:
            raise EditError(f"clipboard data is not a valid selection: {n.id}: {problem}")
    top = [n for n in pasted.nodes.values() if n.parent not in pasted.nodes]

    def target(n: Node) -> str | None:
        if isinstance(parent_of_top, Mapping):
            return parent_of_top.get(n.id)
        return parent_of_top

    places = {n.id: ed.place_for(target(n)) for n in top}
    graphs = {id(g) for g, _f in places.values()}
    if len(graphs) > 1:  # pragma: no cover - duplicate keeps one canvas
        raise EditError("the pasted nodes would land on different canvases")
    graph = next(iter(places.values()))[0] if places else ed.doc.graph
    for n in top:
        problem = placement_problem(ed.doc, n.kind, target(n))
        if problem is not None:
            raise PlacementRefused(
                f"{kind_lookup.display_name(n.kind)} cannot be pasted here: {problem}"
            )
    ids = creation.IdAllocator(ed.doc)
    mapping: dict[str, str] = {}
    for node, _g, _o in Document(graph=pasted).walk():
        mapping[node.id] = ids()
    names_taken: set[str] = set()
    for node in pasted.nodes.values():
        k = kind_lookup.kind(node.kind)
        if k.name_base and node.name:
            new = (
                canvas_name(ed.doc, node.name, names_taken)
                if graph is ed.doc.graph
                else creation.unique_name(ed.doc, node.name, names_taken)
            )
            names_taken.add(new)
            node.name = new
    new_top = {n.id: places[n.id][1] for n in top}
    outside = _outside_references(ed.doc, data.get("refs"))
    for node in pasted.nodes.values():
        if node.id in new_top or node.parent is None:  # a top node (its parent was not copied)
            node.parent = new_top[node.id]
        else:
            node.parent = mapping[node.parent]
        for prop, sub in catalogue.reference_props(node.kind).items():
            value = node.props.get(prop)
            kinds = catalogue.reference_kinds(node.kind, prop)

            def retarget(ref: Any, kinds: tuple[str, ...] = kinds) -> Any:
                if not isinstance(ref, str) or not ref:
                    return ref
                if ref in mapping:
                    return mapping[ref]
                found = ed.doc.graph.nodes.get(outside.get(ref, ref))
                return found.id if found is not None and (not kinds or found.kind in kinds) else ""

            if sub is None:
                node.props[prop] = retarget(value)
            elif isinstance(value, list):
                node.props[prop] = [
                    {**e, sub: retarget(e.get(sub))} if isinstance(e, dict) else e for e in value
                ]
    top_ids = {mapping[n.id] for n in top}  # before _reid renames the nodes in place
    _reid(pasted, mapping)
    if graph is not ed.doc.graph:
        for node in pasted.nodes.values():
            node.parent = None
    out = []
    for node in pasted.nodes.values():
        node.pos = (node.pos[0] + offset[0], node.pos[1] + offset[1])
        ed.add_node(graph, node)
        if node.id in top_ids:
            out.append(node)
    for e in pasted.edges:
        ed.add_edge(graph, e)
    return out


def _outside_references(doc: Document, refs: Any) -> dict[str, str]:
    """Clipboard references to nodes that were not copied, resolved in ``doc``: the same id
    when it still names a node of that kind and name, else the node of that kind and name
    (copied from another document); unresolved ids map to ``""`` (nothing chosen)."""
    out: dict[str, str] = {}
    if not isinstance(refs, Mapping):
        return out
    for ref, what in refs.items():
        if not isinstance(what, Mapping):
            continue
        kind, name = what.get("kind"), what.get("name")
        same = doc.graph.nodes.get(ref)
        if same is not None and same.kind == kind and same.name == name:
            out[ref] = ref
            continue
        match = next(
            (n.id for n in doc.graph.nodes.values() if n.kind == kind and n.name == name), ""
        )
        out[ref] = match
    return out


class Paste(Command):
    """Insert clipboard data with fresh ids (and fresh names where taken: ``Q2`` gives ``Q3``),
    shifted by ``offset``, into the frame or kernel body ``parent`` (None: the root canvas).
    Frames bring what is inside them; references to copied nodes follow the copies.
    ``.nodes`` lists the pasted top-level nodes (for selecting them)."""

    title = "Paste"

    def __init__(self, data: Mapping[str, Any], offset: tuple[float, float] = (40.0, 40.0), parent: str | None = None):  # fmt: skip
        super().__init__()
        self.data, self.offset, self.parent = data, offset, parent
        self.nodes: list[Node] = []

    def run(self, ed: DocumentEditor) -> None:
        self.nodes = _paste(ed, self.data, self.offset, self.parent)


class Duplicate(Command):
    """Copy nodes (frames with their contents) next to the originals, each copy in the same
    frame as its original. ``.nodes`` lists the new top-level nodes."""

    title = "Duplicate"

    def __init__(self, node_ids: Iterable[str], offset: tuple[float, float] = (40.0, 40.0)):
        super().__init__()
        self.node_ids, self.offset = list(node_ids), offset
        self.nodes: list[Node] = []

    def run(self, ed: DocumentEditor) -> None:
        doc = ed.doc
        data = clipboard_data(doc, self.node_ids)
        if not data["nodes"]:
            raise EditError("nothing selected to duplicate")
        parents: dict[str, str | None] = {}
        for item in data["nodes"]:
            if item["parent"] is None:
                found = doc.locate(item["id"])
                assert found is not None
                node, graph, owner = found
                # a node on a body canvas (not the root one) has that body's owner
                parents[item["id"]] = owner.id if owner is not None else node.parent
        self.nodes = _paste(ed, data, self.offset, parents)


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
    "FRAME_PAD",
    "FRAME_HEADER",
    "UNKNOWN_LOOP_SIZE",
    "EditError",
    "ConnectionRefused",
    "PlacementRefused",
    "PropertyError",
    "DocumentEditor",
    "Command",
    "Batch",
    "AddNode",
    "RemoveNodes",
    "Connect",
    "Disconnect",
    "SetProperty",
    "SetPortIndex",
    "MoveNodes",
    "Reparent",
    "Reorder",
    "Wrap",
    "Unwrap",
    "CreateTensor",
    "clipboard_data",
    "Paste",
    "Duplicate",
    "AddBackdrop",
    "RemoveBackdrop",
    "scope_inside",
    "scope_inside_kind",
    "placement_problem",
    "loop_sizes",
    "axis_size",
    "canvas_name",
]
