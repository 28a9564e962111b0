"""Resource bombs and unstorable values are refused, naming node and field (issue 12, 3 and 8)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from app.model import io
from app.model.bounds import MAX_JSON_DEPTH
from app.model.export import ExportError, export_script
from app.model.validation import validate_document

ROOT = Path(__file__).resolve().parents[3]
ATTENTION = (
    ROOT / "app" / "projects" / "attention_varlen.pto.json"
)  # its workload has a schedule sheet


def _data() -> dict:
    return json.loads(ATTENTION.read_text())


def _node(data: dict, kind: str) -> dict:
    return next(n for n in data["graph"]["nodes"] if n["kind"] == kind)


def _write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "p.pto.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_10000_deep_is_a_project_error(tmp_path, opener) -> None:
    closer = "]" if opener == "[" else "}"
    path = _write(tmp_path, opener * 10_000 + "1" + closer * 10_000)
    with pytest.raises(io.ProjectError, match=f"deeper than {MAX_JSON_DEPTH} levels"):
        io.load(path)


def test_nesting_inside_strings_does_not_count(tmp_path) -> None:
    data = _data()
    data["name"] = "[" * 500 + '"{' * 100
    assert io.load(_write(tmp_path, data)).name == data["name"]


def test_an_integer_of_5000_digits_is_a_project_error(tmp_path) -> None:
    text = ATTENTION.read_text().replace('"format_version": 2', '"format_version": 2' + "0" * 5000)
    with pytest.raises(io.ProjectError, match="not valid JSON"):
        io.load(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("-" * 100_000 + "1", "the limit is 500"),
        ('t.get("batch") + 9**9**9', "exceeds the 64-bit integer range"),
        ("1 << 1000", "exceeds the 64-bit integer range"),
        ("1e400", "not a finite number"),
    ],
)
def test_expression_bombs_are_project_errors_naming_node_and_field(tmp_path, key, fragment):
    data = _data()
    wl = _node(data, "workload.def")
    wl["props"]["dispatch_key"] = key
    with pytest.raises(io.ProjectError) as err:
        io.load(_write(tmp_path, data))
    assert err.value.where == f"nodes.{wl['id']}.props.dispatch_key"
    assert fragment in str(err.value)


def test_a_cycle_among_frames_is_refused_naming_node_and_field(tmp_path) -> None:
    data = _data()
    wl = _node(data, "workload.def")
    loop = _node(data, "loop.parallel")
    wl["parent"] = loop["id"]  # the workload inside its own loop
    with pytest.raises(io.ProjectError, match="loops back") as err:
        io.load(_write(tmp_path, data))
    assert err.value.where in (f"nodes.{wl['id']}.parent", f"nodes.{loop['id']}.parent")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_timing_values_are_refused_on_load(tmp_path, value) -> None:
    data = _data()
    wl = _node(data, "workload.def")
    wl["props"].update(timing="rate_limit", timing_param=value)
    with pytest.raises(io.ProjectError) as err:
        io.load(_write(tmp_path, json.dumps(data)))  # json writes NaN / Infinity
    assert err.value.where == f"nodes.{wl['id']}.props.timing_param"
    assert "not a finite number" in str(err.value)


@pytest.mark.parametrize(
    ("bad", "fragment"), [("a\x00b", "NUL character"), ("a\ud800b", "lone surrogate U+D800")]
)
def test_nul_and_lone_surrogates_are_refused_naming_node_and_field(tmp_path, bad, fragment):
    data = _data()
    tensor = _node(data, "data.tensor")
    tensor["props"]["path"] = bad
    with pytest.raises(io.ProjectError) as err:
        io.load(_write(tmp_path, data))
    assert err.value.where == f"nodes.{tensor['id']}.props.path" and fragment in str(err.value)
    doc = io.load(ATTENTION)
    node = doc.node(tensor["id"])
    node.name = "Q" + bad
    diags = [d for d in validate_document(doc) if d.node_id == node.id and d.field == "name"]
    assert diags and fragment in diags[0].message
    with pytest.raises(ExportError) as exported:
        export_script(doc)
    assert (exported.value.node_id, exported.value.field) == (node.id, "name")
    doc.name = "project" + bad
    assert any(d.field == "name" and d.node_id == "" for d in validate_document(doc))


def test_saving_unstorable_text_is_a_project_error_and_keeps_the_file(tmp_path) -> None:
    doc = io.load(ATTENTION)
    target = tmp_path / "a.pto.json"
    io.save(doc, target)
    before = target.read_bytes()
    doc.name = "x\udc80"
    with pytest.raises(io.ProjectError, match="UTF-8 cannot store"):
        io.save(doc, target)
    assert target.read_bytes() == before


def test_names_the_script_uses_must_be_checked_identifiers() -> None:
    doc = io.load(ATTENTION)
    tensor = next(n for n in doc.graph.nodes.values() if n.kind == "data.tensor")
    for bad, fragment in (("P", "imports"), ("__name__", "belong to Python"), ("\uff51", "reads")):
        tensor.name = bad
        diags = [d for d in validate_document(doc) if (d.node_id, d.field) == (tensor.id, "name")]
        assert diags and fragment in diags[0].message, bad


def test_an_autosave_of_unstorable_text_is_an_os_error_the_window_reports(tmp_path) -> None:
    from app.model.commands import DocumentEditor, SetProperty

    editor = DocumentEditor(io.load(ATTENTION))
    saver = io.Autosaver(editor, tmp_path / "a.pto.json", interval_s=1.0)
    tensor = next(n for n in editor.doc.graph.nodes.values() if n.kind == "data.tensor")
    editor.apply(SetProperty(tensor.id, "seed", 7))  # an unsaved edit
    editor.doc.name = "x\udc80"  # a name no command lets in, set behind the editor's back
    saver.tick(0.0)
    with pytest.raises(OSError, match="UTF-8 cannot store"):
        saver.tick(10.0)
    assert not saver.target.exists()


def test_a_petabyte_tensor_is_refused_naming_node_and_field(tmp_path) -> None:
    data = _data()
    tensor = _node(data, "data.tensor")
    tensor["props"]["shape"] = [100_000, 100_000, 100_000]
    with pytest.raises(io.ProjectError) as err:
        io.load(_write(tmp_path, data))
    text = str(err.value)
    assert f"nodes.{tensor['id']}.props.shape" in text
    assert "100000 x 100000 x 100000 has more than 2147483648 (2**31) elements" in text


def test_a_large_but_bounded_tensor_is_accepted(tmp_path) -> None:
    data = _data()
    _node(data, "data.tensor")["props"]["shape"] = [1024, 1024, 1024]  # 2**30 elements
    assert io.load(_write(tmp_path, data)) is not None
