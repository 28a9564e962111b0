"""The ``pto-wsp`` command line.

* ``pto-wsp ir FILE.py`` runs a DSL script and prints the IR of every workload it builds;
* ``pto-wsp run FILE [--target T] [--trace OUT.json|OUT.npy] [--stats OUT.json]`` runs a DSL
  script or a project file and prints its stats and a per-kernel / per-worker analysis;
* ``pto-wsp export PROJECT [-o script.py]`` writes the DSL script of a project file;
* ``pto-wsp emit FILE [--target ascend_npu|cpu_sim] -o DIR`` copies the emitted source tree;
* ``pto-wsp validate PROJECT`` loads a project and lists its problems (``node-id field: msg``);
* ``pto-wsp version`` prints the package and backend versions.

Scripts are executed as they are, with nothing patched. For ``ir`` and ``emit`` ``runpy`` runs
the file under a module name other than ``__main__`` (a script's own "run me" block stays
inactive) and the workloads / programs are collected afterwards from the objects its globals
reach (``Workload``s, also inside lists, tuples, dicts and ``Program``s). ``run`` executes the
script as ``__main__`` under the runner protocol (``pto_wsp.runtime.runner``: ``--trace``/``--stats``
handed to its ``run_main``); a plain script without that block is run the same way, then the
last ``Program`` it built is executed unless one already was. It does so in a child process
(``pto_wsp.runtime.isolation``): a kernel that crashes, calls ``exit()`` or outlives ``--timeout
SECONDS`` is a message naming the kernel, the task and the ``@kernel`` line.

Project files (``.json``, ``.pto.json``) are read and exported with the studio's model
(``app.model``), imported lazily: ``pto_wsp`` itself never imports Qt or the app.

Exit codes: 0 success, 1 a user error (missing file, the script failed, nothing to show,
invalid project) with a message naming the file and line (or the node), 2 usage.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import runpy
import shutil
import sys
import tempfile
import traceback
import types
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .backends import TARGETS
from .errors import PtoError
from .fileio import atomic_write, scratch_dir

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2
RUN_NAME = "__pto_wsp_script__"


class ScriptError(Exception):
    """A DSL script could not be run; ``str()`` is a message for the user.

    ``warnings`` are the lines (``where: warning: Kind: message``) of what the script warned
    before it failed, e.g. schedule directives its target only annotates: ``main`` prints them
    ahead of the error, so a failed run still says what would not have been honoured.
    """

    def __init__(self, message: str, warnings: list[str] | None = None):
        super().__init__(message)
        self.warnings: list[str] = list(warnings or [])


@dataclass
class ScriptResult:
    """What a script left behind: its globals, and the workloads / programs they reach."""

    path: Path
    namespace: dict[str, Any]
    workloads: list[tuple[str, Any]]
    programs: list[tuple[str, Any]]


def run_script(path: str | Path) -> ScriptResult:
    """Execute the DSL script at ``path`` and collect what it built.

    Raises ``ScriptError`` with a user-facing message when the file is missing or the script
    raises; a ``PtoError`` keeps its own message (which already names the user's line).
    """
    script = Path(path)
    if not script.is_file():
        raise ScriptError(f"{script}: no such file")
    if script.suffix != ".py":
        raise ScriptError(f"{script}: expected a Python DSL script (.py)")
    script_dir = str(script.resolve().parent)
    sys.path.insert(0, script_dir)  # the script's sibling modules import as when run directly
    try:
        namespace = runpy.run_path(str(script), run_name=RUN_NAME)
    except PtoError as err:
        raise ScriptError(f"{script}: {type(err).__name__}: {err}") from err
    except SystemExit as err:
        raise ScriptError(f"{script}: the script called exit({err.code})") from err
    except Exception as err:
        raise ScriptError(_describe_script_failure(script, err)) from err
    finally:
        if script_dir in sys.path:
            sys.path.remove(script_dir)
    workloads, programs = collect(namespace)
    return ScriptResult(script, namespace, workloads, programs)


def _describe_script_failure(script: Path, err: Exception) -> str:
    """The exception and the innermost frame of the script itself (the user's line)."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == script]
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else str(script)
    return f"{where}: {type(err).__name__}: {err}"


def collect(namespace: dict[str, Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """Workloads and Programs reachable from a script's globals, in definition order.

    A Program contributes its workload too (``program.workload``); each object appears once,
    under the first name that reaches it.
    """
    from .language.workload import Workload
    from .runtime.program import Program

    workloads: list[tuple[str, Any]] = []
    programs: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for name, value in _walk(namespace):
        if id(value) in seen:
            continue
        if isinstance(value, Workload):
            seen.add(id(value))
            workloads.append((name, value))
        elif isinstance(value, Program):
            seen.add(id(value))
            programs.append((name, value))
            inner = getattr(value, "workload", None)
            if isinstance(inner, Workload) and id(inner) not in seen:
                seen.add(id(inner))
                workloads.append((f"{name}.workload", inner))
    return workloads, programs


def _walk(namespace: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        yield name, value
        if isinstance(value, dict):
            for key, item in value.items():
                yield f"{name}[{key!r}]", item
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                yield f"{name}[{i}]", item


def scheduled_only(workloads: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """``workloads`` without the stages a schedule chain passed through.

    ``w = f(); program = w.spatial_map(...).task_graph(...).compile()`` leaves ``w`` (no
    schedule) and the scheduled copy in a script's globals; both share the traced body. The
    unscheduled stage is not a workload of its own: lowering it alone would report what only
    its schedule provides (a collective needs the mesh of ``spatial_map``), so it is dropped when a
    later schedule step of the same body is present.
    """
    items = list(workloads)

    def steps(wl: Any) -> tuple[Any, ...]:
        return tuple(getattr(getattr(wl, "schedule", None), "steps", ()) or ())

    kept: list[tuple[str, Any]] = []
    for name, wl in items:
        mine = steps(wl)
        extended = any(
            other is not wl
            and getattr(other, "root", None) is getattr(wl, "root", object())
            and len(steps(other)) > len(mine)
            and steps(other)[: len(mine)] == mine
            for _, other in items
        )
        if not extended:
            kept.append((name, wl))
    return kept


def print_ir(workloads: Iterable[tuple[str, Any]], out: TextIO) -> None:
    """The IR text of each workload, headed by the name the script gave it."""
    from .compiler.lowering import lower

    for i, (name, wl) in enumerate(scheduled_only(workloads)):
        if i:
            out.write("\n")
        out.write(f"// {name}\n")
        out.write(lower(wl).print().rstrip("\n") + "\n")


def _version_text() -> str:
    from . import __version__

    try:
        from . import _core

        backend = getattr(_core, "BACKEND_VERSION", "unknown")
    except ImportError as err:  # the extension is not built: say so, still print ours
        backend = f"not built ({err})"
    return f"pto-wsp {__version__} (backend {backend})"


# --------------------------------------------------------------------------------------------
# project files (app.model, imported lazily)

PROJECT_SUFFIXES = (".json",)  # includes .pto.json


def is_project_file(path: Path) -> bool:
    return path.suffix.lower() in PROJECT_SUFFIXES


def _model() -> Any:
    """``app.model`` (Qt-free); a clear ``ScriptError`` when the studio's model is missing."""
    try:
        from app.model import export, io, registry

        return types.SimpleNamespace(io=io, export=export, registry=registry)
    except ImportError as err:
        raise ScriptError(
            f"project files need the studio's model (app.model), which cannot be imported: "
            f"{err}; install pto-wsp with the 'app' extra or pass a DSL script (.py)"
        ) from err


def load_project(path: str | Path) -> Any:
    """The ``Document`` of a project file; ``ScriptError`` with the file and field at fault."""
    project = Path(path)
    if not project.is_file():
        raise ScriptError(f"{project}: no such file")
    model = _model()
    try:
        return model.io.load(project)
    except PtoError as err:  # ProjectError names the file and the node / field
        raise ScriptError(str(err)) from err


@dataclass
class ExportedProject:
    """A project written out as a DSL script; ``line_map`` maps script lines to node ids."""

    project: Path
    script: Path
    line_map: dict[int, str]


def export_project(project: Path, doc: Any, script: Path, target: str | None) -> ExportedProject:
    """Export ``doc`` to ``script``; ``target`` (if given) replaces the target of every program
    frame that sets one (the schedule sheet's ``target``)."""
    model = _model()
    if target is not None:
        doc = doc.copy()
        for node, _graph, _owner in doc.walk():
            if model.registry.kind_of(node).program and node.props.get("target"):
                node.props["target"] = target
    try:
        result = model.export.export_script(doc)
    except model.export.ExportError as err:
        raise ScriptError(f"{project}: cannot export: {err}") from err
    atomic_write(script, result.source)
    return ExportedProject(project, script, dict(result.line_map))


def _where(diag: dict[str, Any], exported: ExportedProject | None) -> str:
    """``file:line`` of a diagnostic, or the project node that produced that script line."""
    file, line = str(diag.get("file", "<unknown>")), int(diag.get("line", 0))
    if exported is not None and _same_file(file, exported.script):
        node = exported.line_map.get(line)
        if node is not None:
            return f"{exported.project}: node {node} (exported script line {line})"
        return f"{exported.project}: exported script line {line}"
    return f"{file}:{line}"


def _localise(text: str, exported: ExportedProject | None) -> str:
    """``text`` with every ``<exported script>:<line>`` replaced by the project node that wrote
    that line, and the script's (temporary) path by the project's: a user of a project file never
    saw the script, and its folder is gone by the time they read the message."""
    if exported is None:
        return text
    script = str(exported.script)

    def node_at(m: re.Match[str]) -> str:
        line = int(m.group(1))
        node = exported.line_map.get(line)
        where = f"node {node}" if node is not None else f"exported script line {line}"
        return f"{exported.project}: {where}"

    text = re.sub(re.escape(script) + r":(\d+)", node_at, text)
    return text.replace(script, str(exported.project))


def _same_file(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# run


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


def _error_line(err: BaseException, exported: ExportedProject | None) -> str:
    from .runtime.runner import diagnostic_of

    diag = diagnostic_of(err)
    return f"{_where(diag, exported)}: {diag['kind']}: {_localise(diag['message'], exported)}"


def _ns_per_cycle(program: Any) -> float:
    table = getattr(getattr(program, "runner", None), "cost_table", None)
    return float(getattr(table, "ns_per_cycle", 1.0))


def run_file(
    path: str | Path,
    target: str | None = None,
    workdir: str | Path | None = None,
    timeout: float | None = None,
) -> RunOutcome:
    """Run a DSL script or project file (see the module doc); ``ScriptError`` on failure.

    The program runs in a child process (``pto_wsp.runtime.isolation``): a kernel that crashes, calls
    ``exit()`` or outlives ``timeout`` seconds is a ``ScriptError`` naming it, never a dead or
    hung ``pto-wsp``. ``workdir`` receives the exported script of a project and the
    runner-protocol files (a temporary directory by default).
    """
    source = Path(path)
    if not source.is_file():
        raise ScriptError(f"{source}: no such file")
    if target is not None and target not in TARGETS:
        raise ScriptError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    with scratch_dir("pto-wsp-run") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        exported: ExportedProject | None = None
        if is_project_file(source):
            doc = load_project(source)
            _say_code_runs(source, doc)
            stem = source.name.split(".")[0] or "project"
            exported = export_project(source, doc, work / f"{stem}_exported.py", target)
            script = exported.script
        elif source.suffix == ".py":
            script = source
        else:
            raise ScriptError(
                f"{source}: expected a DSL script (.py) or a project file (.json / .pto.json)"
            )
        return _run_isolated(script, target, work, exported, timeout)


# The child's files in the work directory (``_run_isolated`` <-> ``child_main``).
_OUTCOME_NAME, _OUTCOME_TRACE, _EXPORTED_NAME = "outcome.json", "outcome.npy", "exported.json"
_CHILD_STDOUT, _CHILD_STDERR = "stdout.log", "stderr.log"
_CHILD_BOOT = "import sys; from pto_wsp.cli import child_main; sys.exit(child_main(sys.argv[1:]))"


def _child_env() -> dict[str, str]:
    """The environment of the child: ours, with this ``pto_wsp`` (and ``app``) importable."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _run_isolated(
    script: Path,
    target: str | None,
    work: Path,
    exported: ExportedProject | None,
    timeout: float | None,
) -> RunOutcome:
    """``_run_script_main`` in a child process (``child_main``); its outcome read back."""
    from .runtime.isolation import ChildProcess, crash_message, early_exit_message, kernel_faults

    outcome_path, trace_path = work / _OUTCOME_NAME, work / _OUTCOME_TRACE
    for stale in (outcome_path, trace_path):
        stale.unlink(missing_ok=True)
    if exported is not None:
        atomic_write(
            work / _EXPORTED_NAME,
            json.dumps(
                {
                    "project": str(exported.project),
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
    trace = np.load(trace_path) if data.get("trace") and trace_path.is_file() else None
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
    from .runtime.isolation import FATAL_LINE

    return "".join(ln for ln in lines if not FATAL_LINE.match(ln.strip()))


def _fault_text(script: Path, message: str, fault: Any, exported: ExportedProject | None) -> str:
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
    """The child of ``_run_isolated``: ``SCRIPT WORKDIR TARGET`` (TARGET ``""``: none).

    Runs the script in this process and writes its outcome (or its ``ScriptError``) to
    ``WORKDIR/outcome.json`` and the trace to ``WORKDIR/outcome.npy``; no file means the
    process ended before the run finished.
    """
    script, work, target = Path(argv[0]), Path(argv[1]), argv[2] or None
    exported: ExportedProject | None = None
    info = _read_outcome(work / _EXPORTED_NAME)
    if info is not None:
        line_map = {int(k): str(v) for k, v in info["line_map"].items()}
        exported = ExportedProject(Path(info["project"]), Path(info["script"]), line_map)
    try:
        outcome = _run_script_main(script, target, work, exported)
    except ScriptError as err:
        data: dict[str, Any] = {"ok": False, "error": str(err), "warnings": err.warnings}
    except Exception as err:  # not a failure of the script: ours, reported the same way
        data = {"ok": False, "error": _error_line(err, exported), "warnings": []}
    else:
        if outcome.trace is not None:
            np.save(work / _OUTCOME_TRACE, outcome.trace)
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
    return EXIT_OK if data["ok"] else EXIT_USER_ERROR


def _run_script_main(
    script: Path, target: str | None, work: Path, exported: ExportedProject | None
) -> RunOutcome:
    """Run ``script`` as ``__main__``; what it warns is recorded (not printed) and returned
    with the outcome, or attached to the ``ScriptError`` when the run fails."""
    from .runtime.runner import _warning_diagnostic

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            outcome = _run_recorded(script, target, work, exported)
    except ScriptError as err:
        early = [_warning_diagnostic(w) for w in caught]
        err.warnings = _unique([*err.warnings, *(_warning_line(d, exported) for d in early)])
        raise
    found = _merge_diagnostics(outcome.warnings, [_warning_diagnostic(w) for w in caught])
    outcome.warnings = found
    outcome.warning_lines = [_warning_line(d, exported) for d in found]
    return outcome


def _run_recorded(
    script: Path, target: str | None, work: Path, exported: ExportedProject | None
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
        raise ScriptError(_error_line(err, exported), _programs_warnings(main, exported)) from err
    finally:
        _replay_stderr(captured.getvalue(), stats_path)
    _workloads, programs = collect(main.namespace)
    if main.exited and stats_path.is_file():
        return _outcome_of_run_main(script, stats_path, trace_path, programs, target, exported)
    if main.exited and main.exit_code not in (None, 0):
        raise ScriptError(f"{script}: the script called exit({main.exit_code!r})")
    return _outcome_of_plain_script(script, programs, target, exported)


def _programs_warnings(main: _MainModule, exported: ExportedProject | None) -> list[str]:
    """Warning lines of the programs a script built before it failed."""
    from .runtime.runner import program_diagnostics

    _workloads, programs = collect(main.namespace)
    return [_warning_line(d, exported) for _n, p in programs for d in program_diagnostics(p)]


def _merge_diagnostics(
    first: list[dict[str, Any]], more: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``first`` then the entries of ``more`` that are not the same diagnostic again."""

    def key(d: dict[str, Any]) -> tuple[Any, ...]:
        return (d.get("kind"), str(d.get("file")), int(d.get("line") or 0), d.get("message"))

    seen = {key(d) for d in first}
    return [*first, *(d for d in more if key(d) not in seen)]


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _warning_line(diag: dict[str, Any], exported: ExportedProject | None) -> str:
    """``where: warning: Kind: message`` (``where`` names the project node when exported)."""
    message = _localise(str(diag.get("message")), exported)
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
    exported: ExportedProject | None,
) -> RunOutcome:
    data = json.loads(stats_path.read_text(encoding="utf-8"))
    diags = list(data.get("diagnostics", []))
    errors = [d for d in diags if d.get("severity") == "error"]
    warnings_ = [d for d in diags if d.get("severity") == "warning"]
    if errors:
        d = errors[0]
        raise ScriptError(
            f"{_where(d, exported)}: {d.get('kind')}: {_localise(str(d.get('message')), exported)}",
            [_warning_line(w, exported) for w in warnings_],
        )
    if target is not None and data.get("target") not in (None, target):
        raise ScriptError(
            f"{script}: its run_main block runs a program compiled for {data.get('target')!r}; "
            f"--target {target} cannot change a script's own compile(target=...): edit the "
            f"script, or drop --target"
        )
    trace = np.load(trace_path) if trace_path.is_file() else None
    done = [p for _name, p in programs if p.is_complete()]
    ns = _ns_per_cycle(done[-1]) if done else 1.0
    stats = {k: v for k, v in data.items() if k != "diagnostics"}
    return RunOutcome(stats, list(data.get("kernel_names", [])), trace, ns, warnings_)


def _outcome_of_plain_script(
    script: Path,
    programs: list[tuple[str, Any]],
    target: str | None,
    exported: ExportedProject | None,
) -> RunOutcome:
    if not programs:
        raise ScriptError(
            f"{script} builds no Program: compile a workload (program = "
            f"workload.compile(target=...)) so that there is something to run"
        )
    from .runtime.runner import program_diagnostics

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
        early = [_warning_line(d, exported) for d in program_diagnostics(program)]
        raise ScriptError(f"{name}: {_error_line(err, exported)}", early) from err
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
        _ns_per_cycle(program),
        program_diagnostics(program),
    )


def _stats_fields(stats: Any) -> dict[str, Any]:
    return {
        "compile_time_ms": float(stats.compile_time_ms),
        "execute_time_ms": float(stats.execute_time_ms),
        "task_count": int(stats.task_count),
        "total_cycles": int(stats.total_cycles),
    }


def _untraced(outcome: RunOutcome) -> bool:
    """Tasks ran but no per-task record was kept (the schedule's ``TracePolicy.none()``)."""
    return (
        outcome.trace is not None
        and len(outcome.trace) == 0
        and int(outcome.stats.get("task_count", 0)) > 0
    )


def _analysis(outcome: RunOutcome) -> Any:
    """The per-kernel / per-worker / critical-path analysis (``app.views.run_stats``); None
    without per-task records (an analysis of none would claim a makespan of 0)."""
    if outcome.trace is None or _untraced(outcome):
        return None
    from .runtime.trace_analysis import analyse_trace

    return analyse_trace(outcome.trace, outcome.kernel_names)


def format_outcome(outcome: RunOutcome, analysis: Any) -> str:
    """The stats ``pto-wsp run`` prints: ProgramStats, then kernels, workers, critical path."""
    s = outcome.stats
    lines = [
        f"target           {s.get('target')}",
        f"compile_time_ms  {float(s.get('compile_time_ms', 0.0)):.3f}",
        f"execute_time_ms  {float(s.get('execute_time_ms', 0.0)):.3f}",
        f"task_count       {int(s.get('task_count', 0))}",
        f"total_cycles     {int(s.get('total_cycles', 0))}",
    ]
    if analysis is None:
        if _untraced(outcome):
            lines.append(
                "trace            no per-task trace recorded (TracePolicy.none()): "
                "no kernel / worker analysis"
            )
        return "\n".join(lines) + "\n"
    if analysis.kernels:
        width = max(len(k.name) for k in analysis.kernels)
        lines.append("kernels:")
        for k in analysis.kernels:
            lines.append(
                f"  {k.name:<{width}}  tasks {k.task_count:>8}  cycles {k.total_cycles:>12}"
                f"  mean {k.mean_cycles:>10.1f}  min {k.min_cycles}  max {k.max_cycles}"
            )
    if analysis.workers:
        lines.append(f"workers (mean utilisation {analysis.mean_utilisation:.1%}):")
        for w in analysis.workers:
            lines.append(
                f"  worker {w.worker:>3}  tasks {w.task_count:>8}  busy {w.busy_cycles:>12}"
                f"  utilisation {w.utilisation:6.1%}"
            )
    cp = analysis.critical_path
    lines.append(
        f"critical path    {cp.cycles} cycles over {len(cp.tasks)} tasks "
        f"(makespan {analysis.makespan})"
    )
    return "\n".join(lines) + "\n"


TRACE_SUFFIXES = (".json", ".npy")


def write_trace(outcome: RunOutcome, out: Path) -> None:
    """``.npy``: the structured array (``np.save``); ``.json``: Chrome trace-event JSON."""
    if outcome.trace is None:
        raise ScriptError(
            f"--trace {out}: target {outcome.stats.get('target')!r} recorded no per-task trace"
        )
    if _untraced(outcome):
        print(
            f"{out}: note: the schedule's TracePolicy.none() kept no per-task records; "
            "the trace written is empty",
            file=sys.stderr,
        )
    if out.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, outcome.trace)
        atomic_write(out, buffer.getvalue())
        return
    from .runtime.trace import chrome_trace

    data = chrome_trace(outcome.trace, outcome.kernel_names, outcome.ns_per_cycle)
    atomic_write(out, json.dumps(data))


def write_stats(outcome: RunOutcome, analysis: Any, out: Path) -> None:
    """Runner-protocol stats JSON plus ``analysis`` and the run's warnings."""
    data = dict(outcome.stats)
    data["diagnostics"] = outcome.warnings
    data["analysis"] = analysis.to_dict() if analysis is not None else None
    atomic_write(out, json.dumps(data, indent=2, default=str) + "\n")


def _cmd_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    trace_out = Path(args.trace) if args.trace else None
    if trace_out is not None and trace_out.suffix.lower() not in TRACE_SUFFIXES:
        parser.error(f"--trace {trace_out}: expected a .json (Chrome trace) or .npy file")
    if args.timeout is not None and not args.timeout > 0:
        parser.error(f"--timeout {args.timeout:g}: expected a number of seconds > 0")
    outcome = run_file(args.file, args.target, timeout=args.timeout)
    analysis = _analysis(outcome)
    for line in outcome.warning_lines:
        print(line, file=sys.stderr)
    try:
        if trace_out is not None:
            write_trace(outcome, trace_out)
        if args.stats:
            write_stats(outcome, analysis, Path(args.stats))
    except OSError as err:
        raise ScriptError(f"{err.filename}: cannot write: {err.strerror}") from err
    sys.stdout.write(format_outcome(outcome, analysis))
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# export, emit, validate


def _cmd_export(args: argparse.Namespace) -> int:
    project = Path(args.project)
    doc = load_project(project)
    model = _model()
    try:
        result = model.export.export_script(doc)
    except model.export.ExportError as err:
        raise ScriptError(f"{project}: cannot export: {err}") from err
    if args.output in (None, "-"):
        sys.stdout.write(result.source)
        return EXIT_OK
    try:
        atomic_write(Path(args.output), result.source)
    except OSError as err:
        raise ScriptError(f"{args.output}: cannot write: {err.strerror}") from err
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _cmd_emit(args: argparse.Namespace) -> int:
    source, dest = Path(args.file), Path(args.output)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScriptError(f"{dest}: exists and is not an empty directory; choose a new one")
    with tempfile.TemporaryDirectory(prefix="pto-wsp-emit-") as tmp:
        exported: ExportedProject | None = None
        if is_project_file(source):
            doc = load_project(source)
            stem = source.name.split(".")[0] or "project"
            exported = export_project(source, doc, Path(tmp) / f"{stem}_exported.py", args.target)
            script = exported.script
        else:
            script = source
        with warnings.catch_warnings(record=True) as caught:
            trees, found = _emitted_trees(source, script, args.target, exported)
        from .runtime.runner import _warning_diagnostic

        found = _merge_diagnostics(found, [_warning_diagnostic(w) for w in caught])
        for diag in found:
            print(_warning_line(diag, exported), file=sys.stderr)
    count = 0
    dest.mkdir(parents=True, exist_ok=True)
    for name, tree in trees:
        into = dest if len(trees) == 1 else dest / _safe_dir_name(name)
        shutil.copytree(tree, into, dirs_exist_ok=True)
        count += sum(1 for p in into.rglob("*") if p.is_file())
    print(f"emitted {args.target} sources of {len(trees)} program(s): {count} files in {dest}")
    return EXIT_OK


def _emitted_trees(
    source: Path, script: Path, target: str, exported: ExportedProject | None
) -> tuple[list[tuple[str, Path]], list[dict[str, Any]]]:
    """The emitted source tree of each program ``script`` builds, compiled for ``target``,
    and the schedule diagnostics of those programs (directives ``target`` only annotates)."""
    from .runtime.runner import program_diagnostics

    try:
        result = run_script(script)
    except ScriptError as err:
        raise ScriptError(_localise(str(err), exported)) from err
    if not result.programs:
        raise ScriptError(f"{source} builds no Program: nothing to emit")
    trees: list[tuple[str, Path]] = []
    found: list[dict[str, Any]] = []
    for name, program in result.programs:
        try:
            if program.target != target:
                program = program.workload.compile(target=target)
        except PtoError as err:
            raise ScriptError(f"{name}: {_error_line(err, exported)}") from err
        found = _merge_diagnostics(found, program_diagnostics(program))
        where = program.codegen_artifact_dir
        if not where or not Path(where).is_dir():
            raise ScriptError(f"{name}: target {target!r} left no emitted source tree")
        trees.append((name, Path(where)))
    return trees, found


def _safe_dir_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "program"


def _say_code_runs(source: Path, doc: Any) -> None:
    """``pto-wsp run`` of a code-bearing project: the command is the consent; say so, once."""
    from app.model import trust

    carriers = trust.code_carriers(doc)
    if carriers:
        print(f"pto-wsp: {trust.run_notice(source, carriers)}", file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    from app.model import trust

    doc = load_project(args.project)
    diagnostics = doc.validate()
    carriers = trust.code_carriers(doc)
    if carriers:  # not a problem: what a run would compile and execute, so the user knows
        print(f"{args.project}: carries C++ code: {trust.kernel_list(carriers)}")
    for d in diagnostics:
        print(f"{d.node_id or '<document>'} {d.field or '-'}: {d.message}")
    if diagnostics:
        print(f"{args.project}: {len(diagnostics)} problem(s)", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"{args.project}: ok")
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# entry point


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pto-wsp", description=__doc__.split("\n\n")[0].replace("``", "")
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ir = sub.add_parser("ir", help="run a DSL script and print the IR of its workloads")
    ir.add_argument("script", metavar="FILE.py", help="the DSL script to run")
    run = sub.add_parser("run", help="run a DSL script or project file and print its stats")
    run.add_argument("file", metavar="FILE", help="a DSL script (.py) or project (.json)")
    run.add_argument(
        "--target",
        choices=TARGETS,
        help="compile for this target (project files, and scripts without run_main)",
    )
    run.add_argument(
        "--trace", metavar="OUT.json|OUT.npy", help="write the trace (Chrome JSON or numpy)"
    )
    run.add_argument("--stats", metavar="OUT.json", help="write stats and analysis as JSON")
    run.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop the run after this many seconds (it runs in a child process)",
    )
    export = sub.add_parser("export", help="write the DSL script of a project file")
    export.add_argument("project", metavar="PROJECT", help="the project file (.json)")
    export.add_argument("-o", "--output", metavar="script.py", help="output file (default stdout)")
    emit = sub.add_parser("emit", help="compile a project (or script) and copy the emitted tree")
    emit.add_argument("file", metavar="PROJECT", help="a project file (.json) or DSL script")
    emit.add_argument("--target", choices=TARGETS, default="ascend_npu")
    emit.add_argument("-o", "--output", metavar="DIR", required=True, help="a new directory")
    validate = sub.add_parser("validate", help="load a project file and list its problems")
    validate.add_argument("project", metavar="PROJECT", help="the project file (.json)")
    sub.add_parser("version", help="print the package and backend versions")
    return parser


def _cmd_ir(args: argparse.Namespace) -> int:
    result = run_script(args.script)
    if not result.workloads:
        raise ScriptError(f"{args.script} builds no workload")
    try:
        print_ir(result.workloads, sys.stdout)
    except PtoError as err:
        raise ScriptError(f"{type(err).__name__}: {err}") from err
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pto-wsp``; returns the process exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "version":
            print(_version_text())
            return EXIT_OK
        commands = {
            "ir": lambda: _cmd_ir(args),
            "run": lambda: _cmd_run(args, parser),
            "export": lambda: _cmd_export(args),
            "emit": lambda: _cmd_emit(args),
            "validate": lambda: _cmd_validate(args),
        }
        return commands[args.command]()
    except SystemExit as exit_:  # argparse: --help exits 0, usage errors exit 2
        return int(exit_.code or 0) if isinstance(exit_.code, int | None) else EXIT_USAGE
    except ScriptError as err:
        for line in err.warnings:
            print(line, file=sys.stderr)
        print(f"pto-wsp: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
