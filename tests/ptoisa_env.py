"""Whether the PTO-ISA verification tests can run here: a checkout (``ptoisa_paths``, the one
place tests find it) and a compiler that accepts its headers (clang++ >= 19)."""

from __future__ import annotations

from functools import cache

from ptoisa_paths import SKIP_REASON, ptoisa_root

from pto_wsp.compiler.ptoisa_root import find_compiler
from pto_wsp.errors import CompileError

__all__ = ["ptoisa_root", "skip_reason"]


@cache
def skip_reason() -> str | None:
    """Why PTO-ISA tests cannot run here (None: they run)."""
    missing = []
    if ptoisa_root() is None:
        missing.append(SKIP_REASON)
    try:
        find_compiler()
    except CompileError:
        missing.append("no clang++ >= 19 for PTO-ISA's headers (apt-get install clang-19)")
    return "; ".join(missing) or None
