"""A collective in the timeline: the tensor_parallel sample's allreduce is named as one in the
legend ("allreduce (collective)") and in the tooltip ("allreduce (collective, gang of 4
workers)"), while kernel slices keep their plain names.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.views.slices import slice_text
from app.views.timeline import TimelineView
from pto_wsp.runtime.trace import TRACE_DTYPE


def _trace(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """(task, kernel, worker, start, end) rows; no stream, no loop indices."""
    out = np.zeros(len(rows), dtype=TRACE_DTYPE)
    for i, (task, kernel, worker, start, end) in enumerate(rows):
        out[i] = (task, kernel, worker, -1, start, end, -1, -1, -1, -1, 0, 0)
    return out


def test_collective_slices_are_named_in_legend_and_tooltip(qtbot: Any) -> None:
    names = ["partial", "finish", "allreduce"]
    trace = _trace(
        [(0, 0, 0, 0, 100), (1, 0, 1, 0, 100)]
        + [(2 + w, 2, w, 100, 180) for w in range(4)]
        + [(6, 1, 3, 180, 300)]
    )
    view = TimelineView()
    qtbot.addWidget(view)
    view.set_run(trace, names, "run")
    assert "allreduce (collective)" in view.legend_label.text()
    assert "partial (collective)" not in view.legend_label.text()
    c = view.view_pos_of(3)
    assert (
        view.tooltip_at(c.x(), c.y()).splitlines()[0] == "allreduce (collective, gang of 4 workers)"
    )
    assert slice_text(trace[0], names).splitlines()[0] == "partial[]"  # kernels unchanged
