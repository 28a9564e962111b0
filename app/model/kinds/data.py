"""Data and axes: tensors, scalars and the iteration spaces loops run over (root nodes)."""

from __future__ import annotations

from .. import titles
from ._base import DTYPES, NodeKind, PropSpec, in_port, out_port

_in, _out = in_port, out_port

KINDS = [
    NodeKind(
        "data.tensor",
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
        doc="A tensor backed by a numpy array. Wire it into call ports; wire call outputs into "
        "its write port.",
    ),
    NodeKind(
        "data.scalar",
        "Scalar",
        "Data",
        [_out("scalar", "scalar")],
        [PropSpec("dtype", "dtype", "i64", DTYPES), PropSpec("value", "number", 0)],
        name_base="n",
        summary=titles.scalar,
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
