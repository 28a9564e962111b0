"""Import Python's conversion of DSL objects (tensors, axes, kernels, workloads, schedules,
channels, events) into a format-v2 document: ``Converter``. Which node a DSL statement becomes is
each kind's ``import_dsl`` hook (``catalogue.dsl_kind``); this module walks the objects, keeps
the statement order in each frame, wires tensors into call ports, fills the schedule sheets and
names what it made. Expressions and views become text through ``import_text``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from pto_wsp.compiler.workers import resolve_workers
from pto_wsp.language.policy_kinds import DepsKind, DispatchKind, ReadyKind, StartKind

from . import catalogue, creation, frames, indexing, kernel_param, kind_lookup
from .document import FORMAT_VERSION, Document, Edge, Graph, Node, PortRef
from .export import natural_key
from .import_text import ScriptImportError, expr_text, index_text
from .kinds import kernels as kernel_kinds
from .kinds.schedule import (
    NOT_SET,
    READY_POLICIES,
    START_POLICIES,
    TIMING_COUNT_POLICIES,
    TRACE_POLICIES,
)
from .kinds.tile_ops import INT_ATTRS

__all__ = ["Converter", "dist_of", "mem_of", "deps_choice"]


def _loc_of(obj: Any) -> str:
    loc = getattr(obj, "loc", None)
    return f"{loc.file}:{loc.line}" if loc is not None else ""


def _line_of(obj: Any) -> str:
    """``", line N"`` for an object the DSL recorded with a source location, else ``""``."""
    loc = getattr(obj, "loc", None)
    return f", line {loc.line}" if loc is not None else ""


_DIRECTIONS = {"in": "In", "out": "Out", "inout": "InOut"}
_kind = catalogue.dsl_kind
"""The kind Import Python makes of a DSL object type (each kind family's ``DSL_KINDS``)."""


class Converter:
    """Builds a document from DSL objects: one node per object (``root_of``), frames for
    workloads, loops and blocks, the schedule sheets; the kinds' ``import_root`` /
    ``import_dsl`` hooks are handed this object (``im``)."""

    def __init__(self, name: str):
        self.doc = Document(name=name)
        self.doc.format_version = FORMAT_VERSION
        self.nodes = self.doc.graph.nodes
        self.edges = self.doc.graph.edges
        self.next_id = 1
        self.names: set[str] = set()
        self.root_of: dict[int, Node] = {}  # id(object) -> its node
        self.keep: list[Any] = []  # keeps objects alive so id() stays unique
        self.global_names: dict[int, str] = {}
        self.notes: list[str] = []  # what the user should know about the import
        # id(result tensor) of a collective -> its layout node
        self.collective_results: dict[int, Node] = {}
        # frame node id -> (the ScheduleSpec its sheet was filled from, where)
        self.sheet_of: dict[str, tuple[Any, str]] = {}
        self.kernel_nodes: dict[str, Node] = {}  # KernelRef name -> its kernel.def node
        self.auto_named: list[Node] = []  # nodes named after their kind (call, send2, v3...)
        # (id of a @workload function, ids of its arguments) -> its workload.def frame
        self.definitions: dict[tuple[Any, ...], Node] = {}

    # -- node plumbing -----------------------------------------------------------------------
    def canonical_order(self) -> list[Node]:
        """Every node of the document in an order that depends on its content only, not on
        the order the script defined things in: root nodes by name, each followed by its
        frame's children in order (depth first); then each kernel's body nodes."""
        kids: dict[str | None, list[Node]] = {}
        for n in self.nodes.values():
            kids.setdefault(n.parent, []).append(n)
        order: list[Node] = []

        def visit(node: Node) -> None:
            order.append(node)
            for child in kids.get(node.id, []):
                visit(child)

        roots = sorted(kids.get(None, []), key=lambda n: natural_key(n.name or n.id))
        for root in roots:
            visit(root)
        for root in roots:
            if root.body is not None:
                order.extend(root.body.nodes.values())
        return order

    def canonicalize(self) -> None:
        """Name the nodes named after their kind whose names the script never shows (calls,
        sends, kernel-body ops), and order the wires, by ``canonical_order``: importing an
        exported script then gives the names and the order of wires into a multi-input port
        (two calls writing one tensor) back, whatever order the script defined things in."""
        order = self.canonical_order()
        rank = {n.id: i for i, n in enumerate(order)}
        self.edges.sort(key=lambda e: rank.get(e.src.node, len(rank)))
        for body in (n.body for n in self.nodes.values() if n.body is not None):
            body.edges.sort(key=lambda e: rank.get(e.src.node, len(rank)))
        hidden = {n.id for n in self.auto_named if not kind_lookup.names_a_variable(n.kind)}
        if not hidden:
            return
        renamed = [n for n in order if n.id in hidden]
        used = self.names - {n.name for n in renamed}
        for node in renamed:
            node.name = creation.free_name(kind_lookup.kind(node.kind).name_base, used)
            used.add(node.name)

    def _id(self) -> str:
        ident = f"n{self.next_id}"
        self.next_id += 1
        return ident

    def unique(self, base: str) -> str:
        base = re.sub(r"\W", "_", base) or "node"
        if base[0].isdigit():
            base = "_" + base
        name = creation.free_name(base, self.names)
        self.names.add(name)
        return name

    def add(
        self, kind: str, name: str | None = None, parent: Node | None = None, **props: Any
    ) -> Node:
        """A new node of ``kind`` on the root canvas, inside ``parent`` (a frame) when given;
        it is the parent's last child so far (children keep statement order)."""
        spec = kind_lookup.kind(kind)
        values = spec.defaults()
        values.update(props)
        auto = name is None and bool(spec.name_base)
        if name is None:
            name = self.unique(spec.name_base) if spec.name_base else ""
        node = Node(self._id(), kind, name, (0.0, 0.0), values)
        if auto:
            self.auto_named.append(node)
        node.parent = parent.id if parent is not None else None
        self.nodes[node.id] = node
        return node

    def wire(self, src: Node, sport: str, dst: Node, dport: str) -> None:
        self.edges.append(Edge(PortRef(src.id, sport), PortRef(dst.id, dport)))

    def name_for(self, obj: Any, fallback: str) -> str:
        g = self.global_names.get(id(obj))
        own = getattr(obj, "name", None)
        return self.unique(g or (own if isinstance(own, str) and own else fallback))

    def name_for_preview(self, obj: Any) -> str:
        return self.global_names.get(id(obj)) or str(getattr(obj, "name", None) or "tensor")

    # -- data -----------------------------------------------------------------------------------
    def root(self, obj: Any, where: str) -> Node | None:
        """The root node for DSL object ``obj`` (one per object): made by the kind
        ``DSL_KINDS`` names for its type (``NodeKind.import_root``); None when no kind does."""
        node = self.root_of.get(id(obj))
        if node is not None:
            return node
        for cls in type(obj).__mro__:
            kind_id = catalogue.DSL_KINDS.get(cls.__name__)
            hook = kind_lookup.kind(kind_id).import_root if kind_id is not None else None
            if hook is not None:
                node = hook(self, obj, where)
                self.root_of[id(obj)] = node
                self.keep.append(obj)
                return node
        return None

    def tensor(self, t: Any) -> Node:
        root = t.root
        node = self.root(root, f"tensor {self.name_for_preview(root)}")
        if node is None:
            raise ScriptImportError(f"tensor {self.name_for_preview(root)}: has no graph node")
        return node

    def axis(self, ax: Any, where: str) -> Node:
        node = self.root(ax, where)
        if node is None:
            raise ScriptImportError(
                f"{where}: cannot import the axis {ax!r} (graph loops iterate Dense, DenseDyn, "
                "Ragged and Sparse axes)"
            )
        return node

    def channel(self, ch: Any) -> Node:
        node = self.root(ch, f"channel {getattr(ch, 'name', '?')}")
        assert node is not None  # a Channel is a csp.channel
        return node

    def event(self, ev: Any) -> Node:
        node = self.root(ev, f"event {getattr(ev, 'name', '?')}")
        assert node is not None  # an Event is an event.def
        return node

    # -- what a kind's import_root hook uses ------------------------------------------------------
    @staticmethod
    def mem_of(layout: Any, shape: list[int], where: str) -> str:
        return mem_of(layout, shape, where)

    @staticmethod
    def dist_of(layout: Any, where: str, *, mem_ok: bool = False) -> list[str]:
        return dist_of(layout, where, mem_ok=mem_ok)

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
            q: dict[str, Any] = {
                "name": p.name,
                "direction": _DIRECTIONS[p.direction],
                "kind": p.kind,
            }
            if p.kind == "tile":
                q["rows"], q["cols"] = int(p.shape[0]), int(p.shape[1])
            if p.kind != "tensor":
                q["dtype"] = p.dtype.value if p.dtype is not None else "f32"
            params.append(kernel_param.normalize_param(q))
        in_file = ref.cpp_body_path is not None or ref.cpp_tu_path is not None
        props: dict[str, Any] = {
            "params": params,
            # a body or unit in a file stays in its file: the document names the path
            "cpp_src": "" if in_file else (ref.cpp_src or ""),
            "cpp_body_path": str(ref.cpp_body_path or ""),
            "cpp_tu_path": str(ref.cpp_tu_path or ""),
            "abi": ref.abi or "auto",
            "cpp_includes": list(ref.cpp_includes),
            "cost": int(ref.cost or 0),
            "jit": getattr(ref, "decorator", "kernel") == "jit_kernel",
        }
        node = self.add(_kind("KernelRef"), self.unique(ref.name), **props)
        self.root_of[id(ref)] = node
        self.kernel_nodes.setdefault(ref.name, node)
        self.keep.append(ref)
        node.body = Graph()
        entry = Node(self._id(), kernel_kinds.ENTRY, "entry", (0.0, 0.0), {})
        node.body.nodes[entry.id] = entry
        param_nodes: list[Node] = []
        for q in params:
            pn = Node(self._id(), kernel_kinds.PARAM, q["name"], (0.0, 0.0), {"param": q["name"]})
            node.body.nodes[pn.id] = pn
            param_nodes.append(pn)
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

        def connect(src: Node, sport: str, dst: Node, dport: str) -> None:
            body.edges.append(Edge(PortRef(src.id, sport), PortRef(dst.id, dport)))

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
                connect(s_node, s_port, params[dst], "value")
                continue
            kind = catalogue.DSL_KINDS.get(f"TileOp.{op.op}")
            if kind is None:
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
            spec = kind_lookup.kind(kind)
            props.update({a: int(op.attrs[a]) for a in INT_ATTRS if a in op.attrs})
            values_ = spec.defaults()
            values_.update(props)
            node = Node(
                self._id(), kind, self.unique(spec.name_base) if spec.name_base else "",
                (0.0, 0.0), values_,
            )  # fmt: skip
            if spec.name_base:
                self.auto_named.append(node)
            body.nodes[node.id] = node
            ins = [p for p in spec.ports if p.direction == "in"]
            for port, operand in zip(ins, op.operands, strict=False):
                s_node, s_port = values[operand]
                connect(s_node, s_port, node, port.name)
            values[vid] = (node, "result")

    # -- workloads ------------------------------------------------------------------------------
    def workload(self, w: Any, parent: Node | None = None) -> Node:
        """The frame standing for workload ``w`` (without its schedule): a ``workload.def``,
        a ``compose.*`` frame (inside ``parent`` when it is nested in another) or a
        ``csp.connect`` frame."""
        from pto_wsp.language.workload import CombineNode, ConnectNode, SequentialNode

        key = id(w.root)
        node = self.root_of.get(key)
        if node is not None:
            return node
        where = f"workload {w.name}" + (f" ({_loc_of(w)})" if _loc_of(w) else "")
        root = w.root
        self.keep.append(w.root)
        if isinstance(root, CombineNode | SequentialNode):
            kind = _kind(type(root).__name__)  # CombineNode, SequentialNode
            # the script's variable, else the kind's base name: ``combine``/``sequential``
            # (the Workload's own default name) are DSL names a script cannot rebind
            gname = self.global_names.get(id(w))
            node = self.add(kind, self.unique(gname) if gname else None, parent)
            self.root_of[key] = node
            for child in root.children:
                self.compose_child(node, child, where)
            return node
        if parent is not None:
            raise ScriptImportError(
                f"{where}: a connect(...) pipeline inside combine/sequential has no graph frame "
                "(connect frames stand at the project root)"
            )
        if isinstance(root, list) and len(root) == 1 and isinstance(root[0], ConnectNode):
            if w.fn is None:
                node = self._connect(root[0], w, where)
                self.root_of[key] = node
                return node
        # each call of a @workload function traces anew: calls with the same arguments are
        # one definition (used by several instances)
        same = (id(w.fn), tuple((k, id(v)) for k, v in w.params.items()))
        node = self.definitions.get(same) if w.fn is not None else None
        if node is not None:
            self.root_of[key] = node
            return node
        node = self.add(_kind("Workload"), self.unique(w.name))
        self.root_of[key] = node
        if w.fn is not None:
            self.definitions[same] = node
            self.keep.extend((w.fn, *w.params.values()))
        self.statements(node, w.statements(), where)
        return node

    def compose_child(self, frame: Node, child: Any, where: str) -> None:
        """One workload of a combine/sequential: a nested compose frame, or an instance of the
        workload definition it calls."""
        from pto_wsp.language.workload import CombineNode, SequentialNode

        if isinstance(child.root, CombineNode | SequentialNode):
            self.workload(child, frame)
            return
        target = self.workload(child)
        if not kind_lookup.kind_of(target).defines_workload:
            raise ScriptImportError(
                f"{where}: {child.name} is a {kind_lookup.kind(target.kind).title} pipeline; "
                "combine/sequential frames hold workload instances and nested compositions"
            )
        self.add(_kind("CombineNode.child"), None, frame, workload=target.id)

    def _connect(self, cn: Any, w: Any, where: str) -> Node:
        node = self.add(_kind("ConnectNode"), self.name_for(w, w.name))
        for p in cn.processes:
            pn = self.add(_kind("ProcessNode"), self.unique(p.name), node, replicas=int(p.replicas))
            self.statements(pn, p.body, f"{where}, process {p.name}")
        for c in cn.channels:
            self.channel(c)
        return node

    def statements(self, frame: Node, stmts: Iterable[Any], where: str) -> None:
        for stmt in stmts:
            self.statement(frame, stmt, where)

    def statement(self, frame: Node, s: Any, where: str) -> None:
        """One DSL statement: the kind ``DSL_KINDS`` names for its type (a loop or collective
        by its ``kind`` too) makes its nodes (``NodeKind.import_dsl``)."""
        here = where + _line_of(s)
        for cls in type(s).__mro__:
            sub = getattr(s, "kind", None)
            kind_id = catalogue.DSL_KINDS.get(f"{cls.__name__}.{sub}") if isinstance(sub, str) else None  # fmt: skip
            kind_id = kind_id or catalogue.DSL_KINDS.get(cls.__name__)
            hook = kind_lookup.kind(kind_id).import_dsl if kind_id is not None else None
            if hook is not None:
                hook(self, frame, s, here, where)
                return
        raise ScriptImportError(f"{here}: {type(s).__name__} statements have no graph node")

    # -- what a kind's import_dsl hook uses -----------------------------------------------------
    dsl_kind = staticmethod(catalogue.dsl_kind)
    expr_text = staticmethod(expr_text)
    index_text = staticmethod(index_text)

    @staticmethod
    def error(message: str) -> ScriptImportError:
        return ScriptImportError(message)

    @staticmethod
    def is_call(value: Any) -> bool:
        """Whether ``value`` is a kernel call (what a ``send`` may carry)."""
        from pto_wsp.language.kernel import KernelCall

        return isinstance(value, KernelCall)

    def collective(self, frame: Node, s: Any, where: str) -> Node:
        """A ``layout.*`` node for ``y = allreduce(x, ...)`` and friends; its output port stands
        for the result tensor in later statements (of the same frame or frames inside it)."""
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
        x = self.data_source(frame, src, what)
        node = self.add(_kind(f"CollectiveOp.{s.kind}"), self._result_name(s), frame, **props)
        self.wire(x, "tensor", node, "tensor")
        self.collective_results[id(s.result)] = node
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
        return self.unique(kind_lookup.kind(_kind(f"CollectiveOp.{s.kind}")).name_base)

    def data_source(self, frame: Node, t: Any, where: str) -> Node:
        """The node whose ``tensor`` output stands for tensor ``t`` (a view's root) in ``frame``:
        the layout node of a collective result, or the root ``data.tensor``."""
        root = getattr(t, "root", t)
        node = self.collective_results.get(id(root))
        if node is None:
            return self.tensor(t)
        if node.parent != frame.id and node.parent not in {f.id for f in self.frames(frame)}:
            raise ScriptImportError(
                f"{where}: the result of {kind_lookup.kind_of(node).title} is used outside the "
                "block that computes it; use it in that block (or a loop inside it)"
            )
        return node

    def frames(self, node: Node) -> list[Node]:
        """``node`` and the frames around it, innermost first."""
        out = [node]
        while out[-1].parent is not None:
            out.append(self.nodes[out[-1].parent])
        return out

    def loop_vars(self, frame: Node) -> list[str]:
        """Loop variables bound by ``frame`` and the frames around it, outermost first."""

        out: list[str] = []
        for f in reversed(self.frames(frame)):
            out.extend(frames.bound_vars(f))
        return out

    def call(self, frame: Node, c: Any, where: str) -> Node:

        kern = self.kernel(c.kernel)
        axes: str | None = ", ".join(expr_text(a, where) for a in c.axes)
        if axes == ", ".join(self.loop_vars(frame)):
            axes = None  # the enclosing loop variables: what the call shows by default
        index: dict[str, str] = {}
        node = self.add(_kind("KernelCall"), None, frame, kernel=kern.id, axes=axes, index=index)
        given: dict[str, str] = {}
        for p in c.kernel.signature:
            arg = c.args[p.name]
            what = f"{where}, argument {p.name}"
            if not p.is_data:
                index[p.name] = expr_text(arg, what)
                continue
            src = self.data_source(frame, arg, what)
            direction = _DIRECTIONS[p.direction]
            if direction in ("In", "InOut"):
                self.wire(src, "tensor", node, p.name)
            if direction in ("Out", "InOut"):
                if kind_lookup.kind_of(src).data != "tensor":
                    raise ScriptImportError(
                        f"{what}: the result of {kind_lookup.kind_of(src).title} is written by a "
                        "kernel; graph calls write tensors"
                    )
                self.wire(node, p.name, src, "write")
            given[p.name] = index_text(arg, what)
        for pname, text in given.items():
            if text != indexing.auto_index(self.doc, node, pname):
                index[pname] = text
        return node

    # -- schedules -------------------------------------------------------------------------------
    def schedule(self, w: Any, target: str = "", cost_table: str = "") -> None:
        """Fill the sheet of ``w``'s frame from ``w``'s schedule (and the program's target and
        cost table name)."""
        frame = self.workload(w)
        if frame.parent is not None:
            raise ScriptImportError(
                f"schedule of {w.name}{_line_of(w.schedule.steps[0]) if w.schedule.steps else ''}: "
                "a workload inside combine/sequential cannot carry a schedule"
            )
        spec = w.schedule
        steps = tuple(spec.steps)
        before = self.sheet_of.get(frame.id)
        if before is not None:
            old_spec, old_where = before
            old = tuple(old_spec.steps)
            shorter, longer = sorted((old, steps), key=len)
            if any(a is not b for a, b in zip(shorter, longer, strict=False)):
                raise ScriptImportError(
                    f"schedule of {w.name}{_line_of(steps[-1]) if steps else ''}: the workload "
                    f"is scheduled differently before ({old_where}); a workload frame holds "
                    "one schedule"
                )
            if len(steps) < len(old):
                spec, steps = old_spec, old
        where = f"schedule of {w.name}"
        self.sheet_of[frame.id] = (spec, where + (_line_of(steps[-1]) if steps else ""))
        sheet = self.sheet(steps, where, resolve_workers(spec))
        frame.props.update(sheet)
        if target:
            frame.props["target"] = target
        if cost_table:
            frame.props["cost_table"] = cost_table

    def sheet(self, steps: tuple[Any, ...], where: str, run_workers: int) -> dict[str, Any]:
        """The schedule-sheet properties for the combinator calls ``steps`` (later calls of
        one combinator override earlier ones, as in the DSL). ``run_workers`` is the run's
        worker count (``resolve_workers``): a ``round_robin()`` without a count takes it, and the
        sheet, which always has a count, writes it out."""
        from pto_wsp.language.schedule import trace_key

        out: dict[str, Any] = {}
        task_graph: dict[str, Any] = {}
        for step in steps:
            here = where + _line_of(step)
            if step.name == "dispatch":
                pol = step.args[0]
                out["dispatch"] = str(pol.kind)
                if pol.kind is DispatchKind.ROUND_ROBIN:
                    out["dispatch_n"] = int(pol.num_workers or run_workers)
                if pol.key_fn is not None:
                    out["dispatch_key"] = expr_text(pol.key_fn.expr, here, key=True)
                    out["dispatch_aicpus"] = int(pol.num_workers or 0)
                else:
                    out["dispatch_key"] = ""
            elif step.name == "streams":
                out["streams"] = int(step.args[0])
            elif step.name == "stream_by":
                key = trace_key(step.args[0], ".stream_by", step.loc)
                out["stream_by"] = expr_text(key.expr, here, key=True)
            elif step.name == "timing":
                pol = step.args[0]
                out["timing"] = str(pol.kind)
                if pol.param is not None:
                    v = pol.param
                    out["timing_param"] = int(v) if pol.kind in TIMING_COUNT_POLICIES else v
            elif step.name == "task_graph":
                task_graph.update(self.task_graph_props(step, here))
            elif step.name == "spatial_map":
                out["spatial_map"] = [int(d) for d in step.args[0]]
            else:
                raise ScriptImportError(
                    f"{here}: schedule step {step.name} has no place on the schedule sheet"
                )
        if task_graph:
            # every field, as the v1 task_graph node held them (defaults where not set)
            fields = kind_lookup.kind(_kind("Workload")).prop("task_graph").fields or ()
            out["task_graph"] = {f.name: copy.deepcopy(f.default) for f in fields}
            out["task_graph"].update(task_graph)
        return out

    def task_graph_props(self, step: Any, where: str) -> dict[str, Any]:
        """The sheet's ``task_graph`` entries one ``.task_graph(...)`` call sets."""
        window, deps, ready, start, trace, pools = step.args
        props: dict[str, Any] = {}
        if window is not None:
            props.update(window=int(window.size), unit=str(window.unit))
            props["mode"] = window.mode.name.lower()
        if deps is not None:
            props["deps"] = deps_choice(deps, where)
        if ready is not None:
            props["ready"] = _knob_choice(ready, READY_POLICIES, "ReadyPolicy", where)
            if ready.kind is ReadyKind.PRIORITY:
                props["ready_key"] = expr_text(ready.key_fn.expr, where, key=True)
        if start is not None:
            props["start"] = _knob_choice(start, START_POLICIES, "StartPolicy", where)
            if start.kind is StartKind.THRESHOLD:
                props["threshold"] = int(start.param)
        if trace is not None:
            props["trace"] = _knob_choice(trace, TRACE_POLICIES, "TracePolicy", where)
        if pools is not None:
            props["pools"] = self.pools_entries(pools, where)
        return props

    def pools_entries(self, pools: Any, where: str) -> list[dict[str, Any]]:
        """``Pools.by_kernel`` entries (kernel: the kernel definition's node name); other pool
        shapes have no graph property."""
        kernels = list(pools.kernels)
        if [p for _k, p in kernels] != list(range(len(pools.sizes))):
            raise ScriptImportError(
                f"{where}: only Pools.by_kernel pools (one pool per kernel) have a graph "
                f"property, got {pools}"
            )
        out: list[dict[str, Any]] = []
        for name, pool in kernels:
            node = self.kernel_nodes.get(name)
            if node is None:
                raise ScriptImportError(
                    f"{where}: Pools names kernel {name!r}, which no workload of the script calls"
                )
            out.append({"kernel": node.name, "workers": int(pools.sizes[pool])})
        return out


def dist_of(layout: Any, where: str, *, mem_ok: bool = False) -> list[str]:
    """``["R", "S0", ...]`` for a TensorLayout.

    Only tensor nodes have a memory-layout property (``mem``, read by ``mem_of``): elsewhere
    (``mem_ok`` False, e.g. the target of a relayout) a memory layout is refused.
    """
    from pto_wsp.language.layout import TensorShard

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
    from pto_wsp.language.layout import MemLayout

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
    """The ``deps`` property for a ``Deps``: its kind's spelling (infer, infer_bounding or
    explicit; ``Deps.infer("bounding")`` is already of kind infer_bounding)."""
    kind = getattr(deps, "kind", None)
    if not isinstance(kind, DepsKind):
        raise ScriptImportError(f"{where}: Deps {deps} has no graph property")
    return kind.value


def _knob_choice(knob: Any, choices: tuple[str, ...], what: str, where: str) -> str:
    kind = str(getattr(knob, "kind", ""))
    if kind not in choices or kind == NOT_SET:
        raise ScriptImportError(f"{where}: {what} {knob} has no graph property")
    return kind
