"""
ascend_npu source-tree emission
"""
from __future__ import annotations
import pto_wsp._core.ir
import typing
__all__: list[str] = ['emit_ascend_npu', 'emit_kernel']
def emit_ascend_npu(module: pto_wsp._core.ir.Module) -> dict:
    """
    Source tree of a verified module for Ascend NPUs: dict(files=[(relative path, text)], symbols, params, num_slots, collective_kernels=[dict(kernel_id, collective, op, tensor)]). Raises codegen.CodegenError(message, loc).
    """
def emit_kernel(kernel: pto_wsp._core.ir.Kernel, kernel_id: typing.SupportsInt | typing.SupportsIndex = 0) -> str:
    """
    AICore (PTO-ISA) source of one kernel. Raises codegen.CodegenError(message, loc).
    """
