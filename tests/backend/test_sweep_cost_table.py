"""A sweep over the cost table: one workload (app/projects/softmax.pto.json) run under our table and
PTO-ISA's A2/A3 table, each variant exported and run in a worker process as the Studio does,
gives two makespans, each what its table prices the kernel at."""

from __future__ import annotations

import csv
import io as _io
from pathlib import Path

import numpy as np
import pytest
from ptoisa_paths import REPO, SKIP_REASON, ptoisa_root

from app import sweep as sweep_cli
from app.model import io
from app.model.sweep import discover_params, find_param, parse_values, run_sweep, write_csv
from app.runner.job import RunJob

ROOT = ptoisa_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason=SKIP_REASON)
PROJECT = REPO / "app" / "projects" / "softmax.pto.json"
# softmax on a [16, 64] f32 tile, per task (tests/backend/test_ptoisa_cost_e2e.py works both out)
OURS, PTOISA = 5152, 4257


def test_cost_table_is_a_sweepable_dimension(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setenv("PTO_ISA_ROOT", str(ROOT))
    doc = io.load(PROJECT)
    keys = [p.key for p in discover_params(doc)]
    assert "n13.cost_table" in keys
    param = find_param(doc, "softmax_rows", "cost_table")
    param = param.with_values(parse_values(param, "*"))
    assert param.values == ("pto_wsp", "ptoisa_a2a3")
    result = run_sweep(doc, param, tmp_path, start=RunJob, timeout_s=300)
    assert [p.status for p in result.points] == ["ok", "ok"], [p.error for p in result.points]
    ours, theirs = result.points
    assert ours.task_count == theirs.task_count == 8
    # every task lasts what its table prices the kernel at
    for point, per_task in ((ours, OURS), (theirs, PTOISA)):
        trace = point.result.trace
        assert set((np.asarray(trace["end"]) - np.asarray(trace["start"])).tolist()) == {per_task}
        lanes = len(point.lanes)
        assert point.total_cycles == -(-8 // lanes) * per_task
    assert ours.total_cycles != theirs.total_cycles
    assert ours.ns_per_cycle == 1.0
    assert theirs.ns_per_cycle == pytest.approx(1 / 1.85)
    assert theirs.makespan_ns == pytest.approx(theirs.total_cycles / 1.85)
    assert theirs.makespan_ns < ours.makespan_ns  # faster in time, as the tables say

    path = write_csv(result, tmp_path / "sweep.csv")
    rows = list(csv.DictReader(path.open()))
    assert [r["cost_table"] for r in rows] == ["pto_wsp", "ptoisa_a2a3"]
    assert float(rows[1]["makespan_ns"]) == pytest.approx(theirs.makespan_ns, rel=1e-5)


def test_cli_sweeps_the_cost_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PTO_ISA_ROOT", str(ROOT))
    out, err = _io.StringIO(), _io.StringIO()
    code = sweep_cli.main(
        [str(PROJECT), "--node", "softmax_rows", "--prop", "cost_table", "--values", "*",
         "--workdir", str(tmp_path)],
        out,
        err,
    )  # fmt: skip
    assert code == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["cost_table", "total_cycles", "makespan", "utilisation", "status"]
    assert lines[1].split()[0] == "pto_wsp" and lines[2].split()[0] == "ptoisa_a2a3"
    assert lines[2].split()[-1] == "ok"
