"""``Document.validate()``: everything wrong with a v2 document, as a list of diagnostics.

One pass over the root canvas (every node lives in it; frames are nodes that others name as
``parent``) and over each kernel body. Each diagnostic names the node and the field at fault:

- where nodes live: a ``parent`` that exists and is a frame, no parent cycles, each kind only
  where its ``allowed_in`` lets it (``root``, ``workload``, ``compose``, ``connect``,
  ``branch``); only a kernel definition owns a body;
- properties: unknown or missing ones, values of the wrong type (``registry.prop_problem``),
  expressions that do not parse or use names not in scope (the loop variables of the frames
  around the node, ``frames.loop_vars``, and the root canvas's names);
- references (properties holding node ids, ``registry.reference_props``): a call's kernel, a
  loop's axes, a send/consume/close's channel, an event use's event, an instance's workload
  name a node of the right kind;
- loops: variables are identifiers, bound once (not again by an enclosing loop), and do not
  hide a root variable; a ``P.sel`` walks a sparse axis;
- ``P.when`` chains hold cases only, ``otherwise`` on the last one;
- kernel calls: every In/InOut parameter wired exactly once, every Out parameter wired to one
  tensor, index keys that are parameters; and every view a call passes judged by
  ``shape_checks`` (``pto_wsp.shape_rule``, with the auto index of ``indexing``);
- wires: ports that exist, types that fit, single inputs with one wire, required inputs wired,
  no wire between two different programs;
- the schedule sheet of a program frame: policies and their parameters (``dispatch_n >= 1`` for
  round_robin, a key for keyed policies), keys over the program's loop variables, task_graph
  settings, the spatial_map grid; collectives need a mesh (``spatial_map``) on every program
  that compiles them;
- names the script uses as variables are identifiers; root names are unique.

It never raises for a document that ``io.load`` accepted, nor for one edited in memory into any
shape; the exporter refuses documents with diagnostics.
"""

from __future__ import annotations

import ast
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from . import bounds, exprs, frames, indexing, pytext, registry, shape_checks
from .document import Diagnostic, Document, Edge, Graph, Node
from .registry import KINDS, PortSpec

ROOT_SCOPE = "root"
SHEET_KEYS = ("dispatch_key", "stream_by")
"""Sheet properties that are key expressions over the task (``t``) or the loop variables."""
KEYED_POLICIES = ("affinity", "hash", "dispatch_by")
TIMING_PARAM_MIN = {"batched": 1, "interleaved": 1}
"""Timing policies whose parameter is a count (>= 1); rate_limit takes any positive rate."""
REF_TARGETS: dict[str, tuple[str, ...]] = {
    "kernel": ("kernel.def",),
    "axis": ("axis.dense", "axis.dense_dyn", "axis.ragged", "axis.sparse"),
    "channel": ("csp.channel",),
    "event": ("event.def",),
    "workload": ("workload.def",),
}
"""What each reference (property name, or the key inside a list entry) must name."""
SPARSE_AXIS = "axis.sparse"


def validate_document(doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = bounds.document_diagnostics(doc)
    _Checker(doc, out).run()
    out += shape_checks.document_problems(doc)
    return out


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

    def add(self, node_id: str, field: str, message: str) -> None:
        self.out.append(Diagnostic(node_id, field, message))

    # -- driver ------------------------------------------------------------------------------
    def run(self) -> None:
        self.check_names()
        ok_parent = self.check_parents()
        for node in self.nodes.values():
            kind = KINDS.get(node.kind)
            if kind is None:
                self.add(node.id, "kind", f"unknown node kind {node.kind!r}")
                continue
            if node.id in ok_parent:
                self.check_place(node, kind)
            self.check_body(node, kind)
            self.check_props(node, kind)
            self.check_references(node)
            self.check_kind_rules(node)
        self.check_edges(self.doc.graph, None)
        self.check_collectives_have_a_mesh()

    # -- names -------------------------------------------------------------------------------
    def check_names(self) -> None:
        """Script variables are checked identifiers; root names are unique, and names of
        statements (collectives) unique within their program."""
        root_counts = Counter(n.name for n in self.nodes.values() if n.parent is None and n.name)
        local_counts: Counter[tuple[str, str]] = Counter()
        for n in self.nodes.values():
            if n.parent is not None and n.name and registry.names_a_variable(n.kind):
                program = self.program_of(n)
                local_counts[(program.id if program else "", n.name)] += 1
        for n in self.nodes.values():
            if not registry.names_a_variable(n.kind):
                continue
            problem = pytext.identifier_problem(n.name)
            if problem is not None:
                self.add(n.id, "name", problem)
            elif n.parent is None and root_counts[n.name] > 1:
                self.add(n.id, "name", f"duplicate name {n.name!r}")
            elif n.parent is not None:
                program = self.program_of(n)
                if local_counts[(program.id if program else "", n.name)] > 1:
                    where = f" in {_label(program)}" if program is not None else ""
                    self.add(n.id, "name", f"duplicate name {n.name!r}{where}")
                elif n.name in self.root_names:
                    self.add(n.id, "name", f"{n.name!r} hides the root node of that name")
        for kern in self.nodes.values():
            if kern.body is None:
                continue
            for inner, _g, _o in _walk_body(kern):
                if registry.names_a_variable(inner.kind):
                    problem = pytext.identifier_problem(inner.name)
                    if problem is not None:
                        self.add(inner.id, "name", problem)

    # -- frames ------------------------------------------------------------------------------
    def check_parents(self) -> set[str]:
        """Parents exist, are frames, and form no cycle; returns the nodes whose chain of
        parents is sound (only those get the ``allowed_in`` check)."""
        sound: set[str] = set()
        for node in self.nodes.values():
            if node.parent is None:
                sound.add(node.id)
                continue
            parent = self.nodes.get(node.parent)
            if parent is None:
                self.add(node.id, "parent", f"no frame {node.parent!r} in the document")
                continue
            pkind = KINDS.get(parent.kind)
            if pkind is None:
                continue  # the parent's unknown kind is reported on the parent
            if not getattr(pkind, "frame", False):
                self.add(
                    node.id,
                    "parent",
                    f"{_label(parent)} ({registry.display_name(parent.kind)}) is not a frame; "
                    "only frames hold nodes",
                )
                continue
            if self._cyclic(node):
                self.add(node.id, "parent", "its frames form a cycle: a frame inside itself")
                continue
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

    def scope_of(self, node: Node) -> str | None:
        """The scope name a node lives in: ``root``, or the inner scope of its frame."""
        if node.parent is None:
            return ROOT_SCOPE
        parent = self.nodes.get(node.parent)
        pkind = KINDS.get(parent.kind) if parent is not None else None
        if pkind is None:
            return None
        if getattr(pkind, "frame", False):
            return pkind.children_scope  # CORE's v2 registry: the inside of a frame
        return pkind.body_scope

    def check_place(self, node: Node, kind: registry.NodeKind) -> None:
        scope = self.scope_of(node)
        if scope is None or scope in kind.allowed_in:
            return
        if node.parent is None:
            where = "the root canvas"
        else:
            parent = self.nodes[node.parent]
            where = f"{_label(parent)} ({registry.display_name(parent.kind)})"
        places = ", ".join(_place_words(s) for s in sorted(kind.allowed_in))
        self.add(
            node.id,
            "parent",
            f"{registry.display_name(node.kind)} cannot live in {where}; it belongs in {places}",
        )

    def check_body(self, node: Node, kind: registry.NodeKind) -> None:
        owns_body = bool(getattr(kind, "scope", False)) and not getattr(kind, "frame", False)
        if owns_body:
            if node.body is None:
                self.add(node.id, "body", f"{registry.display_name(node.kind)} has no body")
            else:
                self.check_kernel_body(node)
        elif node.body is not None:
            self.add(
                node.id, "body", f"{registry.display_name(node.kind)} does not own a sub-canvas"
            )

    def program_of(self, node: Node) -> Node | None:
        """The outermost program frame (workload, combine/sequential, connect) around or at
        ``node``; None when it is in none."""
        if node.id in self._program:
            return self._program[node.id]
        found: Node | None = None
        for frame in [*frames.ancestors(self.doc, node.id), node]:
            if frame.kind in frames.PROGRAM_KINDS:
                found = frame
                break
        self._program[node.id] = found
        return found

    def program_descendants(self, program: Node) -> list[Node]:
        """The nodes of a program, through its instances into the workloads they run."""
        out: list[Node] = []
        seen = {program.id}
        stack = [program]
        while stack:
            frame = stack.pop()
            for child in frames.iter_descendants(self.doc, frame.id):
                out.append(child)
                target = self.ref(child.props.get("workload"))
                if child.kind == "workload.instance" and target is not None:
                    if target.id not in seen:
                        seen.add(target.id)
                        stack.append(target)
        return out

    # -- properties --------------------------------------------------------------------------
    def names_at(self, node: Node) -> frozenset[str]:
        """Names an expression of ``node`` may use: root names and the enclosing loop vars."""
        return self.root_names | frozenset(frames.loop_vars(self.doc, node.id))

    def check_props(self, node: Node, kind: registry.NodeKind) -> None:
        refs = registry.reference_props(node.kind)
        known = {p.name for p in kind.props}
        for extra in sorted(set(node.props) - known):
            self.add(
                node.id,
                f"props.{extra}",
                f"unknown property for {registry.display_name(node.kind)}",
            )
        is_program = node.kind in frames.PROGRAM_KINDS
        scope_names: frozenset[str] | None = None
        for spec in kind.props:
            field = f"props.{spec.name}"
            if spec.name not in node.props:
                self.add(node.id, field, "missing property")
                continue
            if spec.name in refs:
                continue  # a node id: check_references
            value = node.props[spec.name]
            if value is None and spec.optional:
                continue  # "not set" (a call's axes: the enclosing loop variables)
            problem = registry.prop_problem(spec, value)
            if problem is not None:
                self.add(node.id, field, problem)
                continue
            if is_program and spec.name in SHEET_KEYS:
                continue  # keys are judged against the program's loops: check_sheet
            texts: list[tuple[str, str]] = []
            check = exprs.validate
            if spec.type in ("expr", "exprlist") and isinstance(value, str) and value.strip():
                texts.append((field, value))
            elif spec.type == "exprmap" and isinstance(value, dict):
                check = exprs.validate_index  # indices of subscripts: slices are allowed
                texts += [(f"{field}.{k}", t) for k, t in value.items() if t.strip()]
            if texts and scope_names is None:
                scope_names = self.names_at(node)
            for where, text in texts:
                for msg in check(text, scope_names or ()):
                    self.add(node.id, where, msg)
        if node.kind == "data.tensor":
            layout = node.props.get("layout")
            if "layout" in known and registry.prop_problem(kind.prop("layout"), layout) is None:
                problem = registry.node_prop_problem(node, "layout", layout)
                if problem is not None:
                    self.add(node.id, "props.layout", problem)

    def ref(self, value: Any) -> Node | None:
        return self.nodes.get(value) if isinstance(value, str) else None

    def check_references(self, node: Node) -> None:
        for prop, key in registry.reference_props(node.kind).items():
            if prop not in node.props:
                continue  # reported as a missing property
            value = node.props[prop]
            if key is None:
                self._check_ref(node, f"props.{prop}", prop, prop, value)
                continue
            if not isinstance(value, list):
                self.add(node.id, f"props.{prop}", f"expected a list of {{var, {key}}} entries")
                continue
            for i, entry in enumerate(value):
                if not isinstance(entry, dict):
                    self.add(node.id, f"props.{prop}[{i}]", f"expected a {{var, {key}}} entry")
                    continue
                self._check_ref(node, f"props.{prop}[{i}].{key}", prop, key, entry.get(key))

    def _check_ref(self, node: Node, field: str, prop: str, what: str, value: Any) -> None:
        wanted = _ref_targets(node.kind, prop, what)
        words = " or ".join(sorted({registry.display_name(k) for k in wanted})) or what
        if value is None or value == "":
            self.add(node.id, field, f"no {what} chosen: pick a {words}")
            return
        target = self.ref(value)
        if target is None:
            self.add(node.id, field, f"names no node ({value!r:.40}): pick a {words}")
            return
        if wanted and target.kind not in wanted:
            self.add(
                node.id,
                field,
                f"{_label(target)} is a {registry.display_name(target.kind)}, not a {words}",
            )

    # -- kind rules --------------------------------------------------------------------------
    def check_kind_rules(self, node: Node) -> None:
        rule = _KIND_RULES.get(node.kind)
        if rule is not None:
            rule(self, node)
        if node.kind in frames.LOOP_KINDS:
            self.check_loop_vars(node)
        if node.kind in frames.PROGRAM_KINDS:
            self.check_sheet(node)

    def check_loop_vars(self, node: Node) -> None:
        """Loop variables are identifiers, bound once, and hide no root variable."""
        outer = set(frames.loop_vars(self.doc, node.id))
        field = "props.axes" if node.kind == "loop.parallel" else "props.var"
        own = frames.bound_vars(node)
        if node.kind == "loop.parallel":
            axes = node.props.get("axes")
            entries = axes if isinstance(axes, list) else []
            if not entries:
                self.add(node.id, field, "P needs at least one axis")
            for i, entry in enumerate(entries):
                if isinstance(entry, dict) and not entry.get("var"):
                    self.add(node.id, f"props.axes[{i}].var", "the axis has no loop variable")
        elif not own:
            self.add(node.id, field, "no loop variable given")
        seen: set[str] = set()
        for i, var in enumerate(own):
            where = f"props.axes[{i}].var" if node.kind == "loop.parallel" else field
            problem = pytext.identifier_problem(var)
            if problem is not None:
                self.add(node.id, where, f"loop variable: {problem}")
            elif var in seen:
                self.add(node.id, where, f"loop variable {var!r} is bound twice by this loop")
            elif var in outer:
                self.add(node.id, where, f"loop variable {var!r} is already bound by an enclosing loop")  # fmt: skip
            elif var in self.root_names:
                self.add(node.id, where, f"loop variable {var!r} hides the root node {var}")
            seen.add(var)

    def check_sel(self, node: Node) -> None:
        target = self.ref(node.props.get("axis"))
        if target is not None and target.kind in REF_TARGETS["axis"] and target.kind != SPARSE_AXIS:
            self.add(
                node.id,
                "props.axis",
                f"P.sel walks a {registry.display_name(SPARSE_AXIS)}; {_label(target)} is a "
                f"{registry.display_name(target.kind)}",
            )

    def check_chain(self, node: Node) -> None:
        cases = [c for c in self._kids.get(node.id, []) if c.kind == "branch.case"]
        if not cases:
            self.add(node.id, "children", "P.when has no case: add a when case")
            return
        if cases[0].props.get("otherwise") is True:
            self.add(cases[0].id, "props.otherwise", "the first case cannot be otherwise: give it a predicate")  # fmt: skip
        for c in cases[1:-1]:
            if c.props.get("otherwise") is True:
                self.add(c.id, "props.otherwise", "only the last case of a P.when can be otherwise")

    def check_case(self, node: Node) -> None:
        if node.props.get("otherwise") is True:
            return
        pred = node.props.get("pred")
        if isinstance(pred, str) and not pred.strip():
            self.add(node.id, "props.pred", "a when case needs a predicate, e.g. b < 2")

    def check_compose(self, node: Node) -> None:
        kids = self._kids.get(node.id, [])
        if not kids:
            self.add(node.id, "children", f"{_label(node)} composes nothing: add workload instances")  # fmt: skip

    def check_connect(self, node: Node) -> None:
        if not self._kids.get(node.id):
            self.add(node.id, "children", "connect has no process: add processes")

    def check_positive(self, node: Node, prop: str, minimum: int = 1) -> None:
        value = node.props.get(prop)
        if _is_int(value) and value < minimum:
            self.add(node.id, f"props.{prop}", f"{prop} must be >= {minimum}")

    def check_call(self, node: Node) -> None:
        """Every In/InOut parameter wired once; every Out parameter wired to one tensor; index
        keys name parameters; axes override in scope (check_props)."""
        kern = indexing.kernel_of(self.doc, node)
        if kern is None:
            return  # check_references says the kernel is missing
        params = indexing.params_of(kern)
        names = {p["name"] for p in params}
        index = node.props.get("index")
        if isinstance(index, dict):
            for key in index:
                if key not in names:
                    self.add(node.id, f"props.index.{key}", f"kernel {kern.name!r} has no parameter {key!r}")  # fmt: skip
        for p in params:
            name = p["name"]
            direction = p.get("direction", "In")
            ins = self.wires.into.get((node.id, name), [])
            outs = self.wires.out_of.get((node.id, name), [])
            if direction in ("In", "InOut"):
                if not ins:
                    self.add(node.id, f"inputs.{name}", f"parameter {name} of {kern.name} is not wired: wire a {_data_word(p)} into it")  # fmt: skip
                elif len(ins) > 1:
                    self.add(node.id, f"inputs.{name}", f"parameter {name} takes one wire, has {len(ins)}")  # fmt: skip
            if direction == "Out" and not outs:
                self.add(node.id, f"outputs.{name}", f"Out parameter {name} of {kern.name} is not wired: wire it to the tensor it writes")  # fmt: skip
            if direction in ("Out", "InOut") and len(outs) > 1:
                self.add(node.id, f"outputs.{name}", f"parameter {name} writes one tensor, is wired to {len(outs)}")  # fmt: skip
            for e in outs[:1]:
                dst = self.nodes.get(e.dst.node)
                if dst is not None and dst.kind != "data.tensor":
                    self.add(node.id, f"outputs.{name}", f"parameter {name} writes a tensor; {_label(dst)} is a {registry.display_name(dst.kind)}")  # fmt: skip
                elif direction == "InOut" and len(ins) == 1 and dst is not None:
                    src = self.nodes.get(ins[0].src.node)
                    if src is not None and src.kind == "data.tensor" and src.id != dst.id:
                        self.add(node.id, f"outputs.{name}", f"InOut parameter {name} reads {_label(src)} but is wired to write {_label(dst)}: it is one argument")  # fmt: skip

    # -- the schedule sheet ------------------------------------------------------------------
    def check_sheet(self, node: Node) -> None:
        p = node.props
        policy = p.get("dispatch")
        if policy == "round_robin":
            self.check_positive(node, "dispatch_n")
        if policy in KEYED_POLICIES and not str(p.get("dispatch_key") or "").strip():
            self.add(node.id, "props.dispatch_key", f"dispatch {policy} needs a key: pick a loop variable, e.g. b")  # fmt: skip
        streams = p.get("streams")
        if _is_int(streams) and streams < 0:
            self.add(node.id, "props.streams", "streams must be >= 1, or 0 (not set)")
        timing = p.get("timing")
        param = p.get("timing_param")
        if timing in TIMING_PARAM_MIN and (not _is_int(param) or param < TIMING_PARAM_MIN[timing]):
            self.add(node.id, "props.timing_param", f"timing {timing} takes a count >= 1")
        elif timing == "rate_limit" and (not isinstance(param, (int, float)) or param <= 0):
            self.add(node.id, "props.timing_param", "timing rate_limit takes a rate > 0 (tasks per ms)")  # fmt: skip
        grid = p.get("spatial_map")
        if isinstance(grid, list) and grid and not all(_is_int(d) and d >= 1 for d in grid):
            self.add(node.id, "props.spatial_map", "the grid is a list of positive ints, e.g. [2, 2]")  # fmt: skip
        graph = p.get("task_graph")
        if isinstance(graph, dict) and graph:
            self.check_task_graph(node, graph)
        keys = [(f"props.{k}", p.get(k)) for k in SHEET_KEYS]
        if isinstance(graph, dict):
            keys.append(("props.task_graph.ready_key", graph.get("ready_key")))
        texts = [(f, t) for f, t in keys if isinstance(t, str) and t.strip()]
        if texts:
            variables, axis_names = self.program_loops(node)
            for field, text in texts:
                self.check_key(node, field, text, variables, axis_names)

    def program_loops(self, program: Node) -> tuple[set[str], set[str]]:
        """The loop variables bound in a program and the names of the axes its loops walk."""
        variables: set[str] = set()
        axis_names: set[str] = set()
        for n in self.program_descendants(program):
            if n.kind not in frames.LOOP_KINDS:
                continue
            variables.update(frames.bound_vars(n))
            refs: list[Any] = [n.props.get("axis")]
            axes = n.props.get("axes")
            if isinstance(axes, list):
                refs += [a.get("axis") for a in axes if isinstance(a, dict)]
            for r in refs:
                target = self.ref(r)
                if target is not None and target.name:
                    axis_names.add(target.name)
        return variables, axis_names

    def check_key(
        self, node: Node, field: str, text: str, variables: set[str], axis_names: set[str]
    ) -> None:
        """A key uses the task (``t.get("b")``) or the program's loop variables by name."""
        problems = exprs.validate(text, variables | {exprs.TASK_VAR})
        for msg in problems:
            if msg.startswith("unknown name"):
                known = ", ".join(sorted(variables)) or "none"
                msg = f"{msg}: a key uses the loop variables of {_label(node)} ({known})"
            self.add(node.id, field, msg)
        if problems:
            return
        for name in sorted(_task_get_names(text) - variables - axis_names):
            known = ", ".join(sorted(variables | axis_names)) or "none"
            self.add(node.id, field, f't.get("{name}"): {_label(node)} has no loop variable or axis {name!r} (it has {known})')  # fmt: skip

    def check_task_graph(self, node: Node, p: dict[str, Any]) -> None:
        """A task_graph says something, a priority has its key, pools name kernels."""
        specs = {s.name: s for s in _task_graph_specs()}
        for key in sorted(p):
            spec = specs.get(key)
            if spec is None:
                if specs:
                    self.add(node.id, f"props.task_graph.{key}", "unknown task_graph setting")
                continue
            problem = registry.prop_problem(spec, p[key])
            if problem is not None:
                self.add(node.id, f"props.task_graph.{key}", problem)
        window = p.get("window", 0)
        if _is_int(window) and window < 0:
            self.add(node.id, "props.task_graph.window", "window must be >= 1 tasks, or 0 (none)")  # fmt: skip
        knobs = ("deps", "ready", "start", "trace")
        if not window and all(p.get(k, "default") == "default" for k in knobs) and not p.get("pools"):  # fmt: skip
            self.add(node.id, "props.task_graph", "task_graph sets nothing: give a window or choose deps, ready, start, trace or pools")  # fmt: skip
        if p.get("ready") == "priority" and not str(p.get("ready_key") or "").strip():
            self.add(node.id, "props.task_graph.ready_key", "ready=priority needs a key, e.g. k")
        if p.get("start") == "threshold":
            threshold = p.get("threshold", 8)
            if not _is_int(threshold) or threshold < 1:
                self.add(node.id, "props.task_graph.threshold", "threshold must be >= 1 tasks")
        pools = p.get("pools")
        if isinstance(pools, list):
            kernels = {n.name for n in self.nodes.values() if n.kind == "kernel.def"}
            kernels |= {n.id for n in self.nodes.values() if n.kind == "kernel.def"}
            for i, entry in enumerate(pools):
                name = entry.get("kernel") if isinstance(entry, dict) else None
                if isinstance(name, str) and name not in kernels:
                    self.add(node.id, f"props.task_graph.pools[{i}].kernel", f"no kernel named {name!r} in the project")  # fmt: skip

    def check_collectives_have_a_mesh(self) -> None:
        """A collective needs the mesh ``spatial_map`` defines on every program compiling it:
        its workload's sheet, or (when that has none) each compiled composition using it."""
        for node in self.nodes.values():
            if not node.kind.startswith("layout.") or node.kind not in KINDS:
                continue
            program = self.program_of(node)
            if program is not None and self._compiled_without_mesh(program, set()):
                self.add(
                    node.id,
                    "kind",
                    f"{node.kind[len('layout.') :]} needs a mesh: set spatial_map in the schedule "
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
        if program.kind == "workload.def":
            for n in self.nodes.values():
                if n.kind == "workload.instance" and n.props.get("workload") == program.id:
                    parent = self.nodes.get(n.parent) if n.parent else None
                    if parent is not None:
                        users.append(parent)
        elif program.parent is not None and program.parent in self.nodes:
            users.append(self.nodes[program.parent])
        return any(
            self._compiled_without_mesh(u, seen) for u in users if u.kind in frames.PROGRAM_KINDS
        )

    # -- wires -------------------------------------------------------------------------------
    def ports(self, node: Node, graph: Graph, owner: Node | None) -> list[PortSpec]:
        if graph is self.doc.graph:
            return registry.ports_of(node, self.doc)
        return registry.dynamic_or_static(node, graph, owner, self.doc)

    def check_edges(self, graph: Graph, owner: Node | None) -> None:
        scope = ROOT_SCOPE if owner is None else "kernel"
        ports = {
            n.id: self.ports(n, graph, owner) if n.kind in KINDS else []
            for n in graph.nodes.values()
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
            sp = registry.find_port(ports[src.id], e.src.port, "out")
            dp = registry.find_port(ports[dst.id], e.dst.port, "in")
            if sp is None:
                if src.kind in KINDS:
                    self.add(src.id, f"outputs.{e.src.port}", f"{_label(src)} has no output {e.src.port!r}")  # fmt: skip
                continue
            if dp is None:
                if dst.kind in KINDS:
                    self.add(dst.id, f"inputs.{e.dst.port}", f"{_label(dst)} has no input {e.dst.port!r}")  # fmt: skip
                continue
            if not registry.types_compatible(sp.type, dp.type, scope):
                self.add(
                    dst.id,
                    f"inputs.{e.dst.port}",
                    f"type mismatch: the {sp.type} output {e.src.port!r} of {_label(src)} feeds "
                    f"a {dp.type} input",
                )
            key = (dst.id, e.dst.port)
            incoming[key].append(e)
            if len(incoming[key]) == 2 and not dp.multi and not self._call_port(dst):
                self.add(dst.id, f"inputs.{e.dst.port}", "input takes one wire")
            if owner is None:
                self._check_programs(src, dst, e)
        for node in graph.nodes.values():
            if self._call_port(node):
                continue  # check_call reports its parameters
            for p in ports[node.id]:
                if p.direction != "in" or p.optional or p.type == "exec":
                    continue
                if not incoming.get((node.id, p.name)):
                    self.add(node.id, f"inputs.{p.name}", "input is not connected")

    def _call_port(self, node: Node) -> bool:
        return node.kind == "kernel.call"

    def _check_programs(self, src: Node, dst: Node, e: Edge) -> None:
        """A wire between statements of two different programs cannot be: each program is its
        own function in the script (root nodes such as tensors are shared by all)."""
        if src.parent is None or dst.parent is None:
            return
        a, b = self.program_of(src), self.program_of(dst)
        if a is not None and b is not None and a.id != b.id:
            self.add(
                dst.id,
                f"inputs.{e.dst.port}",
                f"wired from {_label(src)} in {_label(a)}: a wire cannot join two programs",
            )

    # -- kernel bodies -----------------------------------------------------------------------
    def check_kernel_body(self, kern: Node) -> None:
        body = kern.body
        assert body is not None
        names = self.root_names
        for node in body.nodes.values():
            k = KINDS.get(node.kind)
            if k is None:
                self.add(node.id, "kind", f"unknown node kind {node.kind!r}")
                continue
            if "kernel" not in k.allowed_in:
                self.add(node.id, "kind", f"{registry.display_name(node.kind)} cannot live in a kernel body")  # fmt: skip
            if node.body is not None:
                self.add(node.id, "body", f"{registry.display_name(node.kind)} does not own a sub-canvas")  # fmt: skip
            if node.parent is not None:
                self.add(node.id, "parent", "nodes of a kernel body have no frames")
            known = {p.name for p in k.props}
            for extra in sorted(set(node.props) - known):
                self.add(node.id, f"props.{extra}", f"unknown property for {registry.display_name(node.kind)}")  # fmt: skip
            for spec in k.props:
                field = f"props.{spec.name}"
                if spec.name not in node.props:
                    self.add(node.id, field, "missing property")
                    continue
                value = node.props[spec.name]
                problem = registry.prop_problem(spec, value)
                if problem is not None:
                    self.add(node.id, field, problem)
                elif spec.type in ("expr", "exprlist") and value.strip():
                    for msg in exprs.validate(value, names):
                        self.add(node.id, field, msg)
        self.check_edges(body, kern)
        entries = [n for n in body.nodes.values() if n.kind == "scope.entry"]
        if "scope.entry" in KINDS and len(entries) != 1:
            self.add(kern.id, "body", f"a kernel body needs one entry node, has {len(entries)}")
        wanted = [p["name"] for p in registry.kernel_params(kern)]
        have = Counter(
            n.props.get("param") for n in body.nodes.values() if n.kind == "kernel.param"
        )
        for name in wanted:
            if have[name] != 1:
                self.add(kern.id, "props.params", f"parameter {name!r} needs one parameter node in the body, has {have[name]}")  # fmt: skip
        for name in have:
            if name not in wanted:
                self.add(kern.id, "body", f"parameter node for unknown parameter {name!r}")


_KIND_RULES = {
    "kernel.call": _Checker.check_call,
    "loop.sel": _Checker.check_sel,
    "branch.chain": _Checker.check_chain,
    "branch.case": _Checker.check_case,
    "compose.combine": _Checker.check_compose,
    "compose.sequential": _Checker.check_compose,
    "csp.connect": _Checker.check_connect,
    "csp.channel": lambda c, n: c.check_positive(n, "depth"),
    "pipe.scope": lambda c, n: c.check_positive(n, "depth"),
    "csp.process": lambda c, n: c.check_positive(n, "replicas"),
    "layout.reduce_scatter": lambda c, n: c.check_positive(n, "mesh_size"),
}
"""Checks that belong to one kind (beyond its properties' types and references)."""


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _label(node: Node | None) -> str:
    """What a message calls a node: its name, else its kind's display name."""
    if node is None:
        return "?"
    return registry.node_label(node)


def _place_words(scope: str) -> str:
    return {
        "root": "the root canvas",
        "workload": "a workload",
        "compose": "a combine or sequential frame",
        "connect": "a connect frame",
        "kernel": "a kernel body",
        "branch": "a P.when",
    }.get(scope, scope)


def _data_word(param: dict[str, Any]) -> str:
    return "scalar" if param.get("kind") == "scalar" else "tensor"


def _ref_targets(kind_id: str, prop: str, what: str) -> tuple[str, ...]:
    """The kinds a reference may name: the registry's ``reference_kinds`` when it has it (a
    kind's own list), else by the reference's name (``REF_TARGETS``)."""
    lookup = getattr(registry, "reference_kinds", None)
    if lookup is not None:
        found = lookup(kind_id, prop)
        if found:
            return tuple(found)
    return REF_TARGETS.get(what, ())


def _task_get_names(text: str) -> set[str]:
    """The names ``t.get("name")`` calls of a key read (the key passed ``exprs.check``)."""
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


def _task_graph_specs() -> Iterable[registry.PropSpec]:
    """The task_graph settings and their types (the registry's, wherever it keeps them)."""
    specs = getattr(registry, "TASK_GRAPH_PROPS", None)
    if specs is None:
        specs = getattr(registry, "_SCHED", {}).get("task_graph", [])
    return specs


def _walk_body(owner: Node):
    stack = [owner]
    while stack:
        current = stack.pop()
        if current.body is None:
            continue
        for inner in current.body.nodes.values():
            yield inner, current.body, current
            if inner.body is not None:
                stack.append(inner)


__all__ = ["validate_document"]
