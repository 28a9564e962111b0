"""Stats panel: ``ProgramStats`` of the last run plus what its trace says.

Shows compile / execute time, task count and total cycles, then per-kernel task counts and
cycles, per-worker utilisation, the critical path, and why tasks waited: total wait cycles per
gating cause and per kernel (``pto_wsp.runtime.trace_waits``; a cause's description is the
tooltip of its name). The numbers come from
``app.views.run_stats`` (Qt-free, unit-tested); this widget only lays them out, so what it shows
is exactly what ``pto-wsp run`` prints for the same run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PySide6 import QtCore, QtWidgets

from pto_wsp.runtime.trace_analysis import (
    RunAnalysis,
    analyse_trace,
    num_workers_of,
    program_stats_dict,
)
from pto_wsp.runtime.wait_causes import cause_by_name

from .stale import StaleBanner
from .tables import fit_rows
from .tables import sortable_table as _table
from .tables import table_item as _item

__all__ = ["StatsPanel"]

_SUMMARY_ROWS = (
    ("compile_time_ms", "Compile time"),
    ("execute_time_ms", "Execute time"),
    ("task_count", "Tasks"),
    ("total_cycles", "Total cycles"),
    ("critical_path", "Critical path"),
    ("mean_utilisation", "Mean utilisation"),
)


class StatsPanel(QtWidgets.QWidget):
    """Summary form + kernel table + worker table for one run (``set_run``)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._stats: dict[str, float | int] = {}
        self._analysis: RunAnalysis | None = None

        self.stale_banner = StaleBanner()
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        form_box = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(form_box)
        self._values: dict[str, QtWidgets.QLabel] = {}
        for key, title in _SUMMARY_ROWS:
            label = QtWidgets.QLabel("-")
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)  # a long critical-path line must not widen the dock
            self._values[key] = label
            form.addRow(f"{title}:", label)

        self.kernel_table = _table(
            ["Kernel", "Tasks", "Cycles", "Mean", "Min", "Max"], fit_names=True
        )
        self.worker_table = _table(["Worker", "Tasks", "Busy cycles", "Utilisation"])
        self.wait_cause_table = _table(["Cause", "Tasks", "Wait cycles", "Share"], fit_names=True)
        self.wait_cause_table.horizontalHeader().setSortIndicator(
            2, QtCore.Qt.SortOrder.DescendingOrder
        )
        # Columns: kernel, total, then one per cause that made some task wait (set per run).
        self.wait_kernel_table = _table(["Kernel", "Total"], fit_names=True)
        self._tables = (
            self.kernel_table,
            self.worker_table,
            self.wait_cause_table,
            self.wait_kernel_table,
        )
        for t in self._tables:
            t.setSortingEnabled(True)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.stale_banner)
        layout.addWidget(self.message)
        layout.addWidget(form_box)
        layout.addWidget(QtWidgets.QLabel("Kernels"))
        layout.addWidget(self.kernel_table, 1)
        layout.addWidget(QtWidgets.QLabel("Workers"))
        layout.addWidget(self.worker_table, 1)
        layout.addWidget(QtWidgets.QLabel("Waits by gating cause"))
        layout.addWidget(self.wait_cause_table, 1)
        layout.addWidget(QtWidgets.QLabel("Wait cycles by kernel and cause"))
        layout.addWidget(self.wait_kernel_table, 1)
        self.clear()

    # ---- public -------------------------------------------------------------------------
    @property
    def analysis(self) -> RunAnalysis | None:
        """The analysis shown (None without a trace)."""
        return self._analysis

    @property
    def stats(self) -> dict[str, float | int]:
        """The ``ProgramStats`` fields shown."""
        return dict(self._stats)

    def value_text(self, key: str) -> str:
        """Text of a summary row (``compile_time_ms``, ``task_count``, ``critical_path``...)."""
        return self._values[key].text()

    def clear(self, message: str = "No run yet: run the program to see its statistics.") -> None:
        self._stats, self._analysis = {}, None
        self.message.setText(message)
        self.message.setVisible(bool(message))
        for label in self._values.values():
            label.setText("-")
        for table in self._tables:
            table.setRowCount(0)

    def set_run(
        self,
        stats: Any,
        trace: np.ndarray | None = None,
        kernel_names: Sequence[str] = (),
        num_workers: int | None = None,
    ) -> None:
        """Show ``stats`` (a ``ProgramStats`` or a runner stats mapping) and its ``trace``.

        With a runner stats mapping, ``kernel_names`` defaults to its ``kernel_names``;
        ``num_workers`` defaults to the configured worker count ``stats`` records, so a worker
        that ran nothing is listed at 0% and counts in the mean utilisation.
        """
        self.stale_banner.set_stale(None)  # a new run: it is the open document's
        if not kernel_names and isinstance(stats, Mapping):
            kernel_names = list(stats.get("kernel_names", []) or [])
        self._stats = program_stats_dict(stats)
        if num_workers is None:
            num_workers = num_workers_of(stats)
        self._analysis = (
            analyse_trace(trace, kernel_names, num_workers) if trace is not None else None
        )
        self.message.setText("" if trace is not None else "No per-task trace for this run.")
        self.message.setVisible(trace is None)
        s, a = self._stats, self._analysis
        self._values["compile_time_ms"].setText(f"{s['compile_time_ms']:.3f} ms")
        self._values["execute_time_ms"].setText(f"{s['execute_time_ms']:.3f} ms")
        self._values["task_count"].setText(f"{s['task_count']:,}")
        self._values["total_cycles"].setText(f"{s['total_cycles']:,}")
        if a is None:
            self._values["critical_path"].setText("-")
            self._values["mean_utilisation"].setText("-")
        else:
            cp = a.critical_path
            self._values["critical_path"].setText(
                f"{cp.cycles:,} cycles over {len(cp.tasks):,} tasks (makespan {a.makespan:,})"
            )
            self._values["mean_utilisation"].setText(f"{a.mean_utilisation:.1%}")
        self._fill_tables()

    # ---- tables -------------------------------------------------------------------------
    def _fill_tables(self) -> None:
        a = self._analysis
        for table in self._tables:
            table.setSortingEnabled(False)
            table.setRowCount(0)
        if a is None:
            for table in self._tables:
                table.setSortingEnabled(True)
            return
        self.kernel_table.setRowCount(len(a.kernels))
        for r, k in enumerate(a.kernels):
            cells = [
                _item(k.name),
                _item(f"{k.task_count:,}", k.task_count),
                _item(f"{k.total_cycles:,}", k.total_cycles),
                _item(f"{k.mean_cycles:,.1f}", k.mean_cycles),
                _item(f"{k.min_cycles:,}", k.min_cycles),
                _item(f"{k.max_cycles:,}", k.max_cycles),
            ]
            for c, cell in enumerate(cells):
                self.kernel_table.setItem(r, c, cell)
        self.worker_table.setRowCount(len(a.workers))
        for r, w in enumerate(a.workers):
            cells = [
                _item(str(w.worker), w.worker),
                _item(f"{w.task_count:,}", w.task_count),
                _item(f"{w.busy_cycles:,}", w.busy_cycles),
                _item(f"{w.utilisation:.1%}", w.utilisation),
            ]
            for c, cell in enumerate(cells):
                self.worker_table.setItem(r, c, cell)
        self._fill_wait_tables(a)
        for table in self._tables:
            table.setSortingEnabled(True)  # re-sorts by the user's (or the default) column
            fit_rows(table)  # the panel scrolls as a whole (it sits in a scroll area)

    def _fill_wait_tables(self, a: RunAnalysis) -> None:
        """Per cause: tasks it gated, their wait cycles and share of all waits; per kernel:
        its wait cycles under each cause that made some task wait."""
        waits = a.waits
        total = sum(waits.by_cause.values())
        causes = [
            c for c, n in waits.by_cause.items() if c != "none" and (n or waits.tasks_by_cause[c])
        ]
        self.wait_cause_table.setRowCount(len(causes))
        for r, name in enumerate(causes):
            cause = cause_by_name(name)
            cycles, tasks = waits.by_cause[name], waits.tasks_by_cause[name]
            share = cycles / total if total else 0.0
            label = _item(cause.label)
            label.setToolTip(f"{cause.label}: {cause.description}")
            cells = [
                label,
                _item(f"{tasks:,}", tasks),
                _item(f"{cycles:,}", cycles),
                _item(f"{share:.1%}", share),
            ]
            for c, cell in enumerate(cells):
                self.wait_cause_table.setItem(r, c, cell)
        waited = [c for c in causes if waits.by_cause[c]]
        table = self.wait_kernel_table
        headers = ["Kernel", "Total"] + [cause_by_name(c).label for c in waited]
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for c, name in enumerate(waited, start=2):
            table.horizontalHeaderItem(c).setToolTip(cause_by_name(name).description)
        table.setRowCount(len(waits.kernels))
        for r, k in enumerate(waits.kernels):
            table.setItem(r, 0, _item(k.name))
            table.setItem(r, 1, _item(f"{k.total:,}", k.total))
            for c, name in enumerate(waited, start=2):
                n = k.by_cause.get(name, 0)
                table.setItem(r, c, _item(f"{n:,}", n))
