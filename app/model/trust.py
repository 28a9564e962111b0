"""Workspace trust: which documents carry code, and which of those the user has trusted.

A project file is data, but some properties carry C++ by design: the ones the kind registry
flags ``carries_code`` (today ``cpp_src``, ``cpp_includes``, ``cpp_body_path`` and
``cpp_tu_path`` of a kernel). A run compiles and executes that code, so a code-bearing file from
elsewhere opens in *restricted mode* in the Studio (no auto-run, a bar naming the kernels, Run
asks once), as VS Code's workspace trust and Jupyter's trusted notebooks do. Key and index
expressions are not code: they are parsed against a whitelist and never evaluated as Python, so
they never make a document restricted.

Trust is remembered by *content hash*: SHA-256 of the document's canonical JSON (``io.to_json``,
the exact text a save writes) and of the content of every C++ file it names (``cpp_body_path``,
``cpp_tu_path``: the code-bearing properties flagged ``names_file``, resolved against the
document's folder by ``doc_files``; ``code_files``). So the same content is trusted wherever the
file lives, and any change to it — a kernel's C++ in the document or in the file it names —
needs consent again. A named file that is missing or unreadable is a ``NamedFileError`` naming
node and field, never a silent pass (``assess`` reports it as the reason the document is not
trusted). Include paths (``cpp_includes``) are trusted as paths: the headers are not hashed.
The hashes live in a small JSON file under the user's config directory
(``platformdirs.user_config_dir("pto-wsp")``, or ``$PTO_WSP_CONFIG_DIR``). A document is
trusted when any of these holds:

* it carries no code;
* its content hash is in the store: the user consented (Run, "Trust and run"), or the Studio
  saved exactly this content while the document was trusted;
* it is one of the samples shipped with the product (a file under ``BUNDLED_PROJECTS``):
  trusted by location, since whoever can write there can change the product itself.

Qt-free: the window (``app.main_window``/``app.trust_bar``), the CLI and ``app.sweep`` share it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pto_wsp.fileio import atomic_write
from pto_wsp.package_data import package_path

from . import catalogue, doc_files, io
from .doc_files import NamedFileError
from .document import Document

__all__ = [
    "CONFIG_DIR_ENV",
    "STORE_NAME",
    "MAX_ENTRIES",
    "BUNDLED_PROJECTS",
    "CodeCarrier",
    "CodeFile",
    "NamedFileError",
    "code_files",
    "files_text",
    "TrustStoreError",
    "TrustStore",
    "code_fields",
    "code_carriers",
    "kernel_list",
    "content_hash",
    "is_bundled",
    "config_dir",
    "default_store",
    "run_notice",
    "Assessment",
    "assess",
]

CONFIG_DIR_ENV = "PTO_WSP_CONFIG_DIR"
"""Overrides the user's config directory (tests, portable installs)."""
STORE_NAME = "trusted-projects.json"
MAX_ENTRIES = 2000
"""The store keeps the most recent hashes only, so a long-lived config stays small; a file whose
hash was dropped asks for consent again, which is safe."""
BUNDLED_PROJECTS = package_path(__name__.partition(".")[0], "projects").resolve()
"""The samples shipped with the product (``app/projects/``, also ``app/projects/samples/``):
package data of the Studio's package, in a checkout and an installed wheel alike."""
_FORMAT = 1


def code_fields(kind_id: str) -> tuple[str, ...]:
    """The properties of node kind ``kind_id`` that carry code (the registry's flag)."""
    spec = catalogue.KINDS.get(kind_id)
    if spec is None:
        return ()
    return tuple(p.name for p in spec.props if p.carries_code)


@dataclass(frozen=True)
class CodeCarrier:
    """A node whose code-bearing properties are set: ``fields`` names them, in registry order."""

    node_id: str
    name: str
    kind: str
    fields: tuple[str, ...]


def code_carriers(doc: Document) -> list[CodeCarrier]:
    """Every node of ``doc`` (all scopes) with a non-empty code-bearing property.

    "Non-empty" is the exporter's test: a string or list that is truthy reaches the script.
    """
    found: list[CodeCarrier] = []
    for node, _graph, _owner in doc.walk():
        fields = tuple(f for f in code_fields(node.kind) if node.props.get(f))
        if fields:
            found.append(CodeCarrier(node.id, node.name or node.id, node.kind, fields))
    return found


def kernel_list(carriers: Iterable[CodeCarrier]) -> str:
    """``"kernels a, b"`` (``"kernel a"`` for one): how every message names the carriers."""
    names = [c.name for c in carriers]
    return f"kernel{'s' if len(names) != 1 else ''} {', '.join(names)}"


def run_notice(source: str | os.PathLike[str], carriers: list[CodeCarrier]) -> str:
    """The one line a command that runs a code-bearing file prints (the command is the consent)."""
    return f"{source} carries C++ code ({kernel_list(carriers)}); running it: the command is the consent"


@dataclass(frozen=True)
class CodeFile:
    """A C++ file a code-bearing property names, with the SHA-256 (hex) of its content."""

    node_id: str
    name: str
    field: str
    path: Path
    sha256: str

    def describe(self) -> str:
        """``the C++ file of kernel k (cpp_body_path, /abs/body.cpp)``."""
        return f"the C++ file of kernel {self.name} ({self.field}, {self.path})"


def code_files(doc: Document) -> tuple[CodeFile, ...]:
    """Every C++ file ``doc`` names, read now (``doc_files``: relative to its folder).
    ``NamedFileError`` naming node and field when one cannot be resolved or read."""
    found = []
    for named in doc_files.named_files(doc):
        if named.field not in code_fields(doc.node(named.node_id).kind):
            continue  # a file that is data, not code (no such property today)
        digest = hashlib.sha256(doc_files.read(doc, named)).hexdigest()
        found.append(CodeFile(named.node_id, named.name, named.field, named.path, digest))
    return tuple(found)


def files_text(files: Iterable[CodeFile]) -> str:
    """``the C++ files of kernels a (cpp_body_path), b (cpp_tu_path)``: how messages name them."""
    files = list(files)
    parts = [f"{f.name} ({f.field})" for f in files]
    plural = "s" if len(files) != 1 else ""
    return f"the C++ file{plural} of kernel{plural} {', '.join(parts)}"


def content_hash(doc: Document, files: Iterable[CodeFile] | None = None) -> str:
    """SHA-256 (hex) of ``doc``'s canonical JSON (the text ``io.save`` writes for it), then of
    each C++ file it names (node id, field and the file's own SHA-256, in ``code_files``
    order). Without named files it is the SHA-256 of the JSON text alone.

    ``files``: the ``code_files(doc)`` already read (read here when None; ``NamedFileError``
    when one cannot be). ``surrogatepass``: a lone surrogate (which a save refuses) still
    hashes, never raises.
    """
    h = hashlib.sha256(io.to_json(doc).encode("utf-8", "surrogatepass"))
    for f in code_files(doc) if files is None else files:
        h.update(f"\0file\0{f.node_id}\0{f.field}\0{f.sha256}".encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def is_bundled(path: str | os.PathLike[str] | None, root: Path | None = None) -> bool:
    """Whether ``path`` (symlinks resolved) is a file under ``root`` (default: the bundled
    samples directory, ``BUNDLED_PROJECTS``)."""
    if path is None:
        return False
    root = root if root is not None else BUNDLED_PROJECTS
    try:
        resolved = Path(path).resolve()
        return resolved.is_relative_to(root.resolve()) and resolved.is_file()
    except OSError:
        return False


def config_dir() -> Path:
    """``$PTO_WSP_CONFIG_DIR``, else ``platformdirs.user_config_dir("pto-wsp")``."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir(io.APP_NAME))


class TrustStoreError(Exception):
    """The trust store cannot be read or written; the message names the file."""


class TrustStore:
    """The set of trusted content hashes, in one JSON file written atomically.

    ``{"format": 1, "sha256": ["<hex>", ...]}``, oldest first, at most ``MAX_ENTRIES``. A
    missing file is an empty store. An unreadable or malformed one raises ``TrustStoreError``
    from ``is_trusted`` (callers treat the document as untrusted and say why); ``record``
    replaces it. Two processes recording at once may lose one entry: that file asks again.
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def hashes(self) -> list[str]:
        """The stored hashes, oldest first (``TrustStoreError`` if the file is unusable)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as err:
            raise TrustStoreError(f"{self.path}: cannot read the trust store: {err}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise TrustStoreError(
                f"{self.path}: the trust store is not valid JSON: {err}"
            ) from None
        entries = data.get("sha256") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.get("format") != _FORMAT
            or not isinstance(entries, list)
            or not all(isinstance(h, str) for h in entries)
        ):
            raise TrustStoreError(
                f'{self.path}: the trust store is not {{"format": {_FORMAT}, "sha256": [...]}}'
            )
        return entries

    def is_trusted(self, digest: str) -> bool:
        return digest in self.hashes()

    def record(self, digest: str) -> None:
        """Add ``digest`` (moved to the newest end if present); ``TrustStoreError`` if the file
        cannot be written. A malformed store is replaced."""
        try:
            entries = self.hashes()
        except TrustStoreError:
            entries = []
        entries = [h for h in entries if h != digest] + [digest]
        data = {"format": _FORMAT, "sha256": entries[-MAX_ENTRIES:]}
        try:
            atomic_write(self.path, json.dumps(data, indent=1) + "\n")
        except OSError as err:
            raise TrustStoreError(f"{self.path}: cannot write the trust store: {err}") from None


def default_store() -> TrustStore:
    """The user's trust store (``config_dir() / STORE_NAME``)."""
    return TrustStore(config_dir() / STORE_NAME)


@dataclass(frozen=True)
class Assessment:
    """Whether a document may run without asking, and why (shown in the Studio's status bar).

    ``digest`` is the content hash of the document as assessed (what consent records; "" when
    a named file could not be read: ``problem`` says which, and nothing can be recorded).
    ``files`` are the C++ files it names as they were read for the hash.
    """

    trusted: bool
    reason: str
    carriers: tuple[CodeCarrier, ...]
    digest: str
    files: tuple[CodeFile, ...] = ()
    problem: str | None = None


def assess(
    doc: Document,
    path: str | os.PathLike[str] | None = None,
    store: TrustStore | None = None,
    *,
    bundled_root: Path | None = None,
) -> Assessment:
    """Apply the trust rule (module doc) to ``doc`` opened from ``path`` (None: not a file).

    ``bundled_root`` defaults to ``BUNDLED_PROJECTS`` (read at the call).
    """
    carriers = tuple(code_carriers(doc))
    if not carriers:
        return Assessment(True, "carries no code", carriers, content_hash(doc, ()))
    try:
        files = code_files(doc)
    except NamedFileError as err:
        return Assessment(False, str(err), carriers, "", problem=str(err))
    digest = content_hash(doc, files)
    if is_bundled(path, bundled_root if bundled_root is not None else BUNDLED_PROJECTS):
        return Assessment(True, "a sample shipped with PTO-WSP", carriers, digest, files)
    store = store if store is not None else default_store()
    try:
        if store.is_trusted(digest):
            return Assessment(True, "trusted earlier (same content)", carriers, digest, files)
    except TrustStoreError as err:
        return Assessment(False, str(err), carriers, digest, files)
    return Assessment(False, "not trusted yet", carriers, digest, files)
