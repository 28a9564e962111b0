"""The properties panel (format v2) edits the selected node through undoable model commands,
driven with real Qt events: typed fields, combo picks, button clicks.

Setup builds documents with model commands (what is under test is the panel); every edit under
test is one user gesture on the panel's widgets and lands as one undo step."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6 import QtWidgets
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_property_editors import pick, type_and_enter

from app.editor.canvas import GraphCanvas
from app.editor.properties import (
    AUTO_STYLE,
    INVALID_STYLE,
    AxesListEditor,
    CodeEditor,
    KeyEditor,
    ParamListEditor,
    PortIndexEditor,
    PropertiesPanel,
    ReferenceCombo,
)
from app.model import commands as cmds
from app.model.document import PortRef
from app.model.export import export_script


@pytest.fixture
def panel(qtbot: Any, canvas: GraphCanvas) -> PropertiesPanel:
    p = PropertiesPanel(canvas)
    qtbot.addWidget(p)
    p.resize(460, 1000)
    p.show()
    qtbot.waitExposed(p)
    p.activateWindow()
    qtbot.waitUntil(p.isActiveWindow, timeout=2000)
    return p


def add(canvas: GraphCanvas, kind: str, parent: str | None = None, name: str | None = None, **props: Any) -> str:  # fmt: skip
    return canvas.editor.apply(cmds.AddNode(kind, (0.0, 0.0), parent, name, **props)).node.id


def wire(canvas: GraphCanvas, src: str, sport: str, dst: str, dport: str) -> None:
    canvas.editor.apply(cmds.Connect(PortRef(src, sport), PortRef(dst, dport)))


def tile(name: str, direction: str = "In") -> dict[str, Any]:
    return {"name": name, "direction": direction, "kind": "tile", "rows": 16, "cols": 16, "dtype": "f32"}  # fmt: skip


def attention(canvas: GraphCanvas) -> dict[str, str]:
    """Spec §8.1 in v2: tensors wired into a call inside P(b in batch, h in heads) inside the
    workload frame; the call's kernel, the loop's axes and the sheet left for the panel."""
    ids = {t: add(canvas, "data.tensor", name=t, shape=s) for t, s in (
        ("Q", [4, 8, 16, 16]), ("K", [4, 16, 16]), ("V", [4, 16, 16]), ("O", [4, 8, 16, 16]))}  # fmt: skip
    ids["batch"] = add(canvas, "axis.dense_dyn", name="batch", size=4)
    ids["heads"] = add(canvas, "axis.dense", name="heads", size=8)
    ids["attn"] = add(canvas, "kernel.def", name="attn_kernel", params=[tile("Q"), tile("K"), tile("V"), tile("O", "Out")])  # fmt: skip
    ids["other"] = add(canvas, "kernel.def", name="other_kernel", params=[tile("x")])
    ids["wl"] = add(canvas, "workload.def", name="attention")
    ids["loop"] = add(canvas, "loop.parallel", ids["wl"])
    ids["call"] = add(canvas, "kernel.call", ids["loop"])
    return ids


def wire_call(canvas: GraphCanvas, ids: dict[str, str]) -> None:
    for t in ("Q", "K", "V"):
        wire(canvas, ids[t], "tensor", ids["call"], t)
    wire(canvas, ids["call"], "O", ids["O"], "write")


def test_shows_selected_node_and_edit_is_undoable(canvas: GraphCanvas, panel: PropertiesPanel) -> None:  # fmt: skip
    t = add(canvas, "data.tensor")
    canvas.select_ids([t])
    assert panel.node_id == t
    shape = panel.editors["shape"]
    assert shape.text() == "16, 16"
    type_and_enter(shape, "4, 8")
    assert canvas.doc.node(t).props["shape"] == [4, 8]
    canvas.undo()
    assert canvas.doc.node(t).props["shape"] == [16, 16]
    assert shape.text() == "16, 16"  # the editor follows the model after undo
    canvas.redo()
    assert shape.text() == "4, 8"


def test_invalid_text_is_marked_and_not_committed(qtbot: Any, canvas: GraphCanvas, panel: PropertiesPanel) -> None:  # fmt: skip
    t = add(canvas, "data.tensor")
    canvas.select_ids([t])
    shape = panel.editors["shape"]
    with qtbot.waitSignal(canvas.message):
        type_and_enter(shape, "4, x")
    assert shape.styleSheet() == INVALID_STYLE and "expected integers" in shape.toolTip()
    assert canvas.doc.node(t).props["shape"] == [16, 16]
    type_and_enter(shape, "4, 4")
    assert shape.styleSheet() == "" and canvas.doc.node(t).props["shape"] == [4, 4]


def test_call_kernel_is_picked_by_name_from_the_documents_kernels(
    qtbot: Any, canvas: GraphCanvas, panel: PropertiesPanel
) -> None:
    ids = attention(canvas)
    canvas.select_ids([ids["call"]])
    combo = panel.editors["kernel"]
    assert isinstance(combo, ReferenceCombo)
    pick(qtbot, combo, "attn_kernel")  # one gesture
    assert canvas.doc.node(ids["call"]).props["kernel"] == ids["attn"]
    # the ports follow the kernel: one row per parameter
    qtbot.waitUntil(lambda: panel.ports is not None and list(panel.ports.edits) == ["Q", "K", "V", "O"])  # fmt: skip
    canvas.undo()
    assert canvas.doc.node(ids["call"]).props["kernel"] in (None, "")
    assert combo.currentText() == "(none)"


def test_loop_axes_are_an_ordered_list_edited_in_the_panel(
    qtbot: Any, canvas: GraphCanvas, panel: PropertiesPanel
) -> None:
    ids = attention(canvas)
    canvas.select_ids([ids["loop"]])
    axes = panel.editors["axes"]
    assert isinstance(axes, AxesListEditor)
    pick(qtbot, axes.add_combo, "batch")
    pick(qtbot, axes.add_combo, "heads")
    loop = canvas.doc.node(ids["loop"])
    assert loop.props["axes"] == [{"var": "b", "axis": ids["batch"]}, {"var": "h", "axis": ids["heads"]}]  # fmt: skip
    QTest.mouseClick(axes.findChild(QtWidgets.QToolButton, "axes_down_0"), Qt.MouseButton.LeftButton)  # fmt: skip
    assert [a["var"] for a in canvas.doc.node(ids["loop"]).props["axes"]] == ["h", "b"]
    canvas.undo()  # each gesture one undo step
    assert [a["var"] for a in canvas.doc.node(ids["loop"]).props["axes"]] == ["b", "h"]
    assert [e.text() for e in axes.var_edits] == ["b", "h"]  # the editor follows undo


def test_call_ports_show_the_effective_index(
    qtbot: Any, canvas: GraphCanvas, panel: PropertiesPanel
) -> None:
    ids = attention(canvas)
    canvas.set_property(ids["call"], "kernel", ids["attn"])
    canvas.set_property(ids["loop"], "axes", [{"var": "b", "axis": ids["batch"]}, {"var": "h", "axis": ids["heads"]}])  # fmt: skip
    wire_call(canvas, ids)
    canvas.select_ids([ids["call"]])
    ports = panel.ports
    assert isinstance(ports, PortIndexEditor)
    assert ports.edits["Q"].text() == "b, h" and ports.edits["Q"].styleSheet() == AUTO_STYLE
    assert ports.edits["K"].text() == "b"  # rank 3 into a 16x16 tile: one loop variable
    type_and_enter(ports.edits["K"], "0")  # an override: one committed field edit
    assert canvas.doc.node(ids["call"]).props["index"] == {"K": "0"}
    assert ports.edits["K"].styleSheet() == "" and ports.resets["K"].isEnabled()
    QTest.mouseClick(ports.resets["K"], Qt.MouseButton.LeftButton)  # back to automatic
    assert canvas.doc.node(ids["call"]).props["index"] == {}
    qtbot.waitUntil(lambda: ports.edits["K"].text() == "b")
    # the automatic index follows the loops: drop the second axis, Q is indexed by b only
    canvas.set_property(ids["loop"], "axes", [{"var": "b", "axis": ids["batch"]}])
    qtbot.waitUntil(lambda: ports.edits["Q"].text() == "b")
    assert ports.edits["Q"].styleSheet() == INVALID_STYLE  # needs 2 indices, has 1 variable


def test_call_axes_empty_means_the_enclosing_loop_variables(
    canvas: GraphCanvas, panel: PropertiesPanel
) -> None:
    ids = attention(canvas)
    canvas.set_property(ids["loop"], "axes", [{"var": "b", "axis": ids["batch"]}, {"var": "h", "axis": ids["heads"]}])  # fmt: skip
    canvas.select_ids([ids["call"]])
    axes = panel.editors["axes"]
    assert isinstance(axes, QtWidgets.QLineEdit)
    assert axes.text() == "" and "b, h" in axes.placeholderText()
    type_and_enter(axes, "b")
    assert canvas.doc.node(ids["call"]).props["axes"] == "b"
    type_and_enter(axes, "")
    assert canvas.doc.node(ids["call"]).props["axes"] is None


def test_schedule_sheet_on_the_workload_frame(
    qtbot: Any, canvas: GraphCanvas, panel: PropertiesPanel
) -> None:
    ids = attention(canvas)
    canvas.set_property(ids["call"], "kernel", ids["attn"])
    canvas.set_property(ids["loop"], "axes", [{"var": "b", "axis": ids["batch"]}, {"var": "h", "axis": ids["heads"]}])  # fmt: skip
    wire_call(canvas, ids)
    canvas.select_ids([ids["wl"]])
    wl = lambda: canvas.doc.node(ids["wl"]).props  # noqa: E731
    pick(qtbot, panel.editors["dispatch"], "affinity")
    assert wl()["dispatch"] == "affinity"
    assert not panel.editors["dispatch_n"].isEnabled()  # a keyed dispatch has no worker count
    key = panel.editors["dispatch_key"]
    assert isinstance(key, KeyEditor)
    assert [key.itemText(i) for i in range(key.count())] == ["(none)", "b", "h", "expression…"]
    pick(qtbot, key, "b")
    assert wl()["dispatch_key"] == 't.get("b")'
    type_and_enter(panel.editors["streams"].lineEdit(), "2")
    assert wl()["streams"] == 2
    type_and_enter(panel.editors["stream_by"].lineEdit(), "h % 2")
    assert wl()["stream_by"] == 't.get("h") % 2'
    pick(qtbot, panel.editors["timing"], "immediate")
    assert panel.editors["target"].currentText() == "cpu_sim"  # the first workload's default
    pick(qtbot, panel.editors["target"], "ascend_npu")
    pick(qtbot, panel.editors["target"], "cpu_sim")
    assert (wl()["timing"], wl()["target"]) == ("immediate", "cpu_sim")
    src = export_script(canvas.doc).source
    assert 'DispatchPolicy.affinity(lambda t: t.get("b"))' in src
    assert ".streams(2)" in src and '.stream_by(lambda t: t.get("h") % 2)' in src
    pick(qtbot, panel.editors["dispatch"], "round_robin")  # the worker count applies again
    assert panel.editors["dispatch_n"].isEnabled()
    type_and_enter(panel.editors["dispatch_n"].lineEdit(), "3")
    assert wl()["dispatch_n"] == 3


def test_task_graph_fields_edit_one_entry_each(
    qtbot: Any, canvas: GraphCanvas, panel: PropertiesPanel
) -> None:
    ids = attention(canvas)
    canvas.select_ids([ids["wl"]])
    window = panel.editors["task_graph.window"]
    type_and_enter(window.lineEdit(), "8")
    assert canvas.doc.node(ids["wl"]).props["task_graph"] == {"window": 8}
    canvas.undo()
    assert canvas.doc.node(ids["wl"]).props["task_graph"] == {}


def test_kernel_params_and_code(canvas: GraphCanvas, panel: PropertiesPanel) -> None:
    k = add(canvas, "kernel.def")
    canvas.select_ids([k])
    params = panel.editors["params"]
    assert isinstance(params, ParamListEditor)
    QTest.mouseClick(next(b for b in params.findChildren(QtWidgets.QPushButton) if b.text() == "Add"), Qt.MouseButton.LeftButton)  # fmt: skip
    node = canvas.doc.node(k)
    assert [p["name"] for p in node.props["params"]] == ["p1"]
    code = panel.editors["cpp_src"]
    assert isinstance(code, CodeEditor)
    code.setFocus()
    QTest.keyClicks(code, "out = a;")
    QTest.keyClick(code, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert canvas.doc.node(k).props["cpp_src"] == "out = a;"
    canvas.undo()
    assert canvas.doc.node(k).props["cpp_src"] == ""
    assert code.toPlainText() == ""


def test_multi_selection_and_removal_clear_the_panel(canvas: GraphCanvas, panel: PropertiesPanel) -> None:  # fmt: skip
    a = add(canvas, "data.tensor")
    b = add(canvas, "data.tensor")
    canvas.select_ids([a, b])
    assert panel.node_id is None and not panel.editors
    canvas.select_ids([a])
    assert panel.node_id == a
    canvas.delete_selected()
    assert panel.node_id is None


def test_the_schedule_sheet_starts_with_the_target(qtbot: Any, canvas: GraphCanvas, panel: PropertiesPanel) -> None:  # fmt: skip
    """``target`` is the sheet's first row, right under the name (it was the last row of a long
    sheet, reached by scrolling); a new workload shows its default target there."""
    wl = add(canvas, "workload.def", name="w")
    canvas.select_ids([wl])
    section = panel.findChild(QtWidgets.QLabel, "section_schedule")
    assert section is not None

    def y(w: QtWidgets.QWidget) -> int:
        return w.mapTo(panel.widget(), w.rect().topLeft()).y()

    ed = panel.editors
    qtbot.waitUntil(lambda: y(ed["spatial_map"]) > 0, timeout=2000)  # laid out
    assert y(ed["name"]) < y(section) < y(ed["target"]) < y(ed["dispatch"]) < y(ed["spatial_map"])
    assert ed["target"].currentText() == "cpu_sim"
