"""The runner protocol (DESIGN §1): how an exported or hand-written DSL script runs.

A script ends with::

    if __name__ == "__main__":
        run_main(program)

and then accepts, besides running standalone:

* ``--trace PATH.npy``   the per-task trace (``program.trace``) written with ``np.save``; a
  program with CSP pipelines or events also gets ``PATH.csp.npz`` beside it
  (``csp_trace_path``): ``processes``, ``channels``, ``events`` (names), ``process_start``,
  ``process_end``, ``occupancy`` (``time, channel, occupancy``), ``waits`` (``start, end,
  process, object, kind``) and ``task_process`` (one process index per trace row, -1 for tasks
  the driver submitted) — see docs/semantics.md "CSP execution"; and ``PATH.sites.json``
  (``task_sites.sites_path``): the call sites' views, from which the Studio's details panel
  recomputes a task's regions and dependencies on demand;
* ``--stats PATH.json``  ``ProgramStats`` fields (``num_workers``: the configured worker count,
  idle workers included), ``kernel_names`` (the trace's ``kernel`` ids
  index this list), ``target``, ``executed``, ``ok``, ``artifact_dir`` (the emitted sources:
  ``program.codegen_artifact_dir``; absent when no program was built) and ``diagnostics`` —
  every error and warning with ``file``/``line`` so the studio can point at the node that
  produced that line (a ``DeadlockError`` adds ``processes``, ``channels`` and ``events``: the
  names it involves; a schedule directive the target keeps only as an annotation —
  ``program.diagnostics``, spec §4.8 — is a ``ScheduleWarning`` warning that adds
  ``directive`` and ``target``);
* ``--outputs PATH.npz`` every named tensor the program's kernel calls touch, after the run
  (what tests and the studio compare against numpy);
* ``--no-execute``       build only (compile errors and kernel names, no run);
* ``--verify [--pto-isa DIR]`` emit and verify instead of running: the workload's ascend_npu
  kernels run on the host against PTO-ISA and are compared with cpu_sim
  (``runtime.ptoisa_verify``); ``--stats`` then carries the report as ``verify``
  (``VerifyReport.as_json``: per kernel ``status``, ``max_ulp``, ``detail``) and
  ``artifact_dir`` names the emitted ascend_npu tree; a kernel that does not verify is an
  error (``VerifyError``). ``--pto-isa`` is the explicit PTO-ISA root (else ``$PTO_ISA_ROOT``).

On success it prints ``ProgramStats`` and exits 0. On failure it prints
``file:line: Error: message`` to stderr (the user's line, not ours; one line, unless the
message is a compiler's, which continues with its source lines and carets), still writes
``--stats`` with the diagnostic, and exits 1. Errors raised while the script builds its
workload (before ``run_main`` is reached) get the same treatment when the script calls
``report_errors()`` near its top; exported scripts do.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

import numpy as np

from ..errors import (
    DeadlockError,
    PtoError,
    ScheduleError,
    SourceLoc,
    _is_internal,
    user_location,
)
from ..fileio import atomic_write
from .program import ArtifactRunner, Program, ScheduleDiagnostic
from .task_sites import write_sites

__all__ = [
    "run_main",
    "report_errors",
    "diagnostic_of",
    "schedule_diagnostic",
    "program_diagnostics",
    "csp_trace_path",
    "write_csp_trace",
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_USAGE",
]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _parser(prog: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Run a PTO-WSP program (the runner protocol of PTO-WSP Studio)."
    )
    p.add_argument("--trace", metavar="PATH.npy", help="write the per-task trace (np.save)")
    p.add_argument("--stats", metavar="PATH.json", help="write stats and diagnostics as JSON")
    p.add_argument(
        "--outputs", metavar="PATH.npz", help="write the named tensors after the run (np.savez)"
    )
    p.add_argument("--no-execute", action="store_true", help="compile only; do not run the program")
    p.add_argument(
        "--verify",
        action="store_true",
        help="emit for ascend_npu and run its kernels on the host against PTO-ISA, compared with "
        "cpu_sim (instead of running the program)",
    )
    p.add_argument(
        "--pto-isa", metavar="DIR", help="the PTO-ISA checkout for --verify (else $PTO_ISA_ROOT)"
    )
    return p


# --------------------------------------------------------------------------------------------
# diagnostics


def _user_frame_of(tb: TracebackType | None) -> tuple[str, int] | None:
    """The innermost traceback frame outside pto_wsp (the user's line), if any."""
    best: tuple[str, int] | None = None
    for frame in traceback.extract_tb(tb):
        if not _is_internal(frame.filename) and frame.lineno is not None:
            best = (frame.filename, frame.lineno)
    return best


def diagnostic_of(err: BaseException, fallback: SourceLoc | None = None) -> dict[str, Any]:
    """A JSON-able diagnostic for ``err``: severity, kind, file, line, message (all of it).

    A ``PtoError`` names the user's line itself; any other exception is located at the
    innermost frame of user code in its traceback, else at ``fallback``.
    """
    if isinstance(err, PtoError):
        message = err.message
        loc = err.loc
        where = (loc.file, loc.line) if loc is not None else None
    else:
        message = str(err) or type(err).__name__
        where = None
    if where is None:
        where = _user_frame_of(err.__traceback__)
    if where is None and fallback is not None:
        where = (fallback.file, fallback.line)
    file, line = where if where is not None else ("<unknown>", 0)
    # The whole message: a compiler's error is its first line only together with the lines
    # after it (source line, caret, further errors).
    text = message.strip() or type(err).__name__
    diag: dict[str, Any] = {
        "severity": "error",
        "kind": type(err).__name__,
        "file": str(file),
        "line": int(line),
        "message": text,
    }
    if isinstance(err, ScheduleError) and err.directive:
        diag["directive"] = err.directive  # the Studio badges the schedule step, not the line
    if isinstance(err, DeadlockError):
        diag["processes"] = list(err.processes)
        diag["channels"] = list(err.channels)
        diag["events"] = list(err.events)
    return diag


def _warning_diagnostic(w: warnings.WarningMessage) -> dict[str, Any]:
    return {
        "severity": "warning",
        "kind": w.category.__name__,
        "file": str(w.filename),
        "line": int(w.lineno or 0),
        "message": str(w.message).strip().splitlines()[0] if str(w.message).strip() else "",
    }


def schedule_diagnostic(diag: ScheduleDiagnostic) -> dict[str, Any]:
    """A JSON-able diagnostic for one entry of ``program.diagnostics``
    (``pto_wsp.compiler.applicability.Diagnostic``): a directive the target only annotates."""
    loc = diag.loc
    return {
        "severity": str(diag.severity),
        "kind": "ScheduleWarning",
        "file": str(loc.file) if loc is not None else "<schedule>",
        "line": int(loc.line) if loc is not None else 0,
        "message": str(diag.message),
        "directive": str(diag.directive),
        "target": str(diag.target),
    }


def program_diagnostics(program: Program) -> list[dict[str, Any]]:
    """``schedule_diagnostic`` of every entry of ``program.diagnostics`` (none: ``[]``).

    Read from the program rather than from caught warnings: a program compiled before
    ``run_main`` (at module level, as exported scripts do) warned before anything could
    record it, and ``ScheduleWarning``s are issued once per process and location.
    """
    return [schedule_diagnostic(d) for d in program.diagnostics]


def _merge_warnings(
    schedule: list[dict[str, Any]], caught: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``schedule`` then the caught warnings that are not the same diagnostic again."""
    seen = {(d["kind"], d["file"], d["line"], d["message"]) for d in schedule}
    rest = [d for d in caught if (d["kind"], d["file"], d["line"], d["message"]) not in seen]
    return [*schedule, *rest]


def _one_line(diag: dict[str, Any]) -> str:
    return f"{diag['file']}:{diag['line']}: Error: {diag['kind']}: {diag['message']}"


def _write_json(path: str, data: dict[str, Any]) -> None:
    """Atomic write (``fileio.atomic_write``): a reader never sees half a file."""
    atomic_write(path, json.dumps(data, indent=2, default=str))


# --------------------------------------------------------------------------------------------
# report_errors: the same one-line error for failures while the script builds its program


def report_errors(argv: Sequence[str] | None = None) -> None:
    """Make an uncaught error of the calling script print ``file:line: Error: message``.

    Only acts when the caller runs as the main program (``python script.py``): imported (by the
    studio's importer or ``pto-wsp ir``) the script keeps normal exceptions. ``--stats PATH``
    in ``argv`` (default ``sys.argv``) also receives the diagnostic, so a compile error raised
    at module level reaches the studio exactly like an execution error.
    """
    caller = sys._getframe(1)
    if caller.f_globals.get("__name__") != "__main__":
        return
    args, _unknown = _parser(None).parse_known_args(list(sys.argv[1:] if argv is None else argv))
    previous = sys.excepthook

    def hook(kind: type[BaseException], err: BaseException, tb: TracebackType | None) -> None:
        if not isinstance(err, Exception):
            previous(kind, err, tb)
            return
        diag = diagnostic_of(err)
        if args.stats:
            try:
                _write_json(args.stats, _failure_stats([diag], executed=False))
            except OSError as e:  # the one-line error below still reaches the user
                print(f"{args.stats}: cannot write stats: {e.strerror}", file=sys.stderr)
        print(_one_line(diag), file=sys.stderr)

    sys.excepthook = hook


def _failure_stats(diagnostics: list[dict[str, Any]], executed: bool) -> dict[str, Any]:
    return {
        "ok": False,
        "executed": executed,
        "target": None,
        "compile_time_ms": 0.0,
        "execute_time_ms": 0.0,
        "task_count": 0,
        "total_cycles": 0,
        "kernel_names": [],
        "diagnostics": diagnostics,
    }


# --------------------------------------------------------------------------------------------
# run_main


def _named_tensors(program: Program) -> dict[str, np.ndarray]:
    """Root tensors reached by the program's kernel calls and axes, by name (first wins)."""
    from ..language.kernel import KernelCall
    from ..language.tensor import Tensor, TensorView
    from ..language.workload import LoopNode

    found: dict[str, np.ndarray] = {}

    def add(value: object) -> None:
        if not isinstance(value, Tensor | TensorView):
            return  # a scalar argument
        root = value.root
        if root.name and root.name not in found:
            found[root.name] = root.data

    for node in program.workload.walk():
        if isinstance(node, KernelCall):
            for value in node.args.values():
                add(value)
        elif isinstance(node, LoopNode):
            for ax in node.axes:
                for t in ax.index_tensors():
                    add(t)
    return found


def csp_trace_path(trace_path: str | os.PathLike[str]) -> Path:
    """Where the CSP trace of a run traced to ``trace_path`` goes: ``X.npy`` -> ``X.csp.npz``."""
    p = Path(trace_path)
    stem = p.name[: -len(".npy")] if p.name.endswith(".npy") else p.name
    return p.with_name(stem + ".csp.npz")


def write_csp_trace(program: Program, trace_path: str | os.PathLike[str]) -> Path | None:
    """Write the program's CSP trace beside ``trace_path`` (None: the run had no CSP).

    Names are stored as unicode arrays, so the file loads with ``allow_pickle=False``.
    """
    target = csp_trace_path(trace_path)
    target.unlink(missing_ok=True)  # never leave an earlier run's CSP trace beside this trace
    if not isinstance(program.runner, ArtifactRunner):
        return None  # the target records no CSP trace
    csp = program.runner.csp_trace()
    if not csp["processes"] and not csp["events"]:
        return None
    np.savez(
        target,
        processes=np.asarray(csp["processes"], dtype=str),
        channels=np.asarray(csp["channels"], dtype=str),
        events=np.asarray(csp["events"], dtype=str),
        process_start=np.asarray(csp["process_start"], dtype=np.int64),
        process_end=np.asarray(csp["process_end"], dtype=np.int64),
        occupancy=np.asarray(csp["occupancy"]),
        waits=np.asarray(csp["waits"]),
        task_process=np.asarray(csp["task_process"], dtype=np.int32),
    )
    return target


def _stats_json(program: Program, executed: bool, diags: list[dict[str, Any]]) -> dict[str, Any]:
    stats = (
        asdict(program.stats) if executed else {"compile_time_ms": program.stats.compile_time_ms}
    )
    return {
        "ok": not any(d["severity"] == "error" for d in diags),
        "executed": executed,
        "target": program.target,
        "compile_time_ms": float(stats.get("compile_time_ms", 0.0)),
        "execute_time_ms": float(stats.get("execute_time_ms", 0.0)),
        "task_count": int(stats.get("task_count", 0)),
        "total_cycles": int(stats.get("total_cycles", 0)),
        "num_workers": int(stats.get("num_workers", 0)),
        "ns_per_cycle": float(program.ns_per_cycle),  # the cost table's clock (1.0: unpriced)
        "kernel_names": list(program.kernel_names),
        "artifact_dir": program.codegen_artifact_dir,
        "diagnostics": diags,
    }


def run_main(program: Any, argv: Sequence[str] | None = None) -> NoReturn:
    """Run ``program`` under the runner protocol and exit (see the module doc).

    ``program`` is a ``Program`` or a no-argument callable returning one (then build errors
    are reported like run errors). ``argv`` defaults to ``sys.argv[1:]``.
    """
    where = user_location()
    prog_name = os.path.basename(where.file) if where is not None else None
    args = _parser(prog_name).parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.trace and args.no_execute:
        _parser(prog_name).error("--trace needs a run; it cannot be combined with --no-execute")
    if args.outputs and args.no_execute:
        _parser(prog_name).error("--outputs needs a run; it cannot be combined with --no-execute")
    if args.verify and (args.trace or args.outputs):
        _parser(prog_name).error("--verify does not run the program: drop --trace / --outputs")
    if args.pto_isa is not None and not args.verify:
        _parser(prog_name).error("--pto-isa names the PTO-ISA checkout of --verify; add --verify")

    diags: list[dict[str, Any]] = []
    built: Program | None = None
    executed = False
    verified: dict[str, Any] | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            resolved = _resolve(program)
            if not isinstance(resolved, Program):
                raise TypeError(
                    f"run_main(program) takes a Program (workload.compile(...)), got "
                    f"{type(resolved).__name__}"
                )
            built = resolved
            if args.verify:
                verified = _verify(built, args.pto_isa, diags)
            elif not args.no_execute:
                built.execute()
                built.synchronize()
                executed = True
                if args.trace:
                    np.save(args.trace, np.asarray(built.trace))
                    write_csp_trace(built, args.trace)
                    write_sites(built.module, args.trace)  # regions on demand (task_regions)
                if args.outputs:
                    # Values typed Any: numpy's stub types **kwds like its bool allow_pickle.
                    tensors: dict[str, Any] = dict(_named_tensors(built))
                    np.savez(args.outputs, **tensors)
        except Exception as err:  # every failure becomes one diagnostic line
            diags.append(diagnostic_of(err, where))
    schedule = program_diagnostics(built) if built is not None else []
    diags[:0] = _merge_warnings(schedule, [_warning_diagnostic(w) for w in caught])
    failed = any(d["severity"] == "error" for d in diags)

    if args.stats:
        data = (
            _stats_json(built, executed, diags)
            if built is not None
            else _failure_stats(diags, executed)
        )
        if verified is not None:
            data["verify"] = verified
            data["artifact_dir"] = verified["tree"]
        _write_json(args.stats, data)
    if failed:
        print(_one_line(next(d for d in diags if d["severity"] == "error")), file=sys.stderr)
        sys.exit(EXIT_FAILURE)
    assert built is not None  # no Program is an error diagnostic (failed above)
    if executed:
        print(built.stats)
    elif verified is not None:
        pass  # _verify printed the report
    else:
        print(f"compiled for {built.target}: {', '.join(built.kernel_names) or 'no kernels'}")
    sys.exit(EXIT_OK)


def _verify(program: Program, root: str | None, diags: list[dict[str, Any]]) -> dict[str, Any]:
    """``--verify``: the report (printed, and returned for the stats); each kernel that does
    not verify adds a ``VerifyError`` diagnostic at the ``run_main`` line."""
    from .ptoisa_verify import verify_workload

    report = verify_workload(program.workload, pto_isa_root=root)
    print(report.text(), flush=True)
    where = user_location()
    for k in report.kernels:
        if not k.ok:
            diags.append(
                {
                    "severity": "error",
                    "kind": "VerifyError",
                    "file": where.file if where is not None else "<unknown>",
                    "line": where.line if where is not None else 0,
                    "message": f"@{k.kernel} {k.status} against PTO-ISA: {k.detail}",
                }
            )
    return report.as_json()


def _resolve(program: Any) -> Any:
    """``program``, or what a no-argument callable returns (the user's object: checked by the
    caller)."""
    if isinstance(program, Program):
        return program
    if callable(program):
        return program()
    return program
