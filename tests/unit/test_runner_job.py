"""app.runner.job / runs: real worker-process runs of exported documents and DSL scripts."""

from __future__ import annotations

import signal
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from app.model import io
from app.model.document import Document
from app.runner.job import RunJob, RunResult
from app.runner.runs import RunHistory, compare_stats, summarize_schedule
from pto_wsp.runtime.task_regions import TaskRegions

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120.0


def load(name: str) -> Document:
    return io.load(ROOT / "app" / "projects" / f"{name}.pto.json")


def kernel_def(doc: Document):
    return next(n for n, _g, _o in doc.walk() if n.kind == "kernel.def")


def write_script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


CPP_SCRIPT = """
    import numpy as np

    from pto_wsp import In, Out, P, Tensor, kernel, workload
    from pto_wsp.runtime.runner import report_errors, run_main

    report_errors()
    X = Tensor(np.arange(32, dtype=np.float32).reshape(4, 8), name="X")
    Y = Tensor(np.zeros((4, 8), np.float32), name="Y")


    @kernel(cpp_src={cpp!r}, cost=5)
    def custom(x: In[Tensor], y: Out[Tensor]): ...


    @workload
    def grid():
        for i in P(4):
            custom[i](x=X[i], y=Y[i])


    program = grid().compile(target="cpu_sim")

    if __name__ == "__main__":
        run_main(program)
"""

DOUBLE_CPP = (
    "for (int64_t c = 0; c < x->cols; ++c)\n"
    "    ((float*)y->data)[c * y->col_stride] = 2.0f * ((float*)x->data)[c * x->col_stride];"
)
# volatile address: the compiler cannot prove the store is to null and drop it
NULL_DEREF_CPP = "volatile uintptr_t addr = 0; *(volatile float*)addr = 1.0f;"


def test_exported_document_runs_and_reads_back_stats_and_trace(tmp_path: Path) -> None:
    job = RunJob(load("matmul"), tmp_path / "run")
    result = job.wait(TIMEOUT)
    assert result.ok, [str(d) for d in result.diagnostics] + [result.stderr_tail]
    assert result.returncode == 0 and not result.cancelled and not result.crashed
    assert result.script_path == (tmp_path / "run" / "program.py").resolve()
    assert "run_main(program)" in result.script_path.read_text()
    assert result.stats["task_count"] == 4 and result.stats["total_cycles"] > 0
    assert result.kernel_names == ["matmul"]
    assert isinstance(result.trace, np.memmap)  # memory-mapped, not copied
    assert len(result.trace) == 4
    assert set(result.trace["kernel"]) == {0}
    assert (result.trace["end"] > result.trace["start"]).all()
    assert "ProgramStats" in result.stdout
    assert job.line_map and result.diagnostics == []


def test_a_run_forked_from_the_warm_server_reads_back_the_same(tmp_path: Path) -> None:
    from app.runner.warm_worker import shared_server

    server = shared_server()
    if server is None:
        pytest.skip("no fork server on this platform")
    plain = RunJob(load("matmul"), tmp_path / "plain").wait(TIMEOUT)
    forked_job = RunJob(load("matmul"), tmp_path / "forked", launcher=server)
    forked = forked_job.wait(TIMEOUT)
    assert forked.ok, [str(d) for d in forked.diagnostics] + [forked.stderr_tail]
    assert forked_job.pid is not None and forked_job.pid != server._proc.pid  # type: ignore[union-attr]
    same = ("task_count", "total_cycles", "num_workers", "kernel_names")
    assert {k: forked.stats[k] for k in same} == {k: plain.stats[k] for k in same}
    assert plain.trace is not None and forked.trace is not None
    np.testing.assert_array_equal(forked.trace, plain.trace)
    assert "ProgramStats" in forked.stdout


def test_hand_written_script_with_custom_cpp_runs(tmp_path: Path) -> None:
    script = write_script(tmp_path, "double.py", CPP_SCRIPT.format(cpp=DOUBLE_CPP))
    result = RunJob(script, tmp_path / "art").wait(TIMEOUT)
    assert result.ok, result.stderr_tail
    assert result.script_path == script.resolve()
    assert result.artifact_dir == (tmp_path / "art").resolve()
    assert result.kernel_names == ["custom"]
    assert result.stats["total_cycles"] == 4 * 5  # cost=5, 4 tasks on the 1 default worker
    assert result.trace is not None and len(result.trace) == 4
    # The call sites came back too: the details panel recomputes task 2's rows from them.
    assert result.sites is not None
    regions = TaskRegions(result.sites, result.trace)
    row = int(np.flatnonzero(result.trace["task"] == 2)[0])
    assert [r.text() for r in regions.regions(row).regions] == ["X[2, 0:8]", "Y[2, 0:8]"]


def test_null_pointer_in_custom_cpp_becomes_a_crash_diagnostic(tmp_path: Path) -> None:
    script = write_script(tmp_path, "boom.py", CPP_SCRIPT.format(cpp=NULL_DEREF_CPP))
    result = RunJob(script, tmp_path / "art").wait(TIMEOUT)
    # this test process is still here: the segfault happened in the worker
    assert not result.ok and result.crashed
    assert result.returncode == -signal.SIGSEGV
    assert result.trace is None
    (diag,) = result.errors
    assert diag.kind == "Crash"
    # the runtime's signal handler named the kernel and the task (runtime/fault.h)
    assert diag.message.startswith("kernel custom crashed (SIGSEGV) in task custom[0] (")
    def_line = (
        script.read_text().splitlines().index("def custom(x: In[Tensor], y: Out[Tensor]): ...")
    )
    assert (diag.file, diag.line) == (str(script.resolve()), def_line + 1)
    assert diag.node_id is None  # a hand-written script has no nodes
    assert "Segmentation fault" in result.stderr_tail


def test_crash_in_a_document_kernel_lands_on_the_kernel_node(tmp_path: Path) -> None:
    doc = load("matmul")
    kern = kernel_def(doc)
    keep = {n.id for n in kern.body.nodes.values() if n.kind in ("scope.entry", "kernel.param")}
    kern.body.nodes = {k: v for k, v in kern.body.nodes.items() if k in keep}
    kern.body.edges = [e for e in kern.body.edges if e.src.node in keep and e.dst.node in keep]
    kern.props["cpp_src"] = NULL_DEREF_CPP
    result = RunJob(doc, tmp_path / "run").wait(TIMEOUT)
    assert result.crashed
    (diag,) = result.errors
    assert diag.kind == "Crash" and "kernel matmul" in diag.message
    assert diag.node_id == kern.id


def test_type_error_in_a_kernel_body_names_the_node(tmp_path: Path) -> None:
    doc = load("matmul")
    kern = kernel_def(doc)
    kern.props["params"][1]["rows"] = 16  # b: 16x16, so a(16x32) @ b has mismatched K
    tensor_b = next(n for n in doc.graph.nodes.values() if n.name == "B")
    tensor_b.props["shape"] = [16, 16]  # the call passes B whole: a view that fits the 16x16 b
    matmul_op = next(n for n in kern.body.nodes.values() if n.kind == "pto.matmul")
    result = RunJob(doc, tmp_path / "run").wait(TIMEOUT)
    assert not result.ok and result.returncode == 1 and not result.crashed
    (diag,) = result.errors
    assert diag.kind == "TypeCheckError"
    assert "inner dimensions differ" in diag.message
    assert diag.node_id == matmul_op.id  # the op inside the kernel body
    assert diag.file == str(result.script_path)
    assert "pto.matmul(a, b)" in result.script_path.read_text().splitlines()[diag.line - 1]
    assert result.trace is None


def test_export_error_finishes_the_job_without_a_process(tmp_path: Path) -> None:
    doc = load("matmul")
    call = next(n for n, _g, _o in doc.walk() if n.kind == "kernel.call")
    call.props["index"] = {"a": "i +"}
    job = RunJob(doc, tmp_path / "run")
    assert job.poll() and job.pid is None
    result = job.result()
    assert not result.ok and result.returncode is None
    (diag,) = result.diagnostics
    assert diag.kind == "ExportError" and diag.node_id == call.id


SLEEPY_SCRIPT = """
    import signal
    import time

    if {ignore_term}:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("warming up", flush=True)
    for _ in range(600):  # a long Python-level loop before anything is compiled
        time.sleep(0.1)
    from pto_wsp.runtime.runner import run_main  # never reached when cancelled
"""


def _wait_for_line(job: RunJob, text: str, timeout: float = 30.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, f"no {text!r} in {seen}"
        assert not job.poll(), job.result().stderr_tail
        seen += job.read_output()
        time.sleep(0.02)
    return seen


def test_cancel_terminates_a_long_run(tmp_path: Path) -> None:
    script = write_script(tmp_path, "sleepy.py", SLEEPY_SCRIPT.format(ignore_term=False))
    job = RunJob(script, tmp_path / "art")
    _wait_for_line(job, "warming up")
    t0 = time.monotonic()
    job.cancel()
    result = job.wait(10)
    assert time.monotonic() - t0 < 5
    assert result.cancelled and not result.ok and not result.crashed
    assert result.returncode == -signal.SIGTERM
    assert [d.kind for d in result.diagnostics] == ["Cancelled"]


def test_cancel_escalates_to_sigkill_after_the_grace_period(tmp_path: Path) -> None:
    script = write_script(tmp_path, "stubborn.py", SLEEPY_SCRIPT.format(ignore_term=True))
    job = RunJob(script, tmp_path / "art", grace_s=0.3)
    _wait_for_line(job, "warming up")
    job.cancel(wait=True)
    result = job.result()
    assert result.cancelled and result.returncode == -signal.SIGKILL


def test_result_before_the_end_is_an_error(tmp_path: Path) -> None:
    script = write_script(tmp_path, "sleepy.py", SLEEPY_SCRIPT.format(ignore_term=False))
    job = RunJob(script, tmp_path / "art")
    try:
        with pytest.raises(RuntimeError, match="not finished"):
            job.result()
    finally:
        job.cancel(wait=True)


def test_compile_only_run_reads_kernel_names_without_a_trace(tmp_path: Path) -> None:
    result = RunJob(load("matmul"), tmp_path / "run", extra_args=["--no-execute"]).wait(TIMEOUT)
    assert result.ok, result.stderr_tail
    assert result.kernel_names == ["matmul"] and result.stats["executed"] is False
    assert result.trace is None and result.trace_path is None


def test_missing_script_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such DSL script"):
        RunJob(tmp_path / "nope.py", tmp_path / "art")


# ------------------------------------------------------------------------------------------
# run history


def test_history_keeps_the_last_runs_and_deletes_older_traces(tmp_path: Path) -> None:
    doc = load("matmul")
    history = RunHistory(max_runs=2)
    try:
        records = []
        for i in range(3):
            result = RunJob(doc, history.new_workdir()).wait(TIMEOUT)
            assert result.ok, result.stderr_tail
            records.append(history.add(result, f"run {i}", summarize_schedule(doc)))
        assert [r.label for r in history] == ["run 1", "run 2"]
        assert not records[0].trace_path.exists()  # evicted with its directory
        latest = history.latest
        assert latest is records[2] and latest.trace_path.parent.parent == history.session_dir
        trace = latest.load_trace()
        assert trace is not None and len(trace) == 4
        assert latest.schedule_summary == "gemm: dispatch round_robin(4) > cpu_sim"
        deltas = {d.name: d for d in compare_stats(records[1], records[2])}
        assert deltas["total_cycles"].delta == 0 and deltas["total_cycles"].ratio == 1.0
        with pytest.raises(KeyError):
            history.get(records[0].run_id)
    finally:
        history.close()
    assert not history.session_dir.exists()


def test_history_copies_a_trace_from_outside_its_session_dir(tmp_path: Path) -> None:
    result = RunJob(load("matmul"), tmp_path / "elsewhere").wait(TIMEOUT)
    history = RunHistory(max_runs=3, session_dir=tmp_path / "session")
    record = history.add(result, "outside")
    assert record.trace_path is not None and record.trace_path.is_relative_to(tmp_path / "session")
    np.testing.assert_array_equal(record.load_trace(), result.trace)
    history.remove(record.run_id)
    assert len(history) == 0 and not record.trace_path.exists()


def test_schedule_summary_follows_the_chain() -> None:
    assert summarize_schedule(load("attention_varlen")) == (
        'attention: dispatch affinity(t.get("batch")) > streams 2 > stream_by t.get("head") % 2'
        " > timing immediate > cpu_sim"
    )
    assert summarize_schedule(Document(name="empty")) == "no program"


def test_the_schedule_summary_names_a_cost_table_other_than_ours() -> None:
    doc = load("softmax")
    frame = next(n for n in doc.graph.nodes.values() if n.props.get("target"))
    assert summarize_schedule(doc) == "softmax_rows: dispatch round_robin(4) > cpu_sim"
    frame.props["cost_table"] = "ptoisa_a2a3"
    assert summarize_schedule(doc) == (
        "softmax_rows: dispatch round_robin(4) > cpu_sim (PTO-ISA A2/A3)"
    )


def test_the_schedule_summary_names_the_task_graph_knobs() -> None:
    assert summarize_schedule(load("tensor_parallel")) == (
        'tensor_parallel: task_graph window 16 stall ready priority(t.get("k"))'
        " pools partial:3 finish:1 > spatial_map 2x2 > cpu_sim"  # the sheet's (the DSL's) order
    )


def _sched(doc: Document, kind: str) -> str:
    return next(n.id for n, _g, _o in doc.walk() if n.kind == kind)


def test_annotated_directives_come_back_as_warnings_on_their_schedule_nodes(
    tmp_path: Path,
) -> None:
    doc = load("attention_varlen")  # the sheet: dispatch, streams, stream_by, timing
    frame = _sched(doc, "workload.def")
    doc.node(frame).props["target"] = "ascend_npu"
    result = RunJob(doc, tmp_path / "run").wait(TIMEOUT)
    warned = {d.message.split(" ")[0]: d for d in result.diagnostics if d.severity == "warning"}
    assert set(warned) == {"streams", "stream_by"}  # what ascend_npu only annotates
    assert warned["streams"].node_id == frame  # format v2: the steps live on the frame's sheet
    assert warned["stream_by"].node_id == frame
    for d in warned.values():
        assert d.kind == "ScheduleWarning" and d.file == str(result.script_path)
        assert "not honoured by the emitted code" in d.message
    # the emit-only refusal is the one error; the stats JSON carries directive and target
    assert [d.kind for d in result.errors] == ["CompileError"]
    raw = [d for d in result.stats["diagnostics"] if d["severity"] == "warning"]
    assert {(d["directive"], d["target"]) for d in raw} == {
        ("streams", "ascend_npu"),
        ("stream_by", "ascend_npu"),
    }


def test_every_warning_of_a_sheet_maps_to_its_frame(tmp_path: Path) -> None:
    doc = load("attention")
    frame = _sched(doc, "workload.def")
    doc.node(frame).props.update(target="ascend_npu", streams=2, timing="batched", timing_param=2)
    job = RunJob(doc, tmp_path / "run")
    result = job.wait(TIMEOUT)
    warned = [d for d in result.diagnostics if d.severity == "warning"]
    assert {d.message.split(" ")[0] for d in warned} >= {"streams", "timing(batched)"}
    assert all(d.node_id == frame for d in warned), [(d.message, d.node_id) for d in warned]


def test_a_rejected_directive_is_an_error_on_the_frame(tmp_path: Path) -> None:
    doc = load("attention")  # the sheet: streams, task_graph(mode=ABORT), cpu_sim
    frame = _sched(doc, "workload.def")
    doc.node(frame).props.update(streams=2, task_graph={"window": 8, "mode": "abort"})
    job = RunJob(doc, tmp_path / "run")
    result = job.wait(TIMEOUT)
    [err] = result.errors
    assert err.kind == "ScheduleError" and "not supported by target 'cpu_sim'" in err.message
    assert err.node_id == frame  # the frame whose sheet sets it
    raw = [d for d in result.stats["diagnostics"] if d["severity"] == "error"]
    assert raw[0]["directive"].startswith("task_graph(window")


def test_schedule_node_is_the_program_frame() -> None:
    from app.run_nodes import schedule_node

    doc = load("attention")
    frame = _sched(doc, "workload.def")
    inner = next(n.id for n in doc.graph.nodes.values() if n.parent == frame)
    assert schedule_node(doc, frame, "task_graph(deps=explicit)") == frame
    assert schedule_node(doc, inner, "streams") == frame  # a line inside the workload
    tensor = _sched(doc, "data.tensor")
    assert schedule_node(doc, tensor, "allreduce") == tensor  # outside every program
    assert schedule_node(doc, None, "streams") is None


def test_history_gives_each_workdir_its_own_number(tmp_path: Path) -> None:
    """A run that failed is never added; the next run still gets the next folder."""

    def result_in(folder: Path) -> RunResult:
        return RunResult(True, {}, None, [], [], 0, "", folder / "program.py", folder)

    history = RunHistory(max_runs=2, session_dir=tmp_path / "session")
    failed = history.new_workdir()
    ran = history.new_workdir()
    assert (failed.name, ran.name) == ("run-0001", "run-0002")
    kept = history.add(result_in(ran), "second")
    assert kept.run_id == 2
    elsewhere = result_in(tmp_path / "elsewhere")  # a sweep's run: a new number
    assert history.add(elsewhere, "a sweep's run").run_id == 3
    assert history.new_workdir().name == "run-0004"
    assert failed.is_dir()  # the newest max_runs unkept folders stay to be read
    history.new_workdir()
    assert not failed.exists()
