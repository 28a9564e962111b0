"""Auto-indexing of kernel-call ports (docs/graph-model.md, "Kernel calls and auto-indexing").

A tensor wired into a call's input port (or from its output port) is indexed by the loop
variables of the frames around the call, outermost first, as many as the tensor's rank minus
the parameter's tile rank: rank-4 ``Q`` into a ``Tile[16, 16]`` port inside ``P(b, h)`` is
``Q[b, h]``. ``call.props["index"][param]`` overrides that with any index text the DSL accepts
(``""`` meaning the whole tensor). The view this gives is judged by ``pto_wsp.language.shape_rule`` in
``app.model.shape_checks``; this module only decides the index text.

Qt-free and light: it reads the document, ``app.model.frames`` (the enclosing loops) and one
kind at a time (``kind_lookup``), never the kind catalogue, so the kinds' title and emit
functions can use it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from . import frames
from .document import Document, Edge, Node
from .kind_lookup import kind_of

TILE_RANK_DEFAULT = 2
"""The rank of ``Tile[r, c]`` and of an unshaped ``In[Tensor]`` parameter."""


class Wires:
    """The document's edges indexed by port, built once (a document check asks per port).

    ``into[(node, port)]`` and ``out_of[(node, port)]`` list edges in document order.
    """

    def __init__(self, doc: Document):
        self.into: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        self.out_of: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for e in doc.graph.edges:
            self.into[(e.dst.node, e.dst.port)].append(e)
            self.out_of[(e.src.node, e.src.port)].append(e)


# ------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------
def tile_rank(param: dict[str, Any]) -> int:
    """Dimensions a parameter takes whole: the length of a tile's shape (2 for ``Tile[r, c]``),
    2 for an unshaped tensor parameter, 0 for a scalar."""
    kind = param.get("kind", "tensor")
    if kind == "scalar":
        return 0
    if kind == "tile":
        shape = param.get("shape")
        if isinstance(shape, (list, tuple)):
            return len(shape)
    return TILE_RANK_DEFAULT


def tile_shape(param: dict[str, Any]) -> tuple[int, ...] | None:
    """A tile parameter's shape (``shape`` if given, else ``rows, cols``); None for other kinds
    or a malformed shape (the params check reports that)."""
    if param.get("kind", "tensor") != "tile":
        return None
    shape = param.get("shape")
    if shape is None:
        shape = [param.get("rows", 16), param.get("cols", 16)]
    if not isinstance(shape, (list, tuple)) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape
    ):
        return None
    return tuple(shape)


def kernel_of(doc: Document, call: Node) -> Node | None:
    """The ``kernel.def`` node a call's ``kernel`` property names (None when it names none)."""
    ref = call.props.get("kernel")
    kern = doc.graph.nodes.get(ref) if isinstance(ref, str) else None
    return kern if kern is not None and kind_of(kern).defines_kernel else None


def params_of(kern: Node) -> list[dict[str, Any]]:
    """The well-formed entries of a kernel's ``params`` (a dict with a string name)."""
    params = kern.props.get("params", [])
    if not isinstance(params, list):
        return []
    return [p for p in params if isinstance(p, dict) and isinstance(p.get("name"), str)]


def param_of(doc: Document, call: Node, param_name: str) -> dict[str, Any] | None:
    """The parameter ``param_name`` of the call's kernel, or None."""
    kern = kernel_of(doc, call)
    if kern is None:
        return None
    for p in params_of(kern):
        if p["name"] == param_name:
            return p
    return None


# ------------------------------------------------------------------------------------------
# what is wired to a port
# ------------------------------------------------------------------------------------------
def wired_node(
    doc: Document, call: Node, param_name: str, wires: Wires | None = None
) -> Node | None:
    """The data node wired to the call's parameter: the source of the wire into its input port
    (In, InOut), else the target of the wire from its output port (Out); None when unwired or
    wired more than once (validation reports that)."""
    nodes = doc.graph.nodes
    if wires is not None:
        into = wires.into.get((call.id, param_name), [])
        out = wires.out_of.get((call.id, param_name), [])
    else:
        into = [e for e in doc.graph.edges if e.dst.node == call.id and e.dst.port == param_name]
        out = [e for e in doc.graph.edges if e.src.node == call.id and e.src.port == param_name]
    if len(into) == 1:
        return nodes.get(into[0].src.node)
    if not into and len(out) == 1:
        return nodes.get(out[0].dst.node)
    return None


def data_rank(doc: Document, node: Node | None, wires: Wires | None = None) -> int | None:
    """The rank of the data a node carries: a tensor's ``len(shape)``, 0 for a scalar, the rank
    of a collective's input for a collective; None when not known."""
    seen: set[str] = set()
    while node is not None and node.id not in seen:
        seen.add(node.id)
        kind = kind_of(node)
        if kind.data == "tensor":
            shape = node.props.get("shape")
            return len(shape) if isinstance(shape, list) else None
        if kind.data == "scalar":
            return 0
        if not kind.collective:  # a collective keeps its input's rank
            return None
        if wires is not None:
            edges = wires.into.get((node.id, "tensor"), [])
        else:
            edges = [e for e in doc.graph.edges if e.dst.node == node.id and e.dst.port == "tensor"]
        node = doc.graph.nodes.get(edges[0].src.node) if len(edges) == 1 else None
    return None


# ------------------------------------------------------------------------------------------
# the index
# ------------------------------------------------------------------------------------------
def enclosing_vars(doc: Document, node: Node) -> list[str]:
    """Loop variables of the frames around ``node``, outermost first (``frames.loop_vars``)."""
    return list(frames.loop_vars(doc, node.id))


def auto_dims(doc: Document, call: Node, param_name: str, wires: Wires | None = None) -> int:
    """How many leading dimensions the auto rule must index: the wired tensor's rank minus the
    parameter's tile rank (0 when unwired, of unknown rank or no more than a tile)."""
    param = param_of(doc, call, param_name)
    rank = data_rank(doc, wired_node(doc, call, param_name, wires), wires)
    if param is None or rank is None:
        return 0
    return max(0, rank - tile_rank(param))


def auto_index(doc: Document, call: Node, param_name: str, wires: Wires | None = None) -> str:
    """The index the auto rule gives the tensor wired to ``param_name``: the enclosing loop
    variables, outermost first, as many as its rank minus the tile rank (``"b, h"``); ``""``
    when none. With fewer loop variables than dimensions to index it uses all there are (and
    :func:`auto_index_problem` says so)."""
    dims = auto_dims(doc, call, param_name, wires)
    if dims == 0:
        return ""
    return ", ".join(enclosing_vars(doc, call)[:dims])


def auto_index_problem(
    doc: Document, call: Node, param_name: str, wires: Wires | None = None
) -> str | None:
    """Why the auto rule cannot index ``param_name`` (more dimensions to index than loop
    variables around the call); None when it can. Only meaningful without an override."""
    dims = auto_dims(doc, call, param_name, wires)
    if dims == 0:
        return None
    found = enclosing_vars(doc, call)
    if dims <= len(found):
        return None
    tensor = wired_node(doc, call, param_name, wires)
    name = tensor.name if tensor is not None and tensor.name else "the wired tensor"
    have = f"loop variables {', '.join(found)}" if found else "no loop variables"
    return (
        f"{name} needs {dims} {'indices' if dims != 1 else 'index'} to reach the tile of parameter "
        f"{param_name}, but the call has {have} around it: put it in a loop over the missing "
        f"dimension{'s' if dims - len(found) != 1 else ''} or type the index"
    )


def index_override(call: Node, param_name: str) -> str | None:
    """``call.props["index"][param_name]`` when the call sets it (a string), else None."""
    index = call.props.get("index")
    if isinstance(index, dict):
        text = index.get(param_name)
        if isinstance(text, str):
            return text
    return None


def effective_index(doc: Document, call: Node, param_name: str, wires: Wires | None = None) -> str:
    """The index the call uses for ``param_name``: its override when set, else the auto index."""
    override = index_override(call, param_name)
    if override is not None:
        return override
    return auto_index(doc, call, param_name, wires)


def is_auto(call: Node, param_name: str) -> bool:
    """Whether ``param_name``'s index comes from the auto rule (no override)."""
    return index_override(call, param_name) is None


def call_axes(doc: Document, call: Node) -> str:
    """The call's task axes text: ``props.axes`` when it is a string, else the enclosing loop
    variables, outermost first (``"b, h"``)."""
    axes = call.props.get("axes")
    if isinstance(axes, str):
        return axes
    return ", ".join(enclosing_vars(doc, call))


__all__ = [
    "TILE_RANK_DEFAULT",
    "Wires",
    "tile_rank",
    "tile_shape",
    "kernel_of",
    "params_of",
    "param_of",
    "wired_node",
    "data_rank",
    "enclosing_vars",
    "auto_dims",
    "auto_index",
    "auto_index_problem",
    "index_override",
    "effective_index",
    "is_auto",
    "call_axes",
]
