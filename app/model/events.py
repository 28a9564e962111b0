"""A tiny Qt-free signal: the model announces edits, the editor view (Qt) listens.

The model may not import Qt, so it cannot use Qt signals; this class gives the same shape
(``connect``/``disconnect``/``emit``) with plain callables, called synchronously in order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """A list of callbacks; ``emit(*args)`` calls each in connection order."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> Callable[..., Any]:
        """Add ``slot`` (once; connecting twice is a no-op). Returns it, so it can decorate."""
        if slot not in self._slots:
            self._slots.append(slot)
        return slot

    def disconnect(self, slot: Callable[..., Any]) -> None:
        """Remove ``slot``; ValueError naming the signal when it is not connected."""
        try:
            self._slots.remove(slot)
        except ValueError:
            raise ValueError(f"slot {slot!r} is not connected to signal {self.name!r}") from None

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)

    def __len__(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, {len(self._slots)} slots)"


class DocumentEvents:
    """The fine-grained events of a ``DocumentEditor``.

    Arguments: ``node_added(node, graph)``, ``node_removed(node, graph)``,
    ``edge_added(edge, graph)``, ``edge_removed(edge, graph)``,
    ``property_changed(node, field, old, new)``, ``moved(node, old_pos, new_pos)``,
    ``backdrop_added(backdrop, graph)``, ``backdrop_removed(backdrop, graph)``,
    ``parent_changed(node, old_parent_id, new_parent_id)`` (a node moved into / out of a frame),
    ``order_changed(graph)`` (the order of ``graph.nodes`` changed: a frame's child order),
    ``graph_reset(document)`` (the whole document was replaced: rebuild the view),
    ``dirty_changed(dirty)``.
    """

    def __init__(self) -> None:
        self.node_added = Signal("node_added")
        self.node_removed = Signal("node_removed")
        self.edge_added = Signal("edge_added")
        self.edge_removed = Signal("edge_removed")
        self.property_changed = Signal("property_changed")
        self.moved = Signal("moved")
        self.backdrop_added = Signal("backdrop_added")
        self.backdrop_removed = Signal("backdrop_removed")
        self.parent_changed = Signal("parent_changed")
        self.order_changed = Signal("order_changed")
        self.graph_reset = Signal("graph_reset")
        self.dirty_changed = Signal("dirty_changed")


__all__ = ["Signal", "DocumentEvents"]
