"""Where a node may live: the scope a frame's inside is (``workload``, ``compose``, ``branch``...)
and whether a kind may be placed there (``place_problem``), from each kind's ``allowed_in``."""

from __future__ import annotations

from .document import Document, Graph, Node
from .kind_lookup import display_name, find, is_frame, node_label


def scope_of_parent(doc: Document, parent_id: str | None) -> str:
    """The ``allowed_in`` scope name of the inside of frame ``parent_id`` (``root`` for None):
    ``workload`` inside a workload or statement frame, ``compose``, ``connect``, ``branch``."""
    if parent_id is None:
        return "root"
    parent = doc.graph.nodes.get(parent_id)
    k = find(parent.kind) if parent is not None else None
    if k is None or not k.frame:
        return "none"
    return k.children_scope


def scope_of_graph(doc: Document, graph: Graph) -> str:
    """``root`` for the project graph, else the body scope of the owning node (``kernel``)."""
    return scope_of_owner(doc.owner_of(graph))


def scope_of_owner(owner: Node | None) -> str:
    if owner is None:
        return "root"
    k = find(owner.kind)
    return k.body_scope if k is not None else "kernel"


def _scope_words(scope: str) -> str:
    return {
        "root": "on the canvas outside every frame",
        "workload": "inside a workload",
        "compose": "inside a combine or sequential frame",
        "connect": "inside a connect frame",
        "branch": "directly inside a P.when chain",
        "kernel": "inside a kernel body",
    }.get(scope, scope)


def place_problem(doc: Document, kind_id: str, parent_id: str | None) -> str | None:
    """Why a node of ``kind_id`` may not live in frame ``parent_id`` (None = root canvas), or
    None when it may. The frame chain decides: a loop only inside a workload, a case only
    directly in a ``branch.chain``, an instance only in combine/sequential..."""
    k = find(kind_id)
    if k is None:
        return f"unknown node kind {kind_id!r}"
    if parent_id is not None:
        parent = doc.graph.nodes.get(parent_id)
        if parent is None:
            return f"no frame {parent_id!r}"
        if not is_frame(parent.kind):
            return f"{node_label(parent)} ({display_name(parent.kind)}) is not a frame"
    scope = scope_of_parent(doc, parent_id)
    if scope in k.allowed_in:
        return None
    where = " or ".join(_scope_words(s) for s in sorted(k.allowed_in))
    return f"a {k.title} lives {where}, not {_scope_words(scope)}"


def allowed_in(doc: Document, kind_id: str, parent_id: str | None) -> bool:
    """Whether a node of ``kind_id`` may live in frame ``parent_id`` (see ``place_problem``)."""
    return place_problem(doc, kind_id, parent_id) is None


__all__ = ["scope_of_parent", "scope_of_graph", "scope_of_owner", "place_problem", "allowed_in"]
