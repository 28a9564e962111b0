"""Qt face of a parameter sweep: ``run_variants`` off the GUI thread, reported through signals.

The Sweep dock runs the same loop as ``python -m app.sweep`` (``app.model.sweep.run_variants``)
on the same executors (``app.runner.executors.open_executor``: a pool of worker processes here,
or a Dask cluster), in a ``QThread``: connecting to a cluster and polling the runs must not
freeze the window. ``started(index)`` follows each run's start, ``point_done(index, point)``
each finished value (in the order they finish), then exactly one of ``finished(SweepResult)``
(points in value order) or ``failed(message)`` (the executor could not be opened: no
``distributed``, an unreachable scheduler...). Signals cross threads as queued connections, so
slots run on the GUI thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6 import QtCore

from pto_wsp.errors import PtoError

from ..model.sweep import SweepParam, Variant, run_variants
from .executors import open_executor
from .job import DEFAULT_GRACE_S
from .qt_thread import ThreadRunner

__all__ = ["QtSweepRunner"]


@dataclass(frozen=True)
class _Request:
    param: SweepParam
    variants: tuple[Variant, ...]
    workdir: str
    jobs: int | None
    cluster: str
    env: tuple[tuple[str, str], ...] = ()


class _SweepThread(QtCore.QThread):
    opened = QtCore.Signal(str)
    run_started = QtCore.Signal(int)
    point = QtCore.Signal(int, object)
    done = QtCore.Signal(object)
    broke = QtCore.Signal(str)

    def __init__(self, request: _Request, grace_s: float, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._request = request
        self._grace_s = grace_s
        self.cancel_event = threading.Event()

    def run(self) -> None:  # the thread body
        r = self._request
        try:
            executor = open_executor(jobs=r.jobs, cluster=r.cluster or None, grace_s=self._grace_s, env=dict(r.env))  # fmt: skip
        except (PtoError, ValueError) as err:
            self.broke.emit(str(err))
            return
        try:
            self.opened.emit(executor.description)
            result = run_variants(
                r.param,
                r.variants,
                r.workdir,
                start=executor.start,
                jobs=executor.jobs,
                progress=lambda _done, _total, index, point: self.point.emit(index, point),
                started=self.run_started.emit,
                cancel=self.cancel_event,
            )
        except Exception as err:  # the dock must hear how every sweep ends
            self.broke.emit(f"{type(err).__name__}: {err}")
            return
        finally:
            executor.close()
        self.done.emit(result)


class QtSweepRunner(ThreadRunner):
    """Runs one sweep at a time off the GUI thread (see the module doc for the signals)."""

    opened = QtCore.Signal(str)  # what the variants run on (the executor's description)
    started = QtCore.Signal(int)
    point_done = QtCore.Signal(int, object)
    finished = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(self, parent: QtCore.QObject | None = None, grace_s: float = DEFAULT_GRACE_S):
        super().__init__(parent, grace_s)
        self._thread: _SweepThread | None = None

    def start(
        self,
        param: SweepParam,
        variants: Sequence[Variant],
        workdir: str | os.PathLike[str],
        *,
        jobs: int | None = None,
        cluster: str = "",
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Run ``variants`` of ``param``, ``jobs`` at once (None: one per core, or per worker
        thread of the cluster), on the Dask scheduler at ``cluster`` when it is not empty.
        ``env`` overrides the environment of runs on this machine (``open_executor``).
        ``RuntimeError`` while a sweep is going."""
        if self._thread is not None:
            raise RuntimeError("a sweep is already running; cancel it or wait for it to end")
        pairs = tuple(sorted((env or {}).items()))
        request = _Request(param, tuple(variants), os.fspath(workdir), jobs, cluster.strip(), pairs)
        thread = _SweepThread(request, self.grace_s, self)
        thread.opened.connect(self.opened)
        thread.run_started.connect(self.started)
        thread.point.connect(self.point_done)
        thread.done.connect(self._on_done)
        thread.broke.connect(self._on_broke)
        self._thread = thread
        thread.start()

    def cancel(self) -> None:
        """Stop the running variants and skip the rest (returns at once; ``finished`` follows)."""
        if self._thread is not None:
            self._thread.cancel_event.set()

    @QtCore.Slot(object)
    def _on_done(self, result: object) -> None:
        self._end()
        self.finished.emit(result)

    @QtCore.Slot(str)
    def _on_broke(self, message: str) -> None:
        self._end()
        self.failed.emit(message)
