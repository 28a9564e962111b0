"""The Studio's QApplication and first window (``python -m app``, ``pto-wsp-studio``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication

from . import APP_NAME, ORGANIZATION
from .editor.canvas import CLIPBOARD_MIME
from .main_thread_gc import MainThreadCollector
from .main_window import MainWindow
from .start_page import should_show


def create_application(argv: list[str]) -> QApplication:
    """The QApplication with the Studio's names (QSettings keys derive from them), collecting
    Python's cyclic garbage on its own thread only (``app.main_thread_gc``)."""
    app = QApplication(argv)
    MainThreadCollector(app).install()
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName("Studio")
    app.setApplicationDisplayName(APP_NAME)
    app.aboutToQuit.connect(_release_own_clipboard)
    return app


def _release_own_clipboard() -> None:
    """Free the nodes we copied while Python is alive. On platforms where Qt keeps the clipboard
    in-process (offscreen, minimal) a Python-made QMimeData left there is deleted by a C++ static
    destructor after the interpreter is gone, which crashes the exit (SIGSEGV). Only our own data
    is cleared, so another program's clipboard (X11, Wayland) is never touched."""
    clipboard = QApplication.clipboard()
    mime = clipboard.mimeData()
    if mime is not None and mime.hasFormat(CLIPBOARD_MIME) and not clipboard.ownsClipboard():
        clipboard.clear()


def open_initial(path: Path | None, sample: Path, *, start_page: bool = True) -> MainWindow | None:
    """The window ``python -m app`` shows: ``path`` (project or script to import), else the
    bundled sample project, else an empty document. None when ``path`` cannot be opened.
    Without ``path`` the start page is shown over the canvas (``start_page`` and the user's
    "Show at start-up" setting permitting)."""
    window = MainWindow()
    if path is not None and path.suffix == ".py":
        window.import_python(path)
    elif path is not None:
        if not window.open_path(path):
            window.close()
            window.deleteLater()
            return None
    elif sample.is_file() and not window.open_path(sample):
        window.show_message(f"The bundled sample {sample} could not be opened")
    if path is None and start_page and should_show(window.settings):
        window.show_start_page()  # over the sample, like a splash: Esc or Close dismisses it
    return window
