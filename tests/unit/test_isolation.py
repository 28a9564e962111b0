"""pto_wsp.runtime.isolation: the messages built from what a child process left behind."""

from __future__ import annotations

import signal
import sys

from pto_wsp.runtime.isolation import ChildProcess, crash_message, early_exit_message, kernel_faults

CRASH = "pto-wsp: kernel attn crashed (SIGSEGV) in task attn[3, 0] (/p/model.py:12)"
EXIT = "pto-wsp: kernel attn called exit() in task attn (/p/model.py:12)"


def test_runtime_lines_are_parsed() -> None:
    (crash, exit_) = kernel_faults(f"noise\n{CRASH}\nFatal Python error: ...\n{EXIT}\n")
    assert (crash.kernel, crash.task, crash.signal, crash.file, crash.line) == (
        "attn",
        "attn[3, 0]",
        "SIGSEGV",
        "/p/model.py",
        12,
    )
    assert exit_.signal is None and exit_.task == "attn"


def test_crash_message_names_kernel_task_and_line() -> None:
    message, fault = crash_message(signal.SIGSEGV, CRASH)
    assert message == "kernel attn crashed (SIGSEGV) in task attn[3, 0] (/p/model.py:12)"
    assert fault is not None and fault.kernel == "attn"


def test_crash_without_a_runtime_line_names_the_signal() -> None:
    assert crash_message(signal.SIGBUS, "Fatal Python error: Bus error") == (
        "the run crashed (SIGBUS)",
        None,
    )


def test_early_exit_message() -> None:
    message, fault = early_exit_message(0, EXIT)
    assert message.startswith("the run ended before finishing: kernel attn called exit()")
    assert fault is not None
    assert early_exit_message(3, "")[0] == (
        "the run ended before finishing (exit code 3, no result was written)"
    )


def test_child_process_timeout_stops_the_child(tmp_path) -> None:
    child = ChildProcess(
        [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
        cwd=tmp_path,
        env={},
        stdout_path=tmp_path / "out",
        stderr_path=tmp_path / "err",
        grace_s=0.5,
    ).start()
    rc = child.wait(timeout=1.0)
    assert child.timed_out and child.cancelled
    assert rc == -signal.SIGTERM
