"""The project-file side of ``pto-wsp`` (``app.cli``): load a Studio project file, export it to
its DSL script, and the bodies of the ``export`` and ``validate`` commands.

Everything here needs the Qt-free document (``app.model``) and with it a package of the ``app``
extra (pydantic). ``app.cli`` imports this module only once a project file is named, so an install
without the extra still runs DSL scripts, and a project file gets a message naming the extra
(``app.cli.project_files``) instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pto_wsp.cli import EXIT_OK, EXIT_USER_ERROR
from pto_wsp.errors import PtoError
from pto_wsp.fileio import atomic_write
from pto_wsp.runtime.script_run import ExportedScript
from pto_wsp.runtime.scripts import ScriptError

from .model import export, io, trust
from .model.document import Document
from .model.registry import kind_of
from .model.validation import validate_document


def load_project(path: str | Path) -> Document:
    """The ``Document`` of a project file; ``ScriptError`` with the file and field at fault."""
    project = Path(path)
    if not project.is_file():
        raise ScriptError(f"{project}: no such file")
    try:
        return io.load(project)
    except PtoError as err:  # ProjectError names the file and the node / field
        raise ScriptError(str(err)) from err


def export_source(
    project: Path, doc: Document, target: str | None = None, script_dir: Path | None = None
) -> export.ExportResult:
    """The DSL script of ``doc``; ``target`` (if given) replaces the target of every program
    frame that sets one (the schedule sheet's ``target``). ``script_dir``: where the script is
    written, when it stays (``export_script``: a C++ path relative to the project stays
    relative only beside it)."""
    if target is not None:
        doc = doc.copy()
        for node, _graph, _owner in doc.walk():
            if kind_of(node).program and node.props.get("target"):
                node.props["target"] = target
    try:
        return export.export_script(doc, script_dir)
    except export.ExportError as err:
        raise ScriptError(f"{project}: cannot export: {err}") from err


def export_project(
    source: Path, script: Path, target: str | None, runs: bool, program: str
) -> ExportedScript:
    """``ProjectFiles.export``: write the DSL script of ``source`` to ``script``; a run of a
    code-bearing project says so first, prefixed with ``program``."""
    doc = load_project(source)
    if runs:
        carriers = trust.code_carriers(doc)
        if carriers:
            print(f"{program}: {trust.run_notice(source, carriers)}", file=sys.stderr)
    result = export_source(source, doc, target)
    atomic_write(script, result.source)
    line_map = {line: f"node {node}" for line, node in result.line_map.items()}
    return ExportedScript(source, script, line_map)


def cmd_export(args: argparse.Namespace) -> int:
    """``pto-wsp export PROJECT [-o script.py]``."""
    project = Path(args.project)
    stays = args.output not in (None, "-")
    script_dir = Path(args.output).resolve().parent if stays else None
    result = export_source(project, load_project(project), script_dir=script_dir)
    if not stays:
        sys.stdout.write(result.source)
        return EXIT_OK
    try:
        atomic_write(Path(args.output), result.source)
    except OSError as err:
        raise ScriptError(f"{args.output}: cannot write: {err.strerror}") from err
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """``pto-wsp validate PROJECT``."""
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
