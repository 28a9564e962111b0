"""Data and axes: tensors, scalars and the iteration spaces loops run over (root nodes)."""

from __future__ import annotations

from typing import Any

from .. import titles
from ..document import Node
from ._base import DTYPES, NodeKind, PropSpec, in_port, out_port

_in, _out = in_port, out_port
TENSOR = "data.tensor"
SCALAR = "data.scalar"


def check_tensor(c: Any, node: Node) -> None:
    if node.props.get("init") == "npy" and not str(node.props.get("path") or "").strip():
        c.add(node.id, "props.path", "init=npy needs the path of a .npy file")


def tensor_prop_check(props: dict[str, Any], name: str, value: Any) -> str | None:
    """A tensor's layout has one entry per dimension of its shape (or none: the default)."""
    if name == "layout" and value:
        shape = props.get("shape")
        if isinstance(shape, list) and len(value) != len(shape):
            return (
                f"the layout has {len(value)} entries but the tensor has rank {len(shape)} "
                f"(shape {shape}); give one R or S<i> per dimension"
            )
    return None


KINDS = [
    NodeKind(
        TENSOR,
        "Tensor",
        "Data",
        [_out("tensor", "tensor"), _in("write", "tensor", multi=True, optional=True)],
        [
            PropSpec("shape", "shape", [16, 16], doc="dimensions, outermost first"),
            PropSpec("dtype", "dtype", "f32", DTYPES),
            PropSpec("location", "enum", "Global", ("Global", "L2", "UB", "L1")),
            PropSpec(
                "layout",
                "dist",
                [],
                doc="distribution per dimension over the mesh: R (replicated) or S<i> (sharded "
                "on mesh axis i); empty = every dimension replicated (the default layout)",
                optional=True,
            ),
            PropSpec(
                "mem",
                "enum",
                "default",
                ("default", "row_major", "col_major"),
                doc="memory layout: default (no MemLayout, C order), row_major or col_major "
                "(MemLayout.row_major/col_major(shape): the array is allocated in that order)",
            ),
            PropSpec(
                "init",
                "enum",
                "zeros",
                ("zeros", "random", "range", "npy"),
                doc="initial contents: zeros, uniform random (seeded), 0..n-1, or an .npy file",
            ),
            PropSpec("seed", "int", 0, doc="seed for init=random"),
            PropSpec("path", "str", "", doc=".npy file for init=npy"),
        ],
        name_base="tensor",
        summary=titles.tensor,
        data="tensor",
        check=check_tensor,
        prop_check=tensor_prop_check,
        doc="A tensor backed by a numpy array. Wire it into call ports; wire call outputs into "
        "its write port.",
    ),
    NodeKind(
        SCALAR,
        "Scalar",
        "Data",
        [_out("scalar", "scalar")],
        [PropSpec("dtype", "dtype", "i64", DTYPES), PropSpec("value", "number", 0)],
        name_base="n",
        summary=titles.scalar,
        data="scalar",
        doc="A named Python number (sizes, counts).",
    ),
    NodeKind(
        "axis.dense",
        "Dense axis",
        "Axes",
        [],
        [PropSpec("size", "int", 8)],
        name_base="axis",
        summary=titles.axis,
        doc="Dense[size]: a static iteration space.",
    ),
    NodeKind(
        "axis.dense_dyn",
        "DenseDyn axis",
        "Axes",
        [_in("size", "scalar", optional=True)],
        [PropSpec("size", "int", 4, doc="used when the size input is not connected")],
        name_base="axis",
        summary=titles.axis,
        doc="DenseDyn(size): a size known at run time.",
    ),
    NodeKind(
        "axis.ragged",
        "Ragged axis",
        "Axes",
        [_in("lengths", "tensor")],
        [PropSpec("outer_size", "int", 4)],
        name_base="axis",
        summary=titles.axis,
        doc="Ragged(outer_size, lengths): per-row lengths.",
    ),
    NodeKind(
        "axis.sparse",
        "Sparse axis",
        "Axes",
        [_in("indptr", "tensor"), _in("indices", "tensor")],
        [PropSpec("outer_size", "int", 4)],
        name_base="routing",
        summary=titles.axis,
        doc="Sparse(outer_size, indptr, indices): CSR selection (MoE routing).",
    ),
]

DSL_KINDS = {
    "Tensor": TENSOR,
    "Dense": "axis.dense",
    "DenseDyn": "axis.dense_dyn",
    "Ragged": "axis.ragged",
    "Sparse": "axis.sparse",
}
"""DSL object type -> the kind Import Python makes of it (``registry.dsl_kind``)."""
