"""The data classes of the kind table and the vocabulary every kind family module shares.

A kind family module (``app.model.kinds.<family>``) defines ``KINDS``: a list of ``NodeKind``
built from these classes; ``app.model.catalogue`` assembles the families into one table, and
``app.model.kind_lookup``, ``node_ports``, ``connections``, ``placement`` and ``prop_checks``
answer the questions about it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pto_wsp.language import dtype_table

from ..document import Node
from ..title_context import TitleContext

PORT_TYPES = ("tensor", "scalar", "task", "tile", "exec")
"""What a wire carries: a tensor (or a view of one), a scalar, a kernel call's task (into a
``send``), a tile (inside a kernel body); ``exec`` only on a kernel body's entry node."""
PROP_TYPES = (
    "str",
    "int",
    "float",
    "number",
    "bool",
    "enum",
    "shape",
    "expr",
    "exprlist",
    "exprmap",
    "names",
    "code",
    "dtype",
    "strlist",
    "params",
    "dist",
    "pools",
    "ref",
    "axes",
    "key",
    "dict",
)
"""Property types. ``ref``: a node id (``ref_kinds`` names the kinds it may point at; ``""`` =
none); ``axes``: a loop's ordered ``[{var, axis}]`` (axis a node id); ``key``: a key over the
task (``t.get("b")``, an expression); ``dict``: named fields, each a ``PropSpec`` in ``fields``."""
SCOPES = ("root", "workload", "compose", "connect", "branch", "kernel")
"""Where a node may live (``NodeKind.allowed_in``; docs/graph-model.md "Kinds")."""
DTYPES: tuple[str, ...] = dtype_table.NAMES
"""The element types a dtype property offers: the dtype table's names."""
DIRECTIONS = ("In", "Out", "InOut")
PARAM_KINDS = ("tensor", "tile", "scalar")
PARAM_FIELDS: dict[str, tuple[str, ...]] = {
    "tensor": (),  # In[Tensor]: any view; it has no shape or dtype of its own
    "tile": ("rows", "cols", "dtype"),  # In[Tile[rows, cols, dtype]]: checked at every call
    "scalar": ("dtype",),  # Scalar[dtype]
}
"""The fields a kernel parameter of each kind carries besides name, direction and kind: the
one list the params table, normalisation, checks and migration derive from."""
PARAM_DEFAULTS: dict[str, Any] = {"rows": 16, "cols": 16, "dtype": "f32"}


@dataclass(frozen=True)
class PortSpec:
    """One port. ``multi`` inputs take several edges (ordered); optional inputs may be empty."""

    name: str
    direction: str  # "in" | "out"
    type: str
    multi: bool = False
    optional: bool = False


@dataclass(frozen=True)
class PropSpec:
    """One property: its type (``PROP_TYPES``), default, choices for enums, help text."""

    name: str
    type: str
    default: Any
    choices: tuple[str, ...] | None = None
    doc: str = ""
    optional: bool = False
    """An empty value is allowed: ``""`` for expr/exprlist/key/ref, ``[]`` for a shape, ``None``
    for an exprlist (a call's ``axes``: None = the enclosing loop variables)."""
    carries_code: bool = False
    """The value is C++ (or names C++ sources / include paths) that a run compiles: a file with
    such a value set opens in restricted mode (``app.model.trust``). Expressions are not code."""
    names_file: bool = False
    """The value is the path of a file (absolute, or relative to the document's folder:
    ``app.model.doc_files``); with ``carries_code`` the file's content is code, and the trust
    hash covers it."""
    ref_kinds: tuple[str, ...] = ()
    """For ``ref`` and ``axes`` properties: the kinds of node the id may name."""
    fields: tuple[PropSpec, ...] = ()
    """For ``dict`` properties: the fields, each checked by its own spec."""
    link: str = ""
    """For ``ref`` properties the canvas draws as a thin link: ``to`` (from this node to the
    node named: a send to its channel) or ``from`` (from the node named: a channel to its
    consume)."""
    labels: tuple[str, ...] = ()
    """For enums: what the editor shows for each choice (in ``choices`` order; empty = the
    choices themselves). The file and the script keep the choice."""

    def field(self, name: str) -> PropSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"property {self.name!r} has no field {name!r}")


class Emitter(Protocol):
    """What a kind's ``emit`` hook writes a statement through (``app.model.export``'s
    exporter): every name, expression and literal reaches the script checked (``pytext``,
    ``exprs``), every line carries its node id (the line map), every DSL name used is imported.
    A problem is raised as ``exporter.error(node_id, field, message)`` (an ``ExportError``)."""

    nodes: dict[str, Node]

    def error(self, node_id: str, field: str, message: str) -> Exception: ...
    def kind_of(self, node: Node) -> NodeKind: ...
    def use(self, *names: str) -> None: ...
    def line(self, text: str, node_id: str | None, depth: int = 0) -> None: ...
    def assign(self, name: str, call: str, node_id: str, depth: int = 0) -> None: ...
    def assign_call(self, call: str, node_id: str, depth: int) -> None: ...
    def name(self, n: Node) -> str: ...
    def ident(self, n: Node, fieldname: str, name: object) -> str: ...
    def expr(self, node: Node, fieldname: str, text: str, scope: set[str], in_brackets: bool = False) -> str: ...  # fmt: skip
    def integer(self, n: Node, fieldname: str, value: object, least: int | None = None) -> int: ...  # fmt: skip
    def choice(self, n: Node, prop: str, default: str) -> str: ...
    def q(self, text: str) -> str: ...
    def dist_text(self, n: Node, fieldname: str, dist: list[str]) -> str: ...
    def ref(self, node: Node, prop: str, what: str) -> Node: ...
    def one_src(self, node: Node, port: str) -> Node: ...
    def optional_src(self, node: Node, port: str) -> Node | None: ...
    def children(self, frame_id: str) -> list[Node]: ...
    def body(self, frame: Node, depth: int) -> None: ...
    def cases(self, chain: Node) -> list[Node]: ...
    def sent_call_of(self, send: Node) -> Node | None: ...
    def call_text(self, call: Node, names: set[str]) -> str: ...

    # top-level definitions (``emit_root``)
    out: Any
    line_length: int
    tensor_init_module: str

    def blank(self, n: int = 1) -> None: ...
    def lit(self, n: Node, fieldname: str, value: object, multiline: bool = False) -> str: ...
    def file_path(self, n: Node, prop: str) -> str: ...
    def shape_text(self, shape: Any) -> str: ...
    def dtype_text(self, node: Node, fieldname: str, dtype: object) -> str: ...
    def natural_key(self, text: str) -> tuple: ...
    def workload_var(self, n: Node) -> str: ...
    def statements(self, frame: Node) -> list[Node]: ...


@dataclass(frozen=True)
class FrameLook:
    """How the canvas draws a frame kind (Qt-free: the editor turns it into pens and brushes).

    Colours are RGBA; ``pen`` is ``solid``, ``dash``, ``dot`` or ``dashdot``; ``double`` draws a
    second inner border (ordered: P.seq, sequential); ``summary`` adds the schedule sheet's
    summary line under the title; ``compartments`` gives the children one height (a P.when
    chain's cases)."""

    fill: tuple[int, int, int, int]
    border: tuple[int, int, int, int]
    header: tuple[int, int, int, int]
    pen: str = "solid"
    width: float = 2.0
    radius: float = 8.0
    double: bool = False
    summary: bool = False
    compartments: bool = False
    row: bool = False
    """Its children stand side by side in a first layout (stages, cases, parts, processes)."""


@dataclass(frozen=True)
class NodeKind:
    """A node kind.

    ``frame`` kinds hold children (nodes naming them in ``parent``); ``scope`` kinds own a body
    sub-canvas (only ``kernel.def``); ``allowed_in`` lists the ``SCOPES`` it may live in.
    """

    id: str
    title: str
    category: str
    ports: list[PortSpec]
    props: list[PropSpec]
    scope: bool = False
    allowed_in: frozenset[str] = frozenset({"root"})
    doc: str = ""
    name_base: str = ""
    body_scope: str = "kernel"  # the scope name of the body of a scope kind
    in_palette: bool = True
    sweep_default: str = ""
    """The property Run > Sweep opens on (a workload's worker count); "" = the first one."""
    summary: Callable[[Node, TitleContext], str] | None = None
    """The node's canvas title with its key parameters (``Q  f32[4,8,16,16]``,
    ``attn_kernel[b, h]``; see ``app.model.titles``); None = ``"Kind: name"``."""
    frame: bool = False
    """A frame: it holds children and is drawn around them (loops, workloads, processes...)."""
    children_scope: str = "workload"
    """The scope name of a frame's inside (``workload`` for statement frames)."""

    # -- roles and hooks: what the other layers ask of a kind instead of testing its id --------
    binds_vars: Callable[[dict[str, Any]], list[str]] | None = None
    """A loop frame: the variables it binds for its children, from its properties, in header
    order (``P(b, h)``: b, h; a consume binds its item variable like a loop variable)."""
    var_axes: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """A loop frame: the axis node id each variable it binds runs over, from its properties
    (``P(b, h)``: ``{"b": <batch id>, "h": <heads id>}``), so a check can ask how many values a
    variable takes (``frames.loop_axis``); a variable with no axis (a consume's item) is absent."""
    static_size: Callable[[Node, Callable[[str], bool]], int | None] | None = None
    """An axis: how many values a loop variable over it takes when that is known before the run
    (``Dense[4]``, ``DenseDyn(4)``), else None: ``static_size(node, is_wired)``, where
    ``is_wired(port)`` tells whether an input port has a wire (a wired size is a run-time value
    here). Kinds without it (ragged, sparse) are judged by the runtime, as in the DSL."""
    program: bool = False
    """A program frame: it carries the schedule sheet and, standing at the top, is compiled
    (a workload, combine, sequential, connect)."""
    defines_workload: bool = False
    """A workload definition: statements live in it, instances name it."""
    instance: bool = False
    """A use of a workload inside a composition (its ``workload`` property names it)."""
    data: str = ""
    """A root data value the script names and wires carry: ``"tensor"`` or ``"scalar"``."""
    defines_kernel: bool = False
    """A kernel definition (a call's ``kernel`` property names it; its body is tile ops)."""
    calls_kernel: bool = False
    """A kernel call: its ports come from the kernel it names (``node_ports.call_ports``)."""
    kernel_param: bool = False
    """A kernel body's parameter node (its ports come from its parameter's direction)."""
    body_entry: bool = False
    """The entry node every kernel body holds (kept from format v1)."""
    sparse_select: bool = False
    """A loop over the indices a sparse axis selects (``P.sel``): a call inside it is keyed by
    its kernel's name too (``pto_wsp.language.key_rule``)."""
    case: bool = False
    """A compartment of a ``P.when`` chain (the chain's children)."""
    takes_task: bool = False
    """A statement a kernel call's task is wired into (``send``)."""
    collective: bool = False
    """A layout collective: a tensor in, a tensor of the same rank out, named by the script."""
    module_level: bool = False
    """Besides root nodes, defined at module level and named there (a connect's processes)."""
    run_role: str = ""
    """How a run names nodes of this kind in its errors (``app.run_nodes``): ``process`` (by
    name), ``channel``, ``event``, ``stages`` (P.pipe's ``stage<k>``), ``consume``
    (``consume_<channel>``)."""
    check: Callable[[Any, Node], None] | None = None
    """Validation beyond the property types: ``check(checker, node)`` adds diagnostics through
    the checker (``app.model.validation``)."""
    prop_check: Callable[[dict[str, Any], str, Any], str | None] | None = None
    """A property check that needs the node's other properties: ``prop_check(props, name,
    value)`` gives the problem or None (a tensor's layout has one entry per dimension)."""
    prop_applies: Callable[[dict[str, Any], str], bool] | None = None
    """Whether a property means anything under the node's other properties (None: always)."""
    emit: Callable[[Emitter, Node, int, set[str]], None] | None = None
    """Write a node of this kind as a statement of a workload: ``emit(exporter, node, depth,
    names)`` writes its lines through the exporter (``app.model.export``: checked names,
    expressions and literals, the import list and the line map; ``exporter.body(node, depth +
    1)`` writes a frame's children in order). None: not a statement."""
    import_dsl: Callable[[Any, Node, Any, str, str], Node | None] | None = None
    """Make the node(s) for a DSL statement of this kind (``DSL_KINDS`` maps the statement's
    type to the kind): ``import_dsl(importer, frame, statement, here, where)`` adds them through
    the importer (``app.model.importer``: ``add``, ``wire``, ``statements`` for a body, the
    ``expr_text``/``index_text`` of a DSL expression, ``error`` for what has no node)."""
    import_root: Callable[[Any, Any, str], Node] | None = None
    """Make the root node for a DSL object a statement refers to (a tensor, an axis, a
    channel...; ``DSL_KINDS`` maps its type to the kind): ``import_root(importer, obj,
    where)``. The importer makes one node per object."""
    section: str = ""
    """The section of the exported script a top-level node of this kind is defined in
    (``export.SECTIONS``: data, scalars, axes, kernels, channels, workloads, processes,
    composition); "" = not a top-level definition."""
    emit_root: Callable[[Emitter, Node], None] | None = None
    """Write a root node of this kind as a top-level definition of the script (a tensor, an
    axis, a kernel, a workload, a connect's process...): ``emit_root(exporter, node)``."""
    frame_style: FrameLook | None = None
    """How the canvas draws a frame of this kind (None: the default look)."""

    def prop(self, name: str) -> PropSpec:
        for p in self.props:
            if p.name == name:
                return p
        raise KeyError(f"node kind {self.id!r} has no property {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {p.name: copy.deepcopy(p.default) for p in self.props}


def in_port(name: str, type_: str, multi: bool = False, optional: bool = False) -> PortSpec:
    return PortSpec(name, "in", type_, multi, optional)


def out_port(name: str, type_: str) -> PortSpec:
    return PortSpec(name, "out", type_)


def one_var(props: dict[str, Any]) -> list[str]:
    """The variable a P.seq/P.sel/consume frame binds (its ``var``), if set."""
    var = props.get("var")
    return [var] if isinstance(var, str) and var else []


def one_var_axis(props: dict[str, Any]) -> dict[str, Any]:
    """``var_axes`` of a P.seq/P.sel frame: its ``var`` runs over its ``axis`` (when both are
    set)."""
    var, axis = props.get("var"), props.get("axis")
    return {var: axis} if isinstance(var, str) and var and isinstance(axis, str) and axis else {}


def positive(prop: str, minimum: int = 1) -> Callable[[Any, Node], None]:
    """A ``check`` hook: property ``prop`` is at least ``minimum``."""

    def check(checker: Any, node: Node) -> None:
        checker.check_positive(node, prop, minimum)

    return check


ROOT = frozenset({"root"})
W = frozenset({"workload"})
K = frozenset({"kernel"})
