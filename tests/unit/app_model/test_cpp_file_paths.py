"""A kernel's C++ in a file the project names (``cpp_body_path`` / ``cpp_tu_path``, issue #17
item 3): a relative path resolves against the project file's folder (``app.model.doc_files``),
whatever folder the exported script is written to or run from, and the trust hash covers the
file's content (``app.model.trust``, DESIGN §1 "Trust"): editing the file needs consent again,
a missing file is an error naming node and field.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from trust_projects import CPP, body_file_document, write_elsewhere

from app.document_trust import DocumentTrust
from app.model import doc_files, io, trust
from app.model.document import Document
from app.model.export import ExportError, export_script


@pytest.fixture
def store(tmp_path: Path) -> trust.TrustStore:
    return trust.TrustStore(tmp_path / "config" / trust.STORE_NAME)


def kernel_of(doc: Document):
    return next(n for n, _g, _o in doc.walk() if n.kind == "kernel.def")


def project_with_body(folder: Path, value: str = "body.cpp", text: str = CPP) -> Path:
    """``folder/matmul_file.pto.json`` naming ``value`` as its body, and the body file beside it
    (``folder/value``)."""
    body = folder / value
    body.parent.mkdir(parents=True, exist_ok=True)
    body.write_text(text)
    return write_elsewhere(body_file_document(value), folder / "matmul_file.pto.json")


# ------------------------------------------------------------------------------------------
# where a relative path resolves
# ------------------------------------------------------------------------------------------
def test_the_file_fields_come_from_the_registry_flag() -> None:
    assert doc_files.file_fields("kernel.def") == ("cpp_body_path", "cpp_tu_path")
    assert set(doc_files.file_fields("kernel.def")) <= set(trust.code_fields("kernel.def"))
    assert doc_files.file_fields("no.such.kind") == ()


def test_a_loaded_document_resolves_relative_paths_in_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = project_with_body(tmp_path / "proj", "src/body.cpp")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    relative = Path(os.path.relpath(project, elsewhere))  # ../proj/matmul_file.pto.json
    doc = io.load(relative)
    assert doc.folder == (tmp_path / "proj").resolve() and doc.folder.is_absolute()
    (named,) = doc_files.named_files(doc)
    assert named.path == (tmp_path / "proj" / "src" / "body.cpp").resolve()
    assert named.value == "src/body.cpp" and named.field == "cpp_body_path"
    # an absolute path is taken as written
    kernel_of(doc).props["cpp_body_path"] = str(tmp_path / "abs.cpp")
    assert doc_files.resolve(doc, kernel_of(doc), "cpp_body_path") == tmp_path / "abs.cpp"


def test_a_relative_path_in_an_unsaved_document_is_an_error_naming_node_and_field() -> None:
    doc = body_file_document("body.cpp")
    doc.folder = None  # in no file yet (New, or an import)
    kernel = kernel_of(doc)
    with pytest.raises(doc_files.NamedFileError) as err:
        doc_files.named_files(doc)
    assert err.value.node_id == kernel.id and err.value.field == "cpp_body_path"
    assert str(err.value).startswith(f"kernel matmul (node {kernel.id}): cpp_body_path: ")
    assert "not saved yet" in str(err.value)
    with pytest.raises(ExportError) as exported:
        export_script(doc)
    assert (exported.value.node_id, exported.value.field) == (kernel.id, "props.cpp_body_path")
    assert "save it first" in exported.value.message


def test_export_writes_the_resolved_path_except_beside_the_project(tmp_path: Path) -> None:
    project = project_with_body(tmp_path / "proj")
    doc = io.load(project)
    body = str((tmp_path / "proj" / "body.cpp").resolve())
    # a run's script (a temporary folder) or a script of unknown place: the resolved path
    assert f'cpp_body_path="{body}"' in export_script(doc).source
    assert f'cpp_body_path="{body}"' in export_script(doc, tmp_path / "run").source
    # Export to Python beside the project: relative as written, as the DSL resolves it alike
    beside = export_script(doc, tmp_path / "proj").source
    assert 'cpp_body_path="body.cpp"' in beside
    # a document saved elsewhere names the file in its new folder
    moved = project_with_body(tmp_path / "moved")
    again = io.load(moved)
    expected = str((tmp_path / "moved" / "body.cpp").resolve())
    assert f'cpp_body_path="{expected}"' in export_script(again).source


# ------------------------------------------------------------------------------------------
# the trust hash covers the file
# ------------------------------------------------------------------------------------------
def test_the_content_hash_covers_the_named_files_content(tmp_path: Path) -> None:
    project = project_with_body(tmp_path / "proj")
    body = tmp_path / "proj" / "body.cpp"
    doc = io.load(project)
    first = trust.content_hash(doc)
    json_only = hashlib.sha256(io.to_json(doc).encode()).hexdigest()
    assert first != json_only  # the file is part of it
    body.write_text(CPP + "\n// edited")
    edited = trust.content_hash(doc)
    assert edited != first
    body.write_text(CPP)
    assert trust.content_hash(doc) == first  # same content, same hash
    # moved together with its file: the same content, trusted wherever it lives
    moved = io.load(project_with_body(tmp_path / "moved"))
    assert trust.content_hash(moved) == first
    # a document with C++ inline only keeps the hash of its JSON text alone
    doc.node(kernel_of(doc).id).props.update(cpp_body_path="", cpp_src=CPP)
    assert trust.content_hash(doc) == hashlib.sha256(io.to_json(doc).encode()).hexdigest()


def test_a_missing_file_is_an_error_naming_node_and_field_not_a_pass(
    tmp_path: Path, store: trust.TrustStore
) -> None:
    project = project_with_body(tmp_path / "proj")
    doc = io.load(project)
    store.record(trust.content_hash(doc))
    assert trust.assess(doc, project, store).trusted
    (tmp_path / "proj" / "body.cpp").unlink()
    kernel = kernel_of(doc)
    with pytest.raises(trust.NamedFileError) as err:
        trust.content_hash(doc)
    message = str(err.value)
    assert message.startswith(f"kernel matmul (node {kernel.id}): cpp_body_path: cannot read")
    assert "'body.cpp'" in message and "No such file" in message
    assessed = trust.assess(doc, project, store)
    assert not assessed.trusted and assessed.problem == message and assessed.reason == message
    # a folder in the file's place cannot be read either
    (tmp_path / "proj" / "body.cpp").mkdir()
    assert not trust.assess(doc, project, store).trusted


def test_a_trusted_project_whose_file_changed_is_not_trusted_until_restored(
    tmp_path: Path, store: trust.TrustStore
) -> None:
    project = project_with_body(tmp_path / "proj")
    body = tmp_path / "proj" / "body.cpp"
    store.record(trust.content_hash(io.load(project)))
    assert trust.assess(io.load(project), project, store).reason == "trusted earlier (same content)"
    body.write_text("/* someone else's code */")
    assert trust.assess(io.load(project), project, store).reason == "not trusted yet"
    body.write_text(CPP)
    assert trust.assess(io.load(project), project, store).trusted


# ------------------------------------------------------------------------------------------
# the Studio's trust state (Qt-free part)
# ------------------------------------------------------------------------------------------
def test_an_open_document_asks_again_when_its_file_changes(
    tmp_path: Path, store: trust.TrustStore
) -> None:
    project = project_with_body(tmp_path / "proj")
    body = tmp_path / "proj" / "body.cpp"
    doc = io.load(project)
    state = DocumentTrust(store)
    state.opened(doc, project, from_file=True)
    assert not state.trusted(doc) and state.state(doc).reason == "not trusted yet"
    assert state.grant(doc) == ""
    assert state.trusted(doc)
    assert store.is_trusted(trust.content_hash(io.load(project)))

    body.write_text(CPP + "\n// edited behind the Studio's back")
    now = state.state(doc)
    assert not now.trusted and now.problem is None
    assert (
        now.reason == "the C++ file of kernel matmul (cpp_body_path) changed since you trusted it"
    )
    assert [f.field for f in now.files] == ["cpp_body_path"]
    state.grant(doc)  # consent to the edited file
    assert state.trusted(doc)
    body.write_text(CPP)  # back to what was trusted first: both contents were consented to
    assert state.trusted(doc)

    body.unlink()
    gone = state.state(doc)
    assert not gone.trusted and gone.problem is not None and "cpp_body_path" in gone.problem
    with pytest.raises(trust.NamedFileError):
        state.grant(doc)


def test_a_file_named_after_trust_was_given_must_be_trusted_too(
    tmp_path: Path, store: trust.TrustStore
) -> None:
    project = project_with_body(tmp_path / "proj")
    other = tmp_path / "proj" / "other.cpp"
    other.write_text("/* other */")
    doc = io.load(project)
    state = DocumentTrust(store)
    state.opened(doc, project, from_file=False)  # made here: its files as they are now
    assert state.trusted(doc)
    kernel_of(doc).props["cpp_body_path"] = "other.cpp"
    assert (
        state.state(doc).reason
        == "the C++ file of kernel matmul (cpp_body_path) is not trusted yet"
    )
    state.grant(doc)
    assert state.trusted(doc)


def test_saving_records_the_hash_with_the_files(tmp_path: Path, store: trust.TrustStore) -> None:
    project = project_with_body(tmp_path / "proj")
    doc = io.load(project)
    state = DocumentTrust(store)
    state.opened(doc, None, from_file=False)
    assert state.remember_saved(doc) == ""
    assert store.is_trusted(trust.content_hash(io.load(project)))
    (tmp_path / "proj" / "body.cpp").write_text("/* changed */")
    assert not store.is_trusted(trust.content_hash(io.load(project)))
