"""Compilation targets. Each backend builds a lowered IR module into a ``base.Built``.

``cpu_sim`` builds generated C++ and hands back the runner of it; ``ascend_npu`` emits an NPU
source tree. Both start from the same verified module that ``pto_wsp.compiler.lowering.lower``
produces, and both implement ``base.Backend``. ``TARGETS`` is the registry's keys: adding a
backend is one entry. Backends import no runtime: ``pto_wsp.runtime.compile`` checks the schedule,
calls ``backend(target).build`` and makes the ``Program``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..errors import CompileError, user_location
from ..language.kernel import KernelIR
from .base import Backend, Built, Runner

__all__ = [
    "Backend",
    "Built",
    "EMIT_ONLY_TARGETS",
    "Runner",
    "TARGETS",
    "backend",
    "emit_kernel_source",
]


@dataclass(frozen=True)
class _Entry:
    """Where a target's ``BACKEND`` lives, and what is known of it before it is imported."""

    module: str  # of this package
    executes: bool  # its programs run here (False: it emits sources only, ``Backend.executes``)


# Target name -> its entry. The modules are imported on first use, not here: ``import pto_wsp``
# must not load the C++ extension the backends need.
_REGISTRY: dict[str, _Entry] = {
    "cpu_sim": _Entry("cpu_sim", executes=True),
    "ascend_npu": _Entry("ascend_npu", executes=False),
}

TARGETS: tuple[str, ...] = tuple(_REGISTRY)
#: targets whose ``execute()`` cannot run here: a run of one shows the emitted tree instead
EMIT_ONLY_TARGETS: frozenset[str] = frozenset(t for t, e in _REGISTRY.items() if not e.executes)


def _check_target(target: str) -> None:
    if not isinstance(target, str) or target not in TARGETS:
        raise CompileError(
            f"unknown target {target!r}; valid targets: {', '.join(TARGETS)}", loc=user_location()
        )


def backend(target: str) -> Backend:
    """The registered backend of ``target`` (``CompileError`` naming the valid ones)."""
    _check_target(target)
    entry = _REGISTRY[target]
    found = importlib.import_module(f"{__name__}.{entry.module}").BACKEND
    assert isinstance(found, Backend) and found.name == target, target
    assert found.executes == entry.executes, target
    return found


def emit_kernel_source(kernel_ir: KernelIR, target: str = "cpu_sim") -> str:
    """The generated source of one kernel for ``target`` (inspection only).

    ascend_npu: the kernel's AICore (PTO-ISA) source. cpu_sim: the kernel's C++ file of a
    one-task module built around it (cpu_sim emits kernels per module, not alone).
    """
    return backend(target).emit_kernel(kernel_ir)
