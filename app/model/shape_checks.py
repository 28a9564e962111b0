"""Live rank, shape and dtype checks of kernel calls: a view passed to a ``Tile[r, c, dtype]``.

A call node's argument is a tensor node (wired directly or through a ``data.get``) indexed by
the call's index expression for that parameter (``Q[b, h]``). Where the tensor's shape is in
the document and the index's effect on it is known statically, the view's shape is computed
here and judged by ``pto_wsp.shape_rule`` (``tile_shape_problem``, and
``tile_dtype_problem`` for the tensor's dtype), the same rule the DSL's
kernel-call check applies when the exported script runs, so the canvas badge and the script's
``TypeCheckError`` agree. Where the shape is not statically known, nothing is reported.

How an index shapes a view (numpy basic indexing, as ``pto_wsp.Tensor`` does it): an integer
or scalar expression (a loop variable, ``i + 1``) drops its dimension; a slice ``a:b:s`` keeps
it with length ``ceil((b - a) / s)`` when that is static (constant bounds, or bounds whose
symbolic parts cancel, as in ``i*T:(i+1)*T``); dimensions after the last index are kept whole.
"""

from __future__ import annotations

import ast
import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pto_wsp.shape_rule import format_shape, tile_dtype_problem, tile_shape_problem

from . import exprs, registry
from .document import Diagnostic, Document, Edge, Graph, Node

Affine = tuple[dict[str, int], int]
"""``({name: coefficient}, constant)``: an index bound as a linear form of loop variables."""
_Incoming = dict[tuple[str, str], list[Edge]]


def view_shape(tensor_shape: Sequence[int], index: str) -> tuple[int | None, ...] | None:
    """The shape of ``tensor[index]`` (``index`` as typed, ``""`` for the whole tensor).

    Extents that depend on run-time values are None; the result is None when the index does not
    parse or has more items than the tensor has dimensions (other checks report those).
    """
    return _view_shape(tensor_shape, _items(index) if index.strip() else ())


@functools.lru_cache(maxsize=4096)
def _items(index: str) -> tuple[ast.expr, ...] | None:
    """``exprs.index_items``, parsed once per distinct text (a document repeats its indices)."""
    return exprs.index_items(index)


def _view_shape(
    tensor_shape: Sequence[int], items: tuple[ast.expr, ...] | None
) -> tuple[int | None, ...] | None:
    shape = [int(d) for d in tensor_shape]
    if items is None or len(items) > len(shape):
        return None
    out: list[int | None] = []
    for item, dim in zip(items, shape, strict=False):
        if isinstance(item, ast.Slice):
            out.append(_slice_length(item, dim))
        # any other item is a single position: its dimension is dropped
    out.extend(shape[len(items) :])
    return tuple(out)


def _slice_length(s: ast.Slice, dim: int) -> int | None:
    step = _affine(s.step) if s.step is not None else ({}, 1)
    if step is None or step[0] or step[1] == 0:
        return None
    lower = _affine(s.lower) if s.lower is not None else None
    upper = _affine(s.upper) if s.upper is not None else None
    bounds_const = all(
        part is None or (b is not None and not b[0])
        for part, b in ((s.lower, lower), (s.upper, upper))
    )
    if bounds_const:  # Python's own clamping rules against the dimension
        start = lower[1] if lower is not None else None
        stop = upper[1] if upper is not None else None
        return len(range(*slice(start, stop, step[1]).indices(dim)))
    if lower is None or upper is None or step[1] < 0:
        return None
    coef = dict(upper[0])
    for name, c in lower[0].items():
        coef[name] = coef.get(name, 0) - c
    if any(coef.values()):
        return None  # the extent varies with a loop variable
    return max(0, math.ceil((upper[1] - lower[1]) / step[1]))


def _affine(node: ast.expr) -> Affine | None:
    """``node`` as a linear form over names with integer coefficients; None if it is not one."""
    if isinstance(node, ast.Constant):
        value = node.value
        return ({}, value) if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(node, ast.Name):
        return ({node.id: 1}, 0)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _affine(node.operand)
        if inner is None:
            return None
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return ({k: sign * v for k, v in inner[0].items()}, sign * inner[1])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
        a, b = _affine(node.left), _affine(node.right)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Mult):
            if a[0] and b[0]:
                return None  # a product of two variables is not linear
            (terms, _), k = (b, a[1]) if not a[0] else (a, b[1])
            return ({n: c * k for n, c in terms.items()}, a[1] * b[1])
        sign = 1 if isinstance(node.op, ast.Add) else -1
        terms = dict(a[0])
        for name, c in b[0].items():
            terms[name] = terms.get(name, 0) + sign * c
        return ({n: c for n, c in terms.items() if c}, a[1] + sign * b[1])
    return None


def call_problems(
    doc: Document, graph: Graph, call: Node, incoming: _Incoming | None = None
) -> list[Diagnostic]:
    """One diagnostic per tile parameter of ``call`` bound to a view of the wrong shape.

    ``incoming`` (``_incoming(graph)``) saves a scan of the graph's edges per port: with it, a
    document's checks cost one pass over its edges, however many calls it has."""
    if incoming is None:
        incoming = _incoming(graph)
    kern = _kernel_of(doc, graph, incoming.get((call.id, "kernel"), []))
    if kern is None:
        return []
    index = call.props.get("index")
    index = index if isinstance(index, dict) else {}
    out: list[Diagnostic] = []
    for q in (registry.normalize_param(p) for p in registry.kernel_params(kern)):
        if q["kind"] != "tile" or not _well_formed_tile(q):
            continue  # an unshaped or scalar parameter; a malformed one is reported elsewhere
        pname = q["name"]
        tensor = _tensor_argument(doc, graph, incoming.get((call.id, pname), []))
        text = index.get(pname) or ""
        if tensor is None or not isinstance(text, str):
            continue
        items = _items(text) if text.strip() else ()
        if items is None:
            continue  # a malformed index: the expression check reports it
        shape = _view_shape(tensor.props["shape"], items)
        tile = (q["rows"], q["cols"])
        dtype = tensor.props.get("dtype")
        if shape is not None and tile_shape_problem(tile, shape) is not None:
            what = f"shape {format_shape(shape)}"
        elif dtype in registry.DTYPES and tile_dtype_problem(q["dtype"], dtype) is not None:
            what = f"{dtype} elements"
        else:
            continue
        if text.strip():
            view = f"{tensor.name}[{exprs.render_index(text)}] is a view of"
        else:
            view = f"{tensor.name} (whole, no index) has"
        param = f"parameter {pname} of {kern.name} is Tile[{tile[0]}, {tile[1]}, {q['dtype']}]"
        message = f"{view} {what} but {param}"
        out.append(Diagnostic(call.id, f"props.index.{pname}", message))
    return out


def _incoming(graph: Graph) -> _Incoming:
    out: _Incoming = defaultdict(list)
    for e in graph.edges:
        out[(e.dst.node, e.dst.port)].append(e)
    return out


def _well_formed_tile(q: dict[str, Any]) -> bool:
    """Rows and cols positive ints and a known dtype (the params check names any fault)."""
    dims_ok = all(
        isinstance(q[d], int) and not isinstance(q[d], bool) and q[d] >= 1 for d in ("rows", "cols")
    )
    return dims_ok and q["dtype"] in registry.DTYPES


def _kernel_of(doc: Document, graph: Graph, edges: list[Edge]) -> Node | None:
    """``registry.resolve_kernel`` from the edges into the call's ``kernel`` port."""
    for e in edges:
        src = registry.source_node(e.src, graph, doc)
        if src is not None and src.kind == "kernel.def":
            return src
    return None


def _tensor_argument(doc: Document, graph: Graph, edges: list[Edge]) -> Node | None:
    """The tensor node the edges into one port bring, when its shape is a list of ints."""
    if len(edges) != 1:
        return None
    src = registry.source_node(edges[0].src, graph, doc)
    if src is None or src.kind != "data.tensor":
        return None
    shape = src.props.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        return None
    return src


def document_problems(doc: Document) -> list[Diagnostic]:
    """``call_problems`` of every kernel call of the document, kernel bodies and scopes too."""
    out: list[Diagnostic] = []
    incoming: dict[int, _Incoming] = {}
    for node, graph, _owner in doc.walk():
        if node.kind == "kernel.call":
            if id(graph) not in incoming:
                incoming[id(graph)] = _incoming(graph)
            out.extend(call_problems(doc, graph, node, incoming[id(graph)]))
    return out


__all__ = ["view_shape", "call_problems", "document_problems"]
