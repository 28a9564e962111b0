"""The one interface every compilation target implements (``cpu_sim``, ``ascend_npu``).

A backend builds a workload into a ``Built`` (the lowered module, the artifact and, when the
target runs here, the runner that owns the loaded artifact) and shows the source it generates for
one kernel. Both start from the verified IR module ``pto_wsp.compiler.lowering`` produces. The
runtime turns a ``Built`` into a ``Program`` (``pto_wsp.runtime.compile``, which also runs the
schedule check, ``compiler.applicability``, before ``build``): backends hand the runtime plain
data and never import it. This module loads no C++: the package imports it at ``import pto_wsp``
time, the backends themselves on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from ..language.kernel import KernelIR

__all__ = ["Backend", "Built", "Runner"]


class Runner(Protocol):
    """Runs a built artifact for the program that owns it (``pto_wsp.runtime.program`` documents
    the protocol and its richer forms). ``start`` receives that program: a runner reads its
    ``workload`` and may append to its ``diagnostics``."""

    def start(self, program: Any) -> None: ...
    def wait(self) -> None: ...
    def done(self) -> bool: ...
    def stats(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Built:
    """What a backend hands the runtime: everything a ``Program`` is made of but the workload.

    ``module`` is the lowered IR (``_core.ir.Module``), ``artifact_dir`` the directory of the
    built library or emitted sources, ``compile_ms`` the time lowering and building took.
    ``runner`` is None when nothing runs here; then ``not_executable`` says why, and
    ``Program.execute()`` raises ``CompileError`` with that text.
    """

    target: str
    module: Any
    artifact_dir: str | None
    compile_ms: float
    runner: Runner | None = None
    not_executable: str | None = None


class Backend(ABC):
    """A compilation target; ``name`` is the ``target=`` string users pass."""

    name: ClassVar[str]
    #: whether ``Program.execute()`` runs here (ascend_npu emits a source tree only)
    executes: ClassVar[bool]

    @abstractmethod
    def build(self, workload: Any) -> Built:
        """Lower ``workload`` and build (or emit) it for this target."""

    @abstractmethod
    def emit_kernel(self, kernel_ir: KernelIR) -> str:
        """The generated source of one traced kernel (inspection only)."""
