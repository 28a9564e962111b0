"""The one interface every compilation target implements (``cpu_sim``, ``ascend_npu``).

A backend turns a workload into a ``Program`` and shows the source it generates for one kernel.
Both start from the verified IR module ``pto_wsp.compiler.lowering`` produces; the schedule
check (``compiler.applicability``) runs before ``compile`` in ``backends.compile_workload``, so
a backend sees only schedules it accepts. This module loads no C++: the package imports it at
``import pto_wsp`` time, the backends themselves on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..language.kernel import KernelIR
    from ..runtime.program import Program

__all__ = ["Backend"]


class Backend(ABC):
    """A compilation target; ``name`` is the ``target=`` string users pass."""

    name: ClassVar[str]
    #: whether ``Program.execute()`` runs here (ascend_npu emits a source tree only)
    executes: ClassVar[bool]

    @abstractmethod
    def compile(self, workload: Any) -> Program:
        """Lower ``workload`` and build (or emit) it for this target."""

    @abstractmethod
    def emit_kernel(self, kernel_ir: KernelIR) -> str:
        """The generated source of one traced kernel (inspection only)."""
