"""Node kinds: the single source of truth for ports, properties and where a node may live.

The kind table is assembled from one module per kind family (``app.model.kinds``); this
module answers the questions every layer asks about it: a node's ports (``ports_of``, a call's
from its kernel), whether a wire may be drawn (``can_connect``, across frame borders), where a
node may live (``allowed_in``/``place_problem``), whether a property value is well-formed
(``prop_problem``), and which properties reference other nodes (``reference_props``).
Nothing else in the app may hard-code a port name or a property default.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from typing import Any

from . import bounds, exprs, frames, pytext
from .document import Document, Edge, Graph, Node, PortRef
from .kinds import FAMILIES
from .kinds import kernels as _kernels
from .kinds._base import (
    DIRECTIONS,
    DTYPES,
    PARAM_DEFAULTS,
    PARAM_FIELDS,
    PARAM_KINDS,
    PORT_TYPES,
    PROP_TYPES,
    SCOPES,
    NodeKind,
    PortSpec,
    PropSpec,
    in_port,
    out_port,
)
from .kinds.kernels import CALL_TASK_PORT, param_port_type
from .kinds.layout import REDUCE_OPS
from .kinds.schedule import (
    DEFAULT_TARGET,
    DEPS_MODES,
    DISPATCH_POLICIES,
    READY_POLICIES,
    SHEET_NAMES,
    SHEET_PROPS,
    START_POLICIES,
    TARGETS,
    TIMING_POLICIES,
    TRACE_POLICIES,
    V1_SHEET,
    WINDOW_MODES,
    WINDOW_UNITS,
    task_graph_field_applies,
)
from .kinds.tile_ops import BINARY_OPS, TILE_OPS, UNARY_OPS, VECTOR_OPS

_in, _out = in_port, out_port

# ------------------------------------------------------------------------------------------
# the kind table
# ------------------------------------------------------------------------------------------
KINDS: dict[str, NodeKind] = {k.id: k for family in FAMILIES for k in family.KINDS}
DSL_KINDS: dict[str, str] = {
    dsl: kind_id for family in FAMILIES for dsl, kind_id in getattr(family, "DSL_KINDS", {}).items()
}
"""DSL object type (``LoopNode.seq``, ``Dense``, ``SendNode``...) -> the kind Import Python
makes of it: each family module contributes its part (``DSL_KINDS``)."""
assert set(DSL_KINDS.values()) <= set(KINDS), "a DSL_KINDS entry names an unknown kind"


def dsl_kind(dsl_type: str) -> str:
    """The kind id Import Python makes of a DSL object of type ``dsl_type`` (``DSL_KINDS``);
    ``UnknownKind`` when no kind family imports it."""
    try:
        return DSL_KINDS[dsl_type]
    except KeyError:
        raise UnknownKind(f"no node kind imports a DSL {dsl_type}") from None


CATEGORY_ORDER = [
    "Data",
    "Axes",
    "Kernels",
    "Workloads",
    "Loops",
    "Control",
    "CSP",
    "Events",
    "Slots",
    "Layout",
    "Tile ops",
    "Internal",
]
SCOPE_KINDS = frozenset(k for k, v in KINDS.items() if v.scope)
"""Kinds owning a body sub-canvas (a kernel definition)."""
FRAME_KINDS = frozenset(k for k, v in KINDS.items() if v.frame)
"""Kinds that hold children (``Node.parent``)."""
KERNEL_KINDS = frozenset(k for k, v in KINDS.items() if v.defines_kernel)
"""Kernel definitions (``NodeKind.defines_kernel``)."""
PROGRAM_KINDS = frozenset(k for k, v in KINDS.items() if v.program)
"""Program frames (``NodeKind.program``): they carry the schedule sheet."""
LOOP_KINDS = frozenset(k for k, v in KINDS.items() if v.binds_vars is not None)
"""Frames binding loop variables (``NodeKind.binds_vars``)."""
SHEET_KINDS = frozenset(k for k, v in KINDS.items() if any(p.name == "target" for p in v.props))
"""Kinds carrying the schedule sheet (``SHEET_PROPS``)."""
DYNAMIC_KINDS = frozenset(k for k, v in KINDS.items() if v.calls_kernel or v.kernel_param)
"""Kinds whose ports depend on the document (see ``ports_of``)."""
NO_KIND = NodeKind("", "", "Internal", [], [], in_palette=False)
"""What ``kind_of`` gives for an unknown kind id: a kind with no roles."""


def _reference_table() -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for k in KINDS.values():
        refs = {p.name: (None if p.type == "ref" else "axis") for p in k.props if p.type in ("ref", "axes")}  # fmt: skip
        if refs:
            out[k.id] = refs
    return out


REFERENCE_PROPS: dict[str, dict[str, str | None]] = _reference_table()
"""kind -> {property holding node ids -> None (a plain id) or the id's key in each entry}."""


def reference_props(kind_id: str) -> dict[str, str | None]:
    """The properties of ``kind_id`` that hold node ids (format v2): name -> None for a plain
    id, or the key of the id inside each entry of a list (``axes: [{var, axis}]`` -> "axis")."""
    return REFERENCE_PROPS.get(kind_id, {})


def reference_kinds(kind_id: str, prop: str) -> tuple[str, ...]:
    """The kinds the reference property ``prop`` of ``kind_id`` may name (empty if none)."""
    k = KINDS.get(kind_id)
    if k is None:
        return ()
    for p in k.props:
        if p.name == prop:
            return p.ref_kinds
    return ()


def references(node: Node) -> list[tuple[str, str]]:
    """``[(field, node id)]`` for every reference ``node`` holds (``props.axes[1].axis``)."""
    out: list[tuple[str, str]] = []
    for name, sub in reference_props(node.kind).items():
        value = node.props.get(name)
        if sub is None:
            if isinstance(value, str) and value:
                out.append((f"props.{name}", value))
        elif isinstance(value, list):
            for i, entry in enumerate(value):
                ref = entry.get(sub) if isinstance(entry, dict) else None
                if isinstance(ref, str) and ref:
                    out.append((f"props.{name}[{i}].{sub}", ref))
    return out


def prop_fields(spec: PropSpec) -> tuple[PropSpec, ...]:
    """The fields of a ``dict`` property (the sheet's ``task_graph``)."""
    return spec.fields


def field_applies(prop: str, field: str, value: dict[str, Any]) -> bool:
    """Whether ``field`` of dict property ``prop`` means anything under its other fields."""
    if prop == "task_graph":
        return task_graph_field_applies(value, field)
    return True


# ------------------------------------------------------------------------------------------
# lookups
# ------------------------------------------------------------------------------------------
class UnknownKind(KeyError):
    """A kind id that is not in ``KINDS``."""

    def __str__(self) -> str:
        return str(self.args[0])


def kind(kind_id: str) -> NodeKind:
    """The ``NodeKind`` for ``kind_id``; ``UnknownKind`` naming it otherwise."""
    try:
        return KINDS[kind_id]
    except KeyError:
        raise UnknownKind(f"unknown node kind {kind_id!r}") from None


def kind_of(node: Node | str) -> NodeKind:
    """The ``NodeKind`` of a node (or kind id): ``NO_KIND`` (no roles) when unknown, so a role
    question (``kind_of(n).calls_kernel``) on a corrupt document answers no instead of raising."""
    return KINDS.get(node if isinstance(node, str) else node.kind, NO_KIND)


def names_a_variable(kind_id: str) -> bool:
    """Whether a node of this kind is a variable of the exported script, named by its name
    (so the name must pass ``pytext.identifier_problem``): named root nodes (workloads and
    compositions too), processes and collectives."""
    k = KINDS.get(kind_id)
    if k is None or not k.name_base:
        return False
    return "root" in k.allowed_in or k.collective or k.module_level


def display_name(kind_id: str) -> str:
    """What users call kind ``kind_id`` (its title, e.g. "Tensor"); the id itself if unknown.

    Every user-facing message names a kind this way, never by its id (``data.tensor``).
    """
    known = KINDS.get(kind_id)
    return known.title if known is not None else kind_id


def node_label(node: Node) -> str:
    """What a message calls ``node``: its name, else its kind's display name (never an id)."""
    return node.name or display_name(node.kind)


def categories() -> list[tuple[str, list[NodeKind]]]:
    """Palette categories in palette order with their kinds (internal kinds left out)."""
    grouped: dict[str, list[NodeKind]] = {c: [] for c in CATEGORY_ORDER}
    for k in KINDS.values():
        if k.in_palette:
            grouped.setdefault(k.category, []).append(k)
    return [(c, ks) for c, ks in grouped.items() if ks]


# ------------------------------------------------------------------------------------------
# where a node may live
# ------------------------------------------------------------------------------------------
def is_frame(kind_id: str) -> bool:
    """Whether nodes of ``kind_id`` are frames (hold children via ``Node.parent``)."""
    k = KINDS.get(kind_id)
    return k is not None and k.frame


def scope_of_parent(doc: Document, parent_id: str | None) -> str:
    """The ``allowed_in`` scope name of the inside of frame ``parent_id`` (``root`` for None):
    ``workload`` inside a workload or statement frame, ``compose``, ``connect``, ``branch``."""
    if parent_id is None:
        return "root"
    parent = doc.graph.nodes.get(parent_id)
    k = KINDS.get(parent.kind) if parent is not None else None
    if k is None or not k.frame:
        return "none"
    return k.children_scope


def scope_of_graph(doc: Document, graph: Graph) -> str:
    """``root`` for the project graph, else the body scope of the owning node (``kernel``)."""
    return scope_of_owner(doc.owner_of(graph))


def scope_of_owner(owner: Node | None) -> str:
    if owner is None:
        return "root"
    k = KINDS.get(owner.kind)
    return k.body_scope if k is not None else "kernel"


def _scope_words(scope: str) -> str:
    return {
        "root": "on the canvas outside every frame",
        "workload": "inside a workload",
        "compose": "inside a combine or sequential frame",
        "connect": "inside a connect frame",
        "branch": "directly inside a P.when chain",
        "kernel": "inside a kernel body",
    }.get(scope, scope)


def place_problem(doc: Document, kind_id: str, parent_id: str | None) -> str | None:
    """Why a node of ``kind_id`` may not live in frame ``parent_id`` (None = root canvas), or
    None when it may. The frame chain decides: a loop only inside a workload, a case only
    directly in a ``branch.chain``, an instance only in combine/sequential..."""
    k = KINDS.get(kind_id)
    if k is None:
        return f"unknown node kind {kind_id!r}"
    if parent_id is not None:
        parent = doc.graph.nodes.get(parent_id)
        if parent is None:
            return f"no frame {parent_id!r}"
        if not is_frame(parent.kind):
            return f"{node_label(parent)} ({display_name(parent.kind)}) is not a frame"
    scope = scope_of_parent(doc, parent_id)
    if scope in k.allowed_in:
        return None
    where = " or ".join(_scope_words(s) for s in sorted(k.allowed_in))
    return f"a {k.title} lives {where}, not {_scope_words(scope)}"


def allowed_in(doc: Document, kind_id: str, parent_id: str | None) -> bool:
    """Whether a node of ``kind_id`` may live in frame ``parent_id`` (see ``place_problem``)."""
    return place_problem(doc, kind_id, parent_id) is None


# ------------------------------------------------------------------------------------------
# ports
# ------------------------------------------------------------------------------------------
def kernel_params(kernel_node: Node) -> list[dict[str, Any]]:
    """The well-formed entries of a ``kernel.def``'s params property."""
    params = kernel_node.props.get("params", [])
    if not isinstance(params, list):
        return []
    return [p for p in params if isinstance(p, dict) and isinstance(p.get("name"), str)]


def resolve_kernel(call: Node, doc: Document, graph: Graph | None = None) -> Node | None:
    """The ``kernel.def`` a call's ``kernel`` property names, or None."""
    ref = call.props.get("kernel")
    target = doc.graph.nodes.get(ref) if isinstance(ref, str) and ref else None
    return target if target is not None and kind_of(target).defines_kernel else None


def resolve_ref(doc: Document, node: Node, prop: str) -> Node | None:
    """The node a plain reference property names, if it exists and has an allowed kind."""
    ref = node.props.get(prop)
    target = doc.graph.nodes.get(ref) if isinstance(ref, str) and ref else None
    kinds = reference_kinds(node.kind, prop)
    if target is None or (kinds and target.kind not in kinds):
        return None
    return target


def call_ports(call: Node, doc: Document) -> list[PortSpec]:
    """A call's ports: per kernel parameter an input (In), an output (Out) or both (InOut, same
    name), in parameter order, then the ``task`` output."""
    ports: list[PortSpec] = []
    kern = resolve_kernel(call, doc)
    if kern is not None:
        for p in kernel_params(kern):
            direction = p.get("direction", "In")
            type_ = param_port_type(p)
            if direction in ("In", "InOut"):
                ports.append(_in(p["name"], type_))
            if direction in ("Out", "InOut"):
                ports.append(_out(p["name"], type_))
    ports.extend(KINDS[_kernels.CALL].ports)
    return ports


def ports_of(node: Node, doc: Document, graph: Graph | None = None) -> list[PortSpec]:
    """All ports of ``node``: static, or a call's from its kernel, a kernel param's from its
    parameter's direction (``graph``: the graph holding the node, when not yet inserted)."""
    k = KINDS.get(node.kind)
    if k is None:
        return []
    if k.calls_kernel:
        return call_ports(node, doc)
    if k.kernel_param:
        found = doc.locate(node.id)
        owner = found[2] if found is not None else None
        return dynamic_ports(node, found[1] if found else (graph or doc.graph), owner, doc)
    return list(k.ports)


def dynamic_ports(node: Node, graph: Graph, owner: Node | None, doc: Document) -> list[PortSpec]:
    """Ports of ``node`` living in ``graph`` whose owning scope node is ``owner``."""
    k = kind_of(node)
    if k.calls_kernel:
        return call_ports(node, doc)
    if k.kernel_param:
        ports = []
        param = _param_of(node, owner)
        direction = param.get("direction", "In") if param else "In"
        if direction in ("In", "InOut"):
            ports.append(_out("tile", "tile"))
        if direction in ("Out", "InOut"):
            ports.append(_in("value", "tile", optional=True))
        return ports
    return list(k.ports)


def dynamic_or_static(node: Node, graph: Graph, owner: Node | None, doc: Document) -> list[PortSpec]:  # fmt: skip
    return dynamic_ports(node, graph, owner, doc)


def _param_of(param_node: Node, owner: Node | None) -> dict[str, Any] | None:
    if owner is None or not kind_of(owner).defines_kernel:
        return None
    for p in kernel_params(owner):
        if p["name"] == param_node.props.get("param"):
            return p
    return None


def find_port(ports: Iterable[PortSpec], name: str, direction: str) -> PortSpec | None:
    for p in ports:
        if p.name == name and p.direction == direction:
            return p
    return None


def types_compatible(src_type: str, dst_type: str, scope: str) -> bool:
    """An out of ``src_type`` may feed an in of ``dst_type`` (in a graph of ``scope``)."""
    if src_type == dst_type:
        return True
    if dst_type == "tile" and src_type in ("tensor", "scalar") and scope == "kernel":
        return True
    return False


# ------------------------------------------------------------------------------------------
# connection rules
# ------------------------------------------------------------------------------------------
def can_connect(doc: Document, src: PortRef, dst: PortRef) -> tuple[bool, str]:
    """Whether an edge ``src -> dst`` may be added; ``(False, reason)`` says why not.

    On the root canvas wires cross frame borders: a tensor feeds a call port inside any loop,
    a call's Out port writes a tensor, a call's task feeds a ``send``. A value made inside a
    frame (a collective's result, a call's task) is seen only inside that frame, and a wire
    never joins two programs. Kernel bodies keep their own graphs (edges within one body).
    """
    found_src = doc.locate(src.node)
    found_dst = doc.locate(dst.node)
    if found_src is None:
        return False, f"no node {src.node!r}"
    if found_dst is None:
        return False, f"no node {dst.node!r}"
    s_node, s_graph, s_owner = found_src
    d_node, d_graph, d_owner = found_dst
    if s_graph is not d_graph:
        return False, (
            f"{node_label(s_node)} and {node_label(d_node)} are on different canvases (a "
            "kernel body is its own canvas)"
        )
    if src.node == dst.node:
        return False, "a node cannot connect to itself"
    s_port = find_port(dynamic_ports(s_node, s_graph, s_owner, doc), src.port, "out")
    if s_port is None:
        if kind_of(s_node).calls_kernel and resolve_kernel(s_node, doc) is None:
            return False, f"{node_label(s_node)} names no kernel yet: choose its kernel first"
        return False, f"{display_name(s_node.kind)} {node_label(s_node)} has no output {src.port!r}"  # fmt: skip
    d_port = find_port(dynamic_ports(d_node, d_graph, d_owner, doc), dst.port, "in")
    if d_port is None:
        if kind_of(d_node).calls_kernel and resolve_kernel(d_node, doc) is None:
            return False, f"{node_label(d_node)} names no kernel yet: choose its kernel first"
        return False, f"{display_name(d_node.kind)} {node_label(d_node)} has no input {dst.port!r}"  # fmt: skip
    scope = scope_of_owner(s_owner)
    if not types_compatible(s_port.type, d_port.type, scope):
        return False, (
            f"{node_label(s_node)} gives a {s_port.type} but input {dst.port!r} of "
            f"{node_label(d_node)} takes a {d_port.type}"
        )
    graph = s_graph
    for e in graph.edges:
        if e.src == src and e.dst == dst:
            return False, "these ports are already connected"
    if not d_port.multi and any(e.dst == dst for e in graph.edges):
        return False, f"input {dst.port!r} of {node_label(d_node)} is already connected"
    if graph is not doc.graph:
        if _reaches(graph, dst.node, src.node):
            return False, "this connection would create a cycle"
        return True, ""
    return root_wire_problem(doc, s_node, src.port, d_node, dst.port)


def root_wire_problem(
    doc: Document, s_node: Node, s_port: str, d_node: Node, d_port: str
) -> tuple[bool, str]:
    """The root-canvas rules beyond port types (both ends exist and the types agree)."""
    s_kind, d_kind = kind_of(s_node), kind_of(d_node)
    if s_kind.calls_kernel and s_port != CALL_TASK_PORT and d_kind.data != "tensor":
        return False, (
            f"a call writes a tensor: wire output {s_port!r} of {node_label(s_node)} into a "
            "tensor's write input"
        )
    if d_port == "write" and not s_kind.calls_kernel:
        return False, f"only a kernel call's output writes a tensor ({node_label(d_node)})"
    s_wl = frames.workload_of(doc, s_node.id) if s_node.parent else None
    d_wl = frames.workload_of(doc, d_node.id) if d_node.parent else None
    if s_wl is not None and d_wl is not None and s_wl.id != d_wl.id:
        return False, (
            f"{node_label(s_node)} is in workload {node_label(s_wl)} and {node_label(d_node)} "
            f"in {node_label(d_wl)}; a wire never joins two workloads"
        )
    if s_node.parent is not None and d_kind.data != "tensor":
        inside = {f.id for f in frames.ancestors(doc, d_node.id)}
        if s_node.parent not in inside:
            frame = doc.graph.nodes.get(s_node.parent)
            where = node_label(frame) if frame is not None else s_node.parent
            return False, (
                f"{node_label(s_node)} is made inside {where}; only nodes inside that frame can "
                "use it"
            )
    return True, ""


def _reaches(graph: Graph, start: str, goal: str) -> bool:
    """Whether ``goal`` is reachable from ``start`` along edges of ``graph``."""
    succ: dict[str, list[str]] = {}
    for e in graph.edges:
        succ.setdefault(e.src.node, []).append(e.dst.node)
    seen = {start}
    stack = [start]
    while stack:
        n = stack.pop()
        if n == goal:
            return True
        for m in succ.get(n, ()):
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return False


def bound_vars(node: Node) -> list[str]:
    """Variables a frame binds for its children (``b, h`` of a parallel loop)."""
    return frames.bound_vars(node)


# ------------------------------------------------------------------------------------------
# property checks
# ------------------------------------------------------------------------------------------
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def prop_problem(spec: PropSpec, value: Any) -> str | None:
    """Why ``value`` is not a valid value for ``spec`` (None when it is). Never evaluates."""
    t = spec.type
    for _where, problem in bounds.value_problems(value):
        return problem  # NUL, lone surrogates, NaN, infinities: nothing can store them
    if t in ("str", "code"):
        return None if isinstance(value, str) else "expected a string"
    if t == "int":
        if not _is_int(value):
            return "expected an integer"
        return None if _INT_MIN <= value <= _INT_MAX else "exceeds the 64-bit integer range"
    if t == "float":
        return None if _is_int(value) or isinstance(value, float) else "expected a number"
    if t == "number":
        ok = isinstance(value, int | float)  # bool is an int: constant(True, bool) is legal
        if ok and not isinstance(value, float) and not _INT_MIN <= value <= _INT_MAX:
            return "exceeds the 64-bit integer range"
        return None if ok else "expected a number"
    if t == "bool":
        return None if isinstance(value, bool) else "expected true or false"
    if t == "enum":
        if value not in (spec.choices or ()):
            return f"expected one of {', '.join(spec.choices or ())}, got {value!r}"
        return None
    if t == "dtype":
        if value not in DTYPES:
            return f"expected a dtype ({', '.join(DTYPES)}), got {value!r}"
        return None
    if t == "shape":
        if not isinstance(value, list) or not all(_is_int(d) for d in value):
            return "expected a list of ints"
        if spec.optional and value == []:
            return None
        if not value or any(d < 1 for d in value):
            return "expected a non-empty list of positive ints"
        return bounds.shape_problem(value)
    if t == "strlist":
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            return "expected a list of strings"
        return None
    if t == "exprlist" and value is None and spec.optional:
        return None
    if t in ("expr", "exprlist", "key"):
        if value is None and spec.optional and spec.default is None:
            return None  # "not set" (a call's axes: the enclosing loop variables)
        if not isinstance(value, str):
            return "expected an expression string"
        if not value.strip():
            return None if spec.optional else "expression is empty"
        problems, _ = exprs.check(value)
        return problems[0] if problems else None
    if t == "exprmap":
        if not isinstance(value, dict):
            return "expected a mapping of names to expressions"
        for key, text in value.items():
            if not isinstance(key, str) or not isinstance(text, str):
                return "expected a mapping of names to expression strings"
            if text.strip():
                problems, _ = exprs.check_index(text)  # an index: slices are allowed
                if problems:
                    return f"{key}: {problems[0]}"
        return None
    if t == "names":
        if not isinstance(value, str):
            return "expected a comma-separated list of names"
        parts = [p.strip() for p in value.split(",")]
        if not value.strip() or any(not exprs.is_identifier(p) for p in parts):
            return f"expected identifiers separated by commas, got {value!r}"
        if len(set(parts)) != len(parts):
            return f"duplicate names in {value!r}"
        return None
    if t == "params":
        return _params_problem(value)
    if t == "dist":
        return _dist_problem(value, spec.optional)
    if t == "pools":
        return _pools_problem(value)
    if t == "ref":  # "" = nothing chosen yet; whether the id names a node is validation's
        return None if isinstance(value, str) else "expected a node id"
    if t == "axes":
        return _axes_problem(value)
    if t == "dict":
        return _dict_problem(spec, value)
    return f"unknown property type {t!r}"


def _axes_problem(value: Any) -> str | None:
    """A loop's ``[{var, axis}]``: each var an identifier, once; each axis a node id string.
    (Whether the ids name axis nodes is a document question, asked by validation.)"""
    if not isinstance(value, list):
        return "expected a list of {var, axis} entries"
    seen: set[str] = set()
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"var", "axis"}:
            return f"[{i}]: expected an entry with exactly the fields var and axis"
        var = entry["var"]
        if not isinstance(var, str) or not exprs.is_identifier(var):
            return f"[{i}].var: expected an identifier, got {var!r:.40}"
        if var in seen:
            return f"[{i}].var: variable {var!r} is bound twice"
        seen.add(var)
        if not isinstance(entry["axis"], str) or not entry["axis"]:
            return f"[{i}].axis: no axis chosen"
    return None


def _dict_problem(spec: PropSpec, value: Any) -> str | None:
    """Named fields, each checked by its own spec; unknown fields are refused."""
    if not isinstance(value, dict):
        return "expected a mapping of settings"
    known = {f.name: f for f in spec.fields}
    for name, item in value.items():
        if name not in known:
            return f"unknown field {name!r} (known: {', '.join(known)})"
        problem = prop_problem(known[name], item)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def _dist_problem(value: Any, optional: bool) -> str | None:
    """A distribution: one ``"R"`` / ``"S<mesh axis>"`` per dimension, each mesh axis once."""
    ok = isinstance(value, list) and all(
        isinstance(d, str) and (d == "R" or re.fullmatch(r"S\d+", d)) for d in value
    )
    if not ok or (not value and not optional):
        what = "a list" if optional else "a non-empty list"
        return f"expected {what} of 'R' or 'S<mesh axis>' entries"
    axes = [d for d in value if d != "R"]
    for d in axes:
        if axes.count(d) > 1:
            return (
                f"mesh axis {d[1:]} shards two dimensions; a mesh axis can shard at most one "
                "dimension"
            )
    return None


def _pools_problem(value: Any) -> str | None:
    """``[{kernel, workers}, ...]``: each kernel (a kernel.def name) once, workers >= 1."""
    if not isinstance(value, list):
        return "expected a list of {kernel, workers} entries"
    seen: set[str] = set()
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"kernel", "workers"}:
            return f"[{i}]: expected an entry with exactly the fields kernel and workers"
        name = entry["kernel"]
        if not isinstance(name, str) or not exprs.is_identifier(name):
            return f"[{i}].kernel: expected a kernel name, got {name!r}"
        if name in seen:
            return f"[{i}].kernel: kernel {name!r} has two pools"
        seen.add(name)
        if not _is_int(entry["workers"]) or entry["workers"] < 1:
            return f"[{i}].workers: expected an integer >= 1, got {entry['workers']!r}"
    return None


def prop_applies(node: Node, name: str) -> bool:
    """Whether property ``name`` of ``node`` means anything under the node's other choices.

    The editor disables the ones that do not (a worker count while dispatch is affinity); the
    exporter ignores them. Properties of other kinds always apply.
    """
    applies = kind_of(node).prop_applies
    return applies(node.props, name) if applies is not None else True


def node_prop_problem(node: Node, name: str, value: Any) -> str | None:
    """``prop_problem`` plus the checks that need the node's other properties.

    A tensor's layout has one entry per dimension of its shape (or none: the default).
    """
    k = kind(node.kind)
    problem = prop_problem(k.prop(name), value)
    if problem is not None or k.prop_check is None:
        return problem
    return k.prop_check(node.props, name, value)


def _params_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "expected a list of parameters"
    seen: set[str] = set()
    for i, p in enumerate(value):
        if not isinstance(p, dict):
            return f"[{i}]: expected a parameter object"
        name = p.get("name")
        if name == CALL_TASK_PORT:
            return f"[{i}].name: {name!r} is reserved (the task output of kernel calls)"
        if not isinstance(name, str) or not exprs.is_identifier(name):
            return f"[{i}].name: expected an identifier, got {name!r:.60}"
        if name in seen:
            return f"[{i}].name: duplicate parameter {name!r}"
        seen.add(name)
        if p.get("direction", "In") not in DIRECTIONS:
            return f"[{i}].direction: expected one of {', '.join(DIRECTIONS)}"
        kind = p.get("kind", "tensor")
        if kind not in PARAM_KINDS:
            return f"[{i}].kind: expected one of {', '.join(PARAM_KINDS)}"
        for field in PARAM_DEFAULTS:
            if field in p and field not in PARAM_FIELDS[kind]:
                return f"[{i}].{field}: a {kind} parameter has no {field}" + (
                    "; choose kind tile for a Tile[rows, cols, dtype]" if kind == "tensor" else ""
                )
        for dim in ("rows", "cols"):
            if dim in p and (not _is_int(p[dim]) or p[dim] < 1):
                return f"[{i}].{dim}: expected a positive integer"
        if "dtype" in p and p["dtype"] not in DTYPES:
            return f"[{i}].dtype: expected a dtype ({', '.join(DTYPES)})"
        extra = set(p) - {"name", "direction", "kind", "rows", "cols", "dtype"}
        if extra:
            return f"[{i}]: unknown field {sorted(extra)[0]!r}"
    return None


def normalize_param(p: dict[str, Any]) -> dict[str, Any]:
    """A parameter with exactly the fields its kind carries (``PARAM_FIELDS``), defaults filled
    in (In tensor; a tile 16x16 f32, a scalar f32). Fields the kind has not are dropped."""
    kind = p.get("kind", "tensor")
    out = {"name": p["name"], "direction": p.get("direction", "In"), "kind": kind}
    for field in PARAM_FIELDS.get(kind, ()):
        out[field] = p.get(field, PARAM_DEFAULTS[field])
    return out


def migrate_param(p: Any) -> Any:
    """A kernel parameter as written before tile shapes were checked, in today's terms.

    Earlier files gave every parameter rows, cols and dtype, and a ``tensor`` parameter
    exported as an unshaped ``In[Tensor]`` that never looked at them, although the Studio showed
    them as its shape. A ``tensor`` parameter that carries rows or cols becomes the ``tile``
    parameter it was shown as (``Tile[rows, cols, dtype]``, checked at every call), so the file
    now says what runs; fields a kind does not carry are dropped (a scalar's rows and cols).
    Anything malformed is returned as it is, for the params check to report.
    """
    if not isinstance(p, dict) or p.get("kind", "tensor") not in PARAM_KINDS:
        return p
    q = dict(p)
    if q.get("kind", "tensor") == "tensor" and ("rows" in q or "cols" in q):
        q["kind"] = "tile"
    for field in PARAM_DEFAULTS:
        if field not in PARAM_FIELDS[q.get("kind", "tensor")]:
            q.pop(field, None)
    return q


def migrate_props(kind_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """A node's properties as read from a file, in today's terms (``migrate_param``): applied
    on every load, so older files and clipboard fragments open with the meaning they showed."""
    params = props.get("params")
    if kind_of(kind_id).defines_kernel and isinstance(params, list):
        return {**props, "params": [migrate_param(p) for p in params]}
    return props


# ------------------------------------------------------------------------------------------
# node creation and kernel parameter sync
# ------------------------------------------------------------------------------------------
class IdAllocator:
    """Hands out fresh node ids ``n<k>`` for a document, also for nodes not inserted yet."""

    def __init__(self, doc: Document, prefix: str = "n"):
        self.prefix = prefix
        best = 0
        for ident in doc.all_ids():
            tail = ident[len(prefix) :]
            if ident.startswith(prefix) and tail.isdigit():
                best = max(best, int(tail))
        self._next = best + 1

    def __call__(self) -> str:
        ident = f"{self.prefix}{self._next}"
        self._next += 1
        return ident


_TRAILING_NUMBER = re.compile(r"^(?P<stem>.*?\D)(?P<number>\d+)$")


def free_name(base: str, used: Container[str]) -> str:
    """``base`` if unused, else the next free numbered variant of it.

    A trailing number is the counter, not part of the name: ``Q2`` taken gives ``Q3`` (not
    ``Q22``), ``sched`` taken gives ``sched2``. The one rule for every name made unique
    (new nodes, duplicates, pastes, imported scripts).
    """
    if base not in used:
        return base
    m = _TRAILING_NUMBER.match(base)
    stem, k = (m.group("stem"), int(m.group("number")) + 1) if m else (base, 2)
    while f"{stem}{k}" in used:
        k += 1
    return f"{stem}{k}"


def unique_name(doc: Document, base: str, extra: Iterable[str] = ()) -> str:
    """``base`` or its next free numbered variant (``free_name``) among ``doc``'s node names."""
    used = {n.name for n, _g, _o in doc.walk()} | set(extra) | pytext.RESERVED_NAMES
    return free_name(base, used)


def new_node(
    kind_id: str,
    doc: Document,
    pos: tuple[float, float] = (0.0, 0.0),
    *,
    ids: IdAllocator | None = None,
    name: str | None = None,
    **props: Any,
) -> Node:
    """A new (not yet inserted) node with defaults, a fresh id and a unique default name.

    Unknown property names raise ``KeyError`` naming them: a silently dropped option is a bug.
    A kernel definition gets a body with its ``scope.entry`` and a ``kernel.param`` per
    parameter; a frame gets no body (its children name it in ``parent``). The node's ``parent``
    is left None: the caller places it (``place_problem`` says where it may go).
    """
    k = kind(kind_id)
    known = {p.name for p in k.props}
    unknown = sorted(set(props) - known)
    if unknown:
        raise KeyError(f"node kind {kind_id!r} has no property {unknown[0]!r}")
    alloc = ids or IdAllocator(doc)
    values = k.defaults()
    values.update(props)
    if name is None:
        name = unique_name(doc, k.name_base) if k.name_base else ""
    node = Node(alloc(), kind_id, name, (float(pos[0]), float(pos[1])), values)
    if k.scope:
        node.body = Graph()
        entry = Node(alloc(), _kernels.ENTRY, "entry", (0.0, 0.0), {})
        node.body.nodes[entry.id] = entry
        if k.defines_kernel:
            sync_kernel_params(doc, node, ids=alloc)
    return node


def sync_kernel_params(doc: Document, node: Node, ids: IdAllocator | None = None) -> None:
    """Make a ``kernel.def`` body hold exactly one ``kernel.param`` per parameter.

    Parameter nodes whose parameter disappeared are removed with their edges; missing ones are
    added in a column left of the body. Existing nodes (and their wiring) are kept.
    """
    if not kind_of(node).defines_kernel:
        raise ValueError(f"sync_kernel_params needs a kernel.def node, got {node.kind}")
    if node.body is None:
        node.body = Graph()
    body = node.body
    if not any(kind_of(n).body_entry for n in body.nodes.values()):
        alloc = ids or IdAllocator(doc)
        entry = Node(alloc(), _kernels.ENTRY, "entry", (0.0, 0.0), {})
        body.nodes[entry.id] = entry
    wanted = [p["name"] for p in kernel_params(node)]
    present: dict[str, str] = {}
    for n in list(body.nodes.values()):
        if not kind_of(n).kernel_param:
            continue
        pname = n.props.get("param")
        if pname not in wanted or pname in present:
            del body.nodes[n.id]
            body.edges = [e for e in body.edges if n.id not in (e.src.node, e.dst.node)]
        else:
            present[pname] = n.id
    alloc = ids or IdAllocator(doc)
    for i, pname in enumerate(wanted):
        if pname in present:
            continue
        p = Node(alloc(), _kernels.PARAM, pname, (-300.0, 120.0 * (i + 1)), {"param": pname})
        body.nodes[p.id] = p
    # dynamic ports may have changed: drop edges into/out of ports that no longer exist
    for n in body.nodes.values():
        if kind_of(n).kernel_param:
            ports = dynamic_ports(n, body, node, doc)
            body.edges = [e for e in body.edges if _edge_port_ok(e, n.id, ports)]


def _edge_port_ok(e: Edge, node_id: str, ports: list[PortSpec]) -> bool:
    if e.src.node == node_id and find_port(ports, e.src.port, "out") is None:
        return False
    if e.dst.node == node_id and find_port(ports, e.dst.port, "in") is None:
        return False
    return True


__all__ = [
    "PORT_TYPES", "PROP_TYPES", "SCOPES", "DTYPES", "DIRECTIONS", "PARAM_KINDS", "PARAM_FIELDS",
    "PARAM_DEFAULTS", "TILE_OPS", "UNARY_OPS", "BINARY_OPS", "VECTOR_OPS", "REDUCE_OPS",
    "WINDOW_UNITS", "WINDOW_MODES", "DEPS_MODES", "READY_POLICIES", "START_POLICIES",
    "TRACE_POLICIES", "DISPATCH_POLICIES", "TIMING_POLICIES", "TARGETS", "DEFAULT_TARGET",
    "SHEET_PROPS", "SHEET_NAMES", "SHEET_KINDS", "V1_SHEET", "PortSpec", "PropSpec", "NodeKind",
    "KINDS",
    "CATEGORY_ORDER", "SCOPE_KINDS", "FRAME_KINDS", "KERNEL_KINDS", "PROGRAM_KINDS", "LOOP_KINDS",
    "NO_KIND", "kind_of", "DSL_KINDS", "dsl_kind",
    "DYNAMIC_KINDS", "REFERENCE_PROPS", "UnknownKind", "kind", "is_frame", "categories",
    "scope_of_parent", "scope_of_graph", "scope_of_owner", "place_problem", "allowed_in",
    "bound_vars", "kernel_params", "param_port_type", "resolve_kernel", "resolve_ref",
    "reference_props", "reference_kinds", "references", "prop_fields", "field_applies",
    "call_ports", "ports_of", "dynamic_ports", "dynamic_or_static", "find_port",
    "types_compatible", "can_connect", "prop_problem", "prop_applies", "node_prop_problem",
    "normalize_param", "migrate_param", "migrate_props", "IdAllocator", "names_a_variable",
    "display_name", "node_label", "free_name", "unique_name", "new_node", "sync_kernel_params",
]  # fmt: skip
