"""Collapse and pin the timeline's lanes from their labels, as in Perfetto.

A left click on a lane's label (the left axis) collapses or expands the lane (its disclosure
triangle ▾/▸ says which); a right click opens a menu: Collapse / Expand, Pin to Top / Unpin, and
Expand All / Unpin All. A collapsed lane is a thin strip (its slices still drawn and hit-tested);
a pinned lane moves to the top of the lane list and stays there while the lanes scroll
vertically (``app.views.lane_layout``). The state is kept by label, so it survives a change of
lane mode or a new run for lanes of the same name.

Qt glue only: the geometry is ``lane_layout``; ``TimelineView`` calls ``label_clicked`` from its
scene click handler and ``apply`` when its lanes change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pyqtgraph.Qt import QtCore, QtWidgets

from .lane_layout import LaneLayout, lane_layout

__all__ = ["LaneControls"]

PIN_MARK = "⤒"  # before a pinned lane's label


class LaneControls(QtCore.QObject):
    """The collapsed and pinned lane labels and the actions that change them.

    ``on_change()`` is called after every change (the view rebuilds its layout and labels).
    """

    def __init__(self, on_change: Callable[[], None], parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.collapsed: set[str] = set()
        self.pinned: set[str] = set()
        self._on_change = on_change
        self.menu: QtWidgets.QMenu | None = None  # the last context menu opened

    def layout(self, labels: Sequence[str]) -> LaneLayout:
        return lane_layout(labels, self.collapsed, self.pinned)

    def label_text(self, label: str, utilisation: float) -> str:
        """A lane's axis label: disclosure triangle, pin mark, name, utilisation."""
        arrow = "▸" if label in self.collapsed else "▾"
        pin = f"{PIN_MARK} " if label in self.pinned else ""
        if label in self.collapsed:
            return f"{arrow} {pin}{label}"
        return f"{arrow} {pin}{label}  {100.0 * utilisation:.0f}%"

    # ---- changes ---------------------------------------------------------------------------

    def set_collapsed(self, label: str, collapsed: bool) -> None:
        (self.collapsed.add if collapsed else self.collapsed.discard)(label)
        self._on_change()

    def set_pinned(self, label: str, pinned: bool) -> None:
        (self.pinned.add if pinned else self.pinned.discard)(label)
        self._on_change()

    def toggle_collapsed(self, label: str) -> None:
        self.set_collapsed(label, label not in self.collapsed)

    def expand_all(self) -> None:
        self.collapsed.clear()
        self._on_change()

    def unpin_all(self) -> None:
        self.pinned.clear()
        self._on_change()

    # ---- the label's mouse -----------------------------------------------------------------

    def label_clicked(self, label: str, button: QtCore.Qt.MouseButton,
                      screen_pos: QtCore.QPoint) -> None:  # fmt: skip
        """A click on ``label``: the left button toggles collapse, the right opens the menu."""
        if button == QtCore.Qt.MouseButton.LeftButton:
            self.toggle_collapsed(label)
        elif button == QtCore.Qt.MouseButton.RightButton:
            self.open_menu(label, screen_pos)

    def open_menu(self, label: str, screen_pos: QtCore.QPoint) -> QtWidgets.QMenu:
        """The lane's context menu, shown at ``screen_pos`` (non-blocking: ``popup``)."""
        menu = QtWidgets.QMenu()
        menu.setObjectName("laneMenu")
        collapsed = label in self.collapsed
        act = menu.addAction(f"Expand {label}" if collapsed else f"Collapse {label}")
        act.triggered.connect(lambda: self.set_collapsed(label, not collapsed))
        pinned = label in self.pinned
        act = menu.addAction(f"Unpin {label}" if pinned else f"Pin {label} to Top")
        act.triggered.connect(lambda: self.set_pinned(label, not pinned))
        menu.addSeparator()
        act = menu.addAction("Expand All Lanes")
        act.setEnabled(bool(self.collapsed))
        act.triggered.connect(self.expand_all)
        act = menu.addAction("Unpin All Lanes")
        act.setEnabled(bool(self.pinned))
        act.triggered.connect(self.unpin_all)
        self.menu = menu
        menu.popup(screen_pos)
        return menu
