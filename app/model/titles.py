"""Node titles that say what a node is: ``Q  f32[4,8,16,16]``, ``attn_kernel[b, h]``.

Every title is one line the canvas shows as the node's name (a frame's header), so a sample
opened cold reads without clicking anything (issue 13). Each kind's title function is the
``summary`` field of its ``NodeKind`` (``kinds._base``) (one place per kind, no second list of kinds);
:func:`title` picks it and falls back to ``"Kind: name"`` for kinds that have none. The
functions only read the document: they never change it.

In a v2 document (docs/graph-model.md) references are properties holding node ids (a call's
kernel, a loop's axes, a send's channel), so titles read them from the properties; wires only
matter for the data a collective takes in. A call's task axes and the loop variables around it
come from ``app.model.indexing`` / ``app.model.frames``. :class:`TitleContext` carries the
document and, for nodes of a kernel body, the body and its kernel, with a lazy index of wires,
so titling every node of a canvas stays linear in its size.
"""

from __future__ import annotations

import re
from typing import Any

from pto_wsp.language.policy_kinds import DispatchKind, ReadyKind, StartKind, TimingKind

from . import frames, indexing, kind_lookup
from .document import Document, Graph, Node
from .kinds.schedule import KEYED_DISPATCH, TASK_GRAPH_DEFAULTS, cost_table_label
from .title_context import TitleContext, ref_node

SEP = "  "
"""Between a name and its key parameters: two spaces read as a column gap on the canvas."""
DOT = " · "
"""Between the items of a summary (the schedule sheet, task_graph changes)."""
MAX_TEXT = 48
"""An expression longer than this is shortened with an ellipsis (the properties show it all)."""


def title(node: Node, doc: Document, graph: Graph | None = None, owner: Node | None = None) -> str:
    """The title of ``node``: its kind's ``summary`` if it has one, else ``"Kind: name"``."""
    return title_in(node, TitleContext(doc, graph, owner))


def title_in(node: Node, ctx: TitleContext) -> str:
    """:func:`title` with a shared context (one per graph when titling many nodes)."""
    kind = kind_lookup.find(node.kind)
    if kind is None:
        return node.name or node.kind
    if kind.summary is not None:
        text = kind.summary(node, ctx)
        if text:
            return text
    return f"{kind.title}: {node.name}" if node.name else kind.title


# ------------------------------------------------------------------------------------------
# formatting helpers
# ------------------------------------------------------------------------------------------
_GET_KEY = re.compile(r"""\bt\.get\(\s*["'](\w+)["']\s*\)""")


def short_expr(text: Any) -> str:
    """A key or index expression as a reader says it: ``t.get("batch") % 2`` -> ``batch % 2``."""
    text = " ".join(str(text).split())
    text = _GET_KEY.sub(r"\1", text)
    return _capped(text)


def shape_text(shape: Any) -> str:
    """``[4, 8, 16]`` -> ``[4,8,16]`` (compact, as in ``f32[4,8,16]``)."""
    if isinstance(shape, (list, tuple)):
        return "[" + ",".join(str(d) for d in shape) + "]"
    return f"[{shape}]"


def _capped(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _named(node: Node, text: str) -> str:
    return f"{node.name}{SEP}{text}" if node.name else text


def _prop(node: Node, name: str, default: Any = "") -> Any:
    return node.props.get(name, default)


def _kind_title(kind_id: str) -> str:
    return kind_lookup.display_name(kind_id)


def _value_text(value: Any) -> str:
    """A property value in a title: lists bracketed, records as ``a:b`` (pools), exprs short."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return ":".join(str(v) for v in value.values())
    return short_expr(value)


# ------------------------------------------------------------------------------------------
# data, axes, kernels
# ------------------------------------------------------------------------------------------
def tensor(node: Node, ctx: TitleContext) -> str:
    """``Q  f32[4,8,16,16]``."""
    return _named(node, f"{_prop(node, 'dtype', 'f32')}{shape_text(_prop(node, 'shape', []))}")


def scalar(node: Node, ctx: TitleContext) -> str:
    """``n  i32 = 4``."""
    return _named(node, f"{_prop(node, 'dtype', '')} = {short_expr(_prop(node, 'value', ''))}")


def axis_text(node: Node) -> str:
    """``DenseDyn 4``: an axis's kind and size (a ragged or sparse axis: its outer size)."""
    word = _kind_title(node.kind).removesuffix(" axis")
    size = node.props.get("size", node.props.get("outer_size", ""))
    return f"{word} {size}".strip()


def axis(node: Node, ctx: TitleContext) -> str:
    """``batch  DenseDyn 4``."""
    return _named(node, axis_text(node))


def kernel_def(node: Node, ctx: TitleContext) -> str:
    """The signature: ``attn_kernel(Q, K, V) → O`` (InOut parameters on both sides)."""
    params = indexing.params_of(node)
    ins = [p["name"] for p in params if p.get("direction", "In") in ("In", "InOut")]
    outs = [p["name"] for p in params if p.get("direction", "In") in ("Out", "InOut")]
    text = f"{node.name or 'kernel'}({', '.join(ins)})"
    return f"{text} → {', '.join(outs)}" if outs else text


def param_type(param: dict[str, Any]) -> str:
    """``Tile[16,16,f32]`` / ``Scalar[i32]`` / ``Tensor``: a parameter's type as a title says it."""
    kind = param.get("kind", "tensor")
    if kind == "tile":
        dims = indexing.tile_shape(param) or (param.get("rows", "?"), param.get("cols", "?"))
        return f"Tile[{','.join(str(d) for d in (*dims, param.get('dtype', 'f32')))}]"
    if kind == "scalar":
        return f"Scalar[{param.get('dtype', '')}]"
    return "Tensor"


def kernel_param(node: Node, ctx: TitleContext) -> str:
    """``In Q  Tile[16,16,f32]`` / ``Out O  Tensor`` / ``In n  Scalar[i32]`` (a body node)."""
    ctx.holder(node)
    owner = ctx.owner
    param = None
    if owner is not None and kind_lookup.kind_of(owner).defines_kernel:
        wanted = node.props.get("param")
        param = next((p for p in indexing.params_of(owner) if p["name"] == wanted), None)
    if param is None:
        return f"param {_prop(node, 'param', '')} (missing)"
    return f"{param.get('direction', 'In')} {param['name']}{SEP}{param_type(param)}"


def call(node: Node, ctx: TitleContext) -> str:
    """``attn_kernel[b, h]``: the call's kernel and its task axes (the enclosing loop variables,
    or the ``axes`` override)."""
    kern = indexing.kernel_of(ctx.doc, node)
    axes = short_expr(indexing.call_axes(ctx.doc, node))
    if kern is None:
        return f"call[{axes}] (no kernel)" if axes else "call (no kernel)"
    name = kern.name or "kernel"
    return f"{name}[{axes}]" if axes else name


# ------------------------------------------------------------------------------------------
# frames
# ------------------------------------------------------------------------------------------
def _var_in_axis(ctx: TitleContext, var: Any, axis_ref: Any, where: str = "") -> str:
    """``b in batch (DenseDyn 4)``; ``?`` for a missing variable or axis."""
    ax = ref_node(ctx.doc, axis_ref)
    var_text = var if isinstance(var, str) and var else "?"
    if ax is None:
        return f"{var_text} in ?{where}"
    return f"{var_text} in {ax.name or '?'}{where} ({axis_text(ax)})"


def parallel(node: Node, ctx: TitleContext) -> str:
    """``P  b in batch (DenseDyn 4) × h in heads (Dense 8)``: the axes in order."""
    axes = node.props.get("axes")
    entries = [a for a in axes if isinstance(a, dict)] if isinstance(axes, list) else []
    pairs = " × ".join(_var_in_axis(ctx, a.get("var"), a.get("axis")) for a in entries)
    return f"P{SEP}{pairs}" if pairs else "P"


def seq(node: Node, ctx: TitleContext) -> str:
    """``P.seq  k in tiles (Dense 4)``."""
    return f"P.seq{SEP}{_var_in_axis(ctx, node.props.get('var'), node.props.get('axis'))}"


def sel(node: Node, ctx: TitleContext) -> str:
    """``P.sel  e in routing[b] (Sparse 4)``: the row of the sparse axis it selects from."""
    row = short_expr(_prop(node, "row", ""))
    where = f"[{row}]" if row else ""
    return f"P.sel{SEP}{_var_in_axis(ctx, node.props.get('var'), node.props.get('axis'), where)}"


def chain(node: Node, ctx: TitleContext) -> str:
    """``P.when  2 cases`` (the cases are its compartments, each with its own header)."""
    cases = sum(1 for n in frames.children(ctx.doc, node.id) if kind_lookup.kind_of(n).case)
    return f"P.when{SEP}{cases} case{'' if cases == 1 else 's'}"


def case(node: Node, ctx: TitleContext) -> str:
    """``when b < 2`` / ``otherwise``."""
    if node.props.get("otherwise") is True:
        return "otherwise"
    return f"when {short_expr(_prop(node, 'pred', ''))}"


def pipe(node: Node, ctx: TitleContext) -> str:
    """``P.pipe  depth 2``."""
    return f"P.pipe{SEP}depth {_prop(node, 'depth', '')}"


def process(node: Node, ctx: TitleContext) -> str:
    """``process producer`` (``× 4`` when replicated)."""
    replicas = _prop(node, "replicas", 1)
    text = f"process {node.name}".rstrip()
    return f"{text} × {replicas}" if replicas not in (1, "1", "", None) else text


def consume(node: Node, ctx: TitleContext) -> str:
    """``consume t in l2c``."""
    var = node.props.get("var")
    return f"consume {var if isinstance(var, str) and var else '?'} in {ctx.ref_name(node, 'channel')}"  # fmt: skip


# ------------------------------------------------------------------------------------------
# programs and their schedule sheet
# ------------------------------------------------------------------------------------------
def sheet_summary(props: dict[str, Any]) -> str:
    """The schedule sheet in one line, in the DSL's order: ``affinity(b) · streams 2 by h % 2
    · immediate`` (empty properties are left out; ``""`` for an empty sheet)."""
    parts: list[str] = []
    policy = props.get("dispatch") or ""
    if policy:
        key = short_expr(props.get("dispatch_key") or "")
        if policy == DispatchKind.ROUND_ROBIN:
            workers = props.get("dispatch_n", "")
            parts.append(f"round_robin · {workers} worker{'' if workers == 1 else 's'}")
        elif policy in KEYED_DISPATCH:
            aicpus = props.get("dispatch_aicpus") or 0
            parts.append(f"{policy}({key})" + (f" · {aicpus} worker{'' if aicpus == 1 else 's'}" if aicpus else ""))  # fmt: skip
        else:
            parts.append(str(policy))
    streams = props.get("streams") or 0
    by = short_expr(props.get("stream_by") or "")
    if streams:
        parts.append(f"streams {streams} by {by}" if by else f"streams {streams}")
    elif by:
        parts.append(f"stream_by {by}")
    timing_policy = props.get("timing") or ""
    if timing_policy:
        param = props.get("timing_param", "")
        immediate = timing_policy == TimingKind.IMMEDIATE
        parts.append(timing_policy if immediate else f"{timing_policy}({param})")
    graph = props.get("task_graph")
    if isinstance(graph, dict) and graph:
        parts.append(task_graph_text(graph))
    grid = props.get("spatial_map")
    if isinstance(grid, list) and grid:
        parts.append(f"mesh {'×'.join(str(d) for d in grid)}")
    return DOT.join(parts)


TASK_GRAPH_QUIET: dict[str, Any] = TASK_GRAPH_DEFAULTS
"""task_graph settings a summary leaves out (the fields' defaults: "as the runtime does")."""


def task_graph_text(graph: dict[str, Any]) -> str:
    """``task_graph window 16 · ready priority(k) · pools partial:3, finish:1``: what the
    task_graph settings change, in the order of ``TASK_GRAPH_QUIET``."""
    changed: list[str] = []
    order = [*TASK_GRAPH_QUIET, *(k for k in graph if k not in TASK_GRAPH_QUIET)]
    for name in order:
        if name not in graph:
            continue
        value = graph[name]
        if name in TASK_GRAPH_QUIET and value == TASK_GRAPH_QUIET[name]:
            continue
        if name == "ready_key":
            continue  # shown with ready=priority
        if name == "threshold" and graph.get("start") != StartKind.THRESHOLD:
            continue
        if name in ("unit", "mode") and not graph.get("window"):
            continue
        if name == "ready" and value == ReadyKind.PRIORITY and graph.get("ready_key"):
            changed.append(f"ready priority({short_expr(graph['ready_key'])})")
        elif name == "pools" and isinstance(value, list):
            pools = ", ".join(_value_text(v) for v in value)
            changed.append(f"pools {pools}")
        else:
            changed.append(f"{name} {_value_text(value)}")
    return _capped(" ".join(["task_graph", DOT.join(changed)]).strip(), 2 * MAX_TEXT)


def _program(head: str, node: Node) -> str:
    """A program frame's header: ``head → target`` (with a cost table other than ours:
    ``→ cpu_sim (PTO-ISA A2/A3)``) and the sheet summary after a gap."""
    target = node.props.get("target") or ""
    costs = cost_table_label(node.props)
    target = f"{target} ({costs})" if costs else target
    text = f"{head} → {target}" if target else head
    sheet = sheet_summary(node.props)
    return f"{text}{SEP}{sheet}" if sheet else text


def workload(node: Node, ctx: TitleContext) -> str:
    """``workload attention → cpu_sim  affinity(batch) · streams 2 by head % 2 · immediate``."""
    return _program(f"workload {node.name}".rstrip(), node)


def _instance_names(ctx: TitleContext, frame: Node) -> str:
    names: list[str] = []
    for child in frames.children(ctx.doc, frame.id):
        if kind_lookup.kind_of(child).instance:
            names.append(ctx.ref_name(child, "workload"))
        elif child.name:
            names.append(child.name)
    return ", ".join(names)


def compose(node: Node, ctx: TitleContext) -> str:
    """``combine(attention, mlp)``: the workloads of its instances in order, then the sheet."""
    word = "sequential" if node.kind.endswith("sequential") else "combine"
    return _program(f"{word}({_instance_names(ctx, node)})", node)


def instance(node: Node, ctx: TitleContext) -> str:
    """``instance attention``: the workload it runs."""
    return f"instance {ctx.ref_name(node, 'workload')}"


def connect(node: Node, ctx: TitleContext) -> str:
    """``connect(producer, consumer)``: its processes in order, then the sheet."""
    return _program(f"connect({_instance_names(ctx, node)})", node)


# ------------------------------------------------------------------------------------------
# statements
# ------------------------------------------------------------------------------------------
def channel(node: Node, ctx: TitleContext) -> str:
    """``l2c  depth 2``, ``l2c  depth 2 · latency 10``."""
    latency = node.props.get("latency", 0)
    more = f" · latency {latency}" if latency else ""
    return _named(node, f"depth {_prop(node, 'depth', '')}{more}")


def send(node: Node, ctx: TitleContext) -> str:
    """``send → l2c``."""
    return f"send → {ctx.ref_name(node, 'channel')}"


def close(node: Node, ctx: TitleContext) -> str:
    """``close l2c``."""
    return f"close {ctx.ref_name(node, 'channel')}"


def event_def(node: Node, ctx: TitleContext) -> str:
    """``event ev``."""
    return f"event {node.name}".rstrip()


def event_use(node: Node, ctx: TitleContext) -> str:
    """``record ev`` / ``synchronize ev``."""
    word = "record" if node.kind.endswith("record") else "synchronize"
    return f"{word} {ctx.ref_name(node, 'event')}"


def slot_set(node: Node, ctx: TitleContext) -> str:
    """``slot[3] = b``."""
    return f"slot[{_prop(node, 'slot', '')}] = {short_expr(_prop(node, 'value', ''))}"


def slot_load(node: Node, ctx: TitleContext) -> str:
    """``slot[3] ← X[b] (r 0, c 1)``."""
    index = short_expr(_prop(node, "index", ""))
    src = ctx.source_name(node, "tensor")
    view = f"{src}[{index}]" if index else src
    where = f"r {_prop(node, 'row', '')}, c {_prop(node, 'col', '')}"
    return f"slot[{_prop(node, 'slot', '')}] ← {view} ({where})"


def layout_op(node: Node, ctx: TitleContext) -> str:
    """``y = allreduce(X) sum``: the result name, the op, its input and its key parameters."""
    kind = kind_lookup.kind(node.kind)
    params = " ".join(
        f"{p.name} {_value_text(node.props.get(p.name, p.default))}"
        if p.type in ("int", "number")
        else _value_text(node.props.get(p.name, p.default))
        for p in kind.props
    )
    text = f"{kind.title}({ctx.source_name(node, 'tensor')}) {params}".strip()
    return f"{node.name} = {text}" if node.name else text
