"""Import Python off the GUI thread: ``importer.import_script`` (itself a worker process) in a
thread, its outcome sent back as Qt signals (queued to the window's thread)."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

IMPORT_TIMEOUT_S = 120.0


class ImportJob(QObject):
    """One import of ``script``; ``start`` it, then wait for ``succeeded`` or ``failed``."""

    succeeded = Signal(object, object)  # (Path, Document)
    failed = Signal(object, str)  # (Path, message)

    def __init__(self, script: Path, timeout: float = IMPORT_TIMEOUT_S):
        super().__init__()
        self.script = script
        self.timeout = timeout
        # not ``thread``: QObject.thread() is the Qt thread the object lives in
        self.worker = threading.Thread(target=self._run, name="pto-import", daemon=True)

    def start(self) -> None:
        self.worker.start()

    def _run(self) -> None:
        from .model.importer import import_script

        try:
            doc = import_script(self.script, timeout=self.timeout)
        except Exception as err:  # noqa: BLE001 - every failure is shown to the user
            self.failed.emit(self.script, f"{type(err).__name__}: {err}")
        else:
            self.succeeded.emit(self.script, doc)
