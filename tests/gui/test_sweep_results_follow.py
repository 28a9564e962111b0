"""The Sweep dock's results belong to the document and parameter they were run for: picking
another parameter or opening another project clears the table, the plot and its axis label; a
failed value's error is in view (next to Status, whole in the row's tooltip) in a narrow dock.

The sweep's end is shown through the panel's own path (as in test_sweep_plot: a real sweep of
several variants takes minutes on a shared machine); the user's part is real keys and menus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from test_main_window import ScriptedDialogs, _discard_on_close, shown_window
from test_sweep_plot import _points

from app.model import io
from app.model.sweep import SweepResult
from app.model.trust import BUNDLED_PROJECTS
from app.views.sweep import ERROR_MAX_PX

TENSOR_PARALLEL = BUNDLED_PROJECTS / "tensor_parallel.pto.json"
MATMUL = BUNDLED_PROJECTS / "matmul.pto.json"


def _window(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> Any:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    dialogs = ScriptedDialogs()
    window = shown_window(
        qtbot, settings, dialogs=dialogs, before_close=_discard_on_close, size=(1200, 800)
    )
    dialogs.paths.append(TENSOR_PARALLEL)
    window.actions["open"].trigger()
    window.actions["sweep"].trigger()  # Run > Sweep…: the dock comes forward
    assert window.sweep_dock.isVisible()
    return window


def _finished_sweep(window: Any) -> str:
    """A sweep of the workers of the picked parameter, one value failed, as it ends: the
    parameter's label."""
    panel = window.sweep
    param = panel.current_param
    assert param is not None
    values = ["1", "2", "3"]
    done = param.with_values([int(v) for v in values])
    panel._set_axis(done)
    panel._show_result(SweepResult(done, _points(values, [None, 20768, 20768])))
    assert panel.table.rowCount() == 3
    assert panel.plot.getPlotItem().getAxis("bottom").labelText == param.label
    return param.label


def _cleared(panel: Any, old_label: str) -> bool:
    axis = panel.plot.getPlotItem().getAxis("bottom").labelText
    xs, _ys = panel.cycles_curve.getData()
    return (
        panel.result is None
        and panel.table.rowCount() == 0
        and (xs is None or len(xs) == 0)
        and old_label not in axis
    )


def test_picking_another_parameter_clears_the_results(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    window = _window(qtbot, tmp_path, monkeypatch)
    panel = window.sweep
    old = _finished_sweep(window)
    panel.param_combo.setFocus()
    QTest.keyClick(panel.param_combo, Qt.Key.Key_Down)  # the user picks the next parameter
    assert panel.current_param is not None and panel.current_param.label != old
    assert _cleared(panel, old)
    assert old in panel.status.text()  # says which results went, and why


def test_opening_another_project_clears_the_results(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    window = _window(qtbot, tmp_path, monkeypatch)
    old = _finished_sweep(window)
    window.dialogs.paths.append(MATMUL)
    window.actions["open"].trigger()  # File > Open… another project
    assert window.path == MATMUL.resolve()
    assert _cleared(window.sweep, old)


def test_a_failed_values_error_is_in_view_in_a_narrow_dock(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    window = _window(qtbot, tmp_path, monkeypatch)
    panel = window.sweep
    _finished_sweep(window)
    table = panel.table
    titles = panel.columns()
    error = titles.index("Error")
    assert error == titles.index("Status") + 1 and not table.isColumnHidden(error)
    header = table.horizontalHeader()
    left = header.sectionViewportPosition(error)
    assert 0 <= left and left + min(table.columnWidth(error), 120) <= table.viewport().width()
    assert table.columnWidth(error) <= ERROR_MAX_PX
    assert "Pools.by_kernel" in table.item(0, 0).toolTip()  # the whole error on the row
