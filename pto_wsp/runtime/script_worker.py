"""The worker side of a run: one DSL script under the runner protocol, in a child process.

Every run the Studio starts (a Run click, each variant of a parameter sweep) is the command
``worker_command`` builds, ``python -X faulthandler SCRIPT --trace trace.npy --stats
stats.json``: the script's ``run_main`` block executes its program and writes the stats JSON and
the trace (``runner``). ``app.runner.job.RunJob`` starts that command on this machine. A sweep on
a Dask cluster ships the script's *source* instead: on a cluster worker ``run_source`` writes it
to a scratch folder, runs the same command through ``isolation.ChildProcess`` and hands back
every file the run left (stats, trace, logs, CSP trace, task sites) as bytes, with the folder it
ran in, so the caller reads the run back exactly as it reads a local one.

Nothing here imports the Studio: a cluster worker needs ``pto_wsp`` only.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..fileio import atomic_write, scratch_dir
from .isolation import DEFAULT_GRACE_S, ChildProcess

__all__ = [
    "SCRIPT_NAME",
    "TRACE_NAME",
    "STATS_NAME",
    "STDOUT_NAME",
    "STDERR_NAME",
    "RunFiles",
    "worker_command",
    "run_environment",
    "run_source",
]

SCRIPT_NAME = "program.py"
TRACE_NAME = "trace.npy"
STATS_NAME = "stats.json"
STDOUT_NAME = "stdout.log"
STDERR_NAME = "stderr.log"
STOP_POLL_S = 0.2
"""How often ``run_source`` asks its ``stop`` callable (on a cluster: a round trip to the
scheduler)."""


def worker_command(
    python: str,
    script: str | os.PathLike[str],
    trace: str | os.PathLike[str],
    stats: str | os.PathLike[str],
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The command line of a run (faulthandler on: a crash dumps the Python stack).

    ``--no-execute`` (compile only) or ``--verify`` (Emit and Verify) in ``extra_args`` drops
    ``--trace``: there is no run to trace.
    """
    untraced = "--no-execute" in extra_args or "--verify" in extra_args
    traced = [] if untraced else ["--trace", str(trace)]
    return [python, "-X", "faulthandler", str(script), *traced, "--stats", str(stats), *extra_args]


def run_environment(import_roots: Sequence[str] = ()) -> dict[str, str]:
    """This process's environment for a run: ``pto_wsp`` (and ``import_roots``) importable,
    output unbuffered (progress lines arrive as they are printed) and UTF-8."""
    env = dict(os.environ)
    paths = [str(Path(__file__).resolve().parents[2])]  # the folder holding pto_wsp/
    paths += [r for r in import_roots if r not in paths]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@dataclass(frozen=True)
class RunFiles:
    """What a run left, carried back from the machine it ran on.

    ``workdir`` is the folder it ran in (its messages name paths in it), ``returncode`` the
    child's (negative: the signal that ended it; None when it never started), ``cancelled``
    whether ``stop`` ended it, ``files`` every file it wrote there, by name (not the script).
    """

    workdir: str
    returncode: int | None
    cancelled: bool
    files: dict[str, bytes] = field(default_factory=dict)


def run_source(
    source: str,
    *,
    extra_args: Sequence[str] = (),
    grace_s: float = DEFAULT_GRACE_S,
    stop: Callable[[], bool] | None = None,
) -> RunFiles:
    """Run the DSL script ``source`` as the Studio runs an exported document, here.

    ``stop`` is asked every ``STOP_POLL_S`` while the child runs; once it says True the run is
    cancelled as a local one is (SIGTERM to its process group, SIGKILL ``grace_s`` later). An
    exception in this function (``stop`` failing, an interrupt) never leaves the child running.
    """
    with scratch_dir("pto-wsp-run") as work:
        if stop is not None and stop():
            return RunFiles(str(work), None, True)
        script = work / SCRIPT_NAME
        atomic_write(script, source)
        command = worker_command(
            sys.executable, script, work / TRACE_NAME, work / STATS_NAME, extra_args
        )
        child = ChildProcess(
            command,
            cwd=work,
            env=run_environment(),
            stdout_path=work / STDOUT_NAME,
            stderr_path=work / STDERR_NAME,
            grace_s=grace_s,
        ).start()
        try:
            ask_at = time.monotonic() + STOP_POLL_S
            while not child.poll():
                if stop is not None and not child.cancelled and time.monotonic() >= ask_at:
                    ask_at = time.monotonic() + STOP_POLL_S
                    if stop():
                        child.cancel()
                time.sleep(0.02)
        except BaseException:
            child.cancel()
            child.wait()
            raise
        files = {
            p.name: p.read_bytes()
            for p in sorted(work.iterdir())
            if p.is_file() and p.name != SCRIPT_NAME
        }
        return RunFiles(str(work), child.returncode, child.cancelled, files)
