"""Run > Emit and Verify and Run > PTO-ISA Root…, driven as a user would.

Emit and Verify runs in the worker process (``run_main --verify``), builds the sample's ascend_npu
kernels against real PTO-ISA (CPU simulation, clang++-19) and shows one row per kernel in the
Verify dock. The PTO-ISA root is a Studio setting (explicit, then ``$PTO_ISA_ROOT``); without a
root, or with a folder that is not a checkout, nothing starts and one message names the setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ptoisa_env import ptoisa_root, skip_reason
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox
from test_main_window import ScriptedDialogs, press, shown_window

from app import ptoisa_setting
from app.dialogs import Choice
from app.main_window import MainWindow
from app.model import io
from app.ptoisa_setting import SETTING_NAME, PtoIsaRootDialog
from app.views.verify import COLUMNS
from pto_wsp.compiler.ptoisa_root import ROOT_MARKER

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "app" / "projects" / "softmax.pto.json"
VERIFY_TIMEOUT_MS = 300_000


class RootDialogs(ScriptedDialogs):
    """Answers Run > PTO-ISA Root… with the queued folders."""

    def __init__(self) -> None:
        super().__init__()
        self.roots: list[str | None] = []

    def ask_pto_isa_root(self, current: str) -> str | None:
        self.asked.append(f"pto_isa_root:{current}")
        assert self.roots, "unexpected PTO-ISA root prompt"
        return self.roots.pop(0)


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    monkeypatch.delenv("PTO_ISA_ROOT", raising=False)
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    dialogs = RootDialogs()
    w = shown_window(qtbot, settings, dialogs=dialogs, before_close=_discard)
    assert w.open_path(SAMPLE)
    yield w


def _discard(window: MainWindow) -> None:
    """Teardown closes the window: answer a pending unsaved-changes prompt with Discard."""
    window.dialogs.unsaved[:] = [Choice.DISCARD]  # type: ignore[attr-defined]


def _menu_action(window: MainWindow, name: str) -> Any:
    action = window.actions[name]
    assert action in window.actions.run_menu.actions()
    return action


def test_emit_and_verify_without_a_root_names_the_setting(window: MainWindow) -> None:
    window.canvas.viewer.setFocus()
    _menu_action(window, "emit_verify").trigger()
    panel = window.run_panel
    assert not panel.is_running()  # nothing started
    text = panel.verify_view.headline.text()
    assert text.startswith("No PTO-ISA root is set") and SETTING_NAME in text
    assert "PTO_ISA_ROOT" in text
    assert window.statusBar().currentMessage() == text
    assert panel.verify_dock.isVisible() and panel.verify_view.table.rowCount() == 0


def test_a_folder_that_is_not_a_checkout_is_refused_by_name(
    window: MainWindow, tmp_path: Path
) -> None:
    dialogs = window.dialogs
    assert isinstance(dialogs, RootDialogs)
    dialogs.roots.append(str(tmp_path))
    assert _menu_action(window, "pto_isa_root").trigger() is None
    assert ptoisa_setting.root(window.settings) == str(tmp_path)
    assert dialogs.asked[-1] == "pto_isa_root:"
    window.actions["emit_verify"].trigger()
    text = window.run_panel.verify_view.headline.text()
    assert f"The PTO-ISA root {str(tmp_path)!r} ({SETTING_NAME}) has no" in text
    assert not window.run_panel.is_running()
    # clearing the setting: $PTO_ISA_ROOT applies again
    dialogs.roots.append("")
    window.actions["pto_isa_root"].trigger()
    assert ptoisa_setting.root(window.settings) == ""
    assert "$PTO_ISA_ROOT (the setting is cleared)" in window.statusBar().currentMessage()


def test_root_dialog_takes_a_typed_folder(qtbot: Any, tmp_path: Path) -> None:
    marker = tmp_path / ROOT_MARKER  # a folder the dialog accepts looks like a PTO-ISA checkout
    marker.parent.mkdir(parents=True)
    marker.write_text("// pto-inst.hpp\n")
    dialog = PtoIsaRootDialog("")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.field, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.field, f"  {tmp_path}  ")
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.value() == str(tmp_path)
    cancel = PtoIsaRootDialog(str(tmp_path))
    qtbot.addWidget(cancel)
    cancel.show()
    with qtbot.waitSignal(cancel.rejected, timeout=2000):
        qtbot.keyClick(cancel.field, Qt.Key.Key_Escape)


@pytest.mark.slow
@pytest.mark.skipif(skip_reason() is not None, reason=str(skip_reason()))
def test_emit_and_verify_reports_each_kernel_from_the_worker(
    qtbot: Any, window: MainWindow
) -> None:
    dialogs = window.dialogs
    assert isinstance(dialogs, RootDialogs)
    dialogs.roots.append(str(ptoisa_root()))
    window.actions["pto_isa_root"].trigger()
    panel = window.run_panel
    window.canvas.viewer.setFocus()
    with qtbot.waitSignal(panel.run_ended, timeout=VERIFY_TIMEOUT_MS) as ended:
        press(qtbot, window, "Ctrl+F5")
        assert panel.is_running()
        assert not window.actions["emit_verify"].isEnabled()
        assert panel.verify_view.headline.text().startswith("Emitting and verifying")
    result = ended.args[0]
    assert window.actions["emit_verify"].isEnabled()
    assert "verify" in result.stats, (result.diagnostics, result.stderr_tail)
    report = result.stats["verify"]
    assert report["root"] == str(ptoisa_root().resolve())
    rows = panel.verify_view.rows()
    assert [r[0] for r in rows] == [f"@{k['kernel']}" for k in report["kernels"]]
    assert rows and all(r[1] == "verified" for r in rows), rows
    assert [r[2] for r in rows] == [str(k["tasks"]) for k in report["kernels"]]
    assert all(int(r[2]) > 0 for r in rows)
    assert all(r[3].replace(",", "").isdigit() for r in rows)  # max ulp
    assert panel.verify_view.table.columnCount() == len(COLUMNS)
    headline = panel.verify_view.headline.text()
    assert f"all {len(rows)} kernels verified against PTO-ISA" in headline
    assert window.statusBar().currentMessage() == headline
    # the emitted ascend_npu tree is what Sources shows; Verify runs no schedule
    assert panel.sources.root == Path(report["tree"])
    assert any(f.startswith("aicore/kernel_") for f in panel.sources.files())
    assert panel.shown_result is None
    assert not [d for d in window.run_diagnostics if d.severity == "error"]
