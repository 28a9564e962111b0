"""``pto-wsp``, the installed command: the DSL commands of ``pto_wsp.cli`` plus project files.

``pto_wsp`` never imports the app, so its command line knows only DSL scripts. This module hands
it what the Studio's project files (``.json``, ``.pto.json``; the Qt-free ``app.model``) need:

* ``run`` and ``emit`` accept a project file: ``ProjectFiles`` exports it to a DSL script first
  (the one export path, ``app.model.export``), and messages about that script name the project
  node that wrote the line (``proj.pto.json: node n3``), not the temporary script;
* ``pto-wsp export PROJECT [-o script.py]`` writes the DSL script of a project file;
* ``pto-wsp validate PROJECT`` loads a project and lists its problems (``node-id field: msg``).

A project that carries C++ (``app.model.trust``) says so when ``run`` runs it (the command is the
consent) and when ``validate`` reads it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from app.model import export, io, trust
from app.model.document import Document
from app.model.registry import kind_of
from app.model.validation import validate_document
from pto_wsp.cli import EXIT_OK, EXIT_USER_ERROR, Command, Extension
from pto_wsp.cli import main as dsl_main
from pto_wsp.cli import run_file as run_dsl_file
from pto_wsp.errors import PtoError
from pto_wsp.fileio import atomic_write
from pto_wsp.runtime.script_run import ExportedScript, RunOutcome
from pto_wsp.runtime.scripts import ScriptError

PROJECT_SUFFIXES = (".json",)  # includes .pto.json


def load_project(path: str | Path) -> Document:
    """The ``Document`` of a project file; ``ScriptError`` with the file and field at fault."""
    project = Path(path)
    if not project.is_file():
        raise ScriptError(f"{project}: no such file")
    try:
        return io.load(project)
    except PtoError as err:  # ProjectError names the file and the node / field
        raise ScriptError(str(err)) from err


def export_source(project: Path, doc: Document, target: str | None = None) -> export.ExportResult:
    """The DSL script of ``doc``; ``target`` (if given) replaces the target of every program
    frame that sets one (the schedule sheet's ``target``)."""
    if target is not None:
        doc = doc.copy()
        for node, _graph, _owner in doc.walk():
            if kind_of(node).program and node.props.get("target"):
                node.props["target"] = target
    try:
        return export.export_script(doc)
    except export.ExportError as err:
        raise ScriptError(f"{project}: cannot export: {err}") from err


@dataclass(frozen=True)
class ProjectFiles:
    """The ``pto_wsp.cli.ScriptExporter`` of project files; ``program`` prefixes the notice
    that a code-bearing project runs (``pto-wsp``, or ``pto-wsp-studio`` for the headless job)."""

    suffixes: tuple[str, ...] = PROJECT_SUFFIXES
    description: str = "a project file (.json / .pto.json)"
    program: str = "pto-wsp"

    def export(self, source: Path, script: Path, target: str | None, runs: bool) -> ExportedScript:
        doc = load_project(source)
        if runs:
            carriers = trust.code_carriers(doc)
            if carriers:
                print(f"{self.program}: {trust.run_notice(source, carriers)}", file=sys.stderr)
        result = export_source(source, doc, target)
        atomic_write(script, result.source)
        line_map = {line: f"node {node}" for line, node in result.line_map.items()}
        return ExportedScript(source, script, line_map)


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT", help="the project file (.json)")
    parser.add_argument("-o", "--output", metavar="script.py", help="output file (default stdout)")


def _cmd_export(args: argparse.Namespace) -> int:
    project = Path(args.project)
    result = export_source(project, load_project(project))
    if args.output in (None, "-"):
        sys.stdout.write(result.source)
        return EXIT_OK
    try:
        atomic_write(Path(args.output), result.source)
    except OSError as err:
        raise ScriptError(f"{args.output}: cannot write: {err.strerror}") from err
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT", help="the project file (.json)")


def _cmd_validate(args: argparse.Namespace) -> int:
    doc = load_project(args.project)
    diagnostics = validate_document(doc)
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


PROJECT_FILES = ProjectFiles()


def run_file(
    path: str | Path,
    target: str | None = None,
    workdir: str | Path | None = None,
    timeout: float | None = None,
) -> RunOutcome:
    """``pto-wsp run``'s run of a DSL script or project file (``pto_wsp.cli.run_file``)."""
    return run_dsl_file(path, target, workdir, timeout, exporter=PROJECT_FILES)


EXTENSION = Extension(
    exporter=PROJECT_FILES,
    commands=(
        Command("export", "write the DSL script of a project file", _export_arguments, _cmd_export),
        Command(
            "validate",
            "load a project file and list its problems",
            _validate_arguments,
            _cmd_validate,
        ),
    ),
    description="PTO-WSP: run, inspect and export DSL scripts and Studio project files.",
)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the installed ``pto-wsp``; returns the process exit code."""
    return dsl_main(argv, EXTENSION)


if __name__ == "__main__":
    sys.exit(main())
