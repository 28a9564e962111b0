"""Figures from the last run written on the canvas, under the nodes they describe.

After a CSP run each channel node reads ``peak 2/2`` (the most slots it held at once, of its
depth; the texts come from ``app.run_nodes.channel_labels``), so a pipeline's bottleneck shows
where it is drawn, not only in the occupancy plot. The labels belong to the run, not the document: a new run or another project replaces them,
and they come back when the canvas rebuilds its views (entering and leaving a kernel body).
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtGui, QtWidgets

LABEL_COLOUR = QtGui.QColor("#9fd4ff")


class RunLabels:
    """Owns the label items; ``show`` replaces them, ``clear`` removes them."""

    def __init__(self, canvas: Any):
        self.canvas = canvas
        self.texts: dict[str, str] = {}
        self._items: dict[str, QtWidgets.QGraphicsSimpleTextItem] = {}
        canvas.scope_changed.connect(lambda *_: self.apply())

    def show(self, texts: dict[str, str]) -> None:
        self.texts = dict(texts)
        self.apply()

    def clear(self) -> None:
        self.texts = {}
        self.apply()

    def text_of(self, node_id: str) -> str | None:
        """The label shown under ``node_id`` now (None when it has none or is not in view)."""
        item = self._items.get(node_id)
        return item.text() if item is not None and _alive(item) else None

    def apply(self) -> None:
        for item in self._items.values():
            if _alive(item) and item.scene() is not None:
                item.scene().removeItem(item)
        self._items.clear()
        for node_id, text in self.texts.items():
            view = self.canvas.view_node(node_id)
            if view is None:
                continue
            parent = view.view
            item = QtWidgets.QGraphicsSimpleTextItem(text, parent)
            item.setBrush(LABEL_COLOUR)
            font = item.font()
            font.setBold(True)
            item.setFont(font)
            rect = parent.boundingRect()
            item.setPos(rect.left() + 6, rect.bottom() + 2)
            item.setToolTip(f"{text}: the most slots this channel held at once in the last run")
            self._items[node_id] = item


def _alive(item: QtWidgets.QGraphicsItem) -> bool:
    from shiboken6 import isValid

    return bool(isValid(item))
