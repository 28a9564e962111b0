"""
cpu_sim code generation and generated-library runner
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import pto_wsp._core.ir
import pto_wsp.language.policy_kinds
import typing
__all__: list[str] = ['ABI_VERSION', 'CodegenError', 'Library', 'LoadError', 'RunCosts', 'RunResult', 'RunValues', 'SOURCE_TOKEN', 'SimConfig', 'emit_cpu_sim', 'run', 'sim_config']
class CodegenError(Exception):
    pass
class LoadError(Exception):
    pass
class SimConfig:
    """
    Simulator settings of a cpu_sim run, as the IR schedule gives them (sim_config(module)); typed fields, no logic.
    """
    def __init__(self) -> None:
        ...
    @property
    def dispatch(self) -> pto_wsp.language.policy_kinds.DispatchKind:
        ...
    @dispatch.setter
    def dispatch(self, arg1: typing.Any) -> None:
        ...
    @property
    def kernel_pools(self) -> list[int]:
        ...
    @kernel_pools.setter
    def kernel_pools(self, arg1: typing.Any) -> None:
        ...
    @property
    def mesh_cols(self) -> int:
        ...
    @mesh_cols.setter
    def mesh_cols(self, arg1: typing.Any) -> None:
        ...
    @property
    def pool_sizes(self) -> list[int]:
        ...
    @pool_sizes.setter
    def pool_sizes(self, arg1: typing.Any) -> None:
        ...
    @property
    def ready(self) -> pto_wsp.language.policy_kinds.ReadyKind:
        ...
    @ready.setter
    def ready(self, arg1: typing.Any) -> None:
        ...
    @property
    def start_threshold(self) -> int:
        ...
    @start_threshold.setter
    def start_threshold(self, arg1: typing.Any) -> None:
        ...
    @property
    def streams(self) -> int:
        ...
    @streams.setter
    def streams(self, arg1: typing.Any) -> None:
        ...
    @property
    def timing(self) -> pto_wsp.language.policy_kinds.TimingKind:
        ...
    @timing.setter
    def timing(self, arg1: typing.Any) -> None:
        ...
    @property
    def timing_param(self) -> float:
        ...
    @timing_param.setter
    def timing_param(self, arg1: typing.Any) -> None:
        ...
    @property
    def trace(self) -> bool:
        ...
    @trace.setter
    def trace(self, arg1: typing.Any) -> None:
        ...
    @property
    def window(self) -> int:
        ...
    @window.setter
    def window(self, arg1: typing.Any) -> None:
        ...
    @property
    def workers(self) -> int:
        ...
    @workers.setter
    def workers(self, arg1: typing.Any) -> None:
        ...
class RunCosts:
    """
    The cost table's run-time numbers for one cpu_sim run; typed fields.
    """
    def __init__(self) -> None:
        ...
    @property
    def hop(self) -> float:
        ...
    @hop.setter
    def hop(self, arg1: typing.Any) -> None:
        ...
    @property
    def issue_cycles(self) -> float:
        ...
    @issue_cycles.setter
    def issue_cycles(self, arg1: typing.Any) -> None:
        ...
    @property
    def kernel_cycles(self) -> list[int]:
        ...
    @kernel_cycles.setter
    def kernel_cycles(self, arg1: typing.Any) -> None:
        ...
    @property
    def load_rate(self) -> float:
        ...
    @load_rate.setter
    def load_rate(self, arg1: typing.Any) -> None:
        ...
    @property
    def ns_per_cycle(self) -> float:
        ...
    @ns_per_cycle.setter
    def ns_per_cycle(self, arg1: typing.Any) -> None:
        ...
    @property
    def store_rate(self) -> float:
        ...
    @store_rate.setter
    def store_rate(self, arg1: typing.Any) -> None:
        ...
    @property
    def trace_reserve(self) -> int:
        ...
    @trace_reserve.setter
    def trace_reserve(self, arg1: typing.Any) -> None:
        ...
class Library:
    """
    A dlopen'ed generated cpu_sim library.
    """
    def __init__(self, path: str, sources: collections.abc.Sequence[str] = []) -> None:
        """
        Load the library; sources[N] is the path its source token N stands for.
        """
    @property
    def abi_version(self) -> int:
        ...
    @property
    def arena_bytes(self) -> int:
        ...
    @property
    def kernel_names(self) -> list[str]:
        ...
    @property
    def num_slots(self) -> int:
        ...
    @property
    def num_tensors(self) -> int:
        ...
    @property
    def param_names(self) -> list[str]:
        ...
    @property
    def path(self) -> str:
        ...
    @property
    def sources(self) -> list[str]:
        ...
    @property
    def symbol_names(self) -> list[str]:
        ...
class RunValues:
    """
    Named 64-bit run-time inputs of a library (its runtime symbols or its params), in the library's order; a value never set is 0.
    """
    def __init__(self, names: collections.abc.Sequence[str]) -> None:
        ...
    def set_f32(self, name: str, value: typing.SupportsFloat | typing.SupportsIndex) -> bool:
        """
        Set name to the bits of an f32 (low half); False when the library reads no such value.
        """
    def set_u64(self, name: str, bits: typing.SupportsInt | typing.SupportsIndex) -> bool:
        """
        Set name to a 64-bit pattern; False (nothing set) when the library reads no such value.
        """
    def u64(self, name: str) -> int:
        """
        The 64-bit pattern of name (0 when never set).
        """
    @property
    def names(self) -> list[str]:
        ...
    @property
    def values(self) -> list[int]:
        ...
class RunResult:
    """
    Outcome of one run.
    """
    @property
    def error(self) -> str:
        ...
    @property
    def execute_ms(self) -> float:
        ...
    @property
    def ok(self) -> bool:
        ...
    @property
    def task_count(self) -> int:
        ...
    @property
    def total_cycles(self) -> int:
        ...
    @property
    def trace(self) -> numpy.ndarray:
        """
        Per-task trace (zero-copy numpy structured array, read-only).
        """
    @property
    def worker_busy(self) -> list[int]:
        ...
def emit_cpu_sim(module: pto_wsp._core.ir.Module, tensor_strides: collections.abc.Sequence[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]] = []) -> dict:
    """
    C++ sources of the cpu_sim library of a verified module: dict(files=[(name, text)], main_file, symbols, params, num_slots, arena_bytes, tracked_tensors, ptoisa_files). Raises CodegenError(message, loc).
    """
def run(library: Library, tensors: list, symbols: RunValues, params: RunValues, slots: typing.Annotated[numpy.typing.ArrayLike, numpy.uint64], config: SimConfig, costs: RunCosts) -> RunResult:
    """
    Run a generated library once with the GIL released. tensors: [(ndarray, dtype code)] by IR tensor id; symbols / params: the RunValues of the library's names; config: the SimConfig of the module; costs: the RunCosts of the run.
    """
def sim_config(module: pto_wsp._core.ir.Module) -> SimConfig:
    """
    The simulator settings a lowered module's schedule asks for. Raises CodegenError.
    """
ABI_VERSION: int = 2
SOURCE_TOKEN: str = '<pto-source-'
