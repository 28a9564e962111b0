"""PTO-WSP: workload-schedule programming for NPU workloads (spec v9.3).

Every name of spec §1.1 is importable from here, plus the v9 reference implementation's
compatibility names (``TaskWindow``, ``WindowMode``, ``Symbol``, ``for_each``, ``ptoisa``,
``ptoisa_kernel``, ``slot_load_u64``, ``task``).
"""

from typing import Any as _Any

from . import _module_aliases, backends
from .compiler.cost import CostTable
from .errors import (
    ChannelClosed,
    ChannelError,
    ChannelFull,
    CompileError,
    DeadlockError,
    ExecutionError,
    IRConversionError,
    KernelError,
    PtoError,
    ScheduleError,
    ScheduleWarning,
    TensorIndexError,
    TypeCheckError,
)
from .language import pto, ptoisa, scalar_expr
from .language import toolchain as _toolchain
from .language.axes import Dense, DenseDyn, Ragged, Sparse
from .language.collectives import allgather, allreduce, reduce_scatter, relayout
from .language.compat import Symbol, Task
from .language.csp import (
    Channel,
    Event,
    connect,
    consume,
    process,
    query,
    record,
    replicate,
    send,
    synchronize,
)
from .language.kernel import (
    AxisVar,
    BoundKernel,
    Constexpr,
    In,
    InOut,
    KernelCall,
    KernelRef,
    Out,
    Scalar,
    Tile,
    jit_kernel,
    kernel,
)
from .language.layout import (
    MemLayout,
    Replicate,
    Shard,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    tensor_layout_join,
)
from .language.legacy import ExternalKernel, tl
from .language.ptoisa import ptoisa_kernel
from .language.schedule import (
    Deps,
    DispatchPolicy,
    Pools,
    ReadyPolicy,
    StartPolicy,
    TaskWindow,
    TimingPolicy,
    TracePolicy,
    WindowMode,
)
from .language.slots import slot_load_u64, slot_set_u64
from .language.tensor import Tensor, TensorView
from .language.types import DType, Location
from .language.workload import (
    P,
    Workload,
    combine,
    for_each,
    parallel_for,
    sequential,
    task,
    workload,
)
from .runtime.program import Program, ProgramStats

__version__ = "0.1.0"


def _lower_kernel_ir(kernel_ir: _Any, name: str, kernel: _Any) -> _Any:
    """Lazy: the compiler loads the C++ extension, which ``import pto_wsp`` alone must not."""
    from .compiler.lowering import lower_kernel_ir

    return lower_kernel_ir(kernel_ir, name, kernel)


def _compile_workload(workload: _Any, target: str) -> _Any:
    """Lazy: the schedule check and the backends load on the first compile, not at import
    (``benchmarks/bench_compile.py`` measures a fresh process's import + first run)."""
    from .runtime.compile import compile_workload

    return compile_workload(workload, target)


# The language stage reaches the compiler, backends and runtime through this binding (DESIGN §1: it
# imports no later stage), and the pre-2026-12 flat module paths keep resolving for user scripts.
_toolchain.bind(
    _toolchain.Toolchain(
        targets=backends.TARGETS,
        compile_workload=_compile_workload,
        emit_kernel_source=backends.emit_kernel_source,
        lower_kernel_ir=_lower_kernel_ir,
    )
)
_module_aliases.install()

__all__ = [
    # axes
    "Dense",
    "DenseDyn",
    "Ragged",
    "Sparse",
    # workloads
    "workload",
    "Workload",
    "P",
    "combine",
    "sequential",
    "task",
    "for_each",
    "parallel_for",
    # kernels
    "kernel",
    "jit_kernel",
    "pto",
    "ptoisa",
    "ptoisa_kernel",
    "In",
    "Out",
    "InOut",
    "Constexpr",
    "Tile",
    "Scalar",
    "AxisVar",
    "KernelRef",
    "BoundKernel",
    "KernelCall",
    "Task",
    # CSP, events, slots
    "Channel",
    "process",
    "send",
    "consume",
    "connect",
    "replicate",
    "Event",
    "record",
    "synchronize",
    "query",
    "slot_set_u64",
    "slot_load_u64",
    "scalar_expr",
    "Symbol",
    # schedules
    "DispatchPolicy",
    "TimingPolicy",
    "TaskWindow",
    "WindowMode",
    "Deps",
    "ReadyPolicy",
    "StartPolicy",
    "TracePolicy",
    "Pools",
    # data and layouts
    "Tensor",
    "TensorView",
    "DType",
    "Location",
    "TensorLayout",
    "TensorShard",
    "TensorReplicate",
    "MemLayout",
    "tensor_layout_join",
    "relayout",
    "allreduce",
    "allgather",
    "reduce_scatter",
    "Shard",
    "Replicate",
    # execution
    "Program",
    "CostTable",
    "ProgramStats",
    # errors
    "PtoError",
    "CompileError",
    "TypeCheckError",
    "TensorIndexError",
    "IRConversionError",
    "ExecutionError",
    "KernelError",
    "DeadlockError",
    "ScheduleError",
    "ScheduleWarning",
    "ChannelError",
    "ChannelClosed",
    "ChannelFull",
    # deprecated
    "ExternalKernel",
    "tl",
]
