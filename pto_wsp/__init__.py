"""PTO-WSP: workload-schedule programming for NPU workloads (spec v9.3).

Every name of spec §1.1 is importable from here.
"""

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
    TypeCheckError,
)
from .types import DType, Location

__version__ = "0.1.0"
