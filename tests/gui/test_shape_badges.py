"""Live rank/shape checks on the canvas, and tile shapes in the kernel's params table.

Real gestures only for the edits (a call port's index edited in place on the canvas, Properties
fields and table cells typed into, combos picked with the keyboard); the sample is opened with
Ctrl+O. A bad index or tensor shape puts an error badge on the kernel call node, turns the
port's index label red and adds a line in the Diagnostics dock naming tensor, index and tile;
fixing it takes the badge away. Format v2: the call is on the root canvas (nothing entered).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QComboBox, QSpinBox
from test_build_attention import UserDriver, make_window  # noqa: F401 - fixture

from app.editor import nodes as vnodes
from app.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
ATTENTION = ROOT / "app" / "projects" / "attention.pto.json"
PARAM_KIND, PARAM_ROWS, PARAM_COLS, PARAM_DTYPE = 2, 3, 4, 5


def _open_attention(qtbot: Any, make_window: Callable[[], MainWindow]) -> UserDriver:  # noqa: F811
    window = make_window()
    window.dialogs.paths.append(ATTENTION)  # type: ignore[attr-defined]
    u = UserDriver(qtbot, window)
    u.press("Ctrl+O")
    assert window.path == ATTENTION.resolve()
    return u


def _ids(u: UserDriver) -> dict[str, str]:
    doc = u.window.document
    out = {}
    for node in doc.graph.nodes.values():
        if node.kind == "kernel.call":
            out["call"], out["loop"] = node.id, node.parent
        elif node.kind in ("data.tensor", "kernel.def"):
            out[node.name] = node.id
    return out


def _label_point(u: UserDriver, call: str, param: str) -> QPoint:
    label = u.canvas.view_node(call).port_label("in", param)
    return u.canvas.viewer.mapFromScene(label.sceneBoundingRect().center())


def _edit_index(u: UserDriver, call: str, param: str, text: str) -> None:
    """Click the port's index label on the canvas, type the index, press Enter."""
    QTest.mouseClick(u.viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _label_point(u, call, param))  # fmt: skip
    u.qtbot.waitUntil(lambda: u.canvas.index_editor() is not None)
    QTest.keyClicks(u.viewport, text)
    QTest.keyClick(u.viewport, Qt.Key.Key_Return)
    u.qtbot.waitUntil(lambda: u.canvas.index_editor() is None)


def test_bad_index_badges_the_call_and_fixing_it_clears_the_badge(
    qtbot: Any,
    make_window: Callable[[], MainWindow],  # noqa: F811
) -> None:
    u = _open_attention(qtbot, make_window)
    ids = _ids(u)
    assert u.canvas.scope is None and u.canvas.view_node(ids["call"]) is not None
    assert u.canvas.badge_of(ids["call"]) is None
    label = u.canvas.view_node(ids["call"]).port_label("in", "Q")
    assert label.text() == "Q[b, h]" and label.problem is None
    _edit_index(u, ids["call"], "Q", "b")  # Q[b]: one loop variable short
    assert u.window.document.node(ids["call"]).props["index"]["Q"] == "b"
    qtbot.waitUntil(lambda: u.canvas.badge_of(ids["call"]) == vnodes.BADGE_ERROR)
    want = "props.index.Q: Q[b] is a view of shape [4, 16, 16] but parameter Q of attn is Tile[16, 16, f32]"
    assert u.canvas.diagnostics_of(ids["call"]) == [want]
    assert want in u.canvas.view_node(ids["call"]).view.toolTip()
    label = u.canvas.view_node(ids["call"]).port_label("in", "Q")
    assert label.text() == "Q[b]" and label.problem and "Tile[16, 16, f32]" in label.toolTip()
    listed = u.window.diagnostics_list
    assert any(want in listed.item(i).text() for i in range(listed.count()))

    _edit_index(u, ids["call"], "Q", "b, h")  # the automatic index again: override dropped
    qtbot.waitUntil(lambda: u.canvas.badge_of(ids["call"]) is None)
    assert "Q" not in (u.window.document.node(ids["call"]).props.get("index") or {})
    assert u.canvas.diagnostics_of(ids["call"]) == []
    assert u.canvas.view_node(ids["call"]).port_label("in", "Q").problem is None


def test_bad_tensor_shape_badges_the_call(
    qtbot: Any,
    make_window: Callable[[], MainWindow],  # noqa: F811
) -> None:
    """The issue's example: a [.., .., 16, 8] tensor against 16x16 tile parameters."""
    u = _open_attention(qtbot, make_window)
    ids = _ids(u)
    u.canvas.fit_view()
    u.click_node(ids["O"])
    u.type_into("shape", "2, 4, 16, 8")
    assert u.window.document.node(ids["O"]).props["shape"] == [2, 4, 16, 8]
    qtbot.waitUntil(lambda: u.canvas.badge_of(ids["call"]) == vnodes.BADGE_ERROR)
    assert u.canvas.diagnostics_of(ids["call"]) == [
        "props.index.O: O[b, h] is a view of shape [16, 8] but parameter O of attn is Tile[16, 16, f32]"
    ]


def test_params_table_shows_tile_fields_only_for_tiles(
    qtbot: Any,
    make_window: Callable[[], MainWindow],  # noqa: F811
) -> None:
    u = _open_attention(qtbot, make_window)
    ids = _ids(u)
    u.canvas.fit_view()
    u.click_node(ids["attn"])
    params = u.editor("params")
    table = params.table
    for col in (PARAM_ROWS, PARAM_COLS):
        assert isinstance(table.cellWidget(0, col), QSpinBox)  # Q is Tile[16, 16, f32]

    u.choose(table.cellWidget(0, PARAM_KIND), "tensor")
    QApplication.processEvents()
    assert u.window.document.node(ids["attn"]).props["params"][0] == {
        "name": "Q",
        "direction": "In",
        "kind": "tensor",
    }
    for col in (PARAM_ROWS, PARAM_COLS, PARAM_DTYPE):  # an unshaped In[Tensor]: no tile fields
        assert table.cellWidget(0, col) is None
        assert table.item(0, col).text() == ""

    u.choose(table.cellWidget(0, PARAM_KIND), "tile")
    QApplication.processEvents()
    rows = table.cellWidget(0, PARAM_ROWS)
    assert isinstance(rows, QSpinBox) and isinstance(table.cellWidget(0, PARAM_DTYPE), QComboBox)
    rows.setFocus()
    rows.lineEdit().selectAll()
    QTest.keyClicks(rows, "8")
    QTest.keyClick(rows, Qt.Key.Key_Return)
    assert u.window.document.node(ids["attn"]).props["params"][0] == {
        "name": "Q",
        "direction": "In",
        "kind": "tile",
        "rows": 8,
        "cols": 16,
        "dtype": "f32",
    }
    # Q[b, h] is 16x16, no longer the 8x16 tile: the call inside the loop is badged.
    qtbot.waitUntil(lambda: u.canvas.badge_of(ids["call"]) == vnodes.BADGE_ERROR)
    assert u.canvas.diagnostics_of(ids["call"]) == [
        "props.index.Q: Q[b, h] is a view of shape [16, 16] but parameter Q of attn is Tile[8, 16, f32]"
    ]
