"""The schedule sheet takes its choices and defaults from their one source in pto_wsp.

Policy choices are the DSL's policy kinds (``pto_wsp.language.policy_kinds``), targets the
registered backends, the worker default ``pto_wsp.compiler.workers.DEFAULT_WORKERS``; a field a
file leaves out means the sheet's default everywhere (export, run summary, title, checks).
"""

from __future__ import annotations

import pytest

from app.model.commands import DocumentEditor
from app.model.document import Document
from app.model.kinds.schedule import (
    DEPS_MODES,
    DISPATCH_POLICIES,
    READY_POLICIES,
    SHEET_PROPS,
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
    from pto_wsp._native import ir

    assert DEFAULT_WORKERS == 4
    assert ir.DEFAULT_WORKERS == DEFAULT_WORKERS  # C++ received it through pto_tables.h
    sheet = {p.name: p for p in SHEET_PROPS}
    assert sheet["dispatch_n"].default == DEFAULT_WORKERS
    # a round_robin sheet that leaves its count out of the file
    assert _sheet_steps({"dispatch": "round_robin"}) == [f"dispatch round_robin({DEFAULT_WORKERS})"]


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
