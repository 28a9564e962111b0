"""Files a document names: a kernel's C++ kept in a file of its own (``cpp_body_path``,
``cpp_tu_path``), the properties the kind registry flags ``names_file``.

A relative path is read as the user reads it beside the project: against the folder of the
document's file (``Document.folder``), never against the working directory or the folder of an
exported script (for a run, a temporary folder). So a project and its C++ can move together,
and ``pto-wsp run PROJECT`` finds the file from any working directory. A document in no file
yet has no folder: a relative path is then an error that says to save it first (or to give an
absolute path). The exporter writes the resolved path (``export``); the trust hash covers the
file's content (``trust``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import catalogue
from .document import Document, Node
from .kind_lookup import display_name

__all__ = ["NamedFile", "NamedFileError", "file_fields", "resolve", "named_files", "read"]


class NamedFileError(Exception):
    """A file a node names cannot be resolved or read; the message names node and field."""

    def __init__(self, node: Node, field: str, message: str):
        self.node_id = node.id
        self.field = field
        self.message = message
        super().__init__(f"{_label(node)}: {field}: {message}")


@dataclass(frozen=True)
class NamedFile:
    """One file a node names: ``value`` as written in the document, ``path`` resolved."""

    node_id: str
    name: str
    field: str
    value: str
    path: Path


def _label(node: Node) -> str:
    """``kernel attn (node n4)``: the kind as users call it, the name, the id."""
    return f"{display_name(node.kind).lower()} {node.name or node.id} (node {node.id})"


def file_fields(kind_id: str) -> tuple[str, ...]:
    """The properties of node kind ``kind_id`` that name a file (the registry's flag)."""
    spec = catalogue.KINDS.get(kind_id)
    return tuple(p.name for p in spec.props if p.names_file) if spec is not None else ()


def resolve(doc: Document, node: Node, field: str) -> Path:
    """The file ``node``'s ``field`` names: absolute (``~`` expanded) as written, else under
    ``doc.folder``. ``NamedFileError`` when it is relative and the document is in no file."""
    value = str(node.props.get(field) or "")
    try:
        path = Path(value).expanduser()
    except RuntimeError as err:  # "~user/..." of an unknown user
        raise NamedFileError(node, field, f"{value!r}: {err}") from None
    if path.is_absolute():
        return path
    if doc.folder is None:
        raise NamedFileError(
            node,
            field,
            f"{value!r} is relative to the project file's folder, and the project is not saved "
            "yet: save it first, or give an absolute path",
        )
    return Path(doc.folder) / path


def named_files(doc: Document) -> list[NamedFile]:
    """Every file the document names (non-blank ``names_file`` properties), ordered by node id
    and field so the list does not depend on walk order."""
    found: list[NamedFile] = []
    for node, _graph, _owner in doc.walk():
        for field in file_fields(node.kind):
            value = node.props.get(field)
            if isinstance(value, str) and value.strip():
                path = resolve(doc, node, field)
                found.append(NamedFile(node.id, node.name or node.id, field, value, path))
    return sorted(found, key=lambda f: (f.node_id, f.field))


def read(doc: Document, named: NamedFile) -> bytes:
    """The bytes of ``named``; ``NamedFileError`` naming node, field and path when the file is
    missing or unreadable (never an empty pass)."""
    try:
        return named.path.read_bytes()
    except OSError as err:
        reason = err.strerror or str(err)
        node = doc.node(named.node_id)
        shown = repr(named.value)
        if named.value != os.fspath(named.path):
            shown += f" ({named.path})"
        raise NamedFileError(node, named.field, f"cannot read {shown}: {reason}") from None
