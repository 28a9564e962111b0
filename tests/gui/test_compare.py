"""The compare view on two real cpu_sim runs of one program (4 vs 2 workers): one time axis
(zoom one run, the other follows), lanes legible at the dock's default size, and per-lane and
per-kernel delta tables that hold the traces' numbers and sort by value (offscreen, pytest-qt).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6 import QtCore, QtGui
from PySide6.QtCore import QSettings
from test_main_window import shown_window
from test_timeline import _run

from app.model import io
from app.runner.job import RunResult
from app.views.compare import KERNEL_COLUMNS, LANE_COLUMNS, MIN_LANE_PX, CompareView
from pto_wsp.runtime.trace import TRACE_DTYPE

# About the view's size in the Compare dock at the default layout (a bottom dock tabbed with
# the Timeline, app.dock_layout): the dock-size test below checks the real one.
DOCK_VIEW_SIZE = (1000, 220)


@pytest.fixture(scope="module")
def run4():
    return _run(4)


@pytest.fixture(scope="module")
def run2():
    return _run(2)


@pytest.fixture
def compare(qtbot, run4, run2) -> CompareView:
    t4, n4, _ = run4
    t2, n2, _ = run2
    cv = CompareView()
    qtbot.addWidget(cv)
    cv.resize(*DOCK_VIEW_SIZE)
    cv.set_runs(t4, n4, t2, n2, "4 workers", "2 workers", num_workers=(4, 2))
    cv.show()
    qtbot.waitExposed(cv)
    return cv


def table_rows(table: Any) -> list[list[str]]:
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def column(table: Any, name: str, columns: tuple[str, ...]) -> list[str]:
    c = columns.index(name)
    return [table.item(r, c).text() for r in range(table.rowCount())]


def wheel(widget: Any, at: QtCore.QPointF, steps: int) -> None:
    event = QtGui.QWheelEvent(
        at, widget.mapToGlobal(at), QtCore.QPoint(0, 0), QtCore.QPoint(0, 120 * steps),
        QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
        QtCore.Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QtCore.QCoreApplication.sendEvent(widget, event)


def test_zooming_either_run_moves_both_on_one_axis(qtbot, compare: CompareView, run2) -> None:
    _, _, total2 = run2  # 2 workers: the longer run, which both show at first
    a, b = compare.view_a, compare.view_b
    x0, x1 = a.x_range()
    assert b.x_range() == pytest.approx((x0, x1))
    assert x0 <= 0 and total2 <= x1 < 1.1 * total2
    vp = b.plot.viewport()
    wheel(vp, QtCore.QPointF(vp.width() * 0.7, vp.height() * 0.3), 2)  # zoom in on run B
    zoomed = b.x_range()
    assert zoomed[1] - zoomed[0] < 0.8 * (x1 - x0)
    assert a.x_range() == pytest.approx(zoomed)  # A followed
    qtbot.mouseClick(a.plot.viewport(), QtCore.Qt.MouseButton.LeftButton)
    qtbot.keyClick(a.plot, QtCore.Qt.Key.Key_D)  # pan run A
    assert b.x_range() == pytest.approx(a.x_range()) != pytest.approx(zoomed)
    # One axis: a cycle is at the same pixel column in both runs.
    x0, x1 = a.x_range()
    c = (x0 + x1) / 2.0
    px = []
    for v in (a, b):
        scene = v.view_box.mapViewToScene(QtCore.QPointF(c, 0.5))
        px.append(v.plot.mapToGlobal(v.plot.mapFromScene(scene)).x())
    assert abs(px[0] - px[1]) <= 1


def test_lanes_are_legible_in_the_compare_dock_at_its_default_size(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run4, run2
) -> None:
    # The two runs kept in the run history of a main window at its default layout, shown in
    # the Compare dock as View > Compare Runs shows them.
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    window = shown_window(qtbot, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    panel = window.run_panel
    for (trace, names, total), workers in ((run4, 4), (run2, 2)):
        path = tmp_path / f"trace{workers}.npy"
        np.save(path, trace)
        stats = {"total_cycles": total, "task_count": len(trace), "num_workers": workers}
        result = RunResult(
            ok=True, stats=stats, trace=trace, kernel_names=names, diagnostics=[],
            returncode=0, stderr_tail="", script_path=tmp_path / "run.py",
            artifact_dir=tmp_path, trace_path=path,
        )  # fmt: skip
        panel.history.add(result, f"{workers} workers")
    panel.compare.reload()  # what the run panel does after each run
    window.show_compare()
    view = panel.compare.view
    qtbot.waitUntil(lambda: view.isVisible() and view.view_b.lanes is not None)
    assert view.diff is not None and (view.diff.total_a, view.diff.total_b) == (run4[2], run2[2])
    qtbot.wait(50)  # the dock's layout settles
    view.grab().save(str(tmp_path / "compare_dock.png"))  # what a user sees (kept on failure)
    for v, lanes in ((view.view_a, 4), (view.view_b, 2)):
        assert len(v.lanes.lanes) == lanes and v.plot.isVisible()
        assert v.view_box.height() / lanes >= MIN_LANE_PX  # a lane is a label's height at least
        (_, (y0, y1)) = v.view_box.viewRange()  # every lane on screen
        assert y0 == pytest.approx(0.0, abs=1e-9) and y1 == pytest.approx(lanes)
    assert not view.timelines.verticalScrollBar().isVisible()  # both runs, no scrolling
    # Beside them, the tables: every lane's row and its numbers are in sight.
    table = view.lane_table
    assert view.tabs.isVisible() and table.isVisible()
    last = table.horizontalHeader().sectionViewportPosition(len(LANE_COLUMNS) - 1)
    assert last + table.horizontalHeader().sectionSize(len(LANE_COLUMNS) - 1) <= (
        table.viewport().width()
    )
    assert table.rowViewportPosition(3) + table.rowHeight(3) <= table.viewport().height()


def test_lane_table_holds_the_busy_cycles_of_each_run(compare: CompareView, run4, run2) -> None:
    t4, _, total4 = run4
    t2, _, total2 = run2
    busy4 = np.bincount(t4["worker"], weights=t4["end"] - t4["start"], minlength=4)
    busy2 = np.bincount(t2["worker"], weights=t2["end"] - t2["start"], minlength=4)
    rows = table_rows(compare.lane_table)
    assert [r[0] for r in rows] == [f"worker {w}" for w in range(4)]
    for w, row in enumerate(rows):
        a, b = int(busy4[w]), int(busy2[w])
        assert row[1:] == [f"{a:,}", f"{b:,}", f"{b - a:+,}", f"{100.0 * (b - a) / a:+.1f}%"]
    assert rows[3][2] == "0" and rows[3][4] == "-100.0%"  # run B has no worker 3
    # The lanes' labels hold each run's utilisation (busy over its makespan).
    ticks_b = compare.view_b.plot_item.getAxis("left")._tickLevels[0]
    assert [t for _, t in ticks_b] == [
        f"▾ worker {w}  {100.0 * busy2[w] / total2:.0f}%"
        for w in range(2)  # ▾: collapsible
    ]
    assert compare.view_a.lanes.makespan == total4


def test_kernel_table_holds_count_total_and_mean(compare: CompareView, run4, run2) -> None:
    t4, names, _ = run4
    t2, _, _ = run2
    compare.tabs.setCurrentIndex(1)
    rows = {r[0]: r for r in table_rows(compare.kernel_table)}
    assert set(rows) == {"tl_double", "tl_copy"}
    for name, row in rows.items():
        k = names.index(name)
        da = (t4["end"] - t4["start"])[t4["kernel"] == k]
        db = (t2["end"] - t2["start"])[t2["kernel"] == k]
        ta, tb = int(da.sum()), int(db.sum())
        ma, mb = da.mean(), db.mean()
        assert row[1:] == [
            f"{len(da):,}", f"{len(db):,}", f"{ta:,}", f"{tb:,}", f"{tb - ta:+,}",
            f"{ma:,.1f}", f"{mb:,.1f}", f"{mb - ma:+,.1f}",
        ]  # fmt: skip


def test_kernel_deltas_of_a_changed_kernel(qtbot) -> None:
    # The same program with a kernel twice as long in B: its total and mean double.
    a = np.zeros(3, dtype=TRACE_DTYPE)
    for n, (k, s, e) in enumerate([(0, 0, 10), (0, 10, 20), (1, 20, 50)]):
        a[n] = (n, k, 0, -1, s, e, n, -1, -1, -1, 0, 0)
    b = a.copy()
    b["end"][:2] = b["start"][:2] + 20
    cv = CompareView()
    qtbot.addWidget(cv)
    cv.set_runs(a, ["k", "j"], b, ["k", "j"])
    rows = {r[0]: r for r in table_rows(cv.kernel_table)}
    assert rows["k"][1:] == ["2", "2", "20", "40", "+20", "10.0", "20.0", "+10.0"]
    assert rows["j"][5] == "+0" and rows["j"][8] == "+0.0"
    delta = cv.kernel_table.item(
        next(r for r in range(2) if cv.kernel_table.item(r, 0).text() == "k"),
        KERNEL_COLUMNS.index("Δ cycles"),
    )
    assert delta.toolTip() == "+100.0% of A"


def test_tables_sort_by_value_on_a_header_click(qtbot, compare: CompareView, run4) -> None:
    table = compare.lane_table
    header = table.horizontalHeader()
    c = LANE_COLUMNS.index("Δ busy")
    pos = QtCore.QPoint(header.sectionViewportPosition(c) + header.sectionSize(c) // 2, 5)
    qtbot.mouseClick(header.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    deltas = [table.item(r, c).data(QtCore.Qt.ItemDataRole.UserRole) for r in range(4)]
    assert deltas == sorted(deltas) and len(set(deltas)) > 1
    qtbot.mouseClick(header.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    deltas = [table.item(r, c).data(QtCore.Qt.ItemDataRole.UserRole) for r in range(4)]
    assert deltas == sorted(deltas, reverse=True)
    # Sorted by the number, not by its text: "+1,234" vs "-56" would sort the other way.
    k = compare.kernel_table
    c = KERNEL_COLUMNS.index("Mean A")
    k.sortItems(c, QtCore.Qt.SortOrder.AscendingOrder)
    means = [float(k.item(r, c).text().replace(",", "")) for r in range(k.rowCount())]
    assert means == sorted(means)


def test_the_header_states_totals_and_the_difference(compare: CompareView, run4, run2) -> None:
    _, _, total4 = run4
    _, _, total2 = run2
    first = compare.header_text().splitlines()[0]
    assert f"4 workers: {total4} cycles" in first and f"2 workers: {total2} cycles" in first
    assert f"{total2 - total4:+d} cycles" in first
    assert f"{total2 - total4:+d} cycles" in compare.header.text()
