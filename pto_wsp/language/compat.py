"""Names kept for programs written against the v9 reference implementation.

``Symbol`` is a named runtime scalar (the reference spelled ``symbol_u64`` this way); ``Task`` is
the spec §2.4 name of one kernel invocation, which this implementation calls ``KernelCall``.
"""

from __future__ import annotations

from .kernel import KernelCall
from .scalar_expr import ScalarExpr

Task = KernelCall


class Symbol(ScalarExpr):
    """A runtime symbol: a u64 scalar bound by name when the program executes."""

    __slots__ = ()

    def __init__(self, name: str):
        super().__init__("symbol", name=str(name))


__all__ = ["Task", "Symbol"]
