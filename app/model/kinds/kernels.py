"""Kernels: definitions (with their tile-op body), the body's parameter nodes, and calls.

A kernel definition is a root node owning a sub-canvas (its body) that holds one
``kernel.param`` per parameter and the ``pto.*`` tile ops (``tile_ops``). A call lives in a
workload; its ports come from the kernel its ``kernel`` property names (``registry.ports_of``).
"""

from __future__ import annotations

from .. import titles
from ._base import ROOT, K, NodeKind, PropSpec, W, out_port

_out = out_port

CALL_TASK_PORT = "task"
"""The output port of every call: its task, wired into a ``send``'s ``value``."""

KINDS = [
    NodeKind(
        "kernel.def",
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
        doc="A kernel definition; its body holds the tile ops.",
    ),
    NodeKind(
        "kernel.param",
        "Kernel parameter",
        "Internal",
        [],  # dynamic: see ports_of
        [PropSpec("param", "str", "", doc="the parameter's name")],
        allowed_in=K,
        in_palette=False,
        summary=titles.kernel_param,
        doc="A kernel parameter inside the kernel body: out tile (In/InOut), in value (a store).",
    ),
    NodeKind(
        "scope.entry",
        "Entry",
        "Internal",
        [_out("exec", "exec")],
        [],
        allowed_in=K,
        in_palette=False,
        doc="The start of a kernel body (kept from format v1; it has no meaning of its own).",
    ),
    NodeKind(
        "kernel.call",
        "Kernel call",
        "Workloads",
        [_out(CALL_TASK_PORT, "task")],  # plus one port per kernel parameter: see ports_of
        [
            PropSpec(
                "kernel",
                "ref",
                "",
                doc="the kernel this call runs",
                ref_kinds=("kernel.def",),
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
        doc="kernel[b, h](Q=Q[b, h], ...): one task per iteration. Wire tensors into its "
        "ports; each is indexed by the enclosing loop variables unless index overrides it.",
    ),
]
