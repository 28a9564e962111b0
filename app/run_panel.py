"""The run loop of the Studio: Run/Cancel, the run views and the run history.

``RunPanel`` is the one object between the main window and a run. It owns the ``QtRunner``
(worker process, never in-process: a crashing kernel ends the worker, not the Studio), the
``RunHistory`` (earlier runs for Compare) and the docks that show a run: Timeline, Stats,
Sources, Log and Compare. The window only routes actions here and merges ``diagnostics`` (the
last run's errors, mapped to graph nodes) with its own validation problems.

Each run works on a *snapshot* of the document (``Document.copy``): the export happens in the
runner's thread and the user keeps editing meanwhile; the same snapshot derives the task -> node
mapping (``TaskNodeMap``), so a slice click selects the node that issued the task.

The timeline, stats and compare views always show the last *successful* run: a failed run
leaves them as they were (its errors are in the diagnostics dock and on the nodes), so "change,
run, compare" never loses the last good picture. They never pass for current when they are not:
a failed run, an edit after the run (``document_edited``) or another project marks them stale
with the reason, and the next shown run clears it. A run's diagnostics describe the document it
ran, so the first edit after the run drops them (the status bar says so once); the window's
live validation keeps checking the document as it is.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pto_wsp.backends import EMIT_ONLY_TARGETS
from pto_wsp.runtime.task_regions import TaskRegions
from pto_wsp.runtime.trace import write_chrome_trace
from pto_wsp.runtime.trace_analysis import ns_per_cycle_of, num_workers_of

from .editor.canvas import GraphCanvas
from .editor.run_labels import RunLabels
from .editor.run_path import RunPath
from .model import registry
from .model.document import Document
from .model.equality import same_as
from .run_highlights import (
    PathOnGraph,
    channel_name,
    critical_path_on_graph,
    data_task_masks,
    is_data,
)
from .run_nodes import TaskNodeMap, channel_labels, deadlock_nodes
from .runner.job import RunDiagnostic, RunResult
from .runner.qt_runner import QtRunner
from .runner.runs import RunHistory, RunRecord, compare_stats, summarize_schedule
from .views.compare import CompareView
from .views.slice_details import SliceDetailsPanel, link_to_timeline
from .views.slices import slice_text
from .views.sources import SourcesView
from .views.stats import StatsPanel
from .views.timeline import TimelineView
from .views.timeline_marks import READS_MARK, WRITES_MARK
from .views.verify import VerifyView

__all__ = ["RunPanel", "CompareDock", "LOG_MAX_LINES"]

LOG_MAX_LINES = 5000
ELAPSED_TICK_MS = 200
STALE_EDITED = "the document changed since this run"
STALE_EDITED_DURING = "the document changed during this run"
STALE_REASON_MAX = 160  # characters of an error line a stale banner quotes


def _with_deadlock_nodes(diags: list[RunDiagnostic], doc: Document) -> list[RunDiagnostic]:
    """A deadlock badges every process, consume, pipeline and channel node it involves.

    The runner's diagnostic names them (``processes`` / ``channels`` / ``events``); each node
    gets a diagnostic of its own (same kind and message) so the canvas badges it and the
    diagnostics dock lists it, one click from the node.
    """
    out: list[RunDiagnostic] = []
    for d in diags:
        out.append(d)
        if d.kind != "DeadlockError" or not (d.processes or d.channels or d.events):
            continue
        for node_id in deadlock_nodes(doc, d.processes, d.channels, d.events):
            if node_id != d.node_id:
                out.append(dataclasses.replace(d, node_id=node_id, file=None, line=None))
    return out


def _record_title(record: RunRecord) -> str:
    cycles = record.stats.get("total_cycles")
    text = f"#{record.run_id} {record.label}"
    return f"{text} — {cycles:,} cycles" if isinstance(cycles, int) else text


class CompareDock(QWidget):
    """Two run pickers over a ``CompareView``: what changed between any two kept runs."""

    def __init__(self, history: RunHistory, parent: QWidget | None = None):
        super().__init__(parent)
        self.history = history
        self.combo_a = QComboBox()
        self.combo_b = QComboBox()
        for combo in (self.combo_a, self.combo_b):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._refresh)
        swap = QPushButton("Swap")
        swap.setToolTip("Exchange runs A and B")
        swap.clicked.connect(self.swap)
        pickers = QHBoxLayout()
        pickers.addWidget(QLabel("A:"))
        pickers.addWidget(self.combo_a, 1)
        pickers.addWidget(QLabel("B:"))
        pickers.addWidget(self.combo_b, 1)
        pickers.addWidget(swap)
        self.message = QLabel()  # why there is nothing to compare (hidden when there is)
        self.message.setWordWrap(True)
        self.schedules = QLabel()  # the runs' schedules and stats, in the view's "Runs" tab
        self.schedules.setWordWrap(True)
        self.schedules.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.schedules.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = CompareView()  # scrolls its own timelines: the dock keeps its height
        runs = QScrollArea()
        runs.setWidgetResizable(True)
        runs.setWidget(self.schedules)
        self.view.tabs.addTab(runs, "Runs")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(pickers)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        self.reload()

    def reload(self, a: int | None = None, b: int | None = None) -> None:
        """Refill the pickers from the history; select runs ``a`` and ``b`` (ids) if given,
        else the two most recent runs (A the older)."""
        runs = self.history.runs
        ids = [r.run_id for r in runs]
        if a is None or b is None:
            b = ids[-1] if ids else None
            a = ids[-2] if len(ids) > 1 else b
        for combo, pick in ((self.combo_a, a), (self.combo_b, b)):
            combo.blockSignals(True)
            combo.clear()
            for r in runs:
                combo.addItem(_record_title(r), r.run_id)
            if pick is not None:
                combo.setCurrentIndex(combo.findData(pick))
            combo.blockSignals(False)
        self._refresh()

    def swap(self) -> None:
        a, b = self.combo_a.currentData(), self.combo_b.currentData()
        if a is not None and b is not None:
            self.reload(b, a)

    def selected(self) -> tuple[RunRecord, RunRecord] | None:
        a, b = self.combo_a.currentData(), self.combo_b.currentData()
        if a is None or b is None:
            return None
        try:
            return self.history.get(int(a)), self.history.get(int(b))
        except KeyError:
            return None

    def _say(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))
        if message:
            self.schedules.setText(message)

    def _refresh(self) -> None:
        pair = self.selected()
        if pair is None:
            self._say("Run the program twice to compare two runs.")
            return
        a, b = pair
        trace_a, trace_b = a.load_trace(), b.load_trace()
        if trace_a is None or trace_b is None:
            self._say("One of these runs has no trace left to compare.")
            return
        self._say("")
        self.view.set_runs(
            trace_a,
            a.kernel_names,
            trace_b,
            b.kernel_names,
            f"#{a.run_id}",
            f"#{b.run_id}",
            num_workers=(num_workers_of(a.stats), num_workers_of(b.stats)),
        )
        lines = [
            f"A #{a.run_id}: {a.schedule_summary}",
            f"B #{b.run_id}: {b.schedule_summary}",
        ]
        for d in compare_stats(a, b):
            if d.name != "total_cycles":  # the view's header states cycles
                lines.append(f"{d.name}: {d.a:g} -> {d.b:g} ({d.delta:+g})")
        self.schedules.setText("\n".join(lines))


class RunPanel(QObject):
    """Runs the open document and shows the outcome (see the module doc).

    Public state: ``runner`` (``QtRunner``), ``history`` (``RunHistory``), ``timeline``,
    ``stats``, ``sources``, ``log``, ``compare`` (``CompareDock``), their docks
    (``timeline_dock``...), ``busy`` (the status-bar busy bar), ``last_result`` (the last
    ``RunResult``, failed or not), ``shown_result`` (the run the views show), ``node_map``
    and ``diagnostics`` (the last run's ``RunDiagnostic``s worth showing).
    """

    run_started = Signal()
    run_ended = Signal(object)  # RunResult, after the views were updated
    diagnostics_changed = Signal()

    def __init__(
        self,
        window: QMainWindow,
        canvas: GraphCanvas,
        document: Callable[[], Document],
        *,
        history: RunHistory | None = None,
        grace_s: float = 2.0,
        run_env: Callable[[], Mapping[str, str]] | None = None,
    ):
        super().__init__(window)
        self.window = window
        self._run_env = run_env  # each run's environment overrides (the PTO-ISA root setting)
        self.canvas = canvas
        self.run_labels = RunLabels(canvas)
        self.run_path = RunPath(canvas)  # the critical path on the canvas
        self.path_on_graph: PathOnGraph | None = None
        self.critical_path_action: QAction | None = None
        self._graph_current = False  # the shown run is of the document as it stands
        self._document = document
        self.runner = QtRunner(self, grace_s=grace_s)
        self.history = history or RunHistory()
        self.last_result: RunResult | None = None
        self.shown_result: RunResult | None = None
        self.shown_record: RunRecord | None = None
        self.node_map: TaskNodeMap | None = None
        self.diagnostics: list[RunDiagnostic] = []
        self._stale_reasons: list[str] = []  # why the shown run is not current, in order
        self._after_run = False  # a run ended and the document was not edited since
        self._shown_doc: Document | None = None  # the document the shown run ran (a copy)
        self._shown_labels: dict[str, str] | None = None  # its channel labels on the canvas
        self._edited_in_run = False  # the document changed while the run was in flight
        self._outcome_message = ""  # the status-bar line the last run ended with
        self.highlighted: np.ndarray | None = None  # the trace rows outlined for the selection
        self._pending: tuple[Document, str] | None = None
        self._verifying = False  # the run in flight is Emit and Verify (``verify``)
        self._elapsed = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(ELAPSED_TICK_MS)
        self._tick.timeout.connect(self._update_busy)
        self._last_line = ""

        self._build_views()
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_done)
        self.timeline.slice_clicked.connect(self._on_slice_clicked)
        link_to_timeline(self.details, self.timeline)
        self.timeline.row_selected.connect(self._raise_details)
        self.canvas.selection_changed.connect(self.highlight_nodes)

    # ------------------------------------------------------------------------------------------
    # views
    # ------------------------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        return dock

    def _build_views(self) -> None:
        self.timeline = TimelineView()
        self.timeline.setObjectName("runTimeline")
        self.timeline_dock = self._dock("Timeline", "timelineDock", self.timeline)
        self.stats = StatsPanel()
        stats_scroll = QScrollArea()  # its long summary lines must not widen the right docks
        stats_scroll.setWidgetResizable(True)
        stats_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        stats_scroll.setWidget(self.stats)
        self.stats_dock = self._dock("Stats", "statsDock", stats_scroll)
        self.sources = SourcesView()
        self.sources_dock = self._dock("Sources", "sourcesDock", self.sources)
        self.log = QPlainTextEdit()
        self.log.setObjectName("runLog")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(LOG_MAX_LINES)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_dock = self._dock("Log", "logDock", self.log)
        self.compare = CompareDock(self.history)
        self.compare_dock = self._dock("Compare", "compareDock", self.compare)
        self.details = SliceDetailsPanel()
        self.details_dock = self._dock("Details", "detailsDock", self.details)
        self.verify_view = VerifyView()
        self.verify_view.setObjectName("verifyView")
        self.verify_dock = self._dock("Verify", "verifyDock", self.verify_view)

        self.busy = QProgressBar()
        self.busy.setObjectName("runBusy")
        self.busy.setRange(0, 0)  # indeterminate: a run reports lines, not a percentage
        self.busy.setMaximumWidth(140)
        self.busy.setTextVisible(False)
        self.busy_label = QLabel()
        bar = self.window.statusBar()
        bar.addPermanentWidget(self.busy_label)
        bar.addPermanentWidget(self.busy)
        self.busy.hide()
        self.busy_label.hide()

    @property
    def docks(self) -> list[QDockWidget]:
        return [
            self.timeline_dock,
            self.compare_dock,
            self.log_dock,
            self.stats_dock,
            self.sources_dock,
            self.details_dock,
            self.verify_dock,
        ]

    # ------------------------------------------------------------------------------------------
    # running
    # ------------------------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.runner.is_running()

    def run(self) -> bool:
        """Export the open document and run it in a worker process; False if none started."""
        return self._start(verify=False, extra_args=())

    def verify(self, pto_isa_root: str = "") -> bool:
        """Emit and Verify: the worker emits the ascend_npu kernels, runs them on the host
        against PTO-ISA (``pto_isa_root``, else the worker's ``$PTO_ISA_ROOT``) and compares
        them with cpu_sim (``run_main --verify``); the Verify dock shows the report per
        kernel. False if none started."""
        extra = ["--verify", *(["--pto-isa", pto_isa_root] if pto_isa_root else [])]
        return self._start(verify=True, extra_args=extra)

    def show_verify_problem(self, message: str) -> None:
        """Emit and Verify cannot start (no PTO-ISA root, no clang-19): say why, in the Verify
        dock and the status bar."""
        self.verify_view.set_setup(message)
        self.verify_dock.show()
        self.verify_dock.raise_()
        self._message(message, 15000)

    def ptoisa_root_changed(self, problem: str | None, root: str) -> None:
        """The PTO-ISA root setting changed: a Verify dock that said why Emit and Verify cannot
        start says what is true now (``problem``, else ready with ``root``); a run's report
        or failure stays (it names the root it ran with)."""
        if self._verifying or not self.verify_view.showing_setup:
            return
        self.verify_view.set_setup(
            problem
            or f"PTO-ISA root: {root}. Run > Emit and Verify (Ctrl+F5) builds the "
            "ascend_npu kernels against it and compares them with cpu_sim."
        )

    def _start(self, *, verify: bool, extra_args: list[str] | tuple[str, ...]) -> bool:
        if self.runner.is_running():
            self._message("A run is already in progress (Esc cancels it)")
            return False
        doc = self._document().copy()
        label = doc.name or "untitled"
        self._pending = (doc, label)
        self._verifying = verify
        self._edited_in_run = False
        if not any(
            n.kind in registry.PROGRAM_KINDS and n.props.get("target")
            for n in doc.graph.nodes.values()
        ):
            self._finish(self._nothing_to_run())
            return False
        self.diagnostics = []
        self.diagnostics_changed.emit()
        stamp = time.strftime("%H:%M:%S")
        what = "emit and verify" if verify else "run"
        self.log.appendPlainText(f"=== {stamp} {what} {label}: {summarize_schedule(doc)}")
        if verify:
            self.verify_view.set_running()
            self.verify_dock.show()
            self.verify_dock.raise_()
        self._last_line = ""
        self._elapsed.start()
        self._tick.start()
        self.busy.show()
        self.busy_label.show()
        self._update_busy()
        env = dict(self._run_env()) if self._run_env is not None else {}
        self.runner.start(doc, self.history.new_workdir(), extra_args, env)
        self.run_started.emit()
        return True

    def cancel(self) -> bool:
        """Stop the current run (SIGTERM, then SIGKILL); False when nothing runs."""
        if not self.runner.is_running():
            return False
        self.runner.cancel()
        self.busy_label.setText("Cancelling…")
        return True

    def shutdown(self) -> None:
        """Stop any run, wait for its thread and delete the kept runs (the window goes away)."""
        self.runner.shutdown()
        self._tick.stop()
        self.history.close()

    def _nothing_to_run(self) -> RunResult:
        workdir = self.history.new_workdir()
        message = (
            "nothing to run: no workload is compiled — pick a target (cpu_sim) on a "
            "workload's schedule sheet in Properties"
        )
        return RunResult(
            ok=False,
            stats={},
            trace=None,
            kernel_names=[],
            diagnostics=[RunDiagnostic(None, None, None, "NothingToRun", message)],
            returncode=None,
            stderr_tail="",
            script_path=workdir / "program.py",
            artifact_dir=workdir,
        )

    def _update_busy(self) -> None:
        seconds = self._elapsed.elapsed() / 1000.0 if self._elapsed.isValid() else 0.0
        line = f" — {self._last_line}" if self._last_line else ""
        self.busy_label.setText(f"Running… {seconds:.1f} s{line}")

    def _on_progress(self, line: str) -> None:
        self.log.appendPlainText(line)
        if line.strip():
            self._last_line = line.strip()[:80]
            self._update_busy()

    def _on_done(self, result: RunResult) -> None:
        self._tick.stop()
        self.busy.hide()
        self.busy_label.hide()
        self._finish(result)

    def _finish(self, result: RunResult) -> None:
        assert self._pending is not None
        doc, label = self._pending
        self._pending = None
        self.last_result = result
        if self._verifying:
            self._verifying = False
            self._finish_verify(result, doc)
            return
        emitted = self._emit_only(result)
        shown = [d for d in result.diagnostics if d.kind != "Cancelled"]
        if emitted:  # the refusal to execute is the expected outcome, not an error here
            shown = [d for d in shown if d.kind != "CompileError"]
        self.diagnostics = _with_deadlock_nodes(shown, doc)
        self._log_outcome(result)
        artifact = result.stats.get("artifact_dir")
        if artifact or result.ok:
            # The script that ran comes first and opens, to compare with the spec; an
            # emit-only run opens the entry point of the tree it emitted (its product).
            script = result.script_path if result.script_path.is_file() else None
            self.sources.set_root(artifact or None, script, open_script=not emitted)
        if result.ok and result.trace is not None:
            self._show_run(result, doc, label)
        elif emitted:
            self._mark_stale(f"the last run emitted {result.stats.get('target')} sources only")
            self.sources_dock.show()
            self.sources_dock.raise_()
            self._message(
                f"Emitted the {result.stats.get('target')} source tree to {artifact}"
                f"{self._warning_note()}",
                10000,
            )
        elif result.cancelled:
            self._message("Run cancelled")
        else:
            first = next((d for d in result.errors), None)
            verb = "crashed" if result.crashed else "failed"
            # The status bar holds one line; the whole message (a compiler's report with its
            # caret) is in the Diagnostics dock, its tooltip and the log.
            head = first.message.splitlines()[0] if first and first.message else "see the log"
            more = " (details in Diagnostics)" if first and "\n" in first.message else ""
            self._message(f"Run {verb}: {head}{more}", 10000)
            quoted = head if len(head) <= STALE_REASON_MAX else head[: STALE_REASON_MAX - 1] + "…"
            self._mark_stale(f"the last run {verb}: {quoted}")
        if self._edited_in_run:  # the run is of a snapshot taken before those edits
            self._mark_stale(STALE_EDITED_DURING)
        self._after_run = True
        self._outcome_message = self.window.statusBar().currentMessage()
        self.diagnostics_changed.emit()
        self.run_ended.emit(result)

    def _finish_verify(self, result: RunResult, doc: Document) -> None:
        """An Emit and Verify run ended: the report in the Verify dock, the emitted tree in
        Sources, a kernel that does not verify in Diagnostics. The timeline keeps the last run
        (verifying runs no schedule)."""
        shown = [d for d in result.diagnostics if d.kind != "Cancelled"]
        self.diagnostics = _with_deadlock_nodes(shown, doc)
        self._log_outcome(result)
        report = result.stats.get("verify")
        artifact = result.stats.get("artifact_dir")
        if artifact:
            script = result.script_path if result.script_path.is_file() else None
            self.sources.set_root(artifact, script, open_script=False)
        if isinstance(report, dict):
            self.verify_view.set_report(report)
            self._message(self.verify_view.headline.text(), 15000)
        elif result.cancelled:
            self.verify_view.set_error("Emit and Verify was cancelled.")
            self._message("Emit and Verify cancelled")
        else:
            first = next((d for d in result.errors), None)
            text = first.message if first and first.message else "see the log"
            self.verify_view.set_error(f"Emit and Verify failed: {text}")
            self._message(f"Emit and Verify failed: {text.splitlines()[0]}", 15000)
        self.verify_dock.show()
        self.verify_dock.raise_()
        if self._edited_in_run:
            self._mark_stale(STALE_EDITED_DURING)
        self._after_run = True
        self._outcome_message = self.window.statusBar().currentMessage()
        self.diagnostics_changed.emit()
        self.run_ended.emit(result)

    def _emit_only(self, result: RunResult) -> bool:
        stats = result.stats
        return (
            stats.get("target") in EMIT_ONLY_TARGETS
            and not stats.get("executed", False)
            and bool(stats.get("artifact_dir"))
        )

    def _show_run(self, result: RunResult, doc: Document, label: str) -> None:
        summary = summarize_schedule(doc)
        record = self.history.add(result, label, summary)
        trace = record.load_trace()
        assert trace is not None
        self.node_map = TaskNodeMap(doc, result.kernel_names)
        self.shown_result, self.shown_record = result, record
        self.show_critical_path(False)  # the last run's path is not this one's
        self._graph_current = not self._edited_in_run
        self._stale_reasons = []  # set_run hides the banners: this run is of the open document
        self.timeline.set_run(
            trace,
            result.kernel_names,
            f"#{record.run_id} {summary}",
            self.node_map.node_of,
            csp=result.csp,
            num_workers=num_workers_of(result.stats),
        )
        # the range selection's duration also reads in time at the run's cost-table clock
        self.timeline.set_clock(ns_per_cycle_of(result.stats))
        regions = TaskRegions(result.sites, trace) if result.sites is not None else None
        self.details.set_run(trace, result.kernel_names, regions, ns_per_cycle_of(result.stats))
        self.stats.set_run(result.stats, trace, result.kernel_names)
        peaks = result.csp.peak_occupancy() if result.csp is not None else {}
        self._shown_doc = doc
        self._shown_labels = channel_labels(doc, peaks)
        self.run_labels.show(self._shown_labels)
        self.compare.reload()
        if self.critical_path_action is not None:
            self.critical_path_action.setEnabled(True)
        self.highlight_nodes(self.canvas.selected_ids())
        self.timeline_dock.show()
        self.timeline_dock.raise_()
        s = result.stats
        self._message(
            f"Run #{record.run_id} finished: {s.get('task_count', 0):,} tasks, "
            f"{s.get('total_cycles', 0):,} cycles ({result.duration_s:.1f} s)"
            f"{self._warning_note()}",
            10000,
        )

    def _warning_note(self) -> str:
        """`` — N warnings (see Diagnostics)`` for the shown diagnostics, else ``""``."""
        n = sum(1 for d in self.diagnostics if d.severity == "warning")
        return f" — {n} warning{'s' if n != 1 else ''} (see Diagnostics)" if n else ""

    def _log_outcome(self, result: RunResult) -> None:
        for d in result.diagnostics:
            self.log.appendPlainText(str(d))
        if not result.ok and result.stderr_tail and not result.cancelled:
            self.log.appendPlainText(result.stderr_tail)
        state = "ok" if result.ok else "cancelled" if result.cancelled else "failed"
        self.log.appendPlainText(
            f"--- {state} ({result.duration_s:.2f} s) in {result.artifact_dir}"
        )

    def _message(self, text: str, timeout_ms: int = 5000) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    # ------------------------------------------------------------------------------------------
    # timeline <-> graph
    # ------------------------------------------------------------------------------------------
    def _mark_stale(self, why: str) -> None:
        """Label the Timeline and Stats as showing an earlier run (``why`` it is not current).

        Reasons add up until a run is shown ("the document changed since this run; the last run
        failed: ..."): each is still true, and the user should not have to guess which."""
        record = self.shown_record
        if record is None:
            return
        if why not in self._stale_reasons:
            self._stale_reasons.append(why)
        reasons = "; ".join(self._stale_reasons)
        text = f"stale: from {record.label} (run #{record.run_id}) — {reasons}; run again (F5)"
        self.timeline.stale_banner.set_stale(text)
        self.stats.stale_banner.set_stale(text)
        self.run_labels.clear()

    @property
    def stale(self) -> bool:
        """The Timeline and Stats show a run that is not of the open document as it stands."""
        return self.timeline.stale_banner.stale

    def document_edited(self, *_event: object) -> None:
        """An edit, undo or redo changed what the open document runs (the window calls this
        for every such model event, so it is cheap after the first one following a run).

        The shown run is then of an earlier document: Timeline and Stats say so. The last run's
        diagnostics described that earlier document (an undo may just have fixed what they
        report), so they are dropped, once, with a note in the status bar; listeners hear of it
        after the edit completes, never halfway through a command's events.

        The critical path drawn on the canvas names nodes and wires of that earlier document:
        it goes (the toggle turns off), on the timeline too."""
        self._graph_current = False
        if self.run_path.shown or self.timeline.critical_path_shown:
            self.show_critical_path(False)
        if self.runner.is_running():
            self._edited_in_run = True
            return
        if self._back_to_shown_run():
            return
        if not self._after_run:
            return
        self._after_run = False
        self._mark_stale(STALE_EDITED)
        bar = self.window.statusBar()
        if self.diagnostics:
            n = len(self.diagnostics)
            self.diagnostics = []
            QTimer.singleShot(0, self, self.diagnostics_changed.emit)
            what = f"{n} run diagnostic{'s' if n != 1 else ''}"
            self._message(
                f"Cleared the last run's {what}: the document changed since; run again (F5)",
                8000,
            )
        elif self._outcome_message and bar.currentMessage() == self._outcome_message:
            bar.clearMessage()  # "Run failed: ..." / "Run #3 finished ..." is of another document
        self._outcome_message = ""

    def _back_to_shown_run(self) -> bool:
        """The document again runs what the shown run ran (an Undo took back the edits since;
        positions do not count): the banners go, the run is current again. Only when the edits
        are all that made it stale (a failed run since, another project: it stays stale)."""
        if self._shown_doc is None or not set(self._stale_reasons) <= {STALE_EDITED}:
            return False
        if not same_as(self._document(), self._shown_doc):
            return False
        if self._stale_reasons:
            self._stale_reasons = []
            self.timeline.stale_banner.set_stale(None)
            self.stats.stale_banner.set_stale(None)
            if self._shown_labels is not None:
                self.run_labels.show(self._shown_labels)
        self._graph_current = True
        self._after_run = True  # the next edit makes it stale again
        return True

    def document_replaced(self) -> None:
        """Another document was opened: its nodes are not the ones the shown run came from;
        Details (a slice of that run) and Verify (a report on that document) clear."""
        self._stale_reasons = []  # what was true of the old document does not matter here
        self._shown_doc = None
        self.details.show_row(None)
        if not self._verifying:
            self.verify_view.reset()
        self._after_run = False
        self._mark_stale("another project is open")
        self._graph_current = False
        self.show_critical_path(False)
        self.node_map = None
        self.highlighted = None
        self.timeline.highlight_tasks(None)
        self._mark_selection([])
        if self.diagnostics:
            self.diagnostics = []
            self.diagnostics_changed.emit()

    def highlight_nodes(self, node_ids: list[str]) -> None:
        """Outline the slices of the tasks the selected nodes issued."""
        trace = self.timeline.trace
        if trace is None or self.node_map is None:
            self.highlighted = None
            return
        mask = np.zeros(len(trace), dtype=bool)
        for node_id in node_ids:
            mask |= self.node_map.task_mask(trace, node_id)
        self.highlighted = mask
        self.timeline.highlight_tasks(mask)
        self._mark_selection(node_ids)

    def _mark_selection(self, node_ids: list[str]) -> None:
        """A selected data node outlines the tasks that read it and those that write it, each
        in its own style; a selected channel brings its occupancy track forward."""
        trace = self.timeline.trace
        doc = self._document()
        data = [n for n in node_ids if is_data(doc, n)] if self.node_map is not None else []
        reads = writes = None
        if data and trace is not None and self.node_map is not None:
            reads = np.zeros(len(trace), dtype=bool)
            writes = np.zeros(len(trace), dtype=bool)
            for node_id in data:
                r, w = data_task_masks(doc, self.node_map, trace, node_id)
                reads |= r
                writes |= w
        names = ", ".join(doc.graph.nodes[n].name or n for n in data)
        self.timeline.mark_tasks(
            "reads", reads, dataclasses.replace(READS_MARK, label=f"reads {names}")
        )
        self.timeline.mark_tasks(
            "writes", writes, dataclasses.replace(WRITES_MARK, label=f"writes {names}")
        )
        channels = [c for c in (channel_name(doc, n) for n in node_ids) if c is not None]
        if channels:
            self.timeline.focus_channel(channels[0])
        elif self.timeline.focused_channel is not None:
            self.timeline.focus_channel(None)

    # ------------------------------------------------------------------------------------------
    # critical path
    # ------------------------------------------------------------------------------------------
    def attach_critical_path_action(self, action: QAction) -> None:
        """The window's View > Critical Path toggle, also a button in the timeline's header
        (enabled once a run is shown)."""
        self.critical_path_action = action
        action.setEnabled(self.has_trace())
        button = QToolButton()
        button.setObjectName("criticalPathButton")
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.timeline.header.addWidget(button)
        self.critical_path_button = button

    def show_critical_path(self, on: bool) -> None:
        """Shows (``on``) or hides the shown run's critical path: outlined slices joined by
        arrows on the timeline and, while the run is of the document as it stands, its nodes
        and the wires carrying data between them on the canvas."""
        action = self.critical_path_action
        trace = self.timeline.trace
        on = on and trace is not None
        if action is not None and action.isChecked() != on:
            with QSignalBlocker(action):
                action.setChecked(on)
        if not on or trace is None:
            self.timeline.highlight_critical_path(False)
            self.run_path.clear()
            self.path_on_graph = None
            return
        cp = self.timeline.highlight_critical_path(True)
        if self.node_map is not None and self._graph_current:
            path = critical_path_on_graph(self._document(), self.node_map, trace, cp.rows)
            self.path_on_graph = path
            self.run_path.show(path.nodes + path.data, path.edges)
        n = len(cp.tasks)
        self._message(f"Critical path: {n:,} task{'s' if n != 1 else ''} outlined in the Timeline")

    def _node_mask(self, node_id: str) -> np.ndarray | None:
        trace = self.timeline.trace
        if trace is None or self.node_map is None:
            return None
        return self.node_map.task_mask(trace, node_id)

    def slice_count(self, node_id: str) -> int:
        """How many slices of the shown run ``node_id`` issued (0: none, or no current run)."""
        mask = self._node_mask(node_id)
        return int(mask.sum()) if mask is not None else 0

    def show_node_slices(self, node_id: str) -> int:
        """Select ``node_id``, outline its slices, zoom the timeline to them and bring the
        Timeline forward (the node menu's "Show Slices in Timeline"); the slice count."""
        mask = self._node_mask(node_id)
        trace = self.timeline.trace
        if mask is None or trace is None or not mask.any():
            self._message("No slices of this node in the shown run: run the program (F5)")
            return 0
        self.canvas.select_ids([node_id])  # highlights through selection_changed
        self.highlight_nodes([node_id])
        start = float(trace["start"][mask].min())
        end = float(trace["end"][mask].max())
        self.timeline.view_box.setXRange(start, max(end, start + 1.0), padding=0.05)
        self.timeline_dock.show()
        self.timeline_dock.raise_()
        count = int(mask.sum())
        self._message(f"{count:,} slice{'s' if count != 1 else ''} outlined in the Timeline")
        return count

    def _raise_details(self, row: int | None) -> None:
        """A selected slice brings its Details forward (unless the user closed the dock)."""
        if row is not None and not self.details_dock.isHidden():
            self.details_dock.raise_()

    def _on_slice_clicked(self, record: np.void) -> None:
        text = slice_text(record, self.timeline.kernel_names, self.timeline.trace)
        text = text.replace("\n", " · ")
        node_id = self.node_map.node_of(record) if self.node_map is not None else None
        if node_id is not None and self._document().locate(node_id) is not None:
            self.canvas.select_node(node_id)
        self._message(text, 8000)

    # ------------------------------------------------------------------------------------------
    # results leaving the app
    # ------------------------------------------------------------------------------------------
    def has_trace(self) -> bool:
        return self.shown_record is not None and self.timeline.trace is not None

    def write_chrome_trace(self, path: str | os.PathLike[str]) -> Path:
        """Write the shown run's trace as Chrome trace-event JSON (Perfetto, chrome://tracing).

        Cycles become microseconds at the stats' ``ns_per_cycle`` (1 ns per cycle when the
        runner does not report one, as ``pto-wsp run --chrome-trace`` does); ``args`` keep the
        exact cycles. ``RuntimeError`` when no run was shown yet.
        """
        record, trace = self.shown_record, self.timeline.trace
        if record is None or trace is None:
            raise RuntimeError("no run to export: run the program first")
        ns = ns_per_cycle_of(record.stats) or 1.0
        return write_chrome_trace(  # streamed, atomically: 10^6 tasks in about a second
            Path(path),
            trace,
            record.kernel_names,
            ns,
            process_name=f"pto-wsp run #{record.run_id}",
            num_workers=num_workers_of(record.stats),
            csp=self.shown_result.csp if self.shown_result is not None else None,
        )
