"""The Sweep plot and table as a user reads them: every categorical value keeps its place on the
x axis (plotted or not), cycles read from 0 (no fractional ticks when every value took the same
cycles), utilisation is labelled 0-100 %, and the table keeps the Error column in view.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.model import io
from app.model.sweep import SweepParam, SweepPoint, SweepResult
from app.runner.qt_sweep import QtSweepRunner
from app.views.sweep import COLUMNS, LANES_MAX_PX, SweepPanel

ROOT = Path(__file__).resolve().parents[2]
TENSOR_PARALLEL = ROOT / "app" / "projects" / "tensor_parallel.pto.json"


def _points(values: list[str], cycles: list[int | None]) -> list[SweepPoint]:
    out = []
    for v, c in zip(values, cycles, strict=True):
        ok = c is not None
        out.append(
            SweepPoint(
                value=v,
                status="ok" if ok else "failed",
                total_cycles=c,
                task_count=9 if ok else None,
                mean_utilisation=0.5 if ok else None,
                lanes=((0, 0.95), (1, 0.49), (2, 0.49), (3, 0.09), (4, 0.0), (5, 0.0))
                if ok
                else (),
                error="" if ok else "ScheduleError: Pools.by_kernel needs 4 workers",
            )
        )
    return out


@pytest.fixture
def panel(qtbot: Any) -> SweepPanel:
    doc = io.load(TENSOR_PARALLEL)
    p = SweepPanel(lambda: doc, runner=QtSweepRunner())
    qtbot.addWidget(p)
    p.resize(1100, 300)
    p.show()
    qtbot.waitExposed(p)
    return p


def _show(panel: SweepPanel, param: SweepParam, points: list[SweepPoint]) -> None:
    """Show finished points through the panel's own path (as a finished sweep does)."""
    panel._set_axis(param)
    panel._show_result(SweepResult(param, list(points)))


def test_sweep_plot_keeps_every_category_and_reads_cycles_from_zero(panel: SweepPanel) -> None:
    grid = next(p for p in panel.params if p.prop == "spatial_map")
    values = ["1x1", "1x2", "2x2", "2x4"]
    _show(panel, grid.with_values(values), _points(values, [None, None, 20768, 20768]))
    item = panel.plot.getPlotItem()
    (x0, x1), (y0, y1) = item.viewRange()
    assert x0 < 0 and x1 > len(values) - 1  # the failed 1x1 and 1x2 keep their place
    assert item.getAxis("bottom")._tickLevels == [[(i, v) for i, v in enumerate(values)]]
    assert y0 == 0 and y1 > 20768  # from zero, headroom above the highest point
    right = item.getAxis("right")._tickLevels[0]
    assert right[0] == (0, "0") and right[-1] == (100, "100")

    lanes, error = COLUMNS.index("Lanes"), COLUMNS.index("Error")
    assert panel.table.columnWidth(lanes) <= LANES_MAX_PX
    assert "w4:0%" in panel.table.item(2, lanes).toolTip()  # the whole list on hover
    assert "Pools.by_kernel" in panel.table.item(0, 1).toolTip()  # why it failed, on the row
    header = panel.table.horizontalHeader()
    assert header.sectionViewportPosition(error) < panel.table.viewport().width()


def test_makespan_column_shows_time_when_the_clocks_differ(panel: SweepPanel) -> None:
    """A sweep over the cost table: cycles of two clocks, so the time column appears."""
    wl = next(p for p in panel.params if p.prop == "cost_table")
    values = ["pto_wsp", "ptoisa_a2a3"]
    points = _points(values, [10304, 8514])
    makespan = COLUMNS.index("Makespan")
    _show(panel, wl.with_values(values), points[:1])  # one run at 1 ns per cycle: no column
    assert panel.table.isColumnHidden(makespan)
    clocks = [1.0, 1 / 1.85]
    _show(panel, wl.with_values(values), [replace(p, ns_per_cycle=c) for p, c in zip(points, clocks, strict=True)])  # fmt: skip
    assert not panel.table.isColumnHidden(makespan)
    cells = [panel.table.item(r, makespan).text() for r in range(2)]
    assert cells == ["10.304 µs", "4.602 µs"]
