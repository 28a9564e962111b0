"""Qt face of ``RunJob``: run a document or script off the GUI thread, report through signals.

A ``QThread`` exports the document, starts the worker process and polls it (the export and the
read-back of a large trace must not freeze the window); stdout lines become ``progress``
signals as they are printed. Exactly one of ``finished`` (the run succeeded) or ``failed``
(errors, crash, cancel, export error) follows each ``started``, carrying the ``RunResult``.
Signals cross threads as queued connections, so slots run on the GUI thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6 import QtCore

from pto_wsp.runtime.fork_server import ForkServer

from ..model.document import Document
from .job import DEFAULT_GRACE_S, SCRIPT_NAME, RunDiagnostic, RunJob, RunResult
from .qt_thread import ThreadRunner
from .warm_worker import shared_server

__all__ = ["QtRunner"]

POLL_INTERVAL_MS = 30


class _RunThread(QtCore.QThread):
    """Owns one ``RunJob`` for its lifetime; everything blocking happens here."""

    job_started = QtCore.Signal()
    line = QtCore.Signal(str)
    done = QtCore.Signal(object)

    def __init__(
        self,
        source: Document | str | os.PathLike[str],
        workdir: str | os.PathLike[str],
        grace_s: float,
        launcher: ForkServer | None,
        parent: QtCore.QObject | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ):
        super().__init__(parent)
        self._launcher = launcher
        self._extra_args = tuple(extra_args)
        self._env = dict(env or {})
        self._source = source
        self._workdir = workdir
        self._grace_s = grace_s
        self._cancel = threading.Event()
        self.job: RunJob | None = None

    def cancel(self) -> None:
        self._cancel.set()
        job = self.job
        if job is not None:
            job.cancel()

    def run(self) -> None:  # the thread body
        try:
            job = RunJob(
                self._source,
                self._workdir,
                grace_s=self._grace_s,
                extra_args=self._extra_args,
                env=self._env,
                start=False,
                launcher=self._launcher,
            )
            self.job = job
            if self._cancel.is_set():  # cancelled while exporting: never start the process
                self.done.emit(self._not_run("the run was cancelled", "Cancelled"))
                return
            job.start()
            self.job_started.emit()
            if self._cancel.is_set():
                job.cancel()
            while not job.poll():
                for text in job.read_output():
                    self.line.emit(text)
                self.msleep(POLL_INTERVAL_MS)
            for text in job.read_output():
                self.line.emit(text)
            self.done.emit(job.result())
        except Exception as err:  # the GUI must hear about every outcome: a missing script...
            self.done.emit(self._not_run(f"{type(err).__name__}: {err}", type(err).__name__))

    def _not_run(self, message: str, kind: str) -> RunResult:
        """A result for a run that never got a process (or whose runner itself failed)."""
        job = self.job
        if job is not None:
            script, artifacts = job.script_path, job.artifact_dir
        else:
            artifacts = Path(self._workdir)
            source = self._source
            script = artifacts / SCRIPT_NAME if isinstance(source, Document) else Path(source)
        return RunResult(
            ok=False,
            stats={},
            trace=None,
            kernel_names=[],
            diagnostics=[RunDiagnostic(None, None, None, kind, message)],
            returncode=None,
            stderr_tail="",
            script_path=script,
            artifact_dir=artifacts,
            cancelled=kind == "Cancelled",
        )


class QtRunner(ThreadRunner):
    """Runs one job at a time off the GUI thread.

    ``start(source, workdir)``: ``source`` is a ``Document`` or a DSL script path; emits
    ``started`` once the worker process is up, ``progress(line)`` per stdout line, then
    ``finished(RunResult)`` or ``failed(RunResult)``. ``cancel()`` stops the run (SIGTERM,
    SIGKILL after ``grace_s``); ``failed`` then carries a result with ``cancelled=True``.
    A run that cannot even start (missing script, unwritable workdir) also ends in ``failed``,
    its one diagnostic naming the reason.

    Runs are forks of the Studio's fork server (``warm_worker``), started here, when the
    first runner is made: well before the first Run click.
    """

    started = QtCore.Signal()
    progress = QtCore.Signal(str)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(object)

    def __init__(self, parent: QtCore.QObject | None = None, grace_s: float = DEFAULT_GRACE_S):
        super().__init__(parent, grace_s)
        self.launcher = shared_server()
        self._thread: _RunThread | None = None
        self.last_result: RunResult | None = None

    def start(
        self,
        source: Document | str | os.PathLike[str],
        workdir: str | os.PathLike[str],
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Start a run; ``RuntimeError`` if one is still going (cancel or wait for it first).
        ``extra_args`` go to the runner protocol (``--verify``: Emit and Verify); ``env``
        overrides variables of the worker's environment for this run only (the Studio's
        PTO-ISA root): a fork of the fork server gets it too, as each run's environment is
        sent with the run."""
        if self._thread is not None:
            raise RuntimeError("a run is already in progress; cancel it or wait for it to end")
        thread = _RunThread(source, workdir, self.grace_s, self.launcher, self, extra_args, env)
        thread.job_started.connect(self.started)
        thread.line.connect(self.progress)
        thread.done.connect(self._on_done)
        self._thread = thread
        thread.start()

    def cancel(self) -> None:
        """Stop the current run, if any (returns at once; ``failed`` reports the end)."""
        if self._thread is not None:
            self._thread.cancel()

    @QtCore.Slot(object)
    def _on_done(self, outcome: object) -> None:
        self._end()
        assert isinstance(outcome, RunResult)
        self.last_result = outcome
        (self.finished if outcome.ok else self.failed).emit(outcome)
