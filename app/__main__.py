"""``python -m app`` / ``pto-wsp-studio``: PTO-WSP Studio's main job.

With a display, the Studio opens its main window on a project: the one named on the command line
(a ``.pto.json`` project, or a ``.py`` DSL script which is imported — naming it is the explicit
request the importer needs), else the bundled sample ``app/projects/attention_varlen.pto.json``
(an empty document when that file is absent) — and runs it, so the timeline is ready when the
window settles (``--no-run`` opens without running; a document with no Compile node is not run;
a file that carries C++ and is not trusted opens in restricted mode, not run: ``app.model.trust``).

Without a display (``QT_QPA_PLATFORM`` unset and neither ``DISPLAY`` nor ``WAYLAND_DISPLAY``, or a
platform that shows nothing: ``offscreen``/``minimal``) or with ``--headless``, the studio runs
headless: it runs a DSL script (by default the bundled sample
``app/projects/samples/attention_varlen.py``, spec §8.1; a project file is exported first) and prints
what it built — each workload with its dependency type, kernels and schedule, the task count per
kernel, the lowered IR text — and, when the backend can execute the program, its statistics. A
backend that cannot execute yet is reported, not fatal.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from pto_wsp.cli import EXIT_OK, EXIT_USER_ERROR
from pto_wsp.errors import CompileError, PtoError
from pto_wsp.runtime.scripts import ScriptError, run_script, scheduled_only
from pto_wsp.runtime.trace import save_chrome_trace

from .model.trust import BUNDLED_PROJECTS

IMPORT_ROOT = BUNDLED_PROJECTS.parent.parent  # the checkout, or site-packages when installed
SAMPLE = BUNDLED_PROJECTS / "samples" / "attention_varlen.py"
SAMPLE_PROJECT = BUNDLED_PROJECTS / "attention_varlen.pto.json"
PROJECT_SUFFIX = ".json"  # ``*.pto.json``; any JSON file is read as a project
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal"})


# ------------------------------------------------------------------------------------------
# task counts: from the workload tree, static extents only (no task is enumerated)
# ------------------------------------------------------------------------------------------
def _extent(axis: Any) -> int | None:
    size = getattr(axis, "size", None)
    if isinstance(size, int):
        return size
    total = getattr(axis, "total", None)  # a whole Ragged axis
    if callable(total) and getattr(axis, "kind", "") == "ragged":
        return int(total())
    return None


def count_tasks(statements: Any, scale: int | None = 1) -> Counter[str]:
    """Tasks per kernel name; a kernel under a data-dependent loop or branch counts as -1."""
    counts: Counter[str] = Counter()
    for node in statements if isinstance(statements, list | tuple) else [statements]:
        kind = type(node).__name__
        if kind == "KernelCall":
            name = getattr(node, "kernel_name", None) or getattr(node.kernel, "name", "?")
            counts[name] = -1 if scale is None or counts.get(name) == -1 else counts[name] + scale
        elif kind == "LoopNode":
            extents = [_extent(a) for a in node.axes] if node.kind != "sel" else [None]
            inner = None if scale is None or None in extents else scale * math.prod(extents)
            counts = _merge(counts, count_tasks(node.body, inner))
        elif kind == "CondNode":
            for _, body in node.branches:
                counts = _merge(counts, count_tasks(body, None))
        elif kind in ("CombineNode", "SequentialNode"):
            for child in node.children:
                counts = _merge(counts, count_tasks(child.root, scale))
        elif kind == "PipeNode":
            for proc in node.processes:
                counts = _merge(counts, count_tasks(proc, scale))
        elif kind == "ProcessNode":
            reps = getattr(node, "replicas", 1)
            counts = _merge(counts, count_tasks(node.body, None if scale is None else scale * reps))
        elif kind == "SendNode":
            counts = _merge(counts, count_tasks(node.value, scale))
        elif kind == "ConsumeNode":
            counts = _merge(counts, count_tasks(node.body, None))
    return counts


def _merge(a: Counter[str], b: Counter[str]) -> Counter[str]:
    out = Counter(a)
    for name, n in b.items():
        out[name] = -1 if n == -1 or out.get(name) == -1 else out[name] + n
    return out


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------
def _schedule_line(ir_text: str) -> str:
    for line in ir_text.splitlines():
        if line.strip().startswith("schedule"):
            return line.strip()[len("schedule") :].strip() or "default"
    return "default"


def describe_workload(name: str, wl: Any, ir_text: str, out: TextIO) -> None:
    counts = count_tasks(wl.root)
    out.write(f"workload {getattr(wl, 'name', name)}  (variable: {name})\n")
    out.write(f"  dependency type: {wl.dep_type}\n")
    type_str = getattr(wl, "type_str", None)
    if type_str:
        out.write(f"  type:            {type_str}\n")
    out.write(f"  kernels:         {', '.join(sorted(counts)) or '(none)'}\n")
    out.write(f"  schedule:        {_schedule_line(ir_text)}\n")
    out.write("  tasks per kernel:\n")
    for kernel, n in sorted(counts.items()):
        out.write(f"    {kernel:<24} {'data-dependent' if n == -1 else n}\n")
    out.write("IR:\n")
    for line in ir_text.rstrip("\n").splitlines():
        out.write(f"  {line}\n")


def execute(program: Any, out: TextIO) -> None:
    """Run ``program`` and print its stats, or say why this build cannot."""
    try:
        program.execute()
        program.synchronize()
    except CompileError as err:
        if getattr(program, "runner", None) is None:  # emit-only target (ascend_npu)
            out.write(f"execution: not available: {err.message}\n")
            return
        raise PtoError(f"execution failed: {err}") from err
    stats = program.stats
    out.write("execution:\n")
    for field in ("task_count", "total_cycles", "compile_time_ms", "execute_time_ms"):
        value = getattr(stats, field)
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        out.write(f"  {field:<16} {text}\n")
    trace_path = _trace_dir() / f"{program.module.name}.trace.json"
    save_chrome_trace(program, trace_path)
    out.write(f"  trace            {trace_path} (Chrome trace-event JSON: open it in Perfetto)\n")


def _trace_dir() -> Path:
    """Where headless runs leave their traces: $PTO_WSP_TRACE_DIR or the user cache."""
    import platformdirs

    root = os.environ.get("PTO_WSP_TRACE_DIR") or platformdirs.user_cache_dir("pto-wsp")
    path = Path(root) / "traces" if "PTO_WSP_TRACE_DIR" not in os.environ else Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def report(script: Path, out: TextIO) -> int:
    from pto_wsp import __version__
    from pto_wsp.compiler.lowering import lower

    out.write(f"PTO-WSP Studio {__version__} (headless)\n")
    out.write(f"script: {script}\n\n")
    result = run_script(script)
    if not result.workloads:
        raise ScriptError(f"{script} builds no workload")
    programs = {id(getattr(p, "workload", None)): p for _, p in result.programs}
    for name, wl in scheduled_only(result.workloads):
        program = programs.get(id(wl))
        module = getattr(program, "module", None) if program is not None else None
        ir_text = (module if module is not None else lower(wl)).print()
        describe_workload(name, wl, ir_text, out)
        if program is not None:
            execute(program, out)
        out.write("\n")
    return EXIT_OK


def export_project(project: Path, workdir: Path) -> Path:
    """Export the project file ``project`` to a DSL script in ``workdir`` (the one export path,
    ``pto-wsp run``'s: ``app.cli.ProjectFiles``); a code-bearing project says that it runs.

    Raises ``ScriptError`` naming the file when it cannot be loaded or exported.
    """
    from .cli import ProjectFiles

    script = workdir / (project.name.removesuffix(".json").removesuffix(".pto") + ".py")
    exporter = ProjectFiles(program="pto-wsp-studio")
    return exporter.export(project, script, None, runs=True).script


def report_any(path: Path, out: TextIO) -> int:
    """``report`` for a DSL script, or for a project file after exporting it."""
    if path.suffix != PROJECT_SUFFIX:
        return report(path, out)
    if not path.is_file():
        raise ScriptError(f"{path}: no such file")
    with tempfile.TemporaryDirectory(prefix="pto-wsp-studio-") as tmp:
        out.write(f"project: {path}\n")
        return report(export_project(path, Path(tmp)), out)


def has_display(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a window opened now would be seen by someone.

    ``QT_QPA_PLATFORM`` set to a real platform counts as a display; ``offscreen``/``minimal``
    draw nowhere (tests and CI set them), so they do not. Unset, an X11 or Wayland display must
    be named in the environment.
    """
    env = os.environ if environ is None else environ
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(":", 1)[0] not in HEADLESS_PLATFORMS
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pto-wsp-studio",
        description="PTO-WSP Studio: design, save and export PTO-WSP workloads as node graphs.",
    )
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=None,
        help="project (.pto.json) to open, or DSL script (.py) to import; headless: the script "
        f"or project to run (default: {SAMPLE.relative_to(IMPORT_ROOT)} headless, "
        f"{SAMPLE_PROJECT.relative_to(IMPORT_ROOT)} in the window)",
    )
    parser.add_argument(
        "--no-run",
        action="store_true",
        help="with a window: open the project without running it",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="do not open a window: run the script/project and print what it builds",
    )
    return parser


def run_headless(path: Path | None) -> int:
    """The headless job: report on ``path`` (default: the bundled sample script)."""
    try:
        return report_any(path or SAMPLE_PROJECT, sys.stdout)
    except ScriptError as err:
        print(f"pto-wsp-studio: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except PtoError as err:
        print(f"pto-wsp-studio: error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_USER_ERROR


def run_gui(
    path: Path | None,
    on_shown: Callable[[Any], None] | None = None,
    *,
    run: bool = True,
    start_page: bool = True,
) -> int:
    """Open the main window on ``path`` (or the sample project) and run the event loop.

    With ``run`` the opened project is run at once (an imported script once its import ends)
    unless it is in restricted mode (code-bearing and not trusted: the window shows its trust
    bar instead; the bundled samples are trusted); ``on_shown(window)`` runs once the window is
    on screen, after that run started (the screenshot smoke test uses it). Without ``path``
    the start page is shown over the canvas unless ``start_page`` is False or the user turned
    it off.
    """
    os.environ.setdefault("QT_PREFERRED_BINDING", "PySide6")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .application import create_application, open_initial

    app = QApplication.instance() or create_application(sys.argv[:1])
    window = open_initial(path, SAMPLE_PROJECT, start_page=start_page)
    if window is None:
        return EXIT_USER_ERROR
    window.show()

    def start() -> None:
        if run:
            if window.importing:  # an imported script: run what it built
                window.import_finished.connect(lambda ok: ok and window.auto_run())
            else:
                window.auto_run()
        if on_shown is not None:
            on_shown(window)

    QTimer.singleShot(0, start)
    return int(app.exec())


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if args.headless or not has_display():
        return run_headless(args.path)
    if args.path is not None and not args.path.exists():
        print(f"pto-wsp-studio: error: {args.path}: no such file", file=sys.stderr)
        return EXIT_USER_ERROR
    return run_gui(args.path, run=not args.no_run)


if __name__ == "__main__":
    sys.exit(main())
