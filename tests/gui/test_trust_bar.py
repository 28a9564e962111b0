"""Restricted mode in the Studio (DESIGN §1 "Trust"), driven as a user would.

A project that carries C++ (``cpp_src``/``cpp_includes``) from a file not trusted yet opens
without running and with the trust bar; Run (F5) asks once; consent, a save in the Studio and
the bundled samples' location make it trusted. Runs are real worker processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from test_main_window import ScriptedDialogs, press, shown_window
from trust_projects import CPP, body_file_document, code_document, write_elsewhere

from app.dialogs import Dialogs
from app.main_window import MainWindow
from app.model import io, trust
from app.runner.job import RunResult

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_MS = 240_000


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh trust store for this test only."""
    folder = tmp_path / "config"
    monkeypatch.setenv(trust.CONFIG_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def make_window(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: Path
) -> Iterator[Callable[[], MainWindow]]:
    """Shown main windows with scripted dialogs; runs stopped, closed at teardown."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)

    def make() -> MainWindow:
        window = shown_window(qtbot, settings)
        return window

    yield make  # qtbot closes each window (before_close first) before this finalizer


def dialogs_of(window: MainWindow) -> ScriptedDialogs:
    assert isinstance(window.dialogs, ScriptedDialogs)
    return window.dialogs


def wait_run(qtbot: Any, window: MainWindow, start: Callable[[], object]) -> RunResult:
    """Start a run with ``start`` (a key, a click) and wait for it to end; its result."""
    with qtbot.waitSignal(window.run_panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        start()
        assert window.run_panel.is_running()
    return ended.args[0]


def bar_shown(window: MainWindow) -> bool:
    return window.trust_bar.isVisible()


def test_untrusted_code_opens_restricted_and_run_asks_once(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path, config: Path
) -> None:
    project = write_elsewhere(code_document(), tmp_path / "downloads" / "matmul_cpp.pto.json")
    window = make_window()
    dialogs = dialogs_of(window)
    assert window.open_path(project)

    # Restricted: not run on open, the bar names the kernel that carries C++.
    assert window.restricted
    assert not window.auto_run() and not window.run_panel.is_running()
    assert bar_shown(window)
    assert window.trust_bar.geometry().top() <= window.canvas.widget.geometry().top()
    assert "kernel matmul" in window.trust_bar.label.text()
    assert "Restricted mode" in window.statusBar().currentMessage()

    # Run (F5) asks; "No" leaves it restricted, nothing runs, nothing is remembered.
    dialogs.trust.append(False)
    window.canvas.viewer.setFocus()
    press(qtbot, window, "F5")
    assert dialogs.asked == ["trust:matmul"]
    assert not window.run_panel.is_running() and window.restricted and bar_shown(window)
    assert not (config / trust.STORE_NAME).exists()

    # "Trust and Run": it runs, the bar goes, the content is remembered.
    dialogs.trust.append(True)
    result = wait_run(qtbot, window, lambda: press(qtbot, window, "F5"))
    assert result.ok, result.error
    assert dialogs.asked == ["trust:matmul", "trust:matmul"]
    assert not window.restricted and not bar_shown(window)
    assert trust.TrustStore(config / trust.STORE_NAME).is_trusted(
        trust.content_hash(io.load(project))
    )

    # Asked once: the next run does not ask again.
    again = wait_run(qtbot, window, lambda: press(qtbot, window, "F5"))
    assert again.ok and dialogs.asked == ["trust:matmul", "trust:matmul"]

    # Reopening the same content (here or in another window) is trusted: no bar, no question.
    other = make_window()
    assert other.open_path(project)
    assert other.trusted and not bar_shown(other) and dialogs_of(other).asked == []

    # Other C++ in a file from elsewhere is new content: restricted again.
    changed = write_elsewhere(code_document(CPP + " "), tmp_path / "downloads" / "v2.pto.json")
    assert other.open_path(changed)
    assert other.restricted and bar_shown(other)


def test_the_bars_button_trusts_and_runs(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path, config: Path
) -> None:
    project = write_elsewhere(code_document(), tmp_path / "downloads" / "matmul_cpp.pto.json")
    window = make_window()
    assert window.open_path(project)
    assert bar_shown(window)
    button = window.trust_bar.button
    assert button.text() == "Trust and run"
    result = wait_run(qtbot, window, lambda: qtbot.mouseClick(button, Qt.MouseButton.LeftButton))
    assert result.ok, result.error
    assert dialogs_of(window).asked == []  # the click is the consent: no second question
    assert not bar_shown(window)
    store = trust.TrustStore(config / trust.STORE_NAME)
    assert store.is_trusted(trust.content_hash(io.load(project)))


def test_run_dialog_names_the_kernels_and_trust_and_run_accepts(
    qtbot: Any, make_window: Callable[[], MainWindow]
) -> None:
    """The real confirmation (a QMessageBox), answered by clicking its buttons."""
    window = make_window()
    carriers = trust.code_carriers(code_document())
    seen: list[str] = []

    def answer(button_text: str) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):  # not up yet
            QTimer.singleShot(20, lambda: answer(button_text))
            return
        seen.append(box.text())
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    dialogs = Dialogs(window)
    QTimer.singleShot(0, lambda: answer("Trust and Run"))
    assert dialogs.ask_trust(carriers) is True
    QTimer.singleShot(0, lambda: answer("&No"))
    assert dialogs.ask_trust(carriers) is False
    assert seen == ["This project carries C++ code (kernel matmul)."] * 2


def test_a_project_saved_in_the_studio_is_trusted(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    # Made here: New, then the user writes C++ (here: the document the user builds).
    window = make_window()
    assert window.new_document()
    window.editor.reset(code_document())  # as if built on the canvas
    assert window.trusted and not bar_shown(window)
    saved = tmp_path / "mine" / "matmul_cpp.pto.json"
    saved.parent.mkdir()
    dialogs_of(window).paths.append(saved)
    press(qtbot, window, "Ctrl+Shift+S")
    assert saved.is_file() and window.path == saved.resolve()

    reopened = make_window()
    assert reopened.open_path(saved)
    assert reopened.trusted and not bar_shown(reopened)

    # A restricted document saved here stays untrusted: saving is not consent.
    downloaded = write_elsewhere(code_document(CPP + "\n"), tmp_path / "downloads" / "x.pto.json")
    assert reopened.open_path(downloaded) and reopened.restricted
    copy = tmp_path / "mine" / "copy.pto.json"
    assert reopened.save_as(copy)
    third = make_window()
    assert third.open_path(copy)
    assert third.restricted and bar_shown(third)


def test_editing_the_code_away_leaves_restricted_mode(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    from app.model import commands as cmds

    project = write_elsewhere(code_document(), tmp_path / "downloads" / "matmul_cpp.pto.json")
    window = make_window()
    assert window.open_path(project) and bar_shown(window)
    kernel = next(n for n, _g, _o in window.document.walk() if n.kind == "kernel.def")
    window.editor.apply(cmds.SetProperty(kernel.id, "cpp_src", ""))
    qtbot.waitUntil(lambda: not bar_shown(window))
    assert window.trusted
    window.editor.undo()
    qtbot.waitUntil(lambda: bar_shown(window))
    assert window.restricted


def test_the_sweep_asks_before_running_restricted_code(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    project = write_elsewhere(code_document(), tmp_path / "downloads" / "matmul_cpp.pto.json")
    window = make_window()
    assert window.open_path(project)
    dialogs = dialogs_of(window)
    dialogs.trust.append(False)
    assert not window.sweep.run_sweep()
    assert dialogs.asked == ["trust:matmul"] and not window.sweep.is_running()
    assert "restricted" in window.sweep.status.text()


def test_a_bundled_sample_with_code_is_trusted_and_auto_runs(
    qtbot: Any,
    make_window: Callable[[], MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    samples = tmp_path / "product" / "app" / "projects"
    monkeypatch.setattr(trust, "BUNDLED_PROJECTS", samples)
    shipped = write_elsewhere(code_document(), samples / "matmul_cpp.pto.json")
    window = make_window()
    assert window.open_path(shipped)
    assert window.trusted and not bar_shown(window)
    result = wait_run(qtbot, window, window.auto_run)
    assert result.ok, result.error
    assert dialogs_of(window).asked == []


def test_a_cpp_file_the_project_names_is_covered_by_its_trust(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path, config: Path
) -> None:
    """``cpp_body_path`` names a file beside the project (relative): consent covers what the
    file holds; an edit of the file outside the Studio restricts the project again (bar and
    question name the file), restoring it trusts it again, a missing file refuses the run."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    body = folder / "body.cpp"
    body.write_text(CPP)
    project = write_elsewhere(body_file_document("body.cpp"), folder / "matmul_file.pto.json")
    window = make_window()
    dialogs = dialogs_of(window)
    assert window.open_path(project)
    assert window.restricted and bar_shown(window)

    # Consent; the run finds body.cpp beside the project, not beside the run's script.
    dialogs.trust.append(True)
    window.canvas.viewer.setFocus()
    result = wait_run(qtbot, window, lambda: press(qtbot, window, "F5"))
    assert result.ok, result.error
    assert result.script_path.parent != folder
    assert dialogs.trust_notes == [""] and not bar_shown(window)
    store = trust.TrustStore(config / trust.STORE_NAME)
    assert store.is_trusted(trust.content_hash(io.load(project)))

    # The file changes behind the Studio's back: the bar comes back and names the file.
    body.write_text(CPP + "\n// changed by someone else")
    qtbot.waitUntil(lambda: bar_shown(window), timeout=10_000)
    changed = "the C++ file of kernel matmul (cpp_body_path) changed since you trusted it"
    assert window.restricted
    assert "The C++ file of kernel matmul (cpp_body_path) changed" in window.trust_bar.label.text()
    # Run asks again, saying what changed; "No" runs nothing.
    dialogs.trust.append(False)
    press(qtbot, window, "F5")
    assert dialogs.trust_notes == ["", changed] and not window.run_panel.is_running()
    # Reopening the changed content elsewhere is not trusted either.
    other = make_window()
    assert other.open_path(project) and other.restricted and bar_shown(other)
    other.close()
    window.activateWindow()
    window.canvas.viewer.setFocus()  # the keys go to this window again

    # Restored: the content trusted before runs again without a question, here and on reopen.
    body.write_text(CPP)
    qtbot.waitUntil(lambda: not bar_shown(window), timeout=10_000)
    again = wait_run(qtbot, window, lambda: press(qtbot, window, "F5"))
    assert again.ok, again.error
    assert len(dialogs.trust_notes) == 2
    third = make_window()
    assert third.open_path(project) and third.trusted and not bar_shown(third)
    third.close()
    window.activateWindow()
    window.canvas.viewer.setFocus()

    # A missing file is not a question but an error naming kernel, node and field.
    body.unlink()
    qtbot.waitUntil(lambda: window.doc_trust.state(window.document).problem is not None)
    window.actions["run"].trigger()  # Run > Run
    assert len(dialogs.trust_notes) == 2 and not window.run_panel.is_running()
    ((title, text),) = dialogs.errors
    kernel = next(n for n, _g, _o in window.document.walk() if n.kind == "kernel.def")
    assert title == "Cannot run"
    assert text.startswith(
        f"kernel matmul (node {kernel.id}): cpp_body_path: cannot read 'body.cpp'"
    )
    assert not bar_shown(window)


def test_save_as_moves_where_a_relative_cpp_path_resolves(
    qtbot: Any, make_window: Callable[[], MainWindow], tmp_path: Path
) -> None:
    """A relative ``cpp_body_path`` resolves against the project file's folder: unsaved it has
    none (the run says to save first), saved it is that folder, and Save As moves it (with the
    original removed, the run uses the copy beside the saved project). A file named after trust
    was given is trusted by consent, as any new code is."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "body.cpp").write_text(CPP)
    (second / "body.cpp").write_text(CPP)
    window = make_window()
    dialogs = dialogs_of(window)
    assert window.new_document()
    window.editor.reset(body_file_document("body.cpp"))  # as if built on the canvas
    window.document.folder = None
    assert not window.run() and not window.run_panel.is_running()
    ((title, text),) = dialogs.errors
    assert title == "Cannot run" and "cpp_body_path" in text and "save it first" in text

    assert window.save_as(first / "p.pto.json")
    assert window.document.folder == first.resolve()
    qtbot.waitUntil(lambda: bar_shown(window), timeout=10_000)
    assert "The C++ file of kernel matmul (cpp_body_path) is not trusted yet" in (
        window.trust_bar.label.text()
    )
    dialogs.trust.append(True)
    assert wait_run(qtbot, window, window.run).ok
    assert not bar_shown(window)

    assert window.save_as(second / "p.pto.json")
    (first / "body.cpp").unlink()
    assert window.document.folder == second.resolve()
    assert window.trusted  # the same content in the new folder
    moved = wait_run(qtbot, window, window.run)
    assert moved.ok, moved.error
    assert dialogs.trust_notes == ["the C++ file of kernel matmul (cpp_body_path) is not trusted yet"]  # fmt: skip

    (second / "body.cpp").write_text("/* not the code that was trusted */")
    qtbot.waitUntil(lambda: bar_shown(window), timeout=10_000)
    assert "The C++ file of kernel matmul (cpp_body_path)" in window.trust_bar.label.text()


ENTRY_SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication
from app.__main__ import run_gui
from app.application import create_application

create_application(sys.argv[:1])

def on_shown(window):
    print("running", window.run_panel.is_running())
    print("bar", window.trust_bar.isVisible(), window.trust_bar.label.text())
    window.close()
    QApplication.exit(0)

rc = run_gui(__import__("pathlib").Path(sys.argv[1]), on_shown=on_shown, run=True)
print("rc", rc)
"""


def test_python_m_app_does_not_auto_run_an_untrusted_code_project(tmp_path: Path) -> None:
    """``python -m app FILE``'s window path, in its own process (it owns the event loop)."""
    project = write_elsewhere(code_document(), tmp_path / "downloads" / "matmul_cpp.pto.json")
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    env[trust.CONFIG_DIR_ENV] = str(tmp_path / "config")
    done = subprocess.run(
        [sys.executable, "-c", ENTRY_SCRIPT, str(project)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_MS / 1000,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "running False" in lines and "rc 0" in lines
    (bar,) = [line for line in lines if line.startswith("bar ")]
    assert bar.startswith("bar True Restricted mode") and "kernel matmul" in bar
