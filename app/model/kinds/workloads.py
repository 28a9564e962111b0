"""Workloads and the statement frames inside them: loops, P.when chains, compositions.

A ``workload.def`` is a frame on the root canvas; its children are its statements. Loops and
branch cases are frames around the statements they repeat or guard. ``combine``/``sequential``
frames hold ``workload.instance`` nodes naming the workloads they compose.
"""

from __future__ import annotations

from .. import titles
from ._base import ROOT, NodeKind, PropSpec, W
from .schedule import SHEET_PROPS

AXIS_KINDS = ("axis.dense", "axis.dense_dyn", "axis.ragged", "axis.sparse")

KINDS = [
    NodeKind(
        "workload.def",
        "Workload",
        "Workloads",
        [],
        list(SHEET_PROPS),
        frame=True,
        allowed_in=ROOT,
        name_base="workload",
        summary=titles.workload,
        sweep_default="dispatch_n",
        doc="@workload def name(): its children are its statements; the sheet schedules and "
        "compiles it (a program when target is set).",
    ),
    NodeKind(
        "loop.parallel",
        "Parallel loop P(...)",
        "Loops",
        [],
        [
            PropSpec(
                "axes",
                "axes",
                [],
                doc="loop variables and the axes they run over, outermost first: "
                "[{var: 'b', axis: <axis>}, ...]",
                ref_kinds=AXIS_KINDS,
            )
        ],
        frame=True,
        allowed_in=W,
        summary=titles.parallel,
        doc="for b, h in P(batch, heads): every iteration independent.",
    ),
    NodeKind(
        "loop.seq",
        "Sequential loop P.seq",
        "Loops",
        [],
        [
            PropSpec("var", "names", "i"),
            PropSpec("axis", "ref", "", doc="the axis it runs over", ref_kinds=AXIS_KINDS),
        ],
        frame=True,
        allowed_in=W,
        summary=titles.seq,
        doc="for i in P.seq(axis): iteration i+1 waits for iteration i.",
    ),
    NodeKind(
        "loop.sel",
        "Selection loop P.sel",
        "Loops",
        [],
        [
            PropSpec("var", "names", "e"),
            PropSpec("axis", "ref", "", doc="a sparse axis", ref_kinds=("axis.sparse",)),
            PropSpec("row", "expr", "", doc="the row of the sparse axis, e.g. 'b'", optional=True),
        ],
        frame=True,
        allowed_in=W,
        summary=titles.sel,
        doc="for e in P.sel(routing[b]): only the selected indices.",
    ),
    NodeKind(
        "branch.chain",
        "When P.when",
        "Control",
        [],
        [],
        frame=True,
        allowed_in=W,
        children_scope="branch",
        summary=titles.chain,
        doc="with P.when(...) / P.when(...) / P.otherwise(): one if/elif/else chain; its "
        "compartments are branch.case frames.",
    ),
    NodeKind(
        "branch.case",
        "Case",
        "Control",
        [],
        [
            PropSpec("pred", "expr", "True", doc="the condition (ignored when otherwise)"),
            PropSpec("otherwise", "bool", False, doc="P.otherwise(): only the last case"),
        ],
        frame=True,
        allowed_in=frozenset({"branch"}),
        summary=titles.case,
        doc="One case of a P.when chain: its children run when pred holds (and no earlier "
        "case's did).",
    ),
    NodeKind(
        "compose.combine",
        "combine",
        "Workloads",
        [],
        list(SHEET_PROPS),
        frame=True,
        allowed_in=frozenset({"root", "compose"}),
        children_scope="compose",
        name_base="layer",
        summary=titles.compose,
        sweep_default="dispatch_n",
        doc="combine(w1, w2, ...): its children (workload instances and compositions), in order.",
    ),
    NodeKind(
        "compose.sequential",
        "sequential",
        "Workloads",
        [],
        list(SHEET_PROPS),
        frame=True,
        allowed_in=frozenset({"root", "compose"}),
        children_scope="compose",
        name_base="pipeline",
        summary=titles.compose,
        sweep_default="dispatch_n",
        doc="sequential(w1, w2, ...): its children run one after another, in order.",
    ),
    NodeKind(
        "workload.instance",
        "Workload instance",
        "Workloads",
        [],
        [
            PropSpec(
                "workload",
                "ref",
                "",
                doc="the workload this instance calls",
                ref_kinds=("workload.def",),
            )
        ],
        allowed_in=frozenset({"compose"}),
        summary=titles.instance,
        doc="One use of a workload inside combine/sequential: name(...) with its parameters.",
    ),
]
