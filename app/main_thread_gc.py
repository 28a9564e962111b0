"""Python's cyclic garbage collector, run on the GUI thread only.

CPython runs a collection on whichever thread happens to allocate past the threshold. The Studio
has Python threads besides the GUI's: the runners' and sweeps' worker ``QThread`` s, the fork
server's reader, Dask's and the file writer's threads. A collection there finalises whatever
cyclic garbage exists at that moment, including Qt wrappers the GUI dropped (a closed dialog, a
context menu, a canvas item). Deleting a Python-owned Qt object off the GUI thread is undefined
behaviour in Qt: usually nothing, sometimes a crash far from its cause, in whatever code runs
next. So while the Studio runs, automatic collection is off and a timer on the GUI thread
collects each generation whose count passed its threshold, as the interpreter would.
"""

from __future__ import annotations

import gc

from PySide6 import QtCore

__all__ = ["MainThreadCollector"]

CHECK_INTERVAL_MS = 250
"""How often the GUI thread looks at the allocation counts: often enough that garbage never
piles up between two looks, rarely enough to cost nothing (one ``gc.get_count()``)."""


class MainThreadCollector(QtCore.QObject):
    """Turns automatic collection off and collects on a GUI-thread timer instead.

    ``install()`` / ``uninstall()`` are idempotent; ``uninstall`` collects once more and gives
    automatic collection back if it was on before. Code that turns the collector off around a
    bulk build (``app.editor.compat.bulk_build``) sees it off and leaves it so.
    """

    def __init__(self, parent: QtCore.QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS):
        super().__init__(parent)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._was_enabled: bool | None = None

    @property
    def installed(self) -> bool:
        return self._was_enabled is not None

    def install(self) -> None:
        if self._was_enabled is not None:
            return
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def uninstall(self) -> None:
        if self._was_enabled is None:
            return
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
        self._was_enabled = None

    @QtCore.Slot()
    def check(self) -> int:
        """Collects the oldest generation whose count passed its threshold (the younger ones
        with it, as ``gc.collect(n)`` does); the objects found unreachable."""
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        for generation in (2, 1, 0):
            if thresholds[generation] and counts[generation] > thresholds[generation]:
                return gc.collect(generation)
        return 0
