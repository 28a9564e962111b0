"""The run's panels follow the open document (the new user's stale panels): an Undo that brings
the document back to what the shown run ran takes the "changed since this run" banner away;
File > New clears Details (a slice of the old project's run) and the Verify dock (the old
project's report). One real run of the matmul sample, driven with keys and clicks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_build_attention import UserDriver, make_window  # noqa: F401
from test_run_views import click_slice
from test_studio_defects import (
    PROJECTS,
    TrustingDialogs,
    click_frame,
    fit,
    open_with_ctrl_o,
    root_node_of_kind,
    run_with_f5,
)

from app.main_window import MainWindow
from app.views.slice_details import EMPTY_TEXT
from app.views.verify import INTRO


@pytest.fixture
def user(qtbot: Any, make_window: Callable[[], MainWindow], monkeypatch: Any) -> UserDriver:  # noqa: F811
    monkeypatch.delenv("PTO_ISA_ROOT", raising=False)  # Emit and Verify cannot start: it says so
    window = make_window()
    window.dialogs = TrustingDialogs()
    return UserDriver(qtbot, window)


@pytest.mark.slow
def test_undo_to_the_run_and_file_new_leave_no_stale_panel(user: UserDriver) -> None:
    u, window = user, user.window
    panel = window.run_panel
    open_with_ctrl_o(u, PROJECTS / "matmul.pto.json")
    result = run_with_f5(u)
    assert result.ok, result.diagnostics
    assert not panel.stale

    # An edit marks the run stale; Undo brings the document back to what ran: current again.
    fit(u)
    workload = root_node_of_kind(window, "workload.def")
    click_frame(u, workload)
    u.choose(u.editor("target"), "ascend_npu")
    assert panel.stale and "changed since this run" in panel.timeline.stale_banner.text()
    window.canvas.viewer.setFocus()
    u.press("Ctrl+Z")
    assert window.document.node(workload).props["target"] == "cpu_sim"
    assert not panel.stale and not panel.stats.stale_banner.stale
    u.choose(u.editor("target"), "ascend_npu")  # a new edit is stale again
    assert panel.stale
    window.canvas.viewer.setFocus()
    u.press("Ctrl+Z")
    assert not panel.stale

    # A slice in Details, a message in Verify; then File > New: both are of the old project.
    panel.timeline_dock.raise_()
    u.qtbot.waitUntil(lambda: panel.timeline.isVisible())
    click_slice(u.qtbot, window, 0)
    assert panel.details.row == 0 and EMPTY_TEXT not in panel.details.text
    window.actions["emit_verify"].trigger()  # no PTO-ISA root here: the dock says so
    assert panel.verify_view.headline.text() != INTRO
    u.press("Ctrl+N")
    assert window.path is None
    assert panel.details.row is None and EMPTY_TEXT in panel.details.text
    assert panel.verify_view.headline.text() == INTRO
