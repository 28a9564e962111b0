"""NodeGraphQt-based node editor: node classes, palette, property panel, canvas.

The widgets are re-exported here (``from app.editor import GraphCanvas``) but imported on first
use: ``app.editor.compat`` must be importable on its own, before Qt and NodeGraphQt are loaded,
so that it can choose the Qt binding first (see ``compat.load_nodegraphqt``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .canvas import GraphCanvas
    from .palette import Palette
    from .properties import PropertiesPanel

__all__ = ["GraphCanvas", "Palette", "PropertiesPanel"]

_HOMES = {
    "GraphCanvas": ".canvas",
    "Palette": ".palette",
    "PropertiesPanel": ".properties",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value
