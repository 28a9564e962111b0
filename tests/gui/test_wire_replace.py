"""A wire dropped on an input that already has one replaces it, and says so.

An input takes one wire, so the gesture is accepted — but the tensor that fed the port silently
losing its use surprised a user wiring K into the V port of the §8.1 call. The status bar names
the new source, the port and the wire it replaced; Ctrl+Z restores the old wire.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from designer_hands import Hands
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_build_attention import make_window  # noqa: F401 - fixture

from app.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def test_wiring_into_a_wired_input_replaces_it_and_says_which(
    qtbot: Any,
    make_window: Callable[[], MainWindow],  # noqa: F811
) -> None:
    window = make_window()
    assert window.open_path(
        ROOT / "app" / "projects" / "attention_varlen.pto.json", ask_to_save=False
    )
    doc = window.document
    by_name = {n.name: n.id for n in doc.graph.nodes.values() if n.name}
    call = next(n.id for n in doc.graph.nodes.values() if n.props.get("kernel"))
    hands = Hands(qtbot, window)

    def feeds(port: str) -> list[str]:
        return [e.src.node for e in doc.graph.edges if e.dst.node == call and e.dst.port == port]

    assert feeds("V") == [by_name["V"]]
    hands.wire(by_name["K"], "tensor", call, "V")
    assert feeds("V") == [by_name["K"]]
    message = window.statusBar().currentMessage()
    assert message.startswith("K now feeds attn_kernel[b, h].V, replacing V"), message
    QTest.keyClick(window.canvas.viewer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert feeds("V") == [by_name["V"]]
