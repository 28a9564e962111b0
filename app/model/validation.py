"""``Document.validate()``: everything wrong with a document, as a list of diagnostics.

One linear pass over every graph: kinds and where they live, property types, expression names
in scope, edges (ports, types, single inputs), unconnected required inputs, the execution chain
of each workload scope, kernel parameter nodes, duplicate names, and the shape of each view a
call passes to a tile parameter (``shape_checks``). It never raises for a document
that ``io.load`` accepted; the exporter refuses documents with diagnostics.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from . import bounds, exprs, pytext, registry, shape_checks
from .document import Diagnostic, Document, Graph, Node
from .registry import KINDS, PortSpec

EXEC_SCOPES = ("workload",)


def validate_document(doc: Document) -> list[Diagnostic]:
    out: list[Diagnostic] = bounds.document_diagnostics(doc)
    targets = registry.root_targets(doc)
    root_names = {n.name for n in doc.graph.nodes.values() if n.name}
    _check_names(doc, out)
    _check_graph(doc, doc.graph, None, "root", frozenset(root_names), targets, out)
    _check_collectives_have_a_mesh(doc, out)
    out += shape_checks.document_problems(doc)
    return out


def _check_names(doc: Document, out: list[Diagnostic]) -> None:
    """Names the script uses as variables are checked identifiers; root names are unique."""
    counts = Counter(n.name for n in doc.graph.nodes.values() if n.name)
    for n, graph, _owner in doc.walk():
        if not registry.names_a_variable(n.kind):
            continue
        problem = pytext.identifier_problem(n.name)
        if problem is not None:
            out.append(Diagnostic(n.id, "name", problem))
        elif graph is doc.graph and counts[n.name] > 1:
            out.append(Diagnostic(n.id, "name", f"duplicate name {n.name!r}"))


def _check_graph(
    doc: Document,
    graph: Graph,
    owner: Node | None,
    scope: str,
    names: frozenset[str],
    targets: dict[str, Node],
    out: list[Diagnostic],
) -> None:
    ports: dict[str, list[PortSpec]] = {}
    for node in graph.nodes.values():
        k = KINDS.get(node.kind)
        if k is None:
            out.append(Diagnostic(node.id, "kind", f"unknown node kind {node.kind!r}"))
            ports[node.id] = []
            continue
        if scope not in k.allowed_in:
            where = "the project root" if scope == "root" else f"a {scope} body"
            out.append(
                Diagnostic(
                    node.id, "kind", f"{registry.display_name(node.kind)} cannot live in {where}"
                )
            )
        ports[node.id] = registry.dynamic_or_static(node, graph, owner, doc)
        _check_props(doc, graph, node, k, names, out)
        if node.kind == "data.get" and registry.get_target(node, doc, targets) is None:
            target = node.props.get("target")
            out.append(Diagnostic(node.id, "props.target", f"no root node named {target!r}"))
        if k.scope:
            if node.body is None:
                out.append(Diagnostic(node.id, "body", "scope node has no body"))
            else:
                inner = names | set(registry.bound_vars(node))
                _check_graph(doc, node.body, node, k.body_scope, frozenset(inner), targets, out)
        elif node.body is not None:
            out.append(
                Diagnostic(
                    node.id, "body", f"{registry.display_name(node.kind)} is not a scope node"
                )
            )
    incoming = _check_edges(graph, owner, scope, ports, out)
    for node in graph.nodes.values():
        for p in ports[node.id]:
            if p.direction != "in" or p.optional or p.type == "exec":
                continue
            if not incoming.get((node.id, p.name)):
                out.append(Diagnostic(node.id, f"inputs.{p.name}", "input is not connected"))
    if owner is not None:
        _check_entry(graph, owner, out)
    if scope in EXEC_SCOPES:
        _check_chain(graph, ports, out, is_root=owner is None)
    if owner is not None and owner.kind == "kernel.def":
        _check_kernel_params(graph, owner, out)


def _check_props(
    doc: Document,
    graph: Graph,
    node: Node,
    k: registry.NodeKind,
    names: frozenset[str],
    out: list[Diagnostic],
) -> None:
    known = {p.name for p in k.props}
    for extra in sorted(set(node.props) - known):
        out.append(
            Diagnostic(
                node.id,
                f"props.{extra}",
                f"unknown property for {registry.display_name(node.kind)}",
            )
        )
    for spec in k.props:
        field = f"props.{spec.name}"
        if spec.name not in node.props:
            out.append(Diagnostic(node.id, field, "missing property"))
            continue
        value = node.props[spec.name]
        problem = registry.prop_problem(spec, value)
        if problem is not None:
            out.append(Diagnostic(node.id, field, problem))
            continue
        scope_names = names
        if node.kind.startswith("sched."):
            scope_names = names | {exprs.TASK_VAR}
        texts: list[tuple[str, str]] = []
        check = exprs.validate
        if spec.type in ("expr", "exprlist") and value.strip():
            texts.append((field, value))
        elif spec.type == "exprmap":  # indices of subscripts: slices are allowed
            check = exprs.validate_index
            texts += [(f"{field}.{key}", text) for key, text in value.items() if text.strip()]
        for where, text in texts:
            for msg in check(text, scope_names):
                out.append(Diagnostic(node.id, where, msg))
    if node.kind == "data.tensor":
        layout = node.props.get("layout")
        if registry.prop_problem(k.prop("layout"), layout) is None:
            problem = registry.node_prop_problem(node, "layout", layout)
            if problem is not None:
                out.append(Diagnostic(node.id, "props.layout", problem))
    if node.kind == "sched.task_graph":
        _check_task_graph(doc, node, out)
    if node.kind == "layout.reduce_scatter":
        size = node.props.get("mesh_size")
        if isinstance(size, int) and size < 1:
            out.append(Diagnostic(node.id, "props.mesh_size", "mesh_size must be >= 1"))
    if node.kind == "kernel.call" and isinstance(node.props.get("index"), dict):
        kern = registry.resolve_kernel(node, graph, doc)
        if kern is not None:
            params = {p["name"] for p in registry.kernel_params(kern)}
            for key in node.props["index"]:
                if key not in params:
                    out.append(
                        Diagnostic(
                            node.id,
                            f"props.index.{key}",
                            f"kernel {kern.name!r} has no parameter {key!r}",
                        )
                    )


def _check_task_graph(doc: Document, node: Node, out: list[Diagnostic]) -> None:
    """A task_graph says something, a priority has its key, pools name kernels of the project."""
    p = node.props
    window = p.get("window")
    if isinstance(window, int) and window < 0:
        out.append(Diagnostic(node.id, "props.window", "window must be >= 1 tasks, or 0 (none)"))
    knobs = ("deps", "ready", "start", "trace")
    if window == 0 and all(p.get(k) == "default" for k in knobs) and not p.get("pools"):
        out.append(
            Diagnostic(
                node.id,
                "props.window",
                "task_graph sets nothing: give a window or choose deps, ready, start, trace or "
                "pools",
            )
        )
    if p.get("ready") == "priority" and not str(p.get("ready_key") or "").strip():
        out.append(
            Diagnostic(node.id, "props.ready_key", 'ready=priority needs a key, e.g. t.get("i")')
        )
    if p.get("start") == "threshold":
        threshold = p.get("threshold")
        if not isinstance(threshold, int) or threshold < 1:
            out.append(Diagnostic(node.id, "props.threshold", "threshold must be >= 1 tasks"))
    pools = p.get("pools")
    if (
        isinstance(pools, list)
        and registry.prop_problem(registry.kind(node.kind).prop("pools"), pools) is None
    ):
        kernels = {n.name for n in doc.graph.nodes.values() if n.kind == "kernel.def"}
        for i, entry in enumerate(pools):
            if entry["kernel"] not in kernels:
                out.append(
                    Diagnostic(
                        node.id,
                        f"props.pools[{i}].kernel",
                        f"no kernel named {entry['kernel']!r} in the project",
                    )
                )


_WORKLOAD_PASS_THROUGH = ("compose.combine", "compose.sequential", "csp.replicate", "csp.connect")


def _check_collectives_have_a_mesh(doc: Document, out: list[Diagnostic]) -> None:
    """A collective needs the mesh that ``spatial_map`` defines on every program it runs in.

    From each root workload holding a collective, follow the workload edges downstream (through
    compositions and schedule nodes); a ``compile`` reached without passing a ``spatial_map``
    means the collective would have no mesh, so every collective of that workload is reported.
    """
    root = doc.graph
    succ: dict[str, list[str]] = defaultdict(list)
    for e in root.edges:
        src = root.nodes.get(e.src.node)
        if src is not None and e.src.port in ("workload", "process"):
            succ[e.src.node].append(e.dst.node)
    for node in root.nodes.values():
        if node.kind not in ("workload.def", "csp.process") or node.body is None:
            continue
        collectives = [
            inner
            for inner, _g, _o in _walk_body(node)
            if inner.kind.startswith("layout.") and inner.kind in KINDS
        ]
        if not collectives or not _reaches_compile_without_mesh(root, succ, node.id):
            continue
        for c in collectives:
            out.append(
                Diagnostic(
                    c.id,
                    "kind",
                    f"{c.kind[len('layout.') :]} needs a mesh: add spatial_map to the schedule "
                    f"of {node.name or node.id}",
                )
            )


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


def _reaches_compile_without_mesh(root: Graph, succ: dict[str, list[str]], start: str) -> bool:
    stack = [start]
    seen = {start}
    while stack:
        nid = stack.pop()
        for nxt in succ.get(nid, ()):
            node = root.nodes.get(nxt)
            if node is None or nxt in seen:
                continue
            seen.add(nxt)
            if node.kind == "compile.target":
                return True
            if node.kind == "sched.spatial_map":
                continue  # this path has a mesh
            if node.kind.startswith("sched.") or node.kind in _WORKLOAD_PASS_THROUGH:
                stack.append(nxt)
    return False


def _check_edges(
    graph: Graph,
    owner: Node | None,
    scope: str,
    ports: dict[str, list[PortSpec]],
    out: list[Diagnostic],
) -> dict[tuple[str, str], list]:
    incoming: dict[tuple[str, str], list] = defaultdict(list)
    exec_out: Counter[tuple[str, str]] = Counter()
    for i, e in enumerate(graph.edges):
        field = f"edges[{i}]"
        if e.src.node not in graph.nodes or e.dst.node not in graph.nodes:
            missing = e.src.node if e.src.node not in graph.nodes else e.dst.node
            where = owner.id if owner is not None else ""
            out.append(Diagnostic(where, field, f"edge {e.src} -> {e.dst}: no node {missing!r}"))
            continue
        sp = registry.find_port(ports[e.src.node], e.src.port, "out")
        dp = registry.find_port(ports[e.dst.node], e.dst.port, "in")
        if sp is None:
            out.append(Diagnostic(e.src.node, f"outputs.{e.src.port}", "no such output port"))
            continue
        if dp is None:
            out.append(Diagnostic(e.dst.node, f"inputs.{e.dst.port}", "no such input port"))
            continue
        if not registry.types_compatible(sp.type, dp.type, scope):
            out.append(
                Diagnostic(
                    e.dst.node,
                    f"inputs.{e.dst.port}",
                    f"type mismatch: {sp.type} output {e.src} feeds a {dp.type} input",
                )
            )
        key = (e.dst.node, e.dst.port)
        incoming[key].append(e)
        if len(incoming[key]) == 2 and not dp.multi:
            out.append(Diagnostic(e.dst.node, f"inputs.{e.dst.port}", "input takes one edge"))
        if sp.type == "exec":
            exec_out[(e.src.node, e.src.port)] += 1
            if exec_out[(e.src.node, e.src.port)] == 2:
                out.append(
                    Diagnostic(e.src.node, "outputs.exec", "exec output has more than one edge")
                )
    return incoming


def _check_entry(graph: Graph, owner: Node, out: list[Diagnostic]) -> None:
    entries = [n for n in graph.nodes.values() if n.kind == "scope.entry"]
    if len(entries) != 1:
        out.append(
            Diagnostic(owner.id, "body", f"a scope body needs one entry node, has {len(entries)}")
        )


def _runs_elsewhere(node: Node, graph: Graph, is_root: bool) -> bool:
    """Statements that are legal off the chain: a kernel call whose value feeds a ``send`` runs
    inside that send, and a root process runs where ``connect``/``replicate`` wire it."""
    if node.kind == "csp.process":
        return is_root
    if node.kind != "kernel.call":
        return False
    return any(
        e.dst.node in graph.nodes and graph.nodes[e.dst.node].kind == "csp.send"
        for e in graph.edges_from(node.id, "value")
    )


def _check_chain(
    graph: Graph, ports: dict[str, list[PortSpec]], out: list[Diagnostic], is_root: bool = False
) -> None:
    """Follow ``exec`` edges from the entry; report nodes off the chain and stray otherwise."""
    nxt: dict[str, str] = {}
    for e in graph.edges:
        if e.src.port == "exec" and e.dst.port == "exec" and e.dst.node in graph.nodes:
            nxt.setdefault(e.src.node, e.dst.node)
    entry = next((n.id for n in graph.nodes.values() if n.kind == "scope.entry"), None)
    on_chain: set[str] = set()
    prev: dict[str, str] = {}
    current = entry
    while current is not None and current not in on_chain:
        on_chain.add(current)
        following = nxt.get(current)
        if following is not None:
            prev.setdefault(following, current)
        current = following
    for node in graph.nodes.values():
        has_exec_in = any(p.direction == "in" and p.type == "exec" for p in ports[node.id])
        if has_exec_in and node.id not in on_chain and not _runs_elsewhere(node, graph, is_root):
            out.append(Diagnostic(node.id, "inputs.exec", "not connected to the execution chain"))
        if node.kind == "branch.otherwise" and node.id in on_chain:
            before = graph.nodes.get(prev.get(node.id, ""))
            if before is None or before.kind != "branch.when":
                out.append(Diagnostic(node.id, "inputs.exec", "P.otherwise must follow a P.when"))


def _check_kernel_params(graph: Graph, owner: Node, out: list[Diagnostic]) -> None:
    wanted = [p["name"] for p in registry.kernel_params(owner)]
    have = Counter(n.props.get("param") for n in graph.nodes.values() if n.kind == "kernel.param")
    for name in wanted:
        if have[name] != 1:
            out.append(
                Diagnostic(
                    owner.id,
                    "props.params",
                    f"parameter {name!r} needs one parameter node in the body, has {have[name]}",
                )
            )
    for name in have:
        if name not in wanted:
            out.append(
                Diagnostic(owner.id, "body", f"parameter node for unknown parameter {name!r}")
            )


__all__ = ["validate_document"]
