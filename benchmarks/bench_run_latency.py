"""Studio run latency: Run clicked -> timeline shown, on the bundled sample (issue #18 item 5).

The Studio starts each run as a fork of its fork server (``app.runner.warm_worker``), a process
that imported ``pto_wsp`` when the window opened. The baseline, in the same run, is the same
window with the fork server off, so each run starts a new interpreter (what the Studio did
before). Both use a warm build cache (one run first, not timed), as every run after the first
edit-free one does. Each figure is the median of ``--repeat`` runs: from the triggered Run
action to ``run_ended`` (emitted once the timeline, stats and graph show the run).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_run_latency.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.__main__ import SAMPLE_PROJECT  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.runner.warm_worker import shared_server  # noqa: E402

TARGET_S = 0.6


def timed_run(app: QApplication, window: MainWindow) -> float:
    """Seconds from triggering Run to ``run_ended`` (views updated)."""
    loop = QEventLoop()
    ended: list[object] = []

    def done(result: object) -> None:
        ended.append(result)
        loop.quit()

    window.run_panel.run_ended.connect(done)
    QTimer.singleShot(120_000, loop.quit)
    t0 = time.perf_counter()
    window.actions["run"].trigger()
    loop.exec()
    seconds = time.perf_counter() - t0
    window.run_panel.run_ended.disconnect(done)
    if not ended or not getattr(ended[0], "ok", False):
        raise SystemExit(f"the run failed: {ended[0] if ended else 'no result in 120 s'}")
    app.processEvents()
    return seconds


def measure(app: QApplication, forked: bool, repeat: int, tmp: Path) -> float:
    settings = QSettings(str(tmp / f"studio-{forked}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1400, 900)
    window.show()
    if not window.open_path(SAMPLE_PROJECT):
        raise SystemExit(f"cannot open {SAMPLE_PROJECT}")
    runner = window.run_panel.runner
    runner.launcher = shared_server() if forked else None
    if forked and runner.launcher is None:
        raise SystemExit("no fork server on this platform")
    timed_run(app, window)  # warm the build cache (and, forked, wait out the server's imports)
    times = [timed_run(app, window) for _ in range(repeat)]
    window.close()
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        os.environ["PTO_WSP_DATA_DIR"] = os.environ["PTO_WSP_CONFIG_DIR"] = tmp  # no autosave
        base = measure(app, False, args.repeat, Path(tmp))
        fork = measure(app, True, args.repeat, Path(tmp))
    print(f"sample: {SAMPLE_PROJECT.name}, median of {args.repeat} runs, build cache warm")
    print(f"new process per run (baseline): {base:6.3f} s")
    print(
        f"fork of the warm server:        {fork:6.3f} s = {fork / base:4.2f}x baseline "
        f"(target <= {TARGET_S} s: x{fork / TARGET_S:4.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
