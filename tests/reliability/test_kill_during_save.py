"""A save killed half-way leaves the old project intact; the next save cleans up (issue 12, 8).

A child process loads a project and saves it with ``io.save``; its ``os.fsync`` is replaced by
one that announces itself and waits, so the child is killed (SIGKILL) exactly while the new
text sits in the temp file and the old file has not been replaced yet.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.model import io
from pto_wsp.fileio import temp_files_of

from .kind_docs import ROOT

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from app.model import io

    def stalled_fsync(fd):
        print("writing", flush=True)
        time.sleep(120)

    os.fsync = stalled_fsync
    doc = io.load(sys.argv[1])
    doc.name = "changed by the killed save"
    io.save(doc, sys.argv[1])
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_save_keeps_the_old_file_and_the_next_save_removes_its_temp(tmp_path) -> None:
    project = tmp_path / "p.pto.json"
    project.write_bytes((ROOT / "app" / "projects" / "matmul.pto.json").read_bytes())
    project.chmod(0o644)
    before = project.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(project)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "writing"
        temps = temp_files_of(project)
        assert len(temps) == 1 and b"changed by the killed save" in temps[0].read_bytes()
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert project.read_bytes() == before  # the old file, whole
    doc = io.load(project)  # and it still loads
    doc.name = "saved again"
    io.save(doc, project)
    assert temp_files_of(project) == []
    assert io.load(project).name == "saved again"
    assert stat.S_IMODE(project.stat().st_mode) == 0o644
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["p.pto.json"]
