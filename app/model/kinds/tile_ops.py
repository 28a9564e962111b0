"""Tile ops (spec §6.1): the ``pto.*`` nodes of a kernel body, unchanged from format v1.

One node kind per row of the op table (``pto_wsp/language/op_table.py``), in its order: the
row's operands are the node's input ports (a trailing ``?`` makes one optional), its attributes
the node's properties, its category the palette category. Nothing here lists op names.
"""

from __future__ import annotations

from pto_wsp.language import op_table

from ._base import DTYPES, K, NodeKind, PortSpec, PropSpec, in_port, out_port

KINDS: list[NodeKind] = []

TILE_OUT = out_port("result", "tile")


def _attr_prop(attr: str) -> PropSpec:
    """The property of an op attribute (an op table ``attrs`` entry); a fresh one per kind."""
    return {
        "shape": lambda: PropSpec("shape", "shape", [16, 16]),
        "value": lambda: PropSpec("value", "number", 0.0),
        "dtype": lambda: PropSpec("dtype", "dtype", "f32", DTYPES),
        "cols": lambda: PropSpec("cols", "int", 32, doc="columns of the index row"),
        "k": lambda: PropSpec("k", "int", 8, doc="pairs whose indices are taken"),
    }[attr]()


INT_ATTRS = ("cols", "k")
"""Op attributes that are a positive int (written as ``pto.<op>(..., <int>)``)."""


def _signature(op: op_table.OpSpec) -> str:
    """``pto.matmul(a, b, acc=None)``: the node's doc line."""
    args = [f"{o[:-1]}=None" if o.endswith("?") else o for o in op.operands]
    alias = f" (alias of {op.alias_of})" if op.alias_of else ""
    return f"pto.{op.name}({', '.join([*args, *op.attrs])}){alias}"


def _kind(op: op_table.OpSpec) -> NodeKind:
    ports: list[PortSpec] = [
        in_port(o.rstrip("?"), "tile", optional=o.endswith("?")) for o in op.operands
    ]
    if op.has_result:
        ports.append(TILE_OUT)
    props = [_attr_prop(a) for a in op.attrs]
    kind_id = f"pto.{op.name}"
    return NodeKind(
        kind_id, kind_id, op.category, ports, props, allowed_in=K, name_base="v", doc=_signature(op)
    )


KINDS.extend(_kind(op) for op in op_table.OPS)

UNARY_OPS = tuple(op.name for op in op_table.OPS if op.operands == ("x",) and not op.attrs)
"""Ops whose node takes one tile ``x`` (elementwise, reductions, slices)."""
BINARY_OPS = tuple(op.name for op in op_table.OPS if op.operands == ("a", "b"))
"""Ops whose node takes tiles ``a`` and ``b`` (aliases included)."""
VECTOR_OPS = tuple(op.name for op in op_table.OPS if op.rule in ("row_vec", "col_vec"))
"""Ops whose node takes a ``tile`` and a row or column ``vec``."""
TILE_OPS = tuple(k.id[4:] for k in KINDS)
DSL_KINDS = {f"TileOp.{op}": f"pto.{op}" for op in TILE_OPS}
"""A kernel body's tile op (by its ``op``) -> its kind (``registry.dsl_kind``)."""
