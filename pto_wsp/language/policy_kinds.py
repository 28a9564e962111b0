"""The kinds of the schedule policies: one enum per policy, the only list of its members.

A policy object of ``schedule.py`` (``DispatchPolicy.hash(...)``, ``StartPolicy.threshold(8)``)
carries its kind as a member of these enums and its parameters as typed fields; lowering copies
both onto the IR schedule unchanged. The C++ IR receives the members themselves as its enums
(cpp_backend/bindings/policy_casters.h): member i here is enumerator i of the C++ enum of the
same role (cpp_backend/ir/types.h), checked once when C++ first converts one, so the order
below is part of the contract. The values are the DSL's (and the IR printer's) spellings: a
``StrEnum`` member compares equal to its spelling, so ``policy.kind == "hash"`` keeps working for
display code, but nothing parses a spelling back into a kind.

This module imports nothing of pto_wsp, so the compiled extension may import it.
"""

from __future__ import annotations

from enum import Enum, StrEnum

__all__ = [
    "DepsKind",
    "DispatchKind",
    "ReadyKind",
    "StartKind",
    "TimingKind",
    "TraceKind",
    "WindowMode",
]


class DispatchKind(StrEnum):
    """Which worker runs a task (``DispatchPolicy``)."""

    ROUND_ROBIN = "round_robin"
    AFFINITY = "affinity"
    HASH = "hash"
    DISPATCH_BY = "dispatch_by"
    WORK_STEAL = "work_steal"


class TimingKind(StrEnum):
    """When a ready task is issued (``TimingPolicy``)."""

    IMMEDIATE = "immediate"
    BATCHED = "batched"
    INTERLEAVED = "interleaved"
    RATE_LIMIT = "rate_limit"


class WindowMode(Enum):
    """What happens when the task window is full.

    STALL: issuing waits until the oldest in-flight task ends. ABORT: the run stops with an
    ``ExecutionError`` naming the window. BENCHMARK: nothing waits; the run reports how many
    issues would have stalled.
    """

    STALL = "stall"
    ABORT = "abort"
    BENCHMARK = "benchmark"


class DepsKind(StrEnum):
    """Where task dependencies come from (``Deps``): exact regions, bounding ranges, none."""

    INFER = "infer"
    INFER_BOUNDING = "infer_bounding"
    EXPLICIT = "explicit"


class ReadyKind(StrEnum):
    """Order in which a worker takes its ready tasks (``ReadyPolicy``; in order when unset)."""

    IN_ORDER = "in_order"
    FIFO = "fifo"
    LIFO = "lifo"
    PRIORITY = "priority"


class StartKind(StrEnum):
    """When execution starts (``StartPolicy``); the threshold's count is a separate int."""

    EAGER = "eager"
    THRESHOLD = "threshold"


class TraceKind(StrEnum):
    """What a run records (``TracePolicy``)."""

    FULL = "full"
    NONE = "none"
