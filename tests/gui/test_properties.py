"""The properties panel edits the selected node through undoable model commands."""

from __future__ import annotations

import pytest

from app.editor.canvas import GraphCanvas
from app.editor.properties import INVALID_STYLE, CodeEditor, ParamListEditor, PropertiesPanel


@pytest.fixture
def panel(qtbot, canvas: GraphCanvas) -> PropertiesPanel:
    p = PropertiesPanel(canvas)
    qtbot.addWidget(p)
    return p


def test_shows_selected_node_and_edit_is_undoable(canvas: GraphCanvas, panel) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    canvas.select_ids([t])
    assert panel.node_id == t
    shape = panel.editors["shape"]
    assert shape.text() == "16, 16"
    shape.setText("4, 8")
    shape.editingFinished.emit()
    assert canvas.doc.node(t).props["shape"] == [4, 8]
    canvas.undo()
    assert canvas.doc.node(t).props["shape"] == [16, 16]
    assert shape.text() == "16, 16"  # the editor follows the model after undo
    canvas.redo()
    assert shape.text() == "4, 8"


def test_typed_editors_commit_typed_values(canvas: GraphCanvas, panel) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    canvas.select_ids([t])
    panel.editors["dtype"].setCurrentText("f16")
    panel.editors["seed"].setValue(7)
    panel.editors["init"].setCurrentText("random")
    props = canvas.doc.node(t).props
    assert (props["dtype"], props["seed"], props["init"]) == ("f16", 7, "random")
    panel.editors["name"].setText("Q")
    panel.editors["name"].editingFinished.emit()
    assert canvas.doc.node(t).name == "Q"


def test_invalid_text_is_marked_and_not_committed(qtbot, canvas: GraphCanvas, panel) -> None:
    t = canvas.add_node("data.tensor", (0, 0))
    canvas.select_ids([t])
    shape = panel.editors["shape"]
    shape.setText("4, x")
    assert shape.styleSheet() == INVALID_STYLE
    assert "expected integers" in shape.toolTip()
    with qtbot.waitSignal(canvas.message):
        shape.editingFinished.emit()
    assert canvas.doc.node(t).props["shape"] == [16, 16]
    shape.setText("4, 4")
    assert shape.styleSheet() == ""


def test_expression_validation_lists_unknown_names(canvas: GraphCanvas, panel) -> None:
    w = canvas.add_node("workload.def", (0, 0))
    canvas.enter_scope(w)
    loop = canvas.add_node("loop.parallel", (100, 0))
    canvas.set_property(loop, "vars", "b")
    canvas.enter_scope(loop)
    call = canvas.add_node("kernel.call", (100, 0))
    canvas.select_ids([call])
    axes = panel.editors["axes"]
    axes.setText("b, zz")
    assert axes.styleSheet() == INVALID_STYLE and "unknown name 'zz'" in axes.toolTip()
    axes.setText("b")
    assert axes.styleSheet() == ""
    axes.editingFinished.emit()
    assert canvas.doc.node(call).props["axes"] == "b"


def test_kernel_params_and_code(canvas: GraphCanvas, panel) -> None:
    k = canvas.add_node("kernel.def", (0, 0))
    canvas.select_ids([k])
    params = panel.editors["params"]
    assert isinstance(params, ParamListEditor)
    params.add_param()
    node = canvas.doc.node(k)
    assert [p["name"] for p in node.props["params"]] == ["p1"]
    assert any(n.kind == "kernel.param" for n in node.body.nodes.values())
    params.table.item(0, 0).setText("x")  # rename the parameter in the table
    assert [p["name"] for p in canvas.doc.node(k).props["params"]] == ["x"]
    code = panel.editors["cpp_src"]
    assert isinstance(code, CodeEditor)
    code.setPlainText("out = a;")
    code.committed.emit(code.toPlainText())
    assert canvas.doc.node(k).props["cpp_src"] == "out = a;"
    canvas.undo()
    assert canvas.doc.node(k).props["cpp_src"] == ""
    assert code.toPlainText() == ""


def test_multi_selection_and_removal_clear_the_panel(canvas: GraphCanvas, panel) -> None:
    a = canvas.add_node("data.tensor", (0, 0))
    b = canvas.add_node("data.tensor", (200, 0))
    canvas.select_ids([a, b])
    assert panel.node_id is None and not panel.editors
    canvas.select_ids([a])
    assert panel.node_id == a
    canvas.delete_selected()
    assert panel.node_id is None
