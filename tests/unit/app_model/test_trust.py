"""app.model.trust: which documents carry code, the content hash, the trust store, the rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.model import io, registry, trust
from app.model.commands import DocumentEditor, SetProperty
from app.model.document import Document

from .conftest import add, build_attention

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path) -> trust.TrustStore:
    return trust.TrustStore(tmp_path / "config" / trust.STORE_NAME)


def attention() -> tuple[Document, dict[str, str]]:
    ed = DocumentEditor(Document(name="attention"))
    ids = build_attention(ed)
    return ed.doc, ids


# ------------------------------------------------------------------------------------------
# which fields carry code
# ------------------------------------------------------------------------------------------
def test_the_code_fields_come_from_the_registry_flag() -> None:
    flagged = {
        (kind_id, p.name)
        for kind_id, k in registry.KINDS.items()
        for p in k.props
        if p.carries_code
    }
    assert ("kernel.def", "cpp_src") in flagged and ("kernel.def", "cpp_includes") in flagged
    for kind_id, name in flagged:
        assert name in trust.code_fields(kind_id)
    # expressions are parsed against a whitelist, never run: they are not code
    for k in registry.KINDS.values():
        for p in k.props:
            if p.type in ("expr", "exprlist", "exprmap"):
                assert not p.carries_code, f"{k.id}.{p.name}"
    assert trust.code_fields("no.such.kind") == ()


def test_a_document_without_cpp_carries_no_code() -> None:
    doc, _ids = attention()
    assert trust.code_carriers(doc) == []
    assert trust.assess(doc, None, trust.TrustStore(Path("/nonexistent/x.json"))).trusted


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cpp_src", "/* body */"),
        ("cpp_src", " "),
        ("cpp_includes", ["/tmp/evil.h"]),
        ("cpp_body_path", "/tmp/body.cpp"),
        ("cpp_tu_path", "kernels/unit.cpp"),
    ],
)
def test_each_code_field_makes_its_kernel_a_carrier(field: str, value: object) -> None:
    doc, ids = attention()
    doc.node(ids["attn"]).props[field] = value
    (carrier,) = trust.code_carriers(doc)
    assert carrier == trust.CodeCarrier(ids["attn"], "attn_kernel", "kernel.def", (field,))
    doc.node(ids["attn"]).props[field] = type(value)()  # empty again: "" / []
    assert trust.code_carriers(doc) == []


def test_key_and_index_expressions_do_not_make_a_document_restricted() -> None:
    doc, ids = attention()
    doc.node(ids["call"]).props["index"] = {"Q": "b, h", "K": "b", "V": "b", "O": "b, h"}
    ed = DocumentEditor(doc)
    ed.apply(SetProperty(ids["wl"], "dispatch_key", 't.get("b") * 3 + 1'))  # the sheet's key
    assert trust.code_carriers(ed.doc) == []


def test_carriers_are_listed_with_their_fields_in_kernel_messages() -> None:
    doc, ids = attention()
    ed = DocumentEditor(doc)
    other = add(ed, "kernel.def", name="topk", params=[{"name": "x"}])
    doc.node(ids["attn"]).props["cpp_src"] = "/* a */"
    doc.node(other.id).props.update(cpp_src="/* b */", cpp_includes=["h.hpp"])
    carriers = trust.code_carriers(doc)
    assert sorted((c.name, c.fields) for c in carriers) == [
        ("attn_kernel", ("cpp_src",)),
        ("topk", ("cpp_src", "cpp_includes")),
    ]
    assert trust.kernel_list(carriers[:1]) == f"kernel {carriers[0].name}"
    assert trust.kernel_list(carriers) == f"kernels {carriers[0].name}, {carriers[1].name}"
    notice = trust.run_notice("p.pto.json", carriers)
    assert "\n" not in notice and "p.pto.json carries C++ code (kernels " in notice


# ------------------------------------------------------------------------------------------
# the hash and the store
# ------------------------------------------------------------------------------------------
def test_the_content_hash_is_of_what_a_save_writes(tmp_path: Path) -> None:
    doc, ids = attention()
    doc.node(ids["attn"]).props["cpp_src"] = "/* a */"
    path = tmp_path / "a.pto.json"
    io.save(doc, path)
    import hashlib

    assert trust.content_hash(doc) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert trust.content_hash(io.load(path)) == trust.content_hash(doc)  # reopened: same
    doc.node(ids["attn"]).props["cpp_src"] = "/* b */"
    assert trust.content_hash(doc) != hashlib.sha256(path.read_bytes()).hexdigest()
    doc.name = "\ud800"  # a lone surrogate (refused by a save) still hashes
    assert len(trust.content_hash(doc)) == 64


def test_store_round_trip(store: trust.TrustStore) -> None:
    assert store.hashes() == [] and not store.is_trusted("a" * 64)
    store.record("a" * 64)
    store.record("b" * 64)
    store.record("a" * 64)  # moved to the newest end, not duplicated
    assert store.hashes() == ["b" * 64, "a" * 64]
    again = trust.TrustStore(store.path)  # another process reading the file
    assert again.is_trusted("a" * 64) and again.is_trusted("b" * 64)
    assert not again.is_trusted("c" * 64)
    data = json.loads(store.path.read_text())
    assert data == {"format": 1, "sha256": ["b" * 64, "a" * 64]}
    assert not [p for p in store.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_store_keeps_the_newest_entries(
    store: trust.TrustStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trust, "MAX_ENTRIES", 3)
    for i in range(5):
        store.record(f"{i:064x}")
    assert store.hashes() == [f"{i:064x}" for i in (2, 3, 4)]


@pytest.mark.parametrize("text", ["{not json", '{"format": 9, "sha256": []}', '["x"]'])
def test_a_malformed_store_trusts_nothing_names_the_file_and_is_replaced(
    store: trust.TrustStore, text: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(text)
    with pytest.raises(trust.TrustStoreError, match=str(store.path)):
        store.is_trusted("a" * 64)
    doc = Document(name="x")
    doc_with_code, ids = attention()
    doc_with_code.node(ids["attn"]).props["cpp_src"] = "/* a */"
    verdict = trust.assess(doc_with_code, None, store)
    assert not verdict.trusted and str(store.path) in verdict.reason
    assert trust.assess(doc, None, store).trusted  # no code: the store is not consulted
    store.record("a" * 64)
    assert store.hashes() == ["a" * 64]


def test_an_unwritable_store_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = trust.TrustStore(blocker / trust.STORE_NAME)  # its folder is a plain file
    with pytest.raises(trust.TrustStoreError, match="cannot write the trust store"):
        store.record("a" * 64)


def test_the_config_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(trust.CONFIG_DIR_ENV, str(tmp_path / "cfg"))
    assert trust.default_store().path == tmp_path / "cfg" / trust.STORE_NAME
    monkeypatch.delenv(trust.CONFIG_DIR_ENV)
    import platformdirs

    assert trust.config_dir() == Path(platformdirs.user_config_dir("pto-wsp"))


# ------------------------------------------------------------------------------------------
# the rule
# ------------------------------------------------------------------------------------------
def test_code_from_a_file_is_untrusted_until_its_hash_is_recorded(
    tmp_path: Path, store: trust.TrustStore
) -> None:
    doc, ids = attention()
    doc.node(ids["attn"]).props["cpp_src"] = "/* a */"
    path = tmp_path / "downloaded.pto.json"
    io.save(doc, path)  # written elsewhere: nothing recorded
    opened = io.load(path)
    verdict = trust.assess(opened, path, store)
    assert not verdict.trusted and verdict.reason == "not trusted yet"
    assert [c.name for c in verdict.carriers] == ["attn_kernel"]

    store.record(verdict.digest)  # consent (or a save in the Studio) records the content
    assert trust.assess(io.load(path), path, store).trusted
    moved = tmp_path / "elsewhere" / "copy.pto.json"
    moved.parent.mkdir()
    moved.write_bytes(path.read_bytes())
    assert trust.assess(io.load(moved), moved, store).trusted  # content, not location

    changed = io.load(path)
    changed.node(ids["attn"]).props["cpp_src"] = "/* a, changed */"
    assert not trust.assess(changed, path, store).trusted  # other code: ask again


def test_recorded_at_save_means_trusted_on_reopen(tmp_path: Path, store: trust.TrustStore) -> None:
    doc, ids = attention()
    doc.node(ids["attn"]).props["cpp_includes"] = ["my.h"]
    doc.node(ids["attn"]).props["cpp_src"] = "/* a */"
    path = tmp_path / "mine.pto.json"
    io.save(doc, path)
    store.record(trust.content_hash(doc))  # what the Studio does after a save
    assert trust.assess(io.load(path), path, store).trusted


def test_bundled_samples_are_trusted_by_location(tmp_path: Path, store: trust.TrustStore) -> None:
    assert trust.BUNDLED_PROJECTS == ROOT / "app" / "projects"
    assert trust.is_bundled(ROOT / "app" / "projects" / "attention_varlen.pto.json")
    assert trust.is_bundled(ROOT / "app" / "projects" / "samples" / "attention_varlen.py")
    assert not trust.is_bundled(tmp_path / "x.pto.json")
    assert not trust.is_bundled(None)

    samples = tmp_path / "samples"
    samples.mkdir()
    doc, ids = attention()
    doc.node(ids["attn"]).props["cpp_src"] = "/* shipped */"
    shipped = samples / "shipped.pto.json"
    io.save(doc, shipped)
    verdict = trust.assess(io.load(shipped), shipped, store, bundled_root=samples)
    assert verdict.trusted and "sample" in verdict.reason
    # a link inside the samples folder to a file outside is judged where it points
    outside = tmp_path / "outside.pto.json"
    io.save(doc, outside)
    link = samples / "link.pto.json"
    link.symlink_to(outside)
    assert not trust.assess(io.load(link), link, store, bundled_root=samples).trusted
    assert store.hashes() == []  # assessing never records
