"""``compile_workload``: a workload and a target in, a ``Program`` out (``workload.compile``).

The last pipeline stage drives the others (DESIGN §1: language -> compiler -> backends ->
runtime): the schedule is checked against the target (``compiler.applicability``), the target's
backend builds the workload, and the ``Program`` is made of what it built. Backends return plain
data (``backends.Built``) and import nothing from here.
"""

from __future__ import annotations

from typing import Any

from ..backends import backend
from ..compiler.applicability import check, issue_warnings
from .program import Program

__all__ = ["compile_workload"]


def compile_workload(workload: Any, target: str = "cpu_sim") -> Program:
    """Lower ``workload`` and build it for ``target``; returns a ``Program``.

    The schedule is validated against the target first (``applicability.check``, spec §4.8): a
    rejected directive raises ``ScheduleError`` before anything is built, and directives the
    target keeps only as annotations land on ``program.diagnostics`` (and are warned once).
    """
    chosen = backend(target)
    diagnostics = check(workload, target)
    program = Program.from_built(workload, chosen.build(workload))
    program.diagnostics = list(diagnostics)  # a list of the runtime's protocol type
    issue_warnings(diagnostics)
    return program
