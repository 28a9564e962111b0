"""The compiler and backends as the language stage sees them: a binding, not an import.

Language modules import no later pipeline stage (DESIGN §1: language -> compiler -> backends ->
runtime), yet ``Workload.compile``, ``KernelRef.compile`` and ``KernelIR.dump`` hand their objects
to those stages. ``pto_wsp/__init__`` binds the real functions here when the package is imported, so
the dependency runs one way and every language call still reaches the real compiler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CompileError, user_location


@dataclass(frozen=True)
class Toolchain:
    """The later stages' entry points the language calls into."""

    targets: tuple[str, ...]
    compile_workload: Callable[[Any, str], Any]
    emit_kernel_source: Callable[[Any, str], str]
    lower_kernel_ir: Callable[[Any, str, Any], Any]


_bound: Toolchain | None = None


def bind(toolchain: Toolchain) -> None:
    """Install the compiler and backends (called once by ``pto_wsp/__init__``)."""
    global _bound
    _bound = toolchain


def toolchain() -> Toolchain:
    """The bound toolchain; importing any ``pto_wsp`` module binds it first."""
    if _bound is None:  # pragma: no cover - pto_wsp/__init__ always runs first
        raise RuntimeError("pto_wsp's compiler is not bound; import pto_wsp")
    return _bound


def check_target(target: str) -> None:
    """Reject a target name no backend implements, naming the valid ones."""
    targets = toolchain().targets
    if not isinstance(target, str) or target not in targets:
        raise CompileError(
            f"unknown target {target!r}; valid targets: {', '.join(targets)}", loc=user_location()
        )
