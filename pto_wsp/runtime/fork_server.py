"""A process started early with ``pto_wsp`` imported that forks a fresh child per run.

Starting a worker for each Studio run costs a Python start-up and ``import pto_wsp`` (numpy,
the extension) before the script's first line: most of the time between a Run click and the
timeline for a small workload. The server pays that once, in advance; each run is a ``fork()``
of it, so the child starts with everything imported and nothing else: it never ran a script,
so no registry, loaded kernel library or global of an earlier run leaks into the next, and a
crash takes only its child. The child then behaves as ``python -X faulthandler SCRIPT ARGS``
would: its own session (a cancel reaches the compilers it starts), stdout and stderr to files,
the script as ``__main__``, its folder first on ``sys.path``, the run's environment, its exit
code or fatal signal reported as ``Popen.returncode`` reports them.

``ChildProcess(launcher=server)`` (``isolation``) starts a command through the server when the
server can run it as that command would (``ForkServer.accepts``) and falls back to a new process
otherwise, so a dead server costs speed, never a run. POSIX only (``fork``): elsewhere
``ForkServer.supported`` is False and nothing changes.

``ForkHere`` is the same child forked from the calling process itself, for a caller that has
already imported what the run needs and runs one program (``pto-wsp run``: the child skips the
interpreter start and ``import pto_wsp``); it also runs ``python -c CODE ARGS`` commands.

The server talks to its client over a socket pair, one JSON object per line: ``spawn`` requests
(answered with the child's pid) and, from the server, ``exit`` reports as children end. It is
single-threaded (forking a threaded process is unsafe) and exits when the client goes away.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "ForkHere",
    "ForkServer",
    "ForkedProcess",
    "ForkServerError",
    "OwnChild",
    "call_in_fork",
    "serve",
]

PRELOAD: tuple[str, ...] = (
    "numpy",
    "pto_wsp",
    "pto_wsp.runtime.runner",
    "pto_wsp.tensor_init",
    "pto_wsp.runtime.compile",
    "pto_wsp.compiler.lowering",
    "pto_wsp.backends.cpu_sim",
)
"""What the server imports before its first fork: what every run's script imports first, and
what its ``.compile()`` for cpu_sim (the Studio's and a sweep's target) loads: the extension,
lowering and the backend (``import pto_wsp`` loads none of them, for its own start-up); each
run would otherwise import them again, about half of a cached run's CPU time."""

T = TypeVar("T")

_REAP_S = 0.01  # how often a server with live children checks whether one ended
_BOOT = "import sys; from pto_wsp.runtime.fork_server import serve; serve(int(sys.argv[1]))"


class ForkServerError(RuntimeError):
    """The server is not running or did not answer (the caller starts a plain process)."""


@dataclass(frozen=True)
class _Spawn:
    """One run as the child needs it (the request's fields)."""

    argv: list[str]  # [script, *args]
    cwd: str
    env: dict[str, str]
    stdout: str
    stderr: str
    faulthandler: bool


class ForkedProcess:
    """A child of the fork server as ``ChildProcess`` uses a ``subprocess.Popen``: ``pid``,
    ``poll()`` and ``returncode`` (negative: the signal that ended it)."""

    def __init__(self, server: ForkServer, pid: int):
        self._server = server
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server.exit_status(self.pid)
        return self.returncode


class ForkServer:
    """The client side: starts the server process and asks it for children.

    ``start()`` returns at once; the server imports ``preload`` in the background, and the first
    ``spawn`` waits for that. Thread-safe: runs may be started from several threads.
    """

    supported: bool = hasattr(os, "fork") and sys.platform != "win32"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        preload: Sequence[str] = PRELOAD,
        python: str | None = None,
    ):
        self.python = python or sys.executable
        self.env = dict(os.environ if env is None else env)
        self.preload = tuple(preload)
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()  # one request on the wire at a time
        self._cond = threading.Condition()
        self._replies: dict[int, dict[str, Any]] = {}
        self._exits: dict[int, int] = {}
        self._next_id = 0
        self._closed = False
        self.spawned = 0  # children forked: runs served here, not started as new processes

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> ForkServer:
        if not self.supported:
            raise ForkServerError("the fork server needs fork() (POSIX)")
        ours, theirs = socket.socketpair()
        env = dict(self.env)
        env["PTO_WSP_FORK_PRELOAD"] = ",".join(self.preload)
        self._proc = subprocess.Popen(
            [self.python, "-c", _BOOT, str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        self._sock = ours
        threading.Thread(target=self._read_loop, name="pto-wsp-fork-server", daemon=True).start()
        return self

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and not self._closed

    def close(self) -> None:
        """Stops the server (its running children go on in their own sessions)."""
        self._closed = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        if self._proc is not None:
            try:
                self._proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        with self._cond:
            self._cond.notify_all()

    # ---- runs ----------------------------------------------------------------------------
    def accepts(self, command: Sequence[str]) -> bool:
        """True when ``command`` is ``[this python, (-X faulthandler,) SCRIPT, ARGS...]``, the
        only form a forked child reproduces exactly, and the server is running."""
        if not self.alive or not command or command[0] != self.python:
            return False
        rest = _script_argv(command)[1]
        return bool(rest) and not rest[0].startswith("-")

    def spawn(
        self,
        command: Sequence[str],
        *,
        cwd: str | os.PathLike[str],
        env: Mapping[str, str],
        stdout_path: Path,
        stderr_path: Path,
        timeout: float = 60.0,
    ) -> ForkedProcess:
        """Forks a child running ``command`` (``accepts`` must hold); ``ForkServerError`` when
        the server is gone or does not answer within ``timeout`` (its imports included)."""
        handler, argv = _script_argv(command)
        request = {
            "argv": argv,
            "cwd": os.fspath(cwd),
            "env": dict(env),
            "stdout": os.fspath(stdout_path),
            "stderr": os.fspath(stderr_path),
            "faulthandler": handler,
        }
        reply = self._request(request, timeout)
        if "error" in reply:
            raise ForkServerError(f"the fork server could not start the run: {reply['error']}")
        with self._cond:
            self.spawned += 1
        return ForkedProcess(self, int(reply["pid"]))

    def exit_status(self, pid: int) -> int | None:
        """The child's return code once the server reported its end, else None (a server that
        died takes no news with it: the child is then reaped by nobody, reported as killed)."""
        with self._cond:
            if pid in self._exits:
                return self._exits[pid]
            gone = self._closed or (self._proc is not None and self._proc.poll() is not None)
        if gone and not _exists(pid):
            return -int(signal.SIGKILL)  # ended unreported: as a child killed from outside
        return None

    def _request(self, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        if not self.alive or self._sock is None:
            raise ForkServerError("the fork server is not running")
        with self._lock:
            self._next_id += 1
            rid = self._next_id
            line = json.dumps({"id": rid, **body}).encode() + b"\n"
            try:
                self._sock.sendall(line)
            except OSError as err:
                raise ForkServerError(f"the fork server is gone ({err})") from None
        with self._cond:
            if not self._cond.wait_for(lambda: rid in self._replies or not self.alive, timeout):
                raise ForkServerError(f"the fork server did not answer within {timeout:g} s")
            if rid not in self._replies:
                raise ForkServerError("the fork server ended before it answered")
            return self._replies.pop(rid)

    def _read_loop(self) -> None:
        assert self._sock is not None
        buf = b""
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
            *lines, buf = buf.split(b"\n")
            with self._cond:
                for ln in lines:
                    msg = json.loads(ln)
                    if "exit" in msg:
                        self._exits[int(msg["exit"])] = int(msg["status"])
                    else:
                        self._replies[int(msg["id"])] = msg
                self._cond.notify_all()
        self._closed = True
        with self._cond:
            self._cond.notify_all()


class OwnChild:
    """A child ``ForkHere`` forked, as ``ChildProcess`` uses a ``subprocess.Popen``."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


class ForkHere:
    """Starts a command as a fork of the calling process (module doc): the ``ChildProcess``
    launcher of a caller that runs one program and has imported what it needs.

    Only while the caller runs a single thread (forking a threaded process is unsafe; a
    threaded caller, such as the Studio, gets a new process instead) and only for
    ``[this python, (-X faulthandler,) SCRIPT | -c CODE, ARGS...]``.
    """

    supported: bool = ForkServer.supported

    def __init__(self, python: str | None = None):
        self.python = python or sys.executable

    def accepts(self, command: Sequence[str]) -> bool:
        if not self.supported or threading.active_count() != 1:
            return False
        if not command or command[0] != self.python:
            return False
        rest = _script_argv(command)[1]
        if rest[:1] == ["-c"]:
            return len(rest) >= 2
        return bool(rest) and not rest[0].startswith("-")

    def spawn(
        self,
        command: Sequence[str],
        *,
        cwd: str | os.PathLike[str],
        env: Mapping[str, str],
        stdout_path: Path,
        stderr_path: Path,
    ) -> OwnChild:
        """Forks the child (``accepts`` must hold); its ``OwnChild`` at once."""
        handler, argv = _script_argv(command)
        spawn = _Spawn(
            argv=argv,
            cwd=os.fspath(cwd),
            env=dict(env),
            stdout=os.fspath(stdout_path),
            stderr=os.fspath(stderr_path),
            faulthandler=handler,
        )
        return OwnChild(_fork(spawn, in_child=_fresh_process_state))


def call_in_fork(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a forked child, its result or exception pickled back to this process:
    what ``fn`` imports stays in the child (``pto-wsp run`` of a project file: the project
    model is loaded only to write the script). What ``fn`` prints to ``sys.stdout`` and
    ``sys.stderr`` is written to this process's once it returned (they may be objects of this
    process, e.g. a test's capture). An exception keeps its type and message, and its traceback
    as a note."""
    import io
    import pickle
    import traceback

    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.close(r)
            _fresh_process_state()
            sys.stdout, sys.stderr = out, err = io.StringIO(), io.StringIO()
            try:
                payload: tuple[bool, Any] = (True, fn(*args))
            except BaseException as exc:  # reported to the caller, raised there
                exc.add_note("".join(traceback.format_exception(exc)).rstrip())
                payload = (False, exc)
            with os.fdopen(w, "wb") as fh:
                fh.write(pickle.dumps((*payload, out.getvalue(), err.getvalue())))
            code = 0
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    _pid, status = os.waitpid(pid, 0)
    if not data:
        raise RuntimeError(
            f"{getattr(fn, '__qualname__', fn)} ended without a result in its forked process "
            f"(exit status {os.waitstatus_to_exitcode(status)})"
        )
    ok, value, printed, warned = pickle.loads(data)
    sys.stdout.write(printed)
    sys.stderr.write(warned)
    if ok:
        return value
    raise value


def _fresh_process_state() -> None:
    """In a child forked from a caller (``ForkHere``): drop what the caller set up that a new
    interpreter would not have, its exit handlers and its signal handlers."""
    import atexit

    atexit._clear()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _script_argv(command: Sequence[str]) -> tuple[bool, list[str]]:
    """``[python, (-X faulthandler,) ARGS...]`` as (whether faulthandler is asked, ARGS): the
    one command form a forked child reproduces."""
    rest = list(command[1:])
    handler = rest[:2] == ["-X", "faulthandler"]
    return handler, rest[2:] if handler else rest


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- the server process ---------------------------------------------------------------------
def serve(fd: int) -> None:
    """The server's main loop (``python -c _BOOT FD``): preload, then fork on request and
    report each child's end, until the client closes the socket."""
    import importlib

    sock = socket.socket(fileno=fd)
    for name in filter(None, os.environ.pop("PTO_WSP_FORK_PRELOAD", "").split(",")):
        importlib.import_module(name)
    import gc

    gc.collect()
    gc.freeze()  # the children share these pages instead of copying them on the next collect
    children: set[int] = set()
    buf = b""
    while True:
        ready, _, _ = select.select([sock], [], [], _REAP_S if children else None)
        if ready:
            data = sock.recv(65536)
            if not data:
                return  # the client went away
            buf += data
            *lines, buf = buf.split(b"\n")
            for ln in lines:
                req = json.loads(ln)
                fields = {k: req[k] for k in _Spawn.__dataclass_fields__}
                try:
                    pid = _fork_child(sock, _Spawn(**fields))
                except OSError as err:
                    _send(sock, {"id": req["id"], "error": str(err)})
                else:
                    children.add(pid)
                    _send(sock, {"id": req["id"], "pid": pid})
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                _send(sock, {"exit": pid, "status": os.waitstatus_to_exitcode(status)})


def _send(sock: socket.socket, msg: dict[str, Any]) -> None:
    sock.sendall(json.dumps(msg).encode() + b"\n")


def _fork_child(sock: socket.socket, spawn: _Spawn) -> int:
    return _fork(spawn, in_child=sock.close)


def _fork(spawn: _Spawn, in_child: Callable[[], None]) -> int:
    """Forks; the child calls ``in_child()``, runs ``spawn`` and exits. The child's pid."""
    # Opened before the fork, so an unwritable log is the caller's error, not a dead child.
    out = os.open(spawn.stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        err = os.open(spawn.stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except OSError:
        os.close(out)
        raise
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(out)
        os.close(err)
        return pid
    code = 1
    try:
        in_child()
        code = _run_child(spawn, out, err)
    finally:
        os._exit(code)


def _run_child(spawn: _Spawn, out: int, err: int) -> int:
    """In the forked child: become ``python [-X faulthandler] SCRIPT ARGS`` and run it."""
    import atexit
    import io
    import runpy
    import traceback
    import types

    os.setsid()  # the server changed no signal disposition: the child has Python's defaults
    devnull = os.open(os.devnull, os.O_RDONLY)
    for src, dst in ((devnull, 0), (out, 1), (err, 2)):
        os.dup2(src, dst)
        os.close(src)
    os.chdir(spawn.cwd)
    os.environ.clear()
    os.environ.update(spawn.env)
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
    encoding = os.environ.get("PYTHONIOENCODING", "utf-8").split(":")[0] or "utf-8"
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=encoding,
                                  line_buffering=True, write_through=unbuffered)  # fmt: skip
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding=encoding,
                                  errors="backslashreplace", write_through=True)  # fmt: skip
    command = spawn.argv[0] == "-c"  # python -c CODE ARGS: the current folder first on the path
    script = "" if command else os.path.abspath(spawn.argv[0])
    extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    first = "" if command else os.path.dirname(script)
    sys.path[:] = [first, *extra] + [p for p in sys.path[1:] if p not in extra]
    sys.argv = ["-c", *spawn.argv[2:]] if command else [spawn.argv[0], *spawn.argv[1:]]
    if spawn.faulthandler:
        import faulthandler

        faulthandler.enable()
    code: int = 0
    try:
        if command:
            main = types.ModuleType("__main__")
            sys.modules["__main__"] = main
            exec(compile(spawn.argv[1], "<string>", "exec"), main.__dict__)
        else:
            runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:  # as the interpreter does: end by the signal itself
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException as exc:
        # The script's own hook (``report_errors`` writes the run's diagnostics) sees the
        # traceback from the script's first frame, as it would without runpy in between.
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_globals.get("__name__") in ("runpy", __name__):
            tb = tb.tb_next
        try:
            sys.excepthook(type(exc), exc.with_traceback(tb), tb)
        except BaseException:
            traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()  # what interpreter shutdown runs, before os._exit skips it
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    return code


def _exit_code(exc: SystemExit) -> int:
    """What ``python`` exits with for ``sys.exit(value)``."""
    value = exc.code
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1
