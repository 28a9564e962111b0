"""Workloads and the statement frames inside them: loops, P.when chains, compositions.

A ``workload.def`` is a frame on the root canvas; its children are its statements. Loops and
branch cases are frames around the statements they repeat or guard. ``combine``/``sequential``
frames hold ``workload.instance`` nodes naming the workloads they compose.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .. import titles
from ..document import Node
from ._base import ROOT, Emitter, FrameLook, NodeKind, PropSpec, W, one_var, one_var_axis
from .schedule import SHEET_PROPS, sheet_prop_applies

AXIS_KINDS = ("axis.dense", "axis.dense_dyn", "axis.ragged", "axis.sparse")


def parallel_vars(props: dict[str, Any]) -> list[str]:
    """The variables of ``P(b, h)`` in header order (none when ``axes`` is malformed:
    validation names it)."""
    axes = props.get("axes")
    if not isinstance(axes, list):
        return []
    return [str(a.get("var", "")) for a in axes if isinstance(a, dict) and a.get("var")]


def parallel_var_axes(props: dict[str, Any]) -> dict[str, Any]:
    """``var_axes`` of ``P(b, h)``: each entry's variable runs over its axis."""
    axes = props.get("axes")
    if not isinstance(axes, list):
        return {}
    return {
        str(a["var"]): a["axis"]
        for a in axes
        if isinstance(a, dict) and a.get("var") and isinstance(a.get("axis"), str)
    }


def emit_parallel(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``for b, h in P(batch, heads):`` and the children."""
    axes = n.props.get("axes")
    if not isinstance(axes, list) or not axes:
        raise x.error(n.id, "props.axes", "choose at least one axis for the loop")
    vars_: list[str] = []
    targets: list[str] = []
    for i, entry in enumerate(axes):
        if not isinstance(entry, dict):
            raise x.error(n.id, f"props.axes[{i}]", "expected {var, axis}")
        vars_.append(x.ident(n, f"props.axes[{i}].var", entry.get("var")))
        ref = entry.get("axis")
        axis = x.nodes.get(ref) if isinstance(ref, str) else None
        if axis is None or axis.kind not in AXIS_KINDS:
            raise x.error(n.id, f"props.axes[{i}].axis", "choose an axis")
        targets.append(x.name(axis))
    x.use("P")
    x.line(f"for {', '.join(vars_)} in P({', '.join(targets)}):", n.id, depth)
    x.body(n, depth + 1)


def emit_seq(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``for i in P.seq(axis):`` and the children."""
    axis = x.ref(n, "axis", "axis")
    var = x.ident(n, "props.var", n.props.get("var"))
    x.use("P")
    x.line(f"for {var} in P.seq({x.name(axis)}):", n.id, depth)
    x.body(n, depth + 1)


def emit_sel(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``for e in P.sel(routing[b]):`` and the children."""
    axis = x.ref(n, "axis", "sparse axis")
    var = x.ident(n, "props.var", n.props.get("var"))
    row = (n.props.get("row") or "").strip()
    target = x.name(axis)
    if row:
        target = f"{target}[{x.expr(n, 'row', row, names, in_brackets=True)}]"
    x.use("P")
    x.line(f"for {var} in P.sel({target}):", n.id, depth)
    x.body(n, depth + 1)


def emit_chain(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``with P.when(...):`` per case, ``with P.otherwise():`` for the last one if so."""
    x.use("P")
    for case in x.cases(n):
        if case.props.get("otherwise"):
            x.line("with P.otherwise():", case.id, depth)
        else:
            pred = x.expr(case, "pred", case.props.get("pred", ""), names)
            x.line(f"with P.when({pred}):", case.id, depth)
        x.body(case, depth + 1)


def check_chain(c: Any, node: Node) -> None:
    """A P.when chain has cases; only its last case may be ``otherwise``."""
    cases = [k for k in c.children(node.id) if c.kind_of(k).case]
    if not cases:
        c.add(node.id, "children", "P.when has no case: add a when case")
        return
    if cases[0].props.get("otherwise") is True:
        c.add(cases[0].id, "props.otherwise", "the first case cannot be otherwise: give it a predicate")  # fmt: skip
    for k in cases[1:-1]:
        if k.props.get("otherwise") is True:
            c.add(k.id, "props.otherwise", "only the last case of a P.when can be otherwise")


def check_composition(c: Any, node: Node) -> None:
    if not c.children(node.id):
        c.add(node.id, "children", f"{c.label(node)} is empty: add workload instances")


def _case_applies(props: dict[str, Any], name: str) -> bool:
    return not (name == "pred" and props.get("otherwise"))


_COMPOSE_LOOK = FrameLook((110, 86, 24, 36), (236, 190, 70, 255), (96, 72, 18, 235), radius=10.0, summary=True, row=True)  # fmt: skip


def _composes(k: NodeKind) -> bool:
    """A ``combine``/``sequential`` frame: its children are instances and compositions."""
    return k.program and k.children_scope == "compose"


def _op_name(node: Node) -> str:
    """``combine`` / ``sequential``: the DSL function of a composition frame."""
    return node.kind.split(".", 1)[1]


def emit_workload_def(x: Emitter, n: Node) -> None:
    x.use("workload")
    x.blank(2)
    x.line("@workload", n.id)
    x.line(f"def {x.name(n)}():", n.id)
    x.body(n, 1)
    x.blank(2)
    x.line(f"{x.workload_var(n)} = {x.name(n)}()", n.id)


def _compose(x: Emitter, n: Node) -> None:
    """``name = combine(...)``, after the named compositions nested in it (each its own
    variable, as a person would write ``layer = combine(...)`` and use ``layer``)."""
    for child in x.children(n.id):
        if _composes(x.kind_of(child)):
            _compose(x, child)
    x.assign(x.name(n), _compose_expr(x, n), n.id)


def _compose_expr(x: Emitter, n: Node) -> str:
    """``combine(a(), b())`` / ``sequential(...)`` over the frame's children in order; a
    composition inside is used by its name (defined before, see ``_compose``)."""
    fn = _op_name(n)  # combine, sequential
    parts: list[str] = []
    for child in x.children(n.id):
        if x.kind_of(child).instance:
            wl = x.ref(child, "workload", "workload")
            parts.append(f"{x.name(wl)}()")
        elif _composes(x.kind_of(child)):
            parts.append(x.name(child))
        else:
            raise x.error(
                child.id,
                "parent",
                f"{fn} holds workload instances and compositions; move this out of it",
            )
    if not parts:
        raise x.error(n.id, "children", f"{fn} needs a workload instance in its frame")
    x.use(fn)
    return f"{fn}({', '.join(parts)})"


def emit_compose(x: Emitter, n: Node) -> None:
    _compose(x, n)


def import_loop(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    """A ``LoopNode``: P(...) with its axes in order, P.seq, P.sel (with its row)."""
    names = [str(v.name) for v in s.vars]
    kind = im.dsl_kind(f"LoopNode.{s.kind}")
    if s.kind == "parallel":
        axes = [{"var": v, "axis": im.axis(ax, here).id} for v, ax in zip(names, s.axes, strict=True)]  # fmt: skip
        node = im.add(kind, None, frame, axes=axes)
    elif s.kind == "seq":
        node = im.add(kind, None, frame, var=names[0], axis=im.axis(s.axes[0], here).id)
    else:
        sel = s.axes[0]
        axis = im.axis(getattr(sel, "axis", sel), here)
        row = getattr(sel, "row", None)
        row_text = "" if row is None else im.expr_text(row, here)
        node = im.add(kind, None, frame, var=names[0], axis=axis.id, row=row_text)
    im.statements(node, s.body, where)
    return node


def import_chain(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    """A ``CondNode``: one chain frame, a case frame per branch (``otherwise`` last)."""
    chain = im.add(im.dsl_kind("CondNode"), None, frame)
    case_kind = im.dsl_kind("CondNode.branch")
    last = len(s.branches) - 1
    for i, (pred, stmts) in enumerate(s.branches):
        if pred is None:
            case = im.add(case_kind, None, chain, pred="True", otherwise=True)
        else:
            case = im.add(case_kind, None, chain, pred=im.expr_text(pred, here))
        if pred is None and i != last:  # the DSL closes a chain at its otherwise
            raise im.error(f"{here}: P.otherwise() must be the last case")
        im.statements(case, stmts, where)
    return chain


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
        program=True,
        defines_workload=True,
        emit_root=emit_workload_def,
        section="workloads",
        prop_applies=sheet_prop_applies,
        frame_style=FrameLook(
            (74, 52, 120, 38),
            (168, 128, 240, 255),
            (72, 46, 112, 235),
            width=2.5,
            radius=10.0,
            summary=True,
        ),  # fmt: skip
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
        emit=emit_parallel,
        import_dsl=import_loop,
        binds_vars=parallel_vars,
        var_axes=parallel_var_axes,
        frame_style=FrameLook((52, 110, 62, 42), (110, 200, 120, 255), (40, 86, 48, 235)),
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
        emit=emit_seq,
        import_dsl=import_loop,
        binds_vars=one_var,
        var_axes=one_var_axis,
        frame_style=FrameLook(
            (96, 100, 40, 42), (214, 206, 96, 255), (84, 82, 30, 235), double=True
        ),  # fmt: skip
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
        emit=emit_sel,
        import_dsl=import_loop,
        binds_vars=one_var,
        var_axes=one_var_axis,
        sparse_select=True,
        frame_style=FrameLook(
            (110, 70, 30, 42), (236, 150, 70, 255), (96, 58, 22, 235), pen="dashdot"
        ),  # fmt: skip
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
        emit=emit_chain,
        import_dsl=import_chain,
        check=check_chain,
        frame_style=FrameLook(
            (90, 80, 60, 30),
            (200, 180, 130, 255),
            (78, 68, 46, 235),
            radius=4.0,
            compartments=True,
            row=True,
        ),  # fmt: skip
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
        case=True,
        prop_applies=_case_applies,
        frame_style=FrameLook(
            (120, 110, 80, 26),
            (200, 180, 130, 200),
            (96, 84, 56, 220),
            pen="dash",
            width=1.5,
            radius=2.0,
        ),  # fmt: skip
        doc="One case of a P.when chain: its children run when pred holds (and no earlier "
        "case's did).",
    ),
    *(
        NodeKind(
            kind_id,
            title,
            "Workloads",
            [],
            list(SHEET_PROPS),
            frame=True,
            allowed_in=frozenset({"root", "compose"}),
            children_scope="compose",
            name_base=name_base,
            summary=titles.compose,
            sweep_default="dispatch_n",
            program=True,
            prop_applies=sheet_prop_applies,
            check=check_composition,
            emit_root=emit_compose,
            section="composition",
            frame_style=look,
            doc=doc,
        )
        for kind_id, title, name_base, look, doc in (
            (
                "compose.combine",
                "combine",
                "layer",
                _COMPOSE_LOOK,
                "combine(w1, w2, ...): its children (workload instances and compositions), "
                "in order.",
            ),
            (
                "compose.sequential",
                "sequential",
                "pipeline",
                replace(_COMPOSE_LOOK, double=True),
                "sequential(w1, w2, ...): its children run one after another, in order.",
            ),
        )
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
        instance=True,
        doc="One use of a workload inside combine/sequential: name(...) with its parameters.",
    ),
]

DSL_KINDS = {
    "Workload": "workload.def",
    "LoopNode.parallel": "loop.parallel",
    "LoopNode.seq": "loop.seq",
    "LoopNode.sel": "loop.sel",
    "CondNode": "branch.chain",
    "CondNode.branch": "branch.case",
    "CombineNode": "compose.combine",
    "SequentialNode": "compose.sequential",
    "CombineNode.child": "workload.instance",
}
"""DSL object type -> the kind Import Python makes of it (``catalogue.dsl_kind``): a loop by
its ``kind``, a P.when chain's branches, a workload used inside combine/sequential."""
