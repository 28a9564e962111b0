"""``fork_server``: a run forked from the warm server behaves as ``python -X faulthandler SCRIPT``
would (output, argv, cwd, environment, sys.path, exit codes, signals, cancel), shares nothing
with earlier runs, and a dead server only means a plain process."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pto_wsp.runtime.fork_server import ForkServer
from pto_wsp.runtime.isolation import ChildProcess

pytestmark = pytest.mark.skipif(not ForkServer.supported, reason="fork() is POSIX only")


@pytest.fixture(scope="module")
def server():
    srv = ForkServer(preload=("pto_wsp",)).start()
    yield srv
    srv.close()


def run(tmp_path: Path, server: ForkServer | None, body: str, *args: str,
        env: dict[str, str] | None = None, timeout: float = 60.0) -> tuple[ChildProcess, str, str]:  # fmt: skip
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    child = ChildProcess(
        [sys.executable, "-X", "faulthandler", str(script), *args],
        cwd=tmp_path,
        env={**os.environ, **(env or {})},
        stdout_path=tmp_path / "out.log",
        stderr_path=tmp_path / "err.log",
        launcher=server,
    ).start()
    child.wait(timeout)
    return child, (tmp_path / "out.log").read_text(), (tmp_path / "err.log").read_text()


def test_a_forked_run_looks_like_a_new_interpreter(tmp_path, server) -> None:
    (tmp_path / "sibling.py").write_text("VALUE = 'from the script folder'\n")
    work = tmp_path / "work"
    work.mkdir()
    body = """
        import os, sys
        import sibling  # the script's folder is first on sys.path
        print(sys.argv[1:], os.getcwd(), os.environ["RUN_TAG"], sibling.VALUE, __name__)
        print("to stderr", file=sys.stderr)
        import faulthandler
        print("faulthandler", faulthandler.is_enabled())
        print("session leader", os.getsid(0) == os.getpid())
        sys.exit(3)
    """
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    child = ChildProcess(
        [sys.executable, "-X", "faulthandler", str(script), "--trace", "t.npy"],
        cwd=work,
        env={**os.environ, "RUN_TAG": "tag-1"},
        stdout_path=tmp_path / "out.log",
        stderr_path=tmp_path / "err.log",
        launcher=server,
    ).start()
    assert child.wait(60) == 3
    out = (tmp_path / "out.log").read_text().splitlines()
    assert out[0] == f"['--trace', 't.npy'] {work} tag-1 from the script folder __main__"
    assert out[1:] == ["faulthandler True", "session leader True"]
    assert (tmp_path / "err.log").read_text() == "to stderr\n"
    assert child.pid != os.getpid() and child.pid != server._proc.pid  # type: ignore[union-attr]


def test_exceptions_signals_and_atexit(tmp_path, server) -> None:
    child, _out, err = run(tmp_path, server, "raise ValueError('bad value in the script')\n")
    assert child.returncode == 1
    assert "Traceback" in err and "ValueError: bad value in the script" in err
    child, _out, err = run(
        tmp_path, server, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    assert child.returncode == -signal.SIGSEGV
    assert "Fatal Python error" in err  # the faulthandler's dump, as with -X faulthandler
    flag = tmp_path / "atexit.txt"
    child, _out, _err = run(
        tmp_path,
        server,
        f"import atexit\natexit.register(lambda: open({str(flag)!r}, 'w').write('ran'))\n",
    )
    assert child.returncode == 0 and flag.read_text() == "ran"
    child, _out, err = run(tmp_path, server, "import sys\nsys.exit('a message')\n")
    assert child.returncode == 1 and err == "a message\n"


def test_runs_share_nothing(tmp_path, server) -> None:
    body = """
        import pto_wsp
        print(getattr(pto_wsp, "_left_by_a_run", "clean"))
        pto_wsp._left_by_a_run = "leaked"
    """
    for _ in range(2):
        child, out, _err = run(tmp_path, server, body)
        assert child.returncode == 0 and out == "clean\n"


def test_cancel_reaches_the_whole_group(tmp_path, server) -> None:
    pidfile = tmp_path / "grandchild.pid"
    body = f"""
        import subprocess, sys, time
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(pidfile)!r}, "w").write(str(p.pid))
        time.sleep(60)
    """
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    child = ChildProcess(
        [sys.executable, "-X", "faulthandler", str(script)],
        cwd=tmp_path,
        env=dict(os.environ),
        stdout_path=tmp_path / "out.log",
        stderr_path=tmp_path / "err.log",
        grace_s=0.5,
        launcher=server,
    ).start()
    deadline = time.monotonic() + 60
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    grandchild = int(pidfile.read_text())
    child.cancel()
    assert child.wait(30) == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (already dead, not reaped by its new parent yet) counts as gone
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_other_commands_and_a_dead_server_start_a_plain_process(tmp_path) -> None:
    srv = ForkServer(preload=()).start()
    script = str(tmp_path / "script.py")
    assert srv.accepts([sys.executable, "-X", "faulthandler", script, "--x"])
    assert srv.accepts([sys.executable, script])
    assert not srv.accepts([sys.executable, "-c", "print(1)"])
    assert not srv.accepts(["/usr/bin/env", script])
    srv.close()
    assert not srv.alive and not srv.accepts([sys.executable, script])
    child, out, _err = run(tmp_path, srv, "import os\nprint('ran', os.getppid() == int(os.environ['PARENT']))\n",
                           env={"PARENT": str(os.getpid())})  # fmt: skip
    assert child.returncode == 0 and out == "ran True\n"  # a child of ours, not of the server


def test_an_uncaught_exception_goes_through_the_scripts_excepthook(tmp_path, server) -> None:
    body = """
        import sys
        def hook(kind, exc, tb):
            frames = []
            while tb is not None:
                frames.append(tb.tb_frame.f_code.co_name)
                tb = tb.tb_next
            print("hook", kind.__name__, exc, frames, file=sys.stderr)
        sys.excepthook = hook
        def inner():
            raise KeyError("k")
        inner()
    """
    child, _out, err = run(tmp_path, server, body)
    assert child.returncode == 1
    assert err == "hook KeyError 'k' ['<module>', 'inner']\n"  # no runpy frames


def test_keyboard_interrupt_ends_by_sigint(tmp_path, server) -> None:
    child, _out, _err = run(tmp_path, server, "raise KeyboardInterrupt\n")
    assert child.returncode == -signal.SIGINT


FORK_HERE_DRIVER = """
import atexit, json, os, signal, sys, threading
from pathlib import Path
from pto_wsp.runtime.fork_server import ForkHere
from pto_wsp.runtime.isolation import ChildProcess

tmp = Path(sys.argv[1])
atexit.register(lambda: print("the caller's exit handler"))  # must not run in the child
signal.signal(signal.SIGTERM, lambda *a: None)  # nor keep the child alive on a cancel
code = (
    "import faulthandler, os, signal, sys, time\\n"
    "print(sys.argv, repr(sys.path[0]), __name__, 'json' in sys.modules)\\n"
    "print('faulthandler', faulthandler.is_enabled(), 'leader', os.getsid(0) == os.getpid())\\n"
    "print('sigterm default', signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)\\n"
    "sys.exit(3)\\n"
)
command = [sys.executable, "-X", "faulthandler", "-c", code, "a", "b"]
launcher = ForkHere()
print("accepts single-threaded", launcher.accepts(command))
child = ChildProcess(command, cwd=tmp, env=dict(os.environ), stdout_path=tmp / "out.log",
                     stderr_path=tmp / "err.log", launcher=launcher).start()
print("rc", child.wait(60))
stop = threading.Event()
threading.Thread(target=stop.wait).start()
print("accepts with a second thread", launcher.accepts(command))
stop.set()
"""


def test_fork_here_runs_a_command_as_a_fork_of_the_caller(tmp_path) -> None:
    """``ForkHere`` (what ``pto-wsp run`` starts its run with): ``python -c CODE ARGS`` forked
    from the caller, with its imports ('json' was imported by the caller, not the code) but
    not its exit or signal handlers; refused while the caller runs a second thread."""
    import subprocess

    res = subprocess.run(
        [sys.executable, "-c", FORK_HERE_DRIVER, str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert res.stdout.splitlines() == [
        "accepts single-threaded True",
        "rc 3",
        "accepts with a second thread False",
        "the caller's exit handler",
    ]
    out = (tmp_path / "out.log").read_text().splitlines()
    assert out == [
        "['-c', 'a', 'b'] '' __main__ True",
        "faulthandler True leader True",
        "sigterm default True",
    ]


CALL_IN_FORK_DRIVER = """
import sys
from pto_wsp.runtime.fork_server import call_in_fork
from pto_wsp.runtime.scripts import ScriptError

def load(name):
    import importlib
    importlib.import_module(name)
    print("printed by the child")
    return {"loaded": name in sys.modules, "argv": sys.argv[1:]}

def fail():
    raise ScriptError("bad project", ["w1"])

print(call_in_fork(load, "xml.dom.minidom"), "xml.dom.minidom" in sys.modules)
try:
    call_in_fork(fail)
except ScriptError as err:
    print(type(err).__name__, str(err), err.warnings, "in fail" in err.__notes__[0])
"""


def test_call_in_fork_returns_the_result_and_keeps_the_imports_in_the_child() -> None:
    """``call_in_fork`` (``pto-wsp run`` exports a project with it): the value and what the
    function printed come back, the module it imported is not loaded here, and an error is
    raised here with its type, message, attributes and the child's traceback as a note."""
    import subprocess

    res = subprocess.run(
        [sys.executable, "-c", CALL_IN_FORK_DRIVER, "x"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert res.stdout.splitlines() == [
        "printed by the child",
        "{'loaded': True, 'argv': ['x']} False",
        "ScriptError bad project ['w1'] True",
    ]
