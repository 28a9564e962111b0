"""Properties panel: the schedule sheet's task-graph policies and pools, and tensor layouts
(format v2), edited like a user.

Each edit goes through the panel's widgets (combo picks, typed fields, the pools table), lands in
the document as one undoable command, and changes the exported script; fields that do not apply
to the current choices are disabled; an invalid layout is refused with a message.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6 import QtCore
from test_property_editors import pick, type_and_enter

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
    p.resize(460, 1200)
    p.show()
    qtbot.waitExposed(p)
    p.activateWindow()
    qtbot.waitUntil(p.isActiveWindow, timeout=2000)
    return p


def _add(canvas: GraphCanvas, kind: str, parent: str | None = None, name=None, **props) -> str:
    return canvas.editor.apply(AddNode(kind, (0.0, 0.0), parent, name, **props)).node.id


def _wire(canvas: GraphCanvas, src: str, sport: str, dst: str, dport: str) -> None:
    canvas.editor.apply(Connect(PortRef(src, sport), PortRef(dst, dport)))


def build_project(canvas: GraphCanvas) -> dict[str, str]:
    """Two kernels called over 4 tiles in ``P(i in tiles)``; the workload's sheet maps it on a
    2x2 grid with a task window of 8 and compiles it for the simulator."""
    ids: dict[str, Any] = {}
    for t in ("A", "B", "C"):
        ids[t] = _add(canvas, "data.tensor", name=t, shape=[4, 16, 16])
    tiles = _add(canvas, "axis.dense", name="tiles", size=4)
    params = [
        {"name": "a", "direction": "In", "kind": "tile"},
        {"name": "b", "direction": "Out", "kind": "tile"},
    ]
    kernels = {}
    for kname in ("copy_k", "scale_k"):
        kid = kernels[kname] = _add(canvas, "kernel.def", name=kname, params=params)
        body = canvas.doc.node(kid).body
        pn = {n.props["param"]: n.id for n in body.nodes.values() if n.kind == "kernel.param"}
        _wire(canvas, pn["a"], "tile", pn["b"], "value")
    ids["tg"] = ids["wl"] = _add(
        canvas, "workload.def", name="work", spatial_map=[2, 2], task_graph={"window": 8}, target="cpu_sim"
    )  # fmt: skip
    loop = _add(canvas, "loop.parallel", ids["wl"], axes=[{"var": "i", "axis": tiles}])
    for kname, a, b in (("copy_k", "A", "B"), ("scale_k", "B", "C")):
        call = _add(canvas, "kernel.call", loop, kernel=kernels[kname])
        _wire(canvas, ids[a], "tensor", call, "a")
        _wire(canvas, call, "b", ids[b], "write")
    canvas.select_ids([])
    return ids


def script(canvas: GraphCanvas) -> str:
    return export_script(canvas.doc).source


def test_task_graph_policies_edit_like_a_user_with_undo(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["tg"]])
    assert panel.node_id == ids["tg"]
    ed = {k[len("task_graph.") :]: w for k, w in panel.editors.items() if k.startswith("task_graph.")}  # fmt: skip
    tg = lambda: canvas.doc.node(ids["tg"]).props["task_graph"]  # noqa: E731
    # fields that do not apply to the current choices are disabled
    assert not ed["ready_key"].isEnabled() and not ed["threshold"].isEnabled()
    assert ed["mode"].isEnabled() and ed["deps"].isEnabled()
    assert '.task_graph(window=TaskWindow(8, "tasks", WindowMode.STALL))' in script(canvas)

    pick(qtbot, ed["deps"], "infer_bounding")
    assert tg()["deps"] == "infer_bounding"
    assert 'deps=Deps.infer("bounding")' in script(canvas)

    pick(qtbot, ed["ready"], "priority")
    assert ed["ready_key"].isEnabled()  # now the key applies
    key = ed["ready_key"]
    type_and_enter(key.lineEdit() if hasattr(key, "lineEdit") else key, "2 - i")
    assert tg()["ready_key"] == '2 - t.get("i")'  # the loop variable, read from the task
    assert 'ready=ReadyPolicy.priority(lambda t: 2 - t.get("i"))' in script(canvas)

    pick(qtbot, ed["start"], "threshold")
    assert ed["threshold"].isEnabled()
    type_and_enter(ed["threshold"].lineEdit(), "3")
    assert "start=StartPolicy.threshold(3)" in script(canvas)

    type_and_enter(ed["window"].lineEdit(), "0")  # no window: its unit and mode do not apply
    assert not ed["mode"].isEnabled() and not ed["unit"].isEnabled()
    assert "TaskWindow" not in script(canvas)

    canvas.undo()  # window back to 8
    assert ed["window"].value() == 8 and ed["mode"].isEnabled()
    canvas.undo()  # threshold back to the default
    canvas.undo()  # start back to default
    assert not ed["threshold"].isEnabled() and ed["start"].currentText() == "default"
    assert "StartPolicy" not in script(canvas)
    canvas.redo()
    assert ed["start"].currentText() == "threshold" and ed["threshold"].isEnabled()


def test_pools_table_picks_kernels_of_the_document(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["tg"]])
    pools = panel.editors["task_graph.pools"]
    assert isinstance(pools, PoolsEditor)
    tg = lambda: canvas.doc.node(ids["tg"]).props["task_graph"]  # noqa: E731
    assert pools.kernels == ["copy_k", "scale_k"]
    qtbot.mouseClick(pools.add_button, QtCore.Qt.MouseButton.LeftButton)
    assert tg()["pools"] == [{"kernel": "copy_k", "workers": 2}]
    qtbot.mouseClick(pools.add_button, QtCore.Qt.MouseButton.LeftButton)  # the next free one
    assert [p["kernel"] for p in tg()["pools"]] == ["copy_k", "scale_k"]
    assert not pools.add_button.isEnabled()  # every kernel has its pool
    type_and_enter(pools.table.cellWidget(1, 1).lineEdit(), "1")  # scale_k gets one worker
    assert "pools=Pools.by_kernel({copy_k: 2, scale_k: 1})" in script(canvas)

    with qtbot.waitSignal(canvas.message) as blocker:  # the same kernel twice is refused
        pick(qtbot, pools.table.cellWidget(1, 0), "copy_k")
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
    assert tg().get("pools", []) == []


def test_tensor_layout_edit_and_invalid_entries(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["A"]])
    layout = panel.editors["layout"]
    assert layout.text() == "" and "replicated" in layout.placeholderText()

    type_and_enter(layout, "S0, R, R")
    assert layout.styleSheet() == ""
    assert canvas.doc.node(ids["A"]).props["layout"] == ["S0", "R", "R"]
    assert "layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0)" in script(canvas)

    for text, why in (
        ("S0, R", "rank 3"),  # one entry per dimension
        ("S1, S1, R", "mesh axis 1 shards two dimensions"),
        ("S0, Q, R", "'Q' is not a distribution"),
    ):
        with qtbot.waitSignal(canvas.message) as blocker:
            type_and_enter(layout, text)
        assert layout.styleSheet() == INVALID_STYLE and why in layout.toolTip()
        assert why in blocker.args[0]
        assert canvas.doc.node(ids["A"]).props["layout"] == ["S0", "R", "R"]

    type_and_enter(layout, "r, s(1), S0")  # forgiving spelling, stored canonically
    assert canvas.doc.node(ids["A"]).props["layout"] == ["R", "S1", "S0"]
    assert "layout=TensorLayout((TensorReplicate(), TensorShard(1), TensorShard(0)))" in script(
        canvas
    )

    type_and_enter(layout, "R, R, R")  # all replicated is the default layout
    assert canvas.doc.node(ids["A"]).props["layout"] == []
    assert "layout=" not in script(canvas)

    canvas.undo()
    assert canvas.doc.node(ids["A"]).props["layout"] == ["R", "S1", "S0"]
    assert layout.text() == "R, S1, S0"
    # changing the shape re-checks the layout against the new rank
    type_and_enter(panel.editors["shape"], "4, 16")
    assert layout.styleSheet() == INVALID_STYLE and "rank 2" in layout.toolTip()


def test_tensor_mem_combo_sets_the_memory_layout(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["A"]])
    mem = panel.editors["mem"]
    items = [mem.itemText(i) for i in range(mem.count())]
    assert items == ["default", "row_major", "col_major"]
    assert mem.currentText() == "default" and "MemLayout" not in script(canvas)

    pick(qtbot, mem, "col_major")
    assert canvas.doc.node(ids["A"]).props["mem"] == "col_major"
    flat = " ".join(script(canvas).split()).replace("( ", "(").replace(", )", ")")
    assert "layout=TensorLayout.default(3, mem=MemLayout.col_major((4, 16, 16)))" in flat

    type_and_enter(panel.editors["layout"], "S0, R, R")
    flat = " ".join(script(canvas).split()).replace("( ", "(").replace(", )", ")")
    assert (
        "layout=TensorLayout.sharded(dim=0, rank=3, mesh_axis=0, "
        "mem=MemLayout.col_major((4, 16, 16)))"
    ) in flat

    canvas.undo()  # the layout edit
    canvas.undo()  # the mem edit
    assert mem.currentText() == "default" and "MemLayout" not in script(canvas)


def test_cost_table_combo_offers_ptoisa_beside_ours(qtbot, canvas, panel) -> None:
    ids = build_project(canvas)
    canvas.select_ids([ids["wl"]])
    combo = panel.editors["cost_table"]
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == ["pto_wsp (r x c rates)", "PTO-ISA A2/A3"]
    assert combo.isEnabled() and "set_cost_table" not in script(canvas)

    pick(qtbot, combo, "PTO-ISA A2/A3")
    assert canvas.doc.node(ids["wl"]).props["cost_table"] == "ptoisa_a2a3"
    assert 'program.runner.set_cost_table(CostTable.from_ptoisa("a2a3"))' in script(canvas)

    pick(qtbot, panel.editors["target"], "ascend_npu")  # prices no cycles: greyed out
    assert not panel.editors["cost_table"].isEnabled()
    assert "set_cost_table" not in script(canvas)
    canvas.undo()
    canvas.undo()
    assert canvas.doc.node(ids["wl"]).props["cost_table"] == "pto_wsp"
    assert panel.editors["cost_table"].currentText() == "pto_wsp (r x c rates)"
