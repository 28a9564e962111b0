"""Start the real Studio (``python -m app``'s GUI path) on a display and save a PNG of its window.

Meant to run under Xvfb: ``xvfb-run -a python tests/gui/smoke_screenshot.py [OUT.png] [PROJECT]``.
It goes through :func:`app.__main__.run_gui` — the same start-up a user gets, bundled sample
project included, and run: the picture shows its timeline — waits for the run to end and the
window to settle, grabs it from the screen (what a person would see, not a widget re-render),
prints the PNG's path and quits. Exit status 0 only when a non-empty, non-uniform picture was
written after a successful run (``--no-run`` as a third argument skips the run).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "artifacts" / "screenshot-main.png"
SETTLE_MS = 1500
WATCHDOG_MS = 240_000  # a fresh build cache compiles the sample first


def _grab(window: Any, out: Path, status: dict[str, int]) -> None:
    from PySide6.QtGui import QGuiApplication

    screen = window.screen() or QGuiApplication.primaryScreen()
    pixmap = screen.grabWindow(window.winId())
    if pixmap.isNull() or pixmap.width() < 200:
        pixmap = window.grab()  # no window system capture: render the widget tree instead
    image = pixmap.toImage()
    step_x, step_y = max(1, image.width() // 16), max(1, image.height() // 16)
    samples = {
        image.pixel(x, y)
        for x in range(0, image.width(), step_x)
        for y in range(0, image.height(), step_y)
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    if pixmap.save(str(out), "PNG") and len(samples) > 1:
        print(out, flush=True)
        status["code"] = 0
    else:
        print(f"smoke_screenshot: could not save a meaningful picture to {out}", file=sys.stderr)
    window.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]).resolve() if args else DEFAULT_OUT
    project = Path(args[1]) if len(args) > 1 and args[1] != "-" else None
    run = "--no-run" not in args[2:]
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        del os.environ["QT_QPA_PLATFORM"]  # a test runner's offscreen setting must not leak in
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.__main__ import run_gui
    from app.application import create_application

    create_application(sys.argv[:1])
    status = {"code": 1}

    def grab_later(window: Any) -> None:
        QTimer.singleShot(SETTLE_MS, lambda: _grab(window, out, status))

    def on_shown(window: Any) -> None:
        window.resize(1400, 900)
        window.raise_()
        panel = window.run_panel
        if run and panel.is_running():

            def ended(result: Any) -> None:
                if not result.ok:
                    print("smoke_screenshot: the sample run failed:", file=sys.stderr)
                    for diag in result.diagnostics:
                        print(f"  {diag}", file=sys.stderr)
                    status["run_failed"] = 1
                grab_later(window)

            panel.run_ended.connect(ended)
        else:
            grab_later(window)

    def watchdog() -> None:
        print("smoke_screenshot: the window did not come up in time", file=sys.stderr)
        QApplication.exit(2)

    QTimer.singleShot(WATCHDOG_MS, watchdog)  # fires only if the grab never closes the window
    # The picture is of the sample and its run, not of the start page over it.
    rc = run_gui(project, on_shown=on_shown, run=run, start_page=False)
    if status.get("run_failed"):
        return 3
    return status["code"] if rc == 0 else rc


if __name__ == "__main__":
    sys.exit(main())
