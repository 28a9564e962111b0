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

The dialog checks the folder as it is typed (``check_folder``): a folder without
``include/pto/pto-inst.hpp`` (what every reader of PTO-ISA includes, ``ROOT_MARKER``) is refused
(OK stays off and the dialog says what is missing): nothing could use it, and the user learned
that only at the next run. A checkout without the A2/A3 cost model's CSV is accepted with a
warning (kernels and Emit and Verify work; the A2/A3 cost table does not).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
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

from pto_wsp.compiler.ptoisa_cost import COST_MODEL_CSV
from pto_wsp.compiler.ptoisa_root import ENV_ROOT, ROOT_MARKER, find_compiler, find_root
from pto_wsp.errors import CompileError

__all__ = [
    "ENV_ROOT",
    "SETTING_KEY",
    "SETTING_NAME",
    "FolderCheck",
    "PtoIsaRootDialog",
    "check_folder",
    "problem",
    "root",
    "run_environment",
    "set_root",
]

SETTING_KEY = "ptoisa/root"
SETTING_NAME = "Run > PTO-ISA Root…"
"""Where the user sets it: every message about a missing root names this."""
_MARKER = ROOT_MARKER


@dataclass(frozen=True)
class FolderCheck:
    """What ``check_folder`` found: ``refusal`` (the folder cannot be a root: OK is off) or
    ``warning`` (it can, but something a run may need is missing); both empty: fine."""

    refusal: str = ""
    warning: str = ""


def check_folder(text: str) -> FolderCheck:
    """Whether ``text`` (as typed; '' clears the setting) looks like a PTO-ISA checkout."""
    if not text.strip():
        return FolderCheck()
    folder = Path(text.strip()).expanduser()
    if not folder.is_dir():
        return FolderCheck(refusal=f"No such folder: {folder}")
    if not (folder / _MARKER).is_file():
        return FolderCheck(
            refusal=f"Not a PTO-ISA checkout: {folder} has no {_MARKER} (pick the folder that "
            "holds include/pto)."
        )
    if not (folder / COST_MODEL_CSV).is_file():
        return FolderCheck(
            warning=f"A PTO-ISA checkout, but without {COST_MODEL_CSV}: the A2/A3 cost table "
            "will not work with it (kernels and Emit and Verify will)."
        )
    return FolderCheck()


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
    """A folder field with Browse…: OK stores what the field holds ('' clears the setting).
    The folder is checked as it is typed (``check_folder``): the line below the field says
    what is missing, and OK is off while the folder cannot be a PTO-ISA root."""

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
        self.check = QLabel()
        self.check.setObjectName("ptoIsaRootCheck")
        self.check.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(self.check)
        layout.addWidget(self.buttons)
        self.field.textChanged.connect(self._recheck)
        self._recheck()
        self.resize(560, self.sizeHint().height())

    def _recheck(self) -> None:
        found = check_folder(self.field.text())
        if found.refusal:
            text, style = found.refusal, "color: #d62728"
        elif found.warning:
            text, style = found.warning, "color: #b8860b"
        elif self.field.text().strip():
            text, style = f"A PTO-ISA checkout ({_MARKER} found).", "color: #2ca02c"
        else:
            text, style = f"Empty: ${ENV_ROOT} applies.", ""
        self.check.setText(text)
        self.check.setStyleSheet(style)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not found.refusal)
        ok.setToolTip(found.refusal)

    def accept(self) -> None:
        if check_folder(self.field.text()).refusal:  # Enter in the field: refused as OK is
            return
        super().accept()

    def value(self) -> str:
        text = self.field.text().strip()
        return str(Path(text).expanduser()) if text else ""

    def _browse(self) -> None:
        start = self.value() or str(Path.home())
        picked = QFileDialog.getExistingDirectory(self, "PTO-ISA Root", start)
        if picked:
            self.field.setText(picked)
