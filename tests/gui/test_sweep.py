"""The Sweep dock driven as a user would: select the workload frame, Run > Sweep…, type the
values, Run Sweep, read the table and the plot, click a point, Open in Compare, Export CSV,
Cancel. Every variant is a real worker-process run; the expected numbers come from the
headless sweep (``app.model.sweep.run_sweep``) of the same project and values."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from test_main_window import _discard_on_close, shown_window

from app.main_window import MainWindow
from app.model import io
from app.model.sweep import SweepResult, find_param, parse_values, run_sweep
from app.runner.job import RunJob
from app.views.sweep import LinkRow

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"
MATMUL = ROOT / "app" / "projects" / "matmul.pto.json"
TENSOR_PARALLEL = ROOT / "app" / "projects" / "tensor_parallel.pto.json"
DISPATCH = "n20"  # megakernel_pipeline: the workload frame (its sheet: round_robin(1))
SWEEP_TIMEOUT_MS = 300_000

pytestmark = pytest.mark.slow


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    """A shown main window on the megakernel pipeline sample; closed at teardown."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    win = shown_window(qtbot, settings)
    assert win.open_path(PIPELINE)
    yield win
    if win.isVisible():
        _discard_on_close(win)
        win.close()


def open_sweep_on_dispatch(window: MainWindow) -> None:
    window.canvas.select_node(DISPATCH)
    assert window.canvas.selected_ids() == [DISPATCH]
    window.actions["sweep"].trigger()
    assert window.sweep_dock.isVisible()
    assert window.sweep.current_param is not None
    assert window.sweep.current_param.node_id == DISPATCH  # opened on the selected node


def pick(window: MainWindow, key: str) -> None:
    combo = window.sweep.param_combo
    index = combo.findData(key)
    assert index >= 0, f"{key} is not offered"
    combo.setCurrentIndex(index)


def type_values(qtbot: Any, window: MainWindow, text: str) -> None:
    edit = window.sweep.values_edit
    edit.clear()
    qtbot.keyClicks(edit, text)


def run_and_wait(qtbot: Any, window: MainWindow) -> SweepResult:
    with qtbot.waitSignal(window.sweep.sweep_finished, timeout=SWEEP_TIMEOUT_MS) as done:
        qtbot.mouseClick(window.sweep.run_button, Qt.MouseButton.LeftButton)
        assert window.sweep.is_running()
        assert window.sweep.cancel_button.isEnabled()
        assert not window.sweep.run_button.isEnabled()
    return done.args[0]


def table_column(window: MainWindow, title: str) -> list[str]:
    table = window.sweep.table
    col = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index(title)
    return [table.item(r, col).text() for r in range(table.rowCount())]


def click_plot_point(qtbot: Any, window: MainWindow, x: float, y: float) -> None:
    plot = window.sweep.plot
    view_box = plot.getPlotItem().getViewBox()
    scene_pos = view_box.mapViewToScene(QPointF(x, y))
    pos = plot.mapFromScene(scene_pos)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_sweep_dispatch_workers(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    open_sweep_on_dispatch(window)
    panel = window.sweep
    pick(window, f"{DISPATCH}.dispatch_n")

    type_values(qtbot, window, "1,2,x")  # live feedback names the bad entry
    assert "value 3 ('x'): expected an integer" in panel.feedback.text()
    assert not panel.run_button.isEnabled()
    type_values(qtbot, window, "1, 2, 4")
    assert panel.feedback.text() == "3 values: 1, 2, 4"
    assert panel.run_button.isEnabled()

    result = run_and_wait(qtbot, window)
    assert [p.status for p in result.points] == ["ok", "ok", "ok"]
    assert panel.progress.value() == panel.progress.maximum() == 3
    assert table_column(window, "Value") == ["1", "2", "4"]
    assert table_column(window, "Status") == ["ok", "ok", "ok"]

    doc = io.load(PIPELINE)
    param = find_param(doc, DISPATCH, "dispatch_n").with_values([1, 2, 4])
    headless = run_sweep(doc, param, tmp_path / "headless", start=RunJob)
    expected = [p.total_cycles for p in headless.points]
    assert [int(t.replace(",", "")) for t in table_column(window, "Total cycles")] == expected
    assert [p.total_cycles for p in result.points] == expected
    assert [p.mean_utilisation for p in result.points] == pytest.approx(
        [p.mean_utilisation for p in headless.points]
    )

    xs, cycles = panel.cycles_curve.getData()
    assert list(xs) == [1.0, 2.0, 4.0] and list(cycles) == [float(c) for c in expected]
    ux, util = panel.util_curve.getData()
    assert len(ux) == 3 and all(0.0 <= u <= 100.0 for u in util)

    # clicking a point selects its row
    click_plot_point(qtbot, window, 2.0, float(expected[1]))
    qtbot.waitUntil(lambda: panel.selected_row() == 1, timeout=5000)

    # Open in Compare: the variant joins the run history and Compare shows it as B
    assert panel.compare_button.isEnabled()
    before = len(window.run_panel.history)
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    assert len(window.run_panel.history) == before + 1
    record = window.run_panel.history.latest
    assert record is not None and record.label == "sweep dispatch_n=2"
    assert record.stats["total_cycles"] == expected[1]
    assert window.run_panel.compare.combo_b.currentData() == record.run_id
    assert window.run_panel.compare_dock.isVisible()

    # Export CSV through the file dialog
    out = tmp_path / "sweep.csv"
    window.dialogs.paths.append(out)
    qtbot.mouseClick(panel.csv_button, Qt.MouseButton.LeftButton)
    rows = list(csv.DictReader(out.open()))
    assert [(r["dispatch_n"], int(r["total_cycles"])) for r in rows] == list(zip(["1", "2", "4"], expected, strict=True))  # fmt: skip


def test_categorical_sweep_reports_refused_values(qtbot: Any, window: MainWindow) -> None:
    open_sweep_on_dispatch(window)
    panel = window.sweep
    pick(window, f"{DISPATCH}.dispatch")
    type_values(qtbot, window, "round_robin, hash")
    result = run_and_wait(qtbot, window)
    assert [p.status for p in result.points] == ["ok", "invalid"]
    assert "needs a key" in table_column(window, "Error")[1]
    ticks = panel.plot.getPlotItem().getAxis("bottom")._tickLevels
    assert ticks == [[(0, "round_robin"), (1, "hash")]]
    xs, _cycles = panel.cycles_curve.getData()
    assert list(xs) == [0.0]  # the refused value has no point


def test_cancel_stops_the_sweep(qtbot: Any, window: MainWindow) -> None:
    open_sweep_on_dispatch(window)
    panel = window.sweep
    pick(window, f"{DISPATCH}.dispatch_n")
    type_values(qtbot, window, "1, 2, 4, 8, 16")
    with qtbot.waitSignal(panel.sweep_finished, timeout=SWEEP_TIMEOUT_MS) as done:
        with qtbot.waitSignal(panel.point_added, timeout=SWEEP_TIMEOUT_MS):
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.is_running()
        # every value has its row from the start, in value order, whichever finished first
        assert table_column(window, "Value") == ["1", "2", "4", "8", "16"]
        assert set(table_column(window, "Status")) <= {"ok", "running", "queued"}
        assert "ok" in table_column(window, "Status")
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    result: SweepResult = done.args[0]
    statuses = [p.status for p in result.points]
    assert result.cancelled
    assert "ok" in statuses
    assert len(statuses) == 5 and statuses[-1] == "skipped"
    assert all(s in ("ok", "cancelled", "skipped") for s in statuses)
    assert statuses.count("ok") < 5
    assert not panel.is_running() and not panel.runner.is_running()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert panel.table.rowCount() == 5
    assert panel.status.text().startswith("Sweep cancelled")


def test_sweep_task_graph_pool_workers(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    assert window.open_path(TENSOR_PARALLEL)
    window.canvas.select_node("n19")  # the workload's task_graph: pools partial 3, finish 1
    window.actions["sweep"].trigger()
    panel = window.sweep
    combo = panel.param_combo
    label = "Workload tensor_parallel · pools partial workers"
    index = combo.findText(label)  # offered in the parameter combo under its label
    assert index >= 0, f"{label} is not offered"
    assert combo.itemData(index) == "n19.pools.partial.workers"
    assert combo.findText("Workload tensor_parallel · pools finish workers") >= 0
    combo.setCurrentIndex(index)
    assert panel.current_param is not None and panel.current_param.current == 3

    type_values(qtbot, window, "0, 1")
    assert "value 1 ('0'): expected an integer >= 1, got 0" in panel.feedback.text()
    assert not panel.run_button.isEnabled()
    type_values(qtbot, window, "1, 2, 3")
    assert panel.feedback.text() == "3 values: 1, 2, 3"

    result = run_and_wait(qtbot, window)
    assert panel.table.rowCount() == 3
    assert table_column(window, "Value") == ["1", "2", "3"]
    assert table_column(window, "Status") == ["ok", "ok", "ok"]
    doc = io.load(TENSOR_PARALLEL)
    param = find_param(doc, "n19", "pools.partial.workers").with_values([1, 2, 3])
    expected = [
        p.total_cycles for p in run_sweep(doc, param, tmp_path / "headless", start=RunJob).points
    ]
    assert [p.total_cycles for p in result.points] == expected
    assert [int(t.replace(",", "")) for t in table_column(window, "Total cycles")] == expected
    xs, _cycles = panel.cycles_curve.getData()
    assert list(xs) == [1.0, 2.0, 3.0]  # workers are a numeric axis
    assert panel.plot.getPlotItem().getAxis("bottom").labelText == label


def test_reset_layout_includes_the_sweep_dock(window: MainWindow) -> None:
    window.sweep_dock.setFloating(True)
    window.sweep_dock.hide()
    window.reset_layout()
    assert window.sweep_dock.isVisible() and not window.sweep_dock.isFloating()
    assert window.sweep_dock in window.tabifiedDockWidgets(window.run_panel.timeline_dock)
    docks_menu = [a.text() for a in window.actions.docks_menu.actions()]
    assert "Sweep" in docks_menu
    assert window.actions["sweep"] in window.actions.run_menu.actions()


TILE_LINKS = {  # a tile of T rows in matmul.pto.json, T = 8, 16, 32
    "n5.params.c.tile": "8x16, 16x16, 32x16",
    "n4.size": "8, 4, 2",
    "n1.shape": "8x8x32, 4x16x32, 2x32x32",
    "n3.shape": "8x8x16, 4x16x16, 2x32x16",
}


def add_link(qtbot: Any, window: MainWindow, key: str, values: str) -> LinkRow:
    panel = window.sweep
    qtbot.mouseClick(panel.add_link_button, Qt.MouseButton.LeftButton)
    row = panel.link_rows[-1]
    assert row.pick(key), f"{key} is not offered"
    qtbot.keyClicks(row.values_edit, values)
    return row


def test_sweep_a_tile_size_with_linked_parameters(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:  # fmt: skip
    assert window.open_path(MATMUL)
    window.canvas.select_node("n5")
    window.actions["sweep"].trigger()
    panel = window.sweep
    pick(window, "n5.params.a.tile")
    type_values(qtbot, window, "8x32, 16x32, 32x32")
    assert panel.feedback.text() == "3 values: 8x32, 16x32, 32x32"

    # a row with the wrong number of values says so and blocks Run; removing it unblocks
    extra = add_link(qtbot, window, "n2.shape", "32x16, 32x16")
    assert not panel.run_button.isEnabled()
    assert "value 2 ('32x16'): 32x16 is already listed" in extra.feedback.text()
    extra.values_edit.clear()
    qtbot.keyClicks(extra.values_edit, "32x16")
    assert extra.feedback.text() == "1 value, the swept parameter has 3"
    assert "has 1 value, Kernel matmul · a tile has 3 values" in panel.run_button.toolTip()
    qtbot.mouseClick(extra.remove_button, Qt.MouseButton.LeftButton)
    assert extra not in panel.link_rows and panel.run_button.isEnabled()

    rows = [add_link(qtbot, window, key, values) for key, values in TILE_LINKS.items()]
    assert rows[0].feedback.text() == "3 values: 8x16, 16x16, 32x16"
    assert rows[1].feedback.text() == "3 values: 8, 4, 2"
    assert panel.run_button.isEnabled()

    result = run_and_wait(qtbot, window)
    assert [p.status for p in result.points] == ["ok", "ok", "ok"]
    labels = [link.label for link in result.param.links]
    assert labels == ["Kernel matmul · c tile", "Dense axis tiles · size", "Tensor A · shape", "Tensor C · shape"]  # fmt: skip
    table = panel.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Value", "Status", "Error", "Total cycles", "Makespan", "Tasks", "Mean utilisation", *labels, "Lanes"]  # fmt: skip
    assert table.isColumnHidden(headers.index("Error"))  # no value failed
    assert table.isColumnHidden(headers.index("Makespan"))  # every run at 1 ns per cycle
    assert table.rowCount() == 3
    assert table_column(window, "Value") == ["8x32", "16x32", "32x32"]
    assert table_column(window, "Dense axis tiles · size") == ["8", "4", "2"]
    assert table_column(window, "Tensor C · shape") == ["8x8x16", "4x16x16", "2x32x16"]

    doc = io.load(MATMUL)
    param = find_param(doc, "n5", "params.a.tile")
    param = param.with_values(parse_values(param, "8x32, 16x32, 32x32"))
    links = []
    for key, values in TILE_LINKS.items():
        node, _dot, prop = key.partition(".")
        link = find_param(doc, node, prop)
        links.append(link.with_values(parse_values(link, values)))
    headless = run_sweep(doc, param.with_links(links), tmp_path / "headless", start=RunJob)
    expected = [p.total_cycles for p in headless.points]
    assert expected == [9984, 9472, 18432]
    assert [int(t.replace(",", "")) for t in table_column(window, "Total cycles")] == expected
    xs, cycles = panel.cycles_curve.getData()
    assert list(xs) == [0.0, 1.0, 2.0] and list(cycles) == [float(c) for c in expected]
    assert len(panel.util_curve.getData()[0]) == 3
    axis = panel.plot.getPlotItem().getAxis("bottom")
    assert axis._tickLevels == [[(0, "8x32"), (1, "16x32"), (2, "32x32")]]
    assert axis.labelText == "Kernel matmul · a tile (+4 linked)"

    # the rows stay with the dock for the session: another document keeps them (and says
    # which parameters it lacks); back on the matmul they are whole again
    state = panel.link_state()
    assert state == list(TILE_LINKS.items())
    assert window.open_path(PIPELINE)
    assert panel.link_state() == state
    assert rows[1].feedback.text() == "n4.size is not in this document: pick one"
    assert window.open_path(MATMUL)
    pick(window, "n5.params.a.tile")
    type_values(qtbot, window, "8x32, 16x32, 32x32")
    assert panel.link_state() == state
    assert rows[1].feedback.text() == "3 values: 8, 4, 2" and panel.run_button.isEnabled()
