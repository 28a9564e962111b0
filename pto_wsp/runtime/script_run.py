"""Running a DSL script under the runner protocol in a child process, and reading back its outcome.

``run_isolated`` is what ``pto-wsp run`` does with a script: the script runs as ``__main__``
(``_MainModule``) in a child (``child_main``, started through ``isolation.ChildProcess``: a fork
of the caller when it runs one thread, ``fork_server.ForkHere``, else a new interpreter) with
``--trace``/``--stats`` handed to its ``run_main`` (``runner``); a plain script without that
block is run the same way, then the last ``Program`` it built is executed unless one already
was. A kernel that crashes, calls ``exit()`` or outlives the timeout is a ``ScriptError`` naming
the kernel, the task and the ``@kernel`` line, never a dead or hung caller.

A script exported from another file (the Studio's project files, ``app.cli``) comes with an
``ExportedScript``: every ``file:line`` of the exported script in a message is replaced by what
wrote that line in the file the user named (``node n3``), since the user never saw the script.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PtoError
from ..fileio import atomic_write, rename_scratch
from .scripts import ScriptError, collect
from .trace_file import load_trace

__all__ = [
    "ExportedScript",
    "RunOutcome",
    "child_main",
    "error_line",
    "localise",
    "merge_diagnostics",
    "run_isolated",
    "warning_line",
]


@dataclass(frozen=True)
class ExportedScript:
    """A DSL script written from ``source`` (a file the user named that is not a script).

    ``line_map`` says what in ``source`` wrote each script line, as messages name it
    (``"node n3"``); messages about the script are reported against ``source`` with it.
    """

    source: Path
    script: Path
    line_map: dict[int, str]


def _where(diag: dict[str, Any], exported: ExportedScript | None) -> str:
    """``file:line`` of a diagnostic, or what in the source file produced that script line."""
    file, line = str(diag.get("file", "<unknown>")), int(diag.get("line", 0))
    if exported is not None and _same_file(file, exported.script):
        origin = exported.line_map.get(line)
        if origin is not None:
            return f"{exported.source}: {origin} (exported script line {line})"
        return f"{exported.source}: exported script line {line}"
    return f"{file}:{line}"


def localise(text: str, exported: ExportedScript | None) -> str:
    """``text`` with every ``<exported script>:<line>`` replaced by what wrote that line in the
    source file, and the script's (temporary) path by the source's: a user of a project file never
    saw the script, and its folder is gone by the time they read the message."""
    if exported is None:
        return text
    script = str(exported.script)

    def origin_at(m: re.Match[str]) -> str:
        line = int(m.group(1))
        return f"{exported.source}: {exported.line_map.get(line, f'exported script line {line}')}"

    text = re.sub(re.escape(script) + r":(\d+)", origin_at, text)
    return text.replace(script, str(exported.source))


def _same_file(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False


@dataclass
class RunOutcome:
    """What ``pto-wsp run`` reports: the runner-protocol stats, trace and kernel names."""

    stats: dict[str, Any]
    kernel_names: list[str]
    trace: np.ndarray | None
    ns_per_cycle: float = 1.0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    warning_lines: list[str] = field(default_factory=list)
    """``warnings`` as printed: located at the project node for an exported project."""


class _MainModule:
    """Runs a script as ``__main__`` (like ``runpy`` does) with ``argv``, keeping its globals.

    ``runpy.run_path`` drops the namespace when the script exits through ``run_main``'s
    ``sys.exit``; executing the code in a module object we hold keeps it, so the Programs the
    script built are still reachable afterwards. Everything process-wide that a script may
    change (``sys.argv``, ``sys.modules['__main__']``, ``sys.path``, ``sys.excepthook``) is
    restored.
    """

    def __init__(self, script: Path, argv: list[str]):
        self.script = script
        self.argv = argv
        self.module = types.ModuleType("__main__")
        self.module.__file__ = str(script)
        self.module.__dict__["__builtins__"] = __builtins__
        self.exit_code: int | str | None = None
        self.exited = False

    @property
    def namespace(self) -> dict[str, Any]:
        return self.module.__dict__

    def run(self) -> None:
        source = self.script.read_text(encoding="utf-8")
        code = compile(source, str(self.script), "exec")
        saved_argv, saved_path, saved_hook = sys.argv, list(sys.path), sys.excepthook
        saved_main = sys.modules.get("__main__")
        sys.argv = [str(self.script), *self.argv]
        sys.path.insert(0, str(self.script.resolve().parent))
        sys.modules["__main__"] = self.module
        try:
            exec(code, self.module.__dict__)
        except SystemExit as exit_:
            self.exited = True
            self.exit_code = exit_.code
        finally:
            sys.argv, sys.excepthook = saved_argv, saved_hook
            sys.path[:] = saved_path
            if saved_main is not None:
                sys.modules["__main__"] = saved_main
            else:
                sys.modules.pop("__main__", None)


def error_line(err: BaseException, exported: ExportedScript | None) -> str:
    from .runner import diagnostic_of

    diag = diagnostic_of(err)
    return f"{_where(diag, exported)}: {diag['kind']}: {localise(diag['message'], exported)}"


_OUTCOME_NAME, _OUTCOME_TRACE, _EXPORTED_NAME = "outcome.json", "outcome.npy", "exported.json"
_CHILD_STDOUT, _CHILD_STDERR = "stdout.log", "stderr.log"
_CHILD_BOOT = (
    "import sys; from pto_wsp.runtime.script_run import child_main; "
    "sys.exit(child_main(sys.argv[1:]))"
)


def _child_env() -> dict[str, str]:
    """The environment of the child: ours, with this ``pto_wsp`` importable."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder holding pto_wsp/
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_isolated(
    script: Path,
    target: str | None,
    work: Path,
    exported: ExportedScript | None,
    timeout: float | None,
) -> RunOutcome:
    """``_run_script_main`` in a child process (``child_main``); its outcome read back.

    The child is a fork of this process when it runs a single thread (``ForkHere``: the child
    starts with ``pto_wsp`` imported, as the script's first line needs), else a new
    interpreter; it behaves the same either way."""
    from .fork_server import ForkHere
    from .isolation import ChildProcess, crash_message, early_exit_message, kernel_faults

    outcome_path, trace_path = work / _OUTCOME_NAME, work / _OUTCOME_TRACE
    for stale in (outcome_path, trace_path):
        stale.unlink(missing_ok=True)
    if exported is not None:
        atomic_write(
            work / _EXPORTED_NAME,
            json.dumps(
                {
                    "source": str(exported.source),
                    "script": str(exported.script),
                    "line_map": {str(k): v for k, v in exported.line_map.items()},
                }
            ),
        )
    child = ChildProcess(
        [sys.executable, "-X", "faulthandler", "-c", _CHILD_BOOT, str(script), str(work)]
        + [target or ""],
        cwd=os.getcwd(),
        env=_child_env(),
        stdout_path=work / _CHILD_STDOUT,
        stderr_path=work / _CHILD_STDERR,
        launcher=ForkHere(),
    ).start()
    echo = _Echo(work / _CHILD_STDOUT)  # what the script prints appears as it runs
    try:
        rc = child.wait(timeout, tick=echo)
    except BaseException:  # Ctrl-C: never leave the child running
        child.cancel()
        child.wait()
        raise
    echo.rest()
    err = (work / _CHILD_STDERR).read_text(encoding="utf-8", errors="replace")
    sys.stderr.write(_child_stderr(err, rc, kernel_faults(err)))
    if child.timed_out:
        raise ScriptError(
            f"{script}: the run did not finish within {timeout:g} s (--timeout); it was stopped"
        )
    if rc < 0:
        message, fault = crash_message(-rc, err)
        raise ScriptError(_fault_text(script, message, fault, exported))
    data = _read_outcome(outcome_path)
    if data is None:
        message, fault = early_exit_message(rc, err)
        raise ScriptError(_fault_text(script, message, fault, exported))
    if not data.get("ok"):
        raise ScriptError(str(data.get("error")), [str(w) for w in data.get("warnings", [])])
    trace = load_trace(trace_path) if data.get("trace") else None
    return RunOutcome(
        dict(data["stats"]),
        list(data["kernel_names"]),
        trace,
        float(data["ns_per_cycle"]),
        list(data["warnings"]),
        list(data["warning_lines"]),
    )


class _Echo:
    """Copies what a child appended to its stdout file since the last call to our stdout."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0

    def __call__(self) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return
        end = chunk.rfind(b"\n") + 1  # whole lines only, until the child has ended
        if end:
            self.offset += end
            sys.stdout.write(chunk[:end].decode("utf-8", "replace"))
            sys.stdout.flush()

    def rest(self) -> None:
        """Everything left, including a last line without a newline."""
        self()
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                tail = f.read()
        except OSError:
            return
        self.offset += len(tail)
        sys.stdout.write(tail.decode("utf-8", "replace"))


def _child_stderr(err: str, rc: int, faults: list[Any]) -> str:
    """What the child wrote to stderr, without the runtime's fault lines (the error message
    says the same) and, when the runtime named the kernel that crashed, without Python's
    faulthandler dump (the stacks of our threads, nothing of the kernel's)."""
    lines = err.splitlines(keepends=True)
    if rc < 0 and any(f.signal is not None for f in faults):
        dump = next((i for i, ln in enumerate(lines) if ln.startswith("Fatal Python error:")), None)
        lines = lines[:dump] if dump is not None else lines
    from .isolation import FATAL_LINE

    return "".join(ln for ln in lines if not FATAL_LINE.match(ln.strip()))


def _fault_text(script: Path, message: str, fault: Any, exported: ExportedScript | None) -> str:
    """``message`` of a crash or early exit; for a project the kernel's node replaces the
    exported script's (temporary) file:line."""
    if fault is None or fault.line is None:
        return f"{script}: {message}"
    if exported is not None and _same_file(str(fault.file), exported.script):
        where = _where({"file": fault.file, "line": fault.line}, exported)
        return message.replace(f"({fault.loc})", f"({where})")
    return message


def _read_outcome(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def child_main(argv: list[str]) -> int:
    """The child of ``run_isolated``: ``SCRIPT WORKDIR TARGET`` (TARGET ``""``: none).

    Runs the script in this process and writes its outcome (or its ``ScriptError``) to
    ``WORKDIR/outcome.json`` and the trace to ``WORKDIR/outcome.npy``; no file means the
    process ended before the run finished.
    """
    script, work, target = Path(argv[0]), Path(argv[1]), argv[2] or None
    exported: ExportedScript | None = None
    info = _read_outcome(work / _EXPORTED_NAME)
    if info is not None:
        line_map = {int(k): str(v) for k, v in info["line_map"].items()}
        exported = ExportedScript(Path(info["source"]), Path(info["script"]), line_map)
    try:
        outcome = _run_script_main(script, target, work, exported)
    except ScriptError as err:
        data: dict[str, Any] = {"ok": False, "error": str(err), "warnings": err.warnings}
    except Exception as err:  # not a failure of the script: ours, reported the same way
        data = {"ok": False, "error": error_line(err, exported), "warnings": []}
    else:
        if outcome.trace is not None:
            _keep_trace(outcome.trace, work / _OUTCOME_TRACE)
        data = {
            "ok": True,
            "stats": outcome.stats,
            "kernel_names": outcome.kernel_names,
            "trace": outcome.trace is not None,
            "ns_per_cycle": outcome.ns_per_cycle,
            "warnings": outcome.warnings,
            "warning_lines": outcome.warning_lines,
        }
    sys.stdout.flush()
    sys.stderr.flush()
    atomic_write(work / _OUTCOME_NAME, json.dumps(data, default=str))
    return 0 if data["ok"] else 1  # the exit codes of ``pto-wsp``


def _keep_trace(trace: np.ndarray, path: Path) -> None:
    """The run's trace as ``path``: renamed when it is already a file beside it (the trace
    ``run_main`` wrote, mapped: copying it would read all of it into this process), else saved."""
    mapped = getattr(trace, "filename", None)  # np.memmap: the file it maps
    if mapped is not None and Path(mapped).resolve().parent == path.resolve().parent:
        rename_scratch(mapped, path)  # the mapping follows the file
    else:
        np.save(path, trace)


def _run_script_main(
    script: Path, target: str | None, work: Path, exported: ExportedScript | None
) -> RunOutcome:
    """Run ``script`` as ``__main__``; what it warns is recorded (not printed) and returned
    with the outcome, or attached to the ``ScriptError`` when the run fails."""
    from .runner import _warning_diagnostic

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            outcome = _run_recorded(script, target, work, exported)
    except ScriptError as err:
        early = [_warning_diagnostic(w) for w in caught]
        err.warnings = _unique([*err.warnings, *(warning_line(d, exported) for d in early)])
        raise
    found = merge_diagnostics(outcome.warnings, [_warning_diagnostic(w) for w in caught])
    outcome.warnings = found
    outcome.warning_lines = [warning_line(d, exported) for d in found]
    return outcome


def _run_recorded(
    script: Path, target: str | None, work: Path, exported: ExportedScript | None
) -> RunOutcome:
    trace_path, stats_path = work / "trace.npy", work / "stats.json"
    for leftover in (trace_path, stats_path):
        leftover.unlink(missing_ok=True)
    main = _MainModule(script, ["--trace", str(trace_path), "--stats", str(stats_path)])
    try:
        script.read_bytes()
    except OSError as err:
        raise ScriptError(f"{script}: cannot read: {err.strerror or err}") from err
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            main.run()
    except SyntaxError as err:
        raise ScriptError(f"{err.filename}:{err.lineno}: SyntaxError: {err.msg}") from err
    except Exception as err:
        raise ScriptError(error_line(err, exported), _programs_warnings(main, exported)) from err
    finally:
        _replay_stderr(captured.getvalue(), stats_path)
    _workloads, programs = collect(main.namespace)
    if main.exited and stats_path.is_file():
        return _outcome_of_run_main(script, stats_path, trace_path, programs, target, exported)
    if main.exited and main.exit_code not in (None, 0):
        raise ScriptError(f"{script}: the script called exit({main.exit_code!r})")
    return _outcome_of_plain_script(script, programs, target, exported)


def _programs_warnings(main: _MainModule, exported: ExportedScript | None) -> list[str]:
    """Warning lines of the programs a script built before it failed."""
    from .runner import program_diagnostics

    _workloads, programs = collect(main.namespace)
    return [warning_line(d, exported) for _n, p in programs for d in program_diagnostics(p)]


def merge_diagnostics(
    first: list[dict[str, Any]], more: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``first`` then the entries of ``more`` that are not the same diagnostic again."""

    def key(d: dict[str, Any]) -> tuple[Any, ...]:
        return (d.get("kind"), str(d.get("file")), int(d.get("line") or 0), d.get("message"))

    seen = {key(d) for d in first}
    return [*first, *(d for d in more if key(d) not in seen)]


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def warning_line(diag: dict[str, Any], exported: ExportedScript | None) -> str:
    """``where: warning: Kind: message`` (``where`` names the project node when exported)."""
    message = localise(str(diag.get("message")), exported)
    return f"{_where(diag, exported)}: warning: {diag.get('kind')}: {message}"


def _replay_stderr(text: str, stats_path: Path) -> None:
    """The script's stderr, minus run_main's one-line error (``run`` reports it, located)."""
    drop: set[str] = set()
    if stats_path.is_file():
        try:
            diags = json.loads(stats_path.read_text(encoding="utf-8")).get("diagnostics", [])
        except (OSError, ValueError):
            diags = []
        drop = {
            f"{d.get('file')}:{d.get('line')}: Error: {d.get('kind')}: {d.get('message')}\n"
            for d in diags
            if d.get("severity") == "error"
        }
    for block in drop:  # a compiler's message spans several lines
        text = text.replace(block, "")
    sys.stderr.write(text)


def _outcome_of_run_main(
    script: Path,
    stats_path: Path,
    trace_path: Path,
    programs: list[tuple[str, Any]],
    target: str | None,
    exported: ExportedScript | None,
) -> RunOutcome:
    data = json.loads(stats_path.read_text(encoding="utf-8"))
    diags = list(data.get("diagnostics", []))
    errors = [d for d in diags if d.get("severity") == "error"]
    warnings_ = [d for d in diags if d.get("severity") == "warning"]
    if errors:
        d = errors[0]
        raise ScriptError(
            f"{_where(d, exported)}: {d.get('kind')}: {localise(str(d.get('message')), exported)}",
            [warning_line(w, exported) for w in warnings_],
        )
    if target is not None and data.get("target") not in (None, target):
        raise ScriptError(
            f"{script}: its run_main block runs a program compiled for {data.get('target')!r}; "
            f"--target {target} cannot change a script's own compile(target=...): edit the "
            f"script, or drop --target"
        )
    trace = load_trace(trace_path)
    done = [p for _name, p in programs if p.is_complete()]
    ns = done[-1].ns_per_cycle if done else 1.0
    stats = {k: v for k, v in data.items() if k != "diagnostics"}
    return RunOutcome(stats, list(data.get("kernel_names", [])), trace, ns, warnings_)


def _outcome_of_plain_script(
    script: Path,
    programs: list[tuple[str, Any]],
    target: str | None,
    exported: ExportedScript | None,
) -> RunOutcome:
    if not programs:
        raise ScriptError(
            f"{script} builds no Program: compile a workload (program = "
            f"workload.compile(target=...)) so that there is something to run"
        )
    from .runner import program_diagnostics

    done = [(n, p) for n, p in programs if p.is_complete()]
    name, program = done[-1] if done else programs[-1]
    try:
        if target is not None and program.target != target:
            program = program.workload.compile(target=target)
            done = []
        if not done:
            program.execute()
            program.synchronize()
        trace = np.asarray(program.trace) if program.runner is not None else None
    except PtoError as err:
        early = [warning_line(d, exported) for d in program_diagnostics(program)]
        raise ScriptError(f"{name}: {error_line(err, exported)}", early) from err
    stats = {
        "ok": True,
        "executed": True,
        "target": program.target,
        **_stats_fields(program.stats),
        "kernel_names": list(program.kernel_names),
    }
    return RunOutcome(
        stats,
        list(program.kernel_names),
        trace,
        program.ns_per_cycle,
        program_diagnostics(program),
    )


def _stats_fields(stats: Any) -> dict[str, Any]:
    return {
        "compile_time_ms": float(stats.compile_time_ms),
        "execute_time_ms": float(stats.execute_time_ms),
        "task_count": int(stats.task_count),
        "total_cycles": int(stats.total_cycles),
    }
