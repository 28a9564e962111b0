"""Pydantic v2 models of the project-file JSON (structure only; kinds/props are checked in io).

The file layout (``format_version`` 2; docs/graph-model.md)::

    {"format_version": 2, "name": "...", "settings": {...},
     "graph": {"nodes": [{"id", "kind", "name", "pos": [x, y], "props": {...},
                          "parent": "<frame id>" | null,  # the enclosing frame
                          "body": {graph}  # kernel definitions only
                         }, ...],
               "edges": [{"src": {"node", "port"}, "dst": {"node", "port"}}, ...],
               "backdrops": [{"id", "title", "note", "rect": [x, y, w, h], "color"}, ...]}}

Nodes are a list (file order = document order, which is also the order of a frame's
children); ids are unique across the whole document. Format v1 files (no ``parent``; scope
bodies instead of frames) have the same structure and are migrated by ``io``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

Coord = StrictFloat | StrictInt


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PortRefModel(_Strict):
    node: StrictStr
    port: StrictStr


class EdgeModel(_Strict):
    src: PortRefModel
    dst: PortRefModel


class BackdropModel(_Strict):
    id: StrictStr
    title: StrictStr = ""
    note: StrictStr = ""
    rect: tuple[Coord, Coord, Coord, Coord] = (0.0, 0.0, 400.0, 300.0)
    color: StrictStr = "#3a3f4b"


class NodeModel(_Strict):
    id: StrictStr = Field(min_length=1)
    kind: StrictStr
    name: StrictStr = ""
    pos: tuple[Coord, Coord] = (0.0, 0.0)
    props: dict[str, Any] = Field(default_factory=dict)
    body: GraphModel | None = None
    parent: StrictStr | None = None


class GraphModel(_Strict):
    nodes: list[NodeModel] = Field(default_factory=list)
    edges: list[EdgeModel] = Field(default_factory=list)
    backdrops: list[BackdropModel] = Field(default_factory=list)


class DocumentModel(_Strict):
    format_version: StrictInt
    name: StrictStr = "untitled"
    graph: GraphModel = Field(default_factory=GraphModel)
    settings: dict[str, Any] = Field(default_factory=dict)


NodeModel.model_rebuild()

__all__ = ["PortRefModel", "EdgeModel", "BackdropModel", "NodeModel", "GraphModel", "DocumentModel"]
