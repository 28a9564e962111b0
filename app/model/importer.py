"""DSL script -> graph document ("Import Python"): objects in, document out.

``import_script(path)`` runs the script in a worker process (``python -m
app.model.import_worker PATH``): a script is code, so it never runs inside the studio. The
worker executes it with ``runpy`` (under a name other than ``__main__``, so its runner block
stays inactive), collects every ``Workload``/``Program`` its globals reach plus the tensors,
axes, kernels (with their traced KernelIR), channels, events and schedules they reference, and
converts those OBJECTS to a document with ``document_from_namespace`` — the source text is never
parsed. Nodes are laid out left to right by dependency.

What the graph cannot express (Constexpr parameters, ``min``/``max``/slot/symbol expressions,
named processes inside ``P.pipe``, memory layouts other than a tensor's row/column-major order
(explicit strides, swizzles, a relayout to a memory layout), collectives of a tensor slice or whose result
is used in another scope) raises ``ScriptImportError`` naming the object and, when known, the
user's file:line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import registry
from .document import Document, Edge, Graph, Node, PortRef

__all__ = ["ScriptImportError", "import_script", "document_from_namespace", "layout_graph"]

_APP_PARENT = str(Path(__file__).resolve().parents[2])


class ScriptImportError(Exception):
    """The script could not be imported; ``str()`` is a one-line message for the user."""


def import_script(path: str | os.PathLike[str], timeout: float = 60) -> Document:
    """Run the DSL script at ``path`` in a worker process and return its document."""
    from .io import from_json

    script = Path(path)
    if not script.is_file():
        raise ScriptImportError(f"{script}: no such file")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_APP_PARENT, env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "app.model.import_worker", str(script.resolve())],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(script.resolve().parent),
        )
    except subprocess.TimeoutExpired:
        raise ScriptImportError(
            f"{script}: the script did not finish within {timeout:g} s (import stopped)"
        ) from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        raise ScriptImportError(lines[-1] if lines else f"{script}: import worker failed")
    return from_json(proc.stdout, script)


# ------------------------------------------------------------------------------------------
# expressions and views -> text


_PREC = {
    "or": 6, "xor": 7, "and": 8, "shl": 9, "shr": 9, "add": 10, "sub": 10,
    "mul": 11, "div": 11, "floordiv": 11, "mod": 11,
    "lt": 5, "le": 5, "gt": 5, "ge": 5, "eq": 5, "ne": 5,
}  # fmt: skip
_SYM = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%", "lt": "<",
    "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "and": "&", "or": "|",
    "xor": "^", "shl": "<<", "shr": ">>",
}  # fmt: skip


def expr_text(e: Any, where: str, key: bool = False) -> str:
    """Python text for a ScalarExpr (minimal parentheses); ``key``: axis refs as t.get(...)."""
    text, _ = _expr(e, where, key)
    return text


def _expr(e: Any, where: str, key: bool) -> tuple[str, int]:
    from pto_wsp.scalar_expr import ScalarExpr

    if isinstance(e, bool):
        return repr(e), 13
    if isinstance(e, int | float):
        return repr(e), 13 if e >= 0 else 12
    if hasattr(e, "index_items") and hasattr(e, "root"):
        return view_text(e, where), 13
    if not isinstance(e, ScalarExpr):
        raise ScriptImportError(f"{where}: cannot express {e!r} in the graph")
    k = e.kind
    if k == "const":
        v = e.value
        return repr(v.item() if hasattr(v, "item") else v), 13 if not (v < 0) else 12
    if k == "var":
        return str(e.name), 13
    if k == "axis":
        return (f"t.get({str(e.name)!r})".replace("'", '"'), 13) if key else (str(e.name), 13)
    if k == "load":
        return view_text(e.args[0], where), 13
    if k == "unary" and e.op in ("neg", "not"):
        inner, p = _expr(e.args[0], where, key)
        if p < 12:
            inner = f"({inner})"
        return ("-" if e.op == "neg" else "~") + inner, 12
    if k == "binary" and e.op in _PREC:
        prec = _PREC[e.op]
        a, pa = _expr(e.args[0], where, key)
        b, pb = _expr(e.args[1], where, key)
        if pa < prec or (prec == 5 and pa == 5):
            a = f"({a})"
        if pb <= prec:
            b = f"({b})"
        return f"{a} {_SYM[e.op]} {b}", prec
    raise ScriptImportError(
        f"{where}: the expression {e} uses {e.op or k}, which graph expressions cannot express "
        "(they allow names, numbers, arithmetic, comparisons and tensor elements)"
    )


def view_text(view: Any, where: str) -> str:
    """``Q[b, h]`` for a view of root ``Q`` (trailing full dimensions left out)."""
    return _root_name_hook(view.root) + _index_suffix(view, where)


def _index_suffix(view: Any, where: str) -> str:
    text = index_text(view, where)
    return f"[{text}]" if text else ""


def index_text(view: Any, where: str) -> str:
    """The index of a view relative to its root: ``"b, h"``, ``"b * 4:b * 4 + 4"``, or ``""``."""
    from pto_wsp.tensor import IndexPoint

    items = list(view.index_items)
    shape = view.root.shape
    parts: list[str] = []
    for it, n in zip(items, shape, strict=True):
        if isinstance(it, IndexPoint):
            parts.append(expr_text(it.expr, where))
            continue
        start, stop, step = it.start, it.stop, it.step
        if (
            isinstance(start, int)
            and isinstance(stop, int)
            and start == 0
            and stop == n
            and step == 1
        ):
            parts.append(":")
            continue
        text = f"{expr_text(start, where)}:{expr_text(stop, where)}"
        if step != 1:
            text += f":{step}"
        parts.append(text)
    while parts and parts[-1] == ":":
        parts.pop()
    return ", ".join(parts)


_NAME_HOOK: list[Any] = []


def _root_name_hook(root: Any) -> str:
    if _NAME_HOOK:
        return _NAME_HOOK[-1](root)
    return str(getattr(root, "name", None) or "tensor")


# ------------------------------------------------------------------------------------------
# objects -> document


def _loc_of(obj: Any) -> str:
    loc = getattr(obj, "loc", None)
    return f"{loc.file}:{loc.line}" if loc is not None else ""


class _Converter:
    def __init__(self, name: str):
        self.doc = Document(name=name)
        self.next_id = 1
        self.names: set[str] = set()
        self.root_of: dict[int, Node] = {}  # id(object) -> root node
        self.keep: list[Any] = []  # keeps objects alive so id() stays unique
        self.global_names: dict[int, str] = {}
        self.gets: dict[tuple[int, str], Node] = {}  # (id(graph), target) -> data.get
        self.notes: list[str] = []  # what the user should know about the import
        self.kernel_names: dict[str, str] = {}  # KernelRef name -> kernel.def node name
        # id(result tensor) of a collective -> (graph holding its layout node, the node)
        self.collective_results: dict[int, tuple[Graph, Node]] = {}

    # -- node plumbing -----------------------------------------------------------------------
    def _id(self) -> str:
        ident = f"n{self.next_id}"
        self.next_id += 1
        return ident

    def unique(self, base: str) -> str:
        base = re.sub(r"\W", "_", base) or "node"
        if base[0].isdigit():
            base = "_" + base
        name = registry.free_name(base, self.names)
        self.names.add(name)
        return name

    def add(self, graph: Graph, kind: str, name: str | None = None, **props: Any) -> Node:
        spec = registry.kind(kind)
        values = spec.defaults()
        values.update(props)
        if name is None:
            name = self.unique(spec.name_base) if spec.name_base else ""
        node = Node(self._id(), kind, name, (0.0, 0.0), values)
        if spec.scope:
            node.body = Graph()
            entry = Node(self._id(), "scope.entry", "entry", (0.0, 0.0), {})
            node.body.nodes[entry.id] = entry
        graph.nodes[node.id] = node
        return node

    @staticmethod
    def connect(graph: Graph, src: Node, sport: str, dst: Node, dport: str) -> None:
        graph.edges.append(Edge(PortRef(src.id, sport), PortRef(dst.id, dport)))

    def get(self, graph: Graph, root: Node) -> Node:
        """A ``data.get`` of ``root`` in ``graph`` (or the root node itself at the root)."""
        if graph is self.doc.graph:
            return root
        key = (id(graph), root.name)
        node = self.gets.get(key)
        if node is None:
            node = self.add(graph, "data.get", "", target=root.name)
            self.gets[key] = node
        return node

    def get_port(self, graph: Graph, root: Node) -> tuple[Node, str]:
        src = self.get(graph, root)
        port = "out" if src.kind == "data.get" else registry.kind(root.kind).ports[-1].name
        return src, port

    def name_for(self, obj: Any, fallback: str) -> str:
        g = self.global_names.get(id(obj))
        own = getattr(obj, "name", None)
        return self.unique(g or (own if isinstance(own, str) and own else fallback))

    # -- data -----------------------------------------------------------------------------------
    def tensor(self, t: Any) -> Node:
        root = t.root
        node = self.root_of.get(id(root))
        if node is not None:
            return node
        import numpy as np

        from pto_wsp.tensor_init import recipe_of

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
            # contents made by arbitrary code cannot be recreated from a graph property:
            # the graph keeps shape and dtype and uses seeded random data instead (reported)
            props["init"] = "random"
            self.notes.append(
                f"tensor {self.name_for_preview(root)}: its contents were computed by the "
                "script; the imported tensor uses seeded random data of the same shape"
            )
        if not props["shape"]:
            raise ScriptImportError(
                f"tensor {getattr(root, 'name', None) or '?'}: 0-d tensors are not graph nodes"
            )
        where = f"tensor {self.name_for_preview(root)}"
        props["mem"] = mem_of(root.layout, props["shape"], where)
        props["layout"] = dist_of(root.layout, where, mem_ok=True)
        if all(d == "R" for d in props["layout"]):
            props["layout"] = []  # the default layout: the exporter writes no layout=
        node = self.add(self.doc.graph, "data.tensor", self.name_for(root, "tensor"), **props)
        self.root_of[id(root)] = node
        self.keep.append(root)
        return node

    def name_for_preview(self, obj: Any) -> str:
        return self.global_names.get(id(obj)) or str(getattr(obj, "name", None) or "tensor")

    def axis(self, ax: Any, where: str) -> Node:
        node = self.root_of.get(id(ax))
        if node is not None:
            return node
        from pto_wsp.axes import Dense, DenseDyn, Ragged, Sparse

        g = self.doc.graph
        if isinstance(ax, Dense):
            node = self.add(g, "axis.dense", self.name_for(ax, "axis"), size=int(ax.size))
        elif isinstance(ax, DenseDyn):
            if not isinstance(ax.size, int):
                raise ScriptImportError(
                    f"{where}: DenseDyn({ax.size}) has a run-time size expression; graph "
                    "DenseDyn axes take an int size"
                )
            node = self.add(g, "axis.dense_dyn", self.name_for(ax, "axis"), size=int(ax.size))
        elif isinstance(ax, Ragged):
            lengths = self.tensor(ax.lengths_tensor)
            node = self.add(g, "axis.ragged", self.name_for(ax, "axis"), outer_size=ax.outer_size)
            self.connect(g, lengths, "tensor", node, "lengths")
        elif isinstance(ax, Sparse):
            indptr = self.tensor(ax.indptr_tensor)
            indices = self.tensor(ax.indices_tensor)
            node = self.add(
                g, "axis.sparse", self.name_for(ax, "routing"), outer_size=ax.outer_size
            )
            self.connect(g, indptr, "tensor", node, "indptr")
            self.connect(g, indices, "tensor", node, "indices")
        else:
            raise ScriptImportError(
                f"{where}: cannot import the axis {ax!r} (graph loops iterate Dense, DenseDyn, "
                "Ragged and Sparse axes)"
            )
        self.root_of[id(ax)] = node
        self.keep.append(ax)
        return node

    def channel(self, ch: Any) -> Node:
        node = self.root_of.get(id(ch))
        if node is None:
            node = self.add(self.doc.graph, "csp.channel", self.name_for(ch, "ch"), depth=ch.depth)
            self.root_of[id(ch)] = node
            self.keep.append(ch)
        return node

    def event(self, ev: Any) -> Node:
        node = self.root_of.get(id(ev))
        if node is None:
            node = self.add(self.doc.graph, "event.def", self.name_for(ev, "ev"))
            self.root_of[id(ev)] = node
            self.keep.append(ev)
        return node

    # -- kernels --------------------------------------------------------------------------------
    def kernel(self, ref: Any) -> Node:
        node = self.root_of.get(id(ref))
        if node is not None:
            return node
        where = f"kernel {ref.name}" + (f" ({_loc_of(ref)})" if _loc_of(ref) else "")
        if ref.dialect != "pto":
            raise ScriptImportError(f"{where}: {ref.dialect} kernels are not graph kernels")
        params = []
        for p in ref.signature:
            if p.direction == "constexpr":
                raise ScriptImportError(
                    f"{where}: Constexpr parameter {p.name!r} has no graph equivalent"
                )
            q = {
                "name": p.name,
                "direction": {"in": "In", "out": "Out", "inout": "InOut"}[p.direction],
                "kind": p.kind,
            }
            if p.kind == "tile":
                q["rows"], q["cols"] = int(p.shape[0]), int(p.shape[1])
            if p.kind != "tensor":
                q["dtype"] = p.dtype.value if p.dtype is not None else "f32"
            params.append(registry.normalize_param(q))
        props = {
            "params": params,
            "cpp_src": ref.cpp_src or "",
            "cpp_includes": list(ref.cpp_includes),
            "cost": int(ref.cost or 0),
            "jit": getattr(ref, "decorator", "kernel") == "jit_kernel",
        }
        node = self.add(self.doc.graph, "kernel.def", self.unique(ref.name), **props)
        self.kernel_names.setdefault(ref.name, node.name)
        self.root_of[id(ref)] = node
        self.keep.append(ref)
        assert node.body is not None
        param_nodes: list[Node] = []
        for q in params:
            param_nodes.append(self.add(node.body, "kernel.param", q["name"], param=q["name"]))
        if ref.body_kind == "traced":
            try:
                ir = ref.ir
            except Exception as e:  # never called and not statically typed
                raise ScriptImportError(f"{where}: {e}") from None
            self._kernel_ops(node, ir, param_nodes, where)
        return node

    def _kernel_ops(self, kern: Node, ir: Any, params: list[Node], where: str) -> None:
        body = kern.body
        assert body is not None
        values: dict[int, tuple[Node, str]] = {}
        for i, pn in enumerate(params):
            values[i] = (pn, "tile")
        stored: set[int] = set()
        nparams = len(params)
        for k, op in enumerate(ir.ops):
            vid = nparams + k
            if op.op == "load" and op.attrs.get("implicit"):
                src = op.operands[0]
                if src in stored:
                    raise ScriptImportError(
                        f"{where}: parameter {params[src].name!r} is read after it was stored; "
                        "graph kernels store their outputs last"
                    )
                values[vid] = values[src]
                continue
            if op.op == "store":
                dst, src = op.operands
                if dst in stored:
                    raise ScriptImportError(
                        f"{where}: parameter {params[dst].name!r} is stored twice; graph kernels "
                        "store each output once"
                    )
                stored.add(dst)
                s_node, s_port = values[src]
                self.connect(body, s_node, s_port, params[dst], "value")
                continue
            kind = f"pto.{op.op}"
            if kind not in registry.KINDS:
                raise ScriptImportError(f"{where}: op pto.{op.op} has no graph node")
            if op.op == "load" and op.operands[0] in stored:
                raise ScriptImportError(
                    f"{where}: parameter {params[op.operands[0]].name!r} is loaded after it "
                    "was stored; graph kernels store their outputs last"
                )
            props: dict[str, Any] = {}
            if op.op == "constant":
                props = {"value": op.attrs["value"], "dtype": op.dtype.value}
            elif op.op == "alloc":
                props = {"shape": [int(d) for d in op.shape], "dtype": op.dtype.value}
            elif op.op == "broadcast":
                props = {"shape": [int(d) for d in op.attrs["shape"]]}
            node = self.add(body, kind, **props)
            ins = [p for p in registry.kind(kind).ports if p.direction == "in"]
            for port, operand in zip(ins, op.operands, strict=False):
                s_node, s_port = values[operand]
                self.connect(body, s_node, s_port, node, port.name)
            values[vid] = (node, "result")

    # -- workloads ------------------------------------------------------------------------------
    def workload(self, w: Any) -> Node:
        """The node producing workload ``w`` (without its schedule)."""
        from pto_wsp.workload import CombineNode, ConnectNode, SequentialNode

        key = id(w.root)
        node = self.root_of.get(key)
        if node is not None:
            return node
        g = self.doc.graph
        where = f"workload {w.name}" + (f" ({_loc_of(w)})" if _loc_of(w) else "")
        root = w.root
        if isinstance(root, CombineNode | SequentialNode):
            kind = "compose.combine" if isinstance(root, CombineNode) else "compose.sequential"
            children = [self.workload(c) for c in root.children]
            node = self.add(g, kind, self.name_for(w, w.name))
            for c in children:
                self.connect(g, c, "workload", node, "workloads")
        elif (
            isinstance(root, list)
            and len(root) == 1
            and isinstance(root[0], ConnectNode)
            and w.fn is None
        ):
            node = self._connect(root[0], w, where)
        else:
            node = self.add(g, "workload.def", self.unique(w.name))
            self.root_of[key] = node
            self.keep.append(w.root)
            assert node.body is not None
            self.statements(node, w.statements(), where)
            return node
        self.root_of[key] = node
        self.keep.append(w.root)
        return node

    def _connect(self, cn: Any, w: Any, where: str) -> Node:
        g = self.doc.graph
        procs: list[Node] = []
        for p in cn.processes:
            pn = self.add(g, "csp.process", self.unique(p.name), replicas=int(p.replicas))
            self.statements(pn, p.body, f"{where}, process {p.name}")
            procs.append(pn)
        chans = [self.channel(c) for c in cn.channels]
        node = self.add(g, "csp.connect", self.name_for(w, w.name))
        for pn in procs:
            self.connect(g, pn, "process", node, "processes")
        for c in chans:
            self.connect(g, c, "channel", node, "channels")
        return node

    def statements(self, owner: Node, stmts: Iterable[Any], where: str) -> None:
        body = owner.body
        assert body is not None
        prev = next(n for n in body.nodes.values() if n.kind == "scope.entry")
        for stmt in stmts:
            for node in self.statement(body, stmt, where):
                self.connect(body, prev, "exec", node, "exec")
                prev = node

    def statement(self, g: Graph, s: Any, where: str) -> list[Node]:
        from pto_wsp.kernel import KernelCall
        from pto_wsp.layout import CollectiveOp
        from pto_wsp.workload import (
            CloseNode,
            CondNode,
            ConsumeNode,
            LoopNode,
            PipeNode,
            RecordNode,
            SendNode,
            SlotLoadNode,
            SlotSetNode,
            SyncNode,
        )

        here = f"{where}, line {s.loc.line}" if getattr(s, "loc", None) is not None else where
        if isinstance(s, KernelCall):
            return [self.call(g, s, here)]
        if isinstance(s, LoopNode):
            return [self.loop(g, s, here)]
        if isinstance(s, CondNode):
            out = []
            for pred, stmts in s.branches:
                if pred is None:
                    node = self.add(g, "branch.otherwise")
                else:
                    node = self.add(g, "branch.when", pred=expr_text(pred, here))
                self.statements(node, stmts, where)
                out.append(node)
            return out
        if isinstance(s, PipeNode):
            node = self.add(g, "pipe.scope", depth=int(s.depth if s.depth is not None else 2))
            stmts = []
            for p in s.processes:
                auto = re.fullmatch(r"stage\d+|consume_.*", p.name) is not None
                if not auto or p.replicas != 1 or len(p.body) != 1:
                    raise ScriptImportError(
                        f"{here}: process {p.name!r} of a P.pipe is named or has several "
                        "statements; graph pipelines hold one statement per process"
                    )
                stmts.append(p.body[0])
            self.statements(node, stmts, where)
            return [node]
        if isinstance(s, SendNode):
            node = self.add(g, "csp.send")
            ch, port = self.get_port(g, self.channel(s.channel))
            self.connect(g, ch, port, node, "channel")
            if isinstance(s.value, KernelCall):
                call = self.call(g, s.value, here)
                self.connect(g, call, "value", node, "value")
            elif s.value is not None:
                raise ScriptImportError(
                    f"{here}: send of a tensor has no graph node; send a kernel call"
                )
            if not s.block:
                raise ScriptImportError(f"{here}: send(..., block=False) has no graph node")
            return [node]
        if isinstance(s, ConsumeNode):
            node = self.add(g, "csp.consume", var=str(s.var.name))
            ch, port = self.get_port(g, self.channel(s.channel))
            self.connect(g, ch, port, node, "channel")
            self.statements(node, s.body, where)
            return [node]
        if isinstance(s, CloseNode):
            node = self.add(g, "csp.close")
            ch, port = self.get_port(g, self.channel(s.channel))
            self.connect(g, ch, port, node, "channel")
            return [node]
        if isinstance(s, RecordNode | SyncNode):
            kind = "event.record" if isinstance(s, RecordNode) else "event.synchronize"
            node = self.add(g, kind)
            ev, port = self.get_port(g, self.event(s.event))
            self.connect(g, ev, port, node, "event")
            return [node]
        if isinstance(s, SlotSetNode):
            return [self.add(g, "slot.set", slot=int(s.slot), value=expr_text(s.value, here))]
        if isinstance(s, CollectiveOp):
            return [self.collective(g, s, here)]
        if isinstance(s, SlotLoadNode):
            src, port = self.data_port(g, s.view, here)
            node = self.add(
                g,
                "slot.load",
                slot=int(s.slot),
                index=index_text(s.view, here),
                row=expr_text(s.row, here),
                col=expr_text(s.col, here),
            )
            self.connect(g, src, port, node, "tensor")
            return [node]
        raise ScriptImportError(f"{here}: {type(s).__name__} statements have no graph node")

    def collective(self, g: Graph, s: Any, where: str) -> Node:
        """A ``layout.*`` node for ``y = allreduce(x, ...)`` and friends; its output port stands
        for the result tensor in later statements of the same body."""
        what = f"{where}: {s.kind}"
        src = s.source
        if not src.is_root:
            raise ScriptImportError(
                f"{what} of a tensor slice has no graph node; graph collectives take a whole tensor"
            )
        props: dict[str, Any] = {}
        if s.kind == "relayout":
            props["dist"] = dist_of(s.layout, what)
        elif s.kind == "allreduce":
            props["op"] = str(s.op)
        elif s.kind == "allgather":
            props["dim"] = int(s.dim)
        elif s.kind == "reduce_scatter":
            mesh_axis = getattr(s, "mesh_axis", None)
            if mesh_axis is None:
                mesh_axis = s.layout.dist[int(s.dim)].mesh_axis
            props.update(dim=int(s.dim), op=str(s.op), mesh_axis=int(mesh_axis))
            props["mesh_size"] = int(s.mesh_size)
        else:
            raise ScriptImportError(f"{what} has no graph node")
        node = self.add(g, f"layout.{s.kind}", self._result_name(s), **props)
        x, port = self.data_port(g, src, what)
        self.connect(g, x, port, node, "tensor")
        self.collective_results[id(s.result)] = (g, node)
        self.keep.append(s.result)
        return node

    def _result_name(self, s: Any) -> str:
        """The variable the recorded line assigns the result to (``y = allreduce(x)``: the
        exporter writes the node's name there), else the result tensor's own name, else ``y``."""
        text = getattr(getattr(s, "loc", None), "text", "") or ""
        assigned = re.match(rf"\s*([A-Za-z_]\w*)\s*=\s*{s.kind}\(", text)
        if assigned is not None:
            return self.unique(assigned.group(1))
        own = getattr(s.result, "name", None)
        if isinstance(own, str) and own.isidentifier():
            return self.unique(own)
        return self.unique(registry.kind("layout.allreduce").name_base)

    def data_port(self, g: Graph, t: Any, where: str) -> tuple[Node, str]:
        """The node and output port that stand for tensor ``t`` (a view's root) in graph ``g``:
        the layout node of a collective result, or a data.tensor (through a Get in a body)."""
        root = getattr(t, "root", t)
        found = self.collective_results.get(id(root))
        if found is None:
            return self.get_port(g, self.tensor(t))
        holder, node = found
        if holder is not g:
            raise ScriptImportError(
                f"{where}: the result of {node.kind[len('layout.') :]} is used inside a loop or "
                "block; graph edges stay in one body, so use it in the body that computes it"
            )
        return node, "tensor"

    def loop(self, g: Graph, s: Any, where: str) -> Node:
        names = [str(v.name) for v in s.vars]
        if s.kind == "parallel":
            node = self.add(g, "loop.parallel", vars=", ".join(names))
            for ax in s.axes:
                src, port = self.get_port(g, self.axis(ax, where))
                self.connect(g, src, port, node, "axes")
        elif s.kind == "seq":
            node = self.add(g, "loop.seq", var=names[0])
            src, port = self.get_port(g, self.axis(s.axes[0], where))
            self.connect(g, src, port, node, "axis")
        else:
            sel = s.axes[0]
            parent = getattr(sel, "axis", sel)
            row = getattr(sel, "row", None)
            node = self.add(
                g, "loop.sel", var=names[0], row="" if row is None else expr_text(row, where)
            )
            src, port = self.get_port(g, self.axis(parent, where))
            self.connect(g, src, port, node, "sparse")
        self.statements(node, s.body, where)
        return node

    def call(self, g: Graph, c: Any, where: str) -> Node:
        kern = self.kernel(c.kernel)
        index: dict[str, str] = {}
        node = self.add(
            g,
            "kernel.call",
            axes=", ".join(expr_text(a, where) for a in c.axes),
            index=index,
        )
        src, port = self.get_port(g, kern)
        self.connect(g, src, port, node, "kernel")
        for p in c.kernel.signature:
            arg = c.args[p.name]
            if p.is_data:
                src, port = self.data_port(g, arg, f"{where}, argument {p.name}")
                text = index_text(arg, f"{where}, argument {p.name}")
                if text:
                    index[p.name] = text
                self.connect(g, src, port, node, p.name)
            else:
                index[p.name] = expr_text(arg, f"{where}, argument {p.name}")
        return node

    # -- schedules -------------------------------------------------------------------------------
    def schedule_chain(self, w: Any, start: Node, last_name: str | None) -> Node:
        g = self.doc.graph
        prev = start
        steps = list(w.schedule.steps)
        for i, step in enumerate(steps):
            name = last_name if (i == len(steps) - 1 and last_name) else None
            node = self.sched_node(step, w, name)
            self.connect(g, prev, "workload", node, "workload")
            prev = node
        return prev

    def sched_node(self, step: Any, w: Any, name: str | None) -> Node:
        from pto_wsp.schedule import trace_key

        g = self.doc.graph
        where = f"schedule of {w.name}" + (
            f" ({step.loc.file}:{step.loc.line})" if step.loc else ""
        )
        nm = self.unique(name) if name else None
        if step.name == "dispatch":
            pol = step.args[0]
            props: dict[str, Any] = {"policy": pol.kind}
            if pol.kind == "round_robin":
                props["n"] = int(pol.num_workers)
            elif pol.key_fn is not None:
                props["key"] = expr_text(pol.key_fn.expr, where, key=True)
            return self.add(g, "sched.dispatch", nm, **props)
        if step.name == "streams":
            return self.add(g, "sched.streams", nm, n=int(step.args[0]))
        if step.name == "stream_by":
            key = trace_key(step.args[0], ".stream_by", step.loc)
            return self.add(g, "sched.stream_by", nm, key=expr_text(key.expr, where, key=True))
        if step.name == "timing":
            pol = step.args[0]
            props = {"policy": pol.kind}
            if pol.param is not None:
                v = pol.param
                props["param"] = int(v) if pol.kind in ("batched", "interleaved") else v
            return self.add(g, "sched.timing", nm, **props)
        if step.name == "task_graph":
            return self.add(g, "sched.task_graph", nm, **self.task_graph_props(step, where))
        if step.name == "spatial_map":
            return self.add(g, "sched.spatial_map", nm, grid=[int(d) for d in step.args[0]])
        raise ScriptImportError(f"{where}: schedule step {step.name} has no graph node")

    def task_graph_props(self, step: Any, where: str) -> dict[str, Any]:
        """Properties of a ``sched.task_graph`` node for one ``.task_graph(...)`` call."""
        window, deps, ready, start, trace, pools = step.args
        props: dict[str, Any] = {}
        if window is not None:
            props.update(window=int(window.size), unit=str(window.unit))
            props["mode"] = window.mode.name.lower()
        if deps is not None:
            props["deps"] = deps_choice(deps, where)
        if ready is not None:
            props["ready"] = _knob_choice(ready, registry.READY_POLICIES, "ReadyPolicy", where)
            if ready.kind == "priority":
                props["ready_key"] = expr_text(ready.key_fn.expr, where, key=True)
        if start is not None:
            props["start"] = _knob_choice(start, registry.START_POLICIES, "StartPolicy", where)
            if start.kind == "threshold":
                props["threshold"] = int(start.param)
        if trace is not None:
            props["trace"] = _knob_choice(trace, registry.TRACE_POLICIES, "TracePolicy", where)
        if pools is not None:
            props["pools"] = self.pools_entries(pools, where)
        return props

    def pools_entries(self, pools: Any, where: str) -> list[dict[str, Any]]:
        """``Pools.by_kernel`` entries; other pool shapes have no graph property."""
        kernels = list(pools.kernels)
        if [p for _k, p in kernels] != list(range(len(pools.sizes))):
            raise ScriptImportError(
                f"{where}: only Pools.by_kernel pools (one pool per kernel) have a graph "
                f"property, got {pools}"
            )
        out: list[dict[str, Any]] = []
        for name, pool in kernels:
            node_name = self.kernel_names.get(name)
            if node_name is None:
                raise ScriptImportError(
                    f"{where}: Pools names kernel {name!r}, which no workload of the script calls"
                )
            out.append({"kernel": node_name, "workers": int(pools.sizes[pool])})
        return out


def dist_of(layout: Any, where: str, *, mem_ok: bool = False) -> list[str]:
    """``["R", "S0", ...]`` for a TensorLayout.

    Only tensor nodes have a memory-layout property (``mem``, read by ``mem_of``): elsewhere
    (``mem_ok`` False, e.g. the target of a relayout) a memory layout is refused.
    """
    from pto_wsp.layout import TensorShard

    if not mem_ok and getattr(layout, "mem", None) is not None:
        raise ScriptImportError(
            f"{where}: the memory layout {layout.mem!r} has no graph property here (only a "
            "tensor node has one; a relayout node gives the distribution only)"
        )
    return [f"S{d.mesh_axis}" if isinstance(d, TensorShard) else "R" for d in layout.dist]


def mem_of(layout: Any, shape: list[int], where: str) -> str:
    """A tensor node's ``mem`` property for a TensorLayout's memory facet.

    ``default`` without one; ``row_major`` / ``col_major`` for an order whose strides (if
    given) are that order's for ``shape``. Explicit strides of any other kind and swizzles
    have no graph property: ``ScriptImportError`` naming the tensor and the layout.
    """
    from pto_wsp.layout import MemLayout

    mem = getattr(layout, "mem", None)
    if mem is None:
        return "default"
    if mem.swizzle is not None:
        raise ScriptImportError(
            f"{where}: the memory layout {mem!r} has a swizzle, which has no graph property "
            "(a tensor's mem is default, row_major or col_major)"
        )
    ordered = {"row_major": MemLayout.row_major(shape), "col_major": MemLayout.col_major(shape)}
    if mem.order in ordered and mem.strides in (None, ordered[mem.order].strides):
        return str(mem.order)
    raise ScriptImportError(
        f"{where}: the memory layout {mem!r} gives explicit strides that are not row_major or "
        f"col_major for shape {tuple(shape)}, which has no graph property (a tensor's mem is "
        "default, row_major or col_major)"
    )


def deps_choice(deps: Any, where: str) -> str:
    """The ``deps`` property for a ``Deps``: infer, infer_bounding or explicit."""
    kind = str(getattr(deps, "kind", ""))
    mode = getattr(deps, "mode", None) or getattr(deps, "param", None)
    if kind == "infer" and mode == "bounding":
        kind = "infer_bounding"
    if kind not in registry.DEPS_MODES or kind == "default":
        raise ScriptImportError(f"{where}: Deps {deps} has no graph property")
    return kind


def _knob_choice(knob: Any, choices: tuple[str, ...], what: str, where: str) -> str:
    kind = str(getattr(knob, "kind", ""))
    if kind not in choices or kind == "default":
        raise ScriptImportError(f"{where}: {what} {knob} has no graph property")
    return kind


def document_from_namespace(namespace: dict[str, Any], name: str) -> tuple[Document, list[str]]:
    """The document for the objects a script left in ``namespace``, and notes for the user."""
    from pto_wsp.axes import Axis
    from pto_wsp.cli import collect
    from pto_wsp.csp import Channel, Event
    from pto_wsp.kernel import KernelRef
    from pto_wsp.program import Program
    from pto_wsp.tensor import Tensor

    conv = _Converter(name)
    for gname, value in namespace.items():
        if not gname.startswith("_") and id(value) not in conv.global_names:
            conv.global_names[id(value)] = gname
    _NAME_HOOK.append(lambda root: conv.tensor(root).name)
    try:
        for _gname, value in namespace.items():
            if isinstance(value, Tensor) and value.is_root:
                conv.tensor(value)
        for gname, value in namespace.items():
            if isinstance(value, Axis) and getattr(value, "kind", "") in (
                "dense", "dense_dyn", "ragged", "sparse"
            ):  # fmt: skip
                conv.axis(value, f"global {gname}")
        for _gname, value in namespace.items():
            if isinstance(value, KernelRef):
                conv.kernel(value)
            elif isinstance(value, Channel):
                conv.channel(value)
            elif isinstance(value, Event):
                conv.event(value)
        workloads, programs = collect(namespace)
        program_workloads = {id(p.workload) for _n, p in programs}
        for _wname, w in workloads:
            conv.workload(w)
        for wname, w in workloads:
            if id(w) in program_workloads or w.schedule.is_empty():
                continue
            conv.schedule_chain(w, conv.workload(w), wname)
        if len(programs) > 1:
            raise ScriptImportError(
                f"the script builds {len(programs)} programs "
                f"({', '.join(n for n, _ in programs)}); a project holds one"
            )
        for pname, prog in programs:
            if not isinstance(prog, Program):
                continue
            w = prog.workload
            last = conv.schedule_chain(w, conv.workload(w), None)
            target = conv.add(
                conv.doc.graph, "compile.target", conv.unique(pname), target=prog.target
            )
            conv.connect(conv.doc.graph, last, "workload", target, "workload")
    finally:
        _NAME_HOOK.pop()
    for graph, _owner in conv.doc.graphs():
        layout_graph(graph)
    return conv.doc, conv.notes


# ------------------------------------------------------------------------------------------
# layout


_COL, _ROW = 280.0, 150.0
_ROOT_COLUMN = {
    "data.tensor": 0, "data.scalar": 0, "axis.dense": 1, "axis.dense_dyn": 1, "axis.ragged": 1,
    "axis.sparse": 1, "kernel.def": 2, "csp.channel": 2, "event.def": 2, "workload.def": 3,
    "csp.process": 3, "csp.replicate": 4, "csp.connect": 4, "compose.combine": 4,
    "compose.sequential": 4,
}  # fmt: skip


def layout_graph(graph: Graph) -> None:
    """Place nodes left to right by dependency (longest path), stacked per column.

    Root graphs also keep the reading order of a script: data, axes, kernels, workloads,
    compositions, then the schedule chain.
    """
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for e in graph.edges:
        if e.src.node in preds and e.dst.node in preds:
            preds[e.dst.node].append(e.src.node)
    rank: dict[str, int] = {}

    def rank_of(nid: str, stack: frozenset[str] = frozenset()) -> int:
        if nid in rank:
            return rank[nid]
        if nid in stack:
            return 0
        node = graph.nodes[nid]
        base = _ROOT_COLUMN.get(node.kind, 0)
        r = max([base, *(rank_of(p, stack | {nid}) + 1 for p in preds[nid])])
        rank[nid] = r
        return r

    columns: dict[int, list[Node]] = {}
    for nid in graph.nodes:
        columns.setdefault(rank_of(nid), []).append(graph.nodes[nid])
    for col, nodes in columns.items():
        for row, node in enumerate(nodes):
            node.pos = (col * _COL, row * _ROW)
