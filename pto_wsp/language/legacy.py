"""Deprecated v8 names kept for old scripts (spec §5.4, §6.6): ``ExternalKernel`` and ``tl``.

Both work and both emit ``DeprecationWarning`` pointing at the user's line.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from types import FrameType
from typing import Any

from ..errors import TypeCheckError, user_location
from . import op_table, pto
from .kernel.ref import KernelRef
from .kernel.signature import IDENT, KernelParam, KernelSignature


def _stacklevel() -> int:
    """The stacklevel that makes ``warnings`` point at the first frame outside pto_wsp."""
    pkg = os.path.dirname(os.path.abspath(__file__)) + os.sep
    level = 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg):
        frame = frame.f_back
        level += 1
    return level


def _names(what: str, names: Any, kernel: str) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeCheckError(
            f"ExternalKernel {kernel}: {what} must be a list of parameter names, got {names!r}",
            loc=user_location(),
        )
    for n in names:
        if not isinstance(n, str) or not IDENT.match(n):
            raise TypeCheckError(
                f"ExternalKernel {kernel}: {what} entry {n!r} is not an identifier",
                loc=user_location(),
            )
    return list(names)


def _resolve_impl_path(impl_path: str) -> str:
    """Relative paths resolve against the calling script's directory when the file is there,
    else against the current directory (where v8 scripts were usually run from)."""
    if os.path.isabs(impl_path):
        return impl_path
    loc = user_location()
    if loc is not None and os.path.isfile(loc.file):
        beside = os.path.join(os.path.dirname(os.path.abspath(loc.file)), impl_path)
        if os.path.exists(beside):
            return beside
    return os.path.abspath(impl_path)


def ExternalKernel(  # noqa: N802 - the v8 name
    name: str, impl_path: str, inputs: Sequence[str], outputs: Sequence[str]
) -> KernelRef:
    """Deprecated: a kernel whose C++ body lives in ``impl_path``; use ``@kernel(cpp_src=...)``.

    Inputs become ``In[Tensor]`` params and outputs ``Out[Tensor]``. The file is read when the
    kernel is compiled; a missing file is a ``CompileError`` naming the path.
    """
    warnings.warn(
        "ExternalKernel is deprecated; define the kernel with @kernel(cpp_src=..., "
        "cpp_includes=[...]) or @jit_kernel",
        DeprecationWarning,
        stacklevel=_stacklevel(),
    )
    loc = user_location()
    if not isinstance(name, str) or not IDENT.match(name):
        raise TypeCheckError(f"ExternalKernel name {name!r} must be an identifier", loc=loc)
    if not isinstance(impl_path, str | os.PathLike):
        raise TypeCheckError(
            f"ExternalKernel {name}: impl_path must be a path, got {impl_path!r}", loc=loc
        )
    ins = _names("inputs", inputs, name)
    outs = _names("outputs", outputs, name)
    seen: set[str] = set()
    for n in ins + outs:
        if n in seen:
            raise TypeCheckError(
                f"ExternalKernel {name}: parameter name {n!r} appears twice", loc=loc
            )
        seen.add(n)
    params = [KernelParam(n, "in", "tensor", None, None) for n in ins]
    params += [KernelParam(n, "out", "tensor", None, None) for n in outs]
    return KernelRef(
        name=name,
        signature=KernelSignature(params, name),
        body_kind="cpp",
        cpp_path=_resolve_impl_path(os.fspath(impl_path)),
        loc=loc,
    )


_TL_NAMES = frozenset(op_table.BY_NAME)  # every pto op and alias


class _TlAlias:
    """``tl.add`` etc.: the ``pto`` op, with a DeprecationWarning per access."""

    def __getattr__(self, name: str) -> Any:
        if name not in _TL_NAMES:
            raise AttributeError(f"tl has no attribute {name!r} (tl is an alias for pto.*)")
        warnings.warn(
            f"tl.* is a deprecated alias for pto.*; use pto.{name}",
            DeprecationWarning,
            stacklevel=_stacklevel(),
        )
        return getattr(pto, name)

    def __dir__(self) -> list[str]:
        return sorted(_TL_NAMES)

    def __repr__(self) -> str:
        return "<deprecated alias tl -> pto_wsp.language.pto>"


tl = _TlAlias()

__all__ = ["ExternalKernel", "tl"]
