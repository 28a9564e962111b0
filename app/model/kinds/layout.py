"""Layout collectives (spec §5): a workload statement taking a tensor and giving a new one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pto_wsp.language.collectives import REDUCE_OPS

from .. import titles
from ..document import Node
from ._base import NodeKind, PropSpec, W, in_port, out_port, positive

_in, _out = in_port, out_port
KINDS: list[NodeKind] = []


def _import(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    """A ``CollectiveOp``: its node, the tensor wired in (the importer's ``collective``)."""
    return im.collective(frame, s, here)


def _emit(op: str) -> Callable[[Any, Node, int, set[str]], None]:
    def emit(x: Any, n: Node, depth: int, names: set[str]) -> None:
        """``y = allreduce(x, op="sum")`` and friends."""
        src = x.name(x.one_src(n, "tensor"))
        p = n.props
        x.use(op)
        if op == "relayout":
            args = f"{src}, to={x.dist_text(n, 'dist', list(p.get('dist') or []))}"
        elif op == "allreduce":
            args = f"{src}, op={x.q(x.choice(n, 'op', 'sum'))}"
        elif op == "allgather":
            args = f"{src}, dim={int(p.get('dim', 0))}"
        else:
            args = (
                f"{src}, dim={int(p.get('dim', 0))}, op={x.q(x.choice(n, 'op', 'sum'))}, "
                f"mesh_axis={int(p.get('mesh_axis', 0))}, mesh_size={int(p.get('mesh_size', 2))}"
            )
        x.assign(x.name(n), f"{op}({args})", n.id, depth)

    return emit


_LAYOUT_PROPS = {
    "relayout": [
        PropSpec(
            "dist",
            "dist",
            ["R"],
            doc="target distribution per dimension: R (replicate) or S<i> (shard on mesh axis i)",
        )
    ],
    "allreduce": [PropSpec("op", "enum", "sum", REDUCE_OPS)],
    "allgather": [PropSpec("dim", "int", 0)],
    "reduce_scatter": [
        PropSpec("dim", "int", 0, doc="the replicated dimension the result is scattered along"),
        PropSpec("op", "enum", "sum", REDUCE_OPS),
        PropSpec("mesh_axis", "int", 0, doc="the mesh axis that holds the partials"),
        PropSpec(
            "mesh_size",
            "int",
            2,
            doc="coordinates of that mesh axis (the result's extent depends on it); compile "
            "checks it against the spatial_map grid",
        ),
    ],
}
for _lop, _props in _LAYOUT_PROPS.items():
    KINDS.append(
        NodeKind(
            f"layout.{_lop}",
            _lop,
            "Layout",
            [_in("tensor", "tensor"), _out("tensor", "tensor")],
            _props,
            allowed_in=W,
            name_base="y",
            summary=titles.layout_op,
            collective=True,
            emit=_emit(_lop),
            import_dsl=_import,
            check=positive("mesh_size") if _lop == "reduce_scatter" else None,
            doc=f"y = {_lop}(x, ...): wire a tensor in; its output feeds calls and collectives",
        )
    )

DSL_KINDS = {f"CollectiveOp.{op}": f"layout.{op}" for op in _LAYOUT_PROPS}
"""DSL object type (a collective by its ``kind``) -> its kind (``catalogue.dsl_kind``)."""
