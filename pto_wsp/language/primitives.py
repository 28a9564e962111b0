"""``pto_wsp.primitives``: the reference implementation's module of workload primitives.

Scripts written for the reference import the builder-style constructors from here
(``from pto_wsp.primitives import parallel_for, task``). They are this package's own functions:
inside a ``@workload`` body they record statements, outside one they build workloads and warn
once naming the spec form (``pto_wsp.language.workload.builder``).
"""

from __future__ import annotations

from .scalar_expr import slot_u64
from .slots import slot_load_u64, slot_set_u64
from .workload import combine, sequential
from .workload.legacy import cond, for_each, parallel_for, select, task

__all__ = [
    "parallel_for",
    "for_each",
    "select",
    "cond",
    "task",
    "combine",
    "sequential",
    "slot_set_u64",
    "slot_load_u64",
    "slot_u64",
]
