"""The Sweep dock: vary one property over a list of values and plot the trade-off.

Pick a parameter (every sweepable property of the document, ``app.model.sweep``), type its
values (parsed live: the field says how many values it read, or which entry is wrong), Run
Sweep. Under the values field, the Linked section adds parameters set in lock step with the
swept one (Add Linked: a parameter picker and a values field parsed live like the primary's;
variant i sets each to its i-th value, so every list needs as many values) — a tile size is the
kernel's tile shapes, the axis size and the tensor shapes at once; a task graph's pools are
one parameter per row (``pools.<kernel>.workers``), so one kernel's workers can be traded
against another's by linking the two. The link rows stay with the dock for the session (a
reopened or another document keeps them; a row whose parameter is gone says so). Each value
becomes a variant document that is exported and run in a worker process by the
``SweepRunner`` the window hands in (``app.runner.qt_sweep.QtSweepRunner``: the loop of
``python -m app.sweep``; this view imports no runner), Jobs variants at once (auto: one per
core) on this machine or, with a Dask scheduler address in Cluster, on that cluster's workers
(both fields are kept in the window's settings); Cancel stops the running variants and skips the
rest. Every value has its row from the start (queued, running) and the rows and the plot fill
in as variants finish, in value order whatever order they finish in; the plot shows total cycles (left axis) and mean
utilisation (right axis, 0-100 %) against the swept value (a categorical axis for enums,
shapes and expressions); the table has one column per linked parameter. Clicking a point
selects its row; Open in Compare (or a double-click on a row) puts that variant's run
into the run history (through the window's ``keep_run``) and shows it in Compare.

The numbers are the model's (``SweepPoint``, computed by ``pto_wsp.runtime.trace_analysis``): exactly
what ``python -m app.sweep`` prints for the same project and values.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, Signal, SignalInstance
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..model import registry
from ..model.document import Document
from ..model.sweep import (
    RunOutcome,
    SweepError,
    SweepParam,
    SweepPoint,
    SweepResult,
    Variant,
    discover_params,
    format_value,
    make_variants,
    params_of_node,
    parse_values,
    write_csv,
)
from .cycle_axis import time_text

__all__ = ["SweepPanel", "LinkRow", "COLUMNS"]

COLUMNS = (
    "Value",
    "Status",
    "Error",
    "Total cycles",
    "Makespan",
    "Tasks",
    "Mean utilisation",
    "Lanes",
)
"""The table's columns without links; each linked parameter adds one (its label) after Mean
utilisation, so the value and its numbers stay in view in a narrow dock. Error comes right
after Status (shown only when some value failed, at most ``ERROR_MAX_PX`` wide, the whole text
in the row's tooltip): last, it was scrolled off the right of a narrow dock."""
_LINKS_AT = COLUMNS.index("Mean utilisation") + 1
CSV_FILTER = "CSV files (*.csv);;All files (*)"
CYCLES_COLOR = "#1f77b4"
UTIL_COLOR = "#ff7f0e"
_OK_STYLE = "color: #2ca02c"
_BAD_COLOR = "#d62728"
_BAD_STYLE = f"color: {_BAD_COLOR}"
LANES_MAX_PX = 180
ERROR_MAX_PX = 260
Y_HEADROOM = 1.3
"""The cycles axis spans 0 .. max * Y_HEADROOM: the top band keeps the legend off the data."""
_PLACEHOLDERS = {
    "int": "e.g. 1, 2, 4, 8  or  1..16 step 2  or  1..64 *2",
    "float": "e.g. 0.5, 1, 2  or  0.5..4 step 0.5",
    "number": "e.g. 0.5, 1, 2  or  1..8 step 1",
    "enum": "e.g. {a}, {b}  or  * for every choice",
    "dtype": "e.g. f16, f32  or  * for every dtype",
    "bool": "false, true  or  *",
    "shape": "e.g. 16x16, 32x32  or  [16, 16], [32, 32]",
    "expr": 'e.g. t.get("batch"), t.get("head")',
    "key": 'e.g. t.get("b"), t.get("h")',
}


class SweepDialogs(Protocol):
    """What the panel asks the user (the main window's ``Dialogs`` fits)."""

    def save_path(self, caption: str, suggested: Path, file_filter: str) -> Path | None: ...

    def error(self, title: str, text: str) -> None: ...


JOBS_KEY = "sweep/jobs"
"""Settings key of the Jobs field (0: auto)."""
CLUSTER_KEY = "sweep/cluster"
"""Settings key of the Cluster field (a Dask scheduler address; empty: this machine)."""
MAX_JOBS = 1024


class SweepRunner(Protocol):
    """Runs a sweep's variants off the GUI thread (``app.runner.qt_sweep.QtSweepRunner``, made
    by the window): ``opened(description)`` once it knows where they run, ``started(index)``
    per run, ``point_done(index, SweepPoint)`` per finished value, then ``finished(SweepResult)``
    or ``failed(message)`` (the executor could not be opened)."""

    opened: SignalInstance
    started: SignalInstance
    point_done: SignalInstance
    finished: SignalInstance
    failed: SignalInstance

    def start(
        self,
        param: SweepParam,
        variants: Sequence[Variant],
        workdir: Path,
        *,
        jobs: int | None = ...,
        cluster: str = ...,
        env: Mapping[str, str] | None = ...,
    ) -> None: ...

    def cancel(self) -> None: ...

    def is_running(self) -> bool: ...

    def shutdown(self, msecs: int = ...) -> None: ...


KeepRun = Callable[[RunOutcome, str, Document | None], tuple[int, int]]
"""Open in Compare: keep a variant's run (its label, its document) in the run history; returns
the run ids to compare (the latest run kept before it, and it)."""


class _ParamCombo(QComboBox):
    """Rediscovers the parameters right before its list opens (the document may have changed)."""

    def __init__(self, refresh: Callable[[], None]):
        super().__init__()
        self._refresh = refresh

    def showPopup(self) -> None:  # noqa: N802 - Qt override
        self._refresh()
        super().showPopup()


def _placeholder(p: SweepParam | None) -> str:
    """The values field's hint for ``p``'s type (an enum's own choices as the example)."""
    text = _PLACEHOLDERS.get(p.type, "") if p is not None else ""
    if p is not None and p.choices and "{a}" in text:
        a, b = (list(p.choices) + list(p.choices))[:2]
        text = text.format(a=a, b=b)
    return text


def _fill_combo(combo: QComboBox, params: Sequence[SweepParam], keep: str | None) -> int:
    """List ``params`` in ``combo`` (label shown, key as data), select ``keep``; the index
    selected (-1 when ``keep`` is not among them), without emitting index changes."""
    combo.blockSignals(True)
    combo.clear()
    for p in params:
        combo.addItem(p.label, p.key)
        combo.setItemData(combo.count() - 1, f"{p.key} ({p.type})", Qt.ItemDataRole.ToolTipRole)
    index = combo.findData(keep) if keep is not None else -1
    combo.setCurrentIndex(index)
    combo.blockSignals(False)
    return index


def _shown(values: Sequence[Any]) -> str:
    head = ", ".join(format_value(v) for v in values[:12])
    return f"{len(values)} value{'s' if len(values) != 1 else ''}: {head}" + (", …" if len(values) > 12 else "")  # fmt: skip


class LinkRow(QWidget):
    """One linked parameter of the Sweep dock: picker, values field, live feedback, remove.

    ``key`` is the parameter the user chose (``node.prop``); it survives a document without
    it (the picker then shows nothing and the feedback says so) so the row comes back to life
    when that document returns. ``changed`` follows any edit, ``remove_requested`` the button.
    """

    changed = Signal()
    remove_requested = Signal(object)  # LinkRow

    def __init__(self, refresh: Callable[[], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.key: str | None = None
        self.params: list[SweepParam] = []
        self.combo = _ParamCombo(refresh)
        self.combo.setObjectName("sweepLinkParam")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)  # fmt: skip
        self.combo.setMinimumContentsLength(20)
        self.combo.currentIndexChanged.connect(self._on_picked)
        self.values_edit = QLineEdit()
        self.values_edit.setObjectName("sweepLinkValues")
        self.values_edit.textChanged.connect(self.changed)
        self.feedback = QLabel()
        self.feedback.setObjectName("sweepLinkFeedback")
        self.remove_button = QToolButton()
        self.remove_button.setObjectName("sweepLinkRemove")
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this linked parameter")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Linked:"))
        row.addWidget(self.combo, 2)
        row.addWidget(QLabel("Values:"))
        row.addWidget(self.values_edit, 3)
        row.addWidget(self.feedback, 2)
        row.addWidget(self.remove_button)

    @property
    def param(self) -> SweepParam | None:
        """The picked parameter (None while the chosen one is not in the document)."""
        index = self.combo.currentIndex()
        return self.params[index] if 0 <= index < len(self.params) else None

    def set_params(self, params: Sequence[SweepParam], default: str | None = None) -> None:
        """Offer ``params``; keep the chosen key (``default`` when none is chosen yet)."""
        self.params = list(params)
        if self.key is None:
            self.key = default
        _fill_combo(self.combo, self.params, self.key)
        self.values_edit.setPlaceholderText(_placeholder(self.param))
        self.changed.emit()

    def pick(self, key: str) -> bool:
        """Choose the parameter ``key`` (False when the document has no such parameter)."""
        index = self.combo.findData(key)
        if index < 0:
            return False
        self.combo.setCurrentIndex(index)
        return True

    def _on_picked(self, index: int) -> None:
        if 0 <= index < len(self.params):
            self.key = self.params[index].key
        self.values_edit.setPlaceholderText(_placeholder(self.param))
        self.changed.emit()

    def linked_param(self) -> SweepParam:
        """The parameter with the typed values; ``SweepError`` naming this row's parameter."""
        p = self.param
        if p is None:
            missing = f"{self.key} is not in this document: " if self.key else ""
            raise SweepError(f"linked parameter: {missing}pick a parameter")
        try:
            return p.with_values(parse_values(p, self.values_edit.text()))
        except SweepError as err:
            raise SweepError(f"linked {p.label}: {err}") from None

    def show_feedback(self, text: str, ok: bool | None) -> None:
        """``ok`` True: green, False: red, None: plain."""
        self.feedback.setStyleSheet("" if ok is None else _OK_STYLE if ok else _BAD_STYLE)
        self.feedback.setText(text)
        self.feedback.setToolTip(text)


_PENDING = ("queued", "running")
"""Statuses of a row whose value has not finished yet (shown while the sweep runs only)."""


def _queued(variant: Variant) -> SweepPoint:
    """The row of a value before it ran (``run_variants`` reports refused ones at once)."""
    return SweepPoint(variant.value, "queued", linked=variant.linked)


def _item(text: str, value: float | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if value is not None:
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class SweepPanel(QWidget):
    """Parameter picker, values field, Run/Cancel, progress, results table and plot.

    ``document`` returns the open document (each sweep runs on a snapshot of it); ``runner``
    runs the variants. With ``keep_run``, Open in Compare keeps a variant's run in the run
    history and emits ``compare_requested`` (run ids A, B). Signals: ``sweep_started``, ``point_added(row)``, ``sweep_finished(result)``.
    """

    sweep_started = Signal()
    point_added = Signal(int)
    sweep_finished = Signal(object)  # SweepResult
    compare_requested = Signal(int, int)

    def __init__(
        self,
        document: Callable[[], Document],
        *,
        runner: SweepRunner,
        keep_run: KeepRun | None = None,
        dialogs: SweepDialogs | None = None,
        consent: Callable[[], bool] | None = None,
        settings: QSettings | None = None,
        run_env: Callable[[], Mapping[str, str]] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._document = document
        self._consent = consent  # asked before a sweep runs the document (restricted mode)
        self._run_env = run_env  # the runs' environment overrides (the PTO-ISA root setting)
        self.keep_run = keep_run
        self.dialogs = dialogs
        self.settings = settings  # where the Jobs and Cluster fields are kept
        self.runner = runner
        self.runner.opened.connect(self._on_opened)
        self.runner.started.connect(self._on_run_started)
        self.runner.point_done.connect(self._on_point)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.params: list[SweepParam] = []
        self.link_rows: list[LinkRow] = []
        self.result: SweepResult | None = None
        self._variants: list[Variant] = []
        self._done = 0
        self._where = ""
        self._cancelling = False
        self._running = False
        self._sweep_dir: Path | None = None
        self._session_dir = Path(tempfile.mkdtemp(prefix="pto-wsp-sweeps-"))
        atexit.register(self._remove_session_dir)
        self._build()
        self.refresh_params()

    # ---- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.param_combo = _ParamCombo(self.refresh_params)
        self.param_combo.setObjectName("sweepParam")
        self.param_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)  # fmt: skip
        self.param_combo.setMinimumContentsLength(20)
        self.param_combo.currentIndexChanged.connect(self._on_param_changed)
        self.values_edit = QLineEdit()
        self.values_edit.setObjectName("sweepValues")
        self.values_edit.textChanged.connect(self._check_values)
        self.values_edit.returnPressed.connect(self.run_sweep)
        self.feedback = QLabel()
        self.feedback.setObjectName("sweepFeedback")
        self.feedback.setWordWrap(True)
        self.add_link_button = QPushButton("Add Linked")
        self.add_link_button.setObjectName("sweepAddLink")
        self.add_link_button.setToolTip(
            "Set another property in lock step with this one: value i of each list goes into "
            "variant i (e.g. a tile size: the tile shapes, the axis size and the tensor shapes)"
        )
        self.add_link_button.clicked.connect(lambda: self.add_link())
        self.links_hint = QLabel("none: each variant changes only the parameter above")
        self.links_hint.setStyleSheet("color: gray")
        self.jobs_spin = QSpinBox()
        self.jobs_spin.setObjectName("sweepJobs")
        self.jobs_spin.setRange(0, MAX_JOBS)
        self.jobs_spin.setSpecialValueText("auto")
        self.jobs_spin.setToolTip(
            "Variants run at once (auto: one per core of this machine, or per worker thread of "
            "the cluster)"
        )
        self.cluster_edit = QLineEdit()
        self.cluster_edit.setObjectName("sweepCluster")
        self.cluster_edit.setPlaceholderText("this machine")
        self.cluster_edit.setToolTip(
            "Run the variants on a Dask cluster: its scheduler's address, e.g. "
            "tcp://host:8786 (needs the Python package distributed); empty: on this machine"
        )
        self._load_settings()
        self.jobs_spin.valueChanged.connect(self._save_settings)
        self.cluster_edit.editingFinished.connect(self._save_settings)
        self.run_button = QPushButton("Run Sweep")
        self.run_button.setObjectName("sweepRun")
        self.run_button.clicked.connect(self.run_sweep)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("sweepCancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setObjectName("sweepProgress")
        self.progress.setFormat("%v/%m")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setMaximumWidth(120)
        self.status = QLabel("Pick a parameter, list its values, Run Sweep.")
        self.status.setObjectName("sweepStatus")
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.compare_button = QPushButton("Open in Compare")
        self.compare_button.setToolTip("Put the selected value's run into Compare")
        self.compare_button.clicked.connect(self.open_selected)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("sweepTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_point(row))

        self.plot = pg.PlotWidget()
        self.plot.setObjectName("sweepPlot")
        self._build_plot()

        # Two rows of controls: the dock shares the bottom area with Timeline, so every row
        # given to controls is taken from the table and the plot.
        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Parameter:"))
        row1.addWidget(self.param_combo, 2)
        row1.addWidget(QLabel("Values:"))
        row1.addWidget(self.values_edit, 3)
        row1.addWidget(self.run_button)
        row1.addWidget(self.cancel_button)
        links_header = QHBoxLayout()
        links_header.addWidget(QLabel("Linked parameters:"))
        links_header.addWidget(self.add_link_button)
        links_header.addWidget(self.links_hint)
        links_header.addStretch(1)
        links_header.addWidget(QLabel("Jobs:"))
        links_header.addWidget(self.jobs_spin)
        links_header.addWidget(QLabel("Cluster:"))
        links_header.addWidget(self.cluster_edit, 1)
        self.links_layout = QVBoxLayout()
        self.links_layout.setContentsMargins(0, 0, 0, 0)
        self.links_layout.setSpacing(2)
        row2 = QHBoxLayout()
        row2.addWidget(self.feedback, 2)
        row2.addWidget(self.progress)
        row2.addWidget(self.status, 2)
        row2.addWidget(self.compare_button)
        row2.addWidget(self.csv_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setSizes([1, 1])  # proportions: half table, half plot
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row1)
        layout.addLayout(links_header)
        layout.addLayout(self.links_layout)
        layout.addLayout(row2)
        layout.addWidget(split, 1)
        self._update_buttons()

    def _build_plot(self) -> None:
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setLabel("left", "total cycles", color=CYCLES_COLOR)
        item.showAxis("right")
        item.setLabel("right", "mean utilisation (%)", color=UTIL_COLOR)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("right").setWidth(48)  # room for the rotated label next to "100"
        # The utilisation axis spans past 100 (headroom); it labels only 0-100 %.
        item.getAxis("right").setTicks([[(v, str(v)) for v in range(0, 101, 20)]])
        item.setMouseEnabled(x=False, y=False)  # a handful of points: the ranges are set
        item.addLegend(offset=(10, 5), colCount=2, brush=pg.mkBrush(0, 0, 0, 160))
        self.util_view = pg.ViewBox()
        item.scene().addItem(self.util_view)
        item.getAxis("right").linkToView(self.util_view)
        self.util_view.setXLink(item)
        self.util_view.setYRange(0.0, 100.0, padding=0.06)
        self.util_view.setMouseEnabled(x=False, y=False)
        item.getViewBox().sigResized.connect(self._sync_views)
        self.cycles_curve = pg.PlotDataItem(
            [], [], pen=pg.mkPen(CYCLES_COLOR, width=2), symbol="o", symbolSize=9,
            symbolBrush=CYCLES_COLOR, name="total cycles",
        )  # fmt: skip
        self.cycles_curve.sigPointsClicked.connect(self._on_points_clicked)
        item.addItem(self.cycles_curve)
        self.util_curve = pg.PlotDataItem(
            [], [], pen=pg.mkPen(UTIL_COLOR, width=2, style=Qt.PenStyle.DashLine), symbol="s",
            symbolSize=8, symbolBrush=UTIL_COLOR, name="mean utilisation",
        )  # fmt: skip
        self.util_curve.sigPointsClicked.connect(self._on_points_clicked)
        self.util_view.addItem(self.util_curve)
        item.legend.addItem(self.util_curve, "mean utilisation (%)")
        self._selected_marker = pg.ScatterPlotItem(
            size=16, pen=pg.mkPen("#d62728", width=2), brush=None
        )
        item.addItem(self._selected_marker)

    def _sync_views(self) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        self.util_view.setGeometry(vb.sceneBoundingRect())
        self.util_view.linkedViewChanged(vb, self.util_view.XAxis)

    # ---- parameters ---------------------------------------------------------------------
    @property
    def current_param(self) -> SweepParam | None:
        index = self.param_combo.currentIndex()
        return self.params[index] if 0 <= index < len(self.params) else None

    def refresh_params(self) -> None:
        """Rediscover the document's parameters, keeping the current choice when it remains."""
        keep = self.current_param.key if self.current_param is not None else None
        self.params = discover_params(self._document())
        if _fill_combo(self.param_combo, self.params, keep) < 0 and self.params:
            self.param_combo.blockSignals(True)
            self.param_combo.setCurrentIndex(0)
            self.param_combo.blockSignals(False)
        for row in self.link_rows:
            row.blockSignals(True)
            row.set_params(self.params)
            row.blockSignals(False)
        self._on_param_changed()

    def select_param(self, node_id: str, prop: str | None = None) -> bool:
        """Pick ``node_id``'s property ``prop`` (its first sweepable one when None); False
        when the node has no such sweepable property."""
        self.refresh_params()
        for i, p in enumerate(self.params):
            if p.node_id == node_id and (prop is None or p.prop == prop):
                self.param_combo.setCurrentIndex(i)
                return True
        return False

    def open_on(self, node_ids: Sequence[str]) -> bool:
        """Default the picker to the one selected node's parameter worth sweeping first: the
        one its kind names (``NodeKind.sweep_default``: a dispatch's worker count), else its
        first. True if the node has one."""
        self.refresh_params()
        if len(node_ids) != 1:
            return False
        found = self._document().locate(node_ids[0])
        if found is None or not params_of_node(self._document(), found[0]):
            return False
        preferred = registry.kind(found[0].kind).sweep_default
        return bool(preferred and self.select_param(node_ids[0], preferred)) or self.select_param(
            node_ids[0]
        )

    def document_replaced(self) -> None:
        """Another document was opened (or File > New): its parameters replace the list, and
        the results, which were the previous document's, go (a running sweep is cancelled)."""
        if self._running:
            self._running = False  # its late signals are the old document's: ignored
            self.runner.cancel()
            self._update_buttons()
        self.refresh_params()
        if self.result is not None:
            self.clear_results("The previous project's sweep results were cleared.")

    def _on_param_changed(self, *_args: Any) -> None:
        self.values_edit.setPlaceholderText(_placeholder(self.current_param))
        self._check_values()
        param = self.current_param
        if self.result is not None and not self._running:
            if param is None or param.key != self.result.param.key:
                was = self.result.param.label
                self.clear_results(f"Results for {was} cleared: another parameter is picked.")

    def clear_results(self, why: str) -> None:
        """Forget the shown results (table, plot, axis label): they belong to the document and
        parameter they were run for, never to the ones picked since. ``why`` goes to the status."""
        self.result = None
        self._variants = []
        self.table.setRowCount(0)
        self._set_columns()
        self._selected_marker.setData([], [])
        self.cycles_curve.setData([], [])
        self.util_curve.setData([], [])
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "")
        item.getAxis("bottom").setTicks(None)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(why)
        self.status.setToolTip(why)
        self._update_buttons()

    # ---- linked parameters ----------------------------------------------------------------
    def add_link(self, key: str | None = None, values: str = "") -> LinkRow:
        """Add a linked-parameter row on ``key`` (default: the first parameter neither swept
        nor linked yet) with ``values`` typed in its field."""
        used = {r.key for r in self.link_rows}
        if self.current_param is not None:
            used.add(self.current_param.key)
        default = key or next((p.key for p in self.params if p.key not in used), None)
        row = LinkRow(self.refresh_params)
        row.changed.connect(self._check_values)
        row.remove_requested.connect(self.remove_link)
        row.values_edit.returnPressed.connect(self.run_sweep)
        self.link_rows.append(row)
        self.links_layout.addWidget(row)
        self.links_hint.setVisible(False)
        row.blockSignals(True)
        row.set_params(self.params, default)
        row.values_edit.setText(values)
        row.blockSignals(False)
        self._check_values()
        return row

    def remove_link(self, row: LinkRow) -> None:
        """Drop a linked-parameter row."""
        if row not in self.link_rows:
            return
        self.link_rows.remove(row)
        self.links_layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self.links_hint.setVisible(not self.link_rows)
        self._check_values()

    def link_state(self) -> list[tuple[str | None, str]]:
        """``(key, values text)`` of every link row, in order (what the dock keeps)."""
        return [(r.key, r.values_edit.text()) for r in self.link_rows]

    def set_link_state(self, state: Sequence[tuple[str | None, str]]) -> None:
        """Replace the link rows by ``state`` (as ``link_state`` returns it)."""
        for row in list(self.link_rows):
            self.remove_link(row)
        for key, values in state:
            self.add_link(key, values)

    def sweep_param(self) -> SweepParam:
        """The current parameter with the typed values and every link row's parameter and
        values: what Run Sweep runs (``SweepError`` naming what is wrong)."""
        p = self.current_param
        if p is None:
            raise SweepError("the document has no sweepable property: add a node first")
        param = p.with_values(parse_values(p, self.values_edit.text()))
        param = param.with_links(row.linked_param() for row in self.link_rows)
        param.check_links()
        return param

    def _check_links(self) -> None:
        """Each row's feedback: how many values it read, or what is wrong with it."""
        try:
            count: int | None = len(self.parsed_values())
        except SweepError:
            count = None
        primary = self.current_param.key if self.current_param is not None else None
        seen: set[str] = set()
        for row in self.link_rows:
            p = row.param
            if p is None:
                what = f"{row.key} is not in this document" if row.key else "no parameter"
                row.show_feedback(f"{what}: pick one", False)
                continue
            duplicate = "the swept parameter" if p.key == primary else "linked twice" if p.key in seen else ""  # fmt: skip
            seen.add(p.key)
            if duplicate:
                row.show_feedback(f"{p.key} is {duplicate}", False)
            elif not row.values_edit.text().strip():
                row.show_feedback("one value per swept value", None)
            else:
                try:
                    values = parse_values(p, row.values_edit.text())
                except SweepError as err:
                    row.show_feedback(str(err), False)
                    continue
                if count is not None and len(values) != count:
                    row.show_feedback(f"{len(values)} value{'s' if len(values) != 1 else ''}, the swept parameter has {count}", False)  # fmt: skip
                else:
                    row.show_feedback(_shown(values), True)

    def parsed_values(self) -> list[Any]:
        """The values field read for the current parameter (``SweepError`` if it does not parse)."""
        p = self.current_param
        if p is None:
            raise SweepError("the document has no sweepable property: add a node first")
        return parse_values(p, self.values_edit.text())

    def _check_values(self) -> None:
        if not self.values_edit.text().strip():
            self.feedback.setStyleSheet("")
            self.feedback.setText("")
        else:
            try:
                values = self.parsed_values()
            except SweepError as err:
                self.feedback.setStyleSheet(_BAD_STYLE)
                self.feedback.setText(str(err))
            else:
                self.feedback.setStyleSheet(_OK_STYLE)
                self.feedback.setText(_shown(values))
        self._check_links()
        self._update_buttons()

    # ---- running --------------------------------------------------------------------------
    def is_running(self) -> bool:
        """A sweep is going (a variant runs or is about to)."""
        return self._running

    def run_sweep(self) -> bool:
        """Start a sweep of the current parameter over the typed values (False if none started)."""
        if self.is_running():
            return False
        if self._consent is not None and not self._consent():
            self.status.setText("Not run: the project is in restricted mode")
            return False
        try:
            param = self.sweep_param()
            variants = make_variants(self._document().copy(), param)
        except SweepError as err:
            self.status.setText(str(err))
            return False
        self._start(param, variants)
        return True

    def jobs(self) -> int | None:
        """The Jobs field: variants at once, None for auto."""
        return self.jobs_spin.value() or None

    def cluster(self) -> str:
        """The Cluster field: a Dask scheduler address, or empty (this machine)."""
        return self.cluster_edit.text().strip()

    def _load_settings(self) -> None:
        if self.settings is None:
            return
        try:
            jobs = int(self.settings.value(JOBS_KEY, 0))
        except (TypeError, ValueError):
            jobs = 0
        self.jobs_spin.setValue(min(max(jobs, 0), MAX_JOBS))
        self.cluster_edit.setText(str(self.settings.value(CLUSTER_KEY, "") or ""))

    def _save_settings(self) -> None:
        if self.settings is None:
            return
        self.settings.setValue(JOBS_KEY, self.jobs_spin.value())
        self.settings.setValue(CLUSTER_KEY, self.cluster())

    def _start(self, param: SweepParam, variants: list[Variant]) -> None:
        if self._sweep_dir is not None:  # only the last sweep's runs are kept
            shutil.rmtree(self._sweep_dir, ignore_errors=True)
        self._sweep_dir = Path(tempfile.mkdtemp(prefix="sweep-", dir=self._session_dir))
        self._save_settings()
        self._variants = variants
        self._done = 0
        self._where = ""
        self._cancelling = False
        self._running = True
        self._selected_marker.setData([], [])
        self._set_axis(param)
        self._show_result(SweepResult(param, [_queued(v) for v in variants]))
        self.progress.setRange(0, len(variants))
        self.progress.setValue(0)
        self.status.setText("Starting…")
        self.sweep_started.emit()
        env = dict(self._run_env()) if self._run_env is not None else {}
        self.runner.start(param, variants, self._sweep_dir, jobs=self.jobs(), cluster=self.cluster(), env=env)  # fmt: skip
        self._update_buttons()

    def _on_opened(self, where: str) -> None:
        self._where = where
        self._show_progress()

    def _show_progress(self) -> None:
        if not self._running or self.result is None:
            return
        busy = sum(1 for p in self.result.points if p.status == "running")
        where = f" on {self._where}" if self._where else ""
        state = "Cancelling" if self._cancelling else "Running"
        self.status.setText(f"{state}{where}: {self._done}/{len(self.result.points)} done, {busy} running")  # fmt: skip
        self.status.setToolTip(self.status.text())

    def _on_run_started(self, index: int) -> None:
        if not self._running or self.result is None or not 0 <= index < len(self.result.points):
            return
        point = self.result.points[index]
        if point.status == "queued":
            self.result.points[index] = replace(point, status="running")
            self._fill_row(index, self.result.points[index])
            self._show_progress()

    def _on_point(self, index: int, point: SweepPoint) -> None:
        if not self._running or self.result is None or not 0 <= index < len(self.result.points):
            return
        self.result.points[index] = point
        self._done += 1
        self._fill_row(index, point)
        self._fit_columns()
        self.progress.setValue(self._done)
        self._redraw()
        self._show_progress()
        self.point_added.emit(index)

    def columns(self) -> list[str]:
        """The table's column titles for the current result: ``COLUMNS`` with one column per
        linked parameter (its label) after Mean utilisation."""
        links = [link.label for link in self.result.param.links] if self.result else []
        return [*COLUMNS[:_LINKS_AT], *links, *COLUMNS[_LINKS_AT:]]

    def _set_columns(self) -> None:
        titles = self.columns()
        self.table.setColumnCount(len(titles))
        self.table.setHorizontalHeaderLabels(titles)
        links = self.result.param.links if self.result is not None else ()
        for c, link in enumerate(links, start=_LINKS_AT):
            self.table.horizontalHeaderItem(c).setToolTip(f"linked: {link.key}")

    def _fill_row(self, row: int, point: SweepPoint) -> None:
        """Show ``point`` in table row ``row`` (the row of its value)."""
        assert self.result is not None
        titles = self.columns()
        lanes = " ".join(f"w{w}:{u:.0%}" for w, u in point.lanes)
        cells = [
            _item(point.value_text),
            _item(point.status),
            _item(point.error),
            _item(
                f"{point.total_cycles:,}" if point.total_cycles is not None else "-",
                point.total_cycles,
            ),  # fmt: skip
            _item(
                time_text(point.makespan_ns) if point.makespan_ns is not None else "-",
                point.makespan_ns,
            ),  # fmt: skip
            _item(
                f"{point.task_count:,}" if point.task_count is not None else "-", point.task_count
            ),  # fmt: skip
            _item(
                f"{point.mean_utilisation:.1%}" if point.mean_utilisation is not None else "-",
                point.mean_utilisation,
            ),  # fmt: skip
            _item(lanes or "-"),
        ]
        cells[_LINKS_AT:_LINKS_AT] = [_item(text) for text in point.linked_texts]
        if lanes:
            cells[titles.index("Lanes")].setToolTip("per-lane utilisation: " + lanes.replace(" ", ", "))  # fmt: skip
        if point.error:
            for cell in cells:
                cell.setToolTip(point.error)
        if not point.ok and point.status not in _PENDING:
            cells[titles.index("Status")].setForeground(QColor(_BAD_COLOR))
        for c, cell in enumerate(cells):
            self.table.setItem(row, c, cell)
        # The makespan in time says something the cycles do not only when some run's clock is
        # not 1 ns per cycle (a sweep over the cost table): hidden otherwise.
        self.table.setColumnHidden(
            titles.index("Makespan"),
            all(p.ns_per_cycle in (None, 1.0) for p in self.result.points),
        )

    def _fit_columns(self) -> None:
        """Columns to their contents, but the per-lane list at most ``LANES_MAX_PX`` and the
        error at most ``ERROR_MAX_PX`` (their tooltips have it all): the Error column, which
        says why a value failed, stays in view next to Status; hidden while none failed."""
        titles = self.columns()
        error = titles.index("Error")
        points = self.result.points if self.result is not None else []
        self.table.setColumnHidden(error, not any(p.error for p in points))
        self.table.resizeColumnsToContents()
        for title, widest in (("Lanes", LANES_MAX_PX), ("Error", ERROR_MAX_PX)):
            col = titles.index(title)
            if self.table.columnWidth(col) > widest:
                self.table.setColumnWidth(col, widest)

    def cancel(self) -> bool:
        """Stop the running variants and skip the rest (False when no sweep runs)."""
        if not self.is_running():
            return False
        self._cancelling = True
        self._show_progress()
        self.runner.cancel()  # its ``finished`` ends the sweep
        return True

    def _show_result(self, result: SweepResult) -> None:
        """Show ``result``: one row per point, in value order, and the plot."""
        self.result = result
        self._set_columns()
        self.table.setRowCount(len(result.points))
        for row, point in enumerate(result.points):
            self._fill_row(row, point)
        self._fit_columns()
        self._redraw()

    def _on_finished(self, result: SweepResult) -> None:
        if not self._running:
            return
        self._show_result(result)  # every value's final word
        self.progress.setValue(len(result.points))
        good = sum(1 for p in result.points if p.ok)
        state = "cancelled" if result.cancelled else "done"
        where = f" on {self._where}" if self._where else ""
        self._end(f"Sweep {state}: {good}/{len(result.points)} values ran{where}")

    def _on_failed(self, message: str) -> None:
        """The variants could not be run at all (the cluster cannot be used): every value not
        done says why, and the sweep ends."""
        if not self._running or self.result is None:
            return
        for row, point in enumerate(self.result.points):
            if point.status in _PENDING:
                self.result.points[row] = replace(point, status="skipped", error=message)
                self._fill_row(row, self.result.points[row])
        self._fit_columns()
        self._end(f"Sweep not run: {message}")

    def _end(self, text: str) -> None:
        result = self.result
        assert result is not None
        self._running = False
        self.status.setText(text)
        self.status.setToolTip(text)
        self._update_buttons()
        self.sweep_finished.emit(result)

    def shutdown(self, msecs: int = 5000) -> None:
        """Stop any run and delete this panel's sweep directories (the window goes away)."""
        self._cancelling = True
        self.runner.shutdown(msecs)
        self._remove_session_dir()

    def _remove_session_dir(self) -> None:
        shutil.rmtree(self._session_dir, ignore_errors=True)
        atexit.unregister(self._remove_session_dir)

    def _update_buttons(self) -> None:
        running = self.is_running()
        problem = ""
        try:
            self.sweep_param()
        except SweepError as err:
            problem = str(err)
        self.run_button.setEnabled(not running and not problem)
        at_once = f"{self.jobs()} at a time" if self.jobs() else "one per core at a time"
        where = f" on the Dask cluster at {self.cluster()}" if self.cluster() else ""
        self.run_button.setToolTip(problem or f"Run one variant per value, {at_once}{where}")
        self.cancel_button.setEnabled(running)
        self.jobs_spin.setEnabled(not running)
        self.cluster_edit.setEnabled(not running)
        has_points = self.result is not None and bool(self.result.points)
        self.csv_button.setEnabled(has_points and not running)
        row = self.selected_row()
        self.compare_button.setEnabled(
            self.keep_run is not None and row is not None and self._point_run(row) is not None
        )

    # ---- plot -----------------------------------------------------------------------------
    def _set_axis(self, param: SweepParam) -> None:
        item = self.plot.getPlotItem()
        linked = f" (+{len(param.links)} linked)" if param.links else ""
        item.setLabel("bottom", param.label + linked)
        axis = item.getAxis("bottom")
        if param.numeric:
            axis.setTicks(None)
        else:
            axis.setTicks([[(i, format_value(v)) for i, v in enumerate(param.values)]])

    def _x_of(self, index: int) -> float:
        assert self.result is not None
        param = self.result.param
        return float(param.values[index]) if param.numeric else float(index)

    def plot_points(self) -> list[tuple[float, float, float]]:
        """``(x, total cycles, mean utilisation %)`` of every plotted point, in value order."""
        out = []
        if self.result is None:
            return out
        for i, p in enumerate(self.result.points):
            if p.total_cycles is not None and p.mean_utilisation is not None:
                out.append((self._x_of(i), float(p.total_cycles), 100.0 * p.mean_utilisation))
        return out

    def _redraw(self) -> None:
        pts = self.plot_points()
        xs = [p[0] for p in pts]
        self.cycles_curve.setData(xs, [p[1] for p in pts])
        self.util_curve.setData(xs, [p[2] for p in pts])
        self._set_ranges(pts)

    def _set_ranges(self, pts: list[tuple[float, float, float]]) -> None:
        """x: every swept value, plotted or not (a categorical axis keeps all its labels, a
        failed value shows as a gap); y: cycles from 0 (a trade-off read against zero, and no
        fractional ticks when all runs took the same cycles), utilisation 0-100 % on the same
        grid lines (both axes use the headroom that keeps the legend off the data)."""
        item = self.plot.getPlotItem()
        result = self.result
        if result is not None and result.param.values:
            xs = [self._x_of(i) for i in range(len(result.param.values))]
            lo, hi = min(xs), max(xs)
            pad = 0.5 if not result.param.numeric else max((hi - lo) * 0.06, 0.5)
            item.setXRange(lo - pad, hi + pad, padding=0.0)
        top = max((p[1] for p in pts), default=0.0)
        item.setYRange(0.0, top * Y_HEADROOM if top > 0 else 1.0, padding=0.0)
        self.util_view.setYRange(0.0, 100.0 * Y_HEADROOM, padding=0.0)

    def _on_points_clicked(self, _item: Any, points: Any, *_args: Any) -> None:
        if points is None or len(points) == 0:
            return
        x = points[0].pos().x()
        assert self.result is not None
        for i in range(len(self.result.points)):
            if abs(self._x_of(i) - x) < 1e-9:
                self.table.selectRow(i)
                return

    # ---- table, compare, CSV ----------------------------------------------------------------
    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _on_row_selected(self) -> None:
        row = self.selected_row()
        marker: tuple[list[float], list[float]] = ([], [])
        if row is not None and self.result is not None and row < len(self.result.points):
            p = self.result.points[row]
            if p.total_cycles is not None and p.mean_utilisation is not None:
                marker = ([self._x_of(row)], [float(p.total_cycles)])
        self._selected_marker.setData(*marker)
        self._update_buttons()

    def _point_run(self, row: int) -> RunOutcome | None:
        """The run of value ``row`` if it left a trace to compare (None: skipped or failed)."""
        if self.result is None or not 0 <= row < len(self.result.points):
            return None
        run = self.result.points[row].result
        return run if run is not None and run.ok and run.trace is not None else None

    def open_selected(self) -> bool:
        row = self.selected_row()
        return self.open_point(row) if row is not None else False

    def open_point(self, row: int) -> bool:
        """Add value ``row``'s run to the run history and ask for Compare (latest kept run as A,
        this variant as B). False when it left no run to show or there is no history."""
        self.table.selectRow(row)
        run = self._point_run(row)
        if run is None or self.keep_run is None or self.result is None:
            return False
        point = self.result.points[row]
        label = f"sweep {self.result.param.prop}={point.value_text}"
        a, b = self.keep_run(run, label, self._variants[row].document)
        self.compare_requested.emit(a, b)
        return True

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        """Write the results as CSV (asks for a file when ``path`` is None and dialogs exist)."""
        if self.result is None or not self.result.points:
            return None
        if path is None:
            if self.dialogs is None:
                return None
            suggested = Path.home() / f"sweep-{self.result.param.prop.replace('.', '_')}.csv"
            path = self.dialogs.save_path("Export Sweep Results", suggested, CSV_FILTER)
            if path is None:
                return None
        try:
            written = write_csv(self.result, path)
        except OSError as err:
            if self.dialogs is not None:
                self.dialogs.error("Cannot export sweep results", f"{path}:\n\n{err.strerror or err}")  # fmt: skip
            return None
        self.status.setText(f"Exported {written}")
        return written
