"""Sweep variants on a Dask cluster (``python -m app.sweep ... --cluster tcp://host:8786``).

``DaskCluster(address)`` is a sweep executor (``app.runner.executors``) whose runs happen on the
workers of a Dask distributed scheduler. A variant goes there as the GUI runs every graph: the
document is exported to DSL source here (``RunJob`` does it, keeping the line map that puts
errors on nodes); the *source* is sent to a Dask worker, which runs it through the same
``pto_wsp`` path a local run takes (``pto_wsp.runtime.script_worker.run_source``: the worker
command in a child process of its own) and returns every file the run left. ``ClusterRunJob``
writes those files into the variant's artifact folder, with the worker's scratch folder in
their messages replaced by that folder, and reads them back with ``RunJob``'s own code: stats,
trace, kernel names and errors with node ids are what a local run of the same variant gives.

Cancel (and a run's timeout, and Ctrl+C) sets a ``distributed.Event`` the worker polls; it
stops its child as a local cancel does. The workers need ``pto_wsp`` (not the Studio) and a C++
compiler, as a local run does. The ``distributed`` package is optional
(``pip install 'pto-wsp[distributed]'``); without it, or with a scheduler that does not answer,
``DaskCluster`` raises one ``ClusterError`` saying so.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from pto_wsp.errors import PtoError
from pto_wsp.fileio import atomic_write
from pto_wsp.runtime.script_worker import RunFiles, run_source

from ..model.document import Document
from .job import DEFAULT_GRACE_S, RunJob

__all__ = [
    "ClusterError",
    "ClusterRunJob",
    "DaskCluster",
    "connect",
    "unpack",
    "CONNECT_TIMEOUT_S",
    "INSTALL_HINT",
]

CONNECT_TIMEOUT_S = 10.0
INSTALL_HINT = "pip install 'pto-wsp[distributed]'"


class ClusterError(PtoError):
    """A Dask cluster cannot be used: ``distributed`` is not installed, the address is not a
    scheduler address, or the scheduler does not answer."""


def connect(address: str, timeout_s: float | None = None) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (``ClusterError`` otherwise),
    waiting ``timeout_s`` (default ``CONNECT_TIMEOUT_S``) for it to answer."""
    timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        from distributed import Client
        from distributed.comm import connect as open_comm
    except ImportError:
        raise ClusterError(
            f"running on a Dask cluster needs the Python package 'distributed' ({INSTALL_HINT})"
        ) from None
    # A Client that fails to connect is closed by its finalizer later, which waits again and
    # prints a traceback: reach the scheduler first, so a wrong address is this one error.
    try:
        asyncio.run(_reach(open_comm, address, timeout_s))
        return Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ClusterError(
            f"cannot reach a Dask scheduler at {address}: {err or type(err).__name__}"
        ) from None


async def _reach(open_comm: Any, address: str, timeout_s: float) -> None:
    comm = await open_comm(address, timeout=timeout_s)
    await comm.close()


class DaskCluster:
    """Sweep executor on the Dask scheduler at ``address``: ``jobs`` variants at once (default:
    one per worker thread of the cluster when it connected)."""

    def __init__(
        self,
        address: str,
        *,
        jobs: int | None = None,
        grace_s: float = DEFAULT_GRACE_S,
        timeout_s: float | None = None,
    ):
        if jobs is not None and jobs < 1:
            raise ValueError(f"a cluster sweep needs at least 1 job, got {jobs}")
        self.address = address
        self.grace_s = grace_s
        self.client = connect(address, timeout_s)
        self.threads = sum(int(n) for n in self.client.nthreads().values())
        self.jobs = jobs if jobs is not None else max(1, self.threads)

    @property
    def description(self) -> str:
        return (
            f"the Dask cluster at {self.address} ({self.threads} worker "
            f"thread{'' if self.threads == 1 else 's'}), {self.jobs} at a time"
        )

    def start(self, document: Document, artifact_dir: Path) -> ClusterRunJob:
        return ClusterRunJob(self.client, document, artifact_dir, grace_s=self.grace_s)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()


class ClusterRunJob(RunJob):
    """A ``RunJob`` of a document whose script runs on a Dask worker (``client``)."""

    def __init__(
        self,
        client: Any,
        source: Document,
        workdir: str | os.PathLike[str],
        *,
        grace_s: float = DEFAULT_GRACE_S,
        start: bool = True,
    ):
        if not isinstance(source, Document):
            raise TypeError("a cluster runs documents (exported there): not a script path")
        self._client = client
        self._remote: _RemoteRun | None = None
        super().__init__(source, workdir, grace_s=grace_s, start=start)

    def _launch(self) -> _RemoteRun:
        source = self.script_path.read_text(encoding="utf-8")
        self._remote = _RemoteRun(self._client, source, self.artifact_dir, self.extra_args, self.grace_s)  # fmt: skip
        return self._remote

    def _launch_failure(self) -> str | None:
        return self._remote.failure if self._remote is not None else None


class _RemoteRun:
    """One script run on a Dask worker, seen by ``RunJob`` as it sees its local child process."""

    pid = None  # no process here

    def __init__(
        self,
        client: Any,
        source: str,
        artifact_dir: Path,
        extra_args: Sequence[str],
        grace_s: float,
    ):
        from distributed import Event

        token = uuid.uuid4().hex
        self._artifact_dir = artifact_dir
        self._stop = Event(f"pto-wsp-stop-{token}", client=client)
        self._future = client.submit(
            run_source,
            source,
            extra_args=list(extra_args),
            grace_s=grace_s,
            stop=self._stop.is_set,
            key=f"pto-wsp-run-{token}",
            pure=False,
        )
        self._done = False
        self.returncode: int | None = None
        self.cancelled = False
        self.failure: str | None = None
        """Why the cluster could not run the script at all (a worker died, pto_wsp is not
        importable there...); None when it ran, whatever the run did."""

    def poll(self) -> bool:
        if self._done:
            return True
        if not self._future.done():
            return False
        self._done = True
        try:
            ran: RunFiles = self._future.result()
        except (Exception, asyncio.CancelledError) as err:
            self.failure = f"the Dask cluster could not run the script: {type(err).__name__}: {err}"  # fmt: skip
            return True
        unpack(ran, self._artifact_dir)
        self.returncode = ran.returncode
        self.cancelled = ran.cancelled
        return True

    def cancel(self) -> None:
        if not self._done:
            self._stop.set()


def unpack(ran: RunFiles, folder: Path) -> None:
    """Write the files of a run into ``folder``, its scratch folder's path in their text (the
    stats' diagnostics, stderr's tracebacks and fault lines) replaced by ``folder``'s, so the
    read-back locates errors in the script written there, as for a local run."""
    for name, data in ran.files.items():
        if Path(name).name != name or name in ("", ".", ".."):
            continue  # only plain file names: nothing is written outside the folder
        if name.endswith(".json"):  # the path as JSON writes it inside a string
            data = data.replace(_json_text(ran.workdir), _json_text(str(folder)))
        elif name.endswith(".log"):
            data = data.replace(ran.workdir.encode(), str(folder).encode())
        atomic_write(folder / name, data)


def _json_text(path: str) -> bytes:
    return json.dumps(path)[1:-1].encode()
