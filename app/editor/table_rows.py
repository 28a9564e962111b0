"""Which rows a list editor's Remove button deletes, shared by the table editors of the
Properties panel (kernel params, task-graph pools) so the rule is written once."""

from __future__ import annotations

from PySide6 import QtWidgets


def rows_to_remove(table: QtWidgets.QTableWidget) -> list[int]:
    """The selected rows, last first (so deleting them in order keeps the others' indices);
    the last row when nothing is selected; none for an empty table."""
    rows = sorted({i.row() for i in table.selectedIndexes()}, reverse=True)
    if not rows and table.rowCount():
        rows = [table.rowCount() - 1]
    return rows
