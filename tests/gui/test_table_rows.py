"""The Remove rule of the Properties panel's table editors (kernel params, pools)."""

from __future__ import annotations

from typing import Any

from PySide6 import QtWidgets

from app.editor.table_rows import rows_to_remove


def test_remove_takes_the_selected_rows_last_first_else_the_last_row(qtbot: Any) -> None:
    table = QtWidgets.QTableWidget(0, 2)
    qtbot.addWidget(table)
    assert rows_to_remove(table) == []  # an empty table: nothing to remove
    table.setRowCount(5)
    for r in range(5):
        table.setItem(r, 0, QtWidgets.QTableWidgetItem(str(r)))
    assert rows_to_remove(table) == [4]  # nothing selected: the last row
    table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.MultiSelection)
    table.selectRow(1)
    table.selectRow(3)
    assert rows_to_remove(table) == [3, 1]  # deleting in this order keeps row 1 where it was
