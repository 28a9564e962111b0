"""Project files: load (validate, migrate), save (atomic, deterministic), autosave, recovery.

Loading never executes anything from the file: JSON is parsed, checked with the pydantic models
of ``schema`` and then against the node-kind registry. Every problem becomes one
``ProjectError`` whose message starts with the path of the fault, named by node id
(``nodes.n12.props.shape: expected a list of ints``), so a user can find it in the file.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from pto_wsp.errors import PtoError
from pto_wsp.fileio import atomic_write

from . import bounds, catalogue, kernel_param, kind_lookup, placement, prop_checks
from .document import FORMAT_VERSION, Backdrop, Document, Edge, Graph, Node, PortRef
from .events import DocumentEvents
from .kinds.legacy_v1 import MigrationError, migrate_v1
from .schema import DocumentModel, GraphModel


class EditedDocument(Protocol):
    """What ``Autosaver`` watches: an editor's document, its dirty flag and revision, and the
    event telling it the document was saved (``commands.DocumentEditor`` is one). A protocol,
    so that loading and saving do not depend on the editing commands (which paste through
    ``io``)."""

    @property
    def doc(self) -> Document: ...
    @property
    def dirty(self) -> bool: ...
    @property
    def revision(self) -> int: ...
    @property
    def events(self) -> DocumentEvents: ...


AUTOSAVE_SUFFIX = ".autosave"
APP_NAME = "pto-wsp"


class ProjectError(PtoError):
    """A project file cannot be read. ``path`` is the file, ``where`` the field path at fault."""

    def __init__(
        self, message: str, *, path: str | os.PathLike[str] | None = None, where: str = ""
    ):
        self.path = str(path) if path is not None else None
        self.where = where
        text = f"{where}: {message}" if where else message
        if self.path:
            text = f"{self.path}: {text}"
        super().__init__(text)

    @property
    def node_id(self) -> str | None:
        """The node id named by ``where`` (``nodes.<id>...``), if any."""
        m = re.match(r"nodes\.([^.\[]+)", self.where)
        return m.group(1) if m else None


# ------------------------------------------------------------------------------------------
# migration
# ------------------------------------------------------------------------------------------
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: migrate_v1}
"""``MIGRATIONS[v]`` upgrades the raw JSON data of ``format_version`` v to v + 1 (a step may
raise ``MigrationError`` naming the node it cannot carry over)."""


def migrate(data: dict[str, Any], path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Upgrade raw project data to ``FORMAT_VERSION`` through the ``MIGRATIONS`` table."""
    version = data.get("format_version")
    if "format_version" not in data:
        raise ProjectError("missing format_version", path=path, where="format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProjectError(
            f"expected an integer, got {version!r}", path=path, where="format_version"
        )
    if version > FORMAT_VERSION:
        raise ProjectError(
            f"the file has format_version {version}, newer than this build reads "
            f"({FORMAT_VERSION}); update PTO-WSP Studio to open it",
            path=path,
            where="format_version",
        )
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ProjectError(
                f"format_version {version} is too old: no migration to {version + 1}",
                path=path,
                where="format_version",
            )
        if version == 1:
            _model(data, path)  # v1 has v2's file structure: migrate_v1 reads well-formed data
        try:
            data = step(dict(data))
        except MigrationError as err:
            raise ProjectError(
                f"cannot open this format_version {version} file: {err.message}",
                path=path,
                where=err.where,
            ) from None
        new_version = data.get("format_version")
        if new_version != version + 1:
            raise ProjectError(
                f"migration from format_version {version} produced {new_version!r}",
                path=path,
                where="format_version",
            )
        version = new_version
    return data


# ------------------------------------------------------------------------------------------
# data <-> document
# ------------------------------------------------------------------------------------------
def _graph_data(graph: Graph) -> dict[str, Any]:
    nodes = []
    for n in graph.nodes.values():
        item: dict[str, Any] = {
            "id": n.id,
            "kind": n.kind,
            "name": n.name,
            "pos": [float(n.pos[0]), float(n.pos[1])],
            "props": n.props,
            "parent": n.parent,
        }
        if n.body is not None:
            item["body"] = _graph_data(n.body)
        nodes.append(item)
    edges = [
        {
            "src": {"node": e.src.node, "port": e.src.port},
            "dst": {"node": e.dst.node, "port": e.dst.port},
        }  # fmt: skip
        for e in graph.edges
    ]
    backdrops = [
        {
            "id": b.id,
            "title": b.title,
            "note": b.note,
            "rect": [float(v) for v in b.rect],
            "color": b.color,
        }  # fmt: skip
        for b in graph.backdrops
    ]
    return {"nodes": nodes, "edges": edges, "backdrops": backdrops}


def to_data(doc: Document) -> dict[str, Any]:
    """The JSON-ready data of ``doc`` (deep enough that json.dumps gives the file)."""
    return {
        "format_version": doc.format_version,
        "name": doc.name,
        "settings": doc.settings,
        "graph": _graph_data(doc.graph),
    }


def to_json(doc: Document) -> str:
    """Deterministic JSON text: sorted keys, one-space indent, trailing newline."""
    return json.dumps(to_data(doc), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    """A pydantic error location as a path that names nodes by id."""
    parts: list[str] = []
    cursor = raw
    i = 0
    while i < len(loc):
        key = loc[i]
        nxt = loc[i + 1] if i + 1 < len(loc) else None
        if key == "nodes" and isinstance(nxt, int):
            node_raw = cursor.get("nodes", [])[nxt] if isinstance(cursor, dict) else None
            ident = node_raw.get("id") if isinstance(node_raw, dict) else None
            parts = [f"nodes.{ident}" if isinstance(ident, str) and ident else f"nodes[{nxt}]"]
            cursor = node_raw
            i += 2
            continue
        if key == "graph" and not parts:
            cursor = cursor.get("graph") if isinstance(cursor, dict) else None
            i += 1
            continue
        if isinstance(key, int):
            parts.append(f"[{key}]")
            cursor = cursor[key] if isinstance(cursor, list) and key < len(cursor) else None
        elif isinstance(cursor, dict):
            parts.append(f".{key}" if parts else str(key))
            cursor = cursor.get(key)
        elif parts and cursor is not None:
            pass  # a union member's tag (``float``/``int``) under a scalar: not a field
        else:
            parts.append(f".{key}" if parts else str(key))
            cursor = None
        i += 1
    return "".join(parts)


def from_data(data: Any, path: str | os.PathLike[str] | None = None) -> Document:
    """Raw JSON data -> ``Document``; ``ProjectError`` naming node and field on any fault."""
    if not isinstance(data, dict):
        raise ProjectError(f"expected a JSON object, got {type(data).__name__}", path=path)
    problem = bounds.data_depth_problem(data)
    if problem is not None:
        raise ProjectError(problem, path=path)
    data = migrate(data, path)
    model = _model(data, path)
    seen: set[str] = set()
    graph = _build_graph(model.graph, None, seen, path)
    _check_frames(graph, path)
    return Document(model.format_version, model.name, graph, dict(model.settings))


def _model(data: dict[str, Any], path: str | os.PathLike[str] | None) -> DocumentModel:
    """The file's structure checked by ``schema``; ProjectError naming the first fault."""
    try:
        return DocumentModel.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        first = errors[0]
        where = _where(tuple(first["loc"]), data)
        others = {_where(tuple(e["loc"]), data) for e in errors} - {where}
        extra = f" (and {len(others)} more problems)" if others else ""
        raise ProjectError(f"{first['msg'].lower()}{extra}", path=path, where=where) from None


def _check_frames(graph: Graph, path: str | os.PathLike[str] | None) -> None:
    """Every ``parent`` names a frame of the root graph, parent chains end at the root, and
    every node's kind may live where it is (``placement.place_problem``)."""
    doc = Document(graph=graph)
    for node in graph.nodes.values():
        where = f"nodes.{node.id}"
        if node.parent is not None:
            parent = graph.nodes.get(node.parent)
            if parent is None:
                raise ProjectError(
                    f"parent {node.parent!r} is not a node of the root graph",
                    path=path,
                    where=f"{where}.parent",
                )
            if not kind_lookup.is_frame(parent.kind):
                raise ProjectError(
                    f"parent {node.parent!r} is a {kind_lookup.display_name(parent.kind)}, not a "
                    "frame",
                    path=path,
                    where=f"{where}.parent",
                )
        seen = {node.id}
        current = node.parent
        while current is not None:
            if current in seen:
                raise ProjectError(
                    f"the parent chain loops back to {current!r}",
                    path=path,
                    where=f"{where}.parent",
                )
            seen.add(current)
            current = graph.nodes[current].parent
        problem = placement.place_problem(doc, node.kind, node.parent)
        if problem is not None:
            field = "parent" if node.parent is not None else "kind"
            raise ProjectError(problem, path=path, where=f"{where}.{field}")


def _build_graph(
    gm: GraphModel, owner: Node | None, seen: set[str], path: str | os.PathLike[str] | None
) -> Graph:
    graph = Graph()
    for nm in gm.nodes:
        where = f"nodes.{nm.id}"
        if nm.id in seen:
            raise ProjectError(f"duplicate node id {nm.id!r}", path=path, where=where)
        seen.add(nm.id)
        kind = catalogue.KINDS.get(nm.kind)
        if kind is None:
            raise ProjectError(f"unknown node kind {nm.kind!r}", path=path, where=f"{where}.kind")
        props = kind.defaults()
        known = {p.name for p in kind.props}
        for key, value in kernel_param.migrate_props(nm.kind, nm.props).items():
            if key not in known:
                valid = ", ".join(sorted(known)) or "none"
                raise ProjectError(
                    f"unknown property for {nm.kind} (valid: {valid})",
                    path=path,
                    where=f"{where}.props.{key}",
                )
            problem = prop_checks.prop_problem(kind.prop(key), value)
            if problem is not None:
                raise ProjectError(problem, path=path, where=f"{where}.props.{key}")
            props[key] = value
        node = Node(nm.id, nm.kind, nm.name, (float(nm.pos[0]), float(nm.pos[1])), props)
        node.parent = nm.parent
        if owner is not None:
            if nm.parent is not None:
                raise ProjectError(
                    "a node of a kernel body lives in no frame", path=path, where=f"{where}.parent"
                )
            scope = placement.scope_of_owner(owner)
            if scope not in kind.allowed_in:
                raise ProjectError(
                    f"a {kind.title} cannot live in a {kind_lookup.display_name(owner.kind)} body",
                    path=path,
                    where=f"{where}.kind",
                )
        if kind.scope:
            if nm.body is None:
                raise ProjectError(
                    f"{nm.kind} owns a body and needs one", path=path, where=f"{where}.body"
                )
            node.body = _build_graph(nm.body, node, seen, path)
        elif nm.body is not None:
            raise ProjectError(
                f"{nm.kind} has no body (only kernel definitions own one)",
                path=path,
                where=f"{where}.body",
            )
        graph.nodes[node.id] = node
    for i, em in enumerate(gm.edges):
        for end in ("src", "dst"):
            ref = getattr(em, end)
            if ref.node not in graph.nodes:
                scope = f"nodes.{owner.id}.body." if owner is not None else ""
                raise ProjectError(
                    f"edge refers to node {ref.node!r}, which is not in this graph",
                    path=path,
                    where=f"{scope}edges[{i}].{end}",
                )
        graph.edges.append(
            Edge(PortRef(em.src.node, em.src.port), PortRef(em.dst.node, em.dst.port))
        )
    for bm in gm.backdrops:
        if bm.id in seen:
            raise ProjectError(f"duplicate id {bm.id!r}", path=path, where=f"backdrops.{bm.id}")
        seen.add(bm.id)
        x, y, w, h = (float(v) for v in bm.rect)
        graph.backdrops.append(Backdrop(bm.id, bm.title, bm.note, (x, y, w, h), bm.color))
    return graph


def from_json(text: str, path: str | os.PathLike[str] | None = None) -> Document:
    """Parse project JSON text (a file's contents, an importer's stdout).

    The nesting depth is checked on the text first (``bounds.MAX_JSON_DEPTH``), so a file of
    10,000 nested arrays is a ProjectError, not a RecursionError.
    """
    problem = bounds.json_depth_problem(text)
    if problem is not None:
        raise ProjectError(problem, path=path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProjectError(
            f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}", path=path
        ) from None
    except (ValueError, RecursionError) as err:  # e.g. an integer of more than 4300 digits
        raise ProjectError(f"not valid JSON: {err}", path=path) from None
    return from_data(data, path)


# ------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------
def load(path: str | os.PathLike[str]) -> Document:
    """Read and validate a project file. Never executes anything from it. The document's
    ``folder`` is the file's (absolute): its relative file paths resolve there."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ProjectError(f"cannot read project file: {err}", path=path) from None
    doc = from_json(text, path)
    doc.folder = Path(path).resolve().parent
    return doc


def _encoded(doc: Document, path: str | os.PathLike[str] | None) -> bytes:
    """The file's bytes; a ProjectError (not a UnicodeEncodeError) for text UTF-8 cannot hold
    (validation refuses lone surrogates, so only a document that skipped it gets here)."""
    try:
        return to_json(doc).encode("utf-8")
    except UnicodeEncodeError as err:
        raise ProjectError(
            f"cannot save project: text holds {err.object[err.start : err.end]!r}, which UTF-8 "
            "cannot store",
            path=path,
        ) from None


def save(doc: Document, path: str | os.PathLike[str]) -> None:
    """Atomically write ``doc`` to ``path`` and remove that project's autosave."""
    target = Path(path)
    data = _encoded(doc, path)
    try:
        atomic_write(target, data)
    except OSError as err:
        raise ProjectError(f"cannot save project: {err}", path=path) from None
    autosave = autosave_path(target)
    if autosave.exists():
        autosave.unlink()


# ------------------------------------------------------------------------------------------
# autosave and recovery
# ------------------------------------------------------------------------------------------
DATA_DIR_ENV = "PTO_WSP_DATA_DIR"


def autosave_dir() -> Path:
    """Where autosaves go: ``$PTO_WSP_DATA_DIR/autosave``, else ``user_data_dir/autosave``.

    Never beside the project: a project may live in a git checkout (the bundled samples do),
    where a stray autosave shows up as an untracked file. The override mirrors
    ``PTO_WSP_CONFIG_DIR`` so tests and sandboxes keep autosaves out of the user's data dir.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override) / "autosave"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME)) / "autosave"


def _project_key(path: str | os.PathLike[str]) -> str:
    """A short hash of the absolute project path: two ``model.pto.json`` in different folders
    get different autosaves, and the same file opened by another relative path the same one."""
    absolute = os.path.normcase(str(Path(path).expanduser().resolve()))
    return hashlib.sha256(absolute.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def autosave_path(path: str | os.PathLike[str] | None, name: str = "untitled") -> Path:
    """``autosave_dir()/<file name>.<path hash>.autosave`` for a saved project (keyed by its
    absolute path, so recovery finds it on open), else ``autosave_dir()/<name>.json``."""
    if path is not None:
        p = Path(path)
        return autosave_dir() / f"{p.name}.{_project_key(p)}{AUTOSAVE_SUFFIX}"
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "untitled"
    return autosave_dir() / f"{safe}.json"


def find_recoverable(path: str | os.PathLike[str]) -> Path | None:
    """The autosave of ``path`` when it is newer than the project file (or that is gone)."""
    autosave = autosave_path(path)
    if not autosave.exists():
        return None
    project = Path(path)
    if project.exists() and project.stat().st_mtime_ns >= autosave.stat().st_mtime_ns:
        return None
    return autosave


def recover() -> list[Path]:
    """Autosaves of never-saved documents, newest first (for a "recover" dialog).

    Saved projects' autosaves (``*.autosave``) are not listed: opening the project offers them."""
    folder = autosave_dir()
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob("*.json") if p.is_file()]
    return sorted(files, key=lambda p: p.stat().st_mtime_ns, reverse=True)


class Autosaver:
    """Writes the editor's document every ``interval_s`` seconds while it has unsaved edits.

    Qt-free: the GUI calls ``tick(time.monotonic())`` from a timer. An autosave is written only
    when the document changed since the last autosave; it is removed once the document is saved
    (the editor's ``dirty`` flag drops) or ``discard()`` is called.
    """

    def __init__(
        self,
        editor: EditedDocument,
        path: str | os.PathLike[str] | None,
        interval_s: float = 60.0,
    ):
        if interval_s <= 0:
            raise ValueError(f"autosave interval must be positive, got {interval_s}")
        self.editor = editor
        self.path = Path(path) if path is not None else None
        self.interval_s = float(interval_s)
        self._last_time: float | None = None
        self._last_revision: int | None = None
        editor.events.dirty_changed.connect(self._on_dirty_changed)

    @property
    def target(self) -> Path:
        return autosave_path(self.path, self.editor.doc.name)

    def set_path(self, path: str | os.PathLike[str] | None) -> None:
        """The project was saved under a (new) path: later autosaves are keyed by it."""
        self.discard()
        self.path = Path(path) if path is not None else None

    def tick(self, now: float) -> Path | None:
        """Autosave if due; returns the file written, or None."""
        if self._last_time is None:
            self._last_time = now
        if not self.editor.dirty or self.editor.revision == self._last_revision:
            return None
        if now - self._last_time < self.interval_s:
            return None
        target = self.target
        try:
            data = _encoded(self.editor.doc, target)
        except ProjectError as err:  # callers handle OSError: the autosave failed
            raise OSError(errno.EILSEQ, str(err)) from None
        atomic_write(target, data)
        self._last_time = now
        self._last_revision = self.editor.revision
        return target

    def discard(self) -> None:
        """Remove this document's autosave, if any."""
        target = self.target
        if target.exists():
            target.unlink()
        self._last_revision = None

    def _on_dirty_changed(self, dirty: bool) -> None:
        if not dirty:
            self.discard()


__all__ = [
    "ProjectError",
    "MIGRATIONS",
    "AUTOSAVE_SUFFIX",
    "migrate",
    "to_data",
    "to_json",
    "from_data",
    "from_json",
    "load",
    "save",
    "DATA_DIR_ENV",
    "autosave_dir",
    "autosave_path",
    "find_recoverable",
    "recover",
    "Autosaver",
]
