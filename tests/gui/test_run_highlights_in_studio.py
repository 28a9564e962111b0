"""The critical path and the graph's cross-highlighting in the Studio, driven as a user would.

Real runs (F5 in the main window, a worker process), then: Ctrl+Shift+P and the timeline's
header button toggle the critical path on the timeline and the canvas; a click on a tensor node
outlines the tasks that read it and those that write it; a click on a channel node brings its
occupancy track forward.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from test_main_window import press
from test_run_views import make_window as make_window  # noqa: F401  (the fixture)
from test_run_views import run_with_f5

from app.editor.run_path import PATH_RGB
from app.main_window import MainWindow
from app.model import io
from app.model.importer import import_script
from app.views.occupancy_focus import FOCUS_WIDTH
from pto_wsp.runtime.trace_analysis import critical_path

ROOT = Path(__file__).resolve().parents[2]
MEGAKERNEL = ROOT / "app" / "projects" / "megakernel_pipeline.pto.json"

pytestmark = pytest.mark.slow

CHAIN = """\
import numpy as np

from pto_wsp import DispatchPolicy, In, Out, P, Tensor, kernel, pto, workload

X = Tensor(np.ones((6, 4, 16), np.float32), name="X")
T = Tensor(np.zeros((6, 4, 16), np.float32), name="T")
Z = Tensor(np.zeros((6, 4, 16), np.float32), name="Z")


@kernel
def produce(x: In[Tensor], t: Out[Tensor]):
    pto.store(t, pto.add(x, x))


@kernel
def consume_t(t: In[Tensor], z: Out[Tensor]):
    pto.store(z, pto.mul(t, t))


@workload
def chain():
    for b in P(6):
        produce[b](x=X[b], t=T[b])
        consume_t[b](t=T[b], z=Z[b])


program = chain().dispatch(DispatchPolicy.round_robin(3)).compile(target="cpu_sim")
"""


@pytest.fixture(scope="module")
def chain_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("chain")
    script = folder / "chain.py"
    script.write_text(textwrap.dedent(CHAIN))
    project = folder / "chain.pto.json"
    io.save(import_script(script), project)
    return project


def _ids(window: MainWindow) -> dict[str, str]:
    return {n.name: n.id for n, _g, _o in window.document.walk() if n.name}


def _click_node(qtbot: Any, window: MainWindow, node_id: str) -> None:
    """A left click on the node's title bar, as a user selects it."""
    canvas = window.canvas
    view = canvas.view_node(node_id)
    assert view is not None
    rect = view.view.sceneBoundingRect()
    canvas.viewer.centerOn(rect.center())
    pos = canvas.viewer.mapFromScene(rect.left() + rect.width() / 2, rect.top() + 8)
    with qtbot.waitSignal(canvas.selection_changed, timeout=5000):
        qtbot.mouseClick(canvas.viewer.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def _click_empty_canvas(qtbot: Any, window: MainWindow) -> None:
    viewer = window.canvas.viewer
    rect = viewer.scene().itemsBoundingRect()
    viewer.centerOn(rect.right() + 2000, rect.bottom() + 2000)
    with qtbot.waitSignal(window.canvas.selection_changed, timeout=5000):
        qtbot.mouseClick(viewer.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, 20))


def test_critical_path_toggle_colours_timeline_and_graph_and_tensor_selection_marks_tasks(
    qtbot: Any, make_window: Callable[[Path], MainWindow], chain_project: Path
) -> None:
    window = make_window(chain_project)
    panel = window.run_panel
    action = window.actions["critical_path"]
    assert not action.isEnabled()  # no run yet
    result = run_with_f5(qtbot, window)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert action.isEnabled() and not action.isChecked()
    timeline = panel.timeline
    trace = timeline.trace
    assert trace is not None
    ids = _ids(window)
    names = result.kernel_names
    produce_tasks = trace["kernel"] == names.index("produce")
    consume_tasks = trace["kernel"] == names.index("consume_t")

    # Ctrl+Shift+P: the path's slices are outlined, joined by arrows; its nodes and the tensor
    # carrying data between them (T, with both its wires) take the path colour on the canvas.
    window.canvas.viewer.setFocus()
    press(qtbot, window, "Ctrl+Shift+P")
    assert action.isChecked()
    expected = critical_path(trace)
    outlined = timeline.marks.mask("critical path")
    assert outlined is not None
    assert np.flatnonzero(outlined).tolist() == sorted(expected.rows.tolist())
    src, dst = timeline.arrows.arrows("critical path")
    assert sorted(zip(src.tolist(), dst.tolist(), strict=True)) == sorted(
        zip(expected.rows[:-1].tolist(), expected.rows[1:].tolist(), strict=True)
    )
    path_kernels = {names[int(k)] for k in trace["kernel"][expected.rows]}
    assert path_kernels == {"produce", "consume_t"}  # the chain runs through both kernels
    run_path = panel.run_path
    calls = {n.id for n, _g, _o in window.document.walk() if n.kind == "kernel.call"}
    assert len(calls) == 2 and calls <= set(run_path.node_ids)
    for call in calls:
        assert run_path.halo_of(call) is not None
    assert ids["T"] in run_path.node_ids and run_path.halo_of(ids["T"]) is not None
    assert ids["X"] not in run_path.node_ids and ids["Z"] not in run_path.node_ids
    assert len(run_path.edges) == 2
    for edge in run_path.edges:
        assert ids["T"] in (edge.src.node, edge.dst.node)
        pipe = run_path.pipe_of(edge)
        assert pipe is not None and tuple(pipe.color)[:3] == PATH_RGB

    # The timeline's header button is the same toggle: a click turns it all off.
    button = panel.critical_path_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not action.isChecked()
    assert timeline.marks.mask("critical path") is None
    assert "critical path" not in timeline.arrows.names()
    assert not run_path.shown and all(run_path.halo_of(c) is None for c in calls)

    # A click on tensor T: the tasks that read it (consume_t) and those that write it
    # (produce) are outlined in two styles, named in the legend.
    _click_node(qtbot, window, ids["T"])
    assert window.canvas.selected_ids() == [ids["T"]]
    assert np.array_equal(timeline.marks.mask("reads"), consume_tasks)
    assert np.array_equal(timeline.marks.mask("writes"), produce_tasks)
    legend = timeline.marks_legend.text()
    assert "reads T" in legend and "writes T" in legend
    # X is only read, Z only written.
    _click_node(qtbot, window, ids["X"])
    assert np.array_equal(timeline.marks.mask("reads"), produce_tasks)
    assert timeline.marks.mask("writes") is None
    _click_node(qtbot, window, ids["Z"])
    assert timeline.marks.mask("reads") is None
    assert np.array_equal(timeline.marks.mask("writes"), consume_tasks)
    # A call keeps today's behaviour: its slices outlined, no read/write marks.
    produce_call = next(
        c for c in calls if window.document.graph.nodes[c].props["kernel"] == ids["produce"]
    )
    _click_node(qtbot, window, produce_call)
    assert panel.highlighted is not None and np.array_equal(panel.highlighted, produce_tasks)
    assert timeline.marks.mask("reads") is None and timeline.marks.mask("writes") is None

    # With the path on, an edit of the graph makes the run stale: the path goes.
    press(qtbot, window, "Ctrl+Shift+P")
    assert action.isChecked() and run_path.shown
    window.canvas.set_property(ids["Z"], "name", "Z2")
    assert not action.isChecked() and not run_path.shown
    assert timeline.marks.mask("critical path") is None
    # Toggled on while stale: the timeline still shows the run's path, the graph does not
    # (its nodes may not be the ones that ran).
    press(qtbot, window, "Ctrl+Shift+P")
    assert action.isChecked() and timeline.critical_path_shown and not run_path.shown


def test_selecting_a_channel_shows_its_occupancy_track(
    qtbot: Any, make_window: Callable[[Path], MainWindow]
) -> None:
    window = make_window(MEGAKERNEL)
    result = run_with_f5(qtbot, window)
    assert result.ok, [str(d) for d in result.diagnostics]
    timeline = window.run_panel.timeline
    curves = timeline.occupancy_curves
    assert set(curves) == {"l2c", "c2s"}
    ids = _ids(window)
    tracks = timeline.counter_tracks
    tracks.set_track_shown("occupancy", False)  # unchecked in the Tracks menu ...
    assert not tracks.is_shown("occupancy")
    _click_node(qtbot, window, ids["l2c"])  # ... selecting a channel shows it again
    assert tracks.is_shown("occupancy")
    assert timeline.focused_channel == "l2c"
    assert timeline.occupancy_plot.isVisible()
    assert curves["l2c"].isVisible() and not curves["c2s"].isVisible()
    assert curves["l2c"].opts["pen"].width() == FOCUS_WIDTH
    _click_node(qtbot, window, ids["c2s"])
    assert timeline.focused_channel == "c2s"
    assert curves["c2s"].isVisible() and not curves["l2c"].isVisible()
    _click_empty_canvas(qtbot, window)  # nothing selected: every track again
    assert timeline.focused_channel is None
    assert curves["l2c"].isVisible() and curves["c2s"].isVisible()
