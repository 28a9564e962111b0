"""io: load/save round trips, deterministic bytes, error paths, migration, autosave/recovery."""

from __future__ import annotations

import json
import os
import time

import pytest

from app.model import io
from app.model.commands import AddNode, DocumentEditor, SetProperty
from app.model.document import FORMAT_VERSION, Document


def test_save_load_round_trip_is_identical(attention, tmp_path):
    ed, ids = attention
    path = tmp_path / "attn.ptow.json"
    io.save(ed.doc, path)
    first = path.read_bytes()
    loaded = io.load(path)
    assert loaded.same_as(ed.doc)
    assert io.to_data(loaded) == io.to_data(ed.doc)
    io.save(loaded, path)
    assert path.read_bytes() == first
    assert loaded.validate() == []
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temp file


def _write(tmp_path, data, name="p.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _doc_data(nodes, edges=()):
    return {"format_version": 1, "name": "x", "graph": {"nodes": nodes, "edges": list(edges)}}


@pytest.mark.parametrize(
    ("data", "where", "fragment"),
    [
        ("{not json", None, "not valid JSON"),
        ([1, 2], None, "expected a JSON object"),
        ({"name": "x"}, "format_version", "missing format_version"),
        ({"format_version": "1"}, "format_version", "expected an integer"),
        ({"format_version": 99}, "format_version", "newer than this build"),
        (_doc_data([{"id": "n1", "kind": "data.bogus"}]), "nodes.n1.kind", "unknown node kind"),
        (
            _doc_data([{"id": "n12", "kind": "data.tensor", "props": {"shape": [1, "a"]}}]),
            "nodes.n12.props.shape",
            "expected a list of ints",
        ),
        (
            _doc_data([{"id": "n3", "kind": "data.tensor", "props": {"color": 1}}]),
            "nodes.n3.props.color",
            "unknown property",
        ),
        (
            _doc_data([{"id": "n4", "kind": "data.tensor", "pos": ["a", 0]}]),
            "nodes.n4.pos[0]",
            "valid number",
        ),
        (
            _doc_data(
                [{"id": "n1", "kind": "data.tensor"}],
                [{"src": {"node": "n1", "port": "tensor"}, "dst": {"node": "n9", "port": "x"}}],
            ),
            "edges[0].dst",
            "not in this graph",
        ),
        (
            _doc_data([{"id": "n1", "kind": "data.tensor"}, {"id": "n1", "kind": "data.scalar"}]),
            "nodes.n1",
            "duplicate node id",
        ),
        (_doc_data([{"id": "n5", "kind": "loop.seq"}]), "nodes.n5.body", "needs a body"),
        (
            _doc_data([{"id": "n6", "kind": "data.tensor", "body": {"nodes": []}}]),
            "nodes.n6.body",
            "cannot have a body",
        ),
    ],
)
def test_malformed_files_name_the_field(tmp_path, data, where, fragment):
    path = _write(tmp_path, data)
    with pytest.raises(io.ProjectError) as info:
        io.load(path)
    err = info.value
    assert fragment in str(err)
    assert str(path) in str(err)
    if where is not None:
        assert err.where == where, str(err)


def test_nested_node_errors_name_the_inner_node(tmp_path):
    data = _doc_data(
        [
            {
                "id": "n1",
                "kind": "workload.def",
                "name": "w",
                "body": {
                    "nodes": [
                        {"id": "n2", "kind": "scope.entry"},
                        {
                            "id": "n7",
                            "kind": "loop.seq",
                            "props": {"var": 3},
                            "body": {"nodes": []},
                        },
                    ]
                },
            }
        ]
    )
    with pytest.raises(io.ProjectError, match=r"nodes\.n7\.props\.var: expected a comma") as info:
        io.load(_write(tmp_path, data))
    assert info.value.node_id == "n7"
    data["graph"]["nodes"][0]["body"]["nodes"][1] = {"id": "n8", "kind": "loop.seq", "pos": [0, "y"], "body": {}}  # fmt: skip
    with pytest.raises(io.ProjectError, match=r"nodes\.n8\.pos\[1\]"):
        io.load(_write(tmp_path, data))


def test_missing_props_get_defaults(tmp_path):
    doc = io.load(_write(tmp_path, _doc_data([{"id": "n1", "kind": "axis.dense", "name": "a"}])))
    assert doc.graph.nodes["n1"].props == {"size": 8}


def test_migration_hook_from_version_0(tmp_path, monkeypatch):
    def v0_to_v1(data):
        # synthetic version 0: nodes were a dict keyed by id, "type" instead of "kind"
        nodes = [
            {"id": k, "kind": v["type"], "name": v["name"]} for k, v in data.pop("nodes").items()
        ]
        return {**data, "format_version": 1, "graph": {"nodes": nodes}}

    monkeypatch.setitem(io.MIGRATIONS, 0, v0_to_v1)
    path = _write(tmp_path, {"format_version": 0, "name": "old", "nodes": {"n1": {"type": "axis.dense", "name": "heads"}}})  # fmt: skip
    doc = io.load(path)
    assert doc.format_version == FORMAT_VERSION
    assert doc.graph.nodes["n1"].name == "heads"
    monkeypatch.delitem(io.MIGRATIONS, 0)
    with pytest.raises(io.ProjectError, match="too old"):
        io.load(path)


def test_load_never_executes_expressions(tmp_path):
    marker = tmp_path / "pwned"
    data = _doc_data([{"id": "n1", "kind": "slot.set", "props": {"value": f"open({str(marker)!r}, 'w')"}}])  # fmt: skip
    with pytest.raises(io.ProjectError, match="calls are not allowed"):
        io.load(_write(tmp_path, data))
    assert not marker.exists()


def test_autosave_beside_project_and_recovery(tmp_path):
    path = tmp_path / "proj.json"
    ed = DocumentEditor(Document(name="proj"))
    io.save(ed.doc, path)
    saver = io.Autosaver(ed, path, interval_s=10)
    assert saver.tick(0.0) is None  # clean document: nothing to save
    ed.apply(AddNode("axis.dense", name="heads"))
    assert saver.tick(5.0) is None  # not due yet
    written = saver.tick(10.0)
    assert written == tmp_path / "proj.json.autosave"
    assert io.load(written).graph.nodes  # a loadable project
    assert saver.tick(30.0) is None  # unchanged since the last autosave
    # the autosave is newer than the project
    os.utime(path, ns=(time.time_ns() - 10**10, time.time_ns() - 10**10))
    assert io.find_recoverable(path) == written
    # saving removes it
    io.save(ed.doc, path)
    ed.mark_saved()
    assert not written.exists() and io.find_recoverable(path) is None


def test_autosave_of_unsaved_document_goes_to_user_data_dir(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    ed = DocumentEditor(Document(name="my attn"))
    saver = io.Autosaver(ed, None, interval_s=1)
    ed.apply(AddNode("axis.dense"))
    saver.tick(0.0)
    written = saver.tick(2.0)
    assert written == tmp_path / "pto-wsp" / "autosave" / "my_attn.json"
    assert io.recover() == [written]
    ed.apply(SetProperty(ed.doc.graph.nodes["n1"].id, "size", 3))
    ed.mark_saved()  # saved elsewhere: the autosave is dropped
    assert not written.exists() and io.recover() == []


def test_load_1000_nodes(tmp_path):
    nodes = [{"id": f"n{i}", "kind": "data.tensor", "name": f"T{i}", "props": {"shape": [4, 4]}} for i in range(1, 1001)]  # fmt: skip
    path = _write(tmp_path, _doc_data(nodes))
    doc = io.load(path)
    assert len(doc.graph.nodes) == 1000 and doc.validate() == []
