"""The ``task_graph`` policies and pools on a workload's schedule sheet (format v2).

Each option exports to the exact DSL call of the agreed API, imports back from a script to an
equal document (with a byte-identical re-export), and wrong values are diagnostics on the node.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.model import io, registry
from app.model.commands import DocumentEditor, PropertyError, SetProperty
from app.model.document import Document
from app.model.export import export_script
from app.model.importer import ScriptImportError, import_script
from app.model.kinds.schedule import task_graph_field_applies
from app.model.validation import validate_document

from .conftest import add, wire
from .copy_tiles_project import (
    add_collective,
    build,
    messages,
    round_trip,
    script_file,
    set_task_graph,
    task_graph_line,
)


@pytest.fixture
def editor() -> DocumentEditor:
    return DocumentEditor(Document(name="copy_tiles"))


# ------------------------------------------------------------------------------------------
# export: every option of the agreed API
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("props", "call"),
    [
        ({"window": 8}, '.task_graph(window=TaskWindow(8, "tasks", WindowMode.STALL))'),
        (
            {"window": 4, "mode": "abort"},
            '.task_graph(window=TaskWindow(4, "tasks", WindowMode.ABORT))',
        ),
        (
            {"window": 2, "mode": "benchmark"},
            '.task_graph(window=TaskWindow(2, "tasks", WindowMode.BENCHMARK))',
        ),
        ({"deps": "infer"}, ".task_graph(deps=Deps.infer())"),
        ({"deps": "infer_bounding"}, '.task_graph(deps=Deps.infer("bounding"))'),
        ({"deps": "explicit"}, ".task_graph(deps=Deps.explicit())"),
        ({"ready": "fifo"}, ".task_graph(ready=ReadyPolicy.fifo())"),
        ({"ready": "lifo"}, ".task_graph(ready=ReadyPolicy.lifo())"),
        (
            {"ready": "priority", "ready_key": '3 - t.get("i")'},
            '.task_graph(ready=ReadyPolicy.priority(lambda t: 3 - t.get("i")))',
        ),
        ({"start": "eager"}, ".task_graph(start=StartPolicy.eager())"),
        ({"start": "threshold", "threshold": 5}, ".task_graph(start=StartPolicy.threshold(5))"),
        ({"trace": "full"}, ".task_graph(trace=TracePolicy.full())"),
        ({"trace": "none"}, ".task_graph(trace=TracePolicy.none())"),
        (
            {"pools": [{"kernel": "copy_k", "workers": 3}]},
            ".task_graph(pools=Pools.by_kernel({copy_k: 3}))",
        ),
        (
            # choices that do not apply (key without priority, n without threshold) are ignored
            {"deps": "explicit", "ready_key": 't.get("i")', "threshold": 9, "mode": "abort"},
            ".task_graph(deps=Deps.explicit())",
        ),
    ],
)
def test_task_graph_option_exports_the_agreed_call(editor, props, call) -> None:
    build(editor, task_graph=props)
    assert task_graph_line(editor.doc) == call


def test_all_options_together_split_like_ruff_and_import_what_they_use(editor) -> None:
    props = {
        "window": 16,
        "deps": "infer_bounding",
        "ready": "priority",
        "ready_key": 't.get("i")',
        "start": "threshold",
        "threshold": 2,
        "trace": "none",
        "pools": [{"kernel": "copy_k", "workers": 2}],
    }
    build(editor, task_graph=props, program=True)
    src = export_script(editor.doc).source
    # v2: the sheet's chain starts at the workload (``work_w.task_graph(``) inside ``program = (``
    assert (
        "program = (\n"
        "    work_w.task_graph(\n"
        '        window=TaskWindow(16, "tasks", WindowMode.STALL),\n'
        '        deps=Deps.infer("bounding"),\n'
        '        ready=ReadyPolicy.priority(lambda t: t.get("i")),\n'
        "        start=StartPolicy.threshold(2),\n"
        "        trace=TracePolicy.none(),\n"
        "        pools=Pools.by_kernel({copy_k: 2}),\n"
        "    )\n"
    ) in src
    imports = src[src.index("from pto_wsp import") : src.index("from pto_wsp.runtime.runner")]
    for name in ("Deps", "Pools", "ReadyPolicy", "StartPolicy", "TracePolicy", "TaskWindow"):
        assert f"    {name},\n" in imports


def test_task_graph_diagnostics(editor) -> None:
    ids = build(editor, task_graph={"window": 0})
    wl = ids["wl"]
    assert any("task_graph sets nothing" in m for m in messages(editor.doc, wl))
    set_task_graph(editor, ids, ready="priority")
    assert messages(editor.doc, wl) == [
        "props.task_graph.ready_key: ready=priority needs a key, e.g. k"
    ]
    set_task_graph(editor, ids, ready_key='t.get("i") + nope')
    assert [m for m in messages(editor.doc, wl) if "nope" in m]
    set_task_graph(editor, ids, ready_key='t.get("i")')
    set_task_graph(editor, ids, pools=[{"kernel": "ghost", "workers": 2}])
    assert messages(editor.doc, wl) == [
        "props.task_graph.pools[0].kernel: no kernel named 'ghost' in the project"
    ]
    with pytest.raises(PropertyError, match="two pools"):
        set_task_graph(
            editor,
            ids,
            pools=[{"kernel": "copy_k", "workers": 1}, {"kernel": "copy_k", "workers": 2}],
        )
    with pytest.raises(PropertyError, match="workers"):
        set_task_graph(editor, ids, pools=[{"kernel": "copy_k", "workers": 0}])
    with pytest.raises(PropertyError, match="expected one of"):
        set_task_graph(editor, ids, deps="magic")


def test_task_graph_fields_apply_by_the_choices(editor) -> None:
    settings = {"window": 0, "trace": "none"}
    assert not task_graph_field_applies(settings, "ready_key")
    assert not task_graph_field_applies(settings, "threshold")
    assert not task_graph_field_applies(settings, "mode")
    assert not task_graph_field_applies(settings, "unit")
    settings.update(ready="priority", start="threshold", window=4)
    for name in ("ready_key", "threshold", "mode", "unit", "deps", "pools"):
        assert task_graph_field_applies(settings, name), name


def test_a_task_graph_with_some_fields_loads_with_default_knobs(tmp_path: Path) -> None:
    """A file naming only some task_graph fields (and a tensor without a layout) keeps its
    meaning: the fields it leaves out are not set."""
    ed = DocumentEditor(Document(name="old"))
    build(ed, task_graph={"window": 8})
    data = json.loads(io.to_json(ed.doc))
    for raw in data["graph"]["nodes"]:
        if raw["kind"] == "workload.def":
            raw["props"]["task_graph"] = {"window": 8, "mode": "stall"}
        if raw["kind"] == "data.tensor":
            del raw["props"]["layout"]
    path = tmp_path / "old.pto.json"
    path.write_text(json.dumps(data))
    doc = io.load(path)
    assert validate_document(doc) == []
    assert task_graph_line(doc) == '.task_graph(window=TaskWindow(8, "tasks", WindowMode.STALL))'


def test_task_graph_knobs_layouts_and_collectives_round_trip(editor, tmp_path: Path) -> None:
    props = {
        "window": 6,
        "mode": "abort",
        "deps": "explicit",
        "ready": "priority",
        "ready_key": 't.get("i") % 2',
        "start": "threshold",
        "threshold": 3,
        "trace": "full",
        "pools": [{"kernel": "copy_k", "workers": 2}],
    }
    ids = build(editor, task_graph=props, layout_a=["S0", "R", "R"])
    editor.apply(SetProperty(ids["B"], "layout", ["R", "S1", "S0"]))
    red = add_collective(editor, ids, "allreduce", "y", "A", op="min")
    add_collective(editor, ids, "allgather", "g", "y", dim=0)
    add_collective(editor, ids, "relayout", "z", "B", dist=["S1", "R", "R"])
    call = add(
        editor, "kernel.call", parent=ids["wl"], kernel=ids["kernel"], index={"a": "1", "b": "2"}
    )
    wire(editor, red, "tensor", call.id, "a")
    wire(editor, call.id, "b", ids["B"], "write")
    assert validate_document(editor.doc) == []
    back = round_trip(editor.doc, tmp_path)
    wl = next(n for n in back.graph.nodes.values() if n.kind == "workload.def")
    spec = registry.kind("workload.def").prop("task_graph")
    defaults = {f.name: f.default for f in registry.prop_fields(spec)}
    assert {**defaults, **wl.props["task_graph"]} == {**defaults, **props}


@pytest.mark.parametrize(
    "props",
    [
        {"deps": "infer_bounding"},
        {"deps": "infer", "ready": "lifo", "start": "eager"},
        {"ready": "fifo", "trace": "none", "window": 3, "mode": "benchmark"},
    ],
)
def test_each_task_graph_choice_round_trips(editor, tmp_path: Path, props) -> None:
    build(editor, task_graph=props)
    round_trip(editor.doc, tmp_path)


def test_shared_pools_are_refused_clearly(tmp_path: Path) -> None:
    path = script_file(
        tmp_path,
        "from pto_wsp.language.schedule import Pools as _Pools\n"
        "@workload\n"
        "def work():\n"
        "    for i in P(tiles):\n"
        "        copy_k[i](a=A[i], b=B[i])\n"
        "w = work().task_graph(pools=_Pools((2, 2), (('copy_k', 0),)))\n",
    )
    with pytest.raises(ScriptImportError, match="only Pools.by_kernel pools"):
        import_script(path)
