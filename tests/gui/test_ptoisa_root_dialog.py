"""Run > PTO-ISA Root… checks the folder as the user types it (a folder without
include/pto/pto-inst.hpp is refused and the dialog says what is missing), and the Verify dock
that said "No PTO-ISA root is set" follows the new setting. The real dialog, driven by keys and
clicks; no PTO-ISA checkout is needed (a folder with the marker file stands in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from test_main_window import ScriptedDialogs, _discard_on_close, shown_window

from app import ptoisa_setting
from app.dialogs import Dialogs
from app.model import io
from app.ptoisa_setting import PtoIsaRootDialog


class RootDialogs(ScriptedDialogs):
    """Scripted answers, except Run > PTO-ISA Root…: the real dialog (``Dialogs``)."""

    ask_pto_isa_root = Dialogs.ask_pto_isa_root


def test_the_root_dialog_refuses_a_folder_that_is_not_a_checkout(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    monkeypatch.delenv("PTO_ISA_ROOT", raising=False)
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    window = shown_window(
        qtbot, settings, dialogs=RootDialogs(), before_close=_discard_on_close, size=(1200, 800)
    )
    window.actions["emit_verify"].trigger()  # no root anywhere: the Verify dock says so
    headline = window.run_panel.verify_view.headline
    assert headline.text().startswith("No PTO-ISA root is set")

    wrong = tmp_path / "not-pto-isa"
    (wrong / "include").mkdir(parents=True)
    good = tmp_path / "pto-isa"
    (good / "include" / "pto").mkdir(parents=True)
    (good / "include" / "pto" / "pto-inst.hpp").write_text("// PTO-ISA\n")
    seen: list[tuple[str, bool]] = []

    def drive() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PtoIsaRootDialog):  # not up yet
            QTimer.singleShot(20, drive)
            return
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(dialog.field, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.field, str(wrong))
        seen.append((dialog.check.text(), ok.isEnabled()))
        qtbot.keyClick(dialog.field, Qt.Key.Key_Return)  # refused: the dialog stays
        seen.append(("open", dialog.isVisible()))
        dialog.field.selectAll()
        qtbot.keyClicks(dialog.field, str(good))
        seen.append((dialog.check.text(), ok.isEnabled()))
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, drive)
    window.actions["pto_isa_root"].trigger()
    (wrong_text, wrong_ok), still_open, (good_text, good_ok) = seen
    assert "has no include/pto/pto-inst.hpp" in wrong_text and not wrong_ok
    assert still_open == ("open", True)
    assert "formula_params.csv" in good_text and good_ok  # accepted, with the cost table warning
    assert ptoisa_setting.root(settings) == str(good)

    # the Verify dock no longer says no root is set: what is true with this root instead
    assert "No PTO-ISA root" not in headline.text()
    expected = ptoisa_setting.problem(str(good))
    assert headline.text() == expected if expected else str(good) in headline.text()
