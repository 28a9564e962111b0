"""PTO-ISA spellings of the tile ops (v9 compatibility) and ``@ptoisa_kernel``.

``ptoisa.TADD(a, b)`` records exactly what ``pto.add(a, b)`` records, with ``attrs['isa'] =
'TADD'`` on the op so printers and emitters can show the ISA name the user wrote. The ops are
value-returning like ``pto.*`` (not destination-passing): ``c = ptoisa.TADD(a, b)``.
``@ptoisa_kernel`` is ``@kernel`` for bodies written with these names; its ``KernelRef`` and
``KernelIR`` carry ``dialect == "ptoisa"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import TypeCheckError, user_location
from . import op_table, pto
from .kernel.decorator import make_decorator

# ISA spelling -> the pto op it records: the op table's ``ptoisa`` column.
ISA_OPS: dict[str, str] = dict(op_table.PTOISA)


def _forward(isa: str) -> Callable[..., Any]:
    op = ISA_OPS[isa]
    target = getattr(pto, op)

    def isa_op(*args: Any, **kwargs: Any) -> Any:
        if not pto.in_trace():
            raise TypeCheckError(
                f"ptoisa.{isa} is only valid inside a @kernel/@ptoisa_kernel body",
                loc=user_location(),
            )
        with pto.isa_spelling(op, isa):
            return target(*args, **kwargs)

    isa_op.__name__ = isa
    isa_op.__qualname__ = isa
    isa_op.__doc__ = f"PTO-ISA ``{isa}``: records ``pto.{op}`` (attr ``isa={isa!r}``).\n\n" + (
        target.__doc__ or ""
    )
    return isa_op


# ``ptoisa.TADD`` etc.: one forwarder per spelling in the table (bound by name, not listed).
globals().update({isa: _forward(isa) for isa in ISA_OPS})

ptoisa_kernel = make_decorator("ptoisa_kernel", "ptoisa")
ptoisa_kernel.__doc__ = """``@kernel`` for bodies written with ``ptoisa.*`` ops (spec §6.1 Path A).
Same options as ``@kernel``; the result's ``dialect`` is ``"ptoisa"``."""

__all__ = [*ISA_OPS, "ISA_OPS", "ptoisa_kernel"]
