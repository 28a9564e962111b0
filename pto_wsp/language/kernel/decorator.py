"""The kernel decorators: ``@kernel`` and ``@jit_kernel`` (and the factory ``@ptoisa_kernel`` uses).

Decoration checks the decorator's own arguments, reads the signature, classifies the body
(``traced`` pto ops, ``empty``, or custom ``cpp``) and returns a ``KernelRef``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ...errors import TypeCheckError, user_location
from .ref import KernelRef
from .signature import IDENT, inspect_source, signature_of


def _make_kernel(
    fn: Callable,
    *,
    cpp_src: str | None,
    cpp_includes: Iterable[str] | None,
    cost: int | None,
    name: str | None,
    dialect: str,
    decorator: str,
) -> KernelRef:
    if not inspect.isfunction(fn):
        raise TypeCheckError(
            f"@{decorator} decorates a Python function, got {type(fn).__name__}",
            loc=user_location(),
        )
    src = inspect_source(fn)
    kname = name if name is not None else fn.__name__
    if not isinstance(kname, str) or not IDENT.match(kname):
        raise TypeCheckError(
            f"@{decorator}: kernel name {kname!r} must be an identifier", loc=src.def_loc
        )
    if cpp_src is not None and not isinstance(cpp_src, str):
        raise TypeCheckError(
            f"@{decorator}: cpp_src must be a string, got {type(cpp_src).__name__}",
            loc=src.def_loc,
        )
    includes: list[Any] | None = []
    if cpp_includes is not None:
        collection = isinstance(cpp_includes, Iterable) and not isinstance(
            cpp_includes, str | bytes | Mapping
        )
        includes = list(cpp_includes) if collection else None
    if includes is None or not all(isinstance(i, str) for i in includes):
        raise TypeCheckError(
            f"@{decorator}: cpp_includes must be a list of header paths, got {cpp_includes!r}",
            loc=src.def_loc,
        )
    if cost is not None and (
        not isinstance(cost, int | np.integer) or isinstance(cost, bool) or cost < 0
    ):
        raise TypeCheckError(
            f"@{decorator}: cost must be a non-negative int (cycles), got {cost!r}",
            loc=src.def_loc,
        )
    if includes and cpp_src is None:
        # Headers are only emitted in front of a C++ body; without one they would be dropped
        # (DESIGN §6, "Silently ignored is a bug").
        raise TypeCheckError(
            f"kernel {kname}: cpp_includes={includes!r} without cpp_src; headers are included "
            "only for a C++ body: add cpp_src=... or drop cpp_includes",
            loc=src.def_loc,
        )
    signature = signature_of(fn, kname, src)
    if cpp_src is not None:
        if not src.empty:
            raise TypeCheckError(
                f"kernel {kname} has cpp_src and a Python body; with cpp_src the body must be "
                "empty (a docstring, ... or pass)",
                loc=src.def_loc,
            )
        body_kind = "cpp"
    else:
        body_kind = "empty" if src.empty else "traced"
    return KernelRef(
        name=kname,
        signature=signature,
        body_kind=body_kind,
        fn=fn,
        cpp_src=cpp_src,
        cpp_includes=includes,
        cost=int(cost) if cost is not None else None,
        loc=src.def_loc,
        dialect=dialect,
        decorator=decorator,
    )


def make_decorator(decorator: str, dialect: str) -> Callable[..., Any]:
    """A kernel decorator named ``decorator`` whose kernels are written in ``dialect``."""

    def deco(
        fn: Callable | None = None,
        /,
        *,
        cpp_src: str | None = None,
        cpp_includes: Iterable[str] | None = None,
        cost: int | None = None,
        name: str | None = None,
    ) -> Any:
        def wrap(f: Callable) -> KernelRef:
            return _make_kernel(
                f,
                cpp_src=cpp_src,
                cpp_includes=cpp_includes,
                cost=cost,
                name=name,
                dialect=dialect,
                decorator=decorator,
            )

        return wrap if fn is None else wrap(fn)

    deco.__name__ = decorator
    deco.__qualname__ = decorator
    return deco


kernel = make_decorator("kernel", "pto")
kernel.__doc__ = """Define a kernel: ``@kernel`` or ``@kernel(cpp_src=..., cpp_includes=[...],
cost=None, name=None)``. Returns a ``KernelRef``."""

jit_kernel = make_decorator("jit_kernel", "pto")
jit_kernel.__doc__ = """Triton-style spelling of ``@kernel`` (same machinery, spec §6.1)."""
