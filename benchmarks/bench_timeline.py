"""Timeline frame time with 10^6 slices (DESIGN §5 target: a frame after a zoom <= 33 ms).

Times ``TimelineItem.paint`` into a QImage-backed QPainter (1600x600, the size of a maximised
timeline pane) at several zoom levels, from the whole makespan down to a few hundred cycles, after
building the lanes of a synthetic trace shaped like the simulator's (``TRACE_DTYPE``: 16 workers,
back-to-back tasks of 3 kernels with random durations and occasional gaps). Each level paints a
few frames and reports the median. The baseline measured in the same run is one frame of a naive
renderer that sends every visible slice to Qt as its own rect (no level of detail), at the fit
zoom level, so the printed ratio shows what the binning buys on this machine.

Run: ``python benchmarks/bench_timeline.py [--slices N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

from app.views.lane_layout import lane_layout  # noqa: E402
from app.views.slices import kernel_palette  # noqa: E402
from app.views.timeline_arrows import CRITICAL_STYLE, FLOW_STYLE, TimelineArrows  # noqa: E402
from app.views.timeline_item import TimelineItem  # noqa: E402
from app.views.timeline_marks import CRITICAL_MARK, TimelineMarks  # noqa: E402
from pto_wsp.runtime.lanes import build_lanes  # noqa: E402
from pto_wsp.runtime.trace import TRACE_DTYPE  # noqa: E402
from pto_wsp.runtime.trace_analysis import critical_path  # noqa: E402
from pto_wsp.runtime.trace_gates import gate_rows  # noqa: E402
from pto_wsp.runtime.wait_causes import cause_by_name  # noqa: E402

TARGET_MS = 33.0
WIDTH, HEIGHT = 1600, 600


def synthetic_trace(n: int, workers: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` records on ``workers`` workers, back to back with 5% gaps, 3 kernels."""
    rng = np.random.default_rng(seed)
    tr = np.zeros(n, dtype=TRACE_DTYPE)
    tr["task"] = np.arange(n)
    tr["worker"] = np.arange(n) % workers
    tr["kernel"] = rng.integers(0, 3, n)
    tr["stream"] = -1
    dur = rng.integers(50, 400, n)
    gap = np.where(rng.random(n) < 0.05, rng.integers(1, 200, n), 0)
    for w in range(workers):
        sel = tr["worker"] == w
        step = dur[sel] + gap[sel]
        end = np.cumsum(step)
        tr["end"][sel] = end
        tr["start"][sel] = end - dur[sel]
    for i in range(4):
        tr[f"idx{i}"] = -1
    tr["idx0"] = np.arange(n) // workers
    return tr


def predecessor_flows(trace: np.ndarray, lanes) -> tuple[np.ndarray, np.ndarray]:
    """Per task, the task on the previous lane that ended last at or before its start (a
    stand-in for the gating predecessor): (src rows, dst rows), one per task that has one."""
    srcs, dsts = [], []
    ls = lanes.lanes
    for i, lane in enumerate(ls):  # 16 lanes: each a vectorised searchsorted
        prev = ls[i - 1]
        by_end = np.argsort(prev.ends, kind="stable")
        ends = prev.ends[by_end]
        k = np.searchsorted(ends, lane.starts, side="right") - 1
        ok = k >= 0
        srcs.append(prev.rows[by_end[k[ok]]])
        dsts.append(lane.rows[ok])
    return np.concatenate(srcs), np.concatenate(dsts)


def _painter_for(image: QtGui.QImage, x0: float, x1: float, lanes: int) -> QtGui.QPainter:
    p = QtGui.QPainter(image)
    sx = WIDTH / (x1 - x0)
    sy = HEIGHT / lanes
    p.setTransform(QtGui.QTransform(sx, 0, 0, sy, -x0 * sx, 0))
    return p


def time_paint(
    item: TimelineItem, x0: float, x1: float, lanes: int, frames: int = 5, overlays: tuple = ()
) -> float:
    """Median ms of painting ``item`` and then ``overlays`` (marks, arrows) into one frame."""
    image = QtGui.QImage(WIDTH, HEIGHT, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for _ in range(frames):
        image.fill(0)
        p = _painter_for(image, x0, x1, lanes)
        t0 = time.perf_counter()
        item.paint(p)
        for overlay in overlays:
            overlay.paint(p)
        times.append((time.perf_counter() - t0) * 1000.0)
        p.end()
    return statistics.median(times)


def naive_frame(trace: np.ndarray, lanes: int, makespan: float) -> float:
    """One frame drawing every slice as its own QRectF (what a no-LOD item would do)."""
    image = QtGui.QImage(WIDTH, HEIGHT, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    p = _painter_for(image, 0.0, makespan, lanes)
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    t0 = time.perf_counter()
    for k in range(3):
        sel = trace[trace["kernel"] == k]
        p.setBrush(QtGui.QColor(*kernel_palette(["a", "b", "c"])[["a", "b", "c"][k]]))
        rects = [
            QtCore.QRectF(float(s), w + 0.1, float(e - s), 0.8)
            for s, e, w in zip(sel["start"], sel["end"], sel["worker"], strict=True)
        ]
        p.drawRects(rects)
    ms = (time.perf_counter() - t0) * 1000.0
    p.end()
    return ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=1_000_000)
    args = ap.parse_args()
    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

    trace = synthetic_trace(args.slices)
    t0 = time.perf_counter()
    lanes = build_lanes(trace, "workers")
    build_ms = (time.perf_counter() - t0) * 1000.0
    item = TimelineItem()
    colors = {i: rgb for i, rgb in enumerate(kernel_palette(["a", "b", "c"]).values())}
    item.set_lanes(lanes, colors)
    n_lanes = len(lanes.lanes)
    span = float(lanes.makespan)
    print(f"{len(trace)} slices on {n_lanes} lanes, makespan {lanes.makespan} cycles")
    print(f"build lanes: {build_ms:.1f} ms (once per run, not per frame)")

    worst = 0.0
    for zoom in (1, 4, 32, 512, 8192, 2**17):
        width = span / zoom
        x0 = span / 2 - width / 2
        ms = time_paint(item, x0, x0 + width, n_lanes)
        worst = max(worst, ms)
        print(
            f"zoom x{zoom:<7} visible {width:12.0f} cycles: paint {ms:6.2f} ms, "
            f"{item.last_rect_count} rects"
        )
    mask = np.zeros(len(trace), bool)
    mask[::7] = True
    item.set_highlight(mask)
    ms_hl = time_paint(item, 0.0, span, n_lanes)
    worst = max(worst, ms_hl)
    print(f"fit with 1/7 of the slices highlighted: paint {ms_hl:6.2f} ms")
    item.set_highlight(None)
    labels = [lane.label for lane in lanes.lanes]
    item.set_layout(lane_layout(labels, collapsed=set(labels[4:8]), pinned=set(labels[-2:])))
    ms_layout = time_paint(item, 0.0, span, n_lanes)
    worst = max(worst, ms_layout)
    print(f"fit with 4 lanes collapsed and 2 pinned: paint {ms_layout:6.2f} ms")
    item.set_layout(None)

    # The critical path on: its slices outlined (TimelineMarks) and joined by arrows
    # (TimelineArrows), painted over the slices in the same frame.
    t0 = time.perf_counter()
    cp = critical_path(trace)
    cp_ms = (time.perf_counter() - t0) * 1000.0
    marks, arrows = TimelineMarks(), TimelineArrows()
    marks.set_lanes(lanes)
    arrows.set_lanes(lanes, trace)
    on_path = np.zeros(len(trace), bool)
    on_path[cp.rows] = True
    t0 = time.perf_counter()
    marks.set_marks("critical path", on_path, CRITICAL_MARK)
    arrows.set_arrows("critical path", cp.rows[:-1], cp.rows[1:], CRITICAL_STYLE)
    set_ms = (time.perf_counter() - t0) * 1000.0
    print(
        f"critical path: {len(cp.rows)} tasks, computed in {cp_ms:.0f} ms, "
        f"outline + arrows set in {set_ms:.1f} ms (once per toggle)"
    )
    for zoom in (1, 32, 8192):
        width = span / zoom
        x0 = span / 2 - width / 2
        ms = time_paint(item, x0, x0 + width, n_lanes, overlays=(marks, arrows))
        worst = max(worst, ms)
        print(
            f"zoom x{zoom:<7} with the critical path: paint {ms:6.2f} ms, "
            f"{marks.last_rect_count} outline rects, {arrows.last_arrow_count} arrows"
        )
    # One flow arrow per task from its gating predecessor, as the Studio draws them: the
    # synthetic trace records as gate the task on the previous worker's lane that ended last
    # before it started, and the arrows come from the trace model's gate_rows.
    src, dst = predecessor_flows(trace, lanes)
    trace["gate"][dst] = trace["task"][src]
    trace["cause"][dst] = cause_by_name("raw").code
    t0 = time.perf_counter()
    gates = gate_rows(trace)
    dst = np.flatnonzero(gates >= 0)
    arrows.set_arrows("flows", gates[dst], dst, FLOW_STYLE)
    set_ms = (time.perf_counter() - t0) * 1000.0
    print(f"{len(dst)} flow arrows from the trace's gates set in {set_ms:.0f} ms (once per run)")
    for zoom in (1, 32, 512, 8192, 2**17):
        width = span / zoom
        x0 = span / 2 - width / 2
        ms = time_paint(item, x0, x0 + width, n_lanes, overlays=(marks, arrows))
        worst = max(worst, ms)
        shown = f"{arrows.last_arrow_count} arrows drawn"
        if arrows.last_skipped:
            shown = f"flows not drawn (over {FLOW_STYLE.max_visible} in view)"
        print(f"zoom x{zoom:<7} with path + flows: paint {ms:6.2f} ms, {shown}")
    arrows.clear()
    marks.clear()

    naive = naive_frame(trace, n_lanes, span)
    print(f"baseline (one QRectF per slice, no LOD) at fit: {naive:.0f} ms")
    print(
        f"worst LOD frame {worst:.2f} ms; target {TARGET_MS:.0f} ms: "
        f"ratio worst/target = {worst / TARGET_MS:.2f} ({'OK' if worst <= TARGET_MS else 'SLOW'}); "
        f"speed-up vs baseline {naive / worst:.0f}x"
    )
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
