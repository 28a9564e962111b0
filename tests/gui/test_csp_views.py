"""CSP runs in the Studio: process lanes with waits, channel occupancy, deadlock badges.

Runs are real worker processes (F5 in the main window, as a user would); the checks read what
the user sees: the timeline's lanes and tooltips, the occupancy plot, node badges and the
diagnostics dock.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from test_run_views import click_slice, diagnostic_items, run_with_f5
from test_run_views import make_window as make_window  # noqa: F401  (the fixture)

from app.main_window import MainWindow
from app.model import io
from app.model.importer import import_script
from app.run_nodes import deadlock_nodes

ROOT = Path(__file__).resolve().parents[2]
MEGAKERNEL = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"

pytestmark = pytest.mark.slow

PING_PONG = """\
import numpy as np

from pto_wsp import Channel, In, Out, Tensor, connect, consume, kernel, process, send

x = Tensor(np.zeros((4, 4), np.float32), name="x")
y = Tensor(np.zeros((4, 4), np.float32), name="y")
a_to_b = Channel("a_to_b", depth=1)
b_to_a = Channel("b_to_a", depth=1)


@kernel
def step(src: In[Tensor], dst: Out[Tensor]): ...


def ping_body():
    with consume(b_to_a) as t:
        send(a_to_b, step[t](src=x, dst=y))


def pong_body():
    with consume(a_to_b) as t:
        send(b_to_a, step[t](src=y, dst=x))


ping = process("ping").consumes(b_to_a).produces(a_to_b).body(ping_body)
pong = process("pong").consumes(a_to_b).produces(b_to_a).body(pong_body)
pipeline = connect([ping, pong], [a_to_b, b_to_a])
program = pipeline.compile(target="cpu_sim")
"""


def test_megakernel_run_shows_process_lanes_waits_and_occupancy(
    qtbot: Any, make_window: Callable[[Path], MainWindow]
) -> None:
    window = make_window(MEGAKERNEL)
    result = run_with_f5(qtbot, window)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.csp is not None
    assert result.csp.processes == ("stage0", "stage1", "stage2")
    timeline = window.run_panel.timeline
    assert timeline.lane_mode == "processes"
    assert timeline.mode_box.currentText() == "processes"
    lanes = timeline.lanes
    assert lanes is not None
    assert [lane.label for lane in lanes.lanes] == ["stage0", "stage1", "stage2"]
    # Each stage lane holds its own kernel's 8 tasks (load, compute, store).
    for lane, kernel in zip(lanes.lanes, ("load", "compute", "store"), strict=True):
        assert len(lane) == 8
        kid = result.kernel_names.index(kernel)
        assert np.all(lane.kernels == kid)
    # stage1 (compute) first waits for item 0 of l2c: its first wait interval says so.
    compute = lanes.lanes[1]
    assert len(compute.wait_starts) > 0
    x = (compute.wait_starts[0] + compute.wait_ends[0]) / 2.0
    tip = timeline.tooltip_at(x, 1.5)
    assert "stage1: waiting to take from l2c" in tip
    send_waits = [t for lane in lanes.lanes for t in lane.wait_texts if "send" in t]
    assert send_waits and all(t.startswith("waiting to send on ") for t in send_waits)
    # The occupancy plot under the lanes: one step curve per channel, peaking at depth 2.
    assert timeline.occupancy_plot.isVisible()
    assert set(timeline.occupancy_curves) == {"l2c", "c2s"}
    ys = timeline.occupancy_curves["l2c"].getData()[1]
    assert ys is not None and int(np.max(ys)) == 2
    # The channel nodes on the canvas say the same after the run: peak slots of their depth.
    doc = window.document
    channel_ids = {n.name: n.id for n in doc.graph.nodes.values() if n.name in ("l2c", "c2s")}
    labels = window.run_panel.run_labels
    assert labels.text_of(channel_ids["l2c"]) == "peak 2/2"
    assert labels.text_of(channel_ids["c2s"]) == "peak 2/2"
    # Opening another project makes the run stale: the labels go with it.
    window.run_panel.document_replaced()
    assert labels.text_of(channel_ids["l2c"]) is None
    # The waits are painted (hatched, under the slices).
    image = QImage(900, 300, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    timeline.plot.render(painter)
    painter.end()
    assert timeline.item.last_wait_count > 0
    # The other lane modes still work; back to processes.
    timeline.set_lane_mode("workers")
    assert [lane.label for lane in timeline.lanes.lanes] == ["worker 0"]
    timeline.set_lane_mode("processes")
    assert len(timeline.lanes.lanes) == 3
    # A click on the occupancy track's labels collapses it to a thin strip, another expands it.
    strip = timeline.occupancy_plot
    axis = strip.getPlotItem().getAxis("left")
    label_at = strip.mapFromScene(axis.sceneBoundingRect().center())
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=label_at)
    # (running tasks and utilisation start collapsed: the lanes come first)
    assert timeline.counter_tracks.collapsed == {"occupancy", "running", "utilisation"}
    assert strip.height() == 20
    assert [t for _, t in axis._tickLevels[0]] == ["▸ Channel occupancy"]
    label_at = strip.mapFromScene(axis.sceneBoundingRect().center())
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=label_at)
    assert timeline.counter_tracks.collapsed == {"running", "utilisation"}
    assert strip.height() == 110
    assert [t for _, t in axis._tickLevels[0]] == ["slots  2", "0"]
    # A click on a slice brings the Details of that task forward, on the real run.
    row = int(compute.rows[0])
    click_slice(qtbot, window, row)
    details = window.run_panel.details
    assert details.row == row
    assert details.text.startswith("compute[")
    assert "Regions" in details.text and "Predecessors" in details.text
    assert window.run_panel.details_dock.isVisible()


def test_deadlock_badges_the_processes_and_channels_involved(
    qtbot: Any, make_window: Callable[[Path], MainWindow], tmp_path: Path
) -> None:
    script = tmp_path / "ping_pong.py"
    script.write_text(textwrap.dedent(PING_PONG))
    doc = import_script(script)
    project = tmp_path / "ping_pong.pto.json"
    io.save(doc, project)
    ids = {n.name: n.id for n, _g, _o in doc.walk() if n.name}

    window = make_window(project)
    result = run_with_f5(qtbot, window)
    assert not result.ok
    (err,) = result.errors
    assert err.kind == "DeadlockError"
    assert set(err.processes) == {"ping", "pong"}
    assert set(err.channels) == {"a_to_b", "b_to_a"}
    canvas = window.canvas
    for name in ("ping", "pong", "a_to_b", "b_to_a"):
        qtbot.waitUntil(lambda n=name: bool(canvas.diagnostics_of(ids[n])), timeout=5000)
        assert any("deadlock" in text for text in canvas.diagnostics_of(ids[name]))
    assert not canvas.diagnostics_of(ids["step"])  # the kernel is not part of the wait cycle
    listed = {node for text, node in diagnostic_items(window) if "DeadlockError" in text}
    assert {ids["ping"], ids["pong"], ids["a_to_b"], ids["b_to_a"]} <= listed
    assert deadlock_nodes(window.document, ["ping[1]"]) == [ids["ping"]]
