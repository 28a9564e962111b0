"""Running generated code and user C++ in a child process (DESIGN §1 "Trust").

A kernel's custom C++ may crash, call ``exit()`` or never return. Wherever that must not take
the caller down — the Studio (``app.runner.job.RunJob``) and ``pto-wsp run`` — the program runs
in a child process started by ``ChildProcess`` (its own session, so a cancel or a timeout
reaches the compiler and anything else it started), and what the child left behind is turned
into one message:

* a fatal signal: ``kernel k crashed (SIGSEGV) in task k[2, 3] (model.py:12)``, from the line
  the runtime's signal handler wrote to stderr (``cpp_backend/runtime/fault.h``) and the
  signal that ended the child (``crash_message``);
* an exit before the run finished (a kernel calling ``exit(0)`` looks like success otherwise):
  ``the run ended before finishing ...`` (``early_exit_message``);
* a timeout: ``ChildProcess.timed_out``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .fork_server import ForkedProcess, ForkHere, ForkServer, ForkServerError, OwnChild

__all__ = [
    "FATAL_LINE",
    "KernelFault",
    "kernel_faults",
    "signal_name",
    "crash_message",
    "early_exit_message",
    "EARLY_EXIT",
    "ChildProcess",
    "DEFAULT_GRACE_S",
]

DEFAULT_GRACE_S = 2.0
"""Seconds between SIGTERM and SIGKILL when a child is cancelled or times out."""

EARLY_EXIT = "the run ended before finishing"

# What runtime/fault.cpp writes (keep in step with its report()):
#   pto-wsp: kernel k crashed (SIGSEGV) in task k[2, 3] (model.py:12)
#   pto-wsp: kernel k called exit() in task k[2, 3] (model.py:12)
FATAL_LINE = re.compile(
    r"^pto-wsp: kernel (?P<kernel>\S+) (?P<what>crashed \((?P<signal>[A-Z]+)\)|called exit\(\)) "
    r"in task (?P<task>\S+(?:\[[-\d, ]*\])?)(?: \((?P<loc>.*)\))?$"
)


@dataclass(frozen=True)
class KernelFault:
    """One line the runtime wrote about a kernel that crashed or called ``exit()``."""

    kernel: str
    task: str  # "k[2, 3]"
    signal: str | None  # "SIGSEGV"; None for exit()
    loc: str | None  # "file:line" of the @kernel definition

    @property
    def file(self) -> str | None:
        return self.loc.rpartition(":")[0] if self.loc and ":" in self.loc else self.loc

    @property
    def line(self) -> int | None:
        tail = self.loc.rpartition(":")[2] if self.loc else ""
        return int(tail) if tail.isdigit() else None

    def where(self) -> str:
        return f" ({self.loc})" if self.loc else ""


def kernel_faults(stderr: str) -> list[KernelFault]:
    """Every runtime fault line in ``stderr``, in order."""
    found = []
    for ln in stderr.splitlines():
        m = FATAL_LINE.match(ln.strip())
        if m:
            found.append(KernelFault(m["kernel"], m["task"], m["signal"], m["loc"] or None))
    return found


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def crash_message(signum: int, stderr: str) -> tuple[str, KernelFault | None]:
    """The message for a child killed by ``signum``, and the kernel the runtime named."""
    crashes = [f for f in kernel_faults(stderr) if f.signal is not None]
    name = signal_name(signum)
    if not crashes:
        return f"the run crashed ({name})", None
    f = crashes[-1]
    return f"kernel {f.kernel} crashed ({f.signal}) in task {f.task}{f.where()}", f


def early_exit_message(returncode: int, stderr: str) -> tuple[str, KernelFault | None]:
    """The message for a child that exited before it reported a result."""
    exits = [f for f in kernel_faults(stderr) if f.signal is None]
    if exits:
        f = exits[-1]
        return (
            f"{EARLY_EXIT}: kernel {f.kernel} called exit() in task {f.task}{f.where()} "
            f"(exit code {returncode})",
            f,
        )
    return f"{EARLY_EXIT} (exit code {returncode}, no result was written)", None


class ChildProcess:
    """One command in its own session, stdout and stderr to files; poll, wait, cancel.

    ``cancel()`` sends SIGTERM to the whole process group and, ``grace_s`` later (performed by
    ``poll()``), SIGKILL; once the child ended after a cancel, anything left in its group is
    killed too. ``wait(timeout)`` cancels a child that outlives ``timeout`` and sets
    ``timed_out``. Thread-safe: ``cancel()`` may come from another thread than ``poll()``.
    With a ``launcher`` (``fork_server.ForkServer``, or ``ForkHere``: a fork of the caller) the
    command starts as a fork of that already-warm process when it can, else as a new process;
    either behaves the same here.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: str | os.PathLike[str],
        env: dict[str, str],
        stdout_path: Path,
        stderr_path: Path,
        grace_s: float = DEFAULT_GRACE_S,
        launcher: ForkServer | ForkHere | None = None,
    ):
        self.command = list(command)
        self.launcher = launcher
        self.cwd = cwd
        self.env = env
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path
        self.grace_s = float(grace_s)
        self.cancelled = False
        self.timed_out = False
        self._proc: subprocess.Popen[bytes] | ForkedProcess | OwnChild | None = None
        self._lock = threading.Lock()
        self._kill_at: float | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None

    def start(self) -> ChildProcess:
        with self._lock:
            if self._proc is not None:
                raise RuntimeError("this child process was already started")
            self.started_at = time.monotonic()
            if self.launcher is not None and self.launcher.accepts(self.command):
                try:
                    self._proc = self.launcher.spawn(
                        self.command,
                        cwd=self.cwd,
                        env=self.env,
                        stdout_path=self.stdout_path,
                        stderr_path=self.stderr_path,
                    )
                    return self
                except ForkServerError:
                    pass  # a new process instead: slower, the same run
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                self._proc = subprocess.Popen(
                    self.command,
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                )
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc is not None else None

    def poll(self) -> bool:
        """True once the child ended; escalates a cancel to SIGKILL after the grace period."""
        with self._lock:
            if self._proc is None:
                return False
            if self._proc.poll() is None:
                if self._kill_at is not None and time.monotonic() >= self._kill_at:
                    self._signal_group(signal.SIGKILL)
                    self._kill_at = None
                return False
            if self.ended_at is None:
                self.ended_at = time.monotonic()
                if self.cancelled:  # a compiler or other child may outlive the script
                    self._signal_group(signal.SIGKILL)
            return True

    def cancel(self) -> None:
        """SIGTERM to the child's process group now, SIGKILL after ``grace_s`` (non-blocking)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                return
            self.cancelled = True
            self._signal_group(signal.SIGTERM)
            self._kill_at = time.monotonic() + self.grace_s

    def wait(
        self,
        timeout: float | None = None,
        interval: float = 0.02,
        tick: Callable[[], None] | None = None,
    ) -> int:
        """Block until the child ends; past ``timeout`` s cancel it (``timed_out``).

        ``tick`` is called every ``interval`` while waiting (e.g. to echo the child's output).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.poll():
            if tick is not None:
                tick()
            if deadline is not None and not self.cancelled and time.monotonic() >= deadline:
                self.timed_out = True
                self.cancel()
            time.sleep(interval)
        rc = self.returncode
        assert rc is not None
        return rc

    def _signal_group(self, sig: signal.Signals) -> None:
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass  # the group is gone already
