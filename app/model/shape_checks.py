"""Live rank, shape and dtype checks of kernel calls: a view passed to a ``Tile[r, c, dtype]``.

A call's argument for a parameter is the tensor node wired to its port (into an In/InOut port,
or from an Out port to the tensor it writes), indexed by the port's effective index
(``indexing.effective_index``: ``props.index[param]`` when set, else the auto index from the
loop frames around the call). Where the tensor's shape is in the document and the index's effect
on it is known statically, the view's shape is computed here and judged by
``pto_wsp.language.shape_rule`` (``tile_shape_problem``, and ``tile_dtype_problem`` for the tensor's
dtype), the same rule the DSL's kernel-call check applies when the exported script runs, so the
canvas badge and the script's ``TypeCheckError`` agree. Where the shape is not statically known,
nothing is reported.

How an index shapes a view (numpy basic indexing, as ``pto_wsp.Tensor`` does it): an integer
or scalar expression (a loop variable, ``i + 1``) drops its dimension; a slice ``a:b:s`` keeps
it with length ``ceil((b - a) / s)`` when that is static (constant bounds, or bounds whose
symbolic parts cancel, as in ``i*T:(i+1)*T``); dimensions after the last index are kept whole.

A tile parameter whose own shape is no tile (more than two dimensions once leading 1s are
dropped: ``shape_rule.tile_rank_problem``, the IR verifier's rule and words) is reported on its
kernel, at the parameter's ``shape`` field; calls are not judged against it (the C++ emitters
leave it to the kernel's error too).

Before the view is judged, each index item that is a bare loop variable over an axis whose
size the document fixes (``Dense[4]``, an unwired ``DenseDyn(4)``: ``NodeKind.static_size``)
must not run past the dimension it indexes (``pto_wsp.language.shape_rule.loop_bound_problem``, the
rule behind the DSL's ``TensorIndexError``), for every tensor parameter, shaped or not. An item
of any other form (``i + 1``, ``i*T:(i+1)*T``) is left to the run.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Sequence
from typing import Any

from pto_wsp.language import affine
from pto_wsp.language.shape_rule import (
    format_shape,
    loop_bound_problem,
    tile_dtype_problem,
    tile_rank_problem,
    tile_shape_problem,
)

from . import exprs, frames, indexing, kind_lookup
from .document import Diagnostic, Document, Node
from .kinds._base import DTYPES

Affine = affine.Affine
"""``({name: coefficient}, constant)``: an index bound as a linear form of loop variables."""


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
    if step[1] < 0:
        return None
    diff = affine.constant_difference(upper, lower)  # None: it varies with a loop variable
    return None if diff is None else max(0, math.ceil(diff / step[1]))


def _affine(node: ast.expr) -> Affine | None:
    """``node`` as a linear form over names with integer coefficients; None if it is not one.
    The algebra is ``pto_wsp.language.affine``'s, the one the DSL's tracing uses."""
    if isinstance(node, ast.Constant):
        value = node.value
        return (
            affine.constant(value)
            if isinstance(value, int) and not isinstance(value, bool)
            else None
        )
    if isinstance(node, ast.Name):
        return affine.variable(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _affine(node.operand)
        return affine.negate(inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
        op = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul"}[type(node.op)]
        return affine.combine(op, _affine(node.left), _affine(node.right))
    return None


def call_problems(
    doc: Document, call: Node, wires: indexing.Wires | None = None
) -> list[Diagnostic]:
    """One diagnostic per parameter of ``call`` whose wired tensor, indexed by the effective
    index (``indexing.effective_index``: the override, else the auto index), has more index
    items than dimensions or a loop variable running past its dimension, or (tile parameters)
    is a view the parameter refuses by ``pto_wsp.language.shape_rule``. The field is ``props.index.<param>`` (the port's index).

    ``wires`` (``indexing.Wires(doc)``) saves a scan of the edges per port: with it, a
    document's checks cost one pass over its edges, however many calls it has."""
    kern = indexing.kernel_of(doc, call)
    if kern is None:
        return []
    if wires is None:
        wires = indexing.Wires(doc)
    out: list[Diagnostic] = []
    for param in indexing.params_of(kern):
        message = _param_problem(doc, call, kern, param, wires)
        if message is not None:
            out.append(Diagnostic(call.id, f"props.index.{param['name']}", message))
    return out


def _param_problem(
    doc: Document, call: Node, kern: Node, param: dict[str, Any], wires: indexing.Wires
) -> str | None:
    pname = param["name"]
    tensor = _tensor_argument(indexing.wired_node(doc, call, pname, wires))
    if tensor is None:
        return None
    override = indexing.index_override(call, pname)
    text = override if override is not None else indexing.auto_index(doc, call, pname, wires)
    items = _items(text) if text.strip() else ()
    if items is None:
        return None  # a malformed index: the expression check reports it
    shape = tensor.props["shape"]
    if len(items) > len(shape):
        return (
            f"{_view_text(tensor, text)} indexes {len(items)} dimensions but {tensor.name} has "
            f"{len(shape)} (shape {format_shape(shape)})"
        )
    bound = _loop_bound_problem(doc, call, tensor, items, wires)
    if bound is not None:
        return bound  # the DSL raises this while indexing, before it looks at the parameter
    if param.get("kind", "tensor") != "tile":
        return None  # an unshaped In[Tensor] takes any view (the DSL does not check it either)
    got = _view_shape(shape, items)
    assert got is not None  # items parsed and fit the rank
    tile = indexing.tile_shape(param)
    dtype = param.get("dtype", "f32")
    if tile is None or dtype not in DTYPES:
        return None  # a malformed parameter: the params check names it
    if tile_rank_problem(tile) is not None:
        return None  # no tile: reported on the kernel (kernel_problems)
    tensor_dtype = tensor.props.get("dtype")
    if tile_shape_problem(tile, got) is not None:
        what = f"shape {format_shape(got)}"
    elif tensor_dtype in DTYPES and tile_dtype_problem(dtype, tensor_dtype):
        what = f"{tensor_dtype} elements"
    else:
        return None
    want = f"Tile[{', '.join(str(d) for d in tile)}, {dtype}]"
    verb = "is a view of" if text.strip() else "has"
    message = f"{_view_text(tensor, text)} {verb} {what} but parameter {pname} of {kern.name} is {want}"  # fmt: skip
    if override is None and what.startswith("shape"):
        hint = indexing.auto_index_problem(doc, call, pname, wires)
        if hint is not None:
            message += f" ({hint})"
    return message


def _loop_bound_problem(
    doc: Document, call: Node, tensor: Node, items: tuple[ast.expr, ...], wires: indexing.Wires
) -> str | None:
    """``pto_wsp.language.shape_rule.loop_bound_problem`` for each index item that is a bare loop
    variable over an axis of static size (``NodeKind.static_size``): the run's
    ``TensorIndexError``, said while editing. Item ``d`` indexes dimension ``d`` (an index has
    no ``...``); the first problem is reported, as the DSL raises the first."""
    shape = tensor.props["shape"]
    label = f"tensor '{tensor.name}'" if tensor.name else "the wired tensor"
    for d, item in enumerate(items):
        if not isinstance(item, ast.Name):
            continue
        axis = frames.loop_axis(doc, call.id, item.id)
        size_of = kind_lookup.kind_of(axis).static_size if axis is not None else None
        if axis is None or size_of is None:
            continue
        size = size_of(axis, functools.partial(_is_wired, wires, axis.id))
        problem = loop_bound_problem(item.id, size, axis.name or axis.id, d, label, shape[d])
        if problem is not None:
            return problem
    return None


def _is_wired(wires: indexing.Wires, node_id: str, port: str) -> bool:
    return bool(wires.into.get((node_id, port)))


def _view_text(tensor: Node, text: str) -> str:
    """``Q[b, h]`` for an index, ``Q (whole, no index)`` for none."""
    if text.strip():
        return f"{tensor.name}[{exprs.render_index(text)}]"
    return f"{tensor.name} (whole, no index)"


def _tensor_argument(src: Node | None) -> Node | None:
    """The tensor node wired to a port, when its shape is a list of ints."""
    if src is None or kind_lookup.kind_of(src).data != "tensor":
        return None
    shape = src.props.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        return None
    return src


def kernel_problems(kern: Node) -> list[Diagnostic]:
    """One diagnostic per tile parameter of kernel ``kern`` whose shape is no tile, at the
    parameter's ``shape`` field, in the IR verifier's words: ``parameter 'Q' is a tile of shape
    [8, 16, 16]; a tile has at most 2 dimensions once leading 1s are dropped``."""
    params = kern.props.get("params")
    if not isinstance(params, list):
        return []
    out: list[Diagnostic] = []
    for i, param in enumerate(params):
        if not isinstance(param, dict) or not isinstance(param.get("name"), str):
            continue
        tile = indexing.tile_shape(param)
        problem = tile_rank_problem(tile) if tile is not None else None
        if problem is not None:
            message = f"parameter {param['name']!r} {problem}"
            out.append(Diagnostic(kern.id, f"props.params[{i}].shape", message))
    return out


def document_problems(doc: Document) -> list[Diagnostic]:
    """``call_problems`` of every kernel call and ``kernel_problems`` of every kernel of the
    document (one pass over its edges)."""
    wires = indexing.Wires(doc)
    out: list[Diagnostic] = []
    for node in doc.graph.nodes.values():
        kind = kind_lookup.kind_of(node)
        if kind.calls_kernel:
            out.extend(call_problems(doc, node, wires))
        if kind.defines_kernel:
            out.extend(kernel_problems(node))
    return out


__all__ = ["view_shape", "call_problems", "kernel_problems", "document_problems"]
