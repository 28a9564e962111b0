"""Node kinds: the single source of truth for ports, properties and where a node may live.

The editor builds its palette and node classes from ``KINDS``; the exporter dispatches on
``Node.kind``; validation and the commands ask ``ports_of``/``can_connect``/``prop_problem``.
Nothing else in the app may hard-code a port name or a property default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from typing import Any

from . import bounds, exprs, pytext, titles
from .document import Document, Edge, Graph, Node, PortRef

# ------------------------------------------------------------------------------------------
# data classes
# ------------------------------------------------------------------------------------------
PORT_TYPES = (
    "exec",
    "tensor",
    "scalar",
    "axis",
    "kernel",
    "workload",
    "channel",
    "event",
    "tile",
    "value",
)
PROP_TYPES = (
    "str",
    "int",
    "float",
    "number",
    "bool",
    "enum",
    "shape",
    "expr",
    "exprlist",
    "exprmap",
    "names",
    "code",
    "dtype",
    "strlist",
    "params",
    "dist",
    "pools",
)
SCOPES = ("root", "workload", "kernel")
DTYPES = ("f16", "bf16", "f32", "f64", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "bool")
DIRECTIONS = ("In", "Out", "InOut")
PARAM_KINDS = ("tensor", "tile", "scalar")
PARAM_FIELDS: dict[str, tuple[str, ...]] = {
    "tensor": (),  # In[Tensor]: any view; it has no shape or dtype of its own
    "tile": ("rows", "cols", "dtype"),  # In[Tile[rows, cols, dtype]]: checked at every call
    "scalar": ("dtype",),  # Scalar[dtype]
}
"""The fields a kernel parameter of each kind carries besides name, direction and kind: the
one list the params table, normalisation, checks and migration derive from."""
PARAM_DEFAULTS: dict[str, Any] = {"rows": 16, "cols": 16, "dtype": "f32"}


@dataclass(frozen=True)
class PortSpec:
    """One port. ``multi`` inputs take several edges (ordered); optional inputs may be empty."""

    name: str
    direction: str  # "in" | "out"
    type: str
    multi: bool = False
    optional: bool = False


@dataclass(frozen=True)
class PropSpec:
    """One property: its type (``PROP_TYPES``), default, choices for enums, help text."""

    name: str
    type: str
    default: Any
    choices: tuple[str, ...] | None = None
    doc: str = ""
    optional: bool = False  # an empty expr/exprlist is allowed
    carries_code: bool = False
    """The value is C++ (or names C++ sources / include paths) that a run compiles: a file with
    such a value set opens in restricted mode (``app.model.trust``). Expressions are not code."""


@dataclass(frozen=True)
class NodeKind:
    """A node kind. ``scope`` kinds own a body graph; ``allowed_in`` lists scope names."""

    id: str
    title: str
    category: str
    ports: list[PortSpec]
    props: list[PropSpec]
    scope: bool = False
    allowed_in: frozenset[str] = frozenset({"root"})
    doc: str = ""
    name_base: str = ""
    body_scope: str = "workload"  # the scope name of the body of a scope kind
    in_palette: bool = True
    sweep_default: str = ""
    """The property Run > Sweep opens on (a dispatch's worker count); "" = the first one."""
    summary: Callable[[Node, titles.TitleContext], str] | None = None
    """The node's canvas title with its key parameters (``Q  f32[4,8,16,16]``,
    ``attn_kernel[b, h]``; see ``app.model.titles``); None = ``"Kind: name"``."""

    def prop(self, name: str) -> PropSpec:
        for p in self.props:
            if p.name == name:
                return p
        raise KeyError(f"node kind {self.id!r} has no property {name!r}")

    def defaults(self) -> dict[str, Any]:
        import copy

        return {p.name: copy.deepcopy(p.default) for p in self.props}


# ------------------------------------------------------------------------------------------
# the kind table
# ------------------------------------------------------------------------------------------
def _in(name: str, type_: str, multi: bool = False, optional: bool = False) -> PortSpec:
    return PortSpec(name, "in", type_, multi, optional)


def _out(name: str, type_: str) -> PortSpec:
    return PortSpec(name, "out", type_)


EXEC_IN = _in("exec", "exec")
EXEC_OUT = _out("exec", "exec")
W = frozenset({"workload"})
K = frozenset({"kernel"})
ROOT = frozenset({"root"})

KINDS: dict[str, NodeKind] = {}
CATEGORY_ORDER = [
    "Data",
    "Axes",
    "Kernels",
    "Tile ops",
    "Workloads",
    "Loops",
    "Control",
    "CSP",
    "Events",
    "Slots",
    "Layout",
    "Schedule",
    "Program",
    "Internal",
]


def _add(kind: NodeKind) -> None:
    KINDS[kind.id] = kind


# -- data and axes --------------------------------------------------------------------------
_add(
    NodeKind(
        "data.tensor",
        "Tensor",
        "Data",
        [_out("tensor", "tensor")],
        [
            PropSpec("shape", "shape", [16, 16], doc="dimensions, outermost first"),
            PropSpec("dtype", "dtype", "f32", DTYPES),
            PropSpec("location", "enum", "Global", ("Global", "L2", "UB", "L1")),
            PropSpec(
                "layout",
                "dist",
                [],
                doc="distribution per dimension over the mesh: R (replicated) or S<i> (sharded "
                "on mesh axis i); empty = every dimension replicated (the default layout)",
                optional=True,
            ),
            PropSpec(
                "mem",
                "enum",
                "default",
                ("default", "row_major", "col_major"),
                doc="memory layout: default (no MemLayout, C order), row_major or col_major "
                "(MemLayout.row_major/col_major(shape): the array is allocated in that order)",
            ),
            PropSpec(
                "init",
                "enum",
                "zeros",
                ("zeros", "random", "range", "npy"),
                doc="initial contents: zeros, uniform random (seeded), 0..n-1, or an .npy file",
            ),
            PropSpec("seed", "int", 0, doc="seed for init=random"),
            PropSpec("path", "str", "", doc=".npy file for init=npy"),
        ],
        name_base="tensor",
        summary=titles.tensor,
        doc="A tensor backed by a numpy array.",
    )
)
_add(
    NodeKind(
        "data.scalar",
        "Scalar",
        "Data",
        [_out("scalar", "scalar")],
        [PropSpec("dtype", "dtype", "i64", DTYPES), PropSpec("value", "number", 0)],
        name_base="n",
        summary=titles.scalar,
        doc="A named Python number (sizes, counts).",
    )
)
_add(
    NodeKind(
        "data.get",
        "Get",
        "Data",
        [_out("out", "value")],  # dynamic: typed like the target's output
        [PropSpec("target", "str", "", doc="name of a root node: tensor, scalar, axis, kernel...")],
        allowed_in=frozenset({"workload"}),
        summary=titles.get,
        doc="Brings a root data node (tensor, axis, kernel, channel...) into a workload body: "
        "edges never cross scopes, so bodies read root data through Get nodes.",
    )
)
_add(
    NodeKind(
        "axis.dense",
        "Dense axis",
        "Axes",
        [_out("axis", "axis")],
        [PropSpec("size", "int", 8)],
        name_base="axis",
        summary=titles.axis,
        doc="Dense[size]: a static iteration space.",
    )
)
_add(
    NodeKind(
        "axis.dense_dyn",
        "DenseDyn axis",
        "Axes",
        [_in("size", "scalar", optional=True), _out("axis", "axis")],
        [PropSpec("size", "int", 4, doc="used when the size input is not connected")],
        name_base="axis",
        summary=titles.axis,
        doc="DenseDyn(size): a size known at run time.",
    )
)
_add(
    NodeKind(
        "axis.ragged",
        "Ragged axis",
        "Axes",
        [_in("lengths", "tensor"), _out("axis", "axis")],
        [PropSpec("outer_size", "int", 4)],
        name_base="axis",
        summary=titles.axis,
        doc="Ragged(outer_size, lengths): per-row lengths.",
    )
)
_add(
    NodeKind(
        "axis.sparse",
        "Sparse axis",
        "Axes",
        [_in("indptr", "tensor"), _in("indices", "tensor"), _out("axis", "axis")],
        [PropSpec("outer_size", "int", 4)],
        name_base="routing",
        summary=titles.axis,
        doc="Sparse(outer_size, indptr, indices): CSR selection (MoE routing).",
    )
)

# -- kernels --------------------------------------------------------------------------------
_add(
    NodeKind(
        "kernel.def",
        "Kernel",
        "Kernels",
        [_out("kernel", "kernel")],
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
        body_scope="kernel",
        summary=titles.kernel_def,
        doc="A kernel definition; its body holds the tile ops.",
    )
)
_add(
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
    )
)

# -- tile ops (spec §6.1) ----------------------------------------------------------------------
UNARY_OPS = (
    "exp",
    "log",
    "sqrt",
    "rsqrt",
    "tanh",
    "sigmoid",
    "sin",
    "cos",
    "relu",
    "gelu",
    "silu",
    "neg",
    "abs",
    "rowsum",
    "rowmax",
    "rowmean",
    "colsum",
    "colmax",
    "slice_even",
    "slice_odd",
)
BINARY_OPS = ("add", "sub", "mul", "div", "maximum", "minimum", "max", "min", "interleave")
VECTOR_OPS = ("rowmul", "rowadd", "colmul", "coladd")
TILE_OUT = _out("result", "tile")


def _op(op: str, ports: list[PortSpec], props: list[PropSpec], doc: str) -> None:
    _add(
        NodeKind(
            f"pto.{op}",
            f"pto.{op}",
            "Tile ops",
            ports,
            props,
            allowed_in=K,
            name_base="v",
            doc=doc,
        )
    )


for _name in UNARY_OPS:
    _op(_name, [_in("x", "tile"), TILE_OUT], [], f"pto.{_name}(x)")
for _name in BINARY_OPS:
    alias = {"max": " (alias of maximum)", "min": " (alias of minimum)"}.get(_name, "")
    _op(_name, [_in("a", "tile"), _in("b", "tile"), TILE_OUT], [], f"pto.{_name}(a, b){alias}")
for _name in VECTOR_OPS:
    _op(_name, [_in("tile", "tile"), _in("vec", "tile"), TILE_OUT], [], f"pto.{_name}(tile, vec)")
_op(
    "matmul",
    [_in("a", "tile"), _in("b", "tile"), _in("acc", "tile", optional=True), TILE_OUT],
    [],
    "pto.matmul(a, b, acc=None)",
)
_op("broadcast", [_in("x", "tile"), TILE_OUT], [PropSpec("shape", "shape", [16, 16])], "pto.broadcast(x, shape)")  # fmt: skip
_op(
    "constant",
    [TILE_OUT],
    [PropSpec("value", "number", 0.0), PropSpec("dtype", "dtype", "f32", DTYPES)],
    "pto.constant(value, dtype)",
)
_op("load", [_in("src", "tile"), TILE_OUT], [], "pto.load(src)")
_op("store", [_in("dst", "tile"), _in("value", "tile")], [], "pto.store(dst, value)")
_op(
    "alloc",
    [TILE_OUT],
    [PropSpec("shape", "shape", [16, 16]), PropSpec("dtype", "dtype", "f32", DTYPES)],
    "pto.alloc(shape, dtype)",
)
TILE_OPS = tuple(k[4:] for k in KINDS if k.startswith("pto."))

# -- workloads, loops, control ----------------------------------------------------------------------
_add(
    NodeKind(
        "workload.def",
        "Workload",
        "Workloads",
        [_out("workload", "workload")],
        [],
        scope=True,
        allowed_in=ROOT,
        name_base="workload",
        summary=titles.workload,
        doc="@workload def name(): the body is its statements.",
    )
)
_add(
    NodeKind(
        "scope.entry",
        "Entry",
        "Internal",
        [EXEC_OUT],  # plus one scalar out per bound variable: see ports_of
        [],
        allowed_in=frozenset({"workload", "kernel"}),
        in_palette=False,
        doc="Where a scope's execution chain starts; outputs the variables the scope binds.",
    )
)
_add(
    NodeKind(
        "loop.parallel",
        "Parallel loop P(...)",
        "Loops",
        [EXEC_IN, _in("axes", "axis", multi=True), EXEC_OUT],
        [PropSpec("vars", "names", "i", doc="loop variables, one per axis, e.g. 'b, h'")],
        scope=True,
        allowed_in=W,
        summary=titles.parallel,
        doc="for b, h in P(batch, heads): every iteration independent.",
    )
)
_add(
    NodeKind(
        "loop.seq",
        "Sequential loop P.seq",
        "Loops",
        [EXEC_IN, _in("axis", "axis"), EXEC_OUT],
        [PropSpec("var", "names", "i")],
        scope=True,
        allowed_in=W,
        summary=titles.seq,
        doc="for i in P.seq(axis): iteration i+1 waits for iteration i.",
    )
)
_add(
    NodeKind(
        "loop.sel",
        "Selection loop P.sel",
        "Loops",
        [EXEC_IN, _in("sparse", "axis"), EXEC_OUT],
        [
            PropSpec("var", "names", "e"),
            PropSpec("row", "expr", "", doc="the row of the sparse axis, e.g. 'b'", optional=True),
        ],
        scope=True,
        allowed_in=W,
        summary=titles.sel,
        doc="for e in P.sel(routing[b]): only the selected indices.",
    )
)
_add(
    NodeKind(
        "branch.when",
        "When P.when",
        "Control",
        [EXEC_IN, EXEC_OUT],
        [PropSpec("pred", "expr", "True")],
        scope=True,
        allowed_in=W,
        summary=titles.when,
        doc="with P.when(pred): consecutive whens form an if/elif chain.",
    )
)
_add(
    NodeKind(
        "branch.otherwise",
        "Otherwise P.otherwise",
        "Control",
        [EXEC_IN, EXEC_OUT],
        [],
        scope=True,
        allowed_in=W,
        summary=titles.otherwise,
        doc="with P.otherwise(): must follow a P.when on the execution chain.",
    )
)
_add(
    NodeKind(
        "kernel.call",
        "Kernel call",
        "Workloads",
        [EXEC_IN, _in("kernel", "kernel"), EXEC_OUT, _out("value", "value")],
        [
            PropSpec("axes", "exprlist", "", doc="axis binding, e.g. 'b, h'", optional=True),
            PropSpec("index", "exprmap", {}, doc="per parameter index text, e.g. {'Q': 'b, h'}"),
        ],
        allowed_in=W,
        name_base="call",
        summary=titles.call,
        doc="kernel[b, h](Q=Q[b, h], ...): one task per iteration.",
    )
)
for _cid, _title in (("compose.combine", "combine"), ("compose.sequential", "sequential")):
    _add(
        NodeKind(
            _cid,
            _title,
            "Workloads",
            [_in("workloads", "workload", multi=True), _out("workload", "workload")],
            [],
            allowed_in=ROOT,
            name_base=_title == "combine" and "layer" or "pipeline",
            summary=titles.compose,
            doc=f"{_title}(w1, w2, ...), in edge order.",
        )
    )

# -- CSP ---------------------------------------------------------------------------------------------
_add(
    NodeKind(
        "csp.channel",
        "Channel",
        "CSP",
        [_out("channel", "channel")],
        [PropSpec("depth", "int", 2)],
        name_base="ch",
        summary=titles.channel,
        doc='Channel("name", depth=d): bounded, blocking send.',
    )
)
_add(
    NodeKind(
        "pipe.scope",
        "Pipeline P.pipe",
        "CSP",
        [EXEC_IN, EXEC_OUT],
        [PropSpec("depth", "int", 2)],
        scope=True,
        allowed_in=W,
        summary=titles.pipe,
        doc="with P.pipe(): processes that communicate over channels.",
    )
)
_add(
    NodeKind(
        "csp.process",
        "Process",
        "CSP",
        [
            _in("exec", "exec", optional=True),
            _out("exec", "exec"),
            _out("process", "workload"),
        ],
        [PropSpec("replicas", "int", 1)],
        scope=True,
        allowed_in=frozenset({"root", "workload"}),
        name_base="proc",
        summary=titles.process,
        doc="A CSP process: inside P.pipe, or at the root wired into csp.connect.",
    )
)
_add(
    NodeKind(
        "csp.send",
        "send",
        "CSP",
        [EXEC_IN, _in("channel", "channel"), _in("value", "value", optional=True), EXEC_OUT],
        [],
        allowed_in=W,
        name_base="send",
        summary=titles.send,
        doc="send(ch, call): pass a kernel call's result down a channel.",
    )
)
_add(
    NodeKind(
        "csp.consume",
        "consume",
        "CSP",
        [EXEC_IN, _in("channel", "channel"), EXEC_OUT],
        [PropSpec("var", "names", "t")],
        scope=True,
        allowed_in=W,
        summary=titles.consume,
        doc="with consume(ch) as t: the body runs per received item.",
    )
)
_add(
    NodeKind(
        "csp.close",
        "close",
        "CSP",
        [EXEC_IN, _in("channel", "channel"), EXEC_OUT],
        [],
        allowed_in=W,
        name_base="close",
        summary=titles.close,
        doc="ch.close(): consumers finish.",
    )
)
_add(
    NodeKind(
        "csp.connect",
        "connect",
        "CSP",
        [
            _in("processes", "workload", multi=True),
            _in("channels", "channel", multi=True, optional=True),
            _out("workload", "workload"),
        ],
        [],
        name_base="pipeline",
        doc="connect([processes], [channels]).",
    )
)
_add(
    NodeKind(
        "csp.replicate",
        "replicate",
        "CSP",
        [_in("process", "workload"), _out("workload", "workload")],
        [PropSpec("n", "int", 2)],
        name_base="replicas",
        summary=titles.replicate,
        doc="replicate(process, n).",
    )
)

# -- events, slots, layout -------------------------------------------------------------------------
_add(
    NodeKind(
        "event.def",
        "Event",
        "Events",
        [_out("event", "event")],
        [],
        name_base="ev",
        doc='Event("name"): a rendezvous.',
    )
)
for _eid, _title in (("event.record", "record"), ("event.synchronize", "synchronize")):
    _add(
        NodeKind(
            _eid,
            _title,
            "Events",
            [EXEC_IN, _in("event", "event"), EXEC_OUT],
            [],
            allowed_in=W,
            name_base=_title,
            summary=titles.event_use,
            doc=f"{_title}(ev)",
        )
    )
_add(
    NodeKind(
        "slot.set",
        "slot_set_u64",
        "Slots",
        [EXEC_IN, EXEC_OUT],
        [PropSpec("slot", "int", 0), PropSpec("value", "expr", "0")],
        allowed_in=W,
        name_base="slot_set",
        doc="slot_set_u64(slot, value)",
    )
)
_add(
    NodeKind(
        "slot.load",
        "slot_load_u64",
        "Slots",
        [EXEC_IN, _in("tensor", "tensor"), EXEC_OUT],
        [
            PropSpec("slot", "int", 0),
            PropSpec("index", "exprlist", "", doc="tensor view index, e.g. 'b'", optional=True),
            PropSpec("row", "expr", "0"),
            PropSpec("col", "expr", "0"),
        ],
        allowed_in=W,
        name_base="slot_load",
        doc="slot_load_u64(slot, tensor[index], row, col)",
    )
)
REDUCE_OPS = ("sum", "prod", "max", "min")
WINDOW_UNITS = ("tasks",)
WINDOW_MODES = ("stall", "abort", "benchmark")
DEPS_MODES = ("default", "infer", "infer_bounding", "explicit")
READY_POLICIES = ("default", "fifo", "lifo", "priority")
START_POLICIES = ("default", "eager", "threshold")
TRACE_POLICIES = ("default", "full", "none")
_LAYOUT_PROPS = {
    "relayout": [
        PropSpec(
            "dist",
            "dist",
            ["R"],
            doc="target distribution per dimension: R (replicate) or S<i> (shard on mesh axis i)",
        )
    ],
    "allreduce": [PropSpec("op", "enum", "sum", REDUCE_OPS)],
    "allgather": [PropSpec("dim", "int", 0)],
    "reduce_scatter": [
        PropSpec("dim", "int", 0, doc="the replicated dimension the result is scattered along"),
        PropSpec("op", "enum", "sum", REDUCE_OPS),
        PropSpec("mesh_axis", "int", 0, doc="the mesh axis that holds the partials"),
        PropSpec(
            "mesh_size",
            "int",
            2,
            doc="coordinates of that mesh axis (the result's extent depends on it); compile "
            "checks it against the spatial_map grid",
        ),
    ],
}
for _lop, _props in _LAYOUT_PROPS.items():
    _add(
        NodeKind(
            f"layout.{_lop}",
            _lop,
            "Layout",
            [EXEC_IN, _in("tensor", "tensor"), EXEC_OUT, _out("tensor", "tensor")],
            _props,
            allowed_in=W,
            name_base="y",
            summary=titles.layout_op,
            doc=f"y = {_lop}(x, ...)",
        )
    )

# -- schedule, program ----------------------------------------------------------------------------
_SCHED = {
    "dispatch": [
        PropSpec(
            "policy",
            "enum",
            "round_robin",
            ("round_robin", "affinity", "hash", "dispatch_by", "work_steal"),
        ),
        PropSpec("n", "int", 4, doc="workers for round_robin"),
        PropSpec(
            "key",
            "expr",
            "",
            doc='key over the task t, e.g. t.get("batch") (affinity/hash/dispatch_by)',
            optional=True,
        ),
    ],
    "streams": [PropSpec("n", "int", 2)],
    "stream_by": [PropSpec("key", "expr", 't.get("i")')],
    "timing": [
        PropSpec(
            "policy", "enum", "immediate", ("immediate", "batched", "interleaved", "rate_limit")
        ),
        PropSpec("param", "number", 1, doc="n / streams / tasks_per_ms"),
    ],
    "task_graph": [
        PropSpec("window", "int", 0, doc="tasks in flight (TaskWindow size); 0 = no window"),
        PropSpec("unit", "enum", "tasks", WINDOW_UNITS, doc="what the window counts"),
        PropSpec(
            "mode",
            "enum",
            "stall",
            WINDOW_MODES,
            doc="when the window is full: stall (wait), abort (error), benchmark (count only)",
        ),
        PropSpec(
            "deps",
            "enum",
            "default",
            DEPS_MODES,
            doc="dependencies: infer (exact regions), infer_bounding (bounding ranges), "
            "explicit (structure only); default = infer",
        ),
        PropSpec(
            "ready",
            "enum",
            "default",
            READY_POLICIES,
            doc="order a worker takes its ready tasks; default = issue order",
        ),
        PropSpec(
            "ready_key",
            "expr",
            "",
            doc='priority key over the task t, e.g. t.get("k") (smallest first; ready=priority)',
            optional=True,
        ),
        PropSpec(
            "start",
            "enum",
            "default",
            START_POLICIES,
            doc="when execution starts: eager, or after threshold tasks were issued",
        ),
        PropSpec(
            "threshold", "int", 8, doc="tasks issued before the first starts (start=threshold)"
        ),
        PropSpec(
            "trace",
            "enum",
            "default",
            TRACE_POLICIES,
            doc="full: a record per task; none: stats only",
        ),
        PropSpec(
            "pools",
            "pools",
            [],
            doc="worker pools: kernel -> workers (Pools.by_kernel); other kernels run anywhere",
        ),
    ],
    "spatial_map": [PropSpec("grid", "shape", [1, 1])],
}
_SCHED_SUMMARY = {
    "dispatch": titles.dispatch,
    "streams": titles.streams,
    "stream_by": titles.stream_by,
    "timing": titles.timing,
    "task_graph": titles.schedule_changes,
    "spatial_map": titles.schedule_changes,
}
"""Each schedule op's title function (its key parameters, e.g. ``dispatch affinity(b)``)."""
for _sop, _props in _SCHED.items():
    _add(
        NodeKind(
            f"sched.{_sop}",
            _sop,
            "Schedule",
            [_in("workload", "workload"), _out("workload", "workload")],
            _props,
            name_base="sched",
            summary=_SCHED_SUMMARY[_sop],
            doc=f"workload.{_sop}(...)",
            sweep_default="n" if _sop == "dispatch" else "",
        )
    )
_add(
    NodeKind(
        "compile.target",
        "compile",
        "Program",
        [_in("workload", "workload")],
        [PropSpec("target", "enum", "cpu_sim", ("cpu_sim", "ascend_npu"))],
        name_base="program",
        summary=titles.program,
        doc="program = workload.compile(target=...); the runner block.",
    )
)

SCOPE_KINDS = frozenset(k for k, v in KINDS.items() if v.scope)
DYNAMIC_KINDS = frozenset({"kernel.call", "kernel.param", "scope.entry", "data.get"})
"""Kinds whose ports depend on the document (see ``ports_of``)."""
LOOP_VAR_PROP = {
    "loop.parallel": "vars",
    "loop.seq": "var",
    "loop.sel": "var",
    "csp.consume": "var",
}
"""Scope kinds that bind variables, and the property naming them."""


REFERENCE_PROPS: dict[str, dict[str, str | None]] = {
    "kernel.call": {"kernel": None},
    "loop.parallel": {"axes": "axis"},
    "loop.seq": {"axis": None},
    "loop.sel": {"axis": None},
    "csp.send": {"channel": None},
    "csp.consume": {"channel": None},
    "csp.close": {"channel": None},
    "event.record": {"event": None},
    "event.synchronize": {"event": None},
    "workload.instance": {"workload": None},
}


def reference_props(kind_id: str) -> dict[str, str | None]:
    """The properties of ``kind_id`` that hold node ids (format v2): name -> None for a plain
    id, or the key of the id inside each entry of a list (``axes: [{var, axis}]`` -> "axis")."""
    return REFERENCE_PROPS.get(kind_id, {})


# ------------------------------------------------------------------------------------------
# lookups
# ------------------------------------------------------------------------------------------
class UnknownKind(KeyError):
    """A kind id that is not in ``KINDS``."""

    def __str__(self) -> str:
        return str(self.args[0])


def kind(kind_id: str) -> NodeKind:
    """The ``NodeKind`` for ``kind_id``; ``UnknownKind`` naming it otherwise."""
    try:
        return KINDS[kind_id]
    except KeyError:
        raise UnknownKind(f"unknown node kind {kind_id!r}") from None


def names_a_variable(kind_id: str) -> bool:
    """Whether a node of this kind is a variable of the exported script, named by its name
    (so the name must pass ``pytext.identifier_problem``): named root nodes and collectives."""
    k = KINDS.get(kind_id)
    if k is None or not k.name_base:
        return False
    return "root" in k.allowed_in or kind_id.startswith("layout.")


def display_name(kind_id: str) -> str:
    """What users call kind ``kind_id`` (its title, e.g. "Tensor"); the id itself if unknown.

    Every user-facing message names a kind this way, never by its id (``data.tensor``).
    """
    known = KINDS.get(kind_id)
    return known.title if known is not None else kind_id


def node_label(node: Node) -> str:
    """What a message calls ``node``: its name, else its kind's display name (never an id)."""
    return node.name or display_name(node.kind)


def categories() -> list[tuple[str, list[NodeKind]]]:
    """Palette categories in palette order with their kinds (internal kinds left out)."""
    grouped: dict[str, list[NodeKind]] = {c: [] for c in CATEGORY_ORDER}
    for k in KINDS.values():
        if k.in_palette:
            grouped.setdefault(k.category, []).append(k)
    return [(c, ks) for c, ks in grouped.items() if ks]


def scope_of_graph(doc: Document, graph: Graph) -> str:
    """``root`` for the project graph, else the body scope of the owning node."""
    owner = doc.owner_of(graph)
    return scope_of_owner(owner)


def scope_of_owner(owner: Node | None) -> str:
    if owner is None:
        return "root"
    k = KINDS.get(owner.kind)
    return k.body_scope if k is not None else "workload"


def bound_vars(node: Node) -> list[str]:
    """Variables a scope node binds for its body (``b, h`` of a parallel loop)."""
    prop = LOOP_VAR_PROP.get(node.kind)
    if prop is None:
        return []
    value = node.props.get(prop, "")
    return exprs.split_names(value) if isinstance(value, str) else []


# ------------------------------------------------------------------------------------------
# dynamic ports
# ------------------------------------------------------------------------------------------
def kernel_params(kernel_node: Node) -> list[dict[str, Any]]:
    """The well-formed entries of a ``kernel.def``'s params property."""
    params = kernel_node.props.get("params", [])
    if not isinstance(params, list):
        return []
    return [p for p in params if isinstance(p, dict) and isinstance(p.get("name"), str)]


def param_port_type(param: dict[str, Any]) -> str:
    return "scalar" if param.get("kind") == "scalar" else "tensor"


def root_targets(doc: Document) -> dict[str, Node]:
    """Root nodes a ``data.get`` may name: every root node with a data output, by name."""
    out: dict[str, Node] = {}
    for n in doc.graph.nodes.values():
        if n.name and n.kind in KINDS and _data_out_type(n) is not None:
            out.setdefault(n.name, n)
    return out


def _data_out_type(node: Node) -> str | None:
    """The type of a root node's data output (``tensor`` for a tensor...), if it has one."""
    for p in KINDS[node.kind].ports:
        if p.direction == "out" and p.type not in ("exec", "value"):
            return p.type
    return None


def get_target(node: Node, doc: Document, targets: dict[str, Node] | None = None) -> Node | None:
    """The root node a ``data.get`` refers to (by name), or None when it names nothing."""
    target = node.props.get("target")
    if not isinstance(target, str) or not target:
        return None
    if targets is not None:
        return targets.get(target)
    found = doc.graph.nodes.values()
    for n in found:
        if n.name == target and n.kind in KINDS and _data_out_type(n) is not None:
            return n
    return None


def source_node(edge_src: PortRef, graph: Graph, doc: Document) -> Node | None:
    """The node an edge comes from, looking through ``data.get`` to the root node it names."""
    src = graph.nodes.get(edge_src.node)
    if src is not None and src.kind == "data.get":
        return get_target(src, doc)
    return src


def resolve_kernel(call: Node, graph: Graph, doc: Document) -> Node | None:
    """The ``kernel.def`` wired (directly or through a ``data.get``) into a call's ``kernel``."""
    for e in graph.edges:
        if e.dst.node == call.id and e.dst.port == "kernel":
            src = source_node(e.src, graph, doc)
            if src is not None and src.kind == "kernel.def":
                return src
    return None


def ports_of(node: Node, doc: Document, graph: Graph | None = None) -> list[PortSpec]:
    """All ports of ``node``, static and dynamic (kernel calls and params, entries, gets)."""
    k = KINDS.get(node.kind)
    if k is None:
        return []
    if node.kind not in DYNAMIC_KINDS:
        return list(k.ports)
    found = doc.locate(node.id)
    holder, owner = (found[1], found[2]) if found is not None else (graph or doc.graph, None)
    return dynamic_ports(node, holder, owner, doc)


def dynamic_ports(node: Node, graph: Graph, owner: Node | None, doc: Document) -> list[PortSpec]:
    """Ports of ``node`` living in ``graph`` whose owning scope node is ``owner``."""
    k = KINDS[node.kind]
    if node.kind == "kernel.call":
        ports = list(k.ports)
        kern = resolve_kernel(node, graph, doc)
        if kern is not None:
            taken = {p.name for p in ports}
            params = [_in(p["name"], param_port_type(p)) for p in kernel_params(kern)]
            ports[2:2] = [p for p in params if p.name not in taken]
        return ports
    if node.kind == "kernel.param":
        ports = []
        param = _param_of(node, owner)
        direction = param.get("direction", "In") if param else "In"
        if direction in ("In", "InOut"):
            ports.append(_out("tile", "tile"))
        if direction in ("Out", "InOut"):
            ports.append(_in("value", "tile", optional=True))
        return ports
    if node.kind == "data.get":
        target = get_target(node, doc)
        type_ = _data_out_type(target) if target is not None else None
        return [_out("out", type_ or "value")]
    if node.kind == "scope.entry":
        ports = [EXEC_OUT]
        if owner is not None:
            ports += [_out(v, "scalar") for v in bound_vars(owner) if v != "exec"]
        return ports
    return list(k.ports)


def _param_of(param_node: Node, owner: Node | None) -> dict[str, Any] | None:
    if owner is None or owner.kind != "kernel.def":
        return None
    for p in kernel_params(owner):
        if p["name"] == param_node.props.get("param"):
            return p
    return None


def find_port(ports: Iterable[PortSpec], name: str, direction: str) -> PortSpec | None:
    for p in ports:
        if p.name == name and p.direction == direction:
            return p
    return None


def types_compatible(src_type: str, dst_type: str, scope: str) -> bool:
    """An out of ``src_type`` may feed an in of ``dst_type`` (in a graph of ``scope``)."""
    if src_type == dst_type:
        return True
    if dst_type == "tile" and src_type in ("tensor", "scalar") and scope == "kernel":
        return True
    if dst_type == "value" and src_type != "exec":
        return True
    return False


# ------------------------------------------------------------------------------------------
# connection rules
# ------------------------------------------------------------------------------------------
def can_connect(doc: Document, src: PortRef, dst: PortRef) -> tuple[bool, str]:
    """Whether an edge ``src -> dst`` may be added; ``(False, reason)`` says why not."""
    found_src = doc.locate(src.node)
    found_dst = doc.locate(dst.node)
    if found_src is None:
        return False, f"no node {src.node!r}"
    if found_dst is None:
        return False, f"no node {dst.node!r}"
    s_node, s_graph, s_owner = found_src
    d_node, d_graph, d_owner = found_dst
    if s_graph is not d_graph:
        return False, (
            f"{s_node.name or s_node.id} and {d_node.name or d_node.id} are in different "
            "scopes; edges connect nodes of the same graph"
        )
    if src.node == dst.node:
        return False, "a node cannot connect to itself"
    s_port = find_port(dynamic_or_static(s_node, s_graph, s_owner, doc), src.port, "out")
    if s_port is None:
        return False, f"{display_name(s_node.kind)} {s_node.id} has no output port {src.port!r}"
    d_port = find_port(dynamic_or_static(d_node, d_graph, d_owner, doc), dst.port, "in")
    if d_port is None:
        return False, f"{display_name(d_node.kind)} {d_node.id} has no input port {dst.port!r}"
    scope = scope_of_owner(s_owner)
    if not types_compatible(s_port.type, d_port.type, scope):
        return False, (
            f"type mismatch: {node_label(s_node)} ({s_port.type}) cannot feed the "
            f"{d_port.type} port {dst.port!r} of {node_label(d_node)}"
        )
    graph = s_graph
    for e in graph.edges:
        if e.src == src and e.dst == dst:
            return False, "these ports are already connected"
    if not d_port.multi and any(e.dst == dst for e in graph.edges):
        return False, f"input {dst.port!r} of {d_node.name or d_node.id} is already connected"
    if s_port.type == "exec" and any(e.src == src for e in graph.edges):
        return False, f"exec output of {s_node.name or s_node.id} is already connected"
    if _reaches(graph, dst.node, src.node):
        return False, "this connection would create a cycle"
    return True, ""


def dynamic_or_static(node: Node, graph: Graph, owner: Node | None, doc: Document) -> list[PortSpec]:  # fmt: skip
    k = KINDS.get(node.kind)
    if k is None:
        return []
    if node.kind in DYNAMIC_KINDS:
        return dynamic_ports(node, graph, owner, doc)
    return list(k.ports)


def _reaches(graph: Graph, start: str, goal: str) -> bool:
    """Whether ``goal`` is reachable from ``start`` along edges of ``graph``."""
    succ: dict[str, list[str]] = {}
    for e in graph.edges:
        succ.setdefault(e.src.node, []).append(e.dst.node)
    seen = {start}
    stack = [start]
    while stack:
        n = stack.pop()
        if n == goal:
            return True
        for m in succ.get(n, ()):
            if m not in seen:
                seen.add(m)
                stack.append(m)
    return False


# ------------------------------------------------------------------------------------------
# property checks
# ------------------------------------------------------------------------------------------
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def prop_problem(spec: PropSpec, value: Any) -> str | None:
    """Why ``value`` is not a valid value for ``spec`` (None when it is). Never evaluates."""
    t = spec.type
    for _where, problem in bounds.value_problems(value):
        return problem  # NUL, lone surrogates, NaN, infinities: nothing can store them
    if t in ("str", "code"):
        return None if isinstance(value, str) else "expected a string"
    if t == "int":
        if not _is_int(value):
            return "expected an integer"
        return None if _INT_MIN <= value <= _INT_MAX else "exceeds the 64-bit integer range"
    if t == "float":
        return None if _is_int(value) or isinstance(value, float) else "expected a number"
    if t == "number":
        ok = isinstance(value, int | float)  # bool is an int: constant(True, bool) is legal
        if ok and not isinstance(value, float) and not _INT_MIN <= value <= _INT_MAX:
            return "exceeds the 64-bit integer range"
        return None if ok else "expected a number"
    if t == "bool":
        return None if isinstance(value, bool) else "expected true or false"
    if t == "enum":
        if value not in (spec.choices or ()):
            return f"expected one of {', '.join(spec.choices or ())}, got {value!r}"
        return None
    if t == "dtype":
        if value not in DTYPES:
            return f"expected a dtype ({', '.join(DTYPES)}), got {value!r}"
        return None
    if t == "shape":
        if not isinstance(value, list) or not all(_is_int(d) for d in value):
            return "expected a list of ints"
        if not value or any(d < 1 for d in value):
            return "expected a non-empty list of positive ints"
        return bounds.shape_problem(value)
    if t == "strlist":
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            return "expected a list of strings"
        return None
    if t in ("expr", "exprlist"):
        if not isinstance(value, str):
            return "expected an expression string"
        if not value.strip():
            return None if spec.optional else "expression is empty"
        problems, _ = exprs.check(value)
        return problems[0] if problems else None
    if t == "exprmap":
        if not isinstance(value, dict):
            return "expected a mapping of names to expressions"
        for key, text in value.items():
            if not isinstance(key, str) or not isinstance(text, str):
                return "expected a mapping of names to expression strings"
            if text.strip():
                problems, _ = exprs.check_index(text)  # an index: slices are allowed
                if problems:
                    return f"{key}: {problems[0]}"
        return None
    if t == "names":
        if not isinstance(value, str):
            return "expected a comma-separated list of names"
        parts = [p.strip() for p in value.split(",")]
        if not value.strip() or any(not exprs.is_identifier(p) for p in parts):
            return f"expected identifiers separated by commas, got {value!r}"
        if len(set(parts)) != len(parts):
            return f"duplicate names in {value!r}"
        return None
    if t == "params":
        return _params_problem(value)
    if t == "dist":
        return _dist_problem(value, spec.optional)
    if t == "pools":
        return _pools_problem(value)
    return f"unknown property type {t!r}"


def _dist_problem(value: Any, optional: bool) -> str | None:
    """A distribution: one ``"R"`` / ``"S<mesh axis>"`` per dimension, each mesh axis once."""
    ok = isinstance(value, list) and all(
        isinstance(d, str) and (d == "R" or re.fullmatch(r"S\d+", d)) for d in value
    )
    if not ok or (not value and not optional):
        what = "a list" if optional else "a non-empty list"
        return f"expected {what} of 'R' or 'S<mesh axis>' entries"
    axes = [d for d in value if d != "R"]
    for d in axes:
        if axes.count(d) > 1:
            return (
                f"mesh axis {d[1:]} shards two dimensions; a mesh axis can shard at most one "
                "dimension"
            )
    return None


def _pools_problem(value: Any) -> str | None:
    """``[{kernel, workers}, ...]``: each kernel (a kernel.def name) once, workers >= 1."""
    if not isinstance(value, list):
        return "expected a list of {kernel, workers} entries"
    seen: set[str] = set()
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or set(entry) != {"kernel", "workers"}:
            return f"[{i}]: expected an entry with exactly the fields kernel and workers"
        name = entry["kernel"]
        if not isinstance(name, str) or not exprs.is_identifier(name):
            return f"[{i}].kernel: expected a kernel name, got {name!r}"
        if name in seen:
            return f"[{i}].kernel: kernel {name!r} has two pools"
        seen.add(name)
        if not _is_int(entry["workers"]) or entry["workers"] < 1:
            return f"[{i}].workers: expected an integer >= 1, got {entry['workers']!r}"
    return None


def prop_applies(node: Node, name: str) -> bool:
    """Whether property ``name`` of ``node`` means anything under the node's other choices.

    The editor disables the ones that do not (a priority key while ready is not priority); the
    exporter ignores them. Properties of other kinds always apply.
    """
    p = node.props
    if node.kind == "sched.task_graph":
        if name in ("unit", "mode"):
            return _is_int(p.get("window")) and p["window"] > 0
        if name == "ready_key":
            return p.get("ready") == "priority"
        if name == "threshold":
            return p.get("start") == "threshold"
    if node.kind == "sched.dispatch":
        if name == "n":
            return p.get("policy") == "round_robin"
        if name == "key":
            return p.get("policy") in ("affinity", "hash", "dispatch_by")
    if node.kind == "sched.timing" and name == "param":
        return p.get("policy") != "immediate"
    return True


def node_prop_problem(node: Node, name: str, value: Any) -> str | None:
    """``prop_problem`` plus the checks that need the node's other properties.

    A tensor's layout has one entry per dimension of its shape (or none: the default).
    """
    problem = prop_problem(kind(node.kind).prop(name), value)
    if problem is not None:
        return problem
    if node.kind == "data.tensor" and name == "layout" and value:
        shape = node.props.get("shape")
        if isinstance(shape, list) and len(value) != len(shape):
            return (
                f"the layout has {len(value)} entries but the tensor has rank {len(shape)} "
                f"(shape {shape}); give one R or S<i> per dimension"
            )
    return None


def _params_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "expected a list of parameters"
    seen: set[str] = set()
    for i, p in enumerate(value):
        if not isinstance(p, dict):
            return f"[{i}]: expected a parameter object"
        name = p.get("name")
        if name in ("exec", "kernel", "value"):
            return f"[{i}].name: {name!r} is reserved (a port of kernel calls)"
        if not isinstance(name, str) or not exprs.is_identifier(name):
            return f"[{i}].name: expected an identifier, got {name!r:.60}"
        if name in seen:
            return f"[{i}].name: duplicate parameter {name!r}"
        seen.add(name)
        if p.get("direction", "In") not in DIRECTIONS:
            return f"[{i}].direction: expected one of {', '.join(DIRECTIONS)}"
        kind = p.get("kind", "tensor")
        if kind not in PARAM_KINDS:
            return f"[{i}].kind: expected one of {', '.join(PARAM_KINDS)}"
        for field in PARAM_DEFAULTS:
            if field in p and field not in PARAM_FIELDS[kind]:
                return f"[{i}].{field}: a {kind} parameter has no {field}" + (
                    "; choose kind tile for a Tile[rows, cols, dtype]" if kind == "tensor" else ""
                )
        for dim in ("rows", "cols"):
            if dim in p and (not _is_int(p[dim]) or p[dim] < 1):
                return f"[{i}].{dim}: expected a positive integer"
        if "dtype" in p and p["dtype"] not in DTYPES:
            return f"[{i}].dtype: expected a dtype ({', '.join(DTYPES)})"
        extra = set(p) - {"name", "direction", "kind", "rows", "cols", "dtype"}
        if extra:
            return f"[{i}]: unknown field {sorted(extra)[0]!r}"
    return None


def normalize_param(p: dict[str, Any]) -> dict[str, Any]:
    """A parameter with exactly the fields its kind carries (``PARAM_FIELDS``), defaults filled
    in (In tensor; a tile 16x16 f32, a scalar f32). Fields the kind has not are dropped."""
    kind = p.get("kind", "tensor")
    out = {"name": p["name"], "direction": p.get("direction", "In"), "kind": kind}
    for field in PARAM_FIELDS.get(kind, ()):
        out[field] = p.get(field, PARAM_DEFAULTS[field])
    return out


def migrate_param(p: Any) -> Any:
    """A kernel parameter as written before tile shapes were checked, in today's terms.

    Earlier files gave every parameter rows, cols and dtype, and a ``tensor`` parameter
    exported as an unshaped ``In[Tensor]`` that never looked at them, although the Studio showed
    them as its shape. A ``tensor`` parameter that carries rows or cols becomes the ``tile``
    parameter it was shown as (``Tile[rows, cols, dtype]``, checked at every call), so the file
    now says what runs; fields a kind does not carry are dropped (a scalar's rows and cols).
    Anything malformed is returned as it is, for the params check to report.
    """
    if not isinstance(p, dict) or p.get("kind", "tensor") not in PARAM_KINDS:
        return p
    q = dict(p)
    if q.get("kind", "tensor") == "tensor" and ("rows" in q or "cols" in q):
        q["kind"] = "tile"
    for field in PARAM_DEFAULTS:
        if field not in PARAM_FIELDS[q.get("kind", "tensor")]:
            q.pop(field, None)
    return q


def migrate_props(kind_id: str, props: dict[str, Any]) -> dict[str, Any]:
    """A node's properties as read from a file, in today's terms (``migrate_param``): applied
    on every load, so older files and clipboard fragments open with the meaning they showed."""
    params = props.get("params")
    if kind_id == "kernel.def" and isinstance(params, list):
        return {**props, "params": [migrate_param(p) for p in params]}
    return props


# ------------------------------------------------------------------------------------------
# node creation and kernel parameter sync
# ------------------------------------------------------------------------------------------
class IdAllocator:
    """Hands out fresh node ids ``n<k>`` for a document, also for nodes not inserted yet."""

    def __init__(self, doc: Document, prefix: str = "n"):
        self.prefix = prefix
        best = 0
        for ident in doc.all_ids():
            tail = ident[len(prefix) :]
            if ident.startswith(prefix) and tail.isdigit():
                best = max(best, int(tail))
        self._next = best + 1

    def __call__(self) -> str:
        ident = f"{self.prefix}{self._next}"
        self._next += 1
        return ident


_TRAILING_NUMBER = re.compile(r"^(?P<stem>.*?\D)(?P<number>\d+)$")


def free_name(base: str, used: Container[str]) -> str:
    """``base`` if unused, else the next free numbered variant of it.

    A trailing number is the counter, not part of the name: ``Q2`` taken gives ``Q3`` (not
    ``Q22``), ``sched`` taken gives ``sched2``. The one rule for every name made unique
    (new nodes, duplicates, pastes, imported scripts).
    """
    if base not in used:
        return base
    m = _TRAILING_NUMBER.match(base)
    stem, k = (m.group("stem"), int(m.group("number")) + 1) if m else (base, 2)
    while f"{stem}{k}" in used:
        k += 1
    return f"{stem}{k}"


def unique_name(doc: Document, base: str, extra: Iterable[str] = ()) -> str:
    """``base`` or its next free numbered variant (``free_name``) among ``doc``'s node names."""
    used = {n.name for n, _g, _o in doc.walk()} | set(extra) | pytext.RESERVED_NAMES
    return free_name(base, used)


def new_node(
    kind_id: str,
    doc: Document,
    pos: tuple[float, float] = (0.0, 0.0),
    *,
    ids: IdAllocator | None = None,
    name: str | None = None,
    **props: Any,
) -> Node:
    """A new (not yet inserted) node with defaults, a fresh id and a unique default name.

    Unknown property names raise ``KeyError`` naming them: a silently dropped option is a bug.
    Scope kinds get a body with their ``scope.entry`` (and a ``kernel.param`` per parameter).
    """
    k = kind(kind_id)
    known = {p.name for p in k.props}
    unknown = sorted(set(props) - known)
    if unknown:
        raise KeyError(f"node kind {kind_id!r} has no property {unknown[0]!r}")
    alloc = ids or IdAllocator(doc)
    values = k.defaults()
    values.update(props)
    if name is None:
        name = unique_name(doc, k.name_base) if k.name_base else ""
    node = Node(alloc(), kind_id, name, (float(pos[0]), float(pos[1])), values)
    if k.scope:
        node.body = Graph()
        entry = Node(alloc(), "scope.entry", "entry", (0.0, 0.0), {})
        node.body.nodes[entry.id] = entry
        if kind_id == "kernel.def":
            sync_kernel_params(doc, node, ids=alloc)
    return node


def sync_kernel_params(doc: Document, node: Node, ids: IdAllocator | None = None) -> None:
    """Make a ``kernel.def`` body hold exactly one ``kernel.param`` per parameter.

    Parameter nodes whose parameter disappeared are removed with their edges; missing ones are
    added in a column left of the body. Existing nodes (and their wiring) are kept.
    """
    if node.kind != "kernel.def":
        raise ValueError(f"sync_kernel_params needs a kernel.def node, got {node.kind}")
    if node.body is None:
        node.body = Graph()
    body = node.body
    if not any(n.kind == "scope.entry" for n in body.nodes.values()):
        alloc = ids or IdAllocator(doc)
        entry = Node(alloc(), "scope.entry", "entry", (0.0, 0.0), {})
        body.nodes[entry.id] = entry
    wanted = [p["name"] for p in kernel_params(node)]
    present: dict[str, str] = {}
    for n in list(body.nodes.values()):
        if n.kind != "kernel.param":
            continue
        pname = n.props.get("param")
        if pname not in wanted or pname in present:
            del body.nodes[n.id]
            body.edges = [e for e in body.edges if n.id not in (e.src.node, e.dst.node)]
        else:
            present[pname] = n.id
    alloc = ids or IdAllocator(doc)
    for i, pname in enumerate(wanted):
        if pname in present:
            continue
        p = Node(alloc(), "kernel.param", pname, (-300.0, 120.0 * (i + 1)), {"param": pname})
        body.nodes[p.id] = p
    # dynamic ports may have changed: drop edges into/out of ports that no longer exist
    for n in body.nodes.values():
        if n.kind == "kernel.param":
            ports = dynamic_ports(n, body, node, doc)
            body.edges = [e for e in body.edges if _edge_port_ok(e, n.id, ports)]


def _edge_port_ok(e: Edge, node_id: str, ports: list[PortSpec]) -> bool:
    if e.src.node == node_id and find_port(ports, e.src.port, "out") is None:
        return False
    if e.dst.node == node_id and find_port(ports, e.dst.port, "in") is None:
        return False
    return True


__all__ = [
    "PORT_TYPES",
    "PROP_TYPES",
    "SCOPES",
    "DTYPES",
    "DIRECTIONS",
    "PARAM_KINDS",
    "TILE_OPS",
    "PortSpec",
    "PropSpec",
    "NodeKind",
    "KINDS",
    "SCOPE_KINDS",
    "UnknownKind",
    "kind",
    "categories",
    "scope_of_graph",
    "scope_of_owner",
    "bound_vars",
    "kernel_params",
    "resolve_kernel",
    "root_targets",
    "get_target",
    "source_node",
    "DYNAMIC_KINDS",
    "ports_of",
    "dynamic_ports",
    "find_port",
    "types_compatible",
    "can_connect",
    "prop_problem",
    "prop_applies",
    "node_prop_problem",
    "normalize_param",
    "migrate_param",
    "migrate_props",
    "PARAM_FIELDS",
    "PARAM_DEFAULTS",
    "IdAllocator",
    "names_a_variable",
    "display_name",
    "node_label",
    "free_name",
    "unique_name",
    "new_node",
    "sync_kernel_params",
]
