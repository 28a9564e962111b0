"""What the Qt runners of a run and of a sweep share: one worker ``QThread`` at a time, waited
for and cancelled the same way, so neither outlives the application."""

from __future__ import annotations

from PySide6 import QtCore

__all__ = ["ThreadRunner"]


class ThreadRunner(QtCore.QObject):
    """Owns at most one worker thread (``_thread``); subclasses start it and say how
    ``cancel`` reaches it."""

    def __init__(self, parent: QtCore.QObject | None, grace_s: float):
        super().__init__(parent)
        self.grace_s = grace_s
        self._thread: QtCore.QThread | None = None

    def is_running(self) -> bool:
        return self._thread is not None

    def cancel(self) -> None:
        raise NotImplementedError

    def wait(self, msecs: int = -1) -> bool:
        """Block until the worker thread ends (for shutdown); True if it has ended."""
        thread = self._thread
        if thread is None:
            return True
        return thread.wait() if msecs < 0 else thread.wait(msecs)

    def shutdown(self, msecs: int = 5000) -> None:
        """Cancel and wait: call before the application quits so no worker outlives it."""
        self.cancel()
        self.wait(msecs)

    def _end(self) -> None:
        """The worker reported its end: let it finish and release it."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
