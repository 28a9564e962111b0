"""The schedule sheet: what a program frame (a top-level ``workload.def``, ``compose.*`` or
``csp.connect``) sets on its workload before compiling it.

Format v1 spelled each step as a node of a chain (``sched.dispatch`` -> ``sched.streams`` ->
... -> ``compile.target``). ``_SCHED`` keeps those steps' properties (the one place their names,
choices and docs are written); ``SHEET_PROPS`` derives the sheet from it and ``V1_SHEET`` says
which v1 property became which sheet property (``legacy_v1``, the v1 migration, uses it).
The sheet lists ``target`` first, then the steps (see ``SHEET_PROPS``).
"""

from __future__ import annotations

from dataclasses import replace

from ._base import PropSpec

WINDOW_UNITS = ("tasks",)
WINDOW_MODES = ("stall", "abort", "benchmark")
DEPS_MODES = ("default", "infer", "infer_bounding", "explicit")
READY_POLICIES = ("default", "fifo", "lifo", "priority")
START_POLICIES = ("default", "eager", "threshold")
TRACE_POLICIES = ("default", "full", "none")
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


TARGETS = ("cpu_sim", "ascend_npu")
DEFAULT_TARGET = TARGETS[0]
"""The target a program frame the user adds gets while no other program has one (commands
``AddNode`` / ``Wrap``), so a new workload runs without a trip to its sheet; files keep theirs."""
DISPATCH_POLICIES: tuple[str, ...] = _SCHED["dispatch"][0].choices or ()
TIMING_POLICIES: tuple[str, ...] = _SCHED["timing"][0].choices or ()

V1_SHEET: dict[tuple[str, str], str] = {
    ("dispatch", "policy"): "dispatch",
    ("dispatch", "n"): "dispatch_n",
    ("dispatch", "key"): "dispatch_key",
    ("streams", "n"): "streams",
    ("stream_by", "key"): "stream_by",
    ("timing", "policy"): "timing",
    ("timing", "param"): "timing_param",
    ("spatial_map", "grid"): "spatial_map",
}
"""(v1 schedule op, its property) -> the sheet property holding it. ``task_graph``'s properties
become the fields of the sheet's ``task_graph`` dict; ``compile.target``'s target is ``target``."""


def _v1(op: str, prop: str) -> PropSpec:
    return next(p for p in _SCHED[op] if p.name == prop)


def _task_key(spec: PropSpec) -> PropSpec:
    """A key over the task (an expression with a combo of the loop variables in the editor)."""
    return replace(spec, type="key", optional=True)


_TASK_GRAPH_FIELDS = tuple(
    _task_key(p) if p.name == "ready_key" else p for p in _SCHED["task_graph"]
)

SHEET_PROPS: list[PropSpec] = [
    PropSpec(
        "target",
        "enum",
        "",
        ("", *TARGETS),
        doc="compile(target=...): cpu_sim or ascend_npu; empty = not compiled (not a program)",
    ),
    replace(
        _v1("dispatch", "policy"),
        name="dispatch",
        default="",
        choices=("", *DISPATCH_POLICIES),
        doc="how tasks are dispatched to workers; empty = the runtime's default",
    ),
    replace(_v1("dispatch", "n"), name="dispatch_n"),
    _task_key(replace(_v1("dispatch", "key"), name="dispatch_key")),
    replace(_v1("streams", "n"), name="streams", default=0, doc="stream count; 0 = not set"),
    _task_key(
        replace(
            _v1("stream_by", "key"),
            name="stream_by",
            default="",
            doc='stream key over the task t, e.g. t.get("h") % 2; empty = not set',
        )
    ),
    replace(
        _v1("timing", "policy"),
        name="timing",
        default="",
        choices=("", *TIMING_POLICIES),
        doc="TimingPolicy; empty = not set",
    ),
    replace(_v1("timing", "param"), name="timing_param"),
    PropSpec(
        "task_graph",
        "dict",
        {},
        doc="task_graph(...) settings (window, deps, ready, start, trace, pools); empty = not set",
        fields=_TASK_GRAPH_FIELDS,
    ),
    replace(
        _v1("spatial_map", "grid"),
        name="spatial_map",
        default=[],
        optional=True,
        doc="spatial_map grid; empty = not set",
    ),
]
"""The schedule sheet of every program frame: ``target`` first (whether and for what the frame
is compiled, the first thing a user sets and the first its canvas title shows, so it sits at the
top of Properties rather than after a long sheet), then the steps in the DSL's order. The
exporter writes the chain in the DSL's order itself (``.compile(target=...)`` last); this order
is only the sheet's."""
SHEET_NAMES = tuple(p.name for p in SHEET_PROPS)


def sheet_prop_applies(props: dict, name: str) -> bool:
    """Whether sheet property ``name`` means anything under the sheet's other choices."""
    if name == "dispatch_n":
        return props.get("dispatch") == "round_robin"
    if name == "dispatch_key":
        return props.get("dispatch") in ("affinity", "hash", "dispatch_by")
    if name == "timing_param":
        return props.get("timing") not in ("", None, "immediate")
    return True


def task_graph_field_applies(settings: dict, name: str) -> bool:
    """Whether field ``name`` of the task_graph settings means anything under the others."""
    if name in ("unit", "mode"):
        window = settings.get("window")
        return isinstance(window, int) and not isinstance(window, bool) and window > 0
    if name == "ready_key":
        return settings.get("ready") == "priority"
    if name == "threshold":
        return settings.get("start") == "threshold"
    return True
