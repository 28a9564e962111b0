"""Backend applicability (spec §4.8): one table says what each target does with each directive;
compile rejects what a target cannot honour (ScheduleError naming directive, file:line and
target) and records a Diagnostic (plus one ScheduleWarning) for what it only annotates.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from pto_wsp import (
    Deps,
    DispatchPolicy,
    In,
    Out,
    P,
    Pools,
    ReadyPolicy,
    ScheduleError,
    ScheduleWarning,
    StartPolicy,
    TaskWindow,
    Tensor,
    TensorLayout,
    TimingPolicy,
    TracePolicy,
    WindowMode,
    kernel,
    relayout,
    workload,
)
from pto_wsp.compiler import applicability
from pto_wsp.compiler.applicability import STATUSES, TABLE, Diagnostic, check, rule

REPO = Path(__file__).resolve().parents[2]
HERE = str(Path(__file__).resolve())


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))
    applicability._WARNED.clear()  # every test sees its own warnings


@kernel
def step_k(x: In[Tensor], y: Out[Tensor]): ...


def grid_workload():
    X = Tensor(np.zeros((4, 4, 8), np.float32))
    Y = Tensor(np.zeros((4, 4, 8), np.float32))

    @workload
    def grid():
        for i, j in P(4, 4):
            step_k[i, j](x=X[i, j], y=Y[i, j])

    return grid()


def _line(marker: str) -> int:
    """The line of this file that contains ``marker`` (where a directive is written)."""
    for n, text in enumerate(Path(HERE).read_text().splitlines(), 1):
        if marker in text and "_line(" not in text:
            return n
    raise AssertionError(marker)


# ---- the table ---------------------------------------------------------------------------------


def test_table_covers_every_directive_on_both_targets() -> None:
    expected = {
        *(f"dispatch({k})" for k in ("round_robin", "affinity", "hash", "dispatch_by")),
        "dispatch(work_steal)",
        "streams",
        "stream_by",
        *(f"timing({k})" for k in ("immediate", "batched", "interleaved", "rate_limit")),
        *(f"task_graph(window, mode={m.name})" for m in WindowMode),
        *(f"task_graph(deps={k})" for k in ("infer", "infer_bounding", "explicit")),
        *(f"task_graph(ready={k})" for k in ("fifo", "lifo", "priority")),
        *(f"task_graph(start={k})" for k in ("eager", "threshold")),
        *(f"task_graph(trace={k})" for k in ("full", "none")),
        "task_graph(pools)",
        "spatial_map",
        "relayout",
        "allreduce",
        "allgather",
        "reduce_scatter",
        "MemLayout(swizzle)",
        "Tensor(location)",
    }
    assert set(TABLE) == expected
    for directive, entry in TABLE.items():
        assert set(entry) == {"cpu_sim", "ascend_npu"}, directive
        for r in entry.values():
            assert r.status in STATUSES and r.note, directive


def test_cpu_sim_enforces_everything_but_non_stall_windows_swizzles_and_locations() -> None:
    for directive, entry in TABLE.items():
        want = (
            "rejected"
            if directive
            in {
                "task_graph(window, mode=ABORT)",
                "task_graph(window, mode=BENCHMARK)",
                "MemLayout(swizzle)",
            }
            else "enforced"
        )
        if directive == "Tensor(location)":  # recorded, not modelled: a ScheduleWarning
            want = "annotated"
        assert entry["cpu_sim"].status == want, directive


def test_ascend_npu_never_claims_enforcement() -> None:
    # the emitted tree does not run here: it preserves, annotates or rejects
    assert all(e["ascend_npu"].status != "enforced" for e in TABLE.values())
    assert rule("dispatch(work_steal)", "ascend_npu").status == "annotated"
    assert rule("dispatch(hash)", "ascend_npu").status == "preserved"
    assert rule("task_graph(pools)", "ascend_npu").status == "preserved"
    assert rule("spatial_map", "ascend_npu").status == "preserved"


def test_unknown_options_are_rejected_with_a_reason() -> None:
    r = rule("task_graph(window, unit=bytes)", "cpu_sim")
    assert r.status == "rejected" and "'tasks'" in r.note
    assert rule("dispatch(telepathy)", "ascend_npu").status == "rejected"


def test_semantics_doc_prints_the_table() -> None:
    doc = (REPO / "docs" / "semantics.md").read_text()
    assert "## Backend applicability" in doc
    assert applicability.table_markdown() in doc


# ---- rejection ---------------------------------------------------------------------------------


def test_cpu_sim_rejects_an_abort_window_before_building(monkeypatch) -> None:
    from pto_wsp.backends import cpu_sim

    def no_build(*a, **k):
        raise AssertionError("a rejected schedule must not be built")

    monkeypatch.setattr(cpu_sim, "build_cpu_sim", no_build)
    w = grid_workload().task_graph(window=TaskWindow(8, "tasks", WindowMode.ABORT))  # ABORT-HERE
    with pytest.raises(ScheduleError) as err:
        w.compile(target="cpu_sim")
    e = err.value
    assert "task_graph(window, mode=ABORT)" in e.message and "'cpu_sim'" in e.message
    assert "WindowMode.STALL" in e.message
    assert e.loc is not None and e.loc.file == HERE and e.loc.line == _line("# ABORT-HERE")


def test_collective_on_ascend_npu_is_issued_as_synthesized_kernels(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PTO_WSP_CACHE_DIR", str(tmp_path / "cache"))
    X = Tensor(np.zeros((4, 8), np.float32))
    Y = Tensor(np.zeros((4, 8), np.float32))

    @workload
    def with_relayout():
        x2 = relayout(X, TensorLayout.default(2))
        step_k(x=x2, y=Y)

    w = with_relayout().spatial_map(grid=(2, 2))
    assert applicability.rule("relayout", "ascend_npu").status == "preserved"
    program = w.compile(target="ascend_npu")
    assert program.diagnostics == []
    tree = Path(program.codegen_artifact_dir)
    assert (tree / "aicore" / "kernel_1_relayout_copy.cpp").is_file()
    assert "collective relayout" in (tree / "aicpu" / "expander.cpp").read_text()


# ---- diagnostics -------------------------------------------------------------------------------


def test_annotated_directives_become_diagnostics_and_one_warning_each() -> None:
    w = (
        grid_workload()
        .dispatch(DispatchPolicy.affinity(lambda t: t.get("i")))
        .streams(2)  # STREAMS-HERE
        .stream_by(lambda t: t.get("j") % 2)  # STREAM-BY-HERE
        .timing(TimingPolicy.batched(4))  # BATCHED-HERE
        .task_graph(ready=ReadyPolicy.lifo())  # LIFO-HERE
    )
    with pytest.warns(ScheduleWarning) as caught:
        program = w.compile(target="ascend_npu")
    got = [(d.directive, d.loc.line) for d in program.diagnostics]
    assert got == [
        ("streams", _line("# STREAMS-HERE")),
        ("stream_by", _line("# STREAM-BY-HERE")),
        ("timing(batched)", _line("# BATCHED-HERE")),
        ("task_graph(ready=lifo)", _line("# LIFO-HERE")),
    ]
    for d in program.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.severity == "warning" and d.target == "ascend_npu" and d.loc.file == HERE
        assert d.message.startswith(
            f"{d.directive} is kept in the ascend_npu plan but not honoured"
        )
    assert [str(c.message) for c in caught] == [d.message for d in program.diagnostics]
    assert all(c.filename == HERE for c in caught)
    # warned once: compiling the same schedule again records the diagnostics but stays quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        again = w.compile(target="ascend_npu")
    assert len(again.diagnostics) == 4


def test_fully_honoured_ascend_schedule_has_no_diagnostics() -> None:
    w = (
        grid_workload()
        .dispatch(DispatchPolicy.hash(lambda t: t.get("i") * 4 + t.get("j")))
        .timing(TimingPolicy.immediate)
        .task_graph(
            window=TaskWindow(4, "tasks", WindowMode.STALL),
            deps=Deps.explicit(),
            start=StartPolicy.threshold(3),
            trace=TracePolicy.none(),
            pools=Pools.by_kernel({step_k: 2}),
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        program = w.compile(target="ascend_npu")
    assert program.diagnostics == []


def test_work_steal_is_annotated_on_ascend_npu() -> None:
    w = grid_workload().dispatch(DispatchPolicy.work_steal())
    with pytest.warns(ScheduleWarning, match=r"dispatch\(work_steal\)"):
        program = w.compile(target="ascend_npu")
    assert [d.directive for d in program.diagnostics] == ["dispatch(work_steal)"]


def test_cpu_sim_program_has_no_diagnostics() -> None:
    w = grid_workload().dispatch(DispatchPolicy.round_robin(2)).streams(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScheduleWarning)
        program = w.compile(target="cpu_sim")
    assert program.diagnostics == []
    assert check(w, "cpu_sim") == []


# ---- the plan agrees with the table --------------------------------------------------------------

_PLAN_STATUS = {
    "dispatch": "dispatch(affinity)",
    "streams": "streams",
    "timing": "timing(rate_limit)",
    "window": "task_graph(window, mode=STALL)",
    "deps": "task_graph(deps=infer)",
    "ready": "task_graph(ready=priority)",
    "start": "task_graph(start=threshold)",
    "trace": "task_graph(trace=full)",
}


def test_plan_statuses_match_the_table() -> None:
    w = (
        grid_workload()
        .dispatch(DispatchPolicy.affinity(lambda t: t.get("i")))
        .streams(2)
        .timing(TimingPolicy.rate_limit(100.0))
        .task_graph(
            window=TaskWindow(4),
            deps=Deps.infer(),
            ready=ReadyPolicy.priority(lambda t: t.get("j")),
            start=StartPolicy.threshold(2),
            trace=TracePolicy.full(),
        )
    )
    with pytest.warns(ScheduleWarning):
        program = w.compile(target="ascend_npu")
    plan = (Path(program.codegen_artifact_dir) / "plan" / "plan.h").read_text()
    # each status string in kPtoPlanSchedule starts with the table's word for the directive
    schedule = plan[plan.index("kPtoPlanSchedule = {") :]
    statuses = re.findall(r'"(preserved|annotated): ', schedule)
    assert statuses == [rule(d, "ascend_npu").status for d in _PLAN_STATUS.values()]


def test_bounding_deps_are_named_like_the_ir() -> None:
    from pto_wsp.compiler.applicability import directives_of

    w = grid_workload().task_graph(deps=Deps.infer("bounding"))
    assert [u.directive for u in directives_of(w)] == ["task_graph(deps=infer_bounding)"]
    assert check(w, "ascend_npu") == [] and check(w, "cpu_sim") == []


def test_ascend_mesh_worker_count_must_match_the_grid() -> None:
    w = (
        grid_workload()
        .dispatch(DispatchPolicy.round_robin(4))
        .spatial_map(grid=(2, 3))  # GRID-HERE
    )
    with pytest.raises(ScheduleError) as err:
        w.compile(target="ascend_npu")
    assert "dispatch asks for 4 workers, but spatial_map(grid=(2, 3)) has 6 tiles" in str(err.value)
    assert err.value.loc is not None and err.value.loc.line == _line("# GRID-HERE")
