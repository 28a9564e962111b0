"""A GUI test session in one process exits cleanly (issue 12, item 9).

Under pytest-xdist a worker that crashes while exiting goes unnoticed once its results are in, so
``bash dev.sh test`` also runs ``tests/gui`` in one process; this test pins the one crash found so
far from inside any run: a test that copies nodes leaves a Python-made ``QMimeData`` on the
clipboard, which the offscreen platform deletes after the interpreter has finalized (SIGSEGV, exit
139) unless the ``empty_clipboard`` fixture releases it first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_session_that_copies_to_the_clipboard_exits_with_status_0(tmp_path: Path) -> None:
    # The child is a session of its own: not an xdist worker, its own temp and cache dirs.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PTO_WSP_"))}
    run = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-m", "pytest", "-p", "no:xdist",
         "-p", "no:cacheprovider", "-q", f"--basetemp={tmp_path / 'basetemp'}",
         "tests/gui/test_canvas.py::test_copy_paste"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert "1 passed" in output, output
    assert run.returncode == 0, f"the session passed but exited with {run.returncode}:\n{output}"


_COPY_THEN_QUIT = """
import sys
from PySide6 import QtCore
from app.editor.canvas import CLIPBOARD_MIME
from app.application import create_application

app = create_application(sys.argv)
mime = QtCore.QMimeData()  # what Copy leaves on the clipboard
mime.setData(CLIPBOARD_MIME, QtCore.QByteArray(b"{}"))
app.clipboard().setMimeData(mime)
QtCore.QTimer.singleShot(0, app.quit)
app.exec()
"""


def test_the_studio_exits_cleanly_after_copying_nodes_on_an_in_process_clipboard(
    tmp_path: Path,
) -> None:
    # Not only the tests: the Studio itself, run on the offscreen platform, copied nodes and quit
    # with SIGSEGV until create_application released its own clipboard data on aboutToQuit.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PTO_WSP_"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    run = subprocess.run(
        [sys.executable, "-c", _COPY_THEN_QUIT],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-2000:]
