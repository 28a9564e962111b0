"""One node kind by id: the lookup every layer of the model asks (``kind_of(node).frame``).

The kind table is assembled from the kind family modules by ``app.model.catalogue``; the family
modules, though, name title functions and call helpers (``titles``, ``frames``, ``indexing``) that
must themselves ask a node's kind. If those helpers imported the catalogue, the catalogue would
import them back through the families: an import cycle. So the dependency is turned around, as
``pto_wsp.language.toolchain`` does for the compiler: the catalogue *binds* its table here when it
is imported (``app/model/__init__`` imports it first, so importing any ``app.model`` module binds
it), and the helpers import only this module.
"""

from __future__ import annotations

from collections.abc import Mapping

from .document import Node
from .kinds._base import NodeKind

_table: Mapping[str, NodeKind] | None = None


def bind(table: Mapping[str, NodeKind]) -> None:
    """Install the kind table (called once by ``app.model.catalogue``)."""
    global _table
    _table = table


def table() -> Mapping[str, NodeKind]:
    """The bound kind table (kind id -> ``NodeKind``)."""
    if _table is None:  # pragma: no cover - app/model/__init__ imports the catalogue first
        raise RuntimeError("the node kind table is not bound; import app.model")
    return _table


class UnknownKind(KeyError):
    """A kind id that is not in the kind table."""

    def __str__(self) -> str:
        return str(self.args[0])


NO_KIND = NodeKind("", "", "Internal", [], [], in_palette=False)
"""What ``kind_of`` gives for an unknown kind id: a kind with no roles."""


def find(kind_id: str) -> NodeKind | None:
    """The ``NodeKind`` for ``kind_id``, or None when there is no such kind."""
    return table().get(kind_id)


def kind(kind_id: str) -> NodeKind:
    """The ``NodeKind`` for ``kind_id``; ``UnknownKind`` naming it otherwise."""
    found = table().get(kind_id)
    if found is None:
        raise UnknownKind(f"unknown node kind {kind_id!r}")
    return found


def kind_of(node: Node | str) -> NodeKind:
    """The ``NodeKind`` of a node (or kind id): ``NO_KIND`` (no roles) when unknown, so a role
    question (``kind_of(n).calls_kernel``) on a corrupt document answers no instead of raising."""
    return table().get(node if isinstance(node, str) else node.kind, NO_KIND)


def is_frame(kind_id: str) -> bool:
    """Whether nodes of ``kind_id`` are frames (hold children via ``Node.parent``)."""
    found = table().get(kind_id)
    return found is not None and found.frame


def display_name(kind_id: str) -> str:
    """What users call kind ``kind_id`` (its title, e.g. "Tensor"); the id itself if unknown.

    Every user-facing message names a kind this way, never by its id (``data.tensor``).
    """
    found = table().get(kind_id)
    return found.title if found is not None else kind_id


def node_label(node: Node) -> str:
    """What a message calls ``node``: its name, else its kind's display name (never an id)."""
    return node.name or display_name(node.kind)


def names_a_variable(kind_id: str) -> bool:
    """Whether a node of this kind is a variable of the exported script, named by its name
    (so the name must pass ``pytext.identifier_problem``): named root nodes (workloads and
    compositions too), processes and collectives."""
    found = table().get(kind_id)
    if found is None or not found.name_base:
        return False
    return "root" in found.allowed_in or found.collective or found.module_level


__all__ = [
    "bind",
    "table",
    "UnknownKind",
    "NO_KIND",
    "find",
    "kind",
    "kind_of",
    "is_frame",
    "display_name",
    "node_label",
    "names_a_variable",
]
