"""The Qt-free graph document of PTO-WSP Studio (node kinds, ports, edges, load/save, export).

Nothing here may import Qt: the import-linter contract in pyproject.toml enforces it.
"""
