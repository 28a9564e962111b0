"""The Studio's PTO-ISA root: the setting Run > PTO-ISA Root… edits, and every run reads.

The root is found in the order of ``pto_wsp.compiler.ptoisa_root``: this explicit setting
first, then the environment variable ``PTO_ISA_ROOT``. It reaches every run of the Studio —
Run (a ``cpp_src`` kernel that includes a ``pto/...`` header, ``@ptoisa_kernel``, the A2/A3
cost table ``CostTable.from_ptoisa("a2a3")``), Sweep and Emit and Verify — as the run's
``PTO_ISA_ROOT`` (``run_environment``), read when the run starts: a root set after the Studio
(and its fork server) started applies to the next run. An unset setting passes nothing, and
the worker reads the variable it inherits from the Studio's environment. ``problem`` checks
the root and the compiler before a verify run starts, so a missing root or clang-19 is one
message that names this setting, not a worker's traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pto_wsp.compiler.ptoisa_root import ENV_ROOT, find_compiler, find_root
from pto_wsp.errors import CompileError

__all__ = [
    "ENV_ROOT",
    "SETTING_KEY",
    "SETTING_NAME",
    "PtoIsaRootDialog",
    "problem",
    "root",
    "run_environment",
    "set_root",
]

SETTING_KEY = "ptoisa/root"
SETTING_NAME = "Run > PTO-ISA Root…"
"""Where the user sets it: every message about a missing root names this."""
_MARKER = "include/pto/pto-inst.hpp"


def root(settings: QSettings) -> str:
    """The explicit setting ('' when unset)."""
    value = settings.value(SETTING_KEY, "")
    return str(value) if value else ""


def run_environment(settings: QSettings) -> dict[str, str]:
    """The environment overrides of a run: ``{PTO_ISA_ROOT: setting}`` when the setting is
    set (it comes before the variable), else nothing (the inherited variable applies)."""
    value = root(settings)
    return {ENV_ROOT: value} if value else {}


def set_root(settings: QSettings, value: str) -> None:
    """Store the setting ('' clears it: ``PTO_ISA_ROOT`` applies again)."""
    if value:
        settings.setValue(SETTING_KEY, value)
    else:
        settings.remove(SETTING_KEY)
    settings.sync()


def problem(setting: str) -> str | None:
    """Why Emit and Verify cannot start with this setting (None: the root and clang++-19 are
    there). The message names the setting."""
    try:
        find_root(setting or None)
    except CompileError:
        if setting:
            return (
                f"The PTO-ISA root {setting!r} ({SETTING_NAME}) has no {_MARKER}: point the "
                "setting at a PTO-ISA checkout."
            )
        env = os.environ.get(ENV_ROOT, "")
        if env:
            return (
                f"${ENV_ROOT} ({env!r}) has no {_MARKER}: set the PTO-ISA root in "
                f"{SETTING_NAME}, or fix ${ENV_ROOT}."
            )
        return (
            f"No PTO-ISA root is set: set it in {SETTING_NAME} (the folder that holds "
            f"{_MARKER}), or start the Studio with ${ENV_ROOT}."
        )
    try:
        find_compiler()
    except CompileError as err:
        return f"Emit and Verify needs a compiler for PTO-ISA: {err.message}"
    return None


class PtoIsaRootDialog(QDialog):
    """A folder field with Browse…: OK stores what the field holds ('' clears the setting)."""

    def __init__(self, current: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ptoIsaRootDialog")
        self.setWindowTitle("PTO-ISA Root")
        env = os.environ.get(ENV_ROOT, "")
        note = QLabel(
            f"The PTO-ISA checkout runs build against: kernels that include PTO-ISA, "
            f"@ptoisa_kernel, the A2/A3 cost table and Emit and Verify (the folder that holds "
            f"{_MARKER}). Empty: the environment variable {ENV_ROOT}"
            + (f" ({env})." if env else " (not set).")
        )
        note.setWordWrap(True)
        self.field = QLineEdit(current)
        self.field.setObjectName("ptoIsaRootField")
        self.field.setPlaceholderText(f"${ENV_ROOT}")
        self.field.setClearButtonEnabled(True)
        browse = QPushButton("Browse…")
        browse.setObjectName("ptoIsaRootBrowse")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.field, 1)
        row.addWidget(browse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def value(self) -> str:
        text = self.field.text().strip()
        return str(Path(text).expanduser()) if text else ""

    def _browse(self) -> None:
        start = self.value() or str(Path.home())
        picked = QFileDialog.getExistingDirectory(self, "PTO-ISA Root", start)
        if picked:
            self.field.setText(picked)
