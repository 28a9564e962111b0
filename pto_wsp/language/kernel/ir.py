"""Kernel IR: a kernel body traced into ``pto`` op records, and what ``compile`` returns.

Its own module because lowering and the backends read it without anything of decoration or
calls; ``KernelSource`` names the few facts of the defining kernel they need, so this module
does not depend on ``KernelRef``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ...errors import SourceLoc
from ..pto import OpRecord
from ..toolchain import toolchain
from .signature import KernelParam


class KernelSource(Protocol):
    """What lowering needs of the kernel a ``KernelIR`` was traced from (``KernelRef`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def body_kind(self) -> str: ...
    @property
    def cpp_src(self) -> str | None: ...
    @property
    def cpp_includes(self) -> list[str]: ...
    @property
    def cpp_abi(self) -> str: ...
    @property
    def cost(self) -> int | None: ...
    @property
    def dialect(self) -> str: ...
    @property
    def loc(self) -> SourceLoc | None: ...


@dataclass(eq=False)
class KernelIR:
    """A traced (or signature-only) kernel: params are values ``0..n-1``, each op's result the
    next id. ``constexprs`` are the constexpr values this specialization was traced with."""

    name: str
    params: list[KernelParam]
    ops: list[OpRecord]
    body_kind: str
    constexprs: dict[str, Any] = field(default_factory=dict)
    loc: SourceLoc | None = None
    kernel: KernelSource | None = field(default=None, repr=False)

    @property
    def cpp_src(self) -> str | None:
        return self.kernel.cpp_src if self.kernel is not None else None

    @property
    def cpp_includes(self) -> list[str]:
        return list(self.kernel.cpp_includes) if self.kernel is not None else []

    @property
    def cpp_abi(self) -> str:
        return self.kernel.cpp_abi if self.kernel is not None else "native"

    @property
    def cost(self) -> int | None:
        return self.kernel.cost if self.kernel is not None else None

    @property
    def dialect(self) -> str:
        return self.kernel.dialect if self.kernel is not None else "pto"

    def __repr__(self) -> str:
        consts = f" {self.constexprs}" if self.constexprs else ""
        return f"<KernelIR {self.name} {self.body_kind}, {len(self.ops)} ops{consts}>"

    def dump(self) -> str:
        """The C++ IR printer's text for this kernel."""
        return toolchain().lower_kernel_ir(self, self.name, self.kernel).print()


@dataclass(eq=False)
class CompiledKernel:
    """``KernelRef.compile``'s result: the IR it was compiled from and the generated source."""

    target: str
    ir: KernelIR
    code: str
