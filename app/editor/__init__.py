"""NodeGraphQt-based node editor: node classes, palette, property panel, canvas.

The widgets are re-exported here (``from app.editor import GraphCanvas``) but imported on first
use: ``app.editor.compat`` must be importable on its own, before Qt and NodeGraphQt are loaded,
so that it can choose the Qt binding first (see ``compat.load_nodegraphqt``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.editor.canvas import GraphCanvas
    from app.editor.palette import Palette
    from app.editor.properties import PropertiesPanel

__all__ = ["GraphCanvas", "Palette", "PropertiesPanel"]

_HOMES = {
    "GraphCanvas": "app.editor.canvas",
    "Palette": "app.editor.palette",
    "PropertiesPanel": "app.editor.properties",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'app.editor' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
