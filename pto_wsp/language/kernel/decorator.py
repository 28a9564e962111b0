"""The kernel decorators: ``@kernel`` and ``@jit_kernel`` (and the factory ``@ptoisa_kernel`` uses).

Decoration checks the decorator's own arguments, reads the signature, classifies the body
(``traced`` pto ops, ``empty``, or custom ``cpp``) and returns a ``KernelRef``. A kernel with C++
(``cpp_src``, ``cpp_body_path`` or ``cpp_tu_path``; ``cpp_source`` says how each is read) never
runs its Python body, so that body may hold anything (the reference implementation's scripts
keep a Python sketch there).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import SourceLoc, TypeCheckError, user_location
from .cpp_source import ABIS, resolve_path
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
    cpp_body_path: str | os.PathLike[str] | None = None,
    cpp_tu_path: str | os.PathLike[str] | None = None,
    abi: str | None = None,
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
    body_path = _source_path(kname, "cpp_body_path", cpp_body_path, decorator, src.def_loc)
    tu_path = _source_path(kname, "cpp_tu_path", cpp_tu_path, decorator, src.def_loc)
    given = [
        n
        for n, v in (("cpp_src", cpp_src), ("cpp_body_path", body_path), ("cpp_tu_path", tu_path))
        if v is not None
    ]
    if len(given) > 1:
        raise TypeCheckError(
            f"kernel {kname}: {' and '.join(given)} are exclusive; give the C++ one way",
            loc=src.def_loc,
        )
    if includes and not given:
        # Headers are only emitted in front of a C++ body; without one they would be dropped
        # (DESIGN §6, "Silently ignored is a bug").
        raise TypeCheckError(
            f"kernel {kname}: cpp_includes={includes!r} without cpp_src (or cpp_body_path / "
            "cpp_tu_path); headers are included only for C++: add cpp_src=... or drop "
            "cpp_includes",
            loc=src.def_loc,
        )
    if abi is not None:
        if abi not in ABIS:
            raise TypeCheckError(
                f"@{decorator}: abi must be one of {', '.join(map(repr, ABIS))}, got {abi!r}",
                loc=src.def_loc,
            )
        if not given:
            raise TypeCheckError(
                f"kernel {kname}: abi={abi!r} names the ABI of a C++ body, but the kernel has "
                "none (give cpp_src, cpp_body_path or cpp_tu_path)",
                loc=src.def_loc,
            )
        if tu_path is not None and abi != "reference":
            raise TypeCheckError(
                f'kernel {kname}: a cpp_tu_path translation unit defines extern "C" uint64_t '
                f"{kname}(const KernelTaskDesc*, CSPTContext*), the reference ABI; abi={abi!r} "
                "does not apply",
                loc=src.def_loc,
            )
    signature = signature_of(fn, kname, src)
    # With C++ the Python body is never run, whatever it holds.
    body_kind = "cpp" if given else ("empty" if src.empty else "traced")
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
        cpp_body_path=body_path,
        cpp_tu_path=tu_path,
        abi=abi,
    )


def _source_path(
    kname: str, what: str, value: Any, decorator: str, loc: SourceLoc | None
) -> Path | None:
    """A ``cpp_body_path`` / ``cpp_tu_path`` argument as an existing file (read at build)."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise TypeCheckError(f"@{decorator}: {what} must be a file path, got {value!r}", loc=loc)
    path = resolve_path(os.fspath(value), loc.file if loc is not None else None)
    if not path.is_file():
        raise TypeCheckError(
            f"kernel {kname}: {what}={os.fspath(value)!r} is not a file ({path})", loc=loc
        )
    return path.resolve()


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
        cpp_body_path: str | os.PathLike[str] | None = None,
        cpp_tu_path: str | os.PathLike[str] | None = None,
        abi: str | None = None,
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
                cpp_body_path=cpp_body_path,
                cpp_tu_path=cpp_tu_path,
                abi=abi,
            )

        return wrap if fn is None else wrap(fn)

    deco.__name__ = decorator
    deco.__qualname__ = decorator
    return deco


kernel = make_decorator("kernel", "pto")
kernel.__doc__ = """Define a kernel: ``@kernel`` or ``@kernel(cpp_src=..., cpp_includes=[...],
cost=None, name=None, cpp_body_path=None, cpp_tu_path=None, abi=None)``. Returns a ``KernelRef``.
``cpp_src`` / ``cpp_body_path`` / ``cpp_tu_path`` are exclusive; ``abi`` ("native" or
"reference") overrides the detection of a body's ABI (docs/kernels.md)."""

jit_kernel = make_decorator("jit_kernel", "pto")
jit_kernel.__doc__ = """Triton-style spelling of ``@kernel`` (same machinery, spec §6.1)."""
