"""The questions and messages the Studio window puts to its user, as one replaceable object.

Every question the window asks (unsaved changes, recovery, trust, file names) and every error it
shows goes through a ``Dialogs``, so tests drive the real code paths with scripted answers
(a subclass) instead of patching Qt.
"""

from __future__ import annotations

import enum
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from . import APP_NAME
from .model import trust


class Choice(enum.Enum):
    """The answer to "save your changes?"."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


class Dialogs:
    """Modal questions and messages, with Qt's standard dialogs.

    Subclass (or replace single methods) to script answers in tests; the window never calls
    ``QMessageBox``/``QFileDialog`` directly.
    """

    def __init__(self, parent: QWidget | None = None):
        self.parent = parent

    def ask_unsaved(self, title: str) -> Choice:
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(APP_NAME)
        box.setText(f"“{title}” has unsaved changes.")
        box.setInformativeText("Save them before continuing?")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return Choice.SAVE
        if answer == QMessageBox.StandardButton.Discard:
            return Choice.DISCARD
        return Choice.CANCEL

    def ask_recover(self, project: Path, autosave: Path) -> bool:
        answer = QMessageBox.question(
            self.parent,
            APP_NAME,
            f"An autosave of “{project.name}” is newer than the saved project.\n\n"
            f"Recover the autosaved version ({autosave})?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_trust(self, carriers: list[trust.CodeCarrier], note: str = "") -> bool:
        """Run a document that carries C++ from a file not trusted yet, or whose named C++
        files changed since (``note`` says which)? (asked once)"""
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(APP_NAME)
        box.setText(f"This project carries C++ code ({trust.kernel_list(carriers)}).")
        why = f"{note[:1].upper()}{note[1:]}.\n\n" if note else ""
        box.setInformativeText(
            f"{why}Running it compiles and executes that code on this computer (in a worker "
            "process). Run it only if you trust where the file came from.\n\n"
            "Trust this project and run it?"
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Trust and Run")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def error(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, parent=self.parent)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.exec()

    def open_path(self, caption: str, start: Path, file_filter: str) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self.parent, caption, str(start), file_filter)
        return Path(name) if name else None

    def ask_pto_isa_root(self, current: str) -> str | None:
        """Run > PTO-ISA Root…: the new setting ('' clears it), None when cancelled."""
        from .ptoisa_setting import PtoIsaRootDialog

        dialog = PtoIsaRootDialog(current, self.parent)
        accepted = dialog.exec() == PtoIsaRootDialog.DialogCode.Accepted
        value = dialog.value()
        dialog.deleteLater()
        return value if accepted else None

    def save_path(self, caption: str, suggested: Path, file_filter: str) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(self.parent, caption, str(suggested), file_filter)
        return Path(name) if name else None
