"""Fixtures for the GUI tests (pytest-qt, offscreen: tests/conftest.py sets QT_QPA_PLATFORM).

``no_leaked_windows`` (autouse) fails a test that leaves a new visible top-level window behind:
a dialog or popup that was never closed would block a real user and pile up in a test session.

``empty_clipboard`` (autouse) empties the clipboard after each test. The clipboard is process-wide
state, so one test's Copy must not feed the next test's Paste; and on the offscreen platform Qt
keeps the clipboard's ``QMimeData`` in a C++ global that the C runtime deletes at exit, after the
interpreter has finalized. A ``QMimeData`` made in Python (``GraphCanvas.copy_selected``) deleted
then calls back into a dead interpreter: the session passed, then died with SIGSEGV (exit 139).

``gui_thread_gc`` (autouse) runs each test as the Studio runs (``app.main_thread_gc``): cyclic
garbage is collected on the GUI thread only, never on a runner's, Dask's or the fork server's
thread; at teardown, once pytest-qt has closed the test's widgets, what they left is collected
here too. Under pytest-xdist a worker runs GUI and non-GUI tests in one process, and a collection
triggered by another test's thread used to finalise a GUI test's Qt objects there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6 import QtWidgets

from app.editor.canvas import GraphCanvas
from app.main_thread_gc import MainThreadCollector
from app.model.commands import DocumentEditor
from app.model.document import Document


def _visible_top_levels() -> set[int]:
    return {id(w) for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible()}


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp: QtWidgets.QApplication) -> Iterator[None]:
    before = _visible_top_levels()
    yield
    qapp.processEvents()
    leaked = [
        w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible() and id(w) not in before
    ]
    for w in leaked:  # hide, not close: a closeEvent handler could prompt or veto
        w.hide()
        w.deleteLater()
    assert not leaked, "test leaked top-level windows: " + ", ".join(
        f"{type(w).__name__}({w.objectName() or w.windowTitle()!r})" for w in leaked
    )


@pytest.fixture(autouse=True)
def gui_thread_gc(qapp: QtWidgets.QApplication) -> Iterator[MainThreadCollector]:
    collector = MainThreadCollector()
    collector.install()
    yield collector
    qapp.processEvents()  # the deleteLater of the widgets pytest-qt closed
    collector.uninstall()  # collects now, on this thread
    collector.deleteLater()


@pytest.fixture(autouse=True)
def empty_clipboard(qapp: QtWidgets.QApplication) -> Iterator[None]:
    yield
    qapp.clipboard().clear()  # deletes the test's QMimeData now, while Python is alive


@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="test"))


@pytest.fixture
def canvas(qtbot, editor: DocumentEditor) -> GraphCanvas:
    """A shown canvas (900x700) on an empty document; closed by qtbot at teardown."""
    c = GraphCanvas(editor)
    qtbot.addWidget(c.widget)
    c.widget.resize(900, 700)
    c.widget.show()
    qtbot.waitExposed(c.widget)
    return c
