"""The Studio's PTO-ISA root setting becomes each run's ``PTO_ISA_ROOT`` (issue #16 item 1):
``ptoisa_setting.run_environment`` (explicit setting first, else nothing: the inherited variable
applies), ``RunJob``'s environment overrides, and a sweep's local pool passing them to every run.
The end-to-end Studio run is tests/gui/test_ptoisa_root_runs.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from app import ptoisa_setting
from app.model.document import Document
from app.runner import executors
from app.runner.job import RunJob


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)


def test_the_setting_comes_before_the_variable(
    settings: QSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PTO_ISA_ROOT", "/from/the/environment")
    assert ptoisa_setting.run_environment(settings) == {}  # unset: the worker inherits it
    ptoisa_setting.set_root(settings, str(tmp_path))
    assert ptoisa_setting.run_environment(settings) == {"PTO_ISA_ROOT": str(tmp_path)}
    job = RunJob(Document(), tmp_path / "run", env=ptoisa_setting.run_environment(settings), start=False)  # fmt: skip
    assert job.environment()["PTO_ISA_ROOT"] == str(tmp_path)
    ptoisa_setting.set_root(settings, "")
    inherited = RunJob(Document(), tmp_path / "run2", env={}, start=False)
    assert inherited.environment()["PTO_ISA_ROOT"] == "/from/the/environment"


def test_a_local_sweep_pool_gives_every_run_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made: list[dict[str, Any]] = []

    class Recorded:
        def __init__(self, document: Document, workdir: Path, **kwargs: Any) -> None:
            made.append(kwargs)

    monkeypatch.setattr(executors, "RunJob", Recorded)
    pool = executors.open_executor(jobs=2, env={"PTO_ISA_ROOT": "/root/set/in/studio"})
    assert isinstance(pool, executors.LocalPool)
    pool.start(Document(), tmp_path / "a")
    pool.start(Document(), tmp_path / "b")
    assert [m["env"] for m in made] == [{"PTO_ISA_ROOT": "/root/set/in/studio"}] * 2
    assert executors.open_executor(jobs=1).start(Document(), tmp_path / "c") is not None
    assert made[-1]["env"] == {}
