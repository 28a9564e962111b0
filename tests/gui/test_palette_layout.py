"""The palette does not move under the cursor: adding a kernel to the project lists its call
entry in the last section, so every entry above stays where it was and the next drag picks what
the user aimed at. New nodes of a reserved base count from one (``kernel1``, ``workload1``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QSettings
from test_main_window import drop_kind, shown_window

from app.editor.nodes import node_type_for
from app.editor.palette import CALLS_CATEGORY, TYPE_ROLE, kernel_call_type
from app.model import io


def test_adding_a_kernel_moves_no_palette_entry(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(io, "autosave_dir", lambda: tmp_path / "autosave")
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)
    window = shown_window(qtbot, settings, size=(1200, 800))
    palette = window.palette
    tree = palette.tree

    def rects() -> dict[str, Any]:
        return {
            it.data(0, TYPE_ROLE) or it.text(0): tree.visualItemRect(it)
            for it in palette.visible_items()
        }

    workload_item = palette.item_for_type(node_type_for("workload.def"))
    assert workload_item is not None
    before = rects()
    workload_at = tree.visualItemRect(workload_item)

    kernel = drop_kind(window, "kernel.def", QPoint(200, 200))  # a drag from the palette
    assert window.document.node(kernel).name == "kernel1"  # the first kernel, not "kernel2"
    qtbot.waitUntil(lambda: palette.item_for_type(kernel_call_type(kernel)) is not None)
    call = palette.item_for_type(kernel_call_type(kernel))
    assert call.parent().text(0) == CALLS_CATEGORY and call.text(0).startswith("kernel1")

    after = rects()
    moved = [key for key, rect in before.items() if after.get(key) != rect]
    assert moved == []  # every entry listed before is where it was
    assert tree.visualItemRect(workload_item) == workload_at
    assert tree.visualItemRect(call).top() > max(r.top() for r in before.values())

    workload = drop_kind(window, "workload.def", QPoint(500, 400))  # still the Workload entry
    assert window.document.node(workload).kind == "workload.def"
    assert window.document.node(workload).name == "workload1"
