"""The ``pto-wsp`` command line at the DSL level.

* ``pto-wsp ir FILE.py`` runs a DSL script and prints the IR of every workload it builds;
* ``pto-wsp run FILE [--target T] [--trace OUT.json|OUT.npy] [--stats OUT.json]`` runs a DSL
  script and prints its stats and a per-kernel / per-worker analysis (``--pto-isa DIR``: the
  PTO-ISA checkout for kernels whose C++ uses PTO-ISA, docs/kernels.md);
* ``pto-wsp emit FILE [--target ascend_npu|cpu_sim] -o DIR`` copies the emitted source tree;
  with ``--verify`` (ascend_npu) it also runs the AICore kernels on the host against real
  PTO-ISA (``--pto-isa DIR`` or ``$PTO_ISA_ROOT``) and compares them with cpu_sim, per kernel;
* ``pto-wsp version`` prints the package and backend versions.

Scripts are executed as they are, with nothing patched: ``ir`` and ``emit`` run them in this
process (``runtime.scripts``), ``run`` in a child process under the runner protocol
(``runtime.script_run``: a kernel that crashes, calls ``exit()`` or outlives ``--timeout SECONDS``
is a message naming the kernel, the task and the ``@kernel`` line).

The installed ``pto-wsp`` is ``app.cli``: the same commands plus the Studio's project files
(``run``/``emit`` of a ``.pto.json``, ``export``, ``validate``). ``pto_wsp`` never imports the
app, so the app hands its additions in (``main(argv, Extension(...))``: a ``ScriptExporter`` that
turns a project file into a DSL script, and its own ``Command``s); ``python -m pto_wsp.cli`` is
the DSL alone.

Exit codes: 0 success, 1 a user error (missing file, the script failed, nothing to show) with a
message naming the file and line, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from .backends import TARGETS
from .errors import PtoError
from .fileio import atomic_stream, atomic_write, scratch_dir
from .runtime.script_run import (
    ExportedScript,
    RunOutcome,
    error_line,
    localise,
    merge_diagnostics,
    run_isolated,
    warning_line,
)
from .runtime.scripts import ScriptError, run_script, scheduled_only

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2


class ScriptExporter(Protocol):
    """Turns a file that is not a DSL script into one (``app.cli``: the Studio's project files).

    ``run`` and ``emit`` accept such a file when a ``main`` caller hands an exporter in; messages
    about the exported script then name what in the file wrote each line (``ExportedScript``).
    """

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Lower-case file suffixes it reads (``.json`` also matches ``x.pto.json``)."""
        ...

    @property
    def description(self) -> str:
        """How ``--help`` and errors name the files, e.g. ``a project file (.json)``."""
        ...

    def export(self, source: Path, script: Path, target: str | None, runs: bool) -> ExportedScript:
        """Write ``source`` as the DSL script ``script``; ``target`` (if given) replaces the
        targets the file sets. ``runs``: the script is about to run (say what code it carries).
        Raises ``ScriptError`` naming the file and what is at fault."""
        ...


@dataclass(frozen=True)
class Command:
    """A sub-command a package above ``pto_wsp`` adds (``app.cli``: ``export``, ``validate``)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Extension:
    """What ``main``'s caller adds to the DSL commands; empty for ``python -m pto_wsp.cli``."""

    exporter: ScriptExporter | None = None
    commands: Sequence[Command] = ()
    description: str = ""  # ``--help``'s first line (default: this module's)


def _exportable(source: Path, exporter: ScriptExporter | None) -> bool:
    return exporter is not None and source.suffix.lower() in exporter.suffixes


def _not_a_script(source: Path, exporter: ScriptExporter | None) -> ScriptError:
    also = f" or {exporter.description}" if exporter is not None else ""
    hint = (
        ""
        if exporter is not None or source.suffix.lower() != ".json"
        else " (project files run with the installed pto-wsp command: app.cli)"
    )
    return ScriptError(f"{source}: expected a DSL script (.py){also}{hint}")


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
        from ._native import BACKEND_VERSION

        backend = str(BACKEND_VERSION)
    except ImportError as err:  # the extension is not built: say so, still print ours
        backend = f"not built ({err})"
    return f"pto-wsp {__version__} (backend {backend})"


def run_file(
    path: str | Path,
    target: str | None = None,
    workdir: str | Path | None = None,
    timeout: float | None = None,
    exporter: ScriptExporter | None = None,
) -> RunOutcome:
    """Run a DSL script, or a file ``exporter`` turns into one; ``ScriptError`` on failure.

    The program runs in a child process (``runtime.script_run``): a kernel that crashes, calls
    ``exit()`` or outlives ``timeout`` seconds is a ``ScriptError`` naming it, never a dead or
    hung ``pto-wsp``. ``workdir`` receives the exported script and the runner-protocol files (a
    temporary directory by default).
    """
    source = Path(path)
    if not source.is_file():
        raise ScriptError(f"{source}: no such file")
    if target is not None and target not in TARGETS:
        raise ScriptError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    with scratch_dir("pto-wsp-run") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        exported: ExportedScript | None = None
        if exporter is not None and _exportable(source, exporter):
            stem = source.name.split(".")[0] or "project"
            exported = _export_to_run(exporter, source, work / f"{stem}_exported.py", target)
            script = exported.script
        elif source.suffix == ".py":
            script = source
        else:
            raise _not_a_script(source, exporter)
        return run_isolated(script, target, work, exported, timeout)


def _export_to_run(
    exporter: ScriptExporter, source: Path, script: Path, target: str | None
) -> ExportedScript:
    """``exporter.export`` of a file about to run, in a forked child when this process runs a
    single thread (``call_in_fork``): what the export loads (the Studio's project model) then
    never sits in this process while the run's child runs beside it."""
    from .runtime.fork_server import ForkHere, call_in_fork

    if ForkHere.supported and threading.active_count() == 1:
        return call_in_fork(exporter.export, source, script, target, True)
    return exporter.export(source, script, target, runs=True)


def _untraced(outcome: RunOutcome) -> bool:
    """Tasks ran but no per-task record was kept (the schedule's ``TracePolicy.none()``)."""
    return (
        outcome.trace is not None
        and len(outcome.trace) == 0
        and int(outcome.stats.get("task_count", 0)) > 0
    )


def _analysis(outcome: RunOutcome) -> Any:
    """The per-kernel / per-worker / critical-path analysis (``runtime.trace_analysis``); None
    without per-task records (an analysis of none would claim a makespan of 0)."""
    if outcome.trace is None or _untraced(outcome):
        return None
    from .runtime.trace_analysis import analyse_trace, num_workers_of

    return analyse_trace(outcome.trace, outcome.kernel_names, num_workers_of(outcome.stats))


def format_outcome(outcome: RunOutcome, analysis: Any) -> str:
    """The stats ``pto-wsp run`` prints: ProgramStats, then kernels, workers, critical path
    and the wait cycles per gating cause (the Stats panel's tables, in text)."""
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
    waited = [(c, n) for c, n in analysis.waits.by_cause.items() if n]
    if waited:
        lines.append("waits by gating cause:")
        for cause, cycles in waited:
            tasks = analysis.waits.tasks_by_cause[cause]
            lines.append(f"  {cause:<13} tasks {tasks:>8}  cycles {cycles:>12}")
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
    if out.suffix.lower() == ".npy":  # streamed from the mapped trace: no copy in memory
        with atomic_stream(out) as fh:
            np.lib.format.write_array(fh, outcome.trace, allow_pickle=False)
        return
    from .runtime.trace import write_chrome_trace
    from .runtime.trace_analysis import num_workers_of

    workers = num_workers_of(outcome.stats)
    write_chrome_trace(
        out, outcome.trace, outcome.kernel_names, outcome.ns_per_cycle, num_workers=workers
    )


def write_stats(outcome: RunOutcome, analysis: Any, out: Path) -> None:
    """Runner-protocol stats JSON plus ``analysis`` and the run's warnings."""
    data = dict(outcome.stats)
    data["diagnostics"] = outcome.warnings
    data["analysis"] = analysis.to_dict() if analysis is not None else None
    atomic_write(out, json.dumps(data, indent=2, default=str) + "\n")


def _cmd_run(
    args: argparse.Namespace, parser: argparse.ArgumentParser, exporter: ScriptExporter | None
) -> int:
    trace_out = Path(args.trace) if args.trace else None
    if trace_out is not None and trace_out.suffix.lower() not in TRACE_SUFFIXES:
        parser.error(f"--trace {trace_out}: expected a .json (Chrome trace) or .npy file")
    if args.timeout is not None and not args.timeout > 0:
        parser.error(f"--timeout {args.timeout:g}: expected a number of seconds > 0")
    if args.pto_isa is not None:  # for kernels whose C++ uses PTO-ISA (docs/kernels.md)
        from .compiler.ptoisa_root import ENV_ROOT, find_root

        try:
            os.environ[ENV_ROOT] = str(find_root(args.pto_isa))  # the run's child inherits it
        except PtoError as err:
            raise ScriptError(f"--pto-isa: {err.message}") from None
    outcome = run_file(args.file, args.target, timeout=args.timeout, exporter=exporter)
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


def _cmd_emit(args: argparse.Namespace, exporter: ScriptExporter | None) -> int:
    source, dest = Path(args.file), Path(args.output)
    if args.pto_isa is not None and not args.verify:
        raise ScriptError("--pto-isa names the PTO-ISA checkout of --verify; add --verify")
    if args.verify and args.target != "ascend_npu":
        raise ScriptError("--verify checks the ascend_npu kernels: use it with --target ascend_npu")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScriptError(f"{dest}: exists and is not an empty directory; choose a new one")
    with tempfile.TemporaryDirectory(prefix="pto-wsp-emit-") as tmp:
        exported: ExportedScript | None = None
        if exporter is not None and _exportable(source, exporter):
            stem = source.name.split(".")[0] or "project"
            script_path = Path(tmp) / f"{stem}_exported.py"
            exported = exporter.export(source, script_path, args.target, runs=False)
            script = exported.script
        elif source.suffix == ".py":
            script = source
        else:
            raise _not_a_script(source, exporter)
        with warnings.catch_warnings(record=True) as caught:
            trees, found, programs = _emitted_trees(source, script, args.target, exported)
        from .runtime.runner import _warning_diagnostic

        found = merge_diagnostics(found, [_warning_diagnostic(w) for w in caught])
        for diag in found:
            print(warning_line(diag, exported), file=sys.stderr)
    count = 0
    dest.mkdir(parents=True, exist_ok=True)
    for name, tree in trees:
        into = dest if len(trees) == 1 else dest / _safe_dir_name(name)
        shutil.copytree(tree, into, dirs_exist_ok=True)
        count += sum(1 for p in into.rglob("*") if p.is_file())
    print(f"emitted {args.target} sources of {len(trees)} program(s): {count} files in {dest}")
    if args.verify:
        return _verify(args, programs, exported)
    return EXIT_OK


def _verify(
    args: argparse.Namespace, programs: list[tuple[str, Any]], exported: ExportedScript | None
) -> int:
    """``emit --verify``: each program's kernels against PTO-ISA, a report per kernel."""
    from .runtime.ptoisa_verify import verify_workload

    failed = 0
    for name, program in programs:
        try:
            report = verify_workload(program.workload, pto_isa_root=args.pto_isa, name=name)
        except PtoError as err:
            raise ScriptError(f"{name}: {error_line(err, exported)}") from err
        print(report.text())
        failed += not report.ok
    return EXIT_USER_ERROR if failed else EXIT_OK


def _emitted_trees(
    source: Path, script: Path, target: str, exported: ExportedScript | None
) -> tuple[list[tuple[str, Path]], list[dict[str, Any]], list[tuple[str, Any]]]:
    """The emitted source tree of each program ``script`` builds, compiled for ``target``,
    the schedule diagnostics of those programs (directives ``target`` only annotates) and the
    programs themselves."""
    from .runtime.runner import program_diagnostics

    try:
        result = run_script(script)
    except ScriptError as err:
        raise ScriptError(localise(str(err), exported)) from err
    if not result.programs:
        raise ScriptError(f"{source} builds no Program: nothing to emit")
    trees: list[tuple[str, Path]] = []
    found: list[dict[str, Any]] = []
    programs: list[tuple[str, Any]] = []
    for name, program in result.programs:
        try:
            if program.target != target:
                program = program.workload.compile(target=target)
        except PtoError as err:
            raise ScriptError(f"{name}: {error_line(err, exported)}") from err
        found = merge_diagnostics(found, program_diagnostics(program))
        where = program.codegen_artifact_dir
        if not where or not Path(where).is_dir():
            raise ScriptError(f"{name}: target {target!r} left no emitted source tree")
        trees.append((name, Path(where)))
        programs.append((name, program))
    return trees, found, programs


def _safe_dir_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "program"


def _parser(extension: Extension) -> argparse.ArgumentParser:
    exporter = extension.exporter
    files = "a DSL script (.py)" + (f" or {exporter.description}" if exporter else "")
    description = extension.description or __doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="pto-wsp", description=description.replace("``", ""))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ir = sub.add_parser("ir", help="run a DSL script and print the IR of its workloads")
    ir.add_argument("script", metavar="FILE.py", help="the DSL script to run")
    run = sub.add_parser("run", help=f"run {files} and print its stats")
    run.add_argument("file", metavar="FILE", help=files)
    run.add_argument(
        "--target",
        choices=TARGETS,
        help="compile for this target (scripts without run_main, and exported files)",
    )
    run.add_argument(
        "--trace", metavar="OUT.json|OUT.npy", help="write the trace (Chrome JSON or numpy)"
    )
    run.add_argument("--stats", metavar="OUT.json", help="write stats and analysis as JSON")
    run.add_argument(
        "--pto-isa",
        metavar="DIR",
        help="the PTO-ISA checkout kernels whose C++ uses PTO-ISA build against "
        "(default: $PTO_ISA_ROOT)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop the run after this many seconds (it runs in a child process)",
    )
    emit = sub.add_parser("emit", help=f"compile {files} and copy the emitted source tree")
    emit.add_argument("file", metavar="FILE", help=files)
    emit.add_argument("--target", choices=TARGETS, default="ascend_npu")
    emit.add_argument("-o", "--output", metavar="DIR", required=True, help="a new directory")
    emit.add_argument(
        "--verify",
        action="store_true",
        help="run the AICore kernels on the host against PTO-ISA and compare them with cpu_sim",
    )
    emit.add_argument(
        "--pto-isa",
        metavar="DIR",
        help="the PTO-ISA checkout for --verify (default: $PTO_ISA_ROOT)",
    )
    for command in extension.commands:
        command.add_arguments(sub.add_parser(command.name, help=command.help))
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


def main(argv: list[str] | None = None, extension: Extension | None = None) -> int:
    """Entry point of ``pto-wsp``; returns the process exit code. ``extension``: what the
    installed command (``app.cli``) adds; none for the DSL alone."""
    extension = extension or Extension()
    parser = _parser(extension)
    try:
        args = parser.parse_args(argv)
        if args.command == "version":
            print(_version_text())
            return EXIT_OK
        added = {command.name: command.run for command in extension.commands}
        if args.command in added:
            return added[args.command](args)
        commands: dict[str, Callable[[], int]] = {
            "ir": lambda: _cmd_ir(args),
            "run": lambda: _cmd_run(args, parser, extension.exporter),
            "emit": lambda: _cmd_emit(args, extension.exporter),
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
