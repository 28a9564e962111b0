"""Sweeps on a pool (``app.model.sweep.run_variants``): at most ``jobs`` runs at once, results
in value order whatever order they finish in, refused values taking no slot, cancel, per-run
timeout and an interrupt that leaves no run behind; and a real pool of N worker processes
(``app.runner.executors.LocalPool``) giving the points a pool of 1 gives."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.model import io
from app.model.document import Document
from app.model.sweep import (
    SweepError,
    SweepPoint,
    find_param,
    make_variants,
    run_sweep,
    run_variants,
)
from app.runner.executors import LocalPool, default_jobs, open_executor
from app.runner.job import RunJob

ROOT = Path(__file__).resolve().parents[3]
PIPELINE = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"
DISPATCH = "n20"  # megakernel_pipeline: the workload frame (dispatch_n workers)


@pytest.fixture(scope="module")
def pipeline() -> Document:
    return io.load(PIPELINE)


# ------------------------------------------------------------------------------------------
# the loop, with runs that finish when the test says


@dataclass
class Outcome:
    """A finished run as a sweep reads it (``RunOutcome``): ran, no per-task trace."""

    cycles: int
    cancelled: bool
    artifact_dir: Path
    ok: bool = True
    errors: tuple[Any, ...] = ()
    stderr_tail: str = ""
    trace: Any = None
    kernel_names: list[str] = field(default_factory=list)

    @property
    def stats(self) -> dict[str, Any]:
        return {"executed": True, "total_cycles": self.cycles, "task_count": 1}


class Board:
    """Starts fake runs (``StartRun``) and tracks them: how many were running at once."""

    def __init__(self, polls_to_finish: dict[int, int | None]):
        self.polls_to_finish = polls_to_finish  # value -> polls until done (None: never)
        self.runs: list[FakeRun] = []
        self.most_at_once = 0

    def running(self) -> list[FakeRun]:
        return [r for r in self.runs if not r.ended]

    def start(self, document: Document, artifact_dir: Path) -> FakeRun:
        value = int(document.node(DISPATCH).props["dispatch_n"])
        run = FakeRun(self, value, self.polls_to_finish[value], artifact_dir)
        self.runs.append(run)
        self.most_at_once = max(self.most_at_once, len(self.running()))
        return run


class FakeRun:
    def __init__(self, board: Board, value: int, polls: int | None, artifact_dir: Path):
        self.board = board
        self.value = value
        self.polls_left = polls
        self.artifact_dir = artifact_dir
        self.ended = False
        self.cancelled = False
        self.waited = False

    def poll(self) -> bool:
        if not self.ended and self.polls_left is not None:
            self.polls_left -= 1
            self.ended = self.polls_left <= 0
        return self.ended

    def cancel(self, wait: bool = False) -> None:
        if not self.ended:
            self.cancelled = self.ended = True
        self.waited = self.waited or wait

    def result(self) -> Outcome:
        assert self.ended
        return Outcome(self.value * 10, self.cancelled, self.artifact_dir)


def sweep_of(doc: Document, values: list[int]) -> Any:
    return find_param(doc, DISPATCH, "dispatch_n").with_values(values)


def test_a_pool_runs_at_most_jobs_at_once_and_reports_in_value_order(
    pipeline: Document, tmp_path: Path
) -> None:
    values = [1, 2, 3, 4, 5, 6, 7]
    board = Board({v: 2 + 3 * (len(values) - v) for v in values})  # later values finish first
    param = sweep_of(pipeline, values)
    finished: list[int] = []
    started: list[int] = []
    result = run_variants(
        param,
        make_variants(pipeline, param),
        tmp_path,
        start=board.start,
        jobs=3,
        progress=lambda done, total, index, point: finished.append(index),
        started=started.append,
    )
    assert board.most_at_once == 3  # the pool was full, never over full
    assert started == list(range(7))  # runs start in value order
    assert finished != sorted(finished) and sorted(finished) == list(range(7))
    assert [p.value for p in result.points] == values  # the result is in value order
    assert [p.total_cycles for p in result.points] == [v * 10 for v in values]
    assert [r.artifact_dir.name for r in board.runs] == [f"{k:03d}-{v}" for k, v in enumerate(values, 1)]  # fmt: skip
    assert not result.cancelled


def test_a_pool_of_one_runs_one_variant_at_a_time(pipeline: Document, tmp_path: Path) -> None:
    board = Board({1: 3, 2: 1, 4: 2})
    param = sweep_of(pipeline, [1, 2, 4])
    order: list[int] = []
    run_variants(
        param,
        make_variants(pipeline, param),
        tmp_path,
        start=board.start,
        progress=lambda done, total, index, point: order.append(index),
    )
    assert board.most_at_once == 1 and order == [0, 1, 2]


def test_refused_values_take_no_slot(pipeline: Document, tmp_path: Path) -> None:
    board = Board({1: 5, 2: 5})
    param = sweep_of(pipeline, [1, 0, 2])  # 0 workers: refused by the setter, never run
    reports: list[tuple[int, int, int, str]] = []
    result = run_variants(
        param,
        make_variants(pipeline, param),
        tmp_path,
        start=board.start,
        jobs=2,
        progress=lambda done, total, index, point: reports.append(
            (done, total, index, point.status)
        ),  # fmt: skip
    )
    assert [r.value for r in board.runs] == [1, 2]
    assert board.most_at_once == 2  # the refused value did not hold value 2 back
    assert reports == [(1, 3, 1, "invalid"), (2, 3, 0, "no-trace"), (3, 3, 2, "no-trace")]
    assert [p.status for p in result.points] == ["no-trace", "invalid", "no-trace"]


def test_cancel_stops_every_running_variant_and_skips_the_rest(
    pipeline: Document, tmp_path: Path
) -> None:
    board = Board({1: 2, 2: None, 3: None, 4: None, 5: None})
    param = sweep_of(pipeline, [1, 2, 3, 4, 5])
    cancel = threading.Event()
    result = run_variants(
        param,
        make_variants(pipeline, param),
        tmp_path,
        start=board.start,
        jobs=2,
        progress=lambda done, total, index, point: cancel.set(),
        cancel=cancel,
    )
    assert [p.status for p in result.points] == ["no-trace", "cancelled", "skipped", "skipped", "skipped"]  # fmt: skip
    assert result.cancelled and not result.ok
    assert [r.value for r in board.runs] == [1, 2]  # 1's slot was not given to 3
    assert board.runs[1].cancelled and not board.running()


def test_a_run_over_the_timeout_fails_and_the_others_go_on(pipeline: Document, tmp_path: Path) -> None:  # fmt: skip
    board = Board({1: 3, 2: None, 4: 3})  # 2 never ends unless cancelled
    param = sweep_of(pipeline, [1, 2, 4])
    result = run_variants(
        param, make_variants(pipeline, param), tmp_path, start=board.start, jobs=2, timeout_s=0.2
    )
    assert [p.status for p in result.points] == ["no-trace", "failed", "no-trace"]
    assert result.points[1].error == "the run took longer than 0.2 s"
    assert not result.cancelled


def test_an_interrupt_cancels_every_running_variant_and_waits_for_it(
    pipeline: Document, tmp_path: Path
) -> None:
    board = Board({1: 1, 2: None, 3: None, 4: None})
    param = sweep_of(pipeline, [1, 2, 3, 4])

    def interrupt(done: int, total: int, index: int, point: SweepPoint) -> None:
        raise KeyboardInterrupt  # Ctrl+C in the CLI lands in whatever the loop is doing

    with pytest.raises(KeyboardInterrupt):
        run_variants(
            param,
            make_variants(pipeline, param),
            tmp_path,
            start=board.start,
            jobs=3,
            progress=interrupt,
        )
    assert [r.value for r in board.runs] == [1, 2, 3]
    assert not board.running()
    assert all(r.cancelled and r.waited for r in board.runs[1:])


def test_a_pool_needs_a_job(pipeline: Document, tmp_path: Path) -> None:
    param = sweep_of(pipeline, [1])
    with pytest.raises(SweepError, match="jobs must be at least 1, got 0"):
        run_variants(param, make_variants(pipeline, param), tmp_path, start=RunJob, jobs=0)
    with pytest.raises(ValueError, match="at least 1 job"):
        LocalPool(0)


def test_the_local_pool_defaults_to_the_cores() -> None:
    pool = open_executor()
    assert isinstance(pool, LocalPool)
    assert pool.jobs == default_jobs()
    if hasattr(os, "sched_getaffinity"):
        assert default_jobs() == len(os.sched_getaffinity(0))
    assert open_executor(jobs=3).jobs == 3
    assert LocalPool(1).description == "1 worker process on this machine"


# ------------------------------------------------------------------------------------------
# real worker processes


@pytest.mark.slow
def test_a_pool_of_two_gives_the_points_of_a_pool_of_one(pipeline: Document, tmp_path: Path) -> None:  # fmt: skip
    param = sweep_of(pipeline, [1, 2, 4, 3])
    one = run_sweep(pipeline, param, tmp_path / "one", start=RunJob)
    pool = LocalPool(2)
    two = run_sweep(pipeline, param, tmp_path / "two", start=pool.start, jobs=pool.jobs)
    assert [p.status for p in two.points] == ["ok"] * 4, [p.error for p in two.points]
    assert [p.value for p in two.points] == [1, 2, 4, 3]
    for a, b in zip(one.points, two.points, strict=True):
        assert (a.total_cycles, a.task_count, a.lanes) == (b.total_cycles, b.task_count, b.lanes)
        assert a.mean_utilisation == pytest.approx(b.mean_utilisation)
        assert b.artifact_dir is not None and b.artifact_dir.parent == tmp_path / "two"
    assert len({p.artifact_dir for p in two.points}) == 4  # one folder per variant


@pytest.mark.slow
def test_an_interrupt_leaves_no_worker_process_behind(pipeline: Document, tmp_path: Path) -> None:  # fmt: skip
    jobs: list[RunJob] = []

    def start(document: Document, artifact_dir: Path) -> RunJob:
        job = RunJob(document, artifact_dir)
        jobs.append(job)
        return job

    def interrupt(index: int) -> None:
        if index == 1:  # both workers are up
            raise KeyboardInterrupt

    param = sweep_of(pipeline, [1, 2, 4])
    with pytest.raises(KeyboardInterrupt):
        run_variants(param, make_variants(pipeline, param), tmp_path, start=start, jobs=2, started=interrupt)  # fmt: skip
    assert len(jobs) == 2
    for job in jobs:
        assert job.poll()  # ended (reaped), not running on
        assert job.pid is not None
        with pytest.raises(ProcessLookupError):
            os.killpg(job.pid, 0)  # nothing of its process group is left either
