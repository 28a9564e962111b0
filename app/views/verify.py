"""The Verify panel: what Run > Emit and Verify found, one row per AICore kernel.

The worker (``run_main --verify``, ``pto_wsp.runtime.ptoisa_verify``) ran the emitted ascend_npu
kernels on the host against PTO-ISA and compared them with cpu_sim; its report arrives as the
stats' ``verify`` (``VerifyReport.as_json``). This view only lays it out: kernel, status, max
ulp (or the compiler's message when PTO-ISA rejects the kernel) and the detail per tensor. A
verify that could not start (no PTO-ISA root, no clang-19, a kernel that does not emit) shows
its one message instead of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from .tables import sortable_table, table_item

__all__ = ["VerifyView", "COLUMNS"]

COLUMNS = ("Kernel", "Status", "Tasks", "Max ulp / error", "Detail")
_STATUS_COLOURS = {
    "verified": QtGui.QColor(46, 139, 87),
    "mismatch": QtGui.QColor(200, 40, 40),
    "does not compile": QtGui.QColor(200, 110, 0),
}


INTRO = (
    "Run > Emit and Verify builds the ascend_npu kernels against PTO-ISA on this computer and "
    "compares them with cpu_sim."
)
"""The headline before any verify of the open document."""


class VerifyView(QtWidgets.QWidget):
    """A headline and the per-kernel table (see the module doc)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.headline = QtWidgets.QLabel(INTRO)
        self.headline.setObjectName("verifyHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = sortable_table(COLUMNS, fit_names=True)
        self.table.setObjectName("verifyTable")
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.headline)
        layout.addWidget(self.table, 1)
        self.report: Mapping[str, Any] | None = None
        self.showing_setup = True  # the headline is about the setup, not about a run

    def set_setup(self, message: str) -> None:
        """What is true of the setup now (no root, no clang-19, or ready): no run's result, so
        the next change of the setup replaces it (``showing_setup``)."""
        self.set_error(message)
        self.showing_setup = True

    def reset(self) -> None:
        """Another document is open: the last report (of the previous one) goes."""
        self.set_setup(INTRO)

    def set_running(self) -> None:
        self.showing_setup = False
        self.report = None
        self.table.setRowCount(0)
        self.headline.setText("Emitting and verifying against PTO-ISA…")

    def set_error(self, message: str) -> None:
        """A verify that produced no report: its one message, no table."""
        self.showing_setup = False
        self.report = None
        self.table.setRowCount(0)
        self.headline.setText(message)

    def set_report(self, report: Mapping[str, Any]) -> None:
        self.showing_setup = False
        self.report = report
        kernels = list(report.get("kernels", []))
        good = sum(1 for k in kernels if k.get("ok"))
        name, root = report.get("name", ""), report.get("root", "")
        build_s, run_s = float(report.get("build_s", 0.0)), float(report.get("run_s", 0.0))
        where = f"({root}, CPU simulation; build {build_s:.1f} s, run {run_s:.2f} s)"
        if report.get("ok"):
            text = f"{name}: all {len(kernels)} kernels verified against PTO-ISA {where}"
        else:
            bad = len(kernels) - good
            text = f"{name}: {bad} of {len(kernels)} kernels do not verify against PTO-ISA {where}"
        self.headline.setText(text)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(kernels))
        for row, k in enumerate(kernels):
            status = str(k.get("status", ""))
            if status == "does not compile":
                measure = table_item(str(k.get("detail", "")))
            else:
                measure = table_item(f"{int(k.get('max_ulp', 0)):,}", int(k.get("max_ulp", 0)))
            status_item = table_item(status)
            colour = _STATUS_COLOURS.get(status)
            if colour is not None:
                status_item.setForeground(colour)
            detail = table_item(str(k.get("detail", "")))
            cells = (
                table_item(f"@{k.get('kernel', '')}"),
                status_item,
                table_item(str(int(k.get("tasks", 0))), int(k.get("tasks", 0))),
                measure,
                detail,
            )
            for col, item in enumerate(cells):
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)

    def rows(self) -> list[tuple[str, ...]]:
        """The table as text, in the order shown (what a user reads)."""
        return [
            tuple(
                self.table.item(r, c).text() if self.table.item(r, c) else ""
                for c in range(len(COLUMNS))
            )
            for r in range(self.table.rowCount())
        ]
