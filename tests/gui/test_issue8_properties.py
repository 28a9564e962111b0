"""Properties panel for issue 8: task-graph policies, pools and tensor layouts, edited like a user.

Each edit goes through the panel's widgets (combo boxes, line edits, the pools table), lands in
the document as one undoable command, and changes the exported script; fields that do not apply
to the current choices are disabled; an invalid layout is refused with a message.
"""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from app.editor.canvas import GraphCanvas
from app.editor.pools_editor import PoolsEditor
from app.editor.properties import INVALID_STYLE, PropertiesPanel
from app.model.commands import AddNode, Connect
from app.model.document import PortRef
from app.model.export import export_script


@pytest.fixture
def panel(qtbot, canvas: GraphCanvas) -> PropertiesPanel:
    p = PropertiesPanel(canvas)
    qtbot.addWidget(p)
    p.resize(420, 900)
    p.show()
    return p


def _add(canvas: GraphCanvas, kind: str, parent: str | None = None, name=None, **props) -> str:
    return canvas.editor.apply(AddNode(kind, (0.0, 0.0), parent, name, **props)).node.id


def _wire(canvas: GraphCanvas, src: str, sport: str, dst: str, dport: str) -> None:
    canvas.editor.apply(Connect(PortRef(src, sport), PortRef(dst, dport)))


def build_project(canvas: GraphCanvas) -> dict[str, str]:
    """Two kernels called over 4 tiles; schedule spatial_map -> task_graph(window=8) -> compile."""
    ids = {"A": _add(canvas, "data.tensor", name="A", shape=[4, 16, 16])}
    ids["B"] = _add(canvas, "data.tensor", name="B", shape=[4, 16, 16])
    _add(canvas, "axis.dense", name="tiles", size=4)
    params = [
        {"name": "a", "direction": "In", "kind": "tile"},
        {"name": "b", "direction": "Out", "kind": "tile"},
    ]
    for kname in ("copy_k", "scale_k"):
        kid = _add(canvas, "kernel.def", name=kname, params=params)
        body = canvas.doc.node(kid).body
        pn = {n.props["param"]: n.id for n in body.nodes.values() if n.kind == "kernel.param"}
        _wire(canvas, pn["a"], "tile", pn["b"], "value")
    wl = _add(canvas, "workload.def", name="work")
    entry = next(n.id for n in canvas.doc.node(wl).body.nodes.values() if n.kind == "scope.entry")
    loop = _add(canvas, "loop.parallel", parent=wl, vars="i")
    _wire(canvas, entry, "exec", loop, "exec")
    tiles = _add(canvas, "data.get", parent=wl, target="tiles")
    _wire(canvas, tiles, "out", loop, "axes")
    inner = next(n.id for n in canvas.doc.node(loop).body.nodes.values() if n.kind == "scope.entry")
    prev = inner
    for kname, a, b in (("copy_k", "A", "B"), ("scale_k", "B", "A")):
        call = _add(canvas, "kernel.call", parent=loop, axes="i", index={"a": "i", "b": "i"})
        _wire(canvas, prev, "exec", call, "exec")
        for target, port in ((kname, "kernel"), (a, "a"), (b, "b")):
            g = _add(canvas, "data.get", parent=loop, target=target)
            _wire(canvas, g, "out", call, port)
        prev = call
    mesh = _add(canvas, "sched.spatial_map", grid=[2, 2])
    _wire(canvas, wl, "workload", mesh, "workload")
    ids["tg"] = _add(canvas, "sched.task_graph", window=8)
    _wire(canvas, mesh, "workload", ids["tg"], "workload")
    prog = _add(canvas, "compile.target", name="program")
    _wire(canvas, ids["tg"], "workload", prog, "workload")
    canvas.select_ids([])
    return ids


def script(canvas: GraphCanvas) -> str:
    return export_script(canvas.doc).source


def test_task_graph_policies_edit_like_a_user_with_undo(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["tg"]])
    assert panel.node_id == ids["tg"]
    ed = panel.editors
    # fields that do not apply to the current choices are disabled
    assert not ed["ready_key"].isEnabled() and not ed["threshold"].isEnabled()
    assert ed["mode"].isEnabled() and ed["deps"].isEnabled()
    assert '.task_graph(window=TaskWindow(8, "tasks", WindowMode.STALL))' in script(canvas)

    ed["deps"].setCurrentText("infer_bounding")
    assert canvas.doc.node(ids["tg"]).props["deps"] == "infer_bounding"
    assert 'deps=Deps.infer("bounding")' in script(canvas)

    ed["ready"].setCurrentText("priority")
    assert ed["ready_key"].isEnabled()  # now the key applies
    key = ed["ready_key"]
    qtbot.mouseClick(key, QtCore.Qt.MouseButton.LeftButton)
    qtbot.keyClicks(key, '2 - t.get("i")')
    qtbot.keyClick(key, QtCore.Qt.Key.Key_Return)
    assert canvas.doc.node(ids["tg"]).props["ready_key"] == '2 - t.get("i")'
    assert 'ready=ReadyPolicy.priority(lambda t: 2 - t.get("i"))' in script(canvas)

    ed["start"].setCurrentText("threshold")
    assert ed["threshold"].isEnabled()
    ed["threshold"].setValue(3)
    assert "start=StartPolicy.threshold(3)" in script(canvas)

    ed["window"].setValue(0)  # no window: its unit and mode no longer apply
    assert not ed["mode"].isEnabled() and not ed["unit"].isEnabled()
    assert "TaskWindow" not in script(canvas)

    canvas.undo()  # window back to 8
    assert ed["window"].value() == 8 and ed["mode"].isEnabled()
    canvas.undo()  # threshold back to 8 (the default)
    canvas.undo()  # start back to default
    assert not ed["threshold"].isEnabled() and ed["start"].currentText() == "default"
    assert "StartPolicy" not in script(canvas)
    canvas.redo()
    assert ed["start"].currentText() == "threshold" and ed["threshold"].isEnabled()


def test_pools_table_picks_kernels_of_the_document(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["tg"]])
    pools = panel.editors["pools"]
    assert isinstance(pools, PoolsEditor)
    assert pools.kernels == ["copy_k", "scale_k"]
    qtbot.mouseClick(pools.add_button, QtCore.Qt.MouseButton.LeftButton)
    assert canvas.doc.node(ids["tg"]).props["pools"] == [{"kernel": "copy_k", "workers": 2}]
    qtbot.mouseClick(pools.add_button, QtCore.Qt.MouseButton.LeftButton)  # the next free one
    assert [p["kernel"] for p in canvas.doc.node(ids["tg"]).props["pools"]] == [
        "copy_k",
        "scale_k",
    ]
    assert not pools.add_button.isEnabled()  # every kernel has its pool
    pools.table.cellWidget(1, 1).setValue(1)  # scale_k gets one worker
    assert "pools=Pools.by_kernel({copy_k: 2, scale_k: 1})" in script(canvas)

    with qtbot.waitSignal(canvas.message) as blocker:  # the same kernel twice is refused
        pools.table.cellWidget(1, 0).setCurrentText("copy_k")
    assert "two pools" in blocker.args[0]
    assert pools.pools() == [
        {"kernel": "copy_k", "workers": 2},
        {"kernel": "scale_k", "workers": 1},
    ]

    canvas.undo()  # scale_k back to 2 workers
    assert pools.pools()[1] == {"kernel": "scale_k", "workers": 2}
    canvas.undo()
    canvas.undo()
    assert pools.pools() == [] and "Pools" not in script(canvas)
    canvas.redo()
    assert pools.pools() == [{"kernel": "copy_k", "workers": 2}]
    pools.table.selectRow(0)
    qtbot.mouseClick(pools.remove_button, QtCore.Qt.MouseButton.LeftButton)
    assert canvas.doc.node(ids["tg"]).props["pools"] == []


def test_tensor_layout_edit_and_invalid_entries(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["A"]])
    layout = panel.editors["layout"]
    assert layout.text() == "" and "replicated" in layout.placeholderText()

    layout.setText("S0, R, R")
    assert layout.styleSheet() == ""
    layout.editingFinished.emit()
    assert canvas.doc.node(ids["A"]).props["layout"] == ["S0", "R", "R"]
    assert "layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0)" in script(canvas)

    for text, why in (
        ("S0, R", "rank 3"),  # one entry per dimension
        ("S1, S1, R", "mesh axis 1 shards two dimensions"),
        ("S0, Q, R", "'Q' is not a distribution"),
    ):
        layout.setText(text)
        assert layout.styleSheet() == INVALID_STYLE and why in layout.toolTip()
        with qtbot.waitSignal(canvas.message) as blocker:
            layout.editingFinished.emit()
        assert why in blocker.args[0]
        assert canvas.doc.node(ids["A"]).props["layout"] == ["S0", "R", "R"]

    layout.setText("r, s(1), S0")  # forgiving spelling, stored canonically
    layout.editingFinished.emit()
    assert canvas.doc.node(ids["A"]).props["layout"] == ["R", "S1", "S0"]
    assert "layout=TensorLayout((TensorReplicate(), TensorShard(1), TensorShard(0)))" in script(
        canvas
    )

    layout.setText("R, R, R")  # all replicated is the default layout
    layout.editingFinished.emit()
    assert canvas.doc.node(ids["A"]).props["layout"] == []
    assert "layout=" not in script(canvas)

    canvas.undo()
    assert canvas.doc.node(ids["A"]).props["layout"] == ["R", "S1", "S0"]
    assert layout.text() == "R, S1, S0"
    # changing the shape re-checks the layout against the new rank
    panel.editors["shape"].setText("4, 16")
    panel.editors["shape"].editingFinished.emit()
    assert layout.styleSheet() == INVALID_STYLE and "rank 2" in layout.toolTip()


def test_tensor_mem_combo_sets_the_memory_layout(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["A"]])
    mem = panel.editors["mem"]
    items = [mem.itemText(i) for i in range(mem.count())]
    assert items == ["default", "row_major", "col_major"]
    assert mem.currentText() == "default" and "MemLayout" not in script(canvas)

    mem.setCurrentText("col_major")
    assert canvas.doc.node(ids["A"]).props["mem"] == "col_major"
    flat = " ".join(script(canvas).split()).replace("( ", "(").replace(", )", ")")
    assert "layout=TensorLayout.default(3, mem=MemLayout.col_major((4, 16, 16)))" in flat

    panel.editors["layout"].setText("S0, R, R")
    panel.editors["layout"].editingFinished.emit()
    flat = " ".join(script(canvas).split()).replace("( ", "(").replace(", )", ")")
    assert (
        "layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0, "
        "mem=MemLayout.col_major((4, 16, 16)))"
    ) in flat

    canvas.undo()  # the layout edit
    canvas.undo()  # the mem edit
    assert mem.currentText() == "default" and "MemLayout" not in script(canvas)
