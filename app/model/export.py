"""Graph document -> DSL script: the one path Run, Export, the CLI and the tests share.

``export_script(doc)`` writes a format-v2 document (docs/graph-model.md) as a script in the
spec's API that a person could have typed: data, kernels, channels/events, workloads (one
``@workload`` function per workload frame), processes and compositions, the schedule its sheet
sets, ``program = ....compile(...)`` and the runner block. A frame's statements are its children
in child order, which is the program order (docs/semantics.md, "Statement order in the Studio"):
export never reorders them, since order is semantics to the simulator (WAR/WAW, workers, streams);
a call's arguments are the wires at its parameter ports, indexed as ``app.model.indexing`` says.
Output is deterministic (root nodes are written per section in name order, kernel ops in
dependency order with node ids breaking ties) and ruff-format clean. Every generated line maps
to the id of the node that produced it (``ExportResult.line_map``), so a diagnostic at
``script:line`` lands on a node.

A document the model's validation rejects, or that cannot be expressed in the DSL, raises
``ExportError(node_id, field, message)``; broken Python is never written.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pto_wsp.compiler.cost import DEFAULT_TABLE_NAME, TABLE_NAMES, table_dsl
from pto_wsp.language.policy_kinds import DepsKind, DispatchKind, ReadyKind, StartKind, TimingKind

from . import (
    catalogue,
    doc_files,
    exprs,
    frames,
    indexing,
    kernel_param,
    kind_lookup,
    placement,
    pytext,
    validation,
)
from .document import Document, Edge, Node
from .kinds._base import DTYPES, NodeKind
from .kinds.schedule import (
    COST_TABLE_TARGET,
    DEPS_MODES,
    DISPATCH_POLICIES,
    NOT_SET,
    READY_POLICIES,
    SHEET_ROUND_ROBIN_WORKERS,
    START_POLICIES,
    TARGETS,
    TASK_GRAPH_DEFAULTS,
    TIMING_COUNT_POLICIES,
    TIMING_POLICIES,
    TRACE_POLICIES,
    WINDOW_MODES,
    WINDOW_UNITS,
)

__all__ = ["ExportError", "ExportResult", "export_script", "LINE_LENGTH"]

LINE_LENGTH = 100
INDENT = "    "
TENSOR_INIT_MODULE = pytext.TENSOR_INIT_MODULE

SECTIONS: tuple[tuple[str, str | None], ...] = (
    ("data", "Data"),
    ("scalars", None),
    ("axes", "Axes"),
    ("kernels", "Kernels"),
    ("channels", "Channels and events"),
    ("workloads", "Workloads"),
    ("processes", "Processes"),
    ("composition", "Composition"),
)
"""The sections of the script, in order, with their comment titles: a root node is defined in
its kind's ``NodeKind.section`` (a connect's processes, which stand in its frame, too)."""
_SECTION_INDEX = {name: i for i, (name, _title) in enumerate(SECTIONS)}


def _k(node: Node) -> NodeKind:
    """The kind of ``node`` (``kind_lookup.kind_of``: no roles when unknown)."""
    return kind_lookup.kind_of(node)


PROGRAM_VAR = "program"
"""The script variable of the compiled program (``run_main(program)``)."""
SCHEDULED_SUFFIX = "_scheduled"
"""``<frame>_scheduled``: the workload a sheet schedules when it does not compile it."""

_DEPS_CALL = {
    DepsKind.INFER: "Deps.infer()",
    DepsKind.INFER_BOUNDING: 'Deps.infer("bounding")',
    DepsKind.EXPLICIT: "Deps.explicit()",
}


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
    if dtype not in DTYPES:
        raise ExportError(node.id, fieldname, f"unknown dtype {dtype!r:.40}")
    return f"DType.{str(dtype).upper()}"


# ------------------------------------------------------------------------------------------
# the exporter


class _Exporter:
    def __init__(self, doc: Document, script_dir: Path | None = None):
        self.doc = doc
        self.script_dir = script_dir
        self.out = _Out()
        self.graph = doc.graph
        self.nodes = doc.graph.nodes
        self.roots = [n for n in self.nodes.values() if n.parent is None]
        self.root_names: dict[str, Node] = {n.name: n for n in self.roots if n.name}
        self.into: dict[tuple[str, str], list[Edge]] = {}
        self.out_of: dict[tuple[str, str], list[Edge]] = {}
        self.kids: dict[str | None, list[Node]] = {}
        for e in self.graph.edges:
            self.into.setdefault((e.dst.node, e.dst.port), []).append(e)
            self.out_of.setdefault((e.src.node, e.src.port), []).append(e)
        for n in self.nodes.values():
            self.kids.setdefault(n.parent, []).append(n)
        self.wires = indexing.Wires(doc)
        self._order_cache: dict[str, list[Node]] = {}

    # -- entry --------------------------------------------------------------------------------
    def run(self) -> ExportResult:
        problems = validation.validate_document(self.doc)
        if problems:
            d = problems[0]
            raise ExportError(d.node_id, d.field, d.message)
        self._check_structure()
        for n in self.nodes.values():
            if not kind_lookup.names_a_variable(n.kind):
                continue
            self.name(n)
            if n.parent is not None:  # a process, a collective, a nested composition
                other = self.root_names.get(n.name)
                if other is not None:
                    raise ExportError(
                        n.id,
                        "name",
                        f"{kind_lookup.node_label(other)} on the root canvas has this name already",
                    )
        for n in self.nodes.values():
            if _k(n).module_level and f"{self.name(n)}_body" in self.root_names:
                raise ExportError(
                    n.id,
                    "name",
                    f"the process body function {self.name(n)}_body clashes with a node",
                )
        self._check_workload_var_names()
        sections: dict[int, list[Node]] = {}
        for n in self.nodes.values():
            k = _k(n)
            top = n.parent is None or (
                k.module_level and placement.scope_of_parent(self.doc, n.parent) == "connect"
            )
            if top and k.section:
                sections.setdefault(_SECTION_INDEX[k.section], []).append(n)
        programs = self._programs()
        for sec in sorted(sections):
            nodes = sorted(sections[sec], key=lambda n: natural_key(n.name or n.id))
            title = SECTIONS[sec][1]
            if title is not None:
                self.out.blank(2 if sec >= 3 else 1)
                self.out.line(f"# {title}", None)
            for n in nodes:
                emit_root = _k(n).emit_root
                if emit_root is None:
                    raise ExportError(
                        n.id,
                        "parent",
                        f"a {kind_lookup.display_name(n.kind)} is no top-level definition",
                    )
                emit_root(self, n)
        program = self._schedules(programs)
        if program is not None:
            self.out.blank(2)
            self.out.line('if __name__ == "__main__":', program.id)
            self.out.line(f"run_main({PROGRAM_VAR})", program.id, 1)
            self.out.use("run_main")
        return self._assemble(program is not None)

    def _check_structure(self) -> None:
        """Every node stands where its kind may live (``placement.place_problem``: a loop in a
        workload, a case in a P.when chain, ...) and frames do not enclose each other."""
        for n in self.nodes.values():
            problem = placement.place_problem(self.doc, n.kind, n.parent)
            if problem is not None:
                raise ExportError(n.id, "parent", problem)
        for n in self.nodes.values():
            seen = {n.id}
            cur = n.parent
            while cur is not None:
                if cur in seen:
                    raise ExportError(n.id, "parent", "the frames enclose each other in a cycle")
                seen.add(cur)
                cur = self.nodes[cur].parent

    def _check_workload_var_names(self) -> None:
        for n in self.roots:
            if _k(n).defines_workload:
                var = self.workload_var(n)
                if var in self.root_names:
                    raise ExportError(
                        n.id,
                        "name",
                        f"the script calls workload {self.name(n)} into {var!r}, which another node "
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
            head.append("from pto_wsp.runtime.runner import report_errors, run_main")
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

    # -- what a kind's emit hook writes through (kinds._base.Emitter) ---------------------------
    @staticmethod
    def error(node_id: str, field: str, message: str) -> ExportError:
        return ExportError(node_id, field, message)

    @staticmethod
    def kind_of(node: Node) -> NodeKind:
        return kind_lookup.kind_of(node)

    @staticmethod
    def q(text: str) -> str:
        return _q(text)

    def use(self, *names: str) -> None:
        self.out.use(*names)

    def line(self, text: str, node_id: str | None, depth: int = 0) -> None:
        self.out.line(text, node_id, depth)

    line_length = LINE_LENGTH
    tensor_init_module = TENSOR_INIT_MODULE

    def blank(self, n: int = 1) -> None:
        self.out.blank(n)

    @staticmethod
    def shape_text(shape: Iterable[int]) -> str:
        return _shape_text(shape)

    @staticmethod
    def dtype_text(node: Node, fieldname: str, dtype: object) -> str:
        return _dtype_text(node, fieldname, dtype)

    @staticmethod
    def natural_key(text: str) -> tuple:
        return natural_key(text)

    def children(self, frame_id: str) -> list[Node]:
        """The nodes directly inside ``frame_id``, in child order."""
        return self.kids.get(frame_id, [])

    # -- helpers ----------------------------------------------------------------------------------
    def _src(self, node: Node, port: str) -> list[Node]:
        """The nodes wired into ``node``'s input ``port``, in wire order."""
        out: list[Node] = []
        for e in self.into.get((node.id, port), []):
            src = self.nodes.get(e.src.node)
            if src is None:
                raise ExportError(node.id, f"inputs.{port}", "the connected node is missing")
            out.append(src)
        return out

    def _dst(self, node: Node, port: str) -> list[Node]:
        """The nodes ``node``'s output ``port`` is wired to, in wire order."""
        out: list[Node] = []
        for e in self.out_of.get((node.id, port), []):
            dst = self.nodes.get(e.dst.node)
            if dst is None:
                raise ExportError(node.id, f"outputs.{port}", "the connected node is missing")
            out.append(dst)
        return out

    def one_src(self, node: Node, port: str) -> Node:
        src = self.optional_src(node, port)
        if src is None:
            raise ExportError(node.id, f"inputs.{port}", "input is not connected")
        return src

    def optional_src(self, node: Node, port: str) -> Node | None:
        srcs = self._src(node, port)
        return srcs[0] if srcs else None

    def ref(self, node: Node, prop: str, what: str) -> Node:
        """The node a reference property names (a node id), of a kind it may name
        (``catalogue.reference_kinds``)."""
        ref = node.props.get(prop)
        target = self.nodes.get(ref) if isinstance(ref, str) else None
        if target is None or target.kind not in catalogue.reference_kinds(node.kind, prop):
            problem = "is not set" if not ref else f"names no {what}"
            raise ExportError(node.id, f"props.{prop}", f"{prop} {problem}: choose a {what}")
        return target

    def expr(
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

    def name(self, n: Node) -> str:
        """``n``'s name as a checked identifier (``pytext.identifier_problem``)."""
        return self.ident(n, "name", n.name)

    def ident(self, n: Node, fieldname: str, name: object) -> str:
        problem = pytext.identifier_problem(name)
        if problem is not None:
            raise ExportError(n.id, fieldname, problem)
        assert isinstance(name, str)
        return name

    def choice(self, n: Node, prop: str, default: str) -> str:
        """An enum property, only as one of its kind's declared choices (all identifiers)."""
        value = n.props.get(prop, default)
        choices = kind_lookup.kind(n.kind).prop(prop).choices or ()
        return self._one_of(n, f"props.{prop}", value, choices)

    def _one_of(self, n: Node, fieldname: str, value: object, choices: Iterable[str]) -> str:
        choices = tuple(choices)
        if value not in choices or not str(value).isidentifier():
            raise ExportError(
                n.id, fieldname, f"expected one of {', '.join(choices)}, got {value!r:.40}"
            )
        return str(value)

    def lit(self, n: Node, fieldname: str, value: object, multiline: bool = False) -> str:
        """A property value as a checked Python literal (NaN, infinities: an ExportError)."""
        try:
            return pytext.literal(value, multiline)
        except ValueError as err:
            raise ExportError(n.id, fieldname, str(err)) from None

    def file_path(self, n: Node, prop: str) -> str:
        """The literal of a file ``n``'s ``prop`` names (``doc_files``): resolved against the
        document's folder, so the script finds it wherever it runs. A relative path stays as
        written when the script is written into that same folder (Export to Python beside the
        project), where the DSL resolves it alike."""
        fieldname = f"props.{prop}"
        try:
            path = doc_files.resolve(self.doc, n, prop)
        except doc_files.NamedFileError as err:
            raise ExportError(n.id, fieldname, err.message) from None
        value = str(n.props[prop])
        folder = self.doc.folder
        same_folder = (
            self.script_dir is not None
            and folder is not None
            and os.path.realpath(self.script_dir) == os.path.realpath(folder)
        )
        if same_folder and not Path(value).expanduser().is_absolute():
            return self.lit(n, fieldname, value)
        return self.lit(n, fieldname, os.fspath(path))

    def integer(self, n: Node, fieldname: str, value: object, least: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ExportError(n.id, fieldname, f"expected an integer, got {value!r:.40}")
        if least is not None and value < least:
            raise ExportError(n.id, fieldname, f"expected an integer >= {least}, got {value}")
        return value

    def _descendants(self, frame_id: str) -> list[Node]:
        """Every node inside ``frame_id`` at any depth (pre-order, children in order)."""
        out: list[Node] = []
        stack = list(reversed(self.kids.get(frame_id, [])))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(self.kids.get(node.id, [])))
        return out

    def workload_var(self, n: Node) -> str:
        return f"{self.name(n)}_w"

    def _root_scope_names(self) -> set[str]:
        return set(self.root_names)

    # -- data -------------------------------------------------------------------------------------
    def dist_text(self, n: Node, fieldname: str, dist: list[str]) -> str:
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

    def assign(self, name: str, call: str, node_id: str, depth: int = 0) -> None:
        """``name = call(...)``, split like a call statement (the name has no parenthesis)."""
        self.assign_call(f"{name} = {call}", node_id, depth)

    # -- axes ---------------------------------------------------------------------------------------
    # -- kernels --------------------------------------------------------------------------------------
    # -- channels and events ------------------------------------------------------------------------
    # -- workloads ------------------------------------------------------------------------------------
    def _scope_names(self, frame: Node) -> set[str]:
        """Names an expression inside ``frame`` may use: root names, the loop variables of the
        frames around and of ``frame`` itself, and the collectives of its workload."""
        names = self._root_scope_names()
        names.update(frames.loop_vars(self.doc, frame.id))
        names.update(frames.bound_vars(frame))
        wl = frames.workload_of(self.doc, frame.id)
        if wl is not None:
            for d in self._descendants(wl.id):
                if _k(d).collective and d.name:
                    names.add(d.name)
        return names

    def body(self, frame: Node, depth: int) -> None:
        """The statements inside ``frame``, in export order (``_statements``)."""
        stmts = self.statements(frame)
        if not stmts:
            self.out.line("pass", frame.id, depth)
            return
        names = self._scope_names(frame)
        for i, node in enumerate(stmts):
            self._statement(node, depth, names)
            nxt = stmts[i + 1] if i + 1 < len(stmts) else None
            if (
                _k(node).children_scope == "branch"
                and nxt is not None
                and _k(nxt).children_scope == "branch"
            ):
                last = self.cases(node)[-1]
                if not last.props.get("otherwise"):
                    # two chains in a row: the DSL would read the second P.when as an elif of
                    # the first; an empty otherwise closes the first (it adds no task)
                    self.out.line("with P.otherwise():", node.id, depth)
                    self.out.line("pass", node.id, depth + 1)

    def sent_call_of(self, send: Node) -> Node | None:
        """The kernel call wired into a send's ``value``; it is written inside the send."""
        srcs = self._src(send, "value")
        if not srcs:
            return None
        if len(srcs) > 1:
            raise ExportError(send.id, "inputs.value", "send takes one value; remove a wire")
        call = srcs[0]
        if not _k(call).calls_kernel:
            raise ExportError(send.id, "inputs.value", "send takes a kernel call's task")
        if call.parent != send.parent:
            raise ExportError(
                call.id,
                "parent",
                "a kernel call sent on a channel is written inside its send: put it in the "
                "send's frame",
            )
        sends = self._dst(call, "task")
        if len(sends) > 1:
            raise ExportError(call.id, "outputs.task", "a call's task is sent on one channel only")
        return call

    def statements(self, frame: Node) -> list[Node]:
        """``frame``'s children in export order, which is their child order: the order of the
        document is the program order and is never changed here (a read before a write of the
        same tensor is a write-after-read the user meant; validation warns about it). A call sent
        on a channel is not a statement of its own (its send writes it)."""
        cached = self._order_cache.get(frame.id)
        if cached is not None:
            return cached
        kids = self.kids.get(frame.id, [])
        sent_ids: set[str] = set()
        for k in kids:
            if _k(k).takes_task:
                call = self.sent_call_of(k)
                if call is not None:
                    sent_ids.add(call.id)
        order = [k for k in kids if k.id not in sent_ids]
        self._order_cache[frame.id] = order
        return order

    def cases(self, chain: Node) -> list[Node]:
        cases = self.kids.get(chain.id, [])
        if not cases:
            raise ExportError(chain.id, "children", "a P.when chain needs at least one case")
        for i, case in enumerate(cases):
            if not _k(case).case:
                raise ExportError(
                    case.id, "parent", "a P.when chain holds its cases only; move this into a case"
                )
            if case.props.get("otherwise"):
                if i == 0:
                    raise ExportError(
                        case.id, "props.otherwise", "the first case needs a predicate: P.when"
                    )
                if i != len(cases) - 1:
                    raise ExportError(
                        case.id, "props.otherwise", "only the last case can be otherwise"
                    )
        return cases

    def _statement(self, n: Node, depth: int, names: set[str]) -> None:
        """One statement of a workload: its kind writes it (``NodeKind.emit``)."""
        emit = _k(n).emit
        if emit is None:
            raise ExportError(
                n.id,
                "parent",
                f"a {kind_lookup.display_name(n.kind)} cannot be a statement of a workload",
            )
        emit(self, n, depth, names)

    def assign_call(self, call: str, node_id: str, depth: int) -> None:
        """A call statement, split like ruff-format when it is too long for one line: the
        arguments on one indented line when they fit there, else one per line with a trailing
        comma."""
        if len(INDENT * depth + call) <= LINE_LENGTH:
            self.out.line(call, node_id, depth)
            return
        head, args = _split_call(call)
        self.out.line(f"{head}(", node_id, depth)
        joined = ", ".join(args)
        if len(INDENT * (depth + 1) + joined) <= LINE_LENGTH:
            self.out.line(joined, node_id, depth + 1)
        else:
            for a in args:
                self.out.line(f"{a},", node_id, depth + 1)
        self.out.line(")", node_id, depth)

    # -- kernel calls ----------------------------------------------------------------------------
    def _param_node(self, call: Node, q: dict) -> Node | None:
        """The data node wired to parameter ``q`` of ``call``: into its input port (In, InOut)
        or from its output port (Out, InOut); an InOut wired both ways names one tensor."""
        pname = q["name"]
        ins = self._src(call, pname) if q["direction"] in ("In", "InOut") else []
        outs = self._dst(call, pname) if q["direction"] in ("Out", "InOut") else []
        if len(ins) > 1:
            raise ExportError(call.id, f"inputs.{pname}", "more than one wire into the parameter")
        if len(outs) > 1:
            raise ExportError(
                call.id, f"outputs.{pname}", "the parameter writes one tensor; remove a wire"
            )
        if ins and outs and ins[0].id != outs[0].id:
            raise ExportError(
                call.id,
                f"outputs.{pname}",
                f"InOut parameter {pname} reads {kind_lookup.node_label(ins[0])} but writes "
                f"{kind_lookup.node_label(outs[0])}: wire one tensor both ways",
            )
        found = ins[0] if ins else (outs[0] if outs else None)
        if found is not None and not (_k(found).data or _k(found).collective):
            raise ExportError(
                call.id,
                f"inputs.{pname}",
                f"a {kind_lookup.display_name(found.kind)} cannot be a kernel argument",
            )
        return found

    def call_text(self, n: Node, names: set[str]) -> str:
        """``kernel[axes](param=tensor[index], ...)`` for a ``kernel.call``."""
        kern = self.ref(n, "kernel", "kernel")
        names = names | set(frames.loop_vars(self.doc, n.id))
        head = self.name(kern)
        axes = n.props.get("axes")
        if axes is not None and not isinstance(axes, str):
            raise ExportError(n.id, "props.axes", "expected the axes text or null (the loop's)")
        axes_text = indexing.call_axes(self.doc, n).strip()
        if axes_text:
            head += f"[{self.expr(n, 'axes', axes_text, names, in_brackets=True)}]"
        args: list[str] = []
        for q in (kernel_param.normalize_param(p) for p in indexing.params_of(kern)):
            pname = self.ident(kern, "props.params", q["name"])  # a keyword argument
            src = self._param_node(n, q)
            if q["kind"] == "scalar":
                text = (indexing.index_override(n, pname) or "").strip()
                if src is not None:
                    value = self.name(src)
                elif text:
                    value = self.expr(n, f"index.{pname}", text, names)
                else:
                    raise ExportError(
                        n.id, f"inputs.{pname}", "scalar argument: connect a value or type one"
                    )
                args.append(f"{pname}={value}")
                continue
            if src is None:
                port = "outputs" if q["direction"] == "Out" else "inputs"
                raise ExportError(n.id, f"{port}.{pname}", "the parameter is not connected")
            arg = self.name(src)
            text = indexing.effective_index(self.doc, n, pname, self.wires).strip()
            if text:
                arg += f"[{self._index(n, f'index.{pname}', text, names)}]"
            args.append(f"{pname}={arg}")
        return f"{head}({', '.join(args)})"

    # -- schedules and the program ---------------------------------------------------------------
    def _programs(self) -> list[Node]:
        """Top-level frames whose sheet compiles them (a target), at most one."""
        targets = [
            n
            for n in self.roots
            if n.kind in catalogue.PROGRAM_KINDS and (n.props.get("target") or "") != ""
        ]
        targets.sort(key=lambda n: natural_key(n.name or n.id))
        if len(targets) > 1:
            raise ExportError(
                targets[1].id,
                "props.target",
                f"a project has one program, and {kind_lookup.node_label(targets[0])} is compiled "
                "already: clear this target",
            )
        if targets and PROGRAM_VAR in self.root_names:
            raise ExportError(
                self.root_names[PROGRAM_VAR].id,
                "name",
                f"the script names the compiled program {PROGRAM_VAR!r}; rename this node",
            )
        return targets

    def _base_expr(self, n: Node) -> str:
        return self.workload_var(n) if _k(n).defines_workload else self.name(n)

    def _schedules(self, programs: list[Node]) -> Node | None:
        """``program = base.dispatch(...)...compile(...)`` for the compiled frame, and a
        ``<name>_scheduled`` workload for every other frame whose sheet schedules it."""
        title_written = False

        def title() -> None:
            nonlocal title_written
            if not title_written:
                self.out.blank(2)
                self.out.line("# Schedule and program", None)
                title_written = True

        frames_ = sorted(
            (n for n in self.roots if n.kind in catalogue.PROGRAM_KINDS),
            key=lambda n: natural_key(n.name or n.id),
        )
        for n in frames_:
            if n in programs:
                continue
            steps = self._sheet_steps(n)
            if not steps:
                continue
            var = f"{self.name(n)}{SCHEDULED_SUFFIX}"
            if var in self.root_names:
                raise ExportError(
                    n.id,
                    "name",
                    f"the script names {self.name(n)}'s scheduled workload {var!r}, which "
                    "another node is named",
                )
            title()
            self._emit_chain(var, self._base_expr(n), steps, n.id)
        if not programs:
            return None
        n = programs[0]
        target = self._one_of(n, "props.target", n.props.get("target"), TARGETS)
        steps = [*self._sheet_steps(n), (f".compile(target={_q(target)})", n.id)]
        if title_written:
            self.out.blank(1)
        title()
        self._emit_chain(PROGRAM_VAR, self._base_expr(n), steps, n.id)
        self._cost_table(n, target)
        return n

    def _cost_table(self, n: Node, target: str) -> None:
        """``program.runner.set_cost_table(CostTable.from_ptoisa("a2a3"))`` when the sheet
        picks a table other than the default. Only cpu_sim prices cycles: on another target the
        sheet greys the choice out (``sheet_prop_applies``) and the script leaves it out."""
        value = n.props.get("cost_table", DEFAULT_TABLE_NAME)
        name = self._one_of(n, "props.cost_table", value, TABLE_NAMES)
        call = table_dsl(name)
        if call is None or target != COST_TABLE_TARGET:
            return
        self.out.line(f"{PROGRAM_VAR}.runner.set_cost_table({call})", n.id)
        self.out.use("CostTable")

    def _key(self, n: Node, fieldname: str, text: str) -> str:
        """A key over the task: ``t.get("batch") % 2``, or the same with the frame's loop
        variables written bare (``h % 2`` is ``t.get("h") % 2``)."""
        loop = self._program_loop_vars(n)
        problems = exprs.validate(text, loop | {exprs.TASK_VAR})
        if problems:
            raise ExportError(n.id, f"props.{fieldname}", problems[0])
        used = exprs.names(text) - {exprs.TASK_VAR}
        if used:
            tree = exprs.parse(text)

            class _Bare(ast.NodeTransformer):
                def visit_Name(self, node: ast.Name) -> ast.AST:
                    if node.id not in used:
                        return node
                    get = ast.Attribute(ast.Name(exprs.TASK_VAR, ast.Load()), "get", ast.Load())
                    return ast.Call(get, [ast.Constant(node.id)], [])

            text = ast.unparse(ast.fix_missing_locations(_Bare().visit(tree)))
        return self.expr(n, fieldname, text, {exprs.TASK_VAR})

    def _program_loop_vars(self, n: Node) -> set[str]:
        """Loop variables bound anywhere in the workloads a program frame runs."""
        out: set[str] = set()
        stack = [n]
        seen: set[str] = set()
        while stack:
            f = stack.pop()
            if f.id in seen:
                continue
            seen.add(f.id)
            for d in self._descendants(f.id):
                out.update(frames.bound_vars(d))
                if _k(d).instance:
                    ref = d.props.get("workload")
                    wl = self.nodes.get(ref) if isinstance(ref, str) else None
                    if wl is not None and _k(wl).defines_workload:
                        stack.append(wl)
        return out

    def _sheet_steps(self, n: Node) -> list[tuple[str, str]]:
        """The schedule calls the frame's sheet sets, in the DSL's order, empty ones left out."""
        p = n.props
        steps: list[str] = []
        dispatch = p.get("dispatch") or ""
        if dispatch:
            policy = self._one_of(n, "props.dispatch", dispatch, DISPATCH_POLICIES)
            self.out.use("DispatchPolicy")
            if policy == DispatchKind.ROUND_ROBIN:
                n_workers = p.get("dispatch_n", SHEET_ROUND_ROBIN_WORKERS)
                workers = self.integer(n, "props.dispatch_n", n_workers, 1)
                arg = f"DispatchPolicy.round_robin({workers})"
            elif policy == DispatchKind.WORK_STEAL:
                arg = "DispatchPolicy.work_steal()"
            else:
                key = (p.get("dispatch_key") or "").strip()
                if not key:
                    raise ExportError(
                        n.id, "props.dispatch_key", f"dispatch policy {policy} needs a key"
                    )
                aicpus = self.integer(n, "props.dispatch_aicpus", p.get("dispatch_aicpus", 0), 0)
                count = f", num_aicpus={aicpus}" if aicpus else ""
                arg = (
                    f"DispatchPolicy.{policy}(lambda t: {self._key(n, 'dispatch_key', key)}{count})"
                )
            steps.append(f".dispatch({arg})")
        streams = p.get("streams") or 0
        if streams:
            steps.append(f".streams({self.integer(n, 'props.streams', streams, 1)})")
        stream_by = (p.get("stream_by") or "").strip()
        if stream_by:
            steps.append(f".stream_by(lambda t: {self._key(n, 'stream_by', stream_by)})")
        timing = p.get("timing") or ""
        if timing:
            policy = self._one_of(n, "props.timing", timing, TIMING_POLICIES)
            self.out.use("TimingPolicy")
            if policy == TimingKind.IMMEDIATE:
                steps.append(".timing(TimingPolicy.immediate)")
            else:
                param = p.get("timing_param", 1)
                if policy in TIMING_COUNT_POLICIES:
                    param = self.integer(n, "props.timing_param", param, 1)
                steps.append(
                    f".timing(TimingPolicy.{policy}({self.lit(n, 'props.timing_param', param)}))"
                )
        task_graph = p.get("task_graph") or {}
        if task_graph:
            if not isinstance(task_graph, dict):
                raise ExportError(n.id, "props.task_graph", "expected the task_graph settings")
            steps.append(f".task_graph({', '.join(self._task_graph_args(n, task_graph))})")
        grid = p.get("spatial_map") or []
        if grid:
            if not isinstance(grid, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in grid
            ):
                raise ExportError(n.id, "props.spatial_map", "expected a grid of positive sizes")
            steps.append(f".spatial_map(grid={_shape_text(grid)})")
        return [(s, n.id) for s in steps]

    def _task_graph_args(self, n: Node, p: dict) -> list[str]:
        """The keyword arguments of ``.task_graph(...)``; "default" choices are left out."""
        f = "props.task_graph."
        d = {**TASK_GRAPH_DEFAULTS, **p}  # a field left out of the file is its default
        args: list[str] = []
        window = self.integer(n, f + "window", d["window"], 0)
        if window > 0:
            self.out.use("TaskWindow", "WindowMode")
            mode = self._one_of(n, f + "mode", d["mode"], WINDOW_MODES)
            unit = _q(self._one_of(n, f + "unit", d["unit"], WINDOW_UNITS))
            args.append(f"window=TaskWindow({window}, {unit}, WindowMode.{mode.upper()})")
        deps = self._one_of(n, f + "deps", d["deps"], DEPS_MODES)
        if deps != NOT_SET:
            self.out.use("Deps")
            args.append("deps=" + _DEPS_CALL[DepsKind(deps)])
        ready = self._one_of(n, f + "ready", d["ready"], READY_POLICIES)
        if ready == ReadyKind.PRIORITY:
            key = (p.get("ready_key") or "").strip()
            if not key:
                raise ExportError(n.id, f + "ready_key", "ready=priority needs a key")
            args.append(f"ready=ReadyPolicy.priority(lambda t: {self._key(n, 'task_graph.ready_key', key)})")  # fmt: skip
        elif ready != NOT_SET:
            args.append(f"ready=ReadyPolicy.{ready}()")
        if ready != NOT_SET:
            self.out.use("ReadyPolicy")
        start = self._one_of(n, f + "start", d["start"], START_POLICIES)
        if start == StartKind.THRESHOLD:
            threshold = self.integer(n, f + "threshold", d["threshold"], 0)
            args.append(f"start=StartPolicy.threshold({threshold})")
        elif start != NOT_SET:
            args.append(f"start=StartPolicy.{start}()")
        if start != NOT_SET:
            self.out.use("StartPolicy")
        trace = self._one_of(n, f + "trace", d["trace"], TRACE_POLICIES)
        if trace != NOT_SET:
            self.out.use("TracePolicy")
            args.append(f"trace=TracePolicy.{trace}()")
        pools = p.get("pools") or []
        if pools:
            entries: list[str] = []
            for i, entry in enumerate(pools):
                ref = entry.get("kernel") if isinstance(entry, dict) else None
                kern = self.nodes.get(ref) if isinstance(ref, str) else None
                if kern is None or not _k(kern).defines_kernel:
                    kern = self.root_names.get(ref) if isinstance(ref, str) else None
                if kern is None or not _k(kern).defines_kernel:
                    raise ExportError(n.id, f"{f}pools[{i}].kernel", f"no kernel {ref!r:.40}")
                workers = self.integer(n, f"{f}pools[{i}].workers", entry.get("workers"), 1)
                entries.append(f"{self.name(kern)}: {workers}")
            self.out.use("Pools")
            args.append(f"pools=Pools.by_kernel({{{', '.join(entries)}}})")
        if not args:
            raise ExportError(
                n.id,
                f + "window",
                "task_graph sets nothing: give a window or choose deps, ready, start, trace or "
                "pools",
            )
        return args

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


# ------------------------------------------------------------------------------------------
# graph helpers


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


def export_script(doc: Document, script_dir: str | os.PathLike[str] | None = None) -> ExportResult:
    """The DSL script for ``doc`` (see the module doc); ``ExportError`` when it cannot be.

    ``script_dir``: the folder the script will be written to, when known. A file the document
    names by a relative path (``doc_files``) is written relative only when that folder is the
    document's own; otherwise (a run's temporary folder, unknown) as the resolved path."""
    return _Exporter(doc, Path(script_dir) if script_dir is not None else None).run()
