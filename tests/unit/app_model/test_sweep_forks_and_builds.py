"""A local pool's sweep variants are forks of the fork server (one fresh child per variant, a
new interpreter when the server is off or gone) and variants whose generated code is the same
share one C++ build although each runs in a folder of its own. Counted: the server's forks, the
build cache's entries; never wall time."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.model import io
from app.model.document import Document
from app.model.sweep import find_param, run_sweep
from app.runner.executors import LocalPool
from app.runner.job import RunJob, worker_environment
from app.runner.warm_worker import ENV_SWITCH
from pto_wsp.runtime.fork_server import ForkServer

ROOT = Path(__file__).resolve().parents[3]
PIPELINE = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"
DISPATCH = "n20"  # megakernel_pipeline: the workload frame; dispatch_n is a run-time setting

pytestmark = pytest.mark.skipif(not ForkServer.supported, reason="fork() is POSIX only")


@pytest.fixture(scope="module")
def pipeline() -> Document:
    return io.load(PIPELINE)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(path))
    return path


def builds(cache: Path) -> int:
    return len(list((cache / "v1").glob("*/*")))


def dispatch_sweep(doc: Document, values: list[int]):  # type: ignore[no-untyped-def]
    return find_param(doc, DISPATCH, "dispatch_n").with_values(values)


@pytest.mark.slow
def test_variants_are_forks_of_the_server_and_share_one_build(
    pipeline: Document, tmp_path: Path, cache: Path
) -> None:
    server = ForkServer(env=worker_environment()).start()
    try:
        pool = LocalPool(2, launcher=lambda: server)
        result = run_sweep(pipeline, dispatch_sweep(pipeline, [1, 2, 4]), tmp_path / "sweep",
                           start=pool.start, jobs=pool.jobs)  # fmt: skip
    finally:
        server.close()
    assert [p.status for p in result.points] == ["ok"] * 3, [p.error for p in result.points]
    assert server.spawned == 3  # every variant a fork, none a new interpreter
    assert len({p.artifact_dir for p in result.points}) == 3  # each in its own folder ...
    assert builds(cache) == 1  # ... and one build for all: dispatch_n is a run-time value
    cycles = [p.total_cycles for p in result.points]
    assert cycles[0] > cycles[1] > cycles[2]  # more dispatch workers, a shorter run

    plain = run_sweep(pipeline, dispatch_sweep(pipeline, [1, 2, 4]), tmp_path / "plain",
                      start=LocalPool(1, launcher=lambda: None).start)  # fmt: skip
    assert [p.total_cycles for p in plain.points] == cycles  # forks run what processes run
    assert [p.lanes for p in plain.points] == [p.lanes for p in result.points]
    assert builds(cache) == 1


def test_the_pool_uses_the_shared_server_unless_it_is_off(
    pipeline: Document, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_SWITCH, "0")
    pool = LocalPool(1)
    assert pool.launcher() is None
    param = dispatch_sweep(pipeline, [2])
    started: list[RunJob] = []

    def start(document: Document, artifact_dir: Path) -> RunJob:
        job = pool.start(document, artifact_dir)
        started.append(job)
        return job

    result = run_sweep(pipeline, param, tmp_path / "off", start=start)
    assert result.points[0].ok, result.points[0].error
    assert started[0].launcher is None  # a new interpreter: the switch is honoured
    monkeypatch.setenv(ENV_SWITCH, "1")
    server = LocalPool(1).launcher()
    assert server is not None and server.alive  # the Studio's one server, started on demand
    assert LocalPool(1).launcher() is server


def test_a_dead_server_falls_back_to_a_new_process(
    pipeline: Document, tmp_path: Path, cache: Path
) -> None:
    server = ForkServer(env=worker_environment(), preload=()).start()
    server.close()
    pool = LocalPool(1, launcher=lambda: server)
    result = run_sweep(pipeline, dispatch_sweep(pipeline, [1, 2]), tmp_path / "dead",
                       start=pool.start)  # fmt: skip
    assert [p.status for p in result.points] == ["ok", "ok"], [p.error for p in result.points]
    assert server.spawned == 0
