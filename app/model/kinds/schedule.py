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
from typing import Any

from pto_wsp.backends import TARGETS as _BACKEND_TARGETS
from pto_wsp.compiler.cost import DEFAULT_TABLE_NAME, TABLE_LABELS, TABLE_NAMES
from pto_wsp.compiler.workers import DEFAULT_WORKERS
from pto_wsp.language.policy_kinds import (
    DepsKind,
    DispatchKind,
    ReadyKind,
    StartKind,
    TimingKind,
    TraceKind,
    WindowMode,
)
from pto_wsp.language.schedule import WINDOW_UNITS as _DSL_WINDOW_UNITS

from ._base import PropSpec

# The sheet's choices are the DSL's policy kinds (pto_wsp/language/policy_kinds.py), spelled as
# the DSL spells them; "default" is the sheet's "not set" (the runtime's choice).
NOT_SET = "default"
"""A task_graph choice that sets nothing: the runtime's own (what leaving the knob out does)."""
WINDOW_UNITS: tuple[str, ...] = tuple(_DSL_WINDOW_UNITS)
WINDOW_MODES: tuple[str, ...] = tuple(m.value for m in WindowMode)
DEPS_MODES: tuple[str, ...] = (NOT_SET, *(k.value for k in DepsKind))
READY_POLICIES: tuple[str, ...] = (
    NOT_SET,
    *(k.value for k in ReadyKind if k is not ReadyKind.IN_ORDER),  # in order is the default
)
START_POLICIES: tuple[str, ...] = (NOT_SET, *(k.value for k in StartKind))
TRACE_POLICIES: tuple[str, ...] = (NOT_SET, *(k.value for k in TraceKind))
KEYED_DISPATCH: tuple[str, ...] = (
    DispatchKind.AFFINITY.value,
    DispatchKind.HASH.value,
    DispatchKind.DISPATCH_BY.value,
)
"""Dispatch policies that take a key over the task (the others take a count or nothing)."""
SHEET_ROUND_ROBIN_WORKERS = 4
"""The ``n`` a round_robin dispatch starts with on the sheet (and what a file that leaves
``dispatch_n`` out reads as). Not the run default ``DEFAULT_WORKERS`` (1, DESIGN §2): spreading
tasks over workers is round_robin's point, and round_robin(1) spreads nothing. 4 is the count the
spec's examples give it (spec §4, ``DispatchPolicy.round_robin(4)``)."""
TIMING_COUNT_POLICIES: tuple[str, ...] = (TimingKind.BATCHED.value, TimingKind.INTERLEAVED.value)
"""Timing policies whose parameter is a count (>= 1); rate_limit takes any positive rate."""
_SCHED = {
    "dispatch": [
        PropSpec(
            "policy",
            "enum",
            DispatchKind.ROUND_ROBIN.value,
            tuple(k.value for k in DispatchKind),
        ),
        PropSpec("n", "int", SHEET_ROUND_ROBIN_WORKERS, doc="workers for round_robin"),
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
            "policy",
            "enum",
            TimingKind.IMMEDIATE.value,
            tuple(k.value for k in TimingKind),
        ),
        PropSpec("param", "number", 1, doc="n / streams / tasks_per_ms"),
    ],
    "task_graph": [
        PropSpec("window", "int", 0, doc="tasks in flight (TaskWindow size); 0 = no window"),
        PropSpec("unit", "enum", WINDOW_UNITS[0], WINDOW_UNITS, doc="what the window counts"),
        PropSpec(
            "mode",
            "enum",
            WindowMode.STALL.value,
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


TARGETS: tuple[str, ...] = _BACKEND_TARGETS
"""The compile targets a sheet offers: the registered backends (``pto_wsp.backends.TARGETS``)."""
DEFAULT_TARGET = TARGETS[0]
COST_TABLE_TARGET = "cpu_sim"
"""The target a cost table prices (the others do not simulate cycles)."""
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
TASK_GRAPH_DEFAULTS: dict[str, Any] = {f.name: f.default for f in _TASK_GRAPH_FIELDS}
"""Each task_graph field's default, in the sheet's order: what a field left out of a file means
(the exporter, the summaries and the checks read a missing field as this)."""

SHEET_PROPS: list[PropSpec] = [
    PropSpec(
        "target",
        "enum",
        "",
        ("", *TARGETS),
        doc="compile(target=...): cpu_sim or ascend_npu; empty = not compiled (not a program)",
    ),
    PropSpec(
        "cost_table",
        "enum",
        DEFAULT_TABLE_NAME,
        TABLE_NAMES,
        doc="the cycle model of cpu_sim runs: pto_wsp's r x c rates, or PTO-ISA's A2/A3 "
        "formula cost model (reads the PTO-ISA checkout named by PTO_ISA_ROOT)",
        labels=tuple(TABLE_LABELS[n] for n in TABLE_NAMES),
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
    PropSpec(
        "dispatch_aicpus",
        "int",
        0,
        doc="num_aicpus of affinity/hash/dispatch_by: their worker count; 0 = the streams' "
        f"count, else {DEFAULT_WORKERS}",
    ),
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
top of Properties rather than after a long sheet) and the cost table its runs are priced by,
then the steps in the DSL's order. The
exporter writes the chain in the DSL's order itself (``.compile(target=...)`` last); this order
is only the sheet's."""
SHEET_NAMES = tuple(p.name for p in SHEET_PROPS)


def sheet_prop_applies(props: dict, name: str) -> bool:
    """Whether sheet property ``name`` means anything under the sheet's other choices."""
    if name == "dispatch_n":
        return props.get("dispatch") == DispatchKind.ROUND_ROBIN
    if name in ("dispatch_key", "dispatch_aicpus"):
        return props.get("dispatch") in KEYED_DISPATCH
    if name == "cost_table":
        return props.get("target") == COST_TABLE_TARGET
    if name == "timing_param":
        return props.get("timing") not in ("", None, TimingKind.IMMEDIATE)
    return True


def cost_table_label(props: dict) -> str:
    """What titles and run summaries say about the sheet's cost table: its label when it applies
    and is not the default (``"PTO-ISA A2/A3"``), else ``""``."""
    name = props.get("cost_table") or DEFAULT_TABLE_NAME
    if not isinstance(name, str):  # a broken file: the validator reports the value
        return ""
    if name == DEFAULT_TABLE_NAME or not sheet_prop_applies(props, "cost_table"):
        return ""
    return TABLE_LABELS.get(name, name)


def task_graph_field_applies(settings: dict, name: str) -> bool:
    """Whether field ``name`` of the task_graph settings means anything under the others."""
    if name in ("unit", "mode"):
        window = settings.get("window")
        return isinstance(window, int) and not isinstance(window, bool) and window > 0
    if name == "ready_key":
        return settings.get("ready") == ReadyKind.PRIORITY
    if name == "threshold":
        return settings.get("start") == StartKind.THRESHOLD
    return True
