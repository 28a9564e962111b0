"""Compilation targets. Each backend turns a lowered IR module into a ``Program``.

``cpu_sim`` builds and runs generated C++; ``ascend_npu`` emits an NPU source tree. Both start
from the same verified module that ``pto_wsp.compiler.lowering.lower`` produces.
"""

from __future__ import annotations

from typing import Any

from ..errors import CompileError, user_location

TARGETS = ("cpu_sim", "ascend_npu")


def _check_target(target: str) -> None:
    if not isinstance(target, str) or target not in TARGETS:
        raise CompileError(
            f"unknown target {target!r}; valid targets: {', '.join(TARGETS)}", loc=user_location()
        )


def compile_workload(workload: Any, target: str = "cpu_sim") -> Any:
    """Lower ``workload`` and build it for ``target``; returns a ``Program``.

    The schedule is validated against the target first (``applicability.check``, spec §4.8): a
    rejected directive raises ``ScheduleError`` before anything is built, and directives the
    target keeps only as annotations land on ``program.diagnostics`` (and are warned once).
    """
    from ..compiler.applicability import check, issue_warnings

    _check_target(target)
    diagnostics = check(workload, target)
    if target == "cpu_sim":
        from .cpu_sim import compile_cpu_sim

        program = compile_cpu_sim(workload)
    else:
        from .ascend_npu import compile_ascend_npu

        program = compile_ascend_npu(workload)
    program.diagnostics = diagnostics
    issue_warnings(diagnostics)
    return program


def emit_kernel_source(kernel_ir: Any, target: str = "cpu_sim") -> str:
    """The generated source of one kernel for ``target`` (inspection only).

    ascend_npu: the kernel's AICore (PTO-ISA) source. cpu_sim: the kernel's C++ file of a
    one-task module built around it (cpu_sim emits kernels per module, not alone).
    """
    _check_target(target)
    if target == "ascend_npu":
        from .ascend_npu import emit_kernel_ascend

        return emit_kernel_ascend(kernel_ir)
    return _cpu_sim_kernel_source(kernel_ir)


def _cpu_sim_kernel_source(kernel_ir: Any) -> str:
    from .._native import codegen, ir
    from ..compiler.lowering import lower_kernel_ir
    from .cpu_sim import _parse_loc

    k = lower_kernel_ir(kernel_ir, kernel_ir.name, getattr(kernel_ir, "kernel", None))
    m = ir.Module(k.name)
    args = []
    for p in k.params:
        if p.kind == "scalar":
            value = (
                ir.Expr.float(0.0) if p.dtype in ("f16", "bf16", "f32", "f64") else ir.Expr.int(0)
            )
            args.append(ir.Arg.scalar(p.name, value))
            continue
        shape = list(p.shape) or [1, 1]
        tid = m.add_tensor(p.name, shape, p.dtype or "f32")
        args.append(ir.Arg(p.name, ir.View(tid, [])))
    kid = m.add_kernel(k)
    m.set_workload(ir.Node.task(kid, [], args))
    try:
        src = codegen.emit_cpu_sim(m)
    except codegen.CodegenError as err:
        message, loc = (err.args + ("", ""))[:2]
        raise CompileError(f"cpu_sim: {message}", loc=_parse_loc(loc) or user_location()) from None
    prefix = f"kernel_{kid}_"
    for name, text in src["files"]:
        if name.startswith(prefix):
            return text
    raise CompileError(f"cpu_sim emitted no source for kernel {k.name}", loc=user_location())
