"""PTO-WSP: workload-schedule programming for NPU workloads (spec v9.3).

Every name of spec §1.1 is importable from here, plus the v9 reference implementation's
compatibility names (``TaskWindow``, ``WindowMode``, ``Symbol``, ``for_each``, ``ptoisa``,
``ptoisa_kernel``, ``slot_load_u64``, ``task``).
"""

from . import pto, ptoisa, scalar_expr
from .axes import Dense, DenseDyn, Ragged, Sparse
from .compat import Symbol, Task
from .csp import (
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
from .kernel import (
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
from .layout import (
    MemLayout,
    Replicate,
    Shard,
    TensorLayout,
    TensorReplicate,
    TensorShard,
    allgather,
    allreduce,
    reduce_scatter,
    relayout,
    tensor_layout_join,
)
from .legacy import ExternalKernel, tl
from .program import Program, ProgramStats
from .ptoisa import ptoisa_kernel
from .schedule import (
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
from .slots import slot_load_u64, slot_set_u64
from .tensor import Tensor, TensorView
from .types import DType, Location
from .workload import P, Workload, combine, for_each, parallel_for, sequential, task, workload

__version__ = "0.1.0"

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
