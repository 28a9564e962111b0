"""The schedule sheet takes its choices and defaults from their one source in pto_wsp.

Policy choices are the DSL's policy kinds (``pto_wsp.language.policy_kinds``), targets the
registered backends, the worker default ``pto_wsp.compiler.workers.DEFAULT_WORKERS`` (the sheet's
round_robin count is its own, ``SHEET_ROUND_ROBIN_WORKERS``); a field a file leaves out means the sheet's default everywhere (export, run summary, title, checks).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.model import io
from app.model.commands import DocumentEditor, SetProperty
from app.model.document import Document
from app.model.export import export_script
from app.model.kinds.schedule import (
    DEPS_MODES,
    DISPATCH_POLICIES,
    READY_POLICIES,
    SHEET_PROPS,
    SHEET_ROUND_ROBIN_WORKERS,
    START_POLICIES,
    TARGETS,
    TASK_GRAPH_DEFAULTS,
    TIMING_POLICIES,
    TRACE_POLICIES,
    WINDOW_MODES,
)
from app.runner.runs import _sheet_steps, _task_graph_text
from pto_wsp.backends import TARGETS as BACKEND_TARGETS
from pto_wsp.compiler.workers import DEFAULT_WORKERS
from pto_wsp.language.policy_kinds import (
    DepsKind,
    DispatchKind,
    ReadyKind,
    StartKind,
    TimingKind,
    TraceKind,
    WindowMode,
)

from .copy_tiles_project import build, task_graph_line


def test_sheet_choices_are_the_dsl_policy_kinds_and_the_registered_targets() -> None:
    assert DISPATCH_POLICIES == tuple(k.value for k in DispatchKind)
    assert TIMING_POLICIES == tuple(k.value for k in TimingKind)
    assert WINDOW_MODES == tuple(m.value for m in WindowMode)
    assert DEPS_MODES == ("default", *(k.value for k in DepsKind))
    # "default" is in issue order (ReadyKind.IN_ORDER), so in_order is not offered twice
    assert READY_POLICIES == ("default", *[k.value for k in ReadyKind][1:])
    assert START_POLICIES == ("default", *(k.value for k in StartKind))
    assert TRACE_POLICIES == ("default", *(k.value for k in TraceKind))
    assert TARGETS == BACKEND_TARGETS
    sheet = {p.name: p for p in SHEET_PROPS}
    assert sheet["target"].choices == ("", *BACKEND_TARGETS)
    # plain strings (the project file's JSON and the property editors' combo texts)
    assert all(type(c) is str for c in sheet["dispatch"].choices or ())


def test_the_worker_default_is_the_one_constant_everywhere() -> None:
    from pto_wsp._native import ir, sim

    assert DEFAULT_WORKERS == 1  # DESIGN §2: no dispatch, one worker (the reference's rule)
    assert ir.DEFAULT_WORKERS == DEFAULT_WORKERS  # C++ received it through pto_tables.h
    s = sim.Simulator()  # the simulator's own default: every task on worker 0, back to back
    assert [s.submit(0, 5, 0, 0), s.submit(0, 5, 1, 1)] == [5, 10]
    assert s.trace["worker"].tolist() == [0, 0]
    sheet = {p.name: p for p in SHEET_PROPS}
    assert f"else {DEFAULT_WORKERS}" in sheet["dispatch_aicpus"].doc


def test_a_round_robin_chosen_on_the_sheet_starts_at_its_own_count(tmp_path) -> None:
    """round_robin(1) spreads nothing: the sheet's round_robin starts at
    SHEET_ROUND_ROBIN_WORKERS, not the run default, and a file that leaves the count out reads
    the same (sheet, export, run summary)."""
    assert SHEET_ROUND_ROBIN_WORKERS == 4 != DEFAULT_WORKERS
    sheet = {p.name: p for p in SHEET_PROPS}
    assert sheet["dispatch_n"].default == SHEET_ROUND_ROBIN_WORKERS
    assert _sheet_steps({"dispatch": "round_robin"}) == ["dispatch round_robin(4)"]
    # a user picks round_robin on a new program's sheet: it exports and lowers to 4 workers
    ed = DocumentEditor(Document(name="copy_tiles"))
    ids = build(ed, mesh=False, program=True)
    ed.apply(SetProperty(ids["wl"], "dispatch", "round_robin"))
    source = export_script(ed.doc).source
    assert ".dispatch(DispatchPolicy.round_robin(4))" in source
    # a file without the count reads the same
    path = tmp_path / "copy_tiles.pto.json"
    io.save(ed.doc, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    (frame,) = [n for n in data["graph"]["nodes"] if n["id"] == ids["wl"]]
    del frame["props"]["dispatch_n"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert export_script(io.load(path)).source == source
    script = tmp_path / "copy_tiles.py"
    script.write_text(source, encoding="utf-8")
    ir_text = subprocess.run(
        [sys.executable, "-m", "pto_wsp.cli", "ir", str(script)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert "schedule dispatch=round_robin workers=4 " in ir_text


@pytest.mark.parametrize("threshold", [None, 3])
def test_a_threshold_left_out_of_the_file_is_the_sheets_default(threshold) -> None:
    """The sheet shows 8 for a missing threshold; the export and the run summary say the same
    (both used to write 1)."""
    graph = {"start": "threshold"} if threshold is None else {"start": "threshold", "threshold": 3}
    want = TASK_GRAPH_DEFAULTS["threshold"] if threshold is None else threshold
    assert want in (8, 3)
    ed = DocumentEditor(Document(name="copy_tiles"))
    build(ed, task_graph=graph)
    assert task_graph_line(ed.doc) == f".task_graph(start=StartPolicy.threshold({want}))"
    assert _task_graph_text(graph) == f"task_graph start threshold({want})"
