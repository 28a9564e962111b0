"""Kernels: definitions (with their tile-op body), the body's parameter nodes, and calls.

A kernel definition is a root node owning a sub-canvas (its body) that holds one
``kernel.param`` per parameter and the ``pto.*`` tile ops (``tile_ops``). A call lives in a
workload; its ports come from the kernel its ``kernel`` property names (``node_ports.ports_of``).
"""

from __future__ import annotations

from typing import Any

from .. import indexing, titles
from ..document import Edge, Graph, Node
from ..kernel_param import normalize_param
from ..kind_lookup import display_name, kind
from ._base import ROOT, Emitter, K, NodeKind, PropSpec, W, out_port
from .tile_ops import INT_ATTRS

_out = out_port

CALL_TASK_PORT = "task"
"""The output port of every call: its task, wired into a ``send``'s ``value``."""
KERNEL = "kernel.def"
PARAM = "kernel.param"
ENTRY = "scope.entry"
CALL = "kernel.call"


def param_port_type(param: dict[str, Any]) -> str:
    """What a call's port for kernel parameter ``param`` carries: a scalar or a tensor."""
    return "scalar" if param.get("kind") == "scalar" else "tensor"


def emit_call(x: Any, n: Node, depth: int, names: set[str]) -> None:
    """``kernel[b, h](Q=Q[b, h], ...)`` (the exporter's ``call_text``)."""
    x.line(x.call_text(n, names), n.id, depth)


CPP_SOURCES = ("cpp_src", "cpp_body_path", "cpp_tu_path")
"""The properties that give a kernel its C++, one at a time (docs/kernels.md)."""


def cpp_sources(props: dict[str, Any]) -> list[str]:
    """The C++ source properties set (non-blank) on a kernel."""
    return [f for f in CPP_SOURCES if isinstance(props.get(f), str) and props[f].strip()]


def check_kernel(c: Any, node: Node) -> None:
    """A kernel is C++ (one of cpp_src, cpp_body_path, cpp_tu_path) or tile ops (its body), not
    both; includes and an ABI need C++; a translation unit is the reference ABI."""
    given = cpp_sources(node.props)
    if len(given) > 1:
        c.add(node.id, f"props.{given[1]}", f"{' and '.join(given)} are exclusive; give the C++ one way")  # fmt: skip
    if given and node.body is not None:
        body = node.body.nodes.values()
        ops = [n for n in body if not (c.kind_of(n).body_entry or c.kind_of(n).kernel_param)]
        params = {n.id for n in body if c.kind_of(n).kernel_param}
        stores = [e for e in node.body.edges if e.dst.node in params]
        if ops or stores:
            c.add(node.id, f"props.{given[0]}", f"a kernel with {given[0]} has its body in C++; remove the tile ops from its body")  # fmt: skip
    includes = node.props.get("cpp_includes")
    if includes and not given:
        c.add(node.id, "props.cpp_includes", "cpp_includes needs cpp_src")
    abi = node.props.get("abi", "auto")
    if abi != "auto" and not given:
        c.add(node.id, "props.abi", "abi names the ABI of a C++ body; the kernel has none")
    if abi == "native" and "cpp_tu_path" in given:
        c.add(node.id, "props.abi", "a cpp_tu_path translation unit is the reference ABI")


def check_call(c: Any, node: Node) -> None:
    """Every In/InOut parameter wired once; every Out parameter wired to one tensor (an
    InOut's to the tensor it reads); index keys name parameters."""
    kern = indexing.kernel_of(c.doc, node)
    if kern is None:
        return  # check_references says the kernel is missing
    params = indexing.params_of(kern)
    names = {p["name"] for p in params}
    index = node.props.get("index")
    if isinstance(index, dict):
        for key in index:
            if key not in names:
                c.add(node.id, f"props.index.{key}", f"kernel {kern.name!r} has no parameter {key!r}")  # fmt: skip
    for p in params:
        name = p["name"]
        direction = p.get("direction", "In")
        ins = c.wires.into.get((node.id, name), [])
        outs = c.wires.out_of.get((node.id, name), [])
        if direction in ("In", "InOut"):
            if p.get("kind") == "scalar" and not ins:
                if not (indexing.index_override(node, name) or "").strip():
                    c.add(node.id, f"inputs.{name}", f"scalar parameter {name} of {kern.name} has no value: wire a scalar into it or type one")  # fmt: skip
            elif not ins:
                c.add(node.id, f"inputs.{name}", f"parameter {name} of {kern.name} is not wired: wire a {param_port_type(p)} into it")  # fmt: skip
            elif len(ins) > 1:
                c.add(node.id, f"inputs.{name}", f"parameter {name} takes one wire, has {len(ins)}")  # fmt: skip
        if direction == "Out" and not outs:
            c.add(node.id, f"outputs.{name}", f"Out parameter {name} of {kern.name} is not wired: wire it to the tensor it writes")  # fmt: skip
        if direction in ("Out", "InOut") and len(outs) > 1:
            c.add(node.id, f"outputs.{name}", f"parameter {name} writes one tensor, is wired to {len(outs)}")  # fmt: skip
        if direction == "InOut" and len(ins) == 1 and len(outs) == 1:
            src, dst = c.nodes.get(ins[0].src.node), c.nodes.get(outs[0].dst.node)
            if src is not None and dst is not None and src.kind == dst.kind and src.id != dst.id:  # fmt: skip
                c.add(node.id, f"outputs.{name}", f"InOut parameter {name} reads {c.label(src)} but is wired to write {c.label(dst)}: it is one argument")  # fmt: skip


_DIRECTION_WRAP = {"In": "In", "Out": "Out", "InOut": "InOut"}


def _op_name(node: Node) -> str:
    """A tile op's DSL function: ``matmul`` for a ``pto.matmul`` node."""
    return node.kind.split(".", 1)[1]


def emit_kernel_def(x: Emitter, n: Node) -> None:
    p = n.props
    params = [normalize_param(q) for q in indexing.params_of(n)]
    deco = "jit_kernel" if p.get("jit") else "kernel"
    x.use(deco)
    given = cpp_sources(p)
    cpp = p.get("cpp_src", "") or ""
    includes = list(p.get("cpp_includes", []) or [])
    abi = p.get("abi", "auto")
    if len(given) > 1:
        raise x.error(n.id, f"props.{given[1]}", f"{' and '.join(given)} are exclusive")
    cost = int(p.get("cost", 0) or 0)
    body_nodes = [
        b
        for b in (n.body.nodes.values() if n.body is not None else [])
        if not (x.kind_of(b).body_entry or x.kind_of(b).kernel_param)
    ]
    stores = [e for e in (n.body.edges if n.body else []) if _is_param_store(x, n, e)]
    if given and (body_nodes or stores):
        raise x.error(
            n.id,
            f"props.{given[0]}",
            f"a kernel with {given[0]} has its body in C++; remove the tile ops from its body",
        )
    if includes and not given:
        raise x.error(n.id, "props.cpp_includes", "cpp_includes needs cpp_src")
    if abi != "auto" and not given:
        raise x.error(n.id, "props.abi", "abi names the ABI of a C++ body; the kernel has none")
    kwargs: list[str] = []
    if cpp:
        kwargs.append(f"cpp_src={x.lit(n, 'props.cpp_src', cpp, multiline=True)}")
    for path in ("cpp_body_path", "cpp_tu_path"):
        if path in given:
            kwargs.append(f"{path}={x.file_path(n, path)}")
    if abi != "auto":
        kwargs.append(f"abi={x.q(abi)}")
    if includes:
        kwargs.append(f"cpp_includes=[{', '.join(x.q(i) for i in includes)}]")
    if cost:
        kwargs.append(f"cost={cost}")
    x.blank(2)
    if kwargs and "\n" not in kwargs[0] and len(f"@{deco}({', '.join(kwargs)})") <= x.line_length:
        x.line(f"@{deco}({', '.join(kwargs)})", n.id)
    elif kwargs:
        x.line(f"@{deco}(", n.id)
        for k in kwargs:
            for i, part in enumerate(f"{k},".split("\n")):
                x.line(part, n.id, 1 if i == 0 else 0)
        x.line(")", n.id)
    else:
        x.line(f"@{deco}", n.id)
    sig = [f"{x.ident(n, 'props.params', q['name'])}: {_param_annotation(x, n, q)}" for q in params]
    one = f"def {x.name(n)}({', '.join(sig)}):"
    if len(one) <= x.line_length:
        x.line(one, n.id)
    else:
        x.line(f"def {x.name(n)}(", n.id)
        for s in sig:
            x.line(f"{s},", n.id, 1)
        x.line("):", n.id)
    if n.body is None or (not body_nodes and not stores):
        if len(x.out.lines[-1][0]) + 4 <= x.line_length and not given:
            text, nid = x.out.lines.pop()
            x.out.lines.append((text + " ...", nid))
        else:
            x.line("...", n.id, 1)
        return
    _kernel_body(x, n, params)


def _param_annotation(x: Emitter, n: Node, q: dict) -> str:
    if q["kind"] == "scalar":
        x.use("Scalar", "DType")
        return f"Scalar[{x.dtype_text(n, 'props.params', q['dtype'])}]"
    wrap = _DIRECTION_WRAP.get(q["direction"])
    if wrap is None:
        raise x.error(n.id, "props.params", f"unknown direction {q['direction']!r:.40}")
    x.use(wrap)
    if q["kind"] == "tile":
        x.use("Tile", "DType")
        return f"{wrap}[Tile[{int(q['rows'])}, {int(q['cols'])}, {x.dtype_text(n, 'props.params', q['dtype'])}]]"
    x.use("Tensor")
    return f"{wrap}[Tensor]"


def _is_param_store(x: Emitter, kern: Node, e: Edge) -> bool:
    body = kern.body
    assert body is not None
    dst = body.nodes.get(e.dst.node)
    return dst is not None and x.kind_of(dst).kernel_param and e.dst.port == "value"


def _kernel_body(x: Emitter, kern: Node, params: list[dict]) -> None:
    body = kern.body
    assert body is not None
    x.use("pto")
    ops = [
        b for b in body.nodes.values() if not (x.kind_of(b).body_entry or x.kind_of(b).kernel_param)
    ]
    order = _topo_order(x, body, ops)
    names: dict[str, str] = {}
    for b in body.nodes.values():
        if x.kind_of(b).kernel_param:
            names[b.id] = x.ident(b, "props.param", b.props.get("param", ""))
    counter = 0
    for b in order:
        if "kernel" not in x.kind_of(b).allowed_in:
            raise x.error(b.id, "kind", f"a {display_name(b.kind)} is no tile op")
        op = _op_name(b)
        spec = kind(b.kind)
        args: list[str] = []
        for port in spec.ports:
            if port.direction != "in":
                continue
            edges = body.edges_into(b.id, port.name)
            if not edges:
                if port.optional:
                    continue
                raise x.error(b.id, f"inputs.{port.name}", "input is not connected")
            src = edges[0].src.node
            if src not in names:
                raise x.error(b.id, f"inputs.{port.name}", "the connected node is missing")
            arg = names[src]
            args.append(f"{port.name}={arg}" if port.optional else arg)
        if op == "constant":
            value = b.props.get("value", 0)
            args = [
                x.lit(b, "props.value", value),
                x.dtype_text(b, "props.dtype", b.props.get("dtype", "f32")),
            ]
            x.use("DType")
        elif op == "alloc":
            args = [
                x.shape_text(b.props["shape"]),
                x.dtype_text(b, "props.dtype", b.props["dtype"]),
            ]
            x.use("DType")
        elif op == "broadcast":
            args.append(x.shape_text(b.props["shape"]))
        for attr in (a for a in INT_ATTRS if any(p.name == a for p in spec.props)):
            args.append(str(x.integer(b, f"props.{attr}", b.props.get(attr), least=1)))
        call = f"pto.{op}({', '.join(args)})"
        if op == "store":
            x.line(call, b.id, 1)
            continue
        counter += 1
        names[b.id] = f"v{counter}"
        x.line(f"v{counter} = {call}", b.id, 1)
    for q in params:
        pnode = next(
            (
                b
                for b in body.nodes.values()
                if x.kind_of(b).kernel_param and b.props.get("param") == q["name"]
            ),
            None,
        )
        if pnode is None:
            continue
        for e in body.edges_into(pnode.id, "value"):
            if e.src.node not in names:
                raise x.error(pnode.id, "inputs.value", "the stored value is missing")
            x.line(f"pto.store({names[pnode.id]}, {names[e.src.node]})", pnode.id, 1)


def _topo_order(x: Emitter, body: Graph, ops: list[Node]) -> list[Node]:
    """Op nodes in dependency order; ready nodes in natural id order (deterministic)."""
    ids = {n.id for n in ops}
    deps: dict[str, set[str]] = {n.id: set() for n in ops}
    for e in body.edges:
        if e.dst.node in ids and e.src.node in ids:
            deps[e.dst.node].add(e.src.node)
    done: set[str] = set()
    order: list[Node] = []
    pending = sorted(ops, key=lambda n: x.natural_key(n.id))
    while pending:
        ready = [n for n in pending if deps[n.id] <= done]
        if not ready:
            raise x.error(pending[0].id, "inputs", "the kernel body has a cycle")
        n = ready[0]
        order.append(n)
        done.add(n.id)
        pending.remove(n)
    return order


def import_call(im: Any, frame: Node, s: Any, here: str, where: str) -> Node:
    """A ``KernelCall``: the call, its tensors wired to its ports (the importer's ``call``)."""
    return im.call(frame, s, here)


KINDS = [
    NodeKind(
        KERNEL,
        "Kernel",
        "Kernels",
        [],
        [
            PropSpec(
                "params",
                "params",
                [],
                doc="list of {name, direction (In/Out/InOut), kind, and by kind: tile "
                "rows, cols, dtype (Tile[rows, cols, dtype], checked at every call); scalar "
                "dtype; tensor nothing (an unshaped In[Tensor] takes any view)}",
            ),
            PropSpec("cpp_src", "code", "", doc="custom C++ body (Path A)", carries_code=True),
            PropSpec(
                "cpp_includes",
                "strlist",
                [],
                doc="headers the C++ body includes",
                carries_code=True,
            ),
            PropSpec(
                "cpp_body_path",
                "str",
                "",
                doc="a file holding the C++ body, instead of cpp_src (absolute, or relative to "
                "the project file's folder; docs/kernels.md)",
                carries_code=True,
                names_file=True,
            ),
            PropSpec(
                "cpp_tu_path",
                "str",
                "",
                doc="a file holding a whole C++ translation unit that defines the kernel's "
                "reference-ABI entry (absolute, or relative to the project file's folder; "
                "docs/kernels.md)",
                carries_code=True,
                names_file=True,
            ),
            PropSpec(
                "abi",
                "enum",
                "auto",
                ("auto", "native", "reference"),
                doc="the C++ body's ABI: auto detects (task-> or KernelTaskDesc: reference)",
            ),
            PropSpec("cost", "int", 0, doc="cycles per task; 0 = the default cycle model"),
            PropSpec("jit", "bool", False, doc="@jit_kernel instead of @kernel"),
        ],
        scope=True,
        allowed_in=ROOT,
        name_base="kernel",
        summary=titles.kernel_def,
        defines_kernel=True,
        emit_root=emit_kernel_def,
        section="kernels",
        check=check_kernel,
        doc="A kernel definition; its body holds the tile ops.",
    ),
    NodeKind(
        PARAM,
        "Kernel parameter",
        "Internal",
        [],  # dynamic: see ports_of
        [PropSpec("param", "str", "", doc="the parameter's name")],
        allowed_in=K,
        in_palette=False,
        summary=titles.kernel_param,
        kernel_param=True,
        doc="A kernel parameter inside the kernel body: out tile (In/InOut), in value (a store).",
    ),
    NodeKind(
        ENTRY,
        "Entry",
        "Internal",
        [_out("exec", "exec")],
        [],
        allowed_in=K,
        in_palette=False,
        body_entry=True,
        doc="The start of a kernel body (kept from format v1; it has no meaning of its own).",
    ),
    NodeKind(
        CALL,
        "Kernel call",
        "Workloads",
        [_out(CALL_TASK_PORT, "task")],  # plus one port per kernel parameter: see ports_of
        [
            PropSpec(
                "kernel",
                "ref",
                "",
                doc="the kernel this call runs",
                ref_kinds=(KERNEL,),
            ),
            PropSpec(
                "axes",
                "exprlist",
                None,
                doc="the call's [b, h]; empty = the enclosing loop variables, outermost first",
                optional=True,
            ),
            PropSpec(
                "index",
                "exprmap",
                {},
                doc="per parameter index text overriding the automatic one, e.g. {'K': 'b'}; "
                "'' = the whole tensor",
            ),
        ],
        allowed_in=W,
        name_base="call",
        summary=titles.call,
        emit=emit_call,
        import_dsl=import_call,
        calls_kernel=True,
        check=check_call,
        doc="kernel[b, h](Q=Q[b, h], ...): one task per iteration. Wire tensors into its "
        "ports; each is indexed by the enclosing loop variables unless index overrides it.",
    ),
]

DSL_KINDS = {"KernelRef": KERNEL, "KernelCall": CALL}
"""DSL object type -> the kind Import Python makes of it (``catalogue.dsl_kind``)."""
