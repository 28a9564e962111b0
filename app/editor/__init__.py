"""NodeGraphQt-based node editor: node classes, palette, property panel, undo."""
