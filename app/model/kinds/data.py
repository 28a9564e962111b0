"""Data and axes: tensors, scalars and the iteration spaces loops run over (root nodes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import titles
from ..document import Node
from ._base import DTYPES, Emitter, NodeKind, PropSpec, in_port, out_port

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


def emit_data_tensor(x: Emitter, n: Node) -> None:
    p = n.props
    shape = x.shape_text(p["shape"])
    dtype = x.dtype_text(n, "props.dtype", p["dtype"])
    x.use("Tensor", "DType")
    init = p.get("init", "zeros")
    extra = ""
    if p.get("location", "Global") != "Global":
        x.use("Location")
        extra = f", location=Location.{x.choice(n, 'location', 'Global')}"
    layout = _tensor_layout(x, n)
    if layout:
        extra += f", layout={layout}"
    if init == "zeros":
        call = f"Tensor(shape={shape}, dtype={dtype}{extra}, name={x.q(n.name)})"
    else:
        x.use(x.tensor_init_module)
        if init == "random":
            data = f"init.random({shape}, {dtype}, seed={int(p.get('seed', 0))})"
        elif init == "range":
            data = f"init.arange({shape}, {dtype})"
        elif init == "npy":
            path = p.get("path", "")
            if not path:
                raise x.error(n.id, "props.path", "init=npy needs the path of a .npy file")
            data = f"init.npy({x.q(path)}, {dtype})"
            extra = f", shape={shape}" + extra
        else:
            raise x.error(n.id, "props.init", f"unknown init {init!r}")
        mem = _mem_layout(x, n)
        if mem:
            # a Tensor wraps its array without copying: lay the contents out as the
            # memory layout says first (arrange keeps the init recipe for import)
            data = f"{mem}.arrange({data})"
        call = f"Tensor({data}{extra}, name={x.q(n.name)})"
    x.assign(x.name(n), call, n.id)


def _tensor_layout(x: Emitter, n: Node) -> str:
    """``layout=`` text for a tensor: "" for the default (every dimension replicated).

    One sharded dimension reads best as ``TensorLayout.sharded(...)``; several as the
    explicit ``TensorLayout((TensorShard(0), TensorReplicate(), ...))``.
    """
    dist = list(n.props.get("layout") or [])
    mem = _mem_layout(x, n)
    mem_arg = f", mem={mem}" if mem else ""
    shape = n.props.get("shape") or []
    if not dist or all(d == "R" for d in dist):
        if not mem:
            return ""
        x.use("TensorLayout")
        return f"TensorLayout.default({len(shape)}{mem_arg})"
    if len(dist) != len(shape):
        raise x.error(
            n.id,
            "props.layout",
            f"{len(dist)} layout entries for a tensor of rank {len(shape)}",
        )
    x.use("TensorLayout")
    shards = [(i, d) for i, d in enumerate(dist) if d != "R"]
    if len(shards) == 1:
        dim, d = shards[0]
        return f"TensorLayout.sharded(dim={dim}, rank={len(dist)}, mesh_axis={int(d[1:])}{mem_arg})"
    text = x.dist_text(n, "layout", dist)
    return f"{text[:-1]}{mem_arg})" if mem else text


def _mem_layout(x: Emitter, n: Node) -> str:
    """``MemLayout.row_major(shape)`` / ``MemLayout.col_major(shape)`` for a tensor's ``mem``
    property; "" for the default (no memory layout: the array's own C order)."""
    if n.props.get("mem", "default") in (None, "", "default"):
        return ""
    mem = x.choice(n, "mem", "default")
    x.use("MemLayout")
    return f"MemLayout.{mem}({x.shape_text(n.props.get('shape') or [])})"


def emit_data_scalar(x: Emitter, n: Node) -> None:
    value = n.props.get("value", 0)
    if n.props.get("dtype", "i64") != "bool" and isinstance(value, bool):
        value = int(value)
    x.line(f"{x.name(n)} = {x.lit(n, 'props.value', value)}", n.id)


def _int_size(n: Node) -> int | None:
    size = n.props.get("size")
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None


def dense_size(n: Node, is_wired: Callable[[str], bool]) -> int | None:
    """``static_size`` of ``Dense[size]``: its size."""
    return _int_size(n)


def dense_dyn_size(n: Node, is_wired: Callable[[str], bool]) -> int | None:
    """``static_size`` of ``DenseDyn(size)``: its size property, unless the size input is wired
    (then the size is a value the run supplies)."""
    return None if is_wired("size") else _int_size(n)


def emit_axis_dense(x: Emitter, n: Node) -> None:
    x.use("Dense")
    x.line(f"{x.name(n)} = Dense[{int(n.props['size'])}]", n.id)


def emit_axis_dense_dyn(x: Emitter, n: Node) -> None:
    x.use("DenseDyn")
    src = x.optional_src(n, "size")
    size = x.name(src) if src is not None else str(int(n.props["size"]))
    x.line(f"{x.name(n)} = DenseDyn({size})", n.id)


def emit_axis_ragged(x: Emitter, n: Node) -> None:
    x.use("Ragged")
    lengths = x.one_src(n, "lengths")
    x.line(f"{x.name(n)} = Ragged({int(n.props['outer_size'])}, {x.name(lengths)})", n.id)


def emit_axis_sparse(x: Emitter, n: Node) -> None:
    x.use("Sparse")
    indptr = x.one_src(n, "indptr")
    indices = x.one_src(n, "indices")
    x.line(
        f"{x.name(n)} = Sparse({int(n.props['outer_size'])}, {x.name(indptr)}, {x.name(indices)})",
        n.id,
    )


def import_tensor(im: Any, root: Any, where: str) -> Node:
    """A root ``Tensor``: shape, dtype, location, layouts, and its contents as an init recipe
    (contents computed by the script become seeded random data, with a note)."""
    import numpy as np

    from pto_wsp.language.tensor_init import recipe_of

    props: dict[str, Any] = {
        "shape": [int(d) for d in root.shape],
        "dtype": root.dtype.value,
        "location": root.location.name,
    }
    recipe = recipe_of(root.data)
    data = root.data
    if recipe is not None and recipe["init"] in ("zeros", "random", "range", "npy"):
        props["init"] = recipe["init"]
        if recipe["init"] == "random":
            props["seed"] = int(recipe["seed"])
        if recipe["init"] == "npy":
            props["path"] = recipe["path"]
    elif not np.any(data):
        props["init"] = "zeros"
    elif np.array_equal(data, np.arange(data.size).reshape(data.shape)):
        props["init"] = "range"
    else:
        # contents made by arbitrary code cannot be recreated from a graph property: the
        # graph keeps shape and dtype and uses seeded random data instead (reported)
        props["init"] = "random"
        im.notes.append(
            f"tensor {im.name_for_preview(root)}: its contents were computed by the script; "
            "the imported tensor uses seeded random data of the same shape"
        )
    if not props["shape"]:
        raise im.error(f"tensor {getattr(root, 'name', None) or '?'}: 0-d tensors are not graph nodes")  # fmt: skip
    where = f"tensor {im.name_for_preview(root)}"
    props["mem"] = im.mem_of(root.layout, props["shape"], where)
    props["layout"] = im.dist_of(root.layout, where, mem_ok=True)
    if all(d == "R" for d in props["layout"]):
        props["layout"] = []  # the default layout: the exporter writes no layout=
    return im.add(TENSOR, im.name_for(root, "tensor"), **props)


def import_dense(im: Any, ax: Any, where: str) -> Node:
    return im.add(DSL_KINDS["Dense"], im.name_for(ax, "axis"), size=int(ax.size))


def import_dense_dyn(im: Any, ax: Any, where: str) -> Node:
    if not isinstance(ax.size, int):
        raise im.error(
            f"{where}: DenseDyn({ax.size}) has a run-time size expression; graph DenseDyn axes "
            "take an int size"
        )
    return im.add(DSL_KINDS["DenseDyn"], im.name_for(ax, "axis"), size=int(ax.size))


def import_ragged(im: Any, ax: Any, where: str) -> Node:
    lengths = im.tensor(ax.lengths_tensor)
    node = im.add(DSL_KINDS["Ragged"], im.name_for(ax, "axis"), outer_size=ax.outer_size)
    im.wire(lengths, "tensor", node, "lengths")
    return node


def import_sparse(im: Any, ax: Any, where: str) -> Node:
    indptr = im.tensor(ax.indptr_tensor)
    indices = im.tensor(ax.indices_tensor)
    node = im.add(DSL_KINDS["Sparse"], im.name_for(ax, "routing"), outer_size=ax.outer_size)
    im.wire(indptr, "tensor", node, "indptr")
    im.wire(indices, "tensor", node, "indices")
    return node


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
        emit_root=emit_data_tensor,
        import_root=import_tensor,
        section="data",
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
        emit_root=emit_data_scalar,
        section="scalars",
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
        emit_root=emit_axis_dense,
        static_size=dense_size,
        import_root=import_dense,
        section="axes",
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
        emit_root=emit_axis_dense_dyn,
        static_size=dense_dyn_size,
        import_root=import_dense_dyn,
        section="axes",
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
        emit_root=emit_axis_ragged,
        import_root=import_ragged,
        section="axes",
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
        emit_root=emit_axis_sparse,
        import_root=import_sparse,
        section="axes",
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
"""DSL object type -> the kind Import Python makes of it (``catalogue.dsl_kind``)."""
