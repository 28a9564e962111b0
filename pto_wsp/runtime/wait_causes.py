"""The kinds of cause that can gate a task's start: the one list, in tie order.

The simulator (``cpp_backend/runtime/sim.cpp``) records for every task the bound that fixed its
start (trace fields ``cause`` and ``gate``, ``pto_wsp.runtime.trace``). A task's start is the
maximum of its bounds (region dependencies, the generated driver's static bound, the issue clock,
its stream, its worker, the start gate, data arriving over the mesh); the *gating* cause is the
bound equal to the start, and when several are equal the one that comes first in ``WAIT_CAUSES``
wins. A task that starts at cycle 0 has cause ``none``.

``gate`` is the submission index of the task whose END produced the gating bound, or ``NO_GATE``
when no task's end did (a rate limit, the dispatcher's issue cost, the start threshold, a read
of a sharded input that was never written). A channel or event wait names the producer's,
consumer's or recorder's task (docs/semantics.md, "Gates of CSP waits"). So a gate always ends at or before the gated task starts, which is what
the flow arrows and the critical path rely on.

The list is rendered into the C++ header ``pto_tables.h`` as ``PTO_WAIT_<NAME>`` macros by
``cpp_backend/codegen/templates/gen_tables.py``, which loads this file by path: it imports only
the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NO_GATE", "WAIT_CAUSES", "WaitCause", "cause_by_name"]


@dataclass(frozen=True)
class WaitCause:
    """One cause kind: its code in the trace, identifier, label for the UI and description."""

    code: int
    name: str
    label: str
    description: str


NO_GATE: int = 0xFFFFFFFF
"""``gate`` of a task whose gating bound no task's end produced (uint32 max)."""

_ROWS: tuple[tuple[str, str, str], ...] = (
    ("none", "none", "started as soon as the run began: nothing held it"),
    ("raw", "data (RAW)", "read a tensor region that an earlier task writes (read after write)"),
    ("war", "data (WAR)", "wrote a tensor region that an earlier task reads (write after read)"),
    ("waw", "data (WAW)", "wrote a tensor region that an earlier task writes (write after write)"),
    (
        "barrier",
        "sequential barrier",
        "a P.seq loop step or `sequential` child waited for the previous step's tasks to end",
    ),
    ("channel_empty", "channel empty", "waited for a producer to put an item into a channel"),
    ("channel_full", "channel full", "waited for a consumer to free a slot of a full channel"),
    ("event", "event", "waited for an event to be recorded"),
    ("worker", "worker busy", "its worker was running another task"),
    ("window", "task window", "the task window was full until an in-flight task ended"),
    ("stream", "stream order", "the previous task of its stream had not ended"),
    ("timing", "timing policy", "the timing policy (batched group, rate limit) held its issue"),
    ("issue", "issue cost", "the dispatcher's per-task issue cost (issue_cycles) delayed it"),
    ("start_policy", "start policy", "the start threshold held every task until the n-th issue"),
    ("mesh", "mesh hop", "data it reads had to travel over mesh hops from another tile"),
)

WAIT_CAUSES: tuple[WaitCause, ...] = tuple(
    WaitCause(code, name, label, doc) for code, (name, label, doc) in enumerate(_ROWS)
)
"""Every cause kind, by code (= tie order: earlier wins when two bounds are equal)."""


def cause_by_name(name: str) -> WaitCause:
    """The cause kind called ``name`` (``KeyError`` naming the known ones otherwise)."""
    for c in WAIT_CAUSES:
        if c.name == name:
            return c
    raise KeyError(f"unknown wait cause {name!r}; known: {', '.join(c.name for c in WAIT_CAUSES)}")
