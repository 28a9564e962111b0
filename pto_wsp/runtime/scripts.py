"""Running a DSL script in this process and collecting what it built.

``run_script`` executes a script the way ``pto-wsp ir`` / ``emit`` and the Studio's "Import
Python" need it: as it is, nothing patched, under a module name other than ``__main__`` (a
script's own "run me" block stays inactive); ``collect`` then finds the ``Workload``s and
``Program``s its globals reach (also inside lists, tuples, dicts and ``Program``s). Running a
script as ``__main__`` under the runner protocol, in a child process, is ``script_run``'s job.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import PtoError

if TYPE_CHECKING:
    from ..language.schedule import ScheduleStep
    from ..language.workload import Workload
    from .program import Program

__all__ = ["RUN_NAME", "ScriptError", "ScriptResult", "collect", "run_script", "scheduled_only"]

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


def collect(
    namespace: dict[str, Any],
) -> tuple[list[tuple[str, Workload]], list[tuple[str, Program]]]:
    """Workloads and Programs reachable from a script's globals, in definition order.

    A Program contributes its workload too (``program.workload``); each object appears once,
    under the first name that reaches it.
    """
    from ..language.workload import Workload
    from .program import Program

    workloads: list[tuple[str, Workload]] = []
    programs: list[tuple[str, Program]] = []
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
            inner = value.workload
            if id(inner) not in seen:
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


def scheduled_only(workloads: Iterable[tuple[str, Workload]]) -> list[tuple[str, Workload]]:
    """``workloads`` without the stages a schedule chain passed through.

    ``w = f(); program = w.spatial_map(...).task_graph(...).compile()`` leaves ``w`` (no
    schedule) and the scheduled copy in a script's globals; both share the traced body. The
    unscheduled stage is not a workload of its own: lowering it alone would report what only
    its schedule provides (a collective needs the mesh of ``spatial_map``), so it is dropped when a
    later schedule step of the same body is present.
    """
    items = list(workloads)

    kept: list[tuple[str, Workload]] = []
    for name, wl in items:
        mine: tuple[ScheduleStep, ...] = wl.schedule.steps
        extended = any(
            other is not wl
            and other.root is wl.root
            and len(other.schedule.steps) > len(mine)
            and other.schedule.steps[: len(mine)] == mine
            for _, other in items
        )
        if not extended:
            kept.append((name, wl))
    return kept
