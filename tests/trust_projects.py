"""Code-bearing project documents for the trust tests (GUI, CLI): the bundled matmul project
with its kernel's body in C++ (``cpp_src``), so a run compiles and executes user C++."""

from __future__ import annotations

from pathlib import Path

from app.model import io
from app.model.document import Document
from app.model.validation import validate_document

ROOT = Path(__file__).resolve().parents[1]
MATMUL = ROOT / "app" / "projects" / "matmul.pto.json"
CPP = "/* a C++ body that does nothing: the cost model times it */"


def code_document(cpp: str = CPP) -> Document:
    """The bundled matmul project whose kernel ``matmul`` has its body in C++."""
    doc = io.load(MATMUL)
    kernel = next(n for n, _g, _o in doc.walk() if n.kind == "kernel.def")
    assert kernel.body is not None
    keep = ("scope.entry", "kernel.param")
    kernel.body.nodes = {i: n for i, n in kernel.body.nodes.items() if n.kind in keep}
    kernel.body.edges = []
    kernel.props["cpp_src"] = cpp
    assert validate_document(doc) == []
    return doc


def write_elsewhere(doc: Document, path: Path) -> Path:
    """A file written by someone else (not a save in the Studio: no trust is recorded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    io.save(doc, path)
    return path


def body_file_document(body_path: str, abi: str = "auto") -> Document:
    """The bundled matmul project whose kernel ``matmul`` has its C++ body in a file
    (``cpp_body_path=body_path``, as written: relative to the project file's folder or
    absolute); ``abi`` is the kernel's ABI choice."""
    doc = code_document()
    kernel = next(n for n, _g, _o in doc.walk() if n.kind == "kernel.def")
    kernel.props["cpp_src"] = ""
    kernel.props["cpp_body_path"] = body_path
    kernel.props["abi"] = abi
    return doc
