"""Schedule warnings in the Studio: directives a target keeps only as annotations (spec §4.8).

The attention sample with streams / stream_by, compiled for ascend_npu, is run as a user would
(F5, a real worker process): its ``program.diagnostics`` come back through the runner protocol
and show as warnings — listed in the Diagnostics dock with a warning icon, counted in its
title and the status message, and badged on the schedule node that wrote each directive with
a warning badge that differs from an error badge.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from test_run_views import make_window, node_of_kind, run_with_f5  # noqa: F401 - fixture

from app.editor import nodes as vnodes
from app.editor.canvas import ERROR_BORDER, WARNING_BORDER, GraphCanvas
from app.main_window import MainWindow
from app.model import commands as cmds
from app.model.document import Diagnostic, PortRef
from app.model.validation import validate_document

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "app" / "projects" / "attention_varlen.pto.json"


def border_of(canvas: GraphCanvas, node_id: str) -> tuple[int, ...]:
    return tuple(canvas.view_node(node_id).view.border_color)


@pytest.mark.slow
def test_annotated_directives_are_listed_and_badged_as_warnings(
    qtbot: Any,
    make_window: Callable[[Path], MainWindow],  # noqa: F811 - the fixture imported above
) -> None:
    window = make_window(SAMPLE)
    doc = window.document
    frame = node_of_kind(doc, "workload.def")  # its sheet: dispatch, streams, stream_by...
    window.editor.apply(cmds.SetProperty(frame.id, "target", "ascend_npu"))

    result = run_with_f5(qtbot, window)
    assert result.stats["target"] == "ascend_npu" and not result.stats["executed"]

    warned = window.run_diagnostics
    assert sorted(d.message.split(" ")[0] for d in warned) == ["stream_by", "streams"]
    assert {d.node_id for d in warned} == {frame.id}  # both steps live on the frame's sheet
    assert all(d.severity == "warning" and d.kind == "ScheduleWarning" for d in warned)

    lst = window.diagnostics_list
    rows = [lst.item(i) for i in range(lst.count())]
    assert [r.data(Qt.ItemDataRole.UserRole) for r in rows] == [frame.id, frame.id]
    for row in rows:
        assert row.data(Qt.ItemDataRole.UserRole + 1) == "warning"
        assert ": warning: ScheduleWarning: " in row.text() and "ascend_npu plan" in row.text()
        assert not row.icon().isNull()
    assert window.diagnostics_dock.windowTitle() == "Diagnostics (2; 2 warnings)"
    assert window.diagnostics_dock.isVisible()
    assert "2 warnings (see Diagnostics)" in window.statusBar().currentMessage()

    canvas = window.canvas
    assert canvas.badge_of(frame.id) == vnodes.BADGE_WARNING
    assert canvas.diagnostics_of(frame.id) == [] and len(canvas.warnings_of(frame.id)) == 2

    # Activating a row selects the node at fault.
    lst.itemActivated.emit(rows[0])
    assert canvas.selected_ids() == [frame.id]

    # Back to cpu_sim: every directive is enforced, the warnings and badges go away.
    window.editor.apply(cmds.SetProperty(frame.id, "target", "cpu_sim"))
    result = run_with_f5(qtbot, window)
    assert result.ok and window.run_diagnostics == []
    assert window.diagnostics_list.count() == 0
    assert canvas.badge_of(frame.id) is None


def test_error_and_warning_badges_differ(canvas: GraphCanvas) -> None:
    # v2: no schedule nodes (their settings are a frame's sheet); any two plain nodes of the
    # root canvas carry the badges, and a kernel definition is the node that still owns a
    # sub-canvas (a warning inside its body badges it from outside)
    plain = canvas.add_node_type(vnodes.node_type_for("data.tensor"), (0.0, 0.0))
    both = canvas.add_node_type(vnodes.node_type_for("axis.dense"), (0.0, 300.0))
    loop = canvas.add_node_type(vnodes.node_type_for("kernel.def"), (400.0, 0.0))
    assert plain and both and loop
    inner = next(iter(canvas.doc.locate(loop)[0].body.nodes))  # the body's entry node
    warn = Diagnostic(plain, "", "ScheduleWarning: streams is kept in the plan")
    canvas.set_diagnostics(
        [Diagnostic(both, "props.size", "must be positive")],
        [warn, Diagnostic(both, "", "ScheduleWarning: timing"), Diagnostic(inner, "", "w")],
    )
    assert canvas.badge_of(plain) == vnodes.BADGE_WARNING
    assert border_of(canvas, plain) == WARNING_BORDER
    assert canvas.badge_of(both) == vnodes.BADGE_ERROR  # an error outranks a warning
    assert border_of(canvas, both) == ERROR_BORDER
    tip = canvas.view_node(both).view.toolTip()
    assert tip.index("Problems:") < tip.index("Warnings:")
    assert canvas.badge_of(loop) == vnodes.BADGE_WARNING  # a warning inside the scope
    assert "inside this scope has warnings" in canvas.view_node(loop).view.toolTip()

    canvas.set_diagnostics([])
    assert canvas.badge_of(plain) is None and canvas.badge_of(both) is None
    assert border_of(canvas, plain) == vnodes.NORMAL_BORDER


def test_a_badge_is_painted(canvas: GraphCanvas, qtbot: Any) -> None:
    """The badge really reaches the screen: the node's corner has the badge colour."""
    nid = canvas.add_node_type(vnodes.node_type_for("data.tensor"))
    assert nid
    view = canvas.view_node(nid).view
    canvas.viewer.scene().clearSelection()
    canvas.set_diagnostics([], [Diagnostic(nid, "", "ScheduleWarning: x")])
    canvas.viewer.centerOn(view)
    canvas.graph.set_zoom(0.0)
    qtbot.wait(50)
    image = canvas.viewer.grab().toImage()
    rect = canvas.viewer.mapFromScene(view.sceneBoundingRect()).boundingRect()
    size = vnodes.BADGE_SIZE
    corner = rect.topRight()
    # inside the triangle, right of the "!" and above its dark outline
    probe = image.pixelColor(int(corner.x() - 1.5 - size * 0.3), int(corner.y() + 1.5 + size * 0.8))
    assert (probe.red(), probe.green(), probe.blue()) == vnodes.BADGE_WARNING_COLOR


def test_a_read_before_a_write_by_order_is_listed_and_badged_as_a_warning(
    qtbot: Any,
    make_window: Callable[[Path], MainWindow],  # noqa: F811 - the fixture imported above
) -> None:
    """The child order is the program order: a call moved before the call writing the tensor
    it reads is allowed (no error) and shown as a document warning, listed and badged."""
    window = make_window(SAMPLE)
    ed, doc = window.editor, window.document
    call = node_of_kind(doc, "kernel.call")
    kern = node_of_kind(doc, "kernel.def")
    tensors = {n.name: n.id for n in doc.graph.nodes.values() if n.kind == "data.tensor"}
    reader = ed.apply(cmds.AddNode("kernel.call", (0.0, 0.0), call.parent, kernel=kern.id))
    rid = reader.node.id
    ed.apply(cmds.SetProperty(rid, "index", {"K": "b", "V": "b"}))
    for port, t in (("Q", "O"), ("K", "K"), ("V", "V")):
        ed.apply(cmds.Connect(PortRef(tensors[t], "tensor"), PortRef(rid, port)))
    ed.apply(cmds.CreateTensor(rid, "O"))
    window.refresh_diagnostics()
    assert window.diagnostics_list.count() == 0  # it reads O after the call writes it
    ed.apply(cmds.Reorder(rid, 0))  # now it reads O before: a write-after-read by order
    window.refresh_diagnostics()
    lst = window.diagnostics_list
    (row,) = [lst.item(i) for i in range(lst.count())]
    assert row.data(Qt.ItemDataRole.UserRole) == rid
    assert row.data(Qt.ItemDataRole.UserRole + 1) == "warning"
    assert "reads O before attn_kernel[b, h] writes it" in row.text()
    assert window.diagnostics_dock.windowTitle() == "Diagnostics (1; 1 warning)"
    assert window.canvas.badge_of(rid) == vnodes.BADGE_WARNING
    assert validate_document(window.document) == []
    ed.undo()
    window.refresh_diagnostics()
    assert lst.count() == 0 and window.canvas.badge_of(rid) is None
