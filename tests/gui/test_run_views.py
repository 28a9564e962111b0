"""The run loop in the main window, driven as a user would: F5, the timeline, Compare, Esc.

Every run is a real worker process (``QtRunner``); the tests wait for ``RunPanel.run_ended``
with a generous timeout (a fresh build cache compiles the program first) and then check what
the user sees: slices against the trace file the simulator wrote, badges on nodes, the
diagnostics dock, the compare header.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from test_main_window import press, shown_window

from app.main_window import MainWindow
from app.model import commands as cmds
from app.model import indexing, io
from app.model.document import Document, Node
from app.run_nodes import TaskNodeMap
from app.runner.job import RunResult
from app.views.sources import PATH_ROLE, lexer_for

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "app" / "projects" / "attention_varlen.pto.json"
MATMUL = ROOT / "app" / "projects" / "matmul.pto.json"
RUN_TIMEOUT_MS = 240_000
NULL_DEREF_CPP = "volatile uintptr_t addr = 0; *(volatile float*)addr = 1.0f;"

pytestmark = pytest.mark.slow


@pytest.fixture
def make_window(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Path], MainWindow]]:
    """A shown main window on a project, scripted dialogs; runs stopped, closed at teardown."""
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)

    def make(project: Path) -> MainWindow:
        window = shown_window(qtbot, settings)
        assert window.open_path(project)
        return window

    yield make  # qtbot closes each window (before_close first) before this finalizer


def run_with_f5(qtbot: Any, window: MainWindow) -> RunResult:
    """Press F5 as a user would and wait for the run to end; its result."""
    window.canvas.viewer.setFocus()
    with qtbot.waitSignal(window.run_panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        press(qtbot, window, "F5")
        assert window.run_panel.is_running()
        assert window.run_panel.busy.isVisible()  # the status bar's busy indicator
        assert window.actions["cancel_run"].isEnabled()
        assert not window.actions["run"].isEnabled()
    assert not window.run_panel.busy.isVisible()
    assert window.actions["run"].isEnabled() and not window.actions["cancel_run"].isEnabled()
    return ended.args[0]


def node_of_kind(doc: Document, kind: str) -> Node:
    (node,) = [n for n, _g, _o in doc.walk() if n.kind == kind]
    return node


def diagnostic_items(window: MainWindow) -> list[tuple[str, str]]:
    lst = window.diagnostics_list
    return [
        (lst.item(i).text(), lst.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(lst.count())
    ]


def click_slice(qtbot: Any, window: MainWindow, row: int) -> None:
    timeline = window.run_panel.timeline
    centre = timeline.view_pos_of(row)
    scene = timeline.view_box.mapViewToScene(QPointF(centre.x(), centre.y()))
    pos = timeline.plot.mapFromScene(scene)
    qtbot.mouseClick(timeline.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)


# ------------------------------------------------------------------------------------------


def test_run_the_sample_then_timeline_stats_sources_and_trace_export(
    qtbot: Any, make_window: Callable[[Path], MainWindow], tmp_path: Path
) -> None:
    window = make_window(SAMPLE)
    panel = window.run_panel
    assert not window.actions["export_trace"].isEnabled()  # nothing to export yet
    result = run_with_f5(qtbot, window)
    assert result.ok, [str(d) for d in result.diagnostics]
    task_count = result.stats["task_count"]
    assert task_count > 0

    # The timeline holds exactly the simulator's tasks, with the cycles of the trace file.
    on_disk = np.load(result.artifact_dir / "trace.npy")
    timeline = panel.timeline
    assert timeline.item.slice_count == task_count == len(on_disk)
    rows, starts, ends = timeline.item.slice_rows()
    assert sorted(rows.tolist()) == list(range(task_count))
    assert starts.tolist() == on_disk["start"][rows].tolist()
    assert ends.tolist() == on_disk["end"][rows].tolist()
    assert timeline.lanes.makespan == result.stats["total_cycles"]
    # the run's cost-table clock reaches the range selection (durations also read in time)
    assert timeline.range_selection.ns_per_cycle == result.stats["ns_per_cycle"] == 1.0
    assert timeline.mode_box.isEnabled()  # the sample's schedule has streams
    timeline.set_lane_mode("streams")
    assert timeline.item.slice_count == task_count
    timeline.set_lane_mode("workers")

    # Stats and Sources follow the run.
    assert panel.stats.value_text("task_count") == f"{task_count:,}"
    assert panel.stats.value_text("total_cycles") == f"{result.stats['total_cycles']:,}"
    assert result.stats["artifact_dir"]
    assert panel.sources.root == Path(result.stats["artifact_dir"])
    assert panel.sources.files()  # the emitted C++ of the program
    # The exported DSL script that ran is the first entry and is what opens: it is what a
    # user compares with the spec. A click on an emitted C++ file still shows the C++.
    sources = panel.sources
    panel.sources_dock.raise_()  # the user brings the Sources tab to the front
    qtbot.waitExposed(sources.tree)
    assert sources.model.index(0, 0).data(PATH_ROLE) == str(result.script_path)
    assert sources.files()[0] == result.script_path.as_posix()
    assert sources.current_file == result.script_path
    assert lexer_for(sources.current_file).name == "Python"
    assert "attn_kernel[b, h](Q=Q[b, h], K=K[b], V=V[b], O=O[b, h])" in (
        sources.viewer.toPlainText()
    )
    cpp = next(f for f in sources.files()[1:] if f.endswith(".cpp"))
    (row,) = sources.model.match(
        sources.model.index(0, 0), PATH_ROLE, str(sources.root / cpp), 1,
        Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive,
    )  # fmt: skip
    sources.tree.scrollTo(row)
    with qtbot.waitSignal(sources.fileOpened, timeout=5000):
        qtbot.mouseClick(
            sources.tree.viewport(),
            Qt.MouseButton.LeftButton,
            pos=sources.tree.visualRect(row).center(),
        )
    assert sources.current_file == sources.root / cpp
    assert lexer_for(sources.current_file).name == "C++"
    assert sources.viewer.toPlainText() == (sources.root / cpp).read_text()
    assert window.diagnostics == [] and window.run_diagnostics == []
    assert any(line.startswith("ProgramStats(") for line in panel.log.toPlainText().splitlines())

    # Clicking a slice selects the kernel.call that issued it (one call site) ...
    call = node_of_kind(window.document, "kernel.call")
    kdef = node_of_kind(window.document, "kernel.def")
    window.canvas.select_node(kdef.id)
    with qtbot.waitSignal(window.canvas.selection_changed, timeout=5000):
        click_slice(qtbot, window, 5)
    assert window.canvas.selected_ids() == [call.id]
    # ... and selecting it outlines the slices of its tasks (here: every task).
    assert panel.highlighted is not None and panel.highlighted.all()
    tensor = next(n for n in window.document.graph.nodes.values() if n.kind == "data.tensor")
    window.canvas.select_node(tensor.id)
    assert panel.highlighted is not None and not panel.highlighted.any()
    # ... and so does a timeline search match (Ctrl+F, a query, Enter).
    search = panel.timeline.search_bar
    panel.timeline.open_search()
    qtbot.keyClicks(search.edit, "attn_kernel[0, *]")
    with qtbot.waitSignal(window.canvas.selection_changed, timeout=5000):
        qtbot.keyClick(search.edit, Qt.Key.Key_Return)
    assert window.canvas.selected_ids() == [call.id]
    assert search.text.startswith("1 of ") and not search.text.endswith(" of 1")
    row = panel.timeline.selected_row
    assert row is not None and int(panel.timeline.trace["idx0"][row]) == 0
    qtbot.keyClick(search.edit, Qt.Key.Key_Escape)

    # File > Export Trace… writes Chrome trace-event JSON with the same cycles.
    assert window.actions["export_trace"].isEnabled()
    out = tmp_path / "attention.trace.json"
    window.dialogs.paths.append(out)  # type: ignore[attr-defined]
    window.actions["export_trace"].trigger()
    events = json.loads(out.read_text())["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    assert len(slices) == task_count
    by_task = {e["args"]["task"]: e for e in slices}
    for rec in on_disk:  # at the sample's 1 ns per cycle, ts and dur in ns are the cycles
        event = by_task[int(rec["task"])]
        assert "start_cycle" not in event["args"]
        assert (round(event["ts"] * 1000), round(event["dur"] * 1000)) == (
            int(rec["start"]),
            int(rec["end"]) - int(rec["start"]),
        )
        assert event["name"] == "attn_kernel"


def test_type_error_in_a_kernel_body_badges_the_node_and_lists_it(
    qtbot: Any, make_window: Callable[[Path], MainWindow]
) -> None:
    window = make_window(MATMUL)
    kern = node_of_kind(window.document, "kernel.def")
    params = [dict(p) for p in kern.props["params"]]
    params[1]["rows"] = 16  # b: 16x16, so a(16x32) @ b has mismatched inner dimensions
    window.editor.apply(cmds.SetProperty(kern.id, "params", params))
    tensor_b = next(n for n in window.document.graph.nodes.values() if n.name == "B")
    # the call passes B whole: a view that fits the 16x16 b, so the run (not the live shape
    # check) finds the fault, inside the kernel body
    window.editor.apply(cmds.SetProperty(tensor_b.id, "shape", [16, 16]))
    op = next(n for n in kern.body.nodes.values() if n.kind == "pto.matmul")

    result = run_with_f5(qtbot, window)
    assert not result.ok and not result.crashed
    badges = window.canvas.diagnostics_of(op.id)
    assert any("TypeCheckError" in b and "inner dimensions differ" in b for b in badges)
    items = [(text, node) for text, node in diagnostic_items(window) if node == op.id]
    assert items and "TypeCheckError" in items[0][0]
    assert window.diagnostics_dock.isVisible()

    # Double-clicking the diagnostic selects the node (entering the kernel's body).
    lst = window.diagnostics_list
    row = next(i for i in range(lst.count()) if lst.item(i).data(Qt.ItemDataRole.UserRole) == op.id)
    rect = lst.visualItemRect(lst.item(row))
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.canvas.selected_ids() == [op.id]

    # Fixing the properties (B's shape, then b's tile) and running again clears the badge.
    window.editor.undo()
    window.editor.undo()
    assert run_with_f5(qtbot, window).ok
    qtbot.waitUntil(lambda: not window.canvas.diagnostics_of(op.id), timeout=5000)


def test_crashing_kernel_leaves_the_app_alive_with_a_crash_diagnostic(
    qtbot: Any, make_window: Callable[[Path], MainWindow]
) -> None:
    window = make_window(MATMUL)
    kern = node_of_kind(window.document, "kernel.def")
    ops = [n.id for n in kern.body.nodes.values() if n.kind not in ("scope.entry", "kernel.param")]
    window.editor.apply(cmds.RemoveNodes(ops))
    window.editor.apply(cmds.SetProperty(kern.id, "cpp_src", NULL_DEREF_CPP))

    result = run_with_f5(qtbot, window)
    assert result.crashed and not result.ok
    assert window.isVisible()
    (crash,) = [d for d in window.run_diagnostics if d.kind == "Crash"]
    assert crash.node_id == kern.id and "SIGSEGV" in crash.message
    assert any("Crash" in b for b in window.canvas.diagnostics_of(kern.id))
    assert any(node == kern.id and "Crash" in text for text, node in diagnostic_items(window))
    assert "crashed" in window.statusBar().currentMessage()

    # The studio goes on: undo the custom C++ and the removal, run again, it succeeds.
    window.editor.undo()
    window.editor.undo()
    again = run_with_f5(qtbot, window)
    assert again.ok and window.run_panel.timeline.item.slice_count == again.stats["task_count"]


def test_a_cpp_src_that_does_not_compile_shows_the_compiler_message_with_a_caret(
    qtbot: Any, make_window: Callable[[Path], MainWindow]
) -> None:
    window = make_window(MATMUL)
    kern = node_of_kind(window.document, "kernel.def")
    ops = [n.id for n in kern.body.nodes.values() if n.kind not in ("scope.entry", "kernel.param")]
    window.editor.apply(cmds.RemoveNodes(ops))
    window.editor.apply(cmds.SetProperty(kern.id, "cpp_src", "float v = ;"))

    result = run_with_f5(qtbot, window)
    assert not result.ok and not result.crashed
    text = next(text for text, node in diagnostic_items(window) if node == kern.id)
    assert f"cpp_src of kernel {kern.name}:1:" in text and "error:" in text
    assert "float v = ;" in text and "^" in text  # the source line and a caret under the column
    status = window.statusBar().currentMessage()
    assert "\n" not in status and status.endswith("(details in Diagnostics)")


def test_change_dispatch_policy_run_again_and_compare(
    qtbot: Any, make_window: Callable[[Path], MainWindow]
) -> None:
    window = make_window(SAMPLE)
    first = run_with_f5(qtbot, window)
    assert first.ok
    dispatch = node_of_kind(window.document, "workload.def")  # its sheet dispatches
    assert dispatch.props["dispatch"] == "affinity"
    window.editor.apply(cmds.SetProperty(dispatch.id, "dispatch", "round_robin"))
    second = run_with_f5(qtbot, window)
    assert second.ok
    total_a, total_b = first.stats["total_cycles"], second.stats["total_cycles"]
    assert total_a != total_b  # the policy moved tasks between workers

    window.actions["compare_runs"].trigger()
    panel = window.run_panel
    assert panel.compare_dock.isVisible() and len(panel.history) == 2
    a, b = panel.compare.selected()
    assert (a.stats["total_cycles"], b.stats["total_cycles"]) == (total_a, total_b)
    assert "affinity" in a.schedule_summary and "round_robin" in b.schedule_summary
    view = panel.compare.view
    assert view.diff is not None and view.diff.delta == total_b - total_a
    header = view.header_text().splitlines()[0]
    assert f"{total_a} cycles" in header and f"{total_b} cycles" in header
    assert f"{total_b - total_a:+d} cycles" in header
    assert view.view_a.item.slice_count == first.stats["task_count"]
    assert view.view_b.item.slice_count == second.stats["task_count"]

    panel.compare.swap()
    assert view.diff.delta == total_a - total_b


def test_esc_cancels_a_run(qtbot: Any, make_window: Callable[[Path], MainWindow]) -> None:
    window = make_window(SAMPLE)
    window.canvas.viewer.setFocus()
    with qtbot.waitSignal(window.run_panel.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        press(qtbot, window, "F5")
        press(qtbot, window, "Esc")
    result = ended.args[0]
    assert result.cancelled and not result.ok
    assert window.run_diagnostics == []  # a cancel is not a problem of the graph
    assert window.statusBar().currentMessage() == "Run cancelled"
    assert not window.actions["cancel_run"].isEnabled()


def test_ascend_target_shows_the_emitted_npu_tree(
    qtbot: Any, make_window: Callable[[Path], MainWindow]
) -> None:
    window = make_window(SAMPLE)
    target = node_of_kind(window.document, "workload.def")  # its sheet compiles it
    window.editor.apply(cmds.SetProperty(target.id, "target", "ascend_npu"))
    result = run_with_f5(qtbot, window)
    assert result.stats["target"] == "ascend_npu" and not result.stats["executed"]
    root = Path(result.stats["artifact_dir"])
    assert window.run_panel.sources.root == root and window.run_panel.sources.files()
    assert window.run_panel.sources_dock.isVisible()
    # the script is listed above the NPU tree; the tree's entry point is what opens
    # (tests/gui/test_studio_defects.py, section 9)
    assert window.run_panel.sources.files()[0] == result.script_path.as_posix()
    # emit-only is the expected outcome here, not an error; what ascend_npu keeps only as
    # annotations (streams, stream_by) are warnings (tests/gui/test_diagnostics_warnings.py)
    assert [d.severity for d in window.run_diagnostics] == ["warning", "warning"]


def test_a_project_without_program_reports_what_to_add(
    qtbot: Any, make_window: Callable[[Path], MainWindow], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.pto.json"
    io.save(Document(name="empty"), empty)
    window = make_window(empty)
    assert not window.run()
    (diag,) = window.run_diagnostics
    assert (
        diag.kind == "NothingToRun"
        and "target" in diag.message
        and "schedule sheet" in diag.message
    )
    assert any("NothingToRun" in text for text, _ in diagnostic_items(window))


def test_task_node_map_falls_back_to_the_kernel_def_with_two_call_sites() -> None:
    doc = io.load(SAMPLE)
    call = node_of_kind(doc, "kernel.call")
    kdef = node_of_kind(doc, "kernel.def")
    loop = doc.node(call.parent)  # the frame around the call
    single = TaskNodeMap(doc, ["attn_kernel", "missing"])
    assert single.node_of_kernel(0) == call.id and single.node_of_kernel(1) is None
    assert single.kernels_of(loop.id) == [0]  # selecting the loop frame shows its tasks
    assert single.kernels_of(loop.parent) == [0]  # and the workload frame around it

    twin = Node(doc.next_id(), "kernel.call", "", (0.0, 0.0), dict(call.props), None, loop.id)
    doc.graph.nodes[twin.id] = twin  # a second call of the same kernel
    assert indexing.kernel_of(doc, twin) is kdef
    both = TaskNodeMap(doc, ["attn_kernel"])
    assert both.node_of_kernel(0) == kdef.id
    assert both.sites[0].call_ids == tuple(sorted((call.id, twin.id)))
    trace = np.zeros(3, dtype=[("kernel", np.int32)])
    assert both.task_mask(trace, twin.id).all() and not both.task_mask(trace, "nope").any()


ENTRY_SCRIPT = """
import sys
from PySide6.QtWidgets import QApplication
from app.__main__ import run_gui
from app.application import create_application

create_application(sys.argv[:1])
seen = {}

def finish(window):
    seen["slices"] = window.run_panel.timeline.item.slice_count
    window.close()
    QApplication.exit(0)

def on_shown(window):
    seen["running"] = window.run_panel.is_running()
    if seen["running"]:
        window.run_panel.run_ended.connect(lambda _result: finish(window))
    else:
        finish(window)

rc = run_gui(None, on_shown=on_shown, run=sys.argv[1] == "run")
print(rc, seen["running"], seen["slices"])
"""


@pytest.mark.parametrize("run", [True, False])
def test_gui_entry_point_runs_the_bundled_sample_unless_no_run(tmp_path: Path, run: bool) -> None:
    """``python -m app``'s window path (in its own process: it owns the event loop)."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # the user's settings stay out
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", ENTRY_SCRIPT, "run" if run else "no-run"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_MS / 1000,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rc, running, slices = done.stdout.split()[-3:]
    assert rc == "0" and running == str(run)
    assert (int(slices) > 0) is run
