"""Run one exported document or DSL script in a worker process (DESIGN §1 "Runner protocol").

Generated code and user C++ never run inside the studio: ``RunJob`` writes the script the
exporter produced (the exact text "Export to Python" saves), starts ``python SCRIPT --trace
trace.npy --stats stats.json`` in its own process group, and turns what comes back — the stats
JSON, the trace ``.npy`` (memory-mapped) and, when the process died, its signal and stderr —
into a ``RunResult`` whose diagnostics point at graph nodes through the exporter's line map.

A segfault in a kernel therefore shows up as a diagnostic ("kernel k crashed (SIGSEGV) in task
k[2, 3] (model.py:12)", from the line the runtime's signal handler writes; the child process
itself is ``pto_wsp.runtime.isolation.ChildProcess``), never as a dead studio; so does an ``exit()``
inside a kernel ("the run ended before finishing ..."). This module is Qt-free: the GUI wraps it in
``app.runner.qt_runner.QtRunner``; the CLI and the tests use it directly.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pto_wsp.errors import PtoError
from pto_wsp.fileio import atomic_write
from pto_wsp.runtime.csp_trace import CspTrace
from pto_wsp.runtime.fork_server import ForkServer
from pto_wsp.runtime.isolation import (
    DEFAULT_GRACE_S,
    ChildProcess,
    crash_message,
    early_exit_message,
)
from pto_wsp.runtime.runner import csp_trace_path
from pto_wsp.runtime.script_worker import (
    SCRIPT_NAME,
    STATS_NAME,
    STDERR_NAME,
    STDOUT_NAME,
    TRACE_NAME,
    run_environment,
    worker_command,
)
from pto_wsp.runtime.task_sites import TaskSites, load_sites, sites_path
from pto_wsp.runtime.trace_file import load_trace

from ..model.document import Document
from ..model.export import ExportError, export_script
from ..run_nodes import schedule_node

__all__ = [
    "Worker",
    "RunDiagnostic",
    "RunResult",
    "RunJob",
    "worker_environment",
    "SCRIPT_NAME",
    "TRACE_NAME",
    "STATS_NAME",
    "STDOUT_NAME",
    "STDERR_NAME",
    "DEFAULT_GRACE_S",
]

STDERR_TAIL_LINES = 40
_KERNEL_DECORATORS = {"kernel", "jit_kernel"}
_CPP_SRC_FILE = re.compile(r"^cpp_src of kernel (?P<name>[A-Za-z_]\w*)$")
_ONE_LINE_ERROR = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+): Error: (?:(?P<kind>[A-Za-z_]\w*): )?(?P<message>.*)$"
)
_FAULT_FRAME = re.compile(r'^\s*File "(?P<file>.+)", line (?P<line>\d+) in (?P<func>\S+)')
_KERNEL_MENTION = re.compile(r"\bkernel @?(?P<name>[A-Za-z_]\w*)")


# ------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class RunDiagnostic:
    """One error or warning of a run, located in the script and, when known, on a node.

    ``node_id`` is the graph node the script line came from (exporter line map) or, for
    errors in a kernel's custom C++ or a crash inside a kernel, the ``kernel.def`` node;
    ``None`` for hand-written scripts or lines no node produced. ``file``/``line`` are
    ``None`` when the problem has no source position (a cancelled run, a failed export).
    """

    node_id: str | None
    file: str | None
    line: int | None
    kind: str
    message: str
    severity: str = "error"
    # A DeadlockError names what it involves (process names, replicas as "name[i]"; channel
    # and event names), so the Studio can badge those nodes too.
    processes: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    events: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else ""
        node = f" [{self.node_id}]" if self.node_id else ""
        return f"{where}{self.severity}: {self.kind}: {self.message}{node}"


@dataclass
class RunResult:
    """Everything a finished run left behind, read back from its artifact directory.

    ``trace`` is the per-task trace memory-mapped read-only (``None`` when the run produced
    none: it failed, crashed or was cancelled). ``stats`` is the runner's stats JSON
    (``{}`` when the process died before writing it). ``csp`` is the CSP trace (process
    lanes, waits, channel occupancy) of a traced run that had pipelines or events, else None.
    """

    ok: bool
    stats: dict[str, Any]
    trace: np.ndarray | None
    kernel_names: list[str]
    diagnostics: list[RunDiagnostic]
    returncode: int | None
    stderr_tail: str
    script_path: Path
    artifact_dir: Path
    trace_path: Path | None = None
    cancelled: bool = False
    duration_s: float = 0.0
    stdout: str = ""
    csp: CspTrace | None = None
    sites: TaskSites | None = None  # the call sites' views (task regions on demand), if written

    @property
    def errors(self) -> list[RunDiagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def crashed(self) -> bool:
        """The process was killed by a signal it did not get from a cancel."""
        return self.returncode is not None and self.returncode < 0 and not self.cancelled


# ------------------------------------------------------------------------------------------
# the job


class Worker(Protocol):
    """Where a job's script runs: a ``ChildProcess`` here, or a run on a cluster worker
    (``app.runner.cluster``). ``returncode`` and ``cancelled`` are read once ``poll()`` is True."""

    @property
    def pid(self) -> int | None: ...
    @property
    def returncode(self) -> int | None: ...
    @property
    def cancelled(self) -> bool: ...
    def poll(self) -> bool: ...
    def cancel(self) -> None: ...


def _import_roots() -> list[str]:
    """Directories that make the Studio's package and ``pto_wsp`` importable in the worker
    process (the checkout's root, or site-packages when installed)."""
    import pto_wsp

    studio = sys.modules[__package__.partition(".")[0]]
    roots: list[str] = []
    for pkg in (studio, pto_wsp):
        root = str(Path(str(pkg.__file__)).resolve().parent.parent)
        if root not in roots:
            roots.append(root)
    return roots


def worker_environment(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker process: ours, with ``app`` and ``pto_wsp`` importable and
    unbuffered UTF-8 output (``script_worker.run_environment``), then ``overrides``."""
    env = run_environment(_import_roots())
    env.update(overrides or {})
    return env


class RunJob:
    """One run of a document or script in a worker process; poll it, cancel it, read it back.

    ``source`` is a ``Document`` (exported to ``workdir/program.py``; an ``ExportError``
    finishes the job at once with a diagnostic on the offending node) or the path of a DSL
    script ending in ``run_main(program)`` (run in place, its own directory as the working
    directory, so its relative paths behave as from a terminal). ``workdir`` receives the
    artifacts: script (for documents), trace, stats, stdout and stderr logs.

    The job starts immediately unless ``start=False``. It is safe to call ``cancel()`` from
    another thread than the one polling. With a ``launcher`` (the Studio's ``warm_worker``
    fork server) the worker is a fork of a process that has ``pto_wsp`` imported already.
    """

    def __init__(
        self,
        source: Document | str | os.PathLike[str],
        workdir: str | os.PathLike[str],
        *,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        python: str | None = None,
        grace_s: float = DEFAULT_GRACE_S,
        start: bool = True,
        launcher: ForkServer | None = None,
    ):
        self.launcher = launcher
        self.artifact_dir = Path(workdir).resolve()
        self.artifact_dir.mkdir(parents=True, exist_ok=True)
        self.trace_path = self.artifact_dir / TRACE_NAME
        self.stats_path = self.artifact_dir / STATS_NAME
        self.stdout_path = self.artifact_dir / STDOUT_NAME
        self.stderr_path = self.artifact_dir / STDERR_NAME
        self.extra_args = list(extra_args)
        self.python = python or sys.executable
        self.grace_s = float(grace_s)
        self._env_overrides = dict(env or {})
        self.line_map: dict[int, str] = {}
        self.document: Document | None = None
        self._export_error: ExportError | None = None
        self._child: Worker | None = None
        self._lock = threading.Lock()
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._stdout_offset = 0
        self._stdout_partial = b""
        self._result: RunResult | None = None

        if isinstance(source, Document):
            self.document = source
            self.script_path = self.artifact_dir / SCRIPT_NAME
            self.cwd = self.artifact_dir
            try:
                exported = export_script(source)
            except ExportError as err:
                self._export_error = err
            else:
                self.line_map = dict(exported.line_map)
                atomic_write(self.script_path, exported.source)
        else:
            self.script_path = Path(source).resolve()
            if not self.script_path.is_file():
                raise FileNotFoundError(f"no such DSL script: {self.script_path}")
            self.cwd = self.script_path.parent
        if start:
            self.start()

    # ---- lifecycle ---------------------------------------------------------------------
    @property
    def command(self) -> list[str]:
        """The worker's command line (``pto_wsp.runtime.script_worker.worker_command``)."""
        return worker_command(
            self.python, self.script_path, self.trace_path, self.stats_path, self.extra_args
        )

    def environment(self) -> dict[str, str]:
        return worker_environment(self._env_overrides)

    def start(self) -> None:
        """Start the worker process (in a new process group, so cancel reaches its children)."""
        with self._lock:
            if self._child is not None or self._result is not None:
                raise RuntimeError("this run job was already started")
            self._started_at = time.monotonic()
            if self._export_error is not None:
                self._ended_at = self._started_at
                return
            stale_files = (
                self.trace_path,
                self.stats_path,
                csp_trace_path(self.trace_path),
                sites_path(self.trace_path),
            )
            for stale in stale_files:
                stale.unlink(missing_ok=True)
            self._child = self._launch()

    def _launch(self) -> Worker:
        """Start the worker: here, a child process (a cluster job starts it elsewhere)."""
        return ChildProcess(
            self.command,
            cwd=self.cwd,
            env=self.environment(),
            stdout_path=self.stdout_path,
            stderr_path=self.stderr_path,
            grace_s=self.grace_s,
            launcher=self.launcher,
        ).start()

    def _launch_failure(self) -> str | None:
        """Why the worker could not run the script at all (a process started here always ran
        it; a cluster's worker may have died): None, or the reason."""
        return None

    @property
    def started(self) -> bool:
        return self._started_at is not None

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    @property
    def _cancelled(self) -> bool:
        return self._child is not None and self._child.cancelled

    def poll(self) -> bool:
        """True once the job is over (process exited, or export failed and nothing ran).

        Also escalates a cancel: SIGKILL to the process group once the grace period passed.
        """
        with self._lock:
            if self._started_at is None:
                return False
            if self._child is None:
                return True
            if not self._child.poll():
                return False
            if self._ended_at is None:
                self._ended_at = time.monotonic()
            return True

    @property
    def running(self) -> bool:
        return self.started and not self.poll()

    def wait(self, timeout: float | None = None, interval: float = 0.02) -> RunResult:
        """Block until the job ends (``TimeoutError`` after ``timeout`` s); its result."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.started:
            self.start()
        while not self.poll():
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"run of {self.script_path} still going after {timeout} s")
            time.sleep(interval)
        return self.result()

    def cancel(self, wait: bool = False) -> None:
        """Stop the run: SIGTERM to its process group now, SIGKILL after ``grace_s``.

        Non-blocking unless ``wait`` (``poll()`` performs the escalation); a no-op on a
        finished job.
        """
        with self._lock:
            if self._child is None:
                return
            self._child.cancel()
        if wait:
            self.wait()

    # ---- output ------------------------------------------------------------------------
    def read_output(self) -> list[str]:
        """Complete stdout lines printed since the previous call (for progress display)."""
        try:
            with open(self.stdout_path, "rb") as f:
                f.seek(self._stdout_offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self._stdout_offset += len(chunk)
        data = self._stdout_partial + chunk
        *lines, self._stdout_partial = data.split(b"\n")
        return [ln.decode("utf-8", "replace").rstrip("\r") for ln in lines]

    # ---- result ------------------------------------------------------------------------
    def result(self) -> RunResult:
        """The finished run read back (cached); ``RuntimeError`` while it still runs."""
        if not self.poll():
            raise RuntimeError("the run has not finished: poll() until it returns True")
        if self._result is None:
            self._result = self._read_back()
        return self._result

    def _read_back(self) -> RunResult:
        duration = (self._ended_at or 0.0) - (self._started_at or 0.0)
        if self._export_error is not None:
            err = self._export_error
            diag = RunDiagnostic(
                err.node_id or None, None, None, "ExportError", str(err) or err.message
            )
            return RunResult(
                ok=False,
                stats={},
                trace=None,
                kernel_names=[],
                diagnostics=[diag],
                returncode=None,
                stderr_tail="",
                script_path=self.script_path,
                artifact_dir=self.artifact_dir,
                duration_s=duration,
            )
        assert self._child is not None
        rc = self._child.returncode
        stderr = _read_text(self.stderr_path)
        stdout = _read_text(self.stdout_path)
        stats = _read_stats(self.stats_path)
        diagnostics = [self._diagnostic_of(d) for d in stats.get("diagnostics", [])]
        trace = load_trace(self.trace_path) if rc == 0 else None
        csp = _load_csp(csp_trace_path(self.trace_path), trace)
        sites = load_sites(self.trace_path) if trace is not None else None

        failure = self._launch_failure()
        if self._cancelled:
            diagnostics.append(
                RunDiagnostic(None, None, None, "Cancelled", "the run was cancelled")
            )
        elif failure is not None:
            diagnostics.append(RunDiagnostic(None, None, None, "WorkerError", failure))
        elif rc is not None and rc < 0:
            diagnostics.append(self._crash_diagnostic(-rc, stderr))
        elif rc != 0 and not any(d.severity == "error" for d in diagnostics):
            diagnostics.append(self._exit_diagnostic(rc, stderr))
        elif rc == 0 and not stats:  # exit() inside a kernel: looks like success otherwise
            message, fault = early_exit_message(rc, stderr)
            diagnostics.append(self._fault_diagnostic("EarlyExit", message, fault))

        ok = (
            rc == 0
            and not self._cancelled
            and bool(stats.get("ok", False))
            and not any(d.severity == "error" for d in diagnostics)
        )
        return RunResult(
            ok=ok,
            stats=stats,
            trace=trace,
            kernel_names=[str(k) for k in stats.get("kernel_names", [])],
            diagnostics=diagnostics,
            returncode=rc,
            stderr_tail=_tail(stderr),
            script_path=self.script_path,
            artifact_dir=self.artifact_dir,
            trace_path=self.trace_path if trace is not None else None,
            cancelled=self._cancelled,
            duration_s=duration,
            stdout=stdout,
            csp=csp,
            sites=sites,
        )

    # ---- diagnostics -------------------------------------------------------------------
    def node_at(self, file: str | None, line: int | None) -> str | None:
        """The node that produced ``file:line``: a script line, or a kernel's custom C++."""
        if not file:
            return None
        m = _CPP_SRC_FILE.match(file)
        if m:
            return self._kernel_node(m.group("name"))
        if line is None or not self.line_map:
            return None
        try:
            same = Path(file).resolve() == self.script_path
        except (OSError, ValueError):
            return None
        return self.line_map.get(int(line)) if same else None

    def _kernel_node(self, name: str) -> str | None:
        kernels = _kernels_of(self.script_path)
        found = kernels.get(name)
        return self.line_map.get(found.line) if found is not None else None

    def _diagnostic_of(self, d: dict[str, Any]) -> RunDiagnostic:
        file = d.get("file")
        line = d.get("line")
        file = None if file in (None, "", "<unknown>") else str(file)
        line = int(line) if isinstance(line, int) and line > 0 else None
        node_id = self.node_at(file, line)
        directive = d.get("directive")
        if isinstance(directive, str) and self.document is not None:
            # A schedule diagnostic: the line may hold a whole one-line chain; the node that
            # wrote this directive is one of its steps.
            node_id = schedule_node(self.document, node_id, directive)
        return RunDiagnostic(
            node_id=node_id,
            file=file,
            line=line,
            kind=str(d.get("kind", "Error")),
            message=str(d.get("message", "")),
            severity=str(d.get("severity", "error")),
            processes=_names(d.get("processes")),
            channels=_names(d.get("channels")),
            events=_names(d.get("events")),
        )

    def _script_frame(self, stderr: str) -> tuple[str, int] | None:
        """The innermost frame of the script in a faulthandler dump (main thread last)."""
        best: tuple[str, int] | None = None
        for ln in stderr.splitlines():
            m = _FAULT_FRAME.match(ln)
            if m and _same_file(m.group("file"), self.script_path):
                best = (m.group("file"), int(m.group("line")))
                break  # frames are innermost first within a thread
        return best

    def _fault_diagnostic(self, kind: str, message: str, fault: Any) -> RunDiagnostic:
        """A diagnostic at the kernel the runtime named (its ``@kernel`` line), if any."""
        if fault is None or fault.line is None:
            return RunDiagnostic(None, str(self.script_path), None, kind, message)
        file = str(fault.file)
        node = self.node_at(file, fault.line)
        if node is None:  # a located kernel of the exported script, found by name
            node = self._kernel_node(fault.kernel)
        return RunDiagnostic(node, file, fault.line, kind, message)

    def _crash_diagnostic(self, signum: int, stderr: str) -> RunDiagnostic:
        message, fault = crash_message(signum, stderr)
        if fault is not None:  # the runtime named the kernel and task (runtime/fault.h)
            return self._fault_diagnostic("Crash", message, fault)
        signame = message[message.index("(") + 1 : message.index(")")]
        kernels = _kernels_of(self.script_path)
        culprit: _KernelDef | None = None
        named = [
            m.group("name")
            for ln in stderr.splitlines()
            if not _FAULT_FRAME.match(ln)
            for m in _KERNEL_MENTION.finditer(ln)
            if m.group("name") in kernels
        ]
        custom = [k for k in kernels.values() if k.cpp]
        if named:
            culprit = kernels[named[-1]]
            what = f" while executing kernel {culprit.name}"
        elif len(custom) == 1:
            culprit = custom[0]
            what = f" while executing kernel {culprit.name} (its custom C++ is the likely cause)"
        elif custom:
            what = " while executing one of the kernels with custom C++: " + ", ".join(
                k.name for k in custom
            )
        else:
            what = "; no kernel has custom C++, so this is likely a bug in the PTO-WSP backend"
        message = f"the run crashed ({signame}){what}"
        if culprit is not None:
            file, line = str(self.script_path), culprit.line
            node = self.line_map.get(line)
        else:
            frame = self._script_frame(stderr)
            file, line = frame if frame is not None else (str(self.script_path), None)
            node = self.node_at(file, line)
        return RunDiagnostic(node, file, line, "Crash", message)

    def _exit_diagnostic(self, rc: int, stderr: str) -> RunDiagnostic:
        """A non-zero exit without a stats diagnostic: use the runner's one-line error."""
        for ln in reversed(stderr.splitlines()):
            m = _ONE_LINE_ERROR.match(ln.strip())
            if m:
                file, line = m.group("file"), int(m.group("line"))
                return RunDiagnostic(
                    self.node_at(file, line),
                    file,
                    line,
                    m.group("kind") or "Error",
                    m.group("message"),
                )
        last = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "")
        message = f"the run failed (exit code {rc})" + (f": {last}" if last else "")
        return RunDiagnostic(None, str(self.script_path), None, "ExitError", message)


# ------------------------------------------------------------------------------------------
# helpers


@dataclass(frozen=True)
class _KernelDef:
    name: str
    line: int  # the ``def`` line (the exporter maps it to the kernel.def node)
    cpp: bool  # has custom C++ (cpp_src / cpp_path / cpp_body_path / cpp_tu_path)


_kernel_cache: dict[tuple[str, float], dict[str, _KernelDef]] = {}


def _kernels_of(script: Path) -> dict[str, _KernelDef]:
    """Kernels the script defines with ``@kernel``/``@jit_kernel``, read statically (``ast``).

    Reading, not running, the script: the process that ran it may have crashed.
    """
    try:
        key = (str(script), script.stat().st_mtime)
    except OSError:
        return {}
    if key in _kernel_cache:
        return _kernel_cache[key]
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), str(script))
    except (OSError, SyntaxError, ValueError):
        return {}
    found: dict[str, _KernelDef] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for deco in node.decorator_list:
            target = deco.func if isinstance(deco, ast.Call) else deco
            dname = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if dname not in _KERNEL_DECORATORS:
                continue
            name, cpp = node.name, False
            if isinstance(deco, ast.Call):
                for kw in deco.keywords:
                    if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                        name = str(kw.value.value)
                    elif kw.arg in ("cpp_src", "cpp_path", "cpp_body_path", "cpp_tu_path") and not (
                        isinstance(kw.value, ast.Constant) and not kw.value.value
                    ):
                        cpp = True
            found[name] = _KernelDef(name, node.lineno, cpp)
    _kernel_cache[key] = found
    return found


def _same_file(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b
    except (OSError, ValueError):
        return False


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _tail(text: str, n: int = STDERR_TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


def _read_stats(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _load_csp(path: Path, trace: np.ndarray | None) -> CspTrace | None:
    """The run's CSP trace, when it has one that belongs to ``trace`` (else None)."""
    if trace is None or not path.is_file():
        return None
    try:
        csp = CspTrace.load(path)
    except (OSError, ValueError, PtoError):
        return None
    return csp if len(csp.task_process) == len(trace) else None
