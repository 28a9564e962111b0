"""Kernels: definitions (with their tile-op body), the body's parameter nodes, and calls.

A kernel definition is a root node owning a sub-canvas (its body) that holds one
``kernel.param`` per parameter and the ``pto.*`` tile ops (``tile_ops``). A call lives in a
workload; its ports come from the kernel its ``kernel`` property names (``registry.ports_of``).
"""

from __future__ import annotations

from typing import Any

from .. import indexing, titles
from ..document import Node
from ._base import ROOT, K, NodeKind, PropSpec, W, out_port

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


def check_kernel(c: Any, node: Node) -> None:
    """A kernel is C++ (cpp_src) or tile ops (its body), not both; includes need C++."""
    cpp = node.props.get("cpp_src")
    if isinstance(cpp, str) and cpp.strip() and node.body is not None:
        body = node.body.nodes.values()
        ops = [n for n in body if not (c.kind_of(n).body_entry or c.kind_of(n).kernel_param)]
        params = {n.id for n in body if c.kind_of(n).kernel_param}
        stores = [e for e in node.body.edges if e.dst.node in params]
        if ops or stores:
            c.add(node.id, "props.cpp_src", "a kernel with cpp_src has its body in C++; remove the tile ops from its body")  # fmt: skip
    includes = node.props.get("cpp_includes")
    if includes and not (isinstance(cpp, str) and cpp.strip()):
        c.add(node.id, "props.cpp_includes", "cpp_includes needs cpp_src")


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
            PropSpec("cost", "int", 0, doc="cycles per task; 0 = the default cycle model"),
            PropSpec("jit", "bool", False, doc="@jit_kernel instead of @kernel"),
        ],
        scope=True,
        allowed_in=ROOT,
        name_base="kernel",
        summary=titles.kernel_def,
        defines_kernel=True,
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
        calls_kernel=True,
        check=check_call,
        doc="kernel[b, h](Q=Q[b, h], ...): one task per iteration. Wire tensors into its "
        "ports; each is indexed by the enclosing loop variables unless index overrides it.",
    ),
]

DSL_KINDS = {"KernelRef": KERNEL, "KernelCall": CALL}
"""DSL object type -> the kind Import Python makes of it (``registry.dsl_kind``)."""
