"""
cycle-level scheduling simulator
"""
from __future__ import annotations
import collections.abc
import numpy
import pto_wsp.language.policy_kinds
import typing
__all__: list[str] = ['PENDING', 'RECORD_SIZE', 'Simulator', 'splitmix64', 'trace_dtype']
class Simulator:
    """
    Cycle-level scheduling simulator (see sim.h)
    """
    def __init__(self, workers: typing.SupportsInt | typing.SupportsIndex = 1, dispatch: pto_wsp.language.policy_kinds.DispatchKind | None = None, streams: typing.SupportsInt | typing.SupportsIndex = 0, timing: pto_wsp.language.policy_kinds.TimingKind | None = None, timing_param: typing.SupportsFloat | typing.SupportsIndex = 0.0, window: typing.SupportsInt | typing.SupportsIndex = 0, ns_per_cycle: typing.SupportsFloat | typing.SupportsIndex = 1.0, trace: bool = True, trace_reserve: typing.SupportsInt | typing.SupportsIndex = 0, issue_cycles: typing.SupportsFloat | typing.SupportsIndex = 0.0, ready: pto_wsp.language.policy_kinds.ReadyKind | None = None, start_threshold: typing.SupportsInt | typing.SupportsIndex = 0, pools: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = [], kernel_pools: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = [], mesh_cols: typing.SupportsInt | typing.SupportsIndex = 0, hop: typing.SupportsFloat | typing.SupportsIndex = 16.0) -> None:
        """
        Policies: dispatch (DispatchKind), timing (TimingKind), ready (ReadyKind); None = round robin, immediate, in order. Task-graph policies: issue_cycles (dispatcher cost per issued task), start_threshold (0 = eager), pools (worker counts, contiguous from worker 0) and kernel_pools (pool by kernel id, -1 = any worker). Mesh: mesh_cols (0 = none; workers form a (workers / mesh_cols) x mesh_cols grid) and hop (cycles per hop).
        """
    def access(self, tensor: typing.SupportsInt | typing.SupportsIndex, lo: typing.SupportsInt | typing.SupportsIndex, hi: typing.SupportsInt | typing.SupportsIndex, write: bool) -> None:
        """
        Declare a [lo, hi) access of the next submitted task.
        """
    def access_strided(self, tensor: typing.SupportsInt | typing.SupportsIndex, base: typing.SupportsInt | typing.SupportsIndex, run_len: typing.SupportsInt | typing.SupportsIndex, stride: typing.SupportsInt | typing.SupportsIndex, count: typing.SupportsInt | typing.SupportsIndex, write: bool) -> None:
        """
        Declare a strided access of the next task: count runs of run_len elements, run i at base + i * stride.
        """
    def finish(self) -> None:
        ...
    def flush(self) -> None:
        ...
    def region_pitch(self, tensor: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        0 while the tensor's regions are a 1-D interval map, else the pitch of its 2-D map.
        """
    def submit(self, kernel: typing.SupportsInt | typing.SupportsIndex, cycles: typing.SupportsInt | typing.SupportsIndex, dispatch_key: typing.SupportsInt | typing.SupportsIndex = 0, stream_key: typing.SupportsInt | typing.SupportsIndex = 0, idx: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = [], min_start: typing.SupportsInt | typing.SupportsIndex = 0, ready_key: typing.SupportsInt | typing.SupportsIndex = 0, min_cause: typing.SupportsInt | typing.SupportsIndex = 4, min_gate: typing.SupportsInt | typing.SupportsIndex = -1) -> int:
        """
        Submit the next task; returns its end cycle or PENDING when held. min_start is a static bound on its start, of wait-cause kind min_cause (a code of pto_wsp.runtime.wait_causes; default: the sequential barrier) set by the end of task min_gate (-1: none).
        """
    def task_end(self, task: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        End cycle of a task by submission index (issues the buffer if it is pending).
        """
    def tensor_home(self, tensor: typing.SupportsInt | typing.SupportsIndex, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], strides: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], coord: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], coord_size: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> None:
        """
        Mesh: where the blocks of a sharded tensor live (coord per dimension: -1 replicated, 0 mesh row, 1 mesh column; coord_size: the mesh extent along it).
        """
    @property
    def task_count(self) -> int:
        ...
    @property
    def total_cycles(self) -> int:
        ...
    @property
    def trace(self) -> numpy.ndarray:
        ...
    @property
    def worker_busy(self) -> list[int]:
        ...
    @property
    def workers(self) -> int:
        ...
def splitmix64(x: typing.SupportsInt | typing.SupportsIndex) -> int:
    """
    The splitmix64 mix used by the hash dispatch policy (x is taken modulo 2**64).
    """
def trace_dtype() -> numpy.dtype[typing.Any]:
    """
    numpy dtype of one trace record
    """
PENDING: int = -1
RECORD_SIZE: int = 56
