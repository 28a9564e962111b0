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

The project-file work lives in ``app.project_files``, imported only when a project file is
named: ``pip install pto-wsp`` without the ``app`` extra still runs DSL scripts, and a project
file is a message naming the extra to install, not a traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pto_wsp.cli import Command, Extension
from pto_wsp.cli import main as dsl_main
from pto_wsp.cli import run_file as run_dsl_file
from pto_wsp.runtime.script_run import ExportedScript, RunOutcome
from pto_wsp.runtime.scripts import ScriptError

__all__ = ["PROJECT_FILES", "ProjectFiles", "main", "project_files", "run_file"]

PROJECT_SUFFIXES = (".json",)  # includes .pto.json
EXTRA = "app"
"""The optional dependencies (pyproject.toml) that project files need: the document's pydantic."""


def project_files(source: str | Path) -> ModuleType:
    """``app.project_files``, or ``ScriptError`` naming ``source`` and the extra to install when
    a package of the ``app`` extra is missing."""
    try:
        from . import project_files as module
    except ModuleNotFoundError as err:
        if err.name is None or err.name.partition(".")[0] == __name__.partition(".")[0]:
            raise  # our own package is broken: not a missing extra
        raise ScriptError(
            f"{source}: project files need the Studio's dependencies, the '{EXTRA}' extra "
            f"(no module named {err.name!r}): pip install 'pto-wsp[{EXTRA}]'"
        ) from err
    return module


@dataclass(frozen=True)
class ProjectFiles:
    """The ``pto_wsp.cli.ScriptExporter`` of project files; ``program`` prefixes the notice
    that a code-bearing project runs (``pto-wsp``, or ``pto-wsp-studio`` for the headless job)."""

    suffixes: tuple[str, ...] = PROJECT_SUFFIXES
    description: str = "a project file (.json / .pto.json)"
    program: str = "pto-wsp"

    def export(self, source: Path, script: Path, target: str | None, runs: bool) -> ExportedScript:
        module = project_files(source)
        exported: ExportedScript = module.export_project(source, script, target, runs, self.program)
        return exported


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT", help="the project file (.json)")
    parser.add_argument("-o", "--output", metavar="script.py", help="output file (default stdout)")


def _cmd_export(args: argparse.Namespace) -> int:
    code: int = project_files(args.project).cmd_export(args)
    return code


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="PROJECT", help="the project file (.json)")


def _cmd_validate(args: argparse.Namespace) -> int:
    code: int = project_files(args.project).cmd_validate(args)
    return code


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
