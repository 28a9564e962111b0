"""Graph document -> DSL script: the one path Run, Export, the CLI and the tests share.

``export_script(doc)`` writes a script in the spec's API (docs/graph-model.md, "Node kinds")
that a person could have typed: data, kernels, channels/events, workloads, compositions and
processes, the schedule chain, ``program = ....compile(...)`` and the runner block. Output is
deterministic (root nodes are written per section in name order, kernel ops in dependency
order with node ids breaking ties) and ruff-format clean. Every generated line maps to the id
of the node that produced it (``ExportResult.line_map``), so a diagnostic at ``script:line``
lands on a node.

A document the model's validation rejects, or that cannot be expressed in the DSL, raises
``ExportError(node_id, field, message)``; broken Python is never written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import exprs, pytext, registry
from .document import Document, Graph, Node

__all__ = ["ExportError", "ExportResult", "export_script", "LINE_LENGTH"]

LINE_LENGTH = 100
INDENT = "    "
TENSOR_INIT_MODULE = pytext.TENSOR_INIT_MODULE

_SECTION_OF_KIND = {
    "data.tensor": 0,
    "data.scalar": 1,
    "axis.dense": 2,
    "axis.dense_dyn": 2,
    "axis.ragged": 2,
    "axis.sparse": 2,
    "kernel.def": 3,
    "csp.channel": 4,
    "event.def": 4,
    "workload.def": 5,
    "csp.process": 6,
    "csp.replicate": 7,
    "csp.connect": 7,
    "compose.combine": 7,
    "compose.sequential": 7,
    "sched.dispatch": 8,
    "sched.streams": 8,
    "sched.stream_by": 8,
    "sched.timing": 8,
    "sched.task_graph": 8,
    "sched.spatial_map": 8,
    "compile.target": 9,
}
_SECTION_TITLES = {
    0: "Data",
    2: "Axes",
    3: "Kernels",
    4: "Channels and events",
    5: "Workloads",
    6: "Processes",
    7: "Composition",
    9: "Schedule and program",
}

_DIRECTION_WRAP = {"In": "In", "Out": "Out", "InOut": "InOut"}
_DEPS_CALL = {
    "infer": "Deps.infer()",
    "infer_bounding": 'Deps.infer("bounding")',
    "explicit": "Deps.explicit()",
}
_DISPATCH_KEYED = ("affinity", "hash", "dispatch_by")


class ExportError(Exception):
    """The document cannot be exported: ``node_id`` and ``field`` say where, ``message`` why."""

    def __init__(self, node_id: str, field: str, message: str):
        self.node_id = node_id
        self.field = field
        self.message = message
        where = ".".join(p for p in (node_id, field) if p)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True)
class ExportResult:
    """The script text and, per 1-based line, the id of the node that produced it."""

    source: str
    line_map: dict[int, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# output buffer


class _Out:
    """Lines with the node each came from; blank lines and imports map to no node."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str | None]] = []
        self.used: set[str] = set()  # DSL names the body uses (for the import list)

    def line(self, text: str, node_id: str | None, depth: int = 0) -> None:
        self.lines.append((INDENT * depth + text if text else "", node_id))

    def blank(self, n: int = 1) -> None:
        # never more than n consecutive blanks, never at the start
        if not self.lines or self.lines[-1][0].lstrip().startswith("#"):
            return
        trailing = 0
        for text, _ in reversed(self.lines):
            if text:
                break
            trailing += 1
        for _ in range(max(0, n - trailing)):
            self.lines.append(("", None))

    def use(self, *names: str) -> None:
        self.used.update(names)


def natural_key(text: str) -> tuple:
    """Sort key that orders embedded numbers by value (``n2`` before ``n10``)."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text))


def _q(text: str) -> str:
    """A double-quoted Python string literal (``pytext.literal``: checked to read back)."""
    return pytext.literal(str(text))


def _shape_text(shape: Iterable[int]) -> str:
    dims = [str(int(d)) for d in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _dtype_text(node: Node, fieldname: str, dtype: object) -> str:
    """``DType.F32`` for ``f32``; only names of the dtype table reach the script."""
    if dtype not in registry.DTYPES:
        raise ExportError(node.id, fieldname, f"unknown dtype {dtype!r:.40}")
    return f"DType.{str(dtype).upper()}"


# ------------------------------------------------------------------------------------------
# the exporter


class _Exporter:
    def __init__(self, doc: Document):
        self.doc = doc
        self.out = _Out()
        self.root = doc.graph
        self.root_names: dict[str, Node] = {n.name: n for n in self.root.nodes.values() if n.name}
        # consumers of each root node's outputs, for the schedule chains
        self.consumers: dict[str, list[tuple[str, str]]] = {}
        for e in self.root.edges:
            self.consumers.setdefault(e.src.node, []).append((e.dst.node, e.dst.port))

    # -- entry --------------------------------------------------------------------------------
    def run(self) -> ExportResult:
        problems = self.doc.validate()
        if problems:
            d = problems[0]
            raise ExportError(d.node_id, d.field, d.message)
        for n in self.root.nodes.values():
            if registry.names_a_variable(n.kind):
                self._name(n)
            if n.kind == "csp.process" and f"{self._name(n)}_body" in self.root_names:
                raise ExportError(
                    n.id,
                    "name",
                    f"the process body function {self._name(n)}_body clashes with a node",
                )
        self._check_workload_var_names()
        sections: dict[int, list[Node]] = {}
        for n in self.root.nodes.values():
            sec = _SECTION_OF_KIND.get(n.kind)
            if sec is not None:
                sections.setdefault(sec, []).append(n)
        programs = sections.get(9, [])
        programs = [p for p in programs if p.kind == "compile.target"]
        if len(programs) > 1:
            raise ExportError(
                programs[1].id, "", "a project has one program; remove the extra compile node"
            )
        for sec in sorted(sections):
            nodes = sorted(sections[sec], key=lambda n: natural_key(n.name or n.id))
            if sec == 8:
                continue  # schedule nodes are written as chains by their consumers
            title = _SECTION_TITLES.get(sec)
            if title is not None:
                self.out.blank(2 if sec >= 3 else 1)
                self.out.line(f"# {title}", None)
            for n in nodes:
                getattr(self, "_root_" + n.kind.replace(".", "_"))(n)
        self._dangling_schedules(sections.get(8, []))
        if programs:
            self.out.blank(2)
            self.out.line('if __name__ == "__main__":', programs[0].id)
            self.out.line(f"run_main({self._name(programs[0])})", programs[0].id, 1)
            self.out.use("run_main")
        return self._assemble(bool(programs))

    def _check_workload_var_names(self) -> None:
        for n in self.root.nodes.values():
            if n.kind == "workload.def":
                var = self._workload_var(n)
                if var in self.root_names:
                    raise ExportError(
                        n.id,
                        "name",
                        f"the script calls workload {self._name(n)} into {var!r}, which another node "
                        "is named",
                    )

    # -- assembly -------------------------------------------------------------------------------
    def _assemble(self, has_program: bool) -> ExportResult:
        doc = (
            f"{self.doc.name}: exported by PTO-WSP Studio.\n\n"
            "Run: python THIS_FILE [--trace TRACE.npy] [--stats STATS.json] [--no-execute]\n"
        )
        # the project name is data: the docstring is a checked literal, never pasted text
        head: list[str] = [*pytext.literal(doc, multiline=True).split("\n"), ""]
        dsl = sorted(self.out.used - {"run_main", "report_errors", TENSOR_INIT_MODULE})
        if dsl:
            names = _isort_names(dsl)
            one = f"from pto_wsp import {', '.join(names)}"
            if len(one) <= LINE_LENGTH:
                head.append(one)
            else:
                head.append("from pto_wsp import (")
                head.extend(f"{INDENT}{n}," for n in names)
                head.append(")")
        if TENSOR_INIT_MODULE in self.out.used:
            head.append(f"from pto_wsp import tensor_init as {TENSOR_INIT_MODULE}")
        if has_program:
            head.append("from pto_wsp.runner import report_errors, run_main")
            head.append("")
            head.append("report_errors()")
        body = list(self.out.lines)
        while body and not body[0][0]:
            body.pop(0)
        while body and not body[-1][0]:
            body.pop()
        lines: list[tuple[str, str | None]] = [(t, None) for t in head]
        first_code = next((t for t, _ in body if not t.startswith("#")), "")
        lines.append(("", None))
        if first_code.startswith(("@", "def ")):
            lines.append(("", None))  # two blank lines before a top-level definition
        lines.extend(body)
        text = "\n".join(t for t, _ in lines) + "\n"
        line_map = {i + 1: nid for i, (_, nid) in enumerate(lines) if nid is not None}
        return ExportResult(text, line_map)

    # -- helpers ----------------------------------------------------------------------------------
    def _src(self, graph: Graph, node: Node, port: str) -> list[Node]:
        """The nodes feeding ``node``'s input ``port`` (through data.get), in edge order."""
        out: list[Node] = []
        for e in graph.edges_into(node.id, port):
            src = registry.source_node(e.src, graph, self.doc)
            if src is None:
                raise ExportError(node.id, f"inputs.{port}", "the connected node is missing")
            out.append(src)
        return out

    def _one_src(self, graph: Graph, node: Node, port: str, optional: bool = False) -> Node | None:
        srcs = self._src(graph, node, port)
        if not srcs:
            if optional:
                return None
            raise ExportError(node.id, f"inputs.{port}", "input is not connected")
        return srcs[0]

    def _expr(
        self, node: Node, fieldname: str, text: str, scope: set[str], in_brackets: bool = False
    ) -> str:
        problems = exprs.validate(text, scope)
        if problems:
            raise ExportError(node.id, f"props.{fieldname}", problems[0])
        return exprs.render(text, in_brackets)

    def _index(self, node: Node, fieldname: str, text: str, scope: set[str]) -> str:
        """The text of a subscript's index (slices allowed), checked like ``_expr``."""
        problems = exprs.validate_index(text, scope)
        if problems:
            raise ExportError(node.id, f"props.{fieldname}", problems[0])
        return exprs.render_index(text)

    def _name(self, n: Node) -> str:
        """``n``'s name as a checked identifier (``pytext.identifier_problem``)."""
        return self._ident(n, "name", n.name)

    def _ident(self, n: Node, fieldname: str, name: object) -> str:
        problem = pytext.identifier_problem(name)
        if problem is not None:
            raise ExportError(n.id, fieldname, problem)
        assert isinstance(name, str)
        return name

    def _choice(self, n: Node, prop: str, default: str) -> str:
        """An enum property, only as one of its kind's declared choices (all identifiers)."""
        value = n.props.get(prop, default)
        choices = registry.kind(n.kind).prop(prop).choices or ()
        if value not in choices or not str(value).isidentifier():
            raise ExportError(
                n.id, f"props.{prop}", f"expected one of {', '.join(choices)}, got {value!r:.40}"
            )
        return str(value)

    def _lit(self, n: Node, fieldname: str, value: object, multiline: bool = False) -> str:
        """A property value as a checked Python literal (NaN, infinities: an ExportError)."""
        try:
            return pytext.literal(value, multiline)
        except ValueError as err:
            raise ExportError(n.id, fieldname, str(err)) from None

    def _workload_var(self, n: Node) -> str:
        return f"{self._name(n)}_w"

    # -- data -------------------------------------------------------------------------------------
    def _root_data_tensor(self, n: Node) -> None:
        p = n.props
        shape = _shape_text(p["shape"])
        dtype = _dtype_text(n, "props.dtype", p["dtype"])
        self.out.use("Tensor", "DType")
        init = p.get("init", "zeros")
        extra = ""
        if p.get("location", "Global") != "Global":
            self.out.use("Location")
            extra = f", location=Location.{self._choice(n, 'location', 'Global')}"
        layout = self._tensor_layout(n)
        if layout:
            extra += f", layout={layout}"
        if init == "zeros":
            call = f"Tensor(shape={shape}, dtype={dtype}{extra}, name={_q(n.name)})"
        else:
            self.out.use(TENSOR_INIT_MODULE)
            if init == "random":
                data = f"init.random({shape}, {dtype}, seed={int(p.get('seed', 0))})"
            elif init == "range":
                data = f"init.arange({shape}, {dtype})"
            elif init == "npy":
                path = p.get("path", "")
                if not path:
                    raise ExportError(n.id, "props.path", "init=npy needs the path of a .npy file")
                data = f"init.npy({_q(path)}, {dtype})"
                extra = f", shape={shape}" + extra
            else:
                raise ExportError(n.id, "props.init", f"unknown init {init!r}")
            mem = self._mem_layout(n)
            if mem:
                # a Tensor wraps its array without copying: lay the contents out as the
                # memory layout says first (arrange keeps the init recipe for import)
                data = f"{mem}.arrange({data})"
            call = f"Tensor({data}{extra}, name={_q(n.name)})"
        self._assign(self._name(n), call, n.id)

    def _tensor_layout(self, n: Node) -> str:
        """``layout=`` text for a tensor: "" for the default (every dimension replicated).

        One sharded dimension reads best as ``TensorLayout.sharded(...)``; several as the
        explicit ``TensorLayout((TensorShard(0), TensorReplicate(), ...))``.
        """
        dist = list(n.props.get("layout") or [])
        mem = self._mem_layout(n)
        mem_arg = f", mem={mem}" if mem else ""
        shape = n.props.get("shape") or []
        if not dist or all(d == "R" for d in dist):
            if not mem:
                return ""
            self.out.use("TensorLayout")
            return f"TensorLayout.default({len(shape)}{mem_arg})"
        if len(dist) != len(shape):
            raise ExportError(
                n.id,
                "props.layout",
                f"{len(dist)} layout entries for a tensor of rank {len(shape)}",
            )
        self.out.use("TensorLayout")
        shards = [(i, d) for i, d in enumerate(dist) if d != "R"]
        if len(shards) == 1:
            dim, d = shards[0]
            return (
                f"TensorLayout.sharded(dim={dim}, rank={len(dist)}, "
                f"mesh_axis={int(d[1:])}{mem_arg})"
            )
        text = self._dist_text(n, "layout", dist)
        return f"{text[:-1]}{mem_arg})" if mem else text

    def _mem_layout(self, n: Node) -> str:
        """``MemLayout.row_major(shape)`` / ``MemLayout.col_major(shape)`` for a tensor's ``mem``
        property; "" for the default (no memory layout: the array's own C order)."""
        if n.props.get("mem", "default") in (None, "", "default"):
            return ""
        mem = self._choice(n, "mem", "default")
        self.out.use("MemLayout")
        return f"MemLayout.{mem}({_shape_text(n.props.get('shape') or [])})"

    def _dist_text(self, n: Node, fieldname: str, dist: list[str]) -> str:
        """``TensorLayout((TensorShard(0), TensorReplicate()))`` for a list of R / S<i>."""
        elems: list[str] = []
        for d in dist:
            if d == "R":
                elems.append("TensorReplicate()")
                self.out.use("TensorReplicate")
            elif isinstance(d, str) and d[:1] == "S" and d[1:].isdigit():
                elems.append(f"TensorShard({int(d[1:])})")
                self.out.use("TensorShard")
            else:
                raise ExportError(n.id, f"props.{fieldname}", f"unknown distribution {d!r}")
        if not elems:
            raise ExportError(n.id, f"props.{fieldname}", "give one entry per dimension")
        self.out.use("TensorLayout")
        inner = elems[0] + "," if len(elems) == 1 else ", ".join(elems)
        return f"TensorLayout(({inner}))"

    def _assign(self, name: str, call: str, node_id: str, depth: int = 0) -> None:
        text = f"{name} = {call}"
        if len(INDENT * depth + text) <= LINE_LENGTH:
            self.out.line(text, node_id, depth)
            return
        # ruff-format style: the arguments on one indented line when they fit there, else one
        # per line with a trailing comma
        head, args = _split_call(call)
        self.out.line(f"{name} = {head}(", node_id, depth)
        joined = ", ".join(args)
        if len(INDENT * (depth + 1) + joined) <= LINE_LENGTH:
            self.out.line(joined, node_id, depth + 1)
        else:
            for a in args:
                self.out.line(f"{a},", node_id, depth + 1)
        self.out.line(")", node_id, depth)

    def _root_data_scalar(self, n: Node) -> None:
        value = n.props.get("value", 0)
        if n.props.get("dtype", "i64") != "bool" and isinstance(value, bool):
            value = int(value)
        self.out.line(f"{self._name(n)} = {self._lit(n, 'props.value', value)}", n.id)

    # -- axes ---------------------------------------------------------------------------------------
    def _root_axis_dense(self, n: Node) -> None:
        self.out.use("Dense")
        self.out.line(f"{self._name(n)} = Dense[{int(n.props['size'])}]", n.id)

    def _root_axis_dense_dyn(self, n: Node) -> None:
        self.out.use("DenseDyn")
        src = self._one_src(self.root, n, "size", optional=True)
        size = self._name(src) if src is not None else str(int(n.props["size"]))
        self.out.line(f"{self._name(n)} = DenseDyn({size})", n.id)

    def _root_axis_ragged(self, n: Node) -> None:
        self.out.use("Ragged")
        lengths = self._one_src(self.root, n, "lengths")
        assert lengths is not None
        self.out.line(
            f"{self._name(n)} = Ragged({int(n.props['outer_size'])}, {self._name(lengths)})", n.id
        )

    def _root_axis_sparse(self, n: Node) -> None:
        self.out.use("Sparse")
        indptr = self._one_src(self.root, n, "indptr")
        indices = self._one_src(self.root, n, "indices")
        assert indptr is not None and indices is not None
        self.out.line(
            f"{self._name(n)} = Sparse({int(n.props['outer_size'])}, {self._name(indptr)}, {self._name(indices)})",
            n.id,
        )

    # -- kernels --------------------------------------------------------------------------------------
    def _root_kernel_def(self, n: Node) -> None:
        p = n.props
        params = [registry.normalize_param(q) for q in registry.kernel_params(n)]
        deco = "jit_kernel" if p.get("jit") else "kernel"
        self.out.use(deco)
        cpp = p.get("cpp_src", "") or ""
        includes = list(p.get("cpp_includes", []) or [])
        cost = int(p.get("cost", 0) or 0)
        body_nodes = [
            b
            for b in (n.body.nodes.values() if n.body is not None else [])
            if b.kind not in ("scope.entry", "kernel.param")
        ]
        stores = [e for e in (n.body.edges if n.body else []) if self._is_param_store(n, e)]
        if cpp and (body_nodes or stores):
            raise ExportError(
                n.id,
                "props.cpp_src",
                "a kernel with cpp_src has its body in C++; remove the tile ops from its body",
            )
        if includes and not cpp:
            raise ExportError(n.id, "props.cpp_includes", "cpp_includes needs cpp_src")
        kwargs: list[str] = []
        if cpp:
            kwargs.append(f"cpp_src={self._lit(n, 'props.cpp_src', cpp, multiline=True)}")
        if includes:
            kwargs.append(f"cpp_includes=[{', '.join(_q(i) for i in includes)}]")
        if cost:
            kwargs.append(f"cost={cost}")
        self.out.blank(2)
        if kwargs and "\n" not in kwargs[0] and len(f"@{deco}({', '.join(kwargs)})") <= LINE_LENGTH:
            self.out.line(f"@{deco}({', '.join(kwargs)})", n.id)
        elif kwargs:
            self.out.line(f"@{deco}(", n.id)
            for k in kwargs:
                for i, part in enumerate(f"{k},".split("\n")):
                    self.out.line(part, n.id, 1 if i == 0 else 0)
            self.out.line(")", n.id)
        else:
            self.out.line(f"@{deco}", n.id)
        sig = [
            f"{self._ident(n, 'props.params', q['name'])}: {self._param_annotation(n, q)}"
            for q in params
        ]
        one = f"def {self._name(n)}({', '.join(sig)}):"
        if len(one) <= LINE_LENGTH:
            self.out.line(one, n.id)
        else:
            self.out.line(f"def {self._name(n)}(", n.id)
            for s in sig:
                self.out.line(f"{s},", n.id, 1)
            self.out.line("):", n.id)
        if n.body is None or (not body_nodes and not stores):
            if len(self.out.lines[-1][0]) + 4 <= LINE_LENGTH and not cpp:
                text, nid = self.out.lines.pop()
                self.out.lines.append((text + " ...", nid))
            else:
                self.out.line("...", n.id, 1)
            return
        self._kernel_body(n, params)

    def _param_annotation(self, n: Node, q: dict) -> str:
        if q["kind"] == "scalar":
            self.out.use("Scalar", "DType")
            return f"Scalar[{_dtype_text(n, 'props.params', q['dtype'])}]"
        wrap = _DIRECTION_WRAP.get(q["direction"])
        if wrap is None:
            raise ExportError(n.id, "props.params", f"unknown direction {q['direction']!r:.40}")
        self.out.use(wrap)
        if q["kind"] == "tile":
            self.out.use("Tile", "DType")
            return f"{wrap}[Tile[{int(q['rows'])}, {int(q['cols'])}, {_dtype_text(n, 'props.params', q['dtype'])}]]"
        self.out.use("Tensor")
        return f"{wrap}[Tensor]"

    def _is_param_store(self, kern: Node, e) -> bool:
        body = kern.body
        assert body is not None
        dst = body.nodes.get(e.dst.node)
        return dst is not None and dst.kind == "kernel.param" and e.dst.port == "value"

    def _kernel_body(self, kern: Node, params: list[dict]) -> None:
        body = kern.body
        assert body is not None
        self.out.use("pto")
        ops = [b for b in body.nodes.values() if b.kind.startswith("pto.")]
        order = _topo_order(body, ops)
        names: dict[str, str] = {}
        for b in body.nodes.values():
            if b.kind == "kernel.param":
                names[b.id] = self._ident(b, "props.param", b.props.get("param", ""))
        counter = 0
        for b in order:
            op = b.kind[len("pto.") :]
            spec = registry.kind(b.kind)
            args: list[str] = []
            for port in spec.ports:
                if port.direction != "in":
                    continue
                edges = body.edges_into(b.id, port.name)
                if not edges:
                    if port.optional:
                        continue
                    raise ExportError(b.id, f"inputs.{port.name}", "input is not connected")
                src = edges[0].src.node
                if src not in names:
                    raise ExportError(b.id, f"inputs.{port.name}", "the connected node is missing")
                arg = names[src]
                args.append(f"{port.name}={arg}" if port.optional else arg)
            if op == "constant":
                value = b.props.get("value", 0)
                args = [
                    self._lit(b, "props.value", value),
                    _dtype_text(b, "props.dtype", b.props.get("dtype", "f32")),
                ]
                self.out.use("DType")
            elif op == "alloc":
                args = [
                    _shape_text(b.props["shape"]),
                    _dtype_text(b, "props.dtype", b.props["dtype"]),
                ]
                self.out.use("DType")
            elif op == "broadcast":
                args.append(_shape_text(b.props["shape"]))
            call = f"pto.{op}({', '.join(args)})"
            if op == "store":
                self.out.line(call, b.id, 1)
                continue
            counter += 1
            names[b.id] = f"v{counter}"
            self.out.line(f"v{counter} = {call}", b.id, 1)
        for q in params:
            pnode = next(
                (
                    b
                    for b in body.nodes.values()
                    if b.kind == "kernel.param" and b.props.get("param") == q["name"]
                ),
                None,
            )
            if pnode is None:
                continue
            for e in body.edges_into(pnode.id, "value"):
                if e.src.node not in names:
                    raise ExportError(pnode.id, "inputs.value", "the stored value is missing")
                self.out.line(f"pto.store({names[pnode.id]}, {names[e.src.node]})", pnode.id, 1)

    # -- channels and events ------------------------------------------------------------------------
    def _root_csp_channel(self, n: Node) -> None:
        self.out.use("Channel")
        self.out.line(
            f"{self._name(n)} = Channel({_q(n.name)}, depth={int(n.props['depth'])})", n.id
        )

    def _root_event_def(self, n: Node) -> None:
        self.out.use("Event")
        self.out.line(f"{self._name(n)} = Event({_q(n.name)})", n.id)

    # -- workloads ------------------------------------------------------------------------------------
    def _root_workload_def(self, n: Node) -> None:
        self.out.use("workload")
        self.out.blank(2)
        self.out.line("@workload", n.id)
        self.out.line(f"def {self._name(n)}():", n.id)
        self._scope_body(n, 1, self._root_scope_names())
        self.out.blank(2)
        self.out.line(f"{self._workload_var(n)} = {self._name(n)}()", n.id)

    def _root_scope_names(self) -> set[str]:
        return set(self.root_names)

    def _scope_body(self, owner: Node, depth: int, names: set[str]) -> None:
        """The statements of ``owner``'s body along its execution chain."""
        body = owner.body
        if body is None:
            self.out.line("pass", owner.id, depth)
            return
        chain = _exec_chain(body, owner)
        if not chain:
            self.out.line("pass", owner.id, depth)
            return
        prev: Node | None = None
        for node in chain:
            self._statement(body, node, depth, names, prev)
            prev = node

    def _statement(
        self, graph: Graph, n: Node, depth: int, names: set[str], prev: Node | None
    ) -> None:
        k = n.kind
        if k == "kernel.call":
            if graph.edges_from(n.id, "value"):
                raise ExportError(
                    n.id,
                    "outputs.value",
                    "a kernel call sent on a channel runs inside its send; take it off the "
                    "execution chain",
                )
            self.out.line(self._call_text(graph, n, names), n.id, depth)
        elif k == "loop.parallel":
            axes = [self._name(a) for a in self._src(graph, n, "axes")]
            vars_ = [
                self._ident(n, "props.vars", v) for v in exprs.split_names(n.props.get("vars", ""))
            ]
            if len(axes) != len(vars_):
                raise ExportError(
                    n.id,
                    "props.vars",
                    f"{len(vars_)} loop variable(s) for {len(axes)} connected axis/axes",
                )
            self.out.use("P")
            self.out.line(f"for {', '.join(vars_)} in P({', '.join(axes)}):", n.id, depth)
            self._scope_body(n, depth + 1, names | set(vars_))
        elif k == "loop.seq":
            axis = self._one_src(graph, n, "axis")
            assert axis is not None
            var = self._ident(n, "props.var", n.props.get("var", "i").strip())
            self.out.use("P")
            self.out.line(f"for {var} in P.seq({self._name(axis)}):", n.id, depth)
            self._scope_body(n, depth + 1, names | {var})
        elif k == "loop.sel":
            axis = self._one_src(graph, n, "sparse")
            assert axis is not None
            var = self._ident(n, "props.var", n.props.get("var", "e").strip())
            row = (n.props.get("row") or "").strip()
            target = self._name(axis)
            if row:
                target = f"{self._name(axis)}[{self._expr(n, 'row', row, names, in_brackets=True)}]"
            self.out.use("P")
            self.out.line(f"for {var} in P.sel({target}):", n.id, depth)
            self._scope_body(n, depth + 1, names | {var})
        elif k == "branch.when":
            pred = self._expr(n, "pred", n.props.get("pred", ""), names)
            self.out.use("P")
            self.out.line(f"with P.when({pred}):", n.id, depth)
            self._scope_body(n, depth + 1, names)
        elif k == "branch.otherwise":
            if prev is None or prev.kind != "branch.when":
                raise ExportError(
                    n.id, "inputs.exec", "P.otherwise() must directly follow a P.when block"
                )
            self.out.use("P")
            self.out.line("with P.otherwise():", n.id, depth)
            self._scope_body(n, depth + 1, names)
        elif k == "pipe.scope":
            self.out.use("P")
            self.out.line(f"with P.pipe(depth={int(n.props.get('depth', 2))}):", n.id, depth)
            if n.body is not None:
                for inner in n.body.nodes.values():
                    if inner.kind == "csp.process":
                        raise ExportError(
                            inner.id,
                            "kind",
                            "inside P.pipe every statement is a process of its own; a named "
                            "process is wired with connect at the project root",
                        )
            self._scope_body(n, depth + 1, names)
        elif k == "csp.send":
            ch = self._one_src(graph, n, "channel")
            assert ch is not None
            values = graph.edges_into(n.id, "value")
            value = "None"
            if values:
                call = graph.nodes.get(values[0].src.node)
                if call is None or call.kind != "kernel.call":
                    raise ExportError(n.id, "inputs.value", "send takes a kernel call's value")
                if graph.edges_into(call.id, "exec") or graph.edges_from(call.id, "exec"):
                    raise ExportError(
                        call.id,
                        "inputs.exec",
                        "a kernel call sent on a channel runs inside its send; take it off the "
                        "execution chain",
                    )
                value = self._call_text(graph, call, names)
            self.out.use("send")
            self.out.line(f"send({self._name(ch)}, {value})", n.id, depth)
        elif k == "csp.consume":
            ch = self._one_src(graph, n, "channel")
            assert ch is not None
            var = self._ident(n, "props.var", n.props.get("var", "t").strip())
            self.out.use("consume")
            self.out.line(f"with consume({self._name(ch)}) as {var}:", n.id, depth)
            self._scope_body(n, depth + 1, names | {var})
        elif k == "csp.close":
            ch = self._one_src(graph, n, "channel")
            assert ch is not None
            self.out.line(f"{self._name(ch)}.close()", n.id, depth)
        elif k in ("event.record", "event.synchronize"):
            ev = self._one_src(graph, n, "event")
            assert ev is not None
            fn = "record" if k == "event.record" else "synchronize"
            self.out.use(fn)
            self.out.line(f"{fn}({self._name(ev)})", n.id, depth)
        elif k == "slot.set":
            value = self._expr(n, "value", n.props.get("value", "0"), names)
            self.out.use("slot_set_u64")
            self.out.line(f"slot_set_u64({int(n.props['slot'])}, {value})", n.id, depth)
        elif k == "slot.load":
            t = self._one_src(graph, n, "tensor")
            assert t is not None
            view = self._name(t)
            index = (n.props.get("index") or "").strip()
            if index:
                view = f"{self._name(t)}[{self._expr(n, 'index', index, names, in_brackets=True)}]"
            row = self._expr(n, "row", n.props.get("row", "0"), names)
            col = self._expr(n, "col", n.props.get("col", "0"), names)
            self.out.use("slot_load_u64")
            self.out.line(
                f"slot_load_u64({int(n.props['slot'])}, {view}, row={row}, col={col})", n.id, depth
            )
        elif k.startswith("layout."):
            self._layout(graph, n, depth, names)
        elif k == "csp.process":
            raise ExportError(
                n.id,
                "kind",
                "a named process is wired with connect at the project root; inside a workload "
                "use P.pipe, where every statement is a process",
            )
        else:
            raise ExportError(n.id, "kind", f"{k} cannot be a statement of a workload body")

    def _layout(self, graph: Graph, n: Node, depth: int, names: set[str]) -> None:
        x = self._one_src(graph, n, "tensor")
        assert x is not None
        op = n.kind[len("layout.") :]
        p = n.props
        self.out.use(op)
        if op == "relayout":
            args = f"{self._name(x)}, to={self._dist_text(n, 'dist', list(p.get('dist') or []))}"
        elif op == "allreduce":
            args = f"{self._name(x)}, op={_q(self._choice(n, 'op', 'sum'))}"
        elif op == "allgather":
            args = f"{self._name(x)}, dim={int(p.get('dim', 0))}"
        else:
            args = (
                f"{self._name(x)}, dim={int(p.get('dim', 0))}, op={_q(self._choice(n, 'op', 'sum'))}, "
                f"mesh_axis={int(p.get('mesh_axis', 0))}, mesh_size={int(p.get('mesh_size', 2))}"
            )
        self._assign(self._name(n), f"{op}({args})", n.id, depth)

    def _call_text(self, graph: Graph, n: Node, names: set[str]) -> str:
        kern = registry.resolve_kernel(n, graph, self.doc)
        if kern is None:
            raise ExportError(n.id, "inputs.kernel", "input is not connected to a kernel")
        axes_text = (n.props.get("axes") or "").strip()
        head = self._name(kern)
        if axes_text:
            head += f"[{self._expr(n, 'axes', axes_text, names, in_brackets=True)}]"
        index = n.props.get("index") or {}
        args: list[str] = []
        for q in (registry.normalize_param(p) for p in registry.kernel_params(kern)):
            pname = self._ident(kern, "props.params", q["name"])  # a keyword argument
            srcs = [
                registry.source_node(e.src, graph, self.doc) or graph.nodes.get(e.src.node)
                for e in graph.edges_into(n.id, pname)
            ]
            text = (index.get(pname) or "").strip()
            if q["kind"] == "scalar":
                if srcs and srcs[0] is not None:
                    value = self._name(srcs[0])
                elif text:
                    value = self._expr(n, f"index.{pname}", text, names)
                else:
                    raise ExportError(
                        n.id, f"inputs.{pname}", "scalar argument: connect a value or type one"
                    )
                args.append(f"{pname}={value}")
                continue
            if not srcs or srcs[0] is None:
                raise ExportError(n.id, f"inputs.{pname}", "input is not connected")
            arg = self._name(srcs[0])
            if text:
                arg += f"[{self._index(n, f'index.{pname}', text, names)}]"
            args.append(f"{pname}={arg}")
        return f"{head}({', '.join(args)})"

    # -- processes, composition -------------------------------------------------------------------
    def _root_csp_process(self, n: Node) -> None:
        consumes, produces = self._process_channels(n)
        fn = f"{self._name(n)}_body"
        self.out.use("process")
        self.out.blank(2)
        self.out.line(f"def {fn}():", n.id)
        self._scope_body(n, 1, self._root_scope_names())
        self.out.blank(2)
        call = f"process({_q(n.name)})"
        if consumes:
            call += f".consumes({', '.join(consumes)})"
        if produces:
            call += f".produces({', '.join(produces)})"
        call += f".body({fn})"
        replicas = int(n.props.get("replicas", 1))
        if replicas != 1:
            self.out.use("replicate")
            call = f"replicate({call}, {replicas})"
        self._assign(self._name(n), call, n.id)

    def _process_channels(self, n: Node) -> tuple[list[str], list[str]]:
        consumes: list[str] = []
        produces: list[str] = []
        stack: list[Node] = [n]
        while stack:
            owner = stack.pop(0)
            if owner.body is None:
                continue
            for inner in _exec_chain(owner.body, owner):
                if inner.kind in ("csp.send", "csp.consume"):
                    ch = self._one_src(owner.body, inner, "channel")
                    assert ch is not None
                    bucket = produces if inner.kind == "csp.send" else consumes
                    if self._name(ch) not in bucket:
                        bucket.append(self._name(ch))
                if inner.body is not None:
                    stack.append(inner)
        return consumes, produces

    def _root_csp_replicate(self, n: Node) -> None:
        proc = self._one_src(self.root, n, "process")
        assert proc is not None
        self.out.use("replicate")
        self.out.line(f"{self._name(n)} = replicate({self._name(proc)}, {int(n.props['n'])})", n.id)

    def _root_csp_connect(self, n: Node) -> None:
        procs = [self._name(p) for p in self._src(self.root, n, "processes")]
        chans = [self._name(c) for c in self._src(self.root, n, "channels")]
        self.out.use("connect")
        self._assign(self._name(n), f"connect([{', '.join(procs)}], [{', '.join(chans)}])", n.id)

    def _root_compose_combine(self, n: Node) -> None:
        self._compose(n, "combine")

    def _root_compose_sequential(self, n: Node) -> None:
        self._compose(n, "sequential")

    def _compose(self, n: Node, fn: str) -> None:
        parts = [self._workload_expr(src, n.id) for src in self._src(self.root, n, "workloads")]
        self.out.use(fn)
        self._assign(self._name(n), f"{fn}({', '.join(parts)})", n.id)

    # -- schedules and the program ---------------------------------------------------------------
    def _workload_expr(self, src: Node, user_id: str) -> str:
        if src.kind == "workload.def":
            return self._workload_var(src)
        if src.kind in ("compose.combine", "compose.sequential", "csp.connect", "csp.replicate"):
            return self._name(src)
        if src.kind.startswith("sched."):
            raise ExportError(
                user_id,
                "inputs",
                "a schedule applies to a whole program: compose workloads first, then schedule",
            )
        raise ExportError(user_id, "inputs", f"{src.kind} does not produce a workload")

    def _chain(self, last: Node) -> tuple[str, list[tuple[str, str]]]:
        """(base workload expression, [(".method(args)", node id)]) ending at ``last``."""
        steps: list[tuple[str, str]] = []
        node = last
        while node.kind.startswith("sched."):
            steps.append((self._sched_call(node), node.id))
            src = self._one_src(self.root, node, "workload")
            assert src is not None
            node = src
        steps.reverse()
        if node.kind == "csp.process":
            raise ExportError(last.id, "inputs.workload", "connect processes before scheduling")
        return self._workload_expr(node, last.id), steps

    def _sched_call(self, n: Node) -> str:
        op = n.kind[len("sched.") :]
        p = n.props
        names = {exprs.TASK_VAR}
        if op == "dispatch":
            self.out.use("DispatchPolicy")
            policy = self._choice(n, "policy", "round_robin")
            if policy == "round_robin":
                arg = f"DispatchPolicy.round_robin({int(p.get('n', 4))})"
            elif policy == "work_steal":
                arg = "DispatchPolicy.work_steal()"
            else:
                key = (p.get("key") or "").strip()
                if not key:
                    raise ExportError(n.id, "props.key", f"dispatch policy {policy} needs a key")
                arg = f"DispatchPolicy.{policy}(lambda t: {self._expr(n, 'key', key, names)})"
            return f".dispatch({arg})"
        if op == "streams":
            return f".streams({int(p.get('n', 2))})"
        if op == "stream_by":
            key = self._expr(n, "key", p.get("key", ""), names)
            return f".stream_by(lambda t: {key})"
        if op == "timing":
            self.out.use("TimingPolicy")
            policy = self._choice(n, "policy", "immediate")
            if policy == "immediate":
                return ".timing(TimingPolicy.immediate)"
            param = p.get("param", 1)
            if policy in ("batched", "interleaved"):
                param = int(param)
            return f".timing(TimingPolicy.{policy}({self._lit(n, 'props.param', param)}))"
        if op == "task_graph":
            return f".task_graph({', '.join(self._task_graph_args(n))})"
        if op == "spatial_map":
            return f".spatial_map(grid={_shape_text(p['grid'])})"
        raise ExportError(n.id, "kind", f"unknown schedule node {n.kind}")

    def _task_graph_args(self, n: Node) -> list[str]:
        """The keyword arguments of ``.task_graph(...)``; "default" choices are left out."""
        p = n.props
        args: list[str] = []
        window = int(p.get("window", 0))
        if window > 0:
            self.out.use("TaskWindow", "WindowMode")
            mode = self._choice(n, "mode", "stall").upper()
            unit = _q(self._choice(n, "unit", "tasks"))
            args.append(f"window=TaskWindow({window}, {unit}, WindowMode.{mode})")
        deps = self._choice(n, "deps", "default")
        if deps != "default":
            self.out.use("Deps")
            args.append("deps=" + _DEPS_CALL[deps])
        ready = self._choice(n, "ready", "default")
        if ready == "priority":
            key = (p.get("ready_key") or "").strip()
            if not key:
                raise ExportError(n.id, "props.ready_key", "ready=priority needs a key")
            key = self._expr(n, "ready_key", key, {exprs.TASK_VAR})
            args.append(f"ready=ReadyPolicy.priority(lambda t: {key})")
        elif ready != "default":
            args.append(f"ready=ReadyPolicy.{ready}()")
        if ready != "default":
            self.out.use("ReadyPolicy")
        start = self._choice(n, "start", "default")
        if start == "threshold":
            args.append(f"start=StartPolicy.threshold({int(p.get('threshold', 1))})")
        elif start != "default":
            args.append(f"start=StartPolicy.{start}()")
        if start != "default":
            self.out.use("StartPolicy")
        trace = self._choice(n, "trace", "default")
        if trace != "default":
            self.out.use("TracePolicy")
            args.append(f"trace=TracePolicy.{trace}()")
        pools = p.get("pools") or []
        if pools:
            entries: list[str] = []
            for i, entry in enumerate(pools):
                kern = self.root_names.get(entry["kernel"])
                if kern is None or kern.kind != "kernel.def":
                    raise ExportError(
                        n.id, f"props.pools[{i}].kernel", f"no kernel named {entry['kernel']!r}"
                    )
                entries.append(f"{self._name(kern)}: {int(entry['workers'])}")
            self.out.use("Pools")
            args.append(f"pools=Pools.by_kernel({{{', '.join(entries)}}})")
        if not args:
            raise ExportError(
                n.id,
                "props.window",
                "task_graph sets nothing: give a window or choose deps, ready, start, trace or "
                "pools",
            )
        return args

    def _root_compile_target(self, n: Node) -> None:
        src = self._one_src(self.root, n, "workload")
        assert src is not None
        base, steps = self._chain(src)
        compile_call = f".compile(target={_q(self._choice(n, 'target', 'cpu_sim'))})"
        self._emit_chain(self._name(n), base, [*steps, (compile_call, n.id)], n.id)

    def _emit_chain(self, name: str, base: str, steps: list[tuple[str, str]], nid: str) -> None:
        one = f"{name} = {base}{''.join(s for s, _ in steps)}"
        if len(one) <= LINE_LENGTH:
            self.out.line(one, nid)
            return
        self.out.line(f"{name} = (", nid)
        first_text, first_id = steps[0]
        self._chain_step(base + first_text, first_id)
        for text, step_id in steps[1:]:
            self._chain_step(text, step_id)
        self.out.line(")", nid)

    def _chain_step(self, text: str, step_id: str) -> None:
        """One ``.method(args)`` line of a parenthesized chain, split like ruff-format."""
        if len(INDENT + text) <= LINE_LENGTH:
            self.out.line(text, step_id, 1)
            return
        head, args = _split_call(text)
        self.out.line(f"{head}(", step_id, 1)
        joined = ", ".join(args)
        if len(INDENT * 2 + joined) <= LINE_LENGTH:
            self.out.line(joined, step_id, 2)
        else:
            for a in args:
                self.out.line(f"{a},", step_id, 2)
        self.out.line(")", step_id, 1)

    def _dangling_schedules(self, scheds: list[Node]) -> None:
        """Schedule nodes whose result feeds nothing: written as named workloads."""
        for n in sorted(scheds, key=lambda s: natural_key(s.name or s.id)):
            if self.consumers.get(n.id):
                continue
            base, steps = self._chain(n)
            self.out.blank(1)
            self._emit_chain(self._name(n), base, steps, n.id)


# ------------------------------------------------------------------------------------------
# graph helpers


def _exec_chain(body: Graph, owner: Node) -> list[Node]:
    """The statements of a scope body in execution order (from its ``scope.entry``)."""
    entry = next((n for n in body.nodes.values() if n.kind == "scope.entry"), None)
    if entry is None:
        raise ExportError(owner.id, "body", "the scope has no entry node")
    nxt: dict[str, str] = {}
    for e in body.edges:
        src = body.nodes.get(e.src.node)
        dst = body.nodes.get(e.dst.node)
        if src is None or dst is None or e.src.port != "exec" or e.dst.port != "exec":
            continue
        nxt[src.id] = dst.id
    chain: list[Node] = []
    seen: set[str] = set()
    cur = nxt.get(entry.id)
    while cur is not None and cur not in seen:
        seen.add(cur)
        chain.append(body.nodes[cur])
        cur = nxt.get(cur)
    for n in sorted(body.nodes.values(), key=lambda x: natural_key(x.id)):
        ports = registry.KINDS[n.kind].ports
        has_exec_in = any(
            p.direction == "in" and p.type == "exec" and not p.optional for p in ports
        )
        if has_exec_in and n.id not in seen:
            if n.kind == "kernel.call" and body.edges_from(n.id, "value"):
                continue  # runs inside its send
            raise ExportError(n.id, "inputs.exec", "not connected to the execution chain")
    return chain


def _topo_order(body: Graph, ops: list[Node]) -> list[Node]:
    """Op nodes in dependency order; ready nodes in natural id order (deterministic)."""
    ids = {n.id for n in ops}
    deps: dict[str, set[str]] = {n.id: set() for n in ops}
    for e in body.edges:
        if e.dst.node in ids and e.src.node in ids:
            deps[e.dst.node].add(e.src.node)
    done: set[str] = set()
    order: list[Node] = []
    pending = sorted(ops, key=lambda n: natural_key(n.id))
    while pending:
        ready = [n for n in pending if deps[n.id] <= done]
        if not ready:
            raise ExportError(pending[0].id, "inputs", "the kernel body has a cycle")
        n = ready[0]
        order.append(n)
        done.add(n.id)
        pending.remove(n)
    return order


def _split_call(call: str) -> tuple[str, list[str]]:
    """``f(a, b(c, d), e)`` -> ("f", ["a", "b(c, d)", "e"]) at the outermost level."""
    open_at = call.index("(")
    head, inner = call[:open_at], call[open_at + 1 : -1]
    args: list[str] = []
    depth = 0
    quote: str | None = None
    escaped = False
    start = 0
    for i, ch in enumerate(inner):
        if escaped:
            escaped = False
            continue
        if quote:
            if ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    tail = inner[start:].strip()
    if tail:
        args.append(tail)
    return head, args


def _isort_names(names: list[str]) -> list[str]:
    """Member order of ruff's isort (order-by-type): CONSTANTS, Classes, then the rest."""

    def group(n: str) -> int:
        if len(n) > 1 and n.isupper():
            return 0
        if n[:1].isupper():
            return 1
        return 2

    return sorted(names, key=lambda n: (group(n), n.lower(), n))


def export_script(doc: Document) -> ExportResult:
    """The DSL script for ``doc`` (see the module doc); ``ExportError`` when it cannot be."""
    return _Exporter(doc).run()
