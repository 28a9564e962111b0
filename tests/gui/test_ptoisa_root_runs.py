"""The Studio's PTO-ISA root reaches a normal Run (issue #16 item 1), driven as a user would.

Run > PTO-ISA Root… is the explicit root of every run, not only of Emit and Verify: a ``cpp_src``
kernel with a ``pto/...`` header in ``cpp_includes`` (spec §6.2 Path A) and the A2/A3 cost table
(``CostTable.from_ptoisa("a2a3")``, the sheet's cost-table choice) build with the root set in the
Studio, with no ``PTO_ISA_ROOT`` in the environment. The Studio's fork server is started before
the root is set (when the window is made), so the root must travel with each run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ptoisa_env import ptoisa_root, skip_reason
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from test_main_window import ScriptedDialogs, press, shown_window
from trust_projects import code_document, write_elsewhere

from app import ptoisa_setting
from app.dialogs import Choice, Dialogs
from app.main_window import MainWindow
from app.model import io
from app.model.commands import SetProperty
from app.ptoisa_setting import PtoIsaRootDialog
from app.runner.job import RunResult

RUN_TIMEOUT_MS = 300_000
COST = 3  # cycles of each call of the Path A kernel (its ``cost``)

# Spec §6.2 Path A in the native ABI: c[0, :16] = a[0, :16] + b[0, :16] with PTO-ISA's TADD.
PATH_A_BODY = """
    using G = pto::GlobalTensor<float, pto::Shape<1, 1, 1, pto::DYNAMIC, pto::DYNAMIC>,
                                pto::Stride<1, 1, 1, pto::DYNAMIC, pto::DYNAMIC>>;
    using T = pto::Tile<pto::TileType::Vec, float, 1, 16, pto::BLayout::RowMajor, 1, 16>;
    G ga((float*)a->data, {1, 16}, {a->row_stride, 1});
    G gb((float*)b->data, {1, 16}, {b->row_stride, 1});
    G gc((float*)c->data, {1, 16}, {c->row_stride, 1});
    T ta, tb, tc;
    pto::TLOAD(ta, ga);
    pto::TLOAD(tb, gb);
    pto::TADD(tc, ta, tb);
    pto::TSTORE(gc, tc);
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason())),
]


class RootDialogs(ScriptedDialogs):
    """Scripted answers, except Run > PTO-ISA Root…: the real dialog (``Dialogs``)."""

    ask_pto_isa_root = Dialogs.ask_pto_isa_root


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    monkeypatch.delenv("PTO_ISA_ROOT", raising=False)
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PTO_WSP_CONFIG_DIR", str(tmp_path / "config"))
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    w = shown_window(qtbot, settings, dialogs=RootDialogs(), before_close=_discard)
    yield w


def _discard(window: MainWindow) -> None:
    window.dialogs.unsaved[:] = [Choice.DISCARD]  # type: ignore[attr-defined]


def path_a_project(folder: Path) -> Path:
    """The matmul project whose kernel is spec §6.2's Path A: a PTO-ISA instruction header in
    ``cpp_includes`` and a ``cpp_src`` body; the workload prices ops with the A2/A3 table."""
    doc = code_document(PATH_A_BODY)
    kernel = next(n for n, _g, _o in doc.walk() if n.kind == "kernel.def")
    kernel.props["cpp_includes"] = ["pto/cpu/TAdd.hpp"]
    kernel.props["cost"] = COST
    return write_elsewhere(doc, folder / "path_a.pto.json")


def wait_run(qtbot: Any, window: MainWindow) -> RunResult:
    with qtbot.waitSignal(window.run_panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        press(qtbot, window, "F5")
        assert window.run_panel.is_running()
    return ended.args[0]


def set_root_in_the_studio(qtbot: Any, window: MainWindow, root: Path) -> None:
    """Run > PTO-ISA Root…: type the folder into the dialog and click OK."""
    typed: list[str] = []

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PtoIsaRootDialog):  # not up yet
            QTimer.singleShot(20, fill)
            return
        qtbot.mouseClick(dialog.field, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.field, str(root))
        typed.append(dialog.field.text())
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, fill)
    window.actions["pto_isa_root"].trigger()
    assert typed == [str(root)]
    assert ptoisa_setting.root(window.settings) == str(root)
    window.activateWindow()
    window.canvas.viewer.setFocus()  # back from the dialog: F5 goes to the window
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.canvas.viewer)


def cost_table(window: MainWindow, name: str) -> None:
    """The schedule sheet's cost-table choice of the workload (``pto_wsp`` or ``ptoisa_a2a3``)."""
    gemm = next(n for n in window.document.graph.nodes.values() if n.kind == "workload.def")
    window.editor.apply(SetProperty(gemm.id, "cost_table", name))


def test_a_path_a_kernel_and_the_a2a3_table_run_with_the_root_set_in_the_studio(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    root = ptoisa_root()
    assert root is not None
    dialogs = window.dialogs
    assert isinstance(dialogs, RootDialogs)
    assert window.open_path(path_a_project(tmp_path / "downloads"))
    dialogs.trust.append(True)  # the project carries C++: Run asks once
    window.canvas.viewer.setFocus()

    # No root anywhere: the run fails and says which setting to set.
    failed = wait_run(qtbot, window)
    assert not failed.ok
    message = " ".join(d.message for d in failed.errors)
    assert "kernel matmul uses PTO-ISA" in message and "PTO_ISA_ROOT" in message, message

    # The root set in the Studio (after its fork server started) reaches the run.
    set_root_in_the_studio(qtbot, window, root)
    ran = wait_run(qtbot, window)
    assert ran.ok, ran.errors
    assert ran.kernel_names == ["matmul"]
    assert ran.trace is not None and len(ran.trace) == 4
    assert np.all(ran.trace["end"] - ran.trace["start"] == COST)

    # The sheet's A2/A3 cost table reads its formulas from the same root.
    cost_table(window, "ptoisa_a2a3")
    priced = wait_run(qtbot, window)
    assert priced.ok, priced.errors
    assert 'CostTable.from_ptoisa("a2a3")' in priced.script_path.read_text()
    assert dialogs.asked.count("trust:matmul") == 1

    # A sweep's runs get the root too (Run > Sweep…, two values of the worker count).
    window.open_sweep()
    panel = window.sweep
    panel.values_edit.clear()
    qtbot.keyClicks(panel.values_edit, "1, 2")
    with qtbot.waitSignal(panel.sweep_finished, timeout=RUN_TIMEOUT_MS) as swept:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    points = swept.args[0].points
    assert [p.status for p in points] == ["ok", "ok"], [p.error for p in points]
    window.activateWindow()
    window.canvas.viewer.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.canvas.viewer)

    # Cleared: $PTO_ISA_ROOT (unset here) applies again, and the run says so.
    ptoisa_setting.set_root(window.settings, "")
    again = wait_run(qtbot, window)
    assert not again.ok
    assert "PTO_ISA_ROOT" in " ".join(d.message for d in again.errors)
