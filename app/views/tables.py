"""Read-only tables of numbers that sort by value: the Stats panel's and the Compare view's.

``sortable_table(headers)`` makes the table; ``table_item(text, value)`` makes a cell that
sorts by ``value`` (a right-aligned number) or, without one, by its text (a name, with the name
whole in its tooltip). Fill a table with sorting off, then turn it on: it re-sorts by the user's
(or the default) column.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore, QtWidgets

__all__ = ["NAME_COLUMN_MAX_PX", "NumberItem", "fit_rows", "sortable_table", "table_item"]

NAME_COLUMN_MAX_PX = 320  # a pathological kernel name must not push the numbers out of sight


def sortable_table(headers: Sequence[str], *, fit_names: bool = False) -> QtWidgets.QTableWidget:
    """A read-only table sorted by its first column, ascending (workers 0, 1, 2...).

    The number columns fit their contents, so the right-aligned numbers sit next to each other
    inside a narrow dock instead of at the far edge of a stretched last column, out of sight.
    The first column takes the spare width (a worker id is short), or with ``fit_names`` fits
    its contents too: a kernel name is read whole (a stretched name column got only what the
    numbers left and showed ``co…``), up to a cap past which it is elided (its tooltip holds
    it whole).
    """
    table = QtWidgets.QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    if fit_names:
        header.setMaximumSectionSize(NAME_COLUMN_MAX_PX)
    else:
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
    header.setSortIndicator(0, QtCore.Qt.SortOrder.AscendingOrder)
    return table


class NumberItem(QtWidgets.QTableWidgetItem):
    """Sorts by the number it shows, not by its (thousands-separated) text."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        mine = self.data(QtCore.Qt.ItemDataRole.UserRole)
        theirs = other.data(QtCore.Qt.ItemDataRole.UserRole)
        if mine is None or theirs is None:  # (super().__lt__ would re-enter this override)
            return self.text() < other.text()
        return mine < theirs


def table_item(text: str, value: float | int | None = None) -> QtWidgets.QTableWidgetItem:
    item = NumberItem(text)
    if value is not None:
        item.setData(QtCore.Qt.ItemDataRole.UserRole, value)
        item.setTextAlignment(
            QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
    else:
        item.setToolTip(text)  # a name elided at the column's cap is read whole here
    return item


def fit_rows(table: QtWidgets.QTableWidget, max_rows: int = 8) -> None:
    """Makes ``table`` at least tall enough for its header and up to ``max_rows`` rows.

    A panel of several tables in a scroll area then scrolls as a whole instead of squeezing
    each table until its rows are out of sight behind a scroll bar of their own."""
    rows = min(table.rowCount(), max_rows)
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(r) for r in range(rows)) if rows else 0
    if table.horizontalScrollBar().maximum() > 0:
        height += table.horizontalScrollBar().sizeHint().height()
    table.setMinimumHeight(height)
