"""The ascend_npu backend: IR -> an NPU source tree for inspection (spec §5.0/§5.3, DESIGN.md §3).

``build_ascend_npu`` lowers the workload, emits the tree (``_core.ascend``: host code, the AICPU
expander, one AICore kernel per kernel, the plan, build files) and writes it under the build
cache root, keyed by a hash of the emitted sources. Which schedule directives the tree honours
is decided by ``compiler.applicability`` (checked before this module runs). Device build and
execution need Ascend/CANN, which this environment does not have, so the returned ``Built`` is
emit-only: it has no runner, and its ``not_executable`` text is the ``CompileError`` the
program's ``execute()`` raises (the spec's documented behaviour).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .._native import ascend, codegen
from ..errors import CompileError, user_location
from ..fileio import publish_dir
from ..language.kernel import KernelIR
from ..package_data import package_path
from .base import Backend, Built
from .cache import cache_root
from .cpu_sim import _parse_loc

__all__ = [
    "BACKEND",
    "STUB_HEADERS",
    "AscendBackend",
    "build_ascend_npu",
    "emit_kernel_ascend",
    "emit_tree",
    "write_tree",
]

_TREE_FORMAT = "pto-wsp-ascend-tree-v1"

STUB_HEADERS = package_path(__name__.rpartition(".")[0], "ascend_stubs")
"""Declarations of the part of CANN the emitted tree uses (``ascend_stubs/README.md``), shipped
as package data: an emitted tree checks with ``g++ -std=c++20 -fsyntax-only -I STUB_HEADERS``
and its CMake configures with ``-DASCEND_CANN_PACKAGE_PATH=STUB_HEADERS``, from a checkout or
an installed wheel."""


def _codegen_error(err: Exception) -> CompileError:
    message, loc = (err.args + ("", ""))[:2]
    return CompileError(f"ascend_npu: {message}", loc=_parse_loc(loc) or user_location())


def emit_tree(module: Any) -> dict[str, Any]:
    """The emitted tree of a lowered module: ``dict(files=[(relative path, text)], symbols,
    params, num_slots)``. Raises ``CompileError`` naming what cannot be emitted."""
    try:
        return ascend.emit_ascend_npu(module)
    except codegen.CodegenError as err:
        raise _codegen_error(err) from None


def tree_key(files: list[tuple[str, str]]) -> str:
    """Content hash of an emitted tree (paths and texts, in emission order)."""
    h = hashlib.sha256(_TREE_FORMAT.encode())
    for path, text in files:
        for part in (path, text):
            data = part.encode()
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)
    return h.hexdigest()


def write_tree(files: list[tuple[str, str]], name: str, root: Path | None = None) -> Path:
    """Write ``files`` to ``<root>/ascend_npu/<name>-<hash>`` atomically and return the directory.

    The tree is written into a temporary sibling and renamed into place, so a reader sees no
    directory or a complete one; an existing directory with the same key is reused as is.
    """
    base = (root or cache_root()) / "ascend_npu"
    base.mkdir(parents=True, exist_ok=True)
    final = base / f"{name}-{tree_key(files)[:20]}"
    if final.is_dir():
        return final
    tmp = Path(tempfile.mkdtemp(prefix="emit-", dir=base))
    try:
        for rel, text in files:
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        try:
            publish_dir(tmp, final)
        except OSError:
            if not final.is_dir():  # a concurrent writer did not win the race either
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _not_executable(directory: Path) -> str:
    """Why an emitted tree cannot run here (the text of ``execute()``'s ``CompileError``)."""
    return (
        "target 'ascend_npu' is emit-only in this environment: building and running on the "
        "device needs an Ascend NPU with the CANN toolkit (see CMakeLists.txt in "
        f"{directory}); use target='cpu_sim' to run the workload here"
    )


def build_ascend_npu(workload: Any) -> Built:
    """Lower ``workload``, emit its NPU source tree and write it to the build cache."""
    from ..compiler.lowering import lower

    t0 = time.perf_counter()
    module = lower(workload)
    tree = emit_tree(module)
    files = [(str(p), str(t)) for p, t in tree["files"]]
    directory = write_tree(files, module.name)
    compile_ms = (time.perf_counter() - t0) * 1e3
    return Built(
        "ascend_npu",
        module,
        str(directory),
        compile_ms,
        runner=None,
        not_executable=_not_executable(directory),
    )


def emit_kernel_ascend(kernel_ir: KernelIR) -> str:
    """The AICore (PTO-ISA) source of one traced kernel."""
    from ..compiler.lowering import lower_kernel_ir

    k = lower_kernel_ir(kernel_ir, kernel_ir.name, kernel_ir.kernel)
    try:
        return ascend.emit_kernel(k)
    except codegen.CodegenError as err:
        raise _codegen_error(err) from None


class AscendBackend(Backend):
    """Emits an NPU source tree (host, AICPU expander, AICore kernels); emit-only here."""

    name = "ascend_npu"
    executes = False

    def build(self, workload: Any) -> Built:
        return build_ascend_npu(workload)

    def emit_kernel(self, kernel_ir: KernelIR) -> str:
        return emit_kernel_ascend(kernel_ir)


BACKEND = AscendBackend()
