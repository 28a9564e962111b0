"""Compilation targets. Each backend turns a lowered IR module into a ``Program``.

``cpu_sim`` builds and runs generated C++; ``ascend_npu`` emits an NPU source tree. Both start
from the same verified module that ``pto_wsp.lowering.lower`` produces.
"""

from __future__ import annotations

import time
from typing import Any

from ..errors import CompileError, user_location

TARGETS = ("cpu_sim", "ascend_npu")


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise CompileError(
            f"unknown target {target!r}; valid targets: {', '.join(TARGETS)}", loc=user_location()
        )


def compile_workload(workload: Any, target: str = "cpu_sim") -> Any:
    """Lower ``workload`` and build it for ``target``; returns a ``Program``."""
    from ..lowering import lower
    from ..program import Program

    _check_target(target)
    if target == "cpu_sim":
        from .cpu_sim import compile_cpu_sim

        return compile_cpu_sim(workload)
    t0 = time.perf_counter()
    module = lower(workload)
    compile_ms = (time.perf_counter() - t0) * 1e3
    return Program(workload, target, module, None, compile_ms, runner=None)


def emit_kernel_source(kernel_ir: Any, target: str = "cpu_sim") -> str:
    """The generated source of one kernel for ``target`` (inspection only)."""
    _check_target(target)
    raise CompileError(
        f"kernel source emission for target {target!r} is not available in this build "
        "(the code generators arrive with the cpu_sim backend)",
        loc=user_location(),
    )
