"""The error hierarchy of spec §9.

Every error can carry the user's source location so that a message points at the line the
user wrote, not at our internals (the Triton rule). ``user_location()`` finds that line by
walking the stack past every frame that belongs to this package.
"""

from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass
from types import FrameType
from typing import Any

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_PKG_PREFIX = f"{__package__}."


@dataclass(frozen=True)
class SourceLoc:
    """A place in the user's code: file, 1-based line, and the text of that line."""

    file: str
    line: int
    text: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def _is_internal(filename: str) -> bool:
    path = os.path.abspath(filename)
    return path.startswith(_PKG_DIR + os.sep) or filename.startswith("<frozen ")


def _is_internal_frame(frame: FrameType) -> bool:
    """A frame of this package, including code it generated at run time.

    ``dataclasses`` compiles each class's ``__init__`` from a string (file ``<string>``) in the
    globals of the class's module, so a ``__post_init__`` check of ``TaskWindow(0)`` would
    otherwise report ``<string>:6`` instead of the user's line.
    """
    filename = frame.f_code.co_filename
    if _is_internal(filename):
        return True
    module = frame.f_globals.get("__name__", "")
    return filename.startswith("<") and (module == __package__ or module.startswith(_PKG_PREFIX))


def user_location(skip: int = 1) -> SourceLoc | None:
    """The innermost stack frame outside ``pto_wsp`` (the user's call site)."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None and _is_internal_frame(frame):
        frame = frame.f_back
    if frame is None:
        return None
    filename = frame.f_code.co_filename
    lineno = frame.f_lineno
    text = linecache.getline(filename, lineno).strip()
    return SourceLoc(filename, lineno, text)


class PtoError(Exception):
    """Base of every PTO-WSP error. ``loc`` is the user's file:line when known."""

    def __init__(self, message: str, *, loc: SourceLoc | None = None):
        self.message = message
        self.loc = loc
        super().__init__(self._format())

    def _format(self) -> str:
        if self.loc is None:
            return self.message
        text = f"{self.loc}: {self.message}"
        if self.loc.text:
            text += f"\n    {self.loc.text}"
        return text

    def __str__(self) -> str:
        return self._format()


class CompileError(PtoError):
    """Compilation to a target failed (C++ compiler, code generation, unsupported op)."""


class TypeCheckError(CompileError):
    """A kernel or workload is ill-typed: shapes, dtypes, directions, arity."""


class TensorIndexError(TypeCheckError, IndexError):
    """A constant tensor index is out of range (also an IndexError, so iteration stops)."""


class IRConversionError(CompileError):
    """A Python object could not be lowered to the C++ IR; names the construct."""


class ExecutionError(PtoError):
    """A compiled program failed while running."""


class KernelError(ExecutionError):
    """A kernel failed while running: its custom C++ threw an exception.

    ``loc`` is the kernel's ``@kernel`` definition, ``kernel`` its name and ``task`` the loop
    indices of the task it ran (``()`` outside any loop). A kernel that crashes the process
    (a fatal signal) cannot raise: the runtime writes the same facts to stderr before the
    process dies, and the child-process runners (``pto-wsp run``, the Studio) report them.
    """

    def __init__(
        self,
        message: str,
        *,
        loc: SourceLoc | None = None,
        kernel: str | None = None,
        task: tuple[int, ...] = (),
    ):
        self.kernel = kernel
        self.task = tuple(task)
        super().__init__(message, loc=loc)


class DeadlockError(ExecutionError):
    """A CSP pipeline cannot progress: names the processes and channels in the wait cycle.

    ``details`` is the CSP engine's account of it (``_core.csp.Deadlock``: the cycle, the wait
    cycle's processes and each blocked party with the side it waits on and its channel or
    event), from which the message was rendered. ``processes``, ``channels`` and ``events`` list
    the names involved (replicas as ``name[i]``), so tools such as the Studio can point at them
    without parsing the message.
    """

    def __init__(
        self,
        message: str,
        *,
        loc: SourceLoc | None = None,
        processes: tuple[str, ...] = (),
        channels: tuple[str, ...] = (),
        events: tuple[str, ...] = (),
        details: Any = None,
    ):
        self.processes = tuple(processes)
        self.channels = tuple(channels)
        self.events = tuple(events)
        self.details = details
        super().__init__(message, loc=loc)

    @classmethod
    def from_details(cls, details: Any, prefix: str = "") -> DeadlockError:
        """The error for the engine's ``Deadlock``: its message after ``prefix``, its names."""
        return cls(
            prefix + str(details.message),
            processes=tuple(details.processes),
            channels=tuple(details.channels),
            events=tuple(details.events),
            details=details,
        )


class ScheduleError(PtoError):
    """A schedule is invalid: unknown key name, bad policy argument, unsupported target.

    ``directive`` names the schedule directive at fault when one is known (``"streams"``,
    ``"task_graph(ready=lifo)"``, ``"spatial_map"``): a whole schedule chain often sits on one
    source line, and tools (the Studio) use it to point at the step rather than the line.
    """

    def __init__(self, message: str, *, loc: SourceLoc | None = None, directive: str | None = None):
        self.directive = directive
        super().__init__(message, loc=loc)


class ScheduleWarning(UserWarning):
    """A schedule directive the target keeps only as an annotation (not honoured when it runs).

    Issued once per directive at compile; the same facts are on ``program.diagnostics``.
    """


class BindingWarning(UserWarning):
    """A run-time binding of a program that changes nothing: ``set_symbol_u64`` /
    ``set_symbol_f32`` of a symbol the compiled program never reads."""


class ChannelError(PtoError):
    """A CSP channel was misused."""


class ChannelClosed(ChannelError):
    """``send`` on a channel after ``close()``."""


class ChannelFull(ChannelError):
    """A non-blocking ``send`` found the channel full."""


__all__ = [
    "SourceLoc",
    "user_location",
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
    "BindingWarning",
    "ChannelError",
    "ChannelClosed",
    "ChannelFull",
]
