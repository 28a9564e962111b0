"""A kernel's C++ source: where it comes from, which ABI it is written against, what it uses.

A kernel's C++ is given one of three ways (exclusive): ``cpp_src`` (a body, in the Python file),
``cpp_body_path`` (a body, in a file of its own) or ``cpp_tu_path`` (a whole translation unit
defining ``extern "C" uint64_t <kernel name>(const KernelTaskDesc*, CSPTContext*)``). A body is
written against one of two ABIs (docs/kernels.md):

* ``native`` (ours, ``runtime/tile.h``): each tile parameter is a ``pto_tile*`` and each scalar an
  ``int64_t``/``double`` of its own name;
* ``reference`` (the reference implementation's, ``runtime/reference_abi.h``): the body is the
  inside of ``uint64_t k(const KernelTaskDesc* task, CSPTContext*)``.

Unless ``abi=`` says which, a body that names ``task->`` or ``KernelTaskDesc`` (names ours never
uses) is a reference body. A translation unit is always the reference ABI (``"tu"``).

A C++ source is built against PTO-ISA when it needs it: a ``cpp_includes`` header under ``pto/``
(PTO-ISA's include layout, e.g. spec §6.2's ``"pto/cpu/TMrgSort.hpp"``), an ``#include`` of one
in the source, or a PTO-ISA name in the code (``pto::Tile``, ``pto::GlobalTensor``,
``pto::TADD``..., ``pto_wsp::ptoisa::``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "ABIS",
    "REFERENCE_MARKERS",
    "detect_abi",
    "read_source",
    "resolve_path",
    "uses_ptoisa",
]

ABIS = ("native", "reference")
"""The values of ``@kernel(abi=...)``."""

REFERENCE_MARKERS = re.compile(r"\btask\s*->|\bKernelTaskDesc\b")
"""Names only a reference-ABI body uses."""

_PTOISA_NAMES = re.compile(
    r"\bpto_wsp\s*::\s*ptoisa\b"
    r"|\bpto\s*::\s*(?:Tile\w*|GlobalTensor|Shape|Stride|TileType|BLayout|SLayout|PadValue"
    r"|DYNAMIC|T[A-Z][A-Z0-9_]*)\b"
    r"|#\s*include\s*[<\"]pto/"
)


def _include_target(include: str) -> str:
    if len(include) >= 2 and include[0] in '<"' and include[-1] in '>"':
        return include[1:-1]
    return include


def uses_ptoisa(source: str, includes: Iterable[str]) -> bool:
    """Whether a C++ source (with its ``cpp_includes``) must be built against PTO-ISA."""
    if any(_include_target(i).startswith("pto/") for i in includes):
        return True
    return _PTOISA_NAMES.search(source) is not None


def detect_abi(source: str) -> str:
    """``reference`` when the body names ``task->`` or ``KernelTaskDesc``, else ``native``."""
    return "reference" if REFERENCE_MARKERS.search(source) else "native"


def resolve_path(path: str, defined_in: str | None) -> Path:
    """A source file named at ``@kernel``: absolute as given, or relative to the directory of
    the Python file that defines the kernel (so a script finds its C++ wherever it is run)."""
    p = Path(path).expanduser()
    if p.is_absolute() or not defined_in:
        return p
    base = Path(defined_in).parent
    return base / p if base.is_dir() else p


def read_source(path: Path) -> str:
    """The text of a C++ source file (``OSError`` when it cannot be read)."""
    return path.read_text(encoding="utf-8")
