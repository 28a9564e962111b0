"""The ``pto-wsp`` command line.

``pto-wsp ir FILE.py`` runs a DSL script and prints the IR of every workload it builds;
``pto-wsp version`` prints the package and backend versions.

Scripts are executed as they are, with nothing patched: ``runpy`` runs the file (under a
module name other than ``__main__``, so a script's own "run me" block stays inactive) and the
workloads are collected afterwards from the objects its globals reach (``Workload``s, also
inside lists, tuples, dicts and ``Program``s). Exit codes: 0 success, 1 a user error (missing
file, the script failed, nothing to show) with a message naming the file and line, 2 usage.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .errors import PtoError

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2
RUN_NAME = "__pto_wsp_script__"


class ScriptError(Exception):
    """A DSL script could not be run; ``str()`` is a message for the user."""


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
    from .program import Program
    from .workload import Workload

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


def print_ir(workloads: Iterable[tuple[str, Any]], out: TextIO) -> None:
    """The IR text of each workload, headed by the name the script gave it."""
    from .lowering import lower

    for i, (name, wl) in enumerate(workloads):
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pto-wsp", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    ir = sub.add_parser("ir", help="run a DSL script and print the IR of its workloads")
    ir.add_argument("script", metavar="FILE.py", help="the DSL script to run")
    sub.add_parser("version", help="print the package and backend versions")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pto-wsp``; returns the process exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help exits 0, usage errors exit 2
        return int(exit_.code or 0)
    if args.command == "version":
        print(_version_text())
        return EXIT_OK
    try:
        result = run_script(args.script)
    except ScriptError as err:
        print(f"pto-wsp: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    if not result.workloads:
        print(f"pto-wsp: error: {args.script} builds no workload", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        print_ir(result.workloads, sys.stdout)
    except PtoError as err:
        print(f"pto-wsp: error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
