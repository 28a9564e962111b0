"""The Sweep dock's Jobs and Cluster fields, typed as a user types them: kept in the window's
settings, a sweep on a Dask cluster (a real ``distributed.LocalCluster`` on loopback) giving
the numbers of the headless local sweep, and a scheduler that does not answer ending the sweep
with one message that says so."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import LocalCluster
from PySide6.QtCore import QSettings, Qt
from test_main_window import _discard_on_close, shown_window
from test_sweep import (
    DISPATCH,
    PIPELINE,
    open_sweep_on_dispatch,
    pick,
    run_and_wait,
    table_column,
    type_values,
)

from app.main_window import MainWindow
from app.model import io
from app.model.sweep import find_param, run_sweep
from app.runner import cluster as cluster_mod
from app.runner.job import RunJob
from app.views.sweep import CLUSTER_KEY, JOBS_KEY

pytestmark = pytest.mark.slow


def _window(qtbot: Any, settings: QSettings) -> MainWindow:
    win = shown_window(qtbot, settings)
    assert win.open_path(PIPELINE)
    return win


def _close(win: MainWindow) -> None:
    if win.isVisible():
        _discard_on_close(win)
        win.close()


@pytest.fixture
def settings_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    return tmp_path / "studio.ini"


@pytest.fixture
def window(qtbot: Any, settings_path: Path) -> Iterator[MainWindow]:
    win = _window(qtbot, QSettings(str(settings_path), QSettings.Format.IniFormat))
    yield win
    _close(win)


def type_jobs(qtbot: Any, window: MainWindow, text: str) -> None:
    edit = window.sweep.jobs_spin.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def type_cluster(qtbot: Any, window: MainWindow, text: str) -> None:
    edit = window.sweep.cluster_edit
    edit.clear()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_jobs_and_cluster_are_kept_in_the_settings(qtbot: Any, window: MainWindow, settings_path: Path) -> None:  # fmt: skip
    panel = window.sweep
    assert panel.jobs_spin.text() == "auto" and panel.jobs() is None  # one per core
    assert panel.cluster() == "" and panel.cluster_edit.placeholderText() == "this machine"
    type_jobs(qtbot, window, "3")
    type_cluster(qtbot, window, "tcp://127.0.0.1:8786")
    assert panel.jobs() == 3
    open_sweep_on_dispatch(window)
    pick(window, f"{DISPATCH}.dispatch_n")
    type_values(qtbot, window, "1, 2")
    assert panel.run_button.toolTip() == (
        "Run one variant per value, 3 at a time on the Dask cluster at tcp://127.0.0.1:8786"
    )
    window.settings.sync()
    stored = QSettings(str(settings_path), QSettings.Format.IniFormat)
    assert int(stored.value(JOBS_KEY)) == 3 and stored.value(CLUSTER_KEY) == "tcp://127.0.0.1:8786"  # fmt: skip
    _close(window)

    again = _window(qtbot, QSettings(str(settings_path), QSettings.Format.IniFormat))
    try:
        assert again.sweep.jobs() == 3 and again.sweep.cluster() == "tcp://127.0.0.1:8786"
    finally:
        _close(again)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_cluster_ends_the_sweep_with_one_message(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_mod, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{_free_port()}"
    open_sweep_on_dispatch(window)
    pick(window, f"{DISPATCH}.dispatch_n")
    type_values(qtbot, window, "1, 2")
    type_cluster(qtbot, window, address)
    result = run_and_wait(qtbot, window)
    panel = window.sweep
    assert panel.status.text().startswith(f"Sweep not run: cannot reach a Dask scheduler at {address}")  # fmt: skip
    assert [p.status for p in result.points] == ["skipped", "skipped"]
    assert table_column(window, "Status") == ["skipped", "skipped"]
    assert all(e.startswith("cannot reach a Dask scheduler") for e in table_column(window, "Error"))  # fmt: skip
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert panel.cluster_edit.isEnabled() and panel.jobs_spin.isEnabled()


def test_a_sweep_on_a_cluster_shows_the_local_numbers(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:  # fmt: skip
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        open_sweep_on_dispatch(window)
        pick(window, f"{DISPATCH}.dispatch_n")
        type_values(qtbot, window, "1, 2, 4")
        type_cluster(qtbot, window, cluster.scheduler_address)
        result = run_and_wait(qtbot, window)
        status = window.sweep.status.text()
    assert [p.status for p in result.points] == ["ok", "ok", "ok"], [p.error for p in result.points]  # fmt: skip
    assert status == (
        f"Sweep done: 3/3 values ran on the Dask cluster at {cluster.scheduler_address} "
        "(2 worker threads), 2 at a time"
    )
    doc = io.load(PIPELINE)
    param = find_param(doc, DISPATCH, "dispatch_n").with_values([1, 2, 4])
    expected = [p.total_cycles for p in run_sweep(doc, param, tmp_path / "local", start=RunJob).points]  # fmt: skip
    assert [int(t.replace(",", "")) for t in table_column(window, "Total cycles")] == expected
    xs, cycles = window.sweep.cycles_curve.getData()
    assert list(xs) == [1.0, 2.0, 4.0] and list(cycles) == [float(c) for c in expected]
