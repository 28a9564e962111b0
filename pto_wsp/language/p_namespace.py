"""``pto_wsp.p_namespace``: the reference implementation's module of the ``P`` namespace.

``P`` is this package's loop namespace; ``LoopVar(name, axis, index=0)`` is the loop variable it
binds (``index``: the variable's position among its loop's).
"""

from __future__ import annotations

from .scalar_expr import LoopVar
from .workload import P

__all__ = ["P", "LoopVar"]
