"""Table editor for a task graph's worker pools: one row per kernel, with its worker count.

``Pools.by_kernel({kernel: workers, ...})`` gives each listed kernel a pool of its own, so the
rows are (kernel, workers) pairs. Kernels are chosen from the document's ``kernel.def`` nodes
(a combo box per row, never free text), and a kernel appears in at most one row: "Add" picks the
first kernel without a pool and is disabled when every kernel has one. Each change emits
``committed`` with the whole list, which the properties panel turns into one undoable command.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from .table_rows import rows_to_remove

POOL_COLUMNS = ("kernel", "workers")
MAX_WORKERS = 4096


class PoolsEditor(QtWidgets.QWidget):
    """``[{"kernel": name, "workers": n}, ...]`` edited as a two-column table."""

    committed = QtCore.Signal(list)

    def __init__(self, kernels: list[str], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.kernels = list(kernels)
        self.table = QtWidgets.QTableWidget(0, len(POOL_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(POOL_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(110)
        self.table.setMaximumHeight(200)  # a handful of kernels; the panel scrolls beyond
        self.add_button = QtWidgets.QPushButton("Add", self)
        self.add_button.setObjectName("pools_add")
        self.add_button.clicked.connect(self.add_pool)
        self.remove_button = QtWidgets.QPushButton("Remove", self)
        self.remove_button.setObjectName("pools_remove")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._loading = False
        self._update_buttons()

    # -- value ------------------------------------------------------------------------------
    def set_pools(self, pools: list[dict[str, Any]]) -> None:
        """Show ``pools`` (the model's value); emits nothing."""
        self._loading = True
        try:
            self.table.setRowCount(0)
            for entry in pools:
                self._append(str(entry.get("kernel", "")), int(entry.get("workers", 1)))
        finally:
            self._loading = False
        self._update_buttons()

    def pools(self) -> list[dict[str, Any]]:
        out = []
        for row in range(self.table.rowCount()):
            combo = self.table.cellWidget(row, 0)
            spin = self.table.cellWidget(row, 1)
            out.append({"kernel": combo.currentText(), "workers": int(spin.value())})
        return out

    # -- editing ----------------------------------------------------------------------------
    def add_pool(self) -> None:
        """A row for the first kernel that has no pool yet (2 workers)."""
        free = self._free_kernels()
        if not free:
            return
        self._append(free[0], 2)
        self._emit()

    def remove_selected(self) -> None:
        pools = self.pools()
        for r in rows_to_remove(self.table):
            del pools[r]
        self.set_pools(pools)
        self._emit()

    def _free_kernels(self) -> list[str]:
        taken = {p["kernel"] for p in self.pools()}
        return [k for k in self.kernels if k not in taken]

    def _append(self, kernel: str, workers: int) -> None:
        loading, self._loading = self._loading, True  # the row is incomplete until the end
        try:
            row = self.table.rowCount()
            self.table.insertRow(row)
            combo = QtWidgets.QComboBox(self.table)
            names = list(self.kernels)
            if kernel and kernel not in names:  # a kernel that no longer exists: keep it visible
                names.append(kernel)
            combo.addItems(names)
            combo.setCurrentText(kernel)
            combo.currentTextChanged.connect(lambda _t: self._emit())
            self.table.setCellWidget(row, 0, combo)
            spin = QtWidgets.QSpinBox(self.table)
            spin.setRange(1, MAX_WORKERS)
            spin.setKeyboardTracking(False)
            spin.setValue(max(1, workers))
            spin.valueChanged.connect(lambda _v: self._emit())
            self.table.setCellWidget(row, 1, spin)
        finally:
            self._loading = loading

    def _update_buttons(self) -> None:
        free = self._free_kernels()
        self.add_button.setEnabled(bool(free))
        self.add_button.setToolTip(
            "give a kernel its own pool of workers"
            if free
            else "every kernel of the project has a pool (add a kernel first)"
        )
        self.remove_button.setEnabled(self.table.rowCount() > 0)

    def _emit(self) -> None:
        self._update_buttons()
        if not self._loading:
            self.committed.emit(self.pools())


__all__ = ["PoolsEditor", "POOL_COLUMNS"]
