"""
CSP engine: pipeline trace and benchmark
"""
from __future__ import annotations
import typing
__all__: list[str] = ['Deadlock', 'DeadlockWait', 'WAIT_EVENT', 'WAIT_SEND', 'WAIT_TAKE', 'WaitKind', 'take_trace']
class WaitKind:
    """
    The side a process waits on.
    
    Members:
    
      SEND
    
      TAKE
    
      EVENT
    """
    EVENT: typing.ClassVar[WaitKind]
    SEND: typing.ClassVar[WaitKind]
    TAKE: typing.ClassVar[WaitKind]
    __members__: typing.ClassVar[dict[str, WaitKind]]
    @typing.overload
    def __eq__(self, other: WaitKind) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    @typing.overload
    def __eq__(self, other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self) -> int:
        ...
    def __init__(self, value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self) -> int:
        ...
    @typing.overload
    def __ne__(self, other: WaitKind) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    @typing.overload
    def __ne__(self, other: typing.Any) -> bool:
        ...
    def __repr__(self) -> str:
        ...
    def __setstate__(self, state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class DeadlockWait:
    """
    One party of a deadlock and what it waits on.
    """
    @property
    def channel(self) -> str:
        ...
    @property
    def event(self) -> str:
        ...
    @property
    def kind(self) -> WaitKind:
        ...
    @property
    def process(self) -> str:
        """
        process name; '' for the driver
        """
    @property
    def slots(self) -> int:
        ...
    @property
    def slots_used(self) -> int:
        ...
    @property
    def unfed(self) -> bool:
        ...
    @property
    def where(self) -> str:
        ...
class Deadlock:
    """
    Why a CSP run stopped: its cycle, wait cycle and waits.
    """
    @property
    def channels(self) -> list[str]:
        ...
    @property
    def cycle(self) -> int:
        ...
    @property
    def events(self) -> list[str]:
        ...
    @property
    def message(self) -> str:
        ...
    @property
    def processes(self) -> list[str]:
        ...
    @property
    def wait_cycle(self) -> list[str]:
        ...
    @property
    def waits(self) -> list[DeadlockWait]:
        ...
def take_trace(result: typing.Any) -> typing.Any:
    """
    The CSP trace of a finished run (dict: processes, channels, events, process_start, process_end, occupancy, waits, task_segments, deadlock: a Deadlock or None), or None when the run had no pipeline / event. Taken once: a second call returns None.
    """
WAIT_EVENT: int = 2
WAIT_SEND: int = 0
WAIT_TAKE: int = 1
