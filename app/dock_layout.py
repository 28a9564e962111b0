"""The Studio window's dock arrangement: the user's saved layout, the default one, and the tab
bars Qt leaves behind.

Qt's ``QMainWindow.saveState``/``restoreState`` keep the layout between sessions; what is ours is
the default sizes on a first run (the canvas large, docks at useful widths), View > Reset Layout,
and hiding the orphaned tab bars that tabifying docks leaves floating over the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

PALETTE_DOCK_WIDTH = 230
PROPERTIES_DOCK_WIDTH = 400  # a workload's schedule sheet (combos and all) without a scrollbar
LAYOUT_VERSION = 2  # 2: the Details dock beside Diagnostics. Bumped when the default layout changes: older saved layouts are dropped once
_GEOMETRY_KEY, _STATE_KEY = "window/geometry", "window/state"


def bar_docked(bar: QTabBar, group: set[QDockWidget]) -> bool:
    """Whether tab ``bar`` sits flush against the shown dock of its tab ``group`` (above or
    below it, as wide): a bar the layout uses does; one orphaned by a layout restore is left
    where the old layout put it, floating over whatever is there now."""
    docked = [d for d in group if d.isVisible() and not d.isFloating()]
    if not docked:
        return True  # nothing to compare with: leave it to Qt
    slack = 8
    b = bar.geometry()
    for dock in docked:
        d = dock.geometry()
        flush = abs(b.top() - d.bottom() - 1) <= slack or abs(d.top() - b.bottom() - 1) <= slack
        if flush and abs(b.left() - d.left()) <= slack and abs(b.right() - d.right()) <= slack:
            return True
    return False


def hide_stale_tab_bars(window: QMainWindow) -> None:
    """Hide the dock tab bars Qt left behind while tabifying.

    Tabifying docks in a second dock area leaves an orphan tab bar (Qt 6: "Properties |
    Stats", the group as it was before Sources joined) that nothing lays out any more: it
    showed through the gap between the canvas and the right docks. A bar in use lists its
    whole tab group; a bar listing only part of one is stale. (Qt shows the bars it uses
    again at every layout pass, so a wrong guess here would not stick.)
    """
    docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        listed = [docks.get(bar.tabText(i)) for i in range(bar.count())]
        shown = [d for d in listed if d is not None]
        if not shown or len(shown) != len(listed):
            continue
        group = {shown[0], *window.tabifiedDockWidgets(shown[0])}
        if set(shown) != group or (bar.isVisible() and not bar_docked(bar, group)):
            bar.hide()


class DockLayout:
    """The layout of ``window``'s docks: saved in ``settings``, or the built-in default.

    ``palette``/``properties`` are the left and right docks, ``timeline``/``diagnostics`` the
    bottom pair; construct it once every dock is added, so ``default_state`` is the built-in one.
    """

    def __init__(
        self,
        window: QMainWindow,
        settings: QSettings,
        *,
        palette: QDockWidget,
        properties: QDockWidget,
        timeline: QDockWidget,
        diagnostics: QDockWidget,
    ) -> None:
        self.window = window
        self.settings = settings
        self.palette, self.properties = palette, properties
        self.timeline, self.diagnostics = timeline, diagnostics
        self.default_state: QByteArray = window.saveState(LAYOUT_VERSION)
        self.is_default = True  # no saved layout was restored: size the docks when first shown

    def restore(self) -> None:
        """The user's last window layout, else the default (sized when shown).

        A layout saved under an older ``LAYOUT_VERSION`` is not restored (``restoreState``
        refuses it): one saved with the old, too narrow Properties dock would otherwise keep
        the schedule sheet's combo arrows out of sight for good.
        """
        geometry = self.settings.value(_GEOMETRY_KEY)
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        state = self.settings.value(_STATE_KEY)
        self.is_default = state is None or not self.window.restoreState(state, LAYOUT_VERSION)
        hide_stale_tab_bars(self.window)

    def apply_default_sizes(self) -> None:
        """First run: the canvas large, docks at useful sizes (needs the shown window)."""
        w = self.window
        w.resizeDocks(
            [self.palette, self.properties],
            [PALETTE_DOCK_WIDTH, PROPERTIES_DOCK_WIDTH],
            Qt.Orientation.Horizontal,
        )
        w.resizeDocks([self.timeline, self.diagnostics], [900, 340], Qt.Orientation.Horizontal)
        w.resizeDocks([self.timeline], [300], Qt.Orientation.Vertical)

    def reset(self) -> None:
        """View > Reset Layout: the built-in dock arrangement and sizes (tabs included)."""
        for dock in self.window.findChildren(QDockWidget):
            dock.setFloating(False)
            dock.show()
        self.window.restoreState(self.default_state, LAYOUT_VERSION)
        hide_stale_tab_bars(self.window)
        self.apply_default_sizes()
        self.properties.raise_()
        self.timeline.raise_()

    def save(self) -> None:
        self.settings.setValue(_GEOMETRY_KEY, self.window.saveGeometry())
        self.settings.setValue(_STATE_KEY, self.window.saveState(LAYOUT_VERSION))
