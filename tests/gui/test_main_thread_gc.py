"""``app.main_thread_gc``: while the Studio runs, cyclic garbage is finalised on the GUI thread,
never on another Python thread that happens to allocate (a runner's, Dask's, the fork server's)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from app.main_thread_gc import MainThreadCollector

ROOT = Path(__file__).resolve().parents[2]


class _Cycle:
    """Garbage only the cyclic collector can free; records the thread that finalised it."""

    def __init__(self, seen: list[str]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def _allocate_on_a_thread(name: str) -> None:
    """Leaves cyclic garbage on a thread: net allocations past every generation's threshold,
    which is when the interpreter collects on the allocating thread."""

    def churn() -> None:
        dropped: list[str] = []
        for _ in range(3 * gc.get_threshold()[0]):
            _Cycle(dropped)

    worker = threading.Thread(target=churn, name=name)
    worker.start()
    worker.join()


def test_garbage_is_finalised_on_the_gui_thread_not_where_it_was_allocated(qtbot: Any, gui_thread_gc: MainThreadCollector) -> None:  # fmt: skip
    assert gui_thread_gc.installed and not gc.isenabled()
    seen: list[str] = []
    _Cycle(seen)
    _allocate_on_a_thread("busy-worker")
    assert seen == []  # the worker's allocations collected nothing
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)  # the GUI thread's timer did
    assert seen == [threading.main_thread().name]


def test_without_it_the_allocating_thread_finalises_the_gui_threads_garbage(gui_thread_gc: MainThreadCollector) -> None:  # fmt: skip
    gui_thread_gc.uninstall()  # the interpreter's own rule, as before the Studio installed it
    assert gc.isenabled()
    try:
        seen: list[str] = []
        _Cycle(seen)
        _allocate_on_a_thread("busy-worker")
        assert seen == ["busy-worker"]  # the hazard the collector exists for
    finally:
        gui_thread_gc.install()


def test_a_check_collects_only_past_a_threshold(gui_thread_gc: MainThreadCollector) -> None:
    gc.collect()
    seen: list[str] = []
    _Cycle(seen)
    assert gui_thread_gc.check() == 0 and seen == []  # one object: under gen 0's threshold
    for _ in range(gc.get_threshold()[0] + 1):
        _Cycle(seen)
    assert gui_thread_gc.check() > 0 and len(seen) == gc.get_threshold()[0] + 2


def test_uninstall_collects_and_gives_automatic_collection_back() -> None:
    assert gc.isenabled() is False  # this test runs under the suite's own collector
    collector = MainThreadCollector()
    collector.install()  # nested: remembers that collection was off
    collector.uninstall()
    assert gc.isenabled() is False
    outer_enabled = gc.isenabled()
    gc.enable()
    try:
        own = MainThreadCollector()
        own.install()
        assert not gc.isenabled()
        seen: list[str] = []
        _Cycle(seen)
        own.uninstall()
        assert seen == [threading.main_thread().name] and gc.isenabled()
        own.uninstall()  # idempotent
        assert gc.isenabled()
    finally:
        if not outer_enabled:
            gc.disable()


def test_the_studio_application_collects_on_its_own_thread() -> None:
    code = (
        "import gc\n"
        "from app.application import create_application\n"
        "app = create_application(['studio'])\n"
        "print(gc.isenabled())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
