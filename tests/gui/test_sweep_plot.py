"""What the issue-8 QA pass fixed in the Studio, checked as a user sees it.

* the tensor_parallel sample's timeline names its collective: legend "allreduce (collective)",
  tooltip "allreduce (collective, gang of 4 workers)";
* the Sweep plot keeps every categorical label (the x range covers every swept value, plotted
  or not), reads cycles from 0 (no fractional ticks when every value took the same cycles),
  labels utilisation 0-100 %; the table keeps the Error column in view;
* the right dock area does not widen when a run fills Sources with a long artifact path;
* no stale "Properties | Stats" tab bar shows beside the canvas;
* the timeline header / Compare summary names the task_graph knobs a run used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QTabBar
from test_main_window import ScriptedDialogs, _discard_on_close

from app.main_window import MainWindow
from app.model import io
from app.model.sweep import SweepParam, SweepPoint, SweepResult
from app.runner.runs import summarize_schedule
from app.views.sweep import COLUMNS, LANES_MAX_PX, SweepPanel
from app.views.timeline import TimelineView
from app.views.trace_model import slice_text
from pto_wsp.runtime.trace import TRACE_DTYPE

ROOT = Path(__file__).resolve().parents[2]
TENSOR_PARALLEL = ROOT / "projects" / "tensor_parallel.pto.json"


def _trace(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """(task, kernel, worker, start, end) rows; no stream, no loop indices."""
    out = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for i, (task, kernel, worker, start, end) in enumerate(rows):
        out[i] = (task, kernel, worker, -1, start, end, -1, -1, -1, -1)
    return out


def test_collective_slices_are_named_in_legend_and_tooltip(qtbot: Any) -> None:
    names = ["partial", "finish", "allreduce"]
    trace = _trace(
        [(0, 0, 0, 0, 100), (1, 0, 1, 0, 100)]
        + [(2 + w, 2, w, 100, 180) for w in range(4)]
        + [(6, 1, 3, 180, 300)]
    )
    view = TimelineView()
    qtbot.addWidget(view)
    view.set_run(trace, names, "run")
    assert "allreduce (collective)" in view.legend_label.text()
    assert "partial (collective)" not in view.legend_label.text()
    c = view.view_pos_of(3)
    assert (
        view.tooltip_at(c.x(), c.y()).splitlines()[0] == "allreduce (collective, gang of 4 workers)"
    )
    assert slice_text(trace[0], names).splitlines()[0] == "partial[]"  # kernels unchanged


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
    p = SweepPanel(lambda: doc)
    qtbot.addWidget(p)
    p.resize(1100, 300)
    p.show()
    qtbot.waitExposed(p)
    return p


def _show(panel: SweepPanel, param: SweepParam, points: list[SweepPoint]) -> None:
    """Feed finished points through the panel's own paths (as a sweep does)."""
    panel.result = SweepResult(param)
    panel._set_axis(param)
    panel.table.setRowCount(0)
    panel._next = 0
    for point in points:
        panel._add_point(point)


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


def _window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, dialogs=ScriptedDialogs())
    qtbot.addWidget(window, before_close_func=_discard_on_close)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_no_stale_dock_tab_bar_and_sources_do_not_widen_the_docks(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _window(qtbot, tmp_path, monkeypatch)
    shown = [
        [bar.tabText(i) for i in range(bar.count())]
        for bar in window.findChildren(QTabBar)
        if bar.parentWidget() is window and bar.isVisible()
    ]
    assert sorted(shown) == [
        ["Properties", "Stats", "Sources"],
        ["Timeline", "Compare", "Log", "Sweep"],
    ]

    qtbot.wait(200)  # the first-show dock sizes are applied after the window appears
    width = window.properties_dock.width()
    long_dir = tmp_path / ("emitted-" + "x" * 150)
    (long_dir / "host").mkdir(parents=True)
    (long_dir / "host" / "main.cpp").write_text("int main() { return 0; }\n")
    window.run_panel.sources.set_root(long_dir)
    window.run_panel.sources.open_file(long_dir / "host" / "main.cpp")
    qtbot.wait(50)
    assert window.properties_dock.width() == width
    assert window.run_panel.sources_dock.minimumSizeHint().width() < 300
    _discard_on_close(window)
    window.close()


def test_the_schedule_summary_names_the_task_graph_knobs() -> None:
    doc = io.load(TENSOR_PARALLEL)
    assert summarize_schedule(doc) == (
        'tensor_parallel: task_graph window 16 stall ready priority(t.get("k"))'
        " pools partial:3 finish:1 > spatial_map 2x2 > cpu_sim"  # the sheet's (the DSL's) order
    )
