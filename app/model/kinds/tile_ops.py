"""Tile ops (spec §6.1): the ``pto.*`` nodes of a kernel body, unchanged from format v1."""

from __future__ import annotations

from ._base import DTYPES, K, NodeKind, PortSpec, PropSpec, in_port, out_port

_in, _out = in_port, out_port
KINDS: list[NodeKind] = []

# -- tile ops (spec §6.1) ----------------------------------------------------------------------
UNARY_OPS = (
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "tanh",
    "sigmoid",
    "sin",
    "cos",
    "relu",
    "gelu",
    "silu",
    "neg",
    "abs",
    "rowsum",
    "rowmax",
    "rowmean",
    "colsum",
    "colmax",
    "slice_even",
    "slice_odd",
)
BINARY_OPS = ("add", "sub", "mul", "div", "maximum", "minimum", "max", "min", "interleave")
VECTOR_OPS = ("rowmul", "rowadd", "colmul", "coladd")
TILE_OUT = _out("result", "tile")


def _op(op: str, ports: list[PortSpec], props: list[PropSpec], doc: str) -> None:
    KINDS.append(
        NodeKind(
            f"pto.{op}", f"pto.{op}", "Tile ops", ports, props, allowed_in=K, name_base="v", doc=doc
        )  # fmt: skip
    )


for _name in UNARY_OPS:
    _op(_name, [_in("x", "tile"), TILE_OUT], [], f"pto.{_name}(x)")
for _name in BINARY_OPS:
    alias = {"max": " (alias of maximum)", "min": " (alias of minimum)"}.get(_name, "")
    _op(_name, [_in("a", "tile"), _in("b", "tile"), TILE_OUT], [], f"pto.{_name}(a, b){alias}")
for _name in VECTOR_OPS:
    _op(_name, [_in("tile", "tile"), _in("vec", "tile"), TILE_OUT], [], f"pto.{_name}(tile, vec)")
_op(
    "matmul",
    [_in("a", "tile"), _in("b", "tile"), _in("acc", "tile", optional=True), TILE_OUT],
    [],
    "pto.matmul(a, b, acc=None)",
)
_op("broadcast", [_in("x", "tile"), TILE_OUT], [PropSpec("shape", "shape", [16, 16])], "pto.broadcast(x, shape)")  # fmt: skip
_op(
    "constant",
    [TILE_OUT],
    [PropSpec("value", "number", 0.0), PropSpec("dtype", "dtype", "f32", DTYPES)],
    "pto.constant(value, dtype)",
)
_op("load", [_in("src", "tile"), TILE_OUT], [], "pto.load(src)")
_op("store", [_in("dst", "tile"), _in("value", "tile")], [], "pto.store(dst, value)")
_op(
    "alloc",
    [TILE_OUT],
    [PropSpec("shape", "shape", [16, 16]), PropSpec("dtype", "dtype", "f32", DTYPES)],
    "pto.alloc(shape, dtype)",
)
TILE_OPS = tuple(k.id[4:] for k in KINDS)
DSL_KINDS = {f"TileOp.{op}": f"pto.{op}" for op in TILE_OPS}
"""A kernel body's tile op (by its ``op``) -> its kind (``registry.dsl_kind``)."""
