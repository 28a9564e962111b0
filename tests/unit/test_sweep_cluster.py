"""Sweeps on a Dask cluster (``app.runner.cluster``, ``python -m app.sweep --cluster``) against a
real ``distributed.LocalCluster`` on loopback with 2 worker processes: the same table, CSV,
traces, kernel names and errors on nodes as the local pool; a run over its timeout stopped on
the worker; and one clear error naming ``--cluster`` when ``distributed`` is missing or the
scheduler does not answer."""

from __future__ import annotations

import io as stdio
import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from distributed import LocalCluster
from trust_projects import code_document

from app import sweep as sweep_cli
from app.model import io
from app.model.document import Document
from app.model.sweep import SweepResult, find_param, run_sweep
from app.runner import cluster as cluster_mod
from app.runner.cluster import ClusterError, ClusterRunJob, DaskCluster
from app.runner.executors import LocalPool, open_executor

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"
DISPATCH = "n20"  # megakernel_pipeline: the workload frame (dispatch_n workers)
KERNEL = "n5"  # the matmul kernel of trust_projects.code_document
CRASH = "volatile uintptr_t addr = 0; *(volatile float*)addr = 1.0f;"  # a store the compiler keeps
SPIN = "volatile unsigned long i = 0; for (;;) { i = i + 1; }"
# The only stats two runs of one variant may differ in: timings, and the build cache entry
# (its key covers the script's path, which is the variant's folder here, a scratch one there).
VARYING = ("compile_time_ms", "execute_time_ms", "artifact_dir")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask cluster on loopback: a scheduler and 2 worker processes of 1 thread each."""
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster.scheduler_address


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = stdio.StringIO(), stdio.StringIO()
    code = sweep_cli.main(list(args), out, err)
    return code, out.getvalue(), err.getvalue()


def test_the_cli_on_a_cluster_prints_what_the_local_pool_prints(scheduler: str, tmp_path: Path) -> None:  # fmt: skip
    args = (str(PIPELINE), "--node", DISPATCH, "--prop", "dispatch_n", "--values", "1, 2, 4, 0")
    code, local_out, local_err = _cli(*args, "--jobs", "1", "--csv", str(tmp_path / "local.csv"))
    assert code == 1, local_err  # 0 workers is refused: reported, the rest ran
    assert "on 1 worker process on this machine" in local_err
    code, out, err = _cli(*args, "--cluster", scheduler, "--csv", str(tmp_path / "cluster.csv"))
    assert code == 1, err
    assert f"on the Dask cluster at {scheduler} (2 worker threads), 2 at a time" in err
    assert out == local_out
    assert [ln.split()[-1] for ln in out.splitlines()[1:5]] == ["ok", "ok", "ok", "invalid"]
    assert (tmp_path / "cluster.csv").read_text() == (tmp_path / "local.csv").read_text()


def _sweep(doc: Document, node: str, prop: str, values: list, where: Path, executor, **kw) -> SweepResult:  # type: ignore[no-untyped-def]  # fmt: skip
    param = find_param(doc, node, prop).with_values(values)
    return run_sweep(doc, param, where, start=executor.start, jobs=executor.jobs, **kw)


def test_cluster_runs_read_back_as_local_runs(scheduler: str, tmp_path: Path) -> None:
    doc = io.load(PIPELINE)
    local = _sweep(doc, DISPATCH, "dispatch_n", [1, 2, 4], tmp_path / "local", LocalPool(2))
    with DaskCluster(scheduler) as cluster:
        assert cluster.jobs == cluster.threads == 2
        remote = _sweep(doc, DISPATCH, "dispatch_n", [1, 2, 4], tmp_path / "cluster", cluster)
    assert [p.status for p in remote.points] == ["ok", "ok", "ok"], [p.error for p in remote.points]  # fmt: skip
    for a, b in zip(local.points, remote.points, strict=True):
        assert (a.total_cycles, a.task_count, a.lanes, a.ns_per_cycle) == (b.total_cycles, b.task_count, b.lanes, b.ns_per_cycle)  # fmt: skip
        ra, rb = a.result, b.result
        assert rb.ok and rb.artifact_dir == b.artifact_dir
        assert rb.artifact_dir.parent == tmp_path / "cluster"  # the files are here, not there
        assert rb.kernel_names == ra.kernel_names and rb.kernel_names
        assert np.array_equal(np.asarray(rb.trace), np.asarray(ra.trace))
        drop = lambda s: {k: v for k, v in s.items() if k not in VARYING}  # noqa: E731
        assert drop(rb.stats) == drop(ra.stats)
        assert json.loads((rb.artifact_dir / "stats.json").read_text())["total_cycles"] == b.total_cycles  # fmt: skip
        assert rb.diagnostics == ra.diagnostics


def test_a_crash_on_a_cluster_worker_names_the_kernel_node(scheduler: str, tmp_path: Path) -> None:  # fmt: skip
    doc = code_document(CRASH)
    local = _sweep(doc, KERNEL, "cost", [10], tmp_path / "local", LocalPool(1))
    with DaskCluster(scheduler) as cluster:
        remote = _sweep(doc, KERNEL, "cost", [10], tmp_path / "cluster", cluster)
    (a,), (b,) = local.points, remote.points
    assert a.status == b.status == "failed"
    assert a.error_node == b.error_node == KERNEL
    assert "kernel matmul crashed (SIGSEGV)" in b.error
    # the same words, each naming the script in its own variant's folder
    assert b.error.replace(str(b.artifact_dir), "DIR") == a.error.replace(str(a.artifact_dir), "DIR")  # fmt: skip
    (diag,) = b.result.errors
    assert diag.file == str(b.artifact_dir / "program.py") and diag.node_id == KERNEL


def test_a_run_over_its_timeout_is_stopped_on_the_worker(scheduler: str, tmp_path: Path) -> None:  # fmt: skip
    doc = code_document(SPIN)
    with DaskCluster(scheduler) as cluster:
        result = _sweep(doc, KERNEL, "cost", [10, 20], tmp_path / "spin", cluster, timeout_s=20)
        assert [p.status for p in result.points] == ["failed", "failed"]
        assert all(p.error == "the run took longer than 20 s" for p in result.points)
        # both worker threads are free again: a sweep after it runs to the end
        after = _sweep(io.load(PIPELINE), DISPATCH, "dispatch_n", [1, 2], tmp_path / "after", cluster)  # fmt: skip
    assert [p.status for p in after.points] == ["ok", "ok"]


def test_a_cluster_runs_documents_only(scheduler: str, tmp_path: Path) -> None:
    script = tmp_path / "model.py"
    script.write_text("print('hi')\n")
    with DaskCluster(scheduler) as cluster, pytest.raises(TypeError, match="documents"):
        ClusterRunJob(cluster.client, script, tmp_path / "run")  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ARGS = (str(PIPELINE), "--node", DISPATCH, "--prop", "dispatch_n", "--values", "1")


def test_an_unreachable_scheduler_is_one_error_naming_cluster(monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(cluster_mod, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    code, out, err = _cli(*ARGS, "--cluster", address)
    assert code == 1 and out == ""
    lines = [ln for ln in err.splitlines() if ln.startswith("error")]
    assert lines == [lines[0]] and lines[0].startswith(f"error: --cluster {address}: cannot reach a Dask scheduler at {address}")  # fmt: skip
    with pytest.raises(ClusterError, match="cannot reach a Dask scheduler"):
        open_executor(cluster=address)


def test_without_distributed_the_error_names_cluster_and_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    code, out, err = _cli(*ARGS, "--cluster", "tcp://127.0.0.1:8786")
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1] == (
        "error: --cluster tcp://127.0.0.1:8786: running on a Dask cluster needs the Python "
        "package 'distributed' (pip install 'pto-wsp[distributed]')"
    )
