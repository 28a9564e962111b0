"""Node titles that say what a node is: ``Q  f32[4,8,16,16]``, ``attn_kernel[b, h]``.

Every title is one line the canvas shows as the node's name, so a sample opened cold reads
without clicking anything (issue 13: every Get used to be titled "Get" and every call "call").
Each kind's title function is the ``summary`` field of its ``registry.NodeKind`` (one place per
kind, no second list of kinds); :func:`title` picks it and falls back to ``"Kind: name"`` for
kinds that have none. The functions only read the document: they never change it.

Titles look through wires the way the exporter does: a call is titled after the kernel wired
into its ``kernel`` port (directly or through a Get), a loop after the axes wired into it, in
wire order. :class:`TitleContext` indexes those wires once, so titling every node of a graph
stays linear in its size (the canvas titles 1000s of nodes when it opens a project).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .document import Document, Edge, Graph, Node

SEP = "  "
"""Between a name and its key parameters: two spaces read as a column gap on the canvas."""
MAX_TEXT = 48
"""An expression longer than this is shortened with an ellipsis (the properties show it all)."""


@dataclass
class TitleContext:
    """Where a node lives (``graph`` and its owning scope node ``owner``) plus lazy indexes.

    ``graph=None`` means "look it up" (once, on first need): callers titling one node of an
    unknown scope (the find bar) pay one document walk, the canvas passes what it shows.
    """

    doc: Document
    graph: Graph | None = None
    owner: Node | None = None
    _located: bool = False
    _targets: dict[str, Node] | None = None
    _into: dict[tuple[str, str], list[Edge]] | None = field(default=None, repr=False)

    def holder(self, node: Node) -> Graph:
        """The graph holding ``node`` (the given one, else located in the document)."""
        if self.graph is None and not self._located:
            self._located = True
            found = self.doc.locate(node.id)
            if found is not None:
                _node, self.graph, self.owner = found
        return self.graph if self.graph is not None else self.doc.graph

    def target(self, get: Node) -> Node | None:
        """The root node a ``data.get`` names (by name, like the exporter)."""
        from . import registry

        if self._targets is None:
            self._targets = registry.root_targets(self.doc)
        return registry.get_target(get, self.doc, self._targets)

    def sources(self, node: Node, port: str) -> list[Node]:
        """Nodes wired into ``node``'s input ``port`` in wire order, seen through Gets."""
        graph = self.holder(node)
        if self._into is None:
            self._into = {}
            for e in graph.edges:
                self._into.setdefault((e.dst.node, e.dst.port), []).append(e)
        out: list[Node] = []
        for e in self._into.get((node.id, port), []):
            src = graph.nodes.get(e.src.node)
            if src is not None and src.kind == "data.get":
                src = self.target(src)
            if src is not None:
                out.append(src)
        return out

    def source_name(self, node: Node, port: str) -> str:
        """The name of what is wired into ``port`` (``?`` when nothing is)."""
        found = self.sources(node, port)
        return found[0].name if found and found[0].name else "?"


Summary = Callable[[Node, TitleContext], str]
"""A kind's title function: the node and where it lives -> one line ("" = use the default)."""


def title(node: Node, doc: Document, graph: Graph | None = None, owner: Node | None = None) -> str:
    """The title of ``node``: its kind's ``summary`` if it has one, else ``"Kind: name"``."""
    return title_in(node, TitleContext(doc, graph, owner))


def title_in(node: Node, ctx: TitleContext) -> str:
    """:func:`title` with a shared context (one per graph when titling many nodes)."""
    from . import registry

    kind = registry.KINDS.get(node.kind)
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
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def shape_text(shape: Any) -> str:
    """``[4, 8, 16]`` -> ``[4,8,16]`` (compact, as in ``f32[4,8,16]``)."""
    if isinstance(shape, (list, tuple)):
        return "[" + ",".join(str(d) for d in shape) + "]"
    return f"[{shape}]"


def _named(node: Node, text: str) -> str:
    return f"{node.name}{SEP}{text}" if node.name else text


def _kind_word(node: Node) -> str:
    """``kernel`` for a kernel, ``axis`` for any axis, ``channel`` ... (from the kind title)."""
    from . import registry

    kind = registry.KINDS.get(node.kind)
    return kind.title.split()[-1].lower() if kind is not None else node.kind


def _prop(node: Node, name: str, default: Any = "") -> Any:
    return node.props.get(name, default)


# ------------------------------------------------------------------------------------------
# title functions, one per kind family (each kind names its own in the registry)
# ------------------------------------------------------------------------------------------
def tensor(node: Node, ctx: TitleContext) -> str:
    """``Q  f32[4,8,16,16]``."""
    return _named(node, f"{_prop(node, 'dtype', 'f32')}{shape_text(_prop(node, 'shape', []))}")


def scalar(node: Node, ctx: TitleContext) -> str:
    """``n  i32 = 4``."""
    return _named(node, f"{_prop(node, 'dtype', '')} = {short_expr(_prop(node, 'value', ''))}")


def axis(node: Node, ctx: TitleContext) -> str:
    """``batch  DenseDyn 4`` (the size of a ragged or sparse axis is its outer size)."""
    from . import registry

    kind = registry.KINDS[node.kind]
    word = kind.title.removesuffix(" axis")
    size = node.props.get("size", node.props.get("outer_size", ""))
    return _named(node, f"{word} {size}")


def get(node: Node, ctx: TitleContext) -> str:
    """What a Get reads: ``Q`` for a tensor, ``kernel attn_kernel``, ``axis batch`` ..."""
    target = ctx.target(node)
    if target is None:
        wanted = _prop(node, "target", "")
        return f"Get {wanted} (missing)" if wanted else "Get (no target)"
    if target.kind == "data.tensor":
        return target.name
    return f"{_kind_word(target)} {target.name}"


def kernel_def(node: Node, ctx: TitleContext) -> str:
    """The signature: ``attn_kernel(Q, K, V) → O`` (InOut parameters on both sides)."""
    from . import registry

    params = registry.kernel_params(node)
    ins = [p["name"] for p in params if p.get("direction", "In") in ("In", "InOut")]
    outs = [p["name"] for p in params if p.get("direction", "In") in ("Out", "InOut")]
    text = f"{node.name or 'kernel'}({', '.join(ins)})"
    return f"{text} → {', '.join(outs)}" if outs else text


def kernel_param(node: Node, ctx: TitleContext) -> str:
    """``In Q  Tile[16,16,f32]`` / ``Out O  Tensor`` / ``In n  Scalar[i32]``."""
    from . import registry

    ctx.holder(node)
    param = registry._param_of(node, ctx.owner)
    if param is None:
        return f"param {_prop(node, 'param', '')} (missing)"
    kind = param.get("kind", "tensor")
    if kind == "tile":
        dims = [param.get(f) for f in ("rows", "cols", "dtype") if param.get(f) is not None]
        what = f"Tile[{','.join(str(d) for d in dims)}]"
    elif kind == "scalar":
        what = f"Scalar[{param.get('dtype', '')}]"
    else:
        what = "Tensor"
    return f"{param.get('direction', 'In')} {param['name']}{SEP}{what}"


def call(node: Node, ctx: TitleContext) -> str:
    """``attn_kernel[b, h]``: the kernel wired into the call and its task axes."""
    kernels = [n for n in ctx.sources(node, "kernel") if n.kind == "kernel.def"]
    axes = short_expr(_prop(node, "axes", ""))
    if not kernels:
        return f"call[{axes}] (no kernel)" if axes else "call (no kernel)"
    return f"{kernels[0].name}[{axes}]" if axes else f"call {kernels[0].name}"


def workload(node: Node, ctx: TitleContext) -> str:
    """``workload attention``."""
    return f"workload {node.name}" if node.name else "workload"


def _loop_vars(node: Node) -> list[str]:
    from . import registry

    return registry.bound_vars(node)


def parallel(node: Node, ctx: TitleContext) -> str:
    """``P  b in batch × h in heads``: variables paired with the axes in wire order."""
    names = [a.name or "?" for a in ctx.sources(node, "axes")]
    pairs = _pairs(_loop_vars(node), names)
    return f"P{SEP}{pairs}" if pairs else "P"


def _pairs(variables: list[str], axes: list[str]) -> str:
    count = max(len(variables), len(axes))
    padded_vars = variables + ["?"] * (count - len(variables))
    padded_axes = axes + ["?"] * (count - len(axes))
    return " × ".join(f"{v} in {a}" for v, a in zip(padded_vars, padded_axes, strict=True))


def seq(node: Node, ctx: TitleContext) -> str:
    """``P.seq  i in tiles``."""
    return f"P.seq{SEP}{_pairs(_loop_vars(node)[:1], [ctx.source_name(node, 'axis')])}"


def sel(node: Node, ctx: TitleContext) -> str:
    """``P.sel  e in routing[b]``."""
    axis_name = ctx.source_name(node, "sparse")
    row = short_expr(_prop(node, "row", ""))
    where = f"{axis_name}[{row}]" if row else axis_name
    return f"P.sel{SEP}{_pairs(_loop_vars(node)[:1], [where])}"


def when(node: Node, ctx: TitleContext) -> str:
    """``P.when  b < 2``."""
    return f"P.when{SEP}{short_expr(_prop(node, 'pred', ''))}"


def otherwise(node: Node, ctx: TitleContext) -> str:
    return "P.otherwise"


def compose(node: Node, ctx: TitleContext) -> str:
    """``combine(attention, mlp)`` with the workloads in wire order."""
    from . import registry

    names = ", ".join(n.name or "?" for n in ctx.sources(node, "workloads"))
    return f"{registry.KINDS[node.kind].title}({names})"


def channel(node: Node, ctx: TitleContext) -> str:
    """``work  Channel depth 2``."""
    return _named(node, f"Channel depth {_prop(node, 'depth', '')}")


def pipe(node: Node, ctx: TitleContext) -> str:
    """``P.pipe  depth 2``."""
    return f"P.pipe{SEP}depth {_prop(node, 'depth', '')}"


def process(node: Node, ctx: TitleContext) -> str:
    """``process producer`` (``× 4`` when replicated)."""
    replicas = _prop(node, "replicas", 1)
    text = f"process {node.name}".rstrip()
    return f"{text} × {replicas}" if replicas not in (1, "1", "", None) else text


def send(node: Node, ctx: TitleContext) -> str:
    """``send → work``."""
    return f"send → {ctx.source_name(node, 'channel')}"


def consume(node: Node, ctx: TitleContext) -> str:
    """``consume t in work``."""
    var = (_loop_vars(node) or ["?"])[0]
    return f"consume {var} in {ctx.source_name(node, 'channel')}"


def close(node: Node, ctx: TitleContext) -> str:
    """``close work``."""
    return f"close {ctx.source_name(node, 'channel')}"


def replicate(node: Node, ctx: TitleContext) -> str:
    """``replicate × 4``."""
    return f"replicate × {_prop(node, 'n', '')}"


def event_use(node: Node, ctx: TitleContext) -> str:
    """``record ev`` / ``synchronize ev``."""
    from . import registry

    return f"{registry.KINDS[node.kind].title} {ctx.source_name(node, 'event')}"


def layout_op(node: Node, ctx: TitleContext) -> str:
    """``y = allreduce(X) sum``: the result name, the op, its input and its key parameters."""
    from . import registry

    kind = registry.KINDS[node.kind]
    params = " ".join(
        f"{p.name} {_value_text(node.props.get(p.name, p.default))}"
        if p.type in ("int", "number")
        else _value_text(node.props.get(p.name, p.default))
        for p in kind.props
    )
    text = f"{kind.title}({ctx.source_name(node, 'tensor')}) {params}".strip()
    return f"{node.name} = {text}" if node.name else text


def _value_text(value: Any) -> str:
    """A property value in a title: lists bracketed, records as ``a:b`` (pools), exprs short."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return ":".join(str(v) for v in value.values())
    return short_expr(value)


def dispatch(node: Node, ctx: TitleContext) -> str:
    """``dispatch round_robin · 4 workers`` / ``dispatch affinity(batch)`` (the count is shown
    only where the policy takes it)."""
    policy = _prop(node, "policy", "")
    key = short_expr(_prop(node, "key", ""))
    how = f"{policy}({key})" if key and policy != "round_robin" else policy
    from . import registry

    if not registry.prop_applies(node, "n"):  # keyed policies: the workers come from streams(n)
        return f"dispatch {how}"
    workers = _prop(node, "n", "")
    return f"dispatch {how} · {workers} worker{'' if workers == 1 else 's'}"


def streams(node: Node, ctx: TitleContext) -> str:
    """``streams 2``."""
    return f"streams {_prop(node, 'n', '')}"


def stream_by(node: Node, ctx: TitleContext) -> str:
    """``stream_by head % 2``."""
    return f"stream_by {short_expr(_prop(node, 'key', ''))}"


def timing(node: Node, ctx: TitleContext) -> str:
    """``timing immediate`` / ``timing batched(4)``."""
    policy = _prop(node, "policy", "")
    return f"timing {policy}" if policy == "immediate" else f"timing {policy}({_prop(node, 'param', '')})"  # fmt: skip


def schedule_changes(node: Node, ctx: TitleContext) -> str:
    """``task_graph window 8 · deps infer``: the op and every property not at its default."""
    from . import registry

    kind = registry.KINDS[node.kind]
    changed = [
        f"{p.name} {_value_text(node.props[p.name])}"
        for p in kind.props
        if p.name in node.props and node.props[p.name] != p.default
    ]
    return _capped(f"{kind.title} {' · '.join(changed)}".strip())


def _capped(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def program(node: Node, ctx: TitleContext) -> str:
    """``program → cpu_sim``."""
    return f"{node.name or 'program'} → {_prop(node, 'target', '')}"
