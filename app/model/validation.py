"""``validate_document(doc)``: everything wrong with a v2 document, as a list of diagnostics.

One pass over the root canvas (every node lives in it; frames are nodes that others name as
``parent``) and over each kernel body. Each diagnostic names the node and the field at fault:

- where nodes live: no cycle of parents, and ``placement.place_problem`` (the parent exists, is
  a frame, and the kind may live inside it: ``allowed_in``) for edits made in memory too;
  only a kernel definition owns a body;
- properties: unknown or missing ones, values of the wrong type (``prop_checks.prop_problem``),
  expressions that use names not in scope (the loop variables of the frames around the node,
  ``frames.loop_vars``, and the root canvas's names);
- references (properties holding node ids, ``catalogue.reference_props``): a call's kernel, a
  loop's axes, a send/consume/close's channel, an event use's event, an instance's workload
  name an existing node of a kind ``catalogue.reference_kinds`` allows;
- loops: a variable is not bound again by an enclosing loop and hides no root variable;
- ``P.when`` chains hold cases, ``otherwise`` only on the last one;
- kernel calls: every In/InOut parameter wired exactly once, every Out parameter wired to one
  tensor, index keys that are parameters; and every view a call passes judged by
  ``shape_checks`` (``pto_wsp.language.shape_rule``, with the effective index of ``indexing``);
- wires: ports that exist, types that fit, single inputs with one wire, required inputs wired,
  and the root canvas's rules of ``connections.can_connect`` (a call writes tensors, values made
  inside a frame are used inside it, no wire joins two workloads);
- the schedule sheet of a program frame: ``dispatch_n >= 1`` for round_robin, a key for keyed
  policies, keys over the program's loop variables (``t.get`` names as the DSL resolves them:
  ``pto_wsp.language.key_rule``), timing parameters, task_graph settings, the spatial_map grid;
  collectives need a mesh (``spatial_map``) on every program that compiles them;
- names the script uses as variables are identifiers; root names are unique.

It never raises for a document that ``io.load`` accepted, nor for one edited in memory into any
shape; the exporter refuses documents with diagnostics.

``document_warnings(doc)`` lists what is allowed but worth seeing, as
diagnostics of severity ``"warning"`` that export does not refuse: a reader whose child order
puts it before a writer of the same tensor (a write-after-read by order; the child order is the
program order, docs/semantics.md "Statement order in the Studio"), and a document whose program
frames all lack a target (nothing would run).
"""

from __future__ import annotations

import ast
from collections import Counter, defaultdict
from typing import Any, TypeGuard

from pto_wsp.compiler.cost import DEFAULT_TABLE_NAME, TABLE_LABELS
from pto_wsp.language.key_rule import singular
from pto_wsp.language.policy_kinds import DispatchKind, ReadyKind, StartKind, TimingKind

from . import (
    bounds,
    catalogue,
    connections,
    exprs,
    frames,
    indexing,
    kind_lookup,
    node_ports,
    order,
    placement,
    prop_checks,
    pytext,
    shape_checks,
    titles,
)
from .document import Diagnostic, Document, Edge, Graph, Node
from .kinds._base import NodeKind, PortSpec
from .kinds.schedule import (
    COST_TABLE_TARGET,
    DEFAULT_TARGET,
    NOT_SET,
    TASK_GRAPH_DEFAULTS,
    TIMING_COUNT_POLICIES,
    sheet_prop_applies,
)


def validate_document(doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = bounds.document_diagnostics(doc)
    _Checker(doc, out).run()
    out += shape_checks.document_problems(doc)
    return out


def document_warnings(doc: Document) -> list[Diagnostic]:
    """Warnings (severity ``"warning"``): each reader of a tensor whose statement stands before
    the statement of a writer of that tensor in their nearest common frame (``order``) reads
    the old value: a write-after-read by order, allowed and kept by export, shown so an
    unintended one is found. Not warned where no order avoids it: the reader's statement writes
    the tensor too (an accumulation), or the writer's statement reads what the reader's writes
    (a cycle of data, ``order.sibling_flow``). One warning per reader port, naming the first
    such writer. And one on the first program frame when no program has a target."""
    out: list[Diagnostic] = []
    nodes = doc.graph.nodes
    writers: dict[str, list[str]] = defaultdict(list)  # data node id -> writer ids
    readers: list[tuple[str, str, str]] = []  # (data node id, reader id, reader port)
    for e in doc.graph.edges:
        src, dst = nodes.get(e.src.node), nodes.get(e.dst.node)
        if src is None or dst is None:
            continue
        if kind_lookup.kind_of(dst).data:
            writers[dst.id].append(src.id)
        if kind_lookup.kind_of(src).data:
            readers.append((src.id, dst.id, e.dst.port))
    flows: dict[str | None, tuple[list[str], dict[str, set[str]]]] = {}
    for data_id, reader, port in readers:
        found = None
        for writer in writers.get(data_id, ()):
            pair = order.statements_of(doc, writer, reader)
            if pair is None:
                continue
            sw, sr = pair
            if sw.parent not in flows:
                flows[sw.parent] = order.sibling_flow(doc, sw.parent)
            sibs, flow = flows[sw.parent]
            if sibs.index(sr.id) > sibs.index(sw.id):
                continue
            if any(
                w == sr.id or any(a.id == sr.id for a in frames.ancestors(doc, w))
                for w in writers[data_id]
            ):
                found = None
                break
            if found is None and sw.id not in order.downstream(flow, sr.id, sibs):
                found = writer
        if found is not None:
            message = (
                f"reads {_label(nodes[data_id])} before {titles.title(nodes[found], doc)} writes "
                "it (write-after-read by order); Move Later if it should read the new value"
            )
            out.append(Diagnostic(reader, f"inputs.{port}", message, severity="warning"))
    out += _nothing_runs(doc)
    out += _unused_cost_tables(doc)
    return out


def _unused_cost_tables(doc: Document) -> list[Diagnostic]:
    """A warning on each program whose sheet picks a cost table its target does not use (only
    cpu_sim prices cycles): the sheet greys the choice out and export leaves it out, so the
    project file's choice would otherwise be dropped without a word."""
    out: list[Diagnostic] = []
    for n in doc.graph.nodes.values():
        name, target = n.props.get("cost_table"), n.props.get("target")
        if not kind_lookup.kind_of(n).program or not isinstance(name, str) or not target:
            continue
        if name == DEFAULT_TABLE_NAME or sheet_prop_applies(n.props, "cost_table"):
            continue
        message = (
            f"cost table {TABLE_LABELS.get(name, name)} is not used: only {COST_TABLE_TARGET} "
            f"prices cycles, and this workload's target is {target}"
        )
        out.append(Diagnostic(n.id, "props.cost_table", message, severity="warning"))
    return out


def _nothing_runs(doc: Document) -> list[Diagnostic]:
    """A warning on the first program frame (a top-level one first) when no program has a
    target: Run would say NothingToRun, and this says it before anyone presses F5."""
    programs = [n for n in doc.graph.nodes.values() if kind_lookup.kind_of(n).program]
    if not programs or any(n.props.get("target") for n in programs):
        return []
    first = next((n for n in programs if n.parent is None), programs[0])
    message = f"nothing runs: pick a target ({DEFAULT_TARGET}) on this workload's schedule sheet"
    return [Diagnostic(first.id, "props.target", message, severity="warning")]


class _Checker:
    def __init__(self, doc: Document, out: list[Diagnostic]):
        self.doc = doc
        self.nodes = doc.graph.nodes
        self.out = out
        self.wires = indexing.Wires(doc)
        self.root_names = frozenset(
            n.name for n in self.nodes.values() if n.parent is None and n.name
        )
        self._kids: dict[str | None, list[Node]] = defaultdict(list)
        for n in self.nodes.values():
            self._kids[n.parent].append(n)
        self._program: dict[str, Node | None] = {}
        self._bad: set[tuple[str, str]] = set()  # (node, prop) whose value has the wrong type

    def add(self, node_id: str, field: str, message: str) -> None:
        self.out.append(Diagnostic(node_id, field, message))

    def ref(self, value: Any) -> Node | None:
        return self.nodes.get(value) if isinstance(value, str) and value else None

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> None:
        self.check_names()
        sound = self.check_parents()
        for node in self.nodes.values():
            kind = catalogue.KINDS.get(node.kind)
            if kind is None:
                self.add(node.id, "kind", f"unknown node kind {node.kind!r}")
                continue
            if node.id in sound:
                problem = placement.place_problem(self.doc, node.kind, node.parent)
                if problem is not None:
                    self.add(node.id, "parent", problem)
            self.check_body(node, kind)
            self.check_props(node, kind)
            self.check_references(node)
            self.check_kind_rules(node)
        self.check_edges(self.doc.graph, None)
        self.check_collectives_have_a_mesh()
        self.check_one_program()

    # -- names -------------------------------------------------------------------------------
    def check_names(self) -> None:
        """Script variables are checked identifiers; the names of the script's top-level
        definitions (root nodes, and the processes of connect frames) are unique, names of
        statements (collectives) unique within their program and hiding no root name."""
        top = [n for n in self.nodes.values() if n.name and _top_level(n)]
        top_counts = Counter(n.name for n in top)
        local: Counter[tuple[str, str]] = Counter()
        for n in self.nodes.values():
            if not _top_level(n) and n.name and kind_lookup.names_a_variable(n.kind):
                local[(self._program_id(n), n.name)] += 1
        for n in self.nodes.values():
            if not kind_lookup.names_a_variable(n.kind):
                continue
            problem = pytext.identifier_problem(n.name)
            if problem is not None:
                self.add(n.id, "name", problem)
            elif _top_level(n):
                if top_counts[n.name] > 1:
                    self.add(n.id, "name", f"duplicate name {n.name!r}")
            elif local[(self._program_id(n), n.name)] > 1:
                program = self.program_of(n)
                where = f" in {_label(program)}" if program is not None else ""
                self.add(n.id, "name", f"duplicate name {n.name!r}{where}")
            elif n.name in self.root_names:
                self.add(n.id, "name", f"{n.name!r} hides the root node of that name")
        for kern in self.nodes.values():
            for inner in kern.body.nodes.values() if kern.body is not None else ():
                if kind_lookup.names_a_variable(inner.kind):
                    problem = pytext.identifier_problem(inner.name)
                    if problem is not None:
                        self.add(inner.id, "name", problem)

    # -- frames ------------------------------------------------------------------------------
    def check_parents(self) -> set[str]:
        """Parent chains that end on the root canvas; a node whose chain runs into a cycle (a
        frame inside itself) is reported. Returns the nodes whose chain is sound: only those
        are placed (``placement.place_problem``)."""
        sound: set[str] = set()
        for node in self.nodes.values():
            if self._cyclic(node):
                self.add(node.id, "parent", "its frames form a cycle: a frame inside itself")
            else:
                sound.add(node.id)
        return sound

    def _cyclic(self, node: Node) -> bool:
        seen = {node.id}
        current = node.parent
        while current is not None:
            if current in seen:
                return True
            seen.add(current)
            parent = self.nodes.get(current)
            current = parent.parent if parent is not None else None
        return False

    def check_body(self, node: Node, kind: NodeKind) -> None:
        if kind.scope:  # owns a body: a kernel definition
            if node.body is None:
                self.add(node.id, "body", f"{kind_lookup.display_name(node.kind)} has no body")
            else:
                self.check_kernel_body(node)
        elif node.body is not None:
            self.add(
                node.id, "body", f"{kind_lookup.display_name(node.kind)} does not own a sub-canvas"
            )

    def program_of(self, node: Node) -> Node | None:
        """The outermost program frame (workload, combine/sequential, connect) around or at
        ``node``; None when it is in none."""
        if node.id in self._program:
            return self._program[node.id]
        found: Node | None = None
        for frame in [*frames.ancestors(self.doc, node.id), node]:
            if kind_lookup.kind_of(frame).program:
                found = frame
                break
        self._program[node.id] = found
        return found

    def _program_id(self, node: Node) -> str:
        program = self.program_of(node)
        return program.id if program is not None else ""

    def program_nodes(self, program: Node) -> list[Node]:
        """The nodes of a program, through its instances into the workloads they run."""
        out: list[Node] = []
        seen = {program.id}
        stack = [program]
        while stack:
            frame = stack.pop()
            for child in self.descendants(frame.id):
                out.append(child)
                target = self.ref(child.props.get("workload"))
                if kind_lookup.kind_of(child).instance and target is not None:
                    if target.id not in seen:
                        seen.add(target.id)
                        stack.append(target)
        return out

    def descendants(self, frame_id: str) -> list[Node]:
        """Every node inside ``frame_id`` at any depth (``frames.iter_descendants`` over the
        children index built once per validation)."""
        out: list[Node] = []
        seen = {frame_id}
        stack = list(reversed(self._kids.get(frame_id, [])))
        while stack:
            node = stack.pop()
            if node.id in seen:
                continue
            seen.add(node.id)
            out.append(node)
            stack.extend(reversed(self._kids.get(node.id, [])))
        return out

    # -- properties --------------------------------------------------------------------------
    def names_at(self, node: Node) -> frozenset[str]:
        """Names an expression of ``node`` may use: root names and the enclosing loop vars."""
        return self.root_names | frozenset(frames.loop_vars(self.doc, node.id))

    def in_scope_hint(self, node: Node) -> str:
        """`` (in scope here: b, h)``: the loop variables around ``node``, outermost first, for
        an unknown name (a typo of one is the usual cause; root names are too many to list)."""
        found = frames.loop_vars(self.doc, node.id)
        if not found:
            return " (no loop variables in scope here)"
        return f" (in scope here: {', '.join(found)})"

    def check_props(self, node: Node, kind: NodeKind) -> None:
        known = {p.name for p in kind.props}
        for extra in sorted(set(node.props) - known):
            self.add(
                node.id,
                f"props.{extra}",
                f"unknown property for {kind_lookup.display_name(node.kind)}",
            )
        scope_names: frozenset[str] | None = None
        for spec in kind.props:
            field = f"props.{spec.name}"
            if spec.name not in node.props:
                self.add(node.id, field, "missing property")
                self._bad.add((node.id, spec.name))
                continue
            value = node.props[spec.name]
            applies = prop_checks.prop_applies(node, spec.name)
            if not applies and value in ("", None):
                continue  # not used under the node's other choices (an otherwise case's pred)
            problem = prop_checks.prop_problem(spec, value)
            if problem is not None:
                self.add(node.id, field, problem)
                self._bad.add((node.id, spec.name))
                continue
            if not applies:
                continue  # a value kept but not used: its names are not judged
            texts: list[tuple[str, str]] = []
            check = exprs.validate
            if spec.type in ("expr", "exprlist") and isinstance(value, str) and value.strip():
                texts.append((field, value))
            elif spec.type == "exprmap" and isinstance(value, dict):
                check = exprs.validate_index  # indices of subscripts: slices are allowed
                texts += [(f"{field}.{k}", t) for k, t in value.items() if t.strip()]
            # "key" properties are judged against the program's loops: check_sheet
            if texts and scope_names is None:
                scope_names = self.names_at(node)
            for where, text in texts:
                for msg in check(text, scope_names or ()):
                    if msg.startswith("unknown name"):
                        msg += self.in_scope_hint(node)
                    self.add(node.id, where, msg)
        if "layout" in known and (node.id, "layout") not in self._bad:
            problem = prop_checks.node_prop_problem(node, "layout", node.props["layout"])
            if problem is not None:
                self.add(node.id, "props.layout", problem)

    def check_references(self, node: Node) -> None:
        for prop, key in catalogue.reference_props(node.kind).items():
            if (node.id, prop) in self._bad:
                continue  # a value of the wrong shape: reported by check_props
            value = node.props[prop]
            if key is None:
                self._check_ref(node, f"props.{prop}", prop, prop, value)
                continue
            for i, entry in enumerate(value):
                self._check_ref(node, f"props.{prop}[{i}].{key}", prop, key, entry.get(key))

    def _check_ref(self, node: Node, field: str, prop: str, what: str, value: Any) -> None:
        wanted = catalogue.reference_kinds(node.kind, prop)
        words = " or ".join(sorted({kind_lookup.display_name(k) for k in wanted})) or what
        if not value:
            self.add(node.id, field, f"no {what} chosen: pick a {words}")
            return
        target = self.ref(value)
        if target is None:
            self.add(node.id, field, f"names no node ({value!r:.40}): pick a {words}")
        elif wanted and target.kind not in wanted:
            self.add(
                node.id,
                field,
                f"{_label(target)} is a {kind_lookup.display_name(target.kind)}, not a {words}",
            )

    # -- kind rules --------------------------------------------------------------------------
    def check_kind_rules(self, node: Node) -> None:
        kind = kind_lookup.kind_of(node)
        if kind.check is not None:
            kind.check(self, node)
        if kind.binds_vars is not None:
            self.check_loop_vars(node)
        if node.kind in catalogue.SHEET_KINDS:
            self.check_sheet(node)

    def check_loop_vars(self, node: Node) -> None:
        """A loop binds its own variables (their form is the property's type check): not one
        an enclosing loop binds, not a root name; P has at least one axis, P.seq/P.sel/consume
        exactly one variable."""
        parallel = any(p.type == "axes" for p in kind_lookup.kind_of(node).props)
        field = "props.axes" if parallel else "props.var"
        if (node.id, field[len("props.") :]) in self._bad:
            return
        own = frames.bound_vars(node)
        if parallel and not own:
            self.add(node.id, field, "P needs at least one axis")
        elif not parallel and len(exprs.split_names(own[0] if own else "")) != 1:
            self.add(node.id, field, "binds exactly one loop variable")
            return
        outer = set(frames.loop_vars(self.doc, node.id))
        for i, var in enumerate(own):
            where = f"props.axes[{i}].var" if parallel else field
            if var in outer:
                self.add(node.id, where, f"loop variable {var!r} is already bound by an enclosing loop")  # fmt: skip
            elif var in self.root_names:
                self.add(node.id, where, f"loop variable {var!r} hides the root node {var}")

    # -- what a kind's ``check`` hook uses (``NodeKind.check``) --------------------------------
    def children(self, frame_id: str) -> list[Node]:
        """The nodes directly inside ``frame_id``, in order."""
        return self._kids.get(frame_id, [])

    @staticmethod
    def kind_of(node: Node) -> NodeKind:
        return kind_lookup.kind_of(node)

    @staticmethod
    def label(node: Node | None) -> str:
        return _label(node)

    def check_positive(self, node: Node, prop: str, minimum: int = 1) -> None:
        value = node.props.get(prop)
        if _is_int(value) and value < minimum:
            self.add(node.id, f"props.{prop}", f"{prop} must be >= {minimum}")

    def check_one_program(self) -> None:
        """A project compiles one program: one top-level frame with a target."""
        targets = [
            n
            for n in self.nodes.values()
            if n.parent is None and n.kind in catalogue.SHEET_KINDS and n.props.get("target")
        ]
        if len(targets) > 1:
            names = ", ".join(_label(n) for n in targets)
            for n in targets:
                self.add(n.id, "props.target", f"a project compiles one program, and {names} each set a target: clear all but one")  # fmt: skip

    # -- the schedule sheet ------------------------------------------------------------------
    def check_sheet(self, node: Node) -> None:
        p = node.props
        policy = p.get("dispatch")
        if policy == DispatchKind.ROUND_ROBIN:
            self.check_positive(node, "dispatch_n")
        keyed = policy and prop_checks.prop_applies(node, "dispatch_key")
        if keyed and not str(p.get("dispatch_key") or "").strip():
            self.add(node.id, "props.dispatch_key", f"dispatch {policy} needs a key: pick a loop variable, e.g. b")  # fmt: skip
        aicpus = p.get("dispatch_aicpus", 0)
        if keyed and (not _is_int(aicpus) or aicpus < 0):
            self.add(node.id, "props.dispatch_aicpus", f"dispatch {policy} takes num_aicpus >= 0 (0 = the streams' count, else 1)")  # fmt: skip
        streams = p.get("streams")
        if _is_int(streams) and streams < 0:
            self.add(node.id, "props.streams", "streams must be >= 1, or 0 (not set)")
        timing, param = p.get("timing"), p.get("timing_param")
        if timing in TIMING_COUNT_POLICIES and (not _is_int(param) or param < 1):
            self.add(node.id, "props.timing_param", f"timing {timing} takes a count >= 1")
        elif timing == TimingKind.RATE_LIMIT and (not isinstance(param, int | float) or param <= 0):
            self.add(node.id, "props.timing_param", "timing rate_limit takes a rate > 0 (tasks per ms)")  # fmt: skip
        graph = p.get("task_graph")
        if isinstance(graph, dict) and graph and (node.id, "task_graph") not in self._bad:
            self.check_task_graph(node, graph)
        keys: list[tuple[str, Any]] = []
        for spec in catalogue.KINDS[node.kind].props:
            if (node.id, spec.name) in self._bad:
                continue
            if spec.type == "key" and prop_checks.prop_applies(node, spec.name):
                keys.append((f"props.{spec.name}", p.get(spec.name)))
            elif spec.type == "dict" and isinstance(p.get(spec.name), dict):
                value = p[spec.name]
                for f in catalogue.prop_fields(spec):
                    if f.type == "key" and catalogue.field_applies(spec.name, f.name, value):
                        keys.append((f"props.{spec.name}.{f.name}", value.get(f.name)))
        texts = [(f, t) for f, t in keys if isinstance(t, str) and t.strip()]
        if texts:
            variables, key_names = self.program_keys(node)
            for field, text in texts:
                self.check_key(node, field, text, variables, key_names)

    def program_keys(self, program: Node) -> tuple[set[str], set[str]]:
        """The loop variables bound in a program, and every name ``t.get`` accepts in it (as
        the DSL resolves them, ``pto_wsp.language.key_rule``): loop variables, the names of the axes its
        loops walk and their singulars, the kernels a ``P.sel`` body calls."""
        variables: set[str] = set()
        names: set[str] = set()
        for n in self.program_nodes(program):
            if kind_lookup.kind_of(n).binds_vars is not None:
                variables.update(frames.bound_vars(n))
                refs: list[Any] = [n.props.get("axis")]
                axes = n.props.get("axes")
                if isinstance(axes, list):
                    refs += [a.get("axis") for a in axes if isinstance(a, dict)]
                for r in refs:
                    target = self.ref(r)
                    if target is not None and target.name:
                        names.add(target.name)
                        one = singular(target.name)
                        if one:
                            names.add(one)
            if kind_lookup.kind_of(n).calls_kernel and any(
                kind_lookup.kind_of(a).sparse_select for a in frames.ancestors(self.doc, n.id)
            ):
                kern = indexing.kernel_of(self.doc, n)
                if kern is not None and kern.name:
                    names.add(kern.name)
        return variables, names | variables

    def check_key(
        self, node: Node, field: str, text: str, variables: set[str], key_names: set[str]
    ) -> None:
        """A key uses the task (``t.get("b")``) or the program's loop variables bare."""
        problems = exprs.validate(text, variables | {exprs.TASK_VAR})
        for msg in problems:
            if msg.startswith("unknown name"):
                known = ", ".join(sorted(variables)) or "none"
                msg = f"{msg}: a key uses the loop variables of {_label(node)} ({known})"
            self.add(node.id, field, msg)
        if problems:
            return
        for name in sorted(_task_get_names(text) - key_names):
            known = ", ".join(sorted(key_names)) or "none"
            self.add(node.id, field, f't.get("{name}"): {_label(node)} has no loop variable or axis {name!r} (valid: {known})')  # fmt: skip

    def check_task_graph(self, node: Node, p: dict[str, Any]) -> None:
        """A task_graph says something, a priority has its key, pools name kernels (the
        fields' types are the dict property's check)."""
        window = p.get("window", 0)
        if _is_int(window) and window < 0:
            self.add(node.id, "props.task_graph.window", "window must be >= 1 tasks, or 0 (none)")  # fmt: skip
        knobs = ("deps", "ready", "start", "trace")
        if not window and all(p.get(k, NOT_SET) == NOT_SET for k in knobs) and not p.get("pools"):  # fmt: skip
            self.add(node.id, "props.task_graph", "task_graph sets nothing: give a window or choose deps, ready, start, trace or pools")  # fmt: skip
        if p.get("ready") == ReadyKind.PRIORITY and not str(p.get("ready_key") or "").strip():
            self.add(node.id, "props.task_graph.ready_key", "ready=priority needs a key, e.g. k")
        if p.get("start") == StartKind.THRESHOLD:
            threshold = p.get("threshold", TASK_GRAPH_DEFAULTS["threshold"])
            if not _is_int(threshold) or threshold < 1:
                self.add(node.id, "props.task_graph.threshold", "threshold must be >= 1 tasks")
        kernels = {n.name for n in self.nodes.values() if kind_lookup.kind_of(n).defines_kernel}
        for i, entry in enumerate(p.get("pools") or []):
            name = entry.get("kernel") if isinstance(entry, dict) else None
            if isinstance(name, str) and name not in kernels:
                self.add(node.id, f"props.task_graph.pools[{i}].kernel", f"no kernel named {name!r} in the project")  # fmt: skip

    def check_collectives_have_a_mesh(self) -> None:
        """A collective needs the mesh ``spatial_map`` defines on every program compiling it:
        its workload's sheet, or (when that has none) each compiled composition using it."""
        for node in self.nodes.values():
            if not kind_lookup.kind_of(node).collective:
                continue
            program = self.program_of(node)
            if program is not None and self._compiled_without_mesh(program, set()):
                self.add(
                    node.id,
                    "kind",
                    f"{kind_lookup.kind_of(node).title} needs a mesh: set spatial_map in the schedule "
                    f"of {_label(program)}",
                )

    def _compiled_without_mesh(self, program: Node, seen: set[str]) -> bool:
        if program.id in seen:
            return False
        seen.add(program.id)
        if program.props.get("spatial_map"):
            return False
        if program.props.get("target"):
            return True
        users: list[Node] = []
        if kind_lookup.kind_of(program).defines_workload:
            for n in self.nodes.values():
                if kind_lookup.kind_of(n).instance and n.props.get("workload") == program.id:
                    parent = self.nodes.get(n.parent) if n.parent else None
                    if parent is not None:
                        users.append(parent)
        elif program.parent is not None and program.parent in self.nodes:
            users.append(self.nodes[program.parent])
        return any(
            self._compiled_without_mesh(u, seen) for u in users if kind_lookup.kind_of(u).program
        )

    # -- wires -------------------------------------------------------------------------------
    def check_edges(self, graph: Graph, owner: Node | None) -> None:
        scope = placement.scope_of_owner(owner)
        ports: dict[str, list[PortSpec]] = {
            n.id: node_ports.dynamic_ports(n, graph, owner, self.doc) for n in graph.nodes.values()
        }
        incoming: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for i, e in enumerate(graph.edges):
            field = f"edges[{i}]"
            if e.src.node not in graph.nodes or e.dst.node not in graph.nodes:
                missing = e.src.node if e.src.node not in graph.nodes else e.dst.node
                where = owner.id if owner is not None else ""
                self.add(where, field, f"wire {e.src} -> {e.dst}: no node {missing!r}")
                continue
            src, dst = graph.nodes[e.src.node], graph.nodes[e.dst.node]
            sp = node_ports.find_port(ports[src.id], e.src.port, "out")
            dp = node_ports.find_port(ports[dst.id], e.dst.port, "in")
            if sp is None or dp is None:
                end, port, way = (src, e.src.port, "output") if sp is None else (dst, e.dst.port, "input")  # fmt: skip
                if end.kind in catalogue.KINDS and not self._kernelless_call(end):
                    self.add(end.id, f"{way}s.{port}", f"{_label(end)} has no {way} {port!r}")
                continue
            if not node_ports.types_compatible(sp.type, dp.type, scope):
                self.add(
                    dst.id,
                    f"inputs.{e.dst.port}",
                    f"{_label(src)} gives a {sp.type} but input {e.dst.port!r} of {_label(dst)} "
                    f"takes a {dp.type}",
                )
                continue
            key = (dst.id, e.dst.port)
            incoming[key].append(e)
            if (
                len(incoming[key]) == 2
                and not dp.multi
                and not kind_lookup.kind_of(dst).calls_kernel
            ):
                self.add(dst.id, f"inputs.{e.dst.port}", "input takes one wire")
            if owner is None:
                # the root canvas's rules of connections.can_connect (beyond ports and types)
                ok, why = connections.root_wire_problem(self.doc, src, e.src.port, dst, e.dst.port)
                if not ok:
                    self.add(dst.id, f"inputs.{e.dst.port}", why)
        for node in graph.nodes.values():
            if kind_lookup.kind_of(node).calls_kernel:
                continue  # the call's check reports its parameters
            for p in ports[node.id]:
                if p.direction != "in" or p.optional or p.type == "exec":
                    continue
                if not incoming.get((node.id, p.name)):
                    self.add(node.id, f"inputs.{p.name}", "input is not connected")

    def _kernelless_call(self, node: Node) -> bool:
        """A call naming no kernel has no parameter ports yet (its reference is reported)."""
        return kind_lookup.kind_of(node).calls_kernel and indexing.kernel_of(self.doc, node) is None

    # -- kernel bodies -----------------------------------------------------------------------
    def check_kernel_body(self, kern: Node) -> None:
        body = kern.body
        assert body is not None
        names = self.root_names
        for node in body.nodes.values():
            k = catalogue.KINDS.get(node.kind)
            if k is None:
                self.add(node.id, "kind", f"unknown node kind {node.kind!r}")
                continue
            if "kernel" not in k.allowed_in:
                self.add(node.id, "kind", f"{kind_lookup.display_name(node.kind)} cannot live in a kernel body")  # fmt: skip
            if node.body is not None:
                self.add(node.id, "body", f"{kind_lookup.display_name(node.kind)} does not own a sub-canvas")  # fmt: skip
            if node.parent is not None:
                self.add(node.id, "parent", "nodes of a kernel body live in no frame")
            known = {p.name for p in k.props}
            for extra in sorted(set(node.props) - known):
                self.add(node.id, f"props.{extra}", f"unknown property for {kind_lookup.display_name(node.kind)}")  # fmt: skip
            for spec in k.props:
                field = f"props.{spec.name}"
                if spec.name not in node.props:
                    self.add(node.id, field, "missing property")
                    continue
                value = node.props[spec.name]
                problem = prop_checks.prop_problem(spec, value)
                if problem is not None:
                    self.add(node.id, field, problem)
                elif spec.type in ("expr", "exprlist") and value.strip():
                    for msg in exprs.validate(value, names):
                        self.add(node.id, field, msg)
        self.check_edges(body, kern)
        wanted = [p["name"] for p in indexing.params_of(kern)]
        have = Counter(
            n.props.get("param") for n in body.nodes.values() if kind_lookup.kind_of(n).kernel_param
        )
        for name in wanted:
            if have[name] != 1:
                self.add(kern.id, "props.params", f"parameter {name!r} needs one parameter node in the body, has {have[name]}")  # fmt: skip
        for name in have:
            if name not in wanted:
                self.add(kern.id, "body", f"parameter node for unknown parameter {name!r}")


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def _top_level(node: Node) -> bool:
    """Whether the script defines ``node`` at module level: a root node, or a process (a
    connect frame's processes are top-level definitions the connect names)."""
    return node.parent is None or kind_lookup.kind_of(node).module_level


def _is_int(v: object) -> TypeGuard[int]:
    """An int property value (a bool is not one, though ``isinstance(True, int)``)."""
    return isinstance(v, int) and not isinstance(v, bool)


def _label(node: Node | None) -> str:
    """What a message calls a node: its name, else its kind's display name."""
    return kind_lookup.node_label(node) if node is not None else "?"


def _task_get_names(text: str) -> set[str]:
    """The names the ``t.get("name")`` calls of a key read (the key passed ``exprs.check``)."""
    found: set[str] = set()
    for node in ast.walk(exprs.parse(text)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == exprs.TASK_VAR
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    return found


__all__ = ["document_warnings", "validate_document"]
