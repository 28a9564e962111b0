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
from . import pto
from .kernel.decorator import make_decorator

# ISA spelling -> the pto op it records.
ISA_OPS: dict[str, str] = {
    "TLOAD": "load",
    "TSTORE": "store",
    "TADD": "add",
    "TSUB": "sub",
    "TMUL": "mul",
    "TDIV": "div",
    "TMAX": "maximum",
    "TMIN": "minimum",
    "TEXP": "exp",
    "TLOG": "log",
    "TSQRT": "sqrt",
    "TRSQRT": "rsqrt",
    "TRELU": "relu",
    "TNEG": "neg",
    "TABS": "abs",
    "TROWSUM": "rowsum",
    "TROWMAX": "rowmax",
    "TCOLSUM": "colsum",
    "TCOLMAX": "colmax",
    "TMATMUL": "matmul",
    "TEXPANDS": "broadcast",
}


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


TLOAD = _forward("TLOAD")
TSTORE = _forward("TSTORE")
TADD = _forward("TADD")
TSUB = _forward("TSUB")
TMUL = _forward("TMUL")
TDIV = _forward("TDIV")
TMAX = _forward("TMAX")
TMIN = _forward("TMIN")
TEXP = _forward("TEXP")
TLOG = _forward("TLOG")
TSQRT = _forward("TSQRT")
TRSQRT = _forward("TRSQRT")
TRELU = _forward("TRELU")
TNEG = _forward("TNEG")
TABS = _forward("TABS")
TROWSUM = _forward("TROWSUM")
TROWMAX = _forward("TROWMAX")
TCOLSUM = _forward("TCOLSUM")
TCOLMAX = _forward("TCOLMAX")
TMATMUL = _forward("TMATMUL")
TEXPANDS = _forward("TEXPANDS")

ptoisa_kernel = make_decorator("ptoisa_kernel", "ptoisa")
ptoisa_kernel.__doc__ = """``@kernel`` for bodies written with ``ptoisa.*`` ops (spec §6.1 Path A).
Same options as ``@kernel``; the result's ``dialect`` is ``"ptoisa"``."""

__all__ = [*ISA_OPS, "ISA_OPS", "ptoisa_kernel"]
