"""Where a parameter sweep's variants run: a pool of worker processes here, or a Dask cluster.

``app.model.sweep.run_variants`` is the one loop every sweep goes through; an executor hands it
the two things that differ, ``start`` (start one variant's run, a ``RunHandle``) and ``jobs``
(how many run at once). ``LocalPool(jobs)`` starts each variant as ``RunJob`` does for Run — a
worker process of its own, so a pool of N is N processes running at once, each cancellable
(its process group) and none left behind by Ctrl+C. Like a Studio run, each variant's process
is a fresh fork of the fork server (``warm_worker.shared_server``: ``pto_wsp`` imported once,
not once per variant; the server is thread-safe and forks one child per run, so one serves the
whole pool), or a new interpreter where the server is off (``PTO_WSP_FORK_SERVER=0``) or cannot
run; ``app.runner.cluster.DaskCluster`` runs
each variant's exported script on a Dask worker. ``open_executor`` picks one from what the
user set (``python -m app.sweep --jobs N --cluster ADDRESS``, the Sweep dock's fields).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pto_wsp.runtime.fork_server import ForkServer

from ..model.document import Document
from ..model.sweep import RunHandle
from .job import DEFAULT_GRACE_S, RunJob
from .warm_worker import shared_server

__all__ = ["SweepExecutor", "LocalPool", "default_jobs", "open_executor"]


class SweepExecutor(Protocol):
    """Runs sweep variants: ``start`` one, at most ``jobs`` at once; ``close`` when done."""

    @property
    def jobs(self) -> int: ...
    @property
    def description(self) -> str: ...
    def start(self, document: Document, artifact_dir: Path) -> RunHandle: ...
    def close(self) -> None: ...


def default_jobs() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    counted = getattr(os, "process_cpu_count", None)  # Python >= 3.13
    if counted is not None:
        return max(1, counted() or 1)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class LocalPool:
    """Variants as worker processes on this machine, ``jobs`` at a time (default: one per core).

    ``launcher`` gives the fork server each run is forked from (asked at every start, so a
    server that died is replaced; None: a new process); default: the Studio's shared one.
    """

    jobs: int = field(default_factory=default_jobs)
    grace_s: float = DEFAULT_GRACE_S
    env: Mapping[str, str] = field(default_factory=dict)
    """Overrides of each run's environment (the Studio's PTO-ISA root: ``RunJob``'s ``env``)."""
    launcher: Callable[[], ForkServer | None] = shared_server

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError(f"a pool needs at least 1 job, got {self.jobs}")

    @property
    def description(self) -> str:
        return f"{self.jobs} worker process{'' if self.jobs == 1 else 'es'} on this machine"

    def start(self, document: Document, artifact_dir: Path) -> RunJob:
        return RunJob(
            document,
            artifact_dir,
            grace_s=self.grace_s,
            env=dict(self.env),
            launcher=self.launcher(),
        )

    def close(self) -> None:
        """Nothing to release: each run's process ends with it (the shared fork server stays
        for the next run or sweep and stops when the process exits)."""


def open_executor(
    *,
    jobs: int | None = None,
    cluster: str | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    env: Mapping[str, str] | None = None,
) -> SweepExecutor:
    """A ``DaskCluster`` on the scheduler at ``cluster`` (``ClusterError`` when it cannot be
    used), else a ``LocalPool``; ``jobs`` None: one per core, or per thread of the cluster.
    ``env`` overrides the environment of the local pool's runs (the Studio's PTO-ISA root);
    a cluster's workers run with their own environment (their machines' paths), so ``env``
    is not sent there."""
    if cluster:
        from .cluster import DaskCluster  # `distributed` only when a cluster is asked for

        return DaskCluster(cluster, jobs=jobs, grace_s=grace_s)
    return LocalPool(jobs if jobs is not None else default_jobs(), grace_s, dict(env or {}))
